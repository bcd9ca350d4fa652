//! The Workers runtime boundary: turns a `worker::Request` into calls of the pure modules, looks
//! up bindings, and writes the access log. Kept thin on purpose.

use std::cell::RefCell;
use std::collections::HashMap;

use paylater_shared::token::TokenError;
use wasm_bindgen::prelude::wasm_bindgen;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{Context, Date, Env, Headers, Request, Response, console_log, event, js_sys, web_sys};

use crate::anomaly::{Metric, RefusalTally};
use crate::anomaly_watch::{self, ObserveRequest};
use crate::approvals;
use crate::auth::{check_key_format, merchant_from_store, merchant_kv_key};
use crate::bindings::{CUSTOMER_HASH_KEY, MERCHANTS_KV};
use crate::error::EdgeError;
use crate::handlers;
use crate::headers::{DENY_FRAMING, SECURITY_HEADERS, cors_for_checked_origin};
use crate::json_body;
use crate::merchant::MerchantConfig;
use crate::objects;
use crate::route::Route;
use crate::sessions;

#[cfg(all(feature = "shop", feature = "office"))]
compile_error!("build the edge with exactly one of the features `shop` and `office`");
#[cfg(not(any(feature = "shop", feature = "office")))]
compile_error!(
    "build the edge with one of the features `shop` (the shopper-facing Worker) or `office` (the back office)"
);

#[cfg(feature = "office")]
mod office;
#[cfg(feature = "shop")]
mod shop;
#[cfg(feature = "office")]
use office::answer;
#[cfg(feature = "shop")]
use shop::answer;

/// Merchant configs stay this long in an isolate's memory: KV itself is eventually consistent
/// for about a minute, and the events route should not pay a KV read per request.
const MERCHANT_CACHE_MS: i64 = 30_000;

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
    /// The back office's own response to a request the shop passed on, sent as it is.
    passed_on: Option<Response>,
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
            passed_on: None,
        })
    }
}

/// `GET /health`'s answer for these problems (`ok`, or 503 `degraded` naming them), never cached.
fn health_answer(problems: &[String]) -> Result<Answer, EdgeError> {
    let (status, body) = handlers::health(problems);
    let mut answer = Answer::json(&body, vec![("Cache-Control", "no-store".into())])?;
    answer.status = status;
    Ok(answer)
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
    #[cfg(feature = "shop")]
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

/// Reads a request body within the limit: one whose declared length is over it is refused before
/// reading, one its declared length frames is read whole, and any other (chunked) is refused as
/// soon as it would pass the limit while it streams in, so an endless body is never held whole.
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
    let Some(stream) = req.inner().body() else {
        return Ok(Vec::new());
    };
    // A declared length within the limit bounds the body by HTTP's own framing (HTTP/2 and /3
    // too: DATA beyond `content-length` makes the request malformed), so the runtime reads it in
    // one go. With a Transfer-Encoding beside it, the length may not be what frames the body.
    let framed_by_length = declared.is_some() && req.headers().get("Transfer-Encoding").ok().flatten().is_none();
    if framed_by_length {
        let body = req.bytes().await.map_err(internal("reading body"))?;
        return json_body::within_limit(body);
    }
    // Otherwise chunk by chunk with the runtime's own reader (`worker`'s stream wrapper costs
    // more), refused before a chunk that would pass the limit is copied, and the rest cancelled.
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let read = read_chunks(&reader).await;
    if read.is_err() {
        let _ = reader.cancel();
    }
    read
}

async fn read_chunks(reader: &web_sys::ReadableStreamDefaultReader) -> Result<Vec<u8>, EdgeError> {
    let failed = |detail: &str| EdgeError::Internal {
        detail: format!("reading body: {detail}"),
    };
    let mut body = Vec::new();
    loop {
        let step = JsFuture::from(reader.read())
            .await
            .map_err(|e| failed(&worker::Error::from(e).to_string()))?;
        let field = |name: &str| js_sys::Reflect::get(&step, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED);
        match field("done").as_bool() {
            Some(true) => return Ok(body),
            Some(false) => {}
            None => return Err(failed("a read that says neither done nor not")),
        }
        let chunk: js_sys::Uint8Array = field("value")
            .dyn_into()
            .map_err(|_| failed("a chunk that is not bytes"))?;
        json_body::room_for(body.len(), chunk.length() as usize)?;
        body.extend_from_slice(&chunk.to_vec());
    }
}

fn respond(answer: Answer, request_id: &str) -> worker::Result<Response> {
    if let Some(response) = answer.passed_on {
        return Ok(response);
    }
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
    #[cfg(feature = "office")]
    if req.path() == crate::route::CRON_PATH && req.method() == worker::Method::Post {
        crate::probe::run(&env).await;
        return Response::empty().map(|r| r.with_status(204));
    }
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
                    passed_on: None,
                },
                detail,
            )
        }
    };
    // A request the shop passed on is logged under the back office's id (its answer's), so the
    // two Workers' lines for it are found together.
    let request_id = answer
        .passed_on
        .as_ref()
        .and_then(|response| response.headers().get("X-Request-Id").ok().flatten())
        .unwrap_or(request_id);
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
