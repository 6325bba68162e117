//! The handle to a running load: change its rate, watch it, stop it.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::aggregator::Aggregator;
use super::result::{LoadResult, Snapshot};
use super::shared::Shared;

/// How close to the end a stop counts as at the end.
const END_TOLERANCE: Duration = Duration::from_millis(2);

pub(crate) enum Pacer {
    None,
    Thread(oneshot::Receiver<()>),
    Task(JoinHandle<()>),
}

/// A running load. Dropping it without `stop` stops issuing at the end of the duration but
/// loses the result.
pub struct LoadHandle {
    pub(crate) shared: Arc<Shared>,
    pub(crate) aggregator: Arc<Mutex<Aggregator>>,
    pub(crate) live_tx: Arc<super::publish::Publisher>,
    pub(crate) live: watch::Receiver<Arc<Snapshot>>,
    pub(crate) workers: Vec<JoinHandle<()>>,
    pub(crate) ticker: JoinHandle<()>,
    pub(crate) pacer: Pacer,
    pub(crate) model: &'static str,
    /// How long in-flight requests may take to finish once issuing stops.
    pub(crate) grace: Duration,
    /// The event loops of the workers; dropped last.
    pub(crate) _threads: super::threads::Threads,
}

impl LoadHandle {
    /// Multiplies the scheduled rate from now on (`load X at 10%` is 0.1). In the closed
    /// model it sets the share of users that keep sending (at most all of them).
    pub fn set_scale(&self, scale: f64) {
        self.shared.set_scale(scale);
    }

    pub fn scale(&self) -> f64 {
        self.shared.scale()
    }

    /// A receiver of the snapshot published every second.
    pub fn live(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.live.clone()
    }

    /// Every snapshot from now on, in order, also goes to `tx` (none is lost, as the
    /// watch of [`live`](Self::live) may lose one when two come close together).
    pub fn subscribe(&self, tx: tokio::sync::mpsc::UnboundedSender<Arc<Snapshot>>) {
        self.live_tx.subscribe(tx);
    }

    /// The time since the start.
    pub fn elapsed(&self) -> Duration {
        self.shared.start.elapsed()
    }

    /// True once the duration is over or `stop` was requested.
    pub fn is_finished(&self) -> bool {
        self.shared.over()
    }

    /// Resolves when the duration is over (or the run was stopped).
    pub async fn finished(&self) {
        let end = tokio::time::Instant::from_std(self.shared.end);
        tokio::select! {
            _ = tokio::time::sleep_until(end) => {}
            _ = self.shared.stop.wait() => {}
        }
    }

    /// Runs to the end of the duration, then returns the result.
    pub async fn join(self) -> LoadResult {
        self.finished().await;
        self.stop().await
    }

    /// Stops issuing now, waits for requests in flight (up to their timeout) and returns
    /// what was measured. Called at or after the end of the duration, it first lets every
    /// request due before the end leave (the pacer's last ticks, a queue behind a slow
    /// target), within the same grace period; called earlier, what is still queued is
    /// counted as `unsent`.
    pub async fn stop(mut self) -> LoadResult {
        let mut now = Instant::now();
        // A stop meant for the end that comes a hair early (a caller's clock rounding) is
        // taken as at the end, rather than cutting off the last arrival.
        if now < self.shared.end && self.shared.end - now <= END_TOLERANCE {
            tokio::time::sleep_until(tokio::time::Instant::from_std(self.shared.end)).await;
            now = Instant::now();
        }
        let stopped = now.min(self.shared.end);
        let deadline = tokio::time::Instant::now() + self.grace;
        if now >= self.shared.end && !self.shared.stop.is_set() {
            self.wait_for_pacer(deadline).await;
            while self.shared.queue.len() > 0 && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        self.shared.stop.set();
        self.wait_for_pacer(deadline).await;
        let left = self.shared.queue.close();
        self.shared.unsent.fetch_add(left, Ordering::Relaxed);
        for w in &mut self.workers {
            if tokio::time::timeout_at(deadline, &mut *w).await.is_err() {
                w.abort();
            }
        }
        // The ticker runs on the load's own runtime: `abort` takes effect at its next await,
        // and it may be between taking a second out of the aggregator and sending it. Wait
        // until it has really stopped, or that second would reach subscribers after the final
        // snapshot — after a run had taken in its last seconds (a shard lost one that way).
        self.ticker.abort();
        let _ = (&mut self.ticker).await;
        let mut agg = self.aggregator.lock().unwrap_or_else(|e| e.into_inner());
        let snapshot = agg.tick(&self.shared, Instant::now(), true);
        self.live_tx.send(Arc::new(snapshot));
        let duration = stopped
            .saturating_duration_since(self.shared.start)
            .as_secs_f64();
        let intended = match self.model {
            "closed" => None,
            _ => Some(self.shared.intended.load(Ordering::Relaxed)),
        };
        agg.result(
            self.model,
            duration,
            intended,
            self.shared.unsent.load(Ordering::Relaxed),
        )
    }
}

impl LoadHandle {
    async fn wait_for_pacer(&mut self, deadline: tokio::time::Instant) {
        match std::mem::replace(&mut self.pacer, Pacer::None) {
            Pacer::None => {}
            Pacer::Thread(done) => {
                let _ = tokio::time::timeout_at(deadline, done).await;
            }
            Pacer::Task(task) => {
                let _ = tokio::time::timeout_at(deadline, task).await;
            }
        }
    }
}

impl Drop for LoadHandle {
    fn drop(&mut self) {
        // A handle dropped without `stop` (a panic in the interpreter, say) must not leave
        // the pacer or the workers running.
        self.shared.stop.set();
        self.shared.queue.close();
        self.ticker.abort();
    }
}
