//! `POST /v1/sessions` on the wire: what the widget sends and what the edge answers (CONTRACT §3).

use serde::{Deserialize, Serialize};

use crate::currency::Currency;
use crate::date::CivilDate;
use crate::money::MinorUnits;

/// The request body a browser sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewSession<'a> {
    pub key: &'a str,
    pub amount: MinorUnits,
    pub currency: Currency,
    /// The shopper's local date: the session's schedules count from it (the edge takes it
    /// within a day of its own UTC date).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<CivilDate>,
}

/// The 201 answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionCreated {
    pub session_id: String,
    pub session_token: String,
    pub expires_at: String,
}
