//! In-process benchmarks over the case corpus (`tests/cases/*.json`).
//!
//! - `evaluate/<policy>/corpus`: `engine::evaluate` over every valid claim of
//!   the policy's corpus, one pass per iteration (criterion's throughput line
//!   gives claims/s; time per claim = time per iteration / claims).
//! - `evaluate/<policy>/median-claim` and `.../slowest`: the policy's median
//!   and most expensive claims alone (ranked by a pre-pass outside the
//!   measurement); the first is "the median evaluation of one claim".
//! - `quote/<policy>/corpus`, `.../median-quote`, `.../slowest`: the same for
//!   `engine::quote`, over the corpus' quotes plus every claim's purchase at
//!   its `evaluated_at`.
//! - `wire/<policy>/evaluate_claim` and `wire/<policy>/quote_refund`: the
//!   whole request path short of HTTP/2: protobuf decode, validation, the
//!   engine, the response (texts, explanation), protobuf encode.
//! - `wire-breakdown/*`: those five steps one by one, for one typical claim.
//!
//! Decoding of the corpus happens once, outside every timed loop. Run with
//! `cargo bench --bench engine`; policies whose corpus has not landed are skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "support/corpus.rs"]
mod corpus;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use prost::Message;
use refund_eligibility::grpc::{decode, encode, service};
use refund_eligibility::{engine, pb};

/// Indices of the inputs ordered by the cost of one evaluation (best of a
/// few short rounds each, measured outside criterion): the middle one is the
/// policy's median claim, the last its slowest.
fn ranked<T>(items: &[T], mut run: impl FnMut(&T)) -> Vec<usize> {
    const ROUNDS: usize = 5;
    const ITERS: u32 = 200;
    let mut costs: Vec<(Duration, usize)> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let best = (0..ROUNDS)
                .map(|_| {
                    let start = Instant::now();
                    for _ in 0..ITERS {
                        run(item);
                    }
                    start.elapsed()
                })
                .min()
                .unwrap_or_default();
            (best, i)
        })
        .collect();
    costs.sort();
    costs.into_iter().map(|(_, i)| i).collect()
}

fn evaluate(c: &mut Criterion) {
    let corpora = corpus::load_all();
    let mut group = c.benchmark_group("evaluate");
    for pc in &corpora {
        if pc.claims.is_empty() {
            continue;
        }
        let id = pc.policy.meta().id;
        let policy = pc.policy;
        group.throughput(Throughput::Elements(pc.claims.len() as u64));
        group.bench_function(BenchmarkId::new(id, format!("corpus-{}", pc.claims.len())), |b| {
            b.iter(|| {
                for claim in &pc.claims {
                    black_box(engine::evaluate(policy, black_box(&claim.request)));
                }
            })
        });
        let order = ranked(&pc.claims, |c| {
            black_box(engine::evaluate(policy, black_box(&c.request)));
        });
        group.throughput(Throughput::Elements(1));
        for (label, i) in [
            ("median-claim", order[order.len() / 2]),
            ("slowest", order[order.len() - 1]),
        ] {
            let claim = &pc.claims[i];
            eprintln!("evaluate/{id}/{label} is {:?}", claim.name);
            group.bench_function(BenchmarkId::new(id, label), |b| {
                b.iter(|| engine::evaluate(policy, black_box(&claim.request)))
            });
        }
    }
    group.finish();
}

