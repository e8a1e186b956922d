//! Status mapping: tonic 0.14 answers a message over
//! `max_decoding_message_size` with OUT_OF_RANGE, its only use of that code;
//! the contract (and gRPC's own guidance) says RESOURCE_EXHAUSTED. This layer
//! rewrites the status of such a trailers-only response, nothing else.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tonic::Code;

/// Rewrites OUT_OF_RANGE to RESOURCE_EXHAUSTED; see the module docs.
#[derive(Clone, Copy, Debug, Default)]
pub struct StatusMapLayer;

impl<S> tower_layer::Layer<S> for StatusMapLayer {
    type Service = StatusMap<S>;

    fn layer(&self, inner: S) -> StatusMap<S> {
        StatusMap { inner }
    }
}

#[derive(Clone, Debug)]
pub struct StatusMap<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> tower_service::Service<http::Request<ReqBody>> for StatusMap<S>
where
    S: tower_service::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = StatusMapFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        StatusMapFuture {
            inner: self.inner.call(request),
        }
    }
}

pin_project_lite::pin_project! {
    pub struct StatusMapFuture<F> {
        #[pin]
        inner: F,
    }
}

impl<F, ResBody, E> Future for StatusMapFuture<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
{
    type Output = Result<http::Response<ResBody>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut result = ready!(self.project().inner.poll(cx));
        if let Ok(response) = &mut result {
            let headers = response.headers_mut();
            let out_of_range = headers
                .get("grpc-status")
                .is_some_and(|v| Code::from_bytes(v.as_bytes()) == Code::OutOfRange);
            if out_of_range {
                headers.insert("grpc-status", http::HeaderValue::from_static("8"));
            }
        }
        Poll::Ready(result)
    }
}
