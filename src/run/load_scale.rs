//! `res run --load-scale X`: every load of the scenario at X times its planned size — the
//! rates of open, session and learned loads, the users of a closed one, and the connections
//! that carry them — so a test can run above (or below) the rate its file plans, for instance
//! at the rate a prediction called `untested` (the orchestrator asks for exactly that).
//!
//! Applied to each step's built load, after the file's own `scale` and a step's share, so
//! the planned rate the report holds the achieved one against is the scaled one.
//!
//! `--load-scale SERVICE=RATE` (`shop.catalog=184/s`) asks for the factor that makes the
//! busiest load step send that service that rate at its peak, by the mix's weights — what a
//! prediction's `untested.test_rate` names.
//!
//! ```
//! use res::load::{LoadSpec, Workload};
//! use res::units::{Duration, Rate};
//! let mut spec = LoadSpec::new("http://127.0.0.1", vec![], Workload::constant_rate(Rate(40.0)), Duration(10.0));
//! res::run::load_scale::apply(&mut spec, 1.5);
//! let Workload::Open { schedule, .. } = &spec.workload else { unreachable!() };
//! assert_eq!(schedule.stages[0].to.0, 60.0);
//! ```

use crate::load::{LoadSpec, Workload};
use crate::units::Rate;

/// The largest scale accepted: a hundred times the plan is a typo, not a test.
pub const MAX: f64 = 100.0;

/// What `--load-scale` asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadScale {
    /// Every load at this multiple of its plan.
    Factor(f64),
    /// The multiple at which the busiest step sends `service` (`system.service`) `rate` per
    /// second at its peak.
    Reach { service: String, rate: f64 },
}

/// Reads `--load-scale`: `1.5`, `150%` or `system.service=RATE[/s]`.
pub fn parse_arg(s: &str) -> Result<LoadScale, String> {
    let Some((service, rate)) = s.split_once('=') else {
        return parse(s).map(LoadScale::Factor);
    };
    let service = service.trim();
    if service.split('.').count() != 2 || service.split('.').any(str::is_empty) {
        return Err(format!("`{service}`: name the service as system.service"));
    }
    let r = rate.trim();
    let r = r.strip_suffix("/s").unwrap_or(r).trim();
    match r.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(LoadScale::Reach {
            service: service.to_string(),
            rate: v,
        }),
        _ => Err(format!("`{rate}` is not a positive rate (e.g. 184/s)")),
    }
}

/// The most requests per second `spec` sends `service` at its peak, by the mix's weights
/// (`None` when it sends it nothing, or counts sessions or users rather than requests).
pub fn service_peak(spec: &LoadSpec, service: &str) -> Option<f64> {
    let schedule = match &spec.workload {
        Workload::Open { schedule, .. } | Workload::Chain { schedule, .. } => schedule,
        Workload::Sessions { .. } | Workload::Closed { .. } => return None,
    };
    let peak = schedule
        .stages
        .iter()
        .map(|s| s.from.0.max(s.to.0))
        .fold(0.0, f64::max);
    let total: f64 = spec.requests.iter().map(|r| r.weight).sum();
    let mine: f64 = spec
        .requests
        .iter()
        .filter(|r| r.service == service)
        .map(|r| r.weight)
        .sum();
    (total > 0.0 && mine > 0.0 && peak > 0.0).then(|| peak * mine / total)
}

/// Reads a factor: a positive number up to [`MAX`], `1.5` or `150%`.
pub fn parse(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let x = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t
            .strip_suffix(['x', '×'])
            .unwrap_or(t)
            .trim()
            .parse::<f64>(),
    }
    .map_err(|_| format!("`{s}` is not a number (e.g. 1.5 or 150%)"))?;
    if !(x.is_finite() && x > 0.0 && x <= MAX) {
        return Err(format!(
            "`{s}`: the load scale must be above 0 and at most {MAX}"
        ));
    }
    Ok(x)
}

/// Scales one load by `x`.
pub fn apply(spec: &mut LoadSpec, x: f64) {
    if (x - 1.0).abs() < f64::EPSILON {
        return;
    }
    match &mut spec.workload {
        Workload::Open { schedule, .. }
        | Workload::Sessions { schedule, .. }
        | Workload::Chain { schedule, .. } => {
            for st in &mut schedule.stages {
                st.from = Rate(st.from.0 * x);
                st.to = Rate(st.to.0 * x);
            }
        }
        Workload::Closed { users, .. } => {
            *users = (f64::from(*users) * x)
                .round()
                .clamp(1.0, f64::from(u32::MAX)) as u32;
        }
    }
    if x > 1.0 {
        spec.connections = ((spec.connections as f64) * x).ceil() as usize;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Duration;

    #[test]
    fn parses_factors_and_percentages() {
        assert_eq!(parse("1.5").unwrap(), 1.5);
        assert_eq!(parse("150%").unwrap(), 1.5);
        assert_eq!(parse("2x").unwrap(), 2.0);
        for bad in ["0", "-1", "abc", "101", "NaN", "inf"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_arg("shop.catalog=184/s").unwrap(),
            LoadScale::Reach {
                service: "shop.catalog".into(),
                rate: 184.0
            }
        );
        assert_eq!(parse_arg("1.5").unwrap(), LoadScale::Factor(1.5));
        for bad in ["catalog=5/s", "shop.catalog=0", "shop.catalog=x"] {
            assert!(parse_arg(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn closed_users_and_connections_scale() {
        let w = Workload::Closed {
            users: 10,
            think: None,
        };
        let mut spec = LoadSpec::new("http://127.0.0.1", vec![], w, Duration(1.0));
        let before = spec.connections;
        apply(&mut spec, 1.25);
        assert!(matches!(spec.workload, Workload::Closed { users: 13, .. }));
        assert_eq!(spec.connections, (before as f64 * 1.25).ceil() as usize);
        apply(&mut spec, 0.01);
        assert!(matches!(spec.workload, Workload::Closed { users: 1, .. }));
    }
}
