//! What the order tests share: sessions and approvals as a browser makes them, the merchant
//! server's calls with a secret key, the admin holds lookup, and the independent readers of the
//! archive and of CSV.

#![allow(dead_code)]

pub mod contract;

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use paylater_harness::edge::{Edge, EdgeOptions};
use paylater_harness::{http, paths};
use serde_json::{Value, json};

pub const ORIGIN: &str = "http://127.0.0.1:8080";
/// The demo merchant's local test keys (docs/merchant-server.md).
pub const DEMO_KEY: &str = "sk_test_demo.local-dev-only-4bXq9TzR7wLmN2pVc8sKd3Fh";
pub const DEMO_READONLY_KEY: &str = "sk_test_demo.readonly-local-only-7hGt2QmZ9xVb4nLw";
pub const DEMO_LIVE_KEY: &str = "sk_live_demo.live-local-only-not-a-real-key-9Kd2mQx7Wp";
pub const LIMITS_KEY: &str = "sk_test_limits.limits-merchant-local-only-5Tq8nVz3Kx";
pub const SHORTLIFE_KEY: &str = "sk_test_shortlife.shortlife-local-only-2Wm9cXr6Lp4Q";
/// `.dev.vars`'s admin token.
pub const ADMIN_TOKEN: &str = "dev-admin-token-local-only-0001";

/// An edge of the test's own, with its state in a temporary directory (dropped with it).
pub fn start_edge() -> (tempfile::TempDir, Edge) {
    let work = tempfile::tempdir().unwrap();
    let edge = Edge::start(EdgeOptions {
        config_changes: Vec::new(),
        port: None,
        work_dir: work.path().to_owned(),
        vars: Vec::new(),
    })
    .unwrap_or_else(|e| panic!("edge did not start: {e}"));
    (work, edge)
}

thread_local! {
    /// This test's merchant server requests and their answers, for the OpenAPI check.
    static EXCHANGES: RefCell<Vec<Value>> = const { RefCell::new(Vec::new()) };
}

/// The OpenAPI operation a merchant server request is.
fn operation_of(method: &str, path: &str) -> &'static str {
    let path = path.split('?').next().unwrap_or("");
    match (
        method,
        path.trim_start_matches("/v1/")
            .split('/')
            .collect::<Vec<_>>()
            .as_slice(),
    ) {
        ("POST", ["orders"]) => "createOrder",
        ("POST", ["orders", _, "captures"]) => "captureOrder",
        ("POST", ["orders", _, "refunds"]) => "refundOrder",
        ("POST", ["orders", _, "void"]) => "voidOrder",
        (_, ["orders", ..]) => "getOrder",
        (_, ["reconciliation"]) => "reconciliation",
        (_, ["insights", "funnel"]) => "insightsFunnel",
        (_, ["insights", "anomalies"]) => "insightsAnomalies",
        (_, ["logs"]) => "logs",
        (_, ["audit", "digests"]) => "auditDigests",
        (_, ["audit", "objects"]) => "auditObjects",
        (_, ["audit", "objects", ..]) => "auditObject",
        _ => "customerHolds",
    }
}

/// Records a merchant server exchange for [`check_conformance`].
pub fn record(method: &str, path: &str, reply: &http::Reply) {
    EXCHANGES.with(|all| {
        all.borrow_mut().push(json!({
            "operation": operation_of(method, path),
            "status": reply.status,
            "content_type": reply.header("content-type").unwrap_or(""),
            "body": reply.body,
        }))
    });
}

/// Every answer this test recorded, against `edge/openapi.json`; the operations under `only`
/// (comma-separated path prefixes) must all have been exercised.
pub fn check_conformance(work: &Path, only: &str) {
    let exchanges = EXCHANGES.with(|all| Value::Array(all.borrow().clone()));
    let file = work.join("exchanges.json");
    std::fs::write(&file, exchanges.to_string()).unwrap();
    let doc = paths::workspace_root().join("edge/openapi.json");
    let result = python(
        "check_openapi.py",
        &[&doc, &file, Path::new("--only"), Path::new(only)],
        None,
    );
    assert_eq!(result["problems"], json!([]), "{result}");
    assert!(result["checked"].as_u64().unwrap() > 0);
}

