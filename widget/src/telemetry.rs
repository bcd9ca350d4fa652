//! The funnel telemetry client (CONTRACT §3 events): the browser layer around
//! `paylater_outbox` (`widget-outbox/`), which makes every decision (batching, backoff, what to
//! drop, exit chunks, storage). This layer only owns the clock, randomness, `fetch`,
//! `sendBeacon`, `localStorage`, the page's lifecycle events and the observers, and it lives in
//! the dialog's bundle, which loads when the page is idle: nothing here is on the first paint's
//! path.
//!
//! # Tabs
//! Each tab has its own session and its own outbox in `localStorage`, under a key with the
//! tab's id (kept in `sessionStorage`, so a reload goes on with the same session and `seq`).
//! The page holds a Web Lock named after that key ([`crate::locks`]) while it lives. A new page
//! view takes over every outbox of the same merchant key whose lock is free: a closed tab's
//! leftovers. It sends them under that tab's session while the session lives, so the edge's
//! dedup absorbs whatever the closed tab's exit requests already delivered; after that they
//! join this page's outbox. Two tabs open at once thus never write over each other's queue, and
//! their `seq`s never interleave.
//!
//! # What an event costs the page
//! A handler only notes an event (name, detail, time: `State::note`); a lone event's work in a
//! task of its own costs several times what it costs among others, whose code and data are
//! warm. So the next `pump` records everything noted since at once (`record_noted`):
//! right after the current task when the events make a request due, otherwise on the one timer,
//! within a second, or when a request's answer comes. Leaving the page records what is noted
//! before the exit requests go.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{Array, Date, Function, Math, Reflect};
use paylater_card::edge_api::EdgeApi;
use paylater_card::host::Host;
use paylater_outbox::{BATCH_BODY_LIMIT, Batch, Outbox, Outcome, Resolution, is_queue_storage_key, queue_storage_key};
use paylater_shared::WidgetOptions;
use paylater_shared::merchant::TelemetryMode;
use paylater_shared::telemetry::{Event, EventName, uuid_v7};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, BlobPropertyBag, Element, Event as DomEvent, IntersectionObserver, IntersectionObserverEntry,
    IntersectionObserverInit, RequestCredentials, RequestInit, RequestMode, Response,
};

use crate::locks::{self, LockGuard};

/// Renew a session this long before it expires.
const RENEW_BEFORE_MS: f64 = 120_000.0;
/// Recorded events are stored at most this often while the page lives, and within about twice
/// this; leaving the page (hide, close, reload) stores at once, so this only spaces the writes
/// of a busy page.
const STORE_EVERY_MS: f64 = 1_000.0;
/// A failed session request is tried again after this long (or when the browser is back online).
const SESSION_RETRY_MS: f64 = 30_000.0;
/// `widget_viewed`: at least half the widget visible for this long.
const VIEWED_AFTER_MS: i32 = 1_000;
/// How long a page waits for its tab's lock: on a reload, the previous page lets go of it as it
/// unloads. Still held after this, the lock is another live page's (a duplicated tab copies
/// `sessionStorage`), and this page takes a new tab id.
const CLAIM_WAIT_MS: i32 = 2_000;

/// What survives a reload: the session the events belong to, and the outbox.
#[derive(Serialize, Deserialize)]
struct Stored {
    token: String,
    expires_ms: f64,
    outbox: String,
}

struct Session {
    token: String,
    expires_ms: f64,
}

impl Session {
    /// Still good for sending (renewed, or given up, this long before it expires).
    fn usable(&self, now: f64) -> bool {
        !self.token.is_empty() && self.expires_ms - RENEW_BEFORE_MS > now
    }
}

/// A closed tab's outbox that this page took over, sent under that tab's session while that
/// lives; its lock, held until it is retired, keeps any other page from taking it too.
struct Adopted {
    storage_key: String,
    session: Session,
    outbox: Outbox,
    /// Held while this is kept; dropping it lets go.
    _lock: LockGuard,
}

/// An event as its handler noted it: what happened and when; the rest is made later.
struct Noted {
    name: EventName,
    props: NotedProps,
    at: f64,
}

enum NotedProps {
    Ready(Map<String, Value>),
    /// A widget DOM event's detail, read when the event is recorded: the widget dispatches
    /// each with a detail of its own.
    Detail(PropsOf, JsValue),
}

/// Which outbox a request was made from.
enum Source {
    Own,
    Adopted(String),
}

struct State {
    /// Looked up once: `web_sys::window()` checks the global's type on every call.
    window: web_sys::Window,
    api: EdgeApi,
    host: Host,
    options: WidgetOptions,
    /// This tab's outbox, its `localStorage` key and its lock (see the module doc).
    outbox: Outbox,
    session: Option<Session>,
    storage_key: String,
    lock: Option<LockGuard>,
    /// The tab's outbox is claimed and restored: until then nothing is sent or stored, and
    /// events wait in `noted`, to get their `seq` after the restored ones.
    claimed: bool,
    /// Events noted but not yet recorded (id, `seq`, JSON, outbox), oldest first: see
    /// [`State::note`].
    noted: Vec<Noted>,
    /// [`record_noted`] is reading details: a call from the page's code meanwhile leaves what
    /// it notes to that loop, after the events before it.
    recording: bool,
    adopted: Vec<Adopted>,
    asking_session: bool,
    /// A session request failed: no new one before this time (ms since the epoch), unless the
    /// browser comes back online.
    session_retry_ms: f64,
    /// The merchant's mode, once its config is known: until then nothing leaves.
    mode: Option<TelemetryMode>,
    /// `Paylater.consent(…)`, for `telemetry: "consent"` merchants.
    consent: bool,
    /// Global Privacy Control: events carry their required props only.
    minimal: bool,
    debug: bool,
    ids: IdSource,
    /// The one pending `pump` timer, and when it is due (ms since the epoch).
    timer: Option<(i32, f64)>,
    /// The timer of a `pump` queued for right after the current task.
    woken: Option<i32>,
    /// Made once: a closure per event would cost more than the event's own work.
    callbacks: Option<Callbacks>,
    /// The widget is destroyed: answers still arriving are applied, nothing new is scheduled.
    destroyed: bool,
    /// The outbox changed since it was last stored, and when that was.
    dirty: bool,
    stored_ms: f64,
    /// The furthest funnel step reached, for `session_abandoned`.
    last_step: Option<&'static str>,
    decided: bool,
    abandoned: bool,
    started_ms: f64,
}

