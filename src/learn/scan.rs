//! Byte-level scanning shared by the log parsers: fields, quoted strings, numbers.
//!
//! The parsers run once per line on millions of lines, so they work on the line's bytes in
//! place and return sub-slices of it; nothing here allocates.

/// A read position in one line.
pub struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(bytes: &'a [u8]) -> Cursor<'a> {
        Cursor { bytes, pos: 0 }
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    pub fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    pub fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// The bytes up to the next space (or the end), then the spaces after them.
    pub fn token(&mut self) -> Option<&'a [u8]> {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if b == b' ' || b == b'\t' {
                break;
            }
            self.pos += 1;
        }
        let tok = &self.bytes[start..self.pos];
        self.skip_spaces();
        (!tok.is_empty()).then_some(tok)
    }

    /// A `"..."` string (backslash escapes skipped over, not decoded), then the spaces after.
    pub fn quoted(&mut self) -> Option<&'a [u8]> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let start = self.pos + 1;
        let mut i = start;
        let b = self.bytes;
        while let Some(off) = find_quote_or_backslash(&b[i.min(b.len())..]) {
            let j = i + off;
            if b[j] == b'\\' {
                i = j + 2;
            } else {
                self.pos = j + 1;
                let s = &b[start..j];
                self.skip_spaces();
                return Some(s);
            }
        }
        None
    }

    /// Moves past the next `open` byte and returns the bytes up to the matching `close`.
    pub fn delimited(&mut self, open: u8, close: u8) -> Option<&'a [u8]> {
        let rest = &self.bytes[self.pos..];
        let o = rest.iter().position(|&c| c == open)?;
        let c = rest[o + 1..].iter().position(|&c| c == close)?;
        let s = &rest[o + 1..o + 1 + c];
        self.pos += o + c + 2;
        self.skip_spaces();
        Some(s)
    }

    #[cfg(test)]
    pub fn rest(&self) -> &'a [u8] {
        &self.bytes[self.pos.min(self.bytes.len())..]
    }
}

/// The first `"` or `\\` in `s`, eight bytes at a time (quoted user agents are long).
#[inline]
pub fn find_quote_or_backslash(s: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let has = |w: u64, byte: u8| {
        let x = w ^ (LO * byte as u64);
        x.wrapping_sub(LO) & !x & HI
    };
    let mut i = 0;
    while i + 8 <= s.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&s[i..i + 8]);
        let w = u64::from_le_bytes(word);
        let z = has(w, b'"') | has(w, b'\\');
        if z != 0 {
            return Some(i + (z.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    s[i..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\')
        .map(|p| i + p)
}

/// A decimal integer of 1 to 19 digits.
#[inline]
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    let mut v: u64 = 0;
    for &b in s {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + d as u64;
    }
    Some(v)
}

/// A number of seconds such as `0.123` or `12` (no exponent, no sign) in microseconds.
pub fn parse_secs_us(s: &[u8]) -> Option<u64> {
    let (int, frac) = match s.iter().position(|&b| b == b'.') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, &s[s.len()..]),
    };
    let whole = if int.is_empty() { 0 } else { parse_u64(int)? };
    let mut us = 0u64;
    let mut scale = 100_000u64;
    for &b in frac {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        us += d as u64 * scale;
        scale /= 10;
    }
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    whole.checked_mul(1_000_000)?.checked_add(us)
}

/// Is this a plain number (`123`, `0.5`)? Used to spot a trailing response-time field.
pub fn is_number(s: &[u8]) -> bool {
    !s.is_empty()
        && s.iter().all(|b| b.is_ascii_digit() || *b == b'.')
        && s.iter().filter(|&&b| b == b'.').count() <= 1
        && s != b"."
}

/// Splits `GET /path HTTP/1.1` into the method and the target (the protocol is optional).
pub fn split_request(req: &[u8]) -> Option<(&[u8], &[u8])> {
    let sp = req.iter().position(|&b| b == b' ')?;
    let method = &req[..sp];
    if method.is_empty() || method.len() > 16 || !method.iter().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let rest = &req[sp + 1..];
    let target = match rest.iter().position(|&b| b == b' ') {
        Some(e) => &rest[..e],
        None => rest,
    };
    if target.is_empty() {
        return None;
    }
    Some((method, target))
}

/// Parses exactly `n` digits.
#[inline]
pub fn digits(s: &[u8], n: usize) -> Option<u32> {
    if s.len() < n {
        return None;
    }
    let mut v = 0u32;
    for &b in &s[..n] {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + d as u32;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        let mut c = Cursor::new(br#"a b [x y] "q \"z\"" rest"#);
        assert_eq!(c.token(), Some(&b"a"[..]));
        assert_eq!(c.token(), Some(&b"b"[..]));
        assert_eq!(c.delimited(b'[', b']'), Some(&b"x y"[..]));
        assert_eq!(c.quoted(), Some(&br#"q \"z\""#[..]));
        assert_eq!(c.rest(), b"rest");
        assert_eq!(parse_secs_us(b"0.123"), Some(123_000));
        assert_eq!(parse_secs_us(b"2"), Some(2_000_000));
        assert_eq!(parse_secs_us(b"-"), None);
        assert_eq!(
            split_request(b"GET /a?b HTTP/1.1"),
            Some((&b"GET"[..], &b"/a?b"[..]))
        );
        assert_eq!(split_request(b"-"), None);
    }
}
