//! Real parts for the remediation tests: `res demo serve` instances as child processes of the
//! built binary, and HAProxy (Debian's package) started with a generated config and a runtime
//! API socket on 127.0.0.1. Everything is killed when dropped.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Whether the test must fail rather than skip when a part is missing.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A port free right now on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A `res demo serve` child process.
pub struct DemoChild {
    child: Child,
    pub port: u16,
}

impl DemoChild {
    /// Starts the demo shop on free ports with extra `--capacity` settings.
    pub fn start(capacities: &[&str]) -> DemoChild {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_res"));
        cmd.args(["demo", "serve", "--port", "0", "--payments-port", "0"]);
        for c in capacities {
            cmd.args(["--capacity", c]);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .stdin(Stdio::null())
            .spawn()
            .expect("res demo serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
                if let Some(rest) = line.strip_prefix("demo shop  http://127.0.0.1:") {
                    let port: u16 = rest
                        .split_whitespace()
                        .next()
                        .and_then(|p| p.parse().ok())
                        .expect("a port in the banner");
                    return DemoChild { child, port };
                }
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("res demo serve did not print its address within 20 s");
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for DemoChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One blocking HTTP/1.1 exchange: status and body.
pub fn http(port: u16, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.split_whitespace().nth(1)?.parse().ok()?;
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((status, body))
}

/// The demo's capacity of `service`, read straight from its admin API.
pub fn capacity(port: u16, service: &str) -> u64 {
    let (_, body) = http(port, "GET", "/admin/capacity", "").expect("admin answers");
    // The body may be chunked: find the JSON object in it.
    let start = body.find('{').expect("a JSON object");
    let end = body.rfind('}').expect("a JSON object");
    let v: serde_json::Value = serde_json::from_str(&body[start..=end]).expect("JSON");
    v[service].as_u64().expect("a capacity")
}

/// A running HAProxy.
pub struct Haproxy {
    child: Child,
    pub front: u16,
    pub admin: u16,
    dir: TempDir,
}

/// The binary, if installed.
pub fn haproxy_bin() -> Option<PathBuf> {
    [
        "/usr/sbin/haproxy",
        "/usr/bin/haproxy",
        "/usr/local/sbin/haproxy",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

impl Haproxy {
    /// Starts HAProxy in the foreground with backend `backend` holding `servers`, each given
    /// as a config line tail (`a 127.0.0.1:8080 weight 100`).
    pub fn start(bin: &Path, backend: &str, servers: &[String]) -> Haproxy {
        let dir = TempDir::new("haproxy");
        let (front, admin) = (free_port(), free_port());
        let unix = dir.path().join("admin.sock");
        let unix = unix.display();
        let mut cfg = format!(
            "global\n  stats socket ipv4@127.0.0.1:{admin} level admin\n  stats socket {unix} level admin\n  maxconn 1000\n\n\
             defaults\n  mode http\n  timeout connect 2s\n  timeout client 20s\n  timeout server 20s\n\n\
             frontend fe\n  bind 127.0.0.1:{front}\n  default_backend {backend}\n\n\
             backend {backend}\n  balance roundrobin\n"
        );
        for s in servers {
            cfg.push_str(&format!("  server {s}\n"));
        }
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, cfg).expect("config written");
        let child = Command::new(bin)
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .expect("haproxy starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", admin)).is_ok()
                && TcpStream::connect(("127.0.0.1", front)).is_ok()
            {
                return Haproxy {
                    child,
                    front,
                    admin,
                    dir,
                };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut child = child;
        let _ = child.kill();
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        panic!("haproxy did not listen within 10 s: {err}");
    }

    /// The same runtime API on a unix socket.
    pub fn unix_socket(&self) -> String {
        self.dir.path().join("admin.sock").display().to_string()
    }

    pub fn socket(&self) -> String {
        format!("127.0.0.1:{}", self.admin)
    }

    /// A runtime-API command, sent over a plain socket (not through res).
    pub fn command(&self, line: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", self.admin)).expect("admin socket");
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        s.write_all(format!("{line}\n").as_bytes()).expect("write");
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }

    /// `show servers state BACKEND` as (name, admin_state bits, user weight), from HAProxy.
    pub fn servers(&self, backend: &str) -> Vec<(String, u32, u32)> {
        let text = self.command(&format!("show servers state {backend}"));
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        lines.next();
        let header: Vec<&str> = lines
            .next()
            .and_then(|h| h.strip_prefix('#'))
            .expect("header")
            .split_whitespace()
            .collect();
        let col = |n: &str| header.iter().position(|h| *h == n).expect("column");
        let (name, admin, weight) = (col("srv_name"), col("srv_admin_state"), col("srv_uweight"));
        lines
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (
                    f[name].to_string(),
                    f[admin].parse().expect("admin"),
                    f[weight].parse().expect("weight"),
                )
            })
            .collect()
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temporary directory removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let p =
            std::env::temp_dir().join(format!("res-remedy-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
