//! What a proxy fault is: a set of toxics, the share of traffic they touch, and (in HTTP mode)
//! which requests they match.
//!
//! A [`FaultSpec`] is plain data, validated once by [`FaultSpec::validate`] when it is added,
//! so the data path never has to wonder whether a latency is negative.

use std::time::Duration;

use super::matcher::{HttpMatcher, RoutePattern};
use super::ProxyMode;
use crate::chaos::error::{ChaosError, Result};

/// The longest delay, timeout or close a proxy fault may ask for.
pub const MAX_DELAY: Duration = Duration::from_secs(24 * 3600);

/// Identifies a fault on one proxy; returned by `ProxyHandle::add_fault`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FaultId(pub u64);

impl std::fmt::Display for FaultId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// One kind of damage a proxy does to the traffic it carries.
///
/// In TCP mode a toxic applies to whole connections: the fault's toxicity (times the toxic's
/// own `rate`) is the chance that a connection is affected, and shaping toxics (latency,
/// bandwidth, slicing, slow close) act on the response direction (upstream → client). In HTTP
/// mode a toxic applies to single requests that match the fault's matchers and routes.
#[derive(Debug, Clone, PartialEq)]
pub enum Toxic {
    /// Delay by `latency` ± a uniform `jitter`. HTTP mode delays the request once, or with
    /// `per_chunk` every response chunk; TCP mode delays every chunk. Chunks are stamped on
    /// arrival and released at stamp + delay, so a large body is shifted, not stretched.
    Latency {
        latency: Duration,
        jitter: Duration,
        per_chunk: bool,
    },
    /// Answer with `status` instead of forwarding (HTTP mode only), for a `rate` of requests.
    Errors { status: u16, rate: f64 },
    /// Reset the connection (TCP RST): at once for a new TCP connection, on the next data for
    /// an open one, after reading the request in HTTP mode.
    Reset { rate: f64 },
    /// Accept and never answer: data is read and dropped until the fault is removed.
    Blackhole { rate: f64 },
    /// Stop forwarding, then close the connection after `after` (without an answer).
    Timeout { after: Duration },
    /// Limit the response to `bytes_per_sec` (a token bucket with a burst of one slice).
    Bandwidth { bytes_per_sec: f64 },
    /// Delay the close (FIN) towards the client by `delay` once the upstream has closed.
    SlowClose { delay: Duration },
    /// Split the response into `size`-byte pieces sent `delay` apart.
    Slice { size: usize, delay: Duration },
}

impl Toxic {
    /// The effect's name as written in a `.res` file.
    pub fn kind(&self) -> &'static str {
        match self {
            Toxic::Latency { .. } => "latency",
            Toxic::Errors { .. } => "errors",
            Toxic::Reset { .. } => "reset",
            Toxic::Blackhole { .. } => "blackhole",
            Toxic::Timeout { .. } => "timeout",
            Toxic::Bandwidth { .. } => "bandwidth",
            Toxic::SlowClose { .. } => "slow_close",
            Toxic::Slice { .. } => "slice",
        }
    }
}

/// A fault to add to a proxy.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpec {
    /// A name for stats and the `x-res-fault` header of injected answers.
    pub name: String,
    pub toxics: Vec<Toxic>,
    /// The fraction (0..=1) of connections (TCP) or matching requests (HTTP) affected.
    pub toxicity: f64,
    /// All must match (HTTP mode only).
    pub matchers: Vec<HttpMatcher>,
    /// The service's routes: when not empty, a request must match one of them (HTTP only).
    pub routes: Vec<RoutePattern>,
}

impl FaultSpec {
    /// A fault with these toxics, affecting everything.
    pub fn new(name: impl Into<String>, toxics: Vec<Toxic>) -> FaultSpec {
        FaultSpec {
            name: name.into(),
            toxics,
            toxicity: 1.0,
            matchers: Vec::new(),
            routes: Vec::new(),
        }
    }

    pub fn toxicity(mut self, toxicity: f64) -> FaultSpec {
        self.toxicity = toxicity;
        self
    }

    pub fn matching(mut self, matcher: HttpMatcher) -> FaultSpec {
        self.matchers.push(matcher);
        self
    }

    pub fn on_routes(mut self, routes: Vec<RoutePattern>) -> FaultSpec {
        self.routes = routes;
        self
    }

    /// Refuses what the proxy cannot do or what makes no sense, with the reason.
    pub fn validate(&self, mode: ProxyMode) -> Result<()> {
        let bad = |m: String| Err(ChaosError::Invalid(m));
        if self.toxics.is_empty() {
            return bad(format!("fault `{}` has no effect", self.name));
        }
        if !(0.0..=1.0).contains(&self.toxicity) {
            return bad(format!(
                "toxicity must be between 0% and 100%, got {}%",
                self.toxicity * 100.0
            ));
        }
        if mode == ProxyMode::Tcp && (!self.matchers.is_empty() || !self.routes.is_empty()) {
            return Err(ChaosError::UnsupportedOnProxy(format!(
                "fault `{}` matches requests (method, path, header or routes), which needs an HTTP-mode proxy; this one forwards raw TCP",
                self.name
            )));
        }
        for toxic in &self.toxics {
            let rate = match toxic {
                Toxic::Errors { status, rate } => {
                    if mode == ProxyMode::Tcp {
                        return Err(ChaosError::UnsupportedOnProxy(format!(
                            "`errors {status}` answers with an HTTP status, which needs an HTTP-mode proxy; a TCP proxy can `reset`, `timeout` or `blackhole` instead"
                        )));
                    }
                    if !(100..=599).contains(status) {
                        return bad(format!("HTTP status must be 100..=599, got {status}"));
                    }
                    *rate
                }
                Toxic::Reset { rate } | Toxic::Blackhole { rate } => *rate,
                Toxic::Bandwidth { bytes_per_sec } => {
                    if !(bytes_per_sec.is_finite() && *bytes_per_sec >= 1.0) {
                        return bad(format!(
                            "bandwidth must be at least 1 byte/s, got {bytes_per_sec}"
                        ));
                    }
                    1.0
                }
                Toxic::Slice { size, .. } => {
                    if *size == 0 {
                        return bad("slice size must be at least 1 byte".into());
                    }
                    1.0
                }
                _ => 1.0,
            };
            if !(0.0..=1.0).contains(&rate) {
                return bad(format!(
                    "`{}` rate must be between 0% and 100%, got {}%",
                    toxic.kind(),
                    rate * 100.0
                ));
            }
        }
        for toxic in &self.toxics {
            let longest = match toxic {
                Toxic::Latency {
                    latency, jitter, ..
                } => *latency + *jitter,
                Toxic::Timeout { after } => *after,
                Toxic::SlowClose { delay } | Toxic::Slice { delay, .. } => *delay,
                _ => Duration::ZERO,
            };
            if longest > MAX_DELAY {
                return bad(format!(
                    "`{}` of {longest:?} is longer than a proxy fault may hold traffic ({MAX_DELAY:?})",
                    toxic.kind()
                ));
            }
        }
        let latencies = self
            .toxics
            .iter()
            .filter(|t| matches!(t, Toxic::Latency { .. }))
            .count();
        if latencies > 1 {
            return bad(format!(
                "fault `{}` has {latencies} latency effects; give one (with jitter if needed)",
                self.name
            ));
        }
        Ok(())
    }
}
