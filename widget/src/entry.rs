//! The surface `widget.js` calls. Everything from the merchant page arrives here as loose JS
//! values and leaves as typed options, or as an error state: never as an exception.

use std::any::Any;

use js_sys::Reflect;
use leptos::prelude::*;
use paylater_shared::widget_options::RawWidgetOptions;
use paylater_shared::{WidgetOptions, WidgetOptionsError};
use wasm_bindgen::prelude::*;
use web_sys::{Element, HtmlElement};

use crate::app::{App, WidgetContext};
use crate::edge_api::EdgeApi;
use crate::host::{Host, WidgetState};

/// A mounted widget. Dropping or destroying it unmounts the view and aborts its fetches.
#[wasm_bindgen]
pub struct WidgetHandle {
    mounted: Option<Box<dyn Any>>,
    options: ArcRwSignal<Result<WidgetOptions, WidgetOptionsError>>,
    host: Host,
}

#[wasm_bindgen]
impl WidgetHandle {
    /// Removes the view and its listeners.
    pub fn destroy(&mut self) {
        self.mounted = None;
    }

    /// New options (all of them, as the loader merges them): the terms follow at once, or the
    /// widget shows the error.
    pub fn update(&self, options: JsValue) {
        self.options.set(parse_options(&options, &self.host));
    }
}

fn string_field(options: &JsValue, name: &str) -> Option<String> {
    Reflect::get(options, &JsValue::from_str(name)).ok().and_then(|value| {
        // Numbers are accepted too (`amount: 12999` from `Paylater.mount`).
        value.as_string().or_else(|| value.as_f64().map(|n| format!("{n}")))
    })
}

/// Validates loose JS options; a bad one is reported to the page (state, event, console).
fn parse_options(options: &JsValue, host: &Host) -> Result<WidgetOptions, WidgetOptionsError> {
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
    let parsed = WidgetOptions::parse(&raw, field("fallbackLocale").as_deref());
    match &parsed {
        // New options are new terms to fetch.
        Ok(_) => host.set_state(WidgetState::Loading),
        Err(error) => host.report_error(error.code(), &format!("{error} (option `{}`)", error.field())),
    }
    parsed
}

/// Mounts a widget into `container` (inside the shadow root the loader made on `host`).
/// `options` holds `edge`, `key`, `amount`, `currency`, `locale`, `theme` and `fallbackLocale`.
/// Bad options mount a widget in the error state, which a later `update` can mend.
#[wasm_bindgen]
pub fn mount(host: Element, container: HtmlElement, options: JsValue) -> WidgetHandle {
    let host = Host::new(host);
    let api = EdgeApi::new(&string_field(&options, "edge").unwrap_or_default());
    let options = ArcRwSignal::new(parse_options(&options, &host));
    let context = WidgetContext {
        options: options.clone(),
        api,
        host: host.clone(),
    };
    let handle = leptos::mount::mount_to(container, move || view! { <App context/> });
    WidgetHandle {
        mounted: Some(Box::new(handle)),
        options,
        host,
    }
}
