//! Current metrics of the real system, read from a Prometheus text endpoint (the demo shop's
//! `/metrics`, or any exporter): the request rate and the 5xx share since the
//! previous scrape, from the `*_requests_total` counters. A scrape that fails is said, and the
//! loop goes on without current metrics.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// One sample line: `name{labels} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Parses the sample lines of a Prometheus text exposition (comments and blank lines are
/// skipped; a line that does not parse is an error naming its number).
pub fn parse(text: &str) -> Result<Vec<Sample>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        out.push(parse_line(line).ok_or_else(|| format!("line {}: cannot read `{line}`", n + 1))?);
    }
    Ok(out)
}

fn parse_line(line: &str) -> Option<Sample> {
    let (name, rest) = match line.find(['{', ' ']) {
        Some(i) => line.split_at(i),
        None => return None,
    };
    let mut labels = BTreeMap::new();
    let rest = if let Some(body) = rest.strip_prefix('{') {
        let close = body.find('}')?;
        for pair in body[..close].split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) = pair.split_once('=')?;
            let v = v.trim().strip_prefix('"')?.strip_suffix('"')?;
            labels.insert(k.trim().to_string(), v.to_string());
        }
        &body[close + 1..]
    } else {
        rest
    };
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    if name.is_empty() {
        return None;
    }
    Some(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// `GET` a plain-HTTP URL (`http://HOST:PORT/PATH`, the path `/metrics` when none), with a
/// 2 s deadline; the body of a 200 answer.
pub fn fetch(url: &str) -> Result<String, String> {
    use std::net::ToSocketAddrs;
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs are read"))?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/metrics"),
    };
    let addr: SocketAddr = host
        .to_socket_addrs()
        .map_err(|e| format!("{url}: {e} (expected HOST:PORT)"))?
        .next()
        .ok_or_else(|| format!("{url}: {host} has no address"))?;
    let deadline = Duration::from_secs(2);
    let mut s = TcpStream::connect_timeout(&addr, deadline).map_err(|e| format!("{url}: {e}"))?;
    s.set_read_timeout(Some(deadline)).ok();
    s.set_write_timeout(Some(deadline)).ok();
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: {host}\r\nAccept: text/plain\r\n\r\n"
    )
    .map_err(|e| format!("{url}: {e}"))?;
    let mut buf = Vec::new();
    let started = Instant::now();
    let mut chunk = [0u8; 8192];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(format!("{url}: {e}")),
        }
        if buf.len() > 8 << 20 || started.elapsed() > deadline {
            return Err(format!("{url}: answer too large or too slow"));
        }
    }
    let text = String::from_utf8_lossy(&buf);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("{url}: not an HTTP answer"))?;
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if status != "200" {
        return Err(format!("{url}: HTTP {status}"));
    }
    Ok(body.to_string())
}

/// Totals of one scrape: requests and 5xx answers over every `*_requests_total` series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Totals {
    pub requests: f64,
    pub errors: f64,
}

pub fn totals(samples: &[Sample]) -> Totals {
    let mut t = Totals {
        requests: 0.0,
        errors: 0.0,
    };
    for s in samples
        .iter()
        .filter(|s| s.name.ends_with("_requests_total"))
    {
        t.requests += s.value;
        if s.labels.get("code").is_some_and(|c| c.starts_with('5')) {
            t.errors += s.value;
        }
    }
    t
}

/// The current rate: successive scrapes of one endpoint.
#[derive(Default)]
pub struct Rate {
    last: Option<(Instant, Totals)>,
}

/// What the system is doing now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Current {
    pub rate_per_s: f64,
    pub error_ratio: f64,
    /// The worst service's p99, seconds (from a Prometheus source; a text scrape has none).
    pub p99_s: Option<f64>,
}

impl Rate {
    /// Scrapes `url`; the rate since the previous scrape. The first time, two scrapes half a
    /// second apart give the rate.
    pub fn scrape(&mut self, url: &str) -> Result<Option<Current>, String> {
        if self.last.is_none() {
            self.once(url)?;
            std::thread::sleep(Duration::from_millis(500));
        }
        self.once(url)
    }

    fn once(&mut self, url: &str) -> Result<Option<Current>, String> {
        let samples = parse(&fetch(url)?)?;
        let now = Instant::now();
        let t = totals(&samples);
        let out = self.last.and_then(|(at, prev)| {
            let dt = now.duration_since(at).as_secs_f64();
            let dr = t.requests - prev.requests;
            (dt > 0.0 && dr >= 0.0).then(|| Current {
                rate_per_s: dr / dt,
                error_ratio: if dr > 0.0 {
                    ((t.errors - prev.errors) / dr).clamp(0.0, 1.0)
                } else {
                    0.0
                },
                p99_s: None,
            })
        });
        self.last = Some((now, t));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_samples() {
        let s = parse("# HELP x y\n# TYPE x counter\nx_requests_total{service=\"a\",code=\"5xx\"} 3\nup 1\nh_bucket{le=\"+Inf\"} 7\n").unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].labels["code"], "5xx");
        assert_eq!(s[1].value, 1.0);
        assert_eq!(s[2].labels["le"], "+Inf");
        assert_eq!(totals(&s).errors, 3.0);
        assert!(parse("garbage").is_err());
    }
}
