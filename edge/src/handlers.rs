//! What each route answers, given what the runtime looked up. Pure: no bindings, no clock.

use paylater_shared::merchant::PublicMerchantConfig;
use paylater_shared::{CivilDate, OffersResponse};

use crate::error::EdgeError;
use crate::merchant::MerchantConfig;
use crate::query::OffersQuery;

/// `GET /health`: `ok`, or 503 `degraded` naming each secret the edge cannot use (without it
/// the archive cannot be sealed, or its digests signed, and records would wait until they are
/// dropped: better seen by a deploy's health check than found days later).
pub fn health(problems: &[String]) -> (u16, serde_json::Value) {
    if problems.is_empty() {
        (200, serde_json::json!({ "status": "ok" }))
    } else {
        (503, serde_json::json!({ "status": "degraded", "problems": problems }))
    }
}

/// What a `/health` answer of `status` and `body` names as problems: none for a 200, its
/// `problems` for a 503 `degraded`, and the status itself for anything else.
pub fn health_problems(status: u16, body: &serde_json::Value) -> Vec<String> {
    if status == 200 {
        return Vec::new();
    }
    let named: Vec<String> = body["problems"]
        .as_array()
        .map(|problems| problems.iter().filter_map(|p| p.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    if named.is_empty() {
        vec![format!("the back office answered {status}")]
    } else {
        named
    }
}

/// `GET /v1/merchants/{pk}/config`.
pub fn merchant_config(merchant: &MerchantConfig) -> PublicMerchantConfig {
    PublicMerchantConfig::from(merchant)
}

/// `GET /v1/offers`: every plan whose range holds the amount, with schedules from `start` (or
/// `today_utc`).
pub fn offers(
    merchant: &MerchantConfig,
    query: &OffersQuery,
    today_utc: CivilDate,
) -> Result<OffersResponse, EdgeError> {
    if !merchant.currencies().contains(&query.currency) {
        return Err(EdgeError::CurrencyNotOffered {
            currency: query.currency.to_string(),
        });
    }
    let start = query.start.unwrap_or(today_utc);
    let plans = merchant
        .offers(query.amount, query.currency, start)
        .map_err(|e| EdgeError::Internal {
            detail: format!("schedule for an eligible amount: {e}"),
        })?;
    Ok(OffersResponse {
        amount: query.amount,
        currency: query.currency,
        plans,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use paylater_shared::{Currency, MinorUnits};

    #[test]
    fn the_back_office_health_is_read_back_as_problems() {
        let (status, body) = health(&["ARCHIVE_KEYS: missing".to_owned()]);
        assert_eq!(health_problems(status, &body), vec!["ARCHIVE_KEYS: missing".to_owned()]);
        let (status, body) = health(&[]);
        assert_eq!(health_problems(status, &body), Vec::<String>::new());
        assert_eq!(
            health_problems(500, &serde_json::json!({ "error": { "code": "internal" } })),
            vec!["the back office answered 500".to_owned()]
        );
    }

    #[test]
    fn health_names_what_is_missing() {
        assert_eq!(health(&[]), (200, serde_json::json!({ "status": "ok" })));
        let (status, body) = health(&["ARCHIVE_KEYS is not set".to_owned()]);
        assert_eq!(status, 503);
        assert_eq!(body["problems"][0], "ARCHIVE_KEYS is not set");
    }

    fn demo() -> MerchantConfig {
        MerchantConfig::from_json(include_str!("../../seed/merchants/pk_test_demo.json")).unwrap()
    }

    fn query(amount: u64, currency: &str, start: Option<&str>) -> OffersQuery {
        OffersQuery {
            key: "pk_test_demo".into(),
            amount: MinorUnits(amount),
            currency: Currency::parse(currency).unwrap(),
            locale: None,
            start: start.map(|s| CivilDate::parse(s).unwrap()),
        }
    }

    #[test]
    fn offers_use_start_or_today() {
        let today = CivilDate::parse("2026-11-23").unwrap();
        let response = offers(&demo(), &query(25_000, "EUR", Some("2027-01-31")), today).unwrap();
        let ids: Vec<_> = response.plans.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            ["pay_in_4", "pay_in_30", "financing_6", "financing_12", "financing_24"]
        );
        assert_eq!(response.plans[2].schedule[0].due_date.to_string(), "2027-02-28");
        let response = offers(&demo(), &query(12_999, "USD", None), today).unwrap();
        assert_eq!(response.plans[0].schedule[0].due_date, today);
    }

    #[test]
    fn the_latest_accepted_start_gives_offers_even_with_the_longest_financing() {
        let mut config: serde_json::Value =
            serde_json::from_str(include_str!("../../seed/merchants/pk_test_demo.json")).unwrap();
        config["plans"][2]["terms"] = serde_json::json!([{ "months": 120, "apr_bps": 1_999 }]);
        let longest = MerchantConfig::from_json(&config.to_string()).unwrap();
        let today = CivilDate::parse("2026-11-23").unwrap();
        let latest = OffersQuery::parse(&[
            ("key".to_owned(), "pk_test_demo".to_owned()),
            ("amount".to_owned(), "100000".to_owned()),
            ("currency".to_owned(), "EUR".to_owned()),
            ("start".to_owned(), "9989-12-31".to_owned()),
        ])
        .unwrap();
        let response = offers(&longest, &latest, today).unwrap();
        let last_due: Vec<_> = response
            .plans
            .iter()
            .map(|p| (p.id.as_str(), p.schedule.last().map(|i| i.due_date.to_string())))
            .collect();
        assert_eq!(
            last_due,
            [
                ("pay_in_4", Some("9990-02-11".to_owned())),
                ("pay_in_30", Some("9990-01-30".to_owned())),
                ("financing_120", Some("9999-12-31".to_owned())),
            ]
        );
    }

    #[test]
    fn amount_outside_every_range_has_no_plans() {
        let today = CivilDate::parse("2026-11-23").unwrap();
        assert!(
            offers(&demo(), &query(500, "USD", None), today)
                .unwrap()
                .plans
                .is_empty()
        );
        assert_eq!(
            offers(&demo(), &query(500, "CHF", None), today).unwrap_err().code(),
            "currency_not_offered"
        );
    }
}
