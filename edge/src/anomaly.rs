//! Anomaly detection (CONTRACT §5 `GET /v1/insights/anomalies`): what each record or refused
//! request adds to its merchant's window (five minutes by default), and the baseline each closed
//! window is judged against. Pure; the `AnomalyWatch` Durable Object (`anomaly_watch`, one per
//! merchant and mode) keeps a [`Watch`] and sends what it finds as `anomaly_detected` records.
//!
//! The baseline is an exponentially weighted mean and variance per metric. A window is anomalous
//! when its value lies `score` standard deviations or more above the mean, after a warm-up, with
//! enough volume to mean something. For rates the score is exact: the binomial probability of at
//! least the window's hits at the baseline's rate, as the z-score that leaves that probability in
//! a normal tail (rare outcomes, like reviews at 4%, have heavier tails than a normal
//! approximation gives them), or the baseline's own spread, if wider. For counts the deviation
//! is Poisson's (at least one). The value that updates the baseline is clipped at the threshold,
//! so an attack that lasts does not become the new normal within a few windows.

use std::collections::{BTreeMap, VecDeque};

use paylater_shared::approval::Outcome;
use paylater_shared::telemetry::EventName;
use serde::{Deserialize, Serialize};

use crate::error::EdgeError;
use crate::ingest::RiskFlag;
use crate::orders::rfc3339_millis;
use crate::query::{day_range, named_values};
use crate::records::QueuedRecord;
use paylater_shared::CivilDate;
use paylater_shared::insights::{AnomalyEntry, AnomalyList};

/// The window when `ANOMALY_WINDOW_SECONDS` is not set.
pub const DEFAULT_WINDOW_MS: i64 = 5 * 60_000;
/// How long after its end a window waits for late records (`ANOMALY_GRACE_SECONDS`).
pub const DEFAULT_GRACE_MS: i64 = 60_000;
/// The weight of the newest window in the baseline: about the last ten windows count most.
const ALPHA: f64 = 0.1;
/// A rate must also move this much (absolute) to count: at high volume a binomial deviation
/// is tiny, and a shift of a point or two is not worth waking anyone for.
const MIN_RATE_CHANGE: f64 = 0.05;
/// Empty windows a long quiet spell replays into the baseline at most (a week of 5 minutes).
const MAX_CATCH_UP_WINDOWS: i64 = 2016;
/// Anomalies kept for `GET /v1/insights/anomalies`: 90 days, at most this many of each metric
/// (so one metric a stranger can provoke, refused tokens, cannot push the others out).
const KEPT_PER_METRIC: usize = 300;
const KEPT_MS: i64 = 90 * 86_400_000;

/// What is watched, per merchant and mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Declined decisions of all decisions.
    DeclineRate,
    /// Decisions sent to review of all decisions.
    ReviewRate,
    /// `widget_error` events of widget loads (`widget_loaded` + `widget_error`).
    WidgetErrorRate,
    /// Session tokens refused: forged, expired, or for another merchant or origin.
    RefusedTokens,
    /// Requests answered 429.
    RateLimited,
    /// Events flagged `velocity_session` or `velocity_ip`.
    VelocityFlags,
    /// Events flagged `token_reused`.
    TokenReused,
    /// Events flagged `automated_agent`.
    AutomatedAgent,
    /// The most approval attempts one customer (keyed e-mail hash) made in the window.
    AttemptsPerCustomer,
}

/// How a metric's window value is read and judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// hits / trials, judged only with at least `min_rate_volume` trials.
    Rate,
    /// A number per window, judged only when at least `min_count`.
    Count,
}

impl Metric {
    pub const ALL: [Metric; 9] = [
        Self::DeclineRate,
        Self::ReviewRate,
        Self::WidgetErrorRate,
        Self::RefusedTokens,
        Self::RateLimited,
        Self::VelocityFlags,
        Self::TokenReused,
        Self::AutomatedAgent,
        Self::AttemptsPerCustomer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DeclineRate => "decline_rate",
            Self::ReviewRate => "review_rate",
            Self::WidgetErrorRate => "widget_error_rate",
            Self::RefusedTokens => "refused_tokens",
            Self::RateLimited => "rate_limited",
            Self::VelocityFlags => "velocity_flags",
            Self::TokenReused => "token_reused",
            Self::AutomatedAgent => "automated_agent",
            Self::AttemptsPerCustomer => "attempts_per_customer",
        }
    }

    pub fn kind(self) -> Kind {
        match self {
            Self::DeclineRate | Self::ReviewRate | Self::WidgetErrorRate => Kind::Rate,
            _ => Kind::Count,
        }
    }
}

