//! The interpreter's steps that hand over to the prediction and remediation engines:
//! `predict` (after the run is recorded), `remediate` with measured and predicted triggers,
//! the verification loads a remedy asks for, and the honest record of what was skipped.

use super::*;

impl Interpreter<'_> {
    /// `predict [at …]` needs this run in the profile database, so it runs in
    /// [`report`](Self::report), once the run is recorded and the database closed
    /// ([`predict_after`](Self::predict_after)). Without recording it cannot run: skipped,
    /// so the run cannot pass.
    pub(super) fn predict(&mut self) {
        if let Some(role) = &self.cx.shard {
            let why = "a shard does not predict: `res merge` records the whole run, then `res predict` reads it";
            let listed = role.is_coordinator();
            self.predict_skipped(why, listed);
            return;
        }
        if self.cx.recorder.is_none() {
            let why =
                "prediction needs the run recorded in the profile database (not with --no-record)";
            self.predict_skipped(why, true);
        } else {
            self.event(
                "predict",
                "prediction runs after the run, on the history plus this run".into(),
            );
        }
    }

    /// The prediction of `predict [at …]`, from the database at `db` that now holds this
    /// run. `Err` says why there is none.
    pub(super) fn predict_after(
        &self,
        db: &std::path::Path,
    ) -> Result<crate::predict::engine::Outcome, String> {
        let Some(at) = &self.cx.scenario.predict else {
            return Err("the scenario does not predict".into());
        };
        let base = std::path::Path::new(&self.cx.file)
            .parent()
            .unwrap_or(std::path::Path::new("."));
        let facts = crate::run::predict_input::RunFacts {
            peaks: &self.cx.setup.peaks,
            base_dir: base,
            db,
            seed: self.cx.seed,
            now: self.clock.wall(),
        };
        crate::run::predict_input::after_run(self.cx.model, self.cx.scenario, at.as_ref(), &facts)
    }

    /// The remedies were armed from the start and evaluated every second
    /// ([`remedies`](super::remedies)); at the end of the plan, say what they decided.
    pub(super) fn remediate(&mut self, remedy: usize) {
        let name = self.cx.model.remedies[remedy].name.clone();
        let lines: Vec<String> = self
            .remediation
            .as_ref()
            .map(|r| {
                r.records()
                    .iter()
                    .filter(|d| d.remedy == name)
                    .map(|d| d.line())
                    .collect()
            })
            .unwrap_or_default();
        if self.cx.shard.as_ref().is_some_and(|r| !r.is_coordinator()) {
            self.event(
                "remediate",
                format!("remedy {name}: the coordinator runs it"),
            );
            return;
        }
        if lines.is_empty() {
            let predicted = self.cx.model.remedies[remedy]
                .triggers
                .iter()
                .any(|t| t.predicted);
            let why = if predicted {
                "no measured trigger fired; predicted triggers are evaluated when the steps are over"
            } else {
                "its triggers never fired"
            };
            self.event("remediate", format!("remedy {name}: {why}"));
        }
        for l in lines {
            self.event("remediate", l);
        }
    }

    /// The plan's steps are over: predicted remedy triggers are evaluated on the history plus
    /// this run ([`predicted`](super::predicted)); a remedy acted on is verified by a load at
    /// the predicted rate, and undone when the condition is still measured there.
    pub(super) async fn predicted_remedies(&mut self) {
        let Some(r) = self.remediation.as_ref() else {
            return;
        };
        let triggers = r.predicted.clone();
        if triggers.is_empty() {
            return;
        }
        let history = crate::run::predicted::with_this_run(
            &self.cx.history,
            &self.metrics.series,
            &self.faults,
        );
        let base = std::path::Path::new(&self.cx.file)
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .to_path_buf();
        for t in triggers {
            let Some((service, name)) = self
                .remediation
                .as_ref()
                .and_then(|r| r.remedy(t.remedy))
                .map(|(s, n)| (s.to_string(), n.to_string()))
            else {
                continue;
            };
            let pcx = crate::run::predicted::Context {
                model: self.cx.model,
                scenario: self.cx.scenario,
                peaks: &self.cx.setup.peaks,
                base_dir: &base,
                seed: self.cx.seed,
            };
            let evaluation = crate::run::predicted::evaluate(&pcx, &t, &service, &history);
            let ev = match evaluation {
                Ok(ev) => ev,
                Err(e) => {
                    self.event("remediate", format!("remedy {name}: {e}"));
                    if let Some(r) = self.remediation.as_mut() {
                        r.skip(&name, format!("predicted trigger not evaluated: {e}"));
                    }
                    continue;
                }
            };
            self.event("remediate", format!("remedy {name}: {}", ev.line));
            if !ev.holds {
                continue;
            }
            let fired = crate::remedy::Fired {
                remedy: t.remedy,
                trigger: ev.trigger.clone(),
            };
            let acted = match self.remediation.as_mut() {
                Some(r) => r.decide(vec![fired]).await,
                None => Vec::new(),
            };
            for id in acted {
                let outcome = self.verification_load(&t, ev.rate, &name).await;
                if let Some(r) = self.remediation.as_mut() {
                    r.conclude(id, outcome).await;
                }
            }
        }
    }

    /// Sends the scenario's traffic at `rate` for the remedy's verification time and says
    /// whether the predicted condition is measured false over it (the first seconds, while
    /// the load settles, do not count).
    pub(super) async fn verification_load(
        &mut self,
        t: &crate::run::predicted::PredictedTrigger,
        rate: f64,
        name: &str,
    ) -> crate::remedy::Verification {
        use crate::remedy::Verification;
        let length = self
            .remediation
            .as_ref()
            .map(|r| r.verify_length(t.remedy))
            .unwrap_or(std::time::Duration::from_secs(15))
            .as_secs_f64()
            .max(5.0);
        let key = usize::MAX - t.remedy;
        if let Err(e) = self.start_verification(key, rate, length) {
            self.event(
                "remediate",
                format!("remedy {name}: no verification load: {e}"),
            );
            return Verification::Unverified;
        }
        self.event(
            "remediate",
            format!("remedy {name}: verification load at {rate:.1}/s for {length:.0}s"),
        );
        let end = Duration(self.clock.now().0 + length * 1000.0);
        let stopped = self.wait_for(end).await.is_err();
        let handle = self
            .running
            .lock()
            .ok()
            .and_then(|mut r| r.loads.remove(&key));
        if let Some(h) = handle {
            self.results.push((None, h.stop().await));
        }
        if stopped {
            return Verification::Unverified;
        }
        let settle = (length * 0.3).clamp(2.0, 5.0);
        let windows = self.metrics.last((length - settle).max(2.0) as usize);
        let env = crate::run::metrics::WindowEnv {
            metrics: &self.metrics,
            windows: &windows,
            peaks: &self.cx.setup.peaks,
        };
        let measured = crate::check::eval::eval(&t.cond.expr, &env);
        let shown = crate::run::remedies::evidence(&t.cond, &env)
            .iter()
            .map(|e| format!("{} {:.1}{}", e.quantity, e.value, e.unit))
            .collect::<Vec<_>>()
            .join(", ");
        let outcome = match measured {
            Ok(crate::check::Value::Bool(false)) => Verification::Verified,
            _ => Verification::NotCleared,
        };
        self.event(
            "remediate",
            format!(
                "remedy {name}: measured under the verification load: {shown}; {}",
                if outcome == Verification::Verified {
                    "verified"
                } else {
                    "not cleared: the change is undone"
                }
            ),
        );
        outcome
    }

    /// Starts the scenario's first load's traffic at a constant `rate` for `length_s`, under
    /// `key` among the running loads (so a shutdown stops it too).
    pub(super) fn start_verification(
        &mut self,
        key: usize,
        rate: f64,
        length_s: f64,
    ) -> Result<(), String> {
        let traffic = self
            .cx
            .scenario
            .steps
            .iter()
            .find_map(|s| match s.kind {
                crate::check::StepKind::Load { traffic, .. } => Some(traffic),
                _ => None,
            })
            .ok_or("the scenario loads no traffic")?;
        let mut spec = self.load_spec(
            traffic,
            Duration(length_s * 1000.0),
            self.cx.seed.wrapping_add(key as u64),
        )?;
        let constant = crate::load::RateSchedule::constant(crate::units::Rate(rate));
        match &mut spec.workload {
            crate::load::Workload::Open { schedule, .. }
            | crate::load::Workload::Chain { schedule, .. } => *schedule = constant,
            _ => return Err("the traffic is not rate-driven (open or learned)".into()),
        }
        spec.scale = 1.0;
        let handle = crate::load::start(spec).map_err(|e| e.to_string())?;
        self.forward_snapshots(&handle);
        if let Ok(mut r) = self.running.lock() {
            r.loads.insert(key, handle);
        }
        Ok(())
    }

    /// One second of remediation: triggers that fired are decided on, verifications end.
    pub(super) async fn remediate_second(&mut self) {
        let Some(r) = self.remediation.as_mut() else {
            return;
        };
        let (fired, ended) = r.tick(&self.metrics);
        if !fired.is_empty() || !ended.is_empty() {
            r.act(fired, ended).await;
        }
    }

    /// `predict` did not run, and why: an event always, and a skipped part (the run cannot
    /// pass) when `listed` — every shard says it, only the coordinator lists it.
    pub(super) fn predict_skipped(&mut self, why: &str, listed: bool) {
        if listed {
            self.skip("predict", "predict", "skipped", why);
        }
        self.event("predict", format!("{why}: skipped"));
    }
}
