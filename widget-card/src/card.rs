//! The card: the first thing the shopper sees, painted without Leptos so the script tag's first
//! paint stays small. It fetches the merchant's config and the offers, shows the first plan's
//! terms (fixed height), reports state and `paylater:ready`, and asks the loader to open the
//! dialog (the Leptos bundle) when the shopper wants more. After a decision it shows its outcome,
//! read from the decision's DOM event.

use std::cell::RefCell;
use std::rc::Rc;

use paylater_shared::approval::Outcome;
use paylater_shared::catalog::{CardMessage, Locale};
use paylater_shared::{WidgetOptions, WidgetOptionsError};
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, CustomEvent, Document, Element, Event, HtmlElement};

use crate::copy::{card_text, decision_lines, offer_summary, plan_name};
use crate::edge_api::{EdgeApi, Prefetched};
use crate::format;
use crate::host::{Host, WidgetState};
use crate::js_read::{DecisionDetail, FromJs};
use crate::options::{parse_options, report_options, string_field};
use crate::terms::{Terms, ready_detail};

const DECISION_EVENTS: [(&str, Outcome); 3] = [
    ("paylater:approved", Outcome::Approved),
    ("paylater:declined", Outcome::Declined),
    ("paylater:review", Outcome::Review),
];

struct Card {
    host: Host,
    document: Document,
    root: Element,
    section: Element,
    api: EdgeApi,
    options: Result<WidgetOptions, WidgetOptionsError>,
    terms: Terms,
    /// The card's lines after a decision, until the options change.
    outcome: Option<(String, String)>,
    /// Bumped by every load: an answer for an older load is dropped.
    generation: u32,
    aborter: Option<AbortController>,
    /// The loader's callback that opens the dialog.
    on_open: Option<js_sys::Function>,
    /// The loader's early requests, for the first load only.
    prefetched: Option<Prefetched>,
    /// The timer that refreshes the terms at the shopper's next midnight, and its callback.
    midnight: Option<(i32, Closure<dyn FnMut()>)>,
}

impl Card {
    fn element(&self, tag: &str, class: &str, testid: &str, text: &str) -> Option<Element> {
        let element = self.document.create_element(tag).ok()?;
        if !class.is_empty() {
            element.set_class_name(class);
        }
        element.set_attribute("data-testid", testid).ok()?;
        element.set_text_content(Some(text));
        Some(element)
    }

    fn button(&self, testid: &str, label: &str) -> Option<Element> {
        let button = self.element("button", "pl-button", testid, label)?;
        button.set_attribute("type", "button").ok()?;
        let actions = self.element("div", "pl-actions", "actions", "")?;
        actions.remove_attribute("data-testid").ok()?;
        actions.append_child(&button).ok()?;
        Some(actions)
    }

    fn locale(&self) -> Locale {
        Locale::resolve(self.options.as_ref().map(|o| o.locale.as_str()).unwrap_or(""))
    }

    /// Redraws the card from the current terms and outcome.
    fn render(&self) -> Option<()> {
        let theme = self.options.as_ref().map(|o| o.theme.as_str()).unwrap_or("auto");
        self.root.set_class_name(&format!("pl-root pl-theme-{theme}"));
        self.section.set_text_content(None);
        let locale = self.locale();
        let nodes = match (&self.terms, &self.outcome, &self.options) {
            (Terms::Loading, _, _) => vec![self.element(
                "p",
                "pl-headline pl-muted",
                "loading",
                &card_text(locale, CardMessage::Loading, &[]),
            )?],
            (Terms::Invalid, _, _) => vec![self.element(
                "p",
                "pl-headline",
                "error",
                &card_text(locale, CardMessage::ServiceUnavailable, &[]),
            )?],
            (Terms::Failed(_), _, _) => vec![
                self.element(
                    "p",
                    "pl-headline",
                    "error",
                    &card_text(locale, CardMessage::OffersUnavailable, &[]),
                )?,
                self.button("retry", &card_text(locale, CardMessage::TryAgain, &[]))?,
            ],
            (Terms::Unavailable(message), _, _) => vec![self.element("p", "pl-headline", "unavailable", message)?],
            (Terms::Ready { config, offers, .. }, outcome, Ok(options)) => {
                let (first, others) = match outcome {
                    Some(lines) => lines.clone(),
                    None => {
                        let names: Vec<String> = offers.plans[1..].iter().map(|o| plan_name(o, locale)).collect();
                        let others = if names.is_empty() {
                            String::new()
                        } else {
                            card_text(locale, CardMessage::OtherPlans, &[("plans", &names.join(" · "))])
                        };
                        (
                            offer_summary(&offers.plans[0], offers.currency, &options.locale),
                            others,
                        )
                    }
                };
                let headline = card_text(locale, CardMessage::Headline, &[("merchant", &config.display_name)]);
                let open = self.button("learn-more", &card_text(locale, CardMessage::LearnMore, &[]))?;
                open.first_element_child()?
                    .set_attribute("aria-haspopup", "dialog")
                    .ok()?;
                vec![
                    self.element("p", "pl-headline", "headline", &headline)?,
                    self.element("p", "pl-summary", "summary", &first)?,
                    self.element("p", "pl-muted pl-others", "other-plans", &others)?,
                    open,
                ]
            }
            (Terms::Ready { .. }, _, Err(_)) => return None,
        };
        for node in nodes {
            self.section.append_child(&node).ok()?;
        }
        Some(())
    }
}

