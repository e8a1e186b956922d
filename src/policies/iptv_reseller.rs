//! `iptv-reseller`: B2B panel credits for IPTV resellers (`iptv-reseller.txt`).
//!
//! Refunds go back as panel credit by default, with a refund to the original
//! payment method offered as the alternative ("Refunds are generally issued in
//! the form of a credit adjustment back to your Reseller Panel balance, or a
//! refund to the original payment method"). Clauses cite the text's section
//! numbers and the row or bullet inside them ("§1 Not Eligible: Change of
//! Mind").
//!
//! Second edition of the rulings (2026-12-02, change table rows 3, 7, 8):
//! the order number stands in for the transaction id; an outage whose cause
//! is not the core service is `NOT_CORE_SERVICE_OUTAGE`; credits that arrived
//! late but before the claim are `CREDITS_DELIVERED`; a billing error or a
//! duplicate payment is reviewed recommending the overcharge or the duplicate
//! charge; `customer_type` UNSPECIFIED is a business (`META.unspecified_customer`).
//!
//! Readings where the rulings are silent:
//! - A change of mind *before* the credits were added is not excluded (§1
//!   excludes it only "after credits have been added to your panel"); the
//!   rulings' QuoteRefund schedule pays FULL until delivery, so it is approved
//!   in full (`CANCELLED_BEFORE_DELIVERY`). "After" is strict and judged at
//!   `submitted_at`: a claim filed at the very instant of delivery is still
//!   before it, matching the schedule's inclusive window end.
//! - §2's 7-day window covers non-delivery (from purchase) and faults, i.e.
//!   `SERVICE_OUTAGE` and `TECHNICAL_ISSUE` (from `issue_started_at`). A late
//!   claim that would otherwise not be denied goes to review
//!   (`LATE_CLAIM_REVIEW` first, the rule's own reason after it) recommending
//!   what the rule would pay; a late claim the rules deny stays denied. A
//!   charge dispute has no deadline (rulings: "at any time").
//! - Non-delivery is judged on what was delivered by `evaluated_at` (a later
//!   `delivered_at` is not known yet). Credits delivered within the 24
//!   business hours, or later but at or before `submitted_at`, were delivered
//!   (`CREDITS_DELIVERED`); credits missing when the claim was filed, once the
//!   24 business hours have passed at `evaluated_at`, are refunded even if they
//!   arrived between the claim and its evaluation.
//! - An outage below the major threshold goes to review recommending nothing:
//!   the text makes only the >48 h unannounced outage eligible.
//! - An outage claim whose scope is unspecified is taken as FULL (the reason
//!   itself says the service was down for everyone). A PARTIAL outage goes to
//!   review whatever its duration and cause, as the rulings say: their 12 h
//!   and 48 h thresholds and the core-service test are stated for FULL
//!   outages only; a SINGLE_CHANNEL outage is excluded by §5 whatever its
//!   cause. The causes that are not the core service are the four the
//!   rulings list (customer side, ISP, third-party app, channel source);
//!   an undiagnosed, server-side or force-majeure outage goes on to the
//!   duration rules. A known non-core cause denies the claim without asking
//!   for the outage's duration.
//! - The text has no terms-of-service clause: the rulings' terms violation
//!   cites §1's opening ("only in the following eligible cases"), none of
//!   which it is, marked "(ruling: terms violation)".
//! - "Reseller ID (or Registered Email Address)": either satisfies it; when
//!   both are missing `purchase.reseller_id` is asked for. "The Transaction
//!   ID or Order Number": either satisfies it; when both are missing
//!   `purchase.transaction_id` is asked for. Evidence
//!   (`claim.evidence_attachments` > 0) is required of every claim, as the
//!   rulings list it, charge disputes included.
//! - A recommended amount (review, information) travels with the same method
//!   and alternative as a payment: the overcharge a charge-dispute review
//!   recommends too (panel credit, cash as the alternative); a review with
//!   nothing to recommend has no method.
//! - The support desk's promise (acknowledge within 4 business hours, resolve
//!   within 48 business hours, both from submission) is reported for every
//!   claim; funds dates only for a refund that is paid.

use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::calendar::Calendar;
use crate::domain::claim::{
    ClaimReason, ClaimRequest, CustomerType, IssueCause, Language, OutageScope, PriceType, QuoteRequest,
};
use crate::domain::decision::{
    Compensation, CompensationKind, Decision, Outcome, Reason, ReasonDef, RefundBasis, RefundMethod, Timeline,
};
use crate::domain::field::Field;
use crate::domain::money::Money;
use crate::domain::term::Term;
use crate::domain::trace::{produced, At, Detail, Hm, Opt, Trace};

use super::common::{self, paid, Required};
use super::{PolicyMeta, Segment, Segments};

/// "not added to your Reseller Panel balance within 24 business hours of successful payment confirmation"
const DELIVERY_BUSINESS_HOURS: u32 = 24;
/// "Temporary, short-term outages (less than 12 hours)"
const MINOR_OUTAGE_LIMIT: TimeDelta = TimeDelta::hours(12);
/// "A prolonged, unannounced service outage (e.g., exceeding 48 consecutive hours)"
const MAJOR_OUTAGE_THRESHOLD: TimeDelta = TimeDelta::hours(48);
/// "within 7 calendar days of the transaction or the start of the service fault"
const CLAIM_WINDOW: TimeDelta = TimeDelta::days(7);
/// "acknowledge your request within 4 business hours and aim for a resolution within 48 business hours"
const ACKNOWLEDGE_BUSINESS_HOURS: u32 = 4;
const DECIDE_BUSINESS_HOURS: u32 = 48;
/// "Processing time is typically 5–7 business days"
const CASH_EARLIEST_BUSINESS_DAYS: u32 = 5;
const CASH_LATEST_BUSINESS_DAYS: u32 = 7;

