//! Parked dead letters sent back to the events queue, byte for byte, each deleted from R2 only
//! after the queue took it: by a merchant's `logs:replay` key (`POST
//! /v1/admin/dead-letters/replay`, its own prefix) and by the cron probe once the sink answers
//! again (`probe`, every merchant's, but never a record the sink refused for good: that would
//! loop). Letters under `unreadable/` are left for an operator.

use worker::{Env, MessageBuilder, QueueContentType};

use crate::bindings::{ARCHIVE, EVENTS_QUEUE};
use crate::forward::{DEAD_LETTER_PREFIX, auto_replayable};

/// Which letters a replay takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taking {
    /// A merchant's own replay: every readable letter under its prefix.
    All,
    /// The probe's: not a record the sink refused ([`auto_replayable`]).
    Automatic,
}

/// Sends back up to `limit` letters under `prefix`, starting after `cursor` (an R2 list cursor),
/// and returns how many, and the cursor to go on from if more are listed.
pub async fn replay(
    env: &Env,
    prefix: &str,
    limit: u32,
    cursor: Option<String>,
    taking: Taking,
) -> Result<(u32, Option<String>), ReplayError> {
    let bucket = env.bucket(ARCHIVE).map_err(|e| ReplayError::Binding(e.to_string()))?;
    let queue = env
        .queue(EVENTS_QUEUE)
        .map_err(|e| ReplayError::Binding(e.to_string()))?;
    let mut listing = bucket.list().prefix(prefix).limit(limit);
    if let Some(cursor) = cursor {
        listing = listing.cursor(cursor);
    }
    let listed = listing
        .execute()
        .await
        .map_err(|e| ReplayError::Storage(e.to_string()))?;
    let mut replayed = 0;
    for object in listed.objects() {
        let key = object.key();
        let readable = !key.starts_with(&format!("{DEAD_LETTER_PREFIX}unreadable/"));
        if !readable || (taking == Taking::Automatic && !auto_replayable(&key)) {
            continue;
        }
        let Some(stored) = bucket
            .get(&key)
            .execute()
            .await
            .map_err(|e| ReplayError::Storage(e.to_string()))?
        else {
            continue;
        };
        let Some(body) = stored.body() else {
            continue;
        };
        let text = body.text().await.map_err(|e| ReplayError::Storage(e.to_string()))?;
        queue
            .send(MessageBuilder::new(text).content_type(QueueContentType::Text).build())
            .await
            .map_err(|e| ReplayError::Enqueue(e.to_string()))?;
        bucket
            .delete(&key)
            .await
            .map_err(|e| ReplayError::Storage(e.to_string()))?;
        replayed += 1;
    }
    let next = if listed.truncated() { listed.cursor() } else { None };
    Ok((replayed, next))
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("binding: {0}")]
    Binding(String),
    #[error("R2: {0}")]
    Storage(String),
    #[error("queue: {0}")]
    Enqueue(String),
}
