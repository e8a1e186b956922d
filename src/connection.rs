//! Connection bookkeeping: what each accepted TCP connection carries for the
//! requests on it (the peer's addresses and its call slots for the shed
//! layer), its place under `max_connections`, the hard cut of a connection
//! still open after `max_connection_age` plus its grace, and the cut of a
//! connection that is silent for `idle_timeout` (or has not sent its HTTP/2
//! preface within it).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
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

/// The HTTP/2 client connection preface (RFC 9113 §3.4) is 24 bytes.
const PREFACE_LEN: usize = 24;

/// PING and SETTINGS frames (not acknowledgements) a client may send in a row
/// without a HEADERS or DATA frame between them. h2 answers each one and
/// never closes the connection for them: a client that reads the answers can
/// keep a core busy for ever. No gRPC client comes near it (grpc-go's own
/// servers refuse more than two keepalive PINGs per 5 minutes without calls).
pub const MAX_CONTROL_FRAMES_IN_A_ROW: u32 = 1000;

/// The header list a request may carry (SETTINGS_MAX_HEADER_LIST_SIZE, in
/// decoded bytes). h2 answers a larger one on its stream alone (HTTP 431).
pub const HTTP2_MAX_HEADER_LIST_BYTES: u32 = 16 * 1024;

/// A header block as sent (a HEADERS frame and its CONTINUATION frames,
/// compressed) larger than this closes the connection: it is a header list
/// over the limit that no client's acceptable headers encode to (the margin
/// covers padding and priority fields), and a client that sends one may keep
/// sending them.
pub const MAX_HEADER_BLOCK_BYTES: usize = HTTP2_MAX_HEADER_LIST_BYTES as usize + 1024;

/// Follows the frame headers of a plaintext HTTP/2 stream to count the
/// control frames in a row (see [`MAX_CONTROL_FRAMES_IN_A_ROW`]) and the size
/// of each header block (see [`MAX_HEADER_BLOCK_BYTES`]). Only the 9-byte
/// headers are looked at; payloads are skipped, never copied.
#[derive(Debug)]
struct FrameWatch {
    preface_left: usize,
    header: [u8; 9],
    have: usize,
    skip: usize,
    control_in_a_row: u32,
    /// The bytes of the header block in progress, if one is open.
    block: Option<usize>,
}

impl FrameWatch {
    fn new() -> FrameWatch {
        FrameWatch {
            preface_left: PREFACE_LEN,
            header: [0; 9],
            have: 0,
            skip: 0,
            control_in_a_row: 0,
            block: None,
        }
    }

    /// Takes the bytes that arrived; the limit the client went over, if it did.
    fn feed(&mut self, mut bytes: &[u8]) -> Result<(), &'static str> {
        while !bytes.is_empty() {
            let n = if self.preface_left > 0 {
                let n = self.preface_left.min(bytes.len());
                self.preface_left = self.preface_left.saturating_sub(n);
                n
            } else if self.skip > 0 {
                let n = self.skip.min(bytes.len());
                self.skip = self.skip.saturating_sub(n);
                n
            } else {
                let mut n = 0;
                for (slot, byte) in self.header.iter_mut().skip(self.have).zip(bytes) {
                    *slot = *byte;
                    n += 1;
                }
                self.have = self.have.saturating_add(n);
                if self.have == self.header.len() {
                    self.have = 0;
                    self.frame()?;
                }
                n
            };
            bytes = bytes.get(n..).unwrap_or_default();
        }
        Ok(())
    }

    /// A whole frame header is in.
    fn frame(&mut self) -> Result<(), &'static str> {
        const DATA: u8 = 0x0;
        const HEADERS: u8 = 0x1;
        const SETTINGS: u8 = 0x4;
        const PING: u8 = 0x6;
        const CONTINUATION: u8 = 0x9;
        const ACK: u8 = 0x1;
        const END_HEADERS: u8 = 0x4;
        let [l0, l1, l2, kind, flags, ..] = self.header;
        self.skip = usize::from(l0) << 16 | usize::from(l1) << 8 | usize::from(l2);
        match kind {
            DATA => self.control_in_a_row = 0,
            HEADERS => {
                self.control_in_a_row = 0;
                self.block = Some(self.skip);
            }
            CONTINUATION => self.block = self.block.map(|b| b.saturating_add(self.skip)),
            SETTINGS | PING if flags & ACK == 0 => {
                self.control_in_a_row = self.control_in_a_row.saturating_add(1);
            }
            _ => {}
        }
        if self.block.is_some_and(|b| b > MAX_HEADER_BLOCK_BYTES) {
            return Err("a header block over the header-list limit");
        }
        if matches!(kind, HEADERS | CONTINUATION) && flags & END_HEADERS != 0 {
            self.block = None;
        }
        if self.control_in_a_row > MAX_CONTROL_FRAMES_IN_A_ROW {
            return Err("too many PING or SETTINGS frames in a row");
        }
        Ok(())
    }
}

