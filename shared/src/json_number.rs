//! Numbers in JSON request bodies as JSON Schema reads them (the OpenAPI document is the
//! contract): an `integer` is any number with no fraction, however a serializer wrote it.

use serde_json::Value;

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
}
