//! The declarations of one file and the blocks around a place in it.
//!
//! An [`Outline`] lists what a file declares (systems with their services, traffics with
//! their sessions, scenarios with their steps, templates with their parameters, …) and what
//! it imports. It is built from the syntax tree when the file parses ([`Outline::from_ast`],
//! exact) and otherwise by scanning tokens ([`Outline::scan`], approximate), so document
//! symbols, completion and go-to-definition keep working on a file that is half typed.
//! [`context`] gives the chain of blocks open at an offset, which completion uses to offer
//! the statements that fit there.

use crate::diagnostic::Span;
use crate::syntax::ast;

use super::lex::{self, Kind, Token};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclKind {
    Param,
    Data,
    System,
    Service,
    Traffic,
    Session,
    Fault,
    Window,
    Event,
    Slo,
    Remedy,
    Scenario,
    Step,
    /// `template fault|traffic|slo|remedy NAME(…)`.
    Template(&'static str),
    TemplateParam,
}

impl DeclKind {
    /// The word a reader knows the declaration by: "traffic", "template fault".
    pub fn word(self) -> String {
        match self {
            DeclKind::Param => "param".into(),
            DeclKind::Data => "data".into(),
            DeclKind::System => "system".into(),
            DeclKind::Service => "service".into(),
            DeclKind::Traffic => "traffic".into(),
            DeclKind::Session => "session".into(),
            DeclKind::Fault => "fault".into(),
            DeclKind::Window => "window".into(),
            DeclKind::Event => "event".into(),
            DeclKind::Slo => "slo".into(),
            DeclKind::Remedy => "remedy".into(),
            DeclKind::Scenario => "scenario".into(),
            DeclKind::Step => "step".into(),
            DeclKind::Template(k) => format!("template {k}"),
            DeclKind::TemplateParam => "parameter".into(),
        }
    }

    fn of_keyword(word: &str) -> Option<DeclKind> {
        Some(match word {
            "param" => DeclKind::Param,
            "data" => DeclKind::Data,
            "system" => DeclKind::System,
            "traffic" => DeclKind::Traffic,
            "fault" => DeclKind::Fault,
            "window" => DeclKind::Window,
            "event" => DeclKind::Event,
            "slo" => DeclKind::Slo,
            "remedy" => DeclKind::Remedy,
            "scenario" => DeclKind::Scenario,
            _ => return None,
        })
    }
}

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
    pub fn from_ast(file: &ast::File) -> Outline {
        let mut out = Outline::default();
        for item in &file.items {
            match item {
                ast::Item::Import(imp) => out.imports.push(Import {
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
                ast::Item::Abort(_) => {}
                other => {
                    if let Some(d) = item_decl(other) {
                        out.decls.push(d);
                    }
                }
            }
        }
        out
    }

    /// The outline of text that may not parse.
    pub fn scan(text: &str) -> Outline {
        let tokens = lex::tokens(text);
        let mut s = Scanner::new(text, &tokens);
        s.run();
        s.outline
    }
}

fn decl(kind: DeclKind, name: &ast::Ident, span: Span, children: Vec<Decl>) -> Decl {
    Decl {
        kind,
        name: name.name.clone(),
        name_span: name.span,
        span: span.to(name.span),
        children,
    }
}

fn item_decl(item: &ast::Item) -> Option<Decl> {
    use ast::Item;
    let name = item.name()?;
    let span = item.span();
    Some(match item {
        Item::Param(_) => decl(DeclKind::Param, name, span, vec![]),
        Item::Data(_) => decl(DeclKind::Data, name, span, vec![]),
        Item::System(s) => {
            let services = s
                .stmts
                .iter()
                .filter_map(|st| match &st.kind {
                    ast::SystemStmt::Service(svc) => {
                        Some(decl(DeclKind::Service, &svc.name, svc.span, vec![]))
                    }
                    _ => None,
                })
                .collect();
            decl(DeclKind::System, name, span, services)
        }
        Item::Traffic(t) => {
            let sessions = match &t.body {
                ast::Body2::Block(stmts) => sessions(stmts),
                ast::Body2::Template(_) => vec![],
            };
            decl(DeclKind::Traffic, name, span, sessions)
        }
        Item::Fault(_) => decl(DeclKind::Fault, name, span, vec![]),
        Item::Window(_) => decl(DeclKind::Window, name, span, vec![]),
        Item::Event(_) => decl(DeclKind::Event, name, span, vec![]),
        Item::Slo(_) => decl(DeclKind::Slo, name, span, vec![]),
        Item::Remedy(_) => decl(DeclKind::Remedy, name, span, vec![]),
        Item::Scenario(s) => {
            let steps = s
                .stmts
                .iter()
                .filter_map(|st| match &st.kind {
                    ast::ScenarioStmt::Step(step) => {
                        Some(decl(DeclKind::Step, &step.name, st.span, vec![]))
                    }
                    _ => None,
                })
                .collect();
            decl(DeclKind::Scenario, name, span, steps)
        }
        Item::Template(t) => {
            let mut children: Vec<Decl> = t
                .params
                .iter()
                .map(|p| decl(DeclKind::TemplateParam, &p.name, p.span, vec![]))
                .collect();
            if let ast::TemplateBody::Traffic(stmts) = &t.body {
                children.extend(sessions(stmts));
            }
            decl(DeclKind::Template(t.body.kind()), name, span, children)
        }
        Item::Import(_) | Item::Abort(_) => return None,
    })
}

fn sessions(stmts: &[ast::Stmt<ast::TrafficStmt>]) -> Vec<Decl> {
    stmts
        .iter()
        .filter_map(|st| match &st.kind {
            ast::TrafficStmt::Session(s) => Some(decl(DeclKind::Session, &s.name, s.span, vec![])),
            _ => None,
        })
        .collect()
}

// ----------------------------------------------------------------------------------------------
// blocks around an offset

/// What kind of block a `{` (or `(`) opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    System,
    Service,
    Traffic,
    Session,
    Fault,
    Window,
    Event,
    Slo,
    Remedy,
    Scenario,
    Import,
    Json,
    Mix,
    Paren,
    Other,
}

impl Block {
    fn of(kind: DeclKind) -> Block {
        match kind {
            DeclKind::System => Block::System,
            DeclKind::Service => Block::Service,
            DeclKind::Traffic | DeclKind::Template("traffic") => Block::Traffic,
            DeclKind::Session => Block::Session,
            DeclKind::Fault | DeclKind::Template("fault") => Block::Fault,
            DeclKind::Window => Block::Window,
            DeclKind::Event => Block::Event,
            DeclKind::Slo | DeclKind::Template("slo") => Block::Slo,
            DeclKind::Remedy | DeclKind::Template("remedy") => Block::Remedy,
            DeclKind::Scenario => Block::Scenario,
            _ => Block::Other,
        }
    }
}

/// An open block: its kind and the declaration that owns it (by name span), if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    pub block: Block,
    pub owner: Option<Span>,
    open: char,
}

