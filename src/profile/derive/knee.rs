//! The knee of the latency-vs-load curve: the offered rate past which p99 starts climbing.
//!
//! Each rate bucket gives one point (median offered rate, median p99). A continuous
//! two-segment line, `y = a + b·x + c·max(0, x − k)`, is fitted by least squares for knots
//! `k` across the range, and the best knot is the knee. It only counts when the bend is
//! real: the slope after the knee is steeper (`c > 0`), and the two segments explain the
//! points at least twice as well as one straight line.

use super::buckets::Bucket;
use super::stats::median;

/// Points needed for a fit.
const MIN_POINTS: usize = 5;
/// Knots tried between the second and the second-to-last point.
const KNOTS: usize = 200;

pub fn knee(buckets: &[Bucket<'_>]) -> Option<f64> {
    let points: Vec<(f64, f64)> = buckets
        .iter()
        .filter_map(|b| {
            let x = median(&b.seconds.iter().map(|o| o.offered).collect::<Vec<_>>())?;
            let y = median(&b.seconds.iter().map(|o| o.p99_ms).collect::<Vec<_>>())?;
            Some((x, y))
        })
        .collect();
    if points.len() < MIN_POINTS {
        return None;
    }
    let line_sse = fit(&points, None)?.1;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / points.len() as f64;
    let spread: f64 = points.iter().map(|p| (p.1 - mean_y).powi(2)).sum();
    if line_sse <= 1e-9 * spread {
        // A straight line already explains the curve: there is no bend to find.
        return None;
    }
    let (lo, hi) = (points[1].0, points[points.len() - 2].0);
    let mut best: Option<(f64, Vec<f64>, f64)> = None;
    for i in 0..=KNOTS {
        let k = lo + (hi - lo) * i as f64 / KNOTS as f64;
        let Some((beta, sse)) = fit(&points, Some(k)) else {
            continue;
        };
        if best.as_ref().is_none_or(|(_, _, s)| sse < *s) {
            best = Some((k, beta, sse));
        }
    }
    let (k, beta, sse) = best?;
    // The slope after the knee must at least double the slope before it.
    let (b, c) = (beta[1], beta[2]);
    (c > b.max(0.0) && sse * 2.0 <= line_sse).then_some(k)
}

/// Least squares of `y = a + b·x (+ c·max(0, x − k))`: returns the coefficients and the sum
/// of squared errors.
fn fit(points: &[(f64, f64)], knot: Option<f64>) -> Option<(Vec<f64>, f64)> {
    let cols = |x: f64| -> Vec<f64> {
        match knot {
            Some(k) => vec![1.0, x, (x - k).max(0.0)],
            None => vec![1.0, x],
        }
    };
    let m = if knot.is_some() { 3 } else { 2 };
    // Normal equations (XᵀX) β = Xᵀy.
    let mut a = vec![vec![0.0; m + 1]; m];
    for (x, y) in points {
        let r = cols(*x);
        for i in 0..m {
            for j in 0..m {
                a[i][j] += r[i] * r[j];
            }
            a[i][m] += r[i] * y;
        }
    }
    let beta = solve(a)?;
    let sse = points
        .iter()
        .map(|(x, y)| {
            let r = cols(*x);
            let fitted: f64 = r.iter().zip(&beta).map(|(u, v)| u * v).sum();
            (y - fitted).powi(2)
        })
        .sum();
    Some((beta, sse))
}

/// Gaussian elimination with partial pivoting on an augmented matrix.
fn solve(mut a: Vec<Vec<f64>>) -> Option<Vec<f64>> {
    let n = a.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        let pivot_row = a[col].clone();
        for (row, r) in a.iter_mut().enumerate() {
            if row != col {
                let f = r[col] / pivot_row[col];
                for (x, p) in r.iter_mut().zip(&pivot_row).skip(col) {
                    *x -= f * p;
                }
            }
        }
    }
    Some((0..n).map(|i| a[i][n] / a[i][i]).collect())
}

#[cfg(test)]
mod tests {
    use super::super::buckets::by_rate;
    use super::super::obs::Obs;
    use super::*;

    fn obs(rate: f64, p99: f64) -> Obs {
        Obs {
            t: 0,
            offered: rate,
            rps: rate,
            p50_ms: p99,
            p99_ms: p99,
            error_rate: 0.0,
        }
    }

    #[test]
    fn finds_a_hinge() {
        let data: Vec<Obs> = (1..=100)
            .map(|i| {
                let r = i as f64 * 10.0;
                obs(r, 20.0 + 2.0 * (r - 600.0).max(0.0))
            })
            .collect();
        let refs: Vec<&Obs> = data.iter().collect();
        let k = knee(&by_rate(&refs)).unwrap();
        assert!((k - 600.0).abs() < 40.0, "{k}");
    }

    #[test]
    fn no_knee_on_a_line() {
        let data: Vec<Obs> = (1..=100).map(|i| obs(i as f64, 10.0 + i as f64)).collect();
        let refs: Vec<&Obs> = data.iter().collect();
        assert_eq!(knee(&by_rate(&refs)), None);
    }
}
