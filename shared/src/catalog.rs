//! The message catalog: every text the widget shows and every reason code's plain-language
//! message, in each supported locale, with `{placeholders}` filled from data the caller has
//! already formatted for the locale (numbers and dates are `Intl`'s job in the browser).

use thiserror::Error;

/// Supported locales. Others fall back by language, then to US English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Locale {
    EnUs,
    EnGb,
    DeDe,
    SvSe,
    FrFr,
}

impl Locale {
    pub const ALL: [Locale; 5] = [Self::EnUs, Self::EnGb, Self::DeDe, Self::SvSe, Self::FrFr];

    pub fn tag(self) -> &'static str {
        match self {
            Self::EnUs => "en-US",
            Self::EnGb => "en-GB",
            Self::DeDe => "de-DE",
            Self::SvSe => "sv-SE",
            Self::FrFr => "fr-FR",
        }
    }

    /// Best match for a BCP 47 tag: exact (case-insensitive), then same language, then en-US.
    pub fn resolve(tag: &str) -> Self {
        let lower = tag.to_ascii_lowercase();
        if let Some(exact) = Self::ALL.into_iter().find(|l| l.tag().eq_ignore_ascii_case(&lower)) {
            return exact;
        }
        let language = lower.split(['-', '_']).next().unwrap_or("");
        match language {
            "de" => Self::DeDe,
            "sv" => Self::SvSe,
            "fr" => Self::FrFr,
            // Commonwealth English reads en-GB conventions better than US ones.
            "en" if ["au", "nz", "ie", "za", "in"].iter().any(|r| lower.ends_with(r)) => Self::EnGb,
            _ => Self::EnUs,
        }
    }

    /// Whether EU consumer-credit rules apply to promotions shown in this locale (the warning
    /// that borrowing costs money, representative examples).
    pub fn is_eu(self) -> bool {
        matches!(self, Self::DeDe | Self::SvSe | Self::FrFr)
    }
}

/// Every message the product shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageId {
    Headline,
    PlanFamilyPayIn4,
    PlanFamilyPayIn30,
    PlanFamilyFinancing,
    SeeOptions,
    Loading,
    ServiceUnavailable,
    OffersUnavailable,
    AmountUnavailable,
    SummaryPayIn4,
    SummaryPayIn30,
    SummaryFinancing,
    InstallmentRow,
    LearnMore,
    TermsTitle,
    ChoosePlan,
    ContinueWithPlan,
    Close,
    Cancel,
    ScheduleHeading,
    AprLabel,
    TotalInterestLabel,
    TotalPayableLabel,
    OtherPlans,
    UnavailableBelowMinimum,
    UnavailableAboveMaximum,
    UnavailableCurrency,
    ApprovalFormTitle,
    Submitting,
    ApprovedTitle,
    ApprovedFirstPayment,
    DeclinedTitle,
    ReviewTitle,
    ApprovalFailed,
    TryAgain,
    PlanSelected,
    FinancingMonths,
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
    CheckoutConsentLabel,
    CheckoutDataUse,
    CheckoutSubmit,
    CheckoutErrorSummary,
    CheckoutEmailMissing,
    CheckoutEmailInvalid,
    CheckoutDateOfBirthMissing,
    CheckoutDateOfBirthInvalid,
    CheckoutConsentMissing,
}

