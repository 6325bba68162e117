//! The one place a tokio runtime is built. Commands (`res run`, `res load`, `res demo serve`,
//! `res lsp`, the chaos helpers) and the load engine's event-loop threads all start theirs
//! here, so every runtime has the same drivers (IO and time) enabled and fails the same way.

use tokio::runtime::{Builder, Runtime};

/// The runtime could not start (out of threads or file descriptors).
#[derive(Debug, thiserror::Error)]
#[error("cannot start the async runtime: {0}")]
pub struct RuntimeError(#[from] std::io::Error);

/// A multi-threaded runtime; `workers` threads, or one per CPU when `None`.
pub fn multi_thread(workers: Option<usize>) -> Result<Runtime, RuntimeError> {
    let mut builder = Builder::new_multi_thread();
    if let Some(n) = workers {
        builder.worker_threads(n.max(1));
    }
    Ok(builder.enable_all().build()?)
}

/// A runtime on the calling thread only: for work that mostly waits (timers, signals, a
/// progress line) or that is spread over threads by hand.
pub fn current_thread() -> Result<Runtime, RuntimeError> {
    Ok(Builder::new_current_thread().enable_all().build()?)
}
