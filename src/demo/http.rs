//! HTTP plumbing shared by the demo routes: JSON responses, JSON errors, bounded bodies.
//!
//! Every answer of the shop is JSON, errors included (`{"error": "..."}`), so that a load
//! generator or a curious human always gets something readable back.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Request, Response, StatusCode};
use serde::Serialize;

use super::MAX_BODY_BYTES;

pub type Body = Full<Bytes>;

pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    let bytes = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// `200` with a Prometheus text exposition body.
pub fn prometheus(text: String) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(text)));
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

pub fn error(status: StatusCode, message: impl Into<String>) -> Response<Body> {
    json(status, &serde_json::json!({ "error": message.into() }))
}

pub fn not_found() -> Response<Body> {
    error(StatusCode::NOT_FOUND, "no such route")
}

/// `405` with the `Allow` header listing what the route does accept.
pub fn method_not_allowed(allow: &'static str) -> Response<Body> {
    let mut response = error(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("method not allowed; use {allow}"),
    );
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    response
}

/// `503` for a service whose queue is full.
pub fn overloaded(service: &str) -> Response<Body> {
    let mut response = error(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("{service} is overloaded: queue full"),
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// A request turned away before any service worked on it: the status, and why.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
}

impl Refusal {
    pub fn bad_request(message: impl Into<String>) -> Refusal {
        Refusal {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    pub fn into_response(self) -> Response<Body> {
        error(self.status, self.message)
    }
}

/// Reads the whole body, at most [`MAX_BODY_BYTES`].
pub async fn read_body(req: Request<Incoming>) -> Result<Bytes, Refusal> {
    let too_large = || Refusal {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        message: format!("request body over {MAX_BODY_BYTES} bytes"),
    };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    match Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Err(e) => Err(Refusal::bad_request(format!(
            "cannot read request body: {e}"
        ))),
    }
}

/// Parses a body as a JSON object; anything else is refused with `400`.
pub fn json_object(body: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, Refusal> {
    match serde_json::from_slice(body) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(Refusal::bad_request(
            "expected a JSON object in the request body",
        )),
        Err(e) => Err(Refusal::bad_request(format!(
            "request body is not valid JSON: {e}"
        ))),
    }
}
