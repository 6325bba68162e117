//! Remedies: triggers, actions, cooldowns and limits.

use super::*;

impl<'a> Checker<'a> {
    pub(in crate::check) fn remedy(
        &mut self,
        name: &ast::Ident,
        stmts: &[ast::Stmt<ast::RemedyStmt>],
        cx: &Ctx,
        span: Span,
    ) -> RemedyModel {
        use ast::RemedyStmt as R;
        let mut m = RemedyModel {
            name: name.name.clone(),
            triggers: Vec::new(),
            actions: Vec::new(),
            cooldown: Duration::ZERO,
            limit: None,
            mode: None,
            verify_within: None,
            require_approval: false,
            step_per_minute: None,
            origin: Origin {
                file: self.file(),
                span,
            },
        };
        let mut seen = Seen::default();
        let (mut has_when, mut has_do) = (false, false);
        for st in stmts {
            match &st.kind {
                R::When {
                    predicted,
                    cond,
                    at,
                    for_,
                } => {
                    has_when = true;
                    let sustain = for_
                        .as_ref()
                        .and_then(|f| self.duration(f, cx, "how long the condition must hold"))
                        .unwrap_or(Duration::ZERO);
                    let c = self.condition(cond, cx, sustain);
                    let at_t = at.as_ref().and_then(|a| {
                        let t = self.expr(a, cx);
                        match t.ty {
                            Ty::Rate | Ty::Timestamp => Some(t),
                            Ty::Unknown => None,
                            _ => {
                                self.mismatch(
                                    &t,
                                    "a load such as `peak(everyday)` or a timestamp",
                                    "`at` says at which load or time to predict",
                                );
                                None
                            }
                        }
                    });
                    if at.is_some() && !predicted {
                        self.diags.push(
                            Diagnostic::error(
                                Code::Conflict,
                                self.file(),
                                st.span,
                                "`at` only makes sense for a predicted condition",
                            )
                            .with_label("measured now, not at a future load")
                            .with_help("write `when predicted ... at peak(traffic)`"),
                        );
                    }
                    if let Some(c) = c {
                        m.triggers.push(Trigger {
                            predicted: *predicted,
                            cond: c,
                            at: at_t,
                        });
                    }
                }
                R::Do(a) => {
                    has_do = true;
                    if let Some(a) = self.action(a, cx) {
                        m.actions.push(a);
                    }
                }
                R::Cooldown(e) => {
                    seen.once(self, "cooldown", st.span);
                    m.cooldown = self
                        .duration(e, cx, "the cooldown")
                        .unwrap_or(Duration::ZERO);
                }
                R::Limit { count, per } => {
                    seen.once(self, "at most", st.span);
                    let c = self.count(count, cx, "the limit", 1.0, 1e6);
                    let p = self.duration(per, cx, "the limit's period");
                    if let (Some(c), Some(p)) = (c, p) {
                        m.limit = Some((c as u32, p));
                    }
                }
                R::Mode(id) => {
                    seen.once(self, "mode", st.span);
                    m.mode = self.option(
                        id,
                        "remedy mode",
                        &[("act", RemedyMode::Act), ("advise", RemedyMode::Advise)],
                    );
                }
                R::Verify(e) => {
                    seen.once(self, "verify within", st.span);
                    m.verify_within = self.duration(e, cx, "the verification window");
                    if m.verify_within.is_some_and(|d| d.0 <= 0.0) {
                        self.out_of_range(
                            e.span,
                            "the verification window must be longer than zero",
                            "give the remedy time to help, like `verify within 2m`",
                        );
                        m.verify_within = None;
                    }
                }
                R::RequireApproval => {
                    seen.once(self, "require approval", st.span);
                    m.require_approval = true;
                }
                R::StepLimit { count, per } => {
                    seen.once(self, "step at most", st.span);
                    let c = self.count(count, cx, "the step limit", 1.0, 10_000.0);
                    let p = self.duration(per, cx, "the step limit's period");
                    if let (Some(c), Some(p)) = (c, p) {
                        m.step_per_minute = self.per_minute(c, p, per.span);
                    }
                }
            }
        }
        if !has_when {
            self.diags.push(
                Diagnostic::error(Code::Missing, self.file(), name.span, format!("remedy `{}` has no trigger", name.name))
                    .with_label("when does it act?")
                    .with_help("add `when p99(shop.checkout) > 400ms for 1m` or `when predicted ... at peak(traffic)`"),
            );
        }
        if !has_do {
            self.diags.push(
                Diagnostic::error(Code::Missing, self.file(), name.span, format!("remedy `{}` does nothing", name.name))
                    .with_label("no action")
                    .with_help("add `do scale shop.checkout by +2`, `do shift 20% from a to b`, `do failover ...`, `do exec \"...\"` or `do webhook \"...\"`"),
            );
        }
        m
    }

