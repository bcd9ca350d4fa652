//! The Paylater edge: a Cloudflare Worker (Rust, `worker` crate) in front of every API call.
//!
//! Request handling is plain Rust in the modules below, tested natively; only [`entry`] touches
//! the Workers runtime (bindings, `Request`/`Response`, the console).
//!
//! # Layout
//! - [`route`]: method + path → [`route::Route`], or a typed error.
//! - [`query`]: query-string parsing for `GET /v1/offers`.
//! - [`auth`]: publishable key → merchant, `Origin` checks.
//! - [`headers`]: CORS and security headers.
//! - [`error`]: [`error::EdgeError`], mapped to HTTP status and the contract's JSON body in one place.
//! - [`handlers`]: what each route answers, given the data the runtime fetched.
//! - [`sessions`]: `POST /v1/sessions`: body parsing, origin rules, bound session tokens.
//! - `entry` (wasm32 only): `#[event(fetch)]`, bindings, access log.

pub mod auth;
pub mod error;
pub mod handlers;
pub mod headers;
pub mod query;
pub mod route;
pub mod sessions;

#[cfg(target_arch = "wasm32")]
mod entry;

/// Binding names, as declared in `wrangler.toml`.
pub mod bindings {
    /// KV namespace holding `merchant:{publishable_key}` → merchant config JSON.
    pub const MERCHANTS_KV: &str = "MERCHANTS";
    /// Secret: `kid:base64url` HMAC keys for session tokens, newest first (`.dev.vars` locally).
    pub const SESSION_KEYS: &str = "SESSION_KEYS";
}