static TERMS_VIOLATION: ReasonDef = ReasonDef {
    clause: "§1 Refund & Credit Eligibility (ruling: terms violation)",
    ..common::TERMS_VIOLATION
};
static POLICY_SILENT: ReasonDef = ReasonDef {
    clause: "§1 Refund & Credit Eligibility (not addressed)",
    ..common::POLICY_SILENT_MANUAL_REVIEW
};
static MISSING_INFORMATION: ReasonDef = ReasonDef {
    clause: "§3 How to Request a Refund or Credit Adjustment",
    ..common::MISSING_REQUIRED_INFORMATION
};
static WAITING_PERIOD_RUNNING: ReasonDef = ReasonDef {
    clause: "§1 Eligible: Non-Delivery of Credits",
    ..common::WAITING_PERIOD_RUNNING
};

static PROMOTIONAL_PURCHASE_EXCLUDED: ReasonDef = ReasonDef {
    code: "PROMOTIONAL_PURCHASE_EXCLUDED",
    clause: "§1 Not Eligible: Discounted or Promotional Purchases",
    en: "The credits were bought at a promotional or steeply discounted rate; such purchases are never refunded or credited back.",
    fr: "Les crédits ont été achetés à un tarif promotionnel ou fortement réduit : ces achats ne sont ni remboursés ni recrédités.",
};
static CREDITS_NOT_DELIVERED: ReasonDef = ReasonDef {
    code: "CREDITS_NOT_DELIVERED",
    clause: "§1 Eligible: Non-Delivery of Credits",
    en: "The credits were not added to the reseller panel within 24 business hours of payment: the purchase qualifies for a full refund.",
    fr: "Les crédits n'ont pas été ajoutés au panel revendeur dans les 24 heures ouvrées suivant le paiement : l'achat ouvre droit à un remboursement intégral.",
};
static CREDITS_DELIVERED: ReasonDef = ReasonDef {
    code: "CREDITS_DELIVERED",
    clause: "§1 Eligible: Non-Delivery of Credits",
    en: "The credits were added to the reseller panel within 24 business hours of payment, or before the claim was filed; there is no non-delivery to refund (a refund on top of the credits would pay twice).",
    fr: "Les crédits ont été ajoutés au panel revendeur dans les 24 heures ouvrées suivant le paiement, ou avant le dépôt de la demande : la non-livraison n'est pas établie (rembourser en plus des crédits reviendrait à payer deux fois).",
};
static MINOR_OUTAGE_EXCLUDED: ReasonDef = ReasonDef {
    code: "MINOR_OUTAGE_EXCLUDED",
    clause: "§1 Not Eligible: Minor, Temporary Issues",
    en: "The outage lasted less than 12 hours: short, temporary outages are not refunded, announced or not.",
    fr: "La panne a duré moins de 12 heures : les pannes courtes et temporaires ne sont pas remboursées, qu'elles aient été annoncées ou non.",
};
static OUTAGE_BELOW_MAJOR_THRESHOLD: ReasonDef = ReasonDef {
    code: "OUTAGE_BELOW_MAJOR_THRESHOLD",
    clause: "§1 Eligible: Major Unresolvable Service Outage",
    en: "The outage does not qualify as major (it was announced, partial, or lasted 48 hours or less): an agent decides whether anything is owed. No amount is recommended.",
    fr: "La panne ne peut pas être qualifiée de majeure (elle était annoncée, partielle ou a duré 48 heures au plus) : un agent décide si un remboursement est dû. Aucun montant n'est recommandé.",
};
static MAJOR_OUTAGE: ReasonDef = ReasonDef {
    code: "MAJOR_OUTAGE",
    clause: "§1 Eligible: Major Unresolvable Service Outage",
    en: "The panel or stream access suffered an unannounced outage of more than 48 consecutive hours: the purchase qualifies for a full refund.",
    fr: "Le panel ou l'accès aux flux a subi une panne non annoncée de plus de 48 heures consécutives : l'achat ouvre droit à un remboursement intégral.",
};
static NOT_CORE_SERVICE_OUTAGE: ReasonDef = ReasonDef {
    code: "NOT_CORE_SERVICE_OUTAGE",
    clause: "§1 Eligible: Major Unresolvable Service Outage",
    en: "The outage was caused by the reseller's or end user's side, their internet provider, a third-party app or a channel's source, not by the core Reseller Panel or stream access; only an outage of the core service is refunded.",
    fr: "La panne provient du côté du revendeur ou de l'utilisateur final, de son fournisseur d'accès, d'une application tierce ou de la source d'une chaîne, et non du panel revendeur ou de l'accès aux flux ; seule une panne du service principal ouvre droit à remboursement.",
};
static SINGLE_CHANNEL_EXCLUDED: ReasonDef = ReasonDef {
    code: "SINGLE_CHANNEL_EXCLUDED",
    clause: "§5 Important Note About Service Reliability",
    en: "A single channel or stream being temporarily unavailable is normal while overall access stays up; it is not grounds for a refund.",
    fr: "L'indisponibilité temporaire d'une chaîne ou d'un flux est normale tant que l'accès global fonctionne ; elle ne justifie pas de remboursement.",
};
static NOT_AS_DESCRIBED_VERIFY: ReasonDef = ReasonDef {
    code: "NOT_AS_DESCRIBED_VERIFY",
    clause: "§1 Eligible: Product Not As Described",
    en: "The reseller reports that the service differs from what was advertised at purchase: an agent must verify the discrepancy against the evidence. A full refund is recommended if it is proven.",
    fr: "Le revendeur signale un écart entre le service fourni et celui annoncé à l'achat : un agent doit le vérifier au vu des preuves. Un remboursement intégral est recommandé s'il est établi.",
};
static CHANGE_OF_MIND_EXCLUDED: ReasonDef = ReasonDef {
    code: "CHANGE_OF_MIND_EXCLUDED",
    clause: "§1 Not Eligible: Change of Mind",
    en: "The reseller changed their mind after the credits were added to the panel; this is not refunded.",
    fr: "Le revendeur a changé d'avis après l'ajout des crédits au panel : un simple changement d'avis n'ouvre pas droit à remboursement.",
};
static CANCELLED_BEFORE_DELIVERY: ReasonDef = ReasonDef {
    code: "CANCELLED_BEFORE_DELIVERY",
    clause: "§1 Not Eligible: Change of Mind",
    en: "The reseller withdrew before the credits were added to the panel; the change-of-mind exclusion only applies once they are, so the purchase is refunded in full.",
    fr: "Le revendeur a renoncé à son achat avant l'ajout des crédits au panel. L'exclusion pour changement d'avis ne s'applique qu'après cet ajout ; l'achat est donc remboursé intégralement.",
};
static RESELLER_MISMANAGEMENT_EXCLUDED: ReasonDef = ReasonDef {
    code: "RESELLER_MISMANAGEMENT_EXCLUDED",
    clause: "§1 Not Eligible: Customer Mismanagement",
    en: "End users were suspended or terminated because of the reseller's own configuration or management; this is not refunded.",
    fr: "Des utilisateurs finaux ont vu leur accès suspendu ou résilié du fait de la configuration ou de la gestion du revendeur lui-même ; cela n'ouvre pas droit à remboursement.",
};
static UNSUPPORTED_DEVICE_EXCLUDED: ReasonDef = ReasonDef {
    code: "UNSUPPORTED_DEVICE_EXCLUDED",
    clause: "§1 Not Eligible: Third-Party Compatibility",
    en: "The problem comes from hardware or an app the service does not officially support or recommend; this is not refunded.",
    fr: "Le problème vient d'un matériel ou d'une application que le service ne prend pas officiellement en charge et ne recommande pas ; cela n'ouvre pas droit à remboursement.",
};
static LATE_CLAIM_REVIEW: ReasonDef = ReasonDef {
    code: "LATE_CLAIM_REVIEW",
    clause: "§2 Timeframe for Requests",
    en: "The claim was filed more than 7 calendar days after the purchase or the start of the fault: it may still be accepted after review, but is not guaranteed.",
    fr: "La demande a été déposée plus de 7 jours calendaires après l'achat ou le début de l'incident : elle peut encore être acceptée après examen, sans garantie.",
};

