//! The CI-sized equivalent of the fuzz target (`fuzz/`): arbitrary bytes,
//! mutated valid encodings and wild-but-decodable messages go through
//! decoding, validation and evaluation exactly as the gRPC service runs
//! them, and must never panic; whatever is answered keeps the refund within
//! `[0, amount paid]` in the purchase's currency.
//!
//! Inputs the fuzzer found are kept in `fuzz/regressions/` and replayed here.
//! `PROPTEST_CASES=N` runs N cases of every property instead of the defaults.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use prost::Message;
use rust_decimal::Decimal;

use refund_eligibility::grpc::service;
use refund_eligibility::json;
use refund_eligibility::pb;
use refund_eligibility::policies::PolicyId;

fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).unwrap()
}

fn amount(m: &Option<pb::Money>) -> Option<Decimal> {
    m.as_ref().and_then(|m| m.amount.parse().ok())
}

/// What the fuzz target does with one input: the first byte picks the policy
/// (one value in six leaves the request's own policy id), the rest is the message.
fn run_input(data: &[u8]) -> Result<(), TestCaseError> {
    let Some((&selector, message)) = data.split_first() else {
        return Ok(());
    };
    let policy = PolicyId::ALL
        .get(usize::from(selector) % (PolicyId::ALL.len() + 1))
        .copied();
    if let Ok(mut req) = pb::EvaluateClaimRequest::decode(message) {
        if let Some(p) = policy {
            req.policy_id = p.meta().id.to_owned();
        }
        check_evaluate(req)?;
    }
    if let Ok(mut req) = pb::QuoteRefundRequest::decode(message) {
        if let Some(p) = policy {
            req.policy_id = p.meta().id.to_owned();
        }
        check_quote(req)?;
    }
    Ok(())
}

fn check_evaluate(req: pb::EvaluateClaimRequest) -> Result<(), TestCaseError> {
    let paid = req.purchase.as_ref().and_then(|p| p.amount_paid.clone());
    let first = service::evaluate(req.clone(), now());
    let second = service::evaluate(req, now());
    prop_assert_eq!(&first, &second, "two answers to one request");
    if let (Ok(resp), Some(paid)) = (first, paid) {
        let refund = amount(&resp.refund_amount);
        let limit = amount(&Some(paid.clone())).unwrap();
        prop_assert!(
            refund.is_some_and(|r| r >= Decimal::ZERO && r <= limit),
            "refund {refund:?} outside [0, {limit}]"
        );
        prop_assert_eq!(resp.refund_amount.map(|m| m.currency_code), Some(paid.currency_code));
    }
    Ok(())
}

