//! The interpreter loop: walks the plan's nodes in time order on a [`Clock`], starts and
//! stops loads, opens and closes the windows expectations read, checks `abort` conditions
//! every second, and funnels every way a run can end — finished, aborted, interrupted, a step
//! that panicked — into one orderly shutdown.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, watch};

use super::build::{self, Target};
use super::clock::Clock;
use super::metrics::{Metrics, ServiceSecond, Window, WindowEnv};
use super::progress::Progress;
use super::setup::Setup;
use crate::check::eval::{eval, metrics_in};
use crate::check::{Condition, ExpectKind, ExpectScopeModel, Model, ScenarioModel, Value};
use crate::load::{LoadHandle, LoadResult, Snapshot};
use crate::plan::{NodeKind, Plan};
use crate::report::{ExpectationResult, FaultEvent, Outcome, RunEvent, RunReport, SendLag};
use crate::units::Duration;

/// Why a run stopped early.
#[derive(Debug, Clone, PartialEq)]
pub enum StopReason {
    Signal(String),
    Abort(String),
    Failed(String),
}

/// What a run needs besides the plan.
pub struct RunContext<'a> {
    pub model: &'a Model,
    pub scenario: &'a ScenarioModel,
    pub plan: &'a Plan,
    pub file: String,
    pub seed: u64,
    pub setup: Setup,
    pub clock: Arc<dyn Clock>,
    /// Set to stop the run (signals); the value says why.
    pub stop: watch::Receiver<Option<StopReason>>,
    pub progress: Progress,
    /// Records the run into the profile database as it goes (None with `--no-record`).
    pub recorder: Option<(crate::profile::Recorder, crate::profile::RunId)>,
}

/// Loads that are running, so a shutdown from anywhere can stop them.
#[derive(Default)]
pub struct Running {
    pub loads: BTreeMap<usize, LoadHandle>,
}

struct Abort {
    cond: Condition,
    held_s: f64,
}

