//! The embedded demo shop, tested as a client sees it: real sockets on 127.0.0.1, free ports.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderMap, ALLOW, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use res::demo::{self, DemoConfig, DemoShop, Service, ServiceCapacities, ServiceTimes};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A keep-alive HTTP/1.1 connection to one listener.
struct Client {
    addr: SocketAddr,
    sender: SendRequest<Full<Bytes>>,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        tokio::spawn(connection);
        Client { addr, sender }
    }

    async fn send(&mut self, method: Method, path: &str, body: Option<Bytes>) -> Answer {
        let mut request = Request::new(Full::new(body.unwrap_or_default()));
        *request.method_mut() = method;
        *request.uri_mut() = path.parse().expect("path");
        let host = self.addr.to_string().parse().expect("host");
        request.headers_mut().insert(HOST, host);
        self.sender.ready().await.expect("connection ready");
        let response = self.sender.send_request(request).await.expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn get(&mut self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }

    async fn json(&mut self, method: Method, path: &str, body: Value) -> Answer {
        self.send(method, path, Some(Bytes::from(body.to_string())))
            .await
    }
}

async fn get(addr: SocketAddr, path: &str) -> Answer {
    Client::connect(addr).await.get(path).await
}

async fn send_json(addr: SocketAddr, method: Method, path: &str, body: Value) -> Answer {
    Client::connect(addr).await.json(method, path, body).await
}

async fn send_raw(addr: SocketAddr, method: Method, path: &str, body: &'static [u8]) -> Answer {
    Client::connect(addr)
        .await
        .send(method, path, Some(Bytes::from_static(body)))
        .await
}

async fn shop_with(config: DemoConfig) -> DemoShop {
    demo::start(config).await.expect("demo shop starts")
}

/// Fast, constant service times: the route tests are about behaviour, not timing.
fn quick() -> DemoConfig {
    DemoConfig {
        service_time: ServiceTimes {
            catalog: Duration::from_millis(1),
            checkout: Duration::from_millis(1),
            payments: Duration::from_millis(1),
            sigma: 0.0,
        },
        ..DemoConfig::default()
    }
}

/// An address on which nothing listens.
async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("addr")
}

#[tokio::test]
async fn every_route_answers() {
    let shop = shop_with(quick()).await;
    let addr = shop.addr();
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    assert_ne!(shop.payments_addr(), addr);

    let health = get(addr, "/health").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "ok");
    assert_eq!(
        health.headers[CONTENT_TYPE].to_str().unwrap(),
        "application/json"
    );

    let items = get(addr, "/items").await;
    assert_eq!(items.status, StatusCode::OK);
    assert_eq!(items.body["items"].as_array().map(Vec::len), Some(20));

    let item = get(addr, "/items/1001").await;
    assert_eq!(item.status, StatusCode::OK);
    assert_eq!(item.body["id"], 1001);
    assert!(item.body["price_cents"].as_u64().is_some());
    assert_eq!(
        get(addr, "/items/1001?ref=home").await.status,
        StatusCode::OK
    );

    for not_a_number in ["/items/abc", "/items/-1", "/items/1.5", "/items/"] {
        let answer = get(addr, not_a_number).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{not_a_number}");
        assert!(answer.body["error"].is_string());
    }

    let order = send_json(
        addr,
        Method::POST,
        "/checkout",
        json!({ "item": "1001", "qty": 2 }),
    )
    .await;
    assert_eq!(order.status, StatusCode::OK, "{}", order.body);
    assert!(order.body["order"].as_str().unwrap().starts_with("ord-"));
    assert!(order.body["payment"].as_str().unwrap().starts_with("pay-"));
    assert_eq!(order.body["qty"], 2);
    let numeric = send_json(addr, Method::POST, "/checkout", json!({ "item": 1002 })).await;
    assert_eq!(numeric.status, StatusCode::OK);
    assert_eq!(numeric.body["qty"], 1);

    let pay = shop.payments_addr();
    assert_eq!(get(pay, "/health").await.body["service"], "payments");
    let payment = send_json(pay, Method::POST, "/payments", json!({ "order": "x" })).await;
    assert_eq!(payment.status, StatusCode::OK);
    assert_eq!(payment.body["status"], "approved");
    assert_eq!(payment.body["order"], "x");

    // Payments lives on its own listener only: checkout → payments is one path, the one a
    // fault proxy can sit on.
    let misplaced = send_json(addr, Method::POST, "/payments", json!({})).await;
    assert_eq!(misplaced.status, StatusCode::NOT_FOUND);
    assert_eq!(get(pay, "/items/1").await.status, StatusCode::NOT_FOUND);

    shop.shutdown().await;
}