/// The limits an accepted connection lives under.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Cut the connection this long after it was accepted.
    pub cut_after: Option<Duration>,
    /// Calls the connection may have in progress at once.
    pub calls: Option<usize>,
    /// Cut the connection when nothing has arrived on it for this long, or
    /// when its preface has not arrived this long after it was accepted.
    pub idle_timeout: Option<Duration>,
    /// Follow the HTTP/2 frames (plaintext only: under TLS the bytes seen
    /// here are encrypted).
    pub watch_frames: bool,
}

/// An accepted connection: its call slots, its place under the connection
/// cap (given back when it is dropped), and two clocks that fail every read
/// and write once they run out, which ends the connection (and its calls)
/// for good: `cut_after` since it was accepted, the hard stop behind
/// `max_connection_age`'s GOAWAY for clients that ignore it; and the idle
/// clock, for connections that hold a place and say nothing.
pub(crate) struct Connection {
    io: TcpStream,
    deadline: Option<Pin<Box<Sleep>>>,
    idle: Option<(Duration, Pin<Box<Sleep>>)>,
    /// Bytes read so far, counted up to the preface's length only: until the
    /// preface is in, arriving bytes do not rewind the idle clock, so a
    /// client trickling its preface a byte at a time is still cut.
    preface_read: usize,
    watch: Option<FrameWatch>,
    slots: Option<Arc<Semaphore>>,
    calls: usize,
    _place: Option<OwnedSemaphorePermit>,
}

impl Connection {
    pub(crate) fn new(io: TcpStream, limits: Limits, place: Option<OwnedSemaphorePermit>) -> Connection {
        // Without a limit the slots are still there, too many to run out:
        // the idle clock reads them to tell whether a call is in progress.
        let calls = limits.calls.unwrap_or(Semaphore::MAX_PERMITS);
        let at = |after: Duration| Instant::now().checked_add(after);
        let deadline = limits
            .cut_after
            .and_then(at)
            .map(|at| Box::pin(tokio::time::sleep_until(at)));
        let idle = limits
            .idle_timeout
            .and_then(|after| at(after).map(|at| (after, Box::pin(tokio::time::sleep_until(at)))));
        Connection {
            io,
            deadline,
            idle,
            preface_read: 0,
            watch: limits.watch_frames.then(FrameWatch::new),
            slots: Some(Arc::new(Semaphore::new(calls))),
            calls,
            _place: place,
        }
    }

    /// Polling the timers here also arms them, so a silent connection is woken and cut.
    fn expired(&mut self, cx: &mut Context<'_>) -> Option<io::Error> {
        if self.deadline.as_mut().is_some_and(|d| d.as_mut().poll(cx).is_ready()) {
            return Some(cut("max connection age and grace elapsed"));
        }
        let busy = self.busy();
        let (after, timer) = self.idle.as_mut()?;
        if timer.as_mut().poll(cx).is_pending() {
            return None;
        }
        if busy {
            // A call in progress (a slow one, or one waiting for its
            // message) is not idleness: look again a period later.
            let at = Instant::now().checked_add(*after)?;
            timer.as_mut().reset(at);
            let _ = timer.as_mut().poll(cx);
            return None;
        }
        Some(cut("idle timeout elapsed"))
    }

