//! The merchant server API (CONTRACT §5) end to end on `wrangler dev`: an approval's life as an
//! order (captures, refunds, voids, expiry by alarm) with the customer's holds checked after
//! each step, secret keys and modes, bad inputs, and the reconciliation report checked against
//! sums computed independently from the archived log records.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use paylater_harness::edge::Edge;
use paylater_harness::http;
use paylater_harness::sink::attribute;
use paylater_shared::CivilDate;
use serde_json::{Value, json};
use support::*;

type Sums = BTreeMap<(String, String, String), (u64, u64)>;

/// `(day, currency, kind) → (count, sum)` from the archive alone: approved decisions and order
/// changes, each `event.id` once, dated by when the edge observed them.
fn sums_from_archive(records: &[Value]) -> Sums {
    let mut seen = BTreeSet::new();
    let mut sums = Sums::new();
    for record in records {
        let id = attribute(record, "event.id").unwrap();
        if !seen.insert(id) {
            continue;
        }
        let name = record["eventName"].as_str().unwrap();
        let (kind, amount) = match name {
            "approval_decision" if attribute(record, "decision.outcome").as_deref() == Some("approved") => {
                ("approvals", int_attribute(record, "checkout.amount_minor").unwrap())
            }
            "order_created" | "order_captured" | "order_refunded" | "order_voided" | "order_expired"
            | "approval_expired" => {
                let kind = match name {
                    "order_created" => "orders_created",
                    "order_captured" => "captured",
                    "order_refunded" => "refunded",
                    "order_voided" => "voided",
                    "order_expired" => "expired",
                    _ => "approvals_expired",
                };
                (kind, int_attribute(record, "change.amount_minor").unwrap())
            }
            _ => continue,
        };
        let nanos: i64 = record["observedTimeUnixNano"].as_str().unwrap().parse().unwrap();
        let day = CivilDate::from_unix_millis_utc(nanos / 1_000_000).unwrap().to_string();
        let currency = attribute(record, "checkout.currency").unwrap();
        let entry = sums.entry((day, currency, kind.to_owned())).or_default();
        entry.0 += 1;
        entry.1 += amount;
    }
    sums
}

/// The same from the reconciliation report.
fn sums_from_report(report: &Value) -> Sums {
    let mut sums = Sums::new();
    for day in report["days"].as_array().unwrap() {
        for kind in [
            "approvals",
            "orders_created",
            "captured",
            "refunded",
            "voided",
            "expired",
            "approvals_expired",
        ] {
            let tally = &day[kind];
            if tally["count"].as_u64().unwrap() > 0 {
                sums.insert(
                    (
                        day["date"].as_str().unwrap().to_owned(),
                        day["currency"].as_str().unwrap().to_owned(),
                        kind.to_owned(),
                    ),
                    (tally["count"].as_u64().unwrap(), tally["amount"].as_u64().unwrap()),
                );
            }
        }
    }
    sums
}

fn today() -> String {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    CivilDate::from_unix_millis_utc(now_ms).unwrap().to_string()
}

fn reconciliation(edge: &Edge, key: &str, accept: &str) -> http::Reply {
    let day = today();
    let bearer = format!("Bearer {key}");
    let path = format!("/v1/reconciliation?from={day}&to={day}");
    let reply = http::request(
        "GET",
        &format!("{}{path}", edge.url),
        &[("Authorization", &bearer), ("Accept", accept)],
        None,
    )
    .unwrap();
    record("GET", &path, &reply);
    reply
}

