//! The offline subcommands, on the same engine as the server: `evaluate`
//! and `quote` read a request in the proto3 JSON mapping (enum names as
//! strings) and print the response the gRPC service would give; `policies`
//! prints the catalog. For support engineers and scripts. `replay`
//! re-decides stored decisions and says which this build decides otherwise.

use std::io::Read;
use std::path::PathBuf;

use chrono::Utc;

use crate::domain::claim::Language;
use crate::grpc::decode::RequestError;
use crate::grpc::encode;
use crate::grpc::service;
use crate::json::{self, JsonError};
use crate::pb;

#[derive(clap::Args, Debug, Clone)]
pub struct InputArgs {
    /// Read the request from this file instead of standard input (`-`: standard input).
    #[arg(long, short, value_name = "PATH", conflicts_with = "jsonl")]
    pub file: Option<PathBuf>,

    /// JSON lines: one request per line of FILE (`-` or nothing: standard
    /// input), one answer per line out, in order; a failed line is answered
    /// with {"line", "code", "message", "field_violations"} and the exit
    /// status is 1 once every line is done.
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "-")]
    pub jsonl: Option<PathBuf>,

    /// With --jsonl: worker threads (default: the number of CPUs).
    #[arg(long, requires = "jsonl")]
    pub jobs: Option<std::num::NonZeroUsize>,
}

#[derive(clap::Args, Debug, Clone)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Trace every rule considered: the response's `trace`, and the same as
    /// an aligned table (rule, clause, matched, decisive, detail) on standard
    /// error, so that standard output stays one JSON document. Not with
    /// --jsonl (whose lines carry `explain` themselves when they ask for it).
    #[arg(long, conflicts_with = "jsonl")]
    pub explain: bool,
}

#[derive(clap::Args, Debug, Clone)]
pub struct PoliciesArgs {
    /// Language of the catalog's messages (`en`, `fr`); default: each policy's own.
    #[arg(long)]
    pub locale: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    #[error("{0}: not an {1} in the proto3 JSON mapping: {2}")]
    Json(String, &'static str, String),
    #[error("{0}: {1}")]
    Request(String, RequestError),
    #[error("cannot write the response: {0}")]
    Write(JsonError),
    #[error("{0} line {1}: {2}")]
    Line(String, usize, String),
}

impl CliError {
    /// The message on one line, whatever the underlying error printed.
    pub fn one_line(&self) -> String {
        self.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

fn read_input(input: &InputArgs) -> Result<(String, String), CliError> {
    match &input.file {
        Some(path) if path.as_os_str() != "-" => {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| CliError::Read(name.clone(), e))?;
            Ok((name, text))
        }
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CliError::Read("standard input".into(), e))?;
            Ok(("standard input".into(), text))
        }
    }
}

fn parse<T: prost::Message + prost::Name + Default>(
    source: &str,
    text: &str,
    what: &'static str,
) -> Result<T, CliError> {
    json::from_json(text).map_err(|e| CliError::Json(source.to_owned(), what, e.to_string()))
}

/// `evaluate`: one EvaluateClaimRequest in, its EvaluateClaimResponse out;
/// with `--explain`, the trace as a table on standard error too.
pub fn evaluate(args: &EvaluateArgs) -> Result<String, CliError> {
    let (source, text) = read_input(&args.input)?;
    let mut request: pb::EvaluateClaimRequest = parse(&source, &text, "EvaluateClaimRequest")?;
    request.explain |= args.explain;
    let response = service::evaluate(request, Utc::now()).map_err(|e| CliError::Request(source.clone(), e))?;
    if args.explain {
        eprint!("{}", trace_table(&response.trace));
    }
    json::to_json(&response).map_err(CliError::Write)
}

/// [`evaluate`] on a request already read; `source` names it in errors.
pub fn evaluate_json(source: &str, text: &str) -> Result<String, CliError> {
    let request: pb::EvaluateClaimRequest = parse(source, text, "EvaluateClaimRequest")?;
    let response = service::evaluate(request, Utc::now()).map_err(|e| CliError::Request(source.to_owned(), e))?;
    json::to_json(&response).map_err(CliError::Write)
}

