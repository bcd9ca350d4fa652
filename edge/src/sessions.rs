//! `POST /v1/sessions`: a browser on one of the merchant's origins asks for a session; it gets a
//! short-lived token bound to merchant, origin, amount and currency (CONTRACT §3).

use paylater_shared::date::rfc3339_utc;
pub use paylater_shared::session::SessionCreated;
use paylater_shared::token::{HmacKey, SessionClaims, SessionKeyring};
use paylater_shared::widget_options::is_publishable_key;
use paylater_shared::{CivilDate, Currency, MinorUnits};
use serde_json::Value;

use crate::error::EdgeError;
use crate::merchant::MerchantConfig;

/// How long a session token lives (CONTRACT §3: default 30 min).
pub const SESSION_TTL_S: i64 = 30 * 60;
/// How long after its expiry a session may be renewed (`renew`): a tab closed with events still
/// queued sends them on the next page view under the same session id, within a day.
pub const SESSION_RENEWAL_WINDOW_S: i64 = 24 * 60 * 60;
/// Largest request body the edge reads (CONTRACT §3), the same for every POST route.
pub use paylater_shared::telemetry::MAX_BODY_BYTES;

/// A validated `POST /v1/sessions` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRequest {
    pub key: String,
    pub amount: MinorUnits,
    pub currency: Currency,
    /// The shopper's local date (`start`), if the page sent it.
    pub start: Option<CivilDate>,
}

/// Every time zone's date is within a day of UTC's: a start further off is no shopper's today.
pub fn check_local_start(start: CivilDate, now_s: i64) -> Result<CivilDate, EdgeError> {
    let utc_today = CivilDate::from_unix_millis_utc(now_s.saturating_mul(1000)).map_err(|e| EdgeError::Internal {
        detail: format!("clock: {e}"),
    })?;
    if (start.days_since_epoch() - utc_today.days_since_epoch()).abs() > 1 {
        return Err(EdgeError::InvalidRange {
            field: "start",
            problem: "must be the shopper's local date, within a day of the edge's UTC date",
        });
    }
    Ok(start)
}

/// JSON bodies arrive as `application/json`, or as `text/plain` from `navigator.sendBeacon`
/// (which avoids a preflight); anything else is refused before parsing.
pub fn check_content_type(content_type: Option<&str>) -> Result<(), EdgeError> {
    let essence = content_type
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" | "text/plain" => Ok(()),
        _ => Err(EdgeError::UnsupportedMediaType {
            got: content_type.unwrap_or("none").to_owned(),
            expected: "application/json or text/plain",
        }),
    }
}

/// What a `POST /v1/sessions` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionAsk {
    /// `{ key, amount, currency, start? }`: a new session.
    New(SessionRequest),
    /// `{ key, renew }`: the session of `renew` (a token of this key, expired at most
    /// [`SESSION_RENEWAL_WINDOW_S`] ago) with a new token and the same id.
    Renew { key: String, token: String },
}

impl SessionAsk {
    pub fn key(&self) -> &str {
        match self {
            Self::New(request) => &request.key,
            Self::Renew { key, .. } => key,
        }
    }
}

/// Parses either body (see [`SessionAsk`]); a body with `renew` has nothing but `key`.
pub fn parse_session_ask(body: &[u8]) -> Result<SessionAsk, EdgeError> {
    let renewing = paylater_shared::json::from_bytes::<Value>(body)
        .ok()
        .is_some_and(|value| value.get("renew").is_some());
    if !renewing {
        return parse_session_request(body).map(SessionAsk::New);
    }
    let object = crate::json_body::object_body(body, &["key", "renew"])?;
    let key = match object.get("key") {
        None => return Err(EdgeError::Missing { field: "key" }),
        Some(Value::String(key)) if is_publishable_key(key) => key.clone(),
        Some(_) => return Err(EdgeError::InvalidKey),
    };
    let token = match object.get("renew") {
        Some(Value::String(token)) => token.clone(),
        _ => {
            return Err(EdgeError::InvalidType {
                field: "renew",
                expected: "a session token",
            });
        }
    };
    Ok(SessionAsk::Renew { key, token })
}

