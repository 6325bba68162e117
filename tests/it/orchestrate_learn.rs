//! `res orchestrate` learns its logs incrementally, on a real log file that a test writes
//! while the loop runs (virtual clock, a few iterations a second): lines appended are learned
//! alone (a line still without its newline waits), a rotation to `PATH.1` and to `PATH.1.gz`
//! (and a `copytruncate`) reads the rest of the old file and the new one from its start, so
//! every line counts once —
//! the model then equals a whole learn of all the lines (requests and forecast peak) — and a
//! log rewritten in place is learned again from scratch, saying why. Every version is an
//! audit row with how it was learned, the byte it started from and the lines it added.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use crate::orchestrate::decisions;
use serde_json::Value;

/// Eight days of combined-format lines from 2026-11-30, busier by day than by night.
fn lines() -> Vec<String> {
    let mut out = Vec::new();
    for h in 0..8 * 24u32 {
        let (day, hour) = (h / 24, h % 24);
        let n = 6 + if (8..20).contains(&hour) { 14 } else { 0 } + day % 3;
        for k in 0..n {
            let s = k * 3600 / n;
            let date = if day == 0 {
                "30/Nov/2026".to_string()
            } else {
                format!("{day:02}/Dec/2026")
            };
            let path = ["/", "/items/7", "/items/12", "/cart"][(k % 4) as usize];
            out.push(format!(
                "10.0.{}.{} - - [{date}:{hour:02}:{:02}:{:02} +0000] \"GET {path} HTTP/1.1\" 200 {} \"-\" \"ua{}\"\n",
                day,
                k % 9,
                s / 60,
                s % 60,
                200 + k,
                k % 3
            ));
        }
    }
    out
}

