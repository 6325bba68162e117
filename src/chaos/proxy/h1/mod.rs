//! HTTP mode's own HTTP/1.1 forwarding: one task per client connection reads each request
//! head in place, decides the faults from it, and passes the head (rewritten for the next
//! hop) and the body bytes as they are to an upstream connection it keeps for the client;
//! the response comes back the same way. No header maps, no second parse through a client
//! library, no hand-off between tasks: per request it costs about what TCP mode costs.
//!
//! What this path does not take goes to hyper's server ([`super::http`]) for the rest of
//! the connection, with the bytes already read replayed ([`super::io::ProxyIo::replay`]):
//! HTTP/2 (prior knowledge), HTTP/1.0, `CONNECT`, `Upgrade` and `Expect` requests, unusual
//! framing, and any request while a fault shapes response bodies (bandwidth, slices,
//! per-chunk latency), which hyper's body path schedules chunk by chunk.
//!
//! As hyper's server and client did: a response whose body runs until the upstream closes
//! goes to the client chunked (its connection stays open), and interim 1xx responses are
//! dropped.

mod forward;
mod frame;
pub(super) mod head;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use self::frame::Body;
use self::head::Parsed;
use super::io::{ConnState, ProxyIo};
use super::plan::{choose, shapes, until_removed};
use super::schedule::corrected;
use super::stats::{add, bump, ActiveGuard};
use super::Shared;

/// The client read buffer's first size, and the most it grows to (a request head at its
/// limit, or a chunk-size line).
const CLIENT_BUF: usize = 8 * 1024;
const CLIENT_MAX: usize = 80 * 1024;
/// The upstream read buffer: response heads and body pieces.
const UPSTREAM_BUF: usize = 32 * 1024;
const UPSTREAM_MAX: usize = 80 * 1024;
/// Bodies up to this size go out in the same write as their head.
const COALESCE: usize = 32 * 1024;
/// How long a request head may take to arrive once its first byte has (hyper's server
/// allows 30 s too): a client that sends part of a head and stalls is answered `408` and
/// closed rather than holding its connection and buffer. An idle kept connection between
/// requests has no limit, as with hyper.
const HEAD_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// What the connection does after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    Continue,
    Close,
    /// Hyper's server takes the connection over.
    Handoff,
}

/// An upstream connection kept by this client connection.
struct Upstream {
    server: usize,
    stream: TcpStream,
    idle_since: Instant,
}

/// A client connection on this path; `shared` is borrowed (not an `Arc` clone per
/// request: its count is a cache line every connection's thread would contend for).
struct Conn<'s> {
    shared: &'s Shared,
    conn: Arc<ConnState>,
    io: ProxyIo,
    /// Bytes from the client not used yet live in `cbuf[cstart..cend]`.
    cbuf: Vec<u8>,
    cstart: usize,
    cend: usize,
    up: Option<Upstream>,
    ubuf: Vec<u8>,
    ustart: usize,
    uend: usize,
    /// The next head (and small body) to write, either way.
    out: Vec<u8>,
}

/// Serves one client connection of an HTTP-mode proxy.
pub(super) async fn serve(shared: Arc<Shared>, stream: TcpStream) {
    let _active = ActiveGuard::new(&shared.counters);
    let conn = Arc::new(ConnState::new(&shared));
    let io = ProxyIo::new(stream, conn.clone(), shared.clone());
    let mut c = Conn {
        shared: &shared,
        conn: conn.clone(),
        io,
        cbuf: vec![0; CLIENT_BUF],
        cstart: 0,
        cend: 0,
        up: None,
        ubuf: vec![0; UPSTREAM_BUF],
        ustart: 0,
        uend: 0,
        out: Vec::with_capacity(1024),
    };
    // No watch on the proxy's stop here: the accept loop aborts its connection tasks when
    // it stops, and a `select!` on the shared stop signal would take its lock on every wake.
    let next = c.run().await;
    if let Some(up) = c.up.take() {
        shared.pool_of(up.server).put_raw(up.stream);
    }
    if next == Next::Handoff {
        let Conn {
            mut io,
            cbuf,
            cstart,
            cend,
            ..
        } = c;
        io.replay(&cbuf[cstart..cend]);
        super::http::serve(shared.clone(), conn, io).await;
    } else {
        conn.close();
    }
}