/// Runs the plan to its end (or an early stop) and returns the report.
pub async fn execute(mut cx: RunContext<'_>, running: Arc<Mutex<Running>>) -> RunReport {
    let started_at = crate::units::Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
    );
    let model = cx.model;
    let scenario = cx.scenario;
    let plan = cx.plan;
    // Scopes: one per expectation that is not about the whole run.
    let mut scope_of: Vec<Option<usize>> = Vec::new();
    let mut n_scopes = 0;
    for e in &scenario.expects {
        scope_of.push(match e.scope {
            ExpectScopeModel::Whole => None,
            _ => {
                n_scopes += 1;
                Some(n_scopes - 1)
            }
        });
    }
    let mut metrics = Metrics::new(model, n_scopes);
    let mut events: Vec<RunEvent> = Vec::new();
    let mut faults: Vec<FaultEvent> = Vec::new();
    let mut results: Vec<LoadResult> = Vec::new();
    let mut stopping: Vec<tokio::task::JoinHandle<LoadResult>> = Vec::new();
    let (snap_tx, mut snap_rx) = mpsc::unbounded_channel::<Arc<Snapshot>>();
    let mut pending: BTreeMap<u64, Vec<ServiceSecond>> = BTreeMap::new();
    let mut aborts: Vec<Abort> = model
        .aborts
        .iter()
        .chain(&scenario.aborts)
        .map(|c| Abort {
            cond: c.clone(),
            held_s: 0.0,
        })
        .collect();
    let mut stop_reason: Option<StopReason> = None;
    let mut failure: Option<String> = None;
    let timeline = plan.timeline();
    let clock = cx.clock.clone();
    let event = |events: &mut Vec<RunEvent>, kind: &str, detail: String| {
        events.push(RunEvent {
            at_s: clock.now().secs(),
            kind: kind.into(),
            detail,
        });
    };
    event(
        &mut events,
        "start",
        format!("scenario {} (seed {})", scenario.name, cx.seed),
    );
    for note in &cx.setup.notes {
        event(&mut events, "setup", note.clone());
    }
    let mut next_tick = 1u64;
    let mut idx = 0;
    let mut recorded = 0usize;
    'run: while idx < timeline.len() {
        let node = &plan.graph[timeline[idx]];
        // Wait for the node, handling ticks, snapshots and stop requests meanwhile.
        loop {
            let now = clock.now();
            if now.0 >= node.at.0 {
                break;
            }
            let wake = node.at.0.min(next_tick as f64 * 1000.0);
            tokio::select! {
                _ = clock.sleep_until(Duration(wake)) => {}
                Some(s) = snap_rx.recv() => {
                    collect(&mut pending, &s, clock.now());
                    continue;
                }
                changed = cx.stop.changed() => {
                    if changed.is_ok() {
                        if let Some(r) = cx.stop.borrow().clone() {
                            stop_reason = Some(r);
                            break 'run;
                        }
                    }
                }
            }
            if clock.now().0 >= next_tick as f64 * 1000.0 {
                while let Ok(s) = snap_rx.try_recv() {
                    collect(&mut pending, &s, clock.now());
                }
                let t = next_tick;
                next_tick += 1;
                flush(&mut metrics, &mut pending, t);
                if let Some((rec, run)) = &cx.recorder {
                    rec.record_seconds(*run, &metrics.series[recorded..]);
                    recorded = metrics.series.len();
                    if let Err(e) = rec.health() {
                        failure = Some(format!("recording into the profile database failed: {e}"));
                        break 'run;
                    }
                }
                if let Some(reason) = check_aborts(&mut aborts, &metrics, model) {
                    stop_reason = Some(StopReason::Abort(reason));
                    break 'run;
                }
                let active = running.lock().map(|r| r.loads.len()).unwrap_or(0);
                cx.progress.tick(
                    &metrics,
                    clock.now(),
                    plan.total,
                    active,
                    faults.iter().filter(|f| f.action == "inject").count()
                        - faults
                            .iter()
                            .filter(|f| f.action == "revert")
                            .count()
                            .min(faults.iter().filter(|f| f.action == "inject").count()),
                );
            }
        }
        // The node's time has come.
        let step = node.step.map(|i| &scenario.steps[i]);
        let step_name = step.map(|s| s.name.clone()).unwrap_or_default();
        if std::env::var("RES_TEST_PANIC_STEP").ok().as_deref() == Some(step_name.as_str())
            && !step_name.is_empty()
        {
            // A test hook: make this step's action panic, to prove the shutdown path.
            let name = step_name.clone();
            let r =
                tokio::spawn(async move { panic!("test-requested panic in step {name}") }).await;
            if let Err(e) = r {
                failure = Some(format!(
                    "step {} panicked: {}",
                    node.step
                        .map(|i| scenario.steps[i].name.as_str())
                        .unwrap_or("?"),
                    panic_text(e)
                ));
                break 'run;
            }
        }
        match &node.kind {
            NodeKind::StartLoad { traffic, share } => {
                let i = node.step.unwrap_or(0);
                let timing = &plan.steps[i];
                let length = Duration(timing.end.0 - timing.start.0);
                let Some(target) =
                    build::traffic_system(model, *traffic).and_then(|s| cx.setup.targets.get(&s))
                else {
                    failure = Some(format!(
                        "step {}: traffic `{}` has no reachable system",
                        step_name, model.traffics[*traffic].name
                    ));
                    break 'run;
                };
                let spec = build::load_spec(
                    model,
                    *traffic,
                    &Target {
                        base_url: target.clone(),
                    },
                    length,
                    cx.seed.wrapping_add(i as u64),
                    &cx.setup.peaks,
                    &cx.setup.feeders,
                    cx.setup.learned.get(traffic).map(|l| &**l),
                );
                let spec = match spec {
                    Ok(s) => s,
                    Err(e) => {
                        failure = Some(format!("step {step_name}: {e}"));
                        break 'run;
                    }
                };
                match crate::load::start(spec) {
                    Ok(handle) => {
                        handle.set_scale(*share);
                        let mut live = handle.live();
                        let tx = snap_tx.clone();
                        tokio::spawn(async move {
                            while live.changed().await.is_ok() {
                                let s = live.borrow_and_update().clone();
                                if tx.send(s).is_err() {
                                    break;
                                }
                            }
                        });
                        if let Ok(mut r) = running.lock() {
                            r.loads.insert(i, handle);
                        }
                        event(&mut events, "start_load", node.label.clone());
                    }
                    Err(e) => {
                        failure = Some(format!("step {step_name}: cannot start the load: {e}"));
                        break 'run;
                    }
                }
                open_scopes(
                    &mut metrics,
                    scenario,
                    &scope_of,
                    i,
                    clock.now().secs().round() as u64,
                );
            }
            NodeKind::StopLoad { .. } => {
                let i = node.step.unwrap_or(0);
                let handle = running.lock().ok().and_then(|mut r| r.loads.remove(&i));
                if let Some(h) = handle {
                    stopping.push(tokio::spawn(h.stop()));
                }
                event(&mut events, "stop_load", node.label.clone());
                close_scopes(
                    &mut metrics,
                    scenario,
                    &scope_of,
                    i,
                    clock.now().secs().round() as u64,
                );
            }
            NodeKind::Inject { fault } => {
                let i = node.step.unwrap_or(0);
                let f = &model.faults[*fault];
                match cx.setup.chaos.as_mut() {
                    Some(chaos) => match chaos.inject(
                        model,
                        *fault,
                        &metrics,
                        Duration(plan.steps[i].end.0 - plan.steps[i].start.0),
                    ) {
                        Ok((target, detail)) => {
                            metrics.injects.push(clock.now().secs() as u64);
                            faults.push(FaultEvent::new(
                                clock.now().secs(),
                                &f.name,
                                "inject",
                                target,
                                detail,
                            ));
                        }
                        Err(e) => {
                            faults.push(FaultEvent::new(
                                clock.now().secs(),
                                &f.name,
                                "failed",
                                "",
                                e.clone(),
                            ));
                            // Found only now (a stressed target with no load, a process
                            // gone): stop, revert what is in place, report it as aborted.
                            stop_reason = Some(StopReason::Abort(format!(
                                "step {step_name}: cannot inject fault `{}`: {e}",
                                f.name
                            )));
                            break 'run;
                        }
                    },
                    None => {
                        faults.push(FaultEvent::new(
                            clock.now().secs(),
                            &f.name,
                            "skipped",
                            "",
                            "no chaos engine in this build",
                        ));
                    }
                }
                event(&mut events, "inject", node.label.clone());
                open_scopes(
                    &mut metrics,
                    scenario,
                    &scope_of,
                    i,
                    clock.now().secs().round() as u64,
                );
            }
            NodeKind::Revert { fault } => {
                let i = node.step.unwrap_or(0);
                if let Some(chaos) = cx.setup.chaos.as_mut() {
                    for (target, detail, ok) in chaos.revert(*fault) {
                        metrics.reverts.push(clock.now().secs() as u64);
                        let action = if ok { "revert" } else { "revert_failed" };
                        faults.push(FaultEvent::new(
                            clock.now().secs(),
                            &model.faults[*fault].name,
                            action,
                            target,
                            detail,
                        ));
                    }
                }
                event(&mut events, "revert", node.label.clone());
                close_scopes(
                    &mut metrics,
                    scenario,
                    &scope_of,
                    i,
                    clock.now().secs().round() as u64,
                );
            }
            NodeKind::WaitStart => {
                open_scopes(
                    &mut metrics,
                    scenario,
                    &scope_of,
                    node.step.unwrap_or(0),
                    clock.now().secs().round() as u64,
                );
                event(&mut events, "wait", node.label.clone());
            }
            NodeKind::WaitEnd => close_scopes(
                &mut metrics,
                scenario,
                &scope_of,
                node.step.unwrap_or(0),
                clock.now().secs().round() as u64,
            ),
            NodeKind::Begin | NodeKind::Assert { .. } => {}
            NodeKind::Finish => event(&mut events, "finish", "every step ended".into()),
            NodeKind::Record => event(&mut events, "record", cx.setup.record_note.clone()),
            // Predicted once the run is recorded, on the history plus this run (below).
            NodeKind::Predict => event(
                &mut events,
                "predict",
                "prediction runs after the run, on the history plus this run".into(),
            ),
            NodeKind::Remediate { remedy } => event(
                &mut events,
                "remediate",
                format!(
                    "remedy {}: the remediation engine is not part of this build: skipped",
                    model.remedies[*remedy].name
                ),
            ),
        }
        idx += 1;
    }
    // Orderly shutdown, whatever ended the run.
    let loads: Vec<LoadHandle> = running
        .lock()
        .map(|mut r| std::mem::take(&mut r.loads).into_values().collect())
        .unwrap_or_default();
    for h in loads {
        stopping.push(tokio::spawn(h.stop()));
    }
    for s in stopping {
        match s.await {
            Ok(r) => results.push(r),
            Err(e) if failure.is_none() => {
                failure = Some(format!("a load panicked: {}", panic_text(e)))
            }
            Err(_) => {}
        }
    }
    if let Some(chaos) = cx.setup.chaos.as_mut() {
        for (fault, target, detail, ok) in chaos.revert_all() {
            metrics.reverts.push(clock.now().secs() as u64);
            let action = if ok { "revert" } else { "revert_failed" };
            faults.push(FaultEvent::new(
                clock.now().secs(),
                fault,
                action,
                target,
                detail,
            ));
        }
    }
    if let Some(chaos) = cx.setup.chaos.as_mut() {
        chaos.shutdown().await;
    }
    for (_, shop) in std::mem::take(&mut cx.setup.demos) {
        shop.shutdown().await;
    }
    while let Ok(s) = snap_rx.try_recv() {
        collect(&mut pending, &s, clock.now());
    }
    let last = pending.keys().next_back().copied().unwrap_or(0) + 1;
    flush(&mut metrics, &mut pending, last.max(next_tick));
    for s in 0..metrics.scopes.len() {
        if metrics.scopes[s].from.is_none() {
            metrics.scopes[s].from = Some(u64::MAX);
        }
    }
    cx.progress.finish();
    let (outcome, reason) = match (&stop_reason, &failure) {
        (_, Some(f)) => (Outcome::Error, Some(f.clone())),
        (Some(StopReason::Abort(r)), _) => (Outcome::Aborted, Some(r.clone())),
        (Some(StopReason::Signal(r)), _) => (Outcome::Aborted, Some(r.clone())),
        (Some(StopReason::Failed(r)), _) => (Outcome::Error, Some(r.clone())),
        (None, None) => (Outcome::Pass, None),
    };
    if let Some(r) = &reason {
        event(&mut events, "stop", r.clone());
    }
    let expectations = evaluate(model, scenario, &metrics, &scope_of, &cx.setup.peaks);
    let outcome = if outcome == Outcome::Pass && expectations.iter().any(|e| !e.passed) {
        Outcome::Fail
    } else {
        outcome
    };
    let send_lag_ms = lag(&results);
    let mut db_path = None;
    if let Some((rec, run)) = cx.recorder.take() {
        db_path = Some(rec.path().to_path_buf());
        rec.record_seconds(run, &metrics.series[recorded..]);
        for f in &faults {
            rec.record_fault(run, f);
        }
        for e in &events {
            rec.record_event(run, e);
        }
        let ended = crate::units::Timestamp(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
        );
        if let Err(e) = rec.finish(run, outcome, ended.to_rfc3339(), &expectations) {
            events.push(RunEvent {
                at_s: clock.now().secs(),
                kind: "record".into(),
                detail: format!("the profile database could not finish the run: {e}"),
            });
        }
    }
    let predictions = predict_after(&cx, db_path.as_deref(), &mut events, clock.now().secs());
    RunReport {
        res_version: env!("CARGO_PKG_VERSION").to_string(),
        file: cx.file.clone(),
        scenario: scenario.name.clone(),
        seed: cx.seed,
        outcome,
        reason,
        started_at: started_at.to_rfc3339(),
        duration_s: clock.now().secs(),
        services: metrics.summaries(),
        series: std::mem::take(&mut metrics.series),
        faults,
        expectations,
        events,
        send_lag_ms,
        predictions,
    }
}

