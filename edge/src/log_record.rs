//! OpenTelemetry log records (CONTRACT §4): an accepted event or a decision becomes one
//! LogRecord, serialized exactly as the OTLP/HTTP JSON encoding wants it (protobuf JSON mapping:
//! lowerCamelCase names, 64-bit integers as strings, enums as integers), with personal data
//! scrubbed before it gets here.

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

/// `service.name` of every record.
pub const SERVICE_NAME: &str = "paylater-edge";
/// OTLP `SeverityNumber` INFO.
pub const SEVERITY_INFO: i32 = 9;
/// OTLP `SeverityNumber` WARN, for refused or flagged things.
pub const SEVERITY_WARN: i32 = 13;

/// An OTLP `AnyValue` (the subset we emit).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum AnyValue {
    #[serde(rename = "stringValue")]
    String(String),
    /// int64: a JSON string, as the protobuf JSON mapping writes 64-bit integers.
    #[serde(rename = "intValue", serialize_with = "int_as_string")]
    Int(i64),
    #[serde(rename = "boolValue")]
    Bool(bool),
    #[serde(rename = "doubleValue")]
    Double(f64),
    #[serde(rename = "arrayValue")]
    Array(ArrayValue),
    #[serde(rename = "kvlistValue")]
    KvList(KeyValueList),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyValueList {
    pub values: Vec<KeyValue>,
}

