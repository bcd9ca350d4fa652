//! The "learn more" dialog's plan list: every eligible plan as a radio choice with the summary
//! the rules require, and the chosen plan's full disclosure: schedule with due dates, APR,
//! interest, total, fees, lender, the representative example and, under EU rules, the warning.

use leptos::prelude::*;
use paylater_shared::catalog::{Locale, MessageId};
use paylater_shared::disclosure::Disclosure;
use paylater_shared::merchant::PublicMerchantConfig;
use paylater_shared::{Offer, OffersResponse, WidgetOptions};

use paylater_card::copy::{disclosure_lines, installment_row, offer_summary, plan_name, text};
use paylater_card::host::Host;

/// Every plan to choose from, the chosen one's full terms, and the button that goes on to the
/// approval form.
#[component]
pub fn PlanPicker(
    /// Amount, currency and locale the offers are for.
    options: WidgetOptions,
    /// Lender and fees the disclosure names.
    config: PublicMerchantConfig,
    /// The plans the edge computed for this amount (never empty here).
    offers: OffersResponse,
    /// The chosen plan's id; the first plan unless the shopper picked another.
    selected: RwSignal<Option<String>>,
    /// The dialog's live region.
    announcement: RwSignal<String>,
    /// The merchant element, told of each pick (`paylater:plan-selected`).
    host: Host,
    /// A session is being made: the button waits.
    #[prop(into)]
    busy: Signal<bool>,
    /// The last attempt to start failed: say so next to the button.
    #[prop(into)]
    failed: Signal<bool>,
    /// Goes on to the approval form with the chosen plan.
    on_continue: impl Fn() + 'static,
) -> impl IntoView {
    let locale = Locale::resolve(&options.locale);
    if !selected.with_untracked(|id| offers.plans.iter().any(|o| Some(&o.id) == id.as_ref())) {
        selected.set(offers.plans.first().map(|o| o.id.clone()));
    }
    let choices = offers
        .plans
        .iter()
        .map(|offer| {
            let id = offer.id.clone();
            let checked = {
                let id = id.clone();
                move || selected.with(|s| s.as_ref() == Some(&id))
            };
            let pick = {
                let (host, id, name) = (host.clone(), id.clone(), plan_name(offer, locale));
                move |_| {
                    selected.set(Some(id.clone()));
                    host.dispatch("plan-selected", &serde_json::json!({ "plan_id": id }));
                    announcement.set(text(locale, MessageId::PlanSelected, &[("plan", &name)]));
                }
            };
            view! {
                <label class="pl-choice" data-testid="plan-choice" data-plan-id=id.clone()>
                    <input type="radio" name="pl-plan" value=id.clone() prop:checked=checked on:change=pick/>
                    <span class="pl-choice-text">
                        <span class="pl-choice-name">{plan_name(offer, locale)}</span>
                        <span class="pl-choice-summary" data-testid="offer-summary">
                            {offer_summary(offer, offers.currency, &options.locale)}
                        </span>
                    </span>
                </label>
            }
        })
        .collect_view();

    let details = {
        let (options, offers) = (options.clone(), offers.clone());
        move || {
            let id = selected.get();
            let offer = offers.plans.iter().find(|o| Some(&o.id) == id.as_ref())?;
            Some(view! { <PlanDetails offer=offer.clone() options=options.clone() config=config.clone()/> })
        }
    };
    let continue_label = {
        let offers = offers.clone();
        move || {
            let id = selected.get();
            let name = offers
                .plans
                .iter()
                .find(|o| Some(&o.id) == id.as_ref())
                .map(|o| plan_name(o, locale))
                .unwrap_or_default();
            text(locale, MessageId::ContinueWithPlan, &[("plan", &name)])
        }
    };
    view! {
        <fieldset class="pl-choices">
            <legend class="pl-sr-only">{text(locale, MessageId::ChoosePlan, &[])}</legend>
            {choices}
        </fieldset>
        {details}
        <p class="pl-alert" role="alert" data-testid="start-failed" tabindex="-1" hidden=move || !failed.get()>
            {text(locale, MessageId::ApprovalFailed, &[])}
        </p>
        <div class="pl-actions">
            <button
                class="pl-button"
                type="button"
                data-testid="continue"
                disabled=move || busy.get()
                aria-busy=move || busy.get().to_string()
                on:click=move |_| on_continue()
            >
                {continue_label}
            </button>
        </div>
    }
}

/// One plan's full disclosure.
#[component]
pub fn PlanDetails(
    /// The plan as the edge computed it for this amount.
    offer: Offer,
    /// Amount, currency and locale.
    options: WidgetOptions,
    /// Lender and fees.
    config: PublicMerchantConfig,
) -> impl IntoView {
    let locale = Locale::resolve(&options.locale);
    let rows = offer
        .schedule
        .iter()
        .map(|installment| {
            view! { <li data-testid="installment">{installment_row(installment, options.currency, &options.locale)}</li> }
        })
        .collect_view();
    let lines = Disclosure::new(&offer, options.amount, options.currency, &config, locale)
        .map(|d| disclosure_lines(&d, options.currency, &options.locale))
        .unwrap_or_default()
        .into_iter()
        .map(|(name, line)| {
            let class = if name == "borrowing-warning" {
                "pl-warning"
            } else {
                "pl-fact"
            };
            view! { <p class=class data-testid=name>{line}</p> }
        })
        .collect_view();
    view! {
        <section class="pl-details" data-testid="plan-details" data-plan-id=offer.id.clone()>
            <h3 class="pl-subhead">{text(locale, MessageId::ScheduleHeading, &[])}</h3>
            <ol class="pl-schedule">{rows}</ol>
            {lines}
        </section>
    }
}
