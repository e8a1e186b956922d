//! `iptvsmartersprohub-fr`: the "Politique De Remboursement" of
//! iptvsmartersprohub.com (`iptvsmartersprohub-fr.txt`, in French, undated).
//!
//! Clauses cite the text's numbered sections and items ("§4.3" is item 3 of
//! section 4, "Non-Réception du Code ou Identifiants"). Answers default to
//! French. Business time is Paris time with French public holidays. Refunds go
//! to the original payment method (§7.3: "par le même mode de paiement").
//!
//! Readings where POLICY_RULINGS.md is silent, each checked against the text
//! (`SERVICE_CONSUMED` is this module's own code; every other is the
//! rulings'):
//! - §8.4 "Fin de Période" is inclusive like every "within" of the rulings: a
//!   claim submitted exactly 7 days before the end of the term is in its last
//!   7 days. The 7 days are 7 × 24 h, like every "N days" of the service, so
//!   across a daylight-saving switch the boundary keeps the UTC time of day of
//!   the term's end. `claim_deadline` (one second earlier) is reported on
//!   every outcome the rule governs, i.e. all but the exclusions by reason or
//!   cause and the claims it spares. Second edition (row 12): it never refuses
//!   a service not supplied at all (§7.4 "Remboursement Intégral ... lorsque
//!   le service n'a pas pu être fourni du tout": non-receipt with nothing
//!   delivered by `submitted_at`) nor a charge dispute (billing error,
//!   duplicate payment: the merchant had no right to that money); those come
//!   whenever they come, and carry no `claim_deadline`.
//! - Causes (§8.2 customer side / ISP, §11 force majeure) exclude fault
//!   claims only; a billing error, duplicate payment, unauthorized transaction
//!   or wrong plan has no technical cause. SETUP_DIFFICULTY is §8.2's
//!   "configuration erronée"/"mauvaise configuration" and is refused.
//! - §4.3 non-receipt (second edition, row 12): access delivered at or
//!   before `submitted_at`, on time or late, refutes it ("nous nous engageons
//!   soit à vous renvoyer les accès": they were sent before the claim):
//!   DENIED `ACCESS_DELIVERED`, resend offered, no `resubmit_after`. Not
//!   delivered by `submitted_at` and 48 business hours passed by
//!   `evaluated_at`: APPROVED in full, even if the access arrived since the
//!   claim. Earlier: `WAITING_PERIOD_RUNNING`, resubmit at the 48th hour.
//! - §8.1 abuse "est passible de suspension": the terms-violation denial
//!   carries `CONSEQUENCE_SUBSCRIPTION_SUSPENSION` (attached by the engine).
//! - §4.1 outages: an outage claim of undiagnosed cause is taken as server
//!   side (the service is down for everyone) and an unspecified scope as full;
//!   PARTIAL / SINGLE_CHANNEL outages and THIRD_PARTY_APP / CHANNEL_SOURCE
//!   causes are not addressed (review). The 24–72 h review recommends nothing
//!   and offers the extension of §5.5. The refund of a prolonged outage is the
//!   unused share from `issue_started_at`; without it the claim asks for it
//!   and shows the share from `submitted_at`, the least that would be owed.
//!   Shorter outages do not need it: only technical and incompatibility
//!   claims require it outright, as the ruling says ("outage or technical"
//!   are two kinds of fault in the rulings' own words).
//! - TECHNICAL_ISSUE has no ruled outcome. §4.4's heading names
//!   "Non-Fonctionnement Inhérent au Service", but its conditions (a device
//!   meeting the minimum requirements, found "totalement incompatible" and
//!   confirmed after a full diagnosis) and the ruling cover incompatibility
//!   only; §4.1 covers servers "complètement hors service" (outages). So the
//!   Silence rule applies: review, nothing recommended, after the required
//!   information (incl. `issue_started_at`, which an agent granting a
//!   prorated refund under §4.4/§7.4 needs).
//! - Other reasons the text does not list (not as described, unauthorized
//!   transaction, wrong plan, server switch, channel unavailable, end-user
//!   mismanagement) are not addressed either: review, nothing recommended.
//!   Unlike smarterspro-officiel, whose list of cases after activation is
//!   closed, §4 only says "plusieurs situations particulières peuvent donner
//!   lieu à un remboursement".
//! - §4.2 billing error and duplicate payment: the rulings' charge disputes
//!   (the overcharge, or `duplicate_amount`); a missing amount is asked for,
//!   the amount shown being 0, to be determined.
//! - DIAGNOSIS_PENDING recommends the full amount: what confirmation pays.
//! - QuoteRefund's NONE window after delivery cites §2 ("une fois que le
//!   service est activé et consommé, il ne peut être restitué"; §3.3): no
//!   ruled code says it, hence `SERVICE_CONSUMED`, returned by QuoteRefund only.
//! - Timeline: acknowledgement 7 business days after `submitted_at` (§7.1,
//!   "5 à 7 jours ouvrés au maximum"), decision 10 business days after that
//!   (§7.2), on every outcome; when money is paid, funds from the decision
//!   (`evaluated_at`) up to 14 business days later (§7.3; PayPal "peut être
//!   plus rapide", so the same bound).

