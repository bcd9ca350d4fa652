// The terms a shopper sees on the demo checkout (trunk serve → widget.js from the edge → Leptos
// widget in a shadow root → the edge's offers), on the optimized release bundles that ship.
// Servers are started and stopped by `cargo xtask test`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, waitFor } from './support/browser.mjs';
import {
  recordPage, events, eventNames, waitForState, waitForSummary, money, dueDate, axeViolations, shootLightAndDark,
} from './support/widget.mjs';

const DEMO_URL = process.env.DEMO_URL;
const EDGE_LOG = process.env.EDGE_LOG;
const ARTIFACTS = process.env.ARTIFACTS_DIR ?? mkdtempSync(join(tmpdir(), 'paylater-artifacts-'));
mkdirSync(ARTIFACTS, { recursive: true });

let browser;
before(async () => {
  assert.ok(DEMO_URL && EDGE_LOG, 'run through `cargo xtask test`, which starts the servers');
  // --expose-gc: a test forces a collection to prove the page keeps every widget alive.
  browser = await launchBrowser({ timezoneId: 'Europe/Stockholm', viewport: { width: 1100, height: 900 } }, ['--js-flags=--expose-gc']);
});
after(async () => { await browser?.close(); });

/** The edge's structured access log lines (one JSON object per request). */
function accessLog() {
  return readFileSync(EDGE_LOG, 'utf8')
    .split('\n')
    .map((line) => line.slice(line.indexOf('{')))
    .filter((line) => line.startsWith('{"'))
    .map((line) => { try { return JSON.parse(line); } catch { return null; } })
    .filter((entry) => entry && entry.kind === 'access');
}

async function openDemo() {
  const page = await browser.newPage();
  const problems = await recordPage(page);
  await page.goto(DEMO_URL);
  await waitForState(page, 'ready');
  return { page, problems };
}

async function setCart(page, { currency, locale, jacket, socks, tent }) {
  if (currency) await page.getByTestId('currency').selectOption(currency);
  if (locale) await page.getByTestId('locale').selectOption(locale);
  for (const [sku, qty] of Object.entries({ jacket, socks, tent })) {
    if (qty !== undefined) await page.getByTestId(`qty-${sku}`).fill(String(qty)), await page.getByTestId(`qty-${sku}`).dispatchEvent('change');
  }
}

test('terms on the card: edge data in the shadow root, no layout shift, kept alive through a GC', async () => {
  const { page, problems } = await openDemo();
  const host = page.locator('#paylater');
  assert.equal(await host.evaluate((el) => el.shadowRoot?.mode), 'open');
  // Text only the edge knows (the merchant's display name from KV).
  assert.equal(await page.getByTestId('headline').textContent(), 'Pay later with Nordic Outdoor Co.');
  assert.equal(await page.getByTestId('summary').textContent(), '$32.52 today, then 3 × $32.49 every 2 weeks · 0% APR · Total $129.99');
  assert.equal(await page.getByTestId('other-plans').textContent(), 'Also: Pay in 30 days');
  const ready = (await events(page)).filter((e) => e.name === 'ready');
  assert.equal(ready.length, 1);
  assert.deepEqual(ready[0].detail.plans.map((p) => [p.id, p.kind, p.installments, p.installment_amount, p.total, p.apr_bps]), [
    ['pay_in_4', 'pay_in_4', 4, 3249, 12999, 0],
    ['pay_in_30', 'pay_in_30', 1, 12999, 12999, 0],
  ]);
  // The reserved height held: the content below the widget never moved.
  assert.equal(await page.evaluate(() => window.__layoutShift), 0);

  // The edge logged the offers request the widget made.
  const offers = await waitFor(() => accessLog().filter((e) => e.route === 'offers' && e.status === 200), (l) => l.length > 0);
  assert.equal(offers.at(-1).path, '/v1/offers');

  await page.evaluate(() => window.gc());
  await page.waitForTimeout(200);
  assert.equal(await page.getByTestId('summary').textContent(), '$32.52 today, then 3 × $32.49 every 2 weeks · 0% APR · Total $129.99');
  assert.deepEqual(problems, []);
  await page.close();
});

