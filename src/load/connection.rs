//! One owned HTTP connection: connect (DNS, TCP with `TCP_NODELAY`, TLS), and
//! request/response exchanges over it.
//!
//! Plain `http://` HTTP/1.1 targets use the load generator's own client ([`Http1`]); HTTP/2
//! and TLS use hyper, as does HTTP/1.1 when `RES_LOAD_CLIENT=hyper` is set (to compare the
//! two in benchmarks).
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
use super::http1::Http1;
use super::request::{Body, CompiledRequest, Rendered};
use super::spec::{Protocol, Workload};
use super::stream::Stream;
use super::target::Target;

type Driver = Pin<Box<dyn Future<Output = Result<(), hyper::Error>> + Send>>;

enum Sender {
    H1(http1::SendRequest<Body>),
    H2(http2::SendRequest<Body>),
}

/// A connection on either path.
pub(crate) enum Connection {
    Own(Box<Http1>),
    Hyper(HyperConn),
}

pub(crate) struct HyperConn {
    sender: Sender,
    driver: Option<Driver>,
}

/// True unless `RES_LOAD_CLIENT=hyper` asks for hyper on HTTP/1.1 too (read once).
fn own_http1() -> bool {
    static OWN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *OWN.get_or_init(|| std::env::var("RES_LOAD_CLIENT").map_or(true, |v| v != "hyper"))
}

/// What came back.
pub(crate) struct Response {
    pub status: u16,
}

/// Why pipelining cannot be used for this run, if it cannot.
pub(crate) fn can_pipeline(target: &Target, workload: &Workload) -> Result<(), String> {
    match workload {
        Workload::Closed { think: None, .. } => {}
        _ => return Err("pipelining needs the closed model without think time".into()),
    }
    if target.protocol != Protocol::Http1 || target.tls.is_some() || !own_http1() {
        return Err("pipelining needs a plain http:// HTTP/1.1 target".into());
    }
    Ok(())
}

impl Connection {
    /// Connects to the target. Callers bound the time with their request deadline.
    pub async fn open(target: &Target) -> Result<Connection, ErrorKind> {
        let addr = resolve(target).await?;
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| ErrorKind::from_io(&e))?;
        let _ = tcp.set_nodelay(true);
        if target.protocol == Protocol::Http1 && target.tls.is_none() && own_http1() {
            return Ok(Connection::Own(Box::new(Http1::new(tcp))));
        }
        HyperConn::open(target, tcp).await.map(Connection::Hyper)
    }

    /// False once the peer closed the connection or an exchange broke it.
    pub fn is_open(&mut self) -> bool {
        match self {
            Connection::Own(c) => c.is_open(),
            Connection::Hyper(c) => c.is_open(),
        }
    }

    /// Sends the request and reads the whole response, counting at most `limit` body bytes.
    pub async fn exchange(
        &mut self,
        req: &CompiledRequest,
        rendered: Option<Rendered>,
        limit: u64,
    ) -> Result<Response, ErrorKind> {
        match self {
            Connection::Own(c) => {
                match req.wire(rendered, &mut c.scratch) {
                    Some(wire) => c.send(wire).await?,
                    None => c.send_scratch().await?,
                }
                let status = c.receive(req.is_head(), limit).await?;
                Ok(Response { status })
            }
            Connection::Hyper(c) => c.exchange(req.build(rendered), limit).await,
        }
    }
}

impl HyperConn {
    async fn open(target: &Target, tcp: TcpStream) -> Result<HyperConn, ErrorKind> {
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
        Ok(HyperConn {
            sender,
            driver: Some(driver),
        })
    }

    fn is_open(&self) -> bool {
        self.driver.is_some()
            && match &self.sender {
                Sender::H1(s) => !s.is_closed(),
                Sender::H2(s) => !s.is_closed(),
            }
    }

    /// Sends `req` and reads the whole response body, counting at most `limit` bytes.
    async fn exchange(&mut self, req: Request<Body>, limit: u64) -> Result<Response, ErrorKind> {
        let HyperConn { sender, driver } = self;
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

pub(crate) async fn resolve(target: &Target) -> Result<SocketAddr, ErrorKind> {
    if let Ok(ip) = target.host.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, target.port));
    }
    let mut addrs = tokio::net::lookup_host((target.host.as_str(), target.port))
        .await
        .map_err(|_| ErrorKind::Dns)?;
    addrs.next().ok_or(ErrorKind::Dns)
}
