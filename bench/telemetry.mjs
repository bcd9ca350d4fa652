// What the telemetry client costs the page: main-thread time per event, and bytes on the wire
// per event (request bodies of POST /v1/events over the events they carry). Run by
// `cargo xtask bench` with EDGE_URL set.
//
// Main-thread time is Chromium's own count (CDP `Performance.getMetrics`, thread CPU time):
// every task on the page's main thread, so it holds the client's script and also the browser's
// work the client causes (timers, storage, each request and its answer). Events are fired one per
// task, as a shopper makes them; a run firing nothing, with the same tasks and the same wait,
// is taken off. Fired events are all sent and answered before a run's count is read.
import { createServer } from 'node:http';
import { launchBrowser } from '../tests/e2e/support/browser.mjs';

const EDGE_URL = process.env.EDGE_URL;
const EVENTS = Number(process.env.TELEMETRY_EVENTS ?? 300);
const ROUNDS = 3;
if (!EDGE_URL) throw new Error('EDGE_URL is required');

const page = `<!doctype html><html lang="en-US"><head><meta charset="utf-8"><title>telemetry bench</title></head>
<body><div id="paylater"></div>
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
  const fire = (count) => tab.evaluate((count) => new Promise((resolve) => {
    const host = document.querySelector('#paylater');
    for (let i = 0; i < count; i++) host.dispatchEvent(new CustomEvent('paylater:plan-selected', { detail: { plan_id: 'pay_in_4' } }));
    setTimeout(resolve, 0);
  }), count);

  /** Main-thread and script ms of `tasks` tasks firing `perTask` events each, then waiting
   * until all are answered, or as long as `sameWaitAs` waited. */
  const run = async (perTask, tasks, sameWaitAs) => {
    const before = await metrics();
    const target = answered + perTask * tasks;
    for (let i = 0; i < tasks; i++) await fire(perTask);
    const started = Date.now();
    const deadline = started + 60_000;
    while (!sameWaitAs && answered < target && Date.now() < deadline) await tab.waitForTimeout(50);
    if (answered < target) throw new Error(`only ${answered} of ${target} events answered`);
    await tab.waitForTimeout(sameWaitAs ? Math.max(0, started + sameWaitAs.waited - Date.now()) : 500);
    const after = await metrics();
    return { task: (after.TaskDuration - before.TaskDuration) * 1000, script: (after.ScriptDuration - before.ScriptDuration) * 1000, waited: Date.now() - started };
  };
  const single = [];
  const burst = [];
  for (let round = 0; round < ROUNDS; round++) {
    const fired = await run(1, EVENTS);
    const empty = await run(0, EVENTS, fired);
    single.push({ task: (fired.task - empty.task) / EVENTS, script: (fired.script - empty.script) / EVENTS });
    const many = await run(EVENTS, 1);
    const none = await run(0, 1, many);
    burst.push({ task: (many.task - none.task) / EVENTS, script: (many.script - none.script) / EVENTS });
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const sent = bodies.map((b) => JSON.parse(b).events?.length ?? 0);
  const sentEvents = sent.reduce((a, b) => a + b, 0);
  const bytes = bodies.reduce((n, b) => n + Buffer.byteLength(b), 0);
  const perEvent = median(single.map((s) => s.task));
  console.log(`\ntelemetry client in Chromium, main-thread time per event (median of ${ROUNDS} rounds; thread CPU time of every task, fired minus not fired):`);
  console.log(`  one event per task (${EVENTS} tasks)   ${perEvent.toFixed(3)} ms, of which script ${median(single.map((s) => s.script)).toFixed(3)} ms   rounds: ${single.map((s) => s.task.toFixed(3)).join(', ')}`);
  console.log(`  ${EVENTS} events in one task           ${median(burst.map((s) => s.task)).toFixed(3)} ms, of which script ${median(burst.map((s) => s.script)).toFixed(3)} ms`);
  console.log(`  one per task vs 0.1 ms target    ${(perEvent / 0.1).toFixed(2)}×`);
  console.log(`  bytes on the wire per event      ${(bytes / Math.max(1, sentEvents)).toFixed(1)} B (${bodies.length} requests, ${sentEvents} events, ${(sentEvents / Math.max(1, bodies.length)).toFixed(1)} a request; request bodies)`);
} finally {
  await browser.close();
  server.close();
}
