//! The admin API of a splitting proxy: read the servers' weights and states, and change them,
//! over HTTP/1.1 with JSON. What `res proxy serve --admin` listens with, and what the `proxy`
//! actuator of the remediation engine talks to.
//!
//! - `GET /servers`: `{"mode", "listen", "servers": [{name, addr, weight, state, backup, up,
//!   sent, errors}], "stats": {…}}`, read from the proxy itself.
//! - `POST /servers` with `{"set": [{"name": "a", "weight": 10, "state": "drain"}, …]}`:
//!   every change at once, or none when one is wrong (400, or 404 for an unknown server);
//!   answers the document above as it is after the change.
//! - `POST /servers/NAME` with `{"weight": 10}` and/or `{"state": "maint"}`: one server.
//!
//! There is no authentication: whoever reaches the port can move all traffic. The command
//! listens on 127.0.0.1 unless told otherwise (`res proxy serve --admin-any-address`).

use std::net::SocketAddr;
use std::sync::Mutex;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::split::{Admin, Setting};
use super::ProxyHandle;
use crate::chaos::error::{ChaosError, Result};

/// The largest request body the admin API reads.
const MAX_BODY: usize = 64 * 1024;

/// A running admin API; it stops with [`AdminHandle::shutdown`] or when dropped.
pub struct AdminHandle {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl AdminHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub async fn shutdown(&self) {
        let _ = self.stop.send(true);
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

impl Drop for AdminHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Serves the admin API of `proxy` (which must split: [`super::Proxy::start_split`]).
pub async fn serve(listen: SocketAddr, proxy: ProxyHandle) -> Result<AdminHandle> {
    if proxy.splitter().is_none() {
        return Err(ChaosError::UnsupportedOnProxy(
            "the admin API needs a splitting proxy (several servers)".into(),
        ));
    }
    let bind = |source| ChaosError::Bind {
        addr: listen,
        source,
    };
    let listener = TcpListener::bind(listen).await.map_err(bind)?;
    let addr = listener.local_addr().map_err(bind)?;
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(async move {
        let mut connections = crate::net::accept_until_stopped(&listener, stop_rx, move |stream| {
            let proxy = proxy.clone();
            async move {
                let service = service_fn(move |req| {
                    let proxy = proxy.clone();
                    async move { Ok::<_, std::convert::Infallible>(answer(&proxy, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            }
        })
        .await;
        connections.shutdown().await;
    });
    Ok(AdminHandle {
        addr,
        stop,
        task: Mutex::new(Some(task)),
    })
}

/// The servers document: what `GET /servers` answers.
pub fn document(proxy: &ProxyHandle) -> serde_json::Value {
    let servers = proxy.splitter().map(|s| s.view()).unwrap_or_default();
    json!({
        "mode": proxy.mode(),
        "listen": proxy.addr().to_string(),
        "servers": servers,
        "stats": proxy.stats(),
    })
}

/// `POST /servers/NAME`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct One {
    #[serde(default)]
    weight: Option<u32>,
    #[serde(default)]
    state: Option<Admin>,
}

/// `POST /servers`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Many {
    set: Vec<Setting>,
}

async fn answer(proxy: &ProxyHandle, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().trim_end_matches('/').to_string();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        (Method::GET, ["servers"]) => reply(StatusCode::OK, document(proxy)),
        (Method::POST, ["servers"]) => match body::<Many>(req).await {
            Ok(m) => change(proxy, &m.set),
            Err(e) => e,
        },
        (Method::POST, ["servers", name]) => {
            let name = name.to_string();
            match body::<One>(req).await {
                Ok(one) => change(
                    proxy,
                    &[Setting {
                        name,
                        weight: one.weight,
                        state: one.state,
                    }],
                ),
                Err(e) => e,
            }
        }
        (_, ["servers"] | ["servers", _]) => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "use GET /servers, POST /servers or POST /servers/NAME",
        ),
        _ => error(
            StatusCode::NOT_FOUND,
            "not found: the admin API has GET /servers, POST /servers and POST /servers/NAME",
        ),
    }
}

fn change(proxy: &ProxyHandle, set: &[Setting]) -> Response<Full<Bytes>> {
    let Some(splitter) = proxy.splitter() else {
        return error(StatusCode::CONFLICT, "this proxy does not split");
    };
    if let Some(unknown) = set.iter().find(|s| splitter.index(&s.name).is_none()) {
        return error(
            StatusCode::NOT_FOUND,
            &format!("no server `{}`", unknown.name),
        );
    }
    match splitter.set(set) {
        Ok(()) => reply(StatusCode::OK, document(proxy)),
        Err(e) => error(StatusCode::BAD_REQUEST, &e),
    }
}

async fn body<T: serde::de::DeserializeOwned>(
    req: Request<Incoming>,
) -> std::result::Result<T, Response<Full<Bytes>>> {
    let bytes = Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| {
            error(
                StatusCode::BAD_REQUEST,
                &format!("cannot read the body: {e}"),
            )
        })?
        .to_bytes();
    serde_json::from_slice(&bytes)
        .map_err(|e| error(StatusCode::BAD_REQUEST, &format!("bad JSON: {e}")))
}

fn reply(status: StatusCode, value: serde_json::Value) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(
        serde_json::to_vec_pretty(&value).unwrap_or_default(),
    )));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

