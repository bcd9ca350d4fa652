//! `GET /v1/checkout?session=…&plan=…&locale=…`: the approval form the widget frames (CONTRACT
//! §1, §3). The shopper types their e-mail and date of birth here, on the edge's own origin, and
//! this page sends them to `POST /v1/approvals`; the merchant's page only hears the outcome, by
//! `postMessage` to the session's bound origin (`edge/checkout/checkout.js`).
//!
//! Pure: the query, the session check, the page (HTML rendered here, every dynamic text escaped,
//! no inline script or style) and its headers.

use paylater_shared::CivilDate;
use paylater_shared::catalog::{Locale, MessageId, render};
use paylater_shared::token::{SessionClaims, SessionKeyring, TokenError};

use crate::error::EdgeError;
use crate::merchant::is_exact_origin;
use crate::query::named_values;

/// Longest plan id the page takes (`financing_120` is 13).
pub const MAX_PLAN_ID_CHARS: usize = 40;
/// The page's stylesheet and script, served by Workers static assets (`edge/checkout/`, copied
/// by `cargo xtask build-edge`).
pub const STYLESHEET_PATH: &str = "/v1/checkout/checkout.css";
pub const SCRIPT_PATH: &str = "/v1/checkout/checkout.js";

const PARAMETERS: [&str; 3] = ["session", "plan", "locale"];

/// The countries the form offers (ISO 3166-1 alpha-2) with their names in the catalog: every
/// supported locale's country, so each locale's shopper finds theirs preselected.
pub const COUNTRIES: [(&str, MessageId); 15] = [
    ("US", MessageId::CountryUnitedStates),
    ("GB", MessageId::CountryUnitedKingdom),
    ("DE", MessageId::CountryGermany),
    ("SE", MessageId::CountrySweden),
    ("FR", MessageId::CountryFrance),
    ("JP", MessageId::CountryJapan),
    ("ES", MessageId::CountrySpain),
    ("IT", MessageId::CountryItaly),
    ("NL", MessageId::CountryNetherlands),
    ("PL", MessageId::CountryPoland),
    ("DK", MessageId::CountryDenmark),
    ("NO", MessageId::CountryNorway),
    ("FI", MessageId::CountryFinland),
    ("AU", MessageId::CountryAustralia),
    ("CA", MessageId::CountryCanada),
];

/// A checked query. The token's signature and expiry are [`authorize`]'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutQuery {
    pub session: String,
    pub plan: String,
    /// Any tag resolves (unknown ones fall back like the widget's); absent means en-US.
    pub locale: Locale,
    /// Preselected in the form: the tag's region when the form offers it, else the locale's.
    pub country: &'static str,
}

/// A plan id as the wire spells them: ASCII letters, digits and `_`, 1 to 40 of them. Whether
/// the merchant has the plan is the approval's to say (422 `unknown_plan`).
pub fn is_plan_id(text: &str) -> bool {
    !text.is_empty() && text.len() <= MAX_PLAN_ID_CHARS && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl CheckoutQuery {
    /// Parses already percent-decoded pairs, strictly: unknown or repeated parameters are errors,
    /// an empty value counts as missing.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, EdgeError> {
        let values = named_values(pairs, &PARAMETERS)?;
        let [session, plan, locale] = values.map(|value| value.filter(|v| !v.is_empty()));
        let session = session.ok_or(EdgeError::Missing { field: "session" })?;
        let plan = plan.ok_or(EdgeError::Missing { field: "plan" })?;
        if !is_plan_id(plan) {
            return Err(EdgeError::InvalidPlanId);
        }
        let tag = locale.unwrap_or("");
        let locale = Locale::resolve(tag);
        Ok(Self {
            session: session.to_owned(),
            plan: plan.to_owned(),
            locale,
            country: default_country(tag, locale),
        })
    }
}

/// The region subtag of a BCP 47 tag (`de-AT` → `AT`), upper-cased.
fn region(tag: &str) -> Option<String> {
    tag.split(['-', '_'])
        .skip(1)
        .find(|s| s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()))
        .map(str::to_ascii_uppercase)
}

