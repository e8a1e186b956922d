//! The edge: decoding a request into validated domain values (which can
//! fail, naming every bad field at once) and encoding answers (which cannot).

use chrono::{DateTime, TimeDelta, Utc};

use super::pb;
use crate::domain::claim::{
    Claim, ClaimReason, ClaimRequest, Country, CustomerType, IssueCause, Language, Outage, OutageScope, PaymentMethod,
    PriceType, Purchase, QuoteRequest, SupportHistory,
};
use crate::domain::decision::{
    Compensation, CompensationKind, Consequence, Decision, Outcome, Quote, Reason, RefundBasis, RefundMethod, Timeline,
    Window,
};
use crate::domain::money::{Currency, Money};
use crate::domain::term::MAX_TERM_MONTHS;
use crate::i18n;
use crate::policies::{common, statutory, PolicyId, PolicyMeta, RULES_EDITION};

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

/// Collects violations while a request is decoded.
#[derive(Default)]
struct Violations(Vec<FieldViolation>);

impl Violations {
    fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation {
            field: field.into(),
            description: description.into(),
        });
    }

    fn required<T>(&mut self, value: Option<T>, field: &str) -> Option<T> {
        if value.is_none() {
            self.add(field, "is required");
        }
        value
    }

    fn timestamp(&mut self, ts: Option<&prost_types::Timestamp>, field: &str) -> Option<DateTime<Utc>> {
        let ts = ts?;
        // The range protobuf's Timestamp allows: 0001-01-01 to 9999-12-31.
        const MIN: i64 = -62_135_596_800;
        const MAX: i64 = 253_402_300_799;
        let nanos = u32::try_from(ts.nanos).ok().filter(|n| *n < 1_000_000_000);
        match nanos {
            Some(n) if (MIN..=MAX).contains(&ts.seconds) => DateTime::from_timestamp(ts.seconds, n).or_else(|| {
                self.add(field, format!("timestamp {}s is out of range", ts.seconds));
                None
            }),
            _ => {
                self.add(
                    field,
                    format!(
                        "timestamp {{seconds: {}, nanos: {}}} is not a valid instant between years 1 and 9999",
                        ts.seconds, ts.nanos
                    ),
                );
                None
            }
        }
    }

    fn enumeration<T>(&mut self, value: i32, field: &str, decode: impl Fn(i32) -> Option<T>) -> Option<T> {
        let decoded = decode(value);
        if decoded.is_none() {
            self.add(field, format!("unknown enum value {value}"));
        }
        decoded
    }

    fn currency(&mut self, code: &str, field: &str) -> Option<Currency> {
        let currency = Currency::from_code(code);
        if currency.is_none() {
            self.add(
                field,
                format!("currency code {code:?} is not an ISO 4217 code of three upper-case letters"),
            );
        }
        currency
    }

    /// A Money in the purchase's currency (`None` when the purchase's is unknown).
    fn money(&mut self, m: &pb::Money, field: &str, purchase_currency: Option<Currency>) -> Option<Money> {
        let code_field = format!("{field}.currency_code");
        let currency = match purchase_currency {
            None => self.currency(&m.currency_code, &code_field)?,
            Some(pc) if m.currency_code == pc.code() => pc,
            Some(pc) => {
                self.add(
                    code_field,
                    format!(
                        "currency {:?} differs from the purchase's currency {:?}",
                        m.currency_code,
                        pc.code()
                    ),
                );
                return None;
            }
        };
        match Money::parse(currency, &m.amount) {
            Ok(money) => Some(money),
            Err(e) => {
                self.add(format!("{field}.amount"), e.to_string());
                None
            }
        }
    }
}

