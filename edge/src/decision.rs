//! Instant approval: a deterministic scorecard that turns a purchase attempt into `approved`,
//! `declined` or `review`, with stable reason codes a shopper can read and a breakdown of the
//! score for the log.
//!
//! Pure: the edge keeps each customer's [`CustomerHistory`] in a Durable Object and the attempt
//! counts of sessions and IPs; this module only decides. The same inputs always give the same
//! decision, so any decision can be replayed and explained.
//!
//! The merchant's [`Scorecard`] is configuration, not code: weights and thresholds in the
//! merchant's JSON, validated when the configuration is loaded.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use paylater_shared::approval::Outcome;
use paylater_shared::catalog::MessageId;
use paylater_shared::currency::Currency;
use paylater_shared::date::CivilDate;
use paylater_shared::merchant::PlanRange;
use paylater_shared::money::{MAX_MINOR_UNITS, MinorUnits};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ingest::MIN_FORM_FILL_MS;

/// Nobody younger gets credit.
pub const MIN_AGE_YEARS: u32 = 18;
/// One day in milliseconds: the window of a customer's attempts.
pub const DAY_MS: i64 = 86_400_000;
/// Attempt times a customer's history keeps at most (newest first to survive). Also the
/// highest `velocity.customer_per_day` a scorecard may set: a higher limit could never fire.
pub const MAX_ATTEMPTS: usize = 200;
/// Settled approvals a customer's history keeps at most (open ones are always kept). The
/// credit limit grows with at most this many, so pruning never shrinks a limit.
pub const MAX_SETTLED_KEPT: usize = 50;
/// Settled approvals that earn the `settled_bonus` at most.
pub const MAX_SETTLED_BONUSES: u32 = 4;
/// A session younger than this when approval is asked for was not driven by a person.
pub const MIN_SESSION_AGE_MS: i64 = 3_000;
/// Exposure above this share of the limit (in percent) costs `near_limit` points.
pub const NEAR_LIMIT_PERCENT: u64 = 80;
/// Band A starts this many points above `approve_at`.
pub const BAND_A_MARGIN: i32 = 100;
/// 100 % in basis points.
pub const ONE_IN_BPS: u32 = 10_000;
/// The most `credit.growth_bps_per_settled` may be: +1000 % of the base per settled approval.
pub const MAX_GROWTH_BPS_PER_SETTLED: u32 = 100_000;
/// The most `credit.max_limit_bps` may be: 100 times the base.
pub const MAX_LIMIT_BPS: u32 = 1_000_000;
/// The most a session or IP velocity limit may be.
pub const MAX_VELOCITY_LIMIT: u32 = 1_000_000;
/// The longest domain name DNS allows.
const MAX_DOMAIN_LEN: usize = 253;

/// Well-known disposable (temporary inbox) e-mail domains, sorted. A merchant adds more in
/// [`Scorecard::disposable_domains`]; subdomains of a listed domain match too.
pub const BUILT_IN_DISPOSABLE_DOMAINS: &[&str] = &[
    "10minutemail.com",
    "10minutemail.net",
    "burnermail.io",
    "discard.email",
    "dispostable.com",
    "emailondeck.com",
    "fakeinbox.com",
    "getnada.com",
    "grr.la",
    "guerrillamail.com",
    "guerrillamail.net",
    "maildrop.cc",
    "mailinator.com",
    "mailnesia.com",
    "mintemail.com",
    "moakt.com",
    "mohmal.com",
    "sharklasers.com",
    "spamgourmet.com",
    "temp-mail.org",
    "tempail.com",
    "tempmail.com",
    "throwawaymail.com",
    "trashmail.com",
    "yopmail.com",
    "yopmail.fr",
];

/// A merchant's weights and thresholds (the `scorecard` of its configuration). Every field has
/// a default, so a merchant sets only what it changes; unknown fields are refused so a typo
/// cannot silently keep a default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scorecard {
    /// Where every score starts.
    pub base_score: i32,
    /// A score at or above this, with no hard rule broken, is approved.
    pub approve_at: i32,
    /// A score from this up to `approve_at` goes to review; below it is declined.
    pub review_at: i32,
    pub weights: Weights,
    pub credit: CreditPolicy,
    pub velocity: VelocityPolicy,
    /// Extra disposable e-mail domains on top of the built-in list (lowercase).
    pub disposable_domains: Vec<String>,
}

impl Default for Scorecard {
    fn default() -> Self {
        Self {
            base_score: 700,
            approve_at: 600,
            review_at: 450,
            weights: Weights::default(),
            credit: CreditPolicy::default(),
            velocity: VelocityPolicy::default(),
            disposable_domains: Vec::new(),
        }
    }
}

/// Points a soft signal costs when present (all zero or more), and the bonus a good record earns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Weights {
    /// The e-mail address is at a temporary inbox service.
    pub disposable_email: i32,
    /// A script, a bot or a headless browser, or a form filled faster than a person can.
    pub automated_session: i32,
    /// The page reported another amount than the session was created for.
    pub amount_changed: i32,
    /// No approval on record.
    pub new_customer: i32,
    /// Exposure after this purchase above 80 % of the credit limit.
    pub near_limit: i32,
    /// Attempts at half or more of any velocity limit.
    pub elevated_velocity: i32,
    /// Points ADDED per settled approval, for at most [`MAX_SETTLED_BONUSES`] of them.
    pub settled_bonus: i32,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            disposable_email: 300,
            automated_session: 300,
            amount_changed: 200,
            new_customer: 50,
            near_limit: 100,
            elevated_velocity: 100,
            settled_bonus: 25,
        }
    }
}

impl Weights {
    /// Every weight with its field path, for validation.
    fn with_paths(&self) -> [(&'static str, i32); 7] {
        [
            ("scorecard.weights.disposable_email", self.disposable_email),
            ("scorecard.weights.automated_session", self.automated_session),
            ("scorecard.weights.amount_changed", self.amount_changed),
            ("scorecard.weights.new_customer", self.new_customer),
            ("scorecard.weights.near_limit", self.near_limit),
            ("scorecard.weights.elevated_velocity", self.elevated_velocity),
            ("scorecard.weights.settled_bonus", self.settled_bonus),
        ]
    }
}

/// How much a customer may owe at once, per currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CreditPolicy {
    /// Base credit limit per currency; a currency not listed uses the plan range's max as its base.
    pub base_limit: BTreeMap<Currency, MinorUnits>,
    /// Limit growth per settled approval, in basis points of the base (default 2500 = +25%).
    pub growth_bps_per_settled: u32,
    /// Cap of the limit, in basis points of the base (default 30000 = 3x).
    pub max_limit_bps: u32,
}

impl Default for CreditPolicy {
    fn default() -> Self {
        Self {
            base_limit: BTreeMap::new(),
            growth_bps_per_settled: 2_500,
            max_limit_bps: 30_000,
        }
    }
}

/// Attempts BEFORE this one; at or above a limit the attempt is declined (`too_many_attempts`),
/// at half of it or more it costs `elevated_velocity` points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VelocityPolicy {
    /// Attempts of this customer in the last 24 h.
    pub customer_per_day: u32,
    /// Attempts in this checkout session.
    pub session: u32,
    /// Attempts from this client IP in the last hour.
    pub ip_per_hour: u32,
}

impl Default for VelocityPolicy {
    fn default() -> Self {
        Self {
            customer_per_day: 5,
            session: 3,
            ip_per_hour: 20,
        }
    }
}

/// Why a scorecard is unusable; [`ScorecardError::field`] names the offending field.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScorecardError {
    #[error("scorecard.review_at ({review_at}) must be below scorecard.approve_at ({approve_at})")]
    ReviewNotBelowApprove { review_at: i32, approve_at: i32 },
    #[error("{field} must be zero or more, not {weight}")]
    NegativeWeight { field: &'static str, weight: i32 },
    #[error("scorecard.credit.growth_bps_per_settled must be at most {MAX_GROWTH_BPS_PER_SETTLED}, not {0}")]
    GrowthOutOfBounds(u32),
    #[error("scorecard.credit.max_limit_bps must be from {ONE_IN_BPS} (1x) to {MAX_LIMIT_BPS}, not {0}")]
    LimitCapOutOfBounds(u32),
    #[error("scorecard.credit.base_limit of {currency} must be from 1 to {MAX_MINOR_UNITS} minor units, not {limit}")]
    BaseLimitOutOfBounds { currency: Currency, limit: u64 },
    #[error("{field} must be from 1 to {max}, not {limit}")]
    VelocityLimitOutOfBounds { field: &'static str, limit: u32, max: u32 },
    #[error("scorecard.disposable_domains has {0:?}: a domain must be lowercase ASCII with a dot, like mail.example")]
    BadDisposableDomain(String),
}

impl ScorecardError {
    /// The path of the offending field in the merchant configuration.
    pub fn field(&self) -> &'static str {
        match self {
            Self::ReviewNotBelowApprove { .. } => "scorecard.review_at",
            Self::NegativeWeight { field, .. } | Self::VelocityLimitOutOfBounds { field, .. } => field,
            Self::GrowthOutOfBounds(_) => "scorecard.credit.growth_bps_per_settled",
            Self::LimitCapOutOfBounds(_) => "scorecard.credit.max_limit_bps",
            Self::BaseLimitOutOfBounds { .. } => "scorecard.credit.base_limit",
            Self::BadDisposableDomain(_) => "scorecard.disposable_domains",
        }
    }
}

