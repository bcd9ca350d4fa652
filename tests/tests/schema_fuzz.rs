//! The OpenAPI document against the running edge, by a schema-driven fuzzer (Schemathesis, from
//! PyPI): every request the document calls valid must be taken or refused only for what a
//! schema cannot know (401/403 credentials, 404 no such order, 409 state, 422 meaning, 429
//! limits), never 400/413/415 (the document would be looser than the server) and never a 5xx.
//! Every 405 must name the allowed methods in `Allow`.

mod support;

use std::process::Command;

use paylater_harness::paths;
use serde_json::{Value, json};

use support::*;

/// Cases per operation and the seed: bounded and repeatable (a failure names its seed).
const MAX_EXAMPLES: &str = "25";
const SEED: &str = "20261129";

#[test]
fn schema_valid_requests_are_never_refused_as_malformed_and_never_fail() {
    let (work, edge) = start_edge();
    // Real values the fuzzer cannot invent, so it reaches past authentication: a live session,
    // an order to capture, refund and void, and an approval with no order yet.
    let session_token = session(&edge, "pk_test_demo", 12_000);
    let unordered_session = session(&edge, "pk_test_demo", 9_000);
    let_sessions_age();
    let ordered = approval_token(&approve(&edge, &session_token, "fuzz.ordered@example.com", "fuzz-1"));
    let order = create_order(&edge, DEMO_KEY, &ordered, "fuzz-order-1");
    assert_eq!(order.status, 201, "{}", order.body);
    let order_id = order.json()["order_id"].as_str().unwrap().to_owned();
    let unordered = approval_token(&approve(
        &edge,
        &unordered_session,
        "fuzz.unordered@example.com",
        "fuzz-2",
    ));

    let schema = work.path().join("openapi.json");
    std::fs::write(&schema, without_text_bodies(&edge_document()).to_string()).unwrap();
    let config = work.path().join("schemathesis.toml");
    std::fs::write(&config, fuzzer_config(&session_token, &order_id, &unordered)).unwrap();
    let report = work.path().join("report.json");

    let output = Command::new(paths::python_venv().join("bin/st"))
        .current_dir(work.path())
        .args(["--config-file"])
        .arg(&config)
        .arg("run")
        .arg(&schema)
        .args(["--url", &edge.url])
        .args(["--header", &format!("Authorization: Bearer {DEMO_KEY}")])
        .args([
            "--checks",
            "not_a_server_error,positive_data_acceptance,allow_header_conformance,unsupported_method",
        ])
        .args(["--mode", "positive", "--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", MAX_EXAMPLES, "--seed", SEED, "--workers", "1"])
        .args(["--request-timeout", "20", "--output-sanitize", "false", "--no-color"])
        .args(["--report", "json", "--report-json-path"])
        .arg(&report)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("schemathesis: {e} (run `cargo xtask bootstrap`)"));
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the fuzzer found requests the document allows but the edge refuses or fails:\n{printed}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(report["failures"], json!([]), "{report}");
    assert_eq!(report["errors"], json!([]), "{report}");
    let operations = &report["operations"];
    assert_eq!(
        operations["tested"],
        operation_count(&edge_document()),
        "every operation fuzzed: {operations}"
    );
    let cases = report["test_cases"]["generated"].as_u64().unwrap();
    assert!(cases >= 300, "at least 300 requests, {cases} made");
    // Past the credentials: the fuzzer's requests were taken, not only refused, where a
    // schema-valid request often succeeds. (A random session is rarely takeable: its currency
    // must be one the merchant offers and its start within a day of today.)
    for operation in [
        "GET /v1/offers",
        "POST /v1/orders/{order_id}/captures",
        "GET /v1/orders/{order_id}",
        "GET /v1/reconciliation",
    ] {
        let rates = &report["valid_rates"][operation];
        let accepted = ["coverage", "fuzzing"].map(|phase| rates[phase]["accepted"].as_u64().unwrap_or(0));
        assert!(accepted.iter().sum::<u64>() > 0, "{operation} never accepted: {rates}");
    }
    println!("schemathesis: {operations}, {cases} test cases");
}

fn edge_document() -> Value {
    let text = std::fs::read_to_string(paths::workspace_root().join("edge/openapi.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The document without its `text/plain` bodies: those are the same JSON sent as text (what
/// `navigator.sendBeacon` can send), which a generator can only fill with arbitrary strings.
/// The JSON bodies cover the same parser.
fn without_text_bodies(doc: &Value) -> Value {
    let mut doc = doc.clone();
    for operations in doc["paths"].as_object_mut().unwrap().values_mut() {
        for operation in operations.as_object_mut().unwrap().values_mut() {
            if let Some(content) = operation
                .pointer_mut("/requestBody/content")
                .and_then(Value::as_object_mut)
            {
                content.remove("text/plain");
            }
        }
    }
    doc
}

fn operation_count(doc: &Value) -> u64 {
    let methods = ["get", "post", "put", "patch", "delete"];
    doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|ops| {
            ops.as_object()
                .unwrap()
                .keys()
                .filter(|m| methods.contains(&m.as_str()))
                .count() as u64
        })
        .sum()
}

/// Fixed values for what the fuzzer cannot make up, and what counts as a legitimate refusal
/// of a schema-valid request. The customer holds lookup takes the admin token instead of a
/// secret key.
fn fuzzer_config(session_token: &str, order_id: &str, approval_token: &str) -> String {
    format!(
        r#"
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429"]

[parameters]
"header.Origin" = "{ORIGIN}"
"query.key" = "pk_test_demo"
"path.pk" = "pk_test_demo"
"body.key" = "pk_test_demo"
"query.session" = "{session_token}"
"body.session_token" = "{session_token}"
"body.plan_id" = "pay_in_4"
"path.order_id" = "{order_id}"
"body.approval_token" = "{approval_token}"

[[operations]]
include-path-regex = "^/v1/admin/customers/"
headers = {{ Authorization = "Bearer {ADMIN_TOKEN}" }}
"#
    )
}
