// The widget in every language it speaks, in right-to-left pages, at a phone's width and at 200%
// zoom, and in currencies whose ISO 4217 digits differ from what `Intl` shows by default. Pages
// are served by this spec itself (a checkout laid out like the demo's), against the real edge.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, waitFor } from './support/browser.mjs';
import { recordPage, waitForState, axeViolations } from './support/widget.mjs';

const EDGE_URL = process.env.EDGE_URL;
const ARTIFACTS = process.env.ARTIFACTS_DIR ?? mkdtempSync(join(tmpdir(), 'paylater-artifacts-'));
mkdirSync(ARTIFACTS, { recursive: true });

// The catalog's sixteen locales (shared/src/catalog.rs), each with a currency the demo merchant
// takes, its market's own where it has one.
const LOCALES = [
  ['en-US', 'USD'], ['en-GB', 'GBP'], ['de-DE', 'EUR'], ['sv-SE', 'SEK'], ['fr-FR', 'EUR'], ['ja-JP', 'JPY'],
  ['es-ES', 'EUR'], ['it-IT', 'EUR'], ['nl-NL', 'EUR'], ['pl-PL', 'USD'], ['da-DK', 'USD'], ['nb-NO', 'USD'],
  ['fi-FI', 'EUR'], ['en-AU', 'USD'], ['en-CA', 'USD'], ['fr-CA', 'USD'],
];
// An amount every currency above has pay in 4 for: 129.99 (12999 yen for JPY).
const AMOUNT = '12999';
// Amounts with all three plan kinds (pay in 4, in 30 days, financing) in each currency.
const ALL_PLANS = { USD: '30000', EUR: '30000', GBP: '30000', SEK: '300000', JPY: '40000' };

// A checkout laid out like the demo's: two columns on a desktop, one below 49 rem; the widget in
// the payment column, 248 px wide at 320 px, 380 px at 1000 px, 568 px at 640 px. The reservation
// is the embedding guide's (docs/embedding.md, "No layout shift").
const CHECKOUT_CSS = `
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 Georgia, serif; color: #20302a; background: #f4f1ea; }
.checkout { display: grid; gap: 1.5rem; max-width: 56rem; margin: 2rem auto; padding: 0 1rem;
  grid-template-columns: repeat(auto-fit, minmax(min(100%, 24rem), 1fr)); }
.cart, .payment { background: #fff; border-radius: 0.75rem; padding: 1.25rem; }
#paylater { display: block; min-height: 176px; }
@media (max-width: 479px) { #paylater { min-height: 264px; } }`;

/** `/checkout?locale=…&currency=…&amount=…[&key=…][&dir=html|target][&lang=…]` */
function checkoutPage(query) {
  const q = (name, fallback) => query.get(name) ?? fallback;
  const dir = q('dir', '');
  const attr = (value) => value.replace(/[^\w-]/g, '');
  return `<!doctype html><html lang="${attr(q('lang', 'en'))}"${dir === 'html' ? ' dir="rtl"' : ''}><head>
<meta charset="utf-8"><title>Checkout</title><style>${CHECKOUT_CSS}</style></head>
<body><main class="checkout"><section class="cart"><h1>Your order</h1><p>Trail Running Jacket</p></section>
<section class="payment"><h2>Payment</h2>
<div id="paylater"${dir === 'target' ? ' dir="rtl"' : ''}></div>
<script async src="${EDGE_URL}/v1/widget.js" data-key="${attr(q('key', 'pk_test_demo'))}" data-amount="${attr(q('amount', AMOUNT))}"
  data-currency="${attr(q('currency', 'USD'))}" data-locale="${attr(q('locale', 'en-US'))}" data-target="#paylater"></script>
<p id="below">Place order</p></section></main></body></html>`;
}

let browser;
let shop;
let shopUrl;
before(async () => {
  assert.ok(EDGE_URL, 'run through `cargo xtask e2e`, which starts the edge');
  shop = createServer((req, res) => {
    const url = new URL(req.url, 'http://shop');
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(url.pathname === '/checkout' ? checkoutPage(url.searchParams) : '<!doctype html><title>none</title>');
  });
  await new Promise((resolve) => shop.listen(0, '127.0.0.1', resolve));
  shopUrl = `http://127.0.0.1:${shop.address().port}`;
  browser = await launchBrowser({ timezoneId: 'Europe/Stockholm', viewport: { width: 1000, height: 900 } });
});
after(async () => {
  await browser?.close();
  await new Promise((resolve) => (shop ? shop.close(resolve) : resolve()));
});