test('terms and due dates for several amounts, currencies and locales', async () => {
  const { page, problems } = await openDemo();
  // The cart holds a jacket and two socks: USD 129.99, EUR 122.99, GBP 108.99, SEK 1,397.00,
  // JPY 20,200. Pay in 4 puts the remainder on the first payment; when the four differ, the
  // summary names the first and the three others, never "4 payments of" an amount not charged.
  const cases = [
    // [cart, locale, currency, total, [first, rest] pay-in-4 installments, summary (first, rest, total, apr)]
    [{ currency: 'EUR', locale: 'de-DE' }, 'de-DE', 'EUR', 12299, [3077, 3074], (f, r, t, a) => `${f} heute, dann 3 × ${r} alle 2 Wochen · eff. Jahreszins ${a} · Gesamtbetrag ${t}`],
    [{ currency: 'GBP', locale: 'en-GB' }, 'en-GB', 'GBP', 10899, [2727, 2724], (f, r, t, a) => `${f} today, then 3 × ${r} every 2 weeks · ${a} APR · Total ${t}`],
    [{ currency: 'SEK', locale: 'sv-SE' }, 'sv-SE', 'SEK', 139700, [34925, 34925], (f, r, t, a) => `4 betalningar à ${r} varannan vecka · effektiv ränta ${a} · totalt ${t}`],
    [{ currency: 'JPY', locale: 'fr-FR' }, 'fr-FR', 'JPY', 20200, [5050, 5050], (f, r, t, a) => `4 paiements de ${r} toutes les 2 semaines · TAEG ${a} · total ${t}`],
    [{ currency: 'JPY', locale: 'ja-JP' }, 'ja-JP', 'JPY', 20200, [5050, 5050], (f, r, t, a) => `2週間ごとに${r}×4回・実質年率${a}・支払総額${t}`],
    [{ currency: 'EUR', locale: 'es-ES' }, 'es-ES', 'EUR', 12299, [3077, 3074], (f, r, t, a) => `${f} hoy, después 3 × ${r} cada 2 semanas · TAE ${a} · total ${t}`],
    [{ currency: 'EUR', locale: 'it-IT' }, 'it-IT', 'EUR', 12299, [3077, 3074], (f, r, t, a) => `${f} oggi, poi 3 × ${r} ogni 2 settimane · TAEG ${a} · totale ${t}`],
    [{ currency: 'EUR', locale: 'nl-NL' }, 'nl-NL', 'EUR', 12299, [3077, 3074], (f, r, t, a) => `${f} vandaag, daarna 3 × ${r} elke 2 weken · JKP ${a} · totaal ${t}`],
    [{ currency: 'EUR', locale: 'pl-PL' }, 'pl-PL', 'EUR', 12299, [3077, 3074], (f, r, t, a) => `${f} dziś, potem 3 × ${r} co 2 tygodnie · RRSO ${a} · łącznie ${t}`],
    [{ currency: 'SEK', locale: 'da-DK' }, 'da-DK', 'SEK', 139700, [34925, 34925], (f, r, t, a) => `4 rater à ${r} hver 2. uge · ÅOP ${a} · i alt ${t}`],
    [{ currency: 'SEK', locale: 'nb-NO' }, 'nb-NO', 'SEK', 139700, [34925, 34925], (f, r, t, a) => `4 avdrag à ${r} annenhver uke · effektiv rente ${a} · totalt ${t}`],
    [{ currency: 'EUR', locale: 'fi-FI' }, 'fi-FI', 'EUR', 12299, [3077, 3074], (f, r, t, a) => `${f} tänään, sitten 3 × ${r} 2 viikon välein · todellinen vuosikorko ${a} · yhteensä ${t}`],
    [{ currency: 'GBP', locale: 'en-AU' }, 'en-AU', 'GBP', 10899, [2727, 2724], (f, r, t, a) => `${f} today, then 3 × ${r} fortnightly · ${a} APR · Total ${t}`],
    [{ currency: 'USD', locale: 'en-CA' }, 'en-CA', 'USD', 12999, [3252, 3249], (f, r, t, a) => `${f} today, then 3 × ${r} every 2 weeks · ${a} APR · Total ${t}`],
    [{ currency: 'USD', locale: 'fr-CA' }, 'fr-CA', 'USD', 12999, [3252, 3249], (f, r, t, a) => `${f} aujourd’hui, puis 3 × ${r} aux 2 semaines · taux de crédit ${a} · total ${t}`],
    [{ currency: 'USD', locale: 'en-US', tent: 1 }, 'en-US', 'USD', 47899, [11977, 11974], (f, r, t, a) => `${f} today, then 3 × ${r} every 2 weeks · ${a} APR · Total ${t}`],
  ];
  const eu = ['de-DE', 'sv-SE', 'fr-FR', 'es-ES', 'it-IT', 'nl-NL', 'pl-PL', 'da-DK', 'nb-NO', 'fi-FI'];
  for (const [cart, locale, currency, total, [first, rest], summary] of cases) {
    await setCart(page, cart);
    const [f, r, t, a] = await Promise.all([
      money(page, locale, currency, first), money(page, locale, currency, rest), money(page, locale, currency, total),
      page.evaluate((l) => new Intl.NumberFormat(l, { style: 'percent' }).format(0), locale),
    ]);
    await waitForSummary(page, summary(f, r, t, a));
    await page.getByTestId('learn-more').click();
    await page.getByTestId('plan-details').waitFor();
    const rows = await page.getByTestId('installment').allTextContents();
    const sep = { 'fr-FR': ' : ', 'fr-CA': ' : ', 'ja-JP': '：' }[locale] ?? ': ';
    assert.deepEqual(rows, [
      `${await dueDate(page, locale, 0)}${sep}${f}`,
      `${await dueDate(page, locale, 14)}${sep}${r}`,
      `${await dueDate(page, locale, 28)}${sep}${r}`,
      `${await dueDate(page, locale, 42)}${sep}${r}`,
    ], `${currency} ${locale}`);
    const warned = eu.includes(locale) || ['EUR', 'SEK'].includes(currency);
    assert.equal(await page.getByTestId('borrowing-warning').count(), warned ? 1 : 0, `${currency} ${locale} warning`);
    await page.keyboard.press('Escape');
    await waitFor(() => page.getByTestId('dialog').evaluate((d) => d.open), (open) => open === false);
  }
  // $478.99 brings financing: the last case's dialog listed it with APR and a representative example.
  await page.getByTestId('learn-more').click();
  await page.getByTestId('plan-details').waitFor();
  assert.deepEqual(await page.getByTestId('plan-choice').evaluateAll((els) => els.map((e) => e.dataset.planId)),
    ['pay_in_4', 'pay_in_30', 'financing_6', 'financing_12', 'financing_24']);
  // Financing settles its rounding on the last payment, and the summary says so.
  assert.deepEqual(await page.getByTestId('offer-summary').allTextContents(), [
    '$119.77 today, then 3 × $119.74 every 2 weeks · 0% APR · Total $478.99',
    'Pay $478.99 in 30 days · 0% APR · Total $478.99',
    '5 × $79.83 monthly, then a final $79.84 · 0% APR · Total $478.99',
    '11 × $42.11 monthly, then a final $42.08 · 9.99% APR · Total $505.29',
    '23 × $24.38 monthly, then a final $24.29 · 19.99% APR · Total $585.03',
  ]);
  await page.locator('[data-plan-id=financing_24] input').check();
  assert.equal(await page.getByTestId('installment').count(), 24);
  assert.match(await page.getByTestId('representative-example').textContent(), /^Representative example: credit of \$478\.99 over 24 months at 19\.99% APR \(fixed\)\./);
  assert.match(await page.getByTestId('apr').textContent(), /^APR: 19\.99%$/);
  await page.screenshot({ path: join(ARTIFACTS, 'dialog-financing-light.png') });
  assert.deepEqual(problems, []);
  await page.close();
});