/// `predict [at …]`: once the run is recorded (the database is free again), predict from the
/// history plus this run; what happened goes to the events.
fn predict_after(
    cx: &RunContext<'_>,
    db: Option<&std::path::Path>,
    events: &mut Vec<RunEvent>,
    at_s: f64,
) -> Vec<crate::predict::engine::Outcome> {
    let Some(at) = &cx.scenario.predict else {
        return Vec::new();
    };
    let mut note = |detail: String| {
        events.push(RunEvent {
            at_s,
            kind: "predict".into(),
            detail,
        })
    };
    let Some(db) = db else {
        note("prediction needs the run recorded in the profile database (not with --no-record): skipped".into());
        return Vec::new();
    };
    let base = std::path::Path::new(&cx.file)
        .parent()
        .unwrap_or(std::path::Path::new("."));
    let now = crate::units::Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
    );
    let facts = super::predict_input::RunFacts {
        peaks: &cx.setup.peaks,
        base_dir: base,
        db,
        seed: cx.seed,
        now,
    };
    match super::predict_input::after_run(cx.model, cx.scenario, at.as_ref(), &facts) {
        Ok(o) => {
            note(format!(
                "predicted from {} run(s); {} predictions stored",
                o.verdict.runs.len(),
                o.stored.len()
            ));
            vec![o]
        }
        Err(e) => {
            note(format!("prediction failed: {e}"));
            Vec::new()
        }
    }
}

