//! ISO 4217 currency codes and the number of decimals (the minor-unit exponent) of each.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// Active ISO 4217 currencies (funds and precious metals left out) with their exponents.
/// Sorted by code so lookup is a binary search.
#[rustfmt::skip]
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2), ("AFN", 2), ("ALL", 2), ("AMD", 2), ("AOA", 2), ("ARS", 2), ("AUD", 2),
    ("AWG", 2), ("AZN", 2), ("BAM", 2), ("BBD", 2), ("BDT", 2), ("BHD", 3), ("BIF", 0),
    ("BMD", 2), ("BND", 2), ("BOB", 2), ("BRL", 2), ("BSD", 2), ("BTN", 2), ("BWP", 2),
    ("BYN", 2), ("BZD", 2), ("CAD", 2), ("CDF", 2), ("CHF", 2), ("CLP", 0), ("CNY", 2),
    ("COP", 2), ("CRC", 2), ("CUP", 2), ("CVE", 2), ("CZK", 2), ("DJF", 0), ("DKK", 2),
    ("DOP", 2), ("DZD", 2), ("EGP", 2), ("ERN", 2), ("ETB", 2), ("EUR", 2), ("FJD", 2),
    ("FKP", 2), ("GBP", 2), ("GEL", 2), ("GHS", 2), ("GIP", 2), ("GMD", 2), ("GNF", 0),
    ("GTQ", 2), ("GYD", 2), ("HKD", 2), ("HNL", 2), ("HTG", 2), ("HUF", 2), ("IDR", 2),
    ("ILS", 2), ("INR", 2), ("IQD", 3), ("IRR", 2), ("ISK", 0), ("JMD", 2), ("JOD", 3),
    ("JPY", 0), ("KES", 2), ("KGS", 2), ("KHR", 2), ("KMF", 0), ("KPW", 2), ("KRW", 0),
    ("KWD", 3), ("KYD", 2), ("KZT", 2), ("LAK", 2), ("LBP", 2), ("LKR", 2), ("LRD", 2),
    ("LSL", 2), ("LYD", 3), ("MAD", 2), ("MDL", 2), ("MGA", 2), ("MKD", 2), ("MMK", 2),
    ("MNT", 2), ("MOP", 2), ("MRU", 2), ("MUR", 2), ("MVR", 2), ("MWK", 2), ("MXN", 2),
    ("MYR", 2), ("MZN", 2), ("NAD", 2), ("NGN", 2), ("NIO", 2), ("NOK", 2), ("NPR", 2),
    ("NZD", 2), ("OMR", 3), ("PAB", 2), ("PEN", 2), ("PGK", 2), ("PHP", 2), ("PKR", 2),
    ("PLN", 2), ("PYG", 0), ("QAR", 2), ("RON", 2), ("RSD", 2), ("RUB", 2), ("RWF", 0),
    ("SAR", 2), ("SBD", 2), ("SCR", 2), ("SDG", 2), ("SEK", 2), ("SGD", 2), ("SHP", 2),
    ("SLE", 2), ("SOS", 2), ("SRD", 2), ("SSP", 2), ("STN", 2), ("SVC", 2), ("SYP", 2),
    ("SZL", 2), ("THB", 2), ("TJS", 2), ("TMT", 2), ("TND", 3), ("TOP", 2), ("TRY", 2),
    ("TTD", 2), ("TWD", 2), ("TZS", 2), ("UAH", 2), ("UGX", 0), ("USD", 2), ("UYU", 2),
    ("UZS", 2), ("VED", 2), ("VES", 2), ("VND", 0), ("VUV", 0), ("WST", 2), ("XAF", 0),
    ("XCD", 2), ("XCG", 2), ("XOF", 0), ("XPF", 0), ("YER", 2), ("ZAR", 2), ("ZMW", 2),
    ("ZWG", 2),
];