/// The blocks open at `offset`, outermost first, and the tokens before it.
pub fn context(text: &str, offset: usize) -> (Vec<Frame>, Vec<Token>, lex::Inside) {
    let (tokens, inside) = lex::tokens_until(text, offset);
    // Only tokens that end before the cursor: the word being typed is not context.
    let before: Vec<Token> = tokens
        .into_iter()
        .filter(|t| t.span.end <= offset)
        .collect();
    let mut s = Scanner::new(text, &before);
    s.run();
    (s.stack, before, inside)
}

// ----------------------------------------------------------------------------------------------
// the token scanner

/// Index path of a declaration in the outline: top-level index and child index.
type At = (usize, Option<usize>);

struct Scanner<'a> {
    text: &'a str,
    tokens: &'a [Token],
    stack: Vec<Frame>,
    outline: Outline,
    /// The top-level declaration being read (its span grows token by token).
    current: Option<usize>,
    /// The step being read in a scenario block.
    step: Option<At>,
    /// The declaration whose block the next `{` (or template `(`) opens.
    pending: Option<At>,
}

const ITEM_KEYWORDS: &[&str] = &[
    "import", "param", "data", "system", "traffic", "fault", "window", "event", "slo", "abort",
    "remedy", "scenario", "template",
];

const SCENARIO_STATEMENTS: &[&str] =
    &["in", "step", "expect", "abort", "record", "predict", "then"];

