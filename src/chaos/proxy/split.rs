//! The weighted splitter: a proxy in front of several named upstream servers, for teams with
//! no load balancer, and the balancer `balance via proxy` remedies act through.
//!
//! Each server has a weight (0–256, like HAProxy) and an administrative state: `ready` takes
//! traffic, `drain` and `maint` take no new requests (HTTP) or connections (TCP) while what
//! is already running finishes. A `backup` server takes traffic only while no other server
//! is ready with a weight above 0 — a failover.
//!
//! The choice is a smooth weighted round-robin, worked out once per change rather than per
//! request: a change builds the schedule (for weights 5, 1, 1 the order a a b a c a a) and
//! swaps it in, like the fault table ([`super::table`]); a request reads the schedule it
//! cached (one atomic load says whether it changed) and takes the next slot with one
//! `fetch_add`. The set of servers is fixed when the proxy starts; weights and states change
//! while traffic flows, atomically for any number of servers at once.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

use super::pool::Pool;

/// HAProxy's largest weight; the same here.
pub const MAX_WEIGHT: u32 = 256;
/// Servers a splitter takes.
pub const MAX_SERVERS: usize = 64;

/// What an operator (or a remedy) says about a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Admin {
    /// Takes traffic by its weight.
    Ready,
    /// No new requests or connections; running ones finish.
    Drain,
    /// Out of service: no new requests or connections.
    Maint,
}

impl Admin {
    pub fn parse(text: &str) -> Option<Admin> {
        match text {
            "ready" => Some(Admin::Ready),
            "drain" => Some(Admin::Drain),
            "maint" => Some(Admin::Maint),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Admin::Ready => "ready",
            Admin::Drain => "drain",
            Admin::Maint => "maint",
        }
    }
}

/// A server as the command line declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSpec {
    pub name: String,
    pub addr: SocketAddr,
    pub weight: u32,
    pub admin: Admin,
    pub backup: bool,
}

impl ServerSpec {
    /// `a=127.0.0.1:9101[,weight=N][,backup][,state=ready|drain|maint]`
    pub fn parse(text: &str) -> Result<ServerSpec, String> {
        let mut parts = text.split(',').map(str::trim);
        let head = parts.next().unwrap_or_default();
        let (name, addr) = head
            .split_once('=')
            .ok_or_else(|| format!("`{head}`: expected NAME=HOST:PORT"))?;
        check_name(name)?;
        let addr: SocketAddr = addr
            .parse()
            .map_err(|_| format!("`{addr}`: expected an address like 127.0.0.1:9101"))?;
        let mut spec = ServerSpec {
            name: name.to_string(),
            addr,
            weight: 100,
            admin: Admin::Ready,
            backup: false,
        };
        for part in parts {
            match part.split_once('=') {
                Some(("weight", w)) => spec.weight = weight(w)?,
                Some(("state", s)) => {
                    spec.admin = Admin::parse(s)
                        .ok_or_else(|| format!("state `{s}`: expected ready, drain or maint"))?
                }
                None if part == "backup" => spec.backup = true,
                _ => {
                    return Err(format!(
                        "`{part}`: expected weight=N, state=ready|drain|maint or backup"
                    ))
                }
            }
        }
        Ok(spec)
    }
}

fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "server name `{name}`: letters, digits, `_`, `-` and `.` only (at most 64)"
        ))
    }
}

fn weight(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(w) if w <= MAX_WEIGHT => Ok(w),
        _ => Err(format!("weight `{text}`: expected 0 to {MAX_WEIGHT}")),
    }
}

/// One server: fixed for the proxy's life, with its own keep-alive pool and counters.
#[derive(Debug)]
pub struct Server {
    pub name: String,
    pub addr: SocketAddr,
    pub backup: bool,
    pub(crate) pool: Pool,
    /// Requests (HTTP) or connections (TCP) sent to it.
    pub sent: AtomicU64,
    /// Connections to it that failed, or requests that broke on it.
    pub errors: AtomicU64,
    /// Whether the last connection attempt failed (a passive check; it routes nothing).
    pub down: AtomicBool,
}

/// One version of the weights and states, with the schedule they make.
#[derive(Debug, Default)]
pub struct SplitSet {
    pub generation: u64,
    pub settings: Vec<(u32, Admin)>,
    /// Server indices in smooth weighted round-robin order; empty: no server takes traffic.
    schedule: Vec<u16>,
}

/// A change of one server: its weight, its state, or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Setting {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<Admin>,
}

/// A server as read back from the proxy (the admin API's JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerView {
    pub name: String,
    pub addr: String,
    pub weight: u32,
    pub state: Admin,
    pub backup: bool,
    /// `false` when the last connection to it failed.
    pub up: bool,
    pub sent: u64,
    pub errors: u64,
}

/// The servers of a splitting proxy and their live weights and states.
#[derive(Debug)]
pub struct Splitter {
    pub servers: Vec<Server>,
    generation: AtomicU64,
    current: RwLock<Arc<SplitSet>>,
    cursor: AtomicU64,
}

