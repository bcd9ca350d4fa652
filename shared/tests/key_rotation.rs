//! Key rotation, through the public API only: a token signed by a key that is still listed
//! verifies after a newer key took over signing; once the key is removed, its tokens are refused
//! as `UnknownKey` (never as a bad signature, so callers can tell "retired" from "forged").

use paylater_shared::token::{
    APPROVAL_TOKEN_ISSUER, ApprovalClaims, ApprovalExpectation, ApprovalSigner, HmacKey, Jwks, SessionClaims,
    SessionKeyring, TokenError, verify_approval,
};
use paylater_shared::{Currency, MinorUnits};

const NOW: i64 = 1_795_420_800;
const MERCHANT_ID: &str = "m_nordic_outdoor";

fn hmac_key(kid: &str, byte: u8) -> HmacKey {
    HmacKey {
        kid: kid.into(),
        secret: vec![byte; 32],
    }
}

fn keyring(keys: Vec<HmacKey>) -> SessionKeyring {
    SessionKeyring::new(keys).expect("test keys have valid kids and 32-byte secrets")
}

fn session_claims() -> SessionClaims {
    SessionClaims {
        sid: "ses_rotation".into(),
        mid: MERCHANT_ID.into(),
        key: "pk_test_demo".into(),
        org: "https://shop.example".into(),
        amt: MinorUnits(12_999),
        cur: Currency::parse("EUR").expect("EUR is ISO 4217"),
        iat: NOW,
        exp: NOW + 1800,
        sd: None,
    }
}

/// The one place that builds approval claims, so a field added to `ApprovalClaims` changes
/// only here.
fn approval_claims() -> ApprovalClaims {
    ApprovalClaims {
        iss: APPROVAL_TOKEN_ISSUER.into(),
        sub: "apr_rotation".into(),
        aud: MERCHANT_ID.into(),
        amount: MinorUnits(12_999),
        currency: Currency::parse("EUR").expect("EUR is ISO 4217"),
        plan_id: "pay_in_4".into(),
        iat: NOW,
        exp: NOW + 600,
        jti: "0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e10".into(),
        livemode: false,
        schedule_start: None,
        first_due_date: None,
    }
}

/// What the merchant's server expects of the tokens above, beside the signature.
fn expectation() -> ApprovalExpectation<'static> {
    ApprovalExpectation {
        merchant_id: MERCHANT_ID,
        livemode: false,
    }
}

#[test]
fn session_token_of_a_listed_older_key_verifies_after_rotation() {
    let before_rotation = keyring(vec![hmac_key("2026-01", 1)]);
    let old_token = before_rotation.sign(&session_claims());
    assert!(old_token.starts_with("v1.2026-01."), "{old_token}");

    // The new key signs from now on; the old one stays listed until its tokens expire.
    let after_rotation = keyring(vec![hmac_key("2026-02", 2), hmac_key("2026-01", 1)]);
    let new_token = after_rotation.sign(&session_claims());
    assert!(new_token.starts_with("v1.2026-02."), "{new_token}");

    assert_eq!(after_rotation.verify(&old_token, NOW + 10), Ok(session_claims()));
    assert_eq!(after_rotation.verify(&new_token, NOW + 10), Ok(session_claims()));
}

#[test]
fn session_token_of_a_removed_key_is_refused_as_unknown_key() {
    let old_token = keyring(vec![hmac_key("2026-01", 1)]).sign(&session_claims());
    let old_key_removed = keyring(vec![hmac_key("2026-02", 2)]);

    assert_eq!(
        old_key_removed.verify(&old_token, NOW + 10),
        Err(TokenError::UnknownKey)
    );
    let new_token = old_key_removed.sign(&session_claims());
    assert_eq!(old_key_removed.verify(&new_token, NOW + 10), Ok(session_claims()));
}

#[test]
fn a_reused_kid_with_another_secret_is_a_bad_signature_not_unknown_key() {
    // The kid alone does not make a token valid: the listed key's secret must match.
    let token = keyring(vec![hmac_key("2026-01", 1)]).sign(&session_claims());
    let same_kid_new_secret = keyring(vec![hmac_key("2026-01", 3)]);
    assert_eq!(
        same_kid_new_secret.verify(&token, NOW + 10),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn approval_tokens_of_old_and_new_keys_verify_while_both_are_in_the_jwks() {
    let old_signer = ApprovalSigner::from_seed("ed-2026-01", &[11; 32]);
    let new_signer = ApprovalSigner::from_seed("ed-2026-02", &[22; 32]);
    let old_token = old_signer.sign(&approval_claims());
    let new_token = new_signer.sign(&approval_claims());
    let both = Jwks {
        keys: vec![new_signer.jwk(), old_signer.jwk()],
    };

    assert_eq!(
        verify_approval(&old_token, &both, &expectation(), NOW + 1),
        Ok(approval_claims())
    );
    assert_eq!(
        verify_approval(&new_token, &both, &expectation(), NOW + 1),
        Ok(approval_claims())
    );
}

#[test]
fn approval_token_of_a_key_removed_from_the_jwks_is_refused_as_unknown_key() {
    let old_signer = ApprovalSigner::from_seed("ed-2026-01", &[11; 32]);
    let new_signer = ApprovalSigner::from_seed("ed-2026-02", &[22; 32]);
    let old_token = old_signer.sign(&approval_claims());
    let new_token = new_signer.sign(&approval_claims());
    let new_only = Jwks {
        keys: vec![new_signer.jwk()],
    };

    assert_eq!(
        verify_approval(&old_token, &new_only, &expectation(), NOW + 1),
        Err(TokenError::UnknownKey)
    );
    assert_eq!(
        verify_approval(&new_token, &new_only, &expectation(), NOW + 1),
        Ok(approval_claims())
    );
}
