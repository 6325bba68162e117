//! Requests as HTTP/1.1 bytes: the request line, the header fields and the body, written
//! into one buffer so that a request is one `write` on the socket.
//!
//! A request without placeholders is encoded once when the mix is compiled and its bytes are
//! shared by every connection; a templated one is encoded per request into the connection's
//! reused scratch buffer.

use hyper::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use hyper::{HeaderMap, Method};

/// Appends the request to `out`. `target` is the origin-form path (and query).
pub(crate) fn request(
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    body: &[u8],
    out: &mut Vec<u8>,
) {
    out.reserve(64 + target.len() + body.len() + 32 * headers.len());
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(if target.is_empty() { "/" } else { target }.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    // As hyper does: a length when there is a body or the method expects one.
    let framed = headers.contains_key(CONTENT_LENGTH) || headers.contains_key(TRANSFER_ENCODING);
    let expects_body = matches!(*method, Method::POST | Method::PUT | Method::PATCH);
    if !framed && (!body.is_empty() || expects_body) {
        out.extend_from_slice(b"content-length: ");
        out.extend_from_slice(body.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::{HeaderValue, HOST};

    fn text(method: Method, target: &str, body: &[u8]) -> String {
        let mut h = HeaderMap::new();
        h.insert(HOST, HeaderValue::from_static("127.0.0.1:80"));
        let mut out = Vec::new();
        request(&method, target, &h, body, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_get_has_no_length_and_a_post_always_has_one() {
        assert_eq!(
            text(Method::GET, "/a?b=1", b""),
            "GET /a?b=1 HTTP/1.1\r\nhost: 127.0.0.1:80\r\n\r\n"
        );
        assert_eq!(
            text(Method::POST, "/", b""),
            "POST / HTTP/1.1\r\nhost: 127.0.0.1:80\r\ncontent-length: 0\r\n\r\n"
        );
        assert_eq!(
            text(Method::PUT, "", b"xy"),
            "PUT / HTTP/1.1\r\nhost: 127.0.0.1:80\r\ncontent-length: 2\r\n\r\nxy"
        );
    }
}
