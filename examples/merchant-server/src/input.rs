//! What comes in from browsers: the shop page's `POST /orders` JSON, the orders page's refund
//! form, and order ids in paths. Parsed strictly, refused with the field at fault.

use std::fmt;

use serde_json::{Map, Value};
use thiserror::Error;

/// The longest request body read; an approval token is at most 2048 bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// The edge's largest amount (CONTRACT §5).
const MAX_AMOUNT: u64 = 1_000_000_000_000;
const MAX_CART_REFERENCE_CHARS: usize = 64;

/// Why a body or form was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InputError {
    #[error("the body is not JSON: {0}")]
    InvalidJson(String),
    #[error("the body must be a JSON object")]
    NotAnObject,
    #[error("{0} is required")]
    Missing(&'static str),
    #[error("{field} must be {expected}")]
    InvalidType {
        field: &'static str,
        expected: &'static str,
    },
    #[error("unknown field {0:?}")]
    UnknownField(String),
}

impl InputError {
    /// The input at fault, for the error body's `field`.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::InvalidJson(_) | Self::NotAnObject => None,
            Self::Missing(field) | Self::InvalidType { field, .. } => Some(field),
            Self::UnknownField(field) => Some(field),
        }
    }
}

/// `POST /orders` from the shop page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceOrder {
    /// `event.detail.approval_token` of `paylater:approved`.
    pub approval_token: String,
    /// The shop's own label for the cart, shown on the orders page.
    pub cart_reference: Option<String>,
}

pub fn parse_place_order(body: &[u8]) -> Result<PlaceOrder, InputError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| InputError::InvalidJson(e.to_string()))?;
    let Value::Object(map) = value else {
        return Err(InputError::NotAnObject);
    };
    if let Some(unknown) = map
        .keys()
        .find(|k| !matches!(k.as_str(), "approval_token" | "cart_reference"))
    {
        return Err(InputError::UnknownField(unknown.clone()));
    }
    let approval_token = match map.get("approval_token") {
        None | Some(Value::Null) => return Err(InputError::Missing("approval_token")),
        Some(Value::String(token)) if !token.is_empty() => token.clone(),
        Some(_) => {
            return Err(InputError::InvalidType {
                field: "approval_token",
                expected: "the approval token (a non-empty string)",
            });
        }
    };
    Ok(PlaceOrder {
        approval_token,
        cart_reference: cart_reference(&map)?,
    })
}

fn cart_reference(map: &Map<String, Value>) -> Result<Option<String>, InputError> {
    match map.get("cart_reference") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text))
            if !text.trim().is_empty()
                && text.chars().count() <= MAX_CART_REFERENCE_CHARS
                && !text.chars().any(char::is_control) =>
        {
            Ok(Some(text.clone()))
        }
        Some(_) => Err(InputError::InvalidType {
            field: "cart_reference",
            expected: "a text of 1 to 64 characters without control characters",
        }),
    }
}

/// The refund form (`application/x-www-form-urlencoded`): `amount` in minor units.
pub fn parse_refund_form(body: &[u8]) -> Result<u64, InputError> {
    let mut amount = None;
    for (name, value) in form_urlencoded::parse(body) {
        if name == "amount" {
            amount = Some(value.trim().to_owned());
        }
    }
    let amount = amount.filter(|a| !a.is_empty()).ok_or(InputError::Missing("amount"))?;
    match amount.parse::<u64>() {
        Ok(minor) if amount.bytes().all(|b| b.is_ascii_digit()) && (1..=MAX_AMOUNT).contains(&minor) => Ok(minor),
        _ => Err(InputError::InvalidType {
            field: "amount",
            expected: "a whole number of minor units from 1 to 1000000000000",
        }),
    }
}

/// An order id as the edge makes them: `ord_test_` or `ord_live_` and 32 lower-case hex digits.
/// Only such ids ever go into an edge URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrderId(String);

