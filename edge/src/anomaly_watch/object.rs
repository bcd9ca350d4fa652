//! The `AnomalyWatch` object itself (the back office runs it; the shop only reports to it).

use std::cell::RefCell;

use futures_util::lock::Mutex;
use serde::{Deserialize, Serialize};
use worker::{
    BatchMessageBuilder, Date, DurableObject, Env, MessageBuilder, QueueContentType, Request, Response, Result,
    SqlStorageValue, State, console_error, durable_object,
};

use super::{ListRequest, ObserveAnswer, ObserveRequest, paths};
use crate::anomaly::{Anomaly, DEFAULT_GRACE_MS, DEFAULT_WINDOW_MS, Thresholds, Watch};
use crate::auth::merchant_kv_key;
use crate::bindings::{ANOMALY_GRACE_SECONDS, ANOMALY_WINDOW_SECONDS, EVENTS_QUEUE, MERCHANTS_KV};
use crate::merchant::MerchantConfig;
use crate::objects::{json_text, read_json, set_alarm_at};
use crate::records::QueuedAnomaly;

/// What the object keeps besides the record ids.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Stored {
    merchant_id: String,
    livemode: bool,
    publishable_key: String,
    /// The newest record time reported: reports close windows up to it.
    #[serde(default)]
    newest_ms: i64,
    watch: Watch,
}

const STATE_KEY: &str = "watch";
/// Thresholds are read from KV at most this often.
const THRESHOLDS_CACHE_MS: i64 = 60_000;
/// When sending to the queue fails, the alarm tries again after this long.
const RESEND_MS: i64 = 30_000;
/// Messages per `sendBatch` (Queues take at most 100).
const SEND_CHUNK: usize = 50;

const CREATE_TABLES: &str = "CREATE TABLE IF NOT EXISTS seen (record_id TEXT PRIMARY KEY, window INTEGER NOT NULL); \
    CREATE INDEX IF NOT EXISTS seen_window ON seen (window); \
    CREATE TABLE IF NOT EXISTS attempts (window INTEGER NOT NULL, customer TEXT NOT NULL, count INTEGER NOT NULL, \
    PRIMARY KEY (window, customer))";
const MARK_SEEN: &str =
    "INSERT INTO seen (record_id, window) VALUES (?, ?) ON CONFLICT (record_id) DO NOTHING RETURNING record_id";
const COUNT_ATTEMPT: &str = "INSERT INTO attempts (window, customer, count) VALUES (?, ?, 1) \
    ON CONFLICT (window, customer) DO UPDATE SET count = count + 1 RETURNING count";
const FORGET_SEEN: &str = "DELETE FROM seen WHERE window <= ?";
const FORGET_ATTEMPTS: &str = "DELETE FROM attempts WHERE window <= ?";

#[derive(Deserialize)]
struct SeenRow {
    #[allow(dead_code)]
    record_id: String,
}

#[derive(Deserialize)]
struct CountRow {
    count: f64,
}

#[durable_object]
pub struct AnomalyWatch {
    state: State,
    env: Env,
    stored: RefCell<Option<Stored>>,
    thresholds: RefCell<Option<(i64, Thresholds)>>,
    /// Held from a request's (or the alarm's) load to its last save.
    turn: Mutex<()>,
}

