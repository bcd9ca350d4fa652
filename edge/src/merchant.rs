//! A merchant's stored configuration (KV, by publishable key): its validation, origin rules,
//! and what the widget never sees (allowed origins, the scorecard, secret keys, rate limits, the
//! order policy). The plans and the public part are shared with the widget
//! (`paylater_shared::merchant`).

use crate::anomaly::Thresholds;
use paylater_shared::currency_map::CurrencyMap;

use paylater_shared::currency::Currency;
use paylater_shared::date::CivilDate;
use paylater_shared::merchant::{self, PlanConfig, PublicMerchantConfig, TelemetryMode};
use paylater_shared::money::MinorUnits;
use paylater_shared::offer::Offer;
use paylater_shared::plan::{MAX_APR_BPS, MAX_FINANCING_MONTHS, PlanTerms, ScheduleError};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::decision::{Scorecard, ScorecardError};

/// Everything the edge knows of a merchant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerchantConfig {
    pub merchant_id: String,
    pub publishable_key: String,
    pub display_name: String,
    /// Who lends the money, named in the disclosures.
    pub lender: String,
    pub allowed_origins: Vec<String>,
    pub plans: Vec<PlanConfig>,
    /// Late fee in minor units per currency; absent means none is ever charged.
    #[serde(default)]
    pub late_fees: CurrencyMap<MinorUnits>,
    /// Privacy by default: without an explicit `always`, nothing is sent before consent.
    #[serde(default = "default_telemetry_mode")]
    pub telemetry: TelemetryMode,
    /// Requests a minute the edge takes for this merchant's sessions and shoppers' IPs.
    #[serde(default)]
    pub rate_limits: RateLimits,
    /// Weights and thresholds of instant approval. Private: never part of
    /// [`PublicMerchantConfig`], so browsers cannot learn how to game it.
    #[serde(default)]
    pub scorecard: Scorecard,
    /// The merchant server's secret keys (CONTRACT §5), as SHA-256 hashes only. Private: never
    /// part of [`PublicMerchantConfig`].
    // The shop Worker never reads a merchant's secret keys or anomaly thresholds (the back
    // office does, and checks them): its copy leaves them out, and with them their deserializers.
    #[serde(default)]
    #[cfg_attr(feature = "shop", serde(skip_deserializing))]
    pub secret_keys: Vec<SecretKeyConfig>,
    /// How long approvals and orders hold the shopper's credit.
    #[serde(default)]
    pub orders: OrderPolicy,
    /// When a window of this merchant's traffic is an anomaly (`GET /v1/insights/anomalies`).
    #[serde(default)]
    #[cfg_attr(feature = "shop", serde(skip_deserializing))]
    pub anomalies: Thresholds,
}

/// What a secret key may do (CONTRACT §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "orders:write")]
    OrdersWrite,
    #[serde(rename = "orders:read")]
    OrdersRead,
    #[serde(rename = "insights:read")]
    InsightsRead,
    #[serde(rename = "logs:read")]
    LogsRead,
    #[serde(rename = "logs:replay")]
    LogsReplay,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrdersWrite => "orders:write",
            Self::OrdersRead => "orders:read",
            Self::InsightsRead => "insights:read",
            Self::LogsRead => "logs:read",
            Self::LogsReplay => "logs:replay",
        }
    }
}

/// One secret key of the merchant's server: never the key itself, only its SHA-256 (lower-case
/// hex). Removing the entry revokes the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretKeyConfig {
    /// Names the key in logs and in the merchant's own records, e.g. `key_2026_11_ops`.
    pub id: String,
    pub sha256: String,
    pub scopes: Vec<Scope>,
}

/// How long an approval can still become an order, how long an order can be captured, and how
/// long an idle customer's record is kept. Tests use short windows; merchants may change them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrderPolicy {
    /// Life of an approval token: an approval with no order by then is released.
    pub approval_token_ttl_seconds: u32,
    /// `capture_before` = the order's creation plus this.
    pub capture_window_seconds: u32,
    /// A customer record with nothing open is removed after this long idle.
    pub customer_retention_days: u32,
}

