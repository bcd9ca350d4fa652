//! `GET /v1/logs` (CONTRACT §5, scope `logs:read`): the merchant's archived log records of the
//! key's mode, as NDJSON, day by day. Pure: the query and which archive prefixes it reads;
//! `entry` lists and streams the objects.

use paylater_shared::CivilDate;

use crate::error::EdgeError;
use crate::forward::archive_day_prefix;
use crate::query::{day_range, named_values};

/// The most days one request may ask for.
pub const MAX_DAYS: i64 = 31;
/// The most archive objects (a message each: one record, or one request's events, up to a
/// hundred) one answer streams: each is a read of its own, and a Worker's request has a budget
/// of them. A busier range comes in pages: the answer's
/// `Paylater-Next-After` header names the key to ask `after`.
pub const MAX_OBJECTS: usize = 800;

/// The most stored bytes one answer reads and opens: objects hold up to a hundred records, so
/// the count alone would let a page run to tens of megabytes. The page stops before the object
/// that would pass it (the first always goes, whatever its size).
pub const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD[&after=KEY]`: UTC days of the edge's observation, both
/// inclusive; `after`, the last key of the page before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsQuery {
    pub from: CivilDate,
    pub to: CivilDate,
    pub after: Option<String>,
}

impl LogsQuery {
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, EdgeError> {
        let (from, to, after) = parse_paged_days(
            pairs,
            "logs cover at most 31 days a request; ask for longer periods in parts",
            |key| key.starts_with("logs/v1/"),
            "the Paylater-Next-After header of the page before",
        )?;
        Ok(Self { from, to, after })
    }

    /// The archive prefix of each day in the range, in order.
    pub fn prefixes(&self, merchant_id: &str, livemode: bool) -> Vec<String> {
        (self.from.days_since_epoch()..=self.to.days_since_epoch())
            .filter_map(|days| CivilDate::from_days_since_epoch(days).ok())
            .map(|day| archive_day_prefix(merchant_id, livemode, day))
            .collect()
    }
}

/// `from`, `to` (UTC days, at most [`MAX_DAYS`] apart, `too_long` otherwise) and an optional
/// `after` (a key where the page before stopped, `expected` unless `after_ok` holds).
pub fn parse_paged_days(
    pairs: &[(String, String)],
    too_long: &'static str,
    after_ok: fn(&str) -> bool,
    expected: &'static str,
) -> Result<(CivilDate, CivilDate, Option<String>), EdgeError> {
    let [from, to, after] = named_values(pairs, &["from", "to", "after"])?;
    let (from, to) = day_range(from, to, MAX_DAYS, too_long)?;
    match after {
        Some(key) if key.is_empty() || key.len() > 512 || !after_ok(key) => Err(EdgeError::InvalidType {
            field: "after",
            expected,
        }),
        other => Ok((from, to, other.map(str::to_owned))),
    }
}

/// Where a day's listing starts on a page that goes on after `after`: after it if it falls in
/// that day (`prefix`), else at the day's start.
pub fn start_after(after: Option<&str>, prefix: &str) -> Option<String> {
    after.filter(|after| after.starts_with(prefix)).map(str::to_owned)
}

/// Whether a whole day (`prefix`) comes before `after`: sent on an earlier page.
pub fn day_done(after: Option<&str>, prefix: &str) -> bool {
    after.is_some_and(|after| !after.starts_with(prefix) && after > prefix)
}

/// The first `limit` of `items`, and the key of the last one kept if more were listed.
pub fn page_of<T>(mut items: Vec<T>, limit: usize, key: impl Fn(&T) -> String) -> (Vec<T>, Option<String>) {
    if items.len() <= limit {
        return (items, None);
    }
    items.truncate(limit);
    let next = items.last().map(key);
    (items, next)
}

/// A page (as [`page_of`] cut it, with `next` where it stopped) cut again before the object
/// that would take its stored bytes past `max_bytes`; `next` is then the last key kept.
pub fn within_bytes<T>(
    mut items: Vec<T>,
    next: Option<String>,
    max_bytes: u64,
    size: impl Fn(&T) -> u64,
    key: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let mut total = 0u64;
    let keep = items
        .iter()
        .position(|item| {
            total = total.saturating_add(size(item));
            total > max_bytes
        })
        .map_or(items.len(), |over| over.max(1));
    if keep == items.len() {
        return (items, next);
    }
    items.truncate(keep);
    let next = items.last().map(key);
    (items, next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::tests::pairs;

    #[test]
    fn a_range_is_its_days_prefixes_of_one_merchant_and_mode() {
        let query = LogsQuery::parse(&pairs(&[("from", "2026-11-30"), ("to", "2026-12-02")])).unwrap();
        assert_eq!(
            query.prefixes("m_demo", false),
            [
                "logs/v1/m_demo/2026/11/30/test-",
                "logs/v1/m_demo/2026/12/01/test-",
                "logs/v1/m_demo/2026/12/02/test-",
            ]
        );
        assert_eq!(query.prefixes("m_demo", true)[0], "logs/v1/m_demo/2026/11/30/live-");
        // The prefix is what the consumer's archive keys start with.
        let day = CivilDate::parse("2026-11-30").unwrap();
        let key = crate::forward::archive_key("m_demo", false, day, "abc");
        assert!(key.starts_with(&query.prefixes("m_demo", false)[0]), "{key}");
    }

    #[test]
    fn queries_and_object_counts_are_bounded() {
        assert!(
            LogsQuery::parse(&pairs(&[("from", "2026-11-01"), ("to", "2026-12-01")])).is_ok(),
            "31 days"
        );
        type Query<'a> = &'a [(&'a str, &'a str)];
        let cases: [(Query, &str, &str); 5] = [
            (&[("to", "2026-11-30")], "missing_parameter", "from"),
            (&[("from", "2026-11-30"), ("to", "2026-11-31")], "invalid_date", "to"),
            (&[("from", "2026-11-02"), ("to", "2026-11-01")], "invalid_range", "to"),
            (&[("from", "2026-11-01"), ("to", "2026-12-02")], "invalid_range", "to"),
            (
                &[("from", "2026-11-01"), ("to", "2026-11-02"), ("merchant", "m_x")],
                "unknown_parameter",
                "merchant",
            ),
        ];
        for (query, code, field) in cases {
            let error = LogsQuery::parse(&pairs(query)).unwrap_err();
            assert_eq!(
                (error.code(), error.field().as_deref()),
                (code, Some(field)),
                "{query:?}"
            );
        }
        let bad_after = LogsQuery::parse(&pairs(&[
            ("from", "2026-11-01"),
            ("to", "2026-11-02"),
            ("after", "audit/v1/x"),
        ]))
        .unwrap_err();
        assert_eq!(bad_after.field().as_deref(), Some("after"));
    }

    #[test]
    fn a_page_stops_before_the_bytes_run_over() {
        let items: Vec<(String, u64)> = (0..5).map(|n| (format!("k{n}"), 40)).collect();
        let cut = |items: Vec<(String, u64)>, next: Option<&str>, max: u64| {
            within_bytes(items, next.map(str::to_owned), max, |i| i.1, |i| i.0.clone())
        };
        // Under the bound: the page and its own next, untouched.
        assert_eq!(cut(items.clone(), Some("k9"), 200), (items.clone(), Some("k9".into())));
        assert_eq!(cut(items.clone(), None, 1_000), (items.clone(), None));
        // Over it: cut before the object that passes it, going on after the last kept.
        assert_eq!(cut(items.clone(), None, 100), (items[..2].to_vec(), Some("k1".into())));
        assert_eq!(
            cut(items.clone(), Some("k9"), 120),
            (items[..3].to_vec(), Some("k2".into()))
        );
        // One object larger than the bound still goes, alone.
        assert_eq!(cut(items.clone(), None, 10), (items[..1].to_vec(), Some("k0".into())));
        assert_eq!(cut(Vec::new(), None, 10), (Vec::new(), None));
    }

    #[test]
    fn a_busy_range_comes_in_pages_that_go_on_where_the_last_stopped() {
        let keys: Vec<String> = (0..MAX_OBJECTS + 5)
            .map(|n| format!("logs/v1/m/2026/11/30/test-{n:05}"))
            .collect();
        let page = |keys: Vec<String>| page_of(keys, MAX_OBJECTS, |key| key.clone());
        let (first, next) = page(keys.clone());
        assert_eq!(first.len(), MAX_OBJECTS);
        assert_eq!(next.as_deref(), Some(keys[MAX_OBJECTS - 1].as_str()));
        assert_eq!(page(keys[..3].to_vec()), (keys[..3].to_vec(), None));
        let query = LogsQuery::parse(&pairs(&[
            ("from", "2026-11-29"),
            ("to", "2026-12-01"),
            ("after", next.as_deref().unwrap()),
        ]))
        .unwrap();
        let days = query.prefixes("m", false);
        let after = query.after.as_deref();
        assert!(day_done(after, &days[0]), "the day before the key's is done");
        assert!(!day_done(after, &days[1]));
        assert_eq!(start_after(after, &days[1]), next);
        assert!(!day_done(after, &days[2]));
        assert_eq!(start_after(after, &days[2]), None);
    }
}
