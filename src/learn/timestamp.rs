//! Timestamps of log lines: CLF `10/Oct/2000:13:55:36 -0700`, ISO 8601, epoch seconds.
//!
//! Every line carries a date, and consecutive lines almost always carry the same one, so the
//! parsers keep the last date's day number in a [`DateCache`] and only decode the clock.
//! Times are microseconds since the Unix epoch, UTC.

use super::scan::{digits, parse_u64};
use crate::units::days_from_civil;

/// The last date seen and its day number since 1970-01-01.
#[derive(Default, Clone)]
pub struct DateCache {
    key: [u8; 12],
    len: usize,
    days: i64,
}

impl DateCache {
    #[inline]
    fn lookup(&mut self, key: &[u8], compute: impl FnOnce() -> Option<i64>) -> Option<i64> {
        if key.len() == self.len && key == &self.key[..self.len] {
            return Some(self.days);
        }
        let days = compute()?;
        if key.len() <= self.key.len() {
            self.key[..key.len()].copy_from_slice(key);
            self.len = key.len();
            self.days = days;
        }
        Some(days)
    }
}

fn month(m: &[u8]) -> Option<u32> {
    Some(match m {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

fn valid_date(y: i64, m: u32, d: u32) -> bool {
    (1..=12).contains(&m) && (1..=31).contains(&d) && (1970..=9999).contains(&y)
}

fn clock_secs(s: &[u8]) -> Option<i64> {
    // hh:mm:ss
    if s.len() < 8 || s[2] != b':' || s[5] != b':' {
        return None;
    }
    let (h, m, sec) = (digits(s, 2)?, digits(&s[3..], 2)?, digits(&s[6..], 2)?);
    if h > 23 || m > 59 || sec > 60 {
        return None;
    }
    Some((h * 3600 + m * 60 + sec) as i64)
}

/// `+0100`, `-07:00`, `Z` → offset in seconds east of UTC.
fn zone_secs(z: &[u8]) -> Option<i64> {
    match z {
        b"" | b"Z" | b"z" => Some(0),
        _ => {
            let sign = match z[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let rest = &z[1..];
            let (h, m) = match rest.len() {
                4 => (digits(rest, 2)?, digits(&rest[2..], 2)?),
                5 if rest[2] == b':' => (digits(rest, 2)?, digits(&rest[3..], 2)?),
                2 => (digits(rest, 2)?, 0),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            Some(sign * (h as i64 * 3600 + m as i64 * 60))
        }
    }
}

/// `10/Oct/2000:13:55:36 -0700` → microseconds since the epoch.
pub fn parse_clf(s: &[u8], cache: &mut DateCache) -> Option<i64> {
    if s.len() < 20 || s[2] != b'/' || s[6] != b'/' || s[11] != b':' {
        return None;
    }
    let days = cache.lookup(&s[..11], || {
        let d = digits(s, 2)?;
        let m = month(&s[3..6])?;
        let y = digits(&s[7..], 4)? as i64;
        valid_date(y, m, d).then(|| days_from_civil(y, m, d))
    })?;
    let clock = clock_secs(&s[12..])?;
    let zone = zone_secs(trim(&s[20..]))?;
    Some((days * 86_400 + clock - zone) * 1_000_000)
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|b| *b != b' ').unwrap_or(s.len());
    &s[start..]
}

/// `2018-07-02T22:23:00.186641Z` (zone `Z`, `+01:00`, `+0100` or none) → (µs, sub-second?).
pub fn parse_iso(s: &[u8], cache: &mut DateCache) -> Option<(i64, bool)> {
    if s.len() < 19 || s[4] != b'-' || s[7] != b'-' || !matches!(s[10], b'T' | b' ') {
        return None;
    }
    let days = cache.lookup(&s[..10], || {
        let y = digits(s, 4)? as i64;
        let m = digits(&s[5..], 2)?;
        let d = digits(&s[8..], 2)?;
        valid_date(y, m, d).then(|| days_from_civil(y, m, d))
    })?;
    let clock = clock_secs(&s[11..])?;
    let mut rest = &s[19..];
    let mut micros = 0i64;
    let mut subsecond = false;
    if rest.first() == Some(&b'.') {
        let n = rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let mut scale = 100_000i64;
        for &b in &rest[1..1 + n.min(6)] {
            micros += (b - b'0') as i64 * scale;
            scale /= 10;
        }
        subsecond = true;
        rest = &rest[1 + n..];
    }
    let zone = zone_secs(rest)?;
    Some((
        (days * 86_400 + clock - zone) * 1_000_000 + micros,
        subsecond,
    ))
}

/// `1699999999.123` (seconds since the epoch, nginx `$msec`) → (µs, sub-second?).
pub fn parse_epoch(s: &[u8]) -> Option<(i64, bool)> {
    let (int, frac) = match s.iter().position(|&b| b == b'.') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, &s[s.len()..]),
    };
    let secs = parse_u64(int)? as i64;
    // Plausible epochs only (2001..2286), so a stray small number is not taken for a time.
    if !(1_000_000_000..10_000_000_000).contains(&secs) {
        return None;
    }
    let mut micros = 0i64;
    let mut scale = 100_000i64;
    for &b in frac.iter().take(6) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        micros += d as i64 * scale;
        scale /= 10;
    }
    Some((secs * 1_000_000 + micros, !frac.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_agree() {
        let mut c = DateCache::default();
        let clf = parse_clf(b"10/Oct/2000:13:55:36 -0700", &mut c).unwrap();
        let iso = parse_iso(b"2000-10-10T20:55:36Z", &mut c).unwrap();
        assert_eq!(clf, iso.0);
        assert_eq!(clf, 971_211_336_000_000);
        let (t, sub) = parse_iso(b"2000-10-10T21:55:36.5+01:00", &mut c).unwrap();
        assert_eq!(t, clf + 500_000);
        assert!(sub);
        assert_eq!(
            parse_epoch(b"1700000000.5"),
            Some((1_700_000_000_500_000, true))
        );
        assert_eq!(parse_epoch(b"971211336"), None); // before 2001: not taken for a time
        assert_eq!(parse_clf(b"10/Foo/2000:13:55:36 -0700", &mut c), None);
        // The cache does not confuse dates.
        let next = parse_clf(b"11/Oct/2000:13:55:36 -0700", &mut c).unwrap();
        assert_eq!(next - clf, 86_400_000_000);
    }
}
