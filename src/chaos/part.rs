//! One fault request becomes parts: a proxy fault, a signal to each process, a burner, a fill
//! file, a rule in a namespace, a toxic in Toxiproxy.
//!
//! Injection happens in three steps so that the journal is always ahead of reality:
//! [`plan`] resolves everything that can fail without touching anything (processes, paths,
//! limits) into [`Planned`] parts whose [`Planned::reverts`] go into the journal; only then
//! does [`Planned::apply`] act, producing a live [`Part`] that knows how to undo itself.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde_json::Value;

use super::effect::{self, toxic_of, Effect};
use super::error::{ChaosError, Result};
use super::journal::RevertAction;
use super::netns::Netns;
use super::process::signal::{self, Sent};
use super::process::{ProcRef, ProcessSpec, Supervisor};
use super::proxy::{FaultId, FaultSpec, ProxyHandle};
use super::request::FaultRequest;
use super::resource::{human, CpuBurn, DiskFill, FdHold, MemoryHog};
use super::toxiproxy::{toxic_json, ToxiproxyClient};

/// How long a `restart with "cmd"` command may take.
const RESTART_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a restarted command gets to stop on SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// A part resolved and checked, not yet applied.
pub enum Planned {
    Proxy {
        proxy: ProxyHandle,
        spec: FaultSpec,
    },
    Toxic {
        client: ToxiproxyClient,
        proxy: String,
        name: String,
        json: Value,
    },
    Kill {
        procs: Vec<ProcRef>,
        signal: Signal,
        respawn: Option<String>,
    },
    Pause {
        procs: Vec<ProcRef>,
        duration: Option<Duration>,
    },
    RestartShell(String),
    RestartCommand(String),
    Cpu {
        cores: f64,
        load: f64,
    },
    Memory(u64),
    Disk(DiskFill),
    Fds(u64),
    Loss {
        ns: Netns,
        percent: f64,
    },
    NetBandwidth {
        ns: Netns,
        bytes_per_sec: f64,
    },
    NetLatency {
        ns: Netns,
        ms: f64,
    },
}

/// A part in force.
pub enum Part {
    Proxy {
        proxy: ProxyHandle,
        fault: FaultId,
    },
    Toxic {
        client: ToxiproxyClient,
        proxy: String,
        name: String,
    },
    Killed {
        respawn: Option<String>,
    },
    Paused {
        procs: Vec<ProcRef>,
        resume_at: Option<Instant>,
        resumed: bool,
    },
    Done(String),
    Cpu(CpuBurn),
    Memory(MemoryHog),
    Disk(DiskFill),
    Fds(FdHold),
    Loss(Netns),
    Shaping(Netns),
}

/// What planning may look up.
pub struct PlanCx<'a> {
    pub supervisor: &'a mut Supervisor,
    pub namespaces: &'a BTreeMap<String, Netns>,
    /// Unique per fault: names toxics and fill files.
    pub tag: &'a str,
}

fn wrong(effect: &Effect, target: &str, why: &str) -> ChaosError {
    ChaosError::WrongTarget {
        effect: effect.kind(),
        target: target.to_string(),
        why: why.to_string(),
    }
}

