//! Disclosures as data: the figures a compliant promotion must show next to an installment
//! amount (Regulation Z 1026.24, EU CCD 2023/2225, FCA CONC 3), computed once so every view and
//! every locale shows the same ones.

use crate::catalog::Locale;
use crate::currency::Currency;
use crate::date::CivilDate;
use crate::merchant::PublicMerchantConfig;
use crate::money::MinorUnits;
use crate::offer::Offer;
use crate::plan::PlanKind;

/// How often payments fall due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    EveryTwoWeeks,
    Once,
    Monthly,
}

/// Everything the terms view and the "learn more" dialog must state for one offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    pub plan_id: String,
    pub principal: MinorUnits,
    pub installment_amount: MinorUnits,
    pub installments: u8,
    pub frequency: Frequency,
    pub first_due: CivilDate,
    pub last_due: CivilDate,
    pub apr_bps: u32,
    pub total_interest: MinorUnits,
    pub total_payable: MinorUnits,
    /// `None`: the merchant charges no late fee, which must be said too.
    pub late_fee: Option<MinorUnits>,
    pub lender: String,
    /// Financing carries a representative example.
    pub representative_example: bool,
    /// EU rules: the prominent warning that borrowing costs money.
    pub borrowing_warning: bool,
}

impl Disclosure {
    /// The disclosure of `offer` for `principal`, as shown in `locale`.
    pub fn new(
        offer: &Offer,
        principal: MinorUnits,
        currency: Currency,
        merchant: &PublicMerchantConfig,
        locale: Locale,
    ) -> Option<Self> {
        let first = offer.schedule.first()?;
        let last = offer.schedule.last()?;
        Some(Self {
            plan_id: offer.id.clone(),
            principal,
            installment_amount: offer.installment_amount,
            installments: offer.installments,
            frequency: match offer.kind {
                PlanKind::PayIn4 => Frequency::EveryTwoWeeks,
                PlanKind::PayIn30 => Frequency::Once,
                PlanKind::Financing => Frequency::Monthly,
            },
            first_due: first.due_date,
            last_due: last.due_date,
            apr_bps: offer.apr_bps,
            total_interest: offer.total_interest,
            total_payable: offer.total,
            late_fee: merchant.late_fees.get(&currency).copied(),
            lender: merchant.lender.clone(),
            representative_example: offer.kind == PlanKind::Financing,
            borrowing_warning: locale.is_eu() || is_eu_currency(currency),
        })
    }
}

/// Currencies of EU member states: a promotion in them is aimed at EU consumers, whatever the
/// language of the page.
fn is_eu_currency(currency: Currency) -> bool {
    matches!(
        currency.code(),
        "EUR" | "SEK" | "DKK" | "PLN" | "CZK" | "HUF" | "RON" | "BGN"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::merchant::demo;

    #[test]
    fn financing_disclosure_in_an_eu_locale() {
        let merchant = demo();
        let eur = Currency::parse("EUR").unwrap();
        let start = CivilDate::parse("2027-01-31").unwrap();
        let offers = crate::merchant::offers(&merchant.plans, MinorUnits(100_000), eur, start).unwrap();
        let financing_12 = offers.iter().find(|o| o.id == "financing_12").unwrap();
        let d = Disclosure::new(financing_12, MinorUnits(100_000), eur, &merchant, Locale::DeDe).unwrap();
        assert_eq!((d.installments, d.frequency, d.apr_bps), (12, Frequency::Monthly, 999));
        assert_eq!(
            (d.installment_amount, d.total_payable),
            (MinorUnits(8791), MinorUnits(105_495))
        );
        assert_eq!(d.total_interest, MinorUnits(5495));
        assert_eq!(
            (d.first_due.to_string(), d.last_due.to_string()),
            ("2027-02-28".into(), "2028-01-31".into())
        );
        assert_eq!(d.late_fee, None);
        assert_eq!(d.lender, "Paylater Demo Lending AB");
        assert!(d.representative_example && d.borrowing_warning);
    }

    #[test]
    fn pay_in_4_disclosure_in_the_us_with_a_late_fee() {
        let mut merchant = demo();
        let usd = Currency::parse("USD").unwrap();
        merchant.late_fees.insert(usd, MinorUnits(700));
        let start = CivilDate::parse("2026-11-23").unwrap();
        let offers = crate::merchant::offers(&merchant.plans, MinorUnits(12_999), usd, start).unwrap();
        let d = Disclosure::new(&offers[0], MinorUnits(12_999), usd, &merchant, Locale::EnUs).unwrap();
        assert_eq!(
            (d.frequency, d.installments, d.installment_amount),
            (Frequency::EveryTwoWeeks, 4, MinorUnits(3249))
        );
        assert_eq!((d.total_interest, d.total_payable), (MinorUnits(0), MinorUnits(12_999)));
        assert_eq!(d.late_fee, Some(MinorUnits(700)));
        assert!(!d.representative_example && !d.borrowing_warning);
        assert_eq!(d.last_due.to_string(), "2027-01-04");
        // The same plan priced in euros on an English page is still an EU promotion.
        let eur = Currency::parse("EUR").unwrap();
        let offers = crate::merchant::offers(&merchant.plans, MinorUnits(12_999), eur, start).unwrap();
        let d = Disclosure::new(&offers[0], MinorUnits(12_999), eur, &merchant, Locale::EnUs).unwrap();
        assert!(d.borrowing_warning);
    }
}
