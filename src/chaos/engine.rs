//! [`ChaosEngine`]: the one object the interpreter drives — inject, revert, revert everything,
//! and an event list for the report — with the journal and the blast-radius limits enforced
//! on every call.
//!
//! The engine is synchronous: injecting and reverting are short system calls, proxy table
//! swaps and, for Toxiproxy, a bounded HTTP call, so it can be called from a tokio task or a
//! plain thread alike (proxies themselves run on the caller's tokio runtime). A watchdog
//! thread ends `pause for D` on time and reverts any fault whose deadline passes while its
//! owner is still alive but no longer looking after it. Dropping the engine reverts
//! everything, so a panic that unwinds past the owner still leaves the system as it was.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use super::error::{ChaosError, Result};
use super::event::{ChaosEvent, EventKind};
use super::journal::{unix_ms, Journal, Record, RevertAction};
use super::netns::Netns;
use super::part::{self, Part, PlanCx};
use super::process::{procfs, ProcRef, Supervisor};
use super::request::{ActiveFaultId, ChaosLimits, FaultRequest, RevertOutcome};

/// Deadline of namespaces and started commands: they are cleaned up when the owner dies.
const RESOURCE_DEADLINE: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long commands the run started get to exit on SIGTERM at the end.
const STOP_GRACE: Duration = Duration::from_secs(5);

struct Active {
    journal_id: String,
    name: String,
    target: String,
    parts: Vec<Part>,
    deadline: SystemTime,
}

#[derive(Default)]
struct State {
    next_id: u64,
    faults: BTreeMap<u64, Active>,
    reverted: BTreeSet<u64>,
    events: Vec<ChaosEvent>,
    supervisor: Supervisor,
    namespaces: BTreeMap<String, (Netns, String)>,
    /// Commands the run started, with their journal ids.
    started: BTreeMap<String, String>,
    stopping: bool,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    journal: Journal,
    limits: ChaosLimits,
    owner: ProcRef,
    /// Makes journal ids unique across runs: `<pid>-<start ms>-<n>`.
    epoch_ms: u64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn journal_id(&self, n: u64) -> String {
        format!("{}-{}-{n}", self.owner.pid, self.epoch_ms)
    }

    fn record_inject(
        &self,
        id: &str,
        fault: &str,
        target: &str,
        effects: Vec<String>,
        reverts: Vec<RevertAction>,
        deadline: SystemTime,
    ) -> Result<()> {
        self.journal.append(&Record::Inject {
            id: id.to_string(),
            fault: fault.to_string(),
            target: target.to_string(),
            effects,
            reverts,
            owner: self.owner,
            deadline_ms: unix_ms(deadline),
            at_ms: unix_ms(SystemTime::now()),
        })
    }

    fn record_reverted(&self, id: &str, detail: &str) -> Result<()> {
        self.journal.append(&Record::Reverted {
            id: id.to_string(),
            at_ms: unix_ms(SystemTime::now()),
            by: self.owner.pid,
            detail: detail.to_string(),
        })
    }
}

/// Injects and reverts faults, journaled and within limits. See the module docs.
pub struct ChaosEngine {
    shared: Arc<Shared>,
    watchdog: Option<JoinHandle<()>>,
}

