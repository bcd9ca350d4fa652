//! `POST /v1/events`: the checks made before any state is touched (body, session token, origin),
//! the messages the worker exchanges with its Durable Objects, and the 202 answer.

use paylater_shared::telemetry::Event;
use paylater_shared::token::{SessionClaims, SessionKeyring, TokenError};
use serde::{Deserialize, Serialize};

use crate::error::EdgeError;
use crate::event_batch::{Rejection, ValidatedBatch, validate_batch};
use crate::ingest::{RequestFacts, SessionFacts, UaClass, is_high_velocity};
use crate::log_record::truncate_ip;

/// A batch whose token and origin were checked, with at least one valid event.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizedBatch {
    pub claims: SessionClaims,
    pub batch: ValidatedBatch,
}

/// Validates the body, verifies the session token and checks that the request comes from the
/// origin the session was created on. A batch with no valid event is refused as a whole (422)
/// with the first event's reason.
pub fn authorize_batch(
    body: &[u8],
    keyring: &SessionKeyring,
    origin: Option<&str>,
    now_ms: i64,
) -> Result<AuthorizedBatch, EdgeError> {
    let batch = validate_batch(body, now_ms).map_err(EdgeError::Batch)?;
    let claims = keyring
        .verify(&batch.session_token, now_ms.div_euclid(1000))
        .map_err(EdgeError::InvalidToken)?;
    let origin = origin.ok_or(EdgeError::OriginRequired)?;
    if claims.org != origin {
        return Err(EdgeError::InvalidToken(TokenError::Mismatch("origin")));
    }
    if batch.accepted.is_empty() {
        let first = batch.rejected.first().cloned().ok_or_else(|| EdgeError::Internal {
            detail: "a non-empty batch with neither accepted nor rejected events".into(),
        })?;
        return Err(EdgeError::NoEventAccepted { first });
    }
    Ok(AuthorizedBatch { claims, batch })
}

/// The publishable key the session token of a refused batch claims (see
/// [`crate::auth::claimed_publishable_key`]).
pub fn claimed_key_of_batch(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct TokenOnly {
        session_token: String,
    }
    let batch: TokenOnly = paylater_shared::json::from_bytes(body).ok()?;
    crate::auth::claimed_publishable_key(&batch.session_token)
}

/// Refuses, one by one, events whose `plan_id` is not one of the merchant's plans: a plan id
/// becomes a row of the merchant's funnel (its plan mix), so a stranger holding only the
/// publishable key must not be able to invent them. A batch left with nothing is refused as a
/// whole, as [`authorize_batch`] does.
pub fn refuse_unknown_plans(authorized: &mut AuthorizedBatch, plan_ids: &[String]) -> Result<(), EdgeError> {
    let batch = &mut authorized.batch;
    let (known, unknown): (Vec<_>, Vec<_>) = std::mem::take(&mut batch.accepted).into_iter().partition(|(_, event)| {
        event
            .props
            .get("plan_id")
            .and_then(|plan| plan.as_str())
            .is_none_or(|plan| plan_ids.iter().any(|id| id == plan))
    });
    batch.accepted = known;
    batch.rejected.extend(unknown.into_iter().map(|(index, _)| Rejection {
        index,
        code: "invalid_props".into(),
        message: "props.plan_id is not a plan of this merchant".into(),
    }));
    batch.rejected.sort_by_key(|rejection| rejection.index);
    if batch.accepted.is_empty() {
        let first = batch.rejected.first().cloned().ok_or_else(|| EdgeError::Internal {
            detail: "a non-empty batch with neither accepted nor rejected events".into(),
        })?;
        return Err(EdgeError::NoEventAccepted { first });
    }
    Ok(())
}

/// What the edge records about the client, from the runtime's view of the request.
pub fn request_facts(
    client_ip: Option<&str>,
    country: Option<String>,
    asn: Option<u32>,
    user_agent: Option<&str>,
    observed_ms: i64,
    ip_velocity: bool,
) -> RequestFacts {
    RequestFacts {
        observed_ms,
        network: client_ip.map_or_else(|| "unknown".to_owned(), truncate_ip),
        // Two upper-case letters or nothing: `T1`/`XX` (Tor, unknown) are kept as Cloudflare says.
        country: country.filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphanumeric())),
        asn,
        ua_class: UaClass::from_user_agent(user_agent.unwrap_or("")),
        ip_velocity,
    }
}

/// What a session token asserts, as the records of its events and decisions carry it.
pub fn session_facts(claims: &SessionClaims) -> SessionFacts {
    SessionFacts {
        session_id: claims.sid.clone(),
        merchant_id: claims.mid.clone(),
        amount_minor: claims.amt.get(),
        currency: claims.cur.to_string(),
        issued_at_s: claims.iat,
        livemode: claims.key.starts_with("pk_live_"),
        publishable_key: claims.key.clone(),
    }
}

