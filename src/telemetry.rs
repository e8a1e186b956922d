//! Call telemetry at the gRPC edge: the outermost tower layer, which times
//! every call, reads its final gRPC status (after shedding and status
//! mapping), counts it in [`Metrics`] and writes one log line per call. It
//! only observes: what only a decoded message reveals (policy, decision,
//! request id) the service reports through the request's
//! [`CallFacts`](crate::observe::CallFacts). The engine and the policies know
//! nothing of it.
//!
//! What a log line carries is fixed here and nowhere else: the method, the
//! status code, the latency, the policy id (only a compiled-in one), the
//! decision and the caller's `request_id` (only if it looks like an opaque
//! id: no `@`, no spaces, at most 128 characters). Never an order id, an
//! email address, an invoice number, a description or a peer address.
//! The line also carries the call's `trace_id` (the caller's, from its W3C
//! `traceparent`, or the new trace's when spans are exported), or `-`.
//!
//! Each call is also one OpenTelemetry server span (see [`crate::otel`]),
//! child of the caller's span, with the RPC semantic conventions
//! (`rpc.system`, `rpc.service`, `rpc.method`, `rpc.grpc.status_code`) and
//! what the service reported (`refund.policy`, `refund.decision`). Without
//! an exporter the span is disabled and costs nothing.
//!
//! With the decision log on (the default), a decided EvaluateClaim call is
//! logged by its decision line instead (target `refund_eligibility::decision`):
//! the same access fields plus the decision id, the policy version, the rules
//! edition, the refund amount and currency and the reason codes; still
//! nothing that names a person, an order, an invoice, a transaction or a
//! reseller. A refused EvaluateClaim call has no decision: its access line.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use http_body::{Body, Frame, SizeHint};
use hyper::body::Bytes;
use tonic::Code;

use crate::grpc::pb::served::eligibility_service_server::SERVICE_NAME;
use crate::logging;
use crate::metrics::Metrics;
use crate::observe::{CallFacts, Decided, DecisionTally, Facts};
use crate::otel::{self, LogTraceId};

// ---------------------------------------------------------------------------
// The tower layer

/// The methods the server knows, so metric labels stay a closed set.
const KNOWN: &[(&str, &[&str])] = &[
    (
        SERVICE_NAME,
        &["EvaluateClaim", "QuoteRefund", "ListPolicies", "EvaluateClaims"],
    ),
    (tonic_health::pb::health_server::SERVICE_NAME, &["Check", "Watch"]),
    (
        tonic_reflection::pb::v1::server_reflection_server::SERVICE_NAME,
        &["ServerReflectionInfo"],
    ),
    (
        tonic_reflection::pb::v1alpha::server_reflection_server::SERVICE_NAME,
        &["ServerReflectionInfo"],
    ),
];

/// The one streaming method whose items are counted as they go.
const STREAM_METHOD: &str = "EvaluateClaims";

fn rpc_of(path: &str) -> (&'static str, &'static str) {
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    let (service, method) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    KNOWN
        .iter()
        .find(|(s, _)| *s == service)
        .and_then(|(s, methods)| methods.iter().find(|m| **m == method).map(|m| (*s, *m)))
        .unwrap_or(("unknown", "unknown"))
}

fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

fn grpc_status(headers: &http::HeaderMap) -> Option<Code> {
    headers.get("grpc-status").map(|v| Code::from_bytes(v.as_bytes()))
}

/// One call in flight. Finishing records it; dropping it unfinished (the
/// client went away, or the server's request timeout fired) records CANCELLED.
struct CallRecord {
    service: &'static str,
    method: &'static str,
    started: Instant,
    facts: CallFacts,
    metrics: Option<Arc<Metrics>>,
    /// The server span (disabled unless spans are exported).
    span: tracing::Span,
    trace_id: LogTraceId,
    decision_log: bool,
    done: bool,
}

impl CallRecord {
    fn finish(&mut self, code: Code) {
        if self.done {
            return;
        }
        self.done = true;
        let elapsed = self.started.elapsed();
        let facts = self.facts.take();
        end_span(std::mem::replace(&mut self.span, tracing::Span::none()), code, &facts);
        let code = code_name(code);
        if let Some(metrics) = &self.metrics {
            metrics.observe_call(self.service, self.method, code, elapsed);
            if let (Some(policy), Some(decision)) = (facts.policy, facts.decision) {
                metrics.observe_decision(policy, decision);
            }
            if let Some(stream) = &facts.stream {
                count_decisions(metrics, &stream.decisions);
            }
        }
        match facts.decided {
            Some(decided) if self.decision_log => log_decision(code, elapsed, &facts, &decided, self.trace_id),
            _ => log_call(self.service, self.method, code, elapsed, &facts, self.trace_id),
        }
    }

