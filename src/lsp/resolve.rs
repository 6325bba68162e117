//! What the thing at an offset of the root document refers to.
//!
//! A use the checker resolved is answered from its name table: the same decision its
//! diagnostics were made from. Otherwise (a declaration's own name, a name the checker did
//! not reach), the syntax-tree node under the cursor says how to look its name up (a step
//! of this scenario, a service of this system, a top-level name, a template's parameter) in
//! the [`Graph`]'s outlines, which are the name table's declarations. In an item that does
//! not parse (the one being typed), the word under the cursor is looked up by name, which
//! is right for every top-level name and for `system.service` paths.

use crate::diagnostic::Span;
use crate::syntax::ast::LitValue;

use super::context::{self, Block};
use super::graph::{Found, Graph};
use super::lex::{self, is_ident_byte};
use super::occurrence::{self, Occ, Role, Scope};
use super::outline::DeclKind;
use super::words::{self, Builtin};

#[derive(Debug, Clone)]
pub enum Target {
    Decl(Found),
    /// An imported module (the import's path string).
    Module(usize),
    Builtin(&'static Builtin),
    Lit(LitValue),
    /// A type name, as in `param x: duration`.
    Type(String),
    Keyword(&'static str),
}

#[derive(Debug, Clone)]
pub struct Resolved {
    pub target: Target,
    /// What was under the cursor.
    pub span: Span,
}

pub fn resolve(g: &Graph, offset: usize) -> Option<Resolved> {
    let root = g.root();
    let offset = offset.min(root.text.len());
    let names = &g.checked.names;
    if let Some(r) = names.reference_at(g.checked.root, offset) {
        if let Some(found) = g.found(r.decl) {
            return Some(Resolved {
                target: Target::Decl(found),
                span: r.span,
            });
        }
    }
    let parsed = root.ast.as_ref().filter(|file| {
        file.items
            .iter()
            .any(|i| i.span().start <= offset && offset <= i.span().end)
    });
    let found = match parsed {
        Some(file) => occurrence::at(file, offset).and_then(|hit| {
            let target = from_hit(g, hit.occ, hit.scope, offset)?;
            Some(Resolved {
                target,
                span: hit.span,
            })
        }),
        None => by_word(g, offset),
    };
    found.or_else(|| keyword(g, offset))
}

fn keyword(g: &Graph, offset: usize) -> Option<Resolved> {
    let text = &g.root().text;
    let span = lex::word_at(text, offset)?;
    let word = &text[span.start..span.end];
    let kw = words::keywords().iter().find(|k| **k == word)?;
    Some(Resolved {
        target: Target::Keyword(kw),
        span,
    })
}

fn from_hit(g: &Graph, occ: Occ<'_>, scope: Scope<'_>, offset: usize) -> Option<Target> {
    let root = g.root();
    Some(match occ {
        Occ::Decl(name) => Target::Decl(g.by_span(0, name.span)?),
        Occ::Name(n, role) => Target::Decl(name(g, scope, &n.name, role)?),
        Occ::Path(p, i) => {
            let first = name(g, scope, &p.parts.first()?.name, Role::Any)?;
            match i {
                0 => Target::Decl(first),
                1 if g.decl(first)?.kind == DeclKind::System => {
                    Target::Decl(g.child(first, &p.parts[1].name)?)
                }
                _ => return None,
            }
        }
        Occ::Lit(lit) => Target::Lit(lit.value.clone()),
        Occ::Call(c) => match words::builtin(&c.func.name) {
            Some(b) => Target::Builtin(b),
            None => Target::Decl(g.lookup(0, &c.func.name)?),
        },
        Occ::Label(c, label) => {
            let template = g.lookup(0, &c.func.name)?;
            Target::Decl(g.child(template, &label.name)?)
        }
        Occ::Type(t) => Target::Type(t.name.clone()),
        Occ::ImportPath(i) => Target::Module((*root.imports.get(i)?)?),
        Occ::Imported { import, name } => {
            let module = (*root.imports.get(import)?)?;
            let original = &root.outline.imports.get(import)?.names.get(name)?.name;
            Target::Decl(g.lookup(module, original)?)
        }
        Occ::Str(span) => Target::Decl(placeholder(g, span, offset)?),
    })
}

/// A bare name, looked up as the node it was written in says.
fn name(g: &Graph, scope: Scope<'_>, name: &str, role: Role) -> Option<Found> {
    match role {
        Role::Step => g.child(g.by_span(0, scope.scenario?.name.span)?, name),
        Role::Service => g.child(g.by_span(0, scope.system?.name.span)?, name),
        Role::Any => {
            if let Some(t) = scope
                .template
                .filter(|t| t.params.iter().any(|p| p.name.name == name))
            {
                return g.child(g.by_span(0, t.name.span)?, name);
            }
            g.lookup(0, name)
        }
    }
}

/// The feeder of a `{feeder.column}` placeholder when the cursor is on `feeder`.
fn placeholder(g: &Graph, span: Span, offset: usize) -> Option<Found> {
    let text = g.root().text.get(span.start..span.end)?;
    let rel = offset.checked_sub(span.start)?;
    let before = text.get(..rel)?;
    let open = before.rfind('{')?;
    if before[open..].contains('}') {
        return None;
    }
    let inner = &text[open + 1..];
    let len = inner.bytes().take_while(|&b| is_ident_byte(b)).count();
    if rel > open + 1 + len {
        return None;
    }
    let found = g.lookup(0, &inner[..len])?;
    (g.decl(found)?.kind == DeclKind::Data).then_some(found)
}

/// The fallback for a root that does not parse: the word under the cursor, by name.
fn by_word(g: &Graph, offset: usize) -> Option<Resolved> {
    let text = &g.root().text;
    let span = lex::word_at(text, offset)?;
    let word = &text[span.start..span.end];
    let b = text.as_bytes();
    let target = if span.start > 1 && b[span.start - 1] == b'.' {
        let prev = lex::word_at(text, span.start - 1)?;
        let owner = g.lookup(0, &text[prev.start..prev.end])?;
        Target::Decl(g.child(owner, word)?)
    } else if let Some(found) = g.lookup(0, word) {
        Target::Decl(found)
    } else if let Some(step) = enclosing_child(g, offset, word) {
        Target::Decl(step)
    } else if let Some(b) = words::builtin(word) {
        Target::Builtin(b)
    } else {
        return None;
    };
    Some(Resolved { target, span })
}

/// A step (or service) of the scenario (or system) block around the offset.
fn enclosing_child(g: &Graph, offset: usize, word: &str) -> Option<Found> {
    context::context(&g.root().text, offset)
        .frames
        .iter()
        .rev()
        .filter(|f| matches!(f.block, Block::Scenario | Block::System))
        .find_map(|f| g.child(g.by_span(0, f.owner?)?, word))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lsp::graph::Overlay;
    use std::sync::Arc;

    const TEXT: &str = "data items from \"items.csv\"\nsystem shop { builtin demo_shop service checkout { route POST \"/c/{items.id}\" depends on pay } service pay { upstream \"x:1\" } }\ntemplate fault slow(on: service) { on on latency 1s }\nfault f = slow(on: shop.pay)\nscenario s { step a = inject f for 1s  step b = wait 2s after a }\n";

    fn found(text: &str, needle: &str, plus: usize) -> Option<(String, String)> {
        let g = Graph::load("/x/main.res", Arc::from(text), &Overlay::new());
        let r = resolve(&g, text.find(needle).unwrap() + plus)?;
        match r.target {
            Target::Decl(f) => {
                let d = g.decl(f)?;
                Some((d.kind.word(), d.name.clone()))
            }
            Target::Keyword(k) => Some(("keyword".into(), k.into())),
            Target::Builtin(b) => Some(("builtin".into(), b.name.into())),
            other => Some(("other".into(), format!("{other:?}"))),
        }
    }

    #[test]
    fn resolves_names_by_their_node() {
        let s = |k: &str, n: &str| Some((k.to_string(), n.to_string()));
        assert_eq!(found(TEXT, "pay }", 0), s("service", "pay"));
        assert_eq!(found(TEXT, "shop.pay", 6), s("service", "pay"));
        assert_eq!(found(TEXT, "shop.pay", 1), s("system", "shop"));
        assert_eq!(found(TEXT, "on on", 3), s("parameter", "on"));
        assert_eq!(found(TEXT, "on: shop", 0), s("parameter", "on"));
        assert_eq!(found(TEXT, "slow(on: shop", 1), s("template fault", "slow"));
        assert_eq!(found(TEXT, "after a", 6), s("step", "a"));
        assert_eq!(found(TEXT, "items.id", 2), s("data", "items"));
        assert_eq!(found(TEXT, "latency", 2), s("keyword", "latency"));
    }

    #[test]
    fn resolves_words_in_broken_text() {
        let broken = format!("{TEXT}\nscenario t {{ step c = inject f after");
        let s = |k: &str, n: &str| Some((k.to_string(), n.to_string()));
        assert_eq!(found(&broken, "shop.pay", 6), s("service", "pay"));
        assert_eq!(found(&broken, "inject f after", 7), s("fault", "f"));
    }
}
