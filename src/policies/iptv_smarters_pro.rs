//! `iptv-smarters-pro`: consumer IPTV subscriptions (`iptv-smarters-pro.txt`).
//!
//! Refunds go to the original payment method. Clauses cite the text's
//! headings and bullet numbers ("Refund Conditions #2" is the second bullet
//! under "Refund Conditions"). The text has no terms-of-service clause and no
//! billing clause: the rulings' terms violation cites its opening ("we are
//! happy to offer a refund under the conditions below"), marked "(ruling:
//! terms violation)", and the rulings' charge disputes cite the same opening,
//! marked "(ruling: charge disputes)".
//!
//! Readings where the rulings are silent:
//! - Charge disputes (`BILLING_ERROR`, `DUPLICATE_PAYMENT`) come before the
//!   text's exclusions: they are about money the merchant had no right to,
//!   refunded "at any time, in every policy", so neither an adult-content flag,
//!   a customer-side cause nor a partial outage attached to the claim blocks
//!   them. Only the terms violation (applied by the engine) comes first.
//! - An outage claim whose cause is not yet diagnosed is taken as server side
//!   (the reason means "down for everyone"), and one whose scope is
//!   unspecified as FULL; an outage blamed on force majeure is not addressed
//!   by the text (manual review).
//! - Every missing field is asked at once, `MISSING_REQUIRED_INFORMATION`
//!   once: the order number first, then what the rule needs to size the
//!   refund (`claim.outage.duration`, `claim.support.first_contacted_at`,
//!   `purchase.term_months`, the disputed amounts).
//! - A prorated refund that comes to the whole amount (nothing delivered yet)
//!   is APPROVED rather than PARTIALLY_APPROVED: the contract's APPROVED is
//!   "refund_amount equals amount paid".
//! - A subscription never delivered has used nothing, at any time: its
//!   QuoteRefund schedule keeps the prorated (here: full) window open instead
//!   of closing it at the end of a term that never started, so the quote and
//!   EvaluateClaim agree.

use chrono::TimeDelta;

use crate::domain::calendar::Calendar;
use crate::domain::claim::{ClaimReason, ClaimRequest, CustomerType, IssueCause, Language, OutageScope, QuoteRequest};
use crate::domain::decision::{
    Compensation, CompensationKind, Decision, Outcome, Reason, ReasonDef, RefundBasis, RefundMethod, Timeline,
};
use crate::domain::field::Field;
use crate::domain::money::Money;
use crate::domain::term::Term;
use crate::domain::trace::{At, Detail, Hm, Trace};

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
static BILLING_ERROR_OVERCHARGE: ReasonDef = ReasonDef {
    clause: "Refund Policy (ruling: charge disputes)",
    ..common::BILLING_ERROR_OVERCHARGE
};
static NO_OVERCHARGE: ReasonDef = ReasonDef {
    clause: "Refund Policy (ruling: charge disputes)",
    ..common::NO_OVERCHARGE
};
static DUPLICATE_PAYMENT: ReasonDef = ReasonDef {
    clause: "Refund Policy (ruling: charge disputes)",
    ..common::DUPLICATE_PAYMENT
};
static CHARGE_DISPUTES: common::ChargeDisputeReasons = common::ChargeDisputeReasons {
    overcharge: &BILLING_ERROR_OVERCHARGE,
    no_overcharge: &NO_OVERCHARGE,
    duplicate: &DUPLICATE_PAYMENT,
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
    en: "Missing adult channels are not grounds for a refund, whatever the claim's reason: such channels are not advertised on the website.",
    fr: "L'absence de chaînes pour adultes ne donne pas lieu à remboursement, quel que soit le motif de la demande : ces chaînes ne sont pas annoncées sur le site.",
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
        &BILLING_ERROR_OVERCHARGE,
        &NO_OVERCHARGE,
        &DUPLICATE_PAYMENT,
        &MISSING_INFORMATION,
        &POLICY_SILENT,
    ],
    terms_violation: &TERMS_VIOLATION,
    terms_violation_consequence: None,
    unspecified_customer: CustomerType::Consumer,
};

pub fn evaluate<'r>(req: &'r ClaimRequest, t: &mut impl Trace<'r>) -> Outcome {
    let mut required = Required::new();
    // "Please email us ... and include your order number."
    required.check(!req.purchase.order_id.is_empty(), Field::PurchaseOrderId);
    // The rules add what they need to size the refund; every missing field is
    // asked at once, and only of a claim that is not denied.
    let out = decide(req, &mut required, t);
    required.apply(out, &MISSING_INFORMATION, t)
}

