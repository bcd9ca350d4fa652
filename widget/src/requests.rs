//! The dialog's requests to the edge (`POST /v1/sessions`, `POST /v1/events`) through
//! `gloo-net`, the HTTP client the design names. The card keeps its own `fetch` (no client in
//! the first paint's budget), and the requests made as the page goes away stay on `web-sys`
//! (`telemetry::send_on_exit`): they need `keepalive` and `sendBeacon`, which `gloo-net` does
//! not offer. The approval itself is posted by the edge's own form page, never by the widget.

use gloo_net::http::{Request, Response};
use paylater_card::edge_api::{EdgeApi, EdgeApiError};
use paylater_card::format;
use paylater_outbox::Outcome;
use paylater_shared::session::{NewSession, SessionCreated};
use paylater_shared::{ApiErrorBody, WidgetOptions};
use serde::de::DeserializeOwned;
use web_sys::{RequestCredentials, RequestMode};

/// A `POST` as `text/plain` (a CORS-safelisted type: no preflight round trip), with no
/// credentials: publishable keys identify, no cookie rides along.
async fn post(url: &str, body: String) -> Result<Response, EdgeApiError> {
    Request::post(url)
        .mode(RequestMode::Cors)
        .credentials(RequestCredentials::Omit)
        .body(body)
        .map_err(|_| EdgeApiError::BadResponse)?
        .send()
        .await
        .map_err(|_| EdgeApiError::Network)
}

/// The answer's JSON, or the edge's typed error.
async fn read<T: DeserializeOwned>(response: Response) -> Result<T, EdgeApiError> {
    let text = response.text().await.map_err(|_| EdgeApiError::Network)?;
    if response.ok() {
        return serde_json::from_str(&text).map_err(|_| EdgeApiError::BadResponse);
    }
    let body: ApiErrorBody = serde_json::from_str(&text).map_err(|_| EdgeApiError::BadResponse)?;
    Err(EdgeApiError::Refused {
        status: response.status(),
        code: body.error.code,
        message: body.error.message,
    })
}

/// `POST /v1/sessions`: a session bound to this page, amount and currency, counting from the
/// shopper's own date, so the approval's schedule starts on the day the terms on screen do.
pub async fn create_session(api: &EdgeApi, options: &WidgetOptions) -> Result<SessionCreated, EdgeApiError> {
    let url = api.sessions_url();
    let body = |start| NewSession {
        key: &options.key,
        amount: options.amount,
        currency: options.currency,
        start,
    };
    let with_date = serde_json::to_string(&body(format::local_today())).map_err(|_| EdgeApiError::BadResponse)?;
    match read(post(&url, with_date).await?).await {
        // A device clock more than a day off: the session counts from the edge's date, and the
        // approved schedule shows the dates that hold.
        Err(EdgeApiError::Refused { status: 422, code, .. }) if code == "invalid_range" => {
            let without = serde_json::to_string(&body(None)).map_err(|_| EdgeApiError::BadResponse)?;
            read(post(&url, without).await?).await
        }
        other => other,
    }
}

/// `POST /v1/sessions` with `renew`: the session of an expired `token` (expired within a day)
/// with a new token and the same id, so events a closed tab may already have delivered are
/// recognised by the edge's per-session dedup instead of counted twice.
pub async fn renew_session(api: &EdgeApi, key: &str, token: &str) -> Result<SessionCreated, EdgeApiError> {
    let body = serde_json::json!({ "key": key, "renew": token }).to_string();
    read(post(&api.sessions_url(), body).await?).await
}

/// `POST /v1/events`, turned into the outbox's outcome.
pub async fn post_events(url: &str, body: &str) -> Outcome {
    let Ok(response) = post(url, body.to_owned()).await else {
        return Outcome::network();
    };
    let status = response.status();
    if status == 202 {
        // The edge has the events even if its answer cannot be read.
        return Outcome::accepted(&response.text().await.unwrap_or_default());
    }
    let retry_after_ms = response
        .headers()
        .get("Retry-After")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(|seconds| seconds.saturating_mul(1000));
    Outcome::from_status(status, retry_after_ms)
}
