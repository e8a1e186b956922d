//! `official-smarters-7day`: Official IPTV Smarters Pro's 7-day money-back
//! guarantee (`official-smarters-7day.txt`, last updated 22 January 2025).
//!
//! Refunds go to the original payment method, and every approved money-back
//! refund bars the customer from future purchases ("Important Note"); a
//! charge-dispute refund does not (the rulings: the merchant had no right to
//! that money). Clauses cite the text's headings and item numbers
//! ("Eligibility for a Refund #1" is the first numbered condition under
//! "Eligibility for a Refund").
//!
//! "Within 7 days of your purchase date" is counted in dates (UTC), as the
//! rulings fix it: the window ends at 23:59:59 of the 7th day after the day of
//! purchase, whatever the time of purchase.
//!
//! Readings where the rulings are silent:
//! - The window is judged at `submitted_at`, inclusive of its last instant,
//!   23:59:59 (the instant the rulings name; EvaluateClaim, QuoteRefund and
//!   `claim_deadline` share it). `claim_deadline` is reported on every answer
//!   the window decides (within it, charge disputes included, and
//!   `OUTSIDE_7_DAY_WINDOW`); the exceptional circumstances have no deadline.
//! - Within the window any reason qualifies once support was contacted, even
//!   if support resolved the issue: #1 asks that the customer "actively worked
//!   to resolve any concerns", not that the concern stayed unresolved.
//! - A fault is "unresolved despite support interventions" when support was
//!   contacted, did not resolve it and, for an outage, the outage is not
//!   over (`outage.resolved`). A fault claim after the window that is not (no
//!   support contact, or resolved) falls to `OUTSIDE_7_DAY_WINDOW`.
//! - A non-delivery after the window is the exceptional technical failure only
//!   if nothing was delivered by `submitted_at`; access delivered before the
//!   claim makes it "anything else".
//! - The exceptional technical failure recommends the unused share of the
//!   term from `issue_started_at`; it asks for `claim.issue_started_at` and
//!   `purchase.term_months` when it cannot measure it. Charge disputes ask for
//!   `claim.charged_amount` and `claim.expected_amount`, or a non-zero
//!   `claim.duplicate_amount`; after the window the review recommends the
//!   overcharge (0 when there is none: an agent may still find the charge
//!   incorrect), never more than was paid. Every review names the original
//!   payment method, where its amount would go.
//! - "Up to 21 days" is the latest the funds arrive after the decision
//!   (`evaluated_at`); the text names no earliest date, so the earliest is the
//!   decision itself. The consequence and the funds dates belong to APPROVED
//!   answers only.

use chrono::{DateTime, Days, NaiveTime, TimeDelta, Utc};

use crate::domain::calendar::Calendar;
use crate::domain::claim::{ClaimReason, ClaimRequest, CustomerType, Language, QuoteRequest};
use crate::domain::decision::{Consequence, Decision, Outcome, Reason, ReasonDef, RefundBasis, RefundMethod, Timeline};
use crate::domain::field::Field;
use crate::domain::money::Money;
use crate::domain::term::Term;
use crate::domain::trace::{produced, At, Hm, Trace};

use super::common::{self, paid, Required};
use super::{PolicyMeta, Segment, Segments};

/// "we offer a full refund within 7 days of your purchase date", in dates.
const MONEY_BACK_DAYS: u64 = 7;
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
    en: "After the 7 days, a significant technical failure remains unresolved despite support's interventions, or the service never reached the customer: an agent decides case by case. The unused share of the subscription since the fault began is recommended (the whole amount when nothing was delivered).",
    fr: "Passé le délai de 7 jours, une défaillance technique importante persiste malgré les interventions du support, ou le service n'a jamais été fourni au client : un agent décide au cas par cas. Le montant recommandé est la part de l'abonnement non utilisée depuis le début de la panne (le montant intégral si rien n'a été fourni).",
};
static UNAUTHORIZED_TRANSACTION_INVESTIGATION: ReasonDef = ReasonDef {
    code: "UNAUTHORIZED_TRANSACTION_INVESTIGATION",
    clause: "Refunds for Exceptional Circumstances #2",
    en: "The customer reports a charge made without their authorization: it must be investigated. A full refund is recommended if it is confirmed.",
    fr: "Le client signale un prélèvement effectué sans son autorisation : ce prélèvement doit faire l'objet d'une enquête ; un remboursement intégral est recommandé si la fraude est confirmée.",
};
static BILLING_ERROR_OVERCHARGE: ReasonDef = ReasonDef {
    clause: "Refunds for Exceptional Circumstances #3 (ruling: charge disputes)",
    ..common::BILLING_ERROR_OVERCHARGE
};
static NO_OVERCHARGE: ReasonDef = ReasonDef {
    clause: "Refunds for Exceptional Circumstances #3 (ruling: charge disputes)",
    ..common::NO_OVERCHARGE
};
static DUPLICATE_PAYMENT: ReasonDef = ReasonDef {
    clause: "Refunds for Exceptional Circumstances #3 (ruling: charge disputes)",
    ..common::DUPLICATE_PAYMENT
};
static CHARGE_DISPUTES: common::ChargeDisputeReasons = common::ChargeDisputeReasons {
    overcharge: &BILLING_ERROR_OVERCHARGE,
    no_overcharge: &NO_OVERCHARGE,
    duplicate: &DUPLICATE_PAYMENT,
};
static BILLING_ERROR_EXCEPTION: ReasonDef = ReasonDef {
    code: "BILLING_ERROR_EXCEPTION",
    clause: "Refunds for Exceptional Circumstances #3",
    en: "After the 7 days, the customer reports being charged incorrectly or more than once: an agent checks the billing. The amount overcharged, or the duplicate charge, is recommended.",
    fr: "Passé le délai de 7 jours, le client signale avoir été facturé de façon erronée ou plusieurs fois : un agent vérifie la facturation. Le montant recommandé est celui facturé en trop, ou celui du prélèvement en double.",
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
        &BILLING_ERROR_OVERCHARGE,
        &NO_OVERCHARGE,
        &DUPLICATE_PAYMENT,
        &MISSING_INFORMATION,
    ],
    terms_violation: &TERMS_VIOLATION,
    terms_violation_consequence: None,
    unspecified_customer: CustomerType::Consumer,
};