fn panic_text(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(p) => p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into()),
        Err(e) => e.to_string(),
    }
}

/// Files a load's snapshot under the run second it ended in.
fn collect(pending: &mut BTreeMap<u64, Vec<ServiceSecond>>, s: &Snapshot, now: Duration) {
    let t = (now.secs().floor() as u64).saturating_sub(1);
    let bucket = pending.entry(t).or_default();
    for i in &s.intervals {
        if i.requests == 0 && i.offered == 0 && i.in_flight == 0 {
            continue;
        }
        let kinds: Vec<(String, u64)> = i
            .errors
            .nonzero()
            .map(|(k, v)| (k.name().to_string(), v))
            .collect();
        let sec = ServiceSecond {
            service: i.service.clone(),
            requests: i.requests,
            offered: i.offered,
            in_flight: i.in_flight,
            errors: i.errors.total(),
            errors_by_kind: kinds,
            latency: i.latency.clone(),
            service_time: i.service_time.clone(),
        };
        match bucket.iter_mut().find(|b| b.service == sec.service) {
            Some(b) => merge_second(b, &sec),
            None => bucket.push(sec),
        }
    }
}

fn merge_second(a: &mut ServiceSecond, b: &ServiceSecond) {
    a.requests += b.requests;
    a.offered += b.offered;
    a.in_flight += b.in_flight;
    a.errors += b.errors;
    for (k, v) in &b.errors_by_kind {
        match a.errors_by_kind.iter_mut().find(|(x, _)| x == k) {
            Some((_, n)) => *n += v,
            None => a.errors_by_kind.push((k.clone(), *v)),
        }
    }
    let _ = a.latency.add(&b.latency);
    let _ = a.service_time.add(&b.service_time);
}

