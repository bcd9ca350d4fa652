//! The root component: a compact card with the best plan's terms (fixed height, so the merchant
//! page never shifts), and a modal dialog with every plan's full terms, the approval form framed
//! from the edge, and the decision.

use leptos::html::{Button, Dialog};
use leptos::prelude::*;
use paylater_shared::approval::ApprovalAnswer;
use paylater_shared::catalog::{Locale, MessageId};
use paylater_shared::decision::Outcome;
use paylater_shared::merchant::PublicMerchantConfig;
use paylater_shared::{OffersResponse, WidgetOptions, WidgetOptionsError};
use send_wrapper::SendWrapper;
use web_sys::AbortController;

use crate::checkout::{CheckoutFrame, DecisionView, FrameMessage};
use crate::copy::{offer_summary, plan_name, text, unavailable};
use crate::edge_api::{EdgeApi, EdgeApiError};
use crate::format;
use crate::host::{Host, WidgetState};
use crate::terms::PlanPicker;

/// Everything a mounted widget was given. `options` changes when the merchant page changes the
/// tag's attributes or calls `update`.
#[derive(Clone)]
pub struct WidgetContext {
    pub options: ArcRwSignal<Result<WidgetOptions, WidgetOptionsError>>,
    pub api: EdgeApi,
    pub host: Host,
}

/// What the terms look like right now.
#[derive(Debug, Clone, PartialEq)]
pub enum Terms {
    Loading,
    /// The merchant's attributes are wrong (already reported to the page by `entry`).
    Invalid,
    Failed(EdgeApiError),
    /// No plan covers the amount: the polite reason.
    Unavailable(String),
    Ready {
        options: WidgetOptions,
        config: PublicMerchantConfig,
        offers: OffersResponse,
    },
}

impl Terms {
    /// Combines the two answers the widget needs; either failing fails the terms.
    pub fn from_parts(
        options: Result<WidgetOptions, WidgetOptionsError>,
        config: Option<Result<PublicMerchantConfig, EdgeApiError>>,
        offers: Option<Result<OffersResponse, EdgeApiError>>,
    ) -> Self {
        let Ok(options) = options else {
            return Self::Invalid;
        };
        match (config, offers) {
            (Some(Err(error)), _) | (_, Some(Err(error))) => Self::Failed(error),
            (Some(Ok(config)), Some(Ok(offers))) => {
                // A stale answer for an older amount is not this amount's terms.
                if offers.amount != options.amount || offers.currency != options.currency {
                    Self::Loading
                } else if offers.plans.is_empty() {
                    Self::Unavailable(unavailable(&config, &options))
                } else {
                    Self::Ready {
                        options,
                        config,
                        offers,
                    }
                }
            }
            _ => Self::Loading,
        }
    }

    /// The `data-paylater-state` these terms give, before any decision.
    pub fn state(&self) -> WidgetState {
        match self {
            Self::Loading => WidgetState::Loading,
            Self::Invalid | Self::Failed(_) => WidgetState::Error,
            Self::Unavailable(_) => WidgetState::Unavailable,
            Self::Ready { .. } => WidgetState::Ready,
        }
    }
}

/// Where the dialog is in the flow.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Closed,
    /// Every plan with its full terms; the shopper picks one.
    Choosing,
    /// Asking the edge for a session for the approval form.
    StartingSession,
    /// The approval form, framed from the edge.
    Form {
        url: String,
    },
    Decided(ApprovalAnswer),
    /// The session could not be made; the shopper may try again.
    Failed,
}

impl Step {
    /// Which page the dialog shows; the plan list stays one page (and keeps its focus) while
    /// a session is made or failed.
    fn page(&self) -> u8 {
        match self {
            Self::Closed => 0,
            Self::Choosing | Self::StartingSession | Self::Failed => 1,
            Self::Form { .. } => 2,
            Self::Decided(_) => 3,
        }
    }
}

/// The `data-paylater-state` and DOM event of a decision.
pub fn decision_state(outcome: Outcome) -> (WidgetState, &'static str) {
    match outcome {
        Outcome::Approved => (WidgetState::Approved, "approved"),
        Outcome::Declined => (WidgetState::Declined, "declined"),
        Outcome::Review => (WidgetState::Review, "review"),
    }
}

