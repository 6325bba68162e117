//! The live progress line of `res load` (and of `res run`): an indicatif bar on a terminal,
//! plain periodic lines otherwise, so CI logs show progress without control characters.
//! Both go to stderr, keeping stdout for the summary or the JSON result.

use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::result::Snapshot;

pub struct Progress {
    task: JoinHandle<()>,
    bar: Option<ProgressBar>,
}

/// One line of text for a snapshot: current rate, p99 and errors.
pub fn describe(s: &Snapshot) -> String {
    format!(
        "{:>9.0} req/s  p99 {:>8.2} ms  errors {} ({} total)",
        s.total.rps, s.total.p99_ms, s.total.errors, s.errors
    )
}

impl Progress {
    /// Follows `live` until `finish`. `total` is the planned duration; `terminal` picks the bar.
    pub fn spawn(
        mut live: watch::Receiver<Arc<Snapshot>>,
        total: Duration,
        terminal: bool,
    ) -> Progress {
        let secs = total.as_secs().max(1);
        let bar = terminal.then(|| {
            let bar = ProgressBar::new(secs);
            if let Ok(style) = ProgressStyle::with_template("{pos:>4}/{len}s [{bar:24}] {msg}") {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        // Plain lines every second for short runs, every ten for long ones.
        let every = if secs <= 60 { 1 } else { 10 };
        let task = tokio::spawn({
            let bar = bar.clone();
            async move {
                while live.changed().await.is_ok() {
                    let s = live.borrow_and_update().clone();
                    let elapsed = s.elapsed.as_secs();
                    match &bar {
                        Some(bar) => {
                            bar.set_position(elapsed.min(secs));
                            bar.set_message(describe(&s));
                        }
                        None if elapsed.is_multiple_of(every) && elapsed > 0 => {
                            eprintln!("[{elapsed:>5}s/{secs}s] {}", describe(&s));
                        }
                        None => {}
                    }
                }
            }
        });
        Progress { task, bar }
    }

    /// Stops following and clears the bar.
    pub fn finish(self) {
        self.task.abort();
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
