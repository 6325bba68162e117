//! The client socket of an HTTP-mode connection, wrapped so that faults can reach below hyper:
//! an abort turns the close into a TCP reset, and a slow close holds the FIN back.
//!
//! hyper owns the socket once a connection is served, so the request handler cannot reset it
//! directly. Instead it sets [`ConnState::abort`] and fails the request; hyper then drops the
//! connection, and this wrapper sets `SO_LINGER` to zero on the way out, which makes the
//! kernel send RST instead of FIN.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

use super::fault::Toxic;
use super::pool::Sender;
use super::stats::add;
use super::table::{chosen, FaultView};
use super::Shared;

/// What the request handlers of one connection share with its socket.
pub struct ConnState {
    pub seed: u64,
    /// Set by a handler that resets the connection.
    pub abort: AtomicBool,
    /// This connection's cached view of the fault set.
    pub view: Mutex<FaultView>,
    /// The upstream connection this client connection used last, and the server it goes to
    /// (always 0 without a splitter; see [`super::pool`]).
    upstream: Mutex<Option<(usize, Sender)>>,
    /// A splitting proxy: this connection's cached schedule ([`super::split`]).
    pub split: Mutex<Option<Arc<super::split::SplitSet>>>,
    /// Cleared when the client connection ends; its upstream connection then goes to the pool.
    open: AtomicBool,
}

impl ConnState {
    pub fn new(shared: &Shared) -> ConnState {
        ConnState {
            seed: rand::random(),
            abort: AtomicBool::new(false),
            view: Mutex::new(FaultView::new(&shared.table)),
            upstream: Mutex::new(None),
            split: Mutex::new(None),
            open: AtomicBool::new(true),
        }
    }

    /// This connection's own upstream connection to `server`, if it has one still open.
    pub fn take_upstream(&self, server: usize) -> Option<Sender> {
        let mut slot = self.upstream.lock().unwrap_or_else(|e| e.into_inner());
        if slot.as_ref().is_some_and(|(s, _)| *s != server) {
            return None;
        }
        slot.take().map(|(_, s)| s).filter(|s| !s.is_closed())
    }

    /// Keeps `sender` (to `server`) for this connection's next request; gives it back when
    /// the connection has ended or already keeps one (HTTP/2 streams in parallel, or another
    /// server's under a splitter).
    pub fn keep_upstream(&self, server: usize, sender: Sender) -> Option<Sender> {
        if !self.open.load(Ordering::Acquire) {
            return Some(sender);
        }
        let mut slot = self.upstream.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_some() {
            return Some(sender);
        }
        *slot = Some((server, sender));
        None
    }

    /// The client connection ended: its upstream connection and its server, for the pool.
    pub fn close(&self) -> Option<(usize, Sender)> {
        self.open.store(false, Ordering::Release);
        self.upstream
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .filter(|(_, s)| !s.is_closed())
    }
}

pub struct ProxyIo {
    stream: TcpStream,
    conn: Arc<ConnState>,
    shared: Arc<Shared>,
    closing: Option<Pin<Box<Sleep>>>,
    close_checked: bool,
    /// Bytes already read (and counted) by the HTTP/1.1 path, served again before the
    /// socket's: hyper takes over a connection in the middle ([`super::h1`]).
    replay: bytes::Bytes,
}

impl ProxyIo {
    pub fn new(stream: TcpStream, conn: Arc<ConnState>, shared: Arc<Shared>) -> ProxyIo {
        ProxyIo {
            stream,
            conn,
            shared,
            closing: None,
            close_checked: false,
            replay: bytes::Bytes::new(),
        }
    }

    /// Serves `bytes` to the next reads, before anything more from the socket.
    pub fn replay(&mut self, bytes: &[u8]) {
        self.replay = bytes::Bytes::copy_from_slice(bytes);
    }

    /// Marks the connection for a reset: dropping it then sends RST instead of FIN.
    pub fn abort(&self) {
        self.conn.abort.store(true, Ordering::Release);
    }

    fn slow_close(&self) -> Option<Duration> {
        let mut view = self.conn.view.lock().unwrap_or_else(|e| e.into_inner());
        view.refresh(&self.shared.table);
        let mut delay: Option<Duration> = None;
        for fault in &view.set.faults {
            for (i, toxic) in fault.spec.toxics.iter().enumerate() {
                if let Toxic::SlowClose { delay: d } = toxic {
                    if chosen(self.conn.seed, fault.id, i as u64, fault.spec.toxicity) {
                        delay = Some(delay.unwrap_or_default().max(*d));
                    }
                }
            }
        }
        delay
    }
}

impl Drop for ProxyIo {
    fn drop(&mut self) {
        if self.conn.abort.load(Ordering::Acquire) {
            let _ = self.stream.set_zero_linger();
        }
    }
}

impl AsyncRead for ProxyIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.replay.is_empty() {
            let n = self.replay.len().min(buf.remaining());
            let head = self.replay.split_to(n);
            buf.put_slice(&head);
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        if n > 0 {
            add(&self.shared.counters.bytes_to_upstream, n as u64);
        }
        polled
    }
}

impl AsyncWrite for ProxyIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            add(&self.shared.counters.bytes_to_client, n as u64);
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = polled {
            add(&self.shared.counters.bytes_to_client, n as u64);
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.close_checked {
            self.close_checked = true;
            if let Some(delay) = self.slow_close() {
                self.closing = Some(Box::pin(tokio::time::sleep(delay)));
            }
        }
        if let Some(sleep) = self.closing.as_mut() {
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.closing = None;
        }
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
