//! The queue consumer's decisions (CONTRACT §4): archive keys and NDJSON files, how a sink
//! answer is classed, and how long a retried message waits. Pure; `consumer` does the I/O.

use crate::log_record::hex;
use crate::queue_message::QueuedMessage;
use crate::records::QueuedRecord;
use paylater_shared::CivilDate;
use sha2::{Digest, Sha256};

/// Where the dead-letter consumer parks messages until they are replayed.
pub const DEAD_LETTER_PREFIX: &str = "dead-letter/events/";
/// Records the sink refused for good, per merchant and mode: replayed by the merchant's key only.
pub const REFUSED_PREFIX: &str = "dead-letter/refused/";
/// Parked letters that do not open (altered or planted): for an operator, never replayed.
pub const QUARANTINE_PREFIX: &str = "dead-letter/quarantine/";
/// Messages no version of the consumer can read: for an operator, never replayed.
pub const UNREADABLE_PREFIX: &str = "dead-letter/unreadable/";
/// Longest wait between two deliveries of a message when `RETRY_MAX_SECONDS` is not set: an hour,
/// so the 41 deliveries `wrangler.office.toml` allows (`max_retries = 40`) span about 30 hours of sink
/// outage.
pub const DEFAULT_RETRY_MAX_SECONDS: u32 = 3_600;
/// The longest `RETRY_MAX_SECONDS` taken: 41 deliveries then span about 60 hours, inside the
/// 4 days Queues keeps a message (a longer wait would let Queues delete messages still waiting).
pub const RETRY_MAX_SECONDS_LIMIT: u32 = 7_200;
/// The longest delay Queues takes for a retry (12 hours).
pub const QUEUES_MAX_DELAY_SECONDS: u32 = 43_200;

/// One archive object to be: where it goes and its plain text (one LogRecord, one NDJSON line),
/// sealed by the consumer before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveObject {
    pub key: String,
    pub plain: String,
}

/// What names a record wherever it is kept once: its own id (a key use's, an anomaly's window
/// and metric), or else the exact text the producer queued (which a redelivery and a replay
/// send again byte for byte).
pub fn archive_id(queued: &QueuedRecord, text: &str) -> String {
    match queued {
        QueuedRecord::KeyUse(used) => format!("key_use:{}", used.key_use_id),
        QueuedRecord::Anomaly(found) => format!(
            "anomaly:{}:{}:{}:{}",
            found.merchant_id,
            mode_name(found.livemode),
            found.anomaly.metric.as_str(),
            found.anomaly.window_start_ms
        ),
        _ => queued
            .record_id()
            .unwrap_or_else(|| format!("text:{}", hex(&Sha256::digest(text.as_bytes())))),
    }
}

/// `logs/v1/{merchant_id}/{yyyy}/{mm}/{dd}/{mode}-{name}.ndjson.enc`, dated by when the edge
/// observed the record and named by a hash of its [`archive_id`]: the same record always has the
/// same key (so it is stored once, however often it comes), and no key shows an event id.
pub fn archive_key(merchant_id: &str, livemode: bool, observed: CivilDate, archive_id: &str) -> String {
    let name = hex(&Sha256::digest(archive_id.as_bytes())[..16]);
    format!(
        "{}{name}.ndjson.enc",
        archive_day_prefix(merchant_id, livemode, observed)
    )
}

/// The archive object of one message (`text`, as queued): its records as NDJSON, one LogRecord
/// a line, filed under the first's merchant, mode and day (a batch is one request's events,
/// which share them) and named by its records' ids, so a message redelivered or replayed has
/// the one key.
pub fn archive_object(message: &QueuedMessage, text: &str) -> Result<ArchiveObject, serde_json::Error> {
    let first = message.first();
    let id = match message.records() {
        [record] => archive_id(record, text),
        records => {
            let ids: Vec<String> = records.iter().map(|record| archive_id(record, text)).collect();
            format!("batch:{}", ids.join(","))
        }
    };
    let key = archive_key(first.merchant_id(), first.livemode(), utc_day(first.observed_ms()), &id);
    let mut plain = String::new();
    for record in message.records() {
        plain.push_str(&serde_json::to_string(&record.log_record())?);
        plain.push('\n');
    }
    Ok(ArchiveObject { key, plain })
}

/// What every archive key of a merchant's mode and day starts with.
pub fn archive_day_prefix(merchant_id: &str, livemode: bool, day: CivilDate) -> String {
    format!(
        "logs/v1/{merchant_id}/{:04}/{:02}/{:02}/{}-",
        day.year(),
        day.month(),
        day.day(),
        mode_name(livemode),
    )
}

