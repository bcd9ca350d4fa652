//! What the edge decides on `POST /v1/events` before the hand-off to the queue: rate-limit
//! windows, exact dedup and `seq` gaps per session, enrichment, and explainable risk flags.
//! Pure: the edge's Durable Objects keep the state between requests, this module decides.

use paylater_shared::telemetry::{Event, EventName};
use serde::{Deserialize, Serialize};

/// Rate limits count requests over this window (CONTRACT §3: "a minute").
pub const WINDOW_SECONDS: i64 = 60;
/// Interactions sooner than this after the widget loaded are faster than a person clicks.
pub const MIN_HUMAN_INTERACTION_MS: i64 = 300;
/// Submitting the approval form sooner than this after opening it is faster than anyone types.
pub const MIN_FORM_FILL_MS: i64 = 1_500;
/// Client clocks may run this far behind the edge's before an event "predates" its session.
pub const CLOCK_SKEW_MS: i64 = 60_000;

/// High velocity: half a limit or more used in the current minute (flags `velocity_*`).
pub fn is_high_velocity(count_in_window: u64, limit_per_minute: u32) -> bool {
    count_in_window.saturating_mul(2) >= u64::from(limit_per_minute)
}

/// Keeps the earliest of a funnel anchor's client times.
fn keep_earliest(anchor: &mut Option<i64>, ts: i64) {
    *anchor = Some(anchor.map_or(ts, |t| t.min(ts)));
}

/// A refusal by a rate limit, with the wait that the `Retry-After` header carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimited {
    pub retry_after_seconds: u32,
}

/// Requests counted per whole second over the last [`WINDOW_SECONDS`]: exact at one-second
/// granularity, and at most 60 entries however high the limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestWindow {
    /// `(epoch second, requests in it)`, oldest first, only seconds with requests.
    buckets: Vec<(i64, u32)>,
}

impl RequestWindow {
    /// Requests counted in the window that ends at `now_ms`.
    pub fn count(&self, now_ms: i64) -> u64 {
        let now_s = now_ms.div_euclid(1000);
        self.buckets
            .iter()
            .filter(|(second, _)| *second > now_s - WINDOW_SECONDS && *second <= now_s)
            .map(|(_, n)| u64::from(*n))
            .sum()
    }

    /// Counts one request at `now_ms` if fewer than `limit` arrived in the window; otherwise
    /// says how long until the oldest counted second leaves it. Returns the count after admitting.
    pub fn admit(&mut self, now_ms: i64, limit: u32) -> Result<u64, RateLimited> {
        let now_s = now_ms.div_euclid(1000);
        self.buckets.retain(|(second, _)| *second > now_s - WINDOW_SECONDS);
        let count = self.count(now_ms);
        if count >= u64::from(limit) {
            let oldest = self.buckets.first().map_or(now_s, |(second, _)| *second);
            let wait = (oldest + WINDOW_SECONDS - now_s).clamp(1, WINDOW_SECONDS);
            return Err(RateLimited {
                retry_after_seconds: wait as u32,
            });
        }
        match self.buckets.last_mut() {
            Some((second, n)) if *second == now_s => *n += 1,
            _ => self.buckets.push((now_s, 1)),
        }
        Ok(count + 1)
    }
}

/// What kind of client sent a request, from its `User-Agent` (kept instead of the string, which
/// can fingerprint a shopper).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UaClass {
    Desktop,
    Mobile,
    Automation,
    Unknown,
}

impl UaClass {
    pub fn from_user_agent(user_agent: &str) -> Self {
        let ua = user_agent.to_ascii_lowercase();
        const AUTOMATION: [&str; 14] = [
            "headless",
            "bot",
            "crawler",
            "spider",
            "curl/",
            "wget/",
            "python",
            "go-http-client",
            "node-fetch",
            "undici",
            "axios",
            "okhttp",
            "wrk",
            "phantomjs",
        ];
        if ua.trim().is_empty() {
            Self::Unknown
        } else if AUTOMATION.iter().any(|marker| ua.contains(marker)) {
            Self::Automation
        } else if ["mobi", "android", "iphone", "ipad"].iter().any(|m| ua.contains(m)) {
            Self::Mobile
        } else if ua.starts_with("mozilla/5.0") {
            Self::Desktop
        } else {
            Self::Unknown
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Desktop => "desktop",
            Self::Mobile => "mobile",
            Self::Automation => "automation",
            Self::Unknown => "unknown",
        }
    }
}

