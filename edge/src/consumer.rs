//! `#[event(queue)]`: the events queue's consumer (archive to R2, then OTLP/HTTP JSON to the
//! sink, retried with backoff, refused records to the dead-letter queue) and the dead-letter
//! queue's consumer (parks each message in R2 until `POST /v1/admin/dead-letters/replay`).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::log_record::{ExportLogsServiceRequest, LogRecord};
use crate::queue_message::QueuedMessage;
use crate::records::QueuedRecord;
use futures_util::future::{Either, select};
use worker::{
    AbortController, Conditional, Context, Date, Delay, Env, Fetch, Headers, HttpMetadata, MessageBatch, MessageExt,
    Method, QueueContentType, QueueRetryOptionsBuilder, RawMessage, RawMessageBuilder, Request, RequestInit,
    console_error, console_log, event,
};

use crate::anomaly;
use crate::anomaly_watch::{self, ObserveRequest};
use crate::audit;
use crate::bindings::{
    ARCHIVE, ARCHIVE_KEYS, CONSOLE_RECORDS, DEAD_LETTER_QUEUE, DIGEST_PERIOD_SECONDS, DIGEST_SETTLE_SECONDS, LEDGER_DB,
    LOG_SINK_URL, RETRY_BASE_SECONDS, RETRY_MAX_SECONDS,
};
use crate::forward::{
    RetrySchedule, SinkOutcome, archive_object, classify_sink_status, console_line, console_records_enabled,
    dead_letter_key, mode_name, refused_letter_key, retry_delay_seconds,
};
use crate::insights;
use crate::reconciliation::{self, SqlValue};
use crate::{DEFAULT_RETRY_BASE_SECONDS, queues};
use paylater_shared::archive::{ArchiveKeyring, NONCE_LEN, Scope};
use paylater_shared::audit::sha256_hex;
use paylater_shared::order::ChangeKind;
use wasm_bindgen::JsValue;

/// The sink gets this long to answer before the attempt counts as a network failure.
const SINK_TIMEOUT: Duration = Duration::from_secs(10);

#[event(queue)]
async fn queue(batch: MessageBatch<String>, env: Env, _ctx: Context) -> worker::Result<()> {
    let messages: Vec<RawMessage> = batch.raw_iter().collect();
    match batch.queue().as_str() {
        queues::DEAD_LETTERS => park_dead_letters(&env, messages).await,
        _ => deliver(&env, messages).await,
    }
    Ok(())
}

/// A parsed message: its queue id, its exact text, its records (one, or a request's events).
struct Delivery {
    message: RawMessage,
    text: String,
    parsed: QueuedMessage,
}

impl Delivery {
    fn records(&self) -> impl Iterator<Item = &QueuedRecord> {
        self.parsed.records().iter()
    }
}

/// Every record of these deliveries, in order.
fn all_records(deliveries: &[Delivery]) -> impl Iterator<Item = &QueuedRecord> {
    deliveries.iter().flat_map(Delivery::records)
}

/// The retry schedule from `RETRY_BASE_SECONDS` and `RETRY_MAX_SECONDS`; a value out of range is
/// said in a `config_error` line and its default used.
fn retry_schedule(env: &Env) -> RetrySchedule {
    let var = |name: &str| env.var(name).ok().map(|v| v.to_string());
    let (schedule, problems) = RetrySchedule::from_vars(
        var(RETRY_BASE_SECONDS).as_deref(),
        var(RETRY_MAX_SECONDS).as_deref(),
        DEFAULT_RETRY_BASE_SECONDS,
    );
    for problem in problems {
        console_error!("{}", serde_json::json!({ "kind": "config_error", "error": problem }));
    }
    schedule
}

fn retry_later(message: &RawMessage, base: RetrySchedule) {
    let age_ms = (Date::now().as_millis()).saturating_sub(message.timestamp().as_millis());
    let delay = retry_delay_seconds((age_ms / 1000) as u32, base, &message.id());
    message.retry_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(delay).build());
}