use chrono::TimeDelta;

use crate::domain::calendar::Calendar;
use crate::domain::claim::{
    ClaimReason, ClaimRequest, CustomerType, IssueCause, Language, OutageScope, PaymentMethod, QuoteRequest,
};
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

/// §4.3 "après 48 heures ouvrées suivant la validation de votre paiement"
const DELIVERY_BUSINESS_HOURS: u32 = 48;
/// §4.1 "Les pannes ponctuelles (quelques heures)": under 24 h (ruling).
const MINOR_OUTAGE_LIMIT: TimeDelta = TimeDelta::hours(24);
/// §4.1 "plusieurs jours consécutifs": 72 h or more (ruling).
const PROLONGED_OUTAGE_THRESHOLD: TimeDelta = TimeDelta::hours(72);
/// §8.4 "alors que votre abonnement touche à sa fin": its last 7 days (ruling).
const END_OF_PERIOD: TimeDelta = TimeDelta::days(7);
/// §7.1 "sous 5 à 7 jours ouvrés au maximum"
const ACKNOWLEDGE_BUSINESS_DAYS: u32 = 7;
/// §7.2 "10 jours ouvrés la durée nécessaire pour boucler l'investigation"
const DECIDE_BUSINESS_DAYS: u32 = 10;
/// §7.3 "pour une carte bancaire, la rétrocession peut prendre jusqu'à 14 jours ouvrés"
const FUNDS_BUSINESS_DAYS: u32 = 14;

static TERMS_VIOLATION: ReasonDef = ReasonDef {
    clause: "§8.1",
    ..common::TERMS_VIOLATION
};
static POLICY_SILENT: ReasonDef = ReasonDef {
    clause: "§4 (cas non prévu)",
    ..common::POLICY_SILENT_MANUAL_REVIEW
};
static MISSING_INFORMATION: ReasonDef = ReasonDef {
    clause: "§6",
    ..common::MISSING_REQUIRED_INFORMATION
};
static WAITING_PERIOD_RUNNING: ReasonDef = ReasonDef {
    clause: "§4.3",
    ..common::WAITING_PERIOD_RUNNING
};