/// The trace as an aligned table, one rule a line: rule, clause, matched,
/// decisive (`*`), detail.
pub fn trace_table(trace: &[pb::RuleTrace]) -> String {
    let width = |f: fn(&pb::RuleTrace) -> usize, title: &str| {
        trace.iter().map(f).chain([title.chars().count()]).max().unwrap_or(0)
    };
    let (rw, cw) = (
        width(|r| r.rule.chars().count(), "rule"),
        width(|r| r.clause.chars().count(), "clause"),
    );
    let mut out = format!("{:rw$}  {:cw$}  matched  decisive  detail\n", "rule", "clause");
    for r in trace {
        let matched = if r.matched { "yes" } else { "no" };
        let decisive = if r.decisive { "*" } else { "" };
        out.push_str(&format!(
            "{:rw$}  {:cw$}  {matched:7}  {decisive:8}  {}\n",
            r.rule, r.clause, r.detail
        ));
    }
    out
}

/// `quote`: one QuoteRefundRequest in, its QuoteRefundResponse out.
pub fn quote(input: &InputArgs) -> Result<String, CliError> {
    let (source, text) = read_input(input)?;
    let request: pb::QuoteRefundRequest = parse(&source, &text, "QuoteRefundRequest")?;
    let response = service::quote(request, Utc::now()).map_err(|e| CliError::Request(source, e))?;
    json::to_json(&response).map_err(CliError::Write)
}

/// `policies`: the ListPolicies answer.
pub fn policies(args: &PoliciesArgs) -> Result<String, CliError> {
    let lang = args.locale.as_deref().and_then(Language::from_tag);
    json::to_json(&encode::list_policies_response(lang)).map_err(CliError::Write)
}

#[derive(clap::Args, Debug, Clone)]
pub struct ReplayArgs {
    /// JSON lines of stored decisions (`-` or none: standard input); each line
    /// `{"request": <EvaluateClaimRequest>, "response": <EvaluateClaimResponse>}`.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
}

/// What `replay` found: the report to print, and whether every decision is
/// the same (exit code 0) or some changed (exit code 1).
#[derive(Debug)]
pub struct ReplayReport {
    pub text: String,
    pub all_same: bool,
}

/// `replay`: re-decides every stored decision; see [`replay_lines`].
pub fn replay(args: &ReplayArgs) -> Result<ReplayReport, CliError> {
    let (source, text) = read_input(&InputArgs {
        file: args.file.clone(),
        jsonl: None,
        jobs: None,
    })?;
    replay_lines(&source, &text)
}

/// The part of an answer `replay` compares: the decision, the refund amount
/// with its currency and the reason codes, the primary first.
#[derive(Debug, PartialEq, Eq)]
struct Verdict {
    decision: String,
    amount: String,
    currency: String,
    reasons: Vec<String>,
}

impl Verdict {
    fn of(response: &pb::EvaluateClaimResponse) -> Verdict {
        let decision = pb::Decision::try_from(response.decision).unwrap_or(pb::Decision::Unspecified);
        let amount = response.refund_amount.clone().unwrap_or_default();
        Verdict {
            decision: decision.as_str_name().trim_start_matches("DECISION_").to_owned(),
            amount: amount.amount,
            currency: amount.currency_code,
            reasons: response.reasons.iter().map(|r| r.code.clone()).collect(),
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {} [{}]",
            self.decision,
            self.amount,
            self.currency,
            self.reasons.join(",")
        )
    }
}

