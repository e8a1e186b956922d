//! Server wiring: the eligibility service, gRPC health, reflection, limits,
//! TLS, call telemetry, connection ageing and a bounded graceful drain. Takes
//! its listener and shutdown signal as arguments so tests serve on
//! 127.0.0.1:0 and stop it themselves.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_stream::StreamExt;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use tonic_health::ServingStatus;

use crate::connection::{Connection, Limits};
use crate::grpc::pb;
use crate::grpc::pb::served::eligibility_service_server::EligibilityServiceServer;
use crate::grpc::service::EligibilityApi;
use crate::grpc::stream::StreamLimits;
use crate::layers::shed::ShedLayer;
use crate::layers::status_map::StatusMapLayer;
use crate::metrics::Metrics;
use crate::telemetry::TelemetryLayer;

/// The service name health checks and reflection use (the generated one).
/// Its health (and the overall `""`) turns NOT_SERVING when shutdown
/// starts: readiness.
pub const SERVICE_NAME: &str = pb::served::eligibility_service_server::SERVICE_NAME;

/// A health service name that stays SERVING while the process answers at
/// all, drain included: liveness, so a draining pod is not restarted.
pub const LIVENESS_SERVICE: &str = "liveness";

#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// How long in-flight calls may take to finish after shutdown is asked.
    pub shutdown_grace: Duration,
    /// Largest request message accepted, in bytes; a larger one is refused with
    /// RESOURCE_EXHAUSTED before it reaches the service (tonic 0.14 says
    /// OUT_OF_RANGE; the status-map layer rewrites it).
    pub max_message_bytes: usize,
    /// Calls one HTTP/2 connection may have in progress at once (`None`: no
    /// limit). A call arriving while the limit is reached is not queued: it is
    /// answered at once with `RESOURCE_EXHAUSTED` (message "Too many active
    /// requests for the connection", as tonic's own load shedding says it),
    /// never reaches the service, is safe to retry, and is counted and logged
    /// like any call. The limit counts every service on the connection (health
    /// and reflection included); a call holds its slot until its response
    /// headers are sent, which for a unary call is when the handler is done.
    pub concurrency_limit_per_connection: Option<usize>,
    /// Longest a call may run; a shorter `grpc-timeout` from the client wins.
    /// A call past it is answered with `CANCELLED` ("Timeout expired").
    pub request_timeout: Option<Duration>,
    /// After this long a connection is sent an HTTP/2 GOAWAY: calls in
    /// progress finish, new ones go to a new connection, which the client's
    /// load balancer (or the Kubernetes Service) may send to another pod.
    pub max_connection_age: Option<Duration>,
    /// How long after `max_connection_age` a connection that has still not
    /// closed is cut (only with `max_connection_age`; `None`: never cut).
    pub max_connection_age_grace: Option<Duration>,
    /// Connections open at once (`None`: no cap). A connection accepted
    /// beyond the cap is closed at once, before any byte is read; connections
    /// already open are not affected.
    pub max_connections: Option<usize>,
    /// Interval of the HTTP/2 PINGs the server sends on every connection; a
    /// PING not acknowledged within `http2_keepalive_timeout` closes the
    /// connection (a dead or half-open peer). `None`: no PINGs.
    pub http2_keepalive_interval: Option<Duration>,
    /// A connection from which nothing arrives for this long while it has no
    /// call in progress is cut, and so is one whose HTTP/2 preface has not
    /// arrived this long after it was accepted. `None`: never.
    pub idle_timeout: Option<Duration>,
    /// Time a keepalive PING has to be acknowledged before the connection is
    /// closed (only with `http2_keepalive_interval`).
    pub http2_keepalive_timeout: Duration,
    /// Serve TLS (and, with a client CA, require client certificates).
    pub tls: Option<TlsConfig>,
    /// Where calls are counted; `None` logs them only.
    pub metrics: Option<Arc<Metrics>>,
    /// EvaluateClaims: answers read ahead of the client, items per stream.
    pub stream_limits: StreamLimits,
    /// Log each EvaluateClaim decision as a decision line (target
    /// `refund_eligibility::decision`) instead of its access line.
    pub decision_log: bool,
}

