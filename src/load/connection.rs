//! One owned HTTP connection: connect (DNS, TCP with `TCP_NODELAY`, TLS), the hyper
//! handshake, and request/response exchanges over it.
//!
//! The hyper connection future is not spawned as a task of its own: each exchange polls it
//! alongside the response, in the worker's task. That saves two cross-task wake-ups per
//! request in the closed loop, and means a worker that is not sending has nothing running.
//! A connection whose exchange fails (other than with an unexpected status) is dropped; the
//! worker connects again for its next request.

use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::Poll;

use http_body_util::BodyExt;
use hyper::client::conn::{http1, http2};
use hyper::header::CONTENT_LENGTH;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;

use super::error_kind::ErrorKind;
use super::request::Body;
use super::spec::Protocol;
use super::stream::Stream;
use super::target::Target;

type Driver = Pin<Box<dyn Future<Output = Result<(), hyper::Error>> + Send>>;

enum Sender {
    H1(http1::SendRequest<Body>),
    H2(http2::SendRequest<Body>),
}

pub(crate) struct Connection {
    sender: Sender,
    driver: Option<Driver>,
}

/// What came back.
pub(crate) struct Response {
    pub status: u16,
}

impl Connection {
    /// Connects to the target. Callers bound the time with their request deadline.
    pub async fn open(target: &Target) -> Result<Connection, ErrorKind> {
        let addr = resolve(target).await?;
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| ErrorKind::from_io(&e))?;
        let _ = tcp.set_nodelay(true);
        let stream = match &target.tls {
            None => Stream::Plain(tcp),
            Some((connector, name)) => {
                let tls =
                    connector.connect(name.clone(), tcp).await.map_err(
                        |e| match ErrorKind::from_io(&e) {
                            ErrorKind::Timeout => ErrorKind::Timeout,
                            _ => ErrorKind::Tls,
                        },
                    )?;
                Stream::Tls(Box::new(tls))
            }
        };
        let io = TokioIo::new(stream);
        let (sender, driver): (Sender, Driver) = match target.protocol {
            Protocol::Http1 => {
                let (s, c) = http1::Builder::new()
                    .handshake(io)
                    .await
                    .map_err(|e| ErrorKind::from_hyper(&e))?;
                (Sender::H1(s), Box::pin(c))
            }
            Protocol::Http2 => {
                let (s, c) = http2::Builder::new(TokioExecutor::new())
                    .timer(TokioTimer::new())
                    .handshake(io)
                    .await
                    .map_err(|e| ErrorKind::from_hyper(&e))?;
                (Sender::H2(s), Box::pin(c))
            }
        };
        Ok(Connection {
            sender,
            driver: Some(driver),
        })
    }

    /// False once the peer closed the connection or an exchange broke it.
    pub fn is_open(&self) -> bool {
        self.driver.is_some()
            && match &self.sender {
                Sender::H1(s) => !s.is_closed(),
                Sender::H2(s) => !s.is_closed(),
            }
    }

    /// Sends `req` and reads the whole response body, counting at most `limit` bytes.
    pub async fn exchange(
        &mut self,
        req: Request<Body>,
        limit: u64,
    ) -> Result<Response, ErrorKind> {
        let Connection { sender, driver } = self;
        let exchange = async move {
            let resp = match sender {
                Sender::H1(s) => {
                    s.ready().await.map_err(|e| ErrorKind::from_hyper(&e))?;
                    s.send_request(req).await
                }
                Sender::H2(s) => {
                    s.ready().await.map_err(|e| ErrorKind::from_hyper(&e))?;
                    s.send_request(req).await
                }
            }
            .map_err(|e| ErrorKind::from_hyper(&e))?;
            let status = resp.status().as_u16();
            let declared = resp
                .headers()
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if declared.is_some_and(|n| n > limit) {
                return Err(ErrorKind::BodyTooLarge);
            }
            let mut body = resp.into_body();
            let mut read = 0u64;
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| ErrorKind::from_hyper(&e))?;
                if let Some(data) = frame.data_ref() {
                    read += data.len() as u64;
                    if read > limit {
                        return Err(ErrorKind::BodyTooLarge);
                    }
                }
            }
            Ok(Response { status })
        };
        let mut exchange = std::pin::pin!(exchange);
        let mut ended: Option<Result<(), hyper::Error>> = None;
        let result = poll_fn(|cx| {
            if let Some(d) = driver.as_mut() {
                if let Poll::Ready(r) = d.as_mut().poll(cx) {
                    // Dropping the driver fails whatever is still waiting on it, so the
                    // exchange cannot hang on a connection that has ended.
                    *driver = None;
                    ended = Some(r);
                }
            }
            exchange.as_mut().poll(cx)
        })
        .await;
        match (result, ended) {
            (Ok(r), _) => Ok(r),
            (Err(ErrorKind::Reset | ErrorKind::Other), Some(Err(e))) => {
                Err(ErrorKind::from_hyper(&e))
            }
            (Err(kind), _) => Err(kind),
        }
    }
}

async fn resolve(target: &Target) -> Result<SocketAddr, ErrorKind> {
    if let Ok(ip) = target.host.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, target.port));
    }
    let mut addrs = tokio::net::lookup_host((target.host.as_str(), target.port))
        .await
        .map_err(|_| ErrorKind::Dns)?;
    addrs.next().ok_or(ErrorKind::Dns)
}