/// Explainable risk flags (`risk.flags`). They annotate events for fraud review; they never
/// cause an event to be dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskFlag {
    /// The session used at least half its per-minute request limit.
    VelocitySession,
    /// The client IP used at least half its per-minute request limit.
    VelocityIp,
    /// A step came faster than a person acts, or before the session existed.
    ImpossibleTiming,
    /// The page reported another amount or currency than the session was created for.
    AmountChanged,
    /// The session token came from a second network (IP /24 or /48) after its first use.
    TokenReused,
    /// The session token came from another country than its first use.
    TokenForeign,
    /// The user agent is a script, a bot or a headless browser.
    AutomatedAgent,
}

impl RiskFlag {
    pub const ALL: [RiskFlag; 7] = [
        Self::VelocitySession,
        Self::VelocityIp,
        Self::ImpossibleTiming,
        Self::AmountChanged,
        Self::TokenReused,
        Self::TokenForeign,
        Self::AutomatedAgent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::VelocitySession => "velocity_session",
            Self::VelocityIp => "velocity_ip",
            Self::ImpossibleTiming => "impossible_timing",
            Self::AmountChanged => "amount_changed",
            Self::TokenReused => "token_reused",
            Self::TokenForeign => "token_foreign",
            Self::AutomatedAgent => "automated_agent",
        }
    }
}

/// What the edge observed about the request, beyond the events themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestFacts {
    /// Edge clock, epoch ms.
    pub observed_ms: i64,
    /// The client IP with its host part removed ([`crate::log_record::truncate_ip`]).
    pub network: String,
    /// ISO country from `request.cf`, if the runtime knows it.
    pub country: Option<String>,
    /// Autonomous system number from `request.cf`.
    pub asn: Option<u32>,
    pub ua_class: UaClass,
    /// Whether the IP's own limiter saw high velocity.
    pub ip_velocity: bool,
}

/// What the session token asserts about the checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionFacts {
    pub session_id: String,
    pub merchant_id: String,
    pub amount_minor: u64,
    pub currency: String,
    /// Session creation, epoch seconds.
    pub issued_at_s: i64,
    /// Made with a live publishable key. Messages queued before modes existed were test ones.
    #[serde(default)]
    pub livemode: bool,
    /// The key the session was made with: names the merchant's config (anomaly thresholds).
    /// Empty in messages queued before it was carried.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub publishable_key: String,
}

/// One accepted event with everything the consumer needs to make its log record: the message
/// that crosses the queue, as JSON text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedEvent {
    pub event: Event,
    pub session: SessionFacts,
    pub request: RequestFacts,
    /// How many `seq` numbers were missing before this event when it arrived.
    pub seq_gap: u32,
    pub risk_flags: Vec<RiskFlag>,
}

/// The verdict on one valid event of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Its id was accepted before: counted, not forwarded again.
    Duplicate,
    Accept(Box<QueuedEvent>),
}

/// Per-session state between requests (kept in the session's Durable Object; event ids are
/// kept beside it, one storage key each).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionLedger {
    pub window: RequestWindow,
    /// Highest `seq` accepted so far.
    pub max_seq: Option<u32>,
    pub first_network: Option<String>,
    pub first_country: Option<String>,
    /// Client time of `widget_loaded` and `approval_started`, once seen.
    pub loaded_ts: Option<i64>,
    pub approval_started_ts: Option<i64>,
    pub accepted: u64,
    /// Edge clock when `approval_started` first arrived: form-fill time is measured on one clock.
    #[serde(default)]
    pub approval_started_observed_ms: Option<i64>,
    /// Whether any accepted event reported another amount or currency than the session's
    /// (a signal for the approval decision).
    #[serde(default)]
    pub amount_changed: bool,
    /// Approval attempts made in this session (distinct idempotency keys that got a decision).
    #[serde(default)]
    pub approval_attempts: u32,
    /// The smallest `observed - ts` of the session's events, or `observed - sent_at` of its
    /// requests: the client clock's offset from the edge's plus the quickest delivery, so a
    /// client time maps onto the edge's clock.
    #[serde(default)]
    pub min_clock_offset_ms: Option<i64>,
}

