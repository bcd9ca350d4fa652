//! The Workers runtime boundary: turns a `worker::Request` into calls of the pure modules, looks
//! up bindings, and writes the access log. Kept thin on purpose.

use std::cell::RefCell;
use std::collections::HashMap;

use paylater_shared::CivilDate;
use paylater_shared::token::{ApprovalSigner, SessionClaims, SessionKeyring, TokenError};
use wasm_bindgen::prelude::wasm_bindgen;
use worker::{Context, Date, Env, Headers, MessageBuilder, QueueContentType, Request, Response, console_log, event};

use crate::anomaly::{Anomaly, AnomalyQuery, Metric, RefusalTally};
use crate::anomaly_watch::{self, ListRequest, ObserveRequest, paths as anomaly_paths, watch_name};
use crate::approvals::{self, ApproveOutcome, ApproveRequest, AttemptLimit, DecideRequest};
use crate::audit::{self, AuditQuery, DigestList, Listed, ObjectList};
use crate::auth::{admin_token_matches, check_key_format, check_origin, merchant_from_store, merchant_kv_key};
use crate::bindings::{
    ADMIN_TOKEN, APPROVAL_SIGNING_KEYS, ARCHIVE, CLIENT_LIMITER, CUSTOMER_HASH_KEY, CUSTOMER_LEDGER, EVENTS_QUEUE,
    MERCHANTS_KV, SESSION_GUARD, SESSION_KEYS,
};
use crate::bindings::{ANOMALY_WATCH, LEDGER_DB, ORDER_BOOK};
use crate::checkout::{self, CheckoutQuery};
use crate::dead_letters::{self, ReplayError};
use crate::decision::SessionSignals;
use crate::error::EdgeError;
use crate::events::{self, AdmitAnswer, AdmitRequest, LimitAnswer, LimitRequest};
use crate::forward::{archive_day_prefix, dead_letter_prefix, mode_name, refused_prefix};
use crate::handlers;
use crate::headers::{DENY_FRAMING, SECURITY_HEADERS, cors_for_checked_origin, preflight};
use crate::ingest::UaClass;
use crate::insights::{self, CountRow, FunnelQuery};
use crate::json_body;
use crate::ledger;
use crate::log_record::customer_id_hash;
use crate::logs::LogsQuery;
use crate::merchant::{MerchantConfig, Scope};
use crate::objects;
use crate::openapi::OPENAPI_JSON;
use crate::orders::{self, BookAnswer, BookRequest};
use crate::query::{OffersQuery, query_pairs};
use crate::reconciliation::{self, LedgerRow, ReconciliationQuery};
use crate::route::OrderAction;
use crate::route::Route;
use crate::secret_keys::{self, KeyHolder};
use crate::sessions;
use futures_util::StreamExt;
use paylater_shared::token::{ApprovalExpectation, verify_approval};
use wasm_bindgen::JsValue;

/// Merchant configs stay this long in an isolate's memory: KV itself is eventually consistent
/// for about a minute, and the events route should not pay a KV read per request.
const MERCHANT_CACHE_MS: i64 = 30_000;
/// Dead letters re-sent per replay call (the command calls again while there are more).
const REPLAY_PAGE: u32 = 100;

thread_local! {
    static MERCHANT_CACHE: RefCell<HashMap<String, (i64, MerchantConfig)>> = RefCell::new(HashMap::new());
    /// Refusals waiting to be reported, per claimed key (see [`report_refusals`]).
    static REFUSALS: RefCell<RefusalTally> = RefCell::new(RefusalTally::default());
}

#[wasm_bindgen]
extern "C" {
    /// `crypto.randomUUID()`: workerd has it; std's randomness is not available on wasm32.
    #[wasm_bindgen(js_namespace = crypto, js_name = randomUUID)]
    fn random_uuid() -> String;
}

