//! Every prediction is written down before its outcome exists, in the profile database's
//! `predictions` table (schema version 3), so that `res predict score` can later hold it
//! against what a run measured.

use std::path::Path;

use redb::{ReadTransaction, ReadableTable};
use serde::{Deserialize, Serialize};

use super::input::Quantity;
use super::verdict::Verdict;
use super::PredictError;
use crate::profile::schema::PREDICTIONS;
use crate::profile::{open_for_writing, ProfileStore};
use crate::units::Timestamp;

/// One stored prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredPrediction {
    pub id: u64,
    /// RFC 3339, UTC.
    pub made_at: String,
    /// The runs the models were fitted on.
    pub runs: Vec<u64>,
    pub model_version: String,
    /// Which model gave the value: `interpolated`, `extrapolated`, or the capacity method.
    pub model: String,
    pub service: String,
    /// The offered rate predicted at (requests per second).
    pub at_rate: f64,
    /// The hour predicted at, when the rate came from a forecast (RFC 3339).
    #[serde(default)]
    pub at_time: Option<String>,
    /// p99_ms, error_rate, saturation or capacity.
    pub quantity: String,
    pub point: f64,
    pub lo: f64,
    pub hi: f64,
}

/// The predictions of a verdict worth scoring: per service, its capacity, and its p99 and
/// error rate at the peak load asked about.
pub fn records(v: &Verdict, made_at: Timestamp) -> Vec<StoredPrediction> {
    let mut out = Vec::new();
    for s in &v.services {
        let mut push = |model: String,
                        rate: f64,
                        at: Option<Timestamp>,
                        q: Quantity,
                        iv: super::bootstrap::Interval| {
            out.push(StoredPrediction {
                id: 0,
                made_at: made_at.to_rfc3339(),
                runs: v.runs.clone(),
                model_version: v.model_version.to_string(),
                model,
                service: s.service.clone(),
                at_rate: rate,
                at_time: at.map(|t| t.to_rfc3339()),
                quantity: q.name().to_string(),
                point: iv.point,
                lo: iv.lo,
                hi: iv.hi,
            })
        };
        let cap = s.model.capacity;
        push(
            serde_json::to_value(cap.method)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            0.0,
            None,
            Quantity::Capacity,
            cap.rate,
        );
        if let (Some(p), Some(a)) = (s.peak, s.at_peak) {
            let model = |e: bool| if e { "extrapolated" } else { "interpolated" }.to_string();
            push(
                model(a.p99_ms.extrapolated),
                p.rate,
                p.at,
                Quantity::P99Ms,
                a.p99_ms.value,
            );
            push(
                model(a.error_rate.extrapolated),
                p.rate,
                p.at,
                Quantity::ErrorRate,
                a.error_rate.value,
            );
        }
    }
    out
}

/// Appends `records` (ids assigned here) and returns them as stored.
pub fn save(
    path: &Path,
    records: Vec<StoredPrediction>,
) -> Result<Vec<StoredPrediction>, PredictError> {
    let err = |e: &dyn std::fmt::Display| PredictError::Store {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let db = open_for_writing(path)?;
    let txn = db.begin_write().map_err(|e| err(&e))?;
    let mut saved = Vec::with_capacity(records.len());
    {
        let mut t = txn.open_table(PREDICTIONS).map_err(|e| err(&e))?;
        let first = t
            .last()
            .map_err(|e| err(&e))?
            .map(|(k, _)| k.value() + 1)
            .unwrap_or(1);
        for (id, mut r) in (first..).zip(records) {
            r.id = id;
            let bytes = serde_json::to_vec(&r).map_err(|e| err(&e))?;
            t.insert(r.id, bytes.as_slice()).map_err(|e| err(&e))?;
            saved.push(r);
        }
    }
    txn.commit().map_err(|e| err(&e))?;
    Ok(saved)
}

/// Every stored prediction, oldest first.
pub fn list(store: &ProfileStore) -> Result<Vec<StoredPrediction>, PredictError> {
    Ok(store.read(read_all)?)
}

fn read_all(txn: &ReadTransaction) -> Result<Vec<StoredPrediction>, String> {
    crate::profile::json_rows(txn, PREDICTIONS, "prediction")
}
