//! TCP mode: splice bytes between a client and the upstream, damaging whole connections.
//!
//! Each connection runs in one task that drives two pumps, one per direction. A pump's fast
//! path is read → write with a single atomic load in between (has the fault set changed?).
//! When a fault touches the connection the pump switches to its slow path: chunks are stamped
//! on arrival and queued with a release time ([`Schedule`]), or dropped while stalled by a
//! blackhole or a timeout, and it returns to the fast path once the faults are gone and the
//! queue is empty. A reset sets `SO_LINGER` to zero on both sockets before they are dropped,
//! so both peers see a real RST.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::net::TcpStream;

use super::fault::Toxic;
use super::schedule::{Schedule, Shaping, TIMER_SLACK};
use super::stats::{add, bump, ActiveGuard};
use super::table::{chosen, FaultSet, FaultView};
use super::{Shared, CONNECT_TIMEOUT};

/// Read buffer of the fast path, grown to [`MAX_BUF`] when reads fill it.
const START_BUF: usize = 16 * 1024;
const MAX_BUF: usize = 64 * 1024;
/// Bytes a shaped direction may hold before it stops reading (backpressure).
const MAX_QUEUED: usize = 8 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    /// Client → upstream.
    Up,
    /// Upstream → client: where shaping applies.
    Down,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The reader saw EOF and the FIN was passed on.
    Eof,
    /// Reset both sides.
    Reset,
    /// Close both sides now (a timeout fired).
    Close,
    /// A socket failed; the connection is abandoned with a reset.
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Stall {
    Blackhole,
    Timeout(Instant),
}

/// What the faults in force do to one direction of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Plan {
    reset: bool,
    stall: Option<Stall>,
    shaping: Shaping,
    slow_close: Option<Duration>,
}

impl Plan {
    fn of(set: &FaultSet, dir: Dir, seed: u64, born: Instant) -> Plan {
        let mut plan = Plan::default();
        for fault in &set.faults {
            for (i, toxic) in fault.spec.toxics.iter().enumerate() {
                let rate = match toxic {
                    Toxic::Reset { rate } | Toxic::Blackhole { rate } => *rate,
                    _ => 1.0,
                };
                if !chosen(seed, fault.id, i as u64, fault.spec.toxicity * rate) {
                    continue;
                }
                match toxic {
                    Toxic::Reset { .. } => plan.reset = true,
                    Toxic::Blackhole { .. } => plan.stall = Some(Stall::Blackhole),
                    Toxic::Timeout { after } => {
                        let at = fault.added.max(born) + *after;
                        plan.stall = Some(match plan.stall {
                            Some(Stall::Timeout(t)) => Stall::Timeout(t.min(at)),
                            Some(Stall::Blackhole) => Stall::Timeout(at),
                            None => Stall::Timeout(at),
                        });
                    }
                    Toxic::SlowClose { delay } if dir == Dir::Down => {
                        plan.slow_close = Some(plan.slow_close.unwrap_or_default().max(*delay))
                    }
                    Toxic::Latency { .. } | Toxic::Bandwidth { .. } | Toxic::Slice { .. }
                        if dir == Dir::Down =>
                    {
                        plan.shaping.add(toxic)
                    }
                    _ => {}
                }
            }
        }
        plan
    }

    fn is_clear(&self) -> bool {
        !self.reset && self.stall.is_none() && self.shaping.is_none()
    }

    fn touches(&self) -> bool {
        !self.is_clear() || self.slow_close.is_some()
    }
}

