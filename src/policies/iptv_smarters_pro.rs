//! `iptv-smarters-pro`: consumer IPTV subscriptions (`iptv-smarters-pro.txt`).
//!
//! Refunds go to the original payment method. Clauses cite the text's
//! headings and bullet numbers ("Refund Conditions #2" is the second bullet
//! under "Refund Conditions"). The text has no terms-of-service clause: the
//! rulings' terms violation cites its opening ("we are happy to offer a refund
//! under the conditions below"), marked "(ruling: terms violation)".
//!
//! Readings where the rulings are silent:
//! - An outage claim whose cause is not yet diagnosed is taken as server side
//!   (the reason means "down for everyone"), and one whose scope is
//!   unspecified as FULL; an outage blamed on a third-party app or force
//!   majeure is not addressed by the text (manual review).
//! - Every missing field is asked at once, `MISSING_REQUIRED_INFORMATION`
//!   once: the order number first, then what the rule needs to size the
//!   refund (`claim.outage.duration`, `claim.support.first_contacted_at`,
//!   `purchase.term_months`).
//! - A prorated refund that comes to the whole amount (nothing delivered yet)
//!   is APPROVED rather than PARTIALLY_APPROVED: the contract's APPROVED is
//!   "refund_amount equals amount paid".
//! - A subscription never delivered has used nothing, at any time: its
//!   QuoteRefund schedule keeps the prorated (here: full) window open instead
//!   of closing it at the end of a term that never started, so the quote and
//!   EvaluateClaim agree.
//! - A billing error or duplicate payment is one of the ruling's "any other
//!   reason": within 48 h the purchase is refunded in full, later the unused
//!   share, as QuoteRefund quotes; the overcharge cap of the rulings' money
//!   rule is read as applying to refunds sized by the overcharge (other
//!   policies' billing rules), which this text has none of.

use chrono::TimeDelta;

use crate::domain::calendar::Calendar;
use crate::domain::claim::{ClaimReason, ClaimRequest, CustomerType, IssueCause, Language, OutageScope, QuoteRequest};
use crate::domain::decision::{
    Compensation, CompensationKind, Decision, Outcome, Reason, ReasonDef, RefundBasis, RefundMethod, Timeline,
};
use crate::domain::term::Term;

use super::common::{self, paid, Required};
use super::{PolicyMeta, Segment, Segments};

/// "Refunds must be requested within 48 hours of the original purchase."
const FULL_REFUND_WINDOW: TimeDelta = TimeDelta::hours(48);
/// "If we cannot resolve your issue within 48 hours, we will issue a full refund."
const RESOLUTION_WINDOW: TimeDelta = TimeDelta::hours(48);
/// "unable to access your IPTV service for more than 48 hours due to a server-side problem"
const OUTAGE_GUARANTEE_THRESHOLD: TimeDelta = TimeDelta::hours(48);
/// "refunds typically take 20 to 31 business days ... up to 90 days"
const FUNDS_EARLIEST_BUSINESS_DAYS: u32 = 20;
const FUNDS_LATEST_BUSINESS_DAYS: u32 = 31;
const FUNDS_CAP: TimeDelta = TimeDelta::days(90);

static TERMS_VIOLATION: ReasonDef = ReasonDef {
    clause: "Refund Policy (ruling: terms violation)",
    ..common::TERMS_VIOLATION
};
static POLICY_SILENT: ReasonDef = ReasonDef {
    clause: "Refund Policy (not addressed)",
    ..common::POLICY_SILENT_MANUAL_REVIEW
};
static MISSING_INFORMATION: ReasonDef = ReasonDef {
    clause: "How to Request a Refund",
    ..common::MISSING_REQUIRED_INFORMATION
};
static WAITING_PERIOD_RUNNING: ReasonDef = ReasonDef {
    clause: "Refund Conditions #2",
    ..common::WAITING_PERIOD_RUNNING
};

