//! A document and the modules it imports, for questions about names.
//!
//! The checker resolves names too, but its namespaces are internal and it gives up on a file
//! that does not parse. Hover, go-to-definition and completion need less (which declaration
//! a name means, and where it is written) and need it while the file is half typed, so this
//! loads the modules the way the checker's loader does (relative paths against the importing
//! file's folder, `std/…` from the binary) and keeps, for each, its text, its syntax tree
//! when it parses and its [`Outline`]. Open documents are read from the editor's buffers
//! rather than from disk, so definitions land where the user sees them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

// Module names are normalised as the checker's loader does, so they agree with the names in
// its diagnostics.
use crate::check::normalize;
use std::sync::Arc;

use crate::syntax::{self, ast};

use super::outline::{Decl, DeclKind, Outline};
use super::text::LineIndex;

/// Most modules loaded for one question, and most imports followed for one name.
const MAX_MODULES: usize = 256;
const MAX_HOPS: usize = 32;

/// Texts of open documents by file path: they win over the disk (the checker's loader reads
/// the same overlay, so diagnostics and hover see the same imports).
pub use crate::check::Overlay;

#[derive(Debug)]
pub struct Module {
    /// The name the checker gives it: a path as joined, or `std/faults`.
    pub name: String,
    /// The file on disk, for relative modules.
    pub path: Option<PathBuf>,
    /// `std/faults` for standard library modules.
    pub std: Option<String>,
    pub text: Arc<str>,
    pub lines: LineIndex,
    /// The syntax tree, when the text parses.
    pub ast: Option<ast::File>,
    pub outline: Outline,
    /// For each import of the outline, the module it loads.
    pub imports: Vec<Option<usize>>,
}

impl Module {
    fn new(name: String, path: Option<PathBuf>, std: Option<String>, text: Arc<str>) -> Module {
        let parsed = syntax::parse(&text, 0);
        let broken = parsed.file.items.is_empty() && parsed.has_errors();
        let ast = (!broken).then_some(parsed.file);
        let outline = match &ast {
            Some(file) => Outline::from_ast(file),
            None => Outline::scan(&text),
        };
        Module {
            name,
            path,
            std,
            lines: LineIndex::new(&text),
            text,
            ast,
            outline,
            imports: Vec::new(),
        }
    }

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
    /// The root document first.
    pub modules: Vec<Module>,
}

#[derive(PartialEq, Eq, Hash)]
enum Key {
    Std(String),
    Disk(PathBuf),
}

impl Graph {
    /// Loads the document `name` (a file path, or any name for unsaved text) with `text`, and
    /// every module it reaches.
    pub fn load(name: &str, text: Arc<str>, overlay: &Overlay) -> Graph {
        let path = Path::new(name);
        let root_path = path.is_absolute().then(|| path.to_path_buf());
        let mut g = Graph {
            modules: vec![Module::new(name.to_string(), root_path, None, text)],
        };
        let mut keys: HashMap<Key, usize> = HashMap::new();
        keys.insert(Key::Disk(canonical(path)), 0);
        let mut next = 0;
        while next < g.modules.len() {
            let dir = match (&g.modules[next].std, next) {
                (Some(_), _) => None,
                (None, 0) => path.parent().map(Path::to_path_buf),
                (None, _) => g.modules[next]
                    .path
                    .as_deref()
                    .and_then(Path::parent)
                    .map(Path::to_path_buf),
            };
            let wanted: Vec<String> = g.modules[next]
                .outline
                .imports
                .iter()
                .map(|i| i.path.clone())
                .collect();
            let mut resolved = Vec::with_capacity(wanted.len());
            for want in wanted {
                resolved.push(g.import(&want, dir.as_deref(), overlay, &mut keys));
            }
            g.modules[next].imports = resolved;
            next += 1;
        }
        g
    }

    fn import(
        &mut self,
        want: &str,
        dir: Option<&Path>,
        overlay: &Overlay,
        keys: &mut HashMap<Key, usize>,
    ) -> Option<usize> {
        let (key, module) = if want.starts_with("std/") {
            let key = Key::Std(want.to_string());
            if let Some(&i) = keys.get(&key) {
                return Some(i);
            }
            let text = crate::check::stdlib_module(want)?;
            let m = Module::new(
                want.to_string(),
                None,
                Some(want.to_string()),
                Arc::from(text),
            );
            (key, m)
        } else {
            let joined = normalize(&dir?.join(want));
            let key = Key::Disk(canonical(&joined));
            if let Some(&i) = keys.get(&key) {
                return Some(i);
            }
            if self.modules.len() >= MAX_MODULES {
                return None;
            }
            let text: Arc<str> = match overlay.get(&joined) {
                Some(t) => t.clone(),
                None => {
                    let bytes = std::fs::read(&joined).ok()?;
                    Arc::from(syntax::decode(&bytes, 0).0)
                }
            };
            let m = Module::new(
                joined.to_string_lossy().to_string(),
                Some(joined),
                None,
                text,
            );
            (key, m)
        };
        if self.modules.len() >= MAX_MODULES {
            return None;
        }
        self.modules.push(module);
        let idx = self.modules.len() - 1;
        keys.insert(key, idx);
        Some(idx)
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
    /// import brings in (followed through modules that import it in turn).
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
            let (target, original) =
                m.outline.imports.iter().enumerate().find_map(|(i, imp)| {
                    let n = imp.names.iter().find(|n| n.local == name)?;
                    Some((m.imports.get(i).copied().flatten(), n.name.clone()))
                })?;
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

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
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
