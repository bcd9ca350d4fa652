//! The two routes the dashboard reads (same origin as the page: the edge serves both), through
//! `gloo-net`, the key in the `Authorization` header.

use gloo_net::http::Request;
use paylater_shared::ApiErrorBody;
use paylater_shared::insights::{AnomalyList, Funnel};
use serde::de::DeserializeOwned;
use thiserror::Error;

use crate::range::Range;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApiError {
    /// 401: unknown, revoked or malformed key.
    #[error("This key was not accepted: it is unknown, revoked, or not a secret key. Check it and sign in again.")]
    NotAccepted,
    /// 403 `insufficient_scope`.
    #[error(
        "This key cannot read insights. Give it the insights:read scope in your merchant config, or use another key."
    )]
    MissingScope,
    #[error("The edge refused the request ({status} {code}): {message}")]
    Refused { status: u16, code: String, message: String },
    #[error("The edge could not be reached. Check your connection and try again.")]
    Network,
    #[error("The edge's answer could not be read. Try again.")]
    Unreadable,
}

impl ApiError {
    /// Whether the key itself is the problem: the dashboard signs out and says why.
    pub fn is_about_the_key(&self) -> bool {
        matches!(self, Self::NotAccepted | Self::MissingScope)
    }
}

async fn get<T: DeserializeOwned>(key: &str, path: &str) -> Result<T, ApiError> {
    let response = Request::get(path)
        .header("Authorization", &format!("Bearer {key}"))
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    let text = response.text().await.map_err(|_| ApiError::Network)?;
    if response.ok() {
        return serde_json::from_str(&text).map_err(|_| ApiError::Unreadable);
    }
    let body: ApiErrorBody = serde_json::from_str(&text).map_err(|_| ApiError::Unreadable)?;
    Err(match (response.status(), body.error.code.as_str()) {
        (401, _) => ApiError::NotAccepted,
        (403, "insufficient_scope") => ApiError::MissingScope,
        (status, _) => ApiError::Refused {
            status,
            code: body.error.code,
            message: body.error.message,
        },
    })
}

pub async fn funnel(key: &str, range: &Range) -> Result<Funnel, ApiError> {
    get(key, &format!("/v1/insights/funnel?{}", range.query())).await
}

pub async fn anomalies(key: &str, range: &Range) -> Result<AnomalyList, ApiError> {
    get(key, &format!("/v1/insights/anomalies?{}", range.query())).await
}
