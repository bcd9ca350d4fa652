//! The Durable Objects: exact per-session state (rate window, event ids, seq, funnel anchors),
//! per-client-IP rate limits and per-customer ledgers, which the shop Worker runs, and the
//! order books, which the back office runs (each binds the other's by `script_name`). The
//! decisions are the pure modules'; these keep the state and do the hand-off to the queue.

use std::cell::RefCell;

use futures_util::lock::Mutex;

use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{
    Date, DurableObject, Env, MessageBuilder, QueueContentType, Request, Response, Result, State, Storage,
    durable_object, web_sys,
};

use crate::bindings::{CUSTOMER_LEDGER, EVENTS_QUEUE};
use crate::ledger::LedgerRequest;
use crate::orders::{BookAnswer, BookRequest, QueuedChange};
#[cfg(feature = "shop")]
use {
    crate::approval_records::{AttemptLog, QueuedDecision},
    crate::approvals::{
        ApproveOutcome, ApproveRequest, AttemptLimit, DEFAULT_HUMAN_REVIEW_CONTACT, DecideRequest, Decided,
        LiveApproval, SessionAttempt, SessionStep, StoredApproval, UpstreamVerdict, apply_upstream, approval_claims,
        build_answer, session_step, signer_from_secret,
    },
    crate::bindings::{APPROVAL_SIGNING_KEYS, HUMAN_REVIEW_CONTACT, ORDER_BOOK},
    crate::decision::{DecisionRequest, PastApproval, decide},
    crate::events::{AdmitAnswer, AdmitRequest, LimitAnswer, LimitRequest},
    crate::ingest::{RequestWindow, SessionLedger, Verdict, is_high_velocity},
    crate::ledger::{CustomerRecord, PendingApproval},
    crate::orders::Registration,
    crate::queue_message::batch_messages,
    crate::upstream,
    paylater_shared::approval::Outcome,
    std::cell::Cell,
    worker::BatchMessageBuilder,
};
#[cfg(feature = "office")]
use {
    crate::ledger::AttachAnswer,
    crate::orders::{Book, BookRefusal, Step},
    worker::console_error,
};

#[cfg(feature = "shop")]
/// How long a session's state outlives its first token: a session renewed within its renewal
/// window (a tab's leftovers sent on the next page view, up to a day later) still has its event
/// ids, so what the closed tab's exit requests delivered is recognised, not counted twice.
const SESSION_STATE_GRACE_MS: i64 =
    (crate::sessions::SESSION_RENEWAL_WINDOW_S + crate::sessions::SESSION_TTL_S) * 1000 + 10 * 60 * 1000;
#[cfg(feature = "shop")]
const LEDGER_KEY: &str = "ledger";

#[cfg(feature = "shop")]
fn event_key(id: &str) -> String {
    format!("e:{id}")
}

pub(crate) async fn read_json<T: serde::de::DeserializeOwned>(mut req: Request) -> Result<T> {
    let text = req.text().await?;
    serde_json::from_str(&text).map_err(|e| worker::Error::RustError(format!("object request: {e}")))
}

/// JSON text of a value the object stores or sends; `what` names it in the error.
pub(crate) fn json_text<T: serde::Serialize>(value: &T, what: &str) -> Result<String> {
    serde_json::to_string(value).map_err(|e| worker::Error::RustError(format!("{what}: {e}")))
}

/// A value an object keeps in memory and, as JSON text, in its storage under `key`: the memory
/// copy when there is one, else storage, else the default.
async fn load_cached<T: serde::de::DeserializeOwned + Default + Clone>(
    cache: &RefCell<Option<T>>,
    storage: &Storage,
    key: &str,
) -> Result<T> {
    if let Some(value) = cache.borrow().clone() {
        return Ok(value);
    }
    let stored: Option<String> = storage.get(key).await?;
    Ok(stored
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default())
}

