//! The Rego peer of `iptv-smarters-pro`: the same ruling written as a Rego
//! policy (`policy/iptv_smarters_pro.rego`), compiled once and evaluated by
//! regorus over the same validated claims the service evaluates.
//!
//! Both sides are reduced to a [`Verdict`] (decision, amount in minor units,
//! reason codes, missing fields) so a differential test can compare them and
//! a benchmark can time them on equal terms: the claim is decoded and
//! validated once, outside the timed loop, for both.
//!
//! The statutory withdrawal period depends on a holiday calendar of ~37
//! countries compiled into the service; the Rego policy does not re-implement
//! it: [`input_json`] passes the period's end computed by the service's
//! `domain::withdrawal::period` as `withdrawal_period_ends_before`, an input
//! like the current time.

use std::path::Path;

use chrono::{DateTime, Utc};
use refund_eligibility::domain::claim::ClaimRequest;
use refund_eligibility::domain::decision::Outcome;
use refund_eligibility::domain::money::Money;
use refund_eligibility::domain::term::Term;
use refund_eligibility::domain::withdrawal;
use refund_eligibility::grpc::decode;
use refund_eligibility::{json, pb};
use regorus::{CompiledPolicy, Engine, Value};
use serde_json::{json, Map};

/// The Rego source of the policy.
pub const POLICY: &str = include_str!("../policy/iptv_smarters_pro.rego");
/// The rule whose value is the answer.
pub const ENTRYPOINT: &str = "data.refund.iptv_smarters_pro.result";
/// The policy id both sides implement.
pub const POLICY_ID: &str = "iptv-smarters-pro";

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// What both engines are compared on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// "APPROVED", "PARTIALLY_APPROVED", "DENIED", ...
    pub decision: String,
    /// The refund amount in the currency's minor unit.
    pub amount_minor: i128,
    /// Reason codes, primary first.
    pub reasons: Vec<String>,
    /// Request field paths missing, sorted.
    pub missing: Vec<String>,
}

/// regorus with the policy parsed and compiled once; both ways of evaluating
/// it are kept (the benchmark times both and reports the faster).
pub struct RegoPeer {
    engine: Engine,
    compiled: CompiledPolicy,
    entrypoint: String,
}

impl RegoPeer {
    pub fn new() -> Result<RegoPeer, Error> {
        let mut engine = Engine::new();
        engine.add_policy("iptv_smarters_pro.rego".to_owned(), POLICY.to_owned())?;
        let compiled = engine.compile_with_entrypoint(&ENTRYPOINT.into())?;
        // Prepare the reused engine once (parsing, scheduling) with a real input.
        Ok(RegoPeer {
            engine,
            compiled,
            entrypoint: ENTRYPOINT.to_owned(),
        })
    }

    /// The reused engine: set the input, evaluate the entry point.
    pub fn eval_engine(&mut self, input: Value) -> Result<Value, Error> {
        self.engine.set_input(input);
        Ok(self.engine.eval_rule(self.entrypoint.clone())?)
    }

    /// The compiled policy (`CompiledPolicy::eval_with_input`).
    pub fn eval_compiled(&self, input: Value) -> Result<Value, Error> {
        Ok(self.compiled.eval_with_input(input)?)
    }

    /// Evaluates one claim and reads the verdict.
    pub fn verdict(&mut self, req: &ClaimRequest) -> Result<Verdict, Error> {
        let value = self.eval_engine(input(req))?;
        verdict_of_rego(&value)
    }
}

/// An amount in its currency's minor unit (29.99 EUR -> 2999).
pub fn minor_units(m: Money) -> i128 {
    m.rounded().amount().mantissa()
}

