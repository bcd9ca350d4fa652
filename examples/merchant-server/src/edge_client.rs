//! The edge's merchant server API (CONTRACT §5), called with the secret key, and its published
//! keys. Blocking, one request per call; statuses are answers, not transport errors.

use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use paylater_shared::api_error::{ApiError, ApiErrorBody};
use paylater_shared::date::CivilDate;
use paylater_shared::order::{Order, Reconciliation};
use serde::de::DeserializeOwned;
use serde_json::json;
use thiserror::Error;

use crate::input::OrderId;

/// Why an edge call gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EdgeError {
    #[error("the edge did not answer: {0}")]
    Unreachable(String),
    #[error("the edge refused the request ({status} {}): {}", error.code, error.message)]
    Refused { status: u16, error: ApiError },
    #[error("the edge answered {status} with a body this server does not understand")]
    Unexpected { status: u16 },
}

/// An order the edge made, or gave back because this approval already had it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub order: Order,
    /// The edge answered an earlier identical request again (`Idempotent-Replayed: true`).
    pub replayed: bool,
}

/// The edge at `base`, with the merchant's secret key.
pub struct EdgeClient {
    base: String,
    secret_key: String,
    agent: ureq::Agent,
}

/// A request to the edge: method, path and query, and what goes with it.
struct Call<'a> {
    method: &'a str,
    path: String,
    authorized: bool,
    idempotency_key: Option<&'a str>,
    body: Option<serde_json::Value>,
}

impl<'a> Call<'a> {
    fn new(method: &'a str, path: String) -> Self {
        Self {
            method,
            path,
            authorized: true,
            idempotency_key: None,
            body: None,
        }
    }
}

/// A status and a body, read whole.
struct Answer {
    status: u16,
    replayed: bool,
    body: String,
}

impl EdgeClient {
    pub fn new(base: &str, secret_key: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        Self {
            base: base.to_owned(),
            secret_key: secret_key.to_owned(),
            agent,
        }
    }

    /// `GET /v1/keys`: the public keys approval tokens are signed with. No secret key needed.
    pub fn keys(&self) -> Result<JwkSet, EdgeError> {
        let call = Call {
            authorized: false,
            ..Call::new("GET", "/v1/keys".into())
        };
        read_answer(self.send(call)?)
    }

    /// `POST /v1/orders`: the order of an approval, under the merchant's own reference.
    pub fn create_order(&self, approval_token: &str, merchant_reference: &str) -> Result<Created, EdgeError> {
        let call = Call {
            body: Some(json!({ "approval_token": approval_token, "merchant_reference": merchant_reference })),
            ..Call::new("POST", "/v1/orders".into())
        };
        let answer = self.send(call)?;
        let replayed = answer.replayed;
        read_answer(answer).map(|order| Created { order, replayed })
    }

    /// `GET /v1/orders/{id}`.
    pub fn order(&self, id: &OrderId) -> Result<Order, EdgeError> {
        read_answer(self.send(Call::new("GET", format!("/v1/orders/{id}")))?)
    }

    /// `POST /v1/orders/{id}/captures`.
    pub fn capture(&self, id: &OrderId, amount: u64, idempotency_key: &str) -> Result<Order, EdgeError> {
        let call = Call {
            idempotency_key: Some(idempotency_key),
            body: Some(json!({ "amount": amount })),
            ..Call::new("POST", format!("/v1/orders/{id}/captures"))
        };
        read_answer(self.send(call)?)
    }

    /// `POST /v1/orders/{id}/refunds`.
    pub fn refund(&self, id: &OrderId, amount: u64, idempotency_key: &str) -> Result<Order, EdgeError> {
        let call = Call {
            idempotency_key: Some(idempotency_key),
            body: Some(json!({ "amount": amount })),
            ..Call::new("POST", format!("/v1/orders/{id}/refunds"))
        };
        read_answer(self.send(call)?)
    }

    /// `POST /v1/orders/{id}/void`.
    pub fn void(&self, id: &OrderId, idempotency_key: &str) -> Result<Order, EdgeError> {
        let call = Call {
            idempotency_key: Some(idempotency_key),
            ..Call::new("POST", format!("/v1/orders/{id}/void"))
        };
        read_answer(self.send(call)?)
    }

    /// `GET /v1/reconciliation?from=…&to=…`, JSON.
    pub fn reconciliation(&self, from: CivilDate, to: CivilDate) -> Result<Reconciliation, EdgeError> {
        read_answer(self.send(Call::new("GET", format!("/v1/reconciliation?from={from}&to={to}")))?)
    }

    fn send(&self, call: Call) -> Result<Answer, EdgeError> {
        let unreachable = |e: &dyn std::fmt::Display| EdgeError::Unreachable(e.to_string());
        let mut request = ureq::http::Request::builder()
            .method(call.method)
            .uri(format!("{}{}", self.base, call.path))
            .header("Accept", "application/json");
        if call.authorized {
            request = request.header("Authorization", format!("Bearer {}", self.secret_key));
        }
        if let Some(key) = call.idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let sent = match call.body {
            Some(body) => request
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .map_err(|e| unreachable(&e))
                .and_then(|r| self.agent.run(r).map_err(|e| unreachable(&e))),
            None => request
                .body(())
                .map_err(|e| unreachable(&e))
                .and_then(|r| self.agent.run(r).map_err(|e| unreachable(&e))),
        };
        let mut response = sent?;
        let replayed = response
            .headers()
            .get("idempotent-replayed")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().map_err(|e| unreachable(&e))?;
        Ok(Answer { status, replayed, body })
    }
}

/// A 2xx body as `T`; any other status as the edge's error body.
fn read_answer<T: DeserializeOwned>(answer: Answer) -> Result<T, EdgeError> {
    let status = answer.status;
    if (200..300).contains(&status) {
        return serde_json::from_str(&answer.body).map_err(|_| EdgeError::Unexpected { status });
    }
    match serde_json::from_str::<ApiErrorBody>(&answer.body) {
        Ok(body) => Err(EdgeError::Refused {
            status,
            error: body.error,
        }),
        Err(_) => Err(EdgeError::Unexpected { status }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status,
            replayed: false,
            body: body.into(),
        }
    }

    #[test]
    fn reads_a_success_body_an_error_body_and_nonsense() {
        let ok: serde_json::Value = read_answer(answer(201, r#"{"status":"captured"}"#)).unwrap();
        assert_eq!(ok["status"], "captured");
        let refused = read_answer::<serde_json::Value>(answer(
            422,
            r#"{"error":{"code":"amount_exceeds","message":"only 100 is left to capture","field":"amount"}}"#,
        ));
        assert_eq!(
            refused,
            Err(EdgeError::Refused {
                status: 422,
                error: ApiError::new("amount_exceeds", "only 100 is left to capture", Some("amount")),
            })
        );
        assert_eq!(
            read_answer::<serde_json::Value>(answer(502, "<html>bad gateway</html>")),
            Err(EdgeError::Unexpected { status: 502 })
        );
        assert_eq!(
            read_answer::<Order>(answer(200, r#"{"order_id":1}"#)),
            Err(EdgeError::Unexpected { status: 200 })
        );
    }
}