async fn deliver(env: &Env, messages: Vec<RawMessage>) {
    let base = retry_schedule(env);
    let mut deliveries = Vec::new();
    for message in messages {
        let text = message.body().as_string();
        match text.as_deref().map(QueuedMessage::from_json) {
            Some(Ok(parsed)) => deliveries.push(Delivery {
                text: text.unwrap_or_default(),
                message,
                parsed,
            }),
            // A message no version of this consumer can read: park it, never drop it.
            _ => {
                let raw = text.unwrap_or_else(|| format!("{:?}", message.body()));
                dead_letter(env, &message, &raw, "unreadable message", base).await;
            }
        }
    }
    if deliveries.is_empty() {
        return;
    }
    // Archive each record once (sealed, stored only where nothing is), then index the objects
    // and write the reconciliation ledger in one D1 batch: if anything fails, the whole batch
    // comes again, and every step is idempotent.
    let stored = match archive(env, &deliveries).await {
        Ok(archived) => write_ledger(env, &deliveries, &archived)
            .await
            .map_err(|e| ("ledger_failed", e)),
        Err(e) => Err(("archive_failed", e)),
    };
    if let Err((kind, error)) = stored {
        console_error!(
            "{}",
            serde_json::json!({ "kind": kind, "error": error, "messages": deliveries.len() })
        );
        deliveries.iter().for_each(|d| retry_later(&d.message, base));
        return;
    }
    watch_for_anomalies(env, &deliveries).await;
    let records: Vec<LogRecord> = all_records(&deliveries).map(QueuedRecord::log_record).collect();
    // One structured line per record for Workers Logs (no personal data by construction), when
    // the record is done with (delivered, or archived with no sink): once per record, not once
    // per attempt of a sink that keeps failing.
    let setting = env.var(CONSOLE_RECORDS).ok().map(|v| v.to_string());
    let console = console_records_enabled(setting.as_deref());
    let done = |record: &LogRecord| {
        if console {
            match console_line(record) {
                Ok(line) => console_log!("{line}"),
                Err(error) => console_error!(
                    "{}",
                    serde_json::json!({ "kind": "log_record_unwritten", "error": error.to_string() })
                ),
            }
        }
    };
    let Some(sink) = sink_url(env) else {
        records.iter().for_each(done);
        deliveries.iter().for_each(|d| d.message.ack());
        return;
    };
    match post_to_sink(&sink, &records).await {
        SinkOutcome::Delivered => {
            records.iter().for_each(done);
            deliveries.iter().for_each(|d| d.message.ack());
        }
        SinkOutcome::Retryable(why) => {
            console_log!(
                "{}",
                serde_json::json!({ "kind": "sink_retry", "reason": why, "messages": deliveries.len() })
            );
            deliveries.iter().for_each(|d| retry_later(&d.message, base));
        }
        // The sink refused the batch: find the messages and records it refuses, deliver the rest.
        SinkOutcome::Rejected(status) => {
            // A sink that refuses even an empty export refuses everyone (a token expired, a path
            // moved): not these records' fault, so they wait and retry like any outage.
            if post_to_sink(&sink, &[]).await != SinkOutcome::Delivered {
                console_log!(
                    "{}",
                    serde_json::json!({ "kind": "sink_retry", "reason": format!("sink refuses every export ({status})"), "messages": deliveries.len() })
                );
                deliveries.iter().for_each(|d| retry_later(&d.message, base));
                return;
            }
            // Message by message, then record by record within a refused one; once the sink
            // says "later", the rest wait too (a sink that is failing is not asked a thousand
            // times in one run).
            // An export of a single message was just refused: no need to ask again.
            let known = (deliveries.len() == 1).then_some(status);
            let mut records = records.into_iter();
            let mut later = false;
            for delivery in &deliveries {
                let own: Vec<LogRecord> = records.by_ref().take(delivery.parsed.records().len()).collect();
                let done_with = !later && deliver_refused(env, &sink, delivery, own, known, &done).await;
                if done_with {
                    delivery.message.ack();
                } else {
                    later = true;
                    retry_later(&delivery.message, base);
                }
            }
        }
    }
}

