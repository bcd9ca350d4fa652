//! Any string presented as a session or approval token: never a panic, never accepted unless
//! it is the genuine token.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paylater_shared::token::{ApprovalSigner, HmacKey, Jwks, SessionKeyring, verify_approval_signature};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let keyring = SessionKeyring::new(vec![HmacKey {
        kid: "k1".into(),
        secret: vec![7; 32],
    }])
    .expect("valid keyring");
    // Nobody but the holder of the secret can produce a verifying token, so a fuzzer must not.
    assert!(
        keyring.verify(text, 1_795_420_800).is_err(),
        "forged session token accepted: {text}"
    );
    let signer = ApprovalSigner::from_seed("ed", &[3; 32]);
    let jwks = Jwks {
        keys: vec![signer.jwk()],
    };
    assert!(
        verify_approval_signature(text, &jwks, 1_795_420_800).is_err(),
        "forged approval token accepted: {text}"
    );
});
