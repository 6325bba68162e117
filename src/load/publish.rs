//! A running load's per-second snapshots, published two ways: the newest on a watch channel
//! (a progress line wants only the latest) and every one, in order, to each subscriber (the
//! interpreter's metrics, which must lose none — a watch keeps only the newest, so a final
//! snapshot sent a few milliseconds after a tick would hide that tick's second).

use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, watch};

use super::result::Snapshot;

pub(crate) struct Publisher {
    watch: watch::Sender<Arc<Snapshot>>,
    all: Mutex<Vec<mpsc::UnboundedSender<Arc<Snapshot>>>>,
}

impl Publisher {
    pub fn new(watch: watch::Sender<Arc<Snapshot>>) -> Publisher {
        Publisher {
            watch,
            all: Mutex::new(Vec::new()),
        }
    }

    /// Hands `snapshot` to every subscriber still listening, then to the watch.
    pub fn send(&self, snapshot: Arc<Snapshot>) {
        if let Ok(mut all) = self.all.lock() {
            all.retain(|tx| tx.send(snapshot.clone()).is_ok());
        }
        let _ = self.watch.send(snapshot);
    }

    /// Every snapshot from now on goes to `tx` too.
    pub fn subscribe(&self, tx: mpsc::UnboundedSender<Arc<Snapshot>>) {
        if let Ok(mut all) = self.all.lock() {
            all.push(tx);
        }
    }
}
