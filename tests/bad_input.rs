//! The bad-input matrix over a real socket: one case per rule of the
//! rulings' Validation paragraph, each expecting the exact gRPC code and the
//! BadRequest field paths; then several bad fields at once, unknown enum
//! numbers, an oversized message, undecodable bytes and a deadline shorter
//! than the work. After every case the same connection still answers a good
//! request correctly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod calls;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use bytes::{Buf, BufMut, Bytes};
use refund_eligibility::pb;
use refund_eligibility::pb::eligibility_service_client::EligibilityServiceClient;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

use calls::{ts, Running, EVALUATE_PATH};

fn money(code: &str, amount: &str) -> Option<pb::Money> {
    Some(pb::Money {
        currency_code: code.into(),
        amount: amount.into(),
    })
}

/// iptv-smarters-pro, not as described, within 48 h: APPROVED 29.99 EUR, WITHIN_48_HOURS.
fn good() -> pb::EvaluateClaimRequest {
    pb::EvaluateClaimRequest {
        policy_id: "iptv-smarters-pro".into(),
        purchase: Some(pb::Purchase {
            order_id: "SP-1001".into(),
            amount_paid: money("EUR", "29.99"),
            purchased_at: ts("2026-01-05T10:00:00Z"),
            delivered_at: ts("2026-01-05T10:05:00Z"),
            term_months: 1,
            customer_country: "US".into(),
            payment_method: pb::PaymentMethod::Card as i32,
            ..Default::default()
        }),
        claim: Some(pb::Claim {
            reason: pb::ClaimReason::NotAsDescribed as i32,
            description: "missing features".into(),
            ..Default::default()
        }),
        evaluated_at: ts("2026-01-06T10:00:00Z"),
        locale: "en".into(),
        request_id: "good".into(),
        explain: false,
    }
}

fn purchase(req: &mut pb::EvaluateClaimRequest) -> &mut pb::Purchase {
    req.purchase.as_mut().unwrap()
}

fn claim(req: &mut pb::EvaluateClaimRequest) -> &mut pb::Claim {
    req.claim.as_mut().unwrap()
}

/// The server still answers a good request, correctly.
async fn assert_still_serves(client: &mut EligibilityServiceClient<Channel>, after: &str) {
    let resp = client
        .evaluate_claim(good())
        .await
        .unwrap_or_else(|s| panic!("after {after}: the good request failed: {s:?}"))
        .into_inner();
    assert_eq!(resp.decision(), pb::Decision::Approved, "after {after}");
    assert_eq!(resp.refund_amount, money("EUR", "29.99"), "after {after}");
    assert_eq!(resp.reasons[0].code, "WITHIN_48_HOURS", "after {after}");
    assert_eq!(resp.request_id, "good", "after {after}");
}

fn bad_fields(status: &Status) -> BTreeSet<String> {
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// One rule of the Validation paragraph: a mutation of the good request and
/// the code and field paths it must produce.
struct Rule {
    name: &'static str,
    mutate: fn(&mut pb::EvaluateClaimRequest),
    code: Code,
    fields: &'static [&'static str],
}