pub static META: PolicyMeta = PolicyMeta {
    id: "iptv-reseller",
    version: "undated",
    title: "IPTV Reseller Refund & Credit Policy",
    merchant: "IPTV Reseller",
    source_language: Language::En,
    calendar: Calendar::UTC_WEEKENDS,
    catalog: &[
        &TERMS_VIOLATION,
        &PROMOTIONAL_PURCHASE_EXCLUDED,
        &CREDITS_NOT_DELIVERED,
        &CREDITS_DELIVERED,
        &WAITING_PERIOD_RUNNING,
        &MINOR_OUTAGE_EXCLUDED,
        &OUTAGE_BELOW_MAJOR_THRESHOLD,
        &MAJOR_OUTAGE,
        &NOT_CORE_SERVICE_OUTAGE,
        &SINGLE_CHANNEL_EXCLUDED,
        &NOT_AS_DESCRIBED_VERIFY,
        &CHANGE_OF_MIND_EXCLUDED,
        &CANCELLED_BEFORE_DELIVERY,
        &RESELLER_MISMANAGEMENT_EXCLUDED,
        &UNSUPPORTED_DEVICE_EXCLUDED,
        &LATE_CLAIM_REVIEW,
        &MISSING_INFORMATION,
        &POLICY_SILENT,
    ],
    terms_violation: &TERMS_VIOLATION,
    terms_violation_consequence: None,
    unspecified_customer: CustomerType::Business,
};

pub fn evaluate<'r>(req: &'r ClaimRequest, t: &mut impl Trace<'r>) -> Outcome {
    let p = &req.purchase;
    let claim = &req.claim;
    let mut required = Required::new();
    // §3 "Please Include the Following Essential Information: 1. Your Reseller
    // ID (or Registered Email Address). 2. The Transaction ID or Order Number.
    // 3. A detailed description of the issue, including the date and time the
    // problem was first observed. 4. Screenshots or video evidence"
    required
        .check(
            !p.reseller_id.is_empty() || !p.purchase_email.is_empty(),
            Field::PurchaseResellerId,
        )
        .check(
            !p.transaction_id.is_empty() || !p.order_id.is_empty(),
            Field::PurchaseTransactionId,
        )
        .check(!claim.description.is_empty(), Field::ClaimDescription)
        .check(
            !is_fault(claim.reason) || claim.issue_started_at.is_some(),
            Field::ClaimIssueStartedAt,
        )
        .check(claim.evidence_attachments > 0, Field::ClaimEvidenceAttachments);
    let out = decide(req, &mut required, t);
    required.apply(out, &MISSING_INFORMATION, t)
}

