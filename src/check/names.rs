//! The checker's name table, for tools such as the language server: every declaration of the
//! root file and its imports with the span of its name, and every use of a name the checker
//! resolved, pointing at its declaration. It is what the checker itself decided, so a tool
//! reading it agrees with the diagnostics by construction.

use crate::diagnostic::{FileId, Span};

/// The declarations and resolved references of one check.
#[derive(Debug, Clone, Default)]
pub struct NameTable {
    pub decls: Vec<NameDecl>,
    pub refs: Vec<NameRef>,
}

/// One declaration: `traffic everyday { … }` declares `everyday`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameDecl {
    pub name: String,
    /// `traffic`, `fault`, `data feeder`, …
    pub kind: &'static str,
    pub file: FileId,
    /// The name where it is declared.
    pub span: Span,
    /// Whether anything refers to it.
    pub used: bool,
}

/// One use of a name, resolved: an import's listed name, a step's traffic, an expression's
/// service. `decl` indexes [`NameTable::decls`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameRef {
    pub file: FileId,
    pub span: Span,
    pub decl: usize,
}

impl NameTable {
    /// The declaration named at `offset` of `file`: by its declaration or by a reference.
    pub fn at(&self, file: FileId, offset: usize) -> Option<(usize, &NameDecl)> {
        let within = |s: Span| s.start <= offset && offset <= s.end;
        let i = self
            .decls
            .iter()
            .position(|d| d.file == file && within(d.span))
            .or_else(|| {
                self.refs
                    .iter()
                    .find(|r| r.file == file && within(r.span))
                    .map(|r| r.decl)
            })?;
        self.decls.get(i).map(|d| (i, d))
    }

    /// Every resolved use of declaration `decl`, in the order the checker met them.
    pub fn references(&self, decl: usize) -> impl Iterator<Item = &NameRef> + '_ {
        self.refs.iter().filter(move |r| r.decl == decl)
    }

    /// The declarations written in `file`, in source order.
    pub fn declared_in(&self, file: FileId) -> Vec<&NameDecl> {
        let mut v: Vec<&NameDecl> = self.decls.iter().filter(|d| d.file == file).collect();
        v.sort_by_key(|d| d.span.start);
        v
    }
}