/// One message of an export the sink refused: sent alone, then, if refused again and it holds
/// more than one record, one record at a time. If the sink refuses any for good, the message
/// is parked whole, as sent (so a replay is the same message, archived once under the same
/// key; its delivered records go again, duplicates sharing their `event.id`). Whether the
/// message is done with; not if the sink said "later" to any of it.
async fn deliver_refused(
    env: &Env,
    sink: &str,
    delivery: &Delivery,
    records: Vec<LogRecord>,
    known: Option<u16>,
    done: &impl Fn(&LogRecord),
) -> bool {
    let mut refused = Vec::new();
    let outcome = match known {
        Some(status) => SinkOutcome::Rejected(status),
        None => post_to_sink(sink, &records).await,
    };
    match outcome {
        SinkOutcome::Delivered => {
            records.iter().for_each(done);
            return true;
        }
        SinkOutcome::Retryable(_) => return false,
        SinkOutcome::Rejected(status) if records.len() == 1 => refused.extend(records.into_iter().map(|r| (r, status))),
        SinkOutcome::Rejected(_) => {
            for record in records {
                match post_to_sink(sink, std::slice::from_ref(&record)).await {
                    SinkOutcome::Delivered => done(&record),
                    SinkOutcome::Retryable(_) => return false,
                    SinkOutcome::Rejected(status) => refused.push((record, status)),
                }
            }
        }
    }
    if refused.is_empty() {
        return true;
    }
    let statuses: Vec<String> = refused.iter().map(|(_, status)| status.to_string()).collect();
    let reason = format!("sink refused {} record(s) with {}", refused.len(), statuses.join(", "));
    let parked = park_refused(env, &delivery.message.id(), &delivery.text, &reason).await;
    if parked {
        // Never delivered: their console copies are their only other trace.
        refused.iter().for_each(|(record, _)| done(record));
    }
    parked
}

/// Writes the batch's approvals and order changes to the D1 ledger, and every record's part of
/// the merchant insights' counters, in one transaction. Each change is inserted once by its id,
/// each order's totals are summed from its changes, and each record is counted once by its id,
/// so a redelivered batch or a replayed dead letter changes nothing.
async fn write_ledger(env: &Env, deliveries: &[Delivery], archived: &[Archived]) -> Result<(), String> {
    let changes: Vec<_> = all_records(deliveries).filter_map(QueuedRecord::ledger_row).collect();
    let counted = insights::batch_statements(all_records(deliveries));
    let period = digest_timing(env).0;
    let db = env.d1(LEDGER_DB).map_err(|e| e.to_string())?;
    let statement = |sql: &str, values: Vec<SqlValue>| {
        let values: Vec<JsValue> = values
            .into_iter()
            .map(|value| match value {
                SqlValue::Text(text) => JsValue::from_str(&text),
                SqlValue::Int(number) => JsValue::from_f64(number as f64),
            })
            .collect();
        db.prepare(sql).bind(&values).map_err(|e| e.to_string())
    };
    let mut statements = Vec::new();
    for change in &changes {
        statements.push(statement(
            reconciliation::INSERT_CHANGE,
            reconciliation::change_values(change),
        )?);
        match change.kind {
            ChangeKind::OrderCreated => {
                statements.push(statement(
                    reconciliation::UPSERT_ORDER,
                    reconciliation::order_values(change),
                )?);
            }
            ChangeKind::Captured | ChangeKind::Refunded | ChangeKind::Voided | ChangeKind::Expired => {}
            ChangeKind::Approval | ChangeKind::ApprovalExpired => continue,
        }
        statements.push(statement(
            reconciliation::SUM_ORDER,
            vec![SqlValue::Text(change.order_id.clone())],
        )?);
    }
    for counter in counted {
        statements.push(statement(counter.sql, counter.values)?);
    }
    // The audit index: each merchant and mode's chain starts with its first object.
    let mut chains = std::collections::BTreeSet::new();
    for object in archived {
        let mode = mode_name(object.livemode);
        if chains.insert((object.merchant_id.as_str(), mode)) {
            statements.push(statement(
                audit::START_CHAIN,
                vec![
                    SqlValue::Text(object.merchant_id.clone()),
                    SqlValue::Text(mode.to_owned()),
                    SqlValue::Int(period),
                ],
            )?);
        }
        statements.push(statement(
            audit::INDEX_OBJECT,
            vec![
                SqlValue::Text(object.key.clone()),
                SqlValue::Text(object.merchant_id.clone()),
                SqlValue::Text(mode.to_owned()),
                SqlValue::Int(period),
                SqlValue::Int(object.size as i64),
                SqlValue::Text(object.sha256.clone()),
            ],
        )?);
    }
    if statements.is_empty() {
        return Ok(());
    }
    db.batch(statements).await.map_err(|e| e.to_string())?;
    Ok(())
}

