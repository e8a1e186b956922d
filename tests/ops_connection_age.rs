//! Connection ageing: at `max_connection_age` a connection gets an HTTP/2
//! GOAWAY (ordinary clients reconnect without failing a call, so load can
//! move to other pods), and a connection still open `max_connection_age_grace`
//! later is cut, even with a call that never ends. And the request timeout
//! answers a call that would otherwise never end with CANCELLED.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use refund_eligibility::pb;
use refund_eligibility::pb::eligibility_service_client::EligibilityServiceClient;
use refund_eligibility::server::{self, ServerConfig, SERVICE_NAME};

const AGE: Duration = Duration::from_millis(400);
const GRACE: Duration = Duration::from_millis(800);

async fn start() -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let config = ServerConfig {
        max_connection_age: Some(AGE),
        max_connection_age_grace: Some(GRACE),
        // A call that never ends must be ended by the cut, not by a timeout.
        request_timeout: None,
        shutdown_grace: Duration::from_millis(200),
        ..ServerConfig::default()
    };
    tokio::spawn(server::run(
        listener,
        async move {
            let _ = rx.await;
        },
        config,
    ));
    (addr, tx)
}

#[tokio::test]
async fn goaway_at_the_age_then_a_cut_after_the_grace() {
    let (addr, _stop) = start().await;
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let opened = Instant::now();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    let connection = tokio::spawn(async move {
        let result = connection.await;
        (result, Instant::now())
    });

    // A call whose request body never ends: the server waits for it forever.
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}/{SERVICE_NAME}/EvaluateClaim"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .unwrap();
    let mut client = client.ready().await.unwrap();
    let (_response, _body) = client.send_request(request.clone(), false).unwrap();

    // After the age, the GOAWAY forbids new streams on this connection.
    tokio::time::sleep(AGE + Duration::from_millis(200)).await;
    let refused = match client.ready().await {
        Err(e) => Some(e),
        Ok(mut ready) => ready.send_request(request, true).err(),
    };
    let refused = refused.expect("a new stream was accepted after the age");
    assert!(
        refused.is_go_away() || refused.to_string().contains("closed"),
        "{refused}"
    );
    assert!(
        !connection.is_finished(),
        "the call in progress keeps the connection open"
    );

    // After the grace the connection is cut although the call never ended.
    let (_, closed_at) = tokio::time::timeout(Duration::from_secs(10), connection)
        .await
        .expect("the connection was never cut")
        .unwrap();
    let lived = closed_at - opened;
    assert!(
        lived >= AGE + GRACE - Duration::from_millis(50),
        "cut too early: {lived:?}"
    );
    assert!(lived < AGE + GRACE + Duration::from_secs(3), "cut too late: {lived:?}");
}

#[tokio::test]
async fn ordinary_clients_ride_through_the_goaway_without_failed_calls() {
    let (addr, stop) = start().await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .timeout(Duration::from_secs(5))
        .connect()
        .await
        .unwrap();
    let mut client = EligibilityServiceClient::new(channel);
    let started = Instant::now();
    let (mut calls, mut retried) = (0, 0);
    // Three connection ages' worth of calls: each GOAWAY forces a reconnect.
    while started.elapsed() < AGE * 3 {
        let mut result = client.list_policies(pb::ListPoliciesRequest::default()).await;
        // A call sent at the very instant of the GOAWAY can be refused before
        // the server saw it. grpc-go, grpc-java and grpcio retry that
        // transparently; tonic's client reports it, so retry it here, once.
        if let Err(status) = &result {
            let unprocessed = matches!(status.code(), tonic::Code::Cancelled | tonic::Code::Unavailable)
                && format!("{status:?}").contains("connection closed");
            assert!(unprocessed, "call {calls} failed across a GOAWAY: {status:?}");
            retried += 1;
            result = client.list_policies(pb::ListPoliciesRequest::default()).await;
        }
        result.unwrap_or_else(|status| panic!("call {calls} failed after a reconnect: {status:?}"));
        calls += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(calls > 20, "{calls}");
    assert!(
        retried <= 3,
        "at most one refused call per GOAWAY, {retried} in {calls}"
    );
    let _ = stop.send(());
}

#[tokio::test]
async fn a_call_past_the_request_timeout_is_cancelled_not_left_hanging() {
    const TIMEOUT: Duration = Duration::from_millis(300);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let config = ServerConfig {
        request_timeout: Some(TIMEOUT),
        ..ServerConfig::default()
    };
    tokio::spawn(server::run(
        listener,
        async move {
            let _ = rx.await;
        },
        config,
    ));

    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}/{SERVICE_NAME}/EvaluateClaim"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .unwrap();
    let mut client = client.ready().await.unwrap();
    let started = Instant::now();
    // The request body never ends, so only the timeout can answer.
    let (response, _body) = client.send_request(request, false).unwrap();
    let response = tokio::time::timeout(Duration::from_secs(10), response)
        .await
        .expect("no answer: the timeout did not fire")
        .unwrap();
    let waited = started.elapsed();
    assert_eq!(response.headers()["grpc-status"], "1", "CANCELLED: {response:?}");
    assert!(
        waited >= TIMEOUT - Duration::from_millis(20),
        "answered early: {waited:?}"
    );
    let _ = stop.send(());
}
