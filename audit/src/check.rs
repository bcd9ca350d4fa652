//! What `verify` concludes from what it fetched: each digest's signature, its place and its link
//! to the one before, and every object's presence, size and hash; objects no digest lists. Pure,
//! so every finding is tested without an edge.

use std::collections::{BTreeMap, BTreeSet};

use paylater_shared::audit::{SignedDigest, digest_key, sha256_hex};
use paylater_shared::token::Jwks;

/// How long after R2 stored an object the edge may index it (the same consumer run).
pub const INDEX_MARGIN_SECONDS: i64 = 60;

/// Everything fetched for one merchant and mode.
#[derive(Debug, Default)]
pub struct Trail {
    pub merchant_id: String,
    /// `test` or `live`.
    pub mode: String,
    pub keys: Jwks,
    /// Each listed digest's key and stored bytes (`None`: listed, then not found), in key order.
    pub digests: Vec<(String, Option<Vec<u8>>)>,
    /// The digest just before the first one, if the first links to one (its key and bytes).
    pub before_first: Option<(String, Option<Vec<u8>>)>,
    /// The stored bytes of every object the digests list (`None`: not found).
    pub objects: BTreeMap<String, Option<Vec<u8>>>,
    /// The archive's own listing of the range: key and when it was stored (epoch ms).
    pub listed: Vec<(String, i64)>,
    /// Now, Unix seconds.
    pub now_s: i64,
    /// How far behind now the newest digest may end (a period, the cron's interval and the
    /// settle time): objects stored before `now_s - max_lag_s` must be in a digest, and digests
    /// must reach that far (or the range's end).
    pub max_lag_s: i64,
    /// The end of the range the digests were fetched for, Unix seconds.
    pub range_end_s: i64,
}

/// One thing wrong, naming what it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    DigestMissing {
        key: String,
    },
    DigestUnreadable {
        key: String,
        why: String,
    },
    BadSignature {
        key: String,
        why: String,
    },
    /// Stored at one key, saying it is the digest of another period or merchant.
    DigestOutOfPlace {
        key: String,
        says: String,
    },
    /// Its link does not name the digest before it, or that digest's bytes.
    ChainBroken {
        key: String,
        why: String,
    },
    /// A period between two digests has none.
    ChainGap {
        after: String,
        before: String,
    },
    ObjectMissing {
        key: String,
        digest: String,
    },
    ObjectAltered {
        key: String,
        digest: String,
        why: String,
    },
    /// An object under a digest of another merchant or mode, or listed by two digests.
    ObjectOutOfPlace {
        key: String,
        why: String,
    },
    /// Stored long enough ago to be in a digest, yet in none.
    ObjectExtra {
        key: String,
    },
    /// The newest digest ends before digests must reach: the end of the chain is gone (or the
    /// cron has stopped).
    Truncated {
        last: Option<String>,
        until: Option<i64>,
        expected: i64,
    },
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::DigestMissing { key } => write!(f, "MISSING digest {key}"),
            Self::DigestUnreadable { key, why } => write!(f, "UNREADABLE digest {key}: {why}"),
            Self::BadSignature { key, why } => write!(f, "BAD SIGNATURE digest {key}: {why}"),
            Self::DigestOutOfPlace { key, says } => write!(f, "OUT OF PLACE digest {key}: it says {says}"),
            Self::ChainBroken { key, why } => write!(f, "CHAIN BROKEN at digest {key}: {why}"),
            Self::ChainGap { after, before } => write!(f, "CHAIN GAP between {after} and {before}"),
            Self::ObjectMissing { key, digest } => write!(f, "MISSING object {key} (listed in {digest})"),
            Self::ObjectAltered { key, digest, why } => {
                write!(f, "ALTERED object {key} (listed in {digest}): {why}")
            }
            Self::ObjectOutOfPlace { key, why } => write!(f, "OUT OF PLACE object {key}: {why}"),
            Self::ObjectExtra { key } => write!(f, "EXTRA object {key}: stored long enough ago, yet in no digest"),
            Self::Truncated { last, until, expected } => write!(
                f,
                "TRUNCATED chain: the newest digest ({}) ends at {}, digests must reach {expected}",
                last.as_deref().unwrap_or("none"),
                until.map_or("-".to_owned(), |u| u.to_string())
            ),
        }
    }
}

/// What was checked and found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub digests_checked: usize,
    pub objects_checked: usize,
    /// Listed objects stored too recently to be in a digest yet: not judged.
    pub objects_pending: usize,
    pub findings: Vec<Finding>,
}

