//! The `levels` table: each finished run's load levels per service (`levels.rs`), stored so
//! a prediction over a thousand runs reads a few dozen rows per service instead of every
//! recorded second. Rows are written at `finish`, in the transaction that marks the run
//! complete, and by schema version 4's migration for runs recorded before; a run without rows
//! (unfinished, imported, or recorded by an older build) is reduced from its seconds when read.
//!
//! The codec is fixed-width little-endian, so a level reads back bit for bit as it was
//! reduced: a version byte, then per level the run and the seconds (u64) and fourteen f64.
//! Version 1 rows (schema 4: levels by per-second rate, p99 a median of per-second p99s) are
//! rewritten by the migration to schema 5 and refused if met.

use std::collections::BTreeMap;

use redb::{ReadTransaction, ReadableTable, TableError, WriteTransaction};

use super::levels::{run_levels, Level};
use super::sample_codec;
use super::schema::{FaultRecord, LEVELS, SAMPLES};

type Res<T> = Result<T, String>;

/// Version 2 (schema 5): the levels of plateaus, with the merged latency quantiles.
const CODEC_VERSION: u8 = 2;
const WIDTH: usize = 16 * 8;

/// Encodes one service's levels.
pub fn encode(levels: &[Level]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + levels.len() * WIDTH);
    out.push(CODEC_VERSION);
    for l in levels {
        out.extend_from_slice(&l.run.to_le_bytes());
        out.extend_from_slice(&(l.seconds as u64).to_le_bytes());
        for x in [
            l.offered,
            l.goodput,
            l.goodput_lo,
            l.goodput_hi,
            l.concurrency,
            l.p99_ms,
            l.p99_lo,
            l.p99_hi,
            l.error_rate,
            l.answered,
            l.p50_ms,
            l.p90_ms,
            l.p999_ms,
            l.max_ms,
        ] {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    out
}

/// Decodes what [`encode`] wrote.
pub fn decode(bytes: &[u8]) -> Res<Vec<Level>> {
    match bytes.split_first() {
        Some((&CODEC_VERSION, rest)) if rest.len() % WIDTH == 0 => Ok(rest
            .chunks_exact(WIDTH)
            .map(|c| {
                let w = |i: usize| {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(&c[i * 8..i * 8 + 8]);
                    b
                };
                let f = |i: usize| f64::from_le_bytes(w(i));
                Level {
                    run: u64::from_le_bytes(w(0)),
                    seconds: u64::from_le_bytes(w(1)) as usize,
                    offered: f(2),
                    goodput: f(3),
                    goodput_lo: f(4),
                    goodput_hi: f(5),
                    concurrency: f(6),
                    p99_ms: f(7),
                    p99_lo: f(8),
                    p99_hi: f(9),
                    error_rate: f(10),
                    answered: f(11),
                    p50_ms: f(12),
                    p90_ms: f(13),
                    p999_ms: f(14),
                    max_ms: f(15),
                }
            })
            .collect()),
        Some((&CODEC_VERSION, rest)) => Err(format!("levels row of {} bytes", rest.len() + 1)),
        other => Err(format!(
            "levels codec {:?}, expected {CODEC_VERSION}",
            other.map(|o| o.0)
        )),
    }
}

/// Reduces run `run`'s recorded seconds (as this transaction sees them) to levels and stores
/// them, one row per service that recorded a second (replacing any row stored before).
pub fn derive_and_store(txn: &WriteTransaction, run: u64) -> Res<()> {
    let e = |e: redb::StorageError| e.to_string();
    let mut points = Vec::new();
    {
        let t = txn.open_table(SAMPLES).map_err(|e| e.to_string())?;
        for entry in t.range((run, "", 0u64)..(run + 1, "", 0u64)).map_err(e)? {
            let (k, v) = entry.map_err(e)?;
            let (_, service, sec) = k.value();
            points.push(sample_codec::decode(service, sec, v.value())?);
        }
    }
    let mut faults: Vec<FaultRecord> = Vec::new();
    {
        let t = txn
            .open_table(super::schema::FAULTS)
            .map_err(|e| e.to_string())?;
        for entry in t.range((run, 0)..=(run, u32::MAX)).map_err(e)? {
            let (_, v) = entry.map_err(e)?;
            faults.push(serde_json::from_slice(v.value()).map_err(|e| e.to_string())?);
        }
    }
    let by_service = run_levels(run, &points, fault_rows(&faults), |_| true);
    let mut t = txn.open_table(LEVELS).map_err(|e| e.to_string())?;
    for (service, levels) in by_service {
        t.insert((run, service.as_str()), encode(&levels).as_slice())
            .map_err(e)?;
    }
    Ok(())
}

/// A run's fault log as [`run_levels`] takes it.
pub fn fault_rows(faults: &[FaultRecord]) -> impl Iterator<Item = (&str, &str, &str, f64)> {
    faults.iter().map(|f| {
        (
            f.fault.as_str(),
            f.target.as_str(),
            f.action.as_str(),
            f.at_s,
        )
    })
}

/// The stored levels of run `run`'s services that `wanted` picks; `None` when the run has no
/// rows (it never finished, or was recorded before levels were stored).
pub fn read(
    txn: &ReadTransaction,
    run: u64,
    wanted: impl Fn(&str) -> bool,
) -> Res<Option<BTreeMap<String, Vec<Level>>>> {
    let t = match txn.open_table(LEVELS) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let mut out = BTreeMap::new();
    let mut any = false;
    for entry in t
        .range((run, "")..(run + 1, ""))
        .map_err(|e| e.to_string())?
    {
        let (k, v) = entry.map_err(|e| e.to_string())?;
        any = true;
        let (_, service) = k.value();
        if wanted(service) {
            let levels = decode(v.value()).map_err(|e| format!("levels of run {run}: {e}"))?;
            out.insert(service.to_string(), levels);
        }
    }
    Ok(any.then_some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_round_trip_bit_for_bit() {
        let l = Level {
            run: 7,
            offered: 0.1 + 0.2,
            goodput: 1.0 / 3.0,
            goodput_lo: f64::MIN_POSITIVE,
            goodput_hi: 1e300,
            concurrency: 2.5,
            p99_ms: 12.345678901234567,
            p99_lo: 0.0,
            p99_hi: -0.0,
            error_rate: 0.5,
            seconds: 60,
            answered: 9600.0,
            p50_ms: 1.0,
            p90_ms: f64::MAX,
            p999_ms: 3.0,
            max_ms: 4.0,
        };
        let back = decode(&encode(&[l, l])).unwrap();
        assert_eq!(back, vec![l, l]);
        assert_eq!(back[0].p99_hi.to_bits(), (-0.0f64).to_bits());
        assert!(decode(&[CODEC_VERSION, 1, 2]).is_err());
        assert!(decode(&[9]).is_err());
        assert!(decode(&[1]).is_err());
        assert_eq!(decode(&encode(&[])).unwrap(), vec![]);
    }
}
