//! The generator's own event loops: one single-threaded tokio runtime per thread, each
//! driving its share of the connections, like wrk's threads.
//!
//! Why not the caller's multi-threaded runtime: a connection's task, its socket readiness and
//! its timers then all live on one thread, so a request costs no cross-thread wake-ups or work
//! stealing. On the two-core benchmark machine this is the difference between 0.7× and parity
//! with wrk in the closed loop. Dropping [`Threads`] ends the loops (and whatever is left on
//! them).

use std::cell::Cell;
use std::future::Future;

use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub(crate) struct Threads {
    handles: Vec<Handle>,
    /// Dropping a sender ends its thread's loop.
    _stops: Vec<oneshot::Sender<()>>,
}

impl Threads {
    /// Starts `n` (at least one) threads.
    pub fn start(n: usize) -> std::io::Result<Threads> {
        let mut handles = Vec::new();
        let mut stops = Vec::new();
        for i in 0..n.max(1) {
            let (handle_tx, handle_rx) = std::sync::mpsc::channel();
            let (stop_tx, stop_rx) = oneshot::channel::<()>();
            std::thread::Builder::new()
                .name(format!("res-load-{i}"))
                .spawn(move || {
                    LANE.with(|l| l.set(Some(i)));
                    // Precise pacing in the lanes (`super::lanes`) sleeps on a timerfd here:
                    // no slack, so a request leaves within microseconds of its time.
                    #[cfg(target_os = "linux")]
                    let _ = nix::sys::prctl::set_timerslack(1_000);
                    let runtime = crate::runtime::current_thread().map_err(std::io::Error::other);
                    match runtime {
                        Ok(rt) => {
                            let _ = handle_tx.send(Ok(rt.handle().clone()));
                            rt.block_on(async {
                                let _ = stop_rx.await;
                            });
                        }
                        Err(e) => {
                            let _ = handle_tx.send(Err(e));
                        }
                    }
                })?;
            let handle = handle_rx
                .recv()
                .map_err(|_| std::io::Error::other("a load thread ended before starting"))??;
            handles.push(handle);
            stops.push(stop_tx);
        }
        Ok(Threads {
            handles,
            _stops: stops,
        })
    }

    /// How many threads there are.
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// Spawns the `i`-th task, spreading tasks round-robin over the threads.
    pub fn spawn<F>(&self, i: usize, task: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handles[i % self.handles.len()].spawn(task)
    }
}

thread_local! {
    static LANE: Cell<Option<usize>> = const { Cell::new(None) };
}

/// The index of the load thread this runs on, if it is one.
pub(crate) fn current_lane() -> Option<usize> {
    LANE.with(Cell::get)
}

/// The number of threads when the spec leaves it to the engine: one per CPU.
pub(crate) fn default_count() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}