/// A successful answer before common headers are added.
struct Answer {
    status: u16,
    body: String,
    /// On top of the common ones; a `Content-Type` here replaces JSON's.
    headers: Vec<(&'static str, String)>,
    /// Whether other pages may frame it (only the checkout page, whose CSP names who may);
    /// everything else is sent with `X-Frame-Options: DENY`.
    framable: bool,
    /// A body sent as it is read (`GET /v1/logs`), instead of `body`.
    stream: Option<BodyStream>,
}

type BodyStream = std::pin::Pin<Box<dyn futures_util::Stream<Item = worker::Result<Vec<u8>>>>>;

impl Answer {
    fn json<T: serde::Serialize>(value: &T, headers: Vec<(&'static str, String)>) -> Result<Self, EdgeError> {
        let body = serde_json::to_string(value).map_err(|e| EdgeError::Internal {
            detail: format!("serialize: {e}"),
        })?;
        Ok(Self {
            status: 200,
            body,
            headers,
            framable: false,
            stream: None,
        })
    }
}

fn internal(context: &str) -> impl FnOnce(worker::Error) -> EdgeError + '_ {
    move |e| EdgeError::Internal {
        detail: format!("{context}: {e}"),
    }
}

async fn load_merchant(env: &Env, key: &str) -> Result<MerchantConfig, EdgeError> {
    check_key_format(key)?;
    let now = Date::now().as_millis() as i64;
    let cached = MERCHANT_CACHE.with(|cache| {
        cache
            .borrow()
            .get(key)
            .filter(|(at, _)| now - at < MERCHANT_CACHE_MS)
            .map(|(_, merchant)| merchant.clone())
    });
    if let Some(merchant) = cached {
        return Ok(merchant);
    }
    let kv = env.kv(MERCHANTS_KV).map_err(internal("KV binding"))?;
    let stored = kv
        .get(&merchant_kv_key(key))
        .text()
        .await
        .map_err(|e| EdgeError::Internal {
            detail: format!("KV get: {e}"),
        })?;
    let merchant = merchant_from_store(stored)?;
    MERCHANT_CACHE.with(|cache| cache.borrow_mut().insert(key.to_owned(), (now, merchant.clone())));
    Ok(merchant)
}

/// A wrangler secret's text; a missing one is an internal error naming it.
fn secret(env: &Env, name: &str) -> Result<String, EdgeError> {
    env.secret(name)
        .map(|value| value.to_string())
        .map_err(|e| EdgeError::Internal {
            detail: format!("{name} secret: {e}"),
        })
}

fn session_keyring(env: &Env) -> Result<SessionKeyring, EdgeError> {
    sessions::keyring_from_secret(&secret(env, SESSION_KEYS)?)
}

/// The merchant a session token names, which must still be the merchant of its key.
async fn session_merchant(env: &Env, claims: &SessionClaims) -> Result<MerchantConfig, EdgeError> {
    let merchant = load_merchant(env, &claims.key).await?;
    if merchant.merchant_id != claims.mid {
        return Err(EdgeError::InvalidToken(TokenError::Mismatch("merchant")));
    }
    Ok(merchant)
}

/// Sends a JSON message to the Durable Object `name` of `namespace` at `path`; a failure is an
/// internal error (logged, 500).
async fn call_object<Q: serde::Serialize, A: serde::de::DeserializeOwned>(
    env: &Env,
    namespace: &str,
    name: &str,
    path: &str,
    message: &Q,
) -> Result<A, EdgeError> {
    objects::call(env, namespace, name, path, message)
        .await
        .map_err(internal("Durable Object call"))
}

/// The publishable key of the merchant a request acts for, as far as it is known (or, for a
/// refused session token, claimed): a refusal is reported to that merchant's anomaly watch.
#[derive(Default)]
struct Watched(RefCell<Option<String>>);

impl Watched {
    fn note(&self, publishable_key: Option<String>) {
        if let Some(key) = publishable_key {
            *self.0.borrow_mut() = Some(key);
        }
    }
}

/// How long refusals wait in an isolate's tally before one report takes them all.
const REFUSAL_REPORT_DELAY: std::time::Duration = std::time::Duration::from_secs(1);

/// Reports the refused tokens and 429s this isolate counted for `publishable_key`, a second
/// after the first of them, to the merchant's anomaly watch (after the answer was sent). A
/// claimed key that names no merchant counts nowhere (only the access log has it).
async fn report_refusals(env: Env, publishable_key: String) {
    worker::Delay::from(REFUSAL_REPORT_DELAY).await;
    let observations = REFUSALS.with(|tally| tally.borrow_mut().take(&publishable_key));
    if observations.is_empty() {
        return;
    }
    let Ok(merchant) = load_merchant(&env, &publishable_key).await else {
        return;
    };
    let report = ObserveRequest {
        livemode: merchant.livemode(),
        merchant_id: merchant.merchant_id,
        publishable_key,
        observations,
    };
    anomaly_watch::report(&env, &report).await;
}

fn client_object_name(merchant_id: &str, client_ip: Option<&str>) -> String {
    format!("ip:{merchant_id}:{}", client_ip.unwrap_or("unknown"))
}

fn session_object_name(session_id: &str) -> String {
    format!("ses:{session_id}")
}

fn approval_signers(env: &Env) -> Result<Vec<ApprovalSigner>, EdgeError> {
    approvals::signers_from_secret(&secret(env, APPROVAL_SIGNING_KEYS)?)
}

/// The key that names customers. Short keys would make the hashes guessable from e-mails, so
/// the edge refuses to decide without a proper one.
fn customer_hash_key(env: &Env) -> Result<String, EdgeError> {
    let key = secret(env, CUSTOMER_HASH_KEY)?;
    if key.len() < approvals::MIN_CUSTOMER_HASH_KEY_BYTES {
        return Err(EdgeError::Internal {
            detail: format!(
                "CUSTOMER_HASH_KEY must be at least {} bytes",
                approvals::MIN_CUSTOMER_HASH_KEY_BYTES
            ),
        });
    }
    Ok(key)
}

/// The merchant server behind `Authorization: Bearer sk_…`, if its key holds `scope`, without
/// a `key_used` record (see [`key_holder`]). An unknown merchant and an unknown key answer
/// alike, so keys cannot be probed per merchant.
async fn authorized_holder(req: &Request, env: &Env, scope: Scope) -> Result<KeyHolder, EdgeError> {
    let header = req.headers().get("Authorization").ok().flatten();
    let presented = secret_keys::parse_bearer(header.as_deref())?;
    let config = match load_merchant(env, &presented.publishable_key).await {
        Ok(config) => Some(config),
        Err(EdgeError::UnknownKey) => None,
        Err(other) => return Err(other),
    };
    let holder = secret_keys::authenticate(&presented, config.as_ref())?;
    holder.require(scope)?;
    Ok(holder)
}

/// The merchant server behind `Authorization: Bearer sk_…`, if its key holds `scope`, its use
/// recorded first.
async fn key_holder(req: &Request, env: &Env, scope: Scope) -> Result<KeyHolder, EdgeError> {
    let holder = authorized_holder(req, env, scope).await?;
    // Every use of a secret key is a log record of its own (`key_used`), before anything is
    // done with it: a use that cannot be recorded is not made.
    let route = Route::resolve(req.method().as_ref(), &req.path()).map_or("unknown", |r| r.name());
    let used = holder.used(random_uuid(), scope, route, Date::now().as_millis() as i64);
    let text = serde_json::to_string(&used).map_err(|e| EdgeError::Internal {
        detail: format!("serialize key use: {e}"),
    })?;
    env.queue(EVENTS_QUEUE)
        .map_err(internal("queue binding"))?
        .send(MessageBuilder::new(text).content_type(QueueContentType::Text).build())
        .await
        .map_err(|e| EdgeError::EnqueueFailed { detail: e.to_string() })?;
    Ok(holder)
}

/// An order answer with `status`, or `replay_status` (marked `Idempotent-Replayed`) when it
/// repeats an earlier request's.
fn order_answer(answer: BookAnswer, status: u16, replay_status: u16) -> Result<Answer, EdgeError> {
    match answer {
        BookAnswer::Order { order, replayed, .. } => {
            let mut headers = vec![("Cache-Control", "no-store".to_owned())];
            if replayed {
                headers.push(("Idempotent-Replayed", "true".into()));
            }
            let mut answer = Answer::json(&order, headers)?;
            answer.status = if replayed { replay_status } else { status };
            Ok(answer)
        }
        BookAnswer::Refused { refusal } => Err(refusal.into()),
        BookAnswer::Registered => Err(EdgeError::Internal {
            detail: "order book answered a registration".into(),
        }),
    }
}

/// `POST /v1/orders`: the approval token, verified as a merchant's server would, becomes the
/// approval's one order.
async fn create_order(req: &mut Request, env: &Env) -> Result<Answer, EdgeError> {
    let holder = key_holder(req, env, Scope::OrdersWrite).await?;
    let headers = req.headers().clone();
    approvals::check_json_content_type(headers.get("Content-Type").ok().flatten().as_deref())?;
    if let Some(key) = headers.get("Idempotency-Key").ok().flatten() {
        approvals::check_idempotency_key(Some(&key))?;
    }
    let body = read_body(req).await?;
    let request = orders::parse_create(&body)?;
    let now_ms = Date::now().as_millis() as i64;
    let jwks = approvals::jwks(&approval_signers(env)?);
    // Verified as the merchant's own server would, with the same library function.
    let expected = ApprovalExpectation {
        merchant_id: &holder.merchant_id,
        livemode: holder.livemode,
    };
    let claims = verify_approval(&request.approval_token, &jwks, &expected, now_ms.div_euclid(1000)).map_err(
        |error| match error {
            TokenError::Mismatch("mode") => EdgeError::WrongMode { what: "approval_token" },
            TokenError::Mismatch("merchant") => EdgeError::WrongMerchant { what: "approval_token" },
            other => EdgeError::InvalidApprovalToken(other),
        },
    )?;
    let create = BookRequest::Create {
        merchant_id: holder.merchant_id,
        merchant_reference: request.merchant_reference,
        now_ms,
    };
    let answer = call_book(env, &objects::book_name(claims.livemode, &claims.sub), &create).await?;
    // The same call again returns the order as it is now.
    order_answer(answer, 201, 200)
}

async fn call_book(env: &Env, book: &str, request: &BookRequest) -> Result<BookAnswer, EdgeError> {
    call_object(env, ORDER_BOOK, book, objects::paths::BOOK, request).await
}

/// The approval behind an order id, in the key's mode (checked before anything is looked up).
fn order_book_for(holder: &KeyHolder, order_id: &str) -> Result<String, EdgeError> {
    let (livemode, approval_id) = orders::parse_order_id(order_id)?;
    if livemode != holder.livemode {
        return Err(EdgeError::WrongMode { what: "order_id" });
    }
    Ok(objects::book_name(livemode, &approval_id))
}

async fn get_order(req: &Request, env: &Env, order_id: &str) -> Result<Answer, EdgeError> {
    let holder = key_holder(req, env, Scope::OrdersRead).await?;
    let book = order_book_for(&holder, order_id)?;
    let get = BookRequest::Get {
        merchant_id: holder.merchant_id,
    };
    let answer = call_book(env, &book, &get).await?;
    order_answer(answer, 200, 200)
}

/// `POST /v1/orders/{id}/captures|refunds|void`, each with its `Idempotency-Key`.
async fn change_order(req: &mut Request, env: &Env, order_id: &str, action: OrderAction) -> Result<Answer, EdgeError> {
    let holder = key_holder(req, env, Scope::OrdersWrite).await?;
    let book = order_book_for(&holder, order_id)?;
    let headers = req.headers().clone();
    let idempotency_key = approvals::check_idempotency_key(headers.get("Idempotency-Key").ok().flatten().as_deref())?;
    let content_type = headers.get("Content-Type").ok().flatten();
    let body = read_body(req).await?;
    // A void may come without a body; anything with one is JSON.
    if action != OrderAction::Void || !body.is_empty() {
        approvals::check_json_content_type(content_type.as_deref())?;
    }
    let change = match action {
        OrderAction::Capture => orders::parse_capture(&body)?,
        OrderAction::Refund => orders::parse_refund(&body)?,
        OrderAction::Void => orders::parse_void(&body)?,
    };
    let request = BookRequest::Change {
        merchant_id: holder.merchant_id,
        fingerprint: crate::json_body::fingerprint(&change),
        change,
        idempotency_key,
        now_ms: Date::now().as_millis() as i64,
    };
    let answer = call_book(env, &book, &request).await?;
    let status = if action == OrderAction::Void { 200 } else { 201 };
    order_answer(answer, status, status)
}

/// The rows of one statement on the D1 ledger, read as `T`.
async fn select_rows<T: serde::de::DeserializeOwned>(
    env: &Env,
    sql: &str,
    values: &[JsValue],
) -> Result<Vec<T>, EdgeError> {
    env.d1(LEDGER_DB)
        .map_err(internal("D1 binding"))?
        .prepare(sql)
        .bind(values)
        .map_err(internal("D1 bind"))?
        .all()
        .await
        .map_err(internal("D1 query"))?
        .results()
        .map_err(internal("D1 rows"))
}

/// `GET /v1/reconciliation`: the merchant's changes in the key's mode over the days asked for,
/// summed per day and currency, as JSON or (`Accept: text/csv`) CSV.
async fn reconciliation(req: &Request, env: &Env) -> Result<Answer, EdgeError> {
    let holder = key_holder(req, env, Scope::OrdersRead).await?;
    let query = ReconciliationQuery::parse(&query_pairs(&req.inner().url()))?;
    let rows: Vec<LedgerRow> = select_rows(
        env,
        reconciliation::SELECT_CHANGES,
        &[
            JsValue::from_str(&holder.merchant_id),
            JsValue::from_f64(f64::from(u8::from(holder.livemode))),
            JsValue::from_str(&query.from.to_string()),
            JsValue::from_str(&query.to.to_string()),
            JsValue::from_f64((reconciliation::MAX_ITEMS + 1) as f64),
        ],
    )
    .await?;
    let report = reconciliation::report(&query, holder.livemode, &rows)?;
    let accept = req.headers().get("Accept").ok().flatten();
    let no_store = ("Cache-Control", "no-store".to_owned());
    if reconciliation::wants_csv(accept.as_deref()) {
        return Ok(Answer {
            status: 200,
            body: report.to_csv(),
            headers: vec![
                no_store,
                ("Content-Type", "text/csv; charset=utf-8; header=present".into()),
                (
                    "Content-Disposition",
                    format!(
                        "attachment; filename=\"paylater-{}-{}-{}.csv\"",
                        holder.mode(),
                        query.from,
                        query.to
                    ),
                ),
            ],
            framable: false,
            stream: None,
        });
    }
    Answer::json(&report, vec![no_store])
}

/// `GET /v1/insights/funnel`: the merchant's funnel in the key's mode over the days asked for,
/// summed from the counters the queue consumer keeps in D1.
async fn insights_funnel(req: &Request, env: &Env) -> Result<Answer, EdgeError> {
    let holder = key_holder(req, env, Scope::InsightsRead).await?;
    let query = FunnelQuery::parse(&query_pairs(&req.inner().url()))?;
    let (first, last) = query.hours();
    let rows: Vec<CountRow> = select_rows(
        env,
        query.select(),
        &[
            JsValue::from_str(&holder.merchant_id),
            JsValue::from_f64(f64::from(u8::from(holder.livemode))),
            JsValue::from_str(&first),
            JsValue::from_str(&last),
        ],
    )
    .await?;
    let funnel = insights::funnel(&query, holder.livemode, &rows)?;
    Answer::json(&funnel, vec![("Cache-Control", "no-store".to_owned())])
}

/// `GET /v1/insights/anomalies`: the windows the merchant's anomaly watch (the key's mode)
/// judged anomalous over the days asked for.
async fn insights_anomalies(req: &Request, env: &Env) -> Result<Answer, EdgeError> {
    let holder = key_holder(req, env, Scope::InsightsRead).await?;
    let query = AnomalyQuery::parse(&query_pairs(&req.inner().url()))?;
    let (from_ms, to_ms) = query.millis();
    let found: Vec<Anomaly> = call_object(
        env,
        ANOMALY_WATCH,
        &watch_name(&holder.merchant_id, holder.livemode),
        anomaly_paths::LIST,
        &ListRequest { from_ms, to_ms },
    )
    .await?;
    Answer::json(
        &query.answer(holder.livemode, &found),
        vec![("Cache-Control", "no-store".to_owned())],
    )
}

/// `GET /v1/logs`: the merchant's archived records of the key's mode over the days asked for,
/// as NDJSON streamed object by object, a page of at most `logs::MAX_OBJECTS` at a time: the
/// `Paylater-Next-After` header names where the next page starts (`after=`).
async fn logs(req: &Request, env: &Env) -> Result<Answer, EdgeError> {
    let holder = key_holder(req, env, Scope::LogsRead).await?;
    let query = LogsQuery::parse(&query_pairs(&req.inner().url()))?;
    let bucket = env.bucket(ARCHIVE).map_err(internal("R2 binding"))?;
    let prefixes = query.prefixes(&holder.merchant_id, holder.livemode);
    let (listed, next_after) = list_keys(&bucket, prefixes, query.after.as_deref(), crate::logs::MAX_OBJECTS).await?;
    let keys: Vec<String> = listed.into_iter().map(|object| object.key).collect();
    let keyring = crate::consumer::archive_keyring(env).map_err(|detail| EdgeError::Internal { detail })?;
    let (merchant_id, livemode) = (holder.merchant_id.clone(), holder.livemode);
    let state = (bucket, keys.into_iter(), keyring, merchant_id);
    let stream = futures_util::stream::unfold(state, move |(bucket, mut keys, keyring, merchant_id)| async move {
        let key = keys.next()?;
        let body = match bucket.get(&key).execute().await {
            // Removed since it was listed: nothing of it to send.
            Ok(None) => Ok(Vec::new()),
            Ok(Some(object)) => match object.body() {
                Some(body) => body.bytes().await.and_then(|sealed| {
                    let scope = paylater_shared::archive::Scope::Merchant {
                        merchant_id: &merchant_id,
                        livemode,
                    };
                    // An object that does not open is never sent as if it were a record.
                    keyring
                        .open(scope, &key, &sealed)
                        .map_err(|e| worker::Error::RustError(format!("{key}: {e}")))
                }),
                None => Ok(Vec::new()),
            },
            Err(e) => Err(e),
        };
        Some((body, (bucket, keys, keyring, merchant_id)))
    });
    Ok(Answer {
        status: 200,
        body: String::new(),
        headers: [
            ("Content-Type", "application/x-ndjson; charset=utf-8".to_owned()),
            ("Cache-Control", "no-store".to_owned()),
        ]
        .into_iter()
        .chain(next_after.map(|key| ("Paylater-Next-After", key)))
        .collect(),
        framable: false,
        stream: Some(Box::pin(stream)),
    })
}

/// `GET /v1/keys`: the approval keys, and apart from them the audit digest keys. Digest keys
/// that cannot be read, or share a kid with an approval key, are left out (and said in a
/// `config_error` line): merchants verifying approval tokens never depend on them.
fn published_keys(env: &Env) -> Result<paylater_shared::audit::PublishedKeys, EdgeError> {
    let approval = approvals::jwks(&approval_signers(env)?).keys;
    let digest = match crate::audit_seal::digest_signers(env) {
        Ok(signers) => signers.iter().map(|signer| signer.jwk()).collect::<Vec<_>>(),
        Err(error) => {
            console_log!("{}", serde_json::json!({ "kind": "config_error", "error": error }));
            Vec::new()
        }
    };
    let clash = digest.iter().any(|d| approval.iter().any(|a| a.kid == d.kid));
    if clash {
        console_log!(
            "{}",
            serde_json::json!({ "kind": "config_error", "error": "a DIGEST_SIGNING_KEYS kid is also an APPROVAL_SIGNING_KEYS kid" })
        );
    }
    Ok(paylater_shared::audit::PublishedKeys {
        keys: approval,
        audit_digest_keys: if clash { Vec::new() } else { digest },
    })
}

/// The objects under `prefixes` (R2 lists in key order) from after `after`: a page of at most
/// `limit`, and where the next starts if more were listed (one more than a page is listed to
/// know).
async fn list_keys(
    bucket: &worker::Bucket,
    prefixes: Vec<String>,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<Listed>, Option<String>), EdgeError> {
    let mut listed = Vec::new();
    for prefix in prefixes {
        if crate::logs::day_done(after, &prefix) {
            continue;
        }
        let mut cursor: Option<String> = None;
        while listed.len() <= limit {
            let mut list = bucket.list().prefix(prefix.clone());
            if let Some(next) = cursor.take() {
                list = list.cursor(next);
            } else if let Some(start) = crate::logs::start_after(after, &prefix) {
                list = list.start_after(start);
            }
            let page = list.execute().await.map_err(internal("R2 list"))?;
            listed.extend(page.objects().iter().map(|object| Listed {
                key: object.key(),
                size: object.size(),
                uploaded: object.uploaded().as_millis() as i64,
            }));
            match page.cursor() {
                Some(next) if page.truncated() => cursor = Some(next),
                _ => break,
            }
        }
    }
    Ok(crate::logs::page_of(listed, limit, |object| object.key.clone()))
}

/// `GET /v1/audit/digests`: the digests of the key's merchant and mode whose periods start on
/// the days asked for, in time order.
async fn audit_digests(req: &Request, env: &Env) -> Result<Answer, EdgeError> {
    let holder = key_holder(req, env, Scope::LogsRead).await?;
    let query = AuditQuery::parse(&query_pairs(&req.inner().url()))?;
    let bucket = env.bucket(ARCHIVE).map_err(internal("R2 binding"))?;
    let mode = mode_name(holder.livemode);
    let prefixes = query
        .days()
        .map(|day| audit::digest_day_prefix(&holder.merchant_id, mode, day))
        .collect();
    let (digests, next_after) = list_keys(&bucket, prefixes, query.after.as_deref(), audit::MAX_LISTED).await?;
    Answer::json(
        &DigestList {
            merchant_id: holder.merchant_id,
            livemode: holder.livemode,
            digests,
            next_after,
        },
        vec![("Cache-Control", "no-store".to_owned())],
    )
}

/// `GET /v1/audit/objects`: the archive objects of the key's merchant and mode dated on the
/// days asked for (the day the edge observed each record).
async fn audit_objects(req: &Request, env: &Env) -> Result<Answer, EdgeError> {
    let holder = key_holder(req, env, Scope::LogsRead).await?;
    let query = AuditQuery::parse(&query_pairs(&req.inner().url()))?;
    let bucket = env.bucket(ARCHIVE).map_err(internal("R2 binding"))?;
    let prefixes = query
        .days()
        .map(|day| archive_day_prefix(&holder.merchant_id, holder.livemode, day))
        .collect();
    let (objects, next_after) = list_keys(&bucket, prefixes, query.after.as_deref(), audit::MAX_LISTED).await?;
    Answer::json(
        &ObjectList {
            merchant_id: holder.merchant_id,
            livemode: holder.livemode,
            objects,
            next_after,
        },
        vec![("Cache-Control", "no-store".to_owned())],
    )
}

/// `GET /v1/audit/objects/{key}`: one archive object or digest of the key's merchant and mode,
/// byte for byte as stored (sealed objects stay sealed: verifying needs no archive key).
async fn audit_object(req: &Request, env: &Env, key: &str) -> Result<Answer, EdgeError> {
    // Not a `key_used` record: a verifier reads every object, and a record a read would make the
    // archive grow with each verification. The listings that precede the reads are recorded.
    let holder = authorized_holder(req, env, Scope::LogsRead).await?;
    console_log!(
        "{}",
        serde_json::json!({ "kind": "audit_read", "merchant_id": holder.merchant_id, "key": key })
    );
    let not_found = || EdgeError::NotFound {
        path: format!("/v1/audit/objects/{key}"),
    };
    if !audit::key_is_theirs(key, &holder.merchant_id, holder.livemode) {
        return Err(not_found());
    }
    let bucket = env.bucket(ARCHIVE).map_err(internal("R2 binding"))?;
    let object = bucket
        .get(key)
        .execute()
        .await
        .map_err(internal("R2 get"))?
        .ok_or_else(not_found)?;
    let bytes = match object.body() {
        Some(body) => body.bytes().await.map_err(internal("R2 body"))?,
        None => Vec::new(),
    };
    let content_type = if key.ends_with(".json") {
        "application/json"
    } else {
        "application/octet-stream"
    };
    Ok(Answer {
        status: 200,
        body: String::new(),
        headers: vec![
            ("Content-Type", content_type.to_owned()),
            ("Cache-Control", "no-store".to_owned()),
        ],
        framable: false,
        stream: Some(Box::pin(futures_util::stream::once(async move { Ok(bytes) }))),
    })
}

/// `POST /v1/admin/customers/holds` `{ email, livemode }` (admin token): what a customer's
/// ledger holds, for support answering "why is my limit used up". The e-mail travels in the
/// body, never a URL, and is only hashed.
async fn customer_holds(req: &mut Request, env: &Env) -> Result<Answer, EdgeError> {
    let expected = env.secret(ADMIN_TOKEN).map(|s| s.to_string()).ok();
    let given = req.headers().get("Authorization").ok().flatten();
    if !admin_token_matches(given.as_deref(), expected.as_deref()) {
        return Err(EdgeError::Unauthorized);
    }
    let body = read_body(req).await?;
    let (email, livemode) = approvals::parse_holds_request(&body)?;
    let hash = customer_id_hash(customer_hash_key(env)?.as_bytes(), &email);
    let holds: Vec<crate::ledger::HoldView> = call_object(
        env,
        CUSTOMER_LEDGER,
        &crate::ledger::ledger_name(livemode, &hash),
        objects::paths::LEDGER,
        &crate::ledger::LedgerRequest::Holds,
    )
    .await?;
    Answer::json(
        &serde_json::json!({ "holds": holds }),
        vec![("Cache-Control", "no-store".into())],
    )
}

/// `scheme://host[:port]` of the request: the edge's own origin, which its checkout page has.
fn own_origin(req: &Request) -> String {
    let url = req.inner().url();
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..].find('/').map_or(url.len(), |i| after_scheme + i);
    url[..end].to_owned()
}

