//! The root component: a compact card with the best plan's terms (fixed height, so the merchant
//! page never shifts), and a modal dialog with every plan's full terms, the approval form framed
//! from the edge, and the decision.

use leptos::html::Dialog;
use leptos::prelude::*;
use paylater_shared::approval::{ApprovalAnswer, Outcome};
use paylater_shared::catalog::{Locale, MessageId};
use paylater_shared::{WidgetOptions, WidgetOptionsError};
use send_wrapper::SendWrapper;
use web_sys::AbortController;

use crate::checkout::{CheckoutFrame, DecisionView, FrameMessage};
use crate::focus::{End, card_button_focused, focus_card_button, focus_testid, guard_focused};
use crate::telemetry::Telemetry;
use crate::terms::PlanPicker;
use paylater_card::copy::{outcome_line, outcome_title, plan_name, text};
use paylater_card::edge_api::EdgeApi;
use paylater_card::format;
use paylater_card::host::{Host, WidgetState};
use paylater_card::terms::Terms;
use paylater_shared::telemetry::EventName;
use std::rc::Rc;

/// Everything a mounted dialog was given. `options` changes when the merchant page changes the
/// tag's attributes or calls `update`; `open_requests` counts the card's requests to open.
#[derive(Clone)]
pub struct WidgetContext {
    pub options: ArcRwSignal<Result<WidgetOptions, WidgetOptionsError>>,
    pub api: EdgeApi,
    pub host: Host,
    pub open_requests: ArcRwSignal<u32>,
    /// Funnel telemetry, when the options were valid.
    pub telemetry: Option<Rc<Telemetry>>,
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

    let WidgetContext {
        options,
        api,
        host,
        open_requests,
        telemetry,
    } = context;
    // Views may only hold thread-safe values; wasm has one thread, which SendWrapper checks.
    let telemetry = telemetry.map(SendWrapper::new);
    let options = RwSignal::from(options);
    let open_requests = RwSignal::from(open_requests);
    let valid = Memo::new(move |_| options.get().ok());
    let answers = LocalResource::new({
        let (api, signal) = (api.clone(), abort_signal.clone());
        move || {
            let (api, wanted, signal) = (api.clone(), valid.get(), signal.clone());
            async move {
                let options = wanted?;
                Some(api.terms(&options, format::local_today(), signal.as_ref(), None).await)
            }
        }
    });
    let terms = Memo::new(move |_| {
        let (config, offers) = match answers.get().flatten() {
            Some((config, offers)) => (Some(config), Some(offers)),
            None => (None, None),
        };
        Terms::from_parts(options.get(), config, offers)
    });

    let step = RwSignal::new(Step::Closed);
    let selected = RwSignal::new(None::<String>);
    let announcement = RwSignal::new(String::new());
    let submitting = RwSignal::new(false);
    // Closed while the form was submitting: only the dialog closed. The form stays mounted (hidden
    // in the closed dialog), so its request runs to the end and its decision still reaches the
    // page as the DOM event; removing the frame would cancel the request and its answer.
    let closed_while_submitting = RwSignal::new(false);
    let is_open = Memo::new(move |_| step.with(|s| *s != Step::Closed) && !closed_while_submitting.get());
    let close = move || {
        if submitting.get_untracked() && step.with_untracked(|s| matches!(s, Step::Form { .. })) {
            closed_while_submitting.set(true);
        } else {
            step.set(Step::Closed);
        }
    };

    // A new amount, currency or locale is a new checkout: the flow ends, whatever step it was at,
    // and only a new Continue starts another (see `start_checkout`).
    Effect::new(move |previous: Option<Option<WidgetOptions>>| {
        let current = valid.get();
        if previous.is_some_and(|p| p != current) {
            closed_while_submitting.set(false);
            step.set(Step::Closed);
        }
        current
    });
    // The card asked for the plans (the loader calls `open`); a form still submitting comes back
    // as it is.
    Effect::new(move |previous: Option<u32>| {
        let requests = open_requests.get();
        if previous != Some(requests) && requests > 0 {
            if closed_while_submitting.get_untracked() {
                closed_while_submitting.set(false);
            } else {
                step.set(Step::Choosing);
            }
        }
        requests
    });