/// Renews the session of `token`: the same id, merchant, origin, amount, currency, start date
/// and issue time (`iat`: the session's age, and its events' timing, count from its start), a
/// new expiry. Only from the origin the session was made on, with the key it was made with,
/// while its start date is still a shopper's today, and within [`SESSION_RENEWAL_WINDOW_S`] of
/// its first token's expiry: renewals never keep a session alive longer than that, and the
/// session's object keeps its state at least as long.
pub fn renew_session(
    merchant: &MerchantConfig,
    key: &str,
    token: &str,
    origin: Option<&str>,
    keyring: &SessionKeyring,
    now_s: i64,
) -> Result<SessionCreated, EdgeError> {
    let origin = origin.ok_or(EdgeError::OriginRequired)?;
    let claims = keyring
        .verify_for_renewal(token, now_s, SESSION_RENEWAL_WINDOW_S)
        .map_err(EdgeError::InvalidRenewal)?;
    // `iat` is the session's start, kept through renewals: the bound holds for a whole chain.
    if now_s >= claims.iat.saturating_add(SESSION_TTL_S + SESSION_RENEWAL_WINDOW_S) {
        return Err(EdgeError::InvalidRenewal(paylater_shared::token::TokenError::Expired));
    }
    if claims.key != key || claims.mid != merchant.merchant_id {
        return Err(EdgeError::InvalidRenewal(paylater_shared::token::TokenError::Mismatch(
            "key",
        )));
    }
    if claims.org != origin || !merchant.allows_origin(origin) {
        return Err(EdgeError::OriginNotAllowed {
            origin: origin.to_owned(),
        });
    }
    if let Some(start) = claims.sd {
        check_local_start(start, now_s)?;
    }
    let renewed = SessionClaims {
        exp: now_s + SESSION_TTL_S,
        ..claims
    };
    let expires_at = rfc3339_utc(renewed.exp).map_err(|e| EdgeError::Internal {
        detail: format!("clock: {e}"),
    })?;
    Ok(SessionCreated {
        session_id: renewed.sid.clone(),
        session_token: keyring.sign(&renewed),
        expires_at,
    })
}

/// Parses the body: `{ key, amount, currency, start? }`, nothing else.
pub fn parse_session_request(body: &[u8]) -> Result<SessionRequest, EdgeError> {
    let object = crate::json_body::object_body(body, &["key", "amount", "currency", "start"])?;
    let key = match object.get("key") {
        None => return Err(EdgeError::Missing { field: "key" }),
        Some(Value::String(key)) if is_publishable_key(key) => key.clone(),
        Some(_) => return Err(EdgeError::InvalidKey),
    };
    let amount = match object.get("amount") {
        None => return Err(EdgeError::Missing { field: "amount" }),
        Some(number @ Value::Number(n)) => match (crate::json_body::whole_number(number), n.as_f64()) {
            (Some(value), _) => MinorUnits::positive(value).map_err(EdgeError::InvalidAmount)?,
            (None, Some(float)) if float < 0.0 => {
                return Err(EdgeError::InvalidAmount(paylater_shared::AmountError::NotPositive));
            }
            (None, _) => return Err(EdgeError::InvalidAmount(paylater_shared::AmountError::NotAnInteger)),
        },
        Some(_) => return Err(EdgeError::InvalidAmount(paylater_shared::AmountError::NotAnInteger)),
    };
    let currency = match object.get("currency") {
        None => return Err(EdgeError::Missing { field: "currency" }),
        Some(Value::String(code)) => Currency::parse(code).map_err(EdgeError::InvalidCurrency)?,
        Some(_) => return Err(EdgeError::InvalidCurrency(paylater_shared::CurrencyError::Malformed)),
    };
    let start = match object.get("start") {
        None => None,
        Some(Value::String(text)) => {
            Some(CivilDate::parse(text).map_err(|source| EdgeError::InvalidDate { field: "start", source })?)
        }
        Some(_) => {
            return Err(EdgeError::InvalidType {
                field: "start",
                expected: "a date YYYY-MM-DD",
            });
        }
    };
    Ok(SessionRequest {
        key,
        amount,
        currency,
        start,
    })
}

