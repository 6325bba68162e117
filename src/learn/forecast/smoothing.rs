//! What the exponential-smoothing methods share: the step/predict interface and fitting
//! their parameters by minimising the one-step-ahead squared error.
//!
//! Parameters live in (0, 1); the search runs on their logits so Nelder–Mead needs no bounds.
//! It starts from the best point of a coarse grid, because the surface has shallow valleys
//! where a simplex started at an arbitrary point stalls.

use super::nelder_mead::minimize;

/// A state-space smoother: one-step forecasts while absorbing observations.
pub trait Smoother: Clone {
    /// The forecast of the next observation, then the state updated with `y`.
    fn step(&mut self, y: f64) -> f64;
    /// Forecasts for the next `h` steps.
    fn predict(&self, h: usize) -> Vec<f64>;
}

/// The damping of the trend: a trend learned from noise must not run away over a week.
pub const PHI: f64 = 0.98;

fn sigmoid(u: f64) -> f64 {
    1.0 / (1.0 + (-u).exp())
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

/// Sum of squared one-step errors of the smoother `make(params)` started on `y[..init]`.
pub fn sse<S: Smoother>(y: &[f64], init: usize, smoother: &S) -> f64 {
    let mut s = smoother.clone();
    let mut total = 0.0;
    for &v in &y[init..] {
        let e = v - s.step(v);
        total += e * e;
    }
    if total.is_finite() {
        total
    } else {
        f64::MAX
    }
}

/// Fits parameters on `y` (the first `init` values initialise the state): the best point of
/// `grid` (the Cartesian product of per-parameter values), refined by Nelder–Mead. With too
/// little data after the initialisation, returns `default`.
pub fn fit<S: Smoother>(
    y: &[f64],
    init: usize,
    grid: &[&[f64]],
    default: &[f64],
    make: impl Fn(&[f64]) -> S,
) -> Vec<f64> {
    if y.len() < init + 24.min(init).max(8) {
        return default.to_vec();
    }
    let mut best = (default.to_vec(), sse(y, init, &make(default)));
    let mut point = vec![0.0; grid.len()];
    let combos: usize = grid.iter().map(|g| g.len()).product();
    for mut k in 0..combos {
        for (j, g) in grid.iter().enumerate() {
            point[j] = g[k % g.len()];
            k /= g.len();
        }
        let v = sse(y, init, &make(&point));
        if v < best.1 {
            best = (point.clone(), v);
        }
    }
    let start: Vec<f64> = best.0.iter().map(|&p| logit(p)).collect();
    let mut objective = |u: &[f64]| {
        let p: Vec<f64> = u.iter().map(|&x| sigmoid(x)).collect();
        sse(y, init, &make(&p))
    };
    let (u, v) = minimize(&mut objective, &start, 0.7, 40 * grid.len() + 40);
    if v < best.1 {
        u.iter().map(|&x| sigmoid(x)).collect()
    } else {
        best.0
    }
}
