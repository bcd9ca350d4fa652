// The widget on a merchant page of another origin under CONTRACT §1's strict CSP, two widgets
// on one page (the tag and `Paylater.mount`), the JS API, and the approval form's isolation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, waitFor } from './support/browser.mjs';
import { SHOPPER_UA, recordPage, events, waitForState, fillApprovalForm } from './support/widget.mjs';

const EDGE_URL = process.env.EDGE_URL;
const ARTIFACTS = process.env.ARTIFACTS_DIR ?? mkdtempSync(join(tmpdir(), 'paylater-artifacts-'));
mkdirSync(ARTIFACTS, { recursive: true });

// An async tag may run before this script does (CI saw it under load), so the shop mounts at once
// when \`window.Paylater\` exists and on \`paylater:loaded\` otherwise, as CONTRACT §2 allows.
const SHOP_JS = `
function mountSecond() {
  window.second = Paylater.mount('#second', { key: 'pk_test_demo', amount: 50000, currency: 'EUR', locale: 'de-DE', theme: 'dark' });
}
if (window.Paylater) mountSecond(); else document.addEventListener('paylater:loaded', mountSecond);`;

function shopPage(edge) {
  return `<!doctype html><html lang="en-US"><head><meta charset="utf-8"><title>Strict shop</title>
<link rel="stylesheet" href="/shop.css"></head><body><main><h1>Strict shop</h1>
<div id="first"></div><div id="second"></div>
<script async src="${edge}/v1/widget.js" data-key="pk_test_demo" data-amount="12999" data-currency="USD" data-locale="en-US" data-target="#first"></script>
<script src="/shop.js"></script></main></body></html>`;
}

/** The tag with a currency that is no ISO 4217 code, and no other script. */
function badCurrencyPage(edge) {
  return shopPage(edge).replace('data-currency="USD"', 'data-currency="EURO"').replace('<script src="/shop.js"></script>', '');
}

let browser;
let shop;
let shopUrl;
before(async () => {
  assert.ok(EDGE_URL, 'run through `cargo xtask test`, which starts the edge');
  const csp = `script-src 'self' ${EDGE_URL} 'wasm-unsafe-eval'; connect-src ${EDGE_URL}; style-src 'self' ${EDGE_URL}; frame-src ${EDGE_URL}`;
  shop = createServer((req, res) => {
    const [type, body] = req.url === '/shop.js' ? ['text/javascript', SHOP_JS]
      : req.url === '/shop.css' ? ['text/css', '#first, #second { min-height: 176px; margin-bottom: 1rem; }']
        : req.url === '/bad-currency' ? ['text/html; charset=utf-8', badCurrencyPage(EDGE_URL)]
          : ['text/html; charset=utf-8', shopPage(EDGE_URL)];
    res.writeHead(200, { 'Content-Type': type, 'Content-Security-Policy': csp });
    res.end(body);
  });
  await new Promise((resolve) => shop.listen(0, '127.0.0.1', resolve));
  shopUrl = `http://127.0.0.1:${shop.address().port}/`;
  browser = await launchBrowser({ userAgent: SHOPPER_UA, timezoneId: 'Europe/Stockholm' });
});
after(async () => {
  await browser?.close();
  await new Promise((resolve) => (shop ? shop.close(resolve) : resolve()));
});

test('strict CSP on another origin: two widgets, no console errors, no CSP violations', async () => {
  const page = await browser.newPage();
  const problems = await recordPage(page);
  await page.goto(shopUrl);
  await waitForState(page, 'ready', '#first');
  await waitForState(page, 'ready', '#second');
  assert.equal(await page.locator('#first [data-testid=summary]').textContent(), '$32.52 today, then 3 × $32.49 every 2 weeks · 0% APR · Total $129.99');
  assert.equal(await page.locator('#second [data-testid=summary]').textContent(),
    '4 Raten à 125,00\u00a0€ alle 2 Wochen · eff. Jahreszins 0\u00a0% · Gesamtbetrag 500,00\u00a0€');
  assert.equal(await page.locator('#second [data-testid=card]').evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(22, 25, 29)', 'theme dark');
  const ready = (await events(page)).filter((e) => e.name === 'ready');
  assert.deepEqual(ready.map((e) => e.target).sort(), ['first', 'second']);

  await page.screenshot({ path: join(ARTIFACTS, 'strict-csp-two-widgets.png') });
  // The JS API: update re-renders one widget only; destroy removes it.
  await page.evaluate(() => window.second.update({ amount: 60000 }));
  await waitFor(() => page.locator('#second [data-testid=summary]').textContent(), (t) => t?.includes('150,00'));
  assert.equal(await page.locator('#first [data-testid=summary]').textContent(), '$32.52 today, then 3 × $32.49 every 2 weeks · 0% APR · Total $129.99');
  await page.evaluate(() => window.second.destroy());
  assert.equal(await page.locator('#second').evaluate((el) => el.shadowRoot.childElementCount), 0);
  assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
  assert.deepEqual(problems, []);
  await page.close();
});

// An approved-looking decision in exactly the shape the checkout page sends.
const FORGED = {
  source: 'paylater-checkout',
  type: 'decision',
  answer: {
    approval_id: 'ap_forged', decision: 'approved', reasons: [], plan_id: 'pay_in_4',
    schedule: [{ n: 1, due_date: '2026-01-31', amount: 12999 }],
    approval_token: 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhcF9mb3JnZWQifQ.c2ln', expires_at: '2099-01-01T00:00:00Z',
  },
};

/** While #first's form is open: the shop's own script posts an approved decision to its window,
 *  and a frame the shop made on the edge's origin (the edge's own checkout page, for a session
 *  the shop asked for itself) posts one to its parent, the widget's window. The second comes
 *  from the very origin the widget listens to; only "from the widget's own frame" refuses it.
 *  Neither may change anything. */
async function forgeDecisions(page) {
  const token = await page.evaluate(async ([edge, forged]) => {
    window.postMessage(forged, '*');
    const response = await fetch(`${edge}/v1/sessions`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ key: 'pk_test_demo', amount: 12999, currency: 'USD' }),
    });
    const { session_token: sessionToken } = await response.json();
    const frame = document.createElement('iframe');
    frame.src = `${edge}/v1/checkout?session=${encodeURIComponent(sessionToken)}&plan=pay_in_4&locale=en-US`;
    document.body.appendChild(frame);
    await new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
    return sessionToken;
  }, [EDGE_URL, FORGED]);
  const frame = page.frames().find((f) => f.url().includes(encodeURIComponent(token)));
  assert.equal(new URL(frame.url()).origin, new URL(EDGE_URL).origin);
  await frame.evaluate((forged) => window.parent.postMessage(forged, '*'), FORGED);
  await page.waitForTimeout(1_000);
  assert.equal(await page.locator('#first').getAttribute('data-paylater-state'), 'ready');
  assert.deepEqual((await events(page)).filter((e) => e.name !== 'ready'), []);
  assert.equal(await page.locator('#first [data-testid=dialog-title]').textContent(), 'Your details for Pay in 4');
}

