//! The audit trail's plumbing (docs/audit.md): the D1 index of archive objects (each in the
//! period it was first stored in) and each merchant and mode's digest chain, which periods a
//! cron run seals, where digests are stored, and the audit routes' queries and answers. Pure;
//! `audit_seal` (the cron), `consumer` and `entry` do the I/O. The digest format itself is
//! `paylater_shared::audit`.

use std::ops::RangeInclusive;

use paylater_shared::CivilDate;
use serde::Serialize;

use crate::error::EdgeError;
use crate::forward::mode_name;

/// A digest a period; an hour unless `DIGEST_PERIOD_SECONDS` says otherwise.
pub const DEFAULT_PERIOD_SECONDS: i64 = 3_600;
/// How long after a period ends its digest waits (clocks of the worker and D1 differ a little).
pub const DEFAULT_SETTLE_SECONDS: i64 = 60;
/// The most digests one cron run writes per chain: a chain behind by more catches up over runs.
pub const MAX_SEALS_PER_RUN: i64 = 48;
/// The most digests one cron run writes in all (three subrequests each), whatever the number of
/// chains, so the run stays inside a Worker's subrequest budget; the furthest behind go first.
pub const MAX_SEALS_PER_RUN_TOTAL: usize = 200;
/// The most keys one audit listing answers with; a busier range is asked for in parts.
pub const MAX_LISTED: usize = 5_000;

/// Numbers arrive from JavaScript as floats: every one a division sees is cast, or SQLite would
/// divide as REAL and a period would be a fraction.
///
/// Inserts an archive object into the index once, in the period the database is in now (of the
/// chain's own period length once the chain exists), and never into one already sealed (a
/// clock behind the cron's puts it in the next): a record stored again keeps its first row.
pub const INDEX_OBJECT: &str = "INSERT OR IGNORE INTO audit_objects (key, merchant_id, mode, period, size, sha256) \
    VALUES (?1, ?2, ?3, MAX(CAST(strftime('%s', 'now') AS INTEGER) / COALESCE((SELECT period_seconds FROM audit_chains \
    WHERE merchant_id = ?2 AND mode = ?3), CAST(?4 AS INTEGER)), COALESCE((SELECT sealed_through + 1 FROM audit_chains \
    WHERE merchant_id = ?2 AND mode = ?3), 0)), ?5, ?6)";
/// Starts a merchant and mode's chain with its first object: sealed through the period before.
pub const START_CHAIN: &str = "INSERT OR IGNORE INTO audit_chains (merchant_id, mode, period_seconds, sealed_through) \
    VALUES (?1, ?2, CAST(?3 AS INTEGER), CAST(strftime('%s', 'now') AS INTEGER) / CAST(?3 AS INTEGER) - 1)";
/// Every chain, the furthest behind first, with the database's clock: the same clock the index
/// dates objects by decides which periods have ended.
pub const CHAINS: &str = "SELECT merchant_id, mode, period_seconds, sealed_through, last_key, last_sha256, \
    CAST(strftime('%s', 'now') AS INTEGER) AS now_s FROM audit_chains ORDER BY sealed_through";
pub const PERIOD_OBJECTS: &str =
    "SELECT key, size, sha256 FROM audit_objects WHERE merchant_id = ?1 AND mode = ?2 AND period = ?3 ORDER BY key";
/// Moves a chain on by one period, only from the period before (two cron runs at once write
/// the same digest, and one of them moves the chain).
pub const ADVANCE_CHAIN: &str = "UPDATE audit_chains SET sealed_through = ?3, last_key = ?4, last_sha256 = ?5 \
    WHERE merchant_id = ?1 AND mode = ?2 AND sealed_through = ?3 - 1";

/// A chain as `CHAINS` reads it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Chain {
    pub merchant_id: String,
    pub mode: String,
    pub period_seconds: i64,
    pub sealed_through: i64,
    pub last_key: Option<String>,
    pub last_sha256: Option<String>,
    /// The database's clock when the chains were read, Unix seconds.
    pub now_s: i64,
}

