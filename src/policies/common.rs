//! Rules and reason texts every policy shares. Each policy declares its own
//! copy of a shared reason with the clause of its own text, e.g.
//! `static TERMS: ReasonDef = ReasonDef { clause: "§8", ..common::TERMS_VIOLATION };`

use chrono::{DateTime, Utc};

use crate::domain::claim::{ClaimReason, ClaimRequest};
use crate::domain::decision::{Decision, Outcome, Reason, ReasonDef, RefundMethod};
use crate::domain::field::Field;
use crate::domain::list::List;
use crate::domain::money::Money;
use crate::domain::trace::{Opt, Trace};

pub const TERMS_VIOLATION: ReasonDef = ReasonDef {
    code: "TERMS_VIOLATION",
    clause: "",
    en: "A violation of the terms of service (sharing, reselling or abuse) is established; no refund is due.",
    fr: "Une violation des conditions d'utilisation (partage, revente ou abus) est établie ; aucun remboursement n'est dû.",
};

pub const POLICY_SILENT_MANUAL_REVIEW: ReasonDef = ReasonDef {
    code: "POLICY_SILENT_MANUAL_REVIEW",
    clause: "",
    en: "The policy does not address this situation; a support agent must decide. No amount is recommended.",
    fr: "La politique ne prévoit pas ce cas ; un agent doit trancher. Aucun montant n'est recommandé.",
};

pub const MISSING_REQUIRED_INFORMATION: ReasonDef = ReasonDef {
    code: "MISSING_REQUIRED_INFORMATION",
    clause: "",
    en: "The claim lacks information the policy requires; the amount shown is paid once it is supplied.",
    fr: "Il manque des informations exigées par la politique ; le montant indiqué sera versé une fois celles-ci fournies.",
};

pub const WAITING_PERIOD_RUNNING: ReasonDef = ReasonDef {
    code: "WAITING_PERIOD_RUNNING",
    clause: "",
    en: "The claim is premature: the waiting period the policy sets has not elapsed yet. It can be resubmitted later.",
    fr: "La demande est prématurée : le délai prévu par la politique n'est pas encore écoulé. Elle pourra être présentée de nouveau une fois ce délai écoulé.",
};

/// An amount the rules call for that cannot be computed exactly (a product
/// past `Decimal`'s range). Shared by every policy and the floor: the engine
/// adds it to every catalog, like the statutory reasons.
pub static AMOUNT_NOT_COMPUTABLE: ReasonDef = ReasonDef {
    code: "AMOUNT_NOT_COMPUTABLE",
    clause: "",
    en: "The refund amount the rules call for cannot be computed exactly for this purchase; a support agent must compute it. No amount is recommended.",
    fr: "Le montant du remboursement prévu par les règles ne peut pas être calculé exactement pour cet achat ; un agent doit le calculer. Aucun montant n'est recommandé.",
};

/// The rule `reason` applies but its amount cannot be computed:
/// NEEDS_REVIEW, recommending nothing, saying why (never a silent zero).
pub fn not_computable(reason: Reason, req: &ClaimRequest) -> Outcome {
    Outcome::new(Decision::NeedsReview, reason, paid(req)).with_reason(&AMOUNT_NOT_COMPUTABLE)
}

/// The amount paid for the purchase.
pub fn paid(req: &ClaimRequest) -> Money {
    req.purchase.amount_paid
}

/// `charged - expected` when both are given and the difference is positive.
pub fn overcharge(req: &ClaimRequest) -> Option<Money> {
    let charged = req.claim.charged_amount?;
    let expected = req.claim.expected_amount?;
    let diff = charged.saturating_sub(expected);
    (!diff.is_zero()).then_some(diff)
}

/// A reason the policy does not address: NEEDS_REVIEW, recommending nothing.
pub fn silent(reason: Reason, req: &ClaimRequest) -> Outcome {
    Outcome::new(Decision::NeedsReview, reason, paid(req))
}

