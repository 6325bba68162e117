//! The formatter behind `res fmt`: `.res` text → canonical `.res` text.
//!
//! [`format_source`] parses the text, refuses it when it does not parse, and prints the tree
//! back in one canonical layout. The tree does not hold comments (pest skips them), so they
//! are found again by [`scan_comments`] and re-attached by position:
//!
//! - a comment on its own line belongs to the next statement (or declaration) and is printed
//!   above it, at its indentation; comments after the last statement of a block stay before
//!   the closing `}`, comments after the last declaration stay at the end of the file;
//! - a comment on the same line after a statement (or after a block's `{`) stays at the end
//!   of that line;
//! - a comment inside a statement (in an expression, a JSON body, a list) cannot keep its
//!   exact place: it moves to the end of the statement's line. Only one line comment fits
//!   there, so when a statement holds several, all but the last move above the statement.
//!
//! No comment is ever dropped or duplicated, and formatting is idempotent.
//!
//! The layout:
//!
//! - two spaces per level; one statement per line; `{` on the declaration's line;
//! - a block written on one line stays on one line (`service catalog { route GET "/x" }`) only
//!   when it holds exactly one simple statement, no comment, and the line fits in [`WIDTH`]
//!   columns; every other block is expanded (a block written expanded stays expanded), and an
//!   empty block is `name {}`;
//! - one blank line between top-level declarations, except between consecutive `import`s,
//!   `param`s or `data` declarations, which keep the (at most one) blank line written between
//!   them; inside blocks, at most one blank line written between statements is kept;
//! - single spaces around binary operators and after commas (but `every mon,tue 02:00..04:00`
//!   and `think 1s..3s` stay tight); literals, names and parentheses exactly as written;
//!   strings exactly as written too, escapes included (`"caf\u{e9}"` is not rewritten);
//! - lists (`import` names, `mix` entries, JSON bodies, template parameters and arguments) on
//!   one line when the statement fits in [`WIDTH`] columns, otherwise one entry per line with
//!   a trailing comma.

use super::ast::*;
use crate::diagnostic::{Diagnostic, Span};

/// The column limit for one-line blocks and lists.
pub const WIDTH: usize = 100;

const INDENT: &str = "  ";

/// Formats one file. Returns the parse errors instead when the text does not parse.
pub fn format_source(text: &str) -> Result<String, Vec<Diagnostic>> {
    let parsed = super::parse(text, 0);
    if parsed.has_errors() {
        return Err(parsed
            .diagnostics
            .into_iter()
            .filter(Diagnostic::is_error)
            .collect());
    }
    let mut f = Formatter::new(text);
    let nodes: Vec<Node> = parsed.file.items.iter().map(|i| f.item(i)).collect();
    f.print_file(&parsed.file.items, &nodes);
    Ok(f.out)
}

// ----------------------------------------------------------------------------------------------
// comments

/// A comment found in the source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// Byte range, from `//` or `/*` to the end of the line (without the newline) or `*/`.
    pub span: Span,
    /// `true` for `/* */`.
    pub block: bool,
}

/// Finds every comment in `text`, in order, skipping string literals (the `//` in
/// `"http://x"` is not a comment). Agrees with the grammar for any text that parses.
pub fn scan_comments(text: &str) -> Vec<Comment> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let start = i;
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                out.push(Comment {
                    span: Span::new(start, i),
                    block: false,
                });
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let start = i;
                i = match text[i + 2..].find("*/") {
                    Some(k) => i + 2 + k + 2,
                    None => b.len(),
                };
                out.push(Comment {
                    span: Span::new(start, i),
                    block: true,
                });
            }
            _ => i += 1,
        }
    }
    out
}

// ----------------------------------------------------------------------------------------------
// the layout tree: statements become nodes, statements' text becomes pieces

/// Text, or a bracketed list that may be broken one entry per line.
#[derive(Debug, Clone)]
enum Piece {
    Text(String),
    List(List),
}

#[derive(Debug, Clone)]
struct List {
    open: &'static str,
    close: &'static str,
    /// `{ a, b }` rather than `{a, b}`.
    pad: bool,
    items: Vec<Vec<Piece>>,
}

/// A statement or declaration with the (trimmed) span it came from.
#[derive(Debug)]
struct Node {
    span: Span,
    kind: NodeKind,
}

#[derive(Debug)]
enum NodeKind {
    Leaf(Vec<Piece>),
    Block {
        header: Vec<Piece>,
        /// Byte offset just after the `{`.
        open: usize,
        /// Byte offset of the closing `}`.
        close: usize,
        children: Vec<Node>,
    },
}

/// Builds a piece list from text and lists.
#[derive(Default)]
struct Pieces(Vec<Piece>);

impl Pieces {
    fn text(mut self, s: impl AsRef<str>) -> Self {
        let s = s.as_ref();
        if s.is_empty() {
            return self;
        }
        if let Some(Piece::Text(t)) = self.0.last_mut() {
            t.push_str(s);
        } else {
            self.0.push(Piece::Text(s.to_string()));
        }
        self
    }