/// Re-decides each line of `text` (JSON lines; blank lines are skipped),
/// each `{"request": ..., "response": ...}`: the request as the CLI and the
/// corpus write it, the response as the service answered it (fields this
/// build does not know are ignored). An unset `request.evaluated_at` is
/// replayed at `response.evaluated_at`, the instant the service used.
///
/// A line is `same` when the new decision id equals the stored one and the
/// decision, amount, currency and reason codes are the stored ones;
/// otherwise `changed`, saying what: `decision` (and the id) or `id` only
/// (same answer, but other rules, another build or other inputs decided it).
/// A request this build refuses is a changed decision. A line that is not
/// such JSON is an error naming the line (exit code 2).
pub fn replay_lines(source: &str, text: &str) -> Result<ReplayReport, CliError> {
    use std::fmt::Write as _;

    let mut out = String::new();
    let (mut same, mut decision_changed, mut id_changed) = (0usize, 0usize, 0usize);
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| CliError::Line(source.to_owned(), number, message);
        let (request, stored) = replay_line(line).map_err(bad)?;
        let now = match request.evaluated_at.as_ref().or(stored.evaluated_at.as_ref()) {
            Some(ts) => chrono::DateTime::from_timestamp(ts.seconds, u32::try_from(ts.nanos).unwrap_or(u32::MAX))
                .ok_or_else(|| bad("response.evaluated_at: not a valid instant".into()))?,
            None => {
                return Err(bad(
                    "neither request.evaluated_at nor response.evaluated_at is set: the instant decided is unknown"
                        .into(),
                ))
            }
        };
        let old = Verdict::of(&stored);
        let (new_id, new) = match service::evaluate(request, now) {
            Ok(response) => (response.decision_id.clone(), Verdict::of(&response).to_string()),
            Err(e) => (
                "-".to_owned(),
                format!("refused: {}", CliError::Request(String::new(), e).one_line()),
            ),
        };
        let old_text = old.to_string();
        let written = if new != old_text {
            decision_changed += 1;
            writeln!(
                out,
                "{number} changed decision {old_text} -> {new} (id {} -> {new_id})",
                stored.decision_id
            )
        } else if new_id != stored.decision_id {
            id_changed += 1;
            writeln!(out, "{number} changed id {} -> {new_id} {new}", stored.decision_id)
        } else {
            same += 1;
            writeln!(out, "{number} same {new_id} {new}")
        };
        written.map_err(|e| bad(e.to_string()))?;
    }
    let changed = decision_changed + id_changed;
    let _ = writeln!(
        out,
        "replayed {}: {same} same, {changed} changed ({decision_changed} decision, {id_changed} id only)",
        same + changed
    );
    Ok(ReplayReport {
        text: out,
        all_same: changed == 0,
    })
}

/// One stored decision: its request and the response it got.
fn replay_line(line: &str) -> Result<(pb::EvaluateClaimRequest, pb::EvaluateClaimResponse), String> {
    let value: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let object = value
        .as_object()
        .ok_or_else(|| "expected an object {\"request\": ..., \"response\": ...}".to_owned())?;
    if let Some(unknown) = object.keys().find(|k| !matches!(k.as_str(), "request" | "response")) {
        return Err(format!("unknown key {unknown:?}; expected request and response"));
    }
    let field = |key: &str| object.get(key).ok_or_else(|| format!("{key} is required"));
    let request = json::from_value(field("request")?)
        .map_err(|e| format!("request: not an EvaluateClaimRequest in the proto3 JSON mapping: {e}"))?;
    let response: pb::EvaluateClaimResponse = json::from_value_lenient(field("response")?)
        .map_err(|e| format!("response: not an EvaluateClaimResponse in the proto3 JSON mapping: {e}"))?;
    if response.decision_id.is_empty() {
        return Err("response.decision_id is required: the id the decision was given".into());
    }
    Ok((request, response))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_source_and_fit_on_one_line() {
        let err = evaluate_json("req.json", "{\"policy_id\": ").unwrap_err();
        assert!(
            err.one_line().starts_with("req.json: not an EvaluateClaimRequest"),
            "{}",
            err.one_line()
        );
        assert!(!err.one_line().contains('\n'));

        let err = evaluate_json("req.json", r#"{"policy_id": "nope"}"#).unwrap_err();
        assert!(matches!(err, CliError::Request(_, RequestError::Invalid(_))), "{err}");
        assert!(err.one_line().contains("purchase"), "{err}");

        let err = evaluate_json("req.json", r#"{"policy_idd": "x"}"#).unwrap_err();
        assert!(matches!(err, CliError::Json(..)), "{err}");
    }

    #[test]
    fn policies_lists_every_compiled_in_policy() {
        let text = policies(&PoliciesArgs { locale: None }).unwrap();
        for p in crate::policies::PolicyId::ALL {
            assert!(
                text.contains(&format!("\"{}\"", p.meta().id)),
                "{} missing",
                p.meta().id
            );
        }
    }
}
