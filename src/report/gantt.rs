//! The execution plan's timeline as a Gantt chart: one bar per step of the scenario, from
//! the plan's start to its end, coloured by what the step does (load, fault, wait).
//!
//! The rows come from the plan ([`PlanRow::from_plan`]), not from what the run measured, so
//! a reader sees what was meant beside the charts of what happened.

use std::fmt::Write;

use plotters::prelude::*;

use super::chart::{frame, pass, WIDTH};
use super::html::esc;
use crate::plan::{NodeKind, Plan};

/// One step of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRow {
    pub step: String,
    /// `load`, `fault`, `wait` or `other`.
    pub kind: &'static str,
    /// What the step's first node says, e.g. `start load peak_test at 10%`.
    pub label: String,
    pub start_s: f64,
    pub end_s: f64,
}

impl PlanRow {
    /// The plan's steps in order of their start.
    pub fn from_plan(plan: &Plan) -> Vec<PlanRow> {
        let mut rows: Vec<PlanRow> = plan
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let nodes: Vec<&crate::plan::PlanNode> = plan
                    .graph
                    .node_weights()
                    .filter(|n| n.step == Some(i))
                    .collect();
                let kind = if nodes
                    .iter()
                    .any(|n| matches!(n.kind, NodeKind::StartLoad { .. }))
                {
                    "load"
                } else if nodes
                    .iter()
                    .any(|n| matches!(n.kind, NodeKind::Inject { .. }))
                {
                    "fault"
                } else if nodes.iter().any(|n| matches!(n.kind, NodeKind::WaitStart)) {
                    "wait"
                } else {
                    "other"
                };
                PlanRow {
                    step: s.name.clone(),
                    kind,
                    label: plan.graph[s.start_node].label.clone(),
                    start_s: s.start.secs(),
                    end_s: s.end.secs(),
                }
            })
            .collect();
        rows.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        rows
    }
}

fn kind_color(kind: &str) -> RGBColor {
    match kind {
        "load" => RGBColor(31, 119, 180),
        "fault" => RGBColor(214, 39, 40),
        "wait" => RGBColor(127, 127, 127),
        _ => RGBColor(148, 103, 189),
    }
}

const ROW: u32 = 30;
const NAMES: u32 = 170;

/// The Gantt chart as an `<svg>`; `total` is the plan's length in seconds.
pub fn render(rows: &[PlanRow], total: f64) -> Result<String, String> {
    let height = 60 + ROW * rows.len().max(1) as u32;
    let n = rows.len().max(1) as f64;
    let x = 0.0..total.max(1.0);
    let names: Vec<String> = rows.iter().map(|r| r.step.clone()).collect();
    let frame_svg = pass(height, |root| {
        let mut chart = frame(root, x.clone(), 0.0..n, NAMES)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("seconds since the start")
            .x_labels(12)
            .y_labels(rows.len().max(1) * 2 + 1)
            .y_label_formatter(&|v: &f64| {
                // Labels sit at row centres (k + 0.5); the plan's first step is on top.
                let k = (v - 0.5).round();
                if (v - 0.5 - k).abs() > 0.01 || k < 0.0 {
                    return String::new();
                }
                names
                    .get(names.len().saturating_sub(1 + k as usize))
                    .cloned()
                    .unwrap_or_default()
            })
            .light_line_style(RGBColor(128, 128, 128).mix(0.12))
            .bold_line_style(RGBColor(128, 128, 128).mix(0.3))
            .axis_style(RGBColor(128, 128, 128))
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(|e| e.to_string())
    })?;
    let mut out = format!(
        "<svg class=\"chart gantt\" id=\"plan\" data-chart=\"plan\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"the plan's steps over time\"><g class=\"frame\">{frame_svg}</g>"
    );
    for (i, r) in rows.iter().enumerate() {
        let y = n - i as f64;
        let end = r.end_s.max(r.start_s + total.max(1.0) / 400.0);
        let body = pass(height, |root| {
            let mut chart = frame(root, x.clone(), 0.0..n, NAMES)?;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(r.start_s, y - 0.8), (end, y - 0.2)],
                    kind_color(r.kind).mix(0.8).filled(),
                )))
                .map_err(|e| e.to_string())?;
            Ok(())
        })?;
        let _ = write!(
            out,
            "<g class=\"step\" data-step=\"{}\" data-kind=\"{}\" data-start=\"{:.3}\" data-end=\"{:.3}\"><title>{}: {} ({:.0}s – {:.0}s)</title>{body}</g>",
            esc(&r.step),
            r.kind,
            r.start_s,
            r.end_s,
            esc(&r.step),
            esc(&r.label),
            r.start_s,
            r.end_s
        );
    }
    out.push_str("</svg>");
    Ok(out)
}
