//! The case-corpus format and its checker, shared by the test runners.
//!
//! A corpus file (`tests/cases/<policy>.json`) holds `defaults` (a partial
//! EvaluateClaimRequest in the proto3 JSON mapping), `cases` (each a partial
//! request deep-merged over the defaults, `null` removing a default, and its
//! expected answer) and `quotes` (QuoteRefund requests and answers). Unknown
//! keys anywhere are errors.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use refund_eligibility::domain::decision::{Compensation, Consequence, Decision, Reason, Window};
use refund_eligibility::domain::list::List;
use refund_eligibility::domain::money::{Currency, Money};
use refund_eligibility::engine;
use refund_eligibility::grpc::decode::{self, RequestError};
use refund_eligibility::grpc::service;
use refund_eligibility::json;
use refund_eligibility::pb;
use refund_eligibility::policies::common;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Corpus {
    pub policy_id: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub defaults: Value,
    #[serde(default)]
    pub quote_defaults: Value,
    pub cases: Vec<Case>,
    #[serde(default)]
    pub quotes: Vec<QuoteCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    /// The rule or clause the case exercises, for the reader.
    #[serde(default)]
    pub rule: String,
    #[serde(default)]
    pub request: Value,
    pub expect: Expect,
    /// Also quote the same purchase at `evaluated_at` and require the same amount.
    #[serde(default)]
    pub quote_consistent: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub decision: Option<String>,
    pub refund_amount: Option<String>,
    pub reasons: Option<Vec<String>>,
    pub refund_method: Option<String>,
    pub missing_information: Option<Vec<String>>,
    /// A timestamp, or null to require it unset.
    #[serde(default, deserialize_with = "some_value")]
    pub resubmit_after: Option<Value>,
    #[serde(default, deserialize_with = "some_value")]
    pub claim_deadline: Option<Value>,
    pub alternatives: Option<Vec<ExpectAlternative>>,
    pub consequences: Option<Vec<String>>,
    pub timeline: Option<ExpectTimeline>,
    pub clauses: Option<Vec<String>>,
    pub language: Option<String>,
    #[serde(default)]
    pub explanation_contains: Vec<String>,
    pub error: Option<ExpectError>,
}

fn some_value<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectAlternative {
    pub kind: String,
    pub extension_days: Option<u32>,
    pub bonus_days: Option<u32>,
    pub bonus_negotiable: Option<bool>,
    pub amount: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectTimeline {
    #[serde(default, deserialize_with = "some_value")]
    pub acknowledge_by: Option<Value>,
    #[serde(default, deserialize_with = "some_value")]
    pub decide_by: Option<Value>,
    #[serde(default, deserialize_with = "some_value")]
    pub funds_earliest: Option<Value>,
    #[serde(default, deserialize_with = "some_value")]
    pub funds_latest: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectError {
    /// "INVALID_ARGUMENT" or "NOT_FOUND".
    pub code: String,
    /// The BadRequest field paths, in any order.
    #[serde(default)]
    pub fields: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteCase {
    pub name: String,
    #[serde(default)]
    pub rule: String,
    #[serde(default)]
    pub request: Value,
    pub expect: ExpectQuote,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectQuote {
    pub refundable_now: String,
    pub basis: String,
    pub unused_fraction: Option<String>,
    pub reasons: Option<Vec<String>>,
    pub schedule: Option<Vec<ExpectWindow>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectWindow {
    pub starts_at: String,
    /// null: open-ended.
    pub ends_at: Option<String>,
    pub basis: String,
    pub amount_at_start: String,
    pub reason: String,
}

#[path = "../shared/corpus.rs"]
mod corpus;

pub fn cases_dir() -> PathBuf {
    corpus::cases_dir_of(env!("CARGO_MANIFEST_DIR"))
}

fn ts(v: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v)
        .unwrap_or_else(|e| panic!("bad timestamp {v:?} in a case: {e}"))
        .with_timezone(&Utc)
}

fn pb_ts(t: &Option<prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    t.as_ref()
        .and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos as u32))
}

fn check_time(errors: &mut Vec<String>, what: &str, expected: &Option<Value>, got: &Option<prost_types::Timestamp>) {
    let Some(expected) = expected else { return };
    let got = pb_ts(got);
    let want = match expected {
        Value::Null => None,
        Value::String(s) => Some(ts(s)),
        other => panic!("{what}: expected a timestamp string or null, got {other}"),
    };
    if got != want {
        errors.push(format!("{what}: expected {want:?}, got {got:?}"));
    }
}

fn enum_name<E: TryFrom<i32> + std::fmt::Debug>(v: i32, as_str: impl Fn(E) -> &'static str) -> String {
    E::try_from(v)
        .map(|e| as_str(e).to_owned())
        .unwrap_or_else(|_| format!("<{v}>"))
}

/// "DECISION_APPROVED" -> "APPROVED" for a given prefix.
fn strip<'a>(name: &'a str, prefix: &str) -> &'a str {
    name.strip_prefix(prefix).unwrap_or(name)
}

