//! `POST /v1/approvals`: the checks made before any state is touched (idempotency key, body,
//! session token, origin, plan), the messages the worker and its Durable Objects exchange, and
//! the answer (CONTRACT §3). The decision itself is `crate::decision`'s.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use paylater_shared::CivilDate;
use paylater_shared::approval::Outcome;
use paylater_shared::catalog::{Locale, MessageId, render};
use paylater_shared::date::rfc3339_utc;
use paylater_shared::merchant::PlanRange;
use paylater_shared::plan::{Installment, PlanTerms};
use paylater_shared::token::{
    APPROVAL_TOKEN_ISSUER, ApprovalClaims, ApprovalSigner, Jwks, SessionClaims, SessionKeyring, TokenError,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use paylater_shared::approval::{ApprovalAnswer, ReasonText};

use crate::decision::{DAY_MS, Decision, ReasonCode, Scorecard, SessionSignals, upstream_failed};
use crate::error::EdgeError;
use crate::ingest::{RequestFacts, SessionFacts};
use crate::json_body::{fingerprint, object, object_body, only_fields, string};
use crate::merchant::MerchantConfig;

/// Shortest `CUSTOMER_HASH_KEY`: 256 bits, as the HMAC's own output.
pub const MIN_CUSTOMER_HASH_KEY_BYTES: usize = 32;

/// The admin holds lookup's body: `{ "email": …, "livemode": bool }`.
pub fn parse_holds_request(body: &[u8]) -> Result<(String, bool), EdgeError> {
    let root = &object_body(body, &["email", "livemode"])?;
    let email = string(root, "email", "email")?.trim().to_ascii_lowercase();
    if !is_email(&email) {
        return Err(EdgeError::InvalidEmail);
    }
    let livemode = match root.get("livemode") {
        None => false,
        Some(Value::Bool(live)) => *live,
        Some(_) => {
            return Err(EdgeError::InvalidType {
                field: "livemode",
                expected: "true or false",
            });
        }
    };
    Ok((email, livemode))
}

/// Longest `Idempotency-Key` accepted (Stripe's limit too).
pub const MAX_IDEMPOTENCY_KEY_BYTES: usize = 255;

/// `Idempotency-Key`: 1 to 255 visible ASCII characters (a UUID is the usual choice).
pub fn check_idempotency_key(header: Option<&str>) -> Result<String, EdgeError> {
    let key = header.ok_or(EdgeError::IdempotencyKey {
        problem: "is required: send a unique key (e.g. a UUID) per approval attempt",
    })?;
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_BYTES || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(EdgeError::IdempotencyKey {
            problem: "must be 1 to 255 visible ASCII characters",
        });
    }
    Ok(key.to_owned())
}

/// Approvals take JSON only: a browser form posting `text/plain` would skip the preflight that
/// keeps other origins out.
pub fn check_json_content_type(content_type: Option<&str>) -> Result<(), EdgeError> {
    let essence = content_type.unwrap_or("").split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(EdgeError::UnsupportedMediaType {
            got: content_type.unwrap_or("none").to_owned(),
            expected: "application/json",
        })
    }
}

/// The shopper as the form sends them: only what the decision uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Customer {
    /// Lower-cased, so one person is one customer however they type it.
    pub email: String,
    pub date_of_birth: CivilDate,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

impl Customer {
    pub fn email_domain(&self) -> &str {
        self.email.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

/// A validated `POST /v1/approvals` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalRequest {
    pub session_token: String,
    pub plan_id: String,
    pub customer: Customer,
}

impl ApprovalRequest {
    pub fn fingerprint(&self) -> String {
        fingerprint(self)
    }
}

/// A plain e-mail address: one `@`, a non-empty local part, a domain with a dot and no spaces.
/// Deliverability is not ours to judge; typos that cannot be an address are.
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    text.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && local.bytes().all(|b| b.is_ascii_graphic() && b != b'@')
        && domain.contains('.')
        && domain.split('.').all(label_ok)
}

