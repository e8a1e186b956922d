//! Validated request values. Every value here has passed the rulings'
//! validation: amounts share the purchase currency, times are in order.

use chrono::{DateTime, TimeDelta, Utc};

use super::money::Money;
use super::term::Term;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClaimReason {
    ChangeOfMind,
    NonDelivery,
    ServiceOutage,
    TechnicalIssue,
    NotAsDescribed,
    BillingError,
    DuplicatePayment,
    UnauthorizedTransaction,
    DeviceIncompatibility,
    ContentDissatisfaction,
    SetupDifficulty,
    WrongPlanSelected,
    ServerSwitchRequest,
    EndUserMismanagement,
    ChannelUnavailable,
}

impl ClaimReason {
    /// A dispute about the payment itself rather than the service: billing
    /// error, duplicate payment, unauthorized transaction, wrong plan. A
    /// technical cause (customer side, ISP ...) does not apply to these.
    pub fn is_payment(self) -> bool {
        matches!(
            self,
            ClaimReason::BillingError
                | ClaimReason::DuplicatePayment
                | ClaimReason::UnauthorizedTransaction
                | ClaimReason::WrongPlanSelected
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CustomerType {
    /// Not recorded: a consumer, except where the policy's customers are
    /// traders ([`crate::policies::PolicyMeta::unspecified_customer`]).
    #[default]
    Unspecified,
    Consumer,
    Business,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PriceType {
    #[default]
    Standard,
    Promotional,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PaymentMethod {
    #[default]
    Unspecified,
    Card,
    Paypal,
    BankTransfer,
    Crypto,
    PanelBalance,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IssueCause {
    #[default]
    Undiagnosed,
    ServerSide,
    CustomerSide,
    Isp,
    ThirdPartyApp,
    ChannelSource,
    ForceMajeure,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OutageScope {
    #[default]
    Unspecified,
    Full,
    Partial,
    SingleChannel,
}

/// A country as an ISO 3166-1 alpha-2 code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Country([u8; 2]);

/// Every assigned ISO 3166-1 alpha-2 code.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR \
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP \
KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ \
NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW \
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ \
UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// EU member states, the other EEA states (IS, LI, NO), the United Kingdom,
/// and the EU outermost regions and parts with an ISO code of their own (GF,
/// GP, MQ, RE, YT, MF, AX): consumers there have a 14-day right of withdrawal
/// from distance contracts (`domain::withdrawal` computes the period).
const WITHDRAWAL_RIGHT_COUNTRIES: &str =
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK IS LI NO GB GF GP MQ RE YT MF AX";

/// A set of two-letter upper-case codes: bit `b - 'A'` of row `a - 'A'` is
/// set for the code "ab". Built at compile time from the lists above, so a
/// lookup costs a few instructions instead of a scan of the string (the scan
/// was over half the cost of an evaluation; see BENCHMARKS.md).
type CodeSet = [u32; 26];

static ASSIGNED: CodeSet = code_set(COUNTRIES);
static WITHDRAWAL_RIGHT: CodeSet = code_set(WITHDRAWAL_RIGHT_COUNTRIES);

#[expect(
    clippy::indexing_slicing,
    reason = "runs at compile time only: a list that is not space-separated A-Z pairs fails the build"
)]
const fn code_set(list: &str) -> CodeSet {
    let b = list.as_bytes();
    let mut set = [0u32; 26];
    let mut i = 0;
    while i + 1 < b.len() {
        set[(b[i] - b'A') as usize] |= 1 << (b[i + 1] - b'A');
        i += 3;
    }
    set
}

fn in_set(set: &CodeSet, code: [u8; 2]) -> bool {
    let [a, b] = code;
    match (a.checked_sub(b'A'), b.checked_sub(b'A')) {
        (Some(a), Some(b)) if b < 26 => set.get(usize::from(a)).is_some_and(|row| row & (1 << b) != 0),
        _ => false,
    }
}

impl Country {
    /// An assigned ISO 3166-1 alpha-2 code, upper case.
    pub fn from_code(code: &str) -> Option<Country> {
        let bytes: [u8; 2] = code.as_bytes().try_into().ok()?;
        if !bytes.iter().all(u8::is_ascii_uppercase) {
            return None;
        }
        in_set(&ASSIGNED, bytes).then_some(Country(bytes))
    }

    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("ZZ")
    }

    /// The two ASCII upper-case letters of the code.
    pub fn bytes(&self) -> [u8; 2] {
        self.0
    }

    pub fn has_statutory_withdrawal_right(&self) -> bool {
        in_set(&WITHDRAWAL_RIGHT, self.0)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Purchase {
    pub order_id: String,
    pub amount_paid: Money,
    pub purchased_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub term_months: u32,
    pub price_type: PriceType,
    pub payment_method: PaymentMethod,
    pub customer_type: CustomerType,
    pub customer_country: Option<Country>,
    pub express_consent_immediate_performance: bool,
    /// The legal information on the withdrawal right was given (unset on the
    /// wire: given).
    pub withdrawal_information_given: bool,
    pub invoice_number: String,
    pub purchase_email: String,
    pub reseller_id: String,
    pub transaction_id: String,
}

impl Purchase {
    /// A purchase of `amount_paid` at `purchased_at`, not delivered, with
    /// every optional field empty: a base for struct-update syntax.
    pub fn new(amount_paid: Money, purchased_at: DateTime<Utc>) -> Purchase {
        Purchase {
            order_id: String::new(),
            amount_paid,
            purchased_at,
            delivered_at: None,
            term_months: 0,
            price_type: PriceType::Standard,
            payment_method: PaymentMethod::Unspecified,
            customer_type: CustomerType::Unspecified,
            customer_country: None,
            express_consent_immediate_performance: false,
            withdrawal_information_given: true,
            invoice_number: String::new(),
            purchase_email: String::new(),
            reseller_id: String::new(),
            transaction_id: String::new(),
        }
    }

    /// The service term bought (from delivery, else purchase), `None` without
    /// `term_months`.
    pub fn term(&self) -> Option<Term> {
        Term::new(self.purchased_at, self.delivered_at, self.term_months)
    }

    /// Whether access details or credits had been delivered at `t`.
    pub fn delivered_by(&self, t: DateTime<Utc>) -> bool {
        self.delivered_at.is_some_and(|d| d <= t)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Outage {
    pub duration: TimeDelta,
    pub announced: bool,
    pub scope: OutageScope,
    pub resolved: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SupportHistory {
    pub contacted: bool,
    pub first_contacted_at: Option<DateTime<Utc>>,
    pub troubleshooting_completed: bool,
    pub resolved: bool,
    pub incompatibility_confirmed: bool,
    pub compensation_offered: bool,
    pub compensation_declined: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    pub reason: ClaimReason,
    /// When the claim was filed; already defaulted to `evaluated_at`.
    pub submitted_at: DateTime<Utc>,
    pub issue_started_at: Option<DateTime<Utc>>,
    pub cause: IssueCause,
    pub outage: Option<Outage>,
    pub support: SupportHistory,
    pub description: String,
    pub evidence_attachments: u32,
    pub charged_amount: Option<Money>,
    pub expected_amount: Option<Money>,
    pub duplicate_amount: Option<Money>,
    pub device_officially_supported: Option<bool>,
    pub device_meets_minimum_requirements: Option<bool>,
    pub terms_violation: bool,
    pub chargeback_filed: bool,
    pub concerns_adult_content: bool,
}

impl Claim {
    /// A claim for `reason` filed at `submitted_at` with nothing else known:
    /// a base for struct-update syntax.
    pub fn new(reason: ClaimReason, submitted_at: DateTime<Utc>) -> Claim {
        Claim {
            reason,
            submitted_at,
            issue_started_at: None,
            cause: IssueCause::Undiagnosed,
            outage: None,
            support: SupportHistory::default(),
            description: String::new(),
            evidence_attachments: 0,
            charged_amount: None,
            expected_amount: None,
            duplicate_amount: None,
            device_officially_supported: None,
            device_meets_minimum_requirements: None,
            terms_violation: false,
            chargeback_filed: false,
            concerns_adult_content: false,
        }
    }
}

/// Languages the service answers in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    En,
    Fr,
}

impl Language {
    /// A BCP 47 tag's language: "fr", "fr-FR", "FR_ca" are French; anything
    /// else is English; an empty tag is `None` (the policy's default).
    pub fn from_tag(tag: &str) -> Option<Language> {
        if tag.trim().is_empty() {
            return None;
        }
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        Some(if primary.eq_ignore_ascii_case("fr") {
            Language::Fr
        } else {
            Language::En
        })
    }

    pub fn tag(&self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Fr => "fr",
        }
    }
}

/// A validated EvaluateClaim request.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimRequest {
    pub purchase: Purchase,
    pub claim: Claim,
    pub evaluated_at: DateTime<Utc>,
}

/// A validated QuoteRefund request.
#[derive(Clone, Debug, PartialEq)]
pub struct QuoteRequest {
    pub purchase: Purchase,
    pub as_of: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries() {
        assert_eq!(COUNTRIES.split(' ').count(), 249);
        assert!(Country::from_code("FR").is_some());
        assert!(Country::from_code("fr").is_none());
        assert!(Country::from_code("XX").is_none());
        assert!(Country::from_code("UK").is_none()); // reserved, not assigned
        assert!(Country::from_code("FRA").is_none());
        assert_eq!(WITHDRAWAL_RIGHT_COUNTRIES.split(' ').count(), 38);
        for c in WITHDRAWAL_RIGHT_COUNTRIES.split(' ') {
            assert!(
                Country::from_code(c).is_some_and(|c| c.has_statutory_withdrawal_right()),
                "{c}"
            );
        }
        assert!(Country::from_code("US").is_some_and(|c| !c.has_statutory_withdrawal_right()));
        assert!(Country::from_code("CH").is_some_and(|c| !c.has_statutory_withdrawal_right()));
    }

    #[test]
    fn code_sets_match_the_lists() {
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                let code = [a, b];
                let s = std::str::from_utf8(&code).unwrap();
                assert_eq!(in_set(&ASSIGNED, code), COUNTRIES.split(' ').any(|c| c == s), "{s}");
                let right = WITHDRAWAL_RIGHT_COUNTRIES.split(' ').any(|c| c == s);
                assert_eq!(in_set(&WITHDRAWAL_RIGHT, code), right, "{s}");
            }
        }
        assert!(!in_set(&ASSIGNED, *b"a@"));
    }

    #[test]
    fn languages() {
        assert_eq!(Language::from_tag(""), None);
        assert_eq!(Language::from_tag("fr"), Some(Language::Fr));
        assert_eq!(Language::from_tag("fr-FR"), Some(Language::Fr));
        assert_eq!(Language::from_tag("FR_ca"), Some(Language::Fr));
        assert_eq!(Language::from_tag("en-GB"), Some(Language::En));
        assert_eq!(Language::from_tag("de"), Some(Language::En));
        assert_eq!(Language::from_tag("french"), Some(Language::En));
    }
}
