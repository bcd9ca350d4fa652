//! The merchant server API's wire types (CONTRACT §5): an order made from an approval, its
//! history, and the reconciliation report. The edge answers with them; a merchant's server (the
//! example in `examples/merchant-server`) reads them.

use serde::{Deserialize, Serialize};

use crate::currency::Currency;
use crate::plan::Installment;

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Authorized,
    PartiallyCaptured,
    Captured,
    PartiallyRefunded,
    Refunded,
    Voided,
    Expired,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Authorized => "authorized",
            Self::PartiallyCaptured => "partially_captured",
            Self::Captured => "captured",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
            Self::Voided => "voided",
            Self::Expired => "expired",
        }
    }
}

/// One change in an order's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// The shopper was approved (reconciliation only: an approval is not an order yet).
    Approval,
    /// An approval that became no order before its token expired; its hold was released.
    ApprovalExpired,
    OrderCreated,
    Captured,
    Refunded,
    Voided,
    /// Not captured by `capture_before`: the uncaptured rest was released.
    Expired,
}

impl ChangeKind {
    pub const ALL: [Self; 7] = [
        Self::Approval,
        Self::ApprovalExpired,
        Self::OrderCreated,
        Self::Captured,
        Self::Refunded,
        Self::Voided,
        Self::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approval => "approval",
            Self::ApprovalExpired => "approval_expired",
            Self::OrderCreated => "order_created",
            Self::Captured => "captured",
            Self::Refunded => "refunded",
            Self::Voided => "voided",
            Self::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// `event.name` of the log record of this change (CONTRACT §5).
    pub fn event_name(self) -> &'static str {
        match self {
            Self::Approval => crate::approval::DECISION_EVENT_NAME,
            Self::ApprovalExpired => "approval_expired",
            Self::OrderCreated => "order_created",
            Self::Captured => "order_captured",
            Self::Refunded => "order_refunded",
            Self::Voided => "order_voided",
            Self::Expired => "order_expired",
        }
    }
}

/// One entry of an order's `history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// RFC 3339, UTC.
    pub at: String,
    pub kind: ChangeKind,
    /// Minor units the change moved.
    pub amount: u64,
    /// A refund's reason, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An order (CONTRACT §5), amounts in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub order_id: String,
    pub approval_id: String,
    pub merchant_reference: String,
    pub status: OrderStatus,
    pub livemode: bool,
    pub amount: u64,
    pub currency: Currency,
    pub plan_id: String,
    pub schedule: Vec<Installment>,
    pub captured: u64,
    pub refunded: u64,
    /// RFC 3339: the uncaptured rest expires then.
    pub capture_before: String,
    pub created_at: String,
    pub history: Vec<HistoryEntry>,
}

/// A count and an exact sum in minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub count: u64,
    pub amount: u64,
}

impl Tally {
    pub fn add(&mut self, amount: u64) {
        self.count += 1;
        self.amount = self.amount.saturating_add(amount);
    }
}

/// One day and currency of the reconciliation report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconciliationDay {
    /// `YYYY-MM-DD`, the UTC date of the changes.
    pub date: String,
    pub currency: Currency,
    pub approvals: Tally,
    pub orders_created: Tally,
    pub captured: Tally,
    pub refunded: Tally,
    pub voided: Tally,
    /// Orders whose uncaptured rest expired (`order_expired`).
    pub expired: Tally,
    /// Approvals released with no order (`approval_expired`).
    pub approvals_expired: Tally,
}

/// One line item of the reconciliation report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconciliationItem {
    /// RFC 3339, UTC, millisecond precision.
    pub at: String,
    pub approval_id: String,
    /// Empty for approvals that have no order.
    pub order_id: String,
    pub merchant_reference: String,
    pub kind: ChangeKind,
    pub amount: u64,
    pub currency: Currency,
}

/// The body of `GET /v1/reconciliation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciliation {
    pub from: String,
    pub to: String,
    pub livemode: bool,
    pub days: Vec<ReconciliationDay>,
    pub items: Vec<ReconciliationItem>,
}

/// The header row of the reconciliation CSV.
pub const RECONCILIATION_CSV_HEADER: &str = "at,kind,amount,currency,order_id,approval_id,merchant_reference";

impl Reconciliation {
    /// One row per item after a header row (RFC 4180: CRLF, fields quoted when they hold a comma,
    /// quote or line break). Amounts stay minor units, so no tool has to parse decimals.
    pub fn to_csv(&self) -> String {
        let mut csv = String::with_capacity(64 * (self.items.len() + 1));
        csv.push_str(RECONCILIATION_CSV_HEADER);
        csv.push_str("\r\n");
        for item in &self.items {
            let fields = [
                item.at.as_str(),
                item.kind.as_str(),
                &item.amount.to_string(),
                item.currency.code(),
                &item.order_id,
                &item.approval_id,
                &item.merchant_reference,
            ];
            let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            csv.push_str(&row.join(","));
            csv.push_str("\r\n");
        }
        csv
    }
}

/// A CSV field: quoted when needed; a leading `=`, `+`, `-` or `@` is prefixed with `'` so a
/// spreadsheet never runs it as a formula.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_name_their_events() {
        for kind in ChangeKind::ALL {
            assert_eq!(ChangeKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), serde_json::json!(kind.as_str()));
        }
        assert_eq!(ChangeKind::parse("captures"), None);
        assert_eq!(ChangeKind::Captured.event_name(), "order_captured");
        assert_eq!(ChangeKind::Approval.event_name(), "approval_decision");
        assert_eq!(ChangeKind::ApprovalExpired.event_name(), "approval_expired");
    }

    #[test]
    fn csv_quotes_what_needs_quoting_and_defuses_formulas() {
        let item = |reference: &str| ReconciliationItem {
            at: "2026-11-29T10:00:00.000Z".into(),
            approval_id: "a1".into(),
            order_id: "ord_test_1".into(),
            merchant_reference: reference.into(),
            kind: ChangeKind::Captured,
            amount: 1250,
            currency: Currency::parse("USD").unwrap(),
        };
        let report = Reconciliation {
            from: "2026-11-29".into(),
            to: "2026-11-29".into(),
            livemode: false,
            days: Vec::new(),
            items: vec![item("A-1"), item("a,\"b\""), item("=SUM(A1)")],
        };
        assert_eq!(
            report.to_csv(),
            "at,kind,amount,currency,order_id,approval_id,merchant_reference\r\n\
             2026-11-29T10:00:00.000Z,captured,1250,USD,ord_test_1,a1,A-1\r\n\
             2026-11-29T10:00:00.000Z,captured,1250,USD,ord_test_1,a1,\"a,\"\"b\"\"\"\r\n\
             2026-11-29T10:00:00.000Z,captured,1250,USD,ord_test_1,a1,'=SUM(A1)\r\n"
        );
    }
}
