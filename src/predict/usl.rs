//! The Universal Scalability Law, X(N) = γN / (1 + α(N−1) + βN(N−1)), fitted to
//! (concurrency, throughput) points by nonlinear least squares.
//!
//! α is contention (the serial fraction), β coherency (the cost of keeping N workers
//! consistent with each other), γ the throughput of one worker. Both α and β are kept
//! non-negative, as the model's meaning requires. The fit starts from the linearised form
//! (Gunther's deviation-from-linearity regression), which alone lands too far from the least
//! squares optimum (SPEC SDM91: N* ≈ 112 instead of 96.5), and is finished by argmin's
//! Nelder–Mead simplex on the sum of squared throughput residuals.

use argmin::core::{CostFunction, Error as ArgminError, Executor, State};
use argmin::solver::neldermead::NelderMead;
use serde::Serialize;

use super::finite;

/// The three parameters of the law.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Usl {
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
}

/// How well a fit describes its points. Every number is finite.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Diagnostics {
    /// Points the fit used.
    pub points: usize,
    /// Distinct concurrency levels among them.
    pub distinct_levels: usize,
    /// 1 − SSE/SST of the throughput; 0 when the throughput did not vary.
    pub r_squared: f64,
    /// Standard deviation of the residuals, in the throughput's unit.
    pub residual_sd: f64,
}

/// A fitted law and its diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct UslFit {
    pub usl: Usl,
    pub diagnostics: Diagnostics,
}

/// Why no law was fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UslError {
    /// The law has three parameters and a curve; fewer levels give a fake fit.
    #[error("{levels} distinct load levels measured, 4 are needed for a scalability fit")]
    TooFewLevels { levels: usize },
    #[error("the optimiser failed: {0}")]
    Optimiser(String),
}

/// The fewest distinct concurrency levels a fit is attempted on.
pub const MIN_LEVELS: usize = 4;

impl Usl {
    /// Throughput at concurrency `n`.
    pub fn throughput(&self, n: f64) -> f64 {
        let d = 1.0 + self.alpha * (n - 1.0) + self.beta * n * (n - 1.0);
        if d <= 0.0 {
            return 0.0;
        }
        finite::or(self.gamma * n / d, 0.0)
    }

    /// N* = √((1−α)/β), the concurrency of peak throughput; `None` when throughput never
    /// turns down (β = 0) or never rises (α ≥ 1).
    pub fn peak_concurrency(&self) -> Option<f64> {
        if self.beta <= 0.0 || self.alpha >= 1.0 {
            return None;
        }
        finite::some(((1.0 - self.alpha) / self.beta).sqrt())
    }

    /// Xmax: the throughput at N*, or γ/α, the asymptote, when β = 0; `None` when the law
    /// grows without bound (α = β = 0), i.e. no limit was seen in the data.
    pub fn max_throughput(&self) -> Option<f64> {
        match self.peak_concurrency() {
            Some(n) => finite::some(self.throughput(n.max(1.0))),
            None if self.alpha >= 1.0 => finite::some(self.gamma),
            None if self.alpha > 0.0 => finite::some(self.gamma / self.alpha),
            None => None,
        }
    }

    /// The linearised estimate: γ from the smallest concurrency measured, then
    /// N/C(N) − 1 = α(N−1) + βN(N−1) by least squares through the origin, with
    /// C(N) = X(N)/γ. Negative estimates are clipped to zero.
    pub fn linearised(points: &[(f64, f64)]) -> Option<Usl> {
        let &(n0, x0) = points
            .iter()
            .filter(|(n, x)| *n > 0.0 && *x > 0.0)
            .min_by(|a, b| a.0.total_cmp(&b.0))?;
        let gamma = x0 / n0;
        // y = κ·u² + (σ+κ)·u with u = N−1: a two-column regression without intercept.
        let (mut suu, mut su3, mut su4, mut syu, mut syu2) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for &(n, x) in points {
            if n <= 0.0 || x <= 0.0 {
                continue;
            }
            let u = n - 1.0;
            let y = n / (x / gamma) - 1.0;
            suu += u * u;
            su3 += u * u * u;
            su4 += u * u * u * u;
            syu += y * u;
            syu2 += y * u * u;
        }
        // Normal equations for [a (u²), b (u)].
        let det = su4 * suu - su3 * su3;
        let (a, b) = if det.abs() > f64::EPSILON * su4.max(1.0) * suu.max(1.0) {
            (
                (syu2 * suu - syu * su3) / det,
                (su4 * syu - su3 * syu2) / det,
            )
        } else if suu > 0.0 {
            (0.0, syu / suu)
        } else {
            (0.0, 0.0)
        };
        let beta = finite::or(a, 0.0).max(0.0);
        let alpha = finite::or(b - a, 0.0).max(0.0);
        Some(Usl { alpha, beta, gamma })
    }

