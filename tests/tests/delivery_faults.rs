//! The delivery paths that only fail on a bad day, on `wrangler dev`: a queue hand-off that
//! fails (the events route answers so the client retries, and marks no id seen); a consumer
//! that fails after archiving (its D1 batch refused) and a record delivered twice: each id is
//! archived once and reaches the sink at least once; and retries that run out (a config of
//! three deliveries): the letters parked, sealed, and sent back by the cron's probe.

mod support;

use std::time::Duration;

use paylater_harness::edge::{Edge, EdgeOptions, execute_sql};
use paylater_harness::http;
use paylater_harness::sink::{OtlpSink, attribute};
use serde_json::json;
use support::*;

fn event_id(n: usize) -> String {
    format!("0190d2c4-0a7e-7cc2-9a1e-f4017{n:07x}")
}

#[test]
fn a_failed_hand_off_is_answered_retryable_and_marks_no_id_seen() {
    let work = tempfile::tempdir().unwrap();
    let options = |config_changes| EdgeOptions {
        config_changes,
        port: None,
        work_dir: work.path().to_owned(),
        vars: Vec::new(),
    };
    let mut edge = Edge::start(options(vec![(
        "binding = \"EVENTS\"\n".into(),
        "binding = \"EVENTS_WITHHELD_BY_THE_TEST\"\n".into(),
    )]))
    .unwrap();
    let token = session(&edge, "pk_test_demo", 12_999);
    for attempt in 0..2 {
        let reply = post_viewed(&edge, &token, 0..3, event_id);
        assert_eq!(
            error_code(&reply),
            (503, "enqueue_failed".into()),
            "attempt {attempt}: {}",
            reply.body
        );
        assert_eq!(reply.header("retry-after"), Some("1"), "the client is told to retry");
    }
    // The same state, the queue back: the ids were never marked seen, so all three are accepted.
    edge.stop();
    let edge = Edge::start(options(Vec::new())).unwrap();
    let reply = post_viewed(&edge, &token, 0..3, event_id);
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(
        (reply.json()["accepted"].clone(), reply.json()["duplicates"].clone()),
        (json!(3), json!(0))
    );
    wait_until("the three in the archive", Duration::from_secs(60), || {
        let ids: Vec<String> = archived_records(&edge)
            .iter()
            .filter_map(|r| attribute(r, "event.id"))
            .collect();
        (0..3).all(|n| ids.contains(&event_id(n)))
    });
}

#[test]
fn a_consumer_failing_after_archiving_and_a_duplicate_leave_each_id_archived_once() {
    let work = tempfile::tempdir().unwrap();
    let sink = OtlpSink::start().unwrap();
    let edge = Edge::start(EdgeOptions {
        config_changes: Vec::new(),
        port: None,
        work_dir: work.path().to_owned(),
        vars: vec![
            ("LOG_SINK_URL".into(), sink.url.clone()),
            ("RETRY_BASE_SECONDS".into(), "1".into()),
            ("RETRY_MAX_SECONDS".into(), "2".into()),
            ("DIGEST_PERIOD_SECONDS".into(), "2".into()),
            ("DIGEST_SETTLE_SECONDS".into(), "1".into()),
        ],
    })
    .unwrap();
    // The audit index taken away: each batch archives, then its D1 batch fails, and it comes again.
    execute_sql(
        &edge.state_dir,
        work.path(),
        "ALTER TABLE audit_objects RENAME TO audit_objects_away",
    )
    .unwrap();
    let token = session(&edge, "pk_test_demo", 12_999);
    assert_eq!(post_viewed(&edge, &token, 0..5, event_id).status, 202);
    wait_until(
        "a batch archived, failed and found archived again",
        Duration::from_secs(60),
        || {
            let log = edge.log_text();
            log.contains("\"kind\":\"ledger_failed\"") && log.contains("\"kind\":\"already_archived\"")
        },
    );
    assert!(sink.event_ids().is_empty(), "nothing sent before the batch is stored");
    // What the first attempt stored, byte for byte: no later attempt may write it again.
    // The request's five events are one message, so one object.
    let first_stored = archive_bytes(&edge);
    assert_eq!(first_stored.len(), 1, "{:?}", first_stored.keys());
    execute_sql(
        &edge.state_dir,
        work.path(),
        "ALTER TABLE audit_objects_away RENAME TO audit_objects",
    )
    .unwrap();
    let expected: Vec<String> = (0..5).map(event_id).collect();
    wait_until("every event at the sink", Duration::from_secs(60), || {
        let at_sink = sink.event_ids();
        expected.iter().all(|id| at_sink.contains(id))
    });

    // A record delivered twice more (a producer's retry, an operator's replay): parked and replayed.
    let message = json!({
        "event": { "id": event_id(100), "name": "widget_viewed", "ts": now_ms() - 60_000, "seq": 1, "props": {} },
        "session": { "session_id": "ses_twice", "merchant_id": "m_nordic_outdoor", "amount_minor": 12_999,
            "currency": "USD", "issued_at_s": now_ms() / 1000 - 120, "livemode": false },
        "request": { "observed_ms": now_ms() - 60_000, "network": "198.51.100.0", "country": null, "asn": null,
            "ua_class": "desktop", "ip_velocity": false },
        "seq_gap": 0,
        "risk_flags": [],
    })
    .to_string();
    redeliver(&edge, work.path(), "twice-1", &message);
    wait_until("the record at the sink", Duration::from_secs(60), || {
        sink.event_ids().contains(&event_id(100))
    });
    let before_duplicate = archive_bytes(&edge);
    redeliver(&edge, work.path(), "twice-2", &message);
    wait_until("the duplicate at the sink, twice", Duration::from_secs(60), || {
        sink.event_ids().iter().filter(|id| **id == event_id(100)).count() >= 2
    });
    let after = archive_bytes(&edge);
    for (key, bytes) in first_stored.iter().chain(&before_duplicate) {
        assert_eq!(after.get(key), Some(bytes), "{key}: stored once, never rewritten");
    }

    let archived: Vec<String> = archived_records(&edge)
        .iter()
        .filter_map(|r| attribute(r, "event.id"))
        .collect();
    for id in expected.iter().chain([&event_id(100)]) {
        assert_eq!(archived.iter().filter(|a| *a == id).count(), 1, "{id} archived once");
    }

    // The index kept up through the failure: every object is in a signed digest.
    seal(&edge);
    let (code, out) = verify_trail(&edge, DEMO_KEY);
    assert_eq!(code, 0, "{out}");
    // At least the request's object and the record delivered twice.
    assert!(checked_counts(&out).1 >= 2, "{out}");
}

