//! The card in headless Chromium (wasm-bindgen-test), mounted the way the loader mounts it:
//! into a container inside an open shadow root on a host element; and the edge's JSON read
//! through `JSON.parse`, compared with serde on the same bodies.

#![cfg(target_arch = "wasm32")]

use paylater_card::copy::offer_summary;
use paylater_card::format;
use paylater_shared::{CivilDate, Currency, MinorUnits, Offer, PlanTerms};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, ShadowRootInit, ShadowRootMode};

wasm_bindgen_test_configure!(run_in_browser);

fn host_with_shadow_container() -> (Element, HtmlElement) {
    let document = web_sys::window().unwrap().document().unwrap();
    let host = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&host).unwrap();
    let root = host.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open)).unwrap();
    let container: HtmlElement = document.create_element("div").unwrap().unchecked_into();
    root.append_child(&container).unwrap();
    (host, container)
}

fn options(pairs: &[(&str, &str)]) -> wasm_bindgen::JsValue {
    let object = js_sys::Object::new();
    for (k, v) in pairs {
        js_sys::Reflect::set(&object, &(*k).into(), &(*v).into()).unwrap();
    }
    object.into()
}

#[wasm_bindgen_test]
fn bad_attributes_show_error_state_and_event_without_throwing() {
    let (host, container) = host_with_shadow_container();
    let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::<String>::new()));
    let listener = {
        let seen = seen.clone();
        wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::CustomEvent)>::new(move |event: web_sys::CustomEvent| {
            let code = js_sys::Reflect::get(&event.detail(), &"code".into())
                .unwrap()
                .as_string()
                .unwrap();
            seen.borrow_mut().push(code);
        })
    };
    host.add_event_listener_with_callback("paylater:error", listener.as_ref().unchecked_ref())
        .unwrap();
    let mut handle = paylater_card::mount_card(
        host.clone(),
        container,
        options(&[("key", "pk_test_demo"), ("amount", "12.99"), ("currency", "USD")]),
    )
    .expect("a card, in the error state");
    assert_eq!(host.get_attribute("data-paylater-state").as_deref(), Some("error"));
    assert_eq!(*seen.borrow(), ["invalid_amount"]);
    // The merchant mends the attribute: the same widget leaves the error state and loads.
    handle.update(options(&[
        ("key", "pk_test_demo"),
        ("amount", "1299"),
        ("currency", "USD"),
        ("edge", "http://127.0.0.1:9"),
    ]));
    assert_eq!(*seen.borrow(), ["invalid_amount"], "a valid update reports nothing");
    handle.update(options(&[
        ("key", "pk_test_demo"),
        ("amount", "12999"),
        ("currency", "EURO"),
    ]));
    assert_eq!(*seen.borrow(), ["invalid_amount", "invalid_currency"]);
    handle.destroy();
}

#[wasm_bindgen_test]
fn valid_attributes_mount_into_the_shadow_root_in_loading_state() {
    let (host, container) = host_with_shadow_container();
    // Nothing listens on this port: the fetch fails later, after the first render we check.
    let mut handle = paylater_card::mount_card(
        host.clone(),
        container.clone(),
        options(&[
            ("key", "pk_test_demo"),
            ("amount", "12999"),
            ("currency", "USD"),
            ("edge", "http://127.0.0.1:9"),
        ]),
    )
    .expect("a card");
    assert_eq!(host.get_attribute("data-paylater-state").as_deref(), Some("loading"));
    let loading = container
        .query_selector("[data-testid=loading]")
        .unwrap()
        .expect("loading text");
    assert_eq!(loading.text_content().as_deref(), Some("Loading payment options…"));
    handle.destroy();
    assert_eq!(container.child_element_count(), 0, "destroy removes the card");
}

