//! The widget's telemetry outbox (issue 8): the pure core of a client that never loses a funnel
//! event and never slows the shopper. It decides what to send, when, in what bodies, and what an
//! answer means; the browser layer (localStorage, `fetch` with `keepalive`, `sendBeacon`,
//! `visibilitychange`/`pagehide` listeners, timers) only carries its decisions out.
//!
//! Like `paylater-shared` it reads no clock and no randomness: `now_ms` (epoch ms, the same
//! clock as an event's `ts`) and the backoff `jitter` (a number in [0, 1), e.g.
//! `Math.random()`) are parameters, so every decision is tested natively.
//!
//! # The life of an event
//! The caller builds an [`Event`] once, with its UUIDv7 `id` and a `seq` from
//! [`Outbox::next_seq`], and [`Outbox::push`]es it. [`Outbox::should_send`] says when a request is
//! due (Segment's and PostHog's batching: 10 events or 2 s, or at once when the page is hidden);
//! [`Outbox::next_batch`] makes its body and marks its events in flight; [`Outbox::on_response`]
//! removes them when the edge has them (202), puts them back for a later retry (network, 408,
//! 429, 5xx, anything unexpected; exponential backoff with full jitter, `Retry-After` as a
//! minimum), or drops them when the edge said this body will never be accepted (Snowplow's list:
//! 400, 401, 403, 410, 413 of one event, 422). The id never changes, so a batch whose answer was
//! lost is sent again and the edge counts it as a duplicate (CONTRACT §3), never twice.
//!
//! # What was dropped, and how the edge hears of it
//! Events the client has to discard (the oldest beyond the cap of 1000, like Snowplow's; a batch
//! refused for good; an event too large for any body) are counted in [`Outbox::dropped`]. The
//! edge's batch parser (`paylater_edge::event_batch::validate_batch`) does refuse unknown fields,
//! but `dropped` is one of the three it knows (`session_token`, `events`, `dropped`; also in
//! `edge/openapi.json`), so the count rides in the next batch body's top-level `dropped` and the
//! edge needs no change. It is not an event prop: props are checked against each event name's
//! schema, and an unknown one would get the event itself rejected. The count is subtracted only
//! when a body carrying it is answered 202, so it is reported once (at most twice if a page dies
//! between the edge's answer and the storage write); exit chunks leave it out for that reason.
//! Events the edge refused one by one in a 202 (`rejected`) are not counted: the edge knows them.
//!
//! # Page exit
//! [`Outbox::exit_chunks`] turns everything held, the in-flight batch included, into bodies that
//! fit the browser's 64 KiB keepalive quota (shared by every in-flight keepalive request and
//! beacon). It does not remove them: a beacon's fate is never known, so the persisted outbox
//! still holds them, the next page view sends them again and the edge's dedup by id absorbs the
//! copy. At least once, like the rest of the pipeline.
//!
//! # Sessions
//! An outbox belongs to one session: bodies carry the caller's session token, and the edge
//! dedups and counts `seq` per session. `seq` starts at [`FIRST_SEQ`] = 0 because the edge's
//! ledger counts a first event's `seq` as the gap before it
//! (`paylater_edge::ingest::SessionLedger`). A 401 or 403 means the token is no good: that batch
//! is dropped and nothing more is sent until [`Outbox::session_renewed`], so the rest of the queue
//! is not thrown after it.

pub mod early;

use std::collections::{HashSet, VecDeque};

use paylater_shared::telemetry::{Event, MAX_BODY_BYTES, MAX_EVENTS};
use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

/// Most events held (Snowplow's default); the oldest waiting one goes first.
pub const DEFAULT_CAPACITY: usize = 1000;
/// The smallest cap: more than a full batch, so a waiting event can always make room and the
/// cap holds even while a request is in flight.
pub const MIN_CAPACITY: usize = MAX_EVENTS + 1;
/// A request is due once this many events wait…
pub const FLUSH_AT_EVENTS: usize = 10;
/// …or the oldest has waited this long (PostHog's 3 s, Segment's 5 s; funnel steps are few).
pub const FLUSH_AFTER_MS: i64 = 2000;
/// Every body is strictly shorter than this: the edge reads up to [`MAX_BODY_BYTES`], and Sentry
/// keeps keepalive bodies under 60 KB so that one request leaves room in the quota.
pub const BATCH_BODY_LIMIT: usize = 60_000;
/// What the browser lets all in-flight keepalive requests and beacons carry together.
pub const KEEPALIVE_QUOTA_BYTES: usize = 65_536;
/// Backoff before the first retry, at most (full jitter draws from [0, ceiling)).
pub const BACKOFF_BASE_MS: i64 = 1000;
/// The ceiling stops doubling here.
pub const BACKOFF_CAP_MS: i64 = 5 * 60 * 1000;
/// The first `seq` of a session (see the module doc).
pub const FIRST_SEQ: u32 = 0;
/// The version [`Outbox::to_storage`] writes and [`Outbox::from_storage`] reads.
pub const STORAGE_VERSION: u64 = 1;

/// Where the browser keeps outboxes in `localStorage`: [`queue_storage_key`].
pub const QUEUE_KEY_PREFIX: &str = "paylater:outbox:";

/// The `localStorage` key of one tab's outbox (and its session) for a merchant key: a key per
/// tab, so two open tabs never write over each other's queue.
pub fn queue_storage_key(merchant_key: &str, tab: &str) -> String {
    format!("{QUEUE_KEY_PREFIX}{merchant_key}:{tab}")
}

/// Whether a `localStorage` key holds an outbox of `merchant_key`'s widgets: a tab's
/// ([`queue_storage_key`]), or the one entry per merchant key that pages wrote before outboxes
/// were kept per tab, which a new page view takes over like a closed tab's.
pub fn is_queue_storage_key(storage_key: &str, merchant_key: &str) -> bool {
    let Some(rest) = storage_key
        .strip_prefix(QUEUE_KEY_PREFIX)
        .and_then(|rest| rest.strip_prefix(merchant_key))
    else {
        return false;
    };
    rest.is_empty()
        || rest
            .strip_prefix(':')
            .is_some_and(|tab| !tab.is_empty() && !tab.contains(':'))
}

/// Room kept beside one event for the envelope (field names, a session token of ~300 bytes,
/// `dropped`): an event longer than the limit minus this could never be sent.
const ENVELOPE_ALLOWANCE: usize = 2_000;
/// Longest serialized event the outbox accepts.
const MAX_EVENT_JSON_BYTES: usize = BATCH_BODY_LIMIT - ENVELOPE_ALLOWANCE;

// A batch body must always be one the edge reads.
const _: () = assert!(BATCH_BODY_LIMIT < MAX_BODY_BYTES);

/// One event held, with its JSON made once: bodies are sized and built from it many times.
#[derive(Debug, Clone, PartialEq)]
struct Held {
    event: Event,
    json: String,
}

/// The request under way: always the first `len` events held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct InFlight {
    len: usize,
    /// The `dropped` its body reported, subtracted when it is accepted.
    dropped: u32,
}

/// The queue of events waiting for `POST /v1/events`, with the state of its one request.
///
/// Durable state (events, `dropped`, `seq`, backoff, the split size, the cap) goes to storage;
/// page state (the request in flight, page hidden, session refused) does not, because the next
/// page view has none of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbox {
    held: VecDeque<Held>,
    capacity: usize,
    dropped: u32,
    next_seq: u32,
    /// Consecutive retryable failures; the next one waits `backoff_ms(attempt, …)`.
    attempt: u32,
    /// Backing off: no request before this time.
    not_before_ms: Option<i64>,
    /// The backoff only waits out a request that got no answer, so the browser coming back
    /// online ends it. Page state: a new page view tries its first request anyway.
    offline_backoff: bool,
    /// Events per body: [`MAX_EVENTS`], halved by a 413, doubled back by each 202.
    max_events: usize,
    in_flight: Option<InFlight>,
    page_hidden: bool,
    /// What waits goes with the next request at once ([`Outbox::hurry`]).
    hurried: bool,
    needs_session: bool,
}

/// A request body for `POST /v1/events` (JSON; also valid as a `text/plain` beacon body) and the
/// ids of the events in it, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub body: String,
    pub ids: Vec<String>,
}

/// What [`Outbox::push`] did with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// Held; `evicted` older waiting events made room for it (counted in `dropped`).
    Queued { evicted: u32 },
    /// An event with this id is already held: the id is made once, so it is the same event.
    Duplicate,
    /// Too large for any body: dropped and counted.
    TooLarge,
}

/// Why a request failed in a way worth retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No answer: offline, DNS, CORS, aborted.
    Network,
    Status(u16),
}

/// The answer to the batch in flight, as the browser layer saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 202: the edge has every event but those at `rejected` (indexes in the body's `events`),
    /// which it refused for good.
    Accepted { rejected: Vec<usize> },
    /// Try the same events again later, not before `retry_after_ms` (from `Retry-After`).
    Retryable {
        failure: Failure,
        retry_after_ms: Option<i64>,
    },
    /// This body will never be accepted.
    Final { status: u16 },
}

impl Outcome {
    /// Classifies an HTTP status. Final only where the edge says this body can never be
    /// accepted (Snowplow's list, plus 413); anything unexpected is retried, because a deploy in
    /// progress can answer 404 for a minute and the backoff keeps retries cheap. A 2xx without a
    /// parsed body counts as accepted with no rejections.
    pub fn from_status(status: u16, retry_after_ms: Option<i64>) -> Self {
        match status {
            200..=299 => Self::Accepted { rejected: Vec::new() },
            400 | 401 | 403 | 410 | 413 | 422 => Self::Final { status },
            _ => Self::Retryable {
                failure: Failure::Status(status),
                retry_after_ms,
            },
        }
    }

