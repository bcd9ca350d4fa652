//! `POST /v1/events` end to end on `wrangler dev`: Durable Objects, the queue, the consumer, the
//! R2 archive and a local OTLP/HTTP receiver started by each test. Independent checkers (the
//! OpenTelemetry project's protobuf JSON mapping, an OpenAPI 3.1 validator) run in Python.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

mod support;

use paylater_edge::ingest::QueuedEvent;
use paylater_harness::edge::{Edge, EdgeOptions, put_r2_object};
use paylater_harness::sink::{OtlpSink, attribute};
use paylater_harness::{admin, http, paths};
use serde_json::{Value, json};
use support::{archive, python, stored_objects, wait_until};

const ORIGIN: &str = "http://127.0.0.1:8080";
/// `.dev.vars`: local only.
/// The demo merchant's key with `logs:replay` (its dead letters), and one without.
const REPLAY_KEY: &str = support::DEMO_KEY;
const READONLY_KEY: &str = support::DEMO_READONLY_KEY;

fn start(work: &tempfile::TempDir, sink: &OtlpSink) -> Edge {
    Edge::start(EdgeOptions {
        config_changes: Vec::new(),
        port: None,
        work_dir: work.path().to_owned(),
        vars: vec![
            ("LOG_SINK_URL".into(), sink.url.clone()),
            ("RETRY_BASE_SECONDS".into(), "1".into()),
        ],
    })
    .unwrap_or_else(|e| panic!("edge did not start: {e}"))
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// A UUIDv7-shaped id unique to this test run.
fn event_id(run: u32, n: u32) -> String {
    format!("0190d2c4-{run:04x}-7cc2-9a1e-{n:012x}")
}

fn viewed(id: &str, seq: u32) -> Value {
    json!({ "id": id, "name": "widget_viewed", "ts": now_ms() - 500, "seq": seq, "props": { "visible_ms": 1000 } })
}

/// The path prefixes of the merchant server API, whose conformance `orders.rs` and `insights.rs`
/// check.
const MERCHANT_SERVER_ROUTES: &str =
    "/v1/orders,/v1/reconciliation,/v1/insights,/v1/logs,/v1/audit,/v1/admin/customers";

/// Every request made, for the OpenAPI conformance check.
#[derive(Default)]
struct Exchanges(Vec<Value>);

impl Exchanges {
    fn record(&mut self, operation: &str, reply: &http::Reply) {
        self.0.push(json!({
            "operation": operation,
            "status": reply.status,
            "content_type": reply.header("content-type").unwrap_or(""),
            "body": reply.body,
        }));
    }
}

struct Client<'a> {
    edge: &'a Edge,
    exchanges: Exchanges,
}

impl Client<'_> {
    fn call(
        &mut self,
        operation: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> http::Reply {
        let reply = http::request(method, &format!("{}{path}", self.edge.url), headers, body).unwrap();
        self.exchanges.record(operation, &reply);
        reply
    }

    fn session(&mut self, key: &str, amount: u64) -> String {
        let body = json!({ "key": key, "amount": amount, "currency": "USD" }).to_string();
        let reply = self.call(
            "createSession",
            "POST",
            "/v1/sessions",
            &[("Origin", ORIGIN), ("Content-Type", "application/json")],
            Some(&body),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.json()["session_token"].as_str().unwrap().to_owned()
    }

    fn events(&mut self, token: &str, events: Value) -> http::Reply {
        let body = json!({ "session_token": token, "events": events }).to_string();
        self.call(
            "ingestEvents",
            "POST",
            "/v1/events",
            &[("Origin", ORIGIN), ("Content-Type", "application/json")],
            Some(&body),
        )
    }
}

fn archived_ids(edge: &Edge) -> Vec<String> {
    event_ids_of(archive(edge).values().flatten())
}

/// The ids of telemetry events and decisions among `records`: not the `key_used` records of the
/// secret keys' uses (the replay's), which the test checks on their own.
fn event_ids_of<'a>(records: impl IntoIterator<Item = &'a Value>) -> Vec<String> {
    records
        .into_iter()
        .filter(|r| attribute(r, "event.name").as_deref() != Some("key_used"))
        .filter_map(|r| attribute(r, "event.id"))
        .collect()
}