/// Checks a trail.
pub fn verify(trail: &Trail) -> Report {
    let mut report = Report::default();
    // The digest the first one links to: missing or unreadable, the chain's start is broken.
    let mut previous: Option<(String, Vec<u8>, SignedDigest)> = None;
    if let Some((key, bytes)) = &trail.before_first {
        match bytes.as_ref().map(|b| (b, SignedDigest::from_bytes(b))) {
            None => report.findings.push(Finding::DigestMissing { key: key.clone() }),
            Some((_, Err(e))) => report.findings.push(Finding::DigestUnreadable {
                key: key.clone(),
                why: e.to_string(),
            }),
            Some((bytes, Ok(digest))) => previous = Some((key.clone(), bytes.clone(), digest)),
        }
    }
    let mut listed_in: BTreeMap<String, String> = BTreeMap::new();
    let mut covered: Vec<(i64, i64)> = Vec::new();
    for (key, bytes) in &trail.digests {
        report.digests_checked += 1;
        let Some(bytes) = bytes else {
            report.findings.push(Finding::DigestMissing { key: key.clone() });
            previous = None;
            continue;
        };
        let digest = match SignedDigest::from_bytes(bytes) {
            Ok(digest) => digest,
            Err(e) => {
                report.findings.push(Finding::DigestUnreadable {
                    key: key.clone(),
                    why: e.to_string(),
                });
                previous = None;
                continue;
            }
        };
        if let Err(e) = digest.verify(&trail.keys) {
            report.findings.push(Finding::BadSignature {
                key: key.clone(),
                why: e.to_string(),
            });
        }
        let body = &digest.body;
        let expected_key = digest_key(&body.merchant_id, &body.mode, body.period_start);
        if body.merchant_id != trail.merchant_id || body.mode != trail.mode || &expected_key != key {
            report.findings.push(Finding::DigestOutOfPlace {
                key: key.clone(),
                says: format!(
                    "{} {} period starting {} ({expected_key})",
                    body.merchant_id, body.mode, body.period_start
                ),
            });
        }
        check_link(&mut report, key, &digest, previous.as_ref());
        covered.push((body.period_start, body.period_end));
        for entry in &body.objects {
            report.objects_checked += 1;
            if !entry.key.starts_with(&format!("logs/v1/{}/", trail.merchant_id))
                || !entry
                    .key
                    .rsplit('/')
                    .next()
                    .is_some_and(|n| n.starts_with(&format!("{}-", trail.mode)))
            {
                report.findings.push(Finding::ObjectOutOfPlace {
                    key: entry.key.clone(),
                    why: format!(
                        "listed in {key}, but not an object of {} {}",
                        trail.merchant_id, trail.mode
                    ),
                });
            }
            if let Some(first) = listed_in.insert(entry.key.clone(), key.clone()) {
                report.findings.push(Finding::ObjectOutOfPlace {
                    key: entry.key.clone(),
                    why: format!("listed in both {first} and {key}"),
                });
            }
            match trail.objects.get(&entry.key).and_then(Option::as_ref) {
                None => report.findings.push(Finding::ObjectMissing {
                    key: entry.key.clone(),
                    digest: key.clone(),
                }),
                Some(stored) => {
                    let (size, sha256) = (stored.len() as u64, sha256_hex(stored));
                    if size != entry.size || sha256 != entry.sha256 {
                        report.findings.push(Finding::ObjectAltered {
                            key: entry.key.clone(),
                            digest: key.clone(),
                            why: format!(
                                "{size} bytes with SHA-256 {sha256}, the digest says {} bytes with {}",
                                entry.size, entry.sha256
                            ),
                        });
                    }
                }
            }
        }
        previous = Some((key.clone(), bytes.clone(), digest));
    }
    let until = covered.iter().map(|(_, end)| *end).max();
    let expected = trail.range_end_s.min(trail.now_s).saturating_sub(trail.max_lag_s);
    let anything = !trail.digests.is_empty() || !trail.listed.is_empty();
    if anything && until.is_none_or(|until| until < expected) {
        report.findings.push(Finding::Truncated {
            last: trail.digests.last().map(|(key, _)| key.clone()),
            until,
            expected,
        });
    }
    let must_be_sealed_before = trail
        .now_s
        .saturating_sub(trail.max_lag_s)
        .saturating_sub(INDEX_MARGIN_SECONDS);
    for (key, uploaded_ms) in &trail.listed {
        if listed_in.contains_key(key.as_str()) {
            continue;
        }
        if uploaded_ms.div_euclid(1000) < must_be_sealed_before {
            report.findings.push(Finding::ObjectExtra { key: key.clone() });
        } else {
            report.objects_pending += 1;
        }
    }
    report
}

