// Funnel telemetry from the widget to the edge's log sink: order by seq, the last click before
// the tab closes, and consent. The sink is the local OTLP receiver `cargo xtask test` starts
// (SINK_URL answers its records).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { launchBrowser, waitFor } from './support/browser.mjs';
import { SHOPPER_UA, recordPage, waitForState, fillApprovalForm } from './support/widget.mjs';

const DEMO_URL = process.env.DEMO_URL;
const EDGE_URL = process.env.EDGE_URL;
const SINK_URL = process.env.SINK_URL;

let browser;
let shop;
let shopUrl;
before(async () => {
  assert.ok(DEMO_URL && EDGE_URL && SINK_URL, 'run through `cargo xtask test`, which starts the servers and the sink');
  // A merchant page for a key whose config says telemetry needs consent.
  shop = createServer((_, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en-US"><head><meta charset="utf-8"><title>Consent shop</title></head><body>
<main><h1>Consent shop</h1><div id="paylater" style="min-height:176px"></div>
<script async src="${EDGE_URL}/v1/widget.js" data-key="pk_test_consent" data-amount="12999" data-currency="USD"
  data-target="#paylater" data-debug></script></main></body></html>`);
  });
  await new Promise((resolve) => shop.listen(0, '127.0.0.1', resolve));
  shopUrl = `http://127.0.0.1:${shop.address().port}/`;
  browser = await launchBrowser({ userAgent: SHOPPER_UA, viewport: { width: 1100, height: 900 } });
});
after(async () => {
  await browser?.close();
  await new Promise((resolve) => (shop ? shop.close(resolve) : resolve()));
});

/** The sink's records as `{ id, name, seq, session }`. */
async function sinkEvents() {
  const records = await (await fetch(SINK_URL)).json();
  const attr = (r, key) => r.attributes.find((a) => a.key === key)?.value;
  return records.map((r) => ({
    id: attr(r, 'event.id')?.stringValue,
    name: attr(r, 'event.name')?.stringValue,
    seq: Number(attr(r, 'event.seq')?.intValue ?? attr(r, 'event.seq')?.stringValue),
    session: attr(r, 'session.id')?.stringValue,
    props: Object.fromEntries((r.body?.kvlistValue?.values ?? []).map((kv) => [kv.key, kv.value])),
  }));
}

/** The sink's raw OTLP log records. */
const sinkRecords = async () => (await fetch(SINK_URL)).json();
/** One attribute's value of a raw record. */
const attributeOf = (record, key) => record.attributes.find((a) => a.key === key)?.value;

/** The sink's records of `ids`, once there is at least one per id (at most `timeoutMs`). */
function arrivalsOf(ids, timeoutMs) {
  return waitFor(async () => (await sinkEvents()).filter((e) => ids.includes(e.id)), (f) => f.length >= ids.length, timeoutMs);
}

/** Opens the funnel's first steps in `page`: terms opened, a plan picked, terms closed. */
async function browseTerms(page) {
  await page.getByTestId('learn-more').click();
  await page.locator('[data-plan-id=pay_in_30] input').check();
  await page.getByTestId('close').click();
}

/** Records what the page's telemetry client queues (`paylater:telemetry`, with `data-debug`)
 *  in `window.__queued`. */
async function recordQueued(page) {
  await page.addInitScript(() => {
    window.__queued = [];
    document.addEventListener('paylater:telemetry', (e) => {
      if (e.detail.event === 'queued') window.__queued.push(e.detail.detail);
    });
  });
}

/** Turns on `data-debug` on the demo's tag before the loader reads it, and records what the
 *  client queues (`paylater:telemetry`). */
async function debugPage() {
  const page = await browser.newPage();
  const problems = await recordPage(page);
  await page.addInitScript(() => {
    window.__queued = [];
    document.addEventListener('paylater:telemetry', (e) => {
      if (e.detail.event === 'queued') window.__queued.push(e.detail.detail);
    });
    new MutationObserver((records) => {
      for (const r of records) for (const n of r.addedNodes) if (n.id === 'paylater-tag') n.setAttribute('data-debug', '');
    }).observe(document, { childList: true, subtree: true });
  });
  return { page, problems };
}

test('a whole funnel arrives at the sink once per event, in seq order', async () => {
  const { page, problems } = await debugPage();
  await page.goto(DEMO_URL);
  await waitForState(page, 'ready');
  await page.waitForTimeout(1_300); // in view for a second: widget_viewed
  await page.getByTestId('learn-more').click();
  await page.locator('[data-plan-id=pay_in_30] input').check();
  await page.getByTestId('continue').click();
  await fillApprovalForm(page, { email: `funnel.${Date.now()}@example.com` });
  await waitForState(page, 'approved', '#paylater', 20_000);
  await page.getByTestId('done').click();
  const queued = await waitFor(() => page.evaluate(() => window.__queued), (q) => q.some((e) => e.name === 'terms_closed'));
  assert.deepEqual(queued.map((e) => e.name), [
    'widget_loaded', 'widget_viewed', 'terms_opened', 'plan_selected', 'approval_started',
    'approval_submitted', 'approval_approved', 'terms_closed',
  ]);
  const ids = queued.map((e) => e.id);
  assert.ok(ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)), ids.join());
  const arrived = await waitFor(async () => (await sinkEvents()).filter((e) => ids.includes(e.id)),
    (found) => found.length >= ids.length, 20_000);
  assert.equal(arrived.length, ids.length, 'each event once');
  assert.deepEqual([...arrived].sort((a, b) => a.seq - b.seq).map((e) => e.name), queued.map((e) => e.name));
  assert.deepEqual(arrived.map((e) => e.seq).sort((a, b) => a - b), queued.map((e) => e.seq));
  assert.equal(new Set(arrived.map((e) => e.session)).size, 1, 'one session');
  // The approval ran in the funnel's session: its decision record is that session's, and the
  // edge timed the form from the session's approval_started (the helper waits 3.1 s to type).
  const decision = await waitFor(async () => (await sinkRecords()).find((r) =>
    attributeOf(r, 'event.name')?.stringValue === 'approval_decision' &&
    attributeOf(r, 'session.id')?.stringValue === arrived[0].session), (r) => r !== undefined, 20_000);
  assert.equal(attributeOf(decision, 'decision.outcome')?.stringValue, 'approved');
  const formFill = Number(attributeOf(decision, 'decision.form_fill_ms')?.intValue);
  assert.ok(formFill >= 3_000 && formFill < 30_000, `form_fill_ms ${formFill}`);
  assert.deepEqual(problems, []);
  await page.close();
});

