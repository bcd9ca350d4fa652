//! The audit trail on `wrangler dev` with 2-second digest periods, checked by the verifier's own
//! binary (`paylater-audit`, as an auditor runs it, through the edge's API): an untouched
//! archive verifies; a flipped byte, a deleted object and two swapped digests are each named;
//! the local R2 files hold no plain text; after a rotation of `ARCHIVE_KEYS` old and new
//! objects both export.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use paylater_harness::edge::{Edge, EdgeOptions, delete_r2_object, put_r2_object};
use paylater_harness::sink::attribute;
use paylater_shared::archive::Envelope;
use serde_json::Value;
use support::*;

const OLD_KEYS: &str = "audit-old:cGF5bGF0ZXItYXVkaXQtdGVzdC1vbGQtYXJjaGl2ZS1rZXktMDE";
const NEW_KEY: &str = "audit-new:cGF5bGF0ZXItYXVkaXQtdGVzdC1uZXctYXJjaGl2ZS1rZXktMDI";
const REFERENCE: &str = "R-AUDIT-7731";

fn start(work: &Path, archive_keys: &str) -> Edge {
    Edge::start(EdgeOptions {
        config_changes: Vec::new(),
        port: None,
        work_dir: work.to_owned(),
        vars: vec![
            ("DIGEST_PERIOD_SECONDS".into(), "2".into()),
            ("DIGEST_SETTLE_SECONDS".into(), "1".into()),
            ("ARCHIVE_KEYS".into(), archive_keys.into()),
        ],
    })
    .unwrap()
}

fn event_id(n: usize) -> String {
    format!("0190d2c4-0a7e-7cc2-9a1e-a0d17{n:07x}")
}

fn verify(edge: &Edge) -> (i32, String) {
    verify_trail(edge, DEMO_KEY)
}

/// `paylater-audit export` of yesterday and today with the archive keyring `keys`.
fn export(edge: &Edge, keys: &str) -> (i32, String) {
    let (from, to) = (utc_day(-1), utc_day(0));
    audit(&[
        "export",
        "--edge",
        &edge.url,
        "--key",
        DEMO_KEY,
        "--from",
        &from,
        "--to",
        &to,
        "--archive-keys",
        keys,
    ])
}

/// Every file under the local R2 store.
fn r2_files(edge: &Edge) -> Vec<PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, found);
            } else {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(&edge.state_dir.join("v3/r2"), &mut found);
    found
}

/// The blob file R2 keeps an object's bytes in (the only file holding exactly those bytes).
fn blob_of(edge: &Edge, bytes: &[u8]) -> PathBuf {
    r2_files(edge)
        .into_iter()
        .find(|path| std::fs::read(path).is_ok_and(|b| b == bytes))
        .expect("the object's blob")
}

/// The demo merchant's test-mode archive objects as stored, in key order.
fn demo_objects(edge: &Edge) -> Vec<(String, Vec<u8>)> {
    let mut objects: Vec<(String, Vec<u8>)> = stored_objects(edge)
        .into_iter()
        .filter(|(key, _)| key.starts_with("logs/v1/m_nordic_outdoor/") && key.contains("/test-"))
        .collect();
    objects.sort();
    objects
}

