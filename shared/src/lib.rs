//! Pure domain logic of Paylater, shared by the widget (wasm in the browser), the edge (wasm in
//! workerd) and native tests, so every party computes the same numbers.
//!
//! Nothing here touches a clock, randomness, the network or a platform API: callers pass the
//! current date and any entropy in.
//!
//! # Layout
//! - [`catalog`]: every text and reason message in sixteen locales; the card's texts in a table of
//!   their own.
//! - [`currency`]: ISO 4217 codes and their minor-unit exponents.
//! - [`money`]: amounts as integer minor units, parsing and checked arithmetic.
//! - [`date`]: civil (calendar) dates, day and month arithmetic with month-end clamping.
//! - [`plan`]: plan kinds and their repayment schedules.
//! - [`ingest`]: per-request decisions of `POST /v1/events`: rate windows, dedup, seq gaps, risk flags.
//! - [`decision`]: the instant-approval scorecard: hard rules, weighted signals, credit limit, reasons.
//! - [`approval`]: a decision's queue message, the queue's record kinds, attempt logs.
//! - [`log_record`]: OTLP LogRecords (JSON mapping) and personal-data scrubbing.
//! - [`disclosure`]: the figures a compliant promotion shows, as data.
//! - [`merchant`]: merchant configuration and plan eligibility.
//! - [`offer`]: the offers a shopper sees, as sent by `GET /v1/offers`, and which payment differs.
//! - [`session`]: the `POST /v1/sessions` request and answer.
//! - [`telemetry`]: the event envelope and batch of `POST /v1/events`, validated per event.
//! - [`outbox`]: the widget's telemetry queue: batching, retries and backoff, page-exit chunks, storage.
//! - [`token`]: session tokens (HMAC-SHA256) and approval tokens (EdDSA JWT) with the JWKS.
//! - [`widget_options`]: the script tag's attributes, validated.
//! - [`api_error`]: the JSON error body every HTTP error carries.

pub mod api_error;
pub mod approval;
pub mod catalog;
pub mod currency;
pub mod date;
pub mod decision;
pub mod disclosure;
pub mod ingest;
pub mod log_record;
pub mod merchant;
pub mod money;
pub mod offer;
pub mod order;
pub mod outbox;
pub mod plan;
pub mod session;
pub mod telemetry;
pub mod token;
pub mod widget_options;

pub use api_error::{ApiError, ApiErrorBody};
pub use currency::{Currency, CurrencyError};
pub use date::{CivilDate, DateError};
pub use merchant::{MerchantConfig, PlanRange};
pub use money::{AmountError, MinorUnits};
pub use offer::{Offer, OffersResponse};
pub use plan::{Installment, PlanKind, PlanTerms, ScheduleError};
pub use widget_options::{Theme, WidgetOptions, WidgetOptionsError};