/// `GET /v1/checkout`: the approval form, for a valid session, framable by the session's origin.
fn checkout_page(req: &Request, env: &Env) -> Result<Answer, EdgeError> {
    let query = CheckoutQuery::parse(&query_pairs(&req.inner().url()))?;
    let now_ms = Date::now().as_millis() as i64;
    let claims = checkout::authorize(&query, &session_keyring(env)?, now_ms.div_euclid(1000))?;
    let today = CivilDate::from_unix_millis_utc(now_ms).map_err(|e| EdgeError::Internal {
        detail: format!("clock: {e}"),
    })?;
    Ok(Answer {
        status: 200,
        body: checkout::page(&query, &claims, today),
        headers: checkout::headers(&claims.org),
        framable: true,
        stream: None,
    })
}

/// `POST /v1/approvals`: validate, authorize, count the IP's attempt, then let the session's
/// object (idempotency, the upstream service if one is configured) and the customer's object
/// (exposure, one decision at a time) decide.
async fn approve(req: &mut Request, env: &Env, origin: Option<&str>, watched: &Watched) -> Result<Answer, EdgeError> {
    let headers = req.headers().clone();
    let header = |name: &str| headers.get(name).ok().flatten();
    approvals::check_json_content_type(header("Content-Type").as_deref())?;
    let idempotency_key = approvals::check_idempotency_key(header("Idempotency-Key").as_deref())?;
    let locale = header("Accept-Language")
        .and_then(|v| v.split([',', ';']).next().map(|tag| tag.trim().to_owned()))
        .unwrap_or_default();
    let body = read_body(req).await?;
    let now_ms = Date::now().as_millis() as i64;
    let today = CivilDate::from_unix_millis_utc(now_ms).map_err(|e| EdgeError::Internal {
        detail: format!("clock: {e}"),
    })?;
    let request = approvals::parse_approval_request(&body, today)?;
    let claims = approvals::authorize_session(
        &request.session_token,
        &session_keyring(env)?,
        origin,
        &own_origin(req),
        now_ms.div_euclid(1000),
    )
    .inspect_err(|_| watched.note(crate::auth::claimed_publishable_key(&request.session_token)))?;
    watched.note(Some(claims.key.clone()));
    let merchant = session_merchant(env, &claims).await?;
    let (terms, plan_range) = approvals::find_plan(&merchant, &request.plan_id, claims.cur)?;
    // The schedule counts from the shopper's local date the session carries, so the dates
    // approved are the dates shown. A plan the amount does not fit has no schedule; the
    // decision says why.
    let schedule_start = claims.sd.unwrap_or(today);
    let schedule = terms
        .schedule(claims.amt, schedule_start)
        .map(|s| s.installments)
        .unwrap_or_default();
    let client_ip = header("CF-Connecting-IP");
    // Refused here, 429, before any customer's ledger is asked or counts the attempt.
    let ip_attempts: LimitAnswer = call_object(
        env,
        CLIENT_LIMITER,
        &client_object_name(&merchant.merchant_id, client_ip.as_deref()),
        objects::paths::COUNT_APPROVAL_ATTEMPT,
        &AttemptLimit {
            limit_per_hour: merchant.scorecard.velocity.ip_per_hour,
        },
    )
    .await?;
    let ip_attempts_last_hour = match ip_attempts {
        LimitAnswer::Admitted { count } => u32::try_from(count).unwrap_or(u32::MAX),
        LimitAnswer::RateLimited { retry_after_seconds } => {
            return Err(EdgeError::RateLimited {
                scope: "client IP",
                retry_after_seconds,
            });
        }
    };
    let cf = req.cf();
    let facts = events::request_facts(
        client_ip.as_deref(),
        cf.and_then(|cf| cf.country()),
        cf.and_then(|cf| cf.asn()),
        header("User-Agent").as_deref(),
        now_ms,
        false,
    );
    let customer_id_hash = customer_id_hash(customer_hash_key(env)?.as_bytes(), &request.customer.email);
    let policy = merchant.orders;
    let token_ttl_s = i64::from(policy.approval_token_ttl_seconds);
    let decide = DecideRequest {
        reference: format!("{}:{idempotency_key}", claims.sid),
        approval_id: random_uuid(),
        now_ms,
        today,
        amount: claims.amt,
        currency: claims.cur,
        plan_range,
        date_of_birth: request.customer.date_of_birth,
        email_domain: request.customer.email_domain().to_owned(),
        ip_attempts_last_hour,
        signals: SessionSignals {
            session_age_ms: now_ms.saturating_sub(claims.iat.saturating_mul(1000)),
            form_fill_ms: None,
            amount_changed: false,
            automated_agent: facts.ua_class == UaClass::Automation,
        },
        settles_at_ms: approvals::settles_at_ms(&schedule, now_ms),
        upstream: None,
        session_attempts: 0,
        scorecard: merchant.scorecard.clone(),
        merchant_id: merchant.merchant_id.clone(),
        livemode: merchant.livemode(),
        session_id: claims.sid.clone(),
        plan_id: terms.id(),
        token_expires_at_ms: (now_ms.div_euclid(1000) + token_ttl_s).saturating_mul(1000),
        retention_days: policy.customer_retention_days,
        network: ledger::attempt_network(client_ip.as_deref()),
    };
    let approve = ApproveRequest {
        idempotency_key,
        fingerprint: request.fingerprint(),
        session: events::session_facts(&claims),
        request: facts,
        customer_id_hash,
        decide,
        plan_id: terms.id(),
        locale,
        country: request.customer.country.clone(),
        schedule,
        schedule_start: Some(schedule_start),
        expires_at_s: claims.exp,
        capture_window_s: i64::from(policy.capture_window_seconds),
    };
    let outcome: ApproveOutcome = call_object(
        env,
        SESSION_GUARD,
        &session_object_name(&claims.sid),
        objects::paths::APPROVE,
        &approve,
    )
    .await?;
    match outcome {
        ApproveOutcome::Answered { answer, replayed } => {
            let mut headers = cors_for_checked_origin(origin);
            headers.push(("Cache-Control", "no-store".into()));
            if replayed {
                headers.push(("Idempotent-Replayed", "true".into()));
            }
            Answer::json(&answer, headers)
        }
        ApproveOutcome::Conflict => Err(EdgeError::IdempotencyConflict),
        ApproveOutcome::SessionHasApproval => Err(EdgeError::SessionHasApproval),
        ApproveOutcome::RateLimited { retry_after_seconds } => Err(EdgeError::RateLimited {
            scope: "session",
            retry_after_seconds,
        }),
        ApproveOutcome::EnqueueFailed { detail } => Err(EdgeError::EnqueueFailed { detail }),
    }
}

