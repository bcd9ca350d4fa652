//! `paylater-audit`: checks a merchant's audit trail through the edge's API, as any auditor
//! can, with nothing but a `logs:read` key (docs/audit.md).
//!
//! ```text
//! paylater-audit verify --edge URL --key sk_… --from YYYY-MM-DD --to YYYY-MM-DD
//!                       [--keys FILE] [--max-lag SECONDS]
//! paylater-audit export --edge URL --key sk_… --from … --to … --archive-keys kid:base64url,…
//! ```
//! `verify` exits 0 when everything checks, 1 naming every finding, 2 when it could not check.
//! `export` verifies nothing: it opens each object with the archive keyring and prints NDJSON.

mod check;
mod fetch;

use std::collections::BTreeMap;
use std::process::ExitCode;

use paylater_shared::CivilDate;
use paylater_shared::archive::{ArchiveKeyring, Scope};

use crate::check::{Trail, listed_objects, verify};
use crate::fetch::Edge;

const USAGE: &str = "usage:
  paylater-audit verify --edge URL --key sk_... --from YYYY-MM-DD --to YYYY-MM-DD [--keys FILE] [--max-lag SECONDS]
    (--keys: the digest keys to trust, a GET /v1/keys answer saved earlier; else the edge's own.
     --max-lag: how far behind now digests may end, default 7200)
  paylater-audit export --edge URL --key sk_... --from YYYY-MM-DD --to YYYY-MM-DD --archive-keys KEYRING
    (KEYRING: the edge's ARCHIVE_KEYS, or PAYLATER_ARCHIVE_KEYS in the environment)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let options = match Options::parse(rest) {
        Ok(options) => options,
        Err(why) => {
            eprintln!("{why}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let outcome = match command.as_str() {
        "verify" => run_verify(&options),
        "export" => run_export(&options),
        other => Err(format!("unknown command {other:?}")),
    };
    match outcome {
        Ok(code) => code,
        Err(why) => {
            eprintln!("paylater-audit: {why}");
            ExitCode::from(2)
        }
    }
}

struct Options {
    edge: String,
    key: String,
    from: String,
    to: String,
    archive_keys: Option<String>,
    keys_file: Option<String>,
    max_lag_s: i64,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut named: BTreeMap<&str, String> = BTreeMap::new();
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let name = match flag.as_str() {
                "--edge" | "--key" | "--from" | "--to" | "--archive-keys" | "--keys" | "--max-lag" => {
                    flag.trim_start_matches("--")
                }
                other => return Err(format!("unknown option {other:?}")),
            };
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            named.insert(name, value.clone());
        }
        let mut take = |name: &str| named.remove(name).ok_or_else(|| format!("--{name} is required"));
        Ok(Self {
            edge: take("edge")?.trim_end_matches('/').to_owned(),
            key: take("key")?,
            from: take("from")?,
            to: take("to")?,
            archive_keys: named
                .remove("archive-keys")
                .or_else(|| std::env::var("PAYLATER_ARCHIVE_KEYS").ok()),
            keys_file: named.remove("keys"),
            max_lag_s: match named.remove("max-lag") {
                None => DEFAULT_MAX_LAG_SECONDS,
                Some(text) => text
                    .parse()
                    .ok()
                    .filter(|s| *s >= 0)
                    .ok_or_else(|| format!("--max-lag {text:?}: whole seconds"))?,
            },
        })
    }
}

/// An hour's period, the cron's five minutes and the settle time, with room to spare.
const DEFAULT_MAX_LAG_SECONDS: i64 = 7_200;

fn run_verify(options: &Options) -> Result<ExitCode, String> {
    let edge = Edge::new(&options.edge, &options.key);
    let keys = match &options.keys_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            let published: paylater_shared::audit::PublishedKeys =
                serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
            paylater_shared::token::Jwks {
                keys: published.audit_digest_keys,
            }
        }
        None => {
            eprintln!("digest keys: the edge's own GET /v1/keys (save it and pass --keys to pin them)");
            edge.digest_keys()?
        }
    };
    let from = CivilDate::parse(&options.from).map_err(|e| format!("--from: {e}"))?;
    let to = CivilDate::parse(&options.to).map_err(|e| format!("--to: {e}"))?;
    // Digests of the day after too: an object of the range's last day may be sealed after it.
    let day_after = CivilDate::from_days_since_epoch(to.days_since_epoch() + 1).map_err(|e| e.to_string())?;
    let digest_list = edge.digest_list(&from.to_string(), &day_after.to_string())?;
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs() as i64;
    let mut trail = Trail {
        merchant_id: digest_list.merchant_id.clone(),
        mode: mode_name(digest_list.livemode).to_owned(),
        keys,
        now_s,
        max_lag_s: options.max_lag_s,
        range_end_s: (day_after.days_since_epoch() + 1) * 86_400,
        ..Trail::default()
    };
    for listed in &digest_list.digests {
        trail.digests.push((listed.key.clone(), edge.object(&listed.key)?));
    }
    // The digest the first one links to, from before the range: its hash is checked too.
    let first_link = trail
        .digests
        .first()
        .and_then(|(_, bytes)| paylater_shared::audit::SignedDigest::from_bytes(bytes.as_ref()?).ok())
        .and_then(|digest| digest.body.previous);
    if let Some(link) = first_link {
        let bytes = edge.object(&link.key)?;
        trail.before_first = Some((link.key, bytes));
    }
    for key in listed_objects(&trail.digests) {
        let bytes = edge.object(&key)?;
        trail.objects.insert(key, bytes);
    }
    let object_list = edge.object_list(&options.from, &options.to)?;
    trail.listed = object_list.objects.into_iter().map(|o| (o.key, o.uploaded)).collect();
    let report = verify(&trail);
    for finding in &report.findings {
        println!("{finding}");
    }
    // The newest digest: kept by the auditor, it shows next time whether the chain was cut back.
    if let Some((key, Some(bytes))) = trail.digests.last() {
        println!("head: {key} sha256 {}", paylater_shared::audit::sha256_hex(bytes));
    }
    println!(
        "{} {} {}: checked {} digests and {} objects; {} stored after the last digest (not yet sealed); {} findings",
        trail.merchant_id,
        trail.mode,
        if report.findings.is_empty() {
            "VERIFIED"
        } else {
            "FAILED"
        },
        report.digests_checked,
        report.objects_checked,
        report.objects_pending,
        report.findings.len()
    );
    Ok(if report.findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn run_export(options: &Options) -> Result<ExitCode, String> {
    let secret = options
        .archive_keys
        .as_deref()
        .ok_or("export needs --archive-keys (or PAYLATER_ARCHIVE_KEYS)")?;
    let keyring = ArchiveKeyring::parse(secret).map_err(|e| e.to_string())?;
    let edge = Edge::new(&options.edge, &options.key);
    let list = edge.object_list(&options.from, &options.to)?;
    let scope = Scope::Merchant {
        merchant_id: &list.merchant_id,
        livemode: list.livemode,
    };
    let mut failed = 0;
    for object in &list.objects {
        let Some(bytes) = edge.object(&object.key)? else {
            continue;
        };
        match keyring.open(scope, &object.key, &bytes) {
            Ok(plain) => print!("{}", String::from_utf8_lossy(&plain)),
            Err(e) => {
                eprintln!("{}: {e}", object.key);
                failed += 1;
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn mode_name(livemode: bool) -> &'static str {
    if livemode { "live" } else { "test" }
}
