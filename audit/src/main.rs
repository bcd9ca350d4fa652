//! `paylater-audit`: checks a merchant's audit trail through the edge's API, as any auditor
//! can, with nothing but a `logs:read` key (docs/audit.md).
//!
//! ```text
//! paylater-audit verify --edge URL --key sk_… --from YYYY-MM-DD --to YYYY-MM-DD
//! paylater-audit export --edge URL --key sk_… --from … --to … --archive-keys kid:base64url,…
//! ```
//! `verify` exits 0 when everything checks, 1 naming every finding, 2 when it could not check.
//! `export` verifies nothing: it opens each object with the archive keyring and prints NDJSON.

mod check;
mod fetch;

use std::collections::BTreeMap;
use std::process::ExitCode;

use paylater_shared::archive::{ArchiveKeyring, Scope};

use crate::check::{Trail, listed_objects, verify};
use crate::fetch::Edge;

const USAGE: &str = "usage:
  paylater-audit verify --edge URL --key sk_... --from YYYY-MM-DD --to YYYY-MM-DD
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
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut named: BTreeMap<&str, String> = BTreeMap::new();
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let name = match flag.as_str() {
                "--edge" | "--key" | "--from" | "--to" | "--archive-keys" => flag.trim_start_matches("--"),
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
        })
    }
}

fn run_verify(options: &Options) -> Result<ExitCode, String> {
    let edge = Edge::new(&options.edge, &options.key);
    let keys = edge.keys()?;
    let digest_list = edge.digest_list(&options.from, &options.to)?;
    let mut trail = Trail {
        merchant_id: digest_list.merchant_id.clone(),
        mode: mode_name(digest_list.livemode).to_owned(),
        keys,
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
