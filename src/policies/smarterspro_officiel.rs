//! `smarterspro-officiel`: SmartersPro-Officiel's "Refund & Returns Policy"
//! (`smarterspro-officiel.txt`, last updated 5 December 2025).
//!
//! Clauses cite the text's headings, with the bullet number where a heading
//! holds a list ("What Is NOT Covered #3" is its third bullet). Business time
//! is Paris time with French public holidays. Refunds go to the original
//! payment method ("Processing Time").
//!
//! Readings where POLICY_RULINGS.md is silent, each checked against the text
//! (`ACCESS_DELIVERED` is this module's own code; every other is the rulings'):
//! - Access sent = used ("services are considered 'used' once the activation
//!   details have been created and sent to you"). A non-delivery claim once
//!   `delivered_at` ≤ `evaluated_at` is refuted, early or late delivery alike
//!   (the ruling approves only with "no `delivered_at`"): DENIED
//!   `ACCESS_DELIVERED`, a resend offered; no `resubmit_after`, since waiting
//!   changes nothing. Not delivered and under 48 business hours: premature
//!   (`WAITING_PERIOD_RUNNING`, resubmit at the 48th).
//! - "No partial refund for unused time" (the ruling's `NO_REFUND_FOR_UNUSED_TIME`)
//!   is the answer to every claim that, once access had been sent when it was
//!   filed, is neither an eligible case ("In specific cases, we may issue a
//!   partial or full refund even after activation") nor excluded otherwise:
//!   not as described, incompatibility, server switch, channel unavailable,
//!   end-user mismanagement. The text addresses them by closing its list of
//!   cases after activation, so the ruling's Silence rule does not apply; it
//!   is also the reason of the quote's NONE window. Filed before the access
//!   was sent, nothing in the text decides them: review, nothing recommended
//!   (Silence). The delivery instant itself belongs to "before", as in the
//!   quote, whose FULL window includes its end.
//! - Outages (second edition, row 11). Only a *resolved* outage can be a
//!   "temporary outage ... resolved within a reasonable time": announced
//!   maintenance, or one resolved within 48 h (inclusive: exactly 48 h is
//!   still reasonable), is excluded (`TEMPORARY_OUTAGE_EXCLUDED`). A resolved
//!   outage longer than 48 h goes to review (`PROLONGED_OUTAGE_REVIEW`),
//!   recommending the outage's share of the term, amount × duration / term in
//!   whole seconds, capped at the amount; without a term the share cannot be
//!   measured, so the claim asks for `purchase.term_months` (showing 0). The
//!   ruling says "server-side": every cause the text does not exclude
//!   outright (server side, undiagnosed, channel source, force majeure, i.e.
//!   "maintenance or external providers") is read as such, since the
//!   customer-side, ISP and third-party causes are refused before. Scope is
//!   not looked at (the text does not distinguish it; an agent reviews). An
//!   unresolved outage, or one reported without its details (the contract's
//!   `resolved` defaults to false), is a "technical issue we cannot resolve":
//!   the technical-issue rule decides it.
//! - Charge disputes (row 7): `BILLING_ERROR` and `DUPLICATE_PAYMENT` go
//!   through the rulings' common rule; a missing amount is asked for and the
//!   amount shown is 0, to be determined, never the whole purchase.
//! - Setup difficulty is a device problem "on your side" (What Is NOT Covered #1).
//! - Causes (customer side, ISP, third-party app) exclude fault claims only;
//!   payment claims (billing error, duplicate, unauthorized, wrong plan) have
//!   no technical cause ("you accidentally paid twice" is refunded).
//! - A late order error and an unauthorized transaction go to review with the
//!   full amount recommended: that is what the refund would be if granted.
//! - Technical issue: the unused share from `issue_started_at`. When that
//!   rounds to nothing (the issue began at or just before the term's end) the
//!   claim is denied `SUBSCRIPTION_USED_UP`, the code the rulings give to a
//!   prorated refund of 0 (iptv-smarters-pro); a PARTIALLY_APPROVED of 0
//!   would pay nothing. Without `issue_started_at` the claim asks for it and
//!   shows the unused share from `submitted_at` (the least that would be
//!   paid: the issue had begun by then); without a term it asks for
//!   `purchase.term_months` too, showing 0.
//! - The text's "How to Request a Refund" list is empty; only the fields an
//!   amount needs are required, and only when the claim is not denied.
//! - "Before opening a dispute ... contact us first": a chargeback is "without
//!   prior contact" when `support.contacted` is false. The consequences go
//!   with any decision of this module, charge disputes included (the rulings:
//!   "they answer the chargeback, not the claim"). A terms violation is decided by the
//!   engine before this module runs, so it carries none (open: the text's
//!   right to suspend does not depend on the claim's merits).
//! - Terms violation: the text has no such clause; the ruling applies it to
//!   every policy, cited as "General Refund Principle (ruling: terms violation)".
//! - Timeline: funds 3 to 10 business days after the decision (`evaluated_at`);
//!   the text promises no acknowledgement or decision delay.

use chrono::TimeDelta;

