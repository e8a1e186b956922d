//! What a call tells its observer. The telemetry layer puts an empty
//! [`CallFacts`] in each request's extensions; the service, which alone has
//! decoded the message, fills it with domain values (the policy, the
//! decision) and the caller's request id; the layer reads it when the call
//! ends. Neither side imports the other: both import this module, which
//! knows only the domain and the policy ids.

use std::sync::{Arc, Mutex};

use crate::domain::decision::{Decision, Outcome, Reason};
use crate::domain::list::List;
use crate::domain::money::Currency;
use crate::policies::{PolicyId, PolicyMeta, RULES_EDITION};

/// What one call revealed, as closed-set labels (plus a filtered request id).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// The id of the compiled-in policy that handled the call.
    pub policy: Option<&'static str>,
    /// The decision of an EvaluateClaim call, named as on the wire without
    /// the `DECISION_` prefix (`APPROVED`, `NEEDS_REVIEW`, ...).
    pub decision: Option<&'static str>,
    /// The caller's correlation id, only if it looks opaque.
    pub request_id: Option<String>,
    /// What an EvaluateClaims stream answered, when the call is one.
    pub stream: Option<StreamFacts>,
    /// What the decision log records of an EvaluateClaim decision.
    pub decided: Option<Decided>,
}

/// The items of one EvaluateClaims stream: how many were answered, how many
/// of those were errors, and the decisions not yet counted in the metrics
/// (the layer takes them as the stream goes, so counts do not wait for the
/// end of a long stream).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct StreamFacts {
    pub items: u64,
    pub errors: u64,
    pub decisions: DecisionTally,
}

/// Decisions counted by (policy id, decision label): a closed set of at most
/// policies × decisions pairs, so a short list searched in place.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DecisionTally(Vec<(&'static str, &'static str, u64)>);

impl DecisionTally {
    /// Counts one decision of `policy`.
    pub fn add(&mut self, policy: PolicyId, decision: Decision) {
        self.add_n(policy.meta().id, decision_label(decision), 1);
    }

    fn add_n(&mut self, policy: &'static str, decision: &'static str, n: u64) {
        match self.0.iter_mut().find(|(p, d, _)| *p == policy && *d == decision) {
            Some((_, _, count)) => *count += n,
            None => self.0.push((policy, decision, n)),
        }
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: DecisionTally) {
        for (p, d, n) in other.0 {
            self.add_n(p, d, n);
        }
    }

    /// The counts, as (policy id, decision label, count).
    pub fn counts(&self) -> impl Iterator<Item = (&'static str, &'static str, u64)> + '_ {
        self.0.iter().copied()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One decision as the decision log records it: ids, versions and the
/// answer, nothing that names a person, an order or a payment. Plain values
/// (no heap), so that recording it costs a copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decided {
    /// The decision id as the response carries it (64 hex digits).
    pub decision_id: Inline,
    pub policy_version: &'static str,
    pub rules_edition: &'static str,
    /// The refund amount as the response carries it, and its currency.
    pub amount: Inline,
    pub currency: Currency,
    /// The reasons' codes, the primary first.
    pub reasons: ReasonCodes,
}

/// A short text held inline (no heap): the decision id and the amount,
/// copied from the response the service already wrote rather than
/// formatted again for the decision line, which is written for every
/// decision and must cost no more than the access line it replaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inline {
    bytes: [u8; 64],
    len: usize,
}

impl Inline {
    /// `text`, or `-` if it is longer than 64 bytes (no amount or id is).
    pub fn new(text: &str) -> Inline {
        let mut bytes = [0u8; 64];
        match bytes.get_mut(..text.len()) {
            Some(head) => {
                head.copy_from_slice(text.as_bytes());
                Inline { bytes, len: text.len() }
            }
            None => Inline::new("-"),
        }
    }

    pub fn as_str(&self) -> &str {
        self.bytes
            .get(..self.len)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("-")
    }
}

impl std::fmt::Display for Inline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reason codes, shown comma-separated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReasonCodes(pub List<Reason, 6>);

impl std::fmt::Display for ReasonCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, reason) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(reason.code)?;
        }
        Ok(())
    }
}

/// A slot shared by the layer and the service for one call.
#[derive(Clone, Debug, Default)]
pub struct CallFacts(Arc<Mutex<Facts>>);

