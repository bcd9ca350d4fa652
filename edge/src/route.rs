//! The routing table: which handler a method and path reach. Pure, so it is tested natively.

use crate::error::EdgeError;

/// A resolved route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Health,
    MerchantConfig {
        key: String,
    },
    Offers,
    Sessions,
    Events,
    Approvals,
    /// The JWKS that verifies approval tokens.
    Keys,
    /// The approval form page the widget frames (`GET /v1/checkout?session=…`).
    Checkout,
    /// `GET /dashboard`: the merchant dashboard's page (its assets are static, under `/dashboard/`).
    Dashboard,
    OpenApi,
    /// Re-sends parked dead letters to the events queue (admin token).
    ReplayDeadLetters,
    /// A CORS preflight for any API path.
    Preflight,
    /// `POST /v1/orders` (secret key).
    CreateOrder,
    /// `GET /v1/orders/{id}`.
    Order {
        order_id: String,
    },
    /// `POST /v1/orders/{id}/captures|refunds|void`.
    OrderChange {
        order_id: String,
        action: OrderAction,
    },
    /// `GET /v1/reconciliation`.
    Reconciliation,
    /// `GET /v1/insights/funnel` (secret key with `insights:read`).
    InsightsFunnel,
    /// `GET /v1/insights/anomalies` (secret key with `insights:read`).
    InsightsAnomalies,
    /// `GET /v1/logs` (secret key with `logs:read`).
    Logs,
    /// `GET /v1/audit/digests` (secret key with `logs:read`): the digests of a range of days.
    AuditDigests,
    /// `GET /v1/audit/objects` (`logs:read`): the archive objects of a range of days.
    AuditObjects,
    /// `GET /v1/audit/objects/{key}` (`logs:read`): one stored object's bytes, as stored.
    AuditObject {
        key: String,
    },
    /// `POST /v1/admin/customers/holds` (admin token): a customer's holds, for support.
    CustomerHolds,
}

/// Which change an order route asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderAction {
    Capture,
    Refund,
    Void,
}

