use super::*;
use crate::check::Origin;
use crate::diagnostic::{FileId, Span};
use crate::units::{Duration, Multiplier, TimeOfDay, Timestamp};

fn origin() -> Origin {
    Origin {
        file: FileId::default(),
        span: Span::default(),
    }
}

fn ts(s: &str) -> i64 {
    Timestamp::parse(s).unwrap().0
}

fn every(days: u8, from: &str, to: &str, off: i32) -> WindowModel {
    WindowModel {
        name: "w".into(),
        rules: vec![WindowRule::Every {
            days,
            from: TimeOfDay::parse(from).unwrap(),
            to: TimeOfDay::parse(to).unwrap(),
            utc_offset_min: off,
        }],
        origin: origin(),
    }
}

const ALL: u8 = 0x7f;
const SAT_SUN: u8 = 0b110_0000;

#[test]
fn nightly_open_and_next() {
    let w = every(ALL, "02:00", "04:00", 0);
    // 2026-12-07 is a Monday.
    let t = ts("2026-12-07T03:00Z");
    assert_eq!(
        open_at(&w, t),
        Some(Occurrence {
            start: ts("2026-12-07T02:00Z"),
            end: ts("2026-12-07T04:00Z")
        })
    );
    assert_eq!(open_at(&w, ts("2026-12-07T04:00Z")), None);
    let n = next_opening(&w, ts("2026-12-07T13:00Z")).unwrap();
    assert_eq!(n.start, ts("2026-12-08T02:00Z"));
    assert_eq!(n.end, ts("2026-12-08T04:00Z"));
    // Exactly at the opening it is open, and the next one is tomorrow's.
    assert!(open_at(&w, ts("2026-12-08T02:00Z")).is_some());
    assert_eq!(
        next_opening(&w, ts("2026-12-08T02:00Z")).unwrap().start,
        ts("2026-12-09T02:00Z")
    );
}

#[test]
fn weekdays_and_offsets() {
    // Saturday and Sunday 03:00..05:00 at +01:00 are 02:00..04:00 UTC.
    let w = every(SAT_SUN, "03:00", "05:00", 60);
    let n = next_opening(&w, ts("2026-12-07T00:00Z")).unwrap();
    assert_eq!(n.start, ts("2026-12-12T02:00Z"));
    assert_eq!(n.end, ts("2026-12-12T04:00Z"));
    assert!(open_at(&w, ts("2026-12-13T03:59Z")).is_some());
    assert!(open_at(&w, ts("2026-12-14T03:00Z")).is_none());
}

#[test]
fn wraps_past_midnight_from_the_day_it_starts() {
    // Fridays 22:00..06:00: Friday 2026-12-11 22:00 to Saturday 06:00.
    let w = every(1 << 4, "22:00", "06:00", 0);
    let o = open_at(&w, ts("2026-12-12T05:00Z")).unwrap();
    assert_eq!(o.start, ts("2026-12-11T22:00Z"));
    assert_eq!(o.end, ts("2026-12-12T06:00Z"));
    assert!(open_at(&w, ts("2026-12-13T05:00Z")).is_none());
}

#[test]
fn whole_days_merge_into_one_occurrence() {
    let w = every(SAT_SUN, "00:00", "24:00", 0);
    let o = open_at(&w, ts("2026-12-12T23:59Z")).unwrap();
    assert_eq!(o.start, ts("2026-12-12T00:00Z"));
    assert_eq!(o.end, ts("2026-12-14T00:00Z"));
}

#[test]
fn one_off_periods() {
    let w = WindowModel {
        name: "freeze".into(),
        rules: vec![WindowRule::Between {
            from: Timestamp(ts("2027-03-01T02:00Z")),
            to: Timestamp(ts("2027-03-01T06:00Z")),
        }],
        origin: origin(),
    };
    assert_eq!(
        next_opening(&w, ts("2026-12-07T00:00Z")).unwrap().start,
        ts("2027-03-01T02:00Z")
    );
    assert!(next_opening(&w, ts("2027-03-02T00:00Z")).is_none());
    assert!(open_at(&w, ts("2027-03-01T05:59Z")).is_some());
}

#[test]
fn openings_over_a_week() {
    let w = every(ALL, "02:00", "04:00", 0);
    let o = openings_between(&w, ts("2026-12-07T00:00Z"), ts("2026-12-14T00:00Z"));
    assert_eq!(o.len(), 7);
    assert_eq!(o[0].start, ts("2026-12-07T02:00Z"));
}

#[test]
fn events_phases_and_multiples() {
    let ev = EventModel {
        name: "sale".into(),
        at: Timestamp(ts("2026-12-11T00:00Z")),
        lasts: Duration::from_secs(86_400.0),
        expect: Multiplier(3.0),
        origin: origin(),
    };
    assert_eq!(
        event_phase(&ev, ts("2026-12-10T00:00Z")),
        EventPhase::Upcoming
    );
    assert_eq!(
        event_phase(&ev, ts("2026-12-11T12:00Z")),
        EventPhase::Active
    );
    assert_eq!(event_phase(&ev, ts("2026-12-12T00:00Z")), EventPhase::Past);
    let evs = [ev];
    assert_eq!(
        multiple_over(&evs, ts("2026-12-10T23:00Z"), ts("2026-12-11T00:00Z")),
        1.0
    );
    assert_eq!(
        multiple_over(&evs, ts("2026-12-11T23:00Z"), ts("2026-12-12T00:00Z")),
        3.0
    );
}