fn quote(c: &mut Criterion) {
    let corpora = corpus::load_all();
    let mut group = c.benchmark_group("quote");
    for pc in &corpora {
        if pc.quotes.is_empty() {
            continue;
        }
        let id = pc.policy.meta().id;
        let policy = pc.policy;
        group.throughput(Throughput::Elements(pc.quotes.len() as u64));
        group.bench_function(BenchmarkId::new(id, format!("corpus-{}", pc.quotes.len())), |b| {
            b.iter(|| {
                for q in &pc.quotes {
                    black_box(engine::quote(policy, black_box(&q.request)));
                }
            })
        });
        let order = ranked(&pc.quotes, |q| {
            black_box(engine::quote(policy, black_box(&q.request)));
        });
        group.throughput(Throughput::Elements(1));
        for (label, i) in [
            ("median-quote", order[order.len() / 2]),
            ("slowest", order[order.len() - 1]),
        ] {
            let q = &pc.quotes[i];
            eprintln!("quote/{id}/{label} is {:?}", q.name);
            group.bench_function(BenchmarkId::new(id, label), |b| {
                b.iter(|| engine::quote(policy, black_box(&q.request)))
            });
        }
    }
    group.finish();
}

fn wire(c: &mut Criterion) {
    let corpora = corpus::load_all();
    let now = corpus::now();
    let mut group = c.benchmark_group("wire");
    for pc in &corpora {
        let id = pc.policy.meta().id;
        let claims: Vec<Vec<u8>> = pc.claims.iter().map(|c| c.wire.encode_to_vec()).collect();
        let quotes: Vec<Vec<u8>> = pc.quotes.iter().map(|q| q.wire.encode_to_vec()).collect();
        if !claims.is_empty() {
            group.throughput(Throughput::Elements(claims.len() as u64));
            group.bench_function(BenchmarkId::new(id, "evaluate_claim"), |b| {
                b.iter(|| {
                    for bytes in &claims {
                        let req = pb::EvaluateClaimRequest::decode(black_box(bytes.as_slice())).unwrap();
                        let resp = service::evaluate(req, now).unwrap();
                        black_box(resp.encode_to_vec());
                    }
                })
            });
        }
        if !quotes.is_empty() {
            group.throughput(Throughput::Elements(quotes.len() as u64));
            group.bench_function(BenchmarkId::new(id, "quote_refund"), |b| {
                b.iter(|| {
                    for bytes in &quotes {
                        let req = pb::QuoteRefundRequest::decode(black_box(bytes.as_slice())).unwrap();
                        let resp = service::quote(req, now).unwrap();
                        black_box(resp.encode_to_vec());
                    }
                })
            });
        }
    }
    group.finish();
}

/// Where the wire path's time goes, step by step, for the first claim of the
/// first corpus (the iptv-smarters-pro default claim once that corpus exists).
fn wire_breakdown(c: &mut Criterion) {
    let corpora = corpus::load_all();
    let Some(pc) = corpora
        .iter()
        .find(|pc| pc.policy.meta().id == "iptv-smarters-pro")
        .or(corpora.first())
    else {
        return;
    };
    let Some(claim) = pc.claims.first() else { return };
    let now = corpus::now();
    let bytes = claim.wire.encode_to_vec();
    let policy = pc.policy;
    let outcome = engine::evaluate(policy, &claim.request);
    let meta = policy.meta();
    let response = service::evaluate(claim.wire.clone(), now).unwrap();
    let mut group = c.benchmark_group("wire-breakdown");
    group.bench_function("1-protobuf-decode", |b| {
        b.iter(|| pb::EvaluateClaimRequest::decode(black_box(bytes.as_slice())).unwrap())
    });
    group.bench_function("2-validate", |b| {
        b.iter_batched(
            || claim.wire.clone(),
            |req| decode::decode_evaluate(req, now).is_ok(),
            criterion::BatchSize::SmallInput,
        )
    });
    group.bench_function("3-engine", |b| {
        b.iter(|| engine::evaluate(policy, black_box(&claim.request)))
    });
    group.bench_function("4-response", |b| {
        b.iter(|| {
            encode::evaluate_response(
                black_box(&outcome),
                meta,
                meta.source_language,
                String::new(),
                claim.request.evaluated_at,
            )
        })
    });
    group.bench_function("5-protobuf-encode", |b| b.iter(|| black_box(&response).encode_to_vec()));
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(40);
    targets = evaluate, quote, wire, wire_breakdown
}
criterion_main!(benches);