/// Parses the body strictly: `{ session_token, plan_id, customer: { email, date_of_birth,
/// country }, consent: { terms: true } }`. `today` bounds the date of birth.
pub fn parse_approval_request(body: &[u8], today: CivilDate) -> Result<ApprovalRequest, EdgeError> {
    let root = &object_body(body, &["session_token", "plan_id", "customer", "consent"])?;
    let session_token = string(root, "session_token", "session_token")?.to_owned();
    let plan_id = string(root, "plan_id", "plan_id")?.to_owned();
    let customer = object(
        root.get("customer").ok_or(EdgeError::Missing { field: "customer" })?,
        "customer",
    )?;
    only_fields(customer, "customer.", &["email", "date_of_birth", "country"])?;
    let email = string(customer, "email", "customer.email")?.trim().to_ascii_lowercase();
    if !is_email(&email) {
        return Err(EdgeError::InvalidEmail);
    }
    let date_of_birth =
        CivilDate::parse(string(customer, "date_of_birth", "customer.date_of_birth")?).map_err(|source| {
            EdgeError::InvalidDate {
                field: "customer.date_of_birth",
                source,
            }
        })?;
    if date_of_birth > today {
        return Err(EdgeError::ImplausibleDateOfBirth);
    }
    let country = string(customer, "country", "customer.country")?;
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(EdgeError::InvalidCountry);
    }
    let consent = object(
        root.get("consent").ok_or(EdgeError::Missing { field: "consent" })?,
        "consent",
    )?;
    only_fields(consent, "consent.", &["terms"])?;
    match consent.get("terms") {
        Some(Value::Bool(true)) => {}
        Some(Value::Bool(false)) | None => return Err(EdgeError::ConsentRequired),
        Some(_) => {
            return Err(EdgeError::InvalidType {
                field: "consent.terms",
                expected: "true",
            });
        }
    }
    Ok(ApprovalRequest {
        session_token,
        plan_id,
        customer: Customer {
            email,
            date_of_birth,
            country: country.to_owned(),
        },
    })
}

/// The session behind an approval. The form may be the edge's own checkout page or the
/// merchant's page the session was made on (CONTRACT §3); nothing else.
pub fn authorize_session(
    token: &str,
    keyring: &SessionKeyring,
    origin: Option<&str>,
    own_origin: &str,
    now_s: i64,
) -> Result<SessionClaims, EdgeError> {
    let claims = keyring.verify(token, now_s).map_err(EdgeError::InvalidToken)?;
    let origin = origin.ok_or(EdgeError::OriginRequired)?;
    if origin != claims.org && origin != own_origin {
        return Err(EdgeError::InvalidToken(TokenError::Mismatch("origin")));
    }
    Ok(claims)
}

/// The merchant's plan a `plan_id` names, with its range for the currency (`None` when the plan
/// does not offer it), whether or not the amount fits: a plan that exists but does not fit is a
/// decision (declined, `amount_out_of_range`), an id that names no plan is an input error.
pub fn find_plan(
    merchant: &MerchantConfig,
    plan_id: &str,
    currency: paylater_shared::Currency,
) -> Result<(PlanTerms, Option<PlanRange>), EdgeError> {
    if let Some((terms, plan)) = merchant
        .all_terms()
        .into_iter()
        .find(|(terms, _)| terms.id() == plan_id)
    {
        return Ok((terms, plan.ranges.get(&currency).copied()));
    }
    Err(EdgeError::UnknownPlan {
        plan_id: plan_id.chars().take(64).collect(),
    })
}

/// When an approval stops counting as open exposure: the end of the day its last installment
/// falls due (no schedule, e.g. a declined amount: now).
pub fn settles_at_ms(schedule: &[Installment], now_ms: i64) -> i64 {
    schedule.last().map_or(now_ms, |last| {
        last.due_date
            .days_since_epoch()
            .saturating_add(1)
            .saturating_mul(DAY_MS)
    })
}

/// Worker → the session's Durable Object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApproveRequest {
    pub idempotency_key: String,
    pub fingerprint: String,
    pub session: SessionFacts,
    pub request: RequestFacts,
    pub customer_id_hash: String,
    pub decide: DecideRequest,
    /// The answer's pieces the session object cannot know.
    pub plan_id: String,
    /// BCP 47 tag for the reasons' texts (from `Accept-Language`).
    pub locale: String,
    /// The shopper's country (ISO alpha-2), for the upstream decision service.
    pub country: String,
    pub schedule: Vec<Installment>,
    /// The date `schedule` counts from: the shopper's local date of the session.
    #[serde(default)]
    pub schedule_start: Option<CivilDate>,
    /// The session token's expiry, epoch seconds.
    pub expires_at_s: i64,
    /// How long an order made from it may be captured.
    pub capture_window_s: i64,
}

