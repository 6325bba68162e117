//! Where an HTTP/1.1 body ends (RFC 9112 §6–7): a byte count, chunked framing, or the
//! connection's close. The forwarding path passes bodies on as they are; this only says how
//! many of the bytes at hand belong to the message, so that the next message (a pipelined
//! request, the next response on a keep-alive connection) is found where it starts.

/// The longest chunk-size or trailer line accepted.
const MAX_LINE: usize = 64 * 1024;

/// What is left of a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    Length(u64),
    ChunkSize,
    ChunkData(u64),
    ChunkEnd,
    Trailers,
    /// The body runs until the sender closes.
    UntilClose,
    Done,
}

/// The framing is broken (a bad chunk size, a missing CRLF, an endless line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

impl Body {
    /// A body of `n` bytes.
    pub fn length(n: u64) -> Body {
        if n == 0 {
            Body::Done
        } else {
            Body::Length(n)
        }
    }

    pub fn is_done(self) -> bool {
        self == Body::Done
    }

    /// Takes what belongs to the body from the front of `buf`; returns how many bytes that is.
    /// Fewer than `buf.len()` only when the body ended (then `self` is `Done`) or a line is
    /// not complete yet.
    pub fn advance(&mut self, buf: &[u8]) -> Result<usize, Malformed> {
        let mut at = 0;
        loop {
            let rest = &buf[at..];
            let used = match *self {
                Body::Done => return Ok(at),
                Body::UntilClose => rest.len(),
                Body::Length(left) => {
                    let n = left.min(rest.len() as u64);
                    *self = Body::length(left - n);
                    n as usize
                }
                Body::ChunkSize => match httparse::parse_chunk_size(rest) {
                    Ok(httparse::Status::Complete((n, 0))) => {
                        *self = Body::Trailers;
                        n
                    }
                    Ok(httparse::Status::Complete((n, size))) => {
                        *self = Body::ChunkData(size);
                        n
                    }
                    Ok(httparse::Status::Partial) if rest.len() > MAX_LINE => {
                        return Err(Malformed)
                    }
                    Ok(httparse::Status::Partial) => 0,
                    Err(_) => return Err(Malformed),
                },
                Body::ChunkData(left) => {
                    let n = left.min(rest.len() as u64);
                    *self = if n == left {
                        Body::ChunkEnd
                    } else {
                        Body::ChunkData(left - n)
                    };
                    n as usize
                }
                Body::ChunkEnd => match rest {
                    [b'\r', b'\n', ..] => {
                        *self = Body::ChunkSize;
                        2
                    }
                    [] | [b'\r'] => 0,
                    _ => return Err(Malformed),
                },
                Body::Trailers => match rest.windows(2).position(|w| w == b"\r\n") {
                    Some(0) => {
                        *self = Body::Done;
                        2
                    }
                    Some(i) => i + 2,
                    None if rest.len() > MAX_LINE => return Err(Malformed),
                    None => 0,
                },
            };
            at += used;
            if used == 0 || at == buf.len() {
                return Ok(at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `wire` in pieces of `step` bytes; returns the bytes taken and the end state.
    fn feed(mut body: Body, wire: &[u8], step: usize) -> (usize, Body) {
        let mut taken = 0;
        let mut pending = 0;
        while taken + pending < wire.len() && !body.is_done() {
            pending = (pending + step).min(wire.len() - taken);
            let n = body
                .advance(&wire[taken..taken + pending])
                .expect("well framed");
            taken += n;
            pending -= n;
        }
        (taken, body)
    }

    #[test]
    fn chunked_bodies_end_where_they_end_at_any_split() {
        let wire = b"5;ext=1\r\nhello\r\n0\r\nx-t: 1\r\n\r\nGET / HTTP/1.1\r\n";
        let end = wire.len() - b"GET / HTTP/1.1\r\n".len();
        for step in 1..wire.len() {
            assert_eq!(
                feed(Body::ChunkSize, wire, step),
                (end, Body::Done),
                "{step}"
            );
        }
        assert_eq!(feed(Body::length(3), b"abcdef", 2), (3, Body::Done));
        assert_eq!(Body::ChunkSize.advance(b"zz\r\n"), Err(Malformed));
        assert_eq!(Body::ChunkEnd.advance(b"xx"), Err(Malformed));
        let mut b = Body::UntilClose;
        assert_eq!(b.advance(b"abc"), Ok(3));
        assert_eq!(b, Body::UntilClose);
    }
}
