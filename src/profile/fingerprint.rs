//! What identifies the scenario a run ran: a stable hash of its text (so runs of the same
//! file version can be grouped and an edited file noticed) and the git commit it was checked
//! out at. Both are computed here, without a git binary, so recording never spawns a process.

use std::path::{Path, PathBuf};

/// FNV-1a, 64 bits: stable across releases and platforms, which `std`'s hasher is not.
pub fn file_hash(text: &[u8]) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    for b in text {
        h ^= u64::from(*b);
        h = h.wrapping_mul(PRIME);
    }
    format!("{h:016x}")
}

/// The commit `HEAD` points at in the git work tree holding `path`, if there is one.
pub fn git_commit(path: &Path) -> Option<String> {
    let start = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let start = std::fs::canonicalize(if start.as_os_str().is_empty() {
        Path::new(".")
    } else {
        &start
    })
    .ok()?;
    let git_dir = start.ancestors().find_map(git_dir_at)?;
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let head = head.trim();
    match head.strip_prefix("ref:") {
        Some(name) => resolve_ref(&git_dir, name.trim()),
        None => is_hash(head).then(|| head.to_string()),
    }
}

/// `dir/.git` as a directory, or the `gitdir:` a `.git` file (worktree, submodule) names.
fn git_dir_at(dir: &Path) -> Option<PathBuf> {
    let dot_git = dir.join(".git");
    if dot_git.is_dir() {
        return Some(dot_git);
    }
    let text = std::fs::read_to_string(&dot_git).ok()?;
    let target = text.trim().strip_prefix("gitdir:")?.trim();
    Some(dir.join(target))
}

/// A ref's commit: a loose ref file, else a line of `packed-refs`. Worktrees keep their refs
/// in the common directory named by `commondir`.
fn resolve_ref(git_dir: &Path, name: &str) -> Option<String> {
    let common = std::fs::read_to_string(git_dir.join("commondir"))
        .ok()
        .map(|c| git_dir.join(c.trim()));
    for dir in std::iter::once(git_dir.to_path_buf()).chain(common) {
        if let Ok(text) = std::fs::read_to_string(dir.join(name)) {
            let t = text.trim();
            if is_hash(t) {
                return Some(t.to_string());
            }
        }
        if let Ok(packed) = std::fs::read_to_string(dir.join("packed-refs")) {
            let found = packed.lines().find_map(|line| {
                let (hash, r) = line.split_once(' ')?;
                (r.trim() == name && is_hash(hash)).then(|| hash.to_string())
            });
            if found.is_some() {
                return found;
            }
        }
    }
    None
}

fn is_hash(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_is_stable() {
        assert_eq!(file_hash(b""), "cbf29ce484222325");
        assert_eq!(file_hash(b"a"), "af63dc4c8601ec8c");
    }

    #[test]
    fn reads_a_git_head() {
        let dir = std::env::temp_dir().join(format!("res-git-{}", std::process::id()));
        let git = dir.join(".git");
        std::fs::create_dir_all(git.join("refs/heads")).unwrap();
        std::fs::write(git.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        let hash = "0123456789abcdef0123456789abcdef01234567";
        std::fs::write(
            git.join("packed-refs"),
            format!("# pack\n{hash} refs/heads/main\n"),
        )
        .unwrap();
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/a.res"), "").unwrap();
        assert_eq!(git_commit(&dir.join("sub/a.res")).as_deref(), Some(hash));
        std::fs::write(
            git.join("refs/heads/main"),
            "89abcdef0123456789abcdef0123456789abcdef\n",
        )
        .unwrap();
        assert_eq!(
            git_commit(&dir.join("sub/a.res")).as_deref(),
            Some("89abcdef0123456789abcdef0123456789abcdef")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
