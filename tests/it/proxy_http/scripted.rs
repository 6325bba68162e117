//! The real parts of the forwarding-path tests: a scripted HTTP/1.1 server on 127.0.0.1 that
//! records what it gets and answers each path with a chosen framing in 7-byte pieces, and a
//! raw client that reads responses (chunked bodies decoded) from a kept connection.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use res::chaos::proxy::{Proxy, ProxyHandle, ProxyMode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub(super) const LIMIT: Duration = Duration::from_secs(5);

/// A request as the scripted server received it.
#[derive(Debug, Clone)]
pub(super) struct Seen {
    pub head: String,
    pub body: Vec<u8>,
}

pub(super) struct Up {
    pub addr: SocketAddr,
    pub accepted: Arc<AtomicU64>,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

/// The answer to a request for `path`, and whether the server closes after it.
pub(super) fn reply(path: &str) -> (Vec<u8>, bool) {
    let r: &[u8] = match path {
        "/len" => b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Up: a\r\n\r\nhello",
        "/chunked" => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
        // What a server answers to HEAD /len: the length, no body.
        "/head-len" => b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
        "/204" => b"HTTP/1.1 204 No Content\r\n\r\n",
        "/304" => b"HTTP/1.1 304 Not Modified\r\nETag: \"e\"\r\n\r\n",
        "/interim" => b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        "/hop" => b"HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Up-Hop\r\nX-Up-Hop: 1\r\nKeep-Alive: timeout=5\r\nContent-Length: 3\r\n\r\nhop",
        "/close" => return (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nbye!!".to_vec(), true),
        "/until-close" => return (b"HTTP/1.1 200 OK\r\n\r\nall of it until the end".to_vec(), true),
        // Keep-alive by its head, closed right after: the proxy's kept connection goes stale.
        "/silent-close" => {
            return (
                b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngone".to_vec(),
                true,
            )
        }
        "/garbage" => b"HTTP/1.1 abc\r\n\r\n",
        "/nothing" => return (Vec::new(), true),
        "/short" => return (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".to_vec(), true),
        "/bad-chunk" => return (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n".to_vec(), true),
        "/two-lengths" => b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        _ => {
            let body = format!("path {path}");
            return (
                format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes(),
                false,
            );
        }
    };
    (r.to_vec(), false)
}

/// Reads until `done` says how many bytes of `buf` a complete item takes.
pub(super) async fn fill(
    tcp: &mut TcpStream,
    buf: &mut Vec<u8>,
    done: impl Fn(&[u8]) -> Option<usize>,
) -> Option<usize> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(n) = done(buf) {
            return Some(n);
        }
        match tcp.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

pub(super) fn line(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n").map(|i| i + 2)
}

pub(super) async fn upstream() -> Up {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicU64::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (a, s) = (accepted.clone(), seen.clone());
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            a.fetch_add(1, Ordering::Relaxed);
            let s = s.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    let Some(n) = fill(&mut tcp, &mut buf, |b| {
                        b.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
                    })
                    .await
                    else {
                        return;
                    };
                    let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                    buf.drain(..n);
                    let lower = head.to_ascii_lowercase();
                    let mut body = Vec::new();
                    if lower.contains("transfer-encoding: chunked") {
                        loop {
                            let Some(l) = fill(&mut tcp, &mut buf, line).await else {
                                return;
                            };
                            let size = match httparse::parse_chunk_size(&buf[..l]) {
                                Ok(httparse::Status::Complete((_, size))) => size as usize,
                                _ => return,
                            };
                            buf.drain(..l);
                            if size == 0 {
                                // Trailers, up to the empty line.
                                loop {
                                    let Some(l) = fill(&mut tcp, &mut buf, line).await else {
                                        return;
                                    };
                                    buf.drain(..l);
                                    if l == 2 {
                                        break;
                                    }
                                }
                                break;
                            }
                            let need = size + 2;
                            if fill(&mut tcp, &mut buf, |b| (b.len() >= need).then_some(need))
                                .await
                                .is_none()
                            {
                                return;
                            }
                            body.extend_from_slice(&buf[..size]);
                            buf.drain(..need);
                        }
                    } else if let Some(len) = lower
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length: "))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                    {
                        if fill(&mut tcp, &mut buf, |b| (b.len() >= len).then_some(len))
                            .await
                            .is_none()
                        {
                            return;
                        }
                        body = buf.drain(..len).collect();
                    }
                    let path = head.split(' ').nth(1).unwrap_or("/").to_string();
                    s.lock().unwrap().push(Seen { head, body });
                    let (answer, close) = reply(&path);
                    for piece in answer.chunks(7) {
                        if tcp.write_all(piece).await.is_err() {
                            return;
                        }
                        tokio::time::sleep(Duration::from_micros(200)).await;
                    }
                    if close {
                        return;
                    }
                }
            });
        }
    });
    Up {
        addr,
        accepted,
        seen,
    }
}