static CHANGE_OF_MIND_EXCLUDED: ReasonDef = ReasonDef {
    code: "CHANGE_OF_MIND_EXCLUDED",
    clause: "We Do Not Offer Refunds #2",
    en: "A change of mind or a request to switch servers is not refunded.",
    fr: "Un changement d'avis ou une demande de changement de serveur n'ouvre pas droit à remboursement.",
};
static SETUP_NOT_COVERED: ReasonDef = ReasonDef {
    code: "SETUP_NOT_COVERED",
    clause: "We Do Not Offer Refunds #1",
    en: "Being unable to set up one's own device or system is not refunded; support gives general setup instructions only.",
    fr: "Les difficultés à configurer son propre appareil ou système ne donnent pas lieu à remboursement ; le support ne fournit que des instructions générales.",
};
static OCCASIONAL_DISRUPTION_EXCLUDED: ReasonDef = ReasonDef {
    code: "OCCASIONAL_DISRUPTION_EXCLUDED",
    clause: "We Do Not Offer Refunds #2",
    en: "Channels that freeze, buffer or occasionally go offline, partial outages and outages of 48 hours or less are occasional disruptions; they are not refunded.",
    fr: "Les chaînes qui se figent, saccadent ou sont parfois coupées, les pannes partielles et les pannes de 48 heures au plus sont des perturbations occasionnelles ; elles ne sont pas remboursées.",
};
static ADULT_CONTENT_NOT_ADVERTISED: ReasonDef = ReasonDef {
    code: "ADULT_CONTENT_NOT_ADVERTISED",
    clause: "Important",
    en: "Missing adult channels are not grounds for a refund: such channels are not advertised on the website.",
    fr: "L'absence de chaînes pour adultes ne donne pas lieu à remboursement : ces chaînes ne sont pas annoncées sur le site.",
};
static CUSTOMER_SIDE_ISSUE_EXCLUDED: ReasonDef = ReasonDef {
    code: "CUSTOMER_SIDE_ISSUE_EXCLUDED",
    clause: "We Do Not Offer Refunds #2",
    en: "The cause lies with the customer's connection, device, app or ISP, or with a channel down at its source; this is not refunded.",
    fr: "La cause tient à la connexion, à l'appareil, à l'application ou au fournisseur d'accès du client, ou à une chaîne en panne à la source ; cela n'ouvre pas droit à remboursement.",
};
static OUTAGE_GUARANTEE: ReasonDef = ReasonDef {
    code: "OUTAGE_GUARANTEE",
    clause: "What We Do Guarantee",
    en: "The service was unreachable for more than 48 hours because of a server-side problem: a full refund is guaranteed; the customer may instead take an extension of the subscription for the lost time plus a bonus period negotiated case by case.",
    fr: "Le service a été inaccessible plus de 48 heures à cause d'un problème côté serveur : un remboursement intégral est garanti ; le client peut à la place obtenir une prolongation de l'abonnement couvrant le temps perdu, assortie d'une période bonus négociée au cas par cas.",
};
static SUPPORT_NOT_GIVEN_CHANCE: ReasonDef = ReasonDef {
    code: "SUPPORT_NOT_GIVEN_CHANCE",
    clause: "Refund Conditions #1",
    en: "Technical issues are refunded only after support has had the chance to resolve them; the customer has not contacted support.",
    fr: "Les problèmes techniques ne sont remboursés qu'après que le support a pu tenter de les résoudre ; le client ne l'a pas contacté.",
};
static UNRESOLVED_WITHIN_48H: ReasonDef = ReasonDef {
    code: "UNRESOLVED_WITHIN_48H",
    clause: "Refund Conditions #2",
    en: "Support could not resolve the issue within 48 hours of first contact: a full refund is due.",
    fr: "Le support n'a pas pu résoudre le problème dans les 48 heures suivant le premier contact : un remboursement intégral est dû.",
};
static ISSUE_RESOLVED: ReasonDef = ReasonDef {
    code: "ISSUE_RESOLVED",
    clause: "Refund Conditions #2",
    en: "Support resolved the issue; no refund is due.",
    fr: "Le support a résolu le problème ; aucun remboursement n'est dû.",
};
static WITHIN_48_HOURS: ReasonDef = ReasonDef {
    code: "WITHIN_48_HOURS",
    clause: "Refund Conditions #3",
    en: "The refund was requested within 48 hours of purchase: a full refund is due.",
    fr: "La demande a été faite dans les 48 heures suivant l'achat : un remboursement intégral est dû.",
};
static PRORATED_BY_USAGE: ReasonDef = ReasonDef {
    code: "PRORATED_BY_USAGE",
    clause: "Refund Conditions #4",
    en: "The refund was requested more than 48 hours after purchase: the unused share of the subscription is refunded.",
    fr: "La demande a été faite plus de 48 heures après l'achat : seule la part non utilisée de l'abonnement est remboursée.",
};
static SUBSCRIPTION_USED_UP: ReasonDef = ReasonDef {
    code: "SUBSCRIPTION_USED_UP",
    clause: "Refund Conditions #4",
    en: "The refund was requested more than 48 hours after purchase and nothing of the subscription is left unused.",
    fr: "La demande a été faite plus de 48 heures après l'achat et il ne reste aucune part non utilisée de l'abonnement : aucun remboursement n'est dû.",
};

