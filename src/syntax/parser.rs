//! pest pairs → typed AST. Naming: every `parse_*` function returns one construct; a pair of
//! an unexpected rule is an internal bug (the grammar and this file disagree) and is reported
//! as a `bad_literal`-free panic-free error by the caller, never by panicking.
//!
//! Why one file of ~1,300 lines: it follows grammar/res.pest one `parse_*` function per rule, in
//! the grammar's order, so the two are read side by side; splitting it would scatter that
//! correspondence without making any one construct easier to find.

use std::sync::OnceLock;

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;
use pest_derive::Parser;

use super::ast::*;
use crate::diagnostic::{Code, Diagnostic, FileId, Span};
use crate::units;

#[derive(Parser)]
#[grammar = "../grammar/res.pest"]
pub struct ResParser;

type P<'i> = Pair<'i, Rule>;

/// Parses a whole file. Literal errors (an impossible date, a bad escape) do not stop the
/// parse: they are collected in `diags` and the literal keeps a placeholder value.
pub(super) fn parse_file(
    text: &str,
    file: FileId,
    diags: &mut Vec<Diagnostic>,
) -> Result<File, pest::error::Error<Rule>> {
    parse_file_at(text, 0, file, diags)
}

thread_local! {
    /// Where the text being built starts in its file: [`span`] adds it, so a piece of a file
    /// parsed on its own (see `recover`) gets spans into the whole file.
    static SHIFT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Sets [`SHIFT`] while it lives, and puts the old value back however the build ends.
struct Shift(usize);

impl Shift {
    fn to(offset: usize) -> Shift {
        Shift(SHIFT.with(|s| s.replace(offset)))
    }
}

impl Drop for Shift {
    fn drop(&mut self) {
        SHIFT.with(|s| s.set(self.0));
    }
}

/// [`parse_file`] of a piece of a file that starts at byte `offset` of it: spans in the tree
/// count from the start of the file (a pest error still counts from the start of `text`).
pub(super) fn parse_file_at(
    text: &str,
    offset: usize,
    file: FileId,
    diags: &mut Vec<Diagnostic>,
) -> Result<File, pest::error::Error<Rule>> {
    let mut pairs = ResParser::parse(Rule::file, text)?;
    let root = match pairs.next() {
        Some(p) => p,
        None => return Ok(File::default()),
    };
    let _shift = Shift::to(offset);
    let mut b = Builder { file, diags };
    let whole: Span = root.as_span().into();
    let span = Span::new(whole.start + offset, whole.end + offset);
    let items = root
        .into_inner()
        .filter(|p| p.as_rule() != Rule::EOI)
        .filter_map(|p| b.parse_item(p))
        .collect();
    Ok(File { items, span })
}

/// Parses one expression on its own (used for `--set name=value` overrides).
pub(super) fn parse_expr_text(
    text: &str,
    file: FileId,
    diags: &mut Vec<Diagnostic>,
) -> Result<Expr, pest::error::Error<Rule>> {
    let mut pairs = ResParser::parse(Rule::expr, text)?;
    let pair = pairs
        .next()
        .expect("pest returns the rule it was asked for");
    let end = pair.as_span().end();
    if end != text.len() {
        let pos = pest::Position::new(text, end).expect("end is inside the text");
        return Err(pest::error::Error::new_from_pos(
            pest::error::ErrorVariant::CustomError {
                message: "unexpected text after the value".into(),
            },
            pos,
        ));
    }
    let mut b = Builder { file, diags };
    Ok(b.parse_expr(pair))
}

fn pratt() -> &'static PrattParser<Rule> {
    static PRATT: OnceLock<PrattParser<Rule>> = OnceLock::new();
    PRATT.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::op_or, Assoc::Left))
            .op(Op::infix(Rule::op_and, Assoc::Left))
            .op(Op::prefix(Rule::op_not))
            .op(Op::infix(Rule::op_eq, Assoc::Left)
                | Op::infix(Rule::op_ne, Assoc::Left)
                | Op::infix(Rule::op_lt, Assoc::Left)
                | Op::infix(Rule::op_le, Assoc::Left)
                | Op::infix(Rule::op_gt, Assoc::Left)
                | Op::infix(Rule::op_ge, Assoc::Left))
            .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
            .op(Op::infix(Rule::op_mul, Assoc::Left) | Op::infix(Rule::op_div, Assoc::Left))
            .op(Op::prefix(Rule::op_neg) | Op::prefix(Rule::op_pos))
    })
}

/// The span of a pair without the whitespace and comments pest lets a trailing repetition
/// swallow (`step a = load t after b\n  ` ends at `b`).
fn span(p: &P) -> Span {
    let s = unshifted(p);
    let by = SHIFT.with(std::cell::Cell::get);
    Span::new(s.start + by, s.end + by)
}

fn unshifted(p: &P) -> Span {
    let full: Span = p.as_span().into();
    let text = p.as_str();
    let trimmed = text.trim_end();
    let mut end = full.start + trimmed.len();
    if let Some(last) = p.clone().into_inner().last() {
        let inner_end = unshifted(&last).end;
        if inner_end < end && only_trivia(&text[inner_end - full.start..]) {
            end = inner_end;
        }
    }
    Span::new(full.start, end.max(full.start))
}

/// True when `s` holds nothing but whitespace and comments.
fn only_trivia(s: &str) -> bool {
    let mut rest = s.trim_start();
    loop {
        if rest.is_empty() {
            return true;
        }
        if let Some(r) = rest.strip_prefix("//") {
            rest = r.find('\n').map_or("", |i| &r[i..]).trim_start();
        } else if let Some(r) = rest.strip_prefix("/*") {
            match r.find("*/") {
                Some(i) => rest = r[i + 2..].trim_start(),
                None => return false,
            }
        } else {
            return false;
        }
    }
}

