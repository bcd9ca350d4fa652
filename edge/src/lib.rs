//! The Paylater edge: a Cloudflare Worker (Rust, `worker` crate) in front of every API call.
//!
//! Request handling and the edge's own domain logic (the merchant's configuration, the approval
//! scorecard, the events route's rules) are plain Rust in the modules below, tested natively; only
//! [`entry`] touches the Workers runtime (bindings, `Request`/`Response`, the console).
//!
//! # Layout
//! - [`merchant`]: the merchant's stored configuration: validation, origin rules, private parts.
//! - [`decision`]: the instant-approval scorecard: hard rules, weighted signals, credit limit, reasons.
//! - [`approval_records`]: a decision's queue message, attempt logs.
//! - [`event_batch`]: `POST /v1/events` bodies validated per event, the personal-data guard.
//! - [`ingest`]: per-request decisions of `POST /v1/events`: rate windows, dedup, seq gaps, risk flags.
//! - [`log_record`]: OTLP LogRecords (JSON mapping), keyed customer hashes, IP truncation.
//! - [`route`]: method + path → [`route::Route`], or a typed error.
//! - [`query`]: query-string parsing for `GET /v1/offers`.
//! - [`auth`]: publishable key → merchant, `Origin` checks.
//! - [`headers`]: CORS and security headers.
//! - [`error`]: [`error::EdgeError`], mapped to HTTP status and the contract's JSON body in one place.
//! - [`handlers`]: what each route answers, given the data the runtime fetched.
//! - [`json_body`]: strict JSON bodies (object, known fields, typed readers, fingerprints).
//! - [`sessions`]: `POST /v1/sessions`: body parsing, origin rules, bound session tokens.
//! - [`events`]: `POST /v1/events`: token and origin checks, Durable Object messages, the 202.
//! - [`approvals`]: `POST /v1/approvals`: body, idempotency, the decision's messages, signing keys.
//! - [`checkout`]: `GET /v1/checkout`: the approval form page the widget frames (query, session,
//!   HTML, its CSP).
//! - [`dashboard`]: `GET /dashboard`: the merchant dashboard's page and its CSP.
//! - [`forward`]: the queue consumer's decisions: archive files, sink outcomes, backoff.
//! - [`records`]: what the events queue carries (events, decisions, order changes), read back.
//! - [`queue_message`]: a message's records: one, or a request's events batched into one.
//! - [`secret_keys`]: the merchant server's `Authorization: Bearer sk_…`, its scopes and mode.
//! - [`orders`]: `/v1/orders`: bodies, an order's state and changes, the `OrderBook` messages.
//! - [`ledger`]: a customer's ledger: history, approvals not yet orders, when to wake up.
//! - [`anomaly`]: anomaly detection's windows, baselines and thresholds (`AnomalyWatch` keeps them).
//! - [`reconciliation`]: `GET /v1/reconciliation`, the D1 ledger's statements, the report.
//! - `entry` (wasm32 only): `#[event(fetch)]`, bindings, access log.
//! - `objects` (wasm32 only): the Durable Objects (per session, per client IP).
//! - `anomaly_watch` (wasm32 only): the `AnomalyWatch` Durable Object (per merchant and mode).
//! - `consumer` (wasm32 only): `#[event(queue)]`: archive, sink, dead letters.
//! - `dead_letters` (wasm32 only): parked dead letters sent back to the events queue.
//! - `probe` (wasm32 only): `#[event(scheduled)]`: once the sink answers, the parked letters go back.

pub mod anomaly;
pub mod approval_records;
pub mod approvals;
pub mod audit;
pub mod auth;
pub mod checkout;
pub mod dashboard;
pub mod decision;
pub mod error;
pub mod event_batch;
pub mod events;
pub mod forward;
pub mod handlers;
pub mod headers;
pub mod ingest;
pub mod insights;
pub mod json_body;
pub mod ledger;
pub mod log_record;
pub mod logs;
pub mod merchant;
pub mod orders;
pub mod query;
pub mod queue_message;
pub mod reconciliation;
pub mod records;
pub mod route;
pub mod secret_keys;
pub mod sessions;

pub mod openapi;

#[cfg(target_arch = "wasm32")]
mod anomaly_watch;
#[cfg(target_arch = "wasm32")]
mod answer_body;
#[cfg(all(target_arch = "wasm32", feature = "office"))]
mod audit_seal;
#[cfg(all(target_arch = "wasm32", feature = "office"))]
mod consumer;
#[cfg(all(target_arch = "wasm32", feature = "office"))]
mod dead_letters;
#[cfg(target_arch = "wasm32")]
mod entry;
#[cfg(target_arch = "wasm32")]
mod objects;
#[cfg(all(target_arch = "wasm32", feature = "office"))]
mod probe;
#[cfg(all(target_arch = "wasm32", feature = "shop"))]
mod upstream;

