//! Run: the interpreter. Walks a plan on a clock, drives the load generator against the
//! scenario's system, evaluates abort conditions every second and expectations at the end,
//! and always shuts down in order — stop load, revert what the run changed, write the report.
//!
//! [`run_path`] is what `res run` calls: check, plan, set up, execute, report, exit code.

pub mod build;
pub mod chaos;
pub mod chaos_input;
pub mod clock;
pub mod interp;
pub mod learn_input;
pub mod load_scale;
pub mod log_outcome;
pub mod merge;
pub mod merge_report;
pub mod metrics;
pub mod predict_input;
mod predicted;
pub mod progress;
mod remedies;
pub mod replay;
pub mod setup;
pub mod shard;
pub mod verdict;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::check::{self, Options};
use crate::diagnostic::{render_all, RenderOptions};
use crate::plan::{self, NodeKind};
use crate::report::{Outcome, RunReport};

pub use interp::StopReason;

/// Exit code for an invalid scenario (check or plan errors, or setup that cannot work).
pub const EXIT_INVALID: u8 = crate::exit::Exit::Invalid.code();
/// Exit code when the tool itself failed.
pub const EXIT_TOOL: u8 = crate::exit::Exit::Tool.code();

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub scenario: Option<String>,
    /// Seeds every random choice; recorded in the report.
    pub seed: Option<u64>,
    pub dry_run: bool,
    pub report_json: Option<PathBuf>,
    pub report_junit: Option<PathBuf>,
    /// `--report html=FILE`: the self-contained HTML page with charts.
    pub report_html: Option<PathBuf>,
    /// `--report md=FILE`: Markdown for a pull request (also appended to
    /// `$GITHUB_STEP_SUMMARY` when that is set).
    pub report_md: Option<PathBuf>,
    pub overrides: Vec<(String, String)>,
    /// No progress line.
    pub quiet: bool,
    /// Do not record the run in the profile database.
    pub no_record: bool,
    /// The profile database (default: the state folder's, see [`crate::state`]).
    pub profile_db: Option<PathBuf>,
    /// The project's state folder (profile database, fault journal); discovered from the
    /// current directory when `None`.
    pub state: Option<crate::state::State>,
    /// What time it is when the run starts (`--now`); the system clock when `None`. Decides
    /// where in the week a learned replay starts, so a fixed `now` and seed give the same
    /// schedule.
    pub now: Option<crate::units::Timestamp>,
    /// A load step more than 10 % short of its planned rate does not fail the run.
    pub allow_short: bool,
    /// `--remediate advise|act`: None leaves the default (advise under CI=true and for
    /// predicted triggers, act for measured ones, unless the remedy says).
    pub remediate: Option<crate::remedy::Mode>,
    /// `--allow-exec`: remedies may run local commands.
    pub allow_exec: bool,
    /// `--ignore-window`: run even when the scenario's windows are closed and its events past.
    pub ignore_window: bool,
    /// `--shard I/N`: send shard I's share of every load ([`shard`]).
    pub shard: Option<crate::load::shard::Shard>,
    /// `--load-scale X|SERVICE=RATE`: every load at a multiple of its plan ([`load_scale`]).
    pub load_scale: Option<load_scale::LoadScale>,
    /// `--coordinator K` (1-based): the shard that injects faults and runs remedies.
    pub coordinator: Option<u32>,
    /// `--start-at`: wait until then, so every shard starts together.
    pub start_at: Option<crate::units::Timestamp>,
    /// `--sync DIR`: a start barrier in a folder every shard shares.
    pub sync: Option<PathBuf>,
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
    let seed = opts.seed.unwrap_or_else(clock::fresh_seed);
    let mut role = match shard_role(path, opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_INVALID;
        }
    };
    let wall_start = opts.now.or(opts.start_at).unwrap_or_else(clock::system_now);
    let allowance = crate::schedule::allowance(model, scenario, wall_start.0);
    if !allowance.allowed && !opts.ignore_window {
        eprintln!(
            "error: {}",
            crate::schedule::describe_refusal(model, scenario, &allowance, wall_start.0)
        );
        eprintln!("help: run it then (or pass --now TIMESTAMP inside a window), or pass --ignore-window to run it anyway");
        return EXIT_INVALID;
    }
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut setup = match setup::resolve_static(model, scenario, &base_dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_INVALID;
        }
    };
    if allowance.restricted {
        setup.notes.push(if allowance.allowed {
            format!("may run now: {}", allowance.because)
        } else {
            format!(
                "runs outside its windows (--ignore-window): {}",
                crate::schedule::describe_refusal(model, scenario, &allowance, wall_start.0)
            )
        });
    }
    if let Err(e) = setup::learn_peaks(model, scenario, &base_dir, wall_start, &mut setup) {
        eprintln!("error: {e}");
        return EXIT_INVALID;
    }
    let unsupported = chaos_input::unsupported_in_run(model, scenario);
    if !unsupported.is_empty() {
        unsupported.iter().for_each(|why| eprintln!("error: {why}"));
        return EXIT_INVALID;
    }
    match &opts.load_scale {
        None => {}
        Some(load_scale::LoadScale::Factor(x)) => {
            setup.load_scale = Some(*x);
            setup
                .notes
                .push(format!("every load at {x}× its plan (--load-scale)"));
        }
        Some(load_scale::LoadScale::Reach { service, rate }) => {
            let busiest = planned_service_peak(model, &plan, &setup, seed, wall_start, service);
            let Some(busiest) = busiest else {
                eprintln!(
                    "error: --load-scale {service}={rate}/s: no load step of scenario {} sends requests to {service} at a rate",
                    plan.scenario
                );
                return EXIT_INVALID;
            };
            let x = rate / busiest;
            if !(x > 0.0 && x <= load_scale::MAX) {
                eprintln!(
                    "error: --load-scale {service}={rate}/s needs {x:.3}× the plan ({busiest:.1}/s planned): above {}×",
                    load_scale::MAX
                );
                return EXIT_INVALID;
            }
            setup.load_scale = Some(x);
            setup.notes.push(format!(
                "every load at {x:.3}× its plan (--load-scale): the busiest step sends {service} {rate}/s at its peak, planned {busiest:.1}/s"
            ));
        }
    }
    if opts.dry_run {
        if let Some(s) = opts.shard {
            println!("shard {s}: sends 1/{} of each load below", s.count());
        }
        print!("{}", dry_run(model, &plan, &setup, seed, wall_start));
        return 0;
    }
    let runtime = match crate::runtime::multi_thread(None) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_TOOL;
        }
    };
    let file = path.to_string_lossy().to_string();
    let state = match opts
        .state
        .clone()
        .map(Ok)
        .unwrap_or_else(crate::state::State::discover)
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_TOOL;
        }
    };
    // The profile database: opened (and validated) before anything is sent.
    let mut recorded = None;
    let mut prior_history = crate::predict::history::History::default();
    let recorder = if opts.no_record || role.is_some() {
        setup.record_note = if role.is_some() {
            "not recorded: a shard's run is recorded once, by `res merge`".into()
        } else {
            "not recorded (--no-record)".into()
        };
        None
    } else {
        let db = match state.profile_db(opts.profile_db.as_deref()) {
            Ok(db) => db,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_INVALID;
            }
        };
        if let Some(dir) = db.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if !scenario.remediate.is_empty() && db.exists() {
            // A crashed run's verifications: their actions stay, marked unverified.
            if let Ok(marked) = crate::remedy::Audit::new(&db).mark_unverified() {
                for r in marked {
                    eprintln!(
                        "note: remedy decision {} ({}) of an earlier run was left in verification: `{}` stays in place, marked unverified",
                        r.id, r.remedy, r.action
                    );
                }
            }
        }
        // Read before the recorder opens the file: it keeps it locked while the run records.
        // Predicted triggers evaluate on it, and `saturation()` measures against the capacities
        // fitted from it (stored load levels: cheap to read).
        prior_history = predicted::prior_history(&db);
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
        let meta = crate::profile::RunMeta::new(
            path,
            &source,
            &scenario.name,
            seed,
            wall_start.to_rfc3339(),
        );
        match recorder.begin_run(meta) {
            Ok(id) => {
                let shown = std::env::current_dir()
                    .map(|cwd| crate::state::State::show(&db, &cwd))
                    .unwrap_or_else(|_| db.display().to_string());
                let at = format!("run {id} in {shown}");
                setup.record_note = format!("recorded as {at}");
                setup.recorded = Some(at);
                recorded = Some((id, db));
                Some((recorder, id))
            }
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
        // Listen first: from here on every stop signal reaches the orderly shutdown.
        let shutdown = crate::shutdown::Shutdown::listen()
            .map_err(|e| format!("cannot listen for signals: {e}"))?;
        let (stop_tx, stop_rx) = watch::channel(None);
        tokio::spawn(watch_signals(shutdown, stop_tx));
        setup::start_targets(model, &mut setup, seed).await?;
        if role.as_ref().is_none_or(|r| r.is_coordinator()) {
            setup::start_chaos(model, scenario, state.dir(), &mut setup).await?;
        }
        if let Some(role) = &mut role {
            let mut stop = stop_rx.clone();
            if !shard::wait_for_start(role, &mut stop).await? {
                return Ok(None);
            }
        }
        let running = Arc::new(Mutex::new(interp::Running::default()));
        let cx = interp::RunContext {
            model,
            scenario,
            plan: &plan,
            file: file.clone(),
            seed,
            setup,
            clock: Arc::new(clock::RealClock::start(wall_start)),
            stop: stop_rx,
            progress: progress::Progress::auto(plan.total, opts.quiet),
            recorder,
            allow_short: opts.allow_short,
            remediate: opts.remediate,
            allow_exec: opts.allow_exec,
            history: Arc::new(prior_history),
            shard: role.clone(),
        };
        let report = interp::execute(cx, running).await;
        Ok::<Option<RunReport>, String>(Some(report))
    });
    let report = match report {
        Ok(Some(r)) => r,
        Ok(None) => {
            eprintln!("error: stopped before the common start");
            return crate::exit::Exit::Aborted.code();
        }
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_INVALID;
        }
    };
    let plan_rows = crate::report::PlanRow::from_plan(&plan);
    finish_report(&report, opts, recorded, &plan_rows)
}

