//! Request and response heads on the HTTP/1.1 forwarding path: parsed in place with
//! `httparse`, judged (faults, framing, keep-alive) and written out again for the next hop
//! without the headers that describe only one hop (RFC 9110 §7.6.1).
//!
//! Requests this path does not take — HTTP/1.0, `CONNECT`, `Upgrade`, `Expect`, a target
//! other than a path or an absolute URL, framing that is ambiguous — go to hyper's server
//! ([`Request::Handoff`]), which answers them as the proxy always did.

use super::frame::Body;
use crate::chaos::proxy::matcher::RequestView;
use crate::chaos::proxy::plan::RequestPlan;
use crate::chaos::proxy::table::FaultSet;

/// The most header fields in a head, as hyper allows.
const MAX_HEADERS: usize = 100;
/// The longest request head (hyper's buffer limit on the listen side).
pub const MAX_REQUEST_HEAD: usize = 32 * 1024;
/// The longest response head.
pub const MAX_RESPONSE_HEAD: usize = 64 * 1024;

/// Headers that describe one hop, never forwarded as they are (both HTTP paths).
pub(in crate::chaos::proxy) const HOP: [&str; 7] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// A request head that was read.
#[derive(Debug)]
pub struct Parsed {
    /// Bytes of the head in the input.
    pub len: usize,
    pub body: Body,
    /// The client said `Connection: close`.
    pub close: bool,
    pub head: bool,
    /// The method is idempotent (RFC 9110 §9.2.2): sending it again is harmless.
    pub idempotent: bool,
    /// No `Host` header: the caller adds one for the server it picks.
    pub needs_host: bool,
    pub plan: Option<RequestPlan>,
}

pub enum Request {
    /// More bytes are needed.
    Partial,
    Parsed(Parsed),
    /// For hyper's server.
    Handoff,
    /// Answer with this status and close (400 malformed, 431 too large).
    Refuse(u16),
}

struct View<'a, 'b> {
    method: &'b str,
    path: &'b str,
    headers: &'a [httparse::Header<'b>],
}

impl RequestView for View<'_, '_> {
    fn method(&self) -> &str {
        self.method
    }

    fn path(&self) -> &str {
        self.path
    }

    fn has_header(&self, name: &str, value: Option<&[u8]>) -> bool {
        self.headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case(name) && value.is_none_or(|v| h.value == v))
    }
}

