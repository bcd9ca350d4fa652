//! Civil (calendar) dates: what a shopper reads on a due date, with no time zone attached.
//! Callers decide "today" in the shopper's zone and pass it in.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// Why a date was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DateError {
    #[error("date must be written YYYY-MM-DD")]
    Malformed,
    #[error("date {0} does not exist in the calendar")]
    NoSuchDay(String),
    #[error("date is outside the supported years 1900 to 9999")]
    OutOfRange,
    /// The date exists, but a schedule counted from it would end after 9999-12-31.
    #[error("a schedule from {start} would run past 9999-12-31, the calendar's last day; the latest start is {latest}")]
    ScheduleRunsPastCalendar { start: CivilDate, latest: CivilDate },
}

/// A proleptic Gregorian date between 1900-01-01 and 9999-12-31.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CivilDate {
    year: i32,
    month: u8,
    day: u8,
}

// From 1900: dates of birth go back that far (schedules only ever run forward from today).
const MIN_YEAR: i32 = 1900;
const MAX_YEAR: i32 = 9999;

impl CivilDate {
    /// Builds a date, checking that it exists.
    pub fn new(year: i32, month: u8, day: u8) -> Result<Self, DateError> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(DateError::OutOfRange);
        }
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(DateError::NoSuchDay(format!("{year:04}-{month:02}-{day:02}")));
        }
        Ok(Self { year, month, day })
    }

    /// Parses `YYYY-MM-DD` exactly (ten characters, zero-padded).
    pub fn parse(text: &str) -> Result<Self, DateError> {
        let b = text.as_bytes();
        let digits_at = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits_at(0..4) || !digits_at(5..7) || !digits_at(8..10) {
            return Err(DateError::Malformed);
        }
        let number = |range: std::ops::Range<usize>| b[range].iter().fold(0i32, |n, d| n * 10 + i32::from(d - b'0'));
        let (month, day) = (number(5..7), number(8..10));
        // Both are two digits, so they fit in u8.
        Self::new(number(0..4), month as u8, day as u8)
    }

    /// The date of a Unix timestamp in milliseconds, in UTC.
    pub fn from_unix_millis_utc(millis: i64) -> Result<Self, DateError> {
        let days = millis.div_euclid(86_400_000);
        Self::from_days_since_epoch(days)
    }

    pub fn year(&self) -> i32 {
        self.year
    }

    pub fn month(&self) -> u8 {
        self.month
    }

    pub fn day(&self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    pub fn days_since_epoch(&self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let year_of_era = y - era * 400;
        let m = i64::from(self.month);
        let day_of_year = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    /// Inverse of [`Self::days_since_epoch`] (Hinnant's `civil_from_days`).
    pub fn from_days_since_epoch(days: i64) -> Result<Self, DateError> {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z - era * 146_097;
        let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let mp = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        let year = i32::try_from(year).map_err(|_| DateError::OutOfRange)?;
        // month is 1..=12 and day 1..=31 by construction of the algorithm.
        Self::new(year, month as u8, day as u8)
    }

    /// The date `days` later.
    pub fn add_days(&self, days: u32) -> Result<Self, DateError> {
        Self::from_days_since_epoch(self.days_since_epoch() + i64::from(days))
    }

    /// The latest date from which [`Self::add_months`] by `months` stays in the calendar: the last
    /// day of the month `months` before December 9999 (every day of that month lands in December
    /// 9999, the later ones clamped to its 31st).
    pub fn latest_start_for_months(months: u8) -> Self {
        let month_index = MAX_YEAR * 12 + 11 - i32::from(months);
        let (year, month) = (month_index.div_euclid(12), (month_index.rem_euclid(12) + 1) as u8);
        // At most 255 months back from 9999 stays far above 1900, and the day is the month's last.
        Self {
            year,
            month,
            day: days_in_month(year, month),
        }
    }

    /// The same day of the month `months` later, clamped to that month's last day
    /// (31 Jan + 1 month = 28 or 29 Feb; + 2 months = 31 Mar).
    pub fn add_months(&self, months: u32) -> Result<Self, DateError> {
        let total = i64::from(self.year) * 12 + i64::from(self.month) - 1 + i64::from(months);
        let year = i32::try_from(total.div_euclid(12)).map_err(|_| DateError::OutOfRange)?;
        let month = (total.rem_euclid(12) + 1) as u8;
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(DateError::OutOfRange);
        }
        Self::new(year, month, self.day.min(days_in_month(year, month)))
    }
}

/// An instant (epoch seconds) as RFC 3339 in UTC, `2026-11-23T10:30:00Z`.
pub fn rfc3339_utc(epoch_s: i64) -> Result<String, DateError> {
    let date = CivilDate::from_days_since_epoch(epoch_s.div_euclid(86_400))?;
    let seconds = epoch_s.rem_euclid(86_400);
    Ok(format!(
        "{date}T{:02}:{:02}:{:02}Z",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    ))
}

