//! Options from the merchant page (the tag's `data-*` or `Paylater.mount`'s object) arrive as
//! loose JS values and leave as typed `WidgetOptions`, or as a reported error: never a throw.

use js_sys::Reflect;
use paylater_shared::widget_options::RawWidgetOptions;
use paylater_shared::{WidgetOptions, WidgetOptionsError};
use wasm_bindgen::JsValue;

use crate::host::{Host, WidgetState};

/// A string option; numbers are accepted too (`amount: 12999` from `Paylater.mount`).
pub fn string_field(options: &JsValue, name: &str) -> Option<String> {
    let value = Reflect::get(options, &JsValue::from_str(name)).ok()?;
    if let Some(text) = value.as_string() {
        return Some(text);
    }
    // JS prints the number as the page wrote it (`12999`, `12.99`); Rust's float printing
    // would cost the card a tenth of its size.
    value.as_f64()?;
    js_sys::Number::from(value)
        .to_string_with_radix(10)
        .ok()
        .map(String::from)
}

/// Validates loose JS options.
pub fn parse_options(options: &JsValue) -> Result<WidgetOptions, WidgetOptionsError> {
    let field = |name| string_field(options, name);
    let (key, amount, currency, locale, theme) = (
        field("key"),
        field("amount"),
        field("currency"),
        field("locale"),
        field("theme"),
    );
    let raw = RawWidgetOptions {
        key: key.as_deref(),
        amount: amount.as_deref(),
        currency: currency.as_deref(),
        locale: locale.as_deref(),
        theme: theme.as_deref(),
    };
    WidgetOptions::parse(&raw, field("fallbackLocale").as_deref())
}

/// Tells the page what new options mean: terms to fetch, or the error (state, event, console).
/// Only the card reports; the dialog follows quietly.
pub fn report_options(host: &Host, options: &Result<WidgetOptions, WidgetOptionsError>) {
    match options {
        Ok(_) => host.set_state(WidgetState::Loading),
        Err(error) => host.report_error(error.code(), &format!("{error} (option `{}`)", error.field())),
    }
}