impl OrderId {
    pub fn parse(text: &str) -> Option<Self> {
        let hex = text
            .strip_prefix("ord_test_")
            .or_else(|| text.strip_prefix("ord_live_"))?;
        let ok = hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| Self(text.to_owned()))
    }
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn place_order_takes_a_token_and_an_optional_cart_reference() {
        assert_eq!(
            parse_place_order(br#"{"approval_token":"a.b.c"}"#),
            Ok(PlaceOrder {
                approval_token: "a.b.c".into(),
                cart_reference: None
            })
        );
        assert_eq!(
            parse_place_order(br#"{"approval_token":"a.b.c","cart_reference":"jacket x1, socks x3"}"#)
                .unwrap()
                .cart_reference
                .as_deref(),
            Some("jacket x1, socks x3")
        );
    }

    #[test]
    fn place_order_refuses_with_the_field_at_fault() {
        let refused = |body: &str| parse_place_order(body.as_bytes()).unwrap_err();
        assert!(matches!(refused("{"), InputError::InvalidJson(_)));
        assert_eq!(refused("[]"), InputError::NotAnObject);
        assert_eq!(refused("{}"), InputError::Missing("approval_token"));
        assert_eq!(
            refused(r#"{"approval_token":null}"#),
            InputError::Missing("approval_token")
        );
        let wrong_token = refused(r#"{"approval_token":42}"#);
        assert_eq!(wrong_token.field(), Some("approval_token"));
        assert_eq!(refused(r#"{"approval_token":""}"#).field(), Some("approval_token"));
        let unknown = refused(r#"{"approval_token":"t","amount":1}"#);
        assert_eq!(unknown, InputError::UnknownField("amount".into()));
        assert_eq!(unknown.field(), Some("amount"));
        for bad in [r#""""#, r#"" ""#, r#""a\nb""#, "7"] {
            let body = format!(r#"{{"approval_token":"t","cart_reference":{bad}}}"#);
            assert_eq!(refused(&body).field(), Some("cart_reference"), "{bad}");
        }
        let long = format!(r#"{{"approval_token":"t","cart_reference":"{}"}}"#, "x".repeat(65));
        assert_eq!(refused(&long).field(), Some("cart_reference"));
    }

    #[test]
    fn the_refund_form_takes_whole_minor_units() {
        assert_eq!(parse_refund_form(b"amount=2000"), Ok(2000));
        assert_eq!(parse_refund_form(b"other=x&amount=+15+"), Ok(15));
        for bad in [
            "amount=0",
            "amount=-1",
            "amount=1.5",
            "amount=1e3",
            "amount=1000000000001",
        ] {
            assert_eq!(
                parse_refund_form(bad.as_bytes()).unwrap_err().field(),
                Some("amount"),
                "{bad}"
            );
        }
        assert_eq!(parse_refund_form(b"amount="), Err(InputError::Missing("amount")));
        assert_eq!(parse_refund_form(b""), Err(InputError::Missing("amount")));
    }

    #[test]
    fn order_ids_are_exactly_the_edges() {
        let id = "ord_test_0190d2c46b7a7cc29a1e3f6b2a9d4e10";
        assert_eq!(OrderId::parse(id).map(|i| i.to_string()).as_deref(), Some(id));
        assert!(OrderId::parse("ord_live_0190d2c46b7a7cc29a1e3f6b2a9d4e10").is_some());
        for bad in [
            "ord_test_0190D2C46B7A7CC29A1E3F6B2A9D4E10",
            "ord_test_0190d2c46b7a7cc29a1e3f6b2a9d4e1",
            "ord_demo_0190d2c46b7a7cc29a1e3f6b2a9d4e10",
            "ord_test_../../v1/keys/aaaaaaaaaaaaaaaaaaaa",
        ] {
            assert!(OrderId::parse(bad).is_none(), "{bad}");
        }
    }
}
