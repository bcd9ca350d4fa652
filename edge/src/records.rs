//! Whatever the events queue carries, read back by the consumer: telemetry events, approval
//! decisions, and the changes of an approval's and an order's life. Each kind is sent as its own
//! JSON and told apart by shape (each names fields the others never have), so messages already
//! queued stay readable.

use paylater_shared::approval::Outcome;
use paylater_shared::order::ChangeKind;

use crate::anomaly::Anomaly;
use crate::approval_records::QueuedDecision;
use crate::forward::mode_name;
use crate::ingest::QueuedEvent;
use crate::log_record::{AnyValue, KeyValue, KeyValueList, LogRecord, RecordContext, SEVERITY_INFO, SEVERITY_WARN};
use crate::orders::QueuedChange;
use crate::secret_keys::QueuedKeyUse;

#[derive(Debug, Clone, PartialEq)]
pub enum QueuedRecord {
    Decision(Box<QueuedDecision>),
    Event(Box<QueuedEvent>),
    Change(Box<QueuedChange>),
    KeyUse(Box<QueuedKeyUse>),
    Anomaly(Box<QueuedAnomaly>),
}

/// A window anomaly detection judged anomalous, as the queue carries it (`anomaly_detected`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueuedAnomaly {
    pub merchant_id: String,
    pub livemode: bool,
    /// When the window was closed and judged, epoch ms.
    pub detected_at_ms: i64,
    pub anomaly: Anomaly,
}

impl QueuedRecord {
    /// Reads a queue message. Tried in turn rather than as a serde `untagged` enum, whose
    /// buffering would double every message type's deserializer in the edge's bundle.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        match serde_json::from_str::<QueuedEvent>(text) {
            Ok(event) => Ok(Self::Event(Box::new(event))),
            Err(not_an_event) => serde_json::from_str::<QueuedDecision>(text)
                .map(|decision| Self::Decision(Box::new(decision)))
                .or_else(|_| serde_json::from_str::<QueuedChange>(text).map(|change| Self::Change(Box::new(change))))
                .or_else(|_| serde_json::from_str::<QueuedKeyUse>(text).map(|used| Self::KeyUse(Box::new(used))))
                .or_else(|_| serde_json::from_str::<QueuedAnomaly>(text).map(|found| Self::Anomaly(Box::new(found))))
                .map_err(|_| not_an_event),
        }
    }

    pub fn merchant_id(&self) -> &str {
        match self {
            Self::Decision(decision) => &decision.session.merchant_id,
            Self::Event(event) => &event.session.merchant_id,
            Self::Change(change) => &change.merchant_id,
            Self::KeyUse(used) => &used.merchant_id,
            Self::Anomaly(found) => &found.merchant_id,
        }
    }

    /// Test-mode records are archived apart from live ones.
    pub fn livemode(&self) -> bool {
        match self {
            Self::Decision(decision) => decision.session.livemode,
            Self::Event(event) => event.session.livemode,
            Self::Change(change) => change.livemode,
            Self::KeyUse(used) => used.livemode,
            Self::Anomaly(found) => found.livemode,
        }
    }

    /// Edge clock when the record was made, epoch ms.
    pub fn observed_ms(&self) -> i64 {
        match self {
            Self::Decision(decision) => decision.request.observed_ms,
            Self::Event(event) => event.request.observed_ms,
            Self::Change(change) => change.at_ms,
            Self::KeyUse(used) => used.at_ms,
            Self::Anomaly(found) => found.detected_at_ms,
        }
    }

    /// The id that names this record wherever it is counted once (insights, anomaly windows):
    /// events scoped to their session, so an id another session (or merchant) sent cannot
    /// pre-empt it. `None` for records counted nowhere.
    pub fn record_id(&self) -> Option<String> {
        match self {
            Self::Event(e) => Some(format!(
                "event:{}:{}:{}",
                e.session.merchant_id, e.session.session_id, e.event.id
            )),
            Self::Decision(d) => Some(format!("decision:{}", d.approval_id)),
            Self::Change(c) => Some(format!("change:{}", c.change_id)),
            Self::KeyUse(_) | Self::Anomaly(_) => None,
        }
    }

    /// The record as archived and sent, every kind marked with its mode (`paylater.mode`).
    pub fn log_record(&self) -> LogRecord {
        let mut record = match self {
            Self::Decision(decision) => LogRecord::from_decision(decision),
            Self::Event(event) => LogRecord::from_queued(event),
            Self::Change(change) => change_log_record(change),
            Self::KeyUse(used) => key_use_log_record(used),
            Self::Anomaly(found) => anomaly_log_record(found),
        };
        record
            .attributes
            .push(KeyValue::string("paylater.mode", mode_name(self.livemode())));
        record
    }

    /// The reconciliation ledger's row of this record, if it is one: approved decisions and
    /// every change of an order's life.
    pub fn ledger_row(&self) -> Option<QueuedChange> {
        match self {
            Self::Change(change) => Some((**change).clone()),
            Self::Decision(decision) if decision.outcome == Outcome::Approved => Some(QueuedChange {
                change_id: format!("{}:approval:0", decision.approval_id),
                kind: ChangeKind::Approval,
                merchant_id: decision.session.merchant_id.clone(),
                livemode: decision.session.livemode,
                session_id: decision.session.session_id.clone(),
                approval_id: decision.approval_id.clone(),
                order_id: String::new(),
                merchant_reference: String::new(),
                amount: decision.session.amount_minor,
                currency: decision.session.currency.parse().ok()?,
                order_amount: decision.session.amount_minor,
                plan_id: decision.plan_id.clone(),
                at_ms: decision.request.observed_ms,
            }),
            _ => None,
        }
    }
}

