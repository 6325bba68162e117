//! A document and the modules it imports, as the checker loaded and named them.
//!
//! A thin view over one [`check::check_source_in`] run: the checker's one loader reads the
//! imports (open editor buffers first, through its [`Overlay`]), the syntax layer recovers
//! the items that parse around those that do not, and the checker's name table gives each
//! module's declarations ([`Outline::of`]). Hover, go-to-definition, completion and
//! document symbols ask this graph; the diagnostics come from the same kind of run with the
//! same overlay, so squiggles and answers see the same files.

use std::path::PathBuf;
use std::sync::Arc;

use crate::check::{self, Checked, Options};
use crate::diagnostic::FileId;
use crate::syntax::ast;

use super::outline::{Decl, DeclKind, Outline};
use super::text::LineIndex;

/// Most imports followed for one name.
const MAX_HOPS: usize = 32;

/// Texts of open documents by file path: they win over the disk (the checker's loader reads
/// the same overlay, so diagnostics and hover see the same imports).
pub use crate::check::Overlay;

#[derive(Debug)]
pub struct Module {
    /// Its file in the check's source map.
    pub file: FileId,
    /// The name the checker gives it: a path as joined, or `std/faults`.
    pub name: String,
    /// The file on disk, for relative modules.
    pub path: Option<PathBuf>,
    /// `std/faults` for standard library modules.
    pub std: Option<String>,
    pub text: Arc<str>,
    pub lines: LineIndex,
    /// The syntax tree: every item that parses (recovered around those that do not).
    pub ast: Option<ast::File>,
    pub outline: Outline,
    /// For each import of the outline, the module it loads.
    pub imports: Vec<Option<usize>>,
}

impl Module {
    /// The source text of a span (empty when out of range).
    pub fn src(&self, span: crate::diagnostic::Span) -> &str {
        self.text.get(span.start..span.end).unwrap_or("")
    }
}

/// A declaration found by name: its module and its place in that module's outline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub module: usize,
    pub top: usize,
    pub child: Option<usize>,
}

#[derive(Debug)]
pub struct Graph {
    /// The root document first, then its imports, in the checker's order.
    pub modules: Vec<Module>,
    /// The check behind it: its name table's references say what each use resolved to.
    pub checked: Checked,
    /// The open buffers the check read before the disk.
    pub overlay: Overlay,
}

impl Graph {
    /// Checks the document `name` (a file path, or any name for unsaved text) with `text`,
    /// its imports read from `overlay` before the disk, and views what the checker loaded.
    pub fn load(name: &str, text: Arc<str>, overlay: &Overlay) -> Graph {
        let checked = check::check_source_in(name, &text, &Options::default(), overlay);
        Graph::of(checked, text, overlay.clone())
    }

