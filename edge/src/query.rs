//! Query strings, strictly: unknown or repeated parameters are errors, so a typo never silently
//! becomes a default.

use paylater_shared::plan::check_schedule_start;
use paylater_shared::widget_options::{is_language_tag, is_publishable_key};
use paylater_shared::{CivilDate, Currency, MinorUnits};

use crate::error::EdgeError;

/// `GET /v1/offers?key=&amount=&currency=&locale=&start=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffersQuery {
    pub key: String,
    pub amount: MinorUnits,
    pub currency: Currency,
    pub locale: Option<String>,
    /// The shopper's local date; the edge uses today in UTC when absent.
    pub start: Option<CivilDate>,
}

const OFFERS_PARAMETERS: [&str; 5] = ["key", "amount", "currency", "locale", "start"];

/// The decoded `name=value` pairs of a request URL's query, in order (`+` is a space; bytes that
/// are not UTF-8 become U+FFFD). Parsed here rather than through `url::Url`, whose IDNA tables
/// would weigh more than the rest of the edge's data; only the query is ever needed.
pub fn query_pairs(url: &str) -> Vec<(String, String)> {
    let without_fragment = url.split_once('#').map_or(url, |(head, _)| head);
    let Some((_, query)) = without_fragment.split_once('?') else {
        return Vec::new();
    };
    form_urlencoded::parse(query.as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

/// `from` and `to` as UTC days, both required, `to` not before `from` and the range at most
/// `max_days` long (`too_long` says so when it is not), as every merchant report reads them.
pub fn day_range(
    from: Option<&str>,
    to: Option<&str>,
    max_days: i64,
    too_long: &'static str,
) -> Result<(CivilDate, CivilDate), EdgeError> {
    let date = |value: Option<&str>, field: &'static str| {
        let text = value.ok_or(EdgeError::Missing { field })?;
        CivilDate::parse(text).map_err(|source| EdgeError::InvalidDate { field, source })
    };
    let (from, to) = (date(from, "from")?, date(to, "to")?);
    if to < from {
        return Err(EdgeError::InvalidRange {
            field: "to",
            problem: "must not be before from",
        });
    }
    if to.days_since_epoch() - from.days_since_epoch() >= max_days {
        return Err(EdgeError::InvalidRange {
            field: "to",
            problem: too_long,
        });
    }
    Ok((from, to))
}

/// The value of each of `names`, in their order, from already percent-decoded pairs. Strict:
/// a parameter not in `names`, or one given twice, is an error.
pub fn named_values<'a, const N: usize>(
    pairs: &'a [(String, String)],
    names: &[&str; N],
) -> Result<[Option<&'a str>; N], EdgeError> {
    let mut values: [Option<&str>; N] = [None; N];
    for (name, value) in pairs {
        let index = names
            .iter()
            .position(|known| known == name)
            .ok_or_else(|| EdgeError::UnknownParameter { name: name.clone() })?;
        if values[index].replace(value).is_some() {
            return Err(EdgeError::RepeatedParameter { name: name.clone() });
        }
    }
    Ok(values)
}

