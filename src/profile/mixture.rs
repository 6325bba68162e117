//! The latency quantiles of several seconds (or levels) taken together: the quantiles of the
//! merged distribution, not a median of each second's own p99.
//!
//! A recorded second keeps its latency's p50, p90, p99, p99.9 and maximum and how many
//! requests were answered. Its distribution function is taken as the straight lines through
//! those points; the merged one is the request-weighted mean of the seconds' functions, and a
//! quantile of it is found by bisection. The p99 of eight seconds of 160 requests is then read
//! near the 13th-largest latency of all 1,280, where a median of per-second p99s is in effect a
//! median of second-largest values. (The profile's `histograms` table would give the exact
//! merge; `res run` records none today, so this is what the levels use.)

/// One second's (or one level's) latency summary, in ms, and its weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tail {
    /// Requests answered.
    pub n: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

const LEVELS: [f64; 6] = [0.0, 0.5, 0.9, 0.99, 0.999, 1.0];

impl Tail {
    /// The points (latency, cumulative share) of its distribution function, made monotone.
    fn points(&self) -> [(f64, f64); 6] {
        let xs = [0.0, self.p50, self.p90, self.p99, self.p999, self.max];
        let mut out = [(0.0, 0.0); 6];
        let mut last = 0.0f64;
        for (i, (&x, &q)) in xs.iter().zip(LEVELS.iter()).enumerate() {
            let x = if x.is_finite() { x.max(last) } else { last };
            last = x;
            out[i] = (x, q);
        }
        out
    }

    /// The share of its requests answered within `x` ms.
    fn cdf(&self, x: f64) -> f64 {
        let p = self.points();
        if x >= p[5].0 {
            return 1.0;
        }
        for w in p.windows(2) {
            let ((x0, q0), (x1, q1)) = (w[0], w[1]);
            if x < x1 {
                return if x1 > x0 {
                    q0 + (q1 - q0) * ((x - x0) / (x1 - x0)).clamp(0.0, 1.0)
                } else {
                    q0
                };
            }
        }
        1.0
    }
}

/// The `q` quantile (0–1) of the tails merged, each weighted by its requests; 0 when none
/// answered a request.
pub fn quantile(tails: &[Tail], q: f64) -> f64 {
    let weighted: Vec<&Tail> = tails
        .iter()
        .filter(|t| t.n > 0.0 && t.n.is_finite())
        .collect();
    let total: f64 = weighted.iter().map(|t| t.n).sum();
    if total <= 0.0 {
        return 0.0;
    }
    let cdf = |x: f64| weighted.iter().map(|t| t.n * t.cdf(x)).sum::<f64>() / total;
    let q = q.clamp(0.0, 1.0);
    // The merged function is straight between the tails' points: find the two neighbouring
    // points it crosses `q` between (a binary search, each step one pass over the tails), then
    // solve the line between them.
    let mut xs: Vec<f64> = weighted
        .iter()
        .flat_map(|t| t.points().map(|p| p.0))
        .collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let i = xs.partition_point(|&x| cdf(x) < q);
    if i == 0 {
        return xs.first().copied().unwrap_or(0.0);
    }
    if i >= xs.len() {
        return xs.last().copied().unwrap_or(0.0);
    }
    let (x0, x1) = (xs[i - 1], xs[i]);
    // Where a tail's points coincide the function jumps at x1: use its value just before.
    let (c0, c1) = (cdf(x0), cdf(x0 + (x1 - x0) * (1.0 - 1e-9)));
    if c1 > c0 && q <= c1 {
        x0 + (x1 - x0) * ((q - c0) / (c1 - c0)).clamp(0.0, 1.0)
    } else {
        x1
    }
}

/// The mean latency of the tails merged (each second's distribution taken as its straight
/// lines), weighted by requests: the R of Little's law.
pub fn mean(tails: &[Tail]) -> f64 {
    let (mut sum, mut n) = (0.0, 0.0);
    for t in tails.iter().filter(|t| t.n > 0.0 && t.n.is_finite()) {
        let m: f64 = t
            .points()
            .windows(2)
            .map(|w| (w[1].1 - w[0].1) * (w[0].0 + w[1].0) / 2.0)
            .sum();
        sum += t.n * m;
        n += t.n;
    }
    if n > 0.0 {
        sum / n
    } else {
        0.0
    }
}

/// The merged tails as one, with every quantile it keeps.
pub fn merge(tails: &[Tail]) -> Tail {
    Tail {
        n: tails.iter().map(|t| t.n).filter(|n| n.is_finite()).sum(),
        p50: quantile(tails, 0.5),
        p90: quantile(tails, 0.9),
        p99: quantile(tails, 0.99),
        p999: quantile(tails, 0.999),
        max: tails
            .iter()
            .map(|t| t.max)
            .filter(|x| x.is_finite())
            .fold(0.0, f64::max),
    }
}

/// A 90 % interval of the p99 that `n` requests measure: the quantiles at the ranks an order
/// statistic reaches nine times in ten, 0.99 ± 1.645·√(0.99·0.01/n). It says how far another
/// sample of as many requests may land from this one, not how the machine's load may move it.
pub fn p99_interval(tails: &[Tail]) -> (f64, f64) {
    let n: f64 = tails.iter().map(|t| t.n).filter(|n| n.is_finite()).sum();
    if n <= 0.0 {
        return (0.0, 0.0);
    }
    let h = 1.645 * (0.99 * 0.01 / n).sqrt();
    (
        quantile(tails, (0.99 - h).max(0.5)),
        quantile(tails, (0.99 + h).min(0.9999)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tail(n: f64, scale: f64) -> Tail {
        Tail {
            n,
            p50: 10.0 * scale,
            p90: 20.0 * scale,
            p99: 40.0 * scale,
            p999: 80.0 * scale,
            max: 100.0 * scale,
        }
    }

    #[test]
    fn one_tail_gives_its_own_quantiles() {
        let t = tail(100.0, 1.0);
        for (q, want) in [(0.5, 10.0), (0.9, 20.0), (0.99, 40.0), (0.999, 80.0)] {
            assert!((quantile(&[t], q) - want).abs() < 1e-6, "{q}");
        }
        assert_eq!(merge(&[t, t]).p99, quantile(&[t], 0.99));
        // 0.5·5 + 0.4·15 + 0.09·30 + 0.009·60 + 0.001·90
        assert!((mean(&[t]) - 11.83).abs() < 1e-9, "{}", mean(&[t]));
    }

    #[test]
    fn merged_quantile_lies_between_and_follows_the_weights() {
        let a = tail(100.0, 1.0);
        let b = tail(100.0, 2.0);
        let m = quantile(&[a, b], 0.99);
        assert!(m > 40.0 && m < 80.0, "{m}");
        let heavy_b = quantile(&[a, tail(1000.0, 2.0)], 0.99);
        assert!(heavy_b > m && heavy_b <= 80.0 + 1e-6, "{heavy_b}");
        assert_eq!(quantile(&[], 0.99), 0.0);
        assert_eq!(quantile(&[tail(0.0, 1.0)], 0.99), 0.0);
    }

    #[test]
    fn the_interval_narrows_with_requests() {
        let (lo, hi) = p99_interval(&[tail(100.0, 1.0)]);
        let (lo2, hi2) = p99_interval(&[tail(10000.0, 1.0)]);
        assert!(lo < lo2 && lo2 <= 40.0 && 40.0 <= hi2 && hi2 < hi);
    }
}
