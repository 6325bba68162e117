//! Keep-alive HTTP/1.1 connections from an HTTP-mode proxy to its upstream.
//!
//! A request uses the upstream connection its client connection used last, else an idle one
//! from the pool, else a new one; its response body gives the connection back once the last
//! byte has been read ([`Lease`]). A connection whose body was abandoned half-way cannot carry
//! another request and is closed instead. Keeping a keep-alive client on one upstream
//! connection matters: a connection left idle longer than its retransmission timeout
//! restarts TCP slow start, which showed up as 200 ms answers under a 100 ms latency fault
//! with a shared last-in-first-out pool. Closed client connections hand theirs to the pool,
//! so new clients reuse warm upstream connections.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::http_body::ProxyBody;
use super::io::ConnState;
use super::CONNECT_TIMEOUT;

/// Idle connections kept; beyond this they are closed.
const MAX_IDLE: usize = 512;

pub type Sender = SendRequest<ProxyBody>;

/// Why no upstream connection could be had.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot connect to upstream {addr}: {source}")]
    Connect { addr: SocketAddr, source: io::Error },
    #[error("upstream {addr} did not accept a connection within {CONNECT_TIMEOUT:?}")]
    Timeout { addr: SocketAddr },
    #[error("HTTP handshake with upstream {addr} failed: {source}")]
    Handshake {
        addr: SocketAddr,
        source: hyper::Error,
    },
}

#[derive(Debug)]
pub struct Pool {
    upstream: SocketAddr,
    idle: Mutex<Vec<Sender>>,
    /// Idle plain sockets of the HTTP/1.1 forwarding path ([`super::h1`]).
    raw: Mutex<Vec<TcpStream>>,
}

impl Pool {
    pub fn new(upstream: SocketAddr) -> Pool {
        Pool {
            upstream,
            idle: Mutex::new(Vec::new()),
            raw: Mutex::new(Vec::new()),
        }
    }

    /// An idle socket of the forwarding path that the server has not closed meanwhile.
    pub fn take_raw(&self) -> Option<TcpStream> {
        let mut idle = self.raw.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(stream) = idle.pop() {
            if still_open(&stream) {
                return Some(stream);
            }
        }
        None
    }

    pub fn put_raw(&self, stream: TcpStream) {
        let mut idle = self.raw.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(stream);
        }
    }

    /// A new TCP connection to the upstream, without delay on small writes.
    pub async fn connect_tcp(&self) -> Result<TcpStream, ConnectError> {
        let addr = self.upstream;
        let stream = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(source)) => return Err(ConnectError::Connect { addr, source }),
            Err(_) => return Err(ConnectError::Timeout { addr }),
        };
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }

    /// An idle connection ready for a request, if any (`true`: it was reused).
    pub fn take(&self) -> Option<Sender> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(sender) = idle.pop() {
            if !sender.is_closed() {
                return Some(sender);
            }
        }
        None
    }

    pub fn put(&self, sender: Sender) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(sender);
        }
    }

    pub fn clear(&self) {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.raw.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    pub async fn connect(&self) -> Result<Sender, ConnectError> {
        let addr = self.upstream;
        let stream = self.connect_tcp().await?;
        let (sender, connection) = http1::Builder::new()
            .max_buf_size(super::http::MAX_BUF)
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|source| ConnectError::Handshake { addr, source })?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }
}

/// Whether an idle socket is still open: nothing to read yet (an end, an error or bytes
/// nobody asked for retire it).
pub fn still_open(stream: &TcpStream) -> bool {
    let mut probe = [0u8; 1];
    matches!(stream.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

/// A borrowed connection, given back when the response body has been read to the end —
/// to the client connection it served if that is still open (so a keep-alive client keeps
/// its upstream connection, as in TCP mode), else to the pool — and closed if it is dropped
/// before.
pub struct Lease {
    shared: Arc<super::Shared>,
    conn: Arc<ConnState>,
    /// The server the connection goes to (0 without a splitter).
    server: usize,
    sender: Option<Sender>,
}

impl Lease {
    pub fn new(
        shared: Arc<super::Shared>,
        conn: Arc<ConnState>,
        server: usize,
        sender: Sender,
    ) -> Lease {
        Lease {
            shared,
            conn,
            server,
            sender: Some(sender),
        }
    }

    /// The body ended cleanly: the connection can carry the next request.
    pub fn release(&mut self) {
        if let Some(sender) = self.sender.take() {
            if let Some(sender) = self.conn.keep_upstream(self.server, sender) {
                self.shared.pool_of(self.server).put(sender);
            }
        }
    }
}
