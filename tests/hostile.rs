//! Hostile and broken clients (issue 15): raw HTTP/2 frames over a socket to
//! a server on 127.0.0.1, while a well-behaved client keeps calling
//! EvaluateClaim on its own connection and must get every answer right.
//!
//! Every attack is bounded in frames, connections and time. Latency bounds
//! are coarse (5× the baseline p99, never below 100 ms: a shared, noisy
//! machine); the figures printed with `--nocapture` are what
//! docs/reliability.md reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod calls;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use refund_eligibility::pb::eligibility_service_client::EligibilityServiceClient;
use refund_eligibility::server::{self, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

use calls::{check_answer, good};

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const CONTINUATION: u8 = 0x9;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const ENHANCE_YOUR_CALM: u32 = 0xb;
/// Attacks that one connection cannot sustain go on over new connections at
/// least this long, so the good client's latency is measured under them.
const ATTACK_AT_LEAST: Duration = Duration::from_secs(2);

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len();
    let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An HPACK block for a POST to EvaluateClaim (static-table names, literal
/// values, nothing indexed: the same bytes are valid on every stream).
fn request_headers() -> Vec<u8> {
    let mut b = vec![0x83, 0x86]; // :method POST, :scheme http
    let mut literal = |index: u8, value: &[u8]| {
        b.push(index); // literal without indexing, indexed name (4-bit prefix)
        b.push(value.len() as u8);
        b.extend_from_slice(value);
    };
    literal(0x04, calls::EVALUATE_PATH.as_bytes()); // :path
    literal(0x01, b"localhost"); // :authority
    b.extend_from_slice(&[0x0f, 0x10]); // content-type (index 31)
    b.push(16);
    b.extend_from_slice(b"application/grpc");
    b.extend_from_slice(&[0x00, 2]);
    b.extend_from_slice(b"te");
    b.push(8);
    b.extend_from_slice(b"trailers");
    b
}

/// What the server sent an attacking connection.
#[derive(Debug, Default)]
struct Seen {
    frames: usize,
    goaway: Option<u32>,
    closed: bool,
    /// Kind and stream of every frame on a stream other than 0.
    on_streams: Vec<(u8, u32)>,
}

/// Reads and parses the server's frames until EOF, an error or `limit`.
async fn read_frames(mut read: tokio::net::tcp::OwnedReadHalf, limit: Duration) -> Seen {
    let mut seen = Seen::default();
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let end = Instant::now() + limit;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, read.read(&mut chunk)).await {
            Err(_) => return seen,
            Ok(Ok(0)) | Ok(Err(_)) => {
                seen.closed = true;
                return seen;
            }
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
        while buf.len() >= 9 {
            let len = (buf[0] as usize) << 16 | (buf[1] as usize) << 8 | buf[2] as usize;
            if buf.len() < 9 + len {
                break;
            }
            seen.frames += 1;
            let stream = u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]) & 0x7fff_ffff;
            if stream != 0 && seen.on_streams.len() < 1024 {
                seen.on_streams.push((buf[3], stream));
            }
            if buf[3] == GOAWAY && len >= 8 {
                seen.goaway = Some(u32::from_be_bytes([buf[13], buf[14], buf[15], buf[16]]));
            }
            buf.drain(..9 + len);
        }
    }
}

/// Writes `frames` batches from `next` until done, the connection fails or
/// `limit` passes; returns the batches written.
async fn flood(
    write: &mut tokio::net::tcp::OwnedWriteHalf,
    batches: usize,
    limit: Duration,
    mut next: impl FnMut(usize) -> Vec<u8>,
) -> usize {
    let end = Instant::now() + limit;
    for i in 0..batches {
        let bytes = next(i);
        let left = end.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, write.write_all(&bytes)).await {
            Ok(Ok(())) => {}
            _ => return i,
        }
    }
    batches
}

async fn attacker(addr: std::net::SocketAddr) -> (tokio::net::tcp::OwnedReadHalf, tokio::net::tcp::OwnedWriteHalf) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (read, mut write) = stream.into_split();
    write.write_all(PREFACE).await.unwrap();
    write.write_all(&frame(SETTINGS, 0, 0, &[])).await.unwrap();
    (read, write)
}

