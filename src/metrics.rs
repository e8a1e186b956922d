//! Prometheus metrics and the `/metrics` endpoint that serves them.
//!
//! The registry holds only what operators alert on: calls by gRPC method and
//! status code, latency per method, decisions by policy and decision, and build
//! info. Every label value is a `&'static str` from a closed set (known
//! methods, gRPC code names, compiled-in policy ids, decision names), so no
//! request can grow the number of series.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http::{header, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

/// The content type of the OpenMetrics text format, which Prometheus scrapes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    grpc_service: &'static str,
    grpc_method: &'static str,
    grpc_code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabels {
    grpc_service: &'static str,
    grpc_method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    policy_id: &'static str,
    decision: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

type HistogramFamily = Family<MethodLabels, Histogram, fn() -> Histogram>;

/// The service's metrics. Shared (`Arc`) by the gRPC layer that records and
/// the HTTP endpoint that encodes.
pub struct Metrics {
    registry: Registry,
    handled: Family<CallLabels, Counter>,
    latency: HistogramFamily,
    decisions: Family<DecisionLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// The latency objective's threshold (deploy/monitoring/rules.yaml): a bucket
/// boundary of its own, so the share of calls under it is counted exactly.
pub const LATENCY_OBJECTIVE_SECONDS: f64 = 0.01;

fn latency_histogram() -> Histogram {
    // 50 µs to ~1.6 s: a decision takes microseconds; the top buckets catch
    // stalls. Plus the 10 ms of the latency objective.
    let mut buckets: Vec<f64> = exponential_buckets(0.000_05, 2.0, 16).collect();
    buckets.push(LATENCY_OBJECTIVE_SECONDS);
    buckets.sort_by(f64::total_cmp);
    Histogram::new(buckets)
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let handled = Family::<CallLabels, Counter>::default();
        registry.register(
            "grpc_server_handled",
            "gRPC calls completed, by service, method and status code",
            handled.clone(),
        );
        let latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "grpc_server_handling_seconds",
            "gRPC call latency from request headers to the final status, by service and method",
            latency.clone(),
        );
        let decisions = Family::<DecisionLabels, Counter>::default();
        registry.register(
            "refund_eligibility_decisions",
            "EvaluateClaim decisions, by policy id and decision",
            decisions.clone(),
        );
        registry.register(
            "refund_eligibility_build",
            "Build information of the running binary",
            Info::new(BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            }),
        );
        Metrics {
            registry,
            handled,
            latency,
            decisions,
        }
    }

    /// Records one finished call.
    pub fn observe_call(&self, service: &'static str, method: &'static str, code: &'static str, elapsed: Duration) {
        self.handled
            .get_or_create(&CallLabels {
                grpc_service: service,
                grpc_method: method,
                grpc_code: code,
            })
            .inc();
        self.latency
            .get_or_create(&MethodLabels {
                grpc_service: service,
                grpc_method: method,
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Records one EvaluateClaim decision.
    pub fn observe_decision(&self, policy_id: &'static str, decision: &'static str) {
        self.decisions
            .get_or_create(&DecisionLabels { policy_id, decision })
            .inc();
    }

    /// Counts `n` decisions at once (the items of an EvaluateClaims stream).
    pub fn observe_decisions(&self, policy_id: &'static str, decision: &'static str, n: u64) {
        self.decisions
            .get_or_create(&DecisionLabels { policy_id, decision })
            .inc_by(n);
    }

    /// The registry in the OpenMetrics text format.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

fn respond(metrics: &Metrics, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    let plain = |status: StatusCode, text: &'static str| {
        let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
        *response.status_mut() = status;
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/plain"));
        response
    };
    if request.uri().path() != "/metrics" {
        return plain(StatusCode::NOT_FOUND, "not found; metrics are at /metrics\n");
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    }
    match metrics.encode() {
        Ok(text) => {
            let mut response = Response::new(Full::new(Bytes::from(text)));
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, header::HeaderValue::from_static(CONTENT_TYPE));
            response
        }
        Err(_) => plain(StatusCode::INTERNAL_SERVER_ERROR, "cannot encode metrics\n"),
    }
}

/// Serves `GET /metrics` over HTTP/1.1 until `shutdown` completes; then stops
/// accepting connections and returns (open scrapes end with the process).
pub async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // A failed accept (peer reset, descriptor limit) must not stop the endpoint.
                Err(e) => {
                    tracing::warn!(error = %e, "metrics endpoint: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let metrics = Arc::clone(&metrics);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let response = respond(&metrics, &request);
                async move { Ok::<_, Infallible>(response) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "metrics endpoint: connection failed");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_counts_histograms_decisions_and_build_info() {
        let metrics = Metrics::new();
        metrics.observe_call(
            "refund.eligibility.v1.EligibilityService",
            "EvaluateClaim",
            "OK",
            Duration::from_micros(120),
        );
        metrics.observe_call(
            "refund.eligibility.v1.EligibilityService",
            "EvaluateClaim",
            "OK",
            Duration::from_micros(80),
        );
        metrics.observe_decision("iptv-smarters-pro", "APPROVED");
        let text = metrics.encode().unwrap_or_default();
        assert!(text.contains(
            "grpc_server_handled_total{grpc_service=\"refund.eligibility.v1.EligibilityService\",\
             grpc_method=\"EvaluateClaim\",grpc_code=\"OK\"} 2"
        ));
        assert!(text.contains(
            "grpc_server_handling_seconds_count{grpc_service=\"refund.eligibility.v1.EligibilityService\",\
             grpc_method=\"EvaluateClaim\"} 2"
        ));
        assert!(text
            .contains("refund_eligibility_decisions_total{policy_id=\"iptv-smarters-pro\",decision=\"APPROVED\"} 1"));
        assert!(text.contains("refund_eligibility_build_info{version=\""));
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn the_latency_objective_is_a_bucket_boundary() {
        let metrics = Metrics::new();
        metrics.observe_call("s", "m", "OK", Duration::from_millis(9));
        metrics.observe_call("s", "m", "OK", Duration::from_millis(11));
        let text = metrics.encode().unwrap_or_default();
        assert!(
            text.contains("grpc_server_handling_seconds_bucket{le=\"0.01\",grpc_service=\"s\",grpc_method=\"m\"} 1"),
            "{text}"
        );
    }
}
