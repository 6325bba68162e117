//! Whether a scenario may start at an instant, by its `in W1 or W2 or before E` clause: open
//! while any of its windows is, or at any time before any of its events starts. A scenario
//! without the clause may always run.

use super::{event_phase, next_opening, open_at, EventPhase, Occurrence};
use crate::check::{Model, ScenarioModel, WindowRefModel};
use crate::units::Timestamp;

/// A window's next occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    pub window: String,
    pub start: i64,
    pub end: i64,
}

/// The answer to "may this scenario start at `t`?", with what it rests on.
#[derive(Debug, Clone, Default)]
pub struct Allowance {
    pub allowed: bool,
    /// Why it may, in words ("window nightly is open until …"); empty when refused.
    pub because: String,
    /// When the permission ends: the open window's close or the event's start (`None`: it
    /// does not end, or the scenario has no windows).
    pub until: Option<i64>,
    /// The window open at `t` (index into the model's windows) and its occurrence; the one
    /// closing last when several are.
    pub open: Option<(usize, Occurrence)>,
    /// Each window of the clause that is closed at `t`, with its next occurrence, soonest
    /// first (a window that never opens again is left out).
    pub next: Vec<Opening>,
    /// Each event of the clause (index into the model's events) and where it stands.
    pub events: Vec<(usize, EventPhase)>,
    /// Whether the scenario has an `in` clause at all.
    pub restricted: bool,
}

/// Whether `scenario` may start at `t`.
pub fn allowance(model: &Model, scenario: &ScenarioModel, t: i64) -> Allowance {
    let mut a = Allowance {
        restricted: !scenario.windows.is_empty(),
        ..Allowance::default()
    };
    if !a.restricted {
        a.allowed = true;
        a.because = "the scenario has no window: it may run at any time".into();
        return a;
    }
    let mut reasons = Vec::new();
    for w in &scenario.windows {
        match *w {
            WindowRefModel::Window(i) => {
                let window = &model.windows[i];
                if let Some(o) = open_at(window, t) {
                    if a.open.is_none_or(|(_, cur)| o.end > cur.end) {
                        a.open = Some((i, o));
                    }
                } else if let Some(o) = next_opening(window, t) {
                    a.next.push(Opening {
                        window: window.name.clone(),
                        start: o.start,
                        end: o.end,
                    });
                }
            }
            WindowRefModel::Before(e) => {
                let phase = event_phase(&model.events[e], t);
                a.events.push((e, phase));
            }
        }
    }
    a.next.sort_by_key(|o| (o.start, o.end));
    if let Some((i, o)) = a.open {
        a.allowed = true;
        a.until = Some(o.end);
        reasons.push(format!(
            "window {} is open until {}",
            model.windows[i].name,
            Timestamp(o.end)
        ));
    }
    for (e, phase) in &a.events {
        if *phase == EventPhase::Upcoming {
            let ev = &model.events[*e];
            a.allowed = true;
            a.until = Some(a.until.map_or(ev.at.0, |u| u.max(ev.at.0)));
            reasons.push(format!("before event {} (at {})", ev.name, ev.at));
        }
    }
    if a.allowed {
        a.because = reasons.join("; ");
    }
    a
}

/// Why a scenario may not start at `t`, and when it next may: "scenario `x` may not run at
/// …: window nightly is closed (next open 2026-12-08T02:00:00Z until …); event … is past".
pub fn describe_refusal(model: &Model, scenario: &ScenarioModel, a: &Allowance, t: i64) -> String {
    let mut parts = Vec::new();
    for w in &scenario.windows {
        if let WindowRefModel::Window(i) = *w {
            let name = &model.windows[i].name;
            match a.next.iter().find(|o| &o.window == name) {
                Some(o) => parts.push(format!(
                    "window {name} is closed (next open {} until {})",
                    Timestamp(o.start),
                    Timestamp(o.end)
                )),
                None => parts.push(format!("window {name} is closed and never opens again")),
            }
        }
    }
    for (e, phase) in &a.events {
        let ev = &model.events[*e];
        let what = match phase {
            EventPhase::Active => "has started",
            _ => "is past",
        };
        parts.push(format!("event {} {what} (at {})", ev.name, ev.at));
    }
    let mut msg = format!(
        "scenario `{}` may not run at {}: {}",
        scenario.name,
        Timestamp(t),
        parts.join("; ")
    );
    match a.next.first() {
        Some(o) => msg.push_str(&format!(
            "; it may next run at {} (window {})",
            Timestamp(o.start),
            o.window
        )),
        None => msg.push_str("; none of its windows opens again"),
    }
    msg
}
