//! How a declaration is shown on hover: a title that says what it is ("traffic peak_test",
//! "service shop.checkout", "param peak_margin: multiplier = 1.3x"), its statements one per
//! line, the comments written above it, and the module it comes from.
//!
//! Statements are shown from the source, whitespace collapsed, rather than re-printed: the
//! reader sees what was written. A param shows its value as the checker computed it when the
//! document checks cleanly, else the literal it was given, else its expression.

use std::collections::HashMap;

use crate::check::Value;
use crate::diagnostic::Span;
use crate::syntax::ast::{self, ExprKind, Item};
use crate::syntax::format::scan_comments;

use super::graph::{Found, Graph, Module};
use super::literals;
use super::outline::{Decl, DeclKind};

/// Values of params as the checker computed them: (module name, param name) → value.
pub type ParamValues = HashMap<(String, String), Value>;

const MAX_LINES: usize = 12;
const MAX_LINE: usize = 100;

/// Markdown for a declaration.
pub fn declaration(g: &Graph, f: Found, values: Option<&ParamValues>) -> Option<String> {
    let m = g.modules.get(f.module)?;
    let d = g.decl(f)?;
    let parent = g.parent(f);
    let lines = match m.ast.as_ref() {
        Some(file) => detailed(m, file, d, parent, values),
        None => None,
    }
    .unwrap_or_else(|| vec![title(d, parent)]);
    let mut out = format!("```res\n{}\n```", lines.join("\n"));
    let doc = doc_comment(m, d.span);
    if !doc.is_empty() {
        out.push_str("\n\n");
        out.push_str(&doc);
    }
    if f.module != 0 {
        out.push_str(&format!("\n\n*declared in `{}`*", m.name));
    }
    Some(out)
}

fn title(d: &Decl, parent: Option<&Decl>) -> String {
    match (d.kind, parent) {
        (DeclKind::Service, Some(p)) => format!("service {}.{}", p.name, d.name),
        (DeclKind::TemplateParam, _) => format!("parameter {}", d.name),
        _ => format!("{} {}", d.kind.word(), d.name),
    }
}

/// Collapses whitespace (line breaks included) and shortens long lines.
fn one_line(s: &str) -> String {
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() > MAX_LINE {
        let cut: String = joined.chars().take(MAX_LINE).collect();
        format!("{cut}…")
    } else {
        joined
    }
}

/// The title and then the statements, indented, at most [`MAX_LINES`] of them.
fn block(title: String, m: &Module, spans: impl IntoIterator<Item = Span>) -> Vec<String> {
    let mut lines = vec![title];
    for (i, span) in spans.into_iter().enumerate() {
        if i == MAX_LINES {
            lines.push("  …".into());
            break;
        }
        lines.push(format!("  {}", one_line(m.src(span))));
    }
    lines
}

fn detailed(
    m: &Module,
    file: &ast::File,
    d: &Decl,
    parent: Option<&Decl>,
    values: Option<&ParamValues>,
) -> Option<Vec<String>> {
    let owner = parent.unwrap_or(d);
    let item = file
        .items
        .iter()
        .find(|i| i.name().map(|n| n.span) == Some(owner.name_span))?;
    let title = title(d, parent);
    Some(match (item, d.kind) {
        (Item::Param(p), _) => param(m, p, values),
        (Item::Data(x), _) => vec![one_line(m.src(x.span))],
        (Item::System(s), DeclKind::System) => {
            let mut lines = block(
                title,
                m,
                s.stmts
                    .iter()
                    .filter(|st| !matches!(st.kind, ast::SystemStmt::Service(_)))
                    .map(|st| st.span),
            );
            let services: Vec<&str> = d.children.iter().map(|c| c.name.as_str()).collect();
            if !services.is_empty() {
                lines.push(format!("  // services: {}", services.join(", ")));
            }
            lines
        }
        (Item::System(s), DeclKind::Service) => {
            let svc = s.stmts.iter().find_map(|st| match &st.kind {
                ast::SystemStmt::Service(svc) if svc.name.span == d.name_span => Some(svc),
                _ => None,
            })?;
            block(title, m, svc.stmts.iter().map(|st| st.span))
        }
        (Item::Traffic(t), DeclKind::Session) => session(m, title, body_sessions(&t.body), d)?,
        (Item::Traffic(t), _) => body2(m, title, &t.body),
        (Item::Fault(x), _) => body2(m, title, &x.body),
        (Item::Slo(x), _) => body2(m, title, &x.body),
        (Item::Remedy(x), _) => body2(m, title, &x.body),
        (Item::Window(w), _) => block(title, m, w.stmts.iter().map(|st| st.span)),
        (Item::Event(e), _) => block(title, m, e.stmts.iter().map(|st| st.span)),
        (Item::Scenario(s), DeclKind::Step) => {
            let st = s.stmts.iter().find(|st| {
                matches!(&st.kind, ast::ScenarioStmt::Step(step) if step.name.span == d.name_span)
            })?;
            vec![
                one_line(m.src(st.span)),
                format!("// in scenario {}", s.name.name),
            ]
        }
        (Item::Scenario(s), _) => block(title, m, s.stmts.iter().map(|st| st.span)),
        (Item::Template(t), DeclKind::TemplateParam) => {
            let p = t.params.iter().find(|p| p.name.span == d.name_span)?;
            vec![
                one_line(m.src(p.span)),
                format!("// parameter of template {} {}", t.body.kind(), t.name.name),
            ]
        }
        (Item::Template(t), DeclKind::Session) => {
            let ast::TemplateBody::Traffic(stmts) = &t.body else {
                return None;
            };
            session(m, title, stmts, d)?
        }
        (Item::Template(t), _) => {
            let params: Vec<String> = t.params.iter().map(|p| one_line(m.src(p.span))).collect();
            let head = format!(
                "template {} {}({})",
                t.body.kind(),
                t.name.name,
                params.join(", ")
            );
            let spans: Vec<Span> = match &t.body {
                ast::TemplateBody::Fault(s) => s.iter().map(|st| st.span).collect(),
                ast::TemplateBody::Traffic(s) => s.iter().map(|st| st.span).collect(),
                ast::TemplateBody::Slo(s) => s.iter().map(|st| st.span).collect(),
                ast::TemplateBody::Remedy(s) => s.iter().map(|st| st.span).collect(),
            };
            block(head, m, spans)
        }
        _ => vec![title],
    })
}

