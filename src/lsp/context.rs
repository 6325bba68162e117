//! The blocks open at the cursor, read from tokens: what completion needs to offer the
//! statements that fit there.
//!
//! Why a tokenizer ([`super::lex`]) still: the cursor is almost always in the item being
//! typed, which is the one item that does not parse, so the syntax tree and the checker's
//! name table know nothing about it. Everything else (declarations, imports, references,
//! diagnostics) comes from the checker; this reads only the text before the cursor, and
//! the declarations it meets there (a half-typed scenario's steps, a template's
//! parameters) serve only to say which block is open and what it declares so far.

use crate::diagnostic::Span;

use super::lex::{self, Kind, Token};
use super::outline::{Decl, DeclKind, Import, ImportedName, Outline};

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

/// What is open at the cursor: the blocks, outermost first, the tokens before it, whether
/// it is inside a string or comment, and the declarations met before it.
pub struct Context {
    pub frames: Vec<Frame>,
    pub tokens: Vec<Token>,
    pub inside: lex::Inside,
    pub outline: Outline,
}

impl Context {
    /// The declaration owning a frame, as far as the text before the cursor declares it.
    pub fn owner(&self, frame: &Frame) -> Option<&Decl> {
        let span = frame.owner?;
        self.outline.decls.iter().find_map(|d| {
            if d.name_span == span {
                return Some(d);
            }
            d.children.iter().find(|c| c.name_span == span)
        })
    }
}

/// The blocks open at `offset`, outermost first, and the tokens before it.
pub fn context(text: &str, offset: usize) -> Context {
    let (tokens, inside) = lex::tokens_until(text, offset);
    // Only tokens that end before the cursor: the word being typed is not context.
    let before: Vec<Token> = tokens
        .into_iter()
        .filter(|t| t.span.end <= offset)
        .collect();
    let mut s = Scanner::new(text, &before);
    s.run();
    let (frames, outline) = (s.stack, s.outline);
    Context {
        frames,
        tokens: before,
        inside,
        outline,
    }
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
    /// The declaration whose block the next `{` (or template `(`) opens.
    pending: Option<At>,
}

const ITEM_KEYWORDS: &[&str] = &[
    "import", "param", "data", "system", "traffic", "fault", "window", "event", "slo", "abort",
    "remedy", "scenario", "template",
];

impl<'a> Scanner<'a> {
    fn new(text: &'a str, tokens: &'a [Token]) -> Scanner<'a> {
        Scanner {
            text,
            tokens,
            stack: Vec::new(),
            outline: Outline::default(),
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
                    self.stack.pop();
                }
            }
            Kind::Word => self.statement(i),
            _ => {}
        }
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
                self.pending = None;
                Some(self.import(i, *path, start))
            }
            "abort" => {
                (self.word(i + 1) == Some("when")).then_some(())?;
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
                let kind = of_keyword(word)?;
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
        (self.outline.decls.len() - 1, None)
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
                self.add_child(owner.0, DeclKind::Step, name, start);
            }
            (Block::Paren, _, _) if self.punct(i + 1, ':') && self.stack.len() == 1 => {
                let param = self.tokens[i];
                self.add_child(owner.0, DeclKind::TemplateParam, param, start);
            }
            _ => {}
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
    fn context_names_the_open_blocks() {
        let at = TEXT.find("route POST").unwrap();
        let frames = context(TEXT, at).frames;
        let blocks: Vec<Block> = frames.iter().map(|f| f.block).collect();
        assert_eq!(blocks, [Block::System, Block::Service]);
        let at = TEXT.find("\"a\"").unwrap();
        let frames = context(TEXT, at).frames;
        assert_eq!(frames.last().map(|f| f.block), Some(Block::Json));
        let at = TEXT.find("visit").unwrap();
        let frames = context(TEXT, at).frames;
        assert_eq!(frames.last().map(|f| f.block), Some(Block::Session));
    }

    #[test]
    fn reads_broken_text() {
        let text = "system shop {\n service a { route GET \"/\" }\n service b {\n ";
        let c = context(text, text.len());
        let owner = c
            .frames
            .last()
            .and_then(|f| c.owner(f))
            .map(|d| d.name.as_str());
        assert_eq!(owner, Some("b"));
        assert_eq!(c.outline.decls[0].children.len(), 2);
        for cut in 0..TEXT.len() {
            if TEXT.is_char_boundary(cut) {
                let _ = context(TEXT, cut);
            }
        }
    }
}
