//! Verifying an approval token as a merchant's server must, with the merchant's own JWT library
//! (`jsonwebtoken`) and the edge's published keys (`GET /v1/keys`): the signature, `exp`, `iss`
//! = `paylater-edge`, `aud` = this merchant, and `livemode` = the secret key's mode. The keys are
//! cached briefly and fetched again when a token names a key not seen yet (a rotation).

use std::time::{Duration, Instant};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use paylater_shared::token::{APPROVAL_TOKEN_ISSUER, ApprovalClaims, MAX_TOKEN_BYTES};
use thiserror::Error;

/// Why an approval token was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VerifyError {
    #[error("the approval token is not an approval token of this edge ({0})")]
    Invalid(&'static str),
    #[error("the approval token names key {0:?}, which the edge does not publish")]
    UnknownKey(String),
    #[error("the approval token has expired: the shopper must be approved again")]
    Expired,
    #[error("the approval token was made for another merchant")]
    WrongMerchant,
    #[error("the approval token is of the other mode than this server's secret key (test or live)")]
    WrongMode,
}

/// What this server expects of every token besides a good signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expectation<'a> {
    /// `aud`.
    pub merchant_id: &'a str,
    /// The secret key's mode.
    pub livemode: bool,
}

/// The key id (`kid`) a token's header names, so the keys holding it can be fetched first.
pub fn key_id(token: &str) -> Result<String, VerifyError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(VerifyError::Invalid("longer than 2048 bytes"));
    }
    let header = decode_header(token).map_err(|_| VerifyError::Invalid("malformed"))?;
    if header.alg != Algorithm::EdDSA {
        return Err(VerifyError::Invalid("not signed with EdDSA"));
    }
    header.kid.ok_or(VerifyError::Invalid("no key id"))
}

/// Verifies `token` against `keys`; the claims when everything holds. `amount`, `currency` and
/// `plan_id` are then the caller's to compare with its cart, `jti` to check for reuse.
pub fn verify(token: &str, keys: &JwkSet, expected: &Expectation) -> Result<ApprovalClaims, VerifyError> {
    let kid = key_id(token)?;
    let jwk = keys.find(&kid).ok_or_else(|| VerifyError::UnknownKey(kid.clone()))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| VerifyError::UnknownKey(kid))?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[APPROVAL_TOKEN_ISSUER]);
    validation.set_audience(&[expected.merchant_id]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 0;
    let data = decode::<ApprovalClaims>(token, &key, &validation).map_err(|error| match error.kind() {
        ErrorKind::ExpiredSignature => VerifyError::Expired,
        ErrorKind::InvalidAudience => VerifyError::WrongMerchant,
        ErrorKind::InvalidIssuer => VerifyError::Invalid("another issuer"),
        ErrorKind::InvalidSignature => VerifyError::Invalid("bad signature"),
        ErrorKind::MissingRequiredClaim(_) | ErrorKind::InvalidClaimFormat(_) | ErrorKind::Json(_) => {
            VerifyError::Invalid("claims missing or malformed")
        }
        _ => VerifyError::Invalid("malformed"),
    })?;
    // A test approval never pays a live order, nor the other way round.
    if data.claims.livemode != expected.livemode {
        return Err(VerifyError::WrongMode);
    }
    Ok(data.claims)
}

/// The edge's published keys, cached for `ttl`; a token naming an unknown key fetches them again,
/// but not more often than every `min_refetch` (a stream of made-up key ids costs the edge one
/// request per interval, not one each).
#[derive(Debug)]
pub struct KeyCache {
    ttl: Duration,
    min_refetch: Duration,
    cached: Option<Cached>,
}

#[derive(Debug)]
struct Cached {
    keys: JwkSet,
    fetched: Instant,
}

impl KeyCache {
    pub fn new(ttl: Duration, min_refetch: Duration) -> Self {
        Self {
            ttl,
            min_refetch,
            cached: None,
        }
    }

