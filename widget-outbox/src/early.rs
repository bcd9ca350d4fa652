//! Funnel steps noted before the telemetry client runs: the loader's notes from the moment the
//! card is ready, and what a page left in `localStorage` (`paylater:early:{key}:…`) when it was
//! closed before its telemetry could record them. Both arrive as `{name, at, props}`; this
//! decides which of them become events, with which props. Same-origin script can write those
//! keys, so nothing in them is trusted beyond what the edge would accept from the page anyway.

use paylater_shared::telemetry::EventName;
use paylater_shared::{Currency, MinorUnits};
use serde_json::{Map, Value};

/// At most this many early-steps keys are taken per page view, and this many notes from each.
pub const EARLY_KEYS_LIMIT: usize = 20;
pub const EARLY_NOTES_LIMIT: usize = 50;
/// Notes older than this are not worth recording.
pub const EARLY_MAX_AGE_MS: f64 = 7.0 * 24.0 * 3_600_000.0;
/// A note's time may run ahead of this page's clock by at most this (another tab's clock).
pub const EARLY_MAX_AHEAD_MS: f64 = 60_000.0;

/// The `localStorage` key prefix of a merchant key's early steps.
pub fn early_prefix(merchant_key: &str) -> String {
    format!("paylater:early:{merchant_key}:")
}

/// A note as an event to record: its name, the props its name's schema has, and when it
/// happened. `None` for an unknown name, or a time that is not from the last week. An amount
/// that is not the one on screen now (`amount`, `currency`) is left out: the session is this
/// page's, and another amount would read as the amount changing. `widget_loaded` gets this
/// widget's `version`.
pub fn early_event(
    note: &Value,
    amount: MinorUnits,
    currency: Currency,
    now_ms: f64,
    version: &str,
) -> Option<(EventName, Map<String, Value>, f64)> {
    let name = EventName::parse(note.get("name")?.as_str()?)?;
    let at = note
        .get("at")?
        .as_f64()
        .filter(|at| *at > now_ms - EARLY_MAX_AGE_MS && *at < now_ms + EARLY_MAX_AHEAD_MS)?;
    let schema = name.schema();
    let mut props: Map<String, Value> = match note.get("props") {
        Some(Value::Object(props)) => props
            .iter()
            .filter(|(key, _)| schema.iter().any(|(known, _, _)| *known == key.as_str()))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect(),
        _ => Map::new(),
    };
    let same_amount = props.get("amount_minor").is_none_or(|a| a.as_u64() == Some(amount.0));
    let same_currency = props
        .get("currency")
        .is_none_or(|c| c.as_str() == Some(currency.code()));
    if !(same_amount && same_currency) {
        props.remove("amount_minor");
        props.remove("currency");
    }
    if name == EventName::WidgetLoaded {
        props.insert("version".into(), Value::from(version));
    }
    Some((name, props, at))
}

/// The events of one stored list of notes, at most [`EARLY_NOTES_LIMIT`] of them; anything
/// that is not a JSON list reads as none.
pub fn early_events(
    stored: &str,
    amount: MinorUnits,
    currency: Currency,
    now_ms: f64,
    version: &str,
) -> Vec<(EventName, Map<String, Value>, f64)> {
    let Ok(Value::Array(notes)) = serde_json::from_str::<Value>(stored) else {
        return Vec::new();
    };
    notes
        .iter()
        .take(EARLY_NOTES_LIMIT)
        .filter_map(|note| early_event(note, amount, currency, now_ms, version))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: f64 = 1_795_420_800_000.0;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    fn read(note: Value) -> Option<(EventName, Value, f64)> {
        early_event(&note, MinorUnits(12_999), usd(), NOW, "0.1.0")
            .map(|(name, props, at)| (name, Value::Object(props), at))
    }

    #[test]
    fn a_loader_note_becomes_its_event_with_the_widget_version() {
        let note = json!({ "name": "widget_loaded", "at": NOW - 5_000.0,
            "props": { "load_ms": 120, "locale": "en-US", "amount_minor": 12999, "currency": "USD" } });
        assert_eq!(
            read(note),
            Some((
                EventName::WidgetLoaded,
                json!({ "load_ms": 120, "locale": "en-US", "amount_minor": 12999, "currency": "USD", "version": "0.1.0" }),
                NOW - 5_000.0
            ))
        );
        let viewed = json!({ "name": "widget_viewed", "at": NOW, "props": { "visible_ms": 1000 } });
        assert_eq!(
            read(viewed),
            Some((EventName::WidgetViewed, json!({ "visible_ms": 1000 }), NOW))
        );
    }

    #[test]
    fn another_amount_or_currency_is_left_out_not_reported_as_a_change() {
        for (amount, currency) in [
            (json!(5000), json!("USD")),
            (json!(12999), json!("EUR")),
            (json!("12999"), json!("USD")),
        ] {
            let note = json!({ "name": "widget_loaded", "at": NOW,
                "props": { "load_ms": 9, "amount_minor": amount, "currency": currency } });
            assert_eq!(
                read(note).unwrap().1,
                json!({ "load_ms": 9, "version": "0.1.0" }),
                "{amount} {currency}"
            );
        }
    }

    #[test]
    fn planted_or_broken_notes_are_refused_or_trimmed_to_the_schema() {
        let refused = [
            json!({ "name": "made_up", "at": NOW }),
            json!({ "name": "widget_viewed" }),
            json!({ "name": "widget_viewed", "at": "yesterday" }),
            json!({ "name": "widget_viewed", "at": NOW - EARLY_MAX_AGE_MS - 1.0 }),
            json!({ "name": "widget_viewed", "at": NOW + EARLY_MAX_AHEAD_MS + 1.0 }),
            json!({ "name": 7, "at": NOW }),
            json!("widget_viewed"),
            json!(null),
        ];
        for note in refused {
            assert_eq!(read(note.clone()), None, "{note}");
        }
        let extra =
            json!({ "name": "widget_error", "at": NOW, "props": { "code": "x", "email": "a@b.c", "__proto__": 1 } });
        assert_eq!(read(extra).unwrap().1, json!({ "code": "x" }));
        let not_an_object = json!({ "name": "terms_opened", "at": NOW, "props": [1, 2] });
        assert_eq!(read(not_an_object).unwrap().1, json!({}));
    }

    #[test]
    fn a_stored_list_yields_at_most_the_limit_and_garbage_yields_nothing() {
        let many: Vec<Value> = (0..80)
            .map(|i| json!({ "name": "widget_viewed", "at": NOW - f64::from(i) }))
            .collect();
        let stored = serde_json::to_string(&many).unwrap();
        assert_eq!(
            early_events(&stored, MinorUnits(1), usd(), NOW, "v").len(),
            EARLY_NOTES_LIMIT
        );
        for garbage in ["", "{}", "not json", "[1,2,3]", "null"] {
            assert!(
                early_events(garbage, MinorUnits(1), usd(), NOW, "v").is_empty(),
                "{garbage}"
            );
        }
    }
}
