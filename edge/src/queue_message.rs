//! How records ride the events queue. A message is one record's JSON, or a JSON array of the
//! events one request admitted (one session, one request), so the consumer archives them as one
//! object: a put per request, not per event. Messages are the unit everywhere after: redelivered,
//! parked and replayed byte for byte, so a record is archived once, under its message's key.

use serde::de::Error as _;
use serde_json::value::RawValue;

use crate::records::QueuedRecord;

/// The most bytes of one batched message: under Queues' 128 KB a message, with room for the
/// runtime's own framing. A record larger than this still goes, alone.
pub const MAX_MESSAGE_BYTES: usize = 100_000;

/// The messages that carry these records' JSON texts, in order: arrays of at most
/// [`MAX_MESSAGE_BYTES`] each; a lone record is sent as itself.
pub fn batch_messages(texts: Vec<String>) -> Vec<String> {
    let mut messages = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut bytes = 0;
    let flush = |current: &mut Vec<String>, messages: &mut Vec<String>| match current.len() {
        0 => {}
        1 => messages.append(current),
        _ => messages.push(format!("[{}]", std::mem::take(current).join(","))),
    };
    for text in texts {
        // Brackets and commas: one byte per element and two per message.
        if !current.is_empty() && bytes + text.len() + 1 + 2 > MAX_MESSAGE_BYTES {
            flush(&mut current, &mut messages);
            bytes = 0;
        }
        bytes += text.len() + 1;
        current.push(text);
    }
    flush(&mut current, &mut messages);
    messages
}

/// One queue message, read: its records, each with its own exact text.
#[derive(Debug)]
pub struct QueuedMessage {
    pub records: Vec<(String, QueuedRecord)>,
}

impl QueuedMessage {
    /// Reads a message: a record, or a non-empty array of events of one merchant and mode.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        if !text.trim_start().starts_with('[') {
            let record = QueuedRecord::from_json(text)?;
            return Ok(Self {
                records: vec![(text.to_owned(), record)],
            });
        }
        let elements: Vec<&RawValue> = serde_json::from_str(text)?;
        let records = elements
            .into_iter()
            .map(|element| {
                let text = element.get();
                match QueuedRecord::from_json(text)? {
                    record @ QueuedRecord::Event(_) => Ok((text.to_owned(), record)),
                    _ => Err(serde_json::Error::custom("a batched message carries events only")),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let Some((_, first)) = records.first() else {
            return Err(serde_json::Error::custom("an empty batch"));
        };
        // One archive object files under one merchant and mode.
        let (merchant, livemode) = (first.merchant_id(), first.livemode());
        if records
            .iter()
            .any(|(_, r)| r.merchant_id() != merchant || r.livemode() != livemode)
        {
            return Err(serde_json::Error::custom("a batch mixes merchants or modes"));
        }
        Ok(Self { records })
    }

    /// The record that names the message's merchant and mode (every record shares them).
    pub fn first(&self) -> &QueuedRecord {
        &self.records[0].1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::QueuedEvent;
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

    #[test]
    fn a_lone_record_is_its_own_message_and_reads_back() {
        let one = text(&queued_event("m_a", false, "e1"));
        let messages = batch_messages(vec![one.clone()]);
        assert_eq!(messages, std::slice::from_ref(&one));
        let read = QueuedMessage::from_json(&messages[0]).unwrap();
        assert_eq!(read.records.len(), 1);
        assert_eq!(read.records[0].0, one);
        assert_eq!(batch_messages(Vec::new()), Vec::<String>::new());
    }

    #[test]
    fn a_batch_keeps_each_records_exact_text() {
        let texts: Vec<String> = ["e1", "e2", "e3"]
            .iter()
            .map(|id| text(&queued_event("m_a", true, id)))
            .collect();
        let messages = batch_messages(texts.clone());
        assert_eq!(messages.len(), 1);
        let read = QueuedMessage::from_json(&messages[0]).unwrap();
        let read_texts: Vec<&str> = read.records.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(read_texts, texts);
        assert_eq!((read.first().merchant_id(), read.first().livemode()), ("m_a", true));
        // Laid out by hand (spaces, line breaks): each element is still its exact bytes.
        let spaced = format!("[\n  {} ,\n{}\n]", texts[0], texts[1]);
        let read = QueuedMessage::from_json(&spaced).unwrap();
        assert_eq!(read.records[0].0, texts[0]);
        assert_eq!(read.records[1].0, texts[1]);
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
        let back: Vec<String> = messages
            .iter()
            .flat_map(|m| QueuedMessage::from_json(m).unwrap().records.into_iter().map(|(t, _)| t))
            .collect();
        assert_eq!(back, texts);
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
            ("[1,2]".to_owned(), ""),
            ("[".to_owned(), ""),
        ];
        for (text, why) in cases {
            let error = QueuedMessage::from_json(&text).expect_err(&text).to_string();
            assert!(error.contains(why), "{text}: {error}");
        }
    }
}
