//! Checkout's HTTP client for payments: real TCP, HTTP/1.1, a keep-alive pool of its own.
//!
//! Checkout reaches payments the way a production service would, over a socket to an
//! address it was configured with, so that the chaos engine can put its fault proxy on that
//! path and every fault (latency, resets, refused connections) reaches checkout for real.
//! Idle connections are kept for reuse; a request that could not even be written on a
//! reused connection (the server closed it meanwhile) is retried once on a fresh one. The
//! whole call, connect included, is bounded by the payments timeout.

use std::io;
use std::net::SocketAddr;
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;

use super::MAX_BODY_BYTES;

/// Idle connections kept per client; more than checkout has workers is pointless.
const MAX_IDLE: usize = 64;

/// Why a payments call failed.
#[derive(Debug, thiserror::Error)]
pub enum PaymentsError {
    /// No TCP connection could be made (refused, unreachable).
    #[error("cannot connect to payments at {addr}: {source}")]
    Connect { addr: SocketAddr, source: io::Error },
    /// The connection broke or spoke something other than HTTP.
    #[error("payments call failed: {0}")]
    Http(#[from] hyper::Error),
    /// Payments answered, with a status other than 2xx.
    #[error("payments answered {0}")]
    Status(StatusCode),
    /// No complete answer within the timeout.
    #[error("payments did not answer within {0:?}")]
    Timeout(Duration),
}

pub struct PaymentsClient {
    upstream: RwLock<SocketAddr>,
    idle: Mutex<Vec<Idle>>,
    timeout: Duration,
}

struct Idle {
    addr: SocketAddr,
    sender: SendRequest<Full<Bytes>>,
}

impl PaymentsClient {
    pub fn new(upstream: SocketAddr, timeout: Duration) -> PaymentsClient {
        PaymentsClient {
            upstream: RwLock::new(upstream),
            idle: Mutex::new(Vec::new()),
            timeout,
        }
    }

    pub fn upstream(&self) -> SocketAddr {
        *self.upstream.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_upstream(&self, upstream: SocketAddr) {
        *self.upstream.write().unwrap_or_else(|e| e.into_inner()) = upstream;
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// `POST /payments` with a JSON body; the response body on a 2xx answer.
    pub async fn charge(&self, body: Bytes) -> Result<Bytes, PaymentsError> {
        match tokio::time::timeout(self.timeout, self.charge_untimed(body)).await {
            Ok(result) => result,
            Err(_) => Err(PaymentsError::Timeout(self.timeout)),
        }
    }

    async fn charge_untimed(&self, body: Bytes) -> Result<Bytes, PaymentsError> {
        let addr = self.upstream();
        let mut request = payment_request(addr, body);
        let (mut sender, reused) = match self.take_idle(addr) {
            Some(sender) => (sender, true),
            None => (connect(addr).await?, false),
        };
        let response = match sender.try_send_request(request).await {
            Ok(response) => response,
            Err(mut e) => match e.take_message() {
                Some(unsent) if reused => {
                    request = unsent;
                    sender = connect(addr).await?;
                    sender.send_request(request).await?
                }
                _ => return Err(e.into_error().into()),
            },
        };
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_BODY_BYTES)
            .collect()
            .await
            .map(|c| c.to_bytes());
        // Only a connection whose answer was read to the end can carry the next request.
        if let Ok(body) = body {
            self.put_idle(addr, sender);
            if status.is_success() {
                return Ok(body);
            }
        }
        Err(PaymentsError::Status(status))
    }

    fn take_idle(&self, addr: SocketAddr) -> Option<SendRequest<Full<Bytes>>> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(conn) = idle.pop() {
            if conn.addr == addr && !conn.sender.is_closed() && conn.sender.is_ready() {
                return Some(conn.sender);
            }
        }
        None
    }

    fn put_idle(&self, addr: SocketAddr, sender: SendRequest<Full<Bytes>>) {
        if sender.is_closed() || addr != self.upstream() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(Idle { addr, sender });
        }
    }
}

fn payment_request(addr: SocketAddr, body: Bytes) -> Request<Full<Bytes>> {
    let mut request = Request::new(Full::new(body));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = hyper::Uri::from_static("/payments");
    let host = addr.to_string();
    if let Ok(host) = host.parse() {
        request.headers_mut().insert(HOST, host);
    }
    request.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    request
}

async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>, PaymentsError> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|source| PaymentsError::Connect { addr, source })?;
    let _ = stream.set_nodelay(true);
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    // The connection task ends when the sender is dropped or the peer closes.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}
