//! Call telemetry at the gRPC edge: a tower layer that enforces each
//! connection's concurrency limit (shedding, never queueing), times every
//! call, reads its final gRPC status, counts it in [`Metrics`] and writes one
//! log line per call; and a decorator over the eligibility service that tells
//! the layer which policy decided what. The engine and the policies know
//! nothing of either.
//!
//! What a log line carries is fixed here and nowhere else: the method, the
//! status code, the latency, the policy id (only a compiled-in one), the
//! decision and the caller's `request_id` (only if it looks like an opaque
//! id: no `@`, no spaces, at most 128 characters). Never an order id, an
//! email address, an invoice number, a description or a peer address.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use http_body::{Body, Frame, SizeHint};
use hyper::body::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::{Code, Request, Response, Status};

use crate::grpc::pb;
use crate::grpc::pb::eligibility_service_server::EligibilityService;
use crate::grpc::service::EligibilityApi;
use crate::metrics::Metrics;
use crate::policies::PolicyId;
use crate::server::ConnectionInfo;

// ---------------------------------------------------------------------------
// Logging setup

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable `key=value` lines.
    Text,
    /// One JSON object per line, fields at the top level.
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum LogInitError {
    #[error("invalid log level {0:?}: {1}")]
    Level(String, String),
    #[error("a global logger is already installed")]
    AlreadyInstalled,
}

/// Installs the process-wide logger writing to stdout. `level` is a level
/// (`info`) or a comma-separated list of `target=level` directives
/// (`info,h2=warn`).
pub fn init_logging(level: &str, format: LogFormat) -> Result<(), LogInitError> {
    init_logging_to(level, format, std::io::stdout)
}

/// [`init_logging`] to another writer (tests capture the lines).
pub fn init_logging_to<W>(level: &str, format: LogFormat, writer: W) -> Result<(), LogInitError>
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let filter: tracing_subscriber::filter::Targets = level
        .parse()
        .map_err(|e: tracing_subscriber::filter::ParseError| LogInitError::Level(level.to_owned(), e.to_string()))?;
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Text => registry
            .with(tracing_subscriber::fmt::layer().with_writer(writer))
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_span_list(false)
                    .with_writer(writer),
            )
            .try_init(),
    };
    result.map_err(|_| LogInitError::AlreadyInstalled)
}

// ---------------------------------------------------------------------------
// What the handler tells the layer

#[derive(Debug, Default)]
struct Facts {
    policy: Option<&'static str>,
    decision: Option<&'static str>,
    request_id: Option<String>,
}

/// A slot the layer puts in each request's extensions; the service fills it
/// with what only a decoded message reveals (policy, decision, request id).
#[derive(Clone, Debug, Default)]
pub struct CallFacts(Arc<Mutex<Facts>>);

impl CallFacts {
    fn update(&self, f: impl FnOnce(&mut Facts)) {
        // A poisoned lock only means a panic elsewhere; the facts are plain data.
        let mut guard = match self.0.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard);
    }

    fn take(&self) -> Facts {
        let mut guard = match self.0.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        std::mem::take(&mut *guard)
    }

    /// Records the caller's correlation id, if it is safe to log.
    pub fn set_request_id(&self, request_id: &str) {
        if let Some(id) = loggable_request_id(request_id) {
            self.update(|f| f.request_id = Some(id.to_owned()));
        }
    }

    /// Records the policy that handled the call (compiled-in ids only).
    pub fn set_policy(&self, policy_id: &str) {
        let policy = PolicyId::from_id(policy_id).map(|p| p.meta().id);
        self.update(|f| f.policy = policy);
    }

    /// Records the decision of an EvaluateClaim call.
    pub fn set_decision(&self, decision: pb::Decision) {
        let name = decision.as_str_name();
        let short = name.strip_prefix("DECISION_").unwrap_or(name);
        self.update(|f| f.decision = Some(short));
    }
}

/// A request id is logged only when it looks like an opaque identifier, so a
/// caller who puts an email address or a name there does not leak it to logs.
fn loggable_request_id(id: &str) -> Option<&str> {
    let opaque = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/' | b'+' | b'='));
    opaque.then_some(id)
}

// ---------------------------------------------------------------------------
// The service decorator

/// [`EligibilityApi`] with its calls reported to the telemetry layer:
/// delegates every method, then notes the policy, decision and request id in
/// the request's [`CallFacts`].
#[derive(Clone, Copy, Debug, Default)]
pub struct ObservedApi;

fn facts<T>(request: &Request<T>) -> CallFacts {
    request.extensions().get::<CallFacts>().cloned().unwrap_or_default()
}

#[tonic::async_trait]
impl EligibilityService for ObservedApi {
    async fn evaluate_claim(
        &self,
        request: Request<pb::EvaluateClaimRequest>,
    ) -> Result<Response<pb::EvaluateClaimResponse>, Status> {
        let facts = facts(&request);
        facts.set_request_id(&request.get_ref().request_id);
        facts.set_policy(&request.get_ref().policy_id);
        let response = EligibilityApi.evaluate_claim(request).await?;
        facts.set_decision(response.get_ref().decision());
        Ok(response)
    }

    async fn quote_refund(
        &self,
        request: Request<pb::QuoteRefundRequest>,
    ) -> Result<Response<pb::QuoteRefundResponse>, Status> {
        facts(&request).set_policy(&request.get_ref().policy_id);
        EligibilityApi.quote_refund(request).await
    }

    async fn list_policies(
        &self,
        request: Request<pb::ListPoliciesRequest>,
    ) -> Result<Response<pb::ListPoliciesResponse>, Status> {
        EligibilityApi.list_policies(request).await
    }
}

