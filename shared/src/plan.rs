//! Plan kinds and their repayment schedules (the rules are in PRODUCT.md, "Plans and their rules").

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::date::{CivilDate, DateError};
use crate::money::{MAX_MINOR_UNITS, MinorUnits};

/// The three families of plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PlanKind {
    #[serde(rename = "pay_in_4")]
    PayIn4,
    #[serde(rename = "pay_in_30")]
    PayIn30,
    #[serde(rename = "financing")]
    Financing,
}

impl PlanKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PayIn4 => "pay_in_4",
            Self::PayIn30 => "pay_in_30",
            Self::Financing => "financing",
        }
    }
}

/// Interest-free pay in 4: today, then every 14 days.
pub const PAY_IN_4_INTERVAL_DAYS: u32 = 14;
/// Pay in 30: one payment this many days after checkout.
pub const PAY_IN_30_DAYS: u32 = 30;
/// Financing terms are bounded so schedules stay readable and arithmetic stays small.
pub const MAX_FINANCING_MONTHS: u8 = 120;
/// APRs above 100% are refused: no lender we model charges them and they signal a config typo.
pub const MAX_APR_BPS: u32 = 10_000;

/// The latest start from which every schedule a merchant may configure ends by 9999-12-31: the
/// longest, financing over [`MAX_FINANCING_MONTHS`] months, then ends on that very day (pay in 4
/// and pay in 30 end within weeks; the tests check all three).
pub fn latest_schedule_start() -> CivilDate {
    CivilDate::latest_start_for_months(MAX_FINANCING_MONTHS)
}

/// `start` if every schedule counted from it fits in the calendar, whatever the merchant's plans,
/// so a late start is refused the same way for every merchant and amount.
pub fn check_schedule_start(start: CivilDate) -> Result<CivilDate, DateError> {
    let latest = latest_schedule_start();
    if start > latest {
        return Err(DateError::ScheduleRunsPastCalendar { start, latest });
    }
    Ok(start)
}

/// What a plan charges, independent of the amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlanTerms {
    PayIn4,
    PayIn30,
    /// Monthly payments for `months` months at `apr_bps` basis points a year.
    Financing {
        months: u8,
        apr_bps: u32,
    },
}

/// Why no schedule could be computed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScheduleError {
    #[error("amount is too small to split into {installments} non-zero payments")]
    AmountTooSmall { installments: u8 },
    #[error("amount must be at most {MAX_MINOR_UNITS} minor units")]
    AmountTooLarge,
    #[error("financing must run 1 to {MAX_FINANCING_MONTHS} months")]
    BadTerm,
    #[error("APR must be at most {MAX_APR_BPS} basis points")]
    BadApr,
    #[error(transparent)]
    Date(#[from] DateError),
}

/// One payment of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installment {
    /// 1-based position in the schedule.
    pub n: u8,
    pub due_date: CivilDate,
    pub amount: MinorUnits,
}

/// A computed schedule and its totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub installments: Vec<Installment>,
    pub total_interest: MinorUnits,
    pub total: MinorUnits,
}

impl PlanTerms {
    pub fn kind(&self) -> PlanKind {
        match self {
            Self::PayIn4 => PlanKind::PayIn4,
            Self::PayIn30 => PlanKind::PayIn30,
            Self::Financing { .. } => PlanKind::Financing,
        }
    }

    /// The stable plan id used on the wire: `pay_in_4`, `pay_in_30`, `financing_12`.
    pub fn id(&self) -> String {
        match self {
            Self::Financing { months, .. } => format!("financing_{months}"),
            other => other.kind().as_str().to_owned(),
        }
    }

    pub fn installment_count(&self) -> u8 {
        match self {
            Self::PayIn4 => 4,
            Self::PayIn30 => 1,
            Self::Financing { months, .. } => *months,
        }
    }

    pub fn apr_bps(&self) -> u32 {
        match self {
            Self::Financing { apr_bps, .. } => *apr_bps,
            _ => 0,
        }
    }