/// `DIGEST_PERIOD_SECONDS` and `DIGEST_SETTLE_SECONDS`; a value out of range is said in a
/// `config_error` line and its default used.
pub(crate) fn digest_timing(env: &Env) -> (i64, i64) {
    let var = |name: &str| env.var(name).ok().map(|v| v.to_string());
    let (timing, problems) = audit::timing_from_vars(
        var(DIGEST_PERIOD_SECONDS).as_deref(),
        var(DIGEST_SETTLE_SECONDS).as_deref(),
    );
    for problem in problems {
        console_error!("{}", serde_json::json!({ "kind": "config_error", "error": problem }));
    }
    timing
}

/// Reports the batch's decisions and events to their merchants' `AnomalyWatch`es, one call per
/// merchant and mode. Each object counts a record once, so a redelivered batch changes nothing;
/// a failed call is logged and not retried: detection may miss a record, the archive never does.
async fn watch_for_anomalies(env: &Env, deliveries: &[Delivery]) {
    let mut reports: BTreeMap<(String, bool), ObserveRequest> = BTreeMap::new();
    for record in all_records(deliveries) {
        let observations = anomaly::observe_record(record);
        if observations.is_empty() {
            continue;
        }
        let session = match record {
            QueuedRecord::Event(event) => &event.session,
            QueuedRecord::Decision(decision) => &decision.session,
            _ => continue,
        };
        reports
            .entry((session.merchant_id.clone(), session.livemode))
            .or_insert_with(|| ObserveRequest {
                merchant_id: session.merchant_id.clone(),
                livemode: session.livemode,
                publishable_key: session.publishable_key.clone(),
                observations: Vec::new(),
            })
            .observations
            .extend(observations);
    }
    // The merchants' watches at once: one slow object delays the batch once, not per merchant.
    let calls = reports.values().map(|report| anomaly_watch::report(env, report));
    futures_util::future::join_all(calls).await;
}

pub(crate) fn sink_url(env: &Env) -> Option<String> {
    env.var(LOG_SINK_URL)
        .ok()
        .map(|v| v.to_string())
        .filter(|url| !url.trim().is_empty())
}

/// An archive object as stored: what the audit index lists.
struct Archived {
    key: String,
    merchant_id: String,
    livemode: bool,
    size: u64,
    sha256: String,
}

/// Seals and stores each record's archive object unless one is already stored under its key
/// (a redelivery, a replay, a batch that failed after archiving): a record is archived once,
/// and what is stored is never rewritten. Returns what is stored under each key.
async fn archive(env: &Env, deliveries: &[Delivery]) -> Result<Vec<Archived>, String> {
    let bucket = env.bucket(ARCHIVE).map_err(|e| e.to_string())?;
    let keyring = archive_keyring(env)?;
    let mut archived = Vec::with_capacity(deliveries.len());
    // A few puts at a time: a batch holds up to a hundred messages, an object each.
    for chunk in deliveries.chunks(ARCHIVE_PUTS_AT_ONCE) {
        let stored = futures_util::future::join_all(chunk.iter().map(|d| archive_one(&bucket, &keyring, d))).await;
        for one in stored {
            archived.push(one?);
        }
    }
    Ok(archived)
}

/// How many archive objects one consumer run stores at once.
const ARCHIVE_PUTS_AT_ONCE: usize = 10;

