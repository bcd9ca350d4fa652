//! `POST /v1/events` as the edge reads it (CONTRACT §3): the body's limits per event, and
//! validation that keeps the good events of a batch and rejects each bad one with its index, a
//! stable code and a message. The envelope and the props' schema are shared with the widget
//! (`paylater_shared::telemetry`).

use paylater_shared::telemetry::{Event, EventName, MAX_BODY_BYTES, MAX_EVENTS, PropKind, is_uuid};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

/// Longest string prop value; props are codes and ids, never free text.
pub const MAX_PROP_CHARS: usize = 200;
/// Events may wait in a shopper's offline queue; older ones are refused.
pub const MAX_EVENT_AGE_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// Client clocks run ahead; beyond this the timestamp is refused.
pub const MAX_CLOCK_AHEAD_MS: i64 = 5 * 60 * 1000;

/// Why one event of a batch was refused (its `code` is stable, its message human).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EventError {
    #[error("event must be a JSON object")]
    NotAnObject,
    #[error("id must be a UUID like 0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e10")]
    InvalidId,
    #[error("name must be one of the funnel events, not {0:?}")]
    UnknownName(String),
    #[error("ts must be epoch milliseconds within the last 7 days and not in the future")]
    InvalidTimestamp,
    #[error("seq must be an integer from 0 to 4294967295")]
    InvalidSeq,
    #[error("props.{prop}: {reason}")]
    InvalidProps { prop: String, reason: &'static str },
    #[error("props.{prop} looks like personal data, which telemetry never carries")]
    PersonalData { prop: String },
    #[error("unknown field {0}")]
    UnknownField(String),
    #[error("id was already used earlier in this batch")]
    DuplicateInBatch,
}

impl EventError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAnObject => "invalid_event",
            Self::InvalidId => "invalid_id",
            Self::UnknownName(_) => "unknown_event",
            Self::InvalidTimestamp => "invalid_ts",
            Self::InvalidSeq => "invalid_seq",
            Self::InvalidProps { .. } => "invalid_props",
            Self::PersonalData { .. } => "personal_data",
            Self::UnknownField(_) => "unknown_field",
            Self::DuplicateInBatch => "duplicate_in_batch",
        }
    }
}

/// Why a whole request was refused before looking at single events.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BatchError {
    #[error("body is larger than {MAX_BODY_BYTES} bytes")]
    BodyTooLarge,
    #[error("body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("body must be a JSON object with session_token and events")]
    NotAnObject,
    #[error("session_token is required")]
    MissingSessionToken,
    #[error("events must be an array of 1 to {MAX_EVENTS} events")]
    EventsNotAnArray,
    #[error("at most {MAX_EVENTS} events per request")]
    TooManyEvents,
    #[error("dropped must be a count of events the client had to discard")]
    InvalidDropped,
    #[error("sent_at must be the client's clock, in epoch ms, when it sent the request")]
    InvalidSentAt,
    #[error("unknown field {0}")]
    UnknownField(String),
}

impl BatchError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::BodyTooLarge => "body_too_large",
            Self::MalformedJson(_) => "invalid_json",
            Self::NotAnObject | Self::UnknownField(_) | Self::InvalidDropped | Self::InvalidSentAt => "invalid_body",
            Self::MissingSessionToken => "missing_session_token",
            Self::EventsNotAnArray => "invalid_events",
            Self::TooManyEvents => "too_many_events",
        }
    }

    /// The request field at fault.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::MissingSessionToken => Some("session_token"),
            Self::EventsNotAnArray | Self::TooManyEvents => Some("events"),
            Self::InvalidDropped => Some("dropped"),
            Self::InvalidSentAt => Some("sent_at"),
            Self::UnknownField(name) => Some(name),
            Self::BodyTooLarge | Self::MalformedJson(_) | Self::NotAnObject => None,
        }
    }
}

/// A refused event, as reported in the 202 answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub index: usize,
    pub code: String,
    pub message: String,
}

/// A batch after validation: what to accept, and what was refused.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedBatch {
    pub session_token: String,
    /// Events the client says it had to drop from its own queue (reported, not stored).
    pub dropped: u32,
    /// The client's clock when it sent the request, if it says.
    pub sent_at: Option<i64>,
    /// Accepted events with their index in the request.
    pub accepted: Vec<(usize, Event)>,
    pub rejected: Vec<Rejection>,
}