use crate::domain::calendar::Calendar;
use crate::domain::claim::{ClaimReason, ClaimRequest, CustomerType, IssueCause, Language, Outage, QuoteRequest};
use crate::domain::decision::{
    Compensation, CompensationKind, Consequence, Decision, Outcome, Reason, ReasonDef, RefundBasis, RefundMethod,
    Timeline,
};
use crate::domain::field::Field;
use crate::domain::money::Money;
use crate::domain::term::Term;
use crate::domain::trace::{produced, At, Detail, Hm, Opt, Trace};

use super::common::{self, paid, Required};
use super::{PolicyMeta, Segment, Segments};

/// The ruling's delivery promise: access details within 48 business hours.
const DELIVERY_BUSINESS_HOURS: u32 = 48;
/// "selected the wrong plan and notified us immediately": within 24 h (ruling).
const ORDER_ERROR_WINDOW: TimeDelta = TimeDelta::hours(24);
/// "resolved within a reasonable time": 48 h or less, inclusive (ruling).
const REASONABLE_OUTAGE: TimeDelta = TimeDelta::hours(48);
/// "usually takes 3 to 10 business days to appear in your account"
const FUNDS_EARLIEST_BUSINESS_DAYS: u32 = 3;
const FUNDS_LATEST_BUSINESS_DAYS: u32 = 10;

static TERMS_VIOLATION: ReasonDef = ReasonDef {
    clause: "General Refund Principle (ruling: terms violation)",
    ..common::TERMS_VIOLATION
};
static POLICY_SILENT: ReasonDef = ReasonDef {
    clause: "When a Refund May Be Considered (not listed)",
    ..common::POLICY_SILENT_MANUAL_REVIEW
};
static MISSING_INFORMATION: ReasonDef = ReasonDef {
    clause: "How to Request a Refund",
    ..common::MISSING_REQUIRED_INFORMATION
};
static WAITING_PERIOD_RUNNING: ReasonDef = ReasonDef {
    clause: "Digital Services & Activation",
    ..common::WAITING_PERIOD_RUNNING
};

