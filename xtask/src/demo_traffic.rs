//! A week of the demo shop's traffic, so the dashboard is full the moment a newcomer opens it:
//! sessions that drop off step by step as real ones do, decisions with their reasons, orders,
//! and one night when a bot hammered the widget. Made as the queue messages the edge itself
//! makes (its own types), parked in the local R2 as dead letters and replayed with the demo
//! merchant's `logs:replay` key, so every record goes through the real consumer: the archive,
//! the ledger, the funnel's counters and anomaly detection, at the times they say. Each day's
//! traffic is the same whenever it is made, so seeding again (the next demo start, even a day
//! later) counts nothing twice.

use std::path::Path;

use paylater_edge::approval_records::QueuedDecision;
use paylater_edge::decision::{ReasonCode, ScoreBand};
use paylater_edge::forward::dead_letter_key;
use paylater_edge::ingest::{QueuedEvent, RequestFacts, RiskFlag, SessionFacts, UaClass};
use paylater_edge::orders::QueuedChange;
use paylater_harness::edge::put_r2_objects;
use paylater_shared::approval::Outcome;
use paylater_shared::order::ChangeKind;
use paylater_shared::telemetry::{Event, EventName};
use paylater_shared::{CivilDate, Currency};
use serde_json::{Map, Value, json};

const MERCHANT: &str = "m_nordic_outdoor";
const KEY: &str = "pk_test_demo";
/// The demo merchant's `logs:replay` key (docs/merchant-server.md lists the demo keys).
pub const REPLAY_KEY: &str = "sk_test_demo.local-dev-only-4bXq9TzR7wLmN2pVc8sKd3Fh";
const DAY_MS: i64 = 86_400_000;
/// `days_since_epoch % 7` of the days a bot comes (1970-01-01 was a Thursday: Sundays and
/// Wednesdays): any seven days hold both, so a week seeded before 14:10 UTC still has one.
const BOT_WEEKDAYS: [i64; 2] = [3, 6];
/// Days seeded, the last of them today (up to an hour ago).
pub const DAYS: i64 = 7;
const PLANS: [(&str, f64); 5] = [
    ("pay_in_4", 0.55),
    ("pay_in_30", 0.2),
    ("financing_6", 0.1),
    ("financing_12", 0.1),
    ("financing_24", 0.05),
];

/// xorshift64*: the same seed, the same week.
struct Random(u64);

impl Random {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.next() < p
    }

    fn below(&mut self, n: u64) -> u64 {
        (self.next() * n as f64) as u64 % n.max(1)
    }

    /// A UUIDv7-shaped id whose time part is `at_ms`.
    fn uuid(&mut self, at_ms: i64) -> String {
        let hex = format!("{:012x}", at_ms.max(0) as u64 & 0xffff_ffff_ffff);
        format!(
            "{}-{}-7{:03x}-{:04x}-{:012x}",
            &hex[..8],
            &hex[8..],
            self.below(0x1000),
            0x8000 | self.below(0x4000),
            self.below(1 << 48)
        )
    }
}

/// What the seeding made, for the demo's banner and the dashboard's end-to-end test.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Seeded {
    pub from: String,
    pub to: String,
    pub sessions: u64,
    pub decisions: u64,
    pub declined: u64,
    pub orders: u64,
    pub records: usize,
}

fn session_facts(id: &str, amount: u64, issued_ms: i64) -> SessionFacts {
    SessionFacts {
        session_id: id.to_owned(),
        merchant_id: MERCHANT.to_owned(),
        amount_minor: amount,
        currency: "USD".to_owned(),
        issued_at_s: issued_ms / 1000,
        livemode: false,
        publishable_key: KEY.to_owned(),
    }
}

fn request_facts(at_ms: i64, network: &str, ua_class: UaClass) -> RequestFacts {
    RequestFacts {
        observed_ms: at_ms,
        network: network.to_owned(),
        country: Some("US".to_owned()),
        asn: Some(64_500),
        ua_class,
        ip_velocity: false,
    }
}