/// §2's "major technical fault", whose window runs from the start of the fault.
fn is_fault(reason: ClaimReason) -> bool {
    matches!(reason, ClaimReason::ServiceOutage | ClaimReason::TechnicalIssue)
}

fn decide<'r>(req: &'r ClaimRequest, required: &mut Required, t: &mut impl Trace<'r>) -> Outcome {
    let claim = &req.claim;
    let deny = |reason: Reason| Outcome::denied(reason, paid(req));
    let reason = claim.reason;

    // §1 Not Eligible: "Credits purchased under a non-standard promotional or
    // steeply discounted rate." The credits themselves are still owed.
    let price = req.purchase.price_type;
    if t.rule(
        "promotional",
        &PROMOTIONAL_PURCHASE_EXCLUDED,
        price == PriceType::Promotional,
        move |d| {
            d.say(
                format_args!("price type {price:?}"),
                format_args!("type de prix {price:?}"),
            );
        },
    ) {
        let out = deny(&PROMOTIONAL_PURCHASE_EXCLUDED);
        if claim.reason == ClaimReason::NonDelivery {
            return out.with_alternative(Compensation::of(CompensationKind::DeliverCredits));
        }
        return out;
    }

    let said = move |d: &mut Detail<'_>| {
        d.say(
            format_args!("claim reason {reason:?}"),
            format_args!("motif {reason:?}"),
        )
    };
    match claim.reason {
        ClaimReason::NonDelivery => {
            let out = non_delivery(req, t);
            within_claim_window(req, Some(req.purchase.purchased_at), out, t)
        }
        ClaimReason::ServiceOutage => {
            let out = outage(req, required, t);
            within_claim_window(req, claim.issue_started_at, out, t)
        }
        ClaimReason::TechnicalIssue => {
            let out = device(req, t);
            within_claim_window(req, claim.issue_started_at, out, t)
        }
        ClaimReason::DeviceIncompatibility => device(req, t),
        // §5 "If a specific channel or stream is temporarily unavailable, this
        // is normal and not grounds for a refund"
        ClaimReason::ChannelUnavailable => {
            t.rule("single-channel", &SINGLE_CHANNEL_EXCLUDED, true, said);
            deny(&SINGLE_CHANNEL_EXCLUDED)
        }
        ClaimReason::NotAsDescribed => {
            t.rule("not-as-described", &NOT_AS_DESCRIBED_VERIFY, true, said);
            not_as_described(req)
        }
        ClaimReason::ChangeOfMind => change_of_mind(req, t),
        // §1 Not Eligible: "Account suspension/termination of your end-users
        // due to your own improper configuration or management."
        ClaimReason::EndUserMismanagement => {
            t.rule("end-user-mismanagement", &RESELLER_MISMANAGEMENT_EXCLUDED, true, said);
            deny(&RESELLER_MISMANAGEMENT_EXCLUDED)
        }
        // Not one of §1's eligible cases: an agent decides, sized as the
        // rulings' charge disputes are (never the whole purchase), at any time.
        ClaimReason::BillingError | ClaimReason::DuplicatePayment => {
            let out = charge_dispute(req, required);
            produced(t, "charge-dispute", &out, move |d| {
                let r = out.refund_amount.rounded();
                d.say(
                    format_args!(
                        "claim reason {reason:?}, not an eligible case of §1: reviewed, recommending {r} {}",
                        r.currency()
                    ),
                    format_args!(
                        "motif {reason:?}, hors des cas éligibles du §1 : examen, {r} {} recommandés",
                        r.currency()
                    ),
                );
            });
            out
        }
        ClaimReason::UnauthorizedTransaction
        | ClaimReason::ContentDissatisfaction
        | ClaimReason::SetupDifficulty
        | ClaimReason::WrongPlanSelected
        | ClaimReason::ServerSwitchRequest => {
            t.rule("not-addressed", &POLICY_SILENT, true, said);
            common::silent(&POLICY_SILENT, req)
        }
    }
}

/// Pays (or recommends) `amount` as panel credit, the default, with the same
/// amount to the original payment method as the alternative.
fn panel_credit(out: Outcome, amount: Money) -> Outcome {
    out.paying(amount, RefundMethod::PanelCredit)
        .with_alternative(cash(amount))
}

/// "or a refund to the original payment method"
fn cash(amount: Money) -> Compensation {
    Compensation {
        amount: Some(amount),
        ..Compensation::of(CompensationKind::CashRefund)
    }
}

/// The full amount, approved.
fn approve_full(req: &ClaimRequest, reason: Reason) -> Outcome {
    Outcome::full(reason, paid(req), RefundMethod::PanelCredit).with_alternative(cash(paid(req)))
}

