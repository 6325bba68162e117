//! Seconds grouped by offered rate, so a curve over load can be read from many noisy seconds:
//! twenty equal-width buckets from zero to the highest rate seen.

use super::obs::Obs;

/// How many buckets the load range is cut into.
pub const BUCKETS: usize = 20;

/// The seconds whose offered rate fell in one bucket's range.
#[derive(Debug, Clone)]
pub struct Bucket<'a> {
    pub seconds: Vec<&'a Obs>,
}

/// Non-empty buckets, lowest rate first.
pub fn by_rate<'a>(seconds: &[&'a Obs]) -> Vec<Bucket<'a>> {
    let max = seconds.iter().map(|o| o.offered).fold(0.0, f64::max);
    if seconds.is_empty() || max <= 0.0 {
        return Vec::new();
    }
    let width = (max / BUCKETS as f64).max(1e-9);
    let mut out: Vec<Bucket<'a>> = (0..BUCKETS)
        .map(|_| Bucket {
            seconds: Vec::new(),
        })
        .collect();
    for o in seconds {
        let i = ((o.offered / width) as usize).min(BUCKETS - 1);
        out[i].seconds.push(o);
    }
    out.retain(|b| !b.seconds.is_empty());
    out
}