/// `live` or `test`, as archive keys and the `paylater.mode` attribute spell a mode.
pub fn mode_name(livemode: bool) -> &'static str {
    if livemode { "live" } else { "test" }
}

/// The UTC date of an edge-clock time. A bad time files under the epoch, never fails.
pub fn utc_day(ms: i64) -> CivilDate {
    CivilDate::from_unix_millis_utc(ms)
        .or_else(|_| CivilDate::new(1970, 1, 1))
        .unwrap_or_else(|_| unreachable!("1970-01-01 is a date"))
}

/// What the log sink's answer means for the messages it was about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkOutcome {
    Delivered,
    /// Try again later: 408, 429, 5xx but 501, or no answer at all.
    Retryable(String),
    /// The sink will never take this as it is: dead-letter it.
    Rejected(u16),
}

pub fn classify_sink_status(status: u16) -> SinkOutcome {
    match status {
        200..=299 => SinkOutcome::Delivered,
        408 | 429 | 500 | 502..=599 => SinkOutcome::Retryable(format!("sink answered {status}")),
        other => SinkOutcome::Rejected(other),
    }
}

/// Exponential backoff without an attempt counter: a message waits about as long again as it
/// has already waited since it was first sent (so waits double), at least the schedule's base,
/// plus up to the base (at most 255 s) of jitter from its id so retried messages spread out.
pub fn retry_delay_seconds(age_seconds: u32, schedule: RetrySchedule, message_id: &str) -> u32 {
    // A base above the longest wait once panicked here (`clamp` with min > max).
    let longest = schedule.max_seconds.clamp(1, QUEUES_MAX_DELAY_SECONDS);
    let base = schedule.base_seconds.clamp(1, longest);
    let jitter = Sha256::digest(message_id.as_bytes())[0] as u32 % base;
    (age_seconds.clamp(base, longest) + jitter).min(QUEUES_MAX_DELAY_SECONDS)
}

/// How the consumer spaces the deliveries of a message the sink did not take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySchedule {
    /// The first wait (`RETRY_BASE_SECONDS`).
    pub base_seconds: u32,
    /// The longest wait (`RETRY_MAX_SECONDS`).
    pub max_seconds: u32,
}

impl RetrySchedule {
    /// The schedule from the two vars: unset means the defaults; a longest wait must be a whole
    /// number of seconds from 1 to [`RETRY_MAX_SECONDS_LIMIT`], a first wait from 1 to the
    /// longest. A value
    /// out of range is a configuration error, named, and the default stands in for it (a message
    /// is never lost to a typo).
    pub fn from_vars(base: Option<&str>, max: Option<&str>, default_base: u32) -> (Self, Vec<String>) {
        let mut problems = Vec::new();
        let mut read = |name: &str, setting: Option<&str>, limit: u32, default: u32| match setting {
            None => default,
            Some(text) => match text.trim().parse::<u32>() {
                Ok(seconds) if (1..=limit).contains(&seconds) => seconds,
                _ => {
                    problems.push(format!(
                        "{name} must be a whole number of seconds from 1 to {limit}, not {text:?}; using {default}"
                    ));
                    default
                }
            },
        };
        let max_seconds = read(
            "RETRY_MAX_SECONDS",
            max,
            RETRY_MAX_SECONDS_LIMIT,
            DEFAULT_RETRY_MAX_SECONDS,
        );
        let base_seconds = read("RETRY_BASE_SECONDS", base, max_seconds, default_base.min(max_seconds));
        (
            Self {
                base_seconds,
                max_seconds,
            },
            problems,
        )
    }
}

