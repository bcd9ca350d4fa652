//! The edge's hot paths: all of a merchant's offers (every offers request) and validating a full
//! 100-event telemetry batch (every `POST /v1/events`). `cargo xtask bench` runs this.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use paylater_edge::event_batch::validate_batch;
use paylater_edge::merchant::MerchantConfig;
use paylater_shared::{CivilDate, Currency, MinorUnits};
use serde_json::json;

const NOW_MS: i64 = 1_795_420_800_000;

fn offers(c: &mut Criterion) {
    let start = CivilDate::parse("2027-01-31").unwrap_or_else(|e| panic!("{e}"));
    let demo = MerchantConfig::from_json(include_str!("../../seed/merchants/pk_test_demo.json"))
        .unwrap_or_else(|e| panic!("{e}"));
    let eur = Currency::parse("EUR").unwrap_or_else(|e| panic!("{e}"));
    c.bench_function("all demo offers for 1000.00 EUR (5 plans)", |b| {
        b.iter(|| demo.offers(black_box(MinorUnits(100_000)), eur, start))
    });
}

fn batch_validation(c: &mut Criterion) {
    let events: Vec<_> = (0..100u32)
        .map(|i| {
            json!({
                "id": format!("0190d2c4-6b7a-7cc2-9a1e-{:012x}", i + 1),
                "name": "plan_selected",
                "ts": NOW_MS - 1_000,
                "seq": i,
                "props": { "plan_id": "pay_in_4" }
            })
        })
        .collect();
    let body = serde_json::to_vec(&json!({ "session_token": "v1.k1.payload.mac", "events": events }))
        .unwrap_or_else(|e| panic!("{e}"));
    c.bench_function("validate 100-event batch", |b| {
        b.iter(|| validate_batch(black_box(&body), NOW_MS))
    });
}

criterion_group!(benches, offers, batch_validation);
criterion_main!(benches);