    /// A 202's body (`{"accepted":…,"rejected":[{"index":…,…}]}`): the events it refused. A
    /// body that cannot be read refuses none: the edge took the request.
    pub fn accepted(answer: &str) -> Self {
        let rejected = serde_json::from_str::<Value>(answer)
            .ok()
            .and_then(|v| v["rejected"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|r| r["index"].as_u64().and_then(|i| usize::try_from(i).ok()))
            .collect();
        Self::Accepted { rejected }
    }

    /// No answer at all.
    pub fn network() -> Self {
        Self::Retryable {
            failure: Failure::Network,
            retry_after_ms: None,
        }
    }
}

/// What [`Outbox::on_response`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// No request was in flight (a late or repeated answer): nothing changed.
    NoRequest,
    /// The edge has `delivered`; `refused` were rejected one by one and are gone for good.
    Delivered {
        delivered: Vec<String>,
        refused: Vec<String>,
    },
    /// The batch waits again, first in line; no request before `at_ms`.
    Retry { attempt: u32, at_ms: i64 },
    /// 413 for several events: they wait again and the next bodies carry at most `max_events`.
    Split { max_events: usize },
    /// Refused for good: dropped and counted. `renew_session`: the token is no good (401/403);
    /// nothing more is sent until [`Outbox::session_renewed`].
    Dropped {
        ids: Vec<String>,
        status: u16,
        renew_session: bool,
    },
}

/// Why stored text could not be read back as an outbox.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OutboxError {
    #[error("stored outbox is not readable: {0}")]
    Malformed(String),
    #[error("stored outbox has version {0}; this widget reads version {STORAGE_VERSION}")]
    UnsupportedVersion(u64),
    #[error("stored outbox is inconsistent: {0}")]
    Inconsistent(&'static str),
}

impl Default for Outbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Outbox {
    /// An empty outbox holding at most [`DEFAULT_CAPACITY`] events.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }

    /// An empty outbox holding at most `capacity` events (at least [`MIN_CAPACITY`]).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            held: VecDeque::new(),
            capacity: capacity.max(MIN_CAPACITY),
            dropped: 0,
            next_seq: FIRST_SEQ,
            attempt: 0,
            not_before_ms: None,
            offline_backoff: false,
            max_events: MAX_EVENTS,
            in_flight: None,
            page_hidden: false,
            hurried: false,
            needs_session: false,
        }
    }

    /// Events held, in flight or waiting.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// The ids held, oldest first (an in-flight batch's first).
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.held.iter().map(|held| held.event.id.as_str())
    }

    /// Events discarded and not yet reported to the edge in an accepted body.
    pub fn dropped(&self) -> u32 {
        self.dropped
    }

    /// Whether a request is under way (its answer has not been given to `on_response`).
    pub fn in_flight(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Whether the edge refused the session token (401/403) and a new session is needed.
    pub fn needs_session(&self) -> bool {
        self.needs_session
    }

    /// The `seq` for the next event of this session: [`FIRST_SEQ`], then one more each call.
    /// Kept in storage, so a reload continues the count instead of reusing numbers.
    pub fn next_seq(&mut self) -> u32 {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.saturating_add(1);
        seq
    }

    /// Holds an event at the back of the queue. When full, the oldest waiting event makes room:
    /// the newest steps of the funnel say most about where the shopper is now. Events of the
    /// request in flight are never evicted, since the edge may already have them.
    pub fn push(&mut self, event: Event) -> Pushed {
        if self.held.iter().any(|held| same_id(&held.event.id, &event.id)) {
            return Pushed::Duplicate;
        }
        // Serializing a map with string keys cannot fail; if it ever did, the event could not be
        // sent either.
        let Ok(json) = serde_json::to_string(&event) else {
            self.count_dropped(1);
            return Pushed::TooLarge;
        };
        if json.len() > MAX_EVENT_JSON_BYTES {
            self.count_dropped(1);
            return Pushed::TooLarge;
        }
        let evicted = self.evict_down_to(self.capacity.saturating_sub(1));
        self.held.push_back(Held { event, json });
        Pushed::Queued { evicted }
    }

    /// The page's visibility: while hidden, whatever waits is due at once, because a hidden
    /// page's timers are throttled and it may be discarded without another event.
    pub fn set_page_hidden(&mut self, hidden: bool) {
        self.page_hidden = hidden;
    }

    /// Whatever waits is due at once, for an event the edge must have before the shopper's next
    /// request (`approval_started`, which times the approval form). Backoff, a refused session
    /// and one request at a time still hold; the next request made ends the hurry.
    pub fn hurry(&mut self) {
        self.hurried = true;
    }

    /// The browser is back online (`online`): a backoff after requests that got no answer ends
    /// now. One after a status (a 5xx, or a 429's `Retry-After`) is the edge's and still waits.
    pub fn network_restored(&mut self) {
        if std::mem::take(&mut self.offline_backoff) {
            self.not_before_ms = None;
        }
    }

    /// A new session token: sending resumes. `seq` starts over, since the edge counts it per
    /// session, but only when nothing is held: held events already carry numbers (given while
    /// the session was being asked for, or before a refusal), and a new event must never repeat
    /// one of them, so the count goes on after them.
    pub fn session_renewed(&mut self) {
        self.needs_session = false;
        if self.held.is_empty() {
            self.next_seq = FIRST_SEQ;
        }
    }

    /// How long the backoff still holds requests back, if it does (429/5xx/network).
    pub fn backoff_remaining_ms(&self, now_ms: i64) -> Option<i64> {
        self.not_before_ms
            .filter(|&not_before| not_before > now_ms)
            .map(|not_before| not_before - now_ms)
    }

    /// Whether to send a request now: at least [`FLUSH_AT_EVENTS`] wait, or the oldest waiting
    /// one is [`FLUSH_AFTER_MS`] old (by its `ts`, so events restored from storage go at once),
    /// or the page is hidden. Never while a request is in flight (one at a time keeps the order
    /// and the rate limit), while backing off, or while the session is refused.
    pub fn should_send(&self, now_ms: i64) -> bool {
        self.next_send_in_ms(now_ms) == Some(0)
    }

    /// [`Outbox::should_send`] once `more` events, noted but not yet pushed, are pushed too:
    /// whether they are worth a request at once, or can wait for the next timer.
    pub fn should_send_with(&self, now_ms: i64, more: usize) -> bool {
        self.due_at_ms(more).is_some_and(|at| at <= now_ms)
    }

    /// How long until [`Outbox::should_send`] turns true if nothing else happens (0: now), for
    /// the browser layer's one timer; `None` when only a push, an answer or a new session can
    /// make a request due.
    pub fn next_send_in_ms(&self, now_ms: i64) -> Option<i64> {
        self.due_at_ms(0).map(|at| at.saturating_sub(now_ms).max(0))
    }

    /// When a request is due, counting `more` events about to be pushed (made now, so only their
    /// number can make a request due).
    fn due_at_ms(&self, more: usize) -> Option<i64> {
        if self.in_flight.is_some() || self.needs_session {
            return None;
        }
        let waiting = self.held.len() + more;
        let due = if waiting >= FLUSH_AT_EVENTS || (waiting > 0 && (self.page_hidden || self.hurried)) {
            i64::MIN
        } else {
            self.held.front()?.event.ts.saturating_add(FLUSH_AFTER_MS)
        };
        Some(due.max(self.not_before_ms.unwrap_or(i64::MIN)))
    }

    /// The next request: the longest run of waiting events, oldest first, whose body is shorter
    /// than `max_body_bytes` and [`BATCH_BODY_LIMIT`] with at most [`MAX_EVENTS`] (fewer after a
    /// 413). Its events are in flight until [`Outbox::on_response`]. `None` while a request is in
    /// flight, when nothing waits, or when not even the oldest event fits (a smaller
    /// `max_body_bytes` for a keepalive request, say). Timing, backoff and a refused session are
    /// [`Outbox::should_send`]'s call; this trusts the token it is given.
    pub fn next_batch(&mut self, session_token: &str, max_body_bytes: usize, now_ms: i64) -> Option<Batch> {
        if self.in_flight.is_some() {
            return None;
        }
        let envelope = Envelope::new(session_token, self.dropped, now_ms);
        let limit = max_body_bytes.min(BATCH_BODY_LIMIT);
        let (count, _) = fitting_run(self.held.iter(), envelope.overhead(), limit, self.max_events);
        if count == 0 {
            return None;
        }
        self.in_flight = Some(InFlight {
            len: count,
            dropped: self.dropped,
        });
        self.hurried = false;
        Some(envelope.batch(self.held.range(..count)))
    }

    /// Applies the answer to the request in flight (see [`Outcome`] and [`Resolution`]).
    /// `jitter` in [0, 1) draws the backoff delay.
    pub fn on_response(&mut self, outcome: Outcome, now_ms: i64, jitter: f64) -> Resolution {
        let Some(in_flight) = self.in_flight.take() else {
            return Resolution::NoRequest;
        };
        match outcome {
            Outcome::Accepted { rejected } => {
                let rejected: HashSet<usize> = rejected.into_iter().collect();
                let (mut delivered, mut refused) = (Vec::new(), Vec::new());
                for (index, held) in self.held.drain(..in_flight.len).enumerate() {
                    if rejected.contains(&index) {
                        refused.push(held.event.id);
                    } else {
                        delivered.push(held.event.id);
                    }
                }
                // Only what this body reported: more may have been dropped meanwhile.
                self.dropped = self.dropped.saturating_sub(in_flight.dropped);
                self.attempt = 0;
                self.not_before_ms = None;
                self.max_events = self.max_events.saturating_mul(2).min(MAX_EVENTS);
                Resolution::Delivered { delivered, refused }
            }
            Outcome::Retryable {
                failure,
                retry_after_ms,
            } => {
                let delay = retry_delay_ms(self.attempt, jitter, retry_after_ms);
                let at_ms = now_ms.saturating_add(delay);
                self.attempt = self.attempt.saturating_add(1);
                self.not_before_ms = Some(at_ms);
                self.offline_backoff = failure == Failure::Network;
                Resolution::Retry {
                    attempt: self.attempt,
                    at_ms,
                }
            }
            // The body was too big only if the edge's limit is not what we measured against:
            // halving keeps every event and converges on whatever the limit is.
            Outcome::Final { status: 413 } if in_flight.len > 1 => {
                self.max_events = in_flight.len / 2;
                self.attempt = 0;
                self.not_before_ms = None;
                Resolution::Split {
                    max_events: self.max_events,
                }
            }
            Outcome::Final { status } => {
                let ids: Vec<String> = self.held.drain(..in_flight.len).map(|held| held.event.id).collect();
                self.count_dropped(ids.len());
                // The edge answered: it is reachable, whatever it thought of this body.
                self.attempt = 0;
                self.not_before_ms = None;
                let renew_session = matches!(status, 401 | 403);
                self.needs_session |= renew_session;
                Resolution::Dropped {
                    ids,
                    status,
                    renew_session,
                }
            }
        }
    }

    /// Bodies for page exit (`pagehide`, or `visibilitychange` to hidden when the page may not
    /// come back): everything held, the in-flight batch included since the page may die before
    /// its answer, in order. Each body is shorter than [`BATCH_BODY_LIMIT`] and all of them
    /// together shorter than [`KEEPALIVE_QUOTA_BYTES`] minus `inflight_keepalive_bytes` (the
    /// bodies of keepalive requests already under way); what does not fit is left for the next
    /// page view. Nothing is removed (see the module doc) and the bodies leave out `dropped`,
    /// which is reported by a body that gets an answer. Also valid as `text/plain` beacons.
    pub fn exit_chunks(&self, session_token: &str, inflight_keepalive_bytes: usize, now_ms: i64) -> Vec<Batch> {
        let budget = KEEPALIVE_QUOTA_BYTES.saturating_sub(inflight_keepalive_bytes);
        let envelope = Envelope::new(session_token, 0, now_ms);
        let mut chunks = Vec::new();
        let (mut start, mut used) = (0, 0);
        while start < self.held.len() {
            // `used < budget` holds: every chunk is shorter than what was left.
            let room = BATCH_BODY_LIMIT.min(budget - used);
            let (count, len) = fitting_run(self.held.range(start..), envelope.overhead(), room, self.max_events);
            if count == 0 {
                break;
            }
            chunks.push(envelope.batch(self.held.range(start..start + count)));
            start += count;
            used += len;
        }
        chunks
    }

    /// Adds what a stored outbox held (read on a new page view, or written by another tab):
    /// its events go after the request in flight and before this page's waiting events, since
    /// they are older; an id already seen is the same event and is kept once. Its `dropped` is
    /// added, the larger `seq` counter and the longer backoff win, the cap is this outbox's.
    pub fn merge(&mut self, stored: Outbox) {
        let in_flight_len = self.in_flight.map_or(0, |in_flight| in_flight.len);
        let waiting: Vec<Held> = self.held.drain(in_flight_len..).collect();
        self.append_unheld(stored.held.into_iter().chain(waiting));
        self.dropped = self.dropped.saturating_add(stored.dropped);
        self.next_seq = self.next_seq.max(stored.next_seq);
        self.attempt = self.attempt.max(stored.attempt);
        self.not_before_ms = self.not_before_ms.max(stored.not_before_ms);
        self.max_events = self.max_events.min(stored.max_events);
        self.evict_down_to(self.capacity);
    }

    /// Takes over the events of another session's outbox (a closed tab's, whose session can no
    /// longer send them): they go after everything held, each id once, and its `dropped` is
    /// added. Unlike [`Outbox::merge`], this outbox's `seq` counter and backoff stay its own:
    /// those belong to its session. The cap still holds, by evicting the oldest waiting.
    pub fn take_over(&mut self, other: Outbox) {
        self.append_unheld(other.held);
        self.dropped = self.dropped.saturating_add(other.dropped);
        self.evict_down_to(self.capacity);
    }

    /// The durable state as versioned JSON for localStorage:
    /// `{"v":1,"capacity":…,"dropped":…,"next_seq":…,"attempt":…,"not_before_ms":…,
    /// "max_events":…,"events":[…]}`. A request in flight is stored as waiting: its answer will
    /// never reach the next page view, which sends it again.
    pub fn to_storage(&self) -> String {
        let not_before = self
            .not_before_ms
            .map_or_else(|| "null".to_owned(), |at| at.to_string());
        let mut text = format!(
            "{{\"v\":{STORAGE_VERSION},\"capacity\":{},\"dropped\":{},\"next_seq\":{},\"attempt\":{},\
             \"not_before_ms\":{not_before},\"max_events\":{},\"events\":[",
            self.capacity, self.dropped, self.next_seq, self.attempt, self.max_events
        );
        for (index, held) in self.held.iter().enumerate() {
            if index > 0 {
                text.push(',');
            }
            text.push_str(&held.json);
        }
        text.push_str("]}");
        text
    }

    /// Reads [`Outbox::to_storage`]'s text back. Anything else (another version, garbage, a
    /// field too many, duplicate ids) is an error, never a panic: the caller starts afresh.
    pub fn from_storage(text: &str) -> Result<Outbox, OutboxError> {
        let value: Value = serde_json::from_str(text).map_err(|e| OutboxError::Malformed(e.to_string()))?;
        match value.get("v").map(Value::as_u64) {
            Some(Some(STORAGE_VERSION)) => {}
            Some(Some(version)) => return Err(OutboxError::UnsupportedVersion(version)),
            Some(None) | None => return Err(OutboxError::Malformed("v must be a version number".into())),
        }
        let stored: StoredV1 = serde_json::from_value(value).map_err(|e| OutboxError::Malformed(e.to_string()))?;
        if stored.capacity < MIN_CAPACITY {
            return Err(OutboxError::Inconsistent("capacity must be more than a batch"));
        }
        if !(1..=MAX_EVENTS).contains(&stored.max_events) {
            return Err(OutboxError::Inconsistent("max_events must be from 1 to 100"));
        }
        let mut outbox = Outbox::with_capacity(stored.capacity);
        outbox.dropped = stored.dropped;
        outbox.next_seq = stored.next_seq;
        outbox.attempt = stored.attempt;
        outbox.not_before_ms = stored.not_before_ms;
        outbox.max_events = stored.max_events;
        let mut seen = HashSet::new();
        for event in stored.events {
            if !seen.insert(event.id.clone()) {
                return Err(OutboxError::Inconsistent("an event id is stored twice"));
            }
            let json = serde_json::to_string(&event).map_err(|e| OutboxError::Malformed(e.to_string()))?;
            if json.len() > MAX_EVENT_JSON_BYTES {
                return Err(OutboxError::Inconsistent("an event is too large to send"));
            }
            outbox.held.push_back(Held { event, json });
        }
        Ok(outbox)
    }

    /// Evicts the oldest waiting events until at most `len` are held (or, defensively, only the
    /// request in flight is left; [`MIN_CAPACITY`] keeps that from happening).
    fn evict_down_to(&mut self, len: usize) -> u32 {
        let in_flight_len = self.in_flight.map_or(0, |in_flight| in_flight.len);
        let mut evicted = 0;
        while self.held.len() > len && self.held.len() > in_flight_len {
            self.held.remove(in_flight_len);
            evicted += 1;
        }
        self.count_dropped(evicted);
        u32::try_from(evicted).unwrap_or(u32::MAX)
    }

    /// Appends `events` in order, each whose id is not held yet (nor earlier among them).
    fn append_unheld(&mut self, events: impl IntoIterator<Item = Held>) {
        let mut seen: HashSet<String> = self.held.iter().map(|held| held.event.id.clone()).collect();
        for held in events {
            if seen.insert(held.event.id.clone()) {
                self.held.push_back(held);
            }
        }
    }

    fn count_dropped(&mut self, count: usize) {
        self.dropped = self.dropped.saturating_add(u32::try_from(count).unwrap_or(u32::MAX));
    }
}

