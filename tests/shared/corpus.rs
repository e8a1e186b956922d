//! The one place a case of the corpus (`tests/cases/*.json`) becomes a
//! request: the deep merge of a case over its file's defaults, and the policy
//! id a request falls back to. Shared by the corpus runner
//! (`tests/support/mod.rs`), the benchmark inputs (`benches/support/corpus.rs`,
//! also used by `tests/alloc_free.rs` and `examples/evaluate_loop.rs`) and the
//! Rego peer (`bench/rego-peer`), each through `#[path]`. It depends on
//! `serde_json` alone so that every one of them can include it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

/// `tests/cases/` of the crate at `manifest_dir`.
pub fn cases_dir_of(manifest_dir: &str) -> PathBuf {
    Path::new(manifest_dir).join("tests/cases")
}

/// Deep-merges `over` into `base`: objects merge key by key, `null` removes a
/// key (and a top-level `null` leaves `base` as it is); anything else replaces.
pub fn merge(base: &Value, over: &Value) -> Value {
    match (base, over) {
        (b, Value::Null) => b.clone(),
        (Value::Object(b), Value::Object(o)) => {
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
            Value::Object(out)
        }
        (_, o) => o.clone(),
    }
}

/// `request` with `policy_id` set to the corpus's unless it names one.
fn with_policy(request: Value, policy_id: &str) -> Value {
    if request.get("policy_id").is_none() {
        merge(&request, &json!({ "policy_id": policy_id }))
    } else {
        request
    }
}

/// An EvaluateClaim case's request, in the proto3 JSON mapping: the case's
/// `request` over the file's `defaults`, the file's policy unless the case
/// names one.
pub fn case_request(policy_id: &str, defaults: &Value, case_request: &Value) -> Value {
    with_policy(merge(defaults, case_request), policy_id)
}

/// A QuoteRefund case's request: the file's default purchase, then its
/// `quote_defaults`, then the quote's own `request`; the file's policy
/// unless the quote names one.
pub fn quote_request(policy_id: &str, defaults: &Value, quote_defaults: &Value, quote_request: &Value) -> Value {
    let purchase = defaults.get("purchase").cloned().unwrap_or(Value::Null);
    let base = merge(&json!({ "purchase": purchase }), quote_defaults);
    with_policy(merge(&base, quote_request), policy_id)
}

/// A corpus file as JSON: its policy id, defaults, cases and quotes.
pub struct CorpusFile {
    pub policy_id: String,
    pub defaults: Value,
    pub quote_defaults: Value,
    pub cases: Vec<Value>,
    pub quotes: Vec<Value>,
}

impl CorpusFile {
    /// Reads `path`; `None` when the file does not exist.
    pub fn read(path: &Path) -> Option<CorpusFile> {
        let text = std::fs::read_to_string(path).ok()?;
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let list = |key: &str| v.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
        Some(CorpusFile {
            policy_id: v
                .get("policy_id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            defaults: v.get("defaults").cloned().unwrap_or(Value::Null),
            quote_defaults: v.get("quote_defaults").cloned().unwrap_or(Value::Null),
            cases: list("cases"),
            quotes: list("quotes"),
        })
    }

    /// Each case's name and request.
    pub fn case_requests(&self) -> impl Iterator<Item = (&str, Value)> + '_ {
        self.cases.iter().map(|c| {
            let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
            let request = case_request(
                &self.policy_id,
                &self.defaults,
                c.get("request").unwrap_or(&Value::Null),
            );
            (name, request)
        })
    }

    /// Each quote's name and request.
    pub fn quote_requests(&self) -> impl Iterator<Item = (&str, Value)> + '_ {
        self.quotes.iter().map(|q| {
            let name = q.get("name").and_then(Value::as_str).unwrap_or_default();
            let request = quote_request(
                &self.policy_id,
                &self.defaults,
                &self.quote_defaults,
                q.get("request").unwrap_or(&Value::Null),
            );
            (name, request)
        })
    }
}
