//! The script tag's `data-*` attributes (CONTRACT §1), validated into typed options. Bad input
//! becomes a typed error the widget shows, never an exception into the merchant page.

use thiserror::Error;

use crate::currency::{Currency, CurrencyError};
use crate::money::{AmountError, MinorUnits};

/// `light`, `dark`, or `auto` (follows `prefers-color-scheme`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    Light,
    Dark,
    #[default]
    Auto,
}

impl Theme {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "light" => Some(Self::Light),
            "dark" => Some(Self::Dark),
            "auto" => Some(Self::Auto),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Light => "light",
            Self::Dark => "dark",
            Self::Auto => "auto",
        }
    }
}

/// Why the attributes cannot drive a widget. `field()` names the attribute at fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WidgetOptionsError {
    #[error("data-key is required: your publishable key, pk_test_… or pk_live_…")]
    MissingKey,
    #[error("data-key must look like pk_test_… or pk_live_… (letters, digits and _ only)")]
    MalformedKey,
    #[error("data-amount is required: the order total in minor units, like 12999 for $129.99")]
    MissingAmount,
    #[error("data-amount: {0}")]
    BadAmount(AmountError),
    #[error("data-currency is required: an ISO 4217 code like USD")]
    MissingCurrency,
    #[error("data-currency: {0}")]
    BadCurrency(CurrencyError),
    #[error("data-theme must be light, dark or auto")]
    BadTheme,
    #[error("data-locale must be a BCP 47 language tag like en-US")]
    BadLocale,
}

impl WidgetOptionsError {
    /// A stable code for events and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingKey | Self::MalformedKey => "invalid_key",
            Self::MissingAmount | Self::BadAmount(_) => "invalid_amount",
            Self::MissingCurrency | Self::BadCurrency(_) => "invalid_currency",
            Self::BadTheme => "invalid_theme",
            Self::BadLocale => "invalid_locale",
        }
    }

    /// The option at fault, as named in `Paylater.mount` options.
    pub fn field(&self) -> &'static str {
        match self {
            Self::MissingKey | Self::MalformedKey => "key",
            Self::MissingAmount | Self::BadAmount(_) => "amount",
            Self::MissingCurrency | Self::BadCurrency(_) => "currency",
            Self::BadTheme => "theme",
            Self::BadLocale => "locale",
        }
    }
}

/// Validated widget options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetOptions {
    pub key: String,
    pub amount: MinorUnits,
    pub currency: Currency,
    pub locale: String,
    pub theme: Theme,
}

/// The raw attribute values, as the loader reads them (`None` when absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawWidgetOptions<'a> {
    pub key: Option<&'a str>,
    pub amount: Option<&'a str>,
    pub currency: Option<&'a str>,
    pub locale: Option<&'a str>,
    pub theme: Option<&'a str>,
}

/// The locale used when neither the tag, `<html lang>` nor the browser names one.
pub const DEFAULT_LOCALE: &str = "en-US";

impl WidgetOptions {
    /// Validates raw attributes; `fallback_locale` is `<html lang>` or `navigator.language`.
    pub fn parse(raw: &RawWidgetOptions<'_>, fallback_locale: Option<&str>) -> Result<Self, WidgetOptionsError> {
        let key = raw
            .key
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or(WidgetOptionsError::MissingKey)?;
        if !is_publishable_key(key) {
            return Err(WidgetOptionsError::MalformedKey);
        }
        let amount = raw
            .amount
            .filter(|a| !a.trim().is_empty())
            .ok_or(WidgetOptionsError::MissingAmount)?;
        let amount = MinorUnits::parse_positive(amount).map_err(WidgetOptionsError::BadAmount)?;
        let currency = raw
            .currency
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .ok_or(WidgetOptionsError::MissingCurrency)?;
        let currency = Currency::parse(currency).map_err(WidgetOptionsError::BadCurrency)?;
        let theme = match raw.theme.map(str::trim).filter(|t| !t.is_empty()) {
            None => Theme::Auto,
            Some(text) => Theme::parse(text).ok_or(WidgetOptionsError::BadTheme)?,
        };
        let locale = match raw.locale.map(str::trim).filter(|l| !l.is_empty()) {
            Some(tag) if is_language_tag(tag) => tag.to_owned(),
            Some(_) => return Err(WidgetOptionsError::BadLocale),
            // A page's own lang may be odd; fall back quietly rather than break the widget.
            None => fallback_locale
                .filter(|tag| is_language_tag(tag))
                .unwrap_or(DEFAULT_LOCALE)
                .to_owned(),
        };
        Ok(Self {
            key: key.to_owned(),
            amount,
            currency,
            locale,
            theme,
        })
    }
}

