//! What the widget says: catalog messages filled with figures formatted for the shopper's
//! locale. Kept apart from the components so every view words a plan the same way.
//!
//! What the card shows at first paint goes through [`card_text`] alone, which reads the
//! catalog's card table: the card's bundle then carries that table and not the dialog's texts.

use paylater_shared::approval::{ApprovalAnswer, Outcome};
use paylater_shared::catalog::{CardMessage, Locale, MessageId, card_template, render, render_card, template};
use paylater_shared::disclosure::Disclosure;
use paylater_shared::merchant::{Availability, PublicMerchantConfig};
use paylater_shared::offer::PaymentPattern;
use paylater_shared::plan::PlanKind;
use paylater_shared::{Currency, Installment, Offer, WidgetOptions};

use crate::format;

/// A catalog message with its placeholders filled.
pub fn text(locale: Locale, message: MessageId, values: &[(&str, &str)]) -> String {
    // Callers pass every placeholder and the catalog's tests keep placeholders consistent; a
    // miss shows the raw template rather than nothing.
    render(locale, message, values).unwrap_or_else(|_| template(locale, message).to_owned())
}

/// A message the card shows, with its placeholders filled: [`text`] for the card's own table.
pub fn card_text(locale: Locale, message: CardMessage, values: &[(&str, &str)]) -> String {
    render_card(locale, message, values).unwrap_or_else(|_| card_template(locale, message).to_owned())
}

/// The plan's name as a shopper reads it: "Pay in 4", "Monthly financing · 12 months".
pub fn plan_name(offer: &Offer, locale: Locale) -> String {
    match offer.kind {
        PlanKind::PayIn4 => card_text(locale, CardMessage::PlanFamilyPayIn4, &[]),
        PlanKind::PayIn30 => card_text(locale, CardMessage::PlanFamilyPayIn30, &[]),
        PlanKind::Financing => {
            let months = card_text(
                locale,
                CardMessage::FinancingMonths,
                &[("count", &offer.installments.to_string())],
            );
            format!(
                "{} · {months}",
                card_text(locale, CardMessage::PlanFamilyFinancing, &[])
            )
        }
    }
}

/// The one line the rules require next to any installment amount: count, frequency, APR and
/// total payable. It states only amounts the schedule charges: when the payments are not all
/// equal it names the one that differs ("$32.52 today, then 3 × $32.49 every 2 weeks").
pub fn offer_summary(offer: &Offer, currency: Currency, locale: &str) -> String {
    let catalog = Locale::resolve(locale);
    let money = |amount| format::money(amount, currency, locale);
    let apr = format::apr(offer.apr_bps, locale);
    let total = money(offer.total);
    // The message, how many payments are of `amount`, and the one payment that differs.
    let (message, count, amount, differing) = match (offer.kind, offer.payment_pattern()) {
        (PlanKind::PayIn4, PaymentPattern::Equal { count: 4, amount }) => (CardMessage::SummaryPayIn4, 4, amount, None),
        (
            PlanKind::PayIn4,
            PaymentPattern::FirstDiffers {
                first,
                count: 3,
                amount,
            },
        ) => (
            CardMessage::SummaryPayIn4FirstDiffers,
            3,
            amount,
            Some(("first", first)),
        ),
        (PlanKind::PayIn30, PaymentPattern::Equal { count: 1, amount }) => {
            (CardMessage::SummaryPayIn30, 1, amount, None)
        }
        (PlanKind::Financing, PaymentPattern::Equal { count, amount }) => {
            (CardMessage::SummaryFinancing, count, amount, None)
        }
        (PlanKind::Financing, PaymentPattern::LastDiffers { count, amount, last }) => (
            CardMessage::SummaryFinancingLastDiffers,
            count,
            amount,
            Some(("last", last)),
        ),
        // No plan computes another shape (shared's tests prove it); should an answer hold one,
        // the line names no installment amount rather than a wrong one.
        _ => {
            return format!(
                "{} · {} · {}",
                plan_name(offer, catalog),
                card_text(catalog, CardMessage::AprLabel, &[("apr", &apr)]),
                card_text(catalog, CardMessage::TotalPayableLabel, &[("total", &total)]),
            );
        }
    };
    let (count, installment) = (count.to_string(), money(amount));
    let differing = differing.map(|(name, amount)| (name, money(amount)));
    let mut values = vec![
        ("count", count.as_str()),
        ("installment", &installment),
        ("apr", &apr),
        ("total", &total),
    ];
    values.extend(differing.as_ref().map(|(name, text)| (*name, text.as_str())));
    card_text(catalog, message, &values)
}

