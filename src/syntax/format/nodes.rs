//! Node builders: each declaration and statement of the tree becomes a layout node.

use super::*;

impl<'a> Formatter<'a> {
    pub(super) fn leaf(&self, span: Span, pieces: Vec<Piece>) -> Node {
        Node {
            span: self.trim(span),
            kind: NodeKind::Leaf(pieces),
        }
    }

    pub(super) fn line(&self, span: Span, text: String) -> Node {
        self.leaf(span, vec![Piece::Text(text)])
    }

    /// A `header { children }` block; `header_end` is where the search for `{` starts.
    pub(super) fn block(
        &self,
        span: Span,
        header: Vec<Piece>,
        header_end: usize,
        children: Vec<Node>,
    ) -> Node {
        let span = self.trim(span);
        let open = self.open_brace(header_end);
        let close = span.end.saturating_sub(1).max(open);
        debug_assert_eq!(self.src.as_bytes().get(close), Some(&b'}'));
        Node {
            span,
            kind: NodeKind::Block {
                header,
                open,
                close,
                children,
            },
        }
    }

    pub(super) fn item(&self, item: &Item) -> Node {
        match item {
            Item::Import(x) => {
                let names = x
                    .names
                    .iter()
                    .map(|n| {
                        let mut s = n.name.name.clone();
                        if let Some(a) = &n.alias {
                            s.push_str(" as ");
                            s.push_str(&a.name);
                        }
                        vec![Piece::Text(s)]
                    })
                    .collect();
                let p = Pieces::default()
                    .text(format!("import {} ", self.str(&x.path)))
                    .list("{", "}", true, names);
                self.leaf(x.span, p.done())
            }
            Item::Param(x) => {
                let mut s = format!("param {}", x.name.name);
                if let Some(t) = &x.ty {
                    s.push_str(&format!(": {}", t.name));
                }
                s.push_str(&format!(" = {}", self.expr(&x.value)));
                self.line(x.span, s)
            }
            Item::Data(x) => {
                let mut s = format!("data {} from {}", x.name.name, self.str(&x.path));
                if let Some(f) = &x.format {
                    s.push_str(&format!(" format {}", f.name));
                }
                if let Some(o) = &x.order {
                    s.push_str(&format!(" order {}", o.name));
                }
                self.line(x.span, s)
            }
            Item::System(x) => {
                let children = x.stmts.iter().map(|s| self.system_stmt(s)).collect();
                self.block(
                    x.span,
                    text(format!("system {}", x.name.name)),
                    x.name.span.end,
                    children,
                )
            }
            Item::Traffic(x) => self.body2(x.span, "traffic", &x.name, &x.body, |f, s| {
                f.traffic_stmt(s)
            }),
            Item::Fault(x) => self.body2(x.span, "fault", &x.name, &x.body, |f, s| f.fault_stmt(s)),
            Item::Slo(x) => self.body2(x.span, "slo", &x.name, &x.body, |f, s| f.objective(s)),
            Item::Remedy(x) => {
                self.body2(x.span, "remedy", &x.name, &x.body, |f, s| f.remedy_stmt(s))
            }
            Item::Window(x) => {
                let children = x.stmts.iter().map(|s| self.window_stmt(s)).collect();
                self.block(
                    x.span,
                    text(format!("window {}", x.name.name)),
                    x.name.span.end,
                    children,
                )
            }
            Item::Event(x) => {
                let children = x
                    .stmts
                    .iter()
                    .map(|s| {
                        let t = match &s.kind {
                            EventStmt::At(e) => format!("at {}", self.expr(e)),
                            EventStmt::Lasts(e) => format!("lasts {}", self.expr(e)),
                            EventStmt::Expect(e) => format!("expect {}", self.expr(e)),
                        };
                        self.line(s.span, t)
                    })
                    .collect();
                self.block(
                    x.span,
                    text(format!("event {}", x.name.name)),
                    x.name.span.end,
                    children,
                )
            }
            Item::Abort(x) => self.line(x.span, self.abort(x)),
            Item::Scenario(x) => {
                let children = x.stmts.iter().map(|s| self.scenario_stmt(s)).collect();
                self.block(
                    x.span,
                    text(format!("scenario {}", x.name.name)),
                    x.name.span.end,
                    children,
                )
            }
            Item::Template(x) => {
                let params = x
                    .params
                    .iter()
                    .map(|p| {
                        let mut s = format!("{}: {}", p.name.name, p.ty.name);
                        if let Some(d) = &p.default {
                            s.push_str(&format!(" = {}", self.expr(d)));
                        }
                        vec![Piece::Text(s)]
                    })
                    .collect();
                let header = Pieces::default()
                    .text(format!("template {} {}", x.body.kind(), x.name.name))
                    .list("(", ")", false, params)
                    .done();
                let after = x
                    .params
                    .last()
                    .map_or(x.name.span.end, |p| self.trim(p.span).end);
                let children = match &x.body {
                    TemplateBody::Fault(v) => v.iter().map(|s| self.fault_stmt(s)).collect(),
                    TemplateBody::Traffic(v) => v.iter().map(|s| self.traffic_stmt(s)).collect(),
                    TemplateBody::Slo(v) => v.iter().map(|s| self.objective(s)).collect(),
                    TemplateBody::Remedy(v) => v.iter().map(|s| self.remedy_stmt(s)).collect(),
                };
                self.block(x.span, header, after, children)
            }
        }
    }