/// Moves every finished second (before `until`) into the metrics.
fn flush(metrics: &mut Metrics, pending: &mut BTreeMap<u64, Vec<ServiceSecond>>, until: u64) {
    let due: Vec<u64> = pending.keys().copied().filter(|t| *t < until).collect();
    for t in due {
        if let Some(secs) = pending.remove(&t) {
            metrics.add_second(t, secs);
        }
    }
}

fn open_scopes(
    metrics: &mut Metrics,
    scenario: &ScenarioModel,
    scope_of: &[Option<usize>],
    step: usize,
    now_s: u64,
) {
    for (k, e) in scenario.expects.iter().enumerate() {
        if let (ExpectScopeModel::During(j), Some(s)) = (e.scope, scope_of[k]) {
            if j == step {
                metrics.scopes[s].from = Some(now_s);
            }
        }
    }
}

fn close_scopes(
    metrics: &mut Metrics,
    scenario: &ScenarioModel,
    scope_of: &[Option<usize>],
    step: usize,
    now_s: u64,
) {
    for (k, e) in scenario.expects.iter().enumerate() {
        match (e.scope, scope_of[k]) {
            (ExpectScopeModel::During(j), Some(s)) if j == step => {
                metrics.scopes[s].until = Some(now_s)
            }
            (ExpectScopeModel::After(j), Some(s)) if j == step => {
                metrics.scopes[s].from = Some(now_s)
            }
            _ => {}
        }
    }
}

