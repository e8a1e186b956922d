//! Distributed tracing, on the built binary against a real OTLP/gRPC receiver
//! started here (the collector's `TraceService` from `opentelemetry-proto`):
//! a call carrying a W3C `traceparent` is exported as one server span of the
//! caller's trace, child of the caller's span, with the RPC semantic
//! conventions and the policy and decision; its log line names the trace. A
//! collector that is down neither fails nor (coarsely) slows calls: the
//! precise figures are a load run in docs/reliability.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod hermetic;

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::Span;
use refund_eligibility::pb;
use refund_eligibility::pb::eligibility_service_client::EligibilityServiceClient;
use refund_eligibility::server::SERVICE_NAME;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN_ID: &str = "00f067aa0ba902b7";

/// An OTLP receiver that keeps what it is sent.
#[derive(Clone, Default)]
struct Receiver(Arc<Mutex<Vec<ExportTraceServiceRequest>>>);

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.lock().unwrap().push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

impl Receiver {
    fn spans(&self) -> Vec<(Vec<KeyValue>, Span)> {
        let mut found = Vec::new();
        for request in self.0.lock().unwrap().iter() {
            for resource in &request.resource_spans {
                let attributes = resource
                    .resource
                    .as_ref()
                    .map(|r| r.attributes.clone())
                    .unwrap_or_default();
                for scope in &resource.scope_spans {
                    for span in &scope.spans {
                        found.push((attributes.clone(), span.clone()));
                    }
                }
            }
        }
        found
    }
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn string(attributes: &[KeyValue], key: &str) -> String {
    match attribute(attributes, key) {
        Some(AnyValue::StringValue(s)) => s.clone(),
        other => panic!("{key}: {other:?} in {attributes:?}"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn example() -> pb::EvaluateClaimRequest {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/iptv-smarters-pro.json")).unwrap();
    refund_eligibility::json::from_json(&text).unwrap()
}

fn traced<T>(message: T, traceparent: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("traceparent", traceparent.parse().unwrap());
    request
        .metadata_mut()
        .insert("tracestate", "caller=opaque".parse().unwrap());
    request
}

/// The binary serving on 127.0.0.1:0 with `args`, its address read from its
/// first log line; a thread keeps reading its log so that it never blocks on
/// a full pipe. The batch delay is short so that exports happen while calls
/// run (the default is 5 s).
fn spawn_server(args: &[&str]) -> (Child, std::thread::JoinHandle<String>, SocketAddr) {
    let mut child = hermetic::binary()
        .args(["--listen", "127.0.0.1:0", "--metrics-listen", "off"])
        .args(args)
        .env("OTEL_BSP_SCHEDULE_DELAY", "20")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("serving gRPC"), "{first}");
    let addr = first
        .split_whitespace()
        .find_map(|w| w.strip_prefix("address="))
        .unwrap_or_else(|| panic!("no address in {first}"))
        .parse()
        .unwrap();
    let log = std::thread::spawn(move || {
        let mut rest = String::new();
        stdout.read_to_string(&mut rest).unwrap();
        rest
    });
    (child, log, addr)
}

/// SIGTERM, then the rest of the log; the process must exit cleanly in time.
fn stop(mut child: Child, log: std::thread::JoinHandle<String>) -> (String, Duration) {
    let asked = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        if asked.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("did not exit after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = asked.elapsed();
    assert!(exit.success(), "{exit:?}");
    (log.join().unwrap(), took)
}

async fn start_receiver(receiver: Receiver) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(receiver))
            .serve_with_incoming_shutdown(tokio_stream::wrappers::TcpListenerStream::new(listener), async {
                let _ = stopped.await;
            }),
    );
    (addr, stop)
}

#[test]
fn a_traced_call_is_one_exported_server_span_of_the_callers_trace() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let receiver = Receiver::default();
    let (collector, stop_collector) = runtime.block_on(start_receiver(receiver.clone()));
    let endpoint = format!("http://{collector}");
    let (child, log, addr) = spawn_server(&["--otlp-endpoint", &endpoint]);

