//! The edge's JSON answers read from `JSON.parse`'s objects rather than by a Rust JSON parser:
//! the card's bundle then carries no parser, no float parsing and no per-type deserializer (they
//! were a third of its size). Each reader gives `None` for anything unexpected, as serde would
//! give an error; the component tests compare both on the same bodies.

use paylater_shared::currency_map::CurrencyMap;

use js_sys::{Array, Object, Reflect};
use paylater_shared::approval::ReasonText;
use paylater_shared::merchant::{FinancingTerm, PlanConfig, PublicMerchantConfig, TelemetryMode};
use paylater_shared::{
    ApiError, ApiErrorBody, CivilDate, Currency, Installment, MinorUnits, Offer, OffersResponse, PlanKind, PlanRange,
};
use wasm_bindgen::JsValue;

/// A value read from a parsed JSON object.
pub trait FromJs: Sized {
    fn from_js(value: &JsValue) -> Option<Self>;
}

/// Parses JSON text with the browser's parser, then reads it.
pub fn parse<T: FromJs>(json: &str) -> Option<T> {
    T::from_js(&js_sys::JSON::parse(json).ok()?)
}

fn field(object: &JsValue, name: &str) -> Option<JsValue> {
    if !object.is_object() {
        return None;
    }
    Reflect::get(object, &JsValue::from_str(name)).ok()
}

fn string(object: &JsValue, name: &str) -> Option<String> {
    field(object, name)?.as_string()
}

/// A whole number JSON can carry exactly (up to 2^53).
fn whole(value: &JsValue) -> Option<u64> {
    let n = value.as_f64()?;
    (n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_992.0).then_some(n as u64)
}

fn number<T: TryFrom<u64>>(object: &JsValue, name: &str) -> Option<T> {
    T::try_from(whole(&field(object, name)?)?).ok()
}

fn list<T: FromJs>(object: &JsValue, name: &str) -> Option<Vec<T>> {
    let value = field(object, name)?;
    if !Array::is_array(&value) {
        return None;
    }
    Array::from(&value).iter().map(|item| T::from_js(&item)).collect()
}

/// `{ "USD": value, … }` keyed by currency.
fn by_currency<T>(object: &JsValue, name: &str, read: impl Fn(&JsValue) -> Option<T>) -> Option<CurrencyMap<T>> {
    let map = field(object, name)?;
    if !map.is_object() || Array::is_array(&map) {
        return None;
    }
    let mut by_currency = CurrencyMap::new();
    for key in Object::keys(&Object::from(map.clone())).iter() {
        let code = key.as_string()?;
        by_currency.insert(Currency::parse(&code).ok()?, read(&Reflect::get(&map, &key).ok()?)?);
    }
    Some(by_currency)
}

fn plan_kind(text: &str) -> Option<PlanKind> {
    [PlanKind::PayIn4, PlanKind::PayIn30, PlanKind::Financing]
        .into_iter()
        .find(|kind| kind.as_str() == text)
}

impl FromJs for Installment {
    fn from_js(value: &JsValue) -> Option<Self> {
        Some(Self {
            n: number(value, "n")?,
            due_date: CivilDate::parse(&string(value, "due_date")?).ok()?,
            amount: MinorUnits(number(value, "amount")?),
        })
    }
}

impl FromJs for Offer {
    fn from_js(value: &JsValue) -> Option<Self> {
        Some(Self {
            id: string(value, "id")?,
            kind: plan_kind(&string(value, "kind")?)?,
            installments: number(value, "installments")?,
            installment_amount: MinorUnits(number(value, "installment_amount")?),
            apr_bps: number(value, "apr_bps")?,
            total_interest: MinorUnits(number(value, "total_interest")?),
            total: MinorUnits(number(value, "total")?),
            schedule: list(value, "schedule")?,
        })
    }
}

impl FromJs for OffersResponse {
    fn from_js(value: &JsValue) -> Option<Self> {
        Some(Self {
            amount: MinorUnits(number(value, "amount")?),
            currency: Currency::parse(&string(value, "currency")?).ok()?,
            plans: list(value, "plans")?,
        })
    }
}

impl FromJs for FinancingTerm {
    fn from_js(value: &JsValue) -> Option<Self> {
        Some(Self {
            months: number(value, "months")?,
            apr_bps: number(value, "apr_bps")?,
        })
    }
}

impl FromJs for PlanConfig {
    fn from_js(value: &JsValue) -> Option<Self> {
        let range = |r: &JsValue| {
            Some(PlanRange {
                min: MinorUnits(number(r, "min")?),
                max: MinorUnits(number(r, "max")?),
            })
        };
        Some(Self {
            kind: plan_kind(&string(value, "kind")?)?,
            ranges: by_currency(value, "ranges", range)?,
            // Absent for pay in 4 and pay in 30 (serde's `default`).
            terms: match field(value, "terms") {
                Some(terms) if !terms.is_undefined() => list(value, "terms")?,
                _ => Vec::new(),
            },
        })
    }
}

impl FromJs for Currency {
    fn from_js(value: &JsValue) -> Option<Self> {
        Currency::parse(&value.as_string()?).ok()
    }
}

impl FromJs for PublicMerchantConfig {
    fn from_js(value: &JsValue) -> Option<Self> {
        Some(Self {
            merchant_id: string(value, "merchant_id")?,
            display_name: string(value, "display_name")?,
            lender: string(value, "lender")?,
            currencies: list(value, "currencies")?,
            plans: list(value, "plans")?,
            late_fees: by_currency(value, "late_fees", |fee| whole(fee).map(MinorUnits))?,
            telemetry: match string(value, "telemetry")?.as_str() {
                "always" => TelemetryMode::Always,
                "consent" => TelemetryMode::Consent,
                _ => return None,
            },
        })
    }
}

impl FromJs for ApiErrorBody {
    fn from_js(value: &JsValue) -> Option<Self> {
        let error = field(value, "error")?;
        Some(Self {
            error: ApiError {
                code: string(&error, "code")?,
                message: string(&error, "message")?,
                field: string(&error, "field"),
            },
        })
    }
}

impl FromJs for ReasonText {
    fn from_js(value: &JsValue) -> Option<Self> {
        Some(Self {
            code: string(value, "code")?,
            message: string(value, "message")?,
        })
    }
}

/// What a decision's DOM event carries that the card shows (CONTRACT §2): the schedule of an
/// approval, the reasons otherwise.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DecisionDetail {
    pub schedule: Vec<Installment>,
    pub reasons: Vec<ReasonText>,
}

impl FromJs for DecisionDetail {
    fn from_js(value: &JsValue) -> Option<Self> {
        Some(Self {
            schedule: list(value, "schedule").unwrap_or_default(),
            reasons: list(value, "reasons").unwrap_or_default(),
        })
    }
}
