//! Loads a root file and, transitively, what it imports: relative files from disk and
//! `std/...` modules from the binary. Reports missing modules and import cycles at the
//! import that causes them. Modules come out with the root first.
//!
//! It is the one loader for the CLI and the language server: an [`Overlay`] of open editor
//! buffers wins over the disk, so what the server checks is what the user sees.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::diagnostic::{Code, Diagnostic, FileId, SourceMap, Span};
use crate::syntax::{self, ast};

/// One loaded module: its file, the items that parse (all of them, or those recovered
/// around the ones that do not) and what its imports loaded.
#[derive(Debug)]
pub struct Module {
    pub file: FileId,
    pub ast: ast::File,
    /// For each `import` item, in order, the module it loaded (None when it failed).
    pub imports: Vec<Option<usize>>,
    /// The module had syntax errors, so its declarations are incomplete.
    pub broken: bool,
    /// Names its items that did not parse would have declared.
    pub lost: Vec<String>,
    /// When the file did not parse whole: the whole-file parse error, which is reported
    /// first (as it was before items were recovered around it).
    pub first_error: Option<Diagnostic>,
}

pub(super) struct Loaded {
    pub sources: SourceMap,
    pub modules: Vec<Module>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Texts of open documents by file path: they win over the disk.
pub type Overlay = HashMap<PathBuf, Arc<str>>;

#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Std(String),
    Disk(PathBuf),
}

struct Loader<'o> {
    sources: SourceMap,
    modules: Vec<Module>,
    diagnostics: Vec<Diagnostic>,
    by_key: HashMap<Key, usize>,
    /// Modules whose imports are still being loaded: an import of one of them is a cycle.
    in_progress: Vec<usize>,
    overlay: &'o Overlay,
}

pub(super) fn load_root(path: &Path) -> Loaded {
    let overlay = Overlay::new();
    let mut l = Loader::new(&overlay);
    let name = path.to_string_lossy().to_string();
    match l.read(path) {
        Ok(bytes) => {
            let key = Key::Disk(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()));
            l.load_bytes(key, name, &bytes, path.parent().map(Path::to_path_buf));
        }
        Err(e) => {
            let file = l.sources.add(name.clone(), "");
            l.diagnostics.push(
                Diagnostic::error(
                    Code::FileNotFound,
                    file,
                    Span::new(0, 0),
                    format!("cannot read the file `{name}`: {e}"),
                )
                .with_help(match e.kind() {
                    std::io::ErrorKind::NotFound => {
                        "check the path; it is relative to the current folder"
                    }
                    _ => "check the path and its permissions",
                }),
            );
        }
    }
    l.finish()
}

pub(super) fn load_text(name: &str, text: &str, overlay: &Overlay) -> Loaded {
    let mut l = Loader::new(overlay);
    let dir = Path::new(name).parent().map(Path::to_path_buf);
    let key = Key::Disk(PathBuf::from(name));
    l.load_bytes(key, name.to_string(), text.as_bytes(), dir);
    l.finish()
}

impl<'o> Loader<'o> {
    fn new(overlay: &'o Overlay) -> Loader<'o> {
        Loader {
            sources: SourceMap::new(),
            modules: Vec::new(),
            diagnostics: Vec::new(),
            by_key: HashMap::new(),
            in_progress: Vec::new(),
            overlay,
        }
    }

    /// A file's bytes: an open buffer's text when the overlay has it (by the path as joined,
    /// then as canonical), else the disk's.
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        if !self.overlay.is_empty() {
            let canonical = std::fs::canonicalize(path).ok();
            let open = self
                .overlay
                .get(path)
                .or_else(|| canonical.as_ref().and_then(|c| self.overlay.get(c)));
            if let Some(text) = open {
                return Ok(text.as_bytes().to_vec());
            }
        }
        std::fs::read(path)
    }

    fn finish(self) -> Loaded {
        Loaded {
            sources: self.sources,
            modules: self.modules,
            diagnostics: self.diagnostics,
        }
    }

