//! Log formats: names, dispatch to the parsers, and sniffing a line's family.
//!
//! Sniffing serves two jobs: picking the format when the user gives none, and telling a log
//! with a few broken lines from a log that mixes two formats (which is reported as an error,
//! because learning from half a log silently is worse than stopping).

pub use super::input::LogFormat;
use super::record::{LineError, Record};
use super::timestamp::DateCache;
use super::{alb, clf, nginx_json};

/// The name used on the command line, in `.res` files and in the model file.
pub fn name(f: LogFormat) -> &'static str {
    match f {
        LogFormat::Combined => "combined",
        LogFormat::Common => "common",
        LogFormat::NginxJson => "nginx_json",
        LogFormat::Alb => "alb",
    }
}

/// The inverse of [`name`].
pub fn from_name(s: &str) -> Option<LogFormat> {
    Some(match s {
        "combined" => LogFormat::Combined,
        "common" => LogFormat::Common,
        "nginx_json" | "json" => LogFormat::NginxJson,
        "alb" => LogFormat::Alb,
        _ => return None,
    })
}

/// Formats of one family parse each other's lines.
pub fn family(f: LogFormat) -> u8 {
    match f {
        LogFormat::Combined | LogFormat::Common => 0,
        LogFormat::NginxJson => 1,
        LogFormat::Alb => 2,
    }
}

/// Parses a line in format `f`.
#[inline]
pub fn parse<'a>(
    f: LogFormat,
    line: &'a [u8],
    dates: &mut DateCache,
) -> Result<Record<'a>, LineError> {
    match f {
        LogFormat::Combined | LogFormat::Common => clf::parse(line, dates).map(|(r, _)| r),
        LogFormat::NginxJson => nginx_json::parse(line, dates),
        LogFormat::Alb => alb::parse(line, dates),
    }
}

/// Which format a line is written in, if it parses cleanly in one of them.
pub fn sniff(line: &[u8]) -> Option<LogFormat> {
    let mut dates = DateCache::default();
    let first = line.iter().position(|b| !b.is_ascii_whitespace())?;
    if line[first] == b'{' {
        return match nginx_json::parse(line, &mut dates) {
            Ok(_) | Err(LineError::NoTimestamp) => Some(LogFormat::NginxJson),
            Err(_) => None,
        };
    }
    let kind = line[first..].split(|&b| b == b' ').next().unwrap_or(b"");
    if alb::is_alb_type(kind) {
        if alb::parse(line, &mut dates).is_ok() {
            return Some(LogFormat::Alb);
        }
        return None;
    }
    match clf::parse(line, &mut dates) {
        Ok((_, true)) => Some(LogFormat::Combined),
        Ok((_, false)) => Some(LogFormat::Common),
        Err(_) => None,
    }
}
