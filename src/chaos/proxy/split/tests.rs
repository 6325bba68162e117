//! The weighted choice: distribution, drain and maint, backups, and nobody to send to.

use super::*;

fn spec(text: &str) -> ServerSpec {
    ServerSpec::parse(text).unwrap()
}

fn counts(s: &Splitter, n: usize) -> Vec<usize> {
    let mut cache = None;
    let mut out = vec![0; s.servers.len()];
    for _ in 0..n {
        out[s.pick(&mut cache).expect("a server")] += 1;
    }
    out
}

fn set(name: &str, weight: Option<u32>, state: Option<Admin>) -> Setting {
    Setting {
        name: name.into(),
        weight,
        state,
    }
}

#[test]
fn parses_server_specs_and_refuses_bad_ones() {
    let s = spec("b=127.0.0.1:9102,weight=30,backup,state=maint");
    assert_eq!(
        (s.name.as_str(), s.weight, s.backup, s.admin),
        ("b", 30, true, Admin::Maint)
    );
    assert_eq!(spec("a=127.0.0.1:1").weight, 100);
    for bad in [
        "a",
        "a=nowhere",
        "a=127.0.0.1:1,weight=257",
        "a=127.0.0.1:1,state=up",
        "a=127.0.0.1:1,heavy",
        "a b=127.0.0.1:1",
    ] {
        assert!(ServerSpec::parse(bad).is_err(), "{bad}");
    }
    assert!(Splitter::new(&[]).is_err());
    let twice = [spec("a=127.0.0.1:1"), spec("a=127.0.0.1:2")];
    assert!(Splitter::new(&twice).unwrap_err().contains("twice"));
}

#[test]
fn weights_split_in_proportion_and_smoothly() {
    let s = Splitter::new(&[
        spec("a=127.0.0.1:1,weight=5"),
        spec("b=127.0.0.1:2,weight=1"),
        spec("c=127.0.0.1:3,weight=1"),
    ])
    .unwrap();
    let mut cache = None;
    let order: Vec<usize> = (0..7).map(|_| s.pick(&mut cache).unwrap()).collect();
    // Smooth: the heavy server's turns are spread out, not five in a row.
    assert_eq!(order, [0, 0, 1, 0, 2, 0, 0]);
    assert_eq!(counts(&s, 7000), [5000, 1000, 1000]);
    s.set(&[set("a", Some(100), None), set("b", Some(100), None)])
        .unwrap();
    s.set(&[set("c", Some(0), None)]).unwrap();
    assert_eq!(counts(&s, 1000), [500, 500, 0]);
    s.set(&[set("a", Some(10), None), set("b", Some(190), None)])
        .unwrap();
    assert_eq!(counts(&s, 2000), [100, 1900, 0]);
}

#[test]
fn drain_and_maint_take_nothing_new_and_backups_take_over_when_no_one_is_ready() {
    let s = Splitter::new(&[
        spec("a=127.0.0.1:1"),
        spec("b=127.0.0.1:2"),
        spec("spare=127.0.0.1:3,backup"),
    ])
    .unwrap();
    assert_eq!(counts(&s, 100), [50, 50, 0], "the backup waits");
    s.set(&[set("a", None, Some(Admin::Drain))]).unwrap();
    assert_eq!(counts(&s, 100), [0, 100, 0]);
    s.set(&[set("b", None, Some(Admin::Maint))]).unwrap();
    assert_eq!(counts(&s, 100), [0, 0, 100], "failover to the backup");
    s.set(&[set("a", None, Some(Admin::Ready))]).unwrap();
    assert_eq!(counts(&s, 100), [100, 0, 0], "back from the backup");
    // A ready server with weight 0 does not hold the backup back.
    s.set(&[set("a", Some(0), None)]).unwrap();
    assert_eq!(counts(&s, 10), [0, 0, 10]);
}

#[test]
fn nobody_to_send_to_is_none_and_a_bad_change_changes_nothing() {
    let s = Splitter::new(&[spec("a=127.0.0.1:1"), spec("spare=127.0.0.1:3,backup")]).unwrap();
    s.set(&[
        set("a", None, Some(Admin::Maint)),
        set("spare", None, Some(Admin::Drain)),
    ])
    .unwrap();
    assert_eq!(s.pick_now(), None);
    let before = s.view();
    assert!(s
        .set(&[
            set("a", None, Some(Admin::Ready)),
            set("nope", Some(1), None)
        ])
        .unwrap_err()
        .contains("nope"));
    assert!(s.set(&[set("a", Some(300), None)]).is_err());
    assert_eq!(s.view(), before, "all or nothing");
    assert_eq!(s.pick_now(), None);
}

#[test]
fn a_cached_schedule_follows_changes() {
    let s = Splitter::new(&[spec("a=127.0.0.1:1"), spec("b=127.0.0.1:2")]).unwrap();
    let mut cache = None;
    assert!(s.pick(&mut cache).is_some());
    s.set(&[set("a", None, Some(Admin::Maint))]).unwrap();
    assert!((0..10).all(|_| s.pick(&mut cache) == Some(1)));
    let v = s.view();
    assert_eq!(
        (v[0].state, v[0].weight, v[1].state),
        (Admin::Maint, 100, Admin::Ready)
    );
}