/// 15 minutes: enough for the merchant's server to place the order.
pub const DEFAULT_APPROVAL_TOKEN_TTL_SECONDS: u32 = 15 * 60;
/// 28 days, as card authorizations and Klarna's orders.
pub const DEFAULT_CAPTURE_WINDOW_SECONDS: u32 = 28 * 24 * 60 * 60;
pub const DEFAULT_CUSTOMER_RETENTION_DAYS: u32 = 400;

impl Default for OrderPolicy {
    fn default() -> Self {
        Self {
            approval_token_ttl_seconds: DEFAULT_APPROVAL_TOKEN_TTL_SECONDS,
            capture_window_seconds: DEFAULT_CAPTURE_WINDOW_SECONDS,
            customer_retention_days: DEFAULT_CUSTOMER_RETENTION_DAYS,
        }
    }
}

/// Rate limits (CONTRACT §3): by default 120 requests a minute per session and 600 per client
/// IP, and 60 new sessions a minute per client network (/24 or /64), so nobody can mint the
/// sessions that approval attempts need in bulk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    pub per_session_per_minute: u32,
    pub per_ip_per_minute: u32,
    #[serde(default = "RateLimits::default_sessions_per_network")]
    pub sessions_per_network_per_minute: u32,
}

impl RateLimits {
    fn default_sessions_per_network() -> u32 {
        60
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            per_session_per_minute: 120,
            per_ip_per_minute: 600,
            sessions_per_network_per_minute: Self::default_sessions_per_network(),
        }
    }
}

/// Privacy by default: nothing is sent before consent (see [`MerchantConfig::telemetry`]).
fn default_telemetry_mode() -> TelemetryMode {
    TelemetryMode::Consent
}

/// Why a stored merchant configuration is unusable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MerchantConfigError {
    #[error("merchant config is not valid JSON of the expected shape: {0}")]
    Malformed(String),
    #[error("plan {kind} has a range whose min exceeds its max in {currency}")]
    InvertedRange { kind: &'static str, currency: Currency },
    #[error("financing term of {months} months at {apr_bps} bps is out of bounds")]
    BadFinancingTerm { months: u8, apr_bps: u32 },
    #[error("plan {0} is configured twice")]
    DuplicatePlan(&'static str),
    #[error("allowed origin {0:?} must be scheme://host[:port] with nothing after it")]
    BadOrigin(String),
    #[error("{field} is empty or too long")]
    BadText { field: &'static str },
    #[error("publishable_key must look like pk_test_… or pk_live_…")]
    BadKey,
    #[error("merchant_id must be m_ followed by lower-case letters, digits or _")]
    BadMerchantId,
    #[error("rate limits must be from 1 to 1000000 requests a minute")]
    BadRateLimit,
    #[error(
        "secret_keys[{index}] must have an id (1-64 of a-z, 0-9, _), a sha256 of 64 lower-case hex digits and at least one scope, once each"
    )]
    BadSecretKey { index: usize },
    #[error(
        "orders: the token life must be 1 s to 1 day, the capture window 1 s to 180 days, the retention 1 to 3650 days"
    )]
    BadOrderPolicy,
    #[error("{0}")]
    BadAnomalyThresholds(&'static str),
    #[error("{problem}")]
    BadScorecard {
        /// The offending field's path, e.g. `scorecard.weights.near_limit`.
        field: &'static str,
        problem: ScorecardError,
    },
}

