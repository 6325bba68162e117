//! Shards: one load split across N processes so that together they send what one process
//! would (`res run --shard I/N`, docs/distributed.md).
//!
//! [`Shard::split`] turns the [`LoadSpec`] one process would run into the share of shard
//! `I`: the open and session models draw the whole arrival sequence from a stream seeded by
//! the run's seed alone (the stream a plain run draws too), and shard I sends arrivals I,
//! I+N, … of it — so the N shards together send exactly the send times of `--shard 1/1`,
//! which are those of a plain run, constant, Poisson or uniform.
//! Closed-model users are dealt by index, feeder rows partitioned by index, connections
//! divided, and the other random streams (mix, template values) seeded from the run's seed
//! and the shard's index. A learned chain's rate is divided by N (its sessions in progress are
//! warmed for the rate each process sends).
//!
//! ```
//! use res::load::shard::Shard;
//! let s: Shard = "2/4".parse().unwrap();
//! assert_eq!((s.index(), s.count()), (1, 4));
//! assert!("5/4".parse::<Shard>().is_err());
//! ```

use std::fmt;
use std::str::FromStr;

use crate::units::Rate;

use super::schedule::ArrivalShare;
use super::shared::stream_seed;
use super::spec::{Arrival, LoadSpec, Workload};
use super::RateSchedule;

/// The streams of a shard's own random choices (mix, template values): the run's seed mixed
/// with this and the shard's index.
const SHARD_STREAM: u64 = 0x5348_4152_4401;

/// Shard `I` of `N`, written `I/N` with `1 ≤ I ≤ N` (stored 0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

/// Why `--shard` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// Not two whole numbers around a slash.
    #[error("`{0}`: expected I/N, e.g. 2/4 (shard 2 of 4)")]
    Syntax(String),
    /// `N` is zero.
    #[error("`{0}`: the number of shards must be at least 1")]
    NoShards(String),
    /// `I` is 0 or above `N`.
    #[error("`{0}`: the shard must be between 1 and {1} (shards are counted from 1)")]
    OutOfRange(String, u32),
}

impl Shard {
    /// The whole load: shard 1 of 1.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Shard `index` (0-based) of `count`; `None` when out of range.
    pub fn new(index: u32, count: u32) -> Option<Shard> {
        (count >= 1 && index < count).then_some(Shard { index, count })
    }

    /// 0-based.
    pub fn index(self) -> u32 {
        self.index
    }

    pub fn count(self) -> u32 {
        self.count
    }

    /// The fraction of the load this shard sends.
    pub fn fraction(self) -> f64 {
        1.0 / f64::from(self.count)
    }

    /// This shard's part of `spec`.
    pub fn split(self, mut spec: LoadSpec) -> LoadSpec {
        let share = ArrivalShare {
            index: self.index,
            count: self.count,
            seed: ArrivalShare::whole(spec.seed).seed,
        };
        if self.count > 1 {
            let n = self.count as usize;
            spec.seed = stream_seed(spec.seed, SHARD_STREAM + u64::from(self.index));
            spec.connections = spec.connections.div_ceil(n).max(1);
            for feeder in spec.feeders.values_mut() {
                *feeder = feeder.partition(self.index, self.count);
            }
        }
        spec.workload = match spec.workload {
            Workload::Open {
                mut schedule,
                arrival,
                pacing,
            } => {
                schedule.share = Some(share);
                Workload::Open {
                    schedule,
                    arrival,
                    pacing,
                }
            }
            Workload::Sessions {
                mut schedule,
                arrival,
                pacing,
                sessions,
            } => {
                schedule.share = Some(share);
                Workload::Sessions {
                    schedule,
                    arrival,
                    pacing,
                    sessions,
                }
            }
            Workload::Chain {
                schedule,
                arrival,
                pacing,
                chain,
            } => Workload::Chain {
                schedule: self.divided(schedule),
                arrival,
                pacing,
                chain,
            },
            Workload::Closed { users, think } => {
                let mine = self.dealt(users);
                if mine == 0 {
                    // Fewer users than shards: this shard has nobody to run.
                    Workload::Open {
                        schedule: RateSchedule::constant(Rate(0.0)),
                        arrival: Arrival::Constant,
                        pacing: Default::default(),
                    }
                } else {
                    Workload::Closed { users: mine, think }
                }
            }
        };
        spec
    }

