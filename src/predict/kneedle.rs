//! Kneedle (Satopaa, Albrecht, Irwin, Raghavan 2011): the knee of a curve is where it lies
//! furthest from the straight line joining its ends, once both axes are scaled to 0..1.
//!
//! Latency against rate is convex and increasing: the knee is the rate after which latency
//! starts climbing steeply, a first estimate of capacity when too few load levels were
//! measured for a scalability fit.

/// The shape of the curve searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    ConcaveIncreasing,
    ConvexIncreasing,
    ConcaveDecreasing,
    ConvexDecreasing,
}

/// The x of the knee of `points` (sorted by x or not), or `None` with fewer than three
/// points, a flat x or y range, or a curve that never leaves its chord on the expected side.
pub fn knee(points: &[(f64, f64)], shape: Shape) -> Option<f64> {
    let mut pts: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if pts.len() < 3 {
        return None;
    }
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (x0, x1) = (pts[0].0, pts[pts.len() - 1].0);
    let y0 = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let y1 = pts.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    if x1 - x0 <= 0.0 || y1 - y0 <= 0.0 {
        return None;
    }
    let mut best: Option<(f64, f64)> = None;
    for &(x, y) in &pts {
        let xn = (x - x0) / (x1 - x0);
        let yn = (y - y0) / (y1 - y0);
        // The difference curve of the paper, oriented so the knee is its maximum.
        let d = match shape {
            Shape::ConcaveIncreasing => yn - xn,
            Shape::ConvexIncreasing => xn - yn,
            Shape::ConcaveDecreasing => yn - (1.0 - xn),
            Shape::ConvexDecreasing => (1.0 - xn) - yn,
        };
        if d > 0.0 && best.is_none_or(|(_, bd)| d > bd) {
            best = Some((x, d));
        }
    }
    best.map(|(x, _)| x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kneed package's `figure2` curve: y = −1/(x + 0.1) + 5 on ten points of 0..1.
    #[test]
    fn figure2_golden() {
        let pts: Vec<(f64, f64)> = (0..10)
            .map(|i| {
                let x = i as f64 / 9.0;
                (x, -1.0 / (x + 0.1) + 5.0)
            })
            .collect();
        let k = knee(&pts, Shape::ConcaveIncreasing).unwrap();
        assert!((k - 0.222).abs() < 0.001, "knee at {k}");
    }

    #[test]
    fn convex_latency_curve() {
        // p99 flat to 80/s, then climbing: the knee sits where it turns.
        let pts: Vec<(f64, f64)> = (1..=10)
            .map(|i| {
                let r = i as f64 * 10.0;
                (
                    r,
                    if r <= 80.0 {
                        20.0
                    } else {
                        20.0 + (r - 80.0) * 30.0
                    },
                )
            })
            .collect();
        assert_eq!(knee(&pts, Shape::ConvexIncreasing), Some(80.0));
        assert_eq!(knee(&pts[..2], Shape::ConvexIncreasing), None);
    }
}
