//! Traffic declarations: rates, arrivals, stages, mixes, sessions, learned and forecast traffic.

use super::*;

impl<'a> Checker<'a> {
    pub(in crate::check) fn traffic(
        &mut self,
        name: &ast::Ident,
        stmts: &[ast::Stmt<ast::TrafficStmt>],
        cx: &Ctx,
        span: Span,
    ) -> TrafficModel {
        use ast::TrafficStmt as T;
        let mut m = empty_traffic(
            &name.name,
            Origin {
                file: self.file(),
                span,
            },
        );
        let mut seen = Seen::default();
        let mut rate_span = None;
        let mut ramp_spans = Vec::new();
        let mut users_span = None;
        let mut forecast_span = None;
        // `rate` first: ramps and holds may name it.
        let mut cx2 = cx.clone();
        for st in stmts {
            if let T::Rate(e) = &st.kind {
                seen.once(self, "rate", st.span);
                rate_span = Some(st.span);
                if let Some(t) = self.expect(
                    e,
                    Ty::Rate,
                    cx,
                    "`rate` is requests per second, like `500/s`",
                ) {
                    if let Some(Value::Rate(r)) = t.constant() {
                        if r.0 < 0.0 {
                            self.out_of_range(e.span, "a rate cannot be negative", "");
                        }
                    }
                    m.rate = Some(t.clone());
                    cx2.locals.push(("rate".into(), t));
                } else {
                    // The rate is wrong and already reported: later `rate`s still name it,
                    // as an error that reports nothing more (no "unknown name `rate`").
                    cx2.locals
                        .push(("rate".into(), placeholder(Ty::Unknown, e.span)));
                }
            }
        }
        for st in stmts {
            match &st.kind {
                T::Rate(_) => {}
                T::Learn { path, format } => {
                    seen.once(self, "learn", st.span);
                    let format = match format {
                        Some(f) => self.option(
                            f,
                            "log format",
                            &[
                                ("combined", LogFormat::Combined),
                                ("common", LogFormat::Common),
                                ("nginx_json", LogFormat::NginxJson),
                                ("alb", LogFormat::Alb),
                            ],
                        ),
                        None => Some(LogFormat::Combined),
                    };
                    m.learn = Some(LearnModel {
                        path: path.value.clone(),
                        format: format.unwrap_or(LogFormat::Combined),
                    });
                }
                T::Forecast {
                    horizon,
                    quantile,
                    method,
                } => {
                    seen.once(self, "forecast", st.span);
                    forecast_span = Some(st.span);
                    let horizon = self
                        .duration(horizon, &cx2, "the forecast horizon")
                        .unwrap_or(Duration::ZERO);
                    if horizon.0 > 0.0 && horizon.0 < 3_600_000.0 {
                        self.out_of_range(
                            st.span,
                            "a forecast horizon under one hour says nothing about a peak",
                            "forecasts are hourly; use at least `1d`, typically `7d`",
                        );
                    }
                    let q = match quantile {
                        Some(q) => {
                            match self.constant(q, Ty::Number, &cx2, "a quantile such as `0.95`") {
                                Some(Value::Number(v)) if v > 0.0 && v < 1.0 => v,
                                Some(Value::Number(v)) => {
                                    self.out_of_range(
                                        q.span,
                                        &format!("a quantile is between 0 and 1, not {}", trim(v)),
                                        "`quantile 0.95` plans for the upper 95% bound",
                                    );
                                    0.95
                                }
                                _ => 0.95,
                            }
                        }
                        None => 0.95,
                    };
                    let method = method
                        .as_ref()
                        .and_then(|mm| {
                            self.option(
                                mm,
                                "forecast method",
                                &[
                                    ("auto", ForecastMethod::Auto),
                                    ("seasonal_naive", ForecastMethod::SeasonalNaive),
                                    ("seasonal_mean", ForecastMethod::SeasonalMean),
                                    ("holt_winters", ForecastMethod::HoltWinters),
                                    ("double_seasonal", ForecastMethod::DoubleSeasonal),
                                ],
                            )
                        })
                        .unwrap_or(ForecastMethod::Auto);
                    m.forecast = Some(ForecastModel {
                        horizon,
                        quantile: q,
                        method,
                    });
                }
                T::Like(other) => {
                    seen.once(self, "like", st.span);
                    if other.name == name.name {
                        self.diags.push(
                            Diagnostic::error(
                                Code::Conflict,
                                self.file(),
                                other.span,
                                "a traffic cannot be like itself",
                            )
                            .with_label("itself"),
                        );
                    } else {
                        m.like = self.resolve(&cx2, other, DeclKind::Traffic);
                    }
                }
                T::Against(sys) => {
                    seen.once(self, "against", st.span);
                    m.system = self.resolve(&cx2, sys, DeclKind::System);
                }
                T::Arrival(a) => {
                    seen.once(self, "arrival", st.span);
                    if let Some(v) = self.option(
                        a,
                        "arrival process",
                        &[
                            ("poisson", Arrival::Poisson),
                            ("constant", Arrival::Constant),
                            ("uniform", Arrival::Uniform),
                        ],
                    ) {
                        m.arrival = v;
                    }
                }
                T::Ramp { from, to, over } => {
                    ramp_spans.push(st.span);
                    let from = from.as_ref().and_then(|f| {
                        self.expect(f, Ty::Rate, &cx2, "a ramp runs from one rate to another")
                    });
                    let to =
                        self.expect(to, Ty::Rate, &cx2, "a ramp runs from one rate to another");
                    let over = self.duration(over, &cx2, "the ramp's length");
                    if let (Some(to), Some(over)) = (to, over) {
                        m.stages.push(Stage::Ramp { from, to, over });
                    }
                }
                T::Hold { duration, at } => {
                    ramp_spans.push(st.span);
                    let d = self.duration(duration, &cx2, "how long to hold");
                    let at = at.as_ref().and_then(|a| {
                        self.expect(a, Ty::Rate, &cx2, "`hold 5m at 500/s` holds a rate")
                    });
                    if let Some(d) = d {
                        m.stages.push(Stage::Hold { duration: d, at });
                    }
                }
                T::Mix(entries) => {
                    seen.once(self, "mix", st.span);
                    let mut total = 0.0;
                    for e in entries {
                        let target = self.service_path(&e.target, &cx2);
                        let share = self.fraction(&e.share, &cx2, "a mix share");
                        if let (Some((sys, svc)), Some(share)) = (target, share) {
                            if m.mix.iter().any(|x| x.system == sys && x.service == svc) {
                                self.diags.push(
                                    Diagnostic::error(
                                        Code::Duplicate,
                                        self.file(),
                                        e.target.span,
                                        format!("`{}` appears twice in the mix", e.target.text()),
                                    )
                                    .with_label("again here"),
                                );
                            }
                            total += share;
                            m.mix.push(MixModel {
                                system: sys,
                                service: svc,
                                share,
                            });
                        }
                    }
                    if m.mix.len() == entries.len() && (total - 1.0).abs() > 1e-6 {
                        self.diags.push(
                            Diagnostic::error(
                                Code::OutOfRange,
                                self.file(),
                                st.span,
                                format!("the mix adds up to {}, not 100%", Percent(total * 100.0)),
                            )
                            .with_label("shares must add up to 100%")
                            .with_help("adjust the shares so that they add up to 100%"),
                        );
                    }
                }
                T::Session(s) => {
                    let sm = self.session(s, &cx2);
                    if m.sessions.iter().any(|x| x.name == sm.name) {
                        self.diags.push(
                            Diagnostic::error(
                                Code::Duplicate,
                                self.file(),
                                s.name.span,
                                format!("session `{}` is declared twice", s.name.name),
                            )
                            .with_label("again here"),
                        );
                    }
                    m.sessions.push(sm);
                }
                T::Users { count, think } => {
                    seen.once(self, "users", st.span);
                    users_span = Some(st.span);
                    let c = self
                        .count(count, &cx2, "the number of users", 1.0, 1_000_000.0)
                        .unwrap_or(1) as u32;
                    let think = think.as_ref().and_then(|t| self.think(t, &cx2));
                    m.users = Some(UsersModel { count: c, think });
                }
                T::Scale(e) => {
                    seen.once(self, "scale", st.span);
                    if let Some(Value::Multiplier(x)) = self.constant(
                        e,
                        Ty::Multiplier,
                        &cx2,
                        "`scale` multiplies the traffic, like `2x`",
                    ) {
                        if x.0 <= 0.0 {
                            self.out_of_range(e.span, "a scale must be above 0x", "");
                        }
                        m.scale = x;
                    }
                }
            }
        }
        if let Some(u) = users_span {
            if let Some(r) = rate_span.or(ramp_spans.iter().copied().find(|s| {
                stmts
                    .iter()
                    .any(|st| st.span == *s && matches!(st.kind, T::Ramp { .. }))
            })) {
                self.diags.push(
                    Diagnostic::error(Code::Conflict, self.file(), u, "`users` (a closed model) cannot be combined with `rate` or `ramp` (an open model)")
                        .with_label("closed model")
                        .with_secondary(r, "open model")
                        .with_help("either a fixed number of users with think time, or an arrival rate — pick one"),
                );
            }
        }
        if let Some(f) = forecast_span {
            if m.learn.is_none() && m.like.is_none() {
                self.diags.push(
                    Diagnostic::error(
                        Code::Missing,
                        self.file(),
                        f,
                        "a forecast needs learned traffic",
                    )
                    .with_label("forecast of what?")
                    .with_help("add `learn from \"access.log\"`, or `like` a traffic that learns"),
                );
            }
        }
        // Judge by the statements written, not by what survived checking: a `rate` with a
        // unit error must not also read as "sends nothing".
        let sends = stmts.iter().any(|st| {
            matches!(
                st.kind,
                T::Learn { .. }
                    | T::Like(_)
                    | T::Rate(_)
                    | T::Users { .. }
                    | T::Ramp { .. }
                    | T::Hold { at: Some(_), .. }
            )
        });
        if !sends {
            self.diags.push(
                Diagnostic::error(Code::Missing, self.file(), name.span, format!("traffic `{}` sends nothing", name.name))
                    .with_label("no rate, users or learned model")
                    .with_help("add `rate 100/s`, `users 20`, `ramp 0/s -> 100/s over 1m` or `learn from \"access.log\"`"),
            );
        }
        if m.system.is_none() {
            m.system = m.mix.first().map(|x| x.system).or_else(|| {
                m.sessions
                    .iter()
                    .flat_map(|s| &s.visits)
                    .next()
                    .map(|v| v.system)
            });
        }
        let has_against = stmts.iter().any(|st| matches!(st.kind, T::Against(_)));
        if m.system.is_none() && m.like.is_none() && !has_against {
            let systems: Vec<usize> = self.ns[self.cur]
                .values()
                .map(|&b| self.bindings[b].decl)
                .filter(|&d| self.decls[d].kind == DeclKind::System)
                .collect();
            match systems.as_slice() {
                [only] => {
                    m.system = Some(self.decls[*only].index);
                    let name = self.decls[*only].name.clone();
                    self.lookup_quiet(&Ctx::default(), &name);
                }
                [] if self.cur == 0 => self.diags.push(
                    Diagnostic::error(
                        Code::Missing,
                        self.file(),
                        name.span,
                        format!("traffic `{}` has no system to send to", name.name),
                    )
                    .with_label("sent where?")
                    .with_help("declare a `system`, or import one"),
                ),
                [] => {}
                _ => self.diags.push(
                    Diagnostic::error(
                        Code::Missing,
                        self.file(),
                        name.span,
                        format!("traffic `{}` could go to several systems", name.name),
                    )
                    .with_label("which system?")
                    .with_help("say which with `against SYSTEM`, or give a `mix`"),
                ),
            }
        }
        m
    }

