//! Tokens: session tokens (HMAC-SHA256, for the widget's calls to the edge) and approval tokens
//! (JWT signed with Ed25519, for merchant servers, verifiable offline with the JWKS).
//!
//! Session token: `v1.{kid}.{claims}.{mac}`, where `claims` is base64url JSON and `mac` is
//! HMAC-SHA256 over `v1.{kid}.{claims}` with the key named `kid` (rotation: several keys may be
//! live at once; new tokens use the newest).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use thiserror::Error;

use crate::currency::Currency;
use crate::date::CivilDate;
use crate::money::MinorUnits;

type HmacSha256 = Hmac<Sha256>;

const SESSION_VERSION: &str = "v1";
/// Longest token accepted before any parsing.
pub const MAX_TOKEN_BYTES: usize = 2048;

/// Why a token was refused. Callers match on it; the edge maps it to 401.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TokenError {
    #[error("token is malformed")]
    Malformed,
    #[error("token version is not supported")]
    UnsupportedVersion,
    #[error("token was signed with an unknown or retired key")]
    UnknownKey,
    #[error("token signature does not verify")]
    BadSignature,
    #[error("token has expired")]
    Expired,
    #[error("token is not valid yet")]
    NotYetValid,
    #[error("token is bound to another {0}")]
    Mismatch(&'static str),
}

/// A named secret. Secrets come from wrangler secrets; tests make their own.
#[derive(Clone)]
pub struct HmacKey {
    pub kid: String,
    pub secret: Vec<u8>,
}

/// Keys that verify session tokens; the first one signs.
#[derive(Clone)]
pub struct SessionKeyring {
    keys: Vec<HmacKey>,
}

/// What a session token asserts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// Session id.
    pub sid: String,
    /// Merchant id.
    pub mid: String,
    /// The publishable key the session was created with (to find the merchant's config).
    pub key: String,
    /// The browser origin the session was created from.
    pub org: String,
    pub amt: MinorUnits,
    pub cur: Currency,
    /// Issued at, epoch seconds.
    pub iat: i64,
    /// Expires at, epoch seconds.
    pub exp: i64,
    /// The shopper's local date when the session began: every schedule of the session (offers,
    /// the approval, its token) counts from it. Absent in tokens of pages that did not send it
    /// (then the edge's UTC date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd: Option<CivilDate>,
}

impl SessionClaims {
    /// Checks that a request made with this session is for the same merchant, origin, amount
    /// and currency.
    pub fn check_binding(
        &self,
        merchant_id: &str,
        origin: &str,
        amount: MinorUnits,
        currency: Currency,
    ) -> Result<(), TokenError> {
        if self.mid != merchant_id {
            return Err(TokenError::Mismatch("merchant"));
        }
        if self.org != origin {
            return Err(TokenError::Mismatch("origin"));
        }
        if self.amt != amount {
            return Err(TokenError::Mismatch("amount"));
        }
        if self.cur != currency {
            return Err(TokenError::Mismatch("currency"));
        }
        Ok(())
    }
}

fn mac(secret: &[u8], signed: &str) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac =
        <HmacSha256 as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(signed.as_bytes());
    mac
}

impl SessionKeyring {
    /// `keys[0]` signs new tokens; all verify. Empty keyrings are refused.
    pub fn new(keys: Vec<HmacKey>) -> Option<Self> {
        (!keys.is_empty() && keys.iter().all(|k| is_kid(&k.kid) && k.secret.len() >= 32)).then_some(Self { keys })
    }

    pub fn sign(&self, claims: &SessionClaims) -> String {
        let key = &self.keys[0];
        // Serializing plain claims cannot fail.
        let payload = B64.encode(serde_json::to_vec(claims).unwrap_or_default());
        let signed = format!("{SESSION_VERSION}.{}.{payload}", key.kid);
        let tag = B64.encode(mac(&key.secret, &signed).finalize().into_bytes());
        format!("{signed}.{tag}")
    }

    /// Verifies the MAC in constant time, then expiry against `now_s` (epoch seconds).
    pub fn verify(&self, token: &str, now_s: i64) -> Result<SessionClaims, TokenError> {
        self.verify_with_grace(token, now_s, 0)
    }

