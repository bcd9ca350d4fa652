// Debian's Chromium through playwright-core: no browser download, a fresh profile per run.
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** A persistent context on a new, empty user-data-dir (Playwright forbids the flag on launch()). */
export async function launchBrowser(contextOptions = {}, extraArgs = []) {
  const profile = mkdtempSync(join(tmpdir(), 'paylater-chromium-'));
  return chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    ...contextOptions,
  });
}

/** Polls `read` until `ok(value)`, at most `timeoutMs`; returns the value. Bounded, never forever. */
export async function waitFor(read, ok, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try { last = await read(); } catch (e) { last = e; }
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`condition not met within ${timeoutMs} ms; last value: ${String(last)}`);
}
