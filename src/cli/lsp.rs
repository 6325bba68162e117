//! `res lsp`: hands stdin and stdout to the language server ([`crate::lsp`]).

use std::process::ExitCode;

pub fn run() -> ExitCode {
    crate::lsp::run()
}
