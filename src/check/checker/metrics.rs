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