/// Resolves a request into parts, touching nothing.
pub fn plan(req: &FaultRequest, cx: &mut PlanCx<'_>) -> Result<Vec<Planned>> {
    if req.effects.is_empty() {
        return Err(ChaosError::Invalid(format!(
            "fault `{}` has no effect",
            req.name
        )));
    }
    let t = &req.target;
    let label = t.label.as_str();
    let mut parts = Vec::new();
    let mut toxics = Vec::new();
    let netns = |effect: &Effect| -> Result<Netns> {
        let name = t.netns.as_deref().ok_or_else(|| {
            wrong(
                effect,
                label,
                "network faults act inside a network namespace res creates, and this target has none",
            )
        })?;
        cx.namespaces.get(name).cloned().ok_or_else(|| {
            ChaosError::Refused(format!(
                "network namespace `{name}` was not created by this run"
            ))
        })
    };
    for effect in &req.effects {
        if let Some(toxic) = toxic_of(effect) {
            if t.toxiproxy.is_none() && t.proxy.is_none() {
                match (effect, &t.netns) {
                    (Effect::Bandwidth(b), Some(_)) => {
                        parts.push(Planned::NetBandwidth {
                            ns: netns(effect)?,
                            bytes_per_sec: b.0,
                        });
                        continue;
                    }
                    (Effect::Latency { latency, .. }, Some(_)) => {
                        parts.push(Planned::NetLatency {
                            ns: netns(effect)?,
                            ms: latency.ms(),
                        });
                        continue;
                    }
                    _ => {
                        return Err(wrong(
                            effect,
                            label,
                            "no fault proxy is in its path (declare `upstream \"host:port\"` on the service, or reach it through its system's base URL)",
                        ))
                    }
                }
            }
            toxics.push(toxic);
            continue;
        }
        match effect {
            Effect::Kill { .. } | Effect::Pause { .. } | Effect::Restart { .. } => {
                let spec = t.process.as_ref().ok_or_else(|| {
                    wrong(
                        effect,
                        label,
                        "the service declares no `process` (pidfile, name or command)",
                    )
                })?;
                parts.push(plan_process(effect, spec, cx.supervisor, label)?);
            }
            Effect::Cpu { cores, load } => parts.push(Planned::Cpu {
                cores: *cores,
                load: *load,
            }),
            Effect::Memory(b) => parts.push(Planned::Memory(b.0.max(0.0) as u64)),
            Effect::Disk { size, path } => {
                let dir = path.clone().unwrap_or_else(std::env::temp_dir);
                parts.push(Planned::Disk(DiskFill::plan(
                    &dir,
                    size.0.max(0.0) as u64,
                    cx.tag,
                )?));
            }
            Effect::Fds(n) => parts.push(Planned::Fds(*n)),
            Effect::Loss(f) => parts.push(Planned::Loss {
                ns: netns(effect)?,
                percent: f * 100.0,
            }),
            _ => {}
        }
    }
    if !toxics.is_empty() {
        if let Some(tp) = &t.toxiproxy {
            if !req.matchers.is_empty() {
                return Err(ChaosError::Invalid(
                    "Toxiproxy cannot match requests by method, path or header; drop `via toxiproxy` to use res's HTTP proxy".into(),
                ));
            }
            let client = ToxiproxyClient::new(&tp.api)?;
            for (i, toxic) in toxics.iter().enumerate() {
                let name = format!("res-{}-{i}", cx.tag);
                let json = toxic_json(toxic, &name, req.toxicity)?;
                parts.push(Planned::Toxic {
                    client: client.clone(),
                    proxy: tp.proxy.clone(),
                    name,
                    json,
                });
            }
        } else if let Some(pt) = &t.proxy {
            let spec = FaultSpec {
                name: req.name.clone(),
                toxics,
                toxicity: req.toxicity,
                matchers: req.matchers.clone(),
                routes: pt.routes.clone(),
            };
            spec.validate(pt.proxy.mode())?;
            parts.insert(
                0,
                Planned::Proxy {
                    proxy: pt.proxy.clone(),
                    spec,
                },
            );
        }
    }
    Ok(parts)
}

fn plan_process(
    effect: &Effect,
    spec: &ProcessSpec,
    supervisor: &mut Supervisor,
    label: &str,
) -> Result<Planned> {
    let respawn = match spec {
        ProcessSpec::Command(c) => Some(c.clone()),
        _ => None,
    };
    Ok(match effect {
        Effect::Kill { signal } => Planned::Kill {
            procs: spec.resolve(supervisor)?,
            signal: match signal {
                effect::Signal::Kill => Signal::SIGKILL,
                effect::Signal::Term => Signal::SIGTERM,
                effect::Signal::Int => Signal::SIGINT,
                effect::Signal::Hup => Signal::SIGHUP,
            },
            respawn,
        },
        Effect::Pause { duration } => Planned::Pause {
            procs: spec.resolve(supervisor)?,
            duration: duration.map(effect::std_duration),
        },
        Effect::Restart { command: Some(c) } => Planned::RestartShell(c.clone()),
        Effect::Restart { command: None } => match respawn {
            Some(c) => {
                spec.resolve(supervisor)?;
                Planned::RestartCommand(c)
            }
            None => {
                return Err(wrong(
                    effect,
                    label,
                    &format!("res did not start {spec}, so it cannot start it again; write `restart with \"command\"`"),
                ))
            }
        },
        _ => return Err(ChaosError::Invalid(format!("`{}` is not a process effect", effect.kind()))),
    })
}

