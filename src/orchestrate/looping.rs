//! The loop itself: the clock (real or virtual), one iteration after another, the runs as
//! child processes, the stop signals. The state a decision depends on is kept in memory and
//! written through to the store with each decision, so an idle iteration touches no file.

use std::collections::HashSet;
use std::time::Duration;

use tokio::sync::watch;

use super::learn::{Cache, Traffic};
use super::memory::{load_mem, Mem};
use super::rules::{self, Verdict, Want};
use super::store::{Decision, Lock, RunMark, Store};
use super::{Options, Scenario};
use crate::exit::Exit;
use crate::units::Timestamp;

fn fail(code: Exit, msg: impl std::fmt::Display) -> Exit {
    eprintln!("error: {msg}");
    code
}

fn wall_now() -> String {
    crate::run::clock::system_now().to_rfc3339()
}

/// Runs the loop until the clock ends (virtual), `--once`, or a stop signal; exit 0 then.
pub fn run(opts: Options, render: crate::diagnostic::RenderOptions) -> Exit {
    super::log::init(opts.json_log);
    let (scenarios, traffics) = match super::load(&opts.files, &opts.overrides, render) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let db = match super::db_path(opts.profile_db.as_deref()) {
        Ok(p) => p,
        Err(e) => return fail(Exit::Invalid, e),
    };
    let _lock = match Lock::take(&db) {
        Ok(l) => l,
        Err(e) => return fail(Exit::Invalid, e),
    };
    // The systems' declared Prometheus sources (unless --metrics names a text endpoint).
    let prom = if opts.metrics.is_some() {
        Vec::new()
    } else {
        match super::prometheus::sources(scenarios.iter().map(|s| &*s.model)) {
            Ok(p) => p,
            Err(e) => return fail(Exit::Invalid, e),
        }
    };
    let store = Store::new(&db);
    let mut mem = match load_mem(&store) {
        Ok(m) => m,
        Err(e) => {
            return fail(
                Exit::Tool,
                format!(
                    "cannot read the orchestrator's state in {}: {e}",
                    db.display()
                ),
            )
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(Exit::Tool, e),
    };
    runtime.block_on(async move {
        let shutdown = match crate::shutdown::Shutdown::listen() {
            Ok(s) => s,
            Err(e) => return fail(Exit::Tool, format!("cannot listen for signals: {e}")),
        };
        let counters = super::serve::Shared::default();
        if let Some(addr) = &opts.listen {
            match super::serve::bind(addr).await {
                Ok(l) => {
                    super::log::say(&format!(
                        "metrics on http://{addr}/metrics, health on http://{addr}/healthz"
                    ));
                    tokio::spawn(super::serve::serve(l, counters.clone()));
                }
                Err(e) => return fail(Exit::Invalid, e),
            }
        }
        let (tx, mut stop) = watch::channel(false);
        tokio::spawn(async move {
            let _ = shutdown
                .requested("a scenario run may still be going: `res recover` reverts its faults")
                .await;
            let _ = tx.send(true);
        });
        let mut cx = Loop {
            opts: &opts,
            store: &store,
            db: &db,
            scenarios: &scenarios,
            traffics: &traffics,
            cache: Cache::default(),
            rate: super::scrape::Rate::default(),
            prom,
            reading: None,
            iterations: 0,
            scored: 0,
            written: 0,
            counters: counters.clone(),
        };
        let mut t = opts
            .clock
            .map_or_else(|| crate::run::clock::system_now().0, |(from, _)| from);
        // Virtual time resumes where the same clock stopped.
        if let (Some((from, _)), Some((start, at))) = (opts.clock, mem.clock) {
            if start == from && at >= from {
                t = at + opts.interval;
                super::log::say(&format!("resuming virtual time at {}", Timestamp(t)));
            }
        }
        super::log::say(&format!(
            "res orchestrate: {} scenario(s) from {} file(s), database {}, {}",
            scenarios.len(),
            opts.files.len(),
            db.display(),
            match opts.clock {
                Some((a, b)) => format!(
                    "virtual time {}..{} at {}× ({})",
                    Timestamp(a),
                    Timestamp(b),
                    opts.speed,
                    if opts.send {
                        "runs are sent"
                    } else {
                        "runs are planned only"
                    }
                ),
                None => format!("every {} s", opts.interval),
            }
        ));
        loop {
            if *stop.borrow() {
                break;
            }
            if let Some((_, end)) = opts.clock {
                if t >= end {
                    break;
                }
            }
            let before = cx.written;
            if let Err(e) = cx.iteration(t, &mut mem, &mut stop).await {
                eprintln!("error: {e}");
                return Exit::Tool;
            }
            if let (Some((from, _)), true) = (opts.clock, cx.written != before) {
                let _ = store.put("clock", &serde_json::to_vec(&(from, t)).unwrap_or_default());
            }
            if opts.once || *stop.borrow() {
                break;
            }
            let pause = match opts.clock {
                Some(_) => Duration::from_secs_f64(opts.interval as f64 / opts.speed.max(1e-3)),
                None => Duration::from_secs(opts.interval.max(1) as u64),
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stop.changed() => {}
            }
            t = match opts.clock {
                Some(_) => t + opts.interval,
                None => crate::run::clock::system_now().0,
            };
        }
        if *stop.borrow() {
            let mut d = Decision {
                at: Timestamp(t).to_rfc3339(),
                decided_at: wall_now(),
                action: "stop".into(),
                reason: format!(
                    "stop signal after {} iteration(s): exiting in order",
                    cx.iterations
                ),
                ..Decision::default()
            };
            let _ = store.record(&mut d);
            super::log::decision(&d);
        }
        Exit::Ok
    })
}

struct Loop<'a> {
    opts: &'a Options,
    store: &'a Store,
    db: &'a std::path::Path,
    scenarios: &'a [Scenario],
    traffics: &'a [Traffic],
    cache: Cache,
    rate: super::scrape::Rate,
    /// Declared Prometheus sources, read when no `--metrics` is given.
    prom: Vec<super::prometheus::Source>,
    /// What the declared sources said in this iteration (for `skip when`).
    reading: Option<super::prometheus::Reading>,
    iterations: u64,
    /// Predictions scored when last asked (a `score` decision when it grows).
    scored: usize,
    /// Decisions written by this process.
    written: u64,
    counters: super::serve::Shared,
}