/// Leap years of the Gregorian calendar.
pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in a month; `month` must be 1..=12.
pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl fmt::Display for CivilDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for CivilDate {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for CivilDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CivilDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(text: &str) -> CivilDate {
        CivilDate::parse(text).unwrap()
    }

    #[test]
    fn epoch_and_known_days() {
        assert_eq!(date("1970-01-01").days_since_epoch(), 0);
        assert_eq!(date("2000-03-01").days_since_epoch(), 11_017);
        assert_eq!(date("2026-11-23").days_since_epoch(), 20_780);
        assert_eq!(
            CivilDate::from_unix_millis_utc(1_795_392_000_000 + 43_200_000),
            Ok(date("2026-11-23"))
        );
    }

    #[test]
    fn month_end_clamping_keeps_the_original_day() {
        let jan31 = date("2027-01-31");
        assert_eq!(jan31.add_months(1), Ok(date("2027-02-28")));
        assert_eq!(jan31.add_months(2), Ok(date("2027-03-31")));
        assert_eq!(jan31.add_months(3), Ok(date("2027-04-30")));
        assert_eq!(date("2028-01-31").add_months(1), Ok(date("2028-02-29")));
        assert_eq!(date("2026-11-23").add_months(2), Ok(date("2027-01-23")));
        assert_eq!(date("2099-12-15").add_months(24), Ok(date("2101-12-15")));
    }

    #[test]
    fn adding_days_crosses_months_and_leap_days() {
        assert_eq!(date("2028-02-20").add_days(14), Ok(date("2028-03-05")));
        assert_eq!(date("2027-02-20").add_days(14), Ok(date("2027-03-06")));
        assert_eq!(date("2026-12-25").add_days(30), Ok(date("2027-01-24")));
    }

    #[test]
    fn rfc3339_timestamps() {
        assert_eq!(rfc3339_utc(0), Ok("1970-01-01T00:00:00Z".into()));
        assert_eq!(rfc3339_utc(1_795_429_845), Ok("2026-11-23T10:30:45Z".into()));
        assert_eq!(rfc3339_utc(-1), Ok("1969-12-31T23:59:59Z".into()));
        assert_eq!(date("1950-03-01").days_since_epoch(), -7246);
    }

    #[test]
    fn leap_years() {
        assert!(is_leap_year(2000) && is_leap_year(2028) && !is_leap_year(1900) && !is_leap_year(2027));
    }

    #[test]
    fn bad_dates_are_refused_with_their_reason() {
        let cases = [
            ("", DateError::Malformed),
            ("2026-1-05", DateError::Malformed),
            ("2026/01/05", DateError::Malformed),
            ("20260105", DateError::Malformed),
            ("2026-01-05T00:00", DateError::Malformed),
            ("２026-01-05", DateError::Malformed),
            ("2026-13-01", DateError::NoSuchDay("2026-13-01".into())),
            ("2026-00-10", DateError::NoSuchDay("2026-00-10".into())),
            ("2027-02-29", DateError::NoSuchDay("2027-02-29".into())),
            ("2026-04-31", DateError::NoSuchDay("2026-04-31".into())),
            ("1899-12-31", DateError::OutOfRange),
        ];
        for (text, error) in cases {
            assert_eq!(CivilDate::parse(text), Err(error), "{text:?}");
        }
        assert_eq!(date("9999-12-31").add_days(1), Err(DateError::OutOfRange));
    }

    #[test]
    fn latest_start_for_months_is_the_last_day_that_still_fits() {
        let cases = [
            (0, "9999-12-31"),
            (1, "9999-11-30"),
            (10, "9999-02-28"),
            (22, "9998-02-28"),
            (60, "9994-12-31"),
            (120, "9989-12-31"),
            (255, "9978-09-30"),
        ];
        for (months, latest) in cases {
            assert_eq!(
                CivilDate::latest_start_for_months(months),
                date(latest),
                "{months} months"
            );
        }
        // Exactly the last: it fits, the day after does not, for every term a u8 can hold.
        for months in 0..=u8::MAX {
            let latest = CivilDate::latest_start_for_months(months);
            assert_eq!(latest.add_months(months.into()).map(|end| end.year()), Ok(9999));
            let day_after = latest.add_days(1);
            assert!(
                day_after.is_err() || day_after.and_then(|d| d.add_months(months.into())) == Err(DateError::OutOfRange),
                "{months} months"
            );
        }
    }

    proptest! {
        #[test]
        fn days_round_trip(days in 0i64..2_932_896) {
            let d = CivilDate::from_days_since_epoch(days).unwrap();
            prop_assert_eq!(d.days_since_epoch(), days);
            prop_assert_eq!(CivilDate::parse(&d.to_string()), Ok(d));
        }

        #[test]
        fn adding_months_keeps_or_clamps_the_day(days in 0i64..2_900_000, months in 0u32..600) {
            let start = CivilDate::from_days_since_epoch(days).unwrap();
            let later = start.add_months(months).unwrap();
            prop_assert!(later >= start);
            let month_index = |d: CivilDate| i64::from(d.year()) * 12 + i64::from(d.month());
            prop_assert_eq!(month_index(later) - month_index(start), i64::from(months));
            prop_assert_eq!(later.day(), start.day().min(days_in_month(later.year(), later.month())));
        }
    }
}
