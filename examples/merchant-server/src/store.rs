//! What this server remembers, in memory only: the orders it created and under which
//! reference, and the notice the orders page shows once after a button was pressed. The orders
//! themselves are always read fresh from the edge.

use crate::input::OrderId;
use crate::page::Notice;

/// One approval this server placed an order for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// `NO-<n>`: the `merchant_reference` sent to the edge.
    pub reference: String,
    /// The token's `sub`.
    pub approval_id: String,
    /// Known once the edge made the order.
    pub order_id: Option<OrderId>,
    pub cart_reference: Option<String>,
}

#[derive(Debug, Default)]
pub struct Store {
    issued: u64,
    placed: Vec<Placed>,
    notice: Option<Notice>,
}

impl Store {
    /// The reference for `approval_id`'s order: the one it got before, so placing the same
    /// approval again gets the same order back from the edge instead of a conflict, or the next
    /// `NO-<n>` (no `@`, nothing personal: references show up in logs and reports).
    pub fn reference_for(&mut self, approval_id: &str, cart_reference: Option<String>) -> String {
        if let Some(placed) = self.placed.iter().find(|p| p.approval_id == approval_id) {
            return placed.reference.clone();
        }
        self.issued += 1;
        let reference = format!("NO-{}", self.issued);
        self.placed.push(Placed {
            reference: reference.clone(),
            approval_id: approval_id.to_owned(),
            order_id: None,
            cart_reference,
        });
        reference
    }

    /// Notes that the edge made `approval_id`'s order.
    pub fn created(&mut self, approval_id: &str, order_id: OrderId) {
        if let Some(placed) = self.placed.iter_mut().find(|p| p.approval_id == approval_id) {
            placed.order_id = Some(order_id);
        }
    }

    /// Every order made, newest first.
    pub fn orders(&self) -> Vec<Placed> {
        self.placed
            .iter()
            .rev()
            .filter(|p| p.order_id.is_some())
            .cloned()
            .collect()
    }

    /// Whether this server made `order_id` (the buttons act on no other order).
    pub fn knows(&self, order_id: &OrderId) -> bool {
        self.placed.iter().any(|p| p.order_id.as_ref() == Some(order_id))
    }

    pub fn set_notice(&mut self, notice: Notice) {
        self.notice = Some(notice);
    }

    /// The notice, once.
    pub fn take_notice(&mut self) -> Option<Notice> {
        self.notice.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: char) -> OrderId {
        OrderId::parse(&format!("ord_test_{}", n.to_string().repeat(32))).unwrap()
    }

    #[test]
    fn references_count_up_and_stay_with_their_approval() {
        let mut store = Store::default();
        assert_eq!(store.reference_for("ap-1", Some("cart 1".into())), "NO-1");
        assert_eq!(store.reference_for("ap-2", None), "NO-2");
        // The same approval again (a double click, a retry): the same reference.
        assert_eq!(store.reference_for("ap-1", None), "NO-1");
        assert!(store.orders().is_empty(), "nothing is listed before the edge made it");
        store.created("ap-1", id('a'));
        store.created("ap-2", id('b'));
        let listed: Vec<_> = store
            .orders()
            .into_iter()
            .map(|p| (p.reference, p.cart_reference))
            .collect();
        assert_eq!(
            listed,
            [
                ("NO-2".to_owned(), None),
                ("NO-1".to_owned(), Some("cart 1".to_owned()))
            ]
        );
        assert!(store.knows(&id('a')));
        assert!(!store.knows(&id('c')));
    }

    #[test]
    fn a_notice_shows_once() {
        let mut store = Store::default();
        store.set_notice(Notice::done("Captured"));
        assert_eq!(store.take_notice(), Some(Notice::done("Captured")));
        assert_eq!(store.take_notice(), None);
    }
}
