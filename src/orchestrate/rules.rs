//! The scheduling rules, as a pure function of a scenario, the time and what already ran:
//! run only while one of the scenario's windows is open; before an event, make sure a run
//! happened within the lead time before it (inside a window when one opens in time, else at
//! once, as `before EVENT` allows); at most one run per scenario per window occurrence (or
//! event); never when the run cannot finish before the window closes (or the event starts).
//! "Never two at once" and the busy guard are the loop's (they depend on other scenarios).

use crate::check::{Model, ScenarioModel, WindowRefModel};
use crate::schedule::{self, EventPhase, Occurrence};
use crate::units::Timestamp;

/// How far ahead `peak()` forecasts by default: a run's load covers the events in it.
pub const FORECAST_SPAN: i64 = 7 * 86_400;

/// A run the rules want now.
#[derive(Debug, Clone, PartialEq)]
pub struct Want {
    /// State keys the run settles: the window occurrence and/or the event.
    pub slots: Vec<String>,
    /// The slot shown in the audit log.
    pub label: String,
    pub reason: String,
    /// When it will end (start + the plan's length).
    pub ends: i64,
    /// The load multiple the run's forecast covers (events within `peak()`'s horizon).
    pub multiple: f64,
    /// When a window it runs in closes (a run still going then is stopped).
    pub closes: Option<i64>,
}

/// What the rules say about one scenario at one instant.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Run(Want),
    /// Not now, and why (with the slot it concerns, if any).
    Skip {
        /// A short, stable name of the reason (for counting): `no_clause`, `event_too_late`,
        /// `event_waits`, `already_ran`, `cannot_finish`, `outside_window`.
        kind: &'static str,
        slot: Option<String>,
        reason: String,
    },
}

fn window_slot(model: &Model, i: usize, o: Occurrence) -> String {
    format!("{}@{}", model.windows[i].name, Timestamp(o.start))
}

fn event_slot(model: &Model, e: usize) -> String {
    format!("event {}@{}", model.events[e].name, model.events[e].at)
}

/// The scheduling rules for `scenario` at `t`: `total` is how long it runs (seconds), `lead`
/// how long before an event its preparing run may happen, `done` whether a slot already had
/// its run.
pub fn consider(
    model: &Model,
    scenario: &ScenarioModel,
    total: i64,
    t: i64,
    lead: i64,
    done: &dyn Fn(&str) -> bool,
) -> Verdict {
    if scenario.windows.is_empty() {
        return Verdict::Skip {
            kind: "no_clause",
            slot: None,
            reason: "it has no `in WINDOW or before EVENT` clause: the orchestrator schedules only scenarios that say when they may run".into(),
        };
    }
    let a = schedule::allowance(model, scenario, t);
    let multiple = schedule::multiple_over(&model.events, t, t + FORECAST_SPAN);
    let open = a.open;
    // The occurrence's first slot not yet used: `nightly@…`, then `nightly@…#2`, … up to
    // the scenario's `runs at most N per window`.
    let runs = scenario.runs_per_window.max(1);
    let free_slot = |base: String| -> Option<String> {
        (1..=runs)
            .map(|k| {
                if k == 1 {
                    base.clone()
                } else {
                    format!("{base}#{k}")
                }
            })
            .find(|slot| !done(slot))
    };
    let open_slot = open.and_then(|(i, o)| free_slot(window_slot(model, i, o)));
    // Events first: a run before an event is owed within the lead time.
    for w in &scenario.windows {
        let WindowRefModel::Before(e) = *w else {
            continue;
        };
        let ev = &model.events[e];
        if schedule::event_phase(ev, t) != EventPhase::Upcoming || ev.at.0 - t > lead {
            continue;
        }
        let slot = event_slot(model, e);
        if done(&slot) {
            continue;
        }
        if t + total > ev.at.0 {
            return Verdict::Skip {
                kind: "event_too_late",
                slot: Some(slot),
                reason: format!(
                    "a run before event {} (at {}) can no longer finish before it starts (needs {total} s)",
                    ev.name, ev.at
                ),
            };
        }
        let why = format!(
            "prepares for event {} at {} (expect {}, within the lead time)",
            ev.name, ev.at, ev.expect
        );
        if let (Some((i, o)), Some(ws)) = (open, &open_slot) {
            if t + total <= o.end {
                return Verdict::Run(Want {
                    slots: vec![slot.clone(), ws.clone()],
                    label: slot,
                    reason: format!("{why}, inside window {}", model.windows[i].name),
                    ends: t + total,
                    multiple,
                    closes: Some(o.end),
                });
            }
        }
        // Wait for a window that opens, fits, and ends its run before the event.
        let next = next_fitting(model, scenario, t, total);
        if let Some((name, o)) = next {
            if o.start + total <= ev.at.0 {
                return Verdict::Skip {
                    kind: "event_waits",
                    slot: Some(slot),
                    reason: format!(
                        "the run for event {} waits for window {name} at {}",
                        ev.name,
                        Timestamp(o.start)
                    ),
                };
            }
        }
        return Verdict::Run(Want {
            slots: vec![slot.clone()],
            label: slot,
            reason: format!(
                "{why}; no window opens in time before it, and `before {}` allows a run now",
                ev.name
            ),
            ends: t + total,
            multiple,
            closes: None,
        });
    }
    if let Some((i, o)) = open {
        let name = &model.windows[i].name;
        let Some(slot) = open_slot else {
            let allowed = if runs == 1 {
                "at most one run per occurrence; `runs at most N per window` allows more"
                    .to_string()
            } else {
                format!("at most {runs} runs per occurrence, as the scenario says")
            };
            return Verdict::Skip {
                kind: "already_ran",
                slot: Some(window_slot(model, i, o)),
                reason: format!("it already ran in this occurrence of window {name} ({allowed})"),
            };
        };
        if t + total > o.end {
            return Verdict::Skip {
                kind: "cannot_finish",
                slot: Some(slot),
                reason: format!(
                    "it cannot finish before window {name} closes at {} (needs {total} s)",
                    Timestamp(o.end)
                ),
            };
        }
        return Verdict::Run(Want {
            slots: vec![slot.clone()],
            label: slot,
            reason: format!("window {name} is open until {}", Timestamp(o.end)),
            ends: t + total,
            multiple,
            closes: Some(o.end),
        });
    }
    let reason = match a.next.first() {
        Some(o) => format!(
            "outside its windows: next {} at {}",
            o.window,
            Timestamp(o.start)
        ),
        None if a.allowed => {
            "only `before EVENT` allows it now, and the event is beyond the lead time".into()
        }
        None => "none of its windows opens again and its events are past".into(),
    };
    Verdict::Skip {
        kind: "outside_window",
        slot: None,
        reason,
    }
}

/// The next occurrence (of any of the scenario's windows) long enough for the whole run.
fn next_fitting(
    model: &Model,
    scenario: &ScenarioModel,
    t: i64,
    total: i64,
) -> Option<(String, Occurrence)> {
    let mut best: Option<(String, Occurrence)> = None;
    for w in &scenario.windows {
        let WindowRefModel::Window(i) = *w else {
            continue;
        };
        let window = &model.windows[i];
        let mut from = t;
        for _ in 0..16 {
            let Some(o) = schedule::next_opening(window, from) else {
                break;
            };
            if o.end - o.start >= total {
                if best.as_ref().is_none_or(|(_, b)| o.start < b.start) {
                    best = Some((window.name.clone(), o));
                }
                break;
            }
            from = o.start;
        }
    }
    best
}
