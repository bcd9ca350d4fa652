//! The funnel telemetry client (CONTRACT §3 events): the browser layer around
//! `paylater_outbox` (`widget-outbox/`), which makes every decision (batching, backoff, what to
//! drop, exit chunks, storage). This layer only owns the clock, randomness, `fetch`,
//! `sendBeacon`, `localStorage` and the page's lifecycle events, and it lives in the dialog's
//! bundle, which loads when the page is idle: nothing here is on the first paint's path.
//!
//! # Before this bundle runs
//! The loader notes the funnel's first steps from the moment the card is ready (loaded, viewed,
//! errors, and terms opened when the plans could not load) and hands them over with the time
//! each happened ([`Telemetry::start`], then [`Telemetry::note`]). A page closed before this
//! bundle ran leaves them in `localStorage` (`paylater:early:{key}:…`); the next page view's
//! [`claim`] records them.
//!
//! # Consent
//! `Paylater.consent(false)` is a withdrawal: what waits is forgotten, its storage removed, and
//! nothing noted until consent is given again is ever recorded.
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
use paylater_card::edge_api::{EdgeApi, EdgeApiError};
use paylater_card::host::Host;
use paylater_outbox::early::{self, EARLY_KEYS_LIMIT, EARLY_NOTES_LIMIT, early_prefix};
use paylater_outbox::{BATCH_BODY_LIMIT, Batch, Outbox, Resolution, is_queue_storage_key, queue_storage_key};
use paylater_shared::WidgetOptions;
use paylater_shared::merchant::TelemetryMode;
use paylater_shared::session::SessionCreated;
use paylater_shared::telemetry::{Event, EventName, uuid_v7};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;
use web_sys::{Blob, BlobPropertyBag, Element, Event as DomEvent, RequestCredentials, RequestInit, RequestMode};

use crate::locks::{self, LockGuard};

/// Renew a session this long before it expires.
const RENEW_BEFORE_MS: f64 = 120_000.0;
/// Recorded events are stored at most this often while the page lives, and within about twice
/// this; leaving the page (hide, close, reload) stores at once, so this only spaces the writes
/// of a busy page.
const STORE_EVERY_MS: f64 = 1_000.0;
/// A failed session request is tried again after this long (or when the browser is back online).
const SESSION_RETRY_MS: f64 = 30_000.0;
/// The approval form runs in the funnel's session only if that lives at least this much longer.
const CHECKOUT_MIN_LIFE_MS: f64 = 10.0 * 60_000.0;
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
    #[serde(default)]
    made_for: String,
}

struct Session {
    token: String,
    expires_ms: f64,
    /// The terms the session was made for ([`session_terms`]): the approval form may run in it
    /// only for the same ones.
    made_for: String,
}

impl Session {
    /// Still good for sending (renewed, or given up, this long before it expires).
    fn usable(&self, now: f64) -> bool {
        !self.token.is_empty() && self.expires_ms - RENEW_BEFORE_MS > now
    }
}

/// What a session is bound to: the amount, the currency and the shopper's date it counts from.
fn session_terms(options: &WidgetOptions) -> String {
    let today = paylater_card::format::local_today()
        .map(|d| d.to_string())
        .unwrap_or_default();
    format!("{}:{}:{today}", options.amount, options.currency)
}

