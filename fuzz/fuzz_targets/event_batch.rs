//! Any body `POST /v1/events` might receive: never a panic, and every accepted event re-validates.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paylater_edge::event_batch::{validate_batch, validate_event};

const NOW_MS: i64 = 1_795_420_800_000;

fuzz_target!(|body: &[u8]| {
    if let Ok(batch) = validate_batch(body, NOW_MS) {
        for (_, event) in batch.accepted {
            let again = serde_json::to_value(&event).expect("events serialize");
            assert!(
                validate_event(again, NOW_MS).is_ok(),
                "an accepted event must stay valid"
            );
        }
    }
});
