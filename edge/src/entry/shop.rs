//! The shop Worker's routes: what shoppers and the widget wait on (sessions, events, approvals,
//! the terms, the checkout page), and `/health`. Every back-office route is passed on unread to
//! the `BACK_OFFICE` service binding.

use super::*;
use crate::bindings::BACK_OFFICE;
use crate::route::{CRON_PATH, Worker};
use worker::{Method, RequestInit, ScheduleContext, ScheduledEvent};

use paylater_shared::CivilDate;
use paylater_shared::token::{SessionClaims, SessionKeyring, TokenError};
use worker::{Date, Env, Request};

use crate::approvals::{self, ApproveOutcome, ApproveRequest, AttemptLimit, DecideRequest};
use crate::auth::check_origin;
use crate::bindings::{CLIENT_LIMITER, SESSION_GUARD, SESSION_KEYS};
use crate::checkout::{self, CheckoutQuery};
use crate::decision::SessionSignals;
use crate::error::EdgeError;
use crate::events::{self, AdmitAnswer, AdmitRequest, LimitAnswer, LimitRequest};
use crate::headers::{cors_for_checked_origin, preflight};
use crate::ingest::UaClass;
use crate::ledger;
use crate::log_record::customer_id_hash;
use crate::merchant::MerchantConfig;
use crate::objects;
use crate::query::{OffersQuery, query_pairs};
use crate::route::Route;
use crate::sessions;

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

/// What the runtime tells of a request's client (its IP, country, network and user agent), as
/// the session's object and the scorecard read it.
fn client_facts(req: &Request, client_ip: Option<&str>, now_ms: i64, ip_velocity: bool) -> crate::ingest::RequestFacts {
    let cf = req.cf();
    events::request_facts(
        client_ip,
        cf.and_then(|cf| cf.country()),
        cf.and_then(|cf| cf.asn()),
        req.headers().get("User-Agent").ok().flatten().as_deref(),
        now_ms,
        ip_velocity,
    )
}

fn client_object_name(merchant_id: &str, client_ip: Option<&str>) -> String {
    format!("ip:{merchant_id}:{}", client_ip.unwrap_or("unknown"))
}

fn session_object_name(session_id: &str) -> String {
    format!("ses:{session_id}")
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
        passed_on: None,
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
    let facts = client_facts(req, client_ip.as_deref(), now_ms, false);
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
    let facts = client_facts(
        req,
        client_ip.as_deref(),
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

pub(super) async fn answer(
    route: &Route,
    req: &mut Request,
    env: &Env,
    origin: Option<&str>,
    watched: &Watched,
) -> Result<Answer, EdgeError> {
    match route {
        Route::Health => health(env).await,
        Route::Preflight => Ok(Answer {
            status: 204,
            body: String::new(),
            headers: preflight(origin),
            framable: false,
            stream: None,
            passed_on: None,
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
        Route::Approvals => approve(req, env, origin, watched).await,
        Route::Checkout => checkout_page(req, env),
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
        route => forward(req, env, route).await,
    }
}

/// `GET /health`: the shop's own problems and the back office's, which holds the secrets that
/// seal the archive and sign its digests (`degraded` also when it cannot be asked).
async fn health(env: &Env) -> Result<Answer, EdgeError> {
    let mut problems = Vec::new();
    match back_office_health(env).await {
        Ok(theirs) => problems.extend(theirs),
        Err(error) => problems.push(format!("the back office did not answer: {error}")),
    }
    health_answer(&problems)
}

/// The problems the back office's `/health` names (none when it answers 200).
async fn back_office_health(env: &Env) -> worker::Result<Vec<String>> {
    let response = env
        .service(BACK_OFFICE)?
        .fetch("https://back-office/health", None)
        .await?;
    let status = response.status_code();
    let body: serde_json::Value = serde_json::from_str(&crate::answer_body::text(response).await?)?;
    Ok(handlers::health_problems(status, &body))
}

/// A back-office route: the request goes on unread (body, headers, `CF-Connecting-IP` and all)
/// over the service binding, and its response comes back as the back office made it.
async fn forward(req: &mut Request, env: &Env, route: &Route) -> Result<Answer, EdgeError> {
    debug_assert_eq!(route.worker(), Worker::BackOffice);
    let fetcher = env.service(BACK_OFFICE).map_err(internal("BACK_OFFICE binding"))?;
    let response = fetcher
        .fetch_request(Request::from(Clone::clone(req.inner())))
        .await
        .map_err(internal("BACK_OFFICE fetch"))?;
    Ok(Answer {
        status: response.status_code(),
        body: String::new(),
        headers: Vec::new(),
        framable: false,
        stream: None,
        passed_on: Some(response),
    })
}

/// The cron trigger (`wrangler.toml`): the back office's scheduled work (audit digests, the sink
/// probe), asked over the service binding, which is the only way to reach it.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let mut init = RequestInit::new();
    init.with_method(Method::Post);
    let outcome = match env.service(BACK_OFFICE) {
        Ok(office) => office
            .fetch(format!("https://back-office{CRON_PATH}"), Some(init))
            .await
            .map(|r| r.status_code()),
        Err(error) => Err(error),
    };
    match outcome {
        Ok(204) => {}
        other => console_log!(
            "{}",
            serde_json::json!({ "kind": "cron_failed", "outcome": format!("{other:?}") })
        ),
    }
}
