//! One service's capacity model, built from its load levels: the scalability fit (or, with
//! too few levels, the knee of its latency curve), and the curves of p99 and errors against
//! offered rate that predictions at a rate are read from.

use serde::Serialize;

use super::bootstrap::{self, Interval, UslIntervals};
use super::finite;
use super::kneedle::{knee, Shape};
use super::levels::Level;
use super::queue::Kingman;
use super::usl::{distinct, Diagnostics, Usl, UslError, MIN_LEVELS};

/// A level counts as saturated when its goodput fell this far short of its offered rate: a
/// finite queue turns a few requests away below capacity too, so a small shortfall is not one.
const SATURATED_SHORTFALL: f64 = 0.9;
/// Where no level saturated, a law's limit gives way to the p99 curve's when that lies
/// further out than this factor. At 1.2 the law's 216–236/s on the demo catalog (truly about
/// 320/s) stood and predicted backlogs of seconds at 240/s, where 35 ms was measured.
const LATENCY_DISAGREES: f64 = 1.0;
/// The knee-only estimate's interval: the truth may be this far either side of the knee.
const KNEE_ONLY_LO: f64 = 0.6;
const KNEE_ONLY_HI: f64 = 1.6;

/// How the capacity was obtained, weakest last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CapacityMethod {
    /// The service was driven past saturation: capacity is the goodput plateau measured.
    MeasuredPlateau,
    /// The scalability law's Xmax.
    Usl,
    /// Too few load levels for a fit: the knee of p99 against rate, with a wide interval.
    KneeOnly,
    /// No limit seen (the law has none, or one below what was served): capacity is at least
    /// the highest goodput measured (the interval's low end); the point is read off the
    /// growth of the p99 curve.
    LowerBound,
}

/// The capacity of a service (requests per second answered without error).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Capacity {
    pub method: CapacityMethod,
    pub rate: Interval,
}

/// What was fitted, with everything the output shows about the fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceModel {
    pub service: String,
    pub capacity: Capacity,
    /// The scalability law when four or more load levels allowed a fit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usl: Option<Usl>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usl_intervals: Option<UslIntervals>,
    /// The fit's diagnostics (points are load levels here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<Diagnostics>,
    /// Why no scalability fit was made, when none was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The knee of p99 against offered rate (Kneedle), when one was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub knee_rate: Option<f64>,
    pub seconds: usize,
    pub distinct_load_levels: usize,
    /// The range of offered rates measured.
    pub measured_min_rate: f64,
    pub measured_max_rate: f64,
    /// When older runs measured the service as it no longer is (scaled, redeployed), the
    /// oldest run the model uses: it follows the system from there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since_run: Option<u64>,
    #[serde(skip)]
    pub levels: Vec<Level>,
}

/// One predicted quantity at a rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub value: Interval,
    /// Beyond the measured range: read from the queueing model, not from measurements.
    pub extrapolated: bool,
}

/// p99, error rate and saturation of a service at one offered rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AtRate {
    pub rate: f64,
    pub p99_ms: Estimate,
    pub error_rate: Estimate,
    /// Offered rate over capacity.
    pub saturation: Estimate,
    /// The rate is at or past capacity: the queue grows without bound there.
    pub saturated: bool,
}

