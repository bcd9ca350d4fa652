//! Strict JSON request bodies: the steps every JSON route takes before reading its own fields
//! (size, syntax, an object, no unknown field), typed field readers, and what "the same body"
//! means for an `Idempotency-Key`.

use paylater_shared::log_record::hex;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::EdgeError;
use crate::sessions::MAX_BODY_BYTES;

/// The body as a JSON object with only `known` fields.
pub fn object_body(body: &[u8], known: &[&str]) -> Result<Map<String, Value>, EdgeError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(EdgeError::BodyTooLarge);
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| EdgeError::InvalidJson { detail: e.to_string() })?;
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

/// What "the same body" means for `Idempotency-Key`: the parsed request, so whitespace and key
/// order do not make a retry look different.
pub fn fingerprint<T: serde::Serialize>(parsed: &T) -> String {
    let canonical = serde_json::to_string(parsed).unwrap_or_default();
    hex(&Sha256::digest(canonical.as_bytes()))
}
