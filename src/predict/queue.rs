//! The queueing growth used beyond the measured range: Kingman's approximation for a
//! single-server queue, whose waiting time grows as ρ/(1−ρ) with utilisation ρ = λ/capacity.
//!
//! Measured points fix the curve's two free numbers: the latency with no queue (at the
//! lightest load) and the scale of the queueing term (from the heaviest load measured). The
//! capacity comes from the scalability fit, so latency and capacity predictions agree: the
//! latency goes up without bound exactly where the throughput stops growing.

/// Utilisation is never taken above this: past it the queue is unstable and the model only
/// says "saturated", with the latency it gives at this utilisation as a floor.
pub const MAX_UTILISATION: f64 = 0.99;

/// Latency as a function of rate: `base + scale × ρ/(1−ρ)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kingman {
    pub base: f64,
    pub scale: f64,
    pub capacity: f64,
}

impl Kingman {
    /// The curve through (`r0`, `y0`), the lightest load, and (`r1`, `y1`), the heaviest, for
    /// a service of `capacity`.
    pub fn through(r0: f64, y0: f64, r1: f64, y1: f64, capacity: f64) -> Option<Kingman> {
        if !(capacity > 0.0 && capacity.is_finite()) {
            return None;
        }
        let g0 = growth(r0 / capacity);
        let g1 = growth(r1 / capacity);
        let scale = if g1 - g0 > 1e-9 {
            ((y1 - y0) / (g1 - g0)).max(0.0)
        } else {
            0.0
        };
        // With no visible growth yet, assume the queueing term is as large as the base
        // latency at half load: an M/M/1 queue's waiting time, the honest default.
        let scale = if scale > 0.0 { scale } else { y0.max(0.0) };
        let base = (y0 - scale * g0).max(0.0);
        (base.is_finite() && scale.is_finite()).then_some(Kingman {
            base,
            scale,
            capacity,
        })
    }

    /// The curve for `capacity` closest to the (rate, latency) `points` by least squares
    /// (base and scale; a scale that would fall is taken as flat).
    pub fn fit(points: &[(f64, f64)], capacity: f64) -> Option<Kingman> {
        if points.is_empty() || !(capacity > 0.0 && capacity.is_finite()) {
            return None;
        }
        let g: Vec<f64> = points.iter().map(|p| growth(p.0 / capacity)).collect();
        let n = g.len() as f64;
        let mg = g.iter().sum::<f64>() / n;
        let my = points.iter().map(|p| p.1).sum::<f64>() / n;
        let sxy: f64 = g
            .iter()
            .zip(points)
            .map(|(x, p)| (x - mg) * (p.1 - my))
            .sum();
        let sxx: f64 = g.iter().map(|x| (x - mg) * (x - mg)).sum();
        let scale = if sxx > 0.0 { (sxy / sxx).max(0.0) } else { 0.0 };
        let base = my - scale * mg;
        (base.is_finite() && scale.is_finite()).then_some(Kingman {
            base,
            scale,
            capacity,
        })
    }

    /// The squared distance of the curve from `points`.
    pub fn sse(&self, points: &[(f64, f64)]) -> f64 {
        points.iter().map(|p| (self.at(p.0).0 - p.1).powi(2)).sum()
    }

    /// The latency at `rate`, and whether the rate saturates the service.
    pub fn at(&self, rate: f64) -> (f64, bool) {
        let rho = rate / self.capacity;
        (self.base + self.scale * growth(rho), rho >= MAX_UTILISATION)
    }
}

/// How many capacities [`fit_capacity`] tries, log-spaced.
const GRID: usize = 400;
/// The widest capacity [`fit_capacity`] considers, as a multiple of the highest rate measured.
const GRID_SPAN: f64 = 20.0;
/// Capacities whose squared error is within this factor of the best one's make the interval.
const GRID_SLACK: f64 = 1.5;

/// The capacity the latency curve itself points at, for a service never driven to saturation:
/// the capacity C (above `floor`, below `GRID_SPAN` × the highest rate) whose curve
/// `base + scale × ρ/(1−ρ)`, with base and scale by least squares, passes closest to the
/// measured (rate, p99) points; and the range of C that fits nearly as well
/// (`GRID_SLACK` × the best squared error). `None` with fewer than three points.
pub fn fit_capacity(points: &[(f64, f64)], floor: f64) -> Option<(f64, f64, f64)> {
    let top = points.iter().map(|p| p.0).fold(0.0, f64::max);
    if points.len() < 3 || !(top > 0.0 && floor > 0.0) {
        return None;
    }
    let (lo, hi) = (floor.max(top * 1.001), top * GRID_SPAN);
    let sse = |c: f64| Kingman::fit(points, c).map_or(f64::INFINITY, |k| k.sse(points));
    let grid: Vec<(f64, f64)> = (0..GRID)
        .map(|i| {
            let c = lo * (hi / lo).powf(i as f64 / (GRID - 1) as f64);
            (c, sse(c))
        })
        .filter(|(_, e)| e.is_finite())
        .collect();
    let &(best, best_sse) = grid.iter().min_by(|a, b| a.1.total_cmp(&b.1))?;
    let near = grid
        .iter()
        .filter(|(_, e)| *e <= best_sse * GRID_SLACK + 1e-12);
    let (min, max) = near.fold((best, best), |(a, b), &(c, _)| (a.min(c), b.max(c)));
    Some((best, min, max))
}

/// ρ/(1−ρ), with ρ clipped to [0, MAX_UTILISATION].
fn growth(rho: f64) -> f64 {
    let r = if rho.is_finite() {
        rho.clamp(0.0, MAX_UTILISATION)
    } else {
        MAX_UTILISATION
    };
    r / (1.0 - r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_through_its_points_and_grows() {
        let k = Kingman::through(10.0, 20.0, 80.0, 60.0, 100.0).unwrap();
        assert!((k.at(10.0).0 - 20.0).abs() < 1e-6);
        assert!((k.at(80.0).0 - 60.0).abs() < 1e-6);
        let (p90, sat90) = k.at(90.0);
        assert!(p90 > 60.0 && !sat90);
        let (p200, sat) = k.at(200.0);
        assert!(sat && p200.is_finite() && p200 > p90);
    }

    #[test]
    fn the_capacity_a_latency_curve_points_at() {
        // p99 = 10 + 5 ρ/(1−ρ) for a capacity of 300, measured up to 200/s.
        let pts: Vec<(f64, f64)> = [40.0, 80.0, 120.0, 160.0, 200.0]
            .iter()
            .map(|&r| (r, 10.0 + 5.0 * growth(r / 300.0)))
            .collect();
        let (c, lo, hi) = fit_capacity(&pts, 200.0).unwrap();
        assert!((c - 300.0).abs() < 300.0 * 0.02, "{c}");
        assert!(lo <= c && c <= hi);
        assert!(fit_capacity(&pts[..2], 200.0).is_none());
    }
}