/// Worker → the session's Durable Object: rate-limit, dedup and enqueue these events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdmitRequest {
    pub session: SessionFacts,
    pub request: RequestFacts,
    pub limit_per_minute: u32,
    /// When the session's token expires: its state can go some time after.
    pub expires_at_s: i64,
    pub events: Vec<Event>,
    /// The client's clock when it sent the request (`sent_at`), if it said.
    #[serde(default)]
    pub sent_at: Option<i64>,
}

/// The session's Durable Object → worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdmitAnswer {
    Admitted { accepted: u32, duplicates: u32 },
    RateLimited { retry_after_seconds: u32 },
    EnqueueFailed { detail: String },
}

/// Worker → a client IP's Durable Object: count this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitRequest {
    pub limit_per_minute: u32,
}

/// A client IP's Durable Object → worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitAnswer {
    Admitted { count: u64 },
    RateLimited { retry_after_seconds: u32 },
}

impl LimitAnswer {
    /// High velocity: half the limit or more used in the current minute.
    pub fn is_high_velocity(&self, limit_per_minute: u32) -> bool {
        matches!(self, Self::Admitted { count } if is_high_velocity(*count, limit_per_minute))
    }
}

/// The 202 answer (CONTRACT §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsAccepted {
    pub accepted: u32,
    pub duplicates: u32,
    pub rejected: Vec<Rejection>,
}

