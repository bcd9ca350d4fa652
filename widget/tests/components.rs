//! The widget's components and state rules in headless Chromium (wasm-bindgen-test): the plan
//! list and disclosures per plan and locale, the decision views, the terms' states and the
//! checkout page's messages. Data comes from the demo merchant's seed, computed by `shared`.

#![cfg(target_arch = "wasm32")]

use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;
use paylater_card::terms::Terms;
use paylater_shared::approval::{ApprovalAnswer, Outcome, ReasonText};
use paylater_shared::merchant::{self, PlanConfig, PublicMerchantConfig};
use paylater_shared::{CivilDate, Currency, MinorUnits, OffersResponse, Theme, WidgetOptions};
use paylater_widget::app::{decision_detail, decision_state};
use paylater_widget::checkout::{DecisionView, FrameMessage, Incoming, classify};
use paylater_widget::edge_api::EdgeApiError;
use paylater_widget::host::{Host, WidgetState};
use paylater_widget::terms::PlanPicker;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

/// The demo merchant as `GET /v1/merchants/pk_test_demo/config` serves it: the seed's public
/// fields and the currencies its plans accept (the edge's tests validate the seed itself).
fn demo() -> PublicMerchantConfig {
    let mut seed: serde_json::Value =
        serde_json::from_str(include_str!("../../seed/merchants/pk_test_demo.json")).unwrap();
    let plans: Vec<PlanConfig> = serde_json::from_value(seed["plans"].clone()).unwrap();
    seed["currencies"] = serde_json::to_value(merchant::currencies(&plans)).unwrap();
    serde_json::from_value(seed).unwrap()
}

fn options(amount: u64, currency: &str, locale: &str) -> WidgetOptions {
    WidgetOptions {
        key: "pk_test_demo".into(),
        amount: MinorUnits(amount),
        currency: Currency::parse(currency).unwrap(),
        locale: locale.into(),
        theme: Theme::Auto,
    }
}

fn offers_for(options: &WidgetOptions) -> OffersResponse {
    let start = CivilDate::parse("2027-01-31").unwrap();
    OffersResponse {
        amount: options.amount,
        currency: options.currency,
        plans: merchant::offers(&demo().plans, options.amount, options.currency, start).unwrap(),
    }
}

/// A host element in the page and a container for a component.
fn host_and_container() -> (Element, HtmlElement) {
    let document = web_sys::window().unwrap().document().unwrap();
    let host = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&host).unwrap();
    let container: HtmlElement = document.create_element("div").unwrap().unchecked_into();
    host.append_child(&container).unwrap();
    (host, container)
}

fn texts(root: &HtmlElement, selector: &str) -> Vec<String> {
    let list = root.query_selector_all(selector).unwrap();
    (0..list.length())
        .map(|i| list.item(i).unwrap().text_content().unwrap_or_default())
        .collect()
}

/// Lets the reactive system run its scheduled work (render effects are queued as tasks).
async fn settle() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

fn mount_picker(
    options: WidgetOptions,
    host: &Element,
    container: HtmlElement,
) -> (RwSignal<Option<String>>, RwSignal<String>, impl Any) {
    let selected = RwSignal::new(None::<String>);
    let announcement = RwSignal::new(String::new());
    let config = demo();
    let offers = offers_for(&options);
    let host = Host::new(host.clone());
    let handle = leptos::mount::mount_to(container, move || {
        view! {
            <PlanPicker
                options=options.clone()
                config=config.clone()
                offers=offers.clone()
                selected=selected
                announcement=announcement
                host=host.clone()
                busy=false
                failed=false
                on_continue=|| {}
            />
        }
    });
    (selected, announcement, handle)
}