/// Happy paths of every route, a table of bad inputs with their codes, the rate limits, and the
/// records at the sink and in the archive, checked by independent OTLP and OpenAPI parsers.
#[test]
fn events_are_authorized_deduplicated_forwarded_and_archived() {
    let work = tempfile::tempdir().unwrap();
    let sink = OtlpSink::start().unwrap();
    let edge = start(&work, &sink);
    let mut client = Client {
        edge: &edge,
        exchanges: Exchanges::default(),
    };

    // Happy paths.
    let health = client.call("health", "GET", "/health", &[], None);
    assert_eq!(health.json(), json!({ "status": "ok" }));
    let config = client.call(
        "merchantConfig",
        "GET",
        "/v1/merchants/pk_test_demo/config",
        &[("Origin", ORIGIN)],
        None,
    );
    assert_eq!(config.json()["merchant_id"], "m_nordic_outdoor");
    let offers = client.call(
        "offers",
        "GET",
        "/v1/offers?key=pk_test_demo&amount=12999&currency=USD&start=2026-11-23",
        &[],
        None,
    );
    assert_eq!(offers.json()["plans"][0]["installment_amount"], 3249);
    let openapi = client.call("openapi", "GET", "/v1/openapi.json", &[], None);
    assert_eq!(
        openapi.body,
        paylater_edge::openapi::OPENAPI_JSON,
        "served byte for byte"
    );

    let token = client.session("pk_test_demo", 12_999);
    // Props that a JS-object hand-off would mangle: quotes, U+2028, astral characters.
    let tricky = "sv-SE \"ü\" \u{2028} 🙂 \\";
    let loaded_id = event_id(1, 0);
    let batch = json!([
        { "id": loaded_id, "name": "widget_loaded", "ts": now_ms() - 5_000, "seq": 0,
          "props": { "load_ms": 87, "locale": tricky, "amount_minor": 12_999, "currency": "USD" } },
        viewed(&event_id(1, 1), 1),
        { "id": event_id(1, 2), "name": "plan_selected", "ts": now_ms() - 1_000, "seq": 2,
          "props": { "plan_id": "pay_in_4", "amount_minor": 15_000, "currency": "USD" } },
        { "id": event_id(1, 3), "name": "checkout_hacked", "ts": now_ms(), "seq": 3 },
    ]);
    let accepted = client.events(&token, batch.clone());
    assert_eq!(accepted.status, 202, "{}", accepted.body);
    assert_eq!(accepted.json()["accepted"], 3);
    assert_eq!(accepted.json()["duplicates"], 0);
    assert_eq!(
        accepted.json()["rejected"],
        json!([{ "index": 3, "code": "unknown_event", "message": "name must be one of the funnel events, not \"checkout_hacked\"" }])
    );
    assert_eq!(accepted.header("access-control-allow-origin"), Some(ORIGIN));
    // The same events again, as sendBeacon would send them: all duplicates, nothing re-forwarded.
    let body = json!({ "session_token": token, "events": batch }).to_string();
    let again = client.call(
        "ingestEvents",
        "POST",
        "/v1/events",
        &[("Origin", ORIGIN), ("Content-Type", "text/plain;charset=UTF-8")],
        Some(&body),
    );
    assert_eq!(
        (
            again.status,
            again.json()["accepted"].clone(),
            again.json()["duplicates"].clone()
        ),
        (202, json!(0), json!(3))
    );
    // A later event after a gap in seq.
    let late = client.events(&token, json!([viewed(&event_id(1, 9), 9)]));
    assert_eq!(late.json()["accepted"], 1);

    let replay = client.call(
        "replayDeadLetters",
        "POST",
        "/v1/admin/dead-letters/replay",
        &[("Authorization", &format!("Bearer {REPLAY_KEY}"))],
        None,
    );
    assert_eq!(replay.json(), json!({ "replayed": 0, "more": false }));
    let refused = client.call(
        "replayDeadLetters",
        "POST",
        "/v1/admin/dead-letters/replay",
        &[("Authorization", &format!("Bearer {READONLY_KEY}"))],
        None,
    );
    assert_eq!(
        (refused.status, refused.json()["error"]["code"].clone()),
        (403, json!("insufficient_scope"))
    );

    // Bad inputs: each with its status and code.
    let expired_token = {
        // Signed with the dev key but expired long ago.
        use paylater_shared::token::SessionClaims;
        let keyring = paylater_edge::sessions::keyring_from_secret(
            "dev-2026-11:cGF5bGF0ZXItbG9jYWwtZGV2LW9ubHktc2Vzc2lvbi1rZXktMjAyNg",
        )
        .unwrap();
        keyring.sign(&SessionClaims {
            sid: "ses_old".into(),
            mid: "m_nordic_outdoor".into(),
            key: "pk_test_demo".into(),
            org: ORIGIN.into(),
            amt: paylater_shared::MinorUnits(12_999),
            cur: paylater_shared::Currency::parse("USD").unwrap(),
            iat: now_ms() / 1000 - 7_200,
            exp: now_ms() / 1000 - 3_600,
            sd: None,
        })
    };
    let forged = {
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[3] = "A".repeat(parts[3].len());
        parts.join(".")
    };
    let batch_of = |token: &str, events: Value| json!({ "session_token": token, "events": events }).to_string();
    let one = |event: Value| batch_of(&token, json!([event]));
    let good_event = |n: u32| viewed(&event_id(2, n), n);
    let with = |field: &str, value: Value| {
        let mut event = good_event(50);
        event[field] = value;
        one(event)
    };
    let json_type = ("Content-Type", "application/json");
    let origin = ("Origin", ORIGIN);
    let too_many: Vec<Value> = (0..101).map(good_event).collect();
    let oversized = batch_of(
        &token,
        json!([{ "id": event_id(2, 60), "name": "widget_error", "ts": now_ms(), "seq": 1,
        "props": { "code": "x".repeat(70_000) } }]),
    );
    type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, Option<String>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "malformed JSON",
            "POST",
            vec![origin, json_type],
            Some("{\"session_token\":".into()),
            400,
            "invalid_json",
        ),
        (
            "not an object",
            "POST",
            vec![origin, json_type],
            Some("[1,2]".into()),
            400,
            "invalid_body",
        ),
        (
            "no token",
            "POST",
            vec![origin, json_type],
            Some(json!({ "events": [good_event(1)] }).to_string()),
            400,
            "missing_session_token",
        ),
        (
            "token not a string",
            "POST",
            vec![origin, json_type],
            Some(json!({ "session_token": 7, "events": [good_event(1)] }).to_string()),
            400,
            "missing_session_token",
        ),
        (
            "events not an array",
            "POST",
            vec![origin, json_type],
            Some(json!({ "session_token": token, "events": {} }).to_string()),
            400,
            "invalid_events",
        ),
        (
            "no events",
            "POST",
            vec![origin, json_type],
            Some(batch_of(&token, json!([]))),
            400,
            "invalid_events",
        ),
        (
            "unknown top-level field",
            "POST",
            vec![origin, json_type],
            Some(json!({ "session_token": token, "events": [good_event(1)], "email": "a@b.se" }).to_string()),
            400,
            "invalid_body",
        ),
        (
            "negative dropped",
            "POST",
            vec![origin, json_type],
            Some(json!({ "session_token": token, "events": [good_event(1)], "dropped": -1 }).to_string()),
            400,
            "invalid_body",
        ),
        (
            "too many events",
            "POST",
            vec![origin, json_type],
            Some(batch_of(&token, json!(too_many))),
            413,
            "too_many_events",
        ),
        (
            "body over 64 KiB",
            "POST",
            vec![origin, json_type],
            Some(oversized),
            413,
            "body_too_large",
        ),
        (
            "form content type",
            "POST",
            vec![origin, ("Content-Type", "application/x-www-form-urlencoded")],
            Some(one(good_event(1))),
            415,
            "unsupported_media_type",
        ),
        (
            "no content type",
            "POST",
            vec![origin],
            Some(one(good_event(1))),
            415,
            "unsupported_media_type",
        ),
        (
            "forged token",
            "POST",
            vec![origin, json_type],
            Some(batch_of(&forged, json!([good_event(1)]))),
            401,
            "invalid_token",
        ),
        (
            "garbage token",
            "POST",
            vec![origin, json_type],
            Some(batch_of("v1.nope", json!([good_event(1)]))),
            401,
            "invalid_token",
        ),
        (
            "expired token",
            "POST",
            vec![origin, json_type],
            Some(batch_of(&expired_token, json!([good_event(1)]))),
            401,
            "token_expired",
        ),
        (
            "token from another origin",
            "POST",
            vec![("Origin", "http://127.0.0.1:9999"), json_type],
            Some(one(good_event(1))),
            403,
            "token_mismatch",
        ),
        (
            "foreign site",
            "POST",
            vec![("Origin", "https://evil.example"), json_type],
            Some(one(good_event(1))),
            403,
            "token_mismatch",
        ),
        (
            "no origin",
            "POST",
            vec![json_type],
            Some(one(good_event(1))),
            403,
            "origin_required",
        ),
        (
            "unknown event name",
            "POST",
            vec![origin, json_type],
            Some(with("name", json!("checkout_hacked"))),
            422,
            "unknown_event",
        ),
        (
            "event id not a UUID",
            "POST",
            vec![origin, json_type],
            Some(with("id", json!("1234"))),
            422,
            "invalid_id",
        ),
        (
            "ts in the future",
            "POST",
            vec![origin, json_type],
            Some(with("ts", json!(now_ms() + 3_600_000))),
            422,
            "invalid_ts",
        ),
        (
            "ts a string",
            "POST",
            vec![origin, json_type],
            Some(with("ts", json!("now"))),
            422,
            "invalid_ts",
        ),
        (
            "negative seq",
            "POST",
            vec![origin, json_type],
            Some(with("seq", json!(-1))),
            422,
            "invalid_seq",
        ),
        (
            "props of the wrong type",
            "POST",
            vec![origin, json_type],
            Some(with("props", json!({ "visible_ms": "long" }))),
            422,
            "invalid_props",
        ),
        (
            "negative amount prop",
            "POST",
            vec![origin, json_type],
            Some(one(
                json!({ "id": event_id(2, 51), "name": "plan_selected", "ts": now_ms(), "seq": 1, "props": { "plan_id": "pay_in_4", "amount_minor": -5 } }),
            )),
            422,
            "invalid_props",
        ),
        (
            "an email in props",
            "POST",
            vec![origin, json_type],
            Some(one(
                json!({ "id": event_id(2, 52), "name": "widget_error", "ts": now_ms(), "seq": 1, "props": { "code": "jane@example.com" } }),
            )),
            422,
            "personal_data",
        ),
        (
            "unknown event field",
            "POST",
            vec![origin, json_type],
            Some(with("ip", json!("1.2.3.4"))),
            422,
            "unknown_field",
        ),
        (
            "events that are not objects",
            "POST",
            vec![origin, json_type],
            Some(batch_of(&token, json!([1, "two"]))),
            422,
            "invalid_event",
        ),
        ("wrong method", "GET", vec![origin], None, 405, "method_not_allowed"),
        (
            "wrong method PUT",
            "PUT",
            vec![origin, json_type],
            Some(one(good_event(1))),
            405,
            "method_not_allowed",
        ),
        ("replay without a key", "POST", vec![], None, 401, "unauthenticated"),
        (
            "replay with the old admin token",
            "POST",
            vec![("Authorization", "Bearer dev-admin-token-local-only-0001")],
            None,
            401,
            "unauthenticated",
        ),
        (
            "replay with a revoked key",
            "POST",
            vec![(
                "Authorization",
                "Bearer sk_test_demo.revoked-local-only-0000000000000000",
            )],
            None,
            401,
            "invalid_key",
        ),
        (
            "session with an unknown key",
            "POST",
            vec![origin, json_type],
            Some(json!({ "key": "pk_test_nobody", "amount": 100, "currency": "USD" }).to_string()),
            401,
            "unknown_key",
        ),
        (
            "session with a bad currency",
            "POST",
            vec![origin, json_type],
            Some(json!({ "key": "pk_test_demo", "amount": 100, "currency": "usd" }).to_string()),
            400,
            "invalid_currency",
        ),
        (
            "session with a negative amount",
            "POST",
            vec![origin, json_type],
            Some(json!({ "key": "pk_test_demo", "amount": -100, "currency": "USD" }).to_string()),
            400,
            "invalid_amount",
        ),
        (
            "session with a missing key",
            "POST",
            vec![origin, json_type],
            Some(json!({ "amount": 100, "currency": "USD" }).to_string()),
            400,
            "missing_parameter",
        ),
        (
            "session from a foreign origin",
            "POST",
            vec![("Origin", "https://evil.example"), json_type],
            Some(json!({ "key": "pk_test_demo", "amount": 100, "currency": "USD" }).to_string()),
            403,
            "origin_not_allowed",
        ),
    ];
    assert!(cases.len() >= 30);
    for (name, method, headers, body, status, code) in &cases {
        let (operation, path) = if name.starts_with("replay") {
            ("replayDeadLetters", "/v1/admin/dead-letters/replay")
        } else if name.starts_with("session") {
            ("createSession", "/v1/sessions")
        } else {
            ("ingestEvents", "/v1/events")
        };
        let reply = client.call(operation, method, path, headers, body.as_deref());
        assert_eq!(
            (reply.status, reply.json()["error"]["code"].as_str().unwrap_or("")),
            (*status, *code),
            "{name}: {}",
            reply.body
        );
        assert!(
            reply.json()["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{name}"
        );
    }
    // Method errors are not part of any operation's documented responses; leave them out of the
    // conformance check (they still have the contract's error shape, asserted above).
    client.exchanges.0.retain(|e| e["status"] != 405);

    // Rate limits: 5 a minute per session, 8 per client IP for this merchant (seed/merchants).
    let limited = client.session("pk_test_limits", 5_000);
    for n in 0..5 {
        let reply = client.events(&limited, json!([viewed(&event_id(3, n), n)]));
        assert_eq!(reply.status, 202, "request {n}: {}", reply.body);
    }
    let refused = client.events(&limited, json!([viewed(&event_id(3, 5), 5)]));
    assert_eq!(
        (refused.status, refused.json()["error"]["code"].as_str()),
        (429, Some("rate_limited"))
    );
    let wait: u32 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let other_session = client.session("pk_test_limits", 5_000);
    for n in 0..2 {
        assert_eq!(
            client
                .events(&other_session, json!([viewed(&event_id(4, n), n)]))
                .status,
            202
        );
    }
    let by_ip = client.events(&other_session, json!([viewed(&event_id(4, 2), 2)]));
    assert_eq!(by_ip.status, 429, "{}", by_ip.body);
    assert!(by_ip.json()["error"]["message"].as_str().unwrap().contains("client IP"));
    assert!(by_ip.header("retry-after").is_some());

    // Every accepted event reaches the sink and the archive; nothing refused does.
    let expected: BTreeSet<String> = [event_id(1, 0), event_id(1, 1), event_id(1, 2), event_id(1, 9)]
        .into_iter()
        .chain((0..5).map(|n| event_id(3, n)))
        .chain((0..2).map(|n| event_id(4, n)))
        .collect();
    wait_until("every accepted event at the sink", Duration::from_secs(60), || {
        event_ids_of(&sink.records()).into_iter().collect::<BTreeSet<_>>() == expected
    });
    assert_eq!(
        event_ids_of(&sink.records()).len(),
        expected.len(),
        "each exactly once when nothing failed"
    );
    // The replay with a secret key is on record: which key, for which scope, never the key.
    let used: Vec<(Option<String>, Option<String>)> = sink
        .records()
        .iter()
        .filter(|r| attribute(r, "event.name").as_deref() == Some("key_used"))
        .map(|r| (attribute(r, "key.id"), attribute(r, "key.scope")))
        .collect();
    assert_eq!(
        used,
        [(Some("key_demo_server".to_owned()), Some("logs:replay".to_owned()))]
    );
    assert!(!sink.bodies().join("").contains(REPLAY_KEY));
    wait_until("every accepted event in the archive", Duration::from_secs(30), || {
        archived_ids(&edge).into_iter().collect::<BTreeSet<_>>() == expected
    });
    for key in archive(&edge).keys() {
        let parts: Vec<&str> = key.split('/').collect();
        assert_eq!(parts.len(), 7, "{key}");
        assert!(["m_nordic_outdoor", "m_rate_limited"].contains(&parts[2]), "{key}");
        // These merchants' keys are test keys: `test-`, 32 hex digits of the record id's hash,
        // `.ndjson.enc` (sealed).
        assert!(
            parts[6].starts_with("test-") && parts[6].ends_with(".ndjson.enc") && parts[6].len() == 5 + 32 + 11,
            "{key}"
        );
    }

    // The records, as an OpenTelemetry implementation reads them.
    let records = sink.records();
    let by_id = |id: &str| {
        records
            .iter()
            .find(|r| attribute(r, "event.id").as_deref() == Some(id))
            .unwrap()
    };
    let loaded = by_id(&loaded_id);
    let props = loaded["body"]["kvlistValue"]["values"].as_array().unwrap();
    assert!(
        props.contains(&json!({ "key": "locale", "value": { "stringValue": tricky } })),
        "{props:?}"
    );
    assert_eq!(attribute(loaded, "checkout.currency").as_deref(), Some("USD"));
    let selected = by_id(&event_id(1, 2));
    let flags = selected["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == "risk.flags")
        .unwrap();
    assert!(flags.to_string().contains("amount_changed"), "{flags}");
    let after_gap = by_id(&event_id(1, 9));
    assert!(
        after_gap
            .to_string()
            .contains(r#"{"key":"event.seq_gap","value":{"intValue":"6"}}"#),
        "{after_gap}"
    );
    assert!(
        !records.iter().any(|r| r.to_string().contains("127.0.0.1")),
        "no full IP in any record"
    );

    let bodies_dir = work.path().join("sink-bodies");
    std::fs::create_dir_all(&bodies_dir).unwrap();
    let files: Vec<std::path::PathBuf> = sink
        .bodies()
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let path = bodies_dir.join(format!("{i}.json"));
            std::fs::write(&path, body).unwrap();
            path
        })
        .collect();
    let file_refs: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let parsed = python("check_otlp.py", &file_refs, None);
    assert_eq!(parsed["problems"], json!([]));
    assert_eq!(
        parsed["event_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect::<BTreeSet<_>>(),
        // The events, and the replay's `key_used` record.
        expected
            .iter()
            .cloned()
            .chain(
                sink.records()
                    .iter()
                    .filter(|r| attribute(r, "event.name").as_deref() == Some("key_used"))
                    .filter_map(|r| attribute(r, "event.id"))
            )
            .collect::<BTreeSet<_>>()
    );
    assert!(
        parsed["service_names"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s == "paylater-edge")
    );

    // The approval operations too, so every route's answers are checked against the document.
    let keys = client.call("getKeys", "GET", "/v1/keys", &[], None);
    assert_eq!(keys.status, 200);
    let token = client.session("pk_test_demo", 12_999);
    // Younger sessions look automated to the scorecard.
    std::thread::sleep(Duration::from_millis(3_100));
    let approval = |terms: bool| {
        json!({
            "session_token": token, "plan_id": "pay_in_4",
            "customer": { "email": "openapi@example.com", "date_of_birth": "1990-05-17", "country": "US" },
            "consent": { "terms": terms },
        })
        .to_string()
    };
    let browser = ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0");
    let json_type = ("Content-Type", "application/json");
    for (key, terms, status) in [
        (Some("openapi-1"), true, 200),
        (None, true, 400),
        (Some("openapi-2"), false, 422),
    ] {
        let mut headers = vec![("Origin", ORIGIN), json_type, browser];
        headers.extend(key.map(|k| ("Idempotency-Key", k)));
        let reply = client.call(
            "createApproval",
            "POST",
            "/v1/approvals",
            &headers,
            Some(&approval(terms)),
        );
        assert_eq!(reply.status, status, "{}", reply.body);
    }

    // The checkout page: HTML for a good session, the JSON error for a bad one.
    let page = client.call(
        "checkoutPage",
        "GET",
        &format!("/v1/checkout?session={token}&plan=pay_in_4&locale=en-US"),
        &[],
        None,
    );
    assert_eq!(page.status, 200, "{}", page.body);
    let refused = client.call("checkoutPage", "GET", "/v1/checkout?plan=pay_in_4", &[], None);
    assert_eq!(refused.status, 400, "{}", refused.body);

    // The merchant dashboard's page: strict CSP, never framed, its own assets only.
    let dashboard = client.call("dashboardPage", "GET", "/dashboard", &[], None);
    assert_eq!(dashboard.status, 200);
    assert_eq!(
        dashboard.header("content-security-policy"),
        Some(paylater_edge::dashboard::CONTENT_SECURITY_POLICY)
    );
    assert_eq!(dashboard.header("x-frame-options"), Some("DENY"));
    assert!(dashboard.body.contains(r#"src="/dashboard/boot.js""#));

    // Real responses against the OpenAPI document.
    let exchanges_path = work.path().join("exchanges.json");
    std::fs::write(&exchanges_path, Value::Array(client.exchanges.0.clone()).to_string()).unwrap();
    // The merchant server's routes are exercised by `orders.rs`, which checks them itself.
    let conformance = python(
        "check_openapi.py",
        &[
            &paths::workspace_root().join("edge/openapi.json"),
            &exchanges_path,
            Path::new("--except"),
            Path::new(MERCHANT_SERVER_ROUTES),
        ],
        None,
    );
    assert_eq!(conformance["problems"], json!([]), "{conformance}");
    assert!(conformance["checked"].as_u64().unwrap() >= 40);
}

/// One request written by hand on a fresh connection, with framing headers as given (which an
/// HTTP client library would not send): the answer's status and JSON body.
fn raw_post(edge: &Edge, path: &str, framing: &str, body: &[u8]) -> (u16, Value) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", edge.port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nOrigin: {ORIGIN}\r\nContent-Type: application/json\r\n\
         Connection: close\r\n{framing}\r\n",
        edge.port
    );
    stream.write_all(head.as_bytes()).unwrap();
    // The edge may answer, and close, before it has read all of a refused body.
    let _ = stream.write_all(body);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let (head, rest) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let text = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        unchunked(rest)
    } else {
        rest.to_owned()
    };
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `body` in HTTP/1.1 chunks of 16 KiB.
fn chunked(body: &str) -> Vec<u8> {
    let mut framed = Vec::new();
    for chunk in body.as_bytes().chunks(16 * 1024) {
        framed.extend(format!("{:x}\r\n", chunk.len()).as_bytes());
        framed.extend(chunk);
        framed.extend(b"\r\n");
    }
    framed.extend(b"0\r\n\r\n");
    framed
}

/// The payload of a chunked answer.
fn unchunked(mut framed: &str) -> String {
    let mut payload = String::new();
    while let Some((size, rest)) = framed.split_once("\r\n") {
        match usize::from_str_radix(size.trim(), 16) {
            Ok(size) if size > 0 && rest.len() >= size => {
                payload.push_str(&rest[..size]);
                framed = rest[size..].strip_prefix("\r\n").unwrap_or(&rest[size..]);
            }
            _ => break,
        }
    }
    payload
}

/// The edge reads a body whole when its declared length frames it, and as a stream otherwise:
/// either way, nothing past 64 KiB is taken, and a body within it is.
#[test]
fn a_body_is_bounded_however_it_is_framed() {
    let work = tempfile::tempdir().unwrap();
    let sink = OtlpSink::start().unwrap();
    let edge = start(&work, &sink);
    let token = edge.session("pk_test_demo", 12_999, ORIGIN).unwrap();
    let batch = |events: Value| json!({ "session_token": token, "events": events }).to_string();
    let oversized = batch(
        json!([{ "id": event_id(9, 1), "name": "widget_error", "ts": now_ms(), "seq": 1,
        "props": { "code": "x".repeat(70_000) } }]),
    );
    let chunked_header = "Transfer-Encoding: chunked\r\n";
    for (name, framing) in [
        ("chunked", chunked_header.to_owned()),
        (
            "chunked beside a small declared length",
            format!("Content-Length: 2\r\n{chunked_header}"),
        ),
    ] {
        let (status, answer) = raw_post(&edge, "/v1/events", &framing, &chunked(&oversized));
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (413, Some("body_too_large")),
            "{name}: {answer}"
        );
    }
    // A declared length frames the body: what follows it is not the body (here it is not even
    // a request, and the connection closes), so the first 100 bytes alone are read, as JSON cut
    // short. Were the rest read as well, the answer would be 413.
    let (status, answer) = raw_post(&edge, "/v1/events", "Content-Length: 100\r\n", oversized.as_bytes());
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (400, Some("invalid_json")),
        "{answer}"
    );
    let fits = batch(json!([viewed(&event_id(9, 2), 2)]));
    let (status, answer) = raw_post(
        &edge,
        "/v1/events",
        &format!("Content-Length: {}\r\n", fits.len()),
        fits.as_bytes(),
    );
    assert_eq!((status, &answer["accepted"]), (202, &json!(1)), "{answer}");
    let fits = batch(json!([viewed(&event_id(9, 3), 3)]));
    let (status, answer) = raw_post(&edge, "/v1/events", chunked_header, &chunked(&fits));
    assert_eq!((status, &answer["accepted"]), (202, &json!(1)), "{answer}");
}