async fn archive_one(
    bucket: &worker::Bucket,
    keyring: &ArchiveKeyring,
    delivery: &Delivery,
) -> Result<Archived, String> {
    let object = archive_object(&delivery.parsed, &delivery.text).map_err(|e| e.to_string())?;
    let first = delivery.parsed.first();
    let scope = Scope::Merchant {
        merchant_id: first.merchant_id(),
        livemode: first.livemode(),
    };
    let sealed = keyring.seal(scope, &object.key, object.plain.as_bytes(), random_nonce());
    let sha256 = sha256_hex(&sealed);
    let size = sealed.len() as u64;
    let metadata = std::collections::HashMap::from([("sha256".to_owned(), sha256.clone())]);
    let stored = put_once(bucket, &object.key, sealed, "application/octet-stream", metadata).await?;
    let (size, sha256) = match stored {
        true => (size, sha256),
        // Stored before: index what is there (the first attempt may have ended before D1).
        false => {
            console_log!(
                "{}",
                serde_json::json!({ "kind": "already_archived", "key": object.key })
            );
            stored_facts(bucket, &object.key).await?
        }
    };
    Ok(Archived {
        key: object.key,
        merchant_id: first.merchant_id().to_owned(),
        livemode: first.livemode(),
        size,
        sha256,
    })
}

/// Stores `bytes` at `key` only if nothing is stored there (R2 decides, atomically): whether it
/// stored them. What is stored is never rewritten.
pub(crate) async fn put_once(
    bucket: &worker::Bucket,
    key: &str,
    bytes: Vec<u8>,
    content_type: &str,
    metadata: std::collections::HashMap<String, String>,
) -> Result<bool, String> {
    bucket
        .put(key, bytes)
        .custom_metadata(metadata)
        .http_metadata(HttpMetadata {
            content_type: Some(content_type.into()),
            ..HttpMetadata::default()
        })
        .only_if(Conditional {
            etag_does_not_match: Some("*".into()),
            ..Conditional::default()
        })
        .execute()
        .await
        .map(|stored| stored.is_some())
        .map_err(|e| format!("{key}: {e}"))
}

/// The size and SHA-256 of an object already stored, from its bytes (not its metadata, which
/// says only what the writer meant to store).
async fn stored_facts(bucket: &worker::Bucket, key: &str) -> Result<(u64, String), String> {
    let bytes = stored_bytes(bucket, key)
        .await?
        .ok_or_else(|| format!("{key}: stored, then gone"))?;
    Ok((bytes.len() as u64, sha256_hex(&bytes)))
}

/// An R2 object's bytes, or `None` when there is no such object.
pub(crate) async fn stored_bytes(bucket: &worker::Bucket, key: &str) -> Result<Option<Vec<u8>>, String> {
    let Some(object) = bucket.get(key).execute().await.map_err(|e| format!("{key}: {e}"))? else {
        return Ok(None);
    };
    match object.body() {
        Some(body) => body.bytes().await.map(Some).map_err(|e| format!("{key}: {e}")),
        None => Ok(Some(Vec::new())),
    }
}

pub(crate) fn archive_keyring(env: &Env) -> Result<ArchiveKeyring, String> {
    let secret = env
        .secret(ARCHIVE_KEYS)
        .map(|s| s.to_string())
        .map_err(|_| "ARCHIVE_KEYS is not set".to_owned())?;
    ArchiveKeyring::parse(&secret).map_err(|e| e.to_string())
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buffer: &mut [u8]);
}

/// A fresh AES-GCM nonce from the runtime's CSPRNG.
fn random_nonce() -> [u8; NONCE_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    get_random_values(&mut nonce);
    nonce
}

