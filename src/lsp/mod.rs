//! `res lsp`: the language server editors start to check, format and explain `.res` files
//! as they are typed.
//!
//! It speaks the Language Server Protocol over stdin/stdout (tower-lsp-server) and answers
//! from the same library the CLI uses: diagnostics are `res check`'s (plus the planner's),
//! formatting is `res fmt`'s. What the CLI has no use for lives here: byte offsets as UTF-16
//! positions ([`text`]), a tokenizer and outline that work on text that does not parse
//! ([`lex`], [`outline`]), and name lookup across imports ([`graph`], [`resolve`]) for
//! hover, go-to-definition and completion. Nothing in it may panic on any input: the syntax
//! layer bounds size and nesting, every index here is checked, and each request runs where
//! a panic would only cost its answer.

mod completion;
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
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(4);
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
