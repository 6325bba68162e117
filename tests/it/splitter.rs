//! res's proxy as a weighted splitter, against real parts: `res demo serve` instances behind a
//! `res proxy serve` child process. Every split is measured by the shops' own counters
//! (`/metrics`, `res_demo_requests_total` of catalog), and every weight and state is read back
//! from the proxy's admin API over a plain socket — not from what res believes it did.

use crate::common;
use crate::support::haproxy::{http, DemoChild, TempDir};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use res::remedy::{
    Action, ActionKind, Actuator, Check, Engine, EngineOptions, Evidence, Fired, Mode, Outcome,
    ProxySplitter, Remedy, TriggerRecord, Verification,
};

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

fn engine(proxy: &ProxyChild, remedy: Remedy) -> Engine {
    let options = EngineOptions {
        mode: Some(Mode::Act),
        allow_exec: false,
        ci: false,
        verify_every: Duration::from_millis(100),
    };
    let mut engine = Engine::new(vec![remedy], options, None);
    engine.add_actuator(
        "shop.catalog",
        ActionKind::Balance,
        Arc::new(ProxySplitter::new(&proxy.admin_url())),
    );
    engine
}

fn trigger() -> Fired {
    Fired {
        remedy: 0,
        trigger: TriggerRecord {
            predicted: false,
            condition: "error_rate(shop.catalog) > 1% for 1s".into(),
            window_s: 1.0,
            evidence: vec![Evidence {
                quantity: "error_rate(shop.catalog)".into(),
                value: 5.0,
                threshold: 1.0,
                unit: "%".into(),
            }],
        },
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("the blocking part ran")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_split_requests_a_shift_moves_the_split_and_undo_restores_it() {
    let a = Arc::new(DemoChild::start(&["catalog=16"]));
    let b = Arc::new(DemoChild::start(&["catalog=16"]));
    let proxy = Arc::new(ProxyChild::start(
        "http",
        &[
            format!("a=127.0.0.1:{},weight=100", a.port),
            format!("b=127.0.0.1:{},weight=100", b.port),
        ],
    ));
    let (pa, sa, sb) = (proxy.clone(), a.clone(), b.clone());
    let even = blocking(move || split(pa.port, &[&sa, &sb], 200)).await;
    eprintln!("weights 100/100: a {} b {} of 200", even[0], even[1]);
    assert_eq!(even.iter().sum::<u64>(), 200, "{even:?}");
    assert!(even[0].abs_diff(100) <= 10, "about 50/50: {even:?}");

    let mut remedy = Remedy::new(
        "off_a",
        "shop.catalog",
        Action::Shift {
            from: "a".into(),
            to: "b".into(),
            fraction: 0.9,
        },
    );
    remedy.verify_within = Some(Duration::from_secs(2));
    let mut engine = engine(&proxy, remedy);
    let ids = engine.evaluate(vec![trigger()]).await;
    let rec = engine.record(ids[0]).unwrap().clone();
    assert_eq!(rec.result, Outcome::Done, "{}", rec.line());
    // The proxy's own state, and the shops' own counters.
    assert_eq!(proxy.server("a"), (10, "ready".to_string()));
    assert_eq!(proxy.server("b"), (190, "ready".to_string()));
    assert_eq!(rec.after.as_ref().unwrap().server("b").unwrap().weight, 190);
    let (pa, sa, sb) = (proxy.clone(), a.clone(), b.clone());
    let shifted = blocking(move || split(pa.port, &[&sa, &sb], 200)).await;
    eprintln!("weights 10/190: a {} b {} of 200", shifted[0], shifted[1]);
    assert!(shifted[0] <= 20 && shifted[1] >= 180, "{shifted:?}");

    // A verification that fails undoes the shift: 100/100 again, read back and measured.
    let v = engine.verify(ids[0], || async { Check::Worse }).await;
    assert_eq!(v, Some(Verification::Worse));
    assert_eq!(
        engine.record(ids[0]).unwrap().undo.as_ref().unwrap().result,
        "done"
    );
    assert_eq!(proxy.server("a"), (100, "ready".to_string()));
    assert_eq!(proxy.server("b"), (100, "ready".to_string()));
    let (pa, sa, sb) = (proxy.clone(), a.clone(), b.clone());
    let back = blocking(move || split(pa.port, &[&sa, &sb], 100)).await;
    eprintln!("after undo: a {} b {} of 100", back[0], back[1]);
    assert!(back[0].abs_diff(50) <= 5, "{back:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_sends_everything_to_the_backup_and_undo_brings_the_primaries_back() {
    let shops: Vec<Arc<DemoChild>> = (0..3)
        .map(|_| Arc::new(DemoChild::start(&["catalog=8"])))
        .collect();
    let proxy = Arc::new(ProxyChild::start(
        "http",
        &[
            format!("a=127.0.0.1:{}", shops[0].port),
            format!("b=127.0.0.1:{}", shops[1].port),
            format!("spare=127.0.0.1:{},backup", shops[2].port),
        ],
    ));
    let measure = |n: usize| {
        let (p, s) = (proxy.clone(), shops.clone());
        blocking(move || split(p.port, &[&s[0], &s[1], &s[2]], n))
    };
    let before = measure(60).await;
    assert_eq!(
        before,
        [30, 30, 0],
        "the backup waits while a and b are ready"
    );

    let mut engine = engine(
        &proxy,
        Remedy::new(
            "to_spare",
            "shop.catalog",
            Action::Failover { to: "spare".into() },
        ),
    );
    let ids = engine.evaluate(vec![trigger()]).await;
    let rec = engine.record(ids[0]).unwrap().clone();
    assert_eq!(rec.result, Outcome::Done, "{}", rec.line());
    assert!(rec.before.as_ref().unwrap().server("spare").unwrap().backup);
    assert_eq!(proxy.server("a").1, "maint");
    assert_eq!(proxy.server("b").1, "maint");
    assert_eq!(proxy.server("spare").1, "ready");
    let during = measure(40).await;
    eprintln!(
        "after failover: a {} b {} spare {}",
        during[0], during[1], during[2]
    );
    assert_eq!(during, [0, 0, 40], "everything reaches the backup");

    let v = engine.verify(ids[0], || async { Check::Worse }).await;
    assert_eq!(v, Some(Verification::Worse));
    assert_eq!(proxy.server("a").1, "ready");
    assert_eq!(proxy.server("b").1, "ready");
    let after = measure(40).await;
    assert_eq!(after, [20, 20, 0], "undo brings a and b back");
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

#[test]
fn with_no_server_ready_http_answers_503_and_tcp_closes_both_counted() {
    let shop = DemoChild::start(&[]);
    let http_proxy = ProxyChild::start("http", &[format!("a=127.0.0.1:{}", shop.port)]);
    set_all(&http_proxy, &["a"], "drain");
    let statuses = send(http_proxy.port, 5);
    assert!(statuses.iter().all(|s| *s == Some(503)), "{statuses:?}");
    assert_eq!(http_proxy.document()["stats"]["no_server"], 5);
    set_all(&http_proxy, &["a"], "ready");
    assert_eq!(send(http_proxy.port, 1), [Some(200)]);

    // TCP: a choice per connection, measured by the shops; no server → closed at once.
    let other = DemoChild::start(&[]);
    let tcp = ProxyChild::start(
        "tcp",
        &[
            format!("a=127.0.0.1:{},weight=30", shop.port),
            format!("b=127.0.0.1:{},weight=10", other.port),
        ],
    );
    let got = split(tcp.port, &[&shop, &other], 80);
    eprintln!("tcp weights 30/10: a {} b {} of 80", got[0], got[1]);
    assert_eq!(got, [60, 20]);
    set_all(&tcp, &["a", "b"], "maint");
    let mut s = TcpStream::connect(("127.0.0.1", tcp.port)).expect("the proxy accepts");
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let _ = s.write_all(b"GET /items HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    assert!(out.is_empty(), "closed without an answer");
    assert_eq!(tcp.document()["stats"]["no_server"], 1);
    let servers = tcp.document()["servers"].clone();
    assert_eq!(servers[0]["sent"], 60, "{servers:#}");
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

#[test]
fn tcp_drain_lets_an_open_connection_finish_and_takes_no_new_ones() {
    let a = DemoChild::start(&[]);
    let b = DemoChild::start(&[]);
    let tcp = ProxyChild::start(
        "tcp",
        &[
            format!("a=127.0.0.1:{}", a.port),
            format!("b=127.0.0.1:{}", b.port),
        ],
    );
    let (a0, b0) = (served(&a), served(&b));
    let mut open = TcpStream::connect(("127.0.0.1", tcp.port)).unwrap();
    open.set_read_timeout(Some(Duration::from_secs(10))).ok();
    assert_eq!(exchange(&mut open), Some(200));
    let (on, other) = if served(&a) > a0 {
        ("a", "b")
    } else {
        ("b", "a")
    };
    assert_eq!(served(&a) + served(&b) - a0 - b0, 1);
    set_all(&tcp, &[on], "drain");
    assert_eq!(tcp.server(on).1, "drain");
    // The open connection goes on; new ones go to the other server only.
    let (a1, b1) = (served(&a), served(&b));
    assert_eq!(
        exchange(&mut open),
        Some(200),
        "the drained server finishes"
    );
    let got = split(tcp.port, &[&a, &b], 10);
    let (da, db) = (served(&a) - a1, served(&b) - b1);
    eprintln!(
        "{on} drained: the open connection answered on {on}; new ones a {} b {}",
        got[0], got[1]
    );
    let (on_count, other_count) = if on == "a" { (da, db) } else { (db, da) };
    assert_eq!(
        (on_count, other_count),
        (1, 10),
        "drained {on}, other {other}"
    );
}

#[test]
fn a_server_that_refuses_connections_answers_502_and_reads_down() {
    let shop = DemoChild::start(&[]);
    let dead = crate::support::haproxy::free_port();
    let proxy = ProxyChild::start(
        "http",
        &[
            format!("a=127.0.0.1:{}", shop.port),
            format!("dead=127.0.0.1:{dead}"),
        ],
    );
    let statuses = send(proxy.port, 10);
    let count = |code| statuses.iter().filter(|s| **s == Some(code)).count();
    assert_eq!((count(200), count(502)), (5, 5), "{statuses:?}");
    let doc = proxy.document();
    assert_eq!(doc["servers"][1]["up"], false, "{doc:#}");
    assert_eq!(doc["servers"][1]["errors"], 5, "{doc:#}");
    assert_eq!(doc["servers"][0]["up"], true, "{doc:#}");
    // Taken out of service, it gets nothing: every request is answered.
    set_all(&proxy, &["dead"], "maint");
    assert!(send(proxy.port, 10).iter().all(|s| *s == Some(200)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_admin_api_fails_the_read() {
    let gone = crate::support::haproxy::free_port();
    let err = ProxySplitter::new(&format!("http://127.0.0.1:{gone}"))
        .read()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("127.0.0.1"), "{err}");
}

#[test]
fn res_run_shifts_weight_through_res_proxy_as_the_file_declares() {
    // The language end to end: `balance via proxy` on the service the shift moves weight
    // from. `a` has one catalog worker and sheds load with 503 at 300/s; the remedy moves 90 %
    // of its weight onto `b`, the errors stop, and the proxy reports the new weights after.
    let a = DemoChild::start(&["catalog=1"]);
    let b = DemoChild::start(&["catalog=16"]);
    let proxy = ProxyChild::start(
        "http",
        &[
            format!("a=127.0.0.1:{}", a.port),
            format!("b=127.0.0.1:{}", b.port),
        ],
    );
    let text = format!(
        "system pool {{\n  base \"http://127.0.0.1:{front}\"\n  service a {{\n    route GET \"/items\"\n    balance via proxy \"{admin}\"\n  }}\n  service b {{ route GET \"/items\" }}\n}}\n\
         traffic t {{ rate 300/s  hold 14s }}\n\
         remedy off_slow {{\n  when error_rate(pool) > 2% for 2s\n  do shift 90% from pool.a to pool.b\n  verify within 8s\n  cooldown 1h\n}}\n\
         scenario s {{\n  step main = load t\n  then remediate with off_slow\n}}\n",
        front = proxy.port,
        admin = proxy.admin_url(),
    );
    let (a0, b0) = (served(&a), served(&b));
    let dir = TempDir::new("run-proxy");
    let file = dir.path().join("scenario.res");
    std::fs::write(&file, text).unwrap();
    let json = dir.path().join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_res"))
        .args(["run", file.to_str().unwrap(), "--seed", "9", "--quiet"])
        .args(["--report", &format!("json={}", json.display())])
        .args(["--no-record", "--remediate", "act"])
        .env("NO_COLOR", "1")
        .env_remove("CI")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&out.stdout).into_owned();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("report written")).unwrap();
    let errors = common::validate(&common::load_schema("report.schema.json"), &v);
    assert!(errors.is_empty(), "report violates its schema: {errors:#?}");
    let r = &v["remediations"][0];
    assert_eq!(r["remedy"], "off_slow", "{v:#}\n{out}");
    assert_eq!(r["result"], "done", "{r:#}\n{out}");
    assert_eq!(r["verification"], "verified", "{r:#}\n{out}");
    assert_eq!(r["after"]["servers"][0]["weight"], 10, "{r:#}");
    assert_eq!(proxy.server("a"), (10, "ready".to_string()));
    assert_eq!(proxy.server("b"), (190, "ready".to_string()));
    // The shops' own counts: after the shift, b answered most of the run.
    let (da, db) = (served(&a) - a0, served(&b) - b0);
    eprintln!("res run through res proxy: a answered {da}, b {db}");
    assert!(db > da, "a {da}, b {db}");
}

#[test]
fn res_proxy_serve_refuses_bad_servers_and_a_non_loopback_admin_api() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_res"))
            .args(["proxy", "serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["--server", "a=127.0.0.1:1", "--admin", "0.0.0.0:0"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--admin-any-address"), "{err}");
    let (code, err) = run(&["--server", "a=127.0.0.1:1,weight=300"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("0 to 256"), "{err}");
    let (code, err) = run(&["--server", "a=127.0.0.1:1", "--server", "a=127.0.0.1:2"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("named twice"), "{err}");
    let (code, err) = run(&[]);
    assert_eq!(code, Some(2), "a server is required: {err}");
}