    /// `kw name { stmts }` or `kw name = template(args)`.
    pub(super) fn body2<K>(
        &self,
        span: Span,
        kw: &str,
        name: &Ident,
        body: &Body2<K>,
        stmt: impl Fn(&Self, &Stmt<K>) -> Node,
    ) -> Node {
        match body {
            Body2::Block(stmts) => {
                let children = stmts.iter().map(|s| stmt(self, s)).collect();
                self.block(
                    span,
                    text(format!("{kw} {}", name.name)),
                    name.span.end,
                    children,
                )
            }
            Body2::Template(call) => {
                let p = Pieces::default()
                    .text(format!("{kw} {} = ", name.name))
                    .extend(self.call_pieces(call));
                self.leaf(span, p.done())
            }
        }
    }

    pub(super) fn system_stmt(&self, s: &Stmt<SystemStmt>) -> Node {
        let t = match &s.kind {
            SystemStmt::Builtin(i) => format!("builtin {}", i.name),
            SystemStmt::Base(e) => format!("base {}", self.expr(e)),
            SystemStmt::Header(h) => self.header(h),
            SystemStmt::Timeout(e) => format!("timeout {}", self.expr(e)),
            SystemStmt::Protocol(i) => format!("protocol {}", i.name),
            SystemStmt::MetricsPrometheus(e) => format!("metrics prometheus {}", self.expr(e)),
            SystemStmt::Query(q) => self.query(q),
            SystemStmt::Service(sv) => {
                let children = sv.stmts.iter().map(|c| self.service_stmt(c)).collect();
                return self.block(
                    s.span,
                    text(format!("service {}", sv.name.name)),
                    sv.name.span.end,
                    children,
                );
            }
        };
        self.line(s.span, t)
    }

    pub(super) fn header(&self, h: &Header) -> String {
        format!("header {} = {}", self.str(&h.name), self.expr(&h.value))
    }

    fn query(&self, q: &Query) -> String {
        format!("query {} {}", q.quantity.name, self.expr(&q.promql))
    }

