//! The load generator's own HTTP/1.1 client connection, the hot path for plain `http://`
//! targets.
//!
//! hyper is general: a request channel, a task-shaped connection, header maps built and
//! dropped per request, and a fixed 8 KiB write buffer. A load generator sends the same few
//! requests millions of times, so this connection writes requests that were rendered to
//! bytes once (see [`encode`]), reads responses into one small reused buffer and parses them
//! in place ([`response`]), and keeps a few KB of state per connection. hyper stays for
//! HTTP/2 and TLS (`super::connection` picks the path by protocol).
//!
//! Requests may be pipelined: [`Http1::send`] writes a request without waiting, and
//! [`Http1::receive`] reads the responses in the order they were sent ([`pipeline`]).

pub(crate) mod encode;
pub(crate) mod pipeline;
pub(crate) mod response;

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use self::response::{ResponseParser, MAX_HEAD};
use super::error_kind::ErrorKind;

/// The read buffer's first size: a typical response head and a small body fit at once.
const FIRST_READ: usize = 2048;
/// A connection idle for this long is checked for a close by the server before it is used.
const IDLE_PROBE: Duration = Duration::from_millis(1);
/// Beyond this a read buffer that grew for a large response is given back after it.
const KEEP_READ: usize = 16 * 1024;

pub(crate) struct Http1 {
    tcp: TcpStream,
    /// Bytes read and not yet used live in `buf[start..end]`.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Where requests with rendered parts are written before sending.
    pub scratch: Vec<u8>,
    open: bool,
    /// When the last response ended, if no request is outstanding.
    idle_since: Option<Instant>,
}

impl Http1 {
    pub fn new(tcp: TcpStream) -> Http1 {
        Http1 {
            tcp,
            buf: Vec::new(),
            start: 0,
            end: 0,
            scratch: Vec::new(),
            open: true,
            idle_since: None,
        }
    }

    /// False once a response said `Connection: close`, ended with the connection, or failed;
    /// or, after the connection sat idle, when the server has closed it meanwhile (servers
    /// close idle keep-alive connections, and a request sent into one would fail).
    pub fn is_open(&mut self) -> bool {
        if self.start != self.end {
            // Bytes after the last response that no request asked for.
            self.open = false;
        }
        if self.open && self.idle_since.is_some_and(|t| t.elapsed() >= IDLE_PROBE) {
            let mut probe = [0u8; 1];
            // Anything but "nothing to read yet" (an end, an error, or bytes nobody asked
            // for) retires the connection.
            self.open = matches!(self.tcp.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
        }
        self.open
    }

    /// Writes one request's bytes.
    pub async fn send(&mut self, wire: &[u8]) -> Result<(), ErrorKind> {
        self.idle_since = None;
        if let Err(e) = self.tcp.write_all(wire).await {
            self.open = false;
            return Err(ErrorKind::from_io(&e));
        }
        Ok(())
    }

    /// Writes the request in `scratch`, then empties it (keeping a small allocation).
    pub async fn send_scratch(&mut self) -> Result<(), ErrorKind> {
        let scratch = std::mem::take(&mut self.scratch);
        let r = self.send(&scratch).await;
        self.scratch = scratch;
        self.scratch.clear();
        if self.scratch.capacity() > KEEP_READ {
            self.scratch = Vec::new();
        }
        r
    }

    /// Reads the next response and returns its status; its body is counted and dropped.
    pub async fn receive(&mut self, head_request: bool, limit: u64) -> Result<u16, ErrorKind> {
        let mut parser = ResponseParser::new(head_request, limit);
        let r = self.read_into(&mut parser).await;
        if r.is_err() || !parser.keep_alive {
            self.open = false;
        }
        if self.start == self.end {
            self.idle_since = Some(Instant::now());
        }
        if self.start == self.end && self.buf.len() > KEEP_READ {
            self.buf = Vec::new();
            (self.start, self.end) = (0, 0);
        }
        r.map(|()| parser.status)
    }

    async fn read_into(&mut self, parser: &mut ResponseParser) -> Result<(), ErrorKind> {
        let mut eof = false;
        loop {
            let p = parser
                .advance(&self.buf[self.start..self.end], eof)
                .map_err(|e| e.kind())?;
            self.start += p.consumed;
            if self.start == self.end {
                (self.start, self.end) = (0, 0);
            }
            if p.done {
                return Ok(());
            }
            self.make_room();
            let n = self
                .tcp
                .read(&mut self.buf[self.end..])
                .await
                .map_err(|e| ErrorKind::from_io(&e))?;
            eof = n == 0;
            self.end += n;
            // A read that filled the buffer is a large body streaming in: fewer, larger
            // reads for the rest of it (the buffer is given back after the response).
            if self.end == self.buf.len() && self.buf.len() < KEEP_READ * 4 {
                self.buf.resize(self.buf.len() * 2, 0);
            }
        }
    }

    /// Makes free space after `end`: moves unread bytes to the front, or grows the buffer
    /// when they fill it (they are at most a head or a chunk-size line, so this is bounded by
    /// the parser's own limits).
    fn make_room(&mut self) {
        if self.buf.is_empty() {
            self.buf = vec![0; FIRST_READ];
        }
        if self.end < self.buf.len() {
            return;
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
            return;
        }
        let grown = (self.buf.len() * 2)
            .min(MAX_HEAD * 2)
            .max(self.buf.len() + 1);
        self.buf.resize(grown, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_read_buffer_grows_and_compacts() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let tcp = TcpStream::connect(addr).await.unwrap();
            let mut c = Http1::new(tcp);
            c.make_room();
            assert_eq!(c.buf.len(), FIRST_READ);
            c.end = FIRST_READ;
            c.start = 10;
            c.make_room();
            assert_eq!((c.start, c.end), (0, FIRST_READ - 10));
            c.end = FIRST_READ;
            c.make_room();
            assert_eq!(c.buf.len(), FIRST_READ * 2);
        });
    }
}
