//! The chaos engine against real parts on 127.0.0.1: a real HTTP server behind the fault
//! proxy, real child processes for process faults, the `res` binary for the journal.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use res::chaos::proxy::{
    FaultSpec, HttpMatcher, Proxy, ProxyHandle, ProxyMode, RoutePattern, Toxic,
};
use res::chaos::ChaosError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

// ---------------------------------------------------------------- a real upstream

/// A small HTTP server: `/n/{bytes}` answers that many bytes, anything else `ok METHOD PATH`.
struct Upstream {
    addr: SocketAddr,
    served: Arc<AtomicU64>,
}

async fn upstream() -> Upstream {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind upstream");
    let addr = listener.local_addr().expect("addr");
    let served = Arc::new(AtomicU64::new(0));
    let count = served.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let count = count.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                    count.fetch_add(1, Ordering::Relaxed);
                    async move {
                        let path = req.uri().path().to_string();
                        let body = match path.strip_prefix("/n/") {
                            Some(n) => Bytes::from(vec![b'x'; n.parse().unwrap_or(0)]),
                            None => Bytes::from(format!("ok {} {}", req.method(), path)),
                        };
                        Ok::<_, std::convert::Infallible>(Response::new(Full::new(body)))
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Upstream { addr, served }
}

// ---------------------------------------------------------------- a client

struct Answer {
    status: u16,
    len: usize,
    fault: Option<String>,
}

/// One keep-alive HTTP/1.1 connection.
struct Client {
    sender: SendRequest<Full<Bytes>>,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Result<Client, String> {
        let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        Ok(Client { sender })
    }

    async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<Answer, String> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "test");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(Full::new(Bytes::new()))
            .map_err(|e| e.to_string())?;
        self.sender.ready().await.map_err(|e| e.to_string())?;
        let resp = self
            .sender
            .send_request(req)
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let fault = resp
            .headers()
            .get("x-res-fault")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok(Answer {
            status,
            len: body.len(),
            fault,
        })
    }
}

/// A request on a fresh connection.
async fn get(addr: SocketAddr, path: &str) -> Result<Answer, String> {
    Client::connect(addr).await?.send("GET", path, &[]).await
}

async fn timed_get(addr: SocketAddr, path: &str) -> (Duration, Result<Answer, String>) {
    let t = Instant::now();
    let r = get(addr, path).await;
    (t.elapsed(), r)
}

fn latency(ms: u64, jitter: u64) -> Toxic {
    Toxic::Latency {
        latency: Duration::from_millis(ms),
        jitter: Duration::from_millis(jitter),
        per_chunk: false,
    }
}

async fn proxy(up: &Upstream, mode: ProxyMode) -> ProxyHandle {
    Proxy::start("127.0.0.1:0".parse().unwrap(), up.addr, mode)
        .await
        .expect("start proxy")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Sends raw bytes and reads until EOF: the bytes, or the error that ended the read.
async fn raw(
    addr: SocketAddr,
    request: &str,
    limit: Duration,
) -> (Duration, Result<Vec<u8>, std::io::ErrorKind>) {
    let t = Instant::now();
    let attempt = async {
        let mut s = TcpStream::connect(addr).await.map_err(|e| e.kind())?;
        s.write_all(request.as_bytes())
            .await
            .map_err(|e| e.kind())?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.map_err(|e| e.kind())?;
        Ok(out)
    };
    let r = match tokio::time::timeout(limit, attempt).await {
        Ok(r) => r,
        Err(_) => Err(std::io::ErrorKind::TimedOut),
    };
    (t.elapsed(), r)
}

const CLOSE_REQ: &str = "GET /n/10 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

// ---------------------------------------------------------------- proxy: latency

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_shifts_small_and_large_bodies_once_in_both_modes() {
    let up = upstream().await;
    for mode in [ProxyMode::Tcp, ProxyMode::Http] {
        let p = proxy(&up, mode).await;
        let (base, r) = timed_get(p.addr(), "/n/1048576").await;
        assert_eq!(r.expect("plain").len, 1 << 20);
        p.add_fault(FaultSpec::new("slow", vec![latency(100, 0)]))
            .unwrap();
        for path in ["/n/1024", "/n/1048576"] {
            let (took, r) = timed_get(p.addr(), path).await;
            let a = r.expect("through latency");
            assert_eq!(a.status, 200);
            assert!(
                ms(took) >= 99.0 && ms(took) < 100.0 + ms(base) + 60.0,
                "{mode:?} {path}: took {:.1} ms, want ≈ 100 ms (+ {:.1} ms transfer)",
                ms(took),
                ms(base)
            );
        }
        p.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_chunk_latency_and_jitter_stay_in_bounds() {
    let up = upstream().await;
    let p = proxy(&up, ProxyMode::Http).await;
    p.add_fault(FaultSpec::new(
        "chunks",
        vec![Toxic::Latency {
            latency: Duration::from_millis(60),
            jitter: Duration::from_millis(20),
            per_chunk: true,
        }],
    ))
    .unwrap();
    for _ in 0..10 {
        let (took, r) = timed_get(p.addr(), "/n/300000").await;
        assert_eq!(r.expect("answer").len, 300000);
        assert!(
            ms(took) >= 39.0 && ms(took) < 140.0,
            "took {:.1} ms",
            ms(took)
        );
    }
}
