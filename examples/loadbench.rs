//! Over-the-wire load benchmark: EvaluateClaim against the transport floor
//! (grpc.health.v1.Health/Check) on the same release server, same load, same
//! run. Run it through `bench/load.sh`, which builds what it needs.
//!
//! For each worker-thread count (`TOKIO_WORKER_THREADS`, honoured by tokio's
//! multi-thread runtime) it starts `target/release/refund-eligibility` on
//! 127.0.0.1 and measures:
//! - process start (spawn) to the first Health/Check answering SERVING;
//! - idle RSS (VmRSS once serving) and peak RSS (VmHWM after the load);
//! - closed-loop throughput with fixed concurrency, Health and EvaluateClaim
//!   alternating round after round (h2load, real gRPC frames: a 5-byte
//!   length prefix and the protobuf message), the median per RPC and the
//!   ratio EvaluateClaim / Health;
//! - server CPU time per request (utime + stime of the server process over
//!   the phase), hence requests per core-second, which does not depend on
//!   how much of the machine the load generator takes;
//! - p50 / p99 / max latency at a fixed rate (h2load --rps, per request
//!   times from its --log-file): by default half of each RPC's saturation
//!   throughput just measured (`--rate half`), or `--rate N` req/s;
//! - the gRPC status of every call, from the server's /metrics (h2load only
//!   sees HTTP status 200), so a shed or failed call cannot pass for a success.
//!
//! Every run is bounded (h2load -D), traffic goes to 127.0.0.1 only, and the
//! server is stopped by its PID at the end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use prost::Message;
use refund_eligibility::{json, pb};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

const EVALUATE_PATH: &str = "/refund.eligibility.v1.EligibilityService/EvaluateClaim";
const HEALTH_PATH: &str = "/grpc.health.v1.Health/Check";

#[derive(Clone, Debug)]
struct Options {
    server: PathBuf,
    request: PathBuf,
    workers: Vec<usize>,
    clients: usize,
    streams: usize,
    seconds: u64,
    rounds: usize,
    /// Requests per second of the latency phase; `None`: half of each
    /// RPC's measured saturation throughput.
    rate: Option<usize>,
    log_level: String,
    starts: usize,
    /// Write the two request frames into this directory and exit.
    frames_only: Option<PathBuf>,
}

impl Options {
    fn parse() -> Options {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut o = Options {
            server: root.join("target/release/refund-eligibility"),
            request: root.join("examples/iptv-smarters-pro.json"),
            workers: vec![1, 2],
            clients: 4,
            streams: 8,
            seconds: 3,
            rounds: 3,
            rate: None,
            log_level: "info".into(),
            starts: 5,
            frames_only: None,
        };
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
            match flag.as_str() {
                "--server" => o.server = value.into(),
                "--request" => o.request = value.into(),
                "--workers" => o.workers = value.split(',').map(|w| w.parse().expect("worker count")).collect(),
                "--clients" => o.clients = value.parse().expect("clients"),
                "--streams" => o.streams = value.parse().expect("streams"),
                "--seconds" => o.seconds = value.parse().expect("seconds"),
                "--rounds" => o.rounds = value.parse().expect("rounds"),
                "--rate" => o.rate = (value != "half").then(|| value.parse().expect("rate: half or req/s")),
                "--log-level" => o.log_level = value.clone(),
                "--starts" => o.starts = value.parse().expect("starts"),
                "--frames-only" => o.frames_only = Some(value.into()),
                other => panic!("unknown option {other}"),
            }
        }
        assert!((1..=600).contains(&o.seconds), "--seconds must be 1..=600");
        assert!((1..=20).contains(&o.rounds), "--rounds must be 1..=20");
        o
    }
}

/// A gRPC message frame: uncompressed flag, big-endian length, the message.
fn frame(message: &impl Message) -> Vec<u8> {
    let body = message.encode_to_vec();
    let mut out = Vec::with_capacity(body.len() + 5);
    out.push(0);
    out.extend_from_slice(&u32::try_from(body.len()).unwrap().to_be_bytes());
    out.extend_from_slice(&body);
    out
}

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

fn proc_status(pid: u32, key: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// utime + stime of the whole process (all threads), in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = text.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let num = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    num(11) + num(12)
}