/// Parses and validates a request body. `now_ms` is the edge's clock.
pub fn validate_batch(body: &[u8], now_ms: i64) -> Result<ValidatedBatch, BatchError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(BatchError::BodyTooLarge);
    }
    let value: Value = paylater_shared::json::from_bytes(body).map_err(|e| BatchError::MalformedJson(e.to_string()))?;
    let Value::Object(mut object) = value else {
        return Err(BatchError::NotAnObject);
    };
    if let Some(unknown) = object
        .keys()
        .find(|k| !matches!(k.as_str(), "session_token" | "events" | "dropped" | "sent_at"))
    {
        return Err(BatchError::UnknownField(unknown.clone()));
    }
    let session_token = match object.remove("session_token") {
        Some(Value::String(token)) if !token.is_empty() => token,
        _ => return Err(BatchError::MissingSessionToken),
    };
    let dropped = match object.remove("dropped") {
        None => 0,
        Some(value) => crate::json_body::whole_number(&value)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or(BatchError::InvalidDropped)?,
    };
    // When the client sent the request, on its clock: with the edge's arrival time it gives the
    // client clock's offset without the time events waited in the browser (a backoff). Not a
    // whole number: a malformed body. A time outside the window events may carry: a hint not
    // taken (a clock that far off would only mislead), while the events still count.
    let sent_at = match object.remove("sent_at") {
        None => None,
        Some(value) => crate::json_body::whole_number(&value)
            .map(|n| i64::try_from(n).ok())
            .ok_or(BatchError::InvalidSentAt)?
            .filter(|at| *at >= now_ms - MAX_EVENT_AGE_MS && *at <= now_ms + MAX_CLOCK_AHEAD_MS),
    };
    let Some(Value::Array(events)) = object.remove("events") else {
        return Err(BatchError::EventsNotAnArray);
    };
    if events.is_empty() {
        return Err(BatchError::EventsNotAnArray);
    }
    if events.len() > MAX_EVENTS {
        return Err(BatchError::TooManyEvents);
    }
    let mut accepted: Vec<(usize, Event)> = Vec::with_capacity(events.len());
    let mut rejected = Vec::new();
    for (index, raw) in events.into_iter().enumerate() {
        let result = validate_event(raw, now_ms).and_then(|event| {
            if accepted.iter().any(|(_, seen)| seen.id == event.id) {
                Err(EventError::DuplicateInBatch)
            } else {
                Ok(event)
            }
        });
        match result {
            Ok(event) => accepted.push((index, event)),
            Err(error) => rejected.push(Rejection {
                index,
                code: error.code().to_owned(),
                message: error.to_string(),
            }),
        }
    }
    Ok(ValidatedBatch {
        session_token,
        dropped,
        sent_at,
        accepted,
        rejected,
    })
}

/// Validates one event envelope and its props.
pub fn validate_event(raw: Value, now_ms: i64) -> Result<Event, EventError> {
    let Value::Object(mut object) = raw else {
        return Err(EventError::NotAnObject);
    };
    if let Some(unknown) = object
        .keys()
        .find(|k| !matches!(k.as_str(), "id" | "name" | "ts" | "seq" | "props"))
    {
        return Err(EventError::UnknownField(unknown.clone()));
    }
    let id = match object.remove("id") {
        Some(Value::String(id)) if is_uuid(&id) => id.to_ascii_lowercase(),
        _ => return Err(EventError::InvalidId),
    };
    let name = match object.remove("name") {
        Some(Value::String(name)) => EventName::parse(&name).ok_or(EventError::UnknownName(name))?,
        other => {
            return Err(EventError::UnknownName(
                other.map(|v| v.to_string()).unwrap_or_default(),
            ));
        }
    };
    let ts = object
        .remove("ts")
        .and_then(|v| v.as_i64())
        .filter(|ts| *ts >= now_ms - MAX_EVENT_AGE_MS && *ts <= now_ms + MAX_CLOCK_AHEAD_MS)
        .ok_or(EventError::InvalidTimestamp)?;
    let seq = object
        .remove("seq")
        .and_then(|v| crate::json_body::whole_number(&v))
        .and_then(|n| u32::try_from(n).ok())
        .ok_or(EventError::InvalidSeq)?;
    let props = match object.remove("props") {
        None => Map::new(),
        Some(Value::Object(props)) => props,
        Some(_) => {
            return Err(EventError::InvalidProps {
                prop: String::new(),
                reason: "must be an object",
            });
        }
    };
    validate_props(name, &props)?;
    Ok(Event {
        id,
        name,
        ts,
        seq,
        props,
    })
}

