//! What instant approval leaves behind: the decision's log event as it crosses the queue (no
//! personal data: a keyed hash of the e-mail, reason codes and a score band), and the attempt
//! counts kept per client IP.

use serde::{Deserialize, Serialize};

use crate::decision::{Outcome, ReasonCode, ScoreBand, record_in_window};
use crate::ingest::{RequestFacts, SessionFacts};
use crate::plan::Installment;

/// `event.name` of a decision's log record.
pub const DECISION_EVENT_NAME: &str = "approval_decision";

/// One reason as the shopper sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonText {
    pub code: String,
    pub message: String,
}

/// The 200 body of `POST /v1/approvals` (CONTRACT §3), also what the checkout page hands the
/// widget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalAnswer {
    pub approval_id: String,
    pub decision: Outcome,
    pub reasons: Vec<ReasonText>,
    pub plan_id: String,
    pub schedule: Vec<Installment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_token: Option<String>,
    pub expires_at: String,
    /// For declined and review answers: how to ask a person to look at the decision (GDPR
    /// Art. 22).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub human_review: Option<String>,
}

/// A message from the checkout page (`/v1/checkout`, framed by the widget) to the widget, sent
/// with `postMessage` to the session's exact origin. `kind` is `ready`, `resize`, `submitting`,
/// `decision` or `cancel`; the widget ignores anything else.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CheckoutMessage {
    /// Always `paylater-checkout`: tells our messages from other frames' on the same origin.
    pub source: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// `decision`: the `POST /v1/approvals` answer as the page received it.
    #[serde(default)]
    pub answer: Option<ApprovalAnswer>,
    /// `resize`: the page's height in CSS pixels.
    #[serde(default)]
    pub height: Option<u32>,
}

/// `CheckoutMessage::source` of our checkout page.
pub const CHECKOUT_MESSAGE_SOURCE: &str = "paylater-checkout";

/// One approval decision, as the queue carries it to the consumer (JSON text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueuedDecision {
    pub approval_id: String,
    pub session: SessionFacts,
    pub request: RequestFacts,
    /// [`crate::log_record::customer_id_hash`] of the e-mail: joins a customer's decisions
    /// without naming them.
    pub customer_id_hash: String,
    pub plan_id: String,
    pub outcome: Outcome,
    pub reasons: Vec<ReasonCode>,
    pub score_band: ScoreBand,
    /// Whether an upstream decision service was asked, and how that went: `answered`, `failed`.
    pub upstream: Option<String>,
}

/// Attempt times in a sliding window, newest last, at most `cap` kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptLog {
    attempts_ms: Vec<i64>,
}

impl AttemptLog {
    /// Records an attempt at `now_ms` and returns how many came before it within `window_ms`.
    pub fn record(&mut self, now_ms: i64, window_ms: i64, cap: usize) -> u32 {
        record_in_window(&mut self.attempts_ms, now_ms, window_ms, cap)
    }

    /// Records an attempt unless `limit` attempts are already within `window_ms`: then it is
    /// refused, not recorded, with the seconds until enough of them have left the window.
    /// Otherwise returns how many came before it. `limit` is at most `cap`.
    pub fn admit(&mut self, now_ms: i64, window_ms: i64, cap: usize, limit: u32) -> Result<u32, u32> {
        let since = now_ms.saturating_sub(window_ms);
        self.attempts_ms.retain(|t| *t > since);
        let limit = usize::try_from(limit).unwrap_or(usize::MAX).min(cap);
        if self.attempts_ms.len() >= limit {
            // The window frees a place when the oldest attempt beyond `limit - 1` leaves it.
            let frees_at = self.attempts_ms[self.attempts_ms.len() - limit].saturating_add(window_ms);
            let wait_ms = frees_at.saturating_sub(now_ms).max(1);
            return Err(u32::try_from((wait_ms + 999) / 1000).unwrap_or(u32::MAX));
        }
        Ok(self.record(now_ms, window_ms, cap))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkout_messages_parse_with_and_without_an_answer() {
        let decision = r#"{"source":"paylater-checkout","type":"decision","answer":{"approval_id":"ap_1","decision":"declined","reasons":[{"code":"under_age","message":"You must be 18"}],"plan_id":"pay_in_4","schedule":[{"n":1,"due_date":"2026-11-23","amount":3252}],"expires_at":"2026-11-23T10:15:00Z","human_review":"Ask us"}}"#;
        let message: CheckoutMessage = serde_json::from_str(decision).unwrap();
        assert_eq!(
            (message.source.as_str(), message.kind.as_str()),
            (CHECKOUT_MESSAGE_SOURCE, "decision")
        );
        let answer = message.answer.unwrap();
        assert_eq!(
            (answer.decision, answer.reasons[0].code.as_str()),
            (Outcome::Declined, "under_age")
        );
        assert_eq!((answer.schedule[0].amount.0, answer.approval_token), (3252, None));

        let resize: CheckoutMessage =
            serde_json::from_str(r#"{"source":"paylater-checkout","type":"resize","height":412}"#).unwrap();
        assert_eq!(
            (resize.kind.as_str(), resize.height, resize.answer),
            ("resize", Some(412), None)
        );
        for bad in [
            r#"{"type":"ready"}"#,
            r#"{"source":"x","type":"resize","height":-1}"#,
            "[]",
            "null",
        ] {
            assert!(serde_json::from_str::<CheckoutMessage>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn attempts_count_only_within_the_window_and_stay_bounded() {
        let mut log = AttemptLog::default();
        let hour = 3_600_000;
        assert_eq!(log.record(1_000, hour, 3), 0);
        assert_eq!(log.record(2_000, hour, 3), 1);
        assert_eq!(log.record(3_000, hour, 3), 2);
        assert_eq!(log.record(4_000, hour, 3), 3);
        // The cap keeps the newest three.
        assert_eq!(log.attempts_ms, vec![2_000, 3_000, 4_000]);
        // An hour after the second attempt it has left the window.
        assert_eq!(log.record(2_000 + hour, hour, 3), 2);
    }

    #[test]
    fn attempts_over_the_limit_are_refused_unrecorded_with_the_wait() {
        let mut log = AttemptLog::default();
        let hour = 3_600_000;
        assert_eq!(log.admit(0, hour, 100, 2), Ok(0));
        assert_eq!(log.admit(600_000, hour, 100, 2), Ok(1));
        // Full: the first attempt leaves the window at one hour, 50 minutes from now.
        assert_eq!(log.admit(600_000, hour, 100, 2), Err(3_000));
        assert_eq!(log.admit(hour - 1, hour, 100, 2), Err(1));
        assert_eq!(log.attempts_ms, vec![0, 600_000], "refusals are not recorded");
        assert_eq!(log.admit(hour, hour, 100, 2), Ok(1));
        // A limit above the cap is the cap.
        let mut capped = AttemptLog::default();
        assert_eq!(capped.admit(0, hour, 1, 5), Ok(0));
        assert_eq!(capped.admit(1, hour, 1, 5), Err(3_600));
    }
}