impl ApproveRequest {
    /// The customer's ledger object in the session's mode, so test approvals never touch a
    /// live limit.
    pub fn ledger(&self) -> String {
        crate::ledger::ledger_name(self.session.livemode, &self.customer_id_hash)
    }
}

/// The session's object → the customer's object: decide and record, once per `reference`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecideRequest {
    /// `{session id}:{idempotency key}`: asking twice with it returns the first decision.
    pub reference: String,
    pub approval_id: String,
    pub now_ms: i64,
    pub today: CivilDate,
    pub amount: paylater_shared::MinorUnits,
    pub currency: paylater_shared::Currency,
    pub plan_range: Option<PlanRange>,
    pub date_of_birth: CivilDate,
    pub email_domain: String,
    pub ip_attempts_last_hour: u32,
    pub signals: SessionSignals,
    /// When the last installment falls due: an approval counts as open exposure until then.
    pub settles_at_ms: i64,
    /// What the upstream decision service said, when one is configured.
    pub upstream: Option<UpstreamVerdict>,
    /// Session attempts before this one (the session's object counts them).
    #[serde(default)]
    pub session_attempts: u32,
    /// The merchant's weights and thresholds.
    pub scorecard: Scorecard,
    /// Whose approval it is, for the record of its release when it becomes no order.
    pub merchant_id: String,
    pub livemode: bool,
    pub session_id: String,
    pub plan_id: String,
    /// An approval that is not an order by then is released (epoch ms).
    pub token_expires_at_ms: i64,
    /// An idle customer record with nothing open is removed after this many days.
    pub retention_days: u32,
    /// The client network (/24 or /64) the customer's attempt counts against.
    pub network: String,
}

/// An upstream decision service's say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpstreamVerdict {
    Answered { outcome: Outcome, reasons: Vec<ReasonCode> },
    Failed { why: String },
}

impl UpstreamVerdict {
    /// For the log: whether the upstream answered.
    pub fn label(&self) -> String {
        match self {
            Self::Answered { .. } => "answered",
            Self::Failed { .. } => "failed",
        }
        .to_owned()
    }
}

/// Combines the local scorecard with an upstream service's say. The local hard rules always
/// hold (the upstream cannot approve past the credit limit); the upstream may only make a
/// decision stricter; a failed upstream never approves.
pub fn apply_upstream(local: Decision, upstream: Option<&UpstreamVerdict>) -> Decision {
    match upstream {
        None => local,
        Some(UpstreamVerdict::Failed { .. }) => upstream_failed(local),
        Some(UpstreamVerdict::Answered { outcome, reasons }) => {
            let stricter = match (local.outcome, outcome) {
                (Outcome::Declined, _) => return local,
                (_, Outcome::Declined) => Outcome::Declined,
                (Outcome::Review, _) | (_, Outcome::Review) => Outcome::Review,
                _ => Outcome::Approved,
            };
            if stricter == local.outcome {
                return local;
            }
            let mut reasons = reasons.clone();
            if reasons.is_empty() {
                reasons.push(ReasonCode::NeedsReview);
            }
            Decision {
                outcome: stricter,
                reasons,
                ..local
            }
        }
    }
}

/// What the upstream decision service is sent: the decision's inputs, with the customer as a
/// keyed hash and their age instead of their birth date.
pub fn upstream_features(approve: &ApproveRequest, decide: &DecideRequest) -> Value {
    serde_json::json!({
        "reference": decide.reference,
        "amount": decide.amount,
        "currency": decide.currency,
        "plan_id": approve.plan_id,
        "customer_id_hash": approve.customer_id_hash,
        "age_years": crate::decision::age_in_years(decide.date_of_birth, decide.today),
        "email_domain": decide.email_domain,
        "country": approve.country,
        "session_attempts": decide.session_attempts,
        "ip_attempts_last_hour": decide.ip_attempts_last_hour,
        "signals": decide.signals,
    })
}

