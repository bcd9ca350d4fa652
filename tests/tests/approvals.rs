//! `POST /v1/approvals` and `GET /v1/keys` end to end on `wrangler dev`: the session's and the
//! customer's Durable Objects, idempotency, a parallel overspend, tokens verified by `jose`
//! (Node) and `jsonwebtoken` (Rust), and the decisions' log records at a local OTLP receiver.

use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

mod support;

use paylater_harness::edge::{Edge, EdgeOptions};
use paylater_harness::sink::{OtlpSink, attribute};
use paylater_harness::{http, paths};
use paylater_shared::token::{ApprovalExpectation, Jwks, verify_approval};
use serde_json::{Value, json};
use support::{ORIGIN, approval_body as body, let_sessions_age, post_approval as approve};

const MERCHANT_ID: &str = "m_nordic_outdoor";
const DEMO_TEST: ApprovalExpectation<'static> = ApprovalExpectation {
    merchant_id: MERCHANT_ID,
    livemode: false,
};

fn now_s() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn session(edge: &Edge, amount: u64) -> String {
    support::session(edge, "pk_test_demo", amount)
}

fn reason_codes(reply: &http::Reply) -> Vec<String> {
    reply.json()["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect()
}

/// `node examples/verify-approval.mjs` (jose): the claims, or why not.
fn verify_with_jose(edge: &Edge, token: &str, at: Option<i64>) -> Value {
    let mut command = Command::new(paths::node22_dir().join("node"));
    command
        .current_dir(paths::workspace_root())
        .arg("examples/verify-approval.mjs")
        .args([edge.url.as_str(), MERCHANT_ID, token]);
    if let Some(at) = at {
        command.arg(format!("--at={at}"));
    }
    let output = command.output().unwrap();
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("jose said: {}", String::from_utf8_lossy(&output.stderr)))
}

/// docs/approvals.md's Rust example (`jsonwebtoken`): exit status and what it printed.
fn verify_with_jsonwebtoken(keys: &str, token: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let keys_file = dir.path().join("keys.json");
    std::fs::write(&keys_file, keys).unwrap();
    let output = Command::new("cargo")
        .current_dir(paths::workspace_root())
        .args([
            "run",
            "--offline",
            "-q",
            "-p",
            "paylater-shared",
            "--example",
            "verify_approval",
            "--",
        ])
        .arg(&keys_file)
        .args([MERCHANT_ID, "test", token])
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).trim().to_owned(),
    )
}