/// Sets the object's alarm for `at_ms` (epoch ms). The `worker` crate reads a bare number as an
/// offset from now, not as a time: this turns the time into that offset.
pub(crate) async fn set_alarm_at(storage: &Storage, at_ms: i64) -> Result<()> {
    let now_ms = Date::now().as_millis() as i64;
    storage.set_alarm(at_ms.saturating_sub(now_ms).max(0)).await
}

#[cfg(feature = "shop")]
/// Several keys written in one storage transaction.
async fn put_all(storage: &Storage, entries: &[(&str, JsValue)]) -> Result<()> {
    let object = js_sys::Object::new();
    for (key, value) in entries {
        js_sys::Reflect::set(&object, &JsValue::from_str(key), value)?;
    }
    storage.put_multiple_raw(object).await
}

/// Object paths: what a message asks of an object.
pub mod paths {
    #[cfg(feature = "shop")]
    pub const ADMIT_EVENTS: &str = "/admit";
    #[cfg(feature = "shop")]
    pub const APPROVE: &str = "/approve";
    pub const LEDGER: &str = "/ledger";
    pub const BOOK: &str = "/book";
    #[cfg(feature = "shop")]
    pub const COUNT_REQUEST: &str = "/request";
    #[cfg(feature = "shop")]
    pub const COUNT_APPROVAL_ATTEMPT: &str = "/approval-attempt";
}

/// Sends a JSON message to the object `name` of `namespace` at `path` and reads its JSON answer.
pub async fn call<Q: serde::Serialize, A: serde::de::DeserializeOwned>(
    env: &Env,
    namespace: &str,
    name: &str,
    path: &str,
    message: &Q,
) -> Result<A> {
    // The runtime's own request and response, not `worker`'s wrappers: see `answer_body`.
    let stub: worker::worker_sys::DurableObject = env
        .durable_object(namespace)?
        .id_from_name(name)?
        .get_stub()?
        .into_rpc();
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(&json_text(message, "object message")?));
    let request = web_sys::Request::new_with_str_and_init(&format!("https://object.internal{path}"), &init)?;
    let response: web_sys::Response = JsFuture::from(stub.fetch_with_request(&request)?).await?.dyn_into()?;
    let text = crate::answer_body::runtime_text(&response).await?;
    serde_json::from_str(&text).map_err(|e| worker::Error::RustError(format!("object answer {text:?}: {e}")))
}

fn answer<T: serde::Serialize>(value: &T) -> Result<Response> {
    Response::from_json(value)
}

#[cfg(feature = "shop")]
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

#[cfg(feature = "shop")]
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
        if req.path() == paths::APPROVE {
            let approve: ApproveRequest = read_json(req).await?;
            let _turn = self.turn.lock().await;
            return answer(&self.approve(approve).await?);
        }
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

#[cfg(feature = "shop")]
impl SessionGuard {
    async fn load_ledger(&self) -> Result<SessionLedger> {
        load_cached(&self.ledger, &self.state.storage(), LEDGER_KEY).await
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
        ledger.note_sent_at(admit.request.observed_ms, admit.sent_at);
        let verdicts = ledger.judge(&admit.events, &seen, &admit.session, &admit.request, session_velocity);
        let mut texts = Vec::new();
        let mut new_keys = Vec::new();
        let mut duplicates = 0u32;
        for verdict in &verdicts {
            match verdict {
                Verdict::Duplicate => duplicates += 1,
                Verdict::Accept(queued) => {
                    // JSON text, not a JS object: what is sent is what the consumer parses.
                    texts.push(json_text(queued, "queue message")?);
                    new_keys.push(event_key(&queued.event.id));
                }
            }
        }
        let accepted = texts.len() as u32;
        // The request's events in one message (or a few, if large): one archive object each.
        let messages: Vec<_> = batch_messages(texts)
            .into_iter()
            .map(|text| MessageBuilder::new(text).content_type(QueueContentType::Text).build())
            .collect();
        if !messages.is_empty() {
            // A queue that cannot be reached at all is a failed hand-off like a refused send.
            let sent = match self.env.queue(EVENTS_QUEUE) {
                Ok(queue) => {
                    queue
                        .send_batch(BatchMessageBuilder::new().messages(messages).build())
                        .await
                }
                Err(error) => Err(error),
            };
            if let Err(error) = sent {
                // Nothing was marked seen: a retry of the same events is accepted, not a duplicate.
                return Ok(AdmitAnswer::EnqueueFailed {
                    detail: error.to_string(),
                });
            }
        }
        // The queue has them: only now do their ids count as accepted.
        let ledger_text = JsValue::from_str(&json_text(&ledger, "ledger")?);
        let mut entries: Vec<(&str, JsValue)> = new_keys.iter().map(|key| (key.as_str(), JsValue::TRUE)).collect();
        entries.push((LEDGER_KEY, ledger_text));
        put_all(&storage, &entries).await?;
        self.ledger.replace(Some(ledger));
        self.ensure_alarm(admit.expires_at_s, now_ms).await?;
        Ok(AdmitAnswer::Admitted { accepted, duplicates })
    }

