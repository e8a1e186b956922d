//! Calls over a real socket shared by the socket-level tests: a known good
//! request and its answer, a call held open until asked, and the server
//! started in process on 127.0.0.1:0.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use refund_eligibility::pb;
use refund_eligibility::pb::eligibility_service_client::EligibilityServiceClient;
use refund_eligibility::server::{self, ServerConfig};
use tonic::transport::Channel;
use tonic::Status;

pub const EVALUATE_PATH: &str = "/refund.eligibility.v1.EligibilityService/EvaluateClaim";

pub fn ts(s: &str) -> Option<prost_types::Timestamp> {
    let t = chrono::DateTime::parse_from_rfc3339(s).unwrap();
    Some(prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    })
}

/// A request whose correct answer is known: APPROVED 29.99 EUR, WITHIN_48_HOURS.
pub fn good(id: usize) -> pb::EvaluateClaimRequest {
    pb::EvaluateClaimRequest {
        policy_id: "iptv-smarters-pro".into(),
        purchase: Some(pb::Purchase {
            order_id: "SP-1001".into(),
            amount_paid: Some(pb::Money {
                currency_code: "EUR".into(),
                amount: "29.99".into(),
            }),
            purchased_at: ts("2026-01-05T10:00:00Z"),
            delivered_at: ts("2026-01-05T10:05:00Z"),
            term_months: 1,
            customer_country: "US".into(),
            ..Default::default()
        }),
        claim: Some(pb::Claim {
            reason: pb::ClaimReason::NotAsDescribed as i32,
            description: "missing features".into(),
            ..Default::default()
        }),
        evaluated_at: ts("2026-01-06T10:00:00Z"),
        locale: "en".into(),
        request_id: format!("call-{id}"),
        explain: false,
    }
}

pub fn check_answer(resp: &pb::EvaluateClaimResponse, id: usize) {
    assert_eq!(resp.decision(), pb::Decision::Approved);
    assert_eq!(resp.refund_amount.as_ref().map(|m| m.amount.as_str()), Some("29.99"));
    assert_eq!(resp.request_id, format!("call-{id}"));
}

pub type HeldCall = (
    tokio::sync::mpsc::Sender<pb::EvaluateClaimRequest>,
    tokio::task::JoinHandle<Result<pb::EvaluateClaimResponse, Status>>,
);

/// Starts an EvaluateClaim call whose message is sent only when asked: the
/// server has accepted the call (headers in) and waits for its message.
pub async fn held_call(channel: &Channel) -> HeldCall {
    let (tx, rx) = tokio::sync::mpsc::channel::<pb::EvaluateClaimRequest>(1);
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready().await.unwrap();
    let handle = tokio::spawn(async move {
        let request = tonic::Request::new(tokio_stream::wrappers::ReceiverStream::new(rx));
        grpc.client_streaming(
            request,
            EVALUATE_PATH.parse().unwrap(),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .map(tonic::Response::into_inner)
    });
    (tx, handle)
}

pub struct Running {
    pub channel: Channel,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<Result<(), server::ServeError>>,
}

impl Running {
    pub async fn start() -> Running {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(server::run(
            listener,
            async move {
                let _ = rx.await;
            },
            ServerConfig::default(),
        ));
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await
            .unwrap();
        Running {
            channel,
            stop: Some(tx),
            handle,
        }
    }

    pub fn client(&self) -> EligibilityServiceClient<Channel> {
        EligibilityServiceClient::new(self.channel.clone())
    }

    pub async fn stop(mut self) {
        drop(self.stop.take());
        tokio::time::timeout(Duration::from_secs(20), self.handle)
            .await
            .expect("server stops")
            .unwrap()
            .unwrap();
    }
}