    /// [`SessionKeyring::verify`] for a token that may have expired up to `grace_s` ago: the
    /// session it names may be renewed (same id), so events a closed tab left are sent under
    /// it and the edge's per-session dedup still knows them.
    pub fn verify_for_renewal(&self, token: &str, now_s: i64, grace_s: i64) -> Result<SessionClaims, TokenError> {
        self.verify_with_grace(token, now_s, grace_s.max(0))
    }

    fn verify_with_grace(&self, token: &str, now_s: i64, grace_s: i64) -> Result<SessionClaims, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(version), Some(kid), Some(payload), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        if version != SESSION_VERSION {
            return Err(TokenError::UnsupportedVersion);
        }
        let key = self.keys.iter().find(|k| k.kid == kid).ok_or(TokenError::UnknownKey)?;
        let tag = B64.decode(tag).map_err(|_| TokenError::Malformed)?;
        mac(&key.secret, &format!("{version}.{kid}.{payload}"))
            .verify_slice(&tag)
            .map_err(|_| TokenError::BadSignature)?;
        let bytes = B64.decode(payload).map_err(|_| TokenError::Malformed)?;
        let claims: SessionClaims = crate::json::from_bytes(&bytes).map_err(|_| TokenError::Malformed)?;
        if now_s >= claims.exp.saturating_add(grace_s) {
            return Err(TokenError::Expired);
        }
        // Tolerate a minute of skew between edge locations.
        if claims.iat > now_s + 60 {
            return Err(TokenError::NotYetValid);
        }
        Ok(claims)
    }
}

fn is_kid(kid: &str) -> bool {
    !kid.is_empty() && kid.len() <= 32 && kid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Claims of an approval token (CONTRACT §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalClaims {
    pub iss: String,
    /// The approval id.
    pub sub: String,
    /// The merchant id.
    pub aud: String,
    pub amount: MinorUnits,
    pub currency: Currency,
    pub plan_id: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// Made in live mode (real money); test-mode tokens are refused under live keys and the
    /// other way round. Tokens from before this claim existed were all test tokens.
    #[serde(default)]
    pub livemode: bool,
    /// The date the schedule counts from (the shopper's local date) and the first payment's due
    /// date, as the shopper saw and approved them. Absent in tokens made before these claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_start: Option<CivilDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_due_date: Option<CivilDate>,
}

/// Issuer claim of every approval token.
pub const APPROVAL_TOKEN_ISSUER: &str = "paylater-edge";

/// What a verifier expects of an approval token besides a good signature: made by the edge,
/// for this merchant, in this mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalExpectation<'a> {
    /// The merchant id (`aud`).
    pub merchant_id: &'a str,
    pub livemode: bool,
}

/// An Ed25519 key that signs approval tokens.
pub struct ApprovalSigner {
    kid: String,
    key: SigningKey,
}

#[derive(Serialize, Deserialize)]
struct JwtHeader {
    alg: String,
    typ: String,
    kid: String,
}

/// One public key of the JWKS (RFC 8037, `OKP` / `Ed25519`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub kid: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub alg: String,
}

impl Jwk {
    /// The public half of an Ed25519 signing key, under `kid` (RFC 8037).
    pub fn ed25519(kid: &str, key: &SigningKey) -> Self {
        Self {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: B64.encode(key.verifying_key().as_bytes()),
            kid: kid.to_owned(),
            use_: "sig".into(),
            alg: "EdDSA".into(),
        }
    }
}

/// The body of `GET /v1/keys`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

impl ApprovalSigner {
    /// From a 32-byte Ed25519 seed (a wrangler secret in production).
    pub fn from_seed(kid: &str, seed: &[u8; 32]) -> Self {
        Self {
            kid: kid.to_owned(),
            key: SigningKey::from_bytes(seed),
        }
    }

    pub fn jwk(&self) -> Jwk {
        Jwk::ed25519(&self.kid, &self.key)
    }

    /// A compact JWS: `header.claims.signature`, all base64url.
    pub fn sign(&self, claims: &ApprovalClaims) -> String {
        let header = JwtHeader {
            alg: "EdDSA".into(),
            typ: "JWT".into(),
            kid: self.kid.clone(),
        };
        let signed = format!(
            "{}.{}",
            B64.encode(serde_json::to_vec(&header).unwrap_or_default()),
            B64.encode(serde_json::to_vec(claims).unwrap_or_default())
        );
        let signature = self.key.sign(signed.as_bytes());
        format!("{signed}.{}", B64.encode(signature.to_bytes()))
    }
}

