//! Encoding: domain values into wire messages, one function (or `From`) per
//! message. Encoding cannot fail: every domain value has a wire form.

use chrono::{DateTime, Utc};

use super::pb;
use crate::domain::claim::Language;
use crate::domain::decision::{
    Compensation, CompensationKind, Consequence, Decision, Outcome, Quote, Reason, RefundBasis, RefundMethod, Timeline,
    Window,
};
use crate::domain::money::Money;
use crate::domain::trace::Recorder;
use crate::engine;
use crate::i18n;
use crate::policies::{PolicyId, PolicyMeta, RULES_EDITION};

/// The EvaluateClaim answer for `out`, in `lang`.
pub fn evaluate_response(
    out: &Outcome,
    meta: &PolicyMeta,
    lang: Language,
    request_id: String,
    evaluated_at: DateTime<Utc>,
) -> pb::EvaluateClaimResponse {
    pb::EvaluateClaimResponse {
        decision: pb::Decision::from(out.decision) as i32,
        refund_amount: Some(out.refund_amount.into()),
        refund_method: pb::RefundMethod::from(out.refund_method) as i32,
        alternatives: out.alternatives.iter().map(|c| compensation(&c, lang)).collect(),
        reasons: out.reasons.iter().map(|r| reason(r, lang)).collect(),
        missing_information: out.missing_information.iter().map(|f| f.path().to_owned()).collect(),
        resubmit_after: out.resubmit_after.map(timestamp),
        claim_deadline: out.claim_deadline.map(timestamp),
        timeline: timeline(&out.timeline),
        consequences: out
            .consequences
            .iter()
            .map(|c| pb::Consequence::from(c) as i32)
            .collect(),
        policy: Some(meta.into()),
        explanation: i18n::explanation(out, lang),
        request_id,
        evaluated_at: Some(timestamp(evaluated_at)),
        trace: Vec::new(),
        // Over the request, not the outcome: the service sets both
        // (grpc::decision_id).
        decision_id: String::new(),
        engine_version: String::new(),
    }
}

/// The rule trace of an evaluation, in evaluation order.
/// Each rule's detail is written here, in `lang`: into one scratch buffer,
/// then copied at its exact length (one allocation a rule, not a buffer
/// regrown as the text is written).
pub fn trace(rec: &Recorder<'_>, lang: Language) -> Vec<pb::RuleTrace> {
    let mut scratch = String::with_capacity(256);
    rec.entries()
        .map(|e| {
            scratch.clear();
            e.write_detail(lang, &mut scratch);
            pb::RuleTrace {
                rule: e.id(),
                clause: e.clause.to_owned(),
                matched: e.matched,
                decisive: e.decisive,
                detail: scratch.as_str().to_owned(),
                reason_code: e.reason.map_or("", |r| r.code).to_owned(),
            }
        })
        .collect()
}

/// The QuoteRefund answer for `q`, in `lang`.
pub fn quote_response(q: &Quote, meta: &PolicyMeta, lang: Language) -> pb::QuoteRefundResponse {
    pb::QuoteRefundResponse {
        refundable_now: Some(q.refundable_now.into()),
        basis: pb::RefundBasis::from(q.basis) as i32,
        unused_fraction: q.unused_fraction.to_string(),
        schedule: q.schedule.iter().map(|w| window(&w, lang)).collect(),
        policy: Some(meta.into()),
        reasons: q.reasons.iter().map(|r| reason(r, lang)).collect(),
    }
}

/// Every policy with the catalog the engine says it publishes, each in the
/// requested language or else its own.
pub fn list_policies_response(requested: Option<Language>) -> pb::ListPoliciesResponse {
    pb::ListPoliciesResponse {
        policies: PolicyId::ALL.iter().map(|p| policy_info(*p, requested)).collect(),
    }
}

fn policy_info(policy: PolicyId, requested: Option<Language>) -> pb::PolicyInfo {
    let meta = policy.meta();
    let lang = language(requested, meta);
    pb::PolicyInfo {
        r#ref: Some(meta.into()),
        merchant: meta.merchant.to_owned(),
        source_language: meta.source_language.tag().to_owned(),
        time_zone: meta.calendar.time_zone_name().to_owned(),
        holiday_calendar: meta.calendar.holiday_calendar_name().to_owned(),
        reason_codes: engine::catalog(policy).map(|r| reason_code_info(r, lang)).collect(),
    }
}

/// The answer language: the request's locale, else the policy text's language.
pub fn language(requested: Option<Language>, meta: &PolicyMeta) -> Language {
    requested.unwrap_or(meta.source_language)
}

impl From<&PolicyMeta> for pb::PolicyRef {
    fn from(meta: &PolicyMeta) -> pb::PolicyRef {
        pb::PolicyRef {
            id: meta.id.to_owned(),
            version: meta.version.to_owned(),
            title: meta.title.to_owned(),
            rules_edition: RULES_EDITION.to_owned(),
        }
    }
}

pub fn policy_ref(meta: &PolicyMeta) -> pb::PolicyRef {
    meta.into()
}

