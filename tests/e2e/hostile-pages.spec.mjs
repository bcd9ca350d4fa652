// The widget on pages as merchants really build them, served by this spec itself: CSS resets and
// inherited text styles, targets that cannot hold a shadow root, the tag included twice (a tag
// manager and the theme), a target that arrives with a streamed body, a target removed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, waitFor } from './support/browser.mjs';
import { recordPage, events, waitForState, axeViolations, waitForFocus } from './support/widget.mjs';

const EDGE_URL = process.env.EDGE_URL;
const ARTIFACTS = process.env.ARTIFACTS_DIR ?? mkdtempSync(join(tmpdir(), 'paylater-artifacts-'));
mkdirSync(ARTIFACTS, { recursive: true });

const SUMMARY = '$32.52 today, then 3 × $32.49 every 2 weeks · 0% APR · Total $129.99';
const tag = (extra = '') =>
  `<script async src="${EDGE_URL}/v1/widget.js" data-key="pk_test_demo" data-amount="12999" data-currency="USD" data-locale="en-US"${extra}></script>`;

// Rules seen on real shops: a modern reset that unsets everything, `div:empty` hidden, a 10 px
// root font, and text styles on the body that every child inherits.
const HOSTILE_CSS = `
*:where(:not(html, iframe, canvas, img, svg, video, audio):not(svg *, symbol *)) { all: unset; display: revert; }
div:empty { display: none; }
html { font-size: 62.5%; }
body { font-size: 1.2rem; text-transform: uppercase; letter-spacing: 0.3em; word-spacing: 1em; line-height: 3; font-style: italic; color: #777; }
/* The one line the embedding guide asks for. */
#paylater { display: block; min-height: 176px; }`;

const PAGES = {
  '/reset': `<!doctype html><html lang="en-US"><head><meta charset="utf-8"><title>Reset shop</title>
<style>${HOSTILE_CSS}</style></head><body><main><h1>Reset shop</h1>
<div id="paylater"></div>${tag(' data-target="#paylater"')}<p id="below">Below the widget</p></main></body></html>`,
  '/targets': `<!doctype html><html lang="en-US"><head><meta charset="utf-8"><title>Odd targets</title></head>
<body><main><h1>Odd targets</h1>
<ul><li id="t-li"></li></ul>
<table><tbody><tr><td id="t-td"></td></tr></tbody></table>
<p><a id="t-a" href="#nowhere">Link</a></p>
<p><label id="t-label">Label</label></p>
${['li', 'td', 'a', 'label'].map((name) => tag(` data-target="#t-${name}"`)).join('\n')}
</main></body></html>`,
  '/twice': `<!doctype html><html lang="en-US"><head><meta charset="utf-8"><title>Twice</title>
${tag(' data-target="#paylater"')}</head><body><main><h1>Twice</h1><div id="paylater" style="min-height:176px"></div>
${tag(' data-target="#paylater"')}
${tag(' data-target="#paylater"').replace('/v1/widget.js"', '/v1/widget.js?from=tag-manager"')}
</main></body></html>`,
  '/removed': `<!doctype html><html lang="en-US"><head><meta charset="utf-8"><title>Removed</title></head>
<body><main><h1>Removed</h1><section id="slot"><div id="paylater"></div></section>
${tag(' data-target="#paylater"')}</main></body></html>`,
  '/accents': `<!doctype html><html lang="en-US"><head><meta charset="utf-8"><title>Accents</title>
<style>#light-accent { --paylater-accent: #ffd400; } #dark-accent { --paylater-accent: rgb(26, 35, 126); }</style></head>
<body><main><h1>Accents</h1><div id="light-accent" style="min-height:176px"></div><div id="dark-accent" style="min-height:176px"></div>
${tag(' data-target="#light-accent" data-theme="auto"')}
${tag(' data-target="#dark-accent" data-theme="auto" data-amount="13000"')}
</main></body></html>`,
};

