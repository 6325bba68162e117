//! `res completions SHELL` and `res man`: shell completion scripts (clap_complete) and a man
//! page (clap_mangen), both generated from the same clap definition as the parser, so they
//! cannot fall behind a flag.

use clap::{CommandFactory, ValueEnum};

use super::Cli;
use crate::exit::Exit;

/// The shells completions are written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// Prints the completion script of `shell` to stdout.
pub fn completions(shell: Shell) -> Exit {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    let generator = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(generator, &mut cmd, "res", &mut out);
    print(&out)
}

/// Prints the man page, res(1), in roff to stdout.
pub fn man() -> Exit {
    let mut out = Vec::new();
    if let Err(e) = clap_mangen::Man::new(Cli::command()).render(&mut out) {
        return super::fail(Exit::Tool, format!("cannot render the man page: {e}"));
    }
    print(&out)
}

fn print(bytes: &[u8]) -> Exit {
    if super::stdout::print(&String::from_utf8_lossy(bytes)) {
        Exit::Ok
    } else {
        Exit::Tool
    }
}