impl ServiceModel {
    /// Builds the model of `service` from its levels; `seed` makes the bootstrap repeatable.
    /// `None` when no level carried traffic.
    pub fn build(service: &str, levels: Vec<Level>, seed: u64) -> Option<ServiceModel> {
        let first = *levels.first()?;
        let last = *levels.last()?;
        let seconds = levels.iter().map(|l| l.seconds).sum();
        let points: Vec<(f64, f64)> = levels
            .iter()
            .filter(|l| l.concurrency > 0.0)
            .map(|l| (l.concurrency, l.goodput))
            .collect();
        let latency: Vec<(f64, f64)> = levels.iter().map(|l| (l.offered, l.p99_ms)).collect();
        let knee_rate = knee(&latency, Shape::ConvexIncreasing);
        let max_goodput = levels.iter().map(|l| l.goodput).fold(0.0, f64::max);
        let mut model = ServiceModel {
            service: service.to_string(),
            capacity: Capacity {
                method: CapacityMethod::LowerBound,
                rate: Interval::new(max_goodput, max_goodput, max_goodput),
            },
            usl: None,
            usl_intervals: None,
            diagnostics: None,
            note: None,
            knee_rate,
            seconds,
            distinct_load_levels: distinct(
                &levels.iter().map(|l| (l.offered, 0.0)).collect::<Vec<_>>(),
            ),
            measured_min_rate: first.offered,
            measured_max_rate: last.offered,
            since_run: None,
            levels,
        };
        match Usl::fit(&points, None) {
            Ok(fit) => {
                let iv = bootstrap::intervals(&points, &fit, seed);
                model.usl = Some(fit.usl);
                model.diagnostics = Some(fit.diagnostics);
                if let Some(x) = iv.max_throughput {
                    model.capacity = Capacity {
                        method: CapacityMethod::Usl,
                        rate: x,
                    };
                }
                model.usl_intervals = Some(iv);
            }
            Err(UslError::TooFewLevels { levels }) => {
                model.note = Some(format!(
                    "{levels} distinct load levels measured, {MIN_LEVELS} are needed for a scalability fit: knee-only estimate"
                ));
                let k = knee_rate.unwrap_or(last.offered);
                model.capacity = Capacity {
                    method: CapacityMethod::KneeOnly,
                    rate: Interval::new(k, k * KNEE_ONLY_LO, k * KNEE_ONLY_HI),
                };
            }
            Err(e) => model.note = Some(e.to_string()),
        }
        if model.capacity.method == CapacityMethod::Usl && model.plateau().is_none() {
            let x = model.capacity.rate;
            let latency = model.beyond_served(max_goodput);
            if x.point < max_goodput {
                // The law's limit lies below what the service demonstrably served: the law
                // is wrong there, and a backlog predicted past it would be too.
                model.note = Some(format!(
                    "the scalability law's limit ({:.0}/s) lies below the {max_goodput:.0}/s served: capacity is at least what was served",
                    x.point
                ));
                model.capacity.method = CapacityMethod::LowerBound;
            } else if latency.point > x.point * LATENCY_DISAGREES {
                // Never saturated, and the p99 grew too little for the law's limit: in an
                // open system the concurrency N = X·R counts queueing as contention, so the
                // law's limit can lie below where the latency says it is.
                model.note = Some(format!(
                    "the scalability law's limit ({:.0}/s) lies below where the p99 curve's growth puts it ({:.0}/s), and no level saturated: capacity is at least the {max_goodput:.0}/s served",
                    x.point, latency.point
                ));
                model.capacity.method = CapacityMethod::LowerBound;
            } else {
                model.capacity.rate = Interval::new(x.point, x.lo.max(max_goodput), x.hi);
            }
        }
        if model.capacity.method == CapacityMethod::LowerBound {
            model.capacity.rate = model.beyond_served(max_goodput);
        }
        if let Some(plateau) = model.plateau() {
            model.capacity = Capacity {
                method: CapacityMethod::MeasuredPlateau,
                rate: plateau,
            };
        }
        Some(model)
    }

    /// A capacity known only to be at least `served`: the interval starts there, and the point
    /// is where the queueing curve that best fits the measured p99s (`Kingman::fit`) puts the
    /// limit — how fast latency already grows is the only evidence of how far off it is. The
    /// interval reaches twice that.
    fn beyond_served(&self, served: f64) -> Interval {
        let pts: Vec<(f64, f64)> = self
            .levels
            .iter()
            .filter(|l| l.goodput >= SATURATED_SHORTFALL * l.offered)
            .map(|l| (l.offered, l.p99_ms))
            .collect();
        let floor = served * 1.02;
        match Kingman::fit(&pts, floor) {
            Some(k) => Interval::new(k.capacity, served, k.capacity * 2.0),
            None => Interval::new(served, served, served * 2.0),
        }
    }

    /// The goodput the service settled at once offered more than it could answer: the
    /// levels whose goodput fell short of the offered rate, when at least two did.
    /// The interval spans the per-second goodput of those levels (5th to 95th percentile).
    fn plateau(&self) -> Option<Interval> {
        let sat: Vec<&Level> = self
            .levels
            .iter()
            .filter(|l| l.goodput < SATURATED_SHORTFALL * l.offered)
            .collect();
        if sat.len() < 2 {
            return None;
        }
        let means: Vec<f64> = sat.iter().map(|l| l.goodput).collect();
        Some(Interval::new(
            finite::quantile(&means, 0.5)?,
            sat.iter()
                .map(|l| l.goodput_lo)
                .fold(f64::INFINITY, f64::min),
            sat.iter().map(|l| l.goodput_hi).fold(0.0, f64::max),
        ))
    }

    /// Whether `rate` lies beyond anything measured.
    pub fn untested(&self, rate: f64) -> bool {
        rate > self.measured_max_rate * 1.05
    }

