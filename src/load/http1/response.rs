//! The response side of the load generator's own HTTP/1.1 client: a state machine that is
//! fed whatever bytes have arrived and says how many it used and whether the response is
//! complete.
//!
//! It never copies a body: body bytes are counted against the limit and consumed where they
//! lie in the connection's read buffer. Heads are parsed by `httparse`; the framing is
//! decided here (RFC 9112 §6.3): no body for HEAD, 1xx, 204 and 304; chunked when the last
//! transfer coding is `chunked`; then `Content-Length`; else the body runs until the server
//! closes. 1xx interim responses (other than 101) are skipped. Keeping the connection open
//! follows the version and the `Connection` header.

use crate::load::error_kind::ErrorKind;

/// The most bytes a response head (or a chunk-size or trailer line) may take.
pub(crate) const MAX_HEAD: usize = 64 * 1024;
/// The most header fields in a head, as hyper allows.
const MAX_HEADERS: usize = 100;

/// Why a response could not be read; each maps to the error kind a report counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParseError {
    /// The server closed the connection before the response was complete.
    Incomplete,
    /// Not HTTP/1.x as specified: bad status line, header, chunk size or framing.
    Malformed,
    /// A head, chunk-size or trailer line longer than [`MAX_HEAD`].
    TooLarge,
    /// The body is larger than the request's body limit.
    BodyTooLarge,
}

impl ParseError {
    pub fn kind(self) -> ErrorKind {
        match self {
            ParseError::Incomplete => ErrorKind::Reset,
            ParseError::Malformed | ParseError::TooLarge => ErrorKind::Other,
            ParseError::BodyTooLarge => ErrorKind::BodyTooLarge,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Head,
    Length(u64),
    ChunkSize,
    ChunkData(u64),
    ChunkEnd,
    Trailers,
    UntilClose,
    Done,
}

/// What one call to [`ResponseParser::advance`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Progress {
    /// Bytes of the input used; the caller drops them from its buffer.
    pub consumed: usize,
    /// True once the whole response has been read.
    pub done: bool,
}

/// One response being read.
#[derive(Debug)]
pub(crate) struct ResponseParser {
    state: State,
    head_request: bool,
    limit: u64,
    body: u64,
    /// The final (non-1xx) status, once its head is read.
    pub status: u16,
    /// Whether the connection may carry another request after this response.
    pub keep_alive: bool,
}

impl ResponseParser {
    /// A parser for the response to a request; `head_request` for `HEAD`, whose response
    /// has no body whatever its headers say.
    pub fn new(head_request: bool, limit: u64) -> ResponseParser {
        ResponseParser {
            state: State::Head,
            head_request,
            limit,
            body: 0,
            status: 0,
            keep_alive: true,
        }
    }

    /// Reads as much of the response from `buf` as it can. `eof` says that the server has
    /// closed its side and `buf` is all there will be.
    pub fn advance(&mut self, buf: &[u8], eof: bool) -> Result<Progress, ParseError> {
        let mut at = 0;
        loop {
            let rest = &buf[at..];
            let used = match self.state {
                State::Done => {
                    return Ok(Progress {
                        consumed: at,
                        done: true,
                    })
                }
                State::Head => self.head(rest)?,
                State::Length(left) => {
                    let n = left.min(rest.len() as u64);
                    self.state = match left - n {
                        0 => State::Done,
                        left => State::Length(left),
                    };
                    n as usize
                }
                State::ChunkSize => self.chunk_size(rest)?,
                State::ChunkData(left) => {
                    let n = left.min(rest.len() as u64);
                    if left == n {
                        self.state = State::ChunkEnd;
                    } else {
                        self.state = State::ChunkData(left - n);
                    }
                    n as usize
                }
                State::ChunkEnd => match rest {
                    [b'\r', b'\n', ..] => {
                        self.state = State::ChunkSize;
                        2
                    }
                    [] | [b'\r'] => 0,
                    _ => return Err(ParseError::Malformed),
                },
                State::Trailers => self.trailer_line(rest)?,
                State::UntilClose => {
                    self.count(rest.len() as u64)?;
                    if eof {
                        self.state = State::Done;
                    }
                    rest.len()
                }
            };
            at += used;
            if used == 0 && self.state != State::Done {
                if eof {
                    return Err(ParseError::Incomplete);
                }
                return Ok(Progress {
                    consumed: at,
                    done: false,
                });
            }
        }
    }

