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
  recordPage, events, eventNames, waitForState, waitForSummary, axeViolations, shootLightAndDark, focusPath, waitForFocus, layoutShift,
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
  const [shift, moved] = await layoutShift(page);
  assert.equal(shift, 0, `what moved: ${moved}`);

  // The edge logged the offers request the widget made.
  const offers = await waitFor(() => accessLog().filter((e) => e.route === 'offers' && e.status === 200), (l) => l.length > 0);
  assert.equal(offers.at(-1).path, '/v1/offers');

  // A widget whose handles the GC took would still show the old terms and ignore the page's
  // changes: after a full collection the amount changes, and both the card and the dialog follow.
  await page.evaluate(() => window.gc());
  await page.waitForTimeout(200);
  assert.equal(await page.getByTestId('summary').textContent(), '$32.52 today, then 3 × $32.49 every 2 weeks · 0% APR · Total $129.99');
  await setCart(page, { jacket: 2 });
  await waitForSummary(page, '$57.51 today, then 3 × $57.49 every 2 weeks · 0% APR · Total $229.98');
  await waitForState(page, 'ready');
  assert.deepEqual((await events(page)).filter((e) => e.name === 'ready').map((e) => e.detail.plans[0].total), [12999, 22998]);
  await page.evaluate(() => window.gc());
  await page.getByTestId('learn-more').click();
  await page.getByTestId('plan-details').waitFor();
  assert.deepEqual(await page.getByTestId('offer-summary').allTextContents(), [
    '$57.51 today, then 3 × $57.49 every 2 weeks · 0% APR · Total $229.98',
    'Pay $229.98 in 30 days · 0% APR · Total $229.98',
  ]);
  assert.deepEqual(problems, []);
  await page.close();
});

