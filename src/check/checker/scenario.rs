//! Scenarios: steps, their timing, the traffic and faults they drive, expectations.

use super::*;

impl<'a> Checker<'a> {
    pub(super) fn scenario(&mut self, s: &ast::Scenario, cx: &Ctx) -> ScenarioModel {
        use ast::ScenarioStmt as S;
        let mut m = ScenarioModel {
            name: s.name.name.clone(),
            name_span: s.name.span,
            windows: Vec::new(),
            steps: Vec::new(),
            expects: Vec::new(),
            aborts: Vec::new(),
            skip_when: Vec::new(),
            runs_per_window: 1,
            record: false,
            predict: None,
            remediate: Vec::new(),
            origin: Origin {
                file: self.file(),
                span: s.span,
            },
        };
        // Step names first: relations may point forward.
        let mut step_names: Vec<(String, Span)> = Vec::new();
        let mut first_step: HashMap<String, Span> = HashMap::new();
        for st in &s.stmts {
            if let S::Step(step) = &st.kind {
                if let Some(prev) = first_step.get(&step.name.name) {
                    let prev = *prev;
                    self.diags.push(
                        Diagnostic::error(
                            Code::Duplicate,
                            self.file(),
                            step.name.span,
                            format!("step `{}` is declared twice", step.name.name),
                        )
                        .with_label("declared again here")
                        .with_secondary(prev, "first declared here"),
                    );
                }
                first_step
                    .entry(step.name.name.clone())
                    .or_insert(step.name.span);
                step_names.push((step.name.name.clone(), step.name.span));
            }
        }
        let list: Vec<String> = step_names.iter().map(|(n, _)| n.clone()).collect();
        let mut index = HashMap::new();
        for (i, n) in list.iter().enumerate() {
            index.entry(n.clone()).or_insert(i);
        }
        let names = StepNames { list, index };
        let mut seen = Seen::default();
        for st in &s.stmts {
            match &st.kind {
                S::In(refs) => {
                    seen.once(self, "in", st.span);
                    for r in refs {
                        match r {
                            ast::WindowRef::Window(w) => {
                                if let Some(i) = self.resolve(cx, w, DeclKind::Window) {
                                    m.windows.push(WindowRefModel::Window(i));
                                }
                            }
                            ast::WindowRef::Before(e) => {
                                if let Some(i) = self.resolve(cx, e, DeclKind::Event) {
                                    m.windows.push(WindowRefModel::Before(i));
                                }
                            }
                        }
                    }
                }
                S::Step(step) => {
                    if let Some(sm) = self.step(step, &names, cx, st.span) {
                        m.steps.push(sm);
                    }
                }
                S::Expect { cond, scope } => {
                    let scope_m = match scope {
                        None => Some(ExpectScopeModel::Whole),
                        Some(ast::ExpectScope::During(x)) => {
                            self.step_ref(x, &names).map(ExpectScopeModel::During)
                        }
                        Some(ast::ExpectScope::After(x)) => {
                            self.step_ref(x, &names).map(ExpectScopeModel::After)
                        }
                    };
                    let t = self.expr(cond, cx);
                    let kind = match (&t.kind, t.ty) {
                        (TKind::Ref(RefTarget::Slo(i)), _) => Some(ExpectKind::Slo(*i)),
                        (_, Ty::Bool) => Some(ExpectKind::Cond(t.clone())),
                        (_, Ty::Unknown) => None,
                        _ => {
                            self.mismatch(
                                &t,
                                "an slo name or a condition such as `p99(shop) < 300ms`",
                                "`expect` asserts an slo or a condition",
                            );
                            None
                        }
                    };
                    if let (Some(kind), Some(scope)) = (kind, scope_m) {
                        m.expects.push(ExpectModel {
                            text: self.text_of(cond.span),
                            kind,
                            scope,
                            span: st.span,
                        });
                    }
                }
                S::Abort(a) => {
                    if let Some(c) = self.abort(a, cx) {
                        m.aborts.push(c);
                    }
                }
                S::RunsPerWindow(e) => {
                    seen.once(self, "runs at most", st.span);
                    if let Some(c) = self.count(e, cx, "the runs per window", 1.0, 100.0) {
                        m.runs_per_window = c as u32;
                    }
                }
                S::SkipWhen(e) => {
                    if let Some(c) = self.skip_when(e, cx) {
                        m.skip_when.push(c);
                    }
                }
                S::Record => {
                    seen.once(self, "record profile", st.span);
                    m.record = true;
                    // Every run is recorded in the profile database, asked or not: say so
                    // rather than let the statement look like a switch.
                    self.diags.push(
                        Diagnostic::warning(
                            Code::Redundant,
                            self.file(),
                            st.span,
                            "`record profile` changes nothing: every run is recorded",
                        )
                        .with_label("redundant")
                        .with_help(
                            "remove it; runs are kept in .res/profile.redb (`res profile list`)",
                        ),
                    );
                }
                S::Predict { at } => {
                    seen.once(self, "predict", st.span);
                    let at = at.as_ref().and_then(|a| {
                        let t = self.expr(a, cx);
                        match t.ty {
                            Ty::Rate | Ty::Timestamp => Some(t),
                            Ty::Unknown => None,
                            _ => {
                                self.mismatch(
                                    &t,
                                    "a load such as `peak(everyday)` or a timestamp",
                                    "",
                                );
                                None
                            }
                        }
                    });
                    m.predict = Some(at);
                }
                S::Remediate(list) => {
                    for r in list {
                        if let Some(i) = self.resolve(cx, r, DeclKind::Remedy) {
                            if m.remediate.contains(&i) {
                                self.diags.push(
                                    Diagnostic::warning(
                                        Code::Duplicate,
                                        self.file(),
                                        r.span,
                                        format!("remedy `{}` is listed twice", r.name),
                                    )
                                    .with_label("again here"),
                                );
                            } else {
                                m.remediate.push(i);
                            }
                        }
                    }
                }
            }
        }
        if !s.stmts.iter().any(|st| matches!(st.kind, S::Step(_))) {
            self.diags.push(
                Diagnostic::error(
                    Code::Missing,
                    self.file(),
                    s.name.span,
                    format!("scenario `{}` has no steps", s.name.name),
                )
                .with_label("nothing to run")
                .with_help("add a step, like `step main = load my_traffic for 5m`"),
            );
        }
        m
    }

