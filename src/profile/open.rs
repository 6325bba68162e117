//! Opening the database without ever damaging what is there.
//!
//! redb lets one process write while others read (`ConcurrencyMode::SingleWriter`), so a
//! `res profile` query works while a run records. Before anything is opened for writing, the
//! file is checked read-only: a file that is not redb, is truncated, is corrupt, or has a
//! newer schema is refused and left byte for byte as it was. A file a crashed writer left
//! unclean is repaired only after the same repair succeeded on a copy.
//!
//! Every open that finds another process holding the file retries for a short while, then
//! reports the database as busy, naming the recording process when the database says which.

use std::cell::Cell;
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::thread::sleep;
use std::time::{Duration, Instant};

use redb::{
    Builder, ConcurrencyMode, Database, DatabaseError, ReadOnlyDatabase, ReadableDatabase,
    ReadableTable, StorageError, TableError,
};

use super::schema::{RunRecord, META, RUNS, SCHEMA_VERSION, VERSION_KEY};
use super::{migrate, ProfileError};

/// How long an open waits for another process to let go before reporting "busy".
pub const DEFAULT_BUSY_WAIT: Duration = Duration::from_secs(3);
const RETRY_EVERY: Duration = Duration::from_millis(25);

/// redb's magic number: the first bytes of every redb file.
const REDB_MAGIC: [u8; 9] = [b'r', b'e', b'd', b'b', 0x1A, 0x0A, 0xA9, 0x0D, 0x0A];

/// A database opened for reading.
pub(crate) struct ReadHandle {
    pub db: ReadOnlyDatabase,
    /// Whether a recording process had the file open when it was opened. Without one, no
    /// unfinished run can still be going.
    pub live_writer: bool,
}

/// What a read-only look at an existing, non-empty file found.
enum Probe {
    /// No writer anywhere and the file is clean: the handle is usable as is.
    Clean(ReadOnlyDatabase),
    /// Some process has it open for writing.
    Held,
    /// A writer died without closing it: redb must repair it before use.
    Unclean,
}

fn builder(mode: ConcurrencyMode) -> Builder {
    let mut b = Builder::new();
    b.set_concurrency_mode(mode);
    // The default 1 GiB cache is for databases that are mostly read; ours is mostly appended.
    b.set_cache_size(64 * 1024 * 1024);
    b
}

/// Opens `path` for writing, creating it (and its directory) when missing, migrating an older
/// schema, and marking every unfinished run `incomplete`: this process now holds the only
/// write lock, so their writers are gone.
pub(crate) fn open_writer(path: &Path, busy_wait: Duration) -> Result<Database, ProfileError> {
    let deadline = Instant::now() + busy_wait;
    loop {
        match try_open_writer(path) {
            Err(Retry::Busy) if Instant::now() < deadline => sleep(RETRY_EVERY),
            Err(Retry::Busy) => {
                return Err(ProfileError::Busy {
                    path: path.to_path_buf(),
                    pid: writer_pid(path),
                })
            }
            Err(Retry::Fail(e)) => return Err(e),
            Ok(db) => return Ok(db),
        }
    }
}

/// Opens `path` for reading. An older schema is migrated first, and an unclean file repaired
/// first, each through a brief write open; otherwise nothing is written.
pub(crate) fn open_reader(path: &Path, busy_wait: Duration) -> Result<ReadHandle, ProfileError> {
    let deadline = Instant::now() + busy_wait;
    loop {
        match try_open_reader(path, busy_wait) {
            Err(Retry::Busy) if Instant::now() < deadline => sleep(RETRY_EVERY),
            Err(Retry::Busy) => {
                return Err(ProfileError::Busy {
                    path: path.to_path_buf(),
                    pid: writer_pid(path),
                })
            }
            Err(Retry::Fail(e)) => return Err(e),
            Ok(h) => return Ok(h),
        }
    }
}

enum Retry {
    Busy,
    Fail(ProfileError),
}