impl OffersQuery {
    /// Parses already percent-decoded pairs.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, EdgeError> {
        let [key, amount, currency, locale, start] = named_values(pairs, &OFFERS_PARAMETERS)?;
        let key = key.ok_or(EdgeError::Missing { field: "key" })?;
        if !is_publishable_key(key) {
            return Err(EdgeError::InvalidKey);
        }
        let amount = MinorUnits::parse_positive(amount.ok_or(EdgeError::Missing { field: "amount" })?)
            .map_err(EdgeError::InvalidAmount)?;
        let currency = Currency::parse(currency.ok_or(EdgeError::Missing { field: "currency" })?)
            .map_err(EdgeError::InvalidCurrency)?;
        let locale = match locale {
            Some(tag) if !is_language_tag(tag) => return Err(EdgeError::InvalidLocale),
            other => other.map(str::to_owned),
        };
        // A start too late for every plan's schedule is the caller's error, refused here for
        // every merchant alike, rather than a failed schedule (a 500) for some of them.
        let start = start
            .map(|text| CivilDate::parse(text).and_then(check_schedule_start))
            .transpose()
            .map_err(|source| EdgeError::InvalidDate { field: "start", source })?;
        Ok(Self {
            key: key.to_owned(),
            amount,
            currency,
            locale,
            start,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Decoded query pairs from string pairs (the reconciliation query's tests use it too).
    pub(crate) fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn query_pairs_decode_the_query_alone() {
        let table: [(&str, &[(&str, &str)]); 7] = [
            ("https://e.test/v1/offers", &[]),
            ("https://e.test/v1/offers?", &[]),
            (
                "https://e.test/v1/offers?key=pk_test_a&amount=100",
                &[("key", "pk_test_a"), ("amount", "100")],
            ),
            (
                "https://e.test/v1/offers?locale=en%2DGB&x=a+b",
                &[("locale", "en-GB"), ("x", "a b")],
            ),
            ("https://e.test/v1/offers?a=1#frag?b=2", &[("a", "1")]),
            ("https://e.test/v1/offers?a=%FF&&b", &[("a", "\u{fffd}"), ("b", "")]),
            ("https://e.test/v1/offers?a=1&a=2", &[("a", "1"), ("a", "2")]),
        ];
        for (url, expected) in table {
            assert_eq!(query_pairs(url), pairs(expected), "{url}");
        }
    }

    #[test]
    fn parses_a_full_query() {
        let q = OffersQuery::parse(&pairs(&[
            ("key", "pk_test_demo"),
            ("amount", "12999"),
            ("currency", "USD"),
            ("locale", "sv-SE"),
            ("start", "2026-11-23"),
        ]))
        .unwrap();
        assert_eq!(q.key, "pk_test_demo");
        assert_eq!(q.amount, MinorUnits(12999));
        assert_eq!(q.currency.code(), "USD");
        assert_eq!(q.locale.as_deref(), Some("sv-SE"));
        assert_eq!(q.start.map(|d| d.to_string()).as_deref(), Some("2026-11-23"));
    }

    #[test]
    fn start_dates_too_late_for_a_schedule_are_refused_as_invalid_date() {
        let with_start = |start: &str| {
            pairs(&[
                ("key", "pk_test_demo"),
                ("amount", "12999"),
                ("currency", "USD"),
                ("start", start),
            ])
        };
        let past_the_calendar = |start: &str| {
            Err((
                400,
                "invalid_date",
                format!(
                    "start: a schedule from {start} would run past 9999-12-31, the calendar's last day; \
                     the latest start is 9989-12-31"
                ),
            ))
        };
        let cases = [
            ("2026-11-23", Ok("2026-11-23".to_owned())),
            // The last start from which 120 months of financing end by 9999-12-31.
            ("9989-12-31", Ok("9989-12-31".to_owned())),
            ("9990-01-01", past_the_calendar("9990-01-01")),
            ("9999-12-01", past_the_calendar("9999-12-01")),
            ("9999-12-31", past_the_calendar("9999-12-31")),
        ];
        for (start, expected) in cases {
            let parsed = OffersQuery::parse(&with_start(start));
            let outcome = parsed
                .as_ref()
                .map(|q| q.start.map(|d| d.to_string()).unwrap_or_default())
                .map_err(|e| (e.status(), e.code(), e.to_string()));
            assert_eq!(outcome, expected, "{start}");
            if let Err(error) = parsed {
                assert_eq!(error.field().as_deref(), Some("start"), "{start}");
            }
        }
    }

    #[test]
    fn bad_queries_are_refused_with_code_and_field() {
        let base = [("key", "pk_test_demo"), ("amount", "12999"), ("currency", "USD")];
        let with = |name: &str, value: &str| {
            let mut list: Vec<(&str, &str)> = base.iter().copied().filter(|(k, _)| *k != name).collect();
            list.push((name, value));
            pairs(&list)
        };
        let without = |name: &str| pairs(&base.iter().copied().filter(|(k, _)| *k != name).collect::<Vec<_>>());
        type Pairs = Vec<(String, String)>;
        let cases: Vec<(Pairs, &str, Option<&str>)> = vec![
            (without("key"), "missing_parameter", Some("key")),
            (without("amount"), "missing_parameter", Some("amount")),
            (without("currency"), "missing_parameter", Some("currency")),
            (with("key", "sk_live_secret"), "invalid_key", Some("key")),
            (with("amount", "-5"), "invalid_amount", Some("amount")),
            (with("amount", "12.5"), "invalid_amount", Some("amount")),
            (with("amount", "0"), "invalid_amount", Some("amount")),
            (with("currency", "usd"), "invalid_currency", Some("currency")),
            (with("currency", "ZZZ"), "invalid_currency", Some("currency")),
            (with("locale", "en_US"), "invalid_locale", Some("locale")),
            (with("start", "2026-02-30"), "invalid_date", Some("start")),
            (with("start", "tomorrow"), "invalid_date", Some("start")),
            (with("amout", "5"), "unknown_parameter", Some("amout")),
            (
                pairs(&[
                    ("key", "pk_test_demo"),
                    ("key", "pk_test_demo"),
                    ("amount", "1"),
                    ("currency", "USD"),
                ]),
                "repeated_parameter",
                Some("key"),
            ),
        ];
        for (query, code, field) in cases {
            let error = OffersQuery::parse(&query).unwrap_err();
            assert_eq!((error.code(), error.field().as_deref()), (code, field), "{query:?}");
        }
    }
}
