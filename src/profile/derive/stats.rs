//! The few statistics the profile needs, on top of statrs: medians and means, Welch's t-test,
//! the Mann–Whitney U test, a least-squares slope with its confidence interval.

use statrs::distribution::{ContinuousCDF, StudentsT};
use statrs::statistics::{Data, OrderStatistics, Statistics};
use statrs::stats_tests::mannwhitneyu::{mannwhitneyu, MannWhitneyUMethod};
use statrs::stats_tests::Alternative;

pub fn median(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    Some(Data::new(xs.to_vec()).median())
}

pub fn mean(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    Some(xs.mean())
}

/// The mean with a 95 % confidence interval (Student's t), for two or more values.
pub fn mean_ci95(xs: &[f64]) -> Option<(f64, [f64; 2])> {
    let n = xs.len();
    if n < 2 {
        return None;
    }
    let m = xs.mean();
    let se = (xs.variance() / n as f64).sqrt();
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .ok()?
        .inverse_cdf(0.975);
    Some((m, [m - t * se, m + t * se]))
}

/// One-sample t-test: the one-sided p-value that the mean of `xs` is above zero.
pub fn mean_above_zero(xs: &[f64]) -> Option<f64> {
    let n = xs.len();
    if n < 2 {
        return None;
    }
    let m = xs.mean();
    let se = (xs.variance() / n as f64).sqrt();
    if se.is_nan() || se <= 0.0 {
        return Some(if m > 0.0 { 0.0 } else { 1.0 });
    }
    let dist = StudentsT::new(0.0, 1.0, (n - 1) as f64).ok()?;
    Some(1.0 - dist.cdf(m / se))
}

/// Welch's t-test of whether `b`'s mean is greater than `a`'s.
#[derive(Debug, Clone, Copy)]
pub struct Welch {
    pub t: f64,
    pub df: f64,
    /// One-sided p-value for mean(b) > mean(a).
    pub p_greater: f64,
    /// Two-sided p-value.
    pub p_two_sided: f64,
}

pub fn welch(a: &[f64], b: &[f64]) -> Option<Welch> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let (ma, mb) = (a.mean(), b.mean());
    let (va, vb) = (a.variance() / a.len() as f64, b.variance() / b.len() as f64);
    let se2 = va + vb;
    if se2.is_nan() || se2 <= 0.0 {
        // Both samples constant: the difference is certain, or there is none.
        let p = if mb > ma { 0.0 } else { 1.0 };
        let two = if mb == ma { 1.0 } else { 0.0 };
        return Some(Welch {
            t: f64::INFINITY.copysign(mb - ma),
            df: (a.len() + b.len() - 2) as f64,
            p_greater: p,
            p_two_sided: two,
        });
    }
    let t = (mb - ma) / se2.sqrt();
    let df = se2 * se2 / (va * va / (a.len() - 1) as f64 + vb * vb / (b.len() - 1) as f64);
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    let p_greater = 1.0 - dist.cdf(t);
    let p_two_sided = 2.0 * (1.0 - dist.cdf(t.abs()));
    Some(Welch {
        t,
        df,
        p_greater,
        p_two_sided,
    })
}

/// One-sided Mann–Whitney U p-value for `b` tending to be greater than `a`. Robust to the
/// long tails latency has; 1 when the samples cannot be told apart at all.
pub fn mann_whitney_greater(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let all_same = a.iter().chain(b).all(|x| *x == a[0]);
    if all_same {
        return Some(1.0);
    }
    let (_, p) = mannwhitneyu(b, a, MannWhitneyUMethod::Automatic, Alternative::Greater).ok()?;
    Some(if p.is_nan() { 1.0 } else { p.clamp(0.0, 1.0) })
}

/// A least-squares slope with its 95 % confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slope {
    pub slope: f64,
    pub ci95: [f64; 2],
}

/// Needs three points or more, and some spread in `xs`.
pub fn ols_slope(xs: &[f64], ys: &[f64]) -> Option<Slope> {
    let n = xs.len();
    if n < 3 || ys.len() != n {
        return None;
    }
    let (mx, my) = (xs.mean(), ys.mean());
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    if sxx.is_nan() || sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let sse: f64 = xs
        .iter()
        .zip(ys)
        .map(|(x, y)| (y - intercept - slope * x).powi(2))
        .sum();
    let se = (sse / (n - 2) as f64 / sxx).sqrt();
    let t = StudentsT::new(0.0, 1.0, (n - 2) as f64)
        .ok()?
        .inverse_cdf(0.975);
    Some(Slope {
        slope,
        ci95: [slope - t * se, slope + t * se],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welch_sees_a_shift() {
        let a: Vec<f64> = (0..50).map(|i| 100.0 + (i % 7) as f64).collect();
        let b: Vec<f64> = (0..50).map(|i| 110.0 + (i % 7) as f64).collect();
        let w = welch(&a, &b).unwrap();
        assert!(w.p_greater < 1e-6, "{w:?}");
        let same = welch(&a, &a).unwrap();
        assert!(same.p_greater > 0.4);
    }

    #[test]
    fn slope_of_a_line() {
        let xs = [1.0, 2.0, 3.0, 4.0];
        let ys = [2.0, 4.1, 5.9, 8.0];
        let s = ols_slope(&xs, &ys).unwrap();
        assert!((s.slope - 2.0).abs() < 0.1);
        assert!(s.ci95[0] < 2.0 && s.ci95[1] > 2.0);
    }

    #[test]
    fn mann_whitney_direction() {
        let a: Vec<f64> = (0..30).map(|i| i as f64).collect();
        let b: Vec<f64> = (0..30).map(|i| i as f64 + 20.0).collect();
        assert!(mann_whitney_greater(&a, &b).unwrap() < 0.001);
        assert!(mann_whitney_greater(&b, &a).unwrap() > 0.9);
    }
}