fn validate_props(name: EventName, props: &Map<String, Value>) -> Result<(), EventError> {
    let schema = name.schema();
    for (key, value) in props {
        let Some((_, kind, _)) = schema.iter().find(|(known, _, _)| known == key) else {
            return Err(EventError::InvalidProps {
                prop: key.clone(),
                reason: "is not a prop of this event",
            });
        };
        let invalid = |reason| EventError::InvalidProps {
            prop: key.clone(),
            reason,
        };
        match kind {
            PropKind::Count => {
                value
                    .as_u64()
                    .filter(|n| *n <= u64::from(u32::MAX))
                    .ok_or_else(|| invalid("must be a count"))?;
            }
            PropKind::Amount => {
                value
                    .as_u64()
                    .and_then(|n| paylater_shared::MinorUnits::positive(n).ok())
                    .ok_or_else(|| invalid("must be a positive amount in minor units"))?;
            }
            PropKind::Text => check_text(key, value)?,
            PropKind::TextList => {
                let items = value
                    .as_array()
                    .filter(|a| a.len() <= 20)
                    .ok_or_else(|| invalid("must be a list"))?;
                for item in items {
                    check_text(key, item)?;
                }
            }
        }
    }
    if let Some((missing, _, _)) = schema
        .iter()
        .find(|(key, _, required)| *required && !props.contains_key(*key))
    {
        return Err(EventError::InvalidProps {
            prop: (*missing).to_owned(),
            reason: "is required",
        });
    }
    Ok(())
}

fn check_text(key: &str, value: &Value) -> Result<(), EventError> {
    let text = value
        .as_str()
        .filter(|s| !s.is_empty() && s.chars().count() <= MAX_PROP_CHARS)
        .ok_or_else(|| EventError::InvalidProps {
            prop: key.to_owned(),
            reason: "must be a short string",
        })?;
    if looks_personal(text) {
        return Err(EventError::PersonalData { prop: key.to_owned() });
    }
    Ok(())
}

/// Personal data never belongs in telemetry: e-mail addresses, also when spelled out around spam
/// filters (`jane(at)example.com`), dates (no prop is a date, so a `YYYY-MM-DD` in a prop is most
/// likely a date of birth) and long digit runs (card or phone numbers). A UUID (an approval id)
/// is an id, whatever digits its hex happens to hold: about one random UUID in four has nine
/// decimal digits in a row across its dashes.
fn looks_personal(text: &str) -> bool {
    if is_uuid(text) {
        return false;
    }
    has_email(text) || has_spelled_out_email(text) || has_date(text) || longest_digit_run(text) >= 9
}

fn has_email(text: &str) -> bool {
    text.split_whitespace().any(|word| {
        word.split_once('@')
            .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'))
    })
}

/// The at signs people write instead of `@`, lower-case.
const SPELLED_OUT_AT_SIGNS: [&str; 3] = ["(at)", "[at]", "{at}"];

/// `name(at)host`, `name (at) host.tld`, `NAME[AT]HOST`: a word on each side of a spelled-out at
/// sign. No dot is needed after it: props are codes and ids, where `(at)` has no business.
fn has_spelled_out_email(text: &str) -> bool {
    // ASCII lower-casing keeps every byte offset, so the slices below line up with `lower`.
    let lower = text.to_ascii_lowercase();
    SPELLED_OUT_AT_SIGNS.iter().any(|at_sign| {
        lower.match_indices(at_sign).any(|(at, _)| {
            let name = lower[..at].trim_end();
            let host = lower[at + at_sign.len()..].trim_start();
            name.ends_with(char::is_alphanumeric) && host.starts_with(char::is_alphanumeric)
        })
    })
}

/// A `YYYY-MM-DD` anywhere, even glued to other text (`dob1990-05-17`), with a month from 01 to
/// 12 and a day from 01 to 31. Any year: a mistyped birth year is still a birth date.
fn has_date(text: &str) -> bool {
    // Digits and `-` are ASCII, which never occurs inside a multi-byte UTF-8 character.
    text.as_bytes().windows(10).any(|window| {
        let [y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] = *window else {
            return false;
        };
        let two_digits = |tens: u8, ones: u8| {
            (tens.is_ascii_digit() && ones.is_ascii_digit()).then(|| (tens - b'0') * 10 + (ones - b'0'))
        };
        [y1, y2, y3, y4].iter().all(u8::is_ascii_digit)
            && two_digits(m1, m2).is_some_and(|month| (1..=12).contains(&month))
            && two_digits(d1, d2).is_some_and(|day| (1..=31).contains(&day))
    })
}

