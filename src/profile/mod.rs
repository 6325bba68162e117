//! The resilience profile database: every run leaves a durable record in one redb file, and
//! the records add up to a profile of how each service behaves as load grows and under each
//! kind of fault.
//!
//! The interpreter records through a [`Recorder`], whose writes go to a background thread
//! and are committed about once a second, so recording costs the run almost nothing and a
//! crash loses at most the last second. `res profile` reads through a [`ProfileStore`],
//! which may be opened while a run records. [`mod@derive`] turns recorded seconds into the
//! profile; [`compare`] tells whether one run did worse than another.
//!
//! Neighbours: `report` defines what a run produces ([`SeriesPoint`](crate::report::SeriesPoint),
//! [`FaultEvent`](crate::report::FaultEvent), …), which is what gets stored here; `run`
//! drives the recorder. docs/profile.md describes the tables, the schema version policy and
//! the derived numbers.

pub mod compare;
pub mod derive;
mod error;
pub(crate) mod export;
pub mod fingerprint;
pub mod import;
pub mod levels;
pub mod levels_table;
mod migrate;
pub mod mixture;
mod open;
pub mod path;
pub mod plateaus;
mod query;
pub use query::json_rows;
mod recorder;
pub(crate) mod render;
pub mod salvage;
pub mod sample_codec;
pub mod schema;
mod store;
pub(crate) mod test_writer;
mod writer;

pub use error::ProfileError;
pub use open::DEFAULT_BUSY_WAIT;
pub use path::{resolve_db_path, resolve_db_path_checked, resolve_db_path_in};
pub use recorder::{outcome_name, KeyedWriter, Recorder, RecorderOptions, RunId, RunMeta, Sent};
pub use schema::SCHEMA_VERSION;
pub use store::{ProfileStore, RunDetail, RunSummary, ServiceSeconds};

/// Opens the database for writing (created and migrated as needed), for engines that keep a
/// table of their own in the same file: the prediction engine's `predictions`.
pub fn open_for_writing(path: &std::path::Path) -> Result<redb::Database, ProfileError> {
    open_database(path, DEFAULT_BUSY_WAIT)
}

/// Opens the profile database for writing (creating and migrating it as any writer does), for
/// parts that keep a table of their own in the same file: the remediation audit log
/// (`remedy::audit`). The caller closes it by dropping it.
pub fn open_database(
    path: &std::path::Path,
    busy_wait: std::time::Duration,
) -> Result<redb::Database, ProfileError> {
    open::open_writer(path, busy_wait)
}

/// Whether process `pid` exists (a zombie counts as existing until it is reaped).
pub fn alive(pid: i32) -> bool {
    use nix::errno::Errno;
    use nix::sys::signal::kill;
    use nix::unistd::Pid;
    if pid <= 0 {
        return false;
    }
    match kill(Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(Errno::EPERM) => true,
        Err(_) => false,
    }
}
