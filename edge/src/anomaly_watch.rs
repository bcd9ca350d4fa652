//! `AnomalyWatch`: one Durable Object per merchant and mode (named `{merchant_id}:{mode}`). It
//! counts what the queue consumer and refused requests report into windows, closes each window
//! after its grace period, judges it with `crate::anomaly`, and sends each anomaly to the events
//! queue as an `anomaly_detected` record, so it reaches the archive and the sink like any other
//! record.
//!
//! The consumer's reports close windows by the records' own time (the edge's clock when each was
//! made, never a client's): the newest record reported so far. So records replayed from the past
//! (the demo's seeded days, dead letters replayed soon after an outage) are judged as they
//! happened. Refusal reports carry no record and close nothing. The alarm closes by the wall
//! clock, a window after the last report at the earliest, for the windows after which nothing
//! more was reported: a record that reaches the consumer after that is archived but not counted.
//!
//! One request or alarm at a time, start to end (it waits on KV and the queue in between).
//!
//! A record is counted once: its id is kept (SQLite, beside the window) until its window closes,
//! and a record for a closed window is not counted at all.

use serde::{Deserialize, Serialize};
use worker::{Env, Result, console_error};

use crate::anomaly::Observation;
use crate::bindings::ANOMALY_WATCH;

pub mod paths {
    pub const OBSERVE: &str = "/observe";
    #[cfg(feature = "office")]
    pub const LIST: &str = "/anomalies";
}

/// What the consumer or a refused request reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ObserveRequest {
    pub merchant_id: String,
    pub livemode: bool,
    /// Names the merchant's config in KV, where its thresholds are.
    pub publishable_key: String,
    pub observations: Vec<Observation>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ObserveAnswer {
    /// Observations counted (not seen before, window still open).
    pub counted: u32,
}

#[cfg(feature = "office")]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListRequest {
    pub from_ms: i64,
    pub to_ms: i64,
}

/// The object's name for a merchant and mode.
pub fn watch_name(merchant_id: &str, livemode: bool) -> String {
    format!("{merchant_id}:{}", crate::forward::mode_name(livemode))
}

/// Sends `report` to its merchant's watch; a failure is logged, not returned: detection may
/// miss what it reports, the archive never does.
pub async fn report(env: &Env, report: &ObserveRequest) {
    let name = watch_name(&report.merchant_id, report.livemode);
    let answer: Result<ObserveAnswer> = crate::objects::call(env, ANOMALY_WATCH, &name, paths::OBSERVE, report).await;
    if let Err(error) = answer {
        console_error!(
            "{}",
            serde_json::json!({ "kind": "anomaly_watch_failed", "watch": name, "error": error.to_string() })
        );
    }
}

#[cfg(feature = "office")]
mod object;
