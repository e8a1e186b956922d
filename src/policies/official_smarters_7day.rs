//! `official-smarters-7day`: Official IPTV Smarters Pro's 7-day money-back
//! guarantee (`official-smarters-7day.txt`, last updated 22 January 2025).
//!
//! Refunds go to the original payment method, and every approved refund bars
//! the customer from future purchases ("Important Note"). Clauses cite the
//! text's headings and item numbers ("Eligibility for a Refund #1" is the
//! first numbered condition under "Eligibility for a Refund").
//!
//! Readings where the rulings are silent:
//! - "Within 7 days" is measured at `submitted_at`, inclusive: exactly 7 days
//!   after purchase is still in time. `claim_deadline` (purchase + 7 days) is
//!   reported on every answer the window decides, `OUTSIDE_7_DAY_WINDOW`
//!   included; the exceptional circumstances have no deadline.
//! - Within the 7 days any reason qualifies once support was contacted, even
//!   if support resolved the issue: #1 asks that the customer "actively worked
//!   to resolve any concerns", not that the concern stayed unresolved.
//! - A fault is "unresolved despite support interventions" when support was
//!   contacted, did not resolve it and, for an outage, the outage is not
//!   over (`outage.resolved`). A fault claim after 7 days that is not (no
//!   support contact, or resolved) falls to `OUTSIDE_7_DAY_WINDOW`.
//! - The exceptional technical failure recommends the unused share of the
//!   term from `issue_started_at`; it asks for `claim.issue_started_at` and
//!   `purchase.term_months` when it cannot measure it. Billing errors ask for
//!   `claim.charged_amount` and `claim.expected_amount`, duplicate payments for
//!   `claim.duplicate_amount`; a recommendation never exceeds what was paid,
//!   and a billing error with no overcharge recommends 0.
//! - "Up to 21 days" is the latest the funds arrive after the decision
//!   (`evaluated_at`); the text names no earliest date, so the earliest is the
//!   decision itself. The consequence and the funds dates belong to APPROVED
//!   answers only.

use chrono::TimeDelta;

use crate::domain::calendar::Calendar;
use crate::domain::claim::{ClaimReason, ClaimRequest, CustomerType, Language, QuoteRequest};
use crate::domain::decision::{Consequence, Decision, Outcome, Reason, ReasonDef, RefundBasis, RefundMethod, Timeline};
use crate::domain::money::Money;
use crate::domain::term::Term;

use super::common::{self, paid, Required};
use super::{PolicyMeta, Segment, Segments};

/// "we offer a full refund within 7 days of your purchase date"
const MONEY_BACK_WINDOW: TimeDelta = TimeDelta::days(7);
/// "may result in delays of up to 21 days"
const FUNDS_LATEST: TimeDelta = TimeDelta::days(21);

static TERMS_VIOLATION: ReasonDef = ReasonDef {
    clause: "Refund Exclusions #2",
    ..common::TERMS_VIOLATION
};
static MISSING_INFORMATION: ReasonDef = ReasonDef {
    clause: "Eligibility for a Refund #3",
    ..common::MISSING_REQUIRED_INFORMATION
};