    pub(super) fn action(&mut self, a: &ast::Action, cx: &Ctx) -> Option<ActionModel> {
        Some(match a {
            ast::Action::ScaleBy { target, by } => {
                let (system, service) = self.service_path(target, cx)?;
                self.needs_scaler(target, (system, service));
                let by = match self.constant(
                    by,
                    Ty::Number,
                    cx,
                    "how many instances to add or remove",
                )? {
                    Value::Number(n) if n.fract() == 0.0 && n != 0.0 && n.abs() <= 1000.0 => {
                        n as i64
                    }
                    _ => {
                        self.out_of_range(
                            a_span(by),
                            "scale by a whole number of instances, like +2 or -1",
                            "",
                        );
                        return None;
                    }
                };
                ActionModel::ScaleBy {
                    system,
                    service,
                    by,
                }
            }
            ast::Action::ScaleTo { target, to } => {
                let (system, service) = self.service_path(target, cx)?;
                self.needs_scaler(target, (system, service));
                let n = self.count(to, cx, "the instance count", 0.0, 10_000.0)?;
                self.scale_to_within(to, (system, service), n);
                let to = n;
                ActionModel::ScaleTo {
                    system,
                    service,
                    to,
                }
            }
            ast::Action::Shift { amount, from, to } => {
                let f = self.fraction(amount, cx, "the share of traffic to shift");
                let from_at = from;
                let from = self.service_path(from, cx);
                if let Some(f) = from {
                    self.needs_balancer(from_at, f, "shift traffic");
                }
                let to = self.service_path(to, cx);
                ActionModel::Shift {
                    fraction: f?,
                    from: from?,
                    to: to?,
                }
            }
            ast::Action::Failover { target, to } => {
                let t = self.service_path(target, cx);
                if let Some(t) = t {
                    self.needs_balancer(target, t, "fail over");
                }
                let dest = self.string(to, cx, "where to fail over to");
                let (system, service) = t?;
                ActionModel::Failover {
                    system,
                    service,
                    to: dest?,
                }
            }
            ast::Action::Exec(e) => ActionModel::Exec(self.string(e, cx, "a command line")?),
            ast::Action::Webhook(e) => {
                let url = self.string(e, cx, "a webhook URL")?;
                if let StrValue::Literal { value } = &url {
                    if !(value.starts_with("http://") || value.starts_with("https://")) {
                        self.out_of_range(e.span, &format!("`{value}` is not an http(s) URL"), "");
                    }
                }
                ActionModel::Webhook(url)
            }
        })
    }
}

impl<'a> Checker<'a> {
    /// `step at most N per D` as instances per minute; D must divide a minute's worth evenly.
    fn per_minute(&mut self, n: u64, per: Duration, span: Span) -> Option<u64> {
        let per_ms = per.0;
        let v = n as f64 * 60_000.0 / per_ms;
        if per_ms <= 0.0 || v < 1.0 || v.fract() != 0.0 {
            self.out_of_range(
                span,
                &format!("{n} per {per} is not a whole number of instances per minute"),
                "say it per minute, like `step at most 4 per 1m`",
            );
            return None;
        }
        Some(v as u64)
    }
}
