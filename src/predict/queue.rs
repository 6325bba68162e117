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

/// How far above the least capacity [`Kingman::fit`] looks, and in how many steps.
pub const FIT_RANGE: f64 = 10.0;
const GRID: usize = 200;

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

    /// The curve, capacity included, that fits (rate, latency) `points` best by least squares,
    /// for a capacity of at least `min_capacity`: capacities on a geometric grid up to
    /// [`FIT_RANGE`] times it, base and scale (both ≥ 0) by linear regression at each. Used
    /// where no capacity was seen (the service never neared saturation): how fast the latency
    /// already grows is then the only evidence of where the limit lies. At the grid's top the
    /// latency showed no queueing at all.
    pub fn fit(points: &[(f64, f64)], min_capacity: f64) -> Option<Kingman> {
        let pts: Vec<(f64, f64)> = points
            .iter()
            .copied()
            .filter(|(r, y)| r.is_finite() && y.is_finite() && *r > 0.0)
            .collect();
        if pts.len() < 2 || !(min_capacity > 0.0 && min_capacity.is_finite()) {
            return None;
        }
        let mut best: Option<(f64, Kingman)> = None;
        // From the top down, so that where the data cannot tell (no growth), the largest wins.
        for i in (0..=GRID).rev() {
            let c = min_capacity * FIT_RANGE.powf(i as f64 / GRID as f64);
            let g: Vec<f64> = pts.iter().map(|(r, _)| growth(r / c)).collect();
            let n = pts.len() as f64;
            let (mg, my) = (
                g.iter().sum::<f64>() / n,
                pts.iter().map(|p| p.1).sum::<f64>() / n,
            );
            let sgg: f64 = g.iter().map(|x| (x - mg).powi(2)).sum();
            let sgy: f64 = g.iter().zip(&pts).map(|(x, p)| (x - mg) * (p.1 - my)).sum();
            let scale = if sgg > 1e-12 {
                (sgy / sgg).max(0.0)
            } else {
                0.0
            };
            let base = (my - scale * mg).max(0.0);
            let sse: f64 = g
                .iter()
                .zip(&pts)
                .map(|(x, p)| (base + scale * x - p.1).powi(2))
                .sum();
            let k = Kingman {
                base,
                scale,
                capacity: c,
            };
            if sse.is_finite() && best.is_none_or(|(b, _)| sse < b - 1e-12 * b.abs()) {
                best = Some((sse, k));
            }
        }
        best.map(|(_, k)| k)
    }

    /// The latency at `rate`, and whether the rate saturates the service.
    pub fn at(&self, rate: f64) -> (f64, bool) {
        let rho = rate / self.capacity;
        (self.base + self.scale * growth(rho), rho >= MAX_UTILISATION)
    }
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
    fn a_fit_finds_the_capacity_the_growth_implies_and_respects_its_floor() {
        let truth = Kingman {
            base: 20.0,
            scale: 10.0,
            capacity: 300.0,
        };
        let pts: Vec<(f64, f64)> = [40.0, 80.0, 120.0, 160.0, 200.0, 240.0]
            .iter()
            .map(|&r| (r, truth.at(r).0))
            .collect();
        let k = Kingman::fit(&pts, 250.0).unwrap();
        assert!((k.capacity - 300.0).abs() < 10.0, "{k:?}");
        assert!((k.at(270.0).0 - truth.at(270.0).0).abs() < 0.1 * truth.at(270.0).0);
        // Flat latency: no queueing seen, the capacity goes to the grid's top.
        let flat = Kingman::fit(&[(10.0, 5.0), (20.0, 5.0), (30.0, 5.0)], 40.0).unwrap();
        assert!(flat.capacity > 399.0 && flat.at(35.0).0 < 5.5, "{flat:?}");
        assert!(Kingman::fit(&[(10.0, 5.0)], 40.0).is_none());
    }
}