    /// Least squares fit of `points` (concurrency, throughput), seeded from `seed` (else the
    /// linearised form).
    pub fn fit(points: &[(f64, f64)], seed: Option<Usl>) -> Result<UslFit, UslError> {
        Usl::fit_rounds(points, seed, 4)
    }

    /// [`fit`](Usl::fit) with `rounds` restarts of the simplex: a bootstrap refit, which
    /// starts at the optimum of nearby data, needs fewer.
    pub fn fit_rounds(
        points: &[(f64, f64)],
        seed: Option<Usl>,
        rounds: usize,
    ) -> Result<UslFit, UslError> {
        let pts: Vec<(f64, f64)> = points
            .iter()
            .copied()
            .filter(|(n, x)| n.is_finite() && x.is_finite() && *n > 0.0 && *x >= 0.0)
            .collect();
        let levels = distinct(&pts);
        if levels < MIN_LEVELS {
            return Err(UslError::TooFewLevels { levels });
        }
        let start = seed
            .or_else(|| Usl::linearised(&pts))
            .ok_or(UslError::TooFewLevels { levels: 0 })?;
        let n_max = pts.iter().map(|p| p.0).fold(1.0, f64::max);
        let problem = Sse::new(&pts, start.gamma, n_max);
        let mut u = problem.encode(&start);
        // Restarting the simplex around the best point so far lets it escape the early
        // collapse that a badly scaled first simplex can suffer.
        for round in 0..rounds.max(1) {
            let step = if round == 0 { 0.5 } else { 0.1 };
            let mut simplex = vec![u.clone()];
            for i in 0..3 {
                let mut v = u.clone();
                v[i] += if v[i].abs() > 1e-9 { v[i] * step } else { step };
                simplex.push(v);
            }
            let solver = NelderMead::new(simplex)
                .with_sd_tolerance(1e-15)
                .map_err(|e| UslError::Optimiser(e.to_string()))?;
            let res = Executor::new(problem.clone(), solver)
                .configure(|s| s.max_iters(3000))
                .run()
                .map_err(|e| UslError::Optimiser(e.to_string()))?;
            if let Some(best) = res.state().get_best_param() {
                u = best.clone();
            }
        }
        let mut usl = problem.decode(&u);
        // The simplex approaches a bound but never lands on it: a term too small to matter
        // anywhere near the measured range is zero, so N* is not reported at 10⁸.
        if usl.beta * n_max * n_max < 1e-6 {
            usl.beta = 0.0;
        }
        if usl.alpha * n_max < 1e-6 {
            usl.alpha = 0.0;
        }
        Ok(UslFit {
            usl,
            diagnostics: diagnostics(&pts, &usl),
        })
    }
}

/// The number of distinct values of the first coordinate (1 % apart counts as distinct).
pub fn distinct(points: &[(f64, f64)]) -> usize {
    let mut ns: Vec<f64> = points.iter().map(|p| p.0).collect();
    ns.sort_by(f64::total_cmp);
    let mut count = 0;
    let mut last = f64::NEG_INFINITY;
    for n in ns {
        if n > last * 1.01 + 1e-9 {
            count += 1;
            last = n;
        }
    }
    count
}

fn diagnostics(points: &[(f64, f64)], usl: &Usl) -> Diagnostics {
    let n = points.len().max(1) as f64;
    let mean = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sse: f64 = points
        .iter()
        .map(|&(c, x)| (x - usl.throughput(c)).powi(2))
        .sum();
    let sst: f64 = points.iter().map(|&(_, x)| (x - mean).powi(2)).sum();
    Diagnostics {
        points: points.len(),
        distinct_levels: distinct(points),
        r_squared: if sst > 0.0 {
            finite::or(1.0 - sse / sst, 0.0)
        } else {
            0.0
        },
        residual_sd: finite::or((sse / n).sqrt(), 0.0),
    }
}

