//! Offers: a plan applied to an amount, with every figure a compliant promotion shows
//! (the body of `GET /v1/offers`, CONTRACT §3).

use serde::{Deserialize, Serialize};

use crate::currency::Currency;
use crate::date::CivilDate;
use crate::money::MinorUnits;
use crate::plan::{Installment, PlanKind, PlanTerms, ScheduleError};

/// One plan for one amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    pub id: String,
    pub kind: PlanKind,
    pub installments: u8,
    /// The amount most payments have: pay in 4 puts any remainder on the first payment and
    /// financing settles rounding on the last, so this is the one a promotion quotes.
    pub installment_amount: MinorUnits,
    pub apr_bps: u32,
    pub total_interest: MinorUnits,
    pub total: MinorUnits,
    pub schedule: Vec<Installment>,
}

impl Offer {
    pub fn compute(terms: &PlanTerms, amount: MinorUnits, start: CivilDate) -> Result<Self, ScheduleError> {
        let schedule = terms.schedule(amount, start)?;
        let typical = match terms.kind() {
            PlanKind::PayIn4 => schedule.installments.last(),
            PlanKind::PayIn30 | PlanKind::Financing => schedule.installments.first(),
        };
        Ok(Self {
            id: terms.id(),
            kind: terms.kind(),
            installments: terms.installment_count(),
            installment_amount: typical.map_or(amount, |i| i.amount),
            apr_bps: terms.apr_bps(),
            total_interest: schedule.total_interest,
            total: schedule.total,
            schedule: schedule.installments,
        })
    }
}

/// How an offer's payments compare: what a one-line summary may say about their amounts without
/// ever stating one that is not charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentPattern {
    /// `count` payments of `amount` each.
    Equal { count: u8, amount: MinorUnits },
    /// A first payment of `first` (pay in 4 puts the remainder there), then `count` of `amount`.
    FirstDiffers {
        first: MinorUnits,
        count: u8,
        amount: MinorUnits,
    },
    /// `count` payments of `amount`, then a last one of `last` (financing settles the rounding
    /// there).
    LastDiffers {
        count: u8,
        amount: MinorUnits,
        last: MinorUnits,
    },
    /// Any other mix, or a schedule whose length is not the offer's count. No plan computes one;
    /// an offer read from the wire might hold one.
    Irregular,
}

impl Offer {
    /// The pattern of this offer's schedule around `installment_amount`, the amount most payments
    /// have.
    pub fn payment_pattern(&self) -> PaymentPattern {
        let (count, amount) = (self.installments, self.installment_amount);
        let all_regular = |part: &[Installment]| part.iter().all(|i| i.amount == amount);
        match self.schedule.as_slice() {
            all if all.len() != usize::from(count) || all.is_empty() => PaymentPattern::Irregular,
            all if all_regular(all) => PaymentPattern::Equal { count, amount },
            [first, rest @ ..] if !rest.is_empty() && all_regular(rest) => PaymentPattern::FirstDiffers {
                first: first.amount,
                count: count - 1,
                amount,
            },
            [rest @ .., last] if !rest.is_empty() && all_regular(rest) => PaymentPattern::LastDiffers {
                count: count - 1,
                amount,
                last: last.amount,
            },
            _ => PaymentPattern::Irregular,
        }
    }
}

