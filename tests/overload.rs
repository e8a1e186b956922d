//! Overload: with a connection's concurrency limit reached, excess calls are
//! shed at once (RESOURCE_EXHAUSTED or UNAVAILABLE) instead of queueing, the
//! admitted calls still complete correctly and promptly, and capacity comes
//! back once they finish.
//!
//! Timings are generous bounds for a shared, noisy machine, not performance
//! assertions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod calls;

use std::time::{Duration, Instant};

use refund_eligibility::pb::eligibility_service_client::EligibilityServiceClient;
use refund_eligibility::server::{self, ServerConfig};
use tonic::transport::Endpoint;
use tonic::{Code, Status};

use calls::{check_answer, good, held_call};

fn is_shed(status: &Status) -> bool {
    matches!(status.code(), Code::ResourceExhausted | Code::Unavailable)
}

async fn overload(config: ServerConfig, excess: usize) {
    let limit = config.concurrency_limit_per_connection.expect("a limit is configured");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(server::run(
        listener,
        async move {
            let _ = stopped.await;
        },
        config,
    ));
    // One connection: the limit is per connection.
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .unwrap();
    let mut client = EligibilityServiceClient::new(channel.clone());
    client.evaluate_claim(good(0)).await.unwrap();

    // Fill every slot with a call that waits for its message.
    let mut held = Vec::new();
    for _ in 0..limit {
        held.push(held_call(&channel).await);
    }
    // Wait until the server has admitted them all: a probe is then shed while
    // every held call is still open. A held call that raced a probe for the
    // last slot was itself shed; it is replaced.
    let full_by = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(
            Instant::now() < full_by,
            "{limit} held calls never filled the connection"
        );
        for slot in held.iter_mut() {
            if slot.1.is_finished() {
                let (_, finished) = std::mem::replace(slot, held_call(&channel).await);
                let status = finished
                    .await
                    .unwrap()
                    .expect_err("a held call cannot finish before its message");
                assert!(is_shed(&status), "a held call failed with {status:?}");
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        if held.iter().any(|h| h.1.is_finished()) {
            continue;
        }
        match client.evaluate_claim(good(1)).await {
            Err(status) if is_shed(&status) && !held.iter().any(|h| h.1.is_finished()) => break,
            Err(status) if is_shed(&status) => {}
            Err(status) => panic!("probe failed with {status:?}"),
            Ok(_) => {}
        }
    }

    // Excess calls are shed at once, not queued behind the held ones (which
    // hold their slots until we send their messages, after this).
    let started = Instant::now();
    let mut excess_calls = Vec::new();
    for i in 0..excess {
        let mut client = client.clone();
        excess_calls.push(tokio::spawn(async move { client.evaluate_claim(good(100 + i)).await }));
    }
    let mut shed = 0;
    let mut codes = std::collections::BTreeSet::new();
    for call in excess_calls {
        let result = tokio::time::timeout(Duration::from_secs(10), call)
            .await
            .expect("an excess call was queued instead of shed")
            .unwrap();
        match result {
            Err(status) if is_shed(&status) => {
                shed += 1;
                codes.insert(format!("{:?}", status.code()));
            }
            other => panic!("an excess call was not shed: {other:?}"),
        }
    }
    let shedding_took = started.elapsed();
    assert_eq!(shed, excess);
    assert!(
        shedding_took < Duration::from_secs(5),
        "shedding {excess} calls took {shedding_took:?}"
    );

    // The admitted calls complete correctly, promptly once their message is in.
    let released = Instant::now();
    for (i, (tx, _)) in held.iter().enumerate() {
        tx.send(good(10_000 + i)).await.unwrap();
    }
    for (i, (tx, call)) in held.into_iter().enumerate() {
        drop(tx);
        let resp = tokio::time::timeout(Duration::from_secs(10), call)
            .await
            .expect("an admitted call finishes")
            .unwrap()
            .unwrap_or_else(|s| panic!("admitted call {i} failed: {s:?}"));
        check_answer(&resp, 10_000 + i);
    }
    let admitted_took = released.elapsed();
    assert!(
        admitted_took < Duration::from_secs(5),
        "admitted calls took {admitted_took:?}"
    );

    // Capacity is back.
    let resp = client.evaluate_claim(good(2)).await.unwrap();
    check_answer(resp.get_ref(), 2);
    eprintln!(
        "overload (limit {limit}): {shed} of {excess} excess calls shed ({codes:?}) in {shedding_took:?}; \
         {limit} admitted calls completed {admitted_took:?} after release"
    );

    drop(stop);
    tokio::time::timeout(Duration::from_secs(20), handle)
        .await
        .expect("server stops")
        .unwrap()
        .unwrap();
}

/// The shipped default (64 calls per connection).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_limit_sheds_excess_calls() {
    let config = ServerConfig::default();
    assert!(
        config.concurrency_limit_per_connection.is_some(),
        "the default has a limit"
    );
    overload(config, 100).await;
}

/// A small limit, so nearly every call of a burst is excess.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_limit_sheds_excess_calls() {
    let config = ServerConfig {
        concurrency_limit_per_connection: Some(4),
        request_timeout: Some(Duration::from_secs(60)),
        ..ServerConfig::default()
    };
    overload(config, 200).await;
}