impl Default for ServerConfig {
    /// The command line's defaults, without TLS or metrics.
    fn default() -> Self {
        ServerConfig {
            shutdown_grace: Duration::from_secs(10),
            max_message_bytes: 64 * 1024,
            concurrency_limit_per_connection: Some(64),
            request_timeout: Some(Duration::from_secs(5)),
            max_connection_age: Some(Duration::from_secs(300)),
            max_connection_age_grace: Some(Duration::from_secs(15)),
            max_connections: Some(10_000),
            http2_keepalive_interval: Some(Duration::from_secs(60)),
            idle_timeout: Some(Duration::from_secs(120)),
            http2_keepalive_timeout: Duration::from_secs(20),
            tls: None,
            metrics: None,
            stream_limits: StreamLimits::default(),
            decision_log: true,
        }
    }
}

/// TLS material in PEM form.
#[derive(Clone)]
pub struct TlsConfig {
    /// The server's certificate chain, leaf first.
    pub cert_pem: Vec<u8>,
    /// The server's private key (PKCS#8, PKCS#1 or SEC1).
    pub key_pem: Vec<u8>,
    /// CA certificates for client authentication: when set, a client must
    /// present a certificate issued by one of them or the handshake fails.
    pub client_ca_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfig")
            .field("cert_pem", &format_args!("{} bytes", self.cert_pem.len()))
            .field("key_pem", &"<redacted>")
            .field("client_auth", &self.client_ca_pem.is_some())
            .finish()
    }
}

impl TlsConfig {
    fn server_config(&self) -> ServerTlsConfig {
        let config = ServerTlsConfig::new().identity(Identity::from_pem(&self.cert_pem, &self.key_pem));
        match &self.client_ca_pem {
            Some(ca) => config
                .client_ca_root(Certificate::from_pem(ca))
                .client_auth_optional(false),
            None => config,
        }
    }
}

/// Largest header list (HPACK-decoded) a request may carry: gRPC metadata is
/// small, and a larger list, sent in one HEADERS frame or spread over
/// CONTINUATION frames, is refused (h2 answers the stream with 431 or, for a
/// CONTINUATION flood, closes the connection with ENHANCE_YOUR_CALM) without
/// buffering more than this. hyper's default too; pinned here so that an
/// upgrade cannot raise it silently.
pub const HTTP2_MAX_HEADER_LIST_BYTES: u32 = crate::connection::HTTP2_MAX_HEADER_LIST_BYTES;

/// Streams the client may reset before the server has accepted them, at any
/// one time (h2's own default): a rapid-reset flood (CVE-2023-44487) past it
/// gets GOAWAY ENHANCE_YOUR_CALM.
pub const HTTP2_MAX_PENDING_ACCEPT_RESET_STREAMS: usize = 20;

/// Streams the server may reset because of the client's errors before it
/// closes the connection with GOAWAY ENHANCE_YOUR_CALM (hyper's default).
pub const HTTP2_MAX_LOCAL_ERROR_RESET_STREAMS: usize = 1024;

/// Connections the kernel may hold completed for the server before it
/// accepts them (`listen(2)`'s backlog; the kernel caps it at
/// `net.core.somaxconn`, 4096 by default). tokio's default is 1024: a burst
/// of connections over it, a flood or a fleet of clients reconnecting at
/// once, has its SYNs dropped and retried after one second, then three,
/// while those over `--max-connections` could have been accepted and closed
/// at once.
pub const LISTEN_BACKLOG: u32 = 4096;

/// Binds the gRPC listener with [`LISTEN_BACKLOG`].
pub fn bind(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // As std's and tokio's `TcpListener::bind` do on Unix: a restarted server
    // can bind while the old one's connections are in TIME_WAIT.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
}