/// The sum of squared residuals, over parameters scaled to be of order one: α and β enter
/// as absolute values, which keeps them non-negative without a constrained solver.
#[derive(Clone)]
struct Sse {
    points: Vec<(f64, f64)>,
    scale: [f64; 3],
    norm: f64,
}

impl Sse {
    fn new(points: &[(f64, f64)], gamma: f64, n_max: f64) -> Sse {
        let norm = points.iter().map(|p| p.1 * p.1).sum::<f64>().max(1e-12);
        Sse {
            points: points.to_vec(),
            scale: [1.0 / n_max, 1.0 / (n_max * n_max), gamma.abs().max(1e-9)],
            norm,
        }
    }

    fn encode(&self, u: &Usl) -> Vec<f64> {
        vec![
            u.alpha / self.scale[0],
            u.beta / self.scale[1],
            u.gamma / self.scale[2],
        ]
    }

    fn decode(&self, v: &[f64]) -> Usl {
        Usl {
            alpha: v[0].abs() * self.scale[0],
            beta: v[1].abs() * self.scale[1],
            gamma: v[2] * self.scale[2],
        }
    }
}

impl CostFunction for Sse {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, p: &Self::Param) -> Result<f64, ArgminError> {
        let usl = self.decode(p);
        let sse: f64 = self
            .points
            .iter()
            .map(|&(n, x)| (x - usl.throughput(n)).powi(2))
            .sum();
        Ok(finite::or(sse / self.norm, f64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64, rel: f64) {
        assert!(
            (got - want).abs() <= rel * want.abs(),
            "got {got}, want {want} within {rel}"
        );
    }

    #[test]
    fn spec_sdm91_golden() {
        let n = [1.0, 18.0, 36.0, 72.0, 108.0, 144.0, 216.0];
        let x = [64.9, 995.9, 1652.4, 1853.2, 1828.9, 1775.0, 1702.2];
        let pts: Vec<(f64, f64)> = n.iter().copied().zip(x).collect();
        let fit = Usl::fit(&pts, None).unwrap();
        close(fit.usl.alpha, 0.02773, 0.005);
        close(fit.usl.beta, 1.044e-4, 0.005);
        close(fit.usl.gamma, 89.995, 0.002);
        close(fit.usl.peak_concurrency().unwrap(), 96.5, 0.005);
        close(fit.usl.max_throughput().unwrap(), 1884.0, 0.002);
        assert!(fit.diagnostics.r_squared > 0.95, "{:?}", fit.diagnostics);
        assert_eq!(fit.diagnostics.distinct_levels, 7);
        // The linearised form alone is not enough: its peak is near 112.
        let lin = Usl::linearised(&pts).unwrap();
        assert!(lin.peak_concurrency().unwrap() > 105.0);
    }

    #[test]
    fn small_golden() {
        let n = [1.0, 2.0, 4.0, 6.0, 8.0, 10.0];
        let x = [1.0, 1.8868, 3.0769, 3.5294, 3.5398, 3.3557];
        let pts: Vec<(f64, f64)> = n.iter().copied().zip(x).collect();
        let fit = Usl::fit(&pts, None).unwrap();
        close(fit.usl.alpha, 0.02, 0.01);
        close(fit.usl.beta, 0.02, 0.01);
        close(fit.usl.gamma, 1.0, 0.001);
        close(fit.usl.peak_concurrency().unwrap(), 7.0, 0.01);
    }

    #[test]
    fn too_few_levels_is_refused() {
        let pts = [(1.0, 10.0), (2.0, 19.0), (2.0, 19.5), (4.0, 30.0)];
        assert_eq!(
            Usl::fit(&pts, None),
            Err(UslError::TooFewLevels { levels: 3 })
        );
    }

    #[test]
    fn linear_growth_has_no_limit() {
        let pts: Vec<(f64, f64)> = (1..=8).map(|n| (n as f64, 10.0 * n as f64)).collect();
        let fit = Usl::fit(&pts, None).unwrap();
        assert!(fit.usl.alpha < 1e-6 && fit.usl.beta < 1e-8);
        assert!(fit.usl.max_throughput().is_none_or(|x| x > 1e4));
    }
}
