//! The message catalog: every text the widget shows and every reason code's plain-language
//! message, in each supported locale, with `{placeholders}` filled from data the caller has
//! already formatted for the locale (numbers and dates are `Intl`'s job in the browser).
//!
//! The texts live in two tables, each listed locale by locale: the card's ([`CardMessage`], what
//! the card shows at first paint) and the rest (the dialog's, the checkout page's, the reasons).
//! The card calls [`render_card`] only, so its bundle, which has a size budget, links the first
//! table and none of the second.

use thiserror::Error;

/// Supported locales. Others fall back by language (and, for English and French, region), then
/// to US English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Locale {
    EnUs,
    EnGb,
    DeDe,
    SvSe,
    FrFr,
    JaJp,
    EsEs,
    ItIt,
    NlNl,
    PlPl,
    DaDk,
    NbNo,
    FiFi,
    EnAu,
    EnCa,
    FrCa,
}

impl Locale {
    pub const ALL: [Locale; 16] = [
        Self::EnUs,
        Self::EnGb,
        Self::DeDe,
        Self::SvSe,
        Self::FrFr,
        Self::JaJp,
        Self::EsEs,
        Self::ItIt,
        Self::NlNl,
        Self::PlPl,
        Self::DaDk,
        Self::NbNo,
        Self::FiFi,
        Self::EnAu,
        Self::EnCa,
        Self::FrCa,
    ];

    pub fn tag(self) -> &'static str {
        match self {
            Self::EnUs => "en-US",
            Self::EnGb => "en-GB",
            Self::DeDe => "de-DE",
            Self::SvSe => "sv-SE",
            Self::FrFr => "fr-FR",
            Self::JaJp => "ja-JP",
            Self::EsEs => "es-ES",
            Self::ItIt => "it-IT",
            Self::NlNl => "nl-NL",
            Self::PlPl => "pl-PL",
            Self::DaDk => "da-DK",
            Self::NbNo => "nb-NO",
            Self::FiFi => "fi-FI",
            Self::EnAu => "en-AU",
            Self::EnCa => "en-CA",
            Self::FrCa => "fr-CA",
        }
    }

    /// Best match for a BCP 47 tag (any case, `-` or `_`): by language and, for English and
    /// French, region; then en-US. Every supported tag resolves to itself.
    pub fn resolve(tag: &str) -> Self {
        let mut subtags = tag.split(['-', '_']);
        let language = subtags.next().unwrap_or("");
        // The region is the first two-letter subtag after the language (a script such as `Latn`
        // has four).
        let region = subtags
            .find(|s| s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()))
            .unwrap_or("");
        let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        // Tables, not a `match` on strings: the card's bundle carries this and stays smaller so.
        let regional = REGIONAL.iter().find(|(l, r, _)| is(l, language) && is(r, region));
        match regional {
            Some(&(_, _, locale)) => locale,
            None => LANGUAGES
                .iter()
                .find(|(l, _)| is(l, language))
                .map_or(Self::EnUs, |&(_, locale)| locale),
        }
    }

    /// Whether EU consumer-credit rules apply to promotions shown in this locale (the warning
    /// that borrowing costs money, representative examples). Norway applies them as an EEA
    /// state.
    pub fn is_eu(self) -> bool {
        matches!(
            self,
            Self::DeDe
                | Self::SvSe
                | Self::FrFr
                | Self::EsEs
                | Self::ItIt
                | Self::NlNl
                | Self::PlPl
                | Self::DaDk
                | Self::NbNo
                | Self::FiFi
        )
    }
}

/// Languages with a locale of their own, whatever the region. Norwegian in any written form
/// reads Bokmål.
static LANGUAGES: [(&str, Locale); 14] = [
    ("en", Locale::EnUs),
    ("de", Locale::DeDe),
    ("sv", Locale::SvSe),
    ("fr", Locale::FrFr),
    ("ja", Locale::JaJp),
    ("es", Locale::EsEs),
    ("it", Locale::ItIt),
    ("nl", Locale::NlNl),
    ("pl", Locale::PlPl),
    ("da", Locale::DaDk),
    ("nb", Locale::NbNo),
    ("no", Locale::NbNo),
    ("nn", Locale::NbNo),
    ("fi", Locale::FiFi),
];

/// Language and region pairs that read another locale than the language's own. New Zealand pays
/// "fortnightly" as Australia does; other Commonwealth English reads en-GB conventions better
/// than US ones.
static REGIONAL: [(&str, &str, Locale); 9] = [
    ("en", "gb", Locale::EnGb),
    ("en", "uk", Locale::EnGb),
    ("en", "ie", Locale::EnGb),
    ("en", "za", Locale::EnGb),
    ("en", "in", Locale::EnGb),
    ("en", "au", Locale::EnAu),
    ("en", "nz", Locale::EnAu),
    ("en", "ca", Locale::EnCa),
    ("fr", "ca", Locale::FrCa),
];

/// Declares [`MessageId`] (every message) with its two parts, [`CardMessage`] (the card's, at
/// first paint) and `OtherMessage` (the rest), from one list, so the three always agree.
macro_rules! messages {
    (card: [$($card:ident,)*] other: [$($other:ident,)*]) => {
        /// Every message the product shows.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum MessageId {
            $($card,)*
            $($other,)*
        }

        /// The messages the card shows at first paint, in their own table ([`card_template`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum CardMessage {
            $($card,)*
        }

        /// Every message the card does not show: the dialog's, the checkout page's, the reasons.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        enum OtherMessage {
            $($other,)*
        }

        impl MessageId {
            pub const ALL: &'static [MessageId] = &[$(Self::$card,)* $(Self::$other,)*];

            /// Which table holds the message.
            fn table(self) -> Result<CardMessage, OtherMessage> {
                match self {
                    $(Self::$card => Ok(CardMessage::$card),)*
                    $(Self::$other => Err(OtherMessage::$other),)*
                }
            }
        }

        impl CardMessage {
            pub const ALL: &'static [CardMessage] = &[$(Self::$card,)*];
        }

        impl From<CardMessage> for MessageId {
            fn from(message: CardMessage) -> Self {
                match message {
                    $(CardMessage::$card => Self::$card,)*
                }
            }
        }
    };
}

messages! {
    card: [
        Headline,
        PlanFamilyPayIn4,
        PlanFamilyPayIn30,
        PlanFamilyFinancing,
        FinancingMonths,
        Loading,
        ServiceUnavailable,
        OffersUnavailable,
        AmountUnavailable,
        UnavailableBelowMinimum,
        UnavailableAboveMaximum,
        UnavailableCurrency,
        // The one line next to an installment amount. `{count}` is how many payments are of
        // `{installment}`; where the schedule's payments are not all equal, the message names
        // the one that differs (`{first}` or `{last}`), so it never states an amount that is not
        // charged.
        SummaryPayIn4,
        SummaryPayIn4FirstDiffers,
        SummaryPayIn30,
        SummaryFinancing,
        SummaryFinancingLastDiffers,
        AprLabel,
        TotalPayableLabel,
        OtherPlans,
        LearnMore,
        TryAgain,
        ApprovedTitle,
        ApprovedFirstPayment,
        DeclinedTitle,
        ReviewTitle,
    ]
    other: [
        SeeOptions,
        InstallmentRow,
        TermsTitle,
        ChoosePlan,
        ContinueWithPlan,
        Close,
        Cancel,
        ScheduleHeading,
        TotalInterestLabel,
        ApprovalFormTitle,
        Submitting,
        ApprovalFailed,
        PlanSelected,
        BorrowingWarning,
        RepresentativeExample,
        NoLateFees,
        LateFee,
        Lender,
        HumanReview,
        ReasonAmountOutOfRange,
        ReasonUnderAge,
        ReasonCreditLimit,
        ReasonTooManyAttempts,
        ReasonNeedsReview,
        ReasonDisposableEmail,
        ReasonAutomatedSession,
        ReasonAmountChanged,
        ReasonDecisionServiceUnavailable,
        // The checkout page (`GET /v1/checkout`): the approval form the widget frames.
        CheckoutEmailLabel,
        CheckoutDateOfBirthLabel,
        CheckoutCountryLabel,
        CountryUnitedStates,
        CountryUnitedKingdom,
        CountryGermany,
        CountrySweden,
        CountryFrance,
        CountryJapan,
        CountrySpain,
        CountryItaly,
        CountryNetherlands,
        CountryPoland,
        CountryDenmark,
        CountryNorway,
        CountryFinland,
        CountryAustralia,
        CountryCanada,
        CheckoutConsentLabel,
        CheckoutDataUse,
        CheckoutSubmit,
        CheckoutErrorSummary,
        CheckoutEmailMissing,
        CheckoutEmailInvalid,
        CheckoutDateOfBirthMissing,
        CheckoutDateOfBirthInvalid,
        CheckoutConsentMissing,
    ]
}

impl MessageId {
    /// The stable reason code a message explains, for reason messages.
    pub fn reason_code(self) -> Option<&'static str> {
        match self {
            Self::ReasonAmountOutOfRange => Some("amount_out_of_range"),
            Self::ReasonUnderAge => Some("under_age"),
            Self::ReasonCreditLimit => Some("credit_limit"),
            Self::ReasonTooManyAttempts => Some("too_many_attempts"),
            Self::ReasonNeedsReview => Some("needs_review"),
            Self::ReasonDisposableEmail => Some("disposable_email"),
            Self::ReasonAutomatedSession => Some("automated_session"),
            Self::ReasonAmountChanged => Some("amount_changed"),
            Self::ReasonDecisionServiceUnavailable => Some("decision_service_unavailable"),
            _ => None,
        }
    }

    /// The message explaining a reason code.
    pub fn for_reason(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|m| m.reason_code() == Some(code))
    }
}

/// Why a message could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CatalogError {
    #[error("message {message:?} needs a value for {{{placeholder}}}")]
    MissingValue { message: MessageId, placeholder: String },
}

/// The raw template of a message in a locale.
pub fn template(locale: Locale, message: MessageId) -> &'static str {
    match message.table() {
        Ok(card) => card_template(locale, card),
        Err(other) => nth(other_texts(locale), other as usize),
    }
}

/// The raw template of a message the card shows.
pub fn card_template(locale: Locale, message: CardMessage) -> &'static str {
    nth(card_texts(locale), message as usize)
}

/// Ends each text in a locale's table (`texts!` writes it; no text contains it, the tests check).
const END: u8 = 0x1f;

/// The `index`th text of a locale's table.
fn nth(texts: &'static str, index: usize) -> &'static str {
    let mut start = 0;
    let mut n = 0;
    for (at, byte) in texts.bytes().enumerate() {
        if byte == END {
            if n == index {
                // END is ASCII, so both ends are character boundaries.
                return texts.get(start..at).unwrap_or_default();
            }
            n += 1;
            start = at + 1;
        }
    }
    ""
}

/// Declares a table's texts, one list per locale (or locales that read the same) in the order of
/// the table's message enum: `$texts(locale)` is that locale's texts in one string, each ended by
/// [`END`]. One string per locale rather than a `match` arm per text keeps the card's bundle
/// small (no code and no pointer table per text, only the text); `$listed` gives the tests each
/// list's names, which they check against the enum, so no text can land on another message.
macro_rules! texts {
    ($texts:ident, $listed:ident: $($($locale:ident)|+ => [$($name:ident: $text:literal,)*],)*) => {
        fn $texts(locale: Locale) -> &'static str {
            match locale {
                $($(Locale::$locale)|+ => concat!($($text, '\u{1f}',)*),)*
            }
        }

        /// Each list's locales and message names, in order.
        #[cfg(test)]
        fn $listed() -> Vec<(Vec<Locale>, Vec<&'static str>)> {
            vec![$((vec![$(Locale::$locale),+], vec![$(stringify!($name)),*]),)*]
        }
    };
}