test('the approval form is the edge origin\'s: the shop cannot read it, and still gets the decision', async () => {
  const page = await browser.newPage();
  const problems = await recordPage(page);
  await page.goto(shopUrl);
  await waitForState(page, 'ready', '#first');
  await page.locator('#first [data-testid=learn-more]').click();
  await page.locator('#first [data-testid=continue]').click();
  await fillApprovalForm(page, {
    root: '#first', email: 'teen@example.com', dateOfBirth: '2012-03-04', country: 'SE',
    beforeFilling: async () => {
      const frame = page.frames().find((f) => f.url().includes('/v1/checkout'));
      assert.equal(new URL(frame.url()).origin, new URL(EDGE_URL).origin);
      assert.equal(await page.locator('#first [data-testid=checkout-frame]').evaluate((f) => f.contentDocument), null,
        'a cross-origin frame: the merchant page cannot read the form');
      await forgeDecisions(page);
    },
  });
  await waitForState(page, 'declined', '#first', 20_000);
  const declined = (await events(page)).filter((e) => e.name === 'declined');
  assert.deepEqual(declined.map((e) => [e.target, e.detail.reasons.map((r) => r.code)]), [['first', ['under_age']]]);
  assert.deepEqual((await events(page)).filter((e) => e.name === 'approved'), [], 'no forged approval got through');
  assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
  assert.deepEqual(problems, []);
  await page.close();
});

test('bad attributes: error state and a console message, never an exception into the page', async () => {
  const page = await browser.newPage();
  const problems = await recordPage(page);
  await page.goto(`${shopUrl}bad-currency`);
  await waitForState(page, 'error', '#first');
  assert.deepEqual((await events(page)).map((e) => [e.name, e.detail.code]), [['error', 'invalid_currency']]);
  assert.equal(problems.length, 1);
  assert.match(problems[0], /^paylater:error invalid_currency: data-currency/);
  await page.close();
});

test('Paylater update with a new amount while the form is open: the flow closes and reopens on the new amount', async () => {
  const page = await browser.newPage();
  const problems = await recordPage(page);
  await page.goto(shopUrl);
  await waitForState(page, 'ready', '#second');
  await page.locator('#second [data-testid=learn-more]').click();
  await page.locator('#second [data-testid=continue]').click();
  await page.frameLocator('#second [data-testid=checkout-frame]').locator('#email').waitFor();
  await page.evaluate(() => window.second.update({ amount: 60000 }));
  await waitFor(() => page.locator('#second [data-testid=dialog]').evaluate((d) => d.open), (open) => open === false);
  await waitFor(() => page.locator('#second [data-testid=summary]').textContent(), (t) => t?.includes('150,00'));
  await page.waitForTimeout(500);
  assert.equal(await page.locator('#second [data-testid=dialog]').evaluate((d) => d.open), false);
  assert.equal(await page.locator('#second [data-testid=checkout-frame]').count(), 0);
  await page.locator('#second [data-testid=learn-more]').click();
  await page.locator('#second [data-testid=plan-details]').waitFor();
  assert.equal((await page.locator('#second [data-testid=offer-summary]').allTextContents())[0],
    '4 Raten à 150,00\u00a0€ alle 2 Wochen · eff. Jahreszins 0\u00a0% · Gesamtbetrag 600,00\u00a0€');
  assert.deepEqual((await events(page)).filter((e) => !['ready', 'plan-selected'].includes(e.name)), []);
  assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
  assert.deepEqual(problems, []);
  await page.close();
});
