//! One parsed log line, borrowed from the line buffer, and why a line could not be parsed.

/// The fields the learner uses from one request. Slices point into the line being read.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// When the request was logged: microseconds since the epoch, UTC.
    pub time_us: i64,
    /// Whether the timestamp had sub-second precision (needed to fit inter-arrival gaps).
    pub subsecond: bool,
    pub client: &'a [u8],
    pub method: &'a [u8],
    /// The request target as logged: a path (maybe with a query) or an absolute URL.
    pub target: &'a [u8],
    pub status: u16,
    pub response_bytes: Option<u64>,
    pub request_bytes: Option<u64>,
    pub user_agent: &'a [u8],
    /// Time to serve the request, when the log records it (`%D`, `$request_time`, ALB).
    pub service_us: Option<u64>,
}

/// Why a line was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineError {
    /// The line does not have the shape of the format; the text says which part is wrong.
    Malformed(&'static str),
    /// The line has the shape of the format but no usable time.
    NoTimestamp,
}

impl LineError {
    pub fn reason(self) -> &'static str {
        match self {
            LineError::Malformed(why) => why,
            LineError::NoTimestamp => "no timestamp",
        }
    }
}

/// Parses a status code field (`200`).
pub fn parse_status(s: &[u8]) -> Option<u16> {
    if s.len() != 3 {
        return None;
    }
    let v = super::scan::digits(s, 3)? as u16;
    (100..=599).contains(&v).then_some(v)
}