static MONEY_BACK_7_DAYS: ReasonDef = ReasonDef {
    code: "MONEY_BACK_7_DAYS",
    clause: "Eligibility for a Refund",
    en: "The refund was requested within 7 days of purchase, after working with support: the 7-day money-back guarantee applies and the purchase is refunded in full. The customer can no longer subscribe afterwards.",
    fr: "Le remboursement a été demandé dans les 7 jours suivant l'achat, après un échange avec le support : la garantie « satisfait ou remboursé » de 7 jours s'applique et l'achat est remboursé intégralement. Le client ne pourra plus passer commande par la suite.",
};
static RESOLUTION_ATTEMPT_REQUIRED: ReasonDef = ReasonDef {
    code: "RESOLUTION_ATTEMPT_REQUIRED",
    clause: "Eligibility for a Refund #1",
    en: "The money-back guarantee requires contacting support and working with it to resolve the concern first; the customer has not. They can still do so and claim before the 7-day deadline.",
    fr: "La garantie exige d'avoir d'abord contacté le support et cherché une solution avec lui ; le client ne l'a pas fait. Il peut encore le faire et renouveler sa demande avant la fin du délai de 7 jours.",
};
static OUTSIDE_7_DAY_WINDOW: ReasonDef = ReasonDef {
    code: "OUTSIDE_7_DAY_WINDOW",
    clause: "Eligibility for a Refund #2; Refund Exclusions #1, #3",
    en: "The refund was requested more than 7 days after purchase and no exceptional circumstance applies; no refund is due.",
    fr: "Le remboursement a été demandé plus de 7 jours après l'achat et aucune circonstance exceptionnelle ne s'applique ; aucun remboursement n'est dû.",
};
static EXCEPTIONAL_TECHNICAL_FAILURE: ReasonDef = ReasonDef {
    code: "EXCEPTIONAL_TECHNICAL_FAILURE",
    clause: "Refunds for Exceptional Circumstances #1",
    en: "After the 7 days, a significant technical failure remains unresolved despite support's interventions: an agent decides case by case. The unused share of the subscription since the fault began is recommended.",
    fr: "Passé le délai de 7 jours, une défaillance technique importante persiste malgré les interventions du support : un agent décide au cas par cas. Le montant recommandé est la part de l'abonnement non utilisée depuis le début de la panne.",
};
static UNAUTHORIZED_TRANSACTION_INVESTIGATION: ReasonDef = ReasonDef {
    code: "UNAUTHORIZED_TRANSACTION_INVESTIGATION",
    clause: "Refunds for Exceptional Circumstances #2",
    en: "The customer reports a charge made without their authorization: it must be investigated. A full refund is recommended if it is confirmed.",
    fr: "Le client signale un prélèvement effectué sans son autorisation : ce prélèvement doit faire l'objet d'une enquête ; un remboursement intégral est recommandé si la fraude est confirmée.",
};
static BILLING_ERROR_EXCEPTION: ReasonDef = ReasonDef {
    code: "BILLING_ERROR_EXCEPTION",
    clause: "Refunds for Exceptional Circumstances #3",
    en: "The customer was charged incorrectly or more than once: an agent checks the billing. The amount overcharged is recommended.",
    fr: "Le client a été facturé de façon erronée ou plusieurs fois : un agent vérifie la facturation. Le montant recommandé est celui facturé en trop.",
};

pub static META: PolicyMeta = PolicyMeta {
    id: "official-smarters-7day",
    version: "2025-01-22",
    title: "Official IPTV Smarters Pro 7-Day Money-Back Guarantee and Refund Policy",
    merchant: "Official IPTV Smarters Pro",
    source_language: Language::En,
    calendar: Calendar::UTC_WEEKENDS,
    catalog: &[
        &TERMS_VIOLATION,
        &MONEY_BACK_7_DAYS,
        &RESOLUTION_ATTEMPT_REQUIRED,
        &OUTSIDE_7_DAY_WINDOW,
        &EXCEPTIONAL_TECHNICAL_FAILURE,
        &UNAUTHORIZED_TRANSACTION_INVESTIGATION,
        &BILLING_ERROR_EXCEPTION,
        &MISSING_INFORMATION,
    ],
    terms_violation: &TERMS_VIOLATION,
    terms_violation_consequence: None,
    unspecified_customer: CustomerType::Consumer,
};

pub fn evaluate(req: &ClaimRequest) -> Outcome {
    let p = &req.purchase;
    let mut required = Required::new();
    // Eligibility for a Refund #3: "your purchase invoice number, the email
    // address used for the purchase, and a clear explanation of your concerns"
    required
        .check(!p.invoice_number.is_empty(), "purchase.invoice_number")
        .check(!p.purchase_email.is_empty(), "purchase.purchase_email")
        .check(!req.claim.description.is_empty(), "claim.description");
    let out = decide(req, &mut required);
    let mut out = required.apply(out, &MISSING_INFORMATION);
    // Important Note: "Once your refund has been approved and processed, you
    // will no longer be eligible to subscribe to our services in the future."
    if out.decision == Decision::Approved {
        out.consequences.push(Consequence::BarredFromFuturePurchases);
    }
    out
}

fn decide(req: &ClaimRequest, required: &mut Required) -> Outcome {
    let window_end = req.purchase.purchased_at + MONEY_BACK_WINDOW;
    let mut out = if req.claim.submitted_at <= window_end {
        money_back(req)
    } else {
        match exceptional(req, required) {
            Some(out) => return out,
            // Refund Exclusions #1, #3: no refund "after the 7-day window",
            // nor "for unused portions of a subscription after the 7-day period".
            None => Outcome::denied(&OUTSIDE_7_DAY_WINDOW, paid(req)),
        }
    };
    out.claim_deadline = Some(window_end);
    out
}