fn check_quote(req: pb::QuoteRefundRequest) -> Result<(), TestCaseError> {
    let paid = req.purchase.as_ref().and_then(|p| amount(&p.amount_paid));
    let first = service::quote(req.clone(), now());
    let second = service::quote(req, now());
    prop_assert_eq!(&first, &second, "two quotes of one request");
    if let (Ok(resp), Some(paid)) = (first, paid) {
        let now_amount = amount(&resp.refundable_now);
        prop_assert!(now_amount.is_some_and(|a| a >= Decimal::ZERO && a <= paid));
        for pair in resp.schedule.windows(2) {
            prop_assert_eq!(pair[0].ends_at, pair[1].starts_at, "gap or overlap in the schedule");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- seeds

#[path = "shared/corpus.rs"]
mod corpus;

/// Every request of the case corpus, encoded: the valid inputs mutations start from.
fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut out = Vec::new();
        let mut files: Vec<PathBuf> = std::fs::read_dir(corpus::cases_dir_of(env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        for file in files {
            let corpus = corpus::CorpusFile::read(&file).unwrap();
            for (_, request) in corpus.case_requests() {
                if let Ok(req) = json::from_value::<pb::EvaluateClaimRequest>(&request) {
                    out.push(req.encode_to_vec());
                    let quote = pb::QuoteRefundRequest {
                        policy_id: req.policy_id.clone(),
                        purchase: req.purchase.clone(),
                        as_of: req.evaluated_at,
                        locale: req.locale.clone(),
                    };
                    out.push(quote.encode_to_vec());
                }
            }
        }
        assert!(out.len() >= 10, "too few seeds: {}", out.len());
        out
    })
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip(usize, u8),
    Set(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
    Splice(usize, usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<usize>(), 1u8..).prop_map(|(i, b)| Mutation::Flip(i, b)),
        2 => (any::<usize>(), prop::sample::select(vec![0x00u8, 0x01, 0x7f, 0x80, 0xff, 0x08, 0x0a, 0x12, 0x1a])).prop_map(|(i, b)| Mutation::Set(i, b)),
        2 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..12)).prop_map(|(i, v)| Mutation::Insert(i, v)),
        1 => (any::<usize>(), 1usize..16).prop_map(|(i, n)| Mutation::Delete(i, n)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), any::<usize>(), any::<usize>()).prop_map(|(s, a, b)| Mutation::Splice(s, a, b)),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len().max(1);
        match m {
            Mutation::Flip(i, b) => {
                if let Some(x) = bytes.get_mut(i % len) {
                    *x ^= b;
                }
            }
            Mutation::Set(i, b) => {
                if let Some(x) = bytes.get_mut(i % len) {
                    *x = *b;
                }
            }
            Mutation::Insert(i, v) => {
                let at = i % (bytes.len() + 1);
                bytes.splice(at..at, v.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let at = i % len;
                let end = (at + n).min(bytes.len());
                if at < end {
                    bytes.drain(at..end);
                }
            }
            Mutation::Truncate(i) => bytes.truncate(i % len),
            Mutation::Splice(s, a, b) => {
                let other = &seeds()[s % seeds().len()];
                let from = a % other.len().max(1);
                let to = (from + b % 64).min(other.len());
                let at = a % (bytes.len() + 1);
                bytes.splice(at..at, other[from..to].iter().copied());
            }
        }
    }
    bytes
}

// ---------------------------------------------------------------- wild messages

/// Timestamps anywhere an i64 reaches, near the protobuf range's ends, and in the present.
fn wild_timestamp() -> impl Strategy<Value = Option<prost_types::Timestamp>> {
    let seconds = prop_oneof![
        1 => any::<i64>(),
        1 => prop::sample::select(vec![-62_135_596_800i64, -62_135_596_801, 253_402_300_799, 253_402_300_800, 0, -1]),
        1 => -62_135_596_800i64..253_402_300_799,
        3 => 1_700_000_000i64..1_900_000_000,
    ];
    let nanos = prop_oneof![4 => Just(0i32), 1 => any::<i32>(), 1 => 0i32..1_000_000_000];
    prop::option::weighted(
        0.85,
        (seconds, nanos).prop_map(|(seconds, nanos)| prost_types::Timestamp { seconds, nanos }),
    )
}

fn wild_enum() -> impl Strategy<Value = i32> {
    prop_oneof![6 => 0i32..8, 1 => 8i32..20, 1 => any::<i32>()]
}

fn wild_money() -> impl Strategy<Value = Option<pb::Money>> {
    let code = prop::sample::select(vec!["EUR", "JPY", "KWD", "CLF", "USD", "eur", "XXX", "", "EURO", "€"]);
    let amount = prop_oneof![
        3 => (0u64..u64::MAX).prop_map(|v| v.to_string()),
        2 => (0u64..1_000_000, 0u32..10_000).prop_map(|(i, f)| format!("{i}.{f}")),
        1 => prop::sample::select(vec![
            "", "0", "-1", "1e9", ".5", "5.", "999999999999999", "9999999999999999", "999999999999999.9999",
            "0000000000000000000000000001", "79228162514264337593543950335", "NaN", "1.2.3", " 1",
        ]).prop_map(str::to_owned),
    ];
    prop::option::weighted(
        0.9,
        (code, amount).prop_map(|(c, a)| pb::Money {
            currency_code: c.to_owned(),
            amount: a,
        }),
    )
}

