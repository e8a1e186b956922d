//! The rule trace, compared exactly with golden files: one claim per policy
//! plus a claim the statutory floor decides, in English and in French
//! (`tests/golden/trace/<name>.<lang>.txt`, the CLI's table of the trace).
//! `UPDATE_GOLDEN=1 cargo test --test trace_golden` rewrites them after a
//! deliberate change; review the diff. Over the whole case corpus, every
//! trace has exactly one decisive rule, the one that gave the primary reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "../benches/support/corpus.rs"]
mod corpus;

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use refund_eligibility::grpc::service;
use refund_eligibility::policies::PolicyId;
use refund_eligibility::{cli, pb};

fn ts(s: &str) -> prost_types::Timestamp {
    let t = DateTime::parse_from_rfc3339(s).unwrap();
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    }
}

fn eur(amount: &str) -> Option<pb::Money> {
    Some(pb::Money {
        currency_code: "EUR".into(),
        amount: amount.into(),
    })
}

/// A change of mind 50 h 12 min after a one-month purchase by a US
/// customer (no statutory floor), with every identifier a policy asks for.
fn claim(policy: &str) -> pb::EvaluateClaimRequest {
    pb::EvaluateClaimRequest {
        policy_id: policy.into(),
        purchase: Some(pb::Purchase {
            order_id: "SP-1001".into(),
            invoice_number: "INV-7".into(),
            purchase_email: "buyer@example.com".into(),
            transaction_id: "TX-9".into(),
            reseller_id: "R-1".into(),
            payment_method: pb::PaymentMethod::Card as i32,
            amount_paid: eur("29.99"),
            purchased_at: Some(ts("2026-01-05T10:00:00Z")),
            delivered_at: Some(ts("2026-01-05T10:05:00Z")),
            term_months: 1,
            customer_country: "US".into(),
            ..Default::default()
        }),
        claim: Some(pb::Claim {
            reason: pb::ClaimReason::NotAsDescribed as i32,
            description: "missing features".into(),
            submitted_at: Some(ts("2026-01-07T12:12:00Z")),
            evidence_attachments: 1,
            ..Default::default()
        }),
        evaluated_at: Some(ts("2026-01-07T12:12:00Z")),
        explain: true,
        ..Default::default()
    }
}

/// A French consumer's withdrawal: bought Saturday 28 February 2026, whose
/// 14th day (Saturday 14 March) moves to Monday 16 March.
fn floor_claim() -> pb::EvaluateClaimRequest {
    let mut req = claim("iptv-smarters-pro");
    let p = req.purchase.as_mut().unwrap();
    p.customer_country = "FR".into();
    p.customer_type = pb::CustomerType::Consumer as i32;
    p.purchased_at = Some(ts("2026-02-28T09:30:00Z"));
    p.delivered_at = Some(ts("2026-02-28T09:35:00Z"));
    p.express_consent_immediate_performance = true;
    p.withdrawal_information_given = Some(true);
    let c = req.claim.as_mut().unwrap();
    c.reason = pb::ClaimReason::ChangeOfMind as i32;
    c.submitted_at = Some(ts("2026-03-16T20:00:00Z"));
    req.evaluated_at = Some(ts("2026-03-16T20:00:00Z"));
    req
}

fn check(name: &str, req: pb::EvaluateClaimRequest, failures: &mut Vec<String>) {
    for lang in ["en", "fr"] {
        let req = pb::EvaluateClaimRequest {
            locale: lang.into(),
            ..req.clone()
        };
        let now: DateTime<Utc> = DateTime::UNIX_EPOCH;
        let resp = service::evaluate(req, now).unwrap();
        let primary = &resp.reasons[0].code;
        let got = format!(
            "decision {:?}, primary reason {primary}\n{}",
            resp.decision(),
            cli::trace_table(&resp.trace)
        );
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/trace/{name}.{lang}.txt"));
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(want) if want == got => {}
            Ok(want) => failures.push(format!("{}: differs\n--- want\n{want}--- got\n{got}", path.display())),
            Err(e) => failures.push(format!("{}: {e}\n--- got\n{got}", path.display())),
        }
    }
}

#[test]
fn traces_match_their_golden_files() {
    let mut failures = Vec::new();
    for p in PolicyId::ALL {
        let id = p.meta().id;
        check(id, claim(id), &mut failures);
    }
    check("floor", floor_claim(), &mut failures);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_corpus_trace_has_one_decisive_rule_that_gave_the_primary_reason() {
    let mut failures = Vec::new();
    let mut n = 0;
    for pc in corpus::load_all() {
        for c in &pc.claims {
            for lang in ["en", "fr"] {
                let req = pb::EvaluateClaimRequest {
                    explain: true,
                    locale: lang.into(),
                    ..c.wire.clone()
                };
                let resp = service::evaluate(req, corpus::now()).unwrap();
                let decisive: Vec<_> = resp.trace.iter().filter(|r| r.decisive).collect();
                let primary = &resp.reasons[0];
                if decisive.len() != 1
                    || decisive[0].reason_code != primary.code
                    || decisive[0].clause != primary.clause
                {
                    failures.push(format!(
                        "{} ({lang}): primary {}, trace\n{}",
                        c.name,
                        primary.code,
                        cli::trace_table(&resp.trace)
                    ));
                }
                n += 1;
            }
        }
    }
    assert!(n > 0, "no corpus claim");
    assert!(
        failures.is_empty(),
        "{} of {n}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
