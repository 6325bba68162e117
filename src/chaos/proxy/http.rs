//! HTTP mode through hyper: parse each request, decide per request which faults act on it,
//! and forward the rest over a keep-alive hyper client connection to the upstream. HTTP/1.1
//! connections start on the proxy's own forwarding path ([`super::h1`]), which hands a
//! connection over to this one for HTTP/2, HTTP/1.0, upgrades and response-body shaping.
//!
//! This is where faults can do what a byte proxy cannot: answer `503` to 5 % of
//! `POST /checkout`, reset only requests carrying `X-Canary: 1`, delay one route and not the
//! others. The order of effects on a request is: reset, blackhole, timeout, delay, error
//! answer, then forwarding with the response body shaped if a fault asks for it.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, CONNECTION, CONTENT_TYPE, HOST};
use hyper::http::request::Parts;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Uri, Version};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;

use super::http_body::ProxyBody;
use super::io::{ConnState, ProxyIo};
use super::plan::{choose, note, until_removed, RequestPlan};
use super::pool::Lease;
use super::schedule::{corrected, Shaping};
use super::stats::{add, bump};
use super::Shared;

/// hyper's per-connection buffer limit, both legs.
pub(super) const MAX_BUF: usize = 32 * 1024;

/// Why a request got no answer; hyper closes the connection on it.
#[derive(Debug, thiserror::Error)]
enum Abort {
    #[error("reset by a fault")]
    Reset,
    #[error("closed by a fault")]
    Closed,
}

/// Serves a client connection with hyper (HTTP/2, and the HTTP/1.1 requests the forwarding
/// path in [`super::h1`] hands over) until it ends; `io` may replay bytes already read.
pub(super) async fn serve(shared: Arc<Shared>, conn: Arc<ConnState>, io: ProxyIo) {
    let conn_state = conn.clone();
    let handler_shared = shared.clone();
    let service = service_fn(move |req| handle(handler_shared.clone(), conn.clone(), req));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // Small buffers: hyper's default lets each connection buffer ~400 KB each way, which
    // is most of a proxy's memory under load with large bodies.
    builder
        .http1()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .max_buf_size(MAX_BUF);
    let connection = builder.serve_connection(TokioIo::new(io), service);
    let mut stop = shared.stop.clone();
    tokio::select! {
        _ = connection => {}
        _ = stop.wait_for(|s| *s) => {}
    }
    if let Some((server, sender)) = conn_state.close() {
        shared.pool_of(server).put(sender);
    }
}

/// One request, timed to its response headers (or its drop) for the proxy's own latency
/// and error counts.
async fn handle(
    shared: Arc<Shared>,
    conn: Arc<ConnState>,
    req: Request<Incoming>,
) -> Result<Response<ProxyBody>, Abort> {
    let start = std::time::Instant::now();
    let out = answer(shared.clone(), conn, req).await;
    let c = &shared.counters;
    bump(&c.answered);
    if out.as_ref().map_or(true, |r| r.status().is_server_error()) {
        bump(&c.failed_answers);
    }
    add(
        &c.latency_us_sum,
        u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX),
    );
    out
}

async fn answer(
    shared: Arc<Shared>,
    conn: Arc<ConnState>,
    req: Request<Incoming>,
) -> Result<Response<ProxyBody>, Abort> {
    bump(&shared.counters.requests);
    let set = {
        let mut view = conn.view.lock().unwrap_or_else(|e| e.into_inner());
        view.refresh(&shared.table);
        // No clone (an atomic on a cache line every connection shares) when there is nothing.
        (!view.set.is_empty()).then(|| view.set.clone())
    };
    let (parts, body) = req.into_parts();
    let Some(set) = set else {
        return Ok(forward(&shared, &conn, parts, body, Shaping::default()).await);
    };
    let plan = RequestPlan::of(&set, &parts);
    drop(set);
    let c = &shared.counters;
    if plan.hit {
        bump(&c.faulted);
    }
    if plan.reset {
        bump(&c.resets);
        conn.abort.store(true, Ordering::Release);
        return Err(Abort::Reset);
    }
    if let Some(id) = plan.blackhole {
        bump(&c.blackholed);
        until_removed(&shared, id).await;
        return Err(Abort::Closed);
    }
    if let Some(after) = plan.timeout {
        bump(&c.timeouts);
        tokio::time::sleep(after).await;
        return Err(Abort::Closed);
    }
    if !plan.delay.is_zero() {
        bump(&c.delayed);
        tokio::time::sleep(corrected(plan.delay)).await;
    }
    if let Some((status, fault)) = plan.error {
        bump(&c.injected_errors);
        return Ok(injected(status, &fault));
    }
    Ok(forward(&shared, &conn, parts, body, plan.shaping).await)
}