/// The record of a secret key's use (`key_used`): the key's id, the scope and the route.
fn key_use_log_record(used: &QueuedKeyUse) -> LogRecord {
    let context = RecordContext::of_merchant(used.key_use_id.clone(), "key_used", &used.merchant_id);
    let mut record = LogRecord::new(&context, used.at_ms, used.at_ms, SEVERITY_INFO);
    let summary = vec![
        KeyValue::string("key.id", &used.key_id),
        KeyValue::string("key.scope", &used.scope),
        KeyValue::string("http.route", &used.route),
    ];
    record.attributes.extend(summary.iter().cloned());
    record.body = AnyValue::KvList(KeyValueList { values: summary });
    record
}

/// The record of an anomalous window (`anomaly_detected`, WARN): the metric, the window, what
/// the baseline expected, what was observed, and how many deviations apart.
fn anomaly_log_record(found: &QueuedAnomaly) -> LogRecord {
    let anomaly = &found.anomaly;
    let id = format!(
        "anomaly:{}:{}:{}",
        found.merchant_id,
        mode_name(found.livemode),
        anomaly.id()
    );
    let context = RecordContext::of_merchant(id, "anomaly_detected", &found.merchant_id);
    let mut record = LogRecord::new(&context, anomaly.window_end_ms, found.detected_at_ms, SEVERITY_WARN);
    let summary = vec![
        KeyValue::string("anomaly.metric", anomaly.metric.as_str()),
        KeyValue::int("anomaly.window_start_ms", anomaly.window_start_ms),
        KeyValue::int("anomaly.window_end_ms", anomaly.window_end_ms),
        KeyValue::double("anomaly.expected", anomaly.expected),
        KeyValue::double("anomaly.observed", anomaly.observed),
        KeyValue::double("anomaly.score", anomaly.score),
        KeyValue::int("anomaly.volume", i64::try_from(anomaly.volume).unwrap_or(i64::MAX)),
    ];
    record.attributes.extend(summary.iter().cloned());
    record.body = AnyValue::KvList(KeyValueList { values: summary });
    record
}

/// The record of one change (CONTRACT §5): `event.name` the change's name, amounts and
/// references as attributes, no personal data.
fn change_log_record(change: &QueuedChange) -> LogRecord {
    let context = RecordContext {
        event_id: change.change_id.clone(),
        event_name: change.kind.event_name().to_owned(),
        merchant_id: change.merchant_id.clone(),
        session_id: change.session_id.clone(),
        seq: 0,
        amount_minor: Some(change.order_amount),
        currency: Some(change.currency.to_string()),
        plan_id: Some(change.plan_id.clone()),
        risk_flags: Vec::new(),
        customer_id_hash: None,
    };
    let severity = match change.kind {
        ChangeKind::Expired | ChangeKind::ApprovalExpired => SEVERITY_WARN,
        _ => SEVERITY_INFO,
    };
    let mut record = LogRecord::new(&context, change.at_ms, change.at_ms, severity);
    let mut summary = vec![
        KeyValue::string("change.kind", change.kind.as_str()),
        KeyValue::int("change.amount_minor", i64::try_from(change.amount).unwrap_or(i64::MAX)),
        KeyValue::string("approval.id", &change.approval_id),
        KeyValue::string("paylater.mode", mode_name(change.livemode)),
    ];
    if !change.order_id.is_empty() {
        summary.push(KeyValue::string("order.id", &change.order_id));
        summary.push(KeyValue::string("merchant.reference", &change.merchant_reference));
    }
    // The mode is added to every record's attributes by `QueuedRecord::log_record`.
    record
        .attributes
        .extend(summary.iter().filter(|kv| kv.key != "paylater.mode").cloned());
    record.body = AnyValue::KvList(KeyValueList { values: summary });
    record
}