    /// How many of `total` items dealt round-robin by index land in this shard.
    pub fn dealt(self, total: u32) -> u32 {
        total.saturating_sub(self.index).div_ceil(self.count)
    }

    /// The schedule at 1/N of the rate.
    fn divided(self, mut schedule: RateSchedule) -> RateSchedule {
        let k = self.fraction();
        for s in &mut schedule.stages {
            s.from = Rate(s.from.0 * k);
            s.to = Rate(s.to.0 * k);
        }
        schedule
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| ShardError::Syntax(s.into()))?;
        let i: u32 = i.trim().parse().map_err(|_| ShardError::Syntax(s.into()))?;
        let n: u32 = n.trim().parse().map_err(|_| ShardError::Syntax(s.into()))?;
        if n == 0 {
            return Err(ShardError::NoShards(s.into()));
        }
        if i == 0 || i > n {
            return Err(ShardError::OutOfRange(s.into(), n));
        }
        Ok(Shard {
            index: i - 1,
            count: n,
        })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{RequestSpec, Workload};
    use crate::units::Duration;

    fn times(spec: &LoadSpec) -> Vec<f64> {
        crate::load::arrival_times(spec, 1_000_000).expect("a schedule")
    }

    fn spec(workload: Workload) -> LoadSpec {
        LoadSpec::new(
            "http://127.0.0.1:1",
            vec![RequestSpec::get("s", "/")],
            workload,
            Duration::from_secs(3.0),
        )
    }

    #[test]
    fn bad_shards_are_refused() {
        for bad in ["0/4", "5/4", "1/0", "x/2", "2", "-1/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert_eq!("4/4".parse::<Shard>().unwrap().to_string(), "4/4");
    }

    #[test]
    fn shards_send_exactly_the_whole_sequence_which_is_the_plain_one() {
        let schedule = RateSchedule::default()
            .ramp(Some(Rate(10.0)), Rate(90.0), Duration::from_secs(2.0))
            .hold(Duration::from_secs(1.0), None);
        for arrival in [Arrival::Constant, Arrival::Poisson, Arrival::Uniform] {
            let plain = || {
                let mut s = spec(Workload::Open {
                    schedule: schedule.clone(),
                    arrival,
                    pacing: Default::default(),
                });
                s.seed = 42;
                s
            };
            let whole = times(&Shard::WHOLE.split(plain()));
            assert_eq!(times(&plain()), whole, "{arrival:?}: plain and 1/1");
            for n in [2, 3, 4] {
                let mut pooled: Vec<f64> = (0..n)
                    .flat_map(|i| times(&Shard::new(i, n).unwrap().split(plain())))
                    .collect();
                pooled.sort_by(f64::total_cmp);
                assert_eq!(pooled, whole, "{arrival:?}, {n} shards");
            }
        }
    }

    #[test]
    fn feeder_rows_are_partitioned_by_index() {
        use crate::load::feeder::{DataOrder, Feeder};
        let f = Feeder::from_csv("id\n0\n1\n2\n3\n4\n", DataOrder::Cycle).unwrap();
        let rows = |s: Feeder| {
            (0..s.len())
                .map(|r| s.value(r, 0).to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(rows(f.partition(0, 2)), ["0", "2", "4"]);
        assert_eq!(rows(f.partition(1, 2)), ["1", "3"]);
        assert_eq!(
            rows(f.partition(6, 8)),
            ["1"],
            "fewer rows than shards: one row each"
        );
    }

    #[test]
    fn users_are_dealt_by_index() {
        let total: u32 = (0..4)
            .map(|i| Shard::new(i, 4).unwrap().dealt(10))
            .sum::<u32>();
        assert_eq!(total, 10);
        let s = Shard::new(3, 4).unwrap().split(spec(Workload::Closed {
            users: 3,
            think: None,
        }));
        assert!(matches!(s.workload, Workload::Open { .. }));
    }
}
