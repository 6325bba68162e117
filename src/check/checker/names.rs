//! Collection and lookup: every module's declarations bound into its namespace (own names and
//! imports), then names resolved to declarations with "did you mean" help.

use super::*;

impl<'a> Checker<'a> {
    /// Modules in an order where every module comes after what it imports.
    pub(super) fn import_order(&self) -> Vec<usize> {
        fn visit(m: usize, modules: &[Module], seen: &mut Vec<bool>, out: &mut Vec<usize>) {
            if seen[m] {
                return;
            }
            seen[m] = true;
            for &i in modules[m].imports.iter().flatten() {
                visit(i, modules, seen, out);
            }
            out.push(m);
        }
        let mut seen = vec![false; self.modules.len()];
        let mut out = Vec::new();
        for m in 0..self.modules.len() {
            visit(m, self.modules, &mut seen, &mut out);
        }
        out
    }

    pub(super) fn collect(&mut self) {
        let mut counts: HashMap<&'static str, usize> = HashMap::new();
        for m in self.import_order() {
            self.cur = m;
            let file = self.file();
            for (i, item) in self.items(m).iter().enumerate() {
                let Some(name) = item.name() else { continue };
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
                    _ => DeclKind::Template,
                };
                let counter = counts.entry(kind.noun()).or_default();
                let index = *counter;
                *counter += 1;
                self.decls.push(Decl {
                    kind,
                    name: name.name.clone(),
                    module: m,
                    file,
                    name_span: name.span,
                    item: i,
                    index,
                    used: false,
                });
                let decl = self.decls.len() - 1;
                self.bind(m, name, decl, false);
            }
        }
        // Imports after every module's own declarations: a clash then names the import as
        // the second one, and modules in an import cycle still see each other's names.
        for m in self.import_order() {
            self.cur = m;
            let file = self.file();
            let mut import_idx = 0;
            for item in self.items(m) {
                let Item::Import(imp) = item else { continue };
                let target = self.modules[m].imports.get(import_idx).copied().flatten();
                import_idx += 1;
                let Some(target) = target else { continue };
                if target == m {
                    // A module importing itself has its cycle reported; no "has no X" or
                    // duplicates on top.
                    continue;
                }
                for n in &imp.names {
                    if self.modules[target].lost.contains(&n.name.name) {
                        // Declared by an item of `target` that does not parse: its syntax
                        // error is reported; uses of the name are not called unknown.
                        continue;
                    }
                    match self.ns[target]
                        .get(&n.name.name)
                        .map(|&b| self.bindings[b].decl)
                    {
                        Some(decl) => {
                            self.bind(m, n.local(), decl, true);
                            self.note_ref(n.name.span, decl);
                        }
                        None if self.modules[target].broken => {}
                        None => {
                            let exported: Vec<&str> =
                                self.ns[target].keys().map(String::as_str).collect();
                            let module_name = &self.sources.get(self.modules[target].file).name;
                            let mut d = Diagnostic::error(
                                Code::UnknownExport,
                                file,
                                n.name.span,
                                format!("module \"{}\" has no `{}`", imp.path.value, n.name.name),
                            )
                            .with_label("not declared there");
                            let mut sorted = exported.clone();
                            sorted.sort();
                            d = match suggest(&n.name.name, exported.iter().copied()) {
                                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                                None => d.with_help(format!(
                                    "{module_name} declares {}",
                                    if sorted.is_empty() {
                                        "nothing".to_string()
                                    } else {
                                        sorted.join(", ")
                                    }
                                )),
                            };
                            self.diags.push(d);
                        }
                    }
                }
            }
        }
    }

    pub(super) fn bind(&mut self, m: usize, name: &ast::Ident, decl: usize, import: bool) {
        if let Some(&prev) = self.ns[m].get(&name.name) {
            let prev_span = self.bindings[prev].span;
            let what = if import { "imported" } else { "declared" };
            let first = if self.bindings[prev].import {
                "imported"
            } else {
                "declared"
            };
            let message = if what == first {
                format!("`{}` is {what} twice", name.name)
            } else {
                format!("`{}` is both declared and imported", name.name)
            };
            let d = Diagnostic::error(Code::Duplicate, self.modules[m].file, name.span, message)
                .with_label(if what == first {
                    format!("{what} again here")
                } else {
                    format!("{what} here")
                })
                .with_secondary(prev_span, format!("first {first} here"))
                .with_help(if import {
                    "rename it on import: `import \"...\" { name as other_name }`"
                } else {
                    "give each declaration its own name"
                });
            self.diags.push(d);
            return;
        }
        self.bindings.push(Binding {
            decl,
            span: name.span,
            import,
            used: false,
        });
        self.ns[m].insert(name.name.clone(), self.bindings.len() - 1);
    }

    /// Resolves a name in the current module, reporting unknown names with suggestions.
    pub(in crate::check) fn lookup(&mut self, cx: &Ctx, name: &str, span: Span) -> Option<usize> {
        if let Some(decl) = self.lookup_quiet(cx, name) {
            self.note_ref(span, decl);
            return Some(decl);
        }
        if self.lost(name) {
            return None;
        }
        let mut candidates: Vec<&str> = self.ns[self.cur].keys().map(String::as_str).collect();
        candidates.extend(cx.locals.iter().map(|(n, _)| n.as_str()));
        let mut d = Diagnostic::error(
            Code::UnknownName,
            self.file(),
            span,
            format!("unknown name `{name}`"),
        )
        .with_label("not declared");
        if let Some(s) = suggest(name, candidates.iter().copied()) {
            d = d.with_help(format!("did you mean `{s}`?"));
        } else if let Some((m, _)) = self.find_elsewhere(name) {
            d = d.with_help(format!(
                "`{name}` is declared in \"{}\": import it",
                self.sources.get(self.modules[m].file).name
            ));
        }
        self.diags.push(d);
        None
    }

    pub(in crate::check) fn lookup_quiet(&mut self, _cx: &Ctx, name: &str) -> Option<usize> {
        let &b = self.ns[self.cur].get(name)?;
        self.bindings[b].used = true;
        let decl = self.bindings[b].decl;
        self.decls[decl].used = true;
        Some(decl)
    }

    /// Whether `name` would be declared by an item that does not parse (here or in a module
    /// this one imports it from): its syntax error is reported, its uses are not "unknown".
    pub(super) fn lost(&self, name: &str) -> bool {
        self.modules
            .iter()
            .any(|m| m.lost.iter().any(|l| l == name))
    }

    pub(super) fn find_elsewhere(&self, name: &str) -> Option<(usize, usize)> {
        self.ns
            .iter()
            .enumerate()
            .find_map(|(m, ns)| ns.get(name).map(|&b| (m, b)))
    }

    /// Resolves a name that must be of `kind`, returning its Model index.
    pub(in crate::check) fn resolve(
        &mut self,
        cx: &Ctx,
        id: &ast::Ident,
        kind: DeclKind,
    ) -> Option<usize> {
        let decl = self.lookup_kind(cx, id, kind)?;
        Some(self.decls[decl].index)
    }

    pub(super) fn lookup_kind(
        &mut self,
        cx: &Ctx,
        id: &ast::Ident,
        kind: DeclKind,
    ) -> Option<usize> {
        if let Some((_, t)) = cx.locals.iter().find(|(n, _)| *n == id.name) {
            // A template argument: find the declaration it stands for.
            let t = t.clone();
            let want = match kind {
                DeclKind::System => Ty::System,
                DeclKind::Traffic => Ty::Traffic,
                DeclKind::Fault => Ty::Fault,
                DeclKind::Slo => Ty::Slo,
                _ => Ty::Unknown,
            };
            let found = match t.kind {
                TKind::Ref(RefTarget::System(i)) if want == Ty::System => Some(i),
                TKind::Ref(RefTarget::Traffic(i)) if want == Ty::Traffic => Some(i),
                TKind::Ref(RefTarget::Fault(i)) if want == Ty::Fault => Some(i),
                TKind::Ref(RefTarget::Slo(i)) if want == Ty::Slo => Some(i),
                TKind::Ref(RefTarget::Placeholder) if t.ty == want => return None,
                _ => {
                    let mut t = t;
                    t.span = id.span;
                    self.mismatch(
                        &t,
                        want.describe(),
                        &format!("`{}` is a template parameter", id.name),
                    );
                    return None;
                }
            };
            return found.and_then(|i| {
                self.decls
                    .iter()
                    .position(|d| d.kind == kind && d.index == i)
            });
        }
        let Some(decl) = self.lookup_quiet(cx, &id.name) else {
            if self.lost(&id.name) {
                return None;
            }
            // Unknown: suggest names of the right kind first.
            let same_kind: Vec<String> = self.ns[self.cur]
                .iter()
                .filter(|(_, &b)| self.decls[self.bindings[b].decl].kind == kind)
                .map(|(n, _)| n.clone())
                .collect();
            let mut d = Diagnostic::error(
                Code::UnknownName,
                self.file(),
                id.span,
                format!(
                    "unknown {} `{}`",
                    &kind.noun()[kind.noun().find(' ').unwrap_or(0) + 1..],
                    id.name
                ),
            )
            .with_label(format!(
                "no {} by this name",
                &kind.noun()[kind.noun().find(' ').unwrap_or(0) + 1..]
            ));
            d = match suggest(&id.name, same_kind.iter().map(String::as_str)) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None if same_kind.is_empty() => {
                    d.with_help(format!("this file declares no {}", plural(kind)))
                }
                None => {
                    let mut names = same_kind.clone();
                    names.sort();
                    d.with_help(format!(
                        "the {} here are {}",
                        plural(kind),
                        names.join(", ")
                    ))
                }
            };
            self.diags.push(d);
            return None;
        };
        let found = self.decls[decl].kind;
        if found != kind {
            let (df, ds) = (self.decls[decl].file, self.decls[decl].name_span);
            let d = Diagnostic::error(
                Code::WrongKind,
                self.file(),
                id.span,
                format!("`{}` is {}, not {}", id.name, found.noun(), kind.noun()),
            )
            .with_label(format!("expected {}", kind.noun()))
            .with_secondary_in(
                df,
                self.file(),
                ds,
                &format!("`{}` is declared here as {}", id.name, found.noun()),
            );
            self.diags.push(d);
            return None;
        }
        self.note_ref(id.span, decl);
        Some(decl)
    }

    /// Records a resolved use of a name for the name table (once per place: templates are
    /// checked once per instantiation).
    pub(super) fn note_ref(&mut self, span: Span, decl: usize) {
        let r = NameRef {
            file: self.file(),
            span,
            decl,
        };
        if self.refs.last() != Some(&r) {
            self.refs.push(r);
        }
    }
}
