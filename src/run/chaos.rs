//! The interpreter's side of the chaos engine: sets up the fault proxies a scenario needs,
//! checks before the run that every fault can be injected where it is aimed, resolves
//! `on stressed(...)` from live metrics, and keeps track of what is active so the shutdown
//! can revert it. What a fault and a service become in the engine's words is
//! `chaos_input.rs`.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::chaos_input::{fault_request, service_facts};
use super::metrics::Metrics;
use crate::chaos::engine::ChaosEngine;
use crate::chaos::proxy::{ProxyMode, ProxyStats};
use crate::chaos::request::{ActiveFaultId, ChaosLimits, ResolvedTarget, RevertOutcome};
use crate::chaos::topology::{resolve_addr, Topology};
use crate::check::{Effect, FaultTarget, Model, ScenarioModel, StepKind, SystemTarget};
use crate::units::Duration;

/// How many seconds of load `on stressed(...)` looks back over.
pub const STRESS_WINDOW_S: usize = 10;

pub struct ChaosDriver {
    engine: ChaosEngine,
    pub topology: Topology,
    /// Active injections per fault index: (engine id, target label).
    active: BTreeMap<usize, Vec<(ActiveFaultId, String)>>,
    names: Vec<String>,
    /// The upstream proxies' counters, sampled once a second: what `on stressed(...)` knows
    /// of services the load does not reach directly (the demo's payments).
    proxy_seen: ProxySeen,
}

/// Per upstream proxy (system, service): the last seconds of cumulative counters, and the
/// best one-second mean latency seen (milliseconds).
#[derive(Default)]
struct ProxySeen {
    samples: BTreeMap<(usize, usize), VecDeque<ProxyStats>>,
    best_ms: BTreeMap<(usize, usize), f64>,
}

/// Requests a second must have for its mean latency to count as a service's best.
const PROXY_BEST_MIN_REQUESTS: u64 = 5;

impl ProxySeen {
    fn sample(&mut self, topology: &Topology, services: &[(usize, usize)]) {
        for &key in services {
            let Some(p) = topology.upstream(key.0, key.1) else {
                continue;
            };
            let now = p.stats();
            let q = self.samples.entry(key).or_default();
            if let Some(prev) = q.back() {
                let n = now.answered.saturating_sub(prev.answered);
                if n >= PROXY_BEST_MIN_REQUESTS {
                    let ms = now.latency_us_sum.saturating_sub(prev.latency_us_sum) as f64
                        / n as f64
                        / 1000.0;
                    let best = self.best_ms.entry(key).or_insert(ms);
                    *best = best.min(ms);
                }
            }
            q.push_back(now);
            while q.len() > STRESS_WINDOW_S + 1 {
                q.pop_front();
            }
        }
    }

    /// The stress of a service seen only by its upstream proxy, over the sampled window:
    /// mean latency against its best second, and the share of 5xx or dropped answers.
    fn stress(
        &self,
        key: (usize, usize),
        name: &str,
        by: crate::check::StressMetric,
    ) -> Option<super::metrics::Stress> {
        use crate::check::StressMetric;
        let q = self.samples.get(&key)?;
        let (first, last) = (q.front()?, q.back()?);
        let n = last.answered.saturating_sub(first.answered);
        if n == 0 {
            return None;
        }
        let mean_ms =
            last.latency_us_sum.saturating_sub(first.latency_us_sum) as f64 / n as f64 / 1000.0;
        let best = self.best_ms.get(&key).copied().unwrap_or(mean_ms).max(1e-3);
        let growth = mean_ms / best;
        let errors = last.failed_answers.saturating_sub(first.failed_answers) as f64 / n as f64;
        // The same scales as the load's own ranking (`Metrics::stressed`); the proxy knows no
        // saturation.
        let score = match by {
            StressMetric::Latency => growth,
            StressMetric::Errors => errors,
            StressMetric::Saturation => return None,
            StressMetric::Any => ((growth - 1.0) / 9.0).max(errors),
        };
        Some(super::metrics::Stress {
            service: key.1,
            score,
            reason: format!(
                "{name} (at its fault proxy): mean {mean_ms:.1}ms ({growth:.1}× its best), errors {:.2}%, {n} requests",
                errors * 100.0
            ),
        })
    }
}

