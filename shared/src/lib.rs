//! Pure domain logic of Paylater that more than one party computes: the widget (wasm in the
//! browser), the edge (wasm in workerd) and merchant servers, so no two of them can disagree about
//! a number, a text or a wire type. What only the edge decides (the approval scorecard, the
//! events route's rules, the merchant's stored configuration, log records) lives in
//! `paylater-edge`; the widget's telemetry outbox in `paylater-widget-outbox`.
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
//! - [`approval`]: the decision's outcome, the `POST /v1/approvals` answer, the checkout page's messages.
//! - [`disclosure`]: the figures a compliant promotion shows, as data.
//! - [`merchant`]: a merchant's plans, their eligibility by amount, and the public config.
//! - [`offer`]: the offers a shopper sees, as sent by `GET /v1/offers`, and which payment differs.
//! - [`order`]: the merchant server API's orders, their history and the reconciliation report.
//! - [`session`]: the `POST /v1/sessions` request and answer.
//! - [`telemetry`]: the event envelope of `POST /v1/events`, typed props per event, the event id.
//! - [`token`]: session tokens (HMAC-SHA256) and approval tokens (EdDSA JWT) with the JWKS.
//! - [`widget_options`]: the script tag's attributes, validated.
//! - [`api_error`]: the JSON error body every HTTP error carries.
//! - [`archive`]: archive objects at rest (AES-256-GCM, per-merchant keys from a keyring).
//! - [`audit`]: the audit trail's signed, chained digests.

pub mod api_error;
pub mod approval;
pub mod archive;
pub mod audit;
pub mod catalog;
pub mod currency;
pub mod currency_map;
pub mod date;
pub mod disclosure;
pub mod insights;
pub mod json;
pub mod merchant;
pub mod money;
pub mod offer;
pub mod order;
pub mod plan;
pub mod session;
pub mod telemetry;
pub mod token;
pub mod widget_options;

pub use api_error::{ApiError, ApiErrorBody};
pub use currency::{Currency, CurrencyError};
pub use date::{CivilDate, DateError};
pub use merchant::PlanRange;
pub use money::{AmountError, MinorUnits};
pub use offer::{Offer, OffersResponse};
pub use plan::{Installment, PlanKind, PlanTerms, ScheduleError};
pub use widget_options::{Theme, WidgetOptions, WidgetOptionsError};
