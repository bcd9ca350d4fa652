//! The root component: merchant name and plans from the edge, then the offers with their full
//! terms when the shopper asks.

use leptos::prelude::*;
use paylater_shared::catalog::{Locale, MessageId, render, template};
use paylater_shared::merchant::PublicMerchantConfig;
use paylater_shared::plan::PlanKind;
use paylater_shared::{Currency, MinorUnits, Offer, OffersResponse, WidgetOptions};
use send_wrapper::SendWrapper;
use web_sys::AbortController;

use crate::edge_api::{EdgeApi, EdgeApiError};
use crate::format;
use crate::host::{Host, WidgetState};

/// Everything a mounted widget was given.
#[derive(Clone)]
pub struct WidgetContext {
    pub options: WidgetOptions,
    pub api: EdgeApi,
    pub host: Host,
}

/// A catalog message without placeholders (or with all of them given).
fn text(locale: Locale, message: MessageId, values: &[(&str, &str)]) -> String {
    // Every placeholder is passed by the callers below; a miss shows the raw template rather
    // than nothing, and the catalog's own tests keep the placeholders consistent.
    render(locale, message, values).unwrap_or_else(|_| template(locale, message).to_owned())
}

fn plan_family_name(kind: PlanKind, locale: Locale) -> String {
    let message = match kind {
        PlanKind::PayIn4 => MessageId::PlanFamilyPayIn4,
        PlanKind::PayIn30 => MessageId::PlanFamilyPayIn30,
        PlanKind::Financing => MessageId::PlanFamilyFinancing,
    };
    text(locale, message, &[])
}

/// Names of the plan families that cover this amount, in the merchant's order.
fn eligible_families(
    config: &PublicMerchantConfig,
    amount: MinorUnits,
    currency: Currency,
    locale: Locale,
) -> Vec<String> {
    config
        .plans
        .iter()
        .filter(|plan| plan.ranges.get(&currency).is_some_and(|range| range.contains(amount)))
        .map(|plan| plan_family_name(plan.kind, locale))
        .collect()
}

/// The `paylater:ready` detail (CONTRACT §2).
fn ready_detail(offers: &OffersResponse) -> serde_json::Value {
    let plans: Vec<_> = offers
        .plans
        .iter()
        .map(|o| {
            serde_json::json!({
                "id": o.id, "kind": o.kind, "installments": o.installments,
                "installment_amount": o.installment_amount, "total": o.total, "apr_bps": o.apr_bps,
            })
        })
        .collect();
    serde_json::json!({ "plans": plans })
}

/// The widget for one target element.
#[component]
pub fn App(
    /// The validated options, the edge to ask, and the merchant element to report to.
    context: WidgetContext,
) -> impl IntoView {
    // Aborts every fetch still in flight when the widget is destroyed.
    let aborter = SendWrapper::new(AbortController::new().ok());
    let abort_signal = SendWrapper::new(aborter.as_ref().map(AbortController::signal));
    on_cleanup(move || {
        if let Some(controller) = aborter.take() {
            controller.abort();
        }
    });

    let WidgetContext { options, api, host } = context;
    host.set_state(WidgetState::Loading);
    let config = LocalResource::new({
        let (api, key, signal) = (api.clone(), options.key.clone(), abort_signal.clone());
        move || {
            let (api, key, signal) = (api.clone(), key.clone(), signal.clone());
            async move { api.merchant_config(&key, signal.as_ref()).await }
        }
    });
    let (offers_wanted, want_offers) = signal(false);
    let offers = LocalResource::new({
        let (api, options) = (api.clone(), options.clone());
        move || {
            let wanted = offers_wanted.get();
            let (api, options, signal) = (api.clone(), options.clone(), abort_signal.clone());
            async move {
                if !wanted {
                    return None;
                }
                Some(api.offers(&options, format::local_today(), signal.as_ref()).await)
            }
        }
    });

    let report = {
        let host = host.clone();
        move |error: &EdgeApiError| host.report_error(error.code(), &error.to_string())
    };
    let theme_class = format!("pl-widget pl-theme-{}", options.theme.as_str());
    let locale = Locale::resolve(&options.locale);
    let body = move || match config.get() {
        None => {
            view! { <p class="pl-muted" data-testid="loading">{text(locale, MessageId::Loading, &[])}</p> }.into_any()
        }
        Some(Err(error)) => {
            report(&error);
            view! { <p class="pl-muted" data-testid="error">{text(locale, MessageId::ServiceUnavailable, &[])}</p> }
                .into_any()
        }
        Some(Ok(config)) => {
            let families = eligible_families(&config, options.amount, options.currency, locale);
            let merchant = config.display_name.as_str();
            if families.is_empty() {
                host.set_state(WidgetState::Unavailable);
                let amount = format::money(options.amount, options.currency, &options.locale);
                let message = text(
                    locale,
                    MessageId::AmountUnavailable,
                    &[("merchant", merchant), ("amount", &amount)],
                );
                return view! { <p data-testid="unavailable">{message}</p> }.into_any();
            }
            let offers_view = offers_view(offers, options.clone(), host.clone(), report.clone());
            view! {
                <p class="pl-headline" data-testid="headline">{text(locale, MessageId::Headline, &[("merchant", merchant)])}</p>
                <p class="pl-muted" data-testid="plan-families">{families.join(" · ")}</p>
                <Show when=move || !offers_wanted.get()>
                    <button class="pl-button" type="button" data-testid="show-offers" on:click=move |_| want_offers.set(true)>
                        {text(locale, MessageId::SeeOptions, &[])}
                    </button>
                </Show>
                {offers_view}
            }
            .into_any()
        }
    };
    view! { <div class=theme_class aria-live="polite">{body}</div> }
}

