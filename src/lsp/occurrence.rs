//! What is written at an offset of a parsed file: a declaration's name, a reference to a
//! name, a dotted path, a literal, a call, a type, an import.
//!
//! The walk visits every node that carries a name or a value and keeps the smallest one whose
//! span holds the offset (the end counts, so a cursor just after a word still points at it).
//! It also records the enclosing system, scenario and template, because a few names are
//! local to them: `depends on` names services of the same system, `after X` names a step of
//! the same scenario, and a template's parameters shadow top-level names in its body.

use crate::diagnostic::Span;
use crate::syntax::ast::*;

/// How a bare name is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A top-level name (or a template parameter inside a template).
    Any,
    /// A step of the enclosing scenario.
    Step,
    /// A service of the enclosing system.
    Service,
}

#[derive(Debug, Clone, Copy)]
pub enum Occ<'a> {
    /// The name in a declaration (of an item, service, session, step or template parameter).
    Decl(&'a Ident),
    Name(&'a Ident, Role),
    /// One part of a dotted path: `shop` (0) or `checkout` (1) in `shop.checkout`.
    Path(&'a Path, usize),
    Lit(&'a Lit),
    /// The function name of a call or template instantiation.
    Call(&'a Call),
    Label(&'a Call, &'a Ident),
    Type(&'a Ident),
    /// The path string of the file's `n`th import.
    ImportPath(usize),
    /// An imported name (`alias` when the cursor is on the `as` name).
    Imported {
        import: usize,
        name: usize,
    },
    /// A string literal, which may hold `{feeder.column}` placeholders.
    Str(Span),
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Scope<'a> {
    pub system: Option<&'a System>,
    pub scenario: Option<&'a Scenario>,
    pub template: Option<&'a Template>,
}

#[derive(Debug, Clone, Copy)]
pub struct Hit<'a> {
    pub occ: Occ<'a>,
    pub span: Span,
    pub scope: Scope<'a>,
}

/// The innermost named or valued node at `offset`.
pub fn at(file: &File, offset: usize) -> Option<Hit<'_>> {
    let mut w = Walk {
        offset,
        best: None,
        scope: Scope::default(),
    };
    let mut import = 0;
    for item in &file.items {
        let span = item.span();
        if let Item::Import(imp) = item {
            if holds(span, offset) {
                w.import(imp, import);
            }
            import += 1;
            continue;
        }
        if holds(span, offset) {
            w.item(item);
        }
    }
    w.best
}

fn holds(span: Span, offset: usize) -> bool {
    span.start <= offset && offset <= span.end
}

struct Walk<'a> {
    offset: usize,
    best: Option<Hit<'a>>,
    scope: Scope<'a>,
}

impl<'a> Walk<'a> {
    fn hit(&mut self, span: Span, occ: Occ<'a>) {
        if !holds(span, self.offset) {
            return;
        }
        if self.best.is_some_and(|b| b.span.len() <= span.len()) {
            return;
        }
        self.best = Some(Hit {
            occ,
            span,
            scope: self.scope,
        });
    }

    fn decl(&mut self, name: &'a Ident) {
        self.hit(name.span, Occ::Decl(name));
    }

    fn name(&mut self, name: &'a Ident, role: Role) {
        self.hit(name.span, Occ::Name(name, role));
    }

    fn str(&mut self, s: &'a Str) {
        self.hit(s.span, Occ::Str(s.span));
    }

    fn path(&mut self, p: &'a Path) {
        for (i, part) in p.parts.iter().enumerate() {
            self.hit(part.span, Occ::Path(p, i));
        }
    }

    fn opt(&mut self, e: &'a Option<Expr>) {
        if let Some(e) = e {
            self.expr(e);
        }
    }

    fn expr(&mut self, e: &'a Expr) {
        if !holds(e.span, self.offset) {
            return;
        }
        match &e.kind {
            ExprKind::Lit(lit) => match lit.value {
                LitValue::String(_) => self.hit(e.span, Occ::Str(e.span)),
                _ => self.hit(e.span, Occ::Lit(lit)),
            },
            ExprKind::Path(p) => self.path(p),
            ExprKind::Call(c) => self.call(c),
            ExprKind::Paren(inner) | ExprKind::Unary(_, inner) => self.expr(inner),
            ExprKind::Binary(_, l, r) => {
                self.expr(l);
                self.expr(r);
            }
        }
    }

    fn call(&mut self, c: &'a Call) {
        self.hit(c.func.span, Occ::Call(c));
        for a in &c.args {
            if let Some(label) = &a.label {
                self.hit(label.span, Occ::Label(c, label));
            }
            self.expr(&a.value);
        }
    }

    fn import(&mut self, imp: &'a Import, index: usize) {
        self.hit(imp.path.span, Occ::ImportPath(index));
        for (i, n) in imp.names.iter().enumerate() {
            let occ = Occ::Imported {
                import: index,
                name: i,
            };
            self.hit(n.name.span, occ);
            if let Some(alias) = &n.alias {
                self.hit(alias.span, occ);
            }
        }
    }

    fn item(&mut self, item: &'a Item) {
        if let Some(name) = item.name() {
            self.decl(name);
        }
        match item {
            Item::Import(_) => {}
            Item::Param(p) => {
                if let Some(ty) = &p.ty {
                    self.hit(ty.span, Occ::Type(ty));
                }
                self.expr(&p.value);
            }
            Item::Data(d) => self.str(&d.path),
            Item::System(s) => {
                self.scope.system = Some(s);
                for st in &s.stmts {
                    if holds(st.span, self.offset) {
                        self.system_stmt(&st.kind);
                    }
                }
                self.scope.system = None;
            }
            Item::Traffic(t) => match &t.body {
                Body2::Block(stmts) => self.traffic(stmts),
                Body2::Template(c) => self.call(c),
            },
            Item::Fault(f) => match &f.body {
                Body2::Block(stmts) => self.faults(stmts),
                Body2::Template(c) => self.call(c),
            },
            Item::Window(w) => {
                for st in &w.stmts {
                    match &st.kind {
                        WindowStmt::Every { from, to, .. } | WindowStmt::Between { from, to } => {
                            self.expr(from);
                            self.expr(to);
                        }
                    }
                }
            }
            Item::Event(ev) => {
                for st in &ev.stmts {
                    match &st.kind {
                        EventStmt::At(e) | EventStmt::Lasts(e) | EventStmt::Expect(e) => {
                            self.expr(e)
                        }
                    }
                }
            }
            Item::Slo(s) => match &s.body {
                Body2::Block(stmts) => {
                    for st in stmts {
                        self.expr(&st.kind);
                    }
                }
                Body2::Template(c) => self.call(c),
            },
            Item::Abort(a) => self.abort(a),
            Item::Remedy(r) => match &r.body {
                Body2::Block(stmts) => self.remedies(stmts),
                Body2::Template(c) => self.call(c),
            },
            Item::Scenario(s) => {
                self.scope.scenario = Some(s);
                for st in &s.stmts {
                    if holds(st.span, self.offset) {
                        self.scenario_stmt(&st.kind);
                    }
                }
                self.scope.scenario = None;
            }
            Item::Template(t) => {
                self.scope.template = Some(t);
                for p in &t.params {
                    self.decl(&p.name);
                    self.hit(p.ty.span, Occ::Type(&p.ty));
                    self.opt(&p.default);
                }
                match &t.body {
                    TemplateBody::Fault(stmts) => self.faults(stmts),
                    TemplateBody::Traffic(stmts) => self.traffic(stmts),
                    TemplateBody::Slo(stmts) => {
                        for st in stmts {
                            self.expr(&st.kind);
                        }
                    }
                    TemplateBody::Remedy(stmts) => self.remedies(stmts),
                }
                self.scope.template = None;
            }
        }
    }

    fn system_stmt(&mut self, st: &'a SystemStmt) {
        match st {
            SystemStmt::Builtin(_) | SystemStmt::Protocol(_) => {}
            SystemStmt::Base(e) | SystemStmt::Timeout(e) | SystemStmt::MetricsPrometheus(e) => {
                self.expr(e)
            }
            SystemStmt::Query(q) => self.expr(&q.promql),
            SystemStmt::Header(h) => {
                self.str(&h.name);
                self.expr(&h.value);
            }
            SystemStmt::Service(svc) => {
                self.decl(&svc.name);
                for st in &svc.stmts {
                    if holds(st.span, self.offset) {
                        self.service_stmt(&st.kind);
                    }
                }
            }
        }
    }

    fn service_stmt(&mut self, st: &'a ServiceStmt) {
        match st {
            ServiceStmt::Route(r) => {
                self.str(&r.path);
                match &r.body {
                    Some(Body::Size(e)) => self.expr(e),
                    Some(Body::Raw(s)) => self.str(s),
                    Some(Body::Json(j)) => self.json(j),
                    None => {}
                }
                self.opt(&r.weight);
            }
            ServiceStmt::DependsOn(names) => {
                for n in names {
                    self.name(n, Role::Service);
                }
            }
            ServiceStmt::Upstream(e) | ServiceStmt::Timeout(e) | ServiceStmt::Capacity(e) => {
                self.expr(e)
            }
            ServiceStmt::Process(p) => match p {
                ProcessRef::Pidfile(e) | ProcessRef::Name(e) | ProcessRef::Command(e) => {
                    self.expr(e)
                }
            },
            ServiceStmt::Header(h) => {
                self.str(&h.name);
                self.expr(&h.value);
            }
            ServiceStmt::ScaleVia { via, within } => {
                if let ScaleVia::Exec { set, read } = via {
                    self.expr(set);
                    self.expr(read);
                }
                if let Some((lo, hi)) = within {
                    self.expr(lo);
                    self.expr(hi);
                }
            }
            ServiceStmt::BalanceHaproxy { socket, backend } => {
                self.expr(socket);
                self.expr(backend);
            }
            ServiceStmt::BalanceProxy { admin } => self.expr(admin),
            ServiceStmt::Query(q) => self.expr(&q.promql),
        }
    }

    /// JSON bodies nest at most as deep as the parser allows, so recursion is bounded.
    fn json(&mut self, j: &'a Json) {
        if !holds(j.span, self.offset) {
            return;
        }
        match &j.kind {
            JsonKind::String(_) => self.hit(j.span, Occ::Str(j.span)),
            JsonKind::Object(pairs) => {
                for (_, v) in pairs {
                    self.json(v);
                }
            }
            JsonKind::Array(items) => {
                for v in items {
                    self.json(v);
                }
            }
            _ => {}
        }
    }

    fn think(&mut self, t: &'a Option<Think>) {
        if let Some(t) = t {
            self.expr(&t.min);
            self.opt(&t.max);
        }
    }

    fn traffic(&mut self, stmts: &'a [Stmt<TrafficStmt>]) {
        let offset = self.offset;
        for st in stmts.iter().filter(|st| holds(st.span, offset)) {
            match &st.kind {
                TrafficStmt::Learn { path, .. } => self.str(path),
                TrafficStmt::Forecast {
                    horizon, quantile, ..
                } => {
                    self.expr(horizon);
                    self.opt(quantile);
                }
                TrafficStmt::Like(n) | TrafficStmt::Against(n) => self.name(n, Role::Any),
                TrafficStmt::Arrival(_) => {}
                TrafficStmt::Rate(e) | TrafficStmt::Scale(e) => self.expr(e),
                TrafficStmt::Ramp { from, to, over } => {
                    self.opt(from);
                    self.expr(to);
                    self.expr(over);
                }
                TrafficStmt::Hold { duration, at } => {
                    self.expr(duration);
                    self.opt(at);
                }
                TrafficStmt::Mix(entries) => {
                    for m in entries {
                        self.path(&m.target);
                        self.expr(&m.share);
                    }
                }
                TrafficStmt::Session(s) => {
                    self.decl(&s.name);
                    self.opt(&s.weight);
                    for v in &s.visits {
                        self.path(&v.kind.target);
                        self.think(&v.kind.think);
                        self.opt(&v.kind.repeat);
                    }
                }
                TrafficStmt::Users { count, think } => {
                    self.expr(count);
                    self.think(think);
                }
            }
        }
    }

    fn faults(&mut self, stmts: &'a [Stmt<FaultStmt>]) {
        let offset = self.offset;
        for st in stmts.iter().filter(|st| holds(st.span, offset)) {
            match &st.kind {
                FaultStmt::On(Target::Stressed { system, top, .. }) => {
                    self.name(system, Role::Any);
                    self.opt(top);
                }
                FaultStmt::On(Target::Fixed(p)) => self.path(p),
                FaultStmt::Latency { value, jitter, .. } => {
                    self.expr(value);
                    self.opt(jitter);
                }
                FaultStmt::Errors { status, rate } => {
                    self.expr(status);
                    self.opt(rate);
                }
                FaultStmt::Reset { rate } | FaultStmt::Blackhole { rate } => self.opt(rate),
                FaultStmt::Timeout(e)
                | FaultStmt::Bandwidth(e)
                | FaultStmt::SlowClose(e)
                | FaultStmt::Memory(e)
                | FaultStmt::Fds(e)
                | FaultStmt::Loss(e)
                | FaultStmt::Toxicity(e) => self.expr(e),
                FaultStmt::Slice { size, delay } => {
                    self.expr(size);
                    self.opt(delay);
                }
                FaultStmt::Kill { .. } => {}
                FaultStmt::Pause { duration } => self.opt(duration),
                FaultStmt::Restart { command } => self.opt(command),
                FaultStmt::Cpu { cores, load } => {
                    self.expr(cores);
                    self.opt(load);
                }
                FaultStmt::Disk { size, path } => {
                    self.expr(size);
                    self.opt(path);
                }
                FaultStmt::Match(conds) => {
                    for c in conds {
                        match c {
                            MatchCond::Method(_) => {}
                            MatchCond::Path(s) => self.str(s),
                            MatchCond::Header { name, value } => {
                                self.str(name);
                                self.opt(value);
                            }
                        }
                    }
                }
                FaultStmt::Toxiproxy { url, proxy } => {
                    self.expr(url);
                    self.opt(proxy);
                }
            }
        }
    }

    fn abort(&mut self, a: &'a Abort) {
        self.expr(&a.cond);
        self.opt(&a.for_);
    }

    fn remedies(&mut self, stmts: &'a [Stmt<RemedyStmt>]) {
        let offset = self.offset;
        for st in stmts.iter().filter(|st| holds(st.span, offset)) {
            match &st.kind {
                RemedyStmt::When { cond, at, for_, .. } => {
                    self.expr(cond);
                    self.opt(at);
                    self.opt(for_);
                }
                RemedyStmt::Do(action) => match action {
                    Action::ScaleBy { target, by: e } | Action::ScaleTo { target, to: e } => {
                        self.path(target);
                        self.expr(e);
                    }
                    Action::Shift { amount, from, to } => {
                        self.expr(amount);
                        self.path(from);
                        self.path(to);
                    }
                    Action::Failover { target, to } => {
                        self.path(target);
                        self.expr(to);
                    }
                    Action::Exec(e) | Action::Webhook(e) => self.expr(e),
                },
                RemedyStmt::Cooldown(e) => self.expr(e),
                RemedyStmt::Limit { count, per } | RemedyStmt::StepLimit { count, per } => {
                    self.expr(count);
                    self.expr(per);
                }
                RemedyStmt::Verify(e) => self.expr(e),
                RemedyStmt::Mode(_) | RemedyStmt::RequireApproval => {}
            }
        }
    }

    fn scenario_stmt(&mut self, st: &'a ScenarioStmt) {
        match st {
            ScenarioStmt::In(refs) => {
                for r in refs {
                    match r {
                        WindowRef::Window(n) | WindowRef::Before(n) => self.name(n, Role::Any),
                    }
                }
            }
            ScenarioStmt::Step(step) => {
                self.decl(&step.name);
                match &step.action {
                    StepAction::Load { traffic, at } => {
                        self.name(traffic, Role::Any);
                        self.opt(at);
                    }
                    StepAction::Inject(f) => self.name(f, Role::Any),
                    StepAction::Wait(e) => self.expr(e),
                }
                for t in &step.timing {
                    match t {
                        Timing::After { point, offset, .. }
                        | Timing::With { point, offset, .. } => {
                            self.name(&point.step, Role::Step);
                            self.opt(offset);
                        }
                        Timing::During { step, .. } => self.name(step, Role::Step),
                        Timing::For { duration: e, .. } | Timing::At { offset: e, .. } => {
                            self.expr(e)
                        }
                    }
                }
            }
            ScenarioStmt::Expect { cond, scope } => {
                self.expr(cond);
                match scope {
                    Some(ExpectScope::During(n)) | Some(ExpectScope::After(n)) => {
                        self.name(n, Role::Step)
                    }
                    None => {}
                }
            }
            ScenarioStmt::Abort(a) => self.abort(a),
            ScenarioStmt::Record => {}
            ScenarioStmt::SkipWhen(e) | ScenarioStmt::RunsPerWindow(e) => self.expr(e),
            ScenarioStmt::Predict { at } => self.opt(at),
            ScenarioStmt::Remediate(names) => {
                for n in names {
                    self.name(n, Role::Any);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_innermost_node() {
        let text = "param m = 1.3x\nsystem shop { builtin demo_shop service checkout { route POST \"/c\" } }\nslo ok { p99(shop.checkout) < 250ms }\nscenario s { step a = wait 1s  step b = wait 2s after a }\n";
        let file = crate::syntax::parse(text, 0).file;
        let at =
            |needle: &str, plus: usize| at(&file, text.find(needle).unwrap() + plus).map(|h| h.occ);
        assert!(matches!(at("checkout)", 1), Some(Occ::Path(p, 1)) if p.text() == "shop.checkout"));
        assert!(matches!(at("shop.checkout", 0), Some(Occ::Path(_, 0))));
        assert!(matches!(at("250ms", 2), Some(Occ::Lit(_))));
        assert!(matches!(at("p99", 1), Some(Occ::Call(_))));
        assert!(matches!(at("a }", 0), Some(Occ::Name(n, Role::Step)) if n.name == "a"));
        assert!(matches!(at("m =", 0), Some(Occ::Decl(n)) if n.name == "m"));
        assert!(at("=", 1).is_none() || matches!(at("=", 1), Some(Occ::Lit(_))));
    }
}
