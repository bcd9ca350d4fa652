//! The UTC days the dashboard asks for: the last 7 or 30 days, or two dates from the form,
//! within the routes' limit (90 days, both ends inclusive) and not after today.

use paylater_shared::CivilDate;
use thiserror::Error;

/// The longest range the insights routes answer in one request.
pub const MAX_DAYS: u32 = 90;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: CivilDate,
    pub to: CivilDate,
}

/// Why the form's dates are not a range; the message is shown as it is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RangeError {
    #[error("Enter the {0} date as YYYY-MM-DD.")]
    NotADate(&'static str),
    #[error("The first day must not be after the last.")]
    Reversed,
    #[error("Choose at most 90 days.")]
    TooLong,
    #[error("The last day cannot be after today (UTC).")]
    Future,
}

impl Range {
    /// The `days` days up to and including `today`.
    pub fn last_days(today: CivilDate, days: u32) -> Self {
        let back = i64::from(days.clamp(1, MAX_DAYS)) - 1;
        let from = CivilDate::from_days_since_epoch(today.days_since_epoch() - back).unwrap_or(today);
        Self { from, to: today }
    }

    /// The form's two dates (`YYYY-MM-DD`).
    pub fn parse(from: &str, to: &str, today: CivilDate) -> Result<Self, RangeError> {
        let from = CivilDate::parse(from.trim()).map_err(|_| RangeError::NotADate("first"))?;
        let to = CivilDate::parse(to.trim()).map_err(|_| RangeError::NotADate("last"))?;
        if from > to {
            return Err(RangeError::Reversed);
        }
        if to > today {
            return Err(RangeError::Future);
        }
        if to.days_since_epoch() - from.days_since_epoch() >= i64::from(MAX_DAYS) {
            return Err(RangeError::TooLong);
        }
        Ok(Self { from, to })
    }

    /// The query both routes take.
    pub fn query(&self) -> String {
        format!("from={}&to={}", self.from, self.to)
    }

    /// Days in the range, both ends counted.
    pub fn days(&self) -> i64 {
        self.to.days_since_epoch() - self.from.days_since_epoch() + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> CivilDate {
        CivilDate::parse(text).unwrap()
    }

    #[test]
    fn presets_end_today_and_count_both_ends() {
        let week = Range::last_days(day("2026-03-02"), 7);
        assert_eq!((week.from, week.to), (day("2026-02-24"), day("2026-03-02")));
        assert_eq!(week.days(), 7);
        assert_eq!(week.query(), "from=2026-02-24&to=2026-03-02");
        assert_eq!(Range::last_days(day("2026-03-02"), 1).from, day("2026-03-02"));
        assert_eq!(Range::last_days(day("2026-03-02"), 500).days(), 90);
    }

    #[test]
    fn form_dates_are_checked_with_a_message_each() {
        let today = day("2026-11-30");
        assert_eq!(
            Range::parse(" 2026-11-01 ", "2026-11-30", today),
            Ok(Range {
                from: day("2026-11-01"),
                to: today
            })
        );
        let cases = [
            ("", "2026-11-30", RangeError::NotADate("first")),
            ("2026-11-01", "30/11/2026", RangeError::NotADate("last")),
            ("2026-02-30", "2026-11-30", RangeError::NotADate("first")),
            ("2026-11-30", "2026-11-01", RangeError::Reversed),
            ("2026-11-01", "2026-12-01", RangeError::Future),
            ("2026-09-01", "2026-11-30", RangeError::TooLong),
        ];
        for (from, to, expected) in cases {
            assert_eq!(Range::parse(from, to, today), Err(expected.clone()), "{from} {to}");
        }
        // 90 days exactly is allowed.
        assert_eq!(
            Range::parse("2026-09-02", "2026-11-30", today).map(|r| r.days()),
            Ok(90)
        );
    }
}