/// `pk_test_…` or `pk_live_…` followed by 1 to 64 letters, digits or underscores.
pub fn is_publishable_key(key: &str) -> bool {
    let rest = key.strip_prefix("pk_test_").or_else(|| key.strip_prefix("pk_live_"));
    rest.is_some_and(|r| !r.is_empty() && r.len() <= 64 && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}

/// A syntactic BCP 47 check: subtags of 1–8 ASCII letters or digits joined by `-`, starting with
/// a 2–3 letter language. Whether the browser knows the locale is `Intl`'s business.
pub fn is_language_tag(tag: &str) -> bool {
    let mut subtags = tag.split('-');
    let language_ok = subtags
        .next()
        .is_some_and(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_alphabetic()));
    language_ok
        && tag.len() <= 35
        && subtags.all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw<'a>(key: &'a str, amount: &'a str, currency: &'a str) -> RawWidgetOptions<'a> {
        RawWidgetOptions {
            key: Some(key),
            amount: Some(amount),
            currency: Some(currency),
            ..Default::default()
        }
    }

    #[test]
    fn the_contract_example_parses() {
        let options = WidgetOptions::parse(
            &RawWidgetOptions {
                locale: Some("en-US"),
                theme: Some("auto"),
                ..raw("pk_test_demo", "12999", "USD")
            },
            None,
        )
        .unwrap();
        assert_eq!(options.key, "pk_test_demo");
        assert_eq!(options.amount, MinorUnits(12999));
        assert_eq!(options.currency.code(), "USD");
        assert_eq!((options.locale.as_str(), options.theme), ("en-US", Theme::Auto));
    }

    #[test]
    fn locale_falls_back_to_the_page_then_en_us() {
        let r = raw("pk_live_shop_1", "5000", "JPY");
        assert_eq!(WidgetOptions::parse(&r, Some("sv-SE")).unwrap().locale, "sv-SE");
        assert_eq!(WidgetOptions::parse(&r, Some("not a tag")).unwrap().locale, "en-US");
        assert_eq!(WidgetOptions::parse(&r, None).unwrap().locale, "en-US");
    }

    #[test]
    fn bad_attributes_name_their_field_and_code() {
        let cases: Vec<(RawWidgetOptions<'_>, &str, &str)> = vec![
            (RawWidgetOptions::default(), "key", "invalid_key"),
            (raw("", "1", "USD"), "key", "invalid_key"),
            (raw("sk_test_secret", "1", "USD"), "key", "invalid_key"),
            (raw("pk_test_", "1", "USD"), "key", "invalid_key"),
            (raw("pk_test_a b", "1", "USD"), "key", "invalid_key"),
            (raw("pk_test_demo", "", "USD"), "amount", "invalid_amount"),
            (raw("pk_test_demo", "129.99", "USD"), "amount", "invalid_amount"),
            (raw("pk_test_demo", "-100", "USD"), "amount", "invalid_amount"),
            (raw("pk_test_demo", "0", "USD"), "amount", "invalid_amount"),
            (raw("pk_test_demo", "100", ""), "currency", "invalid_currency"),
            (raw("pk_test_demo", "100", "usd"), "currency", "invalid_currency"),
            (raw("pk_test_demo", "100", "XYZ"), "currency", "invalid_currency"),
            (
                RawWidgetOptions {
                    theme: Some("blue"),
                    ..raw("pk_test_demo", "100", "USD")
                },
                "theme",
                "invalid_theme",
            ),
            (
                RawWidgetOptions {
                    locale: Some("english"),
                    ..raw("pk_test_demo", "100", "USD")
                },
                "locale",
                "invalid_locale",
            ),
            (
                RawWidgetOptions {
                    locale: Some("en_US"),
                    ..raw("pk_test_demo", "100", "USD")
                },
                "locale",
                "invalid_locale",
            ),
        ];
        for (input, field, code) in cases {
            let error = WidgetOptions::parse(&input, None).unwrap_err();
            assert_eq!((error.field(), error.code()), (field, code), "{input:?}");
        }
    }
}
