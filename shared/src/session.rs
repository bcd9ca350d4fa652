//! `POST /v1/sessions` on the wire: what the widget sends and what the edge answers (CONTRACT §3).

use serde::{Deserialize, Serialize};

use crate::currency::Currency;
use crate::money::MinorUnits;

/// The request body a browser sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewSession<'a> {
    pub key: &'a str,
    pub amount: MinorUnits,
    pub currency: Currency,
}

/// The 201 answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionCreated {
    pub session_id: String,
    pub session_token: String,
    pub expires_at: String,
}
