//! Rules and reason texts every policy shares. Each policy declares its own
//! copy of a shared reason with the clause of its own text, e.g.
//! `static TERMS: ReasonDef = ReasonDef { clause: "§8", ..common::TERMS_VIOLATION };`

use chrono::{DateTime, Utc};

use crate::domain::claim::ClaimRequest;
use crate::domain::decision::{Decision, Outcome, Reason, ReasonDef, RefundMethod};
use crate::domain::list::List;
use crate::domain::money::Money;

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

/// Collects the request field paths a policy requires and finds empty.
#[derive(Default)]
pub struct Required(List<&'static str, 8>);

impl Required {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `path` as missing unless `present`.
    pub fn check(&mut self, present: bool, path: &'static str) -> &mut Self {
        if !present {
            self.0.push(path);
        }
        self
    }

    /// Turns an outcome that is not a denial into NEEDS_INFORMATION when
    /// anything is missing; the amount stays what would be paid.
    pub fn apply(&self, out: Outcome, reason: Reason) -> Outcome {
        if self.0.is_empty() || out.decision == Decision::Denied {
            return out;
        }
        let mut out = out;
        out.decision = Decision::NeedsInformation;
        out.reasons.push_front(reason);
        out.missing_information = self.0;
        out
    }
}

/// Whole days needed to cover `seconds`, rounded up.
pub fn days_rounded_up(seconds: i64) -> u32 {
    let days = seconds.max(0).unsigned_abs().div_ceil(86_400);
    u32::try_from(days).unwrap_or(u32::MAX)
}

/// A duplicate payment refunded to the original payment method: the extra
/// charge (`claim.duplicate_amount`, asked for when missing or zero, the
/// amount paid shown meanwhile), never more than was paid.
pub fn duplicate_payment(req: &ClaimRequest, required: &mut Required, reason: Reason) -> Outcome {
    let p = &req.purchase;
    let duplicate = req.claim.duplicate_amount.filter(|d| !d.is_zero());
    required.check(duplicate.is_some(), "claim.duplicate_amount");
    let refund = duplicate.unwrap_or(p.amount_paid).min(p.amount_paid);
    Outcome::new(Decision::Approved, reason, p.amount_paid).paying(refund, RefundMethod::OriginalPayment)
}