const RULES: &[Rule] = &[
    Rule {
        name: "unknown policy_id",
        mutate: |r| r.policy_id = "no-such-policy".into(),
        code: Code::NotFound,
        fields: &[],
    },
    Rule {
        name: "policy_id empty",
        mutate: |r| r.policy_id.clear(),
        code: Code::InvalidArgument,
        fields: &["policy_id"],
    },
    Rule {
        name: "purchase required",
        mutate: |r| r.purchase = None,
        code: Code::InvalidArgument,
        fields: &["purchase"],
    },
    Rule {
        name: "purchase.amount_paid required",
        mutate: |r| purchase(r).amount_paid = None,
        code: Code::InvalidArgument,
        fields: &["purchase.amount_paid"],
    },
    Rule {
        name: "purchase.purchased_at required",
        mutate: |r| purchase(r).purchased_at = None,
        code: Code::InvalidArgument,
        fields: &["purchase.purchased_at"],
    },
    Rule {
        name: "claim required",
        mutate: |r| r.claim = None,
        code: Code::InvalidArgument,
        fields: &["claim"],
    },
    Rule {
        name: "claim.reason not UNSPECIFIED",
        mutate: |r| claim(r).reason = pb::ClaimReason::Unspecified as i32,
        code: Code::InvalidArgument,
        fields: &["claim.reason"],
    },
    Rule {
        name: "claim.reason not an unknown number",
        mutate: |r| claim(r).reason = 99,
        code: Code::InvalidArgument,
        fields: &["claim.reason"],
    },
    Rule {
        name: "currency code in lower case",
        mutate: |r| purchase(r).amount_paid = money("eur", "29.99"),
        code: Code::InvalidArgument,
        fields: &["purchase.amount_paid.currency_code"],
    },
    Rule {
        name: "currency code not ISO 4217",
        mutate: |r| purchase(r).amount_paid = money("XYZ", "29.99"),
        code: Code::InvalidArgument,
        fields: &["purchase.amount_paid.currency_code"],
    },
    Rule {
        name: "amount negative",
        mutate: |r| purchase(r).amount_paid = money("EUR", "-29.99"),
        code: Code::InvalidArgument,
        fields: &["purchase.amount_paid.amount"],
    },
    Rule {
        name: "amount with an exponent",
        mutate: |r| purchase(r).amount_paid = money("EUR", "2.999e1"),
        code: Code::InvalidArgument,
        fields: &["purchase.amount_paid.amount"],
    },
    Rule {
        name: "amount with a sign",
        mutate: |r| purchase(r).amount_paid = money("EUR", "+29.99"),
        code: Code::InvalidArgument,
        fields: &["purchase.amount_paid.amount"],
    },
    Rule {
        name: "amount with more digits than the minor unit",
        mutate: |r| purchase(r).amount_paid = money("EUR", "29.999"),
        code: Code::InvalidArgument,
        fields: &["purchase.amount_paid.amount"],
    },
    Rule {
        name: "JPY amount with a fraction",
        mutate: |r| purchase(r).amount_paid = money("JPY", "1500.5"),
        code: Code::InvalidArgument,
        fields: &["purchase.amount_paid.amount"],
    },
    Rule {
        name: "claim money in another currency",
        mutate: |r| {
            claim(r).charged_amount = money("USD", "40.00");
            claim(r).expected_amount = money("EUR", "29.99");
        },
        code: Code::InvalidArgument,
        fields: &["claim.charged_amount.currency_code"],
    },
    Rule {
        name: "delivered_at before purchased_at",
        mutate: |r| purchase(r).delivered_at = ts("2026-01-05T09:59:59Z"),
        code: Code::InvalidArgument,
        fields: &["purchase.delivered_at"],
    },
    Rule {
        name: "claim.submitted_at before purchased_at",
        mutate: |r| claim(r).submitted_at = ts("2026-01-05T09:00:00Z"),
        code: Code::InvalidArgument,
        fields: &["claim.submitted_at"],
    },
    Rule {
        name: "claim.submitted_at after evaluated_at",
        mutate: |r| claim(r).submitted_at = ts("2026-01-06T10:00:01Z"),
        code: Code::InvalidArgument,
        fields: &["claim.submitted_at"],
    },
    Rule {
        name: "term_months above 120",
        mutate: |r| purchase(r).term_months = 121,
        code: Code::InvalidArgument,
        fields: &["purchase.term_months"],
    },
    Rule {
        name: "outage.duration negative",
        mutate: |r| {
            claim(r).outage = Some(pb::Outage {
                duration: Some(prost_types::Duration {
                    seconds: -3600,
                    nanos: 0,
                }),
                scope: pb::OutageScope::Full as i32,
                ..Default::default()
            })
        },
        code: Code::InvalidArgument,
        fields: &["claim.outage.duration"],
    },
    Rule {
        name: "customer_country not assigned",
        mutate: |r| purchase(r).customer_country = "XX".into(),
        code: Code::InvalidArgument,
        fields: &["purchase.customer_country"],
    },
    Rule {
        name: "customer_country in lower case",
        mutate: |r| purchase(r).customer_country = "fr".into(),
        code: Code::InvalidArgument,
        fields: &["purchase.customer_country"],
    },
    // Unknown enum numbers of every other enum field.
    Rule {
        name: "unknown price_type",
        mutate: |r| purchase(r).price_type = 7,
        code: Code::InvalidArgument,
        fields: &["purchase.price_type"],
    },
    Rule {
        name: "unknown payment_method",
        mutate: |r| purchase(r).payment_method = -1,
        code: Code::InvalidArgument,
        fields: &["purchase.payment_method"],
    },
    Rule {
        name: "unknown customer_type",
        mutate: |r| purchase(r).customer_type = i32::MAX,
        code: Code::InvalidArgument,
        fields: &["purchase.customer_type"],
    },
    Rule {
        name: "unknown claim.cause",
        mutate: |r| claim(r).cause = 42,
        code: Code::InvalidArgument,
        fields: &["claim.cause"],
    },
    Rule {
        name: "unknown outage.scope",
        mutate: |r| {
            claim(r).outage = Some(pb::Outage {
                scope: 9,
                ..Default::default()
            })
        },
        code: Code::InvalidArgument,
        fields: &["claim.outage.scope"],
    },
    // Timestamps outside protobuf's range (years 1 to 9999).
    Rule {
        name: "evaluated_at beyond year 9999",
        mutate: |r| {
            r.evaluated_at = Some(prost_types::Timestamp {
                seconds: 253_402_300_800,
                nanos: 0,
            })
        },
        code: Code::InvalidArgument,
        fields: &["evaluated_at"],
    },
    Rule {
        name: "purchased_at with negative nanos",
        mutate: |r| {
            purchase(r).purchased_at = Some(prost_types::Timestamp {
                seconds: 1_767_607_200,
                nanos: -1,
            })
        },
        code: Code::InvalidArgument,
        fields: &["purchase.purchased_at"],
    },
];

