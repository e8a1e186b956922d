//! EvaluateClaims over a real socket: every corpus request answered in
//! order, byte for byte what the unary call returns, bad items answered with
//! the unary call's error while the stream goes on; a client that stops
//! reading stops the server reading; the item limit; a drain mid-stream.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "shared/corpus.rs"]
mod corpus;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use prost::Message;
use refund_eligibility::grpc::stream::{StreamLimits, LAST_INDEX_TRAILER};
use refund_eligibility::metrics::Metrics;
use refund_eligibility::pb::eligibility_service_client::EligibilityServiceClient;
use refund_eligibility::pb::evaluate_claims_response::Result as Answer;
use refund_eligibility::server::{self, ServerConfig};
use refund_eligibility::{json, pb};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;
use tonic::transport::Channel;
use tonic::Code;

struct Running {
    channel: Channel,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<Result<(), server::ServeError>>,
}

impl Running {
    async fn start(config: ServerConfig) -> Running {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(server::run(
            listener,
            async move {
                let _ = rx.await;
            },
            config,
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

    fn client(&self) -> EligibilityServiceClient<Channel> {
        EligibilityServiceClient::new(self.channel.clone())
    }

    fn begin_drain(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    async fn stop(mut self) {
        self.begin_drain();
        tokio::time::timeout(Duration::from_secs(15), self.handle)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
}

/// Every EvaluateClaim request of the corpus, with `evaluated_at` pinned
/// where a case leaves it to the clock, so that two calls answer alike.
fn corpus_requests() -> Vec<pb::EvaluateClaimRequest> {
    let dir = corpus::cases_dir_of(env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let file = corpus::CorpusFile::read(&path).unwrap();
        for (name, request) in file.case_requests() {
            let mut request: pb::EvaluateClaimRequest =
                json::from_value(&request).unwrap_or_else(|e| panic!("{}: {name}: {e}", path.display()));
            if request.evaluated_at.is_none() {
                request.evaluated_at = Some(prost_types::Timestamp {
                    seconds: 1_780_000_000,
                    nanos: 0,
                });
            }
            out.push(request);
        }
    }
    assert!(out.len() > 100, "{} corpus requests", out.len());
    out
}

/// A request every policy refuses: INVALID_ARGUMENT naming `purchase`.
fn invalid() -> pb::EvaluateClaimRequest {
    pb::EvaluateClaimRequest {
        policy_id: "iptv-smarters-pro".into(),
        ..Default::default()
    }
}

fn unknown_policy() -> pb::EvaluateClaimRequest {
    pb::EvaluateClaimRequest {
        policy_id: "no-such-policy".into(),
        ..invalid()
    }
}

fn decisions_counted(metrics: &Metrics) -> u64 {
    metrics
        .encode()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("refund_eligibility_decisions_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

#[tokio::test]
async fn the_whole_corpus_in_one_stream_in_order_byte_for_byte_with_bad_items_in_place() {
    let metrics = Arc::new(Metrics::new());
    let running = Running::start(ServerConfig {
        metrics: Some(Arc::clone(&metrics)),
        ..ServerConfig::default()
    })
    .await;
    let mut client = running.client();
    let mut requests = Vec::new();
    for (i, request) in corpus_requests().into_iter().enumerate() {
        match i % 50 {
            10 => requests.push(invalid()),
            20 => requests.push(unknown_policy()),
            _ => {}
        }
        requests.push(request);
    }

    // The unary answers, one call each.
    let mut unary = Vec::new();
    for request in &requests {
        unary.push(client.evaluate_claim(request.clone()).await);
    }
    let unary_decided = unary.iter().filter(|r| r.is_ok()).count() as u64;
    assert_eq!(decisions_counted(&metrics), unary_decided);

    let answers: Vec<pb::EvaluateClaimsResponse> = client
        .evaluate_claims(tokio_stream::iter(requests.clone()))
        .await
        .unwrap()
        .into_inner()
        .collect::<Result<_, _>>()
        .await
        .unwrap();
    assert_eq!(answers.len(), requests.len());
    let mut errors = 0;
    for (i, (answer, unary)) in answers.iter().zip(&unary).enumerate() {
        assert_eq!(answer.index, i as u64, "answers in request order");
        match (&answer.result, unary) {
            (Some(Answer::Response(streamed)), Ok(response)) => {
                assert_eq!(
                    streamed.encode_to_vec(),
                    response.get_ref().encode_to_vec(),
                    "item {i}: not the unary answer"
                );
            }
            (Some(Answer::Error(error)), Err(status)) => {
                errors += 1;
                assert_eq!(error.code, status.code() as i32, "item {i}");
                assert_eq!(error.message, status.message(), "item {i}");
                if status.code() == Code::InvalidArgument {
                    assert_eq!(error.encode_to_vec(), status.details().to_vec(), "item {i}: BadRequest");
                    let violations = tonic_types::StatusExt::get_error_details(status);
                    assert!(violations.bad_request().is_some(), "item {i}");
                }
            }
            (streamed, unary) => panic!("item {i}: streamed {streamed:?}, unary {unary:?}"),
        }
    }
    assert!(errors >= 2 * (requests.len() / 51), "{errors} errors");
    // Stream items are counted like unary calls (after the stream's trailers).
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(decisions_counted(&metrics), 2 * unary_decided);
    running.stop().await;
}

#[tokio::test]
async fn a_client_that_stops_reading_stops_the_server_reading() {
    let window = 16;
    let running = Running::start(ServerConfig {
        stream_limits: StreamLimits {
            window,
            max_items: 1_000_000,
        },
        // The unread stream holds the drain until the grace period ends.
        shutdown_grace: Duration::from_secs(1),
        ..ServerConfig::default()
    })
    .await;
    let mut client = running.client();
    let good = corpus_requests().swap_remove(0);
    let good_len = good.encoded_len();
    let answer_len = pb::EvaluateClaimsResponse {
        index: 1 << 20,
        result: Some(Answer::Response(
            client.evaluate_claim(good.clone()).await.unwrap().into_inner(),
        )),
    }
    .encoded_len();
    let pulled = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&pulled);
    // An endless stream of requests; each one the transport takes is counted.
    let outgoing = tokio_stream::iter(std::iter::repeat(good)).map(move |r| {
        counter.fetch_add(1, Ordering::Relaxed);
        r
    });
    // The answers are never read.
    let answers = client.evaluate_claims(outgoing).await.unwrap();
    // Wait until the count has not moved for half a second (10 s at most).
    let (mut last, mut still) = (0, 0);
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = pulled.load(Ordering::Relaxed);
        still = if now == last && now > 0 { still + 1 } else { 0 };
        last = now;
        if still == 5 {
            break;
        }
    }
    assert_eq!(
        still, 5,
        "the client is still sending: nothing pushes back ({last} taken)"
    );
    let settled = last;
    // What may be taken without being read: the answers in the window, the
    // requests in the server's HTTP/2 receive window (hyper's default, 1 MiB)
    // and in tonic's client encode buffer (32 KiB), the answers in the
    // client's receive window (hyper's default, 2 MiB) and in tonic's server
    // encode buffer. Without the window's backpressure the count would grow
    // without end.
    let request_bytes = good_len as u64 + 5;
    let answer_bytes = answer_len as u64 + 5;
    let bound = window as u64
        + (1 << 20) / request_bytes
        + (32 << 10) / request_bytes
        + ((2 << 20) + (32 << 10)) / answer_bytes
        + 64;
    assert!(settled <= bound, "{settled} requests taken, bound {bound}");
    drop(answers);
    running.stop().await;
}

#[tokio::test]
async fn a_stream_longer_than_the_limit_ends_with_resource_exhausted_after_its_last_answer() {
    let running = Running::start(ServerConfig {
        stream_limits: StreamLimits {
            window: 4,
            max_items: 5,
        },
        ..ServerConfig::default()
    })
    .await;
    let good = corpus_requests().swap_remove(0);
    let mut answers = running
        .client()
        .evaluate_claims(tokio_stream::iter(vec![good; 8]))
        .await
        .unwrap()
        .into_inner();
    for i in 0..5 {
        assert_eq!(answers.message().await.unwrap().unwrap().index, i);
    }
    let status = answers.message().await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("at most 5 items"), "{}", status.message());
    assert_eq!(
        status.metadata().get(LAST_INDEX_TRAILER).unwrap().to_str().unwrap(),
        "4"
    );
    running.stop().await;
}

#[tokio::test]
async fn a_drain_mid_stream_answers_what_was_received_then_names_the_last_index() {
    let mut running = Running::start(ServerConfig::default()).await;
    let good = corpus_requests().swap_remove(0);
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let mut answers = running
        .client()
        .evaluate_claims(ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    for i in 0..100u64 {
        tx.send(good.clone()).await.unwrap();
        let answer = answers.message().await.unwrap().unwrap();
        assert_eq!(answer.index, i);
        assert!(matches!(answer.result, Some(Answer::Response(_))));
    }
    // The stream stays open; the server drains.
    running.begin_drain();
    let status = tokio::time::timeout(Duration::from_secs(5), answers.message())
        .await
        .expect("the drain ends the stream")
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(
        status.message().ends_with("last answered index 99"),
        "{}",
        status.message()
    );
    assert_eq!(
        status.metadata().get(LAST_INDEX_TRAILER).unwrap().to_str().unwrap(),
        "99"
    );
    drop(tx);
    running.stop().await;
}
