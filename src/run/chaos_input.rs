//! The scenario side of the chaos engine: a fault of the checked Model becomes a
//! [`FaultRequest`] in the engine's own words (its effects as [`chaos::Effect`]s, its `match`
//! clauses as [`HttpMatcher`]s, a `via toxiproxy` clause as the target's Toxiproxy), a service
//! becomes [`ServiceFacts`] (its label, routes and `process`), and every environment value on
//! the way is read here. The engine (`crate::chaos`) never reads the Model.
//!
//! What `res run` refuses to inject is decided before anything starts, by
//! [`unsupported_in_run`], from the language's own rule [`check::Effect::run_refusal`]: the
//! checker refuses the inject step with the same function, so `res check`, a dry run and a
//! run refuse the same faults for the same reason. The rule stays on the language's effect
//! because it is about what a scenario may ask of `res run` (which puts no service in a
//! network namespace), not about the engine, which can inject `loss` in a namespace it made.

use std::time::SystemTime;

use crate::chaos::proxy::{HttpMatcher, RoutePattern};
use crate::chaos::request::{FaultRequest, ResolvedTarget};
use crate::chaos::topology::ServiceFacts;
use crate::chaos::{self, ChaosError, ProcessSpec};
use crate::check::{self, Model, ProcessModel, ScenarioModel, StepKind, StrValue};

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

/// A service of the Model in the chaos engine's words.
pub fn service_facts(model: &Model, system: usize, service: usize) -> Result<ServiceFacts, String> {
    let sys = model
        .systems
        .get(system)
        .ok_or_else(|| format!("no system number {system}"))?;
    let svc = sys
        .services
        .get(service)
        .ok_or_else(|| format!("no service number {service} in {}", sys.name))?;
    Ok(ServiceFacts {
        label: format!("{}.{}", sys.name, svc.name),
        routes: svc
            .routes
            .iter()
            .map(|r| RoutePattern::new(Some(r.method.as_str()), &r.path))
            .collect(),
        process: svc.process.as_ref().map(process_of).transpose()?,
    })
}

fn resolve(value: &StrValue, what: &str) -> Result<String, String> {
    value
        .resolve()
        .map_err(|var| format!("{what} reads environment variable `{var}`, which is not set"))
}

/// As [`resolve`], worded as the engine words an invalid fault (`invalid fault: …`).
fn resolve_for_fault(value: &StrValue, what: &str) -> Result<String, String> {
    resolve(value, what).map_err(|e| ChaosError::Invalid(e).to_string())
}

/// A service's `process` declaration, with environment values read.
fn process_of(process: &ProcessModel) -> Result<ProcessSpec, String> {
    Ok(match process {
        ProcessModel::Pidfile(p) => ProcessSpec::Pidfile(resolve(p, "the pid file")?.into()),
        ProcessModel::Name(n) => ProcessSpec::Name(resolve(n, "the process name")?),
        ProcessModel::Command(c) => ProcessSpec::Command(resolve(c, "the process command")?),
    })
}

/// An effect of the language as the engine takes it, environment values read. The variants
/// correspond one to one and keep their [`chaos::Effect::kind`] names.
pub fn effect_of(effect: &check::Effect) -> Result<chaos::Effect, String> {
    use chaos::Effect as C;
    use check::Effect as E;
    Ok(match effect {
        E::Latency {
            latency,
            jitter,
            per_chunk,
        } => C::Latency {
            latency: *latency,
            jitter: *jitter,
            per_chunk: *per_chunk,
        },
        E::Errors { status, rate } => C::Errors {
            status: *status,
            rate: *rate,
        },
        E::Reset { rate } => C::Reset { rate: *rate },
        E::Blackhole { rate } => C::Blackhole { rate: *rate },
        E::Timeout(d) => C::Timeout(*d),
        E::Bandwidth(b) => C::Bandwidth(*b),
        E::SlowClose(d) => C::SlowClose(*d),
        E::Slice { size, delay } => C::Slice {
            size: *size,
            delay: *delay,
        },
        E::Kill { signal } => C::Kill {
            signal: match signal {
                check::Signal::Kill => chaos::Signal::Kill,
                check::Signal::Term => chaos::Signal::Term,
                check::Signal::Int => chaos::Signal::Int,
                check::Signal::Hup => chaos::Signal::Hup,
            },
        },
        E::Pause { duration } => C::Pause {
            duration: *duration,
        },
        E::Restart { command } => C::Restart {
            command: command
                .as_ref()
                .map(|c| resolve_for_fault(c, "the restart command"))
                .transpose()?,
        },
        E::Cpu { cores, load } => C::Cpu {
            cores: *cores,
            load: *load,
        },
        E::Memory(b) => C::Memory(*b),
        E::Disk { size, path } => C::Disk {
            size: *size,
            path: path
                .as_ref()
                .map(|p| resolve_for_fault(p, "the disk fill folder").map(Into::into))
                .transpose()?,
        },
        E::Fds(n) => C::Fds(*n),
        E::Loss(f) => C::Loss(*f),
    })
}

