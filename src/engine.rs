//! The decision engine: statutory floor, then the policy; and the reason
//! catalog each policy publishes.
//!
//! Order of rules (POLICY_RULINGS.md): request validation (done before this
//! module, at the edge) -> statutory floor -> hard exclusions (terms
//! violation) -> the reason's own rule -> required information -> amount,
//! method, alternatives, timeline. The floor is computed last but wins: it
//! overrides whatever the policy decided.

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::domain::claim::{ClaimRequest, Purchase, QuoteRequest};
use crate::domain::decision::{Outcome, Quote, Reason, RefundBasis, Window};
use crate::domain::list::List;
use crate::domain::money::Money;
use crate::domain::term::Term;
use crate::domain::trace::{NoTrace, Trace};
use crate::policies::{common, statutory, PolicyId, Segments};

/// Decides one claim. Always answers; never fails.
pub fn evaluate(policy: PolicyId, req: &ClaimRequest) -> Outcome {
    evaluate_traced(policy, req, &mut NoTrace)
}

/// [`evaluate`], telling `t` every rule considered, in evaluation order: the
/// statutory floor, the terms violation, the policy's rules (exclusions, the
/// reason's own rule, required information), the floor against the policy,
/// the amount. With [`NoTrace`] this is `evaluate`: the calls compile away.
pub fn evaluate_traced<'r>(policy: PolicyId, req: &'r ClaimRequest, t: &mut impl Trace<'r>) -> Outcome {
    let meta = policy.meta();
    t.scope(FLOOR);
    let floor = statutory::withdrawal(req, meta.unspecified_customer, t);
    t.scope(meta.id);
    let violation = req.claim.terms_violation;
    t.rule("terms-violation", meta.terms_violation, violation, move |d| {
        d.say(
            format_args!("terms violation established: {}", if violation { "yes" } else { "no" }),
            format_args!(
                "violation des conditions établie : {}",
                if violation { "oui" } else { "non" }
            ),
        );
    });
    let own = if violation {
        let mut out = Outcome::denied(meta.terms_violation, req.purchase.amount_paid);
        if let Some(c) = meta.terms_violation_consequence {
            out.consequences.push(c);
        }
        out
    } else {
        policy.evaluate(req, t)
    };
    let out = match floor {
        Some(floor) => {
            t.scope(FLOOR);
            t.record("against-policy", floor.outcome.reasons.first().map_or("", |r| r.clause), None, true, move |d| {
                let (f, p) = (floor.outcome.refund_amount.rounded(), own.refund_amount.rounded());
                let cur = f.currency();
                if own.decision.approves() && p.amount() >= f.amount() {
                    d.say(
                        format_args!("the policy approves {p} {cur}, at least the floor's {f} {cur}: its decision stands, under the floor's terms"),
                        format_args!("la politique accorde {p} {cur}, au moins les {f} {cur} du socle légal : sa décision est maintenue, aux conditions du socle"),
                    );
                } else {
                    d.say(
                        format_args!("the policy's {:?} ({p} {cur}) pays less than the floor's {f} {cur}: the floor prevails", own.decision),
                        format_args!("la décision {:?} de la politique ({p} {cur}) paie moins que les {f} {cur} du socle légal : le socle l'emporte", own.decision),
                    );
                }
            });
            let mut out = floor.apply(own).finish();
            out.timeline = policy.timeline(req, &out);
            if out.pays_now() {
                out.timeline = statutory::clamp_timeline(out.timeline, req);
            }
            out
        }
        None => {
            let mut out = own.finish();
            out.timeline = policy.timeline(req, &out);
            out
        }
    };
    t.scope(ENGINE);
    t.record("amount", "", None, true, move |d| {
        let cur = out.refund_amount.currency();
        let (r, p) = (out.refund_amount, req.purchase.amount_paid.rounded());
        d.say(
            format_args!(
                "{:?}: {r} {cur} of {p} {cur} paid, method {:?}",
                out.decision, out.refund_method
            ),
            format_args!(
                "{:?} : {r} {cur} sur {p} {cur} payés, moyen {:?}",
                out.decision, out.refund_method
            ),
        );
    });
    if let Some(primary) = out.reasons.first() {
        t.settle(primary);
    }
    out
}

/// The trace scope of the statutory floor's rules.
pub const FLOOR: &str = "floor";
/// The trace scope of the engine's own rules (the amount).
pub const ENGINE: &str = "engine";