impl Chain {
    /// The periods a run at `now_s` seals: every one that ended at least `settle_s` ago and has
    /// no digest yet, at most [`MAX_SEALS_PER_RUN`].
    pub fn periods_to_seal(&self, now_s: i64, settle_s: i64) -> RangeInclusive<i64> {
        let period = self.period_seconds.max(1);
        let last_complete = (now_s - settle_s.max(0)).div_euclid(period) - 1;
        let first = self.sealed_through + 1;
        first..=last_complete.min(self.sealed_through + MAX_SEALS_PER_RUN)
    }
}

/// The digest timing vars; a value out of range is named and its default used.
pub fn timing_from_vars(period: Option<&str>, settle: Option<&str>) -> ((i64, i64), Vec<String>) {
    let mut problems = Vec::new();
    let mut read = |name: &str, value: Option<&str>, default: i64, range: RangeInclusive<i64>| match value {
        None => default,
        Some(text) => match text.trim().parse::<i64>() {
            Ok(n) if range.contains(&n) => n,
            _ => {
                problems.push(format!(
                    "{name}={text:?} is not whole seconds in {}..={}; using {default}",
                    range.start(),
                    range.end()
                ));
                default
            }
        },
    };
    let period = read("DIGEST_PERIOD_SECONDS", period, DEFAULT_PERIOD_SECONDS, 1..=86_400);
    let settle = read("DIGEST_SETTLE_SECONDS", settle, DEFAULT_SETTLE_SECONDS, 0..=3_600);
    ((period, settle), problems)
}

pub use paylater_shared::audit::{digest_day_prefix, digest_key};