impl SessionLedger {
    /// How long the shopper took from `approval_started` to the approval at `now_ms`, on the
    /// edge's clock. An `approval_started` that waited in the browser (a backoff, `Retry-After`)
    /// arrives late; its own time, mapped by the session's clock offset, says when the form
    /// opened, so a shopper whose event was held back is not timed as a bot. Never earlier than
    /// the session began, nor later than the event arrived: a client's time can only lengthen
    /// the measure within what the edge itself saw.
    pub fn form_fill_ms(&self, now_ms: i64, session_start_ms: i64) -> Option<i64> {
        let observed = self.approval_started_observed_ms?;
        let mapped = self
            .approval_started_ts
            .zip(self.min_clock_offset_ms)
            .map(|(ts, offset)| ts.saturating_add(offset));
        let started = mapped.map_or(observed, |mapped| {
            mapped.clamp(session_start_ms.min(observed), observed)
        });
        Some(now_ms.saturating_sub(started))
    }

    /// A request's `sent_at` (the client's clock as it sent it) is the truest offset there is:
    /// unlike an event's `ts`, it leaves out the time the events waited in the browser. A
    /// session whose every event was held back by a `Retry-After` would otherwise map its
    /// `approval_started` as late as it arrived, and time an honest shopper as a bot.
    pub fn note_sent_at(&mut self, observed_ms: i64, sent_at_ms: Option<i64>) {
        if let Some(sent) = sent_at_ms {
            let offset = observed_ms.saturating_sub(sent);
            self.min_clock_offset_ms = Some(self.min_clock_offset_ms.map_or(offset, |o| o.min(offset)));
        }
    }

    /// Judges the valid events of one admitted request. `seen` says whether an id was accepted
    /// by an earlier request. Updates the ledger as if every `Accept` is forwarded; the caller
    /// stores the ledger only after the queue took them.
    pub fn judge(
        &mut self,
        events: &[Event],
        seen: &dyn Fn(&str) -> bool,
        session: &SessionFacts,
        request: &RequestFacts,
        session_velocity: bool,
    ) -> Vec<Verdict> {
        // Asked once per event: `seen` may be a storage lookup.
        let earlier: Vec<bool> = events.iter().map(|e| seen(&e.id)).collect();
        let fresh: Vec<&Event> = events
            .iter()
            .zip(&earlier)
            .filter(|(_, s)| !**s)
            .map(|(e, _)| e)
            .collect();
        // Funnel anchors from this request count too, whatever order the batch has.
        for event in &fresh {
            let offset = request.observed_ms.saturating_sub(event.ts);
            self.min_clock_offset_ms = Some(self.min_clock_offset_ms.map_or(offset, |o| o.min(offset)));
            match event.name {
                EventName::WidgetLoaded => keep_earliest(&mut self.loaded_ts, event.ts),
                EventName::ApprovalStarted => {
                    keep_earliest(&mut self.approval_started_ts, event.ts);
                    keep_earliest(&mut self.approval_started_observed_ms, request.observed_ms);
                }
                _ => {}
            }
        }
        let mut request_flags = Vec::new();
        if session_velocity {
            request_flags.push(RiskFlag::VelocitySession);
        }
        if request.ip_velocity {
            request_flags.push(RiskFlag::VelocityIp);
        }
        if request.ua_class == UaClass::Automation {
            request_flags.push(RiskFlag::AutomatedAgent);
        }
        match &self.first_network {
            Some(first) if *first != request.network => request_flags.push(RiskFlag::TokenReused),
            Some(_) => {}
            None => self.first_network = Some(request.network.clone()),
        }
        match (&self.first_country, &request.country) {
            (Some(first), Some(now)) if first != now => request_flags.push(RiskFlag::TokenForeign),
            (None, Some(now)) => self.first_country = Some(now.clone()),
            _ => {}
        }
        // Gaps are counted in seq order, so a batch that arrives shuffled has none.
        let mut by_seq: Vec<&Event> = fresh.clone();
        by_seq.sort_by_key(|e| e.seq);
        let mut gaps = std::collections::HashMap::new();
        for event in by_seq {
            let gap = match self.max_seq {
                Some(max) if event.seq > max => event.seq - max - 1,
                Some(_) => 0,
                None => event.seq,
            };
            gaps.insert(event.id.as_str(), gap);
            self.max_seq = Some(self.max_seq.map_or(event.seq, |m| m.max(event.seq)));
        }
        let mut accepted_now = std::collections::HashSet::new();
        events
            .iter()
            .zip(earlier)
            .map(|(event, seen_before)| {
                if seen_before || !accepted_now.insert(event.id.as_str()) {
                    return Verdict::Duplicate;
                }
                let mut flags = request_flags.clone();
                flags.extend(self.event_flags(event, session));
                self.amount_changed |= flags.contains(&RiskFlag::AmountChanged);
                flags.sort();
                flags.dedup();
                self.accepted += 1;
                Verdict::Accept(Box::new(QueuedEvent {
                    event: event.clone(),
                    session: session.clone(),
                    request: request.clone(),
                    seq_gap: gaps.get(event.id.as_str()).copied().unwrap_or(0),
                    risk_flags: flags,
                }))
            })
            .collect()
    }