/// A premature claim: DENIED with the instant it can be resubmitted.
pub fn waiting(reason: Reason, req: &ClaimRequest, resubmit_after: DateTime<Utc>) -> Outcome {
    let mut out = Outcome::denied(reason, paid(req));
    out.resubmit_after = Some(resubmit_after);
    out
}

/// Collects the request fields a policy requires and finds empty.
#[derive(Default)]
pub struct Required(List<Field, 8>);

impl Required {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `field` as missing unless `present`.
    pub fn check(&mut self, present: bool, field: Field) -> &mut Self {
        if !present {
            self.0.push(field);
        }
        self
    }

    /// Turns an outcome that is not a denial into NEEDS_INFORMATION when
    /// anything is missing; the amount stays what would be paid.
    pub fn apply<'r>(&self, out: Outcome, reason: Reason, t: &mut impl Trace<'r>) -> Outcome {
        let denied = out.decision == Decision::Denied;
        let matched = !self.0.is_empty() && !denied;
        let missing = self.0;
        t.rule("required-information", reason, matched, move |d| {
            let (en, fr) = match (missing.is_empty(), denied) {
                (true, _) => ("nothing required is missing", "aucune information exigée ne manque"),
                (false, true) => (
                    "missing, not asked of a denied claim: ",
                    "manquant, non demandé pour une demande refusée : ",
                ),
                (false, false) => ("missing: ", "manquant : "),
            };
            d.say(format_args!("{en}"), format_args!("{fr}"));
            for (i, f) in missing.iter().enumerate() {
                let sep = if i == 0 { "" } else { ", " };
                d.say(format_args!("{sep}{}", f.path()), format_args!("{sep}{}", f.path()));
            }
        });
        if !matched {
            return out;
        }
        let mut out = out;
        out.decision = Decision::NeedsInformation;
        out.reasons.push_front(reason);
        out.missing_information = self.0;
        out
    }
}

/// Records the charge-dispute rule: matched when `dispute` decided the
/// claim (its primary reason), else what it would have returned.
pub fn trace_dispute<'r>(
    t: &mut impl Trace<'r>,
    req: &'r ClaimRequest,
    dispute: Option<&Outcome>,
    reasons: &ChargeDisputeReasons,
) {
    let primary = dispute.and_then(|o| o.reasons.first()).unwrap_or(reasons.overcharge);
    t.rule("charge-dispute", primary, dispute.is_some(), move |d| {
        let c = &req.claim;
        let reason = c.reason;
        if !matches!(reason, ClaimReason::BillingError | ClaimReason::DuplicatePayment) {
            d.say(
                format_args!("claim reason {reason:?}: not a charge dispute"),
                format_args!("motif {reason:?} : pas une contestation de prélèvement"),
            );
            return;
        }
        let (charged, expected, duplicate) = (Opt(c.charged_amount), Opt(c.expected_amount), Opt(c.duplicate_amount));
        d.say(
            format_args!("claim reason {reason:?}; charged {charged}, expected {expected}, duplicate {duplicate}"),
            format_args!("motif {reason:?} ; prélevé {charged}, attendu {expected}, doublon {duplicate}"),
        );
    });
}

/// Whole days needed to cover `seconds`, rounded up.
pub fn days_rounded_up(seconds: i64) -> u32 {
    let days = seconds.max(0).unsigned_abs().div_ceil(86_400);
    u32::try_from(days).unwrap_or(u32::MAX)
}

pub const BILLING_ERROR_OVERCHARGE: ReasonDef = ReasonDef {
    code: "BILLING_ERROR_OVERCHARGE",
    clause: "",
    en: "The amount charged exceeds the agreed price: the overcharge is refunded, never the whole purchase.",
    fr: "Le montant prélevé dépasse le prix convenu : le trop-perçu est remboursé, jamais l'achat entier.",
};

pub const NO_OVERCHARGE: ReasonDef = ReasonDef {
    code: "NO_OVERCHARGE",
    clause: "",
    en: "The amount charged does not exceed the agreed price: there is no overcharge to refund.",
    fr: "Le montant prélevé ne dépasse pas le prix convenu : il n'y a aucun trop-perçu à rembourser.",
};