pub(crate) async fn post_to_sink(url: &str, records: &[LogRecord]) -> SinkOutcome {
    let body = match serde_json::to_string(&ExportLogsServiceRequest::new(records)) {
        Ok(body) => body,
        Err(e) => return SinkOutcome::Retryable(format!("serialize: {e}")),
    };
    let headers = Headers::new();
    if headers.set("Content-Type", "application/json").is_err() {
        return SinkOutcome::Retryable("headers".into());
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    let request = match Request::new_with_init(url, &init) {
        Ok(request) => request,
        Err(e) => return SinkOutcome::Retryable(format!("request: {e}")),
    };
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    let sent = Box::pin(fetch.send_with_signal(&signal));
    let timeout = Box::pin(Delay::from(SINK_TIMEOUT));
    match select(sent, timeout).await {
        Either::Left((Ok(response), _)) => classify_sink_status(response.status_code()),
        Either::Left((Err(e), _)) => SinkOutcome::Retryable(format!("network: {e}")),
        Either::Right(_) => {
            controller.abort();
            SinkOutcome::Retryable("sink timed out".into())
        }
    }
}

/// Parks a message with a record the sink refused for good straight in R2, byte for byte,
/// beside its merchant's refused records (`forward::refused_letter_key`), where the cron probe
/// never looks. Whether it was stored: the caller acks the message only then (so it is never lost).
async fn park_refused(env: &Env, message_id: &str, text: &str, reason: &str) -> bool {
    let key = refused_letter_key(message_id, text);
    let stored = match (env.bucket(ARCHIVE), archive_keyring(env)) {
        (Ok(bucket), Ok(keyring)) => bucket
            .put(&key, seal_letter(&keyring, &key, text))
            .execute()
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        (Err(e), _) => Err(e.to_string()),
        (_, Err(e)) => Err(e),
    };
    match stored {
        Ok(()) => {
            console_log!(
                "{}",
                serde_json::json!({ "kind": "dead_letter_parked", "key": key, "reason": reason })
            );
            true
        }
        Err(error) => {
            console_error!("{}", serde_json::json!({ "kind": "park_failed", "error": error }));
            false
        }
    }
}

/// Sends a message's exact text to the dead-letter queue and acks it; if even that fails, the
/// message is retried instead (so it is never lost).
async fn dead_letter(env: &Env, message: &RawMessage, text: &str, reason: &str, base: RetrySchedule) {
    let sent = match env.queue(DEAD_LETTER_QUEUE) {
        Ok(queue) => queue
            .send_raw(RawMessageBuilder::new(text.into()).build_with_content_type(QueueContentType::Text))
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match sent {
        Ok(()) => {
            console_log!(
                "{}",
                serde_json::json!({ "kind": "dead_lettered", "message_id": message.id(), "reason": reason })
            );
            message.ack();
        }
        Err(error) => {
            console_error!(
                "{}",
                serde_json::json!({ "kind": "dead_letter_failed", "error": error })
            );
            retry_later(message, base);
        }
    }
}

/// A parked letter as stored: sealed like the archive, under the operators' scope (letters are
/// the edge's own to replay, never a merchant's to read) and bound to its key, so a letter moved
/// to another merchant's folder does not open.
pub(crate) fn seal_letter(keyring: &ArchiveKeyring, key: &str, text: &str) -> Vec<u8> {
    keyring.seal(Scope::Operator, key, text.as_bytes(), random_nonce())
}

/// Parks each dead letter in R2, sealed, byte for byte inside, under its message id.
async fn park_dead_letters(env: &Env, messages: Vec<RawMessage>) {
    let base = retry_schedule(env);
    let (bucket, keyring) = match (env.bucket(ARCHIVE), archive_keyring(env)) {
        (Ok(bucket), Ok(keyring)) => (bucket, keyring),
        (bucket, keyring) => {
            let error = bucket
                .err()
                .map(|e| e.to_string())
                .or(keyring.err())
                .unwrap_or_default();
            console_error!("{}", serde_json::json!({ "kind": "park_failed", "error": error }));
            // Never acked unless parked: the dead-letter queue keeps them and tries again.
            messages.iter().for_each(|m| retry_later(m, base));
            return;
        }
    };
    for message in messages {
        let text = message
            .body()
            .as_string()
            .unwrap_or_else(|| format!("{:?}", message.body()));
        let key = dead_letter_key(&message.id(), &text);
        match bucket.put(&key, seal_letter(&keyring, &key, &text)).execute().await {
            Ok(_) => {
                console_log!("{}", serde_json::json!({ "kind": "dead_letter_parked", "key": key }));
                message.ack();
            }
            Err(e) => {
                console_error!(
                    "{}",
                    serde_json::json!({ "kind": "park_failed", "error": e.to_string() })
                );
                retry_later(&message, base);
            }
        }
    }
}