static NOT_DELIVERED: ReasonDef = ReasonDef {
    code: "NOT_DELIVERED",
    clause: "Digital Services & Activation",
    en: "No access details had been sent 48 business hours (Paris time) after payment: a full refund is due, or the access details can be sent instead.",
    fr: "Aucun identifiant d'accès n'avait été envoyé 48 heures ouvrées (heure de Paris) après le paiement : un remboursement intégral est dû ; un nouvel envoi des accès peut être proposé à la place.",
};
static ACCESS_DELIVERED: ReasonDef = ReasonDef {
    code: "ACCESS_DELIVERED",
    clause: "Digital Services & Activation",
    en: "The access details have been sent, so non-delivery is not established and the service counts as used; they can be sent again.",
    fr: "Les identifiants d'accès ont été envoyés : la non-livraison n'est pas établie et le service est réputé utilisé ; ils peuvent être renvoyés.",
};
static UNRESOLVABLE_TECHNICAL_ISSUE: ReasonDef = ReasonDef {
    code: "UNRESOLVABLE_TECHNICAL_ISSUE",
    clause: "When a Refund May Be Considered #1",
    en: "Support was contacted and the troubleshooting was completed, but the problem persists and makes normal use impossible: the time unused since the issue began is refunded.",
    fr: "Le support a été contacté et le dépannage mené à son terme, mais le problème persiste et empêche une utilisation normale : la période non utilisée depuis le début de l'incident est remboursée.",
};
static TROUBLESHOOTING_REQUIRED: ReasonDef = ReasonDef {
    code: "TROUBLESHOOTING_REQUIRED",
    clause: "When a Refund May Be Considered #1",
    en: "A technical issue is refunded only once support has been contacted, the troubleshooting it asked for has been completed and the problem remains unresolved; that is not the case here.",
    fr: "Un problème technique n'est remboursé qu'une fois le support contacté, le dépannage demandé mené à son terme et le problème toujours non résolu ; ce n'est pas le cas ici.",
};
static SUBSCRIPTION_USED_UP: ReasonDef = ReasonDef {
    code: "SUBSCRIPTION_USED_UP",
    clause: "Subscription Length & Renewals",
    en: "The issue began when the subscription period had ended (or all but ended): no unused time is left to refund.",
    fr: "L'incident a commencé alors que la période d'abonnement était terminée (ou sur le point de l'être) : il ne reste aucune période non utilisée à rembourser.",
};
static DUPLICATE_PAYMENT: ReasonDef = ReasonDef {
    clause: "When a Refund May Be Considered #2",
    ..common::DUPLICATE_PAYMENT
};
static BILLING_ERROR_OVERCHARGE: ReasonDef = ReasonDef {
    clause: "When a Refund May Be Considered #2 (ruling: charge disputes)",
    ..common::BILLING_ERROR_OVERCHARGE
};
static NO_OVERCHARGE: ReasonDef = ReasonDef {
    clause: "When a Refund May Be Considered #2 (ruling: charge disputes)",
    ..common::NO_OVERCHARGE
};
static ORDER_ERROR: ReasonDef = ReasonDef {
    code: "ORDER_ERROR",
    clause: "When a Refund May Be Considered #2",
    en: "The customer selected the wrong plan and reported it within 24 hours of purchase: a full refund is due.",
    fr: "Le client s'est trompé de forfait et l'a signalé dans les 24 heures suivant l'achat : un remboursement intégral est dû.",
};
static ORDER_ERROR_LATE: ReasonDef = ReasonDef {
    code: "ORDER_ERROR_LATE",
    clause: "When a Refund May Be Considered #2",
    en: "The wrong plan was reported more than 24 hours after purchase, not immediately: an agent must decide whether the order error still qualifies.",
    fr: "L'erreur de forfait a été signalée plus de 24 heures après l'achat, et non immédiatement : un agent doit décider si elle peut encore être prise en compte.",
};
static UNAUTHORIZED_TRANSACTION_INVESTIGATION: ReasonDef = ReasonDef {
    code: "UNAUTHORIZED_TRANSACTION_INVESTIGATION",
    clause: "When a Refund May Be Considered #3",
    en: "The payment is reported as made without the account holder's authorization: a refund is subject to investigation.",
    fr: "Le paiement est signalé comme effectué sans l'autorisation du titulaire du moyen de paiement : tout remboursement est subordonné à une enquête.",
};
static CUSTOMER_SIDE_ISSUE_EXCLUDED: ReasonDef = ReasonDef {
    code: "CUSTOMER_SIDE_ISSUE_EXCLUDED",
    clause: "What Is NOT Covered #1",
    en: "The problem lies with the customer's internet connection or device (slow connection, Wi-Fi, outdated hardware, own setup); it is not covered.",
    fr: "Le problème vient de la connexion internet ou de l'appareil du client (connexion lente, Wi-Fi, matériel obsolète, configuration personnelle) ; il n'ouvre pas droit à remboursement.",
};
static THIRD_PARTY_CHANGE_EXCLUDED: ReasonDef = ReasonDef {
    code: "THIRD_PARTY_CHANGE_EXCLUDED",
    clause: "What Is NOT Covered #2",
    en: "The problem comes from a third-party change (app store update, device restriction, operating-system limit); it is not covered.",
    fr: "Le problème résulte d'un changement chez un tiers (mise à jour de la boutique d'applications, restriction de l'appareil, limite du système d'exploitation) ; il n'ouvre pas droit à remboursement.",
};
static PERSONAL_PREFERENCE_EXCLUDED: ReasonDef = ReasonDef {
    code: "PERSONAL_PREFERENCE_EXCLUDED",
    clause: "What Is NOT Covered #3",
    en: "A personal preference (a change of mind, disliking the channel selection, no longer needing the service) is not refunded.",
    fr: "Une préférence personnelle (changement d'avis, sélection de chaînes qui ne plaît pas, service devenu inutile) n'ouvre pas droit à remboursement.",
};
static TEMPORARY_OUTAGE_EXCLUDED: ReasonDef = ReasonDef {
    code: "TEMPORARY_OUTAGE_EXCLUDED",
    clause: "What Is NOT Covered #4",
    en: "The outage was announced maintenance, or was resolved within 48 hours, a reasonable time; temporary outages caused by maintenance or external providers are not refunded.",
    fr: "La panne était une maintenance annoncée, ou a été résolue en 48 heures au plus, soit dans un délai raisonnable ; les interruptions temporaires dues à une maintenance ou à des prestataires externes ne sont pas remboursées.",
};
static PROLONGED_OUTAGE_REVIEW: ReasonDef = ReasonDef {
    code: "PROLONGED_OUTAGE_REVIEW",
    clause: "What Is NOT Covered #4 (ruling: resolved after more than 48 h)",
    en: "The outage was resolved, but only after more than 48 hours, not within a reasonable time: an agent must decide; the recommended amount is the outage's share of the subscription term.",
    fr: "La panne a été résolue, mais au bout de plus de 48 heures, et non dans un délai raisonnable : un agent doit trancher ; le montant recommandé correspond à la part de la durée d'abonnement couverte par la panne.",
};
static NO_REFUND_FOR_UNUSED_TIME: ReasonDef = ReasonDef {
    code: "NO_REFUND_FOR_UNUSED_TIME",
    clause: "Subscription Length & Renewals #2",
    en: "The access details have been sent, so the service counts as used; outside the cases the policy lists, the remaining time is not refunded.",
    fr: "Les identifiants d'accès ont été envoyés : le service est donc réputé utilisé et, hors des cas prévus par la politique, la période restante n'est pas remboursée.",
};
static CHARGEBACK_WITHOUT_CONTACT: ReasonDef = ReasonDef {
    code: "CHARGEBACK_WITHOUT_CONTACT",
    clause: "Chargebacks & Payment Disputes",
    en: "A chargeback was opened without contacting support first: the merchant reserves the right to suspend the subscriptions tied to this payment and to restrict future orders.",
    fr: "Une contestation de paiement (rétrofacturation) a été ouverte auprès de la banque sans contact préalable avec le support : le marchand se réserve le droit de suspendre les abonnements liés à ce paiement et de restreindre les commandes futures.",
};