test('the tab closed right after a click: that event still arrives', async () => {
  const { page } = await debugPage();
  await page.goto(DEMO_URL);
  await waitForState(page, 'ready');
  await waitFor(() => page.evaluate(() => window.__queued), (q) => q.some((e) => e.name === 'widget_loaded'));
  await page.getByTestId('learn-more').click();
  await page.locator('[data-plan-id=pay_in_30] input').check();
  const picked = await waitFor(() => page.evaluate(() => window.__queued.find((e) => e.name === 'plan_selected')), (e) => e !== undefined);
  await page.close({ runBeforeUnload: true });
  const arrived = await waitFor(async () => (await sinkEvents()).filter((e) => e.id === picked.id), (found) => found.length === 1, 20_000);
  assert.equal(arrived[0].name, 'plan_selected');
});

test('a click and the page hiding in the same task: the handler only noted the event, pagehide sends it', async () => {
  const { page, problems } = await debugPage();
  await page.goto(DEMO_URL);
  await waitForState(page, 'ready');
  await waitFor(() => page.evaluate(() => window.__queued), (q) => q.some((e) => e.name === 'widget_loaded'));
  await page.getByTestId('learn-more').click();
  await waitFor(() => page.evaluate(() => window.__queued), (q) => q.some((e) => e.name === 'terms_opened'));
  // One task: the pick's handlers run, then `pagehide`, with no turn of the event loop between.
  const seen = await page.evaluate(() => {
    const input = document.querySelector('#paylater').shadowRoot.querySelector('[data-plan-id=pay_in_30] input');
    const picked = () => window.__queued.filter((e) => e.name === 'plan_selected').length;
    input.click();
    const afterClick = picked();
    window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }));
    return { checked: input.checked, afterClick, afterPagehide: picked() };
  });
  assert.deepEqual(seen, { checked: true, afterClick: 0, afterPagehide: 1 });
  const picked = await page.evaluate(() => window.__queued.find((e) => e.name === 'plan_selected'));
  const [arrived] = await arrivalsOf([picked.id], 20_000);
  assert.deepEqual([arrived.name, arrived.seq, arrived.props.plan_id?.stringValue], ['plan_selected', picked.seq, 'pay_in_30']);
  assert.deepEqual(problems, []);
  await page.close();
});

