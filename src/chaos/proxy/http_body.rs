//! The body type of an HTTP-mode proxy: the upstream's body passed through untouched, a small
//! injected answer, or a shaped stream whose chunks are released at their scheduled times.
//!
//! Shaping cannot happen inside `poll_frame` alone: a body that is only polled when the client
//! wants more cannot stamp chunks when they arrive. A shaped body therefore has a reader task
//! that pulls the upstream body as fast as it comes, stamps each chunk with its release time
//! ([`Schedule`]) and hands it over a channel; `poll_frame` waits for each release time.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use tokio::sync::mpsc;
use tokio::time::Sleep;

use super::pool::Lease;
use super::schedule::{Schedule, Shaping, TIMER_SLACK};

/// Frames a shaped body reads ahead of the client.
const READ_AHEAD: usize = 1024;

pub enum ProxyBody {
    Full(Option<Bytes>),
    /// The upstream's body, and the connection it came on.
    Upstream {
        body: Incoming,
        lease: Option<Lease>,
    },
    /// A client's request body on its way to the upstream.
    Request(Incoming),
    Shaped(Box<Shaped>),
}

pub struct Shaped {
    hint: SizeHint,
    rx: mpsc::Receiver<(Instant, Frame<Bytes>)>,
    pending: Option<(Pin<Box<Sleep>>, Frame<Bytes>)>,
}

impl ProxyBody {
    pub fn text(text: String) -> ProxyBody {
        ProxyBody::Full(Some(Bytes::from(text)))
    }

    /// A body that releases `body`'s chunks on `shaping`'s schedule, stamped on arrival.
    pub fn shaped(mut body: Incoming, mut lease: Option<Lease>, shaping: Shaping) -> ProxyBody {
        let hint = body.size_hint();
        let (tx, rx) = mpsc::channel(READ_AHEAD);
        tokio::spawn(async move {
            let mut schedule = Schedule::new(shaping);
            let mut pieces = VecDeque::new();
            let mut last = Instant::now();
            while let Some(frame) = body.frame().await {
                let Ok(frame) = frame else { return };
                let frame = match frame.into_data() {
                    Ok(data) => {
                        schedule.push(Instant::now(), data, &mut pieces);
                        for (due, piece) in pieces.drain(..) {
                            last = due;
                            if tx.send((due, Frame::data(piece))).await.is_err() {
                                return;
                            }
                        }
                        continue;
                    }
                    Err(frame) => frame,
                };
                if tx.send((last, frame)).await.is_err() {
                    return;
                }
            }
            if let Some(lease) = lease.as_mut() {
                lease.release();
            }
        });
        ProxyBody::Shaped(Box::new(Shaped {
            hint,
            rx,
            pending: None,
        }))
    }
}

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        match self.get_mut() {
            ProxyBody::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            ProxyBody::Request(body) => Pin::new(body).poll_frame(cx),
            ProxyBody::Upstream { body, lease } => {
                let polled = Pin::new(&mut *body).poll_frame(cx);
                match &polled {
                    Poll::Ready(None) => release(lease),
                    Poll::Ready(Some(Ok(_))) if body.is_end_stream() => release(lease),
                    Poll::Ready(Some(Err(_))) => *lease = None,
                    _ => {}
                }
                polled
            }
            ProxyBody::Shaped(shaped) => loop {
                if let Some((sleep, _)) = shaped.pending.as_mut() {
                    if sleep.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    if let Some((_, frame)) = shaped.pending.take() {
                        return Poll::Ready(Some(Ok(frame)));
                    }
                }
                match shaped.rx.poll_recv(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(None) => return Poll::Ready(None),
                    Poll::Ready(Some((due, frame))) => {
                        if due <= Instant::now() + TIMER_SLACK {
                            return Poll::Ready(Some(Ok(frame)));
                        }
                        let wake = due.checked_sub(TIMER_SLACK).unwrap_or(due).into();
                        shaped.pending = Some((Box::pin(tokio::time::sleep_until(wake)), frame));
                    }
                }
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ProxyBody::Full(data) => data.is_none(),
            ProxyBody::Request(body) => body.is_end_stream(),
            ProxyBody::Upstream { body, .. } => body.is_end_stream(),
            ProxyBody::Shaped(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ProxyBody::Full(data) => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            ProxyBody::Request(body) => body.size_hint(),
            ProxyBody::Upstream { body, .. } => body.size_hint(),
            ProxyBody::Shaped(shaped) => shaped.hint,
        }
    }
}

fn release(lease: &mut Option<Lease>) {
    if let Some(mut lease) = lease.take() {
        lease.release();
    }
}