/// Skips keyword pairs: the AST does not keep them, their meaning is the node's kind.
fn children<'i>(p: P<'i>) -> impl Iterator<Item = P<'i>> {
    p.into_inner().filter(|c| !is_keyword(c.as_rule()))
}

/// True for the `kw_*` rules. Asked for every pair the parser visits, so it is a table
/// lookup, built once from the rule names.
pub fn is_keyword(rule: Rule) -> bool {
    static TABLE: OnceLock<Vec<bool>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let all = Rule::all_rules();
        let mut t = vec![false; all.iter().map(|r| *r as usize).max().unwrap_or(0) + 1];
        for r in all {
            t[*r as usize] = format!("{r:?}").starts_with("kw_");
        }
        t
    });
    table.get(rule as usize).copied().unwrap_or(false)
}

struct Builder<'d> {
    file: FileId,
    diags: &'d mut Vec<Diagnostic>,
}

impl Builder<'_> {
    fn parse_item(&mut self, p: P) -> Option<Item> {
        let sp = span(&p);
        Some(match p.as_rule() {
            Rule::import_decl => {
                let mut it = children(p);
                let path = self.parse_str(it.next()?);
                let names = it
                    .map(|n| {
                        let mut parts = children(n);
                        let name = ident(parts.next().expect("import_name has a name"));
                        ImportName {
                            name,
                            alias: parts.next().map(ident),
                        }
                    })
                    .collect();
                Item::Import(Import {
                    path,
                    names,
                    span: sp,
                })
            }
            Rule::param_decl => {
                let mut name = None;
                let mut ty = None;
                let mut value = None;
                for c in children(p) {
                    match c.as_rule() {
                        Rule::ident => name = Some(ident(c)),
                        Rule::type_name => ty = Some(ident(c.into_inner().next()?)),
                        Rule::expr => value = Some(self.parse_expr(c)),
                        _ => {}
                    }
                }
                Item::Param(Param {
                    name: name?,
                    ty,
                    value: value?,
                    span: sp,
                })
            }
            Rule::data_decl => {
                let mut it = children(p);
                let name = ident(it.next()?);
                let path = self.parse_str(it.next()?);
                let mut d = Data {
                    name,
                    path,
                    format: None,
                    order: None,
                    span: sp,
                };
                for c in it {
                    let rule = c.as_rule();
                    let value = children(c).next().map(ident);
                    match rule {
                        Rule::data_format => d.format = value,
                        _ => d.order = value,
                    }
                }
                Item::Data(d)
            }
            Rule::system_decl => {
                let mut it = children(p);
                let name = ident(it.next()?);
                let stmts = it.filter_map(|c| self.parse_system_stmt(c)).collect();
                Item::System(System {
                    name,
                    stmts,
                    span: sp,
                })
            }
            Rule::traffic_decl => {
                let mut it = children(p);
                let name = ident(it.next()?);
                let body = self.parse_body(it, Self::parse_traffic_stmt);
                Item::Traffic(Traffic {
                    name,
                    body,
                    span: sp,
                })
            }
            Rule::fault_decl => {
                let mut it = children(p);
                let name = ident(it.next()?);
                let body = self.parse_body(it, Self::parse_fault_stmt);
                Item::Fault(Fault {
                    name,
                    body,
                    span: sp,
                })
            }
            Rule::window_decl => {
                let mut it = children(p);
                let name = ident(it.next()?);
                let stmts = it.filter_map(|c| self.parse_window_stmt(c)).collect();
                Item::Window(Window {
                    name,
                    stmts,
                    span: sp,
                })
            }
            Rule::event_decl => {
                let mut it = children(p);
                let name = ident(it.next()?);
                let stmts = it
                    .filter_map(|c| {
                        let s = span(&c);
                        let rule = c.as_rule();
                        let e = self.parse_expr(children(c).next()?);
                        let kind = match rule {
                            Rule::event_at => EventStmt::At(e),
                            Rule::event_lasts => EventStmt::Lasts(e),
                            _ => EventStmt::Expect(e),
                        };
                        Some(Stmt { kind, span: s })
                    })
                    .collect();
                Item::Event(Event {
                    name,
                    stmts,
                    span: sp,
                })
            }
            Rule::slo_decl => {
                let mut it = children(p);
                let name = ident(it.next()?);
                let body = self.parse_body(it, |b, c| {
                    let s = span(&c);
                    Some(Stmt {
                        kind: b.parse_expr(c.into_inner().next()?),
                        span: s,
                    })
                });
                Item::Slo(Slo {
                    name,
                    body,
                    span: sp,
                })
            }
            Rule::abort_decl => Item::Abort(self.parse_abort(p)?),
            Rule::remedy_decl => {
                let mut it = children(p);
                let name = ident(it.next()?);
                let body = self.parse_body(it, Self::parse_remedy_stmt);
                Item::Remedy(Remedy {
                    name,
                    body,
                    span: sp,
                })
            }
            Rule::scenario_decl => {
                let mut it = children(p);
                let name = ident(it.next()?);
                let stmts = it.filter_map(|c| self.parse_scenario_stmt(c)).collect();
                Item::Scenario(Scenario {
                    name,
                    stmts,
                    span: sp,
                })
            }
            Rule::template_decl => Item::Template(self.parse_template(children(p).next()?, sp)?),
            _ => return None,
        })
    }

    /// A declaration body: a block of statements, or `= template(args)`.
    fn parse_body<'i, K>(
        &mut self,
        mut it: impl Iterator<Item = P<'i>>,
        stmt: impl Fn(&mut Self, P<'i>) -> Option<Stmt<K>>,
    ) -> Body2<K> {
        let rest: Vec<P<'i>> = it.by_ref().collect();
        if let Some(first) = rest.first() {
            if first.as_rule() == Rule::template_call {
                return Body2::Template(self.parse_call(first.clone()));
            }
        }
        Body2::Block(rest.into_iter().filter_map(|c| stmt(self, c)).collect())
    }

    fn parse_template(&mut self, p: P, sp: Span) -> Option<Template> {
        let rule = p.as_rule();
        let mut it = children(p);
        let name = ident(it.next()?);
        let params_pair = it.next()?;
        let params = children(params_pair)
            .map(|tp| {
                let s = span(&tp);
                let mut parts = children(tp);
                let name = ident(parts.next().expect("template_param has a name"));
                let ty = ident(
                    parts
                        .next()
                        .expect("template_param has a type")
                        .into_inner()
                        .next()
                        .expect("type_name wraps an ident"),
                );
                let default = parts.next().map(|e| self.parse_expr(e));
                TemplateParam {
                    name,
                    ty,
                    default,
                    span: s,
                }
            })
            .collect();
        let body = match rule {
            Rule::template_fault => {
                TemplateBody::Fault(it.filter_map(|c| self.parse_fault_stmt(c)).collect())
            }
            Rule::template_traffic => {
                TemplateBody::Traffic(it.filter_map(|c| self.parse_traffic_stmt(c)).collect())
            }
            Rule::template_slo => TemplateBody::Slo(
                it.filter_map(|c| {
                    let s = span(&c);
                    Some(Stmt {
                        kind: self.parse_expr(c.into_inner().next()?),
                        span: s,
                    })
                })
                .collect(),
            ),
            _ => TemplateBody::Remedy(it.filter_map(|c| self.parse_remedy_stmt(c)).collect()),
        };
        Some(Template {
            name,
            params,
            body,
            span: sp,
        })
    }

    fn parse_system_stmt(&mut self, p: P) -> Option<Stmt<SystemStmt>> {
        let s = span(&p);
        let kind = match p.as_rule() {
            Rule::builtin_stmt => SystemStmt::Builtin(ident(children(p).next()?)),
            Rule::metrics_stmt => {
                SystemStmt::MetricsPrometheus(self.parse_expr(children(p).next()?))
            }
            Rule::query_stmt => SystemStmt::Query(self.parse_query(p)?),
            Rule::base_stmt => SystemStmt::Base(self.parse_expr(children(p).next()?)),
            Rule::header_stmt => SystemStmt::Header(self.parse_header(p)?),
            Rule::timeout_stmt => SystemStmt::Timeout(self.parse_expr(children(p).next()?)),
            Rule::protocol_stmt => SystemStmt::Protocol(ident(children(p).next()?)),
            Rule::service_decl => {
                let mut it = children(p);
                let name = ident(it.next()?);
                let stmts = it.filter_map(|c| self.parse_service_stmt(c)).collect();
                SystemStmt::Service(Service {
                    name,
                    stmts,
                    span: s,
                })
            }
            _ => return None,
        };
        Some(Stmt { kind, span: s })
    }

    fn parse_header(&mut self, p: P) -> Option<Header> {
        let mut it = children(p);
        let name = self.parse_str(it.next()?);
        let value = self.parse_expr(it.next()?);
        Some(Header { name, value })
    }

    fn parse_query(&mut self, p: P) -> Option<Query> {
        let mut it = children(p);
        let quantity = ident(it.next()?);
        let promql = self.parse_expr(it.next()?);
        Some(Query { quantity, promql })
    }

    fn parse_service_stmt(&mut self, p: P) -> Option<Stmt<ServiceStmt>> {
        let s = span(&p);
        let kind = match p.as_rule() {
            Rule::route_stmt => {
                let mut it = children(p);
                let method = ident(it.next()?);
                let path = self.parse_str(it.next()?);
                let mut route = Route {
                    method,
                    path,
                    body: None,
                    expect_status: Vec::new(),
                    weight: None,
                };
                for c in it {
                    match c.as_rule() {
                        Rule::body_clause => {
                            let b = children(c).next()?;
                            route.body = Some(match b.as_rule() {
                                Rule::body_json => Body::Json(self.parse_json(children(b).next()?)),
                                Rule::body_size => Body::Size(self.parse_expr(children(b).next()?)),
                                _ => Body::Raw(self.parse_str(b)),
                            });
                        }
                        Rule::expect_status => {
                            route.expect_status = children(c)
                                .map(|sp| (sp.as_str().to_string(), span(&sp)))
                                .collect()
                        }
                        Rule::weight_clause => {
                            route.weight = Some(self.parse_expr(children(c).next()?))
                        }
                        _ => {}
                    }
                }
                ServiceStmt::Route(route)
            }
            Rule::depends_stmt => ServiceStmt::DependsOn(children(p).map(ident).collect()),
            Rule::upstream_stmt => ServiceStmt::Upstream(self.parse_expr(children(p).next()?)),
            Rule::process_stmt => {
                let c = children(p).next()?;
                let rule = c.as_rule();
                let e = self.parse_expr(children(c).next()?);
                ServiceStmt::Process(match rule {
                    Rule::process_pidfile => ProcessRef::Pidfile(e),
                    Rule::process_name => ProcessRef::Name(e),
                    _ => ProcessRef::Command(e),
                })
            }
            Rule::header_stmt => ServiceStmt::Header(self.parse_header(p)?),
            Rule::timeout_stmt => ServiceStmt::Timeout(self.parse_expr(children(p).next()?)),
            Rule::capacity_stmt => ServiceStmt::Capacity(self.parse_expr(children(p).next()?)),
            Rule::scale_via_stmt => {
                let mut it = children(p);
                let how = it.next()?;
                let via = if how.as_rule() == Rule::scale_exec {
                    let mut e = children(how);
                    let set = self.parse_expr(e.next()?);
                    let read = self.parse_expr(e.next()?);
                    ScaleVia::Exec { set, read }
                } else {
                    ScaleVia::Admin
                };
                let within = match it.next() {
                    Some(w) => {
                        let mut e = children(w).filter(|c| c.as_rule() != Rule::range_dots);
                        let lo = self.parse_expr(e.next()?);
                        Some((lo, self.parse_expr(e.next()?)))
                    }
                    None => None,
                };
                ServiceStmt::ScaleVia { via, within }
            }
            Rule::query_stmt => ServiceStmt::Query(self.parse_query(p)?),
            Rule::balance_via_stmt => {
                let how = children(p).next()?;
                let mut it = children(how.clone());
                if how.as_rule() == Rule::balance_proxy {
                    ServiceStmt::BalanceProxy {
                        admin: self.parse_expr(it.next()?),
                    }
                } else {
                    let socket = self.parse_expr(it.next()?);
                    let backend = self.parse_expr(it.next()?);
                    ServiceStmt::BalanceHaproxy { socket, backend }
                }
            }
            _ => return None,
        };
        Some(Stmt { kind, span: s })
    }

    fn parse_json(&mut self, p: P) -> Json {
        let s = span(&p);
        let kind = match p.as_rule() {
            Rule::json_object => JsonKind::Object(
                children(p)
                    .filter_map(|pair| {
                        let mut it = children(pair);
                        let key = self.parse_str(it.next()?);
                        let value = self.parse_json(it.next()?);
                        Some((key, value))
                    })
                    .collect(),
            ),
            Rule::json_array => JsonKind::Array(children(p).map(|c| self.parse_json(c)).collect()),
            Rule::string => JsonKind::String(self.parse_str(p).value),
            Rule::json_number => JsonKind::Number(p.as_str().to_string()),
            Rule::json_true => JsonKind::Bool(true),
            Rule::json_false => JsonKind::Bool(false),
            _ => JsonKind::Null,
        };
        Json { kind, span: s }
    }

    fn parse_traffic_stmt(&mut self, p: P) -> Option<Stmt<TrafficStmt>> {
        let s = span(&p);
        let kind = match p.as_rule() {
            Rule::learn_stmt => {
                let mut it = children(p);
                let path = self.parse_str(it.next()?);
                TrafficStmt::Learn {
                    path,
                    format: it.next().map(ident),
                }
            }
            Rule::forecast_stmt => {
                let mut it = children(p);
                let horizon = self.parse_expr(it.next()?);
                let (mut quantile, mut method) = (None, None);
                for c in it {
                    match c.as_rule() {
                        Rule::forecast_quantile => {
                            quantile = Some(self.parse_expr(children(c).next()?))
                        }
                        _ => method = children(c).next().map(ident),
                    }
                }
                TrafficStmt::Forecast {
                    horizon,
                    quantile,
                    method,
                }
            }
            Rule::like_stmt => TrafficStmt::Like(ident(children(p).next()?)),
            Rule::against_stmt => TrafficStmt::Against(ident(children(p).next()?)),
            Rule::rate_stmt => TrafficStmt::Rate(self.parse_expr(children(p).next()?)),
            Rule::arrival_stmt => TrafficStmt::Arrival(ident(children(p).next()?)),
            Rule::ramp_stmt => {
                let mut from = None;
                let mut exprs = Vec::new();
                for c in children(p) {
                    match c.as_rule() {
                        Rule::ramp_from => from = Some(self.parse_expr(c.into_inner().next()?)),
                        _ => exprs.push(self.parse_expr(c)),
                    }
                }
                let over = exprs.pop()?;
                let to = exprs.pop()?;
                TrafficStmt::Ramp { from, to, over }
            }
            Rule::hold_stmt => {
                let mut it = children(p);
                let duration = self.parse_expr(it.next()?);
                TrafficStmt::Hold {
                    duration,
                    at: it.next().map(|e| self.parse_expr(e)),
                }
            }
            Rule::mix_stmt => TrafficStmt::Mix(
                children(p)
                    .filter_map(|e| {
                        let mut it = children(e);
                        let target = self.parse_path(it.next()?);
                        let share = self.parse_expr(it.next()?);
                        Some(MixEntry { target, share })
                    })
                    .collect(),
            ),
            Rule::session_decl => {
                let mut name = None;
                let mut weight = None;
                let mut visits = Vec::new();
                for c in children(p) {
                    match c.as_rule() {
                        Rule::ident => name = Some(ident(c)),
                        Rule::expr => weight = Some(self.parse_expr(c)),
                        Rule::visit_stmt => {
                            let vs = span(&c);
                            let mut it = children(c);
                            let target = self.parse_path(it.next()?);
                            let mut v = Visit {
                                target,
                                think: None,
                                repeat: None,
                            };
                            for o in it {
                                match o.as_rule() {
                                    Rule::think_clause => v.think = self.parse_think(o),
                                    _ => v.repeat = Some(self.parse_expr(children(o).next()?)),
                                }
                            }
                            visits.push(Stmt { kind: v, span: vs });
                        }
                        _ => {}
                    }
                }
                TrafficStmt::Session(Session {
                    name: name?,
                    weight,
                    visits,
                    span: s,
                })
            }
            Rule::users_stmt => {
                let mut it = children(p);
                let count = self.parse_expr(it.next()?);
                TrafficStmt::Users {
                    count,
                    think: it.next().and_then(|t| self.parse_think(t)),
                }
            }
            Rule::scale_stmt => TrafficStmt::Scale(self.parse_expr(children(p).next()?)),
            _ => return None,
        };
        Some(Stmt { kind, span: s })
    }

    fn parse_think(&mut self, p: P) -> Option<Think> {
        let mut it = children(p);
        let min = self.parse_expr(it.next()?);
        Some(Think {
            min,
            max: it.next().map(|e| self.parse_expr(e)),
        })
    }

    fn parse_fault_stmt(&mut self, p: P) -> Option<Stmt<FaultStmt>> {
        let s = span(&p);
        let rule = p.as_rule();
        let kind = match rule {
            Rule::on_stmt => {
                let t = children(p).next()?;
                FaultStmt::On(if t.as_rule() == Rule::stressed {
                    let ts = span(&t);
                    let mut it = children(t);
                    let system = ident(it.next()?);
                    let (mut top, mut by) = (None, None);
                    for o in it {
                        match o.as_rule() {
                            Rule::stressed_top => top = Some(self.parse_expr(children(o).next()?)),
                            _ => by = children(o).next().map(ident),
                        }
                    }
                    Target::Stressed {
                        system,
                        top,
                        by,
                        span: ts,
                    }
                } else {
                    Target::Fixed(self.parse_path(t))
                })
            }
            Rule::latency_stmt => {
                let mut it = children(p);
                let value = self.parse_expr(it.next()?);
                let (mut jitter, mut per_chunk) = (None, false);
                for o in it {
                    match o.as_rule() {
                        Rule::jitter_clause => jitter = Some(self.parse_expr(children(o).next()?)),
                        _ => per_chunk = true,
                    }
                }
                FaultStmt::Latency {
                    value,
                    jitter,
                    per_chunk,
                }
            }
            Rule::errors_stmt => {
                let mut it = children(p);
                let status = self.parse_expr(it.next()?);
                FaultStmt::Errors {
                    status,
                    rate: self.opt_inner_expr(it.next()),
                }
            }
            Rule::reset_stmt => FaultStmt::Reset {
                rate: self.opt_inner_expr(children(p).next()),
            },
            Rule::blackhole_stmt => FaultStmt::Blackhole {
                rate: self.opt_inner_expr(children(p).next()),
            },
            Rule::fault_timeout_stmt => FaultStmt::Timeout(self.parse_expr(children(p).next()?)),
            Rule::bandwidth_stmt => FaultStmt::Bandwidth(self.parse_expr(children(p).next()?)),
            Rule::slow_close_stmt => FaultStmt::SlowClose(self.parse_expr(children(p).next()?)),
            Rule::slice_stmt => {
                let mut it = children(p);
                let size = self.parse_expr(it.next()?);
                FaultStmt::Slice {
                    size,
                    delay: it.next().map(|e| self.parse_expr(e)),
                }
            }
            Rule::kill_stmt => FaultStmt::Kill {
                signal: children(p).next().map(ident),
            },
            Rule::pause_stmt => FaultStmt::Pause {
                duration: children(p).next().map(|e| self.parse_expr(e)),
            },
            Rule::restart_stmt => FaultStmt::Restart {
                command: children(p).next().map(|e| self.parse_expr(e)),
            },
            Rule::cpu_stmt => {
                let mut it = children(p);
                let cores = self.parse_expr(it.next()?);
                FaultStmt::Cpu {
                    cores,
                    load: it.next().map(|e| self.parse_expr(e)),
                }
            }
            Rule::memory_stmt => FaultStmt::Memory(self.parse_expr(children(p).next()?)),
            Rule::disk_stmt => {
                let mut it = children(p);
                let size = self.parse_expr(it.next()?);
                FaultStmt::Disk {
                    size,
                    path: it.next().map(|e| self.parse_expr(e)),
                }
            }
            Rule::fds_stmt => FaultStmt::Fds(self.parse_expr(children(p).next()?)),
            Rule::loss_stmt => FaultStmt::Loss(self.parse_expr(children(p).next()?)),
            Rule::toxicity_stmt => FaultStmt::Toxicity(self.parse_expr(children(p).next()?)),
            Rule::match_stmt => FaultStmt::Match(
                children(p)
                    .filter_map(|c| {
                        let rule = c.as_rule();
                        let mut it = children(c);
                        Some(match rule {
                            Rule::match_method => MatchCond::Method(ident(it.next()?)),
                            Rule::match_path => MatchCond::Path(self.parse_str(it.next()?)),
                            _ => {
                                let name = self.parse_str(it.next()?);
                                MatchCond::Header {
                                    name,
                                    value: it.next().map(|e| self.parse_expr(e)),
                                }
                            }
                        })
                    })
                    .collect(),
            ),
            Rule::toxiproxy_stmt => {
                let mut it = children(p);
                let url = self.parse_expr(it.next()?);
                FaultStmt::Toxiproxy {
                    url,
                    proxy: it.next().map(|e| self.parse_expr(e)),
                }
            }
            _ => return None,
        };
        Some(Stmt { kind, span: s })
    }

    /// `at_rate` and similar wrappers hold one expression.
    fn opt_inner_expr(&mut self, p: Option<P>) -> Option<Expr> {
        let inner = children(p?).next()?;
        Some(self.parse_expr(inner))
    }

    fn parse_window_stmt(&mut self, p: P) -> Option<Stmt<WindowStmt>> {
        let s = span(&p);
        let kind = match p.as_rule() {
            Rule::every_stmt => {
                let mut it = children(p);
                let days = children(it.next()?).map(ident).collect();
                let from = self.parse_lit_expr(it.next()?);
                let to = self.parse_lit_expr(it.next()?);
                let zone = it.next().map(|z| (z.as_str().to_string(), span(&z)));
                WindowStmt::Every {
                    days,
                    from,
                    to,
                    zone,
                }
            }
            Rule::between_stmt => {
                let mut it = children(p);
                let from = self.parse_expr(it.next()?);
                let to = self.parse_expr(it.next()?);
                WindowStmt::Between { from, to }
            }
            _ => return None,
        };
        Some(Stmt { kind, span: s })
    }

    fn parse_abort(&mut self, p: P) -> Option<Abort> {
        let s = span(&p);
        let mut it = children(p);
        let cond = self.parse_expr(it.next()?);
        Some(Abort {
            cond,
            for_: it.next().map(|e| self.parse_expr(e)),
            span: s,
        })
    }

    fn parse_remedy_stmt(&mut self, p: P) -> Option<Stmt<RemedyStmt>> {
        let s = span(&p);
        let kind = match p.as_rule() {
            Rule::when_stmt => {
                let mut predicted = false;
                let mut cond = None;
                let (mut at, mut for_) = (None, None);
                for c in children(p) {
                    match c.as_rule() {
                        Rule::predicted => predicted = true,
                        Rule::expr => cond = Some(self.parse_expr(c)),
                        Rule::at_point => at = self.opt_inner_expr(Some(c)),
                        Rule::for_clause => for_ = self.opt_inner_expr(Some(c)),
                        _ => {}
                    }
                }
                RemedyStmt::When {
                    predicted,
                    cond: cond?,
                    at,
                    for_,
                }
            }
            Rule::do_stmt => {
                let a = children(p).next()?;
                let rule = a.as_rule();
                let mut it = children(a);
                RemedyStmt::Do(match rule {
                    Rule::scale_action => {
                        let target = self.parse_path(it.next()?);
                        let how = it.next()?;
                        let is_by = how.as_rule() == Rule::scale_by;
                        let e = self.opt_inner_expr(Some(how))?;
                        if is_by {
                            Action::ScaleBy { target, by: e }
                        } else {
                            Action::ScaleTo { target, to: e }
                        }
                    }
                    Rule::shift_action => {
                        let amount = self.parse_expr(it.next()?);
                        let from = self.parse_path(it.next()?);
                        let to = self.parse_path(it.next()?);
                        Action::Shift { amount, from, to }
                    }
                    Rule::failover_action => {
                        let target = self.parse_path(it.next()?);
                        Action::Failover {
                            target,
                            to: self.parse_expr(it.next()?),
                        }
                    }
                    Rule::exec_action => Action::Exec(self.parse_expr(it.next()?)),
                    _ => Action::Webhook(self.parse_expr(it.next()?)),
                })
            }
            Rule::cooldown_stmt => RemedyStmt::Cooldown(self.parse_expr(children(p).next()?)),
            Rule::limit_stmt => {
                let mut it = children(p);
                let count = self.parse_expr(it.next()?);
                RemedyStmt::Limit {
                    count,
                    per: self.parse_expr(it.next()?),
                }
            }
            Rule::mode_stmt => RemedyStmt::Mode(ident(children(p).next()?)),
            Rule::verify_stmt => RemedyStmt::Verify(self.parse_expr(children(p).next()?)),
            Rule::approval_stmt => RemedyStmt::RequireApproval,
            Rule::step_limit_stmt => {
                let mut it = children(p);
                let count = self.parse_expr(it.next()?);
                RemedyStmt::StepLimit {
                    count,
                    per: self.parse_expr(it.next()?),
                }
            }
            _ => return None,
        };
        Some(Stmt { kind, span: s })
    }

    fn parse_scenario_stmt(&mut self, p: P) -> Option<Stmt<ScenarioStmt>> {
        let s = span(&p);
        let kind = match p.as_rule() {
            Rule::in_stmt => ScenarioStmt::In(
                children(p)
                    .filter_map(|w| {
                        let inner = children(w).next()?;
                        Some(if inner.as_rule() == Rule::before_ref {
                            WindowRef::Before(ident(children(inner).next()?))
                        } else {
                            WindowRef::Window(ident(inner))
                        })
                    })
                    .collect(),
            ),
            Rule::step_stmt => {
                let mut it = children(p);
                let name = ident(it.next()?);
                let a = it.next()?;
                let rule = a.as_rule();
                let mut ai = children(a);
                let action = match rule {
                    Rule::load_action => {
                        let traffic = ident(ai.next()?);
                        StepAction::Load {
                            traffic,
                            at: ai.next().map(|e| self.parse_expr(e)),
                        }
                    }
                    Rule::inject_action => StepAction::Inject(ident(ai.next()?)),
                    _ => StepAction::Wait(self.parse_expr(ai.next()?)),
                };
                let timing = it.filter_map(|t| self.parse_timing(t)).collect();
                ScenarioStmt::Step(Step {
                    name,
                    action,
                    timing,
                })
            }
            Rule::expect_stmt => {
                let mut it = children(p);
                let cond = self.parse_expr(it.next()?);
                let scope = it.next().and_then(|sc| {
                    let rule = sc.as_rule();
                    let step = ident(children(sc).next()?);
                    Some(if rule == Rule::expect_during {
                        ExpectScope::During(step)
                    } else {
                        ExpectScope::After(step)
                    })
                });
                ScenarioStmt::Expect { cond, scope }
            }
            Rule::abort_decl => ScenarioStmt::Abort(self.parse_abort(p)?),
            Rule::record_stmt => ScenarioStmt::Record,
            Rule::skip_stmt => ScenarioStmt::SkipWhen(self.parse_expr(children(p).next()?)),
            Rule::runs_stmt => ScenarioStmt::RunsPerWindow(self.parse_expr(children(p).next()?)),
            Rule::predict_stmt => ScenarioStmt::Predict {
                at: children(p).next().map(|e| self.parse_expr(e)),
            },
            Rule::then_stmt => ScenarioStmt::Remediate(children(p).map(ident).collect()),
            _ => return None,
        };
        Some(Stmt { kind, span: s })
    }

    fn parse_timing(&mut self, p: P) -> Option<Timing> {
        let s = span(&p);
        let rule = p.as_rule();
        let mut it = children(p);
        Some(match rule {
            Rule::after_clause | Rule::with_clause => {
                let point = self.parse_step_point(it.next()?)?;
                let offset = self.opt_inner_expr(it.next());
                if rule == Rule::after_clause {
                    Timing::After {
                        point,
                        offset,
                        span: s,
                    }
                } else {
                    Timing::With {
                        point,
                        offset,
                        span: s,
                    }
                }
            }
            Rule::during_clause => Timing::During {
                step: ident(it.next()?),
                span: s,
            },
            Rule::for_clause => Timing::For {
                duration: self.parse_expr(it.next()?),
                span: s,
            },
            Rule::start_clause => Timing::At {
                offset: self.opt_inner_expr(it.next())?,
                span: s,
            },
            _ => return None,
        })
    }

    fn parse_step_point(&mut self, p: P) -> Option<StepPoint> {
        let mut step = None;
        let mut edge = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::ident => step = Some(ident(c)),
                Rule::kw_start => edge = Some(Edge::Start),
                Rule::kw_end => edge = Some(Edge::End),
                _ => {}
            }
        }
        Some(StepPoint { step: step?, edge })
    }

    fn parse_call(&mut self, p: P) -> Call {
        let s = span(&p);
        let mut it = children(p);
        let func = ident(it.next().expect("a call has a name"));
        let args = it
            .map(|a| {
                let mut label = None;
                let mut value = None;
                for c in a.into_inner() {
                    match c.as_rule() {
                        Rule::arg_label => label = c.into_inner().next().map(ident),
                        _ => value = Some(self.parse_expr(c)),
                    }
                }
                Arg {
                    label,
                    value: value.expect("an argument has a value"),
                }
            })
            .collect();
        Call {
            func,
            args,
            span: s,
        }
    }

    fn parse_path(&mut self, p: P) -> Path {
        let s = span(&p);
        Path {
            parts: p.into_inner().map(ident).collect(),
            span: s,
        }
    }

    fn parse_expr(&mut self, p: P) -> Expr {
        let whole = span(&p);
        let pairs: Pairs<Rule> = p.into_inner();
        // The Pratt parser recurses once per prefix operator, and a long operator chain makes a
        // deep tree that every later walk recurses through: refuse both before building.
        let (mut ops, mut run, mut max_run) = (0usize, 0usize, 0usize);
        for q in pairs.clone() {
            match q.as_rule() {
                Rule::op_neg | Rule::op_pos | Rule::op_not => {
                    ops += 1;
                    run += 1;
                    max_run = max_run.max(run);
                }
                Rule::op_or
                | Rule::op_and
                | Rule::op_eq
                | Rule::op_ne
                | Rule::op_lt
                | Rule::op_le
                | Rule::op_gt
                | Rule::op_ge
                | Rule::op_add
                | Rule::op_sub
                | Rule::op_mul
                | Rule::op_div => {
                    ops += 1;
                    run = 0;
                }
                _ => run = 0,
            }
        }
        if ops > super::MAX_OPERATORS || max_run > super::MAX_DEPTH {
            self.diags.push(
                Diagnostic::error(
                    Code::TooDeep,
                    self.file,
                    whole,
                    format!(
                        "this expression has {ops} operators; the limit is {}",
                        super::MAX_OPERATORS
                    ),
                )
                .with_label("too long")
                .with_help("split it into smaller expressions with `param`"),
            );
            return Expr {
                kind: ExprKind::Lit(Lit {
                    text: "0".into(),
                    value: LitValue::Invalid,
                }),
                span: whole,
            };
        }
        // The Pratt parser's closures cannot borrow `self` mutably more than once; collect
        // literal errors through a cell instead.
        let diags = std::cell::RefCell::new(std::mem::take(self.diags));
        let file = self.file;
        let e = pratt()
            .map_primary(|prim| primary(prim, file, &diags))
            .map_prefix(|op, rhs| {
                let s = span(&op).to(rhs.span);
                let o = match op.as_rule() {
                    Rule::op_neg => UnaryOp::Neg,
                    Rule::op_pos => UnaryOp::Pos,
                    _ => UnaryOp::Not,
                };
                Expr {
                    kind: ExprKind::Unary(o, Box::new(rhs)),
                    span: s,
                }
            })
            .map_infix(|lhs, op, rhs| {
                let s = lhs.span.to(rhs.span);
                let o = match op.as_rule() {
                    Rule::op_or => BinaryOp::Or,
                    Rule::op_and => BinaryOp::And,
                    Rule::op_eq => BinaryOp::Eq,
                    Rule::op_ne => BinaryOp::Ne,
                    Rule::op_lt => BinaryOp::Lt,
                    Rule::op_le => BinaryOp::Le,
                    Rule::op_gt => BinaryOp::Gt,
                    Rule::op_ge => BinaryOp::Ge,
                    Rule::op_add => BinaryOp::Add,
                    Rule::op_sub => BinaryOp::Sub,
                    Rule::op_mul => BinaryOp::Mul,
                    _ => BinaryOp::Div,
                };
                Expr {
                    kind: ExprKind::Binary(o, Box::new(lhs), Box::new(rhs)),
                    span: s,
                }
            })
            .parse(pairs);
        *self.diags = diags.into_inner();
        e
    }

    /// Parses a pair that is a literal on its own (times of day in windows).
    fn parse_lit_expr(&mut self, p: P) -> Expr {
        let diags = std::cell::RefCell::new(std::mem::take(self.diags));
        let e = primary(p, self.file, &diags);
        *self.diags = diags.into_inner();
        e
    }

    fn parse_str(&mut self, p: P) -> Str {
        let s = span(&p);
        let raw = p.into_inner().next().map(|i| i.as_str()).unwrap_or("");
        let value = match unescape(raw) {
            Ok(v) => v,
            Err(msg) => {
                self.diags.push(
                    Diagnostic::error(
                        Code::BadLiteral,
                        self.file,
                        s,
                        format!("invalid string: {msg}"),
                    )
                    .with_label("this string")
                    .with_help("escapes are \\\" \\\\ \\n \\t \\r \\{ and \\u{XXXX}"),
                );
                raw.to_string()
            }
        };
        Str { value, span: s }
    }
}

