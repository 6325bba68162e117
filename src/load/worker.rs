//! Workers of the open and session models: each owns one connection (opened on first use,
//! reopened after a failure) and sends whatever ticket the queue hands it.
//!
//! Latency is taken from the ticket's intended time, service time from the moment the worker
//! picked it up; the difference is the send lag. That is how a stalled target shows up in the
//! latency of every request it delayed, not only of those it held (coordinated omission).

use std::sync::Arc;
use std::time::Instant;

use super::connection::Connection;
use super::error_kind::ErrorKind;
use super::request::{CompiledRequest, Rendered};
use super::shared::Shared;
use super::watchdog::Watchdog;

pub(crate) async fn open_worker(shared: Arc<Shared>) {
    let mut conn: Option<Connection> = None;
    let mut watchdog = Watchdog::new();
    while let Some(ticket) = shared.queue.pop().await {
        let req = &shared.mix.requests[ticket.request];
        let sent_at = Instant::now();
        shared.started(req.service);
        let error = send(
            &shared,
            &mut conn,
            &mut watchdog,
            req,
            ticket.rendered,
            sent_at,
        )
        .await
        .err();
        let done = Instant::now();
        shared.stats.record(
            req.service,
            done.saturating_duration_since(ticket.intended),
            done - sent_at,
            Some(sent_at.saturating_duration_since(ticket.intended)),
            error,
        );
        if let Some(d) = ticket.done {
            let _ = d.send(());
        }
    }
}

/// One request on the worker's connection, within the request's timeout (connecting
/// included). Any failure other than an unexpected status closes the connection.
pub(crate) async fn send(
    shared: &Shared,
    conn: &mut Option<Connection>,
    watchdog: &mut Watchdog,
    req: &CompiledRequest,
    rendered: Option<Rendered>,
    sent_at: Instant,
) -> Result<(), ErrorKind> {
    let deadline = tokio::time::Instant::from_std(sent_at + req.timeout);
    let attempt = async {
        if conn.as_mut().is_some_and(|c| !c.is_open()) {
            *conn = None;
        }
        let c = match conn {
            Some(c) => c,
            // Boxed: connecting (TLS included) needs a large future, but only now and then;
            // kept inline it would sit in every idle worker's state.
            None => conn.insert(Box::pin(Connection::open(&shared.target)).await?),
        };
        match c.exchange(req, rendered, shared.body_limit).await {
            Ok(resp) => {
                shared.stats.status(req.service, resp.status);
                if req.accepts(resp.status) {
                    Ok(())
                } else {
                    Err(ErrorKind::Status)
                }
            }
            Err(kind) => {
                *conn = None;
                Err(kind)
            }
        }
    };
    let outcome = watchdog.run(deadline, attempt).await;
    match outcome {
        Some(r) => r,
        None => {
            *conn = None;
            Err(ErrorKind::Timeout)
        }
    }
}