test("an event's detail whose getter calls Paylater: read outside the client's state, no exception", async () => {
  const { page, problems } = await debugPage();
  await page.goto(DEMO_URL);
  await waitForState(page, 'ready');
  await waitFor(() => page.evaluate(() => window.__queued), (q) => q.some((e) => e.name === 'widget_loaded'));
  await page.evaluate(() => {
    const detail = { get plan_id() { window.Paylater.consent(true); return 'pay_in_4'; } };
    document.querySelector('#paylater').dispatchEvent(new CustomEvent('paylater:plan-selected', { detail }));
  });
  const picked = await waitFor(() => page.evaluate(() => window.__queued.find((e) => e.name === 'plan_selected')), (e) => e !== undefined);
  const [arrived] = await arrivalsOf([picked.id], 20_000);
  assert.equal(arrived.props.plan_id?.stringValue, 'pay_in_4');
  assert.deepEqual(problems, []);
  await page.close();
});

test('consent mode: nothing leaves before Paylater.consent(true), then everything does', async () => {
  const page = await browser.newPage();
  const sent = [];
  page.on('request', (r) => { if (/\/v1\/(events|sessions)$/.test(r.url())) sent.push(r.url()); });
  await recordQueued(page);
  await page.goto(shopUrl);
  await waitForState(page, 'ready');
  await page.getByTestId('learn-more').click();
  await page.getByTestId('close').click();
  await waitFor(() => page.evaluate(() => window.__queued.map((e) => e.name)), (n) => n.includes('terms_closed'));
  await page.waitForTimeout(2_500); // past the 2 s batch timer
  assert.deepEqual(sent, [], 'no session and no events before consent');
  const stored = await page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith('paylater:outbox:')));
  assert.deepEqual(stored, [], 'nothing stored either');
  await page.evaluate(() => window.Paylater.consent(true));
  const ids = (await page.evaluate(() => window.__queued)).map((e) => e.id);
  const arrived = await waitFor(async () => (await sinkEvents()).filter((e) => ids.includes(e.id)), (f) => f.length === ids.length, 20_000);
  const queuedNames = (await page.evaluate(() => window.__queued)).map((e) => e.name);
  assert.ok(queuedNames.includes('widget_loaded') && queuedNames.includes('terms_opened'), queuedNames.join());
  assert.deepEqual(arrived.map((e) => e.name).sort(), [...queuedNames].sort());
  await page.close();
});

/** Answers the page's first `POST /v1/events` with 429 and `Retry-After: seconds`, passes the
 *  rest on; returns the times of every attempt. */
async function refuseFirstBatch(page, seconds) {
  const attempts = [];
  await page.route('**/v1/events', async (route) => {
    attempts.push(Date.now());
    if (attempts.length === 1) {
      return route.fulfill({ status: 429, headers: { 'Retry-After': String(seconds), 'Access-Control-Allow-Origin': '*' },
        contentType: 'application/json', body: '{"error":{"code":"rate_limited","message":"slow down","field":null}}' });
    }
    return route.continue();
  });
  return attempts;
}