/// The shard this run is, from `--shard`, `--coordinator`, `--start-at` and `--sync`.
fn shard_role(path: &Path, opts: &RunOptions) -> Result<Option<shard::ShardRole>, String> {
    let Some(s) = opts.shard else {
        if opts.coordinator.is_some() || opts.sync.is_some() {
            return Err("--coordinator and --sync go with --shard I/N".into());
        }
        return Ok(None);
    };
    let coordinator = opts.coordinator.unwrap_or(1);
    if coordinator == 0 || coordinator > s.count() {
        return Err(format!(
            "--coordinator {coordinator}: the coordinator must be one of the {} shards (1 to {})",
            s.count(),
            s.count()
        ));
    }
    let source = std::fs::read_to_string(path).unwrap_or_default();
    Ok(Some(shard::ShardRole {
        shard: s,
        coordinator: coordinator - 1,
        sync: opts.sync.clone(),
        file_hash: crate::profile::fingerprint::file_hash(source.as_bytes()),
        start_at: opts.start_at,
        started_ms: 0.0,
        overrides: opts.overrides.clone(),
    }))
}

fn finish_report(
    report: &RunReport,
    opts: &RunOptions,
    recorded: Option<(crate::profile::RunId, PathBuf)>,
    plan_rows: &[crate::report::PlanRow],
) -> u8 {
    // Written without print!: a closed stdout must not cost the reports and the exit code.
    let mut summary = crate::report::to_summary(report);
    let previous = match &recorded {
        Some((id, db)) => crate::report::markdown::previous(db, id.0, &report.scenario),
        None => crate::report::Previous::NotRecorded,
    };
    if let Some((id, db)) = recorded {
        let shown = std::env::current_dir()
            .map(|cwd| crate::state::State::show(&db, &cwd))
            .unwrap_or_else(|_| db.display().to_string());
        // The summary already said where the run was recorded; a failed final commit is
        // said again here, after it.
        if report
            .events
            .iter()
            .any(|e| e.kind == "record" && e.detail.contains("could not"))
        {
            summary +=
                &format!("recording of run {id} in {shown} is incomplete (see the events)\n");
        }
    }
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(summary.as_bytes()).and_then(|()| out.flush());
    }
    let mut code = report.outcome.exit_code();
    if let (Some(shard), Outcome::Fail | Outcome::Incomplete) = (opts.shard, report.outcome) {
        // A shard's expectations judged its share only: the run's verdict is `res merge`'s.
        eprintln!("shard {shard} done: its expectations judged its share only; `res merge` judges the run");
        code = 0;
    }
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
    code = code.max(write_pages(report, opts, &previous, plan_rows));
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

