//! The orchestrator's own `/metrics` (Prometheus text: loop iterations, runs by outcome,
//! skips by reason, decisions by action, the last forecast peak per traffic) and `/healthz`
//! (200 with the last iteration's time), on 127.0.0.1 with `--listen`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the loop counts.
#[derive(Debug, Default)]
pub struct Counters {
    pub iterations: u64,
    pub last_iteration: String,
    pub decisions: BTreeMap<String, u64>,
    pub runs: BTreeMap<String, u64>,
    pub skips: BTreeMap<String, u64>,
    pub peaks: BTreeMap<String, f64>,
}

pub type Shared = Arc<Mutex<Counters>>;

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The exposition text.
pub fn render(c: &Counters) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP res_orchestrate_iterations_total Loop iterations."
    );
    let _ = writeln!(out, "# TYPE res_orchestrate_iterations_total counter");
    let _ = writeln!(out, "res_orchestrate_iterations_total {}", c.iterations);
    let families: [(&str, &str, &str, &BTreeMap<String, u64>); 3] = [
        (
            "res_orchestrate_decisions_total",
            "action",
            "Decisions recorded in the audit log, by action.",
            &c.decisions,
        ),
        (
            "res_orchestrate_runs_total",
            "outcome",
            "Runs started (or planned), by outcome.",
            &c.runs,
        ),
        (
            "res_orchestrate_skips_total",
            "reason",
            "Runs skipped, by reason (each reason recorded once until it changes).",
            &c.skips,
        ),
    ];
    for (name, label, help, map) in families {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} counter");
        for (k, v) in map {
            let _ = writeln!(out, "{name}{{{label}=\"{}\"}} {v}", escape(k));
        }
    }
    let _ = writeln!(
        out,
        "# HELP res_orchestrate_forecast_peak_per_second The last forecast peak of each learned traffic, events included."
    );
    let _ = writeln!(out, "# TYPE res_orchestrate_forecast_peak_per_second gauge");
    for (k, v) in &c.peaks {
        let _ = writeln!(
            out,
            "res_orchestrate_forecast_peak_per_second{{traffic=\"{}\"}} {v}",
            escape(k)
        );
    }
    out
}

/// Serves `/metrics` and `/healthz` until the runtime ends. Bound before the loop starts, so
/// an address in use is an error at once.
pub async fn bind(addr: &str) -> Result<TcpListener, String> {
    let sock: std::net::SocketAddr = addr
        .parse()
        .map_err(|_| format!("--listen {addr}: expected 127.0.0.1:PORT"))?;
    if !sock.ip().is_loopback() {
        return Err(format!("--listen {addr}: only 127.0.0.1 is served"));
    }
    TcpListener::bind(sock)
        .await
        .map_err(|e| format!("--listen {addr}: {e}"))
}

pub async fn serve(listener: TcpListener, counters: Shared) {
    loop {
        let Ok((mut conn, _)) = listener.accept().await else {
            continue;
        };
        let counters = counters.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 2048];
            let read =
                tokio::time::timeout(std::time::Duration::from_secs(10), conn.read(&mut buf)).await;
            let Ok(Ok(n)) = read else {
                return;
            };
            let head = String::from_utf8_lossy(&buf[..n]);
            let path = head.split_whitespace().nth(1).unwrap_or("");
            let (status, ctype, body) = {
                let c = counters.lock().unwrap_or_else(|e| e.into_inner());
                match path {
                    "/metrics" => ("200 OK", "text/plain; version=0.0.4", render(&c)),
                    "/healthz" => (
                        "200 OK",
                        "text/plain",
                        format!(
                            "ok: {} iterations, last at {}\n",
                            c.iterations, c.last_iteration
                        ),
                    ),
                    _ => ("404 Not Found", "text/plain", "not found\n".to_string()),
                }
            };
            let answer = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(answer.as_bytes()).await;
            let _ = conn.shutdown().await;
        });
    }
}