test('terms and due dates for several amounts, currencies and locales, on a pinned date', async (t) => {
  // A browser of its own: Playwright's clock belongs to the whole context, and the other tests
  // run on today's date (the edge takes a session's date only within a day of its own).
  const pinned = await launchBrowser({ timezoneId: 'Europe/Stockholm', viewport: { width: 1100, height: 900 } });
  t.after(() => pinned.close());
  const page = await pinned.newPage();
  const problems = await recordPage(page);
  const sessions = [];
  page.on('response', async (r) => {
    if (new URL(r.url()).pathname === '/v1/sessions') sessions.push([r.status(), JSON.parse(r.request().postData()).start ?? null]);
  });
  // Noon on Saturday 31 January 2026 in the browser's zone (Europe/Stockholm, UTC+1 in winter):
  // the month end shows the date arithmetic (+14 days crosses into February, financing clamps
  // to 28 February). The edge computes offers for any start the page asks for.
  await page.clock.setFixedTime(new Date('2026-01-31T12:00:00+01:00'));
  await page.goto(DEMO_URL);
  await waitForState(page, 'ready');
  // The cart holds a jacket and two socks: USD 129.99, EUR 122.99, GBP 108.99, SEK 1,397.00,
  // JPY 20,200. Pay in 4 puts the remainder on the first payment (122.99 = 30.77 + 3 × 30.74);
  // when the four differ, the summary names the first and the three others, never "4 payments
  // of" an amount not charged. Every string is written out as the locale writes it (CLDR:
  // U+00A0 and U+202F spaces, symbols such as "US$" in Canada and "GBP" in Australia), not
  // rebuilt with the Intl calls the widget makes.
  const NB = '\u00a0';
  const NNB = '\u202f';
  const cases = [
    // [cart, locale, card summary, pay-in-4 rows]
    [{ currency: 'EUR', locale: 'de-DE' }, 'de-DE',
      `30,77${NB}€ heute, dann 3 × 30,74${NB}€ alle 2 Wochen · eff. Jahreszins 0${NB}% · Gesamtbetrag 122,99${NB}€`,
      [`31. Januar 2026: 30,77${NB}€`, `14. Februar 2026: 30,74${NB}€`, `28. Februar 2026: 30,74${NB}€`, `14. März 2026: 30,74${NB}€`]],
    [{ currency: 'GBP', locale: 'en-GB' }, 'en-GB',
      '£27.27 today, then 3 × £27.24 every 2 weeks · 0% APR · Total £108.99',
      ['31 January 2026: £27.27', '14 February 2026: £27.24', '28 February 2026: £27.24', '14 March 2026: £27.24']],
    [{ currency: 'SEK', locale: 'sv-SE' }, 'sv-SE',
      `4 betalningar à 349,25${NB}kr varannan vecka · effektiv ränta 0${NB}% · totalt 1${NB}397,00${NB}kr`,
      [`31 januari 2026: 349,25${NB}kr`, `14 februari 2026: 349,25${NB}kr`, `28 februari 2026: 349,25${NB}kr`, `14 mars 2026: 349,25${NB}kr`]],
    [{ currency: 'JPY', locale: 'fr-FR' }, 'fr-FR',
      `4 paiements de 5${NNB}050${NB}JPY toutes les 2 semaines · TAEG 0${NB}% · total 20${NNB}200${NB}JPY`,
      [`31 janvier 2026 : 5${NNB}050${NB}JPY`, `14 février 2026 : 5${NNB}050${NB}JPY`, `28 février 2026 : 5${NNB}050${NB}JPY`, `14 mars 2026 : 5${NNB}050${NB}JPY`]],
    [{ currency: 'JPY', locale: 'ja-JP' }, 'ja-JP',
      '2週間ごとに￥5,050×4回・実質年率0%・支払総額￥20,200',
      ['2026年1月31日：￥5,050', '2026年2月14日：￥5,050', '2026年2月28日：￥5,050', '2026年3月14日：￥5,050']],
    [{ currency: 'EUR', locale: 'es-ES' }, 'es-ES',
      `30,77${NB}€ hoy, después 3 × 30,74${NB}€ cada 2 semanas · TAE 0${NB}% · total 122,99${NB}€`,
      [`31 de enero de 2026: 30,77${NB}€`, `14 de febrero de 2026: 30,74${NB}€`, `28 de febrero de 2026: 30,74${NB}€`, `14 de marzo de 2026: 30,74${NB}€`]],
    [{ currency: 'EUR', locale: 'it-IT' }, 'it-IT',
      `30,77${NB}€ oggi, poi 3 × 30,74${NB}€ ogni 2 settimane · TAEG 0% · totale 122,99${NB}€`,
      [`31 gennaio 2026: 30,77${NB}€`, `14 febbraio 2026: 30,74${NB}€`, `28 febbraio 2026: 30,74${NB}€`, `14 marzo 2026: 30,74${NB}€`]],
    [{ currency: 'EUR', locale: 'nl-NL' }, 'nl-NL',
      `€${NB}30,77 vandaag, daarna 3 × €${NB}30,74 elke 2 weken · JKP 0% · totaal €${NB}122,99`,
      [`31 januari 2026: €${NB}30,77`, `14 februari 2026: €${NB}30,74`, `28 februari 2026: €${NB}30,74`, `14 maart 2026: €${NB}30,74`]],
    [{ currency: 'EUR', locale: 'pl-PL' }, 'pl-PL',
      `30,77${NB}€ dziś, potem 3 × 30,74${NB}€ co 2 tygodnie · RRSO 0% · łącznie 122,99${NB}€`,
      [`31 stycznia 2026: 30,77${NB}€`, `14 lutego 2026: 30,74${NB}€`, `28 lutego 2026: 30,74${NB}€`, `14 marca 2026: 30,74${NB}€`]],
    [{ currency: 'SEK', locale: 'da-DK' }, 'da-DK',
      `4 rater à 349,25${NB}SEK hver 2. uge · ÅOP 0${NB}% · i alt 1.397,00${NB}SEK`,
      [`31. januar 2026: 349,25${NB}SEK`, `14. februar 2026: 349,25${NB}SEK`, `28. februar 2026: 349,25${NB}SEK`, `14. marts 2026: 349,25${NB}SEK`]],
    [{ currency: 'SEK', locale: 'nb-NO' }, 'nb-NO',
      `4 avdrag à 349,25${NB}SEK annenhver uke · effektiv rente 0${NB}% · totalt 1${NB}397,00${NB}SEK`,
      [`31. januar 2026: 349,25${NB}SEK`, `14. februar 2026: 349,25${NB}SEK`, `28. februar 2026: 349,25${NB}SEK`, `14. mars 2026: 349,25${NB}SEK`]],
    [{ currency: 'EUR', locale: 'fi-FI' }, 'fi-FI',
      `30,77${NB}€ tänään, sitten 3 × 30,74${NB}€ 2 viikon välein · todellinen vuosikorko 0${NB}% · yhteensä 122,99${NB}€`,
      [`31. tammikuuta 2026: 30,77${NB}€`, `14. helmikuuta 2026: 30,74${NB}€`, `28. helmikuuta 2026: 30,74${NB}€`, `14. maaliskuuta 2026: 30,74${NB}€`]],
    [{ currency: 'GBP', locale: 'en-AU' }, 'en-AU',
      `GBP${NB}27.27 today, then 3 × GBP${NB}27.24 fortnightly · 0% APR · Total GBP${NB}108.99`,
      [`31 January 2026: GBP${NB}27.27`, `14 February 2026: GBP${NB}27.24`, `28 February 2026: GBP${NB}27.24`, `14 March 2026: GBP${NB}27.24`]],
    [{ currency: 'USD', locale: 'en-CA' }, 'en-CA',
      'US$32.52 today, then 3 × US$32.49 every 2 weeks · 0% APR · Total US$129.99',
      ['January 31, 2026: US$32.52', 'February 14, 2026: US$32.49', 'February 28, 2026: US$32.49', 'March 14, 2026: US$32.49']],
    [{ currency: 'USD', locale: 'fr-CA' }, 'fr-CA',
      `32,52${NB}$${NB}US aujourd’hui, puis 3 × 32,49${NB}$${NB}US aux 2 semaines · taux de crédit 0${NB}% · total 129,99${NB}$${NB}US`,
      [`31 janvier 2026 : 32,52${NB}$${NB}US`, `14 février 2026 : 32,49${NB}$${NB}US`, `28 février 2026 : 32,49${NB}$${NB}US`, `14 mars 2026 : 32,49${NB}$${NB}US`]],
    [{ currency: 'USD', locale: 'en-US', tent: 1 }, 'en-US',
      '$119.77 today, then 3 × $119.74 every 2 weeks · 0% APR · Total $478.99',
      ['January 31, 2026: $119.77', 'February 14, 2026: $119.74', 'February 28, 2026: $119.74', 'March 14, 2026: $119.74']],
  ];
  const eu = ['de-DE', 'sv-SE', 'fr-FR', 'es-ES', 'it-IT', 'nl-NL', 'pl-PL', 'da-DK', 'nb-NO', 'fi-FI'];
  for (const [cart, locale, summary, rows] of cases) {
    const currency = cart.currency;
    await setCart(page, cart);
    await waitForSummary(page, summary);
    await page.getByTestId('learn-more').click();
    await page.getByTestId('plan-details').waitFor();
    assert.deepEqual(await page.getByTestId('installment').allTextContents(), rows, `${currency} ${locale}`);
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
  // Pay in 30 falls due 30 days on (2 March: February has 28 days in 2026). Financing counts each
  // month from the start, so 31 January clamps to each month's last day, never drifting.
  await page.locator('[data-plan-id=pay_in_30] input').check();
  assert.deepEqual(await page.getByTestId('installment').allTextContents(), ['March 2, 2026: $478.99']);
  await page.locator('[data-plan-id=financing_6] input').check();
  assert.deepEqual(await page.getByTestId('installment').allTextContents(), [
    'February 28, 2026: $79.83', 'March 31, 2026: $79.83', 'April 30, 2026: $79.83', 'May 31, 2026: $79.83',
    'June 30, 2026: $79.83', 'July 31, 2026: $79.84',
  ]);
  await page.locator('[data-plan-id=financing_24] input').check();
  const financing24 = await page.getByTestId('installment').allTextContents();
  assert.equal(financing24.length, 24);
  assert.deepEqual([financing24[0], financing24[1], financing24[11], financing24[12], financing24[22], financing24[23]], [
    'February 28, 2026: $24.38', 'March 31, 2026: $24.38', 'January 31, 2027: $24.38', 'February 28, 2027: $24.38',
    'December 31, 2027: $24.38', 'January 31, 2028: $24.29',
  ]);
  assert.match(await page.getByTestId('representative-example').textContent(), /^Representative example: credit of \$478\.99 over 24 months at 19\.99% APR \(fixed\)\./);
  assert.match(await page.getByTestId('apr').textContent(), /^APR: 19\.99%$/);
  await page.screenshot({ path: join(ARTIFACTS, 'dialog-financing-light.png') });
  // The telemetry's session carries the shopper's date, which the edge refuses this far from its
  // own (422, "a device clock more than a day off"); the widget asks again without it. Those
  // refusals are the console's only lines.
  assert.deepEqual(sessions.slice(0, 2), [[422, '2026-01-31'], [201, null]]);
  assert.deepEqual(problems.filter((p) => !/the server responded with a status of 422/.test(p)), []);
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

test('the dialog by keyboard: focus on each step\'s heading, trapped inside (never on <body>), arrows pick a plan, Escape restores focus', async () => {
  const { page, problems } = await openDemo();
  await page.getByTestId('learn-more').focus();
  await page.keyboard.press('Enter');
  await waitFor(() => page.getByTestId('dialog').evaluate((d) => d.open), (open) => open === true);
  await page.getByTestId('plan-details').waitFor();
  // The plans step: focus on its heading, which the screen reader reads first.
  await waitForFocus(page, 'dialog:dialog-title');
  assert.equal(await page.getByTestId('dialog-title').textContent(), 'Choose how to pay');
  /** Presses `key` `times` times and says where focus is after each press. */
  const walk = async (key, times) => {
    const seen = [];
    for (let i = 0; i < times; i += 1) {
      await page.keyboard.press(key);
      seen.push(await focusPath(page));
    }
    return seen;
  };
  // Tab goes round the dialog's three stops and comes back to the first, twice; Shift+Tab the
  // other way round. Focus never falls out to <body> or the merchant page.
  const forward = await walk('Tab', 6);
  assert.deepEqual(forward, ['dialog:close', 'dialog:radio:pay_in_4', 'dialog:continue', 'dialog:close', 'dialog:radio:pay_in_4', 'dialog:continue']);
  const backward = await walk('Shift+Tab', 6);
  assert.deepEqual(backward, ['dialog:radio:pay_in_4', 'dialog:close', 'dialog:continue', 'dialog:radio:pay_in_4', 'dialog:close', 'dialog:continue']);

  await page.locator('[data-plan-id=pay_in_4] input').focus();
  await page.keyboard.press('ArrowDown');
  await waitFor(() => eventNames(page), (n) => n.includes('plan-selected'));
  assert.deepEqual((await events(page)).filter((e) => e.name === 'plan-selected').map((e) => e.detail), [{ plan_id: 'pay_in_30' }]);
  assert.equal(await page.getByTestId('announcer').textContent(), 'Pay in 30 days selected');
  assert.equal(await page.getByTestId('continue').textContent(), 'Continue with Pay in 30 days');

  // The form step: focus on the form's heading; Tab runs through the framed form (focus is then
  // on the frame, as the page sees it) and back to the dialog's close button, never to <body>.
  await page.getByTestId('continue').focus();
  await page.keyboard.press('Enter');
  await page.frameLocator('#paylater [data-testid=checkout-frame]').locator('#email').waitFor();
  await waitForFocus(page, 'dialog:dialog-title');
  assert.equal(await page.getByTestId('dialog-title').textContent(), 'Your details for Pay in 30 days');
  // Inside the frame, which control of the edge's form has the focus (read by Playwright; on a
  // real shop the frame is the edge's origin, which neither the page nor the dialog can read).
  const form = page.frames().find((f) => f.url().includes('/v1/checkout'));
  const walkForm = async (key, times) => {
    const seen = [];
    for (let i = 0; i < times; i += 1) {
      await page.keyboard.press(key);
      const where = await focusPath(page);
      seen.push(where === 'dialog:checkout-frame'
        ? `form:${await form.evaluate(() => document.activeElement?.id || document.activeElement?.localName)}`
        : where);
    }
    return seen;
  };
  // Chromium's date field takes four stops (month, day, year, the picker's button).
  const dob = new Array(4).fill('form:date-of-birth');
  const formStops = ['form:email', ...dob, 'form:country', 'form:consent', 'form:submit', 'form:cancel'];
  assert.deepEqual(await walkForm('Tab', 16), ['dialog:close', ...formStops, 'dialog:close', 'form:email', ...dob]);
  // Backwards, the start guard can only hand focus to the frame as a whole (its document, no
  // control yet: the edge's form is another origin's on a real shop, out of the dialog's reach);
  // the next Shift+Tab is on the form's last control.
  assert.deepEqual(await walkForm('Shift+Tab', 16), [
    ...dob.slice(1), 'form:email', 'dialog:close', 'form:body', ...[...formStops].reverse(), 'dialog:close',
  ]);

  // Escape in the dialog (not in the frame) closes it; focus is back on the card's button.
  await page.getByTestId('close').focus();
  await page.keyboard.press('Escape');
  await waitFor(() => page.getByTestId('dialog').evaluate((d) => d.open), (open) => open === false);
  await waitForFocus(page, 'card:learn-more');
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