impl Scorecard {
    /// Checks the scorecard is coherent; the first problem found is returned.
    pub fn validate(&self) -> Result<(), ScorecardError> {
        if self.review_at >= self.approve_at {
            return Err(ScorecardError::ReviewNotBelowApprove {
                review_at: self.review_at,
                approve_at: self.approve_at,
            });
        }
        if let Some((field, weight)) = self.weights.with_paths().into_iter().find(|(_, weight)| *weight < 0) {
            return Err(ScorecardError::NegativeWeight { field, weight });
        }
        let credit = &self.credit;
        if credit.growth_bps_per_settled > MAX_GROWTH_BPS_PER_SETTLED {
            return Err(ScorecardError::GrowthOutOfBounds(credit.growth_bps_per_settled));
        }
        if !(ONE_IN_BPS..=MAX_LIMIT_BPS).contains(&credit.max_limit_bps) {
            return Err(ScorecardError::LimitCapOutOfBounds(credit.max_limit_bps));
        }
        if let Some((currency, limit)) = credit
            .base_limit
            .iter()
            .find(|(_, limit)| !(1..=MAX_MINOR_UNITS).contains(&limit.get()))
        {
            return Err(ScorecardError::BaseLimitOutOfBounds {
                currency: *currency,
                limit: limit.get(),
            });
        }
        let velocity = [
            // The history keeps MAX_ATTEMPTS attempts, so a higher daily limit could never fire.
            (
                "scorecard.velocity.customer_per_day",
                self.velocity.customer_per_day,
                MAX_ATTEMPTS as u32,
            ),
            ("scorecard.velocity.session", self.velocity.session, MAX_VELOCITY_LIMIT),
            (
                "scorecard.velocity.ip_per_hour",
                self.velocity.ip_per_hour,
                MAX_VELOCITY_LIMIT,
            ),
        ];
        if let Some((field, limit, max)) = velocity.into_iter().find(|(_, limit, max)| !(1..=*max).contains(limit)) {
            return Err(ScorecardError::VelocityLimitOutOfBounds { field, limit, max });
        }
        if let Some(bad) = self.disposable_domains.iter().find(|d| !is_plain_domain(d)) {
            return Err(ScorecardError::BadDisposableDomain(bad.clone()));
        }
        Ok(())
    }
}

/// `mail.example`: lowercase ASCII letters, digits and hyphens in labels joined by dots, at
/// least two labels, none empty.
fn is_plain_domain(domain: &str) -> bool {
    domain.len() <= MAX_DOMAIN_LEN
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// Records an attempt at `now_ms` in `times`: forgets those `window_ms` old or older, keeps
/// at most `cap`, the newest, and returns how many earlier ones were still in the window.
/// Times may come out of order (clocks of different isolates); they are kept sorted so
/// "newest" is simply the tail.
pub fn record_in_window(times: &mut Vec<i64>, now_ms: i64, window_ms: i64, cap: usize) -> u32 {
    let since = now_ms.saturating_sub(window_ms);
    times.retain(|t| *t > since);
    let earlier = u32::try_from(times.len()).unwrap_or(u32::MAX);
    times.push(now_ms);
    times.sort_unstable();
    let excess = times.len().saturating_sub(cap);
    times.drain(..excess);
    earlier
}

/// The customer's record, kept by a Durable Object keyed by a keyed hash of the e-mail (serde,
/// so it can be stored as JSON). Fields missing from stored JSON default to empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomerHistory {
    pub approvals: Vec<PastApproval>,
    /// Epoch ms of past attempts (pruned to the last 24 h, at most [`MAX_ATTEMPTS`] kept).
    pub attempts_ms: Vec<i64>,
}

/// One approval the customer got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastApproval {
    pub approval_id: String,
    pub amount: MinorUnits,
    pub currency: Currency,
    pub approved_at_ms: i64,
    /// When the plan's last installment falls due: after that the approval counts as settled, not as open exposure.
    pub settles_at_ms: i64,
    /// Minor units no longer held: voided, refunded, expired, or never made an order. Only what
    /// is authorized or captured and not refunded counts as open exposure.
    #[serde(default)]
    pub released: u64,
}

impl PastApproval {
    fn is_settled(&self, now_ms: i64) -> bool {
        self.settles_at_ms <= now_ms
    }

    /// Nothing of it was ever lent, or all of it came back: it neither counts as exposure nor,
    /// once its plan ends, as a plan paid off.
    pub fn is_released(&self) -> bool {
        self.released >= self.amount.get()
    }

    /// What it still holds of the customer's limit.
    pub fn held(&self) -> u64 {
        self.amount.get().saturating_sub(self.released)
    }
}

impl CustomerHistory {
    /// What the customer owes in `currency` at `now_ms`: approvals not yet settled (saturating).
    pub fn open_exposure(&self, currency: Currency, now_ms: i64) -> u64 {
        self.approvals
            .iter()
            .filter(|a| a.currency == currency && !a.is_settled(now_ms))
            .fold(0u64, |sum, a| sum.saturating_add(a.held()))
    }

    /// Marks `approval_id` as holding at most `held` minor units; returns whether it is known.
    /// Holds only ever shrink, so a repeated or late message cannot raise one again.
    pub fn limit_hold(&mut self, approval_id: &str, held: u64) -> bool {
        match self.approvals.iter_mut().find(|a| a.approval_id == approval_id) {
            Some(approval) => {
                let released = approval.amount.get().saturating_sub(held);
                approval.released = approval.released.max(released);
                true
            }
            None => false,
        }
    }

    /// The approval with this id, if it is still kept.
    pub fn approval(&self, approval_id: &str) -> Option<&PastApproval> {
        self.approvals.iter().find(|a| a.approval_id == approval_id)
    }

    /// Whether anything still holds credit at `now_ms`.
    pub fn has_open_holds(&self, now_ms: i64) -> bool {
        self.approvals.iter().any(|a| !a.is_settled(now_ms) && a.held() > 0)
    }

    /// Approvals (in any currency) whose last installment fell due at or before `now_ms`.
    pub fn settled_count(&self, now_ms: i64) -> u32 {
        let settled = self
            .approvals
            .iter()
            .filter(|a| a.is_settled(now_ms) && !a.is_released())
            .count();
        u32::try_from(settled).unwrap_or(u32::MAX)
    }

    /// Attempts strictly after `since_ms`.
    pub fn attempts_since(&self, since_ms: i64) -> u32 {
        let attempts = self.attempts_ms.iter().filter(|t| **t > since_ms).count();
        u32::try_from(attempts).unwrap_or(u32::MAX)
    }

    /// Records an attempt at `now_ms`, forgets attempts 24 h old or older and keeps at most
    /// [`MAX_ATTEMPTS`], the newest.
    pub fn record_attempt(&mut self, now_ms: i64) {
        record_in_window(&mut self.attempts_ms, now_ms, DAY_MS, MAX_ATTEMPTS);
    }

    /// Records an approval (once per `approval_id`, so a retried write does not count twice).
    /// Keeps every open approval, and of the settled ones the [`MAX_SETTLED_KEPT`] that settled
    /// last.
    pub fn record_approval(&mut self, approval: PastApproval, now_ms: i64) {
        if self.approvals.iter().any(|a| a.approval_id == approval.approval_id) {
            return;
        }
        // Released approvals hold nothing and earn nothing: they need not be kept.
        self.approvals.retain(|a| !a.is_released());
        self.approvals.push(approval);
        if self.settled_count(now_ms) as usize <= MAX_SETTLED_KEPT {
            return;
        }
        let (mut settled, open): (Vec<_>, Vec<_>) = std::mem::take(&mut self.approvals)
            .into_iter()
            .partition(|a| a.is_settled(now_ms));
        settled.sort_by_key(|a| Reverse(a.settles_at_ms));
        settled.truncate(MAX_SETTLED_KEPT);
        self.approvals = settled.into_iter().chain(open).collect();
        // Back to the order they were approved in (stable, so ties keep their order).
        self.approvals.sort_by_key(|a| a.approved_at_ms);
    }
}

/// Everything the decision looks at. The caller has validated the inputs' formats already.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecisionRequest<'a> {
    /// Edge clock, epoch ms.
    pub now_ms: i64,
    /// The applicant's age is counted to this date.
    pub today: CivilDate,
    pub amount: MinorUnits,
    pub currency: Currency,
    /// The chosen plan's range for this currency (None: the plan does not offer this currency => amount_out_of_range).
    pub plan_range: Option<PlanRange>,
    pub date_of_birth: CivilDate,
    /// The e-mail address's domain, lowercase.
    pub email_domain: &'a str,
    /// The customer's history before this attempt is recorded.
    pub history: &'a CustomerHistory,
    /// Earlier attempts in this session.
    pub session_attempts: u32,
    /// Earlier attempts from this client IP in the last hour.
    pub ip_attempts_last_hour: u32,
    pub signals: SessionSignals,
}

/// What the edge observed about the checkout session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSignals {
    /// Since the session token was issued.
    pub session_age_ms: i64,
    /// From the form opening to its submission, when known.
    pub form_fill_ms: Option<i64>,
    /// The page reported another amount than the session's.
    pub amount_changed: bool,
    /// The user agent is a script, a bot or a headless browser.
    pub automated_agent: bool,
}

/// Stable reason codes (snake_case strings), each with a plain-language message in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    AmountOutOfRange,
    UnderAge,
    CreditLimit,
    TooManyAttempts,
    DisposableEmail,
    AutomatedSession,
    AmountChanged,
    NeedsReview,
    DecisionServiceUnavailable,
}

