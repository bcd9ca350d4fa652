//! The Paylater widget's first paint: the card a shopper sees in the merchant's checkout, with
//! the first plan's terms, drawn straight into the shadow root (no framework) so the script tag
//! paints fast. The dialog with every plan and the approval flow is the Leptos bundle
//! (`paylater-widget`), which the loader fetches when the shopper opens it; that bundle builds
//! on this crate's modules.
//!
//! # Layout
//! - [`card`]: the `#[wasm_bindgen]` surface the loader calls first (`mount_card`, `CardHandle`).
//! - [`terms`]: the terms' state from the merchant's config and the offers; the ready event.
//! - [`options`]: loose JS options in, typed `WidgetOptions` (or a reported error) out.
//! - [`copy`]: catalog texts filled with locale-formatted figures.
//! - [`edge_api`]: typed requests to the edge API (`fetch` with abort).
//! - [`format`]: locale-aware money and date formatting through `Intl`.
//! - [`js_read`]: the edge's JSON read from `JSON.parse`'s objects (no Rust JSON parser).
//! - [`host`]: talking to the merchant page: state attribute, DOM events, console.

pub mod card;
pub mod copy;
pub mod edge_api;
pub mod format;
pub mod host;
pub mod js_read;
pub mod options;
pub mod terms;

pub use card::{CardHandle, mount_card};

/// See the `small-allocator` feature.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics"), feature = "small-allocator"))]
#[global_allocator]
// SAFETY: wasm32 without the atomics feature has one thread, which `AssumeSingleThreaded` needs.
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
