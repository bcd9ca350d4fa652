//! Anomaly detection end to end on `wrangler dev`, with two-second windows (the merchant
//! `pk_test_watch` judges rates from 5 decisions, counts from 5, after 8 windows): a steady
//! stretch of decisions (one in ten declined) produces no anomaly; then, in one window, a spike of
//! declines and a burst of forged session tokens from one network each produce an
//! `anomaly_detected` record at the sink, naming the metric, and `GET /v1/insights/anomalies`
//! lists them for that merchant's key only.

mod support;

use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use paylater_harness::edge::{Edge, EdgeOptions};
use paylater_harness::http;
use paylater_harness::sink::{OtlpSink, attribute};
use paylater_shared::CivilDate;
use serde_json::{Value, json};
use support::*;

const KEY: &str = "pk_test_watch";
const INSIGHTS_KEY: &str = "sk_test_watch.insights-local-only-8Rt3vQ6zLm2X";
const ORDERS_ONLY_KEY: &str = "sk_test_watch.orders-only-local-only-4Hy7pW2cNb9K";
const WINDOW: Duration = Duration::from_secs(2);
/// Steady windows before the spike: the warm-up (8) and a margin.
const STEADY_WINDOWS: u32 = 11;
const AMOUNT: u64 = 5_000;

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Sleeps until the next window begins (windows start at multiples of the window length).
fn wait_for_next_window() {
    let window = WINDOW.as_millis() as i64;
    let into = now_ms().rem_euclid(window);
    std::thread::sleep(Duration::from_millis((window - into + 20) as u64));
}

/// Shoppers asking for approval: each uses a session at least 3 s old (a younger one looks
/// automated), made from the address it applies from, and an e-mail of its own.
struct Shoppers<'a> {
    edge: &'a Edge,
    /// Names this group's e-mails and idempotency keys.
    group: &'static str,
    sessions: VecDeque<(Instant, String, String)>,
    made: usize,
}

impl<'a> Shoppers<'a> {
    fn new(edge: &'a Edge, group: &'static str) -> Self {
        Self {
            edge,
            group,
            sessions: VecDeque::new(),
            made: 0,
        }
    }

    fn open_session(&mut self, ip: &str) {
        let reply = session_from(self.edge, KEY, AMOUNT, ip);
        assert_eq!(reply.status, 201, "{}", reply.body);
        let token = reply.json()["session_token"].as_str().unwrap().to_owned();
        self.sessions.push_back((Instant::now(), token, ip.to_owned()));
    }

    /// One decision, if a session is old enough (an under-age applicant when `minor`); returns
    /// the outcome.
    fn decide(&mut self, minor: bool) -> Option<String> {
        let (opened, _, _) = self.sessions.front()?;
        if opened.elapsed() < Duration::from_millis(3_100) {
            return None;
        }
        let (_, token, ip) = self.sessions.pop_front()?;
        self.made += 1;
        let birth = if minor { "2015-01-01" } else { "1988-03-09" };
        let email = format!("{}{}@example.com", self.group, self.made);
        let body = approval_body(&token, "pay_in_4", &email, birth);
        let reply = post_approval_from(self.edge, &format!("{}-{}", self.group, self.made), &body, &ip);
        assert_eq!(reply.status, 200, "{}", reply.body);
        Some(reply.json()["decision"].as_str().unwrap().to_owned())
    }
}

/// `anomaly_detected` records at the sink for the watched merchant.
fn anomaly_records(sink: &OtlpSink) -> Vec<Value> {
    sink.records()
        .into_iter()
        .filter(|r| attribute(r, "event.name").as_deref() == Some("anomaly_detected"))
        .collect()
}

/// `GET /v1/insights/anomalies?{query}`, recorded for the OpenAPI check.
fn anomalies(edge: &Edge, key: &str, query: &str) -> http::Reply {
    server(
        edge,
        "GET",
        &format!("/v1/insights/anomalies?{query}"),
        Some(key),
        None,
        None,
    )
}

/// A batch of one `widget_error` event with `token`, from `ip`.
fn post_events(edge: &Edge, token: &str, ip: &str, n: usize) -> http::Reply {
    let event = json!({
        "id": format!("0190d2c4-6b7a-7cc2-9a1e-{n:012x}"), "name": "widget_error", "ts": now_ms(), "seq": 1,
        "props": { "code": "network_error" },
    });
    http::request(
        "POST",
        &format!("{}/v1/events", edge.url),
        &[
            ("Origin", ORIGIN),
            ("Content-Type", "application/json"),
            ("CF-Connecting-IP", ip),
        ],
        Some(&json!({ "session_token": token, "events": [event] }).to_string()),
    )
    .unwrap()
}