fn wild_purchase() -> impl Strategy<Value = Option<pb::Purchase>> {
    let p = (
        wild_money(),
        wild_timestamp(),
        wild_timestamp(),
        prop_oneof![3 => 0u32..=121, 1 => any::<u32>()],
        (wild_enum(), wild_enum(), wild_enum()),
        prop::sample::select(vec!["", "FR", "US", "GB", "fr", "XX", "UK", "FRA"]),
        any::<bool>(),
        prop::sample::select(vec!["", "ORD-1"]),
    )
        .prop_map(
            |(amount_paid, purchased_at, delivered_at, term_months, (pt, pm, ct), country, consent, id)| pb::Purchase {
                order_id: id.to_owned(),
                amount_paid,
                purchased_at,
                delivered_at,
                term_months,
                price_type: pt,
                payment_method: pm,
                customer_type: ct,
                customer_country: country.to_owned(),
                express_consent_immediate_performance: consent,
                withdrawal_information_given: None,
                invoice_number: id.to_owned(),
                purchase_email: id.to_owned(),
                reseller_id: id.to_owned(),
                transaction_id: id.to_owned(),
            },
        );
    prop::option::weighted(0.95, p)
}

fn wild_claim() -> impl Strategy<Value = Option<pb::Claim>> {
    let duration = prop::option::of(
        prop_oneof![
            3 => (0i64..1_000_000, Just(0i32)),
            1 => (any::<i64>(), any::<i32>()),
            1 => (prop::sample::select(vec![315_576_000_000i64, -315_576_000_000, 315_576_000_001, i64::MIN, i64::MAX]), -1i32..=1),
        ]
        .prop_map(|(seconds, nanos)| prost_types::Duration { seconds, nanos }),
    );
    let outage = prop::option::of((duration, any::<bool>(), wild_enum(), any::<bool>()).prop_map(
        |(duration, announced, scope, resolved)| pb::Outage {
            duration,
            announced,
            scope,
            resolved,
        },
    ));
    let support = prop::option::of(
        (any::<[bool; 7]>(), wild_timestamp()).prop_map(|(f, first)| pb::SupportHistory {
            contacted: f[0],
            first_contacted_at: first,
            troubleshooting_completed: f[1],
            resolved: f[2],
            incompatibility_confirmed: f[3],
            compensation_offered: f[4],
            compensation_declined: f[5],
        }),
    );
    let c = (
        (wild_enum(), wild_timestamp(), wild_timestamp(), wild_enum()),
        (outage, support),
        (wild_money(), wild_money(), wild_money()),
        (
            prop::option::of(any::<bool>()),
            prop::option::of(any::<bool>()),
            any::<[bool; 4]>(),
            any::<u32>(),
        ),
    )
        .prop_map(
            |(
                (reason, submitted_at, issue_started_at, cause),
                (outage, support),
                (charged, expected, duplicate),
                (supported, meets, flags, evidence),
            )| pb::Claim {
                reason,
                submitted_at,
                issue_started_at,
                cause,
                outage,
                support,
                description: if flags[3] { "d".into() } else { String::new() },
                evidence_attachments: evidence,
                charged_amount: charged,
                expected_amount: expected,
                duplicate_amount: duplicate,
                device_officially_supported: supported,
                device_meets_minimum_requirements: meets,
                terms_violation: flags[0],
                chargeback_filed: flags[1],
                concerns_adult_content: flags[2],
            },
        );
    prop::option::weighted(0.95, c)
}

