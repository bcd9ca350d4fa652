//! `GET /v1/checkout` end to end on `wrangler dev`: the approval form page the widget frames,
//! its headers (framable by the session's origin alone), its static script and style, the form's
//! language, and the answers to bad sessions and plans.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use paylater_edge::sessions::keyring_from_secret;
use paylater_harness::edge::Edge;
use paylater_harness::{http, paths};
use paylater_shared::token::SessionClaims;
use paylater_shared::{Currency, MinorUnits};
use serde_json::json;

/// A merchant page on a loopback port other than the demo's: test keys accept any, and the page
/// must name exactly this one as its only possible parent.
const MERCHANT_ORIGIN: &str = "http://127.0.0.1:45173";

fn start(work: &tempfile::TempDir) -> Edge {
    Edge::start_plain(work.path()).unwrap_or_else(|e| panic!("edge did not start: {e}"))
}

fn session(edge: &Edge) -> String {
    edge.session("pk_test_demo", 12_999, MERCHANT_ORIGIN)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn get(edge: &Edge, path_and_query: &str) -> http::Reply {
    http::get(&format!("{}{path_and_query}", edge.url)).unwrap()
}

/// A session token signed with the local edge's own key (`.dev.vars`), as it would have been
/// an hour ago: expired by now.
fn expired_token() -> String {
    let vars = std::fs::read_to_string(paths::workspace_root().join(".dev.vars")).unwrap();
    let secret = vars
        .lines()
        .find_map(|line| line.strip_prefix("SESSION_KEYS="))
        .expect("SESSION_KEYS in .dev.vars")
        .trim_matches('"');
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    keyring_from_secret(secret).unwrap().sign(&SessionClaims {
        sid: "ses_expired".into(),
        mid: "m_nordic_outdoor".into(),
        key: "pk_test_demo".into(),
        org: MERCHANT_ORIGIN.into(),
        amt: MinorUnits(12_999),
        cur: Currency::parse("USD").unwrap(),
        iat: now - 3_600,
        exp: now - 1_800,
        sd: None,
    })
}

/// The page for a fresh session: HTML that only the session's origin may frame, its assets from
/// the same origin, its language from `locale`, and the approval route taking the page's own
/// origin, which is where the form is sent from.
#[test]
fn the_checkout_page_is_framable_by_the_session_origin_only() {
    let work = tempfile::tempdir().unwrap();
    let edge = start(&work);
    let token = session(&edge);

    let page = get(
        &edge,
        &format!("/v1/checkout?session={token}&plan=pay_in_4&locale=en-US"),
    );
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(
        page.header("content-security-policy"),
        Some(
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; \
             form-action 'none'; base-uri 'none'; frame-ancestors http://127.0.0.1:45173"
        )
    );
    assert_eq!(
        page.header("x-frame-options"),
        None,
        "the widget must be able to frame it"
    );
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("access-control-allow-origin"), None);
    for expected in [
        "<html lang=\"en-US\"".to_owned(),
        format!("data-parent-origin=\"{MERCHANT_ORIGIN}\""),
        format!("data-session-token=\"{token}\""),
        "data-plan=\"pay_in_4\"".to_owned(),
        "<h1 id=\"checkout-title\" tabindex=\"-1\">Your details for Pay in 4</h1>".to_owned(),
        "<option value=\"US\" selected>United States</option>".to_owned(),
        "We use these details only to decide on this request.".to_owned(),
        "<script src=\"/v1/checkout/checkout.js\" defer></script>".to_owned(),
        "<link rel=\"stylesheet\" href=\"/v1/checkout/checkout.css\">".to_owned(),
    ] {
        assert!(page.body.contains(&expected), "{expected} is missing:\n{}", page.body);
    }
    assert!(!page.body.contains("style="));

    // HEAD answers like GET, without a body.
    let head = http::request(
        "HEAD",
        &format!("{}/v1/checkout?session={token}&plan=pay_in_4", edge.url),
        &[],
        None,
    )
    .unwrap();
    assert_eq!(
        (head.status, head.header("x-frame-options"), head.body.as_str()),
        (200, None, "")
    );

    // The page's script and style: static assets from the page's own origin.
    let script = get(&edge, "/v1/checkout/checkout.js");
    assert_eq!(script.status, 200);
    assert!(
        script.header("content-type").is_some_and(|t| t.contains("javascript")),
        "{:?}",
        script.header("content-type")
    );
    assert!(script.body.starts_with("// The checkout page's script"));
    assert!(script.body.contains("'use strict';"));
    assert!(script.body.contains("postMessage"));
    assert_eq!(script.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(script.header("access-control-allow-origin"), None, "same-origin only");
    let style = get(&edge, "/v1/checkout/checkout.css");
    assert_eq!(style.status, 200);
    assert!(style.header("content-type").is_some_and(|t| t.starts_with("text/css")));
    assert!(style.body.contains("prefers-color-scheme: dark"));

    // In German: the labels, the title's plan name and the country follow the locale.
    let german = get(
        &edge,
        &format!("/v1/checkout?session={token}&plan=financing_12&locale=de-DE"),
    );
    assert_eq!(german.status, 200, "{}", german.body);
    for expected in [
        "<html lang=\"de-DE\"",
        "Ihre Angaben für Monatliche Finanzierung · 12 Monate",
        "<label for=\"email\">E-Mail-Adresse</label>",
        "<label for=\"date-of-birth\">Geburtsdatum</label>",
        "<label for=\"country\">Wohnsitzland</label>",
        "<label for=\"consent\">Ich akzeptiere die Bedingungen für Später bezahlen.</label>",
        "<option value=\"DE\" selected>Deutschland</option>",
        ">Anfrage senden</button>",
        "Wir verwenden diese Angaben nur, um über diese Anfrage zu entscheiden.",
    ] {
        assert!(
            german.body.contains(expected),
            "{expected} is missing:\n{}",
            german.body
        );
    }
    // Japanese has its own texts and its own country preselected.
    let japanese = get(
        &edge,
        &format!("/v1/checkout?session={token}&plan=pay_in_30&locale=ja-JP"),
    );
    assert_eq!(japanese.status, 200);
    for expected in [
        "<html lang=\"ja-JP\"",
        "<title>30日後払いのお客様情報</title>",
        "<label for=\"email\">メールアドレス</label>",
        "<option value=\"JP\" selected>日本</option>",
        ">申し込む</button>",
    ] {
        assert!(
            japanese.body.contains(expected),
            "{expected} is missing:\n{}",
            japanese.body
        );
    }
    // A language the catalog lacks falls back to US English.
    let fallback = get(
        &edge,
        &format!("/v1/checkout?session={token}&plan=pay_in_30&locale=pt-BR"),
    );
    assert_eq!(fallback.status, 200);
    assert!(fallback.body.contains("<html lang=\"en-US\""));

    // What the page's script does: POST the form from the edge's own origin with the session.
    std::thread::sleep(Duration::from_millis(3_100));
    let form = json!({
        "session_token": token, "plan_id": "pay_in_4",
        "customer": { "email": "checkout@example.com", "date_of_birth": "1990-05-17", "country": "US" },
        "consent": { "terms": true },
    })
    .to_string();
    let decided = http::request(
        "POST",
        &format!("{}/v1/approvals", edge.url),
        &[
            ("Origin", edge.url.as_str()),
            ("Content-Type", "application/json"),
            ("Idempotency-Key", "checkout-page-1"),
            ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0"),
        ],
        Some(&form),
    )
    .unwrap();
    assert_eq!(decided.status, 200, "{}", decided.body);
    assert_eq!(decided.json()["decision"], "approved", "{}", decided.body);
}

/// Bad, expired and missing sessions and malformed plans get the usual JSON errors, which
/// nobody may frame.
#[test]
fn bad_checkout_requests_get_their_codes() {
    let work = tempfile::tempdir().unwrap();
    let edge = start(&work);
    let token = session(&edge);
    let last = if token.ends_with('A') { "B" } else { "A" };
    let forged = format!("{}{last}", &token[..token.len() - 1]);
    let expired = expired_token();
    let long_plan = "p".repeat(41);
    let cases: Vec<(&str, String, u16, &str, Option<&str>)> = vec![
        (
            "no session",
            "/v1/checkout?plan=pay_in_4".into(),
            400,
            "missing_parameter",
            Some("session"),
        ),
        (
            "empty session",
            "/v1/checkout?session=&plan=pay_in_4".into(),
            400,
            "missing_parameter",
            Some("session"),
        ),
        (
            "no query",
            "/v1/checkout".into(),
            400,
            "missing_parameter",
            Some("session"),
        ),
        (
            "garbage session",
            "/v1/checkout?session=v1.nope&plan=pay_in_4".into(),
            401,
            "invalid_token",
            Some("session"),
        ),
        (
            "forged session",
            format!("/v1/checkout?session={forged}&plan=pay_in_4"),
            401,
            "invalid_token",
            Some("session"),
        ),
        (
            "expired session",
            format!("/v1/checkout?session={expired}&plan=pay_in_4"),
            401,
            "token_expired",
            Some("session"),
        ),
        (
            "no plan",
            format!("/v1/checkout?session={token}"),
            400,
            "missing_parameter",
            Some("plan"),
        ),
        (
            "plan with a dash",
            format!("/v1/checkout?session={token}&plan=pay-in-4"),
            400,
            "invalid_plan",
            Some("plan"),
        ),
        (
            "markup as plan",
            format!("/v1/checkout?session={token}&plan=%3Cb%3E"),
            400,
            "invalid_plan",
            Some("plan"),
        ),
        (
            "41-character plan",
            format!("/v1/checkout?session={token}&plan={long_plan}"),
            400,
            "invalid_plan",
            Some("plan"),
        ),
        (
            "unknown parameter",
            format!("/v1/checkout?session={token}&plan=pay_in_4&amount=1"),
            400,
            "unknown_parameter",
            Some("amount"),
        ),
        (
            "repeated session",
            format!("/v1/checkout?session={token}&session={token}&plan=pay_in_4"),
            400,
            "repeated_parameter",
            Some("session"),
        ),
    ];
    for (name, path, status, code, field) in cases {
        let reply = get(&edge, &path);
        let error = &reply.json()["error"];
        assert_eq!(
            (reply.status, error["code"].as_str(), error["field"].as_str()),
            (status, Some(code), field),
            "{name}: {}",
            reply.body
        );
        assert_eq!(
            reply.header("content-type"),
            Some("application/json; charset=utf-8"),
            "{name}"
        );
        assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{name}");
        assert_eq!(reply.header("content-security-policy"), None, "{name}");
    }
    let posted = http::request("POST", &format!("{}/v1/checkout", edge.url), &[], Some("")).unwrap();
    assert_eq!(
        (posted.status, posted.json()["error"]["code"].as_str()),
        (405, Some("method_not_allowed"))
    );
}
