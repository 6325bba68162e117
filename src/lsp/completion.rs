//! Completion: keywords that fit the block, declared names, units after a number, built-in
//! functions.
//!
//! The text being completed rarely parses, so the context comes from tokens, not the tree:
//! the blocks open at the cursor ([`context::context`]) say which statements fit, and the
//! word or punctuation just before the cursor narrows it (`load ` wants a traffic, `inject `
//! a fault, `after ` a step of this scenario, `shop.` a service of `shop`, `250` a unit). It
//! is an approximation: a list that is a little too long beats a missing entry, and the
//! editor filters by what was typed.

use std::collections::HashSet;

use tower_lsp_server::ls_types::{
    CompletionItem, CompletionItemKind, CompletionTextEdit, Documentation, TextEdit,
};

use crate::diagnostic::Span;

use super::context::{self, Block, Context, Frame};
use super::graph::{Found, Graph, Module};
use super::lex::{is_ident_byte, Inside, Kind, Token};
use super::outline::{Decl, DeclKind};
use super::words;

pub fn complete(g: &Graph, offset: usize) -> Vec<CompletionItem> {
    let root = g.root();
    let text: &str = &root.text;
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let b = text.as_bytes();
    let mut word_start = offset;
    while word_start > 0 && is_ident_byte(b[word_start - 1]) {
        word_start -= 1;
    }
    let ctx = context::context(text, word_start);
    match ctx.inside {
        Inside::Comment => return Vec::new(),
        Inside::Str(start) => return placeholders(g, text, start, word_start),
        Inside::Code => {}
    }
    if let Some(items) = units(root, offset) {
        return items;
    }
    if word_start > 0 && b[word_start - 1] == b'.' {
        return members(g, &ctx, text, word_start - 1);
    }
    let cx = Cx {
        g,
        text,
        frames: &ctx.frames,
        tokens: &ctx.tokens,
        ctx: &ctx,
    };
    let mut items = cx.items();
    let mut seen = HashSet::new();
    items.retain(|i| seen.insert(i.label.clone()));
    items
}

// ----------------------------------------------------------------------------------------------
// units

const UNITS: &[(&str, &str)] = &[
    ("ms", "duration: milliseconds"),
    ("s", "duration: seconds"),
    ("m", "duration: minutes"),
    ("h", "duration: hours"),
    ("d", "duration: days"),
    ("w", "duration: weeks"),
    ("us", "duration: microseconds"),
    ("/s", "rate: per second"),
    ("/m", "rate: per minute"),
    ("/h", "rate: per hour"),
    ("/d", "rate: per day"),
    ("%", "percent"),
    ("x", "multiplier"),
    ("B", "size: bytes"),
    ("KiB", "size: 1,024 bytes"),
    ("MiB", "size: 1,048,576 bytes"),
    ("GiB", "size: 1,073,741,824 bytes"),
    ("TiB", "size: 2⁴⁰ bytes"),
    ("kB", "size: 1,000 bytes"),
    ("MB", "size: 1,000,000 bytes"),
    ("GB", "size: 10⁹ bytes"),
    ("TB", "size: 10¹² bytes"),
    ("KiB/s", "bandwidth: KiB per second"),
    ("MiB/s", "bandwidth: MiB per second"),
    ("xx", "status class (with one digit: 5xx)"),
];

/// Units for a number being typed (`250`, `250m`, `500/`), replacing the whole literal so
/// the editor's filter sees `250ms` rather than `ms`.
fn units(m: &Module, offset: usize) -> Option<Vec<CompletionItem>> {
    let text: &str = &m.text;
    let b = text.as_bytes();
    let mut start = offset;
    while start > 0 && (is_ident_byte(b[start - 1]) || matches!(b[start - 1], b'.' | b'/' | b'%')) {
        start -= 1;
    }
    let literal = &text[start..offset];
    if !literal.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let base_len = literal
        .rfind(|c: char| c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    let (base, typed) = literal.split_at(base_len);
    let compound = base.contains(|c: char| c.is_ascii_alphabetic());
    let range = m.lines.range(text, Span::new(start, offset));
    let items = UNITS
        .iter()
        .enumerate()
        .filter(|(_, (u, _))| u.starts_with(typed))
        .filter(|(_, (_, d))| !compound || d.starts_with("duration"))
        .filter(|(_, (u, _))| *u != "xx" || base.len() == 1)
        .map(|(i, (unit, detail))| {
            let new_text = format!("{base}{unit}");
            CompletionItem {
                label: (*unit).to_string(),
                kind: Some(CompletionItemKind::UNIT),
                detail: Some((*detail).to_string()),
                sort_text: Some(format!("{i:02}")),
                filter_text: Some(new_text.clone()),
                text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(range, new_text))),
                ..Default::default()
            }
        })
        .collect();
    Some(items)
}

