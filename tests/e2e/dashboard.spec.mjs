// The merchant dashboard (GET /dashboard on the edge) in Chromium, against the week of demo
// traffic `cargo xtask test` seeded (its figures in SEEDED_WEEK): sign in with the demo key, see
// the funnel and the decisions for the seeded days, change the range, sign out; a key without
// insights:read is told why; nothing the page does breaks its CSP; axe clean; 320 px wide.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, waitFor } from './support/browser.mjs';

const require = createRequire(import.meta.url);
const EDGE_URL = process.env.EDGE_URL;
const SEEDED = process.env.SEEDED_WEEK ? JSON.parse(readFileSync(process.env.SEEDED_WEEK, 'utf8')) : null;
const ARTIFACTS = process.env.ARTIFACTS_DIR ?? mkdtempSync(join(tmpdir(), 'paylater-artifacts-'));
/** docs/merchant-server.md: the demo merchant's keys. */
const DEMO_KEY = 'sk_test_demo.local-dev-only-4bXq9TzR7wLmN2pVc8sKd3Fh';
const READONLY_KEY = 'sk_test_demo.readonly-local-only-7hGt2QmZ9xVb4nLw';

let browser;
before(async () => {
  assert.ok(EDGE_URL && SEEDED, 'run through `cargo xtask test`, which starts the edge and seeds the week');
  browser = await launchBrowser({ viewport: { width: 1100, height: 900 } });
  // The consumer counts the replayed week within a minute or two: wait for all of its sessions.
  await waitFor(async () => {
    const reply = await fetch(`${EDGE_URL}/v1/insights/funnel?from=${SEEDED.from}&to=${SEEDED.to}`, {
      headers: { Authorization: `Bearer ${DEMO_KEY}` },
    });
    return (await reply.json()).steps?.[0]?.sessions ?? 0;
  }, (sessions) => sessions >= SEEDED.sessions, 180_000);
});
after(async () => {
  await browser?.close();
});

/** A dashboard tab that records CSP violations and page errors. */
async function dashboard(viewport) {
  const page = await browser.newPage();
  if (viewport) await page.setViewportSize(viewport);
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window.__violations ??= []).push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  await page.goto(`${EDGE_URL}/dashboard`);
  return { page, problems };
}

async function signIn(page, key) {
  await page.getByLabel('Secret key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** axe-core over the page. Evaluated through the driver, not as an inline script: the page's
 *  CSP (rightly) refuses those. */
async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
  }
  return page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    });
    return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
}

/** The funnel's bars as `[label, value]`. */
function funnelBars(page) {
  return page.locator('[data-testid=funnel] .bar-row').evaluateAll((rows) => rows.map((row) => [
    row.querySelector('.bar-label').textContent, Number(row.querySelector('.bar-value strong').textContent),
  ]));
}

