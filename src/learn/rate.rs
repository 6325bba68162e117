//! The rate profile of a model: mean rate, busiest hour, rate by hour of week and of day, and
//! the trend — each over the time the log covers, never over time it does not.

use super::histogram::round_sig;
use super::profile::{HourlySeries, RateProfile};
use crate::units::Timestamp;

/// Hours covered less than this are too thin to be the busiest hour or to fit the trend on
/// (a few requests in the last minute of a log would read as a huge hourly rate).
pub const MIN_COVERAGE: f64 = 0.5;

/// Hour of week (Monday 00:00 UTC = 0) of an hour since the epoch (a Thursday).
pub fn hour_of_week(hour: i64) -> usize {
    (hour + 3 * 24).rem_euclid(168) as usize
}

/// The rate profile of `series` (counts per covered hour and their coverage), `total`
/// requests over `covered_s` seconds.
pub fn rate_profile(series: &HourlySeries, total: f64, covered_s: f64) -> RateProfile {
    let start_hour = series.start_secs().unwrap_or(0).div_euclid(3600);
    let y = &series.counts;
    let cov = |i: usize| series.coverage.get(i).copied().unwrap_or(1.0);
    // Slot means weight each hour by its coverage: requests seen over hours covered.
    let slot_means = |period: usize, slot: &dyn Fn(i64) -> usize| -> Vec<Option<f64>> {
        let mut sum = vec![0.0; period];
        let mut n = vec![0.0; period];
        for (i, &c) in y.iter().enumerate() {
            let s = slot(start_hour + i as i64);
            sum[s] += c * cov(i);
            n[s] += cov(i);
        }
        sum.iter()
            .zip(&n)
            .map(|(&s, &k)| (k > 0.0).then(|| s / k))
            .collect()
    };
    let week = slot_means(168, &hour_of_week);
    let day = slot_means(24, &|h| h.rem_euclid(24) as usize);
    let covered_hours = covered_s / 3600.0;

    // Trend: least squares of the deseasonalised counts on time, over well-covered hours.
    let hour_of_day = |h: i64| h.rem_euclid(24) as usize;
    let basis = if covered_hours >= 2.0 * 168.0 {
        "weekly"
    } else if covered_hours >= 2.0 * 24.0 {
        "daily"
    } else {
        "none"
    };
    let seasonal_mean = |h: i64| match basis {
        "weekly" => week[hour_of_week(h)],
        _ => day[hour_of_day(h)],
    };
    let good: Vec<usize> = (0..y.len()).filter(|&i| cov(i) >= MIN_COVERAGE).collect();
    let mean_y = good.iter().map(|&i| y[i]).sum::<f64>() / good.len().max(1) as f64;
    let mut trend = 0.0;
    if basis != "none" && mean_y > 0.0 && good.len() >= 2 {
        let tm = good.iter().sum::<usize>() as f64 / good.len() as f64;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for &i in &good {
            let base = seasonal_mean(start_hour + i as i64).unwrap_or(mean_y);
            let x = i as f64 - tm;
            sxy += x * (y[i] - base);
            sxx += x * x;
        }
        if sxx > 0.0 {
            trend = sxy / sxx * 168.0 / mean_y;
        }
    }
    // The busiest hour among the well-covered ones; a log that covers no hour that well
    // (a 20-second test) is rated by the hour it covers most.
    let candidates: Vec<usize> = if good.is_empty() {
        let best = (0..y.len()).max_by(|&a, &b| cov(a).total_cmp(&cov(b)));
        best.into_iter().collect()
    } else {
        good
    };
    let peak_i = candidates
        .iter()
        .copied()
        .fold(None, |acc: Option<usize>, i| match acc {
            Some(j) if y[j] >= y[i] => Some(j),
            _ => Some(i),
        })
        .unwrap_or(0);
    let peak = y.get(peak_i).copied().unwrap_or(0.0);
    let per_s = |v: Option<f64>| v.map(|c| round_sig(c / 3600.0));
    RateProfile {
        mean_per_s: round_sig(total / covered_s.max(1.0)),
        peak_hour_at: Timestamp((start_hour + peak_i as i64) * 3600).to_rfc3339(),
        peak_hour_per_s: round_sig(peak / 3600.0),
        peak_hour_coverage: round_sig(cov(peak_i)),
        per_hour_of_week: week.into_iter().map(per_s).collect(),
        per_hour_of_day: day.into_iter().map(per_s).collect(),
        trend_per_week: round_sig(trend),
        trend_basis: basis.into(),
    }
}