/// Eligibility for a Refund: "a full refund within 7 days of your purchase
/// date, provided ... 1. Resolution Attempts: You have contacted our support
/// team and actively worked to resolve any concerns". Any reason qualifies,
/// a change of mind included.
fn money_back(req: &ClaimRequest) -> Outcome {
    if !req.claim.support.contacted {
        return Outcome::denied(&RESOLUTION_ATTEMPT_REQUIRED, paid(req));
    }
    Outcome::new(Decision::Approved, &MONEY_BACK_7_DAYS, paid(req)).paying(paid(req), RefundMethod::OriginalPayment)
}

/// Refunds for Exceptional Circumstances: "we may grant refunds outside the
/// standard 7-day period ... evaluated on a case-by-case basis". `None` when
/// none applies.
fn exceptional(req: &ClaimRequest, required: &mut Required) -> Option<Outcome> {
    let claim = &req.claim;
    let review = |reason: Reason, amount: Money| {
        Outcome::new(Decision::NeedsReview, reason, paid(req))
            .paying(amount.min(paid(req)), RefundMethod::OriginalPayment)
    };
    match claim.reason {
        // #1 "significant technical issues prevent you from accessing or using
        // our services effectively, and these issues remain unresolved despite
        // support interventions"
        ClaimReason::TechnicalIssue | ClaimReason::ServiceOutage => {
            let outage_over = claim.outage.is_some_and(|o| o.resolved);
            let unresolved = claim.support.contacted && !claim.support.resolved && !outage_over;
            unresolved.then(|| review(&EXCEPTIONAL_TECHNICAL_FAILURE, unused_since_fault(req, required)))
        }
        // #2 "charged without your authorization due to fraud or errors, we
        // will investigate the matter and issue a refund if appropriate"
        ClaimReason::UnauthorizedTransaction => Some(review(&UNAUTHORIZED_TRANSACTION_INVESTIGATION, paid(req))),
        // #3 "charged incorrectly or multiple times due to a technical or
        // administrative error"
        ClaimReason::BillingError => {
            required
                .check(claim.charged_amount.is_some(), "claim.charged_amount")
                .check(claim.expected_amount.is_some(), "claim.expected_amount");
            let overcharge = common::overcharge(req).unwrap_or(Money::zero(paid(req).currency()));
            Some(review(&BILLING_ERROR_EXCEPTION, overcharge))
        }
        ClaimReason::DuplicatePayment => {
            required.check(claim.duplicate_amount.is_some(), "claim.duplicate_amount");
            let duplicate = claim.duplicate_amount.unwrap_or(Money::zero(paid(req).currency()));
            Some(review(&BILLING_ERROR_EXCEPTION, duplicate))
        }
        _ => None,
    }
}

/// `amount_paid × unused / term` from `issue_started_at`: the time the
/// service was unusable counts as unused. Zero, with the missing field
/// asked for, when it cannot be measured.
fn unused_since_fault(req: &ClaimRequest, required: &mut Required) -> Money {
    let p = &req.purchase;
    let term = Term::new(p.purchased_at, p.delivered_at, p.term_months);
    required
        .check(req.claim.issue_started_at.is_some(), "claim.issue_started_at")
        .check(term.is_some(), "purchase.term_months");
    match (term, req.claim.issue_started_at) {
        (Some(term), Some(from)) => term.prorate(p.amount_paid, from),
        _ => Money::zero(p.amount_paid.currency()),
    }
}

/// Processing Refunds #3: "delays of up to 21 days"; FAQ Q1: "it may take up
/// to 21 days for the refunded amount to reflect in your account".
pub fn timeline(req: &ClaimRequest, out: &Outcome) -> Timeline {
    if out.refund_amount.is_zero() || !matches!(out.decision, Decision::Approved | Decision::PartiallyApproved) {
        return Timeline::default();
    }
    let decided = req.evaluated_at;
    Timeline {
        acknowledge_by: None,
        decide_by: None,
        funds_earliest: Some(decided),
        funds_latest: Some(decided + FUNDS_LATEST),
    }
}

