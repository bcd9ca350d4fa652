//! Merchant insights (`GET /v1/insights/funnel`, CONTRACT §5): the counters the queue consumer
//! writes to D1, in the ledger's batch and exactly once per record, and the funnel summed from
//! them. Pure; `consumer` and `entry` run the statements (tables: `migrations/0002_insights.sql`).

use std::collections::BTreeMap;

use paylater_shared::approval::Outcome;
use paylater_shared::insights::{
    Decisions, FUNNEL_STEPS, Funnel, FunnelPeriod, FunnelStep, Granularity, OrderValue, PlanShare, ReasonCount, ratio,
};
use paylater_shared::order::ChangeKind;
use paylater_shared::telemetry::EventName;
use paylater_shared::{CivilDate, Currency};
use serde::Deserialize;

use crate::error::EdgeError;
use crate::forward::utc_day;
use crate::query::{day_range, named_values};
use crate::reconciliation::SqlValue;
use crate::records::QueuedRecord;

/// The longest range one request may ask for.
pub const MAX_DAYS: i64 = 90;

/// Adds one to a counter, unless the record (`?7`) was counted before. Runs before the record's
/// [`MARK_RECORD`], in the same batch, so a redelivery or a replay finds it counted.
pub const COUNT: &str = "INSERT INTO insight_counts (merchant_id, livemode, hour, metric, dimension, count, sum) \
    SELECT ?1, ?2, ?3, ?4, ?5, 1, ?6 WHERE NOT EXISTS (SELECT 1 FROM insight_records WHERE record_id = ?7) \
    ON CONFLICT (merchant_id, livemode, hour, metric, dimension) \
    DO UPDATE SET count = count + 1, sum = sum + excluded.sum";

/// Counts a session at a step (`?4`) once: unless [`MARK_STEP`] saw it there before.
pub const COUNT_STEP: &str = "INSERT INTO insight_counts (merchant_id, livemode, hour, metric, dimension, count, sum) \
    SELECT ?1, ?2, ?3, 'step', ?4, 1, 0 WHERE NOT EXISTS (SELECT 1 FROM insight_steps \
    WHERE merchant_id = ?1 AND livemode = ?2 AND session_id = ?5 AND step = ?4) \
    ON CONFLICT (merchant_id, livemode, hour, metric, dimension) DO UPDATE SET count = count + 1";

pub const MARK_STEP: &str =
    "INSERT OR IGNORE INTO insight_steps (merchant_id, livemode, session_id, step) VALUES (?1, ?2, ?3, ?4)";

pub const MARK_RECORD: &str = "INSERT OR IGNORE INTO insight_records (record_id, day) VALUES (?1, ?2)";

/// A merchant's counters in one mode between two hours (`YYYY-MM-DDTHH`, inclusive).
pub const SELECT_COUNTS: &str = "SELECT hour, metric, dimension, count, sum FROM insight_counts \
    WHERE merchant_id = ?1 AND livemode = ?2 AND hour >= ?3 AND hour <= ?4 ORDER BY hour, metric, dimension";

/// The same summed per day (`hour` then holds the day): a 24th of the rows for long ranges.
pub const SELECT_DAILY_COUNTS: &str = "SELECT substr(hour, 1, 10) AS hour, metric, dimension, \
    SUM(count) AS count, SUM(sum) AS sum FROM insight_counts \
    WHERE merchant_id = ?1 AND livemode = ?2 AND hour >= ?3 AND hour <= ?4 \
    GROUP BY substr(hour, 1, 10), metric, dimension ORDER BY 1, 2, 3";

/// The longest range asked for by the hour.
pub const MAX_HOURLY_DAYS: i64 = 7;

/// One statement of the consumer's batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sql: &'static str,
    pub values: Vec<SqlValue>,
}

/// The UTC hour of `ms`: `2026-11-30T14`.
pub fn utc_hour(ms: i64) -> String {
    format!("{}T{:02}", utc_day(ms), ms.rem_euclid(86_400_000) / 3_600_000)
}