#[tokio::test]
async fn checkout_really_calls_payments() {
    let shop = shop_with(quick()).await;
    let mut client = Client::connect(shop.addr()).await;
    let before = shop.stats();
    for n in 0..10 {
        let order = client
            .json(Method::POST, "/checkout", json!({ "item": 1000 + n }))
            .await;
        assert_eq!(order.status, StatusCode::OK);
    }
    let after = shop.stats();
    assert_eq!(after.payments.requests - before.payments.requests, 10);
    assert_eq!(after.payments.completed - before.payments.completed, 10);
    assert_eq!(after.checkout.completed - before.checkout.completed, 10);
    assert_eq!(after.checkout.errors, 0);
    assert_eq!(after.checkout.in_flight, 0);
    shop.shutdown().await;
}

/// What a fixed number of closed-loop clients got out of one route for a while.
#[derive(Debug)]
struct Run {
    throughput: f64,
    mean_latency: Duration,
    ok: u64,
    rejected: u64,
    peak_in_flight: usize,
}

/// `clients` keep-alive connections, each sending `GET path` back to back for `duration`.
async fn closed_loop(
    shop: &DemoShop,
    path: &'static str,
    clients: usize,
    duration: Duration,
) -> Run {
    let deadline = Instant::now() + duration;
    let addr = shop.addr();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        tasks.push(tokio::spawn(async move {
            let mut client = Client::connect(addr).await;
            let (mut ok, mut rejected, mut busy) = (0u64, 0u64, Duration::ZERO);
            while Instant::now() < deadline {
                let sent = Instant::now();
                let answer = client.get(path).await;
                match answer.status {
                    StatusCode::OK => {
                        ok += 1;
                        busy += sent.elapsed();
                    }
                    StatusCode::SERVICE_UNAVAILABLE => {
                        rejected += 1;
                        // A rejected client backs off a little, as real ones do.
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                    other => panic!("unexpected {other}"),
                }
            }
            (ok, rejected, busy)
        }));
    }
    let started = Instant::now();
    let mut peak_in_flight = 0;
    while Instant::now() < deadline {
        peak_in_flight = peak_in_flight.max(shop.stats().catalog.in_flight);
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let (mut ok, mut rejected, mut busy) = (0, 0, Duration::ZERO);
    for task in tasks {
        let (o, r, b) = task.await.expect("client task");
        ok += o;
        rejected += r;
        busy += b;
    }
    let elapsed = started.elapsed().as_secs_f64();
    Run {
        throughput: ok as f64 / elapsed,
        mean_latency: busy / u32::try_from(ok.max(1)).unwrap_or(u32::MAX),
        ok,
        rejected,
        peak_in_flight,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn throughput_saturates_at_capacity_and_the_queue_overflows_into_503() {
    let median = Duration::from_millis(20);
    let shop = shop_with(DemoConfig {
        capacity: ServiceCapacities {
            catalog: 2,
            ..ServiceCapacities::default()
        },
        service_time: ServiceTimes {
            catalog: median,
            sigma: 0.25,
            ..ServiceTimes::default()
        },
        ..DemoConfig::default()
    })
    .await;
    // Lognormal mean = median × e^(σ²/2); two workers serve at most 2 / mean per second.
    let mean = median.as_secs_f64() * (0.25f64 * 0.25 / 2.0).exp();
    let ceiling = 2.0 / mean;
    let window = Duration::from_millis(1000);

    let one = closed_loop(&shop, "/items/7", 1, window).await;
    let two = closed_loop(&shop, "/items/7", 2, window).await;
    let eight = closed_loop(&shop, "/items/7", 8, window).await;
    let forty = closed_loop(&shop, "/items/7", 40, window).await;
    for (clients, run) in [(1, &one), (2, &two), (8, &eight), (40, &forty)] {
        eprintln!(
            "catalog capacity 2, median 20 ms, {clients:>2} clients: {:6.1} req/s, mean latency {:6.1} ms, {} ok, {} × 503, peak in flight {}",
            run.throughput,
            run.mean_latency.as_secs_f64() * 1e3,
            run.ok,
            run.rejected,
            run.peak_in_flight
        );
    }
    eprintln!("ceiling 2 / mean service time = {ceiling:.1} req/s");

    // Below the knee throughput grows with load, and latency stays at the service time.
    assert!(two.throughput > 1.6 * one.throughput, "{one:?} {two:?}");
    assert!(one.mean_latency < median * 2, "{one:?}");
    // Past it throughput stays at the ceiling while latency grows with the queue.
    for run in [&two, &eight, &forty] {
        assert!(run.throughput < ceiling * 1.1, "{run:?} above {ceiling}");
        assert!(run.peak_in_flight <= 2, "{run:?}");
    }
    assert!(
        eight.throughput > ceiling * 0.75,
        "{eight:?} below {ceiling}"
    );
    assert!(
        eight.mean_latency > one.mean_latency * 3,
        "{one:?} {eight:?}"
    );
    assert_eq!(eight.rejected, 0, "8 clients fit in 2 workers + 8 queued");
    // 40 clients overflow the 2 + 8 places: the rest get 503 at once.
    assert!(forty.rejected > 0, "{forty:?}");
    assert!(
        forty.throughput > ceiling * 0.75,
        "{forty:?} below {ceiling}"
    );
    let stats = shop.stats().catalog;
    assert_eq!(stats.rejected, forty.rejected);
    assert_eq!(stats.requests, stats.rejected + stats.completed);
    assert_eq!(stats.in_flight + stats.queued, 0);
    shop.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn capacity_changes_take_effect_live() {
    let shop = shop_with(DemoConfig {
        capacity: ServiceCapacities {
            catalog: 1,
            ..ServiceCapacities::default()
        },
        service_time: ServiceTimes {
            catalog: Duration::from_millis(20),
            sigma: 0.0,
            ..ServiceTimes::default()
        },
        ..DemoConfig::default()
    })
    .await;
    let addr = shop.addr();
    let window = Duration::from_millis(500);
    let before = closed_loop(&shop, "/items/1", 4, window).await;

    let mut admin = Client::connect(addr).await;
    let set = admin
        .json(Method::PUT, "/admin/capacity", json!({ "catalog": 4 }))
        .await;
    assert_eq!(set.status, StatusCode::OK);
    assert_eq!(
        set.body,
        json!({ "catalog": 4, "checkout": 4, "payments": 4 })
    );
    let after = closed_loop(&shop, "/items/1", 4, window).await;
    eprintln!(
        "catalog 1 → 4 workers at 20 ms: {:.1} → {:.1} req/s",
        before.throughput, after.throughput
    );
    assert!(
        after.throughput > 2.5 * before.throughput,
        "{before:?} {after:?}"
    );
    assert!(before.peak_in_flight <= 1 && after.peak_in_flight <= 4);

    let scaled = admin
        .json(
            Method::POST,
            "/admin/scale",
            json!({ "service": "checkout", "by": 2 }),
        )
        .await;
    assert_eq!(scaled.status, StatusCode::OK);
    assert_eq!(
        scaled.body,
        json!({ "service": "checkout", "previous": 4, "capacity": 6 })
    );
    let down = admin
        .json(
            Method::POST,
            "/admin/scale",
            json!({ "service": "checkout", "by": -3 }),
        )
        .await;
    assert_eq!(down.body["capacity"], 3);
    let to = admin
        .json(
            Method::POST,
            "/admin/scale",
            json!({ "service": "payments", "to": 7 }),
        )
        .await;
    assert_eq!(to.body["capacity"], 7);
    assert_eq!(
        admin.get("/admin/capacity").await.body,
        json!({ "catalog": 4, "checkout": 3, "payments": 7 })
    );
    assert_eq!(shop.set_capacity(Service::Catalog, 2), Ok(4));
    assert_eq!(shop.capacities().catalog, 2);

    let stats = admin.get("/admin/stats").await;
    assert_eq!(stats.status, StatusCode::OK);
    for service in ["catalog", "checkout", "payments"] {
        for counter in [
            "capacity",
            "requests",
            "rejected",
            "in_flight",
            "queued",
            "completed",
            "errors",
        ] {
            assert!(
                stats.body[service][counter].is_u64(),
                "{service}.{counter}: {}",
                stats.body
            );
        }
    }
    assert_eq!(stats.body["catalog"]["capacity"], 2);
    assert!(stats.body["catalog"]["completed"].as_u64().unwrap() > 0);
    shop.shutdown().await;
}

#[tokio::test]
async fn checkout_answers_502_quickly_when_payments_is_down() {
    let shop = shop_with(DemoConfig {
        payments_upstream: Some(closed_port().await),
        ..quick()
    })
    .await;
    let started = Instant::now();
    let order = send_json(shop.addr(), Method::POST, "/checkout", json!({ "item": 1 })).await;
    assert_eq!(order.status, StatusCode::BAD_GATEWAY, "{}", order.body);
    assert!(order.body["error"].as_str().unwrap().contains("payments"));
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    let stats = shop.stats();
    assert_eq!(stats.checkout.errors, 1);
    assert_eq!(stats.payments.requests, 0);

    // Pointing checkout back at payments heals it.
    shop.set_payments_upstream(shop.payments_addr());
    let order = send_json(shop.addr(), Method::POST, "/checkout", json!({ "item": 1 })).await;
    assert_eq!(order.status, StatusCode::OK);
    shop.shutdown().await;
}

#[tokio::test]
async fn checkout_answers_504_when_payments_hangs() {
    // Accepts connections, never answers: a blackholed dependency.
    let silent = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let silent_addr = silent.local_addr().expect("addr");
    let hold = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            open.push(stream);
        }
    });
    let shop = shop_with(DemoConfig {
        payments_upstream: Some(silent_addr),
        payments_timeout: Duration::from_millis(300),
        ..quick()
    })
    .await;
    let started = Instant::now();
    let order = send_json(shop.addr(), Method::POST, "/checkout", json!({ "item": 1 })).await;
    let took = started.elapsed();
    assert_eq!(order.status, StatusCode::GATEWAY_TIMEOUT, "{}", order.body);
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(1000),
        "{took:?}"
    );
    shop.shutdown().await;
    hold.abort();
}

