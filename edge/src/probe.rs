//! The back office's scheduled work, which the shop's cron trigger (`wrangler.toml`) asks for
//! over the service binding (`POST /__cron`, a path no public route resolves to): writes the audit digests of the
//! periods that ended (`audit_seal`), then asks the log sink whether it
//! answers again (an empty OTLP export) and, if it does, sends every merchant's parked dead
//! letters back to the events queue, a few pages a run, so an outage longer than the consumer's
//! retries ends without anyone running the replay.

use worker::{Env, console_error, console_log};

use crate::consumer::{post_to_sink, sink_url};
use crate::dead_letters;
use crate::forward::{DEAD_LETTER_PREFIX, SinkOutcome};

/// Letters one run lists at most: the next run (minutes later) goes on.
const PAGES_PER_RUN: usize = 10;
const PAGE: u32 = 100;

pub async fn run(env: &Env) {
    let env = env.clone();
    // The audit digests first: they depend on nothing the sink does.
    crate::audit_seal::seal_all(&env).await;
    let Some(sink) = sink_url(&env) else {
        return;
    };
    match post_to_sink(&sink, &[]).await {
        SinkOutcome::Delivered => {}
        other => {
            console_log!(
                "{}",
                serde_json::json!({ "kind": "sink_probe", "answered": false, "outcome": format!("{other:?}") })
            );
            return;
        }
    }
    let mut cursor = None;
    let mut replayed = 0;
    for _ in 0..PAGES_PER_RUN {
        match dead_letters::replay(&env, DEAD_LETTER_PREFIX, PAGE, cursor.take()).await {
            Ok((count, next)) => {
                replayed += count;
                match next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            Err(error) => {
                console_error!(
                    "{}",
                    serde_json::json!({ "kind": "dead_letter_auto_replay_failed", "error": error.to_string() })
                );
                break;
            }
        }
    }
    console_log!(
        "{}",
        serde_json::json!({ "kind": "sink_probe", "answered": true, "replayed": replayed })
    );
}
