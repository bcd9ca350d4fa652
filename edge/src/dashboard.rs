//! `GET /dashboard`: the merchant dashboard's page. Its script, style and wasm are static assets
//! under `/dashboard/` (built from the `paylater-dashboard` crate by `cargo xtask build-widget`);
//! the page itself comes from here, with a Content-Security-Policy that allows only this
//! origin's scripts (and compiling their wasm), styles and API, and nothing inline.

/// The page (`dashboard/web/index.html`).
pub const PAGE: &str = include_str!("../../dashboard/web/index.html");

/// Scripts, styles and requests of this origin only; `'wasm-unsafe-eval'` lets the page
/// compile its own module and nothing else. Never framed (the key is typed into it).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'none'; base-uri 'none'; \
     frame-ancestors 'none'";

/// The page's headers, on top of the common security headers.
pub fn headers() -> Vec<(&'static str, String)> {
    vec![
        ("Content-Type", "text/html; charset=utf-8".to_owned()),
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY.to_owned()),
        ("Cache-Control", "no-cache".to_owned()),
        ("Referrer-Policy", "no-referrer".to_owned()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_its_own_assets_under_a_policy_without_inline_code() {
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe-inline"));
        assert!(!CONTENT_SECURITY_POLICY.contains(" 'unsafe-eval'"));
        assert!(CONTENT_SECURITY_POLICY.contains("frame-ancestors 'none'"));
        assert!(PAGE.contains(r#"<script type="module" src="/dashboard/boot.js"></script>"#));
        assert!(PAGE.contains(r#"<link rel="stylesheet" href="/dashboard/dashboard.css">"#));
        // No inline script or style the policy would block.
        assert_eq!(PAGE.matches("<script").count(), 1);
        assert!(!PAGE.contains("<style") && !PAGE.contains("style="));
        assert!(PAGE.contains(r#"<main id="dashboard">"#));
    }
}
