//! Verifies a Paylater approval token as a merchant's server does, with the `jsonwebtoken` crate
//! and the edge's published keys (the JSON of `GET /v1/keys`, saved to a file).
//! docs/approvals.md quotes this file; the integration tests run it.
//!
//!     cargo run -p paylater-shared --example verify_approval -- keys.json m_your_merchant_id test TOKEN
//!
//! `test` or `live`: the mode of the key you will create the order with.
//!
//! Prints the claims as JSON and exits 0, or prints why not and exits 1.

use std::process::ExitCode;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};

fn verify(keys_file: &str, merchant_id: &str, mode: &str, token: &str) -> Result<serde_json::Value, String> {
    let livemode = match mode {
        "test" => false,
        "live" => true,
        other => return Err(format!("mode must be test or live, not {other}")),
    };
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
    // A test approval never pays a live order, nor the other way round.
    if data.claims["livemode"].as_bool().unwrap_or(false) != livemode {
        return Err(format!("the token is not a {mode}-mode approval"));
    }
    // Then check what your order says: amount (minor units), currency, plan_id, and that the
    // jti was not used before.
    Ok(data.claims)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [keys_file, merchant_id, mode, token] = args.as_slice() else {
        eprintln!("usage: verify_approval KEYS_JSON_FILE MERCHANT_ID test|live TOKEN");
        return ExitCode::from(2);
    };
    match verify(keys_file, merchant_id, mode, token) {
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
