//! `GET /v1/insights/funnel` (CONTRACT §5): a merchant's funnel over a range of UTC days, exact
//! and unsampled; `GET /v1/insights/anomalies`: the windows judged anomalous. The edge answers
//! with them; the dashboard and merchants' servers read them.

use serde::{Deserialize, Serialize};

use crate::currency::Currency;

/// The funnel's steps in order: the widget's own (from its telemetry), then the edge's
/// decisions and the merchant server's orders. A session counts once per step.
pub const FUNNEL_STEPS: [&str; 8] = [
    "widget_loaded",
    "widget_viewed",
    "terms_opened",
    "plan_selected",
    "approval_started",
    "approval_submitted",
    "approved",
    "order_created",
];

/// How the range is split into periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Day,
    Hour,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Funnel {
    /// First and last UTC day, inclusive.
    pub from: String,
    pub to: String,
    pub granularity: Granularity,
    pub livemode: bool,
    /// The whole range, step by step.
    pub steps: Vec<FunnelStep>,
    /// Each day or hour with any activity, in order: sessions per step ([`FUNNEL_STEPS`] order).
    pub periods: Vec<FunnelPeriod>,
    pub decisions: Decisions,
    /// Decline and review reasons, most frequent first.
    pub reasons: Vec<ReasonCount>,
    /// Plans chosen (`plan_selected`), most chosen first.
    pub plans: Vec<PlanShare>,
    /// Orders created, per currency.
    pub order_value: Vec<OrderValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunnelStep {
    pub step: String,
    pub sessions: u64,
    /// Of the previous step's sessions, the share that reached this one (none for the first
    /// step, or after a step no session reached). Rounded to 4 decimals.
    pub from_previous: Option<f64>,
    /// Of the first step's sessions.
    pub from_first: Option<f64>,
    /// Sessions of the previous step that did not reach this one (0 for the first).
    pub drop_off: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunnelPeriod {
    /// `YYYY-MM-DD`, or `YYYY-MM-DDTHH` for hours (UTC).
    pub period: String,
    pub sessions: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decisions {
    pub approved: u64,
    pub declined: u64,
    pub review: u64,
    /// Approved of all decisions, 4 decimals; none without decisions.
    pub approval_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonCount {
    /// `declined` or `review`.
    pub outcome: String,
    pub code: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanShare {
    pub plan_id: String,
    pub selections: u64,
    /// Of all selections, 4 decimals.
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderValue {
    pub currency: Currency,
    pub orders: u64,
    /// Minor units.
    pub amount: u64,
    /// `amount / orders`, rounded half up to a minor unit.
    pub average: u64,
}

/// `part / whole` rounded to 4 decimals; none when `whole` is 0.
pub fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0)
}

/// `GET /v1/insights/anomalies`: the windows anomaly detection judged anomalous, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyList {
    /// The UTC days asked for (`YYYY-MM-DD`, inclusive).
    pub from: String,
    pub to: String,
    pub livemode: bool,
    pub anomalies: Vec<AnomalyEntry>,
}

/// One anomalous window of one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnomalyEntry {
    /// `decline_rate`, `review_rate`, `widget_error_rate`, `refused_tokens`, `rate_limited`,
    /// `velocity_flags`, `token_reused`, `automated_agent` or `attempts_per_customer`.
    pub metric: String,
    /// The window, RFC 3339 UTC.
    pub window_start: String,
    pub window_end: String,
    /// What the baseline expected: a rate (0 to 1) or a count per window.
    pub expected: f64,
    pub observed: f64,
    /// Standard deviations above `expected`.
    pub score: f64,
    /// Trials behind a rate (decisions, widget loads); the count itself for a count.
    pub volume: u64,
}
