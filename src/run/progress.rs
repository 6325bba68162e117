//! The live progress line: an indicatif bar on a terminal (elapsed/total, current rate, p99,
//! errors, active faults), plain periodic lines when output goes to a CI log.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use super::metrics::Metrics;
use crate::units::Duration;

pub enum Progress {
    Bar(ProgressBar),
    /// Prints a line every `every` seconds.
    Plain {
        every: f64,
        last: f64,
    },
    Quiet,
}

impl Progress {
    /// A bar when stderr is a terminal, plain lines otherwise.
    pub fn auto(total: Duration, quiet: bool) -> Progress {
        if quiet {
            return Progress::Quiet;
        }
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total.secs().ceil() as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len}s {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            Progress::Bar(bar)
        } else {
            Progress::Plain {
                every: 5.0,
                last: -5.0,
            }
        }
    }

    fn line(metrics: &Metrics, active_loads: usize, active_faults: usize) -> String {
        let last = metrics.last(1);
        let (mut rps, mut errors, mut p99) = (0u64, 0u64, 0f64);
        for w in last.values() {
            rps += w.requests;
            errors += w.errors;
            if !w.latency.is_empty() {
                p99 = p99.max(w.latency.value_at_quantile(0.99) as f64 / 1000.0);
            }
        }
        format!("{rps} req/s  p99 {p99:.1} ms  errors {errors}/s  loads {active_loads}  faults {active_faults}")
    }

    pub fn tick(
        &mut self,
        metrics: &Metrics,
        now: Duration,
        total: Duration,
        active_loads: usize,
        active_faults: usize,
    ) {
        match self {
            Progress::Bar(bar) => {
                bar.set_position(now.secs() as u64);
                bar.set_message(Self::line(metrics, active_loads, active_faults));
            }
            Progress::Plain { every, last } => {
                if now.secs() - *last >= *every {
                    *last = now.secs();
                    eprintln!(
                        "[{:>6.1}s / {:.0}s] {}",
                        now.secs(),
                        total.secs(),
                        Self::line(metrics, active_loads, active_faults)
                    );
                }
            }
            Progress::Quiet => {}
        }
    }

    pub fn finish(&mut self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}