#[wasm_bindgen_test]
fn offer_summary_states_count_apr_and_total_in_the_locale() {
    let start = CivilDate::parse("2026-11-23").unwrap();
    let usd = Currency::parse("USD").unwrap();
    // $129.99 = 4 × $32.49 + 3 cents, charged with the first payment: $32.52, then $32.49 × 3.
    let uneven = Offer::compute(&PlanTerms::PayIn4, MinorUnits(12_999), start).unwrap();
    assert_eq!(
        offer_summary(&uneven, usd, "en-US"),
        "$32.52 today, then 3 × $32.49 every 2 weeks · 0% APR · Total $129.99"
    );
    // $120.00 splits evenly.
    let even = Offer::compute(&PlanTerms::PayIn4, MinorUnits(12_000), start).unwrap();
    assert_eq!(
        offer_summary(&even, usd, "en-US"),
        "4 payments of $30.00 every 2 weeks · 0% APR · Total $120.00"
    );
    let pay_in_30 = Offer::compute(&PlanTerms::PayIn30, MinorUnits(12_999), start).unwrap();
    assert_eq!(
        offer_summary(&pay_in_30, usd, "en-US"),
        "Pay $129.99 in 30 days · 0% APR · Total $129.99"
    );
    // $1,000.00 over 12 months at 9.99%: $87.91 a month, the last one settles the rounding.
    let financing = Offer::compute(
        &PlanTerms::Financing {
            months: 12,
            apr_bps: 999,
        },
        MinorUnits(100_000),
        start,
    )
    .unwrap();
    assert_eq!(
        offer_summary(&financing, usd, "en-US"),
        "11 × $87.91 monthly, then a final $87.94 · 9.99% APR · Total $1,054.95"
    );
    // $600.00 over 6 months at 0% is $100.00 each.
    let even_financing = Offer::compute(
        &PlanTerms::Financing { months: 6, apr_bps: 0 },
        MinorUnits(60_000),
        start,
    )
    .unwrap();
    assert_eq!(
        offer_summary(&even_financing, usd, "en-US"),
        "6 monthly payments of $100.00 · 0% APR · Total $600.00"
    );
    // An answer whose schedule no plan computes names no installment amount at all.
    let mut odd = uneven.clone();
    odd.schedule[3].amount = MinorUnits(3248);
    odd.schedule[2].amount = MinorUnits(3250);
    assert_eq!(
        offer_summary(&odd, usd, "en-US"),
        "Pay in 4 · APR: 0% · Total payable: $129.99"
    );
}

#[wasm_bindgen_test]
fn money_and_dates_follow_the_locale() {
    let sek = Currency::parse("SEK").unwrap();
    let jpy = Currency::parse("JPY").unwrap();
    // Intl uses a no-break space (U+00A0) in Swedish grouping and before "kr".
    assert_eq!(
        format::money(MinorUnits(1_234_550), sek, "sv-SE"),
        "12\u{a0}345,50\u{a0}kr"
    );
    assert_eq!(format::money(MinorUnits(5000), jpy, "en-US"), "¥5,000");
    let date = CivilDate::parse("2027-02-28").unwrap();
    assert_eq!(format::date(date, "en-US"), "February 28, 2027");
    assert_eq!(format::date(date, "de-DE"), "28. Februar 2027");
}

#[wasm_bindgen_test]
fn a_locale_intl_refuses_falls_back_and_breaks_nothing_else() {
    let usd = Currency::parse("USD").unwrap();
    let date = CivilDate::parse("2026-12-07").unwrap();
    // Well-formed enough for our checks, refused by Intl (a RangeError from its constructor).
    for refused in ["en-a", "de-1996-1996"] {
        assert_eq!(format::money(MinorUnits(12_999), usd, refused), "$129.99", "{refused}");
        assert_eq!(format::date(date, refused), "December 7, 2026", "{refused}");
        assert_eq!(format::apr(999, refused), "9.99%", "{refused}");
    }
    // Every other widget's formats still work.
    assert_eq!(format::money(MinorUnits(12_999), usd, "de-DE"), "129,99\u{a0}$");
}

