//! Funnel telemetry as the widget sends it to `POST /v1/events` (CONTRACT §3): the envelope, typed
//! props per event name, the body's limits and the UUIDv7 event id. The edge's validation of a
//! batch is the edge's (`paylater_edge::event_batch`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Largest request body the edge reads (CONTRACT §3).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Most events in one request.
pub const MAX_EVENTS: usize = 100;

/// The funnel steps (CONTRACT §3, "NAME").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventName {
    WidgetLoaded,
    WidgetViewed,
    TermsOpened,
    TermsClosed,
    PlanSelected,
    ApprovalStarted,
    ApprovalSubmitted,
    ApprovalApproved,
    ApprovalDeclined,
    WidgetError,
    SessionAbandoned,
}

impl EventName {
    pub const ALL: [EventName; 11] = [
        Self::WidgetLoaded,
        Self::WidgetViewed,
        Self::TermsOpened,
        Self::TermsClosed,
        Self::PlanSelected,
        Self::ApprovalStarted,
        Self::ApprovalSubmitted,
        Self::ApprovalApproved,
        Self::ApprovalDeclined,
        Self::WidgetError,
        Self::SessionAbandoned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::WidgetLoaded => "widget_loaded",
            Self::WidgetViewed => "widget_viewed",
            Self::TermsOpened => "terms_opened",
            Self::TermsClosed => "terms_closed",
            Self::PlanSelected => "plan_selected",
            Self::ApprovalStarted => "approval_started",
            Self::ApprovalSubmitted => "approval_submitted",
            Self::ApprovalApproved => "approval_approved",
            Self::ApprovalDeclined => "approval_declined",
            Self::WidgetError => "widget_error",
            Self::SessionAbandoned => "session_abandoned",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|name| name.as_str() == text)
    }

    /// The props this event may carry: (name, kind, required).
    pub fn schema(self) -> &'static [(&'static str, PropKind, bool)] {
        use PropKind::{Amount, Count, Text, TextList};
        // `amount_minor`/`currency`: what the page showed, so the edge can flag a checkout whose
        // amount changed since its session began.
        match self {
            Self::WidgetLoaded => &[
                ("load_ms", Count, false),
                ("locale", Text, false),
                ("version", Text, false),
                ("amount_minor", Amount, false),
                ("currency", Text, false),
            ],
            Self::WidgetViewed => &[("visible_ms", Count, false)],
            Self::TermsOpened | Self::TermsClosed => &[("plan_id", Text, false)],
            Self::PlanSelected | Self::ApprovalStarted | Self::ApprovalSubmitted => &[
                ("plan_id", Text, true),
                ("amount_minor", Amount, false),
                ("currency", Text, false),
            ],
            Self::ApprovalApproved => &[("approval_id", Text, true), ("plan_id", Text, true)],
            Self::ApprovalDeclined => &[("approval_id", Text, true), ("reason_codes", TextList, false)],
            Self::WidgetError => &[("code", Text, true), ("message", Text, false)],
            Self::SessionAbandoned => &[("last_step", Text, false), ("dwell_ms", Count, false)],
        }
    }
}

/// The JSON type a prop must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropKind {
    /// A non-negative integer below 2^32 (durations in ms, counts).
    Count,
    /// A short string that is not personal data.
    Text,
    /// A list of at most 20 such strings.
    TextList,
    /// A positive amount in minor units (see [`crate::MinorUnits`]).
    Amount,
}

/// One validated event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub name: EventName,
    pub ts: i64,
    pub seq: u32,
    pub props: Map<String, Value>,
}

/// `8-4-4-4-12` hex digits, not the nil UUID.
pub fn is_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
        && text.bytes().any(|b| b != b'0' && b != b'-')
}

/// An event id: a UUIDv7 (RFC 9562) of the Unix milliseconds and 10 random bytes, so ids sort
/// by time. Written with a table instead of `format!`, since the widget makes one per event.
pub fn uuid_v7(unix_ms: u64, random: &[u8; 10]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&unix_ms.to_be_bytes()[2..]);
    bytes[6..].copy_from_slice(random);
    bytes[6] = 0x70 | (bytes[6] & 0x0f);
    bytes[8] = 0x80 | (bytes[8] & 0x3f);
    let mut id = String::with_capacity(36);
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            id.push('-');
        }
        id.push(char::from(HEX[usize::from(byte >> 4)]));
        id.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn uuid_v7_known_value() {
        let random = [0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66];
        assert_eq!(
            uuid_v7(0x0190_d2c4_6b7a, &random),
            "0190d2c4-6b7a-7fee-9dcc-bbaa99887766"
        );
        assert_eq!(uuid_v7(0, &[0; 10]), "00000000-0000-7000-8000-000000000000");
    }

    proptest! {
        #[test]
        fn uuid_v7_is_a_uuid_of_version_7_that_sorts_by_time(
            a in 0u64..(1 << 48), b in 0u64..(1 << 48), ra in any::<[u8; 10]>(), rb in any::<[u8; 10]>()
        ) {
            let (id_a, id_b) = (uuid_v7(a, &ra), uuid_v7(b, &rb));
            prop_assert!(is_uuid(&id_a), "{}", id_a);
            prop_assert_eq!(&id_a[14..15], "7");
            prop_assert!(matches!(&id_a[19..20], "8" | "9" | "a" | "b"), "{}", id_a);
            let hex: String = id_a.chars().filter(|c| *c != '-').collect();
            prop_assert_eq!(u64::from_str_radix(&hex[..12], 16).unwrap(), a);
            // The random bits that survive the version and variant are the ones given.
            prop_assert_eq!(u8::from_str_radix(&hex[14..16], 16).unwrap(), ra[1]);
            prop_assert_eq!(u8::from_str_radix(&hex[30..32], 16).unwrap(), ra[9]);
            if a < b {
                prop_assert!(id_a < id_b);
            }
        }
    }
}
