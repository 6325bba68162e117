//! Hover: what the thing under the cursor is, in Markdown.
//!
//! A name shows its declaration ([`describe`]); a literal its meaning in words ("duration:
//! 250 ms"); a built-in function its signature and purpose; a keyword or type name one line
//! about it; an import's path the module's opening comment.

use crate::check::Ty;
use crate::diagnostic::Span;
use crate::syntax::format::scan_comments;

use super::describe::{self, ParamValues};
use super::graph::Graph;
use super::literals;
use super::resolve::{resolve, Target};
use super::words;

/// Markdown for the thing at `offset` of the root, and the span it covers.
pub fn hover(g: &Graph, offset: usize, values: Option<&ParamValues>) -> Option<(String, Span)> {
    let r = resolve(g, offset)?;
    let text = match &r.target {
        Target::Decl(f) => describe::declaration(g, *f, values)?,
        Target::Lit(v) => literals::describe(v)?,
        Target::Builtin(b) => format!("```res\n{} → {}\n```\n{}", b.signature(), b.returns, b.doc),
        Target::Keyword(k) => format!("`{k}` (keyword): {}", words::keyword(k)?),
        Target::Type(name) => match Ty::from_name(name) {
            Some(ty) => format!("type `{name}`: {}", ty.describe()),
            None => return None,
        },
        Target::Module(m) => module(g, *m)?,
    };
    Some((text, r.span))
}

/// The module's name and the comment lines it opens with.
fn module(g: &Graph, m: usize) -> Option<String> {
    let module = g.modules.get(m)?;
    let mut out = format!("module `{}`", module.name);
    let text = &module.text;
    let mut lines = Vec::new();
    let mut at = 0;
    for c in scan_comments(text) {
        if !text[at..c.span.start].trim().is_empty() || lines.len() >= 8 {
            break;
        }
        let s = module.src(c.span);
        lines.push(s.trim_start_matches('/').trim().to_string());
        at = c.span.end;
    }
    if !lines.is_empty() {
        out.push_str("\n\n");
        out.push_str(lines.join("\n").trim());
    }
    Some(out)
}
