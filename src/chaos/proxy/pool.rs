//! Keep-alive HTTP/1.1 connections from an HTTP-mode proxy to its upstream.
//!
//! A request borrows an idle connection (or opens one), and its response body gives the
//! connection back once the last byte has been read ([`Lease`]); a connection whose body was
//! abandoned half-way cannot carry another request and is closed instead. New client
//! connections therefore usually reuse warm upstream connections.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::http_body::ProxyBody;
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
}

impl Pool {
    pub fn new(upstream: SocketAddr) -> Pool {
        Pool {
            upstream,
            idle: Mutex::new(Vec::new()),
        }
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
    }

    pub async fn connect(&self) -> Result<Sender, ConnectError> {
        let addr = self.upstream;
        let stream = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(source)) => return Err(ConnectError::Connect { addr, source }),
            Err(_) => return Err(ConnectError::Timeout { addr }),
        };
        let _ = stream.set_nodelay(true);
        let (sender, connection) = http1::Builder::new()
            .max_buf_size(std::env::var("RES_XBUF").ok().and_then(|v| v.parse().ok()).unwrap_or(super::http::MAX_BUF))
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|source| ConnectError::Handshake { addr, source })?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }
}

/// A borrowed connection, returned to the pool when the response body has been read to the
/// end, closed if it is dropped before.
pub struct Lease {
    pool: Arc<super::Shared>,
    sender: Option<Sender>,
}

impl Lease {
    pub fn new(pool: Arc<super::Shared>, sender: Sender) -> Lease {
        Lease {
            pool,
            sender: Some(sender),
        }
    }

    /// The body ended cleanly: the connection can carry the next request.
    pub fn release(&mut self) {
        if let Some(sender) = self.sender.take() {
            self.pool.pool.put(sender);
        }
    }
}
