//! Operator commands against a running edge.

use crate::{HarnessError, http};

/// Most replay calls one run makes (100 messages each): a bound, not a limit anyone should meet.
const MAX_REPLAY_CALLS: usize = 1_000;

/// Replays every parked dead letter of `secret_key`'s merchant and mode (the key needs
/// `logs:replay`) at the edge at `edge_url` into its events queue
/// (`POST /v1/admin/dead-letters/replay` until it says there are no more). Returns how many.
pub fn replay_dead_letters(edge_url: &str, secret_key: &str) -> Result<u64, HarnessError> {
    let url = format!("{}/v1/admin/dead-letters/replay", edge_url.trim_end_matches('/'));
    let authorization = format!("Bearer {secret_key}");
    let mut total = 0;
    for _ in 0..MAX_REPLAY_CALLS {
        let reply = http::request("POST", &url, &[("Authorization", &authorization)], None).map_err(|e| {
            HarnessError::Command {
                what: "dead-letter replay".into(),
                detail: e.to_string(),
            }
        })?;
        let body = reply.json();
        if reply.status != 200 {
            return Err(HarnessError::Command {
                what: "dead-letter replay".into(),
                detail: format!("{} {}", reply.status, reply.body),
            });
        }
        total += body["replayed"].as_u64().unwrap_or(0);
        if body["more"] != serde_json::Value::Bool(true) {
            return Ok(total);
        }
    }
    Err(HarnessError::Command {
        what: "dead-letter replay".into(),
        detail: format!("still more after {MAX_REPLAY_CALLS} calls ({total} replayed)"),
    })
}