/// The state attribute and `paylater:ready` for terms just loaded. Called with no borrow of the
/// card held: a page listener may call `update` from inside the event.
fn report(host: &Host, terms: &Terms) {
    match terms {
        Terms::Failed(error) => host.report_error(error.code(), &error.to_string()),
        // `parse_options` reported bad options already.
        Terms::Invalid => {}
        Terms::Ready { offers, .. } => {
            host.set_state(WidgetState::Ready);
            host.dispatch("ready", &ready_detail(offers));
        }
        other => host.set_state(other.state()),
    }
}

/// Stops the midnight refresh, if one is waiting.
fn cancel_midnight(card: &mut Card) {
    if let (Some((timer, _)), Some(window)) = (card.midnight.take(), web_sys::window()) {
        window.clear_timeout_with_handle(timer);
    }
}

/// Terms count from the shopper's date: a page left open past midnight loads them again, unless
/// a decision is on the card by then (its dates are the approval's).
fn refresh_at_midnight(card: &Rc<RefCell<Card>>) {
    let Some(window) = web_sys::window() else { return };
    cancel_midnight(&mut card.borrow_mut());
    let weak = Rc::downgrade(card);
    let callback = Closure::<dyn FnMut()>::new(move || {
        let Some(card) = weak.upgrade() else { return };
        // The fired timer's entry stays until the next one replaces it: dropping this closure
        // while it runs is not allowed.
        let undecided = card.borrow().outcome.is_none();
        if undecided {
            load(&card);
        }
    });
    let wait_ms = format::ms_until_next_local_midnight();
    if let Ok(timer) =
        window.set_timeout_with_callback_and_timeout_and_arguments_0(callback.as_ref().unchecked_ref(), wait_ms)
    {
        card.borrow_mut().midnight = Some((timer, callback));
    }
}

/// Fetches this options' terms and redraws; an older load still in flight is aborted.
fn load(card: &Rc<RefCell<Card>>) {
    let (api, options, generation, signal, prefetched) = {
        let mut c = card.borrow_mut();
        c.generation = c.generation.wrapping_add(1);
        if let Some(previous) = c.aborter.take() {
            previous.abort();
        }
        c.outcome = None;
        c.terms = match &c.options {
            Ok(_) => Terms::Loading,
            Err(_) => Terms::Invalid,
        };
        c.render();
        let Ok(options) = c.options.clone() else { return };
        c.aborter = AbortController::new().ok();
        let signal = c.aborter.as_ref().map(AbortController::signal);
        (c.api.clone(), options, c.generation, signal, c.prefetched.take())
    };
    let card = Rc::clone(card);
    wasm_bindgen_futures::spawn_local(async move {
        let (config, offers) = api
            .terms(&options, format::local_today(), signal.as_ref(), prefetched)
            .await;
        let (host, terms) = {
            let mut c = card.borrow_mut();
            if c.generation != generation {
                return;
            }
            c.terms = Terms::from_parts(Ok(options), Some(config), Some(offers));
            c.render();
            (c.host.clone(), c.terms.clone())
        };
        if matches!(terms, Terms::Ready { .. }) {
            refresh_at_midnight(&card);
        }
        report(&host, &terms);
    });
}