/// Whether `key` is an archive object or a digest of this merchant and mode: the only objects
/// `GET /v1/audit/objects/{key}` serves a key of theirs.
pub fn key_is_theirs(key: &str, merchant_id: &str, livemode: bool) -> bool {
    let mode = mode_name(livemode);
    let safe = !key.contains("..") && !key.contains("//") && key.bytes().all(|b| b.is_ascii_graphic());
    let archive = key
        .strip_prefix(&format!("logs/v1/{merchant_id}/"))
        .and_then(|rest| rest.rsplit_once('/'))
        .is_some_and(|(date, name)| date.len() == 10 && name.starts_with(&format!("{mode}-")));
    let digest = key.starts_with(&format!("audit/v1/{merchant_id}/{mode}/"));
    safe && (archive || digest)
}

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD[&after=KEY]` of the audit listings: UTC days, both inclusive;
/// `after`, the `next_after` of the page before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    pub from: CivilDate,
    pub to: CivilDate,
    pub after: Option<String>,
}

impl AuditQuery {
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, EdgeError> {
        let (from, to, after) = crate::logs::parse_paged_days(
            pairs,
            "the audit trail is listed at most 31 days a request; ask for longer periods in parts",
            |_| true,
            "the next_after of the page before",
        )?;
        Ok(Self { from, to, after })
    }

    pub fn days(&self) -> impl Iterator<Item = CivilDate> {
        (self.from.days_since_epoch()..=self.to.days_since_epoch())
            .filter_map(|d| CivilDate::from_days_since_epoch(d).ok())
    }
}

/// One stored object of a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listed {
    pub key: String,
    pub size: u64,
    /// When R2 stored it, epoch ms.
    pub uploaded: i64,
}

/// `GET /v1/audit/digests`' answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DigestList {
    pub merchant_id: String,
    pub livemode: bool,
    pub digests: Vec<Listed>,
    /// Present when more follow: ask again with `after=` this key.
    pub next_after: Option<String>,
}

/// `GET /v1/audit/objects`' answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectList {
    pub merchant_id: String,
    pub livemode: bool,
    pub objects: Vec<Listed>,
    /// Present when more follow: ask again with `after=` this key.
    pub next_after: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::tests::pairs;

    fn chain(sealed_through: i64) -> Chain {
        Chain {
            merchant_id: "m_demo".into(),
            mode: "test".into(),
            period_seconds: 3_600,
            sealed_through,
            last_key: None,
            last_sha256: None,
            now_s: 0,
        }
    }

    #[test]
    fn a_run_seals_every_period_that_ended_and_settled_at_most_a_bound_at_a_time() {
        let hour = 500_000;
        let start = hour * 3_600;
        // 30 s into hour+1: hour's digest waits for the settle time.
        assert!(chain(hour - 1).periods_to_seal(start + 3_630, 60).is_empty());
        assert_eq!(chain(hour - 1).periods_to_seal(start + 3_660, 60), hour..=hour);
        // Already sealed: nothing.
        assert!(chain(hour).periods_to_seal(start + 3_660, 60).is_empty());
        // Five hours without a run: all five, empty or not, in order.
        assert_eq!(
            chain(hour - 1).periods_to_seal(start + 5 * 3_600 + 61, 60),
            hour..=hour + 4
        );
        // A chain behind by a month catches up 48 periods a run.
        assert_eq!(
            chain(hour - 1).periods_to_seal(start + 720 * 3_600, 60),
            hour..=hour + MAX_SEALS_PER_RUN - 1
        );
    }

    #[test]
    fn timing_vars_out_of_range_are_named_and_defaulted() {
        assert_eq!(timing_from_vars(None, None), ((3_600, 60), vec![]));
        assert_eq!(timing_from_vars(Some("3"), Some("1")), ((3, 1), vec![]));
        let ((period, settle), problems) = timing_from_vars(Some("0"), Some("soon"));
        assert_eq!((period, settle), (3_600, 60));
        assert_eq!(problems.len(), 2);
        assert!(problems[0].starts_with("DIGEST_PERIOD_SECONDS=\"0\""), "{problems:?}");
        assert!(
            problems[1].starts_with("DIGEST_SETTLE_SECONDS=\"soon\""),
            "{problems:?}"
        );
    }

    #[test]
    fn digests_are_stored_by_day_and_sort_by_time() {
        let key = digest_key("m_demo", "test", 1_796_000_400);
        assert_eq!(key, "audit/v1/m_demo/test/2026/11/30/001796000400.json");
        assert!(digest_key("m_demo", "test", 1_796_004_000) > key);
        assert!(key_is_theirs(&key, "m_demo", false));
        assert!(!key_is_theirs(&key, "m_demo", true));
    }

    #[test]
    fn a_key_serves_only_its_own_merchant_and_mode() {
        let own = "logs/v1/m_demo/2026/12/01/test-0123abcd.ndjson.enc";
        assert!(key_is_theirs(own, "m_demo", false));
        for (key, merchant, livemode) in [
            (own, "m_other", false),
            (own, "m_demo", true),
            ("logs/v1/m_demo/2026/12/01/live-0123.ndjson.enc", "m_demo", false),
            ("logs/v1/m_demo2/2026/12/01/test-0123.ndjson.enc", "m_demo", false),
            ("dead-letter/events/m_demo/test/x", "m_demo", false),
            ("logs/v1/m_demo/../m_other/2026/12/01/test-1", "m_demo", false),
            ("audit/v1/m_demo/test/../../m_other/test/1.json", "m_demo", false),
            ("logs/v1/m_demo/2026/12/01/test-a b", "m_demo", false),
            ("", "m_demo", false),
        ] {
            assert!(
                !key_is_theirs(key, merchant, livemode),
                "{key} for {merchant} {livemode}"
            );
        }
    }

    #[test]
    fn queries_are_bounded() {
        let query = AuditQuery::parse(&pairs(&[("from", "2026-11-30"), ("to", "2026-12-02")])).unwrap();
        assert_eq!(query.days().count(), 3);
        assert!(AuditQuery::parse(&pairs(&[("from", "2026-01-01"), ("to", "2026-03-01")])).is_err());
        let listed = |n: usize| Listed {
            key: format!("logs/v1/m/2026/11/30/test-{n:05}"),
            size: 1,
            uploaded: 0,
        };
        let page = |items: Vec<Listed>| crate::logs::page_of(items, MAX_LISTED, |item| item.key.clone());
        let (first, next) = page((0..MAX_LISTED + 1).map(listed).collect());
        assert_eq!((first.len(), next), (MAX_LISTED, Some(listed(MAX_LISTED - 1).key)));
        assert_eq!(page(vec![listed(1)]).1, None);
    }
}
