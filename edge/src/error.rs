//! Every way a request can fail, mapped to status and JSON body in exactly one place.

use paylater_shared::telemetry::MAX_BODY_BYTES;
use paylater_shared::token::TokenError;
use paylater_shared::{AmountError, ApiError, CurrencyError, DateError};
use thiserror::Error;

use crate::event_batch::{BatchError, Rejection};

/// A failed request. The `Display` text is the human message sent to the client, so it never
/// carries internals; those go to the log through [`EdgeError::Internal`]'s `detail`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EdgeError {
    #[error("no route for {path}")]
    NotFound { path: String },
    #[error("{method} is not allowed here; allowed: {allowed}")]
    MethodNotAllowed { method: String, allowed: &'static str },
    #[error("{field} is required")]
    Missing { field: &'static str },
    #[error("key must be a publishable key: pk_test_… or pk_live_…")]
    InvalidKey,
    #[error("no merchant has this publishable key")]
    UnknownKey,
    #[error("origin {origin} is not allowed for this merchant")]
    OriginNotAllowed { origin: String },
    #[error("{0}")]
    InvalidAmount(AmountError),
    #[error("{0}")]
    InvalidCurrency(CurrencyError),
    #[error("currency {currency} is not offered by this merchant")]
    CurrencyNotOffered { currency: String },
    #[error("{field}: {source}")]
    InvalidDate { field: &'static str, source: DateError },
    #[error("locale must be a BCP 47 language tag like en-US")]
    InvalidLocale,
    #[error("unknown query parameter {name}")]
    UnknownParameter { name: String },
    #[error("query parameter {name} is given more than once")]
    RepeatedParameter { name: String },
    #[error("request body is larger than {MAX_BODY_BYTES} bytes")]
    BodyTooLarge,
    #[error("Content-Type must be {expected}, not {got}")]
    UnsupportedMediaType { got: String, expected: &'static str },
    #[error("body is not valid JSON: {detail}")]
    InvalidJson { detail: String },
    #[error("unknown field {name}")]
    UnknownField { name: String },
    #[error("this endpoint is for browsers: an Origin header is required")]
    OriginRequired,
    #[error("{0}")]
    Batch(BatchError),
    #[error("no event of the request could be accepted; events[{}]: {}", .first.index, .first.message)]
    NoEventAccepted { first: Rejection },
    #[error("session_token: {0}")]
    InvalidToken(TokenError),
    /// The checkout page's `session` query parameter: the same token checks, another field.
    #[error("session: {0}")]
    InvalidSessionParameter(TokenError),
    /// `POST /v1/sessions` with `renew`: the token to renew, the same checks but its expiry,
    /// which may be up to a day past.
    #[error("renew: {0}")]
    InvalidRenewal(TokenError),
    #[error("plan must be a plan id: letters, digits and _, at most 40 characters")]
    InvalidPlanId,
    #[error("too many requests for this {scope}; retry after {retry_after_seconds} s")]
    RateLimited {
        scope: &'static str,
        retry_after_seconds: u32,
    },
    #[error("events could not be handed off for delivery; nothing was accepted, retry")]
    EnqueueFailed { detail: String },
    #[error("this needs the admin token: Authorization: Bearer …")]
    Unauthorized,
    #[error("Idempotency-Key {problem}")]
    IdempotencyKey { problem: &'static str },
    #[error("this Idempotency-Key was used with another request body; use a new key for a new request")]
    IdempotencyConflict,
    #[error("{field} must be {expected}")]
    InvalidType {
        field: &'static str,
        expected: &'static str,
    },
    #[error("customer.email must be an e-mail address like name@example.com")]
    InvalidEmail,
    #[error("customer.date_of_birth must be a date in the past")]
    ImplausibleDateOfBirth,
    #[error("customer.country must be an ISO 3166-1 alpha-2 code like SE")]
    InvalidCountry,
    #[error("the shopper must accept the terms: consent.terms must be true")]
    ConsentRequired,
    #[error("this merchant has no plan {plan_id}")]
    UnknownPlan { plan_id: String },
    #[error("this needs a secret key: Authorization: Bearer sk_test_… or sk_live_…")]
    Unauthenticated,
    #[error("this secret key is unknown or revoked")]
    InvalidSecretKey,
    #[error("this secret key lacks the scope {scope}")]
    InsufficientScope { scope: &'static str },
    #[error("{what} belongs to the other mode (test or live) than this secret key")]
    WrongMode { what: &'static str },
    #[error("{what} belongs to another merchant")]
    WrongMerchant { what: &'static str },
    #[error("approval_token: {0}")]
    InvalidApprovalToken(TokenError),
    #[error("the approval has expired and its credit was released; the shopper must be approved again")]
    ApprovalExpired,
    #[error("no such order")]
    OrderNotFound,
    #[error("order ids look like ord_test_ or ord_live_ and 32 hex digits")]
    InvalidOrderId,
    #[error("this approval already has an order, {order_id}, with another merchant_reference")]
    OrderExists { order_id: String },
    #[error("merchant_reference must be 1 to 64 visible ASCII characters but @, starting with a letter or digit")]
    InvalidReference,
    #[error("amount is more than is left to {what}: {available} minor units")]
    AmountExceeds { what: &'static str, available: u64 },
    #[error("the order is {status}: this change is not possible")]
    InvalidOrderState { status: &'static str },
    #[error("this order has taken as many changes as it can")]
    TooManyChanges,
    #[error("{field}: {problem}")]
    InvalidRange { field: &'static str, problem: &'static str },
    #[error("this session already holds a live approval for other details; start a new checkout")]
    SessionHasApproval,
    #[error("internal error; it has been logged")]
    Internal { detail: String },
}

impl EdgeError {
    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound { .. } => 404,
            Self::MethodNotAllowed { .. } => 405,
            Self::UnknownKey => 401,
            Self::OriginNotAllowed { .. } | Self::OriginRequired => 403,
            Self::BodyTooLarge => 413,
            Self::Batch(BatchError::BodyTooLarge | BatchError::TooManyEvents) => 413,
            Self::Batch(_) => 400,
            Self::NoEventAccepted { .. } => 422,
            Self::InvalidToken(TokenError::Mismatch(_))
            | Self::InvalidSessionParameter(TokenError::Mismatch(_))
            | Self::InvalidRenewal(TokenError::Mismatch(_)) => 403,
            Self::InvalidToken(_) | Self::InvalidSessionParameter(_) | Self::InvalidRenewal(_) | Self::Unauthorized => {
                401
            }
            Self::RateLimited { .. } => 429,
            Self::EnqueueFailed { .. } => 503,
            Self::UnsupportedMediaType { .. } => 415,
            Self::CurrencyNotOffered { .. } | Self::ConsentRequired | Self::UnknownPlan { .. } => 422,
            Self::IdempotencyConflict => 409,
            Self::Internal { .. } => 500,
            Self::Unauthenticated | Self::InvalidSecretKey => 401,
            Self::InsufficientScope { .. } | Self::WrongMode { .. } | Self::WrongMerchant { .. } => 403,
            // Well-formed but not acceptable: what a schema cannot say (a date of birth in the
            // future, a period the wrong way round or too long).
            Self::InvalidApprovalToken(_)
            | Self::AmountExceeds { .. }
            | Self::ImplausibleDateOfBirth
            | Self::InvalidRange { .. } => 422,
            Self::OrderNotFound => 404,
            Self::ApprovalExpired
            | Self::OrderExists { .. }
            | Self::InvalidOrderState { .. }
            | Self::TooManyChanges
            | Self::SessionHasApproval => 409,
            Self::InvalidOrderId | Self::InvalidReference => 400,
            Self::Missing { .. }
            | Self::InvalidKey
            | Self::InvalidAmount(_)
            | Self::InvalidCurrency(_)
            | Self::InvalidDate { .. }
            | Self::InvalidLocale
            | Self::UnknownParameter { .. }
            | Self::RepeatedParameter { .. }
            | Self::InvalidJson { .. }
            | Self::UnknownField { .. }
            | Self::IdempotencyKey { .. }
            | Self::InvalidType { .. }
            | Self::InvalidEmail
            | Self::InvalidCountry
            | Self::InvalidPlanId => 400,
        }
    }

    pub fn code(&self) -> &str {
        match self {
            Self::NotFound { .. } => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::Missing { .. } => "missing_parameter",
            Self::InvalidKey => "invalid_key",
            Self::UnknownKey => "unknown_key",
            Self::OriginNotAllowed { .. } => "origin_not_allowed",
            Self::InvalidAmount(_) => "invalid_amount",
            Self::InvalidCurrency(_) => "invalid_currency",
            Self::CurrencyNotOffered { .. } => "currency_not_offered",
            Self::InvalidDate { .. } => "invalid_date",
            Self::InvalidLocale => "invalid_locale",
            Self::UnknownParameter { .. } => "unknown_parameter",
            Self::RepeatedParameter { .. } => "repeated_parameter",
            Self::BodyTooLarge => "body_too_large",
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
            Self::InvalidJson { .. } => "invalid_json",
            Self::UnknownField { .. } => "unknown_field",
            Self::OriginRequired => "origin_required",
            Self::Batch(error) => error.code(),
            Self::NoEventAccepted { first } => &first.code,
            Self::InvalidToken(TokenError::Expired)
            | Self::InvalidSessionParameter(TokenError::Expired)
            | Self::InvalidRenewal(TokenError::Expired) => "token_expired",
            Self::InvalidToken(TokenError::Mismatch(_))
            | Self::InvalidSessionParameter(TokenError::Mismatch(_))
            | Self::InvalidRenewal(TokenError::Mismatch(_)) => "token_mismatch",
            Self::InvalidToken(_) | Self::InvalidSessionParameter(_) | Self::InvalidRenewal(_) => "invalid_token",
            Self::InvalidPlanId => "invalid_plan",
            Self::RateLimited { .. } => "rate_limited",
            Self::EnqueueFailed { .. } => "enqueue_failed",
            Self::Unauthorized => "unauthorized",
            Self::IdempotencyKey { .. } => "invalid_idempotency_key",
            Self::IdempotencyConflict => "idempotency_conflict",
            Self::InvalidType { .. } => "invalid_type",
            Self::InvalidEmail => "invalid_email",
            Self::ImplausibleDateOfBirth => "implausible_date_of_birth",
            Self::InvalidCountry => "invalid_country",
            Self::ConsentRequired => "consent_required",
            Self::UnknownPlan { .. } => "unknown_plan",
            Self::Internal { .. } => "internal_error",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidSecretKey => "invalid_key",
            Self::InsufficientScope { .. } => "insufficient_scope",
            Self::WrongMode { .. } => "wrong_mode",
            Self::WrongMerchant { .. } => "wrong_merchant",
            Self::InvalidApprovalToken(TokenError::Expired) => "approval_token_expired",
            Self::InvalidApprovalToken(_) => "invalid_approval_token",
            Self::ApprovalExpired => "approval_expired",
            Self::OrderNotFound => "order_not_found",
            Self::InvalidOrderId => "invalid_order_id",
            Self::OrderExists { .. } => "order_exists",
            Self::InvalidReference => "invalid_reference",
            Self::AmountExceeds { .. } => "amount_exceeds",
            Self::InvalidOrderState { .. } => "invalid_order_state",
            Self::TooManyChanges => "too_many_changes",
            Self::InvalidRange { .. } => "invalid_range",
            Self::SessionHasApproval => "session_has_approval",
        }
    }

    /// The input at fault, if one is.
    pub fn field(&self) -> Option<String> {
        match self {
            Self::Batch(error) => error.field().map(str::to_owned),
            Self::NoEventAccepted { first } => Some(format!("events[{}]", first.index)),
            Self::InvalidToken(TokenError::Mismatch("origin")) => Some("Origin".into()),
            Self::InvalidToken(_) => Some("session_token".into()),
            Self::Unauthorized | Self::Unauthenticated | Self::InvalidSecretKey | Self::InsufficientScope { .. } => {
                Some("Authorization".into())
            }
            other => other.simple_field().map(str::to_owned),
        }
    }

    /// Seconds to wait before retrying, for the `Retry-After` header.
    pub fn retry_after_seconds(&self) -> Option<u32> {
        match self {
            Self::RateLimited {
                retry_after_seconds, ..
            } => Some(*retry_after_seconds),
            Self::EnqueueFailed { .. } => Some(1),
            _ => None,
        }
    }

    fn simple_field(&self) -> Option<&str> {
        match self {
            Self::Missing { field } | Self::InvalidDate { field, .. } => Some(field),
            Self::InvalidKey | Self::UnknownKey => Some("key"),
            Self::OriginNotAllowed { .. } | Self::OriginRequired => Some("Origin"),
            Self::UnsupportedMediaType { .. } => Some("Content-Type"),
            Self::UnknownField { name } => Some(name),
            Self::InvalidAmount(_) => Some("amount"),
            Self::InvalidCurrency(_) | Self::CurrencyNotOffered { .. } => Some("currency"),
            Self::InvalidLocale => Some("locale"),
            Self::IdempotencyKey { .. } | Self::IdempotencyConflict => Some("Idempotency-Key"),
            Self::InvalidType { field, .. } => Some(field),
            Self::InvalidEmail => Some("customer.email"),
            Self::ImplausibleDateOfBirth => Some("customer.date_of_birth"),
            Self::InvalidCountry => Some("customer.country"),
            Self::ConsentRequired => Some("consent.terms"),
            Self::UnknownPlan { .. } => Some("plan_id"),
            Self::InvalidSessionParameter(_) => Some("session"),
            Self::InvalidRenewal(_) => Some("renew"),
            Self::InvalidPlanId => Some("plan"),
            Self::UnknownParameter { name } | Self::RepeatedParameter { name } => Some(name),
            Self::InvalidApprovalToken(_) | Self::ApprovalExpired => Some("approval_token"),
            Self::WrongMode { what } | Self::WrongMerchant { what } => Some(what),
            Self::OrderExists { .. } | Self::InvalidReference => Some("merchant_reference"),
            Self::AmountExceeds { .. } => Some("amount"),
            Self::OrderNotFound | Self::InvalidOrderId | Self::InvalidOrderState { .. } | Self::TooManyChanges => {
                Some("order_id")
            }
            Self::InvalidRange { field, .. } => Some(field),
            Self::SessionHasApproval => Some("session_token"),
            _ => None,
        }
    }

    pub fn to_api_error(&self) -> ApiError {
        ApiError::new(self.code(), self.to_string(), self.field().as_deref())
    }

    /// The JSON body of the response.
    pub fn body(&self) -> String {
        // Serializing a struct of strings cannot fail.
        serde_json::to_string(&self.to_api_error().into_body()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_never_reach_the_body() {
        let error = EdgeError::Internal {
            detail: "KV get failed: secret stack trace".into(),
        };
        assert_eq!(error.status(), 500);
        assert!(!error.body().contains("secret"));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&error.body()).unwrap(),
            serde_json::json!({ "error": { "code": "internal_error", "message": "internal error; it has been logged", "field": null } })
        );
    }

    #[test]
    fn amount_errors_name_the_field() {
        let error = EdgeError::InvalidAmount(AmountError::NotPositive);
        assert_eq!(
            (error.status(), error.code(), error.field().as_deref()),
            (400, "invalid_amount", Some("amount"))
        );
        assert_eq!(error.to_string(), "amount must be greater than zero");
    }
}
