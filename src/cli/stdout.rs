//! Writing to standard output when the reader may have gone: `res profile export | head`
//! closes the pipe after ten lines, and that must end the command quietly, not with a panic
//! (exit 101) or an error (exit 4).
//!
//! Rust ignores SIGPIPE (sockets need that), so a closed pipe shows up as a write error:
//! [`print`] swallows it so the command finishes with its own exit code, and the panic hook
//! of [`quiet_on_closed_stdout`] ends the process with 0 when a `print!` deeper in the library
//! meets a closed pipe.

use std::io::{ErrorKind, Write};

/// Writes `text` to standard output; a closed pipe is not an error (the reader has what it
/// wanted). Any other failure is reported on stderr and returns false.
pub fn print(text: &str) -> bool {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => true,
        Err(e) if e.kind() == ErrorKind::BrokenPipe => true,
        Err(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            false
        }
    }
}

/// True when `e`, or an error it wraps, is a closed pipe.
pub fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(e) = cur {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == ErrorKind::BrokenPipe)
        {
            return true;
        }
        cur = e.source();
    }
    false
}

/// Installs a panic hook that turns std's "failed printing to stdout: Broken pipe" panic into
/// a quiet exit 0; every other panic reaches the default hook unchanged.
pub fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}