texts! {
    card_texts, card_listed:
    EnUs | EnGb | EnCa => [
        Headline: "Pay later with {merchant}",
        PlanFamilyPayIn4: "Pay in 4",
        PlanFamilyPayIn30: "Pay in 30 days",
        PlanFamilyFinancing: "Monthly financing",
        FinancingMonths: "{count} months",
        Loading: "Loading payment options…",
        ServiceUnavailable: "Pay later is unavailable right now.",
        OffersUnavailable: "Payment options could not be loaded.",
        AmountUnavailable: "Pay later with {merchant} isn't available for {amount}.",
        UnavailableBelowMinimum: "Plans start at {min}.",
        UnavailableAboveMaximum: "Plans go up to {max}.",
        UnavailableCurrency: "{merchant} doesn't offer pay later in {currency}.",
        SummaryPayIn4: "4 payments of {installment} every 2 weeks · {apr} APR · Total {total}",
        SummaryPayIn4FirstDiffers: "{first} today, then 3 × {installment} every 2 weeks · {apr} APR · Total {total}",
        SummaryPayIn30: "Pay {installment} in 30 days · {apr} APR · Total {total}",
        SummaryFinancing: "{count} monthly payments of {installment} · {apr} APR · Total {total}",
        SummaryFinancingLastDiffers: "{count} × {installment} monthly, then a final {last} · {apr} APR · Total {total}",
        AprLabel: "APR: {apr}",
        TotalPayableLabel: "Total payable: {total}",
        OtherPlans: "Also: {plans}",
        LearnMore: "Learn more",
        TryAgain: "Try again",
        ApprovedTitle: "You're approved",
        ApprovedFirstPayment: "First payment {amount} on {date}.",
        DeclinedTitle: "We couldn't approve this purchase",
        ReviewTitle: "Your request is being reviewed",
    ],
    DeDe => [
        Headline: "Später bezahlen bei {merchant}",
        PlanFamilyPayIn4: "In 4 Raten",
        PlanFamilyPayIn30: "In 30 Tagen bezahlen",
        PlanFamilyFinancing: "Monatliche Finanzierung",
        FinancingMonths: "{count} Monate",
        Loading: "Zahlungsoptionen werden geladen …",
        ServiceUnavailable: "Später bezahlen ist gerade nicht verfügbar.",
        OffersUnavailable: "Die Zahlungsoptionen konnten nicht geladen werden.",
        AmountUnavailable: "Später bezahlen bei {merchant} ist für {amount} nicht verfügbar.",
        UnavailableBelowMinimum: "Pläne gibt es ab {min}.",
        UnavailableAboveMaximum: "Pläne gibt es bis {max}.",
        UnavailableCurrency: "{merchant} bietet Später bezahlen nicht in {currency} an.",
        SummaryPayIn4: "4 Raten à {installment} alle 2 Wochen · eff. Jahreszins {apr} · Gesamtbetrag {total}",
        SummaryPayIn4FirstDiffers: "{first} heute, dann 3 × {installment} alle 2 Wochen · eff. Jahreszins {apr} · Gesamtbetrag {total}",
        SummaryPayIn30: "{installment} in 30 Tagen · eff. Jahreszins {apr} · Gesamtbetrag {total}",
        SummaryFinancing: "{count} Monatsraten à {installment} · eff. Jahreszins {apr} · Gesamtbetrag {total}",
        SummaryFinancingLastDiffers: "{count} × {installment} monatlich, Schlussrate {last} · eff. Jahreszins {apr} · Gesamtbetrag {total}",
        AprLabel: "Effektiver Jahreszins: {apr}",
        TotalPayableLabel: "Gesamtbetrag: {total}",
        OtherPlans: "Außerdem: {plans}",
        LearnMore: "Mehr erfahren",
        TryAgain: "Erneut versuchen",
        ApprovedTitle: "Ihr Kauf ist genehmigt",
        ApprovedFirstPayment: "Erste Rate {amount} am {date}.",
        DeclinedTitle: "Wir konnten diesen Kauf nicht genehmigen",
        ReviewTitle: "Ihre Anfrage wird geprüft",
    ],
    SvSe => [
        Headline: "Betala senare hos {merchant}",
        PlanFamilyPayIn4: "Dela upp på 4",
        PlanFamilyPayIn30: "Betala om 30 dagar",
        PlanFamilyFinancing: "Månadsbetalning",
        FinancingMonths: "{count} månader",
        Loading: "Laddar betalningsalternativ …",
        ServiceUnavailable: "Betala senare är inte tillgängligt just nu.",
        OffersUnavailable: "Betalningsalternativen kunde inte laddas.",
        AmountUnavailable: "Betala senare hos {merchant} är inte tillgängligt för {amount}.",
        UnavailableBelowMinimum: "Planerna börjar på {min}.",
        UnavailableAboveMaximum: "Planerna gäller upp till {max}.",
        UnavailableCurrency: "{merchant} erbjuder inte betala senare i {currency}.",
        SummaryPayIn4: "4 betalningar à {installment} varannan vecka · effektiv ränta {apr} · totalt {total}",
        SummaryPayIn4FirstDiffers: "{first} i dag, sedan 3 × {installment} varannan vecka · effektiv ränta {apr} · totalt {total}",
        SummaryPayIn30: "Betala {installment} om 30 dagar · effektiv ränta {apr} · totalt {total}",
        SummaryFinancing: "{count} månadsbetalningar à {installment} · effektiv ränta {apr} · totalt {total}",
        SummaryFinancingLastDiffers: "{count} × {installment} per månad, sista betalningen {last} · effektiv ränta {apr} · totalt {total}",
        AprLabel: "Effektiv ränta: {apr}",
        TotalPayableLabel: "Totalt att betala: {total}",
        OtherPlans: "Även: {plans}",
        LearnMore: "Läs mer",
        TryAgain: "Försök igen",
        ApprovedTitle: "Köpet är godkänt",
        ApprovedFirstPayment: "Första betalningen {amount} den {date}.",
        DeclinedTitle: "Vi kunde inte godkänna köpet",
        ReviewTitle: "Din förfrågan granskas",
    ],
    FrFr => [
        Headline: "Payer plus tard chez {merchant}",
        PlanFamilyPayIn4: "Payer en 4 fois",
        PlanFamilyPayIn30: "Payer sous 30 jours",
        PlanFamilyFinancing: "Financement mensuel",
        FinancingMonths: "{count} mois",
        Loading: "Chargement des options de paiement…",
        ServiceUnavailable: "Le paiement différé est indisponible pour le moment.",
        OffersUnavailable: "Les options de paiement n’ont pas pu être chargées.",
        AmountUnavailable: "Le paiement différé chez {merchant} n’est pas disponible pour {amount}.",
        UnavailableBelowMinimum: "Les offres commencent à {min}.",
        UnavailableAboveMaximum: "Les offres vont jusqu’à {max}.",
        UnavailableCurrency: "{merchant} ne propose pas le paiement différé en {currency}.",
        SummaryPayIn4: "4 paiements de {installment} toutes les 2 semaines · TAEG {apr} · total {total}",
        SummaryPayIn4FirstDiffers: "{first} aujourd’hui, puis 3 × {installment} toutes les 2 semaines · TAEG {apr} · total {total}",
        SummaryPayIn30: "Payez {installment} sous 30 jours · TAEG {apr} · total {total}",
        SummaryFinancing: "{count} mensualités de {installment} · TAEG {apr} · total {total}",
        SummaryFinancingLastDiffers: "{count} × {installment} par mois, dernière échéance {last} · TAEG {apr} · total {total}",
        AprLabel: "TAEG : {apr}",
        TotalPayableLabel: "Montant total dû : {total}",
        OtherPlans: "Aussi : {plans}",
        LearnMore: "En savoir plus",
        TryAgain: "Réessayer",
        ApprovedTitle: "Votre demande est acceptée",
        ApprovedFirstPayment: "Premier paiement de {amount} le {date}.",
        DeclinedTitle: "Nous n’avons pas pu accepter cet achat",
        ReviewTitle: "Votre demande est en cours d’examen",
    ],
    JaJp => [
        Headline: "{merchant}であと払い",
        PlanFamilyPayIn4: "4回払い",
        PlanFamilyPayIn30: "30日後払い",
        PlanFamilyFinancing: "月々の分割払い",
        FinancingMonths: "{count}か月",
        Loading: "お支払い方法を読み込んでいます…",
        ServiceUnavailable: "現在、あと払いはご利用いただけません。",
        OffersUnavailable: "お支払い方法を読み込めませんでした。",
        AmountUnavailable: "{merchant}のあと払いは{amount}のお支払いにはご利用いただけません。",
        UnavailableBelowMinimum: "{min}からご利用いただけます。",
        UnavailableAboveMaximum: "ご利用は{max}までです。",
        UnavailableCurrency: "{merchant}では{currency}でのあと払いをご利用いただけません。",
        SummaryPayIn4: "2週間ごとに{installment}×4回・実質年率{apr}・支払総額{total}",
        SummaryPayIn4FirstDiffers: "本日{first}、以降2週間ごとに{installment}×3回・実質年率{apr}・支払総額{total}",
        SummaryPayIn30: "30日後に{installment}をお支払い・実質年率{apr}・支払総額{total}",
        SummaryFinancing: "毎月{installment}×{count}回・実質年率{apr}・支払総額{total}",
        SummaryFinancingLastDiffers: "毎月{installment}×{count}回、最終回{last}・実質年率{apr}・支払総額{total}",
        AprLabel: "実質年率：{apr}",
        TotalPayableLabel: "支払総額：{total}",
        OtherPlans: "その他のプラン：{plans}",
        LearnMore: "詳細を見る",
        TryAgain: "もう一度試す",
        ApprovedTitle: "承認されました",
        ApprovedFirstPayment: "初回のお支払いは{date}、{amount}です。",
        DeclinedTitle: "今回のご購入は承認できませんでした",
        ReviewTitle: "お申し込みを審査しています",
    ],
    EsEs => [
        Headline: "Paga más tarde con {merchant}",
        PlanFamilyPayIn4: "Paga en 4 plazos",
        PlanFamilyPayIn30: "Paga en 30 días",
        PlanFamilyFinancing: "Financiación mensual",
        FinancingMonths: "{count} meses",
        Loading: "Cargando opciones de pago…",
        ServiceUnavailable: "El pago aplazado no está disponible en este momento.",
        OffersUnavailable: "No se han podido cargar las opciones de pago.",
        AmountUnavailable: "El pago aplazado con {merchant} no está disponible para {amount}.",
        UnavailableBelowMinimum: "Hay planes a partir de {min}.",
        UnavailableAboveMaximum: "Hay planes hasta {max}.",
        UnavailableCurrency: "{merchant} no ofrece pago aplazado en {currency}.",
        SummaryPayIn4: "4 pagos de {installment} cada 2 semanas · TAE {apr} · total {total}",
        SummaryPayIn4FirstDiffers: "{first} hoy, después 3 × {installment} cada 2 semanas · TAE {apr} · total {total}",
        SummaryPayIn30: "Paga {installment} en 30 días · TAE {apr} · total {total}",
        SummaryFinancing: "{count} cuotas mensuales de {installment} · TAE {apr} · total {total}",
        SummaryFinancingLastDiffers: "{count} × {installment} al mes, última cuota de {last} · TAE {apr} · total {total}",
        AprLabel: "TAE: {apr}",
        TotalPayableLabel: "Importe total adeudado: {total}",
        OtherPlans: "También: {plans}",
        LearnMore: "Más información",
        TryAgain: "Volver a intentarlo",
        ApprovedTitle: "Tu compra está aprobada",
        ApprovedFirstPayment: "Primer pago de {amount} el {date}.",
        DeclinedTitle: "No hemos podido aprobar esta compra",
        ReviewTitle: "Estamos revisando tu solicitud",
    ],
    ItIt => [
        Headline: "Paga dopo con {merchant}",
        PlanFamilyPayIn4: "Paga in 4 rate",
        PlanFamilyPayIn30: "Paga tra 30 giorni",
        PlanFamilyFinancing: "Finanziamento mensile",
        FinancingMonths: "{count} mesi",
        Loading: "Caricamento delle opzioni di pagamento…",
        ServiceUnavailable: "Il pagamento posticipato non è disponibile al momento.",
        OffersUnavailable: "Non è stato possibile caricare le opzioni di pagamento.",
        AmountUnavailable: "Il pagamento posticipato con {merchant} non è disponibile per {amount}.",
        UnavailableBelowMinimum: "I piani partono da {min}.",
        UnavailableAboveMaximum: "I piani arrivano fino a {max}.",
        UnavailableCurrency: "{merchant} non offre il pagamento posticipato in {currency}.",
        SummaryPayIn4: "4 rate da {installment} ogni 2 settimane · TAEG {apr} · totale {total}",
        SummaryPayIn4FirstDiffers: "{first} oggi, poi 3 × {installment} ogni 2 settimane · TAEG {apr} · totale {total}",
        SummaryPayIn30: "Paga {installment} tra 30 giorni · TAEG {apr} · totale {total}",
        SummaryFinancing: "{count} rate mensili da {installment} · TAEG {apr} · totale {total}",
        SummaryFinancingLastDiffers: "{count} × {installment} al mese, ultima rata {last} · TAEG {apr} · totale {total}",
        AprLabel: "TAEG: {apr}",
        TotalPayableLabel: "Importo totale dovuto: {total}",
        OtherPlans: "Inoltre: {plans}",
        LearnMore: "Scopri di più",
        TryAgain: "Riprova",
        ApprovedTitle: "La tua richiesta è approvata",
        ApprovedFirstPayment: "Prima rata di {amount} il {date}.",
        DeclinedTitle: "Non è stato possibile approvare questo acquisto",
        ReviewTitle: "La tua richiesta è in fase di verifica",
    ],
    NlNl => [
        Headline: "Achteraf betalen bij {merchant}",
        PlanFamilyPayIn4: "Betaal in 4 termijnen",
        PlanFamilyPayIn30: "Betaal over 30 dagen",
        PlanFamilyFinancing: "Maandelijkse financiering",
        FinancingMonths: "{count} maanden",
        Loading: "Betaalopties laden…",
        ServiceUnavailable: "Achteraf betalen is op dit moment niet beschikbaar.",
        OffersUnavailable: "De betaalopties konden niet worden geladen.",
        AmountUnavailable: "Achteraf betalen bij {merchant} is niet beschikbaar voor {amount}.",
        UnavailableBelowMinimum: "Betaalplannen zijn er vanaf {min}.",
        UnavailableAboveMaximum: "Betaalplannen zijn er tot {max}.",
        UnavailableCurrency: "{merchant} biedt achteraf betalen niet aan in {currency}.",
        SummaryPayIn4: "4 termijnen van {installment} elke 2 weken · JKP {apr} · totaal {total}",
        SummaryPayIn4FirstDiffers: "{first} vandaag, daarna 3 × {installment} elke 2 weken · JKP {apr} · totaal {total}",
        SummaryPayIn30: "Betaal {installment} over 30 dagen · JKP {apr} · totaal {total}",
        SummaryFinancing: "{count} maandtermijnen van {installment} · JKP {apr} · totaal {total}",
        SummaryFinancingLastDiffers: "{count} × {installment} per maand, laatste termijn {last} · JKP {apr} · totaal {total}",
        AprLabel: "Jaarlijks kostenpercentage (JKP): {apr}",
        TotalPayableLabel: "Totaal te betalen: {total}",
        OtherPlans: "Ook: {plans}",
        LearnMore: "Meer informatie",
        TryAgain: "Opnieuw proberen",
        ApprovedTitle: "Je aankoop is goedgekeurd",
        ApprovedFirstPayment: "Eerste termijn van {amount} op {date}.",
        DeclinedTitle: "We konden deze aankoop niet goedkeuren",
        ReviewTitle: "Je aanvraag wordt beoordeeld",
    ],
    PlPl => [
        Headline: "Zapłać później w {merchant}",
        PlanFamilyPayIn4: "Zapłać w 4 ratach",
        PlanFamilyPayIn30: "Zapłać za 30 dni",
        PlanFamilyFinancing: "Raty miesięczne",
        FinancingMonths: "{count} mies.",
        Loading: "Wczytywanie opcji płatności…",
        ServiceUnavailable: "Płatność odroczona jest teraz niedostępna.",
        OffersUnavailable: "Nie udało się wczytać opcji płatności.",
        AmountUnavailable: "Płatność odroczona w {merchant} nie jest dostępna dla kwoty {amount}.",
        UnavailableBelowMinimum: "Plany są dostępne od {min}.",
        UnavailableAboveMaximum: "Plany są dostępne do {max}.",
        UnavailableCurrency: "{merchant} nie oferuje płatności odroczonej w walucie {currency}.",
        SummaryPayIn4: "4 raty po {installment} co 2 tygodnie · RRSO {apr} · łącznie {total}",
        SummaryPayIn4FirstDiffers: "{first} dziś, potem 3 × {installment} co 2 tygodnie · RRSO {apr} · łącznie {total}",
        SummaryPayIn30: "Zapłać {installment} za 30 dni · RRSO {apr} · łącznie {total}",
        SummaryFinancing: "Raty miesięczne: {count} × {installment} · RRSO {apr} · łącznie {total}",
        SummaryFinancingLastDiffers: "Raty miesięczne: {count} × {installment}, ostatnia rata {last} · RRSO {apr} · łącznie {total}",
        AprLabel: "RRSO: {apr}",
        TotalPayableLabel: "Całkowita kwota do zapłaty: {total}",
        OtherPlans: "Również: {plans}",
        LearnMore: "Dowiedz się więcej",
        TryAgain: "Spróbuj ponownie",
        ApprovedTitle: "Zakup został zatwierdzony",
        ApprovedFirstPayment: "Pierwsza płatność {amount} w dniu {date}.",
        DeclinedTitle: "Nie mogliśmy zatwierdzić tego zakupu",
        ReviewTitle: "Twój wniosek jest rozpatrywany",
    ],
    DaDk => [
        Headline: "Betal senere hos {merchant}",
        PlanFamilyPayIn4: "Betal i 4 rater",
        PlanFamilyPayIn30: "Betal om 30 dage",
        PlanFamilyFinancing: "Månedlig finansiering",
        FinancingMonths: "{count} måneder",
        Loading: "Indlæser betalingsmuligheder…",
        ServiceUnavailable: "Betal senere er ikke tilgængelig lige nu.",
        OffersUnavailable: "Betalingsmulighederne kunne ikke indlæses.",
        AmountUnavailable: "Betal senere hos {merchant} er ikke tilgængelig for {amount}.",
        UnavailableBelowMinimum: "Betalingsplanerne starter ved {min}.",
        UnavailableAboveMaximum: "Betalingsplanerne går op til {max}.",
        UnavailableCurrency: "{merchant} tilbyder ikke betal senere i {currency}.",
        SummaryPayIn4: "4 rater à {installment} hver 2. uge · ÅOP {apr} · i alt {total}",
        SummaryPayIn4FirstDiffers: "{first} i dag, derefter 3 × {installment} hver 2. uge · ÅOP {apr} · i alt {total}",
        SummaryPayIn30: "Betal {installment} om 30 dage · ÅOP {apr} · i alt {total}",
        SummaryFinancing: "{count} månedlige rater à {installment} · ÅOP {apr} · i alt {total}",
        SummaryFinancingLastDiffers: "{count} × {installment} om måneden, sidste rate {last} · ÅOP {apr} · i alt {total}",
        AprLabel: "ÅOP: {apr}",
        TotalPayableLabel: "Samlet tilbagebetaling: {total}",
        OtherPlans: "Også: {plans}",
        LearnMore: "Læs mere",
        TryAgain: "Prøv igen",
        ApprovedTitle: "Dit køb er godkendt",
        ApprovedFirstPayment: "Første betaling {amount} den {date}.",
        DeclinedTitle: "Vi kunne ikke godkende dette køb",
        ReviewTitle: "Din anmodning bliver gennemgået",
    ],
    NbNo => [
        Headline: "Betal senere hos {merchant}",
        PlanFamilyPayIn4: "Betal i 4 avdrag",
        PlanFamilyPayIn30: "Betal om 30 dager",
        PlanFamilyFinancing: "Delbetaling per måned",
        FinancingMonths: "{count} måneder",
        Loading: "Laster inn betalingsalternativer …",
        ServiceUnavailable: "Betal senere er ikke tilgjengelig akkurat nå.",
        OffersUnavailable: "Betalingsalternativene kunne ikke lastes inn.",
        AmountUnavailable: "Betal senere hos {merchant} er ikke tilgjengelig for {amount}.",
        UnavailableBelowMinimum: "Betalingsplanene starter på {min}.",
        UnavailableAboveMaximum: "Betalingsplanene gjelder opptil {max}.",
        UnavailableCurrency: "{merchant} tilbyr ikke betal senere i {currency}.",
        SummaryPayIn4: "4 avdrag à {installment} annenhver uke · effektiv rente {apr} · totalt {total}",
        SummaryPayIn4FirstDiffers: "{first} i dag, deretter 3 × {installment} annenhver uke · effektiv rente {apr} · totalt {total}",
        SummaryPayIn30: "Betal {installment} om 30 dager · effektiv rente {apr} · totalt {total}",
        SummaryFinancing: "{count} månedlige avdrag à {installment} · effektiv rente {apr} · totalt {total}",
        SummaryFinancingLastDiffers: "{count} × {installment} per måned, siste avdrag {last} · effektiv rente {apr} · totalt {total}",
        AprLabel: "Effektiv rente: {apr}",
        TotalPayableLabel: "Totalt å betale: {total}",
        OtherPlans: "Også: {plans}",
        LearnMore: "Les mer",
        TryAgain: "Prøv igjen",
        ApprovedTitle: "Kjøpet er godkjent",
        ApprovedFirstPayment: "Første betaling {amount} den {date}.",
        DeclinedTitle: "Vi kunne ikke godkjenne dette kjøpet",
        ReviewTitle: "Forespørselen din blir vurdert",
    ],
    FiFi => [
        Headline: "Maksa myöhemmin kaupassa {merchant}",
        PlanFamilyPayIn4: "Maksa 4 erässä",
        PlanFamilyPayIn30: "Maksa 30 päivän kuluessa",
        PlanFamilyFinancing: "Kuukausittainen rahoitus",
        FinancingMonths: "{count} kuukautta",
        Loading: "Ladataan maksuvaihtoehtoja…",
        ServiceUnavailable: "Maksa myöhemmin -palvelu ei ole juuri nyt käytettävissä.",
        OffersUnavailable: "Maksuvaihtoehtoja ei voitu ladata.",
        AmountUnavailable: "Maksa myöhemmin kaupassa {merchant} ei ole käytettävissä summalle {amount}.",
        UnavailableBelowMinimum: "Maksusuunnitelmat alkaen {min}.",
        UnavailableAboveMaximum: "Maksusuunnitelmat enintään {max}.",
        UnavailableCurrency: "{merchant} ei tarjoa myöhempää maksua valuutassa {currency}.",
        SummaryPayIn4: "4 erää à {installment} 2 viikon välein · todellinen vuosikorko {apr} · yhteensä {total}",
        SummaryPayIn4FirstDiffers: "{first} tänään, sitten 3 × {installment} 2 viikon välein · todellinen vuosikorko {apr} · yhteensä {total}",
        SummaryPayIn30: "Maksa {installment} 30 päivän kuluessa · todellinen vuosikorko {apr} · yhteensä {total}",
        SummaryFinancing: "{count} kuukausierää à {installment} · todellinen vuosikorko {apr} · yhteensä {total}",
        SummaryFinancingLastDiffers: "{count} × {installment} kuukaudessa, viimeinen erä {last} · todellinen vuosikorko {apr} · yhteensä {total}",
        AprLabel: "Todellinen vuosikorko: {apr}",
        TotalPayableLabel: "Maksettava yhteensä: {total}",
        OtherPlans: "Myös: {plans}",
        LearnMore: "Lue lisää",
        TryAgain: "Yritä uudelleen",
        ApprovedTitle: "Ostoksesi on hyväksytty",
        ApprovedFirstPayment: "Ensimmäinen erä {amount}, eräpäivä {date}.",
        DeclinedTitle: "Emme voineet hyväksyä tätä ostosta",
        ReviewTitle: "Pyyntöäsi käsitellään",
    ],
    EnAu => [
        Headline: "Pay later with {merchant}",
        PlanFamilyPayIn4: "Pay in 4",
        PlanFamilyPayIn30: "Pay in 30 days",
        PlanFamilyFinancing: "Monthly financing",
        FinancingMonths: "{count} months",
        Loading: "Loading payment options…",
        ServiceUnavailable: "Pay later is unavailable right now.",
        OffersUnavailable: "Payment options could not be loaded.",
        AmountUnavailable: "Pay later with {merchant} isn't available for {amount}.",
        UnavailableBelowMinimum: "Plans start at {min}.",
        UnavailableAboveMaximum: "Plans go up to {max}.",
        UnavailableCurrency: "{merchant} doesn't offer pay later in {currency}.",
        SummaryPayIn4: "4 payments of {installment} fortnightly · {apr} APR · Total {total}",
        SummaryPayIn4FirstDiffers: "{first} today, then 3 × {installment} fortnightly · {apr} APR · Total {total}",
        SummaryPayIn30: "Pay {installment} in 30 days · {apr} APR · Total {total}",
        SummaryFinancing: "{count} monthly payments of {installment} · {apr} APR · Total {total}",
        SummaryFinancingLastDiffers: "{count} × {installment} monthly, then a final {last} · {apr} APR · Total {total}",
        AprLabel: "APR: {apr}",
        TotalPayableLabel: "Total payable: {total}",
        OtherPlans: "Also: {plans}",
        LearnMore: "Learn more",
        TryAgain: "Try again",
        ApprovedTitle: "You're approved",
        ApprovedFirstPayment: "First payment {amount} on {date}.",
        DeclinedTitle: "We couldn't approve this purchase",
        ReviewTitle: "Your request is being reviewed",
    ],
    FrCa => [
        Headline: "Payer plus tard chez {merchant}",
        PlanFamilyPayIn4: "Payer en 4 versements",
        PlanFamilyPayIn30: "Payer dans 30 jours",
        PlanFamilyFinancing: "Financement mensuel",
        FinancingMonths: "{count} mois",
        Loading: "Chargement des options de paiement…",
        ServiceUnavailable: "Le paiement différé est indisponible pour le moment.",
        OffersUnavailable: "Les options de paiement n’ont pas pu être chargées.",
        AmountUnavailable: "Le paiement différé chez {merchant} n’est pas disponible pour {amount}.",
        UnavailableBelowMinimum: "Les offres commencent à {min}.",
        UnavailableAboveMaximum: "Les offres vont jusqu’à {max}.",
        UnavailableCurrency: "{merchant} ne propose pas le paiement différé en {currency}.",
        SummaryPayIn4: "4 versements de {installment} aux 2 semaines · taux de crédit {apr} · total {total}",
        SummaryPayIn4FirstDiffers: "{first} aujourd’hui, puis 3 × {installment} aux 2 semaines · taux de crédit {apr} · total {total}",
        SummaryPayIn30: "Payez {installment} dans 30 jours · taux de crédit {apr} · total {total}",
        SummaryFinancing: "{count} versements mensuels de {installment} · taux de crédit {apr} · total {total}",
        SummaryFinancingLastDiffers: "{count} × {installment} par mois, dernier versement {last} · taux de crédit {apr} · total {total}",
        AprLabel: "Taux de crédit : {apr}",
        TotalPayableLabel: "Montant total à payer : {total}",
        OtherPlans: "Aussi : {plans}",
        LearnMore: "En savoir plus",
        TryAgain: "Réessayer",
        ApprovedTitle: "Votre demande est acceptée",
        ApprovedFirstPayment: "Premier versement de {amount} le {date}.",
        DeclinedTitle: "Nous n’avons pas pu accepter cet achat",
        ReviewTitle: "Votre demande est en cours d’examen",
    ],
}

