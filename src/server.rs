//! Server wiring: the eligibility service, gRPC health, reflection, limits
//! and a bounded graceful drain. Takes its listener and shutdown signal as
//! arguments so tests serve on 127.0.0.1:0 and stop it themselves.

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::Server;
use tonic_health::ServingStatus;

use crate::grpc::pb;
use crate::grpc::pb::eligibility_service_server::EligibilityServiceServer;
use crate::grpc::service::EligibilityApi;

/// The service name health checks and reflection use.
pub const SERVICE_NAME: &str = "refund.eligibility.v1.EligibilityService";

#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// How long in-flight calls may take to finish after shutdown is asked.
    pub shutdown_grace: Duration,
    /// Largest request message accepted, in bytes.
    pub max_message_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            shutdown_grace: Duration::from_secs(10),
            max_message_bytes: 64 * 1024,
        }
    }
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

    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    let eligibility = EligibilityServiceServer::new(EligibilityApi).max_decoding_message_size(config.max_message_bytes);

    let (drain_started_tx, drain_started_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        health.set_service_status("", ServingStatus::NotServing).await;
        health.set_service_status(SERVICE_NAME, ServingStatus::NotServing).await;
        let _ = drain_started_tx.send(());
    };

    let serve = Server::builder()
        .tcp_nodelay(true)
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(eligibility)
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), signal);
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