test('a page that changes the amount three times: the terms follow each time, without reloading', async () => {
  const { page, problems } = await openDemo();
  const loads = [];
  // The card's bundle and the loader load once; (the dialog's bundle may arrive on idle).
  page.on('request', (r) => { if (/paylater_card|\/v1\/widget\.js$/.test(r.url())) loads.push(r.url()); });
  // $229.98 and $329.97 do not split evenly (the first payment carries the cents); $429.96 does.
  for (const [qty, summary] of [
    [2, '$57.51 today, then 3 × $57.49 every 2 weeks · 0% APR · Total $229.98'],
    [3, '$82.50 today, then 3 × $82.49 every 2 weeks · 0% APR · Total $329.97'],
    [4, '4 payments of $107.49 every 2 weeks · 0% APR · Total $429.96'],
  ]) {
    await setCart(page, { jacket: qty });
    await waitForSummary(page, summary);
    await waitForState(page, 'ready');
  }
  const ready = (await events(page)).filter((e) => e.name === 'ready');
  assert.deepEqual(ready.map((e) => e.detail.plans[0].total), [12999, 22998, 32997, 42996]);
  assert.deepEqual(loads, [], 'nothing was loaded again');
  // Below every plan: unavailable, politely, with the reason.
  await page.locator('#paylater-tag').evaluate((tag) => tag.setAttribute('data-amount', '500'));
  await waitForState(page, 'unavailable');
  assert.equal(await page.getByTestId('unavailable').textContent(),
    "Pay later with Nordic Outdoor Co. isn't available for $5.00. Plans start at $10.00.");
  await page.screenshot({ path: join(ARTIFACTS, 'unavailable-light.png') });
  // A bad amount from the page: error state and a console message, never an exception.
  await page.locator('#paylater-tag').evaluate((tag) => tag.setAttribute('data-amount', '12.99'));
  await waitForState(page, 'error');
  assert.deepEqual((await events(page)).filter((e) => e.name === 'error').map((e) => e.detail.code), ['invalid_amount']);
  assert.equal(problems.length, 1);
  assert.match(problems[0], /^paylater:error invalid_amount: /);
  await page.close();
});

