//! Secret keys (CONTRACT §5): `Authorization: Bearer sk_{test|live}_{name}.{secret}` from a
//! merchant's server. `{name}` is the tail of the merchant's publishable key of the same mode, so
//! the key names the config it is checked against; the config holds only each key's SHA-256.

use sha2::{Digest, Sha256};

use crate::auth::constant_time_eq;
use crate::error::EdgeError;
use crate::merchant::{MerchantConfig, Scope};

/// The shortest secret part accepted: 32 characters of base64url carry 192 bits.
pub const MIN_SECRET_CHARS: usize = 32;
pub const MAX_SECRET_CHARS: usize = 128;

/// A well-formed secret key, not yet checked against any config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedKey {
    pub livemode: bool,
    /// The publishable key whose config lists this key's hash.
    pub publishable_key: String,
    /// The whole key as sent (hashed, then dropped; never logged).
    raw: String,
}

/// Who a verified secret key acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHolder {
    pub merchant_id: String,
    pub livemode: bool,
    /// The config's id of the key (for logs, never the key).
    pub key_id: String,
    pub scopes: Vec<Scope>,
}

impl KeyHolder {
    pub fn require(&self, scope: Scope) -> Result<(), EdgeError> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(EdgeError::InsufficientScope { scope: scope.as_str() })
        }
    }

    /// `test` or `live`, as ids and names carry it.
    pub fn mode(&self) -> &'static str {
        mode_name(self.livemode)
    }
}

pub fn mode_name(livemode: bool) -> &'static str {
    if livemode { "live" } else { "test" }
}

/// Reads `Authorization: Bearer sk_…`. No header, another scheme or a key of the wrong shape is
/// `unauthenticated`: nothing was presented that could be checked.
pub fn parse_bearer(header: Option<&str>) -> Result<PresentedKey, EdgeError> {
    let header = header.ok_or(EdgeError::Unauthenticated)?;
    let (scheme, key) = header.trim().split_once(' ').ok_or(EdgeError::Unauthenticated)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(EdgeError::Unauthenticated);
    }
    parse_secret_key(key.trim()).ok_or(EdgeError::Unauthenticated)
}

/// `sk_test_demo.<secret>` → mode and publishable key, or `None` when it is not that shape.
pub fn parse_secret_key(key: &str) -> Option<PresentedKey> {
    let (livemode, rest) = match (key.strip_prefix("sk_test_"), key.strip_prefix("sk_live_")) {
        (Some(rest), _) => (false, rest),
        (_, Some(rest)) => (true, rest),
        _ => return None,
    };
    let (name, secret) = rest.split_once('.')?;
    let publishable_key = format!("pk_{}_{name}", mode_name(livemode));
    let secret_ok = (MIN_SECRET_CHARS..=MAX_SECRET_CHARS).contains(&secret.len())
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (secret_ok && paylater_shared::widget_options::is_publishable_key(&publishable_key)).then(|| PresentedKey {
        livemode,
        publishable_key,
        raw: key.to_owned(),
    })
}

/// SHA-256 of a secret key, lower-case hex: what a merchant config stores.
pub fn key_hash(key: &str) -> String {
    crate::log_record::hex(&Sha256::digest(key.as_bytes()))
}

/// Checks a presented key against the config its name points to (`None`: no such merchant).
/// Every configured hash (lower-case hex, as the config's validation requires) is compared in
/// full, in constant time, so the time taken says nothing about which key or how much matched.
pub fn authenticate(presented: &PresentedKey, config: Option<&MerchantConfig>) -> Result<KeyHolder, EdgeError> {
    let config = config.ok_or(EdgeError::InvalidSecretKey)?;
    let given = key_hash(&presented.raw);
    let mut found = None;
    for entry in &config.secret_keys {
        if constant_time_eq(given.as_bytes(), entry.sha256.as_bytes()) {
            found = Some(entry);
        }
    }
    let entry = found.ok_or(EdgeError::InvalidSecretKey)?;
    Ok(KeyHolder {
        merchant_id: config.merchant_id.clone(),
        livemode: config.livemode(),
        key_id: entry.id.clone(),
        scopes: entry.scopes.clone(),
    })
}

/// A use of a secret key, as the queue carries it to the archive and the sink: which key, for
/// which scope and route, never the key itself. `key_use_id` names the request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QueuedKeyUse {
    pub key_use_id: String,
    pub merchant_id: String,
    pub livemode: bool,
    pub key_id: String,
    pub scope: String,
    pub route: String,
    pub at_ms: i64,
}

