//! The rails every decision passes before anything changes: the mode (advise unless opted
//! in), cooldown, `at most N per D`, bounds (`within`), the step limit, no scale-in on a
//! prediction. Pure arithmetic over the remedy, the state read before and the history, so
//! each rule is tested on its own.

use std::time::{Duration, Instant};

use super::record::Mode;

/// The mode a decision runs in: the flag wins, then the file; without either, advise under
/// CI and for predicted triggers, act for measured ones.
pub fn resolve_mode(flag: Option<Mode>, file: Option<Mode>, ci: bool, predicted: bool) -> Mode {
    flag.or(file).unwrap_or(if ci || predicted {
        Mode::Advise
    } else {
        Mode::Act
    })
}

/// Whether `CI=true` is set.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// One past decision that counts against the rails.
#[derive(Debug, Clone)]
pub struct Past {
    pub remedy: usize,
    pub service: String,
    pub at: Instant,
    /// Instances added (0 for anything else).
    pub added: u64,
}

/// Why a remedy may not decide now, if it may not.
pub fn held_back(
    history: &[Past],
    remedy: usize,
    cooldown: Duration,
    limit: Option<(u32, Duration)>,
    now: Instant,
) -> Option<String> {
    let mine = history.iter().filter(|p| p.remedy == remedy);
    if let Some(last) = mine.clone().map(|p| p.at).max() {
        let since = now.saturating_duration_since(last);
        if since < cooldown {
            // Stable text: a rail that keeps holding is recorded once, not every second.
            return Some(format!(
                "cooldown: {}s since the last decision have not passed",
                cooldown.as_secs()
            ));
        }
    }
    if let Some((n, per)) = limit {
        let recent = mine
            .filter(|p| now.saturating_duration_since(p.at) < per)
            .count();
        if recent >= n as usize {
            return Some(format!("at most {n} per {}s: reached", per.as_secs()));
        }
    }
    None
}

/// The instance count to set: `wanted` clipped to `within` and to the step limit, with a note
/// for each rule that changed it.
pub fn target_instances(
    current: u64,
    wanted: i128,
    within: Option<(u64, u64)>,
    step_per_minute: Option<u64>,
    added_last_minute: u64,
) -> (u64, Vec<String>) {
    let mut notes = Vec::new();
    let mut target = u64::try_from(wanted.max(0)).unwrap_or(u64::MAX);
    if let Some((lo, hi)) = within {
        let clipped = target.clamp(lo, hi);
        if clipped != target {
            notes.push(format!(
                "{target} instances is outside within {lo}..{hi}: clipped to {clipped}"
            ));
            target = clipped;
        }
    }
    if target > current {
        // HPA-style: at most max(4, 100 %) more per minute unless the remedy declares a step.
        let limit = step_per_minute.unwrap_or(current.max(4));
        let room = limit.saturating_sub(added_last_minute);
        if target - current > room {
            let clipped = current + room;
            notes.push(format!(
                "step limit: at most {limit} more instances per minute ({added_last_minute} added in the last minute): {target} clipped to {clipped}"
            ));
            target = clipped;
        }
    }
    (target, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_defaults() {
        assert_eq!(resolve_mode(None, None, false, false), Mode::Act);
        assert_eq!(resolve_mode(None, None, true, false), Mode::Advise);
        assert_eq!(resolve_mode(None, None, false, true), Mode::Advise);
        assert_eq!(resolve_mode(None, Some(Mode::Act), true, true), Mode::Act);
        assert_eq!(
            resolve_mode(Some(Mode::Advise), Some(Mode::Act), false, false),
            Mode::Advise
        );
    }

    #[test]
    fn bounds_and_steps() {
        assert_eq!(target_instances(4, 6, Some((2, 12)), None, 0).0, 6);
        let (t, notes) = target_instances(10, 15, Some((2, 12)), None, 0);
        assert_eq!(t, 12);
        assert!(notes[0].contains("clipped to 12"), "{notes:?}");
        assert_eq!(target_instances(3, 1, Some((2, 12)), None, 0).0, 2);
        // 100 % of 6 is 6 more per minute; 4 already added leaves 2.
        let (t, notes) = target_instances(6, 12, None, None, 4);
        assert_eq!(t, 8);
        assert!(notes[0].starts_with("step limit"), "{notes:?}");
        // max(4, 100 %) for a small service.
        assert_eq!(target_instances(1, 9, None, None, 0).0, 5);
        assert_eq!(target_instances(1, 9, None, Some(8), 0).0, 9);
    }

    #[test]
    fn cooldown_and_limit() {
        let t0 = Instant::now();
        let past = |s: u64| Past {
            remedy: 0,
            service: "s".into(),
            at: t0 + Duration::from_secs(s),
            added: 0,
        };
        let h = vec![past(0)];
        let now = t0 + Duration::from_secs(10);
        assert!(held_back(&h, 0, Duration::from_secs(30), None, now).is_some());
        assert!(held_back(&h, 1, Duration::from_secs(30), None, now).is_none());
        let h = vec![past(0), past(5)];
        let r = held_back(
            &h,
            0,
            Duration::ZERO,
            Some((2, Duration::from_secs(60))),
            now,
        );
        assert!(r.unwrap().starts_with("at most 2"));
    }
}
