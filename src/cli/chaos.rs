//! The chaos engine's hidden helpers for tests and benchmarks (`res chaos _proxy-bench`,
//! `res chaos _hold`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use clap::{Args, Subcommand, ValueEnum};

use crate::chaos::proxy::{FaultSpec, Proxy, ProxyMode, Toxic};
use crate::chaos::{ChaosEngine, ChaosLimits, Effect, FaultRequest, ProcessSpec, ResolvedTarget};
use crate::exit::Exit;
use crate::shutdown::Shutdown;
use crate::units;

/// `res chaos …`: hidden helpers.
#[derive(Debug, Args)]
pub struct ChaosArgs {
    #[command(subcommand)]
    pub action: ChaosAction,
}

#[derive(Debug, Subcommand)]
pub enum ChaosAction {
    /// Run a fault proxy until SIGTERM, for benches/bench-proxy.sh.
    #[command(name = "_proxy-bench")]
    ProxyBench(ProxyBenchArgs),
    /// Inject one fault through the engine and hold it until SIGTERM (tests of the journal).
    #[command(name = "_hold")]
    Hold(HoldArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModeArg {
    Tcp,
    Http,
}

#[derive(Debug, Args)]
pub struct ProxyBenchArgs {
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    #[arg(long)]
    pub upstream: SocketAddr,
    #[arg(long, value_enum, default_value = "tcp")]
    pub mode: ModeArg,
    /// A latency fault for the whole run, e.g. `100ms`.
    #[arg(long)]
    pub latency: Option<String>,
    /// Add and remove a (toxicity 0) fault every this many ms, timing each change.
    #[arg(long)]
    pub toggle_ms: Option<u64>,
    /// Tokio worker threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
}

#[derive(Debug, Args)]
pub struct HoldArgs {
    #[arg(long)]
    pub journal: PathBuf,
    /// Pause (SIGSTOP) the process whose pid this file holds.
    #[arg(long)]
    pub pause_pidfile: Option<PathBuf>,
    /// Fill this much disk, e.g. `4MiB` (with --disk-dir).
    #[arg(long)]
    pub disk: Option<String>,
    #[arg(long)]
    pub disk_dir: Option<String>,
    /// The fault's deadline, from now.
    #[arg(long, default_value = "60s")]
    pub deadline: String,
}

pub fn run(args: ChaosArgs) -> ExitCode {
    match args.action {
        ChaosAction::ProxyBench(a) => proxy_bench(a),
        ChaosAction::Hold(a) => hold(a),
    }
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    Exit::Tool.into()
}

fn duration(text: &str) -> Result<Duration, String> {
    units::Duration::parse(text)
        .map(crate::chaos::effect::std_duration)
        .ok_or_else(|| format!("`{text}` is not a duration such as 100ms"))
}

fn proxy_bench(args: ProxyBenchArgs) -> ExitCode {
    let runtime = match crate::runtime::multi_thread(Some(args.threads)) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let latency = match args.latency.as_deref().map(duration).transpose() {
        Ok(l) => l,
        Err(e) => return fail(e),
    };
    let mode = match args.mode {
        ModeArg::Tcp => ProxyMode::Tcp,
        ModeArg::Http => ProxyMode::Http,
    };
    runtime.block_on(async move {
        let shutdown = match Shutdown::listen() {
            Ok(s) => s,
            Err(e) => return fail(format!("cannot listen for signals: {e}")),
        };
        let proxy = match Proxy::start(args.listen, args.upstream, mode).await {
            Ok(p) => p,
            Err(e) => return fail(e),
        };
        if let Some(l) = latency {
            let spec = FaultSpec::new(
                "bench-latency",
                vec![Toxic::Latency {
                    latency: l,
                    jitter: Duration::ZERO,
                    per_chunk: true,
                }],
            );
            if let Err(e) = proxy.add_fault(spec) {
                return fail(e);
            }
        }
        println!("listening on {}", proxy.addr());
        let toggler = args.toggle_ms.map(|every| {
            let proxy = proxy.clone();
            tokio::spawn(async move {
                let mut adds = Vec::new();
                let mut removes = Vec::new();
                let mut tick = tokio::time::interval(Duration::from_millis(every.max(1)));
                loop {
                    tick.tick().await;
                    let spec = FaultSpec::new(
                        "toggle",
                        vec![Toxic::Latency {
                            latency: Duration::from_millis(1),
                            jitter: Duration::ZERO,
                            per_chunk: false,
                        }],
                    )
                    .toxicity(0.0);
                    let t = Instant::now();
                    let Ok(id) = proxy.add_fault(spec) else { break };
                    adds.push(t.elapsed());
                    tokio::time::sleep(Duration::from_millis(every.max(1) / 2)).await;
                    let t = Instant::now();
                    proxy.remove_fault(id);
                    removes.push(t.elapsed());
                    if adds.len() >= 100_000 {
                        break;
                    }
                    if STOP.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                }
                (adds, removes)
            })
        });
        shutdown.requested("").await;
        STOP.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut out = serde_json::json!({});
        if let Some(t) = toggler {
            if let Ok((adds, removes)) = t.await {
                out["add_us"] = percentiles(adds);
                out["remove_us"] = percentiles(removes);
            }
        }
        out["stats"] = serde_json::json!(proxy.stats());
        out["rss_kb"] = serde_json::json!(peak_rss_kb());
        println!("{out}");
        proxy.shutdown().await;
        ExitCode::SUCCESS
    })
}

/// p50, p99 and max of change timings, in microseconds.
fn percentiles(mut v: Vec<Duration>) -> serde_json::Value {
    if v.is_empty() {
        return serde_json::Value::Null;
    }
    v.sort();
    let at = |q: f64| v[((v.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e6;
    serde_json::json!({ "n": v.len(), "p50": at(0.5), "p99": at(0.99), "max": at(1.0) })
}

static STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// VmHWM of this process: its peak resident memory.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn hold(args: HoldArgs) -> ExitCode {
    // Listen before injecting, so that no stop signal can kill the process with the fault in
    // place.
    let runtime = match crate::runtime::current_thread() {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let shutdown = match runtime.block_on(async { Shutdown::listen() }) {
        Ok(s) => s,
        Err(e) => return fail(format!("cannot listen for signals: {e}")),
    };
    let deadline = match duration(&args.deadline) {
        Ok(d) => SystemTime::now() + d,
        Err(e) => return fail(e),
    };
    let engine = match ChaosEngine::new(&args.journal, ChaosLimits::default()) {
        Ok(e) => e,
        Err(e) => return fail(e),
    };
    let mut target = ResolvedTarget::new("hold");
    let mut effects = Vec::new();
    if let Some(pidfile) = &args.pause_pidfile {
        target = target.with_process(ProcessSpec::Pidfile(pidfile.clone()));
        effects.push(Effect::Pause { duration: None });
    }
    if let Some(size) = &args.disk {
        let Some(bytes) = units::Bytes::parse(size) else {
            return fail(format!("`{size}` is not a size such as 4MiB"));
        };
        effects.push(Effect::Disk {
            size: bytes,
            path: args.disk_dir.clone().map(PathBuf::from),
        });
    }
    let mut request = FaultRequest::new("hold", target, effects);
    request.deadline = deadline;
    if let Err(e) = engine.inject(&request) {
        return fail(e);
    }
    println!("injected");
    runtime.block_on(shutdown.requested("`res recover` reverts what is left"));
    for (id, outcome) in engine.revert_all() {
        match outcome {
            Ok(o) => println!("{id}: {o:?}"),
            Err(e) => eprintln!("{id}: {e}"),
        }
    }
    println!("reverted");
    ExitCode::SUCCESS
}