static CUSTOMER_SIDE_ISSUE_EXCLUDED: ReasonDef = ReasonDef {
    code: "CUSTOMER_SIDE_ISSUE_EXCLUDED",
    clause: "§8.2",
    en: "The problem lies with the user (home router failure, internet plan too slow, unsupported or outdated device, wrong configuration): the claim is refused.",
    fr: "Le problème relève de l'utilisateur (panne de sa box internet, débit insuffisant de son abonnement internet, appareil trop ancien ou non pris en charge, mauvaise configuration) : la demande est refusée.",
};
static SUBJECTIVE_DISSATISFACTION_EXCLUDED: ReasonDef = ReasonDef {
    code: "SUBJECTIVE_DISSATISFACTION_EXCLUDED",
    clause: "§8.3",
    en: "Purely subjective dissatisfaction (disliking the channel selection, having tired of the service, a change of mind) does not give a right to a refund.",
    fr: "Une insatisfaction purement subjective (sélection de chaînes qui ne plaît pas, lassitude, changement d'avis) n'ouvre pas droit à remboursement.",
};
static END_OF_PERIOD_REASON: ReasonDef = ReasonDef {
    code: "END_OF_PERIOD",
    clause: "§8.4",
    en: "The claim was made when the subscription was in its last 7 days or had already expired: it cannot be considered under the policy.",
    fr: "La demande a été faite alors que l'abonnement était dans ses 7 derniers jours ou avait déjà expiré : elle ne peut pas être examinée au titre de la politique.",
};
static FORCE_MAJEURE: ReasonDef = ReasonDef {
    code: "FORCE_MAJEURE",
    clause: "§11",
    en: "The interruption is directly caused by force majeure (natural disaster, widespread network failure, armed conflict, etc.): no refund can be claimed.",
    fr: "L'interruption est directement liée à un cas de force majeure (catastrophe naturelle, panne réseau généralisée, conflit armé, etc.) : aucun remboursement ne peut être réclamé.",
};
static MINOR_OUTAGE_EXCLUDED: ReasonDef = ReasonDef {
    code: "MINOR_OUTAGE_EXCLUDED",
    clause: "§4.1",
    en: "An occasional outage of less than 24 hours, or planned maintenance, is not eligible for a refund.",
    fr: "Une panne ponctuelle de moins de 24 heures, ou une maintenance planifiée, n'ouvre pas droit à remboursement.",
};
static OUTAGE_BELOW_MAJOR_THRESHOLD: ReasonDef = ReasonDef {
    code: "OUTAGE_BELOW_MAJOR_THRESHOLD",
    clause: "§4.1",
    en: "The outage lasted at least 24 but less than 72 hours, short of \"several consecutive days\": an agent must assess it; an extension of the subscription can be offered.",
    fr: "La panne a duré au moins 24 heures mais moins de 72 heures, sans atteindre « plusieurs jours consécutifs » : un agent doit l'apprécier ; une prolongation de l'abonnement peut être proposée.",
};
static PROLONGED_OUTAGE: ReasonDef = ReasonDef {
    code: "PROLONGED_OUTAGE",
    clause: "§4.1",
    en: "The servers were completely down for 72 hours or more: first offer compensation (an extension of the subscription or a discount on renewal); if the customer declines, the time unused since the outage began is refunded.",
    fr: "Les serveurs ont été complètement hors service pendant 72 heures ou plus : un dédommagement (prolongation de l'abonnement ou remise sur le prochain renouvellement) doit d'abord être proposé ; si le client le refuse, la période non utilisée depuis le début de la panne lui est remboursée.",
};
static COMPENSATION_DECLINED: ReasonDef = ReasonDef {
    code: "COMPENSATION_DECLINED",
    clause: "§5.5",
    en: "The customer declined the compensation offered: the time unused since the outage began is refunded.",
    fr: "Le client a refusé le dédommagement proposé : la période non utilisée depuis le début de la panne lui est remboursée.",
};
static BILLING_ERROR_OVERCHARGE: ReasonDef = ReasonDef {
    clause: "§4.2",
    ..common::BILLING_ERROR_OVERCHARGE
};
static NO_OVERCHARGE: ReasonDef = ReasonDef {
    clause: "§4.2",
    ..common::NO_OVERCHARGE
};
static DUPLICATE_PAYMENT: ReasonDef = ReasonDef {
    clause: "§4.2",
    ..common::DUPLICATE_PAYMENT
};
static ACCESS_NOT_RECEIVED: ReasonDef = ReasonDef {
    code: "ACCESS_NOT_RECEIVED",
    clause: "§4.3",
    en: "No access details had been received when the claim was made, and 48 business hours have passed since payment was confirmed: full refund, or the access details sent again if the customer prefers.",
    fr: "Aucun identifiant n'avait été reçu au moment de la demande, et 48 heures ouvrées se sont écoulées depuis la validation du paiement : remboursement intégral, ou nouvel envoi des accès si le client le préfère.",
};
static ACCESS_DELIVERED: ReasonDef = ReasonDef {
    code: "ACCESS_DELIVERED",
    clause: "§4.3",
    en: "The access details had been delivered before the claim was made, on time or late: non-receipt is not established. They can be sent again.",
    fr: "Les identifiants avaient été transmis avant la demande, dans les délais ou en retard : la non-réception n'est pas établie. Ils peuvent être renvoyés.",
};
static CONFIRMED_INCOMPATIBILITY: ReasonDef = ReasonDef {
    code: "CONFIRMED_INCOMPATIBILITY",
    clause: "§4.4",
    en: "After a full diagnosis, support confirmed that the service is incompatible with a device meeting the minimum requirements: full refund.",
    fr: "Après un diagnostic complet, le support a confirmé l'incompatibilité du service avec un appareil conforme aux exigences minimales : remboursement intégral.",
};
static DIAGNOSIS_PENDING: ReasonDef = ReasonDef {
    code: "DIAGNOSIS_PENDING",
    clause: "§4.4",
    en: "The device meets the minimum requirements, but support has not yet confirmed the incompatibility through a full diagnosis; the amount shown is due once it does.",
    fr: "L'appareil répond aux exigences minimales, mais le support n'a pas encore confirmé l'incompatibilité par un diagnostic complet ; le montant indiqué sera dû après confirmation.",
};
static SERVICE_CONSUMED: ReasonDef = ReasonDef {
    code: "SERVICE_CONSUMED",
    clause: "§2",
    en: "The access details have been delivered: the service, consumed from activation, cannot be returned and is refunded only in the cases of §4.",
    fr: "Les identifiants ont été transmis : le service, consommé dès l'activation, ne peut pas être restitué et n'est remboursé que dans les cas prévus au §4.",
};

