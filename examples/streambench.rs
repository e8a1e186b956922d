//! Over-the-wire load: unary EvaluateClaim against streaming EvaluateClaims
//! at the same concurrency over one connection, on a running server. Run it
//! through `bench/stream.sh`, which builds the release server, starts it and
//! passes its PID so that claims per server CPU-second can be reported.
//!
//! `cargo run --release --example streambench -- --addr http://127.0.0.1:50051
//!  [--concurrency 8] [--seconds 3] [--rounds 3] [--stream-items 20000] [--server-pid PID]`
//!
//! Each round runs the unary phase then the streaming phase; the figures are
//! the medians over the rounds (the machine may be shared).
//!
//! `--write-jsonl PATH --lines N` instead writes the corpus requests, one
//! per line and repeated, to N lines of PATH (the input of the JSON-lines
//! CLI benchmark) and exits.
//!
//! The requests are the corpus's EvaluateClaim requests (tests/cases), cycled.
//! Unary: `concurrency` tasks each send one call at a time. Streaming:
//! `concurrency` streams at a time, each carrying `stream-items` requests
//! (sent as fast as flow control lets them), answers counted as they come.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "../tests/shared/corpus.rs"]
mod corpus;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use refund_eligibility::pb::eligibility_service_client::EligibilityServiceClient;
use refund_eligibility::{json, pb};
use tokio_stream::StreamExt;
use tonic::transport::{Channel, Endpoint};

struct Options {
    addr: String,
    concurrency: usize,
    seconds: u64,
    stream_items: usize,
    rounds: usize,
    server_pid: Option<u32>,
    write_jsonl: Option<String>,
    lines: usize,
}

fn options() -> Options {
    let mut o = Options {
        addr: "http://127.0.0.1:50051".into(),
        concurrency: 8,
        seconds: 3,
        stream_items: 20_000,
        rounds: 3,
        server_pid: None,
        write_jsonl: None,
        lines: 1_000_000,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--addr" => o.addr = value,
            "--concurrency" => o.concurrency = value.parse().unwrap(),
            "--seconds" => o.seconds = value.parse().unwrap(),
            "--stream-items" => o.stream_items = value.parse().unwrap(),
            "--rounds" => o.rounds = value.parse().unwrap(),
            "--server-pid" => o.server_pid = Some(value.parse().unwrap()),
            "--write-jsonl" => o.write_jsonl = Some(value),
            "--lines" => o.lines = value.parse().unwrap(),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    o
}

/// The corpus's EvaluateClaim requests.
fn requests() -> Vec<pb::EvaluateClaimRequest> {
    let dir = corpus::cases_dir_of(env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let Some(file) = corpus::CorpusFile::read(&path) else {
            continue;
        };
        for (_, request) in file.case_requests() {
            if let Ok(r) = json::from_value::<pb::EvaluateClaimRequest>(&request) {
                out.push(r);
            }
        }
    }
    assert!(!out.is_empty(), "no corpus requests under {}", dir.display());
    out
}

/// utime + stime of a process, in seconds (clock ticks of 1/100 s).
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); after the name, state is index 0 (field 3).
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

struct Phase {
    claims: u64,
    seconds: f64,
    server_cpu: f64,
    client_cpu: f64,
}

impl Phase {
    fn print(&self, name: &str) {
        let rate = self.claims as f64 / self.seconds;
        print!(
            "{name}: {} claims in {:.2} s = {:.0} claims/s; client CPU {:.2} s",
            self.claims, self.seconds, rate, self.client_cpu
        );
        if self.server_cpu > 0.0 {
            print!(
                "; server CPU {:.2} s = {:.0} claims per server CPU-second",
                self.server_cpu,
                self.claims as f64 / self.server_cpu
            );
        }
        println!();
    }
}

async fn measure<F, Fut>(o: &Options, run: F) -> Phase
where
    F: FnOnce(Arc<AtomicU64>, Instant) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let pid = o.server_pid.map(|p| p.to_string());
    let server_before = pid.as_deref().map_or(0.0, cpu_seconds);
    let client_before = cpu_seconds("self");
    let count = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(o.seconds);
    run(Arc::clone(&count), deadline).await;
    let seconds = started.elapsed().as_secs_f64();
    Phase {
        claims: count.load(Ordering::Relaxed),
        seconds,
        server_cpu: pid.as_deref().map_or(0.0, cpu_seconds) - server_before,
        client_cpu: cpu_seconds("self") - client_before,
    }
}

