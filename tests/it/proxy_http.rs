//! Conformance of the HTTP-mode fault proxy's own HTTP/1.1 forwarding path against a
//! scripted server: a real TCP listener on 127.0.0.1 that records every request it gets and
//! answers with the framing each path asks for (content-length, chunked with extensions and
//! trailers, HEAD, 1xx, 204, 304, `Connection: close`, a body until close), written in small
//! pieces so that every head and body arrives split across reads; and malformed answers,
//! which must give `502` or a cut connection — never a hang or a panic.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use res::chaos::proxy::{FaultSpec, HttpMatcher, Proxy, ProxyHandle, ProxyMode, Toxic};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const LIMIT: Duration = Duration::from_secs(5);

/// A request as the scripted server received it.
#[derive(Debug, Clone)]
struct Seen {
    head: String,
    body: Vec<u8>,
}

struct Up {
    addr: SocketAddr,
    accepted: Arc<AtomicU64>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// The answer to a request for `path`, and whether the server closes after it.
fn reply(path: &str) -> (Vec<u8>, bool) {
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
async fn fill(
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

fn line(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n").map(|i| i + 2)
}

async fn upstream() -> Up {
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

async fn proxy(up: &Up) -> ProxyHandle {
    Proxy::start("127.0.0.1:0".parse().unwrap(), up.addr, ProxyMode::Http)
        .await
        .expect("proxy starts")
}

/// A response as the client read it (chunked bodies decoded).
#[derive(Debug)]
struct Resp {
    status: u16,
    head: String,
    body: Vec<u8>,
}

/// A raw client connection with its read buffer.
struct Client {
    tcp: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let _ = tcp.set_nodelay(true);
        Client {
            tcp,
            buf: Vec::new(),
        }
    }

    /// Writes `wire` in pieces of `step` bytes, a little apart.
    async fn send(&mut self, wire: &[u8], step: usize) {
        for piece in wire.chunks(step) {
            self.tcp.write_all(piece).await.unwrap();
            if step < wire.len() {
                tokio::time::sleep(Duration::from_micros(300)).await;
            }
        }
    }

    /// The next response, `None` when the connection ended first.
    async fn read(&mut self, head_request: bool) -> Option<Resp> {
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
    async fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        let r = tokio::time::timeout(LIMIT, self.tcp.read_to_end(&mut rest)).await;
        matches!(r, Ok(Ok(_)) | Ok(Err(_))) && rest.is_empty()
    }
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_framing_comes_through_on_one_kept_connection() {
    let up = upstream().await;
    let p = proxy(&up).await;
    let mut c = Client::connect(p.addr()).await;
    let cases: [(&str, &str, u16, &[u8]); 7] = [
        ("GET", "/len", 200, b"hello"),
        ("GET", "/chunked", 200, b"hello world"),
        ("HEAD", "/head-len", 200, b""),
        ("GET", "/204", 204, b""),
        ("GET", "/304", 304, b""),
        ("GET", "/interim", 200, b"ok"),
        ("GET", "/hop", 200, b"hop"),
    ];
    for (method, path, status, body) in cases {
        let wire = format!("{method} {path} HTTP/1.1\r\nHost: t\r\n\r\n");
        c.send(wire.as_bytes(), 5).await;
        let r = c.read(method == "HEAD").await.expect(path);
        assert_eq!(
            (r.status, r.body.as_slice()),
            (status, body),
            "{path}: {}",
            r.head
        );
        let lower = r.head.to_ascii_lowercase();
        assert!(
            !lower.contains("x-up-hop") && !lower.contains("keep-alive"),
            "{}",
            r.head
        );
        if method == "HEAD" {
            assert!(lower.contains("content-length: 5"), "{}", r.head);
        }
    }
    // One client connection, one upstream connection, every request seen once.
    assert_eq!(up.accepted.load(Ordering::Relaxed), 1);
    assert_eq!(up.seen.lock().unwrap().len(), cases.len());
    let s = p.stats();
    assert_eq!((s.requests, s.answered, s.failed_answers), (7, 7, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_requests_are_answered_in_order_with_faults_between() {
    let up = upstream().await;
    let p = proxy(&up).await;
    p.add_fault(
        FaultSpec::new(
            "fail",
            vec![Toxic::Errors {
                status: 503,
                rate: 1.0,
            }],
        )
        .matching(HttpMatcher::path("/fail")),
    )
    .unwrap();
    let mut c = Client::connect(p.addr()).await;
    let mut wire = Vec::new();
    for path in ["/a", "/chunked", "/fail", "/b", "/len"] {
        wire.extend_from_slice(&get(path));
    }
    c.send(&wire, wire.len()).await;
    let mut got = Vec::new();
    for _ in 0..5 {
        let r = c.read(false).await.expect("an answer");
        got.push((r.status, String::from_utf8_lossy(&r.body).into_owned()));
    }
    let want = [
        (200, "path /a"),
        (200, "hello world"),
        (503, "res: status 503 injected by fault `fail`\n"),
        (200, "path /b"),
        (200, "hello"),
    ];
    let got: Vec<(u16, &str)> = got.iter().map(|(s, b)| (*s, b.as_str())).collect();
    assert_eq!(got, want);
    assert_eq!(
        up.seen.lock().unwrap().len(),
        4,
        "the injected answer stayed in the proxy"
    );
    assert_eq!(p.stats().injected_errors, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_bodies_go_through_by_length_and_chunked_and_hop_headers_stay_behind() {
    let up = upstream().await;
    let p = proxy(&up).await;
    let mut c = Client::connect(p.addr()).await;
    let big = vec![b'z'; 100_000];
    let mut wire = format!(
        "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: 5\r\nX-Kept: yes\r\n\r\n",
        big.len()
    )
    .into_bytes();
    wire.extend_from_slice(&big);
    c.send(&wire, 9_999).await;
    assert_eq!(c.read(false).await.expect("answer").status, 200);
    let chunked = b"POST /chunks HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n4;ext\r\nabcd\r\n3\r\nefg\r\n0\r\nX-T: 1\r\n\r\n";
    c.send(chunked, 6).await;
    assert_eq!(c.read(false).await.expect("answer").status, 200);
    // An absolute URL becomes a path, with its host.
    c.send(b"GET http://example.test:81/abs?q=1 HTTP/1.1\r\n\r\n", 100)
        .await;
    assert_eq!(c.read(false).await.expect("answer").body, b"path /abs?q=1");
    let seen = up.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].body, big);
    let head = seen[0].head.to_ascii_lowercase();
    assert!(head.contains("x-kept: yes"), "{head}");
    assert!(
        !head.contains("x-secret") && !head.contains("keep-alive"),
        "{head}"
    );
    assert_eq!(seen[1].body, b"abcdefg");
    assert!(
        seen[2].head.starts_with("GET /abs?q=1 HTTP/1.1\r\n"),
        "{}",
        seen[2].head
    );
    assert!(
        seen[2].head.contains("host: example.test:81\r\n"),
        "{}",
        seen[2].head
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_close_keeps_the_client_and_a_body_until_close_ends_it() {
    let up = upstream().await;
    let p = proxy(&up).await;
    let mut c = Client::connect(p.addr()).await;
    c.send(&get("/close"), 100).await;
    let r = c.read(false).await.expect("answer");
    assert_eq!((r.status, r.body.as_slice()), (200, b"bye!!".as_slice()));
    assert!(
        !r.head.to_ascii_lowercase().contains("connection: close"),
        "{}",
        r.head
    );
    c.send(&get("/len"), 100).await;
    assert_eq!(c.read(false).await.expect("kept").body, b"hello");
    assert_eq!(
        up.accepted.load(Ordering::Relaxed),
        2,
        "a new upstream connection"
    );

    c.send(&get("/until-close"), 100).await;
    let r = c.read(false).await.expect("answer");
    assert_eq!(r.body, b"all of it until the end");
    assert!(
        r.head.to_ascii_lowercase().contains("connection: close"),
        "{}",
        r.head
    );
    assert!(c.closed().await);

    // A client that asks to close is answered and closed; the upstream connection stays.
    let mut c = Client::connect(p.addr()).await;
    c.send(
        b"GET /len HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        100,
    )
    .await;
    let r = c.read(false).await.expect("answer");
    assert!(
        r.head.to_ascii_lowercase().contains("connection: close"),
        "{}",
        r.head
    );
    assert!(c.closed().await);
    assert!(!up
        .seen
        .lock()
        .unwrap()
        .last()
        .unwrap()
        .head
        .to_ascii_lowercase()
        .contains("close"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_upstream_answers_give_502_or_a_cut_connection() {
    let up = upstream().await;
    let p = proxy(&up).await;
    for path in ["/garbage", "/nothing", "/two-lengths"] {
        let mut c = Client::connect(p.addr()).await;
        c.send(&get(path), 100).await;
        let r = c.read(false).await.expect(path);
        assert_eq!(r.status, 502, "{path}: {}", r.head);
    }
    for path in ["/short", "/bad-chunk"] {
        let mut c = Client::connect(p.addr()).await;
        c.send(&get(path), 100).await;
        // The head went out before the body broke: the client sees a cut, never a hang.
        match c.read(false).await {
            None => {}
            Some(r) => panic!("{path}: a whole answer from a broken one: {r:?}"),
        }
    }
    assert_eq!(p.stats().upstream_errors, 5);
    // The proxy still serves.
    let mut c = Client::connect(p.addr()).await;
    c.send(&get("/len"), 100).await;
    assert_eq!(c.read(false).await.expect("answer").status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_and_http10_goes_to_hyper() {
    let up = upstream().await;
    let p = proxy(&up).await;
    let mut c = Client::connect(p.addr()).await;
    c.send(b"GET /\x01 HTTP/1.1\r\n\r\n", 100).await;
    assert_eq!(c.read(false).await.expect("answer").status, 400);
    assert!(c.closed().await);

    let mut c = Client::connect(p.addr()).await;
    let mut wire = b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: ".to_vec();
    wire.extend(std::iter::repeat_n(b'a', 40_000));
    wire.extend_from_slice(b"\r\n\r\n");
    c.send(&wire, wire.len()).await;
    assert_eq!(c.read(false).await.expect("answer").status, 431);

    let mut c = Client::connect(p.addr()).await;
    c.send(b"GET /old HTTP/1.0\r\n\r\n", 100).await;
    let r = c.read(false).await.expect("answer");
    assert_eq!(
        (r.status, r.body.as_slice()),
        (200, b"path /old".as_slice())
    );

    // A body with both a length and chunked framing is never forwarded with both.
    let mut c = Client::connect(p.addr()).await;
    c.send(b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 100).await;
    let r = c.read(false).await;
    assert!(
        r.as_ref()
            .is_none_or(|r| r.status == 400 || r.status == 200),
        "{r:?}"
    );
    let seen = up.seen.lock().unwrap().clone();
    for s in seen.iter().filter(|s| s.head.starts_with("POST /x")) {
        let head = s.head.to_ascii_lowercase();
        assert!(
            !(head.contains("content-length") && head.contains("transfer-encoding")),
            "{head}"
        );
    }
}
