//! The checker proper: collects declarations from every module into namespaces, then checks
//! each kind of declaration in dependency order (params, data, systems, traffic, faults,
//! windows, events, slos, aborts, remedies, scenarios), building the Model as it goes.

use std::collections::HashMap;

use super::loader::Module;
use super::model::*;
use super::Options;
use crate::diagnostic::{suggest, Code, Diagnostic, FileId, SourceMap, Span};
use crate::syntax::ast::{self, Body2, Item};
use crate::units::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DeclKind {
    Param,
    Data,
    System,
    Traffic,
    Fault,
    Window,
    Event,
    Slo,
    Remedy,
    Scenario,
    Template,
}

impl DeclKind {
    pub(super) fn noun(self) -> &'static str {
        match self {
            DeclKind::Param => "a param",
            DeclKind::Data => "a data feeder",
            DeclKind::System => "a system",
            DeclKind::Traffic => "a traffic",
            DeclKind::Fault => "a fault",
            DeclKind::Window => "a window",
            DeclKind::Event => "an event",
            DeclKind::Slo => "an slo",
            DeclKind::Remedy => "a remedy",
            DeclKind::Scenario => "a scenario",
            DeclKind::Template => "a template",
        }
    }
}

pub(super) struct Decl {
    pub kind: DeclKind,
    pub name: String,
    pub module: usize,
    pub file: FileId,
    pub name_span: Span,
    pub item: usize,
    /// Index into the Model's vector for this kind.
    pub index: usize,
    pub used: bool,
}

/// A name bound in a module: its own declaration or an import.
struct Binding {
    decl: usize,
    span: Span,
    import: bool,
    used: bool,
}

/// What expressions can see besides the module's names.
#[derive(Default, Clone)]
pub(super) struct Ctx {
    pub locals: Vec<(String, TExpr)>,
}

pub(super) struct Checker<'a> {
    pub modules: &'a [Module],
    pub sources: &'a SourceMap,
    pub diags: Vec<Diagnostic>,
    pub decls: Vec<Decl>,
    pub model: Model,
    ns: Vec<HashMap<String, usize>>,
    bindings: Vec<Binding>,
    cur: usize,
    opts: &'a Options,
}

pub(super) fn check(
    modules: &[Module],
    sources: &SourceMap,
    opts: &Options,
) -> (Model, Vec<Diagnostic>) {
    let mut c = Checker {
        modules,
        sources,
        diags: Vec::new(),
        decls: Vec::new(),
        model: Model::default(),
        ns: vec![HashMap::new(); modules.len()],
        bindings: Vec::new(),
        cur: 0,
        opts,
    };
    c.collect();
    c.check_all();
    c.unused();
    (c.model, c.diags)
}

impl<'a> Checker<'a> {
    pub(super) fn file(&self) -> FileId {
        self.modules[self.cur].file
    }