    fn event_flags(&self, event: &Event, session: &SessionFacts) -> Vec<RiskFlag> {
        let mut flags = Vec::new();
        let interaction = matches!(
            event.name,
            EventName::TermsOpened
                | EventName::PlanSelected
                | EventName::ApprovalStarted
                | EventName::ApprovalSubmitted
        );
        let too_soon_after_load = interaction
            && self
                .loaded_ts
                .is_some_and(|loaded| event.ts >= loaded && event.ts - loaded < MIN_HUMAN_INTERACTION_MS);
        let form_too_fast = event.name == EventName::ApprovalSubmitted
            && self
                .approval_started_ts
                .is_some_and(|started| event.ts >= started && event.ts - started < MIN_FORM_FILL_MS);
        let before_session = event.ts < session.issued_at_s.saturating_mul(1000) - CLOCK_SKEW_MS;
        if too_soon_after_load || form_too_fast || before_session {
            flags.push(RiskFlag::ImpossibleTiming);
        }
        let amount_differs = event
            .props
            .get("amount_minor")
            .and_then(|v| v.as_u64())
            .is_some_and(|amount| amount != session.amount_minor);
        let currency_differs = event
            .props
            .get("currency")
            .and_then(|v| v.as_str())
            .is_some_and(|currency| currency != session.currency);
        if amount_differs || currency_differs {
            flags.push(RiskFlag::AmountChanged);
        }
        flags
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Map, json};

    const NOW: i64 = 1_795_420_800_000;

    fn event(id: u8, name: EventName, ts: i64, seq: u32, props: serde_json::Value) -> Event {
        let serde_json::Value::Object(props) = props else {
            unreachable!()
        };
        Event {
            id: format!("0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e{id:02x}"),
            name,
            ts,
            seq,
            props,
        }
    }

    fn session() -> SessionFacts {
        SessionFacts {
            session_id: "ses_1".into(),
            merchant_id: "m_nordic_outdoor".into(),
            amount_minor: 12_999,
            currency: "USD".into(),
            issued_at_s: NOW / 1000 - 600,
            livemode: false,
            publishable_key: "pk_test_demo".into(),
        }
    }

    fn request(network: &str, country: Option<&str>) -> RequestFacts {
        RequestFacts {
            observed_ms: NOW,
            network: network.into(),
            country: country.map(str::to_owned),
            asn: Some(64_500),
            ua_class: UaClass::Desktop,
            ip_velocity: false,
        }
    }

    fn accepted(verdicts: &[Verdict]) -> Vec<(u32, Vec<&'static str>)> {
        verdicts
            .iter()
            .filter_map(|v| match v {
                Verdict::Accept(q) => Some((q.seq_gap, q.risk_flags.iter().map(|f| f.as_str()).collect())),
                Verdict::Duplicate => None,
            })
            .collect()
    }

    #[test]
    fn window_admits_up_to_the_limit_then_names_the_wait() {
        let mut window = RequestWindow::default();
        assert_eq!(window.admit(NOW, 3), Ok(1));
        assert_eq!(window.admit(NOW + 10_000, 3), Ok(2));
        assert_eq!(window.admit(NOW + 20_500, 3), Ok(3));
        // The first request leaves the window 60 s after its second began.
        assert_eq!(
            window.admit(NOW + 30_000, 3),
            Err(RateLimited {
                retry_after_seconds: 30
            })
        );
        assert_eq!(window.admit(NOW + 59_999, 3).map_err(|e| e.retry_after_seconds), Err(1));
        assert_eq!(window.admit(NOW + 60_000, 3), Ok(3));
        assert_eq!(window.count(NOW + 60_000), 3);
        assert_eq!(window.count(NOW + 200_000), 0);
    }