// ----------------------------------------------------------------------------------------------
// members and placeholders

/// After `NAME.`: the services of system NAME, or `start`/`end` of a step.
fn members(g: &Graph, ctx: &Context, text: &str, dot: usize) -> Vec<CompletionItem> {
    let b = text.as_bytes();
    let mut start = dot;
    while start > 0 && is_ident_byte(b[start - 1]) {
        start -= 1;
    }
    let owner = &text[start..dot];
    if let Some(found) = g.lookup(0, owner) {
        if let Some(d) = g.decl(found).filter(|d| d.kind == DeclKind::System) {
            return d
                .children
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let f = Found {
                        child: Some(i),
                        ..found
                    };
                    name_item(g, &c.name, Some(c.kind), Some(f))
                })
                .collect();
        }
    }
    let is_step = scenario(g, ctx).is_some_and(|s| s.children.iter().any(|c| c.name == owner));
    if is_step {
        return keyword_items(&["start", "end"]);
    }
    Vec::new()
}

/// Inside a string, after `{`: feeders and the built-in placeholders.
fn placeholders(g: &Graph, text: &str, string_start: usize, at: usize) -> Vec<CompletionItem> {
    let Some(inner) = text.get(string_start + 1..at) else {
        return Vec::new();
    };
    let Some(open) = inner.rfind('{') else {
        return Vec::new();
    };
    let typed = &inner[open + 1..];
    if typed.contains('}') || typed.contains('.') {
        return Vec::new();
    }
    let mut items = names(g, &[DeclKind::Data]);
    for (label, detail) in [
        ("seq", "a sequence number"),
        ("uuid", "a fresh UUID"),
        ("random", "`random.N`: a random number bounded by N"),
    ] {
        items.push(CompletionItem {
            label: label.into(),
            kind: Some(CompletionItemKind::VALUE),
            detail: Some(detail.into()),
            ..Default::default()
        });
    }
    items
}

// ----------------------------------------------------------------------------------------------
// names, keywords and functions

fn decl_kind(kind: DeclKind) -> CompletionItemKind {
    match kind {
        DeclKind::Param => CompletionItemKind::CONSTANT,
        DeclKind::Data => CompletionItemKind::FILE,
        DeclKind::System => CompletionItemKind::MODULE,
        DeclKind::Service => CompletionItemKind::CLASS,
        DeclKind::Traffic => CompletionItemKind::EVENT,
        DeclKind::Session => CompletionItemKind::PROPERTY,
        DeclKind::Fault => CompletionItemKind::OPERATOR,
        DeclKind::Window | DeclKind::Event => CompletionItemKind::ENUM_MEMBER,
        DeclKind::Slo => CompletionItemKind::INTERFACE,
        DeclKind::Remedy => CompletionItemKind::METHOD,
        DeclKind::Scenario => CompletionItemKind::STRUCT,
        DeclKind::Step => CompletionItemKind::FIELD,
        DeclKind::Template(_) => CompletionItemKind::FUNCTION,
        DeclKind::TemplateParam => CompletionItemKind::VARIABLE,
    }
}

fn name_item(
    g: &Graph,
    name: &str,
    kind: Option<DeclKind>,
    found: Option<Found>,
) -> CompletionItem {
    let mut detail = kind.map(|k| k.word()).unwrap_or_else(|| "imported".into());
    if let Some(f) = found.filter(|f| f.module != 0) {
        detail.push_str(&format!(" from {}", g.modules[f.module].name));
    }
    CompletionItem {
        label: name.to_string(),
        kind: Some(kind.map_or(CompletionItemKind::REFERENCE, decl_kind)),
        detail: Some(detail),
        ..Default::default()
    }
}

