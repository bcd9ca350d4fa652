//! Publishable keys identify a merchant; they never authorize on their own. Browser calls must
//! also come from one of the merchant's origins.

use paylater_shared::widget_options::is_publishable_key;

use crate::error::EdgeError;
use crate::merchant::MerchantConfig;

/// The KV key under which a merchant's config is stored.
pub fn merchant_kv_key(publishable_key: &str) -> String {
    format!("merchant:{publishable_key}")
}

/// Checks a key's shape before any lookup, so garbage never reaches KV.
pub fn check_key_format(key: &str) -> Result<(), EdgeError> {
    if is_publishable_key(key) {
        Ok(())
    } else {
        Err(EdgeError::InvalidKey)
    }
}

/// The publishable key a refused session token claims to be for (its payload, unverified), so
/// anomaly detection can tell that merchant someone is forging its tokens. Never trusted for
/// anything else; the caller also checks that the key names a merchant.
pub fn claimed_publishable_key(token: &str) -> Option<String> {
    use base64::Engine;
    #[derive(serde::Deserialize)]
    struct Claimed {
        key: String,
    }
    if token.len() > 4096 {
        return None;
    }
    let payload = token.split('.').nth(2)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claimed: Claimed = paylater_shared::json::from_bytes(&bytes).ok()?;
    is_publishable_key(&claimed.key).then_some(claimed.key)
}

/// Turns what KV held for a key into a merchant, or the right error.
pub fn merchant_from_store(stored: Option<String>) -> Result<MerchantConfig, EdgeError> {
    let text = stored.ok_or(EdgeError::UnknownKey)?;
    MerchantConfig::from_json(&text).map_err(|e| EdgeError::Internal {
        detail: format!("stored merchant config: {e}"),
    })
}

/// A request with an `Origin` (a browser's) must come from the merchant's origins. Without one
/// it is a server's request, which the publishable key alone may make for public data.
pub fn check_origin(merchant: &MerchantConfig, origin: Option<&str>) -> Result<(), EdgeError> {
    match origin {
        Some(origin) if !merchant.allows_origin(origin) => Err(EdgeError::OriginNotAllowed {
            origin: origin.to_owned(),
        }),
        _ => Ok(()),
    }
}

/// Whether an `Authorization: Bearer …` header carries the admin token. Compares digests, so the
/// time taken says nothing about how much of the token matched. No configured token: no access.
pub fn admin_token_matches(header: Option<&str>, expected: Option<&str>) -> bool {
    use sha2::{Digest, Sha256};
    let (Some(header), Some(expected)) = (header, expected.filter(|t| t.len() >= 16)) else {
        return false;
    };
    let Some(given) = header.strip_prefix("Bearer ") else {
        return false;
    };
    constant_time_eq(
        &Sha256::digest(given.trim().as_bytes()),
        &Sha256::digest(expected.as_bytes()),
    )
}

/// Byte strings compared without stopping at the first difference (lengths are not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_refused_tokens_claimed_key_is_read_only_when_it_is_a_key() {
        use base64::Engine;
        let encode = |json: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
        let token = |payload: &str| format!("v1.k1.{payload}.forged-tag");
        assert_eq!(
            claimed_publishable_key(&token(&encode(r#"{"key":"pk_test_demo","sid":"x"}"#))),
            Some("pk_test_demo".to_owned())
        );
        for bad in [
            token(&encode(r#"{"key":"../../etc"}"#)),
            token(&encode(r#"{"sid":"x"}"#)),
            token("not base64!"),
            "v1.k1".to_owned(),
            String::new(),
            token(&encode(&format!(
                r#"{{"key":"pk_test_demo","pad":"{}"}}"#,
                "x".repeat(5000)
            ))),
        ] {
            assert_eq!(claimed_publishable_key(&bad), None, "{bad:.40}");
        }
    }

    use super::*;

    const DEMO: &str = include_str!("../../seed/merchants/pk_test_demo.json");

    #[test]
    fn stored_configs_become_merchants_or_errors() {
        assert_eq!(
            merchant_from_store(Some(DEMO.into())).unwrap().display_name,
            "Nordic Outdoor Co."
        );
        assert_eq!(merchant_from_store(None).unwrap_err().code(), "unknown_key");
        assert_eq!(
            merchant_from_store(Some("{".into())).unwrap_err().code(),
            "internal_error"
        );
    }

    #[test]
    fn admin_tokens() {
        let token = "a-long-admin-token-for-tests";
        assert!(admin_token_matches(
            Some("Bearer a-long-admin-token-for-tests"),
            Some(token)
        ));
        for (header, expected) in [
            (None, Some(token)),
            (Some("Bearer a-long-admin-token-for-test"), Some(token)),
            (Some("a-long-admin-token-for-tests"), Some(token)),
            (Some("Basic a-long-admin-token-for-tests"), Some(token)),
            (Some("Bearer short"), Some("short")),
            (Some("Bearer "), None),
        ] {
            assert!(!admin_token_matches(header, expected), "{header:?} {expected:?}");
        }
    }

    #[test]
    fn origins() {
        let demo = merchant_from_store(Some(DEMO.into())).unwrap();
        assert_eq!(check_origin(&demo, None), Ok(()));
        assert_eq!(check_origin(&demo, Some("http://127.0.0.1:8080")), Ok(()));
        assert_eq!(
            check_origin(&demo, Some("https://evil.example")).unwrap_err().code(),
            "origin_not_allowed"
        );
        assert_eq!(merchant_kv_key("pk_test_demo"), "merchant:pk_test_demo");
        assert_eq!(check_key_format("pk_test_demo"), Ok(()));
        assert_eq!(check_key_format("pk_test_demo/../x"), Err(EdgeError::InvalidKey));
    }
}
