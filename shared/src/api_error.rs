//! The JSON error body of every failed HTTP request (CONTRACT §3):
//! `{ "error": { "code", "message", "field" } }`.

use serde::{Deserialize, Serialize};

/// One error: a stable machine `code`, a human `message`, and the offending input `field`
/// (`null` when no single field is at fault).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: String,
    pub message: String,
    pub field: Option<String>,
}

/// The envelope the error travels in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    pub error: ApiError,
}

impl ApiError {
    pub fn new(code: &str, message: impl Into<String>, field: Option<&str>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
            field: field.map(str::to_owned),
        }
    }

    pub fn into_body(self) -> ApiErrorBody {
        ApiErrorBody { error: self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_in_the_contract_shape() {
        let body = ApiError::new(
            "invalid_amount",
            "amount must be a positive integer in minor units",
            Some("amount"),
        )
        .into_body();
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({ "error": { "code": "invalid_amount", "message": "amount must be a positive integer in minor units", "field": "amount" } })
        );
        let no_field = ApiError::new("not_found", "no such route", None).into_body();
        assert_eq!(
            serde_json::to_value(&no_field).unwrap()["error"]["field"],
            serde_json::Value::Null
        );
    }
}
