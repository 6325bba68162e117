//! Plan: a scenario of the Model → an execution graph of timed steps (petgraph).
//!
//! Nodes are instants where something happens (start or stop load, inject or revert a fault,
//! wait, assert, record, predict, remediate); edges are happens-before with an offset.
//! Relations that form a cycle, steps that cannot fit the time they are given and steps with
//! no end are reported with diagnostics that point at the steps.

mod render;
pub mod schedule;

use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;

pub use render::{to_dot, to_json, to_text};

use crate::check::{
    Checked, ExpectKind, ExpectScopeModel, FaultTarget, Model, RelationKind, ScenarioModel,
    StepKind, WindowRefModel, WindowRule,
};
use crate::diagnostic::{Code, Diagnostic, Span};
use crate::syntax::ast::Edge;
use crate::units::Duration;

/// What happens at a node.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NodeKind {
    Begin,
    StartLoad { traffic: usize, share: f64 },
    StopLoad { traffic: usize },
    Inject { fault: usize },
    Revert { fault: usize },
    WaitStart,
    WaitEnd,
    Assert { expect: usize },
    Record,
    Predict,
    Remediate { remedy: usize },
    Finish,
}

impl NodeKind {
    pub fn name(&self) -> &'static str {
        match self {
            NodeKind::Begin => "begin",
            NodeKind::StartLoad { .. } => "start_load",
            NodeKind::StopLoad { .. } => "stop_load",
            NodeKind::Inject { .. } => "inject",
            NodeKind::Revert { .. } => "revert",
            NodeKind::WaitStart => "wait",
            NodeKind::WaitEnd => "wait_end",
            NodeKind::Assert { .. } => "assert",
            NodeKind::Record => "record",
            NodeKind::Predict => "predict",
            NodeKind::Remediate { .. } => "remediate",
            NodeKind::Finish => "finish",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanNode {
    pub kind: NodeKind,
    /// The step this node belongs to, by index in the scenario.
    pub step: Option<usize>,
    /// Offset from the scenario's start.
    pub at: Duration,
    /// What a person reads: "start load peak_test at 10%".
    pub label: String,
}

/// `to` happens no earlier than `from` plus `offset`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanEdge {
    pub offset: Duration,
}

/// When each step runs.
#[derive(Debug, Clone, PartialEq)]
pub struct StepTiming {
    pub name: String,
    pub start: Duration,
    pub end: Duration,
    pub start_node: NodeIndex,
    pub end_node: NodeIndex,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub scenario: String,
    pub graph: DiGraph<PlanNode, PlanEdge>,
    pub steps: Vec<StepTiming>,
    pub total: Duration,
    /// How stress-targeted faults will choose, for `res plan` to show.
    pub notes: Vec<String>,
}

impl Plan {
    /// Nodes in the order they happen (ties broken by graph order, which follows causality).
    pub fn timeline(&self) -> Vec<NodeIndex> {
        let order =
            toposort(&self.graph, None).unwrap_or_else(|_| self.graph.node_indices().collect());
        let rank: std::collections::HashMap<NodeIndex, usize> =
            order.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let mut nodes: Vec<NodeIndex> = self.graph.node_indices().collect();
        nodes.sort_by(|a, b| {
            self.graph[*a]
                .at
                .0
                .total_cmp(&self.graph[*b].at.0)
                .then(rank[a].cmp(&rank[b]))
        });
        nodes
    }
}

/// Plans the named scenario, or the only (or first) one when no name is given.
pub fn plan_checked(checked: &Checked, scenario: Option<&str>) -> Result<Plan, Vec<Diagnostic>> {
    with_model(checked, |model| plan(model, checked.root, scenario))
}

/// Runs `f` on the checked model (or returns the check's errors when there is none), with
/// diagnostics that have no place of their own anchored to the whole file.
fn with_model<T>(
    checked: &Checked,
    f: impl FnOnce(&Model) -> Result<T, Vec<Diagnostic>>,
) -> Result<T, Vec<Diagnostic>> {
    let Some(model) = &checked.model else {
        return Err(checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .cloned()
            .collect());
    };
    f(model).map_err(|mut d| {
        crate::diagnostic::anchor_whole_file(&mut d, &checked.sources);
        d
    })
}

/// Plans every scenario of a checked file (what `res plan` does without `--scenario`).
pub fn plan_all_checked(checked: &Checked) -> Result<Vec<Plan>, Vec<Diagnostic>> {
    with_model(checked, |model| plan_all(model, checked.root))
}

/// Plans every scenario of the root file (what `res plan` does without `--scenario`): those
/// it declares and those it imports by name, not the rest of an imported file's.
pub fn plan_all(model: &Model, root: usize) -> Result<Vec<Plan>, Vec<Diagnostic>> {
    let own: Vec<&ScenarioModel> = model.own().collect();
    if own.is_empty() {
        return Err(vec![no_scenario(root)]);
    }
    let mut plans = Vec::new();
    let mut diags = Vec::new();
    for s in own {
        match plan_scenario(model, s) {
            Ok(p) => plans.push(p),
            Err(d) => diags.extend(d),
        }
    }
    if diags.is_empty() {
        Ok(plans)
    } else {
        Err(diags)
    }
}

/// Plans one scenario of the root file: the one named, or the file's only one. A file with
/// several asks for `--scenario` and lists them rather than guessing.
pub fn plan(model: &Model, root: usize, scenario: Option<&str>) -> Result<Plan, Vec<Diagnostic>> {
    let names: Vec<&str> = model.own().map(|s| s.name.as_str()).collect();
    let s = match scenario {
        Some(name) => model.own().find(|s| s.name == name).ok_or_else(|| {
            let mut d = Diagnostic::error(
                Code::NoScenario,
                root,
                Span::new(0, 0),
                format!("no scenario named `{name}`"),
            )
            .with_label("in this file");
            let elsewhere = model.scenarios.iter().find(|s| s.name == name);
            d = match (crate::diagnostic::suggest(name, names.iter().copied()), elsewhere) {
                (_, Some(_)) => d.with_help(format!(
                    "`{name}` is a scenario of an imported file; list it in the import to run it from here{}",
                    if names.is_empty() { String::new() } else { format!(" (this file's scenarios are {})", names.join(", ")) }
                )),
                (Some(s), None) => d.with_help(format!("did you mean `{s}`?")),
                (None, None) if names.is_empty() => d.with_help("this file declares no scenarios"),
                (None, None) => d.with_help(format!("the scenarios are {}", names.join(", "))),
            };
            vec![d]
        })?,
        None => match names.len() {
            0 => return Err(vec![no_scenario(root)]),
            1 => model.own().next().ok_or_else(|| vec![no_scenario(root)])?,
            n => {
                return Err(vec![Diagnostic::error(
                    Code::NoScenario,
                    root,
                    Span::new(0, 0),
                    format!("this file has {n} scenarios; say which one with --scenario"),
                )
                .with_label("several scenarios")
                .with_help(format!("--scenario {}", names.join(" | ")))])
            }
        },
    };
    plan_scenario(model, s)
}

fn no_scenario(root: usize) -> Diagnostic {
    Diagnostic::error(
        Code::NoScenario,
        root,
        Span::new(0, 0),
        "this file declares no scenario to plan",
    )
    .with_label("no scenario")
    .with_help("add `scenario NAME { step main = load TRAFFIC for 1m }`")
}

/// Time points: every step has a start and an end.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Point {
    Start(usize),
    End(usize),
}