#[tokio::test]
async fn every_validation_rule_over_a_socket() {
    let running = Running::start().await;
    let mut client = running.client();
    assert_still_serves(&mut client, "start").await;
    let mut failures = Vec::new();
    for rule in RULES {
        let mut req = good();
        (rule.mutate)(&mut req);
        match client.evaluate_claim(req).await {
            Ok(resp) => failures.push(format!("{}: answered {:?}", rule.name, resp.into_inner().decision())),
            Err(status) => {
                let fields = bad_fields(&status);
                let want: BTreeSet<String> = rule.fields.iter().map(|f| (*f).to_owned()).collect();
                if status.code() != rule.code || fields != want {
                    failures.push(format!(
                        "{}: expected {:?} {:?}, got {:?} {:?} ({})",
                        rule.name,
                        rule.code,
                        want,
                        status.code(),
                        fields,
                        status.message()
                    ));
                }
                if rule.code == Code::InvalidArgument && !status.message().contains(rule.fields[0]) {
                    failures.push(format!(
                        "{}: message does not name the field: {}",
                        rule.name,
                        status.message()
                    ));
                }
            }
        }
        assert_still_serves(&mut client, rule.name).await;
    }
    assert!(
        failures.is_empty(),
        "{} of {} rules failed:\n{}",
        failures.len(),
        RULES.len(),
        failures.join("\n")
    );
    running.stop().await;
}

