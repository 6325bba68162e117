//! Run: the interpreter. Walks a plan on a clock, drives the load generator against the
//! scenario's system, evaluates abort conditions every second and expectations at the end,
//! and always shuts down in order — stop load, revert what the run changed, write the report.
//!
//! [`run_path`] is what `res run` calls: check, plan, set up, execute, report, exit code.

pub mod build;
pub mod chaos;
pub mod clock;
pub mod interp;
pub mod metrics;
pub mod progress;
pub mod setup;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::check::{self, Options};
use crate::diagnostic::{render_all, RenderOptions};
use crate::plan::{self, NodeKind};
use crate::report::{Outcome, RunReport};

pub use interp::StopReason;

/// Exit code for an invalid scenario (check or plan errors, or setup that cannot work).
pub const EXIT_INVALID: u8 = 2;
/// Exit code when the tool itself failed.
pub const EXIT_TOOL: u8 = 4;

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub scenario: Option<String>,
    /// Seeds every random choice; recorded in the report.
    pub seed: Option<u64>,
    pub dry_run: bool,
    pub report_json: Option<PathBuf>,
    pub report_junit: Option<PathBuf>,
    pub overrides: Vec<(String, String)>,
    /// No progress line.
    pub quiet: bool,
    /// Do not record the run in the profile database.
    pub no_record: bool,
    /// The profile database (default: `.res/profile.redb` beside the scenario, or res.toml).
    pub profile_db: Option<PathBuf>,
}

/// Checks, plans and runs a scenario file; returns the process exit code.
pub fn run_path(path: &Path, opts: &RunOptions, render: RenderOptions) -> u8 {
    let checked = check::check_path_with(
        path,
        &Options {
            overrides: opts.overrides.clone(),
        },
    );
    if !checked.diagnostics.is_empty() {
        eprint!(
            "{}",
            render_all(&checked.diagnostics, &checked.sources, render)
        );
    }
    let Some(model) = &checked.model else {
        return EXIT_INVALID;
    };
    let plan = match plan::plan_checked(&checked, opts.scenario.as_deref()) {
        Ok(p) => p,
        Err(d) => {
            eprint!("{}", render_all(&d, &checked.sources, render));
            return EXIT_INVALID;
        }
    };
    let Some(scenario) = model.scenario(&plan.scenario) else {
        return EXIT_TOOL;
    };
    let seed = opts.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64 & 0xffff_ffff)
            .unwrap_or(1)
    });
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut setup = match setup::resolve_static(model, scenario, &base_dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_INVALID;
        }
    };
    if let Err(e) = setup::learn_peaks(model, scenario, &base_dir, &mut setup) {
        eprintln!("error: {e}");
        return EXIT_INVALID;
    }
    let unsupported = crate::chaos::support::unsupported_in_run(model, scenario);
    if !unsupported.is_empty() {
        unsupported.iter().for_each(|why| eprintln!("error: {why}"));
        return EXIT_INVALID;
    }
    if opts.dry_run {
        print!("{}", dry_run(model, &plan, &setup, seed));
        return 0;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return EXIT_TOOL;
        }
    };
    let file = path.to_string_lossy().to_string();
    // The profile database: opened (and validated) before anything is sent.
    let recorder = if opts.no_record {
        None
    } else {
        let db = crate::profile::resolve_db_path(path, opts.profile_db.as_deref());
        if let Some(dir) = db.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let recorder = match crate::profile::Recorder::open(&db) {
            Ok(r) => r,
            Err(e) => {
                eprintln!(
                    "error: cannot record into the profile database {}: {e}",
                    db.display()
                );
                eprintln!("help: fix or move the file, choose another with --profile-db PATH, or run with --no-record");
                return EXIT_TOOL;
            }
        };
        let source = std::fs::read_to_string(path).unwrap_or_default();
        let started = crate::units::Timestamp(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
        );
        let meta =
            crate::profile::RunMeta::new(path, &source, &scenario.name, seed, started.to_rfc3339());
        match recorder.begin_run(meta) {
            Ok(id) => Some((recorder, id)),
            Err(e) => {
                eprintln!(
                    "error: cannot record into the profile database {}: {e}",
                    db.display()
                );
                return EXIT_TOOL;
            }
        }
    };
    let report = runtime.block_on(async {
        setup::start_targets(model, &mut setup, seed).await?;
        setup::start_chaos(model, scenario, &base_dir, &mut setup).await?;
        let (stop_tx, stop_rx) = watch::channel(None);
        tokio::spawn(watch_signals(stop_tx));
        let running = Arc::new(Mutex::new(interp::Running::default()));
        let cx = interp::RunContext {
            model,
            scenario,
            plan: &plan,
            file: file.clone(),
            seed,
            setup,
            clock: Arc::new(clock::RealClock::start()),
            stop: stop_rx,
            progress: progress::Progress::auto(plan.total, opts.quiet),
            recorder,
        };
        let report = interp::execute(cx, running).await;
        Ok::<RunReport, String>(report)
    });
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_INVALID;
        }
    };
    finish_report(&report, opts)
}

