//! Soak (issue 15, case 6): the release server under a steady 50 % of its
//! measured saturation for a long time, over clients that reconnect as the
//! server ages their connections. Run it through `bench/soak.sh`.
//!
//! 1. Starts `--binary` on a free 127.0.0.1 port with `--max-connection-age`
//!    (default 20 s, so a 10-minute run ages every connection ~30 times).
//! 2. Measures saturation: `--clients` connections with 8 callers each in a
//!    closed loop for 5 s (mixed calls, below).
//! 3. Runs the same clients open-loop at half that rate for `--seconds`:
//!    EvaluateClaim, QuoteRefund and ListPolicies (8 : 3 : 1) across every
//!    policy the server lists. Every answer is checked: an evaluation must
//!    carry a decision and a reason, a quote a schedule, the list every policy.
//!    The only failure allowed is a call refused because its connection was
//!    being aged (UNAVAILABLE, hyper's `Canceled` for a request still queued
//!    on the client when the connection closed, or a stream above the
//!    GOAWAY's last stream id: never processed, safe to retry); it is retried
//!    once and the retry must succeed. Any other error counts as a failure.
//! 4. Samples the server's RSS, open file descriptors and threads every 5 s.
//!    RSS after the warm-up (the first fifth of the run) must stay within
//!    ±10 % of its mean; once the clients are gone, file descriptors and
//!    threads must be back to their level before the load.
//!
//! Traffic goes to 127.0.0.1 only; the server is stopped by its PID.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use refund_eligibility::pb;
use refund_eligibility::pb::eligibility_service_client::EligibilityServiceClient;
use tonic::transport::{Channel, Endpoint};
use tonic::Code;

struct Args {
    binary: String,
    seconds: u64,
    clients: usize,
    age: String,
}

fn args() -> Args {
    let mut a = Args {
        binary: "target/release/refund-eligibility".into(),
        seconds: 600,
        clients: 4,
        age: "20s".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--binary" => a.binary = value,
            "--seconds" => a.seconds = value.parse().unwrap(),
            "--clients" => a.clients = value.parse().unwrap(),
            "--max-connection-age" => a.age = value,
            _ => panic!("unknown flag {flag}; known: --binary --seconds --clients --max-connection-age"),
        }
    }
    a
}

fn ts(seconds: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds, nanos: 0 })
}

/// 2026-01-05T10:00:00Z
const PURCHASED: i64 = 1_767_607_200;

fn purchase(i: u64) -> pb::Purchase {
    pb::Purchase {
        order_id: format!("SOAK-{i}"),
        amount_paid: Some(pb::Money {
            currency_code: "EUR".into(),
            amount: "29.99".into(),
        }),
        purchased_at: ts(PURCHASED),
        delivered_at: ts(PURCHASED + 300),
        term_months: 12,
        customer_country: if i % 2 == 0 { "US" } else { "FR" }.into(),
        ..Default::default()
    }
}

#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    unavailable: AtomicU64,
    failed: AtomicU64,
}

/// A call the connection's age stopped before the server saw it: UNAVAILABLE,
/// hyper's `Canceled` for a request still queued on the client when the aged
/// connection closed (tonic reports it as CANCELLED), or h2's error for a
/// stream above the graceful GOAWAY's last stream id (tonic: INTERNAL). The
/// same three as in `tests/drain.rs`; all safe to retry.
fn refused_by_age(status: &tonic::Status) -> bool {
    let debug = format!("{status:?}");
    match status.code() {
        Code::Unavailable => true,
        Code::Cancelled => debug.contains("Canceled, \"connection closed\""),
        // A stream the client opened above the last stream id of the
        // server's graceful GOAWAY (RFC 9113 §6.8: not processed).
        Code::Internal => debug.contains("GoAway(b\"\", NO_ERROR, Remote)"),
        _ => false,
    }
}

/// One call of the mix, retried once if the connection's age refused it.
async fn call(client: &mut EligibilityServiceClient<Channel>, policies: &[String], i: u64, counts: &Counts) {
    if !attempt(client, policies, i, counts, true).await {
        attempt(client, policies, i, counts, false).await;
    }
}