pub fn evaluate<'r>(req: &'r ClaimRequest, t: &mut impl Trace<'r>) -> Outcome {
    let p = &req.purchase;
    let mut required = Required::new();
    // Eligibility for a Refund #3: "your purchase invoice number, the email
    // address used for the purchase, and a clear explanation of your concerns"
    required
        .check(!p.invoice_number.is_empty(), Field::PurchaseInvoiceNumber)
        .check(!p.purchase_email.is_empty(), Field::PurchaseEmail)
        .check(!req.claim.description.is_empty(), Field::ClaimDescription);
    let out = decide(req, &mut required, t);
    let mut out = required.apply(out, &MISSING_INFORMATION, t);
    // Important Note: "Once your refund has been approved and processed, you
    // will no longer be eligible to subscribe to our services in the future."
    // A charge dispute is not that refund: the merchant had no right to the money.
    if out.decision == Decision::Approved && out.reasons.first().is_some_and(|r| r.code == MONEY_BACK_7_DAYS.code) {
        out.consequences.push(Consequence::BarredFromFuturePurchases);
    }
    out
}

/// The last instant of the window: 23:59:59 UTC of the 7th day after the day
/// of purchase (the rulings count "within 7 days of your purchase date" in dates).
fn window_end(purchased_at: DateTime<Utc>) -> DateTime<Utc> {
    let day_after = purchased_at
        .date_naive()
        .checked_add_days(Days::new(MONEY_BACK_DAYS + 1))
        .map(move |d| d.and_time(NaiveTime::MIN).and_utc());
    // Only the last representable dates have no day after; the window then
    // runs to the end of time.
    day_after.map_or(DateTime::<Utc>::MAX_UTC, move |d| d - TimeDelta::seconds(1))
}

fn decide<'r>(req: &'r ClaimRequest, required: &mut Required, t: &mut impl Trace<'r>) -> Outcome {
    let window_end = window_end(req.purchase.purchased_at);
    let submitted = req.claim.submitted_at;
    let within = submitted <= window_end;
    t.record("7-day-window", OUTSIDE_7_DAY_WINDOW.clause, None, within, move |d| {
        d.say(
            format_args!(
                "claim submitted {} ({} after purchase); the window ends {} (7th day after the purchase date)",
                At(submitted),
                Hm(submitted - req.purchase.purchased_at),
                At(window_end)
            ),
            format_args!(
                "demande présentée le {} ({} après l'achat) ; le délai prend fin le {} (7e jour après la date d'achat)",
                At(submitted),
                Hm(submitted - req.purchase.purchased_at),
                At(window_end)
            ),
        );
    });
    let mut out = if within {
        // The rulings' charge disputes: the overcharge or the duplicate charge,
        // no support contact needed, no bar.
        let dispute = common::charge_dispute(req, required, &CHARGE_DISPUTES, RefundMethod::OriginalPayment);
        common::trace_dispute(t, req, dispute.as_ref(), &CHARGE_DISPUTES);
        match dispute {
            Some(out) => out,
            None => money_back(req, t),
        }
    } else {
        let exception = exceptional(req, required);
        match exception {
            Some(out) => {
                produced(t, "exceptional-circumstances", &out, move |d| {
                    let r = out.refund_amount.rounded();
                    let c = &req.claim;
                    d.say(
                        format_args!(
                            "claim reason {:?}, support contacted {}, resolved {}; reviewed, recommending {r} {}",
                            c.reason,
                            c.support.contacted,
                            c.support.resolved,
                            r.currency()
                        ),
                        format_args!(
                            "motif {:?}, support contacté {}, résolu {} ; examen, {r} {} recommandés",
                            c.reason,
                            c.support.contacted,
                            c.support.resolved,
                            r.currency()
                        ),
                    );
                });
                return out;
            }
            // Refund Exclusions #1, #3: no refund "after the 7-day window",
            // nor "for unused portions of a subscription after the 7-day period".
            None => {
                t.rule("outside-7-day-window", &OUTSIDE_7_DAY_WINDOW, true, move |d| {
                    d.say(
                        format_args!(
                            "no exceptional circumstance applies to claim reason {:?}",
                            req.claim.reason
                        ),
                        format_args!(
                            "aucune circonstance exceptionnelle ne s'applique au motif {:?}",
                            req.claim.reason
                        ),
                    );
                });
                Outcome::denied(&OUTSIDE_7_DAY_WINDOW, paid(req))
            }
        }
    };
    out.claim_deadline = Some(window_end);
    out
}