/// FULL for 7 days after purchase, then NONE.
pub fn quote(req: &QuoteRequest, _term: Option<Term>) -> Segments {
    let mut segments = Segments::new();
    segments.push(Segment {
        until: Some(req.purchase.purchased_at + MONEY_BACK_WINDOW),
        basis: RefundBasis::Full,
        reason: &MONEY_BACK_7_DAYS,
    });
    segments.push(Segment {
        until: None,
        basis: RefundBasis::None,
        reason: &OUTSIDE_7_DAY_WINDOW,
    });
    segments
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::claim::{Claim, Outage, OutageScope, PaymentMethod, Purchase, SupportHistory};
    use crate::domain::fixtures::{eur, t};

    /// A complete claim after support contact, for EUR 30.00 paid on Monday
    /// 2 March 2026 at 10:00 UTC for one month (2 March to 2 April: 31 days).
    fn request(reason: ClaimReason, evaluated_at: &str) -> ClaimRequest {
        let evaluated_at = t(evaluated_at);
        ClaimRequest {
            purchase: Purchase {
                order_id: "OS-1".into(),
                delivered_at: Some(t("2026-03-02T10:00:00Z")),
                term_months: 1,
                payment_method: PaymentMethod::Card,
                invoice_number: "INV-1".into(),
                purchase_email: "a@example.com".into(),
                ..Purchase::new(eur("30.00"), t("2026-03-02T10:00:00Z"))
            },
            claim: Claim {
                support: SupportHistory {
                    contacted: true,
                    ..SupportHistory::default()
                },
                description: "does not suit me".into(),
                ..Claim::new(reason, evaluated_at)
            },
            evaluated_at,
        }
    }

    fn codes(out: &Outcome) -> Vec<&'static str> {
        out.reasons.iter().map(|r| r.code).collect()
    }

    #[test]
    fn only_an_approval_bars_future_purchases() {
        let approved = evaluate(&request(ClaimReason::ChangeOfMind, "2026-03-09T10:00:00Z"));
        assert_eq!(approved.decision, Decision::Approved);
        assert_eq!(
            approved.consequences.iter().collect::<Vec<_>>(),
            [Consequence::BarredFromFuturePurchases]
        );
        let mut incomplete = request(ClaimReason::ChangeOfMind, "2026-03-09T10:00:00Z");
        incomplete.purchase.invoice_number.clear();
        let out = evaluate(&incomplete);
        assert_eq!(out.decision, Decision::NeedsInformation);
        assert!(out.consequences.is_empty());
        let review = evaluate(&request(ClaimReason::UnauthorizedTransaction, "2026-03-20T10:00:00Z"));
        assert_eq!(review.decision, Decision::NeedsReview);
        assert!(review.consequences.is_empty());
    }

    #[test]
    fn a_technical_failure_counts_the_unusable_time_as_unused() {
        // Fault from 17 March 10:00: 16 of the 31 days are left, 30 x 16/31.
        let mut req = request(ClaimReason::TechnicalIssue, "2026-03-20T10:00:00Z");
        req.claim.issue_started_at = Some(t("2026-03-17T10:00:00Z"));
        let out = evaluate(&req).finish();
        assert_eq!(out.decision, Decision::NeedsReview);
        assert_eq!(codes(&out), ["EXCEPTIONAL_TECHNICAL_FAILURE"]);
        assert_eq!(out.refund_amount, eur("15.48"));
        assert_eq!(out.claim_deadline, None);
    }

    #[test]
    fn an_outage_that_is_over_is_no_longer_unresolved() {
        let mut req = request(ClaimReason::ServiceOutage, "2026-03-20T10:00:00Z");
        req.claim.issue_started_at = Some(t("2026-03-17T10:00:00Z"));
        req.claim.outage = Some(Outage {
            duration: TimeDelta::hours(30),
            announced: false,
            scope: OutageScope::Full,
            resolved: true,
        });
        assert_eq!(codes(&evaluate(&req)), ["OUTSIDE_7_DAY_WINDOW"]);
        req.claim.outage = req.claim.outage.map(|o| Outage { resolved: false, ..o });
        assert_eq!(codes(&evaluate(&req)), ["EXCEPTIONAL_TECHNICAL_FAILURE"]);
    }

    #[test]
    fn all_missing_fields_are_asked_at_once() {
        let mut req = request(ClaimReason::BillingError, "2026-03-20T10:00:00Z");
        req.purchase.purchase_email.clear();
        req.claim.expected_amount = Some(eur("25.00"));
        let out = evaluate(&req);
        assert_eq!(out.decision, Decision::NeedsInformation);
        assert_eq!(
            out.missing_information.iter().collect::<Vec<_>>(),
            ["purchase.purchase_email", "claim.charged_amount"]
        );
        assert_eq!(codes(&out), ["MISSING_REQUIRED_INFORMATION", "BILLING_ERROR_EXCEPTION"]);
    }

    #[test]
    fn funds_arrive_within_21_calendar_days_of_the_decision() {
        let req = request(ClaimReason::ChangeOfMind, "2026-03-06T18:00:00Z");
        let out = evaluate(&req);
        let timeline = super::timeline(&req, &out);
        assert_eq!(timeline.funds_earliest, Some(t("2026-03-06T18:00:00Z")));
        assert_eq!(timeline.funds_latest, Some(t("2026-03-27T18:00:00Z")));
    }
}
