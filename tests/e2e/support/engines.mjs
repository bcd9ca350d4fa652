// The other engines a shopper may use, each from Debian and driven without a browser download:
// Firefox ESR through puppeteer-core over WebDriver BiDi, and WebKitGTK (Safari's engine) through
// its own WebDriver (`WebKitWebDriver`, which starts MiniBrowser) under a private Xvfb, spoken to
// as plain W3C WebDriver over HTTP. Each launcher starts what it needs, learns that it is ready
// from an answer only that process gives, and stops exactly those processes (by their own ids),
// every wait bounded. Both hand back the same small `Shopper` interface, so one script plays the
// shopper in either engine.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import puppeteer from 'puppeteer-core';

export const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';
export const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER ?? '/usr/bin/WebKitWebDriver';
export const MINIBROWSER = process.env.MINIBROWSER ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
export const XVFB = process.env.XVFB ?? '/usr/bin/Xvfb';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Rejects with `what` after `ms`, so no wait here can hang the run. */
function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Waits up to `ms` for `child` to exit; true if it did. */
function exited(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => { clearTimeout(timer); resolve(true); });
  });
}

/** SIGTERM to the process group `child` leads (it was spawned detached, so the group id is its
 *  own pid and holds only what it started), then SIGKILL if it is still there after `ms`. */
async function stopGroup(child, ms = 5_000) {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const signal = (s) => { try { process.kill(-child.pid, s); } catch { /* already gone */ } };
  signal('SIGTERM');
  if (!(await exited(child, ms))) {
    signal('SIGKILL');
    await exited(child, ms);
  }
}

/** Calls `read` until it gives something (not null, undefined or false), at most every 100 ms
 *  for `timeoutMs`; the last error, if any, goes into the timeout's message. */
async function poll(what, read, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await read();
      if (value !== null && value !== undefined && value !== false) return value;
      last = undefined;
    } catch (e) { last = e; }
    await sleep(100);
  }
  throw new Error(`${what}: not there within ${timeoutMs} ms${last ? ` (${last.message})` : ''}`);
}

/** A port nobody listens on at this moment (the kernel's pick). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** What a child last wrote (its last 4,000 characters), for error messages. */
function recordOutput(child) {
  let text = '';
  const keep = (chunk) => { text = (text + chunk).slice(-4_000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => text;
}

// ---------------------------------------------------------------------------------------------
// Firefox ESR (puppeteer-core, WebDriver BiDi)

/** Launches Firefox ESR headless in `timezone` (its `TZ`), on a fresh profile puppeteer makes and
 *  removes. `initScript` runs in every new document before the page's own scripts. */
export async function launchFirefox({ timezone, viewport = { width: 1100, height: 900 }, initScript }) {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    timeout: 60_000,
    protocolTimeout: 60_000,
    env: { ...process.env, TZ: timezone },
    defaultViewport: viewport,
  });
  const pid = browser.process()?.pid;
  try {
    const page = await browser.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    if (initScript) await page.evaluateOnNewDocument(initScript);
    return new FirefoxShopper(browser, page, pid, problems);
  } catch (e) {
    await closeFirefox(browser, pid);
    throw e;
  }
}

/** puppeteer's own close, or else SIGKILL to the process group it started Firefox in (it
 *  launches detached: the group id is Firefox's pid, and holds its content processes). */
async function closeFirefox(browser, pid) {
  try {
    await within(15_000, 'closing Firefox', browser.close());
  } catch {
    const child = browser.process();
    if (pid && child && child.exitCode === null && child.signalCode === null) {
      try { process.kill(-pid, 'SIGKILL'); } catch { /* already gone */ }
      await exited(child, 5_000);
    }
  }
}

class FirefoxShopper {
  constructor(browser, page, pid, problems) {
    this.engine = 'Firefox ESR';
    this.browser = browser;
    this.page = page;
    this.pid = pid;
    this.problems = problems;
  }

  async goto(url) { await this.page.goto(url, { timeout: 30_000, waitUntil: 'load' }); }

  /** Runs `fn(...args)` in the page; returns its (JSON) result. */
  evaluate(fn, ...args) { return this.page.evaluate(fn, ...args); }

  // Waits poll with plain queries (at most every 100 ms, bounded) rather than through
  // puppeteer's waitForSelector: once in about a dozen runs here, that missed an iframe long
  // since in the shadow root, for its full 15 s.

  /** The element `selector` finds in `host`'s open shadow root, once there. */
  findInShadow(host, selector) {
    return poll(`${host} >>> ${selector}`, () => this.page.$(`${host} >>> ${selector}`));
  }

  /** Clicks, with the mouse, the element `selector` finds in `host`'s open shadow root. */
  async clickInShadow(host, selector) {
    const element = await this.findInShadow(host, selector);
    await element.click();
  }