    /// Whether a token naming `kid` at `now` calls for fetching the keys.
    pub fn needs_fetch(&self, kid: &str, now: Instant) -> bool {
        let Some(cached) = &self.cached else {
            return true;
        };
        let age = now.saturating_duration_since(cached.fetched);
        age >= self.ttl || (cached.keys.find(kid).is_none() && age >= self.min_refetch)
    }

    /// The keys to verify a token naming `kid` with: cached, or fetched by `fetch` when
    /// [`Self::needs_fetch`]. A failed fetch still serves cached keys that hold `kid`.
    pub fn keys_for<E>(
        &mut self,
        kid: &str,
        now: Instant,
        fetch: impl FnOnce() -> Result<JwkSet, E>,
    ) -> Result<JwkSet, E> {
        if !self.needs_fetch(kid, now)
            && let Some(cached) = &self.cached
        {
            return Ok(cached.keys.clone());
        }
        match fetch() {
            Ok(keys) => {
                self.cached = Some(Cached {
                    keys: keys.clone(),
                    fetched: now,
                });
                Ok(keys)
            }
            Err(error) => match &self.cached {
                Some(cached) if cached.keys.find(kid).is_some() => Ok(cached.keys.clone()),
                _ => Err(error),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::time::{SystemTime, UNIX_EPOCH};

    use paylater_shared::currency::Currency;
    use paylater_shared::money::MinorUnits;
    use paylater_shared::token::ApprovalSigner;

    use super::*;

    const DEMO: Expectation = Expectation {
        merchant_id: "m_nordic_outdoor",
        livemode: false,
    };

    fn now_s() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default()
    }

    fn claims() -> ApprovalClaims {
        ApprovalClaims {
            iss: APPROVAL_TOKEN_ISSUER.into(),
            sub: "0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e10".into(),
            aud: "m_nordic_outdoor".into(),
            amount: MinorUnits(14499),
            currency: Currency::parse("USD").unwrap(),
            plan_id: "pay_in_4".into(),
            iat: now_s(),
            exp: now_s() + 900,
            jti: "jti-1".into(),
            livemode: false,
            schedule_start: None,
            first_due_date: None,
        }
    }

    /// The JWKS as `GET /v1/keys` publishes it, read by the merchant's library.
    fn jwks(signers: &[&ApprovalSigner]) -> JwkSet {
        let keys: Vec<_> = signers.iter().map(|s| s.jwk()).collect();
        serde_json::from_value(serde_json::json!({ "keys": keys })).unwrap()
    }

    fn signer(kid: &str, seed: u8) -> ApprovalSigner {
        ApprovalSigner::from_seed(kid, &[seed; 32])
    }

    #[test]
    fn a_token_of_the_edge_for_this_merchant_and_mode_verifies() {
        let edge = signer("ak_2026_11", 7);
        let expected = claims();
        let token = edge.sign(&expected);
        assert_eq!(key_id(&token).unwrap(), "ak_2026_11");
        assert_eq!(verify(&token, &jwks(&[&edge]), &DEMO), Ok(expected));
    }

    #[test]
    fn during_a_rotation_either_published_key_verifies() {
        let (old, new) = (signer("ak_old", 1), signer("ak_new", 2));
        let keys = jwks(&[&new, &old]);
        assert!(verify(&old.sign(&claims()), &keys, &DEMO).is_ok());
        assert!(verify(&new.sign(&claims()), &keys, &DEMO).is_ok());
    }

    #[test]
    fn refuses_every_way_a_token_can_be_wrong() {
        let edge = signer("ak_1", 7);
        let keys = jwks(&[&edge]);
        let with = |change: fn(&mut ApprovalClaims)| {
            let mut c = claims();
            change(&mut c);
            verify(&edge.sign(&c), &keys, &DEMO)
        };
        assert_eq!(with(|c| c.exp = now_s() - 5), Err(VerifyError::Expired));
        assert_eq!(with(|c| c.aud = "m_other".into()), Err(VerifyError::WrongMerchant));
        assert_eq!(
            with(|c| c.iss = "someone-else".into()),
            Err(VerifyError::Invalid("another issuer"))
        );
        assert_eq!(with(|c| c.livemode = true), Err(VerifyError::WrongMode));
        // Signed by a key the edge does not publish under that id.
        let forged = signer("ak_1", 8).sign(&claims());
        assert_eq!(
            verify(&forged, &keys, &DEMO),
            Err(VerifyError::Invalid("bad signature"))
        );
        let unknown = signer("ak_2", 7).sign(&claims());
        assert_eq!(
            verify(&unknown, &keys, &DEMO),
            Err(VerifyError::UnknownKey("ak_2".into()))
        );
        // A changed payload under the original signature.
        let token = edge.sign(&claims());
        let parts: Vec<&str> = token.split('.').collect();
        let other_payload = edge.sign(&ApprovalClaims {
            amount: MinorUnits(1),
            ..claims()
        });
        let tampered = format!("{}.{}.{}", parts[0], other_payload.split('.').nth(1).unwrap(), parts[2]);
        assert_eq!(
            verify(&tampered, &keys, &DEMO),
            Err(VerifyError::Invalid("bad signature"))
        );
        assert_eq!(
            verify("not-a-token", &keys, &DEMO),
            Err(VerifyError::Invalid("malformed"))
        );
        let long = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert_eq!(
            verify(&long, &keys, &DEMO),
            Err(VerifyError::Invalid("longer than 2048 bytes"))
        );
        // A live server refuses a test token.
        let live = Expectation { livemode: true, ..DEMO };
        assert_eq!(verify(&token, &keys, &live), Err(VerifyError::WrongMode));
    }

    #[test]
    fn keys_are_cached_and_fetched_again_for_an_unknown_key_or_when_stale() {
        let (first, second) = (signer("ak_1", 1), signer("ak_2", 2));
        let mut cache = KeyCache::new(Duration::from_secs(300), Duration::from_secs(10));
        let start = Instant::now();
        let fetches = Cell::new(0);
        let fetch = |keys: JwkSet| {
            let fetches = &fetches;
            move || {
                fetches.set(fetches.get() + 1);
                Ok::<_, ()>(keys)
            }
        };
        let got = cache.keys_for("ak_1", start, fetch(jwks(&[&first]))).unwrap();
        assert!(got.find("ak_1").is_some());
        // Cached: no fetch for a known key.
        let got = cache
            .keys_for("ak_1", start + Duration::from_secs(299), fetch(jwks(&[])))
            .unwrap();
        assert!(got.find("ak_1").is_some());
        assert_eq!(fetches.get(), 1);
        // An unknown key right after a fetch waits for the interval; then it fetches again.
        assert!(!cache.needs_fetch("ak_2", start + Duration::from_secs(9)));
        assert!(cache.needs_fetch("ak_2", start + Duration::from_secs(10)));
        let got = cache
            .keys_for("ak_2", start + Duration::from_secs(10), fetch(jwks(&[&second, &first])))
            .unwrap();
        assert!(got.find("ak_2").is_some());
        assert_eq!(fetches.get(), 2);
        // Stale after the ttl, even for a known key.
        assert!(cache.needs_fetch("ak_1", start + Duration::from_secs(310)));
    }

    #[test]
    fn a_failed_fetch_serves_cached_keys_only_when_they_hold_the_key() {
        let first = signer("ak_1", 1);
        let mut cache = KeyCache::new(Duration::from_secs(300), Duration::from_secs(10));
        let start = Instant::now();
        assert_eq!(cache.keys_for("ak_1", start, || Err::<JwkSet, _>("down")), Err("down"));
        cache
            .keys_for("ak_1", start, || Ok::<_, &str>(jwks(&[&first])))
            .unwrap();
        let later = start + Duration::from_secs(400);
        assert!(cache.keys_for("ak_1", later, || Err("down")).is_ok());
        assert_eq!(cache.keys_for("ak_9", later, || Err("down")), Err("down"));
    }
}
