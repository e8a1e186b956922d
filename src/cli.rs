//! The offline subcommands, on the same engine as the server: `evaluate`
//! and `quote` read a request in the proto3 JSON mapping (enum names as
//! strings) and print the response the gRPC service would give; `policies`
//! prints the catalog. For support engineers and scripts.

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
