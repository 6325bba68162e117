//! What `res run` can inject from a scenario, decided before anything starts.
//!
//! Some effects exist in the engine but need a setting the runner does not make: `loss` acts
//! inside a network namespace around the service (see `netns.rs`), and `res run` puts
//! neither the embedded demo nor a declared process in one. Such a fault used to pass
//! check, plan and dry run and abort the run seconds in; here it is refused up front, with
//! the reason and what to use instead, so a dry run already tells the truth (and `res check`
//! refuses the inject step, from the same [`crate::check::Effect::run_refusal`]).

use crate::check::{Model, ScenarioModel, StepKind};

/// Why the scenario's faults cannot all be injected by `res run`, one line per fault and
/// effect; empty when they can.
pub fn unsupported_in_run(model: &Model, scenario: &ScenarioModel) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for step in &scenario.steps {
        let StepKind::Inject { fault } = step.kind else {
            continue;
        };
        if seen.contains(&fault) {
            continue;
        }
        seen.push(fault);
        let Some(f) = model.faults.get(fault) else {
            continue;
        };
        for e in &f.effects {
            if let Some(why) = e.run_refusal() {
                out.push(format!("fault `{}`: {why}", f.name));
            }
        }
    }
    out
}