    // The merchant's telemetry mode arrives with its config.
    if let Some(telemetry) = telemetry.clone() {
        Effect::new(move |_| {
            if let Terms::Ready { config, .. } = terms.get() {
                telemetry.configure(config.telemetry);
            }
        });
    }
    // Opening and closing the terms are funnel steps.
    if let Some(telemetry) = telemetry.clone() {
        Effect::new(move |was_open: Option<bool>| {
            let open = is_open.get();
            if was_open.is_some_and(|was| was != open) {
                let name = if open {
                    EventName::TermsOpened
                } else {
                    EventName::TermsClosed
                };
                telemetry.step(name, selected.get_untracked().as_deref());
            }
            open
        });
    }

    let dialog = NodeRef::<Dialog>::new();
    Effect::new(move |_| {
        let open = is_open.get();
        let Some(dialog) = dialog.get() else { return };
        if open && !dialog.open() {
            // A modal dialog makes the page inert; the focus guards keep Tab inside.
            let _ = dialog.show_modal();
        } else if !open && dialog.open() {
            dialog.close();
        }
    });
    let on_close = move |_| {
        close();
        // Focus goes back to the card's button that opened the dialog.
        if let Some(dialog) = dialog.get_untracked() {
            focus_card_button(&dialog);
        }
    };
    // Focus follows the flow: to each new step's heading, or to the message saying what stopped
    // it, so a screen reader starts there. Making a session is no new step (focus stays).
    let focus_target = Memo::new(move |previous: Option<&(u8, &'static str)>| {
        if !is_open.get() {
            return (0, "");
        }
        let ready = terms.with(|t| matches!(t, Terms::Ready { .. }));
        step.with(|s| match s {
            Step::StartingSession => previous.copied().unwrap_or((1, "dialog-title")),
            Step::Failed => (1, "start-failed"),
            _ if !ready => (s.page(), "dialog-status"),
            _ => (s.page(), "dialog-title"),
        })
    });
    Effect::new(move |_| {
        let (_, testid) = focus_target.get();
        let Some(element) = dialog.get_untracked() else { return };
        if testid.is_empty() {
            return;
        }
        // The step's view is rendered by effects of this same turn: it is there by the next frame.
        request_animation_frame(move || {
            if element.open() {
                focus_testid(&element, testid);
            }
        });
    });

    let theme_class = move || {
        let theme = options.with(|o| o.as_ref().map(|o| o.theme.as_str()).unwrap_or("auto"));
        format!("pl-root pl-theme-{theme}")
    };
    let locale = move || Locale::resolve(&valid.with(|o| o.as_ref().map(|o| o.locale.clone()).unwrap_or_default()));