pub(super) async fn serve(shared: Arc<Shared>, mut client: TcpStream) {
    let _active = ActiveGuard::new(&shared.counters);
    let seed = rand::random::<u64>();
    let born = Instant::now();
    let set = shared.table.snapshot();
    if !set.is_empty() {
        let (up, down) = (
            Plan::of(&set, Dir::Up, seed, born),
            Plan::of(&set, Dir::Down, seed, born),
        );
        if up.touches() || down.touches() {
            bump(&shared.counters.faulted);
        }
        if up.stall == Some(Stall::Blackhole) {
            bump(&shared.counters.blackholed);
        }
        if up.reset {
            bump(&shared.counters.resets);
            let _ = client.set_zero_linger();
            return;
        }
    }
    let server = match &shared.split {
        None => 0,
        Some(split) => match split.pick_now() {
            Some(i) => {
                split.sent(i);
                i
            }
            None => {
                // No server takes connections: closed at once, counted.
                bump(&shared.counters.no_server);
                return;
            }
        },
    };
    let addr = shared.addr_of(server);
    let connected = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await;
    if let Some(split) = &shared.split {
        split.connected(server, matches!(connected, Ok(Ok(_))));
    }
    let mut upstream = match connected {
        Ok(Ok(s)) => s,
        _ => {
            bump(&shared.counters.upstream_errors);
            return;
        }
    };
    let _ = upstream.set_nodelay(true);
    let end = {
        let (cr, cw) = client.split();
        let (ur, uw) = upstream.split();
        let up = Pump::new(Dir::Up, &shared, seed, born).run(cr, uw);
        let down = Pump::new(Dir::Down, &shared, seed, born).run(ur, cw);
        tokio::pin!(up, down);
        let (mut up_done, mut down_done) = (false, false);
        loop {
            tokio::select! {
                e = &mut up, if !up_done => {
                    up_done = true;
                    if e != End::Eof { break e; }
                }
                e = &mut down, if !down_done => {
                    down_done = true;
                    if e != End::Eof { break e; }
                }
            }
            if up_done && down_done {
                break End::Eof;
            }
        }
    };
    match end {
        End::Reset | End::Error => {
            if end == End::Reset {
                bump(&shared.counters.resets);
            }
            let _ = client.set_zero_linger();
            let _ = upstream.set_zero_linger();
        }
        End::Close => bump(&shared.counters.timeouts),
        End::Eof => {}
    }
}

struct Pump<'a> {
    dir: Dir,
    shared: &'a Shared,
    seed: u64,
    born: Instant,
    view: FaultView,
    plan: Plan,
}