/// The `paylater:ready` detail (CONTRACT §2).
pub fn ready_detail(offers: &OffersResponse) -> serde_json::Value {
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

/// The detail of `paylater:approved`, `paylater:declined` or `paylater:review` (CONTRACT §2).
pub fn decision_detail(answer: &ApprovalAnswer, options: &WidgetOptions) -> serde_json::Value {
    match answer.decision {
        Outcome::Approved => serde_json::json!({
            "approval_id": answer.approval_id,
            "approval_token": answer.approval_token,
            "plan_id": answer.plan_id,
            "amount": options.amount,
            "currency": options.currency,
            "schedule": answer.schedule,
        }),
        Outcome::Declined | Outcome::Review => serde_json::json!({
            "approval_id": answer.approval_id,
            "reasons": answer.reasons,
        }),
    }
}

/// The widget for one target element.
#[component]
pub fn App(
    /// The options, the edge to ask, and the merchant element to report to.
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
    let options = RwSignal::from(options);
    let key = Memo::new(move |_| options.with(|o| o.as_ref().ok().map(|o| o.key.clone())));
    let valid = Memo::new(move |_| options.get().ok());
    let config = LocalResource::new({
        let (api, signal) = (api.clone(), abort_signal.clone());
        move || {
            let (api, key, signal) = (api.clone(), key.get(), signal.clone());
            async move {
                let key = key?;
                Some(api.merchant_config(&key, signal.as_ref()).await)
            }
        }
    });
    let offers = LocalResource::new({
        let (api, signal) = (api.clone(), abort_signal.clone());
        move || {
            let (api, wanted, signal) = (api.clone(), valid.get(), signal.clone());
            async move {
                let options = wanted?;
                Some(api.offers(&options, format::local_today(), signal.as_ref()).await)
            }
        }
    });
    let terms = Memo::new(move |_| Terms::from_parts(options.get(), config.get().flatten(), offers.get().flatten()));
    let retry = move || {
        config.refetch();
        offers.refetch();
    };

    let step = RwSignal::new(Step::Closed);
    let selected = RwSignal::new(None::<String>);
    let outcome = RwSignal::new(None::<ApprovalAnswer>);
    let announcement = RwSignal::new(String::new());

    // A new amount, currency or locale is a new checkout: the old decision and choice go.
    Effect::new(move |previous: Option<Option<WidgetOptions>>| {
        let current = valid.get();
        if previous.is_some_and(|p| p != current) {
            outcome.set(None);
            step.set(Step::Closed);
        }
        current
    });
    // The merchant element's state attribute and events follow the terms and the decision.
    Effect::new({
        let host = host.clone();
        move |_| {
            let terms = terms.get();
            if let Some(answer) = outcome.get() {
                host.set_state(decision_state(answer.decision).0);
                return;
            }
            match &terms {
                Terms::Failed(error) => host.report_error(error.code(), &error.to_string()),
                // `entry` reported bad options already.
                Terms::Invalid => {}
                Terms::Ready { offers, .. } => {
                    host.set_state(WidgetState::Ready);
                    host.dispatch("ready", &ready_detail(offers));
                }
                other => host.set_state(other.state()),
            }
        }
    });

    let dialog = NodeRef::<Dialog>::new();
    let opener = NodeRef::<Button>::new();
    Effect::new(move |_| {
        let open = step.with(|s| *s != Step::Closed);
        let Some(dialog) = dialog.get() else { return };
        if open && !dialog.open() {
            // A modal dialog makes the page inert and keeps focus inside until it closes.
            let _ = dialog.show_modal();
        } else if !open && dialog.open() {
            dialog.close();
        }
    });
    let on_close = move |_| {
        step.set(Step::Closed);
        // Focus goes back to the control that opened the dialog.
        if let Some(button) = opener.get_untracked() {
            let _ = button.focus();
        }
    };

    let theme_class = move || {
        let theme = options.with(|o| o.as_ref().map(|o| o.theme.as_str()).unwrap_or("auto"));
        format!("pl-root pl-theme-{theme}")
    };
    let locale = move || Locale::resolve(&valid.with(|o| o.as_ref().map(|o| o.locale.clone()).unwrap_or_default()));

    let card = move || {
        let locale = locale();
        match terms.get() {
            Terms::Loading => view! {
                <p class="pl-headline pl-muted" data-testid="loading">{text(locale, MessageId::Loading, &[])}</p>
            }
            .into_any(),
            Terms::Invalid => view! {
                <p class="pl-headline" data-testid="error">{text(locale, MessageId::ServiceUnavailable, &[])}</p>
            }
            .into_any(),
            Terms::Failed(_) => view! {
                <p class="pl-headline" data-testid="error">{text(locale, MessageId::OffersUnavailable, &[])}</p>
                <div class="pl-actions">
                    <button class="pl-button" type="button" data-testid="retry" on:click=move |_| retry()>
                        {text(locale, MessageId::TryAgain, &[])}
                    </button>
                </div>
            }
            .into_any(),
            Terms::Unavailable(message) => view! {
                <p class="pl-headline" data-testid="unavailable">{message}</p>
            }
            .into_any(),
            Terms::Ready {
                options,
                config,
                offers,
            } => {
                let headline = text(locale, MessageId::Headline, &[("merchant", &config.display_name)]);
                let status = match outcome.get() {
                    Some(answer) => outcome_line(&answer, &options),
                    None => {
                        let best = &offers.plans[0];
                        let others: Vec<String> = offers.plans[1..].iter().map(|o| plan_name(o, locale)).collect();
                        let others = if others.is_empty() {
                            String::new()
                        } else {
                            text(locale, MessageId::OtherPlans, &[("plans", &others.join(" · "))])
                        };
                        (offer_summary(best, offers.currency, &options.locale), others)
                    }
                };
                view! {
                    <p class="pl-headline" data-testid="headline">{headline}</p>
                    <p class="pl-summary" data-testid="summary">{status.0}</p>
                    <p class="pl-muted pl-others" data-testid="other-plans">{status.1}</p>
                    <div class="pl-actions">
                        <button
                            class="pl-button"
                            type="button"
                            data-testid="learn-more"
                            aria-haspopup="dialog"
                            node_ref=opener
                            on:click=move |_| step.set(Step::Choosing)
                        >
                            {text(locale, MessageId::LearnMore, &[])}
                        </button>
                    </div>
                }
                .into_any()
            }
        }
    };

    let submitting = RwSignal::new(false);
    let page = Memo::new(move |_| step.with(Step::page));
    let busy = Signal::derive(move || step.with(|s| *s == Step::StartingSession));
    let failed = Signal::derive(move || step.with(|s| *s == Step::Failed));
    let dialog_body = move || {
        let locale = locale();
        let Terms::Ready {
            options,
            config,
            offers,
        } = terms.get()
        else {
            return ().into_any();
        };
        let (title, body) = match (page.get(), step.get_untracked()) {
            (1, _) => {
                let start = {
                    let (api, options) = (api.clone(), options.clone());
                    move || start_checkout(api.clone(), options.clone(), selected, step, announcement)
                };
                (
                    text(locale, MessageId::ChoosePlan, &[]),
                    view! {
                        <PlanPicker
                            options=options.clone()
                            config=config.clone()
                            offers=offers.clone()
                            selected=selected
                            announcement=announcement
                            host=host.clone()
                            busy=busy
                            failed=failed
                            on_continue=start
                        />
                    }
                    .into_any(),
                )
            }
            (2, Step::Form { url }) => {
                submitting.set(false);
                let plan = offers.plans.iter().find(|o| Some(&o.id) == selected.get_untracked().as_ref());
                let plan = plan.map(|o| plan_name(o, locale)).unwrap_or_default();
                let on_message = {
                    let (host, options) = (host.clone(), options.clone());
                    move |message: FrameMessage| match message {
                        // The form announces its own progress; the dialog only says it is busy.
                        FrameMessage::Submitting => submitting.set(true),
                        FrameMessage::Failed => submitting.set(false),
                        FrameMessage::Decision(answer) => {
                            let (state, event) = decision_state(answer.decision);
                            host.set_state(state);
                            host.dispatch(event, &decision_detail(&answer, &options));
                            announcement.set(outcome_line(&answer, &options).0);
                            outcome.set(Some(answer.clone()));
                            step.set(Step::Decided(answer));
                        }
                        FrameMessage::Cancel => step.set(Step::Closed),
                    }
                };
                (
                    text(locale, MessageId::ApprovalFormTitle, &[("plan", &plan)]),
                    view! {
                        <div class="pl-frame-box" aria-busy=move || submitting.get().to_string()>
                            <CheckoutFrame url=url title=plan.clone() edge_origin=api.origin().unwrap_or_default() on_message=on_message/>
                        </div>
                    }
                    .into_any(),
                )
            }
            (3, Step::Decided(answer)) => (
                outcome_title(answer.decision, locale),
                view! {
                    <DecisionView answer=answer options=options.clone()/>
                    <div class="pl-actions">
                        <button class="pl-button" type="button" data-testid="done" on:click=move |_| step.set(Step::Closed)>
                            {text(locale, MessageId::Close, &[])}
                        </button>
                    </div>
                }
                .into_any(),
            ),
            _ => return ().into_any(),
        };
        view! {
            <div class="pl-dialog-head">
                <h2 id="pl-dialog-title" data-testid="dialog-title">{title}</h2>
                <button
                    class="pl-close"
                    type="button"
                    data-testid="close"
                    aria-label=text(locale, MessageId::Close, &[])
                    on:click=move |_| step.set(Step::Closed)
                >
                    "×"
                </button>
            </div>
            {body}
        }
        .into_any()
    };

    view! {
        <div class=theme_class>
            <section class="pl-card" data-testid="card" aria-live="polite">{card}</section>
            <dialog class="pl-dialog" data-testid="dialog" aria-labelledby="pl-dialog-title" node_ref=dialog on:close=on_close>
                {dialog_body}
                <p class="pl-sr-only" role="status" data-testid="announcer">{move || announcement.get()}</p>
            </dialog>
        </div>
    }
}

/// The decision's title: approved, declined or in review.
pub fn outcome_title(outcome: Outcome, locale: Locale) -> String {
    let message = match outcome {
        Outcome::Approved => MessageId::ApprovedTitle,
        Outcome::Declined => MessageId::DeclinedTitle,
        Outcome::Review => MessageId::ReviewTitle,
    };
    text(locale, message, &[])
}

/// The card's two lines after a decision: its title, and the first payment when approved.
pub fn outcome_line(answer: &ApprovalAnswer, options: &WidgetOptions) -> (String, String) {
    let locale = Locale::resolve(&options.locale);
    let title = outcome_title(answer.decision, locale);
    let detail = match (answer.decision, answer.schedule.first()) {
        (Outcome::Approved, Some(first)) => text(
            locale,
            MessageId::ApprovedFirstPayment,
            &[
                (
                    "amount",
                    &format::money(first.amount, options.currency, &options.locale),
                ),
                ("date", &format::date(first.due_date, &options.locale)),
            ],
        ),
        _ => answer.reasons.first().map(|r| r.message.clone()).unwrap_or_default(),
    };
    (title, detail)
}

/// Makes a session bound to this page, amount and currency, then opens the form for it.
fn start_checkout(
    api: EdgeApi,
    options: WidgetOptions,
    selected: RwSignal<Option<String>>,
    step: RwSignal<Step>,
    announcement: RwSignal<String>,
) {
    let Some(plan) = selected.get_untracked() else { return };
    step.set(Step::StartingSession);
    let locale = Locale::resolve(&options.locale);
    announcement.set(text(locale, MessageId::Loading, &[]));
    leptos::task::spawn_local(async move {
        match api.create_session(&options, None).await {
            // The widget may be gone by now: `try_set` on a disposed signal does nothing.
            Ok(session) => {
                let url = api.checkout_url(&session.session_token, &plan, &options.locale);
                step.try_set(Step::Form { url });
            }
            Err(error) => {
                web_sys::console::warn_1(&format!("paylater: session refused: {error}").into());
                announcement.try_set(text(locale, MessageId::ApprovalFailed, &[]));
                step.try_set(Step::Failed);
            }
        }
    });
}
