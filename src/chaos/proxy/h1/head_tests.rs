//! Heads of any shape, cut anywhere: the parsers answer (parsed, partial, refused, handed
//! over) and never panic; what they write for the next hop parses again.

use proptest::prelude::*;

use super::*;

const REQUEST: &[u8] = b"POST http://h:1/a?b HTTP/1.1\r\nHost: h\r\nConnection: close, X-A\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\n\r\n";
const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nConnection: keep-alive, X-B\r\nX-B: 2\r\nContent-Length: 3\r\n\r\nabc";

proptest! {
    #[test]
    fn any_bytes_give_an_answer_and_no_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut out = Vec::new();
        let _ = request(&bytes, None, &mut out);
        let _ = response(&bytes, false, false, &mut out);
        let _ = response(&bytes, true, true, &mut out);
        let mut body = Body::ChunkSize;
        let _ = body.advance(&bytes);
    }

    #[test]
    fn a_known_head_with_one_byte_changed_never_panics(at in 0usize..200, byte in any::<u8>()) {
        for head in [REQUEST, RESPONSE] {
            let mut bytes = head.to_vec();
            let i = at % bytes.len();
            bytes[i] = byte;
            let mut out = Vec::new();
            let _ = request(&bytes, None, &mut out);
            let _ = response(&bytes, false, false, &mut out);
        }
    }
}

#[test]
fn every_cut_of_a_head_is_partial_until_it_is_whole() {
    for end in 0..REQUEST.len() {
        let mut out = Vec::new();
        assert!(
            matches!(request(&REQUEST[..end], None, &mut out), Request::Partial),
            "{end}"
        );
    }
    let mut out = Vec::new();
    let Request::Parsed(p) = request(REQUEST, None, &mut out) else {
        panic!("parsed")
    };
    assert_eq!(
        (p.len, p.body, p.close, p.needs_host),
        (REQUEST.len(), Body::ChunkSize, true, false)
    );
    out.extend_from_slice(b"\r\n");
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(text.starts_with("POST /a?b HTTP/1.1\r\n"), "{text}");
    assert!(
        !text.to_ascii_lowercase().contains("x-a") && !text.contains("close"),
        "{text}"
    );
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let again = httparse::Request::new(&mut headers).parse(&out);
    assert!(matches!(again, Ok(httparse::Status::Complete(n)) if n == out.len()));

    for end in 0..RESPONSE.len() - 3 {
        assert!(
            matches!(response(&RESPONSE[..end], false, false, &mut out), Ok(None)),
            "{end}"
        );
    }
    let Ok(Some(Ok(r))) = response(RESPONSE, false, false, &mut out) else {
        panic!("parsed")
    };
    assert_eq!(
        (r.status, r.body, r.reusable, r.close),
        (200, Body::Length(3), true, false)
    );
    let text = String::from_utf8(out).unwrap().to_ascii_lowercase();
    assert!(
        !text.contains("x-b") && !text.contains("keep-alive"),
        "{text}"
    );
    assert!(
        text.contains("content-length: 3\r\n") && text.ends_with("\r\n\r\n"),
        "{text}"
    );
}
