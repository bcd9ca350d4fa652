//! The hot path of the domain core: computing schedules (every offers request). The edge's own
//! hot paths are in `edge/benches/requests.rs`. `cargo xtask bench` runs both.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use paylater_shared::{CivilDate, MinorUnits, PlanTerms};

fn schedules(c: &mut Criterion) {
    let start = CivilDate::parse("2027-01-31").unwrap_or_else(|e| panic!("{e}"));
    c.bench_function("schedule pay_in_4", |b| {
        b.iter(|| PlanTerms::PayIn4.schedule(black_box(MinorUnits(12_999)), start))
    });
    c.bench_function("schedule financing 24 months 19.99%", |b| {
        let terms = PlanTerms::Financing {
            months: 24,
            apr_bps: 1999,
        };
        b.iter(|| terms.schedule(black_box(MinorUnits(250_000)), start))
    });
}

criterion_group!(benches, schedules);
criterion_main!(benches);