#[wasm_bindgen_test]
fn formats_kept_for_reuse_stay_apart_by_locale_and_currency() {
    let usd = Currency::parse("USD").unwrap();
    let eur = Currency::parse("EUR").unwrap();
    let date = CivilDate::parse("2026-12-07").unwrap();
    // Taking turns, twice: a format kept for one pair must never answer for another.
    for _ in 0..2 {
        assert_eq!(format::money(MinorUnits(12_999), usd, "en-US"), "$129.99");
        assert_eq!(format::money(MinorUnits(12_999), eur, "de-DE"), "129,99\u{a0}€");
        assert_eq!(format::money(MinorUnits(12_999), eur, "en-US"), "€129.99");
        assert_eq!(format::money(MinorUnits(12_999), usd, "de-DE"), "129,99\u{a0}$");
        assert_eq!(format::date(date, "en-US"), "December 7, 2026");
        assert_eq!(format::date(date, "de-DE"), "7. Dezember 2026");
        assert_eq!(format::apr(999, "en-US"), "9.99%");
        assert_eq!(format::apr(999, "de-DE"), "9,99\u{a0}%");
    }
    // More pairs than are kept: the oldest go, and each comes back the same after they went.
    let codes = [
        "SEK", "NOK", "DKK", "PLN", "JPY", "GBP", "CAD", "AUD", "CHF", "CZK", "HUF", "RON", "THB", "ISK", "MXN", "BRL",
        "INR",
    ];
    let shown = |code| format::money(MinorUnits(100), Currency::parse(code).unwrap(), "en-US");
    let first: Vec<String> = codes.iter().map(|code| shown(*code)).collect();
    let again: Vec<String> = codes.iter().map(|code| shown(*code)).collect();
    assert_eq!(first, again);
    assert_eq!(first[4], "¥100");
    assert_eq!(first[5], "£1.00");
    assert_eq!(first[0], "SEK\u{a0}1.00");
    assert_eq!(format::money(MinorUnits(12_999), usd, "en-US"), "$129.99");
}

#[wasm_bindgen_test]
fn money_keeps_the_iso_4217_digits_where_cldr_has_fewer() {
    // Chromium's default for these is no decimals at all ("IQD 1,235").
    let cases = [
        ("IQD", 1_234_567, "IQD\u{a0}1,234.567"),
        ("RSD", 123_450, "RSD\u{a0}1,234.50"),
        ("ALL", 5, "ALL\u{a0}0.05"),
        ("KWD", 1_000, "KWD\u{a0}1.000"),
        ("USD", 12_999, "$129.99"),
    ];
    for (code, minor, shown) in cases {
        let currency = Currency::parse(code).unwrap();
        assert_eq!(format::money(MinorUnits(minor), currency, "en-US"), shown, "{code}");
    }
}

#[wasm_bindgen_test]
fn figures_written_right_to_left_come_isolated() {
    let usd = Currency::parse("USD").unwrap();
    // Intl marks a Hebrew amount right to left (U+200F); the isolate keeps its parts together
    // inside a text that reads left to right.
    let amount = format::money(MinorUnits(3250), usd, "he-IL");
    assert!(
        amount.starts_with('\u{2068}') && amount.ends_with('\u{2069}'),
        "{amount:?}"
    );
    assert!(amount.contains("32.50"), "{amount:?}");
    let date = format::date(CivilDate::parse("2026-12-07").unwrap(), "he-IL");
    assert!(date.starts_with('\u{2068}') && date.ends_with('\u{2069}'), "{date:?}");
    assert!(format::apr(999, "ar-EG").starts_with('\u{2068}'));
    // Left-to-right figures stay as they are.
    assert_eq!(format::money(MinorUnits(3250), usd, "en-US"), "$32.50");
    assert_eq!(format::apr(999, "en-US"), "9.99%");
}

