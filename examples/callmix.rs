//! A fixed number of unary calls of one RPC against a running server, for
//! counting the server's instructions per call (`bench/callgrind-server.sh`):
//!
//! ```sh
//! cargo run --release --example callmix -- --addr http://127.0.0.1:50051 \
//!     --rpc evaluate --calls 10000 [--concurrency 8] [--connections 4]
//! ```
//!
//! `--rpc evaluate` sends the case corpus's EvaluateClaim requests
//! round-robin: every request of `tests/cases` that the service answers
//! with a decision (the deliberately invalid ones are left out, so that
//! every counted call is a served claim); `--rpc health` sends
//! Health/Check with an empty service name. `concurrency` tasks share
//! `connections` HTTP/2 connections, each task one call at a time. Every
//! answer must be OK, else the run fails: a count over failed calls would
//! measure the wrong path.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "../tests/shared/corpus.rs"]
mod corpus;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use refund_eligibility::grpc::service;
use refund_eligibility::pb::eligibility_service_client::EligibilityServiceClient;
use refund_eligibility::{json, pb};
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

struct Options {
    addr: String,
    rpc: String,
    calls: usize,
    concurrency: usize,
    connections: usize,
}

fn options() -> Options {
    let mut o = Options {
        addr: "http://127.0.0.1:50051".into(),
        rpc: "evaluate".into(),
        calls: 10_000,
        concurrency: 8,
        connections: 4,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--addr" => o.addr = value,
            "--rpc" => o.rpc = value,
            "--calls" => o.calls = value.parse().unwrap(),
            "--concurrency" => o.concurrency = value.parse().unwrap(),
            "--connections" => o.connections = value.parse().unwrap(),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    assert!(
        o.concurrency > 0 && o.connections > 0,
        "concurrency and connections must be positive"
    );
    o
}

/// The corpus's EvaluateClaim requests that the service decides (checked
/// in process, before any call is sent).
fn served_claims() -> Vec<pb::EvaluateClaimRequest> {
    let dir = corpus::cases_dir_of(env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let now = chrono::Utc::now();
    let mut out = Vec::new();
    for path in paths {
        let Some(file) = corpus::CorpusFile::read(&path) else {
            continue;
        };
        for (_, request) in file.case_requests() {
            if let Ok(r) = json::from_value::<pb::EvaluateClaimRequest>(&request) {
                if service::evaluate(r.clone(), now).is_ok() {
                    out.push(r);
                }
            }
        }
    }
    assert!(!out.is_empty(), "no corpus requests under {}", dir.display());
    out
}

#[tokio::main]
async fn main() {
    let o = options();
    let claims = Arc::new(if o.rpc == "evaluate" {
        served_claims()
    } else {
        Vec::new()
    });
    let mut channels = Vec::new();
    for _ in 0..o.connections {
        let channel: Channel = Endpoint::from_shared(o.addr.clone())
            .unwrap()
            .connect()
            .await
            .expect("connect to the server");
        channels.push(channel);
    }
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..o.concurrency)
        .map(|t| {
            let channel = channels[t % channels.len()].clone();
            let (claims, next, rpc, calls) = (Arc::clone(&claims), Arc::clone(&next), o.rpc.clone(), o.calls);
            tokio::spawn(async move {
                let mut eligibility = EligibilityServiceClient::new(channel.clone());
                let mut health = HealthClient::new(channel);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= calls {
                        return;
                    }
                    match rpc.as_str() {
                        "evaluate" => {
                            eligibility
                                .evaluate_claim(claims[i % claims.len()].clone())
                                .await
                                .expect("every counted claim is served");
                        }
                        "health" => {
                            health
                                .check(HealthCheckRequest { service: String::new() })
                                .await
                                .expect("Health/Check answers");
                        }
                        other => panic!("unknown --rpc {other} (evaluate or health)"),
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let kinds = if o.rpc == "evaluate" {
        format!(" over {} corpus claims", claims.len())
    } else {
        String::new()
    };
    println!("calls {}{kinds}", o.calls);
}