/// Reads the upstream's answer: 200 with `{ "decision": "approved"|"declined"|"review",
/// "reasons": [code, …] }` (unknown reason codes are dropped); anything else is a failure.
pub fn parse_upstream_answer(status: u16, body: &str) -> UpstreamVerdict {
    if status != 200 {
        return UpstreamVerdict::Failed {
            why: format!("status {status}"),
        };
    }
    let Ok(value) = serde_json::from_str::<Value>(body) else {
        return UpstreamVerdict::Failed {
            why: "answer is not JSON".into(),
        };
    };
    let outcome = match value.get("decision").and_then(Value::as_str) {
        Some("approved") => Outcome::Approved,
        Some("declined") => Outcome::Declined,
        Some("review") => Outcome::Review,
        _ => {
            return UpstreamVerdict::Failed {
                why: "answer has no decision".into(),
            };
        }
    };
    let reasons = value
        .get("reasons")
        .and_then(Value::as_array)
        .map(|codes| {
            codes
                .iter()
                .filter_map(Value::as_str)
                .filter_map(ReasonCode::parse)
                .collect()
        })
        .unwrap_or_default();
    UpstreamVerdict::Answered { outcome, reasons }
}

/// Parses `APPROVAL_SIGNING_KEYS`: `kid:base64url-of-a-32-byte-seed`, comma-separated, newest
/// first (it signs; all verify, so tokens outlive a rotation).
pub fn signers_from_secret(secret: &str) -> Result<Vec<ApprovalSigner>, EdgeError> {
    let seeds = seeds_from_secret("APPROVAL_SIGNING_KEYS", secret)?;
    Ok(seeds
        .iter()
        .map(|(kid, seed)| ApprovalSigner::from_seed(kid, seed))
        .collect())
}

/// The newest key of `APPROVAL_SIGNING_KEYS`, the one that signs (deriving the others' public
/// keys would be wasted work on every approval).
pub fn signer_from_secret(secret: &str) -> Result<ApprovalSigner, EdgeError> {
    let (kid, seed) = seeds_from_secret("APPROVAL_SIGNING_KEYS", secret)?
        .into_iter()
        .next()
        .ok_or_else(|| EdgeError::Internal {
            detail: "APPROVAL_SIGNING_KEYS: no key".into(),
        })?;
    Ok(ApprovalSigner::from_seed(&kid, &seed))
}

/// An Ed25519 keyring secret (`APPROVAL_SIGNING_KEYS`, `DIGEST_SIGNING_KEYS`):
/// `kid:base64url-of-a-32-byte-seed`, comma-separated, newest first; at least one.
pub fn seeds_from_secret(name: &str, secret: &str) -> Result<Vec<(String, [u8; 32])>, EdgeError> {
    let bad = |why: &str| EdgeError::Internal {
        detail: format!("{name}: {why}"),
    };
    let seeds = secret
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (kid, seed) = entry.split_once(':').ok_or_else(|| bad("each key is kid:seed"))?;
            let seed: [u8; 32] = URL_SAFE_NO_PAD
                .decode(seed)
                .ok()
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or_else(|| bad("a seed is 32 bytes, base64url without padding"))?;
            Ok((kid.to_owned(), seed))
        })
        .collect::<Result<Vec<_>, EdgeError>>()?;
    if seeds.is_empty() {
        return Err(bad("no key"));
    }
    Ok(seeds)
}

/// The JWKS of `GET /v1/keys`: every configured key.
pub fn jwks(signers: &[ApprovalSigner]) -> Jwks {
    Jwks {
        keys: signers.iter().map(ApprovalSigner::jwk).collect(),
    }
}

/// Claims of an approved request's token (CONTRACT §3).
pub fn approval_claims(approve: &ApproveRequest, decided: &Decided, now_ms: i64, jti: &str) -> ApprovalClaims {
    let iat = now_ms.div_euclid(1000);
    ApprovalClaims {
        iss: APPROVAL_TOKEN_ISSUER.to_owned(),
        sub: decided.approval_id.clone(),
        aud: approve.session.merchant_id.clone(),
        amount: approve.decide.amount,
        currency: approve.decide.currency,
        plan_id: approve.plan_id.clone(),
        iat,
        exp: decided.token_expires_at_s(),
        jti: jti.to_owned(),
        livemode: approve.session.livemode,
        schedule_start: approve.schedule_start,
        first_due_date: approve.schedule.first().map(|installment| installment.due_date),
    }
}

/// Where shoppers ask for a human review when no `HUMAN_REVIEW_CONTACT` is configured.
pub const DEFAULT_HUMAN_REVIEW_CONTACT: &str = "review@paylater.example";