/// Approve → order → partial capture → the rest → partial refund, the holds after each step; a
/// void; replays and conflicts; then the day's reconciliation equals the archive's sums, the CSV
/// reads with Python's csv module, and a redelivered change counts nothing twice.
#[test]
fn an_order_lives_and_the_ledger_follows_it() {
    let (work, edge) = start_edge();
    let email = "life@example.com";
    let first = session(&edge, "pk_test_demo", 12_999);
    let second = session(&edge, "pk_test_demo", 5_000);
    let_sessions_age();

    let approved = approve(&edge, &first, email, "life-1");
    let token = approval_token(&approved);
    let approval_id = approved.json()["approval_id"].as_str().unwrap().to_owned();
    assert_eq!(holds(&edge, email, false), [(approval_id.clone(), 12_999)].into());

    let created = create_order(&edge, DEMO_KEY, &token, "R-1001");
    assert_eq!(created.status, 201, "{}", created.body);
    let order = created.json();
    let order_id = order["order_id"].as_str().unwrap().to_owned();
    assert_eq!(order_id, format!("ord_test_{}", approval_id.replace('-', "")));
    assert_eq!(
        (
            order["status"].clone(),
            order["amount"].clone(),
            order["captured"].clone(),
            order["livemode"].clone(),
            order["merchant_reference"].clone(),
        ),
        (
            json!("authorized"),
            json!(12_999),
            json!(0),
            json!(false),
            json!("R-1001")
        )
    );
    assert_eq!(order["schedule"].as_array().unwrap().len(), 4);
    assert_eq!(order["history"][0]["kind"], "order_created");
    // The same call again returns it; another reference for the same approval is a conflict.
    let again = create_order(&edge, DEMO_KEY, &token, "R-1001");
    assert_eq!((again.status, again.header("idempotent-replayed")), (200, Some("true")));
    assert_eq!(again.json()["order_id"], order_id.as_str());
    let other = create_order(&edge, DEMO_KEY, &token, "R-9999");
    assert_eq!(error_code(&other), (409, "order_exists".to_owned()));

    let part = change(
        &edge,
        DEMO_KEY,
        &order_id,
        "captures",
        "cap-1",
        Some(json!({ "amount": 5_000 })),
    );
    assert_eq!(part.status, 201, "{}", part.body);
    assert_eq!(
        (part.json()["status"].clone(), part.json()["captured"].clone()),
        (json!("partially_captured"), json!(5_000))
    );
    assert_eq!(
        exposure(&edge, email, false),
        12_999,
        "captured or authorized, all held"
    );
    let replay = change(
        &edge,
        DEMO_KEY,
        &order_id,
        "captures",
        "cap-1",
        Some(json!({ "amount": 5_000 })),
    );
    assert_eq!(
        (replay.status, replay.header("idempotent-replayed")),
        (201, Some("true"))
    );
    assert_eq!(replay.json(), part.json());
    let conflict = change(
        &edge,
        DEMO_KEY,
        &order_id,
        "captures",
        "cap-1",
        Some(json!({ "amount": 6_000 })),
    );
    assert_eq!(error_code(&conflict), (409, "idempotency_conflict".to_owned()));
    let too_much = change(
        &edge,
        DEMO_KEY,
        &order_id,
        "captures",
        "cap-2",
        Some(json!({ "amount": 8_000 })),
    );
    assert_eq!(
        (
            too_much.status,
            too_much.json()["error"]["code"].clone(),
            too_much.json()["error"]["field"].clone()
        ),
        (422, json!("amount_exceeds"), json!("amount"))
    );
    let rest = change(
        &edge,
        DEMO_KEY,
        &order_id,
        "captures",
        "cap-3",
        Some(json!({ "amount": 7_999 })),
    );
    assert_eq!(
        (rest.json()["status"].clone(), rest.json()["captured"].clone()),
        (json!("captured"), json!(12_999))
    );
    assert_eq!(exposure(&edge, email, false), 12_999);

    let refund = change(
        &edge,
        DEMO_KEY,
        &order_id,
        "refunds",
        "ref-1",
        Some(json!({ "amount": 2_000, "reason": "one item returned" })),
    );
    assert_eq!(refund.status, 201, "{}", refund.body);
    assert_eq!(
        (refund.json()["status"].clone(), refund.json()["refunded"].clone()),
        (json!("partially_refunded"), json!(2_000))
    );
    assert_eq!(exposure(&edge, email, false), 10_999, "a refund releases at once");
    let over = change(
        &edge,
        DEMO_KEY,
        &order_id,
        "refunds",
        "ref-2",
        Some(json!({ "amount": 11_000 })),
    );
    assert_eq!(error_code(&over), (422, "amount_exceeds".to_owned()));
    let late_void = change(&edge, DEMO_KEY, &order_id, "void", "void-1", None);
    assert_eq!(error_code(&late_void), (409, "invalid_order_state".to_owned()));

    // A second approval, voided before any capture: its whole hold goes at once.
    let voidable = approve(&edge, &second, email, "life-2");
    let voidable_token = approval_token(&voidable);
    assert_eq!(exposure(&edge, email, false), 10_999 + 5_000);
    let voidable_order = create_order(&edge, DEMO_KEY, &voidable_token, "R-1002").json();
    let voidable_id = voidable_order["order_id"].as_str().unwrap();
    let voided = change(&edge, DEMO_KEY, voidable_id, "void", "void-2", None);
    assert_eq!((voided.status, voided.json()["status"].clone()), (200, json!("voided")));
    assert_eq!(exposure(&edge, email, false), 10_999);

    let fetched = get_order(&edge, DEMO_READONLY_KEY, &order_id);
    assert_eq!(fetched.status, 200, "{}", fetched.body);
    let kinds: Vec<(String, u64)> = fetched.json()["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["kind"].as_str().unwrap().to_owned(), h["amount"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("order_created".to_owned(), 12_999),
            ("captured".to_owned(), 5_000),
            ("captured".to_owned(), 7_999),
            ("refunded".to_owned(), 2_000)
        ]
    );
    assert_eq!(fetched.json()["history"][3]["reason"], "one item returned");
    // Every field CONTRACT §5 writes for an Order, in the answer, and its statuses are the
    // OpenAPI document's.
    let order_shape = contract::shape("Order");
    let contract::Shape::Object(order_fields) = &order_shape else {
        panic!("{order_shape:?}")
    };
    assert_eq!(order_fields.len(), 14, "{order_shape:?}");
    contract::assert_has_shape(&fetched.json(), &order_shape, "order");
    let statuses = contract::listed_values("status");
    let document: Value = serde_json::from_str(
        &std::fs::read_to_string(paylater_harness::paths::workspace_root().join("edge/openapi.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        json!(statuses),
        document["components"]["schemas"]["OrderStatus"]["enum"],
        "CONTRACT §5's statuses"
    );

    // Two approvals and six changes, all archived, then the report says the same.
    wait_until("every change in the archive", Duration::from_secs(60), || {
        sums_from_archive(&archived_records(&edge))
            .values()
            .map(|(count, _)| count)
            .sum::<u64>()
            == 8
    });
    let expected = sums_from_archive(&archived_records(&edge));
    let day = today();
    let usd = |kind: &str, count: u64, sum: u64| ((day.clone(), "USD".to_owned(), kind.to_owned()), (count, sum));
    assert_eq!(
        expected,
        Sums::from([
            usd("approvals", 2, 17_999),
            usd("orders_created", 2, 17_999),
            usd("captured", 2, 12_999),
            usd("refunded", 1, 2_000),
            usd("voided", 1, 5_000),
        ])
    );
    let mut report = Value::Null;
    wait_until("the reconciliation ledger", Duration::from_secs(60), || {
        report = reconciliation(&edge, DEMO_KEY, "application/json").json();
        sums_from_report(&report) == expected
    });
    assert_eq!(report["items"].as_array().unwrap().len(), 8);
    contract::assert_has_shape(&report, &contract::shape("Reconciliation"), "reconciliation");
    let csv = reconciliation(&edge, DEMO_READONLY_KEY, "text/csv");
    assert_eq!(
        csv.header("content-type"),
        Some("text/csv; charset=utf-8; header=present")
    );
    let rows = python("read_csv.py", &[], Some(&csv.body));
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 8);
    let captured: u64 = rows
        .iter()
        .filter(|r| r["kind"] == "captured")
        .map(|r| r["amount"].as_str().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(captured, 12_999);
    assert!(
        rows.iter()
            .any(|r| r["merchant_reference"] == "R-1002" && r["kind"] == "voided")
    );

    // A redelivered change (the first capture's record sent again) counts nothing twice.
    let first_capture = format!("{order_id}:captured:1");
    let resend = archived_records(&edge)
        .into_iter()
        .find(|r| attribute(r, "event.id").as_deref() == Some(first_capture.as_str()))
        .unwrap();
    let message = json!({
        "change_id": first_capture,
        "kind": "captured",
        "merchant_id": "m_nordic_outdoor",
        "livemode": false,
        "session_id": attribute(&resend, "session.id").unwrap(),
        "approval_id": approval_id,
        "order_id": order_id,
        "merchant_reference": "R-1001",
        "amount": 5_000,
        "currency": "USD",
        "order_amount": 12_999,
        "plan_id": "pay_in_4",
        "at_ms": resend["observedTimeUnixNano"].as_str().unwrap().parse::<i64>().unwrap() / 1_000_000,
    });
    redeliver(&edge, work.path(), "redelivered", &message.to_string());
    // The consumer finds it archived already: the archive keeps it once.
    wait_until(
        "the redelivered record through the consumer",
        Duration::from_secs(60),
        || edge.log_text().contains("\"kind\":\"already_archived\""),
    );
    assert_eq!(
        archived_records(&edge)
            .iter()
            .filter(|r| attribute(r, "event.id").as_deref() == Some(first_capture.as_str()))
            .count(),
        1
    );
    let after = reconciliation(&edge, DEMO_KEY, "application/json").json();
    assert_eq!(sums_from_report(&after), expected);
    assert_eq!(after["items"], report["items"]);

    // Every answer above, against the OpenAPI document; every merchant server route was used.
    check_conformance(work.path(), MERCHANT_SERVER_ROUTES);
}

const MERCHANT_SERVER_ROUTES: &str = "/v1/orders,/v1/reconciliation,/v1/admin/customers";

/// With a 4 s token life and a 6 s capture window: an approval with no order is released by the
/// customer's alarm, no request arriving; an order left uncaptured expires by its own alarm.
#[test]
fn approvals_and_orders_expire_by_their_alarms() {
    let (_work, edge) = start_edge();
    let sessions: Vec<String> = (0..3).map(|_| session(&edge, "pk_test_shortlife", 12_999)).collect();
    let_sessions_age();
    let idle = approve(&edge, &sessions[0], "idle@example.com", "idle-1");
    let idle_token = approval_token(&idle);
    let idle_id = idle.json()["approval_id"].as_str().unwrap().to_owned();
    let untouched = approval_token(&approve(&edge, &sessions[1], "untouched@example.com", "untouched-1"));
    let partial = approval_token(&approve(&edge, &sessions[2], "partial@example.com", "partial-1"));
    let untouched_id = create_order(&edge, SHORTLIFE_KEY, &untouched, "S-1").json()["order_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let partial_order = create_order(&edge, SHORTLIFE_KEY, &partial, "S-2").json();
    let partial_id = partial_order["order_id"].as_str().unwrap().to_owned();
    let captured = change(
        &edge,
        SHORTLIFE_KEY,
        &partial_id,
        "captures",
        "s2-cap",
        Some(json!({ "amount": 1_000 })),
    );
    assert_eq!(captured.status, 201, "{}", captured.body);
    assert_eq!(
        holds(&edge, "idle@example.com", false),
        [(idle_id.clone(), 12_999)].into()
    );

    // Nothing asks about the idle approval: the customer's alarm releases it and logs it.
    wait_until("approval_expired in the archive", Duration::from_secs(60), || {
        archived_records(&edge).iter().any(|r| {
            r["eventName"] == "approval_expired" && attribute(r, "approval.id").as_deref() == Some(idle_id.as_str())
        })
    });
    assert_eq!(holds(&edge, "idle@example.com", false), [(idle_id.clone(), 0)].into());
    let late = create_order(&edge, SHORTLIFE_KEY, &idle_token, "S-3");
    assert_eq!(error_code(&late), (422, "approval_token_expired".to_owned()));

    // The orders' own alarms: the untouched one expires whole, the partial one keeps its capture.
    wait_until("both orders expired", Duration::from_secs(60), || {
        let status = |id: &str| get_order(&edge, SHORTLIFE_KEY, id).json()["status"].clone();
        status(&untouched_id) == "expired" && status(&partial_id) == "captured"
    });
    assert_eq!(exposure(&edge, "untouched@example.com", false), 0);
    assert_eq!(exposure(&edge, "partial@example.com", false), 1_000);
    let partial_now = get_order(&edge, SHORTLIFE_KEY, &partial_id).json();
    assert_eq!(
        partial_now["history"].as_array().unwrap().last().unwrap()["kind"],
        "expired"
    );
    assert_eq!(
        partial_now["history"].as_array().unwrap().last().unwrap()["amount"],
        11_999
    );
    let too_late = change(
        &edge,
        SHORTLIFE_KEY,
        &untouched_id,
        "captures",
        "late",
        Some(json!({ "amount": 1 })),
    );
    assert_eq!(error_code(&too_late), (409, "invalid_order_state".to_owned()));
}

/// Every key problem has its own code; test and live never mix: tokens, orders, ledgers.
#[test]
fn secret_keys_and_modes_are_checked() {
    let (_work, edge) = start_edge();
    let email = "modes@example.com";
    let test_session = session(&edge, "pk_test_demo", 12_999);
    let live_session = session(&edge, "pk_live_demo", 7_000);
    let_sessions_age();
    let test_token = approval_token(&approve(&edge, &test_session, email, "modes-test"));
    let live_token = approval_token(&approve(&edge, &live_session, email, "modes-live"));
    // The same person, two separate ledgers.
    assert_eq!(exposure(&edge, email, false), 12_999);
    assert_eq!(exposure(&edge, email, true), 7_000);

    let order_body = json!({ "approval_token": test_token, "merchant_reference": "K-1" });
    let cases: [(Option<&str>, u16, &str); 6] = [
        (None, 401, "unauthenticated"),
        (
            Some("sk_test_demo.this-is-not-the-demo-key-at-all-00000"),
            401,
            "invalid_key",
        ),
        (
            Some("sk_test_nobody.this-merchant-does-not-exist-000000"),
            401,
            "invalid_key",
        ),
        (Some(DEMO_READONLY_KEY), 403, "insufficient_scope"),
        (Some(LIMITS_KEY), 403, "wrong_merchant"),
        (Some(DEMO_LIVE_KEY), 403, "wrong_mode"),
    ];
    for (key, status, expected) in cases {
        let reply = server(&edge, "POST", "/v1/orders", key, None, Some(&order_body));
        assert_eq!(
            error_code(&reply),
            (status, expected.to_owned()),
            "{key:?}: {}",
            reply.body
        );
    }
    let live_with_test_key = create_order(&edge, DEMO_KEY, &live_token, "K-2");
    assert_eq!(error_code(&live_with_test_key), (403, "wrong_mode".to_owned()));
    let live_order = create_order(&edge, DEMO_LIVE_KEY, &live_token, "K-2");
    assert_eq!(live_order.status, 201, "{}", live_order.body);
    let live_id = live_order.json()["order_id"].as_str().unwrap().to_owned();
    assert!(live_id.starts_with("ord_live_"));
    assert_eq!(live_order.json()["livemode"], true);
    let test_order = create_order(&edge, DEMO_KEY, &test_token, "K-1");
    let test_id = test_order.json()["order_id"].as_str().unwrap().to_owned();
    for (key, id) in [(DEMO_KEY, &live_id), (DEMO_LIVE_KEY, &test_id)] {
        let read = get_order(&edge, key, id);
        assert_eq!(error_code(&read), (403, "wrong_mode".to_owned()), "{id}");
        let capture = change(&edge, key, id, "captures", "x-mode", Some(json!({ "amount": 1 })));
        assert_eq!(error_code(&capture), (403, "wrong_mode".to_owned()), "{id}");
    }
    let foreign = get_order(&edge, LIMITS_KEY, &test_id);
    assert_eq!(error_code(&foreign), (403, "wrong_merchant".to_owned()));
    // Voiding the live order leaves the test ledger as it was.
    change(&edge, DEMO_LIVE_KEY, &live_id, "void", "live-void", None);
    assert_eq!(
        (exposure(&edge, email, false), exposure(&edge, email, true)),
        (12_999, 0)
    );
    let live_report = reconciliation(&edge, DEMO_LIVE_KEY, "application/json");
    assert_eq!(live_report.json()["livemode"], true);
    assert!(
        live_report.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["order_id"] != test_id.as_str()),
        "{}",
        live_report.body
    );
    // The archive keeps the modes apart: live records only in `live-` files, test ones only in
    // `test-` files, each record marked with its mode.
    wait_until("the live void in the archive", Duration::from_secs(60), || {
        archived_records(&edge)
            .iter()
            .any(|r| attribute(r, "order.id").as_deref() == Some(live_id.as_str()) && r["eventName"] == "order_voided")
    });
    let mut seen = HashMap::new();
    for (key, records) in archive(&edge) {
        let file_mode = key.rsplit('/').next().unwrap().split('-').next().unwrap().to_owned();
        assert!(["test", "live"].contains(&file_mode.as_str()), "{key}");
        for record in &records {
            assert_eq!(
                attribute(record, "paylater.mode").as_deref(),
                Some(file_mode.as_str()),
                "{key}: {record}"
            );
            *seen.entry(file_mode.clone()).or_insert(0) += 1;
        }
    }
    assert!(seen["live"] >= 3 && seen["test"] >= 2, "{seen:?}");
}

/// Twenty bad requests to the new routes: each a typed 4xx with code and field, never a 5xx; a
/// 405 names the allowed methods.
#[test]
fn bad_requests_to_the_merchant_server_api_are_typed() {
    let (work, edge) = start_edge();
    let order = "ord_test_0190d2c46b7a7cc29a1e3f6b2a9d4e10";
    let capture = format!("/v1/orders/{order}/captures");
    let refund = format!("/v1/orders/{order}/refunds");
    let raw = |method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>| {
        let reply = http::request(method, &format!("{}{path}", edge.url), headers, body).unwrap();
        if reply.status != 404 || reply.json()["error"]["code"] != "not_found" {
            record(method, path, &reply);
        }
        reply
    };
    let auth = format!("Bearer {DEMO_KEY}");
    let json_auth = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
    let with_key = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
        ("Idempotency-Key", "bad-1"),
    ];
    let cases: Vec<(http::Reply, u16, &str, Option<&str>)> = vec![
        (
            raw("POST", "/v1/orders", &json_auth, Some("{")),
            400,
            "invalid_json",
            None,
        ),
        (
            raw("POST", "/v1/orders", &json_auth, Some("[]")),
            400,
            "invalid_json",
            None,
        ),
        (
            raw("POST", "/v1/orders", &json_auth, Some("{}")),
            400,
            "missing_parameter",
            Some("approval_token"),
        ),
        (
            raw(
                "POST",
                "/v1/orders",
                &json_auth,
                Some(r#"{"approval_token":"a.b.c","merchant_reference":""}"#),
            ),
            400,
            "invalid_reference",
            Some("merchant_reference"),
        ),
        (
            raw(
                "POST",
                "/v1/orders",
                &json_auth,
                Some(r#"{"approval_token":"a.b.c","merchant_reference":"R","x":1}"#),
            ),
            400,
            "unknown_field",
            Some("x"),
        ),
        (
            raw(
                "POST",
                "/v1/orders",
                &json_auth,
                Some(r#"{"approval_token":"a.b.c","merchant_reference":"R"}"#),
            ),
            422,
            "invalid_approval_token",
            Some("approval_token"),
        ),
        (
            raw(
                "POST",
                "/v1/orders",
                &[("Authorization", auth.as_str()), ("Content-Type", "text/plain")],
                Some("{}"),
            ),
            415,
            "unsupported_media_type",
            Some("Content-Type"),
        ),
        (
            raw("GET", "/v1/orders/ord_test_nope", &json_auth, None),
            400,
            "invalid_order_id",
            Some("order_id"),
        ),
        (
            raw("GET", &format!("/v1/orders/{order}"), &json_auth, None),
            404,
            "order_not_found",
            Some("order_id"),
        ),
        (
            raw("POST", &capture, &json_auth, Some(r#"{"amount":1}"#)),
            400,
            "invalid_idempotency_key",
            Some("Idempotency-Key"),
        ),
        (
            raw("POST", &capture, &with_key, Some(r#"{"amount":0}"#)),
            400,
            "invalid_type",
            Some("amount"),
        ),
        (
            raw("POST", &capture, &with_key, Some(r#"{"amount":"5"}"#)),
            400,
            "invalid_type",
            Some("amount"),
        ),
        (
            raw("POST", &capture, &with_key, Some(r#"{"amount":1}"#)),
            404,
            "order_not_found",
            Some("order_id"),
        ),
        (
            raw("POST", &refund, &with_key, Some(r#"{"amount":1,"reason":7}"#)),
            400,
            "invalid_type",
            Some("reason"),
        ),
        (
            raw(
                "POST",
                &format!("/v1/orders/{order}/void"),
                &with_key,
                Some(r#"{"all":true}"#),
            ),
            400,
            "unknown_field",
            Some("all"),
        ),
        (
            raw("POST", &format!("/v1/orders/{order}/refund"), &with_key, None),
            404,
            "not_found",
            None,
        ),
        (
            raw("DELETE", &format!("/v1/orders/{order}"), &json_auth, None),
            405,
            "method_not_allowed",
            None,
        ),
        (
            raw("GET", "/v1/reconciliation?from=2026-11-01", &json_auth, None),
            400,
            "missing_parameter",
            Some("to"),
        ),
        (
            raw(
                "GET",
                "/v1/reconciliation?from=2026-11-02&to=2026-11-01",
                &json_auth,
                None,
            ),
            422,
            "invalid_range",
            Some("to"),
        ),
        (
            raw(
                "GET",
                "/v1/reconciliation?from=2026-02-30&to=2026-03-01",
                &json_auth,
                None,
            ),
            400,
            "invalid_date",
            Some("from"),
        ),
        (
            raw(
                "POST",
                "/v1/orders",
                &[
                    ("Authorization", "Bearer sk_test_demo"),
                    ("Content-Type", "application/json"),
                ],
                Some("{}"),
            ),
            401,
            "unauthenticated",
            Some("Authorization"),
        ),
    ];
    for (i, (reply, status, code, field)) in cases.iter().enumerate() {
        let error = &reply.json()["error"];
        assert_eq!(
            (
                reply.status,
                error["code"].as_str().unwrap_or(""),
                error["field"].as_str()
            ),
            (*status, *code, *field),
            "case {i}: {}",
            reply.body
        );
        assert!(!error["message"].as_str().unwrap_or("").is_empty(), "case {i}");
    }
    let not_allowed = &cases[16].0;
    assert_eq!(not_allowed.header("allow"), Some("GET, HEAD, OPTIONS"));
    // Each refusal as the OpenAPI document describes it (routes are exercised by the whole life).
    check_conformance(work.path(), "/none");
}
