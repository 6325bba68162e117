//! Nelder–Mead minimisation, for fitting smoothing parameters to one-step errors.
//!
//! The error surface of exponential smoothing is smooth but not convex and has no cheap
//! gradient; a few hundred evaluations of a simplex search from the best grid point is the
//! usual remedy and needs no dependency.

/// Minimises `f` from `x0` with an initial simplex of edge `step`; returns (x, f(x)).
pub fn minimize(
    f: &mut impl FnMut(&[f64]) -> f64,
    x0: &[f64],
    step: f64,
    max_evals: usize,
) -> (Vec<f64>, f64) {
    let d = x0.len();
    let mut pts: Vec<Vec<f64>> = vec![x0.to_vec()];
    for i in 0..d {
        let mut p = x0.to_vec();
        p[i] += step;
        pts.push(p);
    }
    let mut vals: Vec<f64> = pts.iter().map(|p| f(p)).collect();
    let mut evals = d + 1;
    while evals < max_evals {
        let mut idx: Vec<usize> = (0..=d).collect();
        idx.sort_by(|&a, &b| vals[a].total_cmp(&vals[b]));
        pts = idx.iter().map(|&i| pts[i].clone()).collect();
        vals = idx.iter().map(|&i| vals[i]).collect();
        let (best, worst) = (vals[0], vals[d]);
        if (worst - best).abs() <= 1e-10 * (1.0 + best.abs()) {
            break;
        }
        let centroid: Vec<f64> = (0..d)
            .map(|j| pts[..d].iter().map(|p| p[j]).sum::<f64>() / d as f64)
            .collect();
        let along = |t: f64| -> Vec<f64> {
            (0..d)
                .map(|j| centroid[j] + t * (pts[d][j] - centroid[j]))
                .collect()
        };
        let xr = along(-1.0);
        let fr = f(&xr);
        evals += 1;
        if fr < vals[0] {
            let xe = along(-2.0);
            let fe = f(&xe);
            evals += 1;
            if fe < fr {
                pts[d] = xe;
                vals[d] = fe;
            } else {
                pts[d] = xr;
                vals[d] = fr;
            }
        } else if fr < vals[d - 1] {
            pts[d] = xr;
            vals[d] = fr;
        } else {
            let (xc, fc) = if fr < vals[d] {
                let x = along(-0.5);
                let v = f(&x);
                (x, v)
            } else {
                let x = along(0.5);
                let v = f(&x);
                (x, v)
            };
            evals += 1;
            if fc < vals[d].min(fr) {
                pts[d] = xc;
                vals[d] = fc;
            } else {
                // Shrink towards the best point.
                let best = pts[0].clone();
                for i in 1..=d {
                    for (x, b) in pts[i].iter_mut().zip(&best) {
                        *x = b + 0.5 * (*x - b);
                    }
                    vals[i] = f(&pts[i]);
                }
                evals += d;
            }
        }
    }
    let best = (0..=d)
        .min_by(|&a, &b| vals[a].total_cmp(&vals[b]))
        .unwrap_or(0);
    (pts[best].clone(), vals[best])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_bottom_of_a_bowl() {
        let mut f = |x: &[f64]| (x[0] - 1.0).powi(2) + 10.0 * (x[1] + 2.0).powi(2);
        let (x, v) = minimize(&mut f, &[0.0, 0.0], 0.5, 500);
        assert!(v < 1e-8, "{x:?} {v}");
    }
}