test('a 429 from the edge is honoured: the batch waits out Retry-After, then arrives once', async () => {
  const { page } = await debugPage();
  const attempts = await refuseFirstBatch(page, 3);
  await page.goto(DEMO_URL);
  await waitForState(page, 'ready');
  await page.getByTestId('learn-more').click();
  await page.getByTestId('close').click();
  const ids = await waitFor(() => page.evaluate(() => window.__queued.map((e) => e.id)), (q) => q.length >= 3);
  const arrived = await arrivalsOf(ids, 20_000);
  assert.equal(arrived.length, ids.length, 'each once');
  assert.ok(attempts.length >= 2, `${attempts.length} attempts`);
  assert.ok(attempts[1] - attempts[0] >= 3_000, `retried after ${attempts[1] - attempts[0]} ms, Retry-After was 3 s`);
  await page.close();
});

test('offline for a while, then online: every event arrives, once', async () => {
  const { page } = await debugPage();
  await page.goto(DEMO_URL);
  await waitForState(page, 'ready');
  await waitFor(() => page.evaluate(() => window.__queued), (q) => q.some((e) => e.name === 'widget_loaded'));
  await browser.setOffline(true);
  await browseTerms(page);
  await page.waitForTimeout(4_000); // batches fail and back off meanwhile
  await browser.setOffline(false);
  const ids = await page.evaluate(() => window.__queued.map((e) => e.id));
  const arrived = await arrivalsOf(ids, 30_000);
  assert.equal(arrived.length, ids.length, 'each once');
  const names = arrived.map((e) => e.name);
  for (const name of ['widget_loaded', 'terms_opened', 'plan_selected', 'terms_closed']) assert.ok(names.includes(name), names.join());
  await page.close();
});

test('a reload mid-queue loses nothing and duplicates nothing at the sink', async () => {
  const { page } = await debugPage();
  await page.goto(DEMO_URL);
  await waitForState(page, 'ready');
  await browseTerms(page);
  const before = await page.evaluate(() => window.__queued.map((e) => e.id));
  // Within the 2 s batch window: the events are still queued when the page goes.
  await page.reload();
  await waitForState(page, 'ready');
  const after = await waitFor(() => page.evaluate(() => window.__queued.map((e) => e.id)), (q) => q.length >= 1);
  const ids = [...before, ...after];
  const arrived = await arrivalsOf(ids, 20_000);
  await page.waitForTimeout(3_000); // a resend would arrive by now
  const settled = (await sinkEvents()).filter((e) => ids.includes(e.id));
  assert.equal(settled.length, ids.length, `each id once: ${settled.length} records for ${ids.length} ids`);
  assert.equal(new Set(settled.map((e) => e.id)).size, ids.length);
  assert.equal(arrived.length, ids.length);
  await page.close();
});

test('Global Privacy Control: events carry their required props only', async () => {
  const { page } = await debugPage();
  await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }));
  await page.goto(DEMO_URL);
  await waitForState(page, 'ready');
  await page.getByTestId('learn-more').click();
  await page.locator('[data-plan-id=pay_in_30] input').check();
  const queued = await waitFor(() => page.evaluate(() => window.__queued),
    (q) => q.some((e) => e.name === 'plan_selected') && q.some((e) => e.name === 'widget_loaded'));
  const ids = queued.map((e) => e.id);
  const arrived = await arrivalsOf(ids, 20_000);
  const byName = Object.fromEntries(arrived.map((e) => [e.name, Object.keys(e.props).sort()]));
  assert.deepEqual(byName.widget_loaded, [], 'no load time, locale or amount');
  assert.deepEqual(byName.plan_selected, ['plan_id'], 'no amount or currency');
  await page.close();
});

test('interest without a decision, then the page closes: session_abandoned arrives', async () => {
  const { page } = await debugPage();
  await page.goto(DEMO_URL);
  await waitForState(page, 'ready');
  await page.getByTestId('learn-more').click();
  const opened = await waitFor(() => page.evaluate(() => window.__queued.find((e) => e.name === 'terms_opened')), (e) => e !== undefined);
  // The page has its telemetry session once an event of it has arrived. Closed before that, its
  // events could not be sent (no session token yet) and would wait in storage for the next
  // page view instead.
  const [arrivedOpened] = await arrivalsOf([opened.id], 20_000);
  await page.close({ runBeforeUnload: true });
  const abandoned = await waitFor(async () => (await sinkEvents()).find((e) =>
    e.session === arrivedOpened.session && e.name === 'session_abandoned' && e.seq > opened.seq),
  (e) => e !== undefined, 20_000);
  assert.equal(abandoned.props.last_step?.stringValue, 'terms_opened');
  assert.ok(Number(abandoned.props.dwell_ms?.intValue) > 0);
});

