//! Merchant insights (`GET /v1/insights/funnel`) end to end on `wrangler dev`: a generated day of
//! sessions with known drop-offs, plan choices, declines and orders gives exactly the expected
//! funnel, which also equals a recount of the archived log records; a record sent through the
//! queue again (a dead letter replayed) changes no counter; the route's keys and scopes.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use paylater_harness::edge::Edge;
use paylater_harness::http;
use paylater_harness::sink::attribute;
use paylater_shared::CivilDate;
use serde_json::{Value, json};
use support::*;

const BROWSER: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36";
const STEPS: [&str; 8] = [
    "widget_loaded",
    "widget_viewed",
    "terms_opened",
    "plan_selected",
    "approval_started",
    "approval_submitted",
    "approved",
    "order_created",
];
/// Sessions in the generated day, and how many of them reach each widget step.
const SESSIONS: usize = 120;
const VIEWED: usize = 96;
const OPENED: usize = 60;
const SELECTED: usize = 40;
/// Sessions that start and submit the form, and ask for an approval; the last `MINORS` of them
/// are under age (declined).
const APPLIED: usize = 30;
const MINORS: usize = 8;
/// Approved sessions that become orders.
const ORDERS: usize = 10;

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

fn today() -> String {
    CivilDate::from_unix_millis_utc(now_ms()).unwrap().to_string()
}

/// A UUIDv7-shaped event id, unique per session and step.
fn event_id(session: usize, n: usize) -> String {
    format!("0190d2c4-{session:04x}-7cc2-9a1e-{n:012x}")
}

/// The client address of session `i`: one /24 network per ten sessions.
fn ip(i: usize) -> String {
    format!("198.51.{}.{}", 100 + i / 10, 10 + i % 10)
}

fn post_events(edge: &Edge, token: &str, ip: &str, events: &[Value]) {
    let body = json!({ "session_token": token, "events": events }).to_string();
    let reply = http::request(
        "POST",
        &format!("{}/v1/events", edge.url),
        &[
            ("Origin", ORIGIN),
            ("Content-Type", "application/json"),
            ("User-Agent", BROWSER),
            ("CF-Connecting-IP", ip),
        ],
        Some(&body),
    )
    .unwrap();
    assert_eq!(reply.status, 202, "{}", reply.body);
}

/// `GET /v1/insights/funnel?{query}`, recorded for the OpenAPI check.
fn funnel(edge: &Edge, key: &str, query: &str) -> http::Reply {
    server(
        edge,
        "GET",
        &format!("/v1/insights/funnel?{query}"),
        Some(key),
        None,
        None,
    )
}

/// `GET /v1/logs?{query}`, recorded for the OpenAPI check.
fn logs(edge: &Edge, key: &str, query: &str) -> http::Reply {
    server(edge, "GET", &format!("/v1/logs?{query}"), Some(key), None, None)
}

/// The parts of a funnel answer the test compares: sessions per step, decisions, reasons,
/// plans, orders per currency.
type Figures = (
    Vec<u64>,
    (u64, u64, u64),
    BTreeMap<String, u64>,
    BTreeMap<String, u64>,
    BTreeMap<String, (u64, u64)>,
);

fn figures(answer: &Value) -> Figures {
    let steps = answer["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sessions"].as_u64().unwrap())
        .collect();
    let d = &answer["decisions"];
    let decisions = (
        d["approved"].as_u64().unwrap(),
        d["declined"].as_u64().unwrap(),
        d["review"].as_u64().unwrap(),
    );
    let reasons = answer["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!("{}:{}", r["outcome"].as_str().unwrap(), r["code"].as_str().unwrap()),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect();
    let plans = answer["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["plan_id"].as_str().unwrap().to_owned(),
                p["selections"].as_u64().unwrap(),
            )
        })
        .collect();
    let orders = answer["order_value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["currency"].as_str().unwrap().to_owned(),
                (o["orders"].as_u64().unwrap(), o["amount"].as_u64().unwrap()),
            )
        })
        .collect();
    (steps, decisions, reasons, plans, orders)
}