/// An event listener the card added, kept to remove it again.
type Listener = (Element, &'static str, Closure<dyn FnMut(Event)>);

/// A mounted card. `destroy` (or dropping it) removes its view and listeners and aborts its
/// fetches.
#[wasm_bindgen]
pub struct CardHandle {
    card: Rc<RefCell<Card>>,
    listeners: Vec<Listener>,
}

#[wasm_bindgen]
impl CardHandle {
    /// New options (all of them, as the loader merges them): the terms follow at once, or the
    /// card shows the error.
    pub fn update(&self, options: JsValue) {
        let host = self.card.borrow().host.clone();
        let options = parse_options(&options);
        // Pages rewrite attributes with the values they already hold; redrawing then would
        // swap the button under the shopper's pointer.
        if self.card.borrow().options == options {
            return;
        }
        report_options(&host, &options);
        self.card.borrow_mut().options = options;
        load(&self.card);
    }

    /// Removes the card and its listeners.
    pub fn destroy(&mut self) {
        for (target, name, listener) in self.listeners.drain(..) {
            let _ = target.remove_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
        }
        let mut card = self.card.borrow_mut();
        if let Some(aborter) = card.aborter.take() {
            aborter.abort();
        }
        cancel_midnight(&mut card);
        card.generation = card.generation.wrapping_add(1);
        card.root.remove();
    }
}

impl Drop for CardHandle {
    fn drop(&mut self) {
        self.destroy();
    }
}

/// Mounts the card into `container` (inside the shadow root the loader made on `host`).
/// `options` holds `edge`, `key`, `amount`, `currency`, `locale`, `theme`, `fallbackLocale` and
/// `onOpen` (called when the shopper asks for the plans). Bad options show the error state,
/// which a later `update` can mend.
#[wasm_bindgen]
pub fn mount_card(host: Element, container: HtmlElement, options: JsValue) -> Option<CardHandle> {
    let document = web_sys::window()?.document()?;
    let root = document.create_element("div").ok()?;
    let section = document.create_element("section").ok()?;
    section.set_class_name("pl-card");
    section.set_attribute("data-testid", "card").ok()?;
    section.set_attribute("aria-live", "polite").ok()?;
    root.append_child(&section).ok()?;
    container.append_child(&root).ok()?;
    let host_element = host.clone();
    let host = Host::new(host);
    let on_open = js_sys::Reflect::get(&options, &JsValue::from_str("onOpen"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    let card = Rc::new(RefCell::new(Card {
        api: EdgeApi::new(&string_field(&options, "edge").unwrap_or_default()),
        options: {
            let parsed = parse_options(&options);
            report_options(&host, &parsed);
            parsed
        },
        host,
        document,
        root,
        section: section.clone(),
        terms: Terms::Loading,
        outcome: None,
        generation: 0,
        aborter: None,
        on_open,
        prefetched: Prefetched::from_options(&options),
        midnight: None,
    }));

    let mut listeners = Vec::new();
    // One listener for the card's buttons, whichever view is drawn.
    let clicks = {
        let card = Rc::clone(&card);
        Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            let testid = event
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .and_then(|t| t.closest("[data-testid]").ok().flatten())
                .and_then(|t| t.get_attribute("data-testid"));
            match testid.as_deref() {
                Some("retry") => load(&card),
                Some("learn-more") => {
                    let open = card.borrow().on_open.clone();
                    if let Some(open) = open {
                        let _ = open.call0(&JsValue::NULL);
                    }
                }
                _ => {}
            }
        })
    };
    section
        .add_event_listener_with_callback("click", clicks.as_ref().unchecked_ref())
        .ok()?;
    listeners.push((section, "click", clicks));
    // The dialog's decision reaches the page as a DOM event; the card shows it too.
    for (name, outcome) in DECISION_EVENTS {
        let card = Rc::clone(&card);
        let listener = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            let Some(event) = event.dyn_ref::<CustomEvent>() else {
                return;
            };
            let detail = DecisionDetail::from_js(&event.detail()).unwrap_or_default();
            let mut c = card.borrow_mut();
            let Ok(options) = c.options.clone() else { return };
            let reason = detail.reasons.first().map(|r| r.message.as_str());
            c.outcome = Some(decision_lines(outcome, detail.schedule.first(), reason, &options));
            c.render();
        });
        host_element
            .add_event_listener_with_callback(name, listener.as_ref().unchecked_ref())
            .ok()?;
        listeners.push((host_element.clone(), name, listener));
    }
    load(&card);
    Some(CardHandle { card, listeners })
}