/// Top-level names of the given kinds (every kind when `kinds` is empty).
fn names(g: &Graph, kinds: &[DeclKind]) -> Vec<CompletionItem> {
    g.visible()
        .into_iter()
        .filter(|(_, kind, _)| kinds.is_empty() || kind.is_some_and(|k| kinds.contains(&k)))
        .filter(|(_, kind, _)| *kind != Some(DeclKind::Scenario))
        .map(|(name, kind, found)| name_item(g, &name, kind, found))
        .collect()
}

fn keyword_items(list: &[&str]) -> Vec<CompletionItem> {
    list.iter()
        .filter(|k| words::is_keyword(k))
        .map(|k| CompletionItem {
            label: (*k).to_string(),
            kind: Some(CompletionItemKind::KEYWORD),
            detail: words::keyword(k).map(str::to_string),
            ..Default::default()
        })
        .collect()
}

/// Fixed option words that are not grammar keywords (`mode act`).
fn plain_items(list: &[&str]) -> Vec<CompletionItem> {
    list.iter()
        .map(|k| CompletionItem {
            label: (*k).to_string(),
            kind: Some(CompletionItemKind::ENUM_MEMBER),
            ..Default::default()
        })
        .collect()
}

fn functions() -> Vec<CompletionItem> {
    words::BUILTINS
        .iter()
        .map(|b| CompletionItem {
            label: b.name.to_string(),
            kind: Some(CompletionItemKind::FUNCTION),
            detail: Some(format!("{} → {}", b.signature(), b.returns)),
            documentation: Some(Documentation::String(b.doc.to_string())),
            ..Default::default()
        })
        .collect()
}

/// The declaration owning an open block: as the checker knows it, or (in the item being
/// typed, which does not parse) as far as the text before the cursor declares it.
fn owner(g: &Graph, ctx: &Context, frame: &Frame) -> Option<Decl> {
    g.by_span(0, frame.owner?)
        .and_then(|f| g.decl(f))
        .or_else(|| ctx.owner(frame))
        .cloned()
}

/// The innermost open block of kind `block`, and its owner.
fn open(g: &Graph, ctx: &Context, block: Block) -> Option<Decl> {
    ctx.frames
        .iter()
        .rev()
        .find(|f| f.block == block)
        .and_then(|f| owner(g, ctx, f))
}

/// The scenario whose block is open.
fn scenario(g: &Graph, ctx: &Context) -> Option<Decl> {
    open(g, ctx, Block::Scenario)
}

/// Statements and clauses that fit each kind of block.
fn block_keywords(block: Option<Block>) -> &'static [&'static str] {
    match block {
        None => &[
            "import", "param", "data", "system", "traffic", "fault", "window", "event", "slo",
            "abort", "remedy", "scenario", "template",
        ],
        Some(Block::System) => &[
            "builtin", "base", "header", "timeout", "protocol", "metrics", "query", "service",
        ],
        Some(Block::Service) => &[
            "route", "depends", "upstream", "process", "header", "timeout", "capacity", "body",
            "expect", "weight", "scale", "balance", "via", "within", "read", "backend", "query",
        ],
        Some(Block::Traffic) => &[
            "learn", "forecast", "like", "against", "rate", "arrival", "ramp", "hold", "mix",
            "session", "users", "scale", "over", "at", "think", "format", "quantile", "method",
        ],
        Some(Block::Session) => &["visit", "think", "repeat"],
        Some(Block::Fault) => &[
            "on",
            "latency",
            "jitter",
            "per",
            "errors",
            "at",
            "reset",
            "blackhole",
            "timeout",
            "bandwidth",
            "slow_close",
            "slice",
            "delay",
            "kill",
            "signal",
            "pause",
            "for",
            "restart",
            "with",
            "cpu",
            "cores",
            "memory",
            "disk",
            "fds",
            "loss",
            "toxicity",
            "match",
            "method",
            "path",
            "header",
            "and",
            "via",
            "proxy",
        ],
        Some(Block::Window) => &["every", "from", "to"],
        Some(Block::Event) => &["at", "lasts", "expect"],
        Some(Block::Slo) => &["and", "or", "not"],
        Some(Block::Remedy) => &[
            "when",
            "predicted",
            "at",
            "for",
            "do",
            "cooldown",
            "mode",
            "verify",
            "require",
            "step",
            "and",
            "or",
            "not",
        ],
        Some(Block::Scenario) => &[
            "in", "step", "after", "with", "during", "for", "at", "expect", "abort", "record",
            "predict", "then", "skip", "runs",
        ],
        Some(Block::Import | Block::Json | Block::Mix | Block::Paren | Block::Other) => &[],
    }
}