#[wasm_bindgen_test]
fn offer_summary_speaks_each_catalog_locale() {
    let start = CivilDate::parse("2026-11-23").unwrap();
    let eur = Currency::parse("EUR").unwrap();
    let sek = Currency::parse("SEK").unwrap();
    let pay_in_4 = Offer::compute(&PlanTerms::PayIn4, MinorUnits(12_999), start).unwrap();
    assert_eq!(
        offer_summary(&pay_in_4, eur, "de-DE"),
        "32,52\u{a0}€ heute, dann 3 × 32,49\u{a0}€ alle 2 Wochen · eff. Jahreszins 0\u{a0}% · Gesamtbetrag 129,99\u{a0}€"
    );
    assert_eq!(
        offer_summary(&pay_in_4, sek, "sv-SE"),
        "32,52\u{a0}kr i dag, sedan 3 × 32,49\u{a0}kr varannan vecka · effektiv ränta 0\u{a0}% · totalt 129,99\u{a0}kr"
    );
    let even = Offer::compute(&PlanTerms::PayIn4, MinorUnits(12_000), start).unwrap();
    assert_eq!(
        offer_summary(&even, sek, "sv-SE"),
        "4 betalningar à 30,00\u{a0}kr varannan vecka · effektiv ränta 0\u{a0}% · totalt 120,00\u{a0}kr"
    );
    let financing = Offer::compute(
        &PlanTerms::Financing { months: 6, apr_bps: 0 },
        MinorUnits(60_000),
        start,
    )
    .unwrap();
    assert_eq!(
        offer_summary(&financing, eur, "fr-FR"),
        "6 mensualités de 100,00\u{a0}€ · TAEG 0\u{a0}% · total 600,00\u{a0}€"
    );
}

#[wasm_bindgen_test]
fn offer_summary_speaks_the_new_markets() {
    let start = CivilDate::parse("2026-11-23").unwrap();
    let currency = |code| Currency::parse(code).unwrap();
    let pay_in_4 = |amount| Offer::compute(&PlanTerms::PayIn4, MinorUnits(amount), start).unwrap();
    let financing = Offer::compute(
        &PlanTerms::Financing {
            months: 12,
            apr_bps: 999,
        },
        MinorUnits(100_000),
        start,
    )
    .unwrap();
    // 12999 minor units in 4: 3252 first, then 3 × 3249; 12000: 4 × 3000; ¥20,200: 4 × ¥5,050.
    // Financing 1000.00 at 9.99% over 12 months: 11 × 87.91, then 87.94; total 1054.95.
    let cases: Vec<(&str, &str, Offer, &str)> = vec![
        (
            "ja-JP",
            "JPY",
            pay_in_4(20_200),
            "2週間ごとに￥5,050×4回・実質年率0%・支払総額￥20,200",
        ),
        (
            "ja-JP",
            "JPY",
            pay_in_4(20_201),
            "本日￥5,051、以降2週間ごとに￥5,050×3回・実質年率0%・支払総額￥20,201",
        ),
        (
            "es-ES",
            "EUR",
            pay_in_4(12_999),
            "32,52\u{a0}€ hoy, después 3 × 32,49\u{a0}€ cada 2 semanas · TAE 0\u{a0}% · total 129,99\u{a0}€",
        ),
        (
            "it-IT",
            "EUR",
            pay_in_4(12_000),
            "4 rate da 30,00\u{a0}€ ogni 2 settimane · TAEG 0% · totale 120,00\u{a0}€",
        ),
        (
            "nl-NL",
            "EUR",
            financing.clone(),
            "11 × €\u{a0}87,91 per maand, laatste termijn €\u{a0}87,94 · JKP 9,99% · totaal €\u{a0}1.054,95",
        ),
        (
            "pl-PL",
            "PLN",
            financing.clone(),
            "Raty miesięczne: 11 × 87,91\u{a0}zł, ostatnia rata 87,94\u{a0}zł · RRSO 9,99% · łącznie 1054,95\u{a0}zł",
        ),
        (
            "da-DK",
            "DKK",
            pay_in_4(12_999),
            "32,52\u{a0}kr. i dag, derefter 3 × 32,49\u{a0}kr. hver 2. uge · ÅOP 0\u{a0}% · i alt 129,99\u{a0}kr.",
        ),
        (
            "nb-NO",
            "NOK",
            pay_in_4(12_000),
            "4 avdrag à 30,00\u{a0}kr annenhver uke · effektiv rente 0\u{a0}% · totalt 120,00\u{a0}kr",
        ),
        (
            "fi-FI",
            "EUR",
            financing.clone(),
            "11 × 87,91\u{a0}€ kuukaudessa, viimeinen erä 87,94\u{a0}€ · todellinen vuosikorko 9,99\u{a0}% · yhteensä 1\u{a0}054,95\u{a0}€",
        ),
        (
            "en-AU",
            "AUD",
            pay_in_4(12_999),
            "$32.52 today, then 3 × $32.49 fortnightly · 0% APR · Total $129.99",
        ),
        (
            "en-CA",
            "CAD",
            pay_in_4(12_000),
            "4 payments of $30.00 every 2 weeks · 0% APR · Total $120.00",
        ),
        (
            "fr-CA",
            "CAD",
            pay_in_4(12_999),
            "32,52\u{a0}$ aujourd’hui, puis 3 × 32,49\u{a0}$ aux 2 semaines · taux de crédit 0\u{a0}% · total 129,99\u{a0}$",
        ),
    ];
    for (locale, code, offer, expected) in cases {
        assert_eq!(
            offer_summary(&offer, currency(code), locale),
            expected,
            "{locale} {code}"
        );
    }
}

