//! The `proxy` actuator against `res proxy serve`: shift, failover and undo through the
//! engine, an unreachable admin API, and `res run` from `balance via proxy` alone.

use super::{served, split, ProxyChild};
use crate::common;
use crate::support::haproxy::{DemoChild, TempDir};

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use res::remedy::{
    Action, ActionKind, Actuator, Check, Engine, EngineOptions, Evidence, Fired, Mode, Outcome,
    ProxySplitter, Remedy, TriggerRecord, Verification,
};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_admin_api_fails_the_read() {
    let gone = crate::support::haproxy::free_port();
    let err = ProxySplitter::new(&format!("http://127.0.0.1:{gone}"))
        .read()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("127.0.0.1"), "{err}");
}

/// `res run FILE --remediate act` on `text`; stdout and the JSON report, checked against its
/// schema.
fn run_file(tag: &str, text: &str) -> (String, serde_json::Value) {
    let dir = TempDir::new(tag);
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
    (out, v)
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
    let (out, v) = run_file("run-proxy", &text);
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
fn res_run_fails_over_to_the_backup_and_undoes_it_when_the_condition_stays() {
    // `do failover` from the language: the backup takes the traffic (the shops count it),
    // the condition (`p99 > 1ms`) cannot clear, so the run restores the states it read
    // before, and the proxy reads them back after the run.
    let shops: Vec<DemoChild> = (0..3).map(|_| DemoChild::start(&["catalog=8"])).collect();
    let proxy = ProxyChild::start(
        "http",
        &[
            format!("a=127.0.0.1:{}", shops[0].port),
            format!("b=127.0.0.1:{}", shops[1].port),
            format!("spare=127.0.0.1:{},backup", shops[2].port),
        ],
    );
    let text = format!(
        "system pool {{\n  base \"http://127.0.0.1:{front}\"\n  service a {{\n    route GET \"/items\"\n    balance via proxy \"{admin}\"\n  }}\n}}\n\
         traffic t {{ rate 50/s  hold 10s }}\n\
         remedy to_spare {{\n  when p99(pool) > 1ms for 2s\n  do failover pool.a to \"spare\"\n  verify within 3s\n  cooldown 1h\n}}\n\
         scenario s {{\n  step main = load t\n  then remediate with to_spare\n}}\n",
        front = proxy.port,
        admin = proxy.admin_url(),
    );
    let (out, v) = run_file("run-proxy-failover", &text);
    let r = &v["remediations"][0];
    assert_eq!(r["remedy"], "to_spare", "{v:#}\n{out}");
    assert_eq!(r["result"], "done", "{r:#}\n{out}");
    assert_eq!(r["undone"], true, "{r:#}\n{out}");
    assert_eq!(proxy.server("a").1, "ready");
    assert_eq!(proxy.server("b").1, "ready");
    let counts: Vec<u64> = shops.iter().map(served).collect();
    eprintln!(
        "res run failover: a {} b {} spare {}",
        counts[0], counts[1], counts[2]
    );
    assert!(counts.iter().all(|c| *c > 0), "{counts:?}");
}
