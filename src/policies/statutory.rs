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

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc, Weekday};

use crate::domain::claim::{ClaimReason, ClaimRequest, CustomerType, Purchase};
use crate::domain::decision::{
    CompensationKind, Decision, Outcome, Reason, ReasonDef, RefundBasis, RefundMethod, Timeline,
};
use crate::domain::list::List;
use crate::domain::trace::{At, AtIn, Detail, Trace};
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

/// The floor's clauses, for the rules of the trace that return no reason.
const CLAUSE: &str = "Directive 2011/83/EU art. 9, 16; C. consom. L221-18, L221-28; UK CCR 2013 reg. 29, 30";

/// What the floor owes for a claim it covers: a covered consumer's
/// withdrawal (any reason but a charge dispute) submitted in the period, the
/// right not lost. `None`: the policy decides alone.
pub fn withdrawal<'r>(req: &'r ClaimRequest, unspecified: CustomerType, t: &mut impl Trace<'r>) -> Option<Floor> {
    let p = &req.purchase;
    let dispute = matches!(
        req.claim.reason,
        ClaimReason::BillingError | ClaimReason::DuplicatePayment
    );
    let period = if dispute { None } else { period(p, unspecified) };
    t.record("who", CLAUSE, None, period.is_some(), move |d| {
        let customer = match p.customer_type {
            CustomerType::Unspecified => unspecified,
            c => c,
        };
        let country = p.customer_country;
        let country = country.as_ref().map_or("none", |c| c.code());
        if dispute {
            d.say(
                format_args!(
                    "{:?} disputes a charge and keeps the contract: not a withdrawal",
                    req.claim.reason
                ),
                format_args!(
                    "{:?} conteste un prélèvement sans renoncer au contrat : pas une rétractation",
                    req.claim.reason
                ),
            );
        } else {
            let covered = p.customer_country.is_some_and(withdrawal::is_covered);
            d.say(
                format_args!(
                    "customer {customer:?} (type given: {:?}), country {country} ({}): {}",
                    p.customer_type,
                    if covered { "covered" } else { "not covered" },
                    if period.is_some() {
                        "the floor applies"
                    } else {
                        "the floor does not apply"
                    }
                ),
                format_args!(
                    "client {customer:?} (type indiqué : {:?}), pays {country} ({}) : {}",
                    p.customer_type,
                    if covered { "couvert" } else { "non couvert" },
                    if period.is_some() {
                        "le socle légal s'applique"
                    } else {
                        "le socle légal ne s'applique pas"
                    }
                ),
            );
        }
    });
    let period = period?;
    let submitted = req.claim.submitted_at;
    let inside = period.contains(submitted);
    t.record("period", CLAUSE, None, inside, move |d| {
        describe_period(d, p, submitted, period)
    });
    if !inside {
        return None;
    }
    let paid = p.amount_paid;
    let outcome = if !pays_for_provision(p, submitted) {
        Outcome::full(&STATUTORY_WITHDRAWAL_RIGHT, paid, RefundMethod::OriginalPayment)
    } else {
        match p.term() {
            // The service was fully performed: the right is lost (art. 16(a)).
            Some(term) if term.end <= submitted => {
                t.record("withdrawal", STATUTORY_WITHDRAWAL_PROPORTIONAL.clause, Some(&STATUTORY_WITHDRAWAL_PROPORTIONAL), false, move |d| {
                    d.say(
                        format_args!("the term ended {} before the claim ({}): the service was fully performed, the right is lost (art. 16(a))", At(term.end), At(submitted)),
                        format_args!("l'abonnement a pris fin le {} avant la demande ({}) : le service a été pleinement exécuté, le droit est perdu (art. 16(a))", At(term.end), At(submitted)),
                    );
                });
                return None;
            }
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
    let reason = outcome.reasons.first().unwrap_or(&STATUTORY_WITHDRAWAL_RIGHT);
    t.record("withdrawal", reason.clause, Some(reason), true, move |d| {
        let cur = paid.currency();
        let owed = outcome.refund_amount.rounded();
        if std::ptr::eq(reason, &STATUTORY_WITHDRAWAL_RIGHT) {
            d.say(
                format_args!("consent to immediate performance {}, withdrawal information {}, delivered before the claim {}: the full {paid} {cur} is owed",
                    yes(p.express_consent_immediate_performance), yes(p.withdrawal_information_given), yes(p.delivered_by(submitted))),
                format_args!("consentement à l'exécution immédiate {}, information sur la rétractation {}, livré avant la demande {} : les {paid} {cur} sont dus en entier",
                    oui(p.express_consent_immediate_performance), oui(p.withdrawal_information_given), oui(p.delivered_by(submitted))),
            );
        } else if outcome.decision == Decision::NeedsReview {
            d.say(
                format_args!("consent given, access delivered: the unused share cannot be computed (no term, or an amount past range); an agent sizes it"),
                format_args!("consentement donné, accès livré : la part non utilisée ne peut pas être calculée (pas de durée, ou montant hors limites) ; un agent la chiffre"),
            );
        } else {
            d.say(
                format_args!("consent given, access delivered: the unused share of the term at the claim ({}) is {owed} {cur} of {paid} {cur}", At(submitted)),
                format_args!("consentement donné, accès livré : la part non utilisée de l'abonnement à la demande ({}) est de {owed} {cur} sur {paid} {cur}", At(submitted)),
            );
        }
    });
    Some(Floor { period, outcome })
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn oui(b: bool) -> &'static str {
    if b {
        "oui"
    } else {
        "non"
    }
}

/// The period's detail: the 14th day in the consumer's zone, any move, any
/// extension, its end, and the claim against it.
fn describe_period(d: &mut Detail<'_>, p: &Purchase, submitted: DateTime<Utc>, period: Period) {
    let facts = p
        .customer_country
        .and_then(|c| withdrawal::facts(c, p.purchased_at, p.withdrawal_information_given));
    let Some(f) = facts else {
        d.say(
            format_args!("the period ends {}", At(period.last_second())),
            format_args!("le délai prend fin le {}", At(period.last_second())),
        );
        return;
    };
    let last = AtIn(period.last_second(), f.zone);
    d.say(
        format_args!(
            "14th day after purchase is {} {}",
            f.fourteenth.format("%A"),
            f.fourteenth
        ),
        format_args!(
            "le 14e jour après l'achat est le {} {}",
            jour(f.fourteenth),
            f.fourteenth
        ),
    );
    if f.moved_to != f.fourteenth {
        d.say(
            format_args!(
                ", moved past weekend and public holidays to {} {}",
                f.moved_to.format("%A"),
                f.moved_to
            ),
            format_args!(
                ", reporté après week-end et jours fériés au {} {}",
                jour(f.moved_to),
                f.moved_to
            ),
        );
    }
    if let Some(x) = f.extended_to {
        d.say(
            format_args!("; withdrawal information not given: extended by 12 months to {x}"),
            format_args!("; information sur la rétractation non donnée : prolongé de 12 mois jusqu'au {x}"),
        );
    }
    let inside = period.contains(submitted);
    d.say(
        format_args!(
            "; the period ends {last}; claim submitted {}: {}",
            AtIn(submitted, f.zone),
            if inside { "inside" } else { "outside" }
        ),
        format_args!(
            "; le délai prend fin le {last} ; demande présentée le {} : {}",
            AtIn(submitted, f.zone),
            if inside { "dans le délai" } else { "hors délai" }
        ),
    );
}

/// The French name of `date`'s weekday.
fn jour(date: NaiveDate) -> &'static str {
    match date.weekday() {
        Weekday::Mon => "lundi",
        Weekday::Tue => "mardi",
        Weekday::Wed => "mercredi",
        Weekday::Thu => "jeudi",
        Weekday::Fri => "vendredi",
        Weekday::Sat => "samedi",
        Weekday::Sun => "dimanche",
    }
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