/// CPU seconds (user + system) and RSS in KiB of this process, the server
/// included: it runs in process.
fn usage() -> (f64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // After the command name: state is field 0, utime 11, stime 12.
    let cpu = (ticks(11) + ticks(12)) / 100.0;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (cpu, rss)
}

struct Server {
    addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<Result<(), server::ServeError>>,
}

async fn start(config: ServerConfig) -> Server {
    // The binary's listener, with its backlog: the connection flood relies on it.
    let listener = server::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(server::run(
        listener,
        async move {
            let _ = stopped.await;
        },
        ServerConfig {
            shutdown_grace: Duration::from_secs(1),
            ..config
        },
    ));
    Server { addr, stop, handle }
}

impl Server {
    async fn channel(&self) -> Channel {
        Endpoint::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await
            .unwrap()
    }

    async fn stop(self) {
        drop(self.stop);
        tokio::time::timeout(Duration::from_secs(20), self.handle)
            .await
            .expect("server stops")
            .unwrap()
            .unwrap();
    }
}

/// A well-behaved client calling EvaluateClaim in a loop on its own
/// connection until stopped; every answer must be right.
struct GoodClient {
    stop: Arc<AtomicBool>,
    handle: tokio::task::JoinHandle<Vec<Duration>>,
}

impl GoodClient {
    fn start(channel: Channel) -> GoodClient {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = tokio::spawn(async move {
            let mut client = EligibilityServiceClient::new(channel);
            let mut latencies = Vec::new();
            let mut id = 0;
            while !flag.load(Ordering::Relaxed) {
                let started = Instant::now();
                let answer = client
                    .evaluate_claim(good(id))
                    .await
                    .unwrap_or_else(|status| panic!("a good call failed during the attack: {status:?}"));
                latencies.push(started.elapsed());
                check_answer(answer.get_ref(), id);
                id += 1;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            latencies
        });
        GoodClient { stop, handle }
    }

    async fn finish(self) -> Vec<Duration> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.await.unwrap()
    }
}

fn p99(latencies: &mut [Duration]) -> Duration {
    assert!(!latencies.is_empty(), "the good client made calls");
    latencies.sort();
    latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)]
}

