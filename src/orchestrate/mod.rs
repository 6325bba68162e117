//! `res orchestrate FILE…`: the loop that keeps a system tested. Every `--interval` it learns
//! what is new in the declared logs and refreshes the forecast ([`learn`]), reads the
//! system's current metrics ([`scrape`]), asks the prediction engine (`res predict`) when the
//! forecast changed, and schedules the files' scenarios by their `in WINDOW or before EVENT`
//! clauses ([`rules`]): one run at a time, at most one per window occurrence, none that cannot
//! finish before its window closes, one before each event within the lead time, none while
//! the system is busy. Runs are real `res run` child processes (remedies in advise mode; what
//! a run advised and the predictions it scored are recorded after it, `outcome.rs`); a
//! run still going when its window closes is stopped orderly (SIGTERM: its faults are
//! reverted). Every decision goes to the audit log in the profile database ([`store`]), with
//! the state a restart resumes from.
//!
//! Under `--clock START..END` the loop runs on virtual time, `--speed` times faster than the
//! wall clock: runs are planned and recorded, not sent (unless `--send`).

mod child;
pub mod learn;
mod log;
mod looping;
mod memory;
mod outcome;
pub mod prometheus;
pub mod rules;
pub mod scrape;
pub mod serve;
pub mod status;
pub mod store;
mod tail;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::check::Model;
use crate::exit::Exit;

pub use looping::run;

/// `res orchestrate` options.
#[derive(Debug, Clone)]
pub struct Options {
    pub files: Vec<PathBuf>,
    /// Loop time between iterations, seconds.
    pub interval: i64,
    /// One iteration, then exit.
    pub once: bool,
    /// Virtual time: from..to, seconds since the epoch.
    pub clock: Option<(i64, i64)>,
    /// Virtual seconds per wall second.
    pub speed: f64,
    /// Under virtual time, run the scenarios for real (with `--now` at the virtual time).
    pub send: bool,
    /// How long before an event its preparing run may happen, seconds.
    pub lead: i64,
    pub profile_db: Option<PathBuf>,
    /// A Prometheus text endpoint of the system (`http://127.0.0.1:PORT/metrics`).
    pub metrics: Option<String>,
    /// Skip runs while the system serves more than this many requests per second.
    pub busy_above: Option<f64>,
    /// Skip runs while more than this share of the system's answers are 5xx.
    pub errors_above: Option<f64>,
    pub overrides: Vec<(String, String)>,
    /// Ask `res predict` after each new forecast (on by default in real time).
    pub predict: bool,
    /// Serve the loop's own `/metrics` and `/healthz` here (127.0.0.1:PORT).
    pub listen: Option<String>,
    /// `--log-format json`: one JSON object per log line.
    pub json_log: bool,
}

/// One scenario the loop schedules.
pub struct Scenario {
    pub file: PathBuf,
    /// The file as stored in the audit log: its canonical path.
    pub file_key: String,
    pub name: String,
    pub model: Arc<Model>,
    pub index: usize,
    /// How long a run lasts (the plan's total), whole seconds.
    pub total: i64,
}

impl Scenario {
    pub fn key(&self) -> String {
        format!("{}#{}", self.file_key, self.name)
    }

    pub fn model(&self) -> &crate::check::ScenarioModel {
        &self.model.scenarios[self.index]
    }
}

/// Checks and plans every file; its scenarios, and the learning traffics of each file.
pub fn load(
    files: &[PathBuf],
    overrides: &[(String, String)],
    render: crate::diagnostic::RenderOptions,
) -> Result<(Vec<Scenario>, Vec<learn::Traffic>), Exit> {
    let mut scenarios = Vec::new();
    let mut traffics = Vec::new();
    for file in files {
        let checked = crate::check::check_path_with(
            file,
            &crate::check::Options {
                overrides: overrides.to_vec(),
            },
        );
        if !checked.diagnostics.is_empty() {
            eprint!(
                "{}",
                crate::diagnostic::render_all(&checked.diagnostics, &checked.sources, render)
            );
        }
        let Some(model) = checked.model.clone() else {
            return Err(Exit::Invalid);
        };
        let file_key = std::fs::canonicalize(file)
            .unwrap_or_else(|_| file.clone())
            .display()
            .to_string();
        let model = Arc::new(model);
        let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
        traffics.extend(learn::traffics(&model, &file_key, &base));
        let plans = crate::plan::plan_all_checked(&checked).map_err(|d| {
            eprint!(
                "{}",
                crate::diagnostic::render_all(&d, &checked.sources, render)
            );
            Exit::Invalid
        })?;
        for plan in plans {
            let Some(index) = model.scenarios.iter().position(|s| s.name == plan.scenario) else {
                continue;
            };
            scenarios.push(Scenario {
                file: file.clone(),
                file_key: file_key.clone(),
                name: plan.scenario.clone(),
                model: model.clone(),
                index,
                total: plan.total.secs().ceil().max(1.0) as i64,
            });
        }
    }
    Ok((scenarios, traffics))
}

/// The profile database the orchestrator uses (as `res run` finds it).
pub fn db_path(flag: Option<&Path>) -> Result<PathBuf, String> {
    let state = crate::state::State::discover().map_err(|e| e.to_string())?;
    state.profile_db(flag).map_err(|e| e.to_string())
}