static CHARGE_DISPUTES: common::ChargeDisputeReasons = common::ChargeDisputeReasons {
    overcharge: &BILLING_ERROR_OVERCHARGE,
    no_overcharge: &NO_OVERCHARGE,
    duplicate: &DUPLICATE_PAYMENT,
};

pub static META: PolicyMeta = PolicyMeta {
    id: "iptvsmartersprohub-fr",
    version: "undated",
    title: "IPTV Smarters Pro Hub — Politique De Remboursement",
    merchant: "IPTV Smarters Pro Hub",
    source_language: Language::Fr,
    calendar: Calendar::PARIS_FRENCH_HOLIDAYS,
    catalog: &[
        &TERMS_VIOLATION,
        &CUSTOMER_SIDE_ISSUE_EXCLUDED,
        &SUBJECTIVE_DISSATISFACTION_EXCLUDED,
        &END_OF_PERIOD_REASON,
        &FORCE_MAJEURE,
        &MINOR_OUTAGE_EXCLUDED,
        &OUTAGE_BELOW_MAJOR_THRESHOLD,
        &PROLONGED_OUTAGE,
        &COMPENSATION_DECLINED,
        &BILLING_ERROR_OVERCHARGE,
        &NO_OVERCHARGE,
        &DUPLICATE_PAYMENT,
        &ACCESS_NOT_RECEIVED,
        &WAITING_PERIOD_RUNNING,
        &ACCESS_DELIVERED,
        &CONFIRMED_INCOMPATIBILITY,
        &DIAGNOSIS_PENDING,
        &SERVICE_CONSUMED,
        &MISSING_INFORMATION,
        &POLICY_SILENT,
    ],
    terms_violation: &TERMS_VIOLATION,
    // §8.1 "est passible de suspension et d'aucun remboursement"
    terms_violation_consequence: Some(Consequence::SubscriptionSuspension),
    unspecified_customer: CustomerType::Consumer,
};

pub fn evaluate<'r>(req: &'r ClaimRequest, t: &mut impl Trace<'r>) -> Outcome {
    let claim = &req.claim;
    let mut required = Required::new();
    // §5.1 "en indiquant votre numéro de commande"; §6 "Mode de paiement
    // utilisé", "Descriptif précis du problème".
    required
        .check(!req.purchase.order_id.trim().is_empty(), Field::PurchaseOrderId)
        .check(
            req.purchase.payment_method != PaymentMethod::Unspecified,
            Field::PurchasePaymentMethod,
        )
        .check(!claim.description.trim().is_empty(), Field::ClaimDescription);
    if matches!(
        claim.reason,
        ClaimReason::TechnicalIssue | ClaimReason::DeviceIncompatibility
    ) {
        required.check(claim.issue_started_at.is_some(), Field::ClaimIssueStartedAt);
    }
    let out = decide(req, &mut required, t);
    required.apply(out, &MISSING_INFORMATION, t)
}