impl Route {
    /// Resolves a request line. Static assets never get here: Workers static assets answer
    /// `/v1/widget.js`, `/v1/widget/*` and `/v1/checkout/*` before the worker runs.
    pub fn resolve(method: &str, path: &str) -> Result<Self, EdgeError> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let (route, allowed) = match segments.as_slice() {
            ["health"] => (Self::Health, "GET"),
            ["v1", "merchants", key, "config"] if !key.is_empty() => {
                (Self::MerchantConfig { key: (*key).to_owned() }, "GET")
            }
            ["v1", "offers"] => (Self::Offers, "GET"),
            ["v1", "sessions"] => (Self::Sessions, "POST"),
            ["v1", "events"] => (Self::Events, "POST"),
            ["v1", "approvals"] => (Self::Approvals, "POST"),
            ["v1", "keys"] => (Self::Keys, "GET"),
            ["v1", "checkout"] => (Self::Checkout, "GET"),
            ["dashboard"] => (Self::Dashboard, "GET"),
            ["v1", "openapi.json"] => (Self::OpenApi, "GET"),
            ["v1", "admin", "dead-letters", "replay"] => (Self::ReplayDeadLetters, "POST"),
            ["v1", "admin", "customers", "holds"] => (Self::CustomerHolds, "POST"),
            ["v1", "orders"] => (Self::CreateOrder, "POST"),
            ["v1", "orders", id] if !id.is_empty() => (
                Self::Order {
                    order_id: (*id).to_owned(),
                },
                "GET",
            ),
            ["v1", "orders", id, action] if !id.is_empty() => {
                let action = match *action {
                    "captures" => OrderAction::Capture,
                    "refunds" => OrderAction::Refund,
                    "void" => OrderAction::Void,
                    _ => return Err(EdgeError::NotFound { path: path.to_owned() }),
                };
                let order_id = (*id).to_owned();
                (Self::OrderChange { order_id, action }, "POST")
            }
            ["v1", "reconciliation"] => (Self::Reconciliation, "GET"),
            ["v1", "insights", "funnel"] => (Self::InsightsFunnel, "GET"),
            ["v1", "insights", "anomalies"] => (Self::InsightsAnomalies, "GET"),
            ["v1", "logs"] => (Self::Logs, "GET"),
            ["v1", "audit", "digests"] => (Self::AuditDigests, "GET"),
            ["v1", "audit", "objects"] => (Self::AuditObjects, "GET"),
            ["v1", "audit", "objects", key @ ..] if !key.is_empty() => {
                (Self::AuditObject { key: key.join("/") }, "GET")
            }
            _ => return Err(EdgeError::NotFound { path: path.to_owned() }),
        };
        match method {
            "GET" | "HEAD" if allowed == "GET" => Ok(route),
            "POST" if allowed == "POST" => Ok(route),
            "OPTIONS" if path.starts_with("/v1/") => Ok(Self::Preflight),
            _ => Err(EdgeError::MethodNotAllowed {
                method: method.to_owned(),
                allowed,
            }),
        }
    }

    /// A short name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Health => "health",
            Self::MerchantConfig { .. } => "merchant_config",
            Self::Offers => "offers",
            Self::Sessions => "sessions",
            Self::Events => "events",
            Self::Approvals => "approvals",
            Self::Keys => "keys",
            Self::Checkout => "checkout",
            Self::Dashboard => "dashboard",
            Self::OpenApi => "openapi",
            Self::ReplayDeadLetters => "replay_dead_letters",
            Self::Preflight => "preflight",
            Self::CreateOrder => "create_order",
            Self::Order { .. } => "order",
            Self::OrderChange {
                action: OrderAction::Capture,
                ..
            } => "order_capture",
            Self::OrderChange {
                action: OrderAction::Refund,
                ..
            } => "order_refund",
            Self::OrderChange {
                action: OrderAction::Void,
                ..
            } => "order_void",
            Self::Reconciliation => "reconciliation",
            Self::InsightsFunnel => "insights_funnel",
            Self::InsightsAnomalies => "insights_anomalies",
            Self::Logs => "logs",
            Self::AuditDigests => "audit_digests",
            Self::AuditObjects => "audit_objects",
            Self::AuditObject { .. } => "audit_object",
            Self::CustomerHolds => "customer_holds",
        }
    }
}

/// The path on which the back office runs its scheduled work, asked by the shop's cron trigger
/// over the service binding. No route resolves to it, so the shop never passes it on from outside.
pub const CRON_PATH: &str = "/__cron";

/// Which of the two Workers answers a route. The shop (sessions, events, approvals, the terms
/// and the checkout page) is what shoppers wait on, so its upload stays small and its isolates
/// start fast; the merchant's back office (orders, reconciliation, insights, logs, the audit
/// trail, keys, admin, the dashboard) runs behind the shop's service binding `BACK_OFFICE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Worker {
    Shop,
    BackOffice,
}

impl Route {
    /// The Worker that answers this route (the shop forwards the others unread).
    pub fn worker(&self) -> Worker {
        match self {
            Self::Health
            | Self::Preflight
            | Self::MerchantConfig { .. }
            | Self::Offers
            | Self::Sessions
            | Self::Events
            | Self::Approvals
            | Self::Checkout => Worker::Shop,
            Self::Keys
            | Self::Dashboard
            | Self::OpenApi
            | Self::ReplayDeadLetters
            | Self::CreateOrder
            | Self::Order { .. }
            | Self::OrderChange { .. }
            | Self::Reconciliation
            | Self::InsightsFunnel
            | Self::InsightsAnomalies
            | Self::Logs
            | Self::AuditDigests
            | Self::AuditObjects
            | Self::AuditObject { .. }
            | Self::CustomerHolds => Worker::BackOffice,
        }
    }
}

