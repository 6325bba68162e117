//! Before the first request: start the embedded targets, resolve base URLs and secrets, load
//! feeders, learn and forecast what `peak(traffic)` needs. Whatever fails here fails before
//! anything was sent or changed.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::build;
use super::metrics::Metrics;
use crate::check::{Model, ScenarioModel, StepKind, SystemTarget};
use crate::load::Feeder;
use crate::units::Duration;

/// What the interpreter asks of the chaos engine. Reverting is idempotent.
pub trait FaultDriver: Send {
    /// Injects fault `fault` of the model; returns (target, detail) for the report.
    fn inject(
        &mut self,
        model: &Model,
        fault: usize,
        metrics: &Metrics,
        deadline: Duration,
    ) -> Result<(String, String), String>;
    /// Reverts every active injection of fault `fault`: (target, detail, reverted).
    fn revert(&mut self, fault: usize) -> Vec<(String, String, bool)>;
    /// Reverts everything still active: (fault, target, detail, reverted).
    fn revert_all(&mut self) -> Vec<(String, String, String, bool)>;
}

/// Everything a run needs that is only known at run time.
#[derive(Default)]
pub struct Setup {
    /// Base URL per system index.
    pub targets: BTreeMap<usize, String>,
    /// Forecast peak rate (per second) per traffic index.
    pub peaks: BTreeMap<usize, f64>,
    pub feeders: HashMap<String, Feeder>,
    /// A request mix learned from logs, per traffic: (system, service, share).
    pub learned_mix: BTreeMap<usize, Vec<(usize, usize, f64)>>,
    pub chaos: Option<Box<dyn FaultDriver>>,
    /// What setup did, for the report's events.
    pub notes: Vec<String>,
    pub record_note: String,
    /// Embedded demo shops to shut down at the end.
    pub demos: Vec<crate::demo::DemoShop>,
}

/// The systems a scenario's load steps send to.
pub fn systems_used(model: &Model, scenario: &ScenarioModel) -> Vec<usize> {
    let mut out = Vec::new();
    for s in &scenario.steps {
        let sys = match &s.kind {
            StepKind::Load { traffic, .. } => build::traffic_system(model, *traffic),
            StepKind::Inject { fault } => match &model.faults[*fault].target {
                crate::check::FaultTarget::Service { system, .. }
                | crate::check::FaultTarget::Stressed { system, .. } => Some(*system),
                crate::check::FaultTarget::Placeholder => None,
            },
            StepKind::Wait(_) => None,
        };
        if let Some(sys) = sys {
            if !out.contains(&sys) {
                out.push(sys);
            }
        }
    }
    out
}

/// Resolves targets and data without touching anything (for `--dry-run` and before a run).
pub fn resolve_static(
    model: &Model,
    scenario: &ScenarioModel,
    base_dir: &Path,
) -> Result<Setup, String> {
    let mut setup = Setup::default();
    for sys in systems_used(model, scenario) {
        let s = &model.systems[sys];
        match &s.target {
            SystemTarget::Builtin(name) => {
                setup.targets.insert(
                    sys,
                    format!("(the embedded {name}, started on a free 127.0.0.1 port)"),
                );
            }
            SystemTarget::Base(url) => {
                let url =
                    build::resolve(url, &format!("system `{}`'s base", s.name)).map_err(|e| e.0)?;
                setup
                    .targets
                    .insert(sys, url.trim_end_matches('/').to_string());
            }
        }
    }
    setup.feeders = build::feeders(model, base_dir).map_err(|e| e.0)?;
    Ok(setup)
}

/// Starts what the run needs: the embedded demo shop for `builtin demo_shop` systems.
pub async fn start_targets(model: &Model, setup: &mut Setup, seed: u64) -> Result<(), String> {
    let builtin: Vec<usize> = setup
        .targets
        .keys()
        .copied()
        .filter(|s| matches!(model.systems[*s].target, SystemTarget::Builtin(_)))
        .collect();
    for sys in builtin {
        let config = crate::demo::DemoConfig {
            seed,
            ..Default::default()
        };
        let shop = crate::demo::start(config)
            .await
            .map_err(|e| format!("cannot start the embedded demo shop: {e}"))?;
        let url = format!("http://{}", shop.addr());
        setup.notes.push(format!(
            "system {}: embedded demo shop at {url}, payments at {}",
            model.systems[sys].name,
            shop.payments_addr()
        ));
        setup.targets.insert(sys, url);
        setup.demos.push(shop);
    }
    Ok(())
}