pub const DUPLICATE_PAYMENT: ReasonDef = ReasonDef {
    code: "DUPLICATE_PAYMENT",
    clause: "",
    en: "The same order was charged twice: the duplicate charge is refunded, never the whole purchase.",
    fr: "La même commande a été prélevée deux fois : le prélèvement en double est remboursé, jamais l'achat entier.",
};

/// A policy's own reasons for the three answers to a charge dispute.
pub struct ChargeDisputeReasons {
    /// `BILLING_ERROR_OVERCHARGE`
    pub overcharge: Reason,
    /// `NO_OVERCHARGE`
    pub no_overcharge: Reason,
    /// `DUPLICATE_PAYMENT`
    pub duplicate: Reason,
}

/// What a charge dispute is worth, sized by the claim's own amounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dispute {
    /// `charged - expected > 0`, or the duplicate charge; never more than was paid.
    Refund(Money),
    /// `charged <= expected`: nothing to refund.
    NoOvercharge,
    /// An amount that sizes it is missing (recorded in `required`).
    Unsized,
}

/// Sizes a `BILLING_ERROR` (the overcharge, `charged - expected`) or a
/// `DUPLICATE_PAYMENT` (`duplicate_amount`, zero counting as missing),
/// recording the missing amounts in `required`. `None` for any other reason.
pub fn dispute(req: &ClaimRequest, required: &mut Required) -> Option<Dispute> {
    let claim = &req.claim;
    let cap = |m: Money| m.min(paid(req));
    match claim.reason {
        ClaimReason::BillingError => {
            required
                .check(claim.charged_amount.is_some(), Field::ClaimChargedAmount)
                .check(claim.expected_amount.is_some(), Field::ClaimExpectedAmount);
            Some(match (claim.charged_amount, claim.expected_amount) {
                (Some(_), Some(_)) => overcharge(req).map_or(Dispute::NoOvercharge, |o| Dispute::Refund(cap(o))),
                _ => Dispute::Unsized,
            })
        }
        ClaimReason::DuplicatePayment => {
            let duplicate = claim.duplicate_amount.filter(move |d| !d.is_zero());
            required.check(duplicate.is_some(), Field::ClaimDuplicateAmount);
            Some(duplicate.map_or(Dispute::Unsized, move |d| Dispute::Refund(cap(d))))
        }
        _ => None,
    }
}

/// The rulings' "Charge disputes", the same in every policy that pays them:
/// `BILLING_ERROR` refunded by the overcharge, `DUPLICATE_PAYMENT` by the
/// duplicate charge, APPROVED at any time with no merchant consequence;
/// `charged <= expected` DENIED (`NO_OVERCHARGE`); a missing amount asked for
/// (NEEDS_INFORMATION once the policy applies `required`, amount to be
/// determined). `None` for any other reason.
pub fn charge_dispute(
    req: &ClaimRequest,
    required: &mut Required,
    reasons: &ChargeDisputeReasons,
    method: RefundMethod,
) -> Option<Outcome> {
    let primary = if req.claim.reason == ClaimReason::DuplicatePayment {
        reasons.duplicate
    } else {
        reasons.overcharge
    };
    Some(match dispute(req, required)? {
        Dispute::Refund(amount) => Outcome::new(Decision::Approved, primary, paid(req)).paying(amount, method),
        Dispute::NoOvercharge => Outcome::denied(reasons.no_overcharge, paid(req)),
        Dispute::Unsized => Outcome::new(Decision::Approved, primary, paid(req)),
    })
}

/// A charge dispute a policy leaves to an agent: NEEDS_REVIEW with `reason`,
/// recommending the overcharge or the duplicate charge (nothing when there is
/// no overcharge or the amount is missing). `None` for any other reason.
pub fn charge_dispute_review(req: &ClaimRequest, required: &mut Required, reason: Reason) -> Option<Outcome> {
    let review = Outcome::new(Decision::NeedsReview, reason, paid(req));
    Some(match dispute(req, required)? {
        Dispute::Refund(amount) => review.paying(amount, RefundMethod::None),
        Dispute::NoOvercharge | Dispute::Unsized => review,
    })
}