#[wasm_bindgen_test]
async fn picker_lists_every_plan_and_discloses_the_chosen_one_in_german() {
    let (host, container) = host_and_container();
    let picked = Rc::new(RefCell::new(Vec::<String>::new()));
    let listener = {
        let picked = picked.clone();
        Closure::<dyn FnMut(web_sys::CustomEvent)>::new(move |event: web_sys::CustomEvent| {
            let id = js_sys::Reflect::get(&event.detail(), &"plan_id".into()).unwrap();
            picked.borrow_mut().push(id.as_string().unwrap());
        })
    };
    host.add_event_listener_with_callback("paylater:plan-selected", listener.as_ref().unchecked_ref())
        .unwrap();
    let (selected, announcement, _handle) = mount_picker(options(100_000, "EUR", "de-DE"), &host, container.clone());
    settle().await;

    let ids: Vec<String> = {
        let list = container.query_selector_all("[data-testid=plan-choice]").unwrap();
        (0..list.length())
            .map(|i| {
                list.item(i)
                    .unwrap()
                    .unchecked_into::<Element>()
                    .get_attribute("data-plan-id")
                    .unwrap()
            })
            .collect()
    };
    assert_eq!(
        ids,
        ["pay_in_4", "pay_in_30", "financing_6", "financing_12", "financing_24"]
    );
    assert_eq!(
        selected.get_untracked().as_deref(),
        Some("pay_in_4"),
        "the first plan is chosen"
    );
    // 1.000,00 € in 4 is even; financing settles its rounding on the last payment:
    // 6 × 0 %: 166,67 € five times, 166,65 €; 12 × 9,99 %: 87,91 € eleven times, 87,94 €;
    // 24 × 19,99 %: 50,89 € 23 times, 50,91 €.
    assert_eq!(
        texts(&container, "[data-testid=offer-summary]"),
        [
            "4 Raten à 250,00\u{a0}€ alle 2 Wochen · eff. Jahreszins 0\u{a0}% · Gesamtbetrag 1.000,00\u{a0}€",
            "1.000,00\u{a0}€ in 30 Tagen · eff. Jahreszins 0\u{a0}% · Gesamtbetrag 1.000,00\u{a0}€",
            "5 × 166,67\u{a0}€ monatlich, Schlussrate 166,65\u{a0}€ · eff. Jahreszins 0\u{a0}% · Gesamtbetrag 1.000,00\u{a0}€",
            "11 × 87,91\u{a0}€ monatlich, Schlussrate 87,94\u{a0}€ · eff. Jahreszins 9,99\u{a0}% · Gesamtbetrag 1.054,95\u{a0}€",
            "23 × 50,89\u{a0}€ monatlich, Schlussrate 50,91\u{a0}€ · eff. Jahreszins 19,99\u{a0}% · Gesamtbetrag 1.221,38\u{a0}€",
        ]
    );
    assert_eq!(
        texts(&container, "[data-testid=installment]"),
        [
            "31. Januar 2027: 250,00\u{a0}€",
            "14. Februar 2027: 250,00\u{a0}€",
            "28. Februar 2027: 250,00\u{a0}€",
            "14. März 2027: 250,00\u{a0}€"
        ]
    );
    assert_eq!(texts(&container, "[data-testid=late-fee]"), ["Keine Mahngebühren."]);
    assert_eq!(
        texts(&container, "[data-testid=borrowing-warning]"),
        ["Achtung: Geld zu leihen kostet Geld."]
    );
    assert!(
        texts(&container, "[data-testid=representative-example]").is_empty(),
        "pay in 4 has none"
    );

    // The shopper picks 12 months of financing: its schedule and representative example show,
    // and the merchant page hears of the pick.
    let radio: HtmlElement = container
        .query_selector("[data-plan-id=financing_12] input")
        .unwrap()
        .unwrap()
        .unchecked_into();
    radio.click();
    settle().await;
    assert_eq!(*picked.borrow(), ["financing_12"]);
    assert_eq!(selected.get_untracked().as_deref(), Some("financing_12"));
    assert_eq!(
        announcement.get_untracked(),
        "Monatliche Finanzierung · 12 Monate ausgewählt"
    );
    let rows = texts(&container, "[data-testid=installment]");
    assert_eq!(rows.len(), 12);
    assert_eq!(
        rows[0], "28. Februar 2027: 87,91\u{a0}€",
        "31 Jan + 1 month clamps to 28 Feb"
    );
    assert_eq!(
        rows[11], "31. Januar 2028: 87,94\u{a0}€",
        "the last payment absorbs the rounding"
    );
    assert_eq!(
        texts(&container, "[data-testid=representative-example]"),
        [
            "Repräsentatives Beispiel: Nettodarlehensbetrag 1.000,00\u{a0}€, Laufzeit 12 Monate, gebundener Sollzins, eff. Jahreszins 9,99\u{a0}%. Monatsrate 87,91\u{a0}€, Zinsen gesamt 54,95\u{a0}€, Gesamtbetrag 1.054,95\u{a0}€."
        ]
    );
    assert_eq!(
        texts(&container, "[data-testid=total-payable]"),
        ["Gesamtbetrag: 1.054,95\u{a0}€"]
    );
    assert_eq!(
        texts(&container, "[data-testid=continue]"),
        ["Weiter mit Monatliche Finanzierung · 12 Monate"]
    );
    drop(listener);
}

