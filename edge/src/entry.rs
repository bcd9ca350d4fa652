//! The Workers runtime boundary: turns a `worker::Request` into calls of the pure modules, looks
//! up bindings, and writes the access log. Kept thin on purpose.

use paylater_shared::CivilDate;
use wasm_bindgen::prelude::wasm_bindgen;
use worker::{Context, Date, Env, Headers, Request, Response, console_log, event};

use crate::auth::{check_key_format, check_origin, merchant_from_store, merchant_kv_key};
use crate::bindings::{MERCHANTS_KV, SESSION_KEYS};
use crate::error::EdgeError;
use crate::handlers;
use crate::headers::{SECURITY_HEADERS, cors_for_checked_origin, preflight};
use crate::query::OffersQuery;
use crate::route::Route;
use crate::sessions;

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
    headers: Vec<(&'static str, String)>,
}

impl Answer {
    fn json<T: serde::Serialize>(value: &T, headers: Vec<(&'static str, String)>) -> Result<Self, EdgeError> {
        let body = serde_json::to_string(value).map_err(|e| EdgeError::Internal {
            detail: format!("serialize: {e}"),
        })?;
        Ok(Self {
            status: 200,
            body,
            headers,
        })
    }
}

fn internal(context: &str) -> impl FnOnce(worker::Error) -> EdgeError + '_ {
    move |e| EdgeError::Internal {
        detail: format!("{context}: {e}"),
    }
}

async fn load_merchant(env: &Env, key: &str) -> Result<paylater_shared::MerchantConfig, EdgeError> {
    check_key_format(key)?;
    let kv = env.kv(MERCHANTS_KV).map_err(internal("KV binding"))?;
    let stored = kv
        .get(&merchant_kv_key(key))
        .text()
        .await
        .map_err(|e| EdgeError::Internal {
            detail: format!("KV get: {e}"),
        })?;
    merchant_from_store(stored)
}

/// Reads a request body, refusing oversized ones by their declared length before reading.
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
    let body = req.bytes().await.map_err(internal("reading body"))?;
    if body.len() > sessions::MAX_BODY_BYTES {
        return Err(EdgeError::BodyTooLarge);
    }
    Ok(body)
}

async fn answer(route: &Route, req: &mut Request, env: &Env, origin: Option<&str>) -> Result<Answer, EdgeError> {
    match route {
        Route::Health => Answer::json(&handlers::health(), vec![("Cache-Control", "no-store".into())]),
        Route::Preflight => Ok(Answer {
            status: 204,
            body: String::new(),
            headers: preflight(origin),
        }),
        Route::MerchantConfig { key } => {
            let merchant = load_merchant(env, key).await?;
            check_origin(&merchant, origin)?;
            let mut headers = cors_for_checked_origin(origin);
            headers.push(("Cache-Control", "public, max-age=60".into()));
            Answer::json(&handlers::merchant_config(&merchant), headers)
        }
        Route::Offers => {
            let url = req.url().map_err(internal("request URL"))?;
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let query = OffersQuery::parse(&pairs)?;
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
        Route::Sessions => {
            sessions::check_content_type(req.headers().get("Content-Type").ok().flatten().as_deref())?;
            let body = read_body(req).await?;
            let request = sessions::parse_session_request(&body)?;
            let merchant = load_merchant(env, &request.key).await?;
            let secret = env
                .secret(SESSION_KEYS)
                .map_err(internal("SESSION_KEYS secret"))?
                .to_string();
            let keyring = sessions::keyring_from_secret(&secret)?;
            let now_s = (Date::now().as_millis() / 1000) as i64;
            let created = sessions::create_session(&merchant, &request, origin, &keyring, random_uuid(), now_s)?;
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
    for (name, value) in &answer.headers {
        headers.set(name, value)?;
    }
    if !answer.body.is_empty() {
        headers.set("Content-Type", "application/json; charset=utf-8")?;
    }
    headers.set("X-Request-Id", request_id)?;
    let response = if answer.body.is_empty() {
        Response::empty()?
    } else {
        Response::ok(answer.body)?
    };
    Ok(response.with_status(answer.status).with_headers(headers))
}

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let started = Date::now().as_millis();
    let request_id = random_uuid();
    let method = req.method().to_string();
    let path = req.path();
    let origin = req.headers().get("Origin").ok().flatten();
    let route = Route::resolve(&method, &path);
    let outcome = match &route {
        Ok(route) => answer(route, &mut req, &env, origin.as_deref()).await,
        Err(error) => Err(error.clone()),
    };
    let (answer, error_detail) = match outcome {
        Ok(answer) => (answer, None),
        Err(error) => {
            let detail = match &error {
                EdgeError::Internal { detail } => Some(detail.clone()),
                _ => None,
            };
            // Errors carry CORS too, so the widget can read why it was refused.
            let headers = match &error {
                EdgeError::OriginNotAllowed { .. } => vec![("Vary", "Origin".to_owned())],
                _ => cors_for_checked_origin(origin.as_deref()),
            };
            (
                Answer {
                    status: error.status(),
                    body: error.body(),
                    headers,
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
