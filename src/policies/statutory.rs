//! The statutory floor: the 14-day right of withdrawal of EU/EEA and UK
//! consumers from a distance contract for a digital service, which comes
//! before every merchant policy.
//!
//! Directive 2011/83/EU art. 9 and 16(m); Code de la consommation L221-18 and
//! L221-28; UK Consumer Contracts Regulations 2013. The right is lost only
//! where the consumer expressly consented to immediate performance and
//! acknowledged the loss. The law allows no preconditions (no support contact,
//! no invoice number, no panel credit instead of money), and a terms violation
//! does not remove it. Exercising it carries no penalty, so the merchant's
//! consequences (bars, suspensions) are not attached to such a refund.

use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::claim::{ClaimRequest, CustomerType, Purchase};
use crate::domain::decision::{Decision, Outcome, ReasonDef, RefundBasis, RefundMethod, Timeline};
use crate::domain::list::List;

use super::{common, Segment};

pub static STATUTORY_WITHDRAWAL_RIGHT: ReasonDef = ReasonDef {
    code: "STATUTORY_WITHDRAWAL_RIGHT",
    clause: "Directive 2011/83/EU art. 9; C. consom. L221-18; UK CCR 2013 reg. 29",
    en: "The customer is a consumer in the EU/EEA or UK and withdrew within 14 days of purchase without having waived the right: a full refund to the original payment method is owed by law, whatever the merchant policy says.",
    fr: "Le client est un consommateur de l'UE/EEE ou du Royaume-Uni et s'est rétracté dans les 14 jours suivant l'achat sans avoir renoncé à ce droit : la loi impose un remboursement intégral sur le moyen de paiement d'origine, quelle que soit la politique du marchand.",
};

/// The withdrawal period: 14 days.
pub const WITHDRAWAL_PERIOD: TimeDelta = TimeDelta::days(14);

/// Whether the purchase is covered: a consumer in a covered country who did
/// not waive the right at checkout.
pub fn covers(purchase: &Purchase, unspecified: CustomerType) -> bool {
    let customer_type = match purchase.customer_type {
        CustomerType::Unspecified => unspecified,
        t => t,
    };
    customer_type == CustomerType::Consumer
        && purchase
            .customer_country
            .is_some_and(|c| c.has_statutory_withdrawal_right())
        && !purchase.express_consent_immediate_performance
}

/// Last instant of the withdrawal period (inclusive).
pub fn period_end(purchase: &Purchase) -> DateTime<Utc> {
    purchase.purchased_at + WITHDRAWAL_PERIOD
}

/// Whether a claim filed at `submitted_at` exercises the right.
pub fn applies(purchase: &Purchase, unspecified: CustomerType, submitted_at: DateTime<Utc>) -> bool {
    covers(purchase, unspecified) && submitted_at <= period_end(purchase)
}

/// The policy's outcome overridden by the floor: APPROVED, full amount,
/// original payment method, the statutory reason first and the policy's
/// reasons after it (less the preconditions the law does not allow).
pub fn withdraw(policy_outcome: Outcome, req: &ClaimRequest) -> Outcome {
    let mut out = Outcome::new(
        Decision::Approved,
        &STATUTORY_WITHDRAWAL_RIGHT,
        req.purchase.amount_paid,
    )
    .paying(req.purchase.amount_paid, RefundMethod::OriginalPayment);
    for reason in policy_outcome.reasons.iter() {
        if reason.code != common::MISSING_REQUIRED_INFORMATION.code {
            out.reasons.push(reason);
        }
    }
    out.claim_deadline = policy_outcome.claim_deadline;
    out.alternatives = List::new();
    out
}

/// The merchant's timeline, with the refund no later than 14 days after the
/// withdrawal (Directive 2011/83/EU art. 13).
pub fn clamp_timeline(mut timeline: Timeline, req: &ClaimRequest) -> Timeline {
    let latest = req.claim.submitted_at + WITHDRAWAL_PERIOD;
    let funds_latest = timeline.funds_latest.map_or(latest, |t| t.min(latest));
    timeline.funds_latest = Some(funds_latest);
    timeline.funds_earliest = Some(
        timeline
            .funds_earliest
            .map_or(req.evaluated_at.min(funds_latest), |t| t.min(funds_latest)),
    );
    timeline
}

/// The floor's window of a refund schedule.
pub fn segment(purchase: &Purchase) -> Segment {
    Segment {
        until: Some(period_end(purchase)),
        basis: RefundBasis::Full,
        reason: &STATUTORY_WITHDRAWAL_RIGHT,
    }
}
