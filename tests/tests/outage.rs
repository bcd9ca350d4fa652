//! Delivery through a log sink outage with no one at the keyboard, on `wrangler dev` with the
//! retry schedule shortened by config (first wait 1 s, longest 3 s): events accepted while the
//! sink is down all reach it once it is back, with no replay run, each printed to the console
//! once (not once per attempt); a letter parked after its retries ran out goes back by itself
//! when the cron probe finds the sink answering, while a record the sink refused stays parked.

mod support;

use std::time::Duration;

use paylater_harness::edge::{Edge, EdgeOptions, put_r2_object};
use paylater_harness::http;
use paylater_harness::sink::{OtlpSink, attribute};
use serde_json::{Value, json};
use support::*;

fn event_id(n: usize) -> String {
    format!("0190d2c4-0a7e-7cc2-9a1e-{n:012x}")
}

/// How many console copies (`"kind":"log_record"`) the edge printed of the record `id`.
fn console_copies(edge: &Edge, id: &str) -> usize {
    edge.log_text()
        .lines()
        .filter(|line| line.contains("\"kind\":\"log_record\"") && line.contains(id))
        .count()
}

#[test]
fn an_outage_ends_with_every_event_delivered_and_no_one_replaying() {
    let work = tempfile::tempdir().unwrap();
    let sink = OtlpSink::start().unwrap();
    sink.fail_with(503);
    let edge = Edge::start(EdgeOptions {
        config_changes: Vec::new(),
        port: None,
        work_dir: work.path().to_owned(),
        vars: vec![
            ("LOG_SINK_URL".into(), sink.url.clone()),
            ("RETRY_BASE_SECONDS".into(), "1".into()),
            ("RETRY_MAX_SECONDS".into(), "3".into()),
        ],
    })
    .unwrap_or_else(|e| panic!("edge did not start: {e}"));
    let token = session(&edge, "pk_test_demo", 12_999);
    for range in [0..10, 10..20] {
        let reply = post_viewed(&edge, &token, range, event_id);
        assert_eq!(reply.status, 202, "{}", reply.body);
    }

    // Down for 20 s: many times the schedule's first waits (1, 2, 3, 3, … s).
    wait_until("the sink to refuse several deliveries", Duration::from_secs(30), || {
        sink.refusals() >= 5
    });
    std::thread::sleep(Duration::from_secs(20));
    assert!(sink.event_ids().is_empty());
    assert!(
        !edge.log_text().contains("dead_letter"),
        "nothing parked during the outage"
    );
    assert_eq!(console_copies(&edge, &event_id(0)), 0, "not printed while undelivered");

    // A letter parked after its retries ran out (as the dead-letter consumer parks it), and a
    // record the sink refused for good (as the consumer parks those).
    let parked = |n: usize, key_of: fn(&str, &str) -> String| {
        let event =
            json!({ "id": event_id(n), "name": "widget_viewed", "ts": now_ms() - 50, "seq": n + 1, "props": {} });
        let message = json!({
            "event": event,
            "session": { "session_id": "ses_outage", "merchant_id": "m_nordic_outdoor", "amount_minor": 12_999,
                "currency": "USD", "issued_at_s": now_ms() / 1000 - 60, "livemode": false },
            "request": { "observed_ms": now_ms(), "network": "198.51.100.0", "country": null, "asn": null,
                "ua_class": "desktop", "ip_velocity": false },
            "seq_gap": 0,
            "risk_flags": [],
        })
        .to_string();
        let key = key_of(&format!("parked-{n}"), &message);
        let file = work.path().join(format!("parked-{n}.letter"));
        std::fs::write(&file, paylater_harness::letters::seal(&key, &message)).unwrap();
        put_r2_object(&edge.state_dir, work.path(), &format!("paylater-archive/{key}"), &file).unwrap();
        key
    };
    let exhausted_key = parked(100, paylater_edge::forward::dead_letter_key);
    let refused_key = parked(101, paylater_edge::forward::refused_letter_key);
    let stored_keys = || -> Vec<String> {
        let archive = python(
            "read_local_r2.py",
            &[&edge.state_dir, std::path::Path::new("paylater-archive")],
            None,
        );
        archive.as_object().unwrap().keys().cloned().collect()
    };
    let run_probe = || {
        let probe = http::get(&format!("{}/__scheduled?cron=*/5+*+*+*+*", edge.url)).unwrap();
        assert_eq!(probe.status, 200, "{}", probe.body);
    };

    // The probe while the sink is still down: it asks, gets no answer, sends nothing back.
    run_probe();
    wait_until("the probe's report while down", Duration::from_secs(10), || {
        !probe_reports(&edge).is_empty()
    });
    assert_eq!(probe_reports(&edge)[0]["answered"], false);
    assert!(
        stored_keys().contains(&exhausted_key),
        "still parked while the sink is down"
    );

    sink.recover();
    let expected: Vec<String> = (0..20).map(event_id).collect();
    wait_until(
        "every event at the sink after recovery",
        Duration::from_secs(30),
        || {
            let at_sink = sink.event_ids();
            expected.iter().all(|id| at_sink.contains(id))
        },
    );
    // One console copy each, printed once delivered, and still one a while later.
    wait_until("a console copy of every event", Duration::from_secs(10), || {
        expected.iter().all(|id| console_copies(&edge, id) >= 1)
    });
    std::thread::sleep(Duration::from_secs(3));
    for id in &expected {
        assert_eq!(
            console_copies(&edge, id),
            1,
            "{id}: one console copy, not one per attempt"
        );
    }

    // Every attempt after the first found its batch archived already: each id is in the archive
    // once, however many times the consumer ran it.
    assert!(edge.log_text().contains("\"kind\":\"already_archived\""));
    let archived: Vec<String> = archived_records(&edge)
        .iter()
        .filter_map(|r| attribute(r, "event.id"))
        .collect();
    for id in &expected {
        assert_eq!(archived.iter().filter(|a| *a == id).count(), 1, "{id} archived once");
    }

    // The sink answers again: the probe sends back the letter whose retries ran out, by itself,
    // and never lists the refused record.
    run_probe();
    wait_until(
        "the parked letter at the sink, sent back by the probe",
        Duration::from_secs(30),
        || sink.event_ids().contains(&event_id(100)),
    );
    wait_until("the probe's second report", Duration::from_secs(10), || {
        probe_reports(&edge).len() >= 2
    });
    let report = &probe_reports(&edge)[1];
    assert_eq!(
        (report["answered"].clone(), report["replayed"].clone()),
        (json!(true), json!(1)),
        "{report}"
    );
    assert!(
        !sink.event_ids().contains(&event_id(101)),
        "a refused record stays parked"
    );
    let stored = stored_keys();
    assert!(stored.contains(&refused_key), "{refused_key} still parked");
    assert!(
        !stored.contains(&exhausted_key),
        "{exhausted_key} deleted once the queue took it"
    );
    let delivered = sink
        .records()
        .into_iter()
        .filter(|r| attribute(r, "event.id").as_deref() == Some(event_id(100).as_str()))
        .count();
    assert_eq!(delivered, 1);
}

/// The cron probe's reports (`"kind":"sink_probe"` log lines), in order.
fn probe_reports(edge: &Edge) -> Vec<Value> {
    edge.log_text()
        .lines()
        .filter(|line| line.contains("\"kind\":\"sink_probe\""))
        .filter_map(|line| {
            line.find('{')
                .and_then(|start| serde_json::from_str(&line[start..]).ok())
        })
        .collect()
}
