//! Forecasts that admit what they do not know (issue 19): rates over the time a log covers,
//! the history rules said out loud, intervals that widen where knowledge is thin, and bad
//! input (a single second, timestamps running backwards, a month-long gap) answered with what
//! could and could not be learned, never with a confident number.
//!
//! Logs are generated here from a seeded RNG into a temporary folder.

use crate::common;

use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use res::learn::forecast::{forecast, forecast_with, ForecastError, ForecastOptions, Season};
use res::learn::{learn_file, LearnError, LearnOptions, PeakError, TrafficProfile};
use res::learn::{ForecastMethod, ForecastModel, LearnModel, LogFormat};
use res::units::{civil_from_days, Duration};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// 2026-11-02T00:00:00Z, a Monday.
const MONDAY: i64 = 1_793_577_600;

fn line(t: i64, path: &str) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    format!(
        "10.0.{}.{} - - [{d:02}/{}/{y}:{:02}:{:02}:{:02} +0000] \"GET {path} HTTP/1.1\" 200 512 \"-\" \"ua\"\n",
        t % 200,
        t % 250 + 1,
        MONTHS[m as usize - 1],
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

fn write(name: &str, text: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("res-honesty-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join("access.log");
    std::fs::write(&p, text).unwrap();
    p
}

/// A Poisson process at `rate(t)` per second over `[from, to)`, skipping `skip` intervals.
fn poisson_log(
    seed: u64,
    from: i64,
    to: i64,
    skip: &[(i64, i64)],
    rate: impl Fn(i64) -> f64,
) -> String {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = String::new();
    let mut t = from as f64;
    loop {
        let r = rate(t as i64).max(1e-6);
        t += -(1.0 - rng.random::<f64>()).ln() / r;
        if t >= to as f64 {
            break;
        }
        let s = t as i64;
        if skip.iter().any(|&(a, b)| s >= a && s < b) {
            continue;
        }
        out += &line(s, "/items/1");
    }
    out
}

/// A daily rhythm around `base` requests per second.
fn daily(base: f64) -> impl Fn(i64) -> f64 {
    move |t| {
        let hod = t.rem_euclid(86_400) as f64 / 3600.0;
        base * (1.0 + 0.6 * ((hod - 8.0) / 24.0 * std::f64::consts::TAU).sin())
    }
}

fn learn(p: &Path) -> TrafficProfile {
    learn_file(p, LogFormat::Combined, &LearnOptions::default()).unwrap()
}

fn day() -> Duration {
    Duration::from_secs(86_400.0)
}

// ---------------------------------------------------------------------------------------
// coverage-aware rates

#[test]
fn a_twenty_second_log_is_rated_by_the_twenty_seconds_it_covers() {
    // The case: a 20-second test at 197 requests a second, starting mid-hour.
    let start = MONDAY + 12 * 3600 + 34 * 60 + 10;
    let mut log = String::new();
    for s in 0..20 {
        for _ in 0..197 {
            log += &line(start + s, "/items/1");
        }
    }
    let p = write("twenty", &log);
    let m = learn(&p);
    assert_eq!(m.requests, 3940);
    assert!((m.rate.mean_per_s - 197.0).abs() < 1.0, "{:?}", m.rate);
    assert!(
        (m.rate.peak_hour_per_s - 197.0).abs() < 1.0,
        "busiest hour {}/s: an hour is rated by the time the log covers of it",
        m.rate.peak_hour_per_s
    );
    assert!((m.rate.peak_hour_coverage - 20.0 / 3600.0).abs() < 1e-4);
    assert_eq!(m.series.coverage.len(), m.series.counts.len());
    assert!((m.series.coverage[0] - 20.0 / 3600.0).abs() < 1e-4);
    let text = res::learn::summary(&m);
    assert!(text.contains("busiest hour 197/s"), "{text}");
    assert!(
        text.contains("over the 20 seconds of it the log covers"),
        "{text}"
    );
    assert!(
        text.contains("forecast   not possible: a forecast needs at least 24 hours of history, the log covers 20 seconds"),
        "{text}"
    );

    // No forecast from twenty seconds: refused, with the reason and the minimum.
    let e = forecast(&m, day(), 0.95, ForecastMethod::Auto).unwrap_err();
    assert!(matches!(e, ForecastError::NotEnoughHistory { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "not enough history to forecast: the log covers 20 seconds, and a forecast needs at least 24 hours: learn a longer log"
    );

    // The CLI: the model records coverage (schema), and `res forecast` refuses with exit 2.
    let model = p.with_file_name("m.json");
    let out = common::res(&["learn", p.to_str().unwrap(), "-o", model.to_str().unwrap()]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    // The log is from November 2026, long before any run of this test: it says so.
    let text = common::stdout(&out);
    assert!(text.contains("  stale      the log ends "), "{text}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    let errs = common::validate(&common::load_schema("traffic-model.schema.json"), &v);
    assert!(errs.is_empty(), "{errs:#?}");
    let out = common::res(&["forecast", model.to_str().unwrap(), "--horizon", "1d"]);
    assert_eq!(out.status.code(), Some(2), "{}", common::stdout(&out));
    assert!(common::stdout(&out).is_empty(), "no forecast is printed");
    let err = common::stderr(&out);
    assert!(
        err.contains("at least 24 hours") && err.contains("20 seconds"),
        "{err}"
    );
}

#[test]
fn a_log_rotated_away_for_an_hour_is_a_gap_not_an_hour_of_no_traffic() {
    // Three days at a steady 0.5/s, starting at 00:30, with 10:00–11:00 of the second day
    // missing (the log was rotated away).
    let from = MONDAY + 1800;
    let gap = (MONDAY + 86_400 + 10 * 3600, MONDAY + 86_400 + 11 * 3600);
    let p = write(
        "rotated",
        &poisson_log(1, from, MONDAY + 3 * 86_400, &[gap], |_| 0.5),
    );
    let m = learn(&p);
    assert_eq!(m.source.gap_count, 1, "{:?}", m.source.gaps);
    assert!((m.source.gaps[0].duration_s - 3600.0).abs() < 60.0);
    // The first hour is covered half: rated over that half, not the whole hour.
    assert!(
        (m.series.coverage[0] - 0.5).abs() < 0.01,
        "{:?}",
        &m.series.coverage[..2]
    );
    assert!(
        (m.series.counts[0] / 1800.0 - 1.0).abs() < 0.15,
        "{}",
        m.series.counts[0]
    );
    // The rotated hour is not covered; hour 10 of the day is not a third quieter.
    let gap_i = ((gap.0 - MONDAY) / 3600) as usize;
    assert!(
        m.series.coverage[gap_i] < 0.02,
        "{}",
        m.series.coverage[gap_i]
    );
    let ten = m.rate.per_hour_of_day[10].unwrap();
    assert!((ten - 0.5).abs() < 0.06, "hour 10 at {ten}/s");
    assert!(
        (m.rate.mean_per_s - 0.5).abs() < 0.02,
        "{}",
        m.rate.mean_per_s
    );
    assert!((m.source.covered_s - (3.0 * 86_400.0 - 1800.0 - 3600.0)).abs() < 120.0);
    let text = res::learn::summary(&m);
    assert!(
        text.contains("gaps       1") && text.contains("missing data, not zero traffic"),
        "{text}"
    );
    // The forecast fills the hour, says so, and does not dip there.
    let f = forecast(&m, day(), 0.95, ForecastMethod::Auto).unwrap();
    assert!(
        f.notes.iter().any(|n| n.contains("not covered by the log")),
        "{:?}",
        f.notes
    );
    let min = f
        .series
        .iter()
        .map(|p| p.rate_per_s)
        .fold(f64::MAX, f64::min);
    assert!(min > 0.35, "a forecast hour at {min}/s");
}

// ---------------------------------------------------------------------------------------
// history rules

#[test]
fn under_a_day_of_history_forecast_and_peak_refuse_with_the_minimum() {
    let p = write(
        "twenty-hours",
        &poisson_log(2, MONDAY, MONDAY + 20 * 3600, &[], |_| 0.2),
    );
    let m = learn(&p);
    let e = forecast(&m, day(), 0.95, ForecastMethod::Auto).unwrap_err();
    assert!(e.to_string().contains("the log covers 20 hours"), "{e}");
    assert!(e.to_string().contains("at least 24 hours"), "{e}");
    // peak(traffic), as a scenario asks for it: the same refusal.
    let learn_m = LearnModel {
        path: p.to_str().unwrap().into(),
        format: LogFormat::Combined,
    };
    let fm = ForecastModel {
        horizon: day(),
        quantile: 0.95,
        method: ForecastMethod::Auto,
    };
    let e = res::learn::peak_rate(&learn_m, &fm, p.parent().unwrap()).unwrap_err();
    assert!(
        matches!(
            e,
            PeakError::Forecast(ForecastError::NotEnoughHistory { .. })
        ),
        "{e}"
    );
    // res run refuses the scenario: exit 2, the reason named.
    let scenario = p.with_file_name("s.res");
    std::fs::write(
        &scenario,
        "system shop { base \"http://127.0.0.1:9\" service api { route GET \"/items/1\" } }\ntraffic seen { learn from \"access.log\" }\ntraffic t { like seen  rate peak(seen)  hold 1s }\nscenario s { step main = load t }\n",
    )
    .unwrap();
    let out = common::res(&["run", "--dry-run", scenario.to_str().unwrap()]);
    let err = common::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("not enough history") && err.contains("24 hours"),
        "{err}"
    );
}

#[test]
fn under_two_weeks_the_forecast_says_weekly_seasonality_is_not_usable() {
    let p = write(
        "four-days",
        &poisson_log(3, MONDAY, MONDAY + 4 * 86_400, &[], daily(0.3)),
    );
    let m = learn(&p);
    let f = forecast(&m, day(), 0.95, ForecastMethod::Auto).unwrap();
    assert_eq!(f.usable_seasonalities, vec!["daily"]);
    assert_eq!(f.seasonality, "daily");
    assert!(f
        .notes
        .iter()
        .any(|n| n.contains("weekly seasonality needs at least 2 weeks")));
    let text = res::learn::forecast::to_text(&f);
    assert!(text.contains("seasons    usable: daily"), "{text}");
    let s = res::learn::summary(&m);
    assert!(
        s.contains("daily seasonality only: weekly seasonality needs 2 weeks"),
        "{s}"
    );
}

// ---------------------------------------------------------------------------------------
// intervals

fn width(f: &res::learn::Forecast, hours: std::ops::Range<usize>) -> f64 {
    hours
        .clone()
        .map(|i| (f.series[i].upper - f.series[i].lower) / f.series[i].rate_per_s.max(1e-9))
        .sum::<f64>()
        / hours.len() as f64
}

#[test]
fn intervals_are_never_zero_and_widen_with_horizon_and_with_little_history() {
    let long = write(
        "ten-days",
        &poisson_log(4, MONDAY, MONDAY + 10 * 86_400, &[], daily(0.3)),
    );
    let long = learn(&long);
    let two_weeks = Duration::from_secs(14.0 * 86_400.0);
    let f = forecast(&long, two_weeks, 0.95, ForecastMethod::Auto).unwrap();
    for p in &f.series {
        assert!(
            p.upper > p.lower,
            "a zero-width interval at {}: {p:?}",
            p.at
        );
    }
    // The second week is less certain than the first day.
    assert!(
        width(&f, 312..336) > width(&f, 0..24),
        "{} vs {}",
        width(&f, 312..336),
        width(&f, 0..24)
    );

    // Three days of the same traffic: the next day's interval is wider than from ten days.
    let mut short = long.clone();
    short.series.counts.truncate(72);
    short.series.coverage.truncate(72);
    let fs = forecast(&short, day(), 0.95, ForecastMethod::Auto).unwrap();
    let fl = forecast(&long, day(), 0.95, ForecastMethod::Auto).unwrap();
    assert!(
        width(&fs, 0..24) > width(&fl, 0..24),
        "3 days: {}, 10 days: {}",
        width(&fs, 0..24),
        width(&fl, 0..24)
    );
    // The backtest's coverage is measured and reported next to its nominal value.
    let cov = fl.backtest.coverage.unwrap();
    assert!((0.8..=1.0).contains(&cov), "coverage {cov}");
    assert_eq!(fl.backtest.nominal_coverage, 0.9);

    // An exactly periodic history may have a zero-width interval: nothing is unknown.
    let mut exact = long.clone();
    for (i, c) in exact.series.counts.iter_mut().enumerate() {
        *c = [100.0, 300.0, 200.0, 50.0][i % 24 / 6];
    }
    let fe = forecast(&exact, day(), 0.95, ForecastMethod::Auto).unwrap();
    assert!(fe
        .series
        .iter()
        .all(|p| (p.upper - p.lower).abs() < 1e-9 * p.upper.max(1.0)));
}

// ---------------------------------------------------------------------------------------
// bad input

#[test]
fn a_log_of_a_single_second_learns_the_mix_and_refuses_a_forecast() {
    let mut log = String::new();
    for i in 0..40 {
        log += &line(MONDAY + 5, if i % 4 == 0 { "/cart" } else { "/items/7" });
    }
    let p = write("one-second", &log);
    let m = learn(&p);
    assert_eq!(m.requests, 40);
    assert_eq!(m.endpoints.len(), 2);
    assert!((m.rate.mean_per_s - 40.0).abs() < 1e-6, "{:?}", m.rate);
    let s = res::learn::summary(&m);
    assert!(s.contains("the log covers 1 second"), "{s}");
    let e = forecast(&m, day(), 0.95, ForecastMethod::Auto).unwrap_err();
    assert!(e.to_string().contains("covers 1 second"), "{e}");
}

#[test]
fn a_log_running_backwards_is_refused_with_what_to_do() {
    let forward = poisson_log(5, MONDAY, MONDAY + 2 * 86_400, &[], |_| 0.05);
    let backward: String = forward.lines().rev().map(|l| format!("{l}\n")).collect();
    let p = write("backwards", &backward);
    let e = learn_file(&p, LogFormat::Combined, &LearnOptions::default()).unwrap_err();
    assert!(matches!(e, LearnError::Backwards { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("the timestamps go backwards") && msg.contains("tac"),
        "{msg}"
    );
    let out = common::res(&["learn", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(common::stdout(&out).is_empty());
}

#[test]
fn a_month_long_gap_cuts_the_history_and_is_said() {
    // Three days, a month of nothing, three more days: the forecast uses the last three.
    let gap = (MONDAY + 3 * 86_400, MONDAY + 33 * 86_400);
    let p = write(
        "month-gap",
        &poisson_log(6, MONDAY, MONDAY + 36 * 86_400, &[gap], daily(0.2)),
    );
    let m = learn(&p);
    assert_eq!(m.source.gap_count, 1);
    assert!(m.source.gaps[0].duration_s > 29.0 * 86_400.0);
    let s = res::learn::summary(&m);
    assert!(
        s.contains("the longest 30 days") && s.contains("not zero traffic"),
        "{s}"
    );
    let f = forecast(&m, day(), 0.95, ForecastMethod::Auto).unwrap();
    assert!((71..=73).contains(&f.history_hours), "{}", f.history_hours);
    assert!(
        f.notes
            .iter()
            .any(|n| n.contains("gap of 30 days") && n.contains("not used")),
        "{:?}",
        f.notes
    );
    // Ten hours after the gap are not enough, whatever came before.
    let mut short = m.clone();
    let keep = short.series.counts.len() - 72 + 10;
    short.series.counts.truncate(keep);
    short.series.coverage.truncate(keep);
    let e = forecast(&short, day(), 0.95, ForecastMethod::Auto).unwrap_err();
    assert!(
        e.to_string()
            .contains("after its last gap longer than a week"),
        "{e}"
    );
    // Asking for weekly seasonality on what is left is refused too.
    let opts = ForecastOptions {
        horizon: day(),
        quantile: 0.95,
        method: ForecastMethod::Auto,
        season: Season::Weekly,
        now: None,
    };
    assert!(forecast_with(&m, &opts).is_err());
}
