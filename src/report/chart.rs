//! SVG charts for the HTML and profile reports, drawn by `plotters` (SVG backend, no fonts:
//! text is left to the browser as `<text>`).
//!
//! A chart is drawn in passes that share one coordinate system: the frame (grid, axes,
//! labels) and then each series, band and marker on its own. Each pass's markup is wrapped in
//! a `<g>` with `data-` attributes (`data-service`, `data-metric`, `data-fault-start`, …), so
//! a test — or a reader's script — finds exactly which element is which, and the page's CSS
//! can restyle them for a dark colour scheme. Series are thinned to at most one point per
//! pixel column of the plot ([`downsample`]); the exact figures stay in the report's tables.

use std::fmt::Write;
use std::ops::Range;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The chart's drawing size in SVG units; the page scales it to its width.
pub const WIDTH: u32 = 1200;
/// Left label area, for the y axis's figures.
const Y_LABELS: u32 = 64;
const X_LABELS: u32 = 34;
const MARGIN: u32 = 12;

/// Series colours: readable on a white and on a near-black background.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The CSS colour of palette entry `i`, for legends drawn in HTML.
pub fn css_color(i: usize) -> String {
    let c = PALETTE[i % PALETTE.len()];
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// One line: a service's metric over time.
pub struct Line {
    pub service: String,
    /// `rps`, `p50`, `p99`, `errors`, …; also the CSS hook (`p50` is drawn dashed).
    pub metric: &'static str,
    pub color: usize,
    pub points: Vec<(f64, f64)>,
    /// Also mark each point (for sparse series, such as one value per run).
    pub dots: bool,
}

/// A shaded span of time: a fault window.
pub struct Band {
    pub label: String,
    pub start: f64,
    pub end: f64,
}

/// An instant worth a vertical mark: a remediation decision.
pub struct Marker {
    pub label: String,
    pub at: f64,
    /// `data-` attributes beyond `data-at`, already escaped.
    pub attrs: String,
}

/// A chart of values over time.
pub struct TimeChart {
    /// The `id` and `data-chart` of the `<svg>`.
    pub id: String,
    pub y_desc: String,
    pub x_desc: String,
    pub height: u32,
    pub x: Range<f64>,
    pub lines: Vec<Line>,
    pub bands: Vec<Band>,
    pub markers: Vec<Marker>,
    /// Label only whole numbers on the x axis (run indices).
    pub integer_x: bool,
}

pub(super) type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// Builds the shared coordinate system on `root`: every pass calls this with the same
/// arguments and so maps values to the same pixels.
pub(super) fn frame<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    x: Range<f64>,
    y: Range<f64>,
    y_labels: u32,
) -> Result<Chart<'a, 'b>, String> {
    ChartBuilder::on(root)
        .margin(MARGIN)
        .x_label_area_size(X_LABELS)
        .y_label_area_size(y_labels)
        .build_cartesian_2d(x, y)
        .map_err(|e| e.to_string())
}

/// Runs one drawing pass on a fresh SVG canvas and returns its markup without the `<svg>`
/// wrapper.
pub fn pass(
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), String>,
) -> Result<String, String> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (WIDTH, height)).into_drawing_area();
        draw(&root)?;
        root.present().map_err(|e| e.to_string())?;
    }
    let start = buf.find('>').map_or(0, |i| i + 1);
    let end = buf.rfind("</svg>").unwrap_or(buf.len());
    Ok(buf[start..end].trim().to_string())
}

/// A rounded-up axis end with some headroom, never zero.
pub fn nice_max(v: f64) -> f64 {
    if !(v.is_finite() && v > 0.0) {
        return 1.0;
    }
    let v = v * 1.08;
    let mag = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|m| *m >= v)
        .unwrap_or(10.0 * mag)
}

/// At most `buckets` points: consecutive points averaged (`peak = false`) or their maximum
/// kept (`peak = true`, for latency percentiles, so a spike is not smoothed away).
pub fn downsample(points: &[(f64, f64)], buckets: usize, peak: bool) -> Vec<(f64, f64)> {
    if points.len() <= buckets || buckets == 0 {
        return points.to_vec();
    }
    let per = points.len().div_ceil(buckets);
    points
        .chunks(per)
        .map(|c| {
            let x = c.iter().map(|p| p.0).sum::<f64>() / c.len() as f64;
            let y = if peak {
                c.iter().map(|p| p.1).fold(f64::MIN, f64::max)
            } else {
                c.iter().map(|p| p.1).sum::<f64>() / c.len() as f64
            };
            (x, y)
        })
        .collect()
}

/// How many points a series of a chart keeps: one per pixel column of the plot.
pub fn columns() -> usize {
    (WIDTH - Y_LABELS - 2 * MARGIN) as usize
}