fn decide<'r>(req: &'r ClaimRequest, required: &mut Required, t: &mut impl Trace<'r>) -> Outcome {
    let claim = &req.claim;
    let p = &req.purchase;
    let deny = |reason: Reason| Outcome::denied(reason, paid(req));
    let fault = !claim.reason.is_payment();
    let (reason, cause) = (claim.reason, claim.cause);
    let said = move |d: &mut Detail<'_>| {
        d.say(
            format_args!("claim reason {reason:?}, cause {cause:?}"),
            format_args!("motif {reason:?}, cause {cause:?}"),
        );
    };

    // §8.2 "Panne de votre box internet, faible débit dû à un abonnement FAI
    // non adapté ... Mauvaise configuration de votre réseau domestique"
    if t.rule(
        "customer-side",
        &CUSTOMER_SIDE_ISSUE_EXCLUDED,
        fault && matches!(cause, IssueCause::CustomerSide | IssueCause::Isp),
        said,
    ) {
        return deny(&CUSTOMER_SIDE_ISSUE_EXCLUDED);
    }
    // §8.3 "un aspect purement subjectif, comme ne pas aimer la sélection
    // de chaînes ou s'être lassé(e) du service"; §3 "la simple insatisfaction"
    if t.rule(
        "subjective-dissatisfaction",
        &SUBJECTIVE_DISSATISFACTION_EXCLUDED,
        matches!(reason, ClaimReason::ChangeOfMind | ClaimReason::ContentDissatisfaction),
        said,
    ) {
        return deny(&SUBJECTIVE_DISSATISFACTION_EXCLUDED);
    }
    if t.rule(
        "setup",
        &CUSTOMER_SIDE_ISSUE_EXCLUDED,
        reason == ClaimReason::SetupDifficulty,
        said,
    ) {
        return deny(&CUSTOMER_SIDE_ISSUE_EXCLUDED);
    }

    // §4.2 and the rulings' charge disputes: the overcharge or the duplicate
    // charge, whenever they come (no end-of-period refusal).
    let dispute = common::charge_dispute(req, required, &CHARGE_DISPUTES, RefundMethod::OriginalPayment);
    common::trace_dispute(t, req, dispute.as_ref(), &CHARGE_DISPUTES);
    if let Some(out) = dispute {
        return out;
    }

    // §8.4 "Toute demande de remboursement effectuée alors que votre abonnement
    // touche à sa fin (ou est déjà expiré) ne pourra pas être examinée", but
    // never a service "pas pu être fourni du tout" (§7.4): nothing delivered
    // when the non-receipt claim was made.
    let term = p.term();
    let not_supplied = claim.reason == ClaimReason::NonDelivery && !p.delivered_by(claim.submitted_at);
    let last_days_start = term.filter(|_| !not_supplied).map(|t| t.end - END_OF_PERIOD);
    let claim_deadline = last_days_start.map(|t| t - TimeDelta::seconds(1));
    let at_end = last_days_start.is_some_and(|start| claim.submitted_at >= start);
    t.rule("end-of-period", &END_OF_PERIOD_REASON, at_end, move |d| {
        match (term, last_days_start) {
            (_, Some(start)) => d.say(
                format_args!(
                    "claim submitted {}; the last 7 days of the term start {}",
                    At(claim.submitted_at),
                    At(start)
                ),
                format_args!(
                    "demande présentée le {} ; les 7 derniers jours de l'abonnement commencent le {}",
                    At(claim.submitted_at),
                    At(start)
                ),
            ),
            (Some(_), None) => d.say(
                format_args!("nothing was supplied when the claim was made (§7.4): the end of the term does not apply"),
                format_args!(
                    "rien n'avait été fourni lors de la demande (§7.4) : la fin d'abonnement ne s'applique pas"
                ),
            ),
            (None, None) => d.say(format_args!("no term given"), format_args!("durée non indiquée")),
        }
    });
    if at_end {
        let mut out = deny(&END_OF_PERIOD_REASON);
        out.claim_deadline = claim_deadline;
        return out;
    }

    // §11 "En cas de force majeure, il n'est pas possible de réclamer un remboursement"
    if t.rule(
        "force-majeure",
        &FORCE_MAJEURE,
        fault && cause == IssueCause::ForceMajeure,
        said,
    ) {
        return deny(&FORCE_MAJEURE);
    }

    let mut out = match claim.reason {
        ClaimReason::ServiceOutage => outage(req, term, required),
        ClaimReason::NonDelivery => non_receipt(req),
        ClaimReason::DeviceIncompatibility => incompatibility(req, required),
        _ => common::silent(&POLICY_SILENT, req),
    };
    let rule = match claim.reason {
        ClaimReason::ServiceOutage => "outage",
        ClaimReason::NonDelivery => "non-receipt",
        ClaimReason::DeviceIncompatibility => "incompatibility",
        _ => "not-addressed",
    };
    produced(t, rule, &out, move |d| own_detail(d, req, &out));
    out.claim_deadline = claim_deadline;
    out
}

/// The facts the reason's own rule compared.
fn own_detail(d: &mut Detail<'_>, req: &ClaimRequest, out: &Outcome) {
    let claim = &req.claim;
    let p = &req.purchase;
    let cur = p.amount_paid.currency();
    let amount = out.refund_amount.rounded();
    match (claim.reason, claim.outage) {
        (ClaimReason::ServiceOutage, Some(o)) => d.say(
            format_args!("cause {:?}, scope {:?}, announced {}, lasted {}; under {} is minor, from {} prolonged; amount {amount} {cur} of {} {cur}", claim.cause, o.scope, o.announced, Hm(o.duration), Hm(MINOR_OUTAGE_LIMIT), Hm(PROLONGED_OUTAGE_THRESHOLD), p.amount_paid),
            format_args!("cause {:?}, étendue {:?}, annoncée {}, durée {} ; moins de {} est mineur, à partir de {} prolongé ; montant {amount} {cur} sur {} {cur}", claim.cause, o.scope, o.announced, Hm(o.duration), Hm(MINOR_OUTAGE_LIMIT), Hm(PROLONGED_OUTAGE_THRESHOLD), p.amount_paid),
        ),
        (ClaimReason::NonDelivery, _) => {
            let due = META.calendar.add_business_hours(p.purchased_at, DELIVERY_BUSINESS_HOURS);
            let delivered = Opt(p.delivered_at.map(At));
            d.say(
                format_args!("access due by {} (48 business hours); delivered {delivered}; claim submitted {}, evaluated {}", At(due), At(claim.submitted_at), At(req.evaluated_at)),
                format_args!("accès dus au plus tard le {} (48 heures ouvrées) ; livrés {delivered} ; demande présentée le {}, évaluée le {}", At(due), At(claim.submitted_at), At(req.evaluated_at)),
            );
        }
        (reason, _) => d.say(
            format_args!("claim reason {reason:?}, cause {:?}; amount {amount} {cur} of {} {cur}", claim.cause, p.amount_paid),
            format_args!("motif {reason:?}, cause {:?} ; montant {amount} {cur} sur {} {cur}", claim.cause, p.amount_paid),
        ),
    }
}

