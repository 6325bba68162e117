//! The response parser over whole and split inputs: every framing, and the malformed ones.

use super::*;
use proptest::prelude::*;

/// Feeds `input` in pieces cut at `cuts`, as reads would deliver it, then the end of the
/// stream; returns the status, whether the connection stays open, and the unused bytes.
fn feed(
    input: &[u8],
    cuts: &[usize],
    head: bool,
    limit: u64,
) -> Result<(u16, bool, usize), ParseError> {
    let mut p = ResponseParser::new(head, limit);
    let mut buf: Vec<u8> = Vec::new();
    let mut ends: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    ends.push(input.len());
    ends.sort_unstable();
    let mut fed = 0;
    for end in ends {
        buf.extend_from_slice(&input[fed..end]);
        fed = end;
        let pr = p.advance(&buf, false)?;
        buf.drain(..pr.consumed);
        if pr.done {
            return Ok((p.status, p.keep_alive, buf.len()));
        }
    }
    let pr = p.advance(&buf, true)?;
    assert!(pr.done);
    buf.drain(..pr.consumed);
    Ok((p.status, p.keep_alive, buf.len()))
}

fn whole(input: &str) -> Result<(u16, bool, usize), ParseError> {
    feed(input.as_bytes(), &[], false, 1 << 20)
}

const GOOD: &[(&str, u16, bool)] = &[
    ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, true),
    ("HTTP/1.1 204 No Content\r\n\r\n", 204, true),
    ("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", 304, true),
    ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n10;ext=1\r\n0123456789abcdef\r\n0\r\nX-T: 1\r\n\r\n", 200, true),
    ("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 201, true),
    ("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", 200, false),
    ("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, false),
    ("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok", 200, true),
    ("HTTP/1.1 500 Oops\r\n\r\nuntil the end", 500, false),
    ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 200, true),
];

#[test]
fn every_framing_reads_to_its_end() {
    for (input, status, keep) in GOOD {
        assert_eq!(whole(input), Ok((*status, *keep, 0)), "{input:?}");
    }
}

#[test]
fn a_head_response_has_no_body_and_the_next_response_follows() {
    let two = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\n\r\n";
    assert_eq!(feed(two, &[], true, 100), Ok((200, true, 19)));
}

#[test]
fn malformed_responses_are_errors_of_their_kind() {
    let cases: &[(&str, ParseError)] = &[
        ("HTTP/1.1 2x0 OK\r\n\r\n", ParseError::Malformed),
        ("HTTX/1.1 200 OK\r\n\r\n", ParseError::Malformed),
        ("garbage\r\n\r\n", ParseError::Malformed),
        (
            "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
            ParseError::Malformed,
        ),
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nok",
            ParseError::Malformed,
        ),
        (
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            ParseError::Malformed,
        ),
        (
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n",
            ParseError::Malformed,
        ),
        ("HTTP/1.1 101 Switching\r\n\r\n", ParseError::Malformed),
        (
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
            ParseError::Incomplete,
        ),
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial",
            ParseError::Incomplete,
        ),
        ("HTTP/1.1 200 O", ParseError::Incomplete),
        ("", ParseError::Incomplete),
    ];
    for (input, err) in cases {
        assert_eq!(whole(input), Err(*err), "{input:?}");
    }
    let big = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD + 1));
    assert_eq!(whole(&big), Err(ParseError::TooLarge));
    let many = format!(
        "HTTP/1.1 200 OK\r\n{}\r\n",
        "X: 1\r\n".repeat(MAX_HEADERS + 1)
    );
    assert_eq!(whole(&many), Err(ParseError::TooLarge));
}

#[test]
fn bodies_beyond_the_limit_are_too_large() {
    let declared = b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n";
    assert_eq!(
        feed(declared, &[], false, 10),
        Err(ParseError::BodyTooLarge)
    );
    let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nabcdef\r\n0\r\n\r\n";
    assert_eq!(feed(chunked, &[], false, 10), Err(ParseError::BodyTooLarge));
    let until_close = b"HTTP/1.1 200 OK\r\n\r\n0123456789a";
    assert_eq!(
        feed(until_close, &[], false, 10),
        Err(ParseError::BodyTooLarge)
    );
}

proptest! {
    #[test]
    fn splitting_a_response_anywhere_changes_nothing(
        case in 0..GOOD.len(),
        cuts in proptest::collection::vec(0usize..400, 0..12),
    ) {
        let (input, status, keep) = GOOD[case];
        prop_assert_eq!(feed(input.as_bytes(), &cuts, false, 1 << 20), Ok((status, keep, 0)));
    }

    #[test]
    fn a_truncated_response_is_never_complete(case in 0..GOOD.len(), cut in 0usize..400) {
        let (input, _, keep) = GOOD[case];
        let cut = cut % input.len();
        // A body that runs until the close is complete at any cut after its head.
        prop_assume!(keep);
        prop_assert_eq!(
            feed(&input.as_bytes()[..cut], &[], false, 1 << 20),
            Err(ParseError::Incomplete)
        );
    }
}
