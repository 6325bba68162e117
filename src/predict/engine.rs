//! From history to a stored verdict: fit one [`ServiceModel`] per recorded service, split the
//! demand over services, hold the models against it, and write the predictions down. The CLI
//! and the scenario statement `predict` both come through [`predict`].

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::history::History;
use super::input::{Demand, HourLoad, PredictSpec, Request, Target};
use super::service::ServiceModel;
use super::store::{self, StoredPrediction};
use super::verdict::{verdict, Verdict};
use super::PredictError;
use crate::profile::{ProfileError, ProfileStore};
use crate::units::Timestamp;

/// Fits every service of `history`. Services with no loaded second are left out.
pub fn models(history: &History, seed: u64) -> Vec<ServiceModel> {
    history
        .services
        .keys()
        .filter_map(|name| {
            let mut m = ServiceModel::build(name, history.levels(name), seed)?;
            m.since_run = history.changed_at(name);
            Some(m)
        })
        .collect()
}

/// The fitted capacity (requests per second) of each service whose capacity was measured or
/// fitted — a plateau, the scalability law's Xmax, or the p99 curve's — not a knee-only guess
/// or a lower bound. `saturation()` measures throughput against it where no `capacity N` is
/// declared (the run passes it in at its start, from the history before the run).
pub fn fitted_capacities(history: &History, seed: u64) -> BTreeMap<String, f64> {
    use super::service::CapacityMethod as M;
    models(history, seed)
        .into_iter()
        .filter(|m| matches!(m.capacity.method, M::MeasuredPlateau | M::Usl))
        .filter(|m| m.capacity.rate.point > 0.0)
        .map(|m| (m.service, m.capacity.rate.point))
        .collect()
}

/// Each service's share of the offered load recorded in `history`: the mix to split a total
/// rate by when the scenario declares none.
pub fn recorded_shares(history: &History) -> BTreeMap<String, f64> {
    let totals: BTreeMap<String, f64> = history
        .services
        .iter()
        .map(|(k, v)| {
            let offered = v.iter().map(|l| l.offered * l.seconds as f64).sum::<f64>();
            (k.clone(), offered)
        })
        .collect();
    let all: f64 = totals.values().sum();
    totals
        .into_iter()
        .map(|(k, v)| (k, if all > 0.0 { v / all } else { 0.0 }))
        .collect()
}

/// The request for `spec`, its total load split by `mix` (the recorded shares when the
/// scenario declares no mix).
pub fn request(spec: &PredictSpec, history: &History, seed: u64) -> Request {
    let mix = if spec.mix.is_empty() {
        recorded_shares(history)
    } else {
        spec.mix.clone()
    };
    let split = |total: f64| -> BTreeMap<String, f64> {
        mix.iter().map(|(k, s)| (k.clone(), total * s)).collect()
    };
    let target = match &spec.demand {
        Demand::Rate(r) => Target::Rates(split(*r)),
        Demand::Hours(h) => Target::Horizon(
            h.iter()
                .map(|&(at, rate)| HourLoad {
                    at,
                    rates: split(rate),
                })
                .collect(),
        ),
    };
    Request {
        target,
        slos: spec.slos.clone(),
        seed,
    }
}

/// What a prediction produced: the verdict and the ids its predictions were stored under.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub system: String,
    /// RFC 3339, UTC.
    pub made_at: String,
    pub notes: Vec<String>,
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Ids in the `predictions` table; empty when not stored.
    pub stored: Vec<u64>,
}

/// Predicts `spec` from the database at `db`. `store_them` writes the predictions down
/// (which needs the write lock: not while a run records into the same file).
pub fn predict(
    db: &Path,
    spec: &PredictSpec,
    seed: u64,
    made_at: Timestamp,
    store_them: bool,
) -> Result<Outcome, PredictError> {
    let no_runs = || PredictError::NoRuns {
        what: format!("system `{}`", spec.system),
        path: db.to_path_buf(),
    };
    let history = {
        let s = match ProfileStore::open(db) {
            Ok(s) => s,
            Err(ProfileError::Missing { .. }) => return Err(no_runs()),
            Err(e) => return Err(e.into()),
        };
        History::read(&s, Some(&spec.system))?
    };
    if history.is_empty() {
        return Err(no_runs());
    }
    let models = models(&history, seed);
    let req = request(spec, &history, seed);
    let v = verdict(&models, &history.runs, &req);
    let stored: Vec<StoredPrediction> = if store_them {
        store::save(db, store::records(&v, made_at))?
    } else {
        Vec::new()
    };
    Ok(Outcome {
        system: spec.system.clone(),
        made_at: made_at.to_rfc3339(),
        notes: spec.notes.clone(),
        verdict: v,
        stored: stored.iter().map(|p| p.id).collect(),
    })
}
