//! Standard library modules as files an editor can open.
//!
//! `std/…` modules are compiled into the binary, but a definition must point at a file. The
//! first time someone jumps into one, its text is written to the user's cache folder
//! (`$XDG_CACHE_HOME/res/stdlib-VERSION/`, else `~/.cache/res/…`, else the temp folder),
//! read-only, and rewritten whenever it differs from the embedded text. The embedded text
//! stays the one the checker uses; the file is only something to read.

use std::fs;
use std::path::PathBuf;

use super::lex::is_ident_byte;

/// The file holding the stdlib module `name` (`std/faults`), written if needed.
pub fn file(name: &str) -> Option<PathBuf> {
    let text = crate::check::stdlib_module(name)?;
    let module = name.strip_prefix("std/")?;
    if module.is_empty() || !module.bytes().all(is_ident_byte) {
        return None;
    }
    let dir = cache_dir()?.join(format!("stdlib-{}", env!("CARGO_PKG_VERSION")));
    let path = dir.join(format!("{module}.res"));
    if fs::read_to_string(&path).ok().as_deref() == Some(text) {
        return Some(path);
    }
    fs::create_dir_all(&dir).ok()?;
    // Write beside and rename, so a reader (or a second server) never sees half a file.
    let tmp = dir.join(format!(".{module}.res.{}", std::process::id()));
    fs::write(&tmp, text).ok()?;
    if let Ok(meta) = fs::metadata(&tmp) {
        let mut perms = meta.permissions();
        perms.set_readonly(true);
        let _ = fs::set_permissions(&tmp, perms);
    }
    if fs::rename(&tmp, &path).is_err() {
        let _ = fs::remove_file(&tmp);
        return None;
    }
    Some(path)
}

fn cache_dir() -> Option<PathBuf> {
    let absolute = |v: std::ffi::OsString| {
        let p = PathBuf::from(v);
        p.is_absolute().then_some(p)
    };
    let base = std::env::var_os("XDG_CACHE_HOME")
        .and_then(absolute)
        .or_else(|| {
            std::env::var_os("HOME")
                .and_then(absolute)
                .map(|h| h.join(".cache"))
        })
        .unwrap_or_else(std::env::temp_dir);
    Some(base.join("res"))
}