impl ChaosEngine {
    /// Opens (or creates) the journal at `journal` and starts the watchdog.
    pub fn new(journal: &Path, limits: ChaosLimits) -> Result<ChaosEngine> {
        if !(limits.max_toxicity > 0.0 && limits.max_toxicity <= 1.0) {
            return Err(ChaosError::Invalid(format!(
                "max_toxicity must be above 0% and at most 100%, got {}%",
                limits.max_toxicity * 100.0
            )));
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            journal: Journal::open(journal)?,
            limits,
            owner: procfs::me(),
            epoch_ms: unix_ms(SystemTime::now()),
        });
        let dog = shared.clone();
        let watchdog = std::thread::Builder::new()
            .name("res-chaos-watchdog".into())
            .spawn(move || watchdog(&dog))
            .map_err(|e| ChaosError::io("cannot start the chaos watchdog thread", e))?;
        Ok(ChaosEngine {
            shared,
            watchdog: Some(watchdog),
        })
    }

    pub fn journal_path(&self) -> &Path {
        self.shared.journal.path()
    }

    pub fn limits(&self) -> ChaosLimits {
        self.shared.limits
    }

    /// Injects a fault: checks the limits, resolves every part, journals how to revert it,
    /// then applies it. A part that fails undoes the parts already applied.
    pub fn inject(&self, req: &FaultRequest) -> Result<ActiveFaultId> {
        let shared = &*self.shared;
        let mut st = shared.lock();
        let result = self.inject_locked(&mut st, req);
        if let Err(e) = &result {
            st.events.push(ChaosEvent::now(
                EventKind::Failed,
                &req.name,
                &req.target.label,
                format!("inject failed: {e}"),
            ));
        }
        result
    }

    fn inject_locked(&self, st: &mut State, req: &FaultRequest) -> Result<ActiveFaultId> {
        let shared = &*self.shared;
        if st.stopping {
            return Err(ChaosError::Refused(
                "the chaos engine is shutting down".into(),
            ));
        }
        let limits = shared.limits;
        if !(0.0..=1.0).contains(&req.toxicity) {
            return Err(ChaosError::Invalid(format!(
                "toxicity must be between 0% and 100%, got {}%",
                req.toxicity * 100.0
            )));
        }
        if req.toxicity > limits.max_toxicity + 1e-9 {
            return Err(ChaosError::ToxicityTooHigh {
                asked: req.toxicity * 100.0,
                limit: limits.max_toxicity * 100.0,
            });
        }
        if st.faults.len() >= limits.max_concurrent_faults {
            return Err(ChaosError::TooManyFaults {
                active: st.faults.len(),
                limit: limits.max_concurrent_faults,
            });
        }
        st.next_id += 1;
        let n = st.next_id;
        let journal_id = shared.journal_id(n);
        let namespaces: BTreeMap<String, Netns> = st
            .namespaces
            .iter()
            .map(|(k, (ns, _))| (k.clone(), ns.clone()))
            .collect();
        let planned = part::plan(
            req,
            &mut PlanCx {
                supervisor: &mut st.supervisor,
                namespaces: &namespaces,
                tag: &format!("{}-{n}", shared.owner.pid),
            },
        )?;
        let reverts = planned.iter().flat_map(|p| p.reverts()).collect();
        let described: Vec<String> = planned.iter().map(|p| p.describe()).collect();
        shared.record_inject(
            &journal_id,
            &req.name,
            &req.target.label,
            req.effects.iter().map(|e| e.kind().to_string()).collect(),
            reverts,
            req.deadline,
        )?;
        let mut parts = Vec::with_capacity(planned.len());
        for p in planned {
            match p.apply(&mut st.supervisor) {
                Ok(part) => parts.push(part),
                Err(e) => {
                    let mut undo = Vec::new();
                    for mut part in parts.into_iter().rev() {
                        if let Err(u) = part.revert(&mut st.supervisor) {
                            undo.push(u.to_string());
                        }
                    }
                    if undo.is_empty() {
                        let _ =
                            shared.record_reverted(&journal_id, &format!("injection failed: {e}"));
                    }
                    return Err(e);
                }
            }
        }
        st.faults.insert(
            n,
            Active {
                journal_id,
                name: req.name.clone(),
                target: req.target.label.clone(),
                parts,
                deadline: req.deadline,
            },
        );
        st.events.push(ChaosEvent::now(
            EventKind::Inject,
            &req.name,
            &req.target.label,
            described.join("; "),
        ));
        shared.wake.notify_all();
        Ok(ActiveFaultId(n))
    }

    /// Reverts one fault. Idempotent: a fault reverted before gives `AlreadyReverted`.
    /// When a part cannot be reverted the fault stays active (and journaled) for another try.
    pub fn revert(&self, id: ActiveFaultId) -> Result<RevertOutcome> {
        let mut st = self.shared.lock();
        revert_locked(&self.shared, &mut st, id.0, "reverted")
    }

    /// Reverts everything still active, in reverse order of injection; used on Ctrl-C,
    /// SIGTERM, abort, panic and failed steps. Returns each fault's outcome.
    pub fn revert_all(&self) -> Vec<(ActiveFaultId, Result<RevertOutcome>)> {
        let mut st = self.shared.lock();
        let ids: Vec<u64> = st.faults.keys().rev().copied().collect();
        ids.into_iter()
            .map(|id| {
                (
                    ActiveFaultId(id),
                    revert_locked(&self.shared, &mut st, id, "reverted (revert all)"),
                )
            })
            .collect()
    }

    /// Faults in force: id, fault name, target.
    pub fn active(&self) -> Vec<(ActiveFaultId, String, String)> {
        self.shared
            .lock()
            .faults
            .iter()
            .map(|(id, a)| (ActiveFaultId(*id), a.name.clone(), a.target.clone()))
            .collect()
    }

    /// Every event so far.
    pub fn events(&self) -> Vec<ChaosEvent> {
        self.shared.lock().events.clone()
    }

    /// Events since the last call (for a live progress line).
    pub fn take_events(&self) -> Vec<ChaosEvent> {
        std::mem::take(&mut self.shared.lock().events)
    }

    /// Creates a network namespace `res-XXXX` with a veth pair (see [`super::netns`]),
    /// journaled so that a crash cannot leave it behind. Needs root.
    pub fn create_netns(&self) -> Result<Netns> {
        let shared = &*self.shared;
        let mut st = shared.lock();
        st.next_id += 1;
        let id = shared.journal_id(st.next_id);
        let name = Netns::fresh_name();
        shared.record_inject(
            &id,
            "netns",
            &name,
            vec!["netns".into()],
            vec![RevertAction::DeleteNetns { name: name.clone() }],
            SystemTime::now() + RESOURCE_DEADLINE,
        )?;
        match Netns::create(&name) {
            Ok(ns) => {
                st.events.push(ChaosEvent::now(
                    EventKind::Inject,
                    "netns",
                    &name,
                    format!(
                        "created netns {name}: host {} ↔ namespace {}",
                        ns.host_addr, ns.ns_addr
                    ),
                ));
                st.namespaces.insert(name, (ns.clone(), id));
                Ok(ns)
            }
            Err(e) => {
                let _ = shared.record_reverted(&id, &format!("creation failed: {e}"));
                Err(e)
            }
        }
    }

    /// Deletes a namespace this engine created (idempotent).
    pub fn delete_netns(&self, name: &str) -> Result<()> {
        let mut st = self.shared.lock();
        delete_netns_locked(&self.shared, &mut st, name)
    }

    /// Starts a command the scenario declares (`process command "…"`), inside `netns` if
    /// given; faults can then target it with [`super::ProcessSpec::Command`].
    pub fn start_process(&self, command: &str, netns: Option<&str>) -> Result<ProcRef> {
        let shared = &*self.shared;
        let mut st = shared.lock();
        if let Some(ns) = netns {
            if !st.namespaces.contains_key(ns) {
                return Err(ChaosError::Refused(format!(
                    "network namespace `{ns}` was not created by this run"
                )));
            }
        }
        let p = st.supervisor.start(command, netns)?;
        st.next_id += 1;
        let id = shared.journal_id(st.next_id);
        shared.record_inject(
            &id,
            "process",
            command,
            vec!["start".into()],
            vec![RevertAction::Signal {
                process: p,
                signal: "TERM".into(),
            }],
            SystemTime::now() + RESOURCE_DEADLINE,
        )?;
        st.started.insert(command.to_string(), id);
        Ok(p)
    }

    /// The live process of a command the run started.
    pub fn started_process(&self, command: &str) -> Option<ProcRef> {
        self.shared.lock().supervisor.find(command)
    }

    /// Stops every command the run started (SIGTERM, then SIGKILL after a grace).
    pub fn stop_processes(&self) {
        let shared = &*self.shared;
        let mut st = shared.lock();
        stop_processes_locked(shared, &mut st);
    }
}