/// The timer callbacks. They hold the state weakly, and the state holds them, so they live
/// exactly as long as anything may still schedule them.
struct Callbacks {
    wake: Closure<dyn FnMut()>,
    pump: Closure<dyn FnMut()>,
}

/// A listener the client added, kept to remove it again.
type Listener = (web_sys::EventTarget, &'static str, Closure<dyn FnMut(DomEvent)>);
/// Props from a widget DOM event's detail.
type PropsOf = fn(&JsValue) -> Map<String, Value>;

/// One widget's telemetry. Dropping it removes its listeners and timers.
pub struct Telemetry {
    state: Rc<RefCell<State>>,
    listeners: Vec<Listener>,
    observer: Option<IntersectionObserver>,
    _view_callback: Option<Closure<dyn FnMut(js_sys::Array, IntersectionObserver)>>,
}

fn now_ms() -> f64 {
    Date::now()
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn write_stored(storage: &web_sys::Storage, key: &str, session: Option<&Session>, outbox: &Outbox) {
    let stored = Stored {
        token: session.map(|s| s.token.clone()).unwrap_or_default(),
        expires_ms: session.map_or(0.0, |s| s.expires_ms),
        outbox: outbox.to_storage(),
    };
    if let Ok(json) = serde_json::to_string(&stored) {
        let _ = storage.set_item(key, &json);
    }
}

/// What a page stored under `key`: its session (maybe expired) and its outbox. `None` when
/// there is nothing there, or nothing readable.
fn read_stored(key: &str) -> Option<(Session, Outbox)> {
    let json = storage()?.get_item(key).ok().flatten()?;
    let stored = serde_json::from_str::<Stored>(&json).ok()?;
    let outbox = Outbox::from_storage(&stored.outbox).ok()?;
    let session = Session {
        token: stored.token,
        expires_ms: stored.expires_ms,
    };
    Some((session, outbox))
}

/// Event ids: UUIDv7s whose random bytes come from `crypto.getRandomValues` in blocks, one call
/// per 24 ids (a call costs more than formatting the id).
pub struct IdSource {
    pool: [u8; 240],
    used: usize,
}

impl Default for IdSource {
    fn default() -> Self {
        Self::new()
    }
}

impl IdSource {
    pub fn new() -> Self {
        Self {
            pool: [0; 240],
            used: 240,
        }
    }

    /// A new id for an event made at `now` (ms since the epoch).
    pub fn next(&mut self, now: f64) -> String {
        if self.used + 10 > self.pool.len() {
            let drawn = web_sys::window()
                .and_then(|w| w.crypto().ok())
                .and_then(|c| c.get_random_values_with_u8_array(&mut self.pool).ok());
            if drawn.is_none() {
                for byte in &mut self.pool {
                    *byte = (Math::random() * 256.0) as u8;
                }
            }
            self.used = 0;
        }
        let mut random = [0u8; 10];
        random.copy_from_slice(&self.pool[self.used..self.used + 10]);
        self.used += 10;
        uuid_v7(now as u64, &random)
    }
}

impl State {
    /// Whether events may leave the page (and be kept in storage).
    fn allowed(&self) -> bool {
        match self.mode {
            Some(TelemetryMode::Always) => true,
            Some(TelemetryMode::Consent) => self.consent,
            None => false,
        }
    }

    /// Stores this tab's outbox and those it took over, each under its own key.
    fn persist(&self) {
        // Before consent nothing is kept either; before the claim the key is not known to be ours.
        let (Some(storage), true, true) = (storage(), self.allowed(), self.claimed) else {
            return;
        };
        write_stored(&storage, &self.storage_key, self.session.as_ref(), &self.outbox);
        for adopted in &self.adopted {
            write_stored(&storage, &adopted.storage_key, Some(&adopted.session), &adopted.outbox);
        }
    }

    /// This tab's outbox, then those taken over.
    fn outboxes(&self) -> impl Iterator<Item = &Outbox> {
        std::iter::once(&self.outbox).chain(self.adopted.iter().map(|a| &a.outbox))
    }

    /// Whether a request is under way, from any outbox: one at a time in all.
    fn busy(&self) -> bool {
        self.outboxes().any(Outbox::in_flight)
    }

    fn outbox_mut(&mut self, source: &Source) -> Option<&mut Outbox> {
        match source {
            Source::Own => Some(&mut self.outbox),
            Source::Adopted(key) => self
                .adopted
                .iter_mut()
                .find(|a| &a.storage_key == key)
                .map(|a| &mut a.outbox),
        }
    }

    /// The next request due now: a closed tab's events first, under its session, as they are
    /// older; then this tab's, once it has a session.
    fn next_batch(&mut self, now: f64, has_session: bool) -> Option<(Source, Batch)> {
        let now = now as i64;
        for adopted in &mut self.adopted {
            if adopted.outbox.should_send(now)
                && let Some(batch) = adopted.outbox.next_batch(&adopted.session.token, BATCH_BODY_LIMIT)
            {
                return Some((Source::Adopted(adopted.storage_key.clone()), batch));
            }
        }
        let token = self.session.as_ref().filter(|_| has_session)?.token.clone();
        if !self.outbox.should_send(now) {
            return None;
        }
        let batch = self.outbox.next_batch(&token, BATCH_BODY_LIMIT)?;
        Some((Source::Own, batch))
    }

    /// Lets go of the outboxes taken over that are sent, or whose session can no longer send
    /// (their events join this tab's outbox, stored before theirs is removed). Never one with a
    /// request under way: its answer still comes. Called only while storing is allowed.
    fn retire_adopted(&mut self, now: f64) {
        let mut index = 0;
        while index < self.adopted.len() {
            let adopted = &self.adopted[index];
            let sendable = adopted.session.usable(now) && !adopted.outbox.needs_session();
            if adopted.outbox.in_flight() || (sendable && !adopted.outbox.is_empty()) {
                index += 1;
                continue;
            }
            let adopted = self.adopted.remove(index);
            if !adopted.outbox.is_empty() {
                self.outbox.take_over(adopted.outbox);
                self.persist();
            }
            if let Some(storage) = storage() {
                let _ = storage.remove_item(&adopted.storage_key);
            }
            // Dropping `adopted` lets go of its lock.
        }
    }

    /// The `paylater:telemetry` debug event; its detail is built only when `data-debug` is set.
    fn debug(&self, event: &str, detail: impl FnOnce() -> Value) {
        if self.debug {
            self.host
                .dispatch("telemetry", &serde_json::json!({ "event": event, "detail": detail() }));
        }
    }

    /// Notes an event that happened at `at` (ms since the epoch). This is all an event costs
    /// the handler that saw it (a click's, say): the id, `seq`, props and JSON are made by
    /// [`record_noted`], in the next `pump`, for all the events noted since at once. Handlers
    /// call [`note_event`], which also sees to that `pump`.
    fn note(&mut self, name: EventName, props: NotedProps, at: f64) {
        self.noted.push(Noted { name, props, at });
    }

    /// Records events whose props are read, oldest first ([`record_noted`]).
    fn record(&mut self, events: Vec<(EventName, Map<String, Value>, f64)>) {
        for (name, mut props, at) in events {
            // The amount a plan was picked, or an approval asked, for.
            if matches!(
                name,
                EventName::PlanSelected | EventName::ApprovalStarted | EventName::ApprovalSubmitted
            ) {
                props.insert("amount_minor".into(), serde_json::json!(self.options.amount));
                props.insert("currency".into(), serde_json::json!(self.options.currency));
            }
            if self.minimal {
                let required: Vec<&str> = name
                    .schema()
                    .iter()
                    .filter(|(_, _, r)| *r)
                    .map(|(k, _, _)| *k)
                    .collect();
                props.retain(|key, _| required.contains(&key.as_str()));
            }
            let event = Event {
                id: self.ids.next(at),
                name,
                ts: at as i64,
                seq: self.outbox.next_seq(),
                props,
            };
            let (id, seq) = if self.debug {
                (event.id.clone(), event.seq)
            } else {
                (String::new(), 0)
            };
            let pushed = self.outbox.push(event);
            self.debug(
                "queued",
                || serde_json::json!({ "name": name.as_str(), "id": id, "seq": seq, "result": format!("{pushed:?}") }),
            );
        }
        // Stored by this `pump`, or a later one: once for all the events of a second.
        self.dirty = true;
    }

    /// Stores the outbox if it changed and the last store is a second old; otherwise says when
    /// it may be stored.
    fn store_if_due(&mut self, now: f64) -> Option<i64> {
        if !self.dirty || !self.allowed() {
            return None;
        }
        let wait = self.store_wait_ms(now);
        if wait > 0 {
            return Some(wait);
        }
        self.persist();
        self.dirty = false;
        self.stored_ms = now;
        None
    }

    /// How long until the outbox may be stored again (0: now), a second after the last store.
    fn store_wait_ms(&self, now: f64) -> i64 {
        (self.stored_ms + STORE_EVERY_MS - now).max(0.0).ceil() as i64
    }

    /// Leaves one timer that runs `pump` in `wait_ms`, or earlier: a timer already due sooner
    /// is kept (an early `pump` only finds nothing to do and sets the timer again).
    fn schedule(&mut self, wait_ms: Option<i64>, now: f64) {
        let (Some(wait), false, Some(callbacks)) = (wait_ms, self.destroyed, self.callbacks.as_ref()) else {
            return;
        };
        let due = now + wait as f64;
        if let Some((handle, at)) = self.timer {
            if at <= due {
                return;
            }
            self.window.clear_timeout_with_handle(handle);
        }
        let wait = i32::try_from(wait.clamp(0, 600_000)).unwrap_or(600_000);
        let callback: &Function = callbacks.pump.as_ref().unchecked_ref();
        self.timer = self
            .window
            .set_timeout_with_callback_and_timeout_and_arguments_0(callback, wait)
            .ok()
            .map(|handle| (handle, due));
    }
}

/// Records the noted events, oldest first, once the tab is claimed. Their details are read
/// while the state is not borrowed: a getter may run the page's code, which may call the client
/// again, or note more events (recorded after these).
fn record_noted(state: &Rc<RefCell<State>>) {
    loop {
        let noted = {
            let mut s = state.borrow_mut();
            if !s.claimed || s.recording || s.noted.is_empty() {
                return;
            }
            s.recording = true;
            std::mem::take(&mut s.noted)
        };
        let events = noted
            .into_iter()
            .map(|Noted { name, props, at }| {
                let props = match props {
                    NotedProps::Ready(props) => props,
                    NotedProps::Detail(read, detail) => read(&detail),
                };
                (name, props, at)
            })
            .collect();
        let mut s = state.borrow_mut();
        s.recording = false;
        s.record(events);
    }
}

/// Sends what the outbox says is due, stores it when that is due, and leaves one timer for
/// whichever comes next.
fn pump(state: &Rc<RefCell<State>>) {
    record_noted(state);
    let mut s = state.borrow_mut();
    if s.destroyed || !s.claimed {
        return;
    }
    let now = now_ms();
    let store_in = s.store_if_due(now);
    if !s.allowed() {
        return;
    }
    s.retire_adopted(now);
    // This tab's session is asked for while closed tabs' events go out under theirs.
    let has_session = s.session.as_ref().is_some_and(|session| session.usable(now));
    let session_in = (!has_session && now < s.session_retry_ms).then(|| (s.session_retry_ms - now).ceil() as i64);
    if !has_session && session_in.is_none() {
        drop(s);
        renew_session(state);
        s = state.borrow_mut();
    }
    if s.busy() {
        // Its answer pumps again; meanwhile a timer records and stores what gets noted.
        s.schedule(store_in, now);
        return;
    }
    // A 429's `Retry-After` or a backoff holds back every request of this page, whichever
    // session it is for.
    let held_back = s
        .outboxes()
        .filter_map(|outbox| outbox.backoff_remaining_ms(now as i64))
        .max();
    if held_back.is_none()
        && let Some((source, batch)) = s.next_batch(now, has_session)
    {
        drop(s);
        send_batch(state, source, batch);
        return;
    }
    let wait = s
        .outboxes()
        .filter_map(|outbox| outbox.next_send_in_ms(now as i64))
        .map(|send_in| send_in.max(held_back.unwrap_or(0)))
        .chain(store_in)
        .chain(session_in)
        .min();
    s.schedule(wait, now);
}

/// Sends a batch made from `source`'s outbox and gives it the answer; then `pump` again.
fn send_batch(state: &Rc<RefCell<State>>, source: Source, batch: Batch) {
    let url = {
        let s = state.borrow();
        s.debug("sending", || serde_json::json!({ "ids": batch.ids }));
        s.api.events_url()
    };
    let state = Rc::clone(state);
    wasm_bindgen_futures::spawn_local(async move {
        let outcome = post_events(&url, &batch.body).await;
        {
            let mut s = state.borrow_mut();
            let Some(outbox) = s.outbox_mut(&source) else { return };
            let resolution = outbox.on_response(outcome, now_ms() as i64, Math::random());
            s.debug(
                "answered",
                || serde_json::json!({ "resolution": format!("{resolution:?}") }),
            );
            // A refused token: this tab's session is renewed; a closed tab's outbox joins this
            // tab's (`retire_adopted`, as its outbox now needs a session).
            if let (
                Resolution::Dropped {
                    renew_session: true, ..
                },
                Source::Own,
            ) = (&resolution, &source)
            {
                s.session = None;
            }
            s.dirty = true;
        }
        pump(&state);
    });
}

/// Notes an event that happened at `at` ([`State::note`]); then `pump` runs right after this
/// task only if that makes a request due. Otherwise one timer, within a second, records and
/// stores what was noted (a request's answer may do it sooner), so a busy page's events cost one
/// `pump` for many.
fn note_event(state: &Rc<RefCell<State>>, name: EventName, props: NotedProps, at: f64) {
    let due = {
        let mut s = state.borrow_mut();
        s.note(name, props, at);
        // Before the claim, the claim's own `pump` records them.
        if !s.claimed {
            return;
        }
        let due = !s.busy() && s.outbox.should_send_with(at as i64, s.noted.len());
        if !due {
            let store_in = s.store_wait_ms(at);
            s.schedule(Some(store_in), at);
        }
        due
    };
    if due {
        wake(state);
    }
}

/// Runs `pump` after the current task: the shopper's click handler returns first, and a burst of
/// events costs one decision.
fn wake(state: &Rc<RefCell<State>>) {
    let mut s = state.borrow_mut();
    if s.woken.is_some() || s.destroyed {
        return;
    }
    let Some(callbacks) = s.callbacks.as_ref() else { return };
    let callback: &Function = callbacks.wake.as_ref().unchecked_ref();
    s.woken = s
        .window
        .set_timeout_with_callback_and_timeout_and_arguments_0(callback, 0)
        .ok();
}

/// The two timer callbacks, holding the state weakly.
fn callbacks(state: &Rc<RefCell<State>>) -> Callbacks {
    let weak = Rc::downgrade(state);
    let wake = Closure::<dyn FnMut()>::new(move || {
        if let Some(state) = weak.upgrade() {
            state.borrow_mut().woken = None;
            pump(&state);
        }
    });
    let weak = Rc::downgrade(state);
    let pump = Closure::<dyn FnMut()>::new(move || {
        if let Some(state) = weak.upgrade() {
            state.borrow_mut().timer = None;
            pump(&state);
        }
    });
    Callbacks { wake, pump }
}

/// `POST /v1/events` as `text/plain` (no preflight), turned into the outbox's outcome.
async fn post_events(url: &str, body: &str) -> Outcome {
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_mode(RequestMode::Cors);
    init.set_credentials(RequestCredentials::Omit);
    init.set_body(&JsValue::from_str(body));
    let Some(window) = web_sys::window() else {
        return Outcome::network();
    };
    let Ok(response) = JsFuture::from(window.fetch_with_str_and_init(url, &init)).await else {
        return Outcome::network();
    };
    let Ok(response) = response.dyn_into::<Response>() else {
        return Outcome::network();
    };
    let status = response.status();
    if status == 202 {
        let text = match response.text() {
            Ok(promise) => JsFuture::from(promise).await.ok().and_then(|t| t.as_string()),
            Err(_) => None,
        };
        let rejected = text
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| v["rejected"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|r| r["index"].as_u64().and_then(|i| usize::try_from(i).ok()))
            .collect();
        return Outcome::Accepted { rejected };
    }
    let retry_after_ms = response
        .headers()
        .get("Retry-After")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(|seconds| seconds.saturating_mul(1000));
    Outcome::from_status(status, retry_after_ms)
}

/// Gets a session for the events (`POST /v1/sessions`), then sends what waits.
fn renew_session(state: &Rc<RefCell<State>>) {
    let (api, options) = {
        let mut s = state.borrow_mut();
        if s.asking_session {
            return;
        }
        s.asking_session = true;
        (s.api.clone(), s.options.clone())
    };
    let state = Rc::clone(state);
    wasm_bindgen_futures::spawn_local(async move {
        let created = api.create_session(&options, None).await;
        let retry = {
            let mut s = state.borrow_mut();
            s.asking_session = false;
            match created {
                Ok(created) => {
                    let expires_ms = Date::parse(&created.expires_at);
                    let expires_ms = if expires_ms.is_nan() {
                        now_ms() + 30.0 * 60_000.0
                    } else {
                        expires_ms
                    };
                    let fresh = s.session.is_none() || s.outbox.needs_session();
                    s.session = Some(Session {
                        token: created.session_token,
                        expires_ms,
                    });
                    if fresh {
                        s.outbox.session_renewed();
                    }
                    s.session_retry_ms = 0.0;
                    s.persist();
                    false
                }
                // Offline or refused: try again later; events wait in storage meanwhile.
                Err(_) => {
                    s.session_retry_ms = now_ms() + SESSION_RETRY_MS;
                    true
                }
            }
        };
        if retry {
            state.borrow_mut().schedule(Some(SESSION_RETRY_MS as i64), now_ms());
        } else {
            pump(&state);
        }
    });
}

/// The page is going away (or hidden, which on phones is often the last chance): the shopper's
/// interest without a decision becomes `session_abandoned`, and everything queued goes out with
/// `fetch(…, {keepalive})`, or `sendBeacon` where that is refused, within the shared quota.
fn page_exit(state: &Rc<RefCell<State>>) {
    let mut s = state.borrow_mut();
    if let (Some(step), false, false) = (s.last_step, s.decided, s.abandoned) {
        s.abandoned = true;
        let now = now_ms();
        let dwell = (now - s.started_ms).max(0.0) as u64;
        let props = serde_json::json!({ "last_step": step, "dwell_ms": dwell });
        if let Value::Object(props) = props {
            s.note(EventName::SessionAbandoned, NotedProps::Ready(props), now);
        }
    }
    drop(s);
    record_noted(state);
    let mut s = state.borrow_mut();
    s.outbox.set_page_hidden(true);
    s.persist();
    if !s.allowed() {
        return;
    }
    let url = s.api.events_url();
    let own = s.session.as_ref().map(|session| (&session.token, &s.outbox));
    let adopted = s.adopted.iter().map(|a| (&a.session.token, &a.outbox));
    // One quota for all of them: each outbox's chunks fit in what the ones before left.
    let mut sent_bytes = 0;
    for (token, outbox) in own.into_iter().chain(adopted) {
        for chunk in outbox.exit_chunks(token, sent_bytes) {
            sent_bytes += chunk.body.len();
            send_on_exit(&url, &chunk.body);
        }
    }
}

/// `pagehide`: after the exit requests, this page lets go of its locks, so the next page view
/// (a reload, or another tab) can take over what is left. The page may come back from the
/// back/forward cache: `pageshow` then claims a tab again ([`claim`]).
fn page_gone(state: &Rc<RefCell<State>>) {
    page_exit(state);
    let mut s = state.borrow_mut();
    if !s.claimed {
        return;
    }
    s.claimed = false;
    // Dropped guards let go of their locks.
    s.lock = None;
    s.adopted.clear();
}

/// Claims this page's tab in the background ([`claim`]).
fn start_claim(state: &Rc<RefCell<State>>) {
    let (window, merchant_key) = {
        let s = state.borrow();
        (s.window.clone(), s.options.key.clone())
    };
    wasm_bindgen_futures::spawn_local(claim(Rc::downgrade(state), window, merchant_key));
}

/// Claims this page's tab: its id (from `sessionStorage`, or a new one), that id's lock and
/// what the tab stored; then every outbox of the merchant key whose lock is free, which is a
/// closed tab's (see the module doc). The events noted meanwhile then get their `seq`, after the
/// restored ones, and `pump` runs.
async fn claim(state: Weak<RefCell<State>>, window: web_sys::Window, merchant_key: String) {
    let tabs = window.session_storage().ok().flatten();
    let tab_key = format!("paylater:tab:{merchant_key}");
    let new_tab = || IdSource::new().next(now_ms());
    let mut tab = tabs
        .as_ref()
        .and_then(|tabs| tabs.get_item(&tab_key).ok().flatten())
        .unwrap_or_else(new_tab);
    let mut lock = locks::acquire(&window, &queue_storage_key(&merchant_key, &tab), Some(CLAIM_WAIT_MS)).await;
    if lock.is_none() {
        // Another live page has this id (a duplicated tab): this one becomes a new tab.
        tab = new_tab();
        lock = locks::acquire(&window, &queue_storage_key(&merchant_key, &tab), None).await;
    }
    if let Some(tabs) = &tabs {
        let _ = tabs.set_item(&tab_key, &tab);
    }
    let storage_key = queue_storage_key(&merchant_key, &tab);
    let others: Vec<String> = storage()
        .map(|storage| {
            (0..storage.length().unwrap_or(0))
                .filter_map(|index| storage.key(index).ok().flatten())
                .filter(|key| is_queue_storage_key(key, &merchant_key) && *key != storage_key)
                .collect()
        })
        .unwrap_or_default();
    let mut closed_tabs = Vec::new();
    for key in others {
        // A lock that is not free is a live page's.
        if let Some(guard) = locks::acquire(&window, &key, None).await {
            closed_tabs.push((key, guard));
        }
    }
    let Some(state) = state.upgrade() else { return };
    let mut s = state.borrow_mut();
    if s.destroyed || s.claimed {
        return;
    }
    let now = now_ms();
    if let Some((session, stored)) = read_stored(&storage_key) {
        s.outbox.merge(stored);
        if !s.session.as_ref().is_some_and(|own| own.usable(now)) {
            s.session = Some(session).filter(|stored| stored.usable(now));
        }
    }
    // Sent, or handed to this tab's outbox, by `pump` once the merchant allows it.
    for (key, guard) in closed_tabs {
        match read_stored(&key) {
            Some((session, outbox)) => s.adopted.push(Adopted {
                storage_key: key,
                session,
                outbox,
                _lock: guard,
            }),
            // Gone meanwhile, or unreadable: nothing to send.
            None => {
                if let Some(storage) = storage() {
                    let _ = storage.remove_item(&key);
                }
            }
        }
    }
    s.storage_key = storage_key;
    s.lock = lock;
    s.claimed = true;
    s.dirty = true;
    s.stored_ms = 0.0;
    drop(s);
    pump(&state);
}

fn send_on_exit(url: &str, body: &str) {
    let Some(window) = web_sys::window() else { return };
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_mode(RequestMode::Cors);
    init.set_credentials(RequestCredentials::Omit);
    // The page may be gone before the answer: keepalive lets the request outlive it.
    let _ = Reflect::set(&init, &JsValue::from_str("keepalive"), &JsValue::TRUE);
    init.set_body(&JsValue::from_str(body));
    let promise = window.fetch_with_str_and_init(url, &init);
    // A refused keepalive (quota, or an old browser) falls back to a beacon: `text/plain`, so
    // it needs no preflight and carries no credentials.
    let (url, body) = (url.to_owned(), body.to_owned());
    let fallback = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
        let Some(window) = web_sys::window() else { return };
        let parts = js_sys::Array::of1(&JsValue::from_str(&body));
        let bag = BlobPropertyBag::new();
        bag.set_type("text/plain");
        if let Ok(blob) = Blob::new_with_str_sequence_and_options(&parts, &bag) {
            let _ = window.navigator().send_beacon_with_opt_blob(&url, Some(&blob));
        }
    });
    let _ = promise.catch(&fallback);
    // The page is leaving; the closure must outlive this call to run at all.
    fallback.forget();
}

