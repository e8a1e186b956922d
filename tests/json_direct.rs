//! The direct proto3 JSON mapping of the JSON-lines path (`json::direct`)
//! against the reflection path it replaces (`json::from_json`,
//! `json::to_json_line`, `json::to_json`): over every request of the case
//! corpus, as written and in lowerCamelCase, the same prost message read;
//! over every answer, the same bytes written; and over hand-picked and
//! generated odd inputs, the same acceptance and the same message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "shared/corpus.rs"]
mod corpus;

use std::fmt::Debug;

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use prost_reflect::DescriptorPool;
use refund_eligibility::grpc::service;
use refund_eligibility::json::{self, direct};
use refund_eligibility::pb;
use serde_json::{json, Value};

fn corpora() -> Vec<corpus::CorpusFile> {
    let dir = corpus::cases_dir_of(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files.iter().map(|p| corpus::CorpusFile::read(p).unwrap()).collect()
}

/// Every key of every object, snake_case to lowerCamelCase (the JSON names).
fn camel(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let mut out = String::new();
                    let mut upper = false;
                    for c in k.chars() {
                        if c == '_' {
                            upper = true;
                        } else if upper {
                            out.extend(c.to_uppercase());
                            upper = false;
                        } else {
                            out.push(c);
                        }
                    }
                    (out, camel(v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(camel).collect()),
        other => other.clone(),
    }
}

/// The direct and the reflection path agree on `text`: both read the same
/// message, or both refuse it. Returns whether it was read.
fn same_read<T>(text: &str) -> bool
where
    T: direct::Read + prost::Message + prost::Name + Default + PartialEq + Debug,
{
    let direct = direct::parse::<T>(text);
    let reflect = json::from_json::<T>(text);
    match (direct, reflect) {
        (Ok(d), Ok(r)) => {
            assert_eq!(d, r, "{text}");
            true
        }
        (Err(_), Err(_)) => false,
        (Ok(d), Err(e)) => panic!("direct read what reflection refuses ({e}): {text}\n{d:?}"),
        (Err(e), Ok(_)) => panic!("direct refused what reflection reads ({e}): {text}"),
    }
}

/// The direct and the reflection writers give the same bytes.
fn same_write<T: direct::Write + prost::Message + prost::Name>(message: &T) {
    let mut line = b"previous answer\n".to_vec();
    direct::write_line(message, &mut line).unwrap();
    let expected = format!("previous answer\n{}", json::to_json_line(message).unwrap());
    assert_eq!(String::from_utf8(line).unwrap(), expected);
    let mut out = Vec::new();
    json::write_response_line(message, &mut out).unwrap();
    assert_eq!(out, json::to_json_line(message).unwrap().into_bytes());
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn every_corpus_request_reads_the_same_and_every_answer_writes_the_same() {
    let (mut requests, mut answers, mut quotes) = (0, 0, 0);
    for file in corpora() {
        for (name, request) in file.case_requests() {
            for variant in [request.clone(), camel(&request)] {
                let text = variant.to_string();
                assert!(same_read::<pb::EvaluateClaimRequest>(&text), "case {name:?}: {text}");
                requests += 1;
            }
            let parsed: pb::EvaluateClaimRequest = direct::parse(&request.to_string()).unwrap();
            for explain in [false, true] {
                let mut asked = parsed.clone();
                asked.explain = explain;
                if let Ok(response) = service::evaluate(asked, now()) {
                    same_write(&response);
                    answers += 1;
                }
            }
        }
        for (name, request) in file.quote_requests() {
            for variant in [request.clone(), camel(&request)] {
                let text = variant.to_string();
                assert!(same_read::<pb::QuoteRefundRequest>(&text), "quote {name:?}: {text}");
            }
            let parsed: pb::QuoteRefundRequest = direct::parse(&request.to_string()).unwrap();
            if let Ok(response) = service::quote(parsed, now()) {
                same_write(&response);
                quotes += 1;
            }
        }
    }
    assert!(
        requests > 500 && answers > 500 && quotes > 10,
        "{requests} {answers} {quotes}"
    );
}

/// Answers with every field set, some at odd values: unknown enum numbers
/// (written as numbers), empty messages (written as `{}`), escapes.
#[test]
fn full_and_odd_answers_write_the_same() {
    let ts = |seconds, nanos| Some(prost_types::Timestamp { seconds, nanos });
    let money = |amount: &str| {
        Some(pb::Money {
            currency_code: "EUR".into(),
            amount: amount.into(),
        })
    };
    let reason = pb::Reason {
        code: "C".into(),
        clause: "§4.1 \"quoted\" \\ \u{1}\n".into(),
        message: "é ✓ \u{1F600}".into(),
    };
    let policy = Some(pb::PolicyRef {
        id: "p".into(),
        version: "v".into(),
        title: "t".into(),
        rules_edition: "e".into(),
    });
    let response = pb::EvaluateClaimResponse {
        decision: 99,
        refund_amount: Some(pb::Money::default()),
        refund_method: 2,
        alternatives: vec![
            pb::Compensation {
                kind: 1,
                extension_days: 7,
                bonus_days: u32::MAX,
                bonus_negotiable: true,
                amount: money("1.00"),
                description: "d".into(),
            },
            pb::Compensation::default(),
        ],
        reasons: vec![reason.clone(), pb::Reason::default()],
        missing_information: vec!["purchase.invoice_number".into(), String::new()],
        resubmit_after: ts(0, 0),
        claim_deadline: ts(-62_135_596_800, 0),
        timeline: Some(pb::Timeline {
            acknowledge_by: ts(1, 1),
            decide_by: ts(2, 1_000),
            funds_earliest: ts(3, 1_000_000),
            funds_latest: ts(253_402_300_799, 999_999_999),
        }),
        consequences: vec![1, 0, 42, 3],
        policy: policy.clone(),
        explanation: "x".into(),
        request_id: "r".into(),
        evaluated_at: ts(1_767_225_600, 123_456_789),
        decision_id: "id".into(),
        engine_version: "0.1.0".into(),
        trace: vec![
            pb::RuleTrace {
                rule: "r".into(),
                clause: "c".into(),
                matched: true,
                decisive: true,
                detail: "d".into(),
                reason_code: "C".into(),
            },
            pb::RuleTrace::default(),
        ],
    };
    same_write(&response);
    same_write(&pb::EvaluateClaimResponse::default());
    same_write(&pb::QuoteRefundResponse {
        refundable_now: money("0"),
        basis: 7,
        unused_fraction: "0.5".into(),
        schedule: vec![
            pb::RefundWindow {
                starts_at: ts(10, 0),
                ends_at: None,
                basis: 1,
                amount_at_start: money("2"),
                reason: Some(reason.clone()),
            },
            pb::RefundWindow::default(),
        ],
        policy,
        reasons: vec![reason],
    });
    same_write(&pb::QuoteRefundResponse::default());
}

/// A timestamp the mapping cannot write is an error on both paths, and the
/// JSON-lines writer gives the reflection path's error.
#[test]
fn an_unwritable_timestamp_fails_on_both_paths() {
    let response = pb::EvaluateClaimResponse {
        evaluated_at: Some(prost_types::Timestamp {
            seconds: 253_402_300_800,
            nanos: 0,
        }),
        ..Default::default()
    };
    let mut out = b"kept".to_vec();
    assert!(direct::write_line(&response, &mut out).is_err());
    assert_eq!(out, b"kept", "nothing of the failed answer is left");
    let reflect = json::to_json_line(&response).unwrap_err().to_string();
    let via = json::write_response_line(&response, &mut out).unwrap_err().to_string();
    assert_eq!(via, reflect);
    assert_eq!(out, b"kept");
}

fn base() -> Value {
    json!({
        "policy_id": "iptv-smarters-pro",
        "request_id": "r-1",
        "purchase": {
            "order_id": "SP-1",
            "amount_paid": {"currency_code": "EUR", "amount": "29.99"},
            "purchased_at": "2026-01-05T10:00:00Z",
            "term_months": 1,
            "payment_method": "PAYMENT_METHOD_CARD"
        },
        "claim": {"reason": "CLAIM_REASON_SERVICE_OUTAGE", "outage": {"duration": "172800s"}},
        "evaluated_at": "2026-01-06T10:00:00Z"
    })
}

/// `base()` with `value` at `path` (dot-separated; the last key is added).
fn with(path: &str, value: Value) -> String {
    let mut request = base();
    let mut at = &mut request;
    let keys: Vec<&str> = path.split('.').collect();
    for key in &keys[..keys.len() - 1] {
        at = at.get_mut(*key).unwrap();
    }
    at.as_object_mut()
        .unwrap()
        .insert(keys[keys.len() - 1].to_owned(), value);
    request.to_string()
}

#[test]
fn odd_inputs_are_read_or_refused_as_reflection_does() {
    let read = |text: &str| same_read::<pb::EvaluateClaimRequest>(text);
    assert!(read(&base().to_string()));
    // Accepted forms.
    for (path, value) in [
        ("purchase.term_months", json!("12")),
        ("purchase.term_months", json!(3.0)),
        ("purchase.term_months", json!(0)),
        ("purchase.term_months", json!(u32::MAX)),
        ("purchase.payment_method", json!(2)),
        ("purchase.payment_method", json!(0)),
        ("purchase.payment_method", json!(1000)),
        ("purchase.payment_method", json!(-5)),
        ("purchase.payment_method", Value::Null),
        ("purchase.withdrawal_information_given", json!(false)),
        ("purchase.withdrawalInformationGiven", json!(true)),
        ("purchase.delivered_at", json!("2026-01-05T10:05:00.5Z")),
        ("purchase.delivered_at", json!("2026-01-05T10:05:00.123456789Z")),
        ("purchase.delivered_at", json!("2026-01-05T12:05:00+02:00")),
        ("purchase.delivered_at", json!("2026-01-05T08:05:00.25-02:00")),
        ("purchase.delivered_at", json!("0001-01-01T00:00:00Z")),
        ("purchase.delivered_at", json!("9999-12-31T23:59:59.999999999Z")),
        ("purchase.delivered_at", json!("1969-12-31T23:59:59.5Z")),
        ("purchase.delivered_at", Value::Null),
        ("claim.outage.duration", json!("1.5s")),
        ("claim.outage.duration", json!("-0.5s")),
        ("claim.outage.duration", json!("0s")),
        ("claim.outage.duration", json!("315576000000s")),
        ("claim.outage.scope", json!("OUTAGE_SCOPE_FULL")),
        ("claim.device_officially_supported", json!(false)),
        ("claim.evidence_attachments", json!("+4")),
        ("claim.support", json!({})),
        ("claim.description", json!("é \"quoted\" \\ \n ✓")),
        ("claim", Value::Null),
        ("policyId", json!("iptv-reseller")),
        ("explain", json!(true)),
        ("locale", json!("")),
    ] {
        assert!(read(&with(path, value.clone())), "{path} = {value}");
    }
    // Refused forms.
    for (path, value) in [
        ("refund_me", json!(true)),
        ("purchase.refund_me", json!(1)),
        ("PolicyId", json!("x")),
        ("policy_id", json!(1)),
        ("policy_id", json!(["x"])),
        ("explain", json!("true")),
        ("explain", json!(1)),
        ("purchase.term_months", json!(-1)),
        ("purchase.term_months", json!(1.5)),
        ("purchase.term_months", json!(4_294_967_296_u64)),
        ("purchase.term_months", json!("1.0")),
        ("purchase.term_months", json!(true)),
        ("purchase.payment_method", json!("CARD")),
        ("purchase.payment_method", json!("payment_method_card")),
        ("purchase.payment_method", json!(1.0)),
        ("purchase.payment_method", json!(3_000_000_000_u64)),
        ("purchase.payment_method", json!(true)),
        ("purchase.delivered_at", json!("2026-01-05")),
        ("purchase.delivered_at", json!("2026-01-05 10:05:00Z")),
        ("purchase.delivered_at", json!("2026-01-05t10:05:00Z")),
        ("purchase.delivered_at", json!("2026-01-05T10:05:00z")),
        ("purchase.delivered_at", json!("2026-01-05T10:05Z")),
        ("purchase.delivered_at", json!("2026-01-05T10:05:00.Z")),
        ("purchase.delivered_at", json!("2026-02-30T10:05:00Z")),
        ("purchase.delivered_at", json!("2026-13-05T10:05:00Z")),
        ("purchase.delivered_at", json!("2026-01-05T24:05:00Z")),
        ("purchase.delivered_at", json!("2026-01-05T10:05:00+0200")),
        ("purchase.delivered_at", json!("0000-12-31T23:59:59Z")),
        ("purchase.delivered_at", json!("2026-01-05T10:05:00Z ")),
        ("purchase.delivered_at", json!(1_767_607_500)),
        ("purchase.delivered_at", json!({"seconds": 1})),
        ("claim.outage.duration", json!("172800")),
        ("claim.outage.duration", json!(172_800)),
        ("claim.outage.duration", json!("315576000001s")),
        ("claim.outage.duration", json!("1.5 s")),
        ("claim.outage.duration", json!("2d")),
        ("claim.outage.scope", json!("FULL")),
        ("claim.support", json!([])),
        ("claim.support", json!("yes")),
        ("purchase.amount_paid", json!({"currency_code": "EUR", "amount": 29.99})),
        ("purchase.withdrawal_information_given", json!("false")),
    ] {
        assert!(!read(&with(path, value.clone())), "{path} = {value}");
    }
    // Not JSON, not an object, trailing text, duplicate keys, key escapes.
    for text in [
        "",
        "[]",
        "null",
        "\"x\"",
        "{",
        "{}}",
        "{} {}",
        "{\"policy_id\": \"a\",}",
    ] {
        assert!(!read(text), "{text}");
    }
    for text in [
        "{}",
        " {} ",
        r#"{"policy_id": "a", "policy_id": "b"}"#,
        r#"{"policy_id": "a", "policyId": "b"}"#,
        r#"{"purchase": {"order_id": "1"}, "purchase": {"term_months": 2}}"#,
        r#"{"purchase": {"order_id": "1"}, "purchase": null}"#,
        r#"{"policy\u005fid": "a"}"#,
        r#"{"claim": {"reason": "CLAIM_REASON_CHANGE_OF_MIND", "reason": 3}}"#,
    ] {
        assert!(read(text), "{text}");
    }
}

#[test]
fn quote_requests_read_as_reflection_does() {
    let read = |text: &str| same_read::<pb::QuoteRefundRequest>(text);
    assert!(read(
        r#"{"policy_id": "p", "asOf": "2026-01-05T10:00:00Z", "locale": "fr", "purchase": {}}"#
    ));
    assert!(read(r#"{"as_of": null}"#));
    assert!(!read(r#"{"as_of": "yesterday"}"#));
    assert!(!read(r#"{"claim": {}}"#));
}

/// The field tables of the direct reader are the descriptors': every field,
/// in field number order, by proto name and JSON name.
#[test]
fn the_field_tables_are_the_descriptors() {
    let pool = DescriptorPool::decode(pb::FILE_DESCRIPTOR_SET).unwrap();
    fn check<T: direct::Read + prost::Name>(pool: &DescriptorPool) {
        let message = pool.get_message_by_name(&T::full_name()).unwrap();
        let fields: Vec<(String, String)> = message
            .fields()
            .map(|f| (f.name().to_owned(), f.json_name().to_owned()))
            .collect();
        let table: Vec<(String, String)> = T::FIELDS
            .iter()
            .map(|(n, j)| ((*n).to_owned(), (*j).to_owned()))
            .collect();
        assert_eq!(table, fields, "{}", T::full_name());
    }
    check::<pb::Money>(&pool);
    check::<pb::Purchase>(&pool);
    check::<pb::Outage>(&pool);
    check::<pb::SupportHistory>(&pool);
    check::<pb::Claim>(&pool);
    check::<pb::EvaluateClaimRequest>(&pool);
    check::<pb::QuoteRefundRequest>(&pool);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn generated_timestamps_read_as_reflection_does(
        ts in "[0-9]{4}-[01][0-9]-[0-3][0-9][Tt ][0-2][0-9]:[0-6][0-9](:[0-6][0-9])?(\\.[0-9]{0,11})?(Z|z|[+-][0-2][0-9]:?[0-5][0-9])?",
    ) {
        same_read::<pb::EvaluateClaimRequest>(&json!({ "evaluated_at": ts }).to_string());
    }

    #[test]
    fn generated_timestamps_write_as_reflection_does(
        seconds in prop_oneof![
            -62_135_596_800_i64..=253_402_300_799,
            -100_000_i64..100_000,
            Just(253_402_300_799_i64),
            Just(-62_135_596_800_i64),
        ],
        nanos in prop_oneof![
            0..1_000_000_000_i32,
            (0..1000_i32).prop_map(|n| n * 1_000_000),
            (0..1_000_000_i32).prop_map(|n| n * 1_000),
            Just(0),
            -2_000_000_000..2_000_000_000_i32,
        ],
    ) {
        let ts = Some(prost_types::Timestamp { seconds, nanos });
        let response = pb::EvaluateClaimResponse { evaluated_at: ts, ..Default::default() };
        let mut out = Vec::new();
        match (direct::write_line(&response, &mut out), json::to_json_line(&response)) {
            (Ok(()), Ok(text)) => prop_assert_eq!(String::from_utf8(out).unwrap(), text),
            (Err(_), Err(_)) => {}
            (d, r) => prop_assert!(false, "{:?}: direct {:?}, reflection {:?}", ts, d.is_ok(), r),
        }
    }

    #[test]
    fn generated_strings_write_as_reflection_does(s in "[\\x00-\\x7f\"\\\\é✓\u{1F600}\u{7f}-\u{a0}\u{2028}]{0,40}") {
        let response = pb::EvaluateClaimResponse {
            explanation: s.clone(),
            missing_information: vec![s.clone(), s],
            ..Default::default()
        };
        let mut out = Vec::new();
        direct::write_line(&response, &mut out).unwrap();
        prop_assert_eq!(String::from_utf8(out).unwrap(), json::to_json_line(&response).unwrap());
    }

    #[test]
    fn generated_durations_read_as_reflection_does(d in "-?[0-9]{0,13}(\\.[0-9]{0,11})?s?") {
        same_read::<pb::EvaluateClaimRequest>(&json!({ "claim": { "outage": { "duration": d } } }).to_string());
    }

    #[test]
    fn generated_numbers_read_as_reflection_does(
        n in prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|n| n.to_string()),
            any::<i64>().prop_map(|n| format!("\"{n}\"")),
            "-?[0-9]{1,12}(\\.[0-9]{0,3})?(e-?[0-9])?",
        ],
    ) {
        for key in ["term_months", "payment_method"] {
            let text = format!("{{\"purchase\": {{\"{key}\": {n}}}}}");
            if serde_json::from_str::<Value>(&text).is_ok() {
                same_read::<pb::EvaluateClaimRequest>(&text);
            }
        }
    }
}
