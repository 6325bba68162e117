//! The interpreter: walks the plan's nodes in time order on a [`Clock`], starts and stops
//! loads, opens and closes the windows expectations read, checks `abort` conditions every
//! second, and funnels every way a run can end — finished, aborted, interrupted, a step that
//! panicked — into one orderly shutdown. [`Interpreter`] has one method per kind of plan
//! node, so a new kind (`predict`, `remediate` as engines arrive) is a new method.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, watch};

use super::build::{self, Target};
use super::clock::Clock;
use super::metrics::{Metrics, ServiceSecond};
use super::progress::Progress;
use super::setup::Setup;
use super::verdict::{check_aborts, evaluate, lag, verdict, Abort, SHORT_LIMIT_PCT};
use crate::check::{ExpectScopeModel, Model, ScenarioModel};
use crate::load::{LoadHandle, LoadResult, Snapshot};
use crate::plan::{NodeKind, Plan, PlanNode};
use crate::report::{FaultEvent, Outcome, RunEvent, RunReport, SkippedPart, StepRate};
use crate::units::Duration;

mod ending;
mod engines;

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
    /// A load step more than 10 % short of its plan does not fail the run (`--allow-short`).
    pub allow_short: bool,
    /// `--remediate advise|act` (None: the engine's default).
    pub remediate: Option<crate::remedy::Mode>,
    /// `--allow-exec`.
    pub allow_exec: bool,
    /// Earlier recorded runs, for predicted remedy triggers (empty when none are armed).
    pub history: Arc<crate::predict::history::History>,
    /// `--shard I/N`: this run sends one shard's share, and only the coordinator injects
    /// faults and runs remedies ([`super::shard`]).
    pub shard: Option<super::shard::ShardRole>,
}

/// Loads that are running, so a shutdown from anywhere can stop them.
#[derive(Default)]
pub struct Running {
    pub loads: BTreeMap<usize, LoadHandle>,
}

/// Why the walk over the plan stopped before its end; the reason is already recorded in
/// the interpreter (`stop_reason` or `failure`).
struct Halt;

type Step = Result<(), Halt>;

/// A load step that started: what it planned, to compare with what it sent.
struct StartedLoad {
    step: usize,
    traffic: usize,
    unit: &'static str,
    start_s: f64,
    length_s: f64,
    planned_rps: f64,
}

/// The interpreter: one run of one plan. [`Interpreter::run`] walks the nodes in time order;
/// each kind of plan node has its method (`start_load`, `stop_load`, `inject`, `revert`,
/// `wait_start`, `wait_end`, `assert`, `record`, `predict`, `remediate`, `finish`), and
/// every way the walk ends leads to [`Interpreter::shutdown`] and then the report.
pub struct Interpreter<'a> {
    cx: RunContext<'a>,
    running: Arc<Mutex<Running>>,
    clock: Arc<dyn Clock>,
    started_at: crate::units::Timestamp,
    scope_of: Vec<Option<usize>>,
    metrics: Metrics,
    events: Vec<RunEvent>,
    faults: Vec<FaultEvent>,
    results: Vec<(Option<usize>, LoadResult)>,
    stopping: Vec<(Option<usize>, tokio::task::JoinHandle<LoadResult>)>,
    snap_tx: mpsc::UnboundedSender<Arc<Snapshot>>,
    snap_rx: mpsc::UnboundedReceiver<Arc<Snapshot>>,
    pending: BTreeMap<u64, Vec<ServiceSecond>>,
    aborts: Vec<Abort>,
    stop_reason: Option<StopReason>,
    failure: Option<String>,
    next_tick: u64,
    recorded: usize,
    /// How many faults and events have gone to the profile database.
    sent: crate::profile::Sent,
    loads: Vec<StartedLoad>,
    skipped: Vec<SkippedPart>,
    remediation: Option<super::remedies::Remediation>,
}