impl ReasonCode {
    pub const ALL: [ReasonCode; 9] = [
        Self::AmountOutOfRange,
        Self::UnderAge,
        Self::CreditLimit,
        Self::TooManyAttempts,
        Self::DisposableEmail,
        Self::AutomatedSession,
        Self::AmountChanged,
        Self::NeedsReview,
        Self::DecisionServiceUnavailable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AmountOutOfRange => "amount_out_of_range",
            Self::UnderAge => "under_age",
            Self::CreditLimit => "credit_limit",
            Self::TooManyAttempts => "too_many_attempts",
            Self::DisposableEmail => "disposable_email",
            Self::AutomatedSession => "automated_session",
            Self::AmountChanged => "amount_changed",
            Self::NeedsReview => "needs_review",
            Self::DecisionServiceUnavailable => "decision_service_unavailable",
        }
    }

    /// The code for its string; `None` for anything unknown (an upstream may send codes we lack).
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.as_str() == code)
    }

    /// The catalog message that explains this reason to the shopper.
    pub fn message(self) -> MessageId {
        match self {
            Self::AmountOutOfRange => MessageId::ReasonAmountOutOfRange,
            Self::UnderAge => MessageId::ReasonUnderAge,
            Self::CreditLimit => MessageId::ReasonCreditLimit,
            Self::TooManyAttempts => MessageId::ReasonTooManyAttempts,
            Self::DisposableEmail => MessageId::ReasonDisposableEmail,
            Self::AutomatedSession => MessageId::ReasonAutomatedSession,
            Self::AmountChanged => MessageId::ReasonAmountChanged,
            Self::NeedsReview => MessageId::ReasonNeedsReview,
            Self::DecisionServiceUnavailable => MessageId::ReasonDecisionServiceUnavailable,
        }
    }
}

/// Score bands for logs (no personal data): "A" (>= approve_at + 100), "B" (>= approve_at),
/// "C" (>= review_at), "D" (below).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScoreBand {
    A,
    B,
    C,
    D,
}

impl ScoreBand {
    /// The band of `score` under `card`'s thresholds.
    pub fn of(score: i32, card: &Scorecard) -> Self {
        if score >= card.approve_at.saturating_add(BAND_A_MARGIN) {
            Self::A
        } else if score >= card.approve_at {
            Self::B
        } else if score >= card.review_at {
            Self::C
        } else {
            Self::D
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::B => "B",
            Self::C => "C",
            Self::D => "D",
        }
    }
}

/// One line of the explanation: which signal moved the score and by how much. Signals are
/// `disposable_email`, `automated_session`, `amount_changed`, `new_customer`, `near_limit`,
/// `elevated_velocity` (negative points) and `settled_history` (positive), in that order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contribution {
    pub signal: String,
    pub points: i32,
}

/// The answer, with what it is based on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub outcome: Outcome,
    pub score: i32,
    pub band: ScoreBand,
    /// Why (empty when approved). Hard rules first, then the signals that cost the most points.
    pub reasons: Vec<ReasonCode>,
    /// Every signal that moved the score, in a fixed order (see [`Contribution`]).
    pub contributions: Vec<Contribution>,
    /// The customer's credit limit in the purchase's currency.
    pub credit_limit: u64,
    /// The customer's open exposure in that currency, before this purchase.
    pub open_exposure: u64,
}

/// The soft signals, in the fixed order of contributions and of reasons that tie on points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    DisposableEmail,
    AutomatedSession,
    AmountChanged,
    NewCustomer,
    NearLimit,
    ElevatedVelocity,
    SettledHistory,
}

impl Signal {
    fn as_str(self) -> &'static str {
        match self {
            Self::DisposableEmail => "disposable_email",
            Self::AutomatedSession => "automated_session",
            Self::AmountChanged => "amount_changed",
            Self::NewCustomer => "new_customer",
            Self::NearLimit => "near_limit",
            Self::ElevatedVelocity => "elevated_velocity",
            Self::SettledHistory => "settled_history",
        }
    }

    /// The reason code a shopper is shown for this signal; the others only lead to `needs_review`.
    fn reason(self) -> Option<ReasonCode> {
        match self {
            Self::DisposableEmail => Some(ReasonCode::DisposableEmail),
            Self::AutomatedSession => Some(ReasonCode::AutomatedSession),
            Self::AmountChanged => Some(ReasonCode::AmountChanged),
            Self::NewCustomer | Self::NearLimit | Self::ElevatedVelocity | Self::SettledHistory => None,
        }
    }
}

/// The customer's credit limit in `currency`: the base (the scorecard's `base_limit`, else the
/// plan range's max, else 0) grown by `growth_bps_per_settled` per settled approval (at most
/// [`MAX_SETTLED_KEPT`] of them count) and capped at `max_limit_bps` of the base.
pub fn credit_limit(
    card: &Scorecard,
    currency: Currency,
    plan_range: Option<PlanRange>,
    history: &CustomerHistory,
    now_ms: i64,
) -> u64 {
    let base = card
        .credit
        .base_limit
        .get(&currency)
        .or(plan_range.as_ref().map(|range| &range.max))
        .map_or(0, |limit| limit.get());
    // Capped at what the history keeps, so pruning old settled approvals never lowers a limit.
    let settled = history.settled_count(now_ms).min(MAX_SETTLED_KEPT as u32);
    let growth = u64::from(card.credit.growth_bps_per_settled).saturating_mul(u64::from(settled));
    let factor_bps = u64::from(ONE_IN_BPS)
        .saturating_add(growth)
        .min(u64::from(card.credit.max_limit_bps));
    let limit = u128::from(base) * u128::from(factor_bps) / u128::from(ONE_IN_BPS);
    u64::try_from(limit).unwrap_or(u64::MAX)
}

/// Whether `domain` (or a domain it is a subdomain of) is a temporary inbox service: the
/// built-in list plus the merchant's.
pub fn is_disposable_domain(card: &Scorecard, domain: &str) -> bool {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    BUILT_IN_DISPOSABLE_DOMAINS
        .iter()
        .copied()
        .chain(card.disposable_domains.iter().map(String::as_str))
        .filter(|listed| !listed.is_empty())
        .any(|listed| {
            domain == listed
                || domain
                    .strip_suffix(listed)
                    .is_some_and(|subdomain| subdomain.ends_with('.'))
        })
}

/// Full years from `date_of_birth` to `today` (negative if born after `today`). A 29 Feb
/// birthday turns a year older on 1 Mar in non-leap years.
pub fn age_in_years(date_of_birth: CivilDate, today: CivilDate) -> i32 {
    let years = today.year().saturating_sub(date_of_birth.year());
    let birthday_reached = (today.month(), today.day()) >= (date_of_birth.month(), date_of_birth.day());
    if birthday_reached {
        years
    } else {
        years.saturating_sub(1)
    }
}

/// Decides an approval attempt. Hard rules (under age, amount out of the plan's range, credit
/// limit, too many attempts) decline whatever the score; otherwise the score picks the outcome.
/// The score is computed either way, for the log.
pub fn decide(card: &Scorecard, request: &DecisionRequest) -> Decision {
    let now_ms = request.now_ms;
    let history = request.history;
    let limit = credit_limit(card, request.currency, request.plan_range, history, now_ms);
    let open_exposure = history.open_exposure(request.currency, now_ms);
    // u128: an exposure near u64::MAX plus any amount cannot overflow.
    let exposure_after = u128::from(open_exposure) + u128::from(request.amount.get());

    let velocity = [
        (
            history.attempts_since(now_ms.saturating_sub(DAY_MS)),
            card.velocity.customer_per_day,
        ),
        (request.session_attempts, card.velocity.session),
        (request.ip_attempts_last_hour, card.velocity.ip_per_hour),
    ];

    let mut hard_reasons = Vec::new();
    if i64::from(age_in_years(request.date_of_birth, request.today)) < i64::from(MIN_AGE_YEARS) {
        hard_reasons.push(ReasonCode::UnderAge);
    }
    if !request.plan_range.is_some_and(|range| range.contains(request.amount)) {
        hard_reasons.push(ReasonCode::AmountOutOfRange);
    } else if exposure_after > u128::from(limit) {
        // Only for amounts the plan covers: "over your limit" would mislead otherwise.
        hard_reasons.push(ReasonCode::CreditLimit);
    }
    if velocity.iter().any(|(attempts, limit)| attempts >= limit) {
        hard_reasons.push(ReasonCode::TooManyAttempts);
    }

    let signals = request.signals;
    let automated = signals.automated_agent
        || signals.form_fill_ms.is_some_and(|ms| ms < MIN_FORM_FILL_MS)
        || signals.session_age_ms < MIN_SESSION_AGE_MS;
    let near_limit = exposure_after.saturating_mul(100) > u128::from(limit) * u128::from(NEAR_LIMIT_PERCENT);
    let elevated_velocity = velocity
        .iter()
        .any(|(attempts, limit)| attempts < limit && u64::from(*attempts).saturating_mul(2) >= u64::from(*limit));
    let bonus_count = history.settled_count(now_ms).min(MAX_SETTLED_BONUSES);
    let bonus = i32::try_from(bonus_count)
        .unwrap_or(i32::MAX)
        .saturating_mul(card.weights.settled_bonus);

    let weights = &card.weights;
    let signal_points = [
        (
            Signal::DisposableEmail,
            is_disposable_domain(card, request.email_domain),
            weights.disposable_email,
        ),
        (Signal::AutomatedSession, automated, weights.automated_session),
        (Signal::AmountChanged, signals.amount_changed, weights.amount_changed),
        (Signal::NewCustomer, history.approvals.is_empty(), weights.new_customer),
        (Signal::NearLimit, near_limit, weights.near_limit),
        (Signal::ElevatedVelocity, elevated_velocity, weights.elevated_velocity),
    ]
    .into_iter()
    .filter(|(_, present, _)| *present)
    .map(|(signal, _, weight)| (signal, weight.saturating_neg()))
    .chain(std::iter::once((Signal::SettledHistory, bonus)))
    // A signal worth no points (a zero weight, no settled approval) explains nothing.
    .filter(|(_, points)| *points != 0);

    let mut contributions = Vec::new();
    let mut score = card.base_score;
    let mut costly_reasons = Vec::new();
    for (signal, points) in signal_points {
        score = score.saturating_add(points);
        contributions.push(Contribution {
            signal: signal.as_str().to_owned(),
            points,
        });
        if let Some(reason) = signal.reason().filter(|_| points < 0) {
            costly_reasons.push((reason, points));
        }
    }
    // Most points lost first; the sort is stable, so ties keep the fixed signal order.
    costly_reasons.sort_by_key(|(_, points)| *points);
    let soft_reasons = costly_reasons.into_iter().map(|(reason, _)| reason);

    let (outcome, reasons) = if !hard_reasons.is_empty() {
        let mut reasons = hard_reasons;
        reasons.extend(soft_reasons);
        (Outcome::Declined, reasons)
    } else if score >= card.approve_at {
        (Outcome::Approved, Vec::new())
    } else {
        let outcome = if score >= card.review_at {
            Outcome::Review
        } else {
            Outcome::Declined
        };
        let mut reasons: Vec<ReasonCode> = soft_reasons.collect();
        if reasons.is_empty() {
            reasons.push(ReasonCode::NeedsReview);
        }
        (outcome, reasons)
    };

    Decision {
        outcome,
        score,
        band: ScoreBand::of(score, card),
        reasons,
        contributions,
        credit_limit: limit,
        open_exposure,
    }
}