  /** Runs `fill(form)` with the framed document of the iframe `selector` finds in `host`'s shadow
   *  root, `form` offering waitFor, type, select, setValue and click by CSS selector. */
  async inFrame(host, selector, fill) {
    const iframe = await this.findInShadow(host, selector);
    const frame = await poll(`the document of ${selector}`, () => iframe.contentFrame());
    const find = (s) => poll(`${s} in ${selector}`, () => frame.$(s));
    return fill({
      waitFor: find,
      type: async (s, text) => (await find(s)).type(text),
      select: async (s, value) => (await find(s)).select(value),
      setValue: async (s, value) => (await find(s)).evaluate(setInputValue, value),
      click: async (s) => (await find(s)).click(),
    });
  }

  async screenshot(path) { await this.page.screenshot({ path }); }

  async close() { await closeFirefox(this.browser, this.pid); }
}

/** What a date picker leaves behind: the value, then `input` and `change` as for a person (the
 *  typed form of a date field differs per engine and locale; its value does not). */
function setInputValue(element, value) {
  element.focus();
  element.value = value;
  element.dispatchEvent(new Event('input', { bubbles: true }));
  element.dispatchEvent(new Event('change', { bubbles: true }));
  return element.value;
}

// ---------------------------------------------------------------------------------------------
// WebKitGTK (WebKitWebDriver → MiniBrowser, under Xvfb; W3C WebDriver over HTTP)

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

/** Starts Xvfb on a display it picks itself (`-displayfd`: it writes the number once it
 *  accepts clients, which is the readiness answer). */
async function startXvfb() {
  const child = spawn(XVFB, ['-displayfd', '3', '-nolisten', 'tcp', '-screen', '0', '1280x1024x24'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const output = recordOutput(child);
  try {
    const display = await within(15_000, 'Xvfb', new Promise((resolve, reject) => {
      let written = '';
      child.stdio[3].on('data', (chunk) => {
        written += chunk;
        if (written.includes('\n')) resolve(written.trim());
      });
      child.once('error', reject);
      child.once('exit', (code, signal) => reject(new Error(`Xvfb exited (${code ?? signal}): ${output()}`)));
    }));
    if (!/^\d+$/.test(display)) throw new Error(`Xvfb wrote no display number: ${JSON.stringify(display)}`);
    return { child, display: `:${display}` };
  } catch (e) {
    await stopGroup(child);
    throw e;
  }
}

/** Starts WebKitWebDriver on a free port, ready once its own `GET /status` says `ready: true`. */
async function startWebKitDriver(env) {
  const port = await freePort();
  const child = spawn(WEBKIT_DRIVER, [`--port=${port}`, '--host=local'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env,
  });
  const output = recordOutput(child);
  const url = `http://127.0.0.1:${port}`;
  let gone = null;
  child.once('exit', (code, signal) => { gone = code ?? signal; });
  child.once('error', (e) => { gone = String(e); });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (gone !== null) break;
    try {
      const response = await fetch(`${url}/status`, { signal: AbortSignal.timeout(2_000) });
      const body = await response.json();
      if (body?.value?.ready === true) return { child, url, output };
    } catch { /* not listening yet */ }
    await sleep(100);
  }
  await stopGroup(child);
  throw new Error(`WebKitWebDriver on port ${port} not ready (${gone === null ? 'timed out' : `exited ${gone}`}): ${output()}`);
}

/** One W3C WebDriver command; throws the driver's error, with its message, on failure. */
async function command(base, method, path, body, timeoutMs = 60_000) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let answer;
  try { answer = JSON.parse(text); } catch { answer = { value: text }; }
  if (!response.ok) {
    const v = answer?.value ?? {};
    throw new Error(`WebDriver ${method} ${path}: ${response.status} ${v.error ?? ''} ${v.message ?? text}`.trim());
  }
  return answer.value;
}

/** Launches MiniBrowser through WebKitWebDriver on a private Xvfb, in `timezone` (the `TZ` the
 *  driver, and so the browser it starts, runs with). `initScript` has no classic-WebDriver
 *  equivalent: it runs right after each `goto`. */
