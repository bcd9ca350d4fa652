//! Typed calls to the edge API. Every fetch carries an `AbortSignal` the caller aborts when the
//! component that asked goes away.

use paylater_shared::merchant::PublicMerchantConfig;
use paylater_shared::{ApiErrorBody, CivilDate, OffersResponse, WidgetOptions};
use thiserror::Error;

use crate::js_read::{FromJs, parse};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, RequestCredentials, RequestInit, RequestMode, Response};

/// Why a call to the edge failed, as the widget tells it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EdgeApiError {
    #[error("the Paylater service could not be reached")]
    Network,
    #[error("{message}")]
    Refused { status: u16, code: String, message: String },
    #[error("the Paylater service answered something unexpected")]
    BadResponse,
}

impl EdgeApiError {
    pub fn code(&self) -> &str {
        match self {
            Self::Network => "network_error",
            Self::Refused { code, .. } => code,
            Self::BadResponse => "bad_response",
        }
    }
}

/// The terms' two requests as the loader sent them, before the card's bundle was ready. Each
/// promise gives the answer's `{status, text}`: the loader reads the bodies as they arrive, so
/// a card mounting after them finds them read instead of waiting a task per body.
pub struct Prefetched {
    pub config_url: String,
    pub offers_url: String,
    pub config: js_sys::Promise,
    pub offers: js_sys::Promise,
}

impl Prefetched {
    /// Reads the loader's `prefetchedReplies` option; `None` if absent or malformed.
    pub fn from_options(options: &wasm_bindgen::JsValue) -> Option<Self> {
        let sent = js_sys::Reflect::get(options, &"prefetchedReplies".into()).ok()?;
        let field = |name: &str| js_sys::Reflect::get(&sent, &name.into()).ok();
        Some(Self {
            config_url: field("config_url")?.as_string()?,
            offers_url: field("offers_url")?.as_string()?,
            config: field("config")?.dyn_into().ok()?,
            offers: field("offers")?.dyn_into().ok()?,
        })
    }
}

/// Where the edge API lives (`data-edge`, or the origin the loader came from).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeApi {
    base: String,
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl EdgeApi {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    pub fn merchant_config_url(&self, key: &str) -> String {
        format!("{}/v1/merchants/{}/config", self.base, encode(key))
    }

    pub fn offers_url(&self, options: &WidgetOptions, start: Option<CivilDate>) -> String {
        let mut url = format!(
            "{}/v1/offers?key={}&amount={}&currency={}&locale={}",
            self.base,
            encode(&options.key),
            options.amount,
            options.currency,
            encode(&options.locale)
        );
        if let Some(start) = start {
            url.push_str(&format!("&start={start}"));
        }
        url
    }

    /// `POST /v1/events`.
    pub fn events_url(&self) -> String {
        format!("{}/v1/events", self.base)
    }

    /// `POST /v1/sessions`.
    pub fn sessions_url(&self) -> String {
        format!("{}/v1/sessions", self.base)
    }

    /// The approval form page for a session and plan, framed by the widget.
    pub fn checkout_url(&self, session_token: &str, plan_id: &str, locale: &str) -> String {
        format!(
            "{}/v1/checkout?session={}&plan={}&locale={}",
            self.base,
            encode(session_token),
            encode(plan_id),
            encode(locale)
        )
    }

    /// The origin the checkout page's messages must come from.
    pub fn origin(&self) -> Option<String> {
        web_sys::Url::new(&self.base).ok().map(|url| url.origin())
    }

    /// Asks for the merchant's public config and this amount's offers at once: both requests
    /// are on the wire before either answer is awaited. Requests the loader already sent for
    /// exactly these URLs are used instead of asking again.
    pub async fn terms(
        &self,
        options: &WidgetOptions,
        start: Option<CivilDate>,
        signal: Option<&AbortSignal>,
        prefetched: Option<Prefetched>,
    ) -> (
        Result<PublicMerchantConfig, EdgeApiError>,
        Result<OffersResponse, EdgeApiError>,
    ) {
        let (config_url, offers_url) = (self.merchant_config_url(&options.key), self.offers_url(options, start));
        let get = || {
            let init = RequestInit::new();
            init.set_method("GET");
            init
        };
        match prefetched {
            Some(sent) if sent.config_url == config_url && sent.offers_url == offers_url => (
                read_reply(sent.config).await.and_then(|reply| reply.decode()),
                read_reply(sent.offers).await.and_then(|reply| reply.decode()),
            ),
            _ => {
                let (config, offers) = (
                    start_fetch(&config_url, get(), signal),
                    start_fetch(&offers_url, get(), signal),
                );
                (
                    read_response(config).await.and_then(|reply| reply.decode()),
                    read_response(offers).await.and_then(|reply| reply.decode()),
                )
            }
        }
    }
}

/// An answer's status and body, read.
struct Reply {
    status: u16,
    text: String,
}

impl Reply {
    /// The body as `T` for a success, else the edge's typed refusal.
    fn decode<T: FromJs>(self) -> Result<T, EdgeApiError> {
        if (200..300).contains(&self.status) {
            return parse(&self.text).ok_or(EdgeApiError::BadResponse);
        }
        match parse::<ApiErrorBody>(&self.text) {
            Some(body) => Err(EdgeApiError::Refused {
                status: self.status,
                code: body.error.code,
                message: body.error.message,
            }),
            None => Err(EdgeApiError::BadResponse),
        }
    }
}

/// Sends the request now; the answer is read by `read_json`.
fn start_fetch(url: &str, init: RequestInit, signal: Option<&AbortSignal>) -> Option<JsFuture> {
    init.set_mode(RequestMode::Cors);
    // Publishable keys identify; no cookie of the merchant's or ours ever rides along.
    init.set_credentials(RequestCredentials::Omit);
    init.set_signal(signal);
    let window = web_sys::window()?;
    Some(JsFuture::from(window.fetch_with_str_and_init(url, &init)))
}

async fn read_response(request: Option<JsFuture>) -> Result<Reply, EdgeApiError> {
    let response: Response = request
        .ok_or(EdgeApiError::Network)?
        .await
        .map_err(|_| EdgeApiError::Network)?
        .dyn_into()
        .map_err(|_| EdgeApiError::BadResponse)?;
    let text = JsFuture::from(response.text().map_err(|_| EdgeApiError::BadResponse)?)
        .await
        .map_err(|_| EdgeApiError::Network)?
        .as_string()
        .ok_or(EdgeApiError::BadResponse)?;
    Ok(Reply {
        status: response.status(),
        text,
    })
}

/// A `{status, text}` the loader read; a rejection is a request that never got an answer.
async fn read_reply(promise: js_sys::Promise) -> Result<Reply, EdgeApiError> {
    let reply = JsFuture::from(promise).await.map_err(|_| EdgeApiError::Network)?;
    let field = |name: &str| js_sys::Reflect::get(&reply, &name.into()).ok();
    let status = field("status")
        .and_then(|v| v.as_f64())
        .filter(|s| (100.0..600.0).contains(s))
        .ok_or(EdgeApiError::BadResponse)?;
    let text = field("text")
        .and_then(|v| v.as_string())
        .ok_or(EdgeApiError::BadResponse)?;
    Ok(Reply {
        status: status as u16,
        text,
    })
}