/// Whether two event ids are equal, compared from the end: the UUIDv7s of one page share their
/// time prefix, so the random tail tells two apart at its first byte.
fn same_id(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().rev().eq(b.bytes().rev())
}

/// The ceiling of the backoff before retry number `attempt + 1`: [`BACKOFF_BASE_MS`] doubled
/// `attempt` times, at most [`BACKOFF_CAP_MS`]; the delay is `jitter` times it ("full jitter",
/// so clients that failed together do not retry together). `jitter` is clamped to [0, 1].
pub fn backoff_ms(attempt: u32, jitter: f64) -> i64 {
    // 1 s · 2^19 is past the cap already; stopping there keeps the shift from overflowing.
    let ceiling = if attempt >= 19 {
        BACKOFF_CAP_MS
    } else {
        (BACKOFF_BASE_MS << attempt).min(BACKOFF_CAP_MS)
    };
    // NaN (never from Math.random, but cheap to rule out) counts as 0.
    let jitter = if jitter.is_nan() { 0.0 } else { jitter.clamp(0.0, 1.0) };
    // The ceiling is below 2^53, so the product is exact before flooring.
    (ceiling as f64 * jitter).floor() as i64
}

/// The wait before a retry: the jittered backoff, or the server's `Retry-After` if that is
/// longer (it knows its own load; a shorter one must not undo the backoff).
pub fn retry_delay_ms(attempt: u32, jitter: f64, retry_after_ms: Option<i64>) -> i64 {
    backoff_ms(attempt, jitter).max(retry_after_ms.unwrap_or(0))
}

/// The parts of a body around its events, made once per body so sizes are exact.
struct Envelope {
    head: String,
    tail: String,
}

impl Envelope {
    /// `{"session_token":…,"events":[` … `],"dropped":n,"sent_at":ms}`; `dropped` left out
    /// when 0, which the edge reads as 0. `sent_at` (this clock, now) lets the edge tell the
    /// client's clock from the time events waited here.
    fn new(session_token: &str, dropped: u32, sent_at_ms: i64) -> Self {
        // `Value`'s Display escapes the string as JSON and cannot fail.
        let token = Value::from(session_token);
        let tail = if dropped > 0 {
            format!("],\"dropped\":{dropped},\"sent_at\":{sent_at_ms}}}")
        } else {
            format!("],\"sent_at\":{sent_at_ms}}}")
        };
        Self {
            head: format!("{{\"session_token\":{token},\"events\":["),
            tail,
        }
    }

    fn overhead(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    fn batch<'a>(&self, events: impl Iterator<Item = &'a Held>) -> Batch {
        let mut body = self.head.clone();
        let mut ids = Vec::new();
        for held in events {
            if !ids.is_empty() {
                body.push(',');
            }
            body.push_str(&held.json);
            ids.push(held.event.id.clone());
        }
        body.push_str(&self.tail);
        Batch { body, ids }
    }
}

