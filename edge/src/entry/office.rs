//! The back-office Worker's routes: the merchant server API (orders, reconciliation), insights,
//! logs, the audit trail, keys, admin and the dashboard, reached only through the shop's
//! `BACK_OFFICE` service binding.

use super::*;

use paylater_shared::token::{ApprovalSigner, TokenError};
use worker::{Date, Env, MessageBuilder, QueueContentType, Request, console_log};

use crate::anomaly::{Anomaly, AnomalyQuery};
use crate::anomaly_watch::{ListRequest, paths as anomaly_paths, watch_name};
use crate::approvals::{self};
use crate::audit::{self, AuditQuery, DigestList, Listed, ObjectList};
use crate::auth::admin_token_matches;
use crate::bindings::{ADMIN_TOKEN, APPROVAL_SIGNING_KEYS, ARCHIVE, CUSTOMER_LEDGER, EVENTS_QUEUE};
use crate::bindings::{ANOMALY_WATCH, LEDGER_DB, ORDER_BOOK};
use crate::dead_letters::{self, ReplayError};
use crate::error::EdgeError;
use crate::forward::{archive_day_prefix, dead_letter_prefix, mode_name, refused_prefix};
use crate::insights::{self, CountRow, FunnelQuery};
use crate::log_record::customer_id_hash;
use crate::logs::LogsQuery;
use crate::merchant::Scope;
use crate::objects;
use crate::openapi::OPENAPI_JSON;
use crate::orders::{self, BookAnswer, BookRequest};
use crate::query::query_pairs;
use crate::reconciliation::{self, LedgerRow, ReconciliationQuery};
use crate::route::OrderAction;
use crate::route::Route;
use crate::secret_keys::{self, KeyHolder};
use paylater_shared::token::{ApprovalExpectation, verify_approval};
use wasm_bindgen::JsValue;

/// Dead letters re-sent per replay call (the command calls again while there are more).
const REPLAY_PAGE: u32 = 100;

fn approval_signers(env: &Env) -> Result<Vec<ApprovalSigner>, EdgeError> {
    approvals::signers_from_secret(&secret(env, APPROVAL_SIGNING_KEYS)?)
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
            passed_on: None,
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
/// as NDJSON streamed object by object, a page of at most `logs::MAX_OBJECTS` objects and
/// `logs::MAX_BYTES` stored bytes at a time: the `Paylater-Next-After` header names where the
/// next page starts (`after=`).
async fn logs(req: &Request, env: &Env) -> Result<Answer, EdgeError> {
    let holder = key_holder(req, env, Scope::LogsRead).await?;
    let query = LogsQuery::parse(&query_pairs(&req.inner().url()))?;
    let bucket = env.bucket(ARCHIVE).map_err(internal("R2 binding"))?;
    let prefixes = query.prefixes(&holder.merchant_id, holder.livemode);
    let (listed, next_after) = list_keys(&bucket, prefixes, query.after.as_deref(), crate::logs::MAX_OBJECTS).await?;
    let (listed, next_after) = crate::logs::within_bytes(
        listed,
        next_after,
        crate::logs::MAX_BYTES,
        |object| object.size,
        |object| object.key.clone(),
    );
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
        passed_on: None,
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
        passed_on: None,
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

pub(super) async fn answer(
    route: &Route,
    req: &mut Request,
    env: &Env,
    _origin: Option<&str>,
    _watched: &Watched,
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
            health_answer(&problems)
        }
        Route::OpenApi => Ok(Answer {
            status: 200,
            body: OPENAPI_JSON.to_owned(),
            headers: vec![
                ("Access-Control-Allow-Origin", "*".into()),
                ("Cache-Control", "public, max-age=300".into()),
            ],
            framable: false,
            stream: None,
            passed_on: None,
        }),
        Route::ReplayDeadLetters => replay_dead_letters(req, env).await,
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
        Route::Dashboard => Ok(Answer {
            status: 200,
            body: crate::dashboard::PAGE.to_owned(),
            headers: crate::dashboard::headers(),
            framable: false,
            stream: None,
            passed_on: None,
        }),
        Route::Keys => Answer::json(
            &published_keys(env)?,
            vec![
                ("Access-Control-Allow-Origin", "*".into()),
                // Short, so a rotation reaches verifiers within minutes.
                ("Cache-Control", "public, max-age=300".into()),
            ],
        ),
        // The shop answers these itself; only a misrouted request gets here.
        _ => Err(EdgeError::NotFound { path: req.path() }),
    }
}
