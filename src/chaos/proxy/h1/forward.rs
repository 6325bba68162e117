//! The upstream side of the HTTP/1.1 forwarding path: a connection for the chosen server
//! (the client's own, an idle one from the pool, or a new one), the request written in as
//! few writes as its size allows, the response head read and rewritten, and the body passed
//! on piece by piece as it arrives until its framing says it ended.
//!
//! A kept connection the server closed meanwhile is replaced and the request sent again,
//! when the whole request is still at hand and either it could not be written or it is
//! idempotent and no byte of an answer came. Other upstream failures answer `502` before a response head, and cut
//! the client connection after one (the client then sees a short body).

use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::frame::Body;
use super::head::{self, BadResponse, Parsed};
use super::{Conn, Next, Upstream, COALESCE, IDLE_PROBE, UPSTREAM_MAX};
use crate::chaos::proxy::plan::note;
use crate::chaos::proxy::pool::{still_open, ConnectError};
use crate::chaos::proxy::stats::bump;

/// Sends before giving up on stale kept connections.
const TRIES: usize = 3;

/// Why an exchange with the upstream failed.
enum Fail {
    /// The request could not be written: a kept connection may be stale.
    Unsent,
    /// Closed (or failed) before any byte of an answer: a kept connection may be stale,
    /// or the server took the request and went away.
    Closed,
    /// The client went away while its request body was being passed on.
    Client,
    Bad(BadResponse),
    Io(std::io::Error),
}