impl MerchantConfig {
    /// Parses and validates a stored configuration.
    pub fn from_json(text: &str) -> Result<Self, MerchantConfigError> {
        let config: Self = serde_json::from_str(text).map_err(|e| MerchantConfigError::Malformed(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), MerchantConfigError> {
        let id_ok = self.merchant_id.strip_prefix("m_").is_some_and(|rest| {
            !rest.is_empty()
                && rest.len() <= 64
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        });
        if !id_ok {
            return Err(MerchantConfigError::BadMerchantId);
        }
        if !paylater_shared::widget_options::is_publishable_key(&self.publishable_key) {
            return Err(MerchantConfigError::BadKey);
        }
        for (field, text) in [("display_name", &self.display_name), ("lender", &self.lender)] {
            if text.trim().is_empty() || text.chars().count() > 80 {
                return Err(MerchantConfigError::BadText { field });
            }
        }
        if let Some(bad) = self.allowed_origins.iter().find(|o| !is_exact_origin(o)) {
            return Err(MerchantConfigError::BadOrigin(bad.clone()));
        }
        let limits = [
            self.rate_limits.per_session_per_minute,
            self.rate_limits.per_ip_per_minute,
            self.rate_limits.sessions_per_network_per_minute,
        ];
        if limits.iter().any(|l| !(1..=1_000_000).contains(l)) {
            return Err(MerchantConfigError::BadRateLimit);
        }
        self.scorecard
            .validate()
            .map_err(|problem| MerchantConfigError::BadScorecard {
                field: problem.field(),
                problem,
            })?;
        for (index, key) in self.secret_keys.iter().enumerate() {
            let id_ok = !key.id.is_empty()
                && key.id.len() <= 64
                && key
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            let hash_ok = key.sha256.len() == 64
                && key
                    .sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            let scopes_ok =
                !key.scopes.is_empty() && key.scopes.iter().enumerate().all(|(i, s)| !key.scopes[..i].contains(s));
            let unique = !self.secret_keys[..index]
                .iter()
                .any(|other| other.id == key.id || other.sha256 == key.sha256);
            if !(id_ok && hash_ok && scopes_ok && unique) {
                return Err(MerchantConfigError::BadSecretKey { index });
            }
        }
        let policy = self.orders;
        if !(1..=86_400).contains(&policy.approval_token_ttl_seconds)
            || !(1..=180 * 86_400).contains(&policy.capture_window_seconds)
            || !(1..=3650).contains(&policy.customer_retention_days)
        {
            return Err(MerchantConfigError::BadOrderPolicy);
        }
        if let Some(problem) = self.anomalies.problem() {
            return Err(MerchantConfigError::BadAnomalyThresholds(problem));
        }
        let mut seen = Vec::new();
        for plan in &self.plans {
            if seen.contains(&plan.kind) {
                return Err(MerchantConfigError::DuplicatePlan(plan.kind.as_str()));
            }
            seen.push(plan.kind);
            for (currency, range) in &plan.ranges {
                if range.min > range.max {
                    return Err(MerchantConfigError::InvertedRange {
                        kind: plan.kind.as_str(),
                        currency: *currency,
                    });
                }
            }
            for term in &plan.terms {
                if term.months == 0 || term.months > MAX_FINANCING_MONTHS || term.apr_bps > MAX_APR_BPS {
                    return Err(MerchantConfigError::BadFinancingTerm {
                        months: term.months,
                        apr_bps: term.apr_bps,
                    });
                }
            }
        }
        Ok(())
    }

    /// Every currency any plan accepts.
    pub fn currencies(&self) -> Vec<Currency> {
        merchant::currencies(&self.plans)
    }

    /// Every concrete plan (one per financing term) with the config it comes from, in order.
    pub fn all_terms(&self) -> Vec<(PlanTerms, &PlanConfig)> {
        merchant::all_terms(&self.plans)
    }

    /// The concrete plans (one per financing term) whose range holds `amount` in `currency`.
    pub fn eligible_terms(&self, amount: MinorUnits, currency: Currency) -> Vec<PlanTerms> {
        merchant::eligible_terms(&self.plans, amount, currency)
    }

    /// Every eligible plan with its full schedule counted from `start`.
    pub fn offers(
        &self,
        amount: MinorUnits,
        currency: Currency,
        start: CivilDate,
    ) -> Result<Vec<Offer>, ScheduleError> {
        merchant::offers(&self.plans, amount, currency, start)
    }

    /// Live mode: real money. A merchant's test and live configs are separate entries (their
    /// publishable keys differ), and nothing of one mode ever serves the other.
    pub fn livemode(&self) -> bool {
        self.publishable_key.starts_with("pk_live_")
    }

    /// Whether a browser `Origin` may use this merchant's key. Test keys also accept loopback
    /// origins on any port, so local development and tests need no configuration.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|allowed| allowed == origin)
            || (self.publishable_key.starts_with("pk_test_") && is_loopback_origin(origin))
    }
}

/// Splits `scheme://host[:port]` into its parts, if it is an origin as browsers send it:
/// http or https, a lower-case host, an optional port 1–65535, no path, no trailing slash, no
/// credentials.
fn origin_parts(origin: &str) -> Option<(&str, &str, Option<u16>)> {
    let (scheme, rest) = origin.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => {
            let digits_ok = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
            let port = port.parse::<u16>().ok().filter(|p| digits_ok && *p > 0)?;
            (host, Some(port))
        }
        None => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    host_ok.then_some((scheme, host, port))
}

/// An origin as browsers send it: `https://shop.example` or `http://host:8080`.
pub fn is_exact_origin(origin: &str) -> bool {
    origin_parts(origin).is_some()
}

/// `http://127.0.0.1:PORT` or `http://localhost:PORT` exactly (no path, no credentials).
pub fn is_loopback_origin(origin: &str) -> bool {
    matches!(origin_parts(origin), Some(("http", "127.0.0.1" | "localhost", Some(_))))
}

impl From<&MerchantConfig> for PublicMerchantConfig {
    fn from(config: &MerchantConfig) -> Self {
        Self {
            merchant_id: config.merchant_id.clone(),
            display_name: config.display_name.clone(),
            lender: config.lender.clone(),
            currencies: config.currencies(),
            plans: config.plans.clone(),
            late_fees: config.late_fees.clone(),
            telemetry: config.telemetry,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo merchant as seeded into KV: the single source of its figures.
    pub(crate) fn demo() -> MerchantConfig {
        MerchantConfig::from_json(include_str!("../../seed/merchants/pk_test_demo.json")).unwrap()
    }

    #[test]
    fn origins_exact_or_loopback_for_test_keys() {
        let mut demo = demo();
        let cases = [
            ("http://127.0.0.1:8080", true),
            ("http://localhost:3000", true),
            ("http://127.0.0.1", false),
            ("http://127.0.0.1:0", false),
            ("http://127.0.0.1:99999", false),
            ("http://127.0.0.1:80/path", false),
            ("https://127.0.0.1:8080", false),
            ("http://127.0.0.2:8080", false),
            ("http://evil.example:8080", false),
            ("null", false),
        ];
        for (origin, allowed) in cases {
            assert_eq!(demo.allows_origin(origin), allowed, "{origin}");
        }
        demo.publishable_key = "pk_live_demo".into();
        assert!(
            !demo.allows_origin("http://127.0.0.1:3000"),
            "live keys get no loopback pass"
        );
        assert!(demo.allows_origin("http://127.0.0.1:8080"), "listed origins still pass");
        demo.allowed_origins.push("https://shop.example".into());
        assert!(demo.allows_origin("https://shop.example"));
        assert!(!demo.allows_origin("https://shop.example.evil"));
    }

    #[test]
    fn invalid_configs_are_refused() {
        let good: serde_json::Value =
            serde_json::from_str(include_str!("../../seed/merchants/pk_test_demo.json")).unwrap();
        let mut inverted = good.clone();
        inverted["plans"][0]["ranges"]["USD"] = serde_json::json!({ "min": 2, "max": 1 });
        assert!(matches!(
            MerchantConfig::from_json(&inverted.to_string()),
            Err(MerchantConfigError::InvertedRange { .. })
        ));
        let mut bad_term = good.clone();
        bad_term["plans"][2]["terms"][0]["months"] = serde_json::json!(0);
        assert!(matches!(
            MerchantConfig::from_json(&bad_term.to_string()),
            Err(MerchantConfigError::BadFinancingTerm { .. })
        ));
        let mut bad_currency = good.clone();
        bad_currency["plans"][0]["ranges"] = serde_json::json!({ "usd": { "min": 1, "max": 2 } });
        assert!(matches!(
            MerchantConfig::from_json(&bad_currency.to_string()),
            Err(MerchantConfigError::Malformed(_))
        ));
        let mut duplicate = good.clone();
        duplicate["plans"][1]["kind"] = serde_json::json!("pay_in_4");
        assert_eq!(
            MerchantConfig::from_json(&duplicate.to_string()),
            Err(MerchantConfigError::DuplicatePlan("pay_in_4"))
        );
        let edit = |field: &str, value: serde_json::Value| {
            let mut config = good.clone();
            config[field] = value;
            MerchantConfig::from_json(&config.to_string()).map(|_| ())
        };
        let bad_origin = |o: &str| MerchantConfigError::BadOrigin(o.into());
        let cases = [
            (
                "allowed_origins",
                serde_json::json!(["https://shop.example/"]),
                bad_origin("https://shop.example/"),
            ),
            (
                "allowed_origins",
                serde_json::json!(["shop.example"]),
                bad_origin("shop.example"),
            ),
            (
                "allowed_origins",
                serde_json::json!(["https://Shop.example"]),
                bad_origin("https://Shop.example"),
            ),
            (
                "allowed_origins",
                serde_json::json!(["https://a:b@shop.example"]),
                bad_origin("https://a:b@shop.example"),
            ),
            (
                "display_name",
                serde_json::json!("  "),
                MerchantConfigError::BadText { field: "display_name" },
            ),
            (
                "lender",
                serde_json::json!("x".repeat(81)),
                MerchantConfigError::BadText { field: "lender" },
            ),
            (
                "publishable_key",
                serde_json::json!("sk_live_oops"),
                MerchantConfigError::BadKey,
            ),
            (
                "merchant_id",
                serde_json::json!("Nordic"),
                MerchantConfigError::BadMerchantId,
            ),
            (
                "rate_limits",
                serde_json::json!({ "per_session_per_minute": 0, "per_ip_per_minute": 600 }),
                MerchantConfigError::BadRateLimit,
            ),
            (
                "rate_limits",
                serde_json::json!({ "per_session_per_minute": 120, "per_ip_per_minute": 1_000_001 }),
                MerchantConfigError::BadRateLimit,
            ),
        ];
        for (field, value, error) in cases {
            assert_eq!(edit(field, value.clone()), Err(error), "{field} = {value}");
        }
        assert_eq!(
            edit(
                "allowed_origins",
                serde_json::json!(["https://shop.example", "http://localhost:3000"])
            ),
            Ok(())
        );
    }

    #[test]
    fn telemetry_defaults_to_consent() {
        let mut config: serde_json::Value =
            serde_json::from_str(include_str!("../../seed/merchants/pk_test_demo.json")).unwrap();
        config.as_object_mut().unwrap().remove("telemetry");
        assert_eq!(
            MerchantConfig::from_json(&config.to_string()).unwrap().telemetry,
            TelemetryMode::Consent
        );
        assert_eq!(demo().telemetry, TelemetryMode::Always);
    }

    #[test]
    fn scorecard_defaults_when_absent_and_is_validated() {
        // The demo sets only its base limits (the pay-in-4 maxima); the rest is default.
        let demo_card = demo().scorecard;
        assert_eq!(
            demo_card.credit.base_limit.get(&Currency::parse("USD").unwrap()),
            Some(&MinorUnits(150_000))
        );
        assert_eq!(demo_card.weights, Scorecard::default().weights);
        let limits = MerchantConfig::from_json(include_str!("../../seed/merchants/pk_test_limits.json")).unwrap();
        assert_eq!(limits.scorecard, Scorecard::default());
        let good: serde_json::Value =
            serde_json::from_str(include_str!("../../seed/merchants/pk_test_demo.json")).unwrap();
        let with_scorecard = |scorecard: serde_json::Value| {
            let mut config = good.clone();
            config["scorecard"] = scorecard;
            MerchantConfig::from_json(&config.to_string())
        };
        // Fields left out keep their defaults, nested ones too.
        let partial =
            with_scorecard(serde_json::json!({ "approve_at": 650, "weights": { "near_limit": 40 } })).unwrap();
        assert_eq!(partial.scorecard.approve_at, 650);
        assert_eq!(partial.scorecard.weights.near_limit, 40);
        assert_eq!(partial.scorecard.weights.disposable_email, 300);
        assert_eq!(partial.scorecard.review_at, 450);
        match with_scorecard(serde_json::json!({ "weights": { "near_limit": -1 } })) {
            Err(MerchantConfigError::BadScorecard { field, problem }) => {
                assert_eq!(field, "scorecard.weights.near_limit");
                assert_eq!(problem.field(), field);
                assert!(
                    problem.to_string().contains("scorecard.weights.near_limit"),
                    "{problem}"
                );
            }
            other => panic!("expected a bad scorecard, got {other:?}"),
        }
        assert!(matches!(
            with_scorecard(serde_json::json!({ "review_at": 600, "approve_at": 600 })),
            Err(MerchantConfigError::BadScorecard {
                field: "scorecard.review_at",
                ..
            })
        ));
        // A misspelt field is an error, not a silently ignored setting.
        assert!(matches!(
            with_scorecard(serde_json::json!({ "velocity": { "customer_per_dya": 3 } })),
            Err(MerchantConfigError::Malformed(_))
        ));
        assert!(matches!(
            with_scorecard(serde_json::json!({ "credit": { "base_limit": { "USD": 0 } } })),
            Err(MerchantConfigError::BadScorecard {
                field: "scorecard.credit.base_limit",
                ..
            })
        ));
    }

    #[test]
    fn the_public_config_never_carries_the_scorecard() {
        let mut config = demo();
        config.scorecard.disposable_domains.push("burner.example".into());
        config.scorecard.approve_at = 612;
        let public = serde_json::to_value(PublicMerchantConfig::from(&config)).unwrap();
        let object = public.as_object().unwrap();
        assert!(!object.contains_key("scorecard"));
        assert!(!object.contains_key("allowed_origins"));
        let text = public.to_string();
        for secret in [
            "burner.example",
            "612",
            "approve_at",
            "weights",
            "base_limit",
            "velocity",
        ] {
            assert!(!text.contains(secret), "{secret} leaked into {text}");
        }
    }

    #[test]
    fn rate_limits_default_to_the_contract() {
        // The demo shop runs on loopback, where every shopper is one network and one address:
        // it raises the session and the per-IP limits. Without `rate_limits` a merchant gets the
        // contract's defaults.
        assert_eq!(demo().rate_limits.sessions_per_network_per_minute, 600);
        assert_eq!(demo().rate_limits.per_ip_per_minute, 3_000);
        let mut without: serde_json::Value =
            serde_json::from_str(include_str!("../../seed/merchants/pk_test_demo.json")).unwrap();
        without.as_object_mut().unwrap().remove("rate_limits");
        assert_eq!(
            MerchantConfig::from_json(&without.to_string()).unwrap().rate_limits,
            RateLimits {
                per_session_per_minute: 120,
                per_ip_per_minute: 600,
                sessions_per_network_per_minute: 60,
            }
        );
        // Configs written before the session limit existed keep working with its default.
        let older: RateLimits = serde_json::from_str(r#"{"per_session_per_minute":5,"per_ip_per_minute":8}"#).unwrap();
        assert_eq!(older.sessions_per_network_per_minute, 60);
    }
}
