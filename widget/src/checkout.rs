//! The approval step: the edge's form page in a frame (so the shopper's e-mail and birth date
//! never touch the merchant page), its messages, and the decision as the shopper sees it.

use leptos::ev;
use leptos::html::Iframe;
use leptos::prelude::*;
use paylater_shared::WidgetOptions;
use paylater_shared::approval::{ApprovalAnswer, CHECKOUT_MESSAGE_SOURCE, CheckoutMessage, Outcome};
use send_wrapper::SendWrapper;
use web_sys::MessageEvent;

use paylater_card::copy::{installment_row, outcome_line};

/// What the checkout page tells the widget.
#[derive(Debug, Clone, PartialEq)]
pub enum FrameMessage {
    Submitting,
    /// The request ended without a decision; the form offers its own retry.
    Failed,
    Decision(ApprovalAnswer),
    /// Escape inside the frame, which the dialog cannot see.
    Cancel,
}

/// The framed approval form. Only messages from the edge's exact origin and from this very
/// frame count.
#[component]
pub fn CheckoutFrame(
    /// `/v1/checkout?session=…` on the edge.
    url: String,
    /// The frame's accessible name.
    title: String,
    /// The origin the page is served from, e.g. `http://127.0.0.1:8787`.
    edge_origin: String,
    /// Called with each flow message.
    on_message: impl Fn(FrameMessage) + 'static,
) -> impl IntoView {
    let frame = NodeRef::<Iframe>::new();
    let height = RwSignal::new(460_u32);
    let listener = window_event_listener(ev::message, move |event: MessageEvent| {
        if event.origin() != edge_origin {
            return;
        }
        let from_this_frame = match (event.source(), frame.get_untracked().and_then(|f| f.content_window())) {
            (Some(source), Some(window)) => js_sys::Object::is(&source, &window),
            _ => false,
        };
        if !from_this_frame {
            return;
        }
        let Some(json) = js_sys::JSON::stringify(&event.data()).ok().and_then(|s| s.as_string()) else {
            return;
        };
        match classify(&json) {
            Some(Incoming::Resize(h)) => height.set(h.clamp(240, 1600)),
            Some(Incoming::Flow(message)) => on_message(message),
            None => {}
        }
    });
    let listener = SendWrapper::new(listener);
    on_cleanup(move || listener.take().remove());
    view! {
        <iframe
            node_ref=frame
            class="pl-frame"
            data-testid="checkout-frame"
            src=url
            title=title
            height=move || height.get().to_string()
            referrerpolicy="no-referrer"
            sandbox="allow-scripts allow-forms allow-same-origin"
        ></iframe>
    }
}

/// A checkout page message, sorted.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Resize(u32),
    Flow(FrameMessage),
}

/// Reads a message's JSON; `None` for anything that is not one of ours.
pub fn classify(json: &str) -> Option<Incoming> {
    let message: CheckoutMessage = serde_json::from_str(json).ok()?;
    if message.source != CHECKOUT_MESSAGE_SOURCE {
        return None;
    }
    match message.kind.as_str() {
        "resize" => message.height.map(Incoming::Resize),
        "submitting" => Some(Incoming::Flow(FrameMessage::Submitting)),
        "failed" => Some(Incoming::Flow(FrameMessage::Failed)),
        "decision" => message.answer.map(|a| Incoming::Flow(FrameMessage::Decision(a))),
        "cancel" => Some(Incoming::Flow(FrameMessage::Cancel)),
        _ => None,
    }
}

/// The decision: the schedule when approved; the reasons and the way to a human review otherwise.
#[component]
pub fn DecisionView(
    /// The edge's answer.
    answer: ApprovalAnswer,
    /// Currency and locale of the amounts.
    options: WidgetOptions,
) -> impl IntoView {
    let (_, detail) = outcome_line(&answer, &options);
    match answer.decision {
        Outcome::Approved => {
            let rows = answer
                .schedule
                .iter()
                .map(|i| view! { <li data-testid="approved-installment">{installment_row(i, options.currency, &options.locale)}</li> })
                .collect_view();
            view! {
                <p class="pl-fact" data-testid="decision-detail">{detail}</p>
                <ol class="pl-schedule" data-testid="approved-schedule">{rows}</ol>
            }
            .into_any()
        }
        Outcome::Declined | Outcome::Review => {
            let reasons = answer
                .reasons
                .iter()
                .map(|r| view! { <li data-testid="reason" data-code=r.code.clone()>{r.message.clone()}</li> })
                .collect_view();
            view! {
                <ul class="pl-reasons" data-testid="reasons">{reasons}</ul>
                <p class="pl-fact" data-testid="human-review">{answer.human_review.clone().unwrap_or_default()}</p>
            }
            .into_any()
        }
    }
}