test('sign in with the demo key: the seeded week as a funnel, decisions and anomalies; change the range; sign out', async () => {
  const { page, problems } = await dashboard();
  await signIn(page, DEMO_KEY);
  await page.locator('[data-testid=funnel]').waitFor();
  assert.equal(await page.getByTestId('mode').textContent(), 'Test data');
  // The key never reaches a URL: only the tab's sessionStorage holds it.
  assert.ok(!page.url().includes('sk_test'), page.url());
  assert.equal(await page.evaluate(() => sessionStorage.getItem('paylater.dashboard.key')), DEMO_KEY);

  // The last 7 days (the default) hold the whole seeded week.
  const bars = await funnelBars(page);
  assert.deepEqual(bars.map(([label]) => label), [
    'Widget shown', 'Widget seen', 'Terms opened', 'Plan chosen', 'Application started', 'Application sent',
    'Approved', 'Order created',
  ]);
  assert.ok(bars[0][1] >= SEEDED.sessions, `${bars[0][1]} sessions shown, ${SEEDED.sessions} seeded`);
  assert.ok(bars[7][1] >= SEEDED.orders, `${bars[7][1]} orders shown, ${SEEDED.orders} seeded`);
  const widths = await page.locator('[data-testid=funnel] .bar').evaluateAll((all) => all.map((b) => b.style.width));
  assert.equal(widths[0], '100%');
  const summary = await page.getByTestId('decision-summary').textContent();
  const declined = Number(summary.match(/(\d+) declined/)[1]);
  assert.ok(declined >= SEEDED.declined, `${summary} (${SEEDED.declined} seeded declines)`);
  const reasons = await page.locator('[data-testid=decisions] .bar-label').allTextContents();
  assert.ok(reasons.includes('declined: credit limit'), reasons.join(', '));
  assert.ok((await page.locator('[data-testid=plans] .bar-row').count()) >= 3);
  // The seeded bot bursts: automated agents flagged on the timeline.
  const anomalies = await page.locator('[data-testid=anomalies] li').allTextContents();
  assert.ok(anomalies.some((a) => a.startsWith('Automated agents')), anomalies.join(' | '));
  assert.deepEqual(await axeViolations(page), []);
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });

  // A range before the seeded week: the empty state, not zeros.
  const before = new Date(Date.parse(SEEDED.from) - 30 * 86_400_000).toISOString().slice(0, 10);
  await page.getByTestId('from').fill(before);
  await page.getByTestId('to').fill(before);
  await page.getByTestId('show').click();
  await page.getByTestId('empty').waitFor();
  assert.match(await page.getByTestId('shown').textContent(), new RegExp(`${before} to ${before} \\(1 days\\)`));
  assert.match(await page.locator('[data-testid=anomalies]').textContent(), /No anomalies in these days/);
  // A reversed range is refused on the page, with a reason.
  await page.getByTestId('from').fill(SEEDED.to);
  await page.getByTestId('show').click();
  await page.getByText('The first day must not be after the last.').waitFor();
  // Back to the last 7 days.
  await page.getByRole('button', { name: 'Last 7 days' }).click();
  await page.locator('[data-testid=funnel]').waitFor();

  await page.getByTestId('sign-out').click();
  await page.getByTestId('sign-in').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('paylater.dashboard.key')), null);
  assert.match(await page.getByTestId('notice').textContent(), /signed out/);
  assert.deepEqual(await page.evaluate(() => window.__violations ?? []), [], 'no CSP violation');
  assert.deepEqual(problems, []);
  await page.close();
});

test('a key without insights:read, or no secret key at all, is told why and stays signed out', async () => {
  const { page } = await dashboard();
  await signIn(page, 'pk_test_demo');
  assert.match(await page.getByTestId('notice').textContent(), /not a publishable key/);
  await signIn(page, READONLY_KEY);
  await page.getByTestId('sign-in').waitFor();
  await waitFor(() => page.getByTestId('notice').textContent(), (text) => /insights:read/.test(text ?? ''));
  assert.equal(await page.evaluate(() => sessionStorage.getItem('paylater.dashboard.key')), null);
  await signIn(page, 'sk_test_demo.revoked-local-only-0000000000000000');
  await waitFor(() => page.getByTestId('notice').textContent(), (text) => /not accepted/.test(text ?? ''));
  assert.deepEqual(await axeViolations(page), []);
  await page.close();
});

test('320 px wide: nothing scrolls sideways, every chart is readable', async () => {
  const { page, problems } = await dashboard({ width: 320, height: 800 });
  await signIn(page, DEMO_KEY);
  await page.locator('[data-testid=funnel]').waitFor();
  await page.locator('[data-testid=anomalies]').waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.equal(overflow, 0, 'no sideways scroll at 320 px');
  const narrow = await page.locator('.bar-row').evaluateAll((rows) => rows.filter((r) => r.getBoundingClientRect().right > 320).length);
  assert.equal(narrow, 0);
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-320.png'), fullPage: true });
  assert.deepEqual(await page.evaluate(() => window.__violations ?? []), []);
  assert.deepEqual(problems, []);
  await page.close();
});