impl Telemetry {
    /// Starts telemetry for the widget on `host`: restores what a previous page view left,
    /// listens to the widget's DOM events and the page's lifecycle, and watches visibility.
    /// `None` outside a window (a worker, say), where there is no page to measure.
    pub fn start(host_element: Element, options: WidgetOptions, api: EdgeApi, raw: &JsValue) -> Option<Self> {
        let window = web_sys::window()?;
        let flag = |name: &str| {
            Reflect::get(raw, &JsValue::from_str(name))
                .ok()
                .and_then(|v| v.as_bool())
        };
        let gpc = Reflect::get(&window.navigator(), &JsValue::from_str("globalPrivacyControl"))
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        // The tab's outbox and session are restored by `claim`, which runs next: the same
        // session goes on while its token lives, so the edge's dedup covers resends.
        let state = Rc::new(RefCell::new(State {
            window,
            api,
            host: Host::new(host_element.clone()),
            options,
            outbox: Outbox::new(),
            session: None,
            storage_key: String::new(),
            lock: None,
            claimed: false,
            noted: Vec::new(),
            recording: false,
            adopted: Vec::new(),
            asking_session: false,
            session_retry_ms: 0.0,
            mode: None,
            consent: flag("consent").unwrap_or(false),
            minimal: gpc,
            debug: flag("debug").unwrap_or(false),
            ids: IdSource::new(),
            timer: None,
            woken: None,
            callbacks: None,
            destroyed: false,
            dirty: false,
            stored_ms: 0.0,
            last_step: None,
            decided: false,
            abandoned: false,
            started_ms: now_ms(),
        }));
        let made = callbacks(&state);
        state.borrow_mut().callbacks = Some(made);
        let mut telemetry = Self {
            state,
            listeners: Vec::new(),
            observer: None,
            _view_callback: None,
        };
        start_claim(&telemetry.state);
        telemetry.early_errors(raw);
        telemetry.listen_to_widget(&host_element);
        telemetry.listen_to_page();
        telemetry.watch_visibility(&host_element);
        let number = |name: &str| {
            Reflect::get(raw, &JsValue::from_str(name))
                .ok()
                .and_then(|v| v.as_f64())
        };
        match (number("loadMs"), number("mountedAt")) {
            (Some(load_ms), _) => telemetry.loaded(load_ms),
            // The card is not ready yet: its first `paylater:ready` is the moment.
            (None, Some(mounted_at)) => {
                let state = Rc::clone(&telemetry.state);
                let once = Rc::new(RefCell::new(false));
                telemetry.add(host_element.clone().into(), "paylater:ready", move |_| {
                    if once.replace(true) {
                        return;
                    }
                    let now = web_sys::window()
                        .and_then(|w| w.performance())
                        .map_or(mounted_at, |p| p.now());
                    note_loaded(&state, now - mounted_at);
                });
            }
            (None, None) => {}
        }
        pump(&telemetry.state);
        Some(telemetry)
    }