    pub(super) fn step_ref(&mut self, id: &ast::Ident, names: &StepNames) -> Option<usize> {
        if let Some(i) = names.index.get(&id.name).copied() {
            return Some(i);
        }
        let mut d = Diagnostic::error(
            Code::UnknownName,
            self.file(),
            id.span,
            format!("unknown step `{}`", id.name),
        )
        .with_label("no step by this name in this scenario");
        d = match suggest(&id.name, names.list.iter().map(String::as_str)) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None if names.list.is_empty() => d.with_help("this scenario declares no steps"),
            None => d.with_help(format!("the steps are {}", names.list.join(", "))),
        };
        self.diags.push(d);
        None
    }

    pub(super) fn step(
        &mut self,
        step: &ast::Step,
        names: &StepNames,
        cx: &Ctx,
        span: Span,
    ) -> Option<StepModel> {
        // The action may fail to resolve; its timing is still checked, so one run reports both.
        let mut kind_of = || -> Option<StepKind> {
            Some(match &step.action {
                ast::StepAction::Load { traffic, at } => {
                    let t = self.resolve(cx, traffic, DeclKind::Traffic);
                    let at = match at {
                        Some(a) => match self.constant(
                            a,
                            Ty::Percent,
                            cx,
                            "the share of the traffic's rate, like `10%` or `150%`",
                        )? {
                            Value::Percent(p) if p.0 > 0.0 && p.0 <= 1000.0 => p.fraction(),
                            Value::Percent(p) => {
                                self.out_of_range(a.span, &format!("a load runs at more than 0% and at most 1000% of its traffic's rate, not {p}"), "");
                                return None;
                            }
                            _ => return None,
                        },
                        None => 1.0,
                    };
                    StepKind::Load { traffic: t?, at }
                }
                ast::StepAction::Inject(f) => StepKind::Inject {
                    fault: self.resolve(cx, f, DeclKind::Fault)?,
                },
                ast::StepAction::Wait(d) => {
                    StepKind::Wait(self.duration(d, cx, "how long to wait")?)
                }
            })
        };
        let kind = kind_of();
        let mut relations = Vec::new();
        let mut duration = None;
        let mut start_span: Option<Span> = None;
        for t in &step.timing {
            let tspan = t.span();
            let starts = !matches!(t, ast::Timing::For { .. });
            if starts {
                if let Some(prev) = start_span {
                    self.conflict(
                        tspan,
                        prev,
                        &format!("step `{}` is given two starts", step.name.name),
                        "a step starts once: use one of `after`, `with`, `during` or `at`",
                    );
                    continue;
                }
                start_span = Some(tspan);
            }
            let kind = match t {
                ast::Timing::After { point, offset, .. }
                | ast::Timing::With { point, offset, .. } => {
                    let target = self.step_ref(&point.step, names);
                    if point.step.name == step.name.name {
                        self.diags.push(
                            Diagnostic::error(
                                Code::Cycle,
                                self.file(),
                                point.step.span,
                                format!("step `{}` cannot be timed from itself", step.name.name),
                            )
                            .with_label("itself"),
                        );
                        continue;
                    }
                    let off = match offset {
                        Some(o) => self.duration(o, cx, "the offset"),
                        None => Some(Duration::ZERO),
                    };
                    let (Some(target), Some(off)) = (target, off) else {
                        continue;
                    };
                    if matches!(t, ast::Timing::After { .. }) {
                        RelationKind::After {
                            step: target,
                            edge: point.edge.unwrap_or(ast::Edge::End),
                            offset: off,
                        }
                    } else {
                        if point.edge == Some(ast::Edge::End) {
                            self.diags.push(
                                Diagnostic::error(
                                    Code::Conflict,
                                    self.file(),
                                    tspan,
                                    "`with X.end` means after X: write `after X`",
                                )
                                .with_label("with the end")
                                .with_help(format!("write `after {}`", point.step.name)),
                            );
                        }
                        RelationKind::With {
                            step: target,
                            offset: off,
                        }
                    }
                }
                ast::Timing::During { step: s, .. } => {
                    if s.name == step.name.name {
                        self.diags.push(
                            Diagnostic::error(
                                Code::Cycle,
                                self.file(),
                                s.span,
                                format!("step `{}` cannot run during itself", s.name),
                            )
                            .with_label("itself"),
                        );
                        continue;
                    }
                    let Some(target) = self.step_ref(s, names) else {
                        continue;
                    };
                    RelationKind::During { step: target }
                }
                ast::Timing::For { duration: d, .. } => {
                    if duration.is_some() {
                        self.diags.push(
                            Diagnostic::error(
                                Code::Conflict,
                                self.file(),
                                tspan,
                                "the step's duration is given twice",
                            )
                            .with_label("second `for`"),
                        );
                    }
                    if let Some(d) = self.duration(d, cx, "the step's duration") {
                        if d.0 == 0.0 {
                            self.out_of_range(tspan, "a step cannot last zero time", "");
                        }
                        duration = Some(d);
                    }
                    continue;
                }
                ast::Timing::At { offset, .. } => {
                    let Some(off) = self.duration(offset, cx, "the start offset") else {
                        continue;
                    };
                    RelationKind::At { offset: off }
                }
            };
            relations.push(Relation { kind, span: tspan });
        }
        if let (Some(StepKind::Wait(_)), Some(_)) = (&kind, duration) {
            self.diags.push(
                Diagnostic::error(
                    Code::Conflict,
                    self.file(),
                    span,
                    "a `wait` step already says how long it lasts",
                )
                .with_label("`for` on a wait")
                .with_help("write `step pause = wait 30s`"),
            );
        }
        Some(StepModel {
            name: step.name.name.clone(),
            kind: kind?,
            relations,
            duration,
            span,
        })
    }

    /// The root module's scenarios: declared there, then imported by name there.
    /// A step that injects a fault `res run` cannot inject (packet `loss`: see
    /// [`Effect::run_refusal`]) is an error at the step, with the reason and what to use.
    pub(super) fn unrunnable_faults(&mut self) {
        let mut found = Vec::new();
        for s in &self.model.scenarios {
            for step in &s.steps {
                let StepKind::Inject { fault } = step.kind else {
                    continue;
                };
                let Some(f) = self.model.faults.get(fault) else {
                    continue;
                };
                if let Some(why) = f.effects.iter().find_map(Effect::run_refusal) {
                    found.push(
                        Diagnostic::error(
                            Code::Conflict,
                            s.origin.file,
                            step.span,
                            format!("`res run` cannot inject fault `{}`", f.name),
                        )
                        .with_label("injected here")
                        .with_help(format!("fault `{}`: {why}", f.name)),
                    );
                }
            }
        }
        self.diags.extend(found);
    }

    pub(super) fn own_scenarios(&mut self) {
        let Some(ns) = self.ns.first() else { return };
        let mut own: Vec<(bool, usize, usize)> = ns
            .values()
            .map(|&b| (&self.bindings[b], &self.decls[self.bindings[b].decl]))
            .filter(|(_, d)| d.kind == DeclKind::Scenario)
            .map(|(b, d)| (b.import, b.span.start, d.index))
            .collect();
        own.sort_unstable();
        self.model.own_scenarios = own.into_iter().map(|(_, _, i)| i).collect();
    }
}
