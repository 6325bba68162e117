//! The checker proper: collects declarations from every module into namespaces, then checks
//! each kind of declaration in dependency order (params, data, systems, traffic, faults,
//! windows, events, slos, aborts, remedies, scenarios), building the Model as it goes.

use std::collections::HashMap;

mod actuator;
mod fault;
mod items;
mod metrics;
mod names;
mod remedy;
mod scenario;
mod schedule;
mod system;
mod template;
mod traffic;
mod unused;

use super::loader::Module;
use super::model::*;
use super::names::NameRef;
use super::Options;
use crate::diagnostic::{suggest, Code, Diagnostic, FileId, SourceMap, Span};
use crate::syntax::ast::{self, Body2, Item};
use crate::units::*;

/// The kinds of top-level items the checker binds names to. Narrower than the public
/// [`super::names::DeclKind`] on purpose: only top-level items are looked up by name here, and
/// templates of every kind share one namespace and one index space (`template fault f` and
/// `template slo f` clash), so the template kind is not part of it.
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
    /// Every name use resolved so far (the name table's references).
    refs: Vec<NameRef>,
    cur: usize,
    opts: &'a Options,
}

/// A declaration as the name table takes it: its file, where its name is, whether it is used.
pub(super) type Declared = (FileId, Span, bool);

pub(super) fn check(
    modules: &[Module],
    sources: &SourceMap,
    opts: &Options,
) -> (Model, Vec<Diagnostic>, Vec<Declared>, Vec<NameRef>) {
    let mut c = Checker {
        modules,
        sources,
        diags: Vec::new(),
        decls: Vec::new(),
        model: Model::default(),
        ns: vec![HashMap::new(); modules.len()],
        bindings: Vec::new(),
        refs: Vec::new(),
        cur: 0,
        opts,
    };
    c.collect();
    c.check_all();
    c.own_scenarios();
    c.unrunnable_faults();
    c.unused();
    // What the name table needs: each declaration by where its name is, and the uses.
    let decls = c
        .decls
        .iter()
        .map(|d| (d.file, d.name_span, d.used))
        .collect();
    let refs = std::mem::take(&mut c.refs);
    (c.model, c.diags, decls, refs)
}

impl<'a> Checker<'a> {
    pub(super) fn file(&self) -> FileId {
        self.modules[self.cur].file
    }

    fn items(&self, module: usize) -> &'a [Item] {
        &self.modules[module].ast.items
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
