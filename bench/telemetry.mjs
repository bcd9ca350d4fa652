// What the telemetry client costs the page: main-thread time per event, and bytes on the wire
// per event (request bodies of POST /v1/events over the events they carry). Run by
// `cargo xtask bench` with EDGE_URL set.
//
// Main-thread time is Chromium's own count (CDP `Performance.getMetrics`, thread CPU time):
// every task on the page's main thread, so it holds the client's script and also the browser's
// work the client causes (timers, storage, each request and its answer). Events are fired one per
// task, as a shopper makes them; a run firing nothing, with the same tasks and the same wait,
// is taken off: it dispatches the same DOM events on an element the client does not listen to,
// since the widget dispatches them for the merchant anyway. Fired events are all sent and
// answered before a run's count is read.
//
// A request costs the browser about a millisecond of main thread here whoever sends it, so the
// floor is the same request bodies sent again by a bare `fetch` loop; the client's own work is
// what it costs above that floor.
//
// Of that, the part spent inside the task that dispatched the event (a shopper's click handler)
// is timed with `performance.now()` around the dispatch, fired minus not fired. Outside a
// cross-origin isolated page that clock has a 100 µs grain, so only the sum over all events is
// worth reading.
import { createServer } from 'node:http';
import { launchBrowser } from '../tests/e2e/support/browser.mjs';

const EDGE_URL = process.env.EDGE_URL;
const EVENTS = Number(process.env.TELEMETRY_EVENTS ?? 300);
const ROUNDS = 5;
if (!EDGE_URL) throw new Error('EDGE_URL is required');

const page = `<!doctype html><html lang="en-US"><head><meta charset="utf-8"><title>telemetry bench</title></head>
<body><div id="paylater"></div><div id="elsewhere"></div>
<script async src="${EDGE_URL}/v1/widget.js" data-key="pk_test_demo" data-amount="12999" data-currency="USD"
  data-target="#paylater"></script></body></html>`;