/// A case's request: the case over the corpus defaults, the corpus's policy
/// unless the case names one.
pub fn case_request(corpus: &Corpus, case: &Case) -> pb::EvaluateClaimRequest {
    let request = corpus::case_request(&corpus.policy_id, &corpus.defaults, &case.request);
    json::from_value(&request).unwrap_or_else(|e| panic!("case {:?}: request does not parse: {e}", case.name))
}

/// A quote's request: the corpus's default purchase, then `quote_defaults`,
/// then the quote's own request.
pub fn quote_request(corpus: &Corpus, case: &QuoteCase) -> pb::QuoteRefundRequest {
    let request = corpus::quote_request(
        &corpus.policy_id,
        &corpus.defaults,
        &corpus.quote_defaults,
        &case.request,
    );
    json::from_value(&request).unwrap_or_else(|e| panic!("quote {:?}: request does not parse: {e}", case.name))
}

/// Runs every case of a corpus; returns the reason codes the answers used.
pub fn run_corpus(file: &str) -> (Corpus, BTreeSet<String>) {
    let path = cases_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let corpus: Corpus = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut failures = Vec::new();
    let mut seen = BTreeSet::new();
    let mut names = BTreeSet::new();
    let now = ts("2030-01-01T00:00:00Z");
    for case in &corpus.cases {
        assert!(names.insert(case.name.clone()), "duplicate case name {:?}", case.name);
        let req = case_request(&corpus, case);
        let errors = check_case(case, req.clone(), now, &mut seen);
        if !errors.is_empty() {
            failures.push(format!("case {:?}:\n    {}", case.name, errors.join("\n    ")));
        }
        if case.quote_consistent {
            let q = pb::QuoteRefundRequest {
                policy_id: req.policy_id.clone(),
                purchase: req.purchase.clone(),
                as_of: req.evaluated_at,
                locale: req.locale.clone(),
            };
            let quoted = service::quote(q, now).map(|r| r.refundable_now.map(|m| m.amount));
            let paid = service::evaluate(req, now).map(|r| r.refund_amount.map(|m| m.amount));
            match (quoted, paid) {
                (Ok(q), Ok(p)) if q == p => {}
                (q, p) => failures.push(format!("case {:?}: quote {q:?} != evaluate {p:?}", case.name)),
            }
        }
    }
    for case in &corpus.quotes {
        assert!(names.insert(case.name.clone()), "duplicate case name {:?}", case.name);
        let req = quote_request(&corpus, case);
        let errors = check_quote(case, req, now, &mut seen);
        if !errors.is_empty() {
            failures.push(format!("quote {:?}:\n    {}", case.name, errors.join("\n    ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed in {file}:\n{}",
        failures.len(),
        corpus.cases.len() + corpus.quotes.len(),
        failures.join("\n")
    );
    (corpus, seen)
}

fn check_case(
    case: &Case,
    req: pb::EvaluateClaimRequest,
    now: DateTime<Utc>,
    seen: &mut BTreeSet<String>,
) -> Vec<String> {
    let mut errors = Vec::new();
    let e = &case.expect;
    let result = service::evaluate(req, now);
    let resp = match (result, &e.error) {
        (Err(err), Some(want)) => {
            let (code, fields) = match &err {
                RequestError::Invalid(v) => (
                    "INVALID_ARGUMENT",
                    v.iter().map(|f| f.field.clone()).collect::<BTreeSet<_>>(),
                ),
                RequestError::PolicyNotFound(_) => ("NOT_FOUND", BTreeSet::new()),
            };
            if code != want.code {
                errors.push(format!("error code: expected {}, got {code} ({err})", want.code));
            }
            let want_fields: BTreeSet<_> = want.fields.iter().cloned().collect();
            if fields != want_fields {
                errors.push(format!("error fields: expected {want_fields:?}, got {fields:?}"));
            }
            return errors;
        }
        (Err(err), None) => {
            errors.push(format!("unexpected error: {err}"));
            return errors;
        }
        (Ok(resp), Some(want)) => {
            errors.push(format!(
                "expected error {}, got decision {:?}",
                want.code,
                resp.decision()
            ));
            return errors;
        }
        (Ok(resp), None) => resp,
    };
    for r in &resp.reasons {
        seen.insert(r.code.clone());
    }
    let decision = strip(resp.decision().as_str_name(), "DECISION_").to_owned();
    match &e.decision {
        Some(d) if *d == decision => {}
        Some(d) => errors.push(format!("decision: expected {d}, got {decision}")),
        None => errors.push("expect.decision is required".into()),
    }
    let amount = resp
        .refund_amount
        .as_ref()
        .map(|m| m.amount.clone())
        .unwrap_or_default();
    match &e.refund_amount {
        Some(a) if *a == amount => {}
        Some(a) => errors.push(format!("refund_amount: expected {a}, got {amount}")),
        None => errors.push("expect.refund_amount is required".into()),
    }
    let codes: Vec<String> = resp.reasons.iter().map(|r| r.code.clone()).collect();
    match &e.reasons {
        Some(r) if *r == codes => {}
        Some(r) => errors.push(format!("reasons: expected {r:?}, got {codes:?}")),
        None => errors.push("expect.reasons is required".into()),
    }
    if let Some(m) = &e.refund_method {
        let got = strip(resp.refund_method().as_str_name(), "REFUND_METHOD_").to_owned();
        if *m != got {
            errors.push(format!("refund_method: expected {m}, got {got}"));
        }
    }
    if let Some(m) = &e.missing_information {
        if *m != resp.missing_information {
            errors.push(format!(
                "missing_information: expected {m:?}, got {:?}",
                resp.missing_information
            ));
        }
    }
    check_time(&mut errors, "resubmit_after", &e.resubmit_after, &resp.resubmit_after);
    check_time(&mut errors, "claim_deadline", &e.claim_deadline, &resp.claim_deadline);
    if let Some(alts) = &e.alternatives {
        let got = &resp.alternatives;
        if alts.len() != got.len() {
            errors.push(format!(
                "alternatives: expected {}, got {}: {got:?}",
                alts.len(),
                got.len()
            ));
        }
        for (want, got) in alts.iter().zip(got) {
            let kind = strip(got.kind().as_str_name(), "COMPENSATION_KIND_").to_owned();
            if want.kind != kind {
                errors.push(format!("alternative kind: expected {}, got {kind}", want.kind));
            }
            if want.extension_days.is_some_and(|d| d != got.extension_days) {
                errors.push(format!(
                    "extension_days: expected {:?}, got {}",
                    want.extension_days, got.extension_days
                ));
            }
            if want.bonus_days.is_some_and(|d| d != got.bonus_days) {
                errors.push(format!(
                    "bonus_days: expected {:?}, got {}",
                    want.bonus_days, got.bonus_days
                ));
            }
            if want.bonus_negotiable.is_some_and(|b| b != got.bonus_negotiable) {
                errors.push(format!(
                    "bonus_negotiable: expected {:?}, got {}",
                    want.bonus_negotiable, got.bonus_negotiable
                ));
            }
            let got_amount = got.amount.as_ref().map(|m| m.amount.clone());
            if want.amount.is_some() && want.amount != got_amount {
                errors.push(format!(
                    "alternative amount: expected {:?}, got {got_amount:?}",
                    want.amount
                ));
            }
            if got.description.is_empty() {
                errors.push("alternative description is empty".into());
            }
        }
    }
    if let Some(c) = &e.consequences {
        let got: Vec<String> = resp
            .consequences
            .iter()
            .map(|v| enum_name::<pb::Consequence>(*v, |e| e.as_str_name()))
            .map(|s| strip(&s, "CONSEQUENCE_").to_owned())
            .collect();
        if *c != got {
            errors.push(format!("consequences: expected {c:?}, got {got:?}"));
        }
    }
    if let Some(t) = &e.timeline {
        let got = resp.timeline.unwrap_or_default();
        check_time(
            &mut errors,
            "timeline.acknowledge_by",
            &t.acknowledge_by,
            &got.acknowledge_by,
        );
        check_time(&mut errors, "timeline.decide_by", &t.decide_by, &got.decide_by);
        check_time(
            &mut errors,
            "timeline.funds_earliest",
            &t.funds_earliest,
            &got.funds_earliest,
        );
        check_time(&mut errors, "timeline.funds_latest", &t.funds_latest, &got.funds_latest);
    }
    if let Some(clauses) = &e.clauses {
        let got: Vec<String> = resp.reasons.iter().map(|r| r.clause.clone()).collect();
        if *clauses != got {
            errors.push(format!("clauses: expected {clauses:?}, got {got:?}"));
        }
    }
    if let Some(lang) = &e.language {
        let french = resp.explanation.starts_with(|c: char| "ARIÀP".contains(c))
            && (resp.explanation.contains(" : ") || resp.explanation.contains("Informations"));
        let got = if french { "fr" } else { "en" };
        if got != lang {
            errors.push(format!("language: expected {lang}, got {got}: {}", resp.explanation));
        }
    }
    for needle in &e.explanation_contains {
        if !resp.explanation.contains(needle.as_str()) {
            errors.push(format!("explanation lacks {needle:?}: {}", resp.explanation));
        }
    }
    if resp.reasons.iter().any(|r| r.clause.is_empty() || r.message.is_empty()) {
        errors.push(format!("a reason lacks its clause or message: {:?}", resp.reasons));
    }
    errors
}

fn check_quote(
    case: &QuoteCase,
    req: pb::QuoteRefundRequest,
    now: DateTime<Utc>,
    seen: &mut BTreeSet<String>,
) -> Vec<String> {
    let mut errors = Vec::new();
    let e = &case.expect;
    let resp = match service::quote(req, now) {
        Ok(r) => r,
        Err(err) => return vec![format!("unexpected error: {err}")],
    };
    for r in &resp.reasons {
        seen.insert(r.code.clone());
    }
    for w in &resp.schedule {
        if let Some(r) = &w.reason {
            seen.insert(r.code.clone());
        }
    }
    let now_amount = resp
        .refundable_now
        .as_ref()
        .map(|m| m.amount.clone())
        .unwrap_or_default();
    if now_amount != e.refundable_now {
        errors.push(format!(
            "refundable_now: expected {}, got {now_amount}",
            e.refundable_now
        ));
    }
    let basis = strip(resp.basis().as_str_name(), "REFUND_BASIS_").to_owned();
    if basis != e.basis {
        errors.push(format!("basis: expected {}, got {basis}", e.basis));
    }
    if let Some(f) = &e.unused_fraction {
        if *f != resp.unused_fraction {
            errors.push(format!("unused_fraction: expected {f}, got {}", resp.unused_fraction));
        }
    }
    if let Some(r) = &e.reasons {
        let got: Vec<String> = resp.reasons.iter().map(|r| r.code.clone()).collect();
        if *r != got {
            errors.push(format!("reasons: expected {r:?}, got {got:?}"));
        }
    }
    if let Some(schedule) = &e.schedule {
        if schedule.len() != resp.schedule.len() {
            errors.push(format!(
                "schedule: expected {} windows, got {}",
                schedule.len(),
                resp.schedule.len()
            ));
        }
        for (i, (want, got)) in schedule.iter().zip(&resp.schedule).enumerate() {
            let starts = pb_ts(&got.starts_at);
            let ends = pb_ts(&got.ends_at);
            let basis = strip(got.basis().as_str_name(), "REFUND_BASIS_").to_owned();
            let amount = got
                .amount_at_start
                .as_ref()
                .map(|m| m.amount.clone())
                .unwrap_or_default();
            let reason = got.reason.as_ref().map(|r| r.code.clone()).unwrap_or_default();
            if starts != Some(ts(&want.starts_at))
                || ends != want.ends_at.as_deref().map(ts)
                || basis != want.basis
                || amount != want.amount_at_start
                || reason != want.reason
            {
                errors.push(format!(
                    "window {i}: expected {} .. {:?} {} {} {}, got {starts:?} .. {ends:?} {basis} {amount} {reason}",
                    want.starts_at, want.ends_at, want.basis, want.amount_at_start, want.reason
                ));
            }
        }
    }
    // Structural: windows in order, each starting where the previous ended.
    for pair in resp.schedule.windows(2) {
        if pair[0].ends_at != pair[1].starts_at {
            errors.push(format!(
                "schedule has a gap or overlap: {:?} then {:?}",
                pair[0].ends_at, pair[1].starts_at
            ));
        }
    }
    errors
}

/// `amount` times 7e13 from the largest amount validation accepts: about
/// 7e28, inside `Decimal` but past any product with the seconds of a term.
/// Validation keeps such amounts off the wire, so only the library API
/// reaches the engine's overflow answers.
pub fn past_decimal_range(currency: Currency) -> Money {
    Money::parse(currency, "999999999999999")
        .unwrap()
        .scaled(70_000_000_000_000, 1)
        .unwrap()
}

/// Runs every valid case and quote of a corpus through the engine twice, as
/// decoded and with the amount paid [`past_decimal_range`], and returns the
/// reason codes the second run used. Checks on every answer that no inline
/// list reaches its capacity (a full list is a bug the debug assertions in
/// `List` catch; this keeps headroom visible), and on every answer that
/// says `AMOUNT_NOT_COMPUTABLE` that it pays nothing and is held for review
/// (or for information first).
pub fn run_corpus_through_engine(corpus: &Corpus) -> BTreeSet<String> {
    let now = ts("2030-01-01T00:00:00Z");
    let mut seen = BTreeSet::new();
    let uncomputable = common::AMOUNT_NOT_COMPUTABLE.code;
    for case in &corpus.cases {
        let Ok(input) = decode::decode_evaluate(case_request(corpus, case), now) else {
            continue;
        };
        let mut inflated = input.request.clone();
        inflated.purchase.amount_paid = past_decimal_range(inflated.purchase.amount_paid.currency());
        for (past_range, req) in [(false, &input.request), (true, &inflated)] {
            let out = engine::evaluate(input.policy, req);
            let what = format!("case {:?} (amount past range: {past_range})", case.name);
            assert_headroom(&what, out.alternatives.len(), List::<Compensation, 4>::CAPACITY);
            assert_headroom(&what, out.reasons.len(), List::<Reason, 6>::CAPACITY);
            assert_headroom(&what, out.missing_information.len(), List::<&str, 8>::CAPACITY);
            assert_headroom(&what, out.consequences.len(), List::<Consequence, 3>::CAPACITY);
            if out.reasons.iter().any(|r| r.code == uncomputable) {
                assert!(
                    out.refund_amount.is_zero()
                        && matches!(out.decision, Decision::NeedsReview | Decision::NeedsInformation),
                    "{what}: {uncomputable} with {:?} paying {}",
                    out.decision,
                    out.refund_amount
                );
            }
            if past_range {
                seen.extend(out.reasons.iter().map(|r| r.code.to_owned()));
            }
        }
    }
    for case in &corpus.quotes {
        let Ok(input) = decode::decode_quote(quote_request(corpus, case), now) else {
            continue;
        };
        let mut inflated = input.request.clone();
        inflated.purchase.amount_paid = past_decimal_range(inflated.purchase.amount_paid.currency());
        for (past_range, req) in [(false, &input.request), (true, &inflated)] {
            let q = engine::quote(input.policy, req);
            let what = format!("quote {:?} (amount past range: {past_range})", case.name);
            assert_headroom(&what, q.schedule.len(), List::<Window, 8>::CAPACITY);
            assert_headroom(&what, q.reasons.len(), List::<Reason, 3>::CAPACITY);
            if past_range {
                seen.extend(q.reasons.iter().map(|r| r.code.to_owned()));
            }
        }
    }
    seen
}

fn assert_headroom(what: &str, len: usize, capacity: usize) {
    assert!(len < capacity, "{what}: a list of capacity {capacity} holds {len}");
}
