//! Helpers of tests/report.rs: driving headless Chromium and xmllint (bounded in time),
//! reading the DOM's SVG by its `data-` attributes, a small PNG reader to tell a blank
//! screenshot from a page, and hand-made reports (hostile names, an hour of 20 services).

#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use res::report::*;
use serde_json::Value;

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
    .arg(format!("--user-data-dir={}", work.join("chromium-profile").display()));
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
    for banned in ["<script", "<link", "src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!page.contains(banned), "the page loads something: `{banned}`");
    }
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("prefers-color-scheme:dark"), "a dark scheme");
    assert!(page.contains("name=\"viewport\""), "phone layout");
}

pub fn xmllint_schema(xml: &Path) {
    let xsd = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/junit-10.xsd");
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
    assert_eq!(xml.matches("<testcase").count(), expectations + faults, "{xml}");
    assert_eq!(xml.matches(".faults\" name=\"fault ").count(), faults, "{xml}");
}

/// A decoded 8-bit RGB(A) PNG (what Chromium writes).
pub struct Png {
    pub width: usize,
    pub height: usize,
    channels: usize,
    pixels: Vec<u8>,
}

#[derive(Debug)]
pub struct Look {
    /// Share of pixels unlike the top-left (background) one.
    pub differing: f64,
    /// Share of pixels with a clear hue (chart series, badges).
    pub coloured: f64,
    pub background_luma: f64,
}

