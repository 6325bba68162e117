//! nginx access logs written as one JSON object per line (`log_format ... escape=json`).
//!
//! There is no standard field list, so the parser knows the names nginx's variables give
//! them (`time_local`, `time_iso8601`, `msec`, `remote_addr`, `request`, `status`,
//! `body_bytes_sent`, `request_length`, `request_time`, `http_user_agent`, ...) and a few
//! common aliases. It scans the object once without building a tree; string values are
//! returned still escaped, which is fine for paths and for keying sessions.

use super::record::{parse_status, LineError, Record};
use super::scan::{parse_secs_us, parse_u64, split_request};
use super::timestamp::{parse_clf, parse_epoch, parse_iso, DateCache};

/// The raw values of the fields the learner knows, by role.
#[derive(Default)]
struct Fields<'a> {
    msec: Option<&'a [u8]>,
    iso: Option<&'a [u8]>,
    local: Option<&'a [u8]>,
    client: Option<&'a [u8]>,
    forwarded: Option<&'a [u8]>,
    request: Option<&'a [u8]>,
    method: Option<&'a [u8]>,
    uri: Option<&'a [u8]>,
    status: Option<&'a [u8]>,
    bytes: Option<&'a [u8]>,
    request_length: Option<&'a [u8]>,
    request_time: Option<&'a [u8]>,
    upstream_time: Option<&'a [u8]>,
    user_agent: Option<&'a [u8]>,
}

impl<'a> Fields<'a> {
    fn set(&mut self, key: &[u8], v: &'a [u8]) {
        let slot = match key {
            b"msec" => &mut self.msec,
            b"time_iso8601" | b"@timestamp" | b"timestamp" | b"time" => &mut self.iso,
            b"time_local" => &mut self.local,
            b"remote_addr" | b"client" | b"client_ip" | b"remote_ip" => &mut self.client,
            b"http_x_forwarded_for" | b"x_forwarded_for" => &mut self.forwarded,
            b"request" => &mut self.request,
            b"request_method" | b"method" => &mut self.method,
            b"request_uri" | b"uri" | b"path" => &mut self.uri,
            b"status" => &mut self.status,
            b"body_bytes_sent" | b"bytes_sent" => &mut self.bytes,
            b"request_length" => &mut self.request_length,
            b"request_time" => &mut self.request_time,
            b"upstream_response_time" => &mut self.upstream_time,
            b"http_user_agent" | b"user_agent" => &mut self.user_agent,
            _ => return,
        };
        // The first occurrence wins (`body_bytes_sent` before `bytes_sent` is not guaranteed,
        // but either is a fine response size).
        if slot.is_none() {
            *slot = Some(v);
        }
    }
}

/// Scans a JSON string starting after its opening quote; returns (content, index after the
/// closing quote).
fn string_at(b: &[u8], mut i: usize) -> Option<(&[u8], usize)> {
    let start = i;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some((&b[start..i], i + 1)),
            _ => i += 1,
        }
    }
    None
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

/// Skips any JSON value; returns the scalar text (strings without quotes) when it is one.
fn value_at(b: &[u8], i: usize) -> Option<(Option<&[u8]>, usize)> {
    match *b.get(i)? {
        b'"' => string_at(b, i + 1).map(|(s, e)| (Some(s), e)),
        b'{' | b'[' => {
            // A nested value: skip to its matching bracket, minding strings.
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = string_at(b, j + 1)?.1;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some((None, j + 1));
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let end = b[i..]
                .iter()
                .position(|&c| matches!(c, b',' | b'}' | b' ' | b'\t'))
                .map_or(b.len(), |p| i + p);
            (end > i).then(|| (Some(&b[i..end]), end))
        }
    }
}

fn time_of(f: &Fields, dates: &mut DateCache) -> Result<(i64, bool), LineError> {
    let mut present = false;
    if let Some(v) = f.msec {
        present = true;
        if let Some(t) = parse_epoch(v) {
            return Ok(t);
        }
    }
    if let Some(v) = f.iso {
        present = true;
        if let Some(t) = parse_iso(v, dates) {
            return Ok(t);
        }
        if let Some(t) = parse_epoch(v) {
            return Ok(t);
        }
    }
    if let Some(v) = f.local {
        present = true;
        if let Some(t) = parse_clf(v, dates) {
            return Ok((t, false));
        }
    }
    Err(if present {
        LineError::Malformed("unreadable time field")
    } else {
        LineError::NoTimestamp
    })
}