/// The 200 body: reasons in the shopper's words (the session's locale), and for declined and
/// review answers how to ask a person to look at it.
pub fn build_answer(
    approve: &ApproveRequest,
    decided: &Decided,
    token: Option<String>,
    contact: &str,
) -> ApprovalAnswer {
    let locale = Locale::resolve(&approve.locale);
    let reasons = decided
        .decision
        .reasons
        .iter()
        .map(|code| ReasonText {
            code: code.as_str().to_owned(),
            message: render(locale, code.message(), &[]).unwrap_or_default(),
        })
        .collect();
    let human_review = (decided.decision.outcome != Outcome::Approved)
        .then(|| render(locale, MessageId::HumanReview, &[("contact", contact)]).unwrap_or_default());
    let expires_at_s = decided.token_expires_at_s();
    ApprovalAnswer {
        approval_id: decided.approval_id.clone(),
        decision: decided.decision.outcome,
        reasons,
        plan_id: approve.plan_id.clone(),
        schedule: approve.schedule.clone(),
        approval_token: token,
        expires_at: rfc3339_utc(expires_at_s).unwrap_or_default(),
        human_review,
    }
}

/// The customer's object → the session's object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decided {
    pub approval_id: String,
    pub decision: Decision,
    /// When the approval's token expires: the first decision's, also when a retried reference
    /// is answered again later, so the token, the hold and the order book agree.
    pub token_expires_at_ms: i64,
}

impl Decided {
    pub fn token_expires_at_s(&self) -> i64 {
        self.token_expires_at_ms.div_euclid(1000)
    }
}

/// The session's object → the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApproveOutcome {
    Answered {
        answer: ApprovalAnswer,
        replayed: bool,
    },
    /// The key was used with another body.
    Conflict,
    /// The session already holds a live approval for another body.
    SessionHasApproval,
    /// The session has made as many attempts as the merchant allows.
    RateLimited {
        retry_after_seconds: u32,
    },
    EnqueueFailed {
        detail: String,
    },
}

/// Worker → the client's limiter: count an approval attempt unless this many were made in the
/// last hour (then 429, before any customer's ledger is asked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptLimit {
    pub limit_per_hour: u32,
}

/// What the session's object keeps per `Idempotency-Key`: the body's fingerprint, and the
/// answer once it was handed off (`None`: decided, but logging it failed, so the same body may
/// ask again and gets the customer's object's first decision).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredApproval {
    pub fingerprint: String,
    pub answer: Option<ApprovalAnswer>,
}

/// A session's approved answer while its token lives: the one hold a session may have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveApproval {
    pub fingerprint: String,
    pub answer: ApprovalAnswer,
    pub token_expires_at_ms: i64,
}

/// What the session's object does with an attempt before any customer's ledger is asked.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionStep {
    /// Answer this again (`Idempotent-Replayed`).
    Replay(ApprovalAnswer),
    /// The key was used with another body (409).
    Conflict,
    /// The session holds a live approval for another body (409): never a second hold.
    HasApproval,
    /// The session's attempts are used up: 429 until the session ends.
    RateLimited { retry_after_seconds: u32 },
    /// Ask the customer's object for a decision.
    Decide,
}

/// An attempt as the session's object sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionAttempt<'a> {
    pub fingerprint: &'a str,
    pub now_ms: i64,
    /// Attempts this session made before.
    pub attempts: u32,
    /// The merchant's `scorecard.velocity.session`.
    pub limit: u32,
    pub session_expires_at_s: i64,
}

impl<'a> SessionAttempt<'a> {
    pub fn of(approve: &'a ApproveRequest, attempts: u32) -> Self {
        Self {
            fingerprint: &approve.fingerprint,
            now_ms: approve.decide.now_ms,
            attempts,
            limit: approve.decide.scorecard.velocity.session,
            session_expires_at_s: approve.expires_at_s,
        }
    }
}