static CHARGE_DISPUTES: common::ChargeDisputeReasons = common::ChargeDisputeReasons {
    overcharge: &BILLING_ERROR_OVERCHARGE,
    no_overcharge: &NO_OVERCHARGE,
    duplicate: &DUPLICATE_PAYMENT,
};

pub static META: PolicyMeta = PolicyMeta {
    id: "smarterspro-officiel",
    version: "2025-12-05",
    title: "SmartersPro-Officiel Refund & Returns Policy",
    merchant: "SmartersPro Officiel",
    source_language: Language::En,
    calendar: Calendar::PARIS_FRENCH_HOLIDAYS,
    catalog: &[
        &TERMS_VIOLATION,
        &CUSTOMER_SIDE_ISSUE_EXCLUDED,
        &THIRD_PARTY_CHANGE_EXCLUDED,
        &PERSONAL_PREFERENCE_EXCLUDED,
        &TEMPORARY_OUTAGE_EXCLUDED,
        &PROLONGED_OUTAGE_REVIEW,
        &NOT_DELIVERED,
        &WAITING_PERIOD_RUNNING,
        &ACCESS_DELIVERED,
        &UNRESOLVABLE_TECHNICAL_ISSUE,
        &TROUBLESHOOTING_REQUIRED,
        &SUBSCRIPTION_USED_UP,
        &BILLING_ERROR_OVERCHARGE,
        &NO_OVERCHARGE,
        &DUPLICATE_PAYMENT,
        &ORDER_ERROR,
        &ORDER_ERROR_LATE,
        &UNAUTHORIZED_TRANSACTION_INVESTIGATION,
        &NO_REFUND_FOR_UNUSED_TIME,
        &CHARGEBACK_WITHOUT_CONTACT,
        &MISSING_INFORMATION,
        &POLICY_SILENT,
    ],
    terms_violation: &TERMS_VIOLATION,
    terms_violation_consequence: None,
    unspecified_customer: CustomerType::Consumer,
};

pub fn evaluate<'r>(req: &'r ClaimRequest, t: &mut impl Trace<'r>) -> Outcome {
    let mut required = Required::new();
    let out = decide(req, &mut required, t);
    let mut out = required.apply(out, &MISSING_INFORMATION, t);
    // "If a chargeback is initiated without prior contact, we reserve the
    // right to suspend active subscriptions associated with that payment and
    // restrict future orders." The decision itself stands.
    let (chargeback, contacted) = (req.claim.chargeback_filed, req.claim.support.contacted);
    if t.rule("chargeback-without-contact", &CHARGEBACK_WITHOUT_CONTACT, chargeback && !contacted, move |d| {
        d.say(
            format_args!("chargeback filed {chargeback}, support contacted {contacted}; the decision itself stands"),
            format_args!("rétrofacturation ouverte {chargeback}, support contacté {contacted} ; la décision elle-même est maintenue"),
        );
    }) {
        out.reasons.push(&CHARGEBACK_WITHOUT_CONTACT);
        out.consequences.push(Consequence::SubscriptionSuspension);
        out.consequences.push(Consequence::OrderRestriction);
    }
    out
}

fn decide<'r>(req: &'r ClaimRequest, required: &mut Required, t: &mut impl Trace<'r>) -> Outcome {
    let claim = &req.claim;
    let deny = |reason: Reason| Outcome::denied(reason, paid(req));

    // Charge disputes (rulings): the overcharge or the duplicate charge, at any time.
    let dispute = common::charge_dispute(req, required, &CHARGE_DISPUTES, RefundMethod::OriginalPayment);
    common::trace_dispute(t, req, dispute.as_ref(), &CHARGE_DISPUTES);
    if let Some(out) = dispute {
        return out;
    }

    // "What Is NOT Covered"
    let (cause, payment) = (claim.cause, claim.reason.is_payment());
    let said = move |d: &mut Detail<'_>| {
        d.say(
            format_args!("cause {cause:?}; a payment claim ({payment}) is not excluded by cause"),
            format_args!("cause {cause:?} ; une réclamation de paiement ({payment}) n'est pas exclue par la cause"),
        );
    };
    // "Internet or device problems on your side (slow connection, Wi-Fi issues, outdated hardware)"
    if t.rule(
        "customer-side",
        &CUSTOMER_SIDE_ISSUE_EXCLUDED,
        !payment && matches!(cause, IssueCause::CustomerSide | IssueCause::Isp),
        said,
    ) {
        return deny(&CUSTOMER_SIDE_ISSUE_EXCLUDED);
    }
    // "Third-party application changes (app store updates, device restrictions, OS limits)"
    if t.rule(
        "third-party-change",
        &THIRD_PARTY_CHANGE_EXCLUDED,
        !payment && cause == IssueCause::ThirdPartyApp,
        said,
    ) {
        return deny(&THIRD_PARTY_CHANGE_EXCLUDED);
    }

    let out = own_rule(req, required);
    produced(t, rule_name(claim.reason), &out, move |d| own_detail(d, req, &out));
    out
}