fn default_country(tag: &str, locale: Locale) -> &'static str {
    let offered = |region: &str| COUNTRIES.iter().map(|(code, _)| *code).find(|code| *code == region);
    region(tag)
        .as_deref()
        .and_then(offered)
        .or_else(|| region(locale.tag()).as_deref().and_then(offered))
        .unwrap_or("US")
}

/// The session behind the page: the `SESSION_KEYS` keyring verifies signature and expiry, as for
/// every other route. No `Origin` check: a framed page is a navigation, which sends none. The
/// bound origin goes into the CSP and the script's `postMessage` target, so it must be an origin
/// (it was one when the session was made; a token that says otherwise is not ours).
pub fn authorize(query: &CheckoutQuery, keyring: &SessionKeyring, now_s: i64) -> Result<SessionClaims, EdgeError> {
    let claims = keyring
        .verify(&query.session, now_s)
        .map_err(EdgeError::InvalidSessionParameter)?;
    if !is_exact_origin(&claims.org) {
        return Err(EdgeError::InvalidSessionParameter(TokenError::Malformed));
    }
    Ok(claims)
}

/// The page's policy: its own script, style and API only; no form posts anywhere (the script
/// sends the form with `fetch`); framed only by the session's origin.
pub fn content_security_policy(bound_origin: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; \
         form-action 'none'; base-uri 'none'; frame-ancestors {bound_origin}"
    )
}