#[test]
fn the_trail_verifies_names_every_tampering_and_holds_no_plain_text() {
    let work = tempfile::tempdir().unwrap();
    let mut edge = start(work.path(), OLD_KEYS);
    let token = session(&edge, "pk_test_demo", 12_999);
    let posted = post_viewed(&edge, &token, 0..6, event_id);
    assert_eq!(posted.status, 202, "{}", posted.body);
    // A session as old as a shopper's by the time they submit the form.
    let_sessions_age();
    let approved = approve(&edge, &token, "audit.shopper@example.com", "audit-approval-1");
    let order = create_order(&edge, DEMO_KEY, &approval_token(&approved), REFERENCE);
    assert_eq!(order.status, 201, "{}", order.body);
    wait_until("the records in the archive", Duration::from_secs(60), || {
        let text = serde_json::to_string(&archived_records_with(&edge, OLD_KEYS)).unwrap();
        (0..6).all(|n| text.contains(&event_id(n))) && text.contains(REFERENCE)
    });

    // At rest: neither an event id nor the merchant reference in any file of the local R2.
    let files = r2_files(&edge);
    assert!(files.len() > 6, "{files:?}");
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        for needle in [event_id(0).as_str(), REFERENCE] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle} in plain text in {}",
                path.display()
            );
        }
    }

    // Untouched: verified, with what was checked.
    seal(&edge);
    seal(&edge);
    let (code, out) = verify(&edge);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("m_nordic_outdoor test VERIFIED: checked "), "{out}");
    let (digests, objects) = checked_counts(&out);
    assert!(digests >= 3, "{out}");
    // Every object stored before the last seal is in a digest: the 6 events (one request, one
    // object), the decision, the order, the key uses.
    assert!(objects >= 4, "{out}");

    // The export (with the keyring, as an operator) holds every record.
    let (yesterday, today) = (utc_day(-1), utc_day(0));
    let (code, exported) = export(&edge, OLD_KEYS);
    assert_eq!(code, 0, "{exported}");
    assert!((0..6).all(|n| exported.contains(&event_id(n))) && exported.contains(REFERENCE));

    // The audit routes answer the key's own merchant and mode only, with their scope.
    let range = format!("from={yesterday}&to={today}");
    let get = |path: &str, key: &str| server(&edge, "GET", path, Some(key), None, None);
    let digest_list = get(&format!("/v1/audit/digests?{range}"), DEMO_KEY);
    assert_eq!(digest_list.status, 200, "{}", digest_list.body);
    let first_digest = digest_list.json()["digests"][0]["key"].as_str().unwrap().to_owned();
    assert!(
        first_digest.starts_with("audit/v1/m_nordic_outdoor/test/"),
        "{first_digest}"
    );
    let fetched = get(&format!("/v1/audit/objects/{first_digest}"), DEMO_KEY);
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json()["body"]["merchant_id"], "m_nordic_outdoor");
    let listed = get(&format!("/v1/audit/objects?{range}"), DEMO_KEY);
    // The events' object, the decision's, the order's and the key uses'. The request's six
    // events are one object, and it is listed.
    assert!(
        listed.json()["objects"].as_array().unwrap().len() >= 4,
        "{}",
        listed.body
    );
    let events_object: Vec<String> = archived_objects_with(&edge, OLD_KEYS)
        .into_iter()
        .filter_map(|(key, records)| {
            let ids: Vec<String> = records.iter().filter_map(|r| attribute(r, "event.id")).collect();
            ids.contains(&event_id(0)).then(|| {
                assert_eq!(ids, (0..6).map(event_id).collect::<Vec<_>>(), "{key}");
                key
            })
        })
        .collect();
    assert_eq!(events_object.len(), 1, "{events_object:?}");
    assert!(listed.body.contains(&events_object[0]), "{}", listed.body);
    // Objects that exist, of the live mode, of another merchant, and a parked letter: none is
    // served to the demo's test key; the other merchant's is served to its own.
    assert_eq!(
        get("/v1/orders/ord_live_0190d2c46b7a7cc29a1e3f6b2a9d4e10", DEMO_LIVE_KEY).status,
        404
    );
    assert_eq!(get(&format!("/v1/audit/objects?{range}"), SHORTLIFE_KEY).status, 200);
    let letter_key = paylater_edge::forward::dead_letter_key("audit-letter", "{}");
    let letter = work.path().join("letter");
    std::fs::write(&letter, paylater_harness::letters::seal(&letter_key, "{}")).unwrap();
    put_r2_object(
        &edge.state_dir,
        work.path(),
        &format!("paylater-archive/{letter_key}"),
        &letter,
    )
    .unwrap();
    let mut stored: Vec<String> = Vec::new();
    wait_until("a live and another merchant's object", Duration::from_secs(60), || {
        stored = stored_objects(&edge).into_keys().collect();
        let live = stored
            .iter()
            .any(|k| k.starts_with("logs/v1/m_nordic_outdoor/") && k.contains("/live-"));
        let other = stored.iter().any(|k| k.starts_with("logs/v1/m_short_windows/"));
        live && other
    });
    let live_object = stored
        .iter()
        .find(|k| k.starts_with("logs/v1/m_nordic_outdoor/") && k.contains("/live-"))
        .unwrap();
    let other_object = stored
        .iter()
        .find(|k| k.starts_with("logs/v1/m_short_windows/"))
        .unwrap();
    // Its own merchant's key lists it (a binary object: the verifier fetches those).
    let own_listing = get(&format!("/v1/audit/objects?{range}"), SHORTLIFE_KEY);
    assert!(own_listing.body.contains(other_object.as_str()), "{}", own_listing.body);
    let refusals = [
        (
            DEMO_READONLY_KEY,
            format!("/v1/audit/digests?{range}"),
            (403, "insufficient_scope"),
        ),
        (
            "sk_test_demo.local-dev-only-4bXq9TzR7wLmN2pVc8sKd3Fx",
            format!("/v1/audit/objects?{range}"),
            (401, "invalid_key"),
        ),
        (
            DEMO_KEY,
            format!("/v1/audit/objects?from={today}&to=2020-01-01"),
            (422, "invalid_range"),
        ),
        (DEMO_KEY, format!("/v1/audit/objects/{live_object}"), (404, "not_found")),
        (
            DEMO_KEY,
            format!("/v1/audit/objects/{other_object}"),
            (404, "not_found"),
        ),
        (DEMO_KEY, format!("/v1/audit/objects/{letter_key}"), (404, "not_found")),
        (
            SHORTLIFE_KEY,
            format!("/v1/audit/objects/{first_digest}"),
            (404, "not_found"),
        ),
    ];
    for (key, path, (status, code)) in refusals {
        let reply = get(&path, key);
        assert_eq!(error_code(&reply), (status, code.to_owned()), "{path}: {}", reply.body);
    }
    // Another merchant's key lists its own archive: none of the demo's objects.
    let other = get(&format!("/v1/audit/objects?{range}"), SHORTLIFE_KEY);
    assert!(
        other.json()["objects"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["key"].as_str().unwrap().starts_with("logs/v1/m_short_windows/")),
        "{}",
        other.body
    );
    check_conformance(work.path(), "/v1/audit");

    // A rotation: the new key first, the old one kept. Old and new objects both export.
    edge.stop();
    let rotated = format!("{NEW_KEY},{OLD_KEYS}");
    let edge = start(work.path(), &rotated);
    let old_objects = demo_objects(&edge);
    let posted = post_viewed(&edge, &session(&edge, "pk_test_demo", 12_999), 100..102, event_id);
    assert_eq!(posted.status, 202, "{}", posted.body);
    wait_until("the new records in the archive", Duration::from_secs(60), || {
        let text = serde_json::to_string(&archived_records_with(&edge, &rotated)).unwrap();
        text.contains(&event_id(100)) && text.contains(&event_id(101))
    });
    let kids: std::collections::BTreeSet<String> = demo_objects(&edge)
        .iter()
        .map(|(_, bytes)| Envelope::read(bytes).unwrap().kid.to_owned())
        .collect();
    assert_eq!(kids, ["audit-new".to_owned(), "audit-old".to_owned()].into());
    let (code, exported) = export(&edge, &rotated);
    assert_eq!(code, 0, "{exported}");
    assert!(exported.contains(&event_id(0)) && exported.contains(&event_id(101)) && exported.contains(REFERENCE));
    // The old keyring alone cannot open the new objects, and says so.
    let (code, partial) = export(&edge, OLD_KEYS);
    assert_eq!(code, 1, "{partial}");
    assert!(partial.contains("audit-new"), "{partial}");
    seal(&edge);
    let (code, out) = verify(&edge);
    assert_eq!(code, 0, "after the rotation: {out}");

    // One flipped byte in one object: named as altered, and the verifier fails.
    let (altered_key, altered_bytes) = old_objects[0].clone();
    let blob = blob_of(&edge, &altered_bytes);
    let mut flipped = altered_bytes.clone();
    let at = flipped.len() / 2;
    flipped[at] ^= 0x20;
    std::fs::write(&blob, &flipped).unwrap();
    seal(&edge);
    let (code, out) = verify(&edge);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("ALTERED object {altered_key}")), "{out}");
    std::fs::write(&blob, &altered_bytes).unwrap();
    seal(&edge);
    let (code, out) = verify(&edge);
    assert_eq!(code, 0, "restored: {out}");

    // One object deleted: named as missing.
    let (deleted_key, _) = old_objects[1].clone();
    delete_r2_object(&edge.state_dir, work.path(), &format!("paylater-archive/{deleted_key}")).unwrap();
    seal(&edge);
    let (code, out) = verify(&edge);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("MISSING object {deleted_key}")), "{out}");

    // Two digests swapped: each named out of place. As anyone with write access to the bucket
    // would: each put under the other's key.
    let digests = demo_digests(&edge);
    assert!(digests.len() >= 3, "{}", digests.len());
    let (first, second) = (&digests[0], &digests[1]);
    for ((key, _), (_, bytes)) in [(first, second), (second, first)] {
        let file = work.path().join("swapped.json");
        std::fs::write(&file, bytes).unwrap();
        put_r2_object(&edge.state_dir, work.path(), &format!("paylater-archive/{key}"), &file).unwrap();
    }
    seal(&edge);
    let (code, out) = verify(&edge);
    assert_eq!(code, 1, "{out}");
    for (key, _) in [first, second] {
        assert!(out.contains(&format!("OUT OF PLACE digest {key}")), "{key}: {out}");
    }

    // The newest digests deleted (the last 20 seconds of the chain): the chain is cut short.
    std::thread::sleep(Duration::from_secs(3));
    let newest_start = |key: &str| -> i64 {
        key.rsplit('/')
            .next()
            .unwrap()
            .trim_end_matches(".json")
            .parse()
            .unwrap()
    };
    let cutoff = now_ms().div_euclid(1000) - 20;
    for (key, _) in demo_digests(&edge)
        .iter()
        .filter(|(key, _)| newest_start(key) >= cutoff)
    {
        delete_r2_object(&edge.state_dir, work.path(), &format!("paylater-archive/{key}")).unwrap();
    }
    let (code, out) = verify(&edge);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("TRUNCATED chain"), "{out}");
}

