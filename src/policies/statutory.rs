//! The statutory floor: the 14-day right of withdrawal of EU/EEA and UK
//! consumers from a distance contract, which comes before every merchant
//! policy (second edition of the rulings, 2026-12-02).
//!
//! Directive 2011/83/EU art. 9–16 as amended by Directive (EU) 2019/2161;
//! Code de la consommation L221-18 ff.; UK Consumer Contracts Regulations 2013
//! reg. 29–38. Whether a streaming subscription is a digital service or
//! digital content is pending before the Court of Justice; the rulings take
//! the reading lawful under both:
//! - no consent to immediate performance, nothing delivered by the
//!   withdrawal, or the withdrawal information not given: the full amount
//!   (`STATUTORY_WITHDRAWAL_RIGHT`);
//! - consent and access delivered: the unused share of the term measured from
//!   `claim.submitted_at` (`STATUTORY_WITHDRAWAL_PROPORTIONAL`, art. 14(3));
//!   the right is lost once the term has ended (art. 16(a)).
//!
//! The period itself (days counted in the consumer's zone, moved past
//! weekends and public holidays) is [`crate::domain::withdrawal`].
//! `BILLING_ERROR` and `DUPLICATE_PAYMENT` dispute a charge and keep the
//! contract: they are not withdrawals, the policy decides them alone.
//!
//! Against the policy: a policy approval paying at least as much keeps its
//! decision, amount and reasons (the statutory reason after them); otherwise
//! the floor's decision and amount replace it (the statutory reason first).
//! Either way the floor's terms apply: the original payment method, no
//! preconditions (no missing-information request), no merchant consequence,
//! funds within 14 days of the withdrawal.

use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::claim::{ClaimReason, ClaimRequest, CustomerType, Purchase};
use crate::domain::decision::{
    CompensationKind, Decision, Outcome, Reason, ReasonDef, RefundBasis, RefundMethod, Timeline,
};
use crate::domain::list::List;
use crate::domain::withdrawal::{self, Period};

use super::{common, Segment, Segments};

pub static STATUTORY_WITHDRAWAL_RIGHT: ReasonDef = ReasonDef {
    code: "STATUTORY_WITHDRAWAL_RIGHT",
    clause: "Directive 2011/83/EU art. 9, 13, 14(4); C. consom. L221-18; UK CCR 2013 reg. 29",
    en: "The customer is a consumer in the EU/EEA or UK who withdrew within the 14-day withdrawal period, without having asked for immediate access, before access was delivered, or without having been told of the right: the full amount is owed by law, to the original payment method, whatever the merchant policy says.",
    fr: "Le client est un consommateur de l'UE/EEE ou du Royaume-Uni qui s'est rétracté dans le délai de 14 jours, sans avoir demandé un accès immédiat, avant d'avoir reçu ses accès, ou sans avoir été informé de ce droit : la loi impose le remboursement intégral sur le moyen de paiement d'origine, quelle que soit la politique du marchand.",
};

pub static STATUTORY_WITHDRAWAL_PROPORTIONAL: ReasonDef = ReasonDef {
    code: "STATUTORY_WITHDRAWAL_PROPORTIONAL",
    clause: "Directive 2011/83/EU art. 14(3); C. consom. L221-25; UK CCR 2013 reg. 36(4)",
    en: "The customer is a consumer in the EU/EEA or UK who asked for immediate access, received it and withdrew within the 14-day withdrawal period: the law owes the price paid less what was provided up to the withdrawal, pro rata over the term, to the original payment method.",
    fr: "Le client est un consommateur de l'UE/EEE ou du Royaume-Uni qui a demandé un accès immédiat, l'a reçu et s'est rétracté dans le délai de 14 jours : la loi impose le remboursement du prix payé, déduction faite de ce qui a été fourni jusqu'à la rétractation, au prorata de la durée de l'abonnement, sur le moyen de paiement d'origine.",
};

/// The floor's reasons, in the order every policy catalog lists them.
pub static REASONS: [Reason; 2] = [&STATUTORY_WITHDRAWAL_RIGHT, &STATUTORY_WITHDRAWAL_PROPORTIONAL];