impl MessageId {
    pub const ALL: &'static [MessageId] = &[
        Self::Headline,
        Self::PlanFamilyPayIn4,
        Self::PlanFamilyPayIn30,
        Self::PlanFamilyFinancing,
        Self::SeeOptions,
        Self::Loading,
        Self::ServiceUnavailable,
        Self::OffersUnavailable,
        Self::AmountUnavailable,
        Self::SummaryPayIn4,
        Self::SummaryPayIn30,
        Self::SummaryFinancing,
        Self::InstallmentRow,
        Self::LearnMore,
        Self::TermsTitle,
        Self::ChoosePlan,
        Self::ContinueWithPlan,
        Self::Close,
        Self::Cancel,
        Self::ScheduleHeading,
        Self::AprLabel,
        Self::TotalInterestLabel,
        Self::TotalPayableLabel,
        Self::OtherPlans,
        Self::UnavailableBelowMinimum,
        Self::UnavailableAboveMaximum,
        Self::UnavailableCurrency,
        Self::ApprovalFormTitle,
        Self::Submitting,
        Self::ApprovedTitle,
        Self::ApprovedFirstPayment,
        Self::DeclinedTitle,
        Self::ReviewTitle,
        Self::ApprovalFailed,
        Self::TryAgain,
        Self::PlanSelected,
        Self::FinancingMonths,
        Self::BorrowingWarning,
        Self::RepresentativeExample,
        Self::NoLateFees,
        Self::LateFee,
        Self::Lender,
        Self::HumanReview,
        Self::ReasonAmountOutOfRange,
        Self::ReasonUnderAge,
        Self::ReasonCreditLimit,
        Self::ReasonTooManyAttempts,
        Self::ReasonNeedsReview,
        Self::ReasonDisposableEmail,
        Self::ReasonAutomatedSession,
        Self::ReasonAmountChanged,
        Self::ReasonDecisionServiceUnavailable,
        Self::CheckoutEmailLabel,
        Self::CheckoutDateOfBirthLabel,
        Self::CheckoutCountryLabel,
        Self::CountryUnitedStates,
        Self::CountryUnitedKingdom,
        Self::CountryGermany,
        Self::CountrySweden,
        Self::CountryFrance,
        Self::CheckoutConsentLabel,
        Self::CheckoutDataUse,
        Self::CheckoutSubmit,
        Self::CheckoutErrorSummary,
        Self::CheckoutEmailMissing,
        Self::CheckoutEmailInvalid,
        Self::CheckoutDateOfBirthMissing,
        Self::CheckoutDateOfBirthInvalid,
        Self::CheckoutConsentMissing,
    ];

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
    use Locale::*;
    use MessageId::*;
    match (message, locale) {
        (Headline, EnUs | EnGb) => "Pay later with {merchant}",
        (Headline, DeDe) => "Später bezahlen bei {merchant}",
        (Headline, SvSe) => "Betala senare hos {merchant}",
        (Headline, FrFr) => "Payer plus tard chez {merchant}",
        (PlanFamilyPayIn4, EnUs | EnGb) => "Pay in 4",
        (PlanFamilyPayIn4, DeDe) => "In 4 Raten",
        (PlanFamilyPayIn4, SvSe) => "Dela upp på 4",
        (PlanFamilyPayIn4, FrFr) => "Payer en 4 fois",
        (PlanFamilyPayIn30, EnUs | EnGb) => "Pay in 30 days",
        (PlanFamilyPayIn30, DeDe) => "In 30 Tagen bezahlen",
        (PlanFamilyPayIn30, SvSe) => "Betala om 30 dagar",
        (PlanFamilyPayIn30, FrFr) => "Payer sous 30 jours",
        (PlanFamilyFinancing, EnUs | EnGb) => "Monthly financing",
        (PlanFamilyFinancing, DeDe) => "Monatliche Finanzierung",
        (PlanFamilyFinancing, SvSe) => "Månadsbetalning",
        (PlanFamilyFinancing, FrFr) => "Financement mensuel",
        (SeeOptions, EnUs | EnGb) => "See payment options",
        (SeeOptions, DeDe) => "Zahlungsoptionen ansehen",
        (SeeOptions, SvSe) => "Visa betalningsalternativ",
        (SeeOptions, FrFr) => "Voir les options de paiement",
        (Loading, EnUs | EnGb) => "Loading payment options…",
        (Loading, DeDe) => "Zahlungsoptionen werden geladen …",
        (Loading, SvSe) => "Laddar betalningsalternativ …",
        (Loading, FrFr) => "Chargement des options de paiement…",
        (ServiceUnavailable, EnUs | EnGb) => "Pay later is unavailable right now.",
        (ServiceUnavailable, DeDe) => "Später bezahlen ist gerade nicht verfügbar.",
        (ServiceUnavailable, SvSe) => "Betala senare är inte tillgängligt just nu.",
        (ServiceUnavailable, FrFr) => "Le paiement différé est indisponible pour le moment.",
        (OffersUnavailable, EnUs | EnGb) => "Payment options could not be loaded.",
        (OffersUnavailable, DeDe) => "Die Zahlungsoptionen konnten nicht geladen werden.",
        (OffersUnavailable, SvSe) => "Betalningsalternativen kunde inte laddas.",
        (OffersUnavailable, FrFr) => "Les options de paiement n’ont pas pu être chargées.",
        (AmountUnavailable, EnUs | EnGb) => "Pay later with {merchant} isn't available for {amount}.",
        (AmountUnavailable, DeDe) => "Später bezahlen bei {merchant} ist für {amount} nicht verfügbar.",
        (AmountUnavailable, SvSe) => "Betala senare hos {merchant} är inte tillgängligt för {amount}.",
        (AmountUnavailable, FrFr) => "Le paiement différé chez {merchant} n’est pas disponible pour {amount}.",
        (SummaryPayIn4, EnUs | EnGb) => "4 payments of {installment} every 2 weeks · {apr} APR · Total {total}",
        (SummaryPayIn4, DeDe) => "4 Raten à {installment} alle 2 Wochen · eff. Jahreszins {apr} · Gesamtbetrag {total}",
        (SummaryPayIn4, SvSe) => "4 betalningar à {installment} varannan vecka · effektiv ränta {apr} · totalt {total}",
        (SummaryPayIn4, FrFr) => "4 paiements de {installment} toutes les 2 semaines · TAEG {apr} · total {total}",
        (SummaryPayIn30, EnUs | EnGb) => "Pay {installment} in 30 days · {apr} APR · Total {total}",
        (SummaryPayIn30, DeDe) => "{installment} in 30 Tagen · eff. Jahreszins {apr} · Gesamtbetrag {total}",
        (SummaryPayIn30, SvSe) => "Betala {installment} om 30 dagar · effektiv ränta {apr} · totalt {total}",
        (SummaryPayIn30, FrFr) => "Payez {installment} sous 30 jours · TAEG {apr} · total {total}",
        (SummaryFinancing, EnUs | EnGb) => "{count} monthly payments of {installment} · {apr} APR · Total {total}",
        (SummaryFinancing, DeDe) => {
            "{count} Monatsraten à {installment} · eff. Jahreszins {apr} · Gesamtbetrag {total}"
        }
        (SummaryFinancing, SvSe) => "{count} månadsbetalningar à {installment} · effektiv ränta {apr} · totalt {total}",
        (SummaryFinancing, FrFr) => "{count} mensualités de {installment} · TAEG {apr} · total {total}",
        (InstallmentRow, EnUs | EnGb) => "{date}: {amount}",
        (InstallmentRow, DeDe) => "{date}: {amount}",
        (InstallmentRow, SvSe) => "{date}: {amount}",
        (InstallmentRow, FrFr) => "{date} : {amount}",
        (LearnMore, EnUs | EnGb) => "Learn more",
        (LearnMore, DeDe) => "Mehr erfahren",
        (LearnMore, SvSe) => "Läs mer",
        (LearnMore, FrFr) => "En savoir plus",
        (TermsTitle, EnUs | EnGb) => "Pay later terms",
        (TermsTitle, DeDe) => "Bedingungen für Später bezahlen",
        (TermsTitle, SvSe) => "Villkor för betala senare",
        (TermsTitle, FrFr) => "Conditions du paiement différé",
        (ChoosePlan, EnUs | EnGb) => "Choose how to pay",
        (ChoosePlan, DeDe) => "Wählen Sie, wie Sie bezahlen",
        (ChoosePlan, SvSe) => "Välj hur du vill betala",
        (ChoosePlan, FrFr) => "Choisissez comment payer",
        (ContinueWithPlan, EnUs | EnGb) => "Continue with {plan}",
        (ContinueWithPlan, DeDe) => "Weiter mit {plan}",
        (ContinueWithPlan, SvSe) => "Fortsätt med {plan}",
        (ContinueWithPlan, FrFr) => "Continuer avec {plan}",
        (Close, EnUs | EnGb) => "Close",
        (Close, DeDe) => "Schließen",
        (Close, SvSe) => "Stäng",
        (Close, FrFr) => "Fermer",
        (Cancel, EnUs | EnGb) => "Cancel",
        (Cancel, DeDe) => "Abbrechen",
        (Cancel, SvSe) => "Avbryt",
        (Cancel, FrFr) => "Annuler",
        (ScheduleHeading, EnUs | EnGb) => "Payment schedule",
        (ScheduleHeading, DeDe) => "Zahlungsplan",
        (ScheduleHeading, SvSe) => "Betalningsplan",
        (ScheduleHeading, FrFr) => "Échéancier",
        (AprLabel, EnUs | EnGb) => "APR: {apr}",
        (AprLabel, DeDe) => "Effektiver Jahreszins: {apr}",
        (AprLabel, SvSe) => "Effektiv ränta: {apr}",
        (AprLabel, FrFr) => "TAEG : {apr}",
        (TotalInterestLabel, EnUs | EnGb) => "Total interest: {interest}",
        (TotalInterestLabel, DeDe) => "Zinsen gesamt: {interest}",
        (TotalInterestLabel, SvSe) => "Total räntekostnad: {interest}",
        (TotalInterestLabel, FrFr) => "Intérêts totaux : {interest}",
        (TotalPayableLabel, EnUs | EnGb) => "Total payable: {total}",
        (TotalPayableLabel, DeDe) => "Gesamtbetrag: {total}",
        (TotalPayableLabel, SvSe) => "Totalt att betala: {total}",
        (TotalPayableLabel, FrFr) => "Montant total dû : {total}",
        (OtherPlans, EnUs | EnGb) => "Also: {plans}",
        (OtherPlans, DeDe) => "Außerdem: {plans}",
        (OtherPlans, SvSe) => "Även: {plans}",
        (OtherPlans, FrFr) => "Aussi : {plans}",
        (UnavailableBelowMinimum, EnUs | EnGb) => "Plans start at {min}.",
        (UnavailableBelowMinimum, DeDe) => "Pläne gibt es ab {min}.",
        (UnavailableBelowMinimum, SvSe) => "Planerna börjar på {min}.",
        (UnavailableBelowMinimum, FrFr) => "Les offres commencent à {min}.",
        (UnavailableAboveMaximum, EnUs | EnGb) => "Plans go up to {max}.",
        (UnavailableAboveMaximum, DeDe) => "Pläne gibt es bis {max}.",
        (UnavailableAboveMaximum, SvSe) => "Planerna gäller upp till {max}.",
        (UnavailableAboveMaximum, FrFr) => "Les offres vont jusqu’à {max}.",
        (UnavailableCurrency, EnUs | EnGb) => "{merchant} doesn't offer pay later in {currency}.",
        (UnavailableCurrency, DeDe) => "{merchant} bietet Später bezahlen nicht in {currency} an.",
        (UnavailableCurrency, SvSe) => "{merchant} erbjuder inte betala senare i {currency}.",
        (UnavailableCurrency, FrFr) => "{merchant} ne propose pas le paiement différé en {currency}.",
        (ApprovalFormTitle, EnUs | EnGb) => "Your details for {plan}",
        (ApprovalFormTitle, DeDe) => "Ihre Angaben für {plan}",
        (ApprovalFormTitle, SvSe) => "Dina uppgifter för {plan}",
        (ApprovalFormTitle, FrFr) => "Vos informations pour {plan}",
        (Submitting, EnUs | EnGb) => "Checking your request…",
        (Submitting, DeDe) => "Ihre Anfrage wird geprüft …",
        (Submitting, SvSe) => "Vi kontrollerar din förfrågan …",
        (Submitting, FrFr) => "Vérification de votre demande…",
        (ApprovedTitle, EnUs | EnGb) => "You're approved",
        (ApprovedTitle, DeDe) => "Ihr Kauf ist genehmigt",
        (ApprovedTitle, SvSe) => "Köpet är godkänt",
        (ApprovedTitle, FrFr) => "Votre demande est acceptée",
        (ApprovedFirstPayment, EnUs | EnGb) => "First payment {amount} on {date}.",
        (ApprovedFirstPayment, DeDe) => "Erste Rate {amount} am {date}.",
        (ApprovedFirstPayment, SvSe) => "Första betalningen {amount} den {date}.",
        (ApprovedFirstPayment, FrFr) => "Premier paiement de {amount} le {date}.",
        (DeclinedTitle, EnUs | EnGb) => "We couldn't approve this purchase",
        (DeclinedTitle, DeDe) => "Wir konnten diesen Kauf nicht genehmigen",
        (DeclinedTitle, SvSe) => "Vi kunde inte godkänna köpet",
        (DeclinedTitle, FrFr) => "Nous n’avons pas pu accepter cet achat",
        (ReviewTitle, EnUs | EnGb) => "Your request is being reviewed",
        (ReviewTitle, DeDe) => "Ihre Anfrage wird geprüft",
        (ReviewTitle, SvSe) => "Din förfrågan granskas",
        (ReviewTitle, FrFr) => "Votre demande est en cours d’examen",
        (ApprovalFailed, EnUs | EnGb) => "We couldn't get a decision. Nothing was charged.",
        (ApprovalFailed, DeDe) => "Wir konnten keine Entscheidung erhalten. Es wurde nichts berechnet.",
        (ApprovalFailed, SvSe) => "Vi kunde inte få ett beslut. Inget har debiterats.",
        (ApprovalFailed, FrFr) => "Nous n’avons pas pu obtenir de décision. Rien n’a été débité.",
        (TryAgain, EnUs | EnGb) => "Try again",
        (TryAgain, DeDe) => "Erneut versuchen",
        (TryAgain, SvSe) => "Försök igen",
        (TryAgain, FrFr) => "Réessayer",
        (PlanSelected, EnUs | EnGb) => "{plan} selected",
        (PlanSelected, DeDe) => "{plan} ausgewählt",
        (PlanSelected, SvSe) => "{plan} vald",
        (PlanSelected, FrFr) => "{plan} sélectionné",
        (FinancingMonths, EnUs | EnGb) => "{count} months",
        (FinancingMonths, DeDe) => "{count} Monate",
        (FinancingMonths, SvSe) => "{count} månader",
        (FinancingMonths, FrFr) => "{count} mois",
        (BorrowingWarning, EnUs | EnGb) => "Borrowing money costs money.",
        (BorrowingWarning, DeDe) => "Achtung: Geld zu leihen kostet Geld.",
        (BorrowingWarning, SvSe) => "Det kostar pengar att låna pengar.",
        (BorrowingWarning, FrFr) => "Attention, emprunter de l’argent coûte aussi de l’argent.",
        (RepresentativeExample, EnUs | EnGb) => {
            "Representative example: credit of {principal} over {count} months at {apr} APR (fixed). Monthly payment {installment}, total interest {interest}, total payable {total}."
        }
        (RepresentativeExample, DeDe) => {
            "Repräsentatives Beispiel: Nettodarlehensbetrag {principal}, Laufzeit {count} Monate, gebundener Sollzins, eff. Jahreszins {apr}. Monatsrate {installment}, Zinsen gesamt {interest}, Gesamtbetrag {total}."
        }
        (RepresentativeExample, SvSe) => {
            "Representativt exempel: kredit på {principal} över {count} månader, effektiv ränta {apr} (fast). Månadsbelopp {installment}, total räntekostnad {interest}, totalt att betala {total}."
        }
        (RepresentativeExample, FrFr) => {
            "Exemple représentatif : crédit de {principal} sur {count} mois, TAEG fixe {apr}. Mensualité {installment}, intérêts totaux {interest}, montant total dû {total}."
        }
        (NoLateFees, EnUs | EnGb) => "No late fees.",
        (NoLateFees, DeDe) => "Keine Mahngebühren.",
        (NoLateFees, SvSe) => "Inga förseningsavgifter.",
        (NoLateFees, FrFr) => "Aucuns frais de retard.",
        (LateFee, EnUs | EnGb) => "Late fee: {fee} per missed payment.",
        (LateFee, DeDe) => "Mahngebühr: {fee} je versäumter Rate.",
        (LateFee, SvSe) => "Förseningsavgift: {fee} per missad betalning.",
        (LateFee, FrFr) => "Frais de retard : {fee} par échéance manquée.",
        (Lender, EnUs | EnGb) => "Credit provided by {lender}.",
        (Lender, DeDe) => "Kreditgeber: {lender}.",
        (Lender, SvSe) => "Kreditgivare: {lender}.",
        (Lender, FrFr) => "Prêteur : {lender}.",
        (HumanReview, EnUs | EnGb) => "You can ask for a person to review this decision: {contact}.",
        (HumanReview, DeDe) => "Sie können verlangen, dass ein Mensch diese Entscheidung prüft: {contact}.",
        (HumanReview, SvSe) => "Du kan begära att en person granskar beslutet: {contact}.",
        (HumanReview, FrFr) => "Vous pouvez demander qu’une personne réexamine cette décision : {contact}.",
        (ReasonAmountOutOfRange, EnUs | EnGb) => "This amount is outside the range this plan covers.",
        (ReasonAmountOutOfRange, DeDe) => "Dieser Betrag liegt außerhalb des Rahmens dieses Plans.",
        (ReasonAmountOutOfRange, SvSe) => "Beloppet ligger utanför det som planen täcker.",
        (ReasonAmountOutOfRange, FrFr) => "Ce montant est en dehors de la fourchette couverte par cette offre.",
        (ReasonUnderAge, EnUs | EnGb) => "You must be 18 or older to use pay later.",
        (ReasonUnderAge, DeDe) => "Für Später bezahlen müssen Sie mindestens 18 Jahre alt sein.",
        (ReasonUnderAge, SvSe) => "Du måste vara minst 18 år för att betala senare.",
        (ReasonUnderAge, FrFr) => "Vous devez avoir au moins 18 ans pour payer plus tard.",
        (ReasonCreditLimit, EnUs | EnGb) => "This purchase would go over your current spending limit.",
        (ReasonCreditLimit, DeDe) => "Dieser Kauf würde Ihr aktuelles Limit überschreiten.",
        (ReasonCreditLimit, SvSe) => "Köpet skulle överskrida din nuvarande kreditgräns.",
        (ReasonCreditLimit, FrFr) => "Cet achat dépasserait votre plafond actuel.",
        (ReasonTooManyAttempts, EnUs | EnGb) => "There were too many attempts in a short time. Please try again later.",
        (ReasonTooManyAttempts, DeDe) => "Zu viele Versuche in kurzer Zeit. Bitte versuchen Sie es später erneut.",
        (ReasonTooManyAttempts, SvSe) => "För många försök på kort tid. Försök igen senare.",
        (ReasonTooManyAttempts, FrFr) => "Trop de tentatives en peu de temps. Veuillez réessayer plus tard.",
        (ReasonNeedsReview, EnUs | EnGb) => "We need a little more time to review this request.",
        (ReasonNeedsReview, DeDe) => "Wir benötigen etwas mehr Zeit, um diese Anfrage zu prüfen.",
        (ReasonNeedsReview, SvSe) => "Vi behöver lite mer tid för att granska förfrågan.",
        (ReasonNeedsReview, FrFr) => "Nous avons besoin d’un peu plus de temps pour examiner cette demande.",
        (ReasonDisposableEmail, EnUs | EnGb) => {
            "We can't accept e-mail addresses from temporary inbox services. Please use your regular e-mail address."
        }
        (ReasonDisposableEmail, DeDe) => {
            "E-Mail-Adressen von Wegwerf-Postfächern können wir nicht annehmen. Bitte verwenden Sie Ihre übliche E-Mail-Adresse."
        }
        (ReasonDisposableEmail, SvSe) => {
            "Vi kan inte ta emot e-postadresser från tillfälliga inkorgar. Använd din vanliga e-postadress."
        }
        (ReasonDisposableEmail, FrFr) => {
            "Nous ne pouvons pas accepter les adresses e-mail temporaires. Veuillez utiliser votre adresse e-mail habituelle."
        }
        (ReasonAutomatedSession, EnUs | EnGb) => "This request looked automated, so we couldn't approve it instantly.",
        (ReasonAutomatedSession, DeDe) => {
            "Diese Anfrage wirkte automatisiert, deshalb konnten wir sie nicht sofort genehmigen."
        }
        (ReasonAutomatedSession, SvSe) => "Förfrågan såg automatiserad ut, så vi kunde inte godkänna den direkt.",
        (ReasonAutomatedSession, FrFr) => {
            "Cette demande semblait automatisée : nous n’avons donc pas pu l’accepter immédiatement."
        }
        (ReasonAmountChanged, EnUs | EnGb) => {
            "The amount changed during checkout. Please start again from the merchant's page."
        }
        (ReasonAmountChanged, DeDe) => {
            "Der Betrag hat sich während des Bezahlvorgangs geändert. Bitte beginnen Sie erneut auf der Seite des Händlers."
        }
        (ReasonAmountChanged, SvSe) => "Beloppet ändrades under köpet. Börja om från butikens sida.",
        (ReasonAmountChanged, FrFr) => {
            "Le montant a changé pendant le paiement. Veuillez recommencer depuis la page du marchand."
        }
        (ReasonDecisionServiceUnavailable, EnUs | EnGb) => {
            "Our decision service is not reachable right now, so a person will review your request."
        }
        (ReasonDecisionServiceUnavailable, DeDe) => {
            "Unser Entscheidungsdienst ist gerade nicht erreichbar, deshalb prüft ein Mensch Ihre Anfrage."
        }
        (ReasonDecisionServiceUnavailable, SvSe) => {
            "Vår beslutstjänst går inte att nå just nu, så en person granskar din förfrågan."
        }
        (ReasonDecisionServiceUnavailable, FrFr) => {
            "Notre service de décision est momentanément injoignable : une personne va donc examiner votre demande."
        }
        (CheckoutEmailLabel, EnUs | EnGb) => "Email address",
        (CheckoutEmailLabel, DeDe) => "E-Mail-Adresse",
        (CheckoutEmailLabel, SvSe) => "E-postadress",
        (CheckoutEmailLabel, FrFr) => "Adresse e-mail",
        (CheckoutDateOfBirthLabel, EnUs | EnGb) => "Date of birth",
        (CheckoutDateOfBirthLabel, DeDe) => "Geburtsdatum",
        (CheckoutDateOfBirthLabel, SvSe) => "Födelsedatum",
        (CheckoutDateOfBirthLabel, FrFr) => "Date de naissance",
        (CheckoutCountryLabel, EnUs | EnGb) => "Country of residence",
        (CheckoutCountryLabel, DeDe) => "Wohnsitzland",
        (CheckoutCountryLabel, SvSe) => "Bosättningsland",
        (CheckoutCountryLabel, FrFr) => "Pays de résidence",
        (CountryUnitedStates, EnUs | EnGb) => "United States",
        (CountryUnitedStates, DeDe) => "Vereinigte Staaten",
        (CountryUnitedStates, SvSe) => "USA",
        (CountryUnitedStates, FrFr) => "États-Unis",
        (CountryUnitedKingdom, EnUs | EnGb) => "United Kingdom",
        (CountryUnitedKingdom, DeDe) => "Vereinigtes Königreich",
        (CountryUnitedKingdom, SvSe) => "Storbritannien",
        (CountryUnitedKingdom, FrFr) => "Royaume-Uni",
        (CountryGermany, EnUs | EnGb) => "Germany",
        (CountryGermany, DeDe) => "Deutschland",
        (CountryGermany, SvSe) => "Tyskland",
        (CountryGermany, FrFr) => "Allemagne",
        (CountrySweden, EnUs | EnGb) => "Sweden",
        (CountrySweden, DeDe) => "Schweden",
        (CountrySweden, SvSe) => "Sverige",
        (CountrySweden, FrFr) => "Suède",
        (CountryFrance, EnUs | EnGb) => "France",
        (CountryFrance, DeDe) => "Frankreich",
        (CountryFrance, SvSe) => "Frankrike",
        (CountryFrance, FrFr) => "France",
        (CheckoutConsentLabel, EnUs | EnGb) => "I accept the pay-later terms.",
        (CheckoutConsentLabel, DeDe) => "Ich akzeptiere die Bedingungen für Später bezahlen.",
        (CheckoutConsentLabel, SvSe) => "Jag godkänner villkoren för betala senare.",
        (CheckoutConsentLabel, FrFr) => "J’accepte les conditions du paiement différé.",
        (CheckoutDataUse, EnUs | EnGb) => "We use these details only to decide on this request.",
        (CheckoutDataUse, DeDe) => "Wir verwenden diese Angaben nur, um über diese Anfrage zu entscheiden.",
        (CheckoutDataUse, SvSe) => "Vi använder uppgifterna bara för att besluta om den här förfrågan.",
        (CheckoutDataUse, FrFr) => "Nous utilisons ces informations uniquement pour statuer sur cette demande.",
        (CheckoutSubmit, EnUs | EnGb) => "Send request",
        (CheckoutSubmit, DeDe) => "Anfrage senden",
        (CheckoutSubmit, SvSe) => "Skicka förfrågan",
        (CheckoutSubmit, FrFr) => "Envoyer la demande",
        (CheckoutErrorSummary, EnUs | EnGb) => "Please correct the following",
        (CheckoutErrorSummary, DeDe) => "Bitte korrigieren Sie Folgendes",
        (CheckoutErrorSummary, SvSe) => "Rätta följande",
        (CheckoutErrorSummary, FrFr) => "Veuillez corriger les points suivants",
        (CheckoutEmailMissing, EnUs | EnGb) => "Enter your email address.",
        (CheckoutEmailMissing, DeDe) => "Geben Sie Ihre E-Mail-Adresse ein.",
        (CheckoutEmailMissing, SvSe) => "Ange din e-postadress.",
        (CheckoutEmailMissing, FrFr) => "Saisissez votre adresse e-mail.",
        (CheckoutEmailInvalid, EnUs | EnGb) => "Enter an email address like name@example.com.",
        (CheckoutEmailInvalid, DeDe) => "Geben Sie eine E-Mail-Adresse wie name@example.com ein.",
        (CheckoutEmailInvalid, SvSe) => "Ange en e-postadress som name@example.com.",
        (CheckoutEmailInvalid, FrFr) => "Saisissez une adresse e-mail comme name@example.com.",
        (CheckoutDateOfBirthMissing, EnUs | EnGb) => "Enter your date of birth.",
        (CheckoutDateOfBirthMissing, DeDe) => "Geben Sie Ihr Geburtsdatum ein.",
        (CheckoutDateOfBirthMissing, SvSe) => "Ange ditt födelsedatum.",
        (CheckoutDateOfBirthMissing, FrFr) => "Saisissez votre date de naissance.",
        (CheckoutDateOfBirthInvalid, EnUs | EnGb) => "Enter a real date of birth in the past.",
        (CheckoutDateOfBirthInvalid, DeDe) => "Geben Sie ein gültiges Geburtsdatum in der Vergangenheit ein.",
        (CheckoutDateOfBirthInvalid, SvSe) => "Ange ett giltigt födelsedatum bakåt i tiden.",
        (CheckoutDateOfBirthInvalid, FrFr) => "Saisissez une date de naissance valide, dans le passé.",
        (CheckoutConsentMissing, EnUs | EnGb) => "Accept the terms to continue.",
        (CheckoutConsentMissing, DeDe) => "Bitte akzeptieren Sie die Bedingungen, um fortzufahren.",
        (CheckoutConsentMissing, SvSe) => "Godkänn villkoren för att fortsätta.",
        (CheckoutConsentMissing, FrFr) => "Acceptez les conditions pour continuer.",
    }
}