fn check_link(
    report: &mut Report,
    key: &str,
    digest: &SignedDigest,
    previous: Option<&(String, Vec<u8>, SignedDigest)>,
) {
    let Some((previous_key, previous_bytes, previous_digest)) = previous else {
        return;
    };
    match &digest.body.previous {
        None => report.findings.push(Finding::ChainBroken {
            key: key.to_owned(),
            why: format!("names no digest before it, yet {previous_key} is"),
        }),
        Some(link) if link.key != *previous_key => {
            // A digest of the range is missing between the two, or the list is out of order.
            if previous_digest.body.period_end < digest.body.period_start {
                report.findings.push(Finding::ChainGap {
                    after: previous_key.clone(),
                    before: key.to_owned(),
                });
            } else {
                report.findings.push(Finding::ChainBroken {
                    key: key.to_owned(),
                    why: format!("links to {}, but the digest before it is {previous_key}", link.key),
                });
            }
        }
        Some(link) if link.sha256 != sha256_hex(previous_bytes) => report.findings.push(Finding::ChainBroken {
            key: key.to_owned(),
            why: format!("{previous_key} is not the digest it was chained to (hash differs)"),
        }),
        Some(_) => {}
    }
}

/// The keys of the objects every readable digest lists (what `verify` must fetch).
pub fn listed_objects(digests: &[(String, Option<Vec<u8>>)]) -> BTreeSet<String> {
    digests
        .iter()
        .filter_map(|(_, bytes)| SignedDigest::from_bytes(bytes.as_ref()?).ok())
        .flat_map(|digest| digest.body.objects.into_iter().map(|entry| entry.key))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use paylater_shared::audit::{DigestBody, DigestEntry, DigestLink, DigestSigner, VERSION};

    const HOUR: i64 = 3_600;
    const START: i64 = 1_796_000_400; // 2026-11-30T00:20:00Z, a period start of 3600 s periods

    fn signer() -> DigestSigner {
        DigestSigner::from_seed("digest-test", &[5; 32])
    }

    fn object_key(n: u32) -> String {
        format!("logs/v1/m_demo/2026/11/30/test-{n:04}.ndjson.enc")
    }

    /// Three periods: two objects, none, one.
    fn trail() -> Trail {
        let contents: [&[u32]; 3] = [&[1, 2], &[], &[3]];
        let mut trail = Trail {
            merchant_id: "m_demo".into(),
            mode: "test".into(),
            keys: Jwks {
                keys: vec![signer().jwk()],
            },
            now_s: START + 3 * HOUR + 30,
            max_lag_s: 600,
            range_end_s: START + 86_400,
            ..Trail::default()
        };
        let mut previous: Option<DigestLink> = None;
        for (i, numbers) in contents.iter().enumerate() {
            let start = START + i as i64 * HOUR;
            let objects = numbers
                .iter()
                .map(|n| {
                    let bytes = format!("sealed bytes of object {n}").into_bytes();
                    let entry = DigestEntry {
                        key: object_key(*n),
                        size: bytes.len() as u64,
                        sha256: sha256_hex(&bytes),
                    };
                    trail.objects.insert(entry.key.clone(), Some(bytes));
                    trail.listed.push((entry.key.clone(), (start + 5) * 1000));
                    entry
                })
                .collect();
            let digest = signer().sign(DigestBody {
                version: VERSION,
                merchant_id: "m_demo".into(),
                mode: "test".into(),
                period_start: start,
                period_end: start + HOUR,
                previous: previous.take(),
                objects,
            });
            let key = digest_key("m_demo", "test", start);
            let bytes = digest.to_bytes();
            previous = Some(DigestLink {
                key: key.clone(),
                sha256: sha256_hex(&bytes),
            });
            trail.digests.push((key, Some(bytes)));
        }
        trail
    }

    #[test]
    fn an_untouched_trail_verifies_with_its_counts() {
        let report = verify(&trail());
        assert_eq!(report.findings, vec![]);
        assert_eq!((report.digests_checked, report.objects_checked), (3, 3));
        assert_eq!(
            digest_key("m_demo", "test", START),
            "audit/v1/m_demo/test/2026/11/30/001796000400.json"
        );
    }

    #[test]
    fn an_altered_object_is_named() {
        let mut trail = trail();
        let bytes = trail.objects.get_mut(&object_key(2)).unwrap().as_mut().unwrap();
        bytes[3] ^= 0x01;
        let report = verify(&trail);
        assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
        assert!(matches!(&report.findings[0], Finding::ObjectAltered { key, .. } if *key == object_key(2)));
    }

    #[test]
    fn a_missing_object_is_named() {
        let mut trail = trail();
        trail.objects.insert(object_key(3), None);
        trail.listed.retain(|(key, _)| *key != object_key(3));
        let report = verify(&trail);
        assert_eq!(
            report.findings,
            vec![Finding::ObjectMissing {
                key: object_key(3),
                digest: trail.digests[2].0.clone()
            }]
        );
    }

    #[test]
    fn swapped_digests_are_named_out_of_place_and_the_chain_breaks() {
        let mut trail = trail();
        let first = trail.digests[0].1.take();
        trail.digests[0].1 = trail.digests[2].1.take();
        trail.digests[2].1 = first;
        let report = verify(&trail);
        let out_of_place: Vec<&str> = report
            .findings
            .iter()
            .filter_map(|f| match f {
                Finding::DigestOutOfPlace { key, .. } => Some(key.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(out_of_place, [trail.digests[0].0.as_str(), trail.digests[2].0.as_str()]);
        assert!(
            report.findings.iter().any(|f| matches!(f, Finding::ChainBroken { .. })),
            "{:?}",
            report.findings
        );
    }

    #[test]
    fn an_extra_object_a_dropped_digest_and_a_forged_entry_are_named() {
        let mut extra = trail();
        extra.listed.push((object_key(9), (START + HOUR + 10) * 1000));
        // Stored after the last sealed period: pending, not judged.
        extra.listed.push((object_key(10), (START + 3 * HOUR + 10) * 1000));
        let report = verify(&extra);
        assert_eq!(report.findings, vec![Finding::ObjectExtra { key: object_key(9) }]);
        assert_eq!(report.objects_pending, 1);

        let mut dropped = trail();
        dropped.digests.remove(1);
        let report = verify(&dropped);
        assert_eq!(
            report.findings,
            vec![Finding::ChainGap {
                after: dropped.digests[0].0.clone(),
                before: dropped.digests[1].0.clone()
            }]
        );

        // A digest rewritten to drop an object no longer carries a valid signature.
        let mut forged = trail();
        let mut digest = SignedDigest::from_bytes(forged.digests[0].1.as_ref().unwrap()).unwrap();
        digest.body.objects.pop();
        forged.digests[0].1 = Some(digest.to_bytes());
        let report = verify(&forged);
        assert!(
            matches!(&report.findings[0], Finding::BadSignature { .. }),
            "{:?}",
            report.findings
        );
        assert!(
            report
                .findings
                .iter()
                .any(|f| *f == Finding::ObjectExtra { key: object_key(2) })
        );
    }

    #[test]
    fn a_chain_cut_short_at_either_end_or_wholly_is_named() {
        // The newest digest deleted with its object: the chain ends too early, and the object
        // stored long ago is in no digest.
        let mut end_cut = trail();
        let (last_key, _) = end_cut.digests.pop().unwrap();
        let report = verify(&end_cut);
        assert!(
            report.findings.contains(&Finding::Truncated {
                last: Some(end_cut.digests[1].0.clone()),
                until: Some(START + 2 * HOUR),
                expected: START + 3 * HOUR + 30 - 600,
            }),
            "{:?}",
            report.findings
        );
        assert!(
            report.findings.contains(&Finding::ObjectExtra { key: object_key(3) }),
            "{last_key}"
        );

        // The first digest of the range deleted: the next one links to a digest that is gone.
        let mut start_cut = trail();
        let (first_key, _) = start_cut.digests.remove(0);
        start_cut.before_first = Some((first_key.clone(), None));
        let report = verify(&start_cut);
        assert!(report.findings.contains(&Finding::DigestMissing { key: first_key }));
        assert!(report.findings.contains(&Finding::ObjectExtra { key: object_key(1) }));

        // Every digest of the range deleted: nothing verifies an object stored long ago.
        let mut wholly = trail();
        wholly.digests.clear();
        let report = verify(&wholly);
        assert!(
            matches!(report.findings[0], Finding::Truncated { until: None, .. }),
            "{:?}",
            report.findings
        );
        assert_eq!(
            report
                .findings
                .iter()
                .filter(|f| matches!(f, Finding::ObjectExtra { .. }))
                .count(),
            3
        );

        // Nothing stored and no digest: nothing to judge.
        let empty = Trail {
            now_s: START,
            max_lag_s: 600,
            range_end_s: START + 86_400,
            ..Trail::default()
        };
        assert_eq!(verify(&empty).findings, vec![]);
    }

    #[test]
    fn hostile_times_do_not_overflow() {
        let mut trail = trail();
        trail.now_s = i64::MIN;
        trail.max_lag_s = i64::MAX;
        trail.listed.push((object_key(7), i64::MIN));
        let report = verify(&trail);
        assert_eq!(
            report.objects_pending, 1,
            "judged against a clock that far back: pending"
        );
    }
}