#[tokio::test]
async fn bad_input_gets_4xx_and_the_shop_stays_up() {
    let shop = shop_with(quick()).await;
    let addr = shop.addr();

    for (body, why) in [
        (&b"{not json"[..], "not JSON"),
        (b"[1, 2]", "not an object"),
        (b"{}", "no item"),
        (b"{\"item\": \"abc\"}", "item not a number"),
        (b"{\"item\": 1, \"qty\": 0}", "qty zero"),
        (b"{\"item\": 1, \"qty\": 1.5}", "qty fractional"),
        (b"{\"item\": 1, \"qty\": 100000}", "qty too large"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ] {
        let answer = send_raw(addr, Method::POST, "/checkout", body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{why}");
        assert!(answer.body["error"].is_string(), "{why}");
    }
    assert_eq!(
        send_raw(shop.payments_addr(), Method::POST, "/payments", b"nope")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    for (body, why) in [
        (json!({ "nope": 1 }), "unknown service"),
        (json!({ "checkout": 0 }), "zero"),
        (json!({ "checkout": -2 }), "negative"),
        (json!({ "checkout": "5" }), "string"),
        (json!({ "checkout": 1_000_000 }), "too large"),
        (
            json!({ "checkout": 5, "catalog": 0 }),
            "one bad value spoils the change",
        ),
    ] {
        let answer = send_json(addr, Method::PUT, "/admin/capacity", body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{why}");
        assert!(answer.body["error"].is_string(), "{why}");
    }
    assert_eq!(
        shop.capacities(),
        ServiceCapacities::default(),
        "nothing applied"
    );
    for (body, why) in [
        (json!({ "service": "checkout" }), "neither by nor to"),
        (json!({ "service": "checkout", "by": 1, "to": 3 }), "both"),
        (json!({ "service": "checkout", "by": -4 }), "down to zero"),
        (json!({ "service": "checkout", "by": i64::MIN }), "overflow"),
        (
            json!({ "service": "warehouse", "by": 1 }),
            "unknown service",
        ),
        (json!({ "service": "checkout", "by": "+2" }), "string"),
        (
            json!({ "service": "checkout", "by": 1, "dry": true }),
            "unknown field",
        ),
    ] {
        let answer = send_json(addr, Method::POST, "/admin/scale", body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{why}");
    }
    assert_eq!(
        send_raw(addr, Method::PUT, "/admin/capacity", b"{{{")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    assert_eq!(get(addr, "/nowhere").await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        get(addr, "/items/1/reviews").await.status,
        StatusCode::NOT_FOUND
    );
    let wrong = send_json(addr, Method::DELETE, "/items/1", json!({})).await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong.headers[ALLOW], "GET");
    assert_eq!(
        get(addr, "/checkout").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        send_json(addr, Method::POST, "/admin/stats", json!({}))
            .await
            .status,
        StatusCode::METHOD_NOT_ALLOWED
    );

    // Over the 1 MiB cap, announced or streamed: 413.
    let huge = Bytes::from(vec![b' '; demo::MAX_BODY_BYTES + 1]);
    let streamed = Client::connect(addr)
        .await
        .send(Method::POST, "/checkout", Some(huge))
        .await;
    assert_eq!(streamed.status, StatusCode::PAYLOAD_TOO_LARGE);
    let announced = raw_exchange(
        addr,
        b"POST /checkout HTTP/1.1\r\nhost: x\r\ncontent-length: 99999999999\r\n\r\n",
    )
    .await;
    assert!(announced.starts_with("HTTP/1.1 413"), "{announced}");

    // Garbage on the wire costs a connection, not the server.
    let garbage = raw_exchange(addr, b"\x00\x01\x02 GARBAGE\r\n\r\n").await;
    assert!(
        garbage.is_empty() || garbage.starts_with("HTTP/1.1 400"),
        "{garbage}"
    );
    assert_eq!(get(addr, "/health").await.status, StatusCode::OK);
    assert_eq!(
        shop.stats().checkout.requests,
        0,
        "refused before taking a worker"
    );
    shop.shutdown().await;
}

/// Writes raw bytes, returns whatever comes back before the server closes or 2 s pass.
async fn raw_exchange(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(bytes).await.expect("write");
    let mut answer = vec![0; 4096];
    let read = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut answer)).await;
    let n = read.ok().and_then(Result::ok).unwrap_or(0);
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

#[tokio::test]
async fn speaks_http2_too() {
    let shop = shop_with(quick()).await;
    let stream = TcpStream::connect(shop.addr()).await.expect("connect");
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .expect("h2 handshake");
    tokio::spawn(connection);
    let request = Request::get(format!("http://{}/items/3", shop.addr()))
        .body(Full::new(Bytes::new()))
        .expect("request");
    let response = sender.send_request(request).await.expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.version(), hyper::Version::HTTP_2);
    shop.shutdown().await;
}

#[tokio::test]
async fn config_is_checked_and_shutdown_closes_the_ports() {
    let bad = DemoConfig {
        capacity: ServiceCapacities {
            checkout: 0,
            ..ServiceCapacities::default()
        },
        ..DemoConfig::default()
    };
    let refused = demo::start(bad).await.err().expect("capacity 0 refused");
    assert_eq!(refused.kind(), std::io::ErrorKind::InvalidInput);

    let mut settings = ServiceCapacities::default();
    settings
        .apply_setting("checkout=6, payments=2")
        .expect("valid");
    assert_eq!((settings.checkout, settings.payments), (6, 2));
    assert!(settings.apply_setting("checkout").is_err());
    assert!(settings.apply_setting("shipping=2").is_err());
    assert!(settings.apply_setting("checkout=0").is_err());

    let shop = shop_with(quick()).await;
    let (addr, pay) = (shop.addr(), shop.payments_addr());
    assert_eq!(shop.payments_upstream(), pay);
    let mut open = Client::connect(addr).await;
    assert_eq!(open.get("/health").await.status, StatusCode::OK);
    let started = Instant::now();
    shop.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(TcpStream::connect(addr).await.is_err());
    assert!(TcpStream::connect(pay).await.is_err());
}
