//! Orders (CONTRACT §5): what an approval becomes on the merchant's server. The request bodies,
//! the order's state and its transitions (capture, refund, void, expiry) with their limits, and
//! the change records the queue carries. Pure: the `OrderBook` Durable Object keeps the state
//! and runs these one request at a time.

use paylater_shared::Currency;
use paylater_shared::date::rfc3339_utc;
use paylater_shared::money::MAX_MINOR_UNITS;
use paylater_shared::order::{ChangeKind, HistoryEntry, Order, OrderStatus};
use paylater_shared::plan::Installment;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::EdgeError;
use crate::json_body::{object_body, string};
use crate::secret_keys::mode_name;

/// Longest `merchant_reference`.
pub const MAX_REFERENCE_CHARS: usize = 64;
/// Longest refund `reason`.
pub const MAX_REASON_CHARS: usize = 200;
/// Changes one order takes at most (captures, refunds, a void): a bound on its stored history.
pub const MAX_CHANGES: usize = 100;

/// The order id of an approval: one order per approval, so the id follows from it, and carries
/// the mode so a key of the other mode is told so before anything is looked up.
pub fn order_id_for(approval_id: &str, livemode: bool) -> String {
    let simple: String = approval_id.chars().filter(|c| *c != '-').collect();
    format!("ord_{}_{simple}", mode_name(livemode))
}

/// An order id from a path → (livemode, the approval id it was made from).
pub fn parse_order_id(order_id: &str) -> Result<(bool, String), EdgeError> {
    let (livemode, simple) = match (order_id.strip_prefix("ord_test_"), order_id.strip_prefix("ord_live_")) {
        (Some(rest), _) => (false, rest),
        (_, Some(rest)) => (true, rest),
        _ => return Err(EdgeError::InvalidOrderId),
    };
    if simple.len() != 32 || !simple.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(EdgeError::InvalidOrderId);
    }
    let uuid = format!(
        "{}-{}-{}-{}-{}",
        &simple[..8],
        &simple[8..12],
        &simple[12..16],
        &simple[16..20],
        &simple[20..]
    );
    Ok((livemode, uuid))
}

/// A merchant's own order reference: 1 to 64 visible ASCII characters but `@`, starting with a
/// letter or digit (it ends up in CSV files, where a leading `=` would be a formula, and in log
/// records, which never carry an e-mail address).
pub fn check_reference(reference: &str) -> Result<(), EdgeError> {
    let ok = !reference.is_empty()
        && reference.len() <= MAX_REFERENCE_CHARS
        && reference.bytes().all(|b| b.is_ascii_graphic() && b != b'@')
        && reference.as_bytes()[0].is_ascii_alphanumeric();
    if ok { Ok(()) } else { Err(EdgeError::InvalidReference) }
}

/// `amount`: a whole number of minor units, 1 or more.
fn required_amount(map: &Map<String, Value>) -> Result<u64, EdgeError> {
    let value = map.get("amount").ok_or(EdgeError::Missing { field: "amount" })?;
    let amount = crate::json_body::whole_number(value).ok_or(EdgeError::InvalidType {
        field: "amount",
        expected: "a whole number of minor units",
    })?;
    if amount == 0 || amount > MAX_MINOR_UNITS {
        return Err(EdgeError::InvalidType {
            field: "amount",
            expected: "a whole number of minor units from 1 to 1000000000000",
        });
    }
    Ok(amount)
}

/// `POST /v1/orders`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateOrderRequest {
    pub approval_token: String,
    pub merchant_reference: String,
}

pub fn parse_create(body: &[u8]) -> Result<CreateOrderRequest, EdgeError> {
    let map = object_body(body, &["approval_token", "merchant_reference"])?;
    let approval_token = string(&map, "approval_token", "approval_token")?.to_owned();
    let merchant_reference = string(&map, "merchant_reference", "merchant_reference")?.to_owned();
    check_reference(&merchant_reference)?;
    Ok(CreateOrderRequest {
        approval_token,
        merchant_reference,
    })
}

/// A change the merchant's server asks for. Internally tagged, and kept so: its JSON is what an
/// `Idempotency-Key`'s fingerprint hashes, and books store those fingerprints for the order's
/// life (a new shape would turn every retry of an earlier change into a conflict).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum ChangeRequest {
    Capture { amount: u64 },
    Refund { amount: u64, reason: Option<String> },
    Void,
}

pub fn parse_capture(body: &[u8]) -> Result<ChangeRequest, EdgeError> {
    let map = object_body(body, &["amount"])?;
    Ok(ChangeRequest::Capture {
        amount: required_amount(&map)?,
    })
}

