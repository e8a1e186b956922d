//! Distributed tracing with OpenTelemetry: the W3C trace context a caller
//! sends in its gRPC metadata (`traceparent`, `tracestate`), the server span
//! of one call, and the OTLP/gRPC pipeline that exports those spans.
//!
//! The span is a `tracing` span on [`SPAN_TARGET`], which only the
//! `tracing-opentelemetry` layer installed by [`crate::logging`] listens to:
//! without `--otlp-endpoint` that layer is absent, the span is disabled at its
//! callsite, and a call costs no more than reading its `traceparent` (for the
//! log line's `trace_id`). With it, spans go to a batch processor whose queue
//! is bounded and never waited on: a full queue drops spans, a collector that
//! is down costs the export thread retries, never a call its latency.
//!
//! The telemetry layer decides what a span carries (the RPC semantic
//! conventions, `refund.policy`, `refund.decision`); this module knows no
//! method, policy or decision. It imports nothing of the crate.

use std::time::Duration;

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TraceId, TracerProvider as _};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The `tracing` target of the server spans; nothing else logs on it.
pub const SPAN_TARGET: &str = "refund_eligibility::otel";

/// Longest one export call may take before its batch is dropped.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);

/// Spans waiting for export; beyond this they are dropped, not queued.
const MAX_QUEUE: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum OtelError {
    #[error("OTLP endpoint {endpoint:?}: {message}")]
    Exporter { endpoint: String, message: String },
}

/// The span exporter of a running server: hands out the tracer the logging
/// layer needs and flushes what is still queued on [`Tracing::shutdown`].
#[derive(Debug)]
pub struct Tracing {
    provider: SdkTracerProvider,
}

impl Tracing {
    /// Exports spans over OTLP/gRPC to `endpoint` (`http://collector:4317`),
    /// in batches, from a thread of its own. Call it inside the Tokio runtime
    /// that will serve: the exporter's channel lives on it.
    pub fn otlp(endpoint: &str) -> Result<Tracing, OtelError> {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .with_timeout(EXPORT_TIMEOUT)
            .build()
            .map_err(|e| OtelError::Exporter {
                endpoint: endpoint.to_owned(),
                message: e.to_string(),
            })?;
        let batch = BatchSpanProcessor::builder(exporter)
            .with_batch_config(BatchConfigBuilder::default().with_max_queue_size(MAX_QUEUE).build())
            .build();
        let resource = Resource::builder()
            .with_service_name(env!("CARGO_PKG_NAME"))
            .with_attribute(opentelemetry::KeyValue::new(
                "service.version",
                env!("CARGO_PKG_VERSION"),
            ))
            .build();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(batch)
            .with_resource(resource)
            .build();
        Ok(Tracing { provider })
    }

    /// The tracer for `tracing-opentelemetry`'s layer.
    pub fn tracer(&self) -> SdkTracer {
        self.provider.tracer(env!("CARGO_PKG_NAME"))
    }

    /// Exports what is queued and stops the export thread. Blocks (at most
    /// about [`EXPORT_TIMEOUT`]): call it outside the runtime's tasks, with
    /// the runtime still alive.
    pub fn shutdown(self) -> Result<(), String> {
        self.provider.shutdown().map_err(|e| e.to_string())
    }
}

/// gRPC metadata, as the HTTP/2 headers the tower layers see.
struct Metadata<'a>(&'a http::HeaderMap);

impl Extractor for Metadata<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// The caller's trace context, if its metadata carries a valid `traceparent`
/// (and its `tracestate`). A malformed one is ignored, as the W3C
/// recommendation says: the call goes on as the root of a new trace.
pub fn caller_context(headers: &http::HeaderMap) -> Option<opentelemetry::Context> {
    if !headers.contains_key("traceparent") {
        return None;
    }
    let cx = TraceContextPropagator::new().extract_with_context(&opentelemetry::Context::new(), &Metadata(headers));
    cx.span().span_context().is_valid().then_some(cx)
}

/// The trace id of a caller's context.
pub fn trace_id_of(cx: &opentelemetry::Context) -> TraceId {
    cx.span().span_context().trace_id()
}

/// Makes `span` a child of the caller's span (before it starts) and returns
/// the trace it belongs to, or `None` when no exporter listens (the span is
/// disabled).
pub fn join(span: &tracing::Span, caller: Option<opentelemetry::Context>) -> Option<TraceId> {
    if span.is_disabled() {
        return None;
    }
    if let Some(cx) = caller {
        // Fails only if the span had started, which it has not: it is new.
        let _ = span.set_parent(cx);
    }
    let trace_id = span.context().span().span_context().trace_id();
    (trace_id != TraceId::INVALID).then_some(trace_id)
}

/// A trace id as a log field: 32 lowercase hex digits, or `-`.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogTraceId(pub Option<TraceId>);

impl std::fmt::Display for LogTraceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(id) => write!(f, "{id}"),
            None => f.write_str("-"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, http::HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn a_valid_traceparent_gives_the_callers_trace() {
        let cx = caller_context(&headers(&[
            ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            ("tracestate", "vendor=opaque"),
        ]));
        let cx = cx.unwrap_or_else(|| panic!("no context"));
        assert_eq!(
            LogTraceId(Some(trace_id_of(&cx))).to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(cx.span().span_context().span_id().to_string(), "00f067aa0ba902b7");
        assert!(cx.span().span_context().is_remote());
        assert_eq!(cx.span().span_context().trace_state().get("vendor"), Some("opaque"));
    }

    #[test]
    fn no_or_a_malformed_traceparent_gives_none() {
        assert!(caller_context(&headers(&[])).is_none());
        for bad in [
            "not a traceparent",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01x",
        ] {
            assert!(caller_context(&headers(&[("traceparent", bad)])).is_none(), "{bad}");
        }
        assert_eq!(LogTraceId(None).to_string(), "-");
    }

    #[test]
    fn without_an_exporter_the_span_is_disabled_and_costs_nothing() {
        let span = tracing::info_span!(target: SPAN_TARGET, "rpc");
        let cx = caller_context(&headers(&[(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )]));
        assert_eq!(join(&span, cx), None);
    }
}
