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
    if (script) running.adoptTag(script);
    return;
  }
  var here = script && script.src ? script.src : location.href;
  var assets = new URL('widget/', here);
  var defaultEdge = new URL(here).origin;
  var modules = {};
  // Every live widget, by target element. Holding them here is what keeps each wasm handle
  // reachable: a dropped handle is freed by the GC and its view unmounted with it.
  var mounted = new Map();

  // One load per bundle for the whole page; a failed load may be tried again.
  function load(name) {
    if (!modules[name]) {
      // The wasm download starts now, beside the glue's, instead of after it.
      var wasm = fetch(new URL(name + '_bg.wasm', assets));
      modules[name] = import(new URL(name + '.js', assets).href)
        .then(function (glue) {
          return glue.default({ module_or_path: wasm }).then(function () {
            return glue;
          });
        })
        .catch(function (error) {
          modules[name] = null;
          throw error;
        });
    }
    return modules[name];
  }

  function fail(target, code, message) {
    if (target) {
      target.setAttribute('data-paylater-state', 'error');
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
        var root = target.shadowRoot || target.attachShadow({ mode: 'open' });
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
  function keepInsideLinks(event) {
    var origin = event.composedPath()[0];
    var control = origin && origin.closest && origin.closest('input, label, select, textarea');
    if (!control && event.currentTarget.closest('a[href]')) event.preventDefault();
  }

  function shadowFor(target) {
    var root = hostFor(target);
    root.textContent = '';
    // Reserve the height before any network: a constructed sheet applies synchronously and,
    // unlike a style attribute, is allowed by a strict style-src. `!important` because page
    // rules that match the host (a reset's `all: unset`, `div:empty { display: none }`) would
    // otherwise win over `:host`.
    var reserve = new CSSStyleSheet();
    reserve.replaceSync(':host{display:flow-root!important;min-height:var(--paylater-reserved-height,176px)!important}');
    root.adoptedStyleSheets = [reserve];
    var link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = new URL('widget.css', assets).href;
    root.appendChild(link);
    var card = document.createElement('div');
    var dialog = document.createElement('div');
    card.className = dialog.className = 'pl-mount';
    root.appendChild(card);
    root.appendChild(dialog);
    return { card: card, dialog: dialog };
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

  var OPTION_NAMES = ['key', 'amount', 'currency', 'locale', 'theme', 'edge', 'debug'];
  // `Paylater.consent(…)`, for every widget, present and future.
  var consentGiven = false;

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
    var loadMs = null;
    // Errors before the dialog's bundle (and its telemetry) runs, handed over to be reported.
    var earlyErrors = [];
    function noteError(event) {
      var code = event.detail && typeof event.detail.code === 'string' ? event.detail.code : 'unknown';
      if (earlyErrors.length < 20) earlyErrors.push({ code: code, at: Date.now() });
    }
    var api = {
      consent: function (given) { if (dialog) dialog.consent(given); },
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
        if (containers) try { fitTextToAccent(containers); } catch (e) { /* keep the last fit */ }
        if (card) card.update(withDefaults(current));
        if (dialog) dialog.update(withDefaults(current));
      },
      destroy: function () {
        destroyed = true;
        if (element) element.removeEventListener('paylater:error', noteError);
        if (api.observer) { api.observer.disconnect(); api.observer = null; }
        [card, dialog].forEach(function (handle) { if (handle) { handle.destroy(); handle.free(); } });
        card = dialog = null;
        if (element && mounted.get(element) === api) mounted.delete(element);
        if (containers) {
          var root = containers.card.getRootNode();
          root.textContent = '';
          if (root.host !== element && root.host.parentNode) root.host.parentNode.removeChild(root.host);
        }
      }
    };
    function dialogReady() {
      return load('paylater_widget').then(function (glue) {
        if (!destroyed && !dialog) {
          var opts = withDefaults(current);
          // Telemetry starts with the dialog's bundle: it learns how long the card took.
          opts.consent = consentGiven;
          if (loadMs !== null) opts.loadMs = loadMs; else opts.mountedAt = mountedAt;
          // From here the dialog's telemetry hears errors itself.
          element.removeEventListener('paylater:error', noteError);
          opts.errors = earlyErrors;
          dialog = glue.mount_dialog(element, containers.dialog, opts);
        }
        return dialog;
      });
    }
    function open() {
      dialogReady().then(function (handle) { if (handle) handle.open(); }, function (error) {
        fail(element, 'load_failed', 'the plans could not load: ' + (error && error.message));
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
    containers = shadowFor(element);
    element.addEventListener('paylater:error', noteError);
    element.addEventListener('paylater:ready', function once() {
      element.removeEventListener('paylater:ready', once);
      loadMs = performance.now() - mountedAt;
    });
    api.update(options);
    watch(watched, api);
    try { fitTextToAccent(containers); } catch (e) { /* the stylesheet's colours stay */ }
    var prefetched = prefetch(withDefaults(current));
    load('paylater_card').then(function (glue) {
      if (destroyed) return;
      var opts = withDefaults(current);
      opts.onOpen = open;
      opts.prefetched = prefetched;
      card = glue.mount_card(element, containers.card, opts);
      // The dialog's bundle is fetched once the page is idle, so opening it is quick.
      (window.requestIdleCallback || setTimeout)(function () { dialogReady().catch(function () {}); });
    }, function (error) {
      fail(element, 'load_failed', 'the widget could not load: ' + (error && error.message));
    });
    return api;
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
      var init = { mode: 'cors', credentials: 'omit' };
      return { config_url: urls[0], offers_url: urls[1], config: fetch(urls[0], init), offers: fetch(urls[1], init) };
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
    consent: function (given) {
      consentGiven = given === true;
      mounted.forEach(function (api) { api.consent(consentGiven); });
    },
    // For a second copy of this file on the page (see the top).
    adoptTag: adoptTag,
    version: '0.1.0'
  };
  document.dispatchEvent(new Event('paylater:loaded'));

  if (script) adoptTag(script);
})();
