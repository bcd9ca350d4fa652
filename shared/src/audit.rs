//! The audit trail's digests (after AWS CloudTrail's digest files): for one merchant, mode and
//! period, the list of archive objects written in it (key, size, SHA-256 of the stored bytes),
//! the previous digest's key and hash, and an Ed25519 signature under a digest key published at
//! `GET /v1/keys` (its own key, never an approval key). The edge signs; anyone verifies.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::CivilDate;
use crate::token::{Jwk, Jwks};

/// The digest format's version.
pub const VERSION: u32 = 1;
/// What the signature covers starts with this, so digest signatures can never pass for anything
/// else's (approval tokens sign `header.claims`, never a line like this).
const SIGNING_CONTEXT: &[u8] = b"paylater audit digest v1\n";

/// One archive object as its period's digest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestEntry {
    pub key: String,
    pub size: u64,
    /// SHA-256 of the stored bytes, lowercase hex.
    pub sha256: String,
}

/// The digest before this one in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestLink {
    pub key: String,
    /// SHA-256 of the previous digest's stored bytes, lowercase hex.
    pub sha256: String,
}

/// What a digest says, everything its signature covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestBody {
    pub version: u32,
    pub merchant_id: String,
    /// `test` or `live`.
    pub mode: String,
    /// Unix seconds: the objects listed were written in `[period_start, period_end)`.
    pub period_start: i64,
    pub period_end: i64,
    /// `None` only for a chain's first digest.
    pub previous: Option<DigestLink>,
    /// Sorted by key.
    pub objects: Vec<DigestEntry>,
}

/// A stored digest: its body and the signature over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedDigest {
    pub body: DigestBody,
    /// The `kid` of the digest key at `GET /v1/keys`.
    pub kid: String,
    /// Ed25519 over the signing context and the body's JSON, base64url.
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("not a digest: {0}")]
    Unreadable(String),
    #[error("signed by key {0:?}, which the key set does not hold")]
    UnknownKey(String),
    #[error("the signature does not match the digest")]
    BadSignature,
}

impl DigestBody {
    fn signing_input(&self) -> Vec<u8> {
        let json = serde_json::to_vec(self).unwrap_or_else(|_| unreachable!("a digest body is plain data"));
        [SIGNING_CONTEXT, json.as_slice()].concat()
    }
}

impl SignedDigest {
    /// The bytes stored (and hashed into the next digest's link).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_else(|_| unreachable!("a digest is plain data"))
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DigestError> {
        crate::json::from_bytes(bytes).map_err(|e| DigestError::Unreadable(e.to_string()))
    }

    /// Checks the signature against the key of the same `kid` in `keys`.
    pub fn verify(&self, keys: &Jwks) -> Result<(), DigestError> {
        let jwk = keys
            .keys
            .iter()
            .find(|k| k.kid == self.kid && k.kty == "OKP" && k.crv == "Ed25519")
            .ok_or_else(|| DigestError::UnknownKey(self.kid.clone()))?;
        let public: [u8; 32] = B64
            .decode(&jwk.x)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(DigestError::BadSignature)?;
        let key = VerifyingKey::from_bytes(&public).map_err(|_| DigestError::BadSignature)?;
        let signature: [u8; 64] = B64
            .decode(&self.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(DigestError::BadSignature)?;
        key.verify_strict(&self.body.signing_input(), &Signature::from_bytes(&signature))
            .map_err(|_| DigestError::BadSignature)
    }
}

/// What every digest key of a merchant's mode and (UTC) day starts with.
pub fn digest_day_prefix(merchant_id: &str, mode: &str, day: CivilDate) -> String {
    format!(
        "audit/v1/{merchant_id}/{mode}/{:04}/{:02}/{:02}/",
        day.year(),
        day.month(),
        day.day()
    )
}

/// `audit/v1/{merchant_id}/{mode}/{yyyy}/{mm}/{dd}/{period_start}.json`: dated by the period's
/// start, named by it in Unix seconds (zero-padded, so keys sort by time). A digest stored
/// anywhere else is out of place.
pub fn digest_key(merchant_id: &str, mode: &str, period_start_s: i64) -> String {
    let day = CivilDate::from_unix_millis_utc(period_start_s.saturating_mul(1000))
        .unwrap_or_else(|_| CivilDate::from_days_since_epoch(0).unwrap_or_else(|_| unreachable!("day 0 is a date")));
    format!("{}{period_start_s:012}.json", digest_day_prefix(merchant_id, mode, day))
}

/// `GET /v1/keys`: the approval keys as a JWKS (`keys`, all a JWT library reads) and, apart,
/// the digest keys, so no approval token verifier can ever pick a digest key by its `kid`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedKeys {
    pub keys: Vec<Jwk>,
    #[serde(default)]
    pub audit_digest_keys: Vec<Jwk>,
}

