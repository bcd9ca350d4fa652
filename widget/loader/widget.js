/* Paylater loader: the one script a merchant adds (CONTRACT §1). It stays tiny and dumb: read
   the tag, make a shadow root that reserves the widget's height at once, load the wasm bundle
   once for every widget on the page, and hand each one to Rust. Nothing here throws into the
   merchant page. */
(function () {
  'use strict';
  // Only valid during this first synchronous run, `async` included.
  var script = document.currentScript;
  var here = script && script.src ? script.src : location.href;
  var assets = new URL('widget/', here);
  var defaultEdge = new URL(here).origin;
  var loading = null;
  // Every live widget, by target element. Holding them here is what keeps each wasm handle
  // reachable: a dropped handle is freed by the GC and its view unmounted with it.
  var mounted = new Map();

  function load() {
    if (!loading) {
      loading = import(new URL('paylater_widget.js', assets).href)
        .then(function (glue) {
          return glue.default({ module_or_path: new URL('paylater_widget_bg.wasm', assets) }).then(function () {
            return glue;
          });
        })
        .catch(function (error) {
          loading = null; // a later mount may try again
          throw error;
        });
    }
    return loading;
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

  function shadowFor(target) {
    var root = target.shadowRoot || target.attachShadow({ mode: 'open' });
    root.textContent = '';
    // Reserve the height before any network: a constructed sheet applies synchronously and,
    // unlike a style attribute, is allowed by a strict style-src.
    var reserve = new CSSStyleSheet();
    reserve.replaceSync(':host{display:block;min-height:var(--paylater-reserved-height,11rem)}');
    root.adoptedStyleSheets = [reserve];
    var link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = new URL('widget.css', assets).href;
    root.appendChild(link);
    var container = document.createElement('div');
    root.appendChild(container);
    return container;
  }

  var OPTION_NAMES = ['key', 'amount', 'currency', 'locale', 'theme', 'edge'];

  function mount(target, options) {
    return mountWatching(target, options, []);
  }

  // `watched`: elements whose `data-*` changes update the widget (the tag and its target).
  function mountWatching(target, options, watched) {
    var element = typeof target === 'string' ? safeQuery(target) : target;
    var handle = null;
    var destroyed = false;
    var current = {};
    var api = {
      update: function (changes) {
        for (var name in changes || {}) if (OPTION_NAMES.indexOf(name) >= 0) current[name] = changes[name];
        if (handle) handle.update(withDefaults(current));
      },
      destroy: function () {
        destroyed = true;
        if (api.observer) { api.observer.disconnect(); api.observer = null; }
        if (handle) { handle.destroy(); handle.free(); handle = null; }
        if (element && mounted.get(element) === api) mounted.delete(element);
        if (element && element.shadowRoot) element.shadowRoot.textContent = '';
      }
    };
    if (!element) {
      fail(null, 'invalid_target', 'no element matches ' + String(target));
      return api;
    }
    if (mounted.has(element)) mounted.get(element).destroy();
    mounted.set(element, api);
    element.setAttribute('data-paylater-state', 'loading');
    var container = shadowFor(element);
    api.update(options);
    watch(watched, api);
    load().then(function (glue) {
      if (!destroyed) handle = glue.mount(element, container, withDefaults(current));
    }, function (error) {
      fail(element, 'load_failed', 'the widget could not load: ' + (error && error.message));
    });
    return api;
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
    return { key: d.key, amount: d.amount, currency: d.currency, locale: d.locale, theme: d.theme, edge: d.edge };
  }

  if (!window.Paylater) {
    window.Paylater = { mount: mount, version: '0.1.0' };
    document.dispatchEvent(new Event('paylater:loaded'));
  }

  if (script && script.dataset.key !== undefined) {
    var selector = script.dataset.target;
    var target = selector ? safeQuery(selector) : null;
    if (!target) {
      target = document.createElement('div');
      script.parentNode.insertBefore(target, script.nextSibling);
      if (selector) fail(null, 'invalid_target', 'data-target ' + selector + ' matches no element; rendering after the script');
    }
    // A single page app changes the amount on the tag (or on the target): the terms follow.
    mountWatching(target, optionsFromTag(script), [script, target]);
  }
})();