    let page = Memo::new(move |_| step.with(Step::page));
    let busy = Signal::derive(move || step.with(|s| *s == Step::StartingSession));
    let failed = Signal::derive(move || step.with(|s| *s == Step::Failed));
    let dialog_body = move || {
        let locale = locale();
        let telemetry = telemetry.clone();
        let (options, config, offers) = match terms.get() {
            Terms::Ready {
                options,
                config,
                offers,
            } => (options, config, offers),
            // Opened right after the page changed the amount: the new terms are on their way.
            other if page.get() != 0 => {
                let message = if other == Terms::Loading {
                    MessageId::Loading
                } else {
                    MessageId::OffersUnavailable
                };
                return view! {
                    <p class="pl-muted" data-testid="dialog-status" tabindex="-1">{text(locale, message, &[])}</p>
                }
                .into_any();
            }
            _ => return ().into_any(),
        };
        let (title, body) = match (page.get(), step.get_untracked()) {
            (1, _) => {
                let start = {
                    let (api, options, telemetry) = (api.clone(), options.clone(), telemetry.clone());
                    move || {
                        start_checkout(api.clone(), options.clone(), telemetry.clone(), selected, step, announcement, valid)
                    }
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
                        FrameMessage::Submitting => {
                            submitting.set(true);
                            if let Some(telemetry) = &telemetry {
                                telemetry.step(EventName::ApprovalSubmitted, selected.get_untracked().as_deref());
                            }
                        }
                        FrameMessage::Failed => {
                            submitting.set(false);
                            // No decision, and the shopper has left: nothing more to wait for.
                            if closed_while_submitting.get_untracked() {
                                closed_while_submitting.set(false);
                                step.set(Step::Closed);
                            }
                        }
                        FrameMessage::Decision(answer) => {
                            let (state, event) = decision_state(answer.decision);
                            // The card redraws for the decision, its button included: a shopper
                            // who was on that button stays on it.
                            let element = dialog.get_untracked();
                            let on_card_button = element.as_ref().is_some_and(card_button_focused);
                            host.set_state(state);
                            host.dispatch(event, &decision_detail(&answer, &options));
                            if let (true, Some(element)) = (on_card_button, &element) {
                                focus_card_button(element);
                            }
                            announcement.set(outcome_line(&answer, &options).0);
                            // Closed meanwhile: the card shows the decision; the dialog stays shut.
                            if closed_while_submitting.get_untracked() {
                                closed_while_submitting.set(false);
                                step.set(Step::Closed);
                            } else {
                                step.set(Step::Decided(answer));
                            }
                        }
                        FrameMessage::Cancel => close(),
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
                <h2 id="pl-dialog-title" data-testid="dialog-title" tabindex="-1">{title}</h2>
                <button
                    class="pl-close"
                    type="button"
                    data-testid="close"
                    aria-label=text(locale, MessageId::Close, &[])
                    on:click=move |_| close()
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
            <dialog class="pl-dialog" data-testid="dialog" aria-labelledby="pl-dialog-title" node_ref=dialog on:close=on_close>
                // Focus guards: Tab past the last control (the framed form's included, whose keys
                // the dialog never sees) lands on the end guard, Shift+Tab before the first on the
                // start guard; each sends focus round, so it never leaves for the page or <body>.
                <span class="pl-sr-only" tabindex="0" data-focus-guard="start" on:focus=move |event| {
                    if let Some(dialog) = dialog.get_untracked() {
                        guard_focused(&dialog, &event, End::Last);
                    }
                }></span>
                {dialog_body}
                <p class="pl-sr-only" role="status" data-testid="announcer">{move || announcement.get()}</p>
                <span class="pl-sr-only" tabindex="0" data-focus-guard="end" on:focus=move |event| {
                    if let Some(dialog) = dialog.get_untracked() {
                        guard_focused(&dialog, &event, End::First);
                    }
                }></span>
            </dialog>
        </div>
    }
}

/// Opens the form in the session the funnel's events go to, so the decision sees their signals
/// (form-fill time, amount changes); a new one, bound to this page, amount and currency, if that
/// session was made for other terms or is about to expire, unless the flow ended meanwhile or
/// the options (`current`) are no longer those it was made for. `approval_started` is recorded
/// in the session the form then uses.
fn start_checkout(
    api: EdgeApi,
    options: WidgetOptions,
    telemetry: Option<SendWrapper<Rc<Telemetry>>>,
    selected: RwSignal<Option<String>>,
    step: RwSignal<Step>,
    announcement: RwSignal<String>,
    current: Memo<Option<WidgetOptions>>,
) {
    let Some(plan) = selected.get_untracked() else { return };
    let open_form = {
        let (api, options, plan) = (api.clone(), options.clone(), plan.clone());
        move |token: &str| Step::Form {
            url: api.checkout_url(token, &plan, &options.locale),
        }
    };
    let started = move |telemetry: &Option<SendWrapper<Rc<Telemetry>>>| {
        if let Some(telemetry) = telemetry {
            telemetry.step(EventName::ApprovalStarted, Some(&plan));
        }
    };
    if let Some(token) = telemetry.as_ref().and_then(|t| t.session_for_checkout(&options)) {
        started(&telemetry);
        step.set(open_form(&token));
        return;
    }
    step.set(Step::StartingSession);
    let locale = Locale::resolve(&options.locale);
    announcement.set(text(locale, MessageId::Loading, &[]));
    leptos::task::spawn_local(async move {
        let created = crate::requests::create_session(&api, &options).await;
        // An amount change closed the flow while the session was made: it stays closed, and a
        // session for the old amount never opens a form (nor a failure the dialog), nor becomes
        // the telemetry's.
        let wanted = step.try_with_untracked(|s| *s == Step::StartingSession) == Some(true)
            && current.try_with_untracked(|c| c.as_ref() == Some(&options)) == Some(true);
        if !wanted {
            return;
        }
        if let (Ok(session), Some(telemetry)) = (&created, &telemetry) {
            telemetry.use_session(session, &options);
        }
        started(&telemetry);
        match created {
            // The widget may be gone by now: `try_set` on a disposed signal does nothing.
            Ok(session) => {
                step.try_set(open_form(&session.session_token));
            }
            Err(error) => {
                web_sys::console::warn_1(&format!("paylater: session refused: {error}").into());
                announcement.try_set(text(locale, MessageId::ApprovalFailed, &[]));
                step.try_set(Step::Failed);
            }
        }
    });
}
