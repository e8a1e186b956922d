//! The unary EvaluateClaim answer is written straight from the decision
//! (`grpc::answer::EvaluateClaimAnswer`), the stream's items and the CLI's
//! answers through `pb::EvaluateClaimResponse`: for every request of the case
//! corpus, with and without `explain`, in both languages, the two give the
//! same bytes, and the answer's `encoded_len` is the length it writes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "shared/corpus.rs"]
mod corpus;

use prost::Message;
use refund_eligibility::grpc::service;
use refund_eligibility::{json, pb};

#[test]
fn the_unary_answer_is_byte_for_byte_the_response_message() {
    let dir = corpus::cases_dir_of(env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let now = chrono::DateTime::parse_from_rfc3339("2026-06-01T12:00:00Z")
        .unwrap()
        .to_utc();
    let (mut compared, mut with_alternatives, mut with_trace, mut with_consequences, mut with_missing) =
        (0, 0, 0, 0, 0);
    for path in paths {
        let Some(file) = corpus::CorpusFile::read(&path) else {
            continue;
        };
        for (name, value) in file.case_requests() {
            let Ok(request) = json::from_value::<pb::EvaluateClaimRequest>(&value) else {
                continue;
            };
            for (explain, locale) in [(false, None), (true, None), (false, Some("fr")), (true, Some("en"))] {
                let mut request = request.clone();
                request.explain = explain;
                if let Some(locale) = locale {
                    request.locale = locale.to_owned();
                }
                let Ok(answer) = service::evaluate_answer(request.clone(), now) else {
                    continue;
                };
                let wire = answer.encode();
                let written = wire.encode_to_vec();
                assert_eq!(wire.encoded_len(), written.len(), "{name}: encoded_len");
                let message = answer.into_message();
                assert_eq!(
                    written,
                    message.encode_to_vec(),
                    "{name} (explain {explain}, locale {locale:?})"
                );
                assert_eq!(
                    message,
                    service::evaluate(request, now).unwrap(),
                    "{name}: the CLI's answer"
                );
                compared += 1;
                with_alternatives += usize::from(!message.alternatives.is_empty());
                with_trace += usize::from(!message.trace.is_empty());
                with_consequences += usize::from(!message.consequences.is_empty());
                with_missing += usize::from(!message.missing_information.is_empty());
            }
        }
    }
    assert!(compared > 1500, "{compared} answers compared");
    // Every repeated and optional part of the answer is exercised.
    assert!(
        with_alternatives > 20 && with_trace > 700 && with_consequences > 4 && with_missing > 20,
        "{with_alternatives} {with_trace} {with_consequences} {with_missing}"
    );
    eprintln!("{compared} answers compared ({with_alternatives} with alternatives, {with_trace} with a trace)");
}
