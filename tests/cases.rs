//! Runs the case corpus in `tests/cases/`: one test per policy file. Each
//! file must also reach every code of its policy's catalog, and nothing else.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;

use std::collections::BTreeSet;

use refund_eligibility::grpc::convert::list_policies_response;

fn catalog(policy_id: &str) -> BTreeSet<String> {
    let resp = list_policies_response(None);
    let policy = resp
        .policies
        .iter()
        .find(|p| p.r#ref.as_ref().is_some_and(|r| r.id == policy_id))
        .unwrap_or_else(|| panic!("policy {policy_id} not listed"));
    policy.reason_codes.iter().map(|c| c.code.clone()).collect()
}

fn run(file: &str) {
    let (corpus, seen) = support::run_corpus(file);
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

/// The statutory floor's own corpus: cases under several policies (a case may
/// name its `policy_id`). It must reach both statutory codes, and every code
/// it returns must be in some policy's catalog.
#[test]
fn statutory_floor() {
    let file = "statutory-floor.json";
    let (corpus, seen) = support::run_corpus(file);
    let all: BTreeSet<String> = refund_eligibility::policies::PolicyId::ALL
        .iter()
        .flat_map(|p| catalog(p.meta().id))
        .collect();
    let unlisted: Vec<_> = seen.difference(&all).collect();
    assert!(unlisted.is_empty(), "{file}: codes outside every catalog: {unlisted:?}");
    for code in refund_eligibility::policies::statutory::REASONS.iter().map(|r| r.code) {
        assert!(seen.contains(code), "{file}: no case reaches {code}");
    }
    assert!(corpus.cases.len() >= 20, "{file}: at least 20 cases");
}

macro_rules! corpus {
    ($($test:ident => $file:literal),* $(,)?) => {
        $(#[test] fn $test() { run($file); })*

        #[test]
        fn every_policy_has_a_corpus() {
            let files: BTreeSet<&str> = [$($file),*].into_iter().collect();
            for p in refund_eligibility::policies::PolicyId::ALL {
                let file = format!("{}.json", p.meta().id);
                assert!(files.contains(file.as_str()), "no corpus runner for {file}");
            }
        }
    };
}

corpus! {
    iptv_reseller => "iptv-reseller.json",
    iptv_smarters_pro => "iptv-smarters-pro.json",
    official_smarters_7day => "official-smarters-7day.json",
    smarterspro_officiel => "smarterspro-officiel.json",
    iptvsmartersprohub_fr => "iptvsmartersprohub-fr.json",
}