/// A closed tab's outbox that this page took over, sent under that tab's session while that
/// lives; its lock, held until it is retired, keeps any other page from taking it too.
struct Adopted {
    storage_key: String,
    session: Session,
    outbox: Outbox,
    /// Its session expired: a renewal (same session id) is under way, or was refused, after
    /// which its events join this tab's outbox.
    renewing: bool,
    renewal_refused: bool,
    /// A renewal got no answer: none again before this (ms since the epoch) or `online`.
    renew_after_ms: f64,
    /// Held while this is kept; dropping it lets go. `None` for this page's own previous
    /// session's events ([`Telemetry::use_session`]): nothing else sends under that session.
    _lock: Option<LockGuard>,
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
    /// This tab's stored session, expired while events waited: renewed (same id) before a new
    /// one is made.
    stale: Option<Session>,
    /// A session request failed: no new one before this time (ms since the epoch), unless the
    /// browser comes back online.
    session_retry_ms: f64,
    /// The merchant's mode, once its config is known: until then nothing leaves.
    mode: Option<TelemetryMode>,
    /// `Paylater.consent(…)`, for `telemetry: "consent"` merchants.
    consent: bool,
    /// `Paylater.consent(false)`, for every merchant: nothing is noted, kept or sent.
    withdrawn: bool,
    /// Early steps a closed page left in storage, recorded into this outbox: each key is
    /// removed (and its lock let go) once the outbox holding them is stored.
    early_keys: Vec<(String, LockGuard)>,
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
    /// An approval was decided in this tab's session: it holds its one approval, so the next
    /// approval form needs a session of its own.
    session_approved: bool,
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
        made_for: session.map(|s| s.made_for.clone()).unwrap_or_default(),
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
        made_for: stored.made_for,
    };
    Some((session, outbox))
}

/// The early steps a page closed before its dialog's bundle ran left under `key` (see the
/// module doc): those this widget can record ([`paylater_outbox::early`]).
fn read_early(key: &str, options: &WidgetOptions) -> Vec<(EventName, Map<String, Value>, f64)> {
    let Some(json) = storage().and_then(|storage| storage.get_item(key).ok().flatten()) else {
        return Vec::new();
    };
    early::early_events(&json, options.amount, options.currency, now_ms(), VERSION)
}