/// The answer of `GET /v1/offers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffersResponse {
    pub amount: MinorUnits,
    pub currency: Currency,
    pub plans: Vec<Offer>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merchant::{demo, offers};
    use proptest::prelude::*;

    fn start() -> CivilDate {
        CivilDate::parse("2026-11-23").unwrap()
    }

    #[test]
    fn payment_patterns_name_the_payment_that_differs() {
        let financing = |months, apr_bps| PlanTerms::Financing { months, apr_bps };
        let cases = [
            // $129.99 in 4: 12999 = 4 × 3249 + 3, the 3 cents go first.
            (
                PlanTerms::PayIn4,
                12_999,
                PaymentPattern::FirstDiffers {
                    first: MinorUnits(3252),
                    count: 3,
                    amount: MinorUnits(3249),
                },
            ),
            (
                PlanTerms::PayIn4,
                12_000,
                PaymentPattern::Equal {
                    count: 4,
                    amount: MinorUnits(3000),
                },
            ),
            (
                PlanTerms::PayIn30,
                12_999,
                PaymentPattern::Equal {
                    count: 1,
                    amount: MinorUnits(12_999),
                },
            ),
            // 1,000.00 over 12 months at 9.99%: 87.91 a month, the last settles at 87.94.
            (
                financing(12, 999),
                100_000,
                PaymentPattern::LastDiffers {
                    count: 11,
                    amount: MinorUnits(8791),
                    last: MinorUnits(8794),
                },
            ),
            // ¥50,000 over 6 months at 0%: 8,333.33 rounds to 8,333; the last pays 8,335.
            (
                financing(6, 0),
                50_000,
                PaymentPattern::LastDiffers {
                    count: 5,
                    amount: MinorUnits(8333),
                    last: MinorUnits(8335),
                },
            ),
            (
                financing(6, 0),
                60_000,
                PaymentPattern::Equal {
                    count: 6,
                    amount: MinorUnits(10_000),
                },
            ),
        ];
        for (terms, amount, pattern) in cases {
            let offer = Offer::compute(&terms, MinorUnits(amount), start()).unwrap();
            assert_eq!(offer.payment_pattern(), pattern, "{terms:?} {amount}");
        }
        // What no plan computes, read from the wire, is irregular, never a wrong summary.
        let mut odd = Offer::compute(&PlanTerms::PayIn4, MinorUnits(12_999), start()).unwrap();
        odd.schedule[2].amount = MinorUnits(3250);
        odd.schedule[3].amount = MinorUnits(3248);
        assert_eq!(odd.payment_pattern(), PaymentPattern::Irregular);
        odd.schedule.pop();
        assert_eq!(
            odd.payment_pattern(),
            PaymentPattern::Irregular,
            "3 payments of an offer of 4"
        );
        odd.schedule.clear();
        assert_eq!(odd.payment_pattern(), PaymentPattern::Irregular);
        let mut single = Offer::compute(&PlanTerms::PayIn30, MinorUnits(12_999), start()).unwrap();
        single.installment_amount = MinorUnits(1);
        assert_eq!(single.payment_pattern(), PaymentPattern::Irregular);
    }

    proptest! {
        /// Pay in 4 only ever differs first and financing only last, and the pattern's figures
        /// add up to the total: a summary built from them states the whole schedule.
        #[test]
        fn every_computed_offer_has_a_pattern_that_sums_to_its_total(
            kind in 0u8..3,
            months in 1u8..=120,
            apr_bps in 0u32..=10_000,
            amount in 1u64..=100_000_000,
        ) {
            let terms = match kind {
                0 => PlanTerms::PayIn4,
                1 => PlanTerms::PayIn30,
                _ => PlanTerms::Financing { months, apr_bps },
            };
            let Ok(offer) = Offer::compute(&terms, MinorUnits(amount), start()) else {
                return Ok(());
            };
            let sum = match (terms.kind(), offer.payment_pattern()) {
                (_, PaymentPattern::Equal { count, amount }) => u64::from(count) * amount.get(),
                (PlanKind::PayIn4, PaymentPattern::FirstDiffers { first, count: 3, amount }) => {
                    first.get() + 3 * amount.get()
                }
                (PlanKind::Financing, PaymentPattern::LastDiffers { count, amount, last }) => {
                    u64::from(count) * amount.get() + last.get()
                }
                (kind, pattern) => {
                    return Err(TestCaseError::fail(format!("{kind:?} {amount}: {pattern:?}")));
                }
            };
            prop_assert_eq!(sum, offer.total.get());
        }
    }

    #[test]
    fn demo_offers_for_129_99_usd_in_contract_shape() {
        let demo = demo();
        let usd = Currency::parse("USD").unwrap();
        let start = CivilDate::parse("2026-11-23").unwrap();
        let response = OffersResponse {
            amount: MinorUnits(12_999),
            currency: usd,
            plans: offers(&demo.plans, MinorUnits(12_999), usd, start).unwrap(),
        };
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            serde_json::json!({
                "amount": 12999, "currency": "USD",
                "plans": [
                    { "id": "pay_in_4", "kind": "pay_in_4", "installments": 4, "installment_amount": 3249, "apr_bps": 0,
                      "total_interest": 0, "total": 12999,
                      "schedule": [
                          { "n": 1, "due_date": "2026-11-23", "amount": 3252 },
                          { "n": 2, "due_date": "2026-12-07", "amount": 3249 },
                          { "n": 3, "due_date": "2026-12-21", "amount": 3249 },
                          { "n": 4, "due_date": "2027-01-04", "amount": 3249 }
                      ] },
                    { "id": "pay_in_30", "kind": "pay_in_30", "installments": 1, "installment_amount": 12999, "apr_bps": 0,
                      "total_interest": 0, "total": 12999,
                      "schedule": [ { "n": 1, "due_date": "2026-12-23", "amount": 12999 } ] }
                ]
            })
        );
    }
}