fn decide<'r>(req: &'r ClaimRequest, required: &mut Required, t: &mut impl Trace<'r>) -> Outcome {
    let claim = &req.claim;
    let deny = |reason: Reason| Outcome::denied(reason, paid(req));
    let full = |reason: Reason| Outcome::full(reason, paid(req), RefundMethod::OriginalPayment);
    let reason = claim.reason;

    // The rulings' charge disputes, before the text's exclusions: the
    // overcharge or the duplicate charge is money the merchant had no right
    // to, refunded at any time whatever else the claim says.
    let dispute = common::charge_dispute(req, required, &CHARGE_DISPUTES, RefundMethod::OriginalPayment);
    common::trace_dispute(t, req, dispute.as_ref(), &CHARGE_DISPUTES);
    if let Some(out) = dispute {
        return out;
    }

    // "We Do Not Offer Refunds In the Following Cases"
    let said = move |d: &mut Detail<'_>| {
        d.say(
            format_args!("claim reason {reason:?}"),
            format_args!("motif {reason:?}"),
        )
    };
    if t.rule(
        "change-of-mind",
        &CHANGE_OF_MIND_EXCLUDED,
        matches!(reason, ClaimReason::ChangeOfMind | ClaimReason::ServerSwitchRequest),
        said,
    ) {
        return deny(&CHANGE_OF_MIND_EXCLUDED);
    }
    if t.rule(
        "setup",
        &SETUP_NOT_COVERED,
        reason == ClaimReason::SetupDifficulty,
        said,
    ) {
        return deny(&SETUP_NOT_COVERED);
    }
    let partial = claim
        .outage
        .is_some_and(|o| matches!(o.scope, OutageScope::SingleChannel | OutageScope::Partial));
    if t.rule(
        "occasional-disruption",
        &OCCASIONAL_DISRUPTION_EXCLUDED,
        reason == ClaimReason::ChannelUnavailable || partial,
        move |d| {
            let scope = claim.outage.map(|o| o.scope);
            d.say(
                format_args!("claim reason {reason:?}, outage scope {scope:?}"),
                format_args!("motif {reason:?}, étendue de la panne {scope:?}"),
            );
        },
    ) {
        return deny(&OCCASIONAL_DISRUPTION_EXCLUDED);
    }
    // "Important: We do not offer refunds for missing adult channels", whatever
    // the reason the claim is filed under.
    let adult = claim.concerns_adult_content;
    if t.rule("adult-content", &ADULT_CONTENT_NOT_ADVERTISED, adult, move |d| {
        d.say(
            format_args!("concerns adult content: {adult}"),
            format_args!("concerne des contenus adultes : {adult}"),
        );
    }) {
        return deny(&ADULT_CONTENT_NOT_ADVERTISED);
    }
    // "Fluctuations in your internet connection; Issues with your device, app,
    // or setup; ISP-related problems; Channel being down at the source"
    let cause = claim.cause;
    if t.rule(
        "customer-side",
        &CUSTOMER_SIDE_ISSUE_EXCLUDED,
        matches!(
            cause,
            IssueCause::CustomerSide | IssueCause::Isp | IssueCause::ThirdPartyApp | IssueCause::ChannelSource
        ),
        move |d| d.say(format_args!("cause {cause:?}"), format_args!("cause {cause:?}")),
    ) {
        return deny(&CUSTOMER_SIDE_ISSUE_EXCLUDED);
    }

    match claim.reason {
        ClaimReason::ServiceOutage => outage(req, required, t, full, deny),
        ClaimReason::TechnicalIssue => technical_issue(req, required, t, full, deny),
        _ => no_fault(req, required, t),
    }
}

