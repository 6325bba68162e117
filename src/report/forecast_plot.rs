//! `res forecast MODEL --plot FILE.svg`: the learned hourly history, the forecast and its
//! interval in one standalone SVG (drawn by `plotters`, like the run report's charts).
//!
//! The x axis is hours from the forecast's start (the history is negative). The history is
//! limited to the last [`HISTORY_HOURS`], enough to see the weekly season the forecast
//! follows. Groups carry `data-series` (`history`, `forecast`, `interval`, `peak`) so a test
//! can find each part.

use std::fmt::Write;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::chart::{frame, nice_max, pass, WIDTH};
use crate::learn::forecast::Forecast;
use crate::learn::TrafficProfile;
use crate::units::Timestamp;

/// How much history is drawn before the forecast: two weeks.
pub const HISTORY_HOURS: usize = 24 * 14;
const HEIGHT: u32 = 420;

/// A rate with three significant figures (a sampled log's rates are small).
fn rate(v: f64) -> String {
    if v >= 100.0 || v == 0.0 {
        format!("{v:.0}")
    } else {
        let digits = (2.0 - v.abs().log10().floor()).clamp(0.0, 6.0) as usize;
        format!("{v:.digits$}")
    }
}

fn hours_from(start: i64, at: &str) -> Option<f64> {
    Timestamp::parse(at).map(|t| (t.0 - start) as f64 / 3600.0)
}

/// The plot as a standalone SVG document.
pub fn to_svg(profile: &TrafficProfile, f: &Forecast) -> Result<String, String> {
    let first = f
        .series
        .first()
        .ok_or("the forecast has no points to plot")?;
    let start = Timestamp::parse(&first.at)
        .ok_or_else(|| format!("`{}` is not a timestamp", first.at))?
        .0;
    let s = &profile.series;
    let step = f64::from(s.step_s.max(1));
    let hist_start = s.start_secs().unwrap_or(start);
    let history: Vec<(f64, f64)> = s
        .counts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                (hist_start + i as i64 * step as i64 - start) as f64 / 3600.0,
                c / step,
            )
        })
        .collect();
    let history = history[history.len().saturating_sub(HISTORY_HOURS)..].to_vec();
    let fc: Vec<(f64, f64, f64, f64)> = f
        .series
        .iter()
        .filter_map(|p| Some((hours_from(start, &p.at)?, p.rate_per_s, p.lower, p.upper)))
        .collect();
    let x0 = history.first().map_or(0.0, |p| p.0.min(0.0));
    let x1 = fc.last().map_or(1.0, |p| p.0 + 1.0);
    let y_max = nice_max(
        history
            .iter()
            .map(|p| p.1)
            .chain(fc.iter().map(|p| p.3))
            .fold(0.0, f64::max),
    );
    let (x, y) = (x0..x1, 0.0..y_max);
    let frame_svg = pass(HEIGHT, |root| {
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = frame(root, x.clone(), y.clone(), 64)?;
        chart
            .configure_mesh()
            .x_desc("hours from the forecast's start")
            .y_desc("requests/s")
            .x_labels(14)
            .y_labels(8)
            .light_line_style(RGBColor(128, 128, 128).mix(0.12))
            .bold_line_style(RGBColor(128, 128, 128).mix(0.3))
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(|e| e.to_string())
    })?;
    let group =
        |name: &str, draw: &dyn Fn(&mut super::chart::Chart<'_, '_>) -> Result<(), String>| {
            pass(HEIGHT, |root| {
                let mut chart = frame(root, x.clone(), y.clone(), 64)?;
                draw(&mut chart)
            })
            .map(|body| format!("<g data-series=\"{name}\">{body}</g>"))
        };
    let band: Vec<(f64, f64)> = fc
        .iter()
        .map(|p| (p.0, p.3))
        .chain(fc.iter().rev().map(|p| (p.0, p.2)))
        .collect();
    let blue = RGBColor(31, 119, 180);
    let orange = RGBColor(255, 127, 14);
    let interval = group("interval", &|c| {
        c.draw_series(std::iter::once(Polygon::new(
            band.clone(),
            orange.mix(0.22).filled(),
        )))
        .map(drop)
        .map_err(|e| e.to_string())
    })?;
    let hist = group("history", &|c| {
        c.draw_series(LineSeries::new(
            history.iter().copied(),
            blue.stroke_width(2),
        ))
        .map(drop)
        .map_err(|e| e.to_string())
    })?;
    let fore = group("forecast", &|c| {
        c.draw_series(LineSeries::new(
            fc.iter().map(|p| (p.0, p.1)),
            orange.stroke_width(2),
        ))
        .map(drop)
        .map_err(|e| e.to_string())
    })?;
    let peak_x = hours_from(start, &f.peak.at).unwrap_or(0.0);
    let peak = group("peak", &|c| {
        c.draw_series(std::iter::once(Circle::new(
            (peak_x, f.peak.upper),
            5,
            RED.filled(),
        )))
        .map_err(|e| e.to_string())?;
        c.draw_series(std::iter::once(Text::new(
            format!("peak {}/s ", rate(f.peak.upper)),
            (peak_x, f.peak.upper),
            ("sans-serif", 14)
                .into_font()
                .color(&RED)
                .pos(Pos::new(HPos::Right, VPos::Bottom)),
        )))
        .map(drop)
        .map_err(|e| e.to_string())
    })?;
    let mut out = String::new();
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         data-history-points=\"{}\" data-forecast-points=\"{}\" data-method=\"{}\">\
         <title>forecast: {} history hours, {} forecast hours, peak {}/s at {}</title>\
         <g class=\"frame\">{frame_svg}</g>{interval}{hist}{fore}{peak}</svg>\n",
        history.len(),
        fc.len(),
        super::html::esc(&format!("{:?}", f.method)),
        history.len(),
        fc.len(),
        rate(f.peak.upper),
        super::html::esc(&f.peak.at)
    );
    Ok(out)
}
