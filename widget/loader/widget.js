/* Paylater loader: the one script a merchant adds (CONTRACT §1). It stays tiny and dumb: read
   the tag, make a shadow root that reserves the widget's height at once, load each wasm bundle
   once for every widget on the page, and hand each widget to Rust. Two bundles: the card
   (paylater_card, small, painted first) and the dialog (paylater_widget, Leptos), fetched when
   the page is idle or the shopper opens the plans. Nothing here throws into the merchant page. */
(function () {
  'use strict';
  // Only valid during this first synchronous run, `async` included.
  var script = document.currentScript;
  // One runtime per page: a second copy of this file (a tag manager and the theme both adding
  // the tag, or another version) hands its tag to the first and does nothing else, so bundles,
  // telemetry and consent stay one.
  var running = window.Paylater;
  if (running && typeof running.adoptTag === 'function') {
    try { if (script) running.adoptTag(script); } catch (e) { /* that runtime reports its own */ }
    return;
  }
  var here = script && script.src ? script.src : location.href;
  var assets = new URL('widget/', here);
  var defaultEdge = new URL(here).origin;
  var modules = {};
  // Every live widget, by target element. Holding them here is what keeps each wasm handle
  // reachable: a dropped handle is freed by the GC and its view unmounted with it.
  var mounted = new Map();

  // Failed loads per bundle: a browser keeps a module whose fetch failed as failed for the
  // page's life, so a retry asks for another URL.
  var failures = {};

  // One load per bundle for the whole page; a failed load may be tried again.
  function load(name) {
    if (!modules[name]) {
      var retry = failures[name] ? '?retry=' + failures[name] : '';
      // The wasm download starts now, beside the glue's, instead of after it.
      var wasm = fetch(new URL(name + '_bg.wasm' + retry, assets));
      // Its failure is the import's to report; unhandled, it would reach the page's monitor.
      wasm.catch(function () {});
      modules[name] = import(new URL(name + '.js' + retry, assets).href)
        .then(function (glue) {
          return glue.default({ module_or_path: wasm }).then(function () {
            return glue;
          });
        })
        .catch(function (error) {
          modules[name] = null;
          failures[name] = (failures[name] || 0) + 1;
          throw error;
        });
    }
    return modules[name];
  }

  function fail(target, code, message) {
    if (target) target.setAttribute('data-paylater-state', 'error');
    report(target, code, message);
  }

  // A `paylater:error` event and one console line.
  function report(target, code, message) {
    if (target) {
      target.dispatchEvent(new CustomEvent('paylater:error', {
        bubbles: true, composed: true, detail: { code: code, message: message }
      }));
    }
    console.error('paylater:error ' + code + ': ' + message);
  }

  // Shadow roots this loader made, so it never empties one a page's own component owns.
  var ownRoots = new WeakSet();
  // Elements that can hold a shadow root (the DOM standard's list); anything else (li, td, a,
  // label, a component with its own root…) gets an element of ours inside it.
  var SHADOW_HOSTS = /^(article|aside|blockquote|body|div|footer|h[1-6]|header|main|nav|p|section|span)$/;

  function hostFor(target) {
    var name = target.localName;
    var ours = target.shadowRoot && ownRoots.has(target.shadowRoot);
    if (ours || (!target.shadowRoot && (SHADOW_HOSTS.test(name) || name.indexOf('-') > 0))) {
      try {
        var root = target.shadowRoot;
        if (!root) {
          root = target.attachShadow({ mode: 'open' });
          root.addEventListener('click', keepInsideLinks);
        }
        ownRoots.add(root);
        return root;
      } catch (e) {
        // A custom element that refuses a root: fall through to an element of ours.
      }
    }
    var inner = null;
    for (var i = 0; i < target.children.length; i++) {
      if (target.children[i].localName === 'paylater-widget') inner = target.children[i];
    }
    if (!inner) {
      inner = document.createElement('paylater-widget');
      inner.addEventListener('click', keepInsideLinks);
      target.appendChild(inner);
    }
    var own = inner.shadowRoot || inner.attachShadow({ mode: 'open' });
    ownRoots.add(own);
    return own;
  }

  // Inside a link, a click on the widget (its buttons, its text) must not follow the link. Form
  // controls and their labels are left alone: cancelling their click would undo the choice, and
  // browsers already keep such a click from the link.
  // Listens on our element, or on the shadow root we made on the merchant's (a tile's div).
  function keepInsideLinks(event) {
    var origin = event.composedPath()[0];
    var control = origin && origin.closest && origin.closest('input, label, select, textarea');
    var host = event.currentTarget.host || event.currentTarget;
    if (!control && host.closest('a[href]')) event.preventDefault();
  }

  // The longest the card waits for its stylesheet before it is drawn anyway: long enough for a
  // cold edge behind a proxy (1.5 s was not: a card drawn unstyled widened the demo's grid and
  // moved its cart), short enough that a sheet that never comes costs a few seconds, not the card.
  var STYLESHEET_WAIT_MS = 4000;

  function shadowFor(target) {
    var root = hostFor(target);
    root.textContent = '';
    // Reserve the height before any network: a constructed sheet applies synchronously and,
    // unlike a style attribute, is allowed by a strict style-src. `!important` because page
    // rules that match the host (a reset's `all: unset`, `div:empty { display: none }`) would
    // otherwise win over `:host`. Below 480px wide the card is taller (widget.css).
    var reserve = new CSSStyleSheet();
    reserve.replaceSync(':host{display:flow-root!important;min-height:var(--paylater-reserved-height,176px)!important}' +
      '@media(max-width:479px){:host{min-height:var(--paylater-reserved-height,264px)!important}}');
    root.adoptedStyleSheets = [reserve];
    var link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = new URL('widget.css', assets).href;
    // A stylesheet in a shadow root does not hold back the page's rendering: a card drawn
    // before it applies would be drawn twice, moving what is below. Settled either way (a
    // failed sheet leaves the card plain, not missing), and after a while in any case: a link
    // the page removes, or a stalled connection, fires neither event.
    var styled = new Promise(function (resolve) {
      link.addEventListener('load', resolve);
      link.addEventListener('error', resolve);
      setTimeout(resolve, STYLESHEET_WAIT_MS);
    });
    root.appendChild(link);
    var card = document.createElement('div');
    var dialog = document.createElement('div');
    card.className = dialog.className = 'pl-mount';
    root.appendChild(card);
    root.appendChild(dialog);
    return { card: card, dialog: dialog, styled: styled };
  }

  // Text on a merchant's accent (`--paylater-accent` on the target) must stay readable: black or
  // white, whichever contrasts more (WCAG's ratio; the better of the two is always above 4.5:1).
  // Our own accents come with their text colour in the stylesheet.
  function fitTextToAccent(containers) {
    var first = containers.card;
    if (!getComputedStyle(first).getPropertyValue('--paylater-accent').trim()) {
      containers.card.style.removeProperty('--pl-merchant-on-accent');
      containers.dialog.style.removeProperty('--pl-merchant-on-accent');
      return;
    }
    var probe = document.createElement('span');
    probe.style.color = 'var(--paylater-accent)';
    first.appendChild(probe);
    var rgb = (getComputedStyle(probe).color.match(/[\d.]+/g) || []).slice(0, 3).map(Number);
    first.removeChild(probe);
    if (rgb.length < 3) return;
    var linear = rgb.map(function (c) {
      c /= 255;
      return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2];
    var onWhite = 1.05 / (luminance + 0.05);
    var onBlack = (luminance + 0.05) / 0.05;
    var text = onWhite >= onBlack ? '#ffffff' : '#000000';
    containers.card.style.setProperty('--pl-merchant-on-accent', text);
    containers.dialog.style.setProperty('--pl-merchant-on-accent', text);
  }

  // The accent's text colour and the direction, from the current options.
  function dress(containers, locale) {
    try { fitTextToAccent(containers); } catch (e) { /* the stylesheet's colours stay */ }
    // A right-to-left language lays the widget out so; else `dir=""`: the page's direction.
    containers.card.dir = containers.dialog.dir = /^(ar|ckb|dv|fa|he|iw|ps|sd|ug|ur|yi)(?![a-z])/i
      .test(String(locale || document.documentElement.lang)) ? 'rtl' : '';
  }

  // A browser's first `Intl` format of a page loads the locale's data, tens of milliseconds in
  // a fresh renderer. Done here, while the terms and the bundle are on the network, the card's
  // own formats find it loaded instead of paying for it between the bytes and the paint.
  function warmFormats(opts) {
    setTimeout(function () {
      try {
        var locale = opts.locale || opts.fallbackLocale || 'en-US';
        new Intl.NumberFormat(locale, { style: 'currency', currency: String(opts.currency) }).format(1);
        new Intl.NumberFormat(locale, { style: 'percent' }).format(0);
        new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' }).format(0);
      } catch (e) { /* a bad locale or currency: the card reports it */ }
    }, 0);
  }

  var OPTION_NAMES = ['key', 'amount', 'currency', 'locale', 'theme', 'edge', 'debug'];
  // `Paylater.consent(…)`, for every widget, present and future: null until the page says,
  // then true or false. False is a withdrawal: nothing is noted, kept or sent.
  var consentState = null;
  // Up to this many funnel steps wait per widget for the dialog's telemetry.
  var EARLY_LIMIT = 50;
  // What a page closed before its dialog's bundle ran leaves for the next page view's telemetry
  // (`paylater:early:{key}:{page}`), which sends it.
  var EARLY_PREFIX = 'paylater:early:';
  var pageId = Date.now().toString(36) + Math.random().toString(36).slice(2, 10);

  function mount(target, options) {
    return mountWatching(target, options, []);
  }

  // Nothing the loader does may throw into the page: a failure is the target's `error` state,
  // a `paylater:error` event and one console line.
  function mountWatching(target, options, watched) {
    try {
      return mountInto(target, options, watched);
    } catch (error) {
      var element = typeof target === 'string' ? safeQuery(target) : target;
      fail(element && element.setAttribute ? element : null, 'internal_error',
        'the widget could not mount: ' + (error && error.message));
      return { consent: function () {}, update: function () {}, destroy: function () {} };
    }
  }

  // Targets taken out of the document are destroyed (observers, listeners, timers, locks go
  // with them). One observer for the page, only while something is mounted.
  var removals = null;
  function watchRemovals() {
    if (removals || typeof MutationObserver === 'undefined') return;
    removals = new MutationObserver(function () {
      mounted.forEach(function (api, element) { if (!element.isConnected) api.destroy(); });
      if (!mounted.size && removals) { removals.disconnect(); removals = null; }
    });
    removals.observe(document, { childList: true, subtree: true });
  }

  // `watched`: elements whose `data-*` changes update the widget (the tag and its target).
  function mountInto(target, options, watched) {
    var element = typeof target === 'string' ? safeQuery(target) : target;
    var card = null;
    var dialog = null;
    var destroyed = false;
    var current = {};
    var containers = null;
    var mountedAt = performance.now();
    var viewed = null;
    // The merchant's telemetry mode, read from the prefetched config: early steps are kept in
    // storage only where the merchant sends telemetry without asking, or the shopper agreed.
    var mode = null;
    var keptAs = null;
    // Funnel steps from the moment the card is ready: the dialog's telemetry records them when
    // its bundle runs, whenever that is; until then they wait here (and, if the page is closed
    // first, in storage for the next page view).
    var early = [];
    function note(name, props) {
      if (consentState === false || destroyed) return;
      var at = Date.now();
      if (dialog) return dialog.note(name, at, JSON.stringify(props));
      if (early.length < EARLY_LIMIT) early.push({ name: name, at: at, props: props });
    }
    function noteError(event) {
      var code = event.detail && typeof event.detail.code === 'string' ? event.detail.code : 'unknown';
      note('widget_error', { code: code });
      if (event.target === element) fetchDialogWhenIdle();
    }
    // The dialog's bundle (and the telemetry with it) is fetched once the card has settled and
    // the page is idle: before that, its download and compile would compete with the terms.
    var dialogWanted = false;
    function fetchDialogWhenIdle() {
      if (dialogWanted) return;
      dialogWanted = true;
      // Within a few seconds even on a page that is never idle (an endless animation).
      (window.requestIdleCallback || setTimeout)(function () {
        if (!destroyed) dialogReady().catch(function () {});
      }, { timeout: 3000 });
    }
    var api = {
      consent: function (given) {
        if (given === false) early = [];
        if (dialog) dialog.consent(given);
      },
      update: function (changes) {
        var changed = false;
        for (var name in changes || {}) {
          if (OPTION_NAMES.indexOf(name) >= 0 && current[name] !== changes[name]) {
            current[name] = changes[name];
            changed = true;
          }
        }
        // A page that writes back the same values changes nothing on screen.
        if (!changed) return;
        if (containers) dress(containers, current.locale);
        if (card) card.update(withDefaults(current));
        if (dialog) dialog.update(withDefaults(current));
      },
      destroy: function () {
        // Once: the removal observer and the page's own unmount may both call it.
        if (destroyed) return;
        // Taken out before its dialog ran (a single page app moving on): what it noted is kept.
        internals.get(api).keep();
        destroyed = true;
        if (viewed) { viewed.stop(); viewed = null; }
        if (element) {
          element.removeEventListener('paylater:error', noteError);
          element.removeEventListener('paylater:ready', onReady);
        }
        if (api.observer) { api.observer.disconnect(); api.observer = null; }
        if (prefetched && prefetched.abort) prefetched.abort.abort();
        [card, dialog].forEach(function (handle) {
          // A bundle that failed inside must not throw into the page's own unmount.
          try { if (handle) { handle.destroy(); handle.free(); } } catch (e) { /* its view goes with the root below */ }
        });
        card = dialog = null;
        if (element && mounted.get(element) === api) mounted.delete(element);
        if (containers) {
          var root = containers.card.getRootNode();
          containers = null;
          if (root.host) {
            root.textContent = '';
            if (root.host !== element && root.host.parentNode) root.host.parentNode.removeChild(root.host);
          }
        }
      }
    };
    // The page is being left before the dialog's bundle ran: what waits is kept for the next
    // page view. Back from the back/forward cache, it is taken back, unless a page took it.
    internals.set(api, {
      keep: function () {
        var allowed = consentState === true || (consentState === null && mode === 'always');
        if (dialog || destroyed || !early.length || !allowed || !current.key) return;
        var storageKey = EARLY_PREFIX + current.key + ':' + pageId + ':' + mountedAt.toFixed(0);
        try { localStorage.setItem(storageKey, JSON.stringify(early)); } catch (e) { return; }
        keptAs = storageKey;
      },
      retake: function () {
        var storageKey = keptAs;
        if (!storageKey) return;
        keptAs = null;
        // Under the lock a taking page holds while it records them: locked or gone, they are
        // that page's now.
        function takeBack(free) {
          try {
            if (!free || localStorage.getItem(storageKey) === null) early = [];
            else localStorage.removeItem(storageKey);
          } catch (e) { early = []; }
        }
        if (navigator.locks && navigator.locks.request) {
          navigator.locks.request(storageKey, { ifAvailable: true }, function (lock) { takeBack(lock !== null); })
            .catch(function () { early = []; });
        } else {
          takeBack(true);
        }
      },
      retry: function () { if (card && !dialog) dialogReady().catch(function () {}); }
    });
    function dialogReady() {
      return load('paylater_widget').then(function (glue) {
        if (!destroyed && !dialog) {
          var opts = withDefaults(current);
          // Telemetry starts with the dialog's bundle and records what was noted before it.
          opts.consent = consentState;
          opts.early = early;
          early = [];
          // From here the dialog's telemetry hears errors itself.
          element.removeEventListener('paylater:error', noteError);
          dialog = glue.mount_dialog(element, containers.dialog, opts);
        }
        return dialog;
      });
    }
    function open() {
      dialogReady().then(function (handle) { if (handle) handle.open(); }, function (error) {
        // The shopper asked for the plans: that counts, even if they could not load. The terms
        // on the card still hold, so its state stays; the bundle is fetched again when the
        // browser is back online, or on the next click.
        note('terms_opened', {});
        report(element, 'load_failed', 'the plans could not load: ' + (error && error.message));
      });
    }
    if (!element || !element.isConnected || element.closest('head')) {
      fail(null, 'invalid_target', 'no element in the page body matches ' + String(target));
      return api;
    }
    if (mounted.has(element)) mounted.get(element).destroy();
    mounted.set(element, api);
    watchRemovals();
    element.setAttribute('data-paylater-state', 'loading');
    api.update(options);
    // The network first: the card's bundle (the larger download) and the terms' requests go out
    // before anything here touches the DOM, and the locale's formats load while they travel.
    var cardLoad = load('paylater_card');
    // Reported below; until then, not the page's unhandled rejection.
    cardLoad.catch(function () {});
    var prefetched = prefetch(withDefaults(current));
    warmFormats(withDefaults(current));
    containers = shadowFor(element);
    dress(containers, current.locale);
    element.addEventListener('paylater:error', noteError);
    function onReady(event) {
      // This widget's own card, once: not a nested widget's event bubbling up, nor the page's.
      if (destroyed || event.target !== element || viewed) return;
      element.removeEventListener('paylater:ready', onReady);
      var opts = withDefaults(current);
      note('widget_loaded', {
        load_ms: Math.round(performance.now() - mountedAt), locale: opts.locale || opts.fallbackLocale,
        amount_minor: Number(opts.amount), currency: opts.currency
      });
      viewed = watchViewed(element, function () { note('widget_viewed', { visible_ms: VIEWED_AFTER_MS }); }) ||
        { stop: function () {} };
      fetchDialogWhenIdle();
    }
    element.addEventListener('paylater:ready', onReady);
    watch(watched, api);
    if (prefetched) {
      prefetched.config.then(function (reply) {
        var config = reply.status === 200 ? JSON.parse(reply.text) : null;
        if (config && typeof config.telemetry === 'string') mode = config.telemetry;
      }).catch(function () { /* the card reports what went wrong */ });
    }
    Promise.all([cardLoad, containers.styled]).then(function (loaded) {
      var glue = loaded[0];
      if (destroyed) return;
      var opts = withDefaults(current);
      opts.onOpen = open;
      // Named for this shape ({status, text}): a card of another release ignores it and asks
      // for the terms itself.
      opts.prefetchedReplies = prefetched;
      card = glue.mount_card(element, containers.card, opts);
    }).catch(function (error) {
      if (!destroyed) fail(element, 'load_failed', 'the widget could not load: ' + (error && error.message));
    });
    return api;
  }

  // `widget_viewed`: at least half the widget on screen for this long, once.
  var VIEWED_AFTER_MS = 1000;

  function watchViewed(element, seen) {
    if (typeof IntersectionObserver === 'undefined') return null;
    var timer = null;
    var observer = new IntersectionObserver(function (entries) {
      clearTimeout(timer);
      timer = null;
      var visible = entries.some(function (entry) { return entry.intersectionRatio >= 0.5; });
      if (visible) {
        timer = setTimeout(function () { observer.disconnect(); seen(); }, VIEWED_AFTER_MS);
      }
    }, { threshold: 0.5 });
    observer.observe(element);
    return { stop: function () { observer.disconnect(); clearTimeout(timer); } };
  }

  // Per widget, what the page's lifecycle listeners below call.
  var internals = new WeakMap();
  window.addEventListener('pagehide', function () {
    mounted.forEach(function (api) { internals.get(api).keep(); });
  });
  window.addEventListener('pageshow', function (event) {
    if (event.persisted) mounted.forEach(function (api) { internals.get(api).retake(); });
  });
  // A dialog's bundle that failed to load (offline) is fetched again once the browser is back.
  window.addEventListener('online', function () {
    mounted.forEach(function (api) { internals.get(api).retry(); });
  });

  // Every `paylater:` key in storage: what a withdrawal of consent clears.
  function clearStorage() {
    [window.localStorage, window.sessionStorage].forEach(function (storage) {
      try {
        for (var i = storage.length - 1; i >= 0; i--) {
          var name = storage.key(i);
          if (name && name.indexOf('paylater:') === 0) storage.removeItem(name);
        }
      } catch (e) { /* storage refused: nothing of ours is in it */ }
    });
  }

  // The terms' two requests go out while the card's bundle downloads. The card uses them only
  // if it would have asked exactly these URLs; otherwise it asks again.
  function prefetch(opts) {
    // Only what could be valid: the card reports bad attributes itself, without a request.
    var plausible = /^pk_(test|live)_\w+$/.test(opts.key) && /^[1-9]\d*$/.test(String(opts.amount)) &&
      /^[A-Z]{3}$/.test(String(opts.currency));
    if (!plausible) return null;
    try {
      var now = new Date();
      var pad = function (n) { return (n < 10 ? '0' : '') + n; };
      var start = now.getFullYear() + '-' + pad(now.getMonth() + 1) + '-' + pad(now.getDate());
      var locale = opts.locale || opts.fallbackLocale || 'en-US';
      var base = String(opts.edge).replace(/\/+$/, '');
      var q = encodeURIComponent;
      var urls = [
        base + '/v1/merchants/' + q(opts.key) + '/config',
        base + '/v1/offers?key=' + q(opts.key) + '&amount=' + q(opts.amount) + '&currency=' + q(opts.currency) +
          '&locale=' + q(locale) + '&start=' + start
      ];
      // Aborted when the widget is destroyed before the card used them.
      var abort = typeof AbortController === 'function' ? new AbortController() : null;
      var init = { mode: 'cors', credentials: 'omit', signal: abort ? abort.signal : undefined };
      // Each body is read as it arrives, while the bundle may still be on its way.
      var read = function (url) {
        return fetch(url, init).then(function (response) {
          return response.text().then(function (text) { return { status: response.status, text: text }; });
        });
      };
      var sent = { config_url: urls[0], offers_url: urls[1], config: read(urls[0]), offers: read(urls[1]), abort: abort };
      // The card reports a failure if it uses them; unused, they must not reach the page's
      // unhandled-rejection monitor.
      sent.config.catch(function () {});
      sent.offers.catch(function () {});
      return sent;
    } catch (e) {
      return null;
    }
  }

  function watch(elements, api) {
    if (!elements.length || typeof MutationObserver === 'undefined') return;
    var filter = OPTION_NAMES.map(function (name) { return 'data-' + name; });
    api.observer = new MutationObserver(function (records) {
      var changes = {};
      records.forEach(function (record) {
        changes[record.attributeName.slice(5)] = record.target.getAttribute(record.attributeName) || undefined;
      });
      api.update(changes);
    });
    elements.forEach(function (el) { api.observer.observe(el, { attributes: true, attributeFilter: filter }); });
  }

  function withDefaults(options) {
    var opts = {};
    for (var name in options) opts[name] = options[name];
    opts.edge = opts.edge || defaultEdge;
    opts.fallbackLocale = document.documentElement.lang || navigator.language || '';
    return opts;
  }

  function safeQuery(selector) {
    try { return document.querySelector(selector); } catch (e) { return null; }
  }

  function optionsFromTag(tag) {
    var d = tag.dataset;
    return { key: d.key, amount: d.amount, currency: d.currency, locale: d.locale, theme: d.theme, edge: d.edge,
      debug: d.debug !== undefined };
  }

  // A `data-target` may name an element the page has not parsed or rendered yet (a tag in
  // <head>, a single page app): wait for it until the document has loaded plus this long.
  var TARGET_WAIT_AFTER_LOAD_MS = 3000;

  function whenTarget(selector, found, missing) {
    var now = safeQuery(selector);
    if (now && !now.closest('head')) return found(now);
    if (typeof MutationObserver === 'undefined') return missing();
    var timer = null;
    var observer = new MutationObserver(check);
    function stop() {
      observer.disconnect();
      clearTimeout(timer);
      window.removeEventListener('load', onLoad);
    }
    function check() {
      var element = safeQuery(selector);
      if (element && !element.closest('head')) { stop(); found(element); }
    }
    function onLoad() {
      clearTimeout(timer);
      timer = setTimeout(function () { stop(); missing(); }, TARGET_WAIT_AFTER_LOAD_MS);
    }
    observer.observe(document, { childList: true, subtree: true });
    if (document.readyState === 'complete') onLoad(); else window.addEventListener('load', onLoad);
  }

  // The tags mounted so far, by what they ask for: the same tag twice is one widget.
  var tagsSeen = {};

  function adoptTag(tag) {
    try {
      if (!tag.dataset || tag.dataset.key === undefined) return;
      var options = optionsFromTag(tag);
      var selector = tag.dataset.target;
      var signature = JSON.stringify([selector || '', options.key, options.amount, options.currency, options.locale]);
      if (tagsSeen[signature]) return;
      tagsSeen[signature] = true;
      // A single page app changes the amount on the tag (or on the target): the terms follow.
      var mountAfterTag = function () {
        if (!tag.parentNode || tag.closest('head')) {
          fail(null, 'invalid_target', 'a tag in <head> needs a data-target in the body');
          return;
        }
        var own = document.createElement('div');
        tag.parentNode.insertBefore(own, tag.nextSibling);
        mountWatching(own, optionsFromTag(tag), [tag, own]);
      };
      if (!selector) return mountAfterTag();
      whenTarget(selector, function (target) {
        mountWatching(target, optionsFromTag(tag), [tag, target]);
      }, function () {
        var inBody = tag.parentNode && !tag.closest('head');
        fail(null, 'invalid_target', 'data-target ' + selector + ' matches no element in the body' +
          (inBody ? '; rendering after the script' : ''));
        if (inBody) mountAfterTag();
      });
    } catch (error) {
      fail(null, 'internal_error', 'the tag could not be read: ' + (error && error.message));
    }
  }

  window.Paylater = {
    mount: mount,
    // `true` gives consent, `false` withdraws it; anything else changes nothing.
    consent: function (given) {
      if (given !== true && given !== false) return;
      consentState = given;
      mounted.forEach(function (api) { api.consent(given); });
      if (!given) clearStorage();
    },
    // For a second copy of this file on the page (see the top).
    adoptTag: adoptTag,
    version: '0.1.0'
  };
  document.dispatchEvent(new Event('paylater:loaded'));

  if (script) adoptTag(script);
})();
