//! The orders page, rendered on the server from what the edge answered: a pure function of its
//! input, every dynamic text escaped. No script; buttons are forms that post back here. Tests
//! find things by `data-testid`; amounts carry their minor units in `data-minor-units`.

use std::fmt::Write;

use paylater_shared::currency::Currency;
use paylater_shared::money::MinorUnits;
use paylater_shared::order::{Order, OrderStatus, Reconciliation, ReconciliationDay, Tally};

/// The stylesheet the page links (`GET /style.css`): no inline styles, so the page's CSP can
/// forbid them.
pub const STYLESHEET: &str = include_str!("style.css");

/// Escapes text for HTML content and double- or single-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// What the last button did, shown once at the top of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub failed: bool,
    pub text: String,
}

impl Notice {
    pub fn done(text: impl Into<String>) -> Self {
        Self {
            failed: false,
            text: text.into(),
        }
    }

    pub fn failed(text: impl Into<String>) -> Self {
        Self {
            failed: true,
            text: text.into(),
        }
    }
}

/// One order of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    /// As the edge has it now.
    Loaded {
        order: Order,
        cart_reference: Option<String>,
    },
    /// The edge could not be asked; `error` says why.
    Unavailable {
        reference: String,
        order_id: String,
        error: String,
    },
}

/// Everything the page shows.
#[derive(Debug, Clone, Copy)]
pub struct OrdersPage<'a> {
    pub merchant_id: &'a str,
    pub livemode: bool,
    /// `YYYY-MM-DD`, UTC: the day of the reconciliation.
    pub today: &'a str,
    pub notice: Option<&'a Notice>,
    /// Newest first.
    pub rows: &'a [Row],
    /// The day's report, or why it could not be read.
    pub reconciliation: &'a Result<Reconciliation, String>,
}

/// The reconciliation lines shown, in order: the report's field name, its label and its tally.
fn tallies(day: &ReconciliationDay) -> [(&'static str, &'static str, Tally); 6] {
    [
        ("approvals", "Approvals", day.approvals),
        ("orders_created", "Orders created", day.orders_created),
        ("captured", "Captured", day.captured),
        ("refunded", "Refunded", day.refunded),
        ("voided", "Voided", day.voided),
        ("expired", "Expired", day.expired),
    ]
}

/// `12999` USD → `129.99 USD`.
pub fn money(minor: u64, currency: Currency) -> String {
    format!(
        "{} {}",
        MinorUnits(minor).to_decimal_string(currency.exponent()),
        currency.code()
    )
}

/// A table cell with an amount: the text for people, the minor units for machines.
fn amount_cell(testid: &str, minor: u64, currency: Currency) -> String {
    format!(
        "<td class=\"amount\" data-testid=\"{}\" data-minor-units=\"{minor}\">{}</td>",
        escape(testid),
        escape(&money(minor, currency))
    )
}

pub fn render(page: &OrdersPage) -> String {
    let mode = if page.livemode { "live" } else { "test" };
    let mut html = String::with_capacity(4096);
    html.push_str(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Orders · merchant server</title>\n<link rel=\"stylesheet\" href=\"/style.css\">\n</head>\n<body>\n",
    );
    let _ = write!(
        html,
        "<header>\n<h1>Orders</h1>\n<p>Merchant <code data-testid=\"merchant-id\">{}</code>, \
         <span data-testid=\"mode\">{mode}</span> mode. <a href=\"/\">Refresh</a></p>\n</header>\n<main>\n",
        escape(page.merchant_id)
    );
    if let Some(notice) = page.notice {
        let outcome = if notice.failed { "failed" } else { "done" };
        let _ = writeln!(
            html,
            "<p class=\"notice {outcome}\" role=\"status\" data-testid=\"notice\" data-outcome=\"{outcome}\">{}</p>",
            escape(&notice.text)
        );
    }
    render_orders(&mut html, page.rows);
    render_reconciliation(&mut html, page.today, page.reconciliation);
    html.push_str("</main>\n</body>\n</html>\n");
    html
}