    fn list(
        mut self,
        open: &'static str,
        close: &'static str,
        pad: bool,
        items: Vec<Vec<Piece>>,
    ) -> Self {
        self.0.push(Piece::List(List {
            open,
            close,
            pad,
            items,
        }));
        self
    }

    fn extend(mut self, other: Vec<Piece>) -> Self {
        for p in other {
            self = match p {
                Piece::Text(t) => self.text(t),
                Piece::List(l) => {
                    self.0.push(Piece::List(l));
                    self
                }
            };
        }
        self
    }

    fn done(self) -> Vec<Piece> {
        self.0
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

fn flat(pieces: &[Piece]) -> String {
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::List(l) => {
                out.push_str(l.open);
                if !l.items.is_empty() {
                    if l.pad {
                        out.push(' ');
                    }
                    let items: Vec<String> = l.items.iter().map(|i| flat(i)).collect();
                    out.push_str(&items.join(", "));
                    if l.pad {
                        out.push(' ');
                    }
                }
                out.push_str(l.close);
            }
        }
    }
    out
}

/// Renders pieces starting at `indent` levels; `extra` columns follow them on the line.
/// Continuation lines carry their own indentation; the first line does not.
fn render(pieces: &[Piece], indent: usize, extra: usize) -> String {
    let f = flat(pieces);
    let has_list = pieces
        .iter()
        .any(|p| matches!(p, Piece::List(l) if !l.items.is_empty()));
    if !has_list || indent * INDENT.len() + width(&f) + extra <= WIDTH {
        return f;
    }
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::List(l) if l.items.is_empty() => out.push_str(&flat(std::slice::from_ref(p))),
            Piece::List(l) => {
                out.push_str(l.open);
                out.push('\n');
                for item in &l.items {
                    out.push_str(&INDENT.repeat(indent + 1));
                    out.push_str(&render(item, indent + 1, 1));
                    out.push_str(",\n");
                }
                out.push_str(&INDENT.repeat(indent));
                out.push_str(l.close);
            }
        }
    }
    out
}

// ----------------------------------------------------------------------------------------------
// the formatter

/// Whether the first thing printed in a gap is preceded by a blank line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Blank {
    /// Never (the first thing after `{` or at the start of the file).
    No,
    /// Always (between top-level declarations).
    Yes,
    /// When the source had one.
    AsWritten,
}

struct Formatter<'a> {
    src: &'a str,
    comments: Vec<Comment>,
    /// The first comment not printed yet.
    next: usize,
    /// End of the last thing printed, in the source (for blank-line decisions).
    last_end: usize,
    out: String,
}

impl<'a> Formatter<'a> {
    fn new(src: &'a str) -> Self {
        Formatter {
            src,
            comments: scan_comments(src),
            next: 0,
            last_end: 0,
            out: String::new(),
        }
    }

    // ----- source positions ---------------------------------------------------------------

    fn comment_starting_at(&self, pos: usize) -> Option<&Comment> {
        self.comments
            .binary_search_by_key(&pos, |c| c.span.start)
            .ok()
            .map(|i| &self.comments[i])
    }

    fn comment_ending_at(&self, pos: usize) -> Option<&Comment> {
        self.comments
            .binary_search_by_key(&pos, |c| c.span.end)
            .ok()
            .map(|i| &self.comments[i])
    }

    /// pest spans of rules that end in an optional part swallow the whitespace and comments
    /// after them; cut those off.
    fn trim(&self, span: Span) -> Span {
        let b = self.src.as_bytes();
        let mut end = span.end.min(b.len());
        while end > span.start {
            if b[end - 1].is_ascii_whitespace() {
                end -= 1;
            } else if let Some(c) = self
                .comment_ending_at(end)
                .filter(|c| c.span.start >= span.start)
            {
                end = c.span.start;
            } else {
                break;
            }
        }
        Span::new(span.start, end)
    }

    /// The offset just after the first `{` at or after `from`, outside comments.
    fn open_brace(&self, from: usize) -> usize {
        let b = self.src.as_bytes();
        let mut i = from;
        while i < b.len() {
            if let Some(c) = self.comment_starting_at(i) {
                i = c.span.end;
                continue;
            }
            if b[i] == b'{' {
                return i + 1;
            }
            i += 1;
        }
        b.len()
    }

