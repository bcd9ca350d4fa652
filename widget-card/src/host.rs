//! The widget's side of the merchant page contract (CONTRACT §1–2): the `data-paylater-state`
//! attribute on the target element, `paylater:*` DOM events, and console messages.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CustomEvent, CustomEventInit, Element};

/// `data-paylater-state` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WidgetState {
    Loading,
    Ready,
    Approved,
    Declined,
    Review,
    Error,
    Unavailable,
}

impl WidgetState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Loading => "loading",
            Self::Ready => "ready",
            Self::Approved => "approved",
            Self::Declined => "declined",
            Self::Review => "review",
            Self::Error => "error",
            Self::Unavailable => "unavailable",
        }
    }
}

/// The merchant's element the widget renders into.
#[derive(Clone)]
pub struct Host {
    element: Element,
}

impl Host {
    pub fn new(element: Element) -> Self {
        Self { element }
    }

    pub fn set_state(&self, state: WidgetState) {
        // Setting an attribute on an element we were given cannot fail short of a detached
        // realm; nothing useful could be done about it.
        let _ = self.element.set_attribute("data-paylater-state", state.as_str());
    }

    /// Dispatches `paylater:{name}` with a JSON `detail`, bubbling out of any shadow tree.
    pub fn dispatch(&self, name: &str, detail: &impl serde::Serialize) {
        let init = CustomEventInit::new();
        init.set_bubbles(true);
        init.set_composed(true);
        let json = serde_json::to_string(detail).unwrap_or_default();
        let detail = js_sys::JSON::parse(&json).unwrap_or(JsValue::NULL);
        init.set_detail(&detail);
        if let Ok(event) = CustomEvent::new_with_event_init_dict(&format!("paylater:{name}"), &init) {
            let _ = self.element.dispatch_event(&event);
        }
    }

    /// Focuses a control of the widget's own (in the host's shadow root) by its `data-testid`.
    pub fn focus(&self, testid: &str) {
        let control = self
            .element
            .shadow_root()
            .and_then(|root| {
                root.query_selector(&format!("[data-testid=\"{testid}\"]"))
                    .ok()
                    .flatten()
            })
            .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(control) = control {
            let _ = control.focus();
        }
    }

    /// Reports an error the merchant must fix or know of: state, event and console, never a throw.
    pub fn report_error(&self, code: &str, message: &str) {
        self.set_state(WidgetState::Error);
        web_sys::console::error_1(&JsValue::from_str(&format!("paylater:error {code}: {message}")));
        self.dispatch("error", &ErrorDetail { code, message });
    }
}

/// `paylater:error`'s detail.
#[derive(serde::Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
}