    /// Sets the clean-up alarm once the session has state; storage is asked once per instance.
    async fn ensure_alarm(&self, expires_at_s: i64, now_ms: i64) -> Result<()> {
        if !self.alarm_set.get() {
            let storage = self.state.storage();
            if storage.get_alarm().await?.is_none() {
                let forget_at = expires_at_s.saturating_mul(1000) + SESSION_STATE_GRACE_MS;
                set_alarm_at(&storage, forget_at.max(now_ms + SESSION_STATE_GRACE_MS)).await?;
            }
            self.alarm_set.set(true);
        }
        Ok(())
    }
}

#[cfg(feature = "shop")]
/// One per merchant and client IP (named by the address, which is never logged): a request
/// window and the approval attempts of the last hour, kept in the object's memory only. Unlike a
/// session's event ids, nothing here must survive: an object is evicted only after its client
/// went quiet, and fresh counts then forget only requests that had already stopped. Skipping
/// storage keeps a write off every request.
#[durable_object]
pub struct ClientLimiter {
    window: RefCell<RequestWindow>,
    approval_attempts: RefCell<AttemptLog>,
}

#[cfg(feature = "shop")]
/// How far back approval attempts from one IP are counted.
const APPROVAL_ATTEMPT_WINDOW_MS: i64 = 60 * 60 * 1000;
#[cfg(feature = "shop")]
/// The most attempt times one IP's object keeps (beyond any sane velocity limit).
const MAX_TRACKED_ATTEMPTS: usize = 1000;

