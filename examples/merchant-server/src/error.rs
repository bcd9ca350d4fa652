//! Every way a request to this server fails, and its HTTP status and JSON body
//! (`{ "error": { "code", "message", "field" } }`, as the edge's) in one place.

use paylater_shared::api_error::ApiError;
use thiserror::Error;

use crate::edge_client::EdgeError;
use crate::input::{InputError, MAX_BODY_BYTES};
use crate::verify::VerifyError;

/// Edge error codes that mean this server's own key is wrong: not the caller's business.
const KEY_PROBLEMS: [&str; 3] = ["unauthenticated", "invalid_key", "insufficient_scope"];

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ServerError {
    #[error("no such page")]
    NotFound,
    #[error("this path takes {0} only")]
    MethodNotAllowed(&'static str),
    #[error("the body must be {0}")]
    UnsupportedMediaType(&'static str),
    #[error("the body is over {MAX_BODY_BYTES} bytes")]
    BodyTooLarge,
    #[error("requests from this origin are not allowed here")]
    OriginNotAllowed,
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Token(#[from] VerifyError),
    #[error(transparent)]
    Edge(#[from] EdgeError),
}

impl ServerError {
    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound => 404,
            Self::MethodNotAllowed(_) => 405,
            Self::UnsupportedMediaType(_) => 415,
            Self::BodyTooLarge => 413,
            Self::OriginNotAllowed => 403,
            Self::Input(_) => 400,
            Self::Token(VerifyError::WrongMerchant | VerifyError::WrongMode) => 403,
            Self::Token(_) => 422,
            Self::Edge(EdgeError::Refused { error, .. }) if KEY_PROBLEMS.contains(&error.code.as_str()) => 500,
            Self::Edge(EdgeError::Refused { status, .. }) if (400..500).contains(status) => *status,
            Self::Edge(_) => 502,
        }
    }

    /// The error body's content. An edge's 4xx answer about the order or the token is passed on
    /// as the edge gave it; anything about this server's key or the edge's health is not the
    /// caller's to fix and says so.
    pub fn api_error(&self) -> ApiError {
        let message = self.to_string();
        match self {
            Self::NotFound => ApiError::new("not_found", message, None),
            Self::MethodNotAllowed(_) => ApiError::new("method_not_allowed", message, None),
            Self::UnsupportedMediaType(_) => ApiError::new("unsupported_media_type", message, Some("Content-Type")),
            Self::BodyTooLarge => ApiError::new("body_too_large", message, None),
            Self::OriginNotAllowed => ApiError::new("origin_not_allowed", message, Some("Origin")),
            Self::Input(input) => {
                let code = match input {
                    InputError::InvalidJson(_) | InputError::NotAnObject => "invalid_json",
                    InputError::Missing(_) => "missing_parameter",
                    InputError::InvalidType { .. } => "invalid_type",
                    InputError::UnknownField(_) => "unknown_field",
                };
                ApiError::new(code, message, input.field())
            }
            Self::Token(token) => {
                let code = match token {
                    VerifyError::Invalid(_) | VerifyError::UnknownKey(_) => "invalid_approval_token",
                    VerifyError::Expired => "approval_token_expired",
                    VerifyError::WrongMerchant => "wrong_merchant",
                    VerifyError::WrongMode => "wrong_mode",
                };
                ApiError::new(code, message, Some("approval_token"))
            }
            Self::Edge(EdgeError::Refused { error, .. }) if KEY_PROBLEMS.contains(&error.code.as_str()) => {
                ApiError::new(
                    "merchant_key_refused",
                    format!(
                        "the edge refused this server's secret key ({}): check its configuration",
                        error.code
                    ),
                    None,
                )
            }
            Self::Edge(EdgeError::Refused { status, error }) if (400..500).contains(status) => error.clone(),
            Self::Edge(edge) => ApiError::new("edge_unavailable", edge.to_string(), None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_codes() {
        let cases: Vec<(ServerError, u16, &str, Option<&str>)> = vec![
            (ServerError::NotFound, 404, "not_found", None),
            (
                ServerError::UnsupportedMediaType("application/json"),
                415,
                "unsupported_media_type",
                Some("Content-Type"),
            ),
            (ServerError::BodyTooLarge, 413, "body_too_large", None),
            (ServerError::OriginNotAllowed, 403, "origin_not_allowed", Some("Origin")),
            (
                InputError::Missing("approval_token").into(),
                400,
                "missing_parameter",
                Some("approval_token"),
            ),
            (InputError::InvalidJson("eof".into()).into(), 400, "invalid_json", None),
            (
                VerifyError::Invalid("bad signature").into(),
                422,
                "invalid_approval_token",
                Some("approval_token"),
            ),
            (
                VerifyError::Expired.into(),
                422,
                "approval_token_expired",
                Some("approval_token"),
            ),
            (VerifyError::WrongMode.into(), 403, "wrong_mode", Some("approval_token")),
            (
                EdgeError::Unreachable("connection refused".into()).into(),
                502,
                "edge_unavailable",
                None,
            ),
        ];
        for (error, status, code, field) in cases {
            let body = error.api_error();
            assert_eq!(
                (error.status(), body.code.as_str(), body.field.as_deref()),
                (status, code, field)
            );
            assert!(!body.message.is_empty());
        }
    }

    #[test]
    fn edge_refusals_pass_on_unless_they_are_about_this_servers_key() {
        let refused = |status, code: &str| {
            ServerError::Edge(EdgeError::Refused {
                status,
                error: ApiError::new(code, "edge says", Some("approval_token")),
            })
        };
        let expired = refused(409, "approval_expired");
        assert_eq!(expired.status(), 409);
        assert_eq!(
            expired.api_error(),
            ApiError::new("approval_expired", "edge says", Some("approval_token"))
        );
        let key = refused(401, "invalid_key");
        assert_eq!(key.status(), 500);
        assert_eq!(key.api_error().code, "merchant_key_refused");
        let down = refused(503, "enqueue_failed");
        assert_eq!(down.status(), 502);
        assert_eq!(down.api_error().code, "edge_unavailable");
    }
}