// ---------------------------------------------------------------------------
// The tower layer

/// The methods the server knows, so metric labels stay a closed set.
const KNOWN: &[(&str, &[&str])] = &[
    (
        crate::server::SERVICE_NAME,
        &["EvaluateClaim", "QuoteRefund", "ListPolicies"],
    ),
    ("grpc.health.v1.Health", &["Check", "Watch"]),
    ("grpc.reflection.v1.ServerReflection", &["ServerReflectionInfo"]),
    ("grpc.reflection.v1alpha.ServerReflection", &["ServerReflectionInfo"]),
];

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
    done: bool,
}

impl CallRecord {
    fn finish(&mut self, code: Code) {
        if self.done {
            return;
        }
        self.done = true;
        let elapsed = self.started.elapsed();
        let code = code_name(code);
        let facts = self.facts.take();
        if let Some(metrics) = &self.metrics {
            metrics.observe_call(self.service, self.method, code, elapsed);
            if let (Some(policy), Some(decision)) = (facts.policy, facts.decision) {
                metrics.observe_decision(policy, decision);
            }
        }
        log_call(self.service, self.method, code, elapsed, &facts);
    }
}

impl Drop for CallRecord {
    fn drop(&mut self) {
        self.finish(Code::Cancelled);
    }
}

fn log_call(service: &'static str, method: &'static str, code: &'static str, elapsed: Duration, facts: &Facts) {
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    let policy = facts.policy.unwrap_or("-");
    let decision = facts.decision.unwrap_or("-");
    let request_id = facts.request_id.as_deref().unwrap_or("-");
    // Probes and reflection are frequent and uninteresting: debug level.
    if service == crate::server::SERVICE_NAME || service == "unknown" {
        tracing::info!(
            target: "refund_eligibility::rpc",
            grpc_service = service,
            grpc_method = method,
            grpc_code = code,
            policy,
            decision,
            latency_ms,
            request_id,
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

/// Times and counts every gRPC call; see the module docs.
#[derive(Clone, Debug, Default)]
pub struct TelemetryLayer {
    metrics: Option<Arc<Metrics>>,
}

impl TelemetryLayer {
    /// Logs every call; counts them too when `metrics` is given.
    pub fn new(metrics: Option<Arc<Metrics>>) -> TelemetryLayer {
        TelemetryLayer { metrics }
    }
}

impl<S> tower_layer::Layer<S> for TelemetryLayer {
    type Service = Telemetry<S>;

    fn layer(&self, inner: S) -> Telemetry<S> {
        Telemetry {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Telemetry<S> {
    inner: S,
    metrics: Option<Arc<Metrics>>,
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
        let facts = CallFacts::default();
        request.extensions_mut().insert(facts.clone());
        let record = CallRecord {
            service,
            method,
            started: Instant::now(),
            facts,
            metrics: self.metrics.clone(),
            done: false,
        };
        // The connection's concurrency limit: a call finding no free slot is
        // answered here and now, never queued (see ServerConfig).
        let slot = match ConnectionInfo::slots_of(&request).map(Semaphore::try_acquire_owned) {
            Some(Err(_)) => {
                return ObservedFuture {
                    inner: None,
                    slot: None,
                    record: Some(record),
                }
            }
            Some(Ok(slot)) => Some(slot),
            None => None,
        };
        ObservedFuture {
            inner: Some(self.inner.call(request)),
            slot,
            record: Some(record),
        }
    }
}

/// What a shed call is told, in tonic's words for the same situation.
pub const SHED_MESSAGE: &str = "Too many active requests for the connection";

pin_project_lite::pin_project! {
    pub struct ObservedFuture<F> {
        // None: the call was shed.
        #[pin]
        inner: Option<F>,
        // Held until the response headers are ready.
        slot: Option<OwnedSemaphorePermit>,
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
        let Some(inner) = this.inner.as_pin_mut() else {
            if let Some(mut record) = this.record.take() {
                record.finish(Code::ResourceExhausted);
            }
            return Poll::Ready(Ok(Status::resource_exhausted(SHED_MESSAGE).into_http()));
        };
        let result = ready!(inner.poll(cx));
        drop(this.slot.take());
        let mut record = this.record.take();
        Poll::Ready(match result {
            Ok(mut response) => {
                // tonic 0.14 answers a message over max_decoding_message_size
                // with OUT_OF_RANGE, its only use of that code; the contract
                // (and gRPC's own guidance) says RESOURCE_EXHAUSTED.
                if grpc_status(response.headers()) == Some(Code::OutOfRange) {
                    response
                        .headers_mut()
                        .insert("grpc-status", http::HeaderValue::from_static("8"));
                }
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
    fn request_ids_that_could_hold_personal_data_are_not_logged() {
        assert_eq!(loggable_request_id("req-42_a.b:c"), Some("req-42_a.b:c"));
        assert_eq!(loggable_request_id("jane.doe@example.com"), None);
        assert_eq!(loggable_request_id("Jane Doe"), None);
        assert_eq!(loggable_request_id(""), None);
        assert_eq!(loggable_request_id(&"a".repeat(129)), None);
    }

    #[test]
    fn only_compiled_in_policies_are_recorded() {
        let facts = CallFacts::default();
        facts.set_policy("not-a-policy");
        assert_eq!(facts.take().policy, None);
        facts.set_policy("iptv-smarters-pro");
        facts.set_decision(pb::Decision::PartiallyApproved);
        let taken = facts.take();
        assert_eq!(taken.policy, Some("iptv-smarters-pro"));
        assert_eq!(taken.decision, Some("PARTIALLY_APPROVED"));
    }
}