fn seconds(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

/// `PartiallyApproved` -> `PARTIALLY_APPROVED`: the proto enum names, less prefix.
pub fn screaming(debug_name: &str) -> String {
    let mut out = String::with_capacity(debug_name.len() + 4);
    for (i, c) in debug_name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

fn name(v: impl std::fmt::Debug) -> String {
    screaming(&format!("{v:?}"))
}

/// The Rego input for a validated claim (see the policy's header for the shape).
pub fn input_json(req: &ClaimRequest) -> serde_json::Value {
    let p = &req.purchase;
    let c = &req.claim;
    let mut purchase = Map::new();
    purchase.insert("order_id".into(), json!(p.order_id));
    purchase.insert("amount_minor".into(), json!(minor_units(p.amount_paid) as i64));
    purchase.insert("purchased_at".into(), json!(seconds(p.purchased_at)));
    if let Some(d) = p.delivered_at {
        purchase.insert("delivered_at".into(), json!(seconds(d)));
    }
    if let Some(term) = Term::new(p.purchased_at, p.delivered_at, p.term_months) {
        purchase.insert("term_start".into(), json!(seconds(term.start)));
        purchase.insert("term_end".into(), json!(seconds(term.end)));
    }
    purchase.insert("customer_type".into(), json!(name(p.customer_type)));
    if let Some(country) = p.customer_country {
        purchase.insert("customer_country".into(), json!(country.code()));
    }
    purchase.insert(
        "express_consent_immediate_performance".into(),
        json!(p.express_consent_immediate_performance),
    );
    purchase.insert(
        "withdrawal_information_given".into(),
        json!(p.withdrawal_information_given),
    );

    let mut claim = Map::new();
    claim.insert("reason".into(), json!(name(c.reason)));
    claim.insert("submitted_at".into(), json!(seconds(c.submitted_at)));
    claim.insert("cause".into(), json!(name(c.cause)));
    if let Some(o) = c.outage {
        claim.insert(
            "outage".into(),
            json!({ "duration": o.duration.num_seconds(), "scope": name(o.scope) }),
        );
    }
    let mut support = Map::new();
    support.insert("contacted".into(), json!(c.support.contacted));
    support.insert("resolved".into(), json!(c.support.resolved));
    if let Some(t) = c.support.first_contacted_at {
        support.insert("first_contacted_at".into(), json!(seconds(t)));
    }
    claim.insert("support".into(), serde_json::Value::Object(support));
    claim.insert("terms_violation".into(), json!(c.terms_violation));
    claim.insert("concerns_adult_content".into(), json!(c.concerns_adult_content));
    for (key, amount) in [
        ("charged_amount", c.charged_amount),
        ("expected_amount", c.expected_amount),
        ("duplicate_amount", c.duplicate_amount),
    ] {
        if let Some(m) = amount {
            claim.insert(key.into(), json!(minor_units(m) as i64));
        }
    }

    let mut input = Map::new();
    input.insert("purchase".into(), serde_json::Value::Object(purchase));
    input.insert("claim".into(), serde_json::Value::Object(claim));
    input.insert("evaluated_at".into(), json!(seconds(req.evaluated_at)));
    if let Some(ends_before) = withdrawal_period_ends_before(req) {
        input.insert("withdrawal_period_ends_before".into(), json!(seconds(ends_before)));
    }
    serde_json::Value::Object(input)
}

/// The end of the consumer's statutory withdrawal period (its first instant
/// after), computed by the service from its holiday calendar: an input of
/// the Rego policy, like the current time. `None` when the customer's
/// country has no withdrawal right (or none is given). Computed from the
/// country whatever the customer type and the claim's reason: who the floor
/// covers is decided in Rego.
pub fn withdrawal_period_ends_before(req: &ClaimRequest) -> Option<DateTime<Utc>> {
    let p = &req.purchase;
    withdrawal::period(p.customer_country?, p.purchased_at, p.withdrawal_information_given)
        .map(|period| period.ends_before)
}

/// The regorus value of [`input_json`].
pub fn input(req: &ClaimRequest) -> Value {
    Value::from(input_json(req))
}

/// Reads the Rego `result` object.
pub fn verdict_of_rego(v: &Value) -> Result<Verdict, Error> {
    if *v == Value::Undefined {
        return Err("the Rego policy left `result` undefined".into());
    }
    let strings = |key: &str| -> Result<Vec<String>, Error> {
        v[key]
            .as_array()?
            .iter()
            .map(|s| Ok(s.as_string()?.to_string()))
            .collect()
    };
    let mut missing = strings("missing")?;
    missing.sort();
    Ok(Verdict {
        decision: v["decision"].as_string()?.to_string(),
        amount_minor: i128::from(v["amount"].as_i64()?),
        reasons: strings("reasons")?,
        missing,
    })
}

/// The service's outcome, reduced the same way.
pub fn verdict_of_native(o: &Outcome) -> Verdict {
    // Field paths as the proto names them (`Display`, whatever type the
    // service keeps them in).
    let mut missing: Vec<String> = o.missing_information.iter().map(|f| f.to_string()).collect();
    missing.sort();
    Verdict {
        decision: name(o.decision),
        amount_minor: minor_units(o.refund_amount),
        reasons: o.reasons.iter().map(|r| r.code.to_owned()).collect(),
        missing,
    }
}

/// The instant standing in for an unset `evaluated_at`, as in the corpus runner.
pub fn corpus_now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_893_456_000, 0).unwrap_or_default() // 2030-01-01T00:00:00Z
}

/// The service's corpus loader (the one shared by its runner, benchmarks and
/// tests): the deep merge of a case over its file's defaults.
#[path = "../../../tests/shared/corpus.rs"]
mod corpus;

/// One corpus case that decodes to a valid claim.
pub struct CorpusClaim {
    pub name: String,
    pub request: ClaimRequest,
    pub policy: refund_eligibility::policies::PolicyId,
}

/// The valid claims of a corpus file (cases that expect a gRPC error are
/// skipped), under whatever policy each names.
pub fn corpus_claims(path: &Path) -> Result<Vec<CorpusClaim>, Error> {
    let file = corpus::CorpusFile::read(path).ok_or("corpus file not found")?;
    let mut out = Vec::new();
    for (name, request) in file.case_requests() {
        let req: pb::EvaluateClaimRequest = json::from_value(&request)?;
        if let Ok(input) = decode::decode_evaluate(req, corpus_now()) {
            out.push(CorpusClaim {
                name: name.to_owned(),
                request: input.request,
                policy: input.policy,
            });
        }
    }
    Ok(out)
}

/// The valid claims of a corpus file that are evaluated under
/// `iptv-smarters-pro` (cases naming another policy are skipped).
pub fn policy_claims(path: &Path) -> Result<Vec<CorpusClaim>, Error> {
    let mut claims = corpus_claims(path)?;
    claims.retain(|c| c.policy == refund_eligibility::policies::PolicyId::IptvSmartersPro);
    Ok(claims)
}

fn cases_dir() -> std::path::PathBuf {
    corpus::cases_dir_of(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// `tests/cases/iptv-smarters-pro.json` of the service.
pub fn corpus_path() -> std::path::PathBuf {
    cases_dir().join("iptv-smarters-pro.json")
}

/// `tests/cases/statutory-floor.json` of the service (its cases default to
/// iptv-smarters-pro; some name other policies).
pub fn statutory_corpus_path() -> std::path::PathBuf {
    cases_dir().join("statutory-floor.json")
}