/// Binding names, as declared in `wrangler.toml` (the shop) and `wrangler.office.toml` (the back office).
pub mod bindings {
    /// KV namespace holding `merchant:{publishable_key}` → merchant config JSON.
    pub const MERCHANTS_KV: &str = "MERCHANTS";
    /// Secret: `kid:base64url` HMAC keys for session tokens, newest first (`.dev.vars` locally).
    pub const SESSION_KEYS: &str = "SESSION_KEYS";
    /// Durable Object namespace: one object per session (dedup, seq, rate limit, enqueue).
    pub const SESSION_GUARD: &str = "SESSION_GUARD";
    /// Durable Object namespace: one object per client IP (rate limit).
    pub const CLIENT_LIMITER: &str = "CLIENT_LIMITER";
    /// Queue producer for accepted events (consumed by this worker's `queue` handler).
    pub const EVENTS_QUEUE: &str = "EVENTS";
    /// Queue producer for the dead-letter queue (messages the sink refuses for good).
    pub const DEAD_LETTER_QUEUE: &str = "EVENTS_DLQ";
    /// R2 bucket: the NDJSON archive and parked dead letters.
    pub const ARCHIVE: &str = "ARCHIVE";
    /// Var: where to POST OTLP/HTTP JSON; unset means archive only.
    pub const LOG_SINK_URL: &str = "LOG_SINK_URL";
    /// Var: first retry delay in seconds (default [`super::DEFAULT_RETRY_BASE_SECONDS`]).
    pub const RETRY_BASE_SECONDS: &str = "RETRY_BASE_SECONDS";
    /// Var: longest retry delay in seconds (default an hour; at most Queues' 12 hours).
    pub const RETRY_MAX_SECONDS: &str = "RETRY_MAX_SECONDS";
    /// Var: `"off"` stops the per-record console copy (Workers Logs); anything else keeps it.
    pub const CONSOLE_RECORDS: &str = "CONSOLE_RECORDS";
    /// Durable Object namespace: one object per customer (keyed hash of the e-mail): exposure,
    /// attempts, one decision at a time.
    pub const CUSTOMER_LEDGER: &str = "CUSTOMER_LEDGER";
    /// Secret: `kid:base64url` Ed25519 seeds (32 bytes) that sign approval tokens, newest first;
    /// all are published at `GET /v1/keys`.
    pub const APPROVAL_SIGNING_KEYS: &str = "APPROVAL_SIGNING_KEYS";
    /// Secret: the key of the keyed hash that names a customer (never the e-mail itself).
    pub const CUSTOMER_HASH_KEY: &str = "CUSTOMER_HASH_KEY";
    /// Var: optional upstream decision service, asked first (`POST`, JSON, strict timeout).
    pub const DECISION_URL: &str = "DECISION_URL";
    /// Var: where a shopper asks for a person to review a decision (GDPR Art. 22).
    pub const HUMAN_REVIEW_CONTACT: &str = "HUMAN_REVIEW_CONTACT";
    /// Secret: bearer token of the admin routes (dead-letter replay).
    pub const ADMIN_TOKEN: &str = "ADMIN_TOKEN";
    /// Service binding of the shop Worker to the back office (`wrangler.office.toml`), where it
    /// passes every back-office route.
    pub const BACK_OFFICE: &str = "BACK_OFFICE";
    /// Durable Object namespace: one object per approval and mode (its order, one change at a
    /// time, and the alarm that expires it).
    pub const ORDER_BOOK: &str = "ORDER_BOOK";
    /// D1 database: the reconciliation ledger and every order.
    pub const LEDGER_DB: &str = "LEDGER";
    /// Durable Object namespace: one object per merchant and mode (anomaly detection).
    pub const ANOMALY_WATCH: &str = "ANOMALY_WATCH";
    /// Secret: `kid:base64url` master keys (32+ bytes) of the archive, newest first: each object is
    /// AES-256-GCM under a key derived from one for its merchant and mode.
    pub const ARCHIVE_KEYS: &str = "ARCHIVE_KEYS";
    /// Secret: `kid:base64url` Ed25519 seeds that sign the audit digests, newest first; their
    /// public halves are published at `GET /v1/keys` beside (never as) the approval keys.
    pub const DIGEST_SIGNING_KEYS: &str = "DIGEST_SIGNING_KEYS";
    /// Var: the period one audit digest covers, in seconds (default 3600).
    pub const DIGEST_PERIOD_SECONDS: &str = "DIGEST_PERIOD_SECONDS";
    /// Var: how long after its period ends a digest is written, in seconds (default 60).
    pub const DIGEST_SETTLE_SECONDS: &str = "DIGEST_SETTLE_SECONDS";
    /// Var: anomaly detection's window in seconds (default 300).
    pub const ANOMALY_WINDOW_SECONDS: &str = "ANOMALY_WINDOW_SECONDS";
    /// Var: how long a window waits for late records after it ends, in seconds (default 60).
    pub const ANOMALY_GRACE_SECONDS: &str = "ANOMALY_GRACE_SECONDS";
}

/// Queue names, as declared in `wrangler.office.toml` (its consumers).
pub mod queues {
    pub const EVENTS: &str = "paylater-events";
    pub const DEAD_LETTERS: &str = "paylater-events-dlq";
}

/// First retry delay of the log sink when `RETRY_BASE_SECONDS` is not set.
pub const DEFAULT_RETRY_BASE_SECONDS: u32 = 5;
