//! Log lines: one JSON line per eligibility call with method, code, policy,
//! decision, latency and request id, and no personal data from the request
//! (a decided EvaluateClaim call's line is its decision line, with the
//! decision id, versions, amount and reason codes); and the built binary
//! serving with text logs until SIGTERM, with the decision log on or off.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod hermetic;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use refund_eligibility::logging::{self, LogFormat};
use refund_eligibility::pb;
use refund_eligibility::pb::eligibility_service_client::EligibilityServiceClient;
use refund_eligibility::server::{self, ServerConfig, SERVICE_NAME};
use serde_json::Value;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn example() -> pb::EvaluateClaimRequest {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/iptv-smarters-pro.json")).unwrap();
    refund_eligibility::json::from_json(&text).unwrap()
}

#[tokio::test]
async fn one_json_line_per_call_without_personal_data() {
    let capture = Capture::default();
    let writer = capture.clone();
    logging::init_logging_to("info", LogFormat::Json, move || writer.clone()).unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(server::run(
        listener,
        async move {
            let _ = rx.await;
        },
        ServerConfig::default(),
    ));
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = EligibilityServiceClient::new(channel.clone());

    let mut request = example();
    request.request_id = "req-7f3a".into();
    let purchase = request.purchase.as_mut().unwrap();
    purchase.purchase_email = "jane.doe@example.com".into();
    purchase.order_id = "ORDER-SECRET-1001".into();
    purchase.invoice_number = "INV-SECRET-42".into();
    purchase.transaction_id = "TXN-SECRET-77".into();
    purchase.reseller_id = "RESELLER-SECRET-9".into();
    request.claim.as_mut().unwrap().description = "Jane Doe, 12 rue Secrète, cannot log in".into();
    let answer = client.evaluate_claim(request.clone()).await.unwrap().into_inner();

    // A request id that is itself an email address is not logged.
    let mut leaky = request.clone();
    leaky.request_id = "jane.doe@example.com".into();
    client.evaluate_claim(leaky).await.unwrap();

    let mut invalid = request.clone();
    invalid.claim = None;
    invalid.request_id = "req-invalid".into();
    client.evaluate_claim(invalid).await.unwrap_err();

    HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: SERVICE_NAME.into(),
        })
        .await
        .unwrap();

    let _ = tx.send(());
    handle.await.unwrap().unwrap();

    let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    for secret in [
        "jane",
        "example.com",
        "SECRET",
        "rue",
        "Doe",
        "TXN",
        "RESELLER",
        "INV-",
        "SP-1001",
    ] {
        assert!(
            !text.to_lowercase().contains(&secret.to_lowercase()),
            "{secret:?} logged:\n{text}"
        );
    }
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let calls: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "rpc" || l["message"] == "decision")
        .collect();
    assert_eq!(
        calls.len(),
        3,
        "one line per eligibility call, probes at debug only:\n{text}"
    );

    // A decided call: its decision line replaces its access line.
    let ok = calls[0];
    assert_eq!(ok["message"], "decision");
    assert_eq!(ok["target"], "refund_eligibility::decision");
    assert_eq!(ok["level"], "INFO");
    assert_eq!(ok["grpc_code"], "OK");
    assert_eq!(ok["policy"], "iptv-smarters-pro");
    assert_eq!(ok["decision"], "APPROVED");
    assert_eq!(ok["request_id"], "req-7f3a");
    assert_eq!(ok["decision_id"], answer.decision_id.as_str());
    assert_eq!(ok["policy_version"], answer.policy.as_ref().unwrap().version.as_str());
    assert_eq!(
        ok["rules_edition"],
        answer.policy.as_ref().unwrap().rules_edition.as_str()
    );
    assert_eq!(ok["amount"], "29.99");
    assert_eq!(ok["currency"], "EUR");
    let codes: Vec<&str> = answer.reasons.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(ok["reasons"], codes.join(","));
    let latency = ok["latency_us"].as_u64().unwrap();
    assert!(latency > 0 && latency < 5_000_000, "{latency}");
    let mut keys: Vec<&str> = ok.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "amount",
            "currency",
            "decision",
            "decision_id",
            "grpc_code",
            "latency_us",
            "level",
            "message",
            "policy",
            "policy_version",
            "reasons",
            "request_id",
            "rules_edition",
            "target",
            "timestamp",
            "trace_id",
        ],
        "nothing else"
    );

    assert_eq!(calls[1]["message"], "decision");
    assert_eq!(calls[1]["request_id"], "-", "an email-shaped request id is withheld");
    assert_eq!(calls[1]["decision"], "APPROVED");

    // A refused call decided nothing: its access line.
    assert_eq!(calls[2]["message"], "rpc");
    assert_eq!(calls[2]["grpc_code"], "INVALID_ARGUMENT");
    assert_eq!(calls[2]["decision"], "-");
    assert_eq!(calls[2]["request_id"], "req-invalid");
}

