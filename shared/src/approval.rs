//! Instant approval as the widget sees it: the outcome, the `POST /v1/approvals` answer and the
//! checkout page's messages. How the edge decides and what it records is the edge's
//! (`paylater_edge::decision`, `paylater_edge::approval_records`).

use serde::{Deserialize, Serialize};

use crate::plan::Installment;

/// `event.name` of a decision's log record.
pub const DECISION_EVENT_NAME: &str = "approval_decision";

/// What the shopper is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Approved,
    Declined,
    Review,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Declined => "declined",
            Self::Review => "review",
        }
    }
}

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
}
