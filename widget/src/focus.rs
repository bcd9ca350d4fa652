//! Focus in the dialog, for keyboard and screen reader users: the guards that keep Tab inside
//! the modal dialog (the framed form's controls included, whose keys the dialog never sees), the
//! step's heading or message focus moves to, and the card's button it returns to on close.

use wasm_bindgen::JsCast;
use web_sys::{FocusEvent, HtmlDialogElement, HtmlElement, Node, ShadowRoot};

/// Which end of the dialog's controls a focus guard sends focus to.
#[derive(Clone, Copy)]
pub enum End {
    First,
    Last,
}

/// A focus guard got the focus. From inside the dialog (Shift+Tab before the first control),
/// it goes round to the other end; from the framed form or from outside, which is also where
/// `showModal` starts (the guard is the dialog's first focusable element), the end guard goes
/// to the first control and the start guard to the step's heading.
pub fn guard_focused(dialog: &HtmlDialogElement, event: &FocusEvent, end: End) {
    let from_inside = event
        .related_target()
        .and_then(|t| t.dyn_into::<Node>().ok())
        .is_some_and(|node| dialog.contains(Some(&node)));
    let controls = tabbable(dialog);
    let target = match (end, from_inside) {
        (End::First, _) => controls.first().cloned(),
        (End::Last, true) => controls.last().cloned(),
        (End::Last, false) => None,
    };
    match target {
        Some(control) => {
            let _ = control.focus();
        }
        None => focus_testid(dialog, "dialog-title"),
    }
}

/// The dialog's controls Tab stops at, in order: enabled, rendered, not the guards, and of a
/// radio group only the checked one.
fn tabbable(dialog: &HtmlDialogElement) -> Vec<HtmlElement> {
    let Ok(list) = dialog.query_selector_all("button, input, select, textarea, iframe, a[href], [tabindex]") else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i)?.dyn_into::<HtmlElement>().ok())
        .filter(|element| {
            element.tab_index() >= 0
                && element.get_client_rects().length() > 0
                && !element
                    .matches("[data-focus-guard], :disabled, input[type=radio]:not(:checked)")
                    .unwrap_or(true)
        })
        .collect()
}

/// Focuses the dialog's element with this `data-testid`, if it is there.
pub fn focus_testid(dialog: &HtmlDialogElement, testid: &str) {
    let element = dialog
        .query_selector(&format!("[data-testid=\"{testid}\"]"))
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<HtmlElement>().ok());
    if let Some(element) = element {
        let _ = element.focus();
    }
}

/// The shadow root the dialog and the card share, whichever element holds it: the merchant's
/// target, or the element of ours the loader put inside a target that cannot hold one (`<li>`,
/// `<a>`…), which the card's `Host` does not know of.
fn shared_root(dialog: &HtmlDialogElement) -> Option<ShadowRoot> {
    dialog.get_root_node().dyn_into::<ShadowRoot>().ok()
}

/// Focuses the card's Learn more button.
pub fn focus_card_button(dialog: &HtmlDialogElement) {
    let button = shared_root(dialog)
        .and_then(|root| root.query_selector(CARD_BUTTON).ok().flatten())
        .and_then(|e| e.dyn_into::<HtmlElement>().ok());
    if let Some(button) = button {
        let _ = button.focus();
    }
}

/// Whether the card's Learn more button has the focus.
pub fn card_button_focused(dialog: &HtmlDialogElement) -> bool {
    shared_root(dialog)
        .and_then(|root| root.active_element())
        .is_some_and(|active| active.matches(CARD_BUTTON).unwrap_or(false))
}

/// The card's Learn more button (`paylater_card::card`).
const CARD_BUTTON: &str = "[data-testid=\"learn-more\"]";
