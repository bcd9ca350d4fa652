//! A merchant's plans as the widget and the edge both read them: amount ranges, financing
//! terms, which plans an amount is eligible for, and the public part of the configuration that
//! `GET /v1/merchants/{pk}/config` serves. The stored configuration itself (origins, scorecard,
//! secret keys, limits) is the edge's (`paylater_edge::merchant`).

use crate::currency_map::CurrencyMap;

use serde::{Deserialize, Serialize};

use crate::currency::Currency;
use crate::date::CivilDate;
use crate::money::MinorUnits;
use crate::offer::Offer;
use crate::plan::{PlanKind, PlanTerms, ScheduleError};

/// Inclusive amount range of a plan in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRange {
    pub min: MinorUnits,
    pub max: MinorUnits,
}

impl PlanRange {
    pub fn contains(&self, amount: MinorUnits) -> bool {
        self.min <= amount && amount <= self.max
    }
}

/// One financing term a merchant enables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinancingTerm {
    pub months: u8,
    pub apr_bps: u32,
}

/// A plan family the merchant enables, with its limits per currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanConfig {
    pub kind: PlanKind,
    pub ranges: CurrencyMap<PlanRange>,
    /// Financing only: the terms offered; empty for the other kinds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<FinancingTerm>,
}

/// When the widget may send telemetry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TelemetryMode {
    Always,
    Consent,
}

/// Every currency any plan accepts.
pub fn currencies(plans: &[PlanConfig]) -> Vec<Currency> {
    // Kept sorted as it grows: a few currencies, and no sort's code in the card's bundle.
    let mut all: Vec<Currency> = Vec::new();
    for currency in plans.iter().flat_map(|p| p.ranges.keys().copied()) {
        if let Err(at) = all.binary_search(&currency) {
            all.insert(at, currency);
        }
    }
    all
}

/// Every concrete plan (one per financing term) with the config it comes from, in order.
pub fn all_terms(plans: &[PlanConfig]) -> Vec<(PlanTerms, &PlanConfig)> {
    let mut all = Vec::new();
    for plan in plans {
        match plan.kind {
            PlanKind::PayIn4 => all.push((PlanTerms::PayIn4, plan)),
            PlanKind::PayIn30 => all.push((PlanTerms::PayIn30, plan)),
            PlanKind::Financing => all.extend(plan.terms.iter().map(|t| {
                let terms = PlanTerms::Financing {
                    months: t.months,
                    apr_bps: t.apr_bps,
                };
                (terms, plan)
            })),
        }
    }
    all
}

/// The concrete plans (one per financing term) whose range holds `amount` in `currency`.
pub fn eligible_terms(plans: &[PlanConfig], amount: MinorUnits, currency: Currency) -> Vec<PlanTerms> {
    all_terms(plans)
        .into_iter()
        .filter(|(_, plan)| plan.ranges.get(&currency).is_some_and(|range| range.contains(amount)))
        .map(|(terms, _)| terms)
        .collect()
}

/// Every eligible plan with its full schedule counted from `start`.
pub fn offers(
    plans: &[PlanConfig],
    amount: MinorUnits,
    currency: Currency,
    start: CivilDate,
) -> Result<Vec<Offer>, ScheduleError> {
    eligible_terms(plans, amount, currency)
        .iter()
        .map(|terms| Offer::compute(terms, amount, start))
        .collect()
}

/// The part of a merchant's configuration the widget needs (`GET /v1/merchants/{pk}/config`):
/// no origins, nothing that would help an attacker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicMerchantConfig {
    pub merchant_id: String,
    pub display_name: String,
    pub lender: String,
    pub currencies: Vec<Currency>,
    pub plans: Vec<PlanConfig>,
    pub late_fees: CurrencyMap<MinorUnits>,
    pub telemetry: TelemetryMode,
}

/// Whether any plan covers an amount, and if not, what the shopper should be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    Available,
    /// The merchant offers no plan in this currency.
    CurrencyNotOffered,
    /// Below every plan: the smallest amount any plan covers.
    BelowMinimum(MinorUnits),
    /// Above every plan: the largest amount any plan covers.
    AboveMaximum(MinorUnits),
    /// Between two plans' ranges (possible with gaps in the config): nothing more specific to say.
    NoPlanForAmount,
}