export async function launchWebKit({ timezone, viewport = { width: 1100, height: 900 }, initScript }) {
  const xvfb = await startXvfb();
  let driver;
  try {
    driver = await startWebKitDriver({ ...process.env, DISPLAY: xvfb.display, TZ: timezone });
    const session = await command(driver.url, 'POST', '/session', {
      capabilities: {
        alwaysMatch: {
          browserName: 'MiniBrowser',
          'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
          timeouts: { script: 30_000, pageLoad: 30_000, implicit: 0 },
        },
      },
    });
    const shopper = new WebKitShopper(xvfb, driver, `${driver.url}/session/${session.sessionId}`, initScript);
    try {
      await shopper.wd('POST', '/window/rect', { width: viewport.width, height: viewport.height });
    } catch (e) {
      await shopper.close();
      throw e;
    }
    return shopper;
  } catch (e) {
    await stopGroup(driver?.child);
    await stopGroup(xvfb.child);
    throw new Error(`${e.message}${driver ? `\n--- WebKitWebDriver output\n${driver.output()}` : ''}`);
  }
}

class WebKitShopper {
  constructor(xvfb, driver, session, initScript) {
    this.engine = 'WebKitGTK';
    this.xvfb = xvfb;
    this.driver = driver;
    this.session = session;
    this.initScript = initScript;
    // Classic WebDriver does not report console messages or page errors.
    this.problems = [];
  }

  wd(method, path, body) { return command(this.session, method, path, body); }

  async goto(url) {
    await this.wd('POST', '/url', { url });
    if (this.initScript) await this.evaluate(this.initScript);
  }

  /** Runs `fn(...args)` in the current browsing context; returns its (JSON) result. */
  evaluate(fn, ...args) {
    return this.wd('POST', '/execute/sync', { script: `return (${fn}).apply(null, arguments);`, args });
  }

  /** The element `selector` finds in `host`'s open shadow root, as a WebDriver reference. */
  findInShadow(host, selector) {
    return poll(`${host} >>> ${selector}`, async () => {
      const element = await this.wd('POST', '/execute/sync', {
        script: 'const root = document.querySelector(arguments[0])?.shadowRoot; return root?.querySelector(arguments[1]) ?? null;',
        args: [host, selector],
      });
      return element?.[ELEMENT] ? element : null;
    });
  }

  /** The element `selector` finds in the current browsing context (the frame, in inFrame). */
  find(selector) {
    return poll(selector, () => this.wd('POST', '/element', { using: 'css selector', value: selector }));
  }

  /** WebDriver's element click: scrolled into view, checked for being the one hit, then a
   *  real pointer click. */
  async clickInShadow(host, selector) {
    const element = await this.findInShadow(host, selector);
    await this.clickWhenInteractable(element, `${host} >>> ${selector}`);
  }

  clickWhenInteractable(element, what) {
    return this.whenInteractable(`clicking ${what}`, () => this.wd('POST', `/element/${element[ELEMENT]}/click`, {}));
  }

  /** Retries `act` while the driver calls its element not interactable yet: dialogs and frames
   *  that just opened are still being laid out. */
  async whenInteractable(what, act, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await act();
      } catch (e) {
        if (Date.now() > deadline || !/not interactable|click intercepted/.test(e.message)) {
          throw new Error(`${what}: ${e.message}`);
        }
      }
      await sleep(100);
    }
  }

  async inFrame(host, selector, fill) {
    const iframe = await this.findInShadow(host, selector);
    await this.wd('POST', '/frame', { id: iframe });
    try {
      return await fill({
        waitFor: (s) => this.find(s),
        type: async (s, text) => {
          // Into the field as a person does: click, then type. (WebKit refuses the programmatic
          // focus that Element Send Keys starts with inside a cross-origin frame, and calls the
          // field "not focusable"; a click focuses it.)
          const element = await this.find(s);
          await this.clickWhenInteractable(element, s);
          await this.whenInteractable(`typing into ${s}`, () => this.wd('POST', `/element/${element[ELEMENT]}/value`, { text }));
        },
        select: async (s, value) => {
          const option = await this.find(`${s} option[value="${value}"]`);
          await this.clickWhenInteractable(option, `${s} option ${value}`);
        },
        setValue: async (s, value) => {
          const element = await this.find(s);
          return this.wd('POST', '/execute/sync', {
            script: `return (${setInputValue}).apply(null, arguments);`,
            args: [element, value],
          });
        },
        click: async (s) => this.clickWhenInteractable(await this.find(s), s),
      });
    } finally {
      await this.wd('POST', '/frame', { id: null }).catch(() => {});
    }
  }

  async screenshot(path) {
    // WebKit's screenshot is the last frame it painted: let a rendering update happen first.
    await this.wd('POST', '/execute/async', {
      script: 'const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));',
      args: [],
    }).catch(() => {});
    const png = await this.wd('GET', '/screenshot');
    writeFileSync(path, Buffer.from(png, 'base64'));
  }

  /** Ends the session (MiniBrowser quits), then stops the driver's and Xvfb's process groups. */
  async close() {
    await command(this.session, 'DELETE', '', undefined, 15_000).catch(() => {});
    await stopGroup(this.driver.child);
    await stopGroup(this.xvfb.child);
  }
}