#[test]
fn the_binary_serves_with_text_logs_and_drains_on_sigterm() {
    let line = serve_one_call(None);
    for field in [
        "refund_eligibility::decision",
        "decision_id=",
        "rules_edition=",
        "amount=29.99",
        "currency=EUR",
    ] {
        assert!(line.contains(field), "{field} missing from {line}");
    }
}

#[test]
fn with_the_decision_log_off_a_decision_gets_the_access_line() {
    let line = serve_one_call(Some("off"));
    assert!(line.contains("refund_eligibility::rpc"), "{line}");
    assert!(!line.contains("decision_id"), "{line}");
}

/// Serves one EvaluateClaim call from the binary (with
/// `REFUND_ELIGIBILITY_DECISION_LOG` set to `decision_log`, if given), stops
/// it with SIGTERM, and returns the call's log line.
fn serve_one_call(decision_log: Option<&str>) -> String {
    let mut command = hermetic::binary();
    if let Some(value) = decision_log {
        command.env("REFUND_ELIGIBILITY_DECISION_LOG", value);
    }
    let mut child = command
        .args(["--listen", "127.0.0.1:0", "--metrics-listen", "off"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("serving gRPC"), "{first}");
    assert!(!first.trim_start().starts_with('{'), "text, not JSON: {first}");
    let addr = first
        .split_whitespace()
        .find_map(|w| w.strip_prefix("address="))
        .unwrap_or_else(|| panic!("no address in {first}"))
        .to_owned();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut client = EligibilityServiceClient::connect(format!("http://{addr}"))
            .await
            .unwrap();
        let answer = client.evaluate_claim(example()).await.unwrap().into_inner();
        assert_eq!(answer.decision(), pb::Decision::Approved);
    });

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(std::time::Instant::now() < deadline, "did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let rpc = rest
        .lines()
        .find(|l| l.contains("refund_eligibility::rpc") || l.contains("refund_eligibility::decision"))
        .unwrap_or_else(|| panic!("no line for the call:\n{rest}"));
    // The access line quotes its strings; the decision line's are closed sets.
    let q = |v: &str| {
        if rpc.contains("refund_eligibility::decision") {
            v.to_owned()
        } else {
            format!("\"{v}\"")
        }
    };
    for field in [
        format!("grpc_code={}", q("OK")),
        format!("policy={}", q("iptv-smarters-pro")),
        format!("decision={}", q("APPROVED")),
        format!("request_id={}", q("example-iptv-smarters-pro-1")),
        if rpc.contains("refund_eligibility::decision") {
            "latency_us=".to_owned()
        } else {
            "latency_ms=".to_owned()
        },
    ] {
        assert!(rpc.contains(&field), "{field} missing from {rpc}");
    }
    assert!(rest.contains("drained, exiting"), "{rest}");
    rpc.to_owned()
}