/// Verifies an approval token against a JWKS as a merchant server would: the signature, then
/// `exp` against `now_s` (epoch seconds), then that the edge issued it (`iss`) for this merchant
/// (`aud`) in this mode (`livemode`).
pub fn verify_approval(
    token: &str,
    jwks: &Jwks,
    expected: &ApprovalExpectation,
    now_s: i64,
) -> Result<ApprovalClaims, TokenError> {
    let claims = verify_approval_signature(token, jwks, now_s)?;
    if claims.iss != APPROVAL_TOKEN_ISSUER {
        return Err(TokenError::Mismatch("issuer"));
    }
    if claims.aud != expected.merchant_id {
        return Err(TokenError::Mismatch("merchant"));
    }
    if claims.livemode != expected.livemode {
        return Err(TokenError::Mismatch("mode"));
    }
    Ok(claims)
}

/// The signature and expiry only; [`verify_approval`] is what a merchant's server wants.
pub fn verify_approval_signature(token: &str, jwks: &Jwks, now_s: i64) -> Result<ApprovalClaims, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let decoded_header: JwtHeader = crate::json::from_bytes(&B64.decode(header).map_err(|_| TokenError::Malformed)?)
        .map_err(|_| TokenError::Malformed)?;
    if decoded_header.alg != "EdDSA" {
        return Err(TokenError::UnsupportedVersion);
    }
    let jwk = jwks
        .keys
        .iter()
        .find(|k| k.kid == decoded_header.kid && k.crv == "Ed25519")
        .ok_or(TokenError::UnknownKey)?;
    let public: [u8; 32] = B64
        .decode(&jwk.x)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(TokenError::UnknownKey)?;
    let key = VerifyingKey::from_bytes(&public).map_err(|_| TokenError::UnknownKey)?;
    let signature: [u8; 64] = B64
        .decode(signature)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(TokenError::Malformed)?;
    key.verify(
        format!("{header}.{payload}").as_bytes(),
        &Signature::from_bytes(&signature),
    )
    .map_err(|_| TokenError::BadSignature)?;
    let claims: ApprovalClaims = crate::json::from_bytes(&B64.decode(payload).map_err(|_| TokenError::Malformed)?)
        .map_err(|_| TokenError::Malformed)?;
    if now_s >= claims.exp {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: i64 = 1_795_420_800;

    fn keyring() -> SessionKeyring {
        SessionKeyring::new(vec![
            HmacKey {
                kid: "k2".into(),
                secret: vec![7; 32],
            },
            HmacKey {
                kid: "k1".into(),
                secret: vec![9; 32],
            },
        ])
        .unwrap()
    }

    fn claims() -> SessionClaims {
        SessionClaims {
            sid: "ses_123".into(),
            mid: "m_nordic_outdoor".into(),
            key: "pk_test_demo".into(),
            org: "http://127.0.0.1:8080".into(),
            amt: MinorUnits(12_999),
            cur: Currency::parse("USD").unwrap(),
            iat: NOW,
            exp: NOW + 1800,
            sd: None,
        }
    }

    fn approval() -> ApprovalClaims {
        ApprovalClaims {
            iss: APPROVAL_TOKEN_ISSUER.into(),
            sub: "apr_123".into(),
            aud: "m_nordic_outdoor".into(),
            amount: MinorUnits(12_999),
            currency: Currency::parse("USD").unwrap(),
            plan_id: "pay_in_4".into(),
            iat: NOW,
            exp: NOW + 600,
            jti: "0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e10".into(),
            livemode: false,
            schedule_start: None,
            first_due_date: None,
        }
    }

    const DEMO_TEST: ApprovalExpectation<'static> = ApprovalExpectation {
        merchant_id: "m_nordic_outdoor",
        livemode: false,
    };

    #[test]
    fn session_tokens_round_trip_and_bind() {
        let token = keyring().sign(&claims());
        assert!(token.starts_with("v1.k2."));
        let verified = keyring().verify(&token, NOW + 10).unwrap();
        assert_eq!(verified, claims());
        let usd = Currency::parse("USD").unwrap();
        assert_eq!(
            verified.check_binding("m_nordic_outdoor", "http://127.0.0.1:8080", MinorUnits(12_999), usd),
            Ok(())
        );
        assert_eq!(
            verified.check_binding("m_other", "http://127.0.0.1:8080", MinorUnits(12_999), usd),
            Err(TokenError::Mismatch("merchant"))
        );
        assert_eq!(
            verified.check_binding("m_nordic_outdoor", "http://evil", MinorUnits(12_999), usd),
            Err(TokenError::Mismatch("origin"))
        );
        assert_eq!(
            verified.check_binding("m_nordic_outdoor", "http://127.0.0.1:8080", MinorUnits(1), usd),
            Err(TokenError::Mismatch("amount"))
        );
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(
            verified.check_binding("m_nordic_outdoor", "http://127.0.0.1:8080", MinorUnits(12_999), eur),
            Err(TokenError::Mismatch("currency"))
        );
    }

    #[test]
    fn an_expired_session_token_verifies_for_renewal_within_its_grace_only() {
        let ring = keyring();
        let token = ring.sign(&claims());
        let exp = claims().exp;
        assert_eq!(ring.verify(&token, exp), Err(TokenError::Expired));
        assert_eq!(ring.verify_for_renewal(&token, exp, 3600), Ok(claims()));
        assert_eq!(ring.verify_for_renewal(&token, exp + 3599, 3600), Ok(claims()));
        assert_eq!(
            ring.verify_for_renewal(&token, exp + 3600, 3600),
            Err(TokenError::Expired)
        );
        // The grace forgives only time: a forged or altered token is still refused.
        let mut forged = token.clone();
        forged.pop();
        forged.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert!(matches!(
            ring.verify_for_renewal(&forged, exp, 3600),
            Err(TokenError::BadSignature | TokenError::Malformed)
        ));
        // A negative grace is no grace.
        assert_eq!(ring.verify_for_renewal(&token, exp, -10), Err(TokenError::Expired));
    }

    #[test]
    fn session_token_failures_are_typed() {
        let token = keyring().sign(&claims());
        let retired_only = SessionKeyring::new(vec![HmacKey {
            kid: "k1".into(),
            secret: vec![9; 32],
        }])
        .unwrap();
        let forged = SessionKeyring::new(vec![HmacKey {
            kid: "k2".into(),
            secret: vec![8; 32],
        }])
        .unwrap()
        .sign(&claims());
        let cases = [
            (token.clone(), NOW + 1800, TokenError::Expired),
            (token.replacen("v1.", "v2.", 1), NOW, TokenError::UnsupportedVersion),
            ("v1.k2.only-three".into(), NOW, TokenError::Malformed),
            ("".into(), NOW, TokenError::Malformed),
            ("x".repeat(MAX_TOKEN_BYTES + 1), NOW, TokenError::Malformed),
            (forged, NOW, TokenError::BadSignature),
        ];
        for (token, now, error) in cases {
            assert_eq!(keyring().verify(&token, now), Err(error), "{token}");
        }
        assert_eq!(retired_only.verify(&token, NOW), Err(TokenError::UnknownKey));
        let mut future = claims();
        future.iat = NOW + 3600;
        future.exp = NOW + 7200;
        assert_eq!(
            keyring().verify(&keyring().sign(&future), NOW),
            Err(TokenError::NotYetValid)
        );
        assert!(
            SessionKeyring::new(vec![HmacKey {
                kid: "short".into(),
                secret: vec![1; 16]
            }])
            .is_none()
        );
    }

    #[test]
    fn approval_tokens_verify_with_our_jwks_and_with_jsonwebtoken() {
        let signer = ApprovalSigner::from_seed("ed-2026-11", &[42; 32]);
        let jwks = Jwks {
            keys: vec![signer.jwk()],
        };
        let token = signer.sign(&approval());
        assert_eq!(verify_approval(&token, &jwks, &DEMO_TEST, NOW + 1), Ok(approval()));
        assert_eq!(
            verify_approval(&token, &jwks, &DEMO_TEST, NOW + 600),
            Err(TokenError::Expired)
        );

        // An independent implementation, fed our JWKS as JSON.
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(serde_json::to_value(&jwks.keys[0]).unwrap()).unwrap();
        let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
        validation.set_audience(&["m_nordic_outdoor"]);
        validation.validate_exp = false; // the fixed NOW is in the future of the real clock's past
        let decoded = jsonwebtoken::decode::<serde_json::Value>(&token, &key, &validation).unwrap();
        assert_eq!(decoded.header.kid.as_deref(), Some("ed-2026-11"));
        assert_eq!(decoded.claims["amount"], 12_999);
        assert_eq!(decoded.claims["plan_id"], "pay_in_4");
        assert_eq!(serde_json::to_value(&jwks).unwrap()["keys"][0]["kty"], "OKP");
    }

    #[test]
    fn approval_tokens_of_another_issuer_merchant_or_mode_are_refused() {
        let signer = ApprovalSigner::from_seed("ed", &[3; 32]);
        let jwks = Jwks {
            keys: vec![signer.jwk()],
        };
        let signed = |change: fn(&mut ApprovalClaims)| {
            let mut claims = approval();
            change(&mut claims);
            signer.sign(&claims)
        };
        let cases: [(String, TokenError); 3] = [
            (
                signed(|c| c.iss = "someone-else".into()),
                TokenError::Mismatch("issuer"),
            ),
            (signed(|c| c.aud = "m_other".into()), TokenError::Mismatch("merchant")),
            (signed(|c| c.livemode = true), TokenError::Mismatch("mode")),
        ];
        for (token, error) in cases {
            assert_eq!(verify_approval(&token, &jwks, &DEMO_TEST, NOW), Err(error));
        }
        let live = ApprovalExpectation {
            merchant_id: "m_nordic_outdoor",
            livemode: true,
        };
        assert_eq!(
            verify_approval(&signer.sign(&approval()), &jwks, &live, NOW),
            Err(TokenError::Mismatch("mode"))
        );
        // A token from before `livemode` existed reads as a test token.
        let old = r#"{"iss":"paylater-edge","sub":"a","aud":"m","amount":1,"currency":"USD","plan_id":"p","iat":1,"exp":2,"jti":"j"}"#;
        assert!(!serde_json::from_str::<ApprovalClaims>(old).unwrap().livemode);
    }

    proptest! {
        #[test]
        fn any_altered_byte_of_a_session_token_fails(index in 0usize..200, replacement in any::<u8>()) {
            let token = keyring().sign(&claims());
            let mut bytes = token.clone().into_bytes();
            let index = index % bytes.len();
            prop_assume!(bytes[index] != replacement);
            bytes[index] = replacement;
            let altered = String::from_utf8_lossy(&bytes).into_owned();
            // base64url has no padding bits in our encoding of 32 bytes only partly: an altered
            // last character may decode to the same bytes. Only identical decodings may pass.
            if let Ok(claims_back) = keyring().verify(&altered, NOW) {
                prop_assert_eq!(claims_back, claims());
                prop_assert_eq!(index, token.len() - 1, "only the final character's spare bits may change");
            }
        }

        #[test]
        fn any_altered_byte_of_an_approval_token_fails(index in 0usize..400, replacement in any::<u8>()) {
            let signer = ApprovalSigner::from_seed("ed", &[1; 32]);
            let jwks = Jwks { keys: vec![signer.jwk()] };
            let token = signer.sign(&approval());
            let mut bytes = token.clone().into_bytes();
            let index = index % bytes.len();
            prop_assume!(bytes[index] != replacement);
            bytes[index] = replacement;
            let altered = String::from_utf8_lossy(&bytes).into_owned();
            if let Ok(back) = verify_approval(&altered, &jwks, &DEMO_TEST, NOW) {
                prop_assert_eq!(back, approval());
                prop_assert_eq!(index, token.len() - 1, "only the final character's spare bits may change");
            }
        }

        #[test]
        fn session_claims_round_trip(amount in 1u64..=crate::money::MAX_MINOR_UNITS, sid in "[a-z0-9_]{1,40}", ttl in 1i64..86_400) {
            let mut c = claims();
            c.amt = MinorUnits(amount);
            c.sid = sid;
            c.exp = NOW + ttl;
            prop_assert_eq!(keyring().verify(&keyring().sign(&c), NOW), Ok(c));
        }
    }
}