/// Parses one JSON line.
pub fn parse<'a>(line: &'a [u8], dates: &mut DateCache) -> Result<Record<'a>, LineError> {
    let b = line;
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return Err(LineError::Malformed("not a JSON object"));
    }
    i = skip_ws(b, i + 1);
    let mut f = Fields::default();
    if b.get(i) != Some(&b'}') {
        loop {
            if b.get(i) != Some(&b'"') {
                return Err(LineError::Malformed("expected a quoted key"));
            }
            let (key, e) = string_at(b, i + 1).ok_or(LineError::Malformed("unterminated key"))?;
            i = skip_ws(b, e);
            if b.get(i) != Some(&b':') {
                return Err(LineError::Malformed("expected ':' after a key"));
            }
            i = skip_ws(b, i + 1);
            let (v, e) = value_at(b, i).ok_or(LineError::Malformed("bad JSON value"))?;
            if let Some(v) = v {
                f.set(key, v);
            }
            i = skip_ws(b, e);
            match b.get(i) {
                Some(b',') => i = skip_ws(b, i + 1),
                Some(b'}') => break,
                _ => return Err(LineError::Malformed("expected ',' or '}' in the object")),
            }
        }
    }
    let (method, target) = match (f.method, f.uri, f.request) {
        (Some(m), Some(u), _) if !m.is_empty() && !u.is_empty() => (m, u),
        (_, _, Some(r)) => {
            split_request(r).ok_or(LineError::Malformed("request is not METHOD PATH"))?
        }
        _ => {
            return Err(LineError::Malformed(
                "no request or request_method/uri field",
            ))
        }
    };
    let status = f
        .status
        .and_then(parse_status)
        .ok_or(LineError::Malformed("no status field"))?;
    let (time_us, subsecond) = time_of(&f, dates)?;
    let client = f.client.or(f.forwarded).unwrap_or(b"");
    // upstream_response_time may list several upstreams ("0.010, 0.020"): use request_time
    // when present, which covers the whole request.
    let service_us = f
        .request_time
        .and_then(parse_secs_us)
        .or_else(|| f.upstream_time.and_then(parse_secs_us));
    Ok(Record {
        time_us,
        subsecond,
        client,
        method,
        target,
        status,
        response_bytes: f.bytes.and_then(parse_u64),
        request_bytes: f.request_length.and_then(parse_u64),
        user_agent: f.user_agent.unwrap_or(b""),
        service_us,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typical_line() {
        let mut d = DateCache::default();
        let line = br#"{"time_local":"10/Oct/2000:13:55:36 +0000","remote_addr":"10.0.0.1","request":"GET /orders/12?x=1 HTTP/1.1","status":"200","body_bytes_sent":"512","request_length":"300","request_time":"0.012","http_user_agent":"curl/8.0 \"q\"","nested":{"a":[1,"}"]}}"#;
        let r = parse(line, &mut d).unwrap();
        assert_eq!(r.method, b"GET");
        assert_eq!(r.target, b"/orders/12?x=1");
        assert_eq!(r.status, 200);
        assert_eq!(r.response_bytes, Some(512));
        assert_eq!(r.request_bytes, Some(300));
        assert_eq!(r.service_us, Some(12_000));
        assert_eq!(r.user_agent, br#"curl/8.0 \"q\""#);
    }

    #[test]
    fn numbers_msec_and_split_request_fields() {
        let mut d = DateCache::default();
        let line =
            br#"{"msec": 1700000000.250, "request_method": "POST", "uri": "/a", "status": 201}"#;
        let r = parse(line, &mut d).unwrap();
        assert_eq!(r.time_us, 1_700_000_000_250_000);
        assert!(r.subsecond);
        assert_eq!(r.method, b"POST");
        assert_eq!(r.status, 201);
        let no_time = br#"{"request":"GET / HTTP/1.1","status":200}"#;
        assert_eq!(parse(no_time, &mut d).unwrap_err(), LineError::NoTimestamp);
        assert!(parse(br#"{"request":"GET / HTTP/1.1","#, &mut d).is_err());
    }
}
