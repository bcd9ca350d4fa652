//! A customer's ledger, as their `CustomerLedger` Durable Object keeps it: the decisions'
//! history (exposure, attempts), the approvals that may still become orders, and when the
//! object must wake up (an approval token expiring, the record's retention running out). Pure;
//! `objects` keeps it in storage and runs one message at a time.

use paylater_shared::Currency;
use serde::{Deserialize, Serialize};

use crate::approvals::{DecideRequest, Decided};
use crate::decision::{CustomerHistory, DAY_MS, MAX_ATTEMPTS};
use crate::orders::QueuedChange;

/// How long a decision is remembered for retries of its reference.
pub const DECISION_MEMORY_MS: i64 = DAY_MS;

/// The client network an approval attempt counts against: IPv4 /24, IPv6 /64 (one household's
/// or one office's addresses). Attempts from one network never lock a customer out of another.
pub fn attempt_network(client_ip: Option<&str>) -> String {
    match client_ip.map(str::parse::<std::net::IpAddr>) {
        Some(Ok(std::net::IpAddr::V4(v4))) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        Some(Ok(std::net::IpAddr::V6(v6))) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => "unknown".to_owned(),
    }
}

/// A customer's ledger object in one mode: `{test|live}:{keyed hash of the e-mail}`.
pub fn ledger_name(livemode: bool, customer_id_hash: &str) -> String {
    format!("{}:{customer_id_hash}", crate::secret_keys::mode_name(livemode))
}

/// What the other objects and the worker ask of a customer's ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerRequest {
    Decide(Box<DecideRequest>),
    /// An order is being made from this approval: keep its hold past the token's expiry.
    Attach {
        approval_id: String,
        now_ms: i64,
    },
    /// The approval's order now holds at most this much.
    Hold {
        approval_id: String,
        held: u64,
    },
    /// Support: what the customer's holds are (admin route).
    Holds,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachAnswer {
    Attached,
    /// Released already (the token expired first): the shopper must be approved again.
    Expired,
}

/// An approval that is not an order yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingApproval {
    pub approval_id: String,
    pub merchant_id: String,
    pub livemode: bool,
    pub session_id: String,
    pub plan_id: String,
    pub amount: u64,
    pub currency: Currency,
    pub token_expires_at_ms: i64,
}

impl PendingApproval {
    /// The approval an order book registered.
    pub fn of(registration: &crate::orders::Registration) -> Self {
        Self {
            approval_id: registration.approval_id.clone(),
            merchant_id: registration.merchant_id.clone(),
            livemode: registration.livemode,
            session_id: registration.session_id.clone(),
            plan_id: registration.plan_id.clone(),
            amount: registration.amount,
            currency: registration.currency,
            token_expires_at_ms: registration.token_expires_at_ms,
        }
    }

    /// The record of its release.
    pub fn expiry_record(&self) -> QueuedChange {
        QueuedChange {
            change_id: format!("{}:approval_expired:0", self.approval_id),
            kind: paylater_shared::order::ChangeKind::ApprovalExpired,
            merchant_id: self.merchant_id.clone(),
            livemode: self.livemode,
            session_id: self.session_id.clone(),
            approval_id: self.approval_id.clone(),
            order_id: String::new(),
            merchant_reference: String::new(),
            amount: self.amount,
            currency: self.currency,
            order_amount: self.amount,
            plan_id: self.plan_id.clone(),
            at_ms: self.token_expires_at_ms,
        }
    }
}

/// The customer's record, kept as one value.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomerRecord {
    pub history: CustomerHistory,
    /// `(reference, answer, decided at ms)` of the last day, so a retried reference gets its
    /// first decision instead of a second one.
    pub decided: Vec<(String, Decided, i64)>,
    pub pending: Vec<PendingApproval>,
    /// `(epoch ms, client network)` of the last day's attempts, at most [`MAX_ATTEMPTS`].
    pub attempts: Vec<(i64, String)>,
    /// The last decision or order change, epoch ms: retention counts from it.
    pub last_activity_ms: i64,
    pub retention_days: u32,
}

/// What a holds lookup shows support staff: amounts and ids, no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldView {
    pub approval_id: String,
    pub currency: Currency,
    pub amount: u64,
    pub held: u64,
    pub pending_order: bool,
}