impl From<ProfileError> for Retry {
    fn from(e: ProfileError) -> Self {
        match e {
            ProfileError::Busy { .. } => Retry::Busy,
            e => Retry::Fail(e),
        }
    }
}

fn try_open_writer(path: &Path) -> Result<Database, Retry> {
    let len = match std::fs::metadata(path) {
        Ok(m) => Some(m.len()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(Retry::Fail(ProfileError::Io {
                action: "read",
                path: path.to_path_buf(),
                source: e,
            }))
        }
    };
    if len.is_none() {
        return create(path);
    }
    if is_leftover(path) {
        clear_leftover(path)?;
        return create(path);
    }
    match probe(path)? {
        Probe::Clean(ro) => {
            check_version(path, &ro)?;
            verify(path, &ro)?;
            drop(ro);
        }
        Probe::Held => return Err(Retry::Busy),
        Probe::Unclean => trial_repair(path)?,
    }
    let db = guarded(path, || builder(ConcurrencyMode::SingleWriter).open(path))?
        .map_err(|e| classify(path, e))?;
    prepare(path, &db)?;
    Ok(db)
}

fn try_open_reader(path: &Path, busy_wait: Duration) -> Result<ReadHandle, Retry> {
    match std::fs::metadata(path) {
        Ok(_) if !is_leftover(path) => {}
        Ok(_) => {
            return Err(Retry::Fail(ProfileError::Missing {
                path: path.to_path_buf(),
            }))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Retry::Fail(ProfileError::Missing {
                path: path.to_path_buf(),
            }))
        }
        Err(e) => {
            return Err(Retry::Fail(ProfileError::Io {
                action: "read",
                path: path.to_path_buf(),
                source: e,
            }))
        }
    }
    match probe(path)? {
        Probe::Clean(db) => match check_version(path, &db)? {
            Some(v) if v < SCHEMA_VERSION => {
                drop(db);
                drop(open_writer(path, busy_wait)?);
                try_open_reader(path, busy_wait)
            }
            _ => {
                // Reopen in the mode a recorder shares, so that a long-lived reader does not
                // keep a run from starting.
                drop(db);
                let db = guarded(path, || {
                    builder(ConcurrencyMode::SingleWriter).open_read_only(path)
                })?
                .map_err(|e| classify(path, e))?;
                Ok(ReadHandle {
                    db,
                    live_writer: false,
                })
            }
        },
        Probe::Held => {
            let db = guarded(path, || {
                builder(ConcurrencyMode::SingleWriter).open_read_only(path)
            })?
            .map_err(|e| classify(path, e))?;
            match check_version(path, &db)? {
                Some(v) if v < SCHEMA_VERSION => Err(Retry::Busy),
                _ => Ok(ReadHandle {
                    db,
                    live_writer: true,
                }),
            }
        }
        Probe::Unclean => {
            match trial_repair(path).and_then(|()| open_writer(path, busy_wait)) {
                Ok(db) => drop(db),
                Err(e @ ProfileError::Busy { .. }) => return Err(e.into()),
                // No room (or no permission) to repair it in place, a full disk above all:
                // reading must still work, so read a repaired copy made elsewhere.
                Err(ProfileError::Io { .. } | ProfileError::Storage { .. }) => {
                    return read_repaired_copy(path).map_err(Retry::Fail)
                }
                Err(e) => return Err(e.into()),
            }
            try_open_reader(path, busy_wait)
        }
    }
}

/// Repairs a copy of an unclean file in the temporary directory and opens that for reading.
fn read_repaired_copy(path: &Path) -> Result<ReadHandle, ProfileError> {
    let db = repaired_copy(path, true)?;
    check_version(path, &db)?;
    Ok(ReadHandle {
        db,
        live_writer: false,
    })
}