#[wasm_bindgen_test]
fn js_readers_agree_with_serde_on_edge_bodies() {
    use paylater_card::js_read::parse;
    use paylater_shared::merchant::{self, PlanConfig, PublicMerchantConfig};
    use paylater_shared::{ApiErrorBody, OffersResponse};

    // The demo merchant as `GET /v1/merchants/pk_test_demo/config` serves it: the seed's public
    // fields and the currencies its plans accept (the edge's tests validate the seed itself).
    let mut seed: serde_json::Value =
        serde_json::from_str(include_str!("../../seed/merchants/pk_test_demo.json")).unwrap();
    let plans: Vec<PlanConfig> = serde_json::from_value(seed["plans"].clone()).unwrap();
    seed["currencies"] = serde_json::to_value(merchant::currencies(&plans)).unwrap();
    let demo: PublicMerchantConfig = serde_json::from_value(seed).unwrap();
    let start = CivilDate::parse("2027-01-31").unwrap();
    for (amount, code) in [(12_999, "USD"), (100_000, "EUR"), (5_000, "JPY"), (500, "USD")] {
        let currency = Currency::parse(code).unwrap();
        let offers = OffersResponse {
            amount: MinorUnits(amount),
            currency,
            plans: merchant::offers(&demo.plans, MinorUnits(amount), currency, start).unwrap(),
        };
        let json = serde_json::to_string(&offers).unwrap();
        assert_eq!(parse::<OffersResponse>(&json), Some(offers), "{amount} {code}");
    }
    let mut config = demo;
    config
        .late_fees
        .insert(Currency::parse("GBP").unwrap(), MinorUnits(500));
    let json = serde_json::to_string(&config).unwrap();
    assert_eq!(parse::<PublicMerchantConfig>(&json), Some(config));
    let error = r#"{"error":{"code":"invalid_amount","message":"amount must be positive","field":"amount"}}"#;
    assert_eq!(
        parse::<ApiErrorBody>(error),
        Some(serde_json::from_str::<ApiErrorBody>(error).unwrap())
    );
    // What serde refuses, the readers refuse.
    for bad in [
        r#"{"amount":-1,"currency":"USD","plans":[]}"#,
        r#"{"amount":1.5,"currency":"USD","plans":[]}"#,
        r#"{"amount":100,"currency":"usd!","plans":[]}"#,
        r#"{"amount":100,"currency":"USD","plans":{}}"#,
        r#"{"amount":100,"currency":"USD","plans":[{"id":"x","kind":"weekly"}]}"#,
        r#"[1,2]"#,
        "null",
        "not json",
    ] {
        assert_eq!(parse::<OffersResponse>(bad), None, "{bad}");
        assert!(serde_json::from_str::<OffersResponse>(bad).is_err(), "serde took {bad}");
    }
}
