//! The merchant dashboard (`GET /dashboard` on the edge): sign in with a secret key that has
//! `insights:read`, pick UTC days, and see the funnel, decisions and decline reasons, the plan
//! mix and the anomalies of the key's merchant and mode. A crate of its own, built beside the
//! widget's bundles and loaded only by that page, so none of it reaches a shopper.
//!
//! - [`range`]: the days asked for: presets, the form's two dates, their limits.
//! - [`charts`]: what each chart shows, from the edge's answers (bars, labels, timeline marks).
//! - `api` (wasm32): the two routes, with the key as a header, and their typed errors.
//! - `session` (wasm32): the key in `sessionStorage`, never in a URL.
//! - `app` (wasm32): the Leptos components.

pub mod charts;
pub mod range;

#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod session;

/// Mounts the dashboard into the page's `<main id="dashboard">` when the module is initialized
/// (`dashboard/web/boot.js`).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    use wasm_bindgen::JsCast;
    let root = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.get_element_by_id("dashboard"))
        .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(root) = root {
        root.set_inner_html("");
        leptos::mount::mount_to(root, app::App).forget();
    }
}
