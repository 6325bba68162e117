//! Fault declarations: targets, effects, matchers, toxicity.

use super::*;

impl<'a> Checker<'a> {
    pub(in crate::check) fn fault(
        &mut self,
        name: &ast::Ident,
        stmts: &[ast::Stmt<ast::FaultStmt>],
        cx: &Ctx,
        span: Span,
    ) -> FaultModel {
        use ast::FaultStmt as F;
        let mut m = FaultModel {
            name: name.name.clone(),
            target: FaultTarget::Placeholder,
            effects: Vec::new(),
            toxicity: 1.0,
            matchers: Vec::new(),
            toxiproxy: None,
            origin: Origin {
                file: self.file(),
                span,
            },
        };
        let mut seen = Seen::default();
        let mut has_target = false;
        let mut effect_spans: Vec<(Span, &'static str)> = Vec::new();
        for st in stmts {
            let before = m.effects.len();
            match &st.kind {
                F::On(t) => {
                    seen.once(self, "on", st.span);
                    has_target = true;
                    m.target = self.fault_target(t, cx).unwrap_or(FaultTarget::Placeholder);
                }
                F::Latency {
                    value,
                    jitter,
                    per_chunk,
                } => {
                    let latency = self.duration(value, cx, "a latency");
                    let jitter = jitter
                        .as_ref()
                        .map_or(Some(Duration::ZERO), |j| self.duration(j, cx, "jitter"));
                    if let (Some(latency), Some(jitter)) = (latency, jitter) {
                        m.effects.push(Effect::Latency {
                            latency,
                            jitter,
                            per_chunk: *per_chunk,
                        });
                    }
                }
                F::Errors { status, rate } => {
                    let t = self.expr(status, cx);
                    let status = match t.constant() {
                        Some(Value::Number(n)) => {
                            let p = if n.fract() == 0.0 && (400.0..600.0).contains(n) {
                                StatusPattern::parse(&trim(*n))
                            } else {
                                None
                            };
                            if p.is_none() {
                                self.out_of_range(
                                    status.span,
                                    &format!("{} is not an HTTP error status", trim(*n)),
                                    "error statuses are 400 to 599, like 503",
                                );
                            }
                            p
                        }
                        Some(Value::Status(StatusPattern::Exact(c))) => {
                            Some(StatusPattern::Exact(*c))
                        }
                        Some(Value::Status(p @ StatusPattern::Class(c))) if (4..=5).contains(c) => {
                            Some(*p)
                        }
                        _ => {
                            self.mismatch(&t, "an HTTP status such as `503`", "");
                            None
                        }
                    };
                    let rate = rate
                        .as_ref()
                        .map_or(Some(1.0), |r| self.fraction(r, cx, "the error rate"));
                    if let (Some(status), Some(rate)) = (status, rate) {
                        m.effects.push(Effect::Errors { status, rate });
                    }
                }
                F::Reset { rate } => {
                    if let Some(rate) = rate
                        .as_ref()
                        .map_or(Some(1.0), |r| self.fraction(r, cx, "the reset rate"))
                    {
                        m.effects.push(Effect::Reset { rate });
                    }
                }
                F::Blackhole { rate } => {
                    if let Some(rate) = rate
                        .as_ref()
                        .map_or(Some(1.0), |r| self.fraction(r, cx, "the blackhole rate"))
                    {
                        m.effects.push(Effect::Blackhole { rate });
                    }
                }
                F::Timeout(e) => {
                    if let Some(d) = self.duration(e, cx, "the timeout") {
                        m.effects.push(Effect::Timeout(d));
                    }
                }
                F::Bandwidth(e) => {
                    if let Some(Value::Bandwidth(b)) =
                        self.constant(e, Ty::Bandwidth, cx, "a bandwidth limit")
                    {
                        if b.0 <= 0.0 {
                            self.out_of_range(
                                e.span,
                                "a bandwidth limit must be above zero",
                                "to stop traffic entirely use `blackhole`",
                            );
                        } else {
                            m.effects.push(Effect::Bandwidth(b));
                        }
                    }
                }
                F::SlowClose(e) => {
                    if let Some(d) = self.duration(e, cx, "the close delay") {
                        m.effects.push(Effect::SlowClose(d));
                    }
                }
                F::Slice { size, delay } => {
                    let s = match self.constant(size, Ty::Size, cx, "a slice size") {
                        Some(Value::Size(s)) if s.0 >= 1.0 => Some(s),
                        Some(_) => {
                            self.out_of_range(size.span, "a slice is at least one byte", "");
                            None
                        }
                        None => None,
                    };
                    let d = delay.as_ref().map_or(Some(Duration::ZERO), |d| {
                        self.duration(d, cx, "the delay between slices")
                    });
                    if let (Some(size), Some(delay)) = (s, d) {
                        m.effects.push(Effect::Slice { size, delay });
                    }
                }
                F::Kill { signal } => {
                    let sig = match signal {
                        Some(s) => self.option(
                            s,
                            "signal",
                            &[
                                ("KILL", Signal::Kill),
                                ("TERM", Signal::Term),
                                ("INT", Signal::Int),
                                ("HUP", Signal::Hup),
                            ],
                        ),
                        None => Some(Signal::Kill),
                    };
                    if let Some(signal) = sig {
                        m.effects.push(Effect::Kill { signal });
                    }
                }
                F::Pause { duration } => {
                    let d = duration.as_ref().map(|d| self.duration(d, cx, "the pause"));
                    if d != Some(None) {
                        m.effects.push(Effect::Pause {
                            duration: d.flatten(),
                        });
                    }
                }
                F::Restart { command } => {
                    let c = command
                        .as_ref()
                        .map(|c| self.string(c, cx, "the restart command"));
                    if c != Some(None) {
                        m.effects.push(Effect::Restart {
                            command: c.flatten(),
                        });
                    }
                }
                F::Cpu { cores, load } => {
                    let c = match self.constant(cores, Ty::Number, cx, "a number of cores") {
                        Some(Value::Number(n)) if n > 0.0 && n <= 1024.0 => Some(n),
                        Some(Value::Number(n)) => {
                            self.out_of_range(
                                cores.span,
                                &format!("{} cores is not a sensible CPU burn", trim(n)),
                                "burn between 1 and the machine's cores",
                            );
                            None
                        }
                        _ => None,
                    };
                    let l = load
                        .as_ref()
                        .map_or(Some(1.0), |l| self.fraction(l, cx, "the CPU load"));
                    if let (Some(cores), Some(load)) = (c, l) {
                        m.effects.push(Effect::Cpu { cores, load });
                    }
                }
                F::Memory(e) => {
                    if let Some(Value::Size(s)) =
                        self.constant(e, Ty::Size, cx, "an amount of memory")
                    {
                        m.effects.push(Effect::Memory(s));
                    }
                }
                F::Disk { size, path } => {
                    let s = self.constant(size, Ty::Size, cx, "an amount of disk");
                    let p = path
                        .as_ref()
                        .map(|p| self.string(p, cx, "the folder to fill"));
                    if let (Some(Value::Size(size)), false) = (s, p == Some(None)) {
                        m.effects.push(Effect::Disk {
                            size,
                            path: p.flatten(),
                        });
                    }
                }
                F::Fds(e) => {
                    if let Some(n) =
                        self.count(e, cx, "the number of file descriptors", 1.0, 10_000_000.0)
                    {
                        m.effects.push(Effect::Fds(n));
                    }
                }
                F::Loss(e) => {
                    if let Some(f) = self.fraction(e, cx, "packet loss") {
                        m.effects.push(Effect::Loss(f));
                    }
                }
                F::Toxicity(e) => {
                    seen.once(self, "toxicity", st.span);
                    if let Some(f) = self.fraction(e, cx, "toxicity") {
                        m.toxicity = f;
                    }
                }
                F::Match(conds) => {
                    for c in conds {
                        match c {
                            ast::MatchCond::Method(mm) => {
                                m.matchers.push(Matcher::Method(mm.name.clone()))
                            }
                            ast::MatchCond::Path(p) => {
                                if !p.value.starts_with('/') {
                                    self.out_of_range(
                                        p.span,
                                        &format!("\"{}\" is not a path", p.value),
                                        "paths start with `/`",
                                    );
                                }
                                m.matchers.push(Matcher::Path(p.value.clone()));
                            }
                            ast::MatchCond::Header { name, value } => {
                                let v =
                                    value.as_ref().map(|v| self.string(v, cx, "a header value"));
                                m.matchers.push(Matcher::Header {
                                    name: name.value.clone(),
                                    value: v.flatten(),
                                });
                            }
                        }
                    }
                }
                F::Toxiproxy { url, proxy } => {
                    seen.once(self, "via toxiproxy", st.span);
                    let u = self.string(url, cx, "the Toxiproxy API URL");
                    let p = proxy
                        .as_ref()
                        .and_then(|p| self.string(p, cx, "the Toxiproxy proxy name"));
                    if let Some(u) = u {
                        m.toxiproxy = Some((u, p));
                    }
                }
            }
            if m.effects.len() > before {
                effect_spans.push((st.span, m.effects.last().map_or("", Effect::kind)));
            }
        }
        if !has_target {
            self.diags.push(
                Diagnostic::error(
                    Code::Missing,
                    self.file(),
                    name.span,
                    format!("fault `{}` has no target", name.name),
                )
                .with_label("aimed at what?")
                .with_help("add `on shop.payments` or `on stressed(shop, top 1)`"),
            );
        }
        if m.effects.is_empty() && !stmts.iter().any(|s| is_effect(&s.kind)) {
            self.diags.push(
                Diagnostic::error(Code::Missing, self.file(), name.span, format!("fault `{}` does nothing", name.name))
                    .with_label("no effect")
                    .with_help("add an effect such as `latency 200ms`, `errors 503 at 5%`, `reset`, `kill` or `cpu 2 cores`"),
            );
        }
        let process = effect_spans
            .iter()
            .filter(|(_, k)| matches!(*k, "kill" | "pause" | "restart"))
            .count();
        if process > 1 {
            let spans: Vec<Span> = effect_spans
                .iter()
                .filter(|(_, k)| matches!(*k, "kill" | "pause" | "restart"))
                .map(|(s, _)| *s)
                .collect();
            self.conflict(
                spans[1],
                spans[0],
                &format!("fault `{}` does two things to a process", name.name),
                "a fault does one thing to a process: kill, pause or restart — declare separate faults",
            );
        }
        if m.toxiproxy.is_some() {
            if let Some((s, k)) = effect_spans.iter().find(|(_, k)| {
                matches!(
                    *k,
                    "kill" | "pause" | "restart" | "cpu" | "memory" | "disk" | "fds" | "loss"
                )
            }) {
                self.diags.push(
                    Diagnostic::error(Code::Conflict, self.file(), *s, format!("Toxiproxy cannot inject `{k}`"))
                        .with_label("not a network toxic")
                        .with_help("Toxiproxy injects latency, bandwidth, timeouts, resets, slow close and slicing"),
                );
            }
        }
        m
    }

    pub(super) fn fault_target(&mut self, t: &ast::Target, cx: &Ctx) -> Option<FaultTarget> {
        match t {
            ast::Target::Fixed(p) => {
                let e = ast::Expr {
                    kind: ast::ExprKind::Path(p.clone()),
                    span: p.span,
                };
                let te = self.expr(&e, cx);
                match te.kind {
                    TKind::Ref(RefTarget::Service(system, service)) => {
                        Some(FaultTarget::Service { system, service })
                    }
                    TKind::Ref(RefTarget::Placeholder) if te.ty == Ty::Service => {
                        Some(FaultTarget::Placeholder)
                    }
                    TKind::Ref(RefTarget::System(_)) => {
                        self.diags.push(
                            Diagnostic::error(Code::WrongKind, self.file(), p.span, format!("a fault targets a service, and `{}` is a system", p.text()))
                                .with_label("a whole system")
                                .with_help(format!("name a service, like `{}.SERVICE`, or let the load choose with `on stressed({}, top 1)`", p.text(), p.text())),
                        );
                        None
                    }
                    TKind::Error => None,
                    _ => {
                        self.mismatch(&te, "a service such as `shop.payments`", "");
                        None
                    }
                }
            }
            ast::Target::Stressed {
                system, top, by, ..
            } => {
                let sys = self.resolve(cx, system, DeclKind::System)?;
                let top = top
                    .as_ref()
                    .map_or(Some(1), |t| self.count(t, cx, "top", 1.0, 1000.0))
                    .unwrap_or(1) as u32;
                let by = by
                    .as_ref()
                    .and_then(|b| {
                        self.option(
                            b,
                            "stress metric",
                            &[
                                ("latency", StressMetric::Latency),
                                ("errors", StressMetric::Errors),
                                ("saturation", StressMetric::Saturation),
                            ],
                        )
                    })
                    .unwrap_or(StressMetric::Any);
                if let Some(s) = self.model.systems.get(sys) {
                    if top as usize > s.services.len() && !s.services.is_empty() {
                        self.out_of_range(
                            t_span(t),
                            &format!(
                                "system `{}` has {} services, fewer than top {top}",
                                s.name,
                                s.services.len()
                            ),
                            "",
                        );
                    }
                }
                Some(FaultTarget::Stressed {
                    system: sys,
                    top,
                    by,
                })
            }
        }
    }
}
