//! Carrying out a journaled [`RevertAction`], idempotently: a target that has gone away — an
//! exited process, a removed file, a deleted namespace or toxic — counts as reverted.

use super::error::Result;
use super::journal::RevertAction;
use super::netns;
use super::process::signal::{self, Sent};
use super::resource::disk;
use super::toxiproxy::ToxiproxyClient;
use crate::chaos::error::ChaosError;

/// Performs `action`; `Ok` says what happened, `Err` why it could not be done (then the fault
/// stays active in the journal for the next attempt).
pub fn run(action: &RevertAction) -> Result<String> {
    match action {
        RevertAction::Signal {
            process,
            signal: name,
        } => {
            let sig = signal::by_name(name).ok_or_else(|| {
                ChaosError::Invalid(format!("journal names an unknown signal `{name}`"))
            })?;
            Ok(match signal::send(*process, sig)? {
                Sent::Delivered => format!("sent SIG{name} to pid {}", process.pid),
                Sent::Gone => format!("pid {} is gone: nothing to do", process.pid),
            })
        }
        RevertAction::RemoveFile { path } => {
            let existed = path.exists();
            disk::remove_fill(path)?;
            Ok(if existed {
                format!("removed {}", path.display())
            } else {
                format!("{} was already gone", path.display())
            })
        }
        RevertAction::DeleteNetns { name } => {
            let existed = netns::exists(name);
            netns::delete(name)?;
            Ok(if existed {
                format!("deleted netns {name}")
            } else {
                format!("netns {name} was already gone")
            })
        }
        RevertAction::ClearLoss { netns: ns } => {
            netns::clear_loss(ns)?;
            Ok(format!("loss rules of netns {ns} removed"))
        }
        RevertAction::ClearShaping {
            netns: ns,
            host_if,
            ns_if,
        } => {
            netns::clear_shaping(ns, host_if, ns_if)?;
            Ok(format!("qdiscs of netns {ns} removed"))
        }
        RevertAction::ToxiproxyDelete { api, proxy, toxic } => {
            let existed = ToxiproxyClient::new(api)?.delete_toxic(proxy, toxic)?;
            Ok(if existed {
                format!("deleted toxic {toxic} of proxy {proxy}")
            } else {
                format!("toxic {toxic} of proxy {proxy} was already gone")
            })
        }
        RevertAction::InProcess { what } => Ok(format!("{what}: gone with its owner")),
        RevertAction::Nothing { why } => Ok(format!("nothing to revert ({why})")),
    }
}