/// §2 "You must notify us of any issue related to non-delivery or major
/// technical fault within 7 calendar days of the transaction or the start of
/// the service fault. Claims made after this period may be subject to review
/// but are not guaranteed acceptance." Without a known start (a fault whose
/// `issue_started_at` is still asked for) there is no deadline yet.
fn within_claim_window<'r>(
    req: &'r ClaimRequest,
    start: Option<DateTime<Utc>>,
    out: Outcome,
    t: &mut impl Trace<'r>,
) -> Outcome {
    let Some(start) = start else {
        t.rule("claim-window", &LATE_CLAIM_REVIEW, false, move |d| {
            d.say(
                format_args!("the fault's start is not known yet: no deadline"),
                format_args!("le début de la panne n'est pas encore connu : pas de délai"),
            );
        });
        return out;
    };
    let deadline = start + CLAIM_WINDOW;
    let mut out = out;
    out.claim_deadline = Some(deadline);
    let late = req.claim.submitted_at > deadline;
    let denied = out.decision == Decision::Denied;
    t.rule("claim-window", &LATE_CLAIM_REVIEW, late && !denied, move |d| {
        let after = Hm(req.claim.submitted_at - start);
        d.say(
            format_args!(
                "claim submitted {after} after {}; the window is 7 days ({}){}",
                At(start),
                Hm(CLAIM_WINDOW),
                if denied { "; the claim is denied anyway" } else { "" }
            ),
            format_args!(
                "demande présentée {after} après le {} ; le délai est de 7 jours ({}){}",
                At(start),
                Hm(CLAIM_WINDOW),
                if denied {
                    " ; la demande est refusée de toute façon"
                } else {
                    ""
                }
            ),
        );
    });
    if !late || denied {
        return out;
    }
    out.decision = Decision::NeedsReview;
    out.reasons.push_front(&LATE_CLAIM_REVIEW);
    out
}

/// §1 Eligible, Non-Delivery of Credits: "The purchased credits were not
/// added to your Reseller Panel balance within 24 business hours of
/// successful payment confirmation." Credits that arrived late but before
/// the claim was filed were delivered all the same: refunding them too would
/// pay twice. Credits still missing when it was filed are refunded even if
/// they arrived since (they were late, and the reseller claimed in good faith).
fn non_delivery<'r>(req: &'r ClaimRequest, t: &mut impl Trace<'r>) -> Outcome {
    let p = &req.purchase;
    let due = META
        .calendar
        .add_business_hours(p.purchased_at, DELIVERY_BUSINESS_HOURS);
    let out = non_delivery_at(req, due);
    produced(t, "non-delivery", &out, move |d| {
        let delivered = p.delivered_at.map(At);
        let (en, fr) = match delivered {
            Some(at) => (format!("delivered {at}"), format!("livré le {at}")),
            None => ("not delivered".to_owned(), "non livré".to_owned()),
        };
        d.say(
            format_args!("credits due by {} (24 business hours after payment); {en}; claim submitted {}, evaluated {}", At(due), At(req.claim.submitted_at), At(req.evaluated_at)),
            format_args!("crédits dus au plus tard le {} (24 heures ouvrées après le paiement) ; {fr} ; demande présentée le {}, évaluée le {}", At(due), At(req.claim.submitted_at), At(req.evaluated_at)),
        );
    });
    out
}

fn non_delivery_at(req: &ClaimRequest, due: DateTime<Utc>) -> Outcome {
    let p = &req.purchase;
    match p.delivered_at.filter(move |d| *d <= req.evaluated_at) {
        Some(delivered) if delivered <= due || delivered <= req.claim.submitted_at => {
            Outcome::denied(&CREDITS_DELIVERED, paid(req))
        }
        // Delivered after `due` and by `evaluated_at`: the wait is over.
        Some(_) => approve_full(req, &CREDITS_NOT_DELIVERED),
        None if req.evaluated_at < due => common::waiting(&WAITING_PERIOD_RUNNING, req, due),
        None => approve_full(req, &CREDITS_NOT_DELIVERED),
    }
}

/// §1 Eligible, Major Unresolvable Service Outage: "A prolonged, unannounced
/// service outage (e.g., exceeding 48 consecutive hours) of the core Reseller
/// Panel or stream access"; §1 Not Eligible, Minor, Temporary Issues: "(less
/// than 12 hours) due to planned maintenance or routine technical issues";
/// §5 "Our guarantee covers the core functionality and overall uptime".
fn outage<'r>(req: &'r ClaimRequest, required: &mut Required, t: &mut impl Trace<'r>) -> Outcome {
    let out = outage_rules(req, required);
    produced(t, "outage", &out, move |d| {
        let cause = req.claim.cause;
        let core = core_service_cause(cause);
        match req.claim.outage {
            None => d.say(
                format_args!("cause {cause:?} (core service: {core}); duration not given"),
                format_args!("cause {cause:?} (service principal : {core}) ; durée non indiquée"),
            ),
            Some(o) => d.say(
                format_args!("cause {cause:?} (core service: {core}), scope {:?}, announced {}, lasted {}; under {} is minor, over {} unannounced is major", o.scope, o.announced, Hm(o.duration), Hm(MINOR_OUTAGE_LIMIT), Hm(MAJOR_OUTAGE_THRESHOLD)),
                format_args!("cause {cause:?} (service principal : {core}), étendue {:?}, annoncée {}, durée {} ; moins de {} est mineur, plus de {} sans annonce est majeur", o.scope, o.announced, Hm(o.duration), Hm(MINOR_OUTAGE_LIMIT), Hm(MAJOR_OUTAGE_THRESHOLD)),
            ),
        }
    });
    out
}