test('terms that fail before the dialog bundle runs: widget_error still arrives, with its code', async () => {
  const { page } = await debugPage();
  // The first terms request fails (the loader's prefetch); Try again goes through.
  let refused = 0;
  await page.route('**/v1/offers?**', (route) => (refused++ === 0 ? route.abort('connectionrefused') : route.continue()));
  const dialogLoaded = page.waitForResponse((r) => r.url().includes('paylater_widget_bg.wasm'));
  await page.goto(DEMO_URL);
  await waitForState(page, 'error');
  // The loader heard the error before the telemetry existed, and hands it over.
  await dialogLoaded;
  const queued = await waitFor(() => page.evaluate(() => window.__queued), (q) => q.some((e) => e.name === 'widget_error'));
  const error = queued.find((e) => e.name === 'widget_error');
  assert.equal(queued.filter((e) => e.name === 'widget_error').length, 1, 'reported once');
  await page.getByTestId('retry').click();
  await waitForState(page, 'ready');
  const [arrived] = await waitFor(async () => (await sinkEvents()).filter((e) => e.id === error.id), (f) => f.length === 1, 20_000);
  assert.equal(arrived.name, 'widget_error');
  assert.equal(arrived.props.code?.stringValue, 'network_error');
  await page.close();
});

test('two tabs open at once: each has its own session and seq, nothing is lost or doubled', async () => {
  const tabs = [await debugPage(), await debugPage()];
  for (const { page } of tabs) {
    await page.goto(DEMO_URL);
    await waitForState(page, 'ready');
  }
  // Steps interleaved between the tabs, as a shopper comparing them would.
  for (let round = 0; round < 2; round++) for (const { page } of tabs) await browseTerms(page);
  const queued = await Promise.all(tabs.map(({ page }) => waitFor(() => page.evaluate(() => window.__queued),
    (q) => q.filter((e) => e.name === 'terms_closed').length === 2)));
  const ids = queued.flat().map((e) => e.id);
  await arrivalsOf(ids, 20_000);
  await tabs[0].page.waitForTimeout(2_500); // a resend would arrive by now
  const arrived = (await sinkEvents()).filter((e) => ids.includes(e.id));
  assert.equal(arrived.length, ids.length, `each id once: ${arrived.length} records for ${ids.length} ids`);
  const sessions = queued.map((q) => {
    assert.deepEqual(q.map((e) => e.seq), q.map((_, i) => i), 'each tab counts seq from 0, without gaps');
    const mine = arrived.filter((e) => q.some((x) => x.id === e.id));
    assert.equal(new Set(mine.map((e) => e.session)).size, 1, 'one session per tab');
    assert.deepEqual(mine.map((e) => e.seq).sort((a, b) => a - b), q.map((e) => e.seq));
    return mine[0].session;
  });
  assert.notEqual(sessions[0], sessions[1], 'the tabs have sessions of their own');
  for (const { page } of tabs) await page.close();
});

