//! `GET /v1/reconciliation` (CONTRACT §5) and the D1 ledger behind it: the query, the SQL the
//! consumer writes each change with (so a redelivered batch counts nothing twice), and the
//! report summed from the ledger's rows. Pure; `entry` and `consumer` run the statements.

use std::collections::BTreeMap;

use paylater_shared::order::{ChangeKind, Reconciliation, ReconciliationDay, ReconciliationItem, Tally};
use paylater_shared::{CivilDate, Currency};
use serde::Deserialize;

use crate::error::EdgeError;
use crate::forward::utc_day;
use crate::orders::{QueuedChange, rfc3339_millis};
use crate::query::{day_range, named_values};

/// The longest report one request may ask for.
pub const MAX_DAYS: i64 = 92;
/// The most line items one report carries; a longer period must be asked for in parts.
pub const MAX_ITEMS: usize = 10_000;

/// One change, once: the primary key is the change's stable id, so a redelivered message's
/// insert does nothing.
pub const INSERT_CHANGE: &str = "INSERT OR IGNORE INTO changes \
    (change_id, merchant_id, livemode, kind, day, at_ms, approval_id, order_id, merchant_reference, amount, currency) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

/// The order's row, its totals summed from its changes: running it again changes nothing.
pub const UPSERT_ORDER: &str = "INSERT INTO orders \
    (order_id, approval_id, merchant_id, livemode, merchant_reference, amount, currency, plan_id, created_at_ms, captured, refunded, released, updated_at_ms) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, 0, 0, ?9) \
    ON CONFLICT (order_id) DO NOTHING";

pub const SUM_ORDER: &str = "UPDATE orders SET \
    captured = (SELECT COALESCE(SUM(amount), 0) FROM changes WHERE order_id = ?1 AND kind = 'captured'), \
    refunded = (SELECT COALESCE(SUM(amount), 0) FROM changes WHERE order_id = ?1 AND kind = 'refunded'), \
    released = (SELECT COALESCE(SUM(amount), 0) FROM changes WHERE order_id = ?1 AND kind IN ('voided', 'expired')), \
    updated_at_ms = (SELECT MAX(at_ms) FROM changes WHERE order_id = ?1) \
    WHERE order_id = ?1";

/// A merchant's changes in one mode over a range of days, in time order (one more than
/// [`MAX_ITEMS`], to tell a report that was cut).
pub const SELECT_CHANGES: &str = "SELECT kind, day, at_ms, approval_id, order_id, merchant_reference, amount, currency \
    FROM changes WHERE merchant_id = ?1 AND livemode = ?2 AND day >= ?3 AND day <= ?4 \
    ORDER BY at_ms, change_id LIMIT ?5";

/// The values of [`INSERT_CHANGE`]'s parameters, in order, as text or numbers.
pub fn change_values(change: &QueuedChange) -> Vec<SqlValue> {
    vec![
        SqlValue::Text(change.change_id.clone()),
        SqlValue::Text(change.merchant_id.clone()),
        SqlValue::Int(i64::from(change.livemode)),
        SqlValue::Text(change.kind.as_str().to_owned()),
        SqlValue::Text(utc_day(change.at_ms).to_string()),
        SqlValue::Int(change.at_ms),
        SqlValue::Text(change.approval_id.clone()),
        SqlValue::Text(change.order_id.clone()),
        SqlValue::Text(change.merchant_reference.clone()),
        SqlValue::Int(i64::try_from(change.amount).unwrap_or(i64::MAX)),
        SqlValue::Text(change.currency.to_string()),
    ]
}

/// [`UPSERT_ORDER`]'s values for an `order_created` change.
pub fn order_values(change: &QueuedChange) -> Vec<SqlValue> {
    vec![
        SqlValue::Text(change.order_id.clone()),
        SqlValue::Text(change.approval_id.clone()),
        SqlValue::Text(change.merchant_id.clone()),
        SqlValue::Int(i64::from(change.livemode)),
        SqlValue::Text(change.merchant_reference.clone()),
        SqlValue::Int(i64::try_from(change.order_amount).unwrap_or(i64::MAX)),
        SqlValue::Text(change.currency.to_string()),
        SqlValue::Text(change.plan_id.clone()),
        SqlValue::Int(change.at_ms),
    ]
}

