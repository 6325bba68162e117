//! Common and Combined Log Format, with an optional trailing response time.
//!
//! `host ident user [time] "request" status bytes ["referer" "user-agent"] [extra...]`.
//! A trailing plain number is taken as the response time: an integer is Apache's `%D`
//! (microseconds), a decimal is nginx's `$request_time` (seconds). Common lines are accepted
//! by the Combined parser (no user agent) and Combined lines by the Common parser: both are
//! one family, and a log often mixes them harmlessly.

use super::record::{parse_status, LineError, Record};
use super::scan::{is_number, parse_secs_us, parse_u64, split_request, Cursor};
use super::timestamp::{parse_clf, DateCache};

/// Parses one line; `combined` is true when it had referer and user-agent fields.
pub fn parse<'a>(line: &'a [u8], dates: &mut DateCache) -> Result<(Record<'a>, bool), LineError> {
    let mut c = Cursor::new(line);
    let client = c.token().ok_or(LineError::Malformed("empty line"))?;
    let time_field = match c.delimited(b'[', b']') {
        Some(t) => t,
        None => {
            // A request and a status but no [time]: the shape is right, the time is missing.
            return Err(if line.contains(&b'"') {
                LineError::NoTimestamp
            } else {
                LineError::Malformed("no [time] field")
            });
        }
    };
    let request = c
        .quoted()
        .ok_or(LineError::Malformed("no quoted request after the time"))?;
    let status = c
        .token()
        .and_then(parse_status)
        .ok_or(LineError::Malformed("no status code after the request"))?;
    let bytes = match c.token() {
        Some(b"-") => None,
        Some(b) => Some(parse_u64(b).ok_or(LineError::Malformed("bad byte count"))?),
        None => return Err(LineError::Malformed("no byte count after the status")),
    };
    let time_us = match parse_clf(time_field, dates) {
        Some(t) => t,
        None if time_field == b"-" || time_field.is_empty() => return Err(LineError::NoTimestamp),
        None => return Err(LineError::Malformed("bad [time] field")),
    };
    let (method, target) =
        split_request(request).ok_or(LineError::Malformed("request is not METHOD PATH"))?;
    let mut user_agent: &[u8] = b"";
    let mut combined = false;
    if c.peek() == Some(b'"') {
        c.quoted()
            .ok_or(LineError::Malformed("unterminated referer"))?;
        user_agent = c.quoted().ok_or(LineError::Malformed(
            "no quoted user agent after the referer",
        ))?;
        combined = true;
    }
    let mut service_us = None;
    while !c.at_end() {
        if c.peek() == Some(b'"') {
            // A quoted extra field (e.g. X-Forwarded-For) may hold spaces: skip it whole.
            if c.quoted().is_none() {
                break;
            }
        } else if let Some(tok) = c.token() {
            if is_number(tok) {
                service_us = if tok.contains(&b'.') {
                    parse_secs_us(tok)
                } else {
                    parse_u64(tok)
                };
            }
        } else {
            break;
        }
    }
    Ok((
        Record {
            time_us,
            subsecond: false,
            client,
            method,
            target,
            status,
            response_bytes: bytes,
            request_bytes: None,
            user_agent,
            service_us,
        },
        combined,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_with_request_time() {
        let mut d = DateCache::default();
        let line = br#"1.2.3.4 - bob [10/Oct/2000:13:55:36 -0700] "GET /a.gif?x=1 HTTP/1.0" 200 2326 "http://r/" "Mozilla/4.08 [en]" 0.250"#;
        let (r, combined) = parse(line, &mut d).unwrap();
        assert!(combined);
        assert_eq!(r.client, b"1.2.3.4");
        assert_eq!(r.method, b"GET");
        assert_eq!(r.target, b"/a.gif?x=1");
        assert_eq!(r.status, 200);
        assert_eq!(r.response_bytes, Some(2326));
        assert_eq!(r.user_agent, b"Mozilla/4.08 [en]");
        assert_eq!(r.service_us, Some(250_000));
    }

    #[test]
    fn common_with_micros_and_dash_bytes() {
        let mut d = DateCache::default();
        let line = br#"::1 - - [10/Oct/2000:13:55:36 +0000] "POST /x HTTP/1.1" 204 - 1234"#;
        let (r, combined) = parse(line, &mut d).unwrap();
        assert!(!combined);
        assert_eq!(r.response_bytes, None);
        assert_eq!(r.service_us, Some(1234));
    }

    #[test]
    fn broken_lines() {
        let mut d = DateCache::default();
        assert_eq!(
            parse(br#"1.2.3.4 - - "GET / HTTP/1.1" 200 5"#, &mut d).unwrap_err(),
            LineError::NoTimestamp
        );
        assert!(matches!(
            parse(
                br#"1.2.3.4 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 2x0 5"#,
                &mut d
            ),
            Err(LineError::Malformed(_))
        ));
        assert!(parse(b"garbage", &mut d).is_err());
    }
}
