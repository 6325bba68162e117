//! The checker's name table, for tools such as the language server: every declaration of the
//! root file and its imports (top-level items and what they declare inside: services,
//! sessions, steps, template parameters) with the span of its name, and every use of a name
//! the checker resolved, pointing at its declaration. Declarations come from the same syntax
//! trees the checker checks (items recovered around ones that do not parse included), and
//! references are what the checker itself decided, so a tool reading it agrees with the
//! diagnostics by construction. [`crate::check::Checked`] carries it with the modules.

mod declare;

pub(super) use declare::declarations;

use crate::diagnostic::{FileId, Span};

/// What a declaration declares.
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
}

/// The declarations and resolved references of one check.
#[derive(Debug, Clone, Default)]
pub struct NameTable {
    pub decls: Vec<NameDecl>,
    pub refs: Vec<NameRef>,
}

/// One declaration: `traffic everyday { … }` declares `everyday`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameDecl {
    pub name: String,
    pub kind: DeclKind,
    pub file: FileId,
    /// The name where it is declared.
    pub span: Span,
    /// The whole declaration, from its keyword to its end.
    pub extent: Span,
    /// The declaration it is inside (a service's system, a step's scenario), by index.
    pub parent: Option<usize>,
    /// Whether the checker saw anything refer to it (top-level declarations only).
    pub used: bool,
}

/// One use of a name, resolved: an import's listed name, a step's traffic, an expression's
/// service. `decl` indexes [`NameTable::decls`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameRef {
    pub file: FileId,
    pub span: Span,
    pub decl: usize,
}

impl NameTable {
    /// The declaration named at `offset` of `file`: by its declaration or by a reference.
    pub fn at(&self, file: FileId, offset: usize) -> Option<(usize, &NameDecl)> {
        let within = |s: Span| s.start <= offset && offset <= s.end;
        let i = self
            .decls
            .iter()
            .position(|d| d.file == file && within(d.span))
            .or_else(|| self.reference_at(file, offset).map(|r| r.decl))?;
        self.decls.get(i).map(|d| (i, d))
    }

    /// The resolved use of a name at `offset` of `file`, if the checker resolved one there.
    pub fn reference_at(&self, file: FileId, offset: usize) -> Option<&NameRef> {
        self.refs
            .iter()
            .find(|r| r.file == file && r.span.start <= offset && offset <= r.span.end)
    }

    /// Every resolved use of declaration `decl`, in the order the checker met them.
    pub fn references(&self, decl: usize) -> impl Iterator<Item = &NameRef> + '_ {
        self.refs.iter().filter(move |r| r.decl == decl)
    }

    /// The top-level declarations written in `file`, in source order.
    pub fn declared_in(&self, file: FileId) -> Vec<&NameDecl> {
        let mut v: Vec<&NameDecl> = self
            .decls
            .iter()
            .filter(|d| d.file == file && d.parent.is_none())
            .collect();
        v.sort_by_key(|d| d.span.start);
        v
    }

    /// The declarations inside declaration `parent`, in source order.
    pub fn children(&self, parent: usize) -> impl Iterator<Item = (usize, &NameDecl)> + '_ {
        self.decls
            .iter()
            .enumerate()
            .filter(move |(_, d)| d.parent == Some(parent))
    }

    /// Adds the checker's top-level declarations (file, name span, used) and references
    /// (indexing that list) to a table of declarations read from the syntax trees.
    pub(super) fn resolve(&mut self, checked: &[(FileId, Span, bool)], refs: &[NameRef]) {
        let tops: std::collections::HashMap<(FileId, Span), usize> = self
            .decls
            .iter()
            .enumerate()
            .filter(|(_, d)| d.parent.is_none())
            .map(|(i, d)| ((d.file, d.span), i))
            .collect();
        let index: Vec<Option<usize>> = checked
            .iter()
            .map(|&(file, span, used)| {
                let i = *tops.get(&(file, span))?;
                self.decls[i].used |= used;
                Some(i)
            })
            .collect();
        self.refs = refs
            .iter()
            .filter_map(|r| {
                Some(NameRef {
                    decl: (*index.get(r.decl)?)?,
                    ..*r
                })
            })
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use crate::check::{check_source, Options};
    use crate::diagnostic::Code;

    const BROKEN: &str = "system shop {\n  builtin demo_shop\n  service pay { route GET \"/\" }\n}\n\ntraffic broken {\n  rate 5/s oops\n}\n\ntraffic daily { rate 5/q hold 1m }\n\nscenario s {\n  step one = load daily\n  step two = load broken after one\n}\n";

    #[test]
    fn a_broken_item_leaves_the_others_checked_and_named() {
        let c = check_source("x.res", BROKEN, &Options::default());
        let codes: Vec<Code> = c.diagnostics.iter().map(|d| d.code).collect();
        // The syntax error first, then the good items' own problem (`5/q`), and nothing
        // about `broken` being unknown or anything being unused.
        assert_eq!(codes.first(), Some(&Code::Expected), "{:?}", c.diagnostics);
        assert!(codes.contains(&Code::UnknownName), "{:?}", c.diagnostics);
        assert!(
            c.diagnostics
                .iter()
                .all(|d| !d.message.contains("`broken`") && d.code != Code::Unused),
            "{:?}",
            c.diagnostics
        );
        let t = &c.names;
        let tops: Vec<&str> = t
            .declared_in(c.root)
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        assert_eq!(tops, ["shop", "daily", "s"]);
        // `load daily` in the scenario resolves to the traffic.
        let at = BROKEN.find("load daily").unwrap() + "load ".len();
        let (_, d) = t.at(c.root, at).expect("daily is resolved");
        assert_eq!(
            (d.name.as_str(), d.kind.word().as_str()),
            ("daily", "traffic")
        );
        // Children carry their parent.
        let pay = t.decls.iter().find(|d| d.name == "pay").unwrap();
        assert_eq!(pay.parent.map(|p| t.decls[p].name.as_str()), Some("shop"));
        let steps: Vec<&str> = t
            .decls
            .iter()
            .filter(|d| d.kind == super::DeclKind::Step)
            .map(|d| d.name.as_str())
            .collect();
        assert_eq!(steps, ["one", "two"]);
    }

    #[test]
    fn the_parse_error_stays_first_when_an_earlier_item_has_a_problem() {
        // `5/q` (before the broken item) sorts before the syntax error by place, but the
        // syntax error is what `res check` always reported first.
        let text = BROKEN
            .replace("traffic daily { rate 5/q hold 1m }\n\n", "")
            .replace(
                "system shop {",
                "traffic daily { rate 5/q hold 1m }\n\nsystem shop {",
            );
        let c = check_source("x.res", &text, &Options::default());
        assert_eq!(c.diagnostics[0].code, Code::Expected, "{:?}", c.diagnostics);
        let at = c.diagnostics[0].span.start;
        assert_eq!(&text[at..at + 4], "oops");
        assert!(c.diagnostics[1..]
            .iter()
            .any(|d| d.code == Code::UnknownName));
    }

    #[test]
    fn a_file_that_parses_reports_what_it_did() {
        let fixed = BROKEN.replace(" oops", "").replace("5/q", "5/s");
        let c = check_source("x.res", &fixed, &Options::default());
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
        assert!(c.model.is_some());
        assert_eq!(c.modules.len(), 1);
    }
}
