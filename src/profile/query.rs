//! Reading the tables back: plain functions over a read transaction, shared by the query
//! handle (`ProfileStore`) and the writer (which derives the profile after a run).

use std::collections::BTreeMap;

use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;
use redb::{ReadTransaction, ReadableTable, TableDefinition, TableError};
use serde::de::DeserializeOwned;

use super::derive::{Obs, RunObs, ServiceProfile};
use super::sample_codec;
use super::schema::{
    EventRecord, ExpectationRecord, FaultRecord, RemediationRecord, RunRecord, ABORTS, EVENTS,
    EXPECTATIONS, FAULTS, HISTOGRAMS, PROFILE, REMEDIATIONS, RUNS, SAMPLES,
};
use crate::report::SeriesPoint;

type Res<T> = Result<T, String>;

/// Every run, in id order.
pub fn runs(txn: &ReadTransaction) -> Res<Vec<RunRecord>> {
    json_rows(txn, RUNS, "run")
}

/// Every row of a table of JSON values keyed by id, in id order (none when the table was never
/// created); a row that does not decode is an error naming `what` and its id.
pub fn json_rows<T: DeserializeOwned>(
    txn: &ReadTransaction,
    table: TableDefinition<u64, &[u8]>,
    what: &str,
) -> Res<Vec<T>> {
    let t = match txn.open_table(table) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.to_string()),
    };
    let mut out = Vec::new();
    for entry in t.iter().map_err(|e| e.to_string())? {
        let (k, v) = entry.map_err(|e| e.to_string())?;
        out.push(json(v.value()).map_err(|e| format!("{what} {}: {e}", k.value()))?);
    }
    Ok(out)
}

/// One run.
pub fn run(txn: &ReadTransaction, id: u64) -> Res<Option<RunRecord>> {
    let t = match txn.open_table(RUNS) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let got = t.get(id).map_err(|e| e.to_string())?;
    got.map(|v| json(v.value())).transpose()
}

/// The run's samples, by service, then second.
pub fn samples(txn: &ReadTransaction, run: u64) -> Res<Vec<SeriesPoint>> {
    let t = match txn.open_table(SAMPLES) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.to_string()),
    };
    let mut out = Vec::new();
    for entry in t
        .range((run, "", 0u64)..(run + 1, "", 0u64))
        .map_err(|e| e.to_string())?
    {
        let (k, v) = entry.map_err(|e| e.to_string())?;
        let (_, service, sec) = k.value();
        out.push(sample_codec::decode(service, sec, v.value())?);
    }
    Ok(out)
}

/// The latency histogram stored for one service's second, if one was recorded.
pub fn histogram(
    txn: &ReadTransaction,
    run: u64,
    service: &str,
    sec: u64,
) -> Res<Option<Histogram<u64>>> {
    let t = match txn.open_table(HISTOGRAMS) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let Some(v) = t.get((run, service, sec)).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let mut bytes = v.value();
    Deserializer::new()
        .deserialize(&mut bytes)
        .map(Some)
        .map_err(|e| format!("histogram: {e:?}"))
}

fn seq_table<T: DeserializeOwned>(
    txn: &ReadTransaction,
    def: TableDefinition<(u64, u32), &[u8]>,
    run: u64,
) -> Res<Vec<T>> {
    let t = match txn.open_table(def) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.to_string()),
    };
    let mut out = Vec::new();
    for entry in t
        .range((run, 0)..=(run, u32::MAX))
        .map_err(|e| e.to_string())?
    {
        let (_, v) = entry.map_err(|e| e.to_string())?;
        out.push(json(v.value())?);
    }
    Ok(out)
}

pub fn faults(txn: &ReadTransaction, run: u64) -> Res<Vec<FaultRecord>> {
    seq_table(txn, FAULTS, run)
}

pub fn events(txn: &ReadTransaction, run: u64) -> Res<Vec<EventRecord>> {
    seq_table(txn, EVENTS, run)
}

pub fn aborts(txn: &ReadTransaction, run: u64) -> Res<Vec<EventRecord>> {
    seq_table(txn, ABORTS, run)
}

pub fn remediations(txn: &ReadTransaction, run: u64) -> Res<Vec<RemediationRecord>> {
    seq_table(txn, REMEDIATIONS, run)
}

pub fn expectations(txn: &ReadTransaction, run: u64) -> Res<Vec<ExpectationRecord>> {
    seq_table(txn, EXPECTATIONS, run)
}

/// The profile stored by the last `finish`, by service.
pub fn stored_profile(txn: &ReadTransaction) -> Res<Vec<ServiceProfile>> {
    let t = match txn.open_table(PROFILE) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.to_string()),
    };
    let mut out = Vec::new();
    for entry in t.iter().map_err(|e| e.to_string())? {
        let (_, v) = entry.map_err(|e| e.to_string())?;
        out.push(json(v.value())?);
    }
    Ok(out)
}

/// What the derivations need of one run: its samples reduced to [`Obs`], and its faults.
///
/// Of a run that never finished, only the seconds up to its last known state count: a
/// second whose faults may be missing must not pass for a clean one. A run recorded live
/// committed each fault and event in the same transaction as the seconds around it, so
/// every stored second is known; an older run stored its faults only at the end, so only
/// the seconds before its last stored event or fault (none, when it died) are known.
pub fn run_obs(txn: &ReadTransaction, r: &RunRecord) -> Res<RunObs> {
    let faults = faults(txn, r.id)?;
    let horizon = if r.complete || r.live {
        f64::INFINITY
    } else {
        let last_event = events(txn, r.id)?.last().map(|e| e.at_s);
        let last_fault = faults.last().map(|f| f.at_s);
        last_event.into_iter().chain(last_fault).fold(0.0, f64::max)
    };
    let mut services: BTreeMap<String, Vec<Obs>> = BTreeMap::new();
    for p in samples(txn, r.id)? {
        if (p.t + 1) as f64 > horizon {
            continue;
        }
        services
            .entry(p.service.clone())
            .or_default()
            .push(Obs::from(&p));
    }
    Ok(RunObs {
        id: r.id,
        services,
        faults,
    })
}

fn json<T: DeserializeOwned>(bytes: &[u8]) -> Res<T> {
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}