#[cfg(feature = "shop")]
impl DurableObject for ClientLimiter {
    fn new(_state: State, _env: Env) -> Self {
        Self {
            window: RefCell::new(RequestWindow::default()),
            approval_attempts: RefCell::new(AttemptLog::default()),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        // No await between reading and updating a count: no other request runs in between.
        if req.path() == paths::COUNT_APPROVAL_ATTEMPT {
            let request: AttemptLimit = read_json(req).await?;
            let now_ms = Date::now().as_millis() as i64;
            let admitted = self.approval_attempts.borrow_mut().admit(
                now_ms,
                APPROVAL_ATTEMPT_WINDOW_MS,
                MAX_TRACKED_ATTEMPTS,
                request.limit_per_hour,
            );
            return answer(&match admitted {
                Ok(earlier) => LimitAnswer::Admitted {
                    count: u64::from(earlier),
                },
                Err(retry_after_seconds) => LimitAnswer::RateLimited { retry_after_seconds },
            });
        }
        let request: LimitRequest = read_json(req).await?;
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

#[cfg(feature = "shop")]
fn idempotency_key(key: &str) -> String {
    format!("idem:{key}")
}

#[cfg(feature = "shop")]
/// Where a session keeps its live approval (the one hold it may have).
const LIVE_APPROVAL_KEY: &str = "live";

#[cfg(feature = "shop")]
async fn stored<T: serde::de::DeserializeOwned>(storage: &Storage, key: &str) -> Result<Option<T>> {
    match storage.get::<String>(key).await? {
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| worker::Error::RustError(format!("stored {key}: {e}"))),
        None => Ok(None),
    }
}

#[cfg(feature = "shop")]
impl SessionGuard {
    /// One approval attempt, end to end under the session's turn: the same key returns its first
    /// answer (or 409 with another body); a new key gets a decision from the customer's object,
    /// is logged through the queue, and only then is remembered.
    async fn approve(&self, approve: ApproveRequest) -> Result<ApproveOutcome> {
        let storage = self.state.storage();
        let key = idempotency_key(&approve.idempotency_key);
        let for_key: Option<StoredApproval> = stored(&storage, &key).await?;
        let live: Option<LiveApproval> = stored(&storage, LIVE_APPROVAL_KEY).await?;
        let mut ledger = self.load_ledger().await?;
        let attempt = SessionAttempt::of(&approve, ledger.approval_attempts);
        match session_step(for_key.as_ref(), live.as_ref(), attempt) {
            SessionStep::Replay(answer) => return Ok(ApproveOutcome::Answered { answer, replayed: true }),
            SessionStep::Conflict => return Ok(ApproveOutcome::Conflict),
            SessionStep::HasApproval => return Ok(ApproveOutcome::SessionHasApproval),
            SessionStep::RateLimited { retry_after_seconds } => {
                return Ok(ApproveOutcome::RateLimited { retry_after_seconds });
            }
            SessionStep::Decide => {}
        }
        let now_ms = approve.decide.now_ms;
        let mut decide = approve.decide.clone();
        decide.session_attempts = ledger.approval_attempts;
        decide.signals.amount_changed |= ledger.amount_changed;
        // On the edge's clock: a shopper's fast-running clock must not look automated, nor one
        // whose approval_started waited out a backoff.
        decide.signals.form_fill_ms = ledger.form_fill_ms(now_ms, approve.session.issued_at_s.saturating_mul(1000));
        decide.upstream = upstream::ask(&self.env, &approve, &decide).await;
        let decided: Decided = call(
            &self.env,
            CUSTOMER_LEDGER,
            &approve.ledger(),
            paths::LEDGER,
            &LedgerRequest::Decide(Box::new(decide.clone())),
        )
        .await?;
        let token = match decided.decision.outcome {
            Outcome::Approved => {
                // What the order needs, where the order will be made, before anyone has a token.
                let registration = registration(&approve, &decided, now_ms);
                let _: BookAnswer = call(
                    &self.env,
                    ORDER_BOOK,
                    &book_name(approve.session.livemode, &decided.approval_id),
                    paths::BOOK,
                    &BookRequest::Register(Box::new(registration)),
                )
                .await?;
                Some(sign_approval(&self.env, &approve, &decided, now_ms)?)
            }
            _ => None,
        };
        let contact = self
            .env
            .var(HUMAN_REVIEW_CONTACT)
            .map(|v| v.to_string())
            .unwrap_or_else(|_| DEFAULT_HUMAN_REVIEW_CONTACT.to_owned());
        let answer = build_answer(&approve, &decided, token, &contact);
        // What the consumer reads back with `QueuedRecord::from_json`.
        let logged = QueuedDecision {
            approval_id: decided.approval_id.clone(),
            session: approve.session.clone(),
            request: approve.request.clone(),
            customer_id_hash: approve.customer_id_hash.clone(),
            plan_id: approve.plan_id.clone(),
            outcome: decided.decision.outcome,
            reasons: decided.decision.reasons.clone(),
            score_band: decided.decision.band,
            upstream: decide.upstream.as_ref().map(UpstreamVerdict::label),
            form_fill_ms: decide.signals.form_fill_ms,
        };
        let text = json_text(&logged, "decision message")?;
        if let Err(error) = self
            .env
            .queue(EVENTS_QUEUE)?
            .send(MessageBuilder::new(text).content_type(QueueContentType::Text).build())
            .await
        {
            // The key keeps its body but no answer: a retry with the same body asks the
            // customer's object again, which answers with the decision it already made for this
            // reference; another body is a conflict, as for any used key.
            let unlogged = StoredApproval {
                fingerprint: approve.fingerprint.clone(),
                answer: None,
            };
            storage.put(&key, json_text(&unlogged, "approval state")?).await?;
            return Ok(ApproveOutcome::EnqueueFailed {
                detail: error.to_string(),
            });
        }
        ledger.approval_attempts = ledger.approval_attempts.saturating_add(1);
        let stored = StoredApproval {
            fingerprint: approve.fingerprint.clone(),
            answer: Some(answer.clone()),
        };
        let mut entries = vec![
            (key.as_str(), JsValue::from_str(&json_text(&stored, "approval state")?)),
            (LEDGER_KEY, JsValue::from_str(&json_text(&ledger, "ledger")?)),
        ];
        if decided.decision.outcome == Outcome::Approved {
            let live = LiveApproval {
                fingerprint: approve.fingerprint.clone(),
                answer: answer.clone(),
                token_expires_at_ms: decided.token_expires_at_ms,
            };
            entries.push((
                LIVE_APPROVAL_KEY,
                JsValue::from_str(&json_text(&live, "live approval")?),
            ));
        }
        put_all(&storage, &entries).await?;
        self.ledger.replace(Some(ledger));
        self.ensure_alarm(approve.expires_at_s, now_ms).await?;
        Ok(ApproveOutcome::Answered {
            answer,
            replayed: false,
        })
    }
}

#[cfg(feature = "shop")]
thread_local! {
    /// The signing key with the secret text it came from, derived once an isolate: deriving it
    /// costs a scalar multiplication, as much as the signature itself.
    static APPROVAL_SIGNER: RefCell<Option<(String, paylater_shared::token::ApprovalSigner)>> =
        const { RefCell::new(None) };
}

#[cfg(feature = "shop")]
fn sign_approval(env: &Env, approve: &ApproveRequest, decided: &Decided, now_ms: i64) -> Result<String> {
    let secret = env.secret(APPROVAL_SIGNING_KEYS)?.to_string();
    let claims = approval_claims(approve, decided, now_ms, &random_id());
    APPROVAL_SIGNER.with_borrow_mut(|cached| {
        let (_, signer) = match cached.take() {
            Some((from, signer)) if from == secret => cached.insert((from, signer)),
            _ => {
                let signer = signer_from_secret(&secret).map_err(|e| worker::Error::RustError(e.to_string()))?;
                cached.insert((secret, signer))
            }
        };
        Ok(signer.sign(&claims))
    })
}

#[cfg(feature = "shop")]
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = crypto, js_name = randomUUID)]
    fn random_id() -> String;
}

