// The first vertical slice in a real browser: demo merchant page (trunk serve) → loader from
// the edge → Leptos widget in a shadow root → edge API → back on screen. Runs against the
// optimized release bundles that ship. Servers are started and stopped by `cargo xtask test`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, waitFor } from './support/browser.mjs';

const DEMO_URL = process.env.DEMO_URL;
const EDGE_LOG = process.env.EDGE_LOG;
const ARTIFACTS = process.env.ARTIFACTS_DIR ?? mkdtempSync(join(tmpdir(), 'paylater-artifacts-'));
mkdirSync(ARTIFACTS, { recursive: true });

let browser;
before(async () => {
  assert.ok(DEMO_URL && EDGE_LOG, 'run through `cargo xtask test`, which starts the servers');
  // --expose-gc: the test forces a collection to prove the page keeps every widget alive.
  browser = await launchBrowser({ timezoneId: 'Europe/Stockholm' }, ['--js-flags=--expose-gc']);
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

test('demo page: widget renders edge data, a click reaches the edge, schedule is exact', async () => {
  const page = await browser.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  await page.addInitScript(() => {
    window.__paylaterEvents = [];
    for (const name of ['paylater:ready', 'paylater:error']) {
      document.addEventListener(name, (e) => window.__paylaterEvents.push({ name, detail: e.detail }));
    }
  });

  await page.goto(DEMO_URL);
  const host = page.locator('#paylater');
  // Text that only the edge knows (the merchant's display name from KV), inside the shadow root.
  await waitFor(() => page.getByTestId('headline').textContent(), (t) => t === 'Pay later with Nordic Outdoor Co.');
  assert.equal(await host.evaluate((el) => el.shadowRoot?.mode), 'open');
  assert.equal(await page.getByTestId('plan-families').textContent(), 'Pay in 4 · Pay in 30 days');

  const offersResponse = page.waitForResponse((r) => r.url().includes('/v1/offers?'));
  await page.getByTestId('show-offers').click();
  const response = await offersResponse;
  assert.equal(response.status(), 200);
  const requestId = response.headers()['x-request-id'];
  assert.match(requestId, /^[0-9a-f-]{36}$/);

  await waitFor(() => host.getAttribute('data-paylater-state'), (s) => s === 'ready');
  const summaries = await page.getByTestId('offer-summary').allTextContents();
  assert.deepEqual(summaries, [
    '4 payments of $32.49 every 2 weeks · 0% APR · Total $129.99',
    'Pay $129.99 in 30 days · 0% APR · Total $129.99',
  ]);
  // Due dates start on the shopper's own today (Stockholm time here).
  const today = await page.evaluate(() => new Intl.DateTimeFormat('en-US', { year: 'numeric', month: 'long', day: 'numeric' }).format(new Date()));
  const rows = await page.getByTestId('installment').allTextContents();
  assert.equal(rows.length, 5);
  assert.equal(rows[0], `${today}: $32.52`);
  assert.ok(rows.slice(1, 4).every((row) => row.endsWith(': $32.49')), rows.join(' | '));

  const ready = await page.evaluate(() => window.__paylaterEvents);
  assert.deepEqual(ready.map((e) => e.name), ['paylater:ready']);
  assert.deepEqual(ready[0].detail.plans.map((p) => [p.id, p.installment_amount, p.total, p.apr_bps]), [
    ['pay_in_4', 3249, 12999, 0],
    ['pay_in_30', 12999, 12999, 0],
  ]);

  // The edge itself logged that very request.
  const entry = await waitFor(() => accessLog().find((e) => e.request_id === requestId), (e) => e !== undefined);
  assert.equal(entry.path, '/v1/offers');
  assert.equal(entry.route, 'offers');
  assert.equal(entry.status, 200);

  // A garbage collection must not take the widget away (its wasm handle is kept by the loader).
  await page.evaluate(() => window.gc());
  await page.waitForTimeout(200);
  assert.equal((await page.getByTestId('offer-summary').allTextContents()).length, 2);
  assert.ok((await host.boundingBox()).height > 200, 'the rendered terms are laid out');

  await page.screenshot({ path: join(ARTIFACTS, 'slice-ready.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});