#[wasm_bindgen_test]
async fn picker_in_us_english_has_no_eu_warning_and_yen_has_no_decimals() {
    let (host, container) = host_and_container();
    let (_, _, _handle) = mount_picker(options(12_999, "USD", "en-US"), &host, container.clone());
    settle().await;
    assert_eq!(
        texts(&container, "[data-testid=offer-summary]"),
        [
            "$32.52 today, then 3 × $32.49 every 2 weeks · 0% APR · Total $129.99",
            "Pay $129.99 in 30 days · 0% APR · Total $129.99"
        ]
    );
    assert!(texts(&container, "[data-testid=borrowing-warning]").is_empty());
    assert_eq!(
        texts(&container, "[data-testid=lender]"),
        ["Credit provided by Paylater Demo Lending AB."]
    );

    let (host, container) = host_and_container();
    let (_, _, _handle2) = mount_picker(options(50_000, "JPY", "en-US"), &host, container.clone());
    settle().await;
    let summaries = texts(&container, "[data-testid=offer-summary]");
    assert_eq!(summaries.len(), 5, "pay in 4, pay in 30 and three financing terms");
    assert_eq!(
        summaries[..3],
        [
            "4 payments of ¥12,500 every 2 weeks · 0% APR · Total ¥50,000",
            "Pay ¥50,000 in 30 days · 0% APR · Total ¥50,000",
            // ¥50,000 / 6 = ¥8,333.33: ¥8,333 five times, the last ¥8,335.
            "5 × ¥8,333 monthly, then a final ¥8,335 · 0% APR · Total ¥50,000",
        ]
    );
}

#[wasm_bindgen_test]
async fn picker_in_dutch_and_polish_uses_their_own_credit_terms() {
    let (host, container) = host_and_container();
    let (_, _, _handle) = mount_picker(options(12_299, "EUR", "nl-NL"), &host, container.clone());
    settle().await;
    // 122,99 € in 4: 30,77 € today (the 3 cents of remainder), then 30,74 € three times.
    assert_eq!(
        texts(&container, "[data-testid=offer-summary]"),
        [
            "€\u{a0}30,77 vandaag, daarna 3 × €\u{a0}30,74 elke 2 weken · JKP 0% · totaal €\u{a0}122,99",
            "Betaal €\u{a0}122,99 over 30 dagen · JKP 0% · totaal €\u{a0}122,99",
        ]
    );
    assert_eq!(
        texts(&container, "[data-testid=apr]"),
        ["Jaarlijks kostenpercentage (JKP): 0%"]
    );
    assert_eq!(
        texts(&container, "[data-testid=borrowing-warning]"),
        ["Let op! Geld lenen kost geld."]
    );
    assert_eq!(
        texts(&container, "[data-testid=continue]"),
        ["Doorgaan met Betaal in 4 termijnen"]
    );

    let (host, container) = host_and_container();
    let (_, _, _handle2) = mount_picker(options(100_000, "EUR", "pl-PL"), &host, container.clone());
    settle().await;
    let summaries = texts(&container, "[data-testid=offer-summary]");
    assert_eq!(
        summaries[3],
        "Raty miesięczne: 11 × 87,91\u{a0}€, ostatnia rata 87,94\u{a0}€ · RRSO 9,99% · łącznie 1054,95\u{a0}€"
    );
    assert_eq!(
        texts(&container, "[data-testid=borrowing-warning]"),
        ["Uwaga! Pożyczanie pieniędzy kosztuje."]
    );
    assert_eq!(
        texts(&container, "[data-testid=total-payable]"),
        ["Całkowita kwota do zapłaty: 1000,00\u{a0}€"]
    );
}

fn answer(decision: Outcome) -> ApprovalAnswer {
    let start = CivilDate::parse("2026-11-23").unwrap();
    let offer =
        paylater_shared::Offer::compute(&paylater_shared::PlanTerms::PayIn4, MinorUnits(12_999), start).unwrap();
    ApprovalAnswer {
        approval_id: "ap_123".into(),
        decision,
        reasons: match decision {
            Outcome::Approved => vec![],
            _ => vec![ReasonText {
                code: "under_age".into(),
                message: "You must be 18 or older to use pay later.".into(),
            }],
        },
        plan_id: "pay_in_4".into(),
        schedule: offer.schedule,
        approval_token: (decision == Outcome::Approved).then(|| "eyJ.token.sig".into()),
        expires_at: "2026-11-23T12:15:00Z".into(),
        human_review: (decision != Outcome::Approved)
            .then(|| "You can ask for a person to review this decision: review@example.test.".into()),
    }
}