    fn add(&mut self, target: web_sys::EventTarget, name: &'static str, handler: impl FnMut(DomEvent) + 'static) {
        let closure = Closure::<dyn FnMut(DomEvent)>::new(handler);
        if target
            .add_event_listener_with_callback(name, closure.as_ref().unchecked_ref())
            .is_ok()
        {
            self.listeners.push((target, name, closure));
        }
    }

    /// The `paylater:error`s the loader heard before this bundle ran (`errors: [{code, at}]`),
    /// at the time each happened.
    fn early_errors(&self, raw: &JsValue) {
        let Some(errors) = Reflect::get(raw, &JsValue::from_str("errors"))
            .ok()
            .filter(Array::is_array)
            .map(|errors| Array::from(&errors))
        else {
            return;
        };
        let mut s = self.state.borrow_mut();
        for error in errors.iter() {
            let error = Detail::of(&error);
            let at = error.at().ok().and_then(|at| at.as_f64()).unwrap_or_else(now_ms);
            let mut props = Map::new();
            props.insert("code".into(), text_value(error.code()));
            s.note(EventName::WidgetError, NotedProps::Ready(props), at);
        }
    }

    /// `widget_loaded`, once the card has painted (the loader measured the time).
    pub fn loaded(&self, load_ms: f64) {
        note_loaded(&self.state, load_ms);
    }

