// Instant approval from the demo checkout: the plan dialog → the edge's form in a frame → the
// decision on screen and as the merchant page's DOM events (CONTRACT §2). The shopper plays a
// regular desktop Chrome; headless Chromium's own user agent would count as automated.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { launchBrowser, waitFor } from './support/browser.mjs';
import { SHOPPER_UA, recordPage, events, waitForState, applyWith, setCart, shootLightAndDark } from './support/widget.mjs';

const DEMO_URL = process.env.DEMO_URL;
const EDGE_URL = process.env.EDGE_URL;
const ARTIFACTS = process.env.ARTIFACTS_DIR ?? mkdtempSync(join(tmpdir(), 'paylater-artifacts-'));
mkdirSync(ARTIFACTS, { recursive: true });

let browser;
before(async () => {
  assert.ok(DEMO_URL && EDGE_URL, 'run through `cargo xtask test`, which starts the servers');
  browser = await launchBrowser({ timezoneId: 'Europe/Stockholm', userAgent: SHOPPER_UA, viewport: { width: 1100, height: 900 } });
});
after(async () => { await browser?.close(); });

test('approved: schedule on screen, a verifiable token in paylater:approved, nothing typed reaches the page', async () => {
  const page = await browser.newPage();
  const problems = await recordPage(page);
  await page.goto(DEMO_URL);
  await waitForState(page, 'ready');
  const email = `ada.${Date.now()}@example.com`;
  await applyWith(page, { email });
  await waitForState(page, 'approved', '#paylater', 20_000);

  const approved = (await events(page)).filter((e) => e.name === 'approved');
  assert.equal(approved.length, 1);
  const detail = approved[0].detail;
  assert.equal(approved[0].target, 'paylater');
  assert.deepEqual([detail.plan_id, detail.amount, detail.currency], ['pay_in_4', 12999, 'USD']);
  assert.deepEqual(detail.schedule.map((i) => i.amount), [3252, 3249, 3249, 3249]);
  assert.match(detail.approval_id, /\S+/);
  // The merchant's server can verify the token with the published keys alone.
  const { payload } = await jwtVerify(detail.approval_token, createRemoteJWKSet(new URL(`${EDGE_URL}/v1/keys`)), {
    issuer: 'paylater-edge', audience: 'm_nordic_outdoor',
  });
  assert.deepEqual([payload.sub, payload.amount, payload.currency, payload.plan_id], [detail.approval_id, 12999, 'USD', 'pay_in_4']);

  assert.equal(await page.getByTestId('dialog-title').textContent(), "You're approved");
  assert.equal(await page.getByTestId('approved-installment').count(), 4);
  assert.equal(await page.getByTestId('summary').textContent(), "You're approved");
  assert.equal(await page.getByTestId('announcer').textContent(), "You're approved");
  assert.equal(await page.getByTestId('place-order').isEnabled(), true, 'the demo merchant reacted to the event');
  await shootLightAndDark(page, ARTIFACTS, 'approved');
  // Neither the page's DOM nor any event it received holds what the shopper typed.
  const pageText = await page.evaluate(() => document.documentElement.outerHTML + JSON.stringify(window.__paylaterEvents));
  assert.ok(!pageText.includes(email) && !pageText.includes('1990-05-17'));
  assert.deepEqual(problems, []);
  await page.close();
});

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
  'November', 'December'];

