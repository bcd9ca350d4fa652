//! How records ride the events queue. A message is one record's JSON, or a JSON array of the
//! events one request admitted (one session, one request), so the consumer archives them as one
//! object: a put per request, not per event. Messages are the unit everywhere after: redelivered,
//! parked and replayed byte for byte, so each is archived once, under one key (`docs/audit.md`
//! says when an event can still be archived twice).

use serde::de::Error as _;

use crate::ingest::QueuedEvent;
use crate::records::QueuedRecord;

/// The most bytes of one batched message: under Queues' 128 KB a message, with room for the
/// runtime's own framing. A record larger than this still goes, alone.
pub const MAX_MESSAGE_BYTES: usize = 100_000;

/// The messages that carry these records' JSON texts, in order: arrays of at most
/// [`MAX_MESSAGE_BYTES`] each; a lone record is sent as itself.
pub fn batch_messages(texts: Vec<String>) -> Vec<String> {
    // Built by hand, not joined: this runs in the shop Worker, whose size is budgeted.
    fn close(batch: String, count: usize, messages: &mut Vec<String>) {
        match count {
            0 => {}
            1 => messages.push(batch),
            _ => messages.push(format!("[{batch}]")),
        }
    }
    let mut messages = Vec::new();
    let (mut batch, mut count) = (String::new(), 0);
    for text in texts {
        // A comma before each but the first, and two brackets.
        if count > 0 && batch.len() + 1 + text.len() + 2 > MAX_MESSAGE_BYTES {
            close(std::mem::take(&mut batch), count, &mut messages);
            count = 0;
        }
        if count > 0 {
            batch.push(',');
        }
        batch.push_str(&text);
        count += 1;
    }
    close(batch, count, &mut messages);
    messages
}

/// One queue message, read: its records, in order; never none.
#[derive(Debug)]
pub struct QueuedMessage {
    records: Vec<QueuedRecord>,
}

impl QueuedMessage {
    /// A message of this record alone.
    pub fn one(record: QueuedRecord) -> Self {
        Self { records: vec![record] }
    }

    /// Reads a message: a record, or a non-empty array of events of one merchant and mode.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        if !text.trim_start().starts_with('[') {
            return QueuedRecord::from_json(text).map(Self::one);
        }
        let events: Vec<QueuedEvent> = serde_json::from_str(text)?;
        let Some(first) = events.first() else {
            return Err(serde_json::Error::custom("an empty batch"));
        };
        // One archive object files under one merchant and mode.
        let (merchant, livemode) = (&first.session.merchant_id, first.session.livemode);
        if events
            .iter()
            .any(|e| &e.session.merchant_id != merchant || e.session.livemode != livemode)
        {
            return Err(serde_json::Error::custom("a batch mixes merchants or modes"));
        }
        Ok(Self {
            records: events.into_iter().map(|e| QueuedRecord::Event(Box::new(e))).collect(),
        })
    }

    pub fn records(&self) -> &[QueuedRecord] {
        &self.records
    }

    /// The record that names the message's merchant and mode (every record shares them).
    pub fn first(&self) -> &QueuedRecord {
        &self.records[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::fixtures;

    fn queued_event(merchant: &str, livemode: bool, name: &str) -> QueuedEvent {
        let mut event = fixtures::queued_event(merchant, livemode, 1_795_392_000_000, 1);
        event.event.id = format!("id-{name}");
        event
    }

    fn text(event: &QueuedEvent) -> String {
        serde_json::to_string(event).unwrap()
    }

    /// An event whose text is about `bytes` long.
    fn padded(name: &str, bytes: usize) -> String {
        let mut event = queued_event("m_a", false, name);
        event
            .event
            .props
            .insert("pad".into(), serde_json::Value::String("x".repeat(bytes)));
        text(&event)
    }

    /// The events' ids, read back from a message.
    fn ids(message: &str) -> Vec<String> {
        QueuedMessage::from_json(message)
            .unwrap()
            .records()
            .iter()
            .map(|record| match record {
                QueuedRecord::Event(e) => e.event.id.clone(),
                other => panic!("not an event: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_lone_record_is_its_own_message_and_reads_back() {
        let one = text(&queued_event("m_a", false, "e1"));
        let messages = batch_messages(vec![one.clone()]);
        assert_eq!(messages, std::slice::from_ref(&one));
        assert_eq!(ids(&messages[0]), ["id-e1"]);
        assert_eq!(batch_messages(Vec::new()), Vec::<String>::new());
    }

    #[test]
    fn a_batch_is_the_records_texts_in_an_array() {
        let texts: Vec<String> = ["e1", "e2", "e3"]
            .iter()
            .map(|id| text(&queued_event("m_a", true, id)))
            .collect();
        let messages = batch_messages(texts.clone());
        // Byte for byte what the producer wrote for each record, in order.
        assert_eq!(messages, [format!("[{}]", texts.join(","))]);
        assert_eq!(ids(&messages[0]), ["id-e1", "id-e2", "id-e3"]);
        let read = QueuedMessage::from_json(&messages[0]).unwrap();
        assert_eq!((read.first().merchant_id(), read.first().livemode()), ("m_a", true));
        // Laid out by hand (spaces, line breaks): the same records.
        let spaced = format!("[\n  {} ,\n{}\n]", texts[0], texts[1]);
        assert_eq!(ids(&spaced), ["id-e1", "id-e2"]);
    }

    #[test]
    fn batches_split_at_the_message_size() {
        let texts: Vec<String> = (0..7).map(|n| padded(&format!("e{n}"), 30_000)).collect();
        let messages = batch_messages(texts.clone());
        assert_eq!(messages.len(), 3);
        assert!(
            messages.iter().all(|m| m.len() <= MAX_MESSAGE_BYTES),
            "{:?}",
            messages.iter().map(String::len).collect::<Vec<_>>()
        );
        let back: Vec<String> = messages.iter().flat_map(|m| ids(m)).collect();
        let sent: Vec<String> = (0..7).map(|n| format!("id-e{n}")).collect();
        assert_eq!(back, sent);
        // A record over the limit goes alone, as itself.
        let huge = padded("huge", MAX_MESSAGE_BYTES);
        let small = text(&queued_event("m_a", false, "small"));
        let messages = batch_messages(vec![small.clone(), huge.clone(), small.clone()]);
        assert_eq!(messages, [small.clone(), huge, small]);
    }

    #[test]
    fn refuses_batches_it_cannot_file_under_one_merchant() {
        let event = |merchant: &str, livemode: bool| text(&queued_event(merchant, livemode, "e"));
        let cases = [
            ("[]".to_owned(), "an empty batch"),
            (format!("[{},{}]", event("m_a", false), event("m_b", false)), "mixes"),
            (format!("[{},{}]", event("m_a", false), event("m_a", true)), "mixes"),
            (format!("[{},{{\"nope\":1}}]", event("m_a", false)), ""),
            // Only events are batched.
            (format!("[{}]", serde_json::json!({"key_use_id": "u1"})), ""),
            ("[1,2]".to_owned(), ""),
            ("[".to_owned(), ""),
        ];
        for (text, why) in cases {
            let error = QueuedMessage::from_json(&text).expect_err(&text).to_string();
            assert!(error.contains(why), "{text}: {error}");
        }
    }
}
