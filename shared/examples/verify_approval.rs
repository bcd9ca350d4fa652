//! Verifies a Paylater approval token as a merchant's server does, with the `jsonwebtoken` crate
//! and the edge's published keys (the JSON of `GET /v1/keys`, saved to a file). The README
//! quotes this file; the integration tests run it.
//!
//!     cargo run -p paylater-shared --example verify_approval -- keys.json m_your_merchant_id TOKEN
//!
//! Prints the claims as JSON and exits 0, or prints why not and exits 1.

use std::process::ExitCode;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};

fn verify(keys_file: &str, merchant_id: &str, token: &str) -> Result<serde_json::Value, String> {
    let keys: JwkSet = serde_json::from_str(&std::fs::read_to_string(keys_file).map_err(|e| e.to_string())?)
        .map_err(|e| format!("keys: {e}"))?;
    let header = decode_header(token).map_err(|e| format!("header: {e}"))?;
    let kid = header.kid.ok_or("the token names no key")?;
    let jwk = keys.find(&kid).ok_or_else(|| format!("no published key {kid}"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("key: {e}"))?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&["paylater-edge"]);
    validation.set_audience(&[merchant_id]);
    validation.leeway = 0;
    let data = decode::<serde_json::Value>(token, &key, &validation).map_err(|e| format!("token: {e}"))?;
    // Then check what your order says: amount (minor units), currency, plan_id, and that the
    // jti was not used before.
    Ok(data.claims)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [keys_file, merchant_id, token] = args.as_slice() else {
        eprintln!("usage: verify_approval KEYS_JSON_FILE MERCHANT_ID TOKEN");
        return ExitCode::from(2);
    };
    match verify(keys_file, merchant_id, token) {
        Ok(claims) => {
            println!("{claims}");
            ExitCode::SUCCESS
        }
        Err(why) => {
            println!("invalid: {why}");
            ExitCode::FAILURE
        }
    }
}
