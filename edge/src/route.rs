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
    OpenApi,
    /// Re-sends parked dead letters to the events queue (admin token).
    ReplayDeadLetters,
    /// A CORS preflight for any API path.
    Preflight,
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
            ["v1", "openapi.json"] => (Self::OpenApi, "GET"),
            ["v1", "admin", "dead-letters", "replay"] => (Self::ReplayDeadLetters, "POST"),
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
            Self::OpenApi => "openapi",
            Self::ReplayDeadLetters => "replay_dead_letters",
            Self::Preflight => "preflight",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(
            Route::resolve("POST", "/v1/admin/dead-letters/replay"),
            Ok(Route::ReplayDeadLetters)
        );
        assert_eq!(
            Route::resolve("GET", "/v1/sessions").map_err(|e| e.code().to_owned()),
            Err("method_not_allowed".to_owned())
        );
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
