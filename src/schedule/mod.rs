//! When a scenario may run: the occurrences of its windows (`every DAYS FROM..TO ZONE`,
//! `from T to T`), whether one is open at an instant and when the next opens and closes, and
//! where its events stand (upcoming, going on while they `lasts`, past) with the load they
//! `expect`. `res run`, `res plan` and `res orchestrate` all answer "may it run now?" here.
//!
//! Times are seconds since the Unix epoch (UTC). An occurrence is half-open, `[start, end)`.
//! An `every` line that wraps past midnight belongs to the day it starts on (`every fri
//! 22:00..06:00` is open from Friday 22:00 to Saturday 06:00). Occurrences of all the lines of
//! a window that overlap or touch are one occurrence.

mod allow;

pub use allow::{allowance, describe_refusal, Allowance, Opening};

use crate::check::{EventModel, WindowModel, WindowRule};

/// How far around an instant `every` lines are expanded: a week and a little, so the weekly
/// pattern is seen whole on both sides.
const SPAN: i64 = 9 * 86_400;

/// One occurrence of a window, `[start, end)` in seconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Occurrence {
    pub start: i64,
    pub end: i64,
}

impl Occurrence {
    pub fn contains(&self, t: i64) -> bool {
        self.start <= t && t < self.end
    }
}

/// Monday = 0 … Sunday = 6, for a day counted from the epoch (1970-01-01 was a Thursday).
fn weekday(day: i64) -> u32 {
    (day + 3).rem_euclid(7) as u32
}

/// The raw occurrences of one line that overlap `[from, to)`.
fn rule_occurrences(rule: &WindowRule, from: i64, to: i64, out: &mut Vec<Occurrence>) {
    match rule {
        WindowRule::Between { from: a, to: b } => {
            if a.0 < to && b.0 > from {
                out.push(Occurrence {
                    start: a.0,
                    end: b.0,
                });
            }
        }
        WindowRule::Every {
            days,
            from: open,
            to: close,
            utc_offset_min,
        } => {
            let off = i64::from(*utc_offset_min) * 60;
            // Local days whose occurrence may touch the range (one wraps at most a day).
            let first = (from + off).div_euclid(86_400) - 1;
            let last = (to + off).div_euclid(86_400) + 1;
            for day in first..=last {
                if days & (1 << weekday(day)) == 0 {
                    continue;
                }
                let start = day * 86_400 + i64::from(open.0) - off;
                let mut end = day * 86_400 + i64::from(close.0) - off;
                if close.0 <= open.0 {
                    end += 86_400;
                }
                if start < to && end > from {
                    out.push(Occurrence { start, end });
                }
            }
        }
    }
}

/// The occurrences of a window that overlap `[from, to)`, merged, in order. `every` lines
/// are expanded only over that range: a window open all the time is cut at its edges.
pub fn occurrences(window: &WindowModel, from: i64, to: i64) -> Vec<Occurrence> {
    let mut raw = Vec::new();
    for rule in &window.rules {
        rule_occurrences(rule, from, to, &mut raw);
    }
    merge(raw)
}

fn merge(mut raw: Vec<Occurrence>) -> Vec<Occurrence> {
    raw.sort();
    let mut out: Vec<Occurrence> = Vec::with_capacity(raw.len());
    for o in raw {
        match out.last_mut() {
            Some(last) if o.start <= last.end => last.end = last.end.max(o.end),
            _ => out.push(o),
        }
    }
    out
}

/// The occurrence open at `t`, if the window is open then. Its `end` is when it closes (at
/// most nine days on: a window open for longer shows that far).
pub fn open_at(window: &WindowModel, t: i64) -> Option<Occurrence> {
    occurrences(window, t - SPAN, t + SPAN)
        .into_iter()
        .find(|o| o.contains(t))
}