    pub(super) fn service_stmt(&self, s: &Stmt<ServiceStmt>) -> Node {
        let t = match &s.kind {
            ServiceStmt::Route(r) => {
                let mut p = Pieces::default().text(format!(
                    "route {} {}",
                    r.method.name,
                    self.str(&r.path)
                ));
                match &r.body {
                    Some(Body::Json(j)) => p = p.text(" body json ").extend(self.json(j)),
                    Some(Body::Size(e)) => p = p.text(format!(" body size {}", self.expr(e))),
                    Some(Body::Raw(st)) => p = p.text(format!(" body {}", self.str(st))),
                    None => {}
                }
                if !r.expect_status.is_empty() {
                    let st: Vec<&str> = r.expect_status.iter().map(|(t, _)| t.as_str()).collect();
                    p = p.text(format!(" expect status {}", st.join(", ")));
                }
                if let Some(w) = &r.weight {
                    p = p.text(format!(" weight {}", self.expr(w)));
                }
                return self.leaf(s.span, p.done());
            }
            ServiceStmt::DependsOn(v) => format!("depends on {}", names(v)),
            ServiceStmt::Upstream(e) => format!("upstream {}", self.expr(e)),
            ServiceStmt::Process(ProcessRef::Pidfile(e)) => {
                format!("process pidfile {}", self.expr(e))
            }
            ServiceStmt::Process(ProcessRef::Name(e)) => format!("process name {}", self.expr(e)),
            ServiceStmt::Process(ProcessRef::Command(e)) => {
                format!("process command {}", self.expr(e))
            }
            ServiceStmt::Header(h) => self.header(h),
            ServiceStmt::Timeout(e) => format!("timeout {}", self.expr(e)),
            ServiceStmt::Capacity(e) => format!("capacity {}", self.expr(e)),
            ServiceStmt::ScaleVia { via, within } => {
                let mut t = match via {
                    ScaleVia::Admin => String::from("scale via admin"),
                    ScaleVia::Exec { set, read } => {
                        format!("scale via exec {} read {}", self.expr(set), self.expr(read))
                    }
                };
                if let Some((lo, hi)) = within {
                    t.push_str(&format!(" within {}..{}", self.expr(lo), self.expr(hi)));
                }
                t
            }
            ServiceStmt::BalanceHaproxy { socket, backend } => format!(
                "balance via haproxy {} backend {}",
                self.expr(socket),
                self.expr(backend)
            ),
            ServiceStmt::BalanceProxy { admin } => {
                format!("balance via proxy {}", self.expr(admin))
            }
            ServiceStmt::Query(q) => self.query(q),
        };
        self.line(s.span, t)
    }

    pub(super) fn json(&self, j: &Json) -> Vec<Piece> {
        match &j.kind {
            JsonKind::Object(pairs) => {
                let items = pairs
                    .iter()
                    .map(|(k, v)| {
                        Pieces::default()
                            .text(format!("{}: ", self.str(k)))
                            .extend(self.json(v))
                            .done()
                    })
                    .collect();
                Pieces::default().list("{", "}", true, items).done()
            }
            JsonKind::Array(vals) => {
                let items = vals.iter().map(|v| self.json(v)).collect();
                Pieces::default().list("[", "]", false, items).done()
            }
            JsonKind::String(_) | JsonKind::Number(_) => text(self.slice(j.span)),
            JsonKind::Bool(b) => text(b.to_string()),
            JsonKind::Null => text("null"),
        }
    }

    pub(super) fn traffic_stmt(&self, s: &Stmt<TrafficStmt>) -> Node {
        let t = match &s.kind {
            TrafficStmt::Learn { path, format } => {
                let mut t = format!("learn from {}", self.str(path));
                if let Some(f) = format {
                    t.push_str(&format!(" format {}", f.name));
                }
                t
            }
            TrafficStmt::Forecast {
                horizon,
                quantile,
                method,
            } => {
                let mut t = format!("forecast peak over {}", self.expr(horizon));
                if let Some(q) = quantile {
                    t.push_str(&format!(" quantile {}", self.expr(q)));
                }
                if let Some(m) = method {
                    t.push_str(&format!(" method {}", m.name));
                }
                t
            }
            TrafficStmt::Like(i) => format!("like {}", i.name),
            TrafficStmt::Against(i) => format!("against {}", i.name),
            TrafficStmt::Rate(e) => format!("rate {}", self.expr(e)),
            TrafficStmt::Arrival(i) => format!("arrival {}", i.name),
            TrafficStmt::Ramp { from, to, over } => match from {
                Some(f) => format!(
                    "ramp {} -> {} over {}",
                    self.expr(f),
                    self.expr(to),
                    self.expr(over)
                ),
                None => format!("ramp {} over {}", self.expr(to), self.expr(over)),
            },
            TrafficStmt::Hold { duration, at } => {
                let mut t = format!("hold {}", self.expr(duration));
                if let Some(a) = at {
                    t.push_str(&format!(" at {}", self.expr(a)));
                }
                t
            }
            TrafficStmt::Mix(entries) => {
                let items = entries
                    .iter()
                    .map(|m| text(format!("{}: {}", m.target.text(), self.expr(&m.share))))
                    .collect();
                return self.leaf(
                    s.span,
                    Pieces::default()
                        .text("mix ")
                        .list("{", "}", true, items)
                        .done(),
                );
            }
            TrafficStmt::Session(sess) => {
                let mut h = format!("session {}", sess.name.name);
                let mut after = sess.name.span.end;
                if let Some(w) = &sess.weight {
                    h.push_str(&format!(" weight {}", self.expr(w)));
                    after = w.span.end;
                }
                let children = sess.visits.iter().map(|v| self.visit(v)).collect();
                return self.block(s.span, text(h), after, children);
            }
            TrafficStmt::Users { count, think } => {
                let mut t = format!("users {}", self.expr(count));
                if let Some(th) = think {
                    t.push_str(&format!(" {}", self.think(th)));
                }
                t
            }
            TrafficStmt::Scale(e) => format!("scale {}", self.expr(e)),
        };
        self.line(s.span, t)
    }