pub static META: PolicyMeta = PolicyMeta {
    id: "iptv-smarters-pro",
    version: "undated",
    title: "IPTV Smarters Pro Refund Policy",
    merchant: "IPTV Smarters Pro",
    source_language: Language::En,
    calendar: Calendar::UTC_WEEKENDS,
    catalog: &[
        &TERMS_VIOLATION,
        &CHANGE_OF_MIND_EXCLUDED,
        &SETUP_NOT_COVERED,
        &OCCASIONAL_DISRUPTION_EXCLUDED,
        &ADULT_CONTENT_NOT_ADVERTISED,
        &CUSTOMER_SIDE_ISSUE_EXCLUDED,
        &OUTAGE_GUARANTEE,
        &SUPPORT_NOT_GIVEN_CHANCE,
        &UNRESOLVED_WITHIN_48H,
        &ISSUE_RESOLVED,
        &WAITING_PERIOD_RUNNING,
        &WITHIN_48_HOURS,
        &PRORATED_BY_USAGE,
        &SUBSCRIPTION_USED_UP,
        &MISSING_INFORMATION,
        &POLICY_SILENT,
    ],
    terms_violation: &TERMS_VIOLATION,
    terms_violation_consequence: None,
    unspecified_customer: CustomerType::Consumer,
};

pub fn evaluate(req: &ClaimRequest) -> Outcome {
    let mut required = Required::new();
    // "Please email us ... and include your order number."
    required.check(!req.purchase.order_id.is_empty(), "purchase.order_id");
    // The rules add what they need to size the refund; every missing field is
    // asked at once, and only of a claim that is not denied.
    let out = decide(req, &mut required);
    required.apply(out, &MISSING_INFORMATION)
}

fn decide(req: &ClaimRequest, required: &mut Required) -> Outcome {
    let claim = &req.claim;
    let deny = |reason: Reason| Outcome::denied(reason, paid(req));
    let full = |reason: Reason| {
        Outcome::new(Decision::Approved, reason, paid(req)).paying(paid(req), RefundMethod::OriginalPayment)
    };

    // "We Do Not Offer Refunds In the Following Cases"
    match claim.reason {
        ClaimReason::ChangeOfMind | ClaimReason::ServerSwitchRequest => return deny(&CHANGE_OF_MIND_EXCLUDED),
        ClaimReason::SetupDifficulty => return deny(&SETUP_NOT_COVERED),
        ClaimReason::ChannelUnavailable => return deny(&OCCASIONAL_DISRUPTION_EXCLUDED),
        ClaimReason::ContentDissatisfaction if claim.concerns_adult_content => {
            return deny(&ADULT_CONTENT_NOT_ADVERTISED)
        }
        _ => {}
    }
    if let Some(outage) = claim.outage {
        if matches!(outage.scope, OutageScope::SingleChannel | OutageScope::Partial) {
            return deny(&OCCASIONAL_DISRUPTION_EXCLUDED);
        }
    }
    if matches!(
        claim.cause,
        IssueCause::CustomerSide | IssueCause::Isp | IssueCause::ChannelSource
    ) {
        return deny(&CUSTOMER_SIDE_ISSUE_EXCLUDED);
    }

    match claim.reason {
        ClaimReason::ServiceOutage => outage(req, required, full, deny),
        ClaimReason::TechnicalIssue => technical_issue(req, required, full, deny),
        _ => no_fault(req, required),
    }
}

/// "What We Do Guarantee": more than 48 h without access for a server-side
/// problem, at any time in the subscription. An outage claim whose cause is
/// not yet diagnosed is taken as server side (it is down for everyone); one
/// attributed to a third-party app or force majeure is not addressed.
fn outage(
    req: &ClaimRequest,
    required: &mut Required,
    full: impl Fn(Reason) -> Outcome,
    deny: impl Fn(Reason) -> Outcome,
) -> Outcome {
    if !matches!(req.claim.cause, IssueCause::ServerSide | IssueCause::Undiagnosed) {
        return common::silent(&POLICY_SILENT, req);
    }
    let Some(outage) = req.claim.outage else {
        // The duration decides; once supplied, a guaranteed outage is paid in full.
        required.check(false, "claim.outage.duration");
        return full(&OUTAGE_GUARANTEE);
    };
    if outage.duration <= OUTAGE_GUARANTEE_THRESHOLD {
        return deny(&OCCASIONAL_DISRUPTION_EXCLUDED);
    }
    full(&OUTAGE_GUARANTEE).with_alternative(Compensation {
        extension_days: common::days_rounded_up(outage.duration.num_seconds()),
        bonus_negotiable: true,
        ..Compensation::of(CompensationKind::SubscriptionExtension)
    })
}