    fn count(&mut self, n: u64) -> Result<(), ParseError> {
        self.body += n;
        if self.body > self.limit {
            return Err(ParseError::BodyTooLarge);
        }
        Ok(())
    }

    /// Parses a head if `buf` holds a whole one; returns the bytes it took (0: need more).
    fn head(&mut self, buf: &[u8]) -> Result<usize, ParseError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut headers);
        let n = match resp.parse(buf) {
            Ok(httparse::Status::Complete(n)) if n > MAX_HEAD => return Err(ParseError::TooLarge),
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => {
                return Err(ParseError::TooLarge)
            }
            Ok(httparse::Status::Partial) => return Ok(0),
            Err(httparse::Error::TooManyHeaders) => return Err(ParseError::TooLarge),
            Err(_) => return Err(ParseError::Malformed),
        };
        let status = resp.code.ok_or(ParseError::Malformed)?;
        if (100..200).contains(&status) {
            // 101 would switch protocols, which a load request never asks for.
            if status == 101 {
                return Err(ParseError::Malformed);
            }
            return Ok(n);
        }
        self.status = status;
        let mut keep_alive = resp.version == Some(1);
        let mut length: Option<u64> = None;
        let mut chunked = false;
        let mut coded = false;
        for h in resp.headers.iter() {
            if h.name.eq_ignore_ascii_case("content-length") {
                let v = std::str::from_utf8(h.value)
                    .ok()
                    .map(str::trim)
                    .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|v| v.parse::<u64>().ok())
                    .ok_or(ParseError::Malformed)?;
                if length.is_some_and(|l| l != v) {
                    return Err(ParseError::Malformed);
                }
                length = Some(v);
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                coded = true;
                let last = h.value.rsplit(|b| *b == b',').next().unwrap_or_default();
                chunked = last.trim_ascii().eq_ignore_ascii_case(b"chunked");
            } else if h.name.eq_ignore_ascii_case("connection") {
                for token in h.value.split(|b| *b == b',') {
                    let token = token.trim_ascii();
                    if token.eq_ignore_ascii_case(b"close") {
                        keep_alive = false;
                    } else if token.eq_ignore_ascii_case(b"keep-alive") && resp.version == Some(0) {
                        keep_alive = true;
                    }
                }
            }
        }
        self.keep_alive = keep_alive;
        self.state = if self.head_request || status == 204 || status == 304 {
            State::Done
        } else if chunked {
            State::ChunkSize
        } else if coded {
            // A transfer coding other than chunked last: the body ends with the connection.
            self.keep_alive = false;
            State::UntilClose
        } else if let Some(len) = length {
            if len > self.limit {
                return Err(ParseError::BodyTooLarge);
            }
            self.body = len;
            if len == 0 {
                State::Done
            } else {
                State::Length(len)
            }
        } else {
            self.keep_alive = false;
            State::UntilClose
        };
        Ok(n)
    }

    fn chunk_size(&mut self, buf: &[u8]) -> Result<usize, ParseError> {
        match httparse::parse_chunk_size(buf) {
            Ok(httparse::Status::Complete((n, 0))) => {
                self.state = State::Trailers;
                Ok(n)
            }
            Ok(httparse::Status::Complete((n, size))) => {
                self.count(size)?;
                self.state = State::ChunkData(size);
                Ok(n)
            }
            Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => Err(ParseError::TooLarge),
            Ok(httparse::Status::Partial) => Ok(0),
            Err(_) => Err(ParseError::Malformed),
        }
    }

    /// One trailer line; the empty line ends the response.
    fn trailer_line(&mut self, buf: &[u8]) -> Result<usize, ParseError> {
        match buf.windows(2).position(|w| w == b"\r\n") {
            Some(0) => {
                self.state = State::Done;
                Ok(2)
            }
            Some(i) => Ok(i + 2),
            None if buf.len() > MAX_HEAD => Err(ParseError::TooLarge),
            None => Ok(0),
        }
    }
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;