    let traceparent = format!("00-{TRACE_ID}-{PARENT_SPAN_ID}-01");
    runtime.block_on(async {
        let mut client = EligibilityServiceClient::connect(format!("http://{addr}"))
            .await
            .unwrap();
        let answer = client
            .evaluate_claim(traced(example(), &traceparent))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(answer.decision(), pb::Decision::Approved);
        // A call without trace context starts a trace of its own.
        client.evaluate_claim(example()).await.unwrap();
        // A bad one is traced too, with its status code.
        let mut invalid = example();
        invalid.claim = None;
        let status = client
            .evaluate_claim(traced(
                invalid,
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
    });

    // Stopping the server shuts its tracer provider down, which flushes.
    let (log, _) = stop(child, log);
    let spans = receiver.spans();
    runtime.block_on(async {
        let _ = stop_collector.send(());
    });

    let ours: Vec<&(Vec<KeyValue>, Span)> = spans.iter().filter(|(_, s)| hex(&s.trace_id) == TRACE_ID).collect();
    assert_eq!(ours.len(), 1, "one span for the traced call: {spans:#?}");
    let (resource, span) = ours[0];
    assert_eq!(string(resource, "service.name"), "refund-eligibility");
    assert_eq!(hex(&span.parent_span_id), PARENT_SPAN_ID, "child of the caller's span");
    assert_ne!(hex(&span.span_id), PARENT_SPAN_ID);
    assert_eq!(span.kind, SpanKind::Server as i32);
    assert_eq!(span.name, format!("{SERVICE_NAME}/EvaluateClaim"));
    assert_eq!(span.trace_state, "caller=opaque");
    assert!(span.end_time_unix_nano > span.start_time_unix_nano);
    let attributes = &span.attributes;
    assert_eq!(string(attributes, "rpc.system"), "grpc");
    assert_eq!(string(attributes, "rpc.service"), SERVICE_NAME);
    assert_eq!(string(attributes, "rpc.method"), "EvaluateClaim");
    assert_eq!(
        attribute(attributes, "rpc.grpc.status_code"),
        Some(&AnyValue::IntValue(0))
    );
    assert_eq!(string(attributes, "refund.policy"), "iptv-smarters-pro");
    assert_eq!(string(attributes, "refund.decision"), "APPROVED");

    let invalid: Vec<&Span> = spans
        .iter()
        .map(|(_, s)| s)
        .filter(|s| hex(&s.trace_id) == "0af7651916cd43dd8448eb211c80319c")
        .collect();
    assert_eq!(invalid.len(), 1, "{spans:#?}");
    assert_eq!(
        attribute(&invalid[0].attributes, "rpc.grpc.status_code"),
        Some(&AnyValue::IntValue(3))
    );
    assert_eq!(string(&invalid[0].attributes, "refund.policy"), "iptv-smarters-pro");
    assert!(attribute(&invalid[0].attributes, "refund.decision").is_none());

    let eligibility: Vec<&Span> = spans
        .iter()
        .map(|(_, s)| s)
        .filter(|s| s.name.starts_with(SERVICE_NAME))
        .collect();
    assert_eq!(eligibility.len(), 3, "one span per call: {spans:#?}");
    let root = eligibility
        .iter()
        .find(|s| s.parent_span_id.is_empty())
        .unwrap_or_else(|| panic!("the untraced call is a root span: {spans:#?}"));
    assert_eq!(root.trace_id.len(), 16);

    // The log lines name the trace of each call.
    // One line a call: the decision line of a decided EvaluateClaim, the
    // access line of any other call.
    let rpc: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" rpc ") || l.contains(" decision "))
        .collect();
    assert_eq!(rpc.len(), 3, "{log}");
    assert!(rpc[0].contains(&format!("trace_id={TRACE_ID}")), "{}", rpc[0]);
    assert!(
        rpc[1].contains(&format!("trace_id={}", hex(&root.trace_id))),
        "{}",
        rpc[1]
    );
    assert!(
        rpc[2].contains("trace_id=0af7651916cd43dd8448eb211c80319c"),
        "{}",
        rpc[2]
    );
}

/// `calls` sequential EvaluateClaim calls with a `traceparent`, all OK.
fn run_calls(addr: SocketAddr, calls: usize) -> Duration {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut client = EligibilityServiceClient::connect(format!("http://{addr}"))
            .await
            .unwrap();
        let traceparent = format!("00-{TRACE_ID}-{PARENT_SPAN_ID}-01");
        let started = Instant::now();
        for _ in 0..calls {
            let answer = client
                .evaluate_claim(traced(example(), &traceparent))
                .await
                .unwrap()
                .into_inner();
            assert_eq!(answer.decision(), pb::Decision::Approved);
        }
        started.elapsed()
    })
}

#[test]
fn a_collector_that_is_down_neither_fails_nor_slows_calls() {
    // A port nothing listens on: bound, then released.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    const CALLS: usize = 300;

    let (child, log, addr) = spawn_server(&[]);
    let untraced = run_calls(addr, CALLS);
    let (log, _) = stop(child, log);
    assert!(
        log.contains("trace_id=4bf92f3577b34da6a3ce929d0e0e4736"),
        "the caller's trace id is logged even without export"
    );

    let (child, log, addr) = spawn_server(&["--otlp-endpoint", &format!("http://{closed}")]);
    let down = run_calls(addr, CALLS);
    let (log, shutdown) = stop(child, log);
    assert_eq!(
        log.lines()
            .filter(|l| l.contains(" rpc ") || l.contains(" decision "))
            .count(),
        CALLS,
        "every call answered and logged"
    );

    eprintln!("{CALLS} calls: {untraced:?} without export, {down:?} with the collector down; shutdown {shutdown:?}");
    // Coarse on purpose (a shared machine): the export thread's failures must
    // not reach the calls. The precise comparison is a load run.
    assert!(
        down < untraced * 3 + Duration::from_secs(1),
        "{CALLS} calls took {down:?} with the collector down, {untraced:?} without export"
    );
    assert!(shutdown < Duration::from_secs(15), "shutdown took {shutdown:?}");
}