fn ident(p: P) -> Ident {
    Ident {
        name: p.as_str().to_string(),
        span: span(&p),
    }
}

fn primary(p: P, file: FileId, diags: &std::cell::RefCell<Vec<Diagnostic>>) -> Expr {
    let s = span(&p);
    let kind = match p.as_rule() {
        Rule::paren => {
            let inner = p.into_inner().next().expect("paren wraps an expression");
            let mut b = Builder {
                file,
                diags: &mut diags.borrow_mut(),
            };
            ExprKind::Paren(Box::new(b.parse_expr(inner)))
        }
        Rule::call => {
            let mut b = Builder {
                file,
                diags: &mut diags.borrow_mut(),
            };
            ExprKind::Call(b.parse_call(p))
        }
        Rule::path_ref => ExprKind::Path(Path {
            parts: p.into_inner().map(ident).collect(),
            span: s,
        }),
        Rule::string => {
            let mut b = Builder {
                file,
                diags: &mut diags.borrow_mut(),
            };
            let st = b.parse_str(p);
            ExprKind::Lit(Lit {
                text: src_text(s, &st),
                value: LitValue::String(st.value),
            })
        }
        rule => {
            let text = p.as_str().to_string();
            let value = literal_value(rule, &text);
            let value = value.unwrap_or_else(|| {
                diags.borrow_mut().push(
                    Diagnostic::error(
                        Code::BadLiteral,
                        file,
                        s,
                        format!("`{text}` is not {}", super::error::describe(rule)),
                    )
                    .with_label("here")
                    .with_help(literal_help(rule)),
                );
                LitValue::Invalid
            });
            ExprKind::Lit(Lit { text, value })
        }
    };
    Expr { kind, span: s }
}