impl DurableObject for AnomalyWatch {
    fn new(state: State, env: Env) -> Self {
        if let Err(error) = state.storage().sql().exec(CREATE_TABLES, None) {
            console_error!(
                "{}",
                serde_json::json!({ "kind": "anomaly_watch_schema", "error": error.to_string() })
            );
        }
        Self {
            state,
            env,
            stored: RefCell::new(None),
            thresholds: RefCell::new(None),
            turn: Mutex::new(()),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let _turn = self.turn.lock().await;
        match req.path().as_str() {
            paths::OBSERVE => {
                let request: ObserveRequest = read_json(req).await?;
                let counted = self.observe(request).await?;
                Response::from_json(&ObserveAnswer { counted })
            }
            paths::LIST => {
                let request: ListRequest = read_json(req).await?;
                let stored = self.load().await?;
                let found: Vec<Anomaly> = stored.watch.between(request.from_ms, request.to_ms);
                Response::from_json(&found)
            }
            _ => Response::error("unknown object path", 404),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        let _turn = self.turn.lock().await;
        let mut stored = self.load().await?;
        self.close_and_send(&mut stored, Date::now().as_millis() as i64).await?;
        Response::ok("")
    }
}

impl AnomalyWatch {
    fn window_ms(&self) -> i64 {
        seconds_var(&self.env, ANOMALY_WINDOW_SECONDS).unwrap_or(DEFAULT_WINDOW_MS)
    }

    fn grace_ms(&self) -> i64 {
        seconds_var(&self.env, ANOMALY_GRACE_SECONDS).unwrap_or(DEFAULT_GRACE_MS)
    }

    async fn load(&self) -> Result<Stored> {
        if let Some(stored) = self.stored.borrow().clone() {
            return Ok(stored);
        }
        let text: Option<String> = self.state.storage().get(STATE_KEY).await?;
        let window_ms = self.window_ms();
        let mut stored: Stored = match text.map(|t| serde_json::from_str(&t)) {
            Some(Ok(stored)) => stored,
            Some(Err(error)) => {
                // A state no version of this object can read: said, then learned afresh.
                console_error!(
                    "{}",
                    serde_json::json!({ "kind": "anomaly_watch_state_unreadable", "error": error.to_string() })
                );
                Stored::default()
            }
            None => Stored::default(),
        };
        // A new object, or one whose window length was changed: start learning afresh.
        if stored.watch.window_ms != window_ms {
            stored.watch = Watch::new(window_ms);
        }
        Ok(stored)
    }

    async fn save(&self, stored: &Stored) -> Result<()> {
        self.state
            .storage()
            .put(STATE_KEY, json_text(stored, "anomaly watch")?)
            .await?;
        *self.stored.borrow_mut() = Some(stored.clone());
        Ok(())
    }

    async fn observe(&self, request: ObserveRequest) -> Result<u32> {
        let mut stored = self.load().await?;
        stored.merchant_id = request.merchant_id;
        stored.livemode = request.livemode;
        // Messages queued before records carried the key have none: keep the one known.
        if !request.publishable_key.is_empty() {
            stored.publishable_key = request.publishable_key;
        }
        let sql = self.state.storage().sql();
        let mut counted = 0;
        for observation in &request.observations {
            let Some(window) = stored.watch.open_window(observation.at_ms) else {
                continue;
            };
            if let Some(id) = &observation.record_id {
                let marked: Vec<SeenRow> = sql
                    .exec(MARK_SEEN, vec![SqlStorageValue::from(id.as_str()), window.into()])?
                    .to_array()?;
                if marked.is_empty() {
                    continue;
                }
            }
            let attempts = match &observation.customer {
                Some(customer) => sql
                    .exec(
                        COUNT_ATTEMPT,
                        vec![SqlStorageValue::from(window), customer.as_str().into()],
                    )?
                    .to_array::<CountRow>()?
                    .first()
                    .map(|row| row.count as u64),
                None => None,
            };
            stored
                .watch
                .add(window, &observation.signals, attempts, observation.times);
            counted += 1;
        }
        let newest = request
            .observations
            .iter()
            .filter(|o| o.record_id.is_some())
            .map(|o| o.at_ms)
            .max()
            .unwrap_or(0);
        stored.newest_ms = stored.newest_ms.max(newest);
        let until = stored.newest_ms;
        self.close_and_send(&mut stored, until).await?;
        Ok(counted)
    }

    /// Closes what is due at `until_ms`, forgets the closed windows' ids, keeps the state, sends
    /// what was found (and anything an earlier send left), and points the alarm at the next
    /// close, but no sooner than a window from now: while reports come, they close windows.
    async fn close_and_send(&self, stored: &mut Stored, until_ms: i64) -> Result<()> {
        let now_ms = Date::now().as_millis() as i64;
        let grace_ms = self.grace_ms();
        let thresholds = self.thresholds(&stored.publishable_key, now_ms).await;
        let (closed, _) = stored.watch.close_due(until_ms, grace_ms, &thresholds);
        if let Some(last) = closed.last() {
            let sql = self.state.storage().sql();
            sql.exec(FORGET_SEEN, vec![SqlStorageValue::from(*last)])?;
            sql.exec(FORGET_ATTEMPTS, vec![SqlStorageValue::from(*last)])?;
        }
        self.save(stored).await?;
        let unsent = stored.watch.unsent();
        let mut next_alarm = stored
            .watch
            .next_close_ms(grace_ms)
            .map(|at| at.max(now_ms + stored.watch.window_ms));
        if !unsent.is_empty() {
            match self.send(stored, &unsent, now_ms).await {
                Ok(()) => {
                    let ids: Vec<String> = unsent.iter().map(Anomaly::id).collect();
                    stored.watch.mark_sent(&ids);
                    self.save(stored).await?;
                }
                Err(error) => {
                    console_error!(
                        "{}",
                        serde_json::json!({ "kind": "anomaly_send_failed", "error": error.to_string() })
                    );
                    let retry = now_ms + RESEND_MS;
                    next_alarm = Some(next_alarm.map_or(retry, |at| at.min(retry)));
                }
            }
        }
        match next_alarm {
            Some(at) => set_alarm_at(&self.state.storage(), at).await,
            None => Ok(()),
        }
    }

    async fn send(&self, stored: &Stored, anomalies: &[Anomaly], now_ms: i64) -> Result<()> {
        for chunk in anomalies.chunks(SEND_CHUNK) {
            self.send_chunk(stored, chunk, now_ms).await?;
        }
        Ok(())
    }

    async fn send_chunk(&self, stored: &Stored, anomalies: &[Anomaly], now_ms: i64) -> Result<()> {
        let mut messages = Vec::new();
        for anomaly in anomalies {
            let record = QueuedAnomaly {
                merchant_id: stored.merchant_id.clone(),
                livemode: stored.livemode,
                detected_at_ms: now_ms,
                anomaly: anomaly.clone(),
            };
            let text = json_text(&record, "anomaly record")?;
            messages.push(MessageBuilder::new(text).content_type(QueueContentType::Text).build());
        }
        self.env
            .queue(EVENTS_QUEUE)?
            .send_batch(BatchMessageBuilder::new().messages(messages).build())
            .await
    }

    /// The merchant's thresholds (its config's `anomalies`), cached a minute; the defaults when
    /// the config cannot be read.
    async fn thresholds(&self, publishable_key: &str, now_ms: i64) -> Thresholds {
        if let Some((at, thresholds)) = *self.thresholds.borrow()
            && now_ms - at < THRESHOLDS_CACHE_MS
        {
            return thresholds;
        }
        let read = async {
            let text = self
                .env
                .kv(MERCHANTS_KV)
                .ok()?
                .get(&merchant_kv_key(publishable_key))
                .text()
                .await
                .ok()??;
            MerchantConfig::from_json(&text).ok()
        };
        let thresholds = read.await.map(|config| config.anomalies).unwrap_or_default();
        *self.thresholds.borrow_mut() = Some((now_ms, thresholds));
        thresholds
    }
}

/// A whole number of seconds from a var (1 s to a day), in ms; anything else is ignored.
fn seconds_var(env: &Env, name: &str) -> Option<i64> {
    let seconds: i64 = env.var(name).ok()?.to_string().trim().parse().ok()?;
    (1..=86_400).contains(&seconds).then_some(seconds * 1000)
}
