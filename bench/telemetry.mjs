// What the telemetry client costs the page: main-thread time per event (the widget's DOM event
// listener records, stores and schedules it), and bytes on the wire per event (request bodies
// of POST /v1/events over the events they carry). Run by `cargo xtask bench` with EDGE_URL set.
import { createServer } from 'node:http';
import { launchBrowser } from '../tests/e2e/support/browser.mjs';

const EDGE_URL = process.env.EDGE_URL;
const EVENTS = Number(process.env.TELEMETRY_EVENTS ?? 300);
if (!EDGE_URL) throw new Error('EDGE_URL is required');

const page = `<!doctype html><html lang="en-US"><head><meta charset="utf-8"><title>telemetry bench</title></head>
<body><div id="paylater"></div>
<script async src="${EDGE_URL}/v1/widget.js" data-key="pk_test_demo" data-amount="12999" data-currency="USD"
  data-target="#paylater" data-debug></script></body></html>`;
const server = createServer((_, res) => { res.writeHead(200, { 'Content-Type': 'text/html' }); res.end(page); });
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const browser = await launchBrowser();
try {
  const tab = await browser.newPage();
  const bodies = [];
  tab.on('request', (r) => { if (r.url().endsWith('/v1/events') && r.method() === 'POST') bodies.push(r.postData() ?? ''); });
  await tab.goto(`http://127.0.0.1:${server.address().port}/`);
  // The client starts with the dialog's bundle, once the page is idle.
  await tab.waitForFunction(() => document.querySelector('#paylater').getAttribute('data-paylater-state') === 'ready');
  await tab.waitForFunction(() => performance.getEntriesByType('resource').some((e) => e.name.includes('paylater_widget_bg.wasm')));
  await tab.waitForTimeout(500);
  const perEvent = await tab.evaluate((count) => {
    const host = document.querySelector('#paylater');
    const times = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      host.dispatchEvent(new CustomEvent('paylater:plan-selected', { detail: { plan_id: i % 2 ? 'pay_in_4' : 'pay_in_30' } }));
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    return { mean: times.reduce((a, b) => a + b, 0) / count, p50: times[Math.floor(count / 2)], p99: times[Math.floor(count * 0.99)] };
  }, EVENTS);
  // Everything sent: at most one request at a time, 10 a batch.
  const deadline = Date.now() + 60_000;
  const sentEvents = () => bodies.reduce((n, b) => n + (JSON.parse(b).events?.length ?? 0), 0);
  while (sentEvents() < EVENTS && Date.now() < deadline) await tab.waitForTimeout(200);
  const bytes = bodies.reduce((n, b) => n + Buffer.byteLength(b), 0);
  console.log(`\ntelemetry client, ${EVENTS} plan_selected events in Chromium:`);
  console.log(`  main-thread time per event      mean ${perEvent.mean.toFixed(3)} ms   p50 ${perEvent.p50.toFixed(3)} ms   p99 ${perEvent.p99.toFixed(3)} ms`);
  console.log(`  vs 0.1 ms target (mean)         ${(perEvent.mean / 0.1).toFixed(2)}×`);
  console.log(`  bytes on the wire per event     ${(bytes / Math.max(1, sentEvents())).toFixed(1)} B (${bodies.length} requests, ${sentEvents()} events, request bodies)`);
} finally {
  await browser.close();
  server.close();
}