#[tokio::test]
async fn every_bad_field_is_reported_at_once() {
    let running = Running::start().await;
    let mut client = running.client();
    let mut req = good();
    purchase(&mut req).amount_paid = money("EUR", "-1");
    purchase(&mut req).term_months = 500;
    purchase(&mut req).customer_country = "XX".into();
    purchase(&mut req).delivered_at = ts("2025-01-01T00:00:00Z");
    purchase(&mut req).price_type = 77;
    claim(&mut req).reason = 0;
    claim(&mut req).submitted_at = ts("2026-01-07T00:00:00Z");
    claim(&mut req).duplicate_amount = money("GBP", "1.00");
    let status = client.evaluate_claim(req).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let want: BTreeSet<String> = [
        "purchase.amount_paid.amount",
        "purchase.term_months",
        "purchase.customer_country",
        "purchase.delivered_at",
        "purchase.price_type",
        "claim.reason",
        "claim.submitted_at",
        "claim.duplicate_amount.currency_code",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(bad_fields(&status), want);
    // Each violation carries a description.
    let details = status.get_details_bad_request().unwrap();
    assert!(details.field_violations.iter().all(|v| !v.description.is_empty()));
    assert_still_serves(&mut client, "several bad fields").await;
    running.stop().await;
}

#[tokio::test]
async fn quote_refund_validates_too() {
    let running = Running::start().await;
    let mut client = running.client();
    let quote = |mutate: fn(&mut pb::QuoteRefundRequest)| {
        let g = good();
        let mut q = pb::QuoteRefundRequest {
            policy_id: g.policy_id,
            purchase: g.purchase,
            as_of: g.evaluated_at,
            locale: String::new(),
        };
        mutate(&mut q);
        q
    };
    let ok = client.quote_refund(quote(|_| {})).await.unwrap().into_inner();
    assert_eq!(ok.refundable_now, money("EUR", "29.99"));
    type QuoteCase = (fn(&mut pb::QuoteRefundRequest), Code, &'static [&'static str]);
    let cases: [QuoteCase; 4] = [
        (|q| q.purchase = None, Code::InvalidArgument, &["purchase"]),
        (|q| q.policy_id = "nope".into(), Code::NotFound, &[]),
        (
            |q| {
                q.as_of = Some(prost_types::Timestamp {
                    seconds: i64::MIN,
                    nanos: 0,
                })
            },
            Code::InvalidArgument,
            &["as_of"],
        ),
        (
            |q| q.purchase.as_mut().unwrap().amount_paid = money("KWD", "1.0001"),
            Code::InvalidArgument,
            &["purchase.amount_paid.amount"],
        ),
    ];
    for (i, (mutate, code, fields)) in cases.into_iter().enumerate() {
        let status = client.quote_refund(quote(mutate)).await.unwrap_err();
        let want: BTreeSet<String> = fields.iter().map(|f| (*f).to_owned()).collect();
        assert_eq!(
            (status.code(), bad_fields(&status)),
            (code, want),
            "quote case {i}: {status:?}"
        );
        assert_still_serves(&mut client, "a bad quote").await;
    }
    running.stop().await;
}

/// The rulings: "Messages beyond 64 KiB are refused (RESOURCE_EXHAUSTED or
/// INVALID_ARGUMENT), and the server stays up."
#[tokio::test]
async fn oversized_message_is_refused_and_the_server_stays_up() {
    let running = Running::start().await;
    let mut client = running.client();
    let mut req = good();
    claim(&mut req).description = "x".repeat(70 * 1024);
    let status = client.evaluate_claim(req).await.unwrap_err();
    assert!(
        matches!(status.code(), Code::ResourceExhausted | Code::InvalidArgument),
        "{status:?}"
    );
    assert_still_serves(&mut client, "an oversized message").await;
    // Just under the limit is still decided.
    let mut req = good();
    claim(&mut req).description = "x".repeat(60 * 1024);
    assert!(client.evaluate_claim(req).await.is_ok());
    running.stop().await;
}