const BROWSER: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36";

/// A browser's session on the demo origin with `key`.
pub fn session(edge: &Edge, key: &str, amount: u64) -> String {
    edge.session(key, amount, ORIGIN).unwrap_or_else(|e| panic!("{e}"))
}

/// Sessions younger than 3 s look automated to the scorecard: wait that out once.
pub fn let_sessions_age() {
    std::thread::sleep(Duration::from_millis(3_100));
}

/// A `POST /v1/approvals` body, as the checkout page sends it.
pub fn approval_body(session_token: &str, plan: &str, email: &str, date_of_birth: &str) -> String {
    json!({
        "session_token": session_token,
        "plan_id": plan,
        "customer": { "email": email, "date_of_birth": date_of_birth, "country": "US" },
        "consent": { "terms": true },
    })
    .to_string()
}

/// `POST /v1/approvals` from the demo origin, with a browser's User-Agent so the session does
/// not look automated.
pub fn post_approval(edge: &Edge, idempotency_key: &str, body: &str) -> http::Reply {
    post_approval_from(edge, idempotency_key, body, "127.0.0.1")
}

/// The same from the client address `ip` (`CF-Connecting-IP`, as Cloudflare sets it; local
/// `wrangler dev` keeps a client's own).
pub fn post_approval_from(edge: &Edge, idempotency_key: &str, body: &str, ip: &str) -> http::Reply {
    http::request(
        "POST",
        &format!("{}/v1/approvals", edge.url),
        &[
            ("Origin", ORIGIN),
            ("Content-Type", "application/json"),
            ("Idempotency-Key", idempotency_key),
            ("User-Agent", BROWSER),
            ("CF-Connecting-IP", ip),
        ],
        Some(body),
    )
    .unwrap()
}

/// `POST /v1/sessions` for `key` from the client address `ip`.
pub fn session_from(edge: &Edge, key: &str, amount: u64, ip: &str) -> http::Reply {
    let body = json!({ "key": key, "amount": amount, "currency": "USD" }).to_string();
    http::request(
        "POST",
        &format!("{}/v1/sessions", edge.url),
        &[
            ("Origin", ORIGIN),
            ("Content-Type", "application/json"),
            ("CF-Connecting-IP", ip),
        ],
        Some(&body),
    )
    .unwrap()
}

/// Pay in 4 for an adult `email`.
pub fn approve(edge: &Edge, session_token: &str, email: &str, idempotency_key: &str) -> http::Reply {
    post_approval(
        edge,
        idempotency_key,
        &approval_body(session_token, "pay_in_4", email, "1990-05-17"),
    )
}

/// An approved answer's token, or a panic that shows the answer.
pub fn approval_token(reply: &http::Reply) -> String {
    let answer = reply.json();
    assert_eq!(
        (reply.status, answer["decision"].as_str()),
        (200, Some("approved")),
        "{answer}"
    );
    answer["approval_token"].as_str().unwrap().to_owned()
}

/// A merchant server's request with a secret key (`None`: no Authorization header).
pub fn server(
    edge: &Edge,
    method: &str,
    path: &str,
    key: Option<&str>,
    idempotency_key: Option<&str>,
    body: Option<&Value>,
) -> http::Reply {
    let bearer = key.map(|k| format!("Bearer {k}"));
    let mut headers: Vec<(&str, &str)> = vec![("Content-Type", "application/json")];
    if let Some(bearer) = &bearer {
        headers.push(("Authorization", bearer));
    }
    if let Some(idempotency_key) = idempotency_key {
        headers.push(("Idempotency-Key", idempotency_key));
    }
    let text = body.map(Value::to_string);
    let reply = http::request(method, &format!("{}{path}", edge.url), &headers, text.as_deref()).unwrap();
    record(method, path, &reply);
    reply
}

/// `GET /v1/orders/{id}`.
pub fn get_order(edge: &Edge, key: &str, order_id: &str) -> http::Reply {
    server(edge, "GET", &format!("/v1/orders/{order_id}"), Some(key), None, None)
}

/// A refusal's status and error code.
pub fn error_code(reply: &http::Reply) -> (u16, String) {
    (
        reply.status,
        reply.json()["error"]["code"].as_str().unwrap_or("").to_owned(),
    )
}

