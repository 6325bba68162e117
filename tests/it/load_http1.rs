//! Conformance of the load generator's own HTTP/1.1 client against a scripted server: a real
//! TCP listener on 127.0.0.1 that answers with every framing (content-length, chunked with
//! extensions and trailers, 1xx interim responses, 204, HEAD, body until close,
//! `Connection: close`), written slowly and split across reads; and malformed answers, each
//! counted as its error kind within the run's time — never a hang or a panic.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use res::load::{
    start, start_with, Arrival, ErrorKind, LoadResult, LoadSpec, Pacing, RateSchedule, RequestSpec,
    Workload,
};
use res::units::{Bytes as Size, Duration, Rate};

/// A server answering each request head with `reply`, written `piece` bytes at a time with a
/// pause between pieces; it closes after replying when `close` is set.
struct Scripted {
    url: String,
    accepted: Arc<AtomicU64>,
    heads: Arc<AtomicU64>,
}

async fn scripted(reply: &'static [u8], piece: usize, close: bool) -> Scripted {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicU64::new(0));
    let heads = Arc::new(AtomicU64::new(0));
    let (a, h) = (accepted.clone(), heads.clone());
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            a.fetch_add(1, Ordering::Relaxed);
            let h = h.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    while let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..i + 4);
                        h.fetch_add(1, Ordering::Relaxed);
                        for part in reply.chunks(piece.max(1)) {
                            if tcp.write_all(part).await.is_err() {
                                return;
                            }
                            tokio::time::sleep(StdDuration::from_micros(300)).await;
                        }
                        if close {
                            return;
                        }
                    }
                    match tcp.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
            });
        }
    });
    Scripted {
        url,
        accepted,
        heads,
    }
}

fn closed_spec(url: &str, request: RequestSpec, users: u32, secs: f64) -> LoadSpec {
    let workload = Workload::Closed { users, think: None };
    let mut s = LoadSpec::new(url, vec![request], workload, Duration::from_secs(secs));
    s.timeout = Duration::from_secs(1.0);
    s
}

