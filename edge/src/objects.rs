//! The Durable Objects: exact per-session state (rate window, event ids, seq, funnel anchors)
//! and per-client-IP rate limits. The decisions are `paylater_shared::ingest`'s; these keep the
//! state and do the hand-off to the queue.

use std::cell::{Cell, RefCell};

use futures_util::lock::Mutex;
use paylater_shared::ingest::{RequestWindow, SessionLedger, Verdict, is_high_velocity};
use wasm_bindgen::JsValue;
use worker::{
    BatchMessageBuilder, Date, DurableObject, Env, MessageBuilder, QueueContentType, Request, Response, Result, State,
    durable_object,
};

use crate::bindings::EVENTS_QUEUE;
use crate::events::{AdmitAnswer, AdmitRequest, LimitAnswer, LimitRequest};

/// How long a session's state outlives its token: late retries of an expired session still get
/// their duplicates recognised for a while (they are refused with 401 anyway after that).
const SESSION_STATE_GRACE_MS: i64 = 10 * 60 * 1000;
const LEDGER_KEY: &str = "ledger";

fn event_key(id: &str) -> String {
    format!("e:{id}")
}

async fn read_json<T: serde::de::DeserializeOwned>(mut req: Request) -> Result<T> {
    let text = req.text().await?;
    serde_json::from_str(&text).map_err(|e| worker::Error::RustError(format!("object request: {e}")))
}

fn answer<T: serde::Serialize>(value: &T) -> Result<Response> {
    Response::from_json(value)
}

/// One per session (named by session id): takes one request at a time, end to end, so two
/// requests with the same event id can never both be accepted.
#[durable_object]
pub struct SessionGuard {
    state: State,
    env: Env,
    turn: Mutex<()>,
    ledger: RefCell<Option<SessionLedger>>,
    /// Whether the clean-up alarm is known to be set, so storage is asked once, not per request.
    alarm_set: Cell<bool>,
}

impl DurableObject for SessionGuard {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            turn: Mutex::new(()),
            ledger: RefCell::new(None),
            alarm_set: Cell::new(false),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let admit: AdmitRequest = read_json(req).await?;
        let _turn = self.turn.lock().await;
        answer(&self.admit(admit).await?)
    }

    async fn alarm(&self) -> Result<Response> {
        // The session is over: forget its ids and ledger.
        self.state.storage().delete_all().await?;
        self.ledger.replace(None);
        self.alarm_set.set(false);
        Response::ok("deleted")
    }
}

impl SessionGuard {
    async fn load_ledger(&self) -> Result<SessionLedger> {
        if let Some(ledger) = self.ledger.borrow().clone() {
            return Ok(ledger);
        }
        let stored: Option<String> = self.state.storage().get(LEDGER_KEY).await?;
        Ok(stored
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default())
    }

    async fn admit(&self, admit: AdmitRequest) -> Result<AdmitAnswer> {
        let storage = self.state.storage();
        let mut ledger = self.load_ledger().await?;
        let now_ms = Date::now().as_millis() as i64;
        let in_window = match ledger.window.admit(now_ms, admit.limit_per_minute) {
            Ok(count) => count,
            Err(limited) => {
                return Ok(AdmitAnswer::RateLimited {
                    retry_after_seconds: limited.retry_after_seconds,
                });
            }
        };
        let keys: Vec<String> = admit.events.iter().map(|e| event_key(&e.id)).collect();
        let found = storage.get_multiple(keys).await?;
        let seen = |id: &str| found.has(&JsValue::from_str(&event_key(id)));
        let session_velocity = is_high_velocity(in_window, admit.limit_per_minute);
        let verdicts = ledger.judge(&admit.events, &seen, &admit.session, &admit.request, session_velocity);
        let mut messages = Vec::new();
        let mut new_keys = Vec::new();
        let mut duplicates = 0u32;
        for verdict in &verdicts {
            match verdict {
                Verdict::Duplicate => duplicates += 1,
                Verdict::Accept(queued) => {
                    // JSON text, not a JS object: what is sent is what the consumer parses.
                    let text = serde_json::to_string(queued)
                        .map_err(|e| worker::Error::RustError(format!("queue message: {e}")))?;
                    messages.push(MessageBuilder::new(text).content_type(QueueContentType::Text).build());
                    new_keys.push(event_key(&queued.event.id));
                }
            }
        }
        let accepted = messages.len() as u32;
        if !messages.is_empty() {
            let queue = self.env.queue(EVENTS_QUEUE)?;
            if let Err(error) = queue
                .send_batch(BatchMessageBuilder::new().messages(messages).build())
                .await
            {
                // Nothing was marked seen: a retry of the same events is accepted, not a duplicate.
                return Ok(AdmitAnswer::EnqueueFailed {
                    detail: error.to_string(),
                });
            }
        }
        // The queue has them: only now do their ids count as accepted.
        let entries = js_sys::Object::new();
        for key in &new_keys {
            js_sys::Reflect::set(&entries, &JsValue::from_str(key), &JsValue::TRUE)?;
        }
        let ledger_text =
            serde_json::to_string(&ledger).map_err(|e| worker::Error::RustError(format!("ledger: {e}")))?;
        js_sys::Reflect::set(
            &entries,
            &JsValue::from_str(LEDGER_KEY),
            &JsValue::from_str(&ledger_text),
        )?;
        storage.put_multiple_raw(entries).await?;
        self.ledger.replace(Some(ledger));
        if !self.alarm_set.get() {
            if storage.get_alarm().await?.is_none() {
                let forget_at = admit.expires_at_s.saturating_mul(1000) + SESSION_STATE_GRACE_MS;
                storage
                    .set_alarm(forget_at.max(now_ms + SESSION_STATE_GRACE_MS))
                    .await?;
            }
            self.alarm_set.set(true);
        }
        Ok(AdmitAnswer::Admitted { accepted, duplicates })
    }
}

/// One per merchant and client IP (named by the address, which is never logged): a request
/// window kept in the object's memory only. Unlike a session's event ids, nothing here must
/// survive: an object is evicted only after its client went quiet, and a fresh window then forgets
/// only requests that had already stopped. Skipping storage keeps a write off every request.
#[durable_object]
pub struct ClientLimiter {
    window: RefCell<RequestWindow>,
}

impl DurableObject for ClientLimiter {
    fn new(_state: State, _env: Env) -> Self {
        Self {
            window: RefCell::new(RequestWindow::default()),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let request: LimitRequest = read_json(req).await?;
        // No await from here on: no other request runs between reading and updating the window.
        let now_ms = Date::now().as_millis() as i64;
        let outcome = match self.window.borrow_mut().admit(now_ms, request.limit_per_minute) {
            Ok(count) => LimitAnswer::Admitted { count },
            Err(limited) => LimitAnswer::RateLimited {
                retry_after_seconds: limited.retry_after_seconds,
            },
        };
        answer(&outcome)
    }
}