/** WCAG 2 contrast of two computed `rgb(…)` colours, written out here (not the loader's code). */
function contrast(a, b) {
  const luminance = (css) => {
    const [r, g, bl] = css.match(/[\d.]+/g).slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

// The tag in <head>; the target arrives 600 ms later with the rest of a streamed body.
const LATE_HEAD = `<!doctype html><html lang="en-US"><head><meta charset="utf-8"><title>Late</title>
${tag(' data-target="#late"')}</head><body><main><h1>Late target</h1>`;
const LATE_REST = `<div id="late" style="min-height:176px"></div></main></body></html>`;

let browser;
let shop;
let shopUrl;
before(async () => {
  assert.ok(EDGE_URL, 'run through `cargo xtask test`, which starts the edge');
  shop = createServer((req, res) => {
    const path = req.url.split('?')[0];
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    if (path === '/late') {
      res.write(LATE_HEAD);
      setTimeout(() => res.end(LATE_REST), 600);
      return;
    }
    res.end(PAGES[path] ?? '<!doctype html><title>none</title>');
  });
  await new Promise((resolve) => shop.listen(0, '127.0.0.1', resolve));
  shopUrl = `http://127.0.0.1:${shop.address().port}`;
  browser = await launchBrowser({ timezoneId: 'Europe/Stockholm', viewport: { width: 1000, height: 900 } });
});
after(async () => {
  await browser?.close();
  await new Promise((resolve) => (shop ? shop.close(resolve) : resolve()));
});

/** Every text node's computed size and inherited text styles inside the widget's shadow root. */
function textStyles(page, selector) {
  return page.locator(selector).evaluate((host) => {
    const root = host.shadowRoot ?? host.querySelector('paylater-widget').shadowRoot;
    const seen = [];
    const walk = (node) => {
      for (const child of node.children ?? []) {
        const style = getComputedStyle(child);
        const ownText = [...child.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
        if (ownText && style.display !== 'none' && child.getClientRects().length) {
          seen.push({
            text: child.textContent.trim().slice(0, 30), size: parseFloat(style.fontSize), transform: style.textTransform,
            spacing: style.letterSpacing, words: style.wordSpacing, italic: style.fontStyle,
          });
        }
        walk(child);
      }
    };
    walk(root);
    return seen;
  });
}

test('CSS resets and inherited text styles: visible at its height, readable, no shift, axe clean', async () => {
  const page = await browser.newPage();
  const problems = await recordPage(page);
  await page.goto(`${shopUrl}/reset`);
  await waitForState(page, 'ready');
  assert.equal(await page.locator('#paylater [data-testid=summary]').textContent(), SUMMARY);
  const box = await page.locator('#paylater').boundingBox();
  assert.ok(box.height >= 176 && box.width > 300, `the widget keeps its reserved height: ${JSON.stringify(box)}`);
  const card = await page.locator('#paylater [data-testid=card]').boundingBox();
  assert.ok(card.height >= 176, `the card is painted at full height: ${JSON.stringify(card)}`);
  const styles = await textStyles(page, '#paylater');
  assert.ok(styles.length >= 3, JSON.stringify(styles));
  for (const s of styles) {
    assert.ok(s.size >= 14, `no text under 14 px: ${JSON.stringify(s)}`);
    assert.deepEqual([s.transform, s.spacing, s.words, s.italic], ['none', 'normal', '0px', 'normal'], JSON.stringify(s));
  }
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.__layoutShift), 0, 'nothing below the widget moved');
  assert.deepEqual(await axeViolations(page, '#paylater'), []);
  await page.screenshot({ path: join(ARTIFACTS, 'hostile-reset.png') });
  assert.deepEqual(problems, []);
  await page.close();
});

test('li, td, a and label targets: each ready, no page error', async () => {
  const page = await browser.newPage();
  const problems = await recordPage(page);
  await page.goto(`${shopUrl}/targets`);
  for (const name of ['li', 'td', 'a', 'label']) {
    await waitForState(page, 'ready', `#t-${name}`);
    assert.equal(await page.locator(`#t-${name} [data-testid=summary]`).textContent(), SUMMARY, name);
    // The target keeps its own content model: the widget's root is an element of ours inside it.
    assert.equal(await page.locator(`#t-${name}`).evaluate((el) => el.shadowRoot === null && !!el.querySelector('paylater-widget').shadowRoot), true, name);
  }
  // Opening the plans from inside a link does not follow the link.
  await page.locator('#t-a [data-testid=learn-more]').click();
  await waitFor(() => page.locator('#t-a [data-testid=dialog]').isVisible(), (v) => v === true);
  assert.equal(new URL(page.url()).hash, '');
  // Focus follows into and out of the root of ours inside the link: the plans' heading, then,
  // on Escape, the card's button again.
  await waitForFocus(page, 'dialog:dialog-title');
  await page.keyboard.press('Escape');
  await waitFor(() => page.locator('#t-a [data-testid=dialog]').isVisible(), (v) => v === false);
  await waitForFocus(page, 'card:learn-more');
  assert.equal(await page.evaluate(() => document.activeElement.parentElement.id), 't-a');
  const ready = (await events(page)).filter((e) => e.name === 'ready').map((e) => e.target).sort();
  assert.deepEqual(ready, ['t-a', 't-label', 't-li', 't-td']);
  await page.screenshot({ path: join(ARTIFACTS, 'hostile-targets.png') });
  assert.deepEqual(problems, []);
  await page.close();
});

test('a slow stylesheet: the card is first drawn styled, and the dialog\'s bundle waits for the card', async () => {
  const page = await browser.newPage();
  const problems = await recordPage(page);
  // At `paylater:ready`, whether the widget's stylesheet had applied: a card drawn before it
  // would be drawn a second time once it arrives, moving what is below.
  await page.addInitScript(() => {
    document.addEventListener('paylater:ready', (event) => {
      const root = event.target.shadowRoot;
      window.__readyAt = { at: performance.now(), styled: !!root.querySelector('link[rel=stylesheet]').sheet };
    });
  });
  await page.route('**/v1/widget/widget.css', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 800));
    await route.continue();
  });
  await page.goto(`${shopUrl}/reset`);
  await waitForState(page, 'ready');
  const ready = await page.evaluate(() => window.__readyAt);
  assert.equal(ready.styled, true, 'the card waited for its stylesheet');
  assert.equal(await page.locator('#paylater [data-testid=summary]').textContent(), SUMMARY);
  // The dialog's bundle goes out once the card is ready, not while the terms still load.
  const dialogAt = await waitFor(
    () => page.evaluate(() => performance.getEntriesByType('resource').find((e) => e.name.endsWith('/paylater_widget.js'))?.startTime),
    (at) => at !== undefined,
  );
  assert.ok(dialogAt >= ready.at, `dialog bundle requested at ${dialogAt} ms, card ready at ${ready.at} ms`);
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.__layoutShift), 0, 'nothing below the widget moved');
  assert.deepEqual(problems, []);
  await page.close();
});

