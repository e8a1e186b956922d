//! Load shedding per connection: a call that finds its connection's slots
//! all taken is answered RESOURCE_EXHAUSTED at once, never queued, and never
//! reaches the service. The slots come with the connection
//! ([`ConnectionInfo`]); a connection without a limit is never shed.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::Status;

use crate::connection::ConnectionInfo;

/// What a shed call is told, in tonic's words for the same situation.
pub const SHED_MESSAGE: &str = "Too many active requests for the connection";

/// Sheds calls over their connection's concurrency limit; see the module docs.
#[derive(Clone, Copy, Debug, Default)]
pub struct ShedLayer;

impl<S> tower_layer::Layer<S> for ShedLayer {
    type Service = Shed<S>;

    fn layer(&self, inner: S) -> Shed<S> {
        Shed { inner }
    }
}

#[derive(Clone, Debug)]
pub struct Shed<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> tower_service::Service<http::Request<ReqBody>> for Shed<S>
where
    S: tower_service::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    ResBody: Default,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = ShedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let slot = match ConnectionInfo::slots_of(&request).map(Semaphore::try_acquire_owned) {
            Some(Err(_)) => {
                return ShedFuture {
                    inner: None,
                    slot: None,
                }
            }
            Some(Ok(slot)) => Some(slot),
            None => None,
        };
        ShedFuture {
            inner: Some(self.inner.call(request)),
            slot,
        }
    }
}

pin_project_lite::pin_project! {
    pub struct ShedFuture<F> {
        // None: the call was shed.
        #[pin]
        inner: Option<F>,
        // Held until the response headers are ready.
        slot: Option<OwnedSemaphorePermit>,
    }
}

impl<F, ResBody, E> Future for ShedFuture<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
    ResBody: Default,
{
    type Output = Result<http::Response<ResBody>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(inner) = this.inner.as_pin_mut() else {
            return Poll::Ready(Ok(Status::resource_exhausted(SHED_MESSAGE).into_http()));
        };
        let result = ready!(inner.poll(cx));
        drop(this.slot.take());
        Poll::Ready(result)
    }
}