/// The refund is due no later than 14 days after the withdrawal (art. 13(1)).
pub const FUNDS_WITHIN: TimeDelta = TimeDelta::days(14);

/// The withdrawal period of a covered consumer's purchase: a consumer (an
/// UNSPECIFIED customer type counts as `unspecified`, the policy's reading)
/// whose country has the right. `None`: not covered.
pub fn period(purchase: &Purchase, unspecified: CustomerType) -> Option<Period> {
    let customer_type = match purchase.customer_type {
        CustomerType::Unspecified => unspecified,
        t => t,
    };
    if customer_type != CustomerType::Consumer {
        return None;
    }
    withdrawal::period(
        purchase.customer_country?,
        purchase.purchased_at,
        purchase.withdrawal_information_given,
    )
}

/// Whether the consumer pays for what was provided up to `t`: consent to
/// immediate performance on record, the information given, access delivered.
fn pays_for_provision(purchase: &Purchase, t: DateTime<Utc>) -> bool {
    purchase.express_consent_immediate_performance && purchase.withdrawal_information_given && purchase.delivered_by(t)
}

/// What the floor owes for a claim it covers: a covered consumer's
/// withdrawal (any reason but a charge dispute) submitted in the period, the
/// right not lost. `None`: the policy decides alone.
pub fn withdrawal(req: &ClaimRequest, unspecified: CustomerType) -> Option<Floor> {
    if matches!(
        req.claim.reason,
        ClaimReason::BillingError | ClaimReason::DuplicatePayment
    ) {
        return None;
    }
    let p = &req.purchase;
    let period = period(p, unspecified)?;
    let submitted = req.claim.submitted_at;
    if !period.contains(submitted) {
        return None;
    }
    let paid = p.amount_paid;
    let outcome = if !pays_for_provision(p, submitted) {
        Outcome::full(&STATUTORY_WITHDRAWAL_RIGHT, paid, RefundMethod::OriginalPayment)
    } else {
        match p.term() {
            // The service was fully performed: the right is lost (art. 16(a)).
            Some(term) if term.end <= submitted => return None,
            Some(term) => match term.prorate(paid, submitted) {
                Some(refund) => Outcome::share(
                    &STATUTORY_WITHDRAWAL_PROPORTIONAL,
                    paid,
                    refund.rounded(),
                    RefundMethod::OriginalPayment,
                ),
                None => Outcome::new(Decision::NeedsReview, &STATUTORY_WITHDRAWAL_PROPORTIONAL, paid)
                    .with_reason(&common::AMOUNT_NOT_COMPUTABLE),
            },
            // No term: the share provided cannot be measured.
            None => Outcome::new(Decision::NeedsReview, &STATUTORY_WITHDRAWAL_PROPORTIONAL, paid),
        }
    };
    Some(Floor { period, outcome })
}

/// The floor's own answer to a claim it covers.
#[derive(Clone, Copy, Debug)]
pub struct Floor {
    pub period: Period,
    pub outcome: Outcome,
}

impl Floor {
    /// The policy's outcome measured against the floor, under the floor's terms.
    pub fn apply(self, policy: Outcome) -> Outcome {
        let floor = self.outcome;
        let policy_stands = policy.decision.approves()
            && policy.refund_amount.rounded().amount() >= floor.refund_amount.rounded().amount();
        let statutory = floor.reasons.first().unwrap_or(&STATUTORY_WITHDRAWAL_RIGHT);
        let mut out = if policy_stands {
            let mut out = policy;
            out.reasons.push(statutory);
            // The money alternatives are about the method, which the law fixes.
            out.alternatives = policy
                .alternatives
                .iter()
                .filter(|a| a.kind != CompensationKind::CashRefund)
                .collect();
            out.claim_deadline = policy.claim_deadline.or(Some(self.period.last_second()));
            out
        } else {
            let mut out = floor;
            for reason in policy.reasons.iter() {
                // The policy's uncomputable amount is not the floor's: the
                // floor's own reasons say whether its amount was computed.
                if reason.code != common::MISSING_REQUIRED_INFORMATION.code
                    && reason.code != statutory.code
                    && reason.code != common::AMOUNT_NOT_COMPUTABLE.code
                {
                    out.reasons.push(reason);
                }
            }
            out.claim_deadline = Some(self.period.last_second());
            out
        };
        // No preconditions, no penalty, money back the way it was paid.
        out.missing_information = List::new();
        out.consequences = List::new();
        out.resubmit_after = None;
        if !out.refund_amount.is_zero() {
            out.refund_method = RefundMethod::OriginalPayment;
        }
        out
    }
}

