//! Systems and their services: base URLs, routes, capacities, processes.

use super::*;

impl<'a> Checker<'a> {
    pub(super) fn system(&mut self, s: &ast::System, cx: &Ctx) -> SystemModel {
        let mut m = SystemModel {
            name: s.name.name.clone(),
            target: SystemTarget::Builtin(String::new()),
            headers: Vec::new(),
            timeout: None,
            protocol: Protocol::Http1,
            services: Vec::new(),
            metrics: None,
            origin: Origin {
                file: self.file(),
                span: s.span,
            },
        };
        let mut system_queries: Vec<(Quantity, String)> = Vec::new();
        let mut first_query: Option<Span> = None;
        let mut metrics_declared = false;
        let mut target_span: Option<Span> = None;
        let mut seen = Seen::default();
        // Services first, so `depends on` can name a service declared below it.
        let names: Vec<&ast::Ident> = s
            .stmts
            .iter()
            .filter_map(|st| match &st.kind {
                ast::SystemStmt::Service(svc) => Some(&svc.name),
                _ => None,
            })
            .collect();
        let mut service_names: Vec<&str> = Vec::new();
        let mut first_seen: HashMap<&str, Span> = HashMap::new();
        for n in &names {
            if let Some(prev_span) = first_seen.get(n.name.as_str()).copied() {
                let prev = ast::Ident {
                    name: n.name.clone(),
                    span: prev_span,
                };
                self.diags.push(
                    Diagnostic::error(
                        Code::Duplicate,
                        self.file(),
                        n.span,
                        format!(
                            "service `{}` is declared twice in `{}`",
                            n.name, s.name.name
                        ),
                    )
                    .with_label("declared again here")
                    .with_secondary(prev.span, "first declared here"),
                );
            } else {
                first_seen.insert(&n.name, n.span);
                service_names.push(&n.name);
            }
        }
        for st in &s.stmts {
            match &st.kind {
                ast::SystemStmt::Builtin(b) => {
                    if let Some(prev) = target_span {
                        self.conflict(
                            st.span,
                            prev,
                            &format!("system `{}` has two targets", s.name.name),
                            "a system has one target: `builtin` or `base`, once",
                        );
                    }
                    target_span = Some(st.span);
                    if let Some(v) = self.option(b, "builtin target", &[("demo_shop", "demo_shop")])
                    {
                        m.target = SystemTarget::Builtin(v.to_string());
                    }
                }
                ast::SystemStmt::Base(e) => {
                    if let Some(prev) = target_span {
                        self.conflict(
                            st.span,
                            prev,
                            &format!("system `{}` has two targets", s.name.name),
                            "a system has one target: `builtin` or `base`, once",
                        );
                    }
                    target_span = Some(st.span);
                    if let Some(v) = self.string(e, cx, "`base` is the system's URL") {
                        self.http_url(
                            &v,
                            e.span,
                            "write the base URL, like \"http://127.0.0.1:8080\"",
                        );
                        m.target = SystemTarget::Base(v);
                    }
                }
                ast::SystemStmt::Header(h) => {
                    if let Some(v) = self.string(&h.value, cx, "header values are strings") {
                        m.headers.push((h.name.value.clone(), v));
                    }
                }
                ast::SystemStmt::Timeout(e) => {
                    seen.once(self, "timeout", st.span);
                    m.timeout = self.duration(e, cx, "the request timeout");
                }
                ast::SystemStmt::Protocol(p) => {
                    seen.once(self, "protocol", st.span);
                    if let Some(v) = self.option(
                        p,
                        "protocol",
                        &[("http1", Protocol::Http1), ("http2", Protocol::Http2)],
                    ) {
                        m.protocol = v;
                    }
                }
                ast::SystemStmt::MetricsPrometheus(e) => {
                    seen.once(self, "metrics", st.span);
                    metrics_declared = true;
                    if let Some(url) = self.metrics_url(e, cx) {
                        m.metrics = Some(MetricsModel {
                            url,
                            queries: Vec::new(),
                        });
                    }
                }
                ast::SystemStmt::Query(q) => {
                    first_query.get_or_insert(st.span);
                    self.query(q, st.span, &mut seen, cx, &mut system_queries);
                }
                ast::SystemStmt::Service(svc) => {
                    let sm = self.service(svc, &service_names, cx);
                    m.services.push(sm);
                }
            }
        }
        let any_service_query = m.services.iter().any(|sv| !sv.queries.is_empty());
        match (&mut m.metrics, first_query) {
            (Some(metrics), _) => metrics.queries = system_queries,
            (None, _) if metrics_declared => {}
            (None, Some(span)) => self.query_without_source(span, &s.name.name),
            (None, None) if any_service_query => {
                let span = s
                    .stmts
                    .iter()
                    .find_map(|st| match &st.kind {
                        ast::SystemStmt::Service(svc) => svc
                            .stmts
                            .iter()
                            .find(|x| matches!(x.kind, ast::ServiceStmt::Query(_)))
                            .map(|x| x.span),
                        _ => None,
                    })
                    .unwrap_or(s.name.span);
                self.query_without_source(span, &s.name.name);
            }
            (None, None) => {}
        }
        if target_span.is_none() {
            self.diags.push(
                Diagnostic::error(
                    Code::Missing,
                    self.file(),
                    s.name.span,
                    format!("system `{}` has no target", s.name.name),
                )
                .with_label("where does the traffic go?")
                .with_help("add `base \"http://host:port\"` or `builtin demo_shop`"),
            );
        }
        if target_span.is_some() {
            self.admin_needs_demo(s, &m.target);
        }
        // Drop duplicate services so indices stay unique by name.
        let mut seen_names = std::collections::HashSet::new();
        m.services.retain(|s| seen_names.insert(s.name.clone()));
        m
    }