/** A fresh page at `viewport` with the checkout for `params`, its card ready. */
async function openCheckout(params, viewport = { width: 1000, height: 900 }) {
  const page = await browser.newPage();
  await page.setViewportSize(viewport);
  const problems = await recordPage(page);
  await page.goto(`${shopUrl}/checkout?${new URLSearchParams(params)}`);
  await waitForState(page, 'ready');
  return { page, problems };
}

async function openDialog(page) {
  await page.getByTestId('learn-more').click();
  await page.getByTestId('plan-details').waitFor();
}

/** Every element in the widget's shadow root that holds text of its own (or an aria-label), as
 *  the shopper's screen or screen reader gets it. */
function widgetTexts(page) {
  return page.locator('#paylater').evaluate((host) => {
    const seen = [];
    const walk = (node) => {
      for (const el of node.children ?? []) {
        const own = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join('');
        if (own.trim() || el.hasAttribute('aria-label')) {
          seen.push({ testid: el.closest('[data-testid]')?.dataset.testid ?? el.localName, text: el.textContent, label: el.getAttribute('aria-label') });
        }
        walk(el);
      }
    };
    walk(host.shadowRoot);
    return seen;
  });
}

// What a missing message looks like: the card and the dialog fall back to a message's raw
// template when a value is missing (`{amount}` on screen), and a text a locale's table lacks
// comes out empty (`catalog::nth`); the table's separator (U+001F) must never leak.
const PLACEHOLDER = /\{[a-z_]*\}|\u001f/;
const REQUIRED = ['headline', 'summary', 'learn-more', 'dialog-title', 'offer-summary', 'installment', 'continue', 'apr', 'total-payable', 'lender'];

test('every catalog locale renders the card and the dialog with no missing message', async () => {
  for (const [locale, currency] of LOCALES) {
    const { page, problems } = await openCheckout({ locale, currency, amount: ALL_PLANS[currency] });
    await openDialog(page);
    assert.equal(await page.getByTestId('plan-choice').count(), 5, `${locale}: pay in 4, in 30 days, 3 financing terms`);
    const texts = [...await widgetTexts(page)];
    // Financing too (its own messages: months, representative example).
    await page.locator('[data-plan-id^=financing] input').first().check();
    await waitFor(() => page.getByTestId('plan-details').getAttribute('data-plan-id'), (id) => id.startsWith('financing'));
    texts.push(...await widgetTexts(page));
    for (const { testid, text, label } of texts) {
      assert.doesNotMatch(text, PLACEHOLDER, `${locale} ${testid}: ${JSON.stringify(text)}`);
      if (label !== null) assert.ok(label.trim() && !PLACEHOLDER.test(label), `${locale} ${testid} aria-label: ${JSON.stringify(label)}`);
    }
    for (const testid of REQUIRED) {
      const shown = texts.filter((t) => t.testid === testid);
      assert.ok(shown.length > 0, `${locale}: no ${testid}`);
      for (const { text } of shown) assert.ok(text.trim().length > 1, `${locale} ${testid} is empty: ${JSON.stringify(text)}`);
    }
    // The card speaks the locale, not the fallback: only the English locales say "Learn more".
    const learnMore = await page.getByTestId('learn-more').textContent();
    assert.equal(learnMore === 'Learn more', locale.startsWith('en-'), `${locale}: ${learnMore}`);
    assert.deepEqual(problems, [], locale);
    await page.close();
  }
});

/** Direction of a text as `dir="auto"` would see it: its first strong character, skipping
 *  isolated runs (U+2066–U+2069). `null` when it has none. */
const firstStrongSource = `(text) => {
  let depth = 0;
  for (const ch of text) {
    if ('\\u2066\\u2067\\u2068'.includes(ch)) depth++;
    else if (ch === '\\u2069') depth = Math.max(0, depth - 1);
    else if (depth === 0 && /[\\u0590-\\u08ff\\u200f\\ufb1d-\\ufdff\\ufe70-\\ufefc]/.test(ch)) return 'rtl';
    else if (depth === 0 && /[A-Za-z\\u00c0-\\u024f\\u0370-\\u03ff\\u0400-\\u04ff\\u3040-\\u30ff\\u4e00-\\u9fff\\u200e]/.test(ch)) return 'ltr';
  }
  return null;
}`;

/** For each visible text element of the card and the open dialog: the direction its text has
 *  (first strong character) and where its lines sit. A text in its own direction starts every
 *  line at its own start edge: the left for left to right, the right for right to left. And
 *  every run written right to left in an isolate (an amount, a date) shows its characters in the
 *  same visual order as the same string alone in a <bdi>, so nothing around it reorders it. */
