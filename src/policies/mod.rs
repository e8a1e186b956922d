//! The compiled-in merchant policies and the registry that maps ids to them.
//!
//! Each policy is one module that reads top to bottom like its ruling in
//! `POLICY_RULINGS.md`. A module provides:
//! - `META`: id, version, title, merchant, language, calendar, reason catalog;
//! - `evaluate(&ClaimRequest) -> Outcome`: the policy's own rules (the engine
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
use crate::domain::claim::{ClaimRequest, Language, QuoteRequest};
use crate::domain::decision::{Outcome, Reason, RefundBasis, Timeline};
use crate::domain::list::List;
use crate::domain::term::Term;

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
}

/// One stretch of a refund schedule, ending at `until` (inclusive; `None`: open-ended).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub until: Option<DateTime<Utc>>,
    pub basis: RefundBasis,
    pub reason: Reason,
}

pub type Segments = List<Segment, 5>;

/// The compiled-in policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyId {
    IptvReseller,
    IptvSmartersPro,
    OfficialSmarters7Day,
    SmartersproOfficiel,
    IptvSmartersproHubFr,
}

impl PolicyId {
    /// Every policy, in the order ListPolicies returns them.
    pub const ALL: &'static [PolicyId] = &[
        PolicyId::IptvReseller,
        PolicyId::IptvSmartersPro,
        PolicyId::OfficialSmarters7Day,
        PolicyId::SmartersproOfficiel,
        PolicyId::IptvSmartersproHubFr,
    ];

    pub fn from_id(id: &str) -> Option<PolicyId> {
        PolicyId::ALL.iter().copied().find(|p| p.meta().id == id)
    }

    pub fn meta(self) -> &'static PolicyMeta {
        match self {
            PolicyId::IptvReseller => &iptv_reseller::META,
            PolicyId::IptvSmartersPro => &iptv_smarters_pro::META,
            PolicyId::OfficialSmarters7Day => &official_smarters_7day::META,
            PolicyId::SmartersproOfficiel => &smarterspro_officiel::META,
            PolicyId::IptvSmartersproHubFr => &iptvsmartersprohub_fr::META,
        }
    }

    pub fn evaluate(self, req: &ClaimRequest) -> Outcome {
        match self {
            PolicyId::IptvReseller => iptv_reseller::evaluate(req),
            PolicyId::IptvSmartersPro => iptv_smarters_pro::evaluate(req),
            PolicyId::OfficialSmarters7Day => official_smarters_7day::evaluate(req),
            PolicyId::SmartersproOfficiel => smarterspro_officiel::evaluate(req),
            PolicyId::IptvSmartersproHubFr => iptvsmartersprohub_fr::evaluate(req),
        }
    }

    pub fn timeline(self, req: &ClaimRequest, out: &Outcome) -> Timeline {
        match self {
            PolicyId::IptvReseller => iptv_reseller::timeline(req, out),
            PolicyId::IptvSmartersPro => iptv_smarters_pro::timeline(req, out),
            PolicyId::OfficialSmarters7Day => official_smarters_7day::timeline(req, out),
            PolicyId::SmartersproOfficiel => smarterspro_officiel::timeline(req, out),
            PolicyId::IptvSmartersproHubFr => iptvsmartersprohub_fr::timeline(req, out),
        }
    }

    pub fn quote(self, req: &QuoteRequest, term: Option<Term>) -> Segments {
        match self {
            PolicyId::IptvReseller => iptv_reseller::quote(req, term),
            PolicyId::IptvSmartersPro => iptv_smarters_pro::quote(req, term),
            PolicyId::OfficialSmarters7Day => official_smarters_7day::quote(req, term),
            PolicyId::SmartersproOfficiel => smarterspro_officiel::quote(req, term),
            PolicyId::IptvSmartersproHubFr => iptvsmartersprohub_fr::quote(req, term),
        }
    }
}