fn render_orders(html: &mut String, rows: &[Row]) {
    html.push_str("<section aria-labelledby=\"orders-title\">\n<h2 id=\"orders-title\">Orders placed here</h2>\n");
    if rows.is_empty() {
        html.push_str("<p data-testid=\"orders-empty\">No orders yet: place one from the shop page.</p>\n</section>\n");
        return;
    }
    html.push_str(
        "<table class=\"orders\" data-testid=\"orders\">\n<thead><tr><th scope=\"col\">Reference</th>\
         <th scope=\"col\">Order</th><th scope=\"col\">Status</th><th scope=\"col\">Amount</th>\
         <th scope=\"col\">Captured</th><th scope=\"col\">Refunded</th><th scope=\"col\">Actions</th></tr></thead>\n<tbody>\n",
    );
    for row in rows {
        match row {
            Row::Loaded { order, cart_reference } => render_order(html, order, cart_reference.as_deref()),
            Row::Unavailable {
                reference,
                order_id,
                error,
            } => {
                let _ = writeln!(
                    html,
                    "<tr data-testid=\"order-row\" data-order-id=\"{id}\" data-reference=\"{reference}\">\
                     <td><span data-testid=\"row-reference\">{reference}</span></td><td data-testid=\"row-order-id\"><code>{id}</code></td>\
                     <td colspan=\"5\" class=\"error\" data-testid=\"row-error\">Could not load this order: {error}</td></tr>",
                    id = escape(order_id),
                    reference = escape(reference),
                    error = escape(error),
                );
            }
        }
    }
    html.push_str("</tbody>\n</table>\n</section>\n");
}

fn render_order(html: &mut String, order: &Order, cart_reference: Option<&str>) {
    let id = escape(&order.order_id);
    let reference = escape(&order.merchant_reference);
    let cart = cart_reference
        .map(|cart| format!(" <small data-testid=\"row-cart\">{}</small>", escape(cart)))
        .unwrap_or_default();
    let open = matches!(order.status, OrderStatus::Authorized | OrderStatus::PartiallyCaptured);
    let rest = order.amount.saturating_sub(order.captured);
    let refundable = order.captured.saturating_sub(order.refunded);
    let can_refund = refundable > 0
        && matches!(
            order.status,
            OrderStatus::PartiallyCaptured | OrderStatus::Captured | OrderStatus::PartiallyRefunded
        );
    let disabled = |enabled: bool| if enabled { "" } else { " disabled" };
    let _ = write!(
        html,
        "<tr data-testid=\"order-row\" data-order-id=\"{id}\" data-reference=\"{reference}\">\
         <td><span data-testid=\"row-reference\">{reference}</span>{cart}</td>\
         <td data-testid=\"row-order-id\"><code>{id}</code></td>\
         <td data-testid=\"row-status\">{status}</td>{amount}{captured}{refunded}\n<td class=\"actions\">\
         <form method=\"post\" action=\"/orders/{id}/capture\"><button type=\"submit\" data-testid=\"capture\"{capture}>Capture the rest</button></form>\
         <form method=\"post\" action=\"/orders/{id}/refund\"><label>Amount (minor units) \
         <input type=\"number\" name=\"amount\" min=\"1\" step=\"1\" required value=\"{refundable}\" data-testid=\"refund-amount\"{refund}></label> \
         <button type=\"submit\" data-testid=\"refund\"{refund}>Refund</button></form>\
         <form method=\"post\" action=\"/orders/{id}/void\"><button type=\"submit\" data-testid=\"void\"{capture}>Void</button></form>\
         </td></tr>\n",
        status = escape(order.status.as_str()),
        amount = amount_cell("row-amount", order.amount, order.currency),
        captured = amount_cell("row-captured", order.captured, order.currency),
        refunded = amount_cell("row-refunded", order.refunded, order.currency),
        capture = disabled(open && rest > 0),
        refund = disabled(can_refund),
    );
}