pub fn parse_refund(body: &[u8]) -> Result<ChangeRequest, EdgeError> {
    let map = object_body(body, &["amount", "reason"])?;
    let amount = required_amount(&map)?;
    let reason = match map.get("reason") {
        None | Some(Value::Null) => None,
        Some(Value::String(text))
            if !text.trim().is_empty()
                && text.chars().count() <= MAX_REASON_CHARS
                && !text.chars().any(char::is_control) =>
        {
            Some(text.clone())
        }
        Some(_) => {
            return Err(EdgeError::InvalidType {
                field: "reason",
                expected: "a text of 1 to 200 characters without control characters",
            });
        }
    };
    Ok(ChangeRequest::Refund { amount, reason })
}

/// A void takes no body, or an empty JSON object.
pub fn parse_void(body: &[u8]) -> Result<ChangeRequest, EdgeError> {
    if !body.iter().all(u8::is_ascii_whitespace) {
        object_body(body, &[])?;
    }
    Ok(ChangeRequest::Void)
}

/// What the approval left for its order, registered when the approval was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub approval_id: String,
    pub merchant_id: String,
    pub livemode: bool,
    pub session_id: String,
    /// The customer's ledger object (its holds follow the order).
    pub ledger: String,
    pub amount: u64,
    pub currency: Currency,
    pub plan_id: String,
    pub schedule: Vec<Installment>,
    pub approved_at_ms: i64,
    pub token_expires_at_ms: i64,
    pub capture_window_ms: i64,
}

/// One change as stored in the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub at_ms: i64,
    pub kind: ChangeKind,
    pub amount: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An order's state: its changes. Totals and status are derived from them, so an earlier
/// state (for an idempotent replay) is just fewer changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderState {
    pub order_id: String,
    pub merchant_reference: String,
    /// The approved amount.
    pub amount: u64,
    pub created_at_ms: i64,
    pub capture_before_ms: i64,
    pub changes: Vec<Change>,
}

impl Change {
    fn new(kind: ChangeKind, amount: u64, at_ms: i64) -> Self {
        Self {
            at_ms,
            kind,
            amount,
            reason: None,
        }
    }
}

impl OrderState {
    pub fn new(registration: &Registration, order_id: String, merchant_reference: String, now_ms: i64) -> Self {
        Self {
            order_id,
            merchant_reference,
            amount: registration.amount,
            created_at_ms: now_ms,
            capture_before_ms: now_ms.saturating_add(registration.capture_window_ms),
            changes: vec![Change::new(ChangeKind::OrderCreated, registration.amount, now_ms)],
        }
    }

    fn total(&self, kinds: &[ChangeKind]) -> u64 {
        self.changes
            .iter()
            .filter(|c| kinds.contains(&c.kind))
            .map(|c| c.amount)
            .sum()
    }

    pub fn captured(&self) -> u64 {
        self.total(&[ChangeKind::Captured])
    }

    pub fn refunded(&self) -> u64 {
        self.total(&[ChangeKind::Refunded])
    }

    /// Released without capture: voided or expired.
    pub fn released(&self) -> u64 {
        self.total(&[ChangeKind::Voided, ChangeKind::Expired])
    }

    /// What can still be captured.
    pub fn capturable(&self) -> u64 {
        self.amount
            .saturating_sub(self.captured())
            .saturating_sub(self.released())
    }

    /// What the customer's ledger holds for this order: authorized or captured, not refunded,
    /// not released.
    pub fn held(&self) -> u64 {
        self.amount
            .saturating_sub(self.released())
            .saturating_sub(self.refunded())
    }

    pub fn status(&self) -> OrderStatus {
        let (captured, refunded) = (self.captured(), self.refunded());
        if refunded > 0 {
            return if refunded == captured && self.capturable() == 0 {
                OrderStatus::Refunded
            } else {
                OrderStatus::PartiallyRefunded
            };
        }
        if captured == 0 {
            return match self.changes.last().map(|c| c.kind) {
                Some(ChangeKind::Expired) => OrderStatus::Expired,
                Some(ChangeKind::Voided) => OrderStatus::Voided,
                _ => OrderStatus::Authorized,
            };
        }
        // Captured in part, the rest voided or expired: what was taken is final.
        if self.capturable() == 0 {
            OrderStatus::Captured
        } else {
            OrderStatus::PartiallyCaptured
        }
    }

    /// Applies a change at `now_ms` (after `capture_before`, captures are refused: the alarm
    /// expires the rest). Returns the change made.
    pub fn apply(&mut self, request: &ChangeRequest, now_ms: i64) -> Result<Change, BookRefusal> {
        if self.changes.len() >= MAX_CHANGES {
            return Err(BookRefusal::TooManyChanges);
        }
        let invalid = BookRefusal::InvalidState { status: self.status() };
        let change = match request {
            ChangeRequest::Capture { amount } => {
                // A refund of what was captured leaves the uncaptured rest capturable.
                let available = self.capturable();
                if available == 0 || now_ms >= self.capture_before_ms {
                    return Err(invalid);
                }
                if *amount > available {
                    return Err(BookRefusal::Exceeds {
                        refund: false,
                        available,
                    });
                }
                Change::new(ChangeKind::Captured, *amount, now_ms)
            }
            ChangeRequest::Refund { amount, reason } => {
                if self.captured() == 0 {
                    return Err(invalid);
                }
                let available = self.captured() - self.refunded();
                if *amount > available {
                    return Err(BookRefusal::Exceeds {
                        refund: true,
                        available,
                    });
                }
                Change {
                    reason: reason.clone(),
                    ..Change::new(ChangeKind::Refunded, *amount, now_ms)
                }
            }
            ChangeRequest::Void => match self.capturable() {
                0 => return Err(invalid),
                rest => Change::new(ChangeKind::Voided, rest, now_ms),
            },
        };
        self.changes.push(change.clone());
        Ok(change)
    }