pub(super) async fn proxy(up: &Up) -> ProxyHandle {
    Proxy::start("127.0.0.1:0".parse().unwrap(), up.addr, ProxyMode::Http)
        .await
        .expect("proxy starts")
}

/// A response as the client read it (chunked bodies decoded).
#[derive(Debug)]
pub(super) struct Resp {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

/// A raw client connection with its read buffer.
pub(super) struct Client {
    tcp: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub(super) async fn connect(addr: SocketAddr) -> Client {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let _ = tcp.set_nodelay(true);
        Client {
            tcp,
            buf: Vec::new(),
        }
    }

    /// Writes `wire` in pieces of `step` bytes, a little apart.
    pub(super) async fn send(&mut self, wire: &[u8], step: usize) {
        for piece in wire.chunks(step) {
            self.tcp.write_all(piece).await.unwrap();
            if step < wire.len() {
                tokio::time::sleep(Duration::from_micros(300)).await;
            }
        }
    }

    /// The next response, `None` when the connection ended first.
    pub(super) async fn read(&mut self, head_request: bool) -> Option<Resp> {
        tokio::time::timeout(LIMIT, self.read_inner(head_request))
            .await
            .expect("an answer or a close within 5 s")
    }

    async fn read_inner(&mut self, head_request: bool) -> Option<Resp> {
        let tcp = &mut self.tcp;
        let buf = &mut self.buf;
        let n = fill(tcp, buf, |b| {
            b.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
        })
        .await?;
        let head = String::from_utf8_lossy(&buf[..n]).into_owned();
        buf.drain(..n);
        let status = head.get(9..12)?.parse().ok()?;
        let lower = head.to_ascii_lowercase();
        let mut body = Vec::new();
        if head_request || status == 204 || status == 304 {
        } else if lower.contains("transfer-encoding: chunked") {
            loop {
                let l = fill(tcp, buf, line).await?;
                let Ok(httparse::Status::Complete((_, size))) =
                    httparse::parse_chunk_size(&buf[..l])
                else {
                    return None;
                };
                buf.drain(..l);
                if size == 0 {
                    loop {
                        let l = fill(tcp, buf, line).await?;
                        buf.drain(..l);
                        if l == 2 {
                            break;
                        }
                    }
                    break;
                }
                let need = size as usize + 2;
                fill(tcp, buf, |b| (b.len() >= need).then_some(need)).await?;
                body.extend_from_slice(&buf[..need - 2]);
                buf.drain(..need);
            }
        } else if let Some(len) = lower
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .and_then(|v| v.trim().parse::<usize>().ok())
        {
            fill(tcp, buf, |b| (b.len() >= len).then_some(len)).await?;
            body = buf.drain(..len).collect();
        } else {
            tcp.read_to_end(buf).await.ok()?;
            body = std::mem::take(buf);
        }
        Some(Resp { status, head, body })
    }

    /// Whether the proxy closed the connection (EOF or reset) with nothing more to read.
    pub(super) async fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        let r = tokio::time::timeout(LIMIT, self.tcp.read_to_end(&mut rest)).await;
        matches!(r, Ok(Ok(_)) | Ok(Err(_))) && rest.is_empty()
    }
}

pub(super) fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").into_bytes()
}