fn error(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    reply(status, json!({ "error": message }))
}

#[cfg(test)]
mod tests {
    use super::super::split::ServerSpec;
    use super::super::{Proxy, ProxyMode};
    use super::*;

    async fn call(addr: SocketAddr, method: Method, path: &str, body: &str) -> (u16, String) {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "x")
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap();
        let resp = send.send_request(req).await.unwrap();
        let status = resp.status().as_u16();
        let b = resp.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&b).into_owned())
    }

    #[tokio::test]
    async fn reads_and_changes_weights_and_states_all_or_nothing() {
        let servers = [
            ServerSpec::parse("a=127.0.0.1:1").unwrap(),
            ServerSpec::parse("b=127.0.0.1:2,backup").unwrap(),
        ];
        let any = "127.0.0.1:0".parse().unwrap();
        let proxy = Proxy::start_split(any, &servers, ProxyMode::Http)
            .await
            .unwrap();
        let admin = serve(any, proxy.clone()).await.unwrap();
        let (status, body) = call(admin.addr(), Method::GET, "/servers", "").await;
        assert_eq!(status, 200);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["servers"][1]["backup"], true);
        let set = r#"{"set": [{"name": "a", "weight": 10, "state": "drain"}]}"#;
        let (status, body) = call(admin.addr(), Method::POST, "/servers", set).await;
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (
                v["servers"][0]["weight"].as_u64(),
                v["servers"][0]["state"].as_str()
            ),
            (Some(10), Some("drain"))
        );
        let (status, _) = call(
            admin.addr(),
            Method::POST,
            "/servers/b",
            r#"{"state": "maint"}"#,
        )
        .await;
        assert_eq!(status, 200);
        let bad = r#"{"set": [{"name": "a", "weight": 20}, {"name": "zz", "weight": 1}]}"#;
        assert_eq!(
            call(admin.addr(), Method::POST, "/servers", bad).await.0,
            404
        );
        let too_heavy = r#"{"weight": 999}"#;
        assert_eq!(
            call(admin.addr(), Method::POST, "/servers/a", too_heavy)
                .await
                .0,
            400
        );
        assert_eq!(
            call(admin.addr(), Method::POST, "/servers/a", "{nope")
                .await
                .0,
            400
        );
        assert_eq!(
            call(admin.addr(), Method::DELETE, "/servers", "").await.0,
            405
        );
        assert_eq!(call(admin.addr(), Method::GET, "/", "").await.0, 404);
        let view = proxy.splitter().unwrap().view();
        assert_eq!(
            (view[0].weight, view[1].state),
            (10, Admin::Maint),
            "nothing of the refused changes"
        );
        admin.shutdown().await;
        proxy.shutdown().await;
    }
}
