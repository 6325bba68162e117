//! The processes the loop starts: a scenario run (`res run FILE --scenario S`, remedies in
//! advise mode, recording into the loop's database), stopped orderly with SIGTERM at its
//! window's close or on a stop signal; and `res predict` after a new forecast.

use std::path::Path;
use std::time::Duration;

use tokio::sync::watch;

use super::{Options, Scenario};
use crate::units::Timestamp;

/// Runs a scenario as a child `res run`; its outcome in words (pass, fail, invalid, aborted,
/// tool-error, killed; with why it was stopped, when it was).
pub async fn run(
    opts: &Options,
    db: &Path,
    s: &Scenario,
    t: i64,
    closes: Option<i64>,
    untested: Option<&Untested>,
    stop: &mut watch::Receiver<bool>,
) -> String {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return format!("tool-error: {e}"),
    };
    let mut cmd = tokio::process::Command::new(exe);
    cmd.arg("run")
        .arg(&s.file)
        .args(["--scenario", &s.name, "--quiet", "--remediate", "advise"])
        .arg("--profile-db")
        .arg(db);
    if opts.clock.is_some() {
        cmd.args(["--now", &Timestamp(t).to_rfc3339()]);
    }
    for (k, v) in &opts.overrides {
        cmd.arg("--set").arg(format!("{k}={v}"));
    }
    if let Some(u) = untested {
        cmd.arg("--load-scale")
            .arg(format!("{}={}/s", u.service, u.rate));
    }
    cmd.stdout(std::process::Stdio::null());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return format!("tool-error: cannot start `res run`: {e}"),
    };
    // Only a real-time run is stopped at the window's close.
    let close_in = match (closes, opts.clock) {
        (Some(c), None) => {
            Duration::from_secs((c - crate::run::clock::system_now().0).max(0) as u64)
        }
        _ => Duration::from_secs(u64::MAX / 4),
    };
    let mut stopped = None;
    let status = loop {
        tokio::select! {
            st = child.wait() => break st,
            _ = tokio::time::sleep(close_in), if stopped.is_none() => {
                stopped = Some("stopped at the window's close");
                terminate(&child);
            }
            _ = stop.changed(), if stopped.is_none() => {
                stopped = Some("stopped by a stop signal");
                terminate(&child);
            }
        }
    };
    let code = status.ok().and_then(|s| s.code());
    let what = match code {
        Some(0) => "pass",
        Some(1) => "fail",
        Some(2) => "invalid",
        Some(3) => "aborted",
        Some(_) => "tool-error",
        None => "killed",
    };
    match stopped {
        Some(why) => format!("{what} ({why}; faults reverted by the run)"),
        None => what.to_string(),
    }
}

/// A rate the prediction called `untested`: beyond anything measured of `service`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Untested {
    pub service: String,
    /// The rate a test should run at (`untested.test_rate`).
    pub rate: f64,
    /// The most the profile measured of the service.
    pub measured: f64,
}

/// Asks `res predict FILE --scenario S --format json`: its exit, a line of evidence per
/// service (or the first lines it printed when it printed no JSON), and the service furthest
/// beyond what was measured, if the prediction called any `untested`.
pub async fn predict(db: &Path, s: &Scenario) -> (String, String, Option<Untested>) {
    let Ok(exe) = std::env::current_exe() else {
        return (
            "tool-error".into(),
            "cannot find the res executable".into(),
            None,
        );
    };
    let out = tokio::process::Command::new(exe)
        .arg("predict")
        .arg(&s.file)
        .args(["--scenario", &s.name, "--format", "json"])
        .arg("--profile-db")
        .arg(db)
        .output();
    match tokio::time::timeout(Duration::from_secs(120), out).await {
        Ok(Ok(o)) => {
            let code = o
                .status
                .code()
                .map_or("killed".to_string(), |c| format!("exit {c}"));
            match serde_json::from_slice::<serde_json::Value>(&o.stdout) {
                Ok(v) => {
                    let (text, untested) = read_prediction(&v);
                    (code, text, untested)
                }
                Err(_) => {
                    let shown = if o.stdout.is_empty() {
                        &o.stderr
                    } else {
                        &o.stdout
                    };
                    let text = String::from_utf8_lossy(shown)
                        .lines()
                        .take(6)
                        .collect::<Vec<_>>()
                        .join(" | ");
                    (code, text, None)
                }
            }
        }
        Ok(Err(e)) => ("tool-error".into(), e.to_string(), None),
        Err(_) => ("timeout".into(), "no answer within 120 s".into(), None),
    }
}

/// One line per service of `res predict --format json` (headroom, first breach, untested),
/// and the untested service whose test rate lies furthest beyond its measurements.
pub fn read_prediction(v: &serde_json::Value) -> (String, Option<Untested>) {
    let mut lines = Vec::new();
    let mut furthest: Option<(f64, Untested)> = None;
    for s in v["services"].as_array().into_iter().flatten() {
        let name = s["service"].as_str().unwrap_or("?");
        let mut line = name.to_string();
        if let Some(h) = s["headroom"].as_f64() {
            line.push_str(&format!(": headroom {h:.2}×"));
        }
        if let Some(b) = s["first_breach"]["sentence"].as_str() {
            line.push_str(&format!("; {b}"));
        }
        let u = &s["untested"];
        if let (Some(rate), Some(measured)) =
            (u["test_rate"].as_f64(), u["measured_max_rate"].as_f64())
        {
            line.push_str(&format!(
                "; untested: a test at {rate}/s (measured up to {measured}/s)"
            ));
            let beyond = rate / measured.max(1e-9);
            if furthest.as_ref().is_none_or(|(b, _)| beyond > *b) {
                furthest = Some((
                    beyond,
                    Untested {
                        service: name.to_string(),
                        rate,
                        measured,
                    },
                ));
            }
        }
        lines.push(line);
    }
    (lines.join(" | "), furthest.map(|(_, u)| u))
}

fn terminate(child: &tokio::process::Child) {
    if let Some(pid) = child.id() {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
}