fn render_reconciliation(html: &mut String, today: &str, report: &Result<Reconciliation, String>) {
    let _ = write!(
        html,
        "<section aria-labelledby=\"reconciliation-title\" data-testid=\"reconciliation\">\n\
         <h2 id=\"reconciliation-title\">Reconciliation, {} (UTC)</h2>\n",
        escape(today)
    );
    let report = match report {
        Ok(report) => report,
        Err(error) => {
            let _ = write!(
                html,
                "<p class=\"error\" data-testid=\"reconciliation-error\">Could not load the reconciliation: {}</p>\n</section>\n",
                escape(error)
            );
            return;
        }
    };
    let mut days: Vec<_> = report.days.iter().filter(|day| day.date == today).collect();
    days.sort_by(|a, b| a.currency.code().cmp(b.currency.code()));
    if days.is_empty() {
        html.push_str("<p data-testid=\"reconciliation-empty\">No changes today.</p>\n");
    }
    for day in days {
        let currency = day.currency;
        let code = escape(currency.code());
        let _ = write!(
            html,
            "<table class=\"reconciliation\" data-testid=\"reconciliation-{code}\">\n<caption>{code}</caption>\n\
             <thead><tr><th scope=\"col\">Change</th><th scope=\"col\">Count</th><th scope=\"col\">Amount</th></tr></thead>\n<tbody>\n"
        );
        for (field, label, tally) in tallies(day) {
            let _ = writeln!(
                html,
                "<tr><th scope=\"row\">{label}</th><td data-testid=\"recon-{code}-{field}-count\">{count}</td>{amount}</tr>",
                count = tally.count,
                amount = amount_cell(&format!("recon-{code}-{field}-amount"), tally.amount, currency),
            );
        }
        html.push_str("</tbody>\n</table>\n");
    }
    html.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use paylater_shared::order::{ChangeKind, HistoryEntry};

    use super::*;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    fn order(status: OrderStatus, captured: u64, refunded: u64) -> Order {
        Order {
            order_id: "ord_test_0190d2c46b7a7cc29a1e3f6b2a9d4e10".into(),
            approval_id: "0190d2c4-6b7a-7cc2-9a1e-3f6b2a9d4e10".into(),
            merchant_reference: "NO-1".into(),
            status,
            livemode: false,
            amount: 14499,
            currency: usd(),
            plan_id: "pay_in_4".into(),
            schedule: Vec::new(),
            captured,
            refunded,
            capture_before: "2026-12-27T10:00:00.123Z".into(),
            created_at: "2026-11-29T10:00:00.123Z".into(),
            history: vec![HistoryEntry {
                at: "2026-11-29T10:00:00.123Z".into(),
                kind: ChangeKind::OrderCreated,
                amount: 14499,
                reason: None,
            }],
        }
    }

    fn day(date: &str, currency: &str, captured: Tally) -> ReconciliationDay {
        ReconciliationDay {
            date: date.into(),
            currency: Currency::parse(currency).unwrap(),
            approvals: Tally {
                count: 3,
                amount: 40497,
            },
            orders_created: Tally {
                count: 1,
                amount: 14499,
            },
            captured,
            refunded: Tally::default(),
            voided: Tally::default(),
            expired: Tally::default(),
            approvals_expired: Tally::default(),
        }
    }

    fn report(days: Vec<ReconciliationDay>) -> Result<Reconciliation, String> {
        Ok(Reconciliation {
            from: "2026-11-29".into(),
            to: "2026-11-29".into(),
            livemode: false,
            days,
            items: Vec::new(),
        })
    }

    fn page<'a>(rows: &'a [Row], reconciliation: &'a Result<Reconciliation, String>) -> OrdersPage<'a> {
        OrdersPage {
            merchant_id: "m_nordic_outdoor",
            livemode: false,
            today: "2026-11-29",
            notice: None,
            rows,
            reconciliation,
        }
    }

    /// The element with `data-testid="{testid}"` (the first), from its opening `<` to the end of
    /// its opening tag's text content.
    fn element<'h>(html: &'h str, testid: &str) -> &'h str {
        let at = html
            .find(&format!("data-testid=\"{testid}\""))
            .unwrap_or_else(|| panic!("no {testid} in {html}"));
        let start = html[..at].rfind('<').unwrap();
        let end = at + html[at..].find("</").unwrap();
        &html[start..end]
    }

    fn text_of<'h>(html: &'h str, testid: &str) -> &'h str {
        let element = element(html, testid);
        &element[element.find('>').unwrap() + 1..]
    }

    #[test]
    fn escape_covers_every_character_that_opens_markup_or_closes_an_attribute() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(escape("NO-1 · Fjäll"), "NO-1 · Fjäll");
    }

    #[test]
    fn money_uses_the_currency_exponent() {
        assert_eq!(money(14499, usd()), "144.99 USD");
        assert_eq!(money(5, usd()), "0.05 USD");
        assert_eq!(money(15800, Currency::parse("JPY").unwrap()), "15800 JPY");
    }

    #[test]
    fn an_authorized_order_can_be_captured_or_voided_but_not_refunded() {
        let rows = [Row::Loaded {
            order: order(OrderStatus::Authorized, 0, 0),
            cart_reference: None,
        }];
        let html = render(&page(&rows, &report(Vec::new())));
        assert!(html.contains(
            "data-testid=\"order-row\" data-order-id=\"ord_test_0190d2c46b7a7cc29a1e3f6b2a9d4e10\" data-reference=\"NO-1\""
        ));
        assert_eq!(text_of(&html, "row-reference"), "NO-1");
        assert_eq!(text_of(&html, "row-status"), "authorized");
        assert_eq!(text_of(&html, "row-amount"), "144.99 USD");
        assert!(element(&html, "row-amount").contains("data-minor-units=\"14499\""));
        assert_eq!(text_of(&html, "row-captured"), "0.00 USD");
        assert!(html.contains(
            "<form method=\"post\" action=\"/orders/ord_test_0190d2c46b7a7cc29a1e3f6b2a9d4e10/capture\">\
             <button type=\"submit\" data-testid=\"capture\">Capture the rest</button></form>"
        ));
        assert!(html.contains("<button type=\"submit\" data-testid=\"void\">Void</button>"));
        assert!(html.contains("<button type=\"submit\" data-testid=\"refund\" disabled>Refund</button>"));
        assert!(html.contains("No changes today."));
    }

    #[test]
    fn a_captured_order_can_be_refunded_up_to_what_is_left() {
        let rows = [Row::Loaded {
            order: order(OrderStatus::PartiallyRefunded, 14499, 2000),
            cart_reference: Some("jacket x1".into()),
        }];
        let html = render(&page(&rows, &report(Vec::new())));
        assert_eq!(text_of(&html, "row-status"), "partially_refunded");
        assert_eq!(text_of(&html, "row-refunded"), "20.00 USD");
        assert_eq!(text_of(&html, "row-cart"), "jacket x1");
        assert!(html.contains("value=\"12499\" data-testid=\"refund-amount\">"));
        assert!(html.contains("<button type=\"submit\" data-testid=\"refund\">Refund</button>"));
        assert!(html.contains("<button type=\"submit\" data-testid=\"capture\" disabled>"));
        assert!(html.contains("<button type=\"submit\" data-testid=\"void\" disabled>"));
    }

    #[test]
    fn the_days_reconciliation_is_one_table_per_currency() {
        let reconciliation = report(vec![
            day(
                "2026-11-29",
                "USD",
                Tally {
                    count: 1,
                    amount: 14499,
                },
            ),
            day("2026-11-29", "EUR", Tally::default()),
            day("2026-11-28", "GBP", Tally { count: 9, amount: 9 }),
        ]);
        let html = render(&page(&[], &reconciliation));
        assert!(html.contains("Reconciliation, 2026-11-29 (UTC)"));
        assert!(html.contains("data-testid=\"orders-empty\""));
        assert_eq!(text_of(&html, "recon-USD-captured-count"), "1");
        assert_eq!(text_of(&html, "recon-USD-captured-amount"), "144.99 USD");
        assert!(element(&html, "recon-USD-captured-amount").contains("data-minor-units=\"14499\""));
        assert_eq!(text_of(&html, "recon-USD-approvals-count"), "3");
        assert_eq!(text_of(&html, "recon-EUR-captured-count"), "0");
        for field in [
            "approvals",
            "orders_created",
            "captured",
            "refunded",
            "voided",
            "expired",
        ] {
            assert!(
                html.contains(&format!("data-testid=\"recon-USD-{field}-count\"")),
                "{field}"
            );
            assert!(
                html.contains(&format!("data-testid=\"recon-USD-{field}-amount\"")),
                "{field}"
            );
        }
        assert!(!html.contains("recon-GBP"), "another day is not today's");
        // Currencies in code order.
        assert!(html.find("reconciliation-EUR").unwrap() < html.find("reconciliation-USD").unwrap());
    }

    #[test]
    fn every_dynamic_text_is_escaped() {
        let mut hostile = order(OrderStatus::Authorized, 0, 0);
        hostile.order_id = "ord_\"><script>x</script>".into();
        hostile.merchant_reference = "<b>NO-1</b>".into();
        let rows = [
            Row::Loaded {
                order: hostile,
                cart_reference: Some("<img src=x onerror=alert(1)>".into()),
            },
            Row::Unavailable {
                reference: "NO-2".into(),
                order_id: "ord_test_x".into(),
                error: "the edge said <nope> & \"no\"".into(),
            },
        ];
        let notice = Notice::failed("refused: <i>'amount_exceeds'</i>");
        let failed_report = Err("<html>502</html>".to_owned());
        let html = render(&OrdersPage {
            merchant_id: "m_<evil>",
            notice: Some(&notice),
            ..page(&rows, &failed_report)
        });
        for raw in ["<script>", "<b>", "<img", "<nope>", "<i>", "<html>502", "m_<evil>"] {
            assert!(!html.contains(raw), "{raw} went out unescaped");
        }
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(html.contains("data-order-id=\"ord_&quot;&gt;&lt;script&gt;x&lt;/script&gt;\""));
        assert_eq!(
            text_of(&html, "row-error"),
            "Could not load this order: the edge said &lt;nope&gt; &amp; &quot;no&quot;"
        );
        assert_eq!(
            text_of(&html, "notice"),
            "refused: &lt;i&gt;&#39;amount_exceeds&#39;&lt;/i&gt;"
        );
        assert!(element(&html, "notice").contains("data-outcome=\"failed\""));
        assert_eq!(
            text_of(&html, "reconciliation-error"),
            "Could not load the reconciliation: &lt;html&gt;502&lt;/html&gt;"
        );
    }

    #[test]
    fn the_page_has_no_script_and_no_inline_style() {
        let rows = [Row::Loaded {
            order: order(OrderStatus::Captured, 14499, 0),
            cart_reference: None,
        }];
        let html = render(&page(
            &rows,
            &report(vec![day(
                "2026-11-29",
                "USD",
                Tally {
                    count: 1,
                    amount: 14499,
                },
            )]),
        ));
        assert!(!html.contains("<script") && !html.contains("style=") && !html.contains("<style"));
        assert!(html.contains("<link rel=\"stylesheet\" href=\"/style.css\">"));
        assert!(!STYLESHEET.is_empty());
    }
}
