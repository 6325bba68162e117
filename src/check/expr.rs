//! Expressions: name resolution, unit and type rules, constant folding.

use super::checker::{Checker, Ctx, DeclKind};
use super::model::*;
use crate::diagnostic::{suggest, Code, Diagnostic, Span};
use crate::syntax::ast::{self, BinaryOp, ExprKind, Lit, LitValue, UnaryOp};
use crate::units::*;

const FUNCTIONS: &[&str] = &[
    "p50",
    "p90",
    "p95",
    "p99",
    "p999",
    "max_latency",
    "error_rate",
    "throughput",
    "saturation",
    "availability",
    "recovery",
    "peak",
    "env",
    "secret",
];

impl Checker<'_> {
    /// Types an expression. Errors are reported; the result then has `Ty::Unknown`.
    pub(super) fn expr(&mut self, e: &ast::Expr, cx: &Ctx) -> TExpr {
        let span = e.span;
        match &e.kind {
            ExprKind::Lit(Lit {
                value: LitValue::Invalid,
                ..
            }) => error_expr(span),
            ExprKind::Lit(lit) => {
                let v = lit_value(&lit.value);
                TExpr {
                    ty: v.ty(),
                    kind: TKind::Const(v),
                    span,
                }
            }
            ExprKind::Paren(inner) => {
                let mut t = self.expr(inner, cx);
                t.span = span;
                t
            }
            ExprKind::Path(p) => self.path(p, cx),
            ExprKind::Call(c) => self.call(c, cx),
            ExprKind::Unary(op, x) => {
                let t = self.expr(x, cx);
                self.unary(*op, t, span)
            }
            ExprKind::Binary(op, l, r) => {
                let l = self.expr(l, cx);
                let r = self.expr(r, cx);
                self.binary(*op, l, r, span)
            }
        }
    }

    fn unary(&mut self, op: UnaryOp, t: TExpr, span: Span) -> TExpr {
        if t.ty == Ty::Unknown {
            return error_expr(span);
        }
        let ok = match op {
            UnaryOp::Not => t.ty == Ty::Bool,
            UnaryOp::Neg | UnaryOp::Pos => {
                t.constant().and_then(Value::magnitude).is_some() || is_numeric(t.ty)
            }
        };
        if !ok {
            let want = if op == UnaryOp::Not {
                "a condition"
            } else {
                "a number or a value with a unit"
            };
            self.diags.push(
                Diagnostic::error(
                    Code::BadOperator,
                    self.file(),
                    span,
                    format!("`{}` needs {want}, not {}", op.as_str().trim(), t.ty.noun()),
                )
                .with_label(format!("this is {}", t.ty.noun())),
            );
            return error_expr(span);
        }
        let ty = t.ty;
        if let Some(v) = t.constant() {
            let folded = match (op, v) {
                (UnaryOp::Not, Value::Bool(b)) => Some(Value::Bool(!b)),
                (UnaryOp::Pos, v) => Some(v.clone()),
                (UnaryOp::Neg, v) => v.magnitude().and_then(|m| Value::with_magnitude(ty, -m)),
                _ => None,
            };
            if let Some(v) = folded {
                return TExpr {
                    ty,
                    kind: TKind::Const(v),
                    span,
                };
            }
        }
        TExpr {
            ty,
            kind: TKind::Unary(op, Box::new(t)),
            span,
        }
    }

    fn binary(&mut self, op: BinaryOp, l: TExpr, r: TExpr, span: Span) -> TExpr {
        if l.ty == Ty::Unknown || r.ty == Ty::Unknown {
            return error_expr(span);
        }
        let Some(ty) = binary_type(op, l.ty, r.ty) else {
            let help = operator_help(op, l.ty, r.ty);
            // Point at the operator itself: the text between the operands.
            let text = &self.sources.get(self.file()).text;
            let between = text.get(l.span.end..r.span.start).unwrap_or("");
            let lead = between.len() - between.trim_start().len();
            let op_span = Span::new(
                l.span.end + lead,
                l.span.end + lead + between.trim().len().max(1),
            );
            let mut d = Diagnostic::error(
                Code::BadOperator,
                self.file(),
                op_span,
                format!("cannot {} {} and {}", op_verb(op), l.ty.noun(), r.ty.noun()),
            )
            .with_label(format!(
                "`{}` between {} and {}",
                op.as_str(),
                l.ty.noun(),
                r.ty.noun()
            ))
            .with_secondary(l.span, l.ty.noun())
            .with_secondary(r.span, r.ty.noun());
            if let Some(h) = help {
                d = d.with_help(h);
            }
            self.diags.push(d);
            return error_expr(span);
        };
        if let (Some(a), Some(b)) = (l.constant(), r.constant()) {
            if let Some(v) = fold(op, a, b, ty) {
                return TExpr {
                    ty,
                    kind: TKind::Const(v),
                    span,
                };
            }
        }
        TExpr {
            ty,
            kind: TKind::Binary(op, Box::new(l), Box::new(r)),
            span,
        }
    }

    fn path(&mut self, p: &ast::Path, cx: &Ctx) -> TExpr {
        let span = p.span;
        let first = &p.parts[0];
        // Locals first: template arguments and the traffic's own `rate`.
        if let Some((_, t)) = cx.locals.iter().find(|(n, _)| *n == first.name) {
            if p.parts.len() == 1 {
                let mut t = t.clone();
                t.span = span;
                return t;
            }
            if let TKind::Ref(RefTarget::System(sys)) = t.kind {
                return self.service_of(sys, &p.parts[1], p, span);
            }
            if t.kind == TKind::Ref(RefTarget::Placeholder) && t.ty == Ty::System {
                return TExpr {
                    ty: Ty::Service,
                    kind: TKind::Ref(RefTarget::Placeholder),
                    span,
                };
            }
        }
        let Some(decl) = self.lookup(cx, &first.name, first.span) else {
            return error_expr(span);
        };
        let (kind, index) = (self.decls[decl].kind, self.decls[decl].index);
        let t = match kind {
            DeclKind::Param => match self.model.params.get(index) {
                Some(pm) => TExpr {
                    ty: pm.value.ty(),
                    kind: TKind::Const(pm.value.clone()),
                    span,
                },
                None => {
                    self.diags.push(
                        Diagnostic::error(
                            Code::UnknownName,
                            self.file(),
                            first.span,
                            format!("param `{}` is used before it is declared", first.name),
                        )
                        .with_label("declared later")
                        .with_help("params may only use params declared above them"),
                    );
                    return error_expr(span);
                }
            },
            DeclKind::System => {
                if p.parts.len() >= 2 {
                    return self.service_of(index, &p.parts[1], p, span);
                }
                TExpr {
                    ty: Ty::System,
                    kind: TKind::Ref(RefTarget::System(index)),
                    span,
                }
            }
            DeclKind::Traffic => TExpr {
                ty: Ty::Traffic,
                kind: TKind::Ref(RefTarget::Traffic(index)),
                span,
            },
            DeclKind::Fault => TExpr {
                ty: Ty::Fault,
                kind: TKind::Ref(RefTarget::Fault(index)),
                span,
            },
            DeclKind::Slo => TExpr {
                ty: Ty::Slo,
                kind: TKind::Ref(RefTarget::Slo(index)),
                span,
            },
            other => {
                self.diags.push(
                    Diagnostic::error(
                        Code::WrongKind,
                        self.file(),
                        first.span,
                        format!("`{}` is {}, which has no value", first.name, other.noun()),
                    )
                    .with_label(format!("{} used as a value", other.noun()))
                    .with_secondary_in(
                        self.decls[decl].file,
                        self.file(),
                        self.decls[decl].name_span,
                        "declared here",
                    ),
                );
                return error_expr(span);
            }
        };
        if p.parts.len() > 1 {
            self.diags.push(
                Diagnostic::error(
                    Code::UnknownName,
                    self.file(),
                    p.parts[1].span,
                    format!("{} has no member `{}`", t.ty.noun(), p.parts[1].name),
                )
                .with_label("no such member")
                .with_help("only systems have members: their services, as in `shop.checkout`"),
            );
            return error_expr(span);
        }
        t
    }

    fn service_of(&mut self, sys: usize, part: &ast::Ident, p: &ast::Path, span: Span) -> TExpr {
        let Some(system) = self.model.systems.get(sys) else {
            return error_expr(span);
        };
        match system.services.iter().position(|s| s.name == part.name) {
            Some(svc) if p.parts.len() == 2 => TExpr {
                ty: Ty::Service,
                kind: TKind::Ref(RefTarget::Service(sys, svc)),
                span,
            },
            Some(_) => {
                self.diags.push(
                    Diagnostic::error(
                        Code::UnknownName,
                        self.file(),
                        p.parts[2].span,
                        format!(
                            "service `{}` has no member `{}`",
                            part.name, p.parts[2].name
                        ),
                    )
                    .with_label("services have no members"),
                );
                error_expr(span)
            }
            None => {
                let names: Vec<&str> = system.services.iter().map(|s| s.name.as_str()).collect();
                let mut d = Diagnostic::error(
                    Code::UnknownName,
                    self.file(),
                    part.span,
                    format!(
                        "unknown service `{}` in system `{}`",
                        part.name, system.name
                    ),
                )
                .with_label("not a service of this system");
                d = match suggest(&part.name, names.iter().copied()) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None if names.is_empty() => {
                        d.with_help(format!("system `{}` declares no services", system.name))
                    }
                    None => d.with_help(format!("`{}` has {}", system.name, names.join(", "))),
                };
                self.diags.push(d);
                error_expr(span)
            }
        }
    }

    fn call(&mut self, c: &ast::Call, cx: &Ctx) -> TExpr {
        let span = c.span;
        let name = c.func.name.as_str();
        if let Some(a) = c.args.iter().find_map(|a| a.label.as_ref()) {
            self.diags.push(
                Diagnostic::error(
                    Code::BadArguments,
                    self.file(),
                    a.span,
                    format!("`{name}` takes no labelled arguments"),
                )
                .with_label("remove this label")
                .with_help("labels are for templates, as in `slow_dependency(on: shop.catalog)`"),
            );
        }
        if let Some(metric) = Metric::from_name(name) {
            let Some(arg) = self.one_arg(c, "a system or a service, as in `p99(shop.checkout)`")
            else {
                return error_expr(span);
            };
            let t = self.expr(arg, cx);
            let (system, service) = match t.kind {
                TKind::Ref(RefTarget::System(s)) => (s, None),
                TKind::Ref(RefTarget::Service(s, v)) => (s, Some(v)),
                TKind::Ref(RefTarget::Placeholder) if matches!(t.ty, Ty::Service | Ty::System) => {
                    return TExpr {
                        ty: metric.ty(),
                        kind: TKind::Error,
                        span,
                    };
                }
                TKind::Error => return error_expr(span),
                _ => {
                    self.mismatch(
                        &t,
                        "a system or a service, as in `shop.checkout`",
                        &format!("`{name}` measures a system or one of its services"),
                    );
                    return error_expr(span);
                }
            };
            return TExpr {
                ty: metric.ty(),
                kind: TKind::Metric {
                    metric,
                    system,
                    service,
                },
                span,
            };
        }
        match name {
            "peak" => {
                let Some(arg) = self.one_arg(c, "a traffic, as in `peak(everyday)`") else {
                    return error_expr(span);
                };
                let t = self.expr(arg, cx);
                match t.kind {
                    TKind::Ref(RefTarget::Traffic(i)) => TExpr {
                        ty: Ty::Rate,
                        kind: TKind::Peak(i),
                        span,
                    },
                    TKind::Ref(RefTarget::Placeholder) if t.ty == Ty::Traffic => TExpr {
                        ty: Ty::Rate,
                        kind: TKind::Error,
                        span,
                    },
                    TKind::Error => error_expr(span),
                    _ => {
                        self.mismatch(
                            &t,
                            "a traffic name",
                            "`peak` reads the forecast peak of a traffic",
                        );
                        error_expr(span)
                    }
                }
            }
            "env" | "secret" => {
                let max = if name == "env" { 2 } else { 1 };
                if c.args.is_empty() || c.args.len() > max {
                    self.diags.push(
                        Diagnostic::error(
                            Code::BadArguments,
                            self.file(),
                            span,
                            format!(
                                "`{name}` takes {}",
                                if max == 2 {
                                    "a variable name and an optional default"
                                } else {
                                    "one variable name"
                                }
                            ),
                        )
                        .with_label(format!("{} arguments here", c.args.len()))
                        .with_help(format!("write `{name}(\"VARIABLE\")`")),
                    );
                    return error_expr(span);
                }
                let mut strings = Vec::new();
                for a in &c.args {
                    let t = self.expr(&a.value, cx);
                    match t.constant() {
                        Some(Value::Str(StrValue::Literal { value })) => {
                            strings.push(value.clone())
                        }
                        _ if t.ty == Ty::Unknown => return error_expr(span),
                        _ => {
                            self.mismatch(
                                &t,
                                "a string literal",
                                "environment variable names are fixed strings",
                            );
                            return error_expr(span);
                        }
                    }
                }
                let origin = Origin {
                    file: self.file(),
                    span,
                };
                if !self.model.env.iter().any(|u| u.origin == origin) {
                    self.model.env.push(EnvUse {
                        name: strings[0].clone(),
                        default: if name == "env" {
                            strings.get(1).cloned()
                        } else {
                            None
                        },
                        origin,
                    });
                }
                let v = if name == "env" {
                    StrValue::Env {
                        name: strings[0].clone(),
                        default: strings.get(1).cloned(),
                    }
                } else {
                    StrValue::Secret {
                        name: strings[0].clone(),
                    }
                };
                TExpr {
                    ty: Ty::String,
                    kind: TKind::Const(Value::Str(v)),
                    span,
                }
            }
            _ => {
                let mut d = Diagnostic::error(
                    Code::UnknownFunction,
                    self.file(),
                    c.func.span,
                    format!("unknown function `{name}`"),
                )
                .with_label("not a function");
                if let Some(s) = suggest(name, FUNCTIONS.iter().copied()) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                } else if self
                    .lookup_quiet(cx, name)
                    .is_some_and(|decl| self.decls[decl].kind == DeclKind::Template)
                {
                    d = d.with_help(format!("`{name}` is a template: instantiate it in a declaration, as in `fault x = {name}(...)`"));
                } else {
                    d = d.with_help(format!("the functions are {}", FUNCTIONS.join(", ")));
                }
                self.diags.push(d);
                error_expr(span)
            }
        }
    }

    fn one_arg<'e>(&mut self, c: &'e ast::Call, what: &str) -> Option<&'e ast::Expr> {
        if c.args.len() != 1 {
            self.diags.push(
                Diagnostic::error(
                    Code::BadArguments,
                    self.file(),
                    c.span,
                    format!("`{}` takes one argument: {what}", c.func.name),
                )
                .with_label(format!("{} arguments here", c.args.len())),
            );
            return None;
        }
        Some(&c.args[0].value)
    }

    /// Reports that `t` is not what the context needs.
    pub(super) fn mismatch(&mut self, t: &TExpr, want: &str, why: &str) {
        if t.ty == Ty::Unknown {
            return;
        }
        let code = if is_unit(t.ty) {
            Code::UnitMismatch
        } else {
            Code::WrongKind
        };
        // Quote the value as written (`10MB`), not as normalised (`10000000B`).
        let written = self.text_of(t.span);
        let found = match t.constant() {
            Some(_) if !written.is_empty() && written.len() <= 40 => {
                format!("{} `{}`", t.ty.noun(), written)
            }
            Some(v) => format!("{} `{}`", t.ty.noun(), v),
            None => t.ty.noun().to_string(),
        };
        let mut d = Diagnostic::error(
            code,
            self.file(),
            t.span,
            format!("expected {want}, found {found}"),
        )
        .with_label(format!("this is {}", t.ty.noun()));
        if !why.is_empty() {
            d = d.with_help(why.to_string());
        }
        self.diags.push(d);
    }

    /// Types `e` and requires type `want`.
    pub(super) fn expect(&mut self, e: &ast::Expr, want: Ty, cx: &Ctx, why: &str) -> Option<TExpr> {
        let t = self.expr(e, cx);
        if t.ty == Ty::Unknown {
            return None;
        }
        if t.ty != want && !(want == Ty::Number && t.ty == Ty::Number) {
            self.mismatch(&t, want.describe(), why);
            return None;
        }
        Some(t)
    }

    /// Types `e`, requires type `want` and a value known before the run.
    pub(super) fn constant(
        &mut self,
        e: &ast::Expr,
        want: Ty,
        cx: &Ctx,
        why: &str,
    ) -> Option<Value> {
        let t = self.expect(e, want, cx, why)?;
        match t.kind {
            TKind::Const(v) => Some(v),
            TKind::Error | TKind::Ref(RefTarget::Placeholder) => None,
            _ => {
                self.diags.push(
                    Diagnostic::error(
                        Code::WrongKind,
                        self.file(),
                        t.span,
                        format!(
                            "this must be known before the run starts, but it depends on {}",
                            run_time_part(&t)
                        ),
                    )
                    .with_label("known only while running")
                    .with_help("use a literal or a `param` here"),
                );
                None
            }
        }
    }

    pub(super) fn duration(&mut self, e: &ast::Expr, cx: &Ctx, what: &str) -> Option<Duration> {
        match self.constant(e, Ty::Duration, cx, &is_a(what, Ty::Duration))? {
            Value::Duration(d) if d.0 < 0.0 => {
                self.out_of_range(
                    e.span,
                    &format!("{what} cannot be negative"),
                    "durations count forward from zero",
                );
                None
            }
            Value::Duration(d) => Some(d),
            _ => None,
        }
    }

    /// A percentage in 0..=100 %, returned as a fraction.
    pub(super) fn fraction(&mut self, e: &ast::Expr, cx: &Ctx, what: &str) -> Option<f64> {
        match self.constant(e, Ty::Percent, cx, &is_a(what, Ty::Percent))? {
            Value::Percent(p) if !(0.0..=100.0).contains(&p.0) => {
                self.out_of_range(
                    e.span,
                    &format!("{what} must be between 0% and 100%, not {p}"),
                    &format!("{what} is a share of the whole, from 0% to 100%"),
                );
                None
            }
            Value::Percent(p) => Some(p.fraction()),
            _ => None,
        }
    }

    /// A number that must be a whole number in `min..=max`.
    pub(super) fn count(
        &mut self,
        e: &ast::Expr,
        cx: &Ctx,
        what: &str,
        min: f64,
        max: f64,
    ) -> Option<u64> {
        match self.constant(e, Ty::Number, cx, &is_a(what, Ty::Number))? {
            Value::Number(n) if n.fract() != 0.0 || n < min || n > max => {
                self.out_of_range(
                    e.span,
                    &format!(
                        "{what} must be a whole number from {} to {}, not {}",
                        trim(min),
                        trim(max),
                        trim(n)
                    ),
                    "",
                );
                None
            }
            Value::Number(n) => Some(n as u64),
            _ => None,
        }
    }

    pub(super) fn string(&mut self, e: &ast::Expr, cx: &Ctx, what: &str) -> Option<StrValue> {
        match self.constant(e, Ty::String, cx, &is_a(what, Ty::String))? {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(super) fn out_of_range(&mut self, span: Span, msg: &str, help: &str) {
        let mut d = Diagnostic::error(Code::OutOfRange, self.file(), span, msg.to_string())
            .with_label("out of range");
        if !help.is_empty() {
            d = d.with_help(help.to_string());
        }
        self.diags.push(d);
    }

    /// A condition: a bool expression, kept with its text for reports.
    pub(super) fn condition(
        &mut self,
        e: &ast::Expr,
        cx: &Ctx,
        sustain: Duration,
    ) -> Option<Condition> {
        let t = self.expect(
            e,
            Ty::Bool,
            cx,
            "conditions compare a metric with a value, as in `p99(shop) < 300ms`",
        )?;
        let text = self.text_of(e.span);
        Some(Condition {
            expr: t,
            text,
            origin: Origin {
                file: self.file(),
                span: e.span,
            },
            sustain,
        })
    }

    /// The source text of a span in the current file, whitespace collapsed.
    pub(super) fn text_of(&self, span: Span) -> String {
        let src = &self.sources.get(self.file()).text;
        src.get(span.start..span.end)
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Widens a value to the type a context declares: a whole number in 100..=599 is a status.
pub(super) fn coerce(t: TExpr, want: Ty) -> TExpr {
    if want == Ty::Status {
        if let Some(Value::Number(n)) = t.constant() {
            if let Some(p) = (n.fract() == 0.0)
                .then(|| StatusPattern::parse(&trim(*n)))
                .flatten()
            {
                return TExpr {
                    ty: Ty::Status,
                    kind: TKind::Const(Value::Status(p)),
                    span: t.span,
                };
            }
        }
    }
    t
}

/// Help text "the latency is a duration, like `30s`", from a short description.
fn is_a(what: &str, ty: Ty) -> String {
    if what.is_empty() || what.contains(' ') && what.split_whitespace().count() > 4 {
        return what.to_string();
    }
    let d = ty.describe();
    let example = d.find("such as").map(|i| &d[i + 8..]).unwrap_or("");
    let noun = ty.noun();
    if example.is_empty() {
        format!("{what} is {noun}")
    } else {
        format!("{what} is {noun}, like {example}")
    }
}

fn error_expr(span: Span) -> TExpr {
    TExpr {
        ty: Ty::Unknown,
        kind: TKind::Error,
        span,
    }
}

fn run_time_part(t: &TExpr) -> &'static str {
    match &t.kind {
        TKind::Metric { .. } => "a measured metric",
        TKind::Peak(_) => "a forecast (`peak`)",
        TKind::Unary(_, x) => run_time_part(x),
        TKind::Binary(_, l, r) => {
            if l.constant().is_some() {
                run_time_part(r)
            } else {
                run_time_part(l)
            }
        }
        _ => "a declaration",
    }
}

pub(super) fn lit_value(v: &LitValue) -> Value {
    match v {
        LitValue::Number(n) => Value::Number(*n),
        LitValue::Duration(d) => Value::Duration(*d),
        LitValue::Rate(r) => Value::Rate(*r),
        LitValue::Size(s) => Value::Size(*s),
        LitValue::Bandwidth(b) => Value::Bandwidth(*b),
        LitValue::Percent(p) => Value::Percent(*p),
        LitValue::Multiplier(m) => Value::Multiplier(*m),
        LitValue::Status(s) => Value::Status(*s),
        LitValue::Timestamp(t) => Value::Timestamp(*t),
        LitValue::TimeOfDay(t) => Value::Time(*t),
        LitValue::String(s) => Value::Str(StrValue::Literal { value: s.clone() }),
        LitValue::Bool(b) => Value::Bool(*b),
        LitValue::Invalid => Value::Number(0.0),
    }
}

fn is_numeric(t: Ty) -> bool {
    matches!(
        t,
        Ty::Number
            | Ty::Duration
            | Ty::Rate
            | Ty::Size
            | Ty::Bandwidth
            | Ty::Percent
            | Ty::Multiplier
    )
}

fn is_unit(t: Ty) -> bool {
    is_numeric(t)
        || matches!(
            t,
            Ty::Timestamp | Ty::Time | Ty::Status | Ty::String | Ty::Bool
        )
}

/// The unit algebra: what `l op r` yields, or None when it means nothing.
pub(super) fn binary_type(op: BinaryOp, l: Ty, r: Ty) -> Option<Ty> {
    use BinaryOp::*;
    use Ty::*;
    match op {
        Or | And => (l == Bool && r == Bool).then_some(Bool),
        Eq | Ne => (l == r && l != Unknown).then_some(Bool),
        Lt | Le | Gt | Ge => {
            (l == r && (is_numeric(l) || matches!(l, Timestamp | Time))).then_some(Bool)
        }
        Add | Sub => match (l, r) {
            (a, b) if a == b && is_numeric(a) => Some(a),
            (Timestamp, Duration) => Some(Timestamp),
            (Timestamp, Timestamp) if op == Sub => Some(Duration),
            _ => None,
        },
        Mul => match (l, r) {
            (Number, Number) => Some(Number),
            (a, Number | Multiplier) | (Number | Multiplier, a) if is_numeric(a) && a != Number => {
                Some(a)
            }
            (Multiplier, Multiplier) => Some(Multiplier),
            (Rate, Duration) | (Duration, Rate) => Some(Number),
            (Bandwidth, Duration) | (Duration, Bandwidth) => Some(Size),
            _ => None,
        },
        Div => match (l, r) {
            (a, Number | Multiplier) if is_numeric(a) => Some(a),
            (a, b) if a == b && is_numeric(a) => Some(Number),
            (Size, Duration) => Some(Bandwidth),
            (Number, Duration) => Some(Rate),
            _ => None,
        },
    }
}

pub(crate) fn fold(op: BinaryOp, a: &Value, b: &Value, ty: Ty) -> Option<Value> {
    use BinaryOp::*;
    if let (Value::Bool(x), Value::Bool(y)) = (a, b) {
        return match op {
            And => Some(Value::Bool(*x && *y)),
            Or => Some(Value::Bool(*x || *y)),
            Eq => Some(Value::Bool(x == y)),
            Ne => Some(Value::Bool(x != y)),
            _ => None,
        };
    }
    let (x, y) = (a.magnitude()?, b.magnitude()?);
    // Duration * Rate counts events: ms × (1/s) → divide by 1000.
    let scale = match (a.ty(), b.ty()) {
        (Ty::Rate, Ty::Duration)
        | (Ty::Duration, Ty::Rate)
        | (Ty::Bandwidth, Ty::Duration)
        | (Ty::Duration, Ty::Bandwidth) => 0.001,
        (Ty::Size, Ty::Duration) | (Ty::Number, Ty::Duration) if op == Div => 1000.0,
        _ => 1.0,
    };
    let m = match op {
        Add => x + y,
        Sub => x - y,
        Mul => x * y * scale,
        Div => {
            if y == 0.0 {
                return None;
            }
            x / y * scale
        }
        Eq => return Some(Value::Bool(x == y)),
        Ne => return Some(Value::Bool(x != y)),
        Lt => return Some(Value::Bool(x < y)),
        Le => return Some(Value::Bool(x <= y)),
        Gt => return Some(Value::Bool(x > y)),
        Ge => return Some(Value::Bool(x >= y)),
        And | Or => return None,
    };
    if !m.is_finite() {
        return None;
    }
    if ty == Ty::Timestamp {
        return Some(Value::Timestamp(Timestamp(if b.ty() == Ty::Duration {
            (x + y / 1000.0 * if op == Sub { -1.0 } else { 1.0 }) as i64
        } else {
            m as i64
        })));
    }
    if a.ty() == Ty::Timestamp && ty == Ty::Duration {
        return Some(Value::Duration(Duration((x - y) * 1000.0)));
    }
    Value::with_magnitude(ty, m)
}

fn op_verb(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Add => "add",
        BinaryOp::Sub => "subtract",
        BinaryOp::Mul => "multiply",
        BinaryOp::Div => "divide",
        BinaryOp::And | BinaryOp::Or => "combine",
        _ => "compare",
    }
}

fn operator_help(op: BinaryOp, l: Ty, r: Ty) -> Option<String> {
    if op.is_comparison() && l != r {
        return Some(format!(
            "compare like with like: {} with {}",
            l.noun(),
            l.noun()
        ));
    }
    if matches!(op, BinaryOp::And | BinaryOp::Or) {
        return Some(
            "`and` and `or` join conditions, as in `p99(shop) < 1s and error_rate(shop) < 1%`"
                .into(),
        );
    }
    if matches!(op, BinaryOp::Mul) {
        return Some("scale a value by a number or a multiplier, as in `500/s * 1.3x`".into());
    }
    if matches!(op, BinaryOp::Add | BinaryOp::Sub) {
        return Some("add and subtract values of the same unit".into());
    }
    None
}

impl Diagnostic {
    /// A secondary label, only when it lies in the diagnostic's own file.
    pub(super) fn with_secondary_in(
        self,
        decl_file: usize,
        file: usize,
        span: Span,
        text: &str,
    ) -> Diagnostic {
        if decl_file == file {
            self.with_secondary(span, text)
        } else {
            self
        }
    }
}
