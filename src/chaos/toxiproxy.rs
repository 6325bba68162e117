//! Driving an existing Toxiproxy server through its HTTP API, for teams that already run one
//! (`via toxiproxy "http://127.0.0.1:8474" proxy "payments"`).
//!
//! A fault becomes one toxic per effect, `POST /proxies/{proxy}/toxics`, named
//! `res-<fault id>-<n>` so that the journal knows the exact `DELETE
//! /proxies/{proxy}/toxics/{name}` that reverts it — a revert that `res recover` can replay
//! after a crash, and that treats "404 not found" as already reverted. Toxiproxy has no HTTP
//! awareness, so `errors` is refused with a pointer to res's own HTTP proxy.
//!
//! The client is a few lines of blocking HTTP/1.1 over `std::net`: the API is tiny, calls are
//! rare (inject and revert), each is bounded by short timeouts, and a blocking client can also
//! run from `res recover`, which has no async runtime.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use serde_json::{json, Value};

use crate::chaos::error::{ChaosError, Result};
use crate::chaos::proxy::Toxic;

const TIMEOUT: Duration = Duration::from_secs(3);

/// A Toxiproxy API endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToxiproxyClient {
    api: String,
    host: String,
    port: u16,
    prefix: String,
}

impl ToxiproxyClient {
    /// `http://host:port` with an optional path prefix; https is not supported.
    pub fn new(api: &str) -> Result<ToxiproxyClient> {
        let bad = |why: &str| ChaosError::Toxiproxy {
            api: api.to_string(),
            detail: why.to_string(),
        };
        let rest = api.strip_prefix("http://").ok_or_else(|| {
            bad("the API address must start with http:// (https is not supported)")
        })?;
        let (authority, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().map_err(|_| bad("the port is not a number"))?),
            None => (authority, 8474),
        };
        if host.is_empty() {
            return Err(bad("the address has no host"));
        }
        Ok(ToxiproxyClient {
            api: api.to_string(),
            host: host.to_string(),
            port,
            prefix: prefix.to_string(),
        })
    }

    pub fn api(&self) -> &str {
        &self.api
    }

    /// Adds a toxic to `proxy`.
    pub fn add_toxic(&self, proxy: &str, toxic: &Value) -> Result<()> {
        check_name(&self.api, proxy)?;
        let path = format!("/proxies/{proxy}/toxics");
        let (status, body) = self.call("POST", &path, Some(toxic))?;
        match status {
            200..=299 => Ok(()),
            404 => Err(self.fail(format!(
                "there is no proxy named `{proxy}` (name it with `proxy \"…\"` after `via toxiproxy`)"
            ))),
            _ => Err(self.fail(format!("POST {path} answered {status}: {}", body.trim()))),
        }
    }

    /// Deletes toxic `name` of `proxy`; `Ok(false)` when it was already gone.
    pub fn delete_toxic(&self, proxy: &str, name: &str) -> Result<bool> {
        check_name(&self.api, proxy)?;
        check_name(&self.api, name)?;
        let path = format!("/proxies/{proxy}/toxics/{name}");
        let (status, body) = self.call("DELETE", &path, None)?;
        match status {
            200..=299 => Ok(true),
            404 => Ok(false),
            _ => Err(self.fail(format!("DELETE {path} answered {status}: {}", body.trim()))),
        }
    }

    fn fail(&self, detail: String) -> ChaosError {
        ChaosError::Toxiproxy {
            api: self.api.clone(),
            detail,
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<(u16, String)> {
        let addr: SocketAddr = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| self.fail(format!("cannot resolve host `{}`", self.host)))?;
        let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT)
            .map_err(|e| self.fail(format!("cannot connect: {e} (is Toxiproxy running?)")))?;
        let _ = stream.set_read_timeout(Some(TIMEOUT));
        let _ = stream.set_write_timeout(Some(TIMEOUT));
        let payload = body.map(|b| b.to_string()).unwrap_or_default();
        let request = format!(
            "{method} {}{path} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: res\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
            self.prefix,
            self.host,
            self.port,
            payload.len()
        );
        stream
            .write_all(request.as_bytes())
            .map_err(|e| self.fail(format!("{method} {path}: {e}")))?;
        let mut answer = Vec::new();
        stream
            .take(1 << 20)
            .read_to_end(&mut answer)
            .map_err(|e| self.fail(format!("{method} {path}: no answer: {e}")))?;
        let text = String::from_utf8_lossy(&answer);
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| self.fail(format!("{method} {path}: not an HTTP answer")))?;
        let body = text
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_string();
        Ok((status, body))
    }
}

fn check_name(api: &str, name: &str) -> Result<()> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(ChaosError::Toxiproxy {
            api: api.to_string(),
            detail: format!(
                "`{name}` is not a usable proxy or toxic name (letters, digits, - _ .)"
            ),
        });
    }
    Ok(())
}

/// The Toxiproxy toxic for one of our toxics, or why there is none.
pub fn toxic_json(toxic: &Toxic, name: &str, toxicity: f64) -> Result<Value> {
    let ms = |d: Duration| d.as_millis() as u64;
    let (kind, stream, toxicity, attributes) = match toxic {
        Toxic::Latency { latency, jitter, .. } => (
            "latency",
            "downstream",
            toxicity,
            json!({ "latency": ms(*latency), "jitter": ms(*jitter) }),
        ),
        Toxic::Bandwidth { bytes_per_sec } => (
            "bandwidth",
            "downstream",
            toxicity,
            json!({ "rate": ((bytes_per_sec / 1000.0).round() as u64).max(1) }),
        ),
        Toxic::SlowClose { delay } => (
            "slow_close",
            "downstream",
            toxicity,
            json!({ "delay": ms(*delay) }),
        ),
        Toxic::Timeout { after } => (
            "timeout",
            "downstream",
            toxicity,
            json!({ "timeout": ms(*after) }),
        ),
        Toxic::Blackhole { rate } => (
            "timeout",
            "upstream",
            toxicity * rate,
            json!({ "timeout": 0 }),
        ),
        Toxic::Reset { rate } => (
            "reset_peer",
            "upstream",
            toxicity * rate,
            json!({ "timeout": 0 }),
        ),
        Toxic::Slice { size, delay } => (
            "slicer",
            "downstream",
            toxicity,
            json!({ "average_size": size, "size_variation": 0, "delay": delay.as_micros() as u64 }),
        ),
        Toxic::Errors { status, .. } => {
            return Err(ChaosError::Invalid(format!(
                "Toxiproxy works on bytes and cannot answer `errors {status}`; drop `via toxiproxy` to use res's HTTP proxy, which can"
            )))
        }
    };
    Ok(json!({
        "name": name,
        "type": kind,
        "stream": stream,
        "toxicity": toxicity,
        "attributes": attributes,
    }))
}