/// "What We Do Guarantee": more than 48 h without access for a server-side
/// problem, at any time in the subscription. An outage claim whose cause is
/// not yet diagnosed is taken as server side (it is down for everyone); one
/// attributed to force majeure is not addressed (the other causes are
/// excluded before).
fn outage<'r>(
    req: &'r ClaimRequest,
    required: &mut Required,
    t: &mut impl Trace<'r>,
    full: impl Fn(Reason) -> Outcome,
    deny: impl Fn(Reason) -> Outcome,
) -> Outcome {
    let cause = req.claim.cause;
    if t.rule(
        "outage-cause",
        &POLICY_SILENT,
        !matches!(cause, IssueCause::ServerSide | IssueCause::Undiagnosed),
        move |d| {
            d.say(
                format_args!("outage cause {cause:?}: only a server-side (or undiagnosed) outage is addressed"),
                format_args!(
                    "cause de la panne {cause:?} : seule une panne côté serveur (ou non diagnostiquée) est prévue"
                ),
            );
        },
    ) {
        return common::silent(&POLICY_SILENT, req);
    }
    let Some(outage) = req.claim.outage else {
        // The duration decides; once supplied, a guaranteed outage is paid in full.
        required.check(false, Field::ClaimOutageDuration);
        t.rule("outage-guarantee", &OUTAGE_GUARANTEE, true, move |d| {
            d.say(
                format_args!(
                    "outage duration not given; the guarantee needs more than {}",
                    Hm(OUTAGE_GUARANTEE_THRESHOLD)
                ),
                format_args!(
                    "durée de la panne non indiquée ; la garantie exige plus de {}",
                    Hm(OUTAGE_GUARANTEE_THRESHOLD)
                ),
            );
        });
        return full(&OUTAGE_GUARANTEE);
    };
    let short = outage.duration <= OUTAGE_GUARANTEE_THRESHOLD;
    let (lasted, threshold) = (Hm(outage.duration), Hm(OUTAGE_GUARANTEE_THRESHOLD));
    t.rule(
        "outage-guarantee",
        if short {
            &OCCASIONAL_DISRUPTION_EXCLUDED
        } else {
            &OUTAGE_GUARANTEE
        },
        true,
        move |d| {
            d.say(
                format_args!("outage lasted {lasted}; the guarantee needs more than {threshold}"),
                format_args!("la panne a duré {lasted} ; la garantie exige plus de {threshold}"),
            );
        },
    );
    if short {
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
fn technical_issue<'r>(
    req: &'r ClaimRequest,
    required: &mut Required,
    t: &mut impl Trace<'r>,
    full: impl Fn(Reason) -> Outcome,
    deny: impl Fn(Reason) -> Outcome,
) -> Outcome {
    let support = req.claim.support;
    if t.rule(
        "support-contacted",
        &SUPPORT_NOT_GIVEN_CHANCE,
        !support.contacted,
        move |d| {
            d.say(
                format_args!("support contacted: {}", support.contacted),
                format_args!("support contacté : {}", support.contacted),
            );
        },
    ) {
        return deny(&SUPPORT_NOT_GIVEN_CHANCE);
    }
    if t.rule("issue-resolved", &ISSUE_RESOLVED, support.resolved, move |d| {
        d.say(
            format_args!("issue resolved: {}", support.resolved),
            format_args!("problème résolu : {}", support.resolved),
        );
    }) {
        return deny(&ISSUE_RESOLVED);
    }
    let Some(first_contact) = support.first_contacted_at else {
        // The 48 h cannot be measured without it.
        required.check(false, Field::ClaimSupportFirstContactedAt);
        t.rule("unresolved-within-48h", &UNRESOLVED_WITHIN_48H, true, move |d| {
            d.say(
                format_args!(
                    "first contact with support not given: the {} cannot be measured",
                    Hm(RESOLUTION_WINDOW)
                ),
                format_args!(
                    "premier contact avec le support non indiqué : les {} ne peuvent être mesurées",
                    Hm(RESOLUTION_WINDOW)
                ),
            );
        });
        return full(&UNRESOLVED_WITHIN_48H);
    };
    let resolution_deadline = first_contact + RESOLUTION_WINDOW;
    let waiting = req.evaluated_at < resolution_deadline;
    let since = Hm(req.evaluated_at - first_contact);
    t.rule(
        "unresolved-within-48h",
        if waiting {
            &WAITING_PERIOD_RUNNING
        } else {
            &UNRESOLVED_WITHIN_48H
        },
        true,
        move |d| {
            d.say(
                format_args!(
                    "evaluated {since} after first contact ({}); support has {} to resolve",
                    At(first_contact),
                    Hm(RESOLUTION_WINDOW)
                ),
                format_args!(
                    "évaluée {since} après le premier contact ({}) ; le support dispose de {} pour résoudre",
                    At(first_contact),
                    Hm(RESOLUTION_WINDOW)
                ),
            );
        },
    );
    if waiting {
        return common::waiting(&WAITING_PERIOD_RUNNING, req, resolution_deadline);
    }
    full(&UNRESOLVED_WITHIN_48H)
}

/// "We only offer full refunds for purchases made within 48 hours. For any
/// request made after that period, refunds will be partial depending on how
/// much of the subscription was used."
fn no_fault<'r>(req: &'r ClaimRequest, required: &mut Required, t: &mut impl Trace<'r>) -> Outcome {
    let p = &req.purchase;
    let window_end = p.purchased_at + FULL_REFUND_WINDOW;
    let within = req.claim.submitted_at <= window_end;
    let after = Hm(req.claim.submitted_at - p.purchased_at);
    if t.rule("within-48h", &WITHIN_48_HOURS, within, move |d| {
        d.say(
            format_args!(
                "claim submitted {after} after purchase; the window is {}",
                Hm(FULL_REFUND_WINDOW)
            ),
            format_args!(
                "demande présentée {after} après l'achat ; le délai est de {}",
                Hm(FULL_REFUND_WINDOW)
            ),
        );
    }) {
        let mut out = Outcome::full(&WITHIN_48_HOURS, p.amount_paid, RefundMethod::OriginalPayment);
        out.claim_deadline = Some(window_end);
        return out;
    }
    let term = p.term();
    let refund = term
        .and_then(|term| term.prorate(p.amount_paid, req.evaluated_at))
        .map(Money::rounded);
    let used_up = refund.is_some_and(|r| r.is_zero());
    t.rule(
        "prorated",
        if used_up {
            &SUBSCRIPTION_USED_UP
        } else {
            &PRORATED_BY_USAGE
        },
        true,
        move |d| {
            let cur = p.amount_paid.currency();
            match (term, refund) {
                (None, _) => d.say(
                    format_args!("term length not given: the unused share cannot be measured"),
                    format_args!("durée de l'abonnement non indiquée : la part non utilisée ne peut être mesurée"),
                ),
                (Some(term), None) => d.say(
                    format_args!(
                        "term ends {}; the unused share of {} {cur} cannot be computed",
                        At(term.end),
                        p.amount_paid
                    ),
                    format_args!(
                        "l'abonnement prend fin le {} ; la part non utilisée de {} {cur} ne peut être calculée",
                        At(term.end),
                        p.amount_paid
                    ),
                ),
                (Some(term), Some(r)) => d.say(
                    format_args!(
                        "term ends {}; unused at {}: {r} {cur} of {} {cur}",
                        At(term.end),
                        At(req.evaluated_at),
                        p.amount_paid
                    ),
                    format_args!(
                        "l'abonnement prend fin le {} ; part non utilisée au {} : {r} {cur} sur {} {cur}",
                        At(term.end),
                        At(req.evaluated_at),
                        p.amount_paid
                    ),
                ),
            }
        },
    );
    let Some(_) = term else {
        // Proration needs the length of the subscription.
        required.check(false, Field::PurchaseTermMonths);
        return Outcome::new(Decision::PartiallyApproved, &PRORATED_BY_USAGE, p.amount_paid);
    };
    let Some(refund) = refund else {
        return common::not_computable(&PRORATED_BY_USAGE, req);
    };
    if refund.is_zero() {
        return Outcome::denied(&SUBSCRIPTION_USED_UP, p.amount_paid);
    }
    Outcome::share(&PRORATED_BY_USAGE, p.amount_paid, refund, RefundMethod::OriginalPayment)
}

