//! When a planned scenario may run, as `res plan` shows it: whether it may start at "now"
//! (`--now`), the next openings of its windows (and whether the scenario fits in each), and
//! where its events stand. The window maths is [`crate::schedule`]'s.

use std::fmt::Write;

use serde_json::{json, Value};

use super::Plan;
use crate::check::{Model, WindowRefModel};
use crate::schedule::{self, event_end, event_phase, openings_between};
use crate::units::Timestamp;

/// How many openings of each window are listed.
const OPENINGS: usize = 3;
/// How far ahead openings are looked for: a year (one-off windows may lie far ahead).
const AHEAD: i64 = 366 * 86_400;

/// One upcoming (or current) occurrence of one of the scenario's windows.
struct Upcoming {
    window: String,
    start: i64,
    end: i64,
    fits: bool,
}

fn upcoming(plan: &Plan, model: &Model, now: i64) -> Vec<Upcoming> {
    let Some(s) = model.scenario(&plan.scenario) else {
        return Vec::new();
    };
    let need = plan.total.secs().ceil() as i64;
    let mut out = Vec::new();
    for w in &s.windows {
        let WindowRefModel::Window(i) = *w else {
            continue;
        };
        let window = &model.windows[i];
        let mut occ: Vec<schedule::Occurrence> =
            schedule::open_at(window, now).into_iter().collect();
        // Openings within the next week, then (for one-off windows) further ahead.
        occ.extend(openings_between(window, now + 1, now + 8 * 86_400));
        if occ.len() < OPENINGS {
            let mut t = now;
            while occ.len() < OPENINGS {
                match schedule::next_opening(window, t) {
                    Some(o) if o.start < now + AHEAD => {
                        if !occ.contains(&o) {
                            occ.push(o);
                        }
                        t = o.start;
                    }
                    _ => break,
                }
            }
        }
        for o in occ.into_iter().take(OPENINGS) {
            let from = o.start.max(now);
            out.push(Upcoming {
                window: window.name.clone(),
                start: o.start,
                end: o.end,
                fits: o.end - from >= need,
            });
        }
    }
    out
}

/// The text lines: "may run at …: yes — …" or "no — …", then the openings and events.
pub fn to_text(plan: &Plan, model: &Model, now: Timestamp) -> String {
    let mut out = String::new();
    let Some(s) = model.scenario(&plan.scenario) else {
        return out;
    };
    if s.windows.is_empty() {
        return out;
    }
    let a = schedule::allowance(model, s, now.0);
    if a.allowed {
        let _ = writeln!(out, "at {now}: may run — {}", a.because);
    } else {
        let _ = writeln!(
            out,
            "at {now}: refused — {}",
            schedule::describe_refusal(model, s, &a, now.0)
        );
    }
    for u in upcoming(plan, model, now.0) {
        let _ = writeln!(
            out,
            "  window {:<16} {} .. {}{}",
            u.window,
            Timestamp(u.start),
            Timestamp(u.end),
            if u.fits {
                ""
            } else {
                "  (too short for the scenario from now)"
            }
        );
    }
    for w in &s.windows {
        if let WindowRefModel::Before(e) = *w {
            let ev = &model.events[e];
            let _ = writeln!(
                out,
                "  event  {:<16} {} .. {}  expect {}  ({})",
                ev.name,
                ev.at,
                Timestamp(event_end(ev)),
                ev.expect,
                event_phase(ev, now.0).name()
            );
        }
    }
    out
}

/// The JSON `schedule` object of one plan (docs/plan.schema.json).
pub fn to_json(plan: &Plan, model: &Model, now: Timestamp) -> Value {
    let Some(s) = model.scenario(&plan.scenario) else {
        return Value::Null;
    };
    let a = schedule::allowance(model, s, now.0);
    let openings: Vec<Value> = upcoming(plan, model, now.0)
        .into_iter()
        .map(|u| {
            json!({
                "window": u.window,
                "start": Timestamp(u.start).to_rfc3339(),
                "end": Timestamp(u.end).to_rfc3339(),
                "fits": u.fits,
            })
        })
        .collect();
    let events: Vec<Value> = s
        .windows
        .iter()
        .filter_map(|w| match *w {
            WindowRefModel::Before(e) => Some(&model.events[e]),
            WindowRefModel::Window(_) => None,
        })
        .map(|ev| {
            json!({
                "event": ev.name,
                "at": ev.at.to_rfc3339(),
                "end": Timestamp(event_end(ev)).to_rfc3339(),
                "expect": ev.expect.0,
                "phase": event_phase(ev, now.0).name(),
            })
        })
        .collect();
    json!({
        "now": now.to_rfc3339(),
        "restricted": a.restricted,
        "allowed": a.allowed,
        "reason": if a.allowed { a.because.clone() } else { schedule::describe_refusal(model, s, &a, now.0) },
        "until": a.until.map(|u| Timestamp(u).to_rfc3339()),
        "openings": openings,
        "events": events,
    })
}