fn finish_report(report: &RunReport, opts: &RunOptions) -> u8 {
    print!("{}", crate::report::to_summary(report));
    let mut code = report.outcome.exit_code();
    if let Some(p) = &opts.report_json {
        if let Err(e) = std::fs::write(p, report.to_json()) {
            eprintln!("error: cannot write the report to {}: {e}", p.display());
            code = code.max(EXIT_TOOL);
        }
    }
    if let Some(p) = &opts.report_junit {
        if let Err(e) = std::fs::write(p, crate::report::to_junit(report)) {
            eprintln!(
                "error: cannot write the JUnit report to {}: {e}",
                p.display()
            );
            code = code.max(EXIT_TOOL);
        }
    }
    if report.outcome != Outcome::Pass {
        eprintln!(
            "run ended: {:?}{}",
            report.outcome,
            report
                .reason
                .as_ref()
                .map(|r| format!(" — {r}"))
                .unwrap_or_default()
        );
    }
    code
}

/// Ctrl-C and SIGTERM become a stop request; a second signal is left to the default action.
async fn watch_signals(tx: watch::Sender<Option<StopReason>>) {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            let _ = tx.send(Some(StopReason::Signal("interrupted (SIGINT)".into())));
            return;
        }
    };
    let reason = tokio::select! {
        _ = tokio::signal::ctrl_c() => "interrupted (SIGINT)",
        _ = term.recv() => "terminated (SIGTERM)",
    };
    let _ = tx.send(Some(StopReason::Signal(reason.into())));
}

/// "open model, poisson, 0/s → 520/s over 10s, then 520/s for 20s; mix shop.catalog 60%, …".
fn describe_load(spec: &crate::load::LoadSpec, share: f64) -> String {
    use crate::load::Workload;
    let stages = |schedule: &crate::load::RateSchedule| -> Vec<String> {
        schedule
            .stages
            .iter()
            .map(|s| {
                if s.from == s.to {
                    format!("{:.1}/s for {}", s.from.0 * share, s.over)
                } else {
                    format!(
                        "{:.1}/s → {:.1}/s over {}",
                        s.from.0 * share,
                        s.to.0 * share,
                        s.over
                    )
                }
            })
            .collect()
    };
    let model = match &spec.workload {
        Workload::Open {
            schedule, arrival, ..
        }
        | Workload::Sessions {
            schedule, arrival, ..
        } => {
            let stages = stages(schedule);
            let kind = if matches!(spec.workload, Workload::Sessions { .. }) {
                "session arrivals"
            } else {
                "open model"
            };
            format!("{kind}, {arrival:?}, {}", stages.join(", then "))
        }
        Workload::Closed { users, think } => {
            format!("closed model, {users} users, think {think:?}")
        }
        Workload::Chain {
            schedule, chain, ..
        } => format!(
            "learned sessions walking a {}-state chain, requests {}",
            chain.states.len(),
            stages(schedule).join(", then ")
        ),
    };
    let total: f64 = spec.requests.iter().map(|r| r.weight).sum();
    let mut mix: Vec<String> = Vec::new();
    for r in &spec.requests {
        mix.push(format!(
            "{} {} {:.0}%",
            r.method,
            r.path,
            r.weight / total * 100.0
        ));
    }
    format!("{model}; mix {}", mix.join(", "))
}

/// What a run would do, in order; touches nothing.
fn dry_run(model: &check::Model, plan: &plan::Plan, setup: &setup::Setup, seed: u64) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "dry run of scenario {} (seed {seed}): nothing is sent, nothing is changed",
        plan.scenario
    );
    for (sys, url) in &setup.targets {
        let _ = writeln!(out, "  system {} → {url}", model.systems[*sys].name);
    }
    for note in &setup.notes {
        let _ = writeln!(out, "  {note}");
    }
    for n in plan.timeline() {
        let node = &plan.graph[n];
        let _ = write!(out, "  +{:<8} {}", node.at.to_string(), node.label);
        if let (NodeKind::StartLoad { traffic, share }, Some(i)) = (&node.kind, node.step) {
            let t = &plan.steps[i];
            let target = build::Target {
                base_url: "http://127.0.0.1".into(),
            };
            let length = crate::units::Duration(t.end.0 - t.start.0);
            match build::load_spec(
                model,
                *traffic,
                &target,
                length,
                seed,
                &setup.peaks,
                &setup.feeders,
                setup.learned.get(traffic).map(|l| &**l),
            ) {
                Ok(spec) => {
                    let _ = write!(out, " — {}", describe_load(&spec, *share));
                }
                Err(e) => {
                    let _ = write!(out, " — cannot be built: {e}");
                }
            }
        }
        out.push('\n');
    }
    for note in &plan.notes {
        let _ = writeln!(out, "  note: {note}");
    }
    out
}
