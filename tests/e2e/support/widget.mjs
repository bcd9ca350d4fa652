// Page helpers for the widget specs: the widget lives in an open shadow root, which Playwright's
// CSS locators pierce; these read what the shopper sees and what the merchant page receives.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { waitFor } from './browser.mjs';

const require = createRequire(import.meta.url);

/** A desktop Chrome user agent: headless Chromium announces itself, which the scorecard
 *  rightly treats as an automated session. Specs that play a real shopper use this one. */
export const SHOPPER_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36';

/** Records every `paylater:*` event that reaches `document`, and console errors and CSP reports. */
export async function recordPage(page) {
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  await page.addInitScript(() => {
    window.__paylaterEvents = [];
    window.__cspViolations = [];
    window.__layoutShift = 0;
    window.__layoutShiftSources = [];
    for (const name of ['ready', 'plan-selected', 'approved', 'declined', 'review', 'error']) {
      document.addEventListener(`paylater:${name}`, (e) =>
        window.__paylaterEvents.push({ name, target: e.target.id, detail: e.detail }));
    }
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (entry.hadRecentInput) continue;
        window.__layoutShift += entry.value;
        // What moved (for a failure message): the node, and its rectangle before and after.
        window.__layoutShiftSources.push(...(entry.sources ?? []).map((s) => ({
          value: entry.value, node: s.node ? (s.node.outerHTML ?? s.node.nodeName).slice(0, 100) : null,
          from: s.previousRect.toJSON(), to: s.currentRect.toJSON(),
        })));
      }
    }).observe({ type: 'layout-shift', buffered: true });
  });
  return problems;
}

export const events = (page) => page.evaluate(() => window.__paylaterEvents);
export const eventNames = async (page) => (await events(page)).map((e) => e.name);

/** The layout shift counted so far, and what moved (for a failure message). */
export const layoutShift = (page) => page.evaluate(() => [window.__layoutShift, JSON.stringify(window.__layoutShiftSources)]);

export async function stateOf(page, selector = '#paylater') {
  return page.locator(selector).getAttribute('data-paylater-state');
}

export async function waitForState(page, wanted, selector = '#paylater', timeoutMs = 15_000) {
  return waitFor(() => stateOf(page, selector), (s) => s === wanted, timeoutMs);
}

/** Waits until the card's summary reads `text` (the terms follow the attributes). */
export async function waitForSummary(page, text, root = '#paylater') {
  return waitFor(() => page.locator(`${root} [data-testid=summary]`).textContent(), (t) => t === text);
}

/** Where keyboard focus is, as `dialog:<testid>` or `card:<testid>` inside a widget's shadow
 *  root (an element without a testid by its radio value or tag), `body` when focus fell out of
 *  everything, or `outside:<tag>#<id>` for the merchant page's own elements. The widget's root
 *  may be the target's own shadow root or that of the element of ours inside it. */
export function focusPath(page) {
  return page.evaluate(() => {
    const active = document.activeElement;
    if (active === null || active === document.body || active === document.documentElement) return 'body';
    const inner = active.shadowRoot?.activeElement;
    if (!inner) return `outside:${active.localName}#${active.id}`;
    const name = inner.dataset.testid ?? (inner.type === 'radio' ? `radio:${inner.value}` : inner.localName);
    return `${inner.closest('dialog') ? 'dialog' : 'card'}:${name}`;
  });
}

/** Waits until focus is at `wanted` (see focusPath); returns it. */
export function waitForFocus(page, wanted, timeoutMs = 5_000) {
  return waitFor(() => focusPath(page), (where) => where === wanted, timeoutMs);
}

/** Runs axe-core (WCAG 2.x A and AA rules) over the page, open shadow roots included. */
export async function axeViolations(page, context = 'document') {
  const source = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ content: source });
  return page.evaluate(async (ctx) => {
    const result = await window.axe.run(ctx === 'document' ? document : document.querySelector(ctx), {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    });
    return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }, context);
}

/** Waits for the framed approval form of the widget on `root`, gives the session and the form
 *  the few seconds a person would (the scorecard reads anything faster as automated), fills it
 *  and submits. Returns the frame. */
export async function fillApprovalForm(page, { root = '#paylater', email, dateOfBirth = '1990-05-17', country = 'US', beforeFilling }) {
  const form = page.frameLocator(`${root} [data-testid=checkout-frame]`);
  await form.locator('#email').waitFor();
  if (beforeFilling) await beforeFilling(form);
  // 4 s, not just over the 3 s the scorecard asks: the session's age counts from its token, which
  // a busy machine may make a second after the form showed.
  await page.waitForTimeout(4_000);
  await form.locator('#email').fill(email);
  await form.locator('#date-of-birth').fill(dateOfBirth);
  await form.locator('#country').selectOption(country);
  await form.locator('#consent').check();
  await form.locator('#submit').click();
  return form;
}

/** Opens the plans, picks `plan`, continues to the approval form and fills it like a person
 *  (see fillApprovalForm). Returns the form's frame. */
export async function applyWith(page, { plan = 'pay_in_4', email, dateOfBirth = '1990-05-17', country = 'US' }) {
  await page.getByTestId('learn-more').click();
  await page.locator(`[data-plan-id=${plan}] input`).check();
  await page.getByTestId('continue').click();
  return fillApprovalForm(page, { email, dateOfBirth, country });
}

/** Sets the demo cart's quantities (`{ jacket: 1, socks: 3 }`) as a shopper does, and waits
 *  until the widget's terms are for `total` minor units. Needs recordPage. */
export async function setCart(page, quantities, total) {
  for (const [sku, qty] of Object.entries(quantities)) {
    await page.getByTestId(`qty-${sku}`).fill(String(qty));
    await page.getByTestId(`qty-${sku}`).dispatchEvent('change');
  }
  await waitFor(() => events(page), (e) => e.some((x) => x.name === 'ready' && x.detail.plans[0].total === total));
}

/** Screenshots the page in the light and the dark scheme into `dir`, then goes back to light.
 *  Switching the emulated scheme re-lays out the merchant's own form controls (a shift of about
 *  0.001 on the demo), so the layout-shift count starts again after it. */
export async function shootLightAndDark(page, dir, name) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: join(dir, `${name}-${scheme}.png`) });
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.waitForTimeout(200);
  await page.evaluate(() => { window.__layoutShift = 0; window.__layoutShiftSources = []; });
}
