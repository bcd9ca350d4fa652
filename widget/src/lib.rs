//! The Paylater widget's dialog: every plan with its full terms, the approval form framed from
//! the edge, and the decision. Compiled to wasm32 (Leptos) and loaded by `widget.js` (see
//! `loader/widget.js`) only when the shopper opens it; the card the page paints first is
//! `paylater-widget-card`, whose modules this crate builds on.
//!
//! # Layout
//! - [`entry`]: the `#[wasm_bindgen]` surface the loader calls (`mount_dialog`, `DialogHandle`).
//! - [`app`]: the dialog and the flow through it.
//! - [`terms`]: the plan list and each plan's full disclosure.
//! - [`telemetry`]: the funnel events' client around `paylater_outbox` (`widget-outbox/`).
//! - [`locks`]: Web Locks, which say which live page owns a tab's telemetry outbox.
//! - [`checkout`]: the framed approval form, its messages, and the decision.
//! - [`focus`]: focus in the dialog: its guards, each step's heading, the card's button on close.

pub mod app;
pub mod checkout;
pub mod entry;
pub mod focus;
pub mod locks;
pub mod requests;
pub mod telemetry;
pub mod terms;

pub use entry::{DialogHandle, mount_dialog};
pub use paylater_card::{copy, edge_api, format, host};