    /// Releases the uncaptured rest once `capture_before` has passed; `None` when nothing is
    /// left to release (fully captured, voided, already expired) or it is not time yet.
    pub fn expire(&mut self, now_ms: i64) -> Option<Change> {
        let rest = self.capturable();
        if now_ms < self.capture_before_ms || rest == 0 {
            return None;
        }
        let change = Change::new(ChangeKind::Expired, rest, now_ms);
        self.changes.push(change.clone());
        Some(change)
    }

    /// The order as it stood after its first `changes` changes (an idempotent replay answers
    /// with what the first request got).
    pub fn as_of(&self, changes: usize) -> Self {
        let mut past = self.clone();
        past.changes.truncate(changes.max(1));
        past
    }

    /// The order as the API shows it.
    pub fn view(&self, registration: &Registration) -> Order {
        let at = |ms: i64| rfc3339_millis(ms);
        Order {
            order_id: self.order_id.clone(),
            approval_id: registration.approval_id.clone(),
            merchant_reference: self.merchant_reference.clone(),
            status: self.status(),
            livemode: registration.livemode,
            amount: self.amount,
            currency: registration.currency,
            plan_id: registration.plan_id.clone(),
            schedule: registration.schedule.clone(),
            captured: self.captured(),
            refunded: self.refunded(),
            capture_before: at(self.capture_before_ms),
            created_at: at(self.created_at_ms),
            history: self
                .changes
                .iter()
                .map(|c| HistoryEntry {
                    at: at(c.at_ms),
                    kind: c.kind,
                    amount: c.amount,
                    reason: c.reason.clone(),
                })
                .collect(),
        }
    }
}

/// What the worker and the order's alarm ask of an `OrderBook`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookRequest {
    /// From the approval's session, right after the decision.
    Register(Box<Registration>),
    Create {
        merchant_id: String,
        merchant_reference: String,
        now_ms: i64,
    },
    Change {
        merchant_id: String,
        change: ChangeRequest,
        idempotency_key: String,
        fingerprint: String,
        now_ms: i64,
    },
    Get {
        merchant_id: String,
    },
}

/// An `OrderBook`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookAnswer {
    Registered,
    Order {
        order: Box<Order>,
        /// The answer of an earlier request with the same key (or reference).
        replayed: bool,
    },
    Refused {
        refusal: BookRefusal,
    },
}

/// Why an `OrderBook` refused, as it crosses from the object to the worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookRefusal {
    NotFound,
    WrongMerchant,
    ApprovalExpired,
    OrderExists { order_id: String },
    Exceeds { refund: bool, available: u64 },
    InvalidState { status: OrderStatus },
    TooManyChanges,
    IdempotencyConflict,
    Unavailable { detail: String },
}

impl From<BookRefusal> for EdgeError {
    fn from(refusal: BookRefusal) -> Self {
        match refusal {
            BookRefusal::NotFound => EdgeError::OrderNotFound,
            BookRefusal::WrongMerchant => EdgeError::WrongMerchant { what: "order_id" },
            BookRefusal::ApprovalExpired => EdgeError::ApprovalExpired,
            BookRefusal::OrderExists { order_id } => EdgeError::OrderExists { order_id },
            BookRefusal::Exceeds { refund, available } => EdgeError::AmountExceeds {
                what: if refund { "refund" } else { "capture" },
                available,
            },
            BookRefusal::InvalidState { status } => EdgeError::InvalidOrderState {
                status: status.as_str(),
            },
            BookRefusal::TooManyChanges => EdgeError::TooManyChanges,
            BookRefusal::IdempotencyConflict => EdgeError::IdempotencyConflict,
            BookRefusal::Unavailable { detail } => EdgeError::EnqueueFailed { detail },
        }
    }
}

/// An `OrderBook`'s stored state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Book {
    pub registration: Option<Registration>,
    pub order: Option<OrderState>,
    /// `(Idempotency-Key, fingerprint, changes after it)` of each change made (at most
    /// [`MAX_CHANGES`], as changes are).
    pub keys: Vec<(String, String, usize)>,
    /// A change stored with the book but not yet sent to the queue and the customer's ledger.
    /// It is sent before anything else happens to the order, so the order, the log and the
    /// hold never disagree for longer than a failure lasts.
    pub outbox: Option<Outbox>,
    /// The approval's hold was released because it never became an order.
    pub released_unordered: bool,
}