impl ChaosDriver {
    /// What a fault on `model.systems[system].services[service]` may touch.
    fn target(
        &self,
        model: &Model,
        system: usize,
        service: usize,
    ) -> Result<ResolvedTarget, String> {
        Ok(self
            .topology
            .target(system, service, service_facts(model, system, service)?))
    }
}

/// Where the run keeps its fault journal: `faults.journal` in the project's state folder
/// ([`crate::state`]), where `res recover` looks for it.
pub fn journal_path(state_dir: &Path) -> PathBuf {
    state_dir.join(crate::state::JOURNAL)
}

/// The faults a scenario injects.
fn injected(scenario: &ScenarioModel) -> Vec<usize> {
    let mut out = Vec::new();
    for s in &scenario.steps {
        if let StepKind::Inject { fault } = s.kind {
            if !out.contains(&fault) {
                out.push(fault);
            }
        }
    }
    out
}

fn needs_proxy(e: &Effect) -> bool {
    matches!(
        e,
        Effect::Latency { .. }
            | Effect::Errors { .. }
            | Effect::Reset { .. }
            | Effect::Blackhole { .. }
            | Effect::Timeout(_)
            | Effect::Bandwidth(_)
            | Effect::SlowClose(_)
            | Effect::Slice { .. }
    )
}

fn needs_process(e: &Effect) -> bool {
    matches!(
        e,
        Effect::Kill { .. } | Effect::Pause { .. } | Effect::Restart { .. }
    )
}