/// The HTML and Markdown reports, and the Markdown appended to `$GITHUB_STEP_SUMMARY`;
/// returns the tool-error exit code when one could not be written.
fn write_pages(
    report: &RunReport,
    opts: &RunOptions,
    previous: &crate::report::Previous,
    plan_rows: &[crate::report::PlanRow],
) -> u8 {
    let mut code = 0;
    if let Some(p) = &opts.report_html {
        let written = crate::report::to_html(report, plan_rows)
            .and_then(|html| std::fs::write(p, html).map_err(|e| e.to_string()));
        if let Err(e) = written {
            eprintln!(
                "error: cannot write the HTML report to {}: {e}",
                p.display()
            );
            code = EXIT_TOOL;
        }
    }
    let summary_file = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|v| !v.is_empty());
    if opts.report_md.is_none() && summary_file.is_none() {
        return code;
    }
    let md = crate::report::to_markdown(report, previous);
    if let Some(p) = &opts.report_md {
        if let Err(e) = std::fs::write(p, &md) {
            eprintln!(
                "error: cannot write the Markdown report to {}: {e}",
                p.display()
            );
            code = EXIT_TOOL;
        }
    }
    if let Some(p) = summary_file {
        use std::io::Write;
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&p)
            .and_then(|mut f| f.write_all(format!("{md}\n").as_bytes()));
        if let Err(e) = appended {
            eprintln!(
                "error: cannot append the summary to GITHUB_STEP_SUMMARY ({}): {e}",
                std::path::Path::new(&p).display()
            );
            code = EXIT_TOOL;
        }
    }
    code
}

