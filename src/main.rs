//! The `res` command line: parse arguments, call the library, map outcomes to exit codes.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use res::check::{self, Options};
use res::diagnostic::{self, render_all, RenderOptions};

/// res — the resilience scenario language.
#[derive(Parser)]
#[command(name = "res", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Colour diagnostics: auto (on a terminal), always or never.
    #[arg(long, global = true, default_value = "auto")]
    color: ColorChoice,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand)]
enum Command {
    /// Revert the faults a crashed `res` left active (read from the fault journal).
    Recover(res::chaos::cli::RecoverArgs),
    /// Chaos engine helpers for tests and benchmarks.
    #[command(hide = true)]
    Chaos(res::chaos::cli::ChaosArgs),
    /// Run a scenario: start its target, send its traffic, inject its faults, check its
    /// expectations. Exit 0 all held, 1 one failed, 2 invalid, 3 aborted, 4 tool failure.
    Run {
        file: PathBuf,
        /// The scenario to run (default: the first in the file).
        #[arg(long)]
        scenario: Option<String>,
        /// Seed for every random choice (default: from the clock; printed in the report).
        #[arg(long)]
        seed: Option<u64>,
        /// Print what would happen, in order, and touch nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write reports: json=FILE and/or junit=FILE (repeatable).
        #[arg(long = "report", value_name = "KIND=FILE")]
        report: Vec<String>,
        /// Override a param: --set name=value (repeatable).
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
        /// No live progress line.
        #[arg(long, short)]
        quiet: bool,
        /// Do not record this run in the profile database.
        #[arg(long)]
        no_record: bool,
        /// The profile database (default: .res/profile.redb beside the scenario, or res.toml).
        #[arg(long, value_name = "PATH")]
        profile_db: Option<PathBuf>,
    },
    /// Send HTTP load to a URL: an open model with --rate, a closed loop with --connections.
    Load(res::load::cli::LoadArgs),
    /// Learn a traffic model from access logs: endpoint mix, rates, arrival law, sessions.
    Learn(res::learn::cli::LearnArgs),
    /// Forecast a learned traffic's hourly rate and its peak, with intervals.
    Forecast(res::learn::cli::ForecastArgs),
    /// Check .res files: syntax, names, units, imports. Exit 0 when clean, 1 on errors.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Output format.
        #[arg(long, default_value = "text")]
        format: CheckFormat,
        /// Treat warnings as errors.
        #[arg(long)]
        deny_warnings: bool,
        /// Override a param: --set name=value (repeatable).
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
    },
    /// Format .res files canonically (in place), or check that they are formatted.
    Fmt {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Do not write; exit 1 if any file is not formatted.
        #[arg(long)]
        check: bool,
    },
    /// Show the execution plan of a scenario.
    Plan {
        file: PathBuf,
        /// The scenario to plan (default: every scenario in the file).
        #[arg(long)]
        scenario: Option<String>,
        /// Output format.
        #[arg(long, default_value = "text")]
        format: PlanFormat,
        /// Override a param: --set name=value (repeatable).
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
    },
    /// The embedded demo shop, the target of `builtin demo_shop`.
    Demo {
        #[command(subcommand)]
        action: DemoAction,
    },
    /// The resilience profile database: recorded runs and what they say about each service.
    Profile {
        #[command(subcommand)]
        action: res::profile::cli::ProfileCommand,
    },
    /// Predict failure points from the profile: capacity per service, the forecast peak against
    /// it and the scenario's SLOs; `list` and `score` the stored predictions.
    Predict(res::predict::cli::PredictArgs),
    /// The language server for editors: speaks LSP over stdin/stdout (diagnostics,
    /// formatting, hover, go to definition, completion, document symbols).
    Lsp,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CheckFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PlanFormat {
    Text,
    Dot,
    Json,
}

/// Exit codes (documented in README.md): 0 ok, 1 errors found / not formatted, 2 invalid
/// scenario (plan), 4 the tool failed.
const EXIT_ERRORS: u8 = 1;
const EXIT_INVALID: u8 = 2;
const EXIT_TOOL: u8 = 4;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let render = RenderOptions {
        color,
        width: terminal_width(),
    };
    match cli.command {
        Command::Check {
            files,
            format,
            deny_warnings,
            set,
        } => cmd_check(&files, format, deny_warnings, &set, render),
        Command::Fmt { files, check } => cmd_fmt(&files, check, render),
        Command::Run {
            file,
            scenario,
            seed,
            dry_run,
            report,
            set,
            quiet,
            no_record,
            profile_db,
        } => cmd_run(
            &file,
            scenario,
            seed,
            dry_run,
            &report,
            &set,
            (quiet, no_record, profile_db),
            render,
        ),
        Command::Plan {
            file,
            scenario,
            format,
            set,
        } => cmd_plan(&file, scenario.as_deref(), format, &set, render),
        Command::Demo { action } => cmd_demo(action),
        Command::Profile { action } => ExitCode::from(res::profile::cli::run(action)),
        Command::Lsp => res::lsp::run(),
        Command::Predict(args) => ExitCode::from(res::predict::cli::run(args)),
        Command::Load(args) => res::load::cli::run(args),
        Command::Recover(args) => res::chaos::cli::run_recover(args),
        Command::Chaos(args) => res::chaos::cli::run(args),
        Command::Learn(args) => res::learn::cli::run_learn(args),
        Command::Forecast(args) => res::learn::cli::run_forecast(args),
    }
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100)
}