/// A merchant's thresholds (`anomalies` in its config); every field optional.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Standard deviations above the baseline that make a window anomalous.
    pub score: f64,
    /// Trials (decisions, widget loads) a window needs before its rate is judged.
    pub min_rate_volume: u32,
    /// The least count (refused tokens, flags, attempts) that can be anomalous.
    pub min_count: u32,
    /// Closed windows the baseline learns from before anything is judged.
    pub warmup_windows: u32,
}

// `problem` refuses a score that is not finite, so a stored config never holds NaN.
impl Eq for Thresholds {}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            score: 4.0,
            min_rate_volume: 20,
            min_count: 10,
            warmup_windows: 12,
        }
    }
}

impl Thresholds {
    /// Why a merchant's thresholds are unusable, if they are.
    pub fn problem(&self) -> Option<&'static str> {
        if !(self.score.is_finite() && (1.0..=100.0).contains(&self.score)) {
            return Some("anomalies.score must be between 1 and 100");
        }
        if self.min_rate_volume == 0 || self.min_count == 0 {
            return Some("anomalies.min_rate_volume and min_count must be at least 1");
        }
        if self.warmup_windows > 10_000 {
            return Some("anomalies.warmup_windows must be at most 10000");
        }
        None
    }
}

/// One thing that happened, for one metric: a trial (a decision, a widget load) that was or was
/// not a hit, or one more of a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signal {
    pub metric: Metric,
    pub hit: bool,
}

/// What one record or refused request adds to its merchant's window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// What is counted once per window: a record's id, or a session's widget load; `None` for
    /// refused requests, which have none.
    pub record_id: Option<String>,
    /// Edge clock, epoch ms: picks the window.
    pub at_ms: i64,
    pub signals: Vec<Signal>,
    /// The keyed e-mail hash of an approval attempt ([`Metric::AttemptsPerCustomer`]).
    pub customer: Option<String>,
    /// How many times the signals happened (refusals are reported in sums).
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

/// The first `count` refusals of a kind since `at_ms`, for a request path that reports sums.
pub fn refusals(metric: Metric, count: u32, at_ms: i64) -> Observation {
    Observation {
        record_id: None,
        at_ms,
        signals: vec![Signal { metric, hit: true }],
        customer: None,
        times: count,
    }
}

/// Refusals (refused tokens, 429s) an isolate has counted and not yet reported, per claimed
/// publishable key and metric: a flood of refused requests costs a merchant's watch one report
/// a second from each isolate, not one per request. At most [`RefusalTally::MAX_KEYS`] keys
/// wait at once; refusals for more are not counted (the access log still has them).
#[derive(Debug, Default)]
pub struct RefusalTally {
    pending: BTreeMap<(String, Metric), (u32, i64)>,
}

impl RefusalTally {
    pub const MAX_KEYS: usize = 64;

    /// Counts a refusal for `key`; true when it is the first waiting for that key, and so the
    /// caller schedules the report that [`RefusalTally::take`]s them.
    pub fn count(&mut self, key: &str, metric: Metric, at_ms: i64) -> bool {
        let waiting_keys: std::collections::BTreeSet<&str> = self.pending.keys().map(|(k, _)| k.as_str()).collect();
        let first_for_key = !waiting_keys.contains(key);
        if first_for_key && waiting_keys.len() >= Self::MAX_KEYS {
            return false;
        }
        let entry = self.pending.entry((key.to_owned(), metric)).or_insert((0, at_ms));
        entry.0 = entry.0.saturating_add(1);
        first_for_key
    }

    /// Everything waiting for `key`, as observations, and forgets it.
    pub fn take(&mut self, key: &str) -> Vec<Observation> {
        let taken: Vec<(Metric, u32, i64)> = self
            .pending
            .iter()
            .filter(|((k, _), _)| k == key)
            .map(|((_, metric), (count, at))| (*metric, *count, *at))
            .collect();
        self.pending.retain(|(k, _), _| k != key);
        taken
            .into_iter()
            .map(|(metric, count, at)| refusals(metric, count, at))
            .collect()
    }
}