/// The stable name of the rule each claim reason is decided by.
fn rule_name(reason: ClaimReason) -> &'static str {
    match reason {
        ClaimReason::ChangeOfMind | ClaimReason::ContentDissatisfaction => "personal-preference",
        ClaimReason::SetupDifficulty => "setup",
        ClaimReason::NonDelivery => "non-delivery",
        ClaimReason::TechnicalIssue => "technical-issue",
        ClaimReason::WrongPlanSelected => "order-error",
        ClaimReason::UnauthorizedTransaction => "unauthorized-transaction",
        ClaimReason::ServiceOutage => "outage",
        ClaimReason::BillingError | ClaimReason::DuplicatePayment => "not-addressed",
        ClaimReason::NotAsDescribed
        | ClaimReason::DeviceIncompatibility
        | ClaimReason::ServerSwitchRequest
        | ClaimReason::EndUserMismanagement
        | ClaimReason::ChannelUnavailable => "unused-time",
    }
}

/// The facts the reason's own rule compared.
fn own_detail(d: &mut Detail<'_>, req: &ClaimRequest, out: &Outcome) {
    let claim = &req.claim;
    let p = &req.purchase;
    let reason = claim.reason;
    let cur = p.amount_paid.currency();
    let amount = out.refund_amount.rounded();
    match reason {
        ClaimReason::NonDelivery => {
            let due = META
                .calendar
                .add_business_hours(p.purchased_at, DELIVERY_BUSINESS_HOURS);
            let delivered = Opt(p.delivered_at.map(At));
            d.say(
                format_args!(
                    "access due by {} (48 business hours, Paris); delivered {delivered}; evaluated {}",
                    At(due),
                    At(req.evaluated_at)
                ),
                format_args!(
                    "accès dus au plus tard le {} (48 heures ouvrées, Paris) ; livrés {delivered} ; évaluée le {}",
                    At(due),
                    At(req.evaluated_at)
                ),
            );
        }
        ClaimReason::WrongPlanSelected => {
            let after = Hm(claim.submitted_at - p.purchased_at);
            d.say(
                format_args!(
                    "claim submitted {after} after purchase; the window is {}",
                    Hm(ORDER_ERROR_WINDOW)
                ),
                format_args!(
                    "demande présentée {after} après l'achat ; le délai est de {}",
                    Hm(ORDER_ERROR_WINDOW)
                ),
            );
        }
        ClaimReason::TechnicalIssue | ClaimReason::ServiceOutage => {
            let s = claim.support;
            let started = Opt(claim.issue_started_at.map(At));
            if let Some(o) = claim.outage {
                d.say(
                    format_args!(
                        "outage resolved {}, announced {}, lasted {} (reasonable: up to {}); ",
                        o.resolved,
                        o.announced,
                        Hm(o.duration),
                        Hm(REASONABLE_OUTAGE)
                    ),
                    format_args!(
                        "panne résolue {}, annoncée {}, durée {} (raisonnable : jusqu'à {}) ; ",
                        o.resolved,
                        o.announced,
                        Hm(o.duration),
                        Hm(REASONABLE_OUTAGE)
                    ),
                );
            }
            d.say(
                format_args!("support contacted {}, troubleshooting completed {}, resolved {}; issue started {started}; amount {amount} {cur} of {} {cur}", s.contacted, s.troubleshooting_completed, s.resolved, p.amount_paid),
                format_args!("support contacté {}, dépannage effectué {}, résolu {} ; problème depuis {started} ; montant {amount} {cur} sur {} {cur}", s.contacted, s.troubleshooting_completed, s.resolved, p.amount_paid),
            );
        }
        _ => d.say(
            format_args!(
                "claim reason {reason:?}; amount {amount} {cur} of {} {cur}",
                p.amount_paid
            ),
            format_args!("motif {reason:?} ; montant {amount} {cur} sur {} {cur}", p.amount_paid),
        ),
    }
}

/// The reason's own rule, once no exclusion applies.
fn own_rule(req: &ClaimRequest, required: &mut Required) -> Outcome {
    let claim = &req.claim;
    let deny = |reason: Reason| Outcome::denied(reason, paid(req));
    match claim.reason {
        // "Personal preference (changed your mind, dislike channel selection, or no longer need the service)"
        ClaimReason::ChangeOfMind | ClaimReason::ContentDissatisfaction => deny(&PERSONAL_PREFERENCE_EXCLUDED),
        // "Internet or device problems on your side": setting up one's own device.
        ClaimReason::SetupDifficulty => deny(&CUSTOMER_SIDE_ISSUE_EXCLUDED),
        ClaimReason::NonDelivery => non_delivery(req),
        ClaimReason::TechnicalIssue => technical_issue(req, required),
        ClaimReason::WrongPlanSelected => order_error(req),
        // "Unauthorized transaction — your payment method was used without your
        // authorization (subject to investigation)"
        ClaimReason::UnauthorizedTransaction => Outcome::new(
            Decision::NeedsReview,
            &UNAUTHORIZED_TRANSACTION_INVESTIGATION,
            paid(req),
        )
        .paying(paid(req), RefundMethod::OriginalPayment),
        ClaimReason::ServiceOutage => outage(req, required),
        // Decided above as charge disputes.
        ClaimReason::BillingError | ClaimReason::DuplicatePayment => common::silent(&POLICY_SILENT, req),
        ClaimReason::NotAsDescribed
        | ClaimReason::DeviceIncompatibility
        | ClaimReason::ServerSwitchRequest
        | ClaimReason::EndUserMismanagement
        | ClaimReason::ChannelUnavailable => unused_time(req),
    }
}