impl CallFacts {
    fn update(&self, f: impl FnOnce(&mut Facts)) {
        // A poisoned lock only means a panic elsewhere; the facts are plain data.
        let mut guard = match self.0.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard);
    }

    /// Empties the slot, returning what the call reported.
    pub fn take(&self) -> Facts {
        let mut guard = match self.0.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        std::mem::take(&mut *guard)
    }

    /// Records the caller's correlation id, if it is safe to log.
    pub fn set_request_id(&self, request_id: &str) {
        if let Some(id) = loggable_request_id(request_id) {
            self.update(|f| f.request_id = Some(id.to_owned()));
        }
    }

    /// Records the policy that handled the call (`None`: not a compiled-in id).
    pub fn set_policy(&self, policy: Option<PolicyId>) {
        let id = policy.map(|p| p.meta().id);
        self.update(|f| f.policy = id);
    }

    /// Adds what a stream answered since the last report: `items` answers,
    /// `errors` of them errors, and the decisions of the others.
    pub fn add_stream_items(&self, items: u64, errors: u64, decisions: DecisionTally) {
        self.update(|f| {
            let stream = f.stream.get_or_insert_with(StreamFacts::default);
            stream.items += items;
            stream.errors += errors;
            stream.decisions.merge(decisions);
        });
    }

    /// Takes the stream decisions reported so far and not yet taken.
    pub fn take_stream_decisions(&self) -> DecisionTally {
        let mut taken = DecisionTally::default();
        self.update(|f| {
            if let Some(stream) = f.stream.as_mut() {
                taken = std::mem::take(&mut stream.decisions);
            }
        });
        taken
    }

    /// Records the decision of an EvaluateClaim call.
    pub fn set_decision(&self, decision: Decision) {
        self.update(|f| f.decision = Some(decision_label(decision)));
    }

    /// Records an EvaluateClaim decision for the metrics and the decision
    /// log, with its id and amount as the response carries them.
    pub fn set_decided(&self, outcome: &Outcome, policy: &PolicyMeta, decision_id: &str, amount: &str) {
        let decided = Decided {
            decision_id: Inline::new(decision_id),
            policy_version: policy.version,
            rules_edition: RULES_EDITION,
            amount: Inline::new(amount),
            currency: outcome.refund_amount.currency(),
            reasons: ReasonCodes(outcome.reasons),
        };
        self.update(|f| {
            f.decision = Some(decision_label(outcome.decision));
            f.decided = Some(decided);
        });
    }
}

/// The metrics and log label of a decision: the wire enum's name without its
/// `DECISION_` prefix, so dashboards read the same words as clients.
pub fn decision_label(decision: Decision) -> &'static str {
    match decision {
        Decision::Approved => "APPROVED",
        Decision::PartiallyApproved => "PARTIALLY_APPROVED",
        Decision::Denied => "DENIED",
        Decision::NeedsReview => "NEEDS_REVIEW",
        Decision::NeedsInformation => "NEEDS_INFORMATION",
        Decision::OfferCompensation => "OFFER_COMPENSATION",
    }
}

/// A request id is logged only when it looks like an opaque identifier, so a
/// caller who puts an email address or a name there does not leak it to logs.
fn loggable_request_id(id: &str) -> Option<&str> {
    let opaque = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/' | b'+' | b'='));
    opaque.then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_that_could_hold_personal_data_are_not_logged() {
        assert_eq!(loggable_request_id("req-42_a.b:c"), Some("req-42_a.b:c"));
        assert_eq!(loggable_request_id("jane.doe@example.com"), None);
        assert_eq!(loggable_request_id("Jane Doe"), None);
        assert_eq!(loggable_request_id(""), None);
        assert_eq!(loggable_request_id(&"a".repeat(129)), None);
    }

    #[test]
    fn inline_texts_keep_what_fits() {
        let id = "85f9e977bcb7b721cf1e61bf1232c78f8102cdf04fa8efe72efd30cf9ffd543d";
        assert_eq!(Inline::new(id).to_string(), id);
        assert_eq!(Inline::new("29.99").as_str(), "29.99");
        assert_eq!(Inline::new("").as_str(), "");
        assert_eq!(Inline::new(&"9".repeat(65)).as_str(), "-");
    }

    #[test]
    fn only_compiled_in_policies_are_recorded() {
        let facts = CallFacts::default();
        facts.set_policy(PolicyId::from_id("not-a-policy"));
        assert_eq!(facts.take().policy, None);
        facts.set_policy(PolicyId::from_id("iptv-smarters-pro"));
        facts.set_decision(Decision::PartiallyApproved);
        let taken = facts.take();
        assert_eq!(taken.policy, Some("iptv-smarters-pro"));
        assert_eq!(taken.decision, Some("PARTIALLY_APPROVED"));
        assert_eq!(facts.take(), Facts::default(), "taking empties the slot");
    }
}
