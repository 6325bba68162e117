//! Values with units: the types that carry a `.res` literal's meaning past the checker.
//!
//! The grammar recognises the shape of a literal (`250ms`, `500/s`, `64KiB`); this module turns
//! its text into a typed value and back. Nothing past the checker handles a bare float where a
//! unit is meant.

use std::fmt;

use serde::{Serialize, Serializer};

/// A span of time, in milliseconds (fractions allowed: `0.5ms`).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Duration(pub f64);

impl Duration {
    pub const ZERO: Duration = Duration(0.0);

    pub fn from_secs(s: f64) -> Duration {
        Duration(s * 1000.0)
    }

    pub fn ms(self) -> f64 {
        self.0
    }

    pub fn secs(self) -> f64 {
        self.0 / 1000.0
    }

    pub fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.secs().max(0.0))
    }

    /// Parses `250ms`, `2m`, `1h30m`, `7d`, `1w`, `500us`.
    pub fn parse(text: &str) -> Option<Duration> {
        let mut total = 0.0;
        let mut rest = text;
        if rest.is_empty() {
            return None;
        }
        while !rest.is_empty() {
            let num_len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            let (num, tail) = rest.split_at(num_len);
            let value: f64 = num.parse().ok()?;
            let unit_len = tail
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(tail.len());
            let (unit, tail) = tail.split_at(unit_len);
            let factor = match unit {
                "us" => 0.001,
                "ms" => 1.0,
                "s" => 1_000.0,
                "m" => 60_000.0,
                "h" => 3_600_000.0,
                "d" => 86_400_000.0,
                "w" => 604_800_000.0,
                _ => return None,
            };
            total += value * factor;
            rest = tail;
        }
        Some(Duration(total))
    }
}

impl fmt::Display for Duration {
    /// The shortest exact rendering: `90s` becomes `1m30s`, `0.5ms` stays.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        if ms == 0.0 {
            return f.write_str("0s");
        }
        if ms.fract() != 0.0 || ms < 1000.0 || (ms % 1000.0) != 0.0 {
            return write!(f, "{}ms", trim(ms));
        }
        let mut secs = (ms / 1000.0) as u64;
        let mut out = String::new();
        for (unit, size) in [("d", 86_400u64), ("h", 3_600), ("m", 60), ("s", 1)] {
            if secs >= size {
                out.push_str(&format!("{}{}", secs / size, unit));
                secs %= size;
            }
        }
        f.write_str(&out)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0)
    }
}

/// Requests (or sessions, or events) per second.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize)]
pub struct Rate(pub f64);

impl Rate {
    pub fn per_sec(self) -> f64 {
        self.0
    }

    /// Parses `500/s`, `30000/m`, `1000/h`, `20000/d`.
    pub fn parse(text: &str) -> Option<Rate> {
        let (num, unit) = text.split_once('/')?;
        let value: f64 = num.parse().ok()?;
        let per = match unit {
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => return None,
        };
        Some(Rate(value / per))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s", trim(self.0))
    }
}

/// A size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize)]
pub struct Bytes(pub f64);

impl Bytes {
    /// Parses `512B`, `64KiB`, `10MB`, `1GiB`.
    pub fn parse(text: &str) -> Option<Bytes> {
        let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let (num, unit) = text.split_at(split);
        let value: f64 = num.parse().ok()?;
        let factor = match unit {
            "B" => 1.0,
            "kB" | "KB" => 1e3,
            "MB" => 1e6,
            "GB" => 1e9,
            "TB" => 1e12,
            "KiB" => 1024.0,
            "MiB" => 1024.0 * 1024.0,
            "GiB" => 1024.0 * 1024.0 * 1024.0,
            "TiB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
            _ => return None,
        };
        Some(Bytes(value * factor))
    }
}

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        for (unit, size) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
            let size = size as f64;
            if b >= size && (b / size).fract() == 0.0 {
                return write!(f, "{}{}", trim(b / size), unit);
            }
        }
        write!(f, "{}B", trim(b))
    }
}

/// Bytes per second (`1MiB/s`).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize)]
pub struct Bandwidth(pub f64);

impl Bandwidth {
    pub fn parse(text: &str) -> Option<Bandwidth> {
        Some(Bandwidth(Bytes::parse(text.strip_suffix("/s")?)?.0))
    }
}

impl fmt::Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s", Bytes(self.0))
    }
}

/// A percentage as written: `5%` is `Percent(5.0)`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize)]
pub struct Percent(pub f64);

impl Percent {
    pub fn fraction(self) -> f64 {
        self.0 / 100.0
    }

    pub fn parse(text: &str) -> Option<Percent> {
        Some(Percent(text.strip_suffix('%')?.parse().ok()?))
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", trim(self.0))
    }
}

/// A factor: `1.3x`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize)]
pub struct Multiplier(pub f64);

impl Multiplier {
    pub fn parse(text: &str) -> Option<Multiplier> {
        Some(Multiplier(text.strip_suffix('x')?.parse().ok()?))
    }
}

impl fmt::Display for Multiplier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x", trim(self.0))
    }
}