fn claim_reason(v: i32) -> Option<ClaimReason> {
    use pb::ClaimReason as P;
    Some(match P::try_from(v).ok()? {
        P::Unspecified => return None,
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

fn customer_type(v: i32) -> Option<CustomerType> {
    use pb::CustomerType as P;
    Some(match P::try_from(v).ok()? {
        P::Unspecified => CustomerType::Unspecified,
        P::Consumer => CustomerType::Consumer,
        P::Business => CustomerType::Business,
    })
}

fn price_type(v: i32) -> Option<PriceType> {
    use pb::PriceType as P;
    Some(match P::try_from(v).ok()? {
        P::Unspecified | P::Standard => PriceType::Standard,
        P::Promotional => PriceType::Promotional,
    })
}

fn payment_method(v: i32) -> Option<PaymentMethod> {
    use pb::PaymentMethod as P;
    Some(match P::try_from(v).ok()? {
        P::Unspecified => PaymentMethod::Unspecified,
        P::Card => PaymentMethod::Card,
        P::Paypal => PaymentMethod::Paypal,
        P::BankTransfer => PaymentMethod::BankTransfer,
        P::Crypto => PaymentMethod::Crypto,
        P::PanelBalance => PaymentMethod::PanelBalance,
        P::Other => PaymentMethod::Other,
    })
}

fn issue_cause(v: i32) -> Option<IssueCause> {
    use pb::IssueCause as P;
    Some(match P::try_from(v).ok()? {
        P::Unspecified => IssueCause::Undiagnosed,
        P::ServerSide => IssueCause::ServerSide,
        P::CustomerSide => IssueCause::CustomerSide,
        P::Isp => IssueCause::Isp,
        P::ThirdPartyApp => IssueCause::ThirdPartyApp,
        P::ChannelSource => IssueCause::ChannelSource,
        P::ForceMajeure => IssueCause::ForceMajeure,
    })
}

fn outage_scope(v: i32) -> Option<OutageScope> {
    use pb::OutageScope as P;
    Some(match P::try_from(v).ok()? {
        P::Unspecified => OutageScope::Unspecified,
        P::Full => OutageScope::Full,
        P::Partial => OutageScope::Partial,
        P::SingleChannel => OutageScope::SingleChannel,
    })
}

/// Decodes `purchase` (shared by EvaluateClaim and QuoteRefund).
fn decode_purchase(v: &mut Violations, p: Option<pb::Purchase>) -> Option<Purchase> {
    let p = v.required(p, "purchase")?;
    let amount = v.required(p.amount_paid.as_ref(), "purchase.amount_paid");
    let amount_paid = amount.and_then(|m| v.money(m, "purchase.amount_paid", None));
    let purchased_at = v.required(p.purchased_at.as_ref(), "purchase.purchased_at");
    let purchased_at = v.timestamp(purchased_at, "purchase.purchased_at");
    let delivered_at = v.timestamp(p.delivered_at.as_ref(), "purchase.delivered_at");
    if let (Some(d), Some(pa)) = (delivered_at, purchased_at) {
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
    let price_type = v.enumeration(p.price_type, "purchase.price_type", price_type);
    let payment_method = v.enumeration(p.payment_method, "purchase.payment_method", payment_method);
    let customer_type = v.enumeration(p.customer_type, "purchase.customer_type", customer_type);
    let customer_country = if p.customer_country.is_empty() {
        Some(None)
    } else {
        let c = Country::from_code(&p.customer_country);
        if c.is_none() {
            v.add(
                "purchase.customer_country",
                format!(
                    "{:?} is not an assigned ISO 3166-1 alpha-2 code (upper case)",
                    p.customer_country
                ),
            );
        }
        c.map(Some)
    };
    Some(Purchase {
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

fn decode_duration(v: &mut Violations, d: &prost_types::Duration, field: &str) -> Option<TimeDelta> {
    // protobuf's Duration: |seconds| <= 315,576,000,000 and nanos of the same sign.
    // unsigned_abs: i64::MIN / i32::MIN have no positive counterpart (abs() overflows).
    let valid_range = d.seconds.unsigned_abs() <= 315_576_000_000 && d.nanos.unsigned_abs() < 1_000_000_000;
    let same_sign = (d.seconds >= 0 && d.nanos >= 0) || (d.seconds <= 0 && d.nanos <= 0);
    if !valid_range || !same_sign {
        v.add(
            field,
            format!(
                "duration {{seconds: {}, nanos: {}}} is not a valid duration",
                d.seconds, d.nanos
            ),
        );
        return None;
    }
    if d.seconds < 0 || d.nanos < 0 {
        v.add(field, format!("duration {}s is negative", d.seconds));
        return None;
    }
    TimeDelta::new(d.seconds, d.nanos.unsigned_abs())
}

/// A decoded EvaluateClaim request with what the engine does not need.
pub struct EvaluateInput {
    pub policy: PolicyId,
    pub request: ClaimRequest,
    pub language: Option<Language>,
    pub request_id: String,
}

/// Decodes and validates an EvaluateClaim request; `now` stands in for an
/// unset `evaluated_at`.
pub fn decode_evaluate(req: pb::EvaluateClaimRequest, now: DateTime<Utc>) -> Result<EvaluateInput, RequestError> {
    let mut v = Violations::default();
    if req.policy_id.is_empty() {
        v.add("policy_id", "is required");
    }
    let evaluated_at = match req.evaluated_at.as_ref() {
        Some(ts) => v.timestamp(Some(ts), "evaluated_at"),
        None => Some(now),
    };
    // The claim's amounts are checked against amount_paid's currency even when
    // another purchase field is bad, so that every bad field is reported at once.
    let paid_currency = req
        .purchase
        .as_ref()
        .and_then(|p| p.amount_paid.as_ref())
        .and_then(|m| Currency::from_code(&m.currency_code));
    let purchase = decode_purchase(&mut v, req.purchase);
    let currency = purchase.as_ref().map(|p| p.amount_paid.currency()).or(paid_currency);
    let purchased_at = purchase.as_ref().map(|p| p.purchased_at);
    let claim = v.required(req.claim, "claim").and_then(|c| {
        let reason = match c.reason {
            0 => {
                v.add("claim.reason", "is required (CLAIM_REASON_UNSPECIFIED is not a reason)");
                None
            }
            n => v.enumeration(n, "claim.reason", claim_reason),
        };
        let submitted_field = if c.submitted_at.is_some() {
            "claim.submitted_at"
        } else {
            "evaluated_at"
        };
        let submitted_at = match c.submitted_at.as_ref() {
            Some(ts) => v.timestamp(Some(ts), "claim.submitted_at"),
            None => evaluated_at,
        };
        if let (Some(s), Some(pa)) = (submitted_at, purchased_at) {
            if s < pa {
                v.add(submitted_field, "is before purchase.purchased_at");
            }
        }
        if let (Some(s), Some(e)) = (submitted_at, evaluated_at) {
            if c.submitted_at.is_some() && s > e {
                v.add("claim.submitted_at", "is after evaluated_at");
            }
        }
        let issue_started_at = v.timestamp(c.issue_started_at.as_ref(), "claim.issue_started_at");
        let cause = v.enumeration(c.cause, "claim.cause", issue_cause);
        let outage = match c.outage {
            None => Some(None),
            Some(o) => {
                let duration = match o.duration.as_ref() {
                    Some(d) => decode_duration(&mut v, d, "claim.outage.duration"),
                    None => Some(TimeDelta::zero()),
                };
                let scope = v.enumeration(o.scope, "claim.outage.scope", outage_scope);
                match (duration, scope) {
                    (Some(duration), Some(scope)) => Some(Some(Outage {
                        duration,
                        announced: o.announced,
                        scope,
                        resolved: o.resolved,
                    })),
                    _ => None,
                }
            }
        };
        let s = c.support.unwrap_or_default();
        let first_contacted_at = v.timestamp(s.first_contacted_at.as_ref(), "claim.support.first_contacted_at");
        let mut money = |m: Option<pb::Money>, field: &str| match m {
            None => Some(None),
            Some(m) => match currency {
                Some(cur) => v.money(&m, field, Some(cur)).map(Some),
                // The purchase's currency is unknown (already reported): check the amount alone.
                None => v.money(&m, field, None).map(Some),
            },
        };
        let charged_amount = money(c.charged_amount, "claim.charged_amount");
        let expected_amount = money(c.expected_amount, "claim.expected_amount");
        let duplicate_amount = money(c.duplicate_amount, "claim.duplicate_amount");
        Some(Claim {
            reason: reason?,
            submitted_at: submitted_at?,
            issue_started_at,
            cause: cause?,
            outage: outage?,
            support: SupportHistory {
                contacted: s.contacted,
                first_contacted_at,
                troubleshooting_completed: s.troubleshooting_completed,
                resolved: s.resolved,
                incompatibility_confirmed: s.incompatibility_confirmed,
                compensation_offered: s.compensation_offered,
                compensation_declined: s.compensation_declined,
            },
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
    });
    if !v.0.is_empty() {
        return Err(RequestError::Invalid(v.0));
    }
    let policy =
        PolicyId::from_id(&req.policy_id).ok_or_else(|| RequestError::PolicyNotFound(req.policy_id.clone()))?;
    match (purchase, claim, evaluated_at) {
        (Some(purchase), Some(claim), Some(evaluated_at)) => Ok(EvaluateInput {
            policy,
            request: ClaimRequest {
                purchase,
                claim,
                evaluated_at,
            },
            language: Language::from_tag(&req.locale),
            request_id: req.request_id,
        }),
        // Every path that yields None above records a violation.
        _ => Err(RequestError::Invalid(vec![FieldViolation {
            field: "claim".into(),
            description: "could not be decoded".into(),
        }])),
    }
}

/// A decoded QuoteRefund request.
pub struct QuoteInput {
    pub policy: PolicyId,
    pub request: QuoteRequest,
    pub language: Option<Language>,
}

pub fn decode_quote(req: pb::QuoteRefundRequest, now: DateTime<Utc>) -> Result<QuoteInput, RequestError> {
    let mut v = Violations::default();
    if req.policy_id.is_empty() {
        v.add("policy_id", "is required");
    }
    let as_of = match req.as_of.as_ref() {
        Some(ts) => v.timestamp(Some(ts), "as_of"),
        None => Some(now),
    };
    let purchase = decode_purchase(&mut v, req.purchase);
    if !v.0.is_empty() {
        return Err(RequestError::Invalid(v.0));
    }
    let policy =
        PolicyId::from_id(&req.policy_id).ok_or_else(|| RequestError::PolicyNotFound(req.policy_id.clone()))?;
    match (purchase, as_of) {
        (Some(purchase), Some(as_of)) => Ok(QuoteInput {
            policy,
            request: QuoteRequest { purchase, as_of },
            language: Language::from_tag(&req.locale),
        }),
        _ => Err(RequestError::Invalid(vec![FieldViolation {
            field: "purchase".into(),
            description: "could not be decoded".into(),
        }])),
    }
}

// ---- encoding: total ----

pub fn money(m: Money) -> pb::Money {
    pb::Money {
        currency_code: m.currency().code().to_owned(),
        amount: m.to_string(),
    }
}

pub fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

fn decision(d: Decision) -> pb::Decision {
    match d {
        Decision::Approved => pb::Decision::Approved,
        Decision::PartiallyApproved => pb::Decision::PartiallyApproved,
        Decision::Denied => pb::Decision::Denied,
        Decision::NeedsReview => pb::Decision::NeedsReview,
        Decision::NeedsInformation => pb::Decision::NeedsInformation,
        Decision::OfferCompensation => pb::Decision::OfferCompensation,
    }
}

fn refund_method(m: RefundMethod) -> pb::RefundMethod {
    match m {
        RefundMethod::None => pb::RefundMethod::Unspecified,
        RefundMethod::OriginalPayment => pb::RefundMethod::OriginalPayment,
        RefundMethod::PanelCredit => pb::RefundMethod::PanelCredit,
    }
}

fn compensation_kind(k: CompensationKind) -> pb::CompensationKind {
    match k {
        CompensationKind::SubscriptionExtension => pb::CompensationKind::SubscriptionExtension,
        CompensationKind::CashRefund => pb::CompensationKind::CashRefund,
        CompensationKind::ResendAccess => pb::CompensationKind::ResendAccess,
        CompensationKind::DeliverCredits => pb::CompensationKind::DeliverCredits,
        CompensationKind::RenewalDiscount => pb::CompensationKind::RenewalDiscount,
    }
}

fn consequence(c: Consequence) -> pb::Consequence {
    match c {
        Consequence::BarredFromFuturePurchases => pb::Consequence::BarredFromFuturePurchases,
        Consequence::SubscriptionSuspension => pb::Consequence::SubscriptionSuspension,
        Consequence::OrderRestriction => pb::Consequence::OrderRestriction,
    }
}

fn basis(b: RefundBasis) -> pb::RefundBasis {
    match b {
        RefundBasis::Full => pb::RefundBasis::Full,
        RefundBasis::ProratedUnused => pb::RefundBasis::ProratedUnused,
        RefundBasis::None => pb::RefundBasis::None,
    }
}

fn reason(r: Reason, lang: Language) -> pb::Reason {
    pb::Reason {
        code: r.code.to_owned(),
        clause: r.clause.to_owned(),
        message: r.message(lang).to_owned(),
    }
}

fn timeline(t: &Timeline) -> Option<pb::Timeline> {
    let empty =
        t.acknowledge_by.is_none() && t.decide_by.is_none() && t.funds_earliest.is_none() && t.funds_latest.is_none();
    (!empty).then(|| pb::Timeline {
        acknowledge_by: t.acknowledge_by.map(timestamp),
        decide_by: t.decide_by.map(timestamp),
        funds_earliest: t.funds_earliest.map(timestamp),
        funds_latest: t.funds_latest.map(timestamp),
    })
}

pub fn policy_ref(meta: &PolicyMeta) -> pb::PolicyRef {
    pb::PolicyRef {
        id: meta.id.to_owned(),
        version: meta.version.to_owned(),
        title: meta.title.to_owned(),
        rules_edition: RULES_EDITION.to_owned(),
    }
}

/// The answer language: the request's locale, else the policy text's language.
pub fn language(requested: Option<Language>, meta: &PolicyMeta) -> Language {
    requested.unwrap_or(meta.source_language)
}

fn compensation(c: &Compensation, lang: Language) -> pb::Compensation {
    pb::Compensation {
        kind: compensation_kind(c.kind) as i32,
        extension_days: c.extension_days,
        // No rule grants bonus days yet (the wire field stays).
        bonus_days: 0,
        bonus_negotiable: c.bonus_negotiable,
        amount: c.amount.map(money),
        description: i18n::compensation(c, lang),
    }
}

pub fn evaluate_response(
    out: &Outcome,
    meta: &PolicyMeta,
    lang: Language,
    request_id: String,
    evaluated_at: DateTime<Utc>,
) -> pb::EvaluateClaimResponse {
    pb::EvaluateClaimResponse {
        decision: decision(out.decision) as i32,
        refund_amount: Some(money(out.refund_amount)),
        refund_method: refund_method(out.refund_method) as i32,
        alternatives: out.alternatives.iter().map(|c| compensation(&c, lang)).collect(),
        reasons: out.reasons.iter().map(|r| reason(r, lang)).collect(),
        missing_information: out.missing_information.iter().map(str::to_owned).collect(),
        resubmit_after: out.resubmit_after.map(timestamp),
        claim_deadline: out.claim_deadline.map(timestamp),
        timeline: timeline(&out.timeline),
        consequences: out.consequences.iter().map(|c| consequence(c) as i32).collect(),
        policy: Some(policy_ref(meta)),
        explanation: i18n::explanation(out, lang),
        request_id,
        evaluated_at: Some(timestamp(evaluated_at)),
    }
}

fn window(w: &Window, lang: Language) -> pb::RefundWindow {
    pb::RefundWindow {
        starts_at: Some(timestamp(w.starts_at)),
        ends_at: w.ends_at.map(timestamp),
        basis: basis(w.basis) as i32,
        amount_at_start: Some(money(w.amount_at_start)),
        reason: Some(reason(w.reason, lang)),
    }
}

pub fn quote_response(q: &Quote, meta: &PolicyMeta, lang: Language) -> pb::QuoteRefundResponse {
    pb::QuoteRefundResponse {
        refundable_now: Some(money(q.refundable_now)),
        basis: basis(q.basis) as i32,
        unused_fraction: q.unused_fraction.to_string(),
        schedule: q.schedule.iter().map(|w| window(&w, lang)).collect(),
        policy: Some(policy_ref(meta)),
        reasons: q.reasons.iter().map(|r| reason(r, lang)).collect(),
    }
}

/// Every policy with its localized catalog; the statutory floor's reasons and
/// `AMOUNT_NOT_COMPUTABLE` are part of each catalog since the engine can
/// return them under any policy.
pub fn list_policies_response(requested: Option<Language>) -> pb::ListPoliciesResponse {
    pb::ListPoliciesResponse {
        policies: PolicyId::ALL
            .iter()
            .map(|p| {
                let meta = p.meta();
                let lang = language(requested, meta);
                pb::PolicyInfo {
                    r#ref: Some(policy_ref(meta)),
                    merchant: meta.merchant.to_owned(),
                    source_language: meta.source_language.tag().to_owned(),
                    time_zone: meta.calendar.time_zone_name().to_owned(),
                    holiday_calendar: meta.calendar.holiday_calendar_name().to_owned(),
                    reason_codes: statutory::REASONS
                        .iter()
                        .copied()
                        .chain(meta.catalog.iter().copied())
                        .chain([&common::AMOUNT_NOT_COMPUTABLE])
                        .map(|r| pb::ReasonCodeInfo {
                            code: r.code.to_owned(),
                            clause: r.clause.to_owned(),
                            description: r.message(lang).to_owned(),
                        })
                        .collect(),
                }
            })
            .collect(),
    }
}
