//! The cron's audit step: for each merchant and mode's chain, one signed digest per period that
//! has ended and settled (empty periods too, so a gap shows), each naming the one before, stored
//! in R2 under `audit::digest_key` where nothing is (a signed digest is never overwritten), then
//! the chain moved on in D1 with the hash of what is stored. A digest written twice (a run that
//! stopped between R2 and D1) is the same bytes: its objects were fixed when its period ended,
//! and Ed25519 signs deterministically; if they differ (a key rotated in between), the stored
//! one stands and the chain links to it.

use paylater_shared::audit::{DigestBody, DigestEntry, DigestLink, DigestSigner, VERSION, sha256_hex};
use wasm_bindgen::JsValue;
use worker::{Bucket, D1Database, Env, console_error, console_log};

use crate::audit::{self, Chain};
use crate::bindings::{ARCHIVE, DIGEST_SIGNING_KEYS, LEDGER_DB};
use crate::consumer::{digest_timing, put_once, stored_bytes};

/// Seals every chain's settled periods, the furthest behind first, within a run's budget; a
/// chain that fails is logged and the others go on (the next run tries it again).
pub async fn seal_all(env: &Env) {
    let setup = async {
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
        Ok::<_, String>((signer, db, bucket, chains))
    };
    let (signer, db, bucket, chains) = match setup.await {
        Ok(setup) => setup,
        Err(error) => {
            console_error!(
                "{}",
                serde_json::json!({ "kind": "audit_digest_failed", "error": error })
            );
            return;
        }
    };
    let (_, settle) = digest_timing(env);
    let mut budget = audit::MAX_SEALS_PER_RUN_TOTAL;
    let mut written = 0;
    for chain in chains {
        let (merchant_id, mode) = (chain.merchant_id.clone(), chain.mode.clone());
        match seal(&db, &bucket, &signer, chain, settle, &mut budget).await {
            Ok(count) => written += count,
            Err(error) => console_error!(
                "{}",
                serde_json::json!({ "kind": "audit_digest_failed", "merchant_id": merchant_id, "mode": mode, "error": error })
            ),
        }
        if budget == 0 {
            break;
        }
    }
    console_log!("{}", serde_json::json!({ "kind": "audit_digests", "written": written }));
}

/// Seals one chain's settled periods (by the database's clock) while the budget lasts; how many
/// digests it wrote.
async fn seal(
    db: &D1Database,
    bucket: &Bucket,
    signer: &DigestSigner,
    mut chain: Chain,
    settle: i64,
    budget: &mut usize,
) -> Result<usize, String> {
    let mut written = 0;
    for period in chain.periods_to_seal(chain.now_s, settle) {
        if *budget == 0 {
            break;
        }
        *budget -= 1;
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
        let key = audit::digest_key(&chain.merchant_id, &chain.mode, start);
        let stored = put_once(bucket, &key, bytes.clone(), "application/json", Default::default()).await?;
        let sha256 = match stored {
            true => sha256_hex(&bytes),
            // Stored before: the chain goes on from what is there.
            false => stored_sha256(bucket, &key).await?,
        };
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
    Ok(written)
}

async fn stored_sha256(bucket: &Bucket, key: &str) -> Result<String, String> {
    let bytes = stored_bytes(bucket, key)
        .await?
        .ok_or_else(|| format!("{key}: stored, then gone"))?;
    Ok(sha256_hex(&bytes))
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