/// The sink is down (503) for a while, then recovers: every event answered 202 arrives, at the
/// sink and in the archive, duplicates only ever sharing an `event.id`. A record the sink refuses
/// for good goes to the dead-letter queue, is parked byte for byte, and the replay command
/// delivers it once the sink takes it.
#[test]
fn nothing_accepted_is_lost_when_the_sink_fails() {
    let work = tempfile::tempdir().unwrap();
    let sink = OtlpSink::start().unwrap();
    let edge = start(&work, &sink);
    let mut client = Client {
        edge: &edge,
        exchanges: Exchanges::default(),
    };
    sink.fail_with(503);
    let token = client.session("pk_test_demo", 12_999);
    let mut expected = BTreeSet::new();
    for request in 0..5u32 {
        let events: Vec<Value> = (0..10)
            .map(|n| {
                let seq = request * 10 + n;
                let id = event_id(5, seq);
                expected.insert(id.clone());
                viewed(&id, seq)
            })
            .collect();
        let reply = client.events(&token, json!(events));
        assert_eq!(
            (reply.status, reply.json()["accepted"].clone()),
            (202, json!(10)),
            "{}",
            reply.body
        );
    }
    wait_until("the sink to refuse a few deliveries", Duration::from_secs(30), || {
        sink.refusals() >= 2
    });
    assert!(sink.event_ids().is_empty());
    sink.recover();
    wait_until(
        "every accepted event at the sink after recovery",
        Duration::from_secs(90),
        || sink.event_ids().into_iter().collect::<BTreeSet<_>>() == expected,
    );
    wait_until("every accepted event in the archive", Duration::from_secs(30), || {
        archived_ids(&edge).into_iter().collect::<BTreeSet<_>>() == expected
    });
    let at_sink = sink.event_ids();
    assert!(
        at_sink.iter().all(|id| expected.contains(id)),
        "only accepted ids, duplicates share them"
    );

    // A poison record: the sink refuses it (400) whatever happens; its neighbours still arrive.
    let poison = event_id(6, 1);
    sink.refuse_event(&poison);
    let tricky = "poison \"ü\" \u{2028} 🙂";
    let sent_event = json!({ "id": poison, "name": "widget_error", "ts": now_ms() - 100, "seq": 51, "props": { "code": "E_TEST", "message": tricky } });
    let reply = client.events(
        &token,
        json!([viewed(&event_id(6, 0), 50), sent_event, viewed(&event_id(6, 2), 52)]),
    );
    assert_eq!(reply.json()["accepted"], 3, "{}", reply.body);
    wait_until("the neighbours at the sink", Duration::from_secs(30), || {
        let ids = sink.event_ids();
        ids.contains(&event_id(6, 0)) && ids.contains(&event_id(6, 2))
    });
    wait_until("the poison record parked", Duration::from_secs(30), || {
        edge.log_text().contains("\"kind\":\"dead_letter_parked\"")
    });
    assert!(!sink.event_ids().contains(&poison));

    // The parked letter (the request's message, which holds the record the sink refused, parked
    // sealed by the consumer under its merchant's refused records) carries exactly the events
    // the client sent, the refused one among them.
    let refused_letters = |edge: &Edge| -> Vec<String> {
        stored_objects(edge)
            .iter()
            .filter(|(key, _)| key.starts_with("dead-letter/refused/m_nordic_outdoor/test/"))
            .map(|(key, sealed)| paylater_harness::letters::open(key, sealed).unwrap())
            .collect()
    };
    let parked = refused_letters(&edge);
    assert_eq!(parked.len(), 1, "{parked:?}");
    let letter: Vec<QueuedEvent> = serde_json::from_str(&parked[0]).unwrap();
    let sent: Vec<Value> = letter
        .iter()
        .map(|queued| serde_json::to_value(&queued.event).unwrap())
        .collect();
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[1], sent_event);

    // Byte for byte, against the producer's own bytes: this test produces a letter of the same
    // records itself, laid out as no serializer of ours would (indented, fields sorted), and sends
    // it through the queue by the replay; the sink refuses it again, and the consumer parks
    // exactly those bytes, not a re-serialisation.
    let value: Value = serde_json::from_str(&parked[0]).unwrap();
    let produced = serde_json::to_string_pretty(&value).unwrap();
    assert_ne!(produced, parked[0]);
    let key = paylater_edge::forward::dead_letter_key("produced-by-the-test", &produced);
    let file = work.path().join("produced.letter");
    std::fs::write(&file, paylater_harness::letters::seal(&key, &produced)).unwrap();
    put_r2_object(&edge.state_dir, work.path(), &format!("paylater-archive/{key}"), &file).unwrap();
    assert_eq!(admin::replay_dead_letters(&edge.url, REPLAY_KEY).unwrap(), 2);
    wait_until("both letters parked again", Duration::from_secs(30), || {
        refused_letters(&edge).len() == 2
    });
    let again = refused_letters(&edge);
    assert!(again.contains(&produced), "the test's bytes, unchanged: {again:?}");
    assert!(again.contains(&parked[0]), "the session object's bytes, unchanged");

    sink.accept_all_ids();
    // Another merchant's key replays its own dead letters: none.
    assert_eq!(
        admin::replay_dead_letters(&edge.url, support::SHORTLIFE_KEY).unwrap(),
        0
    );
    let replayed = admin::replay_dead_letters(&edge.url, REPLAY_KEY).unwrap();
    assert_eq!(replayed, 2, "the session object's letter and the test's");
    wait_until("the replayed record at the sink", Duration::from_secs(30), || {
        sink.event_ids().contains(&poison)
    });
    let record = sink
        .records()
        .into_iter()
        .find(|r| attribute(r, "event.id").as_deref() == Some(poison.as_str()))
        .unwrap();
    assert_eq!(
        record["body"]["kvlistValue"]["values"][1]["value"]["stringValue"],
        tricky
    );
    assert_eq!(
        admin::replay_dead_letters(&edge.url, REPLAY_KEY).unwrap(),
        0,
        "nothing left parked"
    );
}
