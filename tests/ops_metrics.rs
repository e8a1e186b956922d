//! Metrics scraped over HTTP after real gRPC calls: every call is counted by
//! method and status code (including calls tonic refuses before the
//! service, such as an oversized message), timed per method, and each
//! EvaluateClaim decision counted by policy and decision.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use refund_eligibility::metrics::{self, Metrics};
use refund_eligibility::pb;
use refund_eligibility::pb::eligibility_service_client::EligibilityServiceClient;
use refund_eligibility::server::{self, ServerConfig, SERVICE_NAME};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::transport::Channel;
use tonic::Code;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

struct Running {
    channel: Channel,
    channel_addr: SocketAddr,
    metrics_addr: SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    handle: tokio::task::JoinHandle<Result<(), server::ServeError>>,
}

async fn stopped(mut rx: tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

async fn start() -> Running {
    start_with(ServerConfig::default()).await
}

async fn start_with(config: ServerConfig) -> Running {
    let metrics = Arc::new(Metrics::new());
    let (stop, rx) = tokio::sync::watch::channel(false);

    let metrics_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_addr = metrics_listener.local_addr().unwrap();
    tokio::spawn(metrics::serve(
        metrics_listener,
        Arc::clone(&metrics),
        stopped(rx.clone()),
    ));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = ServerConfig {
        metrics: Some(metrics),
        ..config
    };
    let handle = tokio::spawn(server::run(listener, stopped(rx), config));
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(5))
        .connect()
        .await
        .unwrap();
    Running {
        channel,
        channel_addr: addr,
        metrics_addr,
        stop,
        handle,
    }
}

/// A plain HTTP/1.1 GET; returns the status line, headers and body.
async fn http_get(addr: SocketAddr, path: &str) -> (String, String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut raw))
        .await
        .expect("the endpoint answers")
        .unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    (status.to_owned(), headers.to_lowercase(), body.to_owned())
}

/// The value of the sample whose name and labels are exactly `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn example() -> pb::EvaluateClaimRequest {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/iptv-smarters-pro.json")).unwrap();
    refund_eligibility::json::from_json(&text).unwrap()
}

fn handled(method: &str, code: &str) -> String {
    format!(
        "grpc_server_handled_total{{grpc_service=\"{SERVICE_NAME}\",grpc_method=\"{method}\",grpc_code=\"{code}\"}}"
    )
}

#[tokio::test]
async fn calls_codes_latencies_and_decisions_are_counted() {
    let running = start().await;
    let mut client = EligibilityServiceClient::new(running.channel.clone());

    for _ in 0..2 {
        let answer = client.evaluate_claim(example()).await.unwrap().into_inner();
        assert_eq!(answer.decision(), pb::Decision::Approved);
    }
    let mut invalid = example();
    invalid.purchase = None;
    assert_eq!(
        client.evaluate_claim(invalid).await.unwrap_err().code(),
        Code::InvalidArgument
    );
    let mut unknown = example();
    unknown.policy_id = "no-such-policy".into();
    assert_eq!(client.evaluate_claim(unknown).await.unwrap_err().code(), Code::NotFound);
    let mut oversized = example();
    oversized.claim.as_mut().unwrap().description = "x".repeat(100 * 1024);
    assert_eq!(
        client.evaluate_claim(oversized).await.unwrap_err().code(),
        Code::ResourceExhausted
    );
    client.list_policies(pb::ListPoliciesRequest::default()).await.unwrap();
    HealthClient::new(running.channel.clone())
        .check(HealthCheckRequest {
            service: SERVICE_NAME.into(),
        })
        .await
        .unwrap();

    let (status, headers, text) = http_get(running.metrics_addr, "/metrics").await;
    assert!(status.contains(" 200 "), "{status}");
    assert!(
        headers.contains("content-type: application/openmetrics-text"),
        "{headers}"
    );

    assert_eq!(sample(&text, &handled("EvaluateClaim", "OK")), Some(2.0), "{text}");
    assert_eq!(
        sample(&text, &handled("EvaluateClaim", "INVALID_ARGUMENT")),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, &handled("EvaluateClaim", "NOT_FOUND")),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, &handled("EvaluateClaim", "RESOURCE_EXHAUSTED")),
        Some(1.0),
        "{text}"
    );
    assert_eq!(sample(&text, &handled("ListPolicies", "OK")), Some(1.0), "{text}");
    assert_eq!(sample(&text, &handled("QuoteRefund", "OK")), None, "never called");
    assert_eq!(
        sample(
            &text,
            "grpc_server_handled_total{grpc_service=\"grpc.health.v1.Health\",grpc_method=\"Check\",grpc_code=\"OK\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "refund_eligibility_decisions_total{policy_id=\"iptv-smarters-pro\",decision=\"APPROVED\"}"
        ),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        text.matches("refund_eligibility_decisions_total{").count(),
        1,
        "errors decide nothing: {text}"
    );
    let latency = format!("{{grpc_service=\"{SERVICE_NAME}\",grpc_method=\"EvaluateClaim\"}}");
    assert_eq!(
        sample(&text, &format!("grpc_server_handling_seconds_count{latency}")),
        Some(5.0),
        "{text}"
    );
    let sum = sample(&text, &format!("grpc_server_handling_seconds_sum{latency}")).unwrap();
    assert!(sum > 0.0 && sum < 5.0, "latency sum {sum}");
    let inf = format!(
        "grpc_server_handling_seconds_bucket{{le=\"+Inf\",grpc_service=\"{SERVICE_NAME}\",grpc_method=\"EvaluateClaim\"}}"
    );
    assert_eq!(sample(&text, &inf), Some(5.0), "{text}");
    assert_eq!(
        sample(
            &text,
            &format!(
                "refund_eligibility_build_info{{version=\"{}\"}}",
                env!("CARGO_PKG_VERSION")
            )
        ),
        Some(1.0),
        "{text}"
    );

    // A second scrape sees the same counts (scraping changes nothing).
    let (_, _, again) = http_get(running.metrics_addr, "/metrics").await;
    assert_eq!(sample(&again, &handled("EvaluateClaim", "OK")), Some(2.0));

    let (status, _, _) = http_get(running.metrics_addr, "/other").await;
    assert!(status.contains(" 404 "), "{status}");

    running.stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(15), running.handle)
        .await
        .expect("server drains")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn unknown_methods_share_one_label_instead_of_growing_series() {
    let running = start().await;
    let mut grpc = tonic::client::Grpc::new(running.channel.clone());
    grpc.ready().await.unwrap();
    for name in ["Nope", "AlsoNope", "StillNope"] {
        let path = format!("/{SERVICE_NAME}/{name}").parse().unwrap();
        let status = grpc
            .unary::<_, pb::ListPoliciesResponse, _>(
                tonic::Request::new(pb::ListPoliciesRequest::default()),
                path,
                tonic_prost::ProstCodec::default(),
            )
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unimplemented);
        grpc.ready().await.unwrap();
    }
    let (_, _, text) = http_get(running.metrics_addr, "/metrics").await;
    assert_eq!(
        sample(
            &text,
            "grpc_server_handled_total{grpc_service=\"unknown\",grpc_method=\"unknown\",grpc_code=\"UNIMPLEMENTED\"}"
        ),
        Some(3.0),
        "{text}"
    );
    assert!(!text.contains("Nope"), "{text}");
    running.stop.send(true).unwrap();
}

