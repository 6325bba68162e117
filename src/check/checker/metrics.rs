//! A system's metrics source: `metrics prometheus URL` and the `query rate|p99|errors "PROMQL"`
//! statements of a system (templates for every service, `$service` in them) or of one service.

use super::*;

impl<'a> Checker<'a> {
    /// The Prometheus server's URL: an http:// or https:// base.
    pub(super) fn metrics_url(&mut self, e: &ast::Expr, cx: &Ctx) -> Option<StrValue> {
        let v = self.string(
            e,
            cx,
            "`metrics prometheus` takes the Prometheus server's URL",
        )?;
        if !self.http_url(
            &v,
            e.span,
            "write Prometheus's base URL, like \"http://127.0.0.1:9090\"",
        ) {
            return None;
        }
        Some(v)
    }

    /// Whether a literal URL is http:// or https:// (an error pointing at `span` if not); a
    /// value from the environment is checked when it is read.
    pub(super) fn http_url(&mut self, v: &StrValue, span: Span, help: &str) -> bool {
        let StrValue::Literal { value } = v else {
            return true;
        };
        if value.starts_with("http://") || value.starts_with("https://") {
            return true;
        }
        self.diags.push(
            Diagnostic::error(
                Code::OutOfRange,
                self.file(),
                span,
                format!("`{value}` is not an http:// or https:// URL"),
            )
            .with_label("not a URL")
            .with_help(help.to_string()),
        );
        false
    }

    /// One `query QUANTITY "PROMQL"`, added to `out` (each quantity once per block).
    pub(super) fn query(
        &mut self,
        q: &ast::Query,
        span: Span,
        seen: &mut Seen,
        cx: &Ctx,
        out: &mut Vec<(Quantity, String)>,
    ) {
        let table: Vec<(&str, Quantity)> = Quantity::ALL.iter().map(|q| (q.name(), *q)).collect();
        let Some(quantity) = self.option(&q.quantity, "metrics quantity", &table) else {
            return;
        };
        seen.once(
            self,
            match quantity {
                Quantity::Rate => "query rate",
                Quantity::P99 => "query p99",
                Quantity::Errors => "query errors",
            },
            span,
        );
        let Some(v) = self.string(&q.promql, cx, "a query is a PromQL string") else {
            return;
        };
        let StrValue::Literal { value } = v else {
            self.diags.push(
                Diagnostic::error(
                    Code::WrongKind,
                    self.file(),
                    q.promql.span,
                    "a query is written in the file, not read from the environment",
                )
                .with_label("not a literal string")
                .with_help("write the PromQL here; `$service` stands for the service's name"),
            );
            return;
        };
        if value.trim().is_empty() {
            self.diags.push(
                Diagnostic::error(
                    Code::Missing,
                    self.file(),
                    q.promql.span,
                    "the query is empty",
                )
                .with_label("no PromQL")
                .with_help(format!("for example {:?}", quantity.default_query())),
            );
            return;
        }
        out.push((quantity, value));
    }

    /// A `query` in a system that says no `metrics prometheus`: nothing would run it.
    pub(super) fn query_without_source(&mut self, span: Span, system: &str) {
        self.diags.push(
            Diagnostic::error(
                Code::Missing,
                self.file(),
                span,
                format!("system `{system}` has queries but no metrics source"),
            )
            .with_label("where would this query run?")
            .with_help("add `metrics prometheus \"http://HOST:9090\"` to the system"),
        );
    }
}

impl<'a> Checker<'a> {
    /// `skip when COND`: a condition over what a metrics source reads of the real system —
    /// `throughput`, `p99` and `error_rate` — of systems that declare `metrics prometheus`.
    pub(super) fn skip_when(&mut self, e: &ast::Expr, cx: &Ctx) -> Option<Condition> {
        let c = self.condition(e, cx, Duration::ZERO)?;
        let mut used = Vec::new();
        crate::check::eval::metrics_in(&c.expr, &mut used);
        let mut ok = true;
        if used.is_empty() {
            self.diags.push(
                Diagnostic::error(
                    Code::Missing,
                    self.file(),
                    e.span,
                    "`skip when` needs a metric of the real system",
                )
                .with_label("measures nothing")
                .with_help("for example `skip when throughput(shop) > 800/s`"),
            );
            ok = false;
        }
        for (metric, system, _) in used {
            if !matches!(metric, Metric::Throughput | Metric::P99 | Metric::ErrorRate) {
                self.diags.push(
                    Diagnostic::error(
                        Code::WrongKind,
                        self.file(),
                        e.span,
                        format!(
                            "`skip when` reads the real system through its metrics source, which gives throughput, p99 and error_rate, not {}",
                            metric.name()
                        ),
                    )
                    .with_label("not read from the real system")
                    .with_help("use throughput(…), p99(…) or error_rate(…)"),
                );
                ok = false;
            }
            let unread = self
                .model
                .systems
                .get(system)
                .filter(|s| s.metrics.is_none())
                .map(|s| s.name.clone());
            if let Some(name) = unread {
                self.diags.push(
                    Diagnostic::error(
                        Code::Missing,
                        self.file(),
                        e.span,
                        format!("system `{name}` declares no metrics source"),
                    )
                    .with_label("nothing would read this")
                    .with_help(format!(
                        "add `metrics prometheus \"http://HOST:9090\"` to system `{name}`"
                    )),
                );
                ok = false;
            }
        }
        ok.then_some(c)
    }
}
