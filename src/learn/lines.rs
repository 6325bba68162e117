//! Splitting a byte stream into lines without copying and without unbounded buffers.
//!
//! Most lines are handed to the caller straight out of the reader's buffer; only a line that
//! straddles two buffer fills is copied into a side buffer. A line longer than [`MAX_LINE`]
//! is cut there and flagged, so one newline-free gigabyte cannot exhaust memory.

use std::io::BufRead;

/// The longest line kept whole.
pub const MAX_LINE: usize = 64 * 1024;

/// Finds the first `\n` in `s`, eight bytes at a time.
#[inline]
pub fn find_newline(s: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const NL: u64 = LO * b'\n' as u64;
    let mut i = 0;
    while i + 8 <= s.len() {
        let w = u64::from_le_bytes([
            s[i],
            s[i + 1],
            s[i + 2],
            s[i + 3],
            s[i + 4],
            s[i + 5],
            s[i + 6],
            s[i + 7],
        ]) ^ NL;
        let z = w.wrapping_sub(LO) & !w & HI;
        if z != 0 {
            return Some(i + (z.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    s[i..].iter().position(|&b| b == b'\n').map(|p| i + p)
}

/// Calls `f(line_number, line, too_long)` for each line (without its `\r\n`).
pub fn for_each_line(
    r: &mut impl BufRead,
    mut f: impl FnMut(u64, &[u8], bool),
) -> std::io::Result<()> {
    let mut carry: Vec<u8> = Vec::new();
    let mut too_long = false;
    let mut n = 0u64;
    loop {
        let chunk = match r.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            if !carry.is_empty() || too_long {
                n += 1;
                f(n, trim_cr(&carry), too_long);
            }
            return Ok(());
        }
        let mut start = 0;
        let len = chunk.len();
        while start < len {
            match find_newline(&chunk[start..]) {
                Some(p) => {
                    n += 1;
                    let piece = &chunk[start..start + p];
                    if carry.is_empty() && !too_long {
                        f(n, trim_cr(piece), false);
                    } else {
                        push_capped(&mut carry, piece, &mut too_long);
                        f(n, trim_cr(&carry), too_long);
                        carry.clear();
                        too_long = false;
                    }
                    start += p + 1;
                }
                None => {
                    push_capped(&mut carry, &chunk[start..], &mut too_long);
                    start = len;
                }
            }
        }
        r.consume(len);
    }
}

fn push_capped(carry: &mut Vec<u8>, piece: &[u8], too_long: &mut bool) {
    let room = MAX_LINE.saturating_sub(carry.len());
    if piece.len() > room {
        *too_long = true;
    }
    carry.extend_from_slice(&piece[..piece.len().min(room)]);
}

fn trim_cr(s: &[u8]) -> &[u8] {
    s.strip_suffix(b"\r").unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_across_small_buffers() {
        let text = b"alpha\r\nbeta\n\ngamma-without-newline";
        let mut r = std::io::BufReader::with_capacity(3, &text[..]);
        let mut got = Vec::new();
        for_each_line(&mut r, |n, l, long| {
            got.push((n, String::from_utf8_lossy(l).into_owned(), long))
        })
        .unwrap();
        assert_eq!(
            got,
            vec![
                (1, "alpha".into(), false),
                (2, "beta".into(), false),
                (3, "".into(), false),
                (4, "gamma-without-newline".into(), false)
            ]
        );
        assert_eq!(find_newline(b"0123456789\nx"), Some(10));
        assert_eq!(find_newline(b"abc"), None);
    }
}