/// A point in time: seconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Parses `2026-11-27`, `2026-11-27T00:00Z`, `2026-11-27T08:30:00+01:00`.
    /// A timestamp without a zone is rejected by the grammar unless it is a bare date (UTC).
    pub fn parse(text: &str) -> Option<Timestamp> {
        let (date, rest) = text.split_at(10.min(text.len()));
        let mut parts = date.split('-');
        let y: i64 = parts.next()?.parse().ok()?;
        let mo: u32 = parts.next()?.parse().ok()?;
        let d: u32 = parts.next()?.parse().ok()?;
        if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) {
            return None;
        }
        let mut secs = days_from_civil(y, mo, d) * 86_400;
        if let Some(time) = rest.strip_prefix('T') {
            let (clock, zone) = match time.find(['Z', '+', '-']) {
                Some(i) => time.split_at(i),
                None => return None,
            };
            secs += TimeOfDay::parse(clock)?.0 as i64;
            if zone != "Z" {
                let sign = if zone.starts_with('-') { -1 } else { 1 };
                let (h, m) = zone[1..].split_once(':')?;
                let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
                if h > 23 || m > 59 {
                    return None;
                }
                secs -= sign * (h * 3600 + m * 60);
            }
        } else if !rest.is_empty() {
            return None;
        }
        Some(Timestamp(secs))
    }

    /// RFC 3339 in UTC: `2026-11-27T00:00:00Z`.
    pub fn to_rfc3339(self) -> String {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs % 3600 / 60,
            secs % 60
        )
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// A time of day: seconds after midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize)]
pub struct TimeOfDay(pub u32);

impl TimeOfDay {
    /// Parses `02:00` or `23:59:30`; `24:00` means the end of the day.
    pub fn parse(text: &str) -> Option<TimeOfDay> {
        let mut it = text.split(':');
        let h: u32 = it.next()?.parse().ok()?;
        let m: u32 = it.next()?.parse().ok()?;
        let s: u32 = match it.next() {
            Some(s) => s.parse().ok()?,
            None => 0,
        };
        if it.next().is_some() || m > 59 || s > 59 || h > 24 || (h == 24 && (m > 0 || s > 0)) {
            return None;
        }
        Some(TimeOfDay(h * 3600 + m * 60 + s))
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (h, m, s) = (self.0 / 3600, self.0 % 3600 / 60, self.0 % 60);
        if s == 0 {
            write!(f, "{h:02}:{m:02}")
        } else {
            write!(f, "{h:02}:{m:02}:{s:02}")
        }
    }
}

/// A status class (`2xx`) or an exact status code (`503`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum StatusPattern {
    Class(u16),
    Exact(u16),
}

impl StatusPattern {
    pub fn parse(text: &str) -> Option<StatusPattern> {
        if let Some(c) = text.strip_suffix("xx") {
            let c: u16 = c.parse().ok()?;
            return (1..=5).contains(&c).then_some(StatusPattern::Class(c));
        }
        let code: u16 = text.parse().ok()?;
        (100..=599)
            .contains(&code)
            .then_some(StatusPattern::Exact(code))
    }

    pub fn matches(self, status: u16) -> bool {
        match self {
            StatusPattern::Class(c) => status / 100 == c,
            StatusPattern::Exact(s) => status == s,
        }
    }
}

impl fmt::Display for StatusPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusPattern::Class(c) => write!(f, "{c}xx"),
            StatusPattern::Exact(s) => write!(f, "{s}"),
        }
    }
}

/// Formats a float without a trailing `.0` and without float noise.
pub fn trim(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{:.6}", v);
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(Duration::parse("250ms"), Some(Duration(250.0)));
        assert_eq!(Duration::parse("1h30m"), Some(Duration(5_400_000.0)));
        assert_eq!(Duration::parse("2m").unwrap().to_string(), "2m");
        assert_eq!(Duration(90_000.0).to_string(), "1m30s");
        assert_eq!(Duration::parse("7x"), None);
    }

    #[test]
    fn rates_sizes_percent() {
        assert_eq!(Rate::parse("30000/m"), Some(Rate(500.0)));
        assert_eq!(Bytes::parse("64KiB"), Some(Bytes(65536.0)));
        assert_eq!(Bandwidth::parse("1MiB/s"), Some(Bandwidth(1_048_576.0)));
        assert_eq!(Percent::parse("5%").unwrap().fraction(), 0.05);
        assert_eq!(Multiplier::parse("1.3x"), Some(Multiplier(1.3)));
    }

    #[test]
    fn timestamps() {
        let t = Timestamp::parse("2026-11-27T00:00Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-27T00:00:00Z");
        let t2 = Timestamp::parse("2026-11-27T01:00+01:00").unwrap();
        assert_eq!(t, t2);
        assert_eq!(Timestamp::parse("2026-02-30"), None);
        assert_eq!(
            Timestamp::parse("2024-02-29")
                .map(|t| t.to_rfc3339())
                .unwrap(),
            "2024-02-29T00:00:00Z"
        );
        assert_eq!(TimeOfDay::parse("02:00"), Some(TimeOfDay(7200)));
        assert_eq!(TimeOfDay::parse("25:00"), None);
    }

    #[test]
    fn status() {
        assert!(StatusPattern::parse("2xx").unwrap().matches(204));
        assert!(!StatusPattern::parse("503").unwrap().matches(500));
        assert_eq!(StatusPattern::parse("7xx"), None);
    }
}