function directionReport(page) {
  return page.locator('#paylater').evaluate((host, source) => {
    const firstStrong = new Function(`return ${source}`)();
    const root = host.shadowRoot;
    const lines = (range) => {
      const byTop = new Map();
      for (const r of range.getClientRects()) {
        if (r.width === 0) continue;
        const top = Math.round(r.top);
        const line = byTop.get(top) ?? { left: Infinity, right: -Infinity };
        byTop.set(top, { left: Math.min(line.left, r.left), right: Math.max(line.right, r.right) });
      }
      return [...byTop.values()];
    };
    // The characters of `node[start, end)` as they appear left to right on screen.
    const visualOrder = (node, start, end) => {
      const chars = [];
      for (let i = start; i < end; i++) {
        const range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const r = range.getBoundingClientRect();
        if (r.width > 0 && node.textContent[i].trim()) chars.push([r.left, node.textContent[i]]);
      }
      return chars.sort((a, b) => a[0] - b[0]).map((c) => c[1]).join('');
    };
    // In the widget's font, so both sides shape the same glyphs.
    const reference = (text, font) => {
      const p = document.createElement('p');
      p.style.font = font;
      const bdi = document.createElement('bdi');
      bdi.textContent = text;
      p.append('x ', bdi, ' x');
      document.body.append(p);
      const order = visualOrder(bdi.firstChild, 0, text.length);
      p.remove();
      return order;
    };
    const report = [];
    for (const el of root.querySelectorAll('*')) {
      const textNodes = [...el.childNodes].filter((n) => n.nodeType === 3 && n.textContent.trim());
      const box = el.getBoundingClientRect();
      if (!textNodes.length || box.width <= 1 || !el.getClientRects().length) continue;
      const style = getComputedStyle(el);
      const contentLeft = box.left + parseFloat(style.borderLeftWidth) + parseFloat(style.paddingLeft);
      const contentRight = box.right - parseFloat(style.borderRightWidth) - parseFloat(style.paddingRight);
      const text = el.textContent;
      const expected = firstStrong(text);
      const range = document.createRange();
      range.selectNodeContents(el);
      const centred = style.textAlign === 'center';
      const misplaced = centred || expected === null ? [] : lines(range).filter((line) => expected === 'ltr'
        ? Math.abs(line.left - contentLeft) > 1.5
        : Math.abs(line.right - contentRight) > 1.5);
      const reordered = [];
      for (const node of textNodes) {
        for (const m of node.textContent.matchAll(/\u2068([^\u2069]*)\u2069/g)) {
          const inner = m[1];
          const shown = visualOrder(node, m.index + 1, m.index + 1 + inner.length);
          const alone = reference(inner, style.font);
          if (shown !== alone) reordered.push({ inner, shown, alone });
        }
      }
      report.push({
        testid: el.closest('[data-testid]')?.dataset.testid ?? el.localName, text: text.slice(0, 60), expected,
        computed: style.direction, bidi: style.unicodeBidi, misplaced, reordered,
      });
    }
    return report;
  }, firstStrongSource);
}

/** Horizontal overflow of the document, the widget's host, the card and the open dialog. */
function overflow(page) {
  return page.evaluate(() => {
    const host = document.querySelector('#paylater');
    const root = host.shadowRoot;
    const boxes = {
      document: document.documentElement,
      host,
      card: root.querySelector('[data-testid=card]'),
      dialog: root.querySelector('[data-testid=dialog]'),
    };
    return Object.entries(boxes)
      .filter(([, el]) => el && el.getClientRects().length)
      .map(([name, el]) => ({ name, scrollWidth: el.scrollWidth, clientWidth: el.clientWidth }))
      .filter((b) => b.scrollWidth > b.clientWidth);
  });
}

