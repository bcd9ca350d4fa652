//! What each path does. `POST /orders` is the one endpoint the shop page calls (CORS for its
//! origin only); the orders page and its buttons are same-origin HTML and form posts. The HTTP
//! server itself is `main`'s: this module sees an [`Incoming`] request and answers a [`Reply`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use paylater_shared::api_error::ApiError;
use paylater_shared::date::CivilDate;
use paylater_shared::order::Order;
use serde_json::json;

use crate::config::Config;
use crate::edge_client::{EdgeClient, EdgeError};
use crate::error::ServerError;
use crate::input::{self, OrderId};
use crate::page::{self, Notice, OrdersPage, Row};
use crate::store::Store;
use crate::verify::{self, Expectation, KeyCache};

/// What only this server answers on `/health`: how the harness knows it is ours.
pub const HEALTH_BODY: &str = r#"{"merchant_server":true}"#;

/// The orders page and everything else this server sends: no scripts, styles from itself only,
/// forms post back here only, never framed.
const CSP: &str = "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// No referrer leaves this server, but its own form posts still name their origin.
const REFERRER_POLICY: &str = "same-origin";

/// The edge's keys are kept this long, and fetched again for an unknown key id at most this often.
const KEYS_TTL: Duration = Duration::from_secs(300);
const KEYS_MIN_REFETCH: Duration = Duration::from_secs(10);

/// A button of the orders page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Capture,
    Refund,
    Void,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Self::Capture => "capture",
            Self::Refund => "refund",
            Self::Void => "void",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Health,
    OrdersPage,
    Stylesheet,
    PlaceOrder,
    PlaceOrderPreflight,
    Act(OrderId, Action),
    Refused(ServerError),
}

/// The route of `method` and `path` (without the query).
pub fn route(method: &str, path: &str) -> Route {
    let only = |allowed: &'static str, route: Route| {
        if allowed.split(", ").any(|m| m == method) {
            route
        } else {
            Route::Refused(ServerError::MethodNotAllowed(allowed))
        }
    };
    match path {
        "/health" => only("GET", Route::Health),
        "/" => only("GET", Route::OrdersPage),
        "/style.css" => only("GET", Route::Stylesheet),
        "/orders" if method == "OPTIONS" => Route::PlaceOrderPreflight,
        "/orders" => only("POST, OPTIONS", Route::PlaceOrder),
        _ => {
            let action = path.strip_prefix("/orders/").and_then(|rest| {
                let (id, action) = rest.split_once('/')?;
                let action = match action {
                    "capture" => Action::Capture,
                    "refund" => Action::Refund,
                    "void" => Action::Void,
                    _ => return None,
                };
                Some((OrderId::parse(id)?, action))
            });
            match action {
                Some((id, action)) => only("POST", Route::Act(id, action)),
                None => Route::Refused(ServerError::NotFound),
            }
        }
    }
}

/// A request as this module needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    pub method: String,
    /// Without the query.
    pub path: String,
    pub origin: Option<String>,
    pub host: Option<String>,
    pub content_type: Option<String>,
    /// `None` when it was over [`input::MAX_BODY_BYTES`].
    pub body: Option<Vec<u8>>,
}

/// An answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: vec![
                ("Content-Type", content_type.to_owned()),
                ("Content-Security-Policy", CSP.to_owned()),
                ("X-Content-Type-Options", "nosniff".to_owned()),
                // Not `no-referrer`: with it a browser sends `Origin: null` on the page's own form
                // posts, and the buttons' origin check (same_origin) could not tell them apart.
                ("Referrer-Policy", REFERRER_POLICY.to_owned()),
                ("Cache-Control", "no-store".to_owned()),
            ],
            body: body.into(),
        }
    }

    fn json(status: u16, value: &serde_json::Value) -> Self {
        Self::new(status, "application/json", value.to_string())
    }

    fn error(error: &ServerError) -> Self {
        let mut reply = Self::json(error.status(), &json!(error.api_error().into_body()));
        if let ServerError::MethodNotAllowed(allowed) = error {
            reply.headers.push(("Allow", (*allowed).to_owned()));
        }
        reply
    }

    /// 303 to the orders page: the browser loads it with GET, so a reload posts nothing again.
    fn see_orders() -> Self {
        let mut reply = Self::new(303, "text/plain; charset=utf-8", "See /");
        reply.headers.push(("Location", "/".to_owned()));
        reply
    }
}