/// Eligibility for a Refund: "a full refund within 7 days of your purchase
/// date, provided ... 1. Resolution Attempts: You have contacted our support
/// team and actively worked to resolve any concerns". Any reason qualifies,
/// a change of mind included.
fn money_back<'r>(req: &'r ClaimRequest, t: &mut impl Trace<'r>) -> Outcome {
    let contacted = req.claim.support.contacted;
    t.rule(
        "resolution-attempt",
        &RESOLUTION_ATTEMPT_REQUIRED,
        !contacted,
        move |d| {
            d.say(
                format_args!("support contacted: {contacted}"),
                format_args!("support contacté : {contacted}"),
            );
        },
    );
    t.rule("money-back-7-days", &MONEY_BACK_7_DAYS, contacted, move |d| {
        d.say(
            format_args!(
                "within the window, support contacted: a full refund of {} {}",
                paid(req),
                paid(req).currency()
            ),
            format_args!(
                "dans le délai, support contacté : remboursement intégral de {} {}",
                paid(req),
                paid(req).currency()
            ),
        );
    });
    if !contacted {
        return Outcome::denied(&RESOLUTION_ATTEMPT_REQUIRED, paid(req));
    }
    Outcome::full(&MONEY_BACK_7_DAYS, paid(req), RefundMethod::OriginalPayment)
}

/// Refunds for Exceptional Circumstances: "we may grant refunds outside the
/// standard 7-day period ... evaluated on a case-by-case basis". `None` when
/// none applies. A review names the original payment method, where its
/// recommended amount would go.
fn exceptional(req: &ClaimRequest, required: &mut Required) -> Option<Outcome> {
    let claim = &req.claim;
    let p = &req.purchase;
    let review = |reason: Reason, amount| {
        Outcome::new(Decision::NeedsReview, reason, paid(req)).paying(amount, RefundMethod::OriginalPayment)
    };
    match claim.reason {
        // #1 "significant technical issues prevent you from accessing or using
        // our services effectively, and these issues remain unresolved despite
        // support interventions"
        ClaimReason::TechnicalIssue | ClaimReason::ServiceOutage => {
            let outage_over = claim.outage.is_some_and(|o| o.resolved);
            let unresolved = claim.support.contacted && !claim.support.resolved && !outage_over;
            unresolved.then(|| match unused_since_fault(req, required) {
                Some(amount) => review(&EXCEPTIONAL_TECHNICAL_FAILURE, amount),
                None => common::not_computable(&EXCEPTIONAL_TECHNICAL_FAILURE, req),
            })
        }
        // #1 again, ruled the gravest technical failure: the service never
        // reached the customer. Nothing was used, so the whole amount is
        // recommended, support contact or not.
        ClaimReason::NonDelivery => {
            (!p.delivered_by(claim.submitted_at)).then(|| review(&EXCEPTIONAL_TECHNICAL_FAILURE, paid(req)))
        }
        // #2 "charged without your authorization due to fraud or errors, we
        // will investigate the matter and issue a refund if appropriate"
        ClaimReason::UnauthorizedTransaction => Some(review(&UNAUTHORIZED_TRANSACTION_INVESTIGATION, paid(req))),
        // #3 "charged incorrectly or multiple times due to a technical or
        // administrative error": the overcharge or the duplicate charge.
        _ => common::charge_dispute_review(req, required, &BILLING_ERROR_EXCEPTION)
            .map(|out| review(&BILLING_ERROR_EXCEPTION, out.refund_amount)),
    }
}

