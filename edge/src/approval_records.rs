//! What instant approval leaves behind: the decision's log event as it crosses the queue (no
//! personal data: a keyed hash of the e-mail, reason codes and a score band), and the attempt
//! counts kept per client IP.

use paylater_shared::approval::Outcome;
use serde::{Deserialize, Serialize};

use crate::decision::{ReasonCode, ScoreBand, record_in_window};
use crate::ingest::{RequestFacts, SessionFacts};

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
    /// From the session's `approval_started` to this approval, on the edge's clock; `None` when
    /// the session recorded no `approval_started` (an approval made without the widget's form).
    #[serde(default)]
    pub form_fill_ms: Option<i64>,
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