async fn run(spec: LoadSpec) -> LoadResult {
    let started = Instant::now();
    let r = start(spec).expect("the spec is valid").join().await;
    assert!(
        started.elapsed() < StdDuration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
    r
}

/// Every request succeeds, and keep-alive reuses the one connection.
async fn framing_is_read(reply: &'static [u8], piece: usize, request: RequestSpec) {
    let server = scripted(reply, piece, false).await;
    let r = run(closed_spec(&server.url, request, 1, 0.5)).await;
    // Slow on purpose (a pause after every piece), so only a few requests fit in the run.
    assert!(r.requests >= 3, "{r:#?}");
    assert_eq!(r.errors, 0, "{:?}", r.total.errors_by_kind);
    assert_eq!(server.accepted.load(Ordering::Relaxed), 1);
    assert!(server.heads.load(Ordering::Relaxed) >= r.requests);
}

const CHUNKED: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
    2\r\nok\r\nA;name=value\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n";
const INTERIM: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n\
    Link: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_length_chunked_interim_and_204_split_across_reads() {
    let get = || RequestSpec::get("svc", "/");
    let length = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: x\r\n\r\nok";
    framing_is_read(length, 1000, get()).await;
    framing_is_read(length, 3, get()).await;
    framing_is_read(CHUNKED, 5, get()).await;
    framing_is_read(INTERIM, 7, get()).await;
    framing_is_read(b"HTTP/1.1 204 No Content\r\n\r\n", 2, get()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_response_has_no_body() {
    let mut head = RequestSpec::get("svc", "/");
    head.method = "HEAD".into();
    framing_is_read(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", 4, head).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_close_and_bodies_until_close_open_a_new_connection() {
    for reply in [
        &b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"[..],
        b"HTTP/1.1 200 OK\r\n\r\nthe body ends with the connection",
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ] {
        let server = scripted(reply, 6, true).await;
        let r = run(closed_spec(
            &server.url,
            RequestSpec::get("svc", "/"),
            2,
            0.5,
        ))
        .await;
        assert!(r.requests >= 3, "{r:#?}");
        assert_eq!(r.errors, 0, "{:?}", r.total.errors_by_kind);
        assert_eq!(server.accepted.load(Ordering::Relaxed), r.requests);
    }
}

/// 20 requests at 40/s against a server answering `reply` (then closing, if `close`).
async fn errors_of(
    reply: &'static [u8],
    close: bool,
    tweak: impl FnOnce(&mut LoadSpec),
) -> LoadResult {
    let server = scripted(reply, reply.len() / 8 + 1, close).await;
    let workload = Workload::Open {
        schedule: RateSchedule::constant(Rate(40.0)),
        arrival: Arrival::Constant,
        pacing: Pacing::Precise,
    };
    let mut s = LoadSpec::new(
        server.url.as_str(),
        vec![RequestSpec::get("svc", "/")],
        workload,
        Duration::from_secs(0.5),
    );
    s.timeout = Duration::from_secs(1.0);
    tweak(&mut s);
    let r = run(s).await;
    assert_eq!(r.requests, 20, "{r:#?}");
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_responses_are_counted_by_kind() {
    let cases: &[(&[u8], ErrorKind)] = &[
        (b"HTTP/1.1 2x0 OK\r\n\r\n", ErrorKind::Other),
        (b"SMTP ready\r\n\r\n", ErrorKind::Other),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nok",
            ErrorKind::Other,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            ErrorKind::Other,
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nshort",
            ErrorKind::Reset,
        ),
        (b"HTTP/1.1 200 OK\r\nContent-Len", ErrorKind::Reset),
        (
            b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n",
            ErrorKind::Status,
        ),
    ];
    for (reply, kind) in cases {
        let r = errors_of(reply, true, |_| {}).await;
        assert_eq!(
            r.total.errors_by_kind.get(*kind),
            20,
            "{:?}: {:?}",
            String::from_utf8_lossy(reply),
            r.total.errors_by_kind
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_heads_and_bodies_are_errors_not_hangs() {
    let huge: &'static [u8] = format!("HTTP/1.1 200 OK\r\nX-Big: {}\r\n\r\n", "a".repeat(100_000))
        .into_bytes()
        .leak();
    let r = errors_of(huge, true, |_| {}).await;
    assert_eq!(r.total.errors_by_kind.get(ErrorKind::Other), 20);
    let many: &'static [u8] = format!("HTTP/1.1 200 OK\r\n{}\r\n", "X-Many: 1\r\n".repeat(200))
        .into_bytes()
        .leak();
    let r = errors_of(many, true, |_| {}).await;
    assert_eq!(r.total.errors_by_kind.get(ErrorKind::Other), 20);
    let r = errors_of(CHUNKED, false, |s| s.body_limit = Size(4.0)).await;
    assert_eq!(r.total.errors_by_kind.get(ErrorKind::BodyTooLarge), 20);
    // A server that never finishes its head runs into the timeout.
    let r = errors_of(b"HTTP/1.1 200 OK\r\n", false, |s| {
        s.timeout = Duration::from_secs(0.2)
    })
    .await;
    assert_eq!(r.total.errors_by_kind.get(ErrorKind::Timeout), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_requests_are_answered_in_order_on_one_connection_each() {
    let server = scripted(CHUNKED, 1000, false).await;
    let spec = closed_spec(&server.url, RequestSpec::get("svc", "/"), 2, 0.5);
    let r = start_with(spec, 8).unwrap().join().await;
    assert!(r.requests >= 16, "{r:#?}");
    assert_eq!(r.errors, 0, "{:?}", r.total.errors_by_kind);
    assert_eq!(server.accepted.load(Ordering::Relaxed), 2);
    assert!(server.heads.load(Ordering::Relaxed) >= r.requests);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_requests_behind_a_close_are_resets() {
    let reply = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok";
    let server = scripted(reply, 1000, true).await;
    let spec = closed_spec(&server.url, RequestSpec::get("svc", "/"), 1, 0.3);
    let started = Instant::now();
    let r = start_with(spec, 4).unwrap().join().await;
    assert!(started.elapsed() < StdDuration::from_secs(5));
    let ok = r.requests - r.errors;
    assert!(ok >= 3, "{r:#?}");
    assert_eq!(ok, server.accepted.load(Ordering::Relaxed));
    assert_eq!(r.errors, r.total.errors_by_kind.get(ErrorKind::Reset));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelining_needs_the_closed_model() {
    let workload = Workload::Open {
        schedule: RateSchedule::constant(Rate(10.0)),
        arrival: Arrival::Constant,
        pacing: Pacing::Precise,
    };
    let spec = LoadSpec::new(
        "http://127.0.0.1:9",
        vec![RequestSpec::get("svc", "/")],
        workload,
        Duration::from_secs(0.1),
    );
    let e = start_with(spec, 2).err().expect("refused");
    assert!(e.to_string().contains("closed model"), "{e}");
}
