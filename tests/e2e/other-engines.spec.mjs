// The demo checkout in the shopper's other engines: Firefox ESR (puppeteer-core over WebDriver
// BiDi) and WebKitGTK, Safari's engine (WebKitWebDriver → MiniBrowser under a private Xvfb).
// The card's terms, the dialog with its pay-in-4 schedule on the shopper's own date, and an
// approval through the edge's framed form, each engine playing a shopper with its own, real
// user agent. Each test starts and stops whatever it launches (support/engines.mjs).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, waitFor } from './support/browser.mjs';
import { waitForState } from './support/widget.mjs';
import { launchFirefox, launchWebKit } from './support/engines.mjs';

const DEMO_URL = process.env.DEMO_URL;
const ARTIFACTS = process.env.ARTIFACTS_DIR ?? mkdtempSync(join(tmpdir(), 'paylater-artifacts-'));
mkdirSync(ARTIFACTS, { recursive: true });

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
  'November', 'December'];

/** A zone whose date is not UTC's right now, so a schedule on the shopper's date proves the
 *  zone reached the browser: Kiritimati (UTC+14) is a day ahead of UTC from 10:00 UTC, Pago
 *  Pago (UTC-11) a day behind until 11:00 UTC; neither has summer time. Its date is written by
 *  hand here, not by any browser's Intl. */
function shopperZone() {
  const ahead = new Date().getUTCHours() >= 10;
  const [timezone, offsetHours] = ahead ? ['Pacific/Kiritimati', 14] : ['Pacific/Pago_Pago', -11];
  const local = new Date(Date.now() + offsetHours * 3_600_000).toISOString().slice(0, 10);
  assert.notEqual(local, new Date().toISOString().slice(0, 10), 'the shopper is on another date than UTC');
  const [year, month, day] = local.split('-').map(Number);
  return { timezone, local, shown: `${MONTHS[month - 1]} ${day}, ${year}` };
}

/** Records every `paylater:*` event that reaches `document` into `window.__paylaterEvents`, and
 *  uncaught errors into `window.__pageErrors` (WebKit's classic WebDriver reports neither; there
 *  this runs once the page has loaded, which is before any of the shopper's steps). */
function recordEvents() {
  if (window.__paylaterEvents) return;
  window.__paylaterEvents = [];
  window.__pageErrors = [];
  for (const name of ['ready', 'plan-selected', 'approved', 'declined', 'review', 'error']) {
    document.addEventListener(`paylater:${name}`, (e) =>
      window.__paylaterEvents.push({ name, target: e.target.id, detail: e.detail }));
  }
  window.addEventListener('error', (e) => window.__pageErrors.push(String(e.message)));
  window.addEventListener('unhandledrejection', (e) => window.__pageErrors.push(`unhandled rejection: ${e.reason}`));
}

// What the shopper's page shows, read inside the widget's open shadow root.
const state = () => document.querySelector('#paylater').getAttribute('data-paylater-state');
const inWidget = (selector) => [...document.querySelector('#paylater').shadowRoot.querySelectorAll(selector)]
  .map((e) => e.textContent);
const dialogOpen = () => document.querySelector('#paylater').shadowRoot.querySelector('[data-testid=dialog]')?.open === true;

// The card's first line, as the Chromium specs see it (terms.spec.mjs asserts its exact text):
// each engine must say the same.
let chromiumSummary;
before(async () => {
  assert.ok(DEMO_URL, 'run through `cargo xtask test`, which starts the servers');
  const { timezone } = shopperZone();
  const chromium = await launchBrowser({ timezoneId: timezone, viewport: { width: 1100, height: 900 } });
  try {
    const page = await chromium.newPage();
    await page.goto(DEMO_URL);
    await waitForState(page, 'ready');
    chromiumSummary = await page.getByTestId('summary').textContent();
  } finally {
    await chromium.close();
  }
});

/** The whole visit in one engine: terms on the card, the plans and their schedule, then an
 *  approval through the framed form. A screenshot lands in ARTIFACTS_DIR when a step fails. */