    /// The prediction at offered `rate`.
    pub fn at(&self, rate: f64) -> AtRate {
        let rate = finite::or(rate, 0.0).max(0.0);
        let cap = self.capacity.rate;
        let saturation = Estimate {
            value: Interval::new(
                ratio(rate, cap.point),
                ratio(rate, cap.hi),
                ratio(rate, cap.lo),
            ),
            extrapolated: self.untested(rate),
        };
        let (mut p99, error_rate) = if self.untested(rate) {
            self.beyond(rate)
        } else {
            self.inside(rate)
        };
        // Beyond what was measured and past capacity, the queue has no steady state: the
        // latency is at least the wait behind the backlog a minute at this rate builds up.
        // Inside the measured range the measurements say how the system bounds its queue
        // (shedding, timeouts), so they stand.
        if self.untested(rate) && rate >= cap.point && cap.point > 0.0 {
            let v = p99.value;
            p99.value = Interval::new(
                v.point.max(backlog_ms(rate, cap.point)),
                v.lo.max(backlog_ms(rate, cap.hi)),
                v.hi.max(backlog_ms(rate, cap.lo)),
            );
        }
        AtRate {
            rate,
            p99_ms: p99,
            error_rate,
            saturation,
            saturated: rate >= cap.point && cap.point > 0.0,
        }
    }