/// New sessions per merchant and client network (/24 or /64): approval attempts need sessions,
/// so minting them in bulk is refused (429).
async fn check_session_rate(req: &Request, env: &Env, merchant: &MerchantConfig) -> Result<(), EdgeError> {
    let client_ip = req.headers().get("CF-Connecting-IP").ok().flatten();
    let network = ledger::attempt_network(client_ip.as_deref());
    let answer: LimitAnswer = call_object(
        env,
        CLIENT_LIMITER,
        &format!("sessions:{}:{network}", merchant.merchant_id),
        objects::paths::COUNT_REQUEST,
        &LimitRequest {
            limit_per_minute: merchant.rate_limits.sessions_per_network_per_minute,
        },
    )
    .await?;
    match answer {
        LimitAnswer::Admitted { .. } => Ok(()),
        LimitAnswer::RateLimited { retry_after_seconds } => Err(EdgeError::RateLimited {
            scope: "client network",
            retry_after_seconds,
        }),
    }
}

/// `POST /v1/events`: authorize, rate-limit by IP, then let the session's object dedup and
/// enqueue. Everything else happens in the queue consumer.
async fn ingest_events(
    req: &mut Request,
    env: &Env,
    origin: Option<&str>,
    watched: &Watched,
) -> Result<Answer, EdgeError> {
    sessions::check_content_type(req.headers().get("Content-Type").ok().flatten().as_deref())?;
    let body = read_body(req).await?;
    let now_ms = Date::now().as_millis() as i64;
    let mut authorized = events::authorize_batch(&body, &session_keyring(env)?, origin, now_ms).inspect_err(|e| {
        if matches!(e, EdgeError::InvalidToken(_)) {
            watched.note(events::claimed_key_of_batch(&body));
        }
    })?;
    watched.note(Some(authorized.claims.key.clone()));
    let merchant = session_merchant(env, &authorized.claims).await?;
    let plan_ids: Vec<String> = merchant.all_terms().iter().map(|(terms, _)| terms.id()).collect();
    events::refuse_unknown_plans(&mut authorized, &plan_ids)?;
    let limits = merchant.rate_limits;
    let client_ip = req.headers().get("CF-Connecting-IP").ok().flatten();
    let ip_answer: LimitAnswer = call_object(
        env,
        CLIENT_LIMITER,
        // Per merchant, so one merchant's traffic never throttles another's shoppers.
        &client_object_name(&merchant.merchant_id, client_ip.as_deref()),
        objects::paths::COUNT_REQUEST,
        &LimitRequest {
            limit_per_minute: limits.per_ip_per_minute,
        },
    )
    .await?;
    if let LimitAnswer::RateLimited { retry_after_seconds } = ip_answer {
        return Err(EdgeError::RateLimited {
            scope: "client IP",
            retry_after_seconds,
        });
    }
    let cf = req.cf();
    let facts = events::request_facts(
        client_ip.as_deref(),
        cf.and_then(|cf| cf.country()),
        cf.and_then(|cf| cf.asn()),
        req.headers().get("User-Agent").ok().flatten().as_deref(),
        now_ms,
        ip_answer.is_high_velocity(limits.per_ip_per_minute),
    );
    let admit = AdmitRequest {
        session: events::session_facts(&authorized.claims),
        request: facts,
        limit_per_minute: limits.per_session_per_minute,
        expires_at_s: authorized.claims.exp,
        sent_at: authorized.batch.sent_at,
        events: authorized.batch.accepted.into_iter().map(|(_, event)| event).collect(),
    };
    let answer: AdmitAnswer = call_object(
        env,
        SESSION_GUARD,
        &session_object_name(&authorized.claims.sid),
        objects::paths::ADMIT_EVENTS,
        &admit,
    )
    .await?;
    let accepted = events::events_outcome(answer, authorized.batch.rejected)?;
    let mut answer = Answer::json(&accepted, cors_for_checked_origin(origin))?;
    answer.status = 202;
    answer.headers.push(("Cache-Control", "no-store".into()));
    Ok(answer)
}

