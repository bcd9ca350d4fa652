//! `GET /v1/openapi.json`: the OpenAPI 3.1 description of this API, kept in the repository
//! (`edge/openapi.json`) and compiled in, so what is served is what is reviewed.

/// The document, byte for byte as committed.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::Route;

    fn document() -> serde_json::Value {
        serde_json::from_str(OPENAPI_JSON).expect("openapi.json is JSON")
    }

    #[test]
    fn the_currency_enum_is_the_edges_own_list() {
        let doc = document();
        let listed: Vec<&str> = doc["components"]["schemas"]["Currency"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|code| code.as_str().unwrap())
            .collect();
        let known: Vec<&str> = paylater_shared::Currency::known_codes().collect();
        assert_eq!(listed, known);
    }

    #[test]
    fn every_documented_operation_is_routed_and_every_route_documented() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().unwrap();
        let mut documented = Vec::new();
        for (path, item) in paths {
            for method in ["get", "post"] {
                if item.get(method).is_some() {
                    let concrete = path
                        .replace("{pk}", "pk_test_demo")
                        .replace("{order_id}", "ord_test_0190d2c46b7a7cc29a1e3f6b2a9d4e10")
                        .replace("{key}", "logs/v1/m_demo/2026/12/01/test-ab.ndjson.enc");
                    let route = Route::resolve(&method.to_ascii_uppercase(), &concrete);
                    assert!(route.is_ok(), "{method} {path} is documented but not routed");
                    documented.push(route.unwrap().name());
                }
            }
        }
        documented.sort_unstable();
        let mut routed = vec![
            "health",
            "merchant_config",
            "offers",
            "sessions",
            "events",
            "approvals",
            "keys",
            "checkout",
            "openapi",
            "replay_dead_letters",
            "create_order",
            "order",
            "order_capture",
            "order_refund",
            "order_void",
            "reconciliation",
            "insights_funnel",
            "insights_anomalies",
            "dashboard",
            "logs",
            "audit_digests",
            "audit_objects",
            "audit_object",
            "customer_holds",
        ];
        routed.sort_unstable();
        assert_eq!(documented, routed);
    }

    #[test]
    fn every_error_code_the_routes_can_give_is_listed() {
        let doc = document();
        let listed: Vec<&str> =
            doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap())
                .collect();
        for code in [
            "invalid_json",
            "invalid_body",
            "missing_session_token",
            "invalid_events",
            "too_many_events",
            "body_too_large",
            "invalid_token",
            "token_expired",
            "token_mismatch",
            "rate_limited",
            "enqueue_failed",
            "unsupported_media_type",
            "invalid_id",
            "unknown_event",
            "invalid_ts",
            "invalid_seq",
            "invalid_props",
            "personal_data",
            "unknown_field",
            "duplicate_in_batch",
            "invalid_event",
            "unauthorized",
            "origin_required",
            "internal_error",
            "invalid_idempotency_key",
            "idempotency_conflict",
            "invalid_type",
            "invalid_email",
            "implausible_date_of_birth",
            "invalid_country",
            "consent_required",
            "unknown_plan",
            "invalid_plan",
            "unauthenticated",
            "insufficient_scope",
            "wrong_mode",
            "wrong_merchant",
            "invalid_approval_token",
            "approval_token_expired",
            "approval_expired",
            "order_not_found",
            "invalid_order_id",
            "order_exists",
            "invalid_reference",
            "amount_exceeds",
            "invalid_order_state",
            "too_many_changes",
            "invalid_range",
        ] {
            assert!(listed.contains(&code), "{code} is not in the Error schema's enum");
        }
    }
}
