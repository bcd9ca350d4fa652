//! The optional upstream decision service (`DECISION_URL`): asked first, with a strict timeout;
//! any failure becomes [`UpstreamVerdict::Failed`], which can never approve.

use futures_util::future::{Either, select};
use worker::{AbortController, Delay, Env, Fetch, Headers, Method, Request, RequestInit};

use crate::approvals::{ApproveRequest, DecideRequest, UpstreamVerdict, parse_upstream_answer, upstream_features};
use crate::bindings::DECISION_URL;

/// The whole upstream call, connection included: a decision "in milliseconds" cannot wait longer.
const UPSTREAM_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(800);

/// Asked by the session's object once the session's own signals are filled in, so the service
/// sees what the scorecard sees.
pub async fn ask(env: &Env, approve: &ApproveRequest, decide: &DecideRequest) -> Option<UpstreamVerdict> {
    let url = env
        .var(DECISION_URL)
        .ok()
        .map(|v| v.to_string())
        .filter(|url| !url.trim().is_empty())?;
    let failed = |why: String| Some(UpstreamVerdict::Failed { why });
    let body = upstream_features(approve, decide).to_string();
    let headers = Headers::new();
    if headers.set("Content-Type", "application/json").is_err() {
        return failed("headers".into());
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    let outgoing = match Request::new_with_init(&url, &init) {
        Ok(outgoing) => outgoing,
        Err(e) => return failed(format!("request: {e}")),
    };
    let controller = AbortController::default();
    let signal = controller.signal();
    let exchange = Box::pin(async move {
        let response = Fetch::Request(outgoing).send_with_signal(&signal).await?;
        let status = response.status_code();
        Ok::<_, worker::Error>((status, crate::answer_body::text(response).await?))
    });
    match select(exchange, Box::pin(Delay::from(UPSTREAM_TIMEOUT))).await {
        Either::Left((Ok((status, text)), _)) => Some(parse_upstream_answer(status, &text)),
        Either::Left((Err(e), _)) => failed(format!("network: {e}")),
        Either::Right(_) => {
            controller.abort();
            failed("timed out".into())
        }
    }
}
