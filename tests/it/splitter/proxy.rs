//! The splitter itself, behind `res proxy serve`: nobody to send to, drain in TCP mode, a
//! server refusing connections, the command's refusals, and `balance via proxy` in a file.

use super::{exchange, send, served, set_all, split, ProxyChild};
use crate::support::haproxy::{DemoChild, TempDir};

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

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

#[test]
fn balance_via_proxy_is_formatted_and_checked() {
    let messy = "system pay{base \"http://127.0.0.1:8700\"\nservice a{route GET \"/\"   balance   via  proxy   \"http://127.0.0.1:9900\"}\nservice b{route GET \"/\"}}\nremedy m{when error_rate(pay.a) > 5% for 30s\ndo shift 50% from pay.a to pay.b}\n";
    let tidy = res::syntax::format::format_source(messy).expect("formats");
    assert!(
        tidy.contains("    balance via proxy \"http://127.0.0.1:9900\"\n"),
        "{tidy}"
    );
    assert_eq!(res::syntax::format::format_source(&tidy).unwrap(), tidy);
    let dir = TempDir::new("check-proxy");
    let file = dir.path().join("pay.res");
    std::fs::write(&file, &tidy).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_res"))
        .args(["check", file.to_str().unwrap(), "--color", "never"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
