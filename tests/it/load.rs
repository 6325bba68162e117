//! The load generator against in-process servers on 127.0.0.1 (ports from the OS), over
//! HTTP/1.1, HTTP/2 and TLS: rates, seeds, models, coordinated omission and every error kind.
//! Each test sends for a second or two, so the whole file stays well under 30 s.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use res::load::feeder::DataOrder;
use res::load::{
    start, Arrival, BodySpec, ErrorKind, Feeder, LoadResult, LoadSpec, Pacing, Protocol,
    RateSchedule, RequestSpec, SessionSpec, VisitSpec, VisitTarget, Workload,
};
use res::units::{Bytes as Size, Duration, Rate};

// ---------------------------------------------------------------------------------------------
// Test servers

type Reply = Pin<Box<dyn Future<Output = Response<Full<Bytes>>> + Send>>;
type Handler = Arc<dyn Fn(Seen) -> Reply + Send + Sync>;

/// What the server saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    body: String,
    /// Since the server started.
    at: StdDuration,
}

struct Server {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    fn url(&self, tls: bool) -> String {
        format!(
            "{}://127.0.0.1:{}",
            if tls { "https" } else { "http" },
            self.addr.port()
        )
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn ok(body: &'static str) -> Response<Full<Bytes>> {
    Response::new(Full::new(Bytes::from_static(body.as_bytes())))
}

fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// An HTTP/1.1 + HTTP/2 (h2c or ALPN) server calling `handler` for each request.
async fn serve(tls: bool, handler: Handler) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let acceptor = tls.then(tls_acceptor);
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            let record = record.clone();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<Incoming>| {
                    let handler = handler.clone();
                    let record = record.clone();
                    async move {
                        let at = started.elapsed();
                        let path = req
                            .uri()
                            .path_and_query()
                            .map(|p| p.to_string())
                            .unwrap_or_default();
                        let body = req
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let seen = Seen {
                            path,
                            body: String::from_utf8_lossy(&body).into_owned(),
                            at,
                        };
                        record.lock().unwrap().push(seen.clone());
                        Ok::<_, std::convert::Infallible>(handler(seen).await)
                    }
                });
                let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                match acceptor {
                    Some(a) => {
                        if let Ok(stream) = a.accept(tcp).await {
                            let _ = builder
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                    }
                    None => {
                        let _ = builder.serve_connection(TokioIo::new(tcp), service).await;
                    }
                }
            });
        }
    });
    Server { addr, seen }
}

fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Seen) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    Arc::new(move |s| Box::pin(f(s)))
}

async fn ok_server(tls: bool) -> Server {
    serve(tls, handler(|_| async { ok("ok") })).await
}

/// A raw TCP server that reads a request head and answers with `reply` bytes, then closes;
/// `stream_forever` keeps sending chunks instead.
async fn raw_server(reply: &'static [u8], stream_forever: bool) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut tcp, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut head = Vec::new();
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tcp.write_all(reply).await;
                if stream_forever {
                    let chunk = format!("{:x}\r\n{}\r\n", 65536, "x".repeat(65536));
                    for _ in 0..1024 {
                        if tcp.write_all(chunk.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                }
                // Dropped here: the connection closes mid-response.
            });
        }
    });
    addr
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn open(rate: f64, arrival: Arrival) -> Workload {
    Workload::Open {
        schedule: RateSchedule::constant(Rate(rate)),
        arrival,
        pacing: Pacing::Precise,
    }
}

fn spec(url: String, requests: Vec<RequestSpec>, workload: Workload, secs: f64) -> LoadSpec {
    let mut s = LoadSpec::new(url, requests, workload, Duration::from_secs(secs));
    s.timeout = Duration::from_secs(2.0);
    s.connections = 16;
    s.tls.insecure = true;
    s
}

async fn run(spec: LoadSpec) -> LoadResult {
    start(spec).expect("the spec is valid").join().await
}

fn kind(r: &LoadResult, k: ErrorKind) -> u64 {
    r.total.errors_by_kind.get(k)
}

// ---------------------------------------------------------------------------------------------
// Rates and protocols