/// `match …` clauses as HTTP matchers, reading environment values.
pub fn matchers_of(matchers: &[check::Matcher]) -> Result<Vec<HttpMatcher>, String> {
    matchers
        .iter()
        .map(|m| {
            Ok(match m {
                check::Matcher::Method(method) => HttpMatcher::Method(method.clone()),
                check::Matcher::Path(path) => HttpMatcher::path(path),
                check::Matcher::Header { name, value } => HttpMatcher::Header {
                    name: name.to_ascii_lowercase(),
                    value: value
                        .as_ref()
                        .map(|v| resolve_for_fault(v, &format!("the value of header `{name}`")))
                        .transpose()?,
                },
            })
        })
        .collect()
}

/// The request for fault `fault` of `model`, aimed at `target` (resolved by the
/// interpreter, `on stressed(...)` included). A `via toxiproxy` clause replaces the target's
/// proxy by the Toxiproxy one; its proxy name defaults to the service's name.
pub fn fault_request(
    model: &Model,
    fault: usize,
    mut target: ResolvedTarget,
    deadline: SystemTime,
) -> Result<FaultRequest, String> {
    let f = model
        .faults
        .get(fault)
        .ok_or_else(|| format!("no fault number {fault} in the model"))?;
    if let Some((api, proxy)) = &f.toxiproxy {
        let api = resolve(api, "the Toxiproxy address")?;
        let proxy = match proxy {
            Some(p) => resolve(p, "the Toxiproxy proxy name")?,
            None => target
                .label
                .rsplit('.')
                .next()
                .unwrap_or(&target.label)
                .to_string(),
        };
        target = target.with_toxiproxy(api, proxy);
    }
    let effects = f
        .effects
        .iter()
        .map(effect_of)
        .collect::<Result<Vec<_>, _>>()?;
    // Matchers only select what a proxy does: the engine reads them (and so their
    // environment values) only for a fault with proxy effects.
    let matchers = if effects
        .iter()
        .any(|e| crate::chaos::effect::toxic_of(e).is_some())
    {
        matchers_of(&f.matchers)?
    } else {
        Vec::new()
    };
    Ok(FaultRequest {
        name: f.name.clone(),
        target,
        effects,
        toxicity: f.toxicity,
        matchers,
        deadline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{Bandwidth, Bytes, Duration, StatusPattern};

    /// A variable no test environment sets.
    const UNSET: &str = "RES_TEST_UNSET_7F3A";

    const SCENARIO: &str = r#"
system s {
  base "http://127.0.0.1:1"
  service api {
    route GET "/x"
    process name "api"
  }
}

traffic t {
  against s
  rate 1/s
  hold 1m at 1/s
}

fault crash {
  on s.api
  restart with env("RES_TEST_UNSET_7F3A")
  match header "X-Canary" = env("RES_TEST_UNSET_7F3A")
}

fault slow {
  on s.api
  latency 10ms
  match method GET and header "X-Canary" = env("RES_TEST_UNSET_7F3A", "yes")
}

scenario sc {
  step work = load t
  step crash = inject crash at +10s for 10s
  step slow = inject slow at +30s for 10s
}
"#;

    fn model() -> Model {
        let checked = crate::check::check_source("t.res", SCENARIO, &Default::default());
        assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
        checked.model.expect("a model")
    }

    fn fault(model: &Model, name: &str) -> usize {
        model.faults.iter().position(|f| f.name == name).unwrap()
    }

    #[test]
    fn every_effect_keeps_its_kind() {
        let lit = |v: &str| StrValue::Literal { value: v.into() };
        let d = Duration::from_secs(1.0);
        let all = [
            check::Effect::Latency {
                latency: d,
                jitter: d,
                per_chunk: true,
            },
            check::Effect::Errors {
                status: StatusPattern::Class(5),
                rate: 0.5,
            },
            check::Effect::Reset { rate: 1.0 },
            check::Effect::Blackhole { rate: 1.0 },
            check::Effect::Timeout(d),
            check::Effect::Bandwidth(Bandwidth(1024.0)),
            check::Effect::SlowClose(d),
            check::Effect::Slice {
                size: Bytes(64.0),
                delay: d,
            },
            check::Effect::Kill {
                signal: check::Signal::Hup,
            },
            check::Effect::Pause { duration: Some(d) },
            check::Effect::Restart {
                command: Some(lit("systemctl restart x")),
            },
            check::Effect::Cpu {
                cores: 1.0,
                load: 0.5,
            },
            check::Effect::Memory(Bytes(1.0)),
            check::Effect::Disk {
                size: Bytes(1.0),
                path: Some(lit("/tmp")),
            },
            check::Effect::Fds(3),
            check::Effect::Loss(0.1),
        ];
        for e in &all {
            let c = effect_of(e).unwrap();
            assert_eq!(c.kind(), e.kind());
        }
        assert_eq!(
            effect_of(&all[8]).unwrap(),
            chaos::Effect::Kill {
                signal: chaos::Signal::Hup
            }
        );
        assert_eq!(
            effect_of(&all[10]).unwrap(),
            chaos::Effect::Restart {
                command: Some("systemctl restart x".into())
            }
        );
        assert_eq!(
            effect_of(&all[13]).unwrap(),
            chaos::Effect::Disk {
                size: Bytes(1.0),
                path: Some("/tmp".into())
            }
        );
    }

    #[test]
    fn environment_values_are_read_when_the_request_is_made() {
        assert!(std::env::var(UNSET).is_err(), "{UNSET} must not be set");
        let model = model();
        let target = ResolvedTarget::new("s.api");
        let deadline = SystemTime::now();
        // An unset variable in the restart command: refused, worded as the engine words an
        // invalid fault.
        let err =
            fault_request(&model, fault(&model, "crash"), target.clone(), deadline).unwrap_err();
        assert_eq!(
            err,
            format!(
                "invalid fault: the restart command reads environment variable `{UNSET}`, which is not set"
            )
        );
        // A default stands in for an unset variable; header names are matched in lower case.
        let req = fault_request(&model, fault(&model, "slow"), target, deadline).unwrap();
        assert_eq!(req.name, "slow");
        assert_eq!(req.effects.len(), 1);
        assert_eq!(req.effects[0].kind(), "latency");
        assert_eq!(req.matchers.len(), 2);
        assert!(matches!(&req.matchers[0], HttpMatcher::Method(m) if m == "GET"));
        assert!(matches!(
            &req.matchers[1],
            HttpMatcher::Header { name, value: Some(v) } if name == "x-canary" && v == "yes"
        ));
        let f = fault(&model, "crash");
        let err = matchers_of(&model.faults[f].matchers).unwrap_err();
        assert!(err.contains("the value of header `X-Canary`"), "{err}");
    }

    #[test]
    fn the_run_refuses_what_the_checker_refuses() {
        let mut model = model();
        let scenario = model.scenarios[0].clone();
        assert!(unsupported_in_run(&model, &scenario).is_empty());
        // `loss` is refused by the language's one rule, which the checker applies to the step.
        let f = fault(&model, "slow");
        model.faults[f].effects.push(check::Effect::Loss(0.2));
        let why = check::Effect::Loss(0.2).run_refusal().unwrap();
        assert_eq!(
            unsupported_in_run(&model, &scenario),
            [format!("fault `slow`: {why}")]
        );
    }

    #[test]
    fn a_service_in_the_engines_words() {
        let model = model();
        let facts = service_facts(&model, 0, 0).unwrap();
        assert_eq!(facts.label, "s.api");
        assert_eq!(facts.routes.len(), 1);
        assert!(matches!(facts.process, Some(ProcessSpec::Name(ref n)) if n == "api"));
        assert!(service_facts(&model, 0, 9).is_err());
    }
}