/// What a queued record adds to anomaly detection: nothing, or observations each counted once
/// per window by its id.
pub fn observe_record(record: &QueuedRecord) -> Vec<Observation> {
    let Some(record_id) = record.record_id() else {
        return Vec::new();
    };
    match record {
        QueuedRecord::Decision(decision) => vec![Observation {
            record_id: Some(record_id),
            at_ms: decision.request.observed_ms,
            signals: vec![
                Signal {
                    metric: Metric::DeclineRate,
                    hit: decision.outcome == Outcome::Declined,
                },
                Signal {
                    metric: Metric::ReviewRate,
                    hit: decision.outcome == Outcome::Review,
                },
            ],
            customer: Some(decision.customer_id_hash.clone()),
            times: 1,
        }],
        QueuedRecord::Event(event) => {
            let mut found = Vec::new();
            // A session's widget loads and errors count once a window each, so a page (or a
            // script with the publishable key) repeating them cannot move the rate.
            let widget = match event.event.name {
                EventName::WidgetLoaded => Some(false),
                EventName::WidgetError => Some(true),
                _ => None,
            };
            if let Some(hit) = widget {
                found.push(Observation {
                    record_id: Some(format!(
                        "widget:{}:{}:{}",
                        event.event.name.as_str(),
                        event.session.merchant_id,
                        event.session.session_id
                    )),
                    at_ms: event.request.observed_ms,
                    signals: vec![Signal {
                        metric: Metric::WidgetErrorRate,
                        hit,
                    }],
                    customer: None,
                    times: 1,
                });
            }
            let mut signals = Vec::new();
            let flagged = |wanted: &[RiskFlag]| event.risk_flags.iter().any(|flag| wanted.contains(flag));
            for (metric, flags) in [
                (
                    Metric::VelocityFlags,
                    &[RiskFlag::VelocitySession, RiskFlag::VelocityIp][..],
                ),
                (Metric::TokenReused, &[RiskFlag::TokenReused][..]),
                (Metric::AutomatedAgent, &[RiskFlag::AutomatedAgent][..]),
            ] {
                if flagged(flags) {
                    signals.push(Signal { metric, hit: true });
                }
            }
            if !signals.is_empty() {
                found.push(Observation {
                    record_id: Some(record_id),
                    at_ms: event.request.observed_ms,
                    signals,
                    customer: None,
                    times: 1,
                });
            }
            found
        }
        QueuedRecord::Change(_) | QueuedRecord::KeyUse(_) | QueuedRecord::Anomaly(_) => Vec::new(),
    }
}

/// The start of the window `at_ms` falls in.
pub fn window_start(at_ms: i64, window_ms: i64) -> i64 {
    at_ms - at_ms.rem_euclid(window_ms)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub hits: u64,
    pub trials: u64,
}

/// One open window's counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowTally {
    pub metrics: BTreeMap<Metric, Tally>,
    /// The most attempts one customer made in this window so far.
    pub max_customer_attempts: u64,
}

impl WindowTally {
    /// The window's value of `metric` and its volume, if there is enough to judge.
    fn value(&self, metric: Metric, thresholds: &Thresholds) -> Option<(f64, u64)> {
        let tally = self.metrics.get(&metric).copied().unwrap_or_default();
        match metric.kind() {
            Kind::Rate if tally.trials >= u64::from(thresholds.min_rate_volume) => {
                Some((tally.hits as f64 / tally.trials as f64, tally.trials))
            }
            Kind::Rate => None,
            Kind::Count if metric == Metric::AttemptsPerCustomer => {
                Some((self.max_customer_attempts as f64, self.max_customer_attempts))
            }
            Kind::Count => Some((tally.hits as f64, tally.hits)),
        }
    }
}