impl<'a> Scanner<'a> {
    fn new(text: &'a str, tokens: &'a [Token]) -> Scanner<'a> {
        Scanner {
            text,
            tokens,
            stack: Vec::new(),
            outline: Outline::default(),
            current: None,
            step: None,
            pending: None,
        }
    }

    fn word(&self, i: usize) -> Option<&'a str> {
        let t = self.tokens.get(i)?;
        (t.kind == Kind::Word).then(|| t.text(self.text))
    }

    fn punct(&self, i: usize, c: char) -> bool {
        self.tokens.get(i).is_some_and(|t| t.is_punct(c))
    }

    fn decl_mut(&mut self, at: At) -> Option<&mut Decl> {
        let top = self.outline.decls.get_mut(at.0)?;
        match at.1 {
            None => Some(top),
            Some(c) => top.children.get_mut(c),
        }
    }

    fn decl_ref(&self, at: At) -> Option<&Decl> {
        let top = self.outline.decls.get(at.0)?;
        match at.1 {
            None => Some(top),
            Some(c) => top.children.get(c),
        }
    }

    fn add_child(&mut self, parent: usize, kind: DeclKind, name: Token, start: usize) -> At {
        let d = Decl {
            kind,
            name: name.text(self.text).to_string(),
            name_span: name.span,
            span: Span::new(start, name.span.end),
            children: Vec::new(),
        };
        let children = &mut self.outline.decls[parent].children;
        children.push(d);
        (parent, Some(children.len() - 1))
    }

    fn run(&mut self) {
        let mut i = 0;
        while i < self.tokens.len() {
            i = self.token(i);
        }
    }

    /// Handles the token at `i`; returns the index of the next one to look at.
    fn token(&mut self, i: usize) -> usize {
        let t = self.tokens[i];
        if self.stack.is_empty() {
            if let Some(next) = self.item(i) {
                return next;
            }
            if let Some(c) = self.current {
                self.outline.decls[c].span.end = t.span.end;
            }
        }
        match t.kind {
            Kind::Punct(c @ ('(' | '[')) => {
                let owner = match self.pending {
                    Some(at)
                        if c == '('
                            && matches!(
                                self.decl_ref(at).map(|d| d.kind),
                                Some(DeclKind::Template(_))
                            ) =>
                    {
                        self.decl_ref(at).map(|d| d.name_span)
                    }
                    _ => None,
                };
                self.stack.push(Frame {
                    block: Block::Paren,
                    owner,
                    open: c,
                });
            }
            Kind::Punct('{') => {
                let (block, owner) = match self.pending.take() {
                    Some(at) => match self.decl_ref(at) {
                        Some(d) => (Block::of(d.kind), Some(d.name_span)),
                        None => (Block::Other, None),
                    },
                    None => match i.checked_sub(1).and_then(|p| self.word(p)) {
                        Some("json") => (Block::Json, None),
                        Some("mix") => (Block::Mix, None),
                        _ => (Block::Other, None),
                    },
                };
                self.stack.push(Frame {
                    block,
                    owner,
                    open: '{',
                });
            }
            Kind::Punct(c @ (')' | ']' | '}')) => {
                let want = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                if self.stack.last().is_some_and(|f| f.open == want) {
                    let frame = self.stack.pop();
                    if let Some(owner) = frame.and_then(|f| f.owner).filter(|_| c == '}') {
                        self.close(owner, t.span.end);
                    }
                }
            }
            Kind::Word => self.statement(i),
            _ => {}
        }
        self.grow_step(i);
        i + 1
    }

    /// A top-level item starting at `i`, if one does; returns where to continue.
    fn item(&mut self, i: usize) -> Option<usize> {
        let word = self.word(i)?;
        if !ITEM_KEYWORDS.contains(&word) {
            return None;
        }
        let start = self.tokens[i].span.start;
        match word {
            "import" => {
                let path = self.tokens.get(i + 1).filter(|t| t.kind == Kind::Str)?;
                self.current = None;
                self.pending = None;
                Some(self.import(i, *path, start))
            }
            "abort" => {
                (self.word(i + 1) == Some("when")).then_some(())?;
                self.current = None;
                self.pending = None;
                None
            }
            "template" => {
                let kind = match self.word(i + 1)? {
                    "fault" => "fault",
                    "traffic" => "traffic",
                    "slo" => "slo",
                    "remedy" => "remedy",
                    _ => return None,
                };
                let name = *self.tokens.get(i + 2).filter(|t| t.kind == Kind::Word)?;
                let at = self.push_top(DeclKind::Template(kind), name, start);
                self.pending = Some(at);
                Some(i + 3)
            }
            _ => {
                let kind = DeclKind::of_keyword(word)?;
                let name = *self.tokens.get(i + 1).filter(|t| t.kind == Kind::Word)?;
                let at = self.push_top(kind, name, start);
                self.pending = self.punct(i + 2, '{').then_some(at);
                Some(i + 2)
            }
        }
    }

    fn push_top(&mut self, kind: DeclKind, name: Token, start: usize) -> At {
        self.outline.decls.push(Decl {
            kind,
            name: name.text(self.text).to_string(),
            name_span: name.span,
            span: Span::new(start, name.span.end),
            children: Vec::new(),
        });
        let idx = self.outline.decls.len() - 1;
        self.current = Some(idx);
        self.step = None;
        (idx, None)
    }

    fn import(&mut self, i: usize, path: Token, start: usize) -> usize {
        let raw = path.text(self.text);
        let value = raw
            .trim_start_matches('"')
            .trim_end_matches('"')
            .to_string();
        let mut imp = Import {
            path: value,
            path_span: path.span,
            span: Span::new(start, path.span.end),
            names: Vec::new(),
        };
        let mut k = i + 2;
        if self.punct(k, '{') {
            k += 1;
            let mut closed = false;
            while let Some(name) = self.tokens.get(k).filter(|t| t.kind == Kind::Word) {
                let mut local = *name;
                k += 1;
                if self.word(k) == Some("as") {
                    if let Some(alias) = self.tokens.get(k + 1).filter(|t| t.kind == Kind::Word) {
                        local = *alias;
                        k += 2;
                    }
                }
                imp.names.push(ImportedName {
                    name: name.text(self.text).to_string(),
                    name_span: name.span,
                    local: local.text(self.text).to_string(),
                    local_span: local.span,
                });
                if self.punct(k, ',') {
                    k += 1;
                }
            }
            if self.punct(k, '}') {
                closed = true;
                imp.span.end = self.tokens[k].span.end;
                k += 1;
            }
            if !closed {
                // Keep braces balanced: the `}` that closes this list comes later, if at all.
                self.stack.push(Frame {
                    block: Block::Import,
                    owner: None,
                    open: '{',
                });
            }
        }
        self.outline.imports.push(imp);
        k
    }

    /// Statements inside blocks that declare something: services, sessions, steps, parameters.
    fn statement(&mut self, i: usize) {
        let Some(frame) = self.stack.last().copied() else {
            return;
        };
        let Some(owner) = frame.owner.and_then(|s| self.find(s)) else {
            return;
        };
        let word = self.word(i).unwrap_or("");
        let start = self.tokens[i].span.start;
        let name = self
            .tokens
            .get(i + 1)
            .filter(|t| t.kind == Kind::Word)
            .copied();
        match (frame.block, word, name) {
            (Block::System, "service", Some(name)) if owner.1.is_none() => {
                let at = self.add_child(owner.0, DeclKind::Service, name, start);
                self.pending = self.punct(i + 2, '{').then_some(at);
            }
            (Block::Traffic, "session", Some(name)) if owner.1.is_none() => {
                let at = self.add_child(owner.0, DeclKind::Session, name, start);
                self.pending = Some(at);
            }
            (Block::Scenario, "step", Some(name)) if self.punct(i + 2, '=') => {
                self.step = Some(self.add_child(owner.0, DeclKind::Step, name, start));
            }
            (Block::Scenario, w, _) if SCENARIO_STATEMENTS.contains(&w) => self.step = None,
            (Block::Paren, _, _) if self.punct(i + 1, ':') && self.stack.len() == 1 => {
                let param = self.tokens[i];
                self.add_child(owner.0, DeclKind::TemplateParam, param, start);
            }
            _ => {}
        }
    }

    fn grow_step(&mut self, i: usize) {
        let in_scenario = self.stack.len() == 1
            && self
                .stack
                .last()
                .is_some_and(|f| f.block == Block::Scenario);
        if !in_scenario {
            return;
        }
        let end = self.tokens[i].span.end;
        if let Some(at) = self.step {
            if let Some(d) = self.decl_mut(at) {
                d.span.end = d.span.end.max(end);
            }
        }
    }

    fn find(&self, name_span: Span) -> Option<At> {
        for (i, d) in self.outline.decls.iter().enumerate() {
            if d.name_span == name_span {
                return Some((i, None));
            }
            if let Some(c) = d.children.iter().position(|c| c.name_span == name_span) {
                return Some((i, Some(c)));
            }
        }
        None
    }

    fn close(&mut self, owner: Span, end: usize) {
        if let Some(at) = self.find(owner) {
            if let Some(d) = self.decl_mut(at) {
                d.span.end = end;
            }
            if at.1.is_none() && self.stack.is_empty() {
                self.current = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"
import "std/faults" { slow_dependency, blackhole as drop }
param margin = 1.3x
system shop {
  builtin demo_shop
  service catalog { route GET "/items/{items.id}" }
  service checkout { route POST "/checkout" body json { "a": 1 } }
}
traffic t { rate 10/s session buy weight 2 { visit shop.catalog } hold 1m }
template fault slow(on: service, latency: duration = 1s) { on on latency latency }
scenario s {
  step a = load t for 10s
  step b = inject drop after a
  expect p99(shop) < 1s
}
"#;

    #[test]
    fn scan_agrees_with_the_tree() {
        let parsed = crate::syntax::parse(TEXT, 0);
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        let exact = Outline::from_ast(&parsed.file);
        let scanned = Outline::scan(TEXT);
        assert_eq!(exact.imports, scanned.imports);
        let names = |o: &Outline| -> Vec<(String, Vec<String>)> {
            o.decls
                .iter()
                .map(|d| {
                    (
                        format!("{} {}", d.kind.word(), d.name),
                        d.children.iter().map(|c| c.name.clone()).collect(),
                    )
                })
                .collect()
        };
        assert_eq!(names(&exact), names(&scanned));
        for (a, b) in exact.decls.iter().zip(&scanned.decls) {
            assert_eq!(a.name_span, b.name_span);
            if a.kind != DeclKind::Param {
                assert_eq!(a.span, b.span, "{}", a.name);
            }
        }
    }

    #[test]
    fn context_names_the_open_blocks() {
        let at = TEXT.find("route POST").unwrap();
        let (frames, _, _) = context(TEXT, at);
        let blocks: Vec<Block> = frames.iter().map(|f| f.block).collect();
        assert_eq!(blocks, [Block::System, Block::Service]);
        let at = TEXT.find("\"a\"").unwrap();
        let (frames, _, _) = context(TEXT, at);
        assert_eq!(frames.last().map(|f| f.block), Some(Block::Json));
        let at = TEXT.find("visit").unwrap();
        let (frames, _, _) = context(TEXT, at);
        assert_eq!(frames.last().map(|f| f.block), Some(Block::Session));
    }

    #[test]
    fn scans_broken_text() {
        let o =
            Outline::scan("system shop {\n service a { route GET \"/\" }\n service b {\n traffic");
        assert_eq!(o.decls.len(), 1);
        assert_eq!(o.decls[0].children.len(), 2);
        for cut in 0..TEXT.len() {
            if TEXT.is_char_boundary(cut) {
                let _ = Outline::scan(&TEXT[..cut]);
                let _ = context(TEXT, cut);
            }
        }
    }
}
