//! Guards that keep NaN and infinity out of every prediction: the models divide by fitted
//! parameters that may be zero, and a JSON document or a stored row must never carry a
//! number that is not one.

/// `x` when it is a finite number, else `fallback`.
pub fn or(x: f64, fallback: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        fallback
    }
}

/// `x` when it is a finite number, else `None`.
pub fn some(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// The `q` quantile (0..=1) of `values`, by linear interpolation between order statistics.
/// Non-finite values are ignored; `None` when nothing is left.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    Some(v[lo] + (v[hi] - v[lo]) * frac)
}

#[cfg(test)]
mod tests {
    #[test]
    fn quantiles() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0, f64::NAN];
        assert_eq!(super::quantile(&v, 0.5), Some(3.0));
        assert_eq!(super::quantile(&v, 0.0), Some(1.0));
        assert_eq!(super::quantile(&v, 1.0), Some(5.0));
        assert_eq!(super::quantile(&[], 0.5), None);
        assert_eq!(super::or(f64::INFINITY, 2.0), 2.0);
    }
}