impl Conn<'_> {
    async fn run(&mut self) -> Next {
        // When the head being read must be whole; set at its first byte.
        let mut head_by: Option<tokio::time::Instant> = None;
        loop {
            let set = {
                let mut view = self.conn.view.lock().unwrap_or_else(|e| e.into_inner());
                view.refresh(&self.shared.table);
                (!view.set.is_empty()).then(|| view.set.clone())
            };
            if set.as_deref().is_some_and(shapes) {
                return Next::Handoff;
            }
            let input = &self.cbuf[self.cstart..self.cend];
            let parsed = match head::request(input, set.as_deref(), &mut self.out) {
                head::Request::Parsed(p) => p,
                head::Request::Handoff => return Next::Handoff,
                head::Request::Refuse(status) => {
                    let text = format!("res proxy: bad request head ({status})\n");
                    head::answer(&mut self.out, status, &[], &text, false, true);
                    let _ = self.io.write_all(&self.out).await;
                    let _ = self.io.shutdown().await;
                    return Next::Close;
                }
                head::Request::Partial => {
                    drop(set);
                    let empty = self.cstart == self.cend;
                    let read = if empty {
                        self.read_client().await
                    } else {
                        let by = *head_by
                            .get_or_insert_with(|| tokio::time::Instant::now() + HEAD_READ_TIMEOUT);
                        match tokio::time::timeout_at(by, self.read_client()).await {
                            Ok(read) => read,
                            Err(_) => {
                                let text = "res proxy: the request head did not arrive in time\n";
                                head::answer(&mut self.out, 408, &[], text, false, true);
                                let _ = self.io.write_all(&self.out).await;
                                let _ = self.io.shutdown().await;
                                return Next::Close;
                            }
                        }
                    };
                    match read {
                        Some(n) if n > 0 => continue,
                        // A client that closes between requests is closed in turn.
                        Some(_) if empty => {
                            let _ = self.io.shutdown().await;
                            return Next::Close;
                        }
                        _ => return Next::Close,
                    }
                }
            };
            drop(set);
            head_by = None;
            self.cstart += parsed.len;
            let next = self.exchange(parsed).await;
            if next != Next::Continue {
                return next;
            }
        }
    }

    /// Reads more from the client; `Some(0)` at its end, `None` on an error or a full buffer.
    async fn read_client(&mut self) -> Option<usize> {
        if self.cstart == self.cend {
            (self.cstart, self.cend) = (0, 0);
        } else if self.cend == self.cbuf.len() {
            if self.cstart > 0 {
                self.cbuf.copy_within(self.cstart..self.cend, 0);
                (self.cstart, self.cend) = (0, self.cend - self.cstart);
            } else if self.cbuf.len() < CLIENT_MAX {
                self.cbuf.resize((self.cbuf.len() * 2).min(CLIENT_MAX), 0);
            } else {
                return None;
            }
        }
        let n = self.io.read(&mut self.cbuf[self.cend..]).await.ok()?;
        self.cend += n;
        Some(n)
    }

    /// One request whose head was read: faults first, then the upstream.
    async fn exchange(&mut self, p: Parsed) -> Next {
        let shared = self.shared;
        let c = &shared.counters;
        bump(&c.requests);
        let start = Instant::now();
        if let Some(plan) = &p.plan {
            if plan.hit {
                bump(&c.faulted);
            }
            if plan.reset {
                bump(&c.resets);
                self.finish(start, None);
                self.io.abort();
                return Next::Close;
            }
            if let Some(id) = plan.blackhole {
                bump(&c.blackholed);
                until_removed(shared, id).await;
                self.finish(start, None);
                return Next::Close;
            }
            if let Some(after) = plan.timeout {
                bump(&c.timeouts);
                tokio::time::sleep(after).await;
                self.finish(start, None);
                return Next::Close;
            }
            if !plan.delay.is_zero() {
                bump(&c.delayed);
                tokio::time::sleep(corrected(plan.delay)).await;
            }
            if let Some((status, fault)) = &plan.error {
                bump(&c.injected_errors);
                let text = format!("res: status {status} injected by fault `{fault}`\n");
                let extra = [("x-res-fault", fault.as_str())];
                return self.own(start, *status, &extra, &text, &p, p.body).await;
            }
        }
        let Some(server) = choose(shared, &self.conn) else {
            bump(&c.no_server);
            let extra = [("x-res-proxy", "no-server")];
            return self.own(start, 503, &extra, NO_SERVER, &p, p.body).await;
        };
        self.forward(server, p, start).await
    }

    /// Answers with the proxy's own response. A request body not read yet is skipped when
    /// it is all here, else the connection closes after the answer.
    async fn own(
        &mut self,
        start: Instant,
        status: u16,
        extra: &[(&str, &str)],
        text: &str,
        p: &Parsed,
        mut body: Body,
    ) -> Next {
        match body.advance(&self.cbuf[self.cstart..self.cend]) {
            Ok(n) => self.cstart += n,
            Err(_) => body = Body::UntilClose,
        }
        let close = p.close || !body.is_done();
        head::answer(&mut self.out, status, extra, text, p.head, close);
        self.finish(start, Some(status));
        if self.io.write_all(&self.out).await.is_err() {
            return Next::Close;
        }
        if close {
            let _ = self.io.shutdown().await;
            return Next::Close;
        }
        Next::Continue
    }

    /// Counts a request answered (`status`) or dropped, with its time to the response head.
    fn finish(&self, start: Instant, status: Option<u16>) {
        let c = &self.shared.counters;
        bump(&c.answered);
        if status.is_none_or(|s| s >= 500) {
            bump(&c.failed_answers);
        }
        add(
            &c.latency_us_sum,
            u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX),
        );
    }
}

const NO_SERVER: &str = "res proxy: no server is ready with a weight above 0 (all drained, in maintenance or weighted 0)\n";

/// An upstream connection idle for less than this is used without checking it first.
const IDLE_PROBE: Duration = Duration::from_millis(1);
