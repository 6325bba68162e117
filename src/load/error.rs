//! Why a run could not start. Failures of single requests are not errors of the run: they
//! are counted by [`ErrorKind`](super::ErrorKind).

use super::feeder::FeederError;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// `start` was called outside a tokio runtime.
    #[error("the load generator needs a tokio runtime")]
    NoRuntime,
    /// The base URL cannot be used.
    #[error("bad target URL `{url}`: {reason}")]
    BadUrl { url: String, reason: String },
    /// The TLS configuration could not be built.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// A request of the mix is malformed: its method, a header, a template.
    #[error("request {index} ({method} {path}): {reason}")]
    BadRequest {
        index: usize,
        method: String,
        path: String,
        reason: String,
    },
    /// A feeder file could not be loaded.
    #[error("data `{name}`: {source}")]
    Feeder { name: String, source: FeederError },
    /// The spec is inconsistent: no requests, a zero timeout, a session visiting nothing.
    #[error("{0}")]
    Invalid(String),
}