    proptest! {
        #[test]
        fn a_window_never_admits_more_than_its_limit_in_any_minute(
            gaps in proptest::collection::vec(0i64..3_000, 1..400),
            limit in 1u32..50,
        ) {
            let mut window = RequestWindow::default();
            let mut admitted = Vec::new();
            let mut now = NOW;
            for gap in gaps {
                now += gap;
                match window.admit(now, limit) {
                    Ok(_) => admitted.push(now / 1000),
                    Err(limited) => prop_assert!((1..=60).contains(&limited.retry_after_seconds)),
                }
            }
            for &start in &admitted {
                let in_minute = admitted.iter().filter(|s| **s >= start && **s < start + WINDOW_SECONDS).count();
                prop_assert!(in_minute <= limit as usize);
            }
            prop_assert!(window.buckets.len() <= WINDOW_SECONDS as usize);
        }
    }

    #[test]
    fn user_agents_are_classed() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0 Safari/537.36",
                UaClass::Desktop,
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148",
                UaClass::Mobile,
            ),
            (
                "Mozilla/5.0 (Linux; Android 15) Chrome/156.0 Mobile Safari/537.36",
                UaClass::Mobile,
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/156.0 Safari/537.36",
                UaClass::Automation,
            ),
            ("curl/8.11.1", UaClass::Automation),
            ("python-requests/2.32", UaClass::Automation),
            ("Googlebot/2.1", UaClass::Automation),
            ("", UaClass::Unknown),
            ("SomeApp/1.0", UaClass::Unknown),
        ];
        for (ua, class) in cases {
            assert_eq!(UaClass::from_user_agent(ua), class, "{ua}");
        }
    }

    #[test]
    fn duplicates_are_exact_across_and_within_requests() {
        let mut ledger = SessionLedger::default();
        let first = [
            event(1, EventName::WidgetLoaded, NOW - 5000, 0, json!({})),
            event(2, EventName::WidgetViewed, NOW - 4000, 1, json!({})),
        ];
        let verdicts = ledger.judge(&first, &|_| false, &session(), &request("203.0.113.0/24", None), false);
        assert_eq!(accepted(&verdicts), vec![(0, vec![]), (0, vec![])]);
        let stored: Vec<String> = first.iter().map(|e| e.id.clone()).collect();
        let second = [
            event(2, EventName::WidgetViewed, NOW - 4000, 1, json!({})),
            event(3, EventName::TermsOpened, NOW - 3000, 2, json!({})),
            event(3, EventName::TermsOpened, NOW - 3000, 2, json!({})),
        ];
        let verdicts = ledger.judge(
            &second,
            &|id| stored.iter().any(|s| s == id),
            &session(),
            &request("203.0.113.0/24", None),
            false,
        );
        assert_eq!(verdicts[0], Verdict::Duplicate);
        assert!(matches!(verdicts[1], Verdict::Accept(_)));
        assert_eq!(verdicts[2], Verdict::Duplicate);
        assert_eq!(ledger.accepted, 3);
    }

    #[test]
    fn seq_gaps_are_counted_in_seq_order() {
        let mut ledger = SessionLedger::default();
        let batch = [
            event(5, EventName::TermsClosed, NOW - 1000, 5, json!({})),
            event(1, EventName::WidgetLoaded, NOW - 5000, 0, json!({})),
            event(2, EventName::WidgetViewed, NOW - 4000, 1, json!({})),
        ];
        let verdicts = ledger.judge(&batch, &|_| false, &session(), &request("n", None), false);
        assert_eq!(
            accepted(&verdicts).iter().map(|(gap, _)| *gap).collect::<Vec<_>>(),
            vec![3, 0, 0]
        );
        assert_eq!(ledger.max_seq, Some(5));
        // The late ones fill the gap without a gap of their own.
        let late = [event(3, EventName::TermsOpened, NOW - 2000, 3, json!({}))];
        let verdicts = ledger.judge(&late, &|_| false, &session(), &request("n", None), false);
        assert_eq!(accepted(&verdicts)[0].0, 0);
        let first_of_session_is_late = SessionLedger::default().judge(
            &[event(9, EventName::WidgetViewed, NOW, 4, json!({}))],
            &|_| false,
            &session(),
            &request("n", None),
            false,
        );
        assert_eq!(accepted(&first_of_session_is_late)[0].0, 4);
    }

    #[test]
    fn a_session_held_back_from_its_start_is_timed_by_when_its_requests_were_sent() {
        // Every event of the session waited 4 s in the browser (a Retry-After on its first
        // request): loaded at NOW-5400, the form opened at NOW-4000, both arrived at NOW.
        let batch = [
            event(1, EventName::WidgetLoaded, NOW - 5_400, 1, json!({})),
            event(
                2,
                EventName::ApprovalStarted,
                NOW - 4_000,
                2,
                json!({ "plan_id": "pay_in_4" }),
            ),
        ];
        let session_start = NOW - 60_000;
        // The approval comes 5 s after the form opened, 1 s after the events arrived.
        let approval_at = NOW + 1_000;
        let mut by_ts = SessionLedger::default();
        by_ts.judge(&batch, &|_| false, &session(), &request("n", None), false);
        // By the events' own times alone, the form seems to have opened when they arrived:
        // 1 s, a bot's speed.
        assert_eq!(by_ts.form_fill_ms(approval_at, session_start), Some(1_000));
        let mut by_send = SessionLedger::default();
        by_send.note_sent_at(NOW, Some(NOW - 30));
        by_send.judge(&batch, &|_| false, &session(), &request("n", None), false);
        assert_eq!(by_send.min_clock_offset_ms, Some(30));
        assert_eq!(by_send.form_fill_ms(approval_at, session_start), Some(4_970));
        // No `sent_at` (an older widget): nothing changes.
        let mut older = SessionLedger::default();
        older.note_sent_at(NOW, None);
        assert_eq!(older.min_clock_offset_ms, None);
    }

    #[test]
    fn form_fill_counts_from_when_the_form_opened_not_when_its_event_arrived() {
        const T: i64 = 1_795_420_800_000;
        let ledger = |started_ts: Option<i64>, observed: Option<i64>, offset: Option<i64>| SessionLedger {
            approval_started_ts: started_ts,
            approval_started_observed_ms: observed,
            min_clock_offset_ms: offset,
            ..SessionLedger::default()
        };
        let session_start = T - 60_000;
        // Sent at once (40 ms on the wire): the edge's own arrival time.
        assert_eq!(
            ledger(Some(T), Some(T + 40), Some(40)).form_fill_ms(T + 20_040, session_start),
            Some(20_000)
        );
        // Held back 4 s by a Retry-After: still 20 s, not 16.
        assert_eq!(
            ledger(Some(T), Some(T + 4_040), Some(40)).form_fill_ms(T + 20_040, session_start),
            Some(20_000)
        );
        // A clock running an hour fast changes nothing: the offset carries it.
        let fast = 3_600_000;
        assert_eq!(
            ledger(Some(T + fast), Some(T + 40), Some(40 - fast)).form_fill_ms(T + 20_040, session_start),
            Some(20_000)
        );
        // A client time claiming the form opened before the session began counts from the start.
        assert_eq!(
            ledger(Some(T - 3_600_000), Some(T + 40), Some(40)).form_fill_ms(T + 20_040, session_start),
            Some(80_040)
        );
        // Nor can a client time make it shorter than the edge saw.
        assert_eq!(
            ledger(Some(T + 9_000), Some(T + 40), Some(40)).form_fill_ms(T + 20_040, session_start),
            Some(20_000)
        );
        // Without a clock offset (an old ledger): arrival time; without the event: none.
        assert_eq!(
            ledger(Some(T), Some(T + 4_040), None).form_fill_ms(T + 20_040, session_start),
            Some(16_000)
        );
        assert_eq!(ledger(None, None, None).form_fill_ms(T, session_start), None);
    }

    #[test]
    fn risk_flags_explain_what_looked_wrong() {
        let plan = |amount: u64, currency: &str| json!({ "plan_id": "pay_in_4", "amount_minor": amount, "currency": currency });
        let cases: Vec<(Vec<Event>, RequestFacts, bool, Vec<&str>)> = vec![
            (
                vec![event(1, EventName::PlanSelected, NOW - 1000, 0, plan(12_999, "USD"))],
                request("n", None),
                false,
                vec![],
            ),
            (
                vec![event(1, EventName::PlanSelected, NOW - 1000, 0, plan(15_000, "USD"))],
                request("n", None),
                false,
                vec!["amount_changed"],
            ),
            (
                vec![event(1, EventName::PlanSelected, NOW - 1000, 0, plan(12_999, "EUR"))],
                request("n", None),
                false,
                vec!["amount_changed"],
            ),
            (
                vec![
                    event(1, EventName::WidgetLoaded, NOW - 1000, 0, json!({})),
                    event(
                        2,
                        EventName::PlanSelected,
                        NOW - 900,
                        1,
                        json!({ "plan_id": "pay_in_4" }),
                    ),
                ],
                request("n", None),
                false,
                vec!["impossible_timing"],
            ),
            (
                vec![
                    event(
                        1,
                        EventName::ApprovalStarted,
                        NOW - 10_000,
                        0,
                        json!({ "plan_id": "pay_in_4" }),
                    ),
                    event(
                        2,
                        EventName::ApprovalSubmitted,
                        NOW - 9_000,
                        1,
                        json!({ "plan_id": "pay_in_4" }),
                    ),
                ],
                request("n", None),
                false,
                vec!["impossible_timing"],
            ),
            (
                vec![event(
                    1,
                    EventName::WidgetViewed,
                    session().issued_at_s * 1000 - CLOCK_SKEW_MS - 1,
                    0,
                    json!({}),
                )],
                request("n", None),
                false,
                vec!["impossible_timing"],
            ),
            (
                vec![event(1, EventName::WidgetViewed, NOW, 0, json!({}))],
                RequestFacts {
                    ua_class: UaClass::Automation,
                    ip_velocity: true,
                    ..request("n", None)
                },
                true,
                vec!["automated_agent", "velocity_ip", "velocity_session"],
            ),
        ];
        for (events, facts, session_velocity, expected) in cases {
            let verdicts = SessionLedger::default().judge(&events, &|_| false, &session(), &facts, session_velocity);
            let flags: Vec<&str> = accepted(&verdicts).into_iter().flat_map(|(_, f)| f).collect::<Vec<_>>();
            let mut unique = flags.clone();
            unique.dedup();
            let expected_sorted = {
                let mut e = expected.clone();
                e.sort_by_key(|f| RiskFlag::ALL.iter().position(|r| r.as_str() == *f));
                e
            };
            assert_eq!(unique, expected_sorted, "{events:?}");
        }
    }

    #[test]
    fn a_token_used_from_another_network_or_country_is_flagged() {
        let mut ledger = SessionLedger::default();
        let viewed = |id| [event(id, EventName::WidgetViewed, NOW, u32::from(id), json!({}))];
        let home = request("203.0.113.0/24", Some("SE"));
        assert_eq!(
            accepted(&ledger.judge(&viewed(1), &|_| false, &session(), &home, false))[0].1,
            Vec::<&str>::new()
        );
        let same_country_other_net = request("198.51.100.0/24", Some("SE"));
        assert_eq!(
            accepted(&ledger.judge(&viewed(2), &|_| false, &session(), &same_country_other_net, false))[0].1,
            vec!["token_reused"]
        );
        let abroad = request("192.0.2.0/24", Some("BR"));
        assert_eq!(
            accepted(&ledger.judge(&viewed(3), &|_| false, &session(), &abroad, false))[0].1,
            vec!["token_reused", "token_foreign"]
        );
        assert_eq!(ledger.first_network.as_deref(), Some("203.0.113.0/24"));
    }

    #[test]
    fn the_queue_message_round_trips_as_json_text() {
        let mut props = Map::new();
        props.insert("plan_id".into(), json!("pay_in_4 \u{2028} \"ü\" 🙂"));
        let message = QueuedEvent {
            event: Event {
                id: "0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e10".into(),
                name: EventName::PlanSelected,
                ts: NOW,
                seq: 7,
                props,
            },
            session: session(),
            request: request("203.0.113.0/24", Some("SE")),
            seq_gap: 2,
            risk_flags: vec![RiskFlag::AmountChanged],
        };
        let text = serde_json::to_string(&message).unwrap();
        assert_eq!(serde_json::from_str::<QueuedEvent>(&text).unwrap(), message);
        assert!(text.contains(r#""risk_flags":["amount_changed"]"#), "{text}");
    }
}
