//! The checking pass: declarations checked kind by kind in dependency order, each item
//! dispatched to its checker; params, type names, options and data feeders.

use super::*;

impl<'a> Checker<'a> {
    pub(super) fn check_all(&mut self) {
        // `--set` must name a param of the root file.
        for (name, _) in &self.opts.overrides {
            let known: Vec<&str> = self
                .decls
                .iter()
                .filter(|d| d.module == 0 && d.kind == DeclKind::Param)
                .map(|d| d.name.as_str())
                .collect();
            if !known.contains(&name.as_str()) {
                let file = self.modules[0].file;
                let mut d = Diagnostic::error(
                    Code::BadOverride,
                    file,
                    Span::new(0, 0),
                    format!("--set {name}: this file declares no param `{name}`"),
                )
                .with_label("in this file");
                d = match suggest(name, known.iter().copied()) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None if known.is_empty() => d.with_help("this file declares no params"),
                    None => d.with_help(format!("its params are {}", known.join(", "))),
                };
                self.diags.push(d);
            }
        }
        let order = self.import_order();
        let kinds = [
            DeclKind::Param,
            DeclKind::Data,
            DeclKind::System,
            DeclKind::Traffic,
            DeclKind::Fault,
            DeclKind::Window,
            DeclKind::Event,
            DeclKind::Slo,
            DeclKind::Remedy,
            DeclKind::Scenario,
            DeclKind::Template,
        ];
        for kind in kinds {
            let ids: Vec<usize> = self
                .decls
                .iter()
                .enumerate()
                .filter(|(_, d)| d.kind == kind)
                .map(|(i, _)| i)
                .collect();
            for id in ids {
                self.cur = self.decls[id].module;
                let item = &self.modules[self.cur].ast.items[self.decls[id].item];
                self.check_item(item);
            }
            if kind == DeclKind::Slo {
                // Top-level aborts, after the slos (they read the same metrics).
                for &m in &order {
                    self.cur = m;
                    for item in self.items(m) {
                        if let Item::Abort(a) = item {
                            if let Some(c) = self.abort(a, &Ctx::default()) {
                                self.model.aborts.push(c);
                            }
                        }
                    }
                }
            }
        }
        if self.modules.first().is_some_and(|m| m.ast.items.is_empty()) {
            self.cur = 0;
            let len = self.sources.get(self.file()).text.len();
            self.diags.push(
                Diagnostic::error(Code::Empty, self.file(), Span::new(0, len.min(1)), "this file declares nothing")
                    .with_label("empty")
                    .with_help("a scenario file declares at least a system, a traffic and a scenario; see docs/language.md"),
            );
        }
    }

    pub(super) fn check_item(&mut self, item: &'a Item) {
        let cx = Ctx::default();
        let file = self.file();
        let origin = move |span| Origin { file, span };
        match item {
            Item::Param(p) => {
                let value = self.param(p, &cx);
                self.model.params.push(ParamModel {
                    name: p.name.name.clone(),
                    value,
                    origin: origin(p.span),
                });
            }
            Item::Data(d) => {
                let m = self.data(d);
                self.model.data.push(m);
            }
            Item::System(s) => {
                let m = self.system(s, &cx);
                self.model.systems.push(m);
            }
            Item::Traffic(t) => {
                let m = self.block_or_template(
                    &t.body,
                    "traffic",
                    t.span,
                    |b| match b {
                        ast::TemplateBody::Traffic(stmts) => Some(stmts),
                        _ => None,
                    },
                    |c, stmts, cx| c.traffic(&t.name, stmts, cx, t.span),
                );
                let m = m.unwrap_or_else(|| empty_traffic(&t.name.name, origin(t.span)));
                self.model.traffics.push(m);
            }
            Item::Fault(f) => {
                let m = self.block_or_template(
                    &f.body,
                    "fault",
                    f.span,
                    |b| match b {
                        ast::TemplateBody::Fault(stmts) => Some(stmts),
                        _ => None,
                    },
                    |c, stmts, cx| c.fault(&f.name, stmts, cx, f.span),
                );
                let m = m.unwrap_or_else(|| FaultModel {
                    name: f.name.name.clone(),
                    target: FaultTarget::Placeholder,
                    effects: Vec::new(),
                    toxicity: 1.0,
                    matchers: Vec::new(),
                    toxiproxy: None,
                    origin: origin(f.span),
                });
                self.model.faults.push(m);
            }
            Item::Window(w) => {
                let m = self.window(w, &cx);
                self.model.windows.push(m);
            }
            Item::Event(e) => {
                let m = self.event(e, &cx);
                self.model.events.push(m);
            }
            Item::Slo(s) => {
                let objectives = self.block_or_template(
                    &s.body,
                    "slo",
                    s.span,
                    |b| match b {
                        ast::TemplateBody::Slo(stmts) => Some(stmts),
                        _ => None,
                    },
                    |c, stmts, cx| c.slo(&s.name, stmts, cx, s.span),
                );
                self.model.slos.push(SloModel {
                    name: s.name.name.clone(),
                    objectives: objectives.unwrap_or_default(),
                    origin: origin(s.span),
                });
            }
            Item::Remedy(r) => {
                let m = self.block_or_template(
                    &r.body,
                    "remedy",
                    r.span,
                    |b| match b {
                        ast::TemplateBody::Remedy(stmts) => Some(stmts),
                        _ => None,
                    },
                    |c, stmts, cx| c.remedy(&r.name, stmts, cx, r.span),
                );
                let m = m.unwrap_or_else(|| RemedyModel {
                    name: r.name.name.clone(),
                    triggers: Vec::new(),
                    actions: Vec::new(),
                    cooldown: Duration::ZERO,
                    limit: None,
                    mode: None,
                    verify_within: None,
                    require_approval: false,
                    step_per_minute: None,
                    origin: origin(r.span),
                });
                self.model.remedies.push(m);
            }
            Item::Scenario(s) => {
                let m = self.scenario(s, &cx);
                self.model.scenarios.push(m);
            }
            Item::Template(t) => self.template_decl(t),
            Item::Import(_) | Item::Abort(_) => {}
        }
    }

    /// A traffic, fault, slo or remedy body is a block or a template call (`fault f =
    /// latency_spike(...)`); both build the same model with `build`. `pick` finds the
    /// statements of the declaration's kind in a template's body.
    pub(super) fn block_or_template<K, T>(
        &mut self,
        body: &'a Body2<K>,
        kind: &str,
        span: Span,
        pick: fn(&'a ast::TemplateBody) -> Option<&'a [ast::Stmt<K>]>,
        build: impl FnOnce(&mut Self, &'a [ast::Stmt<K>], &Ctx) -> T,
    ) -> Option<T> {
        match body {
            Body2::Block(stmts) => Some(build(self, stmts, &Ctx::default())),
            Body2::Template(call) => self.instantiate(call, kind, span, |c, body, cx| {
                pick(body).map(|s| build(c, s, cx))
            }),
        }
    }

    pub(super) fn param(&mut self, p: &ast::Param, cx: &Ctx) -> Value {
        let declared = p.ty.as_ref().and_then(|t| self.type_name(t));
        let t = self.expr(&p.value, cx);
        let t = match declared {
            Some(ty) => crate::check::expr::coerce(t, ty),
            None => t,
        };
        let mut value = match (&t.kind, declared) {
            (TKind::Const(v), Some(ty)) if v.ty() != ty => {
                self.mismatch(
                    &t,
                    ty.describe(),
                    &format!("`{}` is declared as {}", p.name.name, ty.noun()),
                );
                v.clone()
            }
            (TKind::Const(v), _) => v.clone(),
            (TKind::Error, _) => Value::Number(0.0),
            _ => {
                self.diags.push(
                    Diagnostic::error(
                        Code::WrongKind,
                        self.file(),
                        p.value.span,
                        "a param's value must be known before the run",
                    )
                    .with_label("this is not a constant")
                    .with_help("use a literal, another param, or env(\"NAME\")"),
                );
                Value::Number(0.0)
            }
        };
        // `--set` overrides apply to the root file's params.
        if self.cur == 0 {
            for (name, text) in self
                .opts
                .overrides
                .iter()
                .filter(|(n, _)| *n == p.name.name)
            {
                match crate::syntax::parse_value(text, self.file()) {
                    Ok(e) if !matches!(e.kind, ast::ExprKind::Path(_) | ast::ExprKind::Call(_)) => {
                        let saved = std::mem::take(&mut self.diags);
                        let over = self.expr(&e, cx);
                        let errors = std::mem::replace(&mut self.diags, saved);
                        match over.constant() {
                            Some(v) if errors.is_empty() && v.ty() == value.ty() => {
                                value = v.clone()
                            }
                            Some(v) if errors.is_empty() => self.diags.push(
                                Diagnostic::error(
                                    Code::BadOverride,
                                    self.file(),
                                    p.value.span,
                                    format!(
                                        "--set {name}={text}: expected {}, found {}",
                                        value.ty().noun(),
                                        v.ty().noun()
                                    ),
                                )
                                .with_label(format!("`{name}` is {}", value.ty().noun()))
                                .with_help(format!("give a value like `{value}`")),
                            ),
                            _ => self.diags.push(
                                Diagnostic::error(
                                    Code::BadOverride,
                                    self.file(),
                                    p.value.span,
                                    format!("--set {name}={text}: not a valid value"),
                                )
                                .with_label(format!("`{name}` is {}", value.ty().noun()))
                                .with_help(format!("give a value like `{value}`")),
                            ),
                        }
                    }
                    Ok(_) => {
                        // A bare word: take it as a string.
                        if value.ty() == Ty::String {
                            value = Value::Str(StrValue::Literal {
                                value: text.clone(),
                            });
                        } else {
                            self.diags.push(
                                Diagnostic::error(
                                    Code::BadOverride,
                                    self.file(),
                                    p.value.span,
                                    format!(
                                        "--set {name}={text}: expected {}",
                                        value.ty().describe()
                                    ),
                                )
                                .with_label(format!("`{name}` is {}", value.ty().noun())),
                            );
                        }
                    }
                    Err(_) if value.ty() == Ty::String => {
                        value = Value::Str(StrValue::Literal {
                            value: text.clone(),
                        })
                    }
                    Err(_) => self.diags.push(
                        Diagnostic::error(
                            Code::BadOverride,
                            self.file(),
                            p.value.span,
                            format!("--set {name}={text}: expected {}", value.ty().describe()),
                        )
                        .with_label(format!("`{name}` is {}", value.ty().noun())),
                    ),
                }
            }
        }
        value
    }

    pub(super) fn type_name(&mut self, t: &ast::Ident) -> Option<Ty> {
        let ty = Ty::from_name(&t.name);
        if ty.is_none() {
            self.unknown_option(t, "type", Ty::NAMES);
        }
        ty
    }

    pub(in crate::check) fn unknown_option(
        &mut self,
        id: &ast::Ident,
        what: &str,
        options: &[&str],
    ) {
        let mut d = Diagnostic::error(
            Code::UnknownOption,
            self.file(),
            id.span,
            format!("unknown {what} `{}`", id.name),
        )
        .with_label(format!("not {} {what}", crate::diagnostic::article(what)));
        d = match suggest(&id.name, options.iter().copied()) {
            Some(s) => d.with_help(format!(
                "did you mean `{s}`? the choices are {}",
                options.join(", ")
            )),
            None => d.with_help(format!("the choices are {}", options.join(", "))),
        };
        self.diags.push(d);
    }

    pub(super) fn option<T: Copy>(
        &mut self,
        id: &ast::Ident,
        what: &str,
        table: &[(&str, T)],
    ) -> Option<T> {
        match table.iter().find(|(n, _)| *n == id.name) {
            Some((_, v)) => Some(*v),
            None => {
                let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
                self.unknown_option(id, what, &names);
                None
            }
        }
    }

    pub(super) fn data(&mut self, d: &ast::Data) -> DataModel {
        let guessed = if d.path.value.ends_with(".jsonl") || d.path.value.ends_with(".ndjson") {
            DataFormat::Jsonl
        } else {
            DataFormat::Csv
        };
        let format = d
            .format
            .as_ref()
            .and_then(|f| {
                self.option(
                    f,
                    "data format",
                    &[("csv", DataFormat::Csv), ("jsonl", DataFormat::Jsonl)],
                )
            })
            .unwrap_or(guessed);
        let order = d
            .order
            .as_ref()
            .and_then(|o| {
                self.option(
                    o,
                    "order",
                    &[("cycle", DataOrder::Cycle), ("random", DataOrder::Random)],
                )
            })
            .unwrap_or(DataOrder::Cycle);
        if d.path.value.is_empty() {
            self.out_of_range(
                d.path.span,
                "the data file path is empty",
                "write the path of a CSV or JSON-lines file",
            );
        }
        DataModel {
            name: d.name.name.clone(),
            path: d.path.value.clone(),
            format,
            order,
            origin: Origin {
                file: self.file(),
                span: d.span,
            },
        }
    }
}