/// A piece of a template: literal text or a `{placeholder}` name.
enum Segment<'a> {
    Text(&'a str),
    Placeholder(&'a str),
}

/// Splits a template into text and placeholders; an unclosed `{` stays text.
fn segments(template: &str) -> Vec<Segment<'_>> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start + 1..].find('}') else { break };
        parts.push(Segment::Text(&rest[..start]));
        parts.push(Segment::Placeholder(&rest[start + 1..start + 1 + len]));
        rest = &rest[start + 2 + len..];
    }
    parts.push(Segment::Text(rest));
    parts
}

/// The `{placeholder}` names of a template, in order of appearance.
pub fn placeholders(template: &str) -> Vec<&str> {
    segments(template)
        .into_iter()
        .filter_map(|segment| match segment {
            Segment::Placeholder(name) => Some(name),
            Segment::Text(_) => None,
        })
        .collect()
}

/// Renders a message, filling every placeholder from `values`.
pub fn render(locale: Locale, message: MessageId, values: &[(&str, &str)]) -> Result<String, CatalogError> {
    let template = template(locale, message);
    let mut out = String::with_capacity(template.len() + 32);
    for segment in segments(template) {
        match segment {
            Segment::Text(text) => out.push_str(text),
            Segment::Placeholder(name) => {
                let value = values
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| *value)
                    .ok_or_else(|| CatalogError::MissingValue {
                        message,
                        placeholder: name.to_owned(),
                    })?;
                out.push_str(value);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_locale_has_every_message_with_the_same_placeholders() {
        for &message in MessageId::ALL {
            let mut reference = placeholders(template(Locale::EnUs, message));
            reference.sort_unstable();
            for locale in Locale::ALL {
                let text = template(locale, message);
                assert!(!text.trim().is_empty(), "{message:?} {locale:?}");
                let mut names = placeholders(text);
                names.sort_unstable();
                assert_eq!(names, reference, "{message:?} in {}", locale.tag());
            }
        }
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
    }

    #[test]
    fn locales_resolve_with_fallbacks() {
        let cases = [
            ("en-US", Locale::EnUs),
            ("EN-gb", Locale::EnGb),
            ("de-AT", Locale::DeDe),
            ("sv", Locale::SvSe),
            ("fr-CA", Locale::FrFr),
            ("en-AU", Locale::EnGb),
            ("ja-JP", Locale::EnUs),
            ("", Locale::EnUs),
        ];
        for (tag, locale) in cases {
            assert_eq!(Locale::resolve(tag), locale, "{tag}");
        }
        assert!(Locale::DeDe.is_eu() && !Locale::EnUs.is_eu() && !Locale::EnGb.is_eu());
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