impl Png {
    pub fn read(path: &Path) -> Png {
        let data = std::fs::read(path).unwrap();
        assert_eq!(&data[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
        let (mut i, mut idat) = (8, Vec::new());
        let (mut width, mut height, mut channels) = (0, 0, 0);
        while i + 8 <= data.len() {
            let len = u32::from_be_bytes(data[i..i + 4].try_into().unwrap()) as usize;
            let kind = &data[i + 4..i + 8];
            let body = &data[i + 8..i + 8 + len];
            match kind {
                b"IHDR" => {
                    width = u32::from_be_bytes(body[0..4].try_into().unwrap()) as usize;
                    height = u32::from_be_bytes(body[4..8].try_into().unwrap()) as usize;
                    assert_eq!(body[8], 8, "8-bit");
                    channels = match body[9] {
                        2 => 3,
                        6 => 4,
                        c => panic!("colour type {c}"),
                    };
                    assert_eq!(body[12], 0, "not interlaced");
                }
                b"IDAT" => idat.extend_from_slice(body),
                _ => {}
            }
            i += 12 + len;
        }
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(&idat[..])
            .read_to_end(&mut raw)
            .unwrap();
        let stride = width * channels;
        let mut pixels = vec![0u8; stride * height];
        for y in 0..height {
            let filter = raw[y * (stride + 1)];
            let line = &raw[y * (stride + 1) + 1..(y + 1) * (stride + 1)];
            for x in 0..stride {
                let a = if x >= channels { pixels[y * stride + x - channels] } else { 0 };
                let b = if y > 0 { pixels[(y - 1) * stride + x] } else { 0 };
                let c = if x >= channels && y > 0 {
                    pixels[(y - 1) * stride + x - channels]
                } else {
                    0
                };
                let p = match filter {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                    4 => {
                        let (ia, ib, ic) = (i16::from(a), i16::from(b), i16::from(c));
                        let p = ia + ib - ic;
                        let (pa, pb, pc) = ((p - ia).abs(), (p - ib).abs(), (p - ic).abs());
                        if pa <= pb && pa <= pc {
                            a
                        } else if pb <= pc {
                            b
                        } else {
                            c
                        }
                    }
                    f => panic!("filter {f}"),
                };
                pixels[y * stride + x] = line[x].wrapping_add(p);
            }
        }
        Png { width, height, channels, pixels }
    }

    pub fn look(&self) -> Look {
        let px = |i: usize| &self.pixels[i * self.channels..i * self.channels + 3];
        let bg = px(0).to_vec();
        let n = self.width * self.height;
        let (mut differing, mut coloured) = (0usize, 0usize);
        for i in 0..n {
            let p = px(i);
            if p.iter().zip(&bg).any(|(a, b)| a.abs_diff(*b) > 24) {
                differing += 1;
            }
            let (mx, mn) = (*p.iter().max().unwrap(), *p.iter().min().unwrap());
            if mx - mn > 60 {
                coloured += 1;
            }
        }
        Look {
            differing: differing as f64 / n as f64,
            coloured: coloured as f64 / n as f64,
            background_luma: 0.2126 * f64::from(bg[0])
                + 0.7152 * f64::from(bg[1])
                + 0.0722 * f64::from(bg[2]),
        }
    }
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

fn point(t: u64, service: &str, rps: f64, p99: f64, errors: u64) -> SeriesPoint {
    SeriesPoint {
        t,
        service: service.into(),
        rps,
        offered_rps: rps,
        concurrency: 3,
        p50_ms: p99 / 3.0,
        p90_ms: p99 / 1.5,
        p99_ms: p99,
        p999_ms: p99 * 1.2,
        max_ms: p99 * 1.5,
        errors,
        errors_by_kind: Default::default(),
    }
}

fn base(scenario: &str, duration: f64) -> RunReport {
    RunReport {
        res_version: "0.1.0".into(),
        file: "scenarios/x.res".into(),
        scenario: scenario.into(),
        seed: 1,
        outcome: Outcome::Pass,
        reason: None,
        started_at: "2026-12-07T10:00:00Z".into(),
        duration_s: duration,
        services: Default::default(),
        series: Vec::new(),
        faults: Vec::new(),
        expectations: Vec::new(),
        events: Vec::new(),
        send_lag_ms: None,
        steps: Vec::new(),
        learned: Vec::new(),
        skipped: Vec::new(),
        recorded: None,
        remediations: Vec::new(),
        predictions: Vec::new(),
    }
}

/// An hour of 20 services at 100/s with a fault every ten minutes.
pub fn synthetic_report(seconds: u64, services: usize) -> RunReport {
    let mut r = base("soak", seconds as f64);
    for s in 0..services {
        let name = format!("shop.s{s}");
        for t in 0..seconds {
            let wave = ((t as f64) / 60.0).sin().abs();
            r.series.push(point(t, &name, 100.0, 20.0 + 80.0 * wave, t % 7));
        }
        r.services.insert(
            name,
            ServiceSummary {
                requests: 100 * seconds,
                rps: 100.0,
                ..Default::default()
            },
        );
    }
    for k in 0..seconds / 600 {
        let at = (k * 600 + 120) as f64;
        r.faults.push(FaultEvent::new(at, format!("f{k}"), "inject", "shop.s1", "latency 100ms"));
        r.faults.push(FaultEvent::new(at + 60.0, format!("f{k}"), "revert", "shop.s1", ""));
    }
    r
}

const HOSTILE: &str = "<b>&\"x\" onload='";

pub fn hostile_report() -> RunReport {
    let mut r = base("<script>alert(1)</script> 🔥 & | co", 10.0);
    r.file = "scenarios/a&b <c> \"d\" 🔥.res".into();
    r.outcome = Outcome::Fail;
    r.reason = Some("p99 > 1s & <i>bad</i>".into());
    let svc = format!("shop.{HOSTILE}");
    for t in 0..10 {
        r.series.push(point(t, &svc, 10.0, 50.0, 1));
    }
    r.services.insert(svc.clone(), ServiceSummary::default());
    r.faults.push(FaultEvent::new(2.0, "slow <&> 🔥", "inject", &svc, "latency"));
    r.faults.push(FaultEvent::new(5.0, "slow <&> 🔥", "revert", &svc, ""));
    r.expectations.push(ExpectationResult {
        text: "p99(shop.<b>) < 1s | \"quoted\" & more".into(),
        scope: "during <main>".into(),
        passed: false,
        observed: "p99 = 2s <script>".into(),
    });
    r.events.push(RunEvent {
        at_s: 1.0,
        kind: "<kind>".into(),
        detail: "& <i>".into(),
    });
    r
}

pub fn hostile_plan() -> Vec<PlanRow> {
    vec![PlanRow {
        step: "step <one> & \"two\" 🔥".into(),
        kind: "load",
        label: "start load <x>".into(),
        start_s: 0.0,
        end_s: 10.0,
    }]
}