/// `POST /v1/admin/dead-letters/replay`: re-sends parked dead letters, byte for byte, to the
/// events queue, deleting each only after the queue took it.
async fn replay_dead_letters(req: &Request, env: &Env) -> Result<Answer, EdgeError> {
    let holder = key_holder(req, env, Scope::LogsReplay).await?;
    let failed = |error: ReplayError| match error {
        ReplayError::Enqueue(detail) => EdgeError::EnqueueFailed { detail },
        other => EdgeError::Internal {
            detail: format!("dead-letter replay: {other}"),
        },
    };
    // The letters whose retries ran out, then the records the sink refused: a page of each.
    let mut replayed = 0;
    let mut more = false;
    for prefix in [
        dead_letter_prefix(&holder.merchant_id, holder.livemode),
        refused_prefix(&holder.merchant_id, holder.livemode),
    ] {
        let (count, next) = dead_letters::replay(env, &prefix, REPLAY_PAGE, None)
            .await
            .map_err(failed)?;
        replayed += count;
        more |= next.is_some();
    }
    let mut answer = Answer::json(&serde_json::json!({ "replayed": replayed, "more": more }), Vec::new())?;
    answer.headers.push(("Cache-Control", "no-store".into()));
    Ok(answer)
}

/// Reads a request body, refusing oversized ones by their declared length before reading, and
/// any other (no `Content-Length`: chunked) as soon as it passes the limit while it streams in,
/// so an endless body is never held whole.
async fn read_body(req: &mut Request) -> Result<Vec<u8>, EdgeError> {
    let declared = req
        .headers()
        .get("Content-Length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > sessions::MAX_BODY_BYTES) {
        return Err(EdgeError::BodyTooLarge);
    }
    if req.inner().body().is_none() {
        return Ok(Vec::new());
    }
    let mut stream = req.stream().map_err(internal("body stream"))?;
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        json_body::append_within_limit(&mut body, &chunk.map_err(internal("reading body"))?)?;
    }
    Ok(body)
}