/// Whether the body's media type is `wanted` (parameters such as `charset` aside).
fn media_type_is(content_type: Option<&str>, wanted: &str) -> bool {
    content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case(wanted))
}

/// An `Idempotency-Key` for one press of a button: unique in this process (the counter) and
/// across restarts (the time).
pub fn idempotency_key(action: Action, order_id: &OrderId, unix_ms: u128, n: u64) -> String {
    format!("ms-{}-{order_id}-{unix_ms}-{n}", action.as_str())
}

fn unix_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
}

fn today_utc() -> Option<CivilDate> {
    CivilDate::from_unix_millis_utc(i64::try_from(unix_ms()).ok()?).ok()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The server's state: its settings, the edge, the cached keys and the orders it made.
pub struct App {
    config: Config,
    edge: EdgeClient,
    keys: Mutex<KeyCache>,
    store: Mutex<Store>,
    presses: AtomicU64,
}

impl App {
    pub fn new(config: Config) -> Self {
        let edge = EdgeClient::new(&config.edge_url, &config.secret_key);
        Self {
            config,
            edge,
            keys: Mutex::new(KeyCache::new(KEYS_TTL, KEYS_MIN_REFETCH)),
            store: Mutex::new(Store::default()),
            presses: AtomicU64::new(0),
        }
    }

    pub fn handle(&self, request: &Incoming) -> Reply {
        match route(&request.method, &request.path) {
            Route::Health => Reply::new(200, "application/json", HEALTH_BODY),
            Route::Stylesheet => Reply::new(200, "text/css; charset=utf-8", page::STYLESHEET),
            Route::OrdersPage => self.orders_page(),
            Route::PlaceOrderPreflight => self.preflight(request),
            Route::PlaceOrder => {
                let mut reply = match self.place_order(request) {
                    Ok(reply) => reply,
                    Err(error) => Reply::error(&error),
                };
                self.add_cors(request, &mut reply);
                reply
            }
            Route::Act(id, action) => match same_origin(request) {
                Ok(()) => self.act(request, &id, action),
                Err(error) => Reply::error(&error),
            },
            Route::Refused(error) => Reply::error(&error),
        }
    }

    fn allowed_origin(&self, request: &Incoming) -> Option<String> {
        request
            .origin
            .as_ref()
            .filter(|origin| **origin == self.config.allowed_origin)
            .cloned()
    }

    fn add_cors(&self, request: &Incoming, reply: &mut Reply) {
        reply.headers.push(("Vary", "Origin".to_owned()));
        if let Some(origin) = self.allowed_origin(request) {
            reply.headers.push(("Access-Control-Allow-Origin", origin));
        }
    }

    /// The browser asks before posting JSON from the shop page's origin.
    fn preflight(&self, request: &Incoming) -> Reply {
        let mut reply = match self.allowed_origin(request) {
            Some(_) => {
                let mut reply = Reply::new(204, "text/plain; charset=utf-8", Vec::new());
                reply.headers.extend([
                    ("Access-Control-Allow-Methods", "POST".to_owned()),
                    ("Access-Control-Allow-Headers", "Content-Type".to_owned()),
                    ("Access-Control-Max-Age", "600".to_owned()),
                ]);
                reply
            }
            None => Reply::error(&ServerError::OriginNotAllowed),
        };
        self.add_cors(request, &mut reply);
        reply
    }

    /// `POST /orders`: verify the token, then make the order at the edge under our reference.
    fn place_order(&self, request: &Incoming) -> Result<Reply, ServerError> {
        // A browser on another origin gets nothing; a server-to-server call sends no Origin.
        if request.origin.is_some() && self.allowed_origin(request).is_none() {
            return Err(ServerError::OriginNotAllowed);
        }
        if !media_type_is(request.content_type.as_deref(), "application/json") {
            return Err(ServerError::UnsupportedMediaType("application/json"));
        }
        let body = request.body.as_deref().ok_or(ServerError::BodyTooLarge)?;
        let placed = input::parse_place_order(body)?;
        let kid = verify::key_id(&placed.approval_token)?;
        let keys = lock(&self.keys).keys_for(&kid, Instant::now(), || self.edge.keys())?;
        let expected = Expectation {
            merchant_id: &self.config.merchant_id,
            livemode: self.config.livemode,
        };
        let claims = verify::verify(&placed.approval_token, &keys, &expected)?;
        // A real shop would now compare claims.amount, currency and plan_id with its own cart,
        // and remember claims.jti; this example has no cart and places what was approved.
        let reference = lock(&self.store).reference_for(&claims.sub, placed.cart_reference);
        let created = self.edge.create_order(&placed.approval_token, &reference)?;
        let order = created.order;
        let order_id = OrderId::parse(&order.order_id).ok_or(EdgeError::Unexpected { status: 201 })?;
        lock(&self.store).created(&claims.sub, order_id);
        eprintln!(
            "order {} {} for approval {}: {} {} {}",
            order.merchant_reference,
            order.order_id,
            claims.sub,
            order.status.as_str(),
            order.amount,
            order.currency
        );
        let status = if created.replayed { 200 } else { 201 };
        Ok(Reply::json(
            status,
            &json!({
                "order_id": order.order_id,
                "merchant_reference": order.merchant_reference,
                "status": order.status,
                "amount": order.amount,
                "currency": order.currency,
            }),
        ))
    }

    /// `GET /`: every order made here, as the edge has it now, and today's reconciliation.
    fn orders_page(&self) -> Reply {
        let (placed, notice) = {
            let mut store = lock(&self.store);
            (store.orders(), store.take_notice())
        };
        let rows: Vec<Row> = placed
            .into_iter()
            .filter_map(|p| {
                let id = p.order_id?;
                Some(match self.edge.order(&id) {
                    Ok(order) => Row::Loaded {
                        order,
                        cart_reference: p.cart_reference,
                    },
                    Err(error) => Row::Unavailable {
                        reference: p.reference,
                        order_id: id.to_string(),
                        error: error.to_string(),
                    },
                })
            })
            .collect();
        let today = today_utc();
        let reconciliation = match today {
            Some(day) => self.edge.reconciliation(day, day).map_err(|e| e.to_string()),
            None => Err("this machine's clock is not set".to_owned()),
        };
        let today = today.map(|d| d.to_string()).unwrap_or_default();
        let html = page::render(&OrdersPage {
            merchant_id: &self.config.merchant_id,
            livemode: self.config.livemode,
            today: &today,
            notice: notice.as_ref(),
            rows: &rows,
            reconciliation: &reconciliation,
        });
        Reply::new(200, "text/html; charset=utf-8", html)
    }

    /// A button: the change at the edge with a fresh `Idempotency-Key`, its outcome as the next
    /// page's notice, and back to the page.
    fn act(&self, request: &Incoming, id: &OrderId, action: Action) -> Reply {
        if !lock(&self.store).knows(id) {
            return Reply::error(&ServerError::NotFound);
        }
        let key = idempotency_key(action, id, unix_ms(), self.presses.fetch_add(1, Ordering::Relaxed));
        let outcome = match action {
            Action::Capture => self.capture_rest(id, &key),
            Action::Refund => match request.body.as_deref().map(input::parse_refund_form) {
                Some(Ok(amount)) => self.edge.refund(id, amount, &key).map_err(ServerError::from),
                Some(Err(error)) => Err(error.into()),
                None => Err(ServerError::BodyTooLarge),
            },
            Action::Void => self.edge.void(id, &key).map_err(ServerError::from),
        };
        let notice = match outcome {
            Ok(order) => Notice::done(done_text(action, &order)),
            Err(error) => Notice::failed(failed_text(action, id, &error.api_error())),
        };
        eprintln!("{} {id}: {}", action.as_str(), notice.text);
        lock(&self.store).set_notice(notice);
        Reply::see_orders()
    }

    /// Captures what is left of the order now: its amount less what was captured.
    fn capture_rest(&self, id: &OrderId, key: &str) -> Result<Order, ServerError> {
        let order = self.edge.order(id)?;
        let rest = order.amount.saturating_sub(order.captured);
        if rest == 0 {
            return Err(ServerError::Edge(EdgeError::Refused {
                status: 409,
                error: ApiError::new("invalid_order_state", "nothing is left to capture", None),
            }));
        }
        Ok(self.edge.capture(id, rest, key)?)
    }
}

/// A form post must come from this server's own page: a browser names the page's origin, which
/// must be this host. (A request without `Origin` is not a browser's form post.)
fn same_origin(request: &Incoming) -> Result<(), ServerError> {
    match (&request.origin, &request.host) {
        (None, _) => Ok(()),
        (Some(origin), Some(host)) if *origin == format!("http://{host}") => Ok(()),
        _ => Err(ServerError::OriginNotAllowed),
    }
}

fn done_text(action: Action, order: &Order) -> String {
    let what = match action {
        Action::Capture => format!("captured {}", page::money(order.captured, order.currency)),
        Action::Refund => format!("refunded {} in all", page::money(order.refunded, order.currency)),
        Action::Void => "voided what was not captured".to_owned(),
    };
    format!("{}: {what}; now {}.", order.merchant_reference, order.status.as_str())
}

fn failed_text(action: Action, id: &OrderId, error: &ApiError) -> String {
    format!("{} of {id} failed ({}): {}", action.as_str(), error.code, error.message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_ALLOWED_ORIGIN;

    const ID: &str = "ord_test_0190d2c46b7a7cc29a1e3f6b2a9d4e10";

    fn id() -> OrderId {
        OrderId::parse(ID).unwrap()
    }

    fn app() -> App {
        // An edge nobody listens on: these tests never get as far as calling it.
        let config = Config::from_args(&["--edge".into(), "http://127.0.0.1:9".into()], |_| None).unwrap();
        App::new(config)
    }

    fn request(method: &str, path: &str) -> Incoming {
        Incoming {
            method: method.into(),
            path: path.into(),
            origin: None,
            host: Some("127.0.0.1:8790".into()),
            content_type: None,
            body: Some(Vec::new()),
        }
    }

    fn header<'r>(reply: &'r Reply, name: &str) -> Option<&'r str> {
        reply.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    fn error_code(reply: &Reply) -> String {
        let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        body["error"]["code"].as_str().unwrap().to_owned()
    }

    #[test]
    fn routes() {
        assert_eq!(route("GET", "/health"), Route::Health);
        assert_eq!(route("GET", "/"), Route::OrdersPage);
        assert_eq!(route("GET", "/style.css"), Route::Stylesheet);
        assert_eq!(route("POST", "/orders"), Route::PlaceOrder);
        assert_eq!(route("OPTIONS", "/orders"), Route::PlaceOrderPreflight);
        assert_eq!(
            route("POST", &format!("/orders/{ID}/capture")),
            Route::Act(id(), Action::Capture)
        );
        assert_eq!(
            route("POST", &format!("/orders/{ID}/refund")),
            Route::Act(id(), Action::Refund)
        );
        assert_eq!(
            route("POST", &format!("/orders/{ID}/void")),
            Route::Act(id(), Action::Void)
        );
        assert_eq!(
            route("GET", &format!("/orders/{ID}/void")),
            Route::Refused(ServerError::MethodNotAllowed("POST"))
        );
        assert_eq!(
            route("GET", "/orders"),
            Route::Refused(ServerError::MethodNotAllowed("POST, OPTIONS"))
        );
        for path in [
            "/orders/ord_test_x/capture",
            &format!("/orders/{ID}/explode"),
            &format!("/orders/{ID}"),
            "/v1/keys",
        ] {
            assert_eq!(route("POST", path), Route::Refused(ServerError::NotFound), "{path}");
        }
    }

    #[test]
    fn health_is_ours() {
        let reply = app().handle(&request("GET", "/health"));
        assert_eq!((reply.status, reply.body.as_slice()), (200, HEALTH_BODY.as_bytes()));
        assert_eq!(header(&reply, "Content-Type"), Some("application/json"));
    }

    #[test]
    fn the_shop_page_origin_alone_may_place_orders_from_a_browser() {
        let app = app();
        let preflight = Incoming {
            origin: Some(DEFAULT_ALLOWED_ORIGIN.into()),
            ..request("OPTIONS", "/orders")
        };
        let reply = app.handle(&preflight);
        assert_eq!(reply.status, 204);
        assert_eq!(
            header(&reply, "Access-Control-Allow-Origin"),
            Some(DEFAULT_ALLOWED_ORIGIN)
        );
        assert_eq!(header(&reply, "Access-Control-Allow-Headers"), Some("Content-Type"));
        let stranger = Incoming {
            origin: Some("http://evil.example".into()),
            ..preflight.clone()
        };
        let reply = app.handle(&stranger);
        assert_eq!(reply.status, 403);
        assert_eq!(header(&reply, "Access-Control-Allow-Origin"), None);
        // A simple (text/plain) cross-site post is refused before anything is read.
        let post = Incoming {
            method: "POST".into(),
            content_type: Some("text/plain".into()),
            body: Some(br#"{"approval_token":"x"}"#.to_vec()),
            ..stranger
        };
        let reply = app.handle(&post);
        assert_eq!((reply.status, error_code(&reply).as_str()), (403, "origin_not_allowed"));
    }

    #[test]
    fn place_order_answers_typed_errors_with_cors_for_the_shop_page() {
        let app = app();
        let post = |content_type: &str, body: Option<&[u8]>| {
            app.handle(&Incoming {
                origin: Some(DEFAULT_ALLOWED_ORIGIN.into()),
                content_type: Some(content_type.into()),
                body: body.map(<[u8]>::to_vec),
                ..request("POST", "/orders")
            })
        };
        let cases: [(Reply, u16, &str); 5] = [
            (post("text/plain", Some(b"{}")), 415, "unsupported_media_type"),
            (post("application/json", None), 413, "body_too_large"),
            (
                post("application/json; charset=utf-8", Some(b"{}")),
                400,
                "missing_parameter",
            ),
            (
                post("application/json", Some(br#"{"approval_token":"not.a.jwt"}"#)),
                422,
                "invalid_approval_token",
            ),
            (
                post("application/json", Some(br#"{"approval_token":"t","extra":1}"#)),
                400,
                "unknown_field",
            ),
        ];
        for (reply, status, code) in cases {
            assert_eq!((reply.status, error_code(&reply).as_str()), (status, code));
            assert_eq!(
                header(&reply, "Access-Control-Allow-Origin"),
                Some(DEFAULT_ALLOWED_ORIGIN),
                "the page can read {code}"
            );
        }
    }

    #[test]
    fn buttons_act_only_on_this_servers_orders_from_its_own_page() {
        let app = app();
        let press = Incoming {
            origin: Some("http://127.0.0.1:8790".into()),
            ..request("POST", &format!("/orders/{ID}/void"))
        };
        // Not an order this server made: nothing is sent to the edge.
        assert_eq!(app.handle(&press).status, 404);
        let cross_site = Incoming {
            origin: Some("http://evil.example".into()),
            ..press
        };
        let reply = app.handle(&cross_site);
        assert_eq!((reply.status, error_code(&reply).as_str()), (403, "origin_not_allowed"));
    }

    #[test]
    fn the_page_keeps_its_origin_on_its_own_form_posts() {
        let reply = app().handle(&request("GET", "/health"));
        assert_eq!(header(&reply, "Referrer-Policy"), Some("same-origin"));
        let press = |origin: Option<&str>| Incoming {
            origin: origin.map(str::to_owned),
            ..request("POST", &format!("/orders/{ID}/capture"))
        };
        assert_eq!(same_origin(&press(Some("http://127.0.0.1:8790"))), Ok(()));
        assert_eq!(same_origin(&press(None)), Ok(()));
        for origin in ["null", "http://127.0.0.1:8080", "https://127.0.0.1:8790"] {
            assert_eq!(
                same_origin(&press(Some(origin))),
                Err(ServerError::OriginNotAllowed),
                "{origin}"
            );
        }
    }

    #[test]
    fn idempotency_keys_are_fresh_and_well_formed() {
        let first = idempotency_key(Action::Capture, &id(), 1_764_410_400_123, 0);
        let second = idempotency_key(Action::Capture, &id(), 1_764_410_400_123, 1);
        assert_eq!(first, format!("ms-capture-{ID}-1764410400123-0"));
        assert_ne!(first, second);
        assert!(first.len() <= 255 && first.bytes().all(|b| b.is_ascii_graphic()));
    }

    #[test]
    fn the_stylesheet_and_a_missing_page() {
        let app = app();
        let css = app.handle(&request("GET", "/style.css"));
        assert_eq!(header(&css, "Content-Type"), Some("text/css; charset=utf-8"));
        let missing = app.handle(&request("GET", "/nope"));
        assert_eq!((missing.status, error_code(&missing).as_str()), (404, "not_found"));
        let wrong = app.handle(&request("DELETE", "/"));
        assert_eq!(header(&wrong, "Allow"), Some("GET"));
    }
}
