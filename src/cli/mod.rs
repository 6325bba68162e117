//! The `res` command line: one module per subcommand, each holding its clap arguments and
//! the code that turns them into calls on the library. `main.rs` only hands the process
//! arguments to [`main`].
//!
//! What every command shares lives beside this file or below it in the library: the exit
//! codes ([`crate::exit::Exit`]), the runtime builder ([`crate::runtime`]), the stop signals
//! ([`crate::shutdown`]) and the rendering options for diagnostics ([`Ui`]).

mod chaos;
mod check;
mod completions;
mod demo;
mod fmt;
mod forecast;
mod k8s;
mod learn;
mod load;
mod lsp;
mod merge;
mod orchestrate;
mod plan;
mod predict;
mod profile;
mod proxy;
mod recover;
mod remedy;
mod run;
mod stdout;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::check::Options;
use crate::diagnostic::RenderOptions;
use crate::exit::Exit;

/// res — the resilience scenario language.
#[derive(Parser)]
#[command(name = "res", version, about, long_about = None)]
pub struct Cli {
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
    Recover(recover::RecoverArgs),
    /// Chaos engine helpers for tests and benchmarks.
    #[command(hide = true)]
    Chaos(chaos::ChaosArgs),
    /// Run a scenario: start its target, send its traffic, inject its faults, check its
    /// expectations. Exit 0 all held, 1 one failed, 2 invalid, 3 aborted, 4 tool failure.
    Run(run::RunArgs),
    /// Merge the JSON reports of a sharded run (`res run --shard I/N`) into one run: the
    /// histograms added, the expectations judged, the run recorded once.
    Merge(merge::MergeArgs),
    /// Kubernetes: print the manifests that run a scenario as N shards (an Indexed Job).
    K8s {
        #[command(subcommand)]
        action: k8s::K8sCommand,
    },
    /// Send HTTP load to a URL: an open model with --rate, a closed loop with --connections.
    Load(load::LoadArgs),
    /// Learn a traffic model from access logs: endpoint mix, rates, arrival law, sessions.
    Learn(learn::LearnArgs),
    /// Forecast a learned traffic's hourly rate and its peak, with intervals.
    Forecast(forecast::ForecastArgs),
    /// Check .res files: syntax, names, units, imports. Exit 0 when clean, 1 on errors.
    Check(check::CheckArgs),
    /// Format .res files canonically (in place), or check that they are formatted.
    Fmt(fmt::FmtArgs),
    /// Show the execution plan of a scenario.
    Plan(plan::PlanArgs),
    /// The embedded demo shop, the target of `builtin demo_shop`.
    Demo {
        #[command(subcommand)]
        action: demo::DemoAction,
    },
    /// The resilience profile database: recorded runs and what they say about each service.
    Profile {
        #[command(subcommand)]
        action: profile::ProfileCommand,
    },
    /// Predict failure points from the profile: capacity per service, the forecast peak against
    /// it and the scenario's SLOs; `list` and `score` the stored predictions.
    Predict(predict::PredictArgs),
    /// res's proxy as a weighted splitter in front of instances, with an admin API
    /// (`balance via proxy` remedies shift and fail over through it).
    Proxy {
        #[command(subcommand)]
        action: proxy::ProxyCommand,
    },
    /// The remediation audit log: decisions, and approving or rejecting those that wait.
    Remedy {
        #[command(subcommand)]
        action: remedy::RemedyCommand,
    },
    /// The loop: learn the logs, forecast, predict, and run the files' scenarios inside their
    /// windows and before their events; every decision in the profile database's audit log.
    Orchestrate(orchestrate::OrchestrateArgs),
    /// The language server for editors: speaks LSP over stdin/stdout (diagnostics,
    /// formatting, hover, go to definition, completion, document symbols).
    Lsp,
    /// Print a shell completion script: `res completions bash > ~/.local/share/bash-completion/completions/res`.
    Completions {
        #[arg(value_enum)]
        shell: completions::Shell,
    },
    /// Print the man page, res(1): `res man > ~/.local/share/man/man1/res.1`.
    Man,
}

/// Parses the process arguments and runs the command.
pub fn main() -> ExitCode {
    stdout::quiet_on_closed_stdout();
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
    let exit: ExitCode = match cli.command {
        Command::Check(args) => check::run(args, render).into(),
        Command::Fmt(args) => fmt::run(args, render).into(),
        Command::Run(args) => run::run(args, render),
        Command::Plan(args) => plan::run(args, render).into(),
        Command::Demo { action } => demo::run(action).into(),
        Command::Profile { action } => ExitCode::from(profile::run(action)),
        Command::Predict(args) => ExitCode::from(predict::run(args)),
        Command::Remedy { action } => remedy::run(action).into(),
        Command::Proxy { action } => proxy::run(action).into(),
        Command::Orchestrate(args) => orchestrate::run(args, render).into(),
        Command::Lsp => lsp::run(),
        Command::Load(args) => load::run(args),
        Command::Merge(args) => merge::run(args),
        Command::K8s { action } => k8s::run(action),
        Command::Recover(args) => recover::run_recover(args),
        Command::Chaos(args) => chaos::run(args),
        Command::Learn(args) => learn::run_learn(args),
        Command::Forecast(args) => forecast::run_forecast(args),
        Command::Completions { shell } => completions::completions(shell).into(),
        Command::Man => completions::man().into(),
    };
    exit
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100)
}

/// `--set name=value`, parsed by clap so a malformed one is a usage error (exit 2).
fn parse_override(s: &str) -> Result<(String, String), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: expected NAME=VALUE"))?;
    Ok((name.trim().to_string(), value.trim().to_string()))
}

/// `--now TIMESTAMP` (RFC 3339), parsed by clap so a malformed one is a usage error (exit 2).
fn parse_now(s: &str) -> Result<crate::units::Timestamp, String> {
    crate::units::Timestamp::parse(s)
        .ok_or_else(|| format!("`{s}`: expected a timestamp like 2026-12-07T10:00Z"))
}

/// The checker's options from the `--set` overrides.
fn options(set: &[(String, String)]) -> Options {
    Options {
        overrides: set.to_vec(),
    }
}

/// Prints an error and returns the exit code that goes with it.
fn fail(code: Exit, msg: impl std::fmt::Display) -> Exit {
    eprintln!("error: {msg}");
    code
}