/// What a change still owes the world: its record, and the hold the ledger must keep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outbox {
    pub record: QueuedChange,
    pub held: u64,
}

/// A request's outcome inside a `Book`, before anything is stored or sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Answer with this order as it is (a replay); nothing changes.
    Existing { order: Box<Order> },
    /// A new change, in the book's outbox: store the book, then send it.
    Changed { order: Box<Order> },
}

/// How long after an approval token's expiry its book looks whether it became an order.
pub const UNORDERED_GRACE_MS: i64 = 30_000;

/// The registration, if `merchant_id`'s (a free function, so a book's other fields stay free to
/// borrow mutably beside it).
fn registration_of<'a>(
    registration: &'a Option<Registration>,
    merchant_id: &str,
) -> Result<&'a Registration, BookRefusal> {
    let registration = registration.as_ref().ok_or(BookRefusal::NotFound)?;
    if registration.merchant_id != merchant_id {
        return Err(BookRefusal::WrongMerchant);
    }
    Ok(registration)
}

impl Book {
    /// Puts the order's newest change in the outbox.
    fn changed(registration: &Registration, order: &OrderState, outbox: &mut Option<Outbox>) -> Step {
        *outbox = Some(Outbox {
            record: QueuedChange::of_last_change(registration, order),
            held: order.held(),
        });
        Step::Changed {
            order: Box::new(order.view(registration)),
        }
    }

    fn registration_for(&self, merchant_id: &str) -> Result<&Registration, BookRefusal> {
        registration_of(&self.registration, merchant_id)
    }

    /// `POST /v1/orders` up to the ledger's say: `Ok(None)` means a new order may be made (ask
    /// the ledger to keep the hold, then [`Book::create`]).
    pub fn check_create(&self, merchant_id: &str, reference: &str) -> Result<Option<Order>, BookRefusal> {
        let registration = self.registration_for(merchant_id)?;
        match &self.order {
            Some(order) if order.merchant_reference == reference => Ok(Some(order.view(registration))),
            Some(order) => Err(BookRefusal::OrderExists {
                order_id: order.order_id.clone(),
            }),
            None => Ok(None),
        }
    }

    /// Makes the order (after [`Book::check_create`] and the ledger agreed).
    pub fn create(&mut self, reference: &str, now_ms: i64) -> Result<Step, BookRefusal> {
        let registration = self.registration.as_ref().ok_or(BookRefusal::NotFound)?;
        let order_id = order_id_for(&registration.approval_id, registration.livemode);
        let order = OrderState::new(registration, order_id, reference.to_owned(), now_ms);
        let step = Self::changed(registration, &order, &mut self.outbox);
        self.order = Some(order);
        Ok(step)
    }

    /// A capture, refund or void with its `Idempotency-Key`.
    pub fn change(
        &mut self,
        merchant_id: &str,
        request: &ChangeRequest,
        key: &str,
        fingerprint: &str,
        now_ms: i64,
    ) -> Result<Step, BookRefusal> {
        let registration = registration_of(&self.registration, merchant_id)?;
        let order = self.order.as_mut().ok_or(BookRefusal::NotFound)?;
        if let Some((_, seen, changes)) = self.keys.iter().find(|(k, _, _)| k == key) {
            if seen != fingerprint {
                return Err(BookRefusal::IdempotencyConflict);
            }
            return Ok(Step::Existing {
                order: Box::new(order.as_of(*changes).view(registration)),
            });
        }
        order.apply(request, now_ms)?;
        self.keys
            .push((key.to_owned(), fingerprint.to_owned(), order.changes.len()));
        Ok(Self::changed(registration, order, &mut self.outbox))
    }

    /// The alarm: the uncaptured rest expires once `capture_before` has passed. True when
    /// something changed (and waits in the outbox).
    pub fn expire(&mut self, now_ms: i64) -> bool {
        let (Some(registration), Some(order)) = (self.registration.as_ref(), self.order.as_mut()) else {
            return false;
        };
        if order.expire(now_ms).is_none() {
            return false;
        }
        Self::changed(registration, order, &mut self.outbox);
        true
    }

    /// The alarm: an approval that is no order once its token has expired holds nothing (also
    /// when an order's creation was cut off after the ledger agreed to it). Its release record
    /// has the id the customer's ledger gives it, so one of them counts. True when released now.
    pub fn release_unordered(&mut self, now_ms: i64) -> bool {
        let Some(registration) = self.registration.as_ref() else {
            return false;
        };
        if self.order.is_some() || self.released_unordered || now_ms < registration.token_expires_at_ms {
            return false;
        }
        self.outbox = Some(Outbox {
            record: crate::ledger::PendingApproval::of(registration).expiry_record(),
            held: 0,
        });
        self.released_unordered = true;
        true
    }

