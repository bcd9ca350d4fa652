//! The edge as it runs locally: `wrangler dev` (workerd, local KV seeded with the demo
//! merchant) on free loopback ports. One documented scenario per test.

use paylater_harness::edge::Edge;
use paylater_harness::http;
use paylater_harness::process::group_alive;
use serde_json::json;

fn start(work: &tempfile::TempDir) -> Edge {
    Edge::start_plain(work.path()).unwrap_or_else(|e| panic!("edge did not start: {e}"))
}

/// Start, answer `/health`, stop on SIGINT with nothing of its process group left and the port free.
#[test]
fn wrangler_dev_starts_answers_health_and_stops_cleanly() {
    let work = tempfile::tempdir().unwrap();
    let mut edge = start(&work);
    let reply = http::get(&format!("{}/health", edge.url)).unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), json!({ "status": "ok" }));
    assert_eq!(reply.header("content-type"), Some("application/json; charset=utf-8"));
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(
        reply.header("x-request-id").map(str::len),
        Some(36),
        "a UUID request id"
    );

    let pid = edge.pid().expect("running");
    let killed = edge.stop();
    assert!(!killed, "wrangler should exit on SIGINT; log:\n{}", edge.log_text());
    assert!(!group_alive(pid), "workerd or wrangler still running after stop");
    assert!(
        http::get(&format!("{}/health", edge.url)).is_err(),
        "port still answers after stop"
    );
}

