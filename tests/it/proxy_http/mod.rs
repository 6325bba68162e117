//! Conformance of the HTTP-mode fault proxy's own HTTP/1.1 forwarding path against a
//! scripted server: a real TCP listener on 127.0.0.1 that records every request it gets and
//! answers with the framing each path asks for (content-length, chunked with extensions and
//! trailers, HEAD, 1xx, 204, 304, `Connection: close`, a body until close), written in small
//! pieces so that every head and body arrives split across reads; and malformed answers,
//! which must give `502` or a cut connection — never a hang or a panic.

mod scripted;

use std::sync::atomic::Ordering;
use std::time::Duration;

use res::chaos::proxy::{FaultSpec, HttpMatcher, Toxic};

use scripted::{get, proxy, upstream, Client};

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
async fn an_upstream_close_and_a_body_until_close_keep_the_client() {
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

    // A body until the upstream's close comes chunked, and the client connection stays.
    c.send(&get("/until-close"), 100).await;
    let r = c.read(false).await.expect("answer");
    assert_eq!(r.body, b"all of it until the end");
    let head = r.head.to_ascii_lowercase();
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    assert!(!head.contains("connection: close"), "{head}");
    c.send(&get("/len"), 100).await;
    assert_eq!(c.read(false).await.expect("kept").body, b"hello");

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_upstream_connection_the_server_closed_is_replaced() {
    let up = upstream().await;
    let p = proxy(&up).await;
    let mut c = Client::connect(p.addr()).await;
    // Right after (no idle check: the send fails or finds the end, and is retried) and after
    // a pause (the idle check finds the close first).
    for pause in [0, 20] {
        c.send(&get("/silent-close"), 100).await;
        assert_eq!(c.read(false).await.expect("answer").body, b"gone");
        tokio::time::sleep(Duration::from_millis(pause)).await;
        c.send(&get("/len"), 100).await;
        let r = c.read(false).await.expect("answer");
        assert_eq!((r.status, r.body.as_slice()), (200, b"hello".as_slice()));
    }
    let s = p.stats();
    assert_eq!((s.upstream_errors, s.failed_answers), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shaping_fault_hands_an_open_connection_to_hyper_with_nothing_lost() {
    let up = upstream().await;
    let p = proxy(&up).await;
    let mut c = Client::connect(p.addr()).await;
    c.send(&get("/len"), 100).await;
    assert_eq!(c.read(false).await.expect("answer").body, b"hello");
    let id = p
        .add_fault(FaultSpec::new(
            "bw",
            vec![Toxic::Bandwidth { bytes_per_sec: 1e6 }],
        ))
        .unwrap();
    // Two requests in one write: the second is already read when hyper takes over.
    let mut wire = get("/chunked");
    wire.extend_from_slice(&get("/b"));
    c.send(&wire, wire.len()).await;
    assert_eq!(c.read(false).await.expect("answer").body, b"hello world");
    assert_eq!(c.read(false).await.expect("answer").body, b"path /b");
    assert!(p.remove_fault(id));
    c.send(&get("/len"), 100).await;
    assert_eq!(c.read(false).await.expect("answer").body, b"hello");
    let s = p.stats();
    assert_eq!((s.requests, s.answered, s.failed_answers), (4, 4, 0));
}