/// Serves until `shutdown` completes, then reports NOT_SERVING, stops
/// accepting connections and lets in-flight calls finish within the grace
/// period. Returns `Ok` once drained (or the grace period ran out).
pub async fn run(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    config: ServerConfig,
) -> Result<(), ServeError> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_service_status("", ServingStatus::Serving).await;
    health.set_service_status(SERVICE_NAME, ServingStatus::Serving).await;
    health
        .set_service_status(LIVENESS_SERVICE, ServingStatus::Serving)
        .await;

    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(pb::ERROR_DETAILS_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(pb::ERROR_DETAILS_DESCRIPTOR_SET)
        .build_v1alpha()?;

    // Open EvaluateClaims streams stop reading when the drain starts: they
    // answer what they have read, then end with UNAVAILABLE.
    let (drain_streams, streams_drain) = tokio::sync::watch::channel(false);
    let eligibility = EligibilityServiceServer::new(EligibilityApi::new(config.stream_limits, streams_drain))
        .max_decoding_message_size(config.max_message_bytes);

    let (drain_started_tx, drain_started_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        let _ = drain_streams.send(true);
        health.set_service_status("", ServingStatus::NotServing).await;
        health.set_service_status(SERVICE_NAME, ServingStatus::NotServing).await;
        let _ = drain_started_tx.send(());
    };

    let mut builder = Server::builder()
        .http2_max_header_list_size(HTTP2_MAX_HEADER_LIST_BYTES)
        .http2_max_pending_accept_reset_streams(Some(HTTP2_MAX_PENDING_ACCEPT_RESET_STREAMS))
        .http2_max_local_error_reset_streams(Some(HTTP2_MAX_LOCAL_ERROR_RESET_STREAMS))
        .http2_keepalive_interval(config.http2_keepalive_interval)
        .http2_keepalive_timeout(Some(config.http2_keepalive_timeout));
    if let Some(tls) = &config.tls {
        builder = builder.tls_config(tls.server_config())?;
    }
    // The per-connection limit is not tonic's (`concurrency_limit_per_connection`
    // + `load_shed`): tonic sheds before any layer of ours, so shed calls would
    // be invisible to metrics and logs. Each connection carries its slots in
    // its `ConnectionInfo` instead, and the shed layer, inside telemetry, sheds.
    let limit = config.concurrency_limit_per_connection;
    if let Some(timeout) = config.request_timeout {
        builder = builder.timeout(timeout);
    }
    // Only the age goes to tonic: tonic 0.14 given a grace too skips the
    // GOAWAY and just cuts the connection at age + grace, failing calls in
    // progress. `connection::Connection` does the cut instead.
    if let Some(age) = config.max_connection_age {
        builder = builder.max_connection_age(age);
    }
    let cut_after = config
        .max_connection_age
        .zip(config.max_connection_age_grace)
        .map(|(age, grace)| age.saturating_add(grace));
    let limits = Limits {
        cut_after,
        calls: limit,
        idle_timeout: config.idle_timeout,
        watch_frames: config.tls.is_none(),
    };
    let places = config.max_connections.map(|n| Arc::new(Semaphore::new(n)));
    let incoming = TcpListenerStream::new(listener).filter_map(move |accepted| match accepted {
        Ok(stream) => {
            let place = match &places {
                Some(places) => match places.clone().try_acquire_owned() {
                    Ok(place) => Some(place),
                    // Over the cap: closed unread, so refusing costs an
                    // accept and a close, and the client learns at once.
                    Err(_) => {
                        tracing::debug!("connection refused: max connections reached");
                        return None;
                    }
                },
                None => None,
            };
            // Ignored by tonic for a caller-supplied listener, so set here.
            let _ = stream.set_nodelay(true);
            Some(Ok(Connection::new(stream, limits, place)))
        }
        Err(error) => Some(Err(error)),
    });

    let serve = builder
        // Outermost first: telemetry sees the final status of every call,
        // shed ones and rewritten ones included.
        .layer(TelemetryLayer::new(config.metrics.clone()).with_decision_log(config.decision_log))
        .layer(ShedLayer)
        .layer(StatusMapLayer)
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(eligibility)
        .serve_with_incoming_shutdown(incoming, signal);
    tokio::pin!(serve);

    let grace = config.shutdown_grace;
    let deadline = async move {
        if drain_started_rx.await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = &mut serve => Ok(result?),
        () = deadline => Ok(()),
    }
}