async fn rate_is_achieved(tls: bool, protocol: Protocol, pacing: Pacing) {
    let server = ok_server(tls).await;
    let mut s = spec(
        server.url(tls),
        vec![RequestSpec::get("svc", "/hello")],
        open(500.0, Arrival::Constant),
        2.0,
    );
    if let Workload::Open { pacing: p, .. } = &mut s.workload {
        *p = pacing;
    }
    s.protocol = protocol;
    let r = run(s).await;
    assert_eq!(r.intended, 1000, "{r:#?}");
    assert_eq!(r.errors, 0, "{:?}", r.total.errors_by_kind);
    assert_eq!(r.requests, 1000);
    assert!((r.achieved_rps - 500.0).abs() < 15.0, "{}", r.achieved_rps);
    assert_eq!(server.seen().len(), 1000);
    assert!(server.seen().iter().all(|s| s.path == "/hello"));
    assert!(r.series.len() >= 2, "{:?}", r.series);
    assert!(r.send_lag_ms.p50_ms < 5.0, "{:?}", r.send_lag_ms);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_rate_http1() {
    rate_is_achieved(false, Protocol::Http1, Pacing::Precise).await;
}

/// Poisson arrivals 250 µs apart on average: the precise pacer releases them in batches (its
/// wake-ups half a millisecond apart at the closest), and still sends exactly the planned
/// sequence, each request timed from its own intended time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dense_arrivals_are_released_in_batches_without_loss() {
    let server = ok_server(false).await;
    let mut s = spec(
        server.url(false),
        vec![RequestSpec::get("svc", "/hello")],
        open(4000.0, Arrival::Poisson),
        1.0,
    );
    s.seed = 3;
    let planned = res::load::arrival_times(&s, 100_000).unwrap().len() as u64;
    let r = run(s).await;
    assert_eq!(r.intended, planned, "{r:#?}");
    assert_eq!(r.requests, planned);
    assert_eq!(server.seen().len() as u64, planned);
    assert_eq!(r.errors, 0, "{:?}", r.total.errors_by_kind);
    assert!(r.send_lag_ms.p50_ms < 5.0, "{:?}", r.send_lag_ms);
}