/// Issues the session: the browser must send an allowed `Origin` (sessions are for browsers;
/// servers use `GET /v1/offers` directly).
pub fn create_session(
    merchant: &MerchantConfig,
    request: &SessionRequest,
    origin: Option<&str>,
    keyring: &SessionKeyring,
    session_id: String,
    now_s: i64,
) -> Result<SessionCreated, EdgeError> {
    let origin = origin.ok_or(EdgeError::OriginRequired)?;
    if !merchant.allows_origin(origin) {
        return Err(EdgeError::OriginNotAllowed {
            origin: origin.to_owned(),
        });
    }
    if !merchant.currencies().contains(&request.currency) {
        return Err(EdgeError::CurrencyNotOffered {
            currency: request.currency.to_string(),
        });
    }
    let claims = SessionClaims {
        sid: session_id.clone(),
        mid: merchant.merchant_id.clone(),
        key: merchant.publishable_key.clone(),
        org: origin.to_owned(),
        amt: request.amount,
        cur: request.currency,
        iat: now_s,
        exp: now_s + SESSION_TTL_S,
        sd: request.start.map(|start| check_local_start(start, now_s)).transpose()?,
    };
    let expires_at = rfc3339_utc(claims.exp).map_err(|e| EdgeError::Internal {
        detail: format!("clock: {e}"),
    })?;
    Ok(SessionCreated {
        session_id,
        session_token: keyring.sign(&claims),
        expires_at,
    })
}