    /// The full schedule for `principal`, counting due dates from `start` (checkout day, in the
    /// shopper's time zone).
    pub fn schedule(&self, principal: MinorUnits, start: CivilDate) -> Result<Schedule, ScheduleError> {
        if principal.get() > MAX_MINOR_UNITS {
            return Err(ScheduleError::AmountTooLarge);
        }
        let amounts = match *self {
            Self::PayIn4 => split_remainder_first(principal.get(), 4)?,
            Self::PayIn30 => split_remainder_first(principal.get(), 1)?,
            Self::Financing { months, apr_bps } => {
                if months == 0 || months > MAX_FINANCING_MONTHS {
                    return Err(ScheduleError::BadTerm);
                }
                if apr_bps > MAX_APR_BPS {
                    return Err(ScheduleError::BadApr);
                }
                amortize(principal.get(), months, apr_bps)?
            }
        };
        let mut installments = Vec::with_capacity(amounts.len());
        for (index, amount) in amounts.into_iter().enumerate() {
            // index < 120 by the bounds above.
            let n = index as u8 + 1;
            let due_date = match *self {
                Self::PayIn4 => start.add_days(PAY_IN_4_INTERVAL_DAYS * u32::from(n - 1))?,
                Self::PayIn30 => start.add_days(PAY_IN_30_DAYS)?,
                // Each date from `start`, never from the previous one, so 31 Jan → 28 Feb → 31 Mar.
                Self::Financing { .. } => start.add_months(u32::from(n))?,
            };
            installments.push(Installment {
                n,
                due_date,
                amount: MinorUnits(amount),
            });
        }
        let total: u64 = installments.iter().map(|i| i.amount.get()).sum();
        Ok(Schedule {
            installments,
            total_interest: MinorUnits(total - principal.get()),
            total: MinorUnits(total),
        })
    }
}

/// Equal parts in minor units; the remainder goes to the first payment.
fn split_remainder_first(total: u64, parts: u8) -> Result<Vec<u64>, ScheduleError> {
    let parts_u64 = u64::from(parts);
    if total < parts_u64 {
        return Err(ScheduleError::AmountTooSmall { installments: parts });
    }
    let base = total / parts_u64;
    let mut amounts = vec![base; usize::from(parts)];
    amounts[0] += total % parts_u64;
    Ok(amounts)
}

/// Divides and rounds half up; both operands are non-negative here.
fn div_round_half_up(numerator: i128, denominator: i128) -> i128 {
    (2 * numerator + denominator) / (2 * denominator)
}

/// The level monthly payment `P·r / (1 − (1+r)^−n)` with `r = apr_bps / 120 000`, rounded half up
/// to the minor unit. Computed exactly with big integers: `(120 000 + apr)^n` outgrows `u128`.
pub fn annuity_payment(principal: u64, months: u8, apr_bps: u32) -> u64 {
    if apr_bps == 0 {
        return div_round_half_up(i128::from(principal), i128::from(months)) as u64;
    }
    let base = 120_000u64;
    let growth = big::pow(base + u64::from(apr_bps), months);
    let discount = big::pow(base, months);
    // payment = P · apr · growth / (base · (growth − discount))
    let numerator = big::mul_small(&big::mul_small(&growth, principal), u64::from(apr_bps));
    let denominator = big::mul_small(&big::sub(&growth, &discount), base);
    // Half up: floor((2·num + den) / (2·den)).
    let twice_numerator = big::add(&big::mul_small(&numerator, 2), &denominator);
    big::div_to_u64(&twice_numerator, &big::mul_small(&denominator, 2))
}

/// Amortizes like a lender's statement: each month's interest is the balance times the monthly
/// rate rounded half up; every payment but the last is the rounded annuity payment; the last pays
/// off the remaining balance with its interest, so the schedule sums exactly.
fn amortize(principal: u64, months: u8, apr_bps: u32) -> Result<Vec<u64>, ScheduleError> {
    let too_small = ScheduleError::AmountTooSmall { installments: months };
    let payment = i128::from(annuity_payment(principal, months, apr_bps));
    let mut balance = i128::from(principal);
    let mut amounts = Vec::with_capacity(usize::from(months));
    for month in 1..=months {
        let interest = div_round_half_up(balance * i128::from(apr_bps), 120_000);
        let due = if month == months { balance + interest } else { payment };
        balance = balance + interest - due;
        if due <= 0 || balance < 0 {
            return Err(too_small);
        }
        amounts.push(due as u64);
    }
    Ok(amounts)
}