async fn answer(
    route: &Route,
    req: &mut Request,
    env: &Env,
    origin: Option<&str>,
    watched: &Watched,
) -> Result<Answer, EdgeError> {
    match route {
        Route::Health => {
            let problems: Vec<String> = [
                crate::consumer::archive_keyring(env).err(),
                crate::audit_seal::digest_signers(env).err(),
            ]
            .into_iter()
            .flatten()
            .collect();
            let (status, body) = handlers::health(&problems);
            let mut answer = Answer::json(&body, vec![("Cache-Control", "no-store".into())])?;
            answer.status = status;
            Ok(answer)
        }
        Route::Preflight => Ok(Answer {
            status: 204,
            body: String::new(),
            headers: preflight(origin),
            framable: false,
            stream: None,
        }),
        Route::MerchantConfig { key } => {
            let merchant = load_merchant(env, key).await?;
            check_origin(&merchant, origin)?;
            let mut headers = cors_for_checked_origin(origin);
            headers.push(("Cache-Control", "public, max-age=60".into()));
            Answer::json(&handlers::merchant_config(&merchant), headers)
        }
        Route::Offers => {
            let query = OffersQuery::parse(&query_pairs(&req.inner().url()))?;
            let merchant = load_merchant(env, &query.key).await?;
            check_origin(&merchant, origin)?;
            let today =
                CivilDate::from_unix_millis_utc(Date::now().as_millis() as i64).map_err(|e| EdgeError::Internal {
                    detail: format!("clock: {e}"),
                })?;
            let mut headers = cors_for_checked_origin(origin);
            headers.push(("Cache-Control", "private, max-age=60".into()));
            Answer::json(&handlers::offers(&merchant, &query, today)?, headers)
        }
        Route::Events => ingest_events(req, env, origin, watched).await,
        Route::OpenApi => Ok(Answer {
            status: 200,
            body: OPENAPI_JSON.to_owned(),
            headers: vec![
                ("Access-Control-Allow-Origin", "*".into()),
                ("Cache-Control", "public, max-age=300".into()),
            ],
            framable: false,
            stream: None,
        }),
        Route::ReplayDeadLetters => replay_dead_letters(req, env).await,
        Route::Approvals => approve(req, env, origin, watched).await,
        Route::CreateOrder => create_order(req, env).await,
        Route::Order { order_id } => get_order(req, env, order_id).await,
        Route::OrderChange { order_id, action } => change_order(req, env, order_id, *action).await,
        Route::Reconciliation => reconciliation(req, env).await,
        Route::InsightsFunnel => insights_funnel(req, env).await,
        Route::InsightsAnomalies => insights_anomalies(req, env).await,
        Route::Logs => logs(req, env).await,
        Route::AuditDigests => audit_digests(req, env).await,
        Route::AuditObjects => audit_objects(req, env).await,
        Route::AuditObject { key } => audit_object(req, env, key).await,
        Route::CustomerHolds => customer_holds(req, env).await,
        Route::Checkout => checkout_page(req, env),
        Route::Dashboard => Ok(Answer {
            status: 200,
            body: crate::dashboard::PAGE.to_owned(),
            headers: crate::dashboard::headers(),
            framable: false,
            stream: None,
        }),
        Route::Keys => Answer::json(
            &published_keys(env)?,
            vec![
                ("Access-Control-Allow-Origin", "*".into()),
                // Short, so a rotation reaches verifiers within minutes.
                ("Cache-Control", "public, max-age=300".into()),
            ],
        ),
        Route::Sessions => {
            sessions::check_content_type(req.headers().get("Content-Type").ok().flatten().as_deref())?;
            let body = read_body(req).await?;
            let ask = sessions::parse_session_ask(&body)?;
            let merchant = load_merchant(env, ask.key()).await?;
            watched.note(Some(merchant.publishable_key.clone()));
            check_session_rate(req, env, &merchant).await?;
            let keyring = session_keyring(env)?;
            let now_s = (Date::now().as_millis() / 1000) as i64;
            let created = match &ask {
                sessions::SessionAsk::New(request) => {
                    sessions::create_session(&merchant, request, origin, &keyring, random_uuid(), now_s)?
                }
                sessions::SessionAsk::Renew { key, token } => {
                    sessions::renew_session(&merchant, key, token, origin, &keyring, now_s)?
                }
            };
            let mut answer = Answer::json(&created, cors_for_checked_origin(origin))?;
            answer.status = 201;
            answer.headers.push(("Cache-Control", "no-store".into()));
            Ok(answer)
        }
    }
}

