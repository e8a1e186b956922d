//! Runs the case corpus in `tests/cases/`: one file per policy of the
//! registry (`<id>.json`) and the statutory floor's. Each policy file must
//! also reach every code of its policy's catalog, and nothing else.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;

use std::collections::BTreeSet;

use refund_eligibility::grpc::encode::list_policies_response;
use refund_eligibility::policies::PolicyId;

fn catalog(policy_id: &str) -> BTreeSet<String> {
    let resp = list_policies_response(None);
    let policy = resp
        .policies
        .iter()
        .find(|p| p.r#ref.as_ref().is_some_and(|r| r.id == policy_id))
        .unwrap_or_else(|| panic!("policy {policy_id} not listed"));
    policy.reason_codes.iter().map(|c| c.code.clone()).collect()
}

/// Runs one policy's corpus. Its reason codes, from the cases as written and
/// from the engine over the same cases with the amount past `Decimal`'s range
/// (how a corpus reaches `AMOUNT_NOT_COMPUTABLE`, which validation keeps off
/// the wire), must be exactly its catalog.
fn run(file: &str) {
    let (corpus, mut seen) = support::run_corpus(file);
    seen.extend(support::run_corpus_through_engine(&corpus));
    let catalog = catalog(&corpus.policy_id);
    let unreached: Vec<_> = catalog.difference(&seen).collect();
    let unlisted: Vec<_> = seen.difference(&catalog).collect();
    assert!(
        unlisted.is_empty(),
        "{file}: codes returned but not in the catalog: {unlisted:?}"
    );
    assert!(
        unreached.is_empty(),
        "{file}: catalog codes no case reaches: {unreached:?}"
    );
    assert!(
        corpus.cases.len() >= 20,
        "{file}: at least 20 cases, found {}",
        corpus.cases.len()
    );
}

/// Every policy of the registry has its corpus `tests/cases/<id>.json`, run
/// here; a failing corpus does not hide the others.
#[test]
fn every_policy_corpus() {
    let failed: Vec<String> = PolicyId::ALL
        .iter()
        .map(|p| format!("{}.json", p.meta().id))
        .filter(|file| std::panic::catch_unwind(|| run(file)).is_err())
        .collect();
    assert!(failed.is_empty(), "failing corpora (messages above): {failed:?}");
}

/// No corpus file is left over from a policy the registry no longer has.
#[test]
fn every_corpus_file_belongs_to_a_policy() {
    let mut expected: BTreeSet<String> = PolicyId::ALL.iter().map(|p| format!("{}.json", p.meta().id)).collect();
    expected.insert(STATUTORY_FLOOR.to_owned());
    let found: BTreeSet<String> = std::fs::read_dir(support::cases_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    assert_eq!(found, expected);
}

const STATUTORY_FLOOR: &str = "statutory-floor.json";

/// The statutory floor's own corpus: cases under several policies (a case may
/// name its `policy_id`). It must reach both statutory codes, and every code
/// it returns must be in some policy's catalog.
#[test]
fn statutory_floor() {
    let file = STATUTORY_FLOOR;
    let (corpus, mut seen) = support::run_corpus(file);
    seen.extend(support::run_corpus_through_engine(&corpus));
    let all: BTreeSet<String> = PolicyId::ALL.iter().flat_map(|p| catalog(p.meta().id)).collect();
    let unlisted: Vec<_> = seen.difference(&all).collect();
    assert!(unlisted.is_empty(), "{file}: codes outside every catalog: {unlisted:?}");
    for code in refund_eligibility::policies::statutory::REASONS.iter().map(|r| r.code) {
        assert!(seen.contains(code), "{file}: no case reaches {code}");
    }
    assert!(corpus.cases.len() >= 20, "{file}: at least 20 cases");
}