fn pids(procs: &[ProcRef]) -> String {
    procs
        .iter()
        .map(|p| p.pid.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Planned {
    /// How to undo this part, for the journal, written before [`Planned::apply`].
    pub fn reverts(&self) -> Vec<RevertAction> {
        let in_process = |what: String| vec![RevertAction::InProcess { what }];
        match self {
            Planned::Proxy { proxy, .. } => in_process(format!("proxy fault on {}", proxy.addr())),
            Planned::Toxic {
                client,
                proxy,
                name,
                ..
            } => vec![RevertAction::ToxiproxyDelete {
                api: client.api().to_string(),
                proxy: proxy.clone(),
                toxic: name.clone(),
            }],
            Planned::Kill { .. } => vec![RevertAction::Nothing {
                why: "a kill cannot be undone".into(),
            }],
            Planned::Pause { procs, .. } => procs
                .iter()
                .map(|p| RevertAction::Signal {
                    process: *p,
                    signal: "CONT".into(),
                })
                .collect(),
            Planned::RestartShell(_) | Planned::RestartCommand(_) => vec![RevertAction::Nothing {
                why: "a restart cannot be undone".into(),
            }],
            Planned::Cpu { .. } => in_process("cpu burn".into()),
            Planned::Memory(_) => in_process("memory hog".into()),
            Planned::Fds(_) => in_process("held file descriptors".into()),
            Planned::Disk(fill) => vec![RevertAction::RemoveFile {
                path: fill.path.clone(),
            }],
            Planned::Loss { ns, .. } => vec![RevertAction::ClearLoss {
                netns: ns.name.clone(),
            }],
            Planned::NetBandwidth { ns, .. } | Planned::NetLatency { ns, .. } => {
                vec![RevertAction::ClearShaping {
                    netns: ns.name.clone(),
                    host_if: ns.host_if.clone(),
                    ns_if: ns.ns_if.clone(),
                }]
            }
        }
    }

    /// For events: what this part does.
    pub fn describe(&self) -> String {
        match self {
            Planned::Proxy { proxy, spec } => format!(
                "{} on {:?} proxy {}{}",
                spec.toxics
                    .iter()
                    .map(|t| t.kind())
                    .collect::<Vec<_>>()
                    .join(", "),
                proxy.mode(),
                proxy.addr(),
                if spec.toxicity < 1.0 {
                    format!(" (toxicity {:.0}%)", spec.toxicity * 100.0)
                } else {
                    String::new()
                }
            ),
            Planned::Toxic { proxy, json, .. } => format!(
                "toxiproxy {} toxic on proxy {proxy}",
                json["type"].as_str().unwrap_or("?")
            ),
            Planned::Kill { procs, signal, .. } => {
                format!("SIG{} to pid {}", signal::name(*signal), pids(procs))
            }
            Planned::Pause { procs, duration } => format!(
                "SIGSTOP pid {}{}",
                pids(procs),
                duration.map_or(String::new(), |d| format!(" for {d:?}"))
            ),
            Planned::RestartShell(c) => format!("restart with `{c}`"),
            Planned::RestartCommand(c) => format!("restart `{c}`"),
            Planned::Cpu { cores, load } => format!("cpu {cores} cores at {:.0}%", load * 100.0),
            Planned::Memory(b) => format!("memory {}", human(*b)),
            Planned::Disk(fill) => format!("disk {} in {}", human(fill.bytes), fill.path.display()),
            Planned::Fds(n) => format!("{n} file descriptors"),
            Planned::Loss { ns, percent } => format!("loss {percent}% in netns {}", ns.name),
            Planned::NetBandwidth { ns, bytes_per_sec } => format!(
                "bandwidth {}/s on netns {}",
                human(*bytes_per_sec as u64),
                ns.name
            ),
            Planned::NetLatency { ns, ms } => format!("latency {ms} ms on netns {}", ns.name),
        }
    }

    pub fn apply(self, supervisor: &mut Supervisor) -> Result<Part> {
        Ok(match self {
            Planned::Proxy { proxy, spec } => {
                let fault = proxy.add_fault(spec)?;
                Part::Proxy { proxy, fault }
            }
            Planned::Toxic {
                client,
                proxy,
                name,
                json,
            } => {
                client.add_toxic(&proxy, &json)?;
                Part::Toxic {
                    client,
                    proxy,
                    name,
                }
            }
            Planned::Kill {
                procs,
                signal: sig,
                respawn,
            } => {
                let mut delivered = 0;
                for p in &procs {
                    if signal::send(*p, sig)? == Sent::Delivered {
                        delivered += 1;
                    }
                }
                if delivered == 0 {
                    return Err(ChaosError::ProcessNotFound(format!(
                        "pid {} exited before the kill",
                        pids(&procs)
                    )));
                }
                Part::Killed { respawn }
            }
            Planned::Pause { procs, duration } => {
                for (i, p) in procs.iter().enumerate() {
                    if let Err(e) = signal::send(*p, Signal::SIGSTOP) {
                        for q in &procs[..i] {
                            let _ = signal::send(*q, Signal::SIGCONT);
                        }
                        return Err(e);
                    }
                }
                Part::Paused {
                    procs,
                    resume_at: duration.map(|d| Instant::now() + d),
                    resumed: false,
                }
            }
            Planned::RestartShell(c) => {
                run_restart(&c)?;
                Part::Done(format!("restarted with `{c}`"))
            }
            Planned::RestartCommand(c) => {
                let p = supervisor.restart(&c, STOP_GRACE)?;
                Part::Done(format!("restarted `{c}` as pid {}", p.pid))
            }
            Planned::Cpu { cores, load } => Part::Cpu(CpuBurn::start(cores, load)?),
            Planned::Memory(b) => Part::Memory(MemoryHog::start(b)?),
            Planned::Disk(fill) => {
                fill.fill()?;
                Part::Disk(fill)
            }
            Planned::Fds(n) => Part::Fds(FdHold::start(n)?),
            Planned::Loss { ns, percent } => {
                ns.set_loss(percent)?;
                Part::Loss(ns)
            }
            Planned::NetBandwidth { ns, bytes_per_sec } => {
                ns.set_bandwidth(bytes_per_sec)?;
                Part::Shaping(ns)
            }
            Planned::NetLatency { ns, ms } => {
                ns.set_latency(ms)?;
                Part::Shaping(ns)
            }
        })
    }
}

fn run_restart(command: &str) -> Result<()> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .spawn()
        .map_err(|e| ChaosError::io(format!("cannot run `{command}`"), e))?;
    let deadline = Instant::now() + RESTART_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => {
                return Err(ChaosError::Tool(format!(
                    "restart command `{command}` failed ({status})"
                )))
            }
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ChaosError::Tool(format!(
                    "restart command `{command}` did not finish within {RESTART_TIMEOUT:?}"
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(ChaosError::io(format!("waiting for `{command}`"), e)),
        }
    }
}

impl Part {
    /// Resumes a paused process at the end of `pause for D`; `Some(detail)` when it did.
    pub fn resume_if_due(&mut self, now: Instant) -> Option<Result<String>> {
        if let Part::Paused {
            procs,
            resume_at: Some(at),
            resumed,
        } = self
        {
            if !*resumed && *at <= now {
                *resumed = true;
                return Some(cont(procs));
            }
        }
        None
    }

    /// When [`Part::resume_if_due`] next has work.
    pub fn next_timer(&self) -> Option<Instant> {
        match self {
            Part::Paused {
                resume_at: Some(at),
                resumed: false,
                ..
            } => Some(*at),
            _ => None,
        }
    }

    /// Undoes the part; idempotent, and a target that has gone away counts as reverted.
    pub fn revert(&mut self, supervisor: &mut Supervisor) -> Result<String> {
        match self {
            Part::Proxy { proxy, fault } => Ok(if proxy.remove_fault(*fault) {
                format!("removed from proxy {}", proxy.addr())
            } else {
                format!("already gone from proxy {}", proxy.addr())
            }),
            Part::Toxic {
                client,
                proxy,
                name,
            } => Ok(if client.delete_toxic(proxy, name)? {
                format!("deleted toxic {name} of proxy {proxy}")
            } else {
                format!("toxic {name} of proxy {proxy} was already gone")
            }),
            Part::Killed { respawn: None } => Ok("a kill cannot be undone".into()),
            Part::Killed {
                respawn: Some(command),
            } => match supervisor.find(command) {
                Some(p) => Ok(format!("`{command}` is running (pid {})", p.pid)),
                None => {
                    let p = supervisor.restart(command, STOP_GRACE)?;
                    Ok(format!("started `{command}` again as pid {}", p.pid))
                }
            },
            Part::Paused { procs, resumed, .. } => {
                if *resumed {
                    return Ok("already resumed".into());
                }
                let done = cont(procs)?;
                *resumed = true;
                Ok(done)
            }
            Part::Done(what) => Ok(format!("{what}: nothing to revert")),
            Part::Cpu(burn) => {
                burn.stop();
                Ok("cpu burn stopped".into())
            }
            Part::Memory(hog) => {
                let n = hog.bytes();
                hog.release();
                Ok(format!("released {}", human(n as u64)))
            }
            Part::Disk(fill) => {
                fill.remove()?;
                Ok(format!("removed {}", fill.path.display()))
            }
            Part::Fds(hold) => {
                let n = hold.held();
                hold.release();
                Ok(format!("closed {n} file descriptors"))
            }
            Part::Loss(ns) => {
                ns.clear_loss()?;
                Ok(format!("loss rules removed from netns {}", ns.name))
            }
            Part::Shaping(ns) => {
                ns.clear_shaping()?;
                Ok(format!("qdiscs removed from netns {}", ns.name))
            }
        }
    }
}

fn cont(procs: &[ProcRef]) -> Result<String> {
    let mut out = Vec::new();
    for p in procs {
        match signal::send(*p, Signal::SIGCONT)? {
            Sent::Delivered => out.push(format!("SIGCONT pid {}", p.pid)),
            Sent::Gone => out.push(format!("pid {} is gone", p.pid)),
        }
    }
    Ok(out.join(", "))
}