    pub(super) fn think(&mut self, t: &ast::Think, cx: &Ctx) -> Option<(Duration, Duration)> {
        let min = self.duration(&t.min, cx, "think time")?;
        let max = match &t.max {
            Some(e) => self.duration(e, cx, "think time")?,
            None => min,
        };
        if max.0 < min.0 {
            self.out_of_range(
                t.min.span.to(t.max.as_ref().map_or(t.min.span, |e| e.span)),
                "the think-time range runs backwards",
                "write the shorter time first, like `1s..3s`",
            );
            return None;
        }
        Some((min, max))
    }

    pub(super) fn session(&mut self, s: &ast::Session, cx: &Ctx) -> SessionModel {
        let weight = s
            .weight
            .as_ref()
            .and_then(|w| self.fraction(w, cx, "a session weight"))
            .unwrap_or(1.0);
        let visits = s
            .visits
            .iter()
            .filter_map(|v| {
                let (system, service) = self.service_path(&v.kind.target, cx)?;
                let think = v.kind.think.as_ref().and_then(|t| self.think(t, cx));
                let repeat = v
                    .kind
                    .repeat
                    .as_ref()
                    .and_then(|r| self.count(r, cx, "repeat", 1.0, 10_000.0))
                    .unwrap_or(1) as u32;
                Some(VisitModel {
                    system,
                    service,
                    think,
                    repeat,
                })
            })
            .collect::<Vec<_>>();
        if s.visits.is_empty() {
            self.diags.push(
                Diagnostic::error(
                    Code::Missing,
                    self.file(),
                    s.name.span,
                    format!("session `{}` visits nothing", s.name.name),
                )
                .with_label("empty session")
                .with_help("add `visit shop.catalog think 2s`"),
            );
        }
        SessionModel {
            name: s.name.name.clone(),
            weight,
            visits,
        }
    }

    /// Resolves `system.service`, returning indices.
    pub(in crate::check) fn service_path(
        &mut self,
        p: &ast::Path,
        cx: &Ctx,
    ) -> Option<(usize, usize)> {
        let e = ast::Expr {
            kind: ast::ExprKind::Path(p.clone()),
            span: p.span,
        };
        let t = self.expr(&e, cx);
        match t.kind {
            TKind::Ref(RefTarget::Service(a, b)) => Some((a, b)),
            TKind::Error => None,
            TKind::Ref(RefTarget::Placeholder) if t.ty == Ty::Service => None,
            _ => {
                self.mismatch(
                    &t,
                    "a service such as `shop.checkout`",
                    "name a service as system.service",
                );
                None
            }
        }
    }
}
