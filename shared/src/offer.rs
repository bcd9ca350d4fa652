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
