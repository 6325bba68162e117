//! AWS Application Load Balancer access logs.
//!
//! `type time elb client:port target:port request_time target_time response_time
//! elb_status target_status received_bytes sent_bytes "request" "user_agent" ...`. The
//! request holds an absolute URL (`GET https://host:443/path HTTP/1.1`); the three processing
//! times sum to the service time, and `-1` marks one that does not apply.

use super::record::{parse_status, LineError, Record};
use super::scan::{parse_secs_us, parse_u64, split_request, Cursor};
use super::timestamp::{parse_iso, DateCache};

/// The `type` values ALB writes as the first field.
pub fn is_alb_type(t: &[u8]) -> bool {
    matches!(t, b"http" | b"https" | b"h2" | b"grpcs" | b"ws" | b"wss")
}

fn strip_port(addr: &[u8]) -> &[u8] {
    match addr.iter().rposition(|&b| b == b':') {
        Some(i) => &addr[..i],
        None => addr,
    }
}

/// Parses one line.
pub fn parse<'a>(line: &'a [u8], dates: &mut DateCache) -> Result<Record<'a>, LineError> {
    let mut c = Cursor::new(line);
    let kind = c.token().ok_or(LineError::Malformed("empty line"))?;
    if !is_alb_type(kind) {
        return Err(LineError::Malformed(
            "first field is not an ALB request type",
        ));
    }
    let time = c.token().ok_or(LineError::Malformed("no time field"))?;
    let (time_us, subsecond) = match parse_iso(time, dates) {
        Some(t) => t,
        None if time == b"-" => return Err(LineError::NoTimestamp),
        None => return Err(LineError::Malformed("bad time field")),
    };
    let mut fields = [&b""[..]; 9];
    for f in fields.iter_mut() {
        *f = c.token().ok_or(LineError::Malformed("too few fields"))?;
    }
    let [_elb, client, _target, t1, t2, t3, elb_status, _target_status, received] = fields;
    let sent = c.token().ok_or(LineError::Malformed("too few fields"))?;
    let request = c
        .quoted()
        .ok_or(LineError::Malformed("no quoted request"))?;
    let user_agent = c.quoted().unwrap_or(b"");
    let status = parse_status(elb_status).ok_or(LineError::Malformed("bad elb_status_code"))?;
    let (method, target) =
        split_request(request).ok_or(LineError::Malformed("request is not METHOD URL"))?;
    let mut service_us = Some(0u64);
    for t in [t1, t2, t3] {
        service_us = match (service_us, parse_secs_us(t)) {
            (Some(sum), Some(v)) => Some(sum + v),
            _ => None, // "-1": the request never reached a target
        };
    }
    Ok(Record {
        time_us,
        subsecond,
        client: strip_port(client),
        method,
        target,
        status,
        response_bytes: parse_u64(sent),
        request_bytes: parse_u64(received),
        user_agent,
        service_us,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_example() {
        let mut d = DateCache::default();
        let line = br#"http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-""#;
        let r = parse(line, &mut d).unwrap();
        assert_eq!(r.client, b"192.168.131.39");
        assert_eq!(r.target, b"http://www.example.com:80/");
        assert_eq!(r.status, 200);
        assert_eq!(r.request_bytes, Some(34));
        assert_eq!(r.response_bytes, Some(366));
        assert_eq!(r.service_us, Some(1000));
        assert!(r.subsecond);
        let unreached = br#"https 2018-07-02T22:23:00.186641Z app/x 1.2.3.4:1 - -1 -1 -1 503 - 34 366 "GET https://x:443/a HTTP/1.1" "ua""#;
        assert_eq!(parse(unreached, &mut d).unwrap().service_us, None);
    }
}
