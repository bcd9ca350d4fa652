//! The funnel telemetry client (CONTRACT §3 events): the browser layer around
//! `paylater_shared::outbox`, which makes every decision (batching, backoff, what to drop, exit
//! chunks, storage). This layer only owns the clock, randomness, `fetch`, `sendBeacon`,
//! `localStorage`, the page's lifecycle events and the observers, and it lives in the dialog's
//! bundle, which loads when the page is idle: nothing here is on the first paint's path.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Date, Function, Math, Reflect};
use paylater_card::edge_api::EdgeApi;
use paylater_card::host::Host;
use paylater_shared::WidgetOptions;
use paylater_shared::merchant::TelemetryMode;
use paylater_shared::outbox::{BATCH_BODY_LIMIT, Outbox, Outcome, Resolution};
use paylater_shared::telemetry::{Event, EventName, uuid_v7};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, BlobPropertyBag, Element, Event as DomEvent, IntersectionObserver, IntersectionObserverEntry,
    IntersectionObserverInit, RequestCredentials, RequestInit, RequestMode, Response,
};

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

struct State {
    /// Looked up once: `web_sys::window()` checks the global's type on every call.
    window: web_sys::Window,
    api: EdgeApi,
    host: Host,
    key: String,
    options: WidgetOptions,
    outbox: Outbox,
    session: Option<Session>,
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

/// Where a merchant key's session and outbox are kept in `localStorage`.
fn storage_key(key: &str) -> String {
    format!("paylater:outbox:{key}")
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
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

    fn persist(&self) {
        // Before consent nothing is kept either.
        let (Some(storage), true) = (storage(), self.allowed()) else {
            return;
        };
        let stored = Stored {
            token: self.session.as_ref().map(|s| s.token.clone()).unwrap_or_default(),
            expires_ms: self.session.as_ref().map_or(0.0, |s| s.expires_ms),
            outbox: self.outbox.to_storage(),
        };
        if let Ok(json) = serde_json::to_string(&stored) {
            let _ = storage.set_item(&storage_key(&self.key), &json);
        }
    }

    /// The `paylater:telemetry` debug event; its detail is built only when `data-debug` is set.
    fn debug(&self, event: &str, detail: impl FnOnce() -> Value) {
        if self.debug {
            self.host
                .dispatch("telemetry", &serde_json::json!({ "event": event, "detail": detail() }));
        }
    }

    fn record(&mut self, name: EventName, props: Map<String, Value>) {
        self.record_at(name, props, now_ms());
    }

    /// Records an event that happened at `now` (ms since the epoch).
    fn record_at(&mut self, name: EventName, mut props: Map<String, Value>, now: f64) {
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
            id: self.ids.next(now),
            name,
            ts: now as i64,
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
        // Stored by a later `pump`, once for all the events of a second.
        self.dirty = true;
    }

    /// Stores the outbox if it changed and the last store is a second old; otherwise says when
    /// it may be stored.
    fn store_if_due(&mut self, now: f64) -> Option<i64> {
        if !self.dirty || !self.allowed() {
            return None;
        }
        let wait = self.stored_ms + STORE_EVERY_MS - now;
        if wait > 0.0 {
            return Some(wait.ceil() as i64);
        }
        self.persist();
        self.dirty = false;
        self.stored_ms = now;
        None
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

/// Sends what the outbox says is due, stores it when that is due, and leaves one timer for
/// whichever comes next.
fn pump(state: &Rc<RefCell<State>>) {
    let mut s = state.borrow_mut();
    let now = now_ms();
    let store_in = s.store_if_due(now);
    if !s.allowed() || s.destroyed {
        return;
    }
    let Some(session) = s
        .session
        .as_ref()
        .filter(|session| session.expires_ms - RENEW_BEFORE_MS > now)
    else {
        if now < s.session_retry_ms {
            let wait = (s.session_retry_ms - now).ceil() as i64;
            s.schedule(Some(wait), now);
            return;
        }
        drop(s);
        renew_session(state);
        return;
    };
    let token = session.token.clone();
    if s.outbox.should_send(now as i64)
        && let Some(batch) = s.outbox.next_batch(&token, BATCH_BODY_LIMIT)
    {
        let url = s.api.events_url();
        s.debug("sending", || serde_json::json!({ "ids": batch.ids }));
        drop(s);
        let state = Rc::clone(state);
        wasm_bindgen_futures::spawn_local(async move {
            let outcome = post_events(&url, &batch.body).await;
            {
                let mut s = state.borrow_mut();
                let resolution = s.outbox.on_response(outcome, now_ms() as i64, Math::random());
                s.debug(
                    "answered",
                    || serde_json::json!({ "resolution": format!("{resolution:?}") }),
                );
                if let Resolution::Dropped {
                    renew_session: true, ..
                } = resolution
                {
                    s.session = None;
                }
                s.dirty = true;
            }
            pump(&state);
        });
        return;
    }
    let send_in = s.outbox.next_send_in_ms(now as i64);
    let wait = match (send_in, store_in) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    s.schedule(wait, now);
}

/// After an event is recorded: `pump` runs only if a request is due now, or if no timer will run
/// it within a second (to store the event). Otherwise the pending timer does both, so an event
/// in between costs its recording and nothing else.
fn recorded(state: &Rc<RefCell<State>>) {
    let wanted = {
        let s = state.borrow();
        let now = now_ms();
        let soon = s.timer.is_some_and(|(_, at)| at <= now + STORE_EVERY_MS);
        s.outbox.should_send(now as i64) || !soon
    };
    if wanted {
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
        let dwell = (now_ms() - s.started_ms).max(0.0) as u64;
        let props = serde_json::json!({ "last_step": step, "dwell_ms": dwell });
        if let Value::Object(props) = props {
            s.record(EventName::SessionAbandoned, props);
        }
    }
    s.outbox.set_page_hidden(true);
    s.persist();
    let (Some(session), true) = (s.session.as_ref(), s.allowed()) else {
        return;
    };
    let url = s.api.events_url();
    for chunk in s.outbox.exit_chunks(&session.token, 0) {
        send_on_exit(&url, &chunk.body);
    }
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
        let mut outbox = Outbox::new();
        let mut session = None;
        let key = options.key.clone();
        if let Some(stored) = storage()
            .and_then(|s| s.get_item(&storage_key(&key)).ok().flatten())
            .and_then(|json| serde_json::from_str::<Stored>(&json).ok())
        {
            if let Ok(previous) = Outbox::from_storage(&stored.outbox) {
                outbox.merge(previous);
            }
            // The same session goes on while its token lives, so the edge's dedup covers resends.
            if stored.expires_ms - RENEW_BEFORE_MS > now_ms() && !stored.token.is_empty() {
                session = Some(Session {
                    token: stored.token,
                    expires_ms: stored.expires_ms,
                });
            }
        }
        let state = Rc::new(RefCell::new(State {
            window,
            api,
            host: Host::new(host_element.clone()),
            key,
            options,
            outbox,
            session,
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
                    record_loaded(&state, now - mounted_at);
                    recorded(&state);
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
            let at = Reflect::get(&error, &JsValue::from_str("at"))
                .ok()
                .and_then(|at| at.as_f64())
                .unwrap_or_else(now_ms);
            let mut props = Map::new();
            props.insert("code".into(), text_value(&error, "code"));
            s.record_at(EventName::WidgetError, props, at);
        }
    }

    /// `widget_loaded`, once the card has painted (the loader measured the time).
    pub fn loaded(&self, load_ms: f64) {
        record_loaded(&self.state, load_ms);
    }

    /// Records a funnel step the dialog itself sees (terms opened or closed, approval started
    /// or submitted).
    pub fn step(&self, name: EventName, plan_id: Option<&str>) {
        let mut s = self.state.borrow_mut();
        let mut props = Map::new();
        if let Some(plan) = plan_id {
            props.insert("plan_id".into(), Value::from(plan));
        }
        if matches!(name, EventName::ApprovalStarted | EventName::ApprovalSubmitted) {
            props.insert("amount_minor".into(), serde_json::json!(s.options.amount));
            props.insert("currency".into(), serde_json::json!(s.options.currency));
        }
        s.last_step = Some(name.as_str());
        s.record(name, props);
        drop(s);
        recorded(&self.state);
    }

    /// New options from the page (an amount change is worth telling the edge: plan props carry it).
    pub fn update(&self, options: WidgetOptions) {
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
                let detail = event
                    .dyn_ref::<web_sys::CustomEvent>()
                    .map_or(JsValue::NULL, web_sys::CustomEvent::detail);
                let mut s = state.borrow_mut();
                if matches!(name, EventName::ApprovalApproved | EventName::ApprovalDeclined) {
                    s.decided = true;
                }
                if name == EventName::PlanSelected {
                    s.last_step = Some(name.as_str());
                }
                let mut props = read(&detail);
                if name == EventName::PlanSelected {
                    props.insert("amount_minor".into(), serde_json::json!(s.options.amount));
                    props.insert("currency".into(), serde_json::json!(s.options.currency));
                }
                s.record(name, props);
                drop(s);
                recorded(&state);
            }
        };
        let handlers: [(&'static str, EventName, PropsOf); 5] = [
            ("paylater:plan-selected", EventName::PlanSelected, |d| {
                let mut p = Map::new();
                if let Some(plan) = text_field(d, "plan_id") {
                    p.insert("plan_id".into(), Value::from(plan));
                }
                p
            }),
            ("paylater:approved", EventName::ApprovalApproved, |d| {
                let mut p = Map::new();
                p.insert("approval_id".into(), text_value(d, "approval_id"));
                p.insert("plan_id".into(), text_value(d, "plan_id"));
                p
            }),
            ("paylater:declined", EventName::ApprovalDeclined, declined_props),
            // A review is not a yes: the funnel counts it with the declines, its reasons say why.
            ("paylater:review", EventName::ApprovalDeclined, declined_props),
            ("paylater:error", EventName::WidgetError, |d| {
                let mut p = Map::new();
                p.insert("code".into(), text_value(d, "code"));
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
            move |_| page_exit(&state)
        };
        self.add(window.clone().into(), "pagehide", exit);
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
                            state.borrow_mut().record(EventName::WidgetViewed, props);
                        }
                        recorded(&state);
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

fn record_loaded(state: &Rc<RefCell<State>>, load_ms: f64) {
    let s = &mut *state.borrow_mut();
    let props = serde_json::json!({
        "load_ms": load_ms.max(0.0) as u64,
        "locale": s.options.locale,
        "version": env!("CARGO_PKG_VERSION"),
        "amount_minor": s.options.amount,
        "currency": s.options.currency,
    });
    if let Value::Object(props) = props {
        s.record(EventName::WidgetLoaded, props);
    }
}

fn declined_props(detail: &JsValue) -> Map<String, Value> {
    let mut props = Map::new();
    props.insert("approval_id".into(), text_value(detail, "approval_id"));
    let codes: Vec<Value> = Reflect::get(detail, &JsValue::from_str("reasons"))
        .ok()
        .filter(Array::is_array)
        .map(|reasons| {
            Array::from(&reasons)
                .iter()
                .filter_map(|reason| text_field(&reason, "code").map(Value::from))
                .collect()
        })
        .unwrap_or_default();
    props.insert("reason_codes".into(), Value::Array(codes));
    props
}

/// A string field of a DOM event's detail, read in place (no JSON round trip per event).
fn text_field(detail: &JsValue, key: &str) -> Option<String> {
    if !detail.is_object() {
        return None;
    }
    Reflect::get(detail, &JsValue::from_str(key))
        .ok()
        .and_then(|value| value.as_string())
}

/// [`text_field`] as a prop: the string, or `null` where the detail has none (the edge's schema
/// then refuses that one event, and says why).
fn text_value(detail: &JsValue, key: &str) -> Value {
    text_field(detail, key).map_or(Value::Null, Value::from)
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        for (target, name, listener) in self.listeners.drain(..) {
            let _ = target.remove_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
        }
        if let Some(observer) = self.observer.take() {
            observer.disconnect();
        }
        // What waits is kept for the next page view; a destroyed widget sends what it can now.
        page_exit(&self.state);
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