impl<'a> Pump<'a> {
    fn new(dir: Dir, shared: &'a Shared, seed: u64, born: Instant) -> Pump<'a> {
        let view = FaultView::new(&shared.table);
        let plan = Plan::of(&view.set, dir, seed, born);
        Pump {
            dir,
            shared,
            seed,
            born,
            view,
            plan,
        }
    }

    fn refresh(&mut self) {
        if self.view.refresh(&self.shared.table) {
            self.plan = Plan::of(&self.view.set, self.dir, self.seed, self.born);
        }
    }

    fn count(&self, n: usize) {
        let c = &self.shared.counters;
        add(
            match self.dir {
                Dir::Up => &c.bytes_to_upstream,
                Dir::Down => &c.bytes_to_client,
            },
            n as u64,
        );
    }

    async fn run(mut self, mut r: ReadHalf<'_>, mut w: WriteHalf<'_>) -> End {
        let mut buf = vec![0u8; START_BUF];
        loop {
            if !self.plan.is_clear() {
                match self.slow_loop(&mut r, &mut w, &mut buf, None).await {
                    Some(end) => return end,
                    None => continue,
                }
            }
            let n = match r.read(&mut buf).await {
                Ok(0) => return self.eof(&mut w).await,
                Ok(n) => n,
                Err(_) => return End::Error,
            };
            self.count(n);
            self.refresh();
            if !self.plan.is_clear() {
                // This chunk already belongs to the slow path.
                let first = Bytes::copy_from_slice(&buf[..n]);
                if let Some(end) = self.slow_loop(&mut r, &mut w, &mut buf, Some(first)).await {
                    return end;
                }
                continue;
            }
            if w.write_all(&buf[..n]).await.is_err() {
                return End::Error;
            }
            if n == buf.len() && buf.len() < MAX_BUF {
                buf.resize(MAX_BUF, 0);
            }
        }
    }

    /// EOF from the reader: pass the FIN on, late if a slow close says so.
    async fn eof(&mut self, w: &mut WriteHalf<'_>) -> End {
        self.refresh();
        if let Some(delay) = self.plan.slow_close {
            tokio::time::sleep(delay).await;
        }
        let _ = w.shutdown().await;
        End::Eof
    }

    /// Runs while faults touch this direction; `None` when it is back to plain forwarding.
    async fn slow_loop(
        &mut self,
        r: &mut ReadHalf<'_>,
        w: &mut WriteHalf<'_>,
        buf: &mut [u8],
        mut first: Option<Bytes>,
    ) -> Option<End> {
        let mut queue: VecDeque<(Instant, Bytes)> = VecDeque::new();
        let mut queued = 0usize;
        let mut schedule = Schedule::new(self.plan.shaping);
        let mut eof = false;
        if self.dir == Dir::Down && !self.plan.shaping.is_none() {
            bump(&self.shared.counters.delayed);
        }
        loop {
            if self.plan.reset {
                return Some(End::Reset);
            }
            schedule.reshape(self.plan.shaping);
            if let Some(chunk) = first.take() {
                self.accept_chunk(chunk, &mut schedule, &mut queue, &mut queued);
            }
            if self.plan.shaping.is_none() && self.plan.stall.is_none() {
                // Shaping was removed: what is queued goes now.
                for item in queue.iter_mut() {
                    item.0 = Instant::now();
                }
            }
            let now = Instant::now() + TIMER_SLACK;
            while queue.front().is_some_and(|(due, _)| *due <= now) {
                if let Some((_, piece)) = queue.pop_front() {
                    queued -= piece.len();
                    if w.write_all(&piece).await.is_err() {
                        return Some(End::Error);
                    }
                }
            }
            if eof {
                if queue.is_empty() {
                    return Some(self.eof(w).await);
                }
            } else if queue.is_empty() && self.plan.is_clear() {
                return None;
            }
            let changed = self.shared.table.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.view.refresh(&self.shared.table) {
                self.plan = Plan::of(&self.view.set, self.dir, self.seed, self.born);
                continue;
            }
            let next_due = queue
                .front()
                .map(|(d, _)| d.checked_sub(TIMER_SLACK).unwrap_or(*d));
            let timeout = match self.plan.stall {
                Some(Stall::Timeout(at)) => Some(at),
                _ => None,
            };
            let far = Instant::now() + Duration::from_secs(3600);
            tokio::select! {
                biased;
                _ = &mut changed => {
                    self.refresh();
                }
                _ = tokio::time::sleep_until(timeout.unwrap_or(far).into()), if timeout.is_some() => {
                    return Some(End::Close);
                }
                _ = tokio::time::sleep_until(next_due.unwrap_or(far).into()), if next_due.is_some() => {}
                read = r.read(buf), if !eof && queued < MAX_QUEUED => match read {
                    Ok(0) => {
                        if self.plan.stall.is_some() {
                            // Nothing is passed on while stalled, the FIN neither.
                            return Some(End::Eof);
                        }
                        eof = true;
                    }
                    Ok(n) => {
                        self.count(n);
                        self.refresh();
                        let chunk = Bytes::copy_from_slice(&buf[..n]);
                        self.accept_chunk(chunk, &mut schedule, &mut queue, &mut queued);
                    }
                    Err(_) => return Some(End::Error),
                },
            }
        }
    }

    fn accept_chunk(
        &self,
        chunk: Bytes,
        schedule: &mut Schedule,
        queue: &mut VecDeque<(Instant, Bytes)>,
        queued: &mut usize,
    ) {
        if self.plan.stall.is_some() {
            return; // dropped: a blackhole or a pending timeout passes nothing on
        }
        *queued += chunk.len();
        let now = Instant::now();
        if self.plan.shaping.is_none() {
            queue.push_back((now, chunk));
        } else {
            schedule.push(now, chunk, queue);
        }
    }
}