    pub(super) fn visit(&self, v: &Stmt<Visit>) -> Node {
        let mut t = format!("visit {}", v.kind.target.text());
        if let Some(th) = &v.kind.think {
            t.push_str(&format!(" {}", self.think(th)));
        }
        if let Some(r) = &v.kind.repeat {
            t.push_str(&format!(" repeat {}", self.expr(r)));
        }
        self.line(v.span, t)
    }

    pub(super) fn think(&self, t: &Think) -> String {
        match &t.max {
            Some(max) => format!("think {}..{}", self.expr(&t.min), self.expr(max)),
            None => format!("think {}", self.expr(&t.min)),
        }
    }

    pub(super) fn fault_stmt(&self, s: &Stmt<FaultStmt>) -> Node {
        let opt = |kw: &str, e: &Option<Expr>| {
            e.as_ref()
                .map_or(String::new(), |e| format!(" {kw} {}", self.expr(e)))
        };
        let t = match &s.kind {
            FaultStmt::On(Target::Fixed(p)) => format!("on {}", p.text()),
            FaultStmt::On(Target::Stressed {
                system, top, by, ..
            }) => {
                let mut t = format!("on stressed({}", system.name);
                if let Some(top) = top {
                    t.push_str(&format!(", top {}", self.expr(top)));
                }
                if let Some(by) = by {
                    t.push_str(&format!(", by {}", by.name));
                }
                t.push(')');
                t
            }
            FaultStmt::Latency {
                value,
                jitter,
                per_chunk,
            } => {
                let mut t = format!("latency {}{}", self.expr(value), opt("jitter", jitter));
                if *per_chunk {
                    t.push_str(" per chunk");
                }
                t
            }
            FaultStmt::Errors { status, rate } => {
                format!("errors {}{}", self.expr(status), opt("at", rate))
            }
            FaultStmt::Reset { rate } => format!("reset{}", opt("at", rate)),
            FaultStmt::Blackhole { rate } => format!("blackhole{}", opt("at", rate)),
            FaultStmt::Timeout(e) => format!("timeout {}", self.expr(e)),
            FaultStmt::Bandwidth(e) => format!("bandwidth {}", self.expr(e)),
            FaultStmt::SlowClose(e) => format!("slow_close {}", self.expr(e)),
            FaultStmt::Slice { size, delay } => {
                format!("slice {}{}", self.expr(size), opt("delay", delay))
            }
            FaultStmt::Kill { signal } => match signal {
                Some(sig) => format!("kill signal {}", sig.name),
                None => "kill".to_string(),
            },
            FaultStmt::Pause { duration } => format!("pause{}", opt("for", duration)),
            FaultStmt::Restart { command } => format!("restart{}", opt("with", command)),
            FaultStmt::Cpu { cores, load } => {
                format!("cpu {} cores{}", self.expr(cores), opt("at", load))
            }
            FaultStmt::Memory(e) => format!("memory {}", self.expr(e)),
            FaultStmt::Disk { size, path } => {
                format!("disk {}{}", self.expr(size), opt("at", path))
            }
            FaultStmt::Fds(e) => format!("fds {}", self.expr(e)),
            FaultStmt::Loss(e) => format!("loss {}", self.expr(e)),
            FaultStmt::Toxicity(e) => format!("toxicity {}", self.expr(e)),
            FaultStmt::Match(conds) => {
                let parts: Vec<String> = conds
                    .iter()
                    .map(|c| match c {
                        MatchCond::Method(m) => format!("method {}", m.name),
                        MatchCond::Path(p) => format!("path {}", self.str(p)),
                        MatchCond::Header { name, value } => match value {
                            Some(v) => format!("header {} = {}", self.str(name), self.expr(v)),
                            None => format!("header {}", self.str(name)),
                        },
                    })
                    .collect();
                format!("match {}", parts.join(" and "))
            }
            FaultStmt::Toxiproxy { url, proxy } => {
                format!("via toxiproxy {}{}", self.expr(url), opt("proxy", proxy))
            }
        };
        self.line(s.span, t)
    }

