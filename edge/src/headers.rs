//! Response headers: security headers on everything, exact-origin CORS on keyed routes.

/// Sent on every response the worker makes.
pub const SECURITY_HEADERS: [(&str, &str); 3] = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
];

/// Sent on every response but the checkout page, which the widget frames: that page says who
/// may frame it with its CSP's `frame-ancestors` instead (`X-Frame-Options` has no way to name
/// an origin, and browsers apply both).
pub const DENY_FRAMING: (&str, &str) = ("X-Frame-Options", "DENY");

/// Headers exposed to the widget's scripts on cross-origin responses.
pub const EXPOSED_HEADERS: &str = "X-Request-Id, Retry-After";

/// CORS for a route that checked the origin: echo it exactly (never `*`) and vary on it.
pub fn cors_for_checked_origin(origin: Option<&str>) -> Vec<(&'static str, String)> {
    let mut headers = vec![("Vary", "Origin".to_owned())];
    if let Some(origin) = origin {
        headers.push(("Access-Control-Allow-Origin", origin.to_owned()));
        headers.push(("Access-Control-Expose-Headers", EXPOSED_HEADERS.to_owned()));
    }
    headers
}

/// Answer to a preflight. The real request is checked against the merchant's origins, so the
/// preflight only says which methods and headers the API takes.
pub fn preflight(origin: Option<&str>) -> Vec<(&'static str, String)> {
    let mut headers = cors_for_checked_origin(origin);
    headers.push(("Access-Control-Allow-Methods", "GET, POST, OPTIONS".to_owned()));
    headers.push((
        "Access-Control-Allow-Headers",
        "Content-Type, Idempotency-Key".to_owned(),
    ));
    headers.push(("Access-Control-Max-Age", "600".to_owned()));
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_the_origin_and_never_a_wildcard() {
        let headers = cors_for_checked_origin(Some("http://127.0.0.1:8080"));
        assert!(headers.contains(&("Access-Control-Allow-Origin", "http://127.0.0.1:8080".to_owned())));
        assert!(headers.contains(&("Vary", "Origin".to_owned())));
        assert!(
            cors_for_checked_origin(None)
                .iter()
                .all(|(name, _)| *name != "Access-Control-Allow-Origin")
        );
        assert!(
            preflight(Some("http://a.example"))
                .iter()
                .all(|(_, value)| value != "*")
        );
    }
}