/// The chart as an `<svg>` element, with `data-` attributes that give the plot area in SVG
/// units and the time range it spans (`data-x0`, `data-x1`, `data-left`, `data-right`).
pub fn render(c: &TimeChart) -> Result<String, String> {
    let y_max = nice_max(
        c.lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.1))
            .fold(0.0, f64::max),
    );
    let (x, y) = (c.x.clone(), 0.0..y_max);
    let mut plot = (0, 0, 0, 0);
    let frame_svg = pass(c.height, |root| {
        let mut chart = frame(root, x.clone(), y.clone(), Y_LABELS)?;
        let (px, py) = chart.plotting_area().get_pixel_range();
        plot = (px.start, px.end, py.start, py.end);
        let whole = |v: &f64| {
            if !c.integer_x {
                format!("{v:.1}")
            } else if (v - v.round()).abs() < 1e-6 && *v >= 0.0 {
                format!("{}", v.round() as i64 + 1)
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .x_label_formatter(&whole)
            .x_desc(c.x_desc.as_str())
            .y_desc(c.y_desc.as_str())
            .x_labels(12)
            .y_labels(6)
            .light_line_style(RGBColor(128, 128, 128).mix(0.12))
            .bold_line_style(RGBColor(128, 128, 128).mix(0.3))
            .axis_style(RGBColor(128, 128, 128))
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(|e| e.to_string())
    })?;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg class=\"chart\" id=\"{id}\" data-chart=\"{id}\" viewBox=\"0 0 {WIDTH} {h}\" \
         role=\"img\" aria-label=\"{desc}\" data-x0=\"{x0}\" data-x1=\"{x1}\" data-left=\"{l}\" \
         data-right=\"{r}\" data-top=\"{t}\" data-bottom=\"{b}\" data-y-max=\"{y_max}\">\
         <g class=\"frame\">{frame_svg}</g>",
        id = super::html::esc(&c.id),
        h = c.height,
        desc = super::html::esc(&c.y_desc),
        x0 = x.start,
        x1 = x.end,
        l = plot.0,
        r = plot.1,
        t = plot.2,
        b = plot.3,
    );
    for (k, b) in c.bands.iter().enumerate() {
        let (start, end) = (b.start.max(x.start), b.end.min(x.end));
        // Labels of bands that start together are stacked, not drawn over each other.
        let label_y = y_max * (1.0 - 0.07 * (k % 6) as f64);
        let body = pass(c.height, |root| {
            let mut chart = frame(root, x.clone(), y.clone(), Y_LABELS)?;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(start, 0.0), (end.max(start), y_max)],
                    RGBColor(214, 39, 40).mix(0.13).filled(),
                )))
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(std::iter::once(Text::new(
                    b.label.clone(),
                    (start, label_y),
                    ("sans-serif", 13)
                        .into_font()
                        .color(&RGBColor(160, 30, 30))
                        .pos(Pos::new(HPos::Left, VPos::Top)),
                )))
                .map_err(|e| e.to_string())?;
            Ok(())
        })?;
        let _ = write!(
            out,
            "<g class=\"fault\" data-fault=\"{}\" data-fault-start=\"{:.3}\" data-fault-end=\"{:.3}\">{body}</g>",
            super::html::esc(&b.label),
            b.start,
            b.end
        );
    }
    for l in &c.lines {
        let color = PALETTE[l.color % PALETTE.len()];
        let body = pass(c.height, |root| {
            let mut chart = frame(root, x.clone(), y.clone(), Y_LABELS)?;
            chart
                .draw_series(LineSeries::new(
                    l.points.iter().copied(),
                    color.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?;
            if l.dots {
                chart
                    .draw_series(l.points.iter().map(|p| {
                        // Measured values are hollow beside the filled predicted ones.
                        let style = if l.metric == "measured" {
                            color.stroke_width(2)
                        } else {
                            color.filled()
                        };
                        Circle::new(*p, 4, style)
                    }))
                    .map_err(|e| e.to_string())?;
            }
            Ok(())
        })?;
        let _ = write!(
            out,
            "<g class=\"series\" data-service=\"{}\" data-metric=\"{}\" data-points=\"{}\">{body}</g>",
            super::html::esc(&l.service),
            l.metric,
            l.points.len()
        );
    }
    for m in &c.markers {
        let at = m.at.clamp(x.start, x.end);
        let body = pass(c.height, |root| {
            let mut chart = frame(root, x.clone(), y.clone(), Y_LABELS)?;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(at, 0.0), (at, y_max)],
                    RGBColor(110, 60, 170).stroke_width(2),
                )))
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(std::iter::once(Text::new(
                    m.label.clone(),
                    (at, y_max * 0.9),
                    ("sans-serif", 13)
                        .into_font()
                        .color(&RGBColor(110, 60, 170))
                        .pos(Pos::new(HPos::Right, VPos::Top)),
                )))
                .map_err(|e| e.to_string())?;
            Ok(())
        })?;
        let _ = write!(
            out,
            "<g class=\"remedy\" data-at=\"{:.3}\" {}>{body}</g>",
            m.at, m.attrs
        );
    }
    out.push_str("</svg>");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downsampling_keeps_peaks_and_bounds_points() {
        let pts: Vec<(f64, f64)> = (0..3600).map(|t| (t as f64, (t % 100) as f64)).collect();
        let d = downsample(&pts, 1000, true);
        assert!(d.len() <= 1000);
        assert!(d.iter().any(|p| p.1 == 99.0));
        assert_eq!(downsample(&pts[..10], 1000, false).len(), 10);
    }

    #[test]
    fn nice_axis_ends() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(90.0), 100.0);
        assert_eq!(nice_max(180.0), 200.0);
    }
}
