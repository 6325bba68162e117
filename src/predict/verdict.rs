//! The verdict: every service's model held against the load asked about, and against every
//! SLO limit — headroom, the first breach, and `untested` where the load lies beyond anything
//! measured.

use serde::Serialize;

use super::bootstrap::Interval;
use super::input::{Quantity, Request, SloLimit, Target};
use super::render::{human_time, thousands};
use super::service::{AtRate, Estimate, ServiceModel};
use super::MODEL_VERSION;
use crate::units::Timestamp;

/// What `res predict` answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The version of the models, stored with every prediction.
    pub model_version: &'static str,
    /// The runs whose seconds the models were fitted on.
    pub runs: Vec<u64>,
    pub services: Vec<ServiceVerdict>,
}

/// One service's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceVerdict {
    pub service: String,
    pub model: ServiceModel,
    /// The highest load asked about (the forecast peak over the horizon, or the rate given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak: Option<Load>,
    /// The prediction at that load.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_peak: Option<AtRate>,
    /// Capacity over the peak rate: below 1 the service will not keep up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headroom: Option<f64>,
    /// The first hour (or the rate) at which a prediction breaks an SLO limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_breach: Option<Breach>,
    /// Set when the peak lies beyond anything measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub untested: Option<Untested>,
}

/// A load: a rate, and the hour it is expected in when it comes from a forecast.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Load {
    pub rate: f64,
    /// RFC 3339, UTC.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "rfc3339")]
    pub at: Option<Timestamp>,
}

fn rfc3339<S: serde::Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.to_rfc3339()),
        None => s.serialize_none(),
    }
}

/// A predicted breach of an SLO limit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breach {
    pub slo: String,
    pub quantity: Quantity,
    pub limit: f64,
    pub load: Load,
    pub predicted: Interval,
    pub extrapolated: bool,
    /// The sentence the text output prints.
    pub sentence: String,
}

/// The load lies beyond the measured range: a test should run at `test_rate`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Untested {
    pub measured_max_rate: f64,
    pub forecast_rate: f64,
    pub test_rate: f64,
}

/// Holds every model against `req`. `models` are the fitted services; services the request
/// names without a model are left out (the caller reports them as never measured).
pub fn verdict(models: &[ServiceModel], runs: &[u64], req: &Request) -> Verdict {
    let services = models.iter().map(|m| service_verdict(m, req)).collect();
    Verdict {
        model_version: MODEL_VERSION,
        runs: runs.to_vec(),
        services,
    }
}

fn service_verdict(m: &ServiceModel, req: &Request) -> ServiceVerdict {
    let slos: Vec<&SloLimit> = req
        .slos
        .iter()
        .filter(|s| s.service.as_deref().is_none_or(|x| x == m.service))
        .collect();
    // The loads to look at, in time order (a single one for a rate).
    let loads: Vec<Load> = match &req.target {
        Target::Rates(r) => r
            .get(&m.service)
            .map(|&rate| Load { rate, at: None })
            .into_iter()
            .collect(),
        Target::Horizon(hours) => hours
            .iter()
            .filter_map(|h| {
                h.rates.get(&m.service).map(|&rate| Load {
                    rate,
                    at: Some(Timestamp(h.at)),
                })
            })
            .collect(),
    };
    let peak = loads
        .iter()
        .copied()
        .max_by(|a, b| a.rate.total_cmp(&b.rate));
    let first_breach = loads
        .iter()
        .find_map(|load| breach(m, &slos, *load, &m.at(load.rate)));
    let at_peak = peak.map(|p| m.at(p.rate));
    let headroom = peak
        .filter(|p| p.rate > 0.0)
        .map(|p| m.capacity.rate.point / p.rate)
        .filter(|h| h.is_finite());
    let untested = peak.filter(|p| m.untested(p.rate)).map(|p| Untested {
        measured_max_rate: m.measured_max_rate,
        forecast_rate: p.rate,
        // A test at the forecast rate plus a tenth, so the forecast sits inside the range.
        test_rate: (p.rate * 1.1).ceil(),
    });
    ServiceVerdict {
        service: m.service.clone(),
        model: m.clone(),
        peak,
        at_peak,
        headroom,
        first_breach,
        untested,
    }
}

fn breach(m: &ServiceModel, slos: &[&SloLimit], load: Load, at: &AtRate) -> Option<Breach> {
    slos.iter().find_map(|slo| {
        let e: Estimate = match slo.quantity {
            Quantity::P99Ms => at.p99_ms,
            Quantity::ErrorRate => at.error_rate,
            Quantity::Saturation => at.saturation,
            Quantity::Capacity => return None,
        };
        (e.value.point > slo.limit).then(|| Breach {
            slo: slo.name.clone(),
            quantity: slo.quantity,
            limit: slo.limit,
            load,
            predicted: e.value,
            extrapolated: e.extrapolated,
            sentence: sentence(m, slo, load, e),
        })
    })
}

/// "shop.checkout: p99 620 ms (90 %: 480–810 ms) at Tue 2026-12-08 14:00 UTC, forecast
/// 1,840 req/s, capacity 1,610 ± 70 req/s — breaks shop_ok"
fn sentence(m: &ServiceModel, slo: &SloLimit, load: Load, e: Estimate) -> String {
    let v = e.value;
    let value = match slo.quantity {
        Quantity::P99Ms => format!(
            "p99 {} ms (90 %: {}–{} ms)",
            thousands(v.point),
            thousands(v.lo),
            thousands(v.hi)
        ),
        Quantity::ErrorRate => format!(
            "error rate {:.1} % (90 %: {:.1}–{:.1} %)",
            v.point * 100.0,
            v.lo * 100.0,
            v.hi * 100.0
        ),
        Quantity::Saturation | Quantity::Capacity => format!(
            "saturation {:.0} % (90 %: {:.0}–{:.0} %)",
            v.point * 100.0,
            v.lo * 100.0,
            v.hi * 100.0
        ),
    };
    let when = match load.at {
        Some(t) => format!(" at {}, forecast", human_time(t)),
        None => " at".to_string(),
    };
    let cap = m.capacity.rate;
    format!(
        "{}: {value}{when} {} req/s, capacity {} ± {} req/s{} — breaks {}",
        m.service,
        thousands(load.rate),
        thousands(cap.point),
        thousands(cap.half_width()),
        if e.extrapolated {
            " (extrapolated)"
        } else {
            ""
        },
        slo.name
    )
}