/// The decision when an upstream decision service was asked and failed: never Approved.
/// Approved becomes Review for `decision_service_unavailable`; Declined stays as it is; Review
/// stays Review with `decision_service_unavailable` added.
pub fn upstream_failed(local: Decision) -> Decision {
    match local.outcome {
        Outcome::Approved => Decision {
            outcome: Outcome::Review,
            reasons: vec![ReasonCode::DecisionServiceUnavailable],
            ..local
        },
        Outcome::Declined => local,
        Outcome::Review => {
            let mut reasons = local.reasons;
            if !reasons.contains(&ReasonCode::DecisionServiceUnavailable) {
                reasons.push(ReasonCode::DecisionServiceUnavailable);
            }
            Decision { reasons, ..local }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Outcome::{Approved, Declined, Review};
    use ReasonCode::*;
    use proptest::prelude::*;

    /// 2026-06-01T12:00:00Z.
    const NOW: i64 = 1_780_315_200_000;
    const HOUR_MS: i64 = 3_600_000;

    fn date(year: i32, month: u8, day: u8) -> CivilDate {
        CivilDate::new(year, month, day).unwrap()
    }

    fn currency(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    fn range(min: u64, max: u64) -> Option<PlanRange> {
        Some(PlanRange {
            min: MinorUnits(min),
            max: MinorUnits(max),
        })
    }

    fn approval(id: usize, amount: u64, code: &str, approved_at_ms: i64, settles_at_ms: i64) -> PastApproval {
        PastApproval {
            approval_id: format!("apr_{id}"),
            amount: MinorUnits(amount),
            currency: currency(code),
            approved_at_ms,
            settles_at_ms,
            released: 0,
        }
    }

    /// `count` USD approvals of 10 000 that settled during the last weeks.
    fn settled(count: usize) -> Vec<PastApproval> {
        (0..count)
            .map(|i| {
                let approved = NOW - 90 * DAY_MS + i as i64 * HOUR_MS;
                approval(i, 10_000, "USD", approved, approved + 42 * DAY_MS)
            })
            .collect()
    }

    /// An approval of `amount` USD still being paid off.
    fn open(amount: u64) -> PastApproval {
        approval(900, amount, "USD", NOW - 10 * DAY_MS, NOW + 32 * DAY_MS)
    }

    /// Everything a decision needs, owned, so table cases can edit it.
    #[derive(Debug, Clone)]
    struct Scenario {
        card: Scorecard,
        now_ms: i64,
        today: CivilDate,
        amount: u64,
        currency: Currency,
        plan_range: Option<PlanRange>,
        date_of_birth: CivilDate,
        email_domain: String,
        history: CustomerHistory,
        session_attempts: u32,
        ip_attempts_last_hour: u32,
        signals: SessionSignals,
    }

    impl Scenario {
        /// A first-time shopper, an adult with an ordinary e-mail, buying 129.99 USD on a plan
        /// for 35.00–1 500.00 USD, at a human pace.
        fn first_timer() -> Self {
            Self {
                card: Scorecard::default(),
                now_ms: NOW,
                today: date(2026, 6, 1),
                amount: 12_999,
                currency: currency("USD"),
                plan_range: range(3_500, 150_000),
                date_of_birth: date(1990, 5, 15),
                email_domain: "example.com".into(),
                history: CustomerHistory::default(),
                session_attempts: 0,
                ip_attempts_last_hour: 0,
                signals: SessionSignals {
                    session_age_ms: 120_000,
                    form_fill_ms: Some(25_000),
                    amount_changed: false,
                    automated_agent: false,
                },
            }
        }

        fn decide(&self) -> Decision {
            decide(
                &self.card,
                &DecisionRequest {
                    now_ms: self.now_ms,
                    today: self.today,
                    amount: MinorUnits(self.amount),
                    currency: self.currency,
                    plan_range: self.plan_range,
                    date_of_birth: self.date_of_birth,
                    email_domain: &self.email_domain,
                    history: &self.history,
                    session_attempts: self.session_attempts,
                    ip_attempts_last_hour: self.ip_attempts_last_hour,
                    signals: self.signals,
                },
            )
        }
    }

    /// One row of the decision table.
    struct Case {
        name: &'static str,
        setup: fn(&mut Scenario),
        outcome: Outcome,
        reasons: &'static [ReasonCode],
        score: Option<i32>,
        band: Option<ScoreBand>,
        credit_limit: Option<u64>,
    }

    fn case(name: &'static str, setup: fn(&mut Scenario), outcome: Outcome, reasons: &'static [ReasonCode]) -> Case {
        Case {
            name,
            setup,
            outcome,
            reasons,
            score: None,
            band: None,
            credit_limit: None,
        }
    }

    impl Case {
        fn score(self, score: i32) -> Self {
            Self {
                score: Some(score),
                ..self
            }
        }

        fn band(self, band: ScoreBand) -> Self {
            Self {
                band: Some(band),
                ..self
            }
        }

        fn limit(self, credit_limit: u64) -> Self {
            Self {
                credit_limit: Some(credit_limit),
                ..self
            }
        }
    }

    #[test]
    fn decision_table() {
        let cases = [
            // The defaults' promises.
            case("first-time shopper, normal e-mail", |_| {}, Approved, &[])
                .score(650)
                .band(ScoreBand::B)
                .limit(150_000),
            case(
                "first-timer with a disposable e-mail",
                |s| s.email_domain = "mailinator.com".into(),
                Declined,
                &[DisposableEmail],
            )
            .score(350)
            .band(ScoreBand::D),
            case(
                "first-timer whose amount changed (exactly review_at)",
                |s| s.signals.amount_changed = true,
                Review,
                &[AmountChanged],
            )
            .score(450)
            .band(ScoreBand::C),
            // E-mail domains.
            case(
                "subdomain of a disposable domain",
                |s| s.email_domain = "inbox.mailinator.com".into(),
                Declined,
                &[DisposableEmail],
            )
            .score(350),
            case(
                "a look-alike of a disposable domain is not one",
                |s| s.email_domain = "notmailinator.com".into(),
                Approved,
                &[],
            )
            .score(650),
            case(
                "a domain the merchant listed as disposable",
                |s| {
                    s.card.disposable_domains = vec!["burner.example".into()];
                    s.email_domain = "burner.example".into();
                },
                Declined,
                &[DisposableEmail],
            )
            .score(350),
            // Automation.
            case(
                "automated user agent",
                |s| s.signals.automated_agent = true,
                Declined,
                &[AutomatedSession],
            )
            .score(350),
            case(
                "form filled faster than anyone types",
                |s| s.signals.form_fill_ms = Some(1_499),
                Declined,
                &[AutomatedSession],
            )
            .score(350),
            case(
                "form filled in exactly 1.5 s is human",
                |s| s.signals.form_fill_ms = Some(1_500),
                Approved,
                &[],
            )
            .score(650),
            case(
                "session younger than 3 s",
                |s| s.signals.session_age_ms = 2_999,
                Declined,
                &[AutomatedSession],
            )
            .score(350),
            case(
                "session exactly 3 s old, form fill unknown",
                |s| {
                    s.signals.session_age_ms = 3_000;
                    s.signals.form_fill_ms = None;
                },
                Approved,
                &[],
            )
            .score(650),
            // Reason order.
            case(
                "reasons tying on points keep the fixed order",
                |s| {
                    s.signals.automated_agent = true;
                    s.email_domain = "yopmail.com".into();
                },
                Declined,
                &[DisposableEmail, AutomatedSession],
            )
            .score(50),
            case(
                "reasons ordered by points lost",
                |s| {
                    s.card.weights.amount_changed = 400;
                    s.signals.amount_changed = true;
                    s.signals.automated_agent = true;
                },
                Declined,
                &[AmountChanged, AutomatedSession],
            )
            .score(-50),
            case(
                "signals without a reason code of their own lead to needs_review",
                |s| s.amount = 130_000,
                Review,
                &[NeedsReview],
            )
            .score(550),
            // Band boundaries.
            case("score exactly approve_at", |s| s.card.base_score = 650, Approved, &[])
                .score(600)
                .band(ScoreBand::B),
            case(
                "one point below approve_at",
                |s| s.card.base_score = 649,
                Review,
                &[NeedsReview],
            )
            .score(599)
            .band(ScoreBand::C),
            case(
                "one point below review_at",
                |s| {
                    s.card.weights.amount_changed = 201;
                    s.signals.amount_changed = true;
                },
                Declined,
                &[AmountChanged],
            )
            .score(449)
            .band(ScoreBand::D),
            case(
                "a record of four settled approvals reaches band A",
                |s| s.history.approvals = settled(4),
                Approved,
                &[],
            )
            .score(800)
            .band(ScoreBand::A),
            case(
                "the bonus stops at four settled approvals",
                |s| s.history.approvals = settled(7),
                Approved,
                &[],
            )
            .score(800),
            // Age.
            case(
                "18th birthday today",
                |s| s.date_of_birth = date(2008, 6, 1),
                Approved,
                &[],
            )
            .score(650),
            case(
                "18th birthday tomorrow",
                |s| s.date_of_birth = date(2008, 6, 2),
                Declined,
                &[UnderAge],
            )
            .score(650),
            case(
                "born 29 Feb: still 17 on 28 Feb of a non-leap year",
                |s| {
                    s.date_of_birth = date(2008, 2, 29);
                    s.today = date(2026, 2, 28);
                },
                Declined,
                &[UnderAge],
            ),
            case(
                "born 29 Feb: 18 on 1 Mar of a non-leap year",
                |s| {
                    s.date_of_birth = date(2008, 2, 29);
                    s.today = date(2026, 3, 1);
                },
                Approved,
                &[],
            ),
            // Plan range.
            case(
                "amount below the plan's minimum",
                |s| s.amount = 3_499,
                Declined,
                &[AmountOutOfRange],
            )
            .score(650),
            case("amount at the plan's minimum", |s| s.amount = 3_500, Approved, &[]),
            case(
                "amount above the plan's maximum is out of range, not over the limit",
                |s| s.amount = 150_001,
                Declined,
                &[AmountOutOfRange],
            ),
            case(
                "a plan that does not offer the currency",
                |s| s.plan_range = None,
                Declined,
                &[AmountOutOfRange],
            )
            .limit(0),
            // Credit limit.
            case(
                "exposure exactly at the limit is allowed",
                |s| {
                    s.card.credit.base_limit.insert(currency("USD"), MinorUnits(100_000));
                    s.history.approvals = vec![open(90_000)];
                    s.amount = 10_000;
                },
                Approved,
                &[],
            )
            .score(600)
            .limit(100_000),
            case(
                "one minor unit over the limit",
                |s| {
                    s.card.credit.base_limit.insert(currency("USD"), MinorUnits(100_000));
                    s.history.approvals = vec![open(90_000)];
                    s.amount = 10_001;
                },
                Declined,
                &[CreditLimit],
            )
            .score(600)
            .limit(100_000),
            case(
                "two settled approvals grow the limit by half",
                |s| {
                    s.card.credit.base_limit.insert(currency("USD"), MinorUnits(100_000));
                    s.history.approvals = settled(2);
                    s.plan_range = range(25_000, 1_000_000);
                    s.amount = 150_000;
                },
                Approved,
                &[],
            )
            .score(650)
            .limit(150_000),
            case(
                "growth stops at the cap",
                |s| {
                    s.card.credit.base_limit.insert(currency("USD"), MinorUnits(100_000));
                    s.history.approvals = settled(12);
                    s.plan_range = range(25_000, 1_000_000);
                    s.amount = 300_001;
                },
                Declined,
                &[CreditLimit],
            )
            .score(700)
            .limit(300_000),
            case(
                "a currency with a base limit uses it",
                |s| {
                    s.card.credit.base_limit.insert(currency("USD"), MinorUnits(50_000));
                },
                Approved,
                &[],
            )
            .score(650)
            .limit(50_000),
            case(
                "a currency without a base limit falls back to the plan's max",
                |s| {
                    s.card.credit.base_limit.insert(currency("USD"), MinorUnits(50_000));
                    s.currency = currency("EUR");
                },
                Approved,
                &[],
            )
            .limit(150_000),
            case(
                "open exposure in another currency does not count",
                |s| {
                    s.card.credit.base_limit.insert(currency("EUR"), MinorUnits(20_000));
                    s.history.approvals = vec![open(90_000)];
                    s.currency = currency("EUR");
                    s.amount = 20_000;
                },
                Approved,
                &[],
            )
            .score(600)
            .limit(20_000),
            // Velocity.
            case(
                "customer attempts at the daily limit",
                |s| s.history.attempts_ms = (1..=5).map(|h| NOW - h * HOUR_MS).collect(),
                Declined,
                &[TooManyAttempts],
            ),
            case(
                "customer attempts one below the limit, one a day old no longer counting",
                |s| {
                    s.history.attempts_ms = (1..=4).map(|h| NOW - h * HOUR_MS).collect();
                    s.history.attempts_ms.push(NOW - DAY_MS);
                },
                Review,
                &[NeedsReview],
            )
            .score(550),
            case(
                "session attempts at the limit",
                |s| s.session_attempts = 3,
                Declined,
                &[TooManyAttempts],
            )
            .score(650),
            case(
                "session attempts one below the limit",
                |s| s.session_attempts = 2,
                Review,
                &[NeedsReview],
            )
            .score(550),
            case(
                "IP attempts at the limit",
                |s| s.ip_attempts_last_hour = 20,
                Declined,
                &[TooManyAttempts],
            ),
            case(
                "IP attempts at half the limit",
                |s| s.ip_attempts_last_hour = 10,
                Review,
                &[NeedsReview],
            )
            .score(550),
            case(
                "IP attempts below half the limit",
                |s| s.ip_attempts_last_hour = 9,
                Approved,
                &[],
            )
            .score(650),
            // Several rules at once.
            case(
                "hard rules first, in order, then the costly signals",
                |s| {
                    s.date_of_birth = date(2010, 1, 1);
                    s.session_attempts = 3;
                    s.email_domain = "guerrillamail.com".into();
                    s.signals.amount_changed = true;
                },
                Declined,
                &[UnderAge, TooManyAttempts, DisposableEmail, AmountChanged],
            )
            .score(150),
            case(
                "a good record does not outweigh a hard rule",
                |s| {
                    s.history.approvals = settled(4);
                    s.session_attempts = 3;
                },
                Declined,
                &[TooManyAttempts],
            )
            .score(800)
            .band(ScoreBand::A),
        ];
        assert!(cases.len() >= 25);
        for case in cases {
            let mut scenario = Scenario::first_timer();
            (case.setup)(&mut scenario);
            let decision = scenario.decide();
            let name = case.name;
            assert_eq!(decision.outcome, case.outcome, "{name}: {decision:?}");
            assert_eq!(decision.reasons, case.reasons, "{name}: {decision:?}");
            if let Some(score) = case.score {
                assert_eq!(decision.score, score, "{name}: {decision:?}");
            }
            if let Some(band) = case.band {
                assert_eq!(decision.band, band, "{name}: {decision:?}");
            }
            if let Some(limit) = case.credit_limit {
                assert_eq!(decision.credit_limit, limit, "{name}: {decision:?}");
            }
            // The contributions always add up to the score.
            let sum = decision
                .contributions
                .iter()
                .fold(scenario.card.base_score, |sum, c| sum + c.points);
            assert_eq!(sum, decision.score, "{name}: {decision:?}");
        }
    }

    #[test]
    fn contributions_name_every_signal_in_a_fixed_order() {
        let mut scenario = Scenario::first_timer();
        scenario.email_domain = "mail.tempmail.com".into();
        scenario.signals.automated_agent = true;
        scenario.signals.amount_changed = true;
        scenario.session_attempts = 2;
        scenario.amount = 140_000;
        let decision = scenario.decide();
        let lines: Vec<(&str, i32)> = decision
            .contributions
            .iter()
            .map(|c| (c.signal.as_str(), c.points))
            .collect();
        assert_eq!(
            lines,
            [
                ("disposable_email", -300),
                ("automated_session", -300),
                ("amount_changed", -200),
                ("new_customer", -50),
                ("near_limit", -100),
                ("elevated_velocity", -100),
            ]
        );
        assert_eq!(decision.score, 700 - 1_050);
        assert_eq!(decision.reasons, [DisposableEmail, AutomatedSession, AmountChanged]);

        let mut returning = Scenario::first_timer();
        returning.history.approvals = settled(3);
        let lines: Vec<(String, i32)> = returning
            .decide()
            .contributions
            .into_iter()
            .map(|c| (c.signal, c.points))
            .collect();
        assert_eq!(lines, [("settled_history".to_owned(), 75)]);
    }

    #[test]
    fn a_zero_weight_signal_is_neither_scored_nor_a_reason() {
        let mut scenario = Scenario::first_timer();
        scenario.card.weights.amount_changed = 0;
        scenario.card.base_score = 500;
        scenario.signals.amount_changed = true;
        let decision = scenario.decide();
        assert_eq!(decision.outcome, Review);
        assert_eq!(decision.reasons, [NeedsReview]);
        assert!(decision.contributions.iter().all(|c| c.signal != "amount_changed"));
    }

    #[test]
    fn upstream_failure_never_approves() {
        let approved = Scenario::first_timer().decide();
        let mut review = Scenario::first_timer();
        review.signals.amount_changed = true;
        let review = review.decide();
        let mut needs_review = Scenario::first_timer();
        needs_review.session_attempts = 2;
        let needs_review = needs_review.decide();
        let mut declined = Scenario::first_timer();
        declined.amount = 1;
        let declined = declined.decide();
        let cases = [
            (
                "approved becomes review",
                approved,
                Review,
                vec![DecisionServiceUnavailable],
            ),
            (
                "review keeps its reasons and adds the outage",
                review,
                Review,
                vec![AmountChanged, DecisionServiceUnavailable],
            ),
            (
                "needs_review keeps its reason and adds the outage",
                needs_review,
                Review,
                vec![NeedsReview, DecisionServiceUnavailable],
            ),
            ("declined stays declined", declined, Declined, vec![AmountOutOfRange]),
        ];
        for (name, local, outcome, reasons) in cases {
            let after = upstream_failed(local.clone());
            assert_eq!(after.outcome, outcome, "{name}");
            assert_eq!(after.reasons, reasons, "{name}");
            // Only the outcome and reasons change: the score stays for the log.
            assert_eq!(
                (after.score, after.band, &after.contributions),
                (local.score, local.band, &local.contributions)
            );
            // Idempotent: failing twice says it once.
            assert_eq!(upstream_failed(after.clone()), after, "{name}");
        }
    }

    #[test]
    fn ages_count_full_years() {
        let cases = [
            (date(1990, 5, 15), date(2026, 5, 14), 35),
            (date(1990, 5, 15), date(2026, 5, 15), 36),
            (date(2008, 2, 29), date(2026, 2, 28), 17),
            (date(2008, 2, 29), date(2026, 3, 1), 18),
            (date(2008, 2, 29), date(2028, 2, 29), 20),
            (date(2008, 2, 29), date(2028, 2, 28), 19),
            (date(2000, 1, 1), date(2000, 1, 1), 0),
            (date(2000, 1, 2), date(2000, 1, 1), -1),
            (date(1970, 1, 1), date(9999, 12, 31), 8029),
        ];
        for (born, today, age) in cases {
            assert_eq!(age_in_years(born, today), age, "{born} to {today}");
        }
    }

    #[test]
    fn disposable_domains_match_exactly_or_as_subdomains() {
        let mut card = Scorecard::default();
        card.disposable_domains.push("burner.example".into());
        let cases = [
            ("mailinator.com", true),
            ("eu.mailinator.com", true),
            ("a.b.yopmail.com", true),
            ("MAILINATOR.COM", true),
            ("mailinator.com.", true),
            ("burner.example", true),
            ("x.burner.example", true),
            ("notmailinator.com", false),
            ("mailinator.com.evil", false),
            ("mailinator", false),
            ("example.com", false),
            ("gmail.com", false),
            ("", false),
        ];
        for (domain, disposable) in cases {
            assert_eq!(is_disposable_domain(&card, domain), disposable, "{domain}");
        }
        assert!(!is_disposable_domain(&Scorecard::default(), "burner.example"));
        assert!(
            BUILT_IN_DISPOSABLE_DOMAINS.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicates"
        );
        assert!(BUILT_IN_DISPOSABLE_DOMAINS.iter().all(|d| is_plain_domain(d)));
        assert!(BUILT_IN_DISPOSABLE_DOMAINS.len() >= 20);
    }

    #[test]
    fn credit_limits_grow_with_settled_approvals_up_to_the_cap() {
        let mut card = Scorecard::default();
        card.credit.base_limit.insert(currency("SEK"), MinorUnits(1_000_000));
        let sek = currency("SEK");
        let cases = [
            (0, 1_000_000),
            (1, 1_250_000),
            (4, 2_000_000),
            (8, 3_000_000),
            (50, 3_000_000),
        ];
        for (count, limit) in cases {
            let history = CustomerHistory {
                approvals: settled(count),
                attempts_ms: Vec::new(),
            };
            assert_eq!(
                credit_limit(&card, sek, range(1, 2), &history, NOW),
                limit,
                "{count} settled"
            );
        }
        // Open approvals do not grow it; no base and no plan range give nothing.
        let history = CustomerHistory {
            approvals: vec![open(5_000)],
            attempts_ms: Vec::new(),
        };
        assert_eq!(credit_limit(&card, sek, None, &history, NOW), 1_000_000);
        assert_eq!(credit_limit(&card, currency("USD"), None, &history, NOW), 0);
        assert_eq!(credit_limit(&card, currency("USD"), range(1, 700), &history, NOW), 700);
        // Extremes saturate instead of overflowing.
        card.credit.max_limit_bps = u32::MAX;
        card.credit.growth_bps_per_settled = u32::MAX;
        let rich = CustomerHistory {
            approvals: settled(60),
            attempts_ms: Vec::new(),
        };
        assert_eq!(
            credit_limit(&card, currency("USD"), range(0, u64::MAX), &rich, NOW),
            u64::MAX
        );
    }

    #[test]
    fn history_sums_exposure_and_counts_settled_approvals() {
        let usd = currency("USD");
        let history = CustomerHistory {
            approvals: vec![
                approval(1, 1_000, "USD", NOW - DAY_MS, NOW),
                approval(2, 2_000, "USD", NOW - DAY_MS, NOW + 1),
                approval(3, 4_000, "EUR", NOW - DAY_MS, NOW + 1),
                approval(4, u64::MAX, "USD", NOW - DAY_MS, NOW + DAY_MS),
            ],
            attempts_ms: vec![NOW - DAY_MS, NOW - DAY_MS + 1, NOW],
        };
        // Settled at exactly `now`: no longer owed.
        assert_eq!(history.settled_count(NOW), 1);
        assert_eq!(history.open_exposure(usd, NOW), u64::MAX, "saturates");
        assert_eq!(history.open_exposure(usd, NOW + 1), u64::MAX);
        assert_eq!(history.open_exposure(currency("EUR"), NOW), 4_000);
        assert_eq!(history.open_exposure(usd, NOW + DAY_MS), 0);
        assert_eq!(history.settled_count(NOW + DAY_MS), 4);
        assert_eq!(history.attempts_since(NOW - DAY_MS), 2);
        assert_eq!(history.attempts_since(i64::MIN), 3);
    }

    #[test]
    fn holds_only_shrink_and_released_approvals_earn_nothing() {
        let usd = currency("USD");
        let mut history = CustomerHistory {
            approvals: vec![
                approval(1, 12_999, "USD", NOW - DAY_MS, NOW + DAY_MS),
                approval(2, 5_000, "USD", NOW - DAY_MS, NOW + DAY_MS),
            ],
            attempts_ms: Vec::new(),
        };
        assert_eq!(history.open_exposure(usd, NOW), 17_999);
        assert!(history.limit_hold("apr_1", 10_999), "a partial refund of 2000");
        assert_eq!(history.open_exposure(usd, NOW), 15_999);
        assert!(history.limit_hold("apr_1", 12_999), "a late, larger hold");
        assert_eq!(history.open_exposure(usd, NOW), 15_999, "holds never grow again");
        assert!(history.limit_hold("apr_2", 0), "expired with no order");
        assert_eq!(history.open_exposure(usd, NOW), 10_999);
        assert!(!history.limit_hold("apr_9", 0));
        assert!(history.has_open_holds(NOW));
        // Once both plans end, only the one that lent something counts as paid off.
        assert_eq!(history.settled_count(NOW + DAY_MS), 1);
        assert!(!history.has_open_holds(NOW + DAY_MS));
        // A released approval is dropped when the next one is recorded.
        history.record_approval(approval(3, 100, "USD", NOW, NOW + DAY_MS), NOW);
        let ids: Vec<&str> = history.approvals.iter().map(|a| a.approval_id.as_str()).collect();
        assert_eq!(ids, ["apr_1", "apr_3"]);
    }

    #[test]
    fn attempts_are_pruned_to_a_day_and_capped() {
        let mut history = CustomerHistory::default();
        for i in 0..250 {
            history.record_attempt(NOW + i * 1_000);
        }
        assert_eq!(history.attempts_ms.len(), MAX_ATTEMPTS);
        assert_eq!(
            history.attempts_ms.first(),
            Some(&(NOW + 50_000)),
            "the newest are kept"
        );
        // Out of order: still the newest survive, sorted.
        history.record_attempt(NOW + 100_500);
        assert_eq!(history.attempts_ms.len(), MAX_ATTEMPTS);
        assert!(history.attempts_ms.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(history.attempts_ms.first(), Some(&(NOW + 51_000)));
        assert!(history.attempts_ms.contains(&(NOW + 100_500)));
        // An attempt older than all kept ones is the one dropped.
        history.record_attempt(NOW + 10_000);
        assert_eq!(history.attempts_ms.first(), Some(&(NOW + 51_000)));
        // A day after the last one, all earlier attempts are gone.
        history.record_attempt(NOW + 249_000 + DAY_MS);
        assert_eq!(history.attempts_ms, [NOW + 249_000 + DAY_MS]);
        // Extreme clocks neither panic nor keep junk.
        history.record_attempt(i64::MIN);
        history.record_attempt(i64::MAX);
        assert_eq!(history.attempts_ms, [i64::MAX]);
    }

    #[test]
    fn approvals_keep_every_open_one_and_the_latest_settled() {
        let mut history = CustomerHistory {
            approvals: settled(60),
            attempts_ms: Vec::new(),
        };
        history.approvals.push(open(1_000));
        history.record_approval(approval(1_000, 2_000, "EUR", NOW, NOW + 30 * DAY_MS), NOW);
        assert_eq!(history.settled_count(NOW), MAX_SETTLED_KEPT as u32);
        assert_eq!(history.approvals.len(), MAX_SETTLED_KEPT + 2);
        // The ten that settled first are gone.
        let oldest_kept = settled(60).remove(10);
        assert_eq!(history.approvals.first(), Some(&oldest_kept));
        assert_eq!(history.open_exposure(currency("USD"), NOW), 1_000);
        assert_eq!(history.open_exposure(currency("EUR"), NOW), 2_000);
        assert!(
            history
                .approvals
                .windows(2)
                .all(|w| w[0].approved_at_ms <= w[1].approved_at_ms)
        );
        // Recording the same approval again changes nothing.
        let before = history.clone();
        history.record_approval(approval(1_000, 2_000, "EUR", NOW, NOW + 30 * DAY_MS), NOW);
        assert_eq!(history, before);
        // Few settled approvals: nothing is pruned, order kept.
        let mut small = CustomerHistory::default();
        small.record_approval(approval(1, 1, "USD", NOW, NOW - 1), NOW);
        small.record_approval(approval(2, 1, "USD", NOW - 5, NOW - 1), NOW);
        let ids: Vec<&str> = small.approvals.iter().map(|a| a.approval_id.as_str()).collect();
        assert_eq!(ids, ["apr_1", "apr_2"]);
    }

    #[test]
    fn history_round_trips_as_json_and_tolerates_missing_fields() {
        let history = CustomerHistory {
            approvals: vec![open(4_200)],
            attempts_ms: vec![NOW],
        };
        let text = serde_json::to_string(&history).unwrap();
        assert_eq!(serde_json::from_str::<CustomerHistory>(&text).unwrap(), history);
        assert_eq!(
            serde_json::from_str::<CustomerHistory>("{}").unwrap(),
            CustomerHistory::default()
        );
    }

    #[test]
    fn scorecards_validate_and_name_the_bad_field() {
        assert_eq!(Scorecard::default().validate(), Ok(()));
        type Edit = fn(&mut Scorecard);
        let cases: [(Edit, &str); 17] = [
            (|c| c.review_at = c.approve_at, "scorecard.review_at"),
            (|c| c.review_at = 700, "scorecard.review_at"),
            (
                |c| c.weights.disposable_email = -1,
                "scorecard.weights.disposable_email",
            ),
            (
                |c| c.weights.automated_session = -1,
                "scorecard.weights.automated_session",
            ),
            (
                |c| c.weights.amount_changed = i32::MIN,
                "scorecard.weights.amount_changed",
            ),
            (|c| c.weights.new_customer = -1, "scorecard.weights.new_customer"),
            (|c| c.weights.near_limit = -1, "scorecard.weights.near_limit"),
            (
                |c| c.weights.elevated_velocity = -1,
                "scorecard.weights.elevated_velocity",
            ),
            (|c| c.weights.settled_bonus = -1, "scorecard.weights.settled_bonus"),
            (
                |c| c.credit.growth_bps_per_settled = MAX_GROWTH_BPS_PER_SETTLED + 1,
                "scorecard.credit.growth_bps_per_settled",
            ),
            (|c| c.credit.max_limit_bps = 9_999, "scorecard.credit.max_limit_bps"),
            (
                |c| {
                    c.credit.base_limit.insert(currency("USD"), MinorUnits(0));
                },
                "scorecard.credit.base_limit",
            ),
            (
                |c| c.velocity.customer_per_day = 0,
                "scorecard.velocity.customer_per_day",
            ),
            (
                |c| c.velocity.customer_per_day = MAX_ATTEMPTS as u32 + 1,
                "scorecard.velocity.customer_per_day",
            ),
            (|c| c.velocity.session = 0, "scorecard.velocity.session"),
            (|c| c.velocity.ip_per_hour = 0, "scorecard.velocity.ip_per_hour"),
            (
                |c| c.disposable_domains = vec!["Burner.example".into()],
                "scorecard.disposable_domains",
            ),
        ];
        for (edit, field) in cases {
            let mut card = Scorecard::default();
            edit(&mut card);
            let error = card.validate().unwrap_err();
            assert_eq!(error.field(), field, "{error}");
            assert!(error.to_string().contains(field), "{error}");
        }
        for bad in [
            "",
            "localhost",
            "a..b",
            ".example.com",
            "example.com.",
            "mail_x.com",
            "ex ample.com",
        ] {
            let card = Scorecard {
                disposable_domains: vec![bad.into()],
                ..Scorecard::default()
            };
            assert_eq!(
                card.validate(),
                Err(ScorecardError::BadDisposableDomain(bad.into())),
                "{bad:?}"
            );
        }
        // The widest values allowed pass.
        let mut widest = Scorecard {
            base_score: i32::MIN,
            approve_at: i32::MAX,
            review_at: i32::MIN,
            disposable_domains: vec!["temp-inbox.example".into()],
            ..Scorecard::default()
        };
        widest.credit.growth_bps_per_settled = MAX_GROWTH_BPS_PER_SETTLED;
        widest.credit.max_limit_bps = MAX_LIMIT_BPS;
        widest
            .credit
            .base_limit
            .insert(currency("JPY"), MinorUnits(MAX_MINOR_UNITS));
        widest.velocity = VelocityPolicy {
            customer_per_day: MAX_ATTEMPTS as u32,
            session: MAX_VELOCITY_LIMIT,
            ip_per_hour: MAX_VELOCITY_LIMIT,
        };
        assert_eq!(widest.validate(), Ok(()));
    }

    #[test]
    fn scorecards_parse_with_defaults_and_refuse_unknown_fields() {
        let parsed: Scorecard = serde_json::from_str(
            r#"{ "approve_at": 620, "credit": { "base_limit": { "EUR": 80000 } }, "velocity": { "session": 2 } }"#,
        )
        .unwrap();
        assert_eq!(parsed.approve_at, 620);
        assert_eq!(parsed.review_at, 450);
        assert_eq!(
            parsed.credit.base_limit.get(&currency("EUR")),
            Some(&MinorUnits(80_000))
        );
        assert_eq!(parsed.credit.max_limit_bps, 30_000);
        assert_eq!(parsed.velocity.session, 2);
        assert_eq!(parsed.velocity.customer_per_day, 5);
        assert_eq!(parsed.weights, Weights::default());
        assert_eq!(serde_json::from_str::<Scorecard>("{}").unwrap(), Scorecard::default());
        for bad in [
            r#"{ "approve": 600 }"#,
            r#"{ "weights": { "disposable": 1 } }"#,
            r#"{ "credit": { "growth": 1 } }"#,
            r#"{ "velocity": { "per_day": 1 } }"#,
        ] {
            assert!(serde_json::from_str::<Scorecard>(bad).is_err(), "{bad}");
        }
        let text = serde_json::to_string(&parsed).unwrap();
        assert_eq!(serde_json::from_str::<Scorecard>(&text).unwrap(), parsed);
    }

    #[test]
    fn codes_have_stable_strings_and_messages() {
        for code in ReasonCode::ALL {
            assert_eq!(ReasonCode::parse(code.as_str()), Some(code));
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
            assert_eq!(code.message().reason_code(), Some(code.as_str()));
        }
        assert_eq!(ReasonCode::parse("Under_Age"), None);
        assert_eq!(ReasonCode::parse(""), None);
        for outcome in [Approved, Declined, Review] {
            assert_eq!(serde_json::to_value(outcome).unwrap(), outcome.as_str());
        }
        for band in [ScoreBand::A, ScoreBand::B, ScoreBand::C, ScoreBand::D] {
            assert_eq!(serde_json::to_value(band).unwrap(), band.as_str());
        }
        let decision = Scenario::first_timer().decide();
        let text = serde_json::to_string(&decision).unwrap();
        assert_eq!(serde_json::from_str::<Decision>(&text).unwrap(), decision);
    }

    /// Scorecards at the edges of what `validate` accepts.
    fn extreme_scorecard() -> impl Strategy<Value = Scorecard> {
        (
            any::<i32>(),
            any::<i32>(),
            any::<i32>(),
            proptest::array::uniform7(0..=i32::MAX),
            (
                0..=MAX_GROWTH_BPS_PER_SETTLED,
                ONE_IN_BPS..=MAX_LIMIT_BPS,
                proptest::option::of(1..=MAX_MINOR_UNITS),
            ),
            (1..=MAX_ATTEMPTS as u32, 1..=MAX_VELOCITY_LIMIT, 1..=MAX_VELOCITY_LIMIT),
        )
            .prop_filter_map(
                "review_at must be below approve_at",
                |(base_score, a, b, weights, (growth, cap, usd_base), (per_day, session, ip))| {
                    let [
                        disposable_email,
                        automated_session,
                        amount_changed,
                        new_customer,
                        near_limit,
                        elevated_velocity,
                        settled_bonus,
                    ] = weights;
                    let card = Scorecard {
                        base_score,
                        approve_at: a.max(b),
                        review_at: a.min(b),
                        weights: Weights {
                            disposable_email,
                            automated_session,
                            amount_changed,
                            new_customer,
                            near_limit,
                            elevated_velocity,
                            settled_bonus,
                        },
                        credit: CreditPolicy {
                            base_limit: usd_base.map(|l| (currency("USD"), MinorUnits(l))).into_iter().collect(),
                            growth_bps_per_settled: growth,
                            max_limit_bps: cap,
                        },
                        velocity: VelocityPolicy {
                            customer_per_day: per_day,
                            session,
                            ip_per_hour: ip,
                        },
                        disposable_domains: vec!["burner.example".into()],
                    };
                    (a != b).then_some(card)
                },
            )
    }

    fn any_currency() -> impl Strategy<Value = Currency> {
        prop_oneof![Just(currency("USD")), Just(currency("EUR")), Just(currency("JPY"))]
    }

    fn any_date() -> impl Strategy<Value = CivilDate> {
        // 1970-01-01 to 9999-12-31, every date CivilDate can hold.
        (0i64..=2_932_896).prop_map(|days| CivilDate::from_days_since_epoch(days).unwrap())
    }

    fn any_history() -> impl Strategy<Value = CustomerHistory> {
        (
            proptest::collection::vec((any::<u64>(), any_currency(), any::<i64>(), any::<i64>()), 0..50),
            proptest::collection::vec(any::<i64>(), 0..50),
        )
            .prop_map(|(approvals, attempts_ms)| CustomerHistory {
                approvals: approvals
                    .into_iter()
                    .enumerate()
                    .map(|(i, (amount, currency, approved_at_ms, settles_at_ms))| PastApproval {
                        approval_id: format!("apr_{i}"),
                        amount: MinorUnits(amount),
                        currency,
                        approved_at_ms,
                        settles_at_ms,
                        released: 0,
                    })
                    .collect(),
                attempts_ms,
            })
    }

    fn any_signals() -> impl Strategy<Value = SessionSignals> {
        (
            any::<i64>(),
            proptest::option::of(any::<i64>()),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(
                |(session_age_ms, form_fill_ms, amount_changed, automated_agent)| SessionSignals {
                    session_age_ms,
                    form_fill_ms,
                    amount_changed,
                    automated_agent,
                },
            )
    }

    proptest! {
        #[test]
        fn decide_never_panics_and_stays_coherent(
            card in extreme_scorecard(),
            raw_weights in proptest::array::uniform7(any::<i32>()),
            now_ms in any::<i64>(),
            today in any_date(),
            date_of_birth in any_date(),
            amount in any::<u64>(),
            currency in any_currency(),
            plan_range in proptest::option::of((any::<u64>(), any::<u64>())),
            email_domain in prop_oneof![
                Just("example.com".to_owned()),
                Just("x.mailinator.com".to_owned()),
                Just("burner.example".to_owned()),
                "[a-z.]{0,20}",
            ],
            history in any_history(),
            session_attempts in any::<u32>(),
            ip_attempts_last_hour in any::<u32>(),
            signals in any_signals(),
        ) {
            prop_assert_eq!(card.validate(), Ok(()));
            let plan_range = plan_range.map(|(min, max)| PlanRange { min: MinorUnits(min), max: MinorUnits(max) });
            let request = DecisionRequest {
                now_ms,
                today,
                amount: MinorUnits(amount),
                currency,
                plan_range,
                date_of_birth,
                email_domain: &email_domain,
                history: &history,
                session_attempts,
                ip_attempts_last_hour,
                signals,
            };
            let decision = decide(&card, &request);
            prop_assert_eq!(decision.reasons.is_empty(), decision.outcome == Approved);
            if decision.outcome == Approved {
                prop_assert!(decision.score >= card.approve_at);
                prop_assert!(u128::from(decision.open_exposure) + u128::from(amount) <= u128::from(decision.credit_limit));
            }
            prop_assert_eq!(decision.band, ScoreBand::of(decision.score, &card));
            prop_assert_eq!(decide(&card, &request), decision.clone(), "deterministic");
            prop_assert_ne!(upstream_failed(decision).outcome, Approved);

            // Even a scorecard validation would refuse must not panic.
            let [disposable_email, automated_session, amount_changed, new_customer, near_limit, elevated_velocity, settled_bonus] = raw_weights;
            let mut raw = card.clone();
            raw.weights = Weights { disposable_email, automated_session, amount_changed, new_customer, near_limit, elevated_velocity, settled_bonus };
            raw.review_at = card.approve_at;
            raw.credit.max_limit_bps = 0;
            raw.velocity.session = 0;
            raw.disposable_domains.push(String::new());
            let _ = decide(&raw, &request);
        }

        #[test]
        fn replayed_purchases_never_owe_more_than_the_limit(
            steps in proptest::collection::vec(
                (
                    any::<bool>(),          // USD or EUR
                    1u64..=320_000,         // amount, sometimes out of the plan's range
                    0..=10 * DAY_MS,        // time since the previous attempt
                    0..=60 * DAY_MS,        // from approval to the last installment
                    0u8..8,                 // now and then a signal that costs points
                ),
                1..120,
            ),
            usd_base in 1u64..=300_000,
            growth_bps_per_settled in 0u32..=20_000,
            max_limit_bps in ONE_IN_BPS..=60_000,
            customer_per_day in 1u32..=MAX_ATTEMPTS as u32,
        ) {
            let mut card = Scorecard::default();
            // USD has a base limit; EUR falls back to its plan's max.
            card.credit.base_limit.insert(currency("USD"), MinorUnits(usd_base));
            card.credit.growth_bps_per_settled = growth_bps_per_settled;
            card.credit.max_limit_bps = max_limit_bps;
            card.velocity.customer_per_day = customer_per_day;
            prop_assert_eq!(card.validate(), Ok(()));
            let plans = [(currency("USD"), range(1_000, 200_000)), (currency("EUR"), range(1_000, 300_000))];
            let mut history = CustomerHistory::default();
            let mut now_ms = NOW;
            let mut approvals = 0;
            for (i, (is_usd, amount, step_ms, settle_span_ms, signal)) in steps.into_iter().enumerate() {
                now_ms += step_ms;
                let (currency, plan_range) = plans[usize::from(!is_usd)];
                let scenario = Scenario {
                    card: card.clone(),
                    now_ms,
                    today: CivilDate::from_unix_millis_utc(now_ms).unwrap(),
                    amount,
                    currency,
                    plan_range,
                    date_of_birth: date(1990, 5, 15),
                    email_domain: "example.com".into(),
                    history: history.clone(),
                    session_attempts: 0,
                    ip_attempts_last_hour: 0,
                    signals: SessionSignals {
                        session_age_ms: 60_000,
                        form_fill_ms: Some(20_000),
                        amount_changed: signal == 1,
                        automated_agent: signal == 2,
                    },
                };
                // Time has passed since the last step: still within every limit.
                for (currency, plan_range) in plans {
                    let exposure = history.open_exposure(currency, now_ms);
                    let limit = credit_limit(&card, currency, plan_range, &history, now_ms);
                    prop_assert!(exposure <= limit, "before step {}: {} owes {} over a limit of {}", i, currency, exposure, limit);
                }
                let decision = scenario.decide();
                history.record_attempt(now_ms);
                if decision.outcome == Approved {
                    approvals += 1;
                    prop_assert!(decision.open_exposure.saturating_add(amount) <= decision.credit_limit);
                    history.record_approval(
                        PastApproval {
                            approval_id: format!("apr_{i}"),
                            amount: MinorUnits(amount),
                            currency,
                            approved_at_ms: now_ms,
                            settles_at_ms: now_ms + settle_span_ms,
                            released: 0,
                        },
                        now_ms,
                    );
                    // Pruning happens when an approval is recorded (more may settle later).
                    prop_assert!(history.settled_count(now_ms) as usize <= MAX_SETTLED_KEPT);
                }
                for (currency, plan_range) in plans {
                    let exposure = history.open_exposure(currency, now_ms);
                    let limit = credit_limit(&card, currency, plan_range, &history, now_ms);
                    prop_assert!(exposure <= limit, "step {}: {} owes {} over a limit of {}", i, currency, exposure, limit);
                }
                prop_assert!(history.attempts_ms.len() <= MAX_ATTEMPTS);
            }
            prop_assert!(approvals <= 120);
        }
    }

    #[test]
    fn every_decision_reason_code_has_a_message_in_every_locale() {
        use paylater_shared::catalog::{Locale, render};
        for code in ReasonCode::ALL {
            let message = MessageId::for_reason(code.as_str());
            assert_eq!(message, Some(code.message()), "{code:?}");
            assert_eq!(code.message().reason_code(), Some(code.as_str()));
            for locale in Locale::ALL {
                // Reason messages are shown as they are: no placeholders to fill.
                let text = render(locale, code.message(), &[]).unwrap();
                assert!(!text.trim().is_empty(), "{code:?} in {}", locale.tag());
            }
        }
        // And no reason message is left without a decision code that uses it.
        let reason_messages = MessageId::ALL.iter().filter(|m| m.reason_code().is_some()).count();
        assert_eq!(reason_messages, ReasonCode::ALL.len());
    }
}