    /// `message` says what clashes ("system `shop` has two targets"); the labels point at
    /// both statements.
    pub(super) fn conflict(&mut self, span: Span, prev: Span, message: &str, help: &str) {
        let text = self.text_of(prev);
        let first: String = text.chars().take(40).collect();
        self.diags.push(
            Diagnostic::error(Code::Conflict, self.file(), span, message.to_string())
                .with_label("this one")
                .with_secondary(prev, format!("conflicts with `{first}`"))
                .with_help(help.to_string()),
        );
    }

    pub(super) fn service(
        &mut self,
        s: &ast::Service,
        siblings: &[&str],
        cx: &Ctx,
    ) -> ServiceModel {
        let mut m = ServiceModel {
            name: s.name.name.clone(),
            routes: Vec::new(),
            depends_on: Vec::new(),
            upstream: None,
            process: None,
            headers: Vec::new(),
            timeout: None,
            capacity: None,
            actuators: Vec::new(),
            queries: Vec::new(),
            origin: Origin {
                file: self.file(),
                span: s.span,
            },
        };
        let mut seen = Seen::default();
        for st in &s.stmts {
            match &st.kind {
                ast::ServiceStmt::Route(r) => {
                    let route = self.route(r, cx);
                    m.routes.push(route);
                }
                ast::ServiceStmt::DependsOn(deps) => {
                    for d in deps {
                        if d.name == s.name.name {
                            self.diags.push(
                                Diagnostic::error(
                                    Code::Conflict,
                                    self.file(),
                                    d.span,
                                    format!("service `{}` cannot depend on itself", d.name),
                                )
                                .with_label("itself"),
                            );
                        } else if let Some(i) = siblings.iter().position(|n| *n == d.name) {
                            m.depends_on.push(i);
                        } else {
                            let mut diag = Diagnostic::error(
                                Code::UnknownName,
                                self.file(),
                                d.span,
                                format!("unknown service `{}`", d.name),
                            )
                            .with_label("no service by this name in this system");
                            if let Some(sug) = suggest(&d.name, siblings.iter().copied()) {
                                diag = diag.with_help(format!("did you mean `{sug}`?"));
                            }
                            self.diags.push(diag);
                        }
                    }
                }
                ast::ServiceStmt::Upstream(e) => {
                    seen.once(self, "upstream", st.span);
                    if let Some(v) = self.string(e, cx, "an upstream is \"host:port\"") {
                        if let StrValue::Literal { value } = &v {
                            let ok = value
                                .rsplit_once(':')
                                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
                            if !ok {
                                self.diags.push(
                                    Diagnostic::error(Code::OutOfRange, self.file(), e.span, format!("`{value}` is not host:port"))
                                        .with_label("expected host:port")
                                        .with_help("write the address the service calls, like \"127.0.0.1:9101\""),
                                );
                            }
                        }
                        m.upstream = Some(v);
                    }
                }
                ast::ServiceStmt::Process(p) => {
                    seen.once(self, "process", st.span);
                    m.process = match p {
                        ast::ProcessRef::Pidfile(e) => self
                            .string(e, cx, "a pid file path")
                            .map(ProcessModel::Pidfile),
                        ast::ProcessRef::Name(e) => {
                            self.string(e, cx, "a process name").map(ProcessModel::Name)
                        }
                        ast::ProcessRef::Command(e) => self
                            .string(e, cx, "a command line")
                            .map(ProcessModel::Command),
                    };
                }
                ast::ServiceStmt::Header(h) => {
                    if let Some(v) = self.string(&h.value, cx, "header values are strings") {
                        m.headers.push((h.name.value.clone(), v));
                    }
                }
                ast::ServiceStmt::Timeout(e) => {
                    seen.once(self, "timeout", st.span);
                    m.timeout = self.duration(e, cx, "the request timeout");
                }
                ast::ServiceStmt::Capacity(e) => {
                    seen.once(self, "capacity", st.span);
                    m.capacity = self.count(e, cx, "capacity", 1.0, 1e6).map(|c| c as f64);
                }
                ast::ServiceStmt::Query(q) => {
                    let mut qs = std::mem::take(&mut m.queries);
                    self.query(q, st.span, &mut seen, cx, &mut qs);
                    m.queries = qs;
                }
                ast::ServiceStmt::ScaleVia { .. }
                | ast::ServiceStmt::BalanceHaproxy { .. }
                | ast::ServiceStmt::BalanceProxy { .. } => {
                    if let Some(a) = self.actuator(st, &mut seen, cx) {
                        m.actuators.push(a);
                    }
                }
            }
        }
        if m.routes.is_empty()
            && m.upstream.is_none()
            && m.process.is_none()
            && !s.stmts.iter().any(|s| {
                matches!(
                    s.kind,
                    ast::ServiceStmt::Upstream(_)
                        | ast::ServiceStmt::Process(_)
                        | ast::ServiceStmt::Route(_)
                )
            })
        {
            self.diags.push(
                Diagnostic::error(
                    Code::Missing,
                    self.file(),
                    s.name.span,
                    format!(
                        "service `{}` has no route, upstream or process",
                        s.name.name
                    ),
                )
                .with_label("how is it reached?")
                .with_help(
                    "add `route GET \"/path\"`, `upstream \"host:port\"` or `process name \"...\"`",
                ),
            );
        }
        m
    }