impl CustomerRecord {
    /// The history a decision from `network` sees: every approval, and the attempts made from
    /// that network in the last day.
    pub fn history_from(&self, network: &str, now_ms: i64) -> CustomerHistory {
        let since = now_ms.saturating_sub(DAY_MS);
        CustomerHistory {
            approvals: self.history.approvals.clone(),
            attempts_ms: self
                .attempts
                .iter()
                .filter(|(at, from)| *at > since && from == network)
                .map(|(at, _)| *at)
                .collect(),
        }
    }

    /// Records an attempt from `network`, forgetting those a day old and keeping the newest
    /// [`MAX_ATTEMPTS`].
    pub fn record_attempt(&mut self, network: &str, now_ms: i64) {
        let since = now_ms.saturating_sub(DAY_MS);
        self.attempts.retain(|(at, _)| *at > since);
        self.attempts.push((now_ms, network.to_owned()));
        self.attempts.sort_by_key(|(at, _)| *at);
        let excess = self.attempts.len().saturating_sub(MAX_ATTEMPTS);
        self.attempts.drain(..excess);
    }

    /// Forgets decisions older than a day (their references can no longer be retried).
    pub fn prune_decisions(&mut self, now_ms: i64) {
        self.decided
            .retain(|(_, _, at)| now_ms.saturating_sub(*at) < DECISION_MEMORY_MS);
    }

    /// An approval that may still become an order.
    pub fn add_pending(&mut self, pending: PendingApproval) {
        if !self.pending.iter().any(|p| p.approval_id == pending.approval_id) {
            self.pending.push(pending);
        }
    }

    /// An order is being made: the approval stays held if its token has not expired. Asking
    /// again for an approval already attached answers the same (a retried order creation).
    pub fn attach(&mut self, approval_id: &str, now_ms: i64) -> AttachAnswer {
        if let Some(index) = self.pending.iter().position(|p| p.approval_id == approval_id) {
            // A late request may arrive after the order book released the hold: no order then.
            let still_held = self.history.approval(approval_id).is_some_and(|a| a.held() > 0);
            if now_ms >= self.pending[index].token_expires_at_ms || !still_held {
                return AttachAnswer::Expired;
            }
            self.pending.remove(index);
            self.last_activity_ms = self.last_activity_ms.max(now_ms);
            return AttachAnswer::Attached;
        }
        match self.history.approval(approval_id) {
            Some(approval) if approval.held() > 0 => AttachAnswer::Attached,
            _ => AttachAnswer::Expired,
        }
    }