/// Just enough unsigned big-integer arithmetic for the annuity formula: little-endian u32 limbs.
mod big {
    pub type Big = Vec<u32>;

    fn trim(mut value: Big) -> Big {
        while value.len() > 1 && value.last() == Some(&0) {
            value.pop();
        }
        value
    }

    pub fn from_u64(value: u64) -> Big {
        trim(vec![value as u32, (value >> 32) as u32])
    }

    pub fn mul_small(value: &Big, factor: u64) -> Big {
        mul(value, &from_u64(factor))
    }

    pub fn mul(a: &Big, b: &Big) -> Big {
        let mut out = vec![0u32; a.len() + b.len()];
        for (i, &x) in a.iter().enumerate() {
            let mut carry = 0u64;
            for (j, &y) in b.iter().enumerate() {
                let t = u64::from(x) * u64::from(y) + u64::from(out[i + j]) + carry;
                out[i + j] = t as u32;
                carry = t >> 32;
            }
            out[i + b.len()] = carry as u32;
        }
        trim(out)
    }

    pub fn pow(base: u64, exponent: u8) -> Big {
        (0..exponent).fold(from_u64(1), |acc, _| mul_small(&acc, base))
    }

    pub fn add(a: &Big, b: &Big) -> Big {
        let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
        let mut carry = 0u64;
        for i in 0..a.len().max(b.len()) {
            let t = u64::from(*a.get(i).unwrap_or(&0)) + u64::from(*b.get(i).unwrap_or(&0)) + carry;
            out.push(t as u32);
            carry = t >> 32;
        }
        out.push(carry as u32);
        trim(out)
    }

    /// `a − b`, requiring `a ≥ b`.
    pub fn sub(a: &Big, b: &Big) -> Big {
        let mut out = Vec::with_capacity(a.len());
        let mut borrow = 0i64;
        for (i, &limb) in a.iter().enumerate() {
            let mut t = i64::from(limb) - i64::from(*b.get(i).unwrap_or(&0)) - borrow;
            borrow = i64::from(t < 0);
            if t < 0 {
                t += 1 << 32;
            }
            out.push(t as u32);
        }
        trim(out)
    }

    fn cmp(a: &Big, b: &Big) -> std::cmp::Ordering {
        a.len().cmp(&b.len()).then_with(|| a.iter().rev().cmp(b.iter().rev()))
    }

    fn shl1(value: &Big) -> Big {
        let mut out = Vec::with_capacity(value.len() + 1);
        let mut carry = 0u32;
        for &limb in value {
            out.push((limb << 1) | carry);
            carry = limb >> 31;
        }
        out.push(carry);
        trim(out)
    }

