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
import {
  SHOPPER_UA, recordPage, events, waitForState, applyWith, setCart, shootLightAndDark, fillApprovalForm, focusPath, waitForFocus,
  layoutShift,
} from './support/widget.mjs';

const DEMO_URL = process.env.DEMO_URL;
const EDGE_URL = process.env.EDGE_URL;
const ARTIFACTS = process.env.ARTIFACTS_DIR ?? mkdtempSync(join(tmpdir(), 'paylater-artifacts-'));
mkdirSync(ARTIFACTS, { recursive: true });

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
  'November', 'December'];

/** `2026-01-31` → `January 31, 2026`, as en-US writes a date: by hand, not by Intl. */
const usDate = (iso) => {
  const [year, month, day] = iso.split('-').map(Number);
  return `${MONTHS[month - 1]} ${day}, ${year}`;
};

/** `iso` + `days`, by UTC calendar arithmetic. */
const addDays = (iso, days) => new Date(Date.parse(`${iso}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

const isDialogOpen = (page, root = '#paylater') => page.locator(`${root} [data-testid=dialog]`).evaluate((d) => d.open);

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
  // The decision step: focus on its heading.
  await waitForFocus(page, 'dialog:dialog-title');
  // The approved rows: the edge's dates (every 2 weeks from the shopper's date, which is the UTC
  // date or a day off it), written out by hand, and the amounts with the remainder first.
  const start = detail.schedule[0].due_date;
  const utcToday = new Date().toISOString().slice(0, 10);
  assert.ok([addDays(utcToday, -1), utcToday, addDays(utcToday, 1)].includes(start), `${start} vs ${utcToday}`);
  assert.deepEqual(detail.schedule.map((i) => i.due_date), [start, addDays(start, 14), addDays(start, 28), addDays(start, 42)]);
  assert.deepEqual(await page.getByTestId('approved-installment').allTextContents(), [
    `${usDate(start)}: $32.52`, `${usDate(addDays(start, 14))}: $32.49`, `${usDate(addDays(start, 28))}: $32.49`,
    `${usDate(addDays(start, 42))}: $32.49`,
  ]);
  assert.equal(await page.getByTestId('summary').textContent(), "You're approved");
  assert.equal(await page.getByTestId('announcer').textContent(), "You're approved");
  assert.equal(await page.getByTestId('place-order').isEnabled(), true, 'the demo merchant reacted to the event');
  await shootLightAndDark(page, ARTIFACTS, 'approved');
  // Neither the page's DOM nor any event it received holds what the shopper typed.
  const pageText = await page.evaluate(() => document.documentElement.outerHTML + JSON.stringify(window.__paylaterEvents));
  assert.ok(!pageText.includes(email) && !pageText.includes('1990-05-17'));
  // Done closes the dialog; focus goes back to the card's button.
  await page.getByTestId('done').click();
  await waitFor(() => isDialogOpen(page), (open) => open === false);
  await waitForFocus(page, 'card:learn-more');
  assert.deepEqual(problems, []);
  await page.close();
});

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
  // The error is where focus goes, so it is read first; Continue is the next stop.
  await waitForFocus(page, 'dialog:start-failed');
  await page.keyboard.press('Tab');
  assert.equal(await focusPath(page), 'dialog:continue');
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
  const [shift, moved] = await layoutShift(page);
  assert.equal(shift, 0, moved);
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

// An approved-looking decision in exactly the shape the checkout page sends: were it accepted,
// the widget would report it (its id is `ap_forged`).
const FORGED = {
  source: 'paylater-checkout',
  type: 'decision',
  answer: {
    approval_id: 'ap_forged', decision: 'approved', reasons: [], plan_id: 'pay_in_4',
    schedule: [
      { n: 1, due_date: '2026-01-31', amount: 3252 }, { n: 2, due_date: '2026-02-14', amount: 3249 },
      { n: 3, due_date: '2026-02-28', amount: 3249 }, { n: 4, due_date: '2026-03-14', amount: 3249 },
    ],
    approval_token: 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhcF9mb3JnZWQifQ.c2ln', expires_at: '2099-01-01T00:00:00Z',
  },
};

test('a decision forged by the merchant page\'s own script is ignored; the real one still counts', async () => {
  const page = await browser.newPage();
  const problems = await recordPage(page);
  await page.goto(DEMO_URL);
  await waitForState(page, 'ready');
  await page.getByTestId('learn-more').click();
  await page.getByTestId('continue').click();
  await fillApprovalForm(page, {
    email: `forged.${Date.now()}@example.com`,
    beforeFilling: async () => {
      // The demo page reaches the edge through its own origin (trunk's proxy), so these messages
      // even come from the origin the widget expects: only "from this very frame" tells them apart.
      await page.evaluate((forged) => {
        // 1. The page posts to its own window, where the widget listens.
        window.postMessage(forged, '*');
        window.postMessage(forged, location.origin);
        // 2. A frame the page made posts to the widget's window, its parent.
        const frame = document.createElement('iframe');
        frame.srcdoc = `<script>parent.postMessage(${JSON.stringify(forged)}, '*')</script>`;
        document.body.appendChild(frame);
      }, FORGED);
      await page.waitForTimeout(1_000);
      assert.equal(await page.locator('#paylater').getAttribute('data-paylater-state'), 'ready');
      assert.deepEqual((await events(page)).filter((e) => e.name !== 'ready'), []);
      assert.equal(await page.getByTestId('dialog-title').textContent(), 'Your details for Pay in 4');
      assert.equal(await page.getByTestId('summary').textContent(), '$32.52 today, then 3 × $32.49 every 2 weeks · 0% APR · Total $129.99');
    },
  });
  await waitForState(page, 'approved', '#paylater', 20_000);
  const decided = (await events(page)).filter((e) => e.name !== 'ready');
  assert.deepEqual(decided.map((e) => e.name), ['approved']);
  assert.notEqual(decided[0].detail.approval_id, 'ap_forged');
  const { payload } = await jwtVerify(decided[0].detail.approval_token, createRemoteJWKSet(new URL(`${EDGE_URL}/v1/keys`)), {
    issuer: 'paylater-edge', audience: 'm_nordic_outdoor',
  });
  assert.equal(payload.sub, decided[0].detail.approval_id);
  assert.deepEqual(problems, []);
  await page.close();
});

test('closing the dialog while the form is submitting still delivers the decision, and never reopens it', async () => {
  const page = await browser.newPage();
  const problems = await recordPage(page);
  // The approval's answer is held on the wire until the dialog is closed (the request reaches
  // the edge only then: nothing here is answered by the test).
  let release;
  let held = new Promise((resolve) => { release = resolve; });
  await page.route('**/v1/approvals', async (route) => { await held; await route.continue(); });
  await page.goto(DEMO_URL);
  await waitForState(page, 'ready');

  // 1. Closed with the dialog's own button while submitting: the dialog stays closed, the
  //    decision reaches the page as paylater:approved and the card shows it.
  await applyWith(page, { email: `closer.${Date.now()}@example.com` });
  await waitFor(() => page.locator('#paylater .pl-frame-box').getAttribute('aria-busy'), (busy) => busy === 'true');
  await page.getByTestId('close').click();
  await waitFor(() => isDialogOpen(page), (open) => open === false);
  await waitForFocus(page, 'card:learn-more');
  assert.equal(await page.locator('#paylater').getAttribute('data-paylater-state'), 'ready');
  release();
  await waitForState(page, 'approved', '#paylater', 20_000);
  const approved = (await events(page)).filter((e) => e.name === 'approved');
  assert.equal(approved.length, 1);
  assert.deepEqual([approved[0].detail.plan_id, approved[0].detail.amount, approved[0].detail.schedule.map((i) => i.amount)],
    ['pay_in_4', 12999, [3252, 3249, 3249, 3249]]);
  assert.equal(await page.getByTestId('summary').textContent(), "You're approved");
  await page.waitForTimeout(500);
  assert.equal(await isDialogOpen(page), false, 'the decision did not open the dialog again');
  assert.equal(await focusPath(page), 'card:learn-more', 'nor took the focus');

  // 2. Escape inside the framed form while submitting (the form tells the dialog), then Learn
  //    more while the answer is still on its way: the same form is back, and its decision shows.
  held = new Promise((resolve) => { release = resolve; });
  await applyWith(page, { email: 'shopper@mailinator.com' });
  await waitFor(() => page.locator('#paylater .pl-frame-box').getAttribute('aria-busy'), (busy) => busy === 'true');
  await page.frameLocator('#paylater [data-testid=checkout-frame]').locator('#email').press('Escape');
  await waitFor(() => isDialogOpen(page), (open) => open === false);
  await page.getByTestId('learn-more').click();
  await waitFor(() => isDialogOpen(page), (open) => open === true);
  assert.equal(await page.getByTestId('dialog-title').textContent(), 'Your details for Pay in 4');
  assert.equal(await page.locator('#paylater .pl-frame-box').getAttribute('aria-busy'), 'true');
  release();
  await waitForState(page, 'declined', '#paylater', 20_000);
  assert.equal(await page.getByTestId('dialog-title').textContent(), "We couldn't approve this purchase");
  await waitForFocus(page, 'dialog:dialog-title');
  assert.deepEqual((await events(page)).filter((e) => e.name !== 'ready').map((e) => e.name), ['approved', 'declined']);
  assert.deepEqual(problems, []);
  await page.close();
});

/** The page's own script changes the amount on the tag (the modal dialog keeps the shopper from
 *  the cart meanwhile, not the page's scripts), and the terms for it arrive. */
async function setAmount(page, amount) {
  await page.locator('#paylater-tag').evaluate((tag, value) => tag.setAttribute('data-amount', String(value)), amount);
  await waitFor(() => events(page), (e) => e.some((x) => x.name === 'ready' && x.detail.plans[0].total === amount));
}

test('an amount change after Continue closes the flow and never reopens it with the old amount', async () => {
  const page = await browser.newPage();
  const problems = await recordPage(page);
  // 1. While the approval's session is being made: every session answer is held on the wire
  //    until the cart has changed, then goes through to the page. The telemetry's is held too,
  //    so the form cannot run in it and asks for one of its own.
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  const asked = [];
  await page.route('**/v1/sessions', async (route) => {
    asked.push(JSON.parse(route.request().postData()).amount);
    await held;
    await route.continue();
  });
  await page.goto(DEMO_URL);
  await waitForState(page, 'ready');
  await waitFor(() => asked.length, (n) => n === 1); // the telemetry's
  await page.getByTestId('learn-more').click();
  await page.getByTestId('continue').click();
  await waitFor(() => asked.length, (n) => n === 2);
  assert.deepEqual(asked, [12999, 12999]);
  await setAmount(page, 22998);
  await waitFor(() => isDialogOpen(page), (open) => open === false);
  const answered = page.waitForResponse((r) => r.url().endsWith('/v1/sessions') && r.request().postData().includes('"amount":12999'));
  release(); // from here the route passes every session request straight on
  assert.equal((await answered).status(), 201);
  await page.waitForTimeout(1_000);
  assert.equal(await isDialogOpen(page), false, 'the old session did not reopen the flow');
  assert.equal(await page.getByTestId('checkout-frame').count(), 0);

  // Learn more again: the new amount's plans, not the old amount's form.
  await page.getByTestId('learn-more').click();
  await page.getByTestId('plan-details').waitFor();
  assert.equal(await page.getByTestId('dialog-title').textContent(), 'Choose how to pay');
  assert.deepEqual((await page.getByTestId('offer-summary').allTextContents())[0],
    '$57.51 today, then 3 × $57.49 every 2 weeks · 0% APR · Total $229.98');

  // 2. With the form on screen: the cart changes, the form goes and does not come back.
  await page.getByTestId('continue').click();
  await page.frameLocator('#paylater [data-testid=checkout-frame]').locator('#email').waitFor();
  await setAmount(page, 32997);
  await waitFor(() => isDialogOpen(page), (open) => open === false);
  await page.waitForTimeout(500);
  assert.equal(await isDialogOpen(page), false);
  assert.equal(await page.getByTestId('checkout-frame').count(), 0);
  await page.getByTestId('learn-more').click();
  await page.getByTestId('plan-details').waitFor();
  assert.deepEqual((await page.getByTestId('offer-summary').allTextContents())[0],
    '$82.50 today, then 3 × $82.49 every 2 weeks · 0% APR · Total $329.97');
  assert.deepEqual((await events(page)).filter((e) => !['ready', 'plan-selected'].includes(e.name)), []);
  assert.deepEqual(problems, []);
  await page.close();
});