/// The first occurrence that opens after `t` (strictly), if any: `every` lines always have
/// one within a week; `from … to` lines only if they lie ahead.
pub fn next_opening(window: &WindowModel, t: i64) -> Option<Occurrence> {
    let mut far: i64 = t + SPAN;
    for rule in &window.rules {
        if let WindowRule::Between { from, to } = rule {
            if from.0 > t {
                far = far.max(to.0 + 1);
            }
        }
    }
    occurrences(window, t - SPAN, far)
        .into_iter()
        .find(|o| o.start > t)
}

/// The occurrences opening in `[from, to)`, in order: what a schedule over that span offers.
/// Bounded by the span's length (at most two per day and line).
pub fn openings_between(window: &WindowModel, from: i64, to: i64) -> Vec<Occurrence> {
    occurrences(window, from - SPAN, to)
        .into_iter()
        .filter(|o| o.start >= from && o.start < to)
        .collect()
}

/// Where an event stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventPhase {
    /// It starts later.
    Upcoming,
    /// It started and still `lasts`.
    Active,
    /// It is over.
    Past,
}

impl EventPhase {
    pub fn name(self) -> &'static str {
        match self {
            EventPhase::Upcoming => "upcoming",
            EventPhase::Active => "active",
            EventPhase::Past => "past",
        }
    }
}

/// Whether `event` is upcoming, going on, or over at `t`.
pub fn event_phase(event: &EventModel, t: i64) -> EventPhase {
    let end = event_end(event);
    if t < event.at.0 {
        EventPhase::Upcoming
    } else if t < end {
        EventPhase::Active
    } else {
        EventPhase::Past
    }
}

/// When an event ends: its start plus `lasts` (at least one second).
pub fn event_end(event: &EventModel) -> i64 {
    event.at.0 + (event.lasts.secs().ceil() as i64).max(1)
}

/// The load multiple the events expect over `[from, to)`: the largest `expect` of the events
/// going on at any time in it, 1 when none is.
pub fn multiple_over(events: &[EventModel], from: i64, to: i64) -> f64 {
    events
        .iter()
        .filter(|e| e.at.0 < to && event_end(e) > from)
        .map(|e| e.expect.0)
        .filter(|m| m.is_finite() && *m >= 0.0)
        .reduce(f64::max)
        .unwrap_or(1.0)
}

/// Multiplies the forecast hours an event covers by its `expect`, and sets the peak to the
/// busiest hour of the series after that. Says what the events changed, when they did.
pub fn event_peak(
    events: &[EventModel],
    f: &mut crate::learn::forecast::Forecast,
) -> Option<String> {
    let mut changed = Vec::new();
    for p in &mut f.series {
        let Some(at) = crate::units::Timestamp::parse(&p.at) else {
            continue;
        };
        let m = multiple_over(events, at.0, at.0 + 3600);
        if m != 1.0 {
            p.rate_per_s *= m;
            p.lower *= m;
            p.upper *= m;
            changed.push(m);
        }
    }
    // The peak is the earliest of the busiest hours of the series as it now stands (always
    // taken from the series: the series is what starts at "now").
    let mut busiest = f.series.first()?.clone();
    for p in &f.series {
        if p.upper > busiest.upper {
            busiest = p.clone();
        }
    }
    f.peak = crate::learn::forecast::Peak {
        at: busiest.at,
        rate_per_s: busiest.rate_per_s,
        lower: busiest.lower,
        upper: busiest.upper,
    };
    if changed.is_empty() {
        return None;
    }
    let names: Vec<String> = events
        .iter()
        .filter(|e| {
            f.series.iter().any(|p| {
                crate::units::Timestamp::parse(&p.at)
                    .is_some_and(|t| e.at.0 < t.0 + 3600 && event_end(e) > t.0)
            })
        })
        .map(|e| format!("{} ×{}", e.name, crate::units::trim(e.expect.0)))
        .collect();
    Some(format!(
        "the forecast covers event {} ({} hours multiplied); peak {:.1}/s at {}",
        names.join(", "),
        changed.len(),
        f.peak.upper,
        f.peak.at
    ))
}

#[cfg(test)]
mod tests;