/// The longest run of digits, read across the spaces and dashes people group numbers with.
fn longest_digit_run(text: &str) -> usize {
    let mut run = 0;
    let mut longest = 0;
    for c in text.chars() {
        if c.is_ascii_digit() {
            run += 1;
            longest = longest.max(run);
        } else if c != ' ' && c != '-' {
            run = 0;
        }
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const NOW: i64 = 1_795_420_800_000;

    fn event(name: &str, props: Value) -> Value {
        json!({ "id": "0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e10", "name": name, "ts": NOW - 1000, "seq": 3, "props": props })
    }

    fn batch(events: Vec<Value>) -> Vec<u8> {
        serde_json::to_vec(&json!({ "session_token": "v1.k1.x.y", "events": events })).unwrap()
    }

    #[test]
    fn a_good_event_of_every_name_is_accepted() {
        let props = |name: EventName| -> Value {
            let mut map = Map::new();
            for (key, kind, _) in name.schema() {
                let value = match kind {
                    PropKind::Count => json!(1200),
                    PropKind::Amount => json!(12_999),
                    PropKind::Text => json!("pay_in_4"),
                    PropKind::TextList => json!(["under_18"]),
                };
                map.insert((*key).to_owned(), value);
            }
            Value::Object(map)
        };
        for name in EventName::ALL {
            let validated = validate_event(event(name.as_str(), props(name)), NOW).unwrap();
            assert_eq!((validated.name, validated.seq, validated.ts), (name, 3, NOW - 1000));
        }
    }

    #[test]
    fn approval_ids_are_ids_even_when_their_hex_is_mostly_digits() {
        // A real approval id shape that once tripped the digit-run guard (found by the widget's
        // funnel e2e, where an `approval_approved` was refused as personal data).
        let id = "12345678-9012-4345-8789-012345678901";
        let approved = event("approval_approved", json!({ "approval_id": id, "plan_id": "pay_in_4" }));
        assert!(validate_event(approved, NOW).is_ok());
        // The same digits outside a UUID are still a card-like number.
        let card = event(
            "approval_approved",
            json!({ "approval_id": "1234567890123", "plan_id": "pay_in_4" }),
        );
        assert_eq!(validate_event(card, NOW).unwrap_err().code(), "personal_data");
    }

    #[test]
    fn personal_data_is_refused_and_codes_ids_and_non_dates_are_not() {
        let refused = [
            // Plain e-mails and card-like digit runs (as before).
            "jane.doe@example.com",
            "4111 1111 1111 1111",
            // Dates of birth in free text, wherever they sit.
            "born 1990-05-17",
            "1990-05-17",
            "dob:1990-05-17.",
            "x2000-02-29y",
            "born on 1990-05-17 in Lund",
            "0001-12-31",
            // E-mails spelled out around spam filters, in any case.
            "jane(at)example",
            "jane (at) example.com",
            "Jane[AT]Example.COM",
            "jane {at} example.se",
            "JANE(At)host",
            "j.doe  [at]  mail.example",
            "reply to jöran(at)exempel.se",
        ];
        for text in refused {
            assert!(looks_personal(text), "{text:?} should be refused");
        }
        let accepted = [
            "pay_in_4",
            "financing_12",
            "en-US",
            "sv-SE",
            "USD",
            "0.1.0",
            "E_NET",
            "under_18",
            "approval_started",
            // An approval id: no UUID holds a `dddd-dd-dd`, and UUIDs are exempt anyway.
            "12345678-9012-4345-8789-012345678901",
            // Not a calendar date: no month 13 or 0, no day 32 or 0, not four-two-two digits.
            "1990-13-17",
            "1990-00-10",
            "1990-05-32",
            "1990-05-00",
            "90-05-17",
            "1990-5-17",
            "1990-05-1",
            "1990/05/17",
            // An at sign needs a word on both sides.
            "jane(at)",
            "(at) example.com",
            "(at)",
            "look at this",
            "jane(a)example.com",
        ];
        for text in accepted {
            assert!(!looks_personal(text), "{text:?} should be accepted");
        }
    }

    #[test]
    fn a_birth_date_or_spelled_out_email_in_a_prop_rejects_the_event() {
        let cases = [
            json!({ "code": "E_NET", "message": "born 1990-05-17" }),
            json!({ "code": "E_NET", "message": "write to jane (at) example.com" }),
            json!({ "code": "jane[at]example.com" }),
        ];
        for props in cases {
            let error = validate_event(event("widget_error", props.clone()), NOW).unwrap_err();
            assert_eq!(error.code(), "personal_data", "{props}");
        }
        let fine = event(
            "widget_error",
            json!({ "code": "E_NET", "message": "timeout after 3000 ms" }),
        );
        assert!(validate_event(fine, NOW).is_ok());
    }

    #[test]
    fn bad_events_are_rejected_with_their_code() {
        let mut base = event("plan_selected", json!({ "plan_id": "pay_in_4" }));
        let with = |field: &str, value: Value| {
            let mut e = base.clone();
            e[field] = value;
            e
        };
        let cases = vec![
            (json!("not an object"), "invalid_event"),
            (with("id", json!("not-a-uuid")), "invalid_id"),
            (with("id", json!("00000000-0000-0000-0000-000000000000")), "invalid_id"),
            (with("id", json!(42)), "invalid_id"),
            (with("name", json!("checkout_hacked")), "unknown_event"),
            (with("name", json!(null)), "unknown_event"),
            (with("ts", json!(NOW - MAX_EVENT_AGE_MS - 1)), "invalid_ts"),
            (with("ts", json!(NOW + MAX_CLOCK_AHEAD_MS + 1)), "invalid_ts"),
            (with("ts", json!("yesterday")), "invalid_ts"),
            (with("seq", json!(-1)), "invalid_seq"),
            (with("seq", json!(4_294_967_296u64)), "invalid_seq"),
            (with("seq", json!(1.5)), "invalid_seq"),
            (with("props", json!([])), "invalid_props"),
            (with("props", json!({})), "invalid_props"),
            (with("props", json!({ "plan_id": 7 })), "invalid_props"),
            (
                with("props", json!({ "plan_id": "pay_in_4", "email": "a@b.se" })),
                "invalid_props",
            ),
            (
                with("props", json!({ "plan_id": "jane.doe@example.com" })),
                "personal_data",
            ),
            (
                with("props", json!({ "plan_id": "4111 1111 1111 1111" })),
                "personal_data",
            ),
            (
                with("props", json!({ "plan_id": "x".repeat(MAX_PROP_CHARS + 1) })),
                "invalid_props",
            ),
            (
                with("props", json!({ "plan_id": "pay_in_4", "amount_minor": 0 })),
                "invalid_props",
            ),
            (
                with("props", json!({ "plan_id": "pay_in_4", "amount_minor": -100 })),
                "invalid_props",
            ),
            (with("extra", json!(1)), "unknown_field"),
        ];
        for (raw, code) in cases {
            let error = validate_event(raw.clone(), NOW).unwrap_err();
            assert_eq!(error.code(), code, "{raw}");
        }
        base["props"] = json!({ "plan_id": "pay_in_4" });
        assert!(validate_event(base, NOW).is_ok());
    }

    #[test]
    fn a_batch_keeps_good_events_and_reports_bad_ones_by_index() {
        let good = event("terms_opened", json!({}));
        let mut second = good.clone();
        second["id"] = json!("0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e11");
        let body = batch(vec![good.clone(), json!({ "name": "nope" }), second, good]);
        let validated = validate_batch(&body, NOW).unwrap();
        assert_eq!(validated.accepted.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [0, 2]);
        let rejected: Vec<(usize, &str)> = validated.rejected.iter().map(|r| (r.index, r.code.as_str())).collect();
        assert_eq!(rejected, [(1, "invalid_id"), (3, "duplicate_in_batch")]);
        assert_eq!(validated.session_token, "v1.k1.x.y");
    }

    #[test]
    fn bad_batches_are_refused_whole() {
        let too_many = batch(vec![event("terms_opened", json!({})); MAX_EVENTS + 1]);
        let huge = vec![b' '; MAX_BODY_BYTES + 1];
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"{".to_vec(), "invalid_json"),
            (b"[]".to_vec(), "invalid_body"),
            (br#"{"events":[]}"#.to_vec(), "missing_session_token"),
            (
                br#"{"session_token":"","events":[{}]}"#.to_vec(),
                "missing_session_token",
            ),
            (br#"{"session_token":"t","events":{}}"#.to_vec(), "invalid_events"),
            (br#"{"session_token":"t","events":[]}"#.to_vec(), "invalid_events"),
            (
                br#"{"session_token":"t","events":[{}],"dropped":-1}"#.to_vec(),
                "invalid_body",
            ),
            (
                br#"{"session_token":"t","events":[{}],"who":"me"}"#.to_vec(),
                "invalid_body",
            ),
            (
                br#"{"session_token":"t","events":[{}],"sent_at":"now"}"#.to_vec(),
                "invalid_body",
            ),
            (
                br#"{"session_token":"t","events":[{}],"sent_at":1.5}"#.to_vec(),
                "invalid_body",
            ),
            (too_many, "too_many_events"),
            (huge, "body_too_large"),
        ];
        // A clock far off is a hint not taken; the body stands.
        for far in [0, NOW + MAX_CLOCK_AHEAD_MS + 1] {
            let body = format!(
                r#"{{"session_token":"t","events":[{{"id":"0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e10","name":"widget_viewed","ts":{NOW},"seq":1,"props":{{}}}}],"sent_at":{far}}}"#
            );
            assert_eq!(validate_batch(body.as_bytes(), NOW).unwrap().sent_at, None, "{far}");
        }
        for (body, code) in cases {
            assert_eq!(
                validate_batch(&body, NOW).unwrap_err().code(),
                code,
                "{}",
                String::from_utf8_lossy(&body[..body.len().min(80)])
            );
        }
    }

    fn any_valid_event() -> impl Strategy<Value = Value> {
        (
            "[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
            0..EventName::ALL.len(),
            0i64..MAX_EVENT_AGE_MS,
            any::<u32>(),
            "[a-z_]{1,24}",
            any::<u32>(),
        )
            .prop_map(|(id, name_index, age, seq, text, count)| {
                let name = EventName::ALL[name_index];
                let mut props = Map::new();
                for (key, kind, _) in name.schema() {
                    let value = match kind {
                        PropKind::Count => json!(count),
                        PropKind::Amount => json!(u64::from(count) + 1),
                        PropKind::Text => json!(text),
                        PropKind::TextList => json!([text]),
                    };
                    props.insert((*key).to_owned(), value);
                }
                json!({ "id": id, "name": name.as_str(), "ts": NOW - age, "seq": seq, "props": props })
            })
    }

    proptest! {
        #[test]
        fn any_text_with_an_embedded_date_is_refused(
            before in "\\PC{0,20}",
            year in 0i32..=9999,
            month in 1u8..=12,
            day in 1u8..=31,
            after in "\\PC{0,20}",
        ) {
            let day = day.min(paylater_shared::date::days_in_month(year, month));
            let text = format!("{before}{year:04}-{month:02}-{day:02}{after}");
            prop_assert!(looks_personal(&text), "{:?}", text);
        }

        #[test]
        fn generated_valid_events_pass(raw in any_valid_event()) {
            let event = validate_event(raw.clone(), NOW).unwrap();
            prop_assert_eq!(event.seq as u64, raw["seq"].as_u64().unwrap());
            prop_assert_eq!(Some(event.name.as_str()), raw["name"].as_str());
        }

        #[test]
        fn mutated_events_are_rejected_with_the_right_code(raw in any_valid_event(), mutation in 0usize..6) {
            let mut bad = raw;
            let code = match mutation {
                0 => { bad["id"] = json!("zzzz"); "invalid_id" }
                1 => { bad["name"] = json!("not_an_event"); "unknown_event" }
                2 => { bad["ts"] = json!(NOW + MAX_CLOCK_AHEAD_MS + 1); "invalid_ts" }
                3 => { bad["seq"] = json!(-1); "invalid_seq" }
                4 => { bad["props"]["surprise"] = json!(1); "invalid_props" }
                _ => { bad["unexpected"] = json!(true); "unknown_field" }
            };
            prop_assert_eq!(validate_event(bad, NOW).unwrap_err().code(), code);
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_errors_have_codes(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            match validate_batch(&body, NOW) {
                Ok(batch) => prop_assert_eq!(batch.accepted.len() + batch.rejected.len() > 0, true),
                Err(error) => prop_assert!(!error.code().is_empty()),
            }
        }
    }
}