impl Splitter {
    pub fn new(specs: &[ServerSpec]) -> Result<Splitter, String> {
        if specs.is_empty() {
            return Err("a splitter needs at least one server".into());
        }
        if specs.len() > MAX_SERVERS {
            return Err(format!("at most {MAX_SERVERS} servers"));
        }
        for (i, s) in specs.iter().enumerate() {
            check_name(&s.name)?;
            weight(&s.weight.to_string())?;
            if specs[..i].iter().any(|o| o.name == s.name) {
                return Err(format!("server `{}` is named twice", s.name));
            }
        }
        let servers = specs
            .iter()
            .map(|s| Server {
                name: s.name.clone(),
                addr: s.addr,
                backup: s.backup,
                pool: Pool::new(s.addr),
                sent: AtomicU64::new(0),
                errors: AtomicU64::new(0),
                down: AtomicBool::new(false),
            })
            .collect::<Vec<_>>();
        let settings: Vec<(u32, Admin)> = specs.iter().map(|s| (s.weight, s.admin)).collect();
        let schedule = schedule(&servers, &settings);
        Ok(Splitter {
            servers,
            generation: AtomicU64::new(1),
            current: RwLock::new(Arc::new(SplitSet {
                generation: 1,
                settings,
                schedule,
            })),
            cursor: AtomicU64::new(0),
        })
    }

    pub fn snapshot(&self) -> Arc<SplitSet> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The next server from a schedule cached by the caller, reloaded only when it changed;
    /// `None` when no server takes traffic.
    #[inline]
    pub fn pick(&self, cache: &mut Option<Arc<SplitSet>>) -> Option<usize> {
        let generation = self.generation.load(Ordering::Acquire);
        let set = match cache {
            Some(set) if set.generation == generation => set,
            _ => cache.insert(self.snapshot()),
        };
        let len = set.schedule.len() as u64;
        if len == 0 {
            return None;
        }
        let n = self.cursor.fetch_add(1, Ordering::Relaxed);
        Some(usize::from(set.schedule[(n % len) as usize]))
    }

    /// The next server from the current schedule (one lookup, for a TCP connection).
    pub fn pick_now(&self) -> Option<usize> {
        self.pick(&mut None)
    }

    /// Applies `changes` all at once, or none of them when one is wrong.
    pub fn set(&self, changes: &[Setting]) -> Result<(), String> {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        let mut settings = current.settings.clone();
        for c in changes {
            let i = self
                .index(&c.name)
                .ok_or_else(|| format!("no server `{}`", c.name))?;
            if let Some(w) = c.weight {
                settings[i].0 = weight(&w.to_string())?;
            }
            if let Some(s) = c.state {
                settings[i].1 = s;
            }
        }
        let generation = current.generation + 1;
        let schedule = schedule(&self.servers, &settings);
        *current = Arc::new(SplitSet {
            generation,
            settings,
            schedule,
        });
        self.generation.store(generation, Ordering::Release);
        Ok(())
    }

    pub fn index(&self, name: &str) -> Option<usize> {
        self.servers.iter().position(|s| s.name == name)
    }

    /// Every server with its weight, state and counters, as the proxy holds them now.
    pub fn view(&self) -> Vec<ServerView> {
        let set = self.snapshot();
        self.servers
            .iter()
            .zip(&set.settings)
            .map(|(s, (w, a))| ServerView {
                name: s.name.clone(),
                addr: s.addr.to_string(),
                weight: *w,
                state: *a,
                backup: s.backup,
                up: !s.down.load(Ordering::Relaxed),
                sent: s.sent.load(Ordering::Relaxed),
                errors: s.errors.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Records the outcome of connecting to server `i`.
    pub(crate) fn connected(&self, i: usize, ok: bool) {
        if let Some(s) = self.servers.get(i) {
            if !ok {
                s.errors.fetch_add(1, Ordering::Relaxed);
            }
            if s.down.load(Ordering::Relaxed) == ok {
                s.down.store(!ok, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn sent(&self, i: usize) {
        if let Some(s) = self.servers.get(i) {
            s.sent.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn clear_pools(&self) {
        for s in &self.servers {
            s.pool.clear();
        }
    }
}

/// The smooth weighted round-robin order of the servers that take traffic: the ready
/// non-backup servers with a weight, or when there are none the ready backups with one.
fn schedule(servers: &[Server], settings: &[(u32, Admin)]) -> Vec<u16> {
    let takes = |backup: bool| -> Vec<(u16, u32)> {
        servers
            .iter()
            .zip(settings)
            .enumerate()
            .filter(|(_, (s, (w, a)))| s.backup == backup && *a == Admin::Ready && *w > 0)
            .map(|(i, (_, (w, _)))| (i as u16, *w))
            .collect()
    };
    let mut eligible = takes(false);
    if eligible.is_empty() {
        eligible = takes(true);
    }
    let divisor = eligible.iter().fold(0, |g, (_, w)| gcd(g, *w)).max(1);
    let weights: Vec<(u16, i64)> = eligible
        .iter()
        .map(|(i, w)| (*i, i64::from(*w / divisor)))
        .collect();
    let total: i64 = weights.iter().map(|(_, w)| w).sum();
    let mut current = vec![0i64; weights.len()];
    let mut out = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    for _ in 0..total {
        let mut best = 0;
        for (k, (_, w)) in weights.iter().enumerate() {
            current[k] += w;
            if current[k] > current[best] {
                best = k;
            }
        }
        current[best] -= total;
        out.push(weights[best].0);
    }
    out
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

#[cfg(test)]
mod tests;