/// The demo merchant's test-mode digests as stored, in key (time) order.
fn demo_digests(edge: &Edge) -> Vec<(String, Vec<u8>)> {
    let mut all: Vec<(String, Vec<u8>)> = stored_objects(edge)
        .into_iter()
        .filter(|(key, _)| key.starts_with("audit/v1/m_nordic_outdoor/test/"))
        .collect();
    all.sort();
    all
}

/// Each archive object's LogRecords, opened with `keys` (a rotated keyring).
fn archived_objects_with(edge: &Edge, keys: &str) -> Vec<(String, Vec<Value>)> {
    let keyring = paylater_shared::archive::ArchiveKeyring::parse(keys).unwrap();
    demo_objects(edge)
        .into_iter()
        .map(|(key, sealed)| {
            let scope = paylater_shared::archive::Scope::Merchant {
                merchant_id: "m_nordic_outdoor",
                livemode: false,
            };
            let plain = keyring.open(scope, &key, &sealed).unwrap();
            let records = String::from_utf8(plain)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .collect();
            (key, records)
        })
        .collect()
}

/// Every LogRecord of the archive opened with `keys` (a rotated keyring).
fn archived_records_with(edge: &Edge, keys: &str) -> Vec<Value> {
    archived_objects_with(edge, keys)
        .into_iter()
        .flat_map(|(_, records)| records)
        .collect()
}