    pub(super) fn route(&mut self, r: &ast::Route, cx: &Ctx) -> RouteModel {
        if !r.path.value.starts_with('/') {
            self.diags.push(
                Diagnostic::error(
                    Code::OutOfRange,
                    self.file(),
                    r.path.span,
                    format!("route path \"{}\" does not start with `/`", r.path.value),
                )
                .with_label("not a path")
                .with_help(format!(
                    "write \"/{}\"",
                    r.path.value.trim_start_matches('/')
                )),
            );
        }
        self.templates_in(&r.path.value, r.path.span, cx);
        let body = r.body.as_ref().and_then(|b| match b {
            ast::Body::Json(j) => Some(BodyModel::Json(self.json(j, cx))),
            ast::Body::Size(e) => match self.constant(e, Ty::Size, cx, "a body size")? {
                Value::Size(s) => Some(BodyModel::Size(s)),
                _ => None,
            },
            ast::Body::Raw(s) => {
                self.templates_in(&s.value, s.span, cx);
                Some(BodyModel::Raw(s.value.clone()))
            }
        });
        let expect_status = r
            .expect_status
            .iter()
            .filter_map(|(text, span)| {
                let p = StatusPattern::parse(text);
                if p.is_none() {
                    self.out_of_range(
                        *span,
                        &format!("`{text}` is not an HTTP status"),
                        "statuses run from 100 to 599; classes from 1xx to 5xx",
                    );
                }
                p
            })
            .collect();
        let weight = match &r.weight {
            Some(e) => match self.constant(e, Ty::Number, cx, "a route weight") {
                Some(Value::Number(w)) if w > 0.0 => w,
                Some(_) => {
                    self.out_of_range(
                        e.span,
                        "a route weight must be above zero",
                        "weights are relative: 1 and 3 send a quarter and three quarters",
                    );
                    1.0
                }
                None => 1.0,
            },
            None => 1.0,
        };
        RouteModel {
            method: r.method.name.clone(),
            path: r.path.value.clone(),
            body,
            expect_status,
            weight,
        }
    }

