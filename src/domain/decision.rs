//! What the engine answers: a decision with the reasons that produced it.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::claim::Language;
use super::field::Field;
use super::list::List;
use super::money::Money;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    Approved,
    PartiallyApproved,
    Denied,
    NeedsReview,
    NeedsInformation,
    OfferCompensation,
}

impl Decision {
    /// APPROVED or PARTIALLY_APPROVED.
    pub fn approves(self) -> bool {
        matches!(self, Decision::Approved | Decision::PartiallyApproved)
    }

    /// APPROVED when `refund` is the whole of `paid` (both rounded to the
    /// minor unit), PARTIALLY_APPROVED otherwise.
    pub fn share_of(paid: Money, refund: Money) -> Decision {
        if refund.rounded() == paid.rounded() {
            Decision::Approved
        } else {
            Decision::PartiallyApproved
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RefundMethod {
    #[default]
    None,
    OriginalPayment,
    PanelCredit,
}

/// The alternatives some policy offers. The wire enum has more values
/// (`PANEL_CREDIT`, `SERVER_SWITCH`) that no rule produces yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompensationKind {
    SubscriptionExtension,
    CashRefund,
    ResendAccess,
    DeliverCredits,
    RenewalDiscount,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Compensation {
    pub kind: CompensationKind,
    pub extension_days: u32,
    pub bonus_negotiable: bool,
    pub amount: Option<Money>,
}

impl Compensation {
    pub fn of(kind: CompensationKind) -> Compensation {
        Compensation {
            kind,
            extension_days: 0,
            bonus_negotiable: false,
            amount: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consequence {
    BarredFromFuturePurchases,
    SubscriptionSuspension,
    OrderRestriction,
}

/// One entry of a policy's reason-code catalog: the code, the clause of the
/// policy text it implements, and a message for a support agent.
#[derive(Debug, PartialEq, Eq)]
pub struct ReasonDef {
    pub code: &'static str,
    pub clause: &'static str,
    pub en: &'static str,
    pub fr: &'static str,
}

impl ReasonDef {
    pub fn message(&self, lang: Language) -> &'static str {
        match lang {
            Language::En => self.en,
            Language::Fr => self.fr,
        }
    }
}

pub type Reason = &'static ReasonDef;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Timeline {
    pub acknowledge_by: Option<DateTime<Utc>>,
    pub decide_by: Option<DateTime<Utc>>,
    pub funds_earliest: Option<DateTime<Utc>>,
    pub funds_latest: Option<DateTime<Utc>>,
}

/// The content-addressed id of a decision: a SHA-256 digest over what
/// decided it (computed at the edge, which knows the wire encoding; see
/// `grpc::decision_id`). Shown as lowercase hex.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DecisionId(pub [u8; 32]);

impl DecisionId {
    /// The 64 lowercase hex digits, on the stack.
    pub fn hex(&self) -> Hex {
        fn digit(nibble: u8) -> u8 {
            if nibble < 10 {
                b'0' + nibble
            } else {
                b'a' + (nibble - 10)
            }
        }
        let mut hex = [0u8; 64];
        for (pair, byte) in hex.chunks_exact_mut(2).zip(self.0) {
            if let [high, low] = pair {
                *high = digit(byte >> 4);
                *low = digit(byte & 0x0f);
            }
        }
        Hex(hex)
    }
}

/// A decision id's hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hex([u8; 64]);

impl Hex {
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Display for DecisionId {
    /// One write of 64 characters: a `write!` per byte would cost the
    /// decision log line more than the whole access line it replaces.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.hex().as_str())
    }
}

/// The engine's answer to a claim. Built on the stack: no heap allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub decision: Decision,
    /// What is paid (or recommended, or owed once information or a declined
    /// offer arrives); rounded to the minor unit by [`Outcome::finish`].
    pub refund_amount: Money,
    pub refund_method: RefundMethod,
    pub alternatives: List<Compensation, 4>,
    /// The primary reason first.
    pub reasons: List<Reason, 6>,
    /// The request fields the policy requires and found empty.
    pub missing_information: List<Field, 8>,
    pub resubmit_after: Option<DateTime<Utc>>,
    pub claim_deadline: Option<DateTime<Utc>>,
    pub timeline: Timeline,
    pub consequences: List<Consequence, 3>,
}

impl Outcome {
    /// A decision with one reason and nothing to pay yet.
    pub fn new(decision: Decision, reason: Reason, zero: Money) -> Outcome {
        let mut reasons = List::new();
        reasons.push(reason);
        Outcome {
            decision,
            refund_amount: Money::zero(zero.currency()),
            refund_method: RefundMethod::None,
            alternatives: List::new(),
            reasons,
            missing_information: List::new(),
            resubmit_after: None,
            claim_deadline: None,
            timeline: Timeline::default(),
            consequences: List::new(),
        }
    }

    pub fn denied(reason: Reason, currency_of: Money) -> Outcome {
        Outcome::new(Decision::Denied, reason, currency_of)
    }

    /// APPROVED: the whole of `paid` back by `method`.
    pub fn full(reason: Reason, paid: Money, method: RefundMethod) -> Outcome {
        Outcome::new(Decision::Approved, reason, paid).paying(paid, method)
    }

    /// `refund` of `paid` by `method`: APPROVED when it is the whole amount
    /// (after rounding), PARTIALLY_APPROVED otherwise (the contract's APPROVED
    /// is "refund_amount equals amount paid").
    pub fn share(reason: Reason, paid: Money, refund: Money, method: RefundMethod) -> Outcome {
        Outcome::new(Decision::share_of(paid, refund), reason, paid).paying(refund, method)
    }

    /// Pays `amount` (rounded at the end) by `method`.
    pub fn paying(mut self, amount: Money, method: RefundMethod) -> Outcome {
        self.refund_amount = amount;
        self.refund_method = method;
        self
    }

    pub fn with_reason(mut self, reason: Reason) -> Outcome {
        self.reasons.push(reason);
        self
    }

    pub fn with_alternative(mut self, alternative: Compensation) -> Outcome {
        self.alternatives.push(alternative);
        self
    }

    /// Whether money is paid now: an approval (full or partial) of a non-zero amount.
    pub fn pays_now(&self) -> bool {
        !self.refund_amount.is_zero() && self.decision.approves()
    }

    /// Rounds the amount to the currency's minor unit (round-half-even), once.
    pub fn finish(mut self) -> Outcome {
        self.refund_amount = self.refund_amount.rounded();
        self.alternatives = self
            .alternatives
            .iter()
            .map(|mut a| {
                a.amount = a.amount.map(Money::rounded);
                a
            })
            .collect();
        self
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundBasis {
    Full,
    ProratedUnused,
    None,
}

/// One stretch of time during which one refund basis applies. A window
/// covers the instants after `starts_at` up to and including `ends_at`
/// (the first window of a schedule also covers its `starts_at`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub starts_at: DateTime<Utc>,
    /// `None`: open-ended.
    pub ends_at: Option<DateTime<Utc>>,
    pub basis: RefundBasis,
    pub amount_at_start: Money,
    pub reason: Reason,
}

/// The answer to QuoteRefund.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quote {
    pub refundable_now: Money,
    pub basis: RefundBasis,
    /// Unused share of the term at `as_of`, in `[0, 1]`, 4 decimal places at most.
    pub unused_fraction: Decimal,
    pub schedule: List<Window, 8>,
    pub reasons: List<Reason, 3>,
}