test("a shopper whose date is not UTC's: the dialog, paylater:approved and the token agree on the first due date", async () => {
  // Kiritimati (UTC+14) is a day ahead of UTC from 10:00 UTC; Pago Pago (UTC-11) a day behind
  // until 11:00 UTC. Neither has summer time.
  const ahead = new Date().getUTCHours() >= 10;
  const [timezoneId, offsetHours] = ahead ? ['Pacific/Kiritimati', 14] : ['Pacific/Pago_Pago', -11];
  const local = new Date(Date.now() + offsetHours * 3_600_000).toISOString().slice(0, 10);
  assert.notEqual(local, new Date().toISOString().slice(0, 10), 'the shopper is on another date than UTC');
  const [year, month, day] = local.split('-').map(Number);
  const shown = `${MONTHS[month - 1]} ${day}, ${year}: `;

  const shopper = await launchBrowser({ timezoneId, userAgent: SHOPPER_UA, viewport: { width: 1100, height: 900 } });
  try {
    const page = await shopper.newPage();
    const problems = await recordPage(page);
    await page.goto(DEMO_URL);
    await waitForState(page, 'ready');
    await page.getByTestId('learn-more').click();
    await page.getByTestId('plan-details').waitFor();
    const offered = await page.getByTestId('installment').allTextContents();
    assert.ok(offered[0].startsWith(shown), `the terms start on the shopper's date: ${offered[0]}, wanted ${shown}`);
    await page.keyboard.press('Escape');
    await waitFor(() => page.getByTestId('dialog').evaluate((d) => d.open), (open) => open === false);

    await applyWith(page, { email: `zone.${Date.now()}@example.com` });
    await waitForState(page, 'approved', '#paylater', 20_000);
    const [approved] = (await events(page)).filter((e) => e.name === 'approved');
    assert.equal(approved.detail.schedule[0].due_date, local);
    const rows = await page.getByTestId('approved-installment').allTextContents();
    assert.ok(rows[0].startsWith(shown), `approved on the shopper's date: ${rows[0]}`);
    const { payload } = await jwtVerify(approved.detail.approval_token, createRemoteJWKSet(new URL(`${EDGE_URL}/v1/keys`)), {
      issuer: 'paylater-edge', audience: 'm_nordic_outdoor',
    });
    assert.deepEqual([payload.schedule_start, payload.first_due_date], [local, local]);
    assert.deepEqual(problems, []);
  } finally {
    await shopper.close();
  }
});

test('declined with reasons and the human-review path; a failed session start offers a retry', async () => {
  const page = await browser.newPage();
  const problems = await recordPage(page);
  // No session can be had: not the telemetry's (which the approval form would run in), nor one
  // of the form's own. The dialog says so, and Continue tries again once the network is back.
  const refuseSessions = (route) => route.abort('connectionreset');
  await page.route('**/v1/sessions', refuseSessions);
  await page.goto(DEMO_URL);
  await waitForState(page, 'ready');
  await page.getByTestId('learn-more').click();
  await page.getByTestId('continue').click();
  await waitFor(() => page.getByTestId('start-failed').isVisible(), (v) => v === true);
  await page.unroute('**/v1/sessions', refuseSessions);
  assert.equal(await page.getByTestId('start-failed').textContent(), "We couldn't get a decision. Nothing was charged.");
  await shootLightAndDark(page, ARTIFACTS, 'session-error');
  await page.keyboard.press('Escape');

  await applyWith(page, { email: 'shopper@mailinator.com' });
  await waitForState(page, 'declined', '#paylater', 20_000);
  const declined = (await events(page)).filter((e) => e.name === 'declined');
  assert.equal(declined.length, 1);
  assert.deepEqual(Object.keys(declined[0].detail).sort(), ['approval_id', 'reasons']);
  assert.deepEqual(declined[0].detail.reasons.map((r) => r.code), ['disposable_email']);
  assert.equal(await page.getByTestId('dialog-title').textContent(), "We couldn't approve this purchase");
  assert.deepEqual(await page.getByTestId('reason').allTextContents(), [declined[0].detail.reasons[0].message]);
  assert.match(await page.getByTestId('human-review').textContent(), /^You can ask for a person to review this decision: /);
  // The card kept its reserved height with the decision on it: nothing below moved (counted
  // from the session-error screenshots on, which reset the count).
  assert.equal(await page.evaluate(() => window.__layoutShift), 0);
  await shootLightAndDark(page, ARTIFACTS, 'declined');
  // The console shows the failed session request (a network error the test caused) and nothing else.
  assert.ok(problems.every((p) => /Failed to load resource|net::ERR_CONNECTION_RESET/.test(p)), problems.join('\n'));
  await page.close();
});

test('review: an amount near the credit limit goes to a person, with paylater:review', async () => {
  const page = await browser.newPage();
  const problems = await recordPage(page);
  await page.goto(DEMO_URL);
  await waitForState(page, 'ready');
  await setCart(page, { jacket: 13, socks: 0 }, 129987);
  await applyWith(page, { email: `grace.${Date.now()}@example.com`, dateOfBirth: '1985-12-09' });
  await waitForState(page, 'review', '#paylater', 20_000);
  const review = (await events(page)).filter((e) => e.name === 'review');
  assert.equal(review.length, 1);
  assert.ok(review[0].detail.reasons.length >= 1);
  assert.equal(await page.getByTestId('dialog-title').textContent(), 'Your request is being reviewed');
  assert.equal(await page.getByTestId('order-status').textContent(), 'Your pay later request is being reviewed: we will e-mail you.');
  await shootLightAndDark(page, ARTIFACTS, 'review');
  assert.deepEqual(problems, []);
  await page.close();
});
