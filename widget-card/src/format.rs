//! Locale-aware display through the browser's `Intl`, so every locale's digits, separators,
//! currency symbols and month names come out as the shopper expects.

use std::cell::RefCell;

use js_sys::{Array, Date, Function, Object, Reflect};
use paylater_shared::{CivilDate, Currency, MinorUnits};
use wasm_bindgen::{JsCast, JsValue};

thread_local! {
    /// Each format made once per page: a new `Intl` object costs far more than a call to one,
    /// and a card draws a dozen figures in a handful of formats.
    static FORMATS: RefCell<Vec<(String, Function)>> = const { RefCell::new(Vec::new()) };
}

/// Formats kept at most; a page changing locales or currencies without end starts afresh.
const FORMATS_KEPT: usize = 16;

/// The `format` function `key` names, made by `make` the first time. No borrow of the cache is
/// held while `make` runs, so nothing it does can leave the cache unusable for other widgets.
fn cached(key: String, make: impl FnOnce() -> Option<Function>) -> Option<Function> {
    let known = FORMATS.with(|formats| {
        formats
            .borrow()
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, format)| format.clone())
    });
    if known.is_some() {
        return known;
    }
    let format = make()?;
    FORMATS.with(|formats| {
        let mut formats = formats.borrow_mut();
        if formats.len() >= FORMATS_KEPT {
            formats.clear();
        }
        formats.push((key, format.clone()));
    });
    Some(format)
}

/// `new Intl[constructor](locale, options).format`. A tag our syntax check lets through but
/// `Intl` refuses (`en-a`) gets the format in `en-US` rather than a `RangeError` thrown
/// through the wasm; `None` only where `Intl` itself is missing or broken.
fn make(constructor: &str, locale: &str, options: &Object) -> Option<Function> {
    let intl = Reflect::get(&js_sys::global(), &JsValue::from_str("Intl")).ok()?;
    let constructor: Function = Reflect::get(&intl, &JsValue::from_str(constructor))
        .ok()?
        .dyn_into()
        .ok()?;
    [locale, "en-US"].into_iter().find_map(|locale| {
        let arguments = Array::of2(&Array::of1(&JsValue::from_str(locale)), options);
        let format = Reflect::construct(&constructor, &arguments).ok()?;
        Reflect::get(&format, &JsValue::from_str("format"))
            .ok()?
            .dyn_into()
            .ok()
    })
}

fn options(pairs: &[(&str, &str)]) -> Object {
    let object = Object::new();
    for (key, value) in pairs {
        let _ = Reflect::set(&object, &JsValue::from_str(key), &JsValue::from_str(value));
    }
    object
}

/// Formats `value`; a figure written right to left (a Hebrew date, an Arabic or Hebrew amount
/// with its marks) comes back in a first-strong isolate, so the text it sits in, whose catalog
/// language may read left to right, shows it in its own order instead of reordering its parts.
/// `None` when the format could not be made or failed.
fn call_format(format: Option<Function>, value: &JsValue) -> Option<String> {
    let text = format?.call1(&JsValue::UNDEFINED, value).ok()?.as_string()?;
    // Hebrew, Arabic and their neighbours, and the right-to-left mark `Intl` writes.
    if text
        .chars()
        .any(|c| ('\u{590}'..'\u{900}').contains(&c) || c == '\u{200f}')
    {
        Some(format!("\u{2068}{text}\u{2069}"))
    } else {
        Some(text)
    }
}

/// `12999` USD in `en-US` → `$129.99`; `5000` JPY in `ja-JP` → `￥5,000`; `1234567` IQD in
/// `en-US` → `IQD 1,234.567`.
pub fn money(amount: MinorUnits, currency: Currency, locale: &str) -> String {
    // ISO 4217's digits, which the amount is counted in, not CLDR's: by default `Intl` shows
    // IQD, RSD and ALL with none (ISO: 3, 2 and 2), rounding what is charged.
    let digits = char::from(b'0' + currency.exponent()).to_string();
    let format = cached(format!("money:{locale}:{}", currency.code()), || {
        let options = options(&[
            ("style", "currency"),
            ("currency", currency.code()),
            ("minimumFractionDigits", &digits),
            ("maximumFractionDigits", &digits),
        ]);
        make("NumberFormat", locale, &options)
    });
    // Display only: an f64 holds every amount up to 2^53 minor units exactly.
    let major = amount.get() as f64 / 10f64.powi(i32::from(currency.exponent()));
    // Without `Intl`, the plain decimal: integer arithmetic, because formatting an `f64` with a
    // precision pulled 9 KB (brotli) of float printing into the first paint.
    call_format(format, &JsValue::from_f64(major))
        .unwrap_or_else(|| format!("{} {}", amount.to_decimal_string(currency.exponent()), currency.code()))
}

/// A due date in the locale's long form (`December 7, 2026`), read as a calendar date: formatted
/// in UTC from a UTC midnight so no time zone can move it a day.
pub fn date(date: CivilDate, locale: &str) -> String {
    let format = cached(format!("date:{locale}"), || {
        let options = options(&[
            ("year", "numeric"),
            ("month", "long"),
            ("day", "numeric"),
            ("timeZone", "UTC"),
        ]);
        make("DateTimeFormat", locale, &options)
    });
    let millis = date.days_since_epoch() as f64 * 86_400_000.0;
    call_format(format, Date::new(&JsValue::from_f64(millis)).unchecked_ref()).unwrap_or_else(|| date.to_string())
}

/// Percent with up to two decimals: `999` bps → `9.99%`, `0` → `0%`.
pub fn apr(apr_bps: u32, locale: &str) -> String {
    let format = cached(format!("apr:{locale}"), || {
        make(
            "NumberFormat",
            locale,
            &options(&[("style", "percent"), ("maximumFractionDigits", "2")]),
        )
    });
    call_format(format, &JsValue::from_f64(f64::from(apr_bps) / 10_000.0)).unwrap_or_else(|| {
        // `999` → `9.99%`, `1050` → `10.5%`, `0` → `0%`, as `Intl` would write them.
        let decimal = MinorUnits(u64::from(apr_bps)).to_decimal_string(2);
        format!("{}%", decimal.trim_end_matches('0').trim_end_matches('.'))
    })
}

/// Milliseconds from now to a second past the shopper's next local midnight (a day change,
/// whatever the time zone or a summer-time switch makes of the day's length).
pub fn ms_until_next_local_midnight() -> i32 {
    let now = Date::new_0();
    let next = Date::new_with_year_month_day_hr_min_sec(
        now.get_full_year(),
        now.get_month() as i32,
        now.get_date() as i32 + 1,
        0,
        0,
        1,
    );
    let wait = next.get_time() - now.get_time();
    // Bounded so a clock oddity never becomes a busy loop or an overflow.
    wait.clamp(1_000.0, 26.0 * 3_600_000.0) as i32
}

/// Today in the shopper's own time zone: the day their schedule starts.
pub fn local_today() -> Option<CivilDate> {
    let now = Date::new_0();
    let (year, month, day) = (now.get_full_year(), now.get_month() + 1, now.get_date());
    CivilDate::new(
        i32::try_from(year).ok()?,
        u8::try_from(month).ok()?,
        u8::try_from(day).ok()?,
    )
    .ok()
}
