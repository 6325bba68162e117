//! `res lsp`: the language server editors start to check, format and explain `.res` files
//! as they are typed.
//!
//! It speaks the Language Server Protocol over stdin/stdout (tower-lsp-server) and answers
//! from the same front end the CLI uses. Each question runs the checker once on the
//! document (`graph`): its one loader reads the imports with the open buffers as overlay,
//! the syntax layer recovers the items that parse around those that do not, and the
//! checker's name table (declarations with kinds and spans, references it resolved) gives
//! the outlines, hover, go-to-definition, document symbols and completion's names.
//! Diagnostics are `res check`'s (plus the planner's) from the same kind of run with the same
//! overlay, so squiggles and hover see the same files; formatting is `res fmt`'s. What the
//! CLI has no use for lives here: byte offsets as UTF-16 positions (`text`), and, for
//! completion only, a tokenizer of the text before the cursor (`lex`, `context`), because
//! the cursor is usually in the one item that does not parse. Nothing in it may panic on
//! any input: the syntax layer bounds size and nesting, every index here is checked, and
//! each request runs where a panic would only cost its answer.

mod completion;
mod context;
mod describe;
mod diagnostics;
mod formatting;
mod graph;
mod hover;
mod lex;
mod literals;
mod occurrence;
mod outline;
mod resolve;
mod server;
mod stdlib;
mod symbols;
mod text;
mod words;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tower_lsp_server::{LspService, Server};

/// Serves one client over stdio until it sends `exit` or closes stdin. Exit code 0 after a
/// `shutdown` request, 1 otherwise (as the protocol asks), 4 when the runtime cannot start.
pub fn run() -> ExitCode {
    let runtime = match crate::runtime::multi_thread(None) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return crate::exit::Exit::Tool.into();
        }
    };
    let shutdown = Arc::new(AtomicBool::new(false));
    let flag = shutdown.clone();
    runtime.block_on(async move {
        let (service, socket) = LspService::new(move |client| server::Backend::new(client, flag));
        Server::new(tokio::io::stdin(), tokio::io::stdout(), socket)
            .serve(service)
            .await;
    });
    // Stdin is read on a blocking thread that may still wait for input; do not wait for it.
    runtime.shutdown_background();
    if shutdown.load(Ordering::SeqCst) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[cfg(test)]
mod tests {
    //! Every question, at every offset, of real files and of those files cut short anywhere
    //! (as they are while being typed): answers may be empty, but nothing may panic.

    use std::sync::Arc;

    use super::graph::{Graph, Overlay};
    use super::{completion, formatting, hover, resolve};

    fn sweep(name: &str, text: &str, step: usize) {
        let g = Graph::load(name, Arc::from(text), &Overlay::new());
        let mut offset = 0;
        while offset <= text.len() + 1 {
            let _ = hover::hover(&g, offset, None);
            let _ = resolve::resolve(&g, offset);
            let _ = completion::complete(&g, offset);
            offset += step;
        }
        let _ = formatting::format(text);
    }

    #[test]
    fn no_panic_anywhere() {
        let root = env!("CARGO_MANIFEST_DIR");
        let mut files = Vec::new();
        for dir in ["scenarios", "stdlib"] {
            let Ok(entries) = std::fs::read_dir(format!("{root}/{dir}")) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "res") {
                    files.push(p);
                }
            }
        }
        assert!(!files.is_empty());
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.to_string_lossy().to_string();
            sweep(&name, &text, 1);
            // Cut short at a few places, and with a stray brace and quote.
            for k in 1..4 {
                let mut cut = text.len() * k / 4;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                sweep(&name, &text[..cut], 5);
            }
            sweep(&name, &text.replacen('{', "{ \"é😀 {", 3), 3);
            sweep(&name, &text.replace('\n', "\r\n"), 7);
        }
    }
}