fn res_file(dir: &Path) -> std::path::PathBuf {
    let file = dir.join("learn.res");
    std::fs::write(
        &file,
        "system shop {\n  builtin demo_shop\n  service catalog { route GET \"/items/1\" }\n}\n\
         traffic real {\n  learn from \"access.log\" format combined\n  forecast peak over 7d\n}\n\
         scenario s { step main = load real for 1m }\n",
    )
    .unwrap();
    file
}

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("res-orch-learn-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The model versions in the audit log (the evidence of each `learn` decision).
fn versions(db: &Path) -> Vec<Value> {
    decisions(db)
        .into_iter()
        .filter(|d| d["action"] == "learn")
        .map(|d| {
            let mut v: Value = serde_json::from_str(d["evidence"].as_str().unwrap()).unwrap();
            v["reason"] = d["reason"].clone();
            v["at_decision"] = d["at"].clone();
            v
        })
        .collect()
}

/// Waits until the versions after the first `seen` add up to `lines` lines; returns them.
fn wait_lines(db: &Path, child: &mut Child, seen: usize, lines: u64) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = versions(db);
        let added: u64 = v[seen.min(v.len())..]
            .iter()
            .map(|x| x["lines_added"].as_u64().unwrap())
            .sum();
        if added >= lines {
            return v[seen..].to_vec();
        }
        assert!(child.try_wait().unwrap().is_none(), "the loop ended early");
        assert!(
            Instant::now() < deadline,
            "{lines} lines not learned in 60 s: {v:#?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// Puts a new file in place at once (written aside, then renamed).
fn put(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn orchestrate(file: &Path, db: &Path, clock: &str, out: &Path) -> Command {
    let mut c = Command::new(res_bin());
    c.arg("orchestrate")
        .arg(file)
        .args(["--clock", clock, "--interval", "5m", "--speed", "1000"])
        .arg("--profile-db")
        .arg(db)
        .env("NO_COLOR", "1")
        .env("RES_STATE_DIR", state_dir())
        .stdout(std::fs::File::create(out).unwrap())
        .stderr(Stdio::null());
    c
}

#[test]
fn a_growing_and_rotated_log_is_learned_incrementally_each_line_once() {
    let all = lines();
    let cut = |a: usize, b: usize| all[a..b].concat();
    let d = dir("grow");
    let file = res_file(&d);
    let db = d.join("profile.redb");
    let log = d.join("access.log");
    let (n1, n2, n3, n4, n5, n6, n7) = (1700, 1900, 2050, 2200, 2300, 2400, 2500);
    let (n8, n9) = (2550, 2600);
    assert!(all.len() > n9, "{}", all.len());
    std::fs::write(&log, cut(0, n1)).unwrap();
    let mut child = orchestrate(
        &file,
        &db,
        "2026-12-08T00:00Z..2026-12-15T00:00Z",
        &d.join("out.log"),
    )
    .spawn()
    .unwrap();

    // Version 1: the whole log.
    let v = wait_lines(&db, &mut child, 0, n1 as u64);
    assert_eq!(v[0]["how"], "whole", "{v:#?}");
    assert_eq!(v[0]["lines_added"], n1 as u64);

    // Appended lines, the last one still being written: only whole lines are learned.
    let partial = &all[n2];
    let (head, tail) = partial.split_at(40);
    append(&log, &format!("{}{head}", cut(n1, n2)));
    let v = wait_lines(&db, &mut child, 1, (n2 - n1) as u64);
    assert!(v.iter().all(|x| x["how"] == "appended"), "{v:#?}");
    let offset = std::fs::metadata(&log).unwrap().len() - head.len() as u64;
    assert_eq!(v.last().unwrap()["offset"], offset, "{v:#?}");
    let reason = v[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("appended {} lines (learned from byte ", n2 - n1)) || v.len() > 1,
        "{reason}"
    );
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(
        versions(&db).len(),
        1 + v.len(),
        "a half line is no version"
    );
    // The line is finished, more follow.
    let seen = 1 + v.len();
    append(&log, &format!("{tail}{}", cut(n2 + 1, n3)));
    let v = wait_lines(&db, &mut child, seen, (n3 - n2) as u64);
    assert!(v.iter().all(|x| x["how"] == "appended"), "{v:#?}");
    let mut seen = seen + v.len();

    // Rotation to access.log.1: the writer finishes lines into the renamed file, then a new
    // access.log starts.
    std::fs::rename(&log, d.join("access.log.1")).unwrap();
    append(&d.join("access.log.1"), &cut(n3, n4));
    put(&log, &cut(n4, n5));
    let v = wait_lines(&db, &mut child, seen, (n5 - n3) as u64);
    assert_eq!(v.len(), 1, "{v:#?}");
    assert_eq!(v[0]["how"], "rotated", "{v:#?}");
    assert_eq!(v[0]["lines_added"], (n5 - n3) as u64);
    let reason = v[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("{} lines of the rotated", n4 - n3))
            && reason.contains("access.log.1 from byte"),
        "{reason}"
    );
    seen += 1;

    // Rotation to access.log.1.gz (the older .1 shifted to .2).
    std::fs::rename(d.join("access.log.1"), d.join("access.log.2")).unwrap();
    let aside = d.join("rotating");
    std::fs::rename(&log, &aside).unwrap();
    append(&aside, &cut(n5, n6));
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(d.join("access.log.1.gz")).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(&std::fs::read(&aside).unwrap()).unwrap();
    gz.finish().unwrap();
    std::fs::remove_file(&aside).unwrap();
    put(&log, &cut(n6, n7));
    let v = wait_lines(&db, &mut child, seen, (n7 - n5) as u64);
    assert_eq!(v.len(), 1, "{v:#?}");
    assert_eq!(v[0]["how"], "rotated", "{v:#?}");
    assert!(
        v[0]["reason"].as_str().unwrap().contains("access.log.1.gz"),
        "{v:#?}"
    );
    assert_eq!(v[0]["requests"], n7 as u64, "every line counted once");
    let rotated = v[0].clone();
    seen += 1;

    // copytruncate: lines not read yet, the file copied to access.log.1 and truncated, new
    // lines in it. The copy is found by its first bytes and read on from the old offset.
    append(&log, &cut(n7, n8));
    std::fs::copy(&log, d.join("access.log.1")).unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&log).unwrap();
    f.set_len(0).unwrap();
    drop(f);
    append(&log, &cut(n8, n9));
    let v = wait_lines(&db, &mut child, seen, (n9 - n7) as u64);
    assert_eq!(v[0]["how"], "rotated", "{v:#?}");
    assert!(
        v[0]["reason"]
            .as_str()
            .unwrap()
            .contains("access.log.1 from byte"),
        "{v:#?}"
    );
    assert_eq!(
        v.last().unwrap()["requests"],
        n9 as u64,
        "every line counted once"
    );
    seen += v.len();
    std::fs::remove_file(d.join("access.log.1")).unwrap();

    // Rewritten in place, with no rotated copy: learned again from scratch, saying why.
    let rest = cut(n9, all.len());
    let mut f = std::fs::OpenOptions::new().write(true).open(&log).unwrap();
    f.write_all(rest.as_bytes()).unwrap();
    f.set_len(rest.len() as u64).unwrap();
    drop(f);
    let v = wait_lines(&db, &mut child, seen, (all.len() - n9) as u64);
    let last = v.last().unwrap();
    assert!(
        v.iter().any(|x| x["how"] == "whole"
            && x["reason"]
                .as_str()
                .unwrap()
                .contains("learned again from scratch")),
        "{v:#?}"
    );
    assert_eq!(last["requests"], (all.len() - n9) as u64, "{v:#?}");

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));

    // The model after the gzip rotation equals a whole learn of the same lines.
    let whole = dir("grow-whole");
    std::fs::write(whole.join("access.log"), cut(0, n7)).unwrap();
    let o = res(&[
        "learn",
        whole.join("access.log").to_str().unwrap(),
        "--format",
        "combined",
        "-o",
        whole.join("model.json").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let model: Value =
        serde_json::from_slice(&std::fs::read(whole.join("model.json")).unwrap()).unwrap();
    assert_eq!(model["requests"], rotated["requests"]);
    let at = rotated["at"].as_str().unwrap();
    let o = Command::new(res_bin())
        .arg("orchestrate")
        .arg(res_file(&whole))
        .args(["--clock", &format!("{at}..2026-12-15T00:00Z"), "--once"])
        .arg("--profile-db")
        .arg(whole.join("profile.redb"))
        .env("RES_STATE_DIR", state_dir())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let w = versions(&whole.join("profile.redb"));
    assert_eq!(w[0]["how"], "whole");
    assert_eq!(w[0]["requests"], rotated["requests"]);
    assert_eq!(
        w[0]["peak_per_s"], rotated["peak_per_s"],
        "{w:#?} vs {rotated:#}"
    );
    assert_eq!(w[0]["peak_at"], rotated["peak_at"]);
}
