//! Plan output: an ordered timeline for people, Graphviz DOT, and JSON for machines
//! (described by docs/plan.schema.json).

use std::fmt::Write;

use petgraph::visit::EdgeRef;
use serde_json::{json, Value};

use super::{NodeKind, Plan};
use crate::check::Model;
use crate::units::Duration;

fn offset(d: Duration) -> String {
    format!("+{d}")
}

/// The timeline: one line per node, in the order things happen.
pub fn to_text(plan: &Plan, model: &Model) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "scenario {} — {} steps, {} in total",
        plan.scenario,
        plan.steps.len(),
        plan.total
    );
    if let Some(s) = model.scenario(&plan.scenario) {
        if !s.windows.is_empty() {
            let names: Vec<String> = s
                .windows
                .iter()
                .map(|w| match w {
                    crate::check::WindowRefModel::Window(i) => model.windows[*i].name.clone(),
                    crate::check::WindowRefModel::Before(i) => {
                        format!("before {}", model.events[*i].name)
                    }
                })
                .collect();
            let _ = writeln!(out, "runs in: {}", names.join(" or "));
        }
    }
    let width = plan
        .timeline()
        .iter()
        .map(|&n| offset(plan.graph[n].at).len())
        .max()
        .unwrap_or(3);
    for n in plan.timeline() {
        let node = &plan.graph[n];
        let step = node
            .step
            .map(|i| format!("  [{}]", plan.steps[i].name))
            .unwrap_or_default();
        let _ = writeln!(out, "  {:>width$}  {}{}", offset(node.at), node.label, step);
    }
    for note in &plan.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

/// Graphviz DOT: nodes labelled with their offset, edges with their minimum delay.
pub fn to_dot(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph \"{}\" {{", escape(&plan.scenario));
    let _ = writeln!(
        out,
        "  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];"
    );
    for n in plan.graph.node_indices() {
        let node = &plan.graph[n];
        let shape = match node.kind {
            NodeKind::Begin | NodeKind::Finish => ", shape=oval",
            NodeKind::Inject { .. } | NodeKind::Revert { .. } => {
                ", style=filled, fillcolor=\"#f8d0c8\""
            }
            NodeKind::StartLoad { .. } | NodeKind::StopLoad { .. } => {
                ", style=filled, fillcolor=\"#d0e4f8\""
            }
            NodeKind::Assert { .. } => ", shape=diamond",
            _ => "",
        };
        let _ = writeln!(
            out,
            "  n{} [label=\"{}\\n{}\"{}];",
            n.index(),
            offset(node.at),
            escape(&node.label),
            shape
        );
    }
    for e in plan.graph.edge_references() {
        let label = if e.weight().offset.0 > 0.0 {
            format!(" [label=\"{}\"]", offset(e.weight().offset))
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "  n{} -> n{}{};",
            e.source().index(),
            e.target().index(),
            label
        );
    }
    out.push_str("}\n");
    out
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The JSON form of one plan.
pub fn to_json(plan: &Plan, model: &Model) -> Value {
    let nodes: Vec<Value> = plan
        .timeline()
        .into_iter()
        .map(|n| {
            let node = &plan.graph[n];
            let mut v = json!({
                "id": n.index(),
                "kind": node.kind.name(),
                "at_ms": node.at.ms(),
                "label": node.label,
                "step": node.step.map(|i| plan.steps[i].name.clone()),
            });
            let extra = match &node.kind {
                NodeKind::StartLoad { traffic, share } => {
                    json!({"traffic": model.traffics[*traffic].name, "share": share})
                }
                NodeKind::StopLoad { traffic } => json!({"traffic": model.traffics[*traffic].name}),
                NodeKind::Inject { fault } | NodeKind::Revert { fault } => {
                    json!({"fault": model.faults[*fault].name})
                }
                NodeKind::Remediate { remedy } => json!({"remedy": model.remedies[*remedy].name}),
                _ => json!({}),
            };
            if let (Value::Object(m), Value::Object(x)) = (&mut v, extra) {
                m.extend(x);
            }
            v
        })
        .collect();
    let edges: Vec<Value> = plan
        .graph
        .edge_references()
        .map(|e| json!({"from": e.source().index(), "to": e.target().index(), "offset_ms": e.weight().offset.ms()}))
        .collect();
    let steps: Vec<Value> = plan
        .steps
        .iter()
        .map(|s| json!({"name": s.name, "start_ms": s.start.ms(), "end_ms": s.end.ms()}))
        .collect();
    json!({
        "scenario": plan.scenario,
        "total_ms": plan.total.ms(),
        "steps": steps,
        "nodes": nodes,
        "edges": edges,
        "notes": plan.notes,
    })
}
