//! Helpers shared by the integration tests: running the `res` binary, and checking JSON
//! output against the committed JSON Schemas in docs/.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub mod prometheus;

pub fn res_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_res"))
}

/// Runs `res` with arguments from the package root, with a state folder of its own (see
/// [`state_dir`]).
pub fn res(args: &[&str]) -> Output {
    Command::new(res_bin())
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env("RES_STATE_DIR", state_dir())
        .output()
        .expect("res runs")
}

/// A new, empty state folder (`RES_STATE_DIR`): without one, every run started from the
/// package root would record into the repository's `.res/`, and tests running at once would
/// wait for each other's database.
pub fn state_dir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("res-state-{}-{n}", std::process::id()))
}

/// Whether a missing dependency must fail the test instead of skipping it (`CI=true`: CI
/// installs everything the tests need, so a skip there would be a green lie).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Says why a test cannot run here: a skip locally, a failure under `CI=true`.
pub fn skip(reason: &str) {
    assert!(!in_ci(), "CI=true, and this test cannot run: {reason}");
    eprintln!("skipped: {reason}");
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn load_schema(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).expect("schema exists"))
        .expect("schema is JSON")
}

/// Validates `v` against `schema` with the `jsonschema` crate (the draft the schema names,
/// formats asserted). Returns every violation with its JSON path.
pub fn validate(schema: &Value, v: &Value) -> Vec<String> {
    let validator = match jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
    {
        Ok(v) => v,
        Err(e) => return vec![format!("the schema itself is invalid: {e}")],
    };
    validator
        .iter_errors(v)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// `res demo serve` on free ports; killed when dropped.
pub struct Demo {
    child: std::process::Child,
    pub addr: String,
}

impl Demo {
    pub fn start() -> Demo {
        Demo::start_with(&[])
    }

    /// With more arguments to `res demo serve`, such as `--capacity checkout=1`.
    pub fn start_with(args: &[&str]) -> Demo {
        use std::io::BufRead;
        let mut child = Command::new(res_bin())
            .args(["demo", "serve", "--port", "0", "--payments-port", "0"])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let addr = first
            .split_whitespace()
            .find_map(|w| w.strip_prefix("http://"))
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .to_string();
        // Keep reading so the demo never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Demo { child, addr }
    }

    /// One HTTP/1.0 request; the status and the body.
    pub fn request(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&self.addr).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.0\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
        let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
        (status, body.to_string())
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