    /// When the book must wake next: soon while its outbox waits, after the token's expiry while
    /// the approval may still be released, at `capture_before` while something is capturable.
    pub fn next_alarm_ms(&self, now_ms: i64) -> Option<i64> {
        if self.outbox.is_some() {
            return Some(now_ms + UNORDERED_GRACE_MS);
        }
        match (&self.registration, &self.order) {
            (Some(registration), None) if !self.released_unordered => {
                Some(registration.token_expires_at_ms + UNORDERED_GRACE_MS)
            }
            (_, Some(order)) if order.capturable() > 0 => Some(order.capture_before_ms),
            _ => None,
        }
    }

    pub fn view(&self, merchant_id: &str) -> Result<Order, BookRefusal> {
        let registration = self.registration_for(merchant_id)?;
        let order = self.order.as_ref().ok_or(BookRefusal::NotFound)?;
        Ok(order.view(registration))
    }
}

/// RFC 3339 UTC with milliseconds, e.g. `2026-11-29T10:00:00.123Z`.
pub fn rfc3339_millis(ms: i64) -> String {
    let seconds = rfc3339_utc(ms.div_euclid(1000)).unwrap_or_default();
    match seconds.strip_suffix('Z') {
        Some(prefix) => format!("{prefix}.{:03}Z", ms.rem_euclid(1000)),
        None => seconds,
    }
}

/// One change of an approval's or order's life as the events queue carries it to the consumer:
/// the log record (CONTRACT §5) and the reconciliation ledger's row. No personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueuedChange {
    /// Stable per change (`{order or approval id}:{kind}:{n}`), so a retried hand-off or a
    /// redelivered batch is recognised and counted once.
    pub change_id: String,
    pub kind: ChangeKind,
    pub merchant_id: String,
    pub livemode: bool,
    pub session_id: String,
    pub approval_id: String,
    /// Empty for an approval that has no order.
    pub order_id: String,
    pub merchant_reference: String,
    /// What the change moved.
    pub amount: u64,
    pub currency: Currency,
    /// The order's (or approval's) whole amount.
    pub order_amount: u64,
    pub plan_id: String,
    pub at_ms: i64,
}