fn props(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The week's records as `(queue message id, JSON text)`, oldest first, for sessions that began
/// before `until_ms`.
pub fn week(today: CivilDate, until_ms: i64) -> (Vec<(String, String)>, Seeded) {
    let first_day = today.days_since_epoch() - (DAYS - 1);
    let mut timed: Vec<(i64, String, String)> = Vec::new();
    let mut seeded = Seeded {
        from: CivilDate::from_days_since_epoch(first_day)
            .map(|d| d.to_string())
            .unwrap_or_default(),
        to: today.to_string(),
        ..Seeded::default()
    };
    for day in first_day..=today.days_since_epoch() {
        // One stream per day: a day's traffic does not depend on which week it is part of.
        let mut random = Random(0x5eed_0000_0000 ^ day as u64);
        let midnight = day * DAY_MS;
        // Busier at the weekend end of the week; about 60 sessions a day.
        let sessions = 45 + random.below(30);
        for n in 0..sessions {
            // Mostly daytime (UTC 08–22), some at night.
            let hour = if random.chance(0.85) {
                8 + random.below(14)
            } else {
                random.below(8)
            };
            let start = midnight + hour as i64 * 3_600_000 + random.below(3_600_000) as i64;
            // Sessions not begun by `until_ms` are made (the day's stream stays the same) but
            // left out.
            let begun = start <= until_ms;
            let mut push = |at: i64, id: String, text: String| {
                if begun {
                    timed.push((at, id, text));
                }
            };
            seeded.sessions += u64::from(begun);
            let session_id = format!("ses_seed_{day}_{n}");
            let amount = [4_999, 12_999, 24_900, 89_900][random.below(4) as usize];
            let network = format!("198.51.{}.0", random.below(250));
            let session = session_facts(&session_id, amount, start);
            let plan = {
                let mut pick = random.next();
                PLANS
                    .iter()
                    .find(|(_, share)| {
                        pick -= share;
                        pick < 0.0
                    })
                    .map_or("pay_in_4", |(id, _)| id)
            };
            let mut at = start;
            let mut seq = 0;
            let mut event = |random: &mut Random, at: i64, name: EventName, extra: Value| {
                seq += 1;
                let queued = QueuedEvent {
                    event: Event {
                        id: random.uuid(at),
                        name,
                        ts: at,
                        seq,
                        props: props(extra),
                    },
                    session: session.clone(),
                    request: request_facts(at + 300, &network, UaClass::Desktop),
                    seq_gap: 0,
                    risk_flags: Vec::new(),
                };
                let text = serde_json::to_string(&queued).unwrap_or_default();
                (at + 300, format!("seed-{}", queued.event.id), text)
            };
            let steps: [(EventName, f64, Value); 6] = [
                (
                    EventName::WidgetLoaded,
                    1.0,
                    json!({ "load_ms": 180 + random.below(400), "locale": "en-US", "amount_minor": amount, "currency": "USD" }),
                ),
                (EventName::WidgetViewed, 0.8, json!({ "visible_ms": 1000 })),
                (EventName::TermsOpened, 0.55, json!({})),
                (
                    EventName::PlanSelected,
                    0.7,
                    json!({ "plan_id": plan, "amount_minor": amount, "currency": "USD" }),
                ),
                (EventName::ApprovalStarted, 0.75, json!({ "plan_id": plan })),
                (EventName::ApprovalSubmitted, 0.95, json!({ "plan_id": plan })),
            ];
            let mut reached_all = true;
            for (name, keep, extra) in steps {
                if !random.chance(keep) {
                    reached_all = false;
                    break;
                }
                at += 2_000 + random.below(40_000) as i64;
                let (t, id, text) = event(&mut random, at, name, extra);
                push(t, id, text);
            }
            if !reached_all {
                continue;
            }
            // The decision: most approved; under-age, over-limit and disposable e-mails declined;
            // a few to review.
            at += 1_500;
            seeded.decisions += u64::from(begun);
            let roll = random.next();
            let (outcome, reasons, band) = if roll < 0.76 {
                (Outcome::Approved, vec![], ScoreBand::A)
            } else if roll < 0.86 {
                (Outcome::Declined, vec![ReasonCode::CreditLimit], ScoreBand::C)
            } else if roll < 0.91 {
                (Outcome::Declined, vec![ReasonCode::UnderAge], ScoreBand::D)
            } else if roll < 0.95 {
                (Outcome::Declined, vec![ReasonCode::DisposableEmail], ScoreBand::D)
            } else {
                (Outcome::Review, vec![ReasonCode::NeedsReview], ScoreBand::B)
            };
            if outcome == Outcome::Declined {
                seeded.declined += u64::from(begun);
            }
            let approval_id = random.uuid(at);
            let decision = QueuedDecision {
                approval_id: approval_id.clone(),
                session: session.clone(),
                request: request_facts(at, &network, UaClass::Desktop),
                customer_id_hash: format!("{:016x}{:016x}", random.below(u64::MAX), day as u64 ^ n),
                plan_id: plan.to_owned(),
                outcome,
                reasons,
                score_band: band,
                upstream: None,
                form_fill_ms: Some(20_000 + random.below(60_000) as i64),
            };
            push(
                at,
                format!("seed-{approval_id}"),
                serde_json::to_string(&decision).unwrap_or_default(),
            );
            if outcome != Outcome::Approved || !random.chance(0.8) {
                continue;
            }
            at += 60_000 + random.below(600_000) as i64;
            seeded.orders += u64::from(begun);
            let order_id = format!("ord_test_{}", approval_id.replace('-', ""));
            let change = QueuedChange {
                change_id: format!("{order_id}:order_created:0"),
                kind: ChangeKind::OrderCreated,
                merchant_id: MERCHANT.to_owned(),
                livemode: false,
                session_id: session_id.clone(),
                approval_id: approval_id.clone(),
                order_id: order_id.clone(),
                merchant_reference: format!("SEED-{day}-{n}"),
                amount,
                currency: Currency::parse("USD").unwrap_or_else(|_| unreachable!("USD is a currency")),
                order_amount: amount,
                plan_id: plan.to_owned(),
                at_ms: at,
            };
            push(
                at,
                format!("seed-{order_id}"),
                serde_json::to_string(&change).unwrap_or_default(),
            );
        }
        // Twice a week (the same weekdays, so a day's traffic never depends on the week), at
        // 13:10 UTC: a bot loads the widget and opens the terms 40 times in four minutes
        // (headless, one network).
        if BOT_WEEKDAYS.contains(&day.rem_euclid(7)) && day * DAY_MS + 14 * 3_600_000 <= until_ms {
            let mut push = |at: i64, id: String, text: String| timed.push((at, id, text));
            let burst = midnight + 13 * 3_600_000 + 10 * 60_000;
            for n in 0..40 {
                let at = burst + n * 6_000;
                let session = session_facts(&format!("ses_seed_bot_{day}_{n}"), 12_999, at);
                for (offset, name) in [(0, EventName::WidgetLoaded), (800, EventName::TermsOpened)] {
                    let queued = QueuedEvent {
                        event: Event {
                            id: random.uuid(at + offset),
                            name,
                            ts: at + offset,
                            seq: if offset == 0 { 1 } else { 2 },
                            props: Map::new(),
                        },
                        session: session.clone(),
                        request: request_facts(at + offset, "203.0.113.0", UaClass::Automation),
                        seq_gap: 0,
                        risk_flags: vec![RiskFlag::AutomatedAgent, RiskFlag::ImpossibleTiming],
                    };
                    push(
                        at + offset,
                        format!("seed-{}", queued.event.id),
                        serde_json::to_string(&queued).unwrap_or_default(),
                    );
                }
            }
            seeded.sessions += 40;
        }
    }
    timed.sort_by_key(|(at, _, _)| *at);
    seeded.records = timed.len();
    (timed.into_iter().map(|(_, id, text)| (id, text)).collect(), seeded)
}

/// Seeds the edge at `edge_url` (running, its state in `state_dir`) with the week up to an hour
/// ago: parks the records in its R2 as the consumer parks dead letters, then replays them in
/// order. The consumer takes a minute or so to count them all.
pub fn seed(edge_url: &str, state_dir: &Path, work_dir: &Path) -> Result<Seeded, String> {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_millis() as i64;
    let today = CivilDate::from_unix_millis_utc(now_ms).map_err(|e| e.to_string())?;
    let (records, seeded) = week(today, now_ms - 3_600_000);
    let folder = work_dir.join("seed");
    std::fs::create_dir_all(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    let mut entries = Vec::new();
    let keyring = paylater_harness::letters::dev_keyring();
    // Keys sort by time (a zero-padded position first), so the replay sends them in order.
    // Sealed as the edge seals its letters: it replays no letter that does not open.
    for (position, (id, text)) in records.iter().enumerate() {
        let file = folder.join(format!("{position:06}.letter"));
        let key = dead_letter_key(&format!("{position:06}-{id}"), text);
        let sealed = paylater_harness::letters::seal_with(&keyring, &key, text);
        std::fs::write(&file, sealed).map_err(|e| format!("{}: {e}", file.display()))?;
        entries.push((key, file));
    }
    put_r2_objects(state_dir, work_dir, "paylater-archive", &entries).map_err(|e| e.to_string())?;
    paylater_harness::admin::replay_dead_letters(edge_url, REPLAY_KEY).map_err(|e| e.to_string())?;
    Ok(seeded)
}

/// Waits (at most `limit`) until the edge's funnel for the seeded days counts every seeded
/// session: the consumer has then also reported them all to anomaly detection, so live traffic
/// that follows cannot close the seeded windows before their records arrive.
pub fn wait_until_counted(edge_url: &str, seeded: &Seeded, limit: std::time::Duration) -> Result<(), String> {
    let url = format!(
        "{}/v1/insights/funnel?from={}&to={}",
        edge_url.trim_end_matches('/'),
        seeded.from,
        seeded.to
    );
    let authorization = format!("Bearer {REPLAY_KEY}");
    let deadline = std::time::Instant::now() + limit;
    let mut counted = 0;
    while std::time::Instant::now() < deadline {
        if let Ok(reply) = paylater_harness::http::request("GET", &url, &[("Authorization", &authorization)], None) {
            counted = reply.json()["steps"][0]["sessions"].as_u64().unwrap_or(0);
            if counted >= seeded.sessions {
                return Ok(());
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    Err(format!(
        "the seeded week was not counted within {limit:?}: {counted} of {} sessions",
        seeded.sessions
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use paylater_edge::records::QueuedRecord;

    #[test]
    fn the_week_is_deterministic_readable_by_the_consumer_and_in_order() {
        let today = CivilDate::parse("2026-11-30").unwrap();
        let until = today.days_since_epoch() * DAY_MS + 20 * 3_600_000;
        let (records, seeded) = week(today, until);
        let (again, _) = week(today, until);
        assert_eq!(records, again, "same day, same week");
        // A day later the days both weeks hold are the same records: a second seeding adds none.
        let (next, _) = week(today.add_days(1).unwrap(), until + DAY_MS);
        let shared_days = (today.days_since_epoch() - 5) * DAY_MS..today.days_since_epoch() * DAY_MS;
        let within = |list: &[(String, String)]| -> Vec<String> {
            list.iter()
                .filter(|(_, t)| shared_days.contains(&QueuedRecord::from_json(t).unwrap().observed_ms()))
                .map(|(id, _)| id.clone())
                .collect()
        };
        let (ours, theirs) = (within(&records), within(&next));
        assert!(ours.len() > 100, "{}", ours.len());
        assert!(ours == theirs, "{} records against {}", ours.len(), theirs.len());
        assert_eq!(seeded.records, records.len());
        assert_eq!((seeded.from.as_str(), seeded.to.as_str()), ("2026-11-24", "2026-11-30"));
        assert!(
            seeded.sessions > 7 * 40 && seeded.decisions > 20 && seeded.orders > 10,
            "{seeded:?}"
        );
        let mut last = i64::MIN;
        let mut sessions = std::collections::BTreeSet::new();
        for (_, text) in &records {
            let record = QueuedRecord::from_json(text).unwrap_or_else(|e| panic!("{e}: {text}"));
            if let QueuedRecord::Event(event) = &record {
                sessions.insert(event.session.session_id.clone());
            }
            assert_eq!(record.merchant_id(), MERCHANT);
            assert!(record.observed_ms() >= last, "in time order");
            assert!(record.observed_ms() <= until + DAY_MS / 24, "nothing far past the end");
            last = record.observed_ms();
        }
        // Any seven days hold both bot days; here both are before 20:00 on 2026-11-30.
        // What the funnel's first step will count: every seeded session, each once.
        assert_eq!(sessions.len() as u64, seeded.sessions);
        let bot = records.iter().filter(|(_, t)| t.contains("automated_agent")).count();
        assert_eq!(bot, 160, "two days of 40 bot sessions, two events each");
    }
}