/// Runs the plan to its end (or an early stop) and returns the report.
pub async fn execute(cx: RunContext<'_>, running: Arc<Mutex<Running>>) -> RunReport {
    Interpreter::new(cx, running).run().await
}

impl<'a> Interpreter<'a> {
    pub fn new(cx: RunContext<'a>, running: Arc<Mutex<Running>>) -> Interpreter<'a> {
        let clock = cx.clock.clone();
        let started_at = clock.wall();
        // Scopes: one per expectation that is not about the whole run.
        let mut scope_of: Vec<Option<usize>> = Vec::new();
        let mut n_scopes = 0;
        for e in &cx.scenario.expects {
            scope_of.push(match e.scope {
                ExpectScopeModel::Whole => None,
                _ => {
                    n_scopes += 1;
                    Some(n_scopes - 1)
                }
            });
        }
        let mut metrics = Metrics::new(cx.model, n_scopes);
        metrics.fit_capacities_from(cx.history.clone(), cx.seed);
        if cx.shard.is_some() {
            metrics.kept = Some(Vec::new());
        }
        let aborts = cx
            .model
            .aborts
            .iter()
            .chain(&cx.scenario.aborts)
            .map(|c| Abort {
                cond: c.clone(),
                held_s: 0.0,
            })
            .collect();
        let (snap_tx, snap_rx) = mpsc::unbounded_channel::<Arc<Snapshot>>();
        // Decisions go to the audit log as they are made, through the recorder that owns
        // the database file during the run.
        let audit = cx
            .recorder
            .as_ref()
            .map(|(r, _)| crate::remedy::Audit::through_recorder(r.path(), r.keyed_writer()));
        let remediation = if cx.shard.as_ref().is_none_or(|s| s.is_coordinator()) {
            super::remedies::Remediation::new(
                cx.model,
                cx.scenario,
                &cx.setup,
                (cx.remediate, cx.allow_exec),
                audit,
            )
        } else {
            None
        };
        Interpreter {
            cx,
            running,
            clock,
            started_at,
            scope_of,
            metrics,
            events: Vec::new(),
            faults: Vec::new(),
            results: Vec::new(),
            stopping: Vec::new(),
            snap_tx,
            snap_rx,
            pending: BTreeMap::new(),
            aborts,
            stop_reason: None,
            failure: None,
            next_tick: 1,
            recorded: 0,
            sent: crate::profile::Sent::default(),
            loads: Vec::new(),
            skipped: Vec::new(),
            remediation,
        }
    }

    /// Walks the plan, shuts down in order and returns the report.
    pub async fn run(mut self) -> RunReport {
        let scenario = self.cx.scenario;
        self.event(
            "start",
            format!("scenario {} (seed {})", scenario.name, self.cx.seed),
        );
        for note in self.cx.setup.notes.clone() {
            self.event("setup", note);
        }
        let plan = self.cx.plan;
        let mut completed = true;
        for n in plan.timeline() {
            let node = &plan.graph[n];
            self.record_new();
            if self.wait_for(node.at).await.is_err() || self.node(node).await.is_err() {
                completed = false;
                break;
            }
        }
        if completed {
            self.predicted_remedies().await;
        }
        if let Some(r) = &mut self.remediation {
            r.end().await;
        }
        self.shutdown().await;
        self.report()
    }

    /// Hands the faults and events not yet sent to the profile database, so they are
    /// committed as they happen and a killed run keeps them.
    fn record_new(&mut self) {
        if let Some((rec, run)) = &self.cx.recorder {
            rec.record_new(*run, &self.faults, &self.events, &mut self.sent);
        }
    }

    fn event(&mut self, kind: &str, detail: String) {
        self.events.push(RunEvent {
            at_s: self.clock.now().secs(),
            kind: kind.into(),
            detail,
        });
    }

    /// Opens the windows of the expectations `during` this step, at the current second.
    fn open_scopes(&mut self, step: usize) {
        let now = self.clock.now().secs().round() as u64;
        open_scopes(
            &mut self.metrics,
            self.cx.scenario,
            &self.scope_of,
            step,
            now,
        );
    }

    /// Closes the windows `during` this step and opens those `after` it.
    fn close_scopes(&mut self, step: usize) {
        let now = self.clock.now().secs().round() as u64;
        close_scopes(
            &mut self.metrics,
            self.cx.scenario,
            &self.scope_of,
            step,
            now,
        );
    }

    /// Waits until `at`, handling ticks, snapshots and stop requests meanwhile.
    async fn wait_for(&mut self, at: Duration) -> Step {
        loop {
            if self.clock.now().0 >= at.0 {
                return Ok(());
            }
            let wake = at.0.min(self.next_tick as f64 * 1000.0);
            tokio::select! {
                _ = self.clock.sleep_until(Duration(wake)) => {}
                Some(s) = self.snap_rx.recv() => {
                    collect(&mut self.pending, &s, self.clock.now());
                    continue;
                }
                changed = self.cx.stop.changed() => {
                    if changed.is_ok() {
                        if let Some(r) = self.cx.stop.borrow().clone() {
                            self.stop_reason = Some(r);
                            return Err(Halt);
                        }
                    }
                }
            }
            if self.clock.now().0 >= self.next_tick as f64 * 1000.0 {
                self.tick()?;
                self.remediate_second().await;
            }
        }
    }

    /// One second of the run: metrics, recording, aborts, progress.
    fn tick(&mut self) -> Step {
        while let Ok(s) = self.snap_rx.try_recv() {
            collect(&mut self.pending, &s, self.clock.now());
        }
        let t = self.next_tick;
        self.next_tick += 1;
        flush(&mut self.metrics, &mut self.pending, t);
        self.record_new();
        if let Some((rec, run)) = &self.cx.recorder {
            rec.record_seconds(*run, &self.metrics.series[self.recorded..]);
            self.recorded = self.metrics.series.len();
            if let Err(e) = rec.health() {
                self.failure = Some(format!("recording into the profile database failed: {e}"));
                return Err(Halt);
            }
        }
        if let Some(chaos) = self.cx.setup.chaos.as_mut() {
            chaos.sample();
        }
        if let Some(reason) = check_aborts(&mut self.aborts, &self.metrics) {
            self.stop_reason = Some(StopReason::Abort(reason));
            return Err(Halt);
        }
        let active = self.running.lock().map(|r| r.loads.len()).unwrap_or(0);
        let injected = self.faults.iter().filter(|f| f.action == "inject").count();
        let reverted = self.faults.iter().filter(|f| f.action == "revert").count();
        self.cx.progress.tick(
            &self.metrics,
            self.clock.now(),
            self.cx.plan.total,
            active,
            injected - reverted.min(injected),
        );
        Ok(())
    }

    /// The node's time has come: its method.
    async fn node(&mut self, node: &PlanNode) -> Step {
        self.test_panic_hook(node).await?;
        let step = node.step.unwrap_or(0);
        match &node.kind {
            NodeKind::StartLoad { traffic, share } => {
                self.start_load(step, *traffic, *share, &node.label)
            }
            NodeKind::StopLoad { .. } => {
                self.stop_load(step, &node.label);
                Ok(())
            }
            NodeKind::Inject { fault } => self.inject(step, *fault, &node.label),
            NodeKind::Revert { fault } => {
                self.revert(step, *fault, &node.label);
                Ok(())
            }
            NodeKind::WaitStart => {
                self.wait_start(step, &node.label);
                Ok(())
            }
            NodeKind::WaitEnd => {
                self.wait_end(step);
                Ok(())
            }
            NodeKind::Begin => Ok(()),
            NodeKind::Assert { expect } => {
                self.assert(*expect);
                Ok(())
            }
            NodeKind::Finish => {
                self.finish();
                Ok(())
            }
            NodeKind::Record => {
                self.record();
                Ok(())
            }
            NodeKind::Predict => {
                self.predict();
                Ok(())
            }
            NodeKind::Remediate { remedy } => {
                self.remediate(*remedy);
                Ok(())
            }
        }
    }

    /// A test hook (`RES_TEST_PANIC_STEP=name`): make this step's action panic, to prove the
    /// shutdown path.
    async fn test_panic_hook(&mut self, node: &PlanNode) -> Step {
        let Some(i) = node.step else {
            return Ok(());
        };
        let name = self.cx.scenario.steps[i].name.clone();
        if std::env::var("RES_TEST_PANIC_STEP").ok().as_deref() != Some(name.as_str()) {
            return Ok(());
        }
        let n = name.clone();
        let r = tokio::spawn(async move { panic!("test-requested panic in step {n}") }).await;
        match r {
            Err(e) => {
                self.failure = Some(format!("step {name} panicked: {}", panic_text(e)));
                Err(Halt)
            }
            Ok(()) => Ok(()),
        }
    }

    fn step_name(&self, step: usize) -> String {
        self.cx
            .scenario
            .steps
            .get(step)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    }

    fn step_length(&self, step: usize) -> Duration {
        let timing = &self.cx.plan.steps[step];
        Duration(timing.end.0 - timing.start.0)
    }

    fn start_load(&mut self, step: usize, traffic: usize, share: f64, label: &str) -> Step {
        let step_name = self.step_name(step);
        let length = self.step_length(step);
        let spec = self.load_spec(traffic, length, self.cx.seed.wrapping_add(step as u64));
        let mut spec = match spec {
            Ok(s) => s,
            Err(e) => {
                self.failure = Some(format!("step {step_name}: {e}"));
                return Err(Halt);
            }
        };
        if let Some(role) = &self.cx.shard {
            spec = role.shard.split(spec);
        }
        spec.scale = share;
        // The load's schedule starts at the step's planned start, not milliseconds later
        // when it is built, so the stop at the step's planned end cuts none of it off.
        let now = std::time::Instant::now();
        let late = self.clock.now().0 - self.cx.plan.steps[step].start.0;
        spec.start_at = now.checked_sub(std::time::Duration::from_secs_f64(
            late.clamp(0.0, length.0) / 1000.0,
        ));
        let planned = build::planned(&spec, share);
        match crate::load::start(spec) {
            Ok(handle) => {
                handle.set_scale(share);
                self.forward_snapshots(&handle);
                if let Ok(mut r) = self.running.lock() {
                    r.loads.insert(step, handle);
                }
                self.event("start_load", label.to_string());
            }
            Err(e) => {
                self.failure = Some(format!("step {step_name}: cannot start the load: {e}"));
                return Err(Halt);
            }
        }
        if let Some((unit, planned_rps)) = planned {
            self.loads.push(StartedLoad {
                step,
                traffic,
                unit,
                start_s: self.clock.now().secs(),
                length_s: length.secs(),
                planned_rps,
            });
        }
        self.open_scopes(step);
        Ok(())
    }

    /// The load of `traffic` for `length` against its system's target, seeded with `seed`.
    fn load_spec(
        &self,
        traffic: usize,
        length: Duration,
        seed: u64,
    ) -> Result<crate::load::LoadSpec, String> {
        let model = self.cx.model;
        let target = build::traffic_system(model, traffic)
            .and_then(|s| self.cx.setup.targets.get(&s))
            .ok_or_else(|| {
                format!(
                    "traffic `{}` has no reachable system",
                    model.traffics[traffic].name
                )
            })?;
        build::load_spec(
            model,
            traffic,
            &Target {
                base_url: target.clone(),
            },
            length,
            self.clock.wall(),
            seed,
            &self.cx.setup.peaks,
            &self.cx.setup.feeders,
            self.cx.setup.learned.get(&traffic).map(|l| &**l),
        )
        .map(|mut spec| {
            super::load_scale::apply(&mut spec, self.cx.setup.load_scale.unwrap_or(1.0));
            spec
        })
        .map_err(|e| e.to_string())
    }

    /// Hands a load's per-second snapshots to the run's metrics: every one, in order (a
    /// watch would keep only the newest, and a load's final snapshot can follow a tick by
    /// a few milliseconds).
    fn forward_snapshots(&mut self, handle: &LoadHandle) {
        handle.subscribe(self.snap_tx.clone());
    }

    fn stop_load(&mut self, step: usize, label: &str) {
        let handle = self
            .running
            .lock()
            .ok()
            .and_then(|mut r| r.loads.remove(&step));
        if let Some(h) = handle {
            self.stopping.push((Some(step), tokio::spawn(h.stop())));
        }
        self.event("stop_load", label.to_string());
        self.close_scopes(step);
    }

    fn inject(&mut self, step: usize, fault: usize, label: &str) -> Step {
        let model = self.cx.model;
        let f = &model.faults[fault];
        if let Some(role) = self.cx.shard.as_ref().filter(|r| !r.is_coordinator()) {
            let note = format!(
                "{label}: the coordinator (shard {}/{}) injects it",
                role.coordinator + 1,
                role.shard.count()
            );
            self.event("inject", note);
            self.open_scopes(step);
            return Ok(());
        }
        let length = self.step_length(step);
        let at = self.clock.now().secs();
        match self.cx.setup.chaos.as_mut() {
            Some(chaos) => match chaos.inject(model, fault, &self.metrics, length) {
                Ok((target, detail)) => {
                    self.metrics.injects.push(at as u64);
                    self.faults
                        .push(FaultEvent::new(at, &f.name, "inject", target, detail));
                }
                Err(e) => {
                    self.faults
                        .push(FaultEvent::new(at, &f.name, "failed", "", e.clone()));
                    // Found only now (a stressed target with no load, a process gone): stop,
                    // revert what is in place, report it as aborted.
                    self.stop_reason = Some(StopReason::Abort(format!(
                        "step {}: cannot inject fault `{}`: {e}",
                        self.step_name(step),
                        f.name
                    )));
                    return Err(Halt);
                }
            },
            None => {
                let why = "no chaos engine in this build";
                self.faults
                    .push(FaultEvent::new(at, &f.name, "skipped", "", why));
                self.skip("fault", &f.name, "skipped", why);
            }
        }
        self.event("inject", label.to_string());
        self.open_scopes(step);
        Ok(())
    }

    fn revert(&mut self, step: usize, fault: usize, label: &str) {
        let name = &self.cx.model.faults[fault].name;
        if self.cx.shard.as_ref().is_some_and(|r| !r.is_coordinator()) {
            self.event("revert", format!("{label}: the coordinator reverts it"));
            self.close_scopes(step);
            return;
        }
        if let Some(chaos) = self.cx.setup.chaos.as_mut() {
            for (target, detail, ok) in chaos.revert(fault) {
                let at = self.clock.now().secs();
                self.metrics.reverts.push(at as u64);
                let action = if ok { "revert" } else { "revert_failed" };
                self.faults
                    .push(FaultEvent::new(at, name, action, target, detail));
            }
        }
        self.event("revert", label.to_string());
        self.close_scopes(step);
    }

    fn wait_start(&mut self, step: usize, label: &str) {
        self.open_scopes(step);
        self.event("wait", label.to_string());
    }

    fn wait_end(&mut self, step: usize) {
        self.close_scopes(step);
    }

    /// Expectations are evaluated once, at the end, over the windows their scopes kept.
    fn assert(&mut self, _expect: usize) {}

    fn finish(&mut self) {
        self.event("finish", "every step ended".into());
    }

    fn record(&mut self) {
        let note = self.cx.setup.record_note.clone();
        self.event("record", note);
    }

    fn skip(&mut self, part: &str, name: &str, how: &str, reason: &str) {
        self.skipped.push(SkippedPart {
            part: part.into(),
            name: name.into(),
            how: how.into(),
            reason: reason.into(),
        });
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
            allow_short: false,
            remediate: None,
            history: Default::default(),
            shard: None,
            allow_exec: false,
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