impl KeyHolder {
    /// The record of this holder using its key for `scope` on `route`.
    pub fn used(&self, key_use_id: String, scope: Scope, route: &str, at_ms: i64) -> QueuedKeyUse {
        QueuedKeyUse {
            key_use_id,
            merchant_id: self.merchant_id.clone(),
            livemode: self.livemode,
            key_id: self.key_id.clone(),
            scope: scope.as_str().to_owned(),
            route: route.to_owned(),
            at_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = include_str!("../../seed/merchants/pk_test_demo.json");
    /// The demo's documented local test key (docs/merchant-server.md).
    const DEMO_KEY: &str = "sk_test_demo.local-dev-only-4bXq9TzR7wLmN2pVc8sKd3Fh";

    fn demo() -> MerchantConfig {
        MerchantConfig::from_json(DEMO).unwrap()
    }

    #[test]
    fn the_demo_key_authenticates_with_its_scopes() {
        let presented = parse_bearer(Some(&format!("Bearer {DEMO_KEY}"))).unwrap();
        assert_eq!(
            (presented.livemode, presented.publishable_key.as_str()),
            (false, "pk_test_demo")
        );
        let holder = authenticate(&presented, Some(&demo())).unwrap();
        assert_eq!(
            (holder.merchant_id.as_str(), holder.livemode, holder.mode()),
            ("m_nordic_outdoor", false, "test")
        );
        assert_eq!(holder.require(Scope::OrdersWrite), Ok(()));
        assert_eq!(holder.require(Scope::OrdersRead), Ok(()));
        assert_eq!(holder.require(Scope::LogsReplay), Ok(()));
        let readonly = parse_bearer(Some("Bearer sk_test_demo.readonly-local-only-7hGt2QmZ9xVb4nLw")).unwrap();
        let readonly = authenticate(&readonly, Some(&demo())).unwrap();
        assert_eq!(
            readonly.require(Scope::LogsReplay).unwrap_err().code(),
            "insufficient_scope"
        );
    }

    #[test]
    fn bad_headers_and_keys_are_refused_with_their_codes() {
        let long = format!("sk_test_demo.{}", "a".repeat(MAX_SECRET_CHARS + 1));
        let unauthenticated = [
            None,
            Some(""),
            Some("Bearer"),
            Some("Basic c2tfdGVzdF9kZW1v"),
            Some("Bearer pk_test_demo"),
            Some("Bearer sk_test_demo"),
            Some("Bearer sk_test_demo.short"),
            Some("Bearer sk_prod_demo.local-dev-only-4bXq9TzR7wLmN2pVc8sKd3Fh"),
            Some("Bearer sk_test_.local-dev-only-4bXq9TzR7wLmN2pVc8sKd3Fh"),
            Some("Bearer sk_test_de/mo.local-dev-only-4bXq9TzR7wLmN2pVc8sKd3Fh"),
            Some("Bearer sk_test_demo.local dev-only-4bXq9TzR7wLmN2pVc8sKd3Fh"),
            Some(long.as_str()),
        ];
        for header in unauthenticated {
            assert_eq!(
                parse_bearer(header).map(|_| ()).unwrap_err().code(),
                "unauthenticated",
                "{header:?}"
            );
        }
        // Well formed, but not a key of the demo merchant: a wrong secret, a wrong merchant.
        let wrong = parse_bearer(Some("Bearer sk_test_demo.local-dev-only-4bXq9TzR7wLmN2pVc8sKd3Fg")).unwrap();
        assert_eq!(authenticate(&wrong, Some(&demo())).unwrap_err().code(), "invalid_key");
        assert_eq!(authenticate(&wrong, None).unwrap_err().code(), "invalid_key");
        // Revoked: the same key once its entry is removed from the config.
        let mut revoked = demo();
        revoked.secret_keys.clear();
        let demo_key = parse_bearer(Some(&format!("bearer {DEMO_KEY}"))).unwrap();
        assert_eq!(
            authenticate(&demo_key, Some(&revoked)).unwrap_err().code(),
            "invalid_key"
        );
    }

    #[test]
    fn live_keys_name_live_configs() {
        let live = parse_secret_key("sk_live_demo.local-dev-only-4bXq9TzR7wLmN2pVc8sKd3Fh").unwrap();
        assert_eq!((live.livemode, live.publishable_key.as_str()), (true, "pk_live_demo"));
        // A live key's hash listed in a test config would still act as test: the config decides.
        assert_eq!(
            key_hash("sk_test_demo.local-dev-only-4bXq9TzR7wLmN2pVc8sKd3Fh"),
            demo().secret_keys[0].sha256
        );
    }
}