/// Why a currency code was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CurrencyError {
    #[error("currency must be a three-letter ISO 4217 code in upper case, like USD")]
    Malformed,
    #[error("currency {0} is not an active ISO 4217 currency")]
    Unknown(String),
}

/// An active ISO 4217 currency. Only constructible from a known code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

impl Currency {
    /// Looks a code up; codes are case-sensitive upper case, as ISO 4217 writes them.
    pub fn parse(code: &str) -> Result<Self, CurrencyError> {
        let bytes = code.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(CurrencyError::Malformed);
        }
        let index = CURRENCIES
            .binary_search_by(|(known, _)| known.as_bytes().cmp(bytes))
            .map_err(|_| CurrencyError::Unknown(code.to_owned()))?;
        let (_, exponent) = CURRENCIES[index];
        Ok(Self {
            code: [bytes[0], bytes[1], bytes[2]],
            exponent,
        })
    }

    /// Every code [`Currency::parse`] takes, in order (the OpenAPI document lists the same).
    pub fn known_codes() -> impl Iterator<Item = &'static str> {
        CURRENCIES.iter().map(|(code, _)| *code)
    }

    /// The three-letter code, e.g. `"USD"`.
    pub fn code(&self) -> &str {
        // Only ever built from an ASCII entry of CURRENCIES.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Decimal places of the minor unit: JPY 0, USD 2, KWD 3.
    pub fn exponent(&self) -> u8 {
        self.exponent
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = CurrencyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Self::parse(&code).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(CURRENCIES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn exponents_of_well_known_currencies() {
        for (code, exponent) in [("USD", 2), ("EUR", 2), ("SEK", 2), ("JPY", 0), ("KWD", 3), ("CLP", 0)] {
            assert_eq!(Currency::parse(code).map(|c| c.exponent()), Ok(exponent), "{code}");
        }
    }

    /// ISO 4217's minor units, where CLDR (what `Intl.NumberFormat` shows by default) has fewer
    /// digits or changed them over time: the exponent is what every amount is counted in, so it
    /// is what the widget must display, or an amount would be rounded on screen.
    #[test]
    fn exponents_follow_iso_4217_where_cldr_differs() {
        use crate::MinorUnits;
        let cases = [
            ("IQD", 3, 1_234_567, "1234.567"),
            ("RSD", 2, 123_450, "1234.50"),
            ("ALL", 2, 5, "0.05"),
            ("ISK", 0, 1_500, "1500"),
            ("UGX", 0, 7_000, "7000"),
            ("TND", 3, 1_005, "1.005"),
        ];
        for (code, exponent, minor, decimal) in cases {
            let currency = Currency::parse(code).unwrap();
            assert_eq!(currency.exponent(), exponent, "{code}");
            assert_eq!(
                MinorUnits(minor).to_decimal_string(currency.exponent()),
                decimal,
                "{code}"
            );
        }
    }

    #[test]
    fn bad_codes_are_refused_with_their_reason() {
        let cases: &[(&str, CurrencyError)] = &[
            ("", CurrencyError::Malformed),
            ("usd", CurrencyError::Malformed),
            ("US", CurrencyError::Malformed),
            ("USDX", CurrencyError::Malformed),
            ("U$D", CurrencyError::Malformed),
            ("ÜSD", CurrencyError::Malformed),
            ("ABC", CurrencyError::Unknown("ABC".into())),
            ("XAU", CurrencyError::Unknown("XAU".into())),
            ("BGN", CurrencyError::Unknown("BGN".into())),
        ];
        for (code, error) in cases {
            assert_eq!(Currency::parse(code).as_ref(), Err(error), "{code:?}");
        }
    }

    #[test]
    fn serde_round_trip_uses_the_code() {
        let sek = Currency::parse("SEK").unwrap();
        assert_eq!(serde_json::to_string(&sek).unwrap(), "\"SEK\"");
        assert_eq!(serde_json::from_str::<Currency>("\"SEK\"").unwrap(), sek);
        assert!(serde_json::from_str::<Currency>("\"sek\"").is_err());
    }
}
