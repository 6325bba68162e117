//! What the declared logs say happened, hour by hour and service by service: the outcome a
//! prediction made for a forecast hour is scored against (`res predict score FILE`). Each
//! `traffic … { learn from "…" }` log is read request by request; a request belongs to the
//! service of its system whose route matches its method and path (as a learned endpoint is
//! matched when its traffic is replayed). Only hours the log covers whole count — a line
//! logged at or before the hour's start and one at or after its end — so a log that stops
//! mid-hour scores nothing for that hour.

use std::collections::BTreeMap;
use std::path::Path;

use hdrhistogram::Histogram;

use super::learn_input::learning_traffic;
use crate::check::{Model, SystemModel};
use crate::predict::score::{HourOutcome, Observed};

/// One service's requests in one hour.
struct Tally {
    requests: u64,
    errors: u64,
    times: Option<Histogram<u64>>,
}

/// Reads every log `model` learns from (paths relative to `base_dir`). Returns the hour
/// outcomes and a line per log saying what was read. Rates are the log's × the traffic's
/// `scale` (a sampled log), as its forecast is.
pub fn observe(model: &Model, base_dir: &Path) -> (Observed, Vec<String>) {
    let mut observed = Observed::new();
    let mut notes = Vec::new();
    let mut seen = Vec::new();
    for (t, traffic) in model.traffics.iter().enumerate() {
        let Some(learn) = &traffic.learn else {
            continue;
        };
        // The traffic's system; else that of a traffic `like` it; else the only system.
        let Some(system) = super::build::traffic_system(model, t)
            .or_else(|| {
                (0..model.traffics.len())
                    .filter(|&u| learning_traffic(model, u) == Some(t))
                    .find_map(|u| super::build::traffic_system(model, u))
            })
            .or_else(|| (model.systems.len() == 1).then_some(0))
        else {
            continue;
        };
        let path = crate::learn::resolve(&learn.path, base_dir);
        if seen.contains(&(path.clone(), system)) {
            continue;
        }
        seen.push((path.clone(), system));
        let sys = &model.systems[system];
        match read(&path, learn.format, traffic.scale.0, sys, &mut observed) {
            Ok(note) => notes.push(note),
            Err(e) => notes.push(format!("{}: {e}", path.display())),
        }
    }
    (observed, notes)
}

fn read(
    path: &Path,
    format: crate::learn::LogFormat,
    scale: f64,
    sys: &SystemModel,
    observed: &mut Observed,
) -> Result<String, crate::learn::LearnError> {
    let mut tallies: BTreeMap<(usize, i64), Tally> = BTreeMap::new();
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    let mut unmatched = 0u64;
    let counted = crate::learn::each::for_each_record(path, format, |r| {
        let s = r.time_us.div_euclid(1_000_000);
        first = first.min(s);
        last = last.max(s);
        let Some(service) = service_of(sys, r.method, r.target) else {
            unmatched += 1;
            return;
        };
        let tally = tallies
            .entry((service, s.div_euclid(3600) * 3600))
            .or_insert_with(|| Tally {
                requests: 0,
                errors: 0,
                times: None,
            });
        tally.requests += 1;
        if r.status >= 500 {
            tally.errors += 1;
        }
        if let Some(us) = r.service_us {
            let h = tally.times.get_or_insert_with(|| {
                // 1 µs to an hour at 3 significant figures; longer times are clamped.
                Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds")
            });
            h.saturating_record(us.max(1));
        }
    })?;
    let name = path.display().to_string();
    if first > last {
        return Ok(format!("{name}: no request read"));
    }
    // Whole hours only: from the first hour starting at or after the first line to the last
    // one ending at or before the last line.
    let from = (first + 3599).div_euclid(3600) * 3600;
    let until = last.div_euclid(3600) * 3600;
    let mut hours = 0;
    let mut hour = from;
    while hour < until {
        hours += 1;
        for (v, svc) in sys.services.iter().enumerate() {
            let t = tallies.get(&(v, hour));
            let requests = t.map_or(0, |t| t.requests);
            observed.insert(
                (format!("{}.{}", sys.name, svc.name), hour),
                HourOutcome {
                    requests,
                    rate: requests as f64 / 3600.0 * scale,
                    p99_ms: t
                        .and_then(|t| t.times.as_ref())
                        .map(|h| h.value_at_quantile(0.99) as f64 / 1000.0),
                    error_rate: t.map_or(0.0, |t| t.errors as f64 / t.requests.max(1) as f64),
                    log: name.clone(),
                },
            );
        }
        hour += 3600;
    }
    Ok(format!(
        "{name}: {} requests of {} lines, {hours} whole hours covered, {unmatched} requests no route of {} matches",
        counted.used, counted.lines, sys.name
    ))
}

/// The service of `sys` whose route serves `method` `target` (a path, or an absolute URL as
/// load balancers log it).
fn service_of(sys: &SystemModel, method: &[u8], target: &[u8]) -> Option<usize> {
    let target = std::str::from_utf8(target).ok()?;
    let method = std::str::from_utf8(method).ok()?;
    let path = match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    };
    sys.services.iter().position(|svc| {
        svc.routes
            .iter()
            .any(|r| r.method.eq_ignore_ascii_case(method) && super::build::matches(&r.path, path))
    })
}
