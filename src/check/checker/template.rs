//! Templates: declarations and instantiation (arguments bound, the body built with them).

use super::*;

impl<'a> Checker<'a> {
    pub(super) fn template_decl(&mut self, t: &ast::Template) {
        // Check the body once with placeholder arguments, so errors in a template show up
        // even if nothing instantiates it.
        let mut cx = Ctx::default();
        let mut names: Vec<&str> = Vec::new();
        for p in &t.params {
            if names.contains(&p.name.name.as_str()) {
                self.diags.push(
                    Diagnostic::error(
                        Code::Duplicate,
                        self.file(),
                        p.name.span,
                        format!("parameter `{}` is declared twice", p.name.name),
                    )
                    .with_label("again here"),
                );
            }
            names.push(&p.name.name);
            let Some(ty) = self.type_name(&p.ty) else {
                continue;
            };
            let value = match &p.default {
                Some(d) => {
                    let te = crate::check::expr::coerce(self.expr(d, &Ctx::default()), ty);
                    if te.ty != ty && te.ty != Ty::Unknown {
                        self.mismatch(
                            &te,
                            ty.describe(),
                            &format!("parameter `{}` is {}", p.name.name, ty.noun()),
                        );
                    }
                    te
                }
                None => placeholder(ty, p.name.span),
            };
            cx.locals.push((p.name.name.clone(), value));
        }
        let origin = Origin {
            file: self.file(),
            span: t.span,
        };
        match &t.body {
            ast::TemplateBody::Fault(stmts) => {
                self.fault(&t.name, stmts, &cx, t.span);
            }
            ast::TemplateBody::Traffic(stmts) => {
                self.traffic(&t.name, stmts, &cx, t.span);
            }
            ast::TemplateBody::Slo(stmts) => {
                self.slo(&t.name, stmts, &cx, t.span);
            }
            ast::TemplateBody::Remedy(stmts) => {
                self.remedy(&t.name, stmts, &cx, t.span);
            }
        }
        let _ = origin;
    }

    /// `fault x = template(args)`: checks the arguments and builds the body with them.
    pub(super) fn instantiate<T>(
        &mut self,
        call: &ast::Call,
        kind: &str,
        _span: Span,
        build: impl FnOnce(&mut Self, &'a ast::TemplateBody, &Ctx) -> Option<T>,
    ) -> Option<T> {
        let cx = Ctx::default();
        let decl = self.lookup_kind(&cx, &call.func, DeclKind::Template)?;
        let (tmodule, titem) = (self.decls[decl].module, self.decls[decl].item);
        let Item::Template(t) = &self.modules[tmodule].ast.items[titem] else {
            return None;
        };
        if t.body.kind() != kind {
            self.diags.push(
                Diagnostic::error(
                    Code::WrongKind,
                    self.file(),
                    call.func.span,
                    format!(
                        "`{}` is a {} template, not a {kind} template",
                        call.func.name,
                        t.body.kind()
                    ),
                )
                .with_label(format!("used as a {kind}"))
                .with_help(format!(
                    "declare it as `{} x = {}(...)`",
                    t.body.kind(),
                    call.func.name
                )),
            );
            return None;
        }
        // Bind arguments: labelled by name, unlabelled in order.
        let mut bound: Vec<Option<TExpr>> = vec![None; t.params.len()];
        let mut ok = true;
        let mut positional = 0;
        for a in &call.args {
            let idx = match &a.label {
                Some(l) => match t.params.iter().position(|p| p.name.name == l.name) {
                    Some(i) => i,
                    None => {
                        let names: Vec<&str> =
                            t.params.iter().map(|p| p.name.name.as_str()).collect();
                        let mut d = Diagnostic::error(
                            Code::BadArguments,
                            self.file(),
                            l.span,
                            format!("`{}` has no parameter `{}`", call.func.name, l.name),
                        )
                        .with_label("unknown parameter");
                        d = match suggest(&l.name, names.iter().copied()) {
                            Some(s) => d.with_help(format!("did you mean `{s}`?")),
                            None => d.with_help(format!("its parameters are {}", names.join(", "))),
                        };
                        self.diags.push(d);
                        ok = false;
                        continue;
                    }
                },
                None => {
                    positional += 1;
                    positional - 1
                }
            };
            if idx >= t.params.len() {
                self.diags.push(
                    Diagnostic::error(
                        Code::BadArguments,
                        self.file(),
                        a.value.span,
                        format!("`{}` takes {} arguments", call.func.name, t.params.len()),
                    )
                    .with_label("one too many"),
                );
                ok = false;
                continue;
            }
            if bound[idx].is_some() {
                self.diags.push(
                    Diagnostic::error(
                        Code::BadArguments,
                        self.file(),
                        a.value.span,
                        format!("parameter `{}` is given twice", t.params[idx].name.name),
                    )
                    .with_label("again here"),
                );
                ok = false;
                continue;
            }
            let mut te = self.expr(&a.value, &cx);
            if let Some(want) = Ty::from_name(&t.params[idx].ty.name) {
                te = crate::check::expr::coerce(te, want);
                if te.ty != want && te.ty != Ty::Unknown {
                    self.mismatch(
                        &te,
                        want.describe(),
                        &format!(
                            "parameter `{}` of `{}` is {}",
                            t.params[idx].name.name,
                            call.func.name,
                            want.noun()
                        ),
                    );
                    ok = false;
                }
            }
            if te.ty == Ty::Unknown {
                ok = false;
            }
            bound[idx] = Some(te);
        }
        // Defaults and missing arguments. Defaults are typed in the template's own module.
        let caller = self.cur;
        let mut locals = Vec::new();
        for (i, p) in t.params.iter().enumerate() {
            match bound[i].take() {
                Some(v) => locals.push((p.name.name.clone(), v)),
                None => match &p.default {
                    Some(d) => {
                        self.cur = tmodule;
                        let v = self.expr(d, &Ctx::default());
                        self.cur = caller;
                        locals.push((p.name.name.clone(), v));
                    }
                    None => {
                        self.diags.push(
                            Diagnostic::error(
                                Code::BadArguments,
                                self.file(),
                                call.span,
                                format!(
                                    "`{}` needs the argument `{}`",
                                    call.func.name, p.name.name
                                ),
                            )
                            .with_label(format!("`{}` missing", p.name.name))
                            .with_help(format!(
                                "add `{}: ...` ({})",
                                p.name.name,
                                Ty::from_name(&p.ty.name).map_or("a value", |t| t.describe())
                            )),
                        );
                        ok = false;
                    }
                },
            }
        }
        if !ok {
            return None;
        }
        // Build the body in the template's module, with the arguments as locals. Problems
        // found now are caused by the arguments: report them at the call.
        self.cur = tmodule;
        let saved = std::mem::take(&mut self.diags);
        let result = build(self, &t.body, &Ctx { locals });
        let found = std::mem::replace(&mut self.diags, saved);
        self.cur = caller;
        for d in found.into_iter().filter(Diagnostic::is_error) {
            self.diags.push(
                Diagnostic::error(
                    d.code,
                    self.file(),
                    call.span,
                    format!("in `{}`: {}", call.func.name, d.message),
                )
                .with_label("with these arguments")
                .with_help(d.help.unwrap_or_else(|| {
                    "check the arguments against the template's parameters".into()
                })),
            );
        }
        result
    }
}