/// Runs `attack` while a good client calls; checks the good client's p99 and
/// health, prints the figures.
///
/// The attacker runs on a runtime and thread of its own, so that it does not
/// take the server's worker threads: on a real attack the two are different
/// machines. The server and the good client share the test's runtime.
async fn under_attack<F, Fut>(name: &str, server: &Server, attack: F) -> Seen
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Seen>,
{
    let good_channel = server.channel().await;
    let baseline = GoodClient::start(good_channel.clone());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut before = baseline.finish().await;
    let (cpu0, rss0) = usage();
    let during = GoodClient::start(good_channel.clone());
    let started = Instant::now();
    let seen = tokio::task::spawn_blocking(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(attack())
    })
    .await
    .unwrap();
    let elapsed = started.elapsed();
    let (cpu1, rss1) = usage();
    let mut after = during.finish().await;
    let mut health = HealthClient::new(server.channel().await);
    let status = health
        .check(HealthCheckRequest {
            service: server::SERVICE_NAME.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .status;
    assert_eq!(status, 1, "health SERVING after {name}");
    let (base, under) = (p99(&mut before), p99(&mut after));
    eprintln!(
        "{name}: {:.2} s, cpu {:.2} s ({:.0} % of one core), rss {} -> {} KiB; good client p99 {:.2} ms before ({} calls), {:.2} ms during ({} calls); server sent {} frames, goaway {:?}, closed {}",
        elapsed.as_secs_f64(),
        cpu1 - cpu0,
        100.0 * (cpu1 - cpu0) / elapsed.as_secs_f64(),
        rss0,
        rss1,
        base.as_secs_f64() * 1e3,
        before.len(),
        under.as_secs_f64() * 1e3,
        after.len(),
        seen.frames,
        seen.goaway,
        seen.closed,
    );
    assert!(
        under <= (base * 5).max(Duration::from_millis(100)),
        "{name}: good client p99 {under:?} during, {base:?} before"
    );
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rapid_reset_gets_goaway() {
    let server = start(ServerConfig::default()).await;
    let addr = server.addr;
    let seen = under_attack("rapid reset, 100000+ streams, 2+ s", &server, move || async move {
        // One connection opens and resets streams until the server closes it;
        // then the attacker reconnects, until 100 000 streams were sent.
        let headers = request_headers();
        let cancel = 0x8u32.to_be_bytes();
        let (mut total, mut connections, mut last) = (0, 0, Seen::default());
        let started = Instant::now();
        while total < 100_000 || started.elapsed() < ATTACK_AT_LEAST {
            let (read, mut write) = attacker(addr).await;
            let reader = tokio::spawn(read_frames(read, Duration::from_secs(30)));
            // 100 streams per write: HEADERS then RST_STREAM(CANCEL) for each.
            let sent = flood(&mut write, 1000, Duration::from_secs(30), |batch| {
                let mut bytes = Vec::new();
                for i in 0..100u32 {
                    let stream = 1 + 2 * (batch as u32 * 100 + i);
                    bytes.extend(frame(HEADERS, END_HEADERS, stream, &headers));
                    bytes.extend(frame(RST_STREAM, 0, stream, &cancel));
                }
                bytes
            })
            .await;
            drop(write);
            last = reader.await.unwrap();
            assert_eq!(
                last.goaway,
                Some(ENHANCE_YOUR_CALM),
                "connection {connections}: {last:?}"
            );
            assert!(last.closed, "{last:?}");
            total += sent.max(1) * 100;
            connections += 1;
        }
        eprintln!(
            "rapid reset: {total} streams over {connections} connections, each closed with GOAWAY ENHANCE_YOUR_CALM"
        );
        last
    })
    .await;
    assert_eq!(seen.goaway, Some(ENHANCE_YOUR_CALM), "{seen:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continuation_flood_closes_the_connection() {
    let server = start(ServerConfig::default()).await;
    let addr = server.addr;
    let seen = under_attack("continuation flood, 1 GiB offered", &server, move || async move {
        let (read, mut write) = attacker(addr).await;
        let reader = tokio::spawn(read_frames(read, Duration::from_secs(30)));
        // HEADERS without END_HEADERS, then CONTINUATION frames of 16 KiB
        // (the default max frame size) of one ever-growing literal value.
        let mut first = request_headers();
        first.extend_from_slice(&[0x00, 0x01, b'x', 0x7f, 0xff, 0xff, 0xff, 0x0f]);
        write.write_all(&frame(HEADERS, 0, 1, &first)).await.unwrap();
        let filler = vec![b'a'; 16 * 1024];
        let sent = flood(&mut write, 64 * 1024, Duration::from_secs(30), |_| {
            frame(CONTINUATION, 0, 1, &filler)
        })
        .await;
        drop(write);
        let seen = reader.await.unwrap();
        eprintln!(
            "continuation flood: {} KiB written before the server stopped reading",
            sent * 16
        );
        seen
    })
    .await;
    // The connection's frame watch closes it once the header block passes
    // connection::MAX_HEADER_BLOCK_BYTES, before h2's own GOAWAY
    // ENHANCE_YOUR_CALM would; either way it is closed and nothing is buffered.
    assert!(seen.closed, "{seen:?}");
    assert!(seen.on_streams.is_empty(), "{seen:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_list_over_the_limit_closes_the_connection() {
    let server = start(ServerConfig::default()).await;
    let addr = server.addr;
    let seen = under_attack("header list of 20 KiB", &server, move || async move {
        let (read, mut write) = attacker(addr).await;
        let reader = tokio::spawn(read_frames(read, Duration::from_secs(2)));
        let mut block = request_headers();
        let value = vec![b'v'; 20 * 1024];
        block.extend_from_slice(&[0x00, 0x01, b'x', 0x7f]);
        // HPACK integer: 20480 - 127 in 7-bit groups.
        let mut rest = value.len() - 127;
        while rest >= 128 {
            block.push((rest % 128) as u8 | 0x80);
            rest /= 128;
        }
        block.push(rest as u8);
        block.extend_from_slice(&value);
        let (head, tail) = block.split_at(12 * 1024);
        write.write_all(&frame(HEADERS, END_STREAM, 1, head)).await.unwrap();
        let _ = write.write_all(&frame(CONTINUATION, END_HEADERS, 1, tail)).await;
        let seen = reader.await.unwrap();
        drop(write);
        seen
    })
    .await;
    // The block is over the header-list limit as sent: the connection is
    // closed (connection::MAX_HEADER_BLOCK_BYTES), and the call never
    // reaches the service (no DATA).
    assert!(seen.closed, "{seen:?}");
    assert!(!seen.on_streams.iter().any(|&(kind, _)| kind == DATA), "{seen:?}");
    server.stop().await;
}

async fn control_flood(kind: u8, payload: &'static [u8], server: &Server, name: &str) {
    let addr = server.addr;
    let label = name.to_string();
    under_attack(name, server, move || async move {
        let (mut total, mut connections, mut last) = (0, 0, Seen::default());
        let started = Instant::now();
        while total < 100_000 || started.elapsed() < ATTACK_AT_LEAST {
            let (read, mut write) = attacker(addr).await;
            // The attacker reads every acknowledgement: h2 alone would answer for ever.
            let reader = tokio::spawn(read_frames(read, Duration::from_secs(30)));
            let sent = flood(&mut write, 1000, Duration::from_secs(30), |_| {
                let mut bytes = Vec::new();
                for _ in 0..100 {
                    bytes.extend(frame(kind, 0, 0, payload));
                }
                bytes
            })
            .await;
            drop(write);
            last = reader.await.unwrap();
            assert!(last.closed, "{last:?}");
            assert!(
                last.frames <= refund_eligibility::connection::MAX_CONTROL_FRAMES_IN_A_ROW as usize + 10,
                "acknowledgements are bounded: {last:?}"
            );
            total += sent.max(1) * 100;
            connections += 1;
        }
        eprintln!(
            "{label}: {total} frames over {connections} connections, each closed; the last answered {} frames",
            last.frames
        );
        last
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_and_ping_floods_close_the_connection() {
    let server = start(ServerConfig::default()).await;
    control_flood(PING, &[7; 8], &server, "ping flood, 100000+ frames, 2+ s").await;
    // SETTINGS_MAX_CONCURRENT_STREAMS = 100, again and again.
    control_flood(
        SETTINGS,
        &[0, 3, 0, 0, 0, 100],
        &server,
        "settings flood, 100000+ frames, 2+ s",
    )
    .await;
    server.stop().await;
}

/// Beyond `max_connections`, connections are closed at once; established
/// ones keep working; held idle ones (and slow prefaces) are cut after the
/// idle timeout; health stays SERVING.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_flood_is_capped_and_idle_connections_are_cut() {
    // Both ends of every connection are in this process: 2 fds each. With a
    // soft limit below 10 500 (`ulimit -n`) the flood is scaled down, and says so.
    let soft = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).and_then(|v| v.parse::<usize>().ok()))
        })
        .unwrap_or(1024);
    let held_wanted = 5000;
    let scaled = held_wanted.min(soft.saturating_sub(500) / 2);
    if scaled < held_wanted {
        eprintln!("connection flood: ulimit -n is {soft}: {scaled} connections instead of {held_wanted}");
    }
    let cap = (scaled / 5).max(20);
    let (held_n, cap_n) = (scaled, cap);
    // Long enough for the flood to be opened before the first are cut.
    let idle = Duration::from_secs(15);
    let server = start(ServerConfig {
        max_connections: Some(cap),
        idle_timeout: Some(idle),
        ..ServerConfig::default()
    })
    .await;
    let addr = server.addr;
    // Established first: a good connection and a health probe.
    let established = server.channel().await;
    let mut health = HealthClient::new(server.channel().await);
    let seen = under_attack("idle connections over the cap (5000, cap 1000 unless scaled)", &server, move || async move {
        let cap = cap_n;
        let started = Instant::now();
        let mut held = Vec::with_capacity(held_n);
        for i in 0..held_n {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            if i % 2 == 0 {
                // The slow-preface variant: two bytes, then nothing more.
                let _ = stream.write_all(&PREFACE[..2]).await;
            }
            held.push(stream);
        }
        let opened = started.elapsed();
        assert!(
            opened < idle,
            "opening took {opened:?}, longer than the idle timeout: the cap cannot be told from the timeout"
        );
        // Those beyond the cap are closed by the server: a read sees EOF at once.
        let mut refused = 0;
        let mut refused_in = Duration::ZERO;
        for stream in held.iter_mut().skip(cap + 100) {
            let t = Instant::now();
            let mut byte = [0u8; 1];
            if let Ok(Ok(0) | Err(_)) = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut byte)).await {
                refused += 1;
                refused_in = refused_in.max(t.elapsed());
            }
        }
        eprintln!("connection flood: {held_n} opened in {opened:?}; {refused} of {} beyond the cap (+100) seen closed, slowest {refused_in:?}", held_n - cap - 100);
        assert_eq!(refused, held_n - cap - 100);
        // The held ones inside the cap are cut after the idle timeout.
        let t = Instant::now();
        let mut cut = 0;
        for stream in held.iter_mut().take(cap - 10) {
            // The server's SETTINGS may come first: read until the end.
            let mut byte = [0u8; 64];
            loop {
                let left = (idle * 3).saturating_sub(t.elapsed());
                match tokio::time::timeout(left, stream.read(&mut byte)).await {
                    Ok(Ok(0) | Err(_)) => {
                        cut += 1;
                        break;
                    }
                    Ok(Ok(_)) => {}
                    Err(_) => break,
                }
            }
        }
        eprintln!("connection flood: {cut} of {} held connections cut within {:?}", cap - 10, t.elapsed());
        assert_eq!(cut, cap - 10);
        Seen {
            closed: true,
            ..Seen::default()
        }
    })
    .await;
    assert!(seen.closed);
    // The connections established before the flood still work.
    let answer = EligibilityServiceClient::new(established)
        .evaluate_claim(good(7))
        .await
        .unwrap();
    check_answer(answer.get_ref(), 7);
    let status = health
        .check(HealthCheckRequest {
            service: server::SERVICE_NAME.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .status;
    assert_eq!(status, 1);
    server.stop().await;
}

/// A client that never reads: its 64 calls' answers wait in the server's
/// send buffers, bounded by the flow-control windows, and others are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_holds_only_its_windows() {
    let server = start(ServerConfig::default()).await;
    let addr = server.addr;
    under_attack("64 streams never read", &server, move || async move {
        let (read, mut write) = attacker(addr).await;
        // Its window: 0 bytes for every stream (SETTINGS_INITIAL_WINDOW_SIZE).
        write
            .write_all(&frame(SETTINGS, 0, 0, &[0, 4, 0, 0, 0, 0]))
            .await
            .unwrap();
        let headers = request_headers();
        let mut message = Vec::new();
        let body = prost::Message::encode_to_vec(&good(0));
        message.push(0);
        message.extend_from_slice(&(body.len() as u32).to_be_bytes());
        message.extend_from_slice(&body);
        for i in 0..64u32 {
            let stream = 1 + 2 * i;
            write
                .write_all(&frame(HEADERS, END_HEADERS, stream, &headers))
                .await
                .unwrap();
            write
                .write_all(&frame(DATA, END_STREAM, stream, &message))
                .await
                .unwrap();
        }
        // Never read; hold the connection while the good client calls.
        tokio::time::sleep(Duration::from_secs(3)).await;
        drop((read, write));
        Seen::default()
    })
    .await;
    server.stop().await;
}
