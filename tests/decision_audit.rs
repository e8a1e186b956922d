//! The decision id, the decision log's input and replay (issue 11, items 2–4):
//! the id is stable (the same request twice, in-process and across two
//! server processes) and sensitive (every field that can decide changes it,
//! `request_id` and `locale` do not); `replay` over the whole corpus says
//! `same` for every decision, and `changed` once a stored id or a stored
//! request is altered.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod hermetic;

#[path = "shared/corpus.rs"]
mod corpus;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Output, Stdio};
use std::time::Duration;

use chrono::{DateTime, Utc};
use prost_types::Timestamp;
use refund_eligibility::grpc::service;
use refund_eligibility::pb::eligibility_service_client::EligibilityServiceClient;
use refund_eligibility::policies::PolicyId;
use refund_eligibility::{json, pb};
use serde_json::Value;

fn example() -> pb::EvaluateClaimRequest {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/iptv-smarters-pro.json")).unwrap();
    json::from_json(&text).unwrap()
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_700_000, 0).unwrap()
}

fn decide(request: &pb::EvaluateClaimRequest) -> pb::EvaluateClaimResponse {
    service::evaluate(request.clone(), now()).unwrap_or_else(|e| panic!("{e}: {request:?}"))
}

fn ts(seconds: i64) -> Option<Timestamp> {
    Some(Timestamp { seconds, nanos: 0 })
}

fn money(currency: &str, amount: &str) -> Option<pb::Money> {
    Some(pb::Money {
        currency_code: currency.into(),
        amount: amount.into(),
    })
}