    pub(super) fn window_stmt(&self, s: &Stmt<WindowStmt>) -> Node {
        let t = match &s.kind {
            WindowStmt::Every {
                days,
                from,
                to,
                zone,
            } => {
                let mut t = format!(
                    "every {} {}..{}",
                    days.iter()
                        .map(|d| d.name.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                    self.expr(from),
                    self.expr(to)
                );
                if let Some((z, _)) = zone {
                    t.push(' ');
                    t.push_str(z);
                }
                t
            }
            WindowStmt::Between { from, to } => {
                format!("from {} to {}", self.expr(from), self.expr(to))
            }
        };
        self.line(s.span, t)
    }

    pub(super) fn objective(&self, s: &Stmt<Expr>) -> Node {
        self.line(s.span, self.expr(&s.kind))
    }

    pub(super) fn abort(&self, a: &Abort) -> String {
        match &a.for_ {
            Some(f) => format!("abort when {} for {}", self.expr(&a.cond), self.expr(f)),
            None => format!("abort when {}", self.expr(&a.cond)),
        }
    }

    pub(super) fn remedy_stmt(&self, s: &Stmt<RemedyStmt>) -> Node {
        let t = match &s.kind {
            RemedyStmt::When {
                predicted,
                cond,
                at,
                for_,
            } => {
                let mut t = String::from("when ");
                if *predicted {
                    t.push_str("predicted ");
                }
                t.push_str(&self.expr(cond));
                if let Some(a) = at {
                    t.push_str(&format!(" at {}", self.expr(a)));
                }
                if let Some(f) = for_ {
                    t.push_str(&format!(" for {}", self.expr(f)));
                }
                t
            }
            RemedyStmt::Do(a) => match a {
                Action::ScaleBy { target, by } => {
                    format!("do scale {} by {}", target.text(), self.expr(by))
                }
                Action::ScaleTo { target, to } => {
                    format!("do scale {} to {}", target.text(), self.expr(to))
                }
                Action::Shift { amount, from, to } => {
                    format!(
                        "do shift {} from {} to {}",
                        self.expr(amount),
                        from.text(),
                        to.text()
                    )
                }
                Action::Failover { target, to } => {
                    format!("do failover {} to {}", target.text(), self.expr(to))
                }
                Action::Exec(e) => format!("do exec {}", self.expr(e)),
                Action::Webhook(e) => format!("do webhook {}", self.expr(e)),
            },
            RemedyStmt::Cooldown(e) => format!("cooldown {}", self.expr(e)),
            RemedyStmt::Limit { count, per } => {
                format!("at most {} per {}", self.expr(count), self.expr(per))
            }
            RemedyStmt::Mode(m) => format!("mode {}", m.name),
            RemedyStmt::Verify(e) => format!("verify within {}", self.expr(e)),
            RemedyStmt::RequireApproval => String::from("require approval"),
            RemedyStmt::StepLimit { count, per } => {
                format!("step at most {} per {}", self.expr(count), self.expr(per))
            }
        };
        self.line(s.span, t)
    }

    pub(super) fn scenario_stmt(&self, s: &Stmt<ScenarioStmt>) -> Node {
        let t = match &s.kind {
            ScenarioStmt::In(refs) => {
                let parts: Vec<String> = refs
                    .iter()
                    .map(|r| match r {
                        WindowRef::Window(i) => i.name.clone(),
                        WindowRef::Before(i) => format!("before {}", i.name),
                    })
                    .collect();
                format!("in {}", parts.join(" or "))
            }
            ScenarioStmt::Step(st) => {
                let mut t = format!("step {} = ", st.name.name);
                match &st.action {
                    StepAction::Load { traffic, at } => {
                        t.push_str(&format!("load {}", traffic.name));
                        if let Some(a) = at {
                            t.push_str(&format!(" at {}", self.expr(a)));
                        }
                    }
                    StepAction::Inject(i) => t.push_str(&format!("inject {}", i.name)),
                    StepAction::Wait(e) => t.push_str(&format!("wait {}", self.expr(e))),
                }
                for timing in &st.timing {
                    t.push(' ');
                    t.push_str(&self.timing(timing));
                }
                t
            }
            ScenarioStmt::Expect { cond, scope } => {
                let mut t = format!("expect {}", self.expr(cond));
                match scope {
                    Some(ExpectScope::During(i)) => t.push_str(&format!(" during {}", i.name)),
                    Some(ExpectScope::After(i)) => t.push_str(&format!(" after {}", i.name)),
                    None => {}
                }
                t
            }
            ScenarioStmt::Abort(a) => self.abort(a),
            ScenarioStmt::Record => "record profile".to_string(),
            ScenarioStmt::SkipWhen(e) => format!("skip when {}", self.expr(e)),
            ScenarioStmt::RunsPerWindow(e) => {
                format!("runs at most {} per window", self.expr(e))
            }
            ScenarioStmt::Predict { at } => match at {
                Some(a) => format!("predict at {}", self.expr(a)),
                None => "predict".to_string(),
            },
            ScenarioStmt::Remediate(v) => format!("then remediate with {}", names(v)),
        };
        self.line(s.span, t)
    }

    pub(super) fn timing(&self, t: &Timing) -> String {
        let point = |p: &StepPoint| match p.edge {
            Some(Edge::Start) => format!("{}.start", p.step.name),
            Some(Edge::End) => format!("{}.end", p.step.name),
            None => p.step.name.clone(),
        };
        let offset = |o: &Option<Expr>| {
            o.as_ref()
                .map_or(String::new(), |e| format!(" + {}", self.expr(e)))
        };
        match t {
            Timing::After {
                point: p,
                offset: o,
                ..
            } => format!("after {}{}", point(p), offset(o)),
            Timing::With {
                point: p,
                offset: o,
                ..
            } => format!("with {}{}", point(p), offset(o)),
            Timing::During { step, .. } => format!("during {}", step.name),
            Timing::For { duration, .. } => format!("for {}", self.expr(duration)),
            Timing::At { offset, .. } => format!("at +{}", self.expr(offset)),
        }
    }

    pub(super) fn call_pieces(&self, c: &Call) -> Vec<Piece> {
        let args = c.args.iter().map(|a| text(self.arg(a))).collect();
        Pieces::default()
            .text(&c.func.name)
            .list("(", ")", false, args)
            .done()
    }

    pub(super) fn arg(&self, a: &Arg) -> String {
        match &a.label {
            Some(l) => format!("{}: {}", l.name, self.expr(&a.value)),
            None => self.expr(&a.value),
        }
    }

    /// A string literal exactly as written, escapes included.
    pub(super) fn str(&self, s: &Str) -> &'a str {
        self.slice(s.span)
    }

    pub(super) fn expr(&self, e: &Expr) -> String {
        let mut out = String::new();
        self.write_expr(e, &mut out);
        out
    }

    pub(super) fn write_expr(&self, e: &Expr, out: &mut String) {
        match &e.kind {
            ExprKind::Lit(l) => match l.value {
                LitValue::String(_) => out.push_str(self.slice(e.span)),
                _ => out.push_str(&l.text),
            },
            ExprKind::Path(p) => out.push_str(&p.text()),
            ExprKind::Call(c) => {
                out.push_str(&c.func.name);
                out.push('(');
                for (i, a) in c.args.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    if let Some(l) = &a.label {
                        out.push_str(&l.name);
                        out.push_str(": ");
                    }
                    self.write_expr(&a.value, out);
                }
                out.push(')');
            }
            ExprKind::Paren(inner) => {
                out.push('(');
                self.write_expr(inner, out);
                out.push(')');
            }
            ExprKind::Unary(op, inner) => {
                out.push_str(op.as_str());
                self.write_expr(inner, out);
            }
            ExprKind::Binary(op, l, r) => {
                self.write_expr(l, out);
                out.push(' ');
                out.push_str(op.as_str());
                out.push(' ');
                self.write_expr(r, out);
            }
        }
    }
}