/// Checks every abort condition on the last second; returns why the run must stop.
fn check_aborts(aborts: &mut [Abort], metrics: &Metrics, _model: &Model) -> Option<String> {
    let last = metrics.last(1);
    let peaks = BTreeMap::new();
    let env = WindowEnv {
        metrics,
        windows: &last,
        peaks: &peaks,
    };
    for a in aborts.iter_mut() {
        match eval(&a.cond.expr, &env) {
            Ok(Value::Bool(true)) => {
                a.held_s += 1.0;
                if a.held_s * 1000.0 >= a.cond.sustain.0.max(1.0) {
                    return Some(format!(
                        "abort when {} held for {}s ({})",
                        a.cond.text,
                        a.held_s,
                        observed(&a.cond.expr, &env)
                    ));
                }
            }
            _ => a.held_s = 0.0,
        }
    }
    None
}

/// "p99(shop.checkout) = 212ms; error_rate(shop) = 0.3%".
fn observed(e: &crate::check::TExpr, env: &WindowEnv) -> String {
    let mut ms = Vec::new();
    metrics_in(e, &mut ms);
    let parts: Vec<String> = ms
        .iter()
        .map(|(m, sys, svc)| {
            let target = match svc {
                Some(v) => env
                    .metrics
                    .service_name(*sys, *v)
                    .unwrap_or("?")
                    .to_string(),
                None => env.metrics_system_name(*sys),
            };
            match crate::check::eval::EvalEnv::metric(env, *m, *sys, *svc) {
                Some(v) => format!("{}({target}) = {}", m.name(), show(&v)),
                None => format!("{}({target}) = no data", m.name()),
            }
        })
        .collect();
    parts.join("; ")
}

fn show(v: &Value) -> String {
    match v {
        Value::Duration(d) => format!("{:.1}ms", d.0),
        Value::Percent(p) => format!("{:.2}%", p.0),
        Value::Rate(r) => format!("{:.1}/s", r.0),
        other => other.to_string(),
    }
}

impl WindowEnv<'_> {
    fn metrics_system_name(&self, sys: usize) -> String {
        self.metrics.system_name(sys).to_string()
    }
}