async function shopIn(launch, slug) {
  const zone = shopperZone();
  const shopper = await launch({ timezone: zone.timezone, initScript: recordEvents });
  let step = 'opening the demo checkout';
  const events = () => shopper.evaluate(() => window.__paylaterEvents);
  try {
    await shopper.goto(DEMO_URL);
    await waitFor(() => shopper.evaluate(state), (s) => s === 'ready', 20_000);
    assert.equal(await shopper.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone), zone.timezone);
    const userAgent = await shopper.evaluate(() => navigator.userAgent);

    step = "the card's terms";
    const [summary] = await shopper.evaluate(inWidget, '[data-testid=summary]');
    assert.equal(summary, chromiumSummary, `${shopper.engine} words the terms as Chromium does`);
    // Chromium's text is the reference (its wording may change); the demo cart's total stays.
    assert.ok(summary.includes('$129.99'), `the demo cart's total: ${summary}`);

    step = 'the plans and their schedule';
    await shopper.clickInShadow('#paylater', '[data-testid=learn-more]');
    await waitFor(() => shopper.evaluate(dialogOpen), (open) => open, 15_000);
    const offered = await waitFor(
      () => shopper.evaluate(inWidget, '[data-testid=plan-details][data-plan-id=pay_in_4] [data-testid=installment]'),
      (rows) => rows.length > 0, 15_000);
    assert.equal(offered.length, 4, `four payments: ${offered.join(' | ')}`);
    assert.ok(offered[0].startsWith(`${zone.shown}: `), `the schedule starts on the shopper's date: ${offered[0]}, wanted ${zone.shown}`);
    assert.deepEqual(offered.map((row) => row.slice(row.lastIndexOf(' ') + 1)), ['$32.52', '$32.49', '$32.49', '$32.49']);

    step = 'choosing pay in 4 and continuing';
    await shopper.clickInShadow('#paylater', '[data-plan-id=pay_in_4] input');
    assert.equal(await shopper.evaluate(() => document.querySelector('#paylater').shadowRoot
      .querySelector('[data-plan-id=pay_in_4] input').checked), true);
    await shopper.clickInShadow('#paylater', '[data-testid=continue]');

    step = 'the framed approval form';
    const email = `engine.${Date.now()}@example.com`;
    await shopper.inFrame('#paylater', '[data-testid=checkout-frame]', async (form) => {
      await form.waitFor('#email');
      // A person takes a few seconds; the scorecard reads anything faster as automated
      // (as fillApprovalForm in support/widget.mjs).
      await new Promise((r) => setTimeout(r, 4_000));
      await form.type('#email', email);
      assert.equal(await form.setValue('#date-of-birth', '1990-05-17'), '1990-05-17');
      await form.select('#country', 'US');
      await form.click('#consent');
      await form.click('#submit');
    });

    step = 'the decision';
    // Any decision ends the wait; one other than approved fails with the edge's reasons.
    const decided = await waitFor(() => shopper.evaluate(state), (s) => !['ready', 'loading'].includes(s), 20_000);
    if (decided !== 'approved') {
      assert.fail(`${decided}, not approved (user agent ${userAgent}): ${JSON.stringify(await events())}`);
    }
    const approved = (await events()).filter((e) => e.name === 'approved');
    assert.equal(approved.length, 1);
    const { target, detail } = approved[0];
    assert.equal(target, 'paylater');
    assert.deepEqual([detail.plan_id, detail.amount, detail.currency], ['pay_in_4', 12999, 'USD']);
    assert.deepEqual(detail.schedule.map((i) => i.amount), [3252, 3249, 3249, 3249]);
    assert.equal(detail.schedule[0].due_date, zone.local);
    assert.match(detail.approval_id, /\S+/);
    assert.match(detail.approval_token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const rows = await shopper.evaluate(inWidget, '[data-testid=approved-installment]');
    assert.equal(rows.length, 4);
    assert.ok(rows[0].startsWith(`${zone.shown}: `), `approved on the shopper's date: ${rows[0]}`);
    // What the shopper typed stayed in the edge's frame.
    assert.equal(await shopper.evaluate((typed) => document.documentElement.outerHTML.includes(typed), email), false);
    assert.deepEqual(await shopper.evaluate(() => window.__pageErrors), [], 'no uncaught errors on the page');
    assert.deepEqual(shopper.problems, [], `${shopper.engine} reported errors`);
    await shopper.screenshot(join(ARTIFACTS, `${slug}-approved.png`));
  } catch (e) {
    const path = join(ARTIFACTS, `${slug}-failed.png`);
    await shopper.screenshot(path).catch(() => {});
    // Some errors (puppeteer's among them) carry what went wrong as their cause.
    const cause = e.cause ? ` (${e.cause.message ?? e.cause})` : '';
    e.message = `${shopper.engine}, ${step}: ${e.message}${cause} (screenshot: ${path})`;
    throw e;
  } finally {
    await shopper.close();
  }
}

test('Firefox ESR: terms, the schedule on the shopper\'s date, approval through the framed form', { timeout: 180_000 }, () =>
  shopIn(launchFirefox, 'firefox'));

test('WebKitGTK: terms, the schedule on the shopper\'s date, approval through the framed form', { timeout: 180_000 }, () =>
  shopIn(launchWebKit, 'webkit'));
