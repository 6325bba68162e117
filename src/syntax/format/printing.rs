//! Printing: nodes written out with their comments, blank lines and indentation.

use super::*;

impl<'a> Formatter<'a> {
    pub(super) fn print_file(&mut self, items: &[Item], nodes: &[Node]) {
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
    pub(super) fn take_before(&mut self, pos: usize) -> Vec<Comment> {
        let start = self.next;
        while self.next < self.comments.len() && self.comments[self.next].span.start < pos {
            self.next += 1;
        }
        self.comments[start..self.next].to_vec()
    }

    /// Comments that follow `pos` on the same line, each after the previous one.
    pub(super) fn take_same_line(&mut self, mut pos: usize) -> Vec<Comment> {
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
    pub(super) fn blank_before(&mut self, rule: Blank, start: usize) {
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
    pub(super) fn own_line_comments(
        &mut self,
        comments: &[Comment],
        indent: usize,
        mut rule: Blank,
    ) {
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

    pub(super) fn push_line(&mut self, indent: usize, text: &str) {
        if !text.is_empty() {
            self.out.push_str(&INDENT.repeat(indent));
            self.out.push_str(text);
        }
        self.out.push('\n');
    }

    /// Splits the comments that end a line into those printed above it (all line comments
    /// but the last) and the text appended to it (block comments, then the last line comment).
    pub(super) fn end_of_line(&self, comments: &[Comment]) -> (Vec<Comment>, String) {
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

    pub(super) fn node(&mut self, node: &Node, indent: usize, rule: Blank) {
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
    pub(super) fn one_line(
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