test('tabs closed while offline: the next page view sends what each left, once, under its session', async () => {
  const tabs = [await debugPage(), await debugPage()];
  for (const { page } of tabs) {
    await page.goto(DEMO_URL);
    await waitForState(page, 'ready');
  }
  // Each tab has its session before the network goes: its widget_loaded arrived.
  const loaded = await Promise.all(tabs.map(({ page }) => waitFor(() => page.evaluate(() => window.__queued),
    (q) => q.some((e) => e.name === 'widget_loaded'))));
  const firstIds = loaded.map((q) => q.find((e) => e.name === 'widget_loaded').id);
  const first = await waitFor(async () => (await sinkEvents()).filter((e) => firstIds.includes(e.id)), (f) => f.length === 2, 20_000);
  const sessionOf = firstIds.map((id) => first.find((e) => e.id === id).session);
  await browser.setOffline(true);
  const queued = [];
  for (const { page } of tabs) {
    await browseTerms(page);
    queued.push(await waitFor(() => page.evaluate(() => window.__queued), (q) => q.some((e) => e.name === 'terms_closed')));
  }
  // The next page view's tab is open already: a persistent context may end with its last page.
  const { page: next } = await debugPage();
  // Closing while offline: the exit requests fail, and each tab stores what it holds. A close
  // that runs the unload handlers returns before the page is gone: wait for it.
  const closed = tabs.map(({ page }) => new Promise((resolve) => page.once('close', resolve)));
  for (const { page } of tabs) await page.close({ runBeforeUnload: true });
  await Promise.all(closed);
  await browser.setOffline(false);
  await next.goto(DEMO_URL);
  await waitForState(next, 'ready');
  const ids = queued.flat().map((e) => e.id);
  await arrivalsOf(ids, 30_000);
  await next.waitForTimeout(2_500); // a resend would arrive by now
  const records = await sinkEvents();
  const arrived = records.filter((e) => ids.includes(e.id));
  assert.equal(arrived.length, ids.length, `each id once: ${arrived.length} records for ${ids.length} ids`);
  queued.forEach((q, tab) => {
    const mine = arrived.filter((e) => q.some((x) => x.id === e.id));
    assert.deepEqual([...new Set(mine.map((e) => e.session))], [sessionOf[tab]], `tab ${tab}'s events under its own session`);
    // The step the tab was closed on: session_abandoned, recorded at pagehide, only ever stored.
    const abandoned = records.filter((e) => e.session === sessionOf[tab] && e.name === 'session_abandoned');
    assert.equal(abandoned.length, 1, `tab ${tab}: one session_abandoned`);
    assert.ok(abandoned[0].seq > Math.max(...q.map((e) => e.seq)), 'after the steps before it');
    const seqs = records.filter((e) => e.session === sessionOf[tab]).map((e) => e.seq).sort((a, b) => a - b);
    assert.deepEqual(seqs, seqs.map((_, i) => i), `tab ${tab}: its session's seqs, each once, without gaps`);
  });
  await next.close();
});

/** Every `paylater:` key in the page's storage. */
const storedKeys = (page) => page.evaluate(() => [localStorage, sessionStorage]
  .flatMap((storage) => Object.keys(storage)).filter((key) => key.startsWith('paylater:')));

/** Makes the page's `document.visibilityState` read `state` and tells the page, as a switch of
 *  tabs does (headless Chromium never hides a page on its own). */
const setVisibility = (page, state) => page.evaluate((state) => {
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
  document.dispatchEvent(new Event('visibilitychange'));
}, state);

test('consent given, withdrawn, a plan picked, given again: that pick never leaves, storage is emptied', async () => {
  const page = await browser.newPage();
  const sessions = new Set();
  page.on('response', async (r) => {
    if (/\/v1\/sessions$/.test(r.url()) && r.status() === 201) sessions.add((await r.json()).session_id);
  });
  await recordQueued(page);
  await page.goto(shopUrl);
  await waitForState(page, 'ready');
  await page.evaluate(() => window.Paylater.consent(true));
  const loaded = await waitFor(() => page.evaluate(() => window.__queued.find((e) => e.name === 'widget_loaded')), (e) => e !== undefined);
  await arrivalsOf([loaded.id], 20_000);
  assert.ok((await storedKeys(page)).length > 0, 'with consent, the tab and its outbox are stored');

  await page.evaluate(() => window.Paylater.consent(false));
  assert.deepEqual(await storedKeys(page), [], 'no paylater:* key after consent(false)');
  const before = await page.evaluate(() => window.__queued.length);
  await page.getByTestId('learn-more').click();
  await page.locator('[data-plan-id=pay_in_30] input').check();
  await page.waitForTimeout(2_500); // past the batch timer and the store interval
  assert.equal(await page.evaluate(() => window.__queued.length), before, 'nothing noted while withdrawn');
  assert.deepEqual(await storedKeys(page), [], 'nothing stored while withdrawn');

  await page.evaluate(() => window.Paylater.consent(true));
  await page.getByTestId('close').click();
  const closed = await waitFor(() => page.evaluate(() => window.__queued.find((e) => e.name === 'terms_closed')), (e) => e !== undefined);
  const [arrived] = await arrivalsOf([closed.id], 20_000);
  assert.ok(sessions.has(arrived.session), 'a step after consent arrives');
  await page.waitForTimeout(2_500); // anything else would be at the sink by now
  const mine = (await sinkEvents()).filter((e) => sessions.has(e.session));
  assert.deepEqual(mine.filter((e) => ['plan_selected', 'terms_opened'].includes(e.name)), [],
    'the steps taken while consent was withdrawn never reach the sink');
  // Exactly what was recorded with consent: loaded (and viewed, if it came first), then closed.
  const recorded = await page.evaluate(() => window.__queued.map((e) => e.id));
  assert.deepEqual(mine.map((e) => e.id).sort(), [...recorded].sort());
  assert.ok(mine.some((e) => e.name === 'widget_loaded') && mine.some((e) => e.name === 'terms_closed'));
  await page.close();
});