fn outage_rules(req: &ClaimRequest, required: &mut Required) -> Outcome {
    let Some(outage) = req.claim.outage else {
        // Scope unknown, taken as FULL: a known non-core cause settles it
        // without the duration.
        if !core_service_cause(req.claim.cause) {
            return Outcome::denied(&NOT_CORE_SERVICE_OUTAGE, paid(req));
        }
        // The duration decides; once supplied, a major outage is paid in full.
        required.check(false, Field::ClaimOutageDuration);
        return approve_full(req, &MAJOR_OUTAGE);
    };
    let review = || Outcome::new(Decision::NeedsReview, &OUTAGE_BELOW_MAJOR_THRESHOLD, paid(req));
    match outage.scope {
        OutageScope::SingleChannel => return Outcome::denied(&SINGLE_CHANNEL_EXCLUDED, paid(req)),
        OutageScope::Partial => return review(),
        OutageScope::Full | OutageScope::Unspecified => {}
    }
    if !core_service_cause(req.claim.cause) {
        return Outcome::denied(&NOT_CORE_SERVICE_OUTAGE, paid(req));
    }
    if outage.duration < MINOR_OUTAGE_LIMIT {
        return Outcome::denied(&MINOR_OUTAGE_EXCLUDED, paid(req));
    }
    if outage.announced || outage.duration <= MAJOR_OUTAGE_THRESHOLD {
        return review();
    }
    approve_full(req, &MAJOR_OUTAGE)
}

/// §1 Eligible: "... of the core Reseller Panel or stream access"; §5 "Our
/// guarantee covers the core functionality and overall uptime of the
/// Reseller Panel and the majority of the streaming network." An outage on
/// the reseller's or end user's side, at their ISP, in a third-party app or
/// at a channel's source is not one of the core service.
fn core_service_cause(cause: IssueCause) -> bool {
    !matches!(
        cause,
        IssueCause::CustomerSide | IssueCause::Isp | IssueCause::ThirdPartyApp | IssueCause::ChannelSource
    )
}

/// `BILLING_ERROR` / `DUPLICATE_PAYMENT`: not an eligible case of §1, so a
/// review (`POLICY_SILENT_MANUAL_REVIEW`) recommending the overcharge
/// (`charged - expected`) or the duplicate charge, never the whole purchase,
/// as panel credit with cash as the alternative like every amount here; a
/// missing amount is asked for. No §2 deadline: "at any time".
fn charge_dispute(req: &ClaimRequest, required: &mut Required) -> Outcome {
    let Some(out) = common::charge_dispute_review(req, required, &POLICY_SILENT) else {
        return common::silent(&POLICY_SILENT, req);
    };
    if out.refund_amount.is_zero() {
        return out;
    }
    let amount = out.refund_amount;
    panel_credit(out, amount)
}

/// §1 Not Eligible, Third-Party Compatibility: "Issues arising from the
/// customer's hardware ... that is not officially supported or recommended
/// by our service." Only an explicit "not supported" excludes; the text says
/// nothing else about device or technical problems.
fn device<'r>(req: &'r ClaimRequest, t: &mut impl Trace<'r>) -> Outcome {
    let supported = req.claim.device_officially_supported;
    if t.rule(
        "unsupported-device",
        &UNSUPPORTED_DEVICE_EXCLUDED,
        supported == Some(false),
        move |d| {
            d.say(
                format_args!("device officially supported: {supported:?}"),
                format_args!("appareil officiellement pris en charge : {supported:?}"),
            );
        },
    ) {
        return Outcome::denied(&UNSUPPORTED_DEVICE_EXCLUDED, paid(req));
    }
    t.rule("not-addressed", &POLICY_SILENT, true, move |d| {
        d.say(
            format_args!("the text says nothing else about device or technical problems"),
            format_args!("le texte ne dit rien d'autre des problèmes d'appareil ou techniques"),
        );
    });
    common::silent(&POLICY_SILENT, req)
}

/// §1 Eligible, Product Not As Described: "Clear, proven discrepancy between
/// the service features advertised at the time of purchase and the actual
/// service delivered." The proof is for an agent to weigh; without evidence
/// `evaluate` asks for it.
fn not_as_described(req: &ClaimRequest) -> Outcome {
    panel_credit(
        Outcome::new(Decision::NeedsReview, &NOT_AS_DESCRIBED_VERIFY, paid(req)),
        paid(req),
    )
}

/// §1 Not Eligible, Change of Mind: "Requests based on a simple change of
/// mind after credits have been added to your panel."
fn change_of_mind<'r>(req: &'r ClaimRequest, t: &mut impl Trace<'r>) -> Outcome {
    let delivered_before_claim = req
        .purchase
        .delivered_at
        .is_some_and(move |d| d < req.claim.submitted_at);
    let reason: Reason = if delivered_before_claim {
        &CHANGE_OF_MIND_EXCLUDED
    } else {
        &CANCELLED_BEFORE_DELIVERY
    };
    t.rule("change-of-mind", reason, true, move |d| {
        let delivered = Opt(req.purchase.delivered_at.map(At));
        d.say(
            format_args!(
                "credits delivered {delivered}; claim submitted {}",
                At(req.claim.submitted_at)
            ),
            format_args!(
                "crédits livrés {delivered} ; demande présentée le {}",
                At(req.claim.submitted_at)
            ),
        );
    });
    if delivered_before_claim {
        return Outcome::denied(&CHANGE_OF_MIND_EXCLUDED, paid(req));
    }
    approve_full(req, &CANCELLED_BEFORE_DELIVERY)
}