#[tokio::main]
async fn main() {
    let o = options();
    let requests = Arc::new(requests());
    if let Some(path) = &o.write_jsonl {
        use std::io::Write;
        let lines: Vec<String> = requests.iter().map(|r| json::to_json_line(r).unwrap()).collect();
        let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
        for i in 0..o.lines {
            writeln!(out, "{}", lines[i % lines.len()]).unwrap();
        }
        out.flush().unwrap();
        return;
    }
    let channel: Channel = Endpoint::from_shared(o.addr.clone())
        .unwrap()
        .connect()
        .await
        .expect("connect to the server");
    println!(
        "{} corpus requests, concurrency {}, {} s per phase, {} items per stream, one connection",
        requests.len(),
        o.concurrency,
        o.seconds,
        o.stream_items
    );

    let (mut unary_rounds, mut stream_rounds) = (Vec::new(), Vec::new());
    for round in 1..=o.rounds {
        println!("round {round}");
        let unary = measure(&o, |count, deadline| {
            let tasks: Vec<_> = (0..o.concurrency)
                .map(|t| {
                    let mut client = EligibilityServiceClient::new(channel.clone());
                    let requests = Arc::clone(&requests);
                    let count = Arc::clone(&count);
                    tokio::spawn(async move {
                        let mut i = t;
                        while Instant::now() < deadline {
                            let request = requests[i % requests.len()].clone();
                            i += 1;
                            // An error answer (a corpus case of a bad request) is an answer too.
                            let _ = client.evaluate_claim(request).await;
                            count.fetch_add(1, Ordering::Relaxed);
                        }
                    })
                })
                .collect();
            async move {
                for t in tasks {
                    t.await.unwrap();
                }
            }
        })
        .await;
        unary.print("unary EvaluateClaim");

        let stream = measure(&o, |count, deadline| {
            let tasks: Vec<_> = (0..o.concurrency)
                .map(|t| {
                    let mut client = EligibilityServiceClient::new(channel.clone());
                    let requests = Arc::clone(&requests);
                    let count = Arc::clone(&count);
                    let items = o.stream_items;
                    tokio::spawn(async move {
                        let mut start = t * 7;
                        while Instant::now() < deadline {
                            let requests = Arc::clone(&requests);
                            let outgoing = tokio_stream::iter(
                                (start..start + items).map(move |i| requests[i % requests.len()].clone()),
                            );
                            start += items;
                            let mut answers = client.evaluate_claims(outgoing).await.unwrap().into_inner();
                            let mut expected = 0u64;
                            while let Some(answer) = answers.next().await {
                                let answer = answer.unwrap();
                                assert_eq!(answer.index, expected, "answers in request order");
                                expected += 1;
                                count.fetch_add(1, Ordering::Relaxed);
                            }
                            assert_eq!(expected, items as u64, "one answer per request");
                        }
                    })
                })
                .collect();
            async move {
                for t in tasks {
                    t.await.unwrap();
                }
            }
        })
        .await;
        stream.print("streaming EvaluateClaims");
        unary_rounds.push(unary);
        stream_rounds.push(stream);
    }
    let median = |phases: &[Phase], f: &dyn Fn(&Phase) -> f64| {
        let mut v: Vec<f64> = phases.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let rate = |p: &Phase| p.claims as f64 / p.seconds;
    let per_cpu = |p: &Phase| {
        if p.server_cpu > 0.0 {
            p.claims as f64 / p.server_cpu
        } else {
            0.0
        }
    };
    let (unary_rate, stream_rate) = (median(&unary_rounds, &rate), median(&stream_rounds, &rate));
    let (unary_cpu, stream_cpu) = (median(&unary_rounds, &per_cpu), median(&stream_rounds, &per_cpu));
    println!("median of {} rounds: unary {unary_rate:.0} claims/s, {unary_cpu:.0} per server CPU-second; streaming {stream_rate:.0} claims/s, {stream_cpu:.0} per server CPU-second", o.rounds);
    println!(
        "ratio streaming / unary claims per second: {:.1}x",
        stream_rate / unary_rate
    );
    if unary_cpu > 0.0 {
        println!(
            "ratio streaming / unary claims per server CPU-second: {:.1}x",
            stream_cpu / unary_cpu
        );
    }
}
