//! The surface `widget.js` calls once the page is idle or the shopper opens the plans: the
//! dialog is mounted beside the card in the same shadow root. Options arrive as loose JS and
//! leave as typed options or an error state, never as an exception.

use std::any::Any;
use std::rc::Rc;

use leptos::prelude::*;
use paylater_card::edge_api::EdgeApi;
use paylater_card::host::Host;
use paylater_card::options::{parse_options, string_field};
use wasm_bindgen::prelude::*;
use web_sys::{Element, HtmlElement};

use crate::app::{App, WidgetContext};
use crate::telemetry::Telemetry;

/// A mounted dialog. Dropping or destroying it unmounts the view and aborts its fetches.
#[wasm_bindgen]
pub struct DialogHandle {
    mounted: Option<Box<dyn Any>>,
    context: WidgetContext,
}

#[wasm_bindgen]
impl DialogHandle {
    /// Opens the dialog on the plan list.
    pub fn open(&self) {
        self.context.open_requests.update(|n| *n = n.wrapping_add(1));
    }

    /// New options (all of them): a new amount is a new checkout, so an open dialog closes.
    /// The card reports bad options; the dialog only follows.
    pub fn update(&self, options: JsValue) {
        let options = parse_options(&options);
        if let (Some(telemetry), Ok(valid)) = (&self.context.telemetry, &options) {
            telemetry.update(valid.clone());
        }
        self.context.options.set(options);
    }

    /// A funnel step the loader saw (`widget_viewed`, say) at `at` (ms since the epoch), with
    /// its props as JSON: the loader watches from the moment the card is ready.
    pub fn note(&self, name: &str, at: f64, props: &str) {
        if let Some(telemetry) = &self.context.telemetry {
            telemetry.note(name, at, props);
        }
    }

    /// `Paylater.consent(…)`: `true` lets telemetry go where the merchant asks for consent;
    /// `false` withdraws it, for every merchant.
    pub fn consent(&self, given: bool) {
        if let Some(telemetry) = &self.context.telemetry {
            telemetry.consent(given);
        }
    }

    /// Removes the dialog and its listeners; telemetry sends what waits.
    pub fn destroy(&mut self) {
        self.mounted = None;
        self.context.telemetry = None;
    }
}

/// Mounts the dialog, closed, into `container` (inside the shadow root the loader made on
/// `host`). `options` holds `edge`, `key`, `amount`, `currency`, `locale`, `theme` and
/// `fallbackLocale`.
#[wasm_bindgen]
pub fn mount_dialog(host: Element, container: HtmlElement, options: JsValue) -> DialogHandle {
    let parsed = parse_options(&options);
    let api = EdgeApi::new(&string_field(&options, "edge").unwrap_or_default());
    // Funnel telemetry starts here, with the bundle that loads when the page is idle; the
    // loader hands over the steps it noted since the card was ready and the consent so far.
    let telemetry = parsed
        .as_ref()
        .ok()
        .and_then(|valid| Telemetry::start(host.clone(), valid.clone(), api.clone(), &options))
        .map(Rc::new);
    let context = WidgetContext {
        options: ArcRwSignal::new(parsed),
        api,
        host: Host::new(host),
        open_requests: ArcRwSignal::new(0),
        telemetry,
    };
    let app_context = context.clone();
    let handle = leptos::mount::mount_to(container, move || view! { <App context=app_context/> });
    DialogHandle {
        mounted: Some(Box::new(handle)),
        context,
    }
}