/// The funnel step an event is, if it is one.
fn event_step(name: EventName) -> Option<&'static str> {
    match name {
        EventName::WidgetLoaded
        | EventName::WidgetViewed
        | EventName::TermsOpened
        | EventName::PlanSelected
        | EventName::ApprovalStarted
        | EventName::ApprovalSubmitted => Some(name.as_str()),
        _ => None,
    }
}

/// Sessions at steps an earlier record of the same D1 batch already counted and marked: a later
/// record's count and mark for one of them would change nothing, since the batch runs in order.
type StepsInBatch = std::collections::HashSet<(String, bool, String, &'static str)>;

/// What a batch of records adds to the counters: each record's statements, in order, without
/// a step its session already reached earlier in the batch. A session's events mostly repeat
/// a step (`widget_viewed` for every widget on a page), so this is most of a batch.
pub fn batch_statements<'a>(records: impl Iterator<Item = &'a QueuedRecord>) -> Vec<Statement> {
    let mut reached = StepsInBatch::new();
    records.flat_map(|record| statements_in(record, &mut reached)).collect()
}

/// What one record adds to the counters: the statements, in order, ending with the record's
/// mark. Empty for a record that counts nowhere.
#[cfg(test)]
fn statements(record: &QueuedRecord) -> Vec<Statement> {
    statements_in(record, &mut StepsInBatch::new())
}

