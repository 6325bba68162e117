//! Helpers of tests/it/report.rs: driving headless Chromium and xmllint (bounded in time),
//! reading the DOM's SVG by its `data-` attributes, a small PNG reader to tell a blank
//! screenshot from a page, and hand-made reports (hostile names, an hour of 20 services).

#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod fixtures;
mod png;

pub use fixtures::{hostile_plan, hostile_report, synthetic_report};
pub use png::Png;

pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("res-report-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `cmd` for at most `limit`; its stdout, or a panic saying it hung or failed.
fn bounded(mut cmd: Command, limit: Duration) -> String {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawns");
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let text = reader.join().unwrap();
            assert!(status.success(), "{cmd:?} failed: {status}");
            return text;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish in {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|n| {
            std::env::var_os("PATH").and_then(|p| {
                std::env::split_paths(&p)
                    .map(|d| d.join(n))
                    .find(|f| f.is_file())
            })
        })
}

fn headless(chromium: &Path, work: &Path) -> Command {
    let mut c = Command::new(chromium);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-extensions",
    ])
    .arg(format!(
        "--user-data-dir={}",
        work.join("chromium-profile").display()
    ));
    c
}

fn url(p: &Path) -> String {
    format!("file://{}", p.canonicalize().unwrap().display())
}

/// The DOM after Chromium parsed the page.
pub fn chromium_dom(chromium: &Path, html: &Path, work: &Path) -> String {
    let mut c = headless(chromium, work);
    c.arg("--dump-dom").arg(url(html));
    let dom = bounded(c, Duration::from_secs(120));
    assert!(dom.contains("<svg"), "Chromium gave no DOM with SVG");
    dom
}

pub fn screenshot(chromium: &Path, html: &Path, png: &Path, size: &str, dark: bool, work: &Path) {
    let mut c = headless(chromium, work);
    if dark {
        c.arg("--force-dark-mode");
    }
    c.arg(format!("--window-size={size}"))
        .arg(format!("--screenshot={}", png.display()))
        .arg(url(html));
    bounded(c, Duration::from_secs(120));
    assert!(png.is_file(), "no screenshot written");
}

/// The first element `tag` whose opening tag holds `needle`, whole.
pub fn element(dom: &str, needle: &str, tag: &str) -> Option<String> {
    let at = dom.find(needle)?;
    let start = dom[..at].rfind(&format!("<{tag}"))?;
    let close = format!("</{tag}>");
    let end = dom[start..].find(&close)? + start + close.len();
    Some(dom[start..end].to_string())
}

/// Every `<g …needle…>…</g>` (groups written by the report hold no nested groups).
pub fn groups(svg: &str, needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = svg[from..].find(needle) {
        let at = from + i;
        let start = svg[..at].rfind("<g").unwrap();
        let end = svg[at..].find("</g>").map_or(svg.len(), |e| at + e + 4);
        out.push(svg[start..end].to_string());
        from = end;
    }
    out
}

/// A numeric attribute of the first tag that has it.
pub fn attr(text: &str, name: &str) -> Option<f64> {
    let i = text.find(&format!("{name}=\""))? + name.len() + 2;
    text[i..].split('"').next()?.parse().ok()
}

/// The x extent of the first `<rect>` in `g`.
pub fn rect_x(g: &str) -> Option<(f64, f64)> {
    let r = element(g, "<rect", "rect").or_else(|| {
        let i = g.find("<rect")?;
        Some(g[i..].split('>').next()?.to_string())
    })?;
    let x = attr(&r, "x")?;
    Some((x, x + attr(&r, "width")?))
}

/// Where a chart's plot area is, to turn pixels back into seconds.
pub struct Geometry {
    x0: f64,
    x1: f64,
    left: f64,
    right: f64,
}

impl Geometry {
    pub fn of(svg: &str) -> Geometry {
        Geometry {
            x0: attr(svg, "data-x0").unwrap(),
            x1: attr(svg, "data-x1").unwrap(),
            left: attr(svg, "data-left").unwrap(),
            right: attr(svg, "data-right").unwrap(),
        }
    }

    pub fn time(&self, px: f64) -> f64 {
        self.x0 + (px - self.left) / (self.right - self.left) * (self.x1 - self.x0)
    }
}

/// (fault, injected at, reverted at) from a JSON report's fault events.
pub fn fault_windows(report: &Value) -> Vec<(String, f64, f64)> {
    let events = report["faults"].as_array().unwrap();
    let mut out = Vec::new();
    for e in events.iter().filter(|e| e["action"] == "inject") {
        let revert = events.iter().find(|r| {
            r["action"] == "revert" && r["fault"] == e["fault"] && r["target"] == e["target"]
        });
        out.push((
            e["fault"].as_str().unwrap().to_string(),
            e["at_s"].as_f64().unwrap(),
            revert.map_or(report["duration_s"].as_f64().unwrap(), |r| {
                r["at_s"].as_f64().unwrap()
            }),
        ));
    }
    out
}

pub fn assert_self_contained(page: &str) {
    for banned in [
        "<script",
        "<link",
        "src=\"http",
        "href=\"http",
        "url(http",
        "@import",
    ] {
        assert!(
            !page.contains(banned),
            "the page loads something: `{banned}`"
        );
    }
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("prefers-color-scheme:dark"), "a dark scheme");
    assert!(page.contains("name=\"viewport\""), "phone layout");
}

pub fn xmllint_schema(xml: &Path) {
    let xsd = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/support/junit-10.xsd");
    let out = match Command::new("xmllint")
        .args(["--noout", "--schema", xsd])
        .arg(xml)
        .output()
    {
        Ok(o) => o,
        Err(_) => {
            return super::common::skip("xmllint is not installed (apt-get install libxml2-utils)")
        }
    };
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(xml).unwrap()
    );
}

/// Valid against the schema; one testcase per expectation and per fault window.
pub fn validate_junit(junit: &Path, report: &Value) {
    xmllint_schema(junit);
    let xml = std::fs::read_to_string(junit).unwrap();
    let expectations = report["expectations"].as_array().unwrap().len();
    let faults = fault_windows(report).len();
    assert_eq!(
        xml.matches("<testcase").count(),
        expectations + faults,
        "{xml}"
    );
    assert_eq!(
        xml.matches(".faults\" name=\"fault ").count(),
        faults,
        "{xml}"
    );
}

/// The fenced ```yaml blocks of a Markdown text.
pub fn yaml_blocks(doc: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in doc.lines() {
        match (&mut cur, line.trim_start()) {
            (None, l) if l.starts_with("```yaml") || l.starts_with("```yml") => {
                cur = Some(String::new())
            }
            (Some(_), l) if l.starts_with("```") => out.push(cur.take().unwrap()),
            (Some(b), _) => {
                b.push_str(line);
                b.push('\n');
            }
            _ => {}
        }
    }
    out
}
