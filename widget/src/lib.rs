//! The Paylater widget: what a shopper sees at checkout. Compiled to wasm32 and loaded by
//! `widget.js` (see `loader/widget.js`), which owns the shadow root and calls [`mount`].
//!
//! # Layout
//! - [`entry`]: the `#[wasm_bindgen]` surface the loader calls (`mount`, `WidgetHandle`).
//! - [`app`]: the root component: the card, the dialog and the flow between them.
//! - [`terms`]: the plan list and each plan's full disclosure.
//! - [`checkout`]: the framed approval form, its messages, and the decision.
//! - [`copy`]: catalog texts filled with locale-formatted figures.
//! - [`edge_api`]: typed requests to the edge API (`fetch` with abort on cleanup).
//! - [`format`]: locale-aware money and date formatting through `Intl`.
//! - [`host`]: talking to the merchant page: state attribute, DOM events, console.

pub mod app;
pub mod checkout;
pub mod copy;
pub mod edge_api;
pub mod entry;
pub mod format;
pub mod host;
pub mod terms;

pub use entry::{WidgetHandle, mount};