fn src_text(_s: Span, st: &Str) -> String {
    let mut out = String::from("\"");
    for c in st.value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Magnitudes past these are typos, not plans: a century, a billion requests a second, an
/// exbibyte. Keeping them out keeps every later computation finite.
const MAX_MS: f64 = 100.0 * 365.25 * 86_400_000.0;
const MAX_RATE: f64 = 1e9;
const MAX_BYTES: f64 = 1_152_921_504_606_846_976.0;
const MAX_NUMBER: f64 = 1e15;

fn literal_value(rule: Rule, text: &str) -> Option<LitValue> {
    let within = |v: f64, max: f64| v.is_finite() && v.abs() <= max;
    Some(match rule {
        Rule::number => {
            LitValue::Number(text.parse().ok().filter(|v: &f64| within(*v, MAX_NUMBER))?)
        }
        Rule::duration => {
            LitValue::Duration(units::Duration::parse(text).filter(|d| within(d.0, MAX_MS))?)
        }
        Rule::rate => LitValue::Rate(units::Rate::parse(text).filter(|r| within(r.0, MAX_RATE))?),
        Rule::size => LitValue::Size(units::Bytes::parse(text).filter(|b| within(b.0, MAX_BYTES))?),
        Rule::bandwidth => {
            LitValue::Bandwidth(units::Bandwidth::parse(text).filter(|b| within(b.0, MAX_BYTES))?)
        }
        Rule::percent => {
            LitValue::Percent(units::Percent::parse(text).filter(|p| within(p.0, MAX_NUMBER))?)
        }
        Rule::multiplier => LitValue::Multiplier(
            units::Multiplier::parse(text).filter(|m| within(m.0, MAX_NUMBER))?,
        ),
        Rule::status_class => LitValue::Status(units::StatusPattern::parse(text)?),
        Rule::timestamp => LitValue::Timestamp(units::Timestamp::parse(text)?),
        Rule::time_of_day => LitValue::TimeOfDay(units::TimeOfDay::parse(text)?),
        Rule::boolean => LitValue::Bool(text == "true"),
        _ => return None,
    })
}

fn literal_help(rule: Rule) -> &'static str {
    match rule {
        Rule::timestamp => "write a real date and time, like `2026-11-27T00:00Z` or `2026-11-27`",
        Rule::time_of_day => "write a time of day from `00:00` to `24:00`, like `02:30`",
        Rule::status_class => "status classes run from `1xx` to `5xx`",
        Rule::duration => "durations go up to 100 years",
        Rule::rate => "rates go up to 1e9/s",
        Rule::size | Rule::bandwidth => "sizes go up to 1 EiB",
        _ => "the number is too large to be meant",
    }
}

fn unescape(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('{') => out.push_str("\\{"),
            Some('u') => {
                let rest: String = chars.by_ref().take_while(|&c| c != '}').collect();
                let hex = rest
                    .strip_prefix('{')
                    .ok_or("`\\u` needs braces, like `\\u{1F600}`")?;
                let code = u32::from_str_radix(hex, 16)
                    .map_err(|_| format!("`{hex}` is not hexadecimal"))?;
                out.push(char::from_u32(code).ok_or(format!("U+{hex} is not a character"))?);
            }
            Some(other) => return Err(format!("unknown escape `\\{other}`")),
            None => return Err("a lone backslash at the end".into()),
        }
    }
    Ok(out)
}