/// The `OrderBook` of an approval, in its mode.
pub fn book_name(livemode: bool, approval_id: &str) -> String {
    format!("{}:{approval_id}", crate::secret_keys::mode_name(livemode))
}

#[cfg(feature = "shop")]
fn registration(approve: &ApproveRequest, decided: &Decided, now_ms: i64) -> Registration {
    Registration {
        approval_id: decided.approval_id.clone(),
        merchant_id: approve.session.merchant_id.clone(),
        livemode: approve.session.livemode,
        session_id: approve.session.session_id.clone(),
        ledger: approve.ledger(),
        amount: approve.decide.amount.get(),
        currency: approve.decide.currency,
        plan_id: approve.plan_id.clone(),
        schedule: approve.schedule.clone(),
        approved_at_ms: now_ms,
        token_expires_at_ms: decided.token_expires_at_ms,
        capture_window_ms: approve.capture_window_s.saturating_mul(1000),
    }
}

/// Sends one change record to the events queue (JSON text, as every record).
async fn send_change(env: &Env, change: &QueuedChange) -> Result<()> {
    let text = json_text(change, "change record")?;
    env.queue(EVENTS_QUEUE)?
        .send(MessageBuilder::new(text).content_type(QueueContentType::Text).build())
        .await
}

#[cfg(feature = "shop")]
const CUSTOMER_KEY: &str = "customer";
#[cfg(feature = "shop")]
/// How soon a failed release is tried again.
const RETRY_ALARM_MS: i64 = 30_000;

