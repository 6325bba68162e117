//! Accepting TCP connections until told to stop: the loop the embedded demo shop and the
//! fault proxy share.

use std::future::Future;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Accepts connections (with `TCP_NODELAY`) and runs `serve` on each as a task, until `stop`
/// turns true or its sender is gone. Finished connections are reaped as it goes; those still
/// running are returned for the caller to drain or cut. A failed accept (out of file
/// descriptors, say) pauses for 10 ms instead of spinning.
pub(crate) async fn accept_until_stopped<F>(
    listener: &TcpListener,
    mut stop: watch::Receiver<bool>,
    mut serve: impl FnMut(TcpStream) -> F,
) -> JoinSet<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let mut connections = JoinSet::new();
    loop {
        if *stop.borrow() {
            break;
        }
        tokio::select! {
            changed = stop.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    connections.spawn(serve(stream));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections
}