#[wasm_bindgen_test]
async fn decision_views_show_the_schedule_or_the_reasons_and_review_path() {
    let (_, container) = host_and_container();
    let approved = answer(Outcome::Approved);
    let _a = leptos::mount::mount_to(container.clone(), move || {
        view! { <DecisionView answer=approved.clone() options=options(12_999, "USD", "en-US")/> }
    });
    settle().await;
    assert_eq!(
        texts(&container, "[data-testid=decision-detail]"),
        ["First payment $32.52 on November 23, 2026."]
    );
    assert_eq!(texts(&container, "[data-testid=approved-installment]").len(), 4);
    assert!(texts(&container, "[data-testid=reason]").is_empty());

    let (_, container) = host_and_container();
    let declined = answer(Outcome::Declined);
    let _d = leptos::mount::mount_to(container.clone(), move || {
        view! { <DecisionView answer=declined.clone() options=options(12_999, "USD", "en-US")/> }
    });
    settle().await;
    assert_eq!(
        texts(&container, "[data-testid=reason]"),
        ["You must be 18 or older to use pay later."]
    );
    assert_eq!(
        texts(&container, "[data-testid=human-review]"),
        ["You can ask for a person to review this decision: review@example.test."]
    );
    assert!(texts(&container, "[data-testid=approved-installment]").is_empty());
}

#[wasm_bindgen_test]
fn terms_states_follow_options_and_answers() {
    let config = demo();
    let good = options(12_999, "USD", "en-US");
    let offers = offers_for(&good);
    let bad = Err(paylater_shared::WidgetOptionsError::MissingAmount);
    let network = Some(Err(EdgeApiError::Network));
    let cases: Vec<(&str, Terms, WidgetState)> = vec![
        ("bad options", Terms::from_parts(bad, None, None), WidgetState::Error),
        (
            "nothing yet",
            Terms::from_parts(Ok(good.clone()), None, None),
            WidgetState::Loading,
        ),
        (
            "config only",
            Terms::from_parts(Ok(good.clone()), Some(Ok(config.clone())), None),
            WidgetState::Loading,
        ),
        (
            "offers failed",
            Terms::from_parts(Ok(good.clone()), Some(Ok(config.clone())), network.clone()),
            WidgetState::Error,
        ),
        (
            "config failed",
            Terms::from_parts(
                Ok(good.clone()),
                Some(Err(EdgeApiError::Network)),
                Some(Ok(offers.clone())),
            ),
            WidgetState::Error,
        ),
        (
            "offers for an older amount",
            Terms::from_parts(
                Ok(options(5000, "USD", "en-US")),
                Some(Ok(config.clone())),
                Some(Ok(offers.clone())),
            ),
            WidgetState::Loading,
        ),
        (
            "both answered",
            Terms::from_parts(Ok(good.clone()), Some(Ok(config.clone())), Some(Ok(offers.clone()))),
            WidgetState::Ready,
        ),
    ];
    for (name, terms, state) in &cases {
        assert_eq!(terms.state(), *state, "{name}");
    }
    let tiny = options(500, "USD", "en-US");
    let none = OffersResponse {
        amount: tiny.amount,
        currency: tiny.currency,
        plans: vec![],
    };
    let unavailable = Terms::from_parts(Ok(tiny), Some(Ok(config.clone())), Some(Ok(none)));
    assert_eq!(
        unavailable,
        Terms::Unavailable(
            "Pay later with Nordic Outdoor Co. isn't available for $5.00. Plans start at $10.00.".into()
        )
    );
    let huge = options(20_000_000, "SEK", "sv-SE");
    let none = OffersResponse {
        amount: huge.amount,
        currency: huge.currency,
        plans: vec![],
    };
    assert_eq!(
        Terms::from_parts(Ok(huge), Some(Ok(config)), Some(Ok(none))),
        Terms::Unavailable("Betala senare hos Nordic Outdoor Co. är inte tillgängligt för 200\u{a0}000,00\u{a0}kr. Planerna gäller upp till 100\u{a0}000,00\u{a0}kr.".into())
    );
}

#[wasm_bindgen_test]
fn decisions_map_to_states_and_contract_event_details() {
    let usd = options(12_999, "USD", "en-US");
    assert_eq!(decision_state(Outcome::Approved), (WidgetState::Approved, "approved"));
    assert_eq!(decision_state(Outcome::Declined), (WidgetState::Declined, "declined"));
    assert_eq!(decision_state(Outcome::Review), (WidgetState::Review, "review"));
    let approved = decision_detail(&answer(Outcome::Approved), &usd);
    assert_eq!(
        approved,
        serde_json::json!({
            "approval_id": "ap_123", "approval_token": "eyJ.token.sig", "plan_id": "pay_in_4",
            "amount": 12999, "currency": "USD",
            "schedule": [
                {"n": 1, "due_date": "2026-11-23", "amount": 3252},
                {"n": 2, "due_date": "2026-12-07", "amount": 3249},
                {"n": 3, "due_date": "2026-12-21", "amount": 3249},
                {"n": 4, "due_date": "2027-01-04", "amount": 3249}
            ]
        })
    );
    assert_eq!(
        decision_detail(&answer(Outcome::Review), &usd),
        serde_json::json!({
            "approval_id": "ap_123",
            "reasons": [{"code": "under_age", "message": "You must be 18 or older to use pay later."}]
        })
    );
}