test('the dialog by keyboard: opens, traps focus, arrows pick a plan, Escape restores focus', async () => {
  const { page, problems } = await openDemo();
  await page.getByTestId('learn-more').focus();
  await page.keyboard.press('Enter');
  await waitFor(() => page.getByTestId('dialog').evaluate((d) => d.open), (open) => open === true);
  await page.getByTestId('plan-details').waitFor();
  const focusInDialog = () => page.evaluate(() => {
    const active = document.activeElement;
    if (active === document.body || active === null) return 'none';
    if (active.id !== 'paylater') return `outside:${active.tagName}`;
    return active.shadowRoot.activeElement?.closest('dialog') ? 'dialog' : 'card';
  });
  assert.equal(await focusInDialog(), 'dialog');
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    assert.ok(['dialog', 'none'].includes(await focusInDialog()), `Tab ${i + 1} left the dialog`);
  }
  await page.locator('[data-plan-id=pay_in_4] input').focus();
  await page.keyboard.press('ArrowDown');
  await waitFor(() => eventNames(page), (n) => n.includes('plan-selected'));
  assert.deepEqual((await events(page)).filter((e) => e.name === 'plan-selected').map((e) => e.detail), [{ plan_id: 'pay_in_30' }]);
  assert.equal(await page.getByTestId('announcer').textContent(), 'Pay in 30 days selected');
  assert.equal(await page.getByTestId('continue').textContent(), 'Continue with Pay in 30 days');
  await page.keyboard.press('Escape');
  await waitFor(() => page.getByTestId('dialog').evaluate((d) => d.open), (open) => open === false);
  assert.equal(await page.evaluate(() => document.activeElement.shadowRoot?.activeElement?.dataset.testid), 'learn-more');
  assert.deepEqual(problems, []);
  await page.close();
});