/// "After payment is confirmed, we generate and deliver access details";
/// the ruling gives 48 business hours (Paris, French holidays).
fn non_delivery(req: &ClaimRequest) -> Outcome {
    let p = &req.purchase;
    let resend = Compensation::of(CompensationKind::ResendAccess);
    // "services are considered 'used' once the activation details have been created and sent to you"
    if p.delivered_by(req.evaluated_at) {
        return Outcome::denied(&ACCESS_DELIVERED, p.amount_paid).with_alternative(resend);
    }
    let deadline = META
        .calendar
        .add_business_hours(p.purchased_at, DELIVERY_BUSINESS_HOURS);
    if req.evaluated_at < deadline {
        return common::waiting(&WAITING_PERIOD_RUNNING, req, deadline);
    }
    Outcome::full(&NOT_DELIVERED, p.amount_paid, RefundMethod::OriginalPayment).with_alternative(resend)
}

/// "Technical issues we cannot resolve — a persistent problem that makes
/// normal use impossible after reasonable troubleshooting": the time the
/// service was unusable counts as unused.
fn technical_issue(req: &ClaimRequest, required: &mut Required) -> Outcome {
    let support = req.claim.support;
    if !(support.contacted && support.troubleshooting_completed && !support.resolved) {
        return Outcome::denied(&TROUBLESHOOTING_REQUIRED, paid(req));
    }
    let p = &req.purchase;
    required.check(req.claim.issue_started_at.is_some(), Field::ClaimIssueStartedAt);
    let Some(term) = p.term() else {
        // Without a term nothing can be prorated: ask for it, showing nothing yet.
        required.check(false, Field::PurchaseTermMonths);
        return Outcome::new(
            Decision::PartiallyApproved,
            &UNRESOLVABLE_TECHNICAL_ISSUE,
            p.amount_paid,
        );
    };
    let from = req.claim.issue_started_at.unwrap_or(req.claim.submitted_at);
    let Some(refund) = term.prorate(p.amount_paid, from) else {
        return common::not_computable(&UNRESOLVABLE_TECHNICAL_ISSUE, req);
    };
    if refund.rounded().is_zero() && req.claim.issue_started_at.is_some() {
        return Outcome::denied(&SUBSCRIPTION_USED_UP, p.amount_paid);
    }
    Outcome::share(
        &UNRESOLVABLE_TECHNICAL_ISSUE,
        p.amount_paid,
        refund,
        RefundMethod::OriginalPayment,
    )
}

/// "... or selected the wrong plan and notified us immediately": within 24 h
/// of purchase (inclusive) by `submitted_at`, else an agent decides.
fn order_error(req: &ClaimRequest) -> Outcome {
    let p = &req.purchase;
    let deadline = p.purchased_at + ORDER_ERROR_WINDOW;
    let mut out = if req.claim.submitted_at <= deadline {
        Outcome::full(&ORDER_ERROR, p.amount_paid, RefundMethod::OriginalPayment)
    } else {
        Outcome::new(Decision::NeedsReview, &ORDER_ERROR_LATE, p.amount_paid)
            .paying(p.amount_paid, RefundMethod::OriginalPayment)
    };
    out.claim_deadline = Some(deadline);
    out
}

/// "Temporary outages caused by maintenance or external providers resolved
/// within a reasonable time" are not covered: announced maintenance, or an
/// outage resolved within 48 h. Resolved later, an agent reviews it; not
/// resolved, it is a "technical issue we cannot resolve".
fn outage(req: &ClaimRequest, required: &mut Required) -> Outcome {
    let outage = match req.claim.outage {
        Some(outage) if outage.resolved => outage,
        _ => return technical_issue(req, required),
    };
    if outage.announced || outage.duration <= REASONABLE_OUTAGE {
        return Outcome::denied(&TEMPORARY_OUTAGE_EXCLUDED, paid(req));
    }
    let review = Outcome::new(Decision::NeedsReview, &PROLONGED_OUTAGE_REVIEW, paid(req));
    let Some(term) = req.purchase.term() else {
        // The share of a term cannot be measured without one: ask for it.
        required.check(false, Field::PurchaseTermMonths);
        return review;
    };
    match outage_share(req.purchase.amount_paid, term, outage) {
        Some(share) => review.paying(share, RefundMethod::OriginalPayment),
        // Overflow: nothing recommended, the agent measures it, and says so.
        None => review.with_reason(&common::AMOUNT_NOT_COMPUTABLE),
    }
}

/// `amount x outage duration / term`, in whole seconds, capped at the amount.
fn outage_share(amount: Money, term: Term, outage: Outage) -> Option<Money> {
    let total = (term.end - term.start).num_seconds();
    let share = amount.scaled(outage.duration.num_seconds(), total)?;
    Some(share.min(amount))
}

