//! Amounts as integer minor units (cents, öre, yen). No floats anywhere money is computed.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The largest amount accepted anywhere: 10^12 minor units (ten billion dollars) keeps every
/// product of an amount with a rate comfortably inside `i128`/`u64` arithmetic.
pub const MAX_MINOR_UNITS: u64 = 1_000_000_000_000;

/// Why an amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AmountError {
    #[error("amount must be a positive integer in minor units")]
    NotAnInteger,
    #[error("amount must be greater than zero")]
    NotPositive,
    #[error("amount must be at most {MAX_MINOR_UNITS} minor units")]
    TooLarge,
    #[error("amount arithmetic overflowed")]
    Overflow,
}

/// A non-negative amount in the minor unit of some currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MinorUnits(pub u64);

impl MinorUnits {
    /// Parses the decimal integer a merchant writes in `data-amount` or `?amount=`:
    /// digits only (no sign, no decimal point, no exponent), greater than zero.
    pub fn parse_positive(text: &str) -> Result<Self, AmountError> {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix('-')
            && !rest.is_empty()
            && rest.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(AmountError::NotPositive);
        }
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AmountError::NotAnInteger);
        }
        // All digits: the only parse failure left is overflow of u64.
        let value: u64 = text.parse().map_err(|_| AmountError::TooLarge)?;
        Self::positive(value)
    }

    /// Checks a number already parsed (from JSON) against the same rules.
    pub fn positive(value: u64) -> Result<Self, AmountError> {
        match value {
            0 => Err(AmountError::NotPositive),
            v if v > MAX_MINOR_UNITS => Err(AmountError::TooLarge),
            v => Ok(Self(v)),
        }
    }

    pub fn get(self) -> u64 {
        self.0
    }

    pub fn checked_add(self, other: Self) -> Result<Self, AmountError> {
        self.0.checked_add(other.0).map(Self).ok_or(AmountError::Overflow)
    }

    pub fn checked_sub(self, other: Self) -> Result<Self, AmountError> {
        self.0.checked_sub(other.0).map(Self).ok_or(AmountError::Overflow)
    }

    pub fn checked_mul(self, factor: u64) -> Result<Self, AmountError> {
        self.0.checked_mul(factor).map(Self).ok_or(AmountError::Overflow)
    }

    /// Renders the amount as a plain decimal with the currency's exponent (`12999`, 2 → `129.99`).
    /// Locale-aware formatting is the widget's job (`Intl.NumberFormat`); this is for logs and
    /// machine-readable text.
    pub fn to_decimal_string(self, exponent: u8) -> String {
        if exponent == 0 {
            return self.0.to_string();
        }
        let scale = 10u64.pow(u32::from(exponent));
        format!(
            "{}.{:0width$}",
            self.0 / scale,
            self.0 % scale,
            width = usize::from(exponent)
        )
    }
}

impl fmt::Display for MinorUnits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_plain_positive_integers() {
        assert_eq!(MinorUnits::parse_positive("12999"), Ok(MinorUnits(12999)));
        assert_eq!(MinorUnits::parse_positive(" 5000 "), Ok(MinorUnits(5000)));
        assert_eq!(
            MinorUnits::parse_positive("1000000000000"),
            Ok(MinorUnits(MAX_MINOR_UNITS))
        );
    }

    #[test]
    fn refuses_bad_amounts_with_their_reason() {
        let cases = [
            ("", AmountError::NotAnInteger),
            ("abc", AmountError::NotAnInteger),
            ("129.99", AmountError::NotAnInteger),
            ("1e3", AmountError::NotAnInteger),
            ("+5", AmountError::NotAnInteger),
            ("0x10", AmountError::NotAnInteger),
            ("-", AmountError::NotAnInteger),
            ("-5", AmountError::NotPositive),
            ("0", AmountError::NotPositive),
            ("000", AmountError::NotPositive),
            ("1000000000001", AmountError::TooLarge),
            ("99999999999999999999999", AmountError::TooLarge),
        ];
        for (text, error) in cases {
            assert_eq!(MinorUnits::parse_positive(text), Err(error), "{text:?}");
        }
    }

    #[test]
    fn decimal_rendering_follows_the_exponent() {
        assert_eq!(MinorUnits(12999).to_decimal_string(2), "129.99");
        assert_eq!(MinorUnits(5).to_decimal_string(2), "0.05");
        assert_eq!(MinorUnits(5000).to_decimal_string(0), "5000");
        assert_eq!(MinorUnits(1234).to_decimal_string(3), "1.234");
    }

    #[test]
    fn arithmetic_overflow_is_an_error() {
        assert_eq!(
            MinorUnits(u64::MAX).checked_add(MinorUnits(1)),
            Err(AmountError::Overflow)
        );
        assert_eq!(MinorUnits(1).checked_sub(MinorUnits(2)), Err(AmountError::Overflow));
        assert_eq!(MinorUnits(u64::MAX).checked_mul(2), Err(AmountError::Overflow));
        assert_eq!(MinorUnits(7).checked_mul(3), Ok(MinorUnits(21)));
    }

    proptest! {
        #[test]
        fn every_valid_amount_round_trips_through_text(value in 1..=MAX_MINOR_UNITS) {
            prop_assert_eq!(MinorUnits::parse_positive(&value.to_string()), Ok(MinorUnits(value)));
        }

        #[test]
        fn parsing_agrees_with_std_on_any_text(text in "[-+0-9a-z. ]{0,24}") {
            // Oracle: std's u64 parser over the trimmed text, digits only, within range.
            let trimmed = text.trim();
            let expected = trimmed
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| trimmed.parse::<u64>().ok())
                .flatten()
                .filter(|v| (1..=MAX_MINOR_UNITS).contains(v));
            prop_assert_eq!(MinorUnits::parse_positive(&text).ok().map(MinorUnits::get), expected);
        }
    }
}
