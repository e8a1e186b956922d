//! End to end over a real socket: serve on 127.0.0.1:0 and call every RPC,
//! health and one bad request through the generated client.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod calls;

use refund_eligibility::pb;
use refund_eligibility::policies::PolicyId;
use refund_eligibility::server::SERVICE_NAME;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_types::StatusExt;

use calls::Running;

fn ts(s: &str) -> prost_types::Timestamp {
    let t = chrono::DateTime::parse_from_rfc3339(s).unwrap();
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

fn purchase() -> pb::Purchase {
    pb::Purchase {
        order_id: "SP-1001".into(),
        amount_paid: eur("29.99"),
        purchased_at: Some(ts("2026-01-05T10:00:00Z")),
        delivered_at: Some(ts("2026-01-05T10:05:00Z")),
        term_months: 1,
        customer_country: "US".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn every_rpc_over_a_socket() {
    let running = Running::start().await;
    let mut client = running.client();

    // EvaluateClaim: prorated after 48 h (29.99 x 1,382,400 / 2,678,400 s = 15.48).
    let resp = client
        .evaluate_claim(pb::EvaluateClaimRequest {
            policy_id: "iptv-smarters-pro".into(),
            purchase: Some(purchase()),
            claim: Some(pb::Claim {
                reason: pb::ClaimReason::NotAsDescribed as i32,
                description: "missing features".into(),
                ..Default::default()
            }),
            evaluated_at: Some(ts("2026-01-20T10:05:00Z")),
            locale: "en".into(),
            request_id: "req-42".into(),
            explain: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(resp.decision(), pb::Decision::PartiallyApproved);
    // The trace over the wire: one decisive rule, the one that gave the primary reason.
    let decisive: Vec<_> = resp.trace.iter().filter(|r| r.decisive).collect();
    assert_eq!(decisive.len(), 1, "{:#?}", resp.trace);
    assert_eq!(decisive[0].rule, "iptv-smarters-pro.prorated");
    assert_eq!(decisive[0].reason_code, resp.reasons[0].code);
    assert_eq!(resp.refund_amount, eur("15.48"));
    assert_eq!(resp.refund_method(), pb::RefundMethod::OriginalPayment);
    assert_eq!(
        resp.reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
        ["PRORATED_BY_USAGE"]
    );
    assert_eq!(resp.reasons[0].clause, "Refund Conditions #4");
    assert_eq!(resp.request_id, "req-42");
    assert_eq!(resp.policy.as_ref().map(|p| p.id.as_str()), Some("iptv-smarters-pro"));
    assert!(
        resp.explanation.starts_with("Partially approved: refund of 15.48 EUR"),
        "{}",
        resp.explanation
    );

    // QuoteRefund at the same instant quotes the same amount.
    let quote = client
        .quote_refund(pb::QuoteRefundRequest {
            policy_id: "iptv-smarters-pro".into(),
            purchase: Some(purchase()),
            as_of: Some(ts("2026-01-20T10:05:00Z")),
            locale: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(quote.refundable_now, eur("15.48"));
    assert_eq!(quote.basis(), pb::RefundBasis::ProratedUnused);
    assert_eq!(quote.schedule.len(), 3);

    // ListPolicies: every compiled-in policy, localized.
    let list = client
        .list_policies(pb::ListPoliciesRequest { locale: "fr".into() })
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<_> = list
        .policies
        .iter()
        .filter_map(|p| p.r#ref.as_ref())
        .map(|r| r.id.as_str())
        .collect();
    // The registry's order: the service lists exactly what is compiled in.
    let registry: Vec<_> = PolicyId::ALL.iter().map(|p| p.meta().id).collect();
    assert_eq!(ids, registry);
    let smarters = list
        .policies
        .iter()
        .find(|p| p.r#ref.as_ref().is_some_and(|r| r.id == "iptv-smarters-pro"))
        .unwrap();
    assert_eq!(smarters.time_zone, "UTC");
    let within = smarters
        .reason_codes
        .iter()
        .find(|c| c.code == "WITHIN_48_HOURS")
        .unwrap();
    assert!(within.description.contains("48 heures"), "{}", within.description);

    // Health: overall and per service.
    let mut health = HealthClient::new(running.channel.clone());
    for service in ["", SERVICE_NAME] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status();
        assert_eq!(status, ServingStatus::Serving, "{service:?}");
    }

    // A bad request: every bad field named in a BadRequest detail.
    let mut bad = purchase();
    bad.amount_paid = eur("29.999");
    bad.customer_country = "XX".into();
    let status = client
        .evaluate_claim(pb::EvaluateClaimRequest {
            policy_id: "iptv-smarters-pro".into(),
            purchase: Some(bad),
            claim: Some(pb::Claim::default()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let details = status.get_details_bad_request().expect("a BadRequest detail");
    let fields: Vec<_> = details.field_violations.iter().map(|v| v.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "purchase.amount_paid.amount",
            "purchase.customer_country",
            "claim.reason"
        ]
    );

    // Unknown policy.
    let status = client
        .quote_refund(pb::QuoteRefundRequest {
            policy_id: "nope".into(),
            purchase: Some(purchase()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound);

    // The server still answers, then stops when asked.
    assert!(client.list_policies(pb::ListPoliciesRequest::default()).await.is_ok());
    running.stop().await;
}