#[test]
fn a_steady_stretch_is_quiet_and_a_spike_of_declines_or_forged_tokens_is_flagged() {
    let work = tempfile::tempdir().unwrap();
    let sink = OtlpSink::start().unwrap();
    let edge = Edge::start(EdgeOptions {
        config_changes: Vec::new(),
        port: None,
        work_dir: work.path().to_owned(),
        vars: vec![
            ("LOG_SINK_URL".into(), sink.url.clone()),
            ("ANOMALY_WINDOW_SECONDS".into(), WINDOW.as_secs().to_string()),
            ("ANOMALY_GRACE_SECONDS".into(), "3".into()),
        ],
    })
    .unwrap_or_else(|e| panic!("edge did not start: {e}"));
    let mut steady = Shoppers::new(&edge, "steady");

    // Steady: about five decisions a second from many addresses, one in ten under age.
    let steady_until = Instant::now() + WINDOW * STEADY_WINDOWS + Duration::from_millis(3_100);
    let mut outcomes = Vec::new();
    let mut n = 0;
    while Instant::now() < steady_until {
        n += 1;
        steady.open_session(&format!("203.0.{}.{}", n % 200, 1 + n % 250));
        let minor = steady.made % 10 == 9;
        if let Some(outcome) = steady.decide(minor) {
            outcomes.push((minor, outcome));
        }
        std::thread::sleep(Duration::from_millis(120));
    }
    assert!(
        outcomes.len() >= 5 * STEADY_WINDOWS as usize,
        "{} decisions",
        outcomes.len()
    );
    let declined_minors = outcomes.iter().filter(|(minor, o)| *minor && o == "declined").count();
    let minors = outcomes.iter().filter(|(minor, _)| *minor).count();
    assert_eq!(declined_minors, minors, "{outcomes:?}");
    // Let the last steady windows close (window + grace) and their verdicts reach the sink.
    std::thread::sleep(WINDOW + Duration::from_secs(5));
    assert_eq!(anomaly_records(&sink), Vec::<Value>::new(), "a steady stretch is quiet");

    // Sessions for the spike, from one network, old enough by the time it starts; a token of
    // that merchant's with its signature changed.
    let mut spike = Shoppers::new(&edge, "spike");
    for i in 0..10 {
        spike.open_session(&format!("198.51.100.{}", 10 + i));
    }
    let valid = session_from(&edge, KEY, AMOUNT, "198.51.100.99").json()["session_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let last = if valid.ends_with('A') { "B" } else { "A" };
    let forged = format!("{}{last}", &valid[..valid.len() - 1]);
    std::thread::sleep(Duration::from_millis(3_200));
    wait_for_next_window();
    // One network, one window: ten decisions, nine declined, and thirty forged tokens beside.
    let spike_outcomes: Vec<String> = std::thread::scope(|scope| {
        scope.spawn(|| {
            for i in 0..30 {
                let reply = post_events(&edge, &forged, &format!("198.51.100.{}", 100 + i), i);
                assert_eq!(reply.status, 401, "{}", reply.body);
            }
        });
        (0..10).filter_map(|i| spike.decide(i != 0)).collect()
    });
    assert_eq!(
        spike_outcomes.iter().filter(|o| *o == "declined").count(),
        9,
        "{spike_outcomes:?}"
    );

    // Flagged by the time the next window has closed: window + grace, then the queue.
    let deadline = Instant::now() + Duration::from_secs(30);
    let found = loop {
        let found = anomaly_records(&sink);
        if found.len() >= 2 || Instant::now() > deadline {
            break found;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut metrics: Vec<String> = found.iter().filter_map(|r| attribute(r, "anomaly.metric")).collect();
    metrics.sort();
    assert_eq!(metrics, ["decline_rate", "refused_tokens"], "{found:#?}");
    for record in &found {
        assert_eq!(record["severityText"], "WARN");
        assert_eq!(attribute(record, "merchant.id").as_deref(), Some("m_watchful"));
    }
    let refused = found
        .iter()
        .find(|r| attribute(r, "anomaly.metric").as_deref() == Some("refused_tokens"))
        .unwrap();
    // All thirty, unless the burst ran into the next window on a busy machine.
    let volume = int_attribute(refused, "anomaly.volume").unwrap();
    assert!((20..=30).contains(&volume), "{volume} forged tokens in the window");

    // Listed for the merchant's key; refused without the scope; another merchant sees none.
    let today = CivilDate::from_unix_millis_utc(now_ms()).unwrap().to_string();
    let range = format!("from={today}&to={today}");
    let listed = anomalies(&edge, INSIGHTS_KEY, &range);
    assert_eq!(listed.status, 200, "{}", listed.body);
    let listed = listed.json();
    assert_eq!(listed["livemode"], false);
    let mut listed_metrics: Vec<&str> = listed["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["metric"].as_str().unwrap())
        .collect();
    listed_metrics.sort();
    assert_eq!(listed_metrics, ["decline_rate", "refused_tokens"]);
    let decline = &listed["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["metric"] == "decline_rate")
        .unwrap();
    // Nine of ten declined (or of the nine or eight that fell in the window).
    assert!(decline["observed"].as_f64().unwrap() >= 0.85, "{decline}");
    assert!(decline["expected"].as_f64().unwrap() < 0.35, "{decline}");
    assert!(decline["score"].as_f64().unwrap() >= 4.0, "{decline}");
    assert_eq!(
        error_code(&anomalies(&edge, ORDERS_ONLY_KEY, &range)),
        (403, "insufficient_scope".into())
    );
    assert_eq!(
        error_code(&anomalies(
            &edge,
            "sk_test_watch.revoked-local-only-000000000000000",
            &range
        )),
        (401, "invalid_key".into())
    );
    let other = anomalies(&edge, DEMO_KEY, &range);
    assert_eq!(other.status, 200, "{}", other.body);
    assert_eq!(
        other.json()["anomalies"],
        json!([]),
        "another merchant's watch is its own"
    );
    assert_eq!(
        error_code(&anomalies(&edge, INSIGHTS_KEY, "from=2026-01-01&to=2026-12-31")),
        (422, "invalid_range".into())
    );
    assert_eq!(
        error_code(&anomalies(&edge, INSIGHTS_KEY, "from=2026-01-01")),
        (400, "missing_parameter".into())
    );
    check_conformance(work.path(), "/v1/insights/anomalies");
}