const server = createServer((_, res) => { res.writeHead(200, { 'Content-Type': 'text/html' }); res.end(page); });
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const browser = await launchBrowser();
try {
  const tab = await browser.newPage();
  const bodies = [];
  let answered = 0;
  const isEvents = (r) => r.url().endsWith('/v1/events') && r.method() === 'POST';
  tab.on('request', (r) => { if (isEvents(r)) bodies.push(r.postData() ?? ''); });
  tab.on('requestfinished', (r) => { if (isEvents(r)) answered += JSON.parse(r.postData()).events.length; });
  tab.on('requestfailed', (r) => { if (isEvents(r)) throw new Error(`POST /v1/events failed: ${r.failure()?.errorText}`); });
  await tab.goto(`http://127.0.0.1:${server.address().port}/`);
  // The client starts with the dialog's bundle, once the page is idle; then its first events
  // (widget_loaded, widget_viewed) go out.
  await tab.waitForFunction(() => document.querySelector('#paylater').getAttribute('data-paylater-state') === 'ready');
  await tab.waitForFunction(() => performance.getEntriesByType('resource').some((e) => e.name.includes('paylater_widget_bg.wasm')));
  await tab.waitForTimeout(3_500);
  const cdp = await tab.context().newCDPSession(tab);
  await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
  const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  /** Fires `count` events in one task; resolves to the ms spent dispatching them. */
  const fire = (count, where) => tab.evaluate(([count, where]) => new Promise((resolve) => {
    const host = document.querySelector(where);
    const started = performance.now();
    for (let i = 0; i < count; i++) host.dispatchEvent(new CustomEvent('paylater:plan-selected', { detail: { plan_id: 'pay_in_4' } }));
    const spent = performance.now() - started;
    setTimeout(() => resolve(spent), 0);
  }), [count, where]);

  /** Main-thread and script ms of `tasks` tasks firing `perTask` events each at the widget,
   * then waiting until all are answered; or, given `sameWaitAs`, firing them elsewhere and
   * waiting as long as that run did. */
  const run = async (perTask, tasks, sameWaitAs) => {
    const before = await metrics();
    const target = sameWaitAs ? answered : answered + perTask * tasks;
    let handler = 0;
    for (let i = 0; i < tasks; i++) handler += await fire(perTask, sameWaitAs ? '#elsewhere' : '#paylater');
    const started = Date.now();
    const deadline = started + 60_000;
    while (!sameWaitAs && answered < target && Date.now() < deadline) await tab.waitForTimeout(50);
    if (answered < target) throw new Error(`only ${answered} of ${target} events answered`);
    await tab.waitForTimeout(sameWaitAs ? Math.max(0, started + sameWaitAs.waited - Date.now()) : 500);
    const after = await metrics();
    return { task: (after.TaskDuration - before.TaskDuration) * 1000, script: (after.ScriptDuration - before.ScriptDuration) * 1000, handler, waited: Date.now() - started };
  };
  /** Main-thread ms of sending `sent` again, one request at a time, from a bare loop. */
  const replay = async (sent) => {
    const before = await metrics();
    await tab.evaluate(async ([url, sent]) => {
      for (const body of sent) {
        await fetch(url, { method: 'POST', mode: 'cors', credentials: 'omit', body }).then((r) => r.text());
      }
    }, [`${EDGE_URL}/v1/events`, sent]);
    await tab.waitForTimeout(500);
    const after = await metrics();
    return { task: (after.TaskDuration - before.TaskDuration) * 1000, script: (after.ScriptDuration - before.ScriptDuration) * 1000 };
  };
  const single = [];
  const burst = [];
  for (let round = 0; round < ROUNDS; round++) {
    const firstBody = bodies.length;
    const fired = await run(1, EVENTS);
    const sent = bodies.slice(firstBody);
    const empty = await run(1, EVENTS, fired);
    const floor = await replay(sent);
    const idle = await replay([]);
    single.push({
      task: (fired.task - empty.task) / EVENTS,
      script: (fired.script - empty.script) / EVENTS,
      floor: (floor.task - idle.task) / EVENTS,
      handler: (fired.handler - empty.handler) / EVENTS,
      requests: sent.length,
    });
    const many = await run(EVENTS, 1);
    const none = await run(EVENTS, 1, many);
    burst.push({ task: (many.task - none.task) / EVENTS, script: (many.script - none.script) / EVENTS });
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const sent = bodies.map((b) => JSON.parse(b).events?.length ?? 0);
  const sentEvents = sent.reduce((a, b) => a + b, 0);
  const bytes = bodies.reduce((n, b) => n + Buffer.byteLength(b), 0);
  const perEvent = median(single.map((s) => s.task));
  const floor = median(single.map((s) => s.floor));
  const own = median(single.map((s) => s.task - s.floor));
  console.log(`\ntelemetry client in Chromium, main-thread time per event (median of ${ROUNDS} rounds; thread CPU time of every task, fired minus not fired):`);
  console.log(`  one event per task (${EVENTS} tasks)          ${perEvent.toFixed(3)} ms, of which script ${median(single.map((s) => s.script)).toFixed(3)} ms   rounds: ${single.map((s) => s.task.toFixed(3)).join(', ')}`);
  console.log(`  floor: its requests from a bare loop      ${floor.toFixed(3)} ms (${single.map((s) => s.requests).join(', ')} requests a round)`);
  console.log(`  the client's own work (above the floor)   ${own.toFixed(3)} ms   vs 0.05 ms goal ${(own / 0.05).toFixed(2)}×   rounds: ${single.map((s) => (s.task - s.floor).toFixed(3)).join(', ')}`);
  console.log(`  of which inside the dispatching task       ${median(single.map((s) => s.handler)).toFixed(3)} ms   rounds: ${single.map((s) => s.handler.toFixed(3)).join(', ')}`);
  console.log(`  ${EVENTS} events in one task                  ${median(burst.map((s) => s.task)).toFixed(3)} ms, of which script ${median(burst.map((s) => s.script)).toFixed(3)} ms`);
  console.log(`  bytes on the wire per event      ${(bytes / Math.max(1, sentEvents)).toFixed(1)} B (${bodies.length} requests, ${sentEvents} events, ${(sentEvents / Math.max(1, bodies.length)).toFixed(1)} a request; request bodies)`);
} finally {
  await browser.close();
  server.close();
}