fn body_sessions<K>(body: &ast::Body2<K>) -> &[ast::Stmt<K>] {
    match body {
        ast::Body2::Block(stmts) => stmts,
        ast::Body2::Template(_) => &[],
    }
}

fn session(
    m: &Module,
    title: String,
    stmts: &[ast::Stmt<ast::TrafficStmt>],
    d: &Decl,
) -> Option<Vec<String>> {
    let s = stmts.iter().find_map(|st| match &st.kind {
        ast::TrafficStmt::Session(s) if s.name.span == d.name_span => Some(s),
        _ => None,
    })?;
    Some(block(title, m, s.visits.iter().map(|v| v.span)))
}

fn body2<K>(m: &Module, title: String, body: &ast::Body2<K>) -> Vec<String> {
    match body {
        ast::Body2::Block(stmts) => block(title, m, stmts.iter().map(|st| st.span)),
        ast::Body2::Template(call) => vec![format!("{title} = {}", one_line(m.src(call.span)))],
    }
}

fn param(m: &Module, p: &ast::Param, values: Option<&ParamValues>) -> Vec<String> {
    let name = &p.name.name;
    let written = one_line(m.src(p.value.span));
    let computed = values.and_then(|v| v.get(&(m.name.clone(), name.clone())));
    let (ty, shown) = match (computed, &p.value.kind) {
        (Some(v), _) => (Some(literals::type_name(v.ty())), literals::value(v)),
        (None, ExprKind::Lit(lit)) => (lit_type(&lit.value), lit.text.clone()),
        (None, _) => (None, written.clone()),
    };
    let ty = p.ty.as_ref().map(|t| t.name.as_str()).or(ty);
    let mut lines = vec![match ty {
        Some(ty) => format!("param {name}: {ty} = {shown}"),
        None => format!("param {name} = {shown}"),
    }];
    if shown != written {
        lines.push(format!("// written: {written}"));
    }
    lines
}

fn lit_type(v: &ast::LitValue) -> Option<&'static str> {
    use ast::LitValue as L;
    Some(match v {
        L::Number(_) => "number",
        L::Duration(_) => "duration",
        L::Rate(_) => "rate",
        L::Size(_) => "size",
        L::Bandwidth(_) => "bandwidth",
        L::Percent(_) => "percent",
        L::Multiplier(_) => "multiplier",
        L::Status(_) => "status",
        L::Timestamp(_) => "timestamp",
        L::TimeOfDay(_) => "time",
        L::String(_) => "string",
        L::Bool(_) => "bool",
        L::Invalid => return None,
    })
}

/// The comments on the lines right above a declaration, and one at the end of its last line.
pub fn doc_comment(m: &Module, span: Span) -> String {
    let text = &m.text;
    let comments = scan_comments(text);
    let line_of = |offset: usize| m.lines.position(text, offset).line;
    let own_line = |start: usize| {
        let line_start = text[..start].rfind(['\n', '\r']).map_or(0, |p| p + 1);
        text[line_start..start].trim().is_empty()
    };
    let mut above = Vec::new();
    let mut want = line_of(span.start);
    for c in comments.iter().rev().filter(|c| c.span.end <= span.start) {
        if want == 0 || line_of(c.span.end) + 1 != want || !own_line(c.span.start) {
            break;
        }
        above.push(m.src(c.span));
        want = line_of(c.span.start);
    }
    above.reverse();
    let mut lines: Vec<String> = above.iter().map(|c| strip_comment(c)).collect();
    let last_line = line_of(span.end);
    if let Some(c) = comments
        .iter()
        .find(|c| c.span.start >= span.end && line_of(c.span.start) == last_line)
    {
        lines.push(strip_comment(m.src(c.span)));
    }
    lines.join("\n").trim().to_string()
}

fn strip_comment(c: &str) -> String {
    let c = c.trim();
    let c = c
        .strip_prefix("//")
        .or_else(|| c.strip_prefix("/*").map(|r| r.trim_end_matches("*/")))
        .unwrap_or(c);
    c.strip_prefix(' ').unwrap_or(c).trim_end().to_string()
}