    /// Checks `{feeder.column}` placeholders in a path or body string.
    pub(super) fn templates_in(&mut self, text: &str, span: Span, cx: &Ctx) {
        let mut rest = text;
        let mut offset = 0;
        while let Some(open) = rest.find('{') {
            if open > 0 && rest.as_bytes()[open - 1] == b'\\' {
                offset += open + 1;
                rest = &rest[open + 1..];
                continue;
            }
            let Some(close) = rest[open..].find('}') else {
                break;
            };
            let inner = &rest[open + 1..open + close];
            let feeder = inner.split('.').next().unwrap_or("");
            // Spans inside a string are approximate when escapes precede; point at the string then.
            let inner_span = if text.len() + 2 == span.len() {
                Span::new(
                    span.start + 1 + offset + open,
                    span.start + 1 + offset + open + close + 1,
                )
            } else {
                span
            };
            let builtin = matches!(feeder, "random" | "seq" | "uuid");
            if !builtin {
                let id = ast::Ident {
                    name: feeder.to_string(),
                    span: inner_span,
                };
                if self
                    .lookup_quiet(cx, feeder)
                    .is_some_and(|d| self.decls[d].kind == DeclKind::Data)
                {
                } else if inner.contains('.') {
                    self.resolve(cx, &id, DeclKind::Data);
                } else {
                    self.diags.push(
                        Diagnostic::error(Code::UnknownName, self.file(), inner_span, format!("`{{{inner}}}` names no feeder column"))
                            .with_label("expected {feeder.column}")
                            .with_help("placeholders are `{feeder.column}` from a `data` declaration, `{random.N}`, `{seq}` or `{uuid}`; write `\\{` for a literal brace"),
                    );
                }
            }
            offset += open + close + 1;
            rest = &rest[open + close + 1..];
        }
    }

    pub(super) fn json(&mut self, j: &ast::Json, cx: &Ctx) -> serde_json::Value {
        use serde_json::Value as J;
        match &j.kind {
            ast::JsonKind::Object(pairs) => {
                let mut map = serde_json::Map::new();
                for (k, v) in pairs {
                    if map.contains_key(&k.value) {
                        self.diags.push(
                            Diagnostic::error(
                                Code::Duplicate,
                                self.file(),
                                k.span,
                                format!("key \"{}\" appears twice in this object", k.value),
                            )
                            .with_label("again here"),
                        );
                    }
                    let value = self.json(v, cx);
                    map.insert(k.value.clone(), value);
                }
                J::Object(map)
            }
            ast::JsonKind::Array(items) => {
                J::Array(items.iter().map(|i| self.json(i, cx)).collect())
            }
            ast::JsonKind::String(s) => {
                self.templates_in(s, j.span, cx);
                J::String(s.clone())
            }
            ast::JsonKind::Number(n) => n
                .parse::<serde_json::Number>()
                .map(J::Number)
                .unwrap_or(J::Null),
            ast::JsonKind::Bool(b) => J::Bool(*b),
            ast::JsonKind::Null => J::Null,
        }
    }
}