/// §4.1 "Défaillance Technique Prolongée": servers "complètement hors service
/// pendant une période anormalement longue (ex. plusieurs jours consécutifs),
/// sans qu'une solution temporaire ou un dédommagement équivalent vous ait été
/// proposé"; "Les pannes ponctuelles (quelques heures) ou les maintenances
/// planifiées ne seront pas éligibles".
fn outage(req: &ClaimRequest, term: Option<Term>, required: &mut Required) -> Outcome {
    let claim = &req.claim;
    if !matches!(claim.cause, IssueCause::ServerSide | IssueCause::Undiagnosed) {
        return common::silent(&POLICY_SILENT, req);
    }
    let Some(outage) = claim.outage else {
        required.check(false, Field::ClaimOutageDuration);
        return prolonged(req, term, required, None);
    };
    if matches!(outage.scope, OutageScope::Partial | OutageScope::SingleChannel) {
        return common::silent(&POLICY_SILENT, req);
    }
    let extension = Compensation {
        extension_days: common::days_rounded_up(outage.duration.num_seconds()),
        ..Compensation::of(CompensationKind::SubscriptionExtension)
    };
    if outage.announced || outage.duration < MINOR_OUTAGE_LIMIT {
        return Outcome::denied(&MINOR_OUTAGE_EXCLUDED, paid(req));
    }
    if outage.duration < PROLONGED_OUTAGE_THRESHOLD {
        // §5.5 "nous pouvons proposer une compensation partielle (allongement de la durée d'abonnement ...)"
        return Outcome::new(Decision::NeedsReview, &OUTAGE_BELOW_MAJOR_THRESHOLD, paid(req))
            .with_alternative(extension);
    }
    prolonged(req, term, required, Some(extension))
}

/// §5.5 "Selon la nature et la gravité de l'incident, nous pouvons proposer
/// une compensation partielle (allongement de la durée d'abonnement, remise
/// sur un futur renouvellement, etc.). Si aucun compromis ne peut être trouvé
/// ... un remboursement pourra alors être validé (intégral ou au prorata de la
/// période non utilisée)." The time the service was down counts as unused.
fn prolonged(
    req: &ClaimRequest,
    term: Option<Term>,
    required: &mut Required,
    extension: Option<Compensation>,
) -> Outcome {
    let p = &req.purchase;
    let claim = &req.claim;
    required.check(claim.issue_started_at.is_some(), Field::ClaimIssueStartedAt);
    let refund = match term {
        Some(term) => match term.prorate(p.amount_paid, claim.issue_started_at.unwrap_or(claim.submitted_at)) {
            Some(refund) => refund,
            None => return common::not_computable(&PROLONGED_OUTAGE, req),
        },
        None => {
            required.check(false, Field::PurchaseTermMonths);
            Money::zero(p.amount_paid.currency())
        }
    };
    if term.is_some() && claim.issue_started_at.is_some() && refund.rounded().is_zero() {
        // The outage began after the term ended: nothing of it is left.
        return Outcome::denied(&END_OF_PERIOD_REASON, p.amount_paid);
    }
    if claim.support.compensation_declined {
        // §7.4 "Remboursement Partiel : ... si vous n'avez pas souhaité/pu
        // accepter une solution de rechange (ex. prolongation gratuite de l'abonnement)"
        return Outcome::share(
            &COMPENSATION_DECLINED,
            p.amount_paid,
            refund,
            RefundMethod::OriginalPayment,
        )
        .with_reason(&PROLONGED_OUTAGE);
    }
    let mut out = Outcome::new(Decision::OfferCompensation, &PROLONGED_OUTAGE, p.amount_paid)
        .paying(refund, RefundMethod::OriginalPayment);
    if let Some(extension) = extension {
        out = out
            .with_alternative(extension)
            .with_alternative(Compensation::of(CompensationKind::RenewalDiscount));
    }
    out
}

