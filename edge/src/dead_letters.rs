//! Parked dead letters sent back to the events queue, byte for byte, each deleted from R2 only
//! after the queue took it: by a merchant's `logs:replay` key (`POST
//! /v1/admin/dead-letters/replay`: its letters, then its refused records) and by the cron probe
//! once the sink answers again (`probe`: every merchant's letters under `dead-letter/events/`,
//! never a refused record, which would loop). Unreadable messages are left for an operator.

use worker::{BatchMessageBuilder, Bucket, Env, MessageBuilder, QueueContentType, console_error};

use paylater_shared::archive::{ArchiveKeyring, Scope};

use crate::bindings::{ARCHIVE, EVENTS_QUEUE};
use crate::consumer::{archive_keyring, stored_bytes};
use crate::forward::{QUARANTINE_PREFIX, send_batches};

/// Sends back up to `limit` letters under `prefix`, starting after `cursor` (an R2 list cursor),
/// and returns how many, and the cursor to go on from if more are listed. A letter that cannot
/// be read is logged and left for the next run; a queue that refuses ends the call.
pub async fn replay(
    env: &Env,
    prefix: &str,
    limit: u32,
    cursor: Option<String>,
) -> Result<(u32, Option<String>), ReplayError> {
    let bucket = env.bucket(ARCHIVE).map_err(|e| ReplayError::Binding(e.to_string()))?;
    let keyring = archive_keyring(env).map_err(ReplayError::Binding)?;
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
    let mut letters = Vec::new();
    for object in listed.objects() {
        let key = object.key();
        match read(&bucket, &keyring, &key).await {
            Ok(Some(text)) => letters.push((key, text)),
            Ok(None) => {}
            // Out of the way, so letters that never open cannot keep the next run from the rest.
            Err(error) => {
                let moved = quarantine(&bucket, &key).await;
                console_error!(
                    "{}",
                    serde_json::json!({ "kind": "dead_letter_unreadable", "key": key, "error": error, "quarantined": moved.as_ref().ok(), "quarantine_error": moved.err() })
                );
            }
        }
    }
    // A few `sendBatch`es and deletes, not two calls a letter: a page stays far inside a run's
    // subrequests. Each batch's letters are deleted only once the queue took them.
    let sizes: Vec<usize> = letters.iter().map(|(_, text)| text.len()).collect();
    let mut replayed = 0;
    for run in send_batches(&sizes) {
        let batch = &letters[run];
        let messages = batch
            .iter()
            .map(|(_, text)| {
                MessageBuilder::new(text.clone())
                    .content_type(QueueContentType::Text)
                    .build()
            })
            .collect::<Vec<_>>();
        queue
            .send_batch(BatchMessageBuilder::new().messages(messages).build())
            .await
            .map_err(|e| ReplayError::Enqueue(e.to_string()))?;
        let keys: Vec<&str> = batch.iter().map(|(key, _)| key.as_str()).collect();
        bucket
            .delete_multiple(keys)
            .await
            .map_err(|e| ReplayError::Storage(e.to_string()))?;
        replayed += batch.len() as u32;
    }
    let next = if listed.truncated() { listed.cursor() } else { None };
    Ok((replayed, next))
}

/// A parked letter's text, opened; `None` when it is gone (another replay took it).
async fn read(bucket: &Bucket, keyring: &ArchiveKeyring, key: &str) -> Result<Option<String>, String> {
    let Some(sealed) = stored_bytes(bucket, key).await? else {
        return Ok(None);
    };
    let text = keyring.open(Scope::Operator, key, &sealed).map_err(|e| e.to_string())?;
    String::from_utf8(text).map(Some).map_err(|_| "not UTF-8".to_owned())
}

/// Moves a letter that does not open under [`QUARANTINE_PREFIX`] (for an operator, never
/// replayed); where it went.
async fn quarantine(bucket: &Bucket, key: &str) -> Result<String, String> {
    let bytes = stored_bytes(bucket, key).await?.ok_or("gone")?;
    let to = format!("{QUARANTINE_PREFIX}{key}");
    bucket.put(&to, bytes).execute().await.map_err(|e| e.to_string())?;
    bucket.delete(key).await.map_err(|e| e.to_string())?;
    Ok(to)
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
