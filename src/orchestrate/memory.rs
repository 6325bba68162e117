//! What the loop remembers between iterations: the slots that had their run, when the run
//! going ends, the last skip reason per scenario, the model versions and the virtual clock —
//! read from the store at start, then kept in memory and written through with each decision.

use std::collections::{HashMap, HashSet};

use super::learn::ModelMark;
use super::store::{RunMark, Store};

/// What the loop remembers between iterations (loaded from the store at start).
pub struct Mem {
    /// `SCENARIO_KEY/SLOT` of every slot that had its run.
    pub done: HashSet<String>,
    /// When the run going (or planned) ends.
    pub busy_until: i64,
    pub busy_with: String,
    /// The last skip reason recorded per scenario (or learn key): a reason is recorded once
    /// until it changes.
    pub last_skip: HashMap<String, String>,
    pub models: HashMap<String, ModelMark>,
    /// Virtual time: the clock's start and the last iteration that decided something.
    pub clock: Option<(i64, i64)>,
    /// Per scenario key: the rate its last prediction called `untested`, which its next run
    /// is scaled to reach (cleared once a run measured it).
    pub untested: HashMap<String, super::child::Untested>,
}

pub fn load_mem(store: &Store) -> Result<Mem, String> {
    let mut mem = Mem {
        done: HashSet::new(),
        busy_until: i64::MIN,
        busy_with: String::new(),
        last_skip: HashMap::new(),
        models: HashMap::new(),
        clock: None,
        untested: HashMap::new(),
    };
    if let Some((_, v)) = store.scan("clock")?.into_iter().find(|(k, _)| k == "clock") {
        mem.clock = serde_json::from_slice(&v).ok();
    }
    for (k, v) in store.scan("run/")? {
        let mut mark: RunMark = serde_json::from_slice(&v).map_err(|e| format!("{k}: {e}"))?;
        if mark.outcome.is_none() {
            // The orchestrator stopped during this run: it counts, it is not run again.
            mark.outcome = Some("interrupted".into());
            store.put(&k, &serde_json::to_vec(&mark).map_err(|e| e.to_string())?)?;
        }
        if mark.ends > mem.busy_until {
            mem.busy_until = mark.ends;
            mem.busy_with = k["run/".len()..].to_string();
        }
        mem.done.insert(k["run/".len()..].to_string());
    }
    for (k, v) in store.scan("skip/")? {
        mem.last_skip.insert(
            k["skip/".len()..].to_string(),
            String::from_utf8_lossy(&v).into_owned(),
        );
    }
    for (k, v) in store.scan("untested/")? {
        // An empty value is a want already settled by a run.
        if let Ok(u) = serde_json::from_slice(&v) {
            mem.untested.insert(k["untested/".len()..].to_string(), u);
        }
    }
    for (k, v) in store.scan("model/")? {
        if let Ok(m) = serde_json::from_slice(&v) {
            mem.models.insert(k["model/".len()..].to_string(), m);
        }
    }
    Ok(mem)
}
