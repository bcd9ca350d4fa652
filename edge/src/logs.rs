//! `GET /v1/logs` (CONTRACT §5, scope `logs:read`): the merchant's archived log records of the
//! key's mode, as NDJSON, day by day. Pure: the query and which archive prefixes it reads;
//! `entry` lists and streams the objects.

use paylater_shared::CivilDate;

use crate::error::EdgeError;
use crate::forward::archive_day_prefix;
use crate::query::{day_range, named_values};

/// The most days one request may ask for.
pub const MAX_DAYS: i64 = 31;
/// The most archive objects one answer streams (each is a read of its own, and a Worker's
/// request has a budget of them); a busier range is asked for in parts.
pub const MAX_OBJECTS: usize = 800;

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD`: UTC days of the edge's observation, both inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsQuery {
    pub from: CivilDate,
    pub to: CivilDate,
}

impl LogsQuery {
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, EdgeError> {
        let [from, to] = named_values(pairs, &["from", "to"])?;
        let (from, to) = day_range(
            from,
            to,
            MAX_DAYS,
            "logs cover at most 31 days a request; ask for longer periods in parts",
        )?;
        Ok(Self { from, to })
    }

    /// The archive prefix of each day in the range, in order.
    pub fn prefixes(&self, merchant_id: &str, livemode: bool) -> Vec<String> {
        (self.from.days_since_epoch()..=self.to.days_since_epoch())
            .filter_map(|days| CivilDate::from_days_since_epoch(days).ok())
            .map(|day| archive_day_prefix(merchant_id, livemode, day))
            .collect()
    }
}

/// Refuses a range whose archive holds more objects than one answer streams.
pub fn check_object_count(count: usize) -> Result<(), EdgeError> {
    if count > MAX_OBJECTS {
        return Err(EdgeError::InvalidRange {
            field: "from",
            problem: "the range holds more than 800 archive objects; ask for fewer days",
        });
    }
    Ok(())
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
        assert!(check_object_count(MAX_OBJECTS).is_ok());
        let error = check_object_count(MAX_OBJECTS + 1).unwrap_err();
        assert_eq!(
            (error.code(), error.field().as_deref()),
            ("invalid_range", Some("from"))
        );
    }
}