/// Lowercase hex SHA-256 of stored bytes, as digests and links name them.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A digest key of `DIGEST_SIGNING_KEYS`.
pub struct DigestSigner {
    kid: String,
    key: SigningKey,
}

impl DigestSigner {
    pub fn from_seed(kid: &str, seed: &[u8; 32]) -> Self {
        Self {
            kid: kid.to_owned(),
            key: SigningKey::from_bytes(seed),
        }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Its public half, for `GET /v1/keys`.
    pub fn jwk(&self) -> Jwk {
        Jwk::ed25519(&self.kid, &self.key)
    }

    /// Signs a body. Ed25519 is deterministic: the same body always gives the same bytes, so a
    /// digest written twice (a cron run that stopped halfway) is the same digest.
    pub fn sign(&self, body: DigestBody) -> SignedDigest {
        let signature = self.key.sign(&body.signing_input());
        SignedDigest {
            body,
            kid: self.kid.clone(),
            signature: B64.encode(signature.to_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> DigestSigner {
        DigestSigner::from_seed("digest-test", &[3; 32])
    }

    fn body() -> DigestBody {
        DigestBody {
            version: VERSION,
            merchant_id: "m_demo".into(),
            mode: "test".into(),
            period_start: 1_796_000_400,
            period_end: 1_796_004_000,
            previous: Some(DigestLink {
                key: "audit/v1/m_demo/test/1796000400.json".into(),
                sha256: sha256_hex(b"previous"),
            }),
            objects: vec![DigestEntry {
                key: "logs/v1/m_demo/2026/12/01/test-ab.ndjson.enc".into(),
                size: 321,
                sha256: sha256_hex(b"object"),
            }],
        }
    }

    #[test]
    fn a_signed_digest_round_trips_and_verifies() {
        let signed = signer().sign(body());
        let keys = Jwks {
            keys: vec![signer().jwk()],
        };
        let read = SignedDigest::from_bytes(&signed.to_bytes()).unwrap();
        assert_eq!(read, signed);
        assert_eq!(read.verify(&keys), Ok(()));
        // Deterministic: signing again gives the same stored bytes.
        assert_eq!(signer().sign(body()).to_bytes(), signed.to_bytes());
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn any_change_to_the_body_breaks_the_signature() {
        let keys = Jwks {
            keys: vec![signer().jwk()],
        };
        let signed = signer().sign(body());
        let changes: [fn(&mut DigestBody); 5] = [
            |b| b.objects[0].size += 1,
            |b| b.objects.clear(),
            |b| b.previous = None,
            |b| b.period_start += 3600,
            |b| b.merchant_id = "m_other".into(),
        ];
        for change in changes {
            let mut forged = signed.clone();
            change(&mut forged.body);
            assert_eq!(forged.verify(&keys), Err(DigestError::BadSignature));
        }
    }

    #[test]
    fn only_the_named_key_verifies() {
        let signed = signer().sign(body());
        let other = DigestSigner::from_seed("digest-test", &[4; 32]);
        let keys = Jwks {
            keys: vec![other.jwk()],
        };
        assert_eq!(signed.verify(&keys), Err(DigestError::BadSignature));
        assert_eq!(
            signed.verify(&Jwks { keys: vec![] }),
            Err(DigestError::UnknownKey("digest-test".into()))
        );
        assert!(matches!(
            SignedDigest::from_bytes(b"{}"),
            Err(DigestError::Unreadable(_))
        ));
    }
}