    /// Records a funnel step the dialog itself sees (terms opened or closed, approval started
    /// or submitted).
    pub fn step(&self, name: EventName, plan_id: Option<&str>) {
        let mut props = Map::new();
        if let Some(plan) = plan_id {
            props.insert("plan_id".into(), Value::from(plan));
        }
        self.state.borrow_mut().last_step = Some(name.as_str());
        note_event(&self.state, name, NotedProps::Ready(props), now_ms());
    }

    /// New options from the page (an amount change is worth telling the edge: plan props carry it).
    pub fn update(&self, options: WidgetOptions) {
        // Events noted before the change carry the amount they were made with.
        record_noted(&self.state);
        self.state.borrow_mut().options = options;
    }

    /// `Paylater.consent(…)`: with consent, what waited is sent; without, nothing is.
    pub fn consent(&self, given: bool) {
        self.state.borrow_mut().consent = given;
        self.state.borrow().persist();
        pump(&self.state);
    }

    /// The merchant's telemetry mode, from its config.
    pub fn configure(&self, mode: TelemetryMode) {
        if self.state.borrow().mode == Some(mode) {
            return;
        }
        self.state.borrow_mut().mode = Some(mode);
        self.state.borrow().persist();
        pump(&self.state);
    }

    fn listen_to_widget(&mut self, host: &Element) {
        let target: web_sys::EventTarget = host.clone().into();
        let on = |state: &Rc<RefCell<State>>, name: EventName, read: PropsOf| {
            let state = Rc::clone(state);
            move |event: DomEvent| {
                // `detail` is read by property, as any event's (a plain `Event` has none); its
                // fields are read when the event is recorded.
                let detail = event.unchecked_ref::<web_sys::CustomEvent>().detail();
                let now = now_ms();
                {
                    let mut s = state.borrow_mut();
                    if matches!(name, EventName::ApprovalApproved | EventName::ApprovalDeclined) {
                        s.decided = true;
                    }
                    if name == EventName::PlanSelected {
                        s.last_step = Some(name.as_str());
                    }
                }
                note_event(&state, name, NotedProps::Detail(read, detail), now);
            }
        };
        let handlers: [(&'static str, EventName, PropsOf); 5] = [
            ("paylater:plan-selected", EventName::PlanSelected, |d| {
                let mut p = Map::new();
                if let Some(plan) = text(Detail::of(d).plan_id()) {
                    p.insert("plan_id".into(), Value::from(plan));
                }
                p
            }),
            ("paylater:approved", EventName::ApprovalApproved, |d| {
                let detail = Detail::of(d);
                let mut p = Map::new();
                p.insert("approval_id".into(), text_value(detail.approval_id()));
                p.insert("plan_id".into(), text_value(detail.plan_id()));
                p
            }),
            ("paylater:declined", EventName::ApprovalDeclined, declined_props),
            // A review is not a yes: the funnel counts it with the declines, its reasons say why.
            ("paylater:review", EventName::ApprovalDeclined, declined_props),
            ("paylater:error", EventName::WidgetError, |d| {
                let mut p = Map::new();
                p.insert("code".into(), text_value(Detail::of(d).code()));
                p
            }),
        ];
        for (dom_name, name, read) in handlers {
            let handler = on(&self.state, name, read);
            self.add(target.clone(), dom_name, handler);
        }
    }

    fn listen_to_page(&mut self) {
        let Some(window) = web_sys::window() else { return };
        let document = window.document();
        let exit = {
            let state = Rc::clone(&self.state);
            move |_| page_gone(&state)
        };
        self.add(window.clone().into(), "pagehide", exit);
        // Back from the back/forward cache: the tab's lock was let go on `pagehide`.
        let back = {
            let state = Rc::clone(&self.state);
            move |event: DomEvent| {
                let persisted = Reflect::get(&event, &JsValue::from_str("persisted"))
                    .ok()
                    .and_then(|p| p.as_bool());
                if persisted == Some(true) && !state.borrow().claimed {
                    start_claim(&state);
                }
            }
        };
        self.add(window.clone().into(), "pageshow", back);
        if let Some(document) = document {
            let state = Rc::clone(&self.state);
            let doc = document.clone();
            self.add(document.into(), "visibilitychange", move |_| {
                if doc.visibility_state() == web_sys::VisibilityState::Hidden {
                    page_exit(&state);
                } else {
                    state.borrow_mut().outbox.set_page_hidden(false);
                    pump(&state);
                }
            });
        }
        // Back online: what backed off during the offline spell goes now.
        let state = Rc::clone(&self.state);
        self.add(window.into(), "online", move |_| {
            {
                let mut s = state.borrow_mut();
                s.outbox.network_restored();
                for adopted in &mut s.adopted {
                    adopted.outbox.network_restored();
                }
                s.session_retry_ms = 0.0;
            }
            pump(&state);
        });
    }

    /// `widget_viewed`: at least half the widget on screen for a second, once.
    fn watch_visibility(&mut self, host: &Element) {
        let state = Rc::clone(&self.state);
        let timer: Rc<RefCell<Option<i32>>> = Rc::new(RefCell::new(None));
        let callback = Closure::<dyn FnMut(js_sys::Array, IntersectionObserver)>::new(
            move |entries: js_sys::Array, observer: IntersectionObserver| {
                let visible = entries.iter().any(|entry| {
                    entry
                        .dyn_into::<IntersectionObserverEntry>()
                        .is_ok_and(|e| e.intersection_ratio() >= 0.5)
                });
                let Some(window) = web_sys::window() else { return };
                if let Some(pending) = timer.borrow_mut().take() {
                    window.clear_timeout_with_handle(pending);
                }
                if visible {
                    let state = Rc::clone(&state);
                    let fire = Closure::once_into_js(move || {
                        observer.disconnect();
                        let props = serde_json::json!({ "visible_ms": VIEWED_AFTER_MS });
                        if let Value::Object(props) = props {
                            note_event(&state, EventName::WidgetViewed, NotedProps::Ready(props), now_ms());
                        }
                    });
                    *timer.borrow_mut() = window
                        .set_timeout_with_callback_and_timeout_and_arguments_0(fire.unchecked_ref(), VIEWED_AFTER_MS)
                        .ok();
                }
            },
        );
        let init = IntersectionObserverInit::new();
        init.set_threshold(&JsValue::from_f64(0.5));
        if let Ok(observer) = IntersectionObserver::new_with_options(callback.as_ref().unchecked_ref(), &init) {
            observer.observe(host);
            self.observer = Some(observer);
            self._view_callback = Some(callback);
        }
    }
}

/// Notes `widget_loaded`: the card took `load_ms` to paint.
fn note_loaded(state: &Rc<RefCell<State>>, load_ms: f64) {
    let props = {
        let s = state.borrow();
        serde_json::json!({
            "load_ms": load_ms.max(0.0) as u64,
            "locale": s.options.locale,
            "version": env!("CARGO_PKG_VERSION"),
            "amount_minor": s.options.amount,
            "currency": s.options.currency,
        })
    };
    if let Value::Object(props) = props {
        note_event(state, EventName::WidgetLoaded, NotedProps::Ready(props), now_ms());
    }
}

fn declined_props(detail: &JsValue) -> Map<String, Value> {
    let detail = Detail::of(detail);
    let mut props = Map::new();
    props.insert("approval_id".into(), text_value(detail.approval_id()));
    let codes: Vec<Value> = detail
        .reasons()
        .ok()
        .filter(Array::is_array)
        .map(|reasons| {
            Array::from(&reasons)
                .iter()
                .filter_map(|reason| text(Detail::of(&reason).code()).map(Value::from))
                .collect()
        })
        .unwrap_or_default();
    props.insert("reason_codes".into(), Value::Array(codes));
    props
}

#[wasm_bindgen]
extern "C" {
    /// The fields of a widget event's detail (and of the loader's early errors), read by
    /// property: one call each, with no key string made per event. Each getter throws on
    /// `null` or `undefined`, hence `catch`.
    type Detail;
    #[wasm_bindgen(method, getter, structural, catch)]
    fn plan_id(this: &Detail) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, structural, catch)]
    fn approval_id(this: &Detail) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, structural, catch)]
    fn code(this: &Detail) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, structural, catch)]
    fn reasons(this: &Detail) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter, structural, catch)]
    fn at(this: &Detail) -> Result<JsValue, JsValue>;
}