impl ChaosDriver {
    /// Recovers what a crashed earlier run left behind, opens the journal, and starts the
    /// proxies the scenario's faults need. `targets` holds each system's base URL and is
    /// rewritten to go through the system's front proxy.
    pub async fn start(
        model: &Model,
        scenario: &ScenarioModel,
        state_dir: &Path,
        targets: &mut BTreeMap<usize, String>,
        demos: &[(usize, &crate::demo::DemoShop)],
        notes: &mut Vec<String>,
    ) -> Result<Option<ChaosDriver>, String> {
        // The dead man's switch: whatever an earlier run left active past its deadline or
        // with its owner gone is reverted before this run does anything.
        let journal = journal_path(state_dir);
        if journal.exists() {
            let recovered = crate::chaos::recover::recover(&journal);
            if recovered.active > 0 || recovered.error.is_some() {
                let note = format!(
                    "recovered faults left by an earlier run: {}",
                    recovered.summary().trim()
                );
                // Said on the terminal too: reverting someone's leftovers is news.
                eprintln!("note: {note}");
                notes.push(note);
            }
        }
        let faults = injected(scenario);
        if faults.is_empty() {
            return Ok(None);
        }
        if let Some(dir) = journal.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let engine = ChaosEngine::new(&journal, ChaosLimits::default())
            .map_err(|e| format!("cannot start the chaos engine: {e}"))?;
        let mut topology = Topology::new();
        // Which systems and services the faults touch.
        let mut systems: Vec<usize> = Vec::new();
        let mut services: Vec<(usize, usize)> = Vec::new();
        for &f in &faults {
            match model.faults[f].target {
                FaultTarget::Service { system, service } => {
                    systems.push(system);
                    services.push((system, service));
                }
                FaultTarget::Stressed { system, .. } => {
                    systems.push(system);
                    services.extend((0..model.systems[system].services.len()).map(|v| (system, v)));
                }
                FaultTarget::Placeholder => {}
            }
        }
        systems.sort_unstable();
        systems.dedup();
        services.sort_unstable();
        services.dedup();
        for &sys in &systems {
            if let Some(base) = targets.get(&sys).cloned() {
                if model.faults.iter().all(|f| f.toxiproxy.is_some()) {
                    continue;
                }
                let proxied = topology
                    .add_front(sys, &base)
                    .await
                    .map_err(|e| format!("system {}: {e}", model.systems[sys].name))?;
                notes.push(format!(
                    "system {}: load goes through the fault proxy {proxied} → {base}",
                    model.systems[sys].name
                ));
                targets.insert(sys, proxied);
            }
        }
        for (sys, svc) in services {
            let s = &model.systems[sys];
            let v = &s.services[svc];
            let Some(up) = &v.upstream else { continue };
            let demo = demos.iter().find(|(d, _)| *d == sys).map(|(_, shop)| *shop);
            let real: SocketAddr = match (&s.target, demo) {
                // The embedded shop's payments listener is the real upstream; checkout is
                // re-pointed at the proxy.
                (SystemTarget::Builtin(_), Some(shop)) if v.name == "payments" => {
                    shop.payments_addr()
                }
                _ => {
                    let text = super::build::resolve(
                        up,
                        &format!("service {}.{}'s upstream", s.name, v.name),
                    )
                    .map_err(|e| e.0)?;
                    resolve_addr(&text).map_err(|e| e.to_string())?
                }
            };
            let proxy = topology
                .add_upstream(sys, svc, real, ProxyMode::Http)
                .await
                .map_err(|e| format!("{}.{}: {e}", s.name, v.name))?;
            match demo {
                Some(shop) if v.name == "payments" => {
                    shop.set_payments_upstream(proxy.addr());
                    notes.push(format!("{}.{}: checkout now calls payments through the fault proxy {} → {real}", s.name, v.name, proxy.addr()));
                }
                _ => notes.push(format!(
                    "{}.{}: fault proxy listening on {} → {real}; point the system's calls to this dependency at it",
                    s.name,
                    v.name,
                    proxy.addr()
                )),
            }
        }
        let driver = ChaosDriver {
            engine,
            topology,
            active: BTreeMap::new(),
            names: model.faults.iter().map(|f| f.name.clone()).collect(),
            proxy_seen: ProxySeen::default(),
        };
        driver.preflight(model, &faults)?;
        Ok(Some(driver))
    }

    /// Samples the upstream proxies' counters (once a second, from the interpreter's tick).
    pub fn sample(&mut self) {
        let keys: Vec<(usize, usize)> = self.topology.upstream_keys();
        self.proxy_seen.sample(&self.topology, &keys);
    }

    /// Refuses, before anything is sent, faults whose effects their target cannot take.
    fn preflight(&self, model: &Model, faults: &[usize]) -> Result<(), String> {
        for &f in faults {
            let fm = &model.faults[f];
            let FaultTarget::Service { system, service } = fm.target else {
                continue;
            };
            let target = self.target(model, system, service)?;
            for e in &fm.effects {
                if needs_proxy(e) && target.proxy.is_none() && fm.toxiproxy.is_none() {
                    return Err(format!(
                        "fault `{}`: `{}` needs the service's traffic to pass through a proxy, but {} has no route and no upstream",
                        fm.name,
                        e.kind(),
                        target.label
                    ));
                }
                if needs_process(e) && target.process.is_none() {
                    return Err(format!(
                        "fault `{}`: `{}` needs a process, but {} declares none (add `process name \"...\"`, `process pidfile \"...\"` or `process command \"...\"`)",
                        fm.name,
                        e.kind(),
                        target.label
                    ));
                }
            }
        }
        Ok(())
    }

