// The demo merchant's own page script: a cart whose total drives the Paylater tag's
// data-amount / data-currency / data-locale (the widget follows by itself), a listener for
// the widget's DOM events, and Place order, which sends the approval token to the shop's own
// server (the body's data-merchant-server: examples/merchant-server), as a merchant would write
// them. It never sees what the shopper types into the approval form.
(function () {
  'use strict';
  // Unit prices in minor units per currency (JPY has no minor unit).
  var PRICES = {
    USD: { jacket: 9999, socks: 1500, tent: 34900 },
    EUR: { jacket: 9499, socks: 1400, tent: 32900 },
    GBP: { jacket: 8499, socks: 1200, tent: 28900 },
    SEK: { jacket: 109900, socks: 14900, tent: 379900 },
    JPY: { jacket: 15800, socks: 2200, tent: 54800 },
  };
  var EXPONENT = { USD: 2, EUR: 2, GBP: 2, SEK: 2, JPY: 0 };

  // The detail of the last paylater:approved, until the cart changes or the order is placed.
  var approval = null;

  function $(selector) { return document.querySelector(selector); }

  function money(minor, currency, locale) {
    return new Intl.NumberFormat(locale, { style: 'currency', currency: currency })
      .format(minor / Math.pow(10, EXPONENT[currency]));
  }

  function render() {
    var currency = $('#currency').value;
    var locale = $('#locale').value;
    var total = 0;
    document.querySelectorAll('.cart-lines li').forEach(function (line) {
      var sku = line.getAttribute('data-sku');
      var qty = Math.max(0, Math.min(20, parseInt(line.querySelector('input').value, 10) || 0));
      var amount = PRICES[currency][sku] * qty;
      total += amount;
      line.querySelector('.line-price').textContent = money(amount, currency, locale);
    });
    $('[data-testid="cart-total"]').textContent = money(total, currency, locale);
    var tag = $('#paylater-tag');
    // One attribute write each: the widget re-renders its terms without a reload.
    tag.setAttribute('data-currency', currency);
    tag.setAttribute('data-locale', locale);
    tag.setAttribute('data-amount', String(total));
    document.documentElement.lang = locale;
    resetOrder('Choose a plan to pay later, or pay by card.');
  }

  function resetOrder(text) {
    approval = null;
    $('[data-testid="place-order"]').disabled = true;
    $('[data-testid="order-status"]').textContent = text;
  }

  // The cart's lines, for the shop's server to show next to the order ("jacket x1, socks x2").
  function cartReference() {
    var parts = [];
    document.querySelectorAll('.cart-lines li').forEach(function (line) {
      var qty = parseInt(line.querySelector('input').value, 10) || 0;
      if (qty > 0) parts.push(line.getAttribute('data-sku') + ' x' + qty);
    });
    return parts.join(', ').slice(0, 64);
  }

  // The shop's server verifies the token with the edge's published keys and creates the order
  // with its secret key, which never comes near this page.
  function placeOrder() {
    if (!approval) return;
    var button = $('[data-testid="place-order"]');
    var status = $('[data-testid="order-status"]');
    var server = (document.body.getAttribute('data-merchant-server') || '').replace(/\/+$/, '');
    var body = { approval_token: approval.approval_token };
    var cart = cartReference();
    if (cart) body.cart_reference = cart;
    button.disabled = true;
    status.textContent = 'Placing your order…';
    fetch(server + '/orders', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      credentials: 'omit',
    })
      .then(function (response) {
        return response.json().then(function (answer) { return { ok: response.ok, answer: answer }; });
      })
      .then(function (result) {
        if (result.ok) {
          approval = null;
          status.textContent = 'Order ' + result.answer.merchant_reference + ' placed: ' + result.answer.status;
        } else {
          button.disabled = false;
          status.textContent = 'The order could not be placed: ' +
            (result.answer.error ? result.answer.error.message : 'unknown error');
        }
      })
      .catch(function () {
        button.disabled = false;
        status.textContent = 'The shop\'s server did not answer: please try again.';
      });
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('#currency').addEventListener('change', render);
    $('#locale').addEventListener('change', render);
    document.querySelectorAll('.cart-lines input').forEach(function (input) {
      input.addEventListener('change', render);
    });
    var widget = $('#paylater');
    $('[data-testid="place-order"]').addEventListener('click', placeOrder);
    widget.addEventListener('paylater:approved', function (event) {
      // Place order posts event.detail.approval_token to the shop's server, which verifies it
      // against GET /v1/keys before placing the order.
      approval = event.detail;
      $('[data-testid="place-order"]').disabled = false;
      $('[data-testid="order-status"]').textContent = 'Approved (' + event.detail.approval_id + '): place your order.';
    });
    widget.addEventListener('paylater:declined', function () {
      resetOrder('Pay later was declined: please pay by card.');
    });
    widget.addEventListener('paylater:review', function () {
      resetOrder('Your pay later request is being reviewed: we will e-mail you.');
    });
  });
})();
