//! Why a request failed, in the few words a report needs.
//!
//! Every failed request lands in exactly one [`ErrorKind`]; the classification reads the
//! error chains of tokio, hyper and rustls so that "connection refused" and "the target reset
//! the connection mid-response" stay distinguishable in the per-second series.

use serde::Serialize;

/// The kind of a failed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A response arrived with a status the request does not expect.
    Status,
    /// No complete response within the request timeout (connecting included).
    Timeout,
    /// The target refused the TCP connection.
    Refused,
    /// The connection was reset or closed before the response was complete.
    Reset,
    /// The host name did not resolve.
    Dns,
    /// The TLS handshake failed (certificate, protocol, a plain-text server).
    Tls,
    /// The response body exceeded the body limit; the rest was not read.
    BodyTooLarge,
    /// Anything else: malformed responses, protocol errors.
    Other,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 8] = [
        ErrorKind::Status,
        ErrorKind::Timeout,
        ErrorKind::Refused,
        ErrorKind::Reset,
        ErrorKind::Dns,
        ErrorKind::Tls,
        ErrorKind::BodyTooLarge,
        ErrorKind::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Status => "status",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Refused => "refused",
            ErrorKind::Reset => "reset",
            ErrorKind::Dns => "dns",
            ErrorKind::Tls => "tls",
            ErrorKind::BodyTooLarge => "body_too_large",
            ErrorKind::Other => "other",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// Classifies an I/O error from connecting, the TLS handshake or the exchange.
    pub fn from_io(e: &std::io::Error) -> ErrorKind {
        use std::io::ErrorKind as K;
        if let Some(inner) = e.get_ref() {
            if inner.downcast_ref::<rustls::Error>().is_some() {
                return ErrorKind::Tls;
            }
        }
        match e.kind() {
            K::ConnectionRefused => ErrorKind::Refused,
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
                ErrorKind::Reset
            }
            K::TimedOut => ErrorKind::Timeout,
            _ => ErrorKind::Other,
        }
    }

    /// Classifies a hyper error by its flags, then by the first I/O error in its chain.
    pub fn from_hyper(e: &hyper::Error) -> ErrorKind {
        if e.is_timeout() {
            return ErrorKind::Timeout;
        }
        let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
        while let Some(s) = source {
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                return ErrorKind::from_io(io);
            }
            source = s.source();
        }
        if e.is_incomplete_message() || e.is_canceled() || e.is_closed() {
            return ErrorKind::Reset;
        }
        // h2 is not a direct dependency, so its stream resets and GOAWAYs are recognised by
        // their rendering rather than by type.
        let text = format!("{e:?}");
        if text.contains("Reset") || text.contains("GoAway") || text.contains("BrokenPipe") {
            return ErrorKind::Reset;
        }
        ErrorKind::Other
    }
}

/// Failed requests counted by kind; serialised with every kind present, so the JSON shape is
/// stable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorCounts([u64; 8]);

impl ErrorCounts {
    pub fn add(&mut self, kind: ErrorKind) {
        self.0[kind.index()] += 1;
    }

    pub fn merge(&mut self, other: &ErrorCounts) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a += b;
        }
    }

    pub fn get(&self, kind: ErrorKind) -> u64 {
        self.0[kind.index()]
    }

    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// The kinds with a non-zero count, in declaration order.
    pub fn nonzero(&self) -> impl Iterator<Item = (ErrorKind, u64)> + '_ {
        ErrorKind::ALL
            .iter()
            .map(|k| (*k, self.get(*k)))
            .filter(|(_, n)| *n > 0)
    }
}

impl Serialize for ErrorCounts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(ErrorKind::ALL.len()))?;
        for kind in ErrorKind::ALL {
            map.serialize_entry(kind.name(), &self.get(kind))?;
        }
        map.end()
    }
}