/// "We do not offer refunds for technical issues unless you have allowed us
/// the chance to resolve them. If we cannot resolve your issue within 48
/// hours, we will issue a full refund."
fn technical_issue(
    req: &ClaimRequest,
    required: &mut Required,
    full: impl Fn(Reason) -> Outcome,
    deny: impl Fn(Reason) -> Outcome,
) -> Outcome {
    let support = req.claim.support;
    if !support.contacted {
        return deny(&SUPPORT_NOT_GIVEN_CHANCE);
    }
    if support.resolved {
        return deny(&ISSUE_RESOLVED);
    }
    let Some(first_contact) = support.first_contacted_at else {
        // The 48 h cannot be measured without it.
        required.check(false, "claim.support.first_contacted_at");
        return full(&UNRESOLVED_WITHIN_48H);
    };
    let resolution_deadline = first_contact + RESOLUTION_WINDOW;
    if req.evaluated_at < resolution_deadline {
        return common::waiting(&WAITING_PERIOD_RUNNING, req, resolution_deadline);
    }
    full(&UNRESOLVED_WITHIN_48H)
}

/// "We only offer full refunds for purchases made within 48 hours. For any
/// request made after that period, refunds will be partial depending on how
/// much of the subscription was used."
fn no_fault(req: &ClaimRequest, required: &mut Required) -> Outcome {
    let p = &req.purchase;
    let window_end = p.purchased_at + FULL_REFUND_WINDOW;
    if req.claim.submitted_at <= window_end {
        let mut out = Outcome::new(Decision::Approved, &WITHIN_48_HOURS, p.amount_paid)
            .paying(p.amount_paid, RefundMethod::OriginalPayment);
        out.claim_deadline = Some(window_end);
        return out;
    }
    let Some(term) = Term::new(p.purchased_at, p.delivered_at, p.term_months) else {
        // Proration needs the length of the subscription.
        required.check(false, "purchase.term_months");
        return Outcome::new(Decision::PartiallyApproved, &PRORATED_BY_USAGE, p.amount_paid);
    };
    let refund = term.prorate(p.amount_paid, req.evaluated_at).rounded();
    if refund.is_zero() {
        return Outcome::denied(&SUBSCRIPTION_USED_UP, p.amount_paid);
    }
    let decision = if refund == p.amount_paid.rounded() {
        Decision::Approved
    } else {
        Decision::PartiallyApproved
    };
    Outcome::new(decision, &PRORATED_BY_USAGE, p.amount_paid).paying(refund, RefundMethod::OriginalPayment)
}

/// "If you paid by credit or debit card, refunds typically take 20 to 31
/// business days. In some cases, processing may take up to 90 days." The
/// same window applies to every payment method.
pub fn timeline(req: &ClaimRequest, out: &Outcome) -> Timeline {
    if out.refund_amount.is_zero() || !matches!(out.decision, Decision::Approved | Decision::PartiallyApproved) {
        return Timeline::default();
    }
    let cal = META.calendar;
    let decided = req.evaluated_at;
    let cap = decided + FUNDS_CAP;
    Timeline {
        acknowledge_by: None,
        decide_by: None,
        funds_earliest: Some(cal.add_business_days(decided, FUNDS_EARLIEST_BUSINESS_DAYS).min(cap)),
        funds_latest: Some(cal.add_business_days(decided, FUNDS_LATEST_BUSINESS_DAYS).min(cap)),
    }
}

/// FULL for 48 h after purchase, then PRORATED_UNUSED to the end of the
/// term, then NONE. A subscription never delivered has used nothing (the
/// rulings: "before delivery, unused is the whole term"), so its prorated
/// window never closes: EvaluateClaim pays it in full at any time.
pub fn quote(req: &QuoteRequest, term: Option<Term>) -> Segments {
    let mut segments = Segments::new();
    let window_end = req.purchase.purchased_at + FULL_REFUND_WINDOW;
    segments.push(Segment {
        until: Some(window_end),
        basis: RefundBasis::Full,
        reason: &WITHIN_48_HOURS,
    });
    match term {
        Some(_) if req.purchase.delivered_at.is_none() => {
            segments.push(Segment {
                until: None,
                basis: RefundBasis::ProratedUnused,
                reason: &PRORATED_BY_USAGE,
            });
        }
        Some(term) => {
            segments.push(Segment {
                until: Some(term.end),
                basis: RefundBasis::ProratedUnused,
                reason: &PRORATED_BY_USAGE,
            });
            segments.push(Segment {
                until: None,
                basis: RefundBasis::None,
                reason: &SUBSCRIPTION_USED_UP,
            });
        }
        None => {
            segments.push(Segment {
                until: None,
                basis: RefundBasis::None,
                reason: &MISSING_INFORMATION,
            });
        }
    }
    segments
}