#[cfg(feature = "shop")]
/// One per customer and mode, named `{mode}:{keyed hash of the e-mail}`: open holds and recent
/// attempts, one decision at a time, so two parallel requests can never both spend the same
/// limit; its alarm releases approvals that never became orders and removes the record once
/// nothing is open and it has been idle for the retention period.
#[durable_object]
pub struct CustomerLedger {
    state: State,
    env: Env,
    turn: Mutex<()>,
    record: RefCell<Option<CustomerRecord>>,
}

#[cfg(feature = "shop")]
impl DurableObject for CustomerLedger {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            turn: Mutex::new(()),
            record: RefCell::new(None),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let request: LedgerRequest = read_json(req).await?;
        let _turn = self.turn.lock().await;
        match request {
            LedgerRequest::Decide(decide) => answer(&self.decide(*decide).await?),
            LedgerRequest::Attach { approval_id, now_ms } => {
                let mut record = self.load().await?;
                let attached = record.attach(&approval_id, now_ms);
                self.store(record, now_ms).await?;
                answer(&attached)
            }
            LedgerRequest::Hold { approval_id, held } => {
                let mut record = self.load().await?;
                let known = record.history.limit_hold(&approval_id, held);
                let now_ms = Date::now().as_millis() as i64;
                record.last_activity_ms = record.last_activity_ms.max(now_ms);
                self.store(record, now_ms).await?;
                answer(&known)
            }
            LedgerRequest::Holds => answer(&self.load().await?.holds()),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        let _turn = self.turn.lock().await;
        let now_ms = Date::now().as_millis() as i64;
        let mut record = self.load().await?;
        let storage = self.state.storage();
        // Each release is logged before it is made: a failed send leaves it pending, and the
        // record id makes a resend harmless.
        for pending in record.pending.iter().filter(|p| p.token_expires_at_ms <= now_ms) {
            if send_change(&self.env, &pending.expiry_record()).await.is_err() {
                set_alarm_at(&storage, now_ms + RETRY_ALARM_MS).await?;
                return Response::ok("retry");
            }
        }
        record.release_expired(now_ms);
        if record.removable_at(now_ms).is_some_and(|at| at <= now_ms) {
            storage.delete_all().await?;
            self.record.replace(None);
            return Response::ok("removed");
        }
        self.store(record, now_ms).await?;
        Response::ok("released")
    }
}

#[cfg(feature = "shop")]
impl CustomerLedger {
    async fn load(&self) -> Result<CustomerRecord> {
        load_cached(&self.record, &self.state.storage(), CUSTOMER_KEY).await
    }

    /// Stores the record and points the alarm at its next wake-up.
    async fn store(&self, record: CustomerRecord, now_ms: i64) -> Result<()> {
        let storage = self.state.storage();
        storage.put(CUSTOMER_KEY, json_text(&record, "customer")?).await?;
        set_alarm_at(&storage, record.next_alarm_ms(now_ms)).await?;
        self.record.replace(Some(record));
        Ok(())
    }

