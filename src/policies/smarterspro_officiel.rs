//! `smarterspro-officiel` (`smarterspro-officiel.txt`). Not yet encoded: every claim goes to manual review
//! until the rules of POLICY_RULINGS.md are written here.

use crate::domain::calendar::Calendar;
use crate::domain::claim::{ClaimRequest, Language, QuoteRequest};
use crate::domain::decision::{Outcome, ReasonDef, RefundBasis, Timeline};
use crate::domain::term::Term;

use super::common;
use super::{PolicyMeta, Segment, Segments};

static TERMS_VIOLATION: ReasonDef = ReasonDef {
    clause: "-",
    ..common::TERMS_VIOLATION
};
static POLICY_SILENT: ReasonDef = ReasonDef {
    clause: "-",
    ..common::POLICY_SILENT_MANUAL_REVIEW
};

pub static META: PolicyMeta = PolicyMeta {
    id: "smarterspro-officiel",
    version: "undated",
    title: "SmartersPro Officiel Refund Policy",
    merchant: "SmartersPro Officiel",
    source_language: Language::En,
    calendar: Calendar::PARIS_FRENCH_HOLIDAYS,
    catalog: &[&TERMS_VIOLATION, &POLICY_SILENT],
    terms_violation: &TERMS_VIOLATION,
};

pub fn evaluate(req: &ClaimRequest) -> Outcome {
    common::silent(&POLICY_SILENT, req)
}

pub fn timeline(_req: &ClaimRequest, _out: &Outcome) -> Timeline {
    Timeline::default()
}

pub fn quote(_req: &QuoteRequest, _term: Option<Term>) -> Segments {
    let mut segments = Segments::new();
    segments.push(Segment {
        until: None,
        basis: RefundBasis::None,
        reason: &POLICY_SILENT,
    });
    segments
}