/// The page's headers, on top of the common security headers (but not `X-Frame-Options: DENY`:
/// see [`crate::headers::DENY_FRAMING`]).
pub fn headers(bound_origin: &str) -> Vec<(&'static str, String)> {
    vec![
        ("Content-Type", "text/html; charset=utf-8".to_owned()),
        ("Content-Security-Policy", content_security_policy(bound_origin)),
        // The page carries the session token: never cached, never sent on as a referrer.
        ("Cache-Control", "no-store".to_owned()),
        ("Referrer-Policy", "no-referrer".to_owned()),
    ]
}

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub fn escape_html(text: &str) -> String {
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

/// A catalog text, escaped.
fn text(locale: Locale, message: MessageId, values: &[(&str, &str)]) -> String {
    escape_html(&render(locale, message, values).unwrap_or_default())
}

/// A readable plan name: `pay_in_4` → "Pay in 4", `financing_12` → "Monthly financing · 12
/// months"; an id the catalog does not know is shown as it is.
pub fn plan_name(locale: Locale, plan_id: &str) -> String {
    let plain = |message| render(locale, message, &[]).unwrap_or_default();
    match plan_id {
        "pay_in_4" => plain(MessageId::PlanFamilyPayIn4),
        "pay_in_30" => plain(MessageId::PlanFamilyPayIn30),
        other => match other.strip_prefix("financing_").and_then(|n| n.parse::<u8>().ok()) {
            Some(months) => format!(
                "{} · {}",
                plain(MessageId::PlanFamilyFinancing),
                render(locale, MessageId::FinancingMonths, &[("count", &months.to_string())]).unwrap_or_default()
            ),
            None => other.to_owned(),
        },
    }
}

/// The page. `today` (UTC) bounds the date-of-birth picker, as the approval does.
pub fn page(query: &CheckoutQuery, claims: &SessionClaims, today: CivilDate) -> String {
    let locale = query.locale;
    let t = |message| text(locale, message, &[]);
    let title = text(
        locale,
        MessageId::ApprovalFormTitle,
        &[("plan", &plan_name(locale, &query.plan))],
    );
    let countries: String = COUNTRIES
        .iter()
        .map(|(code, name)| {
            let selected = if *code == query.country { " selected" } else { "" };
            format!("<option value=\"{code}\"{selected}>{}</option>\n", t(*name))
        })
        .collect();
    format!(
        r#"<!doctype html>
<html lang="{lang}" dir="ltr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<link rel="stylesheet" href="{STYLESHEET_PATH}">
<script src="{SCRIPT_PATH}" defer></script>
</head>
<body>
<main id="checkout" class="pl-checkout" data-parent-origin="{origin}" data-session-token="{token}" data-plan="{plan}" data-msg-submitting="{submitting}" data-msg-failed="{failed}" data-msg-email-missing="{email_missing}" data-msg-email-invalid="{email_invalid}" data-msg-dob-missing="{dob_missing}" data-msg-dob-invalid="{dob_invalid}" data-msg-consent-missing="{consent_missing}">
<h1 id="checkout-title" tabindex="-1">{title}</h1>
<p class="pl-note">{data_use}</p>
<div id="error-summary" class="pl-summary" tabindex="-1" aria-labelledby="error-summary-title" hidden>
<h2 id="error-summary-title">{summary}</h2>
<ul id="error-list"></ul>
</div>
<form id="checkout-form" novalidate aria-labelledby="checkout-title">
<div class="pl-field">
<label for="email">{email}</label>
<input id="email" name="email" type="email" autocomplete="email" inputmode="email" autocapitalize="off" spellcheck="false" maxlength="254" required aria-describedby="email-error">
<p id="email-error" class="pl-field-error"></p>
</div>
<div class="pl-field">
<label for="date-of-birth">{date_of_birth}</label>
<input id="date-of-birth" name="date_of_birth" type="date" autocomplete="bday" min="1900-01-01" max="{today}" required aria-describedby="date-of-birth-error">
<p id="date-of-birth-error" class="pl-field-error"></p>
</div>
<div class="pl-field">
<label for="country">{country}</label>
<select id="country" name="country" autocomplete="country" required aria-describedby="country-error">
{countries}</select>
<p id="country-error" class="pl-field-error"></p>
</div>
<div class="pl-field pl-consent">
<input id="consent" name="consent" type="checkbox" required aria-describedby="consent-error">
<label for="consent">{consent}</label>
<p id="consent-error" class="pl-field-error"></p>
</div>
<p id="status" class="pl-status" role="status" aria-live="polite"></p>
<p id="failure" class="pl-failure" role="alert"></p>
<div class="pl-actions">
<button type="submit" id="submit" class="pl-button">{submit}</button>
<button type="button" id="retry" class="pl-button" hidden>{try_again}</button>
<button type="button" id="cancel" class="pl-button pl-secondary">{cancel}</button>
</div>
</form>
</main>
</body>
</html>
"#,
        lang = locale.tag(),
        origin = escape_html(&claims.org),
        token = escape_html(&query.session),
        plan = escape_html(&query.plan),
        submitting = t(MessageId::Submitting),
        failed = t(MessageId::ApprovalFailed),
        email_missing = t(MessageId::CheckoutEmailMissing),
        email_invalid = t(MessageId::CheckoutEmailInvalid),
        dob_missing = t(MessageId::CheckoutDateOfBirthMissing),
        dob_invalid = t(MessageId::CheckoutDateOfBirthInvalid),
        consent_missing = t(MessageId::CheckoutConsentMissing),
        data_use = t(MessageId::CheckoutDataUse),
        summary = t(MessageId::CheckoutErrorSummary),
        email = t(MessageId::CheckoutEmailLabel),
        date_of_birth = t(MessageId::CheckoutDateOfBirthLabel),
        country = t(MessageId::CheckoutCountryLabel),
        consent = t(MessageId::CheckoutConsentLabel),
        submit = t(MessageId::CheckoutSubmit),
        try_again = t(MessageId::TryAgain),
        cancel = t(MessageId::Cancel),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sessions::keyring_from_secret;
    use paylater_shared::{Currency, MinorUnits};

    const NOW: i64 = 1_795_429_845;
    const ORIGIN: &str = "http://127.0.0.1:8080";

    fn keyring() -> SessionKeyring {
        keyring_from_secret("k1:cGF5bGF0ZXItdW5pdC10ZXN0LXNlc3Npb24ta2V5LTAwMQ").unwrap()
    }

    fn claims(org: &str) -> SessionClaims {
        SessionClaims {
            sid: "ses_1".into(),
            mid: "m_nordic_outdoor".into(),
            key: "pk_test_demo".into(),
            org: org.into(),
            amt: MinorUnits(12_999),
            cur: Currency::parse("USD").unwrap(),
            iat: NOW,
            exp: NOW + 1800,
            sd: None,
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn query(locale: &str, plan: &str) -> CheckoutQuery {
        CheckoutQuery::parse(&pairs(&[("session", "v1.k1.x.y"), ("plan", plan), ("locale", locale)])).unwrap()
    }

    fn today() -> CivilDate {
        CivilDate::new(2026, 11, 23).unwrap()
    }

    #[test]
    fn queries_parse_with_locale_fallbacks_and_a_preselected_country() {
        let cases = [
            ("en-US", Locale::EnUs, "US"),
            ("en-GB", Locale::EnGb, "GB"),
            ("de-DE", Locale::DeDe, "DE"),
            ("sv-SE", Locale::SvSe, "SE"),
            ("fr-FR", Locale::FrFr, "FR"),
            ("ja-JP", Locale::JaJp, "JP"),
            ("es-ES", Locale::EsEs, "ES"),
            ("it-IT", Locale::ItIt, "IT"),
            ("nl-NL", Locale::NlNl, "NL"),
            ("pl-PL", Locale::PlPl, "PL"),
            ("da-DK", Locale::DaDk, "DK"),
            ("nb-NO", Locale::NbNo, "NO"),
            ("fi-FI", Locale::FiFi, "FI"),
            ("en-AU", Locale::EnAu, "AU"),
            ("en-CA", Locale::EnCa, "CA"),
            ("fr-CA", Locale::FrCa, "CA"),
            // Same language, a region the form offers: that region.
            ("de-AT", Locale::DeDe, "DE"),
            ("en-SE", Locale::EnUs, "SE"),
            ("fr-BE", Locale::FrFr, "FR"),
            ("nn", Locale::NbNo, "NO"),
            ("sv-FI", Locale::SvSe, "FI"),
            // Unknown or odd tags fall back, never fail.
            ("pt-BR", Locale::EnUs, "US"),
            ("not a tag", Locale::EnUs, "US"),
            ("", Locale::EnUs, "US"),
        ];
        for (tag, locale, country) in cases {
            let parsed = query(tag, "pay_in_4");
            assert_eq!((parsed.locale, parsed.country), (locale, country), "{tag:?}");
        }
        let without_locale = CheckoutQuery::parse(&pairs(&[("plan", "financing_12"), ("session", "t")])).unwrap();
        assert_eq!(
            without_locale,
            CheckoutQuery {
                session: "t".into(),
                plan: "financing_12".into(),
                locale: Locale::EnUs,
                country: "US",
            }
        );
    }

    #[test]
    fn bad_queries_are_refused_with_status_code_and_field() {
        let long_plan = "p".repeat(MAX_PLAN_ID_CHARS + 1);
        let forty = "p".repeat(MAX_PLAN_ID_CHARS);
        assert!(CheckoutQuery::parse(&pairs(&[("session", "t"), ("plan", &forty)])).is_ok());
        type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str, &'a str);
        let cases: Vec<Case> = vec![
            (vec![("plan", "pay_in_4")], 400, "missing_parameter", "session"),
            (
                vec![("session", ""), ("plan", "pay_in_4")],
                400,
                "missing_parameter",
                "session",
            ),
            (vec![("session", "t")], 400, "missing_parameter", "plan"),
            (vec![("session", "t"), ("plan", "")], 400, "missing_parameter", "plan"),
            (
                vec![("session", "t"), ("plan", "pay-in-4")],
                400,
                "invalid_plan",
                "plan",
            ),
            (
                vec![("session", "t"), ("plan", "pay in 4")],
                400,
                "invalid_plan",
                "plan",
            ),
            (
                vec![("session", "t"), ("plan", "<script>")],
                400,
                "invalid_plan",
                "plan",
            ),
            (
                vec![("session", "t"), ("plan", "päy_in_4")],
                400,
                "invalid_plan",
                "plan",
            ),
            (
                vec![("session", "t"), ("plan", &long_plan)],
                400,
                "invalid_plan",
                "plan",
            ),
            (
                vec![("session", "t"), ("plan", "pay_in_4"), ("amount", "1")],
                400,
                "unknown_parameter",
                "amount",
            ),
            (
                vec![("session", "t"), ("session", "u"), ("plan", "pay_in_4")],
                400,
                "repeated_parameter",
                "session",
            ),
        ];
        for (list, status, code, field) in cases {
            let error = CheckoutQuery::parse(&pairs(&list)).unwrap_err();
            assert_eq!(
                (error.status(), error.code(), error.field().as_deref()),
                (status, code, Some(field)),
                "{list:?}"
            );
        }
    }

    #[test]
    fn the_session_token_is_verified_with_the_keyring() {
        let keyring = keyring();
        let with_token = |token: String| CheckoutQuery {
            session: token,
            ..query("en-US", "pay_in_4")
        };
        let good = keyring.sign(&claims(ORIGIN));
        assert_eq!(
            authorize(&with_token(good.clone()), &keyring, NOW + 60).map(|c| c.org),
            Ok(ORIGIN.to_owned())
        );
        let last = if good.ends_with('A') { "B" } else { "A" };
        let forged = format!("{}{last}", &good[..good.len() - 1]);
        let other_keys = keyring_from_secret("k1:b3RoZXItdW5pdC10ZXN0LXNlc3Npb24ta2V5LTAwMDAwMDI").unwrap();
        let cases: Vec<(String, i64, &SessionKeyring, u16, &str)> = vec![
            (good.clone(), NOW + 1800, &keyring, 401, "token_expired"),
            (forged, NOW, &keyring, 401, "invalid_token"),
            ("v1.nope".into(), NOW, &keyring, 401, "invalid_token"),
            (good, NOW, &other_keys, 401, "invalid_token"),
            // Signed, but bound to something that is not an origin: never put into a header.
            (
                keyring.sign(&claims("http://a.example; script-src *")),
                NOW,
                &keyring,
                401,
                "invalid_token",
            ),
            (keyring.sign(&claims("*")), NOW, &keyring, 401, "invalid_token"),
        ];
        for (token, now, keys, status, code) in cases {
            let error = authorize(&with_token(token.clone()), keys, now).unwrap_err();
            assert_eq!(
                (error.status(), error.code(), error.field().as_deref()),
                (status, code, Some("session")),
                "{token}"
            );
        }
    }

    #[test]
    fn the_policy_lets_only_the_bound_origin_frame_the_page() {
        assert_eq!(
            content_security_policy("https://shop.example"),
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; \
             form-action 'none'; base-uri 'none'; frame-ancestors https://shop.example"
        );
        let headers = headers(ORIGIN);
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("Content-Type"), Some("text/html; charset=utf-8"));
        assert_eq!(get("Cache-Control"), Some("no-store"));
        assert_eq!(get("Referrer-Policy"), Some("no-referrer"));
        assert!(
            get("Content-Security-Policy").is_some_and(|csp| csp.ends_with("; frame-ancestors http://127.0.0.1:8080"))
        );
        assert_eq!(get("X-Frame-Options"), None);
    }

    #[test]
    fn escaping() {
        let table = [
            ("", ""),
            ("plain text · ü", "plain text · ü"),
            ("a & b", "a &amp; b"),
            ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
            (r#"" onload="x"#, "&quot; onload=&quot;x"),
            ("it's", "it&#39;s"),
            ("&amp;", "&amp;amp;"),
            (
                "Vos informations pour Payer en 4 fois",
                "Vos informations pour Payer en 4 fois",
            ),
        ];
        for (raw, escaped) in table {
            assert_eq!(escape_html(raw), escaped, "{raw:?}");
        }
    }

    #[test]
    fn plan_names_are_readable_in_each_locale() {
        let cases = [
            (Locale::EnUs, "pay_in_4", "Pay in 4"),
            (Locale::DeDe, "pay_in_30", "In 30 Tagen bezahlen"),
            (Locale::SvSe, "financing_12", "Månadsbetalning · 12 månader"),
            (Locale::FrFr, "financing_6", "Financement mensuel · 6 mois"),
            (Locale::JaJp, "pay_in_4", "4回払い"),
            (Locale::EsEs, "pay_in_30", "Paga en 30 días"),
            (Locale::ItIt, "financing_12", "Finanziamento mensile · 12 mesi"),
            (Locale::NlNl, "pay_in_4", "Betaal in 4 termijnen"),
            (Locale::PlPl, "financing_24", "Raty miesięczne · 24 mies."),
            (Locale::DaDk, "financing_6", "Månedlig finansiering · 6 måneder"),
            (Locale::NbNo, "pay_in_30", "Betal om 30 dager"),
            (Locale::FiFi, "financing_12", "Kuukausittainen rahoitus · 12 kuukautta"),
            (Locale::EnAu, "pay_in_4", "Pay in 4"),
            (Locale::EnCa, "financing_6", "Monthly financing · 6 months"),
            (Locale::FrCa, "pay_in_4", "Payer en 4 versements"),
            (Locale::EnGb, "financing_x", "financing_x"),
            (Locale::EnUs, "layaway", "layaway"),
        ];
        for (locale, id, name) in cases {
            assert_eq!(plan_name(locale, id), name, "{id} in {}", locale.tag());
        }
    }

    /// Every `<tag …>` opening of `name` in `html`.
    fn openings<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
        let needle = format!("<{name}");
        html.match_indices(&needle)
            .filter_map(|(at, _)| html[at..].find('>').map(|end| &html[at..=at + end]))
            .collect()
    }

    #[test]
    fn the_page_is_localized_and_carries_what_the_script_needs() {
        let cases = [
            (
                "de-DE",
                "de-DE",
                "DE",
                [
                    "Ihre Angaben für In 4 Raten",
                    "E-Mail-Adresse",
                    "Geburtsdatum",
                    "Wohnsitzland",
                    "Ich akzeptiere die Bedingungen für Später bezahlen.",
                    "Wir verwenden diese Angaben nur, um über diese Anfrage zu entscheiden.",
                    "Anfrage senden",
                    "Abbrechen",
                ],
            ),
            (
                "sv-SE",
                "sv-SE",
                "SE",
                [
                    "Dina uppgifter för Dela upp på 4",
                    "E-postadress",
                    "Födelsedatum",
                    "Bosättningsland",
                    "Jag godkänner villkoren för betala senare.",
                    "Vi använder uppgifterna bara för att besluta om den här förfrågan.",
                    "Skicka förfrågan",
                    "Avbryt",
                ],
            ),
        ];
        for (tag, lang, country, texts) in cases {
            let token = keyring().sign(&claims(ORIGIN));
            let query = CheckoutQuery {
                session: token.clone(),
                ..query(tag, "pay_in_4")
            };
            let html = page(&query, &claims(ORIGIN), today());
            assert!(html.starts_with("<!doctype html>\n"), "{tag}");
            assert!(html.contains(&format!("<html lang=\"{lang}\"")), "{tag}");
            for text in texts {
                assert!(html.contains(text), "{tag}: {text} is missing");
            }
            for attribute in [
                format!("data-parent-origin=\"{ORIGIN}\""),
                format!("data-session-token=\"{token}\""),
                "data-plan=\"pay_in_4\"".to_owned(),
                format!("<option value=\"{country}\" selected>"),
                "max=\"2026-11-23\"".to_owned(),
            ] {
                assert!(html.contains(&attribute), "{tag}: {attribute} is missing");
            }
            assert_eq!(html.matches(" selected>").count(), 1, "{tag}: one country preselected");
            // Strict CSP: no inline style or script, and nothing the policy would block.
            assert!(!html.contains("style="), "{tag}");
            assert!(!html.contains("<style"), "{tag}");
            let scripts = openings(&html, "script");
            assert_eq!(scripts, [r#"<script src="/v1/checkout/checkout.js" defer>"#], "{tag}");
            assert!(html.contains(r#"<link rel="stylesheet" href="/v1/checkout/checkout.css">"#));
            let handlers: Vec<&str> = html
                .split('<')
                .filter_map(|tag| tag.split('>').next())
                .filter(|tag| {
                    tag.split_whitespace()
                        .skip(1)
                        .any(|attribute| attribute.starts_with("on"))
                })
                .collect();
            assert_eq!(handlers, Vec::<&str>::new(), "{tag}: no inline event handlers");
            // The form is sent by the script, never by the browser.
            assert_eq!(
                openings(&html, "form"),
                [r#"<form id="checkout-form" novalidate aria-labelledby="checkout-title">"#]
            );
            // Every input is labelled and points at its error slot.
            for input in openings(&html, "input").into_iter().chain(openings(&html, "select")) {
                let id = input
                    .split("id=\"")
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .unwrap();
                assert!(
                    html.contains(&format!("<label for=\"{id}\">")),
                    "{tag}: {id} has no label"
                );
                assert!(input.contains(&format!("aria-describedby=\"{id}-error\"")), "{input}");
                assert!(
                    html.contains(&format!("<p id=\"{id}-error\" class=\"pl-field-error\"></p>")),
                    "{id}"
                );
            }
            assert!(html.contains(r#"role="status" aria-live="polite""#));
        }
    }

    #[test]
    fn every_locale_gets_its_own_page_and_country() {
        // The form's title (`Your details for …` with the plan's name) and submit button, in
        // each locale, with that locale's country preselected.
        let cases = [
            ("en-US", "US", "Your details for Pay in 4", "Send request"),
            ("en-GB", "GB", "Your details for Pay in 4", "Send request"),
            ("de-DE", "DE", "Ihre Angaben für In 4 Raten", "Anfrage senden"),
            ("sv-SE", "SE", "Dina uppgifter för Dela upp på 4", "Skicka förfrågan"),
            (
                "fr-FR",
                "FR",
                "Vos informations pour Payer en 4 fois",
                "Envoyer la demande",
            ),
            ("ja-JP", "JP", "4回払いのお客様情報", "申し込む"),
            ("es-ES", "ES", "Tus datos para Paga en 4 plazos", "Enviar solicitud"),
            ("it-IT", "IT", "I tuoi dati per Paga in 4 rate", "Invia richiesta"),
            (
                "nl-NL",
                "NL",
                "Je gegevens voor Betaal in 4 termijnen",
                "Aanvraag versturen",
            ),
            ("pl-PL", "PL", "Twoje dane: Zapłać w 4 ratach", "Wyślij wniosek"),
            ("da-DK", "DK", "Dine oplysninger til Betal i 4 rater", "Send anmodning"),
            (
                "nb-NO",
                "NO",
                "Dine opplysninger for Betal i 4 avdrag",
                "Send forespørsel",
            ),
            ("fi-FI", "FI", "Tietosi: Maksa 4 erässä", "Lähetä pyyntö"),
            ("en-AU", "AU", "Your details for Pay in 4", "Send request"),
            ("en-CA", "CA", "Your details for Pay in 4", "Send request"),
            (
                "fr-CA",
                "CA",
                "Vos renseignements pour Payer en 4 versements",
                "Envoyer la demande",
            ),
        ];
        assert_eq!(cases.len(), Locale::ALL.len());
        for (tag, country, title, submit) in cases {
            let html = page(&query(tag, "pay_in_4"), &claims(ORIGIN), today());
            assert!(html.contains(&format!("<html lang=\"{tag}\"")), "{tag}");
            assert!(html.contains(&format!("<title>{title}</title>")), "{tag}: {title}");
            assert!(html.contains(&format!(">{submit}</button>")), "{tag}: {submit}");
            assert!(
                html.contains(&format!("<option value=\"{country}\" selected>")),
                "{tag}"
            );
            assert_eq!(html.matches("<option ").count(), COUNTRIES.len(), "{tag}");
            assert_eq!(html.matches(" selected>").count(), 1, "{tag}");
        }
        // Quebec French writes "courriel"; France "e-mail".
        let quebec = page(&query("fr-CA", "pay_in_4"), &claims(ORIGIN), today());
        assert!(quebec.contains("<label for=\"email\">Adresse courriel</label>"));
        let france = page(&query("fr-FR", "pay_in_4"), &claims(ORIGIN), today());
        assert!(france.contains("<label for=\"email\">Adresse e-mail</label>"));
    }

    #[test]
    fn the_page_escapes_what_it_is_given() {
        let mut hostile = claims("https://shop.example\"><script>x</script>");
        hostile.org.push('\'');
        let query = CheckoutQuery {
            session: "a\"b<c>&d".into(),
            ..query("en-US", "pay_in_4")
        };
        let html = page(&query, &hostile, today());
        assert!(html.contains(r#"data-session-token="a&quot;b&lt;c&gt;&amp;d""#));
        assert!(
            html.contains("data-parent-origin=\"https://shop.example&quot;&gt;&lt;script&gt;x&lt;/script&gt;&#39;\"")
        );
        assert_eq!(openings(&html, "script").len(), 1);
    }
}
