//! The case corpus (`tests/cases/<policy>.json`) as realistic inputs for
//! benchmarks, the allocation test and the callgrind driver: every case that
//! decodes to a valid claim, already decoded and validated (the part of a
//! request the engine never sees), plus its wire message.
//!
//! Shared by `benches/engine.rs`, `tests/alloc_free.rs` and
//! `examples/evaluate_loop.rs` through `#[path]`; it walks `PolicyId::ALL`,
//! so a policy's corpus is picked up as soon as its file lands.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use refund_eligibility::domain::claim::{ClaimRequest, QuoteRequest};
use refund_eligibility::grpc::decode;
use refund_eligibility::policies::PolicyId;
use refund_eligibility::{json, pb};

/// One valid claim of a corpus.
pub struct Claim {
    pub name: String,
    pub request: ClaimRequest,
    pub wire: pb::EvaluateClaimRequest,
}

/// One valid QuoteRefund request.
pub struct QuoteClaim {
    pub name: String,
    pub request: QuoteRequest,
    pub wire: pb::QuoteRefundRequest,
}

/// A policy with the valid claims and quotes of its corpus file.
pub struct PolicyCorpus {
    pub policy: PolicyId,
    pub claims: Vec<Claim>,
    /// The corpus' own quotes, then one per claim (the claim's purchase at its `evaluated_at`).
    pub quotes: Vec<QuoteClaim>,
}

/// The instant standing in for an unset `evaluated_at`, as in the corpus runner.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_893_456_000, 0).unwrap() // 2030-01-01T00:00:00Z
}

#[path = "../../tests/shared/corpus.rs"]
mod shared;

pub fn cases_dir() -> PathBuf {
    shared::cases_dir_of(env!("CARGO_MANIFEST_DIR"))
}

/// Loads one policy's corpus; `None` when its file has not landed yet.
pub fn load(policy: PolicyId) -> Option<PolicyCorpus> {
    let id = policy.meta().id;
    let file = shared::CorpusFile::read(&cases_dir().join(format!("{id}.json")))?;
    let mut claims = Vec::new();
    let mut quotes = Vec::new();
    for (name, request) in file.case_requests() {
        let Ok(wire) = json::from_value::<pb::EvaluateClaimRequest>(&request) else {
            continue;
        };
        let Ok(input) = decode::decode_evaluate(wire.clone(), now()) else {
            continue; // a case about a gRPC error
        };
        if input.policy != policy {
            continue;
        }
        let quote_wire = pb::QuoteRefundRequest {
            policy_id: wire.policy_id.clone(),
            purchase: wire.purchase.clone(),
            as_of: wire.evaluated_at,
            locale: wire.locale.clone(),
        };
        if let Ok(q) = decode::decode_quote(quote_wire.clone(), now()) {
            quotes.push(QuoteClaim {
                name: format!("quote of {name}"),
                request: q.request,
                wire: quote_wire,
            });
        }
        claims.push(Claim {
            name: name.to_owned(),
            request: input.request,
            wire,
        });
    }
    let mut own = Vec::new();
    for (name, request) in file.quote_requests() {
        let Ok(wire) = json::from_value::<pb::QuoteRefundRequest>(&request) else {
            continue;
        };
        if let Ok(q) = decode::decode_quote(wire.clone(), now()) {
            own.push(QuoteClaim {
                name: name.to_owned(),
                request: q.request,
                wire,
            });
        }
    }
    own.extend(quotes);
    Some(PolicyCorpus {
        policy,
        claims,
        quotes: own,
    })
}

/// Every policy whose corpus file exists, in `PolicyId::ALL` order.
pub fn load_all() -> Vec<PolicyCorpus> {
    PolicyId::ALL.iter().filter_map(|&p| load(p)).collect()
}