/// How many of `events`, from the first, fit one body shorter than `limit` with at most
/// `max_events`, and that body's length.
fn fitting_run<'a>(
    events: impl Iterator<Item = &'a Held>,
    overhead: usize,
    limit: usize,
    max_events: usize,
) -> (usize, usize) {
    let (mut count, mut len) = (0, overhead);
    for held in events {
        // A comma before every event but the first.
        let next = len + held.json.len() + usize::from(count > 0);
        if count == max_events || next >= limit {
            break;
        }
        count += 1;
        len = next;
    }
    (count, len)
}

/// Version 1 of the stored text.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredV1 {
    /// Checked before the rest is parsed; named so `deny_unknown_fields` lets it through.
    #[serde(rename = "v")]
    _version: u64,
    capacity: usize,
    dropped: u32,
    next_seq: u32,
    attempt: u32,
    not_before_ms: Option<i64>,
    max_events: usize,
    events: Vec<Event>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use paylater_edge::event_batch::validate_batch;
    use paylater_shared::telemetry::EventName;
    use proptest::prelude::*;
    use serde_json::{Map, json};

    const NOW: i64 = 1_795_420_800_000;
    const TOKEN: &str = "v1.k1.eyJzaWQiOiJzXzEifQ.c2ln";

    fn id(n: u64) -> String {
        format!("0190d2c4-6b7a-7cc2-9a1e-{n:012x}")
    }

    /// A `widget_error` event; messages over 200 chars are refused by the edge one by one, which
    /// is fine where only sizes matter.
    fn event(n: u64, ts: i64, message_len: usize) -> Event {
        let mut props = Map::new();
        props.insert("code".into(), json!("E_NET"));
        if message_len > 0 {
            props.insert("message".into(), json!("m".repeat(message_len)));
        }
        Event {
            id: id(n),
            name: EventName::WidgetError,
            ts,
            seq: u32::try_from(n).unwrap_or(u32::MAX),
            props,
        }
    }

    fn json_len(event: &Event) -> usize {
        serde_json::to_string(event).unwrap().len()
    }

    fn outbox_with(count: u64) -> Outbox {
        let mut outbox = Outbox::new();
        for n in 0..count {
            assert_eq!(outbox.push(event(n, NOW, 0)), Pushed::Queued { evicted: 0 });
        }
        outbox
    }

    fn ids(outbox: &Outbox) -> Vec<String> {
        outbox.ids().map(str::to_owned).collect()
    }

    fn range_ids(range: std::ops::Range<u64>) -> Vec<String> {
        range.map(id).collect()
    }

    /// The state a reload sees: durable state only.
    fn without_page_state(outbox: &Outbox) -> Outbox {
        Outbox {
            in_flight: None,
            page_hidden: false,
            hurried: false,
            needs_session: false,
            offline_backoff: false,
            ..outbox.clone()
        }
    }

    #[test]
    fn a_hurried_step_goes_with_the_next_request_and_only_that_one() {
        let mut outbox = outbox_with(1);
        assert_eq!(outbox.next_send_in_ms(NOW), Some(2_000));
        outbox.hurry();
        assert_eq!(outbox.next_send_in_ms(NOW), Some(0));
        let batch = outbox.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).unwrap();
        assert_eq!(batch.ids.len(), 1);
        // One at a time still holds while it is in flight.
        assert_eq!(outbox.next_send_in_ms(NOW), None);
        outbox.on_response(Outcome::Accepted { rejected: vec![] }, NOW, 0.5);
        // The hurry ended with the request: a later event waits its two seconds again.
        outbox.push(event(7, NOW, 10));
        assert_eq!(outbox.next_send_in_ms(NOW), Some(2_000));
        // A backoff holds a hurried step back too.
        outbox.hurry();
        outbox.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).unwrap();
        outbox.on_response(Outcome::from_status(429, Some(5_000)), NOW, 0.5);
        outbox.hurry();
        assert_eq!(outbox.next_send_in_ms(NOW), Some(5_000));
    }

    #[test]
    fn an_accepted_answer_names_only_well_formed_refusals() {
        let cases = [
            (
                r#"{"accepted":3,"rejected":[{"index":1,"code":"x"},{"index":"2"},{"index":4}]}"#,
                vec![1, 4],
            ),
            (r#"{"accepted":2,"rejected":[]}"#, vec![]),
            (r#"{"accepted":2}"#, vec![]),
            (r#"{"rejected":[{"index":-1},{"index":1.5},{"index":0}]}"#, vec![0]),
            ("not json", vec![]),
            ("", vec![]),
        ];
        for (answer, rejected) in cases {
            assert_eq!(Outcome::accepted(answer), Outcome::Accepted { rejected }, "{answer}");
        }
    }

    #[test]
    fn statuses_map_to_accept_retry_or_final() {
        let retry = |status, retry_after_ms| Outcome::Retryable {
            failure: Failure::Status(status),
            retry_after_ms,
        };
        let cases = [
            (200, None, Outcome::Accepted { rejected: vec![] }),
            (202, None, Outcome::Accepted { rejected: vec![] }),
            (400, None, Outcome::Final { status: 400 }),
            (401, None, Outcome::Final { status: 401 }),
            (403, None, Outcome::Final { status: 403 }),
            (404, None, retry(404, None)),
            (408, None, retry(408, None)),
            (410, None, Outcome::Final { status: 410 }),
            (413, None, Outcome::Final { status: 413 }),
            (415, None, retry(415, None)),
            (422, None, Outcome::Final { status: 422 }),
            (429, None, retry(429, None)),
            (429, Some(30_000), retry(429, Some(30_000))),
            (500, None, retry(500, None)),
            (503, Some(1_000), retry(503, Some(1_000))),
        ];
        for (status, retry_after_ms, expected) in cases {
            assert_eq!(Outcome::from_status(status, retry_after_ms), expected, "{status}");
        }
        assert_eq!(
            Outcome::network(),
            Outcome::Retryable {
                failure: Failure::Network,
                retry_after_ms: None
            }
        );
    }

    #[test]
    fn each_answer_retries_drops_splits_or_renews() {
        #[derive(Debug)]
        enum Want {
            Delivered,
            Retry(i64),
            Split(usize),
            Dropped { renew_session: bool },
        }
        // (answer, events in the batch, what happens); jitter 0.5 on attempt 0 draws 500 ms.
        let cases = [
            (Outcome::from_status(202, None), 4, Want::Delivered),
            (
                Outcome::from_status(400, None),
                4,
                Want::Dropped { renew_session: false },
            ),
            (
                Outcome::from_status(401, None),
                4,
                Want::Dropped { renew_session: true },
            ),
            (
                Outcome::from_status(403, None),
                4,
                Want::Dropped { renew_session: true },
            ),
            (Outcome::from_status(408, None), 4, Want::Retry(NOW + 500)),
            (
                Outcome::from_status(410, None),
                4,
                Want::Dropped { renew_session: false },
            ),
            (
                Outcome::from_status(413, None),
                1,
                Want::Dropped { renew_session: false },
            ),
            (Outcome::from_status(413, None), 4, Want::Split(2)),
            (Outcome::from_status(413, None), 5, Want::Split(2)),
            (
                Outcome::from_status(422, None),
                4,
                Want::Dropped { renew_session: false },
            ),
            (Outcome::from_status(429, None), 4, Want::Retry(NOW + 500)),
            (Outcome::from_status(429, Some(30_000)), 4, Want::Retry(NOW + 30_000)),
            (Outcome::from_status(429, Some(100)), 4, Want::Retry(NOW + 500)),
            (Outcome::from_status(500, None), 4, Want::Retry(NOW + 500)),
            (Outcome::from_status(503, Some(1_000)), 4, Want::Retry(NOW + 1_000)),
            (Outcome::network(), 4, Want::Retry(NOW + 500)),
        ];
        for (outcome, count, want) in cases {
            let label = format!("{outcome:?} with {count} events");
            let mut outbox = outbox_with(count);
            let batch = outbox.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).unwrap();
            assert_eq!(batch.ids, range_ids(0..count), "{label}");
            let resolution = outbox.on_response(outcome.clone(), NOW, 0.5);
            assert!(!outbox.in_flight(), "{label}");
            match want {
                Want::Delivered => {
                    assert_eq!(
                        resolution,
                        Resolution::Delivered {
                            delivered: range_ids(0..count),
                            refused: vec![]
                        },
                        "{label}"
                    );
                    assert_eq!((outbox.len(), outbox.dropped()), (0, 0), "{label}");
                }
                Want::Retry(at_ms) => {
                    assert_eq!(resolution, Resolution::Retry { attempt: 1, at_ms }, "{label}");
                    assert_eq!(ids(&outbox), range_ids(0..count), "{label}");
                    assert!(!outbox.should_send(at_ms - 1), "{label}");
                    assert!(outbox.should_send(at_ms.max(NOW + FLUSH_AFTER_MS)), "{label}");
                }
                Want::Split(max_events) => {
                    assert_eq!(resolution, Resolution::Split { max_events }, "{label}");
                    let next = outbox.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).unwrap();
                    assert_eq!(next.ids, range_ids(0..max_events as u64), "{label}");
                }
                Want::Dropped { renew_session } => {
                    let status = match outcome {
                        Outcome::Final { status } => status,
                        _ => unreachable!(),
                    };
                    assert_eq!(
                        resolution,
                        Resolution::Dropped {
                            ids: range_ids(0..count),
                            status,
                            renew_session
                        },
                        "{label}"
                    );
                    assert_eq!((outbox.len(), outbox.dropped()), (0, count as u32), "{label}");
                    assert_eq!(outbox.needs_session(), renew_session, "{label}");
                }
            }
        }
    }

    #[test]
    fn backoff_doubles_from_one_second_to_five_minutes_with_full_jitter() {
        let ceilings = [
            1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000, 300_000, 300_000,
        ];
        for (attempt, ceiling) in (0u32..).zip(ceilings) {
            assert_eq!(backoff_ms(attempt, 0.0), 0, "attempt {attempt}");
            assert_eq!(backoff_ms(attempt, 1.0), ceiling, "attempt {attempt}");
            assert_eq!(backoff_ms(attempt, 0.5), ceiling / 2, "attempt {attempt}");
        }
        assert_eq!(backoff_ms(u32::MAX, 1.0), BACKOFF_CAP_MS);
        assert_eq!(backoff_ms(0, 0.999_999), 999);
        // Out of range jitter is clamped rather than trusted.
        assert_eq!(backoff_ms(2, f64::NAN), 0);
        assert_eq!(backoff_ms(2, -3.0), 0);
        assert_eq!(backoff_ms(2, 7.0), 4_000);
    }

    #[test]
    fn back_online_ends_a_network_backoff_but_not_the_edges() {
        // (answer, backoff before `online`, backoff after it)
        let cases = [
            (Outcome::network(), 1_000, 0),
            (Outcome::from_status(503, None), 1_000, 1_000),
            (Outcome::from_status(429, Some(30_000)), 30_000, 30_000),
        ];
        for (outcome, before, after) in cases {
            let mut outbox = Outbox::new();
            outbox.push(event(0, NOW - 60_000, 0));
            assert!(outbox.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).is_some());
            outbox.on_response(outcome.clone(), NOW, 1.0);
            assert_eq!(outbox.next_send_in_ms(NOW), Some(before), "{outcome:?}");
            outbox.network_restored();
            assert_eq!(outbox.next_send_in_ms(NOW), Some(after), "{outcome:?}");
            // Said twice, it changes nothing more.
            outbox.network_restored();
            assert_eq!(outbox.next_send_in_ms(NOW), Some(after), "{outcome:?}");
        }
    }

    #[test]
    fn retry_after_wins_when_it_is_longer() {
        assert_eq!(retry_delay_ms(0, 1.0, Some(5_000)), 5_000);
        assert_eq!(retry_delay_ms(0, 1.0, Some(500)), 1_000);
        assert_eq!(retry_delay_ms(12, 1.0, Some(600_000)), 600_000);
        assert_eq!(retry_delay_ms(12, 1.0, None), 300_000);
        assert_eq!(retry_delay_ms(3, 0.0, Some(-5)), 0);
    }

    #[test]
    fn consecutive_failures_back_off_further_and_an_acceptance_starts_over() {
        // An event from an earlier page view: due at once, so only the backoff decides.
        let mut outbox = Outbox::new();
        outbox.push(event(0, NOW - 60_000, 0));
        let mut now = NOW;
        for (attempt, delay) in [(1, 1_000), (2, 2_000), (3, 4_000), (4, 8_000)] {
            assert!(outbox.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).is_some());
            let resolution = outbox.on_response(Outcome::network(), now, 1.0);
            assert_eq!(
                resolution,
                Resolution::Retry {
                    attempt,
                    at_ms: now + delay
                }
            );
            assert_eq!(outbox.next_send_in_ms(now), Some(delay));
            assert_eq!(outbox.backoff_remaining_ms(now), Some(delay));
            assert_eq!(outbox.backoff_remaining_ms(now + delay), None);
            now += delay;
        }
        outbox.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).unwrap();
        outbox.on_response(Outcome::Accepted { rejected: vec![] }, now, 1.0);
        outbox.push(event(9, now, 0));
        outbox.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).unwrap();
        let again = outbox.on_response(Outcome::from_status(500, None), now, 1.0);
        assert_eq!(
            again,
            Resolution::Retry {
                attempt: 1,
                at_ms: now + 1_000
            }
        );
    }

    #[test]
    fn a_request_is_due_at_ten_events_after_two_seconds_or_when_hidden() {
        let empty = Outbox::new();
        assert!(!empty.should_send(NOW));
        assert_eq!(empty.next_send_in_ms(NOW), None);

        let nine = outbox_with(9);
        assert_eq!(nine.next_send_in_ms(NOW + 500), Some(1_500));
        assert_eq!(nine.next_send_in_ms(NOW + 9_000), Some(0));
        let due: Vec<bool> = [NOW, NOW + 1_999, NOW + 2_000].map(|t| nine.should_send(t)).into();
        assert_eq!(due, [false, false, true]);

        let ten = outbox_with(10);
        assert!(ten.should_send(NOW));

        let mut hidden = outbox_with(1);
        hidden.set_page_hidden(true);
        assert!(hidden.should_send(NOW));
        assert_eq!(hidden.next_send_in_ms(i64::MAX), Some(0));
        hidden.set_page_hidden(false);
        assert!(!hidden.should_send(NOW));

        // One request at a time, whatever else is due.
        let mut busy = outbox_with(30);
        busy.next_batch(TOKEN, 5_000, NOW).unwrap();
        assert!(!busy.should_send(NOW + 60_000));
        assert_eq!(busy.next_send_in_ms(NOW), None);

        // Backing off holds even ten waiting events.
        let mut backing_off = outbox_with(10);
        backing_off.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).unwrap();
        backing_off.on_response(Outcome::from_status(429, Some(30_000)), NOW, 0.0);
        assert!(!backing_off.should_send(NOW + 29_999));
        assert!(backing_off.should_send(NOW + 30_000));
    }

    #[test]
    fn events_about_to_be_pushed_count_toward_ten_but_not_toward_two_seconds() {
        let mut hidden = Outbox::new();
        hidden.set_page_hidden(true);
        let mut busy = outbox_with(10);
        busy.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).unwrap();
        let mut backing_off = outbox_with(1);
        backing_off.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).unwrap();
        backing_off.on_response(Outcome::network(), NOW, 1.0);
        // (outbox, at, events about to be pushed, due)
        let cases: [(&Outbox, i64, usize, bool); 10] = [
            (&Outbox::new(), NOW, 0, false),
            (&Outbox::new(), NOW, 9, false),
            (&Outbox::new(), NOW, 10, true),
            (&outbox_with(4), NOW, 5, false),
            (&outbox_with(4), NOW, 6, true),
            (&outbox_with(1), NOW + 2_000, 1, true),
            (&hidden, NOW, 0, false),
            (&hidden, NOW, 1, true),
            (&busy, NOW, 20, false),
            (&backing_off, NOW, 20, false),
        ];
        for (index, (outbox, at, more, due)) in cases.into_iter().enumerate() {
            assert_eq!(outbox.should_send_with(at, more), due, "case {index}");
            if more == 0 {
                assert_eq!(outbox.should_send(at), due, "case {index}");
            }
        }
    }

    #[test]
    fn a_refused_session_stops_sending_until_it_is_renewed() {
        let mut outbox = outbox_with(3);
        for _ in 0..3 {
            outbox.next_seq();
        }
        outbox.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).unwrap();
        outbox.push(event(3, NOW, 0));
        let resolution = outbox.on_response(Outcome::from_status(401, None), NOW, 0.0);
        assert!(matches!(
            resolution,
            Resolution::Dropped {
                renew_session: true,
                ..
            }
        ));
        // The event pushed meanwhile is kept, not thrown after the refused batch.
        assert_eq!(ids(&outbox), [id(3)]);
        assert!(!outbox.should_send(NOW + 60_000));
        outbox.set_page_hidden(true);
        assert!(!outbox.should_send(NOW + 60_000));
        outbox.session_renewed();
        assert!(outbox.should_send(NOW));
        // Event 3 is still held with its number, so the count goes on rather than repeat it.
        assert_eq!(outbox.next_seq(), 3);
    }

    #[test]
    fn a_full_outbox_evicts_the_oldest_waiting_and_the_next_body_reports_them() {
        // A cap below a full batch would leave nothing to evict while one is in flight.
        assert_eq!(Outbox::with_capacity(3).capacity, MIN_CAPACITY);
        let mut outbox = Outbox::with_capacity(MIN_CAPACITY);
        let pushed: Vec<Pushed> = (0..103).map(|n| outbox.push(event(n, NOW, 0))).collect();
        let queued = |evicted| Pushed::Queued { evicted };
        assert_eq!(pushed[..101], [queued(0); 101]);
        assert_eq!(pushed[101..], [queued(1), queued(1)]);
        assert_eq!((ids(&outbox), outbox.dropped()), (range_ids(2..103), 2));

        let batch = outbox.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).unwrap();
        assert_eq!(batch.ids, range_ids(2..102));
        assert!(batch.body.ends_with(&format!(r#"],"dropped":2,"sent_at":{NOW}}}"#)));
        assert_eq!(validate_batch(batch.body.as_bytes(), NOW).unwrap().dropped, 2);

        // The batch in flight is never evicted (the edge may have it already): the oldest
        // waiting event goes instead.
        assert_eq!(outbox.push(event(103, NOW, 0)), queued(1));
        assert_eq!(ids(&outbox), [range_ids(2..102), vec![id(103)]].concat());
        assert_eq!(outbox.dropped(), 3);

        // Only what the accepted body reported is settled.
        outbox.on_response(Outcome::Accepted { rejected: vec![] }, NOW, 0.0);
        assert_eq!(outbox.dropped(), 1);
        let next = outbox.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).unwrap();
        assert_eq!(validate_batch(next.body.as_bytes(), NOW).unwrap().dropped, 1);
        outbox.on_response(Outcome::Accepted { rejected: vec![] }, NOW, 0.0);
        assert_eq!(outbox.dropped(), 0);
        // Nothing left to report: the key is left out, which the edge reads as 0.
        outbox.push(event(104, NOW, 0));
        assert!(
            !outbox
                .next_batch(TOKEN, BATCH_BODY_LIMIT, NOW)
                .unwrap()
                .body
                .contains("dropped")
        );
    }

    #[test]
    fn duplicates_are_held_once_and_unsendable_events_are_counted() {
        let mut outbox = outbox_with(2);
        assert_eq!(outbox.push(event(1, NOW + 5, 3)), Pushed::Duplicate);
        assert_eq!(outbox.push(event(2, NOW, MAX_EVENT_JSON_BYTES)), Pushed::TooLarge);
        assert_eq!((ids(&outbox), outbox.dropped()), (range_ids(0..2), 1));
    }

    #[test]
    fn the_edge_parses_every_body_as_sent() {
        let mut outbox = Outbox::new();
        outbox.push(event(0, NOW - 3_000, 0));
        let mut plan = event(1, NOW - 2_000, 0);
        plan.name = EventName::PlanSelected;
        plan.props = Map::from_iter([("plan_id".to_owned(), json!("pay_in_4"))]);
        outbox.push(plan.clone());
        let token = r#"v1.k1."quoted"\and\u2028"#;
        let batch = outbox.next_batch(token, BATCH_BODY_LIMIT, NOW).unwrap();
        let parsed = validate_batch(batch.body.as_bytes(), NOW).unwrap();
        assert_eq!(parsed.session_token, token);
        assert_eq!(
            parsed
                .accepted
                .iter()
                .map(|(i, e)| (*i, e.id.clone()))
                .collect::<Vec<_>>(),
            [(0, id(0)), (1, id(1))]
        );
        assert_eq!(parsed.accepted[1].1, plan);
        assert_eq!(parsed.rejected, []);
        // When it was sent, on this clock: the edge tells the clock's offset by it.
        assert_eq!(parsed.sent_at, Some(NOW));
        assert_eq!(
            serde_json::from_str::<Value>(&batch.body).unwrap(),
            json!({ "session_token": token, "events": [event(0, NOW - 3_000, 0), plan], "sent_at": NOW })
        );
    }

    #[test]
    fn a_batch_is_the_longest_run_under_the_size_and_count_limits() {
        // ~1.1 KB events: 60 KB holds about 54 of them.
        let mut outbox = Outbox::new();
        for n in 0..80 {
            outbox.push(event(n, NOW, 1_000));
        }
        let each = json_len(&event(0, NOW, 1_000));
        let batch = outbox.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).unwrap();
        let count = batch.ids.len();
        assert_eq!(batch.ids, range_ids(0..count as u64));
        assert!(batch.body.len() < BATCH_BODY_LIMIT);
        assert!(
            batch.body.len() + 1 + each >= BATCH_BODY_LIMIT,
            "one more would have fitted"
        );
        assert_eq!(
            count,
            (BATCH_BODY_LIMIT - 1 - Envelope::new(TOKEN, 0, NOW).overhead() + 1) / (each + 1)
        );
        outbox.on_response(Outcome::Accepted { rejected: vec![] }, NOW, 0.0);

        // The caller's limit (a keepalive request's share of the quota) applies when smaller.
        let small = outbox.next_batch(TOKEN, 5_000, NOW).unwrap();
        assert!(small.body.len() < 5_000 && small.body.len() + 1 + each >= 5_000);
        outbox.on_response(Outcome::network(), NOW, 0.0);
        // Not even one event fits: nothing goes in flight.
        assert_eq!(outbox.next_batch(TOKEN, 1_000, NOW), None);
        assert!(!outbox.in_flight());

        // "Shorter than" is exact: a body of exactly the limit does not go.
        let mut one = outbox_with(1);
        let exact = Envelope::new(TOKEN, 0, NOW).overhead() + json_len(&event(0, NOW, 0));
        assert_eq!(one.next_batch(TOKEN, exact, NOW), None);
        assert_eq!(one.next_batch(TOKEN, exact + 1, NOW).unwrap().body.len(), exact);

        // Small events: the count limit binds.
        let mut many = outbox_with(150);
        assert_eq!(
            many.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).unwrap().ids,
            range_ids(0..100)
        );
        // And a second request waits for the first one's answer.
        assert_eq!(many.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW), None);
    }

    #[test]
    fn a_413_halves_the_batch_and_acceptances_grow_it_back() {
        let mut outbox = outbox_with(40);
        let sizes: Vec<usize> = [
            Outcome::from_status(413, None),
            Outcome::from_status(413, None),
            Outcome::Accepted { rejected: vec![] },
            Outcome::Accepted { rejected: vec![] },
            Outcome::Accepted { rejected: vec![] },
        ]
        .into_iter()
        .map(|outcome| {
            let sent = outbox.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).unwrap().ids.len();
            outbox.on_response(outcome, NOW, 0.0);
            sent
        })
        .collect();
        assert_eq!(sizes, [40, 20, 10, 20, 10]);
        assert!(outbox.is_empty());
        assert_eq!(outbox.dropped(), 0);
    }

    #[test]
    fn an_acceptance_drops_rejected_events_for_good() {
        let mut outbox = outbox_with(4);
        outbox.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).unwrap();
        let resolution = outbox.on_response(
            Outcome::Accepted {
                rejected: vec![3, 1, 7, 1],
            },
            NOW,
            0.0,
        );
        assert_eq!(
            resolution,
            Resolution::Delivered {
                delivered: vec![id(0), id(2)],
                refused: vec![id(1), id(3)]
            }
        );
        // The edge knows what it refused: not reported again as dropped.
        assert_eq!((outbox.len(), outbox.dropped()), (0, 0));
    }

    #[test]
    fn an_answer_without_a_request_changes_nothing() {
        let mut outbox = outbox_with(3);
        let before = outbox.clone();
        assert_eq!(outbox.on_response(Outcome::network(), NOW, 0.5), Resolution::NoRequest);
        outbox.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).unwrap();
        outbox.on_response(Outcome::Accepted { rejected: vec![] }, NOW, 0.0);
        let after = outbox.clone();
        let late = outbox.on_response(Outcome::from_status(400, None), NOW, 0.0);
        assert_eq!((late, &outbox), (Resolution::NoRequest, &after));
        assert_ne!(before, after);
    }

    #[test]
    fn exit_chunks_carry_everything_that_fits_the_keepalive_quota_in_order() {
        let mut outbox = Outbox::new();
        for n in 0..200 {
            outbox.push(event(n, NOW, 1_000));
        }
        outbox.count_dropped(5);
        let in_flight = outbox.next_batch(TOKEN, 20_000, NOW).unwrap();
        for inflight_bytes in [0, in_flight.body.len(), 30_000, 65_000] {
            let chunks = outbox.exit_chunks(TOKEN, inflight_bytes, NOW);
            let total: usize = chunks.iter().map(|c| c.body.len()).sum();
            assert!(
                total < KEEPALIVE_QUOTA_BYTES - inflight_bytes,
                "{inflight_bytes}: {total}"
            );
            let sent: Vec<String> = chunks.iter().flat_map(|c| c.ids.clone()).collect();
            // From the in-flight batch's first event on, in order; the rest waits for next time.
            assert_eq!(sent, range_ids(0..sent.len() as u64), "{inflight_bytes}");
            let each = json_len(&event(0, NOW, 1_000)) + 1;
            assert!(total + each + Envelope::new(TOKEN, 0, NOW).overhead() >= KEEPALIVE_QUOTA_BYTES - inflight_bytes);
            for chunk in &chunks {
                assert!(chunk.body.len() < BATCH_BODY_LIMIT);
                let parsed = validate_batch(chunk.body.as_bytes(), NOW).unwrap();
                // `dropped` goes with a body that gets an answer.
                assert_eq!(
                    (parsed.accepted.len() + parsed.rejected.len(), parsed.dropped),
                    (chunk.ids.len(), 0)
                );
            }
        }
        assert_eq!(outbox.exit_chunks(TOKEN, 0, NOW).len(), 2);
        assert_eq!(outbox.exit_chunks(TOKEN, KEEPALIVE_QUOTA_BYTES, NOW), []);
        assert_eq!(outbox.exit_chunks(TOKEN, 100_000, NOW), []);
        // Nothing is removed: the next page view sends it again and the edge dedups.
        assert_eq!(outbox.len(), 200);
        assert!(outbox.in_flight());

        let small = outbox_with(3);
        let chunks = small.exit_chunks(TOKEN, 0, NOW);
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].ids, range_ids(0..3));
    }

    #[test]
    fn storage_is_versioned_json_that_reads_back_the_same() {
        let mut outbox = Outbox::with_capacity(MIN_CAPACITY);
        for n in 0..103 {
            let seq = outbox.next_seq();
            assert_eq!(seq, n as u32);
            outbox.push(event(n, NOW, 0));
        }
        outbox.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).unwrap();
        outbox.on_response(Outcome::from_status(429, Some(30_000)), NOW, 0.0);
        let text = outbox.to_storage();
        assert!(
            text.starts_with(&format!(
                r#"{{"v":1,"capacity":101,"dropped":2,"next_seq":103,"attempt":1,"not_before_ms":{},"max_events":100,"events":[{{"#,
                NOW + 30_000
            )),
            "{text}"
        );
        let back = Outbox::from_storage(&text).unwrap();
        assert_eq!(back, outbox);

        // A request in flight is stored as waiting: its answer never reaches the next page.
        let mut busy = outbox_with(3);
        busy.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).unwrap();
        busy.set_page_hidden(true);
        let mut reloaded = Outbox::from_storage(&busy.to_storage()).unwrap();
        assert_eq!(reloaded, without_page_state(&busy));
        assert!(!reloaded.in_flight());
        assert_eq!(
            reloaded.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).unwrap().ids,
            range_ids(0..3)
        );
        assert_eq!(
            Outbox::from_storage(&Outbox::new().to_storage()).unwrap(),
            Outbox::new()
        );
    }

    #[test]
    fn unreadable_storage_is_a_typed_error() {
        let stored = |fields: &str, events: &str| {
            format!(
                r#"{{"v":1,"capacity":{fields},"dropped":0,"next_seq":0,"attempt":0,"not_before_ms":null,"events":[{events}]}}"#
            )
        };
        let good = serde_json::to_string(&event(1, NOW, 0)).unwrap();
        let malformed = |text: &str| matches!(Outbox::from_storage(text), Err(OutboxError::Malformed(_)));
        assert!(Outbox::from_storage(&stored("200,\"max_events\":100", &good)).is_ok());
        for text in [
            String::new(),
            "null".into(),
            "[]".into(),
            "{}".into(),
            "{\"v\":\"1\"}".into(),
            "{\"v\":1}".into(),
            "{\"v\":1.5}".into(),
            "not json at all".into(),
            format!("{}{{", stored("200,\"max_events\":100", &good)),
            stored("200", &good),
            stored("200,\"max_events\":100,\"who\":1", &good),
            stored("-1,\"max_events\":100", &good),
            stored(
                "200,\"max_events\":100",
                r#"{"id":"x","name":"checkout_hacked","ts":1,"seq":1,"props":{}}"#,
            ),
            stored("200,\"max_events\":100", "7"),
            "[".repeat(10_000),
        ] {
            assert!(malformed(&text), "{text:.80}");
        }
        assert_eq!(
            Outbox::from_storage(r#"{"v":2,"events":[]}"#),
            Err(OutboxError::UnsupportedVersion(2))
        );
        assert_eq!(
            Outbox::from_storage(r#"{"v":0}"#),
            Err(OutboxError::UnsupportedVersion(0))
        );
        for (fields, events) in [
            ("100,\"max_events\":100", good.clone()),
            ("10,\"max_events\":0", good.clone()),
            ("10,\"max_events\":101", good.clone()),
            ("10,\"max_events\":100", format!("{good},{good}")),
            (
                "10,\"max_events\":100",
                serde_json::to_string(&event(1, NOW, MAX_EVENT_JSON_BYTES)).unwrap(),
            ),
        ] {
            assert!(
                matches!(
                    Outbox::from_storage(&stored(fields, &events)),
                    Err(OutboxError::Inconsistent(_))
                ),
                "{fields}"
            );
        }
    }

    #[test]
    fn merging_a_stored_outbox_keeps_order_and_each_id_once() {
        let mut old = Outbox::new();
        for n in 1..=3 {
            old.next_seq();
            old.push(event(n, NOW - 10_000, 0));
        }
        old.count_dropped(4);
        old.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).unwrap();
        old.on_response(Outcome::network(), NOW - 9_000, 1.0);
        let stored = Outbox::from_storage(&old.to_storage()).unwrap();

        // This page pushed event 3 too (another tab had stored it) and its own event 10.
        let mut fresh = Outbox::new();
        fresh.push(event(3, NOW - 10_000, 0));
        fresh.push(event(10, NOW, 0));
        fresh.merge(stored.clone());
        assert_eq!(ids(&fresh), [id(1), id(2), id(3), id(10)]);
        assert_eq!(
            (fresh.dropped(), fresh.attempt, fresh.not_before_ms),
            (4, 1, Some(NOW - 8_000))
        );
        assert_eq!(fresh.next_seq(), 3);

        // A request in flight stays first.
        let mut busy = Outbox::new();
        busy.push(event(10, NOW, 0));
        busy.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).unwrap();
        busy.push(event(11, NOW, 0));
        busy.merge(stored.clone());
        assert_eq!(ids(&busy), [id(10), id(1), id(2), id(3), id(11)]);
        assert!(busy.in_flight());

        // The cap still holds, by evicting the oldest.
        let mut small = Outbox::with_capacity(MIN_CAPACITY);
        for n in 100..199 {
            small.push(event(n, NOW, 0));
        }
        small.merge(stored);
        assert_eq!(ids(&small), [vec![id(2), id(3)], range_ids(100..199)].concat());
        assert_eq!(small.dropped(), 5);
    }

    #[test]
    fn queue_storage_keys_are_per_tab_and_recognized_per_merchant_key() {
        assert_eq!(
            queue_storage_key("pk_test_demo", "t1"),
            "paylater:outbox:pk_test_demo:t1"
        );
        let cases = [
            ("paylater:outbox:pk_test_demo:t1", true),
            (
                "paylater:outbox:pk_test_demo:0190d2c4-6b7a-7cc2-9a1e-000000000001",
                true,
            ),
            // Written before outboxes were kept per tab.
            ("paylater:outbox:pk_test_demo", true),
            ("paylater:outbox:pk_test_demo:", false),
            ("paylater:outbox:pk_test_demo:a:b", false),
            ("paylater:outbox:pk_test_demo2:t1", false),
            ("paylater:outbox:pk_test_dem", false),
            ("paylater:outbox:pk_test_other:t1", false),
            ("paylater:tab:pk_test_demo", false),
            ("xpaylater:outbox:pk_test_demo:t1", false),
            ("", false),
        ];
        for (key, expected) in cases {
            assert_eq!(is_queue_storage_key(key, "pk_test_demo"), expected, "{key}");
        }
    }

    #[test]
    fn taking_over_another_sessions_outbox_appends_its_events_and_keeps_this_seq() {
        let mut closed_tab = Outbox::new();
        for n in 1..=3 {
            closed_tab.next_seq();
            closed_tab.push(event(n, NOW - 60_000, 0));
        }
        closed_tab.count_dropped(2);
        closed_tab.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).unwrap();
        closed_tab.on_response(Outcome::network(), NOW - 59_000, 1.0);
        let stored = Outbox::from_storage(&closed_tab.to_storage()).unwrap();

        let mut this_tab = Outbox::new();
        assert_eq!(this_tab.next_seq(), 0);
        this_tab.push(event(10, NOW, 0));
        this_tab.next_batch(TOKEN, BATCH_BODY_LIMIT, NOW).unwrap();
        // Event 3 is held here already: the same event, kept once.
        this_tab.push(event(3, NOW - 60_000, 0));
        this_tab.take_over(stored);
        assert_eq!(ids(&this_tab), [id(10), id(3), id(1), id(2)]);
        assert!(this_tab.in_flight());
        assert_eq!(this_tab.dropped(), 2);
        assert_eq!(
            (this_tab.attempt, this_tab.not_before_ms),
            (0, None),
            "the backoff was the other session's"
        );
        assert_eq!(this_tab.next_seq(), 1, "seq counts this session's events only");

        // The cap holds by evicting the oldest waiting, counted.
        let mut full = Outbox::with_capacity(MIN_CAPACITY);
        for n in 100..100 + MIN_CAPACITY as u64 {
            full.push(event(n, NOW, 0));
        }
        full.take_over(Outbox::from_storage(&closed_tab.to_storage()).unwrap());
        assert_eq!(full.len(), MIN_CAPACITY);
        assert_eq!(full.dropped(), 2 + 3);
        assert_eq!(ids(&full)[MIN_CAPACITY - 3..], [id(1), id(2), id(3)]);
    }

    #[test]
    fn seq_counts_from_zero_per_session_and_survives_a_reload() {
        let mut outbox = Outbox::new();
        assert_eq!([outbox.next_seq(), outbox.next_seq(), outbox.next_seq()], [0, 1, 2]);
        let mut reloaded = Outbox::from_storage(&outbox.to_storage()).unwrap();
        assert_eq!(reloaded.next_seq(), 3);
        reloaded.session_renewed();
        assert_eq!(reloaded.next_seq(), 0);

        // Events numbered while the first session was asked for keep their numbers, and the
        // next event follows them instead of repeating seq 0.
        let mut waiting = Outbox::new();
        let mut first = event(1, NOW, 0);
        first.seq = waiting.next_seq();
        waiting.push(first);
        waiting.session_renewed();
        assert_eq!(waiting.next_seq(), 1);
        reloaded.next_seq = u32::MAX;
        assert_eq!([reloaded.next_seq(), reloaded.next_seq()], [u32::MAX, u32::MAX]);
    }

    /// What the edge answers, before classification.
    #[derive(Debug, Clone)]
    enum Answer {
        Accepted(Vec<usize>),
        Status(u16, Option<i64>),
        Network,
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push {
            message_len: usize,
        },
        /// Small events in a row, to reach the cap.
        Burst(u8),
        Tick(i64),
        Send {
            max_body_bytes: usize,
        },
        Answer {
            answer: Answer,
            jitter: f64,
        },
        Hide(bool),
        Renew,
        /// A new page view: the stored outbox, merged into a fresh one that pushed `pushes` first.
        Reload {
            pushes: u8,
        },
        /// Another tab's outbox, holding `pushes` events of its session, taken over.
        TakeOver {
            pushes: u8,
        },
        Exit {
            inflight_keepalive_bytes: usize,
        },
    }

    fn any_op() -> impl Strategy<Value = Op> {
        let answer = prop_oneof![
            3 => proptest::collection::vec(0usize..120, 0..4).prop_map(Answer::Accepted),
            3 => (
                proptest::sample::select(vec![400u16, 401, 403, 404, 408, 410, 413, 422, 429, 500, 503]),
                proptest::option::of(0i64..120_000),
            )
                .prop_map(|(status, retry_after)| Answer::Status(status, retry_after)),
            1 => Just(Answer::Network),
        ];
        let message_len = prop_oneof![8 => 0usize..300, 3 => 300usize..3_000, 1 => Just(60_000usize)];
        prop_oneof![
            5 => message_len.prop_map(|message_len| Op::Push { message_len }),
            1 => (1u8..40).prop_map(Op::Burst),
            2 => (0i64..5_000).prop_map(Op::Tick),
            3 => prop_oneof![Just(BATCH_BODY_LIMIT), 500usize..70_000]
                .prop_map(|max_body_bytes| Op::Send { max_body_bytes }),
            3 => (answer, 0.0f64..1.0).prop_map(|(answer, jitter)| Op::Answer { answer, jitter }),
            1 => any::<bool>().prop_map(Op::Hide),
            1 => Just(Op::Renew),
            1 => (0u8..3).prop_map(|pushes| Op::Reload { pushes }),
            1 => (0u8..30).prop_map(|pushes| Op::TakeOver { pushes }),
            1 => (0usize..70_000).prop_map(|inflight_keepalive_bytes| Op::Exit { inflight_keepalive_bytes }),
        ]
    }

    /// Where every pushed event went, kept beside the outbox.
    #[derive(Default)]
    struct Model {
        now: i64,
        next_id: u64,
        pushed: Vec<String>,
        delivered: HashSet<String>,
        refused: HashSet<String>,
        dropped: HashSet<String>,
        /// `dropped` counts carried by accepted bodies.
        reported: u64,
        batch: Option<Batch>,
    }

    impl Model {
        fn push(&mut self, outbox: &mut Outbox, message_len: usize) -> Result<(), TestCaseError> {
            let mut event = event(self.next_id, self.now, message_len);
            self.next_id += 1;
            event.seq = outbox.next_seq();
            self.pushed.push(event.id.clone());
            let before = ids(outbox);
            let held = match outbox.push(event.clone()) {
                Pushed::Queued { .. } => true,
                Pushed::TooLarge => false,
                Pushed::Duplicate => return Err(TestCaseError::fail("ids are unique")),
            };
            prop_assert_eq!(held, message_len < MAX_EVENT_JSON_BYTES);
            if !held {
                self.dropped.insert(event.id);
            }
            self.account(&before, outbox);
            Ok(())
        }

        /// Every event that left the outbox since `before` and was not answered is dropped.
        fn account(&mut self, before: &[String], outbox: &Outbox) {
            let after: HashSet<&str> = outbox.ids().collect();
            for id in before {
                if !after.contains(id.as_str()) && !self.delivered.contains(id) && !self.refused.contains(id) {
                    self.dropped.insert(id.clone());
                }
            }
        }

        fn check(&self, outbox: &Outbox, capacity: usize) -> Result<(), TestCaseError> {
            let held: Vec<String> = ids(outbox);
            let unique: HashSet<&String> = held.iter().collect();
            prop_assert_eq!(unique.len(), held.len(), "an id is held twice");
            // Conservation: each pushed event is in exactly one place.
            for id in &self.pushed {
                let places = [
                    unique.contains(id),
                    self.delivered.contains(id),
                    self.refused.contains(id),
                    self.dropped.contains(id),
                ];
                prop_assert_eq!(places.iter().filter(|p| **p).count(), 1, "{} is in {:?}", id, places);
            }
            prop_assert_eq!(
                self.pushed.len(),
                held.len() + self.delivered.len() + self.refused.len() + self.dropped.len()
            );
            // Every drop is counted: reported in an accepted body, or still to report.
            prop_assert_eq!(self.dropped.len() as u64, self.reported + u64::from(outbox.dropped()));
            prop_assert_eq!(outbox.in_flight(), self.batch.is_some());
            prop_assert!(held.len() <= capacity, "{} held", held.len());
            let reloaded = Outbox::from_storage(&outbox.to_storage());
            prop_assert_eq!(reloaded, Ok(without_page_state(outbox)));
            Ok(())
        }

        fn answer(&mut self, outbox: &mut Outbox, outcome: Outcome, jitter: f64) -> Result<(), TestCaseError> {
            let before = ids(outbox);
            let snapshot = outbox.clone();
            let resolution = outbox.on_response(outcome.clone(), self.now, jitter);
            let Some(batch) = self.batch.take() else {
                prop_assert_eq!(resolution, Resolution::NoRequest);
                prop_assert_eq!(&*outbox, &snapshot);
                return Ok(());
            };
            match resolution {
                Resolution::Delivered { delivered, refused } => {
                    let mut all: Vec<String> = delivered.iter().chain(&refused).cloned().collect();
                    all.sort();
                    let mut sent = batch.ids.clone();
                    sent.sort();
                    prop_assert_eq!(all, sent);
                    self.reported += u64::from(validate_batch(batch.body.as_bytes(), self.now).unwrap().dropped);
                    self.delivered.extend(delivered);
                    self.refused.extend(refused);
                }
                Resolution::Retry { at_ms, .. } => {
                    prop_assert!(at_ms >= self.now);
                    prop_assert_eq!(ids(outbox), before.clone());
                    if let Outcome::Retryable {
                        retry_after_ms: Some(ms),
                        ..
                    } = outcome
                    {
                        prop_assert!(at_ms >= self.now + ms);
                    }
                }
                Resolution::Split { max_events } => {
                    prop_assert!(batch.ids.len() > 1);
                    prop_assert_eq!(max_events, batch.ids.len() / 2);
                    prop_assert_eq!(ids(outbox), before.clone());
                }
                Resolution::Dropped {
                    ids: dropped,
                    renew_session,
                    ..
                } => {
                    prop_assert_eq!(&dropped, &batch.ids);
                    // Sticky: an earlier 401 holds until the session is renewed.
                    prop_assert!(!renew_session || outbox.needs_session());
                }
                Resolution::NoRequest => return Err(TestCaseError::fail("a request was in flight")),
            }
            self.account(&before, outbox);
            Ok(())
        }

        fn send(&mut self, outbox: &mut Outbox, max_body_bytes: usize) -> Result<(), TestCaseError> {
            let was_in_flight = outbox.in_flight();
            let dropped = outbox.dropped();
            let max_events = outbox.max_events;
            let held = ids(outbox);
            let Some(batch) = outbox.next_batch(TOKEN, max_body_bytes, NOW) else {
                if !was_in_flight && !held.is_empty() {
                    // Not even the oldest event fits this limit.
                    let first = &outbox.held[0];
                    let alone = Envelope::new(TOKEN, dropped, NOW).overhead() + first.json.len();
                    prop_assert!(alone >= max_body_bytes.min(BATCH_BODY_LIMIT));
                }
                return Ok(());
            };
            prop_assert!(!was_in_flight);
            let limit = max_body_bytes.min(BATCH_BODY_LIMIT);
            prop_assert!(batch.body.len() < limit && batch.body.len() < 60_000);
            prop_assert!(batch.ids.len() <= MAX_EVENTS && batch.ids.len() <= max_events && !batch.ids.is_empty());
            prop_assert_eq!(&batch.ids[..], &held[..batch.ids.len()]);
            // The longest such run: the next event would not have fitted.
            if let Some(next) = outbox.held.get(batch.ids.len())
                && batch.ids.len() < max_events
            {
                prop_assert!(batch.body.len() + 1 + next.json.len() >= limit);
            }
            let parsed = validate_batch(batch.body.as_bytes(), self.now).unwrap();
            prop_assert_eq!(parsed.accepted.len() + parsed.rejected.len(), batch.ids.len());
            prop_assert_eq!(parsed.dropped, dropped);
            self.batch = Some(batch);
            Ok(())
        }
    }

    fn check_exit(outbox: &Outbox, model: &Model, inflight: usize) -> Result<(), TestCaseError> {
        let chunks = outbox.exit_chunks(TOKEN, inflight, NOW);
        let total: usize = chunks.iter().map(|c| c.body.len()).sum();
        if inflight >= KEEPALIVE_QUOTA_BYTES {
            prop_assert!(chunks.is_empty());
        } else {
            prop_assert!(total < KEEPALIVE_QUOTA_BYTES - inflight);
        }
        let sent: Vec<String> = chunks.iter().flat_map(|c| c.ids.clone()).collect();
        prop_assert_eq!(&sent[..], &ids(outbox)[..sent.len()]);
        for chunk in &chunks {
            prop_assert!(chunk.body.len() < BATCH_BODY_LIMIT && chunk.ids.len() <= MAX_EVENTS);
            let parsed = validate_batch(chunk.body.as_bytes(), model.now).unwrap();
            prop_assert_eq!(parsed.accepted.len() + parsed.rejected.len(), chunk.ids.len());
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn every_event_is_delivered_refused_dropped_and_counted_or_still_held(
            capacity in prop_oneof![MIN_CAPACITY..MIN_CAPACITY + 12, Just(DEFAULT_CAPACITY)],
            ops in proptest::collection::vec(any_op(), 0..60),
        ) {
            let mut outbox = Outbox::with_capacity(capacity);
            let mut model = Model { now: NOW, ..Model::default() };
            for op in ops {
                let before = ids(&outbox);
                match op {
                    Op::Push { message_len } => model.push(&mut outbox, message_len)?,
                    Op::Burst(count) => {
                        for _ in 0..count {
                            model.push(&mut outbox, 0)?;
                        }
                    }
                    Op::Tick(ms) => model.now += ms,
                    Op::Send { max_body_bytes } => model.send(&mut outbox, max_body_bytes)?,
                    Op::Answer { answer, jitter } => {
                        let outcome = match answer {
                            Answer::Accepted(rejected) => Outcome::Accepted { rejected },
                            Answer::Status(status, retry_after) => Outcome::from_status(status, retry_after),
                            Answer::Network => Outcome::network(),
                        };
                        model.answer(&mut outbox, outcome, jitter)?;
                    }
                    Op::Hide(hidden) => outbox.set_page_hidden(hidden),
                    Op::Renew => outbox.session_renewed(),
                    Op::Reload { pushes } => {
                        let stored = Outbox::from_storage(&outbox.to_storage()).unwrap();
                        let mut fresh = Outbox::with_capacity(capacity);
                        for _ in 0..pushes {
                            model.push(&mut fresh, 10)?;
                        }
                        let fresh_ids = ids(&fresh);
                        fresh.merge(stored);
                        // The page that sent the request is gone, and its answer with it.
                        model.batch = None;
                        let old = std::mem::replace(&mut outbox, fresh);
                        let mut seen = ids(&old);
                        seen.extend(fresh_ids);
                        model.account(&seen, &outbox);
                    }
                    Op::TakeOver { pushes } => {
                        let mut other = Outbox::with_capacity(capacity);
                        for _ in 0..pushes {
                            model.push(&mut other, 10)?;
                        }
                        let mut seen = ids(&other);
                        let seq = outbox.next_seq;
                        outbox.take_over(other);
                        prop_assert_eq!(outbox.next_seq, seq);
                        seen.extend(before.iter().cloned());
                        model.account(&seen, &outbox);
                    }
                    Op::Exit { inflight_keepalive_bytes } => {
                        let unchanged = outbox.clone();
                        check_exit(&outbox, &model, inflight_keepalive_bytes)?;
                        prop_assert_eq!(&outbox, &unchanged);
                    }
                }
                model.account(&before, &outbox);
                model.check(&outbox, capacity)?;
            }
            // Drain with a good session: everything held gets delivered.
            outbox.session_renewed();
            while !outbox.is_empty() {
                if !outbox.in_flight() {
                    model.send(&mut outbox, BATCH_BODY_LIMIT)?;
                    prop_assert!(outbox.in_flight(), "a held event fits a body");
                }
                model.answer(&mut outbox, Outcome::Accepted { rejected: vec![] }, 0.0)?;
                model.check(&outbox, capacity)?;
            }
            let settled = model.delivered.len() + model.refused.len() + model.dropped.len();
            prop_assert_eq!(settled, model.pushed.len());
        }

        #[test]
        fn arbitrary_text_never_panics_from_storage(text in any::<String>()) {
            let _ = Outbox::from_storage(&text);
        }

        #[test]
        fn mangled_storage_is_an_error_or_an_outbox_never_a_panic(
            cut in 0usize..400,
            byte in any::<u8>(),
            at in 0usize..400,
        ) {
            let mut outbox = Outbox::new();
            for n in 0..4 {
                outbox.push(event(n, NOW, 5));
            }
            let mut bytes = outbox.to_storage().into_bytes();
            let at = at % bytes.len();
            bytes[at] = byte;
            bytes.truncate(bytes.len() - cut.min(bytes.len()));
            let text = String::from_utf8_lossy(&bytes);
            if let Ok(read) = Outbox::from_storage(&text) {
                prop_assert_eq!(Outbox::from_storage(&read.to_storage()), Ok(read));
            }
        }
    }
}