    async fn decide(&self, request: DecideRequest) -> Result<Decided> {
        let mut record = self.load().await?;
        let now_ms = request.now_ms;
        record.prune_decisions(now_ms);
        if let Some((_, decided, _)) = record
            .decided
            .iter()
            .find(|(reference, _, _)| *reference == request.reference)
        {
            return Ok(decided.clone());
        }
        let history = record.history_from(&request.network, now_ms);
        let local = decide(
            &request.scorecard,
            &DecisionRequest {
                now_ms,
                today: request.today,
                amount: request.amount,
                currency: request.currency,
                plan_range: request.plan_range,
                date_of_birth: request.date_of_birth,
                email_domain: &request.email_domain,
                history: &history,
                session_attempts: request.session_attempts,
                ip_attempts_last_hour: request.ip_attempts_last_hour,
                signals: request.signals,
            },
        );
        let decision = apply_upstream(local, request.upstream.as_ref());
        record.record_attempt(&request.network, now_ms);
        if decision.outcome == Outcome::Approved {
            record.history.record_approval(
                PastApproval {
                    approval_id: request.approval_id.clone(),
                    amount: request.amount,
                    currency: request.currency,
                    approved_at_ms: now_ms,
                    settles_at_ms: request.settles_at_ms,
                    released: 0,
                },
                now_ms,
            );
            record.add_pending(PendingApproval {
                approval_id: request.approval_id.clone(),
                merchant_id: request.merchant_id.clone(),
                livemode: request.livemode,
                session_id: request.session_id.clone(),
                plan_id: request.plan_id.clone(),
                amount: request.amount.get(),
                currency: request.currency,
                token_expires_at_ms: request.token_expires_at_ms,
            });
        }
        let decided = Decided {
            approval_id: request.approval_id.clone(),
            decision,
            token_expires_at_ms: request.token_expires_at_ms,
        };
        record
            .decided
            .push((request.reference.clone(), decided.clone(), now_ms));
        record.last_activity_ms = record.last_activity_ms.max(now_ms);
        record.retention_days = request.retention_days;
        self.store(record, now_ms).await?;
        Ok(decided)
    }
}

#[cfg(feature = "office")]
/// One per approval and mode (`{mode}:{approval id}`): what the approval left for its order,
/// then the order, one change at a time. A change is stored with the book together with its
/// outbox (the record and the hold it owes), then sent to the queue and the customer's ledger;
/// an outbox left by a failure is sent before anything else happens to the order, and its alarm
/// retries it. The alarm also releases an approval that never became an order and expires the
/// uncaptured rest at `capture_before`.
#[durable_object]
pub struct OrderBook {
    state: State,
    env: Env,
    turn: Mutex<()>,
    book: RefCell<Option<Book>>,
}

#[cfg(feature = "office")]
const BOOK_KEY: &str = "book";

#[cfg(feature = "office")]
impl DurableObject for OrderBook {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            turn: Mutex::new(()),
            book: RefCell::new(None),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let request: BookRequest = read_json(req).await?;
        let _turn = self.turn.lock().await;
        answer(&self.handle(request).await?)
    }

    async fn alarm(&self) -> Result<Response> {
        let _turn = self.turn.lock().await;
        let now_ms = Date::now().as_millis() as i64;
        let mut book = self.load().await?;
        if self.flush(&mut book).await? && (book.release_unordered(now_ms) || book.expire(now_ms)) {
            self.save(&book).await?;
            self.flush(&mut book).await?;
        }
        self.rearm(&book).await?;
        Response::ok("woke")
    }
}

#[cfg(feature = "office")]
impl OrderBook {
    async fn load(&self) -> Result<Book> {
        load_cached(&self.book, &self.state.storage(), BOOK_KEY).await
    }

    async fn save(&self, book: &Book) -> Result<()> {
        self.state.storage().put(BOOK_KEY, json_text(book, "book")?).await?;
        self.book.replace(Some(book.clone()));
        Ok(())
    }

    /// Points the alarm at the book's next wake-up, if it has one.
    async fn rearm(&self, book: &Book) -> Result<()> {
        match book.next_alarm_ms(Date::now().as_millis() as i64) {
            Some(at) => set_alarm_at(&self.state.storage(), at).await,
            None => Ok(()),
        }
    }