#[tokio::test]
async fn probes_have_a_readiness_and_a_liveness_name_and_are_counted() {
    use tonic_health::pb::health_check_response::ServingStatus;
    let running = start().await;
    let mut health = HealthClient::new(running.channel.clone());
    for name in [SERVICE_NAME, server::LIVENESS_SERVICE, ""] {
        let status = health
            .check(HealthCheckRequest { service: name.into() })
            .await
            .unwrap()
            .into_inner()
            .status();
        assert_eq!(status, ServingStatus::Serving, "{name:?}");
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "no.such.Service".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);

    let (_, _, text) = http_get(running.metrics_addr, "/metrics").await;
    let check = |code: &str| {
        format!("grpc_server_handled_total{{grpc_service=\"grpc.health.v1.Health\",grpc_method=\"Check\",grpc_code=\"{code}\"}}")
    };
    assert_eq!(sample(&text, &check("OK")), Some(3.0), "{text}");
    assert_eq!(sample(&text, &check("NOT_FOUND")), Some(1.0), "{text}");
    running.stop.send(true).unwrap();
}

#[tokio::test]
async fn calls_shed_by_the_connection_limit_are_answered_at_once_and_counted() {
    let running = start_with(ServerConfig {
        concurrency_limit_per_connection: Some(1),
        request_timeout: None,
        ..ServerConfig::default()
    })
    .await;
    let addr = running.channel_addr;
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    let request = || {
        http::Request::builder()
            .method("POST")
            .uri(format!("http://{addr}/{SERVICE_NAME}/EvaluateClaim"))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(())
            .unwrap()
    };
    // The first call's body never ends, so it holds the connection's one slot.
    let mut client = client.ready().await.unwrap();
    let (_held, _body) = client.send_request(request(), false).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let started = std::time::Instant::now();
    let mut client = client.ready().await.unwrap();
    let (shed, _) = client.send_request(request(), true).unwrap();
    let shed = tokio::time::timeout(Duration::from_secs(5), shed)
        .await
        .expect("the excess call was queued, not shed")
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(shed.headers()["grpc-status"], "8", "RESOURCE_EXHAUSTED: {shed:?}");
    assert_eq!(
        shed.headers()["grpc-message"],
        "Too%20many%20active%20requests%20for%20the%20connection"
    );

    // A call on another connection has its own slots.
    let mut other = EligibilityServiceClient::new(running.channel.clone());
    other.evaluate_claim(example()).await.unwrap();

    let (_, _, text) = http_get(running.metrics_addr, "/metrics").await;
    assert_eq!(
        sample(&text, &handled("EvaluateClaim", "RESOURCE_EXHAUSTED")),
        Some(1.0),
        "{text}"
    );
    assert_eq!(sample(&text, &handled("EvaluateClaim", "OK")), Some(1.0), "{text}");
    running.stop.send(true).unwrap();
}
