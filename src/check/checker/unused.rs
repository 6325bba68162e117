//! Unused warnings: declarations and imports nothing refers to.

use super::*;

impl<'a> Checker<'a> {
    pub(super) fn unused(&mut self) {
        let Some(root) = self.modules.first() else {
            return;
        };
        if root.broken {
            // The items that do not parse may be the ones using the others: an "unused"
            // warning would be a guess.
            return;
        }
        let file = root.file;
        let mut warnings = Vec::new();
        // A name some error already suggested ("did you mean `checkout`?") is not unused:
        // it is misspelt somewhere, and that error says so.
        let suggested: std::collections::HashSet<String> = self
            .diags
            .iter()
            .filter_map(|d| d.help.as_deref())
            .filter_map(|h| h.strip_prefix("did you mean `"))
            .filter_map(|h| h.split('`').next())
            .map(str::to_string)
            .collect();
        for b in self.ns[0].values().map(|&b| &self.bindings[b]) {
            let d = &self.decls[b.decl];
            if b.used || d.kind == DeclKind::Scenario || suggested.contains(&d.name) {
                continue;
            }
            if b.import {
                warnings.push(
                    Diagnostic::warning(
                        Code::Unused,
                        file,
                        b.span,
                        format!("`{}` is imported but never used", d.name),
                    )
                    .with_label("unused import")
                    .with_help("remove it from the import list"),
                );
            } else if d.module == 0 {
                // A system or traffic can be the point of a file that other files import;
                // only warn when the root file has scenarios that could use them.
                warnings.push(
                    Diagnostic::warning(
                        Code::Unused,
                        file,
                        b.span,
                        format!(
                            "{} `{}` is declared but never used",
                            &d.kind.noun()[d.kind.noun().find(' ').unwrap_or(0) + 1..],
                            d.name
                        ),
                    )
                    .with_label("never used")
                    .with_help("use it in a scenario, or remove it"),
                );
            }
        }
        let root_has_scenario = self
            .decls
            .iter()
            .any(|d| d.module == 0 && d.kind == DeclKind::Scenario);
        if root_has_scenario {
            self.diags.extend(warnings);
        }
    }
}