    /// Inside the measured range: linear interpolation between the neighbouring levels.
    fn inside(&self, rate: f64) -> (Estimate, Estimate) {
        let l = &self.levels;
        let i = l.partition_point(|x| x.offered < rate);
        let (a, b) = match i {
            0 => (l[0], l[0]),
            i if i >= l.len() => (l[l.len() - 1], l[l.len() - 1]),
            i => (l[i - 1], l[i]),
        };
        let f = if b.offered > a.offered {
            ((rate - a.offered) / (b.offered - a.offered)).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let mix = |x: f64, y: f64| x + (y - x) * f;
        let p99 = Interval::new(
            mix(a.p99_ms, b.p99_ms),
            mix(a.p99_lo, b.p99_lo),
            mix(a.p99_hi, b.p99_hi),
        );
        let err = mix(a.error_rate, b.error_rate);
        (
            Estimate {
                value: p99,
                extrapolated: false,
            },
            Estimate {
                value: Interval::new(err, err * 0.5, (err * 1.5).min(1.0)),
                extrapolated: false,
            },
        )
    }

    /// Beyond the measured range: the queueing curve through the lightest and heaviest
    /// levels, at the capacity's point and at its interval's ends, widened with distance.
    fn beyond(&self, rate: f64) -> (Estimate, Estimate) {
        let first = self.levels[0];
        let last = self.levels[self.levels.len() - 1];
        let cap = self.capacity.rate;
        // A capacity that is only a lower bound says nothing of where the curve turns: the
        // estimate assumes the service is saturated just past what was measured, and widens.
        let curve = |c: f64| {
            let c = c.max(last.offered * 1.01);
            Kingman::through(first.offered, first.p99_ms, last.offered, last.p99_ms, c)
                .map(|k| k.at(rate).0)
                .unwrap_or(last.p99_ms)
        };
        let distance = (rate / last.offered.max(1e-9) - 1.0).max(0.0);
        let widen = 0.1 + distance;
        let point = curve(cap.point);
        let p99 = Interval::new(
            point,
            curve(cap.hi) * (1.0 - widen).max(0.1),
            curve(cap.lo) * (1.0 + widen),
        );
        // Past capacity, what is offered and not served is turned away (or times out).
        let shed = |c: f64| if rate > c { 1.0 - c / rate } else { 0.0 };
        let err_point = last.error_rate.max(shed(cap.point)).min(1.0);
        let err = Interval::new(
            err_point,
            last.error_rate.max(shed(cap.hi)) * (1.0 - widen).max(0.0),
            (last.error_rate.max(shed(cap.lo)) * (1.0 + widen)).min(1.0),
        );
        (
            Estimate {
                value: p99,
                extrapolated: true,
            },
            Estimate {
                value: err,
                extrapolated: true,
            },
        )
    }
}

/// How long a saturated service's queue is given to grow when a latency is predicted past
/// capacity.
pub const BACKLOG_HORIZON_S: f64 = 60.0;

/// The wait, in ms, behind the backlog that `rate` above `capacity` builds up over
/// [`BACKLOG_HORIZON_S`]: (rate − capacity) × T requests, served at `capacity`. Zero below
/// capacity.
fn backlog_ms(rate: f64, capacity: f64) -> f64 {
    if capacity > 0.0 && rate > capacity {
        finite::or(
            (rate - capacity) / capacity * BACKLOG_HORIZON_S * 1000.0,
            0.0,
        )
    } else {
        0.0
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        finite::or(a / b, 0.0)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A service with 10 workers and 50 ms per request: 200/s, queueing as M/M/1-ish.
    fn levels(steps: &[f64]) -> Vec<Level> {
        steps
            .iter()
            .map(|&r| {
                let cap = 200.0;
                let goodput = r.min(cap);
                let rho = (r / cap).min(0.99);
                let p99 = 50.0 + 50.0 * rho / (1.0 - rho);
                Level {
                    run: 1,
                    offered: r,
                    goodput,
                    goodput_lo: goodput * 0.98,
                    goodput_hi: goodput * 1.02,
                    concurrency: goodput * p99 / 1000.0,
                    p99_ms: p99,
                    p99_lo: p99 * 0.9,
                    p99_hi: p99 * 1.1,
                    error_rate: if r > cap { 1.0 - cap / r } else { 0.0 },
                    seconds: 10,
                    answered: r.min(cap) * 10.0,
                    p50_ms: p99 / 3.0,
                    p90_ms: p99 / 2.0,
                    p999_ms: p99 * 1.5,
                    max_ms: p99 * 2.0,
                }
            })
            .collect()
    }

    #[test]
    fn a_saturated_service_gives_its_plateau() {
        let m = ServiceModel::build(
            "shop.checkout",
            levels(&[20.0, 60.0, 100.0, 140.0, 180.0, 240.0, 300.0]),
            1,
        )
        .unwrap();
        assert_eq!(m.capacity.method, CapacityMethod::MeasuredPlateau);
        assert!((m.capacity.rate.point - 200.0).abs() < 1.0);
        assert!(m.usl.is_some());
    }

    #[test]
    fn inside_interpolates_and_beyond_is_flagged_and_wider() {
        let m = ServiceModel::build("s", levels(&[20.0, 60.0, 100.0, 140.0, 160.0]), 1).unwrap();
        let inside = m.at(80.0);
        assert!(!inside.p99_ms.extrapolated);
        let want = (levels(&[60.0])[0].p99_ms + levels(&[100.0])[0].p99_ms) / 2.0;
        assert!((inside.p99_ms.value.point - want).abs() < 1e-6);
        let near = m.at(170.0);
        let far = m.at(190.0);
        assert!(near.p99_ms.extrapolated && far.p99_ms.extrapolated);
        let width = |e: &Estimate| (e.value.hi - e.value.lo) / e.value.point;
        assert!(width(&far.p99_ms) > width(&near.p99_ms));
        assert!(far.p99_ms.value.point > near.p99_ms.value.point);
    }

    /// An open system that never saturated: concurrency N = X·R grows faster than X as its
    /// queue grows, which the law reads as contention (a limit near 260/s), while the p99
    /// barely grew. The capacity is then a lower bound — at least the 200/s served — with its
    /// point where the p99 curve puts it, and no backlog is predicted at 1.2×.
    #[test]
    fn a_law_contradicted_by_the_latency_gives_a_lower_bound() {
        let l: Vec<Level> = levels(&[40.0, 80.0, 120.0, 160.0, 200.0])
            .into_iter()
            .map(|mut l| {
                let r_ms = 7.0 / (1.0 - l.offered / 260.0);
                l.concurrency = l.goodput * r_ms / 1000.0;
                l.p99_ms = 20.0 + l.offered / 40.0;
                l.p99_lo = l.p99_ms * 0.95;
                l.p99_hi = l.p99_ms * 1.05;
                l
            })
            .collect();
        let m = ServiceModel::build("s", l, 1).unwrap();
        assert!(m.usl.is_some());
        assert_eq!(m.capacity.method, CapacityMethod::LowerBound, "{m:?}");
        assert!(m.capacity.rate.lo >= 200.0 - 1e-9, "{:?}", m.capacity);
        assert!(m.capacity.rate.point > 260.0, "{:?}", m.capacity);
        assert!(
            m.note.as_deref().unwrap().contains("p99 curve"),
            "{:?}",
            m.note
        );
        let at = m.at(240.0);
        assert!(at.p99_ms.extrapolated && !at.saturated);
        assert!(at.p99_ms.value.point < 40.0, "{:?}", at.p99_ms);
    }

    #[test]
    fn too_few_levels_give_a_knee_only_estimate() {
        let m = ServiceModel::build("s", levels(&[20.0, 100.0, 180.0]), 1).unwrap();
        assert_eq!(m.capacity.method, CapacityMethod::KneeOnly);
        assert!(m.usl.is_none());
        assert!(m
            .note
            .as_deref()
            .unwrap()
            .contains("3 distinct load levels"));
        let c = m.capacity.rate;
        assert!(c.hi / c.lo > 2.0);
    }

    #[test]
    fn no_nan_anywhere() {
        let mut l = levels(&[0.0001, 0.0002, 0.0003, 0.0004]);
        for x in &mut l {
            x.concurrency = 0.0;
        }
        let m = ServiceModel::build("s", l, 1).unwrap();
        let json = serde_json::to_string(&(m.clone(), m.at(1e12), m.at(f64::NAN))).unwrap();
        assert!(!json.contains("null") || !json.contains("NaN"));
        let a = m.at(1e12);
        for v in [a.p99_ms.value, a.error_rate.value, a.saturation.value] {
            assert!(v.point.is_finite() && v.lo.is_finite() && v.hi.is_finite());
        }
    }
}
