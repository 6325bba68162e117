//! Document symbols: the outline an editor shows in its breadcrumbs and outline view.
//!
//! Systems hold their services, traffics their sessions, scenarios their steps, templates
//! their parameters (and sessions); everything else is a leaf. The [`Outline`] behind it
//! comes from the syntax tree when the document parses and from a token scan otherwise, so
//! the view survives a typo.

use tower_lsp_server::ls_types::{DocumentSymbol, SymbolKind};

use super::outline::{Decl, DeclKind, Outline};
use super::text::LineIndex;

pub fn symbols(outline: &Outline, text: &str, lines: &LineIndex) -> Vec<DocumentSymbol> {
    outline
        .decls
        .iter()
        .map(|d| symbol(d, text, lines))
        .collect()
}

fn kind(k: DeclKind) -> SymbolKind {
    match k {
        DeclKind::Param => SymbolKind::CONSTANT,
        DeclKind::Data => SymbolKind::FILE,
        DeclKind::System => SymbolKind::MODULE,
        DeclKind::Service => SymbolKind::CLASS,
        DeclKind::Traffic => SymbolKind::EVENT,
        DeclKind::Session => SymbolKind::PROPERTY,
        DeclKind::Fault => SymbolKind::OPERATOR,
        DeclKind::Window | DeclKind::Event => SymbolKind::ENUM_MEMBER,
        DeclKind::Slo => SymbolKind::INTERFACE,
        DeclKind::Remedy => SymbolKind::METHOD,
        DeclKind::Scenario => SymbolKind::NAMESPACE,
        DeclKind::Step => SymbolKind::FIELD,
        DeclKind::Template(_) => SymbolKind::FUNCTION,
        DeclKind::TemplateParam => SymbolKind::TYPE_PARAMETER,
    }
}

#[allow(deprecated)] // `deprecated` is a required field of the protocol type.
fn symbol(d: &Decl, text: &str, lines: &LineIndex) -> DocumentSymbol {
    let children: Vec<DocumentSymbol> = d.children.iter().map(|c| symbol(c, text, lines)).collect();
    DocumentSymbol {
        name: d.name.clone(),
        detail: Some(d.kind.word()),
        kind: kind(d.kind),
        tags: None,
        deprecated: None,
        // The selection must lie inside the range.
        range: lines.range(text, d.span.to(d.name_span)),
        selection_range: lines.range(text, d.name_span),
        children: (!children.is_empty()).then_some(children),
    }
}
