//! The offline CLI, run as the built binary: the examples round-trip through
//! `evaluate` (one example per compiled-in policy), `quote` and `policies`
//! answer like the service, and bad input exits non-zero with one line on stderr.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use refund_eligibility::policies::PolicyId;
use refund_eligibility::{json, pb};

mod hermetic;

use hermetic::binary;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = binary()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}, stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// A failure: non-zero exit, nothing on stdout, exactly one line on stderr.
fn one_line_error(out: &Output) -> String {
    assert!(!out.status.success(), "expected a failure, got {:?}", out.status);
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(err.lines().count(), 1, "stderr is not one line: {err:?}");
    assert!(err.starts_with("refund-eligibility: "), "{err}");
    err
}

#[test]
fn every_policy_has_an_example_that_evaluates() {
    for policy in PolicyId::ALL {
        let id = policy.meta().id;
        let file = examples().join(format!("{id}.json"));
        assert!(file.exists(), "no example for {id}");
        let text = std::fs::read_to_string(&file).unwrap();
        let request: pb::EvaluateClaimRequest = json::from_json(&text).unwrap();
        assert_eq!(request.policy_id, id, "{} names another policy", file.display());

        let out = run(&["evaluate", "--file", file.to_str().unwrap()], None);
        let response: pb::EvaluateClaimResponse = json::from_json(&stdout(&out)).unwrap();
        assert_ne!(response.decision(), pb::Decision::Unspecified, "{id}");
        assert_eq!(response.policy.as_ref().unwrap().id, id);
        assert_eq!(response.request_id, request.request_id);
        assert!(!response.reasons.is_empty(), "{id}: no reason");
    }
}

#[test]
fn iptv_smarters_pro_example_is_approved_in_full_from_stdin() {
    let text = std::fs::read_to_string(examples().join("iptv-smarters-pro.json")).unwrap();
    let out = run(&["evaluate"], Some(&text));
    let response: pb::EvaluateClaimResponse = json::from_json(&stdout(&out)).unwrap();
    assert_eq!(response.decision(), pb::Decision::Approved);
    let amount = response.refund_amount.clone().unwrap();
    assert_eq!(
        (amount.amount.as_str(), amount.currency_code.as_str()),
        ("29.99", "EUR")
    );
    assert_eq!(response.reasons[0].code, "WITHIN_48_HOURS");
    assert_eq!(response.refund_method(), pb::RefundMethod::OriginalPayment);

    // Enum names as strings, proto field names: the documented mapping.
    let raw: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(raw["decision"], "DECISION_APPROVED");
    assert!(raw.get("refund_amount").is_some());

    // `--file -` is standard input too, and the answer is the same.
    let again = run(&["evaluate", "--file", "-"], Some(&text));
    assert_eq!(stdout(&again), stdout(&out));
}

#[test]
fn explain_prints_the_trace_as_a_table_and_in_the_json() {
    let file = examples().join("iptv-smarters-pro.json");
    let out = run(&["evaluate", "--explain", "--file", file.to_str().unwrap()], None);
    let response: pb::EvaluateClaimResponse = json::from_json(&stdout(&out)).unwrap();
    let decisive: Vec<_> = response.trace.iter().filter(|r| r.decisive).collect();
    assert_eq!(decisive.len(), 1, "{:#?}", response.trace);
    assert_eq!(decisive[0].rule, "iptv-smarters-pro.within-48h");
    // The table on stderr: a header, then one aligned line per rule.
    let table = String::from_utf8(out.stderr.clone()).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("rule ") && lines[0].ends_with("matched  decisive  detail"),
        "{table}"
    );
    assert_eq!(lines.len(), response.trace.len() + 1, "{table}");
    let detail_at = lines[0].find("detail").unwrap();
    for (line, rule) in lines[1..].iter().zip(&response.trace) {
        assert!(line.starts_with(&rule.rule), "{line}");
        assert_eq!(
            line.char_indices().nth(detail_at).map(|(_, c)| c),
            rule.detail.chars().next(),
            "{line}"
        );
    }
    // Without the flag: no trace, nothing on stderr.
    let plain = run(&["evaluate", "--file", file.to_str().unwrap()], None);
    let response: pb::EvaluateClaimResponse = json::from_json(&stdout(&plain)).unwrap();
    assert!(response.trace.is_empty());
    assert!(plain.stderr.is_empty());
}