fn parse_overrides(set: &[String]) -> Result<Options, String> {
    let mut opts = Options::default();
    for s in set {
        let (name, value) = s
            .split_once('=')
            .ok_or_else(|| format!("--set {s}: expected NAME=VALUE"))?;
        opts.overrides
            .push((name.trim().to_string(), value.trim().to_string()));
    }
    Ok(opts)
}

fn cmd_check(
    files: &[PathBuf],
    format: CheckFormat,
    deny_warnings: bool,
    set: &[String],
    render: RenderOptions,
) -> ExitCode {
    let opts = match parse_overrides(set) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_TOOL);
        }
    };
    let mut failed = false;
    let mut json_files = Vec::new();
    let (mut errors, mut warnings) = (0usize, 0usize);
    for f in files {
        let checked = check::check_path_with(f, &opts);
        let e = checked.diagnostics.iter().filter(|d| d.is_error()).count();
        let w = checked.diagnostics.len() - e;
        errors += e;
        warnings += w;
        if e > 0 || (deny_warnings && w > 0) {
            failed = true;
        }
        match format {
            CheckFormat::Text => {
                if !checked.diagnostics.is_empty() {
                    eprint!(
                        "{}",
                        render_all(&checked.diagnostics, &checked.sources, render)
                    );
                }
            }
            CheckFormat::Json => {
                let diags: Vec<_> = checked
                    .diagnostics
                    .iter()
                    .map(|d| diagnostic::to_json(d, &checked.sources))
                    .collect();
                json_files.push(serde_json::json!({
                    "file": f.to_string_lossy(),
                    "ok": e == 0,
                    "errors": e,
                    "warnings": w,
                    "diagnostics": diags,
                }));
            }
        }
    }
    match format {
        CheckFormat::Text => {
            let summary = format!(
                "checked {} file{}: {errors} error{}, {warnings} warning{}",
                files.len(),
                plural(files.len()),
                plural(errors),
                plural(warnings)
            );
            eprintln!("{summary}");
        }
        CheckFormat::Json => {
            let out = serde_json::json!({ "ok": !failed, "errors": errors, "warnings": warnings, "files": json_files });
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        }
    }
    if failed {
        ExitCode::from(EXIT_ERRORS)
    } else {
        ExitCode::SUCCESS
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn cmd_fmt(files: &[PathBuf], check_only: bool, render: RenderOptions) -> ExitCode {
    let mut unformatted = Vec::new();
    let mut broken = false;
    for f in files {
        let bytes = match std::fs::read(f) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", f.display());
                return ExitCode::from(EXIT_TOOL);
            }
        };
        let mut sources = diagnostic::SourceMap::new();
        let (text, not_text) = res::syntax::decode(&bytes, 0);
        sources.add(f.to_string_lossy(), text.clone());
        if let Some(d) = not_text {
            eprint!("{}", render_all(&[d], &sources, render));
            broken = true;
            continue;
        }
        match res::syntax::format::format_source(&text) {
            Ok(formatted) if formatted == text => {}
            Ok(formatted) => {
                if check_only {
                    unformatted.push(f.display().to_string());
                } else if let Err(e) = std::fs::write(f, formatted) {
                    eprintln!("error: cannot write {}: {e}", f.display());
                    return ExitCode::from(EXIT_TOOL);
                }
            }
            Err(diags) => {
                eprint!("{}", render_all(&diags, &sources, render));
                broken = true;
            }
        }
    }
    for f in &unformatted {
        println!("not formatted: {f}");
    }
    if broken || !unformatted.is_empty() {
        ExitCode::from(EXIT_ERRORS)
    } else {
        ExitCode::SUCCESS
    }
}