    /// Injects fault `fault`. `lasts` is how long it is planned to stay; the journal's
    /// deadline adds a grace to it.
    pub fn inject(
        &mut self,
        model: &Model,
        fault: usize,
        metrics: &Metrics,
        lasts: Duration,
    ) -> Result<(String, String), String> {
        let fm = &model.faults[fault];
        let deadline = SystemTime::now() + lasts.to_std() + std::time::Duration::from_secs(30);
        let mut chosen: Vec<(usize, usize)> = Vec::new();
        let mut why = String::new();
        match fm.target {
            FaultTarget::Service { system, service } => chosen.push((system, service)),
            FaultTarget::Stressed { system, top, by } => {
                let mut ranked = metrics.stressed(system, STRESS_WINDOW_S, by);
                // Services the load does not reach directly are seen by their proxy.
                for s in ranked.iter_mut().filter(|s| s.score < 0.0) {
                    let name = format!(
                        "{}.{}",
                        model.systems[system].name, model.systems[system].services[s.service].name
                    );
                    if let Some(seen) = self.proxy_seen.stress((system, s.service), &name, by) {
                        *s = seen;
                    }
                }
                ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.service.cmp(&b.service)));
                let usable: Vec<_> = ranked
                    .iter()
                    .filter(|s| s.score >= 0.0)
                    .filter(|s| {
                        self.target(model, system, s.service)
                            .map(|t| t.proxy.is_some() || t.process.is_some())
                            .unwrap_or(false)
                    })
                    .take(top as usize)
                    .collect();
                if usable.is_empty() {
                    return Err(format!(
                        "stressed({}, top {top}) found no service with load to aim at",
                        model.systems[system].name
                    ));
                }
                chosen.extend(usable.iter().map(|s| (system, s.service)));
                let reasons: Vec<&str> = ranked.iter().map(|s| s.reason.as_str()).collect();
                why = format!(
                    "; chosen by stress over the last {STRESS_WINDOW_S}s: {}",
                    reasons.join(" | ")
                );
            }
            FaultTarget::Placeholder => return Err("the fault has no target".into()),
        }
        let mut labels = Vec::new();
        for (system, service) in chosen {
            let target: ResolvedTarget = self.target(model, system, service)?;
            let label = target.label.clone();
            let req = fault_request(model, fault, target, deadline)?;
            let id = self.engine.inject(&req).map_err(|e| e.to_string())?;
            self.active
                .entry(fault)
                .or_default()
                .push((id, label.clone()));
            labels.push(label);
        }
        let effects: Vec<&str> = fm.effects.iter().map(Effect::kind).collect();
        Ok((labels.join(", "), format!("{}{why}", effects.join(" "))))
    }

    /// Reverts every active injection of `fault`: (target, detail, reverted).
    pub fn revert(&mut self, fault: usize) -> Vec<(String, String, bool)> {
        let Some(list) = self.active.remove(&fault) else {
            return Vec::new();
        };
        list.into_iter()
            .map(|(id, label)| match self.engine.revert(id) {
                Ok(RevertOutcome::Reverted(detail)) => (label, detail, true),
                Ok(RevertOutcome::AlreadyReverted) => (label, "already reverted".into(), true),
                Err(e) => (label, e.to_string(), false),
            })
            .collect()
    }

    /// Reverts everything still active: (fault, target, detail, reverted).
    pub fn revert_all(&mut self) -> Vec<(String, String, String, bool)> {
        let faults: Vec<usize> = self.active.keys().copied().collect();
        let mut out = Vec::new();
        for f in faults {
            let name = self.names.get(f).cloned().unwrap_or_default();
            for (target, detail, ok) in self.revert(f) {
                out.push((name.clone(), target, detail, ok));
            }
        }
        // Anything the engine still holds (it should hold nothing now).
        for (_, r) in self.engine.revert_all() {
            if let Err(e) = r {
                out.push((String::new(), String::new(), e.to_string(), false));
            }
        }
        out
    }

    /// Stops the proxies and any commands the run started.
    pub async fn shutdown(&mut self) {
        self.engine.stop_processes();
        self.topology.shutdown().await;
    }
}