/// §3 "Our support team will acknowledge your request within 4 business
/// hours and aim for a resolution within 48 business hours." §4 "Credit
/// Adjustment: ... added back to your Reseller Panel balance instantly. Cash
/// Refund: ... Processing time is typically 5–7 business days".
pub fn timeline(req: &ClaimRequest, out: &Outcome) -> Timeline {
    let cal = META.calendar;
    let submitted = req.claim.submitted_at;
    let mut timeline = Timeline {
        acknowledge_by: Some(cal.add_business_hours(submitted, ACKNOWLEDGE_BUSINESS_HOURS)),
        decide_by: Some(cal.add_business_hours(submitted, DECIDE_BUSINESS_HOURS)),
        funds_earliest: None,
        funds_latest: None,
    };
    if !out.pays_now() {
        return timeline;
    }
    let decided = req.evaluated_at;
    let (earliest, latest) = match out.refund_method {
        RefundMethod::PanelCredit => (decided, decided),
        RefundMethod::OriginalPayment => (
            cal.add_business_days(decided, CASH_EARLIEST_BUSINESS_DAYS),
            cal.add_business_days(decided, CASH_LATEST_BUSINESS_DAYS),
        ),
        RefundMethod::None => return timeline,
    };
    timeline.funds_earliest = Some(earliest);
    timeline.funds_latest = Some(latest);
    timeline
}