fn stop_processes_locked(shared: &Shared, st: &mut State) {
    st.supervisor.stop_all(STOP_GRACE);
    for (command, id) in std::mem::take(&mut st.started) {
        let _ = shared.record_reverted(&id, &format!("stopped `{command}`"));
    }
}

fn delete_netns_locked(shared: &Shared, st: &mut State, name: &str) -> Result<()> {
    let Some((ns, id)) = st.namespaces.get(name).cloned() else {
        return Ok(());
    };
    ns.delete()?;
    st.namespaces.remove(name);
    let _ = shared.record_reverted(&id, &format!("deleted netns {name}"));
    st.events.push(ChaosEvent::now(
        EventKind::Revert,
        "netns",
        name,
        format!("deleted netns {name}"),
    ));
    Ok(())
}

fn revert_locked(shared: &Shared, st: &mut State, id: u64, why: &str) -> Result<RevertOutcome> {
    let Some(mut active) = st.faults.remove(&id) else {
        return if st.reverted.contains(&id) || id <= st.next_id && id > 0 {
            Ok(RevertOutcome::AlreadyReverted)
        } else {
            Err(ChaosError::UnknownFault(id))
        };
    };
    let mut done = Vec::new();
    let mut failed = Vec::new();
    let mut left = Vec::new();
    for mut part in active.parts.drain(..).rev() {
        match part.revert(&mut st.supervisor) {
            Ok(d) => done.push(d),
            Err(e) => {
                failed.push(e.to_string());
                left.push(part);
            }
        }
    }
    if failed.is_empty() {
        let detail = done.join("; ");
        let _ = shared.record_reverted(&active.journal_id, &format!("{why}: {detail}"));
        st.reverted.insert(id);
        st.events.push(ChaosEvent::now(
            EventKind::Revert,
            &active.name,
            &active.target,
            format!("{why}: {detail}"),
        ));
        Ok(RevertOutcome::Reverted(detail))
    } else {
        let detail = failed.join("; ");
        st.events.push(ChaosEvent::now(
            EventKind::Failed,
            &active.name,
            &active.target,
            format!("revert failed: {detail}"),
        ));
        left.reverse();
        active.parts = left;
        st.faults.insert(id, active);
        Err(ChaosError::Refused(format!(
            "could not revert everything: {detail}"
        )))
    }
}

