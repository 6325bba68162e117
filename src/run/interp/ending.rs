//! How every run ends: the orderly shutdown (loads stopped, faults reverted, targets
//! stopped, the last seconds taken in), planned against achieved rate per step, and the
//! report with its verdict, recording and prediction.

use super::*;

impl Interpreter<'_> {
    /// Orderly shutdown, whatever ended the run: stop the loads, revert every fault, stop
    /// the targets, take in the last seconds.
    pub(super) async fn shutdown(&mut self) {
        let loads: Vec<(usize, LoadHandle)> = self
            .running
            .lock()
            .map(|mut r| std::mem::take(&mut r.loads).into_iter().collect())
            .unwrap_or_default();
        for (step, h) in loads {
            self.stopping.push((Some(step), tokio::spawn(h.stop())));
        }
        for (step, s) in std::mem::take(&mut self.stopping) {
            match s.await {
                Ok(r) => self.results.push((step, r)),
                Err(e) if self.failure.is_none() => {
                    self.failure = Some(format!("a load panicked: {}", panic_text(e)))
                }
                Err(_) => {}
            }
        }
        // Every load has ended, and its last snapshot is in the channel (each load sends
        // its snapshots straight to it).
        if let Some(chaos) = self.cx.setup.chaos.as_mut() {
            for (fault, target, detail, ok) in chaos.revert_all() {
                let at = self.clock.now().secs();
                self.metrics.reverts.push(at as u64);
                let action = if ok { "revert" } else { "revert_failed" };
                self.faults
                    .push(FaultEvent::new(at, fault, action, target, detail));
            }
        }
        if let Some(chaos) = self.cx.setup.chaos.as_mut() {
            chaos.shutdown().await;
        }
        for (_, shop) in std::mem::take(&mut self.cx.setup.demos) {
            shop.shutdown().await;
        }
        while let Ok(s) = self.snap_rx.try_recv() {
            collect(&mut self.pending, &s, self.clock.now());
        }
        let last = self.pending.keys().next_back().copied().unwrap_or(0) + 1;
        flush(
            &mut self.metrics,
            &mut self.pending,
            last.max(self.next_tick),
        );
        for scope in &mut self.metrics.scopes {
            if scope.from.is_none() {
                scope.from = Some(u64::MAX);
            }
        }
        self.cx.progress.finish();
    }

    /// Planned against achieved, per load step that ran.
    pub(super) fn step_rates(&self) -> Vec<StepRate> {
        let model = self.cx.model;
        self.loads
            .iter()
            .map(|l| {
                let result = self
                    .results
                    .iter()
                    .find(|(s, _)| *s == Some(l.step))
                    .map(|(_, r)| r);
                let (sent, secs) = result.map_or((0, 0.0), |r| {
                    (r.intended.saturating_sub(r.unsent), r.duration_s)
                });
                let achieved_rps = if secs > 0.0 { sent as f64 / secs } else { 0.0 };
                let short_pct = if l.planned_rps > 0.0 {
                    (1.0 - achieved_rps / l.planned_rps) * 100.0
                } else {
                    0.0
                };
                // A Poisson count of n varies by √n: a short step of a few dozen requests
                // is not held to 10 % beyond three of those.
                let planned_n = l.planned_rps * secs;
                let noise = 3.0 * planned_n.sqrt();
                StepRate {
                    step: self.step_name(l.step),
                    traffic: model.traffics[l.traffic].name.clone(),
                    unit: l.unit.into(),
                    start_s: l.start_s,
                    length_s: l.length_s,
                    planned_rps: l.planned_rps,
                    achieved_rps,
                    short_pct,
                    short: short_pct > SHORT_LIMIT_PCT && planned_n - sent as f64 > noise,
                }
            })
            .collect()
    }

    /// The verdict and the report.
    pub(super) fn report(mut self) -> RunReport {
        let model = self.cx.model;
        let scenario = self.cx.scenario;
        let (outcome, reason) = match (&self.stop_reason, &self.failure) {
            (_, Some(f)) => (Outcome::Error, Some(f.clone())),
            (Some(StopReason::Abort(r)), _) => (Outcome::Aborted, Some(r.clone())),
            (Some(StopReason::Signal(r)), _) => (Outcome::Aborted, Some(r.clone())),
            (Some(StopReason::Failed(r)), _) => (Outcome::Error, Some(r.clone())),
            (None, None) => (Outcome::Pass, None),
        };
        if let Some(r) = &reason {
            self.event("stop", r.clone());
        }
        let expectations = evaluate(
            model,
            scenario,
            &self.metrics,
            &self.scope_of,
            &self.cx.setup.peaks,
        );
        let steps = self.step_rates();
        if let Some(r) = &self.remediation {
            self.skipped.extend(r.incomplete());
        }
        let (mut outcome, mut reason) = verdict(
            outcome,
            reason,
            &expectations,
            &steps,
            &self.skipped,
            self.cx.allow_short,
        );
        let results: Vec<LoadResult> = self.results.iter().map(|(_, r)| r.clone()).collect();
        let send_lag_ms = lag(&results);
        let clock = self.clock.clone();
        let mut db = None;
        if let Some((rec, run)) = self.cx.recorder.take() {
            db = Some(rec.path().to_path_buf());
            rec.record_seconds(run, &self.metrics.series[self.recorded..]);
            rec.record_new(run, &self.faults, &self.events, &mut self.sent);
            if let Err(e) = rec.finish(run, outcome, clock.wall().to_rfc3339(), &expectations) {
                // A run whose record is incomplete is never a silent pass (exit 4).
                let why = format!("the profile database could not finish the run: {e}");
                self.event("record", why.clone());
                (outcome, reason) = (Outcome::Error, Some(why));
            }
        }
        let mut predictions = Vec::new();
        if let (Some(db), Some(_)) = (&db, &scenario.predict) {
            match self.predict_after(db) {
                Ok(o) => {
                    let note = format!(
                        "predicted from {} run(s) of {}; {} predictions stored",
                        o.verdict.runs.len(),
                        o.system,
                        o.stored.len()
                    );
                    self.event("predict", note);
                    predictions.push(o);
                }
                Err(e) => {
                    // The run itself is already recorded with its verdict; the report says
                    // the prediction is missing and does not pass.
                    let why = format!("prediction failed: {e}");
                    self.skip("predict", "predict", "failed", &why);
                    self.event("predict", why.clone());
                    if outcome == Outcome::Pass {
                        (outcome, reason) = (Outcome::Incomplete, Some(why));
                    }
                }
            }
        }
        RunReport {
            res_version: env!("CARGO_PKG_VERSION").to_string(),
            file: self.cx.file.clone(),
            scenario: scenario.name.clone(),
            seed: self.cx.seed,
            outcome,
            reason,
            started_at: self.started_at.to_rfc3339(),
            duration_s: clock.now().secs(),
            services: self.metrics.summaries(),
            series: std::mem::take(&mut self.metrics.series),
            faults: self.faults,
            expectations,
            events: self.events,
            send_lag_ms,
            steps,
            learned: self.cx.setup.learned_report.clone(),
            skipped: self.skipped,
            recorded: self.cx.setup.recorded.clone(),
            remediations: self
                .remediation
                .as_ref()
                .map(|r| r.reports())
                .unwrap_or_default(),
            predictions,
            shard: self
                .cx
                .shard
                .as_ref()
                .map(|r| crate::run::shard::section(r, &self.metrics, &self.cx.setup.peaks)),
            merge: None,
            load_scale: self.cx.setup.load_scale,
        }
    }
}
