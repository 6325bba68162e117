//! What `res run` can inject from a scenario, decided before anything starts.
//!
//! Some effects exist in the engine but need a setting the runner does not make: `loss` acts
//! inside a network namespace around the service (see `netns.rs`), and `res run` puts
//! neither the embedded demo nor a declared process in one. Such a fault used to pass
//! check, plan and dry run and abort the run seconds in; here it is refused up front, with
//! the reason and what to use instead, so a dry run already tells the truth.

use crate::check::{Effect, Model, ScenarioModel, StepKind};

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
            if let Some(why) = needs_namespace(e) {
                out.push(format!("fault `{}`: {why}", f.name));
            }
        }
    }
    out
}

fn needs_namespace(e: &Effect) -> Option<String> {
    match e {
        Effect::Loss(_) => Some(format!(
            "`{}` drops packets inside a network namespace around the service, and `res run` \
             does not put services in one (neither the embedded demo nor a declared process); \
             for a lossy dependency use `errors`, `reset`, `timeout` or `blackhole` on the fault \
             proxy, or inject loss through the chaos engine around a service you run in a \
             namespace yourself (docs/chaos.md, \"Network faults\")",
            e.kind()
        )),
        _ => None,
    }
}