impl QueuedChange {
    /// The record of the order's newest change (the `n`-th: its id says so).
    pub fn of_last_change(registration: &Registration, order: &OrderState) -> Self {
        let index = order.changes.len().saturating_sub(1);
        let change = &order.changes[index];
        Self {
            change_id: format!("{}:{}:{index}", order.order_id, change.kind.as_str()),
            kind: change.kind,
            merchant_id: registration.merchant_id.clone(),
            livemode: registration.livemode,
            session_id: registration.session_id.clone(),
            approval_id: registration.approval_id.clone(),
            order_id: order.order_id.clone(),
            merchant_reference: order.merchant_reference.clone(),
            amount: change.amount,
            currency: registration.currency,
            order_amount: order.amount,
            plan_id: registration.plan_id.clone(),
            at_ms: change.at_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_body::fingerprint;

    #[test]
    fn a_change_request_keeps_the_json_its_stored_fingerprints_hash() {
        let shapes = [
            (
                ChangeRequest::Capture { amount: 500 },
                r#"{"action":"capture","amount":500}"#,
            ),
            (ChangeRequest::Void, r#"{"action":"void"}"#),
        ];
        for (request, json) in shapes {
            assert_eq!(serde_json::to_string(&request).unwrap(), json);
        }
    }

    const AMOUNT: u64 = 12_999;
    const T0: i64 = 1_795_420_800_000;
    const WINDOW: i64 = 28 * 86_400_000;

    fn registration() -> Registration {
        Registration {
            approval_id: "0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e10".into(),
            merchant_id: "m_nordic_outdoor".into(),
            livemode: false,
            session_id: "s1".into(),
            ledger: "test:abc".into(),
            amount: AMOUNT,
            currency: Currency::parse("USD").unwrap(),
            plan_id: "pay_in_4".into(),
            schedule: Vec::new(),
            approved_at_ms: T0,
            token_expires_at_ms: T0 + 900_000,
            capture_window_ms: WINDOW,
        }
    }

    fn order() -> OrderState {
        let r = registration();
        OrderState::new(&r, order_id_for(&r.approval_id, false), "A-1".into(), T0)
    }

    fn capture(amount: u64) -> ChangeRequest {
        ChangeRequest::Capture { amount }
    }

    fn refund(amount: u64) -> ChangeRequest {
        ChangeRequest::Refund { amount, reason: None }
    }

    #[test]
    fn order_ids_carry_the_mode_and_lead_back_to_the_approval() {
        let id = order_id_for("0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e10", true);
        assert_eq!(id, "ord_live_0190d2c46b7a7cc29a1e3f6b2a9d4e10");
        assert_eq!(
            parse_order_id(&id),
            Ok((true, "0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e10".into()))
        );
        for bad in [
            "",
            "ord_test_",
            "ord_prod_0190d2c46b7a7cc29a1e3f6b2a9d4e10",
            "ord_test_0190D2C46B7A7CC29A1E3F6B2A9D4E10",
            "ord_test_0190d2c46b7a7cc29a1e3f6b2a9d4e1",
            "ord_test_0190d2c46b7a7cc29a1e3f6b2a9d4e10x",
            "ord_test_../../0190d2c46b7a7cc29a1e3f6b2",
        ] {
            assert_eq!(parse_order_id(bad), Err(EdgeError::InvalidOrderId), "{bad}");
        }
    }

    #[test]
    fn the_whole_life_keeps_exact_totals_and_holds() {
        let mut order = order();
        assert_eq!((order.status(), order.held()), (OrderStatus::Authorized, AMOUNT));
        order.apply(&capture(5_000), T0 + 1).unwrap();
        assert_eq!(
            (order.status(), order.captured(), order.held()),
            (OrderStatus::PartiallyCaptured, 5_000, AMOUNT)
        );
        assert_eq!(
            order.apply(&capture(7_999 + 1), T0 + 2),
            Err(BookRefusal::Exceeds {
                refund: false,
                available: 7_999
            })
        );
        order.apply(&capture(7_999), T0 + 3).unwrap();
        assert_eq!((order.status(), order.captured()), (OrderStatus::Captured, AMOUNT));
        assert_eq!(
            order.apply(&capture(1), T0 + 4),
            Err(BookRefusal::InvalidState {
                status: OrderStatus::Captured
            })
        );
        order.apply(&refund(2_000), T0 + 5).unwrap();
        assert_eq!(
            (order.status(), order.refunded(), order.held()),
            (OrderStatus::PartiallyRefunded, 2_000, 10_999)
        );
        assert_eq!(
            order.apply(&refund(10_999 + 1), T0 + 6),
            Err(BookRefusal::Exceeds {
                refund: true,
                available: 10_999
            })
        );
        order.apply(&refund(10_999), T0 + 7).unwrap();
        assert_eq!((order.status(), order.held()), (OrderStatus::Refunded, 0));
        assert_eq!(
            order.apply(&ChangeRequest::Void, T0 + 8),
            Err(BookRefusal::InvalidState {
                status: OrderStatus::Refunded
            })
        );
        let kinds: Vec<ChangeKind> = order.changes.iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            [
                ChangeKind::OrderCreated,
                ChangeKind::Captured,
                ChangeKind::Captured,
                ChangeKind::Refunded,
                ChangeKind::Refunded
            ]
        );
    }

    #[test]
    fn voids_and_expiry_release_only_the_uncaptured_rest() {
        let mut voided = order();
        assert_eq!(
            voided.apply(&refund(1), T0 + 1),
            Err(BookRefusal::InvalidState {
                status: OrderStatus::Authorized
            })
        );
        let change = voided.apply(&ChangeRequest::Void, T0 + 1).unwrap();
        assert_eq!(
            (change.amount, voided.status(), voided.held()),
            (AMOUNT, OrderStatus::Voided, 0)
        );
        assert_eq!(voided.expire(T0 + WINDOW), None);

        let mut partly = order();
        partly.apply(&capture(3_000), T0 + 1).unwrap();
        assert_eq!(partly.expire(T0 + WINDOW - 1), None, "not yet");
        assert_eq!(
            partly.apply(&capture(1), T0 + WINDOW),
            Err(BookRefusal::InvalidState {
                status: OrderStatus::PartiallyCaptured
            }),
            "capture_before has passed"
        );
        let expired = partly.expire(T0 + WINDOW).unwrap();
        assert_eq!(
            (expired.amount, partly.status(), partly.held()),
            (9_999, OrderStatus::Captured, 3_000)
        );
        assert_eq!(partly.expire(T0 + WINDOW + 1), None, "once");

        let mut untouched = order();
        untouched.expire(T0 + WINDOW).unwrap();
        assert_eq!((untouched.status(), untouched.held()), (OrderStatus::Expired, 0));

        let mut part_void = order();
        part_void.apply(&capture(4_000), T0 + 1).unwrap();
        part_void.apply(&ChangeRequest::Void, T0 + 2).unwrap();
        assert_eq!((part_void.status(), part_void.held()), (OrderStatus::Captured, 4_000));
        part_void.apply(&refund(4_000), T0 + 3).unwrap();
        assert_eq!((part_void.status(), part_void.held()), (OrderStatus::Refunded, 0));
    }

    #[test]
    fn a_refund_leaves_the_uncaptured_rest_capturable_voidable_and_expirable() {
        let mut order = order();
        order.apply(&capture(5_000), T0 + 1).unwrap();
        order.apply(&refund(1_000), T0 + 2).unwrap();
        assert_eq!((order.status(), order.held()), (OrderStatus::PartiallyRefunded, 11_999));
        order.apply(&capture(2_000), T0 + 3).unwrap();
        assert_eq!(
            (order.captured(), order.status()),
            (7_000, OrderStatus::PartiallyRefunded)
        );
        let mut voided = order.clone();
        let void = voided.apply(&ChangeRequest::Void, T0 + 4).unwrap();
        assert_eq!((void.amount, voided.held()), (5_999, 6_000));
        let expired = order.expire(T0 + WINDOW).unwrap();
        assert_eq!(
            (expired.amount, order.status(), order.held()),
            (5_999, OrderStatus::PartiallyRefunded, 6_000)
        );
        order.apply(&refund(6_000), T0 + WINDOW + 1).unwrap();
        assert_eq!((order.status(), order.held()), (OrderStatus::Refunded, 0));
    }

    #[test]
    fn an_order_takes_a_bounded_number_of_changes() {
        let mut order = order();
        for i in 1..MAX_CHANGES {
            order.apply(&capture(1), T0 + i as i64).unwrap();
        }
        assert_eq!(order.apply(&capture(1), T0 + 1_000), Err(BookRefusal::TooManyChanges));
    }

    #[test]
    fn bad_bodies_are_refused_with_code_and_field() {
        type Parser = fn(&[u8]) -> Result<ChangeRequest, EdgeError>;
        let cases: [(&str, Parser, &str, Option<&str>); 12] = [
            ("{", parse_capture, "invalid_json", None),
            ("[]", parse_capture, "invalid_json", None),
            ("{}", parse_capture, "missing_parameter", Some("amount")),
            (r#"{"amount":"100"}"#, parse_capture, "invalid_type", Some("amount")),
            (r#"{"amount":0}"#, parse_capture, "invalid_type", Some("amount")),
            (r#"{"amount":-5}"#, parse_capture, "invalid_type", Some("amount")),
            (r#"{"amount":1.5}"#, parse_capture, "invalid_type", Some("amount")),
            (
                r#"{"amount":1000000000001}"#,
                parse_capture,
                "invalid_type",
                Some("amount"),
            ),
            (
                r#"{"amount":1,"currency":"USD"}"#,
                parse_capture,
                "unknown_field",
                Some("currency"),
            ),
            (
                r#"{"amount":1,"reason":""}"#,
                parse_refund,
                "invalid_type",
                Some("reason"),
            ),
            (
                r#"{"amount":1,"reason":"a\u0000b"}"#,
                parse_refund,
                "invalid_type",
                Some("reason"),
            ),
            (r#"{"why":1}"#, parse_void, "unknown_field", Some("why")),
        ];
        for (body, parse, code, field) in cases {
            let error = parse(body.as_bytes()).unwrap_err();
            assert_eq!((error.code(), error.field().as_deref()), (code, field), "{body}");
        }
        assert_eq!(parse_void(b""), Ok(ChangeRequest::Void));
        assert_eq!(parse_void(b" {} "), Ok(ChangeRequest::Void));
        assert_eq!(
            parse_refund(br#"{"amount":5,"reason":"returned"}"#),
            Ok(ChangeRequest::Refund {
                amount: 5,
                reason: Some("returned".into())
            })
        );
        let creates = [
            (
                r#"{"merchant_reference":"A-1"}"#,
                "missing_parameter",
                Some("approval_token"),
            ),
            (
                r#"{"approval_token":"t"}"#,
                "missing_parameter",
                Some("merchant_reference"),
            ),
            (
                r#"{"approval_token":"t","merchant_reference":""}"#,
                "invalid_reference",
                Some("merchant_reference"),
            ),
            (
                r#"{"approval_token":"t","merchant_reference":"=cmd"}"#,
                "invalid_reference",
                Some("merchant_reference"),
            ),
            (
                r#"{"approval_token":"t","merchant_reference":"a b"}"#,
                "invalid_reference",
                Some("merchant_reference"),
            ),
            (
                r#"{"approval_token":"t","merchant_reference":"jane@example.com"}"#,
                "invalid_reference",
                Some("merchant_reference"),
            ),
            (
                r#"{"approval_token":1,"merchant_reference":"A"}"#,
                "invalid_type",
                Some("approval_token"),
            ),
        ];
        for (body, code, field) in creates {
            let error = parse_create(body.as_bytes()).unwrap_err();
            assert_eq!((error.code(), error.field().as_deref()), (code, field), "{body}");
        }
        assert_eq!(
            parse_create(format!(r#"{{"approval_token":"t","merchant_reference":"{}"}}"#, "x".repeat(65)).as_bytes())
                .unwrap_err()
                .code(),
            "invalid_reference"
        );
    }

    #[test]
    fn a_book_makes_one_order_per_approval_and_replays_by_key() {
        let mut book = Book {
            registration: Some(registration()),
            ..Book::default()
        };
        assert_eq!(book.check_create("m_other", "A-1"), Err(BookRefusal::WrongMerchant));
        assert_eq!(book.check_create("m_nordic_outdoor", "A-1"), Ok(None));
        assert!(matches!(book.create("A-1", T0), Ok(Step::Changed { .. })));
        let Outbox { record, held } = book.outbox.take().unwrap();
        assert_eq!(
            (record.change_id.as_str(), record.kind, held),
            (
                "ord_test_0190d2c46b7a7cc29a1e3f6b2a9d4e10:order_created:0",
                ChangeKind::OrderCreated,
                AMOUNT
            )
        );
        let again = book.check_create("m_nordic_outdoor", "A-1").unwrap().unwrap();
        assert_eq!(
            (again.status, again.merchant_reference.as_str()),
            (OrderStatus::Authorized, "A-1")
        );
        assert_eq!(
            book.check_create("m_nordic_outdoor", "A-2"),
            Err(BookRefusal::OrderExists {
                order_id: "ord_test_0190d2c46b7a7cc29a1e3f6b2a9d4e10".into()
            })
        );

        let first = capture(5_000);
        let print = fingerprint(&first);
        let Step::Changed { order } = book.change("m_nordic_outdoor", &first, "k1", &print, T0 + 1).unwrap() else {
            panic!("a capture is a change")
        };
        let Outbox { record, held } = book.outbox.take().unwrap();
        assert_eq!(
            (order.captured, record.change_id.ends_with(":captured:1"), held),
            (5_000, true, AMOUNT)
        );
        book.change(
            "m_nordic_outdoor",
            &ChangeRequest::Void,
            "k2",
            &fingerprint(&ChangeRequest::Void),
            T0 + 2,
        )
        .unwrap();
        // The first key again: the answer it got then (partially captured), not today's state.
        let Step::Existing { order } = book.change("m_nordic_outdoor", &first, "k1", &print, T0 + 3).unwrap() else {
            panic!("a replay changes nothing")
        };
        assert_eq!((order.status, order.history.len()), (OrderStatus::PartiallyCaptured, 2));
        assert_eq!(
            book.change("m_nordic_outdoor", &capture(1), "k1", &fingerprint(&capture(1)), T0 + 3),
            Err(BookRefusal::IdempotencyConflict)
        );
        assert_eq!(
            book.change("m_nordic_outdoor", &capture(1), "k3", &fingerprint(&capture(1)), T0 + 3),
            Err(BookRefusal::InvalidState {
                status: OrderStatus::Captured
            })
        );
        assert_eq!(book.view("m_nordic_outdoor").unwrap().status, OrderStatus::Captured);
        assert_eq!(Book::default().view("m_nordic_outdoor"), Err(BookRefusal::NotFound));
    }

    #[test]
    fn a_book_wakes_to_release_an_unordered_approval_or_expire_its_order() {
        let registration = registration();
        let expires = registration.token_expires_at_ms;
        let mut unordered = Book {
            registration: Some(registration.clone()),
            ..Book::default()
        };
        assert_eq!(unordered.next_alarm_ms(T0), Some(expires + UNORDERED_GRACE_MS));
        assert!(!unordered.release_unordered(expires - 1), "not yet");
        assert!(unordered.release_unordered(expires));
        let Outbox { record, held } = unordered.outbox.clone().unwrap();
        assert_eq!(
            (record.change_id.as_str(), record.kind, held),
            (
                "0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e10:approval_expired:0",
                ChangeKind::ApprovalExpired,
                0
            )
        );
        assert_eq!(
            unordered.next_alarm_ms(expires),
            Some(expires + UNORDERED_GRACE_MS),
            "the outbox waits"
        );
        unordered.outbox = None;
        assert!(!unordered.release_unordered(expires + 1), "once");
        assert_eq!(unordered.next_alarm_ms(expires), None);

        let mut ordered = Book {
            registration: Some(registration),
            ..Book::default()
        };
        ordered.create("A-1", T0).unwrap();
        ordered.outbox = None;
        assert!(!ordered.release_unordered(expires), "an order keeps its hold");
        assert_eq!(ordered.next_alarm_ms(T0), Some(T0 + WINDOW));
        assert!(!ordered.expire(T0 + WINDOW - 1));
        assert!(ordered.expire(T0 + WINDOW));
        assert_eq!(
            ordered.outbox.as_ref().map(|o| (o.record.kind, o.held)),
            Some((ChangeKind::Expired, 0))
        );
        ordered.outbox = None;
        assert_eq!(ordered.next_alarm_ms(T0 + WINDOW), None, "nothing left to capture");
    }

    #[test]
    fn times_have_milliseconds() {
        assert_eq!(rfc3339_millis(T0 + 7), "2026-11-23T08:00:00.007Z");
    }
}