texts! {
    other_texts, other_listed:
    EnUs | EnGb | EnAu | EnCa => [
        SeeOptions: "See payment options",
        InstallmentRow: "{date}: {amount}",
        TermsTitle: "Pay later terms",
        ChoosePlan: "Choose how to pay",
        ContinueWithPlan: "Continue with {plan}",
        Close: "Close",
        Cancel: "Cancel",
        ScheduleHeading: "Payment schedule",
        TotalInterestLabel: "Total interest: {interest}",
        ApprovalFormTitle: "Your details for {plan}",
        Submitting: "Checking your request…",
        ApprovalFailed: "We couldn't get a decision. Nothing was charged.",
        PlanSelected: "{plan} selected",
        BorrowingWarning: "Borrowing money costs money.",
        RepresentativeExample: "Representative example: credit of {principal} over {count} months at {apr} APR (fixed). Monthly payment {installment}, total interest {interest}, total payable {total}.",
        NoLateFees: "No late fees.",
        LateFee: "Late fee: {fee} per missed payment.",
        Lender: "Credit provided by {lender}.",
        HumanReview: "You can ask for a person to review this decision: {contact}.",
        ReasonAmountOutOfRange: "This amount is outside the range this plan covers.",
        ReasonUnderAge: "You must be 18 or older to use pay later.",
        ReasonCreditLimit: "This purchase would go over your current spending limit.",
        ReasonTooManyAttempts: "There were too many attempts in a short time. Please try again later.",
        ReasonNeedsReview: "We need a little more time to review this request.",
        ReasonDisposableEmail: "We can't accept e-mail addresses from temporary inbox services. Please use your regular e-mail address.",
        ReasonAutomatedSession: "This request looked automated, so we couldn't approve it instantly.",
        ReasonAmountChanged: "The amount changed during checkout. Please start again from the merchant's page.",
        ReasonDecisionServiceUnavailable: "Our decision service is not reachable right now, so a person will review your request.",
        CheckoutEmailLabel: "Email address",
        CheckoutDateOfBirthLabel: "Date of birth",
        CheckoutCountryLabel: "Country of residence",
        CountryUnitedStates: "United States",
        CountryUnitedKingdom: "United Kingdom",
        CountryGermany: "Germany",
        CountrySweden: "Sweden",
        CountryFrance: "France",
        CountryJapan: "Japan",
        CountrySpain: "Spain",
        CountryItaly: "Italy",
        CountryNetherlands: "Netherlands",
        CountryPoland: "Poland",
        CountryDenmark: "Denmark",
        CountryNorway: "Norway",
        CountryFinland: "Finland",
        CountryAustralia: "Australia",
        CountryCanada: "Canada",
        CheckoutConsentLabel: "I accept the pay-later terms.",
        CheckoutDataUse: "We use these details only to decide on this request.",
        CheckoutSubmit: "Send request",
        CheckoutErrorSummary: "Please correct the following",
        CheckoutEmailMissing: "Enter your email address.",
        CheckoutEmailInvalid: "Enter an email address like name@example.com.",
        CheckoutDateOfBirthMissing: "Enter your date of birth.",
        CheckoutDateOfBirthInvalid: "Enter a real date of birth in the past.",
        CheckoutConsentMissing: "Accept the terms to continue.",
    ],
    DeDe => [
        SeeOptions: "Zahlungsoptionen ansehen",
        InstallmentRow: "{date}: {amount}",
        TermsTitle: "Bedingungen für Später bezahlen",
        ChoosePlan: "Wählen Sie, wie Sie bezahlen",
        ContinueWithPlan: "Weiter mit {plan}",
        Close: "Schließen",
        Cancel: "Abbrechen",
        ScheduleHeading: "Zahlungsplan",
        TotalInterestLabel: "Zinsen gesamt: {interest}",
        ApprovalFormTitle: "Ihre Angaben für {plan}",
        Submitting: "Ihre Anfrage wird geprüft …",
        ApprovalFailed: "Wir konnten keine Entscheidung erhalten. Es wurde nichts berechnet.",
        PlanSelected: "{plan} ausgewählt",
        BorrowingWarning: "Achtung: Geld zu leihen kostet Geld.",
        RepresentativeExample: "Repräsentatives Beispiel: Nettodarlehensbetrag {principal}, Laufzeit {count} Monate, gebundener Sollzins, eff. Jahreszins {apr}. Monatsrate {installment}, Zinsen gesamt {interest}, Gesamtbetrag {total}.",
        NoLateFees: "Keine Mahngebühren.",
        LateFee: "Mahngebühr: {fee} je versäumter Rate.",
        Lender: "Kreditgeber: {lender}.",
        HumanReview: "Sie können verlangen, dass ein Mensch diese Entscheidung prüft: {contact}.",
        ReasonAmountOutOfRange: "Dieser Betrag liegt außerhalb des Rahmens dieses Plans.",
        ReasonUnderAge: "Für Später bezahlen müssen Sie mindestens 18 Jahre alt sein.",
        ReasonCreditLimit: "Dieser Kauf würde Ihr aktuelles Limit überschreiten.",
        ReasonTooManyAttempts: "Zu viele Versuche in kurzer Zeit. Bitte versuchen Sie es später erneut.",
        ReasonNeedsReview: "Wir benötigen etwas mehr Zeit, um diese Anfrage zu prüfen.",
        ReasonDisposableEmail: "E-Mail-Adressen von Wegwerf-Postfächern können wir nicht annehmen. Bitte verwenden Sie Ihre übliche E-Mail-Adresse.",
        ReasonAutomatedSession: "Diese Anfrage wirkte automatisiert, deshalb konnten wir sie nicht sofort genehmigen.",
        ReasonAmountChanged: "Der Betrag hat sich während des Bezahlvorgangs geändert. Bitte beginnen Sie erneut auf der Seite des Händlers.",
        ReasonDecisionServiceUnavailable: "Unser Entscheidungsdienst ist gerade nicht erreichbar, deshalb prüft ein Mensch Ihre Anfrage.",
        CheckoutEmailLabel: "E-Mail-Adresse",
        CheckoutDateOfBirthLabel: "Geburtsdatum",
        CheckoutCountryLabel: "Wohnsitzland",
        CountryUnitedStates: "Vereinigte Staaten",
        CountryUnitedKingdom: "Vereinigtes Königreich",
        CountryGermany: "Deutschland",
        CountrySweden: "Schweden",
        CountryFrance: "Frankreich",
        CountryJapan: "Japan",
        CountrySpain: "Spanien",
        CountryItaly: "Italien",
        CountryNetherlands: "Niederlande",
        CountryPoland: "Polen",
        CountryDenmark: "Dänemark",
        CountryNorway: "Norwegen",
        CountryFinland: "Finnland",
        CountryAustralia: "Australien",
        CountryCanada: "Kanada",
        CheckoutConsentLabel: "Ich akzeptiere die Bedingungen für Später bezahlen.",
        CheckoutDataUse: "Wir verwenden diese Angaben nur, um über diese Anfrage zu entscheiden.",
        CheckoutSubmit: "Anfrage senden",
        CheckoutErrorSummary: "Bitte korrigieren Sie Folgendes",
        CheckoutEmailMissing: "Geben Sie Ihre E-Mail-Adresse ein.",
        CheckoutEmailInvalid: "Geben Sie eine E-Mail-Adresse wie name@example.com ein.",
        CheckoutDateOfBirthMissing: "Geben Sie Ihr Geburtsdatum ein.",
        CheckoutDateOfBirthInvalid: "Geben Sie ein gültiges Geburtsdatum in der Vergangenheit ein.",
        CheckoutConsentMissing: "Bitte akzeptieren Sie die Bedingungen, um fortzufahren.",
    ],
    SvSe => [
        SeeOptions: "Visa betalningsalternativ",
        InstallmentRow: "{date}: {amount}",
        TermsTitle: "Villkor för betala senare",
        ChoosePlan: "Välj hur du vill betala",
        ContinueWithPlan: "Fortsätt med {plan}",
        Close: "Stäng",
        Cancel: "Avbryt",
        ScheduleHeading: "Betalningsplan",
        TotalInterestLabel: "Total räntekostnad: {interest}",
        ApprovalFormTitle: "Dina uppgifter för {plan}",
        Submitting: "Vi kontrollerar din förfrågan …",
        ApprovalFailed: "Vi kunde inte få ett beslut. Inget har debiterats.",
        PlanSelected: "{plan} vald",
        BorrowingWarning: "Det kostar pengar att låna pengar.",
        RepresentativeExample: "Representativt exempel: kredit på {principal} över {count} månader, effektiv ränta {apr} (fast). Månadsbelopp {installment}, total räntekostnad {interest}, totalt att betala {total}.",
        NoLateFees: "Inga förseningsavgifter.",
        LateFee: "Förseningsavgift: {fee} per missad betalning.",
        Lender: "Kreditgivare: {lender}.",
        HumanReview: "Du kan begära att en person granskar beslutet: {contact}.",
        ReasonAmountOutOfRange: "Beloppet ligger utanför det som planen täcker.",
        ReasonUnderAge: "Du måste vara minst 18 år för att betala senare.",
        ReasonCreditLimit: "Köpet skulle överskrida din nuvarande kreditgräns.",
        ReasonTooManyAttempts: "För många försök på kort tid. Försök igen senare.",
        ReasonNeedsReview: "Vi behöver lite mer tid för att granska förfrågan.",
        ReasonDisposableEmail: "Vi kan inte ta emot e-postadresser från tillfälliga inkorgar. Använd din vanliga e-postadress.",
        ReasonAutomatedSession: "Förfrågan såg automatiserad ut, så vi kunde inte godkänna den direkt.",
        ReasonAmountChanged: "Beloppet ändrades under köpet. Börja om från butikens sida.",
        ReasonDecisionServiceUnavailable: "Vår beslutstjänst går inte att nå just nu, så en person granskar din förfrågan.",
        CheckoutEmailLabel: "E-postadress",
        CheckoutDateOfBirthLabel: "Födelsedatum",
        CheckoutCountryLabel: "Bosättningsland",
        CountryUnitedStates: "USA",
        CountryUnitedKingdom: "Storbritannien",
        CountryGermany: "Tyskland",
        CountrySweden: "Sverige",
        CountryFrance: "Frankrike",
        CountryJapan: "Japan",
        CountrySpain: "Spanien",
        CountryItaly: "Italien",
        CountryNetherlands: "Nederländerna",
        CountryPoland: "Polen",
        CountryDenmark: "Danmark",
        CountryNorway: "Norge",
        CountryFinland: "Finland",
        CountryAustralia: "Australien",
        CountryCanada: "Kanada",
        CheckoutConsentLabel: "Jag godkänner villkoren för betala senare.",
        CheckoutDataUse: "Vi använder uppgifterna bara för att besluta om den här förfrågan.",
        CheckoutSubmit: "Skicka förfrågan",
        CheckoutErrorSummary: "Rätta följande",
        CheckoutEmailMissing: "Ange din e-postadress.",
        CheckoutEmailInvalid: "Ange en e-postadress som name@example.com.",
        CheckoutDateOfBirthMissing: "Ange ditt födelsedatum.",
        CheckoutDateOfBirthInvalid: "Ange ett giltigt födelsedatum bakåt i tiden.",
        CheckoutConsentMissing: "Godkänn villkoren för att fortsätta.",
    ],
    FrFr => [
        SeeOptions: "Voir les options de paiement",
        InstallmentRow: "{date} : {amount}",
        TermsTitle: "Conditions du paiement différé",
        ChoosePlan: "Choisissez comment payer",
        ContinueWithPlan: "Continuer avec {plan}",
        Close: "Fermer",
        Cancel: "Annuler",
        ScheduleHeading: "Échéancier",
        TotalInterestLabel: "Intérêts totaux : {interest}",
        ApprovalFormTitle: "Vos informations pour {plan}",
        Submitting: "Vérification de votre demande…",
        ApprovalFailed: "Nous n’avons pas pu obtenir de décision. Rien n’a été débité.",
        PlanSelected: "{plan} sélectionné",
        BorrowingWarning: "Attention, emprunter de l’argent coûte aussi de l’argent.",
        RepresentativeExample: "Exemple représentatif : crédit de {principal} sur {count} mois, TAEG fixe {apr}. Mensualité {installment}, intérêts totaux {interest}, montant total dû {total}.",
        NoLateFees: "Aucuns frais de retard.",
        LateFee: "Frais de retard : {fee} par échéance manquée.",
        Lender: "Prêteur : {lender}.",
        HumanReview: "Vous pouvez demander qu’une personne réexamine cette décision : {contact}.",
        ReasonAmountOutOfRange: "Ce montant est en dehors de la fourchette couverte par cette offre.",
        ReasonUnderAge: "Vous devez avoir au moins 18 ans pour payer plus tard.",
        ReasonCreditLimit: "Cet achat dépasserait votre plafond actuel.",
        ReasonTooManyAttempts: "Trop de tentatives en peu de temps. Veuillez réessayer plus tard.",
        ReasonNeedsReview: "Nous avons besoin d’un peu plus de temps pour examiner cette demande.",
        ReasonDisposableEmail: "Nous ne pouvons pas accepter les adresses e-mail temporaires. Veuillez utiliser votre adresse e-mail habituelle.",
        ReasonAutomatedSession: "Cette demande semblait automatisée : nous n’avons donc pas pu l’accepter immédiatement.",
        ReasonAmountChanged: "Le montant a changé pendant le paiement. Veuillez recommencer depuis la page du marchand.",
        ReasonDecisionServiceUnavailable: "Notre service de décision est momentanément injoignable : une personne va donc examiner votre demande.",
        CheckoutEmailLabel: "Adresse e-mail",
        CheckoutDateOfBirthLabel: "Date de naissance",
        CheckoutCountryLabel: "Pays de résidence",
        CountryUnitedStates: "États-Unis",
        CountryUnitedKingdom: "Royaume-Uni",
        CountryGermany: "Allemagne",
        CountrySweden: "Suède",
        CountryFrance: "France",
        CountryJapan: "Japon",
        CountrySpain: "Espagne",
        CountryItaly: "Italie",
        CountryNetherlands: "Pays-Bas",
        CountryPoland: "Pologne",
        CountryDenmark: "Danemark",
        CountryNorway: "Norvège",
        CountryFinland: "Finlande",
        CountryAustralia: "Australie",
        CountryCanada: "Canada",
        CheckoutConsentLabel: "J’accepte les conditions du paiement différé.",
        CheckoutDataUse: "Nous utilisons ces informations uniquement pour statuer sur cette demande.",
        CheckoutSubmit: "Envoyer la demande",
        CheckoutErrorSummary: "Veuillez corriger les points suivants",
        CheckoutEmailMissing: "Saisissez votre adresse e-mail.",
        CheckoutEmailInvalid: "Saisissez une adresse e-mail comme name@example.com.",
        CheckoutDateOfBirthMissing: "Saisissez votre date de naissance.",
        CheckoutDateOfBirthInvalid: "Saisissez une date de naissance valide, dans le passé.",
        CheckoutConsentMissing: "Acceptez les conditions pour continuer.",
    ],
    JaJp => [
        SeeOptions: "お支払い方法を見る",
        InstallmentRow: "{date}：{amount}",
        TermsTitle: "あと払いの条件",
        ChoosePlan: "お支払い方法を選択",
        ContinueWithPlan: "{plan}で続ける",
        Close: "閉じる",
        Cancel: "キャンセル",
        ScheduleHeading: "お支払いスケジュール",
        TotalInterestLabel: "利息合計：{interest}",
        ApprovalFormTitle: "{plan}のお客様情報",
        Submitting: "お申し込みを確認しています…",
        ApprovalFailed: "審査結果を取得できませんでした。請求は発生していません。",
        PlanSelected: "{plan}を選択しました",
        BorrowingWarning: "お金を借りるには費用がかかります。",
        RepresentativeExample: "代表例：融資額{principal}、期間{count}か月、実質年率{apr}（固定）。毎月のお支払い{installment}、利息合計{interest}、支払総額{total}。",
        NoLateFees: "延滞手数料はかかりません。",
        LateFee: "延滞手数料：お支払いが遅れた回ごとに{fee}。",
        Lender: "与信提供元：{lender}。",
        HumanReview: "この決定について、担当者による再審査を依頼できます：{contact}。",
        ReasonAmountOutOfRange: "この金額は、このプランの対象範囲外です。",
        ReasonUnderAge: "あと払いのご利用は18歳以上の方に限ります。",
        ReasonCreditLimit: "このご購入は現在のご利用可能枠を超えます。",
        ReasonTooManyAttempts: "短時間に多くのお申し込みがありました。しばらくしてからもう一度お試しください。",
        ReasonNeedsReview: "このお申し込みの審査には、もう少しお時間をいただきます。",
        ReasonDisposableEmail: "使い捨てメールアドレスはご利用いただけません。普段お使いのメールアドレスをご入力ください。",
        ReasonAutomatedSession: "このお申し込みは自動操作の可能性があるため、すぐには承認できませんでした。",
        ReasonAmountChanged: "お手続き中に金額が変更されました。ショップのページから最初からやり直してください。",
        ReasonDecisionServiceUnavailable: "現在、審査システムに接続できないため、担当者がお申し込みを確認します。",
        CheckoutEmailLabel: "メールアドレス",
        CheckoutDateOfBirthLabel: "生年月日",
        CheckoutCountryLabel: "居住国",
        CountryUnitedStates: "アメリカ合衆国",
        CountryUnitedKingdom: "イギリス",
        CountryGermany: "ドイツ",
        CountrySweden: "スウェーデン",
        CountryFrance: "フランス",
        CountryJapan: "日本",
        CountrySpain: "スペイン",
        CountryItaly: "イタリア",
        CountryNetherlands: "オランダ",
        CountryPoland: "ポーランド",
        CountryDenmark: "デンマーク",
        CountryNorway: "ノルウェー",
        CountryFinland: "フィンランド",
        CountryAustralia: "オーストラリア",
        CountryCanada: "カナダ",
        CheckoutConsentLabel: "あと払いの利用規約に同意します。",
        CheckoutDataUse: "ご入力いただいた情報は、このお申し込みの審査にのみ使用します。",
        CheckoutSubmit: "申し込む",
        CheckoutErrorSummary: "次の項目を修正してください",
        CheckoutEmailMissing: "メールアドレスを入力してください。",
        CheckoutEmailInvalid: "name@example.com の形式でメールアドレスを入力してください。",
        CheckoutDateOfBirthMissing: "生年月日を入力してください。",
        CheckoutDateOfBirthInvalid: "正しい生年月日（過去の日付）を入力してください。",
        CheckoutConsentMissing: "続行するには利用規約に同意してください。",
    ],
    EsEs => [
        SeeOptions: "Ver opciones de pago",
        InstallmentRow: "{date}: {amount}",
        TermsTitle: "Condiciones del pago aplazado",
        ChoosePlan: "Elige cómo pagar",
        ContinueWithPlan: "Continuar con {plan}",
        Close: "Cerrar",
        Cancel: "Cancelar",
        ScheduleHeading: "Calendario de pagos",
        TotalInterestLabel: "Intereses totales: {interest}",
        ApprovalFormTitle: "Tus datos para {plan}",
        Submitting: "Comprobando tu solicitud…",
        ApprovalFailed: "No hemos podido obtener una decisión. No se ha cobrado nada.",
        PlanSelected: "Seleccionado: {plan}",
        BorrowingWarning: "Atención: pedir dinero prestado cuesta dinero.",
        RepresentativeExample: "Ejemplo representativo: crédito de {principal} a {count} meses, TAE {apr} (tipo fijo). Cuota mensual {installment}, intereses totales {interest}, importe total adeudado {total}.",
        NoLateFees: "Sin comisiones por retraso.",
        LateFee: "Comisión por retraso: {fee} por cada pago no realizado.",
        Lender: "Crédito concedido por {lender}.",
        HumanReview: "Puedes pedir que una persona revise esta decisión: {contact}.",
        ReasonAmountOutOfRange: "Este importe está fuera del rango que cubre este plan.",
        ReasonUnderAge: "Debes tener al menos 18 años para pagar más tarde.",
        ReasonCreditLimit: "Esta compra superaría tu límite de gasto actual.",
        ReasonTooManyAttempts: "Ha habido demasiados intentos en poco tiempo. Vuelve a intentarlo más tarde.",
        ReasonNeedsReview: "Necesitamos un poco más de tiempo para revisar esta solicitud.",
        ReasonDisposableEmail: "No podemos aceptar direcciones de correo electrónico temporales. Usa tu dirección de correo electrónico habitual.",
        ReasonAutomatedSession: "Esta solicitud parecía automatizada, así que no hemos podido aprobarla al instante.",
        ReasonAmountChanged: "El importe ha cambiado durante el pago. Vuelve a empezar desde la página de la tienda.",
        ReasonDecisionServiceUnavailable: "Nuestro servicio de decisión no está disponible en este momento, así que una persona revisará tu solicitud.",
        CheckoutEmailLabel: "Correo electrónico",
        CheckoutDateOfBirthLabel: "Fecha de nacimiento",
        CheckoutCountryLabel: "País de residencia",
        CountryUnitedStates: "Estados Unidos",
        CountryUnitedKingdom: "Reino Unido",
        CountryGermany: "Alemania",
        CountrySweden: "Suecia",
        CountryFrance: "Francia",
        CountryJapan: "Japón",
        CountrySpain: "España",
        CountryItaly: "Italia",
        CountryNetherlands: "Países Bajos",
        CountryPoland: "Polonia",
        CountryDenmark: "Dinamarca",
        CountryNorway: "Noruega",
        CountryFinland: "Finlandia",
        CountryAustralia: "Australia",
        CountryCanada: "Canadá",
        CheckoutConsentLabel: "Acepto las condiciones del pago aplazado.",
        CheckoutDataUse: "Usamos estos datos solo para decidir sobre esta solicitud.",
        CheckoutSubmit: "Enviar solicitud",
        CheckoutErrorSummary: "Corrige lo siguiente",
        CheckoutEmailMissing: "Introduce tu correo electrónico.",
        CheckoutEmailInvalid: "Introduce un correo electrónico como name@example.com.",
        CheckoutDateOfBirthMissing: "Introduce tu fecha de nacimiento.",
        CheckoutDateOfBirthInvalid: "Introduce una fecha de nacimiento válida y pasada.",
        CheckoutConsentMissing: "Acepta las condiciones para continuar.",
    ],
    ItIt => [
        SeeOptions: "Vedi le opzioni di pagamento",
        InstallmentRow: "{date}: {amount}",
        TermsTitle: "Condizioni del pagamento posticipato",
        ChoosePlan: "Scegli come pagare",
        ContinueWithPlan: "Continua con {plan}",
        Close: "Chiudi",
        Cancel: "Annulla",
        ScheduleHeading: "Piano dei pagamenti",
        TotalInterestLabel: "Interessi totali: {interest}",
        ApprovalFormTitle: "I tuoi dati per {plan}",
        Submitting: "Stiamo verificando la tua richiesta…",
        ApprovalFailed: "Non è stato possibile ottenere una decisione. Non è stato addebitato nulla.",
        PlanSelected: "Selezionato: {plan}",
        BorrowingWarning: "Attenzione: prendere denaro in prestito ha un costo.",
        RepresentativeExample: "Esempio rappresentativo: credito di {principal} in {count} mesi, TAEG {apr} (tasso fisso). Rata mensile {installment}, interessi totali {interest}, importo totale dovuto {total}.",
        NoLateFees: "Nessuna commissione per ritardato pagamento.",
        LateFee: "Commissione per ritardato pagamento: {fee} per ogni rata non pagata.",
        Lender: "Credito erogato da {lender}.",
        HumanReview: "Puoi chiedere che una persona riesamini questa decisione: {contact}.",
        ReasonAmountOutOfRange: "Questo importo non rientra nei limiti previsti da questo piano.",
        ReasonUnderAge: "Devi avere almeno 18 anni per usare il pagamento posticipato.",
        ReasonCreditLimit: "Questo acquisto supererebbe il tuo attuale limite di spesa.",
        ReasonTooManyAttempts: "Troppi tentativi in poco tempo. Riprova più tardi.",
        ReasonNeedsReview: "Ci serve un po’ più di tempo per esaminare questa richiesta.",
        ReasonDisposableEmail: "Non possiamo accettare indirizzi e-mail di servizi di posta temporanea. Usa il tuo indirizzo e-mail abituale.",
        ReasonAutomatedSession: "Questa richiesta sembrava automatizzata, quindi non abbiamo potuto approvarla subito.",
        ReasonAmountChanged: "L’importo è cambiato durante il pagamento. Ricomincia dalla pagina del negozio.",
        ReasonDecisionServiceUnavailable: "Il nostro servizio di valutazione non è raggiungibile al momento, quindi una persona esaminerà la tua richiesta.",
        CheckoutEmailLabel: "Indirizzo e-mail",
        CheckoutDateOfBirthLabel: "Data di nascita",
        CheckoutCountryLabel: "Paese di residenza",
        CountryUnitedStates: "Stati Uniti",
        CountryUnitedKingdom: "Regno Unito",
        CountryGermany: "Germania",
        CountrySweden: "Svezia",
        CountryFrance: "Francia",
        CountryJapan: "Giappone",
        CountrySpain: "Spagna",
        CountryItaly: "Italia",
        CountryNetherlands: "Paesi Bassi",
        CountryPoland: "Polonia",
        CountryDenmark: "Danimarca",
        CountryNorway: "Norvegia",
        CountryFinland: "Finlandia",
        CountryAustralia: "Australia",
        CountryCanada: "Canada",
        CheckoutConsentLabel: "Accetto le condizioni del pagamento posticipato.",
        CheckoutDataUse: "Usiamo questi dati solo per decidere su questa richiesta.",
        CheckoutSubmit: "Invia richiesta",
        CheckoutErrorSummary: "Correggi quanto segue",
        CheckoutEmailMissing: "Inserisci il tuo indirizzo e-mail.",
        CheckoutEmailInvalid: "Inserisci un indirizzo e-mail come name@example.com.",
        CheckoutDateOfBirthMissing: "Inserisci la tua data di nascita.",
        CheckoutDateOfBirthInvalid: "Inserisci una data di nascita valida, nel passato.",
        CheckoutConsentMissing: "Accetta le condizioni per continuare.",
    ],
    NlNl => [
        SeeOptions: "Bekijk betaalopties",
        InstallmentRow: "{date}: {amount}",
        TermsTitle: "Voorwaarden voor achteraf betalen",
        ChoosePlan: "Kies hoe je betaalt",
        ContinueWithPlan: "Doorgaan met {plan}",
        Close: "Sluiten",
        Cancel: "Annuleren",
        ScheduleHeading: "Betaalschema",
        TotalInterestLabel: "Totale rente: {interest}",
        ApprovalFormTitle: "Je gegevens voor {plan}",
        Submitting: "We controleren je aanvraag…",
        ApprovalFailed: "We hebben geen beslissing kunnen krijgen. Er is niets afgeschreven.",
        PlanSelected: "{plan} geselecteerd",
        BorrowingWarning: "Let op! Geld lenen kost geld.",
        RepresentativeExample: "Representatief voorbeeld: krediet van {principal} over {count} maanden, JKP {apr} (vaste rente). Maandtermijn {installment}, totale rente {interest}, totaal te betalen {total}.",
        NoLateFees: "Geen kosten bij te late betaling.",
        LateFee: "Kosten bij te late betaling: {fee} per gemiste termijn.",
        Lender: "Krediet verstrekt door {lender}.",
        HumanReview: "Je kunt vragen om deze beslissing door een medewerker te laten beoordelen: {contact}.",
        ReasonAmountOutOfRange: "Dit bedrag valt buiten de grenzen van dit betaalplan.",
        ReasonUnderAge: "Je moet minstens 18 jaar zijn om achteraf te betalen.",
        ReasonCreditLimit: "Met deze aankoop zou je je huidige bestedingslimiet overschrijden.",
        ReasonTooManyAttempts: "Te veel pogingen in korte tijd. Probeer het later opnieuw.",
        ReasonNeedsReview: "We hebben wat meer tijd nodig om deze aanvraag te beoordelen.",
        ReasonDisposableEmail: "We accepteren geen e-mailadressen van tijdelijke mailboxen. Gebruik je gewone e-mailadres.",
        ReasonAutomatedSession: "Deze aanvraag leek geautomatiseerd, daarom konden we hem niet direct goedkeuren.",
        ReasonAmountChanged: "Het bedrag is tijdens het afrekenen gewijzigd. Begin opnieuw vanaf de pagina van de winkel.",
        ReasonDecisionServiceUnavailable: "Onze beoordelingsdienst is op dit moment niet bereikbaar, daarom beoordeelt een medewerker je aanvraag.",
        CheckoutEmailLabel: "E-mailadres",
        CheckoutDateOfBirthLabel: "Geboortedatum",
        CheckoutCountryLabel: "Woonland",
        CountryUnitedStates: "Verenigde Staten",
        CountryUnitedKingdom: "Verenigd Koninkrijk",
        CountryGermany: "Duitsland",
        CountrySweden: "Zweden",
        CountryFrance: "Frankrijk",
        CountryJapan: "Japan",
        CountrySpain: "Spanje",
        CountryItaly: "Italië",
        CountryNetherlands: "Nederland",
        CountryPoland: "Polen",
        CountryDenmark: "Denemarken",
        CountryNorway: "Noorwegen",
        CountryFinland: "Finland",
        CountryAustralia: "Australië",
        CountryCanada: "Canada",
        CheckoutConsentLabel: "Ik ga akkoord met de voorwaarden voor achteraf betalen.",
        CheckoutDataUse: "We gebruiken deze gegevens alleen om over deze aanvraag te beslissen.",
        CheckoutSubmit: "Aanvraag versturen",
        CheckoutErrorSummary: "Verbeter het volgende",
        CheckoutEmailMissing: "Vul je e-mailadres in.",
        CheckoutEmailInvalid: "Vul een e-mailadres in zoals name@example.com.",
        CheckoutDateOfBirthMissing: "Vul je geboortedatum in.",
        CheckoutDateOfBirthInvalid: "Vul een geldige geboortedatum in het verleden in.",
        CheckoutConsentMissing: "Ga akkoord met de voorwaarden om verder te gaan.",
    ],
    PlPl => [
        SeeOptions: "Zobacz opcje płatności",
        InstallmentRow: "{date}: {amount}",
        TermsTitle: "Warunki płatności odroczonej",
        ChoosePlan: "Wybierz sposób płatności",
        ContinueWithPlan: "Dalej: {plan}",
        Close: "Zamknij",
        Cancel: "Anuluj",
        ScheduleHeading: "Harmonogram płatności",
        TotalInterestLabel: "Łączne odsetki: {interest}",
        ApprovalFormTitle: "Twoje dane: {plan}",
        Submitting: "Sprawdzamy Twój wniosek…",
        ApprovalFailed: "Nie udało się uzyskać decyzji. Nic nie zostało pobrane.",
        PlanSelected: "Wybrano: {plan}",
        BorrowingWarning: "Uwaga! Pożyczanie pieniędzy kosztuje.",
        RepresentativeExample: "Przykład reprezentatywny: kredyt {principal} na {count} mies., RRSO {apr}, oprocentowanie stałe. Rata miesięczna {installment}, łączne odsetki {interest}, całkowita kwota do zapłaty {total}.",
        NoLateFees: "Brak opłat za opóźnienie.",
        LateFee: "Opłata za opóźnienie: {fee} za każdą nieopłaconą ratę.",
        Lender: "Kredytodawca: {lender}.",
        HumanReview: "Możesz poprosić o ponowne rozpatrzenie tej decyzji przez człowieka: {contact}.",
        ReasonAmountOutOfRange: "Ta kwota wykracza poza zakres tego planu.",
        ReasonUnderAge: "Aby zapłacić później, musisz mieć ukończone 18 lat.",
        ReasonCreditLimit: "Ten zakup przekroczyłby Twój obecny limit wydatków.",
        ReasonTooManyAttempts: "Zbyt wiele prób w krótkim czasie. Spróbuj ponownie później.",
        ReasonNeedsReview: "Potrzebujemy trochę więcej czasu, aby rozpatrzyć ten wniosek.",
        ReasonDisposableEmail: "Nie akceptujemy adresów e-mail z tymczasowych skrzynek. Użyj swojego zwykłego adresu e-mail.",
        ReasonAutomatedSession: "Ten wniosek wyglądał na zautomatyzowany, więc nie mogliśmy go od razu zatwierdzić.",
        ReasonAmountChanged: "Kwota zmieniła się w trakcie płatności. Zacznij od nowa na stronie sklepu.",
        ReasonDecisionServiceUnavailable: "Nasz system decyzyjny jest teraz niedostępny, więc Twój wniosek rozpatrzy pracownik.",
        CheckoutEmailLabel: "Adres e-mail",
        CheckoutDateOfBirthLabel: "Data urodzenia",
        CheckoutCountryLabel: "Kraj zamieszkania",
        CountryUnitedStates: "Stany Zjednoczone",
        CountryUnitedKingdom: "Wielka Brytania",
        CountryGermany: "Niemcy",
        CountrySweden: "Szwecja",
        CountryFrance: "Francja",
        CountryJapan: "Japonia",
        CountrySpain: "Hiszpania",
        CountryItaly: "Włochy",
        CountryNetherlands: "Holandia",
        CountryPoland: "Polska",
        CountryDenmark: "Dania",
        CountryNorway: "Norwegia",
        CountryFinland: "Finlandia",
        CountryAustralia: "Australia",
        CountryCanada: "Kanada",
        CheckoutConsentLabel: "Akceptuję warunki płatności odroczonej.",
        CheckoutDataUse: "Używamy tych danych wyłącznie do rozpatrzenia tego wniosku.",
        CheckoutSubmit: "Wyślij wniosek",
        CheckoutErrorSummary: "Popraw następujące błędy",
        CheckoutEmailMissing: "Podaj swój adres e-mail.",
        CheckoutEmailInvalid: "Podaj adres e-mail w formacie name@example.com.",
        CheckoutDateOfBirthMissing: "Podaj swoją datę urodzenia.",
        CheckoutDateOfBirthInvalid: "Podaj prawidłową datę urodzenia z przeszłości.",
        CheckoutConsentMissing: "Zaakceptuj warunki, aby kontynuować.",
    ],
    DaDk => [
        SeeOptions: "Se betalingsmuligheder",
        InstallmentRow: "{date}: {amount}",
        TermsTitle: "Vilkår for betal senere",
        ChoosePlan: "Vælg, hvordan du vil betale",
        ContinueWithPlan: "Fortsæt med {plan}",
        Close: "Luk",
        Cancel: "Annuller",
        ScheduleHeading: "Betalingsplan",
        TotalInterestLabel: "Samlede renter: {interest}",
        ApprovalFormTitle: "Dine oplysninger til {plan}",
        Submitting: "Vi tjekker din anmodning …",
        ApprovalFailed: "Vi kunne ikke få en afgørelse. Der er ikke trukket noget.",
        PlanSelected: "{plan} valgt",
        BorrowingWarning: "Det koster penge at låne penge.",
        RepresentativeExample: "Repræsentativt eksempel: kredit på {principal} over {count} måneder, ÅOP {apr} (fast rente). Månedlig ydelse {installment}, samlede renter {interest}, samlet tilbagebetaling {total}.",
        NoLateFees: "Ingen rykkergebyrer.",
        LateFee: "Rykkergebyr: {fee} pr. manglende betaling.",
        Lender: "Kreditgiver: {lender}.",
        HumanReview: "Du kan bede om, at en medarbejder gennemgår afgørelsen: {contact}.",
        ReasonAmountOutOfRange: "Beløbet ligger uden for det, planen dækker.",
        ReasonUnderAge: "Du skal være mindst 18 år for at betale senere.",
        ReasonCreditLimit: "Købet ville overskride din nuværende kreditgrænse.",
        ReasonTooManyAttempts: "For mange forsøg på kort tid. Prøv igen senere.",
        ReasonNeedsReview: "Vi har brug for lidt mere tid til at gennemgå anmodningen.",
        ReasonDisposableEmail: "Vi kan ikke modtage e-mailadresser fra midlertidige indbakker. Brug din almindelige e-mailadresse.",
        ReasonAutomatedSession: "Anmodningen så automatiseret ud, så vi kunne ikke godkende den med det samme.",
        ReasonAmountChanged: "Beløbet ændrede sig under købet. Start forfra fra butikkens side.",
        ReasonDecisionServiceUnavailable: "Vores afgørelsestjeneste kan ikke nås lige nu, så en medarbejder gennemgår din anmodning.",
        CheckoutEmailLabel: "E-mailadresse",
        CheckoutDateOfBirthLabel: "Fødselsdato",
        CheckoutCountryLabel: "Bopælsland",
        CountryUnitedStates: "USA",
        CountryUnitedKingdom: "Storbritannien",
        CountryGermany: "Tyskland",
        CountrySweden: "Sverige",
        CountryFrance: "Frankrig",
        CountryJapan: "Japan",
        CountrySpain: "Spanien",
        CountryItaly: "Italien",
        CountryNetherlands: "Nederlandene",
        CountryPoland: "Polen",
        CountryDenmark: "Danmark",
        CountryNorway: "Norge",
        CountryFinland: "Finland",
        CountryAustralia: "Australien",
        CountryCanada: "Canada",
        CheckoutConsentLabel: "Jeg accepterer vilkårene for betal senere.",
        CheckoutDataUse: "Vi bruger kun disse oplysninger til at træffe afgørelse om denne anmodning.",
        CheckoutSubmit: "Send anmodning",
        CheckoutErrorSummary: "Ret følgende",
        CheckoutEmailMissing: "Indtast din e-mailadresse.",
        CheckoutEmailInvalid: "Indtast en e-mailadresse som name@example.com.",
        CheckoutDateOfBirthMissing: "Indtast din fødselsdato.",
        CheckoutDateOfBirthInvalid: "Indtast en gyldig fødselsdato, der ligger tilbage i tiden.",
        CheckoutConsentMissing: "Accepter vilkårene for at fortsætte.",
    ],
    NbNo => [
        SeeOptions: "Se betalingsalternativer",
        InstallmentRow: "{date}: {amount}",
        TermsTitle: "Vilkår for betal senere",
        ChoosePlan: "Velg hvordan du vil betale",
        ContinueWithPlan: "Fortsett med {plan}",
        Close: "Lukk",
        Cancel: "Avbryt",
        ScheduleHeading: "Nedbetalingsplan",
        TotalInterestLabel: "Totale rentekostnader: {interest}",
        ApprovalFormTitle: "Dine opplysninger for {plan}",
        Submitting: "Vi sjekker forespørselen din …",
        ApprovalFailed: "Vi fikk ikke noen avgjørelse. Ingenting er belastet.",
        PlanSelected: "{plan} valgt",
        BorrowingWarning: "Det koster penger å låne penger.",
        RepresentativeExample: "Representativt eksempel: kreditt på {principal} over {count} måneder, effektiv rente {apr} (fast). Månedlig beløp {installment}, totale rentekostnader {interest}, totalt å betale {total}.",
        NoLateFees: "Ingen forsinkelsesgebyrer.",
        LateFee: "Forsinkelsesgebyr: {fee} per betaling som ikke blir betalt i tide.",
        Lender: "Kredittgiver: {lender}.",
        HumanReview: "Du kan be om at en person vurderer avgjørelsen: {contact}.",
        ReasonAmountOutOfRange: "Beløpet er utenfor det planen dekker.",
        ReasonUnderAge: "Du må være minst 18 år for å betale senere.",
        ReasonCreditLimit: "Kjøpet ville gått over den nåværende kredittgrensen din.",
        ReasonTooManyAttempts: "For mange forsøk på kort tid. Prøv igjen senere.",
        ReasonNeedsReview: "Vi trenger litt mer tid til å vurdere forespørselen.",
        ReasonDisposableEmail: "Vi kan ikke godta e-postadresser fra midlertidige innbokser. Bruk den vanlige e-postadressen din.",
        ReasonAutomatedSession: "Forespørselen så automatisert ut, så vi kunne ikke godkjenne den med en gang.",
        ReasonAmountChanged: "Beløpet ble endret underveis i kjøpet. Start på nytt fra butikkens side.",
        ReasonDecisionServiceUnavailable: "Beslutningstjenesten vår kan ikke nås akkurat nå, så en person vurderer forespørselen din.",
        CheckoutEmailLabel: "E-postadresse",
        CheckoutDateOfBirthLabel: "Fødselsdato",
        CheckoutCountryLabel: "Bostedsland",
        CountryUnitedStates: "USA",
        CountryUnitedKingdom: "Storbritannia",
        CountryGermany: "Tyskland",
        CountrySweden: "Sverige",
        CountryFrance: "Frankrike",
        CountryJapan: "Japan",
        CountrySpain: "Spania",
        CountryItaly: "Italia",
        CountryNetherlands: "Nederland",
        CountryPoland: "Polen",
        CountryDenmark: "Danmark",
        CountryNorway: "Norge",
        CountryFinland: "Finland",
        CountryAustralia: "Australia",
        CountryCanada: "Canada",
        CheckoutConsentLabel: "Jeg godtar vilkårene for betal senere.",
        CheckoutDataUse: "Vi bruker disse opplysningene bare til å avgjøre denne forespørselen.",
        CheckoutSubmit: "Send forespørsel",
        CheckoutErrorSummary: "Rett opp følgende",
        CheckoutEmailMissing: "Skriv inn e-postadressen din.",
        CheckoutEmailInvalid: "Skriv inn en e-postadresse som name@example.com.",
        CheckoutDateOfBirthMissing: "Skriv inn fødselsdatoen din.",
        CheckoutDateOfBirthInvalid: "Skriv inn en gyldig fødselsdato tilbake i tid.",
        CheckoutConsentMissing: "Godta vilkårene for å fortsette.",
    ],
    FiFi => [
        SeeOptions: "Katso maksuvaihtoehdot",
        InstallmentRow: "{date}: {amount}",
        TermsTitle: "Maksa myöhemmin -ehdot",
        ChoosePlan: "Valitse maksutapa",
        ContinueWithPlan: "Jatka: {plan}",
        Close: "Sulje",
        Cancel: "Peruuta",
        ScheduleHeading: "Maksuaikataulu",
        TotalInterestLabel: "Korot yhteensä: {interest}",
        ApprovalFormTitle: "Tietosi: {plan}",
        Submitting: "Tarkistamme pyyntöäsi…",
        ApprovalFailed: "Emme saaneet päätöstä. Mitään ei veloitettu.",
        PlanSelected: "Valittu: {plan}",
        BorrowingWarning: "Huomio: rahan lainaaminen maksaa.",
        RepresentativeExample: "Edustava esimerkki: luotto {principal}, laina-aika {count} kuukautta, todellinen vuosikorko {apr} (kiinteä). Kuukausierä {installment}, korot yhteensä {interest}, maksettava yhteensä {total}.",
        NoLateFees: "Ei viivästysmaksuja.",
        LateFee: "Viivästysmaksu: {fee} jokaisesta maksamatta jääneestä erästä.",
        Lender: "Luotonantaja: {lender}.",
        HumanReview: "Voit pyytää, että ihminen tarkistaa tämän päätöksen: {contact}.",
        ReasonAmountOutOfRange: "Summa on tämän maksusuunnitelman rajojen ulkopuolella.",
        ReasonUnderAge: "Sinun on oltava vähintään 18-vuotias, jotta voit maksaa myöhemmin.",
        ReasonCreditLimit: "Tämä ostos ylittäisi nykyisen luottorajasi.",
        ReasonTooManyAttempts: "Liian monta yritystä lyhyessä ajassa. Yritä myöhemmin uudelleen.",
        ReasonNeedsReview: "Tarvitsemme hieman lisää aikaa tämän pyynnön käsittelyyn.",
        ReasonDisposableEmail: "Emme voi hyväksyä tilapäisten sähköpostipalvelujen osoitteita. Käytä tavallista sähköpostiosoitettasi.",
        ReasonAutomatedSession: "Pyyntö vaikutti automatisoidulta, joten emme voineet hyväksyä sitä heti.",
        ReasonAmountChanged: "Summa muuttui maksun aikana. Aloita alusta kaupan sivulta.",
        ReasonDecisionServiceUnavailable: "Päätöspalvelumme ei ole juuri nyt tavoitettavissa, joten ihminen käsittelee pyyntösi.",
        CheckoutEmailLabel: "Sähköpostiosoite",
        CheckoutDateOfBirthLabel: "Syntymäaika",
        CheckoutCountryLabel: "Asuinmaa",
        CountryUnitedStates: "Yhdysvallat",
        CountryUnitedKingdom: "Yhdistynyt kuningaskunta",
        CountryGermany: "Saksa",
        CountrySweden: "Ruotsi",
        CountryFrance: "Ranska",
        CountryJapan: "Japani",
        CountrySpain: "Espanja",
        CountryItaly: "Italia",
        CountryNetherlands: "Alankomaat",
        CountryPoland: "Puola",
        CountryDenmark: "Tanska",
        CountryNorway: "Norja",
        CountryFinland: "Suomi",
        CountryAustralia: "Australia",
        CountryCanada: "Kanada",
        CheckoutConsentLabel: "Hyväksyn Maksa myöhemmin -ehdot.",
        CheckoutDataUse: "Käytämme näitä tietoja vain tätä pyyntöä koskevaan päätökseen.",
        CheckoutSubmit: "Lähetä pyyntö",
        CheckoutErrorSummary: "Korjaa seuraavat kohdat",
        CheckoutEmailMissing: "Anna sähköpostiosoitteesi.",
        CheckoutEmailInvalid: "Anna sähköpostiosoite muodossa name@example.com.",
        CheckoutDateOfBirthMissing: "Anna syntymäaikasi.",
        CheckoutDateOfBirthInvalid: "Anna oikea syntymäaika, joka on menneisyydessä.",
        CheckoutConsentMissing: "Hyväksy ehdot jatkaaksesi.",
    ],
    FrCa => [
        SeeOptions: "Voir les options de paiement",
        InstallmentRow: "{date} : {amount}",
        TermsTitle: "Conditions du paiement différé",
        ChoosePlan: "Choisissez comment payer",
        ContinueWithPlan: "Continuer avec {plan}",
        Close: "Fermer",
        Cancel: "Annuler",
        ScheduleHeading: "Calendrier des versements",
        TotalInterestLabel: "Total des intérêts : {interest}",
        ApprovalFormTitle: "Vos renseignements pour {plan}",
        Submitting: "Vérification de votre demande…",
        ApprovalFailed: "Nous n’avons pas pu obtenir de décision. Aucun montant n’a été prélevé.",
        PlanSelected: "{plan} sélectionné",
        BorrowingWarning: "Emprunter de l’argent coûte de l’argent.",
        RepresentativeExample: "Exemple représentatif : crédit de {principal} sur {count} mois, taux de crédit fixe de {apr}. Versement mensuel de {installment}, total des intérêts de {interest}, montant total à payer de {total}.",
        NoLateFees: "Aucuns frais de retard.",
        LateFee: "Frais de retard : {fee} par versement manqué.",
        Lender: "Prêteur : {lender}.",
        HumanReview: "Vous pouvez demander qu’une personne réexamine cette décision : {contact}.",
        ReasonAmountOutOfRange: "Ce montant est en dehors de la fourchette couverte par cette offre.",
        ReasonUnderAge: "Vous devez avoir au moins 18 ans pour payer plus tard.",
        ReasonCreditLimit: "Cet achat dépasserait votre plafond actuel.",
        ReasonTooManyAttempts: "Trop de tentatives en peu de temps. Veuillez réessayer plus tard.",
        ReasonNeedsReview: "Nous avons besoin d’un peu plus de temps pour examiner cette demande.",
        ReasonDisposableEmail: "Nous ne pouvons pas accepter les adresses courriel temporaires. Veuillez utiliser votre adresse courriel habituelle.",
        ReasonAutomatedSession: "Cette demande semblait automatisée : nous n’avons donc pas pu l’accepter immédiatement.",
        ReasonAmountChanged: "Le montant a changé pendant le paiement. Veuillez recommencer à partir de la page du commerçant.",
        ReasonDecisionServiceUnavailable: "Notre service de décision est momentanément injoignable : une personne va donc examiner votre demande.",
        CheckoutEmailLabel: "Adresse courriel",
        CheckoutDateOfBirthLabel: "Date de naissance",
        CheckoutCountryLabel: "Pays de résidence",
        CountryUnitedStates: "États-Unis",
        CountryUnitedKingdom: "Royaume-Uni",
        CountryGermany: "Allemagne",
        CountrySweden: "Suède",
        CountryFrance: "France",
        CountryJapan: "Japon",
        CountrySpain: "Espagne",
        CountryItaly: "Italie",
        CountryNetherlands: "Pays-Bas",
        CountryPoland: "Pologne",
        CountryDenmark: "Danemark",
        CountryNorway: "Norvège",
        CountryFinland: "Finlande",
        CountryAustralia: "Australie",
        CountryCanada: "Canada",
        CheckoutConsentLabel: "J’accepte les conditions du paiement différé.",
        CheckoutDataUse: "Nous utilisons ces renseignements uniquement pour statuer sur cette demande.",
        CheckoutSubmit: "Envoyer la demande",
        CheckoutErrorSummary: "Veuillez corriger les points suivants",
        CheckoutEmailMissing: "Saisissez votre adresse courriel.",
        CheckoutEmailInvalid: "Saisissez une adresse courriel comme name@example.com.",
        CheckoutDateOfBirthMissing: "Saisissez votre date de naissance.",
        CheckoutDateOfBirthInvalid: "Saisissez une date de naissance valide, dans le passé.",
        CheckoutConsentMissing: "Acceptez les conditions pour continuer.",
    ],
}