impl Conn<'_> {
    pub(super) async fn forward(&mut self, server: usize, p: Parsed, start: Instant) -> Next {
        let shared = self.shared;
        let addr = shared.addr_of(server);
        if p.needs_host {
            self.out
                .extend_from_slice(format!("host: {addr}\r\n").as_bytes());
        }
        self.out.extend_from_slice(b"\r\n");
        let mut body = p.body;
        match body.advance(&self.cbuf[self.cstart..self.cend]) {
            Ok(n) => {
                let end = self.cstart + n;
                self.out.extend_from_slice(&self.cbuf[self.cstart..end]);
                self.cstart = end;
            }
            Err(_) => {
                let text = "res proxy: malformed chunked request body\n";
                return self.own(start, 400, &[], text, &p, Body::UntilClose).await;
            }
        }
        let whole = body.is_done();
        let mut tries = 0;
        let (up, resp) = loop {
            tries += 1;
            let (mut up, reused) = match self.upstream_for(server).await {
                Ok(u) => u,
                Err(e) => {
                    bump(&shared.counters.upstream_errors);
                    note(shared, server, false);
                    let text = format!("res proxy: {e}\n");
                    return self.own(start, 502, &[], &text, &p, body).await;
                }
            };
            (self.ustart, self.uend) = (0, 0);
            let sent = match up.stream.write_all(&self.out).await {
                Ok(()) if whole => Ok(()),
                Ok(()) => self.pump_request(&mut up, &mut body).await,
                Err(_) => Err(Fail::Unsent),
            };
            let got = match sent {
                Ok(()) => self.response_head(&mut up, p.head, p.close).await,
                Err(f) => Err(f),
            };
            match got {
                Ok(resp) => break (up, resp),
                // Sent again only when that cannot do a thing twice.
                Err(Fail::Unsent) if reused && whole && tries < TRIES => continue,
                Err(Fail::Closed) if reused && whole && p.idempotent && tries < TRIES => continue,
                Err(Fail::Client) => {
                    self.finish(start, None);
                    return Next::Close;
                }
                Err(f) => {
                    bump(&shared.counters.upstream_errors);
                    note(shared, server, false);
                    let text = match f {
                        Fail::Closed | Fail::Unsent => {
                            format!("res proxy: upstream {addr} closed the connection\n")
                        }
                        Fail::Bad(BadResponse::TooLarge) => {
                            format!("res proxy: upstream {addr} sent a response head that is too large\n")
                        }
                        Fail::Bad(BadResponse::Malformed) => {
                            format!("res proxy: upstream {addr} sent a malformed response\n")
                        }
                        Fail::Io(e) => format!("res proxy: upstream {addr} failed: {e}\n"),
                        Fail::Client => String::new(),
                    };
                    // The request may be half sent: the client connection ends after this.
                    return self.own(start, 502, &[], &text, &p, Body::UntilClose).await;
                }
            }
        };
        self.finish(start, Some(resp.status));
        self.response_body(up, resp).await
    }

    /// The connection to `server` for this request, and whether it was used before.
    async fn upstream_for(&mut self, server: usize) -> Result<(Upstream, bool), ConnectError> {
        if let Some(up) = self.up.take() {
            let fresh = up.idle_since.elapsed() < IDLE_PROBE;
            if up.server == server && (fresh || still_open(&up.stream)) {
                return Ok((up, true));
            }
            if up.server != server {
                self.shared.pool_of(up.server).put_raw(up.stream);
            }
        }
        let pool = self.shared.pool_of(server);
        let reused = pool.take_raw();
        let stream = match reused {
            Some(s) => (s, true),
            None => {
                let s = pool.connect_tcp().await?;
                note(self.shared, server, true);
                (s, false)
            }
        };
        let up = Upstream {
            server,
            stream: stream.0,
            idle_since: Instant::now(),
        };
        Ok((up, stream.1))
    }

    /// Passes the rest of a request body from the client to the upstream.
    async fn pump_request(&mut self, up: &mut Upstream, body: &mut Body) -> Result<(), Fail> {
        while !body.is_done() {
            match self.read_client().await {
                Some(n) if n > 0 => {}
                _ => return Err(Fail::Client),
            }
            let n = body
                .advance(&self.cbuf[self.cstart..self.cend])
                .map_err(|_| Fail::Client)?;
            let end = self.cstart + n;
            up.stream
                .write_all(&self.cbuf[self.cstart..end])
                .await
                .map_err(Fail::Io)?;
            self.cstart = end;
        }
        Ok(())
    }

    /// Reads the response head (skipping interim 1xx ones) and writes the client's into `out`.
    async fn response_head(
        &mut self,
        up: &mut Upstream,
        head_request: bool,
        client_close: bool,
    ) -> Result<head::Response, Fail> {
        let mut any = false;
        loop {
            if self.ustart < self.uend {
                let input = &self.ubuf[self.ustart..self.uend];
                match head::response(input, head_request, client_close, &mut self.out) {
                    Ok(Some(Ok(resp))) => {
                        self.ustart += resp.len;
                        return Ok(resp);
                    }
                    Ok(Some(Err(interim))) => {
                        self.ustart += interim;
                        continue;
                    }
                    Ok(None) => {}
                    Err(bad) => return Err(Fail::Bad(bad)),
                }
            }
            match self.read_upstream(up).await {
                Ok(0) if !any => return Err(Fail::Closed),
                Ok(0) => return Err(Fail::Bad(BadResponse::Malformed)),
                Ok(_) => any = true,
                Err(_) if !any => return Err(Fail::Closed),
                Err(e) => return Err(Fail::Io(e)),
            }
        }
    }

    async fn read_upstream(&mut self, up: &mut Upstream) -> std::io::Result<usize> {
        if self.ustart == self.uend {
            (self.ustart, self.uend) = (0, 0);
        } else if self.uend == self.ubuf.len() {
            if self.ustart > 0 {
                self.ubuf.copy_within(self.ustart..self.uend, 0);
                (self.ustart, self.uend) = (0, self.uend - self.ustart);
            } else if self.ubuf.len() < UPSTREAM_MAX {
                self.ubuf.resize((self.ubuf.len() * 2).min(UPSTREAM_MAX), 0);
            } else {
                return Err(std::io::Error::other("a line longer than the buffer"));
            }
        }
        let n = up.stream.read(&mut self.ubuf[self.uend..]).await?;
        self.uend += n;
        Ok(n)
    }

    /// Passes the response body on; the upstream connection is kept if it can serve again.
    async fn response_body(&mut self, mut up: Upstream, resp: head::Response) -> Next {
        let mut body = resp.body;
        let mut head_sent = false;
        loop {
            let n = match body.advance(&self.ubuf[self.ustart..self.uend]) {
                Ok(n) => n,
                Err(_) => return self.cut(),
            };
            let end = self.ustart + n;
            let piece = &self.ubuf[self.ustart..end];
            let wrote = if resp.rechunk {
                // A body until close goes out as one chunk per piece read.
                if head_sent {
                    self.out.clear();
                }
                if !piece.is_empty() {
                    self.out
                        .extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
                    self.out.extend_from_slice(piece);
                    self.out.extend_from_slice(b"\r\n");
                }
                self.io.write_all(&self.out).await
            } else if head_sent {
                self.io.write_all(piece).await
            } else if piece.len() <= COALESCE {
                self.out.extend_from_slice(piece);
                self.io.write_all(&self.out).await
            } else {
                match self.io.write_all(&self.out).await {
                    Ok(()) => self.io.write_all(piece).await,
                    Err(e) => Err(e),
                }
            };
            head_sent = true;
            self.ustart = end;
            if wrote.is_err() {
                return Next::Close;
            }
            if body.is_done() {
                break;
            }
            match self.read_upstream(&mut up).await {
                Ok(0) if body == Body::UntilClose => {
                    if self.io.write_all(b"0\r\n\r\n").await.is_err() {
                        return Next::Close;
                    }
                    break;
                }
                Ok(0) | Err(_) => return self.cut(),
                Ok(_) => {}
            }
        }
        if resp.reusable && body.is_done() && self.ustart == self.uend {
            up.idle_since = Instant::now();
            self.up = Some(up);
        }
        if resp.close {
            let _ = self.io.shutdown().await;
            return Next::Close;
        }
        Next::Continue
    }

    /// The upstream broke a response half-way: the client connection ends without the rest.
    fn cut(&mut self) -> Next {
        bump(&self.shared.counters.upstream_errors);
        Next::Close
    }
}