#[test]
fn quote_example_answers_like_the_service() {
    let file = examples().join("quote").join("iptv-smarters-pro.json");
    let out = run(&["quote", "-f", file.to_str().unwrap()], None);
    let response: pb::QuoteRefundResponse = json::from_json(&stdout(&out)).unwrap();
    let request: pb::QuoteRefundRequest = json::from_json(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let expected = refund_eligibility::grpc::service::quote(request, chrono::Utc::now()).unwrap();
    assert_eq!(response, expected);
    assert!(!response.schedule.is_empty());
}

#[test]
fn policies_lists_the_catalog_in_the_requested_language() {
    let out = run(&["policies"], None);
    let listed: pb::ListPoliciesResponse = json::from_json(&stdout(&out)).unwrap();
    let ids: Vec<_> = listed
        .policies
        .iter()
        .map(|p| p.r#ref.as_ref().unwrap().id.clone())
        .collect();
    let expected: Vec<_> = PolicyId::ALL.iter().map(|p| p.meta().id.to_owned()).collect();
    assert_eq!(ids, expected);

    let fr = run(&["policies", "--locale", "fr"], None);
    let en = run(&["policies", "--locale", "en"], None);
    assert_ne!(stdout(&fr), stdout(&en), "the locale changes the messages");
}

#[test]
fn bad_json_is_one_line_on_stderr_and_a_failure() {
    let err = one_line_error(&run(&["evaluate"], Some("{\"policy_id\": \"iptv-smarters-pro\",")));
    assert!(err.contains("standard input: not an EvaluateClaimRequest"), "{err}");

    let err = one_line_error(&run(&["evaluate"], Some("{\"no_such_field\": 1}")));
    assert!(err.contains("no_such_field"), "{err}");

    let err = one_line_error(&run(&["evaluate"], Some("")));
    assert!(err.contains("not an EvaluateClaimRequest"), "{err}");

    let err = one_line_error(&run(&["quote"], Some("[1, 2]")));
    assert!(err.contains("not a"), "{err}");
}

#[test]
fn invalid_requests_name_the_bad_fields() {
    let text = std::fs::read_to_string(examples().join("iptv-smarters-pro.json")).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["purchase"]["amount_paid"]["amount"] = "-3".into();
    value["claim"]["reason"] = "CLAIM_REASON_UNSPECIFIED".into();
    let err = one_line_error(&run(&["evaluate"], Some(&value.to_string())));
    assert!(err.contains("purchase.amount_paid.amount"), "{err}");
    assert!(err.contains("claim.reason"), "{err}");

    value = serde_json::from_str(&text).unwrap();
    value["policy_id"] = "no-such-policy".into();
    let err = one_line_error(&run(&["evaluate"], Some(&value.to_string())));
    assert!(err.contains("not found"), "{err}");

    let missing = examples().join("no-such-file.json");
    let err = one_line_error(&run(&["evaluate", "--file", missing.to_str().unwrap()], None));
    assert!(err.contains("cannot read"), "{err}");
}

#[test]
fn help_documents_every_serve_setting_with_its_variable() {
    let help = stdout(&run(&["serve", "--help"], None));
    for (flag, env) in [
        ("--listen", "REFUND_ELIGIBILITY_LISTEN"),
        ("--metrics-listen", "REFUND_ELIGIBILITY_METRICS_LISTEN"),
        ("--log-level", "REFUND_ELIGIBILITY_LOG_LEVEL"),
        ("--log-format", "REFUND_ELIGIBILITY_LOG_FORMAT"),
        ("--shutdown-grace", "REFUND_ELIGIBILITY_SHUTDOWN_GRACE"),
        ("--max-message-bytes", "REFUND_ELIGIBILITY_MAX_MESSAGE_BYTES"),
        (
            "--concurrency-limit-per-connection",
            "REFUND_ELIGIBILITY_CONCURRENCY_LIMIT_PER_CONNECTION",
        ),
        ("--request-timeout", "REFUND_ELIGIBILITY_REQUEST_TIMEOUT"),
        ("--max-connection-age", "REFUND_ELIGIBILITY_MAX_CONNECTION_AGE"),
        (
            "--max-connection-age-grace",
            "REFUND_ELIGIBILITY_MAX_CONNECTION_AGE_GRACE",
        ),
        ("--tls-cert", "REFUND_ELIGIBILITY_TLS_CERT"),
        ("--tls-key", "REFUND_ELIGIBILITY_TLS_KEY"),
        ("--tls-client-ca", "REFUND_ELIGIBILITY_TLS_CLIENT_CA"),
        ("--max-connections", "REFUND_ELIGIBILITY_MAX_CONNECTIONS"),
        (
            "--http2-keepalive-interval",
            "REFUND_ELIGIBILITY_HTTP2_KEEPALIVE_INTERVAL",
        ),
        ("--idle-timeout", "REFUND_ELIGIBILITY_IDLE_TIMEOUT"),
    ] {
        assert!(help.contains(flag), "{flag} undocumented");
        assert!(help.contains(&format!("[env: {env}")), "{env} undocumented");
    }
}

#[test]
fn serve_reads_its_settings_from_the_environment() {
    // A bad value shows that the variable is read: serve refuses to start.
    let out = binary()
        .arg("serve")
        .env("REFUND_ELIGIBILITY_SHUTDOWN_GRACE", "10")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--shutdown-grace"), "{err}");
    let out = binary()
        .arg("serve")
        .env("REFUND_ELIGIBILITY_MAX_MESSAGE_BYTES", "lots")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--max-message-bytes"), "{err}");
    for (env, flag) in [
        ("REFUND_ELIGIBILITY_MAX_CONNECTIONS", "--max-connections"),
        (
            "REFUND_ELIGIBILITY_HTTP2_KEEPALIVE_INTERVAL",
            "--http2-keepalive-interval",
        ),
        ("REFUND_ELIGIBILITY_IDLE_TIMEOUT", "--idle-timeout"),
    ] {
        let out = binary()
            .arg("serve")
            .env(env, "lots")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(flag), "{err}");
    }
}

#[test]
fn serve_settings_in_the_environment_do_not_disturb_the_offline_commands() {
    // As inside the container, where the Deployment sets them.
    let out = binary()
        .args(["policies"])
        .env("REFUND_ELIGIBILITY_LOG_FORMAT", "json")
        .env("REFUND_ELIGIBILITY_LISTEN", "0.0.0.0:50051")
        .env("REFUND_ELIGIBILITY_MAX_CONNECTION_AGE", "5m")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let listed: pb::ListPoliciesResponse = json::from_json(&stdout(&out)).unwrap();
    assert_eq!(listed.policies.len(), PolicyId::ALL.len());

    // A serve flag given with an offline command is a usage error, not ignored.
    let out = run(&["--log-format", "json", "policies"], None);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}