/// The demo merchant's archive objects as stored: key → bytes.
fn archive_bytes(edge: &Edge) -> std::collections::BTreeMap<String, Vec<u8>> {
    stored_objects(edge)
        .into_iter()
        .filter(|(key, _)| key.starts_with("logs/v1/m_nordic_outdoor/"))
        .collect()
}

#[test]
fn retries_that_run_out_park_letters_the_probe_sends_back_once_the_sink_answers() {
    let work = tempfile::tempdir().unwrap();
    let sink = OtlpSink::start().unwrap();
    sink.fail_with(503);
    // Three deliveries a message instead of 41, a second apart: the same path, in seconds.
    let edge = Edge::start(EdgeOptions {
        config_changes: vec![("max_retries = 40\n".into(), "max_retries = 2\n".into())],
        port: None,
        work_dir: work.path().to_owned(),
        vars: vec![
            ("LOG_SINK_URL".into(), sink.url.clone()),
            ("RETRY_BASE_SECONDS".into(), "1".into()),
            ("RETRY_MAX_SECONDS".into(), "2".into()),
        ],
    })
    .unwrap();
    let token = session(&edge, "pk_test_demo", 12_999);
    assert_eq!(post_viewed(&edge, &token, 200..203, event_id).status, 202);
    let expected: Vec<String> = (200..203).map(event_id).collect();
    let parked = |edge: &Edge| -> Vec<(String, Vec<u8>)> {
        stored_objects(edge)
            .into_iter()
            .filter(|(key, _)| key.starts_with("dead-letter/events/m_nordic_outdoor/test/"))
            .collect()
    };
    // The request's three events ride one message, so their retries run out as one letter.
    wait_until(
        "the request's message parked after its retries ran out",
        Duration::from_secs(90),
        || parked(&edge).len() == 1,
    );
    assert!(sink.event_ids().is_empty(), "nothing delivered while the sink is down");
    // The parked letter, opened, is the accepted events, each byte for byte as the session
    // object queued it (sealed at rest: no id is in the stored bytes).
    let mut ids: Vec<String> = parked(&edge)
        .iter()
        .flat_map(|(key, sealed)| {
            assert!(!String::from_utf8_lossy(sealed).contains("0190d2c4"), "{key} sealed");
            let text = paylater_harness::letters::open(key, sealed).unwrap();
            let events: Vec<paylater_edge::ingest::QueuedEvent> = serde_json::from_str(&text).unwrap();
            let texts: Vec<String> = events.iter().map(|e| serde_json::to_string(e).unwrap()).collect();
            assert_eq!(format!("[{}]", texts.join(",")), text, "the producer's bytes");
            events.into_iter().map(|e| e.event.id).collect::<Vec<_>>()
        })
        .collect();
    ids.sort();
    assert_eq!(ids, expected);

    // The sink answers again: the cron's probe sends them back by itself, and they are delivered.
    sink.recover();
    let probe = http::get(&format!("{}/__scheduled?cron=*/5+*+*+*+*", edge.url)).unwrap();
    assert_eq!(probe.status, 200, "{}", probe.body);
    wait_until("every event at the sink", Duration::from_secs(60), || {
        let at_sink = sink.event_ids();
        expected.iter().all(|id| at_sink.contains(id))
    });
    wait_until("no letter left parked", Duration::from_secs(30), || {
        parked(&edge).is_empty()
    });
    let archived: Vec<String> = archived_records(&edge)
        .iter()
        .filter_map(|r| attribute(r, "event.id"))
        .collect();
    for id in &expected {
        assert_eq!(archived.iter().filter(|a| *a == id).count(), 1, "{id} archived once");
    }
}
