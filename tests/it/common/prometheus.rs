//! A real Prometheus server for the tests that read metrics from one: Debian's binary on a
//! free 127.0.0.1 port, scraping a target every second (a skip locally when it is not
//! installed, a failure under `CI=true`), and the small HTTP GET the tests use to ask it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::skip;

/// The Prometheus binary from Debian's package, or a skip (a failure under CI=true).
pub fn prometheus_bin() -> Option<PathBuf> {
    let found = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        skip("prometheus is not installed (apt-get install prometheus)");
    }
    found
}

/// A Prometheus server on a free 127.0.0.1 port, scraping `target` every second; killed when
/// dropped.
pub struct Prometheus {
    child: std::process::Child,
    pub addr: String,
}

impl Prometheus {
    pub fn start(bin: &Path, dir: &Path, target: &str) -> Prometheus {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: demo\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new(bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
            .spawn()
            .unwrap();
        let p = Prometheus { child, addr };
        let deadline = Instant::now() + Duration::from_secs(30);
        while get_status(&p.addr, "/-/ready") != Some(200) {
            assert!(
                Instant::now() < deadline,
                "Prometheus did not become ready: {}",
                std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        p
    }

    /// The first number an instant query returns, if any.
    pub fn query(&self, promql: &str) -> Option<f64> {
        let q: String = promql
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let (_, body) = get(&self.addr, &format!("/api/v1/query?query={q}"));
        let v: Value = serde_json::from_str(&body).ok()?;
        v["data"]["result"][0]["value"][1].as_str()?.parse().ok()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn get_status(addr: &str, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    text.split_whitespace().nth(1)?.parse().ok()
}

/// `GET path` over HTTP/1.0: the status line and the body.
pub fn get(addr: &str, path: &str) -> (String, String) {
    use std::io::{Read, Write};
    // The listener may come up a moment after the loop's first lines on a loaded machine, and
    // a connection can be refused or reset while it does: retry the exchange for up to 10 s.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let attempt = (|| -> std::io::Result<String> {
            let mut s = std::net::TcpStream::connect(addr)?;
            write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n")?;
            let mut text = String::new();
            s.read_to_string(&mut text)?;
            Ok(text)
        })();
        match attempt {
            Ok(text) if text.contains("\r\n\r\n") => {
                let (head, body) = text.split_once("\r\n\r\n").unwrap();
                return (head.lines().next().unwrap().to_string(), body.to_string());
            }
            Ok(text) if Instant::now() >= deadline => panic!("GET {path}: {text:?}"),
            Err(e) if Instant::now() >= deadline => panic!("GET {addr}{path}: {e}"),
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}