/// §4.3 "Si, après 48 heures ouvrées suivant la validation de votre paiement,
/// vous n'avez toujours pas reçu les informations vous permettant d'activer
/// l'abonnement ... nous nous engageons soit à vous renvoyer les accès, soit à
/// procéder à un remboursement".
fn non_receipt(req: &ClaimRequest) -> Outcome {
    let p = &req.purchase;
    let resend = Compensation::of(CompensationKind::ResendAccess);
    // Sent before the claim, on time or late: "renvoyer les accès" is all that is owed.
    if p.delivered_by(req.claim.submitted_at) {
        return Outcome::denied(&ACCESS_DELIVERED, p.amount_paid).with_alternative(resend);
    }
    let deadline = META
        .calendar
        .add_business_hours(p.purchased_at, DELIVERY_BUSINESS_HOURS);
    if req.evaluated_at < deadline {
        return common::waiting(&WAITING_PERIOD_RUNNING, req, deadline);
    }
    Outcome::full(&ACCESS_NOT_RECEIVED, p.amount_paid, RefundMethod::OriginalPayment).with_alternative(resend)
}

/// §4.4 "l'IPTV Premium s'avère totalement incompatible avec vos appareils,
/// alors que ceux-ci répondent pourtant aux exigences minimales annoncées ...
/// Cette situation devra être confirmée par notre support après un diagnostic complet."
fn incompatibility(req: &ClaimRequest, required: &mut Required) -> Outcome {
    let claim = &req.claim;
    let meets = claim.device_meets_minimum_requirements;
    if meets == Some(false) {
        // §8.2 "appareils non pris en charge (trop anciens, non compatibles)"
        return Outcome::denied(&CUSTOMER_SIDE_ISSUE_EXCLUDED, paid(req));
    }
    required.check(meets.is_some(), Field::ClaimDeviceMeetsMinimumRequirements);
    if claim.support.incompatibility_confirmed {
        Outcome::full(&CONFIRMED_INCOMPATIBILITY, paid(req), RefundMethod::OriginalPayment)
    } else {
        Outcome::new(Decision::NeedsReview, &DIAGNOSIS_PENDING, paid(req))
            .paying(paid(req), RefundMethod::OriginalPayment)
    }
}

/// §7.1 "répondre ... sous 5 à 7 jours ouvrés au maximum"; §7.2 "10 jours
/// ouvrés la durée nécessaire pour boucler l'investigation"; §7.3 "pour une
/// carte bancaire, la rétrocession peut prendre jusqu'à 14 jours ouvrés,
/// tandis que sur un compte PayPal, cela peut être plus rapide".
pub fn timeline(req: &ClaimRequest, out: &Outcome) -> Timeline {
    let cal = META.calendar;
    let acknowledge_by = cal.add_business_days(req.claim.submitted_at, ACKNOWLEDGE_BUSINESS_DAYS);
    let decide_by = cal.add_business_days(acknowledge_by, DECIDE_BUSINESS_DAYS);
    let paying = out.pays_now();
    Timeline {
        acknowledge_by: Some(acknowledge_by),
        decide_by: Some(decide_by),
        funds_earliest: paying.then_some(req.evaluated_at),
        funds_latest: paying.then(|| cal.add_business_days(req.evaluated_at, FUNDS_BUSINESS_DAYS)),
    }
}