fn clock_ticks_per_second() -> f64 {
    let out = Command::new("getconf").arg("CLK_TCK").output();
    out.ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

struct Server {
    child: Child,
    addr: SocketAddr,
    metrics: SocketAddr,
    start_to_serving: Duration,
}

impl Server {
    async fn start(o: &Options, workers: usize) -> Server {
        let addr = free_addr();
        let metrics = free_addr();
        let started = Instant::now();
        let child = Command::new(&o.server)
            .args(["--listen", &addr.to_string()])
            .args(["--metrics-listen", &metrics.to_string()])
            .args(["--log-level", &o.log_level])
            .args(["--shutdown-grace", "2s"])
            .env("TOKIO_WORKER_THREADS", workers.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", o.server.display()));
        let deadline = started + Duration::from_secs(10);
        loop {
            if serving(addr).await {
                break;
            }
            assert!(Instant::now() < deadline, "server not SERVING after 10 s");
            tokio::time::sleep(Duration::from_micros(500)).await;
        }
        Server {
            start_to_serving: started.elapsed(),
            child,
            addr,
            metrics,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM (graceful drain), then SIGKILL if it has not exited within 5 s.
    fn stop(mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// grpc_server_handled counters by (method, code).
    fn handled(&self) -> BTreeMap<(String, String), u64> {
        let mut out = BTreeMap::new();
        let Ok(mut s) = TcpStream::connect(self.metrics) else {
            return out;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = s.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
        let mut text = String::new();
        let _ = s.read_to_string(&mut text);
        for line in text.lines().filter(|l| l.starts_with("grpc_server_handled")) {
            let label = |name: &str| {
                line.split(&format!("{name}=\""))
                    .nth(1)
                    .and_then(|r| r.split('"').next())
                    .unwrap_or("")
                    .to_owned()
            };
            let value = line
                .rsplit(' ')
                .next()
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0);
            *out.entry((label("grpc_method"), label("grpc_code"))).or_default() += value as u64;
        }
        out
    }
}

async fn serving(addr: SocketAddr) -> bool {
    let Ok(endpoint) = tonic::transport::Endpoint::from_shared(format!("http://{addr}")) else {
        return false;
    };
    let Ok(channel) = endpoint.connect().await else {
        return false;
    };
    let mut client = HealthClient::new(channel);
    let request = HealthCheckRequest { service: String::new() };
    matches!(
        client.check(request).await,
        Ok(r) if r.get_ref().status == ServingStatus::Serving as i32
    )
}

struct Run {
    requests_per_second: f64,
    succeeded: u64,
    failed: u64,
    cpu_seconds: f64,
    latencies_us: Vec<u64>,
}

/// One bounded h2load run against one RPC.
fn h2load(o: &Options, server: &Server, path: &str, body: &Path, rate: Option<usize>, log: Option<&Path>) -> Run {
    let mut cmd = Command::new("h2load");
    cmd.args(["-t", "1"])
        .args(["-c", &o.clients.to_string()])
        .args(["-m", &o.streams.to_string()])
        .args(["-D", &o.seconds.to_string()])
        .args(["--warm-up-time", "1"])
        .arg("-d")
        .arg(body)
        .args(["-H", "content-type: application/grpc"])
        .args(["-H", "te: trailers"]);
    if let Some(rate) = rate {
        cmd.args(["--rps", &(rate / o.clients).max(1).to_string()]);
    }
    if let Some(log) = log {
        cmd.arg(format!("--log-file={}", log.display()));
    }
    cmd.arg(format!("http://{}{path}", server.addr));
    let ticks = clock_ticks_per_second();
    let cpu_before = cpu_ticks(server.pid());
    let out = cmd.output().expect("h2load runs (apt-get install nghttp2-client)");
    let cpu_after = cpu_ticks(server.pid());
    let text = String::from_utf8_lossy(&out.stdout);
    let number_after = |prefix: &str, unit: &str| -> f64 {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .and_then(|l| l.split(',').find(|part| part.trim_end().ends_with(unit)))
            .and_then(|part| part.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    let count = |word: &str| -> u64 {
        text.lines()
            .find(|l| l.starts_with("requests:"))
            .and_then(|l| l.split(',').find(|p| p.trim().ends_with(word)))
            .and_then(|p| p.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let latencies_us = log
        .map(|log| {
            std::fs::read_to_string(log)
                .unwrap_or_default()
                .lines()
                .filter_map(|l| l.split('\t').nth(2).and_then(|v| v.trim().parse().ok()))
                .collect()
        })
        .unwrap_or_default();
    Run {
        requests_per_second: number_after("finished in", "req/s"),
        succeeded: count("succeeded"),
        failed: count("failed") + count("errored") + count("timeout"),
        cpu_seconds: cpu_after.saturating_sub(cpu_before) as f64 / ticks,
        latencies_us,
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)] as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

struct Summary {
    workers: usize,
    health_rps: f64,
    evaluate_rps: f64,
    health_per_core: f64,
    evaluate_per_core: f64,
    /// p50, p99, max (µs), requests, and the rate they were sent at.
    latency: [(f64, f64, f64, usize, usize); 2],
    idle_rss_kib: u64,
    peak_rss_kib: u64,
    start_to_serving: Duration,
    non_ok: u64,
    h2load_failed: u64,
}

async fn bench(o: &Options, workers: usize, evaluate_body: &Path, health_body: &Path, dir: &Path) -> Summary {
    let server = Server::start(o, workers).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle_rss_kib = proc_status(server.pid(), "VmRSS:");
    let before = server.handled();
    let mut h2load_failed = 0;
    let mut health = Vec::new();
    let mut evaluate = Vec::new();
    let mut health_cpu = Vec::new();
    let mut evaluate_cpu = Vec::new();
    for round in 0..o.rounds {
        for (path, body, rps, cpu, name) in [
            (HEALTH_PATH, health_body, &mut health, &mut health_cpu, "Health/Check"),
            (
                EVALUATE_PATH,
                evaluate_body,
                &mut evaluate,
                &mut evaluate_cpu,
                "EvaluateClaim",
            ),
        ] {
            let run = h2load(o, &server, path, body, None, None);
            eprintln!(
                "  workers={workers} round {} {name:14} {:>9.0} req/s  {:>8} ok  {} failed  server CPU {:.2} s",
                round + 1,
                run.requests_per_second,
                run.succeeded,
                run.failed,
                run.cpu_seconds
            );
            h2load_failed += run.failed;
            let total = run.requests_per_second * o.seconds as f64;
            rps.push(run.requests_per_second);
            if run.cpu_seconds > 0.0 {
                cpu.push(total / run.cpu_seconds);
            }
        }
    }
    let mut latency = [(0.0, 0.0, 0.0, 0, 0); 2];
    let saturation = [median(health.clone()), median(evaluate.clone())];
    for (i, (path, body)) in [(HEALTH_PATH, health_body), (EVALUATE_PATH, evaluate_body)]
        .into_iter()
        .enumerate()
    {
        let log = dir.join(format!("latency-{workers}-{i}.tsv"));
        let rate = o.rate.unwrap_or((saturation[i] / 2.0).round() as usize).max(1);
        let run = h2load(o, &server, path, body, Some(rate), Some(&log));
        h2load_failed += run.failed;
        let mut l = run.latencies_us;
        l.sort_unstable();
        latency[i] = (
            percentile(&l, 50.0),
            percentile(&l, 99.0),
            l.last().copied().unwrap_or(0) as f64,
            l.len(),
            rate,
        );
    }
    let peak_rss_kib = proc_status(server.pid(), "VmHWM:");
    let after = server.handled();
    let mut non_ok = 0;
    for ((method, code), v) in after.iter().filter(|((_, code), _)| code != "OK") {
        let n = v.saturating_sub(before.get(&(method.clone(), code.clone())).copied().unwrap_or(0));
        if n > 0 {
            // Calls still in flight when h2load stops at the end of a phase are cut off
            // (the server counts them UNKNOWN or CANCELLED).
            eprintln!("  workers={workers}: {n} {method} calls ended {code}");
            non_ok += n;
        }
    }
    let start_to_serving = server.start_to_serving;
    server.stop();
    Summary {
        workers,
        health_rps: median(health),
        evaluate_rps: median(evaluate),
        health_per_core: median(health_cpu),
        evaluate_per_core: median(evaluate_cpu),
        latency,
        idle_rss_kib,
        peak_rss_kib,
        start_to_serving,
        non_ok,
        h2load_failed,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let o = Options::parse();
    let dir = o
        .frames_only
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("refund-loadbench-{}", std::process::id())));
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(&o.request).unwrap_or_else(|e| panic!("{}: {e}", o.request.display()));
    let request: pb::EvaluateClaimRequest = json::from_json(&text).expect("request parses");
    let evaluate_body = dir.join("evaluate_claim.grpc");
    let health_body = dir.join("health_check.grpc");
    std::fs::write(&evaluate_body, frame(&request)).unwrap();
    std::fs::write(&health_body, frame(&HealthCheckRequest { service: String::new() })).unwrap();
    if o.frames_only.is_some() {
        println!("{}\n{}", evaluate_body.display(), health_body.display());
        return;
    }

    // Start-up time: a few cold starts of the 1-worker and default servers.
    let mut starts = Vec::new();
    for i in 0..o.starts {
        let workers = if i % 2 == 0 { 1 } else { 2 };
        let s = Server::start(&o, workers).await;
        starts.push(s.start_to_serving);
        s.stop();
    }
    starts.sort();

    let mut summaries = Vec::new();
    for &w in &o.workers {
        eprintln!(
            "workers={w}: {} rounds of {} s per RPC, {} clients x {} streams",
            o.rounds, o.seconds, o.clients, o.streams
        );
        summaries.push(bench(&o, w, &evaluate_body, &health_body, &dir).await);
    }
    let _ = std::fs::remove_dir_all(&dir);

    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nload: {} clients x {} streams in flight, {} rounds of {} s per RPC alternating, log level {}, request {}",
        o.clients,
        o.streams,
        o.rounds,
        o.seconds,
        o.log_level,
        o.request.file_name().and_then(|n| n.to_str()).unwrap_or("?")
    );
    let _ = writeln!(out, "\n| worker threads | Health/Check req/s | EvaluateClaim req/s | ratio E/H | Health req per server CPU-s | EvaluateClaim req per server CPU-s | ratio (CPU) |");
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|");
    for s in &summaries {
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.0} | {:.2} | {:.0} | {:.0} | {:.2} |",
            s.workers,
            s.health_rps,
            s.evaluate_rps,
            s.evaluate_rps / s.health_rps.max(1.0),
            s.health_per_core,
            s.evaluate_per_core,
            s.evaluate_per_core / s.health_per_core.max(1.0)
        );
    }
    let _ = writeln!(
        out,
        "\nlatency at {} ({} clients):\n\n| worker threads | RPC | rate req/s | p50 µs | p99 µs | p99 / p50 | max µs | requests |\n|---:|---|---:|---:|---:|---:|---:|---:|",
        o.rate.map_or("half of each RPC's saturation throughput".to_owned(), |r| format!("a fixed {r} req/s")),
        o.clients
    );
    for s in &summaries {
        for (name, (p50, p99, max, n, rate)) in ["Health/Check", "EvaluateClaim"].iter().zip(s.latency) {
            let _ = writeln!(
                out,
                "| {} | {name} | {rate} | {p50:.0} | {p99:.0} | {:.2} | {max:.0} | {n} |",
                s.workers,
                p99 / p50.max(1.0)
            );
        }
    }
    let _ = writeln!(out, "\n| worker threads | idle RSS MiB | peak RSS MiB (VmHWM) | start to SERVING ms | non-OK gRPC statuses | h2load failures |\n|---:|---:|---:|---:|---:|---:|");
    for s in &summaries {
        let _ = writeln!(
            out,
            "| {} | {:.1} | {:.1} | {:.1} | {} | {} |",
            s.workers,
            s.idle_rss_kib as f64 / 1024.0,
            s.peak_rss_kib as f64 / 1024.0,
            s.start_to_serving.as_secs_f64() * 1000.0,
            s.non_ok,
            s.h2load_failed
        );
    }
    let ms: Vec<String> = starts
        .iter()
        .map(|d| format!("{:.1}", d.as_secs_f64() * 1000.0))
        .collect();
    let _ = writeln!(
        out,
        "\nstart to SERVING over {} cold starts (ms, sorted): {}",
        starts.len(),
        ms.join(", ")
    );
    if let Some(one) = summaries.iter().find(|s| s.workers == 1) {
        let per_core = one.evaluate_per_core;
        let _ = writeln!(
            out,
            "\nfleet: one core serves about {per_core:.0} EvaluateClaim/s (server CPU); 50 000 claims/s need {:.1} cores at 100 % \
             and {:.1} at a 60 % target, i.e. one-core pods: {}, or two-core pods: {}, at 60 %",
            50_000.0 / per_core,
            50_000.0 / (per_core * 0.6),
            (50_000.0 / (per_core * 0.6)).ceil(),
            (50_000.0 / (per_core * 0.6 * 2.0)).ceil()
        );
    }
    println!("{out}");
}
