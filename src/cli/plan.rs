//! `res plan FILE`: the execution plan of a scenario as a text timeline, Graphviz DOT or JSON
//! (docs/plan.schema.json). Exit 2 when the file or the scenario is invalid.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::check;
use crate::diagnostic::{render_all, RenderOptions};
use crate::exit::Exit;

/// `res plan` flags.
#[derive(Debug, Args)]
pub struct PlanArgs {
    file: PathBuf,
    /// The scenario to plan (default: every scenario in the file).
    #[arg(long)]
    scenario: Option<String>,
    /// Output format.
    #[arg(long, default_value = "text")]
    format: PlanFormat,
    /// Override a param: --set name=value (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = super::parse_override)]
    set: Vec<(String, String)>,
    /// What time it is (RFC 3339, e.g. 2026-12-07T10:00Z) for whether the scenario may run
    /// and its next window openings; default: the system clock.
    #[arg(long, value_name = "TIMESTAMP", value_parser = super::parse_now)]
    now: Option<crate::units::Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PlanFormat {
    Text,
    Dot,
    Json,
}

pub fn run(args: PlanArgs, render: RenderOptions) -> Exit {
    let PlanArgs {
        file,
        scenario,
        format,
        set,
        now,
    } = args;
    let now = now.unwrap_or_else(crate::run::clock::system_now);
    let checked = check::check_path_with(&file, &super::options(&set));
    if !checked.diagnostics.is_empty() {
        eprint!(
            "{}",
            render_all(&checked.diagnostics, &checked.sources, render)
        );
    }
    let Some(model) = &checked.model else {
        return Exit::Invalid;
    };
    let plans = match scenario.as_deref() {
        Some(name) => crate::plan::plan_checked(&checked, Some(name)).map(|p| vec![p]),
        None => crate::plan::plan_all_checked(&checked),
    };
    let plans = match plans {
        Ok(p) => p,
        Err(diags) => {
            eprint!("{}", render_all(&diags, &checked.sources, render));
            return Exit::Invalid;
        }
    };
    let text = match format {
        PlanFormat::Text => plans
            .iter()
            .map(|p| {
                crate::plan::to_text(p, model) + &crate::plan::schedule::to_text(p, model, now)
            })
            .collect::<Vec<_>>()
            .join("\n"),
        PlanFormat::Dot => plans
            .iter()
            .map(crate::plan::to_dot)
            .collect::<Vec<_>>()
            .join("\n"),
        PlanFormat::Json => {
            let plans: Vec<serde_json::Value> = plans
                .iter()
                .map(|p| {
                    let mut v = crate::plan::to_json(p, model);
                    if let serde_json::Value::Object(m) = &mut v {
                        m.insert(
                            "schedule".into(),
                            crate::plan::schedule::to_json(p, model, now),
                        );
                    }
                    v
                })
                .collect();
            let v = serde_json::json!({ "file": file.to_string_lossy(), "plans": plans });
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
    };
    if super::stdout::print(&text) {
        Exit::Ok
    } else {
        Exit::Tool
    }
}