/// FULL until the access details are delivered, then NONE.
pub fn quote(req: &QuoteRequest, _term: Option<Term>) -> Segments {
    let mut segments = Segments::new();
    segments.push(Segment {
        until: req.purchase.delivered_at,
        basis: RefundBasis::Full,
        reason: &ACCESS_NOT_RECEIVED,
    });
    if req.purchase.delivered_at.is_some() {
        segments.push(Segment {
            until: None,
            basis: RefundBasis::None,
            reason: &SERVICE_CONSUMED,
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
    use crate::domain::claim::{Claim, Outage, Purchase};
    use crate::domain::fixtures::{eur, t};

    /// A 30-day term: bought and delivered 1 Apr 2025 00:00Z, ends 1 May 00:00Z.
    fn request(reason: ClaimReason, evaluated_at: &str) -> ClaimRequest {
        let evaluated_at = t(evaluated_at);
        ClaimRequest {
            purchase: Purchase {
                order_id: "HUB-1".into(),
                delivered_at: Some(t("2025-04-01T00:00:00Z")),
                term_months: 1,
                payment_method: PaymentMethod::Paypal,
                express_consent_immediate_performance: true,
                ..Purchase::new(eur("30.00"), t("2025-04-01T00:00:00Z"))
            },
            claim: Claim {
                description: "panne".into(),
                ..Claim::new(reason, evaluated_at)
            },
            evaluated_at,
        }
    }

    fn codes(out: &Outcome) -> Vec<&'static str> {
        out.reasons.iter().map(|r| r.code).collect()
    }

    #[test]
    fn the_last_seven_days_include_their_first_instant() {
        let mut req = request(ClaimReason::NotAsDescribed, "2025-04-24T00:00:00Z");
        let out = evaluate(&req);
        assert_eq!(codes(&out), ["END_OF_PERIOD"]);
        assert_eq!(out.claim_deadline, Some(t("2025-04-23T23:59:59Z")));
        req.claim.submitted_at = t("2025-04-23T23:59:59Z");
        let out = evaluate(&req);
        assert_eq!(codes(&out), ["POLICY_SILENT_MANUAL_REVIEW"]);
        assert_eq!(out.claim_deadline, Some(t("2025-04-23T23:59:59Z")));
    }

    #[test]
    fn charge_disputes_and_unsupplied_service_ignore_the_end_of_period() {
        let mut req = request(ClaimReason::DuplicatePayment, "2025-05-20T00:00:00Z");
        req.claim.duplicate_amount = Some(eur("30.00"));
        let out = evaluate(&req).finish();
        assert_eq!(codes(&out), ["DUPLICATE_PAYMENT"]);
        assert_eq!(out.refund_amount, eur("30.00"));
        assert_eq!(out.claim_deadline, None);
        req.claim.reason = ClaimReason::BillingError;
        req.claim.charged_amount = Some(eur("30.00"));
        req.claim.expected_amount = Some(eur("25.00"));
        assert_eq!(evaluate(&req).finish().refund_amount, eur("5.00"));
        // Never delivered: the term (from the purchase) is long over, still paid in full.
        req.claim.reason = ClaimReason::NonDelivery;
        req.purchase.delivered_at = None;
        let out = evaluate(&req).finish();
        assert_eq!(codes(&out), ["ACCESS_NOT_RECEIVED"]);
        assert_eq!(out.claim_deadline, None);
    }

    #[test]
    fn outage_thresholds_and_compensation() {
        let mut req = request(ClaimReason::ServiceOutage, "2025-04-14T00:00:00Z");
        req.claim.issue_started_at = Some(t("2025-04-11T00:00:00Z"));
        let with = |d: i64| Outage {
            duration: TimeDelta::seconds(d),
            scope: OutageScope::Full,
            ..Outage::default()
        };
        for (seconds, code) in [
            (86_399, "MINOR_OUTAGE_EXCLUDED"),
            (86_400, "OUTAGE_BELOW_MAJOR_THRESHOLD"),
            (259_199, "OUTAGE_BELOW_MAJOR_THRESHOLD"),
            (259_200, "PROLONGED_OUTAGE"),
        ] {
            req.claim.outage = Some(with(seconds));
            assert_eq!(codes(&evaluate(&req)), [code], "{seconds} s");
        }
        // 20 of 30 days unused since the outage began.
        let out = evaluate(&req).finish();
        assert_eq!(out.decision, Decision::OfferCompensation);
        assert_eq!(out.refund_amount, eur("20.00"));
        let kinds: Vec<_> = out.alternatives.iter().map(|a| (a.kind, a.extension_days)).collect();
        assert_eq!(
            kinds,
            [
                (CompensationKind::SubscriptionExtension, 3),
                (CompensationKind::RenewalDiscount, 0)
            ]
        );
        req.claim.support.compensation_declined = true;
        let out = evaluate(&req).finish();
        assert_eq!(out.decision, Decision::PartiallyApproved);
        assert_eq!(codes(&out), ["COMPENSATION_DECLINED", "PROLONGED_OUTAGE"]);
        assert!(out.alternatives.is_empty());
        // Announced maintenance is never eligible, however long.
        req.claim.outage = Some(Outage {
            announced: true,
            ..with(1_000_000)
        });
        assert_eq!(codes(&evaluate(&req)), ["MINOR_OUTAGE_EXCLUDED"]);
    }

    #[test]
    fn access_delivered_before_the_claim_refutes_non_receipt_even_late() {
        // Tue 1 Apr 2025 02:00 Paris: 48 business hours end Thu 3 Apr 02:00 Paris (00:00Z).
        let mut req = request(ClaimReason::NonDelivery, "2025-04-04T00:00:00Z");
        req.purchase.delivered_at = Some(t("2025-04-03T12:00:00Z"));
        assert_eq!(codes(&evaluate(&req)), ["ACCESS_DELIVERED"]);
        req.purchase.delivered_at = Some(t("2025-04-04T00:00:00Z"));
        assert_eq!(codes(&evaluate(&req)), ["ACCESS_DELIVERED"]);
        req.purchase.delivered_at = Some(t("2025-04-04T00:00:01Z"));
        assert_eq!(codes(&evaluate(&req)), ["ACCESS_NOT_RECEIVED"]);
    }
}
