//! Connection bookkeeping: what each accepted TCP connection carries for the
//! requests on it (the peer's addresses and its call slots for the shed
//! layer), and the hard cut of a connection still open after
//! `max_connection_age` plus its grace.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};
use tonic::transport::server::{Connected, TcpConnectInfo, TlsConnectInfo};

/// What every request on a connection finds in its extensions (under TLS
/// wrapped in tonic's `TlsConnectInfo`): the peer's addresses and the
/// connection's call slots. It replaces tonic's `TcpConnectInfo`, so
/// `tonic::Request::remote_addr` is `None`; read `tcp` instead.
#[derive(Clone, Debug)]
pub struct ConnectionInfo {
    pub tcp: TcpConnectInfo,
    slots: Option<Arc<Semaphore>>,
}

impl ConnectionInfo {
    /// The slots of the connection a request came on, if it has a limit.
    pub(crate) fn slots_of<B>(request: &http::Request<B>) -> Option<Arc<Semaphore>> {
        let extensions = request.extensions();
        extensions
            .get::<ConnectionInfo>()
            .or_else(|| extensions.get::<TlsConnectInfo<ConnectionInfo>>().map(|t| t.get_ref()))
            .and_then(|info| info.slots.clone())
    }
}

/// An accepted connection: its call slots, and a clock that fails every read
/// and write once `cut_after` has passed since it was accepted, which ends it
/// (and its calls) for good. That is the hard stop behind
/// `max_connection_age`'s GOAWAY, for clients that ignore it.
pub(crate) struct Connection {
    io: TcpStream,
    deadline: Option<Pin<Box<Sleep>>>,
    slots: Option<Arc<Semaphore>>,
}

impl Connection {
    pub(crate) fn new(io: TcpStream, cut_after: Option<Duration>, limit: Option<usize>) -> Connection {
        let deadline = cut_after
            .and_then(|after| Instant::now().checked_add(after))
            .map(|at| Box::pin(tokio::time::sleep_until(at)));
        Connection {
            io,
            deadline,
            slots: limit.map(|n| Arc::new(Semaphore::new(n))),
        }
    }

    /// Polling the timer here also arms it, so an idle connection is woken and cut.
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        self.deadline.as_mut().is_some_and(|d| d.as_mut().poll(cx).is_ready())
    }
}

fn cut() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "max connection age and grace elapsed")
}

impl AsyncRead for Connection {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.expired(cx) {
            return Poll::Ready(Err(cut()));
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Connection {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.expired(cx) {
            return Poll::Ready(Err(cut()));
        }
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.expired(cx) {
            return Poll::Ready(Err(cut()));
        }
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

impl Connected for Connection {
    type ConnectInfo = ConnectionInfo;

    fn connect_info(&self) -> ConnectionInfo {
        ConnectionInfo {
            tcp: self.io.connect_info(),
            slots: self.slots.clone(),
        }
    }
}