/// Keywords that only ever come right after another.
const FOLLOW: &[(&str, &[&str])] = &[
    ("depends", &["on"]),
    ("forecast", &["peak"]),
    ("record", &["profile"]),
    ("then", &["remediate"]),
    ("remediate", &["with"]),
    ("do", &["scale", "shift", "failover", "exec", "webhook"]),
    ("process", &["pidfile", "name", "command"]),
    ("body", &["json", "size"]),
    ("balance", &["via"]),
    ("skip", &["when"]),
    ("runs", &["at"]),
    ("metrics", &["prometheus"]),
    ("verify", &["within"]),
    ("require", &["approval"]),
    ("kill", &["signal"]),
    ("template", &["fault", "traffic", "slo", "remedy"]),
    ("abort", &["when"]),
    ("learn", &["from"]),
];

/// Keywords after which a new name is written (nothing to complete).
const NAMING: &[&str] = &[
    "param", "data", "system", "service", "traffic", "fault", "window", "event", "slo", "remedy",
    "scenario", "step", "session", "as",
];

/// Keywords followed by a fixed option word or a string, not an expression.
const NOT_EXPR: &[&str] = &[
    "import",
    "builtin",
    "protocol",
    "arrival",
    "format",
    "order",
    "method",
    "signal",
    "route",
    "json",
    "profile",
    "chunk",
    "match",
    "every",
    "from",
    "path",
    "start",
    "end",
    "toxiproxy",
    "pidfile",
    "name",
    "command",
    "mode",
    "admin",
    "haproxy",
    "query",
];

struct Cx<'a> {
    g: &'a Graph,
    text: &'a str,
    frames: &'a [Frame],
    tokens: &'a [Token],
    ctx: &'a Context,
}

