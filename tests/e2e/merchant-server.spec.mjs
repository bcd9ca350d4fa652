// The example merchant server (examples/merchant-server) behind the demo shop: the shopper is
// approved in the widget, Place order sends the approval token to the merchant server (CORS from
// the shop's origin), which verifies it with the edge's keys and creates the order with its
// secret key; then, on the merchant server's own orders page, Capture the rest and the capture
// in the day's reconciliation, which the edge's queue consumer writes a moment later.
// `cargo xtask test` starts the merchant server and points the page at it (MERCHANT_SERVER_URL).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, waitFor } from './support/browser.mjs';
import { SHOPPER_UA, recordPage, events, waitForState, applyWith, setCart } from './support/widget.mjs';

const DEMO_URL = process.env.DEMO_URL;
const MERCHANT_SERVER_URL = process.env.MERCHANT_SERVER_URL;
const ARTIFACTS = process.env.ARTIFACTS_DIR ?? mkdtempSync(join(tmpdir(), 'paylater-artifacts-'));
mkdirSync(ARTIFACTS, { recursive: true });

// One jacket at $99.99 and three pairs of socks at $15.00.
const CART = { jacket: 1, socks: 3, tent: 0 };
const TOTAL = 14499;

let browser;
before(async () => {
  assert.ok(DEMO_URL && MERCHANT_SERVER_URL, 'run through `cargo xtask test`, which starts the servers');
  browser = await launchBrowser({ timezoneId: 'Europe/Stockholm', userAgent: SHOPPER_UA, viewport: { width: 1100, height: 900 } });
});
after(async () => { await browser?.close(); });

/** Today's captures in USD on the orders page: count and minor units (none yet: no table). */
async function capturedToday(orders) {
  if ((await orders.getByTestId('reconciliation-USD').count()) === 0) return { count: 0, amount: 0 };
  return {
    count: Number(await orders.getByTestId('recon-USD-captured-count').textContent()),
    amount: Number(await orders.getByTestId('recon-USD-captured-amount').getAttribute('data-minor-units')),
  };
}

test('approve in the widget, place the order through the merchant server, capture it, see it reconciled', async () => {
  const shop = await browser.newPage();
  const problems = await recordPage(shop);
  await shop.goto(DEMO_URL);
  await waitForState(shop, 'ready');
  await setCart(shop, CART, TOTAL);
  await applyWith(shop, { email: `merchant.${Date.now()}@example.com` });
  await waitForState(shop, 'approved', '#paylater', 20_000);
  const approved = (await events(shop)).filter((e) => e.name === 'approved');
  assert.equal(approved.length, 1);
  assert.deepEqual([approved[0].detail.amount, approved[0].detail.currency], [TOTAL, 'USD']);

  // The decision shows in the widget's modal dialog, which keeps the page inert until the
  // shopper closes it.
  await shop.getByTestId('done').click();
  await waitFor(() => shop.getByTestId('place-order').isEnabled(), (enabled) => enabled === true);

  // Place order: the page posts the token to the merchant server, not to the edge.
  const answered = shop.waitForResponse((r) => r.url() === `${MERCHANT_SERVER_URL}/orders` && r.request().method() === 'POST');
  await shop.getByTestId('place-order').click();
  const response = await answered;
  assert.equal(response.status(), 201);
  const placed = await response.json();
  assert.match(placed.order_id, /^ord_test_[0-9a-f]{32}$/);
  assert.match(placed.merchant_reference, /^NO-\d+$/);
  assert.deepEqual([placed.status, placed.amount, placed.currency], ['authorized', TOTAL, 'USD']);
  await waitFor(() => shop.getByTestId('order-status').textContent(),
    (text) => text === `Order ${placed.merchant_reference} placed: authorized`);
  assert.equal(await shop.getByTestId('place-order').isEnabled(), false, 'an approval is placed once');
  assert.deepEqual(problems, []);

  // The merchant's orders page: the order as the edge has it.
  const orders = await browser.newPage();
  await orders.goto(`${MERCHANT_SERVER_URL}/`);
  const row = orders.locator(`[data-testid=order-row][data-order-id="${placed.order_id}"]`);
  assert.equal(await row.count(), 1);
  assert.equal(await row.getByTestId('row-reference').textContent(), placed.merchant_reference);
  assert.equal(await row.getByTestId('row-cart').textContent(), 'jacket x1, socks x3');
  assert.equal(await row.getByTestId('row-status').textContent(), 'authorized');
  assert.equal(await row.getByTestId('row-amount').textContent(), '144.99 USD');
  assert.equal(await row.getByTestId('row-amount').getAttribute('data-minor-units'), String(TOTAL));
  assert.equal(await row.getByTestId('row-captured').getAttribute('data-minor-units'), '0');
  const before = await capturedToday(orders);

  // Capture the rest: a form post, then 303 back to the page with what happened.
  await row.getByTestId('capture').click();
  assert.equal(await orders.getByTestId('notice').textContent(),
    `${placed.merchant_reference}: captured 144.99 USD; now captured.`);
  assert.equal(await orders.getByTestId('notice').getAttribute('data-outcome'), 'done');
  assert.equal(await row.getByTestId('row-status').textContent(), 'captured');
  assert.equal(await row.getByTestId('row-captured').getAttribute('data-minor-units'), String(TOTAL));
  assert.equal(await row.getByTestId('row-refunded').getAttribute('data-minor-units'), '0');
  assert.equal(await row.getByTestId('capture').isDisabled(), true);
  assert.equal(await row.getByTestId('void').isDisabled(), true);
  assert.equal(await row.getByTestId('refund').isEnabled(), true);

  // The day's reconciliation: the queue consumer writes the capture a moment after it was made.
  let reloads = 0;
  const after = await waitFor(async () => {
    if (reloads++ > 0) {
      await orders.waitForTimeout(250);
      await orders.reload();
    }
    return capturedToday(orders);
  }, (captured) => captured.count > before.count, 15_000);
  assert.deepEqual(after, { count: before.count + 1, amount: before.amount + TOTAL });
  assert.equal(await orders.getByTestId('recon-USD-captured-amount').textContent(),
    `${((before.amount + TOTAL) / 100).toFixed(2)} USD`);
  await orders.screenshot({ path: join(ARTIFACTS, 'merchant-server-orders.png'), fullPage: true });
  await orders.close();
  await shop.close();
});