/// Precise pacing in the load threads' own event loops (`RES_PACER=lanes`: each thread
/// sleeps on a timerfd until its share of the tickets is due), through the real binary so the
/// variable stays out of this process. At 2,000/s on two threads with only three connections
/// a thread often has none free and hands a ticket to the other: every planned request still
/// reaches the server, and the send lag is reported. Speed and precision are the benchmark's
/// business (benches/bench-load.sh), not this test's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paced_in_the_load_threads_every_planned_request_arrives() {
    let server = ok_server(false).await;
    let url = format!("{}/paced", server.url(false));
    let mut planned = spec(
        url.clone(),
        vec![RequestSpec::get("svc", "/paced")],
        open(2000.0, Arrival::Poisson),
        1.5,
    );
    planned.seed = 11;
    let planned = res::load::arrival_times(&planned, 100_000).unwrap().len() as u64;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_res"))
        .args([
            "load",
            &url,
            "--rate",
            "2000/s",
            "--arrival",
            "poisson",
            "--seed",
            "11",
        ])
        .args(["--duration", "1.5s", "--threads", "2", "--connections", "3"])
        .args(["--format", "json"])
        .env("RES_PACER", "lanes")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(r["intended"], planned, "{r:#}");
    assert_eq!(r["unsent"], 0, "{r:#}");
    assert_eq!(r["errors"], 0, "{r:#}");
    assert_eq!(r["requests"], planned, "{r:#}");
    let seen = server.seen();
    assert_eq!(seen.len() as u64, planned);
    assert!(seen.iter().all(|s| s.path == "/paced"));
    let lag = &r["send_lag_ms"];
    assert!(lag["max_ms"].as_f64().unwrap() > 0.0, "{lag}");
    assert!(lag["p50_ms"].as_f64().unwrap() >= 0.0, "{lag}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_rate_http2() {
    rate_is_achieved(false, Protocol::Http2, Pacing::Batched).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_rate_tls_http1() {
    rate_is_achieved(true, Protocol::Http1, Pacing::Batched).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_rate_tls_http2() {
    rate_is_achieved(true, Protocol::Http2, Pacing::Precise).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ramp_follows_the_schedule() {
    let server = ok_server(false).await;
    // 0 → 400/s over 1 s, then 400/s for 0.5 s: 200 + 200 requests.
    let schedule = RateSchedule::default()
        .ramp(Some(Rate(0.0)), Rate(400.0), Duration::from_secs(1.0))
        .hold(Duration::from_secs(0.5), None);
    let w = Workload::Open {
        schedule,
        arrival: Arrival::Constant,
        pacing: Pacing::Precise,
    };
    let r = run(spec(
        server.url(false),
        vec![RequestSpec::get("svc", "/")],
        w,
        1.5,
    ))
    .await;
    assert!((398..=402).contains(&r.requests), "{}", r.requests);
    let first_half = server
        .seen()
        .iter()
        .filter(|s| s.at < StdDuration::from_millis(500))
        .count();
    assert!(
        (35..=70).contains(&first_half),
        "{first_half} requests in the first 0.5 s, expected ~50"
    );
}

// ---------------------------------------------------------------------------------------------
// Determinism

async fn sequence(seed: u64) -> Vec<String> {
    let server = ok_server(false).await;
    let mut feeders = HashMap::new();
    feeders.insert(
        "users".to_string(),
        Feeder::from_csv("id,name\n1,ann\n2,bob\n3,cy\n4,di\n", DataOrder::Random).unwrap(),
    );
    let requests = vec![
        RequestSpec::get("a", "/a/{seq}/{random.1000}?u={users.id}&id={uuid}"),
        RequestSpec {
            weight: 2.0,
            ..RequestSpec::get("b", "/b/{seq}/{users.name}")
        },
    ];
    let mut s = spec(
        server.url(false),
        requests,
        open(400.0, Arrival::Poisson),
        1.0,
    );
    s.seed = seed;
    s.feeders = feeders;
    let r = run(s).await;
    assert_eq!(r.errors, 0);
    let mut paths: Vec<(u64, String)> = server
        .seen()
        .into_iter()
        .map(|s| (s.path.split('/').nth(2).unwrap().parse().unwrap(), s.path))
        .collect();
    paths.sort();
    assert_eq!(paths.len() as u64, r.requests);
    paths.into_iter().map(|(_, p)| p).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_seed_same_requests() {
    let (a, b, c) = tokio::join!(sequence(7), sequence(7), sequence(8));
    assert!(a.len() > 300, "{}", a.len());
    assert_eq!(a, b);
    assert_ne!(a, c);
}

// ---------------------------------------------------------------------------------------------
// Models

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_model_counts() {
    let server = ok_server(false).await;
    let w = Workload::Closed {
        users: 4,
        think: Some((Duration(10.0), Duration(20.0))),
    };
    let r = run(spec(
        server.url(false),
        vec![RequestSpec::get("svc", "/")],
        w,
        1.0,
    ))
    .await;
    assert_eq!(r.model, "closed");
    assert_eq!(r.errors, 0);
    assert_eq!(r.requests, server.seen().len() as u64);
    // Four users, ~15 ms per cycle: about 260 requests.
    assert!((150..=360).contains(&r.requests), "{}", r.requests);

    let before = server.seen().len() as u64;
    let w = Workload::Closed {
        users: 8,
        think: None,
    };
    let r = run(spec(
        server.url(false),
        vec![RequestSpec::get("svc", "/")],
        w,
        0.5,
    ))
    .await;
    assert!(r.requests > 500, "{}", r.requests);
    assert_eq!(r.requests, server.seen().len() as u64 - before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_walk_their_visits() {
    let server = ok_server(false).await;
    let requests = vec![
        RequestSpec::get("home", "/home"),
        RequestSpec::get("cart", "/cart"),
    ];
    let sessions = vec![SessionSpec {
        name: "buyer".into(),
        weight: 1.0,
        visits: vec![
            VisitSpec {
                target: VisitTarget::Request(0),
                think: Some((Duration(5.0), Duration(10.0))),
                repeat: 1,
            },
            VisitSpec {
                target: VisitTarget::Service("cart".into()),
                think: None,
                repeat: 2,
            },
        ],
    }];
    let w = Workload::Sessions {
        schedule: RateSchedule::constant(Rate(40.0)),
        arrival: Arrival::Constant,
        pacing: Pacing::Precise,
        sessions,
    };
    let r = run(spec(server.url(false), requests, w, 1.0)).await;
    assert_eq!(r.model, "sessions");
    assert_eq!(r.intended, 40);
    let seen = server.seen();
    let home = seen.iter().filter(|s| s.path == "/home").count();
    let cart = seen.iter().filter(|s| s.path == "/cart").count();
    assert_eq!(home, 40);
    // The last sessions may be cut by the end of the run.
    assert!((70..=80).contains(&cart), "{cart}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_and_early_stop() {
    let server = ok_server(false).await;
    let handle = start(spec(
        server.url(false),
        vec![RequestSpec::get("svc", "/")],
        open(400.0, Arrival::Constant),
        30.0,
    ))
    .unwrap();
    let mut live = handle.live();
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    handle.set_scale(0.25);
    live.changed().await.unwrap();
    let snap = live.borrow().clone();
    assert_eq!(snap.services.len(), 1);
    assert!(snap.service("svc").is_some());
    let r = handle.stop().await;
    // ~200 requests in the first half second, then 100/s for the next ~half second.
    assert!(r.duration_s < 1.5, "{}", r.duration_s);
    assert!((220..=320).contains(&r.requests), "{}", r.requests);
}

// ---------------------------------------------------------------------------------------------
// Coordinated omission

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalls_show_in_latency_not_service_time() {
    // Requests arriving between 0.8 s and 1.3 s are held for 500 ms.
    let server = serve(
        false,
        handler(|s: Seen| async move {
            if s.at >= StdDuration::from_millis(800) && s.at < StdDuration::from_millis(1300) {
                tokio::time::sleep(StdDuration::from_millis(500)).await;
            }
            ok("ok")
        }),
    )
    .await;
    let mut s = spec(
        server.url(false),
        vec![RequestSpec::get("svc", "/")],
        open(200.0, Arrival::Constant),
        2.5,
    );
    s.connections = 4;
    let r = run(s).await;
    assert_eq!(r.errors, 0);
    assert_eq!(r.requests, 500);
    let lat = r.total.latency_ms;
    let svc = r.total.service_time_ms;
    // About 100 requests were due during the stall: a tenth of all waited 250–500 ms.
    assert!(lat.p90 > 150.0, "latency from intended time {lat:?}");
    assert!(lat.max > 400.0, "{lat:?}");
    // Only the few requests the server actually held (one per connection) took long to serve.
    assert!(svc.p90 < 50.0, "service time {svc:?}");
    assert!(r.send_lag_ms.max_ms > 300.0, "{:?}", r.send_lag_ms);
    let worst = r.series.iter().map(|s| s.p99_ms).fold(0.0, f64::max);
    assert!(worst > 300.0, "{:?}", r.series);
}

// ---------------------------------------------------------------------------------------------
// Error kinds

async fn errors_against(
    url: String,
    request: RequestSpec,
    tweak: impl FnOnce(&mut LoadSpec),
) -> LoadResult {
    let mut s = spec(url, vec![request], open(40.0, Arrival::Constant), 0.5);
    tweak(&mut s);
    let started = Instant::now();
    let r = run(s).await;
    assert!(
        started.elapsed() < StdDuration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(r.requests, 20, "{r:#?}");
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_and_dns() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let r = errors_against(
        format!("http://127.0.0.1:{port}"),
        RequestSpec::get("svc", "/"),
        |_| {},
    )
    .await;
    assert_eq!(
        kind(&r, ErrorKind::Refused),
        20,
        "{:?}",
        r.total.errors_by_kind
    );
    let r = errors_against(
        "http://no-such-host.invalid".into(),
        RequestSpec::get("svc", "/"),
        |_| {},
    )
    .await;
    assert_eq!(kind(&r, ErrorKind::Dns), 20, "{:?}", r.total.errors_by_kind);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unexpected_status() {
    let server = serve(
        false,
        handler(|s: Seen| async move {
            let mut r = ok("no");
            if s.path == "/fail" {
                *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
            } else {
                *r.status_mut() = hyper::StatusCode::NOT_FOUND;
            }
            r
        }),
    )
    .await;
    let r = errors_against(server.url(false), RequestSpec::get("svc", "/fail"), |_| {}).await;
    assert_eq!(kind(&r, ErrorKind::Status), 20);
    // A 404 the route expects is a success.
    let expect_404 = RequestSpec {
        expect_status: vec![res::units::StatusPattern::Exact(404)],
        ..RequestSpec::get("svc", "/missing")
    };
    let r = errors_against(server.url(false), expect_404, |_| {}).await;
    assert_eq!(r.errors, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_responses_time_out() {
    let server = serve(
        false,
        handler(|_| async {
            tokio::time::sleep(StdDuration::from_secs(5)).await;
            ok("late")
        }),
    )
    .await;
    let r = errors_against(server.url(false), RequestSpec::get("svc", "/"), |s| {
        s.timeout = Duration(200.0);
    })
    .await;
    assert_eq!(
        kind(&r, ErrorKind::Timeout),
        20,
        "{:?}",
        r.total.errors_by_kind
    );
    assert!(r.total.latency_ms.max < 400.0, "{:?}", r.total.latency_ms);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies() {
    static BIG: [u8; 256 * 1024] = [b'x'; 256 * 1024];
    let server = serve(
        false,
        handler(|_| async { Response::new(Full::new(Bytes::from_static(&BIG))) }),
    )
    .await;
    let r = errors_against(server.url(false), RequestSpec::get("svc", "/"), |s| {
        s.body_limit = Size(64.0 * 1024.0);
    })
    .await;
    assert_eq!(kind(&r, ErrorKind::BodyTooLarge), 20);
    // A chunked body with no declared length that goes on and on.
    let addr = raw_server(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        true,
    )
    .await;
    let r = errors_against(
        format!("http://{addr}"),
        RequestSpec::get("svc", "/"),
        |s| {
            s.body_limit = Size(1024.0 * 1024.0);
        },
    )
    .await;
    assert_eq!(
        kind(&r, ErrorKind::BodyTooLarge),
        20,
        "{:?}",
        r.total.errors_by_kind
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_mid_response_is_a_reset() {
    let addr = raw_server(
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial",
        false,
    )
    .await;
    let r = errors_against(
        format!("http://{addr}"),
        RequestSpec::get("svc", "/"),
        |_| {},
    )
    .await;
    assert_eq!(
        kind(&r, ErrorKind::Reset),
        20,
        "{:?}",
        r.total.errors_by_kind
    );
    // Closed before any answer at all.
    let addr = raw_server(b"", false).await;
    let r = errors_against(
        format!("http://{addr}"),
        RequestSpec::get("svc", "/"),
        |_| {},
    )
    .await;
    assert_eq!(
        kind(&r, ErrorKind::Reset),
        20,
        "{:?}",
        r.total.errors_by_kind
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_to_a_plain_server() {
    let server = ok_server(false).await;
    let url = format!("https://127.0.0.1:{}", server.addr.port());
    let r = errors_against(url, RequestSpec::get("svc", "/"), |_| {}).await;
    assert_eq!(kind(&r, ErrorKind::Tls), 20, "{:?}", r.total.errors_by_kind);
    // A self-signed certificate without `insecure` is refused too.
    let server = ok_server(true).await;
    let r = errors_against(server.url(true), RequestSpec::get("svc", "/"), |s| {
        s.tls.insecure = false
    })
    .await;
    assert_eq!(kind(&r, ErrorKind::Tls), 20, "{:?}", r.total.errors_by_kind);
}

// ---------------------------------------------------------------------------------------------
// Mix and templates

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mix_weights_are_honoured() {
    let server = ok_server(false).await;
    let requests = vec![
        RequestSpec {
            weight: 3.0,
            ..RequestSpec::get("catalog", "/catalog")
        },
        RequestSpec {
            weight: 1.0,
            ..RequestSpec::get("checkout", "/checkout")
        },
    ];
    let r = run(spec(
        server.url(false),
        requests,
        open(2000.0, Arrival::Poisson),
        1.0,
    ))
    .await;
    assert_eq!(r.errors, 0);
    let catalog = r
        .services
        .iter()
        .find(|s| s.service == "catalog")
        .unwrap()
        .requests as f64;
    let share = catalog / r.requests as f64;
    assert!((share - 0.75).abs() < 0.04, "catalog share {share}");
    let per_service: Vec<&str> = r.series.iter().map(|s| s.service.as_str()).collect();
    assert!(per_service.contains(&"checkout"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeders_fill_templates() {
    let server = ok_server(false).await;
    let mut feeders = HashMap::new();
    feeders.insert(
        "users".to_string(),
        Feeder::from_jsonl(
            "{\"id\": 1, \"name\": \"ann\"}\n{\"id\": 2, \"name\": \"bob\"}\n",
            DataOrder::Cycle,
        )
        .unwrap(),
    );
    let request = RequestSpec {
        method: "POST".into(),
        body: Some(BodySpec::Json(
            serde_json::json!({"user": "{users.name}", "n": 1, "tags": ["{users.id}", "x"]}),
        )),
        headers: vec![("X-User".into(), "{users.id}".into())],
        ..RequestSpec::get("svc", "/users/{users.id}")
    };
    let w = Workload::Closed {
        users: 1,
        think: Some((Duration(5.0), Duration(5.0))),
    };
    let mut s = spec(server.url(false), vec![request], w, 0.3);
    s.feeders = feeders;
    let r = run(s).await;
    assert_eq!(r.errors, 0);
    let seen = server.seen();
    assert!(seen.len() >= 4);
    assert_eq!(seen[0].path, "/users/1");
    assert_eq!(seen[1].path, "/users/2");
    assert_eq!(seen[2].path, "/users/1");
    let body: serde_json::Value = serde_json::from_str(&seen[1].body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"user": "bob", "n": 1, "tags": ["2", "x"]})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_specs_are_refused_before_sending() {
    let w = || open(10.0, Arrival::Constant);
    let bad = |path: &str| {
        spec(
            "http://127.0.0.1:9".into(),
            vec![RequestSpec::get("svc", path)],
            w(),
            1.0,
        )
    };
    let e = start(bad("/{users.id}")).err().unwrap();
    assert!(e.to_string().contains("no data named `users`"), "{e}");
    let e = start(bad("/{id}")).err().unwrap();
    assert!(e.to_string().contains("is not a placeholder"), "{e}");
    let e = start(spec(
        "ftp://x".into(),
        vec![RequestSpec::get("s", "/")],
        w(),
        1.0,
    ))
    .err()
    .unwrap();
    assert!(e.to_string().contains("not http or https"), "{e}");
    let e = start(spec("http://x".into(), vec![], w(), 1.0))
        .err()
        .unwrap();
    assert!(e.to_string().contains("no requests"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Replaying a learned model (issue 6)

/// The truth of the generated log: a session chain over three endpoints and a daily rhythm.
/// START → items; items → items 50 %, cart 20 %, end 30 %; cart → checkout 60 %, items 20 %,
/// end 20 %; checkout → end. Expected visits per session: items 50/23, cart 10/23, checkout
/// 6/23 (66/23 requests in all).
const ENDPOINTS: [(&str, &str, &str); 3] = [
    ("items", "GET", "/items/{id}"),
    ("cart", "POST", "/cart/{id}"),
    ("checkout", "POST", "/checkout"),
];
const TRUE_SHARE: [f64; 3] = [50.0 / 66.0, 10.0 / 66.0, 6.0 / 66.0];
const REQUESTS_PER_SESSION: f64 = 66.0 / 23.0;

/// Requests per hour at Unix hour `h`: a daily wave between 0.4× and 1.6× of `base`.
fn true_rate(h: i64, base: f64) -> f64 {
    let hod = h.rem_euclid(24) as f64;
    base * (1.0 + 0.6 * ((hod - 8.0) / 24.0 * std::f64::consts::TAU).sin())
}

fn poisson_count(rng: &mut rand::rngs::StdRng, mean: f64) -> u64 {
    use rand::RngExt;
    // Knuth's method in chunks (means here are at most a few hundred).
    let mut n = 0;
    let mut left = mean;
    while left > 0.0 {
        let step = left.min(30.0);
        left -= step;
        let limit = (-step).exp();
        let mut p = 1.0;
        loop {
            p *= rng.random::<f64>();
            if p <= limit {
                break;
            }
            n += 1;
        }
    }
    n
}

/// Two weeks of nginx JSON lines: sessions (one client each) arriving hour by hour, walking the
/// chain with 5–15 s think times; POST bodies of 200–2,000 bytes behind 300 bytes of headers.
fn session_log(dir: &std::path::Path, base: f64) -> std::path::PathBuf {
    use rand::{RngExt, SeedableRng};
    use std::fmt::Write as _;
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let monday = 1_793_577_600i64; // 2026-11-02T00:00Z
    let mut lines: Vec<(f64, String)> = Vec::new();
    let mut client = 0u32;
    for h in monday / 3600..monday / 3600 + 14 * 24 {
        let sessions = poisson_count(&mut rng, true_rate(h, base) / REQUESTS_PER_SESSION);
        for _ in 0..sessions {
            client += 1;
            let ip = format!(
                "10.{}.{}.{}",
                client >> 16,
                (client >> 8) & 255,
                client & 255
            );
            let mut t = (h * 3600) as f64 + rng.random::<f64>() * 3600.0;
            let mut state = 0usize;
            loop {
                let (_, method, template) = ENDPOINTS[state];
                let path = template.replace("{id}", &rng.random_range(1..50_000u32).to_string());
                let length = if method == "POST" {
                    300 + rng.random_range(200..=2000u32)
                } else {
                    300
                };
                lines.push((
                    t,
                    format!(
                        r#"{{"msec":"{t:.3}","remote_addr":"{ip}","request_method":"{method}","request_uri":"{path}","status":200,"body_bytes_sent":512,"request_length":{length},"http_user_agent":"replay-test"}}"#
                    ),
                ));
                let x: f64 = rng.random();
                let next = match state {
                    0 if x < 0.5 => Some(0),
                    0 if x < 0.7 => Some(1),
                    1 if x < 0.6 => Some(2),
                    1 if x < 0.8 => Some(0),
                    _ => None,
                };
                let Some(n) = next else { break };
                state = n;
                t += 5.0 + rng.random::<f64>() * 10.0;
            }
        }
    }
    lines.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut text = String::with_capacity(lines.len() * 200);
    for (_, l) in lines {
        let _ = writeln!(text, "{l}");
    }
    let path = dir.join("sessions.log");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_learned_model_keeps_mix_rate_and_sizes_within_5_percent_of_the_truth() {
    use res::learn::{learn_file, LearnOptions};
    use res::run::replay;
    let dir = std::env::temp_dir().join(format!("res-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let base = 1000.0;
    let log = session_log(&dir, base);
    let profile = learn_file(
        &log,
        res::check::model::LogFormat::NginxJson,
        &LearnOptions::default(),
    )
    .unwrap();
    let server = ok_server(false).await;

    // One request per endpoint, each its own "service" so the result counts them apart.
    let requests: Vec<RequestSpec> = ENDPOINTS
        .iter()
        .map(|(name, method, template)| {
            let e = profile
                .endpoints
                .iter()
                .find(|e| e.method == *method && e.template == *template)
                .unwrap_or_else(|| panic!("{method} {template} learned"));
            let mut r = RequestSpec::get(*name, template.replace("{id}", "{random.1000}"));
            r.method = method.to_string();
            if *method == "POST" {
                r.body = replay::request_sizes(&profile, e).map(BodySpec::Sized);
            }
            r
        })
        .collect();
    let index_of = |i: usize| {
        let e = &profile.endpoints[i];
        ENDPOINTS
            .iter()
            .position(|(_, m, t)| *m == e.method && *t == e.template)
    };
    // A weekday (the third Monday) replayed 7,200 times faster: 24 h in 12 s.
    let speedup = 7200.0;
    let secs = 12.0;
    let scale = 4800.0;
    let monday3 = 1_793_577_600i64 + 14 * 86_400;
    let chain = replay::chain(&profile, index_of, speedup).expect("sessions were learned");
    let schedule = replay::schedule(
        &profile,
        None,
        monday3,
        speedup,
        scale,
        Duration::from_secs(secs),
    );
    let mut s = spec(
        server.url(false),
        requests,
        Workload::Chain {
            schedule,
            arrival: Arrival::Poisson,
            pacing: Pacing::Precise,
            chain,
        },
        secs,
    );
    s.connections = 64;
    s.seed = 5;
    let r = run(s).await;
    assert_eq!(r.errors, 0, "{:?}", r.total.errors_by_kind);

    // The mix: each endpoint's share of what was sent, against the chain's true visit shares.
    let total = r.requests as f64;
    for (i, (name, _, _)) in ENDPOINTS.iter().enumerate() {
        let got = r
            .services
            .iter()
            .find(|x| x.service == *name)
            .map_or(0, |x| x.requests) as f64
            / total;
        let truth = TRUE_SHARE[i];
        eprintln!("replay: {name} share {got:.4}, truth {truth:.4}");
        assert!(
            (got - truth).abs() / truth < 0.05,
            "{name}: replayed share {got:.4}, truth {truth:.4}"
        );
    }
    // The rate: requests in each quarter of the day (3 s of the run) against the truth,
    // scale × the true requests of those six hours / speedup; and over the whole day.
    let mut quarters = Vec::new();
    for q in 0..4u64 {
        let got: u64 = r
            .series
            .iter()
            .filter(|x| x.t >= q * 3 && x.t < q * 3 + 3)
            .map(|x| x.requests)
            .sum();
        let first = monday3 / 3600 + q as i64 * 6;
        let truth: f64 =
            (first..first + 6).map(|h| true_rate(h, base)).sum::<f64>() * scale / speedup;
        quarters.push((got as f64, truth));
        // A quarter holds about 1,300 sessions of 2.9 requests on average (and variable
        // length): its count has a standard deviation of about 3.5 % by itself.
        assert!(
            (got as f64 - truth).abs() / truth < 0.08,
            "hours {}..{}: replayed {got} requests, truth {truth:.0}",
            q * 6,
            q * 6 + 6
        );
    }
    let (got, truth) = quarters
        .iter()
        .fold((0.0, 0.0), |(g, t), (a, b)| (g + a, t + b));
    assert!(
        (got - truth).abs() / truth < 0.05,
        "the day: replayed {got} requests, truth {truth:.0}"
    );
    eprintln!("replay: quarters (replayed, truth) {quarters:.0?}; day {got} vs {truth:.0}");
    // The shape: the afternoon is the busiest quarter, over twice the night's.
    assert!(quarters[2].0 > quarters[1].0 && quarters[2].0 > 2.0 * quarters[0].0);
    // Request bodies: 200–2,000 bytes uniformly, so 1,100 on average.
    let bodies: Vec<usize> = server
        .seen()
        .iter()
        .filter(|x| !x.path.starts_with("/items/"))
        .map(|x| x.body.len())
        .collect();
    let mean = bodies.iter().sum::<usize>() as f64 / bodies.len().max(1) as f64;
    eprintln!(
        "replay: mean body {mean:.0} bytes over {} requests",
        bodies.len()
    );
    assert!(
        (mean - 1100.0).abs() / 1100.0 < 0.05,
        "mean body {mean:.0} bytes over {} requests",
        bodies.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// Steps of a scenario

/// `res run FILE --seed N --report json=…` as a child process, its report parsed.
async fn res_run(file: &std::path::Path, seed: u64) -> serde_json::Value {
    let report = file.with_extension("json");
    let (f, r) = (file.to_path_buf(), report.clone());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_res"))
            .args([
                "run",
                f.to_str().unwrap(),
                "-q",
                "--seed",
                &seed.to_string(),
            ])
            .arg(format!("--report=json={}", r.display()))
            .env("NO_COLOR", "1")
            .env("RES_STATE_DIR", f.with_extension("state"))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap()
}

/// Steps one after another each send exactly their planned count, counted by the server. A
/// step's load is built and started a few milliseconds after the step's planned start, and
/// the step is stopped at its planned end; its schedule used to count from when the load
/// started, so every step after the first lost the arrivals of its last milliseconds (rate ×
/// start-up time: 2–6 of 800 here), while the report's rate over the shortened time hid it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consecutive_steps_each_send_their_planned_count() {
    let server = ok_server(false).await;
    let dir = std::env::temp_dir().join(format!("res-load-steps-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("steps.res");
    std::fs::write(
        &file,
        format!(
            "system s {{\n  base \"{}\"\n  service api {{ route GET \"/hello\" expect status 2xx }}\n}}\n\
             traffic t {{ rate 400/s  arrival constant }}\n\
             scenario steps {{\n  step a = load t for 2s\n  step b = load t after a for 2s\n  \
             step c = load t after b for 2s\n  step d = load t after c for 2s\n  \
             step e = load t at 10% after d for 2s\n}}\n",
            server.url(false)
        ),
    )
    .unwrap();
    let report = res_run(&file, 5).await;
    // Constant arrivals: 400/s for 2 s is 800 requests, 80 at 10 %.
    let planned = 4 * 800 + 80;
    let served = server.seen().len();
    assert!(
        served.abs_diff(planned) <= 1,
        "the server counted {served} requests, the steps planned {planned}: {}",
        report["steps"]
    );
    for step in report["steps"].as_array().unwrap() {
        let sent = step["achieved_rps"].as_f64().unwrap() * step["length_s"].as_f64().unwrap();
        let plan = step["planned_rps"].as_f64().unwrap() * step["length_s"].as_f64().unwrap();
        assert!((sent - plan).abs() <= 1.0, "{step}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
