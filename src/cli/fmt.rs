//! `res fmt FILE…`: rewrite `.res` files in the canonical layout, or with `--check` only say
//! which are not (exit 1).

use std::path::PathBuf;

use clap::Args;

use crate::diagnostic::{self, render_all, RenderOptions};
use crate::exit::Exit;

/// `res fmt` flags.
#[derive(Debug, Args)]
pub struct FmtArgs {
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Do not write; exit 1 if any file is not formatted.
    #[arg(long)]
    check: bool,
}

pub fn run(args: FmtArgs, render: RenderOptions) -> Exit {
    let check_only = args.check;
    let mut unformatted = Vec::new();
    let mut broken = false;
    for f in &args.files {
        let bytes = match std::fs::read(f) {
            Ok(b) => b,
            Err(e) => return super::fail(Exit::Tool, format!("cannot read {}: {e}", f.display())),
        };
        let mut sources = diagnostic::SourceMap::new();
        let (text, not_text) = crate::syntax::decode(&bytes, 0);
        sources.add(f.to_string_lossy(), text.clone());
        if let Some(d) = not_text {
            eprint!("{}", render_all(&[d], &sources, render));
            broken = true;
            continue;
        }
        match crate::syntax::format::format_source(&text) {
            Ok(formatted) if formatted == text => {}
            Ok(formatted) => {
                if check_only {
                    unformatted.push(f.display().to_string());
                } else if let Err(e) = std::fs::write(f, formatted) {
                    return super::fail(Exit::Tool, format!("cannot write {}: {e}", f.display()));
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
        Exit::Failed
    } else {
        Exit::Ok
    }
}
