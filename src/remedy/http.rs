//! A small HTTP/1.1 client for actuators (the demo admin API, webhooks): one request per
//! connection, a deadline over the whole exchange, plain `http://` only.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;

use super::error::ActuatorError;

/// An HTTP answer: status and body.
pub(crate) struct Answer {
    pub status: u16,
    pub body: Bytes,
}

/// Sends one request with an optional JSON body; the whole exchange must end within `timeout`.
pub(crate) async fn request(
    method: Method,
    url: &str,
    json: Option<&serde_json::Value>,
    headers: &[(String, String)],
    timeout: Duration,
) -> Result<Answer, ActuatorError> {
    let target = url.to_string();
    match tokio::time::timeout(timeout, exchange(method.clone(), url, json, headers)).await {
        Ok(r) => r,
        Err(_) => Err(ActuatorError::Timeout {
            what: format!("{method} {target}"),
            after: timeout,
        }),
    }
}

async fn exchange(
    method: Method,
    url: &str,
    json: Option<&serde_json::Value>,
    headers: &[(String, String)],
) -> Result<Answer, ActuatorError> {
    let unreachable = |message: String| ActuatorError::Unreachable {
        target: url.to_string(),
        message,
    };
    let uri: Uri = url
        .parse()
        .map_err(|e| unreachable(format!("not a URL: {e}")))?;
    if uri.scheme_str() != Some("http") {
        return Err(unreachable("only http:// URLs are supported".into()));
    }
    let host = uri
        .host()
        .ok_or_else(|| unreachable("the URL has no host".into()))?
        .to_string();
    let port = uri.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    // The connection task ends when the sender is dropped or the peer closes.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
    let body = match json {
        Some(v) => Bytes::from(serde_json::to_vec(v).unwrap_or_default()),
        None => Bytes::new(),
    };
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header(HOST, format!("{host}:{port}"));
    for (name, value) in headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    if json.is_some() {
        builder = builder.header(CONTENT_TYPE, "application/json");
    }
    let request = builder
        .body(Full::new(body))
        .map_err(|e| unreachable(e.to_string()))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| unreachable(e.to_string()))?
        .to_bytes();
    Ok(Answer { status, body })
}