#[test]
fn approvals_decide_explain_sign_and_log() {
    let work = tempfile::tempdir().unwrap();
    let sink = OtlpSink::start().unwrap();
    let edge = Edge::start(EdgeOptions {
        config_changes: Vec::new(),
        port: None,
        work_dir: work.path().to_owned(),
        vars: vec![("LOG_SINK_URL".into(), sink.url.clone())],
    })
    .unwrap_or_else(|e| panic!("edge did not start: {e}"));

    // The JWKS.
    let keys = http::get(&format!("{}/v1/keys", edge.url)).unwrap();
    assert_eq!(keys.status, 200);
    let jwks: Jwks = serde_json::from_str(&keys.body).unwrap();
    assert_eq!(jwks.keys.len(), 1);
    assert_eq!(
        (
            jwks.keys[0].kty.as_str(),
            jwks.keys[0].crv.as_str(),
            jwks.keys[0].alg.as_str()
        ),
        ("OKP", "Ed25519", "EdDSA")
    );

    let approved_session = session(&edge, 12_999);
    let declined_session = session(&edge, 12_999);
    let young_session = session(&edge, 12_999);
    let_sessions_age();

    // Approved: a schedule, a token any standard library verifies, no reasons.
    let request = body(&approved_session, "pay_in_4", "ada@example.com", "1990-05-17");
    let approved = approve(&edge, "key-approved-1", &request);
    assert_eq!(approved.status, 200, "{}", approved.body);
    let answer = approved.json();
    assert_eq!(answer["decision"], "approved", "{answer}");
    assert_eq!(answer["reasons"], json!([]));
    assert_eq!(answer["plan_id"], "pay_in_4");
    let amounts: Vec<u64> = answer["schedule"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["amount"].as_u64().unwrap())
        .collect();
    assert_eq!(amounts, [3_252, 3_249, 3_249, 3_249]);
    assert!(answer.get("human_review").is_none());
    let token = answer["approval_token"].as_str().unwrap().to_owned();
    let claims = verify_approval(&token, &jwks, &DEMO_TEST, now_s()).unwrap();
    assert!(!claims.livemode);
    assert_eq!(claims.sub, answer["approval_id"].as_str().unwrap());
    assert_eq!(
        (claims.aud.as_str(), claims.amount.get(), claims.plan_id.as_str()),
        (MERCHANT_ID, 12_999, "pay_in_4")
    );
    assert_eq!(claims.exp - claims.iat, 15 * 60);

    let jose = verify_with_jose(&edge, &token, None);
    assert_eq!(jose["ok"], true, "{jose}");
    assert_eq!(jose["claims"]["sub"], answer["approval_id"]);
    assert_eq!(jose["claims"]["amount"], 12_999);
    assert_eq!(jose["claims"]["currency"], "USD");
    // Expired: a verifier living after `exp` refuses it.
    let expired = verify_with_jose(&edge, &token, Some(claims.exp + 1));
    assert_eq!(
        (expired["ok"].clone(), expired["code"].clone()),
        (json!(false), json!("ERR_JWT_EXPIRED"))
    );
    // Altered: another amount in the payload breaks the signature.
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = parts[1].replacen('M', "N", 1);
    let altered = parts.join(".");
    assert_ne!(altered, token);
    let refused = verify_with_jose(&edge, &altered, None);
    assert_eq!(refused["ok"], false, "{refused}");
    assert!(verify_approval(&altered, &jwks, &DEMO_TEST, now_s()).is_err());
    let (ok, printed) = verify_with_jsonwebtoken(&keys.body, &token);
    assert!(ok, "{printed}");
    assert_eq!(
        serde_json::from_str::<Value>(&printed).unwrap()["jti"],
        json!(claims.jti)
    );
    let (ok, printed) = verify_with_jsonwebtoken(&keys.body, &altered);
    assert!(!ok, "an altered token passed: {printed}");

    // Idempotent replay: the same answer, token included; another body with the key is 409.
    let replay = approve(&edge, "key-approved-1", &request);
    assert_eq!(replay.status, 200);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.json(), answer);
    let changed = approve(
        &edge,
        "key-approved-1",
        &body(&approved_session, "pay_in_30", "ada@example.com", "1990-05-17"),
    );
    assert_eq!(changed.status, 409, "{}", changed.body);
    assert_eq!(changed.json()["error"]["code"], "idempotency_conflict");

    // Declined, with reasons in plain words and the way to a human review.
    let disposable = approve(
        &edge,
        "key-declined-1",
        &body(&declined_session, "pay_in_4", "shopper@mailinator.com", "1990-05-17"),
    );
    assert_eq!(disposable.status, 200, "{}", disposable.body);
    assert_eq!(disposable.json()["decision"], "declined");
    assert_eq!(reason_codes(&disposable), ["disposable_email"]);
    assert!(disposable.json()["reasons"][0]["message"].as_str().unwrap().len() > 20);
    assert!(disposable.json().get("approval_token").is_none());
    assert!(
        disposable.json()["human_review"]
            .as_str()
            .unwrap()
            .contains("review@paylater.example")
    );
    let minor = approve(
        &edge,
        "key-declined-2",
        &body(&declined_session, "pay_in_4", "teen@example.com", "2010-01-01"),
    );
    assert_eq!(minor.json()["decision"], "declined");
    assert_eq!(reason_codes(&minor)[0], "under_age");

    // Review: the page reported another amount than the session's before the form.
    let event = json!({
        "session_token": young_session,
        "events": [{
            "id": "0190d2c4-aaaa-7cc2-9a1e-000000000001", "name": "plan_selected",
            "ts": now_s() * 1000 - 200, "seq": 1,
            "props": { "plan_id": "pay_in_4", "amount_minor": 99_999, "currency": "USD" },
        }],
    })
    .to_string();
    let sent = http::request(
        "POST",
        &format!("{}/v1/events", edge.url),
        &[("Origin", ORIGIN), ("Content-Type", "application/json")],
        Some(&event),
    )
    .unwrap();
    assert_eq!(sent.status, 202, "{}", sent.body);
    let review = approve(
        &edge,
        "key-review-1",
        &body(&young_session, "pay_in_4", "grace@example.com", "1985-12-09"),
    );
    assert_eq!(review.json()["decision"], "review", "{}", review.body);
    assert_eq!(reason_codes(&review), ["amount_changed"]);
    assert!(review.json()["human_review"].is_string());

    // Parallel requests that together would overspend one customer's limit: one is declined.
    // The pay-in-4 limit of a new customer is the plan's maximum, 1 500.00 USD.
    let big = [session(&edge, 90_000), session(&edge, 90_000)];
    let_sessions_age();
    let url = edge.url.clone();
    let replies: Vec<http::Reply> = std::thread::scope(|scope| {
        let handles: Vec<_> = big
            .iter()
            .enumerate()
            .map(|(n, token)| {
                let request = body(token, "pay_in_4", "spender@example.com", "1979-03-01");
                let url = url.clone();
                scope.spawn(move || {
                    http::request(
                        "POST",
                        &format!("{url}/v1/approvals"),
                        &[
                            ("Origin", ORIGIN),
                            ("Content-Type", "application/json"),
                            ("Idempotency-Key", &format!("key-parallel-{n}")),
                            ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0"),
                        ],
                        Some(&request),
                    )
                    .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut outcomes: Vec<(String, Vec<String>)> = replies
        .iter()
        .map(|r| (r.json()["decision"].as_str().unwrap_or("").to_owned(), reason_codes(r)))
        .collect();
    outcomes.sort();
    assert_eq!(
        outcomes,
        [
            ("approved".to_owned(), vec![]),
            ("declined".to_owned(), vec!["credit_limit".to_owned()])
        ]
    );

    // Every decision reached the sink as a log record, joined by a keyed hash, never the e-mail.
    let deadline = Instant::now() + Duration::from_secs(60);
    let decisions = loop {
        let decisions: Vec<Value> = sink
            .records()
            .into_iter()
            .filter(|r| attribute(r, "event.name").as_deref() == Some("approval_decision"))
            .collect();
        if decisions.len() >= 6 || Instant::now() > deadline {
            break decisions;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(decisions.len(), 6, "approved, 2 declined, review, 2 parallel");
    let approved_record = decisions
        .iter()
        .find(|r| attribute(r, "event.id").as_deref() == answer["approval_id"].as_str())
        .unwrap();
    assert_eq!(
        attribute(approved_record, "decision.outcome").as_deref(),
        Some("approved")
    );
    assert_eq!(attribute(approved_record, "plan.id").as_deref(), Some("pay_in_4"));
    assert_eq!(
        attribute(approved_record, "customer.id_hash").map(|h| h.len()),
        Some(32)
    );
    let all_bodies = sink.bodies().join("\n");
    for personal in ["ada@example.com", "mailinator", "1990-05-17", "spender@"] {
        assert!(!all_bodies.contains(personal), "{personal} reached the sink");
    }
}

#[test]
fn bad_approval_requests_get_their_codes() {
    let (_work, edge) = support::start_edge();
    let token = session(&edge, 12_999);
    let good = body(&token, "pay_in_4", "ada@example.com", "1990-05-17");
    let with = |from: &str, to: &str| good.replace(from, to);
    let json_type = ("Content-Type", "application/json");
    let key = ("Idempotency-Key", "bad-input");
    let origin = ("Origin", ORIGIN);
    let huge = format!(r#"{{"session_token":"{}"}}"#, "x".repeat(70_000));
    let last = if token.ends_with('A') { "B" } else { "A" };
    let forged = good.replace(&token, &format!("{}{last}", &token[..token.len() - 1]));
    type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, String, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "no idempotency key",
            "POST",
            vec![origin, json_type],
            good.clone(),
            400,
            "invalid_idempotency_key",
        ),
        (
            "bad idempotency key",
            "POST",
            vec![origin, json_type, ("Idempotency-Key", "a b")],
            good.clone(),
            400,
            "invalid_idempotency_key",
        ),
        (
            "text/plain",
            "POST",
            vec![origin, ("Content-Type", "text/plain"), key],
            good.clone(),
            415,
            "unsupported_media_type",
        ),
        (
            "malformed JSON",
            "POST",
            vec![origin, json_type, key],
            "{\"session_token\":".into(),
            400,
            "invalid_json",
        ),
        (
            "unknown field",
            "POST",
            vec![origin, json_type, key],
            with("\"consent\"", "\"coupon\":1,\"consent\""),
            400,
            "unknown_field",
        ),
        (
            "bad email",
            "POST",
            vec![origin, json_type, key],
            with("ada@example.com", "ada(at)example.com"),
            400,
            "invalid_email",
        ),
        (
            "bad date of birth",
            "POST",
            vec![origin, json_type, key],
            with("1990-05-17", "1990-13-01"),
            400,
            "invalid_date",
        ),
        (
            "future birth",
            "POST",
            vec![origin, json_type, key],
            with("1990-05-17", "2099-01-01"),
            422,
            "implausible_date_of_birth",
        ),
        (
            "bad country",
            "POST",
            vec![origin, json_type, key],
            with("\"US\"", "\"USA\""),
            400,
            "invalid_country",
        ),
        (
            "wrong type",
            "POST",
            vec![origin, json_type, key],
            with("\"pay_in_4\"", "4"),
            400,
            "invalid_type",
        ),
        (
            "no consent",
            "POST",
            vec![origin, json_type, key],
            with("\"terms\":true", "\"terms\":false"),
            422,
            "consent_required",
        ),
        (
            "unknown plan",
            "POST",
            vec![origin, json_type, key],
            with("pay_in_4", "pay_in_7"),
            422,
            "unknown_plan",
        ),
        (
            "forged token",
            "POST",
            vec![origin, json_type, key],
            forged,
            401,
            "invalid_token",
        ),
        (
            "garbage token",
            "POST",
            vec![origin, json_type, key],
            with(&token, "v1.nope"),
            401,
            "invalid_token",
        ),
        (
            "foreign origin",
            "POST",
            vec![("Origin", "https://evil.example"), json_type, key],
            good.clone(),
            403,
            "token_mismatch",
        ),
        (
            "no origin",
            "POST",
            vec![json_type, key],
            good.clone(),
            403,
            "origin_required",
        ),
        (
            "oversized",
            "POST",
            vec![origin, json_type, key],
            huge,
            413,
            "body_too_large",
        ),
        (
            "wrong method",
            "GET",
            vec![origin],
            String::new(),
            405,
            "method_not_allowed",
        ),
        (
            "missing customer",
            "POST",
            vec![origin, json_type, key],
            json!({"session_token": token, "plan_id": "pay_in_4", "consent": {"terms": true}}).to_string(),
            400,
            "missing_parameter",
        ),
    ];
    assert!(cases.len() >= 15);
    for (name, method, headers, body, status, code) in cases {
        let body = (method == "POST").then_some(body.as_str());
        let reply = http::request(method, &format!("{}/v1/approvals", edge.url), &headers, body).unwrap();
        assert_eq!(
            (reply.status, reply.json()["error"]["code"].as_str()),
            (status, Some(code)),
            "{name}: {}",
            reply.body
        );
        assert!(
            reply.json()["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{name}"
        );
    }
    // None of them was decided: the key is still free for a real request.
    let_sessions_age();
    let first = approve(&edge, "bad-input", &good);
    assert_eq!(
        (first.status, first.header("idempotent-replayed")),
        (200, None),
        "{}",
        first.body
    );
}

#[test]
fn a_failing_decision_service_never_approves() {
    let work = tempfile::tempdir().unwrap();
    // A local server standing in for the decision service, answering 503.
    let upstream = OtlpSink::start().unwrap();
    upstream.fail_with(503);
    let edge = Edge::start(EdgeOptions {
        config_changes: Vec::new(),
        port: None,
        work_dir: work.path().to_owned(),
        vars: vec![("DECISION_URL".into(), upstream.url.clone())],
    })
    .unwrap_or_else(|e| panic!("edge did not start: {e}"));
    let token = session(&edge, 12_999);
    let_sessions_age();
    // The same shopper the scorecard alone approves (see above).
    let reply = approve(
        &edge,
        "upstream-1",
        &body(&token, "pay_in_4", "ada@example.com", "1990-05-17"),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["decision"], "review");
    assert_eq!(reason_codes(&reply), ["decision_service_unavailable"]);
    assert!(reply.json().get("approval_token").is_none());
    assert!(upstream.refusals() >= 1, "the decision service was never asked");
}