impl Cx<'_> {
    fn block(&self) -> Option<Block> {
        self.frames.last().map(|f| f.block)
    }

    /// The `n`th token before the cursor (0 is the last).
    fn tok(&self, n: usize) -> Option<Token> {
        self.tokens.iter().rev().nth(n).copied()
    }

    fn word(&self, n: usize) -> Option<&str> {
        self.tok(n)
            .filter(|t| t.kind == Kind::Word)
            .map(|t| t.text(self.text))
    }

    fn items(&self) -> Vec<CompletionItem> {
        match self.block() {
            Some(Block::Json) => return Vec::new(),
            Some(Block::Import) => return self.import_names(),
            Some(Block::Mix) if !self.tok(0).is_some_and(|t| t.is_punct(':')) => {
                return names(self.g, &[DeclKind::System]);
            }
            _ => {}
        }
        let Some(last) = self.tok(0) else {
            return self.statement();
        };
        match last.kind {
            Kind::Word => self.after_word(0),
            Kind::Punct('=') => self.after_equals(),
            Kind::Punct(',') => self.after_comma(),
            Kind::Punct('(' | ':' | '+' | '-' | '*' | '/' | '<' | '>' | '!' | '[') => {
                self.expression()
            }
            _ => self.statement(),
        }
    }

    fn after_word(&self, n: usize) -> Vec<CompletionItem> {
        let Some(w) = self.word(n) else {
            return self.statement();
        };
        let prev = self.word(n + 1);
        let block = self.block();
        let scenario = block == Some(Block::Scenario);
        match w {
            "load" if scenario => names(self.g, &[DeclKind::Traffic]),
            "inject" if scenario => names(self.g, &[DeclKind::Fault]),
            "with" if prev == Some("remediate") => names(self.g, &[DeclKind::Remedy]),
            "after" | "with" | "during" if scenario => self.steps(),
            "in" | "or" if scenario && self.statement_word(n) == Some("in") => {
                let mut items = names(self.g, &[DeclKind::Window]);
                items.extend(keyword_items(&["before"]));
                items
            }
            "before" => names(self.g, &[DeclKind::Event]),
            "like" => names(self.g, &[DeclKind::Traffic]),
            "against" | "visit" => names(self.g, &[DeclKind::System]),
            "on" if prev == Some("depends") => self.services_here(),
            "on" if block == Some(Block::Fault) => {
                let mut items = names(self.g, &[DeclKind::System, DeclKind::TemplateParam]);
                items.extend(self.template_params());
                items.extend(keyword_items(&["stressed"]));
                items
            }
            "expect" if block == Some(Block::Service) => keyword_items(&["status"]),
            "expect" if scenario => {
                let mut items = names(self.g, &[DeclKind::Slo]);
                items.extend(self.expression());
                items
            }
            "scale" | "failover" if prev == Some("do") => names(self.g, &[DeclKind::System]),
            "from" if block == Some(Block::Remedy) => names(self.g, &[DeclKind::System]),
            "when" => {
                let mut items = keyword_items(&["predicted"]);
                items.extend(self.expression());
                items
            }
            "at" if block == Some(Block::Remedy) => {
                let mut items = keyword_items(&["most"]);
                items.extend(self.expression());
                items
            }
            "per" if block == Some(Block::Fault) => keyword_items(&["chunk"]),
            "via" if block == Some(Block::Fault) => keyword_items(&["toxiproxy"]),
            "via" if prev == Some("scale") => keyword_items(&["admin", "exec"]),
            "via" if prev == Some("balance") => keyword_items(&["haproxy", "proxy"]),
            "scale" if block == Some(Block::Service) => keyword_items(&["via"]),
            "step" if block == Some(Block::Remedy) => keyword_items(&["at"]),
            "mode" if block == Some(Block::Remedy) => plain_items(&["act", "advise"]),
            "query" => plain_items(&["rate", "p99", "errors"]),
            _ if prev == Some("template") => Vec::new(),
            _ if NAMING.contains(&w) => Vec::new(),
            _ => {
                if let Some((_, follow)) = FOLLOW.iter().find(|(k, _)| *k == w) {
                    return keyword_items(follow);
                }
                if words::is_keyword(w) && !NOT_EXPR.contains(&w) {
                    return self.expression();
                }
                self.statement()
            }
        }
    }

    /// The keyword that starts the scenario statement around token `n`.
    fn statement_word(&self, n: usize) -> Option<&str> {
        const STARTS: &[&str] = &["in", "step", "expect", "abort", "record", "predict", "then"];
        (n..n + 64)
            .map_while(|k| self.tok(k))
            .filter(|t| t.kind == Kind::Word)
            .map(|t| t.text(self.text))
            .find(|w| STARTS.contains(w))
    }

    fn after_equals(&self) -> Vec<CompletionItem> {
        let name = self.word(1);
        let kw = self.word(2);
        match (self.block(), kw, name) {
            (Some(Block::Scenario), Some("step"), Some(_)) => {
                keyword_items(&["load", "inject", "wait"])
            }
            (None, Some(kind @ ("traffic" | "fault" | "slo" | "remedy")), Some(_)) => {
                let kind = match kind {
                    "traffic" => "traffic",
                    "fault" => "fault",
                    "slo" => "slo",
                    _ => "remedy",
                };
                names(self.g, &[DeclKind::Template(kind)])
            }
            _ => self.expression(),
        }
    }

    /// In a list (`depends on a, `, `remediate with a, `, `in w1, `): what the list holds.
    fn after_comma(&self) -> Vec<CompletionItem> {
        let mut k = 0;
        while self.tok(k).is_some_and(|t| t.is_punct(',')) && self.word(k + 1).is_some() {
            k += 2;
        }
        match (self.word(k), self.word(k + 1)) {
            (Some("on"), Some("depends")) | (Some("with"), Some("remediate")) => self.after_word(k),
            _ => self.expression(),
        }
    }

    fn statement(&self) -> Vec<CompletionItem> {
        let block = self.block();
        let mut items = keyword_items(block_keywords(block));
        if matches!(block, Some(Block::Slo | Block::Paren)) {
            items.extend(self.expression());
        }
        items
    }

    fn expression(&self) -> Vec<CompletionItem> {
        let mut items = self.template_params();
        items.extend(
            names(self.g, &[])
                .into_iter()
                .filter(|i| !matches!(i.detail.as_deref(), Some(d) if d.starts_with("template"))),
        );
        items.extend(functions());
        items.extend(keyword_items(&["not"]));
        for b in ["true", "false"] {
            items.push(CompletionItem {
                label: b.into(),
                kind: Some(CompletionItemKind::VALUE),
                detail: Some("bool".into()),
                ..Default::default()
            });
        }
        items
    }

    /// Parameters of the template whose body or head is open.
    fn template_params(&self) -> Vec<CompletionItem> {
        let Some(d) = self
            .frames
            .iter()
            .filter_map(|f| owner(self.g, self.ctx, f))
            .find(|d| matches!(d.kind, DeclKind::Template(_)))
        else {
            return Vec::new();
        };
        d.children
            .iter()
            .filter(|c| c.kind == DeclKind::TemplateParam)
            .map(|c| name_item(self.g, &c.name, Some(c.kind), None))
            .collect()
    }

    fn steps(&self) -> Vec<CompletionItem> {
        let Some(d) = scenario(self.g, self.ctx) else {
            return Vec::new();
        };
        d.children
            .iter()
            .map(|c| name_item(self.g, &c.name, Some(c.kind), None))
            .collect()
    }

    /// Services of the system whose block is open (for `depends on`).
    fn services_here(&self) -> Vec<CompletionItem> {
        let Some(d) = open(self.g, self.ctx, Block::System) else {
            return Vec::new();
        };
        d.children
            .iter()
            .map(|c| name_item(self.g, &c.name, Some(c.kind), None))
            .collect()
    }

    /// Inside `import "…" { … }`: what that module declares.
    fn import_names(&self) -> Vec<CompletionItem> {
        let at = self.tokens.last().map_or(0, |t| t.span.end);
        let root = self.g.root();
        let loaded = root
            .outline
            .imports
            .iter()
            .rposition(|imp| imp.path_span.end <= at && at <= imp.span.end)
            .and_then(|i| root.imports.get(i).copied().flatten());
        let Some(m) = loaded else {
            // The import being typed does not parse, so the checker did not load it.
            return self.unloaded_import_names();
        };
        let module = &self.g.modules[m];
        let mut items: Vec<CompletionItem> = module
            .outline
            .decls
            .iter()
            .enumerate()
            .map(|(top, d)| {
                let f = Found {
                    module: m,
                    top,
                    child: None,
                };
                name_item(self.g, &d.name, Some(d.kind), Some(f))
            })
            .collect();
        for imp in &module.outline.imports {
            for n in &imp.names {
                items.push(name_item(self.g, &n.local, None, None));
            }
        }
        items
    }

    /// The names a module declares when its import is still being typed: the module is
    /// loaded by the checker's loader, as a complete import of it would be.
    fn unloaded_import_names(&self) -> Vec<CompletionItem> {
        let Some(path) = self.ctx.outline.imports.last().map(|i| i.path.as_str()) else {
            return Vec::new();
        };
        if path.contains(['"', '\\', '\n']) {
            return Vec::new();
        }
        let probe = format!("import \"{path}\" {{ _ }}\n");
        let g = Graph::load(&self.g.root().name, probe.into(), &self.g.overlay);
        let Some(module) = g.modules.get(1) else {
            return Vec::new();
        };
        module
            .outline
            .decls
            .iter()
            .map(|d| name_item(&g, &d.name, Some(d.kind), None))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lsp::graph::Overlay;
    use std::sync::Arc;

    const TEXT: &str = "import \"std/faults\" { slow_dependency }\nparam margin = 2x\ndata items from \"i.csv\"\nsystem shop { builtin demo_shop service checkout { route GET \"/\" } service pay { upstream \"x:1\" } }\ntraffic t { rate 10/s hold 1m }\nfault f { on shop.pay latency 1s }\nslo ok { p99(shop) < 1s }\n";

    fn labels(text: &str) -> Vec<String> {
        let g = Graph::load("/x/main.res", Arc::from(text), &Overlay::new());
        let at = text.find('|').unwrap();
        let text = text.replacen('|', "", 1);
        let g2 = Graph::load("/x/main.res", Arc::from(text.as_str()), &Overlay::new());
        drop(g);
        complete(&g2, at).into_iter().map(|i| i.label).collect()
    }

    fn has(list: &[String], want: &[&str]) -> bool {
        want.iter().all(|w| list.iter().any(|l| l == w))
    }

    #[test]
    fn services_after_a_dot() {
        let l = labels(&format!("{TEXT}scenario s {{ expect p99(shop.|) < 1s }}"));
        assert_eq!(l, ["checkout", "pay"]);
    }

    #[test]
    fn units_after_a_number() {
        let l = labels(&format!("{TEXT}fault g {{ on shop.pay latency 25| }}"));
        assert!(has(&l, &["ms", "s", "m", "/s", "KiB", "%", "x"]), "{l:?}");
        let l = labels(&format!("{TEXT}fault g {{ on shop.pay latency 25m| }}"));
        assert_eq!(l, ["ms", "m"]);
        let l = labels(&format!("{TEXT}fault g {{ on shop.pay bandwidth 25M| }}"));
        assert_eq!(l, ["MiB", "MB", "MiB/s"]);
        let l = labels(&format!("{TEXT}traffic u {{ rate 500/| }}"));
        assert_eq!(l, ["/s", "/m", "/h", "/d"]);
    }

    #[test]
    fn keywords_of_the_block() {
        let l = labels(&format!("{TEXT}fault g {{\n  |\n}}"));
        assert!(has(&l, &["latency", "errors", "on", "kill"]), "{l:?}");
        assert!(!l.contains(&"route".to_string()));
        let l = labels(&format!("{TEXT}|"));
        assert!(
            has(&l, &["system", "scenario", "template", "import"]),
            "{l:?}"
        );
    }

    #[test]
    fn actuators_and_remedy_rails() {
        let l = labels(&format!(
            "{TEXT}system s2 {{ service a {{ route GET \"/\"\n  |\n }} }}"
        ));
        assert!(has(&l, &["scale", "balance", "route"]), "{l:?}");
        let l = labels(&format!(
            "{TEXT}system s2 {{ service a {{ scale via | }} }}"
        ));
        assert_eq!(l, ["admin", "exec"]);
        let l = labels(&format!(
            "{TEXT}system s2 {{ service a {{ balance via | }} }}"
        ));
        assert_eq!(l, ["haproxy", "proxy"]);
        let l = labels(&format!("{TEXT}fault g {{ on shop.pay latency 1s via | }}"));
        assert_eq!(l, ["toxiproxy"]);
        let l = labels(&format!("{TEXT}remedy r {{\n  |\n}}"));
        assert!(
            has(&l, &["when", "do", "mode", "verify", "require", "step"]),
            "{l:?}"
        );
        let l = labels(&format!("{TEXT}remedy r {{ mode | }}"));
        assert_eq!(l, ["act", "advise"]);
        let l = labels(&format!("{TEXT}remedy r {{ require | }}"));
        assert_eq!(l, ["approval"]);
        let l = labels(&format!("{TEXT}remedy r {{ verify | }}"));
        assert_eq!(l, ["within"]);
    }

    #[test]
    fn names_that_fit() {
        let l = labels(&format!(
            "{TEXT}scenario s {{ step a = load t for 1m\n step b = inject | }}"
        ));
        assert_eq!(l, ["f"]);
        let l = labels(&format!(
            "{TEXT}scenario s {{ step a = load t for 1m\n step b = inject f after | }}"
        ));
        assert_eq!(l, ["a", "b"]);
        let l = labels(&format!("{TEXT}fault g = |"));
        assert_eq!(l, ["slow_dependency"]);
        let l = labels(&format!("{TEXT}param p = margin * |"));
        assert!(has(&l, &["margin", "p99", "peak", "env"]), "{l:?}");
        let l = labels(&format!(
            "{TEXT}system s2 {{ service a {{ route GET \"/{{|\" }} }}"
        ));
        assert!(has(&l, &["items", "seq"]), "{l:?}");
        let l = labels("import \"std/faults\" { slow_dependency, |");
        assert!(has(&l, &["latency_spike", "blackhole"]), "{l:?}");
    }

    #[test]
    fn nothing_in_comments() {
        assert!(labels(&format!("{TEXT}// sys|")).is_empty());
    }
}