/// The text before a template's next `{placeholder}`, its name, and the rest after it; `None`
/// once none is left (an unclosed `{` stays text).
fn next_placeholder(template: &str) -> Option<(&str, &str, &str)> {
    // `split_once`, not indexing: no slicing that could panic, so no panic message's formatting
    // code in the card's bundle.
    let (before, rest) = template.split_once('{')?;
    let (name, after) = rest.split_once('}')?;
    Some((before, name, after))
}

/// The `{placeholder}` names of a template, in order of appearance.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some((_, name, after)) = next_placeholder(rest) {
        names.push(name);
        rest = after;
    }
    names
}

/// Renders a message, filling every placeholder from `values`.
pub fn render(locale: Locale, message: MessageId, values: &[(&str, &str)]) -> Result<String, CatalogError> {
    fill(template(locale, message), message, values)
}

/// Renders a message the card shows, from the card's own table: what the card calls, so that
/// its bundle carries no other text.
pub fn render_card(locale: Locale, message: CardMessage, values: &[(&str, &str)]) -> Result<String, CatalogError> {
    fill(card_template(locale, message), message.into(), values)
}

fn fill(template: &str, message: MessageId, values: &[(&str, &str)]) -> Result<String, CatalogError> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some((text, name, after)) = next_placeholder(rest) {
        let value = values
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| *value)
            .ok_or_else(|| CatalogError::MissingValue {
                message,
                placeholder: name.to_owned(),
            })?;
        out.push_str(text);
        out.push_str(value);
        rest = after;
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_locale_has_every_message_with_the_same_placeholders() {
        assert_eq!(Locale::ALL.len(), 16);
        for &message in MessageId::ALL {
            let mut reference = placeholders(template(Locale::EnUs, message));
            reference.sort_unstable();
            for locale in Locale::ALL {
                let text = template(locale, message);
                assert!(!text.trim().is_empty(), "{message:?} {locale:?}");
                assert_eq!(text.trim(), text, "{message:?} in {}: stray spaces", locale.tag());
                let mut names = placeholders(text);
                names.sort_unstable();
                assert_eq!(names, reference, "{message:?} in {}", locale.tag());
                // Every brace belongs to a placeholder: no half-typed `{name` or `name}`.
                let braces = text.matches(['{', '}']).count();
                assert_eq!(braces, 2 * names.len(), "{message:?} in {}: stray braces", locale.tag());
            }
        }
    }

    #[test]
    fn every_locale_lists_every_message_once_and_in_order() {
        let card: Vec<String> = CardMessage::ALL.iter().map(|m| format!("{m:?}")).collect();
        let other: Vec<String> = MessageId::ALL
            .iter()
            .filter_map(|m| m.table().err())
            .map(|m| format!("{m:?}"))
            .collect();
        for (lists, names, texts) in [
            (card_listed(), &card, card_texts as fn(Locale) -> &'static str),
            (other_listed(), &other, other_texts),
        ] {
            let mut locales: Vec<&str> = lists.iter().flat_map(|(l, _)| l.iter().map(|l| l.tag())).collect();
            locales.sort_unstable();
            let mut all: Vec<&str> = Locale::ALL.iter().map(|l| l.tag()).collect();
            all.sort_unstable();
            assert_eq!(locales, all, "each locale has one list");
            for (locales, listed) in lists {
                assert_eq!(&listed, names, "{locales:?}");
                for locale in locales {
                    // One text per message, each ended by END, and no END inside a text.
                    let parts: Vec<&str> = texts(locale).split(char::from(END)).collect();
                    assert_eq!(parts.len(), names.len() + 1, "{}", locale.tag());
                    assert_eq!(parts.last(), Some(&""), "{}", locale.tag());
                }
            }
        }
    }

    #[test]
    fn the_card_table_is_the_catalog_for_the_card_messages() {
        let card: Vec<MessageId> = CardMessage::ALL.iter().map(|&m| m.into()).collect();
        for &message in MessageId::ALL {
            assert_eq!(message.table().is_ok(), card.contains(&message), "{message:?}");
        }
        for &message in CardMessage::ALL {
            for locale in Locale::ALL {
                assert_eq!(card_template(locale, message), template(locale, message.into()));
            }
        }
        assert_eq!(
            render_card(Locale::EnUs, CardMessage::OtherPlans, &[]),
            Err(CatalogError::MissingValue {
                message: MessageId::OtherPlans,
                placeholder: "plans".into()
            })
        );
    }

    #[test]
    fn renders_with_values_and_refuses_missing_ones() {
        let values = [
            ("installment", "32,49\u{a0}€"),
            ("apr", "0\u{a0}%"),
            ("total", "129,99\u{a0}€"),
        ];
        assert_eq!(
            render(Locale::DeDe, MessageId::SummaryPayIn4, &values).unwrap(),
            "4 Raten à 32,49\u{a0}€ alle 2 Wochen · eff. Jahreszins 0\u{a0}% · Gesamtbetrag 129,99\u{a0}€"
        );
        assert_eq!(
            render(Locale::EnUs, MessageId::SummaryPayIn4, &values[..2]),
            Err(CatalogError::MissingValue {
                message: MessageId::SummaryPayIn4,
                placeholder: "total".into()
            })
        );
        assert_eq!(
            render(Locale::SvSe, MessageId::BorrowingWarning, &[]).unwrap(),
            "Det kostar pengar att låna pengar."
        );
        let uneven = [
            ("first", "$32.52"),
            ("installment", "$32.49"),
            ("apr", "0%"),
            ("total", "$129.99"),
        ];
        assert_eq!(
            render_card(Locale::EnUs, CardMessage::SummaryPayIn4FirstDiffers, &uneven).unwrap(),
            "$32.52 today, then 3 × $32.49 every 2 weeks · 0% APR · Total $129.99"
        );
    }

    #[test]
    fn every_locale_resolves_to_itself_and_others_fall_back() {
        for locale in Locale::ALL {
            let tag = locale.tag();
            assert_eq!(Locale::resolve(tag), locale, "{tag}");
            assert_eq!(
                Locale::resolve(&tag.to_ascii_lowercase().replace('-', "_")),
                locale,
                "{tag}"
            );
        }
        let cases = [
            ("EN-gb", Locale::EnGb),
            ("en", Locale::EnUs),
            ("en-IE", Locale::EnGb),
            ("en-ZA", Locale::EnGb),
            ("en-IN", Locale::EnGb),
            ("en-NZ", Locale::EnAu),
            ("en-Latn-CA", Locale::EnCa),
            ("en-SE", Locale::EnUs),
            ("de-AT", Locale::DeDe),
            ("sv", Locale::SvSe),
            ("sv-FI", Locale::SvSe),
            ("fr", Locale::FrFr),
            ("fr-BE", Locale::FrFr),
            ("fr-CA", Locale::FrCa),
            ("fr_ca", Locale::FrCa),
            ("ja", Locale::JaJp),
            ("es", Locale::EsEs),
            ("es-MX", Locale::EsEs),
            ("it-CH", Locale::ItIt),
            ("nl-BE", Locale::NlNl),
            ("pl", Locale::PlPl),
            ("da", Locale::DaDk),
            ("nb", Locale::NbNo),
            ("no", Locale::NbNo),
            ("nn-NO", Locale::NbNo),
            ("fi", Locale::FiFi),
            ("pt-BR", Locale::EnUs),
            ("not a tag", Locale::EnUs),
            ("", Locale::EnUs),
        ];
        for (tag, locale) in cases {
            assert_eq!(Locale::resolve(tag), locale, "{tag}");
        }
        let eu: Vec<&str> = Locale::ALL.into_iter().filter(|l| l.is_eu()).map(Locale::tag).collect();
        assert_eq!(
            eu,
            [
                "de-DE", "sv-SE", "fr-FR", "es-ES", "it-IT", "nl-NL", "pl-PL", "da-DK", "nb-NO", "fi-FI"
            ]
        );
    }

    #[test]
    fn summaries_use_each_markets_own_credit_terms() {
        // The rate as each market's rules and shoppers name it, wherever an installment amount
        // or the rate is stated.
        let terms = [
            (Locale::EnUs, "APR"),
            (Locale::EnGb, "APR"),
            (Locale::EnAu, "APR"),
            (Locale::EnCa, "APR"),
            (Locale::DeDe, "Jahreszins"),
            (Locale::SvSe, "effektiv ränta"),
            (Locale::FrFr, "TAEG"),
            (Locale::FrCa, "taux de crédit"),
            (Locale::JaJp, "実質年率"),
            (Locale::EsEs, "TAE"),
            (Locale::ItIt, "TAEG"),
            (Locale::NlNl, "JKP"),
            (Locale::PlPl, "RRSO"),
            (Locale::DaDk, "ÅOP"),
            (Locale::NbNo, "effektiv rente"),
            (Locale::FiFi, "todellinen vuosikorko"),
        ];
        assert_eq!(terms.len(), Locale::ALL.len());
        let rated = [
            MessageId::SummaryPayIn4,
            MessageId::SummaryPayIn4FirstDiffers,
            MessageId::SummaryPayIn30,
            MessageId::SummaryFinancing,
            MessageId::SummaryFinancingLastDiffers,
            MessageId::AprLabel,
            MessageId::RepresentativeExample,
        ];
        for (locale, term) in terms {
            for message in rated {
                let text = template(locale, message);
                assert!(
                    text.to_lowercase().contains(&term.to_lowercase()),
                    "{message:?} in {}: {text}",
                    locale.tag()
                );
            }
        }
        // Where a market has its own wording of the warning, it is that wording.
        assert_eq!(
            template(Locale::NlNl, MessageId::BorrowingWarning),
            "Let op! Geld lenen kost geld."
        );
    }

    #[test]
    fn reason_codes_map_to_messages_both_ways() {
        for &message in MessageId::ALL {
            if let Some(code) = message.reason_code() {
                assert_eq!(MessageId::for_reason(code), Some(message));
            }
        }
        assert_eq!(MessageId::for_reason("made_up"), None);
    }
}