impl AnyValue {
    /// A JSON value as OTLP sees it (event props become the record's body this way).
    pub fn from_json(value: &serde_json::Value) -> Self {
        use serde_json::Value;
        match value {
            Value::Null => Self::String(String::new()),
            Value::Bool(b) => Self::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Self::Int(i),
                None => Self::Double(n.as_f64().unwrap_or(0.0)),
            },
            Value::String(s) => Self::String(s.clone()),
            Value::Array(items) => Self::Array(ArrayValue {
                values: items.iter().map(Self::from_json).collect(),
            }),
            Value::Object(map) => Self::KvList(KeyValueList {
                values: map
                    .iter()
                    .map(|(key, value)| KeyValue {
                        key: key.clone(),
                        value: Self::from_json(value),
                    })
                    .collect(),
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArrayValue {
    pub values: Vec<AnyValue>,
}

fn int_as_string<S: serde::Serializer>(value: &i64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

fn u64_as_string<S: serde::Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// One attribute.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyValue {
    pub key: String,
    pub value: AnyValue,
}

impl KeyValue {
    pub fn string(key: &str, value: impl Into<String>) -> Self {
        Self {
            key: key.to_owned(),
            value: AnyValue::String(value.into()),
        }
    }

    pub fn int(key: &str, value: i64) -> Self {
        Self {
            key: key.to_owned(),
            value: AnyValue::Int(value),
        }
    }

    /// A finite double; NaN or infinity (which JSON cannot carry) becomes 0.
    pub fn double(key: &str, value: f64) -> Self {
        Self {
            key: key.to_owned(),
            value: AnyValue::Double(if value.is_finite() { value } else { 0.0 }),
        }
    }

    pub fn strings(key: &str, values: &[String]) -> Self {
        let values = values.iter().cloned().map(AnyValue::String).collect();
        Self {
            key: key.to_owned(),
            value: AnyValue::Array(ArrayValue { values }),
        }
    }
}

/// An OTLP `LogRecord`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogRecord {
    /// When it happened (the client's clock for telemetry events).
    #[serde(serialize_with = "u64_as_string")]
    pub time_unix_nano: u64,
    /// When the edge saw it.
    #[serde(serialize_with = "u64_as_string")]
    pub observed_time_unix_nano: u64,
    pub severity_number: i32,
    pub severity_text: String,
    pub event_name: String,
    pub body: AnyValue,
    pub attributes: Vec<KeyValue>,
}

/// What every record about a checkout knows. Fields that are not known stay `None` and are left
/// out of the attributes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordContext {
    pub event_id: String,
    pub event_name: String,
    pub merchant_id: String,
    pub session_id: String,
    pub seq: u32,
    pub amount_minor: Option<u64>,
    pub currency: Option<String>,
    pub plan_id: Option<String>,
    pub risk_flags: Vec<String>,
    /// Already hashed with [`customer_id_hash`]; never an email.
    pub customer_id_hash: Option<String>,
}

impl RecordContext {
    /// The context of a record about the merchant as a whole (no session, amount or plan).
    pub fn of_merchant(event_id: String, event_name: &str, merchant_id: &str) -> Self {
        Self {
            event_id,
            event_name: event_name.to_owned(),
            merchant_id: merchant_id.to_owned(),
            session_id: String::new(),
            seq: 0,
            amount_minor: None,
            currency: None,
            plan_id: None,
            risk_flags: Vec::new(),
            customer_id_hash: None,
        }
    }

    /// The context of an accepted telemetry event; checkout details (amount, currency) come
    /// from the session, which the caller adds.
    pub fn for_event(event: &paylater_shared::telemetry::Event, merchant_id: &str, session_id: &str) -> Self {
        Self {
            event_id: event.id.clone(),
            event_name: event.name.as_str().to_owned(),
            merchant_id: merchant_id.to_owned(),
            session_id: session_id.to_owned(),
            seq: event.seq,
            plan_id: event.props.get("plan_id").and_then(|v| v.as_str()).map(str::to_owned),
            ..Self::default()
        }
    }
}

impl LogRecord {
    /// The record of an accepted telemetry event, as the queue consumer makes it: the
    /// CONTRACT §4 attributes, the edge's enrichment, and the event's props as the body.
    pub fn from_queued(queued: &crate::ingest::QueuedEvent) -> Self {
        let mut context =
            RecordContext::for_event(&queued.event, &queued.session.merchant_id, &queued.session.session_id);
        context.amount_minor = Some(queued.session.amount_minor);
        context.currency = Some(queued.session.currency.clone());
        context.risk_flags = queued.risk_flags.iter().map(|f| f.as_str().to_owned()).collect();
        let severity = if queued.risk_flags.is_empty() {
            SEVERITY_INFO
        } else {
            SEVERITY_WARN
        };
        let mut record = Self::new(&context, queued.event.ts, queued.request.observed_ms, severity);
        record.push_client_facts(&queued.request);
        if queued.seq_gap > 0 {
            record
                .attributes
                .push(KeyValue::int("event.seq_gap", i64::from(queued.seq_gap)));
        }
        record.body = AnyValue::from_json(&serde_json::Value::Object(queued.event.props.clone()));
        record
    }

    /// The record of an approval decision: the outcome, reason codes and score band as
    /// attributes and body; the customer only as a keyed hash. `event.seq` is 0 (decisions are
    /// the edge's, not part of the browser's sequence).
    pub fn from_decision(decision: &crate::approval_records::QueuedDecision) -> Self {
        let context = RecordContext {
            event_id: decision.approval_id.clone(),
            event_name: paylater_shared::approval::DECISION_EVENT_NAME.to_owned(),
            merchant_id: decision.session.merchant_id.clone(),
            session_id: decision.session.session_id.clone(),
            seq: 0,
            amount_minor: Some(decision.session.amount_minor),
            currency: Some(decision.session.currency.clone()),
            plan_id: Some(decision.plan_id.clone()),
            risk_flags: Vec::new(),
            customer_id_hash: Some(decision.customer_id_hash.clone()),
        };
        let severity = match decision.outcome {
            paylater_shared::approval::Outcome::Approved => SEVERITY_INFO,
            _ => SEVERITY_WARN,
        };
        let observed = decision.request.observed_ms;
        let mut record = Self::new(&context, observed, observed, severity);
        let reasons: Vec<String> = decision.reasons.iter().map(|r| r.as_str().to_owned()).collect();
        let mut summary = vec![
            KeyValue::string("decision.outcome", decision.outcome.as_str()),
            KeyValue::strings("decision.reasons", &reasons),
            KeyValue::string("decision.score_band", decision.score_band.as_str()),
        ];
        if let Some(upstream) = &decision.upstream {
            summary.push(KeyValue::string("decision.upstream", upstream));
        }
        if let Some(form_fill_ms) = decision.form_fill_ms {
            summary.push(KeyValue::int("decision.form_fill_ms", form_fill_ms));
        }
        record.attributes.extend(summary.iter().cloned());
        record.push_client_facts(&decision.request);
        record.body = AnyValue::KvList(KeyValueList { values: summary });
        record
    }

    /// The edge's enrichment: what kind of client, from which network, country and AS.
    fn push_client_facts(&mut self, request: &crate::ingest::RequestFacts) {
        self.attributes
            .push(KeyValue::string("user_agent.class", request.ua_class.as_str()));
        self.attributes
            .push(KeyValue::string("client.network", &request.network));
        if let Some(country) = &request.country {
            self.attributes
                .push(KeyValue::string("client.geo.country_iso_code", country));
        }
        if let Some(asn) = request.asn {
            self.attributes.push(KeyValue::int("client.asn", i64::from(asn)));
        }
    }

    /// Builds the record of one event. Times in epoch milliseconds.
    pub fn new(context: &RecordContext, client_time_ms: i64, observed_time_ms: i64, severity_number: i32) -> Self {
        let nanos = |ms: i64| u64::try_from(ms).unwrap_or(0).saturating_mul(1_000_000);
        let mut attributes = vec![
            KeyValue::string("event.id", &context.event_id),
            KeyValue::string("event.name", &context.event_name),
            KeyValue::string("merchant.id", &context.merchant_id),
            KeyValue::string("session.id", &context.session_id),
            KeyValue::int("event.seq", i64::from(context.seq)),
        ];
        if let Some(amount) = context.amount_minor {
            attributes.push(KeyValue::int(
                "checkout.amount_minor",
                i64::try_from(amount).unwrap_or(i64::MAX),
            ));
        }
        if let Some(currency) = &context.currency {
            attributes.push(KeyValue::string("checkout.currency", currency));
        }
        if let Some(plan) = &context.plan_id {
            attributes.push(KeyValue::string("plan.id", plan));
        }
        if !context.risk_flags.is_empty() {
            attributes.push(KeyValue::strings("risk.flags", &context.risk_flags));
        }
        if let Some(hash) = &context.customer_id_hash {
            attributes.push(KeyValue::string("customer.id_hash", hash));
        }
        Self {
            time_unix_nano: nanos(client_time_ms),
            observed_time_unix_nano: nanos(observed_time_ms),
            severity_number,
            severity_text: if severity_number >= SEVERITY_WARN {
                "WARN"
            } else {
                "INFO"
            }
            .to_owned(),
            event_name: context.event_name.clone(),
            body: AnyValue::String(context.event_name.clone()),
            attributes,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
struct Resource {
    attributes: Vec<KeyValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
struct Scope {
    name: String,
    version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
struct ScopeLogs<'a> {
    scope: Scope,
    log_records: &'a [LogRecord],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
struct ResourceLogs<'a> {
    resource: Resource,
    scope_logs: Vec<ScopeLogs<'a>>,
}

/// The body of an OTLP/HTTP JSON `POST /v1/logs`, borrowing its records: a delivery's records
/// are still needed after the export (their console copies, or a refused export's retries).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportLogsServiceRequest<'a> {
    resource_logs: Vec<ResourceLogs<'a>>,
}

impl<'a> ExportLogsServiceRequest<'a> {
    pub fn new(records: &'a [LogRecord]) -> Self {
        Self {
            resource_logs: vec![ResourceLogs {
                resource: Resource {
                    attributes: vec![KeyValue::string("service.name", SERVICE_NAME)],
                },
                scope_logs: vec![ScopeLogs {
                    scope: Scope {
                        name: "paylater.edge".into(),
                        version: env!("CARGO_PKG_VERSION").into(),
                    },
                    log_records: records,
                }],
            }],
        }
    }
}

/// A keyed hash of a customer identifier (the normalized email): stable per customer for
/// fraud and exposure tracking, useless to anyone without the key. Hex, 32 characters.
pub fn customer_id_hash(key: &[u8], email: &str) -> String {
    let normalized = email.trim().to_lowercase();
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(normalized.as_bytes());
    hex(&mac.finalize().into_bytes()[..16])
}

/// Lower-case hex of bytes (digests and hashes in ids and logs).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An IP address with its host part removed: IPv4 to /24, IPv6 to /48. Anything else becomes
/// `"unknown"` rather than passing through.
pub fn truncate_ip(ip: &str) -> String {
    if let Ok(v4) = ip.parse::<std::net::Ipv4Addr>() {
        let [a, b, c, _] = v4.octets();
        return format!("{a}.{b}.{c}.0/24");
    }
    if let Ok(v6) = ip.parse::<std::net::Ipv6Addr>() {
        let s = v6.segments();
        return format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2]);
    }
    "unknown".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> RecordContext {
        RecordContext {
            event_id: "0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e10".into(),
            event_name: "plan_selected".into(),
            merchant_id: "m_nordic_outdoor".into(),
            session_id: "ses_123".into(),
            seq: 4,
            amount_minor: Some(12_999),
            currency: Some("USD".into()),
            plan_id: Some("pay_in_4".into()),
            risk_flags: vec!["amount_changed".into()],
            customer_id_hash: None,
        }
    }

    #[test]
    fn golden_otlp_json() {
        let record = LogRecord::new(&context(), 1_795_420_800_123, 1_795_420_800_456, SEVERITY_INFO);
        let body = serde_json::to_value(ExportLogsServiceRequest::new(&[record])).unwrap();
        let expected = serde_json::json!({
            "resourceLogs": [{
                "resource": { "attributes": [ { "key": "service.name", "value": { "stringValue": "paylater-edge" } } ] },
                "scopeLogs": [{
                    "scope": { "name": "paylater.edge", "version": env!("CARGO_PKG_VERSION") },
                    "logRecords": [{
                        "timeUnixNano": "1795420800123000000",
                        "observedTimeUnixNano": "1795420800456000000",
                        "severityNumber": 9,
                        "severityText": "INFO",
                        "eventName": "plan_selected",
                        "body": { "stringValue": "plan_selected" },
                        "attributes": [
                            { "key": "event.id", "value": { "stringValue": "0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e10" } },
                            { "key": "event.name", "value": { "stringValue": "plan_selected" } },
                            { "key": "merchant.id", "value": { "stringValue": "m_nordic_outdoor" } },
                            { "key": "session.id", "value": { "stringValue": "ses_123" } },
                            { "key": "event.seq", "value": { "intValue": "4" } },
                            { "key": "checkout.amount_minor", "value": { "intValue": "12999" } },
                            { "key": "checkout.currency", "value": { "stringValue": "USD" } },
                            { "key": "plan.id", "value": { "stringValue": "pay_in_4" } },
                            { "key": "risk.flags", "value": { "arrayValue": { "values": [ { "stringValue": "amount_changed" } ] } } }
                        ]
                    }]
                }]
            }]
        });
        assert_eq!(body, expected);
    }

    #[test]
    fn an_accepted_event_becomes_its_record() {
        let raw = serde_json::json!({
            "id": "0190D2C4-6B7A-7CC2-9A1E-3F6B2A9D4E10", "name": "plan_selected", "ts": 1_795_420_800_123i64,
            "seq": 4, "props": { "plan_id": "financing_12" }
        });
        let event = crate::event_batch::validate_event(raw, 1_795_420_800_500).unwrap();
        let mut context = RecordContext::for_event(&event, "m_nordic_outdoor", "ses_123");
        assert_eq!(
            context.event_id, "0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e10",
            "ids are normalized to lower case"
        );
        assert_eq!((context.seq, context.plan_id.as_deref()), (4, Some("financing_12")));
        context.amount_minor = Some(25_000);
        let record = LogRecord::new(&context, event.ts, 1_795_420_800_500, SEVERITY_INFO);
        assert_eq!(record.time_unix_nano, 1_795_420_800_123_000_000);
        assert_eq!(record.event_name, "plan_selected");
        assert!(record.attributes.contains(&KeyValue::string("plan.id", "financing_12")));
        assert!(
            record
                .attributes
                .contains(&KeyValue::int("checkout.amount_minor", 25_000))
        );
    }

    #[test]
    fn a_queued_event_becomes_an_enriched_record_with_its_props_as_body() {
        use crate::ingest::{QueuedEvent, RequestFacts, RiskFlag, SessionFacts, UaClass};
        let event = crate::event_batch::validate_event(
            serde_json::json!({ "id": "0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e10", "name": "approval_declined", "ts": 1_795_420_800_000i64,
                "seq": 9, "props": { "approval_id": "apr_1", "reason_codes": ["under_18", "limit"] } }),
            1_795_420_800_500,
        )
        .unwrap();
        let queued = QueuedEvent {
            event,
            session: SessionFacts {
                session_id: "ses_1".into(),
                merchant_id: "m_nordic_outdoor".into(),
                amount_minor: 12_999,
                currency: "SEK".into(),
                issued_at_s: 1_795_420_000,
                livemode: false,
                publishable_key: "pk_test_demo".into(),
            },
            request: RequestFacts {
                observed_ms: 1_795_420_800_500,
                network: "203.0.113.0/24".into(),
                country: Some("SE".into()),
                asn: Some(3301),
                ua_class: UaClass::Mobile,
                ip_velocity: false,
            },
            seq_gap: 2,
            risk_flags: vec![RiskFlag::TokenReused],
        };
        let json = serde_json::to_value(LogRecord::from_queued(&queued)).unwrap();
        assert_eq!(json["timeUnixNano"], "1795420800000000000");
        assert_eq!(json["observedTimeUnixNano"], "1795420800500000000");
        assert_eq!(
            (json["severityNumber"].as_i64(), json["severityText"].as_str()),
            (Some(13), Some("WARN"))
        );
        let attributes: std::collections::BTreeMap<String, serde_json::Value> = json["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|kv| (kv["key"].as_str().unwrap().to_owned(), kv["value"].clone()))
            .collect();
        let expect = [
            (
                "event.id",
                serde_json::json!({ "stringValue": "0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e10" }),
            ),
            ("event.seq", serde_json::json!({ "intValue": "9" })),
            ("checkout.amount_minor", serde_json::json!({ "intValue": "12999" })),
            ("checkout.currency", serde_json::json!({ "stringValue": "SEK" })),
            (
                "risk.flags",
                serde_json::json!({ "arrayValue": { "values": [{ "stringValue": "token_reused" }] } }),
            ),
            ("user_agent.class", serde_json::json!({ "stringValue": "mobile" })),
            ("client.network", serde_json::json!({ "stringValue": "203.0.113.0/24" })),
            (
                "client.geo.country_iso_code",
                serde_json::json!({ "stringValue": "SE" }),
            ),
            ("client.asn", serde_json::json!({ "intValue": "3301" })),
            ("event.seq_gap", serde_json::json!({ "intValue": "2" })),
        ];
        for (key, value) in expect {
            assert_eq!(attributes.get(key), Some(&value), "{key}");
        }
        assert_eq!(
            json["body"],
            serde_json::json!({ "kvlistValue": { "values": [
                { "key": "approval_id", "value": { "stringValue": "apr_1" } },
                { "key": "reason_codes", "value": { "arrayValue": { "values": [{ "stringValue": "under_18" }, { "stringValue": "limit" }] } } },
            ] } })
        );
    }

    #[test]
    fn unknown_fields_are_left_out() {
        let mut bare = context();
        bare.amount_minor = None;
        bare.currency = None;
        bare.plan_id = None;
        bare.risk_flags.clear();
        let keys: Vec<String> = LogRecord::new(&bare, 0, 0, SEVERITY_WARN)
            .attributes
            .into_iter()
            .map(|a| a.key)
            .collect();
        assert_eq!(
            keys,
            ["event.id", "event.name", "merchant.id", "session.id", "event.seq"]
        );
    }

    #[test]
    fn personal_data_is_scrubbed() {
        let key = b"a-test-key-of-32-bytes-or-more!!";
        let hash = customer_id_hash(key, " Jane.Doe@Example.com ");
        assert_eq!(
            hash,
            customer_id_hash(key, "jane.doe@example.com"),
            "normalized before hashing"
        );
        assert_eq!(hash.len(), 32);
        assert!(!hash.contains('@'));
        assert_ne!(
            hash,
            customer_id_hash(b"another-key-another-key-another!", "jane.doe@example.com")
        );
        let mut with_customer = context();
        with_customer.customer_id_hash = Some(hash.clone());
        let json = serde_json::to_string(&LogRecord::new(&with_customer, 0, 0, SEVERITY_INFO)).unwrap();
        assert!(json.contains(&hash) && !json.contains("jane") && !json.contains('@'));

        assert_eq!(truncate_ip("203.0.113.77"), "203.0.113.0/24");
        assert_eq!(
            truncate_ip("2001:db8:85a3:8d3:1319:8a2e:370:7348"),
            "2001:db8:85a3::/48"
        );
        assert_eq!(truncate_ip("not an ip"), "unknown");
    }
}