#[wasm_bindgen_test]
fn checkout_messages_are_sorted_and_strangers_ignored() {
    assert_eq!(
        classify(r#"{"source":"paylater-checkout","type":"resize","height":388}"#),
        Some(Incoming::Resize(388))
    );
    assert_eq!(
        classify(r#"{"source":"paylater-checkout","type":"submitting"}"#),
        Some(Incoming::Flow(FrameMessage::Submitting))
    );
    assert_eq!(
        classify(r#"{"source":"paylater-checkout","type":"failed","status":0,"code":"network_error"}"#),
        Some(Incoming::Flow(FrameMessage::Failed))
    );
    assert_eq!(
        classify(r#"{"source":"paylater-checkout","type":"cancel"}"#),
        Some(Incoming::Flow(FrameMessage::Cancel))
    );
    let decision = serde_json::json!({
        "source": "paylater-checkout", "type": "decision", "answer": answer(Outcome::Declined)
    });
    assert_eq!(
        classify(&decision.to_string()),
        Some(Incoming::Flow(FrameMessage::Decision(answer(Outcome::Declined))))
    );
    for stranger in [
        r#"{"source":"other-widget","type":"cancel"}"#,
        r#"{"source":"paylater-checkout","type":"decision"}"#,
        r#"{"source":"paylater-checkout","type":"resize"}"#,
        r#"{"source":"paylater-checkout","type":"unknown"}"#,
        r#""just a string""#,
        "{}",
    ] {
        assert_eq!(classify(stranger), None, "{stranger}");
    }
}

#[wasm_bindgen_test]
fn event_ids_are_uuid_v7_ordered_by_time_and_unique() {
    use paylater_widget::telemetry::IdSource;
    let t = 1_795_429_845_123.0;
    // 200 ids span nine draws from `crypto` (24 ids a draw): no two share random bytes.
    let mut source = IdSource::new();
    let ids: Vec<String> = (0..200).map(|i| source.next(t + f64::from(i / 10))).collect();
    for id in &ids {
        assert!(paylater_shared::telemetry::is_uuid(id), "{id}");
        assert_eq!(&id[14..15], "7", "version 7: {id}");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "RFC 9562 variant: {id}");
    }
    // The first 48 bits are the Unix milliseconds.
    assert_eq!(
        &ids[0][..13],
        format!("{:08x}-{:04x}", (t as u64) >> 16, (t as u64) & 0xffff)
    );
    let random_parts: std::collections::HashSet<&str> = ids.iter().map(|id| &id[14..]).collect();
    assert_eq!(random_parts.len(), ids.len());
    // Ids made in later milliseconds sort after earlier ones.
    assert!(ids[0][..13] < ids[199][..13]);
}

#[wasm_bindgen_test]
async fn a_web_lock_is_one_pages_until_released_and_a_waiter_gets_it_then() {
    use paylater_widget::locks::acquire;
    let window = web_sys::window().unwrap();
    let name = format!("paylater:test-lock:{}", js_sys::Date::now());
    let held = acquire(&window, &name, None).await.expect("a free lock is granted");
    assert!(held.is_held(), "Chromium has Web Locks on a secure origin");
    assert!(acquire(&window, &name, None).await.is_none(), "held: not available");
    let started = js_sys::Date::now();
    assert!(
        acquire(&window, &name, Some(150)).await.is_none(),
        "still held after the wait"
    );
    assert!(js_sys::Date::now() - started >= 140.0, "waited for it");
    // Released while another waits: the waiter gets it.
    let waiter = acquire(&window, &name, Some(5_000));
    let release = Closure::once_into_js(move || drop(held));
    window
        .set_timeout_with_callback_and_timeout_and_arguments_0(release.unchecked_ref(), 50)
        .unwrap();
    let second = waiter.await.expect("granted once the holder let go");
    assert!(second.is_held());
    // Letting go settles a promise, so the lock is free a moment later, not at once.
    drop(second);
    assert!(acquire(&window, &name, Some(1_000)).await.is_some(), "free again");
}