/// Maps the session object's answer to the request's outcome.
pub fn events_outcome(answer: AdmitAnswer, rejected: Vec<Rejection>) -> Result<EventsAccepted, EdgeError> {
    match answer {
        AdmitAnswer::Admitted { accepted, duplicates } => Ok(EventsAccepted {
            accepted,
            duplicates,
            rejected,
        }),
        AdmitAnswer::RateLimited { retry_after_seconds } => Err(EdgeError::RateLimited {
            scope: "session",
            retry_after_seconds,
        }),
        AdmitAnswer::EnqueueFailed { detail } => Err(EdgeError::EnqueueFailed { detail }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sessions::keyring_from_secret;
    use paylater_shared::token::HmacKey;
    use paylater_shared::{Currency, MinorUnits};
    use serde_json::json;

    const NOW_MS: i64 = 1_795_429_845_000;
    const ORIGIN: &str = "http://127.0.0.1:8080";

    fn keyring() -> SessionKeyring {
        keyring_from_secret("k1:cGF5bGF0ZXItdW5pdC10ZXN0LXNlc3Npb24ta2V5LTAwMQ").unwrap()
    }

    fn claims(exp_s: i64) -> SessionClaims {
        SessionClaims {
            sid: "ses_1".into(),
            mid: "m_nordic_outdoor".into(),
            key: "pk_test_demo".into(),
            org: ORIGIN.into(),
            amt: MinorUnits(12_999),
            cur: Currency::parse("USD").unwrap(),
            iat: NOW_MS / 1000 - 60,
            exp: exp_s,
            sd: None,
        }
    }

    fn body(token: &str, events: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&json!({ "session_token": token, "events": events })).unwrap()
    }

    fn viewed(id: &str) -> serde_json::Value {
        json!({ "id": id, "name": "widget_viewed", "ts": NOW_MS - 1000, "seq": 1, "props": { "visible_ms": 1000 } })
    }

    #[test]
    fn a_good_batch_is_authorized_with_its_rejections() {
        let token = keyring().sign(&claims(NOW_MS / 1000 + 600));
        let events = json!([viewed("0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e10"), { "name": "nope" }]);
        let authorized = authorize_batch(&body(&token, events), &keyring(), Some(ORIGIN), NOW_MS).unwrap();
        assert_eq!(authorized.batch.accepted.len(), 1);
        assert_eq!(authorized.batch.rejected[0].index, 1);
        assert_eq!(session_facts(&authorized.claims).amount_minor, 12_999);
        assert_eq!(session_facts(&authorized.claims).currency, "USD");
    }

    #[test]
    fn events_naming_a_plan_the_merchant_lacks_are_refused() {
        let token = keyring().sign(&claims(NOW_MS / 1000 + 600));
        let selected = |id: &str, plan: &str| json!({ "id": id, "name": "plan_selected", "ts": NOW_MS - 1000, "seq": 2, "props": { "plan_id": plan } });
        let events = json!([
            viewed("0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e10"),
            selected("0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e11", "pay_in_4"),
            selected("0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e12", "free_money_<script>"),
        ]);
        let plans = ["pay_in_4".to_owned(), "pay_in_30".to_owned()];
        let mut authorized = authorize_batch(&body(&token, events), &keyring(), Some(ORIGIN), NOW_MS).unwrap();
        refuse_unknown_plans(&mut authorized, &plans).unwrap();
        let kept: Vec<usize> = authorized.batch.accepted.iter().map(|(index, _)| *index).collect();
        assert_eq!(kept, [0, 1]);
        assert_eq!(
            authorized.batch.rejected,
            [Rejection {
                index: 2,
                code: "invalid_props".into(),
                message: "props.plan_id is not a plan of this merchant".into(),
            }]
        );
        // Nothing left: the whole batch is refused with that reason.
        let only = json!([selected("0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e13", "nope")]);
        let mut authorized = authorize_batch(&body(&token, only), &keyring(), Some(ORIGIN), NOW_MS).unwrap();
        let error = refuse_unknown_plans(&mut authorized, &plans).unwrap_err();
        assert_eq!((error.code(), error.status()), ("invalid_props", 422));
    }

    #[test]
    fn bad_tokens_origins_and_batches_are_refused() {
        let good = keyring().sign(&claims(NOW_MS / 1000 + 600));
        let expired = keyring().sign(&claims(NOW_MS / 1000 - 1));
        let forged = SessionKeyring::new(vec![HmacKey {
            kid: "k1".into(),
            secret: vec![7; 32],
        }])
        .unwrap()
        .sign(&claims(NOW_MS / 1000 + 600));
        let ok_events = json!([viewed("0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e10")]);
        let cases: Vec<(Vec<u8>, Option<&str>, u16, &str)> = vec![
            (body(&expired, ok_events.clone()), Some(ORIGIN), 401, "token_expired"),
            (body(&forged, ok_events.clone()), Some(ORIGIN), 401, "invalid_token"),
            (
                body("v1.k1.e30.AAAA", ok_events.clone()),
                Some(ORIGIN),
                401,
                "invalid_token",
            ),
            (
                body(&good, ok_events.clone()),
                Some("https://evil.example"),
                403,
                "token_mismatch",
            ),
            (body(&good, ok_events.clone()), None, 403, "origin_required"),
            (
                body(&good, json!([{ "name": "nope" }])),
                Some(ORIGIN),
                422,
                "invalid_id",
            ),
            (b"{".to_vec(), Some(ORIGIN), 400, "invalid_json"),
            (body(&good, json!([])), Some(ORIGIN), 400, "invalid_events"),
        ];
        for (body, origin, status, code) in cases {
            let error = authorize_batch(&body, &keyring(), origin, NOW_MS).unwrap_err();
            assert_eq!(
                (error.status(), error.code()),
                (status, code),
                "{}",
                String::from_utf8_lossy(&body)
            );
        }
        let none_valid =
            authorize_batch(&body(&good, json!([{ "id": 1 }])), &keyring(), Some(ORIGIN), NOW_MS).unwrap_err();
        assert_eq!(none_valid.field().as_deref(), Some("events[0]"));
    }

    #[test]
    fn facts_keep_no_full_ip_and_class_the_agent() {
        let facts = request_facts(
            Some("203.0.113.77"),
            Some("SE".into()),
            Some(3301),
            Some("curl/8.0"),
            NOW_MS,
            false,
        );
        assert_eq!(facts.network, "203.0.113.0/24");
        assert_eq!(facts.ua_class, UaClass::Automation);
        let unknown = request_facts(None, Some("<script>".into()), None, None, NOW_MS, true);
        assert_eq!((unknown.network.as_str(), unknown.country), ("unknown", None));
    }

    #[test]
    fn object_answers_map_to_statuses() {
        assert_eq!(
            events_outcome(
                AdmitAnswer::Admitted {
                    accepted: 3,
                    duplicates: 1
                },
                vec![]
            )
            .unwrap()
            .accepted,
            3
        );
        let limited = events_outcome(
            AdmitAnswer::RateLimited {
                retry_after_seconds: 17,
            },
            vec![],
        )
        .unwrap_err();
        assert_eq!((limited.status(), limited.retry_after_seconds()), (429, Some(17)));
        let failed = events_outcome(AdmitAnswer::EnqueueFailed { detail: "x".into() }, vec![]).unwrap_err();
        assert_eq!((failed.status(), failed.code()), (503, "enqueue_failed"));
        assert!(LimitAnswer::Admitted { count: 300 }.is_high_velocity(600));
        assert!(!LimitAnswer::Admitted { count: 299 }.is_high_velocity(600));
        let wire = serde_json::to_string(&AdmitAnswer::RateLimited { retry_after_seconds: 5 }).unwrap();
        assert_eq!(wire, r#"{"rate_limited":{"retry_after_seconds":5}}"#);
        assert_eq!(
            serde_json::from_str::<AdmitAnswer>(&wire).unwrap(),
            AdmitAnswer::RateLimited { retry_after_seconds: 5 }
        );
    }
}
