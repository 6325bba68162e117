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
}