fn reason(r: Reason, lang: Language) -> pb::Reason {
    pb::Reason {
        code: r.code.to_owned(),
        clause: r.clause.to_owned(),
        message: r.message(lang).to_owned(),
    }
}

fn reason_code_info(r: Reason, lang: Language) -> pb::ReasonCodeInfo {
    pb::ReasonCodeInfo {
        code: r.code.to_owned(),
        clause: r.clause.to_owned(),
        description: r.message(lang).to_owned(),
    }
}

fn compensation(c: &Compensation, lang: Language) -> pb::Compensation {
    pb::Compensation {
        kind: pb::CompensationKind::from(c.kind) as i32,
        extension_days: c.extension_days,
        bonus_days: 0,
        bonus_negotiable: c.bonus_negotiable,
        amount: c.amount.map(pb::Money::from),
        description: i18n::compensation(c, lang),
    }
}

/// `None` when no date is promised.
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

fn window(w: &Window, lang: Language) -> pb::RefundWindow {
    pb::RefundWindow {
        starts_at: Some(timestamp(w.starts_at)),
        ends_at: w.ends_at.map(timestamp),
        basis: pb::RefundBasis::from(w.basis) as i32,
        amount_at_start: Some(w.amount_at_start.into()),
        reason: Some(reason(w.reason, lang)),
    }
}

impl From<Money> for pb::Money {
    fn from(m: Money) -> pb::Money {
        pb::Money {
            currency_code: m.currency().code().to_owned(),
            amount: m.to_string(),
        }
    }
}

pub fn money(m: Money) -> pb::Money {
    m.into()
}

pub fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

// ---- enumerations: the domain's values by the wire's names ----

impl From<Decision> for pb::Decision {
    fn from(d: Decision) -> pb::Decision {
        match d {
            Decision::Approved => pb::Decision::Approved,
            Decision::PartiallyApproved => pb::Decision::PartiallyApproved,
            Decision::Denied => pb::Decision::Denied,
            Decision::NeedsReview => pb::Decision::NeedsReview,
            Decision::NeedsInformation => pb::Decision::NeedsInformation,
            Decision::OfferCompensation => pb::Decision::OfferCompensation,
        }
    }
}

impl From<RefundMethod> for pb::RefundMethod {
    fn from(m: RefundMethod) -> pb::RefundMethod {
        match m {
            RefundMethod::None => pb::RefundMethod::Unspecified,
            RefundMethod::OriginalPayment => pb::RefundMethod::OriginalPayment,
            RefundMethod::PanelCredit => pb::RefundMethod::PanelCredit,
        }
    }
}

impl From<CompensationKind> for pb::CompensationKind {
    fn from(k: CompensationKind) -> pb::CompensationKind {
        match k {
            CompensationKind::SubscriptionExtension => pb::CompensationKind::SubscriptionExtension,
            CompensationKind::CashRefund => pb::CompensationKind::CashRefund,
            CompensationKind::ResendAccess => pb::CompensationKind::ResendAccess,
            CompensationKind::DeliverCredits => pb::CompensationKind::DeliverCredits,
            CompensationKind::RenewalDiscount => pb::CompensationKind::RenewalDiscount,
        }
    }
}

impl From<Consequence> for pb::Consequence {
    fn from(c: Consequence) -> pb::Consequence {
        match c {
            Consequence::BarredFromFuturePurchases => pb::Consequence::BarredFromFuturePurchases,
            Consequence::SubscriptionSuspension => pb::Consequence::SubscriptionSuspension,
            Consequence::OrderRestriction => pb::Consequence::OrderRestriction,
        }
    }
}

impl From<RefundBasis> for pb::RefundBasis {
    fn from(b: RefundBasis) -> pb::RefundBasis {
        match b {
            RefundBasis::Full => pb::RefundBasis::Full,
            RefundBasis::ProratedUnused => pb::RefundBasis::ProratedUnused,
            RefundBasis::None => pb::RefundBasis::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use prost_reflect::{DescriptorPool, Kind};

    use super::pb;
    use crate::domain::field::Field;

    /// Every path a policy can report in `missing_information` names a
    /// real field of `EvaluateClaimRequest`, through its message fields.
    #[test]
    fn every_missing_field_resolves_in_the_proto() {
        let pool = DescriptorPool::decode(pb::FILE_DESCRIPTOR_SET).unwrap();
        let request = pool
            .get_message_by_name("refund.eligibility.v1.EvaluateClaimRequest")
            .unwrap();
        for field in Field::ALL {
            let mut message = Some(request.clone());
            for name in field.path().split('.') {
                let Some(m) = message.take() else {
                    panic!(
                        "{field:?}: {:?} goes through a field that is not a message",
                        field.path()
                    );
                };
                let Some(f) = m.get_field_by_name(name) else {
                    panic!(
                        "{field:?}: {:?} has no field {name:?} in {}",
                        field.path(),
                        m.full_name()
                    );
                };
                message = match f.kind() {
                    Kind::Message(inner) => Some(inner),
                    _ => None,
                };
            }
        }
    }
}