test('right-to-left pages: he-IL and ar-EG render without overflow, each text in its own direction', async () => {
  // he-IL on a page that is right to left as a whole, ar-EG in a right-to-left target, and ar-EG
  // on a left-to-right page, where the locale alone turns the widget right to left.
  const pages = [
    { locale: 'he-IL', currency: 'USD', dir: 'html', lang: 'he' },
    { locale: 'ar-EG', currency: 'EUR', dir: 'target', lang: 'ar' },
    { locale: 'ar-EG', currency: 'USD', amount: '120000', lang: 'en' },
  ];
  for (const params of pages) {
    for (const viewport of [{ width: 1000, height: 900 }, { width: 320, height: 700 }]) {
      const name = `${params.locale} dir=${params.dir ?? 'locale'} at ${viewport.width} px`;
      const { page, problems } = await openCheckout(params, viewport);
      // The layout follows the page or the locale: both containers are right to left.
      const containers = await page.locator('#paylater').evaluate((host) =>
        [...host.shadowRoot.querySelectorAll('.pl-mount')].map((m) => getComputedStyle(m).direction));
      assert.deepEqual(containers, ['rtl', 'rtl'], name);
      // Their languages fall back to English: the card reads left to right.
      const summary = await page.getByTestId('summary').textContent();
      assert.match(summary, /every 2 weeks · .* APR · Total /, name);
      await openDialog(page);
      assert.deepEqual(await overflow(page), [], `${name}: horizontal overflow`);
      const report = await directionReport(page);
      assert.ok(report.length >= 8, `${name}: ${JSON.stringify(report)}`);
      for (const t of report) {
        assert.deepEqual(t.misplaced, [], `${name}: ${t.testid} ${JSON.stringify(t.text)} (${t.expected}) does not start at its own edge`);
        assert.deepEqual(t.reordered, [], `${name}: ${t.testid} ${JSON.stringify(t.text)} reorders its figures`);
      }
      // The card's own texts are in English: left to right, inside the right-to-left layout.
      const card = report.filter((t) => ['headline', 'summary', 'other-plans', 'learn-more'].includes(t.testid));
      assert.equal(card.length, 4, `${name}: ${JSON.stringify(card)}`);
      for (const t of card) assert.equal(t.expected, 'ltr', `${name}: ${t.testid} ${JSON.stringify(t.text)}`);
      // The figures formatted for the locale are written right to left, and isolated.
      assert.ok(report.some((t) => /\u2068/.test(t.text)), `${name}: no isolated figure`);
      await page.screenshot({ path: join(ARTIFACTS, `rtl-${params.locale}-${params.dir ?? 'locale'}-${viewport.width}.png`) });
      await page.keyboard.press('Escape');
      if (viewport.width === 1000) assert.deepEqual(await axeViolations(page), [], name);
      assert.equal(await page.evaluate(() => window.__layoutShift), 0, `${name}: layout shift`);
      assert.deepEqual(problems, [], name);
      await page.close();
    }
  }
});

/** Where the summary's figures sit against what the card shows: every line of the summary, and
 *  each of the installment, the APR and the total (found by their digits, so no second
 *  formatter is involved), must lie inside both the summary's and the card's visible boxes. */
function figuresShown(page, figures) {
  return page.locator('#paylater').evaluate((host, sources) => {
    const root = host.shadowRoot;
    const card = root.querySelector('[data-testid=card]').getBoundingClientRect();
    const summary = root.querySelector('[data-testid=summary]');
    const visible = summary.getBoundingClientRect();
    const node = summary.firstChild;
    const inside = (r) => r.width === 0 || [visible, card].every((box) =>
      r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5 && r.left >= box.left - 0.5 && r.right <= box.right + 0.5);
    const whole = document.createRange();
    whole.selectNodeContents(summary);
    const result = { text: summary.textContent, whole: [...whole.getClientRects()].every(inside), figures: {} };
    for (const [name, source] of Object.entries(sources)) {
      const m = new RegExp(source).exec(node.textContent);
      if (!m) { result.figures[name] = 'not found'; continue; }
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      result.figures[name] = [...range.getClientRects()].every(inside) ? 'shown' : 'clipped';
    }
    return result;
  }, Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, v.source])));
}

const SPACE = '[\\s\\u00a0\\u202f]?';
const ZERO_APR = /(^|[^\d,.])0[\s\u00a0\u202f]?%/;
// The amount each currency has pay in 4 for, and its figures: 129.99 in four is 32.52 today,
// then 3 × 32.49, at 0% APR; 1,299.99 kr is 325.02 + 3 × 324.99; 12,999 yen 3,252 + 3 × 3,249.
const PAY_IN_4 = {
  USD: { amount: '12999', installment: /32[.,]49/, apr: ZERO_APR, total: /129[.,]99/ },
  SEK: { amount: '129999', installment: /324,99/, apr: ZERO_APR, total: new RegExp(`1${SPACE}299,99`) },
  JPY: { amount: '12999', installment: /3,249/, apr: ZERO_APR, total: /12,999/ },
};
PAY_IN_4.EUR = PAY_IN_4.GBP = PAY_IN_4.USD;
// The longest line a plan writes: financing whose last payment differs ("5 × 333,33 € monthly,
// then a final 333,35 €"), 2,000.00 over 6 months at 0%, in the longest languages.
const FINANCING = { amount: '200000', installment: /333[.,]33/, apr: ZERO_APR, total: new RegExp(`2${SPACE}[.,]?000[.,]00`) };
const NARROW_CASES = [
  ...LOCALES.map(([locale, currency]) => ({ locale, currency, ...PAY_IN_4[currency] })),
  ...[['de-DE', 'EUR'], ['fi-FI', 'EUR'], ['fr-CA', 'USD'], ['sv-SE', 'EUR']]
    .map(([locale, currency]) => ({ locale, currency, ...FINANCING })),
];