/// Ends timed pauses and reverts overdue faults until the engine stops.
fn watchdog(shared: &Shared) {
    let mut st = shared.lock();
    loop {
        if st.stopping {
            return;
        }
        let now = Instant::now();
        let mut events = Vec::new();
        for active in st.faults.values_mut() {
            for part in &mut active.parts {
                if let Some(done) = part.resume_if_due(now) {
                    let (kind, detail) = match done {
                        Ok(d) => (EventKind::Revert, format!("pause ended: {d}")),
                        Err(e) => (EventKind::Failed, format!("pause could not end: {e}")),
                    };
                    events.push(ChaosEvent::now(kind, &active.name, &active.target, detail));
                }
            }
        }
        st.events.extend(events);
        let wall = SystemTime::now();
        let overdue: Vec<u64> = st
            .faults
            .iter()
            .filter(|(_, a)| a.deadline <= wall)
            .map(|(id, _)| *id)
            .collect();
        for id in overdue {
            let _ = revert_locked(
                shared,
                &mut st,
                id,
                "deadline passed, reverted by the watchdog",
            );
        }
        let mut wait = Duration::from_secs(1);
        for active in st.faults.values() {
            for part in &active.parts {
                if let Some(at) = part.next_timer() {
                    wait = wait.min(at.saturating_duration_since(now));
                }
            }
            if let Ok(left) = active.deadline.duration_since(wall) {
                wait = wait.min(left);
            }
        }
        st = shared
            .wake
            .wait_timeout(st, wait.max(Duration::from_millis(1)))
            .map(|(g, _)| g)
            .unwrap_or_else(|e| e.into_inner().0);
    }
}

impl Drop for ChaosEngine {
    /// Reverts every fault, stops started commands and deletes namespaces.
    fn drop(&mut self) {
        let _ = self.revert_all();
        {
            let shared = &*self.shared;
            let mut st = shared.lock();
            stop_processes_locked(shared, &mut st);
            let names: Vec<String> = st.namespaces.keys().cloned().collect();
            for name in names {
                let _ = delete_netns_locked(shared, &mut st, &name);
            }
            st.stopping = true;
        }
        self.shared.wake.notify_all();
        if let Some(dog) = self.watchdog.take() {
            let _ = dog.join();
        }
    }
}