test('hidden and shown again, then approved: no session_abandoned, and the hide waits out a Retry-After', async () => {
  const { page, problems } = await debugPage();
  const posts = await refuseFirstBatch(page, 4);
  await page.goto(DEMO_URL);
  await waitForState(page, 'ready');
  await page.getByTestId('learn-more').click();
  await page.locator('[data-plan-id=pay_in_30] input').check();
  await waitFor(() => posts.length, (n) => n === 1, 10_000);
  const refusedAt = posts[0];
  // Switching tabs twice while the edge asked to wait: no request before Retry-After.
  for (let cycle = 0; cycle < 2; cycle++) {
    await setVisibility(page, 'hidden');
    await page.waitForTimeout(400);
    await setVisibility(page, 'visible');
  }
  await page.waitForTimeout(1_000);
  const early = posts.filter((at) => at > refusedAt && at - refusedAt < 4_000);
  assert.deepEqual(early, [], 'no request within the 4 s of Retry-After');
  await page.getByTestId('continue').click();
  await fillApprovalForm(page, { email: `hidden.${Date.now()}@example.com` });
  await waitForState(page, 'approved', '#paylater', 20_000);
  await page.getByTestId('done').click();
  const queued = await waitFor(() => page.evaluate(() => window.__queued), (q) => q.some((e) => e.name === 'terms_closed'));
  assert.deepEqual(queued.filter((e) => e.name === 'session_abandoned'), [], 'switching tabs is not abandoning');
  await page.close({ runBeforeUnload: true });
  const ids = queued.map((e) => e.id);
  const arrived = await arrivalsOf(ids, 20_000);
  const session = arrived[0].session;
  await new Promise((resolve) => setTimeout(resolve, 2_000)); // an exit request would be in by now
  const names = (await sinkEvents()).filter((e) => e.session === session).map((e) => e.name);
  assert.ok(names.includes('approval_approved'), names.join());
  assert.ok(!names.includes('session_abandoned'), names.join());
  assert.deepEqual(problems.filter((p) => !/status of 429/.test(p)), []);
});

test("a tab closed offline whose session then expired: the next page view sends each id once", async () => {
  const { page } = await debugPage();
  await page.goto(DEMO_URL);
  await waitForState(page, 'ready');
  const loaded = await waitFor(() => page.evaluate(() => window.__queued.find((e) => e.name === 'widget_loaded')), (e) => e !== undefined);
  await arrivalsOf([loaded.id], 20_000);
  await browser.setOffline(true);
  await browseTerms(page);
  const queued = await waitFor(() => page.evaluate(() => window.__queued), (q) => q.some((e) => e.name === 'terms_closed'));
  const { page: next } = await debugPage();
  const closed = new Promise((resolve) => page.once('close', resolve));
  await page.close({ runBeforeUnload: true });
  await closed;
  await browser.setOffline(false);
  // The closed tab's session has expired by the next page view (as after half an hour away).
  await next.addInitScript(() => {
    for (const key of Object.keys(localStorage).filter((k) => k.startsWith('paylater:outbox:'))) {
      const stored = JSON.parse(localStorage.getItem(key));
      if (stored.token) localStorage.setItem(key, JSON.stringify({ ...stored, expires_ms: Date.now() - 60_000 }));
    }
  });
  await next.goto(DEMO_URL);
  await waitForState(next, 'ready');
  const ids = queued.map((e) => e.id);
  const arrived = await arrivalsOf(ids, 30_000);
  await next.waitForTimeout(2_500); // a resend would arrive by now
  const settled = (await sinkEvents()).filter((e) => ids.includes(e.id));
  assert.equal(settled.length, ids.length, `each id once: ${settled.length} records for ${ids.length} ids`);
  // The expired session was renewed (same id), so whatever the closed tab's exit requests
  // delivered was recognised by the edge's dedup.
  assert.deepEqual([...new Set(settled.map((e) => e.session))], [arrived.find((e) => e.id === loaded.id).session]);
  await next.close();
});