/// The `Allow` header of a 405: the route's method (GET routes take HEAD too), and OPTIONS on
/// API paths, which answer CORS preflights.
pub fn allow_header(allowed: &str, path: &str) -> String {
    let mut methods = vec![allowed];
    if allowed == "GET" {
        methods.push("HEAD");
    }
    if path.starts_with("/v1/") {
        methods.push("OPTIONS");
    }
    methods.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cron_path_is_no_route_so_the_shop_never_passes_it_on() {
        for method in ["GET", "POST", "OPTIONS"] {
            assert_eq!(
                Route::resolve(method, CRON_PATH).map_err(|e| e.code().to_owned()),
                Err("not_found".to_owned())
            );
        }
    }

    #[test]
    fn shoppers_routes_stay_in_the_shop_and_the_rest_go_to_the_back_office() {
        let shop = [
            ("GET", "/health"),
            ("OPTIONS", "/v1/orders"),
            ("GET", "/v1/merchants/pk_test_demo/config"),
            ("GET", "/v1/offers"),
            ("POST", "/v1/sessions"),
            ("POST", "/v1/events"),
            ("POST", "/v1/approvals"),
            ("GET", "/v1/checkout"),
        ];
        for (method, path) in shop {
            assert_eq!(
                Route::resolve(method, path).map(|r| r.worker()),
                Ok(Worker::Shop),
                "{method} {path}"
            );
        }
        let back_office = [
            ("GET", "/v1/keys"),
            ("GET", "/dashboard"),
            ("GET", "/v1/openapi.json"),
            ("POST", "/v1/admin/dead-letters/replay"),
            ("POST", "/v1/admin/customers/holds"),
            ("POST", "/v1/orders"),
            ("GET", "/v1/orders/ord_test_x"),
            ("POST", "/v1/orders/ord_test_x/captures"),
            ("GET", "/v1/reconciliation"),
            ("GET", "/v1/insights/funnel"),
            ("GET", "/v1/insights/anomalies"),
            ("GET", "/v1/logs"),
            ("GET", "/v1/audit/digests"),
            ("GET", "/v1/audit/objects"),
            ("GET", "/v1/audit/objects/logs/v1/m/2026/12/07/test-ab.ndjson.enc"),
        ];
        for (method, path) in back_office {
            assert_eq!(
                Route::resolve(method, path).map(|r| r.worker()),
                Ok(Worker::BackOffice),
                "{method} {path}"
            );
        }
    }

    #[test]
    fn resolves_known_routes() {
        assert_eq!(Route::resolve("GET", "/health"), Ok(Route::Health));
        assert_eq!(
            Route::resolve("GET", "/v1/merchants/pk_test_demo/config"),
            Ok(Route::MerchantConfig {
                key: "pk_test_demo".into()
            })
        );
        assert_eq!(Route::resolve("GET", "/v1/offers"), Ok(Route::Offers));
        assert_eq!(Route::resolve("OPTIONS", "/v1/offers"), Ok(Route::Preflight));
        assert_eq!(Route::resolve("POST", "/v1/sessions"), Ok(Route::Sessions));
        assert_eq!(Route::resolve("POST", "/v1/events"), Ok(Route::Events));
        assert_eq!(Route::resolve("GET", "/v1/openapi.json"), Ok(Route::OpenApi));
        assert_eq!(Route::resolve("GET", "/v1/checkout"), Ok(Route::Checkout));
        assert_eq!(Route::resolve("HEAD", "/v1/checkout"), Ok(Route::Checkout));
        assert_eq!(Route::resolve("GET", "/dashboard"), Ok(Route::Dashboard));
        assert!(Route::resolve("POST", "/dashboard").is_err());
        assert_eq!(
            Route::resolve("POST", "/v1/admin/dead-letters/replay"),
            Ok(Route::ReplayDeadLetters)
        );
        assert_eq!(
            Route::resolve("GET", "/v1/sessions").map_err(|e| e.code().to_owned()),
            Err("method_not_allowed".to_owned())
        );
        assert_eq!(Route::resolve("POST", "/v1/orders"), Ok(Route::CreateOrder));
        assert_eq!(
            Route::resolve("GET", "/v1/orders/ord_test_1"),
            Ok(Route::Order {
                order_id: "ord_test_1".into()
            })
        );
        assert_eq!(
            Route::resolve("POST", "/v1/orders/ord_test_1/refunds"),
            Ok(Route::OrderChange {
                order_id: "ord_test_1".into(),
                action: OrderAction::Refund
            })
        );
        assert_eq!(Route::resolve("GET", "/v1/reconciliation"), Ok(Route::Reconciliation));
        assert_eq!(Route::resolve("GET", "/v1/insights/funnel"), Ok(Route::InsightsFunnel));
        assert!(Route::resolve("POST", "/v1/insights/funnel").is_err());
        assert_eq!(
            Route::resolve("GET", "/v1/insights/anomalies"),
            Ok(Route::InsightsAnomalies)
        );
        assert!(Route::resolve("POST", "/v1/insights/anomalies").is_err());
        assert!(Route::resolve("GET", "/v1/insights").is_err());
        assert_eq!(Route::resolve("GET", "/v1/logs"), Ok(Route::Logs));
        assert_eq!(Route::resolve("GET", "/v1/audit/digests"), Ok(Route::AuditDigests));
        assert_eq!(Route::resolve("GET", "/v1/audit/objects"), Ok(Route::AuditObjects));
        assert_eq!(
            Route::resolve("GET", "/v1/audit/objects/logs/v1/m_demo/2026/12/01/test-ab.ndjson.enc"),
            Ok(Route::AuditObject {
                key: "logs/v1/m_demo/2026/12/01/test-ab.ndjson.enc".into()
            })
        );
        assert!(Route::resolve("POST", "/v1/audit/digests").is_err());
    }

    #[test]
    fn method_errors_name_the_allowed_methods() {
        let allowed = |method: &str, path: &str| match Route::resolve(method, path) {
            Err(EdgeError::MethodNotAllowed { allowed, .. }) => allowed,
            other => panic!("{method} {path}: {other:?}"),
        };
        assert_eq!(allowed("DELETE", "/v1/orders/ord_test_1"), "GET");
        assert_eq!(allowed("GET", "/v1/orders/ord_test_1/captures"), "POST");
        assert_eq!(allowed("PUT", "/v1/orders"), "POST");
        assert_eq!(allowed("POST", "/v1/reconciliation"), "GET");
        assert_eq!(allow_header("GET", "/v1/reconciliation"), "GET, HEAD, OPTIONS");
        assert_eq!(allow_header("POST", "/v1/orders"), "POST, OPTIONS");
        assert_eq!(allow_header("GET", "/health"), "GET, HEAD");
    }

    #[test]
    fn refuses_unknown_paths_and_methods() {
        let cases = [
            ("GET", "/", "not_found"),
            ("GET", "/v1", "not_found"),
            ("GET", "/v1/merchants//config", "not_found"),
            ("GET", "/v1/merchants/pk_test_demo/config/extra", "not_found"),
            ("POST", "/v1/offers", "method_not_allowed"),
            ("GET", "/v1/events", "method_not_allowed"),
            ("PUT", "/v1/events", "method_not_allowed"),
            ("GET", "/v1/admin/dead-letters", "not_found"),
            ("POST", "/v1/checkout", "method_not_allowed"),
            ("GET", "/v1/checkout/", "not_found"),
            ("GET", "/v1/orders/", "not_found"),
            ("POST", "/v1/orders/ord_test_1/capture", "not_found"),
            ("POST", "/v1/orders/ord_test_1/void/x", "not_found"),
            ("DELETE", "/health", "method_not_allowed"),
            ("OPTIONS", "/health", "method_not_allowed"),
        ];
        for (method, path, code) in cases {
            assert_eq!(
                Route::resolve(method, path).map_err(|e| e.code().to_owned()),
                Err(code.to_owned()),
                "{method} {path}"
            );
        }
    }
}