    /// Releases every pending approval whose token has expired by `now_ms`, returning them (for
    /// their records).
    pub fn release_expired(&mut self, now_ms: i64) -> Vec<PendingApproval> {
        let (expired, pending): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|p| p.token_expires_at_ms <= now_ms);
        self.pending = pending;
        for approval in &expired {
            self.history.limit_hold(&approval.approval_id, 0);
        }
        expired
    }

    /// When the record may be removed: nothing pending, nothing held, and idle for the
    /// retention period.
    pub fn removable_at(&self, now_ms: i64) -> Option<i64> {
        if !self.pending.is_empty() || self.history.has_open_holds(now_ms) {
            return None;
        }
        let retention_ms = i64::from(self.retention_days.max(1)).saturating_mul(DAY_MS);
        Some(self.last_activity_ms.saturating_add(retention_ms))
    }

    /// When the object must wake next: the first pending token expiry; else, while something is
    /// held, when the next hold settles; else when retention runs out.
    pub fn next_alarm_ms(&self, now_ms: i64) -> i64 {
        let next = match self.pending.iter().map(|p| p.token_expires_at_ms).min() {
            Some(first_expiry) => first_expiry,
            None => match self.removable_at(now_ms) {
                Some(removable) => removable,
                None => self
                    .history
                    .approvals
                    .iter()
                    .filter(|a| a.held() > 0 && a.settles_at_ms > now_ms)
                    .map(|a| a.settles_at_ms)
                    .min()
                    .unwrap_or(now_ms + DAY_MS),
            },
        };
        next.max(now_ms + 1)
    }

    pub fn holds(&self) -> Vec<HoldView> {
        self.history
            .approvals
            .iter()
            .map(|a| HoldView {
                approval_id: a.approval_id.clone(),
                currency: a.currency,
                amount: a.amount.get(),
                held: a.held(),
                pending_order: self.pending.iter().any(|p| p.approval_id == a.approval_id),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::PastApproval;
    use paylater_shared::MinorUnits;

    const NOW: i64 = 1_795_420_800_000;
    const TTL: i64 = 900_000;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    fn approved(record: &mut CustomerRecord, id: &str, amount: u64) {
        record.history.record_approval(
            PastApproval {
                approval_id: id.into(),
                amount: MinorUnits(amount),
                currency: usd(),
                approved_at_ms: NOW,
                settles_at_ms: NOW + 42 * DAY_MS,
                released: 0,
            },
            NOW,
        );
        record.add_pending(PendingApproval {
            approval_id: id.into(),
            merchant_id: "m_demo".into(),
            livemode: false,
            session_id: "s".into(),
            plan_id: "pay_in_4".into(),
            amount,
            currency: usd(),
            token_expires_at_ms: NOW + TTL,
        });
        record.last_activity_ms = NOW;
    }

    #[test]
    fn an_approval_without_an_order_is_released_when_its_token_expires() {
        let mut record = CustomerRecord {
            retention_days: 400,
            ..CustomerRecord::default()
        };
        approved(&mut record, "a1", 12_999);
        approved(&mut record, "a2", 5_000);
        assert_eq!(record.next_alarm_ms(NOW), NOW + TTL);
        assert_eq!(record.attach("a2", NOW + TTL - 1), AttachAnswer::Attached);
        assert_eq!(record.attach("a2", NOW + TTL + 5), AttachAnswer::Attached, "a retry");
        assert_eq!(record.release_expired(NOW + TTL - 1), Vec::new());
        let released = record.release_expired(NOW + TTL);
        assert_eq!(released.len(), 1);
        assert_eq!(released[0].expiry_record().change_id, "a1:approval_expired:0");
        assert_eq!(record.history.open_exposure(usd(), NOW + TTL), 5_000);
        assert_eq!(record.attach("a1", NOW + TTL), AttachAnswer::Expired);
        assert_eq!(record.attach("unknown", NOW), AttachAnswer::Expired);
        // The order's hold keeps the record: it wakes when the plan settles.
        assert_eq!(record.removable_at(NOW + TTL), None);
        assert_eq!(record.next_alarm_ms(NOW + TTL), NOW + 42 * DAY_MS);
        record.history.limit_hold("a2", 0);
        // Retention counts from the last activity: the order's attachment.
        let idle_until = NOW + TTL - 1 + 400 * DAY_MS;
        assert_eq!(record.removable_at(NOW + TTL), Some(idle_until));
        assert_eq!(record.next_alarm_ms(NOW + TTL), idle_until);
    }

    #[test]
    fn attempts_count_per_client_network() {
        let mut record = CustomerRecord::default();
        for i in 0..6 {
            record.record_attempt("203.0.113.0/24", NOW + i);
        }
        record.record_attempt("2001:db8:1:2::/64", NOW + 10);
        assert_eq!(record.history_from("203.0.113.0/24", NOW + 20).attempts_ms.len(), 6);
        assert_eq!(
            record.history_from("198.51.100.0/24", NOW + 20).attempts_ms,
            Vec::<i64>::new()
        );
        assert_eq!(
            record.history_from("2001:db8:1:2::/64", NOW + 20).attempts_ms,
            vec![NOW + 10]
        );
        // A day later they are forgotten.
        assert_eq!(
            record
                .history_from("203.0.113.0/24", NOW + DAY_MS + 5)
                .attempts_ms
                .len(),
            0
        );
        for i in 0..(MAX_ATTEMPTS as i64 + 5) {
            record.record_attempt("198.51.100.0/24", NOW + 100 + i);
        }
        assert_eq!(record.attempts.len(), MAX_ATTEMPTS);
        assert_eq!(
            record.history_from("2001:db8:1:2::/64", NOW + 20).attempts_ms.len(),
            0,
            "the oldest went first"
        );
    }

    #[test]
    fn networks_are_a_24_or_a_64() {
        let cases = [
            (Some("203.0.113.77"), "203.0.113.0/24"),
            (Some("2001:db8:aa:bb:1:2:3:4"), "2001:db8:aa:bb::/64"),
            (Some("::1"), "0:0:0:0::/64"),
            (Some("not an address"), "unknown"),
            (None, "unknown"),
        ];
        for (ip, network) in cases {
            assert_eq!(attempt_network(ip), network, "{ip:?}");
        }
    }

    #[test]
    fn a_token_expiring_exactly_now_cannot_be_attached() {
        let mut record = CustomerRecord::default();
        approved(&mut record, "a1", 100);
        assert_eq!(record.attach("a1", NOW + TTL), AttachAnswer::Expired);
        assert_eq!(record.pending.len(), 1, "left for the alarm to release and log");
    }
}
