//! The compiled-in `iptv-smarters-pro` module against the same policy in Rego
//! under regorus, on the same claims (every valid claim of the service's
//! corpus, one pass per iteration; time per claim = time / claims).
//!
//! - `native`: `engine::evaluate` on the validated claim; it computes the
//!   statutory withdrawal period (holiday calendar) itself, as the service
//!   does, for the claims the floor may cover.
//! - `regorus-engine`: one `Engine`, policy added and prepared once, reused:
//!   `set_input` + `eval_rule` on an input value built before the loop (the
//!   period's end included: this figure does NOT pay for the calendar).
//! - `regorus-compiled`: `CompiledPolicy::eval_with_input` (compiled once),
//!   same prebuilt inputs.
//! - `regorus-engine+input`: the reused engine with the input value built in
//!   the loop from the validated claim, as a service embedding regorus would:
//!   this one pays for the period (`withdrawal::period`, the Rust calendar)
//!   on every claim with a covered country.
//!
//! - `withdrawal-period`: that calendar computation alone, over the corpus.
//!
//! Both sides get the claim decoded and validated outside the timed loop.
//! `cargo bench` in bench/rego-peer.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use refund_eligibility::engine;
use refund_eligibility::policies::PolicyId;
use rego_peer::{corpus_claims, corpus_path, input, withdrawal_period_ends_before, RegoPeer};
use regorus::Value;

fn compare(c: &mut Criterion) {
    let claims = corpus_claims(&corpus_path()).expect("corpus loads");
    let inputs: Vec<Value> = claims.iter().map(|c| input(&c.request)).collect();
    let mut peer = RegoPeer::new().expect("policy compiles");
    let policy = PolicyId::IptvSmartersPro;
    let n = claims.len();

    let mut group = c.benchmark_group("iptv-smarters-pro");
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(BenchmarkId::new("native", format!("corpus-{n}")), |b| {
        b.iter(|| {
            for claim in &claims {
                black_box(engine::evaluate(policy, black_box(&claim.request)));
            }
        })
    });
    group.bench_function(BenchmarkId::new("regorus-engine", format!("corpus-{n}")), |b| {
        b.iter(|| {
            for v in &inputs {
                black_box(peer.eval_engine(black_box(v.clone())).expect("evaluates"));
            }
        })
    });
    group.bench_function(BenchmarkId::new("regorus-compiled", format!("corpus-{n}")), |b| {
        b.iter(|| {
            for v in &inputs {
                black_box(peer.eval_compiled(black_box(v.clone())).expect("evaluates"));
            }
        })
    });
    group.bench_function(BenchmarkId::new("regorus-engine+input", format!("corpus-{n}")), |b| {
        b.iter(|| {
            for claim in &claims {
                let v = input(black_box(&claim.request));
                black_box(peer.eval_engine(v).expect("evaluates"));
            }
        })
    });

    // What `regorus-engine+input` pays on top of `regorus-engine` for the
    // calendar: the period's end of every claim, computed by the service.
    group.bench_function(BenchmarkId::new("withdrawal-period", format!("corpus-{n}")), |b| {
        b.iter(|| {
            for claim in &claims {
                black_box(withdrawal_period_ends_before(black_box(&claim.request)));
            }
        })
    });

    // The corpus' default claim alone (not as described, within 48 h).
    if let (Some(claim), Some(v)) = (claims.first(), inputs.first()) {
        group.throughput(Throughput::Elements(1));
        group.bench_function(BenchmarkId::new("native", "default-claim"), |b| {
            b.iter(|| engine::evaluate(policy, black_box(&claim.request)))
        });
        group.bench_function(BenchmarkId::new("regorus-engine", "default-claim"), |b| {
            b.iter(|| peer.eval_engine(black_box(v.clone())).expect("evaluates"))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = compare
}
criterion_main!(benches);