/// `false` if the call was refused by the connection's age and may be retried.
async fn attempt(
    client: &mut EligibilityServiceClient<Channel>,
    policies: &[String],
    i: u64,
    counts: &Counts,
    may_retry: bool,
) -> bool {
    let policy = policies[(i as usize / 12) % policies.len()].clone();
    let result: Result<(), tonic::Status> = match i % 12 {
        0..=7 => client
            .evaluate_claim(pb::EvaluateClaimRequest {
                policy_id: policy,
                purchase: Some(purchase(i)),
                claim: Some(pb::Claim {
                    reason: [
                        pb::ClaimReason::NotAsDescribed,
                        pb::ClaimReason::ChangeOfMind,
                        pb::ClaimReason::NonDelivery,
                    ][i as usize % 3] as i32,
                    description: "soak".into(),
                    ..Default::default()
                }),
                evaluated_at: ts(PURCHASED + 3600 * (1 + (i as i64 % 400))),
                locale: "en".into(),
                request_id: format!("soak-{i}"),
                ..Default::default()
            })
            .await
            .and_then(|r| {
                let r = r.into_inner();
                if r.decision == 0 || r.reasons.is_empty() {
                    return Err(tonic::Status::internal(format!(
                        "an answer without decision or reason: {r:?}"
                    )));
                }
                Ok(())
            }),
        8..=10 => client
            .quote_refund(pb::QuoteRefundRequest {
                policy_id: policy,
                purchase: Some(purchase(i)),
                as_of: ts(PURCHASED + 86_400 * (i as i64 % 300)),
                locale: "en".into(),
            })
            .await
            .and_then(|r| {
                if r.get_ref().schedule.is_empty() {
                    return Err(tonic::Status::internal("a quote without schedule"));
                }
                Ok(())
            }),
        _ => client
            .list_policies(pb::ListPoliciesRequest { locale: "fr".into() })
            .await
            .and_then(|r| {
                if r.get_ref().policies.len() != policies.len() {
                    return Err(tonic::Status::internal("the policy list changed"));
                }
                Ok(())
            }),
    };
    match result {
        Ok(()) => {
            counts.ok.fetch_add(1, Ordering::Relaxed);
            true
        }
        Err(s) if may_retry && refused_by_age(&s) => {
            counts.unavailable.fetch_add(1, Ordering::Relaxed);
            false
        }
        Err(s) => {
            if counts.failed.fetch_add(1, Ordering::Relaxed) < 10 {
                eprintln!("soak: call {i} failed: {s:?}");
            }
            true
        }
    }
}

fn proc_sample(pid: u32) -> (u64, usize, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0);
    (field("VmRSS:"), fds, field("Threads:"))
}

fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let f: Vec<f64> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    (f[11] + f[12]) / 100.0
}

async fn connect(addr: &str) -> EligibilityServiceClient<Channel> {
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .connect_lazy();
    EligibilityServiceClient::new(channel)
}