test('a stylesheet that never arrives: the card is still drawn, and says its terms', async () => {
  const page = await browser.newPage();
  const problems = await recordPage(page);
  // A stalled connection: the request is never answered, so the link fires neither load nor error.
  await page.route('**/v1/widget/widget.css', () => {});
  const started = Date.now();
  await page.goto(`${shopUrl}/reset`, { waitUntil: 'commit' });
  await waitForState(page, 'ready');
  assert.ok(Date.now() - started < 10_000, 'ready within the stylesheet wait, not never');
  assert.equal(await page.locator('#paylater [data-testid=summary]').textContent(), SUMMARY);
  assert.deepEqual(problems, []);
  await page.close();
});

test('the tag three times (two copies of widget.js): one widget, one ready, each bundle fetched once', async () => {
  const page = await browser.newPage();
  const problems = await recordPage(page);
  const fetched = {};
  page.on('request', (request) => {
    const name = new URL(request.url()).pathname.split('/').pop();
    fetched[name] = (fetched[name] ?? 0) + 1;
  });
  await page.goto(`${shopUrl}/twice`);
  await waitForState(page, 'ready');
  // The dialog's bundle loads when the page is idle: wait for it too.
  await waitFor(() => fetched['paylater_widget_bg.wasm'] ?? 0, (n) => n >= 1);
  await page.waitForTimeout(500);
  assert.equal((await events(page)).filter((e) => e.name === 'ready').length, 1);
  assert.equal(await page.locator('#paylater [data-testid=card]').count(), 1);
  for (const bundle of ['paylater_card.js', 'paylater_card_bg.wasm', 'paylater_widget.js', 'paylater_widget_bg.wasm', 'widget.css']) {
    assert.equal(fetched[bundle], 1, `${bundle}: ${JSON.stringify(fetched)}`);
  }
  assert.equal(await page.evaluate(() => typeof window.Paylater.mount), 'function');
  assert.deepEqual(problems, []);
  await page.close();
});

test('a tag in <head> whose target arrives 600 ms later with the body: ready', async () => {
  const page = await browser.newPage();
  const problems = await recordPage(page);
  await page.goto(`${shopUrl}/late`);
  await waitForState(page, 'ready', '#late');
  assert.equal(await page.locator('#late [data-testid=summary]').textContent(), SUMMARY);
  // Nothing was mounted into <head>.
  assert.equal(await page.evaluate(() => document.head.querySelectorAll('div, paylater-widget').length), 0);
  assert.deepEqual(problems, []);
  await page.close();
});

// Live timers a page keeps once its widgets are gone and their last timeouts have run out:
// none (measured: 0 before the 50 mounts, 0 after). The runtime keeps no timer of its own:
// wasm-bindgen's futures and Leptos's effects run on microtasks, not timers, and nothing sets an
// interval. Each card's one timer (its midnight refresh) is cleared by destroy; the loader's idle
// callback runs once; a dialog's telemetry timers (the 1 s "viewed" delay, the send pump) are
// cleared with it or run out within a second, which `liveTimersSettled` waits for.
const TIMERS_LEFT = [];