fn respond(answer: Answer, request_id: &str) -> worker::Result<Response> {
    let headers = Headers::new();
    for (name, value) in SECURITY_HEADERS {
        headers.set(name, value)?;
    }
    if !answer.framable {
        headers.set(DENY_FRAMING.0, DENY_FRAMING.1)?;
    }
    if !answer.body.is_empty() {
        headers.set("Content-Type", "application/json; charset=utf-8")?;
    }
    for (name, value) in &answer.headers {
        headers.set(name, value)?;
    }
    headers.set("X-Request-Id", request_id)?;
    let response = if let Some(stream) = answer.stream {
        Response::from_stream(stream)?
    } else if answer.body.is_empty() {
        Response::empty()?
    } else {
        Response::ok(answer.body)?
    };
    Ok(response.with_status(answer.status).with_headers(headers))
}

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let started = Date::now().as_millis();
    let request_id = random_uuid();
    let method = req.method().to_string();
    let path = req.path();
    let origin = req.headers().get("Origin").ok().flatten();
    let route = Route::resolve(&method, &path);
    let watched = Watched::default();
    let outcome = match &route {
        Ok(route) => answer(route, &mut req, &env, origin.as_deref(), &watched).await,
        Err(error) => Err(error.clone()),
    };
    let refusal = match &outcome {
        Err(EdgeError::InvalidToken(_)) => Some(Metric::RefusedTokens),
        Err(EdgeError::RateLimited { .. }) => Some(Metric::RateLimited),
        _ => None,
    };
    if let (Some(metric), Some(key)) = (refusal, watched.0.take()) {
        let at_ms = Date::now().as_millis() as i64;
        if REFUSALS.with(|tally| tally.borrow_mut().count(&key, metric, at_ms)) {
            ctx.wait_until(report_refusals(env.clone(), key));
        }
    }
    let (answer, error_detail) = match outcome {
        Ok(answer) => (answer, None),
        Err(error) => {
            let detail = match &error {
                EdgeError::Internal { detail } => Some(detail.clone()),
                _ => None,
            };
            // Errors carry CORS too, so the widget can read why it was refused.
            let mut headers = match &error {
                EdgeError::OriginNotAllowed { .. } | EdgeError::InvalidToken(TokenError::Mismatch(_)) => {
                    vec![("Vary", "Origin".to_owned())]
                }
                _ => cors_for_checked_origin(origin.as_deref()),
            };
            if let Some(seconds) = error.retry_after_seconds() {
                headers.push(("Retry-After", seconds.to_string()));
            }
            if let EdgeError::MethodNotAllowed { allowed, .. } = &error {
                headers.push(("Allow", crate::route::allow_header(allowed, &path)));
            }
            (
                Answer {
                    status: error.status(),
                    body: error.body(),
                    headers,
                    framable: false,
                    stream: None,
                },
                detail,
            )
        }
    };
    // One structured line per request (Workers Logs indexes JSON); no query string, which may
    // carry amounts tied to a shopper, and no IP.
    console_log!(
        "{}",
        serde_json::json!({
            "kind": "access",
            "request_id": request_id,
            "method": method,
            "path": path,
            "route": route.as_ref().map(Route::name).unwrap_or("none"),
            "status": answer.status,
            "duration_ms": Date::now().as_millis().saturating_sub(started),
            "error": error_detail,
        })
    );
    respond(answer, &request_id)
}