/// SIGINT, SIGTERM, SIGHUP and SIGQUIT become a stop request; a second one forces an exit.
async fn watch_signals(shutdown: crate::shutdown::Shutdown, tx: watch::Sender<Option<StopReason>>) {
    let signal = shutdown
        .requested("faults may still be in place: `res recover` reverts them")
        .await;
    let _ = tx.send(Some(StopReason::Signal(signal.describe())));
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

/// The load a plan node starts, built as the run would build it (unscaled), with the node's
/// share of its traffic; `None` for nodes that start no load.
fn planned_load(
    model: &check::Model,
    plan: &plan::Plan,
    setup: &setup::Setup,
    seed: u64,
    wall_start: crate::units::Timestamp,
    n: petgraph::graph::NodeIndex,
) -> Option<(Result<crate::load::LoadSpec, build::BuildError>, f64)> {
    let node = &plan.graph[n];
    let (NodeKind::StartLoad { traffic, share }, Some(i)) = (&node.kind, node.step) else {
        return None;
    };
    let t = &plan.steps[i];
    let target = build::Target {
        base_url: "http://127.0.0.1".into(),
    };
    let spec = build::load_spec(
        model,
        *traffic,
        &target,
        crate::units::Duration(t.end.0 - t.start.0),
        crate::units::Timestamp(wall_start.0 + (t.start.secs().floor() as i64)),
        seed.wrapping_add(i as u64),
        &setup.peaks,
        &setup.feeders,
        setup.learned.get(traffic).map(|l| &**l),
    );
    Some((spec, *share))
}

/// The most requests per second any load step of the plan sends `service` at its peak (a
/// step's share included), before any `--load-scale`.
fn planned_service_peak(
    model: &check::Model,
    plan: &plan::Plan,
    setup: &setup::Setup,
    seed: u64,
    wall_start: crate::units::Timestamp,
    service: &str,
) -> Option<f64> {
    let mut best: Option<f64> = None;
    for n in plan.timeline() {
        let Some((Ok(spec), share)) = planned_load(model, plan, setup, seed, wall_start, n) else {
            continue;
        };
        if let Some(r) = load_scale::service_peak(&spec, service) {
            let r = r * share;
            best = Some(best.map_or(r, |b: f64| b.max(r)));
        }
    }
    best
}

/// What a run would do, in order; touches nothing.
fn dry_run(
    model: &check::Model,
    plan: &plan::Plan,
    setup: &setup::Setup,
    seed: u64,
    wall_start: crate::units::Timestamp,
) -> String {
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
        match planned_load(model, plan, setup, seed, wall_start, n) {
            Some((Ok(mut spec), share)) => {
                load_scale::apply(&mut spec, setup.load_scale.unwrap_or(1.0));
                let _ = write!(out, " — {}", describe_load(&spec, share));
            }
            Some((Err(e), _)) => {
                let _ = write!(out, " — cannot be built: {e}");
            }
            None => {}
        }
        out.push('\n');
    }
    for note in &plan.notes {
        let _ = writeln!(out, "  note: {note}");
    }
    out
}