    /// Counts the stream decisions reported since the last flush, so that a
    /// long EvaluateClaims stream shows in the metrics as it goes.
    fn flush_stream_decisions(&self) {
        if let Some(metrics) = &self.metrics {
            count_decisions(metrics, &self.facts.take_stream_decisions());
        }
    }
}

fn count_decisions(metrics: &Metrics, tally: &DecisionTally) {
    for (policy, decision, n) in tally.counts() {
        metrics.observe_decisions(policy, decision, n);
    }
}

/// Opens the server span of a call, child of the caller's span if its
/// metadata carries a `traceparent`, and names the trace it belongs to.
fn start_span(service: &'static str, method: &'static str, headers: &http::HeaderMap) -> (tracing::Span, LogTraceId) {
    let caller = otel::caller_context(headers);
    let span = tracing::info_span!(
        target: otel::SPAN_TARGET,
        "rpc",
        otel.name = %format_args!("{service}/{method}"),
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        rpc.system = "grpc",
        rpc.service = service,
        rpc.method = method,
        rpc.grpc.status_code = tracing::field::Empty,
        refund.policy = tracing::field::Empty,
        refund.decision = tracing::field::Empty,
    );
    let caller_trace = caller.as_ref().map(otel::trace_id_of);
    let trace_id = otel::join(&span, caller).or(caller_trace);
    (span, LogTraceId(trace_id))
}

/// Records the outcome on the span and ends it.
fn end_span(span: tracing::Span, code: Code, facts: &Facts) {
    if span.is_disabled() {
        return;
    }
    span.record("rpc.grpc.status_code", i32::from(code));
    if let Some(policy) = facts.policy {
        span.record("refund.policy", policy);
    }
    if let Some(decision) = facts.decision {
        span.record("refund.decision", decision);
    }
    // The semantic conventions' server-side errors; the caller's mistakes
    // (INVALID_ARGUMENT, NOT_FOUND, ...) leave the span's status unset.
    if matches!(
        code,
        Code::Unknown
            | Code::DeadlineExceeded
            | Code::Unimplemented
            | Code::Internal
            | Code::Unavailable
            | Code::DataLoss
    ) {
        span.record("otel.status_code", "ERROR");
    }
}

impl Drop for CallRecord {
    fn drop(&mut self) {
        self.finish(Code::Cancelled);
    }
}

fn log_call(
    service: &'static str,
    method: &'static str,
    code: &'static str,
    elapsed: Duration,
    facts: &Facts,
    trace_id: LogTraceId,
) {
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    let policy = facts.policy.unwrap_or("-");
    let decision = facts.decision.unwrap_or("-");
    let request_id = facts.request_id.as_deref().unwrap_or("-");
    // A stream logs one line, with its item and error counts, not one per item.
    if let Some(stream) = &facts.stream {
        tracing::info!(
            target: "refund_eligibility::rpc",
            grpc_service = service,
            grpc_method = method,
            grpc_code = code,
            items = stream.items,
            errors = stream.errors,
            latency_ms,
            request_id,
            "rpc"
        );
        return;
    }
    // Probes and reflection are frequent and uninteresting: debug level.
    if service == SERVICE_NAME || service == "unknown" {
        tracing::info!(
            target: "refund_eligibility::rpc",
            grpc_service = service,
            grpc_method = method,
            grpc_code = code,
            policy,
            decision,
            latency_ms,
            request_id,
            trace_id = %trace_id,
            "rpc"
        );
    } else {
        tracing::debug!(
            target: "refund_eligibility::rpc",
            grpc_service = service,
            grpc_method = method,
            grpc_code = code,
            latency_ms,
            "rpc"
        );
    }
}

/// The decision line of a decided EvaluateClaim call, in place of its access
/// line. Its target names the method. The closed-set strings (and the
/// request id, which holds only `[A-Za-z0-9-_.:/+=]`) are written as they
/// are in the text format (JSON strings in JSON), and the latency is whole
/// microseconds. With the service's logger the line is written directly
/// ([`logging::write_decision_line`]: the same bytes the log layer would
/// write, at a third of the instructions); under another subscriber it is a
/// tracing event with the same fields.
fn log_decision(code: &'static str, elapsed: Duration, facts: &Facts, decided: &Decided, trace_id: LogTraceId) {
    use logging::LineValue::{Number, Text};
    use std::fmt::Write as _;
    thread_local! {
        /// The reason codes and the trace id, written once per line.
        static VALUES: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    VALUES.with_borrow_mut(|values| {
        values.clear();
        let _ = write!(values, "{}", decided.reasons);
        let reasons_end = values.len();
        let _ = write!(values, "{trace_id}");
        let (reasons, trace) = values.split_at(reasons_end);
        let fields = [
            ("grpc_code", Text(code)),
            (
                "latency_us",
                Number(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)),
            ),
            ("request_id", Text(facts.request_id.as_deref().unwrap_or("-"))),
            ("decision_id", Text(decided.decision_id.as_str())),
            ("policy", Text(facts.policy.unwrap_or("-"))),
            ("policy_version", Text(decided.policy_version)),
            ("rules_edition", Text(decided.rules_edition)),
            ("decision", Text(facts.decision.unwrap_or("-"))),
            ("amount", Text(decided.amount.as_str())),
            ("currency", Text(decided.currency.code())),
            ("reasons", Text(reasons)),
            ("trace_id", Text(trace)),
        ];
        if !logging::write_decision_line("decision", &fields) {
            decision_event(&fields);
        }
    });
}

