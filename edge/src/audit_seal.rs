//! The cron's audit step: for each merchant and mode's chain, one signed digest per period that
//! has ended and settled (empty periods too, so a gap shows), each naming the one before, stored
//! in R2 under `audit::digest_key`, then the chain moved on in D1. A digest written twice (a run
//! that stopped between R2 and D1) is the same bytes: its objects were fixed when its period
//! ended, and Ed25519 signs deterministically.

use paylater_shared::audit::{DigestBody, DigestEntry, DigestLink, DigestSigner, VERSION, sha256_hex};
use wasm_bindgen::JsValue;
use worker::{Date, Env, HttpMetadata, console_error, console_log};

use crate::audit::{self, Chain};
use crate::bindings::{ARCHIVE, DIGEST_SIGNING_KEYS, LEDGER_DB};
use crate::consumer::digest_timing;

/// Seals every chain's settled periods; failures are logged and the next run goes on.
pub async fn seal_all(env: &Env) {
    match seal(env).await {
        Ok(written) => console_log!("{}", serde_json::json!({ "kind": "audit_digests", "written": written })),
        Err(error) => console_error!(
            "{}",
            serde_json::json!({ "kind": "audit_digest_failed", "error": error })
        ),
    }
}

async fn seal(env: &Env) -> Result<usize, String> {
    let signer = digest_signers(env)?
        .into_iter()
        .next()
        .ok_or("DIGEST_SIGNING_KEYS holds no key")?;
    let db = env.d1(LEDGER_DB).map_err(|e| e.to_string())?;
    let bucket = env.bucket(ARCHIVE).map_err(|e| e.to_string())?;
    let chains: Vec<Chain> = db
        .prepare(audit::CHAINS)
        .all()
        .await
        .map_err(|e| e.to_string())?
        .results()
        .map_err(|e| e.to_string())?;
    let (_, settle) = digest_timing(env);
    let now_s = (Date::now().as_millis() / 1000) as i64;
    let mut written = 0;
    for mut chain in chains {
        for period in chain.periods_to_seal(now_s, settle) {
            let start = period * chain.period_seconds;
            let objects: Vec<DigestEntry> = db
                .prepare(audit::PERIOD_OBJECTS)
                .bind(&[
                    JsValue::from_str(&chain.merchant_id),
                    JsValue::from_str(&chain.mode),
                    JsValue::from_f64(period as f64),
                ])
                .map_err(|e| e.to_string())?
                .all()
                .await
                .map_err(|e| e.to_string())?
                .results()
                .map_err(|e| e.to_string())?;
            let previous = match (&chain.last_key, &chain.last_sha256) {
                (Some(key), Some(sha256)) => Some(DigestLink {
                    key: key.clone(),
                    sha256: sha256.clone(),
                }),
                _ => None,
            };
            let digest = signer.sign(DigestBody {
                version: VERSION,
                merchant_id: chain.merchant_id.clone(),
                mode: chain.mode.clone(),
                period_start: start,
                period_end: start + chain.period_seconds,
                previous,
                objects,
            });
            let bytes = digest.to_bytes();
            let sha256 = sha256_hex(&bytes);
            let key = audit::digest_key(&chain.merchant_id, &chain.mode, start);
            bucket
                .put(&key, bytes)
                .http_metadata(HttpMetadata {
                    content_type: Some("application/json".into()),
                    ..HttpMetadata::default()
                })
                .execute()
                .await
                .map_err(|e| format!("{key}: {e}"))?;
            db.prepare(audit::ADVANCE_CHAIN)
                .bind(&[
                    JsValue::from_str(&chain.merchant_id),
                    JsValue::from_str(&chain.mode),
                    JsValue::from_f64(period as f64),
                    JsValue::from_str(&key),
                    JsValue::from_str(&sha256),
                ])
                .map_err(|e| e.to_string())?
                .run()
                .await
                .map_err(|e| e.to_string())?;
            chain.sealed_through = period;
            chain.last_key = Some(key);
            chain.last_sha256 = Some(sha256);
            written += 1;
        }
    }
    Ok(written)
}

/// `DIGEST_SIGNING_KEYS`, newest first: the newest signs, all are published.
pub fn digest_signers(env: &Env) -> Result<Vec<DigestSigner>, String> {
    let secret = env
        .secret(DIGEST_SIGNING_KEYS)
        .map(|s| s.to_string())
        .map_err(|_| "DIGEST_SIGNING_KEYS is not set".to_owned())?;
    crate::approvals::seeds_from_secret(DIGEST_SIGNING_KEYS, &secret)
        .map(|seeds| {
            seeds
                .iter()
                .map(|(kid, seed)| DigestSigner::from_seed(kid, seed))
                .collect()
        })
        .map_err(|e| e.to_string())
}