fn strings_attribute(record: &Value, key: &str) -> Vec<String> {
    record["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|kv| kv["key"] == key)
        .and_then(|kv| kv["value"]["arrayValue"]["values"].as_array())
        .map(|values| {
            values
                .iter()
                .filter_map(|v| v["stringValue"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The same figures recounted from the archive alone: each `event.id` once, sessions once per
/// step, of one merchant and mode.
fn recount(records: &[Value], merchant: &str) -> Figures {
    let mut seen = BTreeSet::new();
    let mut reached: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let (mut approved, mut declined, mut review) = (0, 0, 0);
    let mut reasons = BTreeMap::new();
    let mut plans = BTreeMap::new();
    let mut orders: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for record in records {
        if attribute(record, "merchant.id").as_deref() != Some(merchant)
            || attribute(record, "paylater.mode").as_deref() != Some("test")
            || !seen.insert(attribute(record, "event.id").unwrap())
        {
            continue;
        }
        let session = attribute(record, "session.id").unwrap_or_default();
        let name = record["eventName"].as_str().unwrap();
        if let Some(step) = STEPS.iter().find(|s| **s == name) {
            reached.entry(step).or_default().insert(session.clone());
        }
        match name {
            "plan_selected" => *plans.entry(attribute(record, "plan.id").unwrap()).or_default() += 1,
            "approval_decision" => {
                let outcome = attribute(record, "decision.outcome").unwrap();
                match outcome.as_str() {
                    "approved" => {
                        approved += 1;
                        reached.entry("approved").or_default().insert(session);
                    }
                    "declined" => declined += 1,
                    _ => review += 1,
                }
                if outcome != "approved" {
                    for code in strings_attribute(record, "decision.reasons") {
                        *reasons.entry(format!("{outcome}:{code}")).or_default() += 1;
                    }
                }
            }
            "order_created" => {
                let entry = orders
                    .entry(attribute(record, "checkout.currency").unwrap())
                    .or_default();
                entry.0 += 1;
                entry.1 += int_attribute(record, "change.amount_minor").unwrap();
            }
            _ => {}
        }
    }
    let steps = STEPS
        .iter()
        .map(|s| reached.get(s).map_or(0, |set| set.len() as u64))
        .collect();
    (steps, (approved, declined, review), reasons, plans, orders)
}

#[test]
fn a_generated_day_gives_the_funnel_exactly_and_replays_change_nothing() {
    let (work, edge) = start_edge();
    let day = today();
    let range = format!("from={day}&to={day}");

    // The day: every session loads the widget; fewer view it, open the terms, choose a plan
    // (even sessions pay in 4, odd ones in 30 days; the first chooses twice), start and submit
    // the form.
    let mut tokens = Vec::new();
    for i in 0..SESSIONS {
        let reply = session_from(&edge, "pk_test_demo", 12_999, &ip(i));
        assert_eq!(reply.status, 201, "{}", reply.body);
        let token = reply.json()["session_token"].as_str().unwrap().to_owned();
        let ts = now_ms();
        let plan = if i % 2 == 0 { "pay_in_4" } else { "pay_in_30" };
        let mut events = vec![
            json!({ "id": event_id(i, 1), "name": "widget_loaded", "ts": ts, "seq": 1, "props": { "load_ms": 80 } }),
        ];
        let mut step = |n: usize, name: &str, props: Value| {
            events.push(json!({ "id": event_id(i, n), "name": name, "ts": ts + n as i64, "seq": n, "props": props }));
        };
        if i < VIEWED {
            step(2, "widget_viewed", json!({ "visible_ms": 1000 }));
        }
        if i < OPENED {
            step(3, "terms_opened", json!({}));
        }
        if i < SELECTED {
            step(4, "plan_selected", json!({ "plan_id": plan }));
        }
        if i == 0 {
            step(5, "plan_selected", json!({ "plan_id": "pay_in_30" }));
        }
        if i < APPLIED {
            step(6, "approval_started", json!({ "plan_id": plan }));
            step(7, "approval_submitted", json!({ "plan_id": plan }));
        }
        post_events(&edge, &token, &ip(i), &events);
        // The same request again (a retry after a lost answer): duplicates, counted once.
        if i % 7 == 0 {
            post_events(&edge, &token, &ip(i), &events);
        }
        tokens.push(token);
    }
    // Approvals after the form was filled for a human's while; the last few are minors.
    let_sessions_age();
    let mut approved_tokens = Vec::new();
    let mut expected_reasons: BTreeMap<String, u64> = BTreeMap::new();
    let (mut approved, mut declined) = (0, 0);
    for (i, token) in tokens.iter().enumerate().take(APPLIED) {
        let born = if i >= APPLIED - MINORS {
            "2014-03-01"
        } else {
            "1988-03-01"
        };
        let body = approval_body(token, "pay_in_4", &format!("shopper{i}@example.com"), born);
        let reply = post_approval_from(&edge, &format!("insights-{i}"), &body, &ip(i));
        assert_eq!(reply.status, 200, "{}", reply.body);
        let answer = reply.json();
        match answer["decision"].as_str().unwrap() {
            "approved" => {
                approved += 1;
                approved_tokens.push(answer["approval_token"].as_str().unwrap().to_owned());
            }
            outcome => {
                declined += u64::from(outcome == "declined");
                for reason in answer["reasons"].as_array().unwrap() {
                    *expected_reasons
                        .entry(format!("{outcome}:{}", reason["code"].as_str().unwrap()))
                        .or_default() += 1;
                }
            }
        }
    }
    assert_eq!((approved, declined), ((APPLIED - MINORS) as u64, MINORS as u64));
    assert_eq!(expected_reasons.get("declined:under_age"), Some(&(MINORS as u64)));
    for (n, token) in approved_tokens.iter().take(ORDERS).enumerate() {
        let reply = create_order(&edge, DEMO_KEY, token, &format!("INS-{n}"));
        assert_eq!(reply.status, 201, "{}", reply.body);
    }

    let expected: Figures = (
        vec![
            SESSIONS as u64,
            VIEWED as u64,
            OPENED as u64,
            SELECTED as u64,
            APPLIED as u64,
            APPLIED as u64,
            approved,
            ORDERS as u64,
        ],
        (approved, declined, 0),
        expected_reasons,
        BTreeMap::from([
            ("pay_in_4".to_owned(), (SELECTED / 2) as u64),
            ("pay_in_30".to_owned(), (SELECTED / 2 + 1) as u64),
        ]),
        BTreeMap::from([("USD".to_owned(), (ORDERS as u64, ORDERS as u64 * 12_999))]),
    );
    let mut answer = Value::Null;
    wait_until("the day's counters", Duration::from_secs(90), || {
        answer = funnel(&edge, DEMO_KEY, &range).json();
        answer.get("steps").is_some() && figures(&answer) == expected
    });
    // The shape and the derived figures: conversion, drop-off, approval rate, average value.
    let steps = answer["steps"].as_array().unwrap();
    assert_eq!(steps[1]["from_previous"], json!(0.8));
    assert_eq!(steps[1]["drop_off"], json!(SESSIONS - VIEWED));
    assert_eq!(steps[3]["from_first"], json!(0.3333));
    assert_eq!(answer["decisions"]["approval_rate"], json!(0.7333));
    assert_eq!(answer["order_value"][0]["average"], json!(12_999));
    assert_eq!(answer["periods"].as_array().unwrap().len(), 1);
    assert_eq!(answer["periods"][0]["period"], json!(day));
    let hourly = funnel(&edge, DEMO_KEY, &format!("{range}&granularity=hour")).json();
    let by_hour: u64 = hourly["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sessions"][0].as_u64().unwrap())
        .sum();
    assert_eq!(by_hour, SESSIONS as u64);

    // The archive, recounted by this test alone, says the same.
    let mut records = Vec::new();
    wait_until("the archive", Duration::from_secs(60), || {
        records = archived_records(&edge);
        recount(&records, "m_nordic_outdoor") == expected
    });

    // A loaded event and an approval sent through the queue again count nothing twice. The last
    // session's request carried its loaded event alone, so its message was that record alone.
    let last = SESSIONS - 1;
    let loaded = records
        .iter()
        .find(|r| attribute(r, "event.id").as_deref() == Some(event_id(last, 1).as_str()))
        .unwrap();
    let session_id = attribute(loaded, "session.id").unwrap();
    let observed_ms = loaded["observedTimeUnixNano"].as_str().unwrap().parse::<i64>().unwrap() / 1_000_000;
    let session = json!({
        "session_id": session_id, "merchant_id": "m_nordic_outdoor", "amount_minor": 12_999,
        "currency": "USD", "issued_at_s": observed_ms / 1000 - 10, "livemode": false,
    });
    let request = json!({
        "observed_ms": observed_ms, "network": "198.51.100.0/24", "country": null, "asn": null,
        "ua_class": "desktop", "ip_velocity": false,
    });
    let event = json!({
        "event": { "id": event_id(last, 1), "name": "widget_loaded", "ts": observed_ms, "seq": 1, "props": { "load_ms": 80 } },
        "session": session, "request": request, "seq_gap": 0, "risk_flags": [],
    });
    redeliver(&edge, work.path(), "loaded-again", &event.to_string());
    let decision = records
        .iter()
        .find(|r| {
            r["eventName"] == "approval_decision" && attribute(r, "decision.outcome").as_deref() == Some("declined")
        })
        .unwrap();
    let mut decided_in = session.clone();
    decided_in["session_id"] = json!(attribute(decision, "session.id").unwrap());
    let message = json!({
        "approval_id": attribute(decision, "event.id").unwrap(),
        "session": decided_in, "request": request,
        "customer_id_hash": attribute(decision, "customer.id_hash").unwrap(),
        "plan_id": "pay_in_4", "outcome": "declined", "reasons": ["under_age"], "score_band": "D",
        "upstream": null, "form_fill_ms": 4_000,
    });
    redeliver(&edge, work.path(), "decision-again", &message.to_string());
    // Both replayed messages went through the consumer, which found them archived already,
    // and counted nothing: each is in the archive once.
    wait_until("the replayed records", Duration::from_secs(60), || {
        edge.log_text().matches("\"kind\":\"already_archived\"").count() >= 2
    });
    let ids: Vec<String> = archived_records(&edge)
        .iter()
        .filter_map(|r| attribute(r, "event.id"))
        .collect();
    let count = |id: &str| ids.iter().filter(|i| *i == id).count();
    assert_eq!(
        (
            count(&event_id(last, 1)),
            count(&attribute(decision, "event.id").unwrap())
        ),
        (1, 1)
    );
    assert_eq!(figures(&funnel(&edge, DEMO_KEY, &range).json()), expected);
}

#[test]
fn the_funnel_answers_its_own_merchant_and_mode_only() {
    let (work, edge) = start_edge();
    let day = today();
    let range = format!("from={day}&to={day}");
    // A session and an event of the demo merchant, so there is something not to leak.
    let reply = session_from(&edge, "pk_test_demo", 12_999, "198.51.200.10");
    let token = reply.json()["session_token"].as_str().unwrap().to_owned();
    let loaded = json!({ "id": event_id(900, 1), "name": "widget_loaded", "ts": now_ms(), "seq": 1, "props": {} });
    post_events(&edge, &token, "198.51.200.10", &[loaded]);
    wait_until("the demo merchant's counters", Duration::from_secs(60), || {
        funnel(&edge, DEMO_KEY, &range).json()["steps"][0]["sessions"] == json!(1)
    });

    let code = |reply: http::Reply| error_code(&reply);
    // Without the scope, with no key, a key nobody issued.
    assert_eq!(
        code(funnel(&edge, DEMO_READONLY_KEY, &range)),
        (403, "insufficient_scope".into())
    );
    assert_eq!(
        code(funnel(&edge, LIMITS_KEY, &range)),
        (403, "insufficient_scope".into())
    );
    assert_eq!(
        code(funnel(&edge, DEMO_LIVE_KEY, &range)),
        (403, "insufficient_scope".into())
    );
    let revoked = "sk_test_demo.revoked-or-never-issued-key-000000000000";
    assert_eq!(code(funnel(&edge, revoked, &range)), (401, "invalid_key".into()));
    let anonymous = http::request("GET", &format!("{}/v1/insights/funnel?{range}", edge.url), &[], None).unwrap();
    assert_eq!(code(anonymous), (401, "unauthenticated".into()));
    // Another merchant's key with the scope sees its own (empty) funnel, nothing of the demo's.
    let other = funnel(&edge, SHORTLIFE_KEY, &range);
    assert_eq!(other.status, 200, "{}", other.body);
    let other = other.json();
    assert!(
        other["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["sessions"] == json!(0)),
        "{other}"
    );
    assert_eq!(other["periods"], json!([]));
    // Bad queries are typed.
    for (query, status, expected) in [
        ("from=2026-11-30".to_owned(), 400, ("missing_parameter", "to")),
        (
            format!("{range}&granularity=week"),
            400,
            ("invalid_type", "granularity"),
        ),
        ("from=2026-01-01&to=2026-04-01".to_owned(), 422, ("invalid_range", "to")),
        (
            format!("{range}&merchant=m_nordic_outdoor"),
            400,
            ("unknown_parameter", "merchant"),
        ),
    ] {
        let reply = funnel(&edge, DEMO_KEY, &query);
        let error = &reply.json()["error"];
        assert_eq!(
            (
                reply.status,
                error["code"].as_str().unwrap(),
                error["field"].as_str().unwrap()
            ),
            (status, expected.0, expected.1),
            "{query}"
        );
    }

    // Every use of a key above is a log record of its own: the key's id, scope and route, never
    // the key. Refused keys used nothing.
    let uses = |records: &[Value]| -> BTreeSet<(String, String, String, String)> {
        records
            .iter()
            .filter(|r| r["eventName"] == "key_used")
            .map(|r| {
                let text = |key| attribute(r, key).unwrap_or_default();
                (
                    text("merchant.id"),
                    text("key.id"),
                    text("key.scope"),
                    text("http.route"),
                )
            })
            .collect()
    };
    wait_until("the key uses in the archive", Duration::from_secs(60), || {
        uses(&archived_records(&edge))
            == BTreeSet::from([
                (
                    "m_nordic_outdoor".to_owned(),
                    "key_demo_server".to_owned(),
                    "insights:read".to_owned(),
                    "insights_funnel".to_owned(),
                ),
                (
                    "m_short_windows".to_owned(),
                    "key_shortlife_server".to_owned(),
                    "insights:read".to_owned(),
                    "insights_funnel".to_owned(),
                ),
            ])
    });
    let archived = archived_records(&edge);
    assert!(
        !archived.iter().any(|r| r.to_string().contains("local-dev-only")),
        "a key in a record"
    );

    // The archived records, for those allowed to read them: the merchant's own, of the key's
    // mode, exactly the archive's (its key uses, which go on arriving, aside).
    let own: BTreeSet<String> = archived
        .iter()
        .filter(|r| {
            attribute(r, "merchant.id").as_deref() == Some("m_nordic_outdoor")
                && attribute(r, "paylater.mode").as_deref() == Some("test")
                && r["eventName"] != "key_used"
        })
        .filter_map(|r| attribute(r, "event.id"))
        .collect();
    assert!(own.contains(&event_id(900, 1)), "{own:?}");
    let reply = logs(&edge, DEMO_KEY, &range);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/x-ndjson; charset=utf-8")
    );
    let lines: Vec<Value> = reply.body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let streamed: BTreeSet<String> = lines
        .iter()
        .filter(|r| r["eventName"] != "key_used")
        .filter_map(|r| attribute(r, "event.id"))
        .collect();
    assert_eq!(streamed, own);
    assert!(
        lines
            .iter()
            .all(|r| attribute(r, "merchant.id").as_deref() == Some("m_nordic_outdoor"))
    );
    // Another merchant's key reads its own archive (nothing), never the demo's.
    // (Its own records are its key's uses.)
    let other = logs(&edge, SHORTLIFE_KEY, &range);
    assert_eq!(other.status, 200, "{}", other.body);
    let theirs: Vec<Value> = other.body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!theirs.is_empty());
    assert!(
        theirs
            .iter()
            .all(|r| attribute(r, "merchant.id").as_deref() == Some("m_short_windows") && r["eventName"] == "key_used"),
        "{}",
        other.body
    );
    assert_eq!(
        code(logs(&edge, DEMO_READONLY_KEY, &range)),
        (403, "insufficient_scope".into())
    );
    assert_eq!(code(logs(&edge, revoked, &range)), (401, "invalid_key".into()));
    let long = logs(&edge, DEMO_KEY, "from=2026-01-01&to=2026-03-01");
    assert_eq!(code(long), (422, "invalid_range".into()));

    // Every answer above, against the OpenAPI document.
    check_conformance(work.path(), "/v1/insights/funnel,/v1/logs");
}