/// "No partial refund for unused time": once the access details were sent
/// (before the claim was filed) the service counts as used, and outside the
/// listed cases nothing is refunded. Filed before (or at the very instant of)
/// delivery, the text is silent: review. The instant of delivery is "before",
/// as in the quote schedule, whose FULL window includes its end.
fn unused_time(req: &ClaimRequest) -> Outcome {
    if req
        .purchase
        .delivered_at
        .is_some_and(move |d| d < req.claim.submitted_at)
    {
        Outcome::denied(&NO_REFUND_FOR_UNUSED_TIME, paid(req))
    } else {
        common::silent(&POLICY_SILENT, req)
    }
}

/// "If a refund is approved, we will process it using the same payment method
/// ... usually takes 3 to 10 business days to appear in your account."
pub fn timeline(req: &ClaimRequest, out: &Outcome) -> Timeline {
    if !out.pays_now() {
        return Timeline::default();
    }
    let cal = META.calendar;
    Timeline {
        acknowledge_by: None,
        decide_by: None,
        funds_earliest: Some(cal.add_business_days(req.evaluated_at, FUNDS_EARLIEST_BUSINESS_DAYS)),
        funds_latest: Some(cal.add_business_days(req.evaluated_at, FUNDS_LATEST_BUSINESS_DAYS)),
    }
}