    fn load_bytes(&mut self, key: Key, name: String, bytes: &[u8], dir: Option<PathBuf>) -> usize {
        let file = self.sources.len();
        let (text, not_text) = syntax::decode(bytes, file);
        let file = self.sources.add(name, text.clone());
        let (parsed, broken) = if let Some(d) = not_text {
            self.diagnostics.push(d);
            (syntax::Parsed::default(), true)
        } else {
            let p = syntax::parse(&text, file);
            let broken = p.has_errors();
            (p, broken)
        };
        let first_error = parsed
            .recovered
            .then(|| parsed.diagnostics.first().cloned())
            .flatten();
        self.diagnostics.extend(parsed.diagnostics);
        let idx = self.modules.len();
        self.modules.push(Module {
            file,
            ast: parsed.file,
            imports: Vec::new(),
            broken,
            lost: parsed.lost,
            first_error,
        });
        self.by_key.insert(key, idx);
        self.in_progress.push(idx);
        let imports: Vec<(String, Span)> = self.modules[idx]
            .ast
            .items
            .iter()
            .filter_map(|i| match i {
                ast::Item::Import(imp) => Some((imp.path.value.clone(), imp.path.span)),
                _ => None,
            })
            .collect();
        let mut resolved = Vec::with_capacity(imports.len());
        for (path, span) in imports {
            resolved.push(self.load_import(file, &path, span, dir.as_deref()));
        }
        self.modules[idx].imports = resolved;
        self.in_progress.pop();
        idx
    }

    fn load_import(
        &mut self,
        from: FileId,
        path: &str,
        span: Span,
        dir: Option<&Path>,
    ) -> Option<usize> {
        let (key, name, source): (Key, String, Result<Vec<u8>, String>) =
            if let Some(module) = path.strip_prefix("std/") {
                let name = format!("std/{module}");
                let src = super::stdlib_module(&name)
                    .map(|s| s.as_bytes().to_vec())
                    .ok_or_else(|| {
                        let names: Vec<&str> = super::STDLIB.iter().map(|(n, _)| *n).collect();
                        match crate::diagnostic::suggest(&name, names.iter().copied()) {
                            Some(s) => format!(
                                "did you mean \"{s}\"? the standard library has {}",
                                names.join(", ")
                            ),
                            None => format!("the standard library has {}", names.join(", ")),
                        }
                    });
                (Key::Std(name.clone()), name, src)
            } else {
                let Some(dir) = dir else {
                    self.diagnostics.push(
                        Diagnostic::error(
                            Code::ImportNotFound,
                            from,
                            span,
                            format!("cannot import \"{path}\" from a standard library module"),
                        )
                        .with_label("relative import"),
                    );
                    return None;
                };
                let joined = normalize(&dir.join(path));
                let canonical = std::fs::canonicalize(&joined).unwrap_or_else(|_| joined.clone());
                let src = self.read(&joined).map_err(|e| {
                    if path.ends_with(".res") {
                        format!("{} ({e})", joined.display())
                    } else {
                        format!(
                            "{} ({e}); module paths include the `.res` extension",
                            joined.display()
                        )
                    }
                });
                (
                    Key::Disk(canonical),
                    joined.to_string_lossy().to_string(),
                    src,
                )
            };
        if let Some(&idx) = self.by_key.get(&key) {
            if self.in_progress.contains(&idx) {
                let chain: Vec<String> = self
                    .in_progress
                    .iter()
                    .map(|&m| self.sources.get(self.modules[m].file).name.clone())
                    .collect();
                self.diagnostics.push(
                    Diagnostic::error(Code::ImportCycle, from, span, format!("importing \"{path}\" makes a cycle"))
                        .with_label("this import leads back here")
                        .with_help(format!("the chain is {} → {}; move the shared declarations into a module both can import", chain.join(" → "), name)),
                );
                // Still resolve the names, so the cycle is the only error reported.
                return Some(idx);
            }
            return Some(idx);
        }
        match source {
            Ok(bytes) => {
                let dir = match key {
                    Key::Std(_) => None,
                    Key::Disk(_) => Path::new(&name).parent().map(Path::to_path_buf),
                };
                Some(self.load_bytes(key, name, &bytes, dir))
            }
            Err(why) => {
                let d = Diagnostic::error(
                    Code::ImportNotFound,
                    from,
                    span,
                    format!("cannot find module \"{path}\""),
                );
                let d = if path.starts_with("std/") {
                    d.with_label("no such standard module").with_help(why)
                } else {
                    d.with_label("no such file")
                        .with_help(format!("looked for {why}"))
                };
                self.diagnostics.push(d);
                None
            }
        }
    }
}

/// Removes `.` and folds `..` without touching the disk, so names stay readable.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}