/// FULL until the credits are delivered, NONE after; a promotional purchase
/// is NONE throughout.
pub fn quote(req: &QuoteRequest, _term: Option<Term>) -> Segments {
    let mut segments = Segments::new();
    if req.purchase.price_type == PriceType::Promotional {
        segments.push(Segment {
            until: None,
            basis: RefundBasis::None,
            reason: &PROMOTIONAL_PURCHASE_EXCLUDED,
        });
        return segments;
    }
    segments.push(Segment {
        until: req.purchase.delivered_at,
        basis: RefundBasis::Full,
        reason: &CANCELLED_BEFORE_DELIVERY,
    });
    if req.purchase.delivered_at.is_some() {
        segments.push(Segment {
            until: None,
            basis: RefundBasis::None,
            reason: &CHANGE_OF_MIND_EXCLUDED,
        });
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
    use crate::domain::claim::{Claim, CustomerType, Outage, PaymentMethod, Purchase};
    use crate::domain::fixtures::{eur, t};

    /// A complete claim (nothing required is missing) for credits bought on
    /// Monday 2 March 2026 at 10:00 UTC and never delivered.
    fn request(reason: ClaimReason, evaluated_at: &str) -> ClaimRequest {
        let evaluated_at = t(evaluated_at);
        ClaimRequest {
            purchase: Purchase {
                order_id: "RS-1".into(),
                payment_method: PaymentMethod::Paypal,
                customer_type: CustomerType::Business,
                reseller_id: "RES-1".into(),
                transaction_id: "TX-1".into(),
                ..Purchase::new(eur("150.00"), t("2026-03-02T10:00:00Z"))
            },
            claim: Claim {
                description: "credits missing".into(),
                evidence_attachments: 1,
                ..Claim::new(reason, evaluated_at)
            },
            evaluated_at,
        }
    }

    fn codes(out: &Outcome) -> Vec<&'static str> {
        out.reasons.iter().map(|r| r.code).collect()
    }

    #[test]
    fn a_late_eligible_claim_is_reviewed_with_the_amount_it_would_get() {
        // Deadline: Mon 9 March 10:00 (7 calendar days).
        let on_time = evaluate(&request(ClaimReason::NonDelivery, "2026-03-09T10:00:00Z"));
        assert_eq!(on_time.decision, Decision::Approved);
        assert_eq!(on_time.claim_deadline, Some(t("2026-03-09T10:00:00Z")));

        let late = evaluate(&request(ClaimReason::NonDelivery, "2026-03-09T10:00:01Z"));
        assert_eq!(late.decision, Decision::NeedsReview);
        assert_eq!(codes(&late), ["LATE_CLAIM_REVIEW", "CREDITS_NOT_DELIVERED"]);
        assert_eq!(late.refund_amount, eur("150.00"));
        assert_eq!(late.refund_method, RefundMethod::PanelCredit);
        assert_eq!(late.alternatives.first().and_then(|a| a.amount), Some(eur("150.00")));
    }

    #[test]
    fn a_late_claim_the_rules_deny_stays_denied() {
        let mut req = request(ClaimReason::NonDelivery, "2026-03-20T10:00:00Z");
        req.purchase.delivered_at = Some(t("2026-03-02T11:00:00Z"));
        let out = evaluate(&req);
        assert_eq!(out.decision, Decision::Denied);
        assert_eq!(codes(&out), ["CREDITS_DELIVERED"]);
    }

    #[test]
    fn the_fault_window_runs_from_the_start_of_the_fault() {
        let mut req = request(ClaimReason::ServiceOutage, "2026-03-20T10:00:00Z");
        req.claim.issue_started_at = Some(t("2026-03-14T09:00:00Z"));
        req.claim.outage = Some(Outage {
            duration: TimeDelta::hours(49),
            announced: false,
            scope: OutageScope::Full,
            resolved: false,
        });
        let out = evaluate(&req);
        assert_eq!(out.decision, Decision::Approved);
        assert_eq!(codes(&out), ["MAJOR_OUTAGE"]);
        assert_eq!(out.claim_deadline, Some(t("2026-03-21T09:00:00Z")));
    }

    #[test]
    fn rule_specific_information_is_asked_after_the_common_fields() {
        let mut req = request(ClaimReason::ServiceOutage, "2026-03-03T10:00:00Z");
        req.purchase.transaction_id.clear();
        req.purchase.order_id.clear();
        let out = evaluate(&req);
        assert_eq!(out.decision, Decision::NeedsInformation);
        assert_eq!(
            out.missing_information.iter().collect::<Vec<_>>(),
            [
                Field::PurchaseTransactionId,
                Field::ClaimIssueStartedAt,
                Field::ClaimOutageDuration
            ]
        );
        assert_eq!(codes(&out), ["MISSING_REQUIRED_INFORMATION", "MAJOR_OUTAGE"]);
    }

    #[test]
    fn the_order_number_stands_in_for_the_transaction_id() {
        let mut req = request(ClaimReason::NonDelivery, "2026-03-03T10:00:00Z");
        req.purchase.transaction_id.clear();
        assert_eq!(evaluate(&req).decision, Decision::Approved);
        req.purchase.order_id.clear();
        let out = evaluate(&req);
        assert_eq!(out.decision, Decision::NeedsInformation);
        assert_eq!(
            out.missing_information.iter().collect::<Vec<_>>(),
            [Field::PurchaseTransactionId]
        );
    }

    #[test]
    fn credits_that_arrived_before_the_claim_were_delivered() {
        // Due Tuesday 3 March 10:00; delivered late, at 12:00.
        let mut req = request(ClaimReason::NonDelivery, "2026-03-04T10:00:00Z");
        req.purchase.delivered_at = Some(t("2026-03-03T12:00:00Z"));
        req.claim.submitted_at = t("2026-03-03T12:00:00Z");
        assert_eq!(codes(&evaluate(&req)), ["CREDITS_DELIVERED"]);
        req.claim.submitted_at = t("2026-03-03T11:59:59Z");
        let out = evaluate(&req);
        assert_eq!(out.decision, Decision::Approved);
        assert_eq!(codes(&out), ["CREDITS_NOT_DELIVERED"]);
    }

    #[test]
    fn an_outage_outside_the_core_service_is_denied_at_any_duration() {
        let mut req = request(ClaimReason::ServiceOutage, "2026-03-20T10:00:00Z");
        req.claim.issue_started_at = Some(t("2026-03-14T09:00:00Z"));
        req.claim.outage = Some(Outage {
            duration: TimeDelta::hours(200),
            announced: false,
            scope: OutageScope::Full,
            resolved: false,
        });
        for cause in [
            IssueCause::CustomerSide,
            IssueCause::Isp,
            IssueCause::ThirdPartyApp,
            IssueCause::ChannelSource,
        ] {
            req.claim.cause = cause;
            let out = evaluate(&req);
            assert_eq!(out.decision, Decision::Denied, "{cause:?}");
            assert_eq!(codes(&out), ["NOT_CORE_SERVICE_OUTAGE"], "{cause:?}");
        }
        for cause in [
            IssueCause::Undiagnosed,
            IssueCause::ServerSide,
            IssueCause::ForceMajeure,
        ] {
            req.claim.cause = cause;
            assert_eq!(codes(&evaluate(&req)), ["MAJOR_OUTAGE"], "{cause:?}");
        }
    }

    #[test]
    fn a_charge_dispute_is_reviewed_recommending_the_overcharge_at_any_time() {
        let mut req = request(ClaimReason::BillingError, "2026-05-02T10:00:00Z");
        req.claim.charged_amount = Some(eur("150.00"));
        req.claim.expected_amount = Some(eur("120.00"));
        let out = evaluate(&req);
        assert_eq!(out.decision, Decision::NeedsReview);
        assert_eq!(codes(&out), ["POLICY_SILENT_MANUAL_REVIEW"]);
        assert_eq!(out.refund_amount, eur("30.00"));
        assert_eq!(out.refund_method, RefundMethod::PanelCredit);
        assert_eq!(out.claim_deadline, None);

        let mut dup = request(ClaimReason::DuplicatePayment, "2026-03-03T10:00:00Z");
        dup.claim.duplicate_amount = Some(eur("150.00"));
        assert_eq!(evaluate(&dup).refund_amount, eur("150.00"));
        dup.claim.duplicate_amount = None;
        let out = evaluate(&dup);
        assert_eq!(out.decision, Decision::NeedsInformation);
        assert_eq!(
            out.missing_information.iter().collect::<Vec<_>>(),
            [Field::ClaimDuplicateAmount]
        );
    }

    #[test]
    fn change_of_mind_is_excluded_only_strictly_after_delivery() {
        let mut req = request(ClaimReason::ChangeOfMind, "2026-03-02T10:30:00Z");
        req.purchase.delivered_at = Some(t("2026-03-02T10:30:00Z"));
        assert_eq!(codes(&evaluate(&req)), ["CANCELLED_BEFORE_DELIVERY"]);
        req.claim.submitted_at = t("2026-03-02T10:30:01Z");
        req.evaluated_at = req.claim.submitted_at;
        assert_eq!(codes(&evaluate(&req)), ["CHANGE_OF_MIND_EXCLUDED"]);
    }

    #[test]
    fn cash_takes_5_to_7_business_days_and_panel_credit_is_instant() {
        // Thursday 5 March 2026 12:00: five business days is Thursday 12
        // March, seven is Monday 16 March.
        let req = request(ClaimReason::NonDelivery, "2026-03-05T12:00:00Z");
        let panel = evaluate(&req);
        let timeline = super::timeline(&req, &panel);
        assert_eq!(timeline.funds_earliest, Some(req.evaluated_at));
        assert_eq!(timeline.funds_latest, Some(req.evaluated_at));
        let cash = panel.paying(eur("150.00"), RefundMethod::OriginalPayment);
        let timeline = super::timeline(&req, &cash);
        assert_eq!(timeline.funds_earliest, Some(t("2026-03-12T12:00:00Z")));
        assert_eq!(timeline.funds_latest, Some(t("2026-03-16T12:00:00Z")));
        assert_eq!(timeline.acknowledge_by, Some(t("2026-03-05T16:00:00Z")));
        assert_eq!(timeline.decide_by, Some(t("2026-03-09T12:00:00Z")));
    }
}
