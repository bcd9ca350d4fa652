// The checkout page's script (GET /v1/checkout, rendered by edge/src/checkout.rs). It checks the
// form, sends it to POST /v1/approvals on this origin, and tells the page that frames it (the
// session's origin, and only that one) what happened, by postMessage:
//   { source: 'paylater-checkout', type: 'ready' }
//   { source: 'paylater-checkout', type: 'resize', height }        (CSS pixels)
//   { source: 'paylater-checkout', type: 'submitting' }
//   { source: 'paylater-checkout', type: 'decision', answer }      (the 200 body as is)
//   { source: 'paylater-checkout', type: 'failed', status, code }  (no decision was made)
//   { source: 'paylater-checkout', type: 'cancel' }                (Escape or the Cancel button)
// The shopper's details never leave this origin. Plain ES2020, no dependencies; every entry
// point catches, so nothing is ever thrown at the shopper.
'use strict';

(() => {
  const SOURCE = 'paylater-checkout';
  const TIMEOUT_MS = 20000;
  // The approval route checks more (the domain's labels); this only catches what cannot be one.
  const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
  const DATE = /^\d{4}-\d{2}-\d{2}$/;

  const byId = (id) => document.getElementById(id);
  const root = byId('checkout');
  const form = byId('checkout-form');
  if (!root || !form) return;
  const data = root.dataset;
  const parentOrigin = data.parentOrigin || '';
  const title = byId('checkout-title');
  const submitButton = byId('submit');
  const retryButton = byId('retry');
  const cancelButton = byId('cancel');
  const status = byId('status');
  const failure = byId('failure');
  const summary = byId('error-summary');
  const summaryList = byId('error-list');
  const fields = {
    email: byId('email'),
    date_of_birth: byId('date-of-birth'),
    country: byId('country'),
    consent: byId('consent'),
  };
  // The approval route's `field` → the form's field.
  const SERVER_FIELDS = {
    'customer.email': 'email',
    'customer.date_of_birth': 'date_of_birth',
    'customer.country': 'country',
    'consent.terms': 'consent',
  };
  // What to say for a field the server refused, in the page's language; a field without one
  // shows the server's own message.
  const SERVER_TEXTS = {
    email: data.msgEmailInvalid,
    date_of_birth: data.msgDobInvalid,
    consent: data.msgConsentMissing,
  };

  let busy = false;
  let decided = false;
  let lastBody = null;
  let lastKey = null;
  let lastHeight = 0;

  // Always to the session's exact origin, never '*': the answer is for that page alone.
  const post = (message) => {
    try {
      if (parentOrigin && window.parent !== window) {
        window.parent.postMessage(Object.assign({ source: SOURCE }, message), parentOrigin);
      }
    } catch (_) {
      // A parent that went away: nobody to tell.
    }
  };

  // The body's height, not the root's scrollHeight, which is never less than the frame itself
  // and so could only ever grow it.
  const resize = () => {
    const height = Math.ceil(document.body.getBoundingClientRect().height);
    if (height > 0 && height !== lastHeight) {
      lastHeight = height;
      post({ type: 'resize', height });
    }
  };

  const newKey = () => {
    if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };

  const errorSlot = (input) => byId(`${input.id}-error`);

  const clearErrors = () => {
    for (const input of Object.values(fields)) {
      input.removeAttribute('aria-invalid');
      const slot = errorSlot(input);
      if (slot) slot.textContent = '';
    }
    summaryList.textContent = '';
    summary.hidden = true;
    failure.textContent = '';
    retryButton.hidden = true;
    submitButton.hidden = false;
  };

  // errors: [[field name, message], …]; the first invalid field gets the focus.
  const showFieldErrors = (errors) => {
    for (const [name, message] of errors) {
      const input = fields[name];
      input.setAttribute('aria-invalid', 'true');
      const slot = errorSlot(input);
      if (slot) slot.textContent = message;
      const link = document.createElement('a');
      link.href = `#${input.id}`;
      link.textContent = message;
      link.addEventListener('click', (event) => {
        event.preventDefault();
        input.focus();
      });
      const item = document.createElement('li');
      item.append(link);
      summaryList.append(item);
    }
    summary.hidden = false;
    fields[errors[0][0]].focus();
    resize();
  };

  // Try again takes the submit button's place: both would send the same thing.
  const showFailure = () => {
    failure.textContent = data.msgFailed || '';
    retryButton.hidden = false;
    submitButton.hidden = true;
    const active = document.activeElement;
    // The disabled submit button dropped the focus: give it somewhere useful to be.
    if (!active || active === document.body) retryButton.focus();
    resize();
  };

  const check = () => {
    const errors = [];
    const email = fields.email.value.trim();
    if (!email) errors.push(['email', data.msgEmailMissing]);
    else if (!EMAIL.test(email)) errors.push(['email', data.msgEmailInvalid]);
    const birth = fields.date_of_birth;
    if (birth.validity.badInput) errors.push(['date_of_birth', data.msgDobInvalid]);
    else if (!birth.value) errors.push(['date_of_birth', data.msgDobMissing]);
    else if (!DATE.test(birth.value) || birth.validity.rangeOverflow || birth.validity.rangeUnderflow) {
      errors.push(['date_of_birth', data.msgDobInvalid]);
    }
    if (!fields.consent.checked) errors.push(['consent', data.msgConsentMissing]);
    return errors;
  };

  const body = () =>
    JSON.stringify({
      session_token: data.sessionToken,
      plan_id: data.plan,
      customer: {
        email: fields.email.value.trim(),
        date_of_birth: fields.date_of_birth.value,
        country: fields.country.value,
      },
      consent: { terms: true },
    });

  // One attempt: { kind: 'decision', answer } | { kind: 'field', field, message, status, code }
  // | { kind: 'failed', status, code }.
  const send = async (text, key) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    try {
      // fetch's default mode ('cors') on purpose: a 'same-origin' POST from a page with
      // Referrer-Policy: no-referrer is sent with `Origin: null`, which the route refuses.
      const response = await fetch('/v1/approvals', {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Idempotency-Key': key,
          // The reasons of the answer in the form's language, not the browser's.
          'Accept-Language': document.documentElement.lang || 'en-US',
        },
        body: text,
        credentials: 'omit',
        signal: controller.signal,
      });
      let json = null;
      try {
        json = await response.json();
      } catch (_) {
        json = null;
      }
      if (response.status === 200 && json && typeof json === 'object') return { kind: 'decision', answer: json };
      const error = json && typeof json.error === 'object' && json.error ? json.error : {};
      const code = typeof error.code === 'string' ? error.code : `http_${response.status}`;
      const field = SERVER_FIELDS[error.field];
      if (response.status >= 400 && response.status < 500 && field) {
        const message = SERVER_TEXTS[field] || (typeof error.message === 'string' && error.message) || data.msgFailed;
        return { kind: 'field', field, message, status: response.status, code };
      }
      return { kind: 'failed', status: response.status, code };
    } catch (_) {
      return { kind: 'failed', status: 0, code: 'network_error' };
    } finally {
      clearTimeout(timer);
    }
  };

  const submit = async () => {
    if (busy || decided) return;
    clearErrors();
    const errors = check();
    if (errors.length > 0) {
      showFieldErrors(errors);
      return;
    }
    const text = body();
    // One key per distinct body: resending the same details (after a network error, or with
    // Try again) can only ever get the one decision the edge remembers for that key.
    if (text !== lastBody) {
      lastBody = text;
      lastKey = newKey();
    }
    busy = true;
    submitButton.disabled = true;
    form.setAttribute('aria-busy', 'true');
    status.textContent = data.msgSubmitting || '';
    post({ type: 'submitting' });
    let outcome = { kind: 'failed', status: 0, code: 'script_error' };
    try {
      outcome = await send(text, lastKey);
    } finally {
      busy = false;
      form.removeAttribute('aria-busy');
      status.textContent = '';
    }
    if (outcome.kind === 'decision') {
      // One decision per form: the framing page shows it and closes the dialog.
      decided = true;
      post({ type: 'decision', answer: outcome.answer });
      return;
    }
    submitButton.disabled = false;
    if (outcome.kind === 'field') showFieldErrors([[outcome.field, outcome.message]]);
    else showFailure();
    post({ type: 'failed', status: outcome.status, code: outcome.code });
  };

  const run = () => {
    submit().catch(() => {
      busy = false;
      submitButton.disabled = decided;
    });
  };

  const cancel = () => post({ type: 'cancel' });

  try {
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      run();
    });
    retryButton.addEventListener('click', () => {
      // The button hides itself on the way; the heading keeps the focus in the form's context.
      title.focus();
      run();
    });
    cancelButton.addEventListener('click', cancel);
    // The framing page's dialog cannot see keys pressed in here.
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') cancel();
    });
    if (typeof ResizeObserver === 'function') new ResizeObserver(resize).observe(document.body);
    post({ type: 'ready' });
    resize();
  } catch (_) {
    // Without its script the form posts nowhere (CSP form-action 'none'); nothing to undo.
  }
})();
