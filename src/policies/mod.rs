//! The compiled-in merchant policies and the registry that maps ids to them.
//!
//! Each policy is one module that reads top to bottom like its ruling in
//! `POLICY_RULINGS.md`. A module provides:
//! - `META`: id, version, title, merchant, language, calendar, reason catalog;
//! - `evaluate(&ClaimRequest, &mut impl Trace) -> Outcome`: the policy's own
//!   rules, telling the tracer each rule it considers (the engine
//!   has already applied the terms-violation exclusion and applies the
//!   statutory floor after);
//! - `timeline(&ClaimRequest, &Outcome) -> Timeline`: the merchant's promised
//!   dates for that outcome;
//! - `quote(&QuoteRequest, Option<Term>) -> Segments`: the policy's refund
//!   schedule from purchase to the end of the term.

pub mod common;
pub mod iptv_reseller;
pub mod iptv_smarters_pro;
pub mod iptvsmartersprohub_fr;
pub mod official_smarters_7day;
pub mod smarterspro_officiel;
pub mod statutory;

use chrono::{DateTime, Utc};

use crate::domain::calendar::Calendar;
use crate::domain::claim::{ClaimRequest, CustomerType, Language, QuoteRequest};
use crate::domain::decision::{Consequence, Outcome, Reason, RefundBasis, Timeline};
use crate::domain::list::List;
use crate::domain::term::Term;
use crate::domain::trace::Trace;

/// The edition of `POLICY_RULINGS.md` the rules implement, reported in every
/// `PolicyRef` so that a stored decision can be traced to the rules in force.
pub const RULES_EDITION: &str = "2026-12-02";

/// What a policy publishes about itself.
#[derive(Debug)]
pub struct PolicyMeta {
    pub id: &'static str,
    /// The policy text's own date where it has one.
    pub version: &'static str,
    pub title: &'static str,
    pub merchant: &'static str,
    /// Language of the policy text; answers default to it when no locale is given.
    pub source_language: Language,
    pub calendar: Calendar,
    /// Every reason code the policy's rules can return (the statutory floor's
    /// reason is added by the engine).
    pub catalog: &'static [Reason],
    /// The reason for `claim.terms_violation`, which every policy denies first.
    pub terms_violation: Reason,
    /// What the policy does to the account on a terms violation, if anything.
    pub terms_violation_consequence: Option<Consequence>,
    /// What an UNSPECIFIED `customer_type` means under this policy: a
    /// consumer, except for a policy whose customers are traders.
    pub unspecified_customer: CustomerType,
}

/// One stretch of a refund schedule, ending at `until` (inclusive; `None`: open-ended).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub until: Option<DateTime<Utc>>,
    pub basis: RefundBasis,
    pub reason: Reason,
}

pub type Segments = List<Segment, 8>;

/// Declares the registry from one list: the `PolicyId` enum, `PolicyId::ALL`
/// (in the order ListPolicies returns them) and the dispatch to each module's
/// `META`, `evaluate`, `timeline` and `quote`. Adding a policy is one line here
/// (plus its module): nothing can be half-registered.
macro_rules! registry {
    ($($variant:ident => $module:ident),+ $(,)?) => {
        /// The compiled-in policies.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum PolicyId {
            $($variant),+
        }

        impl PolicyId {
            /// Every policy, in the order ListPolicies returns them.
            pub const ALL: &'static [PolicyId] = &[$(PolicyId::$variant),+];

            pub fn meta(self) -> &'static PolicyMeta {
                match self {
                    $(PolicyId::$variant => &$module::META),+
                }
            }

            pub fn evaluate<'r>(self, req: &'r ClaimRequest, t: &mut impl Trace<'r>) -> Outcome {
                match self {
                    $(PolicyId::$variant => $module::evaluate(req, t)),+
                }
            }

            pub fn timeline(self, req: &ClaimRequest, out: &Outcome) -> Timeline {
                match self {
                    $(PolicyId::$variant => $module::timeline(req, out)),+
                }
            }

            pub fn quote(self, req: &QuoteRequest, term: Option<Term>) -> Segments {
                match self {
                    $(PolicyId::$variant => $module::quote(req, term)),+
                }
            }
        }
    };
}

registry! {
    IptvReseller => iptv_reseller,
    IptvSmartersPro => iptv_smarters_pro,
    OfficialSmarters7Day => official_smarters_7day,
    SmartersproOfficiel => smarterspro_officiel,
    IptvSmartersproHubFr => iptvsmartersprohub_fr,
}

impl PolicyId {
    pub fn from_id(id: &str) -> Option<PolicyId> {
        PolicyId::ALL.iter().copied().find(|p| p.meta().id == id)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_catalog_is_complete_and_unique() {
        let mut ids = BTreeSet::new();
        for p in PolicyId::ALL {
            let meta = p.meta();
            assert!(ids.insert(meta.id), "policy id {} twice", meta.id);
            assert_eq!(PolicyId::from_id(meta.id), Some(*p));
            let mut codes = BTreeSet::new();
            for r in meta.catalog {
                assert!(codes.insert(r.code), "{}: {} twice", meta.id, r.code);
                assert!(
                    !r.clause.is_empty() && !r.en.is_empty() && !r.fr.is_empty(),
                    "{}: {} lacks a clause or a message",
                    meta.id,
                    r.code
                );
                assert!(
                    r.code
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
                    "{}: {} is not UPPER_SNAKE",
                    meta.id,
                    r.code
                );
            }
            assert!(
                meta.catalog.iter().any(|r| std::ptr::eq(*r, meta.terms_violation)),
                "{}: the terms-violation reason is not in the catalog",
                meta.id
            );
        }
        assert_eq!(PolicyId::from_id("no-such-policy"), None);
    }
}