/// The decision line as a tracing event, when the process's logger is not
/// the service's own (a library user's subscriber): the same fields.
fn decision_event(fields: &[(&str, logging::LineValue<'_>); 12]) {
    use logging::LineValue::{Number, Text};
    let text = |i: usize| match fields.get(i) {
        Some((_, Text(t))) => *t,
        _ => "-",
    };
    let latency_us = match fields.get(1) {
        Some((_, Number(n))) => *n,
        _ => 0,
    };
    tracing::info!(
        target: "refund_eligibility::decision",
        grpc_code = %text(0),
        latency_us,
        request_id = %text(2),
        decision_id = %text(3),
        policy = %text(4),
        policy_version = %text(5),
        rules_edition = %text(6),
        decision = %text(7),
        amount = %text(8),
        currency = %text(9),
        reasons = %text(10),
        trace_id = %text(11),
        "decision"
    );
}

/// Times and counts every gRPC call; see the module docs.
#[derive(Clone, Debug)]
pub struct TelemetryLayer {
    metrics: Option<Arc<Metrics>>,
    decision_log: bool,
}

impl Default for TelemetryLayer {
    fn default() -> Self {
        TelemetryLayer::new(None)
    }
}

impl TelemetryLayer {
    /// Logs every call, decisions by their decision line; counts them too
    /// when `metrics` is given.
    pub fn new(metrics: Option<Arc<Metrics>>) -> TelemetryLayer {
        TelemetryLayer {
            metrics,
            decision_log: true,
        }
    }

    /// `false`: decided EvaluateClaim calls get the access line like any other.
    pub fn with_decision_log(self, decision_log: bool) -> TelemetryLayer {
        TelemetryLayer { decision_log, ..self }
    }
}

impl<S> tower_layer::Layer<S> for TelemetryLayer {
    type Service = Telemetry<S>;

    fn layer(&self, inner: S) -> Telemetry<S> {
        Telemetry {
            inner,
            metrics: self.metrics.clone(),
            decision_log: self.decision_log,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Telemetry<S> {
    inner: S,
    metrics: Option<Arc<Metrics>>,
    decision_log: bool,
}

impl<S, ReqBody, ResBody> tower_service::Service<http::Request<ReqBody>> for Telemetry<S>
where
    S: tower_service::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    ResBody: Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<tonic::codegen::StdError>,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = ObservedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<ReqBody>) -> Self::Future {
        let (service, method) = rpc_of(request.uri().path());
        let (span, trace_id) = start_span(service, method, request.headers());
        let facts = CallFacts::default();
        request.extensions_mut().insert(facts.clone());
        let record = CallRecord {
            service,
            method,
            started: Instant::now(),
            facts,
            metrics: self.metrics.clone(),
            span,
            trace_id,
            decision_log: self.decision_log,
            done: false,
        };
        ObservedFuture {
            inner: self.inner.call(request),
            record: Some(record),
        }
    }
}

pin_project_lite::pin_project! {
    pub struct ObservedFuture<F> {
        #[pin]
        inner: F,
        record: Option<CallRecord>,
    }
}

impl<F, ResBody, E> Future for ObservedFuture<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
    ResBody: Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<tonic::codegen::StdError>,
{
    type Output = Result<http::Response<tonic::body::Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        let mut record = this.record.take();
        Poll::Ready(match result {
            Ok(response) => {
                // A trailers-only response (every error tonic sends) carries the
                // status in its headers; otherwise it comes in the trailers.
                if let (Some(code), Some(record)) = (grpc_status(response.headers()), record.as_mut()) {
                    record.finish(code);
                }
                Ok(response.map(|inner| tonic::body::Body::new(ObservedBody { inner, record })))
            }
            Err(e) => {
                if let Some(mut record) = record {
                    record.finish(Code::Unknown);
                }
                Err(e)
            }
        })
    }
}

pin_project_lite::pin_project! {
    /// A response body that records its call when the trailers pass by.
    pub struct ObservedBody<B> {
        #[pin]
        inner: B,
        record: Option<CallRecord>,
    }
}

impl<B: Body> Body for ObservedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        if let Some(record) = this.record.as_mut() {
            match &frame {
                Some(Ok(frame)) => {
                    if frame.is_data() && record.method == STREAM_METHOD {
                        record.flush_stream_decisions();
                    }
                    if let Some(code) = frame.trailers_ref().and_then(grpc_status) {
                        record.finish(code);
                    }
                }
                Some(Err(_)) => record.finish(Code::Internal),
                // Ended without a status: the gRPC spec reads that as UNKNOWN.
                None => record.finish(Code::Unknown),
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct decision line and the tracing event it stands for give
    /// the same line, text and JSON, timestamps aside.
    #[test]
    fn the_direct_decision_line_is_the_tracing_line() {
        use std::io;
        use std::sync::{Arc, Mutex};

        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::Layer;

        use crate::logging::{LineValue::Number, LineValue::Text, LogFormat};

        #[derive(Clone, Default)]
        struct Buffer(Arc<Mutex<Vec<u8>>>);
        impl io::Write for Buffer {
            fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
                self.0
                    .lock()
                    .map_err(|_| io::Error::other("poisoned"))?
                    .extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let text =
            |b: &Buffer| String::from_utf8(b.0.lock().map(|v| v.clone()).unwrap_or_default()).unwrap_or_default();
        // The timestamp is the first 27 bytes of a text line and the value
        // of the first JSON key.
        let untimed = |line: &str| -> String {
            match line.strip_prefix("{\"timestamp\":\"") {
                Some(rest) => rest.get(27..).unwrap_or_default().to_owned(),
                None => line.get(27..).unwrap_or_default().to_owned(),
            }
        };

        let fields = [
            ("grpc_code", Text("OK")),
            ("latency_us", Number(318)),
            ("request_id", Text("req-7:a/b+c=")),
            (
                "decision_id",
                Text("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
            ),
            ("policy", Text("iptv-smarters-pro")),
            ("policy_version", Text("2025-01")),
            ("rules_edition", Text("2026-12-02")),
            ("decision", Text("APPROVED")),
            ("amount", Text("29.99")),
            ("currency", Text("EUR")),
            ("reasons", Text("WITHIN_48H,STATUTORY_WITHDRAWAL")),
            ("trace_id", Text("quote\" back\\slash \n tab\t \u{1}")),
        ];
        for format in [LogFormat::Text, LogFormat::Json] {
            let event = Buffer::default();
            let writer = event.clone();
            let layer = match format {
                LogFormat::Text => tracing_subscriber::fmt::layer()
                    .event_format(crate::logging::TextLine::default())
                    .with_writer(move || writer.clone())
                    .boxed(),
                LogFormat::Json => tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_span_list(false)
                    .with_writer(move || writer.clone())
                    .boxed(),
            };
            tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || decision_event(&fields));
            let mut direct = String::new();
            let now = chrono::Utc::now();
            crate::logging::format_line(
                &mut direct,
                format,
                &now,
                "refund_eligibility::decision",
                "decision",
                &fields,
            );
            let from_event = text(&event);
            assert_eq!(untimed(&direct), untimed(&from_event), "{format:?}");
            assert!(direct.ends_with('\n') && direct.contains("amount"), "{direct}");
        }
    }

    #[test]
    fn only_known_methods_become_labels() {
        assert_eq!(
            rpc_of("/refund.eligibility.v1.EligibilityService/EvaluateClaim"),
            ("refund.eligibility.v1.EligibilityService", "EvaluateClaim")
        );
        assert_eq!(
            rpc_of("/grpc.health.v1.Health/Check"),
            ("grpc.health.v1.Health", "Check")
        );
        assert_eq!(
            rpc_of("/refund.eligibility.v1.EligibilityService/DropTables"),
            ("unknown", "unknown")
        );
        assert_eq!(rpc_of("/x"), ("unknown", "unknown"));
        assert_eq!(rpc_of(""), ("unknown", "unknown"));
    }

    #[test]
    fn decision_labels_are_the_wire_names_without_their_prefix() {
        use crate::domain::decision::Decision;
        use crate::grpc::pb;
        use crate::observe::decision_label;

        let all = [
            Decision::Approved,
            Decision::PartiallyApproved,
            Decision::Denied,
            Decision::NeedsReview,
            Decision::NeedsInformation,
            Decision::OfferCompensation,
        ];
        let mut labels: Vec<&str> = all.iter().map(|d| decision_label(*d)).collect();
        for label in &labels {
            assert!(
                pb::Decision::from_str_name(&format!("DECISION_{label}")).is_some(),
                "{label} is not a wire decision"
            );
        }
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), all.len(), "one label per decision");
    }
}