/// A bound SQL parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlValue {
    Text(String),
    Int(i64),
}

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD`, both inclusive, at most [`MAX_DAYS`] days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconciliationQuery {
    pub from: CivilDate,
    pub to: CivilDate,
}

impl ReconciliationQuery {
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, EdgeError> {
        let [from, to] = named_values(pairs, &["from", "to"])?;
        let (from, to) = day_range(
            from,
            to,
            MAX_DAYS,
            "a report covers at most 92 days; ask for longer periods in parts",
        )?;
        Ok(Self { from, to })
    }
}

/// One ledger row as [`SELECT_CHANGES`] reads it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LedgerRow {
    pub kind: String,
    pub day: String,
    pub at_ms: i64,
    pub approval_id: String,
    pub order_id: String,
    pub merchant_reference: String,
    pub amount: i64,
    pub currency: String,
}

/// Sums the rows per day and currency (days and currencies in order), with every row as an
/// item. Rows this version cannot read are an internal error, never silently skipped.
pub fn report(query: &ReconciliationQuery, livemode: bool, rows: &[LedgerRow]) -> Result<Reconciliation, EdgeError> {
    if rows.len() > MAX_ITEMS {
        return Err(EdgeError::InvalidRange {
            field: "from",
            problem: "the period holds more than 10000 changes; ask for fewer days",
        });
    }
    let bad = |row: &LedgerRow| EdgeError::Internal {
        detail: format!("unreadable ledger row {row:?}"),
    };
    let mut days: BTreeMap<(String, Currency), ReconciliationDay> = BTreeMap::new();
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let kind = ChangeKind::parse(&row.kind).ok_or_else(|| bad(row))?;
        let currency = Currency::parse(&row.currency).map_err(|_| bad(row))?;
        let amount = u64::try_from(row.amount).map_err(|_| bad(row))?;
        let day = days
            .entry((row.day.clone(), currency))
            .or_insert_with(|| ReconciliationDay {
                date: row.day.clone(),
                currency,
                approvals: Tally::default(),
                orders_created: Tally::default(),
                captured: Tally::default(),
                refunded: Tally::default(),
                voided: Tally::default(),
                expired: Tally::default(),
                approvals_expired: Tally::default(),
            });
        let tally = match kind {
            ChangeKind::Approval => &mut day.approvals,
            ChangeKind::ApprovalExpired => &mut day.approvals_expired,
            ChangeKind::OrderCreated => &mut day.orders_created,
            ChangeKind::Captured => &mut day.captured,
            ChangeKind::Refunded => &mut day.refunded,
            ChangeKind::Voided => &mut day.voided,
            ChangeKind::Expired => &mut day.expired,
        };
        tally.add(amount);
        items.push(ReconciliationItem {
            at: rfc3339_millis(row.at_ms),
            approval_id: row.approval_id.clone(),
            order_id: row.order_id.clone(),
            merchant_reference: row.merchant_reference.clone(),
            kind,
            amount,
            currency,
        });
    }
    Ok(Reconciliation {
        from: query.from.to_string(),
        to: query.to.to_string(),
        livemode,
        days: days.into_values().collect(),
        items,
    })
}

/// Whether the client asked for CSV (`Accept: text/csv`, with or without parameters, among
/// others); anything else gets JSON.
pub fn wants_csv(accept: Option<&str>) -> bool {
    accept.is_some_and(|accept| {
        accept.split(',').any(|part| {
            part.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("text/csv")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::tests::pairs;

    #[test]
    fn queries_are_strict() {
        let ok = ReconciliationQuery::parse(&pairs(&[("from", "2026-11-01"), ("to", "2026-11-30")])).unwrap();
        assert_eq!(
            (ok.from.to_string(), ok.to.to_string()),
            ("2026-11-01".into(), "2026-11-30".into())
        );
        type Query<'a> = &'a [(&'a str, &'a str)];
        let cases: [(Query, &str, &str); 7] = [
            (&[("to", "2026-11-30")], "missing_parameter", "from"),
            (&[("from", "2026-11-30")], "missing_parameter", "to"),
            (&[("from", "2026-11-31"), ("to", "2026-12-01")], "invalid_date", "from"),
            (&[("from", "2026-11-02"), ("to", "2026-11-01")], "invalid_range", "to"),
            (&[("from", "2026-01-01"), ("to", "2026-04-03")], "invalid_range", "to"),
            (
                &[("from", "2026-11-01"), ("to", "2026-11-02"), ("to", "2026-11-03")],
                "repeated_parameter",
                "to",
            ),
            (
                &[("from", "2026-11-01"), ("to", "2026-11-02"), ("currency", "USD")],
                "unknown_parameter",
                "currency",
            ),
        ];
        for (query, code, field) in cases {
            let error = ReconciliationQuery::parse(&pairs(query)).unwrap_err();
            assert_eq!(
                (error.code(), error.field().as_deref()),
                (code, Some(field)),
                "{query:?}"
            );
        }
        assert!(
            ReconciliationQuery::parse(&pairs(&[("from", "2026-01-01"), ("to", "2026-04-02")])).is_ok(),
            "92 days"
        );
    }

    fn row(kind: &str, day: &str, at_ms: i64, amount: i64, currency: &str) -> LedgerRow {
        LedgerRow {
            kind: kind.into(),
            day: day.into(),
            at_ms,
            approval_id: "a".into(),
            order_id: if kind == "approval" {
                String::new()
            } else {
                "ord_test_1".into()
            },
            merchant_reference: if kind == "approval" {
                String::new()
            } else {
                "R-1".into()
            },
            amount,
            currency: currency.into(),
        }
    }

    #[test]
    fn reports_sum_exactly_per_day_and_currency() {
        let query = ReconciliationQuery::parse(&pairs(&[("from", "2026-11-28"), ("to", "2026-11-29")])).unwrap();
        let rows = [
            row("approval", "2026-11-28", 1, 12_999, "USD"),
            row("order_created", "2026-11-28", 2, 12_999, "USD"),
            row("captured", "2026-11-28", 3, 5_000, "USD"),
            row("approval", "2026-11-28", 4, 50_000, "SEK"),
            row("captured", "2026-11-29", 5, 7_999, "USD"),
            row("refunded", "2026-11-29", 6, 2_000, "USD"),
            row("refunded", "2026-11-29", 7, 1, "USD"),
            row("voided", "2026-11-29", 8, 300, "USD"),
            row("expired", "2026-11-29", 9, 400, "USD"),
            row("approval_expired", "2026-11-29", 10, 999, "USD"),
        ];
        let report = report(&query, false, &rows).unwrap();
        let summary: Vec<(&str, &str, u64, u64, u64, u64)> = report
            .days
            .iter()
            .map(|d| {
                (
                    d.date.as_str(),
                    d.currency.code(),
                    d.approvals.amount,
                    d.captured.amount,
                    d.refunded.count,
                    d.refunded.amount,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("2026-11-28", "SEK", 50_000, 0, 0, 0),
                ("2026-11-28", "USD", 12_999, 5_000, 0, 0),
                ("2026-11-29", "USD", 0, 7_999, 2, 2_001),
            ]
        );
        let last = &report.days[2];
        assert_eq!(
            (last.voided, last.expired, last.approvals_expired),
            (
                Tally { count: 1, amount: 300 },
                Tally { count: 1, amount: 400 },
                Tally { count: 1, amount: 999 }
            )
        );
        assert_eq!(report.items.len(), rows.len());
        assert_eq!(report.items[0].at, "1970-01-01T00:00:00.001Z");
        let unreadable = [row("chargeback", "2026-11-29", 1, 1, "USD")];
        assert_eq!(report_error(&query, &unreadable), "internal_error");
        let negative = [row("captured", "2026-11-29", 1, -1, "USD")];
        assert_eq!(report_error(&query, &negative), "internal_error");
    }

    fn report_error(query: &ReconciliationQuery, rows: &[LedgerRow]) -> String {
        report(query, false, rows).unwrap_err().code().to_owned()
    }

    #[test]
    fn csv_is_chosen_by_accept() {
        assert!(wants_csv(Some("text/csv")));
        assert!(wants_csv(Some("application/json;q=0.5, TEXT/CSV; charset=utf-8")));
        assert!(!wants_csv(Some("application/json")));
        assert!(!wants_csv(Some("text/csvx")));
        assert!(!wants_csv(None));
    }
}