/// Why no plan is shown, politely, with the figure that would make one fit.
pub fn unavailable(config: &PublicMerchantConfig, options: &WidgetOptions) -> String {
    let (locale, tag) = (Locale::resolve(&options.locale), options.locale.as_str());
    let merchant = config.display_name.as_str();
    let amount = format::money(options.amount, options.currency, tag);
    let headline = card_text(
        locale,
        CardMessage::AmountUnavailable,
        &[("merchant", merchant), ("amount", &amount)],
    );
    match config.availability(options.amount, options.currency) {
        Availability::CurrencyNotOffered => card_text(
            locale,
            CardMessage::UnavailableCurrency,
            &[("merchant", merchant), ("currency", options.currency.code())],
        ),
        Availability::BelowMinimum(min) => {
            let min = format::money(min, options.currency, tag);
            format!(
                "{headline} {}",
                card_text(locale, CardMessage::UnavailableBelowMinimum, &[("min", &min)])
            )
        }
        Availability::AboveMaximum(max) => {
            let max = format::money(max, options.currency, tag);
            format!(
                "{headline} {}",
                card_text(locale, CardMessage::UnavailableAboveMaximum, &[("max", &max)])
            )
        }
        Availability::Available | Availability::NoPlanForAmount => headline,
    }
}

/// One schedule row: "December 7, 2026: $32.49".
pub fn installment_row(installment: &paylater_shared::Installment, currency: Currency, locale: &str) -> String {
    let date = format::date(installment.due_date, locale);
    let amount = format::money(installment.amount, currency, locale);
    text(
        Locale::resolve(locale),
        MessageId::InstallmentRow,
        &[("date", &date), ("amount", &amount)],
    )
}

/// The "learn more" lines under a plan's schedule: APR, interest, total, fees, lender, the
/// representative example for financing and, where EU rules apply, the borrowing warning.
pub fn disclosure_lines(disclosure: &Disclosure, currency: Currency, locale: &str) -> Vec<(&'static str, String)> {
    let catalog = Locale::resolve(locale);
    let money = |amount| format::money(amount, currency, locale);
    let apr = format::apr(disclosure.apr_bps, locale);
    let mut lines = vec![
        ("apr", text(catalog, MessageId::AprLabel, &[("apr", &apr)])),
        (
            "total-interest",
            text(
                catalog,
                MessageId::TotalInterestLabel,
                &[("interest", &money(disclosure.total_interest))],
            ),
        ),
        (
            "total-payable",
            text(
                catalog,
                MessageId::TotalPayableLabel,
                &[("total", &money(disclosure.total_payable))],
            ),
        ),
        (
            "late-fee",
            match disclosure.late_fee {
                Some(fee) => text(catalog, MessageId::LateFee, &[("fee", &money(fee))]),
                None => text(catalog, MessageId::NoLateFees, &[]),
            },
        ),
        (
            "lender",
            text(catalog, MessageId::Lender, &[("lender", &disclosure.lender)]),
        ),
    ];
    if disclosure.representative_example {
        let values = [
            ("principal", money(disclosure.principal)),
            ("count", disclosure.installments.to_string()),
            ("apr", apr.clone()),
            ("installment", money(disclosure.installment_amount)),
            ("interest", money(disclosure.total_interest)),
            ("total", money(disclosure.total_payable)),
        ];
        let values: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
        lines.push((
            "representative-example",
            text(catalog, MessageId::RepresentativeExample, &values),
        ));
    }
    if disclosure.borrowing_warning {
        lines.push(("borrowing-warning", text(catalog, MessageId::BorrowingWarning, &[])));
    }
    lines
}

/// The decision's title: approved, declined or in review.
pub fn outcome_title(outcome: Outcome, locale: Locale) -> String {
    let message = match outcome {
        Outcome::Approved => CardMessage::ApprovedTitle,
        Outcome::Declined => CardMessage::DeclinedTitle,
        Outcome::Review => CardMessage::ReviewTitle,
    };
    card_text(locale, message, &[])
}

/// The card's two lines after a decision: its title, and the first payment when approved.
pub fn outcome_line(answer: &ApprovalAnswer, options: &WidgetOptions) -> (String, String) {
    let reason = answer.reasons.first().map(|r| r.message.as_str());
    decision_lines(answer.decision, answer.schedule.first(), reason, options)
}

/// The same lines from what a decision's DOM event carries: the first installment of an
/// approval, the first reason otherwise.
pub fn decision_lines(
    outcome: Outcome,
    first: Option<&Installment>,
    reason: Option<&str>,
    options: &WidgetOptions,
) -> (String, String) {
    let locale = Locale::resolve(&options.locale);
    let title = outcome_title(outcome, locale);
    let detail = match (outcome, first) {
        (Outcome::Approved, Some(first)) => card_text(
            locale,
            CardMessage::ApprovedFirstPayment,
            &[
                (
                    "amount",
                    &format::money(first.amount, options.currency, &options.locale),
                ),
                ("date", &format::date(first.due_date, &options.locale)),
            ],
        ),
        _ => reason.unwrap_or_default().to_owned(),
    };
    (title, detail)
}
