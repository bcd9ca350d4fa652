//! Strict JSON request bodies: the steps every JSON route takes before reading its own fields
//! (size, syntax, an object, no unknown field), typed field readers, and what "the same body"
//! means for an `Idempotency-Key`.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::EdgeError;
use crate::log_record::hex;
use crate::sessions::MAX_BODY_BYTES;

/// Whether `more` bytes fit after `held` within [`MAX_BODY_BYTES`] (413 if not): asked before a
/// streamed chunk is copied in.
pub fn room_for(held: usize, more: usize) -> Result<(), EdgeError> {
    if held.saturating_add(more) > MAX_BODY_BYTES {
        return Err(EdgeError::BodyTooLarge);
    }
    Ok(())
}

/// A body read whole, refused (413) if it is over [`MAX_BODY_BYTES`] all the same.
pub fn within_limit(body: Vec<u8>) -> Result<Vec<u8>, EdgeError> {
    room_for(0, body.len())?;
    Ok(body)
}

/// The body as a JSON object with only `known` fields.
pub fn object_body(body: &[u8], known: &[&str]) -> Result<Map<String, Value>, EdgeError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(EdgeError::BodyTooLarge);
    }
    let value: Value =
        paylater_shared::json::from_bytes(body).map_err(|e| EdgeError::InvalidJson { detail: e.to_string() })?;
    let Value::Object(map) = value else {
        return Err(EdgeError::InvalidJson {
            detail: "the body must be a JSON object".into(),
        });
    };
    only_fields(&map, "", known)?;
    Ok(map)
}

/// A nested object, named `field` in errors.
pub fn object<'a>(value: &'a Value, field: &'static str) -> Result<&'a Map<String, Value>, EdgeError> {
    value.as_object().ok_or(EdgeError::InvalidType {
        field,
        expected: "an object",
    })
}

/// Refuses the first field not in `known`, named with `prefix` (e.g. `customer.`).
pub fn only_fields(map: &Map<String, Value>, prefix: &str, known: &[&str]) -> Result<(), EdgeError> {
    match map.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => Err(EdgeError::UnknownField {
            name: format!("{prefix}{unknown}"),
        }),
        None => Ok(()),
    }
}

/// The required string `key`, named `field` in errors.
pub fn string<'a>(map: &'a Map<String, Value>, key: &str, field: &'static str) -> Result<&'a str, EdgeError> {
    match map.get(key) {
        None => Err(EdgeError::Missing { field }),
        Some(Value::String(text)) => Ok(text),
        Some(_) => Err(EdgeError::InvalidType {
            field,
            expected: "a string",
        }),
    }
}

/// A JSON number that is a whole number from 0 to 2^53, as JSON Schema's `integer` reads it:
/// `12` and `12.0` alike (a serializer may write either), never `12.5`.
pub fn whole_number(value: &Value) -> Option<u64> {
    const EXACT_LIMIT: f64 = 9_007_199_254_740_992.0;
    let number = value.as_number()?;
    number.as_u64().or_else(|| {
        let float = number.as_f64()?;
        (float.fract() == 0.0 && (0.0..=EXACT_LIMIT).contains(&float)).then_some(float as u64)
    })
}

/// What "the same body" means for `Idempotency-Key`: the parsed request, so whitespace and key
/// order do not make a retry look different.
pub fn fingerprint<T: serde::Serialize>(parsed: &T) -> String {
    let canonical = serde_json::to_string(parsed).unwrap_or_default();
    hex(&Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_may_be_written_with_a_zero_fraction() {
        let table: [(&str, Option<u64>); 9] = [
            ("12", Some(12)),
            ("12.0", Some(12)),
            ("1.2e1", Some(12)),
            ("17041671993.0", Some(17_041_671_993)),
            ("0", Some(0)),
            ("12.5", None),
            ("-1", None),
            ("-1.0", None),
            ("1e300", None),
        ];
        for (text, expected) in table {
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(whole_number(&value), expected, "{text}");
        }
        assert_eq!(whole_number(&Value::String("12".into())), None);
    }

    #[test]
    fn a_streamed_body_stops_at_the_limit() {
        let mut held = 0;
        let chunk = 16 * 1024;
        for _ in 0..(MAX_BODY_BYTES / chunk) {
            room_for(held, chunk).unwrap();
            held += chunk;
        }
        assert_eq!(held, MAX_BODY_BYTES - MAX_BODY_BYTES % chunk);
        assert_eq!(
            room_for(held, MAX_BODY_BYTES - held),
            Ok(()),
            "exactly the limit is fine"
        );
        assert_eq!(room_for(MAX_BODY_BYTES, 1), Err(EdgeError::BodyTooLarge));
        assert_eq!(room_for(MAX_BODY_BYTES - 1, 2), Err(EdgeError::BodyTooLarge));
        assert_eq!(room_for(1, usize::MAX), Err(EdgeError::BodyTooLarge), "no overflow");
    }

    #[test]
    fn a_body_read_whole_is_refused_past_the_limit() {
        assert_eq!(
            within_limit(vec![b'x'; MAX_BODY_BYTES]).map(|b| b.len()),
            Ok(MAX_BODY_BYTES)
        );
        assert_eq!(within_limit(Vec::new()), Ok(Vec::new()));
        assert_eq!(
            within_limit(vec![b'x'; MAX_BODY_BYTES + 1]),
            Err(EdgeError::BodyTooLarge)
        );
    }
}
