//! Declarations read from syntax trees: each item's name and what it declares inside.

use super::{DeclKind, NameDecl, NameTable};
use crate::check::loader::Module;
use crate::diagnostic::{FileId, Span};
use crate::syntax::ast;

/// Every declaration of every module, top-level items first in each, children after their
/// parent.
pub(in crate::check) fn declarations(modules: &[Module]) -> NameTable {
    let mut t = NameTable::default();
    for m in modules {
        for item in &m.ast.items {
            item_decls(&mut t, m.file, item);
        }
    }
    t
}

fn push(
    t: &mut NameTable,
    file: FileId,
    kind: DeclKind,
    name: &ast::Ident,
    span: Span,
    parent: Option<usize>,
) -> usize {
    t.decls.push(NameDecl {
        name: name.name.clone(),
        kind,
        file,
        span: name.span,
        extent: span.to(name.span),
        parent,
        used: false,
    });
    t.decls.len() - 1
}

fn item_decls(t: &mut NameTable, file: FileId, item: &ast::Item) {
    use ast::Item;
    let Some(name) = item.name() else { return };
    let span = item.span();
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
        Item::Template(tp) => DeclKind::Template(tp.body.kind()),
        Item::Import(_) | Item::Abort(_) => return,
    };
    let top = push(t, file, kind, name, span, None);
    let inside = Some(top);
    match item {
        Item::System(s) => {
            for st in &s.stmts {
                if let ast::SystemStmt::Service(svc) = &st.kind {
                    push(t, file, DeclKind::Service, &svc.name, svc.span, inside);
                }
            }
        }
        Item::Traffic(tr) => {
            if let ast::Body2::Block(stmts) = &tr.body {
                sessions(t, file, stmts, top);
            }
        }
        Item::Scenario(s) => {
            for st in &s.stmts {
                if let ast::ScenarioStmt::Step(step) = &st.kind {
                    push(t, file, DeclKind::Step, &step.name, st.span, inside);
                }
            }
        }
        Item::Template(tp) => {
            for p in &tp.params {
                push(t, file, DeclKind::TemplateParam, &p.name, p.span, inside);
            }
            if let ast::TemplateBody::Traffic(stmts) = &tp.body {
                sessions(t, file, stmts, top);
            }
        }
        _ => {}
    }
}

fn sessions(t: &mut NameTable, file: FileId, stmts: &[ast::Stmt<ast::TrafficStmt>], parent: usize) {
    for st in stmts {
        if let ast::TrafficStmt::Session(s) = &st.kind {
            push(t, file, DeclKind::Session, &s.name, s.span, Some(parent));
        }
    }
}
