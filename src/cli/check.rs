//! `res check FILE…`: syntax, names, units and imports of `.res` files, as text for people or
//! JSON (docs/check.schema.json) for tools. Exit 0 when clean, 1 on errors.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::check;
use crate::diagnostic::{self, render_all, RenderOptions};
use crate::exit::Exit;

/// `res check` flags.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, default_value = "text")]
    format: CheckFormat,
    /// Treat warnings as errors.
    #[arg(long)]
    deny_warnings: bool,
    /// Override a param: --set name=value (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = super::parse_override)]
    set: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CheckFormat {
    Text,
    Json,
}

pub fn run(args: CheckArgs, render: RenderOptions) -> Exit {
    let CheckArgs {
        files,
        format,
        deny_warnings,
        set,
    } = args;
    let opts = super::options(&set);
    let mut failed = false;
    let mut json_files = Vec::new();
    let (mut errors, mut warnings) = (0usize, 0usize);
    for f in &files {
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
                if let Some(note) = check::env_note(&checked) {
                    eprintln!("{note}");
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
        Exit::Failed
    } else {
        Exit::Ok
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