    /// The view of a check whose root document's text is `text`, its imports read from
    /// `overlay`.
    pub fn of(mut checked: Checked, text: Arc<str>, overlay: Overlay) -> Graph {
        let loaded = std::mem::take(&mut checked.modules);
        let modules = loaded
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                let source = checked.sources.get(m.file);
                let name = source.name.clone();
                let std = (i > 0 && check::stdlib_module(&name).is_some()).then(|| name.clone());
                let path = (std.is_none() && (i > 0 || std::path::Path::new(&name).is_absolute()))
                    .then(|| PathBuf::from(&name));
                let text: Arc<str> = if i == 0 {
                    text.clone()
                } else {
                    Arc::from(&*source.text)
                };
                Module {
                    file: m.file,
                    outline: Outline::of(&checked.names, m.file, &m.ast),
                    lines: LineIndex::new(&text),
                    name,
                    path,
                    std,
                    text,
                    ast: Some(m.ast),
                    imports: m.imports,
                }
            })
            .collect();
        Graph {
            modules,
            checked,
            overlay,
        }
    }

    /// Where declaration `decl` of the check's name table is in the outlines.
    pub fn found(&self, decl: usize) -> Option<Found> {
        let d = self.checked.names.decls.get(decl)?;
        let module = self.modules.iter().position(|m| m.file == d.file)?;
        self.by_span(module, d.span)
    }

    pub fn root(&self) -> &Module {
        &self.modules[0]
    }

    pub fn decl(&self, f: Found) -> Option<&Decl> {
        let top = self.modules.get(f.module)?.outline.decls.get(f.top)?;
        match f.child {
            None => Some(top),
            Some(c) => top.children.get(c),
        }
    }

    /// The parent declaration of a child (the system of a service, the scenario of a step).
    pub fn parent(&self, f: Found) -> Option<&Decl> {
        f.child?;
        self.modules.get(f.module)?.outline.decls.get(f.top)
    }

    /// What `name` means at the top level of `module`: its own declaration, or the one an
    /// import brings in: where the checker resolved that import, else followed through
    /// modules that import it in turn.
    pub fn lookup(&self, module: usize, name: &str) -> Option<Found> {
        let mut module = module;
        let mut name = name.to_string();
        for _ in 0..MAX_HOPS {
            let m = self.modules.get(module)?;
            if let Some(top) = m.outline.decls.iter().position(|d| d.name == name) {
                return Some(Found {
                    module,
                    top,
                    child: None,
                });
            }
            let (target, original, at) =
                m.outline.imports.iter().enumerate().find_map(|(i, imp)| {
                    let n = imp.names.iter().find(|n| n.local == name)?;
                    Some((
                        m.imports.get(i).copied().flatten(),
                        n.name.clone(),
                        n.name_span,
                    ))
                })?;
            // The checker resolved the imported name: take its word for where it leads.
            let resolved = self.checked.names.reference_at(m.file, at.start);
            if let Some(found) = resolved.and_then(|r| self.found(r.decl)) {
                return Some(found);
            }
            module = target?;
            name = original;
        }
        None
    }

    /// A child (service, step, session, template parameter) of a found declaration.
    pub fn child(&self, parent: Found, name: &str) -> Option<Found> {
        let decl = self.decl(parent)?;
        let child = decl.children.iter().position(|c| c.name == name)?;
        Some(Found {
            child: Some(child),
            ..parent
        })
    }

    /// The declaration of `module` whose name is written at `name_span`.
    pub fn by_span(&self, module: usize, name_span: crate::diagnostic::Span) -> Option<Found> {
        let m = self.modules.get(module)?;
        for (top, d) in m.outline.decls.iter().enumerate() {
            if d.name_span == name_span {
                return Some(Found {
                    module,
                    top,
                    child: None,
                });
            }
            if let Some(c) = d.children.iter().position(|c| c.name_span == name_span) {
                return Some(Found {
                    module,
                    top,
                    child: Some(c),
                });
            }
        }
        None
    }

    /// Every name usable at the top of the root: its declarations and its imports, with
    /// what each turns out to be (when the import can be followed).
    pub fn visible(&self) -> Vec<(String, Option<DeclKind>, Option<Found>)> {
        let root = self.root();
        let mut out: Vec<(String, Option<DeclKind>, Option<Found>)> = root
            .outline
            .decls
            .iter()
            .enumerate()
            .map(|(top, d)| {
                let f = Found {
                    module: 0,
                    top,
                    child: None,
                };
                (d.name.clone(), Some(d.kind), Some(f))
            })
            .collect();
        for imp in &root.outline.imports {
            for n in &imp.names {
                let found = self.lookup(0, &n.local);
                let kind = found.and_then(|f| self.decl(f)).map(|d| d.kind);
                out.push((n.local.clone(), kind, found));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_imports_into_the_stdlib() {
        let text = "import \"std/faults\" { slow_dependency as slow }\nsystem s { builtin demo_shop service a { route GET \"/\" } }\n";
        let g = Graph::load("/nowhere/x.res", Arc::from(text), &Overlay::new());
        let found = g.lookup(0, "slow").expect("slow resolves");
        assert_eq!(g.modules[found.module].std.as_deref(), Some("std/faults"));
        assert_eq!(
            g.decl(found).map(|d| d.name.as_str()),
            Some("slow_dependency")
        );
        let sys = g.lookup(0, "s").unwrap();
        assert!(g.child(sys, "a").is_some());
        assert!(g.lookup(0, "nothing").is_none());
    }

    #[test]
    fn reads_open_documents_first() {
        let dir = std::env::temp_dir().join("res-lsp-graph-test");
        let other = dir.join("lib.res");
        let mut overlay = Overlay::new();
        overlay.insert(other.clone(), Arc::from("param x = 1\n"));
        let root = dir.join("main.res");
        let g = Graph::load(
            &root.to_string_lossy(),
            Arc::from("import \"./lib.res\" { x }\n"),
            &overlay,
        );
        let found = g.lookup(0, "x").expect("x from the open lib.res");
        assert_eq!(
            g.modules[found.module].path.as_deref(),
            Some(other.as_path())
        );
    }
}