#[test]
fn the_same_request_gets_the_same_id_and_the_engine_version() {
    let first = decide(&example());
    let second = decide(&example());
    assert_eq!(first.decision_id, second.decision_id);
    assert_eq!(first.decision_id.len(), 64);
    assert!(first
        .decision_id
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    assert_eq!(first.engine_version, env!("CARGO_PKG_VERSION"));

    // An unset evaluated_at is resolved to the instant used: the same id as
    // a request that names that instant.
    let mut unset = example();
    unset.evaluated_at = None;
    let resolved = decide(&unset);
    let mut named = example();
    named.evaluated_at = resolved.evaluated_at;
    assert_eq!(resolved.decision_id, decide(&named).decision_id);
}

type Change = (&'static str, fn(&mut pb::EvaluateClaimRequest));

fn purchase(r: &mut pb::EvaluateClaimRequest) -> &mut pb::Purchase {
    r.purchase.as_mut().unwrap()
}

fn claim(r: &mut pb::EvaluateClaimRequest) -> &mut pb::Claim {
    r.claim.as_mut().unwrap()
}

/// One change per field of the request, its purchase and its claim.
const CHANGES: &[Change] = &[
    ("policy_id", |r| r.policy_id = "smarterspro-officiel".into()),
    ("evaluated_at", |r| r.evaluated_at = ts(1_767_693_601)),
    ("purchase.order_id", |r| purchase(r).order_id = "SP-1002".into()),
    ("purchase.amount_paid", |r| {
        purchase(r).amount_paid = money("EUR", "29.98")
    }),
    ("purchase.purchased_at", |r| {
        purchase(r).purchased_at = ts(1_767_607_201)
    }),
    ("purchase.delivered_at", |r| purchase(r).delivered_at = None),
    ("purchase.term_months", |r| purchase(r).term_months = 3),
    ("purchase.price_type", |r| {
        purchase(r).price_type = pb::PriceType::Promotional as i32
    }),
    ("purchase.payment_method", |r| {
        purchase(r).payment_method = pb::PaymentMethod::Paypal as i32
    }),
    ("purchase.customer_type", |r| {
        purchase(r).customer_type = pb::CustomerType::Consumer as i32
    }),
    ("purchase.customer_country", |r| {
        purchase(r).customer_country = "FR".into()
    }),
    ("purchase.express_consent_immediate_performance", |r| {
        purchase(r).express_consent_immediate_performance = true
    }),
    ("purchase.invoice_number", |r| {
        purchase(r).invoice_number = "INV-1".into()
    }),
    ("purchase.purchase_email", |r| {
        purchase(r).purchase_email = "a@b.example".into()
    }),
    ("purchase.reseller_id", |r| purchase(r).reseller_id = "R-1".into()),
    ("purchase.transaction_id", |r| purchase(r).transaction_id = "T-1".into()),
    ("purchase.withdrawal_information_given", |r| {
        purchase(r).withdrawal_information_given = Some(true)
    }),
    ("claim.reason", |r| {
        claim(r).reason = pb::ClaimReason::ChangeOfMind as i32
    }),
    ("claim.submitted_at", |r| claim(r).submitted_at = ts(1_767_690_000)),
    ("claim.issue_started_at", |r| {
        claim(r).issue_started_at = ts(1_767_610_000)
    }),
    ("claim.cause", |r| claim(r).cause = pb::IssueCause::ServerSide as i32),
    ("claim.outage", |r| claim(r).outage = Some(pb::Outage::default())),
    ("claim.support", |r| {
        claim(r).support = Some(pb::SupportHistory::default())
    }),
    ("claim.description", |r| claim(r).description = "other words".into()),
    ("claim.evidence_attachments", |r| claim(r).evidence_attachments = 1),
    ("claim.charged_amount", |r| {
        claim(r).charged_amount = money("EUR", "39.99")
    }),
    ("claim.expected_amount", |r| {
        claim(r).expected_amount = money("EUR", "29.99")
    }),
    ("claim.duplicate_amount", |r| {
        claim(r).duplicate_amount = money("EUR", "29.99")
    }),
    ("claim.device_officially_supported", |r| {
        claim(r).device_officially_supported = Some(true)
    }),
    ("claim.device_meets_minimum_requirements", |r| {
        claim(r).device_meets_minimum_requirements = Some(true)
    }),
    ("claim.terms_violation", |r| claim(r).terms_violation = true),
    ("claim.chargeback_filed", |r| claim(r).chargeback_filed = true),
    ("claim.concerns_adult_content", |r| {
        claim(r).concerns_adult_content = true
    }),
];

/// What only correlates, translates or shows how the decision was made, and
/// so is left out of the id.
const NOT_IN_THE_ID: &[Change] = &[
    ("request_id", |r| r.request_id = "another-correlation-id".into()),
    ("locale", |r| r.locale = "fr".into()),
    ("explain", |r| r.explain = true),
];

#[test]
fn every_field_that_can_decide_changes_the_id_and_only_those() {
    let base = decide(&example()).decision_id;
    let mut seen = std::collections::HashSet::new();
    for (field, change) in CHANGES {
        let mut request = example();
        change(&mut request);
        let id = decide(&request).decision_id;
        assert_ne!(id, base, "changing {field} leaves the id as it was");
        assert!(seen.insert(id), "changing {field} gives another change's id");
    }
    for (field, change) in NOT_IN_THE_ID {
        let mut request = example();
        change(&mut request);
        assert_eq!(decide(&request).decision_id, base, "{field} changes the id");
    }

    // Every field of the contract is in one list or the other (a new field
    // must be placed).
    let pool = prost_reflect::DescriptorPool::decode(pb::FILE_DESCRIPTOR_SET).unwrap();
    let listed: Vec<&str> = CHANGES.iter().chain(NOT_IN_THE_ID).map(|(f, _)| *f).collect();
    for (message, prefix) in [
        ("EvaluateClaimRequest", ""),
        ("Purchase", "purchase."),
        ("Claim", "claim."),
    ] {
        let descriptor = pool
            .get_message_by_name(&format!("refund.eligibility.v1.{message}"))
            .unwrap();
        for field in descriptor.fields() {
            let path = format!("{prefix}{}", field.name());
            if matches!(path.as_str(), "purchase" | "claim") {
                continue;
            }
            assert!(listed.contains(&path.as_str()), "{path} is in neither list");
        }
    }
}

// ---------------------------------------------------------------------------
// Two server processes

struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start() -> Server {
        let mut child = hermetic::binary()
            .args(["--listen", "127.0.0.1:0", "--metrics-listen", "off"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let addr = first
            .split_whitespace()
            .find_map(|w| w.strip_prefix("address="))
            .unwrap_or_else(|| panic!("no address in {first}"))
            .to_owned();
        // Keep reading the log so that the server never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Server { child, addr }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn two_server_processes_give_the_same_id() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut fr = example();
    fr.locale = "fr".into();
    fr.request_id = "another".into();
    let ids: Vec<String> = (0..2)
        .map(|i| {
            let server = Server::start();
            runtime.block_on(async {
                let mut client = EligibilityServiceClient::connect(format!("http://{}", server.addr))
                    .await
                    .unwrap();
                let request = if i == 0 { example() } else { fr.clone() };
                let answer = client.evaluate_claim(request).await.unwrap().into_inner();
                assert_eq!(answer.engine_version, env!("CARGO_PKG_VERSION"));
                answer.decision_id
            })
        })
        .collect();
    assert_eq!(ids[0], ids[1], "another process, another request id and locale");
    assert_eq!(ids[0], decide(&example()).decision_id, "and the same as in-process");
}

// ---------------------------------------------------------------------------
// Replay

/// Every decidable case of the corpus, stored as `replay` reads it: the
/// request and the response the service gave.
fn corpus_lines() -> Vec<Value> {
    let mut lines = Vec::new();
    for policy in PolicyId::ALL {
        let id = policy.meta().id;
        let path = corpus::cases_dir_of(env!("CARGO_MANIFEST_DIR")).join(format!("{id}.json"));
        let Some(file) = corpus::CorpusFile::read(&path) else {
            continue;
        };
        for (_, request) in file.case_requests() {
            let Ok(message) = json::from_value::<pb::EvaluateClaimRequest>(&request) else {
                continue;
            };
            let Ok(response) = service::evaluate(message, now()) else {
                continue; // a case about a refused request
            };
            let response: Value = serde_json::from_str(&json::to_json(&response).unwrap()).unwrap();
            lines.push(serde_json::json!({ "request": request, "response": response }));
        }
    }
    assert!(lines.len() > 300, "only {} decidable cases", lines.len());
    lines
}

fn replay(lines: &[Value]) -> Output {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    replay_text(&text)
}

fn replay_text(text: &str) -> Output {
    let mut child = hermetic::binary()
        .args(["replay", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let text = text.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    out
}

#[test]
fn replay_over_the_corpus_is_all_same_and_reports_what_changed() {
    let lines = corpus_lines();
    let n = lines.len();
    let out = replay(&lines);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.lines().filter(|l| l.contains(" same ")).count(), n, "{stdout}");
    assert!(
        stdout.ends_with(&format!("replayed {n}: {n} same, 0 changed (0 decision, 0 id only)\n")),
        "{stdout}"
    );

    // A stored id altered: the same answer, but not the decision stored.
    let mut altered = lines.clone();
    let id = altered[3]["response"]["decision_id"].as_str().unwrap().to_owned();
    let first = if id.starts_with('a') { "b" } else { "a" };
    altered[3]["response"]["decision_id"] = Value::from(format!("{first}{}", &id[1..]));
    // A stored request altered in a rule's input: a terms violation denies.
    let approved = altered
        .iter()
        .position(|l| l["response"]["decision"] == "DECISION_APPROVED")
        .unwrap();
    altered[approved]["request"]["claim"]["terms_violation"] = Value::from(true);
    let out = replay(&altered);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let line = |n: usize| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("{n} ")))
            .unwrap_or_else(|| panic!("no line {n}:\n{stdout}"))
            .to_owned()
    };
    let changed_id = line(4);
    assert!(changed_id.starts_with("4 changed id "), "{changed_id}");
    assert!(changed_id.contains(&format!("-> {id} ")), "{changed_id}");
    let changed_decision = line(approved + 1);
    assert!(
        changed_decision.contains(" changed decision APPROVED ") && changed_decision.contains("-> DENIED "),
        "{changed_decision}"
    );
    assert!(
        stdout.ends_with(&format!(
            "replayed {n}: {} same, 2 changed (1 decision, 1 id only)\n",
            n - 2
        )),
        "{stdout}"
    );
}

#[test]
fn replay_names_the_line_it_cannot_read() {
    let lines = corpus_lines();
    let text = format!("{}\n\n{{\"request\": {{}}\n", lines[0]);
    let out = replay_text(&text);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("standard input line 3: not JSON"), "{stderr}");

    let mut no_id = lines[0].clone();
    no_id["response"]["decision_id"] = Value::from("");
    let out = replay_text(&format!("{no_id}\n"));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("line 1: response.decision_id is required"), "{stderr}");
}