fn evaluate(
    model: &Model,
    scenario: &ScenarioModel,
    metrics: &Metrics,
    scope_of: &[Option<usize>],
    peaks: &BTreeMap<usize, f64>,
) -> Vec<ExpectationResult> {
    let mut out = Vec::new();
    for (k, e) in scenario.expects.iter().enumerate() {
        let windows: &BTreeMap<String, Window> = match scope_of[k] {
            Some(s) => &metrics.scopes[s].per_service,
            None => &metrics.totals,
        };
        let env = WindowEnv {
            metrics,
            windows,
            peaks,
        };
        let scope = match e.scope {
            ExpectScopeModel::Whole => "whole run".to_string(),
            ExpectScopeModel::During(j) => format!("during {}", scenario.steps[j].name),
            ExpectScopeModel::After(j) => format!("after {}", scenario.steps[j].name),
        };
        let conds: Vec<(String, &crate::check::TExpr)> = match &e.kind {
            ExpectKind::Slo(i) => model.slos[*i]
                .objectives
                .iter()
                .map(|o| (o.text.clone(), &o.expr))
                .collect(),
            ExpectKind::Cond(t) => vec![(e.text.clone(), t)],
        };
        let mut passed = true;
        let mut seen = Vec::new();
        for (text, cond) in conds {
            let ok = matches!(eval(cond, &env), Ok(Value::Bool(true)));
            passed &= ok;
            let obs = observed(cond, &env);
            seen.push(if ok {
                obs
            } else {
                format!("{obs} (wanted {text})")
            });
        }
        out.push(ExpectationResult {
            text: e.text.clone(),
            scope,
            passed,
            observed: seen.join("; "),
        });
    }
    out
}

fn lag(results: &[LoadResult]) -> Option<SendLag> {
    let open: Vec<&LoadResult> = results
        .iter()
        .filter(|r| r.model != "closed" && r.requests > 0)
        .collect();
    if open.is_empty() {
        return None;
    }
    Some(SendLag {
        median_ms: open
            .iter()
            .map(|r| r.send_lag_ms.p50_ms)
            .fold(0.0, f64::max),
        p99_ms: open
            .iter()
            .map(|r| r.send_lag_ms.p99_ms)
            .fold(0.0, f64::max),
        max_ms: open
            .iter()
            .map(|r| r.send_lag_ms.max_ms)
            .fold(0.0, f64::max),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::clock::ManualClock;

    /// Fifteen simulated minutes of waits run in well under a second of real time: the
    /// interpreter only knows time through its clock.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn simulated_clock_drives_the_plan_in_order() {
        let text = "scenario s {\n  step a = wait 10m\n  step b = wait 5m after a\n  step c = wait 1m with a + 30s\n}\n";
        let checked =
            crate::check::check_source("sim.res", text, &crate::check::Options::default());
        let model = checked.model.as_ref().expect("valid");
        let plan = crate::plan::plan(model, 0, None).expect("plans");
        let scenario = model.scenario("s").unwrap();
        let clock = ManualClock::new();
        let (_stop_tx, stop_rx) = watch::channel(None);
        let cx = RunContext {
            model,
            scenario,
            plan: &plan,
            file: "sim.res".into(),
            seed: 1,
            setup: crate::run::setup::Setup::default(),
            clock: Arc::new(clock.clone()),
            stop: stop_rx,
            progress: crate::run::progress::Progress::Quiet,
            recorder: None,
        };
        let started = std::time::Instant::now();
        let run = execute(cx, Arc::new(Mutex::new(Running::default())));
        let driver = async {
            for _ in 0..(16 * 60) {
                tokio::task::yield_now().await;
                clock.advance(Duration(1000.0));
                tokio::time::sleep(std::time::Duration::from_micros(200)).await;
            }
        };
        let (report, ()) = tokio::join!(run, driver);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "simulated, not slept"
        );
        assert_eq!(report.outcome, Outcome::Pass);
        let waits: Vec<(f64, &str)> = report
            .events
            .iter()
            .filter(|e| e.kind == "wait")
            .map(|e| (e.at_s, e.detail.as_str()))
            .collect();
        assert_eq!(waits.len(), 3, "{:?}", report.events);
        assert_eq!(waits[0].0, 0.0);
        assert!(
            waits[1].1.contains("1m") && (30.0..=31.0).contains(&waits[1].0),
            "{waits:?}"
        );
        assert!(
            waits[2].1.contains("5m") && (600.0..=601.0).contains(&waits[2].0),
            "{waits:?}"
        );
        assert!(
            report.duration_s >= 900.0,
            "ran 15 simulated minutes: {}",
            report.duration_s
        );
    }
}