impl Loop<'_> {
    fn virtual_only(&self) -> bool {
        self.opts.clock.is_some() && !self.opts.send
    }

    /// Counts a recorded decision for `/metrics`.
    fn count(&self, d: &Decision) {
        let mut c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        *c.decisions.entry(d.action.clone()).or_default() += 1;
        if d.action == "skip" {
            let kind = d.kind.clone().unwrap_or_else(|| "other".into());
            *c.skips.entry(kind).or_default() += 1;
        }
        if d.action == "run" {
            if let Some(o) = &d.outcome {
                let word = o.split_whitespace().next().unwrap_or("unknown").to_string();
                *c.runs.entry(word).or_default() += 1;
            }
        }
    }

    /// Records a skip unless the same reason was the last one recorded for `key`.
    fn skip(&mut self, mem: &mut Mem, key: &str, mut d: Decision) -> Result<(), String> {
        if mem.last_skip.get(key) == Some(&d.reason) {
            return Ok(());
        }
        let state = vec![(format!("skip/{key}"), d.reason.clone().into_bytes())];
        self.store.record_with(&mut d, &state)?;
        self.written += 1;
        self.count(&d);
        mem.last_skip.insert(key.to_string(), d.reason.clone());
        super::log::decision(&d);
        Ok(())
    }

    async fn iteration(
        &mut self,
        t: i64,
        mem: &mut Mem,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<(), String> {
        self.iterations += 1;
        let at = Timestamp(t).to_rfc3339();
        {
            let mut c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
            c.iterations = self.iterations;
            c.last_iteration = at.clone();
        }
        let base = Decision {
            at: at.clone(),
            decided_at: wall_now(),
            ..Decision::default()
        };
        // 1–2. Learn and forecast.
        let mut refreshed = false;
        for tr in self.traffics {
            let Some(step) = self.cache.step(tr, mem.models.get(&tr.key), t) else {
                continue;
            };
            let d = Decision {
                action: step.action.into(),
                reason: step.reason,
                ..base.clone()
            };
            match step.mark {
                Some(mark) => {
                    let mut d = d;
                    let bytes = serde_json::to_vec(&mark).map_err(|e| e.to_string())?;
                    let mut state = vec![(format!("model/{}", tr.key), bytes)];
                    if let Some(v) = &step.version {
                        let json = serde_json::to_string(v).map_err(|e| e.to_string())?;
                        state.push((
                            format!("model_version/{}/{:010}", tr.key, v.version),
                            json.clone().into_bytes(),
                        ));
                        d.evidence = Some(json);
                    }
                    self.store.record_with(&mut d, &state)?;
                    self.written += 1;
                    self.count(&d);
                    self.counters
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .peaks
                        .insert(tr.key.clone(), mark.peak_per_s);
                    super::log::decision(&d);
                    mem.models.insert(tr.key.clone(), mark);
                    refreshed = true;
                }
                None => self.skip(
                    mem,
                    &format!("learn {}", tr.key),
                    Decision {
                        kind: Some("learn_failed".into()),
                        ..d
                    },
                )?,
            }
        }
        // 3. Current metrics.
        let mut current = None;
        self.reading = None;
        if let Some(url) = &self.opts.metrics {
            match self.rate.scrape(url) {
                Ok(c) => {
                    current = c;
                    mem.last_skip.remove("metrics");
                }
                Err(e) => self.metrics_down(mem, &base, &e)?,
            }
        } else if !self.prom.is_empty() {
            match super::prometheus::read(&self.prom) {
                Ok(r) => {
                    mem.last_skip.remove("metrics");
                    current = self.prometheus_read(mem, &base, &r)?;
                    self.reading = Some(r);
                }
                Err(e) => self.metrics_down(mem, &base, &e)?,
            }
        }
        // 4. Predict when the forecast changed.
        if refreshed && self.opts.predict && !self.virtual_only() {
            self.predict(&base, mem).await?;
        }
        // 6. Schedule.
        for s in self.scenarios {
            let key = s.key();
            let done = |slot: &str| mem.done.contains(&format!("{key}/{slot}"));
            let verdict = rules::consider(&s.model, s.model(), s.total, t, self.opts.lead, &done);
            let d = Decision {
                file: s.file_key.clone(),
                scenario: s.name.clone(),
                ..base.clone()
            };
            let want = match verdict {
                Verdict::Skip { kind, slot, reason } => {
                    self.skip(
                        mem,
                        &key,
                        Decision {
                            action: "skip".into(),
                            kind: Some(kind.into()),
                            slot,
                            reason,
                            ..d
                        },
                    )?;
                    continue;
                }
                Verdict::Run(w) => w,
            };
            let busy = if mem.busy_until > t {
                Some((
                    "overlap",
                    format!(
                        "another run is going ({}) until {}: never two at once",
                        mem.busy_with,
                        Timestamp(mem.busy_until)
                    ),
                ))
            } else {
                self.skip_when(s).or_else(|| self.guard(current))
            };
            if let Some((kind, reason)) = busy {
                let d = Decision {
                    action: "skip".into(),
                    kind: Some(kind.into()),
                    slot: Some(want.label.clone()),
                    reason,
                    ..d
                };
                self.skip(mem, &key, d)?;
                continue;
            }
            self.start(s, want, t, d, mem, stop).await?;
            if *stop.borrow() {
                break;
            }
        }
        Ok(())
    }

    fn metrics_down(&mut self, mem: &mut Mem, base: &Decision, e: &str) -> Result<(), String> {
        self.skip(
            mem,
            "metrics",
            Decision {
                action: "metrics".into(),
                kind: Some("metrics_down".into()),
                reason: format!("cannot read current metrics: {e}; going on without them"),
                ..base.clone()
            },
        )
    }

    /// Says what Prometheus answered, records each query that returned nothing (once, until
    /// it answers again), and gives the system's current state.
    fn prometheus_read(
        &mut self,
        mem: &mut Mem,
        base: &Decision,
        r: &super::prometheus::Reading,
    ) -> Result<Option<super::scrape::Current>, String> {
        let empty: std::collections::HashSet<String> = r
            .empty
            .iter()
            .map(|(k, _)| format!("metrics/{k}"))
            .collect();
        mem.last_skip
            .retain(|k, _| !k.starts_with("metrics/") || empty.contains(k));
        for (key, reason) in &r.empty {
            let d = Decision {
                action: "metrics".into(),
                kind: Some("metrics_empty".into()),
                reason: reason.clone(),
                ..base.clone()
            };
            self.skip(mem, &format!("metrics/{key}"), d)?;
        }
        let shown = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map_or("?".to_string(), f);
        let line: Vec<String> = r
            .services
            .iter()
            .map(|s| {
                format!(
                    "{}.{} {} p99 {} errors {}",
                    s.system,
                    s.service,
                    shown(s.rate_per_s, &|x| format!("{x:.1}/s")),
                    shown(s.p99_s, &|x| format!("{:.0} ms", x * 1000.0)),
                    shown(s.error_ratio, &|x| format!("{:.1} %", x * 100.0)),
                )
            })
            .collect();
        super::log::say(&format!("metrics (Prometheus): {}", line.join("; ")));
        Ok(r.current())
    }

    /// The scenario's own `skip when` guards against the real system now. A guard that cannot
    /// be told (no reading, or no number for what it needs) also skips: never test blind.
    fn skip_when(&self, s: &Scenario) -> Option<(&'static str, String)> {
        use crate::check::eval::{eval, metrics_in};
        use crate::check::Value;
        let guards = &s.model().skip_when;
        if guards.is_empty() {
            return None;
        }
        let Some(reading) = &self.reading else {
            return Some((
                "guard_unknown",
                format!(
                    "`skip when {}` cannot be told: no current metrics from the system's metrics source; not testing blind",
                    guards[0].text
                ),
            ));
        };
        let env = super::prometheus::NowEnv {
            model: &s.model,
            reading,
        };
        for g in guards {
            let mut used = Vec::new();
            metrics_in(&g.expr, &mut used);
            let values: Vec<String> = used
                .iter()
                .map(|&(m, sys, svc)| {
                    let name = s.model.systems.get(sys).map_or("?".to_string(), |x| {
                        match svc.and_then(|i| x.services.get(i)) {
                            Some(sv) => format!("{}.{}", x.name, sv.name),
                            None => x.name.clone(),
                        }
                    });
                    let v = crate::check::eval::EvalEnv::metric(&env, m, sys, svc)
                        .map_or("no number".to_string(), |v| v.to_string());
                    format!("{}({name}) = {v}", m.name())
                })
                .collect();
            match eval(&g.expr, &env) {
                Ok(Value::Bool(true)) => {
                    return Some((
                        "guard",
                        format!("`skip when {}` holds now: {}", g.text, values.join(", ")),
                    ))
                }
                Ok(_) => {}
                Err(e) => {
                    return Some((
                        "guard_unknown",
                        format!(
                            "`skip when {}` cannot be told ({e}: {}); not testing blind",
                            g.text,
                            values.join(", ")
                        ),
                    ))
                }
            }
        }
        None
    }

    /// Why the system is too busy to test now, from its current metrics.
    fn guard(&self, current: Option<super::scrape::Current>) -> Option<(&'static str, String)> {
        let c = current?;
        if let Some(max) = self.opts.busy_above {
            if c.rate_per_s > max {
                return Some(("busy", format!(
                    "the system is busy: {:.1} req/s now, above --busy-above {max}/s (never test into a real peak)",
                    c.rate_per_s
                )));
            }
        }
        if let Some(max) = self.opts.errors_above {
            if c.error_ratio > max {
                return Some((
                    "failing",
                    format!(
                        "the system is failing: {:.1} % 5xx now, above --errors-above {:.1} %",
                        c.error_ratio * 100.0,
                        max * 100.0
                    ),
                ));
            }
        }
        None
    }

    /// Starts (or, in virtual time, plans) a run and records it before anything is sent.
    async fn start(
        &mut self,
        s: &Scenario,
        want: Want,
        t: i64,
        mut d: Decision,
        mem: &mut Mem,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<(), String> {
        let key = s.key();
        d.action = "run".into();
        d.slot = Some(want.label.clone());
        d.reason = want.reason.clone();
        d.multiple = Some(want.multiple);
        let untested = mem.untested.get(&key).cloned();
        if let Some(u) = &untested {
            d.reason.push_str(&format!(
                "; scaled to send {} {}/s, the rate the prediction called untested (measured up to {}/s)",
                u.service, u.rate, u.measured
            ));
        }
        d.until = Some(Timestamp(want.ends).to_rfc3339());
        d.planned_only = self.virtual_only();
        if d.planned_only {
            d.outcome = Some("planned".into());
        }
        let mark = RunMark {
            decision: 0,
            started: t,
            ends: want.ends,
            outcome: d.outcome.clone(),
        };
        let mut state: Vec<(String, Vec<u8>)> = Vec::new();
        for slot in &want.slots {
            let bytes = serde_json::to_vec(&mark).map_err(|e| e.to_string())?;
            state.push((format!("run/{key}/{slot}"), bytes));
        }
        state.push((format!("skip/{key}"), Vec::new()));
        self.store.record_with(&mut d, &state)?;
        self.written += 1;
        self.count(&d);
        super::log::decision(&d);
        for slot in &want.slots {
            mem.done.insert(format!("{key}/{slot}"));
        }
        mem.last_skip.insert(key.clone(), String::new());
        mem.busy_until = want.ends;
        mem.busy_with = format!("{}: {}", s.name, want.label);
        if d.planned_only {
            return Ok(());
        }
        // A real run: a `res run` child, stopped orderly at the window's close or on a signal.
        let remedies_before = super::outcome::last_remedy(self.db);
        let outcome = super::child::run(
            self.opts,
            self.db,
            s,
            t,
            want.closes,
            untested.as_ref(),
            stop,
        )
        .await;
        // A run that measured (pass or fail) settles the untested rate it was scaled to.
        if untested.is_some() && (outcome.starts_with("pass") || outcome.starts_with("fail")) {
            mem.untested.remove(&key);
            self.store.put(&format!("untested/{key}"), b"")?;
        }
        if self.opts.clock.is_none() {
            mem.busy_until = crate::run::clock::system_now().0;
        }
        d.outcome = Some(outcome.clone());
        d.decided_at = wall_now();
        self.store.update(&d)?;
        {
            let word = outcome
                .split_whitespace()
                .next()
                .unwrap_or("unknown")
                .to_string();
            let mut c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
            *c.runs.entry(word).or_default() += 1;
        }
        let mark = RunMark {
            decision: d.id,
            started: t,
            ends: want.ends.min(mem.busy_until.max(t)),
            outcome: Some(outcome.clone()),
        };
        let bytes = serde_json::to_vec(&mark).map_err(|e| e.to_string())?;
        for slot in &want.slots {
            self.store.put(&format!("run/{key}/{slot}"), &bytes)?;
        }
        super::log::say(&format!("{} run ended: {} {outcome}", wall_now(), s.name));
        self.after_run(s, &d, remedies_before).await
    }

    /// Records what the run left: its remedy decisions, and the predictions it scored.
    async fn after_run(&mut self, s: &Scenario, run: &Decision, since: u64) -> Result<(), String> {
        let base = Decision {
            file: s.file_key.clone(),
            scenario: s.name.clone(),
            at: run.at.clone(),
            decided_at: wall_now(),
            ..Decision::default()
        };
        match super::outcome::remedies_since(self.db, since) {
            Ok(list) => {
                for (line, result, json) in list {
                    let mut d = Decision {
                        action: "remedy".into(),
                        reason: format!("during run #{}: {line}", run.id),
                        outcome: Some(result),
                        evidence: Some(json),
                        ..base.clone()
                    };
                    self.store.record(&mut d)?;
                    self.written += 1;
                    self.count(&d);
                    super::log::decision(&d);
                }
            }
            Err(e) => super::log::say(&format!("cannot read the remedy audit log: {e}")),
        }
        match super::outcome::score(self.db).await {
            Ok(sc) if sc.scored > self.scored => {
                self.scored = sc.scored;
                let mut d = Decision {
                    action: "score".into(),
                    reason: format!("after run #{}: {}", run.id, sc.text),
                    outcome: Some(format!("{} scored", sc.scored)),
                    evidence: Some(sc.summary),
                    ..base.clone()
                };
                self.store.record(&mut d)?;
                self.written += 1;
                self.count(&d);
                super::log::decision(&d);
            }
            Ok(_) => {}
            Err(e) => super::log::say(&format!("cannot score the predictions: {e}")),
        }
        Ok(())
    }

    /// Asks the prediction engine about each file, and records what it says. A rate it calls
    /// `untested` is remembered for the scenario it was asked about: that scenario's next run
    /// is scaled to reach it (`res run --load-scale SERVICE=RATE`).
    async fn predict(&self, base: &Decision, mem: &mut Mem) -> Result<(), String> {
        // One prediction per file, for the first scenario the loop schedules (one with a
        // window or event), else the file's first: its margin and SLOs are the ones held.
        let mut seen = HashSet::new();
        let scheduled = |s: &&Scenario| !s.model().windows.is_empty();
        let first = self
            .scenarios
            .iter()
            .filter(scheduled)
            .chain(self.scenarios.iter());
        for s in first {
            if !seen.insert(s.file_key.clone()) {
                continue;
            }
            let (outcome, text, untested) = super::child::predict(self.db, s).await;
            let mut d = Decision {
                action: "predict".into(),
                file: s.file_key.clone(),
                scenario: s.name.clone(),
                reason: "the forecast changed: `res predict` holds it against the profile".into(),
                outcome: Some(outcome),
                evidence: Some(text),
                ..base.clone()
            };
            let key = s.key();
            let mut state = Vec::new();
            if let Some(u) = &untested {
                d.reason.push_str(&format!(
                    "; {} untested at {}/s: the next run of {} is scaled to reach it",
                    u.service, u.rate, s.name
                ));
                let bytes = serde_json::to_vec(u).map_err(|e| e.to_string())?;
                state.push((format!("untested/{key}"), bytes));
            }
            self.store.record_with(&mut d, &state)?;
            if let Some(u) = untested {
                mem.untested.insert(key, u);
            }
            self.count(&d);
            super::log::decision(&d);
        }
        Ok(())
    }
}
