//! Rolling-origin backtest: where the origins go and how a method's forecasts score.
//!
//! Origins step back one day at a time from the end of the history (up to four weeks of
//! them), each followed by a window as long as the longest season in use (capped by the
//! requested horizon), so every method is judged on the same held-out days: scored on the last
//! two weeks of origins, while the intervals take the errors of all. Scores: MAE; MASE (MAE over the in-sample
//! error of the seasonal-naive one-step forecast, so 1.0 means "no better than copying last
//! season"); MAPE over non-zero actuals; and the error of each day's peak, which is what a
//! load test cares about.

use serde::Serialize;

use super::methods::Spec;

/// At most this many origins (four weeks of daily origins): the intervals take the errors of
/// all of them.
pub const MAX_ORIGINS: usize = 28;
/// Methods are scored (and chosen) on the last this many origins (two weeks): the method of
/// the last two weeks forecasts the next day better than the method of the last four, while
/// four weeks of errors calibrate intervals better than two.
pub const SCORED_ORIGINS: usize = 14;
/// Smoothing parameters are fitted this many times per method in a backtest.
const REFITS: usize = 3;

/// The backtest's origins (ascending) and window length.
#[derive(Debug, Clone)]
pub struct Plan {
    pub origins: Vec<usize>,
    pub h: usize,
}

/// Places origins for a series of `n` steps: at least `min_train` steps before each, a
/// window of `h` after, one `step` apart.
pub fn plan(n: usize, min_train: usize, h: usize, step: usize) -> Option<Plan> {
    let h = h.min(n.saturating_sub(min_train));
    if h == 0 {
        return None;
    }
    let mut origins = Vec::new();
    let mut o = n - h;
    while o >= min_train && origins.len() < MAX_ORIGINS {
        origins.push(o);
        if o < step {
            break;
        }
        o -= step;
    }
    origins.reverse();
    (!origins.is_empty()).then_some(Plan { origins, h })
}

/// Scores of one method in the backtest.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Scores {
    pub mae: f64,
    pub mase: f64,
    /// Percent, over non-zero actuals.
    pub mape: Option<f64>,
    /// Percent: mean relative error of each day's maximum.
    pub peak_error: Option<f64>,
}

/// A method's backtest: its forecasts at each origin and their scores.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub spec: Spec,
    pub forecasts: Vec<Vec<f64>>,
    pub scores: Scores,
}

/// The in-sample MAE of the lag-`lag` naive forecast: the MASE denominator.
pub fn mase_scale(y: &[f64], lag: usize) -> f64 {
    let lag = if y.len() > lag + 1 { lag } else { 1 };
    if y.len() <= lag {
        return 1.0;
    }
    let s = y[lag..]
        .iter()
        .zip(y)
        .map(|(a, b)| (a - b).abs())
        .sum::<f64>()
        / (y.len() - lag) as f64;
    if s > 0.0 {
        s
    } else {
        1.0
    }
}

/// Runs `spec` through the backtest `plan` on `y`.
/// `known` marks the steps with real data: the others (filled gaps) are not scored.
pub fn evaluate(
    spec: Spec,
    y: &[f64],
    known: Option<&[bool]>,
    plan: &Plan,
    scale: f64,
    day: usize,
) -> Outcome {
    // Parameters are re-fitted on the history before each group of origins (REFITS groups
    // over the scored origins, one over the earlier ones, so a long series stays cheap) and
    // never see the windows they forecast.
    let first_scored = plan.origins.len().saturating_sub(SCORED_ORIGINS);
    let (early, scored) = plan.origins.split_at(first_scored);
    let group = scored.len().div_ceil(REFITS).max(1);
    let chunks = (!early.is_empty())
        .then_some(early)
        .into_iter()
        .chain(scored.chunks(group));
    let mut forecasts = Vec::with_capacity(plan.origins.len());
    for chunk in chunks {
        let params = spec.fit(&y[..chunk[0]]);
        forecasts.extend(spec.at_origins(y, &params, chunk, plan.h));
    }
    for f in &mut forecasts {
        for v in f.iter_mut() {
            *v = v.max(0.0);
        }
    }
    let scored_plan = Plan {
        origins: plan.origins[first_scored..].to_vec(),
        h: plan.h,
    };
    let scores = score(
        &forecasts[first_scored..],
        y,
        known,
        &scored_plan,
        scale,
        day,
    );
    Outcome {
        spec,
        forecasts,
        scores,
    }
}

fn score(
    forecasts: &[Vec<f64>],
    y: &[f64],
    known: Option<&[bool]>,
    plan: &Plan,
    scale: f64,
    day: usize,
) -> Scores {
    let is_known = |t: usize| known.is_none_or(|k| k[t]);
    let (mut abs, mut n) = (0.0f64, 0.0f64);
    let (mut ape, mut n_ape) = (0.0, 0.0);
    let (mut pe, mut n_pe) = (0.0, 0.0);
    for (f, &o) in forecasts.iter().zip(&plan.origins) {
        let a = &y[o..o + plan.h];
        for (i, (fv, av)) in f.iter().zip(a).enumerate() {
            if !is_known(o + i) {
                continue;
            }
            abs += (av - fv).abs();
            n += 1.0;
            if *av != 0.0 {
                ape += ((av - fv) / av).abs();
                n_ape += 1.0;
            }
        }
        for (d, (fw, aw)) in f.chunks(day.max(1)).zip(a.chunks(day.max(1))).enumerate() {
            let from = o + d * day.max(1);
            if aw.len() < day || !(from..from + aw.len()).all(is_known) {
                continue;
            }
            let amax = aw.iter().cloned().fold(f64::MIN, f64::max);
            let fmax = fw.iter().cloned().fold(f64::MIN, f64::max);
            if amax > 0.0 {
                pe += ((fmax - amax) / amax).abs();
                n_pe += 1.0;
            }
        }
    }
    let mae = abs / n.max(1.0);
    Scores {
        mae,
        mase: mae / scale,
        mape: (n_ape > 0.0).then(|| 100.0 * ape / n_ape),
        peak_error: (n_pe > 0.0).then(|| 100.0 * pe / n_pe),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_step_back_by_a_day() {
        let p = plan(60 * 24, 168, 168, 24).unwrap();
        assert_eq!(p.h, 168);
        assert_eq!(p.origins.len(), MAX_ORIGINS);
        assert_eq!(*p.origins.last().unwrap(), 60 * 24 - 168);
        let short = plan(160, 24, 24, 24).unwrap();
        assert_eq!(short.origins, vec![40, 64, 88, 112, 136]);
        assert!(plan(10, 24, 24, 24).is_none());
    }
}