/// Copies `path` to the temporary directory, lets redb repair the copy (with a full
/// integrity check when `check` is set), and opens the copy read-only. The copy is unlinked
/// at once: the open handle keeps it alive, and nothing is left behind.
fn repaired_copy(path: &Path, check: bool) -> Result<ReadOnlyDatabase, ProfileError> {
    let copy = std::env::temp_dir().join(format!(
        "res-profile-read-{}-{}.redb",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    let result = (|| {
        let repaired = copy_and_repair(
            path,
            &copy,
            check,
            "copy (to read it without repairing it in place)",
        )?;
        drop(repaired);
        guarded(path, || {
            builder(ConcurrencyMode::ExclusiveWriter).open_read_only(&copy)
        })?
        .map_err(|e| classify(path, e))
    })();
    let _ = std::fs::remove_file(&copy);
    result
}

/// Opens a possibly damaged file for salvage: read-only, with no integrity check (a check
/// would refuse the whole file for one bad page); a file a crashed writer left unclean is
/// repaired on a copy. The file itself is never written.
pub(crate) fn open_damaged(path: &Path) -> Result<ReadOnlyDatabase, ProfileError> {
    if is_leftover(path) {
        return Err(ProfileError::Missing {
            path: path.to_path_buf(),
        });
    }
    let mut head = [0u8; 9];
    let readable = std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .map_err(|e| ProfileError::Io {
            action: "read",
            path: path.to_path_buf(),
            source: e,
        });
    readable?;
    if head != REDB_MAGIC {
        return Err(ProfileError::NotADatabase {
            path: path.to_path_buf(),
        });
    }
    match guarded(path, || {
        builder(ConcurrencyMode::ExclusiveWriter).open_read_only(path)
    })? {
        Ok(db) => Ok(db),
        Err(DatabaseError::RepairAborted) => repaired_copy(path, false),
        Err(e) => Err(classify(path, e)),
    }
}

/// Whether `path` is what an interrupted create leaves: an empty file, or one whose first
/// bytes, where redb writes its magic number last, are still zero. Such a file holds no
/// data and counts as no database at all.
fn is_leftover(path: &Path) -> bool {
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = [0u8; REDB_MAGIC.len()];
    match f.read(&mut head) {
        Ok(0) => true,
        Ok(n) => n == head.len() && head.iter().all(|b| *b == 0) && small(path),
        Err(_) => false,
    }
}

/// Files an interrupted create leaves are a few pages long; a big file with zeros at the
/// start is something else, and is left alone.
fn small(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.len() <= 4 * 1024 * 1024)
        .unwrap_or(false)
}

/// Removes a leftover without ever removing a real database: the file is first moved aside
/// under a name of this process, and checked again there; if another process had meanwhile
/// published a database at `path`, it is put back.
fn clear_leftover(path: &Path) -> Result<(), Retry> {
    let aside = sibling(path, &format!("leftover-{}", std::process::id()));
    match std::fs::rename(path, &aside) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(Retry::Fail(ProfileError::Io {
                action: "move aside the empty leftover",
                path: path.to_path_buf(),
                source: e,
            }))
        }
    }
    if !is_leftover(&aside) {
        let _ = std::fs::hard_link(&aside, path);
    }
    let _ = std::fs::remove_file(&aside);
    Ok(())
}

fn create(path: &Path) -> Result<Database, Retry> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            Retry::Fail(ProfileError::Io {
                action: "create the directory",
                path: dir.to_path_buf(),
                source: e,
            })
        })?;
    }
    // Built under a name of this process and published only once valid, so that an
    // interruption leaves no half-made file at `path`, and two runs creating at once never
    // see each other's half-made file: the first link wins, the other opens the winner's.
    let tmp = sibling(path, &format!("new-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let made = (|| {
        let db = guarded(path, || builder(ConcurrencyMode::SingleWriter).create(&tmp))?
            .map_err(|e| classify(path, e))?;
        prepare(path, &db)?;
        Ok::<(), ProfileError>(())
    })();
    let published = made.and_then(|()| match std::fs::hard_link(&tmp, path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(ProfileError::Io {
            action: "publish the new database at",
            path: path.to_path_buf(),
            source: e,
        }),
    });
    let _ = std::fs::remove_file(&tmp);
    remove_stale_temporaries(path);
    published.map_err(Retry::Fail)?;
    try_open_writer(path)
}