/// Decides [`SessionStep`] from the key's record, the session's live approval and its attempt
/// count. Nothing here counts against the customer.
pub fn session_step(
    for_key: Option<&StoredApproval>,
    live: Option<&LiveApproval>,
    attempt: SessionAttempt,
) -> SessionStep {
    let now_ms = attempt.now_ms;
    if let Some(stored) = for_key {
        return match (&stored.answer, stored.fingerprint == attempt.fingerprint) {
            (_, false) => SessionStep::Conflict,
            (Some(answer), true) => SessionStep::Replay(answer.clone()),
            (None, true) => SessionStep::Decide,
        };
    }
    if let Some(live) = live.filter(|live| now_ms < live.token_expires_at_ms) {
        return if live.fingerprint == attempt.fingerprint {
            SessionStep::Replay(live.answer.clone())
        } else {
            SessionStep::HasApproval
        };
    }
    if attempt.attempts >= attempt.limit {
        let wait_s = attempt
            .session_expires_at_s
            .saturating_sub(now_ms.div_euclid(1000))
            .max(1);
        return SessionStep::RateLimited {
            retry_after_seconds: u32::try_from(wait_s).unwrap_or(u32::MAX),
        };
    }
    SessionStep::Decide
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sessions::MAX_BODY_BYTES;

    fn answer(id: &str) -> ApprovalAnswer {
        ApprovalAnswer {
            approval_id: id.into(),
            decision: Outcome::Approved,
            reasons: Vec::new(),
            plan_id: "pay_in_4".into(),
            schedule: Vec::new(),
            approval_token: Some("token".into()),
            expires_at: "2026-11-29T10:15:00Z".into(),
            human_review: None,
        }
    }

    #[test]
    fn a_session_holds_one_live_approval_and_its_attempts_are_bounded() {
        const NOW: i64 = 1_795_420_800_000;
        let attempt = |fingerprint, attempts| SessionAttempt {
            fingerprint,
            now_ms: NOW,
            attempts,
            limit: 3,
            session_expires_at_s: NOW / 1000 + 600,
        };
        let first = StoredApproval {
            fingerprint: "f1".into(),
            answer: Some(answer("a1")),
        };
        let unlogged = StoredApproval {
            fingerprint: "f1".into(),
            answer: None,
        };
        let live = LiveApproval {
            fingerprint: "f1".into(),
            answer: answer("a1"),
            token_expires_at_ms: NOW + 1,
        };
        let expired = LiveApproval {
            token_expires_at_ms: NOW,
            ..live.clone()
        };
        let cases = [
            (Some(&first), None, attempt("f1", 1), SessionStep::Replay(answer("a1"))),
            (Some(&first), None, attempt("f2", 1), SessionStep::Conflict),
            (Some(&unlogged), Some(&live), attempt("f1", 1), SessionStep::Decide),
            (Some(&unlogged), None, attempt("f2", 1), SessionStep::Conflict),
            // A new key, the same body: the first approval again; another body: refused.
            (None, Some(&live), attempt("f1", 1), SessionStep::Replay(answer("a1"))),
            (None, Some(&live), attempt("f2", 1), SessionStep::HasApproval),
            (None, Some(&expired), attempt("f2", 1), SessionStep::Decide),
            (None, None, attempt("f2", 2), SessionStep::Decide),
            (
                None,
                None,
                attempt("f2", 3),
                SessionStep::RateLimited {
                    retry_after_seconds: 600,
                },
            ),
        ];
        for (i, (for_key, live, attempt, step)) in cases.into_iter().enumerate() {
            assert_eq!(session_step(for_key, live, attempt), step, "case {i}");
        }
    }

    fn today() -> CivilDate {
        CivilDate::new(2026, 11, 23).unwrap()
    }

    const GOOD: &str = r#"{"session_token":"t","plan_id":"pay_in_4","customer":{"email":" Ada@Example.COM ","date_of_birth":"1990-05-17","country":"SE"},"consent":{"terms":true}}"#;

    #[test]
    fn a_good_body_parses_with_the_email_normalised() {
        let request = parse_approval_request(GOOD.as_bytes(), today()).unwrap();
        assert_eq!(request.customer.email, "ada@example.com");
        assert_eq!(request.customer.email_domain(), "example.com");
        assert_eq!(request.customer.date_of_birth, CivilDate::new(1990, 5, 17).unwrap());
        assert_eq!(request.plan_id, "pay_in_4");
        // Same request, other spacing and key order: same fingerprint.
        let reordered = r#"{ "consent": {"terms": true}, "customer": {"country":"SE","date_of_birth":"1990-05-17","email":"ada@example.com"}, "plan_id":"pay_in_4", "session_token":"t" }"#;
        assert_eq!(
            parse_approval_request(reordered.as_bytes(), today())
                .unwrap()
                .fingerprint(),
            request.fingerprint()
        );
        let other = GOOD.replace("pay_in_4", "pay_in_30");
        assert_ne!(
            parse_approval_request(other.as_bytes(), today()).unwrap().fingerprint(),
            request.fingerprint()
        );
    }

    #[test]
    fn bad_bodies_are_refused_with_code_and_field() {
        let with = |from: &str, to: &str| GOOD.replace(from, to);
        let cases: Vec<(String, &str, Option<&str>)> = vec![
            ("{".into(), "invalid_json", None),
            ("[]".into(), "invalid_json", None),
            (
                with(r#""plan_id":"pay_in_4","#, ""),
                "missing_parameter",
                Some("plan_id"),
            ),
            (
                with(r#""session_token":"t","#, ""),
                "missing_parameter",
                Some("session_token"),
            ),
            (
                with(r#""plan_id":"pay_in_4""#, r#""plan_id":4"#),
                "invalid_type",
                Some("plan_id"),
            ),
            (
                with(r#","consent":{"terms":true}"#, ""),
                "missing_parameter",
                Some("consent"),
            ),
            (
                with(r#""terms":true"#, r#""terms":false"#),
                "consent_required",
                Some("consent.terms"),
            ),
            (
                with(r#""terms":true"#, r#""terms":"yes""#),
                "invalid_type",
                Some("consent.terms"),
            ),
            (
                with(r#""terms":true"#, r#""terms":true,"marketing":true"#),
                "unknown_field",
                Some("consent.marketing"),
            ),
            (
                with(r#""country":"SE""#, r#""country":"SE","phone":"1""#),
                "unknown_field",
                Some("customer.phone"),
            ),
            (
                with("Ada@Example.COM", "not-an-email"),
                "invalid_email",
                Some("customer.email"),
            ),
            (
                with("Ada@Example.COM", "ada@localhost"),
                "invalid_email",
                Some("customer.email"),
            ),
            (
                with("Ada@Example.COM", "a da@example.com"),
                "invalid_email",
                Some("customer.email"),
            ),
            (
                with("1990-05-17", "1990-02-30"),
                "invalid_date",
                Some("customer.date_of_birth"),
            ),
            (
                with("1990-05-17", "17/05/1990"),
                "invalid_date",
                Some("customer.date_of_birth"),
            ),
            (
                with("1990-05-17", "2030-01-01"),
                "implausible_date_of_birth",
                Some("customer.date_of_birth"),
            ),
            (
                with("1990-05-17", "1850-01-01"),
                "invalid_date",
                Some("customer.date_of_birth"),
            ),
            (with(r#""SE""#, r#""se""#), "invalid_country", Some("customer.country")),
            (with(r#""SE""#, r#""SWE""#), "invalid_country", Some("customer.country")),
            (
                with(r#""customer":{"#, r#""extra":1,"customer":{"#),
                "unknown_field",
                Some("extra"),
            ),
            (
                with(
                    r#"{"email":" Ada@Example.COM ","date_of_birth":"1990-05-17","country":"SE"}"#,
                    "[]",
                ),
                "invalid_type",
                Some("customer"),
            ),
        ];
        for (body, code, field) in cases {
            let error = parse_approval_request(body.as_bytes(), today()).unwrap_err();
            assert_eq!((error.code(), error.field().as_deref()), (code, field), "{body}");
            assert_eq!(error.status() / 100, 4, "{body}");
        }
        let huge = format!(r#"{{"session_token":"{}"}}"#, "x".repeat(MAX_BODY_BYTES));
        assert_eq!(
            parse_approval_request(huge.as_bytes(), today()).unwrap_err().code(),
            "body_too_large"
        );
    }

    #[test]
    fn idempotency_keys_and_content_types() {
        assert_eq!(check_idempotency_key(Some("abc-1")).unwrap(), "abc-1");
        for bad in [None, Some(""), Some("has space"), Some("é")] {
            let error = check_idempotency_key(bad).unwrap_err();
            assert_eq!(
                (error.status(), error.code(), error.field().as_deref()),
                (400, "invalid_idempotency_key", Some("Idempotency-Key"))
            );
        }
        assert!(check_idempotency_key(Some(&"k".repeat(256))).is_err());
        assert!(check_json_content_type(Some("application/json; charset=utf-8")).is_ok());
        let error = check_json_content_type(Some("text/plain")).unwrap_err();
        assert_eq!((error.status(), error.code()), (415, "unsupported_media_type"));
    }

    #[test]
    fn emails() {
        for good in ["a@b.co", "first.last+tag@sub.example.org", "x@xn--bcher-kva.example"] {
            assert!(is_email(good), "{good}");
        }
        for bad in [
            "", "@b.co", "a@", "a@b", "a@-b.co", "a@b..co", "a b@c.co", "a@b.co ", "a@@b.co",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    fn local(outcome: Outcome, reasons: Vec<ReasonCode>) -> Decision {
        Decision {
            outcome,
            score: 650,
            band: crate::decision::ScoreBand::B,
            reasons,
            contributions: vec![],
            credit_limit: 150_000,
            open_exposure: 0,
        }
    }

    #[test]
    fn upstream_answers_only_ever_make_a_decision_stricter() {
        let answered = |outcome, reasons: Vec<ReasonCode>| UpstreamVerdict::Answered { outcome, reasons };
        let failed = UpstreamVerdict::Failed {
            why: "timed out".into(),
        };
        let table: Vec<(Outcome, Option<UpstreamVerdict>, Outcome, Vec<ReasonCode>)> = vec![
            (Outcome::Approved, None, Outcome::Approved, vec![]),
            (
                Outcome::Approved,
                Some(answered(Outcome::Approved, vec![])),
                Outcome::Approved,
                vec![],
            ),
            (
                Outcome::Approved,
                Some(answered(Outcome::Declined, vec![ReasonCode::CreditLimit])),
                Outcome::Declined,
                vec![ReasonCode::CreditLimit],
            ),
            (
                Outcome::Approved,
                Some(answered(Outcome::Review, vec![])),
                Outcome::Review,
                vec![ReasonCode::NeedsReview],
            ),
            (
                Outcome::Approved,
                Some(failed.clone()),
                Outcome::Review,
                vec![ReasonCode::DecisionServiceUnavailable],
            ),
            (
                Outcome::Declined,
                Some(answered(Outcome::Approved, vec![])),
                Outcome::Declined,
                vec![ReasonCode::UnderAge],
            ),
            (
                Outcome::Declined,
                Some(failed),
                Outcome::Declined,
                vec![ReasonCode::UnderAge],
            ),
        ];
        for (mine, upstream, outcome, reasons) in table {
            let start = if mine == Outcome::Declined {
                vec![ReasonCode::UnderAge]
            } else {
                vec![]
            };
            let decided = apply_upstream(local(mine, start), upstream.as_ref());
            assert_eq!(
                (decided.outcome, decided.reasons),
                (outcome, reasons),
                "{mine:?} {upstream:?}"
            );
        }
    }

    #[test]
    fn upstream_answers_are_read_strictly() {
        assert_eq!(
            parse_upstream_answer(200, r#"{"decision":"declined","reasons":["credit_limit","made_up"]}"#),
            UpstreamVerdict::Answered {
                outcome: Outcome::Declined,
                reasons: vec![ReasonCode::CreditLimit]
            }
        );
        for (status, body) in [
            (200, "{}"),
            (200, "not json"),
            (200, r#"{"decision":"maybe"}"#),
            (503, ""),
        ] {
            assert!(
                matches!(parse_upstream_answer(status, body), UpstreamVerdict::Failed { .. }),
                "{status} {body}"
            );
        }
    }

    #[test]
    fn signing_keys_parse_newest_first() {
        let seed = URL_SAFE_NO_PAD.encode([7u8; 32]);
        let signers = signers_from_secret(&format!("new:{seed}, old:{seed}")).unwrap();
        let keys = jwks(&signers);
        let kids: Vec<&str> = keys.keys.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, ["new", "old"]);
        for bad in ["", "nokid", "k:short", "k:!!!"] {
            assert!(signers_from_secret(bad).is_err(), "{bad}");
            assert!(signer_from_secret(bad).is_err(), "{bad}");
        }
        let newest = signer_from_secret(&format!("new:{seed}, old:{seed}")).unwrap();
        assert_eq!(newest.jwk(), keys.keys[0]);
    }
}
