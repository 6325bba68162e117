//! Run: the interpreter. Walks a plan on a clock, drives the load generator against the
//! scenario's system, evaluates abort conditions every second and expectations at the end,
//! and always shuts down in order — stop load, revert what the run changed, write the report.

pub mod clock;
pub mod metrics;
