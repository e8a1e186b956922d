//! Decoding: wire messages into validated domain values, one function per
//! message. Decoding can fail, and then names every bad field at once (one
//! [`FieldViolation`] each, in the order of the message's fields), never
//! just the first.

use chrono::{DateTime, TimeDelta, Utc};

use super::pb;
use crate::domain::claim::{
    Claim, ClaimReason, ClaimRequest, Country, CustomerType, IssueCause, Language, Outage, OutageScope, PaymentMethod,
    PriceType, Purchase, QuoteRequest, SupportHistory,
};
use crate::domain::money::{Currency, Money};
use crate::domain::term::MAX_TERM_MONTHS;
use crate::policies::PolicyId;

/// One bad field: its proto path and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

/// Why a request cannot be decided.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("invalid request: {}", summary(.0))]
    Invalid(Vec<FieldViolation>),
    #[error("policy {0:?} not found; ListPolicies names the compiled-in policies")]
    PolicyNotFound(String),
}

fn summary(v: &[FieldViolation]) -> String {
    v.iter()
        .map(|f| format!("{}: {}", f.field, f.description))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A decoded EvaluateClaim request with what the engine does not need.
pub struct EvaluateInput {
    pub policy: PolicyId,
    pub request: ClaimRequest,
    pub language: Option<Language>,
    pub request_id: String,
    /// Whether the answer carries the rule trace.
    pub explain: bool,
}

/// A decoded QuoteRefund request.
pub struct QuoteInput {
    pub policy: PolicyId,
    pub request: QuoteRequest,
    pub language: Option<Language>,
}

/// Decodes and validates an EvaluateClaim request; `now` stands in for an
/// unset `evaluated_at`.
pub fn decode_evaluate(req: pb::EvaluateClaimRequest, now: DateTime<Utc>) -> Result<EvaluateInput, RequestError> {
    let mut v = Violations::default();
    if req.policy_id.is_empty() {
        v.add("policy_id", "is required");
    }
    let evaluated_at = req
        .evaluated_at
        .as_ref()
        .map_or(Ok(now), |ts| decode_timestamp(&mut v, ts, "evaluated_at"));
    // The claim's amounts are checked against amount_paid's currency even when
    // another purchase field is bad, so that every bad field is reported at once.
    let currency = req
        .purchase
        .as_ref()
        .and_then(|p| p.amount_paid.as_ref())
        .and_then(|m| Currency::from_code(&m.currency_code));
    let purchase = v
        .required(req.purchase, "purchase")
        .and_then(|p| decode_purchase(&mut v, p));
    let context = ClaimContext {
        currency,
        // The claim's dates are checked against the purchase only when all of it decoded.
        purchased_at: purchase.as_ref().ok().map(|p| p.purchased_at),
        evaluated_at,
    };
    let claim = v
        .required(req.claim, "claim")
        .and_then(|c| decode_claim(&mut v, c, &context));
    match (purchase, claim, evaluated_at) {
        (Ok(purchase), Ok(claim), Ok(evaluated_at)) if v.is_empty() => Ok(EvaluateInput {
            policy: policy(&req.policy_id)?,
            request: ClaimRequest {
                purchase,
                claim,
                evaluated_at,
            },
            language: Language::from_tag(&req.locale),
            request_id: req.request_id,
            explain: req.explain,
        }),
        _ => Err(v.into_error("claim")),
    }
}

/// Decodes and validates a QuoteRefund request; `now` stands in for an unset `as_of`.
pub fn decode_quote(req: pb::QuoteRefundRequest, now: DateTime<Utc>) -> Result<QuoteInput, RequestError> {
    let mut v = Violations::default();
    if req.policy_id.is_empty() {
        v.add("policy_id", "is required");
    }
    let as_of = req
        .as_of
        .as_ref()
        .map_or(Ok(now), |ts| decode_timestamp(&mut v, ts, "as_of"));
    let purchase = v
        .required(req.purchase, "purchase")
        .and_then(|p| decode_purchase(&mut v, p));
    match (purchase, as_of) {
        (Ok(purchase), Ok(as_of)) if v.is_empty() => Ok(QuoteInput {
            policy: policy(&req.policy_id)?,
            request: QuoteRequest { purchase, as_of },
            language: Language::from_tag(&req.locale),
        }),
        _ => Err(v.into_error("purchase")),
    }
}

/// A compiled-in policy by id (looked up once the request is otherwise valid).
fn policy(id: &str) -> Result<PolicyId, RequestError> {
    PolicyId::from_id(id).ok_or_else(|| RequestError::PolicyNotFound(id.to_owned()))
}

/// `purchase` (shared by EvaluateClaim and QuoteRefund).
fn decode_purchase(v: &mut Violations, p: pb::Purchase) -> Decoded<Purchase> {
    let amount_paid = v
        .required(p.amount_paid.as_ref(), "purchase.amount_paid")
        .and_then(|m| decode_money(v, m, "purchase.amount_paid", None));
    let purchased_at = v
        .required(p.purchased_at.as_ref(), "purchase.purchased_at")
        .and_then(|ts| decode_timestamp(v, ts, "purchase.purchased_at"));
    // A bad delivered_at (or term) is reported but leaves the purchase
    // standing, so that the claim's dates are still checked against it.
    let delivered_at = p
        .delivered_at
        .as_ref()
        .and_then(|ts| decode_timestamp(v, ts, "purchase.delivered_at").ok());
    if let (Some(d), Ok(pa)) = (delivered_at, purchased_at) {
        if d < pa {
            v.add("purchase.delivered_at", "is before purchase.purchased_at");
        }
    }
    if p.term_months > MAX_TERM_MONTHS {
        v.add(
            "purchase.term_months",
            format!("{} exceeds the maximum of {MAX_TERM_MONTHS} months", p.term_months),
        );
    }
    let price_type = v.enumeration::<pb::PriceType, PriceType>(p.price_type, "purchase.price_type");
    let payment_method = v.enumeration::<pb::PaymentMethod, PaymentMethod>(p.payment_method, "purchase.payment_method");
    let customer_type = v.enumeration::<pb::CustomerType, CustomerType>(p.customer_type, "purchase.customer_type");
    let customer_country = decode_country(v, &p.customer_country);
    Ok(Purchase {
        order_id: p.order_id,
        amount_paid: amount_paid?,
        purchased_at: purchased_at?,
        delivered_at,
        term_months: p.term_months,
        price_type: price_type?,
        payment_method: payment_method?,
        customer_type: customer_type?,
        customer_country: customer_country?,
        express_consent_immediate_performance: p.express_consent_immediate_performance,
        withdrawal_information_given: p.withdrawal_information_given.unwrap_or(true),
        invoice_number: p.invoice_number,
        purchase_email: p.purchase_email,
        reseller_id: p.reseller_id,
        transaction_id: p.transaction_id,
    })
}

/// What a claim is checked against: the rest of the request.
struct ClaimContext {
    /// `purchase.amount_paid`'s currency, which every amount of the claim
    /// shares (`None`: unknown, already reported).
    currency: Option<Currency>,
    /// `purchase.purchased_at`, when the whole purchase decoded.
    purchased_at: Option<DateTime<Utc>>,
    /// `evaluated_at`, or the server clock when unset.
    evaluated_at: Decoded<DateTime<Utc>>,
}

/// `claim`.
fn decode_claim(v: &mut Violations, c: pb::Claim, context: &ClaimContext) -> Decoded<Claim> {
    let reason = if c.reason == pb::ClaimReason::Unspecified as i32 {
        Err(v.add("claim.reason", "is required (CLAIM_REASON_UNSPECIFIED is not a reason)"))
    } else {
        v.enumeration::<pb::ClaimReason, ClaimReason>(c.reason, "claim.reason")
    };
    // An unset submitted_at is evaluated_at, and a bad order is that field's fault.
    let (submitted_at, submitted_field) = match c.submitted_at.as_ref() {
        Some(ts) => (decode_timestamp(v, ts, "claim.submitted_at"), "claim.submitted_at"),
        None => (context.evaluated_at, "evaluated_at"),
    };
    if let (Ok(s), Some(pa)) = (submitted_at, context.purchased_at) {
        if s < pa {
            v.add(submitted_field, "is before purchase.purchased_at");
        }
    }
    if let (Ok(s), Ok(e)) = (submitted_at, context.evaluated_at) {
        if s > e {
            v.add("claim.submitted_at", "is after evaluated_at");
        }
    }
    let issue_started_at = c
        .issue_started_at
        .as_ref()
        .map(|ts| decode_timestamp(v, ts, "claim.issue_started_at"))
        .transpose();
    let cause = v.enumeration::<pb::IssueCause, IssueCause>(c.cause, "claim.cause");
    let outage = c.outage.map(|o| decode_outage(v, o)).transpose();
    let support = decode_support(v, c.support.unwrap_or_default());
    let charged_amount = c
        .charged_amount
        .as_ref()
        .map(|m| decode_money(v, m, "claim.charged_amount", context.currency))
        .transpose();
    let expected_amount = c
        .expected_amount
        .as_ref()
        .map(|m| decode_money(v, m, "claim.expected_amount", context.currency))
        .transpose();
    let duplicate_amount = c
        .duplicate_amount
        .as_ref()
        .map(|m| decode_money(v, m, "claim.duplicate_amount", context.currency))
        .transpose();
    Ok(Claim {
        reason: reason?,
        submitted_at: submitted_at?,
        issue_started_at: issue_started_at?,
        cause: cause?,
        outage: outage?,
        support: support?,
        description: c.description,
        evidence_attachments: c.evidence_attachments,
        charged_amount: charged_amount?,
        expected_amount: expected_amount?,
        duplicate_amount: duplicate_amount?,
        device_officially_supported: c.device_officially_supported,
        device_meets_minimum_requirements: c.device_meets_minimum_requirements,
        terms_violation: c.terms_violation,
        chargeback_filed: c.chargeback_filed,
        concerns_adult_content: c.concerns_adult_content,
    })
}

/// `claim.outage`; an unset duration is zero.
fn decode_outage(v: &mut Violations, o: pb::Outage) -> Decoded<Outage> {
    let duration = o.duration.as_ref().map_or(Ok(TimeDelta::zero()), |d| {
        decode_duration(v, d, "claim.outage.duration")
    });
    let scope = v.enumeration::<pb::OutageScope, OutageScope>(o.scope, "claim.outage.scope");
    Ok(Outage {
        duration: duration?,
        announced: o.announced,
        scope: scope?,
        resolved: o.resolved,
    })
}

/// `claim.support`.
fn decode_support(v: &mut Violations, s: pb::SupportHistory) -> Decoded<SupportHistory> {
    let first_contacted_at = s
        .first_contacted_at
        .as_ref()
        .map(|ts| decode_timestamp(v, ts, "claim.support.first_contacted_at"))
        .transpose()?;
    Ok(SupportHistory {
        contacted: s.contacted,
        first_contacted_at,
        troubleshooting_completed: s.troubleshooting_completed,
        resolved: s.resolved,
        incompatibility_confirmed: s.incompatibility_confirmed,
        compensation_offered: s.compensation_offered,
        compensation_declined: s.compensation_declined,
    })
}

/// A Money at `field`; in `currency` when given (the purchase's), else in
/// any ISO 4217 currency.
fn decode_money(v: &mut Violations, m: &pb::Money, field: &str, currency: Option<Currency>) -> Decoded<Money> {
    // The field's path is built only for a violation: a valid amount costs no string.
    let code_field = || format!("{field}.currency_code");
    let currency = match currency {
        None => Currency::from_code(&m.currency_code).ok_or_else(|| {
            v.add(
                code_field(),
                format!(
                    "currency code {:?} is not an ISO 4217 code of three upper-case letters",
                    m.currency_code
                ),
            )
        })?,
        Some(c) if m.currency_code == c.code() => c,
        Some(c) => {
            return Err(v.add(
                code_field(),
                format!(
                    "currency {:?} differs from the purchase's currency {:?}",
                    m.currency_code,
                    c.code()
                ),
            ))
        }
    };
    Money::parse(currency, &m.amount).map_err(|e| v.add(format!("{field}.amount"), e.to_string()))
}

/// `purchase.customer_country`; empty is unknown.
fn decode_country(v: &mut Violations, code: &str) -> Decoded<Option<Country>> {
    if code.is_empty() {
        return Ok(None);
    }
    Country::from_code(code).map(Some).ok_or_else(|| {
        v.add(
            "purchase.customer_country",
            format!("{code:?} is not an assigned ISO 3166-1 alpha-2 code (upper case)"),
        )
    })
}

fn decode_timestamp(v: &mut Violations, ts: &prost_types::Timestamp, field: &str) -> Decoded<DateTime<Utc>> {
    // The range protobuf's Timestamp allows: 0001-01-01 to 9999-12-31.
    const MIN: i64 = -62_135_596_800;
    const MAX: i64 = 253_402_300_799;
    match u32::try_from(ts.nanos).ok().filter(|n| *n < 1_000_000_000) {
        Some(n) if (MIN..=MAX).contains(&ts.seconds) => DateTime::from_timestamp(ts.seconds, n)
            .ok_or_else(|| v.add(field, format!("timestamp {}s is out of range", ts.seconds))),
        _ => Err(v.add(
            field,
            format!(
                "timestamp {{seconds: {}, nanos: {}}} is not a valid instant between years 1 and 9999",
                ts.seconds, ts.nanos
            ),
        )),
    }
}

fn decode_duration(v: &mut Violations, d: &prost_types::Duration, field: &str) -> Decoded<TimeDelta> {
    // protobuf's Duration: |seconds| <= 315,576,000,000 and nanos of the same sign.
    // unsigned_abs: i64::MIN / i32::MIN have no positive counterpart (abs() overflows).
    let valid_range = d.seconds.unsigned_abs() <= 315_576_000_000 && d.nanos.unsigned_abs() < 1_000_000_000;
    let same_sign = (d.seconds >= 0 && d.nanos >= 0) || (d.seconds <= 0 && d.nanos <= 0);
    if !valid_range || !same_sign {
        return Err(v.add(
            field,
            format!(
                "duration {{seconds: {}, nanos: {}}} is not a valid duration",
                d.seconds, d.nanos
            ),
        ));
    }
    if d.seconds < 0 || d.nanos < 0 {
        return Err(v.add(field, format!("duration {}s is negative", d.seconds)));
    }
    // In range and non-negative: TimeDelta holds it.
    TimeDelta::new(d.seconds, d.nanos.unsigned_abs()).ok_or(Reported)
}

// ---- enumerations: the wire's names for the domain's values ----

/// `CLAIM_REASON_UNSPECIFIED`, which is not a reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnspecifiedReason;

impl TryFrom<pb::ClaimReason> for ClaimReason {
    type Error = UnspecifiedReason;

    fn try_from(r: pb::ClaimReason) -> Result<ClaimReason, UnspecifiedReason> {
        use pb::ClaimReason as P;
        Ok(match r {
            P::Unspecified => return Err(UnspecifiedReason),
            P::ChangeOfMind => ClaimReason::ChangeOfMind,
            P::NonDelivery => ClaimReason::NonDelivery,
            P::ServiceOutage => ClaimReason::ServiceOutage,
            P::TechnicalIssue => ClaimReason::TechnicalIssue,
            P::NotAsDescribed => ClaimReason::NotAsDescribed,
            P::BillingError => ClaimReason::BillingError,
            P::DuplicatePayment => ClaimReason::DuplicatePayment,
            P::UnauthorizedTransaction => ClaimReason::UnauthorizedTransaction,
            P::DeviceIncompatibility => ClaimReason::DeviceIncompatibility,
            P::ContentDissatisfaction => ClaimReason::ContentDissatisfaction,
            P::SetupDifficulty => ClaimReason::SetupDifficulty,
            P::WrongPlanSelected => ClaimReason::WrongPlanSelected,
            P::ServerSwitchRequest => ClaimReason::ServerSwitchRequest,
            P::EndUserMismanagement => ClaimReason::EndUserMismanagement,
            P::ChannelUnavailable => ClaimReason::ChannelUnavailable,
        })
    }
}

impl From<pb::CustomerType> for CustomerType {
    fn from(t: pb::CustomerType) -> CustomerType {
        use pb::CustomerType as P;
        match t {
            P::Unspecified => CustomerType::Unspecified,
            P::Consumer => CustomerType::Consumer,
            P::Business => CustomerType::Business,
        }
    }
}

impl From<pb::PriceType> for PriceType {
    fn from(t: pb::PriceType) -> PriceType {
        use pb::PriceType as P;
        match t {
            P::Unspecified | P::Standard => PriceType::Standard,
            P::Promotional => PriceType::Promotional,
        }
    }
}

impl From<pb::PaymentMethod> for PaymentMethod {
    fn from(m: pb::PaymentMethod) -> PaymentMethod {
        use pb::PaymentMethod as P;
        match m {
            P::Unspecified => PaymentMethod::Unspecified,
            P::Card => PaymentMethod::Card,
            P::Paypal => PaymentMethod::Paypal,
            P::BankTransfer => PaymentMethod::BankTransfer,
            P::Crypto => PaymentMethod::Crypto,
            P::PanelBalance => PaymentMethod::PanelBalance,
            P::Other => PaymentMethod::Other,
        }
    }
}

impl From<pb::IssueCause> for IssueCause {
    fn from(c: pb::IssueCause) -> IssueCause {
        use pb::IssueCause as P;
        match c {
            P::Unspecified => IssueCause::Undiagnosed,
            P::ServerSide => IssueCause::ServerSide,
            P::CustomerSide => IssueCause::CustomerSide,
            P::Isp => IssueCause::Isp,
            P::ThirdPartyApp => IssueCause::ThirdPartyApp,
            P::ChannelSource => IssueCause::ChannelSource,
            P::ForceMajeure => IssueCause::ForceMajeure,
        }
    }
}

impl From<pb::OutageScope> for OutageScope {
    fn from(s: pb::OutageScope) -> OutageScope {
        use pb::OutageScope as P;
        match s {
            P::Unspecified => OutageScope::Unspecified,
            P::Full => OutageScope::Full,
            P::Partial => OutageScope::Partial,
            P::SingleChannel => OutageScope::SingleChannel,
        }
    }
}

// ---- collecting violations ----

/// A bad field has been recorded in [`Violations`]: the value it would have
/// given is missing, and the request will be rejected.
#[derive(Clone, Copy, Debug)]
struct Reported;

/// A decoded value, or the mark that why it is missing has been recorded.
type Decoded<T> = Result<T, Reported>;

/// The violations found so far in one request.
#[derive(Default)]
struct Violations(Vec<FieldViolation>);

impl Violations {
    fn add(&mut self, field: impl Into<String>, description: impl Into<String>) -> Reported {
        self.0.push(FieldViolation {
            field: field.into(),
            description: description.into(),
        });
        Reported
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn required<T>(&mut self, value: Option<T>, field: &str) -> Decoded<T> {
        value.ok_or_else(|| self.add(field, "is required"))
    }

    /// An enum field: `W` is the wire's enum, `D` the domain's.
    fn enumeration<W: TryFrom<i32>, D: TryFrom<W>>(&mut self, value: i32, field: &str) -> Decoded<D> {
        W::try_from(value)
            .ok()
            .and_then(|w| D::try_from(w).ok())
            .ok_or_else(|| self.add(field, format!("unknown enum value {value}")))
    }

    /// The request's rejection. Every missing value was reported, so the
    /// list is not empty; `fallback` names the field were it ever so.
    fn into_error(self, fallback: &str) -> RequestError {
        if self.0.is_empty() {
            return RequestError::Invalid(vec![FieldViolation {
                field: fallback.into(),
                description: "could not be decoded".into(),
            }]);
        }
        RequestError::Invalid(self.0)
    }
}
