//! The Rego peer of `iptv-smarters-pro`: the same ruling written as a Rego
//! policy (`policy/iptv_smarters_pro.rego`), compiled once and evaluated by
//! regorus over the same validated claims the service evaluates.
//!
//! Both sides are reduced to a [`Verdict`] (decision, amount in minor units,
//! reason codes, missing fields) so a differential test can compare them and
//! a benchmark can time them on equal terms: the claim is decoded and
//! validated once, outside the timed loop, for both.

use std::path::Path;

use chrono::{DateTime, Utc};
use refund_eligibility::domain::claim::ClaimRequest;
use refund_eligibility::domain::decision::Outcome;
use refund_eligibility::domain::money::Money;
use refund_eligibility::domain::term::Term;
use refund_eligibility::grpc::convert;
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

    json!({
        "purchase": purchase,
        "claim": claim,
        "evaluated_at": seconds(req.evaluated_at),
    })
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
    let mut missing: Vec<String> = o.missing_information.iter().map(str::to_owned).collect();
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

/// Deep-merges `over` into `base` as the corpus runner does: objects merge
/// key by key, `null` removes a key.
pub fn merge(base: &serde_json::Value, over: &serde_json::Value) -> serde_json::Value {
    match (base, over) {
        (serde_json::Value::Object(b), serde_json::Value::Object(o)) => {
            let mut out = b.clone();
            for (k, v) in o {
                if v.is_null() {
                    out.remove(k);
                } else {
                    let merged = match out.get(k) {
                        Some(existing) => merge(existing, v),
                        None => v.clone(),
                    };
                    out.insert(k.clone(), merged);
                }
            }
            serde_json::Value::Object(out)
        }
        (_, o) => o.clone(),
    }
}

/// One corpus case that decodes to a valid claim.
pub struct CorpusClaim {
    pub name: String,
    pub request: ClaimRequest,
    pub policy: refund_eligibility::policies::PolicyId,
}

/// The valid claims of a corpus file (cases that expect a gRPC error are skipped).
pub fn corpus_claims(path: &Path) -> Result<Vec<CorpusClaim>, Error> {
    let text = std::fs::read_to_string(path)?;
    let corpus: serde_json::Value = serde_json::from_str(&text)?;
    let policy_id = corpus["policy_id"].as_str().ok_or("corpus without policy_id")?;
    let defaults = &corpus["defaults"];
    let mut out = Vec::new();
    for case in corpus["cases"].as_array().ok_or("corpus without cases")? {
        let mut request = merge(defaults, &case["request"]);
        if request.get("policy_id").is_none() {
            request = merge(&request, &json!({ "policy_id": policy_id }));
        }
        let req: pb::EvaluateClaimRequest = json::from_value(&request)?;
        if let Ok(input) = convert::decode_evaluate(req, corpus_now()) {
            out.push(CorpusClaim {
                name: case["name"].as_str().unwrap_or_default().to_owned(),
                request: input.request,
                policy: input.policy,
            });
        }
    }
    Ok(out)
}

/// `tests/cases/iptv-smarters-pro.json` of the service.
pub fn corpus_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/cases/iptv-smarters-pro.json")
}