/// `amount_paid × unused / term` from `issue_started_at`: the time the
/// service was unusable counts as unused. Zero, with the missing field
/// asked for, when it cannot be measured; `None` when it overflows.
fn unused_since_fault(req: &ClaimRequest, required: &mut Required) -> Option<Money> {
    let p = &req.purchase;
    let term = p.term();
    required
        .check(req.claim.issue_started_at.is_some(), Field::ClaimIssueStartedAt)
        .check(term.is_some(), Field::PurchaseTermMonths);
    match (term, req.claim.issue_started_at) {
        (Some(term), Some(from)) => term.prorate(p.amount_paid, from),
        _ => Some(Money::zero(p.amount_paid.currency())),
    }
}

/// Processing Refunds #3: "delays of up to 21 days"; FAQ Q1: "it may take up
/// to 21 days for the refunded amount to reflect in your account".
pub fn timeline(req: &ClaimRequest, out: &Outcome) -> Timeline {
    if !out.pays_now() {
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

/// FULL until the window ends (23:59:59 UTC of the 7th day after the day of
/// purchase), then NONE.
pub fn quote(req: &QuoteRequest, _term: Option<Term>) -> Segments {
    let mut segments = Segments::new();
    segments.push(Segment {
        until: Some(window_end(req.purchase.purchased_at)),
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
    use crate::domain::trace::NoTrace;

    /// The policy alone, untraced.
    fn evaluate(req: &ClaimRequest) -> Outcome {
        super::evaluate(req, &mut NoTrace)
    }
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
            [Field::PurchaseEmail, Field::ClaimChargedAmount]
        );
        assert_eq!(codes(&out), ["MISSING_REQUIRED_INFORMATION", "BILLING_ERROR_EXCEPTION"]);
    }

    #[test]
    fn the_window_ends_at_the_last_second_of_the_7th_day_after_purchase() {
        // Purchased 2 March 10:00: the window ends 9 March 23:59:59.
        assert_eq!(window_end(t("2026-03-02T10:00:00Z")), t("2026-03-09T23:59:59Z"));
        assert_eq!(window_end(t("2026-03-02T00:00:00Z")), t("2026-03-09T23:59:59Z"));
        assert_eq!(window_end(t("2026-03-02T23:00:00Z")), t("2026-03-09T23:59:59Z"));
        // 7 x 24 h and more, still on day 7: in time.
        let out = evaluate(&request(ClaimReason::ChangeOfMind, "2026-03-09T23:59:59Z"));
        assert_eq!(codes(&out), ["MONEY_BACK_7_DAYS"]);
        assert_eq!(out.claim_deadline, Some(t("2026-03-09T23:59:59Z")));
        let out = evaluate(&request(ClaimReason::ChangeOfMind, "2026-03-10T00:00:00Z"));
        assert_eq!(codes(&out), ["OUTSIDE_7_DAY_WINDOW"]);
        assert_eq!(out.claim_deadline, Some(t("2026-03-09T23:59:59Z")));
    }

    #[test]
    fn a_charge_dispute_in_the_window_pays_the_overcharge_without_a_bar() {
        let mut req = request(ClaimReason::BillingError, "2026-03-04T10:00:00Z");
        req.claim.support.contacted = false;
        req.claim.charged_amount = Some(eur("40.00"));
        req.claim.expected_amount = Some(eur("30.00"));
        let out = evaluate(&req).finish();
        assert_eq!(out.decision, Decision::Approved);
        assert_eq!(codes(&out), ["BILLING_ERROR_OVERCHARGE"]);
        assert_eq!(out.refund_amount, eur("10.00"));
        assert!(out.consequences.is_empty());
        req.evaluated_at = t("2026-03-10T00:00:00Z");
        req.claim.submitted_at = req.evaluated_at;
        let out = evaluate(&req).finish();
        assert_eq!(out.decision, Decision::NeedsReview);
        assert_eq!(codes(&out), ["BILLING_ERROR_EXCEPTION"]);
        assert_eq!(out.refund_amount, eur("10.00"));
        assert_eq!(out.refund_method, RefundMethod::OriginalPayment);
    }

    #[test]
    fn nothing_delivered_after_the_window_is_reviewed_for_the_whole_amount() {
        let mut req = request(ClaimReason::NonDelivery, "2026-03-20T10:00:00Z");
        req.purchase.delivered_at = None;
        req.claim.support.contacted = false;
        let out = evaluate(&req).finish();
        assert_eq!(out.decision, Decision::NeedsReview);
        assert_eq!(codes(&out), ["EXCEPTIONAL_TECHNICAL_FAILURE"]);
        assert_eq!(out.refund_amount, eur("30.00"));
        assert!(out.consequences.is_empty());
        req.purchase.delivered_at = Some(t("2026-03-20T10:00:00Z"));
        assert_eq!(codes(&evaluate(&req)), ["OUTSIDE_7_DAY_WINDOW"]);
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