fn policy_id() -> impl Strategy<Value = String> {
    let mut ids: Vec<String> = PolicyId::ALL.iter().map(|p| p.meta().id.to_owned()).collect();
    ids.extend([
        "".to_owned(),
        "no-such-policy".to_owned(),
        "IPTV-SMARTERS-PRO".to_owned(),
    ]);
    prop::sample::select(ids)
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(config(2048))]

    /// Arbitrary bytes: decoding fails cleanly or the request is answered.
    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..600)) {
        run_input(&data)?;
    }

    /// Valid encodings with a few byte-level mutations.
    #[test]
    fn mutated_encodings_never_panic(
        seed in any::<usize>(),
        selector in any::<u8>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let seeds = seeds();
        let mut data = vec![selector];
        data.extend(mutate(seeds[seed % seeds.len()].clone(), &mutations));
        run_input(&data)?;
    }

    /// Decodable messages with values at and beyond every validated range.
    #[test]
    fn wild_messages_never_panic(
        policy_id in policy_id(),
        purchase in wild_purchase(),
        claim in wild_claim(),
        evaluated_at in wild_timestamp(),
        locale in prop::sample::select(vec!["", "fr", "en-US", "\u{0}", "zz-ZZ-x-private"]),
    ) {
        let req = pb::EvaluateClaimRequest {
            policy_id: policy_id.clone(),
            purchase: purchase.clone(),
            claim,
            evaluated_at,
            locale: locale.to_owned(),
            request_id: String::new(),
            // The trace is built for arbitrary claims too: no panic there either.
            explain: true,
        };
        check_evaluate(req)?;
        check_quote(pb::QuoteRefundRequest { policy_id, purchase, as_of: evaluated_at, locale: locale.to_owned() })?;
    }
}

// ---------------------------------------------------------------- fuzz findings and seeds

fn regressions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions")
}

/// Every input the fuzzer ever crashed on, replayed.
#[test]
fn fuzz_regressions_stay_fixed() {
    let mut replayed = 0;
    for entry in std::fs::read_dir(regressions_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "bin") {
            let data = std::fs::read(&path).unwrap();
            run_input(&data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            replayed += 1;
        }
    }
    eprintln!("replayed {replayed} fuzz regressions");
}

/// The corpus seeds decode and are answered (else mutations start from nothing).
#[test]
fn seeds_are_answered() {
    let mut answered = 0;
    for seed in seeds() {
        if let Ok(req) = pb::EvaluateClaimRequest::decode(seed.as_slice()) {
            answered += usize::from(service::evaluate(req, now()).is_ok());
        }
    }
    assert!(
        answered >= seeds().len() / 4,
        "only {answered} of {} seeds answered",
        seeds().len()
    );
}

/// Writes the seeds as the fuzzer's starting corpus:
/// `cargo test --test arbitrary_bytes -- --ignored write_fuzz_seeds`.
#[test]
#[ignore = "writes fuzz/corpus/; run by hand before fuzzing"]
fn write_fuzz_seeds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/decode_and_evaluate");
    std::fs::create_dir_all(&dir).unwrap();
    for (i, seed) in seeds().iter().enumerate() {
        for selector in 0..=u8::try_from(PolicyId::ALL.len()).unwrap() {
            let mut data = vec![selector];
            data.extend(seed);
            std::fs::write(dir.join(format!("seed-{i:04}-{selector}")), data).unwrap();
        }
    }
}

/// Found by `wild_messages_never_panic`: `i64::MIN.abs()` overflowed in the
/// duration check (a panic in debug builds, a wrong message in release).
#[test]
fn extreme_outage_durations_are_refused_not_a_panic() {
    for (seconds, nanos) in [(i64::MIN, 0), (0, i32::MIN), (i64::MIN, i32::MIN), (i64::MAX, i32::MAX)] {
        let req = pb::EvaluateClaimRequest {
            policy_id: "iptv-smarters-pro".into(),
            purchase: Some(pb::Purchase {
                amount_paid: Some(pb::Money {
                    currency_code: "EUR".into(),
                    amount: "10.00".into(),
                }),
                purchased_at: Some(prost_types::Timestamp {
                    seconds: 1_767_225_600,
                    nanos: 0,
                }),
                ..Default::default()
            }),
            claim: Some(pb::Claim {
                reason: pb::ClaimReason::ServiceOutage as i32,
                outage: Some(pb::Outage {
                    duration: Some(prost_types::Duration { seconds, nanos }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        match service::evaluate(req, now()) {
            Err(refund_eligibility::grpc::decode::RequestError::Invalid(v)) => {
                assert_eq!(v.len(), 1, "{v:?}");
                assert_eq!(v[0].field, "claim.outage.duration");
                assert!(
                    v[0].description.contains("not a valid duration"),
                    "{}",
                    v[0].description
                );
            }
            other => panic!("({seconds}, {nanos}): {other:?}"),
        }
    }
}