    /// Sends the outbox's record, sets the customer's hold, then clears the outbox. False when
    /// it could not (the outbox stays for the alarm or the next request).
    async fn flush(&self, book: &mut Book) -> Result<bool> {
        let (Some(outbox), Some(registration)) = (book.outbox.clone(), book.registration.clone()) else {
            return Ok(true);
        };
        let pending = |what: &str, error: worker::Error| {
            console_error!(
                "{}",
                serde_json::json!({ "kind": "order_outbox_pending", "change": outbox.record.change_id, "step": what, "error": error.to_string() })
            );
            Ok(false)
        };
        if let Err(error) = send_change(&self.env, &outbox.record).await {
            return pending("queue", error);
        }
        let hold = LedgerRequest::Hold {
            approval_id: registration.approval_id.clone(),
            held: outbox.held,
        };
        let held: Result<bool> = call(&self.env, CUSTOMER_LEDGER, &registration.ledger, paths::LEDGER, &hold).await;
        if let Err(error) = held {
            return pending("hold", error);
        }
        book.outbox = None;
        self.save(book).await?;
        Ok(true)
    }

    async fn handle(&self, request: BookRequest) -> Result<BookAnswer> {
        let mut book = self.load().await?;
        let refused = |refusal| Ok(BookAnswer::Refused { refusal });
        // Whatever an earlier change still owes goes first: no new change on top of it.
        if !self.flush(&mut book).await? {
            self.rearm(&book).await?;
            return refused(BookRefusal::Unavailable {
                detail: "an earlier change of this order is still being delivered".into(),
            });
        }
        let step = match request {
            BookRequest::Register(registration) => {
                if book.registration.is_none() {
                    book.registration = Some(*registration);
                    self.save(&book).await?;
                }
                self.rearm(&book).await?;
                return Ok(BookAnswer::Registered);
            }
            BookRequest::Get { merchant_id } => {
                return Ok(match book.view(&merchant_id) {
                    Ok(order) => BookAnswer::Order {
                        order: Box::new(order),
                        replayed: false,
                    },
                    Err(refusal) => BookAnswer::Refused { refusal },
                });
            }
            BookRequest::Create {
                merchant_id,
                merchant_reference,
                now_ms,
            } => {
                match book.check_create(&merchant_id, &merchant_reference) {
                    Err(refusal) => return refused(refusal),
                    Ok(Some(order)) => {
                        return Ok(BookAnswer::Order {
                            order: Box::new(order),
                            replayed: true,
                        });
                    }
                    Ok(None) => {}
                }
                let Some(registration) = book.registration.as_ref() else {
                    return refused(BookRefusal::NotFound);
                };
                let attach = LedgerRequest::Attach {
                    approval_id: registration.approval_id.clone(),
                    now_ms,
                };
                let attached: AttachAnswer =
                    call(&self.env, CUSTOMER_LEDGER, &registration.ledger, paths::LEDGER, &attach).await?;
                if attached == AttachAnswer::Expired {
                    return refused(BookRefusal::ApprovalExpired);
                }
                book.create(&merchant_reference, now_ms)
            }
            BookRequest::Change {
                merchant_id,
                change,
                idempotency_key,
                fingerprint,
                now_ms,
            } => book.change(&merchant_id, &change, &idempotency_key, &fingerprint, now_ms),
        };
        let order = match step {
            Err(refusal) => return refused(refusal),
            Ok(Step::Existing { order }) => return Ok(BookAnswer::Order { order, replayed: true }),
            Ok(Step::Changed { order }) => order,
        };
        // The change is the order's once stored; delivering it may wait for the alarm.
        self.save(&book).await?;
        self.flush(&mut book).await?;
        self.rearm(&book).await?;
        Ok(BookAnswer::Order { order, replayed: false })
    }
}