pub fn create_order(edge: &Edge, key: &str, token: &str, reference: &str) -> http::Reply {
    let body = json!({ "approval_token": token, "merchant_reference": reference });
    server(edge, "POST", "/v1/orders", Some(key), None, Some(&body))
}

/// A capture, refund or void (`action`: `captures`, `refunds`, `void`).
pub fn change(
    edge: &Edge,
    key: &str,
    order_id: &str,
    action: &str,
    idempotency_key: &str,
    body: Option<Value>,
) -> http::Reply {
    let path = format!("/v1/orders/{order_id}/{action}");
    server(edge, "POST", &path, Some(key), Some(idempotency_key), body.as_ref())
}

/// What the customer's ledger holds in one mode: `approval_id → held`, from the admin lookup.
pub fn holds(edge: &Edge, email: &str, livemode: bool) -> HashMap<String, u64> {
    let body = json!({ "email": email, "livemode": livemode }).to_string();
    let reply = http::request(
        "POST",
        &format!("{}/v1/admin/customers/holds", edge.url),
        &[
            ("Authorization", &format!("Bearer {ADMIN_TOKEN}")),
            ("Content-Type", "application/json"),
        ],
        Some(&body),
    )
    .unwrap();
    record("POST", "/v1/admin/customers/holds", &reply);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["holds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["approval_id"].as_str().unwrap().to_owned(),
                h["held"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// What the customer's holds add up to.
pub fn exposure(edge: &Edge, email: &str, livemode: bool) -> u64 {
    holds(edge, email, livemode).values().sum()
}

pub fn python(script: &str, args: &[&Path], stdin: Option<&str>) -> Value {
    let mut child = Command::new(paths::python())
        .arg(paths::workspace_root().join("tests/python").join(script))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python {script}: {e} (run `cargo xtask bootstrap`)"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.unwrap_or("").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Waits (bounded) until `done` holds.
pub fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Every object of the local R2 bucket as stored: key → bytes.
pub fn stored_objects(edge: &Edge) -> HashMap<String, Vec<u8>> {
    use base64::Engine;
    let objects = python(
        "read_local_r2.py",
        &[&edge.state_dir, Path::new("paylater-archive")],
        None,
    );
    objects
        .as_object()
        .unwrap()
        .iter()
        .map(|(key, value)| {
            let bytes = match value {
                Value::String(text) => text.clone().into_bytes(),
                other => base64::engine::general_purpose::STANDARD
                    .decode(other["base64"].as_str().unwrap())
                    .unwrap(),
            };
            (key.clone(), bytes)
        })
        .collect()
}

/// Every LogRecord in the local R2 archive, by object key, each object opened with the dev
/// keyring (for the merchant and mode its key names).
pub fn archive(edge: &Edge) -> HashMap<String, Vec<Value>> {
    let keyring = paylater_harness::letters::dev_keyring();
    stored_objects(edge)
        .into_iter()
        .filter(|(key, _)| key.starts_with("logs/"))
        .map(|(key, sealed)| {
            let mut parts = key.split('/');
            let merchant_id = parts.nth(2).unwrap();
            let livemode = key.rsplit('/').next().unwrap().starts_with("live-");
            let scope = paylater_shared::archive::Scope::Merchant { merchant_id, livemode };
            let plain = keyring.open(scope, &key, &sealed).unwrap();
            let lines = String::from_utf8(plain)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            (key.clone(), lines)
        })
        .collect()
}

/// Every LogRecord in the local R2 archive.
pub fn archived_records(edge: &Edge) -> Vec<Value> {
    archive(edge).into_values().flatten().collect()
}

/// Sends a message's text through the events queue again: parked as a dead letter in the local
/// R2 where the consumer parks it, then replayed with the demo merchant's `logs:replay` key (the
/// record must be one of that merchant's test-mode records).
pub fn redeliver(edge: &Edge, work: &std::path::Path, name: &str, text: &str) {
    let file = work.join(format!("{name}.letter"));
    let key = paylater_edge::forward::dead_letter_key(name, text);
    std::fs::write(&file, paylater_harness::letters::seal(&key, text)).unwrap();
    paylater_harness::edge::put_r2_object(&edge.state_dir, work, &format!("paylater-archive/{key}"), &file).unwrap();
    let reply = http::request(
        "POST",
        &format!("{}/v1/admin/dead-letters/replay", edge.url),
        &[("Authorization", &format!("Bearer {DEMO_KEY}"))],
        None,
    )
    .unwrap();
    assert_eq!(
        (reply.status, reply.json()["replayed"].clone()),
        (200, json!(1)),
        "{}",
        reply.body
    );
}

/// An integer attribute of a LogRecord (OTLP JSON writes them as strings).
pub fn int_attribute(record: &Value, key: &str) -> Option<u64> {
    record["attributes"]
        .as_array()?
        .iter()
        .find(|kv| kv["key"] == key)
        .and_then(|kv| kv["value"]["intValue"].as_str()?.parse().ok())
}

/// Runs the verifier's own binary (`paylater-audit`, as an auditor does); its exit code and
/// what it printed.
pub fn audit(args: &[&str]) -> (i32, String) {
    let binary = paths::workspace_root().join("target/debug/paylater-audit");
    let output = Command::new(&binary)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (cargo build -p paylater-audit)", binary.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

/// The UTC day `offset` days from today, `YYYY-MM-DD`.
pub fn utc_day(offset: i64) -> String {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let today = paylater_shared::CivilDate::from_unix_millis_utc(now_ms).unwrap();
    paylater_shared::CivilDate::from_days_since_epoch(today.days_since_epoch() + offset)
        .unwrap()
        .to_string()
}

/// `paylater-audit verify` of yesterday and today (so a run at midnight sees all), for an edge
/// whose digests are seconds apart: they must reach 15 s ago.
pub fn verify_trail(edge: &Edge, key: &str) -> (i32, String) {
    let (from, to) = (utc_day(-1), utc_day(0));
    audit(&[
        "verify",
        "--edge",
        &edge.url,
        "--key",
        key,
        "--from",
        &from,
        "--to",
        &to,
        "--max-lag",
        "15",
    ])
}

/// Waits until every period so far (of 2 s, settling 1 s) has ended and settled, then runs the
/// cron and waits for its digests.
pub fn seal(edge: &Edge) {
    std::thread::sleep(Duration::from_millis(3_200));
    let before = edge.log_text().matches("\"kind\":\"audit_digests\"").count();
    let run = http::get(&format!("{}/__scheduled?cron=*/5+*+*+*+*", edge.url)).unwrap();
    assert_eq!(run.status, 200, "{}", run.body);
    let started = Instant::now();
    while edge.log_text().matches("\"kind\":\"audit_digests\"").count() <= before {
        let log = edge.log_text();
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no digests from the cron: {}",
            &log[log.len().saturating_sub(3_000)..]
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The checked counts of a verifier's summary line: (digests, objects).
pub fn checked_counts(out: &str) -> (usize, usize) {
    let summary = out
        .lines()
        .find(|line| line.contains(" VERIFIED: checked ") || line.contains(" FAILED: checked "))
        .unwrap_or_else(|| panic!("no summary in {out}"));
    let count = |what: &str| -> usize {
        summary
            .split(&format!(" {what}"))
            .next()
            .and_then(|head| head.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count of {what} in {summary}"))
    };
    (count("digests"), count("objects"))
}

/// Now, Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// `POST /v1/events` of `widget_viewed` events `range` of one session, as the widget sends
/// them from the demo origin: event `n` has the id `event_id(n)` and `seq` `n + 1`.
pub fn post_viewed(
    edge: &Edge,
    token: &str,
    range: std::ops::Range<usize>,
    event_id: fn(usize) -> String,
) -> http::Reply {
    let events: Vec<Value> = range
        .map(|n| json!({ "id": event_id(n), "name": "widget_viewed", "ts": now_ms() - 50, "seq": n + 1, "props": {} }))
        .collect();
    http::request(
        "POST",
        &format!("{}/v1/events", edge.url),
        &[("Origin", ORIGIN), ("Content-Type", "application/json")],
        Some(&json!({ "session_token": token, "events": events }).to_string()),
    )
    .unwrap()
}
