//! The evaluation path does not touch the heap: `engine::evaluate` and
//! `engine::quote` make zero allocations for every valid claim of every
//! policy's case corpus. A property, not a timing: a counting global
//! allocator (stats_alloc) wraps the system allocator in this test binary only.
//!
//! One test function on purpose: the counter is global, and a second test
//! running on another thread would be counted too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "../benches/support/corpus.rs"]
mod corpus;

use std::alloc::System;
use std::hint::black_box;

use refund_eligibility::engine;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Allocations (plus reallocations) made while running `f`.
fn allocations(f: impl FnOnce()) -> usize {
    let region = Region::new(GLOBAL);
    f();
    let stats = region.change();
    stats.allocations + stats.reallocations
}

#[test]
fn evaluation_and_quote_make_no_heap_allocation() {
    let corpora = corpus::load_all();
    assert!(!corpora.is_empty(), "no corpus file found");
    // The counter is live: building a String is seen.
    assert!(allocations(|| drop(black_box(String::from("counted")))) > 0);

    let mut failures = Vec::new();
    let mut claims = 0;
    let mut quotes = 0;
    for pc in &corpora {
        let policy = pc.policy;
        let id = policy.meta().id;
        for claim in &pc.claims {
            // Warm once (lazy statics such as time-zone tables, if any, are not the request path).
            black_box(engine::evaluate(policy, &claim.request));
            let n = allocations(|| {
                black_box(engine::evaluate(policy, black_box(&claim.request)));
            });
            if n != 0 {
                failures.push(format!("{id}: evaluate {:?}: {n} allocations", claim.name));
            }
            claims += 1;
        }
        for q in &pc.quotes {
            black_box(engine::quote(policy, &q.request));
            let n = allocations(|| {
                black_box(engine::quote(policy, black_box(&q.request)));
            });
            if n != 0 {
                failures.push(format!("{id}: quote {:?}: {n} allocations", q.name));
            }
            quotes += 1;
        }
    }
    assert!(claims > 0, "no valid claim in the corpus");
    assert!(
        failures.is_empty(),
        "heap allocations on the evaluation path:\n{}",
        failures.join("\n")
    );
    eprintln!(
        "{claims} claims and {quotes} quotes of {} policies: 0 allocations",
        corpora.len()
    );
}