/// Reads a request head from `buf`, decides what `set`'s faults do to it and writes the head
/// for the upstream into `out` — all of it but the final empty line (and `Host` when
/// [`Parsed::needs_host`]).
pub fn request(buf: &[u8], set: Option<&FaultSet>, out: &mut Vec<u8>) -> Request {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) if n > MAX_REQUEST_HEAD => return Request::Refuse(431),
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() > MAX_REQUEST_HEAD => {
            return Request::Refuse(431)
        }
        Ok(httparse::Status::Partial) => return Request::Partial,
        Err(httparse::Error::TooManyHeaders) => return Request::Refuse(431),
        // `PRI * HTTP/2.0`: an HTTP/2 client with prior knowledge.
        Err(httparse::Error::Version) => return Request::Handoff,
        Err(_) => return Request::Refuse(400),
    };
    let (Some(method), Some(target), Some(1)) = (req.method, req.path, req.version) else {
        return Request::Handoff;
    };
    let headers = &*req.headers;
    let (path, authority) = if target.starts_with('/') {
        (target, None)
    } else if let Some(rest) = strip_prefix_ci(target, "http://") {
        let cut = rest.find(['/', '?']).unwrap_or(rest.len());
        let path = &rest[cut..];
        (if path.is_empty() { "/" } else { path }, Some(&rest[..cut]))
    } else {
        return Request::Handoff;
    };
    if method.eq_ignore_ascii_case("CONNECT") {
        return Request::Handoff;
    }
    let mut length: Option<u64> = None;
    let mut coded = false;
    let mut chunked = false;
    let mut close = false;
    let mut has_host = false;
    for h in headers {
        let name = h.name;
        if name.eq_ignore_ascii_case("upgrade") || name.eq_ignore_ascii_case("expect") {
            return Request::Handoff;
        } else if name.eq_ignore_ascii_case("content-length") {
            match number(h.value) {
                Some(n) if length.is_none_or(|l| l == n) => length = Some(n),
                _ => return Request::Handoff,
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            coded = true;
            chunked = last_token_is(h.value, b"chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            close |= has_token(h.value, b"close");
        } else if name.eq_ignore_ascii_case("host") {
            has_host = true;
        }
    }
    let body = match (coded, chunked, length) {
        (true, true, None) => Body::ChunkSize,
        (true, _, _) => return Request::Handoff,
        (false, _, Some(n)) => Body::length(n),
        (false, _, None) => Body::Done,
    };
    let plan = set.map(|set| {
        let view = View {
            method,
            path,
            headers,
        };
        RequestPlan::of(set, &view)
    });
    let extra = names_hop_headers(headers);
    out.clear();
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(path.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for h in headers {
        let hop = HOP.iter().any(|n| h.name.eq_ignore_ascii_case(n))
            && !h.name.eq_ignore_ascii_case("transfer-encoding");
        let named = extra && listed_in_connection(headers, h.name);
        if !hop && !named {
            push_header(out, h.name.as_bytes(), h.value);
        }
    }
    let mut needs_host = !has_host;
    if let Some(authority) = authority.filter(|a| needs_host && !a.is_empty()) {
        push_header(out, b"host", authority.as_bytes());
        needs_host = false;
    }
    Request::Parsed(Parsed {
        len,
        body,
        close,
        head: method == "HEAD",
        idempotent: matches!(
            method,
            "GET" | "HEAD" | "OPTIONS" | "TRACE" | "PUT" | "DELETE"
        ),
        needs_host,
        plan,
    })
}

/// A response head that was read.
#[derive(Debug)]
pub struct Response {
    pub len: usize,
    pub status: u16,
    pub body: Body,
    /// The upstream connection can carry another request after this response.
    pub reusable: bool,
    /// The client connection closes after this response (the client asked).
    pub close: bool,
    /// The body runs until the upstream closes: it goes to the client chunked, so that the
    /// client connection can stay open (as hyper's server did).
    pub rechunk: bool,
}

/// Why a response head is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadResponse {
    Malformed,
    TooLarge,
}

/// Reads a response head from `buf` (`None`: more bytes needed; `Some(Err(n))`: an interim
/// 1xx response of `n` bytes to skip) and writes the head for the client into `out`.
pub fn response(
    buf: &[u8],
    head_request: bool,
    client_close: bool,
    out: &mut Vec<u8>,
) -> Result<Option<Result<Response, usize>>, BadResponse> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let len = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) if n <= MAX_RESPONSE_HEAD => n,
        Ok(httparse::Status::Partial) if buf.len() <= MAX_RESPONSE_HEAD => return Ok(None),
        Ok(_) | Err(httparse::Error::TooManyHeaders) => return Err(BadResponse::TooLarge),
        Err(_) => return Err(BadResponse::Malformed),
    };
    let status = resp.code.ok_or(BadResponse::Malformed)?;
    if (100..200).contains(&status) {
        // 101 would switch protocols, which the forwarded request never asks for.
        return if status == 101 {
            Err(BadResponse::Malformed)
        } else {
            Ok(Some(Err(len)))
        };
    }
    let headers = &*resp.headers;
    let mut reusable = resp.version == Some(1);
    let mut length: Option<u64> = None;
    let (mut coded, mut chunked) = (false, false);
    for h in headers {
        if h.name.eq_ignore_ascii_case("content-length") {
            match number(h.value) {
                Some(n) if length.is_none_or(|l| l == n) => length = Some(n),
                _ => return Err(BadResponse::Malformed),
            }
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            coded = true;
            chunked = last_token_is(h.value, b"chunked");
        } else if h.name.eq_ignore_ascii_case("connection") {
            if has_token(h.value, b"close") {
                reusable = false;
            } else if has_token(h.value, b"keep-alive") && resp.version == Some(0) {
                reusable = true;
            }
        }
    }
    let body = if head_request || status == 204 || status == 304 {
        Body::Done
    } else if chunked {
        Body::ChunkSize
    } else if coded {
        Body::UntilClose
    } else if let Some(n) = length {
        Body::length(n)
    } else {
        Body::UntilClose
    };
    if body == Body::UntilClose {
        reusable = false;
    }
    let rechunk = body == Body::UntilClose;
    let close = client_close;
    out.clear();
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(itoa3(status).as_slice());
    out.push(b' ');
    out.extend_from_slice(resp.reason.unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    let extra = names_hop_headers(headers);
    let keep_length = !coded || head_request || status == 204 || status == 304;
    for h in headers {
        let skip = HOP.iter().any(|n| h.name.eq_ignore_ascii_case(n))
            || (!keep_length && h.name.eq_ignore_ascii_case("content-length"))
            || (extra && listed_in_connection(headers, h.name));
        if !skip {
            push_header(out, h.name.as_bytes(), h.value);
        }
    }
    if body == Body::ChunkSize || rechunk {
        out.extend_from_slice(b"transfer-encoding: chunked\r\n");
    }
    if close {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    Ok(Some(Ok(Response {
        len,
        status,
        body,
        reusable,
        close,
        rechunk,
    })))
}

/// A small answer of the proxy's own: `status`, extra headers, a text body (none for HEAD,
/// 1xx, 204 and 304).
pub fn answer(
    out: &mut Vec<u8>,
    status: u16,
    extra: &[(&str, &str)],
    text: &str,
    head_request: bool,
    close: bool,
) {
    let reason = hyper::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    out.clear();
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(itoa3(status).as_slice());
    out.push(b' ');
    out.extend_from_slice(reason.as_bytes());
    out.extend_from_slice(b"\r\ncontent-type: text/plain\r\n");
    for (k, v) in extra {
        // Only values that are valid header values (a fault's name could be anything).
        if hyper::header::HeaderValue::from_str(v).is_ok() {
            push_header(out, k.as_bytes(), v.as_bytes());
        }
    }
    let bodiless = (100..200).contains(&status) || status == 204 || status == 304;
    if !bodiless {
        out.extend_from_slice(format!("content-length: {}\r\n", text.len()).as_bytes());
    }
    if close {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if !bodiless && !head_request {
        out.extend_from_slice(text.as_bytes());
    }
}

fn push_header(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

fn itoa3(n: u16) -> [u8; 3] {
    let n = n.min(999);
    [
        b'0' + (n / 100) as u8,
        b'0' + (n / 10 % 10) as u8,
        b'0' + (n % 10) as u8,
    ]
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

fn number(value: &[u8]) -> Option<u64> {
    let v = value.trim_ascii();
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

fn tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|b| *b == b',').map(<[u8]>::trim_ascii)
}

fn has_token(value: &[u8], token: &[u8]) -> bool {
    tokens(value).any(|t| t.eq_ignore_ascii_case(token))
}

fn last_token_is(value: &[u8], token: &[u8]) -> bool {
    tokens(value)
        .last()
        .is_some_and(|t| t.eq_ignore_ascii_case(token))
}

/// Whether a `Connection` header names a header other than the usual `close` and
/// `keep-alive` (checked once, so that a plain head costs no search per header).
fn names_hop_headers(headers: &[httparse::Header<'_>]) -> bool {
    headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("connection")
            && tokens(h.value).any(|t| {
                !t.is_empty()
                    && !t.eq_ignore_ascii_case(b"close")
                    && !t.eq_ignore_ascii_case(b"keep-alive")
            })
    })
}

/// Whether a `Connection` header names `name` (a header for this hop only).
fn listed_in_connection(headers: &[httparse::Header<'_>], name: &str) -> bool {
    headers
        .iter()
        .any(|h| h.name.eq_ignore_ascii_case("connection") && has_token(h.value, name.as_bytes()))
}

#[cfg(test)]
#[path = "head_tests.rs"]
mod tests;