fn plan_scenario(model: &Model, s: &ScenarioModel) -> Result<Plan, Vec<Diagnostic>> {
    let file = s.origin.file;
    let mut diags = Vec::new();
    let n = s.steps.len();
    // The graph of time points. Node 0 is the scenario's start.
    let mut g: DiGraph<Option<Point>, (Duration, Span)> = DiGraph::new();
    let origin = g.add_node(None);
    let starts: Vec<NodeIndex> = (0..n).map(|i| g.add_node(Some(Point::Start(i)))).collect();
    let ends: Vec<NodeIndex> = (0..n).map(|i| g.add_node(Some(Point::End(i)))).collect();
    for (i, step) in s.steps.iter().enumerate() {
        let mut has_start = false;
        let mut during = None;
        for r in &step.relations {
            has_start = true;
            match r.kind {
                RelationKind::After {
                    step: j,
                    edge,
                    offset,
                } => {
                    let from = if edge == Edge::Start {
                        starts[j]
                    } else {
                        ends[j]
                    };
                    g.add_edge(from, starts[i], (offset, r.span));
                }
                RelationKind::With { step: j, offset } => {
                    g.add_edge(starts[j], starts[i], (offset, r.span));
                }
                RelationKind::During { step: j } => {
                    g.add_edge(starts[j], starts[i], (Duration::ZERO, r.span));
                    during = Some((j, r.span));
                }
                RelationKind::At { offset } => {
                    g.add_edge(origin, starts[i], (offset, r.span));
                }
            }
        }
        if !has_start {
            g.add_edge(origin, starts[i], (Duration::ZERO, step.span));
        }
        let own = step_duration(model, &step.kind, step.duration);
        match (own, during) {
            (Some(d), _) => {
                g.add_edge(starts[i], ends[i], (d, step.span));
            }
            (None, Some((j, span))) => {
                g.add_edge(ends[j], ends[i], (Duration::ZERO, span));
            }
            (None, None) => {
                let what = match &step.kind {
                    StepKind::Load { traffic, .. } => format!(
                        "traffic `{}` has no ramp or hold stages to say how long it runs",
                        model.traffics[*traffic].name
                    ),
                    StepKind::Inject { fault } => format!(
                        "fault `{}` would stay injected with no end",
                        model.faults[*fault].name
                    ),
                    StepKind::Wait(_) => "a wait with no length".into(),
                };
                diags.push(
                    Diagnostic::error(
                        Code::Unbounded,
                        file,
                        step.span,
                        format!("step `{}` never ends", step.name),
                    )
                    .with_label(what)
                    .with_help("give it a length with `for 5m`, or run it `during` another step"),
                );
            }
        }
    }
    // Cycles: report each strongly connected group once, pointing at every relation in it.
    for scc in tarjan_scc(&g) {
        let cyclic = scc.len() > 1 || scc.iter().any(|&v| g.find_edge(v, v).is_some());
        if !cyclic {
            continue;
        }
        let mut steps: Vec<usize> = scc
            .iter()
            .filter_map(|&v| match g[v] {
                Some(Point::Start(i)) | Some(Point::End(i)) => Some(i),
                None => None,
            })
            .collect();
        steps.sort_unstable();
        steps.dedup();
        let names: Vec<String> = steps
            .iter()
            .map(|&i| format!("`{}`", s.steps[i].name))
            .collect();
        // Label each relation inside the loop: "`a` waits for `b`".
        let mut labels: Vec<(Span, String)> = Vec::new();
        for &i in &steps {
            for r in &s.steps[i].relations {
                let j = match r.kind {
                    RelationKind::After { step, .. }
                    | RelationKind::With { step, .. }
                    | RelationKind::During { step } => step,
                    RelationKind::At { .. } => continue,
                };
                if steps.contains(&j) {
                    labels.push((
                        r.span,
                        format!("`{}` waits for `{}`", s.steps[i].name, s.steps[j].name),
                    ));
                }
            }
        }
        let (primary, label) = labels
            .first()
            .cloned()
            .unwrap_or((s.steps[steps[0]].span, "part of the cycle".into()));
        let mut d = Diagnostic::error(Code::Cycle, file, primary, format!("steps {} wait for each other", names.join(" and ")))
            .with_label(label)
            .with_help("time relations must form a chain: time one of these steps from the scenario start (`at +30s`) or from a step outside the loop");
        for (span, text) in labels.into_iter().skip(1) {
            d = d.with_secondary(span, text);
        }
        diags.push(d);
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    // Longest-path times in topological order.
    let order = toposort(&g, None).map_err(|_| {
        vec![Diagnostic::error(
            Code::Cycle,
            file,
            s.origin.span,
            "the steps' time relations form a cycle",
        )]
    })?;
    let mut time = vec![Duration::ZERO; g.node_count()];
    for v in order {
        for e in g.edges_directed(v, petgraph::Direction::Outgoing) {
            let t = Duration(time[v.index()].0 + e.weight().0 .0);
            let to = petgraph::visit::EdgeRef::target(&e).index();
            if t.0 > time[to].0 {
                time[to] = t;
            }
        }
    }
    let timing: Vec<StepTiming> = (0..n)
        .map(|i| StepTiming {
            name: s.steps[i].name.clone(),
            start: time[starts[i].index()],
            end: time[ends[i].index()],
            start_node: NodeIndex::new(0),
            end_node: NodeIndex::new(0),
        })
        .collect();
    // A step `during` another must fit inside it.
    for (i, step) in s.steps.iter().enumerate() {
        for r in &step.relations {
            if let RelationKind::During { step: j } = r.kind {
                if timing[i].end.0 > timing[j].end.0 + 1e-9 {
                    diags.push(
                        Diagnostic::error(
                            Code::ImpossibleTiming,
                            file,
                            step.span,
                            format!(
                                "step `{}` lasts {} but runs during `{}`, which lasts {}",
                                step.name,
                                Duration(timing[i].end.0 - timing[i].start.0),
                                s.steps[j].name,
                                Duration(timing[j].end.0 - timing[j].start.0)
                            ),
                        )
                        .with_label("does not fit")
                        .with_secondary(s.steps[j].span, "the step it runs during")
                        .with_help(format!(
                            "shorten it, or drop `for` so it ends with `{}`",
                            s.steps[j].name
                        )),
                    );
                }
            }
        }
    }
    let total = Duration(timing.iter().map(|t| t.end.0).fold(0.0, f64::max));
    check_windows(model, s, total, &mut diags);
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(build(model, s, timing, total))
}

fn step_duration(model: &Model, kind: &StepKind, given: Option<Duration>) -> Option<Duration> {
    if given.is_some() {
        return given;
    }
    match kind {
        StepKind::Wait(d) => Some(*d),
        StepKind::Inject { .. } => None,
        StepKind::Load { traffic, .. } => {
            // A traffic without stages inherits the stages of what it is `like`.
            let mut t = &model.traffics[*traffic];
            for _ in 0..model.traffics.len() {
                if !t.stages.is_empty() {
                    return Some(t.stages_duration());
                }
                match t.like {
                    Some(l) => t = &model.traffics[l],
                    None => break,
                }
            }
            None
        }
    }
}

/// A scenario that cannot fit any of its windows can never run.
fn check_windows(model: &Model, s: &ScenarioModel, total: Duration, diags: &mut Vec<Diagnostic>) {
    let mut longest: Option<f64> = None;
    for w in &s.windows {
        let WindowRefModel::Window(i) = w else {
            // Before an event: any time before it will do.
            return;
        };
        for rule in &model.windows[*i].rules {
            let len = match rule {
                WindowRule::Every { from, to, .. } => {
                    let (f, t) = (from.0 as f64, to.0 as f64);
                    if t > f {
                        t - f
                    } else {
                        86_400.0 - f + t
                    }
                }
                WindowRule::Between { from, to } => (to.0 - from.0) as f64,
            } * 1000.0;
            longest = Some(longest.map_or(len, |l: f64| l.max(len)));
        }
    }
    if let Some(len) = longest {
        if total.0 > len {
            diags.push(
                Diagnostic::error(
                    Code::ImpossibleTiming,
                    s.origin.file,
                    s.name_span,
                    format!(
                        "scenario `{}` runs for {} but its longest window is {}",
                        s.name,
                        total,
                        Duration(len)
                    ),
                )
                .with_label("cannot fit its windows")
                .with_help("shorten the steps or widen the window"),
            );
        }
    }
}

fn build(model: &Model, s: &ScenarioModel, mut timing: Vec<StepTiming>, total: Duration) -> Plan {
    let mut g: DiGraph<PlanNode, PlanEdge> = DiGraph::new();
    let begin = g.add_node(PlanNode {
        kind: NodeKind::Begin,
        step: None,
        at: Duration::ZERO,
        label: format!("begin scenario {}", s.name),
    });
    let mut notes = Vec::new();
    for (i, step) in s.steps.iter().enumerate() {
        let (start_kind, end_kind, start_label, end_label) = match &step.kind {
            StepKind::Load { traffic, at } => {
                let name = &model.traffics[*traffic].name;
                let share = if (*at - 1.0).abs() < 1e-9 {
                    String::new()
                } else {
                    format!(" at {}", crate::units::Percent(at * 100.0))
                };
                (
                    NodeKind::StartLoad {
                        traffic: *traffic,
                        share: *at,
                    },
                    NodeKind::StopLoad { traffic: *traffic },
                    format!("start load {name}{share}"),
                    format!("stop load {name}"),
                )
            }
            StepKind::Inject { fault } => {
                let f = &model.faults[*fault];
                let target = match &f.target {
                    FaultTarget::Service { system, service } => format!(
                        "{}.{}",
                        model.systems[*system].name, model.systems[*system].services[*service].name
                    ),
                    FaultTarget::Stressed { system, top, by } => {
                        let metric = match by {
                            crate::check::StressMetric::Any => {
                                "the worst of latency growth, error rate and saturation"
                            }
                            crate::check::StressMetric::Latency => "latency growth",
                            crate::check::StressMetric::Errors => "error rate",
                            crate::check::StressMetric::Saturation => "saturation",
                        };
                        notes.push(format!(
                            "step {}: fault {} picks the top {top} service(s) of {} by {metric} over the last 10s of load when it is injected",
                            step.name, f.name, model.systems[*system].name
                        ));
                        format!("stressed({}, top {top})", model.systems[*system].name)
                    }
                    FaultTarget::Placeholder => "?".into(),
                };
                let effects: Vec<&str> = f.effects.iter().map(|e| e.kind()).collect();
                (
                    NodeKind::Inject { fault: *fault },
                    NodeKind::Revert { fault: *fault },
                    format!("inject {} ({}) on {target}", f.name, effects.join(", ")),
                    format!("revert {}", f.name),
                )
            }
            StepKind::Wait(d) => (
                NodeKind::WaitStart,
                NodeKind::WaitEnd,
                format!("wait {d}"),
                "end wait".into(),
            ),
        };
        let a = g.add_node(PlanNode {
            kind: start_kind,
            step: Some(i),
            at: timing[i].start,
            label: start_label,
        });
        let b = g.add_node(PlanNode {
            kind: end_kind,
            step: Some(i),
            at: timing[i].end,
            label: end_label,
        });
        g.add_edge(
            a,
            b,
            PlanEdge {
                offset: Duration(timing[i].end.0 - timing[i].start.0),
            },
        );
        timing[i].start_node = a;
        timing[i].end_node = b;
    }
    for (i, step) in s.steps.iter().enumerate() {
        let a = timing[i].start_node;
        let mut anchored = false;
        for r in &step.relations {
            anchored = true;
            match r.kind {
                RelationKind::After {
                    step: j,
                    edge,
                    offset,
                } => {
                    let from = if edge == Edge::Start {
                        timing[j].start_node
                    } else {
                        timing[j].end_node
                    };
                    g.add_edge(from, a, PlanEdge { offset });
                }
                RelationKind::With { step: j, offset } => {
                    g.add_edge(timing[j].start_node, a, PlanEdge { offset });
                }
                RelationKind::During { step: j } => {
                    g.add_edge(
                        timing[j].start_node,
                        a,
                        PlanEdge {
                            offset: Duration::ZERO,
                        },
                    );
                    if step.duration.is_none() {
                        g.add_edge(
                            timing[j].end_node,
                            timing[i].end_node,
                            PlanEdge {
                                offset: Duration::ZERO,
                            },
                        );
                    }
                }
                RelationKind::At { offset } => {
                    g.add_edge(begin, a, PlanEdge { offset });
                }
            }
        }
        if !anchored {
            g.add_edge(
                begin,
                a,
                PlanEdge {
                    offset: Duration::ZERO,
                },
            );
        }
    }
    let finish = g.add_node(PlanNode {
        kind: NodeKind::Finish,
        step: None,
        at: total,
        label: "finish".into(),
    });
    for t in &timing {
        g.add_edge(
            t.end_node,
            finish,
            PlanEdge {
                offset: Duration::ZERO,
            },
        );
    }
    if s.steps.is_empty() {
        g.add_edge(
            begin,
            finish,
            PlanEdge {
                offset: Duration::ZERO,
            },
        );
    }
    for (k, e) in s.expects.iter().enumerate() {
        let what = match &e.kind {
            ExpectKind::Slo(i) => format!("slo {}", model.slos[*i].name),
            ExpectKind::Cond(_) => e.text.clone(),
        };
        let (from, scope) = match e.scope {
            ExpectScopeModel::During(j) => {
                (timing[j].end_node, format!(" during {}", timing[j].name))
            }
            ExpectScopeModel::After(j) => (finish, format!(" after {}", timing[j].name)),
            ExpectScopeModel::Whole => (finish, String::new()),
        };
        let at = g[from].at;
        let node = g.add_node(PlanNode {
            kind: NodeKind::Assert { expect: k },
            step: None,
            at,
            label: format!("assert {what}{scope}"),
        });
        g.add_edge(
            from,
            node,
            PlanEdge {
                offset: Duration::ZERO,
            },
        );
    }
    let mut last = finish;
    if s.record {
        let node = g.add_node(PlanNode {
            kind: NodeKind::Record,
            step: None,
            at: total,
            label: "record profile".into(),
        });
        g.add_edge(
            last,
            node,
            PlanEdge {
                offset: Duration::ZERO,
            },
        );
        last = node;
    }
    if s.predict.is_some() {
        let node = g.add_node(PlanNode {
            kind: NodeKind::Predict,
            step: None,
            at: total,
            label: "predict failure points".into(),
        });
        g.add_edge(
            last,
            node,
            PlanEdge {
                offset: Duration::ZERO,
            },
        );
        last = node;
    }
    for &r in &s.remediate {
        let node = g.add_node(PlanNode {
            kind: NodeKind::Remediate { remedy: r },
            step: None,
            at: total,
            label: format!("remediate with {}", model.remedies[r].name),
        });
        g.add_edge(
            last,
            node,
            PlanEdge {
                offset: Duration::ZERO,
            },
        );
    }
    Plan {
        scenario: s.name.clone(),
        graph: g,
        steps: timing,
        total,
        notes,
    }
}