/// "If you paid by credit or debit card, refunds typically take 20 to 31
/// business days. In some cases, processing may take up to 90 days." The
/// same window applies to every payment method.
pub fn timeline(req: &ClaimRequest, out: &Outcome) -> Timeline {
    if !out.pays_now() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::trace::NoTrace;

    /// The policy alone, untraced.
    fn evaluate(req: &ClaimRequest) -> Outcome {
        super::evaluate(req, &mut NoTrace)
    }
    use crate::domain::claim::{Claim, Outage, PaymentMethod, Purchase, SupportHistory};
    use crate::domain::fixtures::{eur, t};

    /// A complete claim for EUR 29.99 paid on Monday 5 January 2026 at 10:00
    /// UTC for one month, delivered at once, filed at `evaluated_at`.
    fn request(reason: ClaimReason, evaluated_at: &str) -> ClaimRequest {
        let evaluated_at = t(evaluated_at);
        ClaimRequest {
            purchase: Purchase {
                order_id: "SP-1".into(),
                delivered_at: Some(t("2026-01-05T10:00:00Z")),
                term_months: 1,
                payment_method: PaymentMethod::Card,
                ..Purchase::new(eur("29.99"), t("2026-01-05T10:00:00Z"))
            },
            claim: Claim {
                description: "missing features".into(),
                ..Claim::new(reason, evaluated_at)
            },
            evaluated_at,
        }
    }

    fn codes(out: &Outcome) -> Vec<&'static str> {
        out.reasons.iter().map(|r| r.code).collect()
    }

    #[test]
    fn adult_content_is_excluded_whatever_the_reason() {
        for reason in [
            ClaimReason::ContentDissatisfaction,
            ClaimReason::NotAsDescribed,
            ClaimReason::TechnicalIssue,
            ClaimReason::NonDelivery,
        ] {
            let mut req = request(reason, "2026-01-06T10:00:00Z");
            req.claim.concerns_adult_content = true;
            let out = evaluate(&req);
            assert_eq!(out.decision, Decision::Denied, "{reason:?}");
            assert_eq!(codes(&out), ["ADULT_CONTENT_NOT_ADVERTISED"], "{reason:?}");
        }
    }

    #[test]
    fn a_third_party_app_is_a_customer_side_cause() {
        let mut req = request(ClaimReason::ServiceOutage, "2026-01-06T10:00:00Z");
        req.claim.cause = IssueCause::ThirdPartyApp;
        req.claim.outage = Some(Outage {
            duration: TimeDelta::hours(100),
            scope: OutageScope::Full,
            ..Outage::default()
        });
        assert_eq!(codes(&evaluate(&req)), ["CUSTOMER_SIDE_ISSUE_EXCLUDED"]);
        req.claim.cause = IssueCause::ForceMajeure;
        assert_eq!(codes(&evaluate(&req)), ["POLICY_SILENT_MANUAL_REVIEW"]);
    }

    #[test]
    fn a_billing_error_refunds_the_overcharge_late_in_the_term() {
        let mut req = request(ClaimReason::BillingError, "2026-02-01T10:00:00Z");
        req.claim.charged_amount = Some(eur("39.99"));
        req.claim.expected_amount = Some(eur("29.99"));
        let out = evaluate(&req).finish();
        assert_eq!(out.decision, Decision::Approved);
        assert_eq!(codes(&out), ["BILLING_ERROR_OVERCHARGE"]);
        assert_eq!(out.refund_amount, eur("10.00"));
        assert_eq!(out.refund_method, RefundMethod::OriginalPayment);
        req.claim.expected_amount = Some(eur("39.99"));
        let out = evaluate(&req);
        assert_eq!(out.decision, Decision::Denied);
        assert_eq!(codes(&out), ["NO_OVERCHARGE"]);
    }

    #[test]
    fn no_exclusion_blocks_a_charge_dispute() {
        let mut req = request(ClaimReason::DuplicatePayment, "2026-01-20T10:00:00Z");
        req.claim.duplicate_amount = Some(eur("29.99"));
        req.claim.concerns_adult_content = true;
        req.claim.cause = IssueCause::CustomerSide;
        let out = evaluate(&req).finish();
        assert_eq!(out.decision, Decision::Approved);
        assert_eq!(codes(&out), ["DUPLICATE_PAYMENT"]);
        assert_eq!(out.refund_amount, eur("29.99"));
    }

    #[test]
    fn missing_amounts_and_order_number_are_asked_at_once() {
        let mut req = request(ClaimReason::BillingError, "2026-01-06T10:00:00Z");
        req.purchase.order_id.clear();
        req.claim.charged_amount = Some(eur("39.99"));
        let out = evaluate(&req);
        assert_eq!(out.decision, Decision::NeedsInformation);
        assert_eq!(
            codes(&out),
            ["MISSING_REQUIRED_INFORMATION", "BILLING_ERROR_OVERCHARGE"]
        );
        assert_eq!(
            out.missing_information.iter().collect::<Vec<_>>(),
            [Field::PurchaseOrderId, Field::ClaimExpectedAmount]
        );
    }

    #[test]
    fn technical_issue_resolution_waits_48_hours_from_first_contact() {
        let mut req = request(ClaimReason::TechnicalIssue, "2026-01-12T07:59:59Z");
        req.claim.support = SupportHistory {
            contacted: true,
            first_contacted_at: Some(t("2026-01-10T08:00:00Z")),
            ..SupportHistory::default()
        };
        let out = evaluate(&req);
        assert_eq!(codes(&out), ["WAITING_PERIOD_RUNNING"]);
        assert_eq!(out.resubmit_after, Some(t("2026-01-12T08:00:00Z")));
        req.evaluated_at = t("2026-01-12T08:00:00Z");
        assert_eq!(codes(&evaluate(&req)), ["UNRESOLVED_WITHIN_48H"]);
    }
}