/// This widget's version, as `widget_loaded` reports it.
const VERSION: &str = env!("CARGO_PKG_VERSION");

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
        if self.withdrawn {
            return false;
        }
        match self.mode {
            Some(TelemetryMode::Always) => true,
            Some(TelemetryMode::Consent) => self.consent,
            None => false,
        }
    }

    /// Stores this tab's outbox and those it took over, each under its own key; then the
    /// early steps recorded into it are no longer needed where a closed page left them.
    fn persist(&mut self) {
        // Before consent nothing is kept either; before the claim the key is not known to be ours.
        let (Some(storage), true, true) = (storage(), self.allowed(), self.claimed) else {
            return;
        };
        write_stored(&storage, &self.storage_key, self.session.as_ref(), &self.outbox);
        for adopted in &self.adopted {
            write_stored(&storage, &adopted.storage_key, Some(&adopted.session), &adopted.outbox);
        }
        // Dropping each guard lets go of its lock.
        for (key, _lock) in self.early_keys.drain(..) {
            let _ = storage.remove_item(&key);
        }
    }

    /// A withdrawal of consent: everything waiting is forgotten, in memory and in storage.
    fn forget(&mut self) {
        let storage = storage();
        let keys = std::iter::once(self.storage_key.clone())
            .chain(self.adopted.drain(..).map(|adopted| adopted.storage_key))
            .chain(self.early_keys.drain(..).map(|(key, _)| key));
        for key in keys.filter(|key| !key.is_empty()) {
            if let Some(storage) = &storage {
                let _ = storage.remove_item(&key);
            }
        }
        self.noted.clear();
        // An answer still on its way finds nothing in flight and changes nothing.
        self.outbox = Outbox::new();
        self.session = None;
        self.stale = None;
        self.dirty = false;
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
                && let Some(batch) = adopted.outbox.next_batch(&adopted.session.token, BATCH_BODY_LIMIT, now)
            {
                return Some((Source::Adopted(adopted.storage_key.clone()), batch));
            }
        }
        let token = self.session.as_ref().filter(|_| has_session)?.token.clone();
        if !self.outbox.should_send(now) {
            return None;
        }
        let batch = self.outbox.next_batch(&token, BATCH_BODY_LIMIT, now)?;
        Some((Source::Own, batch))
    }

    /// Lets go of the outboxes taken over that are sent, or whose session can no longer send
    /// (their events join this tab's outbox, stored before theirs is removed). Never one with a
    /// request under way: its answer still comes. An expired session is first renewed (same
    /// id): returns the outboxes whose renewal should start now, by key and token. Called only
    /// while storing is allowed.
    fn retire_adopted(&mut self, now: f64) -> Vec<(String, String)> {
        let mut renew = Vec::new();
        let mut index = 0;
        while index < self.adopted.len() {
            let adopted = &mut self.adopted[index];
            let sendable = adopted.session.usable(now) && !adopted.outbox.needs_session();
            let renewable = !adopted.session.token.is_empty() && !adopted.renewal_refused;
            if !sendable && renewable && !adopted.outbox.is_empty() && !adopted.outbox.in_flight() {
                if !adopted.renewing && now >= adopted.renew_after_ms {
                    adopted.renewing = true;
                    renew.push((adopted.storage_key.clone(), adopted.session.token.clone()));
                }
                index += 1;
                continue;
            }
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
        renew
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
        if !self.withdrawn {
            self.noted.push(Noted { name, props, at });
        }
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
    let renewals = s.retire_adopted(now);
    if !renewals.is_empty() {
        drop(s);
        for (key, token) in renewals {
            renew_adopted(state, key, token);
        }
        s = state.borrow_mut();
    }
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
        let outcome = crate::requests::post_events(&url, &batch.body).await;
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

/// Renews the expired session of a closed tab's outbox (`key`); refused, its events join this
/// tab's outbox ([`State::retire_adopted`]). Then `pump`.
fn renew_adopted(state: &Rc<RefCell<State>>, key: String, token: String) {
    let (api, merchant_key) = {
        let s = state.borrow();
        (s.api.clone(), s.options.key.clone())
    };
    let state = Rc::clone(state);
    wasm_bindgen_futures::spawn_local(async move {
        let renewed = crate::requests::renew_session(&api, &merchant_key, &token).await;
        {
            let mut s = state.borrow_mut();
            let Some(adopted) = s.adopted.iter_mut().find(|a| a.storage_key == key) else {
                return;
            };
            adopted.renewing = false;
            match renewed {
                Ok(created) => {
                    adopted.session = Session {
                        token: created.session_token,
                        expires_ms: expiry_ms(&created.expires_at),
                        made_for: std::mem::take(&mut adopted.session.made_for),
                    };
                    adopted.outbox.session_renewed();
                }
                // No answer: tried again later, or once back online. Refused: a new session
                // takes them.
                Err(EdgeApiError::Network) => {
                    let retry_at = now_ms() + SESSION_RETRY_MS;
                    adopted.renew_after_ms = retry_at;
                    s.dirty = true;
                    s.schedule(Some(SESSION_RETRY_MS as i64), now_ms());
                    return;
                }
                Err(_) => adopted.renewal_refused = true,
            }
            s.dirty = true;
        }
        pump(&state);
    });
}

/// A session's `expires_at` (RFC 3339) in ms since the epoch; unreadable, half an hour from now.
fn expiry_ms(expires_at: &str) -> f64 {
    let expires_ms = Date::parse(expires_at);
    if expires_ms.is_nan() {
        now_ms() + 30.0 * 60_000.0
    } else {
        expires_ms
    }
}

/// Gets a session for the events (`POST /v1/sessions`), then sends what waits.
fn renew_session(state: &Rc<RefCell<State>>) {
    let (api, options, stale) = {
        let mut s = state.borrow_mut();
        if s.asking_session {
            return;
        }
        s.asking_session = true;
        (s.api.clone(), s.options.clone(), s.stale.take())
    };
    let state = Rc::clone(state);
    wasm_bindgen_futures::spawn_local(async move {
        // The tab's expired session goes on (same id) while it holds events an exit request may
        // have delivered already: the edge then recognises them.
        let renewed = match &stale {
            Some(stale) => Some(crate::requests::renew_session(&api, &options.key, &stale.token).await),
            None => None,
        };
        let (created, made_for, same_id) = match renewed {
            Some(Ok(created)) => (Ok(created), stale.map(|stale| stale.made_for).unwrap_or_default(), true),
            Some(Err(EdgeApiError::Network)) => {
                state.borrow_mut().stale = stale;
                (Err(EdgeApiError::Network), String::new(), true)
            }
            _ => (
                crate::requests::create_session(&api, &options).await,
                session_terms(&options),
                false,
            ),
        };
        let retry = {
            let mut s = state.borrow_mut();
            s.asking_session = false;
            // Withdrawn meanwhile: this session is forgotten with the rest.
            if s.withdrawn {
                return;
            }
            match created {
                Ok(created) => {
                    let expires_ms = expiry_ms(&created.expires_at);
                    // A new session holds no approval yet.
                    s.session_approved &= same_id;
                    let fresh = s.session.is_none() || s.outbox.needs_session();
                    s.session = Some(Session {
                        token: created.session_token,
                        expires_ms,
                        made_for,
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

/// The page is going away (`leaving`), or hidden, which on phones is often the last chance to
/// send: everything queued goes out with `fetch(…, {keepalive})`, or `sendBeacon` where that is
/// refused, within the shared quota, unless the edge asked to wait (`Retry-After`, a backoff):
/// then it waits in storage. Only leaving turns the shopper's interest without a decision into
/// `session_abandoned`: switching tabs is not abandoning.
fn page_exit(state: &Rc<RefCell<State>>, leaving: bool) {
    let mut s = state.borrow_mut();
    if let (true, Some(step), false, false) = (leaving, s.last_step, s.decided, s.abandoned) {
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
    let now = now_ms() as i64;
    let own = s.session.as_ref().map(|session| (&session.token, &s.outbox));
    let adopted = s.adopted.iter().map(|a| (&a.session.token, &a.outbox));
    // One quota for all of them: each outbox's chunks fit in what the ones before left.
    let mut sent_bytes = 0;
    let sendable = own
        .into_iter()
        .chain(adopted)
        .filter(|(_, outbox)| outbox.backoff_remaining_ms(now).is_none() && !outbox.needs_session());
    for (token, outbox) in sendable {
        for chunk in outbox.exit_chunks(token, sent_bytes, now) {
            sent_bytes += chunk.body.len();
            send_on_exit(&url, &chunk.body);
        }
    }
}

/// `pagehide`: after the exit requests, this page lets go of its locks, so the next page view
/// (a reload, or another tab) can take over what is left. The page may come back from the
/// back/forward cache: `pageshow` then claims a tab again ([`claim`]).
fn page_gone(state: &Rc<RefCell<State>>) {
    page_exit(state, true);
    let mut s = state.borrow_mut();
    if !s.claimed {
        drop(s);
        stash_unclaimed(state);
        return;
    }
    s.claimed = false;
    // Dropped guards let go of their locks.
    s.lock = None;
    s.adopted.clear();
}

/// The page is left before its tab was claimed (a claim waits up to two seconds for a reload's
/// lock): what was noted is stored as early steps (see the module doc) for the next page view,
/// where the merchant's mode or the shopper's consent allows keeping anything.
fn stash_unclaimed(state: &Rc<RefCell<State>>) {
    let noted = {
        let mut s = state.borrow_mut();
        let keep = !s.withdrawn && (s.consent || s.mode == Some(TelemetryMode::Always));
        if !keep || s.noted.is_empty() {
            return;
        }
        std::mem::take(&mut s.noted)
    };
    // Details are read with the state free: a getter may run the page's code.
    let notes: Vec<Value> = noted
        .into_iter()
        .map(|Noted { name, props, at }| {
            let props = match props {
                NotedProps::Ready(props) => props,
                NotedProps::Detail(read, detail) => read(&detail),
            };
            serde_json::json!({ "name": name.as_str(), "at": at, "props": props })
        })
        .collect();
    let mut s = state.borrow_mut();
    let key = format!("{}{}", early_prefix(&s.options.key), s.ids.next(now_ms()));
    if let (Some(storage), Ok(json)) = (storage(), serde_json::to_string(&notes)) {
        let _ = storage.set_item(&key, &json);
    }
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
    // Early steps of pages closed before their dialog's bundle ran; the lock keeps another page
    // from recording them too while this one does.
    let early_prefix = early_prefix(&merchant_key);
    let early_keys: Vec<String> = storage()
        .map(|storage| {
            (0..storage.length().unwrap_or(0))
                .filter_map(|index| storage.key(index).ok().flatten())
                .filter(|key| key.starts_with(&early_prefix))
                .collect()
        })
        .unwrap_or_default();
    let mut early = Vec::new();
    for key in early_keys.into_iter().take(EARLY_KEYS_LIMIT) {
        if let Some(guard) = locks::acquire(&window, &key, None).await {
            early.push((key, guard));
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
            if session.usable(now) {
                s.session = Some(session);
            } else if !session.token.is_empty() && !s.outbox.is_empty() {
                // Expired with events waiting: renewed rather than replaced (`renew_session`).
                s.session = None;
                s.stale = Some(session);
            } else {
                s.session = None;
            }
        }
    }
    // Recorded after what this tab stored and before what this page noted, which is newer;
    // a key taken by another page meanwhile reads as nothing.
    if !s.withdrawn {
        for (key, guard) in early {
            let events = read_early(&key, &s.options);
            s.record(events);
            s.early_keys.push((key, guard));
        }
    }
    // Sent, or handed to this tab's outbox, by `pump` once the merchant allows it.
    for (key, guard) in closed_tabs {
        match read_stored(&key) {
            Some((session, outbox)) => s.adopted.push(Adopted {
                storage_key: key,
                session,
                outbox,
                renewing: false,
                renewal_refused: false,
                renew_after_ms: 0.0,
                _lock: Some(guard),
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
            stale: None,
            session_retry_ms: 0.0,
            mode: None,
            consent: flag("consent") == Some(true),
            withdrawn: flag("consent") == Some(false),
            early_keys: Vec::new(),
            minimal: gpc,
            debug: flag("debug").unwrap_or(false),
            ids: IdSource::new(),
            timer: None,
            woken: None,
            callbacks: None,
            destroyed: false,
            dirty: false,
            stored_ms: 0.0,
            session_approved: false,
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
        };
        start_claim(&telemetry.state);
        telemetry.early_notes(raw);
        telemetry.listen_to_widget(&host_element);
        telemetry.listen_to_page();
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

    /// The steps the loader noted before this bundle ran (`early: [{name, at, props}]`), at the
    /// time each happened.
    fn early_notes(&self, raw: &JsValue) {
        let Some(notes) = Reflect::get(raw, &JsValue::from_str("early"))
            .ok()
            .and_then(|notes| js_sys::JSON::stringify(&notes).ok())
            .and_then(|json| json.as_string())
            .and_then(|json| serde_json::from_str::<Value>(&json).ok())
        else {
            return;
        };
        let (options, now) = (self.state.borrow().options.clone(), now_ms());
        for note in notes.as_array().into_iter().flatten().take(EARLY_NOTES_LIMIT) {
            if let Some((name, props, at)) = early::early_event(note, options.amount, options.currency, now, VERSION) {
                self.note_early(name, props, at);
            }
        }
    }

    /// A step the loader saw (`widget_loaded`, `widget_viewed`, `widget_error`, or
    /// `terms_opened` when the plans could not load) at `at`, with its props as JSON.
    pub fn note(&self, name: &str, at: f64, props: &str) {
        let note = serde_json::json!({ "name": name, "at": at, "props": serde_json::from_str::<Value>(props).unwrap_or(Value::Null) });
        let options = self.state.borrow().options.clone();
        if let Some((name, props, at)) = early::early_event(&note, options.amount, options.currency, now_ms(), VERSION)
        {
            self.note_early(name, props, at);
        }
    }

    fn note_early(&self, name: EventName, props: Map<String, Value>, at: f64) {
        if name == EventName::TermsOpened {
            self.state.borrow_mut().last_step = Some(name.as_str());
        }
        note_event(&self.state, name, NotedProps::Ready(props), at);
    }

    /// Records a funnel step the dialog itself sees (terms opened or closed, approval started
    /// or submitted).
    pub fn step(&self, name: EventName, plan_id: Option<&str>) {
        let mut props = Map::new();
        if let Some(plan) = plan_id {
            props.insert("plan_id".into(), Value::from(plan));
        }
        {
            let mut s = self.state.borrow_mut();
            s.last_step = Some(name.as_str());
            // The edge must have this before the form's approval arrives: it times the form.
            if name == EventName::ApprovalStarted {
                s.outbox.hurry();
            }
        }
        note_event(&self.state, name, NotedProps::Ready(props), now_ms());
    }

    /// This tab's session for the approval form, if it was made for these terms (amount,
    /// currency, today) and lives long enough to fill the form in: the decision then sees the
    /// funnel's signals.
    pub fn session_for_checkout(&self, options: &WidgetOptions) -> Option<String> {
        let s = self.state.borrow();
        let session = s.session.as_ref().filter(|_| !s.session_approved)?;
        let lives = session.expires_ms - CHECKOUT_MIN_LIFE_MS > now_ms();
        (lives && session.made_for == session_terms(options)).then(|| session.token.clone())
    }

    /// A session the dialog made for the approval form (the terms changed, or there was none):
    /// the funnel's next events go to it, so the edge sees them with the approval.
    ///
    /// Events recorded so far stay with the session they were made in (its amount is theirs: sent
    /// under the new one, they would read as the amount changing): they go out under the old
    /// token while it lives, as a closed tab's would, and the new session counts `seq` afresh.
    pub fn use_session(&self, created: &SessionCreated, options: &WidgetOptions) {
        record_noted(&self.state);
        let mut s = self.state.borrow_mut();
        let now = now_ms();
        let previous = s.session.take().filter(|old| old.usable(now) && !s.outbox.is_empty());
        if let (Some(previous), true) = (previous, s.claimed) {
            let outbox = std::mem::take(&mut s.outbox);
            // A key of the tab's queues, so a page closed meanwhile leaves it for the next view.
            let tab = s.ids.next(now);
            let storage_key = queue_storage_key(&s.options.key, &tab);
            s.adopted.push(Adopted {
                storage_key,
                session: previous,
                outbox,
                renewing: false,
                renewal_refused: false,
                renew_after_ms: 0.0,
                _lock: None,
            });
        }
        s.stale = None;
        s.session_approved = false;
        s.session = Some(Session {
            token: created.session_token.clone(),
            expires_ms: expiry_ms(&created.expires_at),
            made_for: session_terms(options),
        });
        s.outbox.session_renewed();
        s.session_retry_ms = 0.0;
        s.dirty = true;
    }

    /// New options from the page (an amount change is worth telling the edge: plan props carry it).
    pub fn update(&self, options: WidgetOptions) {
        // Events noted before the change carry the amount they were made with.
        record_noted(&self.state);
        self.state.borrow_mut().options = options;
    }

    /// `Paylater.consent(…)`: with consent, what waited is sent; `false` withdraws it: what
    /// waits is forgotten and nothing is noted until consent is given again.
    pub fn consent(&self, given: bool) {
        {
            let mut s = self.state.borrow_mut();
            s.consent = given;
            s.withdrawn = !given;
            if given {
                s.persist();
            } else {
                s.forget();
            }
        }
        pump(&self.state);
    }

    /// The merchant's telemetry mode, from its config.
    pub fn configure(&self, mode: TelemetryMode) {
        if self.state.borrow().mode == Some(mode) {
            return;
        }
        self.state.borrow_mut().mode = Some(mode);
        self.state.borrow_mut().persist();
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
                    if name == EventName::ApprovalApproved {
                        s.session_approved = true;
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
                    page_exit(&state, false);
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
                    adopted.renew_after_ms = 0.0;
                }
                s.session_retry_ms = 0.0;
            }
            pump(&state);
        });
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