    fn busy(&self) -> bool {
        self.slots
            .as_ref()
            .is_some_and(|slots| slots.available_permits() < self.calls)
    }

    /// Bytes arrived: once the preface is complete, the idle clock starts over.
    fn arrived(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        if self.preface_read < PREFACE_LEN {
            self.preface_read = self.preface_read.saturating_add(n);
            if self.preface_read < PREFACE_LEN {
                return;
            }
        }
        if let Some((after, timer)) = self.idle.as_mut() {
            if let Some(at) = Instant::now().checked_add(*after) {
                timer.as_mut().reset(at);
            }
        }
    }
}

fn cut(why: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, why)
}

impl AsyncRead for Connection {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if let Some(error) = self.expired(cx) {
            return Poll::Ready(Err(error));
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let new = buf.filled().get(before..).unwrap_or_default();
            let n = new.len();
            if let Some(watch) = self.watch.as_mut() {
                if let Err(why) = watch.feed(new) {
                    return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, why)));
                }
            }
            self.arrived(n);
        }
        polled
    }
}

impl AsyncWrite for Connection {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if let Some(error) = self.expired(cx) {
            return Poll::Ready(Err(error));
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
        if let Some(error) = self.expired(cx) {
            return Poll::Ready(Err(error));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, flags: u8, payload: usize) -> Vec<u8> {
        let mut f = vec![
            (payload >> 16) as u8,
            (payload >> 8) as u8,
            payload as u8,
            kind,
            flags,
            0,
            0,
            0,
            0,
        ];
        f.resize(9 + payload, 0xAB);
        f
    }

    #[test]
    fn control_frames_in_a_row_are_counted_across_reads() {
        let mut watch = FrameWatch::new();
        assert!(watch.feed(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").is_ok());
        let ping = frame(0x6, 0, 8);
        let ack = frame(0x6, 1, 8);
        let data = frame(0x0, 0, 300);
        for _ in 0..MAX_CONTROL_FRAMES_IN_A_ROW {
            // One byte at a time for some, to cross every boundary.
            for byte in &ping {
                assert!(watch.feed(std::slice::from_ref(byte)).is_ok());
            }
            assert!(watch.feed(&ack).is_ok(), "acknowledgements are not counted");
        }
        assert!(watch.feed(&data).is_ok(), "a DATA frame starts the count over");
        let mut burst = Vec::new();
        for _ in 0..MAX_CONTROL_FRAMES_IN_A_ROW {
            burst.extend_from_slice(&frame(0x4, 0, 6));
        }
        assert!(watch.feed(&burst).is_ok());
        assert_eq!(
            watch.feed(&ping),
            Err("too many PING or SETTINGS frames in a row"),
            "one more is one too many"
        );
    }

    #[test]
    fn a_header_block_over_the_limit_closes_the_connection() {
        const HEADERS: u8 = 0x1;
        const CONTINUATION: u8 = 0x9;
        const END_HEADERS: u8 = 0x4;
        let mut watch = FrameWatch::new();
        assert!(watch.feed(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").is_ok());
        // A block of exactly the limit, spread over CONTINUATION frames, passes,
        // and so does the next one: each block is counted on its own.
        for _ in 0..2 {
            assert!(watch.feed(&frame(HEADERS, 0, 8 * 1024)).is_ok());
            assert!(watch
                .feed(&frame(CONTINUATION, END_HEADERS, MAX_HEADER_BLOCK_BYTES - 8 * 1024))
                .is_ok());
        }
        // One byte more, in the block's last frame, is over it.
        assert!(watch.feed(&frame(HEADERS, 0, 8 * 1024)).is_ok());
        assert_eq!(
            watch.feed(&frame(CONTINUATION, END_HEADERS, MAX_HEADER_BLOCK_BYTES - 8 * 1024 + 1)),
            Err("a header block over the header-list limit")
        );
        // A single HEADERS frame over the limit too.
        let mut watch = FrameWatch::new();
        assert!(watch.feed(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").is_ok());
        assert!(watch
            .feed(&frame(HEADERS, END_HEADERS, MAX_HEADER_BLOCK_BYTES + 1))
            .is_err());
    }
}