    /// `floor(a / b)` for a quotient known to fit in u64 (a payment in minor units): restoring
    /// binary long division over the quotient's 64 bits.
    pub fn div_to_u64(a: &Big, b: &Big) -> u64 {
        let mut quotient = 0u64;
        let mut remainder = a.clone();
        let mut shifted: Vec<Big> = Vec::with_capacity(64);
        let mut current = b.clone();
        for _ in 0..64 {
            shifted.push(current.clone());
            current = shl1(&current);
        }
        for bit in (0..64).rev() {
            if cmp(&remainder, &shifted[bit]) != std::cmp::Ordering::Less {
                remainder = sub(&remainder, &shifted[bit]);
                quotient |= 1 << bit;
            }
        }
        quotient
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(text: &str) -> CivilDate {
        CivilDate::parse(text).unwrap()
    }

    fn rows(schedule: &Schedule) -> Vec<(String, u64)> {
        schedule
            .installments
            .iter()
            .map(|i| (i.due_date.to_string(), i.amount.get()))
            .collect()
    }

    #[test]
    fn every_plan_fits_from_the_latest_schedule_start_and_none_is_promised_after_it() {
        let latest = latest_schedule_start();
        assert_eq!(latest, date("9989-12-31"));
        let longest = PlanTerms::Financing {
            months: MAX_FINANCING_MONTHS,
            apr_bps: MAX_APR_BPS,
        };
        for terms in [PlanTerms::PayIn4, PlanTerms::PayIn30, longest] {
            let schedule = terms.schedule(MinorUnits(1_000_000), latest).unwrap();
            assert!(schedule.installments.iter().all(|i| i.due_date <= date("9999-12-31")));
        }
        assert_eq!(
            longest
                .schedule(MinorUnits(1_000_000), latest)
                .unwrap()
                .installments
                .last()
                .map(|i| i.due_date),
            Some(date("9999-12-31"))
        );
        // The day after would need 10000-01-31 for the longest financing.
        let day_after = date("9990-01-01");
        assert_eq!(
            longest.schedule(MinorUnits(1_000_000), day_after),
            Err(ScheduleError::Date(DateError::OutOfRange))
        );
        assert_eq!(check_schedule_start(latest), Ok(latest));
        assert_eq!(
            check_schedule_start(day_after),
            Err(DateError::ScheduleRunsPastCalendar {
                start: day_after,
                latest
            })
        );
    }

    #[test]
    fn pay_in_4_puts_the_remainder_first() {
        let s = PlanTerms::PayIn4
            .schedule(MinorUnits(12999), date("2026-11-23"))
            .unwrap();
        assert_eq!(
            rows(&s),
            [
                ("2026-11-23".into(), 3252),
                ("2026-12-07".into(), 3249),
                ("2026-12-21".into(), 3249),
                ("2027-01-04".into(), 3249)
            ]
        );
        assert_eq!((s.total, s.total_interest), (MinorUnits(12999), MinorUnits(0)));
    }

    #[test]
    fn pay_in_4_in_yen_across_a_leap_day() {
        let s = PlanTerms::PayIn4
            .schedule(MinorUnits(5001), date("2028-02-20"))
            .unwrap();
        assert_eq!(
            rows(&s),
            [
                ("2028-02-20".into(), 1251),
                ("2028-03-05".into(), 1250),
                ("2028-03-19".into(), 1250),
                ("2028-04-02".into(), 1250)
            ]
        );
    }

    #[test]
    fn pay_in_4_in_kuwaiti_dinar_keeps_three_decimals() {
        // 100.003 KWD = 100 003 fils: 25 000.75 each → 25 003 first, then 25 000.
        let s = PlanTerms::PayIn4
            .schedule(MinorUnits(100_003), date("2026-12-31"))
            .unwrap();
        assert_eq!(
            rows(&s),
            [
                ("2026-12-31".into(), 25_003),
                ("2027-01-14".into(), 25_000),
                ("2027-01-28".into(), 25_000),
                ("2027-02-11".into(), 25_000)
            ]
        );
    }

    #[test]
    fn pay_in_30_is_one_payment_thirty_days_on() {
        let s = PlanTerms::PayIn30
            .schedule(MinorUnits(4500), date("2026-12-25"))
            .unwrap();
        assert_eq!(rows(&s), [("2027-01-24".into(), 4500)]);
    }

    #[test]
    fn financing_at_zero_apr_rounds_half_up_and_settles_on_the_last() {
        let terms = PlanTerms::Financing { months: 6, apr_bps: 0 };
        let s = terms.schedule(MinorUnits(100_001), date("2027-01-31")).unwrap();
        // 100 001 / 6 = 16 666.83 → 16 667 five times, the last 16 666.
        assert_eq!(
            rows(&s),
            [
                ("2027-02-28".into(), 16_667),
                ("2027-03-31".into(), 16_667),
                ("2027-04-30".into(), 16_667),
                ("2027-05-31".into(), 16_667),
                ("2027-06-30".into(), 16_667),
                ("2027-07-31".into(), 16_666),
            ]
        );
        assert_eq!((s.total, s.total_interest), (MinorUnits(100_001), MinorUnits(0)));
    }

    #[test]
    fn financing_12_months_at_9_99_percent() {
        // $1,000.00 at 9.99% APR for 12 months: the closed form gives $87.9112… → $87.91.
        assert_eq!(annuity_payment(100_000, 12, 999), 8791);
        let s = PlanTerms::Financing {
            months: 12,
            apr_bps: 999,
        }
        .schedule(MinorUnits(100_000), date("2026-11-23"))
        .unwrap();
        assert!(s.installments[..11].iter().all(|i| i.amount == MinorUnits(8791)));
        // Balance after 11 payments with per-month rounded interest, plus its interest.
        assert_eq!(s.installments[11].amount, MinorUnits(8794));
        assert_eq!(s.total, MinorUnits(8791 * 11 + 8794));
        assert_eq!(s.total_interest, MinorUnits(8791 * 11 + 8794 - 100_000));
        assert_eq!(s.installments[11].due_date, date("2027-11-23"));
    }

    #[test]
    fn financing_24_months_at_19_99_percent_in_kwd() {
        // 1,000.000 KWD (three decimals) at 19.99%: the closed form gives 50.8909… KWD → 50.891.
        assert_eq!(annuity_payment(1_000_000, 24, 1999), 50_891);
    }

    #[test]
    fn bad_terms_are_refused() {
        let start = date("2026-11-23");
        let cases = [
            (PlanTerms::PayIn4, 3, ScheduleError::AmountTooSmall { installments: 4 }),
            (
                PlanTerms::Financing { months: 0, apr_bps: 0 },
                10_000,
                ScheduleError::BadTerm,
            ),
            (
                PlanTerms::Financing {
                    months: 121,
                    apr_bps: 0,
                },
                10_000,
                ScheduleError::BadTerm,
            ),
            (
                PlanTerms::Financing {
                    months: 12,
                    apr_bps: 10_001,
                },
                10_000,
                ScheduleError::BadApr,
            ),
            (
                PlanTerms::Financing {
                    months: 24,
                    apr_bps: 999,
                },
                5,
                ScheduleError::AmountTooSmall { installments: 24 },
            ),
            (PlanTerms::PayIn30, MAX_MINOR_UNITS + 1, ScheduleError::AmountTooLarge),
        ];
        for (terms, amount, error) in cases {
            assert_eq!(
                terms.schedule(MinorUnits(amount), start),
                Err(error),
                "{terms:?} {amount}"
            );
        }
    }

    fn any_terms() -> impl Strategy<Value = PlanTerms> {
        prop_oneof![
            Just(PlanTerms::PayIn4),
            Just(PlanTerms::PayIn30),
            (1u8..=MAX_FINANCING_MONTHS, 0u32..=MAX_APR_BPS)
                .prop_map(|(months, apr_bps)| PlanTerms::Financing { months, apr_bps }),
        ]
    }

    proptest! {
        #[test]
        fn schedules_sum_exactly_and_dates_strictly_increase(
            terms in any_terms(),
            amount in 1u64..=MAX_MINOR_UNITS,
            start_day in 0i64..2_900_000,
        ) {
            let start = CivilDate::from_days_since_epoch(start_day).unwrap();
            let Ok(s) = terms.schedule(MinorUnits(amount), start) else {
                // Only tiny amounts may be refused, and only for being too small to split.
                prop_assert!(amount < 100_000, "refused {amount}");
                return Ok(());
            };
            prop_assert_eq!(s.installments.len(), usize::from(terms.installment_count()));
            let sum: u64 = s.installments.iter().map(|i| i.amount.get()).sum();
            prop_assert_eq!(sum, s.total.get());
            prop_assert_eq!(s.total.get(), amount + s.total_interest.get());
            prop_assert!(s.installments.iter().all(|i| i.amount.get() > 0));
            prop_assert!(s.installments.windows(2).all(|w| w[0].due_date < w[1].due_date));
            prop_assert!(s.installments.iter().all(|i| i.due_date >= start));
        }

        #[test]
        fn financing_payments_match_the_closed_form(
            months in 1u8..=60,
            apr_bps in 1u32..=MAX_APR_BPS,
            amount in 10_000u64..=100_000_000_000,
        ) {
            let r = f64::from(apr_bps) / 120_000.0;
            let exact = amount as f64 * r / (1.0 - (1.0 + r).powi(-i32::from(months)));
            let payment = annuity_payment(amount, months, apr_bps) as f64;
            // Float is only the test's oracle; the product never uses it.
            prop_assert!((payment - exact).abs() <= 1.0, "payment {payment} vs closed form {exact}");
        }
    }
}