/// The merchant's timeline, with the refund no later than 14 days after the
/// withdrawal (Directive 2011/83/EU art. 13(1)).
pub fn clamp_timeline(mut timeline: Timeline, req: &ClaimRequest) -> Timeline {
    let latest = req.claim.submitted_at + FUNDS_WITHIN;
    let funds_latest = timeline.funds_latest.map_or(latest, |t| t.min(latest));
    timeline.funds_latest = Some(funds_latest);
    timeline.funds_earliest = Some(
        timeline
            .funds_earliest
            .map_or(req.evaluated_at.min(funds_latest), |t| t.min(funds_latest)),
    );
    timeline
}

/// The floor's windows of a refund schedule, from purchase to the period's
/// last whole second: FULL, or (consent and information given) FULL until
/// delivery and PRORATED_UNUSED from delivery on. `None`: not covered.
pub fn segments(purchase: &Purchase, unspecified: CustomerType) -> Option<Segments> {
    let end = period(purchase, unspecified)?.last_second();
    let mut segments = Segments::new();
    let consented = purchase.express_consent_immediate_performance && purchase.withdrawal_information_given;
    match purchase.delivered_at {
        Some(delivered) if consented && delivered <= end => {
            segments.push(Segment {
                until: Some(delivered),
                basis: RefundBasis::Full,
                reason: &STATUTORY_WITHDRAWAL_RIGHT,
            });
            segments.push(Segment {
                until: Some(end),
                basis: RefundBasis::ProratedUnused,
                reason: &STATUTORY_WITHDRAWAL_PROPORTIONAL,
            });
        }
        _ => {
            segments.push(Segment {
                until: Some(end),
                basis: RefundBasis::Full,
                reason: &STATUTORY_WITHDRAWAL_RIGHT,
            });
        }
    }
    Some(segments)
}

/// What a basis pays at one instant, for comparing two schedules: FULL over
/// PRORATED_UNUSED over NONE (two prorated windows pay the same).
fn rank(basis: RefundBasis) -> u8 {
    match basis {
        RefundBasis::Full => 2,
        RefundBasis::ProratedUnused => 1,
        RefundBasis::None => 0,
    }
}

/// The schedule that pays, at every instant, the more of the floor's and the
/// policy's (the floor's window on a tie); after the floor's last window the
/// policy's windows follow unchanged.
pub fn merge(floor: &Segments, policy: &Segments) -> Segments {
    let mut merged = Segments::new();
    let (mut fi, mut pi) = (floor.iter().peekable(), policy.iter().peekable());
    loop {
        let (f, p) = (fi.peek().copied(), pi.peek().copied());
        let (seg, until) = match (f, p) {
            (None, None) => break,
            (Some(f), None) => (f, f.until),
            (None, Some(p)) => (p, p.until),
            (Some(f), Some(p)) => {
                let until = match (f.until, p.until) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                let seg = if rank(p.basis) > rank(f.basis) { p } else { f };
                (seg, until)
            }
        };
        let piece = Segment { until, ..seg };
        match merged.last() {
            Some(last) if last.basis == piece.basis && std::ptr::eq(last.reason, piece.reason) => {
                merged.replace_last(piece);
            }
            _ => {
                merged.push(piece);
            }
        }
        // Advance every list whose current segment ends here.
        if f.is_some_and(|f| f.until == until) {
            fi.next();
        }
        if p.is_some_and(|p| p.until == until) {
            pi.next();
        }
        if until.is_none() {
            break;
        }
    }
    merged
}