/// The `SESSION_KEYS` secret: `kid:base64url-secret` pairs separated by commas, newest first.
pub fn keyring_from_secret(secret: &str) -> Result<SessionKeyring, EdgeError> {
    use base64::Engine;
    let invalid = |why: &str| EdgeError::Internal {
        detail: format!("SESSION_KEYS: {why}"),
    };
    let mut keys = Vec::new();
    for entry in secret.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (kid, encoded) = entry
            .split_once(':')
            .ok_or_else(|| invalid("an entry lacks kid:secret"))?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| invalid("a secret is not base64url"))?;
        keys.push(HmacKey {
            kid: kid.to_owned(),
            secret: bytes,
        });
    }
    SessionKeyring::new(keys).ok_or_else(|| invalid("needs at least one key of 32+ bytes with a short kid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = include_str!("../../seed/merchants/pk_test_demo.json");
    const NOW: i64 = 1_795_429_845;
    const ORIGIN: &str = "http://127.0.0.1:8080";

    fn keyring() -> SessionKeyring {
        keyring_from_secret("k1:cGF5bGF0ZXItdW5pdC10ZXN0LXNlc3Npb24ta2V5LTAwMQ").unwrap()
    }

    #[test]
    fn creates_a_bound_session_that_verifies() {
        let merchant = MerchantConfig::from_json(DEMO).unwrap();
        let request = parse_session_request(br#"{"key":"pk_test_demo","amount":12999,"currency":"USD"}"#).unwrap();
        let created = create_session(
            &merchant,
            &request,
            Some("http://127.0.0.1:8080"),
            &keyring(),
            "ses_1".into(),
            NOW,
        )
        .unwrap();
        assert_eq!(created.expires_at, "2026-11-23T11:00:45Z");
        let claims = keyring().verify(&created.session_token, NOW + 60).unwrap();
        assert_eq!(
            (claims.sid.as_str(), claims.mid.as_str(), claims.org.as_str()),
            ("ses_1", "m_nordic_outdoor", "http://127.0.0.1:8080")
        );
        assert_eq!((claims.amt, claims.cur.code()), (MinorUnits(12999), "USD"));
    }

    #[test]
    fn a_local_start_within_a_day_of_utc_is_carried_by_the_token() {
        // NOW is 2026-11-23T10:30:45Z: every time zone's date is the 22nd, 23rd or 24th.
        let merchant = MerchantConfig::from_json(DEMO).unwrap();
        let start_in_token = |body: &[u8]| {
            let request = parse_session_request(body).unwrap();
            create_session(&merchant, &request, Some(ORIGIN), &keyring(), "s".into(), NOW)
                .map(|created| keyring().verify(&created.session_token, NOW).unwrap().sd)
                .map_err(|e| (e.status(), e.code().to_owned()))
        };
        let with_start = |start: &str| {
            start_in_token(
                format!(r#"{{"key":"pk_test_demo","amount":12999,"currency":"USD","start":"{start}"}}"#).as_bytes(),
            )
        };
        for start in ["2026-11-22", "2026-11-23", "2026-11-24"] {
            assert_eq!(with_start(start), Ok(Some(CivilDate::parse(start).unwrap())), "{start}");
        }
        for start in ["2026-11-21", "2026-11-25", "2027-11-23"] {
            assert_eq!(with_start(start), Err((422, "invalid_range".to_owned())), "{start}");
        }
        let body = br#"{"key":"pk_test_demo","amount":1,"currency":"USD","start":"2026-02-30"}"#;
        assert_eq!(parse_session_request(body).unwrap_err().code(), "invalid_date");
        let body = br#"{"key":"pk_test_demo","amount":1,"currency":"USD","start":20261123}"#;
        assert_eq!(parse_session_request(body).unwrap_err().code(), "invalid_type");
        // Without one, the token has none (the edge's UTC date applies).
        assert_eq!(
            start_in_token(br#"{"key":"pk_test_demo","amount":1,"currency":"USD"}"#),
            Ok(None)
        );
    }

    #[test]
    fn a_session_renews_with_its_id_and_terms_from_its_origin_within_a_day() {
        let merchant = MerchantConfig::from_json(DEMO).unwrap();
        let body = br#"{"key":"pk_test_demo","amount":12999,"currency":"USD","start":"2026-11-23"}"#;
        let first = create_session(
            &merchant,
            &parse_session_request(body).unwrap(),
            Some(ORIGIN),
            &keyring(),
            "ses_1".into(),
            NOW,
        )
        .unwrap();
        let renew = |token: &str, key: &str, origin: Option<&str>, at: i64| {
            let body = serde_json::json!({ "key": key, "renew": token }).to_string();
            let SessionAsk::Renew { key, token } = parse_session_ask(body.as_bytes()).unwrap() else {
                panic!("a body with renew asks to renew");
            };
            renew_session(&merchant, &key, &token, origin, &keyring(), at)
                .map_err(|e| (e.status(), e.code().to_owned()))
        };
        let later = NOW + SESSION_TTL_S + 3 * 3600;
        let renewed = renew(&first.session_token, "pk_test_demo", Some(ORIGIN), later).unwrap();
        assert_eq!(renewed.session_id, "ses_1");
        let old = keyring().verify(&first.session_token, NOW).unwrap();
        let new = keyring().verify(&renewed.session_token, later).unwrap();
        assert_eq!(
            new,
            SessionClaims {
                exp: later + SESSION_TTL_S,
                ..old
            }
        );
        let too_late = NOW + SESSION_TTL_S + SESSION_RENEWAL_WINDOW_S;
        assert_eq!(
            renew(&first.session_token, "pk_test_demo", Some(ORIGIN), too_late),
            Err((401, "token_expired".to_owned()))
        );
        // A chain of renewals ends where the first token's window does: `iat` stays the start.
        let near_end = too_late - 60;
        let last = renew(&renewed.session_token, "pk_test_demo", Some(ORIGIN), near_end - 3600).unwrap();
        assert_eq!(
            renew(&last.session_token, "pk_test_demo", Some(ORIGIN), too_late),
            Err((401, "token_expired".to_owned()))
        );
        // The start date must still be a shopper's today: a day and a half later it is not.
        let session_of_yesterday = create_session(
            &merchant,
            &parse_session_request(br#"{"key":"pk_test_demo","amount":12999,"currency":"USD","start":"2026-11-22"}"#)
                .unwrap(),
            Some(ORIGIN),
            &keyring(),
            "ses_2".into(),
            NOW,
        )
        .unwrap();
        assert_eq!(
            renew(
                &session_of_yesterday.session_token,
                "pk_test_demo",
                Some(ORIGIN),
                NOW + 20 * 3600
            ),
            Err((422, "invalid_range".to_owned()))
        );
        assert_eq!(
            renew(&first.session_token, "pk_test_other", Some(ORIGIN), later),
            Err((403, "token_mismatch".to_owned()))
        );
        assert_eq!(
            renew(
                &first.session_token,
                "pk_test_demo",
                Some("https://elsewhere.example"),
                later
            )
            .map_err(|e| e.0),
            Err(403)
        );
        assert_eq!(
            renew(&first.session_token, "pk_test_demo", None, later).map_err(|e| e.0),
            Err(403)
        );
        assert_eq!(
            renew("v1.k2.bm90LWEtdG9rZW4.c2ln", "pk_test_demo", Some(ORIGIN), later),
            Err((401, "invalid_token".to_owned()))
        );
        // A renewal body has the key and the token, nothing else.
        for (body, code) in [
            (r#"{"key":"pk_test_demo","renew":5}"#, "invalid_type"),
            (r#"{"renew":"x"}"#, "missing_parameter"),
            (r#"{"key":"pk_test_demo","renew":"x","amount":1}"#, "unknown_field"),
        ] {
            assert_eq!(parse_session_ask(body.as_bytes()).unwrap_err().code(), code, "{body}");
        }
        // Without `renew`, the body is a new session's.
        assert!(matches!(
            parse_session_ask(br#"{"key":"pk_test_demo","amount":1,"currency":"USD"}"#),
            Ok(SessionAsk::New(_))
        ));
    }

    #[test]
    fn bad_bodies_and_callers_are_refused() {
        let merchant = MerchantConfig::from_json(DEMO).unwrap();
        let body_cases: [(&[u8], &str); 11] = [
            (b"{", "invalid_json"),
            (b"[1]", "invalid_json"),
            (br#"{"amount":1,"currency":"USD"}"#, "missing_parameter"),
            (br#"{"key":"pk_test_demo","currency":"USD"}"#, "missing_parameter"),
            (br#"{"key":"pk_test_demo","amount":1}"#, "missing_parameter"),
            (br#"{"key":7,"amount":1,"currency":"USD"}"#, "invalid_key"),
            (
                br#"{"key":"pk_test_demo","amount":-5,"currency":"USD"}"#,
                "invalid_amount",
            ),
            (
                br#"{"key":"pk_test_demo","amount":"12999","currency":"USD"}"#,
                "invalid_amount",
            ),
            (
                br#"{"key":"pk_test_demo","amount":1.5,"currency":"USD"}"#,
                "invalid_amount",
            ),
            (
                br#"{"key":"pk_test_demo","amount":1,"currency":"usd"}"#,
                "invalid_currency",
            ),
            (
                br#"{"key":"pk_test_demo","amount":1,"currency":"USD","email":"a@b.se"}"#,
                "unknown_field",
            ),
        ];
        for (body, code) in body_cases {
            assert_eq!(
                parse_session_request(body).unwrap_err().code(),
                code,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(
            parse_session_request(&vec![b' '; MAX_BODY_BYTES + 1])
                .unwrap_err()
                .code(),
            "body_too_large"
        );
        let request = parse_session_request(br#"{"key":"pk_test_demo","amount":100,"currency":"USD"}"#).unwrap();
        let create = |origin: Option<&str>, request: &SessionRequest| {
            create_session(&merchant, request, origin, &keyring(), "s".into(), NOW).map_err(|e| e.code().to_owned())
        };
        assert_eq!(create(None, &request), Err("origin_required".to_owned()));
        assert_eq!(
            create(Some("https://evil.example"), &request),
            Err("origin_not_allowed".to_owned())
        );
        let chf = parse_session_request(br#"{"key":"pk_test_demo","amount":100,"currency":"CHF"}"#).unwrap();
        assert_eq!(
            create(Some("http://127.0.0.1:8080"), &chf),
            Err("currency_not_offered".to_owned())
        );
    }

    #[test]
    fn content_types() {
        assert_eq!(check_content_type(Some("application/json; charset=utf-8")), Ok(()));
        assert_eq!(check_content_type(Some("text/plain;charset=UTF-8")), Ok(()));
        for bad in [
            None,
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
        ] {
            assert_eq!(
                check_content_type(bad).unwrap_err().code(),
                "unsupported_media_type",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn keyring_secrets_are_validated() {
        for bad in ["", "nokid", "k1:not base64!", "k1:c2hvcnQ"] {
            assert_eq!(
                keyring_from_secret(bad).err().map(|e| e.code().to_owned()),
                Some("internal_error".to_owned()),
                "{bad:?}"
            );
        }
    }
}