/// FULL until the access details are delivered, then NONE.
pub fn quote(req: &QuoteRequest, _term: Option<Term>) -> Segments {
    let mut segments = Segments::new();
    segments.push(Segment {
        until: req.purchase.delivered_at,
        basis: RefundBasis::Full,
        reason: &NOT_DELIVERED,
    });
    if req.purchase.delivered_at.is_some() {
        segments.push(Segment {
            until: None,
            basis: RefundBasis::None,
            reason: &NO_REFUND_FOR_UNUSED_TIME,
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
    use crate::domain::claim::{Claim, PaymentMethod, Purchase, SupportHistory};
    use crate::domain::fixtures::{eur, t};

    fn request(reason: ClaimReason, purchased_at: &str, evaluated_at: &str) -> ClaimRequest {
        let evaluated_at = t(evaluated_at);
        ClaimRequest {
            purchase: Purchase {
                order_id: "SO-1".into(),
                term_months: 1,
                payment_method: PaymentMethod::Card,
                ..Purchase::new(eur("30.00"), t(purchased_at))
            },
            claim: Claim {
                ..Claim::new(reason, evaluated_at)
            },
            evaluated_at,
        }
    }

    fn codes(out: &Outcome) -> Vec<&'static str> {
        out.reasons.iter().map(|r| r.code).collect()
    }

    #[test]
    fn non_delivery_waits_48_business_hours_across_1_may() {
        // Thu 30 Apr 2026 10:00 Paris; Fri 1 May and the weekend do not count:
        // the 48th business hour ends Tue 5 May 10:00 Paris (08:00Z).
        let early = request(ClaimReason::NonDelivery, "2026-04-30T08:00:00Z", "2026-05-05T07:59:59Z");
        let out = evaluate(&early);
        assert_eq!(out.decision, Decision::Denied);
        assert_eq!(codes(&out), ["WAITING_PERIOD_RUNNING"]);
        assert_eq!(out.resubmit_after, Some(t("2026-05-05T08:00:00Z")));

        let due = request(ClaimReason::NonDelivery, "2026-04-30T08:00:00Z", "2026-05-05T08:00:00Z");
        let out = evaluate(&due).finish();
        assert_eq!(out.decision, Decision::Approved);
        assert_eq!(out.refund_amount, eur("30.00"));
        assert_eq!(
            out.alternatives.first().map(|a| a.kind),
            Some(CompensationKind::ResendAccess)
        );
    }

    #[test]
    fn sent_access_counts_as_used() {
        let mut req = request(ClaimReason::NonDelivery, "2026-04-30T08:00:00Z", "2026-05-12T08:00:00Z");
        req.purchase.delivered_at = Some(t("2026-05-11T08:00:00Z"));
        assert_eq!(codes(&evaluate(&req)), ["ACCESS_DELIVERED"]);
        req.claim.reason = ClaimReason::NotAsDescribed;
        assert_eq!(codes(&evaluate(&req)), ["NO_REFUND_FOR_UNUSED_TIME"]);
        // Filed before the details were sent: not addressed.
        req.claim.submitted_at = t("2026-05-10T08:00:00Z");
        assert_eq!(evaluate(&req).decision, Decision::NeedsReview);
    }

    #[test]
    fn unresolvable_issue_refunds_unused_time_from_its_start() {
        // A 30-day term (1 Apr -> 1 May), unusable from 11 Apr: 20/30 of 30.00.
        let mut req = request(
            ClaimReason::TechnicalIssue,
            "2026-04-01T00:00:00Z",
            "2026-04-20T00:00:00Z",
        );
        req.purchase.delivered_at = Some(t("2026-04-01T00:00:00Z"));
        req.claim.support = SupportHistory {
            contacted: true,
            troubleshooting_completed: true,
            ..SupportHistory::default()
        };
        req.claim.issue_started_at = Some(t("2026-04-11T00:00:00Z"));
        let out = evaluate(&req).finish();
        assert_eq!(out.decision, Decision::PartiallyApproved);
        assert_eq!(out.refund_amount, eur("20.00"));
        req.claim.support.resolved = true;
        assert_eq!(codes(&evaluate(&req)), ["TROUBLESHOOTING_REQUIRED"]);
    }

    #[test]
    fn chargeback_without_contact_keeps_the_decision_and_adds_consequences() {
        let mut req = request(
            ClaimReason::ChangeOfMind,
            "2026-04-01T00:00:00Z",
            "2026-04-02T00:00:00Z",
        );
        req.claim.chargeback_filed = true;
        let out = evaluate(&req);
        assert_eq!(out.decision, Decision::Denied);
        assert_eq!(
            codes(&out),
            ["PERSONAL_PREFERENCE_EXCLUDED", "CHARGEBACK_WITHOUT_CONTACT"]
        );
        assert_eq!(
            out.consequences.iter().collect::<Vec<_>>(),
            [Consequence::SubscriptionSuspension, Consequence::OrderRestriction]
        );
        req.claim.support.contacted = true;
        assert!(evaluate(&req).consequences.is_empty());
    }

    #[test]
    fn resolved_outage_longer_than_48_hours_goes_to_review_with_its_share() {
        // A 30-day term (1 Apr -> 1 May 2026).
        let mut req = request(
            ClaimReason::ServiceOutage,
            "2026-04-01T00:00:00Z",
            "2026-04-20T00:00:00Z",
        );
        req.purchase.delivered_at = Some(t("2026-04-01T00:00:00Z"));
        req.claim.cause = IssueCause::ServerSide;
        let resolved = |seconds: i64| Outage {
            duration: TimeDelta::seconds(seconds),
            resolved: true,
            ..Outage::default()
        };
        req.claim.outage = Some(resolved(172_800));
        assert_eq!(codes(&evaluate(&req)), ["TEMPORARY_OUTAGE_EXCLUDED"]);
        req.claim.outage = Some(resolved(172_801));
        let out = evaluate(&req).finish();
        assert_eq!(out.decision, Decision::NeedsReview);
        assert_eq!(codes(&out), ["PROLONGED_OUTAGE_REVIEW"]);
        // 30.00 x 172801 / 2592000 = 2.0000115...
        assert_eq!(out.refund_amount, eur("2.00"));
        // Announced maintenance is excluded however long.
        req.claim.outage = Some(Outage {
            announced: true,
            ..resolved(1_000_000)
        });
        assert_eq!(codes(&evaluate(&req)), ["TEMPORARY_OUTAGE_EXCLUDED"]);
        // Longer than the term: capped at the amount.
        req.claim.outage = Some(resolved(3_000_000));
        assert_eq!(evaluate(&req).finish().refund_amount, eur("30.00"));
        // Without a term: ask for it.
        req.purchase.term_months = 0;
        let out = evaluate(&req);
        assert_eq!(out.decision, Decision::NeedsInformation);
        assert_eq!(
            out.missing_information.iter().collect::<Vec<_>>(),
            [Field::PurchaseTermMonths]
        );
    }

    #[test]
    fn unresolved_outage_is_a_technical_issue() {
        let mut req = request(
            ClaimReason::ServiceOutage,
            "2026-04-01T00:00:00Z",
            "2026-04-20T00:00:00Z",
        );
        req.purchase.delivered_at = Some(t("2026-04-01T00:00:00Z"));
        req.claim.outage = Some(Outage {
            duration: TimeDelta::hours(100),
            ..Outage::default()
        });
        assert_eq!(codes(&evaluate(&req)), ["TROUBLESHOOTING_REQUIRED"]);
        req.claim.support = SupportHistory {
            contacted: true,
            troubleshooting_completed: true,
            ..SupportHistory::default()
        };
        req.claim.issue_started_at = Some(t("2026-04-11T00:00:00Z"));
        let out = evaluate(&req).finish();
        assert_eq!(codes(&out), ["UNRESOLVABLE_TECHNICAL_ISSUE"]);
        assert_eq!(out.refund_amount, eur("20.00"));
    }

    #[test]
    fn charge_disputes_pay_the_overcharge_and_keep_chargeback_consequences() {
        let mut req = request(
            ClaimReason::BillingError,
            "2026-04-01T00:00:00Z",
            "2026-04-02T00:00:00Z",
        );
        req.claim.charged_amount = Some(eur("40.00"));
        req.claim.expected_amount = Some(eur("30.00"));
        req.claim.chargeback_filed = true;
        let out = evaluate(&req).finish();
        assert_eq!(out.decision, Decision::Approved);
        assert_eq!(out.refund_amount, eur("10.00"));
        assert_eq!(codes(&out), ["BILLING_ERROR_OVERCHARGE", "CHARGEBACK_WITHOUT_CONTACT"]);
        assert_eq!(out.consequences.len(), 2);
        req.claim.charged_amount = Some(eur("30.00"));
        assert_eq!(codes(&evaluate(&req)), ["NO_OVERCHARGE", "CHARGEBACK_WITHOUT_CONTACT"]);
        req.claim.reason = ClaimReason::DuplicatePayment;
        let out = evaluate(&req).finish();
        assert_eq!(out.decision, Decision::NeedsInformation);
        assert_eq!(out.refund_amount, eur("0.00"));
    }
}