#[tokio::main]
async fn main() {
    let a = args();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut server = Command::new(&a.binary)
        .args([
            "serve",
            "--listen",
            &addr,
            "--metrics-listen",
            "off",
            "--log-level",
            "warn",
        ])
        .args(["--max-connection-age", &a.age, "--max-connection-age-grace", "5s"])
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", a.binary));
    let pid = server.id();
    let mut probe = connect(&addr).await;
    let started = Instant::now();
    let policies: Vec<String> = loop {
        match probe.list_policies(pb::ListPoliciesRequest::default()).await {
            Ok(r) => {
                break r
                    .into_inner()
                    .policies
                    .into_iter()
                    .filter_map(|p| p.r#ref.map(|r| r.id))
                    .collect()
            }
            Err(_) if started.elapsed() < Duration::from_secs(10) => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("the server did not answer: {e:?}"),
        }
    };
    drop(probe);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (rss0, fds0, threads0) = proc_sample(pid);
    let policies = Arc::new(policies);

    // Saturation: closed loop, clients × 8 callers, 5 s.
    let counts = Arc::new(Counts::default());
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut tasks = Vec::new();
    for c in 0..a.clients {
        let client = connect(&addr).await;
        for k in 0..8u64 {
            let (mut client, policies, counts) = (client.clone(), policies.clone(), counts.clone());
            tasks.push(tokio::spawn(async move {
                let mut i = (c as u64) * 1_000_000 + k * 100_000;
                while Instant::now() < deadline {
                    call(&mut client, &policies, i, &counts).await;
                    i += 1;
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let saturation = counts.ok.load(Ordering::Relaxed) as f64 / 5.0;
    let rate = saturation / 2.0;
    println!(
        "soak: saturation {saturation:.0} calls/s ({} clients x 8 callers, closed loop, 5 s); steady rate {rate:.0} calls/s for {} s, --max-connection-age {}",
        a.clients, a.seconds, a.age
    );
    assert_eq!(
        counts.failed.load(Ordering::Relaxed),
        0,
        "failures while measuring saturation"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Steady phase: open loop, each caller at rate / (clients × 8).
    let counts = Arc::new(Counts::default());
    let run = Duration::from_secs(a.seconds);
    let deadline = Instant::now() + run;
    let callers = a.clients * 8;
    let period = Duration::from_secs_f64(callers as f64 / rate);
    let mut tasks = Vec::new();
    for c in 0..a.clients {
        let client = connect(&addr).await;
        for k in 0..8u64 {
            let (mut client, policies, counts) = (client.clone(), policies.clone(), counts.clone());
            tasks.push(tokio::spawn(async move {
                let mut tick = tokio::time::interval(period);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                let mut i = (c as u64) * 100_000_000 + k * 10_000_000;
                while Instant::now() < deadline {
                    tick.tick().await;
                    call(&mut client, &policies, i, &counts).await;
                    i += 1;
                }
            }));
        }
    }
    let t0 = Instant::now();
    let cpu0 = cpu_seconds(pid);
    let mut samples = Vec::new();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(5).min(deadline.saturating_duration_since(Instant::now()))).await;
        let (rss, fds, threads) = proc_sample(pid);
        samples.push((t0.elapsed().as_secs_f64(), rss, fds, threads));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let cpu = cpu_seconds(pid) - cpu0;
    let elapsed = t0.elapsed().as_secs_f64();
    // The clients are gone (their channels dropped with the tasks); give the
    // server a moment to see the connections close.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (rss_end, fds_end, threads_end) = proc_sample(pid);

    let warm: Vec<u64> = samples.iter().filter(|s| s.0 >= elapsed / 5.0).map(|s| s.1).collect();
    let mean = warm.iter().sum::<u64>() as f64 / warm.len().max(1) as f64;
    let (lo, hi) = (
        *warm.iter().min().unwrap_or(&0) as f64,
        *warm.iter().max().unwrap_or(&0) as f64,
    );
    let ok = counts.ok.load(Ordering::Relaxed);
    let unavailable = counts.unavailable.load(Ordering::Relaxed);
    let failed = counts.failed.load(Ordering::Relaxed);
    for s in &samples {
        println!("soak: t={:>5.0}s rss={} KiB fds={} threads={}", s.0, s.1, s.2, s.3);
    }
    println!(
        "soak: {elapsed:.0} s, {ok} calls ok ({:.0}/s), {unavailable} refused by connection age and retried, {failed} failed; server CPU {cpu:.1} s ({:.0} % of one core)",
        ok as f64 / elapsed,
        100.0 * cpu / elapsed
    );
    println!(
        "soak: RSS before load {rss0} KiB; after warm-up mean {mean:.0} KiB, min {lo:.0} ({:+.1} %), max {hi:.0} ({:+.1} %); at the end {rss_end} KiB",
        100.0 * (lo - mean) / mean,
        100.0 * (hi - mean) / mean
    );
    println!("soak: fds {fds0} before, {fds_end} at the end; threads {threads0} before, {threads_end} at the end");
    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    let status = server.wait().unwrap();
    println!("soak: server exited with {status}");

    let mut bad = Vec::new();
    if failed > 0 {
        bad.push(format!("{failed} failed calls"));
    }
    if warm.is_empty() || lo < mean * 0.9 || hi > mean * 1.1 {
        bad.push("RSS not within ±10 % after warm-up".to_string());
    }
    if fds_end > fds0 {
        bad.push(format!("file descriptors {fds_end} at the end, {fds0} before"));
    }
    if threads_end > threads0.max(1) + 2 {
        bad.push(format!("threads {threads_end} at the end, {threads0} before"));
    }
    if !status.success() {
        bad.push("the server did not exit cleanly".to_string());
    }
    if bad.is_empty() {
        println!("soak: PASS");
    } else {
        println!("soak: FAIL: {}", bad.join("; "));
        std::process::exit(1);
    }
}