/// The z-score that leaves the upper-tail probability `e^ln_tail` above it in a standard normal
/// distribution (Acklam's rational approximation of the normal quantile, relative error below
/// 1.2e-9), computed from the logarithm so that tails too small for an `f64` still have one.
pub fn z_of_upper_tail(ln_tail: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const LOW: f64 = 0.02425;
    let tail_tip = |ln_p: f64| {
        // The quantile of a small lower-tail probability p, from ln p.
        let q = (-2.0 * ln_p).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if ln_tail.is_nan() {
        return 0.0;
    }
    let ln_tail = ln_tail.min(0.0);
    let tail = ln_tail.exp();
    // The normal's upper tail at z is its lower tail at -z.
    if tail < LOW {
        -tail_tip(ln_tail)
    } else if tail <= 1.0 - LOW {
        let q = tail - 0.5;
        let r = q * q;
        -((((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q)
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        tail_tip((-tail).ln_1p())
    }
}

/// ln P(X ≥ hits) for X ~ Binomial(trials, p), 0 < p < 1, summed in log space so that no
/// volume underflows; terms past where they stop mattering are not summed.
pub fn binomial_upper_tail_ln(hits: u64, trials: u64, p: f64) -> f64 {
    if hits == 0 {
        return 0.0;
    }
    if hits > trials {
        return f64::NEG_INFINITY;
    }
    let (ln_p, ln_q) = (p.ln(), (-p).ln_1p());
    // ln C(trials, hits) + hits ln p + (trials - hits) ln(1 - p)
    let ln_choose: f64 = (1..=hits).map(|i| (((trials - hits + i) as f64) / i as f64).ln()).sum();
    let mut term = ln_choose + hits as f64 * ln_p + (trials - hits) as f64 * ln_q;
    let (mut largest, mut sum) = (term, 1.0);
    for k in hits..trials {
        term += (((trials - k) as f64) / ((k + 1) as f64)).ln() + ln_p - ln_q;
        if term > largest {
            sum = sum * (largest - term).exp() + 1.0;
            largest = term;
        } else {
            sum += (term - largest).exp();
            if term < largest - 40.0 {
                break;
            }
        }
    }
    largest + sum.ln()
}

/// A metric's exponentially weighted mean and variance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub mean: f64,
    pub variance: f64,
    /// Windows it has learned from.
    pub windows: u32,
}

impl Baseline {
    /// The standard deviation a window of `volume` is judged with.
    fn deviation(&self, kind: Kind, volume: u64) -> f64 {
        match kind {
            Kind::Rate => {
                let p = self.mean.clamp(0.01, 0.99);
                (p * (1.0 - p) / volume.max(1) as f64).max(self.variance).sqrt()
            }
            Kind::Count => self.variance.max(self.mean).max(1.0).sqrt(),
        }
    }

    fn learn(&mut self, value: f64) {
        if self.windows == 0 {
            self.mean = value;
        } else {
            let difference = value - self.mean;
            self.mean += ALPHA * difference;
            self.variance = (1.0 - ALPHA) * (self.variance + ALPHA * difference * difference);
        }
        self.windows = self.windows.saturating_add(1);
    }
}

/// A window judged anomalous (`anomaly_detected`, `GET /v1/insights/anomalies`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    pub metric: Metric,
    pub window_start_ms: i64,
    pub window_end_ms: i64,
    /// The baseline's mean before this window.
    pub expected: f64,
    pub observed: f64,
    /// Standard deviations above `expected`.
    pub score: f64,
    /// Trials for a rate, the count itself for a count.
    pub volume: u64,
}

impl Anomaly {
    /// Unique per merchant and mode: one anomaly per metric and window.
    pub fn id(&self) -> String {
        format!("{}:{}", self.metric.as_str(), self.window_start_ms)
    }
}

/// One merchant's (and mode's) windows, baselines and findings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Watch {
    pub window_ms: i64,
    /// The start of the newest closed window.
    pub closed_through: Option<i64>,
    pub open: BTreeMap<i64, WindowTally>,
    pub baselines: BTreeMap<Metric, Baseline>,
    /// Closed windows so far (the warm-up counts these).
    pub windows: u32,
    /// Newest last.
    pub anomalies: VecDeque<Anomaly>,
    /// Ids of anomalies not yet handed to the queue.
    pub unsent: Vec<String>,
}

impl Watch {
    pub fn new(window_ms: i64) -> Self {
        Self {
            window_ms,
            ..Self::default()
        }
    }

    /// The window an observation at `at_ms` counts in, unless that window is closed already
    /// (a record later than the grace period is kept in the archive, not counted here).
    pub fn open_window(&self, at_ms: i64) -> Option<i64> {
        let start = window_start(at_ms, self.window_ms);
        match self.closed_through {
            Some(closed) if start <= closed => None,
            _ => Some(start),
        }
    }

    /// Counts one observation's signals (`times` over) in its window; `customer_attempts` is
    /// the customer's attempts in that window so far, this one included. The caller checked the
    /// record id was not counted before.
    pub fn add(&mut self, window: i64, signals: &[Signal], customer_attempts: Option<u64>, times: u32) {
        let tally = self.open.entry(window).or_default();
        let times = u64::from(times);
        for signal in signals {
            let counts = tally.metrics.entry(signal.metric).or_default();
            counts.trials = counts.trials.saturating_add(times);
            counts.hits = counts.hits.saturating_add(if signal.hit { times } else { 0 });
        }
        if let Some(attempts) = customer_attempts {
            tally.max_customer_attempts = tally.max_customer_attempts.max(attempts);
        }
    }

    /// When the oldest open window is due to close.
    pub fn next_close_ms(&self, grace_ms: i64) -> Option<i64> {
        let first = *self.open.keys().next()?;
        Some(first + self.window_ms + grace_ms)
    }

    /// Closes every window that ended `grace_ms` or more before `now_ms`, oldest first, judging
    /// each against the baselines and then teaching them; returns the starts of the windows
    /// closed and the anomalies found (also kept, and listed as unsent).
    pub fn close_due(&mut self, now_ms: i64, grace_ms: i64, thresholds: &Thresholds) -> (Vec<i64>, Vec<Anomaly>) {
        let last_due = window_start(now_ms - grace_ms, self.window_ms) - self.window_ms;
        let mut next = match (self.closed_through, self.open.keys().next()) {
            (Some(closed), _) => closed + self.window_ms,
            (None, Some(first)) => *first,
            (None, None) => return (Vec::new(), Vec::new()),
        };
        let mut closed = Vec::new();
        let mut found = Vec::new();
        let mut empty_run = 0;
        while next <= last_due {
            let tally = self.open.remove(&next);
            if tally.is_none() {
                empty_run += 1;
                // A long quiet spell: its first windows teach the baselines what quiet is, the
                // rest change nothing more, so skip to the next window with counts.
                if empty_run > MAX_CATCH_UP_WINDOWS {
                    let resume = self.open.keys().next().copied().unwrap_or(last_due + self.window_ms);
                    next = resume.min(last_due + self.window_ms);
                    self.closed_through = Some(next - self.window_ms);
                    continue;
                }
            } else {
                empty_run = 0;
            }
            let tally = tally.unwrap_or_default();
            found.extend(self.judge(next, &tally, thresholds));
            self.windows = self.windows.saturating_add(1);
            self.closed_through = Some(next);
            closed.push(next);
            next += self.window_ms;
        }
        for anomaly in &found {
            self.unsent.push(anomaly.id());
            self.anomalies.push_back(anomaly.clone());
            // The oldest of its metric goes once the metric has more than its share.
            if self.anomalies.iter().filter(|a| a.metric == anomaly.metric).count() > KEPT_PER_METRIC
                && let Some(oldest) = self.anomalies.iter().position(|a| a.metric == anomaly.metric)
            {
                self.anomalies.remove(oldest);
            }
        }
        let keep_from = now_ms - KEPT_MS;
        self.anomalies.retain(|a| a.window_start_ms >= keep_from);
        // An anomaly forgotten before it was sent is not sent.
        let kept: std::collections::BTreeSet<String> = self.anomalies.iter().map(Anomaly::id).collect();
        self.unsent.retain(|id| kept.contains(id));
        (closed, found)
    }

    fn judge(&mut self, start: i64, tally: &WindowTally, thresholds: &Thresholds) -> Vec<Anomaly> {
        let mut found = Vec::new();
        for metric in Metric::ALL {
            let Some((observed, volume)) = tally.value(metric, thresholds) else {
                continue;
            };
            let baseline = self.baselines.entry(metric).or_default();
            let kind = metric.kind();
            let deviation = baseline.deviation(kind, volume);
            let expected = baseline.mean;
            let score = match kind {
                Kind::Rate => {
                    let p = expected.clamp(0.001, 0.999);
                    let hits = (observed * volume as f64).round() as u64;
                    let exact = z_of_upper_tail(binomial_upper_tail_ln(hits, volume, p));
                    // A rate that moves more than chance alone would is judged by its own spread.
                    if baseline.variance > p * (1.0 - p) / volume.max(1) as f64 {
                        exact.min((observed - expected) / baseline.variance.sqrt())
                    } else {
                        exact
                    }
                }
                Kind::Count => (observed - expected) / deviation,
            };
            let big_enough = match kind {
                Kind::Rate => observed - expected >= MIN_RATE_CHANGE,
                Kind::Count => volume >= u64::from(thresholds.min_count),
            };
            // Each metric warms up on its own windows: a rate learns only from windows with
            // enough volume.
            let warm = baseline.windows >= thresholds.warmup_windows.max(1);
            if warm && big_enough && score >= thresholds.score {
                found.push(Anomaly {
                    metric,
                    window_start_ms: start,
                    window_end_ms: start + self.window_ms,
                    expected,
                    observed,
                    score,
                    volume,
                });
            }
            // Clipped: a lasting attack stays anomalous instead of becoming the baseline.
            let ceiling = expected + thresholds.score * deviation;
            let learned = if baseline.windows == 0 {
                observed
            } else {
                observed.min(ceiling)
            };
            baseline.learn(learned);
        }
        found
    }

    /// The anomalies not yet handed to the queue, oldest first.
    pub fn unsent(&self) -> Vec<Anomaly> {
        self.anomalies
            .iter()
            .filter(|a| self.unsent.contains(&a.id()))
            .cloned()
            .collect()
    }

    pub fn mark_sent(&mut self, ids: &[String]) {
        self.unsent.retain(|id| !ids.contains(id));
    }

    /// Anomalies whose window starts within `[from_ms, to_ms)`, oldest first.
    pub fn between(&self, from_ms: i64, to_ms: i64) -> Vec<Anomaly> {
        self.anomalies
            .iter()
            .filter(|a| a.window_start_ms >= from_ms && a.window_start_ms < to_ms)
            .cloned()
            .collect()
    }
}

/// `GET /v1/insights/anomalies?from=&to=`: UTC days, inclusive, at most 90.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnomalyQuery {
    pub from: CivilDate,
    pub to: CivilDate,
}

