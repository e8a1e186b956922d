//! Runs the engine over the case corpus in a loop, for counting instructions
//! per evaluation under callgrind (stable on a noisy machine, unlike time):
//!
//! ```sh
//! cargo build --release --example evaluate_loop
//! valgrind --tool=callgrind --toggle-collect='*measured_*' \
//!     target/release/examples/evaluate_loop evaluate iptv-smarters-pro 200
//! ```
//!
//! Only the `measured_*` functions are counted, so corpus loading is left
//! out; instructions per evaluation = callgrind's total / the `calls` this
//! prints. `bench/callgrind.sh` does this for every policy.
//!
//! Usage: `evaluate_loop <evaluate|evaluate-explain|evaluate-explain-written|quote|wire|wire-explain> <policy-id|all> [iterations]`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "../benches/support/corpus.rs"]
mod corpus;

use std::hint::black_box;
use std::process::ExitCode;

use prost::Message;
use refund_eligibility::domain::claim::Language;
use refund_eligibility::domain::trace::Recorder;
use refund_eligibility::grpc::service;
use refund_eligibility::policies::PolicyId;
use refund_eligibility::{engine, pb};

#[inline(never)]
fn measured_evaluate(policy: PolicyId, claims: &[corpus::Claim], iterations: usize) {
    for _ in 0..iterations {
        for c in claims {
            black_box(engine::evaluate(policy, black_box(&c.request)));
        }
    }
}

/// [`measured_evaluate`] with the trace recorded, as the service does for
/// `explain`: each rule's facts kept, its text not yet written.
#[inline(never)]
fn measured_explain(policy: PolicyId, claims: &[corpus::Claim], iterations: usize) {
    for _ in 0..iterations {
        for c in claims {
            let mut rec = Recorder::new();
            black_box(engine::evaluate_traced(policy, black_box(&c.request), &mut rec));
            black_box(&rec);
        }
    }
}

/// [`measured_explain`], then every rule's detail written in English (into
/// one reused buffer): what the encoder adds when it reads the trace.
#[inline(never)]
fn measured_explain_written(policy: PolicyId, claims: &[corpus::Claim], iterations: usize) {
    let mut text = String::with_capacity(4096);
    for _ in 0..iterations {
        for c in claims {
            let mut rec = Recorder::new();
            black_box(engine::evaluate_traced(policy, black_box(&c.request), &mut rec));
            text.clear();
            for e in rec.entries() {
                e.write_detail(Language::En, &mut text);
            }
            black_box(&text);
        }
    }
}

#[inline(never)]
fn measured_quote(policy: PolicyId, quotes: &[corpus::QuoteClaim], iterations: usize) {
    for _ in 0..iterations {
        for q in quotes {
            black_box(engine::quote(policy, black_box(&q.request)));
        }
    }
}

/// [`measured_wire`] with `explain` set in every request: the trace recorded,
/// encoded and sent.
#[inline(never)]
fn measured_wire_explain(claims: &[Vec<u8>], iterations: usize) {
    let now = corpus::now();
    for _ in 0..iterations {
        for bytes in claims {
            let req = pb::EvaluateClaimRequest::decode(black_box(bytes.as_slice())).unwrap();
            let resp = service::evaluate(req, now).unwrap();
            black_box(resp.encode_to_vec());
        }
    }
}

#[inline(never)]
fn measured_wire(claims: &[Vec<u8>], iterations: usize) {
    let now = corpus::now();
    for _ in 0..iterations {
        for bytes in claims {
            let req = pb::EvaluateClaimRequest::decode(black_box(bytes.as_slice())).unwrap();
            let resp = service::evaluate(req, now).unwrap();
            black_box(resp.encode_to_vec());
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(what), Some(which)) = (args.get(1), args.get(2)) else {
        eprintln!(
            "usage: evaluate_loop <evaluate|evaluate-explain|evaluate-explain-written|quote|wire|wire-explain> <policy-id|all> [iterations]"
        );
        return ExitCode::FAILURE;
    };
    let iterations: usize = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(100);
    let corpora: Vec<_> = corpus::load_all()
        .into_iter()
        .filter(|pc| which == "all" || pc.policy.meta().id == which)
        .collect();
    if corpora.is_empty() {
        eprintln!("no corpus for {which}");
        return ExitCode::FAILURE;
    }
    let mut calls = 0;
    for pc in &corpora {
        match what.as_str() {
            "evaluate" => {
                measured_evaluate(pc.policy, &pc.claims, iterations);
                calls += pc.claims.len() * iterations;
            }
            "evaluate-explain" => {
                measured_explain(pc.policy, &pc.claims, iterations);
                calls += pc.claims.len() * iterations;
            }
            "evaluate-explain-written" => {
                measured_explain_written(pc.policy, &pc.claims, iterations);
                calls += pc.claims.len() * iterations;
            }
            "quote" => {
                measured_quote(pc.policy, &pc.quotes, iterations);
                calls += pc.quotes.len() * iterations;
            }
            "wire" => {
                let bytes: Vec<Vec<u8>> = pc.claims.iter().map(|c| c.wire.encode_to_vec()).collect();
                measured_wire(&bytes, iterations);
                calls += bytes.len() * iterations;
            }
            "wire-explain" => {
                let bytes: Vec<Vec<u8>> = pc
                    .claims
                    .iter()
                    .map(|c| {
                        pb::EvaluateClaimRequest {
                            explain: true,
                            ..c.wire.clone()
                        }
                        .encode_to_vec()
                    })
                    .collect();
                measured_wire_explain(&bytes, iterations);
                calls += bytes.len() * iterations;
            }
            other => {
                eprintln!("unknown mode {other}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("calls {calls}");
    ExitCode::SUCCESS
}