fn cmd_plan(
    file: &std::path::Path,
    scenario: Option<&str>,
    format: PlanFormat,
    set: &[String],
    render: RenderOptions,
) -> ExitCode {
    let opts = match parse_overrides(set) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_TOOL);
        }
    };
    let checked = check::check_path_with(file, &opts);
    if !checked.diagnostics.is_empty() {
        eprint!(
            "{}",
            render_all(&checked.diagnostics, &checked.sources, render)
        );
    }
    let Some(model) = &checked.model else {
        return ExitCode::from(EXIT_INVALID);
    };
    let plans = match scenario {
        Some(_) => res::plan::plan_checked(&checked, scenario).map(|p| vec![p]),
        None => res::plan::plan_all_checked(&checked),
    };
    let plans = match plans {
        Ok(p) => p,
        Err(diags) => {
            eprint!("{}", render_all(&diags, &checked.sources, render));
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let mut out = std::io::stdout().lock();
    let text = match format {
        PlanFormat::Text => plans
            .iter()
            .map(|p| res::plan::to_text(p, model))
            .collect::<Vec<_>>()
            .join("\n"),
        PlanFormat::Dot => plans
            .iter()
            .map(res::plan::to_dot)
            .collect::<Vec<_>>()
            .join("\n"),
        PlanFormat::Json => {
            let v = serde_json::json!({ "file": file.to_string_lossy(), "plans": plans.iter().map(|p| res::plan::to_json(p, model)).collect::<Vec<_>>() });
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
    };
    if out.write_all(text.as_bytes()).is_err() {
        return ExitCode::from(EXIT_TOOL);
    }
    ExitCode::SUCCESS
}

#[derive(Subcommand)]
enum DemoAction {
    /// Serve the demo shop until Ctrl-C or SIGTERM.
    Serve {
        /// Port of the main listener (catalog, checkout, admin); 0 picks a free one.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Port of payments (the upstream in scenarios/demo.res); 0 picks a free one.
        #[arg(long, default_value_t = 9101)]
        payments_port: u16,
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        /// Workers of a service: --capacity checkout=6 (repeatable, or comma-separated).
        #[arg(long = "capacity", value_name = "SERVICE=N")]
        capacity: Vec<String>,
        /// Seed of the service-time draws.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

fn cmd_demo(action: DemoAction) -> ExitCode {
    let DemoAction::Serve {
        port,
        payments_port,
        host,
        capacity,
        seed,
    } = action;
    let mut config = res::demo::DemoConfig {
        host,
        port,
        payments_port,
        seed,
        ..Default::default()
    };
    for setting in &capacity {
        if let Err(e) = config.capacity.apply_setting(setting) {
            eprintln!("error: --capacity {setting}: {e}");
            return ExitCode::from(EXIT_TOOL);
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_TOOL);
        }
    };
    runtime.block_on(async {
        let shop = match res::demo::start(config).await {
            Ok(shop) => shop,
            Err(e) => {
                eprintln!("error: cannot start the demo shop: {e}");
                return ExitCode::from(EXIT_TOOL);
            }
        };
        let c = shop.capacities();
        println!(
            "demo shop  http://{}  (catalog, checkout, admin)",
            shop.addr()
        );
        println!("payments   http://{}", shop.payments_addr());
        println!(
            "capacity   catalog {}, checkout {}, payments {}",
            c.catalog, c.checkout, c.payments
        );
        println!("press Ctrl-C to stop");
        let signal = res::demo::wait_for_shutdown_signal().await;
        shop.shutdown().await;
        match signal {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: cannot wait for Ctrl-C: {e}");
                ExitCode::from(EXIT_TOOL)
            }
        }
    })
}

#[allow(clippy::too_many_arguments)]
fn cmd_run(
    file: &std::path::Path,
    scenario: Option<String>,
    seed: Option<u64>,
    dry_run: bool,
    report: &[String],
    set: &[String],
    (quiet, no_record, profile_db): (bool, bool, Option<PathBuf>),
    render: RenderOptions,
) -> ExitCode {
    let overrides = match parse_overrides(set) {
        Ok(o) => o.overrides,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_TOOL);
        }
    };
    let mut opts = res::run::RunOptions {
        scenario,
        seed,
        dry_run,
        overrides,
        quiet,
        no_record,
        profile_db,
        ..Default::default()
    };
    for r in report {
        match r.split_once('=') {
            Some(("json", path)) => opts.report_json = Some(PathBuf::from(path)),
            Some(("junit", path)) => opts.report_junit = Some(PathBuf::from(path)),
            _ => {
                eprintln!("error: --report {r}: expected json=FILE or junit=FILE");
                return ExitCode::from(EXIT_TOOL);
            }
        }
    }
    ExitCode::from(res::run::run_path(file, &opts, render))
}