/// [`statements`], less a step `reached` holds; the steps it counts go into `reached`.
fn statements_in(record: &QueuedRecord, reached: &mut StepsInBatch) -> Vec<Statement> {
    let Some(record_id) = record.record_id() else {
        // Not part of the funnel.
        return Vec::new();
    };
    let (merchant, livemode, session, at_ms) = match record {
        QueuedRecord::Event(e) => (
            &e.session.merchant_id,
            e.session.livemode,
            &e.session.session_id,
            e.request.observed_ms,
        ),
        QueuedRecord::Decision(d) => (
            &d.session.merchant_id,
            d.session.livemode,
            &d.session.session_id,
            d.request.observed_ms,
        ),
        QueuedRecord::Change(c) => (&c.merchant_id, c.livemode, &c.session_id, c.at_ms),
        QueuedRecord::KeyUse(_) | QueuedRecord::Anomaly(_) => return Vec::new(),
    };
    let hour = utc_hour(at_ms);
    let key = || {
        vec![
            SqlValue::Text(merchant.clone()),
            SqlValue::Int(i64::from(livemode)),
            SqlValue::Text(hour.clone()),
        ]
    };
    let mut out = Vec::new();
    let mut step = |step: &'static str| {
        if !reached.insert((merchant.clone(), livemode, session.clone(), step)) {
            return;
        }
        let mut values = key();
        values.extend([SqlValue::Text(step.to_owned()), SqlValue::Text(session.clone())]);
        out.push(Statement {
            sql: COUNT_STEP,
            values,
        });
        out.push(Statement {
            sql: MARK_STEP,
            values: vec![
                SqlValue::Text(merchant.clone()),
                SqlValue::Int(i64::from(livemode)),
                SqlValue::Text(session.clone()),
                SqlValue::Text(step.to_owned()),
            ],
        });
    };
    let mut counts: Vec<(&str, String, u64)> = Vec::new();
    match record {
        QueuedRecord::Event(e) => {
            if let Some(name) = event_step(e.event.name) {
                step(name);
            }
            if e.event.name == EventName::PlanSelected
                && let Some(plan) = e.event.props.get("plan_id").and_then(|v| v.as_str())
            {
                counts.push(("plan", plan.to_owned(), 0));
            }
        }
        QueuedRecord::Decision(d) => {
            if d.outcome == Outcome::Approved {
                step("approved");
            }
            // No sum: the amount is the page's, and nothing reads a sum of decisions.
            counts.push(("decision", d.outcome.as_str().to_owned(), 0));
            if d.outcome != Outcome::Approved {
                for reason in &d.reasons {
                    counts.push(("reason", format!("{}:{}", d.outcome.as_str(), reason.as_str()), 0));
                }
            }
        }
        QueuedRecord::Change(c) => {
            if c.kind == ChangeKind::OrderCreated {
                step("order_created");
            }
            counts.push(("order", format!("{}:{}", c.kind.as_str(), c.currency), c.amount));
        }
        QueuedRecord::KeyUse(_) | QueuedRecord::Anomaly(_) => {}
    }
    // A record that only moves sessions to steps needs no mark: its steps are marked already.
    if counts.is_empty() {
        return out;
    }
    for (metric, dimension, sum) in counts {
        let mut values = key();
        values.extend([
            SqlValue::Text(metric.to_owned()),
            SqlValue::Text(dimension),
            SqlValue::Int(i64::try_from(sum).unwrap_or(i64::MAX)),
            SqlValue::Text(record_id.clone()),
        ]);
        out.push(Statement { sql: COUNT, values });
    }
    out.push(Statement {
        sql: MARK_RECORD,
        values: vec![SqlValue::Text(record_id), SqlValue::Text(utc_day(at_ms).to_string())],
    });
    out
}

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD&granularity=day|hour`: UTC days, both inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunnelQuery {
    pub from: CivilDate,
    pub to: CivilDate,
    pub granularity: Granularity,
}

impl FunnelQuery {
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, EdgeError> {
        let [from, to, granularity] = named_values(pairs, &["from", "to", "granularity"])?;
        let (from, to) = day_range(
            from,
            to,
            MAX_DAYS,
            "a funnel covers at most 90 days; ask for longer periods in parts",
        )?;
        let granularity = match granularity {
            None | Some("day") => Granularity::Day,
            Some("hour") => Granularity::Hour,
            Some(_) => {
                return Err(EdgeError::InvalidType {
                    field: "granularity",
                    expected: "day or hour",
                });
            }
        };
        if granularity == Granularity::Hour && to.days_since_epoch() - from.days_since_epoch() >= MAX_HOURLY_DAYS {
            return Err(EdgeError::InvalidRange {
                field: "to",
                problem: "by the hour, a funnel covers at most 7 days; ask by the day or for fewer days",
            });
        }
        Ok(Self { from, to, granularity })
    }

    /// The statement that reads this query's counters.
    pub fn select(&self) -> &'static str {
        match self.granularity {
            Granularity::Day => SELECT_DAILY_COUNTS,
            Granularity::Hour => SELECT_COUNTS,
        }
    }

    /// The first and last hour of the range, as [`SELECT_COUNTS`] binds them.
    pub fn hours(&self) -> (String, String) {
        (format!("{}T00", self.from), format!("{}T23", self.to))
    }
}

/// One counter row as [`SELECT_COUNTS`] reads it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CountRow {
    pub hour: String,
    pub metric: String,
    pub dimension: String,
    pub count: i64,
    pub sum: i64,
}

/// The funnel from the range's counters. Rows this version cannot read are an internal error,
/// never silently skipped.
pub fn funnel(query: &FunnelQuery, livemode: bool, rows: &[CountRow]) -> Result<Funnel, EdgeError> {
    let add = |total: &mut u64, more: u64| *total = total.saturating_add(more);
    let bad = |row: &CountRow| EdgeError::Internal {
        detail: format!("unreadable insight row {row:?}"),
    };
    let mut totals = [0u64; FUNNEL_STEPS.len()];
    let mut periods: BTreeMap<String, [u64; FUNNEL_STEPS.len()]> = BTreeMap::new();
    let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
    let mut reasons: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut plans: BTreeMap<String, u64> = BTreeMap::new();
    let mut orders: BTreeMap<Currency, (u64, u64)> = BTreeMap::new();
    for row in rows {
        let count = u64::try_from(row.count).map_err(|_| bad(row))?;
        let sum = u64::try_from(row.sum).map_err(|_| bad(row))?;
        match row.metric.as_str() {
            "step" => {
                // A step a later version counts: not this version's to show.
                let Some(index) = FUNNEL_STEPS.iter().position(|s| *s == row.dimension) else {
                    continue;
                };
                let period = match query.granularity {
                    Granularity::Day => row.hour.get(..10).ok_or_else(|| bad(row))?.to_owned(),
                    Granularity::Hour => row.hour.clone(),
                };
                add(&mut totals[index], count);
                add(&mut periods.entry(period).or_default()[index], count);
            }
            "plan" => add(plans.entry(row.dimension.clone()).or_default(), count),
            "decision" => add(outcomes.entry(row.dimension.clone()).or_default(), count),
            "reason" => {
                let (outcome, code) = row.dimension.split_once(':').ok_or_else(|| bad(row))?;
                add(reasons.entry((outcome.to_owned(), code.to_owned())).or_default(), count);
            }
            "order" => {
                let (kind, currency) = row.dimension.split_once(':').ok_or_else(|| bad(row))?;
                if kind == ChangeKind::OrderCreated.as_str() {
                    let currency = Currency::parse(currency).map_err(|_| bad(row))?;
                    let entry = orders.entry(currency).or_default();
                    add(&mut entry.0, count);
                    add(&mut entry.1, sum);
                }
            }
            // A metric a later version counts.
            _ => {}
        }
    }
    let steps = FUNNEL_STEPS
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let previous = i.checked_sub(1).map(|p| totals[p]);
            FunnelStep {
                step: (*step).to_owned(),
                sessions: totals[i],
                from_previous: previous.and_then(|p| ratio(totals[i], p)),
                from_first: if i == 0 { None } else { ratio(totals[i], totals[0]) },
                drop_off: previous.map_or(0, |p| p.saturating_sub(totals[i])),
            }
        })
        .collect();
    let decided = |outcome: Outcome| outcomes.get(outcome.as_str()).copied().unwrap_or(0);
    let (approved, declined, review) = (
        decided(Outcome::Approved),
        decided(Outcome::Declined),
        decided(Outcome::Review),
    );
    let mut reasons: Vec<ReasonCount> = reasons
        .into_iter()
        .map(|((outcome, code), count)| ReasonCount { outcome, code, count })
        .collect();
    reasons.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| (&a.outcome, &a.code).cmp(&(&b.outcome, &b.code)))
    });
    let selections = plans.values().fold(0u64, |all, n| all.saturating_add(*n));
    let mut plans: Vec<PlanShare> = plans
        .into_iter()
        .map(|(plan_id, count)| PlanShare {
            plan_id,
            selections: count,
            share: ratio(count, selections).unwrap_or(0.0),
        })
        .collect();
    plans.sort_by(|a, b| b.selections.cmp(&a.selections).then_with(|| a.plan_id.cmp(&b.plan_id)));
    Ok(Funnel {
        from: query.from.to_string(),
        to: query.to.to_string(),
        granularity: query.granularity,
        livemode,
        steps,
        periods: periods
            .into_iter()
            .map(|(period, sessions)| FunnelPeriod {
                period,
                sessions: sessions.to_vec(),
            })
            .collect(),
        decisions: Decisions {
            approved,
            declined,
            review,
            approval_rate: ratio(approved, approved.saturating_add(declined).saturating_add(review)),
        },
        reasons,
        plans,
        order_value: orders
            .into_iter()
            .map(|(currency, (count, amount))| OrderValue {
                currency,
                orders: count,
                amount,
                average: amount.saturating_add(count / 2) / count.max(1),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approval_records::QueuedDecision;
    use crate::decision::{ReasonCode, ScoreBand};
    use crate::ingest::{QueuedEvent, RequestFacts, SessionFacts, UaClass};
    use crate::orders::QueuedChange;
    use crate::query::tests::pairs;

    // 2026-11-30 14:05:00 UTC.
    const AT: i64 = 1_796_047_500_000;

    fn session() -> SessionFacts {
        SessionFacts {
            session_id: "s1".into(),
            merchant_id: "m_demo".into(),
            amount_minor: 12_999,
            currency: "USD".into(),
            issued_at_s: AT / 1000 - 60,
            livemode: false,
            publishable_key: "pk_test_demo".into(),
        }
    }

    fn request() -> RequestFacts {
        RequestFacts {
            observed_ms: AT,
            network: "203.0.113.0/24".into(),
            country: None,
            asn: None,
            ua_class: UaClass::Desktop,
            ip_velocity: false,
        }
    }

    fn event(name: &str, props: serde_json::Value) -> QueuedRecord {
        QueuedRecord::Event(Box::new(QueuedEvent {
            event: serde_json::from_value(serde_json::json!({
                "id": "0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e11", "name": name, "ts": AT - 900, "seq": 1, "props": props
            }))
            .unwrap(),
            session: session(),
            request: request(),
            seq_gap: 0,
            risk_flags: vec![],
        }))
    }

    fn decision(outcome: Outcome, reasons: Vec<ReasonCode>) -> QueuedRecord {
        QueuedRecord::Decision(Box::new(QueuedDecision {
            approval_id: "apr_1".into(),
            session: session(),
            request: request(),
            customer_id_hash: "ab12".into(),
            plan_id: "pay_in_4".into(),
            outcome,
            reasons,
            score_band: ScoreBand::D,
            upstream: None,
            form_fill_ms: None,
        }))
    }

    fn text(value: &str) -> SqlValue {
        SqlValue::Text(value.into())
    }

    #[test]
    fn hours_are_utc() {
        assert_eq!(utc_hour(AT), "2026-11-30T14");
        assert_eq!(utc_hour(AT - 14 * 3_600_000 - 300_001), "2026-11-29T23");
        assert_eq!(utc_hour(0), "1970-01-01T00");
    }

    #[test]
    fn a_funnel_step_counts_the_session_once_then_marks_the_record() {
        let written = statements(&event("plan_selected", serde_json::json!({ "plan_id": "pay_in_30" })));
        let sql: Vec<&str> = written.iter().map(|s| s.sql).collect();
        assert_eq!(sql, [COUNT_STEP, MARK_STEP, COUNT, MARK_RECORD]);
        let key = [text("m_demo"), SqlValue::Int(0), text("2026-11-30T14")];
        assert_eq!(
            written[0].values,
            [&key[..], &[text("plan_selected"), text("s1")]].concat()
        );
        assert_eq!(
            written[1].values,
            [text("m_demo"), SqlValue::Int(0), text("s1"), text("plan_selected")]
        );
        let record_id = text("event:m_demo:s1:0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e11");
        assert_eq!(
            written[2].values,
            [
                &key[..],
                &[text("plan"), text("pay_in_30"), SqlValue::Int(0), record_id.clone()]
            ]
            .concat()
        );
        assert_eq!(written[3].values, [record_id, text("2026-11-30")]);
    }

    /// Event `n` (its own id) of session `session_id` in `livemode`, observed `hours_later`.
    fn event_of(n: u32, session_id: &str, livemode: bool, name: &str, hours_later: i64) -> QueuedRecord {
        let QueuedRecord::Event(mut queued) = event(name, serde_json::json!({ "plan_id": "pay_in_4" })) else {
            unreachable!("event makes events")
        };
        queued.event.id = format!("0190d2c4-6b7a-7cc2-9a1e-{n:012x}");
        queued.session.session_id = session_id.into();
        queued.session.livemode = livemode;
        queued.request.observed_ms += hours_later * 3_600_000;
        QueuedRecord::Event(queued)
    }

    #[test]
    fn a_batch_counts_a_session_at_a_step_with_its_first_record_only() {
        let approved = || decision(Outcome::Approved, vec![]);
        let records = [
            event_of(1, "s1", false, "widget_viewed", 0),
            event_of(2, "s1", false, "widget_viewed", 0),
            event_of(3, "s2", false, "widget_viewed", 0),
            // The same session id in the other mode is another session.
            event_of(4, "s1", true, "widget_viewed", 0),
            event_of(5, "s1", false, "plan_selected", 0),
            // Another hour: the first record's hour counted the session already.
            event_of(6, "s1", false, "widget_viewed", 1),
            // A second plan choice is counted by its own id; only its step repeats.
            event_of(7, "s1", false, "plan_selected", 1),
            approved(),
            approved(),
        ];
        let one_by_one: Vec<Vec<Statement>> = records.iter().map(statements).collect();
        let batch = batch_statements(records.iter());
        // Record by record, less the step statements of a session already at that step.
        let kept: Vec<&Statement> = one_by_one
            .iter()
            .enumerate()
            .flat_map(|(n, written)| {
                let repeats_step = [1, 5, 6, 8].contains(&n);
                written
                    .iter()
                    .filter(move |s| !(repeats_step && [COUNT_STEP, MARK_STEP].contains(&s.sql)))
            })
            .collect();
        assert_eq!(batch.iter().collect::<Vec<_>>(), kept);
        let sqls: Vec<&str> = batch.iter().map(|s| s.sql).collect();
        assert_eq!(
            sqls,
            [
                COUNT_STEP,
                MARK_STEP, // s1 viewed
                COUNT_STEP,
                MARK_STEP, // s2 viewed
                COUNT_STEP,
                MARK_STEP, // s1 viewed, live
                COUNT_STEP,
                MARK_STEP,
                COUNT,
                MARK_RECORD, // s1 plan
                COUNT,
                MARK_RECORD, // s1 plan again
                COUNT_STEP,
                MARK_STEP,
                COUNT,
                MARK_RECORD, // approved
                COUNT,
                MARK_RECORD, // approved again: its decision still counts
            ]
        );
        assert_eq!(batch[4].values[1], SqlValue::Int(1), "the live session");
        assert_eq!(batch[0].values[2], text("2026-11-30T14"));
    }

    #[test]
    fn what_each_record_adds() {
        let sqls = |record: &QueuedRecord| statements(record).iter().map(|s| s.sql).collect::<Vec<_>>();
        // Not funnel steps, nothing counted: nothing written.
        for name in [
            "terms_closed",
            "approval_approved",
            "approval_declined",
            "session_abandoned",
        ] {
            let props = match name {
                "approval_approved" => serde_json::json!({ "approval_id": "a", "plan_id": "pay_in_4" }),
                "approval_declined" => serde_json::json!({ "approval_id": "a" }),
                _ => serde_json::json!({}),
            };
            assert_eq!(sqls(&event(name, props)), Vec::<&str>::new(), "{name}");
        }
        assert_eq!(
            sqls(&event("widget_viewed", serde_json::json!({}))),
            [COUNT_STEP, MARK_STEP]
        );
        // An approval is a step and a decision.
        let approved = statements(&decision(Outcome::Approved, vec![]));
        assert_eq!(
            approved.iter().map(|s| s.sql).collect::<Vec<_>>(),
            [COUNT_STEP, MARK_STEP, COUNT, MARK_RECORD]
        );
        assert_eq!(approved[0].values[3], text("approved"));
        assert_eq!(
            approved[2].values[3..6],
            [text("decision"), text("approved"), SqlValue::Int(0)]
        );
        // A decline: the decision and each reason, no step.
        let declined = statements(&decision(
            Outcome::Declined,
            vec![ReasonCode::UnderAge, ReasonCode::DisposableEmail],
        ));
        let dimensions: Vec<&SqlValue> = declined
            .iter()
            .filter(|s| s.sql == COUNT)
            .map(|s| &s.values[4])
            .collect();
        assert_eq!(
            dimensions,
            [
                &text("declined"),
                &text("declined:under_age"),
                &text("declined:disposable_email")
            ]
        );
        // An order: the step of its session and its amount per kind and currency.
        let change = |kind| {
            QueuedRecord::Change(Box::new(QueuedChange {
                change_id: "ord_1:x:0".into(),
                kind,
                merchant_id: "m_demo".into(),
                livemode: true,
                session_id: "s1".into(),
                approval_id: "apr_1".into(),
                order_id: "ord_1".into(),
                merchant_reference: "R-1".into(),
                amount: 5_000,
                currency: Currency::parse("SEK").unwrap(),
                order_amount: 12_999,
                plan_id: "pay_in_4".into(),
                at_ms: AT,
            }))
        };
        let created = statements(&change(ChangeKind::OrderCreated));
        assert_eq!(
            created.iter().map(|s| s.sql).collect::<Vec<_>>(),
            [COUNT_STEP, MARK_STEP, COUNT, MARK_RECORD]
        );
        assert_eq!(created[0].values[1], SqlValue::Int(1));
        assert_eq!(
            created[2].values[3..6],
            [text("order"), text("order_created:SEK"), SqlValue::Int(5_000)]
        );
        assert_eq!(sqls(&change(ChangeKind::Captured)), [COUNT, MARK_RECORD]);
    }

    #[test]
    fn queries_are_strict() {
        let ok = FunnelQuery::parse(&pairs(&[
            ("from", "2026-11-01"),
            ("to", "2026-11-07"),
            ("granularity", "hour"),
        ]))
        .unwrap();
        assert_eq!((ok.granularity, ok.select()), (Granularity::Hour, SELECT_COUNTS));
        assert_eq!(ok.hours(), ("2026-11-01T00".into(), "2026-11-07T23".into()));
        assert_eq!(
            FunnelQuery::parse(&pairs(&[("from", "2026-11-01"), ("to", "2026-11-01")]))
                .unwrap()
                .granularity,
            Granularity::Day
        );
        assert!(
            FunnelQuery::parse(&pairs(&[("from", "2026-01-01"), ("to", "2026-03-31")])).is_ok(),
            "90 days"
        );
        type Query<'a> = &'a [(&'a str, &'a str)];
        let cases: [(Query, &str, &str); 8] = [
            (&[("to", "2026-11-30")], "missing_parameter", "from"),
            (&[("from", "2026-11-30")], "missing_parameter", "to"),
            (&[("from", "2026-11-31"), ("to", "2026-12-01")], "invalid_date", "from"),
            (&[("from", "2026-11-02"), ("to", "2026-11-01")], "invalid_range", "to"),
            (&[("from", "2026-01-01"), ("to", "2026-04-01")], "invalid_range", "to"),
            (
                &[("from", "2026-11-01"), ("to", "2026-11-08"), ("granularity", "hour")],
                "invalid_range",
                "to",
            ),
            (
                &[("from", "2026-11-01"), ("to", "2026-11-02"), ("granularity", "week")],
                "invalid_type",
                "granularity",
            ),
            (
                &[("from", "2026-11-01"), ("to", "2026-11-02"), ("merchant", "m_other")],
                "unknown_parameter",
                "merchant",
            ),
        ];
        for (query, code, field) in cases {
            let error = FunnelQuery::parse(&pairs(query)).unwrap_err();
            assert_eq!(
                (error.code(), error.field().as_deref()),
                (code, Some(field)),
                "{query:?}"
            );
        }
    }

    fn row(hour: &str, metric: &str, dimension: &str, count: i64, sum: i64) -> CountRow {
        CountRow {
            hour: hour.into(),
            metric: metric.into(),
            dimension: dimension.into(),
            count,
            sum,
        }
    }

    #[test]
    fn the_funnel_sums_hours_into_steps_periods_and_shares() {
        let rows = [
            row("2026-11-29T23", "step", "widget_loaded", 40, 0),
            row("2026-11-30T09", "step", "widget_loaded", 160, 0),
            row("2026-11-30T09", "step", "widget_viewed", 150, 0),
            row("2026-11-30T10", "step", "terms_opened", 50, 0),
            row("2026-11-30T10", "step", "plan_selected", 30, 0),
            row("2026-11-30T10", "step", "approved", 9, 0),
            row("2026-11-30T11", "step", "order_created", 3, 0),
            row("2026-11-30T10", "plan", "pay_in_4", 20, 0),
            row("2026-11-30T10", "plan", "pay_in_30", 10, 0),
            row("2026-11-30T10", "decision", "approved", 9, 90_000),
            row("2026-11-30T10", "decision", "declined", 2, 20_000),
            row("2026-11-30T11", "decision", "declined", 1, 10_000),
            row("2026-11-30T10", "reason", "declined:under_age", 2, 0),
            row("2026-11-30T11", "reason", "declined:credit_limit", 1, 0),
            row("2026-11-30T11", "reason", "review:needs_review", 2, 0),
            row("2026-11-30T11", "order", "order_created:USD", 3, 10_000),
            row("2026-11-30T11", "order", "captured:USD", 1, 5_000),
        ];
        let query = FunnelQuery::parse(&pairs(&[("from", "2026-11-29"), ("to", "2026-11-30")])).unwrap();
        let funnel = funnel(&query, false, &rows).unwrap();
        type StepFigures<'a> = (&'a str, u64, Option<f64>, Option<f64>, u64);
        let steps: Vec<StepFigures> = funnel
            .steps
            .iter()
            .map(|s| (s.step.as_str(), s.sessions, s.from_previous, s.from_first, s.drop_off))
            .collect();
        assert_eq!(
            steps,
            [
                ("widget_loaded", 200, None, None, 0),
                ("widget_viewed", 150, Some(0.75), Some(0.75), 50),
                ("terms_opened", 50, Some(0.3333), Some(0.25), 100),
                ("plan_selected", 30, Some(0.6), Some(0.15), 20),
                ("approval_started", 0, Some(0.0), Some(0.0), 30),
                ("approval_submitted", 0, None, Some(0.0), 0),
                ("approved", 9, None, Some(0.045), 0),
                ("order_created", 3, Some(0.3333), Some(0.015), 6),
            ]
        );
        let periods: Vec<(&str, &[u64])> = funnel
            .periods
            .iter()
            .map(|p| (p.period.as_str(), &p.sessions[..]))
            .collect();
        assert_eq!(
            periods,
            [
                ("2026-11-29", &[40, 0, 0, 0, 0, 0, 0, 0][..]),
                ("2026-11-30", &[160, 150, 50, 30, 0, 0, 9, 3][..]),
            ]
        );
        assert_eq!(
            (
                funnel.decisions.approved,
                funnel.decisions.declined,
                funnel.decisions.review,
                funnel.decisions.approval_rate
            ),
            (9, 3, 0, Some(0.75))
        );
        let reasons: Vec<(&str, &str, u64)> = funnel
            .reasons
            .iter()
            .map(|r| (r.outcome.as_str(), r.code.as_str(), r.count))
            .collect();
        assert_eq!(
            reasons,
            [
                ("declined", "under_age", 2),
                ("review", "needs_review", 2),
                ("declined", "credit_limit", 1)
            ]
        );
        let plans: Vec<(&str, u64, f64)> = funnel
            .plans
            .iter()
            .map(|p| (p.plan_id.as_str(), p.selections, p.share))
            .collect();
        assert_eq!(plans, [("pay_in_4", 20, 0.6667), ("pay_in_30", 10, 0.3333)]);
        // 10000 / 3 = 3333.33…: rounded to a minor unit.
        assert_eq!(
            funnel.order_value,
            [OrderValue {
                currency: Currency::parse("USD").unwrap(),
                orders: 3,
                amount: 10_000,
                average: 3_333
            }]
        );
        // By hour, each hour with activity is a period of its own.
        let hourly = FunnelQuery::parse(&pairs(&[
            ("from", "2026-11-29"),
            ("to", "2026-11-30"),
            ("granularity", "hour"),
        ]))
        .unwrap();
        let hours: Vec<String> = super::funnel(&hourly, false, &rows)
            .unwrap()
            .periods
            .into_iter()
            .map(|p| p.period)
            .collect();
        assert_eq!(
            hours,
            ["2026-11-29T23", "2026-11-30T09", "2026-11-30T10", "2026-11-30T11"]
        );
    }

    #[test]
    fn an_empty_range_has_no_rates_and_rows_we_cannot_read_are_errors() {
        let query = FunnelQuery::parse(&pairs(&[("from", "2026-11-30"), ("to", "2026-11-30")])).unwrap();
        let empty = funnel(&query, true, &[]).unwrap();
        assert!(empty.livemode);
        assert!(
            empty
                .steps
                .iter()
                .all(|s| s.sessions == 0 && s.from_previous.is_none() && s.from_first.is_none())
        );
        assert_eq!((empty.decisions.approval_rate, empty.periods.len()), (None, 0));
        // What a later version counts is left out, not an error.
        let later = [
            row("2026-11-30T10", "step", "checkout_done", 1, 0),
            row("2026-11-30T10", "weather", "sunny", 1, 0),
        ];
        assert_eq!(funnel(&query, false, &later).unwrap().steps, empty.steps);
        for bad in [
            row("2026-11-30T10", "reason", "no-colon", 1, 0),
            row("2026-11-30T10", "order", "order_created:XXXX", 1, 5),
            row("2026-11-30T10", "decision", "approved", -1, 0),
        ] {
            let error = funnel(&query, false, std::slice::from_ref(&bad)).unwrap_err();
            assert_eq!(error.code(), "internal_error", "{bad:?}");
        }
    }
}