/// Every reason `evaluate` and `quote` can return under `policy`, as the
/// policy publishes them: the statutory floor's reasons first (the floor can
/// override any policy), then the policy's own catalog, then
/// `AMOUNT_NOT_COMPUTABLE` (an amount past `Decimal`'s range, any policy).
pub fn catalog(policy: PolicyId) -> impl Iterator<Item = Reason> {
    statutory::REASONS
        .iter()
        .copied()
        .chain(policy.meta().catalog.iter().copied())
        .chain(std::iter::once::<Reason>(&common::AMOUNT_NOT_COMPUTABLE))
}

/// Quotes a no-fault refund at `as_of` and its schedule over the purchase's life.
///
/// A quote has no decision to hold for review, so an amount that cannot be
/// computed (a prorated window past `Decimal`'s range) shows as zero and the
/// quote's reasons end with `AMOUNT_NOT_COMPUTABLE`: a client never reads that
/// zero without the reason beside it. The window keeps its basis and reason.
pub fn quote(policy: PolicyId, req: &QuoteRequest) -> Quote {
    let p = &req.purchase;
    let term = p.term();
    let mut segments = policy.quote(req, term);
    if let Some(floor) = statutory::segments(p, policy.meta().unspecified_customer) {
        segments = statutory::merge(&floor, &segments);
    }
    let (schedule, mut computable) = windows(p, term, &segments);
    let current = schedule
        .iter()
        .find(|w| w.ends_at.is_none_or(|e| req.as_of <= e))
        .or(schedule.last());
    let zero = Money::zero(p.amount_paid.currency()).rounded();
    let (refundable_now, basis, reason) = match current {
        Some(w) => {
            let now = amount_at(p, term, w.basis, req.as_of);
            computable &= now.is_some();
            (now.unwrap_or(zero), w.basis, Some(w.reason))
        }
        None => (zero, RefundBasis::None, None),
    };
    let mut reasons: List<Reason, 3> = List::new();
    if let Some(r) = reason {
        reasons.push(r);
    }
    if !computable {
        reasons.push(&common::AMOUNT_NOT_COMPUTABLE);
    }
    Quote {
        refundable_now,
        basis,
        unused_fraction: unused_fraction(p, term, req.as_of),
        schedule,
        reasons,
    }
}

/// Turns segments into windows from the purchase on, dropping empty ones;
/// false beside them when a window's amount could not be computed (shown as zero).
fn windows(p: &Purchase, term: Option<Term>, segments: &Segments) -> (List<Window, 8>, bool) {
    let mut schedule: List<Window, 8> = List::new();
    let mut computable = true;
    let zero = Money::zero(p.amount_paid.currency()).rounded();
    let mut start = p.purchased_at;
    for s in segments.iter() {
        if let Some(until) = s.until {
            if until < start || (until == start && !schedule.is_empty()) {
                continue;
            }
        }
        let amount_at_start = amount_at(p, term, s.basis, start);
        computable &= amount_at_start.is_some();
        schedule.push(Window {
            starts_at: start,
            ends_at: s.until,
            basis: s.basis,
            amount_at_start: amount_at_start.unwrap_or(zero),
            reason: s.reason,
        });
        match s.until {
            Some(until) => start = until,
            None => break,
        }
    }
    (schedule, computable)
}

/// What `basis` pays at `t`, rounded; `None` when the proration overflows.
fn amount_at(p: &Purchase, term: Option<Term>, basis: RefundBasis, t: DateTime<Utc>) -> Option<Money> {
    let zero = Money::zero(p.amount_paid.currency());
    Some(
        match basis {
            RefundBasis::Full => p.amount_paid,
            RefundBasis::ProratedUnused => match term {
                Some(term) => term.prorate(p.amount_paid, t)?,
                None => zero,
            },
            RefundBasis::None => zero,
        }
        .rounded(),
    )
}

/// The unused share of the term at `t`, 4 decimal places (half-even); without
/// a term, 1 before delivery and 0 after.
fn unused_fraction(p: &Purchase, term: Option<Term>, t: DateTime<Utc>) -> Decimal {
    let Some(term) = term else {
        return if p.delivered_by(t) { Decimal::ZERO } else { Decimal::ONE };
    };
    let u = term.unused_from(t);
    if u.total_seconds <= 0 {
        return Decimal::ZERO;
    }
    Decimal::from(u.unused_seconds)
        .checked_div(Decimal::from(u.total_seconds))
        .unwrap_or(Decimal::ZERO)
        .round_dp_with_strategy(4, RoundingStrategy::MidpointNearestEven)
        .normalize()
}