/// Records for the consumer's tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use crate::ingest::{QueuedEvent, RequestFacts, SessionFacts, UaClass};
    use paylater_shared::telemetry::{Event, EventName};

    /// A `widget_viewed` of session `ses_1`, its id numbered by `seq`, observed at `observed_ms`.
    pub fn queued_event(merchant: &str, livemode: bool, observed_ms: i64, seq: u32) -> QueuedEvent {
        QueuedEvent {
            event: Event {
                id: format!("0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e{seq:02x}"),
                name: EventName::WidgetViewed,
                ts: observed_ms - 100,
                seq,
                props: serde_json::Map::new(),
            },
            session: SessionFacts {
                session_id: "ses_1".into(),
                merchant_id: merchant.into(),
                amount_minor: 100,
                currency: "USD".into(),
                issued_at_s: 0,
                livemode,
                publishable_key: "pk_test_demo".into(),
            },
            request: RequestFacts {
                observed_ms,
                network: "unknown".into(),
                country: None,
                asn: None,
                ua_class: UaClass::Desktop,
                ip_velocity: false,
            },
            seq_gap: 0,
            risk_flags: vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::{ReasonCode, ScoreBand};
    use crate::ingest::{RequestFacts, SessionFacts, UaClass};
    use paylater_shared::Currency;

    fn decision() -> QueuedDecision {
        QueuedDecision {
            approval_id: "0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e10".into(),
            session: SessionFacts {
                session_id: "s1".into(),
                merchant_id: "m_demo".into(),
                amount_minor: 12_999,
                currency: "USD".into(),
                issued_at_s: 1_795_420_000,
                livemode: false,
                publishable_key: "pk_test_demo".into(),
            },
            request: RequestFacts {
                observed_ms: 1_795_420_800_000,
                network: "203.0.113.0/24".into(),
                country: Some("SE".into()),
                asn: None,
                ua_class: UaClass::Desktop,
                ip_velocity: false,
            },
            customer_id_hash: "ab12".into(),
            plan_id: "pay_in_4".into(),
            outcome: Outcome::Declined,
            reasons: vec![ReasonCode::DisposableEmail],
            score_band: ScoreBand::D,
            upstream: None,
            form_fill_ms: Some(24_500),
        }
    }

    #[test]
    fn a_key_use_reads_back_and_names_the_key_never_its_secret() {
        let used = QueuedKeyUse {
            key_use_id: "0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e12".into(),
            merchant_id: "m_demo".into(),
            livemode: true,
            key_id: "key_ops".into(),
            scope: "insights:read".into(),
            route: "insights_funnel".into(),
            at_ms: 1_795_420_800_000,
        };
        let text = serde_json::to_string(&used).unwrap();
        let parsed = QueuedRecord::from_json(&text).unwrap();
        assert_eq!(parsed, QueuedRecord::KeyUse(Box::new(used)));
        assert_eq!(
            (parsed.merchant_id(), parsed.livemode(), parsed.observed_ms()),
            ("m_demo", true, 1_795_420_800_000)
        );
        assert_eq!(parsed.ledger_row(), None);
        let record = parsed.log_record();
        assert_eq!(record.event_name, "key_used");
        for expected in [
            KeyValue::string("key.id", "key_ops"),
            KeyValue::string("key.scope", "insights:read"),
            KeyValue::string("http.route", "insights_funnel"),
            KeyValue::string("paylater.mode", "live"),
        ] {
            assert!(record.attributes.contains(&expected), "{expected:?}");
        }
        // A decision is not mistaken for a key use, nor the other way round.
        let decision = serde_json::to_string(&decision()).unwrap();
        assert!(matches!(
            QueuedRecord::from_json(&decision),
            Ok(QueuedRecord::Decision(_))
        ));
    }

    #[test]
    fn decisions_and_events_are_told_apart_by_shape() {
        let text = serde_json::to_string(&decision()).unwrap();
        let parsed = QueuedRecord::from_json(&text).unwrap();
        assert_eq!(parsed, QueuedRecord::Decision(Box::new(decision())));
        assert_eq!(parsed.merchant_id(), "m_demo");
        // An event message (as queued before decisions existed) still reads as an event.
        let event = QueuedEvent {
            event: serde_json::from_value(serde_json::json!({
                "id": "0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e11", "name": "widget_viewed",
                "ts": 1_795_420_799_000i64, "seq": 3, "props": {}
            }))
            .unwrap(),
            session: decision().session,
            request: decision().request,
            seq_gap: 0,
            risk_flags: vec![],
        };
        let text = serde_json::to_string(&event).unwrap();
        assert_eq!(
            QueuedRecord::from_json(&text).unwrap(),
            QueuedRecord::Event(Box::new(event))
        );
        assert!(QueuedRecord::from_json(r#"{"approval_id":"x"}"#).is_err());
        assert_eq!(parsed.observed_ms(), 1_795_420_800_000);
    }

    #[test]
    fn a_decision_record_carries_the_form_fill_time_only_when_the_session_had_one() {
        let form_fill = |decision: QueuedDecision| {
            let record = serde_json::to_value(QueuedRecord::Decision(Box::new(decision)).log_record()).unwrap();
            record["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["key"] == "decision.form_fill_ms")
                .map(|a| a["value"].clone())
        };
        assert_eq!(form_fill(decision()), Some(serde_json::json!({ "intValue": "24500" })));
        let without = QueuedDecision {
            form_fill_ms: None,
            ..decision()
        };
        assert_eq!(form_fill(without), None);
        // A decision queued before the field existed still reads, without it.
        let mut old = serde_json::to_value(decision()).unwrap();
        old.as_object_mut().unwrap().remove("form_fill_ms");
        let QueuedRecord::Decision(read) = QueuedRecord::from_json(&old.to_string()).unwrap() else {
            panic!("a decision reads as a decision");
        };
        assert_eq!(read.form_fill_ms, None);
    }

    fn change() -> QueuedChange {
        QueuedChange {
            change_id: "ord_test_0190d2c46b7a7cc29a1e3f6b2a9d4e10:captured:1".into(),
            kind: ChangeKind::Captured,
            merchant_id: "m_demo".into(),
            livemode: false,
            session_id: "s1".into(),
            approval_id: "0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e10".into(),
            order_id: "ord_test_0190d2c46b7a7cc29a1e3f6b2a9d4e10".into(),
            merchant_reference: "A-1".into(),
            amount: 5_000,
            currency: Currency::parse("USD").unwrap(),
            order_amount: 12_999,
            plan_id: "pay_in_4".into(),
            at_ms: 1_795_420_801_000,
        }
    }

    #[test]
    fn changes_read_back_and_become_records_and_ledger_rows() {
        let text = serde_json::to_string(&change()).unwrap();
        let parsed = QueuedRecord::from_json(&text).unwrap();
        assert_eq!(parsed, QueuedRecord::Change(Box::new(change())));
        assert_eq!(
            (parsed.merchant_id(), parsed.observed_ms()),
            ("m_demo", 1_795_420_801_000)
        );
        assert_eq!(parsed.ledger_row(), Some(change()));
        let record = serde_json::to_value(parsed.log_record()).unwrap();
        assert_eq!(record["eventName"], "order_captured");
        let attribute = |key: &str| {
            record["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["key"] == key)
                .map(|a| a["value"].clone())
        };
        assert_eq!(
            attribute("event.id"),
            Some(serde_json::json!({ "stringValue": "ord_test_0190d2c46b7a7cc29a1e3f6b2a9d4e10:captured:1" }))
        );
        assert_eq!(
            attribute("change.amount_minor"),
            Some(serde_json::json!({ "intValue": "5000" }))
        );
        assert_eq!(
            attribute("merchant.reference"),
            Some(serde_json::json!({ "stringValue": "A-1" }))
        );
        assert_eq!(attribute("customer.id_hash"), None);

        // An approved decision is the ledger's approval row; a declined one is no row.
        let mut approved = decision();
        approved.outcome = Outcome::Approved;
        let row = QueuedRecord::Decision(Box::new(approved)).ledger_row().unwrap();
        assert_eq!(
            (row.kind, row.amount, row.change_id.as_str()),
            (
                ChangeKind::Approval,
                12_999,
                "0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e10:approval:0"
            )
        );
        assert_eq!(QueuedRecord::Decision(Box::new(decision())).ledger_row(), None);
    }
}