impl AnomalyQuery {
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, EdgeError> {
        let [from, to] = named_values(pairs, &["from", "to"])?;
        let (from, to) = day_range(
            from,
            to,
            crate::insights::MAX_DAYS,
            "anomalies are listed for at most 90 days; ask for longer periods in parts",
        )?;
        Ok(Self { from, to })
    }

    /// The range as epoch ms, `[start of from, end of to)`.
    pub fn millis(&self) -> (i64, i64) {
        let day = 86_400_000;
        (
            self.from.days_since_epoch() * day,
            (self.to.days_since_epoch() + 1) * day,
        )
    }

    /// The answer for the anomalies the watch listed.
    pub fn answer(&self, livemode: bool, found: &[Anomaly]) -> AnomalyList {
        AnomalyList {
            from: self.from.to_string(),
            to: self.to.to_string(),
            livemode,
            anomalies: found
                .iter()
                .map(|a| AnomalyEntry {
                    metric: a.metric.as_str().to_owned(),
                    window_start: rfc3339_millis(a.window_start_ms),
                    window_end: rfc3339_millis(a.window_end_ms),
                    expected: a.expected,
                    observed: a.observed,
                    score: a.score,
                    volume: a.volume,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: i64 = 300_000;

    fn strict() -> Thresholds {
        Thresholds {
            warmup_windows: 3,
            ..Thresholds::default()
        }
    }

    /// Adds `trials` decisions to `window`, `declined` of them declined.
    fn decisions(watch: &mut Watch, window: i64, trials: u64, declined: u64) {
        for i in 0..trials {
            let signals = [
                Signal {
                    metric: Metric::DeclineRate,
                    hit: i < declined,
                },
                Signal {
                    metric: Metric::ReviewRate,
                    hit: false,
                },
            ];
            watch.add(window, &signals, Some(1), 1);
        }
    }

    fn refused(watch: &mut Watch, window: i64, count: u32) {
        let refused = refusals(Metric::RefusedTokens, count, window);
        watch.add(window, &refused.signals, None, refused.times);
    }

    #[test]
    fn windows_close_after_their_grace_and_not_before() {
        let mut watch = Watch::new(W);
        decisions(&mut watch, 0, 5, 1);
        assert_eq!(watch.next_close_ms(60_000), Some(W + 60_000));
        assert_eq!(watch.close_due(W + 59_999, 60_000, &strict()).0, Vec::<i64>::new());
        assert_eq!(watch.close_due(W + 60_000, 60_000, &strict()).0, vec![0]);
        assert_eq!(watch.closed_through, Some(0));
        // A late record for the closed window is not counted; the next window is open.
        assert_eq!(watch.open_window(W - 1), None);
        assert_eq!(watch.open_window(W), Some(W));
    }

    #[test]
    fn a_steady_decline_rate_is_no_anomaly_and_a_spike_is_one_named_with_its_figures() {
        let mut watch = Watch::new(W);
        for window in 0..12 {
            decisions(&mut watch, window * W, 40, 8);
        }
        let (closed, found) = watch.close_due(12 * W + 60_000, 60_000, &strict());
        assert_eq!(closed.len(), 12);
        assert_eq!(found, []);
        decisions(&mut watch, 12 * W, 40, 30);
        let (_, found) = watch.close_due(13 * W + 60_000, 60_000, &strict());
        assert_eq!(found.len(), 1, "{found:?}");
        let anomaly = &found[0];
        assert_eq!(anomaly.metric, Metric::DeclineRate);
        assert_eq!((anomaly.window_start_ms, anomaly.window_end_ms), (12 * W, 13 * W));
        assert!((anomaly.expected - 0.2).abs() < 1e-9, "{anomaly:?}");
        assert_eq!(anomaly.observed, 0.75);
        assert_eq!(anomaly.volume, 40);
        // P(X >= 30) for X ~ B(40, 0.2), as a normal tail.
        let exact = z_of_upper_tail(binomial_upper_tail_ln(30, 40, 0.2));
        assert!((anomaly.score - exact).abs() < 1e-9 && exact > 6.0, "{anomaly:?}");
        assert_eq!(watch.unsent, vec![format!("decline_rate:{}", 12 * W)]);
        assert_eq!(watch.between(0, 13 * W), found);
    }

    #[test]
    fn nothing_is_judged_during_the_warm_up_or_below_the_volume() {
        let mut watch = Watch::new(W);
        decisions(&mut watch, 0, 40, 8);
        decisions(&mut watch, W, 40, 40);
        assert_eq!(watch.close_due(2 * W + 60_000, 60_000, &strict()).1, []);
        let mut watch = Watch::new(W);
        for window in 0..4 {
            decisions(&mut watch, window * W, 40, 8);
        }
        // 19 decisions, all declined: below the 20 a rate needs.
        decisions(&mut watch, 4 * W, 19, 19);
        assert_eq!(watch.close_due(5 * W + 60_000, 60_000, &strict()).1, []);
    }

    #[test]
    fn tail_probabilities_become_the_z_scores_of_a_normal() {
        // Φ(-z) for z = 0, 1, 2, 4, 8, and one too small for an f64.
        for (tail, z) in [
            (0.5f64, 0.0),
            (0.158_655_253_931_457_05, 1.0),
            (0.022_750_131_948_179_2, 2.0),
            (3.167_124_183_311_992e-5, 4.0),
            (6.220_960_574_271_785e-16, 8.0),
        ] {
            assert!(
                (z_of_upper_tail(tail.ln()) - z).abs() < 1e-6,
                "{tail} → {}",
                z_of_upper_tail(tail.ln())
            );
        }
        assert!((z_of_upper_tail(0.977_249_868_051_820_8f64.ln()) + 2.0).abs() < 1e-6);
        assert!(z_of_upper_tail(-2_000.0) > 60.0, "a tail far below f64's range");
        assert_eq!(z_of_upper_tail(f64::NAN), 0.0);
    }

    #[test]
    fn binomial_tails_are_exact_at_any_volume() {
        // P(X >= 8) for B(10, 1/2) = (45 + 10 + 1) / 1024.
        assert!((binomial_upper_tail_ln(8, 10, 0.5).exp() - 56.0 / 1024.0).abs() < 1e-12);
        assert_eq!(binomial_upper_tail_ln(0, 10, 0.3), 0.0);
        assert_eq!(binomial_upper_tail_ln(11, 10, 0.3), f64::NEG_INFINITY);
        // P(X >= 10) for B(10, 0.3) = 0.3^10.
        assert!((binomial_upper_tail_ln(10, 10, 0.3) - 10.0 * 0.3f64.ln()).abs() < 1e-9);
        // A million trials: no underflow, and more hits is always less likely.
        let a = binomial_upper_tail_ln(60_000, 1_000_000, 0.05);
        let b = binomial_upper_tail_ln(61_000, 1_000_000, 0.05);
        assert!(a.is_finite() && b < a && a < -500.0, "{a} {b}");
    }

    #[test]
    fn a_rare_outcome_is_judged_by_its_exact_tail_not_a_normal_one() {
        // Reviews at 3%: 6 of 40 is 4.4 normal deviations away, but happens about once in
        // 1000 windows, which is not an anomaly.
        let exact = z_of_upper_tail(binomial_upper_tail_ln(6, 40, 0.03));
        let normal = (6.0 / 40.0 - 0.03) / (0.03f64 * 0.97 / 40.0).sqrt();
        assert!(normal > 4.0 && exact < 3.5, "normal {normal}, exact {exact}");
    }

    #[test]
    fn a_rate_warms_up_on_windows_with_volume_not_on_the_watchs_age() {
        let mut watch = Watch::new(W);
        // Ten windows of 5 decisions: below the 20 a rate needs, so nothing is learned.
        for window in 0..10 {
            decisions(&mut watch, window * W, 5, 1);
        }
        decisions(&mut watch, 10 * W, 40, 30);
        assert_eq!(watch.close_due(11 * W + 60_000, 60_000, &strict()).1, []);
        assert_eq!(watch.baselines[&Metric::DeclineRate].windows, 1);
    }

    #[test]
    fn refusals_wait_as_sums_per_key_and_a_flood_of_keys_is_capped() {
        let mut tally = RefusalTally::default();
        assert!(
            tally.count("pk_test_a", Metric::RefusedTokens, 1_000),
            "the first schedules a report"
        );
        assert!(!tally.count("pk_test_a", Metric::RefusedTokens, 1_500));
        assert!(!tally.count("pk_test_a", Metric::RateLimited, 1_600));
        let taken = tally.take("pk_test_a");
        assert_eq!(
            taken,
            [
                refusals(Metric::RefusedTokens, 2, 1_000),
                refusals(Metric::RateLimited, 1, 1_600)
            ]
        );
        assert_eq!(tally.take("pk_test_a"), []);
        for n in 0..RefusalTally::MAX_KEYS {
            assert!(tally.count(&format!("pk_test_{n}"), Metric::RefusedTokens, 0));
        }
        assert!(!tally.count("pk_test_one_too_many", Metric::RefusedTokens, 0));
        assert_eq!(tally.take("pk_test_one_too_many"), []);
        let mut watch = Watch::new(W);
        let sum = refusals(Metric::RefusedTokens, 7, 0);
        watch.add(0, &sum.signals, None, sum.times);
        assert_eq!(
            watch.open[&0].metrics[&Metric::RefusedTokens],
            Tally { hits: 7, trials: 7 }
        );
    }

    #[test]
    fn forged_tokens_out_of_nowhere_are_an_anomaly_once_the_quiet_is_learned() {
        let mut watch = Watch::new(W);
        decisions(&mut watch, 0, 30, 6);
        // Three quiet windows (no refused tokens), then one with 2: below min_count.
        refused(&mut watch, 3 * W, 2);
        assert_eq!(watch.close_due(4 * W + 60_000, 60_000, &strict()).1, []);
        refused(&mut watch, 4 * W, 25);
        let (_, found) = watch.close_due(5 * W + 60_000, 60_000, &strict());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].metric, Metric::RefusedTokens);
        assert_eq!(found[0].observed, 25.0);
        assert!(found[0].score > 20.0);
    }

    #[test]
    fn a_lasting_attack_stays_anomalous_for_a_while() {
        let mut watch = Watch::new(W);
        for window in 0..12 {
            refused(&mut watch, window * W, 1);
        }
        watch.close_due(12 * W + 60_000, 60_000, &strict());
        let mut flagged = 0;
        for window in 12..18 {
            refused(&mut watch, window * W, 40);
            flagged += watch.close_due((window + 1) * W + 60_000, 60_000, &strict()).1.len();
        }
        assert_eq!(flagged, 6, "clipped learning keeps each attack window anomalous");
    }

    #[test]
    fn a_long_quiet_spell_is_skipped_not_replayed_window_by_window() {
        let mut watch = Watch::new(W);
        refused(&mut watch, 0, 3);
        let year = 365 * 86_400_000;
        refused(&mut watch, year, 3);
        let (closed, _) = watch.close_due(year + W + 60_000, 60_000, &strict());
        assert!(closed.len() <= 2 * MAX_CATCH_UP_WINDOWS as usize, "{}", closed.len());
        assert_eq!(closed.last(), Some(&year));
        assert_eq!(watch.open, BTreeMap::new());
    }

    #[test]
    fn attempts_per_customer_is_the_busiest_customer() {
        let mut watch = Watch::new(W);
        watch.add(0, &[], Some(1), 1);
        watch.add(0, &[], Some(3), 1);
        watch.add(0, &[], Some(2), 1);
        assert_eq!(watch.open[&0].max_customer_attempts, 3);
        let thresholds = Thresholds::default();
        assert_eq!(
            watch.open[&0].value(Metric::AttemptsPerCustomer, &thresholds),
            Some((3.0, 3))
        );
    }

    #[test]
    fn sent_anomalies_leave_the_unsent_list_and_old_ones_are_forgotten() {
        let mut watch = Watch::new(W);
        for window in 0..4 {
            refused(&mut watch, window * W, 1);
        }
        refused(&mut watch, 4 * W, 50);
        let (_, found) = watch.close_due(5 * W + 60_000, 60_000, &strict());
        assert_eq!(watch.unsent().len(), 1);
        watch.mark_sent(&[found[0].id()]);
        assert_eq!(watch.unsent(), []);
        watch.close_due(5 * W + KEPT_MS + 60_000, 60_000, &strict());
        assert_eq!(watch.anomalies.len(), 0);
    }

    #[test]
    fn thresholds_out_of_range_are_named() {
        let bad = |t: Thresholds| t.problem().is_some();
        assert!(!bad(Thresholds::default()));
        assert!(bad(Thresholds {
            score: f64::NAN,
            ..Thresholds::default()
        }));
        assert!(bad(Thresholds {
            score: 0.5,
            ..Thresholds::default()
        }));
        assert!(bad(Thresholds {
            min_count: 0,
            ..Thresholds::default()
        }));
        assert!(bad(Thresholds {
            warmup_windows: 20_000,
            ..Thresholds::default()
        }));
    }
}