async fn forward(
    shared: &Arc<Shared>,
    conn: &Arc<ConnState>,
    parts: Parts,
    body: Incoming,
    shaping: Shaping,
) -> Response<ProxyBody> {
    let Some(server) = choose(shared, conn) else {
        bump(&shared.counters.no_server);
        return no_server();
    };
    let (pool, addr) = (shared.pool_of(server), shared.addr_of(server));
    let mut req = upstream_request(addr, parts, body);
    loop {
        let (mut sender, reused) = match conn.take_upstream(server).or_else(|| pool.take()) {
            Some(sender) => (sender, true),
            None => match pool.connect().await {
                Ok(sender) => {
                    note(shared, server, true);
                    (sender, false)
                }
                Err(e) => {
                    bump(&shared.counters.upstream_errors);
                    note(shared, server, false);
                    return bad_gateway(e.to_string());
                }
            },
        };
        if sender.ready().await.is_err() {
            if reused {
                continue;
            }
            bump(&shared.counters.upstream_errors);
            note(shared, server, false);
            return bad_gateway(format!("upstream {addr} closed the connection"));
        }
        match sender.try_send_request(req).await {
            Ok(resp) => return respond(shared, conn, server, sender, resp, shaping),
            Err(mut e) => match e.take_message() {
                // A reused connection closed under us before the request left: try another.
                Some(unsent) if reused => req = unsent,
                _ => {
                    bump(&shared.counters.upstream_errors);
                    note(shared, server, false);
                    return bad_gateway(format!("upstream {addr} failed: {}", e.into_error()));
                }
            },
        }
    }
}

fn respond(
    shared: &Arc<Shared>,
    conn: &Arc<ConnState>,
    server: usize,
    sender: super::pool::Sender,
    resp: Response<Incoming>,
    shaping: Shaping,
) -> Response<ProxyBody> {
    let (mut parts, body) = resp.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    let lease = Some(Lease::new(shared.clone(), conn.clone(), server, sender));
    let body = if shaping.is_none() {
        ProxyBody::Upstream { body, lease }
    } else {
        ProxyBody::shaped(body, lease, shaping)
    };
    Response::from_parts(parts, body)
}

fn upstream_request(
    upstream: std::net::SocketAddr,
    mut parts: Parts,
    body: Incoming,
) -> Request<ProxyBody> {
    if !parts.headers.contains_key(HOST) {
        let host = parts
            .uri
            .authority()
            .map(|a| a.to_string())
            .unwrap_or_else(|| upstream.to_string());
        if let Ok(host) = HeaderValue::from_str(&host) {
            parts.headers.insert(HOST, host);
        }
    }
    let origin = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    parts.uri = origin.parse().unwrap_or_else(|_| Uri::from_static("/"));
    parts.version = Version::HTTP_11;
    strip_hop_by_hop(&mut parts.headers);
    Request::from_parts(parts, ProxyBody::Request(body))
}

/// Headers that describe one hop, not the message (RFC 9110 §7.6.1).
fn strip_hop_by_hop(headers: &mut hyper::HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in super::h1::head::HOP {
        headers.remove(name);
    }
}

fn injected(status: u16, fault: &str) -> Response<ProxyBody> {
    let mut resp = Response::new(ProxyBody::text(format!(
        "res: status {status} injected by fault `{fault}`\n"
    )));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    if let Ok(v) = HeaderValue::from_str(fault) {
        headers.insert("x-res-fault", v);
    }
    resp
}

/// A splitting proxy with no server ready: 503, like a balancer with an empty backend.
fn no_server() -> Response<ProxyBody> {
    let mut resp = Response::new(ProxyBody::text(
        "res proxy: no server is ready with a weight above 0 (all drained, in maintenance or weighted 0)\n".to_string(),
    ));
    *resp.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    headers.insert("x-res-proxy", HeaderValue::from_static("no-server"));
    resp
}

fn bad_gateway(detail: String) -> Response<ProxyBody> {
    let mut resp = Response::new(ProxyBody::text(format!("res proxy: {detail}\n")));
    *resp.status_mut() = StatusCode::BAD_GATEWAY;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    resp
}