/// Keeps `A-Z a-z 0-9 - _` of a name that becomes part of an R2 key.
fn key_safe(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// Where a merchant's parked dead letters of one mode are (what the cron probe replays, and its
/// `logs:replay` key too).
pub fn dead_letter_prefix(merchant_id: &str, livemode: bool) -> String {
    format!("{DEAD_LETTER_PREFIX}{}/{}/", key_safe(merchant_id), mode_name(livemode))
}

/// Where a merchant's records the sink refused for good are, of one mode: its `logs:replay` key
/// replays them once the sink's side is fixed; the probe never does (it would loop: refused,
/// parked, replayed, refused). A prefix of their own, so the probe never even lists them.
pub fn refused_prefix(merchant_id: &str, livemode: bool) -> String {
    format!("{REFUSED_PREFIX}{}/{}/", key_safe(merchant_id), mode_name(livemode))
}

/// The R2 key of a dead letter whose retries ran out: under its merchant and mode when its text
/// is a record this consumer reads, else under [`UNREADABLE_PREFIX`].
pub fn dead_letter_key(message_id: &str, text: &str) -> String {
    parked_key(message_id, text, dead_letter_prefix)
}

/// The R2 key of a record the sink refused for good ([`refused_prefix`]).
pub fn refused_letter_key(message_id: &str, text: &str) -> String {
    parked_key(message_id, text, refused_prefix)
}

/// `message_id` in the `folder` of the merchant and mode its text names, or with the
/// unreadable ones.
fn parked_key(message_id: &str, text: &str, folder: fn(&str, bool) -> String) -> String {
    let id = key_safe(message_id);
    match QueuedMessage::from_json(text) {
        Ok(message) => format!(
            "{}{id}",
            folder(message.first().merchant_id(), message.first().livemode())
        ),
        Err(_) => format!("{UNREADABLE_PREFIX}{id}"),
    }
}

/// Messages and bytes one `sendBatch` takes at most (Queues' limits are 100 and 256 KB).
pub const SEND_BATCH_MESSAGES: usize = 100;
pub const SEND_BATCH_BYTES: usize = 200_000;

/// Splits messages of these sizes, in order, into runs one `sendBatch` takes: at most
/// [`SEND_BATCH_MESSAGES`] and [`SEND_BATCH_BYTES`] each, a message larger than that alone.
pub fn send_batches(sizes: &[usize]) -> Vec<std::ops::Range<usize>> {
    let mut runs = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, size) in sizes.iter().enumerate() {
        let full = i - start == SEND_BATCH_MESSAGES || (i > start && bytes + size > SEND_BATCH_BYTES);
        if full {
            runs.push(start..i);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < sizes.len() {
        runs.push(start..sizes.len());
    }
    runs
}

/// A record's console line for Workers Logs: `{"kind":"log_record","record":{…}}`, written
/// straight to text (`json!` would first build the record's tree of values, once per record).
/// The record's fields come in its own order, where `json!` sorted them: the same JSON value.
pub fn console_line(record: &crate::log_record::LogRecord) -> Result<String, serde_json::Error> {
    Ok(format!(
        "{{\"kind\":\"log_record\",\"record\":{}}}",
        serde_json::to_string(record)?
    ))
}

/// Whether the consumer prints each record as a console line, from the `CONSOLE_RECORDS` var.
/// Only an explicit `off` stops it: a typo keeps the copy rather than silently losing it.
pub fn console_records_enabled(setting: Option<&str>) -> bool {
    setting.is_none_or(|value| !value.trim().eq_ignore_ascii_case("off"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::fixtures::queued_event;

    fn queued(merchant: &str, observed_ms: i64, seq: u32) -> QueuedRecord {
        queued_in_mode(merchant, false, observed_ms, seq)
    }

    fn queued_in_mode(merchant: &str, livemode: bool, observed_ms: i64, seq: u32) -> QueuedRecord {
        QueuedRecord::Event(Box::new(queued_event(merchant, livemode, observed_ms, seq)))
    }

    #[test]
    fn a_console_line_is_the_record_under_its_kind() {
        let record = queued("m_a", 1_795_392_000_000, 1).log_record();
        let line = console_line(&record).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({ "kind": "log_record", "record": serde_json::to_value(&record).unwrap() })
        );
        assert!(line.starts_with(r#"{"kind":"log_record","record":{"#), "{line}");
    }

    #[test]
    fn records_are_filed_per_merchant_mode_and_day_once_by_id() {
        let nov_23 = 1_795_392_000_000; // 2026-11-23T00:00:00Z
        let a = queued("m_a", nov_23 + 5, 1);
        let b = queued("m_a", nov_23 - 5, 2);
        let live = queued_in_mode("m_a", true, nov_23 + 7, 5);
        let in_text = |q: &QueuedRecord, text: &str| archive_object(&QueuedMessage::one(q.clone()), text).unwrap();
        let object = |q: &QueuedRecord| in_text(q, "ignored: these records have ids");
        let QueuedRecord::Event(first) = &a else { unreachable!() };
        let id = format!("event:m_a:ses_1:{}", first.event.id);
        assert_eq!(
            object(&a).key,
            format!(
                "logs/v1/m_a/2026/11/23/test-{}.ndjson.enc",
                hex(&Sha256::digest(id.as_bytes())[..16])
            )
        );
        assert!(object(&b).key.starts_with("logs/v1/m_a/2026/11/22/test-"));
        assert!(object(&live).key.starts_with("logs/v1/m_a/2026/11/23/live-"));
        assert!(!object(&a).key.contains(&first.event.id), "no event id in a key");
        // The same record, whatever text it came in, has one key; another record another.
        assert_eq!(object(&a).key, in_text(&a, "other text").key);
        assert_ne!(object(&a).key, object(&queued("m_a", nov_23 + 5, 9)).key);
        let line: serde_json::Value = serde_json::from_str(object(&a).plain.trim_end()).unwrap();
        assert_eq!(line["attributes"][0]["value"]["stringValue"], first.event.id);
        assert!(object(&a).plain.ends_with('\n'));
        assert!(object(&live).plain.contains(r#""stringValue":"live""#));
    }

    #[test]
    fn a_batch_is_one_object_of_its_records_named_by_their_ids() {
        let nov_23 = 1_795_392_000_000;
        let records: Vec<QueuedRecord> = (1..=3).map(|seq| queued("m_a", nov_23 + 5, seq)).collect();
        let texts: Vec<String> = records
            .iter()
            .map(|r| match r {
                QueuedRecord::Event(e) => serde_json::to_string(e).unwrap(),
                _ => unreachable!(),
            })
            .collect();
        let batch = format!("[{}]", texts.join(","));
        let object = archive_object(&QueuedMessage::from_json(&batch).unwrap(), &batch).unwrap();
        let ids: Vec<String> = records.iter().map(|r| r.record_id().unwrap()).collect();
        let name = hex(&Sha256::digest(format!("batch:{}", ids.join(",")).as_bytes())[..16]);
        assert_eq!(object.key, format!("logs/v1/m_a/2026/11/23/test-{name}.ndjson.enc"));
        let lines: Vec<serde_json::Value> = object
            .plain
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert!(object.plain.ends_with('\n'));
        for (line, record) in lines.iter().zip(&records) {
            let QueuedRecord::Event(event) = record else {
                unreachable!()
            };
            assert_eq!(line["attributes"][0]["value"]["stringValue"], event.event.id);
        }
        // The same records laid out otherwise: the same object; fewer of them: another.
        let key_of = |text: &str| {
            archive_object(&QueuedMessage::from_json(text).unwrap(), text)
                .unwrap()
                .key
        };
        assert_eq!(key_of(&format!("[ {} ]", texts.join(" , "))), object.key);
        assert_ne!(key_of(&format!("[{}]", texts[..2].join(","))), object.key);
        // A batch of one is filed as that record alone would be.
        assert_eq!(key_of(&format!("[{}]", texts[0])), key_of(&texts[0]));
        // Parked letters of a batch file under its merchant and mode too.
        assert!(dead_letter_key("m1", &format!("[{}]", texts.join(","))).starts_with("dead-letter/events/m_a/test/"));
    }

    #[test]
    fn key_uses_are_named_by_their_own_id() {
        let used = QueuedRecord::KeyUse(Box::new(crate::secret_keys::QueuedKeyUse {
            key_use_id: "u1".into(),
            merchant_id: "m_a".into(),
            livemode: false,
            key_id: "key_1".into(),
            scope: "orders:read".into(),
            route: "/v1/orders/x".into(),
            at_ms: 1_795_392_000_000,
        }));
        assert_eq!(archive_id(&used, "abc"), "key_use:u1");
        assert_eq!(
            archive_id(&used, "abc"),
            archive_id(&used, "another text of the same use")
        );
    }

    #[test]
    fn sink_statuses_are_classed() {
        let cases = [
            (200, "delivered"),
            (204, "delivered"),
            (408, "retry"),
            (429, "retry"),
            (500, "retry"),
            (502, "retry"),
            (503, "retry"),
            (504, "retry"),
            (400, "reject"),
            (401, "reject"),
            (413, "reject"),
            (501, "reject"),
        ];
        for (status, class) in cases {
            let got = match classify_sink_status(status) {
                SinkOutcome::Delivered => "delivered",
                SinkOutcome::Retryable(_) => "retry",
                SinkOutcome::Rejected(_) => "reject",
            };
            assert_eq!(got, class, "{status}");
        }
    }

    #[test]
    fn retries_back_off_and_spread() {
        let schedule = |base, max| RetrySchedule {
            base_seconds: base,
            max_seconds: max,
        };
        let delays: Vec<u32> = [0, 2, 5, 11, 23, 47, 5_000]
            .iter()
            .map(|age| retry_delay_seconds(*age, schedule(2, 900), "msg-1"))
            .collect();
        let jitter = delays[0] - 2;
        assert!(jitter < 2);
        assert_eq!(delays, [2, 2, 5, 11, 23, 47, 900].map(|d| d + jitter));
        // The default schedule reaches an hour; Queues' 12 hours bound everything.
        assert!(retry_delay_seconds(50_000, schedule(5, DEFAULT_RETRY_MAX_SECONDS), "m") < 3_600 + 5);
        assert!(retry_delay_seconds(u32::MAX, schedule(u32::MAX, u32::MAX), "m") <= QUEUES_MAX_DELAY_SECONDS);
        // A base beyond the longest wait is held to it, never a panic (it once was one).
        assert!(retry_delay_seconds(0, schedule(5_000, 900), "msg-1") < 2 * 900);
        let (read, problems) = RetrySchedule::from_vars(None, None, 5);
        assert_eq!((read, problems.len()), (schedule(5, DEFAULT_RETRY_MAX_SECONDS), 0));
        let (read, problems) = RetrySchedule::from_vars(Some(" 1 "), Some("4"), 5);
        assert_eq!((read, problems.len()), (schedule(1, 4), 0));
        for (base, max) in [
            ("0", "60"),
            ("901", "900"),
            ("-3", "60"),
            ("1.5", "60"),
            ("5", "7201"),
            ("5", "soon"),
        ] {
            let (read, problems) = RetrySchedule::from_vars(Some(base), Some(max), 5);
            assert_eq!(problems.len(), 1, "{base} {max}: {problems:?}");
            assert!(
                problems[0].contains("whole number of seconds from 1 to"),
                "{problems:?}"
            );
            assert!(read.base_seconds >= 1 && read.base_seconds <= read.max_seconds);
        }
        let spread: std::collections::HashSet<u32> = (0..50)
            .map(|i| retry_delay_seconds(0, schedule(10, 900), &format!("msg-{i}")))
            .collect();
        assert!(spread.len() > 3, "{spread:?}");
        assert_eq!(dead_letter_key("ab/../c-1", "not json"), "dead-letter/unreadable/abc-1");
        let used = crate::secret_keys::QueuedKeyUse {
            key_use_id: "u1".into(),
            merchant_id: "m_demo/../x".into(),
            livemode: true,
            key_id: "key_1".into(),
            scope: "orders:read".into(),
            route: "order".into(),
            at_ms: 0,
        };
        assert_eq!(
            dead_letter_key("m-1", &serde_json::to_string(&used).unwrap()),
            "dead-letter/events/m_demox/live/m-1"
        );
        assert_eq!(dead_letter_prefix("m_demo", false), "dead-letter/events/m_demo/test/");
        let refused = refused_letter_key("m-1", &serde_json::to_string(&used).unwrap());
        assert_eq!(refused, "dead-letter/refused/m_demox/live/m-1");
        assert!(refused.starts_with(&refused_prefix("m_demox", true)));
        assert!(!refused.starts_with(DEAD_LETTER_PREFIX), "the probe never lists it");
        assert!(!dead_letter_key("x", "not json").starts_with(DEAD_LETTER_PREFIX));
    }

    #[test]
    fn letters_go_back_in_batches_queues_takes() {
        assert_eq!(send_batches(&[]), Vec::<std::ops::Range<usize>>::new());
        assert_eq!(send_batches(&[10; 250]), [0..100, 100..200, 200..250]);
        assert_eq!(send_batches(&[90_000, 90_000, 90_000, 10]), [0..2, 2..4]);
        // One larger than a batch goes alone (the queue says whether it takes it).
        assert_eq!(send_batches(&[10, 300_000, 10]), [0..1, 1..2, 2..3]);
        let sizes: Vec<usize> = (0..1_000).map(|i| (i * 7_919) % 5_000).collect();
        let runs = send_batches(&sizes);
        assert_eq!(runs.iter().map(|r| r.len()).sum::<usize>(), 1_000);
        for run in runs {
            assert!(run.len() <= SEND_BATCH_MESSAGES);
            assert!(run.len() == 1 || sizes[run].iter().sum::<usize>() <= SEND_BATCH_BYTES);
        }
    }

    #[test]
    fn console_records_stop_only_when_set_off() {
        for (setting, enabled) in [
            (None, true),
            (Some("on"), true),
            (Some(""), true),
            (Some("of"), true),
            (Some("off"), false),
            (Some(" OFF "), false),
        ] {
            assert_eq!(console_records_enabled(setting), enabled, "{setting:?}");
        }
    }
}
