//! res's proxy as a weighted splitter, against real parts: `res demo serve` instances behind a
//! `res proxy serve` child process. Every split is measured by the shops' own counters
//! (`/metrics`, `res_demo_requests_total` of catalog), and every weight and state is read back
//! from the proxy's admin API over a plain socket — not from what res believes it did.
//!
//! `proxy`: the splitter itself (no server, drain, a dead server, the command's refusals, the
//! language form); `remedies`: the `proxy` actuator through the engine and `res run`.

mod proxy;
mod remedies;

use crate::common;
use crate::support::haproxy::{http, DemoChild};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A `res proxy serve` child process.
struct ProxyChild {
    child: Child,
    port: u16,
    admin: u16,
}

impl ProxyChild {
    fn start(mode: &str, servers: &[String]) -> ProxyChild {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_res"));
        cmd.args(["proxy", "serve", "--listen", "127.0.0.1:0", "--mode", mode]);
        for s in servers {
            cmd.args(["--server", s]);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .stdin(Stdio::null())
            .spawn()
            .expect("res proxy serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let port_of = |rest: &str| -> u16 {
            rest.split(['/', ' '])
                .next()
                .and_then(|p| p.parse().ok())
                .expect("a port in the banner")
        };
        let (mut port, mut admin) = (None, None);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline && (port.is_none() || admin.is_none()) {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
                if let Some(rest) = line
                    .strip_prefix("proxy  http://127.0.0.1:")
                    .or_else(|| line.strip_prefix("proxy  tcp://127.0.0.1:"))
                {
                    port = Some(port_of(rest));
                } else if let Some(rest) = line.strip_prefix("admin  http://127.0.0.1:") {
                    admin = Some(port_of(rest));
                }
            }
        }
        match (port, admin) {
            (Some(port), Some(admin)) => ProxyChild { child, port, admin },
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("res proxy serve did not print its addresses within 20 s");
            }
        }
    }

    fn admin_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.admin)
    }

    /// `GET /servers`, read over a plain socket and checked against its schema.
    fn document(&self) -> serde_json::Value {
        let (status, body) = http(self.admin, "GET", "/servers", "").expect("admin answers");
        assert_eq!(status, 200, "{body}");
        let v = serde_json::from_str(&body).expect("JSON");
        let errors = common::validate(&common::load_schema("proxy-servers.schema.json"), &v);
        assert!(
            errors.is_empty(),
            "GET /servers violates its schema: {errors:#?}"
        );
        v
    }

    /// (weight, state) of server `name`, as the proxy holds it.
    fn server(&self, name: &str) -> (u64, String) {
        let doc = self.document();
        let s = doc["servers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no server {name} in {doc:#}"))
            .clone();
        (
            s["weight"].as_u64().unwrap(),
            s["state"].as_str().unwrap().to_string(),
        )
    }
}

impl Drop for ProxyChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Catalog requests a shop answered, from its own `/metrics`.
fn served(shop: &DemoChild) -> u64 {
    let (_, body) = http(shop.port, "GET", "/metrics", "").expect("metrics answer");
    body.lines()
        .filter(|l| l.starts_with("res_demo_requests_total{service=\"catalog\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// Sends `n` GET /items through the proxy, one connection each; the statuses seen.
fn send(port: u16, n: usize) -> Vec<Option<u16>> {
    (0..n)
        .map(|_| http(port, "GET", "/items", "").map(|(s, _)| s))
        .collect()
}

/// How many requests each shop answered while `n` went through the proxy.
fn split(port: u16, shops: &[&DemoChild], n: usize) -> Vec<u64> {
    let before: Vec<u64> = shops.iter().map(|s| served(s)).collect();
    let statuses = send(port, n);
    assert!(
        statuses.iter().all(|s| *s == Some(200)),
        "every request answered 200: {statuses:?}"
    );
    shops
        .iter()
        .zip(before)
        .map(|(s, b)| served(s) - b)
        .collect()
}

/// Sets every server to `state` through the admin API (a plain socket, not res's actuator).
fn set_all(proxy: &ProxyChild, names: &[&str], state: &str) {
    let set: Vec<String> = names
        .iter()
        .map(|n| format!("{{\"name\": \"{n}\", \"state\": \"{state}\"}}"))
        .collect();
    let body = format!("{{\"set\": [{}]}}", set.join(", "));
    let (status, answer) = http(proxy.admin, "POST", "/servers", &body).expect("admin answers");
    assert_eq!(status, 200, "{answer}");
}

/// One request on an open connection; the status, once the whole answer has been read.
fn exchange(s: &mut TcpStream) -> Option<u16> {
    s.write_all(b"GET /items HTTP/1.1\r\nHost: x\r\n\r\n")
        .ok()?;
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        (s.read(&mut byte).ok()? == 1).then_some(())?;
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    if let Some(len) = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        let mut body = vec![0u8; len];
        s.read_exact(&mut body).ok()?;
    } else {
        // Chunked: read to the last chunk.
        let mut body = Vec::new();
        while !body.ends_with(b"0\r\n\r\n") {
            (s.read(&mut byte).ok()? == 1).then_some(())?;
            body.push(byte[0]);
        }
    }
    Some(status)
}
