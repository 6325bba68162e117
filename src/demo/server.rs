//! One listener's life: accept connections, serve HTTP/1.1 and HTTP/2 on each, stop cleanly.
//!
//! On shutdown the accept loop ends, every open connection is asked to finish its current
//! request and close, and whatever is still open after a grace period is cut. Accept errors
//! (out of file descriptors, say) pause the loop briefly instead of ending it.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::http::Body;

/// How long open connections get to finish once shutdown starts.
const GRACE: Duration = Duration::from_secs(3);

/// A client that sends no complete request head within this time is disconnected.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `handler` on `listener` until `stop` turns true or its sender is dropped.
pub fn spawn<H, Fut>(
    listener: TcpListener,
    stop: watch::Receiver<bool>,
    handler: H,
) -> JoinHandle<()>
where
    H: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    tokio::spawn(accept_loop(listener, stop, handler))
}

async fn accept_loop<H, Fut>(listener: TcpListener, stop: watch::Receiver<bool>, handler: H)
where
    H: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let mut connections = crate::net::accept_until_stopped(&listener, stop.clone(), |stream| {
        serve_connection(stream, stop.clone(), handler.clone())
    })
    .await;
    drop(listener);
    let drained = tokio::time::timeout(GRACE, async {
        while connections.join_next().await.is_some() {}
    });
    if drained.await.is_err() {
        connections.shutdown().await;
    }
}

async fn serve_connection<H, Fut>(
    stream: tokio::net::TcpStream,
    mut stop: watch::Receiver<bool>,
    handler: H,
) where
    H: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let service = service_fn(move |req| {
        let response = handler(req);
        async move { Ok::<_, Infallible>(response.await) }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    let stopping = async {
        while !*stop.borrow_and_update() {
            if stop.changed().await.is_err() {
                break;
            }
        }
    };
    tokio::select! {
        _ = connection.as_mut() => return,
        () = stopping => {}
    }
    connection.as_mut().graceful_shutdown();
    let _ = connection.await;
}