fn offers_view(
    offers: LocalResource<Option<Result<OffersResponse, EdgeApiError>>>,
    options: WidgetOptions,
    host: Host,
    report: impl Fn(&EdgeApiError) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    move || match offers.get().flatten() {
        None => ().into_any(),
        Some(Err(error)) => {
            report(&error);
            let message = text(Locale::resolve(&options.locale), MessageId::OffersUnavailable, &[]);
            view! { <p class="pl-muted" data-testid="error">{message}</p> }.into_any()
        }
        Some(Ok(response)) => {
            host.set_state(WidgetState::Ready);
            host.dispatch("ready", &ready_detail(&response));
            let items = response
                .plans
                .iter()
                .map(|offer| view! { <OfferCard offer=offer.clone() currency=response.currency locale=options.locale.clone()/> })
                .collect_view();
            view! { <ul class="pl-offers" data-testid="offers">{items}</ul> }.into_any()
        }
    }
}

/// The one-line summary the rules require next to any installment amount: count, frequency,
/// APR and total payable.
pub fn offer_summary(offer: &Offer, currency: Currency, locale: &str) -> String {
    let installment = format::money(offer.installment_amount, currency, locale);
    let total = format::money(offer.total, currency, locale);
    let apr = format::apr(offer.apr_bps, locale);
    let count = offer.installments.to_string();
    let message = match offer.kind {
        PlanKind::PayIn4 => MessageId::SummaryPayIn4,
        PlanKind::PayIn30 => MessageId::SummaryPayIn30,
        PlanKind::Financing => MessageId::SummaryFinancing,
    };
    let values = [
        ("installment", installment.as_str()),
        ("apr", &apr),
        ("total", &total),
        ("count", &count),
    ];
    text(Locale::resolve(locale), message, &values)
}

/// One plan with its schedule.
#[component]
fn OfferCard(
    /// The plan for this amount, as the edge computed it.
    offer: Offer,
    /// Currency of every amount in the offer.
    currency: Currency,
    /// BCP 47 locale for numbers and dates.
    locale: String,
) -> impl IntoView {
    let summary = offer_summary(&offer, currency, &locale);
    let catalog_locale = Locale::resolve(&locale);
    let rows = offer
        .schedule
        .iter()
        .map(|installment| {
            let (date, amount) = (
                format::date(installment.due_date, &locale),
                format::money(installment.amount, currency, &locale),
            );
            let line = text(
                catalog_locale,
                MessageId::InstallmentRow,
                &[("date", &date), ("amount", &amount)],
            );
            view! { <li data-testid="installment">{line}</li> }
        })
        .collect_view();
    view! {
        <li class="pl-offer" data-testid="offer" data-plan-id=offer.id.clone()>
            <p class="pl-offer-summary" data-testid="offer-summary">{summary}</p>
            <ol class="pl-schedule">{rows}</ol>
        </li>
    }
}
