//! Arbitrary bytes decoded as EvaluateClaimRequest and QuoteRefundRequest,
//! then validated and evaluated exactly as the gRPC service does.
//!
//! The first byte picks the policy the request is evaluated under (so most
//! inputs get past the policy lookup and reach the engine); the rest is the
//! protobuf message. A panic anywhere, a refund above the amount paid, a
//! refund in another currency, or two different answers to the same request
//! is a crash.
#![no_main]

use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use prost::Message;
use refund_eligibility::grpc::service;
use refund_eligibility::pb;
use refund_eligibility::policies::PolicyId;
use rust_decimal::Decimal;

fn amount(m: &Option<pb::Money>) -> Option<Decimal> {
    m.as_ref().and_then(|m| m.amount.parse().ok())
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, message)) = data.split_first() else {
        return;
    };
    // A fixed clock: answers depend on the request only.
    let Some(now) = DateTime::from_timestamp(1_767_225_600, 0) else {
        return;
    };
    let policy = PolicyId::ALL
        .get(usize::from(selector) % (PolicyId::ALL.len() + 1))
        .copied();

    if let Ok(mut req) = pb::EvaluateClaimRequest::decode(message) {
        if let Some(p) = policy {
            req.policy_id = p.meta().id.to_owned();
        }
        let paid = req
            .purchase
            .as_ref()
            .map(|p| (amount(&p.amount_paid), p.amount_paid.clone()));
        let first = service::evaluate(req.clone(), now);
        let second = service::evaluate(req, now);
        assert_eq!(first, second, "two answers to one request");
        if let (Ok(resp), Some((Some(paid), Some(paid_money)))) = (first, paid) {
            let refund = amount(&resp.refund_amount).expect("refund_amount is a decimal");
            assert!(
                refund >= Decimal::ZERO && refund <= paid,
                "refund {refund} outside [0, {paid}]"
            );
            let code = resp.refund_amount.as_ref().map(|m| m.currency_code.clone());
            assert_eq!(code.as_deref(), Some(paid_money.currency_code.as_str()));
            let _ = resp.encode_to_vec();
        }
    }

    if let Ok(mut req) = pb::QuoteRefundRequest::decode(message) {
        if let Some(p) = policy {
            req.policy_id = p.meta().id.to_owned();
        }
        let paid = req.purchase.as_ref().and_then(|p| amount(&p.amount_paid));
        let first = service::quote(req.clone(), now);
        let second = service::quote(req, now);
        assert_eq!(first, second, "two quotes of one request");
        if let (Ok(resp), Some(paid)) = (first, paid) {
            let now_amount = amount(&resp.refundable_now).expect("refundable_now is a decimal");
            assert!(now_amount >= Decimal::ZERO && now_amount <= paid);
            for pair in resp.schedule.windows(2) {
                assert_eq!(pair[0].ends_at, pair[1].starts_at, "gap or overlap in the schedule");
            }
        }
    }
});