    fn slice(&self, span: Span) -> &'a str {
        &self.src[span.start..span.end]
    }

    fn blank_between(&self, from: usize, to: usize) -> bool {
        from < to && self.src[from..to].bytes().filter(|&b| b == b'\n').count() >= 2
    }

    fn same_line(&self, from: usize, to: usize) -> bool {
        from <= to && !self.src[from..to].contains('\n')
    }

    fn comment_text(&self, c: &Comment) -> String {
        let t = self.slice(c.span);
        if c.block {
            t.replace("\r\n", "\n")
        } else {
            t.trim_end().to_string()
        }
    }

    // ----- node builders ------------------------------------------------------------------

    fn leaf(&self, span: Span, pieces: Vec<Piece>) -> Node {
        Node {
            span: self.trim(span),
            kind: NodeKind::Leaf(pieces),
        }
    }

    fn line(&self, span: Span, text: String) -> Node {
        self.leaf(span, vec![Piece::Text(text)])
    }

    /// A `header { children }` block; `header_end` is where the search for `{` starts.
    fn block(
        &self,
        span: Span,
        header: Vec<Piece>,
        header_end: usize,
        children: Vec<Node>,
    ) -> Node {
        let span = self.trim(span);
        let open = self.open_brace(header_end);
        let close = span.end.saturating_sub(1).max(open);
        debug_assert_eq!(self.src.as_bytes().get(close), Some(&b'}'));
        Node {
            span,
            kind: NodeKind::Block {
                header,
                open,
                close,
                children,
            },
        }
    }

    fn item(&self, item: &Item) -> Node {
        match item {
            Item::Import(x) => {
                let names = x
                    .names
                    .iter()
                    .map(|n| {
                        let mut s = n.name.name.clone();
                        if let Some(a) = &n.alias {
                            s.push_str(" as ");
                            s.push_str(&a.name);
                        }
                        vec![Piece::Text(s)]
                    })
                    .collect();
                let p = Pieces::default()
                    .text(format!("import {} ", self.str(&x.path)))
                    .list("{", "}", true, names);
                self.leaf(x.span, p.done())
            }
            Item::Param(x) => {
                let mut s = format!("param {}", x.name.name);
                if let Some(t) = &x.ty {
                    s.push_str(&format!(": {}", t.name));
                }
                s.push_str(&format!(" = {}", self.expr(&x.value)));
                self.line(x.span, s)
            }
            Item::Data(x) => {
                let mut s = format!("data {} from {}", x.name.name, self.str(&x.path));
                if let Some(f) = &x.format {
                    s.push_str(&format!(" format {}", f.name));
                }
                if let Some(o) = &x.order {
                    s.push_str(&format!(" order {}", o.name));
                }
                self.line(x.span, s)
            }
            Item::System(x) => {
                let children = x.stmts.iter().map(|s| self.system_stmt(s)).collect();
                self.block(
                    x.span,
                    text(format!("system {}", x.name.name)),
                    x.name.span.end,
                    children,
                )
            }
            Item::Traffic(x) => self.body2(x.span, "traffic", &x.name, &x.body, |f, s| {
                f.traffic_stmt(s)
            }),
            Item::Fault(x) => self.body2(x.span, "fault", &x.name, &x.body, |f, s| f.fault_stmt(s)),
            Item::Slo(x) => self.body2(x.span, "slo", &x.name, &x.body, |f, s| f.objective(s)),
            Item::Remedy(x) => {
                self.body2(x.span, "remedy", &x.name, &x.body, |f, s| f.remedy_stmt(s))
            }
            Item::Window(x) => {
                let children = x.stmts.iter().map(|s| self.window_stmt(s)).collect();
                self.block(
                    x.span,
                    text(format!("window {}", x.name.name)),
                    x.name.span.end,
                    children,
                )
            }
            Item::Event(x) => {
                let children = x
                    .stmts
                    .iter()
                    .map(|s| {
                        let t = match &s.kind {
                            EventStmt::At(e) => format!("at {}", self.expr(e)),
                            EventStmt::Lasts(e) => format!("lasts {}", self.expr(e)),
                            EventStmt::Expect(e) => format!("expect {}", self.expr(e)),
                        };
                        self.line(s.span, t)
                    })
                    .collect();
                self.block(
                    x.span,
                    text(format!("event {}", x.name.name)),
                    x.name.span.end,
                    children,
                )
            }
            Item::Abort(x) => self.line(x.span, self.abort(x)),
            Item::Scenario(x) => {
                let children = x.stmts.iter().map(|s| self.scenario_stmt(s)).collect();
                self.block(
                    x.span,
                    text(format!("scenario {}", x.name.name)),
                    x.name.span.end,
                    children,
                )
            }
            Item::Template(x) => {
                let params = x
                    .params
                    .iter()
                    .map(|p| {
                        let mut s = format!("{}: {}", p.name.name, p.ty.name);
                        if let Some(d) = &p.default {
                            s.push_str(&format!(" = {}", self.expr(d)));
                        }
                        vec![Piece::Text(s)]
                    })
                    .collect();
                let header = Pieces::default()
                    .text(format!("template {} {}", x.body.kind(), x.name.name))
                    .list("(", ")", false, params)
                    .done();
                let after = x
                    .params
                    .last()
                    .map_or(x.name.span.end, |p| self.trim(p.span).end);
                let children = match &x.body {
                    TemplateBody::Fault(v) => v.iter().map(|s| self.fault_stmt(s)).collect(),
                    TemplateBody::Traffic(v) => v.iter().map(|s| self.traffic_stmt(s)).collect(),
                    TemplateBody::Slo(v) => v.iter().map(|s| self.objective(s)).collect(),
                    TemplateBody::Remedy(v) => v.iter().map(|s| self.remedy_stmt(s)).collect(),
                };
                self.block(x.span, header, after, children)
            }
        }
    }

    /// `kw name { stmts }` or `kw name = template(args)`.
    fn body2<K>(
        &self,
        span: Span,
        kw: &str,
        name: &Ident,
        body: &Body2<K>,
        stmt: impl Fn(&Self, &Stmt<K>) -> Node,
    ) -> Node {
        match body {
            Body2::Block(stmts) => {
                let children = stmts.iter().map(|s| stmt(self, s)).collect();
                self.block(
                    span,
                    text(format!("{kw} {}", name.name)),
                    name.span.end,
                    children,
                )
            }
            Body2::Template(call) => {
                let p = Pieces::default()
                    .text(format!("{kw} {} = ", name.name))
                    .extend(self.call_pieces(call));
                self.leaf(span, p.done())
            }
        }
    }

    fn system_stmt(&self, s: &Stmt<SystemStmt>) -> Node {
        let t = match &s.kind {
            SystemStmt::Builtin(i) => format!("builtin {}", i.name),
            SystemStmt::Base(e) => format!("base {}", self.expr(e)),
            SystemStmt::Header(h) => self.header(h),
            SystemStmt::Timeout(e) => format!("timeout {}", self.expr(e)),
            SystemStmt::Protocol(i) => format!("protocol {}", i.name),
            SystemStmt::Service(sv) => {
                let children = sv.stmts.iter().map(|c| self.service_stmt(c)).collect();
                return self.block(
                    s.span,
                    text(format!("service {}", sv.name.name)),
                    sv.name.span.end,
                    children,
                );
            }
        };
        self.line(s.span, t)
    }

    fn header(&self, h: &Header) -> String {
        format!("header {} = {}", self.str(&h.name), self.expr(&h.value))
    }

    fn service_stmt(&self, s: &Stmt<ServiceStmt>) -> Node {
        let t = match &s.kind {
            ServiceStmt::Route(r) => {
                let mut p = Pieces::default().text(format!(
                    "route {} {}",
                    r.method.name,
                    self.str(&r.path)
                ));
                match &r.body {
                    Some(Body::Json(j)) => p = p.text(" body json ").extend(self.json(j)),
                    Some(Body::Size(e)) => p = p.text(format!(" body size {}", self.expr(e))),
                    Some(Body::Raw(st)) => p = p.text(format!(" body {}", self.str(st))),
                    None => {}
                }
                if !r.expect_status.is_empty() {
                    let st: Vec<&str> = r.expect_status.iter().map(|(t, _)| t.as_str()).collect();
                    p = p.text(format!(" expect status {}", st.join(", ")));
                }
                if let Some(w) = &r.weight {
                    p = p.text(format!(" weight {}", self.expr(w)));
                }
                return self.leaf(s.span, p.done());
            }
            ServiceStmt::DependsOn(v) => format!("depends on {}", names(v)),
            ServiceStmt::Upstream(e) => format!("upstream {}", self.expr(e)),
            ServiceStmt::Process(ProcessRef::Pidfile(e)) => {
                format!("process pidfile {}", self.expr(e))
            }
            ServiceStmt::Process(ProcessRef::Name(e)) => format!("process name {}", self.expr(e)),
            ServiceStmt::Process(ProcessRef::Command(e)) => {
                format!("process command {}", self.expr(e))
            }
            ServiceStmt::Header(h) => self.header(h),
            ServiceStmt::Timeout(e) => format!("timeout {}", self.expr(e)),
            ServiceStmt::Capacity(e) => format!("capacity {}", self.expr(e)),
        };
        self.line(s.span, t)
    }

    fn json(&self, j: &Json) -> Vec<Piece> {
        match &j.kind {
            JsonKind::Object(pairs) => {
                let items = pairs
                    .iter()
                    .map(|(k, v)| {
                        Pieces::default()
                            .text(format!("{}: ", self.str(k)))
                            .extend(self.json(v))
                            .done()
                    })
                    .collect();
                Pieces::default().list("{", "}", true, items).done()
            }
            JsonKind::Array(vals) => {
                let items = vals.iter().map(|v| self.json(v)).collect();
                Pieces::default().list("[", "]", false, items).done()
            }
            JsonKind::String(_) | JsonKind::Number(_) => text(self.slice(j.span)),
            JsonKind::Bool(b) => text(b.to_string()),
            JsonKind::Null => text("null"),
        }
    }

    fn traffic_stmt(&self, s: &Stmt<TrafficStmt>) -> Node {
        let t = match &s.kind {
            TrafficStmt::Learn { path, format } => {
                let mut t = format!("learn from {}", self.str(path));
                if let Some(f) = format {
                    t.push_str(&format!(" format {}", f.name));
                }
                t
            }
            TrafficStmt::Forecast {
                horizon,
                quantile,
                method,
            } => {
                let mut t = format!("forecast peak over {}", self.expr(horizon));
                if let Some(q) = quantile {
                    t.push_str(&format!(" quantile {}", self.expr(q)));
                }
                if let Some(m) = method {
                    t.push_str(&format!(" method {}", m.name));
                }
                t
            }
            TrafficStmt::Like(i) => format!("like {}", i.name),
            TrafficStmt::Against(i) => format!("against {}", i.name),
            TrafficStmt::Rate(e) => format!("rate {}", self.expr(e)),
            TrafficStmt::Arrival(i) => format!("arrival {}", i.name),
            TrafficStmt::Ramp { from, to, over } => match from {
                Some(f) => format!(
                    "ramp {} -> {} over {}",
                    self.expr(f),
                    self.expr(to),
                    self.expr(over)
                ),
                None => format!("ramp {} over {}", self.expr(to), self.expr(over)),
            },
            TrafficStmt::Hold { duration, at } => {
                let mut t = format!("hold {}", self.expr(duration));
                if let Some(a) = at {
                    t.push_str(&format!(" at {}", self.expr(a)));
                }
                t
            }
            TrafficStmt::Mix(entries) => {
                let items = entries
                    .iter()
                    .map(|m| text(format!("{}: {}", m.target.text(), self.expr(&m.share))))
                    .collect();
                return self.leaf(
                    s.span,
                    Pieces::default()
                        .text("mix ")
                        .list("{", "}", true, items)
                        .done(),
                );
            }
            TrafficStmt::Session(sess) => {
                let mut h = format!("session {}", sess.name.name);
                let mut after = sess.name.span.end;
                if let Some(w) = &sess.weight {
                    h.push_str(&format!(" weight {}", self.expr(w)));
                    after = w.span.end;
                }
                let children = sess.visits.iter().map(|v| self.visit(v)).collect();
                return self.block(s.span, text(h), after, children);
            }
            TrafficStmt::Users { count, think } => {
                let mut t = format!("users {}", self.expr(count));
                if let Some(th) = think {
                    t.push_str(&format!(" {}", self.think(th)));
                }
                t
            }
            TrafficStmt::Scale(e) => format!("scale {}", self.expr(e)),
        };
        self.line(s.span, t)
    }

    fn visit(&self, v: &Stmt<Visit>) -> Node {
        let mut t = format!("visit {}", v.kind.target.text());
        if let Some(th) = &v.kind.think {
            t.push_str(&format!(" {}", self.think(th)));
        }
        if let Some(r) = &v.kind.repeat {
            t.push_str(&format!(" repeat {}", self.expr(r)));
        }
        self.line(v.span, t)
    }

    fn think(&self, t: &Think) -> String {
        match &t.max {
            Some(max) => format!("think {}..{}", self.expr(&t.min), self.expr(max)),
            None => format!("think {}", self.expr(&t.min)),
        }
    }

    fn fault_stmt(&self, s: &Stmt<FaultStmt>) -> Node {
        let opt = |kw: &str, e: &Option<Expr>| {
            e.as_ref()
                .map_or(String::new(), |e| format!(" {kw} {}", self.expr(e)))
        };
        let t = match &s.kind {
            FaultStmt::On(Target::Fixed(p)) => format!("on {}", p.text()),
            FaultStmt::On(Target::Stressed {
                system, top, by, ..
            }) => {
                let mut t = format!("on stressed({}", system.name);
                if let Some(top) = top {
                    t.push_str(&format!(", top {}", self.expr(top)));
                }
                if let Some(by) = by {
                    t.push_str(&format!(", by {}", by.name));
                }
                t.push(')');
                t
            }
            FaultStmt::Latency {
                value,
                jitter,
                per_chunk,
            } => {
                let mut t = format!("latency {}{}", self.expr(value), opt("jitter", jitter));
                if *per_chunk {
                    t.push_str(" per chunk");
                }
                t
            }
            FaultStmt::Errors { status, rate } => {
                format!("errors {}{}", self.expr(status), opt("at", rate))
            }
            FaultStmt::Reset { rate } => format!("reset{}", opt("at", rate)),
            FaultStmt::Blackhole { rate } => format!("blackhole{}", opt("at", rate)),
            FaultStmt::Timeout(e) => format!("timeout {}", self.expr(e)),
            FaultStmt::Bandwidth(e) => format!("bandwidth {}", self.expr(e)),
            FaultStmt::SlowClose(e) => format!("slow_close {}", self.expr(e)),
            FaultStmt::Slice { size, delay } => {
                format!("slice {}{}", self.expr(size), opt("delay", delay))
            }
            FaultStmt::Kill { signal } => match signal {
                Some(sig) => format!("kill signal {}", sig.name),
                None => "kill".to_string(),
            },
            FaultStmt::Pause { duration } => format!("pause{}", opt("for", duration)),
            FaultStmt::Restart { command } => format!("restart{}", opt("with", command)),
            FaultStmt::Cpu { cores, load } => {
                format!("cpu {} cores{}", self.expr(cores), opt("at", load))
            }
            FaultStmt::Memory(e) => format!("memory {}", self.expr(e)),
            FaultStmt::Disk { size, path } => {
                format!("disk {}{}", self.expr(size), opt("at", path))
            }
            FaultStmt::Fds(e) => format!("fds {}", self.expr(e)),
            FaultStmt::Loss(e) => format!("loss {}", self.expr(e)),
            FaultStmt::Toxicity(e) => format!("toxicity {}", self.expr(e)),
            FaultStmt::Match(conds) => {
                let parts: Vec<String> = conds
                    .iter()
                    .map(|c| match c {
                        MatchCond::Method(m) => format!("method {}", m.name),
                        MatchCond::Path(p) => format!("path {}", self.str(p)),
                        MatchCond::Header { name, value } => match value {
                            Some(v) => format!("header {} = {}", self.str(name), self.expr(v)),
                            None => format!("header {}", self.str(name)),
                        },
                    })
                    .collect();
                format!("match {}", parts.join(" and "))
            }
            FaultStmt::Toxiproxy { url, proxy } => {
                format!("via toxiproxy {}{}", self.expr(url), opt("proxy", proxy))
            }
        };
        self.line(s.span, t)
    }

    fn window_stmt(&self, s: &Stmt<WindowStmt>) -> Node {
        let t = match &s.kind {
            WindowStmt::Every {
                days,
                from,
                to,
                zone,
            } => {
                let mut t = format!(
                    "every {} {}..{}",
                    days.iter()
                        .map(|d| d.name.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                    self.expr(from),
                    self.expr(to)
                );
                if let Some((z, _)) = zone {
                    t.push(' ');
                    t.push_str(z);
                }
                t
            }
            WindowStmt::Between { from, to } => {
                format!("from {} to {}", self.expr(from), self.expr(to))
            }
        };
        self.line(s.span, t)
    }

    fn objective(&self, s: &Stmt<Expr>) -> Node {
        self.line(s.span, self.expr(&s.kind))
    }

    fn abort(&self, a: &Abort) -> String {
        match &a.for_ {
            Some(f) => format!("abort when {} for {}", self.expr(&a.cond), self.expr(f)),
            None => format!("abort when {}", self.expr(&a.cond)),
        }
    }

    fn remedy_stmt(&self, s: &Stmt<RemedyStmt>) -> Node {
        let t = match &s.kind {
            RemedyStmt::When {
                predicted,
                cond,
                at,
                for_,
            } => {
                let mut t = String::from("when ");
                if *predicted {
                    t.push_str("predicted ");
                }
                t.push_str(&self.expr(cond));
                if let Some(a) = at {
                    t.push_str(&format!(" at {}", self.expr(a)));
                }
                if let Some(f) = for_ {
                    t.push_str(&format!(" for {}", self.expr(f)));
                }
                t
            }
            RemedyStmt::Do(a) => match a {
                Action::ScaleBy { target, by } => {
                    format!("do scale {} by {}", target.text(), self.expr(by))
                }
                Action::ScaleTo { target, to } => {
                    format!("do scale {} to {}", target.text(), self.expr(to))
                }
                Action::Shift { amount, from, to } => {
                    format!(
                        "do shift {} from {} to {}",
                        self.expr(amount),
                        from.text(),
                        to.text()
                    )
                }
                Action::Failover { target, to } => {
                    format!("do failover {} to {}", target.text(), self.expr(to))
                }
                Action::Exec(e) => format!("do exec {}", self.expr(e)),
                Action::Webhook(e) => format!("do webhook {}", self.expr(e)),
            },
            RemedyStmt::Cooldown(e) => format!("cooldown {}", self.expr(e)),
            RemedyStmt::Limit { count, per } => {
                format!("at most {} per {}", self.expr(count), self.expr(per))
            }
        };
        self.line(s.span, t)
    }

    fn scenario_stmt(&self, s: &Stmt<ScenarioStmt>) -> Node {
        let t = match &s.kind {
            ScenarioStmt::In(refs) => {
                let parts: Vec<String> = refs
                    .iter()
                    .map(|r| match r {
                        WindowRef::Window(i) => i.name.clone(),
                        WindowRef::Before(i) => format!("before {}", i.name),
                    })
                    .collect();
                format!("in {}", parts.join(" or "))
            }
            ScenarioStmt::Step(st) => {
                let mut t = format!("step {} = ", st.name.name);
                match &st.action {
                    StepAction::Load { traffic, at } => {
                        t.push_str(&format!("load {}", traffic.name));
                        if let Some(a) = at {
                            t.push_str(&format!(" at {}", self.expr(a)));
                        }
                    }
                    StepAction::Inject(i) => t.push_str(&format!("inject {}", i.name)),
                    StepAction::Wait(e) => t.push_str(&format!("wait {}", self.expr(e))),
                }
                for timing in &st.timing {
                    t.push(' ');
                    t.push_str(&self.timing(timing));
                }
                t
            }
            ScenarioStmt::Expect { cond, scope } => {
                let mut t = format!("expect {}", self.expr(cond));
                match scope {
                    Some(ExpectScope::During(i)) => t.push_str(&format!(" during {}", i.name)),
                    Some(ExpectScope::After(i)) => t.push_str(&format!(" after {}", i.name)),
                    None => {}
                }
                t
            }
            ScenarioStmt::Abort(a) => self.abort(a),
            ScenarioStmt::Record => "record profile".to_string(),
            ScenarioStmt::Predict { at } => match at {
                Some(a) => format!("predict at {}", self.expr(a)),
                None => "predict".to_string(),
            },
            ScenarioStmt::Remediate(v) => format!("then remediate with {}", names(v)),
        };
        self.line(s.span, t)
    }

    fn timing(&self, t: &Timing) -> String {
        let point = |p: &StepPoint| match p.edge {
            Some(Edge::Start) => format!("{}.start", p.step.name),
            Some(Edge::End) => format!("{}.end", p.step.name),
            None => p.step.name.clone(),
        };
        let offset = |o: &Option<Expr>| {
            o.as_ref()
                .map_or(String::new(), |e| format!(" + {}", self.expr(e)))
        };
        match t {
            Timing::After {
                point: p,
                offset: o,
                ..
            } => format!("after {}{}", point(p), offset(o)),
            Timing::With {
                point: p,
                offset: o,
                ..
            } => format!("with {}{}", point(p), offset(o)),
            Timing::During { step, .. } => format!("during {}", step.name),
            Timing::For { duration, .. } => format!("for {}", self.expr(duration)),
            Timing::At { offset, .. } => format!("at +{}", self.expr(offset)),
        }
    }

    fn call_pieces(&self, c: &Call) -> Vec<Piece> {
        let args = c.args.iter().map(|a| text(self.arg(a))).collect();
        Pieces::default()
            .text(&c.func.name)
            .list("(", ")", false, args)
            .done()
    }

    fn arg(&self, a: &Arg) -> String {
        match &a.label {
            Some(l) => format!("{}: {}", l.name, self.expr(&a.value)),
            None => self.expr(&a.value),
        }
    }

    /// A string literal exactly as written, escapes included.
    fn str(&self, s: &Str) -> &'a str {
        self.slice(s.span)
    }

    fn expr(&self, e: &Expr) -> String {
        let mut out = String::new();
        self.write_expr(e, &mut out);
        out
    }

    fn write_expr(&self, e: &Expr, out: &mut String) {
        match &e.kind {
            ExprKind::Lit(l) => match l.value {
                LitValue::String(_) => out.push_str(self.slice(e.span)),
                _ => out.push_str(&l.text),
            },
            ExprKind::Path(p) => out.push_str(&p.text()),
            ExprKind::Call(c) => {
                out.push_str(&c.func.name);
                out.push('(');
                for (i, a) in c.args.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    if let Some(l) = &a.label {
                        out.push_str(&l.name);
                        out.push_str(": ");
                    }
                    self.write_expr(&a.value, out);
                }
                out.push(')');
            }
            ExprKind::Paren(inner) => {
                out.push('(');
                self.write_expr(inner, out);
                out.push(')');
            }
            ExprKind::Unary(op, inner) => {
                out.push_str(op.as_str());
                self.write_expr(inner, out);
            }
            ExprKind::Binary(op, l, r) => {
                self.write_expr(l, out);
                out.push(' ');
                out.push_str(op.as_str());
                out.push(' ');
                self.write_expr(r, out);
            }
        }
    }

    // ----- printing -----------------------------------------------------------------------

    fn print_file(&mut self, items: &[Item], nodes: &[Node]) {
        for (i, node) in nodes.iter().enumerate() {
            let blank = if i == 0 {
                Blank::No
            } else if same_group(&items[i - 1], &items[i]) {
                Blank::AsWritten
            } else {
                Blank::Yes
            };
            self.node(node, 0, blank);
        }
        let rest = self.take_before(usize::MAX);
        let blank = if nodes.is_empty() {
            Blank::No
        } else {
            Blank::AsWritten
        };
        self.own_line_comments(&rest, 0, blank);
        debug_assert_eq!(self.next, self.comments.len());
    }

    /// Comments that start before `pos` and are not printed yet.
    fn take_before(&mut self, pos: usize) -> Vec<Comment> {
        let start = self.next;
        while self.next < self.comments.len() && self.comments[self.next].span.start < pos {
            self.next += 1;
        }
        self.comments[start..self.next].to_vec()
    }

    /// Comments that follow `pos` on the same line, each after the previous one.
    fn take_same_line(&mut self, mut pos: usize) -> Vec<Comment> {
        let mut out = Vec::new();
        while let Some(c) = self.comments.get(self.next) {
            let gap = &self.src[pos.min(c.span.start)..c.span.start];
            if c.span.start < pos || gap.contains('\n') || !gap.trim().is_empty() {
                break;
            }
            pos = c.span.end;
            out.push(c.clone());
            self.next += 1;
        }
        out
    }

    /// Decides whether a blank line goes before a thing starting at `start`.
    fn blank_before(&mut self, rule: Blank, start: usize) {
        let blank = match rule {
            Blank::No => false,
            Blank::Yes => true,
            Blank::AsWritten => self.blank_between(self.last_end, start),
        };
        if blank && !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    /// Prints comments on lines of their own; comments written on one line stay on one line.
    /// `rule` applies before the first; later ones keep the blank lines written before them.
    fn own_line_comments(&mut self, comments: &[Comment], indent: usize, mut rule: Blank) {
        let mut prev_end: Option<usize> = None;
        for c in comments {
            let text = self.comment_text(c);
            if prev_end.is_some_and(|end| self.same_line(end, c.span.start))
                && self.out.ends_with('\n')
            {
                self.out.pop();
                self.out.push(' ');
                self.out.push_str(&text);
                self.out.push('\n');
            } else {
                self.blank_before(rule, c.span.start);
                self.push_line(indent, &text);
            }
            rule = Blank::AsWritten;
            self.last_end = c.span.end;
            prev_end = Some(c.span.end);
        }
    }

    fn push_line(&mut self, indent: usize, text: &str) {
        if !text.is_empty() {
            self.out.push_str(&INDENT.repeat(indent));
            self.out.push_str(text);
        }
        self.out.push('\n');
    }

    /// Splits the comments that end a line into those printed above it (all line comments
    /// but the last) and the text appended to it (block comments, then the last line comment).
    fn end_of_line(&self, comments: &[Comment]) -> (Vec<Comment>, String) {
        let last_line = comments.iter().rposition(|c| !c.block);
        let mut above = Vec::new();
        let mut tail = Vec::new();
        for (i, c) in comments.iter().enumerate() {
            if !c.block && Some(i) != last_line {
                above.push(c.clone());
            } else if c.block {
                tail.push(self.comment_text(c));
            }
        }
        if let Some(i) = last_line {
            tail.push(self.comment_text(&comments[i]));
        }
        let text = if tail.is_empty() {
            String::new()
        } else {
            format!(" {}", tail.join(" "))
        };
        (above, text)
    }

    fn node(&mut self, node: &Node, indent: usize, rule: Blank) {
        let leading = self.take_before(node.span.start);
        let rule = if leading.is_empty() {
            rule
        } else {
            self.own_line_comments(&leading, indent, rule);
            Blank::AsWritten
        };
        match &node.kind {
            NodeKind::Leaf(pieces) => {
                let mut eol = self.take_before(node.span.end);
                let trailing = self.take_same_line(node.span.end);
                let end = trailing.last().map_or(node.span.end, |c| c.span.end);
                eol.extend(trailing);
                let (above, tail) = self.end_of_line(&eol);
                self.blank_before(rule, node.span.start);
                for c in &above {
                    let t = self.comment_text(c);
                    self.push_line(indent, &t);
                }
                let body = render(pieces, indent, 0);
                self.push_line(indent, &format!("{body}{tail}"));
                self.last_end = end;
            }
            NodeKind::Block {
                header,
                open,
                close,
                children,
            } => {
                let no_inner_comments = self
                    .comments
                    .get(self.next)
                    .is_none_or(|c| c.span.start >= node.span.end);
                if no_inner_comments {
                    let written_on_one_line = !self.src[*open..*close].contains('\n');
                    if let Some(one) = self.one_line(header, children, indent, written_on_one_line)
                    {
                        let trailing = self.take_same_line(node.span.end);
                        let end = trailing.last().map_or(node.span.end, |c| c.span.end);
                        let (_, tail) = self.end_of_line(&trailing);
                        self.blank_before(rule, node.span.start);
                        self.push_line(indent, &format!("{one}{tail}"));
                        self.last_end = end;
                        return;
                    }
                }
                let mut eol = self.take_before(*open);
                eol.extend(self.take_same_line(*open));
                let (above, tail) = self.end_of_line(&eol);
                self.blank_before(rule, node.span.start);
                for c in &above {
                    let t = self.comment_text(c);
                    self.push_line(indent, &t);
                }
                let h = render(header, indent, 2);
                self.push_line(indent, &format!("{h} {{{tail}"));
                self.last_end = eol.last().map_or(*open, |c| c.span.end.max(*open));
                for (i, child) in children.iter().enumerate() {
                    self.node(
                        child,
                        indent + 1,
                        if i == 0 { Blank::No } else { Blank::AsWritten },
                    );
                }
                let rest = self.take_before(*close);
                self.own_line_comments(
                    &rest,
                    indent + 1,
                    if children.is_empty() {
                        Blank::No
                    } else {
                        Blank::AsWritten
                    },
                );
                let trailing = self.take_same_line(node.span.end);
                let (_, tail) = self.end_of_line(&trailing);
                self.push_line(indent, &format!("}}{tail}"));
                self.last_end = trailing.last().map_or(node.span.end, |c| c.span.end);
            }
        }
    }

    /// The block on one line, when it may be: empty, or one simple statement written on one
    /// line with its braces; either way only when the line fits.
    fn one_line(
        &self,
        header: &[Piece],
        children: &[Node],
        indent: usize,
        written_on_one_line: bool,
    ) -> Option<String> {
        let h = flat(header);
        let line = match children {
            [] => format!("{h} {{}}"),
            [Node {
                kind: NodeKind::Leaf(pieces),
                ..
            }] if written_on_one_line => format!("{h} {{ {} }}", flat(pieces)),
            _ => return None,
        };
        (indent * INDENT.len() + width(&line) <= WIDTH).then_some(line)
    }
}

fn text(s: impl Into<String>) -> Vec<Piece> {
    vec![Piece::Text(s.into())]
}

fn names(v: &[Ident]) -> String {
    v.iter()
        .map(|i| i.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Consecutive imports, params or data declarations may stay together without a blank line.
fn same_group(a: &Item, b: &Item) -> bool {
    matches!(
        (a, b),
        (Item::Import(_), Item::Import(_))
            | (Item::Param(_), Item::Param(_))
            | (Item::Data(_), Item::Data(_))
    )
}