/// Removes what creates interrupted by a kill left beside `path` (`NAME.new-PID`,
/// `NAME.leftover-PID`, `NAME.check-PID`), when process PID is gone.
fn remove_stale_temporaries(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!("{}.", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&prefix) else {
            continue;
        };
        let pid = ["new-", "leftover-", "check-"]
            .iter()
            .find_map(|p| rest.strip_prefix(p))
            .and_then(|p| p.parse::<i32>().ok());
        if let Some(pid) = pid {
            if !super::alive(pid) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// Reads `path` without writing: its magic number, then a read-only open that validates the
/// header, the file length and the allocator state.
fn probe(path: &Path) -> Result<Probe, ProfileError> {
    let mut head = [0u8; 9];
    let mut f = std::fs::File::open(path).map_err(|e| ProfileError::Io {
        action: "open",
        path: path.to_path_buf(),
        source: e,
    })?;
    if f.read_exact(&mut head).is_err() || head != REDB_MAGIC {
        return Err(ProfileError::NotADatabase {
            path: path.to_path_buf(),
        });
    }
    drop(f);
    match guarded(path, || {
        builder(ConcurrencyMode::ExclusiveWriter).open_read_only(path)
    })? {
        Ok(db) => Ok(Probe::Clean(db)),
        Err(DatabaseError::DatabaseAlreadyOpen) => Ok(Probe::Held),
        Err(DatabaseError::RepairAborted) => Ok(Probe::Unclean),
        Err(e) => Err(classify(path, e)),
    }
}

/// Copies an unclean file aside and repairs the copy with a full integrity check. Only if
/// that succeeds (and the schema is one this res reads) may the original be opened for
/// writing, which repairs it the same way.
fn trial_repair(path: &Path) -> Result<(), ProfileError> {
    let copy = sibling(path, &format!("check-{}", std::process::id()));
    let result = (|| {
        let db =
            copy_and_repair(path, &copy, true, "copy for a trial repair").map_err(|e| match e {
                ProfileError::Busy { .. } => ProfileError::Corrupt {
                    path: path.to_path_buf(),
                    reason: "its copy cannot be locked".into(),
                },
                e => e,
            })?;
        check_version(path, &db)?;
        Ok(())
    })();
    let _ = std::fs::remove_file(&copy);
    result
}

/// Copies `path` to `copy` and opens the copy for writing, which makes redb repair it if a
/// writer died (with a full integrity check when `check` is set). Errors name `path`.
fn copy_and_repair(
    path: &Path,
    copy: &Path,
    check: bool,
    action: &'static str,
) -> Result<Database, ProfileError> {
    std::fs::copy(path, copy).map_err(|e| ProfileError::Io {
        action,
        path: path.to_path_buf(),
        source: e,
    })?;
    guarded(path, || {
        let mut b = builder(ConcurrencyMode::ExclusiveWriter);
        b.set_check_integrity_on_open(check);
        b.open(copy)
    })?
    .map_err(|e| classify(path, e))
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{suffix}"));
    path.with_file_name(name)
}

/// The schema version stored in the file: `None` for a database with no tables at all (a
/// fresh one). A newer version, or a redb file that is not ours, is an error.
fn check_version(path: &Path, db: &impl ReadableDatabase) -> Result<Option<u64>, ProfileError> {
    let read = || -> Result<Option<u64>, ProfileError> {
        let txn = db
            .begin_read()
            .map_err(|e| ProfileError::storage(path, e))?;
        let meta = match txn.open_table(META) {
            Ok(t) => t,
            Err(TableError::TableDoesNotExist(_)) => {
                let tables = txn
                    .list_tables()
                    .map_err(|e| ProfileError::storage(path, e))?
                    .count();
                if tables == 0 {
                    return Ok(None);
                }
                return Err(ProfileError::ForeignDatabase {
                    path: path.to_path_buf(),
                });
            }
            Err(e) => return Err(corrupt(path, e)),
        };
        let v = meta
            .get(VERSION_KEY)
            .map_err(|e| corrupt(path, e))?
            .map(|g| g.value())
            .ok_or_else(|| ProfileError::ForeignDatabase {
                path: path.to_path_buf(),
            })?;
        if v > SCHEMA_VERSION {
            return Err(ProfileError::NewerSchema {
                path: path.to_path_buf(),
                found: v,
                supported: SCHEMA_VERSION,
            });
        }
        Ok(Some(v))
    };
    guarded(path, read)?
}

/// Reads every record of a table, and parses each value as JSON when `json` is set.
fn read_all<K: redb::Key + 'static>(
    txn: &redb::ReadTransaction,
    def: redb::TableDefinition<K, &'static [u8]>,
    json: bool,
) -> Result<(), String> {
    let table = txn.open_table(def).map_err(|e| e.to_string())?;
    for e in table.iter().map_err(|e| e.to_string())? {
        let (_, v) = e.map_err(|e| e.to_string())?;
        if json {
            serde_json::from_slice::<serde_json::Value>(v.value()).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Reads every record of every table through a read-only handle, so that a file damaged
/// inside (a scrambled page, a record that does not decode) is refused before anything is
/// written to it. About as costly as reading the file once.
fn verify(path: &Path, db: &ReadOnlyDatabase) -> Result<(), ProfileError> {
    use super::schema::{
        ABORTS, EVENTS, EXPECTATIONS, FAULTS, HISTOGRAMS, PROFILE, REMEDIATIONS, SAMPLES,
    };
    let walk = || -> Result<(), String> {
        let txn = db.begin_read().map_err(|e| e.to_string())?;
        let tables: Vec<String> = txn
            .list_tables()
            .map_err(|e| e.to_string())?
            .map(|t| redb::TableHandle::name(&t).to_string())
            .collect();
        let has = |name: &str| tables.iter().any(|t| t == name);
        if has("runs") {
            read_all(&txn, RUNS, true)?;
        }
        if has("samples") {
            // Under the version 1 layout the key types differ: the migration reads those.
            if let Ok(t) = txn.open_table(SAMPLES) {
                for e in t.iter().map_err(|e| e.to_string())? {
                    let (k, v) = e.map_err(|e| e.to_string())?;
                    let (_, service, sec) = k.value();
                    super::sample_codec::decode(service, sec, v.value())?;
                }
            }
        }
        if has("histograms") {
            read_all(&txn, HISTOGRAMS, false)?;
        }
        for def in [FAULTS, EVENTS, ABORTS, REMEDIATIONS, EXPECTATIONS] {
            if has(redb::TableHandle::name(&def)) {
                read_all(&txn, def, true)?;
            }
        }
        if has("profile") {
            read_all(&txn, PROFILE, false)?;
        }
        if has("predictions") {
            read_all(&txn, super::schema::PREDICTIONS, true)?;
        }
        Ok(())
    };
    guarded(path, walk)?.map_err(|reason| corrupt(path, reason))
}

/// Brings an open database to the current schema and closes the books on dead runs, in one
/// transaction.
fn prepare(path: &Path, db: &Database) -> Result<(), ProfileError> {
    let version = check_version(path, db)?;
    let txn = db
        .begin_write()
        .map_err(|e| ProfileError::storage(path, e))?;
    match version {
        None => migrate::create_tables(&txn).map_err(|e| ProfileError::storage(path, e))?,
        Some(v) => migrate::upgrade(&txn, v).map_err(|e| ProfileError::storage(path, e))?,
    }
    mark_incomplete(&txn).map_err(|e| ProfileError::storage(path, e))?;
    txn.commit().map_err(|e| ProfileError::storage(path, e))
}

/// Every run without an outcome, found by the one writer, was left by a process that is gone.
fn mark_incomplete(txn: &redb::WriteTransaction) -> Result<(), String> {
    let mut runs = txn.open_table(RUNS).map_err(|e| e.to_string())?;
    let mut dead = Vec::new();
    for entry in runs.iter().map_err(|e| e.to_string())? {
        let (k, v) = entry.map_err(|e| e.to_string())?;
        let Ok(mut r) = serde_json::from_slice::<RunRecord>(v.value()) else {
            continue;
        };
        if r.outcome.is_none() && !r.complete {
            r.outcome = Some("incomplete".into());
            dead.push((k.value(), r));
        }
    }
    for (k, r) in dead {
        let bytes = serde_json::to_vec(&r).map_err(|e| e.to_string())?;
        runs.insert(k, bytes.as_slice())
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The pid of the process recording into `path`, read through a shared read-only open.
fn writer_pid(path: &Path) -> Option<i32> {
    let db = guarded(path, || {
        builder(ConcurrencyMode::SingleWriter).open_read_only(path)
    })
    .ok()?
    .ok()?;
    let txn = db.begin_read().ok()?;
    let runs = txn.open_table(RUNS).ok()?;
    let mut pid = None;
    for entry in runs.iter().ok()? {
        let (_, v) = entry.ok()?;
        if let Ok(r) = serde_json::from_slice::<RunRecord>(v.value()) {
            if r.outcome.is_none() {
                pid = r.writer_pid.filter(|p| super::alive(*p)).or(pid);
            }
        }
    }
    pid
}

thread_local! {
    /// Set while this thread runs a guarded redb call, whose panics become errors.
    static GUARDED: Cell<bool> = const { Cell::new(false) };
}

/// Keeps the panic hook quiet for panics that `guarded` turns into errors, and leaves every
/// other panic to the hook that was there before.
fn install_quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !GUARDED.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Runs a redb call, turning a panic (redb may panic on a corrupted file) into an error.
pub(crate) fn guarded<T>(path: &Path, f: impl FnOnce() -> T) -> Result<T, ProfileError> {
    install_quiet_hook();
    let outer = GUARDED.with(|g| g.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(outer));
    // redb's own words for a page it cannot make sense of ("internal error: entered
    // unreachable code") tell a person nothing: say what it means instead.
    result.map_err(|_| ProfileError::Corrupt {
        path: path.to_path_buf(),
        reason: "a page of it does not hold what redb expects there".into(),
    })
}

fn corrupt(path: &Path, e: impl std::fmt::Display) -> ProfileError {
    ProfileError::Corrupt {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Turns an open error into ours: "busy" for a lock held elsewhere, "corrupt" for anything
/// redb found wrong in the file.
fn classify(path: &Path, e: DatabaseError) -> ProfileError {
    match e {
        // RepairAborted here: a writer died between our probe and this open. Retrying
        // probes again and repairs.
        DatabaseError::DatabaseAlreadyOpen
        | DatabaseError::LockProtocolMismatch
        | DatabaseError::RepairAborted => ProfileError::Busy {
            path: path.to_path_buf(),
            pid: None,
        },
        DatabaseError::UpgradeRequired(v) => ProfileError::FileFormat {
            path: path.to_path_buf(),
            reason: format!("redb file format version {v}"),
        },
        DatabaseError::Storage(StorageError::Io(io))
            if io.kind() != std::io::ErrorKind::InvalidData =>
        {
            ProfileError::Io {
                action: "open",
                path: path.to_path_buf(),
                source: io,
            }
        }
        e => corrupt(path, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sibling_names() {
        assert_eq!(
            sibling(Path::new("/a/profile.redb"), "check-1"),
            Path::new("/a/profile.redb.check-1")
        );
    }
}
