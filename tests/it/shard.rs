//! Sharded runs (`res run --shard I/N`, `res merge`, `res k8s job`) against a real demo shop
//! on 127.0.0.1: the shards together send what one process sends (counted by the shop
//! itself), the merge's percentiles are those of the pooled samples, a killed shard is
//! reported missing, and what is not one run is refused.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use crate::common::{load_schema, res, res_bin, stderr, stdout, validate, Demo};
use res::load::shard::Shard;
use res::load::{arrival_times, Arrival, LoadSpec, Pacing, RateSchedule, RequestSpec, Workload};
use res::units::{Duration, Rate};
use serde_json::Value;

/// A scenario against `addr`: constant arrivals, so the count is planned exactly.
fn scenario(dir: &Path, addr: &str, rate: u32, secs: u32) -> PathBuf {
    scenario_with(dir, addr, rate, secs, "constant")
}

fn scenario_with(dir: &Path, addr: &str, rate: u32, secs: u32, arrival: &str) -> PathBuf {
    let path = dir.join(format!("{arrival}.res"));
    std::fs::write(
        &path,
        format!(
            "system shop {{\n  base \"http://{addr}\"\n  service catalog {{ route GET \"/items/{{random.1000}}\" expect status 2xx }}\n}}\n\
             traffic t {{ rate {rate}/s  hold {secs}s  arrival {arrival} }}\n\
             scenario s {{\n  step main = load t\n  expect p99(shop.catalog) < 5s\n}}\n"
        ),
    )
    .unwrap();
    path
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("res-shard-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn spawn(dir: &Path, args: &[String]) -> Child {
    Command::new(res_bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("RES_STATE_DIR", dir.join("state"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait(c: Child) -> Output {
    c.wait_with_output().unwrap()
}

/// The shop's own count of catalog requests.
fn served(demo: &Demo) -> u64 {
    let (_, body) = demo.request("GET", "/admin/stats", "");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["catalog"]["requests"].as_u64().unwrap()
}

/// A common start two whole seconds ahead (RFC 3339).
fn start_at() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    res::units::Timestamp(now as i64 + 2).to_rfc3339()
}

/// Runs N shards from a common start; their report files.
fn run_shards(dir: &Path, file: &Path, n: u32, seed: u64) -> Vec<PathBuf> {
    let at = start_at();
    let children: Vec<(PathBuf, Child)> = (1..=n)
        .map(|i| {
            let stem = file.file_stem().unwrap().to_string_lossy();
            let report = dir.join(format!("{stem}-n{n}-shard{i}.json"));
            let args: Vec<String> = vec![
                "run".into(),
                file.display().to_string(),
                "--seed".into(),
                seed.to_string(),
                "--shard".into(),
                format!("{i}/{n}"),
                "--start-at".into(),
                at.clone(),
                "-q".into(),
                "--report".into(),
                format!("json={}", report.display()),
            ];
            (report, spawn(dir, &args))
        })
        .collect();
    children
        .into_iter()
        .map(|(report, c)| {
            let o = wait(c);
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            report
        })
        .collect()
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn merge(dir: &Path, files: &[PathBuf], out: &Path) -> Output {
    let mut args: Vec<String> = vec!["merge".into()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    args.extend(["-o".into(), out.display().to_string()]);
    wait(spawn(dir, &args))
}

/// Every shard's histograms added directly: the pooled samples.
fn pooled_p99(files: &[PathBuf]) -> f64 {
    let mut h = res::run::shard::decode("").unwrap();
    for f in files {
        for s in json(f)["shard"]["seconds"].as_array().unwrap() {
            h.add(res::run::shard::decode(s["latency"].as_str().unwrap()).unwrap())
                .unwrap();
        }
    }
    h.value_at_quantile(0.99) as f64 / 1000.0
}

#[test]
fn shards_together_send_what_one_process_sends() {
    let demo = Demo::start();
    let dir = tmp("total");
    let file = scenario(&dir, &demo.addr, 100, 4);
    let schema = load_schema("report.schema.json");
    let before = served(&demo);
    let o = res(&[
        "run",
        file.to_str().unwrap(),
        "--seed",
        "7",
        "-q",
        "--no-record",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let one = served(&demo) - before;
    // Constant arrivals: 100/s for 4 s is 400, each of them sent.
    assert_eq!(one, 400, "one process sent {one} of 400");
    for n in [1, 2, 4] {
        let before = served(&demo);
        let files = run_shards(&dir, &file, n, 7);
        let total = served(&demo) - before;
        assert_eq!(
            total, one,
            "{n} shards: the shop counted {total}, one process {one}"
        );
        for f in &files {
            let v = json(f);
            assert!(
                validate(&schema, &v).is_empty(),
                "{:?}",
                validate(&schema, &v)
            );
            let lag = &v["send_lag_ms"];
            assert!(lag["p99_ms"].as_f64().unwrap() < 250.0, "send lag {lag}");
        }
        let out = dir.join(format!("constant-n{n}-run.json"));
        let o = merge(&dir, &files, &out);
        assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
        let m = json(&out);
        assert!(
            validate(&schema, &m).is_empty(),
            "{:?}",
            validate(&schema, &m)
        );
        assert_eq!(m["outcome"], "pass");
        let merged = m["services"]["shop.catalog"]["requests"].as_u64().unwrap();
        assert_eq!(
            merged, total,
            "the merge holds every request the shop served"
        );
        let p99 = m["services"]["shop.catalog"]["latency_ms"]["p99"]
            .as_f64()
            .unwrap();
        assert_eq!(
            p99,
            pooled_p99(&files),
            "merged p99 is the pooled samples' p99"
        );
        let rate = m["steps"][0]["achieved_rps"].as_f64().unwrap();
        assert!((rate - 100.0).abs() / 100.0 <= 0.02, "merged rate {rate}");
        assert!(m["merge"]["complete"].as_bool().unwrap());
        assert!(stdout(&o).contains("recorded as run"), "{}", stdout(&o));
    }
}

/// The load a plain run of `scenario_with(…, rate, secs, arrival)` with `seed` starts (its
/// one step is seeded with the run's seed).
fn planned_spec(rate: f64, secs: f64, arrival: Arrival, seed: u64) -> LoadSpec {
    let mut spec = LoadSpec::new(
        "http://127.0.0.1:1",
        vec![RequestSpec::get("catalog", "/items/1")],
        Workload::Open {
            schedule: RateSchedule::default().hold(Duration::from_secs(secs), Some(Rate(rate))),
            arrival,
            pacing: Pacing::Precise,
        },
        Duration::from_secs(secs),
    );
    spec.seed = seed;
    spec
}

/// Poisson and uniform arrivals: a plain run draws its send times exactly as `--shard 1/1`
/// does, and every shard draws that same sequence and keeps its share — so a plain run, one
/// shard, and 2 or 4 shards together all send exactly the planned sequence, counted by the
/// shop (not N independent counts that agree only statistically).
#[test]
fn a_plain_run_and_any_number_of_shards_send_the_same_sequence() {
    let demo = Demo::start();
    let dir = tmp("poisson");
    for (arrival, name) in [(Arrival::Poisson, "poisson"), (Arrival::Uniform, "uniform")] {
        let file = scenario_with(&dir, &demo.addr, 100, 4, name);
        let spec = planned_spec(100.0, 4.0, arrival, 21);
        // The same sequence whatever the split.
        let whole = |spec: LoadSpec| arrival_times(&spec, 1_000_000).unwrap();
        let planned = whole(spec.clone());
        assert_eq!(whole(Shard::WHOLE.split(spec.clone())), planned);
        let mut halves: Vec<f64> = (0..2)
            .flat_map(|i| whole(Shard::new(i, 2).unwrap().split(spec.clone())))
            .collect();
        halves.sort_by(f64::total_cmp);
        assert_eq!(halves, planned, "{name}: shards 1/2 and 2/2 together");

        let before = served(&demo);
        let report = dir.join(format!("{name}-plain.json"));
        let o = res(&[
            "run",
            file.to_str().unwrap(),
            "--seed",
            "21",
            "-q",
            "--no-record",
            "--report",
            &format!("json={}", report.display()),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let plain = served(&demo) - before;
        eprintln!(
            "{name} (seed 21): planned {}, the shop counted {plain}",
            planned.len()
        );
        assert_eq!(
            plain,
            planned.len() as u64,
            "{name}: a plain run sends its planned sequence"
        );
        for n in [1, 2, 4] {
            let before = served(&demo);
            let files = run_shards(&dir, &file, n, 21);
            let total = served(&demo) - before;
            assert_eq!(total, plain, "{name}, {n} shards: the shop's count");
            let out = dir.join(format!("{name}-n{n}-run.json"));
            let o = merge(&dir, &files, &out);
            assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
            let m = json(&out);
            let merged = m["services"]["shop.catalog"]["requests"].as_u64().unwrap();
            assert_eq!(merged, total, "every second of every shard is in the merge");
            let p99 = m["services"]["shop.catalog"]["latency_ms"]["p99"]
                .as_f64()
                .unwrap();
            assert_eq!(p99, pooled_p99(&files));
        }
    }
}

#[test]
fn a_killed_shard_is_reported_missing() {
    let demo = Demo::start();
    let dir = tmp("killed");
    let file = scenario(&dir, &demo.addr, 30, 3);
    let sync = dir.join("sync");
    let children: Vec<Child> = (1..=3)
        .map(|i| {
            let args: Vec<String> = [
                "run",
                file.to_str().unwrap(),
                "--seed",
                "3",
                "--shard",
                &format!("{i}/3"),
                "--sync",
                sync.to_str().unwrap(),
                "-q",
                "--report",
                &format!("json={}", dir.join(format!("k{i}.json")).display()),
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            spawn(&dir, &args)
        })
        .collect();
    let mut children = children.into_iter();
    let (a, b, mut c) = (
        children.next().unwrap(),
        children.next().unwrap(),
        children.next().unwrap(),
    );
    // Mid-run: the barrier gives a start two seconds after all are ready.
    std::thread::sleep(std::time::Duration::from_millis(3500));
    c.kill().unwrap();
    let _ = c.wait();
    let (a, b) = (wait(a), wait(b));
    assert_eq!(a.status.code(), Some(0), "{}", stderr(&a));
    assert_eq!(b.status.code(), Some(0), "{}", stderr(&b));
    let files = [dir.join("k1.json"), dir.join("k2.json")];
    assert!(!dir.join("k3.json").exists());
    let out = dir.join("run.json");
    let o = merge(&dir, &files, &out);
    assert_eq!(o.status.code(), Some(1), "incomplete: {}", stdout(&o));
    assert!(stdout(&o).contains("missing shard 3/3"), "{}", stdout(&o));
    let m = json(&out);
    assert_eq!(m["outcome"], "incomplete");
    assert_eq!(m["merge"]["missing"][0]["index"], 3);
    let share = m["merge"]["missing"][0]["share_pct"].as_f64().unwrap();
    assert!((share - 100.0 / 3.0).abs() < 0.01);
    let kept: u64 = files
        .iter()
        .map(|f| {
            json(f)["services"]["shop.catalog"]["requests"]
                .as_u64()
                .unwrap()
        })
        .sum();
    assert_eq!(
        m["services"]["shop.catalog"]["requests"].as_u64().unwrap(),
        kept
    );
    assert!(
        (57..=60).contains(&kept),
        "shards 1 and 2 sent {kept} of their two thirds of 90"
    );
    assert!(m["merge"]["start_spread_ms"].as_f64().unwrap() < 50.0);
}

/// A shard report edited (file name, the edit) and what the refusal must say.
type Edit<'a> = (&'a str, &'a dyn Fn(&mut Value), &'a str);

#[test]
fn what_is_not_one_run_is_refused() {
    let demo = Demo::start();
    let dir = tmp("refused");
    let file = scenario(&dir, &demo.addr, 20, 1);
    for bad in ["0/4", "5/4", "1/0"] {
        let o = res(&["run", file.to_str().unwrap(), "--shard", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(stderr(&o).contains(bad), "{}", stderr(&o));
    }
    let o = res(&[
        "run",
        file.to_str().unwrap(),
        "--shard",
        "1/2",
        "--coordinator",
        "3",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let files = run_shards(&dir, &file, 2, 11);
    let edit = |name: &str, f: &dyn Fn(&mut Value)| {
        let mut v = json(&files[1]);
        f(&mut v);
        let p = dir.join(name);
        std::fs::write(&p, v.to_string()).unwrap();
        p
    };
    let cases: [Edit; 5] = [
        ("seed.json", &|v| v["seed"] = 12.into(), "the seed differs"),
        (
            "count.json",
            &|v| v["shard"]["count"] = 3.into(),
            "the shard count differs",
        ),
        (
            "file.json",
            &|v| v["shard"]["file_hash"] = "0123456789abcdef".into(),
            "the scenario file differs",
        ),
        (
            "old.json",
            &|v| v["res_version"] = "0.0.9".into(),
            "from res 0.0.9",
        ),
        (
            "dup.json",
            &|v| v["shard"]["index"] = 1.into(),
            "given twice",
        ),
    ];
    for (name, f, says) in cases {
        let other = edit(name, f);
        let o = merge(&dir, &[files[0].clone(), other], &dir.join("x.json"));
        assert_eq!(o.status.code(), Some(2), "{name}");
        assert!(stderr(&o).contains(says), "{name}: {}", stderr(&o));
    }
}

#[test]
fn k8s_job_round_trips_through_the_api_types() {
    use k8s_openapi::api::batch::v1::Job;
    use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim};
    let dir = tmp("k8s");
    let file = scenario(&dir, "127.0.0.1:9", 20, 1);
    let f = file.to_str().unwrap();
    let o = res(&[
        "k8s",
        "job",
        f,
        "--shards",
        "4",
        "--image",
        "res:test",
        "--namespace",
        "load",
        "--seed",
        "5",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let list: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(list["kind"], "List");
    let items = list["items"].as_array().unwrap();
    let cm: ConfigMap = serde_json::from_value(items[0].clone()).unwrap();
    assert_eq!(serde_json::to_value(&cm).unwrap(), items[0]);
    assert!(cm.data.unwrap()["constant.res"].contains("scenario s"));
    let pvc: PersistentVolumeClaim = serde_json::from_value(items[1].clone()).unwrap();
    assert_eq!(serde_json::to_value(&pvc).unwrap(), items[1]);
    let job: Job = serde_json::from_value(items[2].clone()).unwrap();
    assert_eq!(serde_json::to_value(&job).unwrap(), items[2]);
    assert_eq!(job.metadata.namespace.as_deref(), Some("load"));
    let spec = job.spec.unwrap();
    assert_eq!(spec.completion_mode.as_deref(), Some("Indexed"));
    assert_eq!((spec.completions, spec.parallelism), (Some(4), Some(4)));
    let script = spec.template.spec.unwrap().containers[0]
        .command
        .clone()
        .unwrap()[2]
        .clone();
    assert!(script.contains("--shard $I/4"), "{script}");
    assert!(script.contains("--seed 5"), "{script}");
    assert!(script.contains("res merge"), "{script}");
    let o = res(&["k8s", "job", f, "--shards", "0", "--image", "res:test"]);
    assert_eq!(o.status.code(), Some(2));
}