test('accessibility: axe finds nothing on the card or the open dialog; 320 px and 200% zoom stay usable', async () => {
  const { page, problems } = await openDemo();
  assert.deepEqual(await axeViolations(page), []);
  await page.getByTestId('learn-more').click();
  await page.getByTestId('plan-details').waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await page.keyboard.press('Escape');
  // A 320 px wide phone: nothing overflows sideways, the button is still reachable.
  await page.setViewportSize({ width: 320, height: 640 });
  const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(widths[0] <= widths[1], `page scrolls sideways at 320 px: ${widths}`);
  await page.getByTestId('learn-more').click();
  const box = await page.getByTestId('dialog').boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 320, `dialog fits 320 px: ${JSON.stringify(box)}`);
  await page.screenshot({ path: join(ARTIFACTS, 'dialog-320px.png') });
  await page.keyboard.press('Escape');
  // 200% zoom on a 1280×900 window lays out like a 640×450 CSS viewport.
  const zoomed = await browser.newPage();
  await zoomed.setViewportSize({ width: 640, height: 450 });
  await zoomed.goto(DEMO_URL);
  await waitForState(zoomed, 'ready');
  await zoomed.getByTestId('learn-more').click();
  await zoomed.getByTestId('continue').scrollIntoViewIfNeeded();
  assert.ok(await zoomed.getByTestId('continue').isVisible());
  const dialog = await zoomed.getByTestId('dialog').boundingBox();
  assert.ok(dialog.height <= 450 && dialog.x >= 0 && dialog.x + dialog.width <= 640, `dialog fits 640×450: ${JSON.stringify(dialog)}`);
  await zoomed.screenshot({ path: join(ARTIFACTS, 'dialog-zoom-200.png') });
  await zoomed.close();
  assert.deepEqual(problems, []);
  await page.close();
});

test('screenshots of the terms states in light and dark', async () => {
  for (const scheme of ['light', 'dark']) {
    const page = await browser.newPage();
    await page.emulateMedia({ colorScheme: scheme });
    await recordPage(page);
    await page.goto(DEMO_URL);
    await waitForState(page, 'ready');
    await page.screenshot({ path: join(ARTIFACTS, `ready-${scheme}.png`) });
    await page.getByTestId('learn-more').click();
    await page.getByTestId('plan-details').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, `dialog-${scheme}.png`) });
    // Dark really is dark: the card's background follows the scheme (theme auto).
    const background = await page.locator('#paylater [data-testid=card]').evaluate((el) => getComputedStyle(el).backgroundColor);
    assert.equal(background, scheme === 'dark' ? 'rgb(22, 25, 29)' : 'rgb(255, 255, 255)');
    await page.close();
  }
});

test('loading and error states: the card says so, keeps its height, and retries', async () => {
  const page = await browser.newPage();
  const problems = await recordPage(page);
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  let failures = 1;
  await page.route('**/v1/offers?*', async (route) => {
    if (failures > 0) {
      failures -= 1;
      await held;
      return route.fulfill({ status: 503, contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'unavailable', message: 'try later', field: null } }) });
    }
    return route.continue();
  });
  await page.goto(DEMO_URL);
  await waitForState(page, 'loading');
  await page.getByTestId('loading').waitFor();
  await shootLightAndDark(page, ARTIFACTS, 'loading');
  release();
  await waitForState(page, 'error');
  assert.equal(await page.evaluate(() => window.__layoutShift), 0, 'loading → error moved nothing');
  assert.equal(await page.getByTestId('error').textContent(), 'Payment options could not be loaded.');
  assert.deepEqual((await events(page)).filter((e) => e.name === 'error').map((e) => e.detail), [{ code: 'unavailable', message: 'try later' }]);
  await shootLightAndDark(page, ARTIFACTS, 'error');
  await page.getByTestId('retry').click();
  await waitForState(page, 'ready');
  assert.equal(await page.getByTestId('summary').textContent(), '$32.52 today, then 3 × $32.49 every 2 weeks · 0% APR · Total $129.99');
  assert.equal(await page.evaluate(() => window.__layoutShift), 0);
  // The browser logs the 503 itself, and the widget its error line; nothing else.
  assert.ok(problems.every((p) => /503|paylater:error unavailable: try later/.test(p)), problems.join('\n'));
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.locator('#paylater-tag').evaluate((tag) => tag.setAttribute('data-amount', '500'));
  await waitForState(page, 'unavailable');
  await page.screenshot({ path: join(ARTIFACTS, 'unavailable-dark.png') });
  await page.close();
});