impl Detail {
    /// Any value seen as a detail: a missing field reads as `undefined`.
    fn of(value: &JsValue) -> &Detail {
        value.unchecked_ref()
    }
}

/// A string field, read in place (no JSON round trip per event); `None` if it is missing, not
/// a string, or its object is not one.
fn text(field: Result<JsValue, JsValue>) -> Option<String> {
    field.ok().and_then(|value| value.as_string())
}

/// [`text`] as a prop: the string, or `null` where the detail has none (the edge's schema then
/// refuses that one event, and says why).
fn text_value(field: Result<JsValue, JsValue>) -> Value {
    text(field).map_or(Value::Null, Value::from)
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        for (target, name, listener) in self.listeners.drain(..) {
            let _ = target.remove_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
        }
        if let Some(observer) = self.observer.take() {
            observer.disconnect();
        }
        // What waits is kept for the next page view; a destroyed widget sends what it can now,
        // and lets go of its locks: what it stored is any next page's to take over (or this
        // page's next widget's).
        page_gone(&self.state);
        let mut s = self.state.borrow_mut();
        s.destroyed = true;
        if let Some(window) = web_sys::window() {
            for timer in [s.timer.take().map(|(timer, _)| timer), s.woken.take()]
                .into_iter()
                .flatten()
            {
                window.clear_timeout_with_handle(timer);
            }
        }
    }
}
