//! The declarations of one file, as the checker's name table lists them, and what it
//! imports, as its syntax tree says: the shape document symbols, hover, go-to-definition
//! and completion walk. A thin adapter over [`crate::check::names`]; the file's items come
//! from the syntax layer's recovery, so a file with one broken item still has an outline of
//! the others.

use crate::check::names::NameTable;
use crate::diagnostic::{FileId, Span};
use crate::syntax::ast;

pub use crate::check::names::DeclKind;

/// One declaration: its kind, its name and where both are.
#[derive(Debug, Clone, PartialEq)]
pub struct Decl {
    pub kind: DeclKind,
    pub name: String,
    pub name_span: Span,
    /// The whole declaration, from its keyword to its closing brace or last token.
    pub span: Span,
    pub children: Vec<Decl>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportedName {
    pub name: String,
    pub name_span: Span,
    /// The name in the importing file (the alias, or the name itself).
    pub local: String,
    pub local_span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    /// The module path as written, without quotes: `./common.res`, `std/faults`.
    pub path: String,
    /// The string literal, quotes included.
    pub path_span: Span,
    pub span: Span,
    pub names: Vec<ImportedName>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outline {
    pub decls: Vec<Decl>,
    pub imports: Vec<Import>,
}

impl Outline {
    /// The outline of `file` (whose syntax tree is `ast`) from a check's name table.
    pub fn of(names: &NameTable, file: FileId, ast: &ast::File) -> Outline {
        let mut decls: Vec<Decl> = Vec::new();
        // Table index of a top-level declaration → its place in `decls`. The table lists
        // children after their parent, so one pass finds every parent first.
        let mut tops = std::collections::HashMap::new();
        for (i, d) in names
            .decls
            .iter()
            .enumerate()
            .filter(|(_, d)| d.file == file)
        {
            let decl = Decl {
                kind: d.kind,
                name: d.name.clone(),
                name_span: d.span,
                span: d.extent,
                children: Vec::new(),
            };
            match d.parent {
                None => {
                    tops.insert(i, decls.len());
                    decls.push(decl);
                }
                Some(p) => {
                    if let Some(&at) = tops.get(&p) {
                        decls[at].children.push(decl);
                    }
                }
            }
        }
        Outline {
            decls,
            imports: imports(ast),
        }
    }
}

/// The `import` items of a syntax tree.
pub fn imports(file: &ast::File) -> Vec<Import> {
    file.items
        .iter()
        .filter_map(|item| match item {
            ast::Item::Import(imp) => Some(Import {
                path: imp.path.value.clone(),
                path_span: imp.path.span,
                span: imp.span,
                names: imp
                    .names
                    .iter()
                    .map(|n| ImportedName {
                        name: n.name.name.clone(),
                        name_span: n.name.span,
                        local: n.local().name.clone(),
                        local_span: n.local().span,
                    })
                    .collect(),
            }),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{check_source, Options};

    #[test]
    fn outlines_the_items_around_a_broken_one() {
        let text = "system shop {\n  builtin demo_shop\n  service a { route GET \"/\" }\n}\ntraffic t {\n  rate 5/s oops\n}\nscenario s {\n  step one = load t for 1m\n}\n";
        let checked = check_source("x.res", text, &Options::default());
        let o = Outline::of(&checked.names, checked.root, &checked.modules[0].ast);
        let names: Vec<(String, Vec<&str>)> = o
            .decls
            .iter()
            .map(|d| {
                (
                    format!("{} {}", d.kind.word(), d.name),
                    d.children.iter().map(|c| c.name.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                ("system shop".to_string(), vec!["a"]),
                ("scenario s".to_string(), vec!["one"])
            ]
        );
    }
}