/// The routes of the first slice answer with real data from KV and the shared schedule logic.
#[test]
fn config_offers_assets_and_errors_over_http() {
    let work = tempfile::tempdir().unwrap();
    let edge = start(&work);
    let url = |path: &str| format!("{}{path}", edge.url);

    let config = http::get(&url("/v1/merchants/pk_test_demo/config")).unwrap();
    assert_eq!(config.status, 200, "{}", config.body);
    assert_eq!(config.json()["display_name"], "Nordic Outdoor Co.");
    assert_eq!(config.json()["currencies"], json!(["EUR", "GBP", "JPY", "SEK", "USD"]));
    assert!(config.json().get("allowed_origins").is_none(), "origins are not public");

    let offers = http::get(&url(
        "/v1/offers?key=pk_test_demo&amount=12999&currency=USD&start=2026-11-23",
    ))
    .unwrap();
    assert_eq!(offers.status, 200, "{}", offers.body);
    let body = offers.json();
    assert_eq!(body["plans"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        body["plans"][0]["schedule"],
        json!([
            { "n": 1, "due_date": "2026-11-23", "amount": 3252 },
            { "n": 2, "due_date": "2026-12-07", "amount": 3249 },
            { "n": 3, "due_date": "2026-12-21", "amount": 3249 },
            { "n": 4, "due_date": "2027-01-04", "amount": 3249 }
        ])
    );
    assert_eq!(
        body["plans"][1]["schedule"],
        json!([{ "n": 1, "due_date": "2026-12-23", "amount": 12999 }])
    );

    // A browser on an allowed origin gets its origin echoed; a foreign origin is refused.
    let allowed = http::request(
        "GET",
        &url("/v1/offers?key=pk_test_demo&amount=5000&currency=JPY"),
        &[("Origin", "http://127.0.0.1:8080")],
        None,
    )
    .unwrap();
    assert_eq!(allowed.status, 200);
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("http://127.0.0.1:8080")
    );
    assert_eq!(allowed.header("vary"), Some("Origin"));
    let foreign = http::request(
        "GET",
        &url("/v1/merchants/pk_test_demo/config"),
        &[("Origin", "https://evil.example")],
        None,
    )
    .unwrap();
    assert_eq!(
        (foreign.status, foreign.json()["error"]["code"].clone()),
        (403, json!("origin_not_allowed"))
    );
    assert_eq!(foreign.header("access-control-allow-origin"), None);

    // The widget's static assets come from Workers static assets with CORS * and wasm's type.
    let loader = http::get(&url("/v1/widget.js")).unwrap();
    assert_eq!(loader.status, 200);
    assert!(loader.body.contains("window.Paylater"), "the loader");
    assert_eq!(loader.header("access-control-allow-origin"), Some("*"));
    let wasm = http::request("HEAD", &url("/v1/widget/paylater_widget_bg.wasm"), &[], None).unwrap();
    assert_eq!(
        (wasm.status, wasm.header("content-type")),
        (200, Some("application/wasm"))
    );

    let cases: [(&str, &str, u16, &str, serde_json::Value); 6] = [
        (
            "GET",
            "/v1/merchants/pk_test_nobody/config",
            401,
            "unknown_key",
            json!("key"),
        ),
        (
            "GET",
            "/v1/merchants/not-a-key/config",
            400,
            "invalid_key",
            json!("key"),
        ),
        (
            "GET",
            "/v1/offers?key=pk_test_demo&amount=-5&currency=USD",
            400,
            "invalid_amount",
            json!("amount"),
        ),
        (
            "GET",
            "/v1/offers?key=pk_test_demo&amount=500&currency=CHF",
            422,
            "currency_not_offered",
            json!("currency"),
        ),
        ("POST", "/v1/offers", 405, "method_not_allowed", json!(null)),
        ("GET", "/nowhere", 404, "not_found", json!(null)),
    ];
    for (method, path, status, code, field) in cases {
        let reply = http::request(method, &url(path), &[], None).unwrap();
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.body);
        assert_eq!(reply.json()["error"]["code"], code, "{method} {path}");
        assert_eq!(reply.json()["error"]["field"], field, "{method} {path}");
        assert!(reply.json()["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

/// `POST /v1/sessions`: a browser on an allowed origin gets a token the edge's own key verifies,
/// bound to what it asked for; everything else gets its typed error.
#[test]
fn sessions_are_issued_to_allowed_origins_only() {
    let work = tempfile::tempdir().unwrap();
    let edge = start(&work);
    let url = format!("{}/v1/sessions", edge.url);
    let origin = "http://127.0.0.1:8080";
    let body = r#"{"key":"pk_test_demo","amount":12999,"currency":"USD"}"#;
    let post = |headers: &[(&str, &str)], body: &str| http::request("POST", &url, headers, Some(body)).unwrap();

    let created = post(&[("Origin", origin), ("Content-Type", "application/json")], body);
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.header("access-control-allow-origin"), Some(origin));
    assert_eq!(created.header("cache-control"), Some("no-store"));
    let answer = created.json();
    let token = answer["session_token"].as_str().unwrap();
    let claims = dev_keyring()
        .verify(token, now_s())
        .expect("the dev key verifies the token");
    assert_eq!(claims.sid, answer["session_id"].as_str().unwrap());
    assert_eq!(
        (
            claims.mid.as_str(),
            claims.org.as_str(),
            claims.amt.get(),
            claims.cur.code()
        ),
        ("m_nordic_outdoor", origin, 12999, "USD")
    );
    assert_eq!(claims.exp - claims.iat, 1800);
    assert!(
        answer["expires_at"]
            .as_str()
            .is_some_and(|t| t.len() == 20 && t.ends_with('Z'))
    );

    // A cross-origin JSON POST is preflighted: the edge must allow it from the page's origin.
    let preflight = http::request(
        "OPTIONS",
        &url,
        &[
            ("Origin", origin),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        None,
    )
    .unwrap();
    assert_eq!(preflight.status, 204);
    assert_eq!(preflight.header("access-control-allow-origin"), Some(origin));
    assert!(
        preflight
            .header("access-control-allow-methods")
            .is_some_and(|m| m.contains("POST"))
    );
    assert!(
        preflight
            .header("access-control-allow-headers")
            .is_some_and(|h| h.to_ascii_lowercase().contains("content-type"))
    );

    // sendBeacon's text/plain is accepted as JSON.
    assert_eq!(
        post(
            &[("Origin", origin), ("Content-Type", "text/plain;charset=UTF-8")],
            body
        )
        .status,
        201
    );

    let big = format!(
        r#"{{"key":"pk_test_demo","amount":1,"currency":"USD","pad":"{}"}}"#,
        "x".repeat(70_000)
    );
    type Headers<'a> = Vec<(&'a str, &'a str)>;
    let cases: Vec<(Headers, String, u16, &str)> = vec![
        (
            vec![("Content-Type", "application/json")],
            body.into(),
            403,
            "origin_required",
        ),
        (
            vec![("Origin", "https://evil.example"), ("Content-Type", "application/json")],
            body.into(),
            403,
            "origin_not_allowed",
        ),
        (
            vec![
                ("Origin", origin),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body.into(),
            415,
            "unsupported_media_type",
        ),
        (
            vec![("Origin", origin), ("Content-Type", "application/json")],
            "{".into(),
            400,
            "invalid_json",
        ),
        (
            vec![("Origin", origin), ("Content-Type", "application/json")],
            body.replace("12999", "-1"),
            400,
            "invalid_amount",
        ),
        (
            vec![("Origin", origin), ("Content-Type", "application/json")],
            body.replace("pk_test_demo", "pk_test_nobody"),
            401,
            "unknown_key",
        ),
        (
            vec![("Origin", origin), ("Content-Type", "application/json")],
            big,
            413,
            "body_too_large",
        ),
    ];
    for (headers, body, status, code) in cases {
        let reply = post(&headers, &body);
        assert_eq!(
            (reply.status, reply.json()["error"]["code"].as_str()),
            (status, Some(code)),
            "{headers:?}"
        );
    }
}

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The local-dev session key from `.dev.vars`, as the edge reads it.
fn dev_keyring() -> paylater_shared::token::SessionKeyring {
    let vars = std::fs::read_to_string(paylater_harness::paths::workspace_root().join(".dev.vars")).unwrap();
    let line = vars
        .lines()
        .find_map(|l| l.strip_prefix("SESSION_KEYS="))
        .unwrap()
        .trim_matches('"');
    paylater_edge::sessions::keyring_from_secret(line).unwrap()
}