test('offline from the moment the card is ready, Learn more, then online: loaded, viewed and opened arrive (10 runs)', async () => {
  for (let run = 0; run < 10; run++) {
    const { page } = await debugPage();
    let offline = false;
    let ready = null;
    const cardReady = new Promise((resolve) => { ready = resolve; });
    // The dialog's bundle is held until the card is ready, then fails while offline, so every
    // run starts the way the unlucky one did: the telemetry's bundle not loaded.
    await page.route(/paylater_widget(_bg\.wasm|\.js)/, async (route) => {
      await cardReady;
      return offline ? route.abort('internetdisconnected') : route.continue();
    });
    await page.goto(DEMO_URL);
    await waitForState(page, 'ready');
    offline = true;
    await browser.setOffline(true);
    ready();
    await page.waitForTimeout(1_300); // in view for a second
    await page.getByTestId('learn-more').click();
    await page.waitForTimeout(300);
    assert.equal(await page.evaluate(() => window.__queued.length), 0, `run ${run}: the telemetry is not loaded yet`);
    offline = false;
    await browser.setOffline(false);
    const queued = await waitFor(() => page.evaluate(() => window.__queued),
      (q) => ['widget_loaded', 'widget_viewed', 'terms_opened'].every((n) => q.some((e) => e.name === n)), 20_000);
    const wanted = queued.filter((e) => ['widget_loaded', 'widget_viewed', 'terms_opened'].includes(e.name));
    const arrived = await arrivalsOf(wanted.map((e) => e.id), 20_000);
    assert.deepEqual(arrived.map((e) => e.name).sort(), ['terms_opened', 'widget_loaded', 'widget_viewed'], `run ${run}`);
    await page.close();
  }
});

test('a page closed before the dialog\'s bundle ran: the next page view sends what it noted', async () => {
  const { page } = await debugPage();
  // The dialog's bundle never arrives on this page view.
  await page.route(/paylater_widget(_bg\.wasm|\.js)/, (route) => route.abort('connectionrefused'));
  await page.goto(DEMO_URL);
  await waitForState(page, 'ready');
  await page.waitForTimeout(1_300); // in view for a second
  assert.equal(await page.evaluate(() => window.__queued.length), 0, 'no telemetry on this page view');
  const { page: next } = await debugPage();
  const closed = new Promise((resolve) => page.once('close', resolve));
  await page.close({ runBeforeUnload: true });
  await closed;
  await next.goto(DEMO_URL);
  await waitForState(next, 'ready');
  // The next page's telemetry records the closed page's loaded and viewed at their own times,
  // before its own.
  const queued = await waitFor(() => next.evaluate(() => window.__queued),
    (q) => q.filter((e) => e.name === 'widget_loaded').length >= 2 && q.some((e) => e.name === 'widget_viewed'), 20_000);
  const arrived = await arrivalsOf(queued.map((e) => e.id), 20_000);
  assert.equal(arrived.filter((e) => e.name === 'widget_loaded').length >= 2, true, arrived.map((e) => e.name).join());
  assert.deepEqual(await next.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('paylater:early:'))), [],
    'the closed page\'s notes are taken, once');
  await next.close();
});
