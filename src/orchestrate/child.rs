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

/// Asks `res predict FILE --scenario S`; its exit and the first lines it printed.
pub async fn predict(db: &Path, s: &Scenario) -> (String, String) {
    let Ok(exe) = std::env::current_exe() else {
        return ("tool-error".into(), "cannot find the res executable".into());
    };
    let out = tokio::process::Command::new(exe)
        .arg("predict")
        .arg(&s.file)
        .args(["--scenario", &s.name])
        .arg("--profile-db")
        .arg(db)
        .output();
    match tokio::time::timeout(Duration::from_secs(120), out).await {
        Ok(Ok(o)) => (
            o.status
                .code()
                .map_or("killed".to_string(), |c| format!("exit {c}")),
            String::from_utf8_lossy(if o.stdout.is_empty() {
                &o.stderr
            } else {
                &o.stdout
            })
            .lines()
            .take(6)
            .collect::<Vec<_>>()
            .join(" | "),
        ),
        Ok(Err(e)) => ("tool-error".into(), e.to_string()),
        Err(_) => ("timeout".into(), "no answer within 120 s".into()),
    }
}

fn terminate(child: &tokio::process::Child) {
    if let Some(pid) = child.id() {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
}