/** The page's live timers once short ones (a few seconds at most) have had time to run out. */
async function liveTimersSettled(page) {
  const deadline = Date.now() + 5_000;
  let live = await page.evaluate(() => window.__liveTimers());
  while (live.length > TIMERS_LEFT.length && Date.now() < deadline) {
    await page.waitForTimeout(100);
    live = await page.evaluate(() => window.__liveTimers());
  }
  return live;
}

/** Counts the page's live timers: every setTimeout, setInterval, requestAnimationFrame and
 *  requestIdleCallback from the moment the page starts (before widget.js runs), until it fires
 *  (a timeout, a frame, an idle callback) or is cleared. Each live one keeps what it was made
 *  with: its kind, delay and the first frames of the stack that made it, for the failure message. */
function countTimers() {
  const live = new Map();
  const where = () => (new Error().stack ?? '').split('\n').slice(3, 6).map((l) => l.trim()).join(' < ');
  const wrapOnce = (kind, key, fn) => (typeof fn === 'function'
    ? function (...args) { live.delete(key()); return fn.apply(this, args); }
    : fn);
  const original = {
    setTimeout: window.setTimeout, setInterval: window.setInterval, clearTimeout: window.clearTimeout,
    clearInterval: window.clearInterval, requestAnimationFrame: window.requestAnimationFrame,
    cancelAnimationFrame: window.cancelAnimationFrame, requestIdleCallback: window.requestIdleCallback,
    cancelIdleCallback: window.cancelIdleCallback,
  };
  // Timeouts and intervals share one list of ids (HTML), so either clear removes either.
  window.setTimeout = function (fn, ms, ...args) {
    let id;
    id = original.setTimeout.call(window, wrapOnce('timeout', () => `timer:${id}`, fn), ms, ...args);
    live.set(`timer:${id}`, { kind: 'timeout', ms, at: where() });
    return id;
  };
  window.setInterval = function (fn, ms, ...args) {
    const id = original.setInterval.call(window, fn, ms, ...args);
    live.set(`timer:${id}`, { kind: 'interval', ms, at: where() });
    return id;
  };
  window.clearTimeout = function (id) { live.delete(`timer:${id}`); return original.clearTimeout.call(window, id); };
  window.clearInterval = function (id) { live.delete(`timer:${id}`); return original.clearInterval.call(window, id); };
  window.requestAnimationFrame = function (fn) {
    let id;
    id = original.requestAnimationFrame.call(window, wrapOnce('frame', () => `frame:${id}`, fn));
    live.set(`frame:${id}`, { kind: 'frame', at: where() });
    return id;
  };
  window.cancelAnimationFrame = function (id) { live.delete(`frame:${id}`); return original.cancelAnimationFrame.call(window, id); };
  window.requestIdleCallback = function (fn, options) {
    let id;
    id = original.requestIdleCallback.call(window, wrapOnce('idle', () => `idle:${id}`, fn), options);
    live.set(`idle:${id}`, { kind: 'idle', at: where() });
    return id;
  };
  window.cancelIdleCallback = function (id) { live.delete(`idle:${id}`); return original.cancelIdleCallback.call(window, id); };
  window.__liveTimers = () => [...live.values()];
}