test('a phone (320 px), a desktop column and 200% zoom: installment, APR and total shown, height kept', async () => {
  // 200% zoom on a 1280×900 window lays out like a 640×450 CSS viewport (as in terms.spec).
  const sizes = [
    { width: 320, height: 700, reserved: 264 },
    { width: 1000, height: 900, reserved: 176 },
    { width: 640, height: 450, reserved: 176 },
  ];
  const failures = [];
  for (const { width, height, reserved } of sizes) {
    for (const { locale, currency, amount, ...figures } of NARROW_CASES) {
      const name = `${locale} ${amount} ${currency} at ${width} px`;
      const { page, problems } = await openCheckout({ locale, currency, amount }, { width, height });
      const shown = await figuresShown(page, figures);
      if (!shown.whole || Object.values(shown.figures).some((f) => f !== 'shown')) {
        failures.push(`${name}: ${JSON.stringify(shown)}`);
      }
      // The height the page reserved is the card's: nothing grew, nothing below moved.
      const heights = await page.evaluate(() => {
        const host = document.querySelector('#paylater');
        return [host.getBoundingClientRect().height, host.shadowRoot.querySelector('[data-testid=card]').getBoundingClientRect().height];
      });
      assert.deepEqual(heights, [reserved, reserved], `${name}: host and card heights`);
      assert.deepEqual(await overflow(page), [], `${name}: horizontal overflow`);
      await page.waitForTimeout(100);
      assert.equal(await page.evaluate(() => window.__layoutShift), 0, `${name}: layout shift`);
      if (['de-DE', 'fi-FI', 'fr-CA'].includes(locale)) {
        await page.screenshot({ path: join(ARTIFACTS, `card-${locale}-${amount}-${width}.png`) });
      }
      assert.deepEqual(problems, [], name);
      await page.close();
    }
  }
  assert.deepEqual(failures, [], 'the installment, the APR and the total must be on screen');
});

test('ISO 4217 digits: IQD shows three decimals, RSD and ALL two, on the card and in the schedule', async () => {
  // Hand-written: pay in 4 puts the remainder on the first payment.
  // IQD 150,000.250 → 37,500.064 + 3 × 37,500.062; RSD 12,345.67 → 3,086.44 + 3 × 3,086.41;
  // ALL 10,000.01 → 2,500.01 + 3 × 2,500.00.
  const cases = [
    {
      currency: 'IQD', amount: '150000250',
      summary: 'IQD\u00a037,500.064 today, then 3 × IQD\u00a037,500.062 every 2 weeks · 0% APR · Total IQD\u00a0150,000.250',
      first: 'IQD\u00a037,500.064', later: 'IQD\u00a037,500.062',
    },
    {
      currency: 'RSD', amount: '1234567',
      summary: 'RSD\u00a03,086.44 today, then 3 × RSD\u00a03,086.41 every 2 weeks · 0% APR · Total RSD\u00a012,345.67',
      first: 'RSD\u00a03,086.44', later: 'RSD\u00a03,086.41',
    },
    {
      currency: 'ALL', amount: '1000001',
      summary: 'ALL\u00a02,500.01 today, then 3 × ALL\u00a02,500.00 every 2 weeks · 0% APR · Total ALL\u00a010,000.01',
      first: 'ALL\u00a02,500.01', later: 'ALL\u00a02,500.00',
    },
  ];
  for (const { currency, amount, summary, first, later } of cases) {
    const { page, problems } = await openCheckout({ key: 'pk_test_currencies', locale: 'en-US', currency, amount });
    assert.equal(await page.getByTestId('summary').textContent(), summary, currency);
    await openDialog(page);
    const rows = await page.getByTestId('installment').allTextContents();
    assert.equal(rows.length, 4, currency);
    assert.ok(rows[0].endsWith(`: ${first}`), `${currency}: ${rows[0]}`);
    for (const row of rows.slice(1)) assert.ok(row.endsWith(`: ${later}`), `${currency}: ${row}`);
    assert.deepEqual(problems, [], currency);
    await page.close();
  }
});