    fn items(&self, module: usize) -> &'a [Item] {
        &self.modules[module].ast.items
    }

    // ------------------------------------------------------------------------------------------
    // collection

    /// Modules in an order where every module comes after what it imports.
    fn import_order(&self) -> Vec<usize> {
        fn visit(m: usize, modules: &[Module], seen: &mut Vec<bool>, out: &mut Vec<usize>) {
            if seen[m] {
                return;
            }
            seen[m] = true;
            for &i in modules[m].imports.iter().flatten() {
                visit(i, modules, seen, out);
            }
            out.push(m);
        }
        let mut seen = vec![false; self.modules.len()];
        let mut out = Vec::new();
        for m in 0..self.modules.len() {
            visit(m, self.modules, &mut seen, &mut out);
        }
        out
    }

    fn collect(&mut self) {
        let mut counts: HashMap<&'static str, usize> = HashMap::new();
        for m in self.import_order() {
            self.cur = m;
            let file = self.file();
            for (i, item) in self.items(m).iter().enumerate() {
                let Some(name) = item.name() else { continue };
                let kind = match item {
                    Item::Param(_) => DeclKind::Param,
                    Item::Data(_) => DeclKind::Data,
                    Item::System(_) => DeclKind::System,
                    Item::Traffic(_) => DeclKind::Traffic,
                    Item::Fault(_) => DeclKind::Fault,
                    Item::Window(_) => DeclKind::Window,
                    Item::Event(_) => DeclKind::Event,
                    Item::Slo(_) => DeclKind::Slo,
                    Item::Remedy(_) => DeclKind::Remedy,
                    Item::Scenario(_) => DeclKind::Scenario,
                    _ => DeclKind::Template,
                };
                let counter = counts.entry(kind.noun()).or_default();
                let index = *counter;
                *counter += 1;
                self.decls.push(Decl {
                    kind,
                    name: name.name.clone(),
                    module: m,
                    file,
                    name_span: name.span,
                    item: i,
                    index,
                    used: false,
                });
                let decl = self.decls.len() - 1;
                self.bind(m, name, decl, false);
            }
        }
        // Imports after every module's own declarations: a clash then names the import as
        // the second one, and modules in an import cycle still see each other's names.
        for m in self.import_order() {
            self.cur = m;
            let file = self.file();
            let mut import_idx = 0;
            for item in self.items(m) {
                let Item::Import(imp) = item else { continue };
                let target = self.modules[m].imports.get(import_idx).copied().flatten();
                import_idx += 1;
                let Some(target) = target else { continue };
                if self.modules[target].broken || target == m {
                    // Broken modules have their syntax errors reported; a module importing
                    // itself has its cycle reported. Neither adds "has no X" or duplicates.
                    continue;
                }
                for n in &imp.names {
                    match self.ns[target]
                        .get(&n.name.name)
                        .map(|&b| self.bindings[b].decl)
                    {
                        Some(decl) => self.bind(m, n.local(), decl, true),
                        None => {
                            let exported: Vec<&str> =
                                self.ns[target].keys().map(String::as_str).collect();
                            let module_name = &self.sources.get(self.modules[target].file).name;
                            let mut d = Diagnostic::error(
                                Code::UnknownExport,
                                file,
                                n.name.span,
                                format!("module \"{}\" has no `{}`", imp.path.value, n.name.name),
                            )
                            .with_label("not declared there");
                            let mut sorted = exported.clone();
                            sorted.sort();
                            d = match suggest(&n.name.name, exported.iter().copied()) {
                                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                                None => d.with_help(format!(
                                    "{module_name} declares {}",
                                    if sorted.is_empty() {
                                        "nothing".to_string()
                                    } else {
                                        sorted.join(", ")
                                    }
                                )),
                            };
                            self.diags.push(d);
                        }
                    }
                }
            }
        }
    }

    fn bind(&mut self, m: usize, name: &ast::Ident, decl: usize, import: bool) {
        if let Some(&prev) = self.ns[m].get(&name.name) {
            let prev_span = self.bindings[prev].span;
            let what = if import { "imported" } else { "declared" };
            let first = if self.bindings[prev].import {
                "imported"
            } else {
                "declared"
            };
            let message = if what == first {
                format!("`{}` is {what} twice", name.name)
            } else {
                format!("`{}` is both declared and imported", name.name)
            };
            let d = Diagnostic::error(Code::Duplicate, self.modules[m].file, name.span, message)
                .with_label(if what == first {
                    format!("{what} again here")
                } else {
                    format!("{what} here")
                })
                .with_secondary(prev_span, format!("first {first} here"))
                .with_help(if import {
                    "rename it on import: `import \"...\" { name as other_name }`"
                } else {
                    "give each declaration its own name"
                });
            self.diags.push(d);
            return;
        }
        self.bindings.push(Binding {
            decl,
            span: name.span,
            import,
            used: false,
        });
        self.ns[m].insert(name.name.clone(), self.bindings.len() - 1);
    }

    /// Resolves a name in the current module, reporting unknown names with suggestions.
    pub(super) fn lookup(&mut self, cx: &Ctx, name: &str, span: Span) -> Option<usize> {
        if let Some(decl) = self.lookup_quiet(cx, name) {
            return Some(decl);
        }
        let mut candidates: Vec<&str> = self.ns[self.cur].keys().map(String::as_str).collect();
        candidates.extend(cx.locals.iter().map(|(n, _)| n.as_str()));
        let mut d = Diagnostic::error(
            Code::UnknownName,
            self.file(),
            span,
            format!("unknown name `{name}`"),
        )
        .with_label("not declared");
        if let Some(s) = suggest(name, candidates.iter().copied()) {
            d = d.with_help(format!("did you mean `{s}`?"));
        } else if let Some((m, _)) = self.find_elsewhere(name) {
            d = d.with_help(format!(
                "`{name}` is declared in \"{}\": import it",
                self.sources.get(self.modules[m].file).name
            ));
        }
        self.diags.push(d);
        None
    }

    pub(super) fn lookup_quiet(&mut self, _cx: &Ctx, name: &str) -> Option<usize> {
        let &b = self.ns[self.cur].get(name)?;
        self.bindings[b].used = true;
        let decl = self.bindings[b].decl;
        self.decls[decl].used = true;
        Some(decl)
    }

    fn find_elsewhere(&self, name: &str) -> Option<(usize, usize)> {
        self.ns
            .iter()
            .enumerate()
            .find_map(|(m, ns)| ns.get(name).map(|&b| (m, b)))
    }

    /// Resolves a name that must be of `kind`, returning its Model index.
    pub(super) fn resolve(&mut self, cx: &Ctx, id: &ast::Ident, kind: DeclKind) -> Option<usize> {
        let decl = self.lookup_kind(cx, id, kind)?;
        Some(self.decls[decl].index)
    }

    fn lookup_kind(&mut self, cx: &Ctx, id: &ast::Ident, kind: DeclKind) -> Option<usize> {
        if let Some((_, t)) = cx.locals.iter().find(|(n, _)| *n == id.name) {
            // A template argument: find the declaration it stands for.
            let t = t.clone();
            let want = match kind {
                DeclKind::System => Ty::System,
                DeclKind::Traffic => Ty::Traffic,
                DeclKind::Fault => Ty::Fault,
                DeclKind::Slo => Ty::Slo,
                _ => Ty::Unknown,
            };
            let found = match t.kind {
                TKind::Ref(RefTarget::System(i)) if want == Ty::System => Some(i),
                TKind::Ref(RefTarget::Traffic(i)) if want == Ty::Traffic => Some(i),
                TKind::Ref(RefTarget::Fault(i)) if want == Ty::Fault => Some(i),
                TKind::Ref(RefTarget::Slo(i)) if want == Ty::Slo => Some(i),
                TKind::Ref(RefTarget::Placeholder) if t.ty == want => return None,
                _ => {
                    let mut t = t;
                    t.span = id.span;
                    self.mismatch(
                        &t,
                        want.describe(),
                        &format!("`{}` is a template parameter", id.name),
                    );
                    return None;
                }
            };
            return found.and_then(|i| {
                self.decls
                    .iter()
                    .position(|d| d.kind == kind && d.index == i)
            });
        }
        let Some(decl) = self.lookup_quiet(cx, &id.name) else {
            // Unknown: suggest names of the right kind first.
            let same_kind: Vec<String> = self.ns[self.cur]
                .iter()
                .filter(|(_, &b)| self.decls[self.bindings[b].decl].kind == kind)
                .map(|(n, _)| n.clone())
                .collect();
            let mut d = Diagnostic::error(
                Code::UnknownName,
                self.file(),
                id.span,
                format!(
                    "unknown {} `{}`",
                    &kind.noun()[kind.noun().find(' ').unwrap_or(0) + 1..],
                    id.name
                ),
            )
            .with_label(format!(
                "no {} by this name",
                &kind.noun()[kind.noun().find(' ').unwrap_or(0) + 1..]
            ));
            d = match suggest(&id.name, same_kind.iter().map(String::as_str)) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None if same_kind.is_empty() => {
                    d.with_help(format!("this file declares no {}", plural(kind)))
                }
                None => {
                    let mut names = same_kind.clone();
                    names.sort();
                    d.with_help(format!(
                        "the {} here are {}",
                        plural(kind),
                        names.join(", ")
                    ))
                }
            };
            self.diags.push(d);
            return None;
        };
        let found = self.decls[decl].kind;
        if found != kind {
            let (df, ds) = (self.decls[decl].file, self.decls[decl].name_span);
            let d = Diagnostic::error(
                Code::WrongKind,
                self.file(),
                id.span,
                format!("`{}` is {}, not {}", id.name, found.noun(), kind.noun()),
            )
            .with_label(format!("expected {}", kind.noun()))
            .with_secondary_in(
                df,
                self.file(),
                ds,
                &format!("`{}` is declared here as {}", id.name, found.noun()),
            );
            self.diags.push(d);
            return None;
        }
        Some(decl)
    }

    // ------------------------------------------------------------------------------------------
    // checking

    fn check_all(&mut self) {
        // `--set` must name a param of the root file.
        for (name, _) in &self.opts.overrides {
            let known: Vec<&str> = self
                .decls
                .iter()
                .filter(|d| d.module == 0 && d.kind == DeclKind::Param)
                .map(|d| d.name.as_str())
                .collect();
            if !known.contains(&name.as_str()) {
                let file = self.modules[0].file;
                let mut d = Diagnostic::error(
                    Code::BadOverride,
                    file,
                    Span::new(0, 0),
                    format!("--set {name}: this file declares no param `{name}`"),
                )
                .with_label("in this file");
                d = match suggest(name, known.iter().copied()) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None if known.is_empty() => d.with_help("this file declares no params"),
                    None => d.with_help(format!("its params are {}", known.join(", "))),
                };
                self.diags.push(d);
            }
        }
        let order = self.import_order();
        let kinds = [
            DeclKind::Param,
            DeclKind::Data,
            DeclKind::System,
            DeclKind::Traffic,
            DeclKind::Fault,
            DeclKind::Window,
            DeclKind::Event,
            DeclKind::Slo,
            DeclKind::Remedy,
            DeclKind::Scenario,
            DeclKind::Template,
        ];
        for kind in kinds {
            let ids: Vec<usize> = self
                .decls
                .iter()
                .enumerate()
                .filter(|(_, d)| d.kind == kind)
                .map(|(i, _)| i)
                .collect();
            for id in ids {
                self.cur = self.decls[id].module;
                let item = &self.modules[self.cur].ast.items[self.decls[id].item];
                self.check_item(item);
            }
            if kind == DeclKind::Slo {
                // Top-level aborts, after the slos (they read the same metrics).
                for &m in &order {
                    self.cur = m;
                    for item in self.items(m) {
                        if let Item::Abort(a) = item {
                            if let Some(c) = self.abort(a, &Ctx::default()) {
                                self.model.aborts.push(c);
                            }
                        }
                    }
                }
            }
        }
        if self.modules.first().is_some_and(|m| m.ast.items.is_empty()) {
            self.cur = 0;
            let len = self.sources.get(self.file()).text.len();
            self.diags.push(
                Diagnostic::error(Code::Empty, self.file(), Span::new(0, len.min(1)), "this file declares nothing")
                    .with_label("empty")
                    .with_help("a scenario file declares at least a system, a traffic and a scenario; see docs/language.md"),
            );
        }
    }

    fn check_item(&mut self, item: &'a Item) {
        let cx = Ctx::default();
        let file = self.file();
        let origin = move |span| Origin { file, span };
        match item {
            Item::Param(p) => {
                let value = self.param(p, &cx);
                self.model.params.push(ParamModel {
                    name: p.name.name.clone(),
                    value,
                    origin: origin(p.span),
                });
            }
            Item::Data(d) => {
                let m = self.data(d);
                self.model.data.push(m);
            }
            Item::System(s) => {
                let m = self.system(s, &cx);
                self.model.systems.push(m);
            }
            Item::Traffic(t) => {
                let m = match &t.body {
                    Body2::Block(stmts) => Some(self.traffic(&t.name, stmts, &cx, t.span)),
                    Body2::Template(call) => {
                        self.instantiate(call, "traffic", t.span, |c, body, cx| match body {
                            ast::TemplateBody::Traffic(stmts) => {
                                Some(c.traffic(&t.name, stmts, cx, t.span))
                            }
                            _ => None,
                        })
                    }
                };
                let m = m.unwrap_or_else(|| empty_traffic(&t.name.name, origin(t.span)));
                self.model.traffics.push(m);
            }
            Item::Fault(f) => {
                let m = match &f.body {
                    Body2::Block(stmts) => Some(self.fault(&f.name, stmts, &cx, f.span)),
                    Body2::Template(call) => {
                        self.instantiate(call, "fault", f.span, |c, body, cx| match body {
                            ast::TemplateBody::Fault(stmts) => {
                                Some(c.fault(&f.name, stmts, cx, f.span))
                            }
                            _ => None,
                        })
                    }
                };
                let m = m.unwrap_or_else(|| FaultModel {
                    name: f.name.name.clone(),
                    target: FaultTarget::Placeholder,
                    effects: Vec::new(),
                    toxicity: 1.0,
                    matchers: Vec::new(),
                    toxiproxy: None,
                    origin: origin(f.span),
                });
                self.model.faults.push(m);
            }
            Item::Window(w) => {
                let m = self.window(w, &cx);
                self.model.windows.push(m);
            }
            Item::Event(e) => {
                let m = self.event(e, &cx);
                self.model.events.push(m);
            }
            Item::Slo(s) => {
                let objectives = match &s.body {
                    Body2::Block(stmts) => Some(self.slo(&s.name, stmts, &cx, s.span)),
                    Body2::Template(call) => {
                        self.instantiate(call, "slo", s.span, |c, body, cx| match body {
                            ast::TemplateBody::Slo(stmts) => {
                                Some(c.slo(&s.name, stmts, cx, s.span))
                            }
                            _ => None,
                        })
                    }
                };
                self.model.slos.push(SloModel {
                    name: s.name.name.clone(),
                    objectives: objectives.unwrap_or_default(),
                    origin: origin(s.span),
                });
            }
            Item::Remedy(r) => {
                let m = match &r.body {
                    Body2::Block(stmts) => Some(self.remedy(&r.name, stmts, &cx, r.span)),
                    Body2::Template(call) => {
                        self.instantiate(call, "remedy", r.span, |c, body, cx| match body {
                            ast::TemplateBody::Remedy(stmts) => {
                                Some(c.remedy(&r.name, stmts, cx, r.span))
                            }
                            _ => None,
                        })
                    }
                };
                let m = m.unwrap_or_else(|| RemedyModel {
                    name: r.name.name.clone(),
                    triggers: Vec::new(),
                    actions: Vec::new(),
                    cooldown: Duration::ZERO,
                    limit: None,
                    origin: origin(r.span),
                });
                self.model.remedies.push(m);
            }
            Item::Scenario(s) => {
                let m = self.scenario(s, &cx);
                self.model.scenarios.push(m);
            }
            Item::Template(t) => self.template_decl(t),
            Item::Import(_) | Item::Abort(_) => {}
        }
    }

    fn param(&mut self, p: &ast::Param, cx: &Ctx) -> Value {
        let declared = p.ty.as_ref().and_then(|t| self.type_name(t));
        let t = self.expr(&p.value, cx);
        let t = match declared {
            Some(ty) => super::expr::coerce(t, ty),
            None => t,
        };
        let mut value = match (&t.kind, declared) {
            (TKind::Const(v), Some(ty)) if v.ty() != ty => {
                self.mismatch(
                    &t,
                    ty.describe(),
                    &format!("`{}` is declared as {}", p.name.name, ty.noun()),
                );
                v.clone()
            }
            (TKind::Const(v), _) => v.clone(),
            (TKind::Error, _) => Value::Number(0.0),
            _ => {
                self.diags.push(
                    Diagnostic::error(
                        Code::WrongKind,
                        self.file(),
                        p.value.span,
                        "a param's value must be known before the run",
                    )
                    .with_label("this is not a constant")
                    .with_help("use a literal, another param, or env(\"NAME\")"),
                );
                Value::Number(0.0)
            }
        };
        // `--set` overrides apply to the root file's params.
        if self.cur == 0 {
            for (name, text) in self
                .opts
                .overrides
                .iter()
                .filter(|(n, _)| *n == p.name.name)
            {
                match crate::syntax::parse_value(text, self.file()) {
                    Ok(e) if !matches!(e.kind, ast::ExprKind::Path(_) | ast::ExprKind::Call(_)) => {
                        let saved = std::mem::take(&mut self.diags);
                        let over = self.expr(&e, cx);
                        let errors = std::mem::replace(&mut self.diags, saved);
                        match over.constant() {
                            Some(v) if errors.is_empty() && v.ty() == value.ty() => {
                                value = v.clone()
                            }
                            Some(v) if errors.is_empty() => self.diags.push(
                                Diagnostic::error(
                                    Code::BadOverride,
                                    self.file(),
                                    p.value.span,
                                    format!(
                                        "--set {name}={text}: expected {}, found {}",
                                        value.ty().noun(),
                                        v.ty().noun()
                                    ),
                                )
                                .with_label(format!("`{name}` is {}", value.ty().noun()))
                                .with_help(format!("give a value like `{value}`")),
                            ),
                            _ => self.diags.push(
                                Diagnostic::error(
                                    Code::BadOverride,
                                    self.file(),
                                    p.value.span,
                                    format!("--set {name}={text}: not a valid value"),
                                )
                                .with_label(format!("`{name}` is {}", value.ty().noun()))
                                .with_help(format!("give a value like `{value}`")),
                            ),
                        }
                    }
                    Ok(_) => {
                        // A bare word: take it as a string.
                        if value.ty() == Ty::String {
                            value = Value::Str(StrValue::Literal {
                                value: text.clone(),
                            });
                        } else {
                            self.diags.push(
                                Diagnostic::error(
                                    Code::BadOverride,
                                    self.file(),
                                    p.value.span,
                                    format!(
                                        "--set {name}={text}: expected {}",
                                        value.ty().describe()
                                    ),
                                )
                                .with_label(format!("`{name}` is {}", value.ty().noun())),
                            );
                        }
                    }
                    Err(_) if value.ty() == Ty::String => {
                        value = Value::Str(StrValue::Literal {
                            value: text.clone(),
                        })
                    }
                    Err(_) => self.diags.push(
                        Diagnostic::error(
                            Code::BadOverride,
                            self.file(),
                            p.value.span,
                            format!("--set {name}={text}: expected {}", value.ty().describe()),
                        )
                        .with_label(format!("`{name}` is {}", value.ty().noun())),
                    ),
                }
            }
        }
        value
    }

    fn type_name(&mut self, t: &ast::Ident) -> Option<Ty> {
        let ty = Ty::from_name(&t.name);
        if ty.is_none() {
            self.unknown_option(t, "type", Ty::NAMES);
        }
        ty
    }

    pub(super) fn unknown_option(&mut self, id: &ast::Ident, what: &str, options: &[&str]) {
        let mut d = Diagnostic::error(
            Code::UnknownOption,
            self.file(),
            id.span,
            format!("unknown {what} `{}`", id.name),
        )
        .with_label(format!("not {} {what}", crate::diagnostic::article(what)));
        d = match suggest(&id.name, options.iter().copied()) {
            Some(s) => d.with_help(format!(
                "did you mean `{s}`? the choices are {}",
                options.join(", ")
            )),
            None => d.with_help(format!("the choices are {}", options.join(", "))),
        };
        self.diags.push(d);
    }

    fn option<T: Copy>(&mut self, id: &ast::Ident, what: &str, table: &[(&str, T)]) -> Option<T> {
        match table.iter().find(|(n, _)| *n == id.name) {
            Some((_, v)) => Some(*v),
            None => {
                let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
                self.unknown_option(id, what, &names);
                None
            }
        }
    }

    fn data(&mut self, d: &ast::Data) -> DataModel {
        let guessed = if d.path.value.ends_with(".jsonl") || d.path.value.ends_with(".ndjson") {
            DataFormat::Jsonl
        } else {
            DataFormat::Csv
        };
        let format = d
            .format
            .as_ref()
            .and_then(|f| {
                self.option(
                    f,
                    "data format",
                    &[("csv", DataFormat::Csv), ("jsonl", DataFormat::Jsonl)],
                )
            })
            .unwrap_or(guessed);
        let order = d
            .order
            .as_ref()
            .and_then(|o| {
                self.option(
                    o,
                    "order",
                    &[("cycle", DataOrder::Cycle), ("random", DataOrder::Random)],
                )
            })
            .unwrap_or(DataOrder::Cycle);
        if d.path.value.is_empty() {
            self.out_of_range(
                d.path.span,
                "the data file path is empty",
                "write the path of a CSV or JSON-lines file",
            );
        }
        DataModel {
            name: d.name.name.clone(),
            path: d.path.value.clone(),
            format,
            order,
            origin: Origin {
                file: self.file(),
                span: d.span,
            },
        }
    }

    // ------------------------------------------------------------------------------------------
    // system and service

    fn system(&mut self, s: &ast::System, cx: &Ctx) -> SystemModel {
        let mut m = SystemModel {
            name: s.name.name.clone(),
            target: SystemTarget::Builtin(String::new()),
            headers: Vec::new(),
            timeout: None,
            protocol: Protocol::Http1,
            services: Vec::new(),
            origin: Origin {
                file: self.file(),
                span: s.span,
            },
        };
        let mut target_span: Option<Span> = None;
        let mut seen = Seen::default();
        // Services first, so `depends on` can name a service declared below it.
        let names: Vec<&ast::Ident> = s
            .stmts
            .iter()
            .filter_map(|st| match &st.kind {
                ast::SystemStmt::Service(svc) => Some(&svc.name),
                _ => None,
            })
            .collect();
        let mut service_names: Vec<&str> = Vec::new();
        let mut first_seen: HashMap<&str, Span> = HashMap::new();
        for n in &names {
            if let Some(prev_span) = first_seen.get(n.name.as_str()).copied() {
                let prev = ast::Ident {
                    name: n.name.clone(),
                    span: prev_span,
                };
                self.diags.push(
                    Diagnostic::error(
                        Code::Duplicate,
                        self.file(),
                        n.span,
                        format!(
                            "service `{}` is declared twice in `{}`",
                            n.name, s.name.name
                        ),
                    )
                    .with_label("declared again here")
                    .with_secondary(prev.span, "first declared here"),
                );
            } else {
                first_seen.insert(&n.name, n.span);
                service_names.push(&n.name);
            }
        }
        for st in &s.stmts {
            match &st.kind {
                ast::SystemStmt::Builtin(b) => {
                    if let Some(prev) = target_span {
                        self.conflict(
                            st.span,
                            prev,
                            &format!("system `{}` has two targets", s.name.name),
                            "a system has one target: `builtin` or `base`, once",
                        );
                    }
                    target_span = Some(st.span);
                    if let Some(v) = self.option(b, "builtin target", &[("demo_shop", "demo_shop")])
                    {
                        m.target = SystemTarget::Builtin(v.to_string());
                    }
                }
                ast::SystemStmt::Base(e) => {
                    if let Some(prev) = target_span {
                        self.conflict(
                            st.span,
                            prev,
                            &format!("system `{}` has two targets", s.name.name),
                            "a system has one target: `builtin` or `base`, once",
                        );
                    }
                    target_span = Some(st.span);
                    if let Some(v) = self.string(e, cx, "`base` is the system's URL") {
                        if let StrValue::Literal { value } = &v {
                            if !(value.starts_with("http://") || value.starts_with("https://")) {
                                self.diags.push(
                                    Diagnostic::error(
                                        Code::OutOfRange,
                                        self.file(),
                                        e.span,
                                        format!("`{value}` is not an http:// or https:// URL"),
                                    )
                                    .with_label("not a URL")
                                    .with_help(
                                        "write the base URL, like \"http://127.0.0.1:8080\"",
                                    ),
                                );
                            }
                        }
                        m.target = SystemTarget::Base(v);
                    }
                }
                ast::SystemStmt::Header(h) => {
                    if let Some(v) = self.string(&h.value, cx, "header values are strings") {
                        m.headers.push((h.name.value.clone(), v));
                    }
                }
                ast::SystemStmt::Timeout(e) => {
                    seen.once(self, "timeout", st.span);
                    m.timeout = self.duration(e, cx, "the request timeout");
                }
                ast::SystemStmt::Protocol(p) => {
                    seen.once(self, "protocol", st.span);
                    if let Some(v) = self.option(
                        p,
                        "protocol",
                        &[("http1", Protocol::Http1), ("http2", Protocol::Http2)],
                    ) {
                        m.protocol = v;
                    }
                }
                ast::SystemStmt::Service(svc) => {
                    let sm = self.service(svc, &service_names, cx);
                    m.services.push(sm);
                }
            }
        }
        if target_span.is_none() {
            self.diags.push(
                Diagnostic::error(
                    Code::Missing,
                    self.file(),
                    s.name.span,
                    format!("system `{}` has no target", s.name.name),
                )
                .with_label("where does the traffic go?")
                .with_help("add `base \"http://host:port\"` or `builtin demo_shop`"),
            );
        }
        // Drop duplicate services so indices stay unique by name.
        let mut seen_names = std::collections::HashSet::new();
        m.services.retain(|s| seen_names.insert(s.name.clone()));
        m
    }

    /// `message` says what clashes ("system `shop` has two targets"); the labels point at
    /// both statements.
    fn conflict(&mut self, span: Span, prev: Span, message: &str, help: &str) {
        let text = self.text_of(prev);
        let first: String = text.chars().take(40).collect();
        self.diags.push(
            Diagnostic::error(Code::Conflict, self.file(), span, message.to_string())
                .with_label("this one")
                .with_secondary(prev, format!("conflicts with `{first}`"))
                .with_help(help.to_string()),
        );
    }

    fn service(&mut self, s: &ast::Service, siblings: &[&str], cx: &Ctx) -> ServiceModel {
        let mut m = ServiceModel {
            name: s.name.name.clone(),
            routes: Vec::new(),
            depends_on: Vec::new(),
            upstream: None,
            process: None,
            headers: Vec::new(),
            timeout: None,
            capacity: None,
            origin: Origin {
                file: self.file(),
                span: s.span,
            },
        };
        let mut seen = Seen::default();
        for st in &s.stmts {
            match &st.kind {
                ast::ServiceStmt::Route(r) => {
                    let route = self.route(r, cx);
                    m.routes.push(route);
                }
                ast::ServiceStmt::DependsOn(deps) => {
                    for d in deps {
                        if d.name == s.name.name {
                            self.diags.push(
                                Diagnostic::error(
                                    Code::Conflict,
                                    self.file(),
                                    d.span,
                                    format!("service `{}` cannot depend on itself", d.name),
                                )
                                .with_label("itself"),
                            );
                        } else if let Some(i) = siblings.iter().position(|n| *n == d.name) {
                            m.depends_on.push(i);
                        } else {
                            let mut diag = Diagnostic::error(
                                Code::UnknownName,
                                self.file(),
                                d.span,
                                format!("unknown service `{}`", d.name),
                            )
                            .with_label("no service by this name in this system");
                            if let Some(sug) = suggest(&d.name, siblings.iter().copied()) {
                                diag = diag.with_help(format!("did you mean `{sug}`?"));
                            }
                            self.diags.push(diag);
                        }
                    }
                }
                ast::ServiceStmt::Upstream(e) => {
                    seen.once(self, "upstream", st.span);
                    if let Some(v) = self.string(e, cx, "an upstream is \"host:port\"") {
                        if let StrValue::Literal { value } = &v {
                            let ok = value
                                .rsplit_once(':')
                                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
                            if !ok {
                                self.diags.push(
                                    Diagnostic::error(Code::OutOfRange, self.file(), e.span, format!("`{value}` is not host:port"))
                                        .with_label("expected host:port")
                                        .with_help("write the address the service calls, like \"127.0.0.1:9101\""),
                                );
                            }
                        }
                        m.upstream = Some(v);
                    }
                }
                ast::ServiceStmt::Process(p) => {
                    seen.once(self, "process", st.span);
                    m.process = match p {
                        ast::ProcessRef::Pidfile(e) => self
                            .string(e, cx, "a pid file path")
                            .map(ProcessModel::Pidfile),
                        ast::ProcessRef::Name(e) => {
                            self.string(e, cx, "a process name").map(ProcessModel::Name)
                        }
                        ast::ProcessRef::Command(e) => self
                            .string(e, cx, "a command line")
                            .map(ProcessModel::Command),
                    };
                }
                ast::ServiceStmt::Header(h) => {
                    if let Some(v) = self.string(&h.value, cx, "header values are strings") {
                        m.headers.push((h.name.value.clone(), v));
                    }
                }
                ast::ServiceStmt::Timeout(e) => {
                    seen.once(self, "timeout", st.span);
                    m.timeout = self.duration(e, cx, "the request timeout");
                }
                ast::ServiceStmt::Capacity(e) => {
                    seen.once(self, "capacity", st.span);
                    m.capacity = self.count(e, cx, "capacity", 1.0, 1e6).map(|c| c as f64);
                }
            }
        }
        if m.routes.is_empty()
            && m.upstream.is_none()
            && m.process.is_none()
            && !s.stmts.iter().any(|s| {
                matches!(
                    s.kind,
                    ast::ServiceStmt::Upstream(_)
                        | ast::ServiceStmt::Process(_)
                        | ast::ServiceStmt::Route(_)
                )
            })
        {
            self.diags.push(
                Diagnostic::error(
                    Code::Missing,
                    self.file(),
                    s.name.span,
                    format!(
                        "service `{}` has no route, upstream or process",
                        s.name.name
                    ),
                )
                .with_label("how is it reached?")
                .with_help(
                    "add `route GET \"/path\"`, `upstream \"host:port\"` or `process name \"...\"`",
                ),
            );
        }
        m
    }

    fn route(&mut self, r: &ast::Route, cx: &Ctx) -> RouteModel {
        if !r.path.value.starts_with('/') {
            self.diags.push(
                Diagnostic::error(
                    Code::OutOfRange,
                    self.file(),
                    r.path.span,
                    format!("route path \"{}\" does not start with `/`", r.path.value),
                )
                .with_label("not a path")
                .with_help(format!(
                    "write \"/{}\"",
                    r.path.value.trim_start_matches('/')
                )),
            );
        }
        self.templates_in(&r.path.value, r.path.span, cx);
        let body = r.body.as_ref().and_then(|b| match b {
            ast::Body::Json(j) => Some(BodyModel::Json(self.json(j, cx))),
            ast::Body::Size(e) => match self.constant(e, Ty::Size, cx, "a body size")? {
                Value::Size(s) => Some(BodyModel::Size(s)),
                _ => None,
            },
            ast::Body::Raw(s) => {
                self.templates_in(&s.value, s.span, cx);
                Some(BodyModel::Raw(s.value.clone()))
            }
        });
        let expect_status = r
            .expect_status
            .iter()
            .filter_map(|(text, span)| {
                let p = StatusPattern::parse(text);
                if p.is_none() {
                    self.out_of_range(
                        *span,
                        &format!("`{text}` is not an HTTP status"),
                        "statuses run from 100 to 599; classes from 1xx to 5xx",
                    );
                }
                p
            })
            .collect();
        let weight = match &r.weight {
            Some(e) => match self.constant(e, Ty::Number, cx, "a route weight") {
                Some(Value::Number(w)) if w > 0.0 => w,
                Some(_) => {
                    self.out_of_range(
                        e.span,
                        "a route weight must be above zero",
                        "weights are relative: 1 and 3 send a quarter and three quarters",
                    );
                    1.0
                }
                None => 1.0,
            },
            None => 1.0,
        };
        RouteModel {
            method: r.method.name.clone(),
            path: r.path.value.clone(),
            body,
            expect_status,
            weight,
        }
    }

    /// Checks `{feeder.column}` placeholders in a path or body string.
    fn templates_in(&mut self, text: &str, span: Span, cx: &Ctx) {
        let mut rest = text;
        let mut offset = 0;
        while let Some(open) = rest.find('{') {
            if open > 0 && rest.as_bytes()[open - 1] == b'\\' {
                offset += open + 1;
                rest = &rest[open + 1..];
                continue;
            }
            let Some(close) = rest[open..].find('}') else {
                break;
            };
            let inner = &rest[open + 1..open + close];
            let feeder = inner.split('.').next().unwrap_or("");
            // Spans inside a string are approximate when escapes precede; point at the string then.
            let inner_span = if text.len() + 2 == span.len() {
                Span::new(
                    span.start + 1 + offset + open,
                    span.start + 1 + offset + open + close + 1,
                )
            } else {
                span
            };
            let builtin = matches!(feeder, "random" | "seq" | "uuid");
            if !builtin {
                let id = ast::Ident {
                    name: feeder.to_string(),
                    span: inner_span,
                };
                if self
                    .lookup_quiet(cx, feeder)
                    .is_some_and(|d| self.decls[d].kind == DeclKind::Data)
                {
                } else if inner.contains('.') {
                    self.resolve(cx, &id, DeclKind::Data);
                } else {
                    self.diags.push(
                        Diagnostic::error(Code::UnknownName, self.file(), inner_span, format!("`{{{inner}}}` names no feeder column"))
                            .with_label("expected {feeder.column}")
                            .with_help("placeholders are `{feeder.column}` from a `data` declaration, `{random.N}`, `{seq}` or `{uuid}`; write `\\{` for a literal brace"),
                    );
                }
            }
            offset += open + close + 1;
            rest = &rest[open + close + 1..];
        }
    }

    fn json(&mut self, j: &ast::Json, cx: &Ctx) -> serde_json::Value {
        use serde_json::Value as J;
        match &j.kind {
            ast::JsonKind::Object(pairs) => {
                let mut map = serde_json::Map::new();
                for (k, v) in pairs {
                    if map.contains_key(&k.value) {
                        self.diags.push(
                            Diagnostic::error(
                                Code::Duplicate,
                                self.file(),
                                k.span,
                                format!("key \"{}\" appears twice in this object", k.value),
                            )
                            .with_label("again here"),
                        );
                    }
                    let value = self.json(v, cx);
                    map.insert(k.value.clone(), value);
                }
                J::Object(map)
            }
            ast::JsonKind::Array(items) => {
                J::Array(items.iter().map(|i| self.json(i, cx)).collect())
            }
            ast::JsonKind::String(s) => {
                self.templates_in(s, j.span, cx);
                J::String(s.clone())
            }
            ast::JsonKind::Number(n) => n
                .parse::<serde_json::Number>()
                .map(J::Number)
                .unwrap_or(J::Null),
            ast::JsonKind::Bool(b) => J::Bool(*b),
            ast::JsonKind::Null => J::Null,
        }
    }

    // ------------------------------------------------------------------------------------------
    // traffic

    pub(super) fn traffic(
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

    fn think(&mut self, t: &ast::Think, cx: &Ctx) -> Option<(Duration, Duration)> {
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

    fn session(&mut self, s: &ast::Session, cx: &Ctx) -> SessionModel {
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
    pub(super) fn service_path(&mut self, p: &ast::Path, cx: &Ctx) -> Option<(usize, usize)> {
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

    // ------------------------------------------------------------------------------------------
    // fault

    pub(super) fn fault(
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

    fn fault_target(&mut self, t: &ast::Target, cx: &Ctx) -> Option<FaultTarget> {
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

    // ------------------------------------------------------------------------------------------
    // window, event, slo, abort, remedy

    fn window(&mut self, w: &ast::Window, cx: &Ctx) -> WindowModel {
        let mut rules = Vec::new();
        for st in &w.stmts {
            match &st.kind {
                ast::WindowStmt::Every {
                    days,
                    from,
                    to,
                    zone,
                } => {
                    let mut mask = 0u8;
                    for d in days {
                        let bits = match d.name.as_str() {
                            "day" | "daily" => 0x7f,
                            "weekday" | "weekdays" => 0x1f,
                            "weekend" | "weekends" => 0x60,
                            "mon" => 1,
                            "tue" => 2,
                            "wed" => 4,
                            "thu" => 8,
                            "fri" => 16,
                            "sat" => 32,
                            "sun" => 64,
                            _ => {
                                self.unknown_option(
                                    d,
                                    "day",
                                    &[
                                        "day", "weekday", "weekend", "mon", "tue", "wed", "thu",
                                        "fri", "sat", "sun",
                                    ],
                                );
                                0
                            }
                        };
                        mask |= bits;
                    }
                    let from_t = self.constant(from, Ty::Time, cx, "");
                    let to_t = self.constant(to, Ty::Time, cx, "");
                    let offset = match zone {
                        Some((z, _)) if z != "UTC" => {
                            let sign = if z.starts_with('-') { -1 } else { 1 };
                            let h: i32 = z[1..3].parse().unwrap_or(0);
                            let mm: i32 = z[4..6].parse().unwrap_or(0);
                            if h > 14 || mm > 59 {
                                self.out_of_range(
                                    zone.as_ref().map_or(st.span, |z| z.1),
                                    "UTC offsets run from -14:00 to +14:00",
                                    "",
                                );
                            }
                            sign * (h * 60 + mm)
                        }
                        _ => 0,
                    };
                    if let (Some(Value::Time(f)), Some(Value::Time(t))) = (from_t, to_t) {
                        if f == t {
                            self.out_of_range(from.span.to(to.span), "this window is empty: it starts when it ends", "write `02:00..04:00`; a window may wrap past midnight, like `22:00..02:00`");
                        }
                        rules.push(WindowRule::Every {
                            days: mask,
                            from: f,
                            to: t,
                            utc_offset_min: offset,
                        });
                    }
                }
                ast::WindowStmt::Between { from, to } => {
                    let f = self.constant(
                        from,
                        Ty::Timestamp,
                        cx,
                        "windows run between two timestamps",
                    );
                    let t =
                        self.constant(to, Ty::Timestamp, cx, "windows run between two timestamps");
                    if let (Some(Value::Timestamp(f)), Some(Value::Timestamp(t))) = (f, t) {
                        if t <= f {
                            self.out_of_range(
                                st.span,
                                "this window ends before it starts",
                                "write the earlier timestamp first",
                            );
                        }
                        rules.push(WindowRule::Between { from: f, to: t });
                    }
                }
            }
        }
        if w.stmts.is_empty() {
            self.diags.push(
                Diagnostic::error(Code::Missing, self.file(), w.name.span, format!("window `{}` is never open", w.name.name))
                    .with_label("no times")
                    .with_help("add `every day 02:00..04:00 UTC` or `from 2026-12-01T00:00Z to 2026-12-02T00:00Z`"),
            );
        }
        WindowModel {
            name: w.name.name.clone(),
            rules,
            origin: Origin {
                file: self.file(),
                span: w.span,
            },
        }
    }

    fn event(&mut self, e: &ast::Event, cx: &Ctx) -> EventModel {
        let mut m = EventModel {
            name: e.name.name.clone(),
            at: Timestamp(0),
            lasts: Duration::from_secs(86_400.0),
            expect: Multiplier(1.0),
            origin: Origin {
                file: self.file(),
                span: e.span,
            },
        };
        let mut seen = Seen::default();
        let mut has_at = false;
        for st in &e.stmts {
            match &st.kind {
                ast::EventStmt::At(x) => {
                    seen.once(self, "at", st.span);
                    has_at = true;
                    if let Some(Value::Timestamp(t)) =
                        self.constant(x, Ty::Timestamp, cx, "when the event starts")
                    {
                        m.at = t;
                    }
                }
                ast::EventStmt::Lasts(x) => {
                    seen.once(self, "lasts", st.span);
                    if let Some(d) = self.duration(x, cx, "how long the event lasts") {
                        m.lasts = d;
                    }
                }
                ast::EventStmt::Expect(x) => {
                    seen.once(self, "expect", st.span);
                    if let Some(Value::Multiplier(v)) = self.constant(
                        x,
                        Ty::Multiplier,
                        cx,
                        "the expected load, as a multiple of normal, like `4x`",
                    ) {
                        m.expect = v;
                    }
                }
            }
        }
        if !has_at {
            self.diags.push(
                Diagnostic::error(
                    Code::Missing,
                    self.file(),
                    e.name.span,
                    format!("event `{}` has no date", e.name.name),
                )
                .with_label("when?")
                .with_help("add `at 2026-11-27T00:00Z`"),
            );
        }
        m
    }

    pub(super) fn slo(
        &mut self,
        name: &ast::Ident,
        stmts: &[ast::Stmt<ast::Expr>],
        cx: &Ctx,
        _span: Span,
    ) -> Vec<Condition> {
        if stmts.is_empty() {
            self.diags.push(
                Diagnostic::error(
                    Code::Missing,
                    self.file(),
                    name.span,
                    format!("slo `{}` has no objectives", name.name),
                )
                .with_label("empty")
                .with_help("add an objective such as `p99(shop) < 400ms`"),
            );
        }
        stmts
            .iter()
            .filter_map(|s| self.condition(&s.kind, cx, Duration::ZERO))
            .collect()
    }

    fn abort(&mut self, a: &ast::Abort, cx: &Ctx) -> Option<Condition> {
        let sustain = a
            .for_
            .as_ref()
            .map_or(Some(Duration::ZERO), |f| {
                self.duration(f, cx, "how long the condition must hold")
            })
            .unwrap_or(Duration::ZERO);
        let c = self.condition(&a.cond, cx, sustain)?;
        Some(c)
    }

    pub(super) fn remedy(
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

    fn action(&mut self, a: &ast::Action, cx: &Ctx) -> Option<ActionModel> {
        Some(match a {
            ast::Action::ScaleBy { target, by } => {
                let (system, service) = self.service_path(target, cx)?;
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
                let to = self.count(to, cx, "the instance count", 0.0, 10_000.0)?;
                ActionModel::ScaleTo {
                    system,
                    service,
                    to,
                }
            }
            ast::Action::Shift { amount, from, to } => {
                let f = self.fraction(amount, cx, "the share of traffic to shift");
                let from = self.service_path(from, cx);
                let to = self.service_path(to, cx);
                ActionModel::Shift {
                    fraction: f?,
                    from: from?,
                    to: to?,
                }
            }
            ast::Action::Failover { target, to } => {
                let t = self.service_path(target, cx);
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

    // ------------------------------------------------------------------------------------------
    // scenario

    fn scenario(&mut self, s: &ast::Scenario, cx: &Ctx) -> ScenarioModel {
        use ast::ScenarioStmt as S;
        let mut m = ScenarioModel {
            name: s.name.name.clone(),
            name_span: s.name.span,
            windows: Vec::new(),
            steps: Vec::new(),
            expects: Vec::new(),
            aborts: Vec::new(),
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
                S::Record => {
                    seen.once(self, "record profile", st.span);
                    m.record = true;
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

    fn step_ref(&mut self, id: &ast::Ident, names: &StepNames) -> Option<usize> {
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

    fn step(
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

    // ------------------------------------------------------------------------------------------
    // templates

    fn template_decl(&mut self, t: &ast::Template) {
        // Check the body once with placeholder arguments, so errors in a template show up
        // even if nothing instantiates it.
        let mut cx = Ctx::default();
        let mut names: Vec<&str> = Vec::new();
        for p in &t.params {
            if names.contains(&p.name.name.as_str()) {
                self.diags.push(
                    Diagnostic::error(
                        Code::Duplicate,
                        self.file(),
                        p.name.span,
                        format!("parameter `{}` is declared twice", p.name.name),
                    )
                    .with_label("again here"),
                );
            }
            names.push(&p.name.name);
            let Some(ty) = self.type_name(&p.ty) else {
                continue;
            };
            let value = match &p.default {
                Some(d) => {
                    let te = super::expr::coerce(self.expr(d, &Ctx::default()), ty);
                    if te.ty != ty && te.ty != Ty::Unknown {
                        self.mismatch(
                            &te,
                            ty.describe(),
                            &format!("parameter `{}` is {}", p.name.name, ty.noun()),
                        );
                    }
                    te
                }
                None => placeholder(ty, p.name.span),
            };
            cx.locals.push((p.name.name.clone(), value));
        }
        let origin = Origin {
            file: self.file(),
            span: t.span,
        };
        match &t.body {
            ast::TemplateBody::Fault(stmts) => {
                self.fault(&t.name, stmts, &cx, t.span);
            }
            ast::TemplateBody::Traffic(stmts) => {
                self.traffic(&t.name, stmts, &cx, t.span);
            }
            ast::TemplateBody::Slo(stmts) => {
                self.slo(&t.name, stmts, &cx, t.span);
            }
            ast::TemplateBody::Remedy(stmts) => {
                self.remedy(&t.name, stmts, &cx, t.span);
            }
        }
        let _ = origin;
    }

    /// `fault x = template(args)`: checks the arguments and builds the body with them.
    fn instantiate<T>(
        &mut self,
        call: &ast::Call,
        kind: &str,
        _span: Span,
        build: impl FnOnce(&mut Self, &'a ast::TemplateBody, &Ctx) -> Option<T>,
    ) -> Option<T> {
        let cx = Ctx::default();
        let decl = self.lookup_kind(&cx, &call.func, DeclKind::Template)?;
        let (tmodule, titem) = (self.decls[decl].module, self.decls[decl].item);
        let Item::Template(t) = &self.modules[tmodule].ast.items[titem] else {
            return None;
        };
        if t.body.kind() != kind {
            self.diags.push(
                Diagnostic::error(
                    Code::WrongKind,
                    self.file(),
                    call.func.span,
                    format!(
                        "`{}` is a {} template, not a {kind} template",
                        call.func.name,
                        t.body.kind()
                    ),
                )
                .with_label(format!("used as a {kind}"))
                .with_help(format!(
                    "declare it as `{} x = {}(...)`",
                    t.body.kind(),
                    call.func.name
                )),
            );
            return None;
        }
        // Bind arguments: labelled by name, unlabelled in order.
        let mut bound: Vec<Option<TExpr>> = vec![None; t.params.len()];
        let mut ok = true;
        let mut positional = 0;
        for a in &call.args {
            let idx = match &a.label {
                Some(l) => match t.params.iter().position(|p| p.name.name == l.name) {
                    Some(i) => i,
                    None => {
                        let names: Vec<&str> =
                            t.params.iter().map(|p| p.name.name.as_str()).collect();
                        let mut d = Diagnostic::error(
                            Code::BadArguments,
                            self.file(),
                            l.span,
                            format!("`{}` has no parameter `{}`", call.func.name, l.name),
                        )
                        .with_label("unknown parameter");
                        d = match suggest(&l.name, names.iter().copied()) {
                            Some(s) => d.with_help(format!("did you mean `{s}`?")),
                            None => d.with_help(format!("its parameters are {}", names.join(", "))),
                        };
                        self.diags.push(d);
                        ok = false;
                        continue;
                    }
                },
                None => {
                    positional += 1;
                    positional - 1
                }
            };
            if idx >= t.params.len() {
                self.diags.push(
                    Diagnostic::error(
                        Code::BadArguments,
                        self.file(),
                        a.value.span,
                        format!("`{}` takes {} arguments", call.func.name, t.params.len()),
                    )
                    .with_label("one too many"),
                );
                ok = false;
                continue;
            }
            if bound[idx].is_some() {
                self.diags.push(
                    Diagnostic::error(
                        Code::BadArguments,
                        self.file(),
                        a.value.span,
                        format!("parameter `{}` is given twice", t.params[idx].name.name),
                    )
                    .with_label("again here"),
                );
                ok = false;
                continue;
            }
            let mut te = self.expr(&a.value, &cx);
            if let Some(want) = Ty::from_name(&t.params[idx].ty.name) {
                te = super::expr::coerce(te, want);
                if te.ty != want && te.ty != Ty::Unknown {
                    self.mismatch(
                        &te,
                        want.describe(),
                        &format!(
                            "parameter `{}` of `{}` is {}",
                            t.params[idx].name.name,
                            call.func.name,
                            want.noun()
                        ),
                    );
                    ok = false;
                }
            }
            if te.ty == Ty::Unknown {
                ok = false;
            }
            bound[idx] = Some(te);
        }
        // Defaults and missing arguments. Defaults are typed in the template's own module.
        let caller = self.cur;
        let mut locals = Vec::new();
        for (i, p) in t.params.iter().enumerate() {
            match bound[i].take() {
                Some(v) => locals.push((p.name.name.clone(), v)),
                None => match &p.default {
                    Some(d) => {
                        self.cur = tmodule;
                        let v = self.expr(d, &Ctx::default());
                        self.cur = caller;
                        locals.push((p.name.name.clone(), v));
                    }
                    None => {
                        self.diags.push(
                            Diagnostic::error(
                                Code::BadArguments,
                                self.file(),
                                call.span,
                                format!(
                                    "`{}` needs the argument `{}`",
                                    call.func.name, p.name.name
                                ),
                            )
                            .with_label(format!("`{}` missing", p.name.name))
                            .with_help(format!(
                                "add `{}: ...` ({})",
                                p.name.name,
                                Ty::from_name(&p.ty.name).map_or("a value", |t| t.describe())
                            )),
                        );
                        ok = false;
                    }
                },
            }
        }
        if !ok {
            return None;
        }
        // Build the body in the template's module, with the arguments as locals. Problems
        // found now are caused by the arguments: report them at the call.
        self.cur = tmodule;
        let saved = std::mem::take(&mut self.diags);
        let result = build(self, &t.body, &Ctx { locals });
        let found = std::mem::replace(&mut self.diags, saved);
        self.cur = caller;
        for d in found.into_iter().filter(Diagnostic::is_error) {
            self.diags.push(
                Diagnostic::error(
                    d.code,
                    self.file(),
                    call.span,
                    format!("in `{}`: {}", call.func.name, d.message),
                )
                .with_label("with these arguments")
                .with_help(d.help.unwrap_or_else(|| {
                    "check the arguments against the template's parameters".into()
                })),
            );
        }
        result
    }

    // ------------------------------------------------------------------------------------------
    // unused

    fn unused(&mut self) {
        let Some(root) = self.modules.first() else {
            return;
        };
        let file = root.file;
        let mut warnings = Vec::new();
        // A name some error already suggested ("did you mean `checkout`?") is not unused:
        // it is misspelt somewhere, and that error says so.
        let suggested: std::collections::HashSet<String> = self
            .diags
            .iter()
            .filter_map(|d| d.help.as_deref())
            .filter_map(|h| h.strip_prefix("did you mean `"))
            .filter_map(|h| h.split('`').next())
            .map(str::to_string)
            .collect();
        for b in self.ns[0].values().map(|&b| &self.bindings[b]) {
            let d = &self.decls[b.decl];
            if b.used || d.kind == DeclKind::Scenario || suggested.contains(&d.name) {
                continue;
            }
            if b.import {
                warnings.push(
                    Diagnostic::warning(
                        Code::Unused,
                        file,
                        b.span,
                        format!("`{}` is imported but never used", d.name),
                    )
                    .with_label("unused import")
                    .with_help("remove it from the import list"),
                );
            } else if d.module == 0 {
                // A system or traffic can be the point of a file that other files import;
                // only warn when the root file has scenarios that could use them.
                warnings.push(
                    Diagnostic::warning(
                        Code::Unused,
                        file,
                        b.span,
                        format!(
                            "{} `{}` is declared but never used",
                            &d.kind.noun()[d.kind.noun().find(' ').unwrap_or(0) + 1..],
                            d.name
                        ),
                    )
                    .with_label("never used")
                    .with_help("use it in a scenario, or remove it"),
                );
            }
        }
        let root_has_scenario = self
            .decls
            .iter()
            .any(|d| d.module == 0 && d.kind == DeclKind::Scenario);
        if root_has_scenario {
            self.diags.extend(warnings);
        }
    }
}

/// A scenario's step names, in order and indexed.
struct StepNames {
    list: Vec<String>,
    index: HashMap<String, usize>,
}

/// Tracks statements that may appear once per block.
#[derive(Default)]
struct Seen {
    seen: Vec<(&'static str, Span)>,
}

impl Seen {
    fn once(&mut self, c: &mut Checker, what: &'static str, span: Span) {
        if let Some((_, prev)) = self.seen.iter().find(|(w, _)| *w == what) {
            let prev = *prev;
            c.diags.push(
                Diagnostic::error(
                    Code::Conflict,
                    c.file(),
                    span,
                    format!("`{what}` is given twice in this block"),
                )
                .with_label("again here")
                .with_secondary(prev, "first here")
                .with_help("keep one"),
            );
        } else {
            self.seen.push((what, span));
        }
    }
}

fn is_effect(k: &ast::FaultStmt) -> bool {
    !matches!(
        k,
        ast::FaultStmt::On(_)
            | ast::FaultStmt::Toxicity(_)
            | ast::FaultStmt::Match(_)
            | ast::FaultStmt::Toxiproxy { .. }
    )
}

fn t_span(t: &ast::Target) -> Span {
    match t {
        ast::Target::Stressed { span, .. } => *span,
        ast::Target::Fixed(p) => p.span,
    }
}

fn a_span(e: &ast::Expr) -> Span {
    e.span
}

fn plural(k: DeclKind) -> &'static str {
    match k {
        DeclKind::Param => "params",
        DeclKind::Data => "data feeders",
        DeclKind::System => "systems",
        DeclKind::Traffic => "traffics",
        DeclKind::Fault => "faults",
        DeclKind::Window => "windows",
        DeclKind::Event => "events",
        DeclKind::Slo => "slos",
        DeclKind::Remedy => "remedies",
        DeclKind::Scenario => "scenarios",
        DeclKind::Template => "templates",
    }
}

fn placeholder(ty: Ty, span: Span) -> TExpr {
    let kind = match ty {
        Ty::Service | Ty::System | Ty::Traffic | Ty::Fault | Ty::Slo => {
            TKind::Ref(RefTarget::Placeholder)
        }
        Ty::Number => TKind::Const(Value::Number(1.0)),
        Ty::Duration => TKind::Const(Value::Duration(Duration(1000.0))),
        Ty::Rate => TKind::Const(Value::Rate(Rate(1.0))),
        Ty::Size => TKind::Const(Value::Size(Bytes(1024.0))),
        Ty::Bandwidth => TKind::Const(Value::Bandwidth(Bandwidth(1024.0))),
        Ty::Percent => TKind::Const(Value::Percent(Percent(1.0))),
        Ty::Multiplier => TKind::Const(Value::Multiplier(Multiplier(1.0))),
        Ty::Status => TKind::Const(Value::Status(StatusPattern::Exact(503))),
        Ty::Timestamp => TKind::Const(Value::Timestamp(Timestamp(0))),
        Ty::Time => TKind::Const(Value::Time(TimeOfDay(0))),
        // An environment placeholder: literal-only checks (URL shape and so on) skip it.
        Ty::String => TKind::Const(Value::Str(StrValue::Env {
            name: String::new(),
            default: None,
        })),
        Ty::Bool => TKind::Const(Value::Bool(true)),
        Ty::Unknown => TKind::Error,
    };
    TExpr { kind, ty, span }
}

fn empty_traffic(name: &str, origin: Origin) -> TrafficModel {
    TrafficModel {
        name: name.to_string(),
        system: None,
        learn: None,
        forecast: None,
        like: None,
        rate: None,
        arrival: Arrival::Poisson,
        stages: Vec::new(),
        mix: Vec::new(),
        sessions: Vec::new(),
        users: None,
        scale: Multiplier(1.0),
        origin,
    }
}