impl PublicMerchantConfig {
    /// Why the widget shows offers, or which polite explanation it shows instead.
    pub fn availability(&self, amount: MinorUnits, currency: Currency) -> Availability {
        let ranges: Vec<&PlanRange> = self
            .plans
            .iter()
            .filter_map(|plan| plan.ranges.get(&currency))
            .collect();
        let (Some(min), Some(max)) = (ranges.iter().map(|r| r.min).min(), ranges.iter().map(|r| r.max).max()) else {
            return Availability::CurrencyNotOffered;
        };
        if ranges.iter().any(|r| r.contains(amount)) {
            Availability::Available
        } else if amount < min {
            Availability::BelowMinimum(min)
        } else if amount > max {
            Availability::AboveMaximum(max)
        } else {
            Availability::NoPlanForAmount
        }
    }
}

/// The demo merchant as the edge serves it to the widget, for this crate's tests: the seed's
/// public fields and the currencies its plans accept (the edge's tests validate the seed itself).
#[cfg(test)]
pub(crate) fn demo() -> PublicMerchantConfig {
    let mut seed: serde_json::Value =
        serde_json::from_str(include_str!("../../seed/merchants/pk_test_demo.json")).unwrap();
    let plans: Vec<PlanConfig> = serde_json::from_value(seed["plans"].clone()).unwrap();
    seed["currencies"] = serde_json::to_value(currencies(&plans)).unwrap();
    serde_json::from_value(seed).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn availability_says_why_no_plan_fits() {
        let public = demo();
        let usd = currency("USD");
        let jpy = currency("JPY");
        let cases = [
            ("smallest pay in 30", MinorUnits(1000), usd, Availability::Available),
            (
                "one cent below",
                MinorUnits(999),
                usd,
                Availability::BelowMinimum(MinorUnits(1000)),
            ),
            ("largest financing", MinorUnits(1_000_000), usd, Availability::Available),
            (
                "one cent above",
                MinorUnits(1_000_001),
                usd,
                Availability::AboveMaximum(MinorUnits(1_000_000)),
            ),
            (
                "yen below",
                MinorUnits(1499),
                jpy,
                Availability::BelowMinimum(MinorUnits(1500)),
            ),
            (
                "a currency not offered",
                MinorUnits(5000),
                currency("CHF"),
                Availability::CurrencyNotOffered,
            ),
        ];
        for (name, amount, currency, expected) in cases {
            assert_eq!(public.availability(amount, currency), expected, "{name}");
        }
        let mut gappy = public.clone();
        gappy.plans.retain(|plan| plan.kind != PlanKind::PayIn4);
        gappy
            .plans
            .iter_mut()
            .filter(|p| p.kind == PlanKind::PayIn30)
            .for_each(|p| {
                p.ranges.insert(
                    usd,
                    PlanRange {
                        min: MinorUnits(1000),
                        max: MinorUnits(2000),
                    },
                );
            });
        assert_eq!(
            gappy.availability(MinorUnits(10_000), usd),
            Availability::NoPlanForAmount
        );
    }

    fn ids(terms: &[PlanTerms]) -> Vec<String> {
        terms.iter().map(PlanTerms::id).collect()
    }

    fn currency(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    #[test]
    fn demo_merchant_matches_the_product_table() {
        let demo = demo();
        assert_eq!(demo.display_name, "Nordic Outdoor Co.");
        assert_eq!(
            currencies(&demo.plans).iter().map(Currency::code).collect::<Vec<_>>(),
            ["EUR", "GBP", "JPY", "SEK", "USD"]
        );
        let cases: &[(u64, &str, &[&str])] = &[
            (12_999, "USD", &["pay_in_4", "pay_in_30"]),
            (3_499, "USD", &["pay_in_30"]),
            (999, "GBP", &[]),
            (
                150_000,
                "EUR",
                &["pay_in_4", "financing_6", "financing_12", "financing_24"],
            ),
            (150_001, "EUR", &["financing_6", "financing_12", "financing_24"]),
            (
                25_000,
                "USD",
                &["pay_in_4", "pay_in_30", "financing_6", "financing_12", "financing_24"],
            ),
            (1_000_001, "USD", &[]),
            (5_000, "JPY", &["pay_in_4", "pay_in_30"]),
            (
                35_000,
                "JPY",
                &["pay_in_4", "pay_in_30", "financing_6", "financing_12", "financing_24"],
            ),
            (34_999, "SEK", &["pay_in_30"]),
            (35_000, "SEK", &["pay_in_4", "pay_in_30"]),
            (12_999, "CHF", &[]),
        ];
        for (amount, code, expected) in cases {
            assert_eq!(
                ids(&eligible_terms(&demo.plans, MinorUnits(*amount), currency(code))),
                *expected,
                "{amount} {code}"
            );
        }
    }
}