test('a target taken out of the page is cleaned up; mounting and destroying 50 times leaves nothing', async () => {
  const page = await browser.newPage();
  const problems = await recordPage(page);
  await page.addInitScript(countTimers);
  await page.goto(`${shopUrl}/removed`);
  await waitForState(page, 'ready');
  const removed = await page.evaluate(async () => {
    const target = document.querySelector('#paylater');
    target.remove();
    await new Promise((r) => setTimeout(r, 100));
    return target.shadowRoot.childElementCount;
  });
  assert.equal(removed, 0, 'the removed target was emptied by the destroy');
  // Listeners and timers the page holds, before and after 50 mounts and destroys.
  const client = await page.context().newCDPSession(page);
  const counts = async () => {
    const { result } = await client.send('Runtime.evaluate', { expression: 'window', objectGroup: 'leaks' });
    const { listeners } = await client.send('DOMDebugger.getEventListeners', { objectId: result.objectId });
    const { result: doc } = await client.send('Runtime.evaluate', { expression: 'document', objectGroup: 'leaks' });
    const { listeners: onDocument } = await client.send('DOMDebugger.getEventListeners', { objectId: doc.objectId });
    return listeners.length + onDocument.length;
  };
  const before = await counts();
  // The first widget's own timers ended with it.
  assert.deepEqual(await liveTimersSettled(page), TIMERS_LEFT);
  const mounted = await page.evaluate(async () => {
    const slot = document.querySelector('#slot');
    const whileMounted = [];
    for (let i = 0; i < 50; i += 1) {
      const target = document.createElement('div');
      target.id = `again-${i}`;
      slot.appendChild(target);
      const widget = window.Paylater.mount(target, { key: 'pk_test_demo', amount: 12999, currency: 'USD', locale: 'en-US' });
      await new Promise((resolve) => target.addEventListener('paylater:ready', resolve, { once: true }));
      whileMounted.push(window.__liveTimers().filter((t) => t.kind === 'timeout' && t.at.includes('/paylater_card.js')).length);
      if (i % 2) widget.destroy(); else target.remove();
    }
    await new Promise((r) => setTimeout(r, 300));
    return whileMounted;
  });
  const after = await counts();
  assert.ok(after <= before, `window and document listeners: ${before} before, ${after} after`);
  // The count sees the wasm's own timers: each ready card waits for the shopper's next midnight
  // (one timeout set by the card's bundle), and only the card just mounted is alive.
  assert.deepEqual(mounted, new Array(50).fill(1));
  // Timers: every card's midnight refresh, every dialog's telemetry and every loader's idle
  // callback ended with its widget (see TIMERS_LEFT).
  assert.deepEqual(await liveTimersSettled(page), TIMERS_LEFT);
  // The destroyed ones stay in the page, empty; the removed ones are gone.
  const left = await page.evaluate(() => [...document.querySelectorAll('#slot > div')].map((el) => el.shadowRoot.childElementCount));
  assert.deepEqual(left, new Array(25).fill(0));
  assert.deepEqual(problems, []);
  await page.close();
});

test("a merchant's accent, light or dark: the button's text keeps 4.5:1 in both colour schemes", async () => {
  const page = await browser.newPage();
  const problems = await recordPage(page);
  await page.goto(`${shopUrl}/accents`);
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const target of ['#light-accent', '#dark-accent']) {
      await waitForState(page, 'ready', target);
      const [fg, bg] = await page.locator(`${target} [data-testid=learn-more]`).evaluate((button) => {
        const style = getComputedStyle(button);
        return [style.color, style.backgroundColor];
      });
      assert.equal(bg, target === '#light-accent' ? 'rgb(255, 212, 0)' : 'rgb(26, 35, 126)', `${scheme} ${target}: the merchant's accent`);
      assert.ok(contrast(fg, bg) >= 4.5, `${scheme} ${target}: ${fg} on ${bg} is ${contrast(fg, bg).toFixed(2)}:1`);
    }
  }
  assert.deepEqual(problems, []);
  await page.close();
});

test("a page left open past midnight asks for the new day's terms", async () => {
  const page = await browser.newPage();
  const problems = await recordPage(page);
  const starts = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname === '/v1/offers') starts.push(url.searchParams.get('start'));
  });
  // 23:59:30 today in the browser's zone (Europe/Stockholm): the edge takes the shopper's date
  // within a day of its own, so the day is the real one.
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Europe/Stockholm', year: 'numeric', month: '2-digit', day: '2-digit', timeZoneName: 'longOffset',
  }).formatToParts(new Date()).map((p) => [p.type, p.value]));
  // The edge's UTC date, so the next day is within the day the edge allows a session's start.
  const today = new Date().toISOString().slice(0, 10);
  const offset = parts.timeZoneName.replace('GMT', '') || '+00:00';
  const tomorrow = new Date(Date.parse(`${today}T12:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  await page.clock.install({ time: new Date(`${today}T23:59:30${offset}`) });
  await page.goto(`${shopUrl}/removed`);
  await waitForState(page, 'ready');
  // The loader's early request and the card's may both go out; either way, for that day.
  assert.deepEqual([...new Set(starts)], [today]);
  const before = starts.length;
  await page.clock.runFor(45_000);
  await waitFor(() => events(page), (e) => e.filter((x) => x.name === 'ready').length === 2);
  // A late copy of the first day's request may still go out after ready. The new day's: once
  // for the card, and once more for the dialog, whose bundle mounts when the page is idle after
  // the card is ready, which this page's paused clock puts past midnight. No more than that.
  const after = starts.slice(before).filter((start) => start !== today);
  assert.deepEqual([...new Set(after)], [tomorrow]);
  assert.ok(after.length <= 2, `the new day's terms asked ${after.length} times`);
  assert.equal(await page.locator('#paylater [data-testid=summary]').textContent(), SUMMARY);
  assert.deepEqual(problems, []);
  await page.close();
});