/// Sends raw bytes as the request message.
#[derive(Clone, Copy, Default)]
struct RawCodec;

struct RawEncoder;
struct RawDecoder;

impl Encoder for RawEncoder {
    type Item = Bytes;
    type Error = Status;
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawDecoder {
    type Item = Bytes;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

async fn raw_call(channel: &Channel, body: &'static [u8]) -> Result<Bytes, Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.unwrap();
    grpc.unary(
        tonic::Request::new(Bytes::from_static(body)),
        EVALUATE_PATH.parse().unwrap(),
        RawCodec,
    )
    .await
    .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn undecodable_bytes_are_refused_and_the_server_stays_up() {
    let running = Running::start().await;
    let mut client = running.client();
    // A truncated varint, a length prefix past the end, a wire type 7 tag,
    // an invalid UTF-8 string field.
    let garbage: [&'static [u8]; 4] = [
        &[0x08, 0xff],
        &[0x12, 0x40, 0x01],
        &[0x0f, 0x00],
        &[0x0a, 0x02, 0xc3, 0x28],
    ];
    for body in garbage {
        let status = raw_call(&running.channel, body).await.unwrap_err();
        // gRPC's status-code guide: a message that cannot be parsed is INTERNAL.
        assert!(
            matches!(status.code(), Code::Internal | Code::InvalidArgument),
            "{body:?}: {status:?}"
        );
        assert_still_serves(&mut client, "undecodable bytes").await;
    }
    // Empty bytes decode as the empty message: every required field reported.
    let status = raw_call(&running.channel, b"").await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let want: BTreeSet<String> = ["policy_id", "purchase", "claim"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(bad_fields(&status), want);
    // Unknown fields are skipped (proto3): field 99 varint before a good message decides normally.
    let mut body = vec![0xf8, 0x06, 0x01];
    body.extend(prost::Message::encode_to_vec(&good()));
    let body: &'static [u8] = Box::leak(body.into_boxed_slice());
    let bytes = raw_call(&running.channel, body).await.unwrap();
    let resp: pb::EvaluateClaimResponse = prost::Message::decode(bytes).unwrap();
    assert_eq!(resp.decision(), pb::Decision::Approved);
    running.stop().await;
}

#[tokio::test]
async fn a_deadline_shorter_than_the_work_ends_the_call_not_the_server() {
    let running = Running::start().await;
    let mut client = running.client();
    // The "work" is a request whose message arrives 30 s late; the client
    // allows 300 ms. The call must end near the deadline (DEADLINE_EXCEEDED
    // from the client or CANCELLED from the server's timeout), never wait for
    // the message.
    let (tx, rx) = tokio::sync::mpsc::channel::<pb::EvaluateClaimRequest>(1);
    let sender = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        let _ = tx.send(good()).await;
    });
    let mut request = tonic::Request::new(tokio_stream::wrappers::ReceiverStream::new(rx));
    request.set_timeout(Duration::from_millis(300));
    let mut grpc = tonic::client::Grpc::new(running.channel.clone());
    grpc.ready().await.unwrap();
    let started = Instant::now();
    let result: Result<tonic::Response<pb::EvaluateClaimResponse>, Status> = grpc
        .client_streaming(
            request,
            EVALUATE_PATH.parse().unwrap(),
            tonic_prost::ProstCodec::default(),
        )
        .await;
    let elapsed = started.elapsed();
    let status = result.unwrap_err();
    assert!(
        matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled),
        "{status:?}"
    );
    assert!(elapsed < Duration::from_secs(10), "the call took {elapsed:?}");
    sender.abort();
    assert_still_serves(&mut client, "an expired deadline").await;

    // A deadline the work fits in is honoured normally.
    let mut request = tonic::Request::new(good());
    request.set_timeout(Duration::from_secs(5));
    assert!(client.evaluate_claim(request).await.is_ok());
    running.stop().await;
}
