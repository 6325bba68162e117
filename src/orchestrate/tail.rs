//! Following a declared log between iterations, as `tail -F` does: the streaming learner
//! ([`crate::learn::Learner`]) stays alive with the byte offset of the last whole line read and
//! the file's identity (device and inode, and its first bytes). A log that grew is read from
//! that offset, whole lines only (a line still being written waits for its newline). A log
//! whose identity changed or that shrank was rotated: the rotated-away file is looked for
//! (`PATH.1`, `PATH.1.gz`, `PATH-*.gz`, `PATH-*`, by inode or by its first bytes) and read on
//! from the old offset, then the new file from its start, so every line counts once. Without
//! it, a new file (another inode) is read on into the same model and the reason says lines may
//! be lost; the same file truncated or rewritten in place is learned again from scratch.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::learn::{LearnError, LearnOptions, Learner, LogFormat};

/// The first bytes kept to know a file again.
const HEAD: usize = 256;
/// Rotated files (`PATH-DATE…`) looked at, newest first.
const MAX_CANDIDATES: usize = 8;

/// How a model version was learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// From the first byte of the log (first learn, a restart, or a log replaced in place).
    Whole,
    /// Only the lines appended since the last version.
    Appended,
    /// The rest of the rotated-away file, then the new file from its start.
    Rotated,
}

impl How {
    pub fn word(self) -> &'static str {
        match self {
            How::Whole => "whole",
            How::Appended => "appended",
            How::Rotated => "rotated",
        }
    }
}

/// What one read added.
pub struct Read1 {
    pub how: How,
    pub lines: u64,
    /// Where the new lines were read from, in words (`byte 88,120 of access.log`).
    pub from: String,
    /// Anything to know: a rotated file not found, a log replaced.
    pub note: Option<String>,
}

/// One log followed: the learner and where it stands in the file.
pub struct Follow {
    pub learner: Learner,
    dev: u64,
    ino: u64,
    head: Vec<u8>,
    /// Bytes of whole lines read from the current file.
    pub offset: u64,
    /// Lines read from the current file (to number them in messages).
    file_lines: u64,
    /// The declared log is itself gzipped: learned whole each time it changes.
    gz: bool,
    format: LogFormat,
}

fn identity(m: &std::fs::Metadata) -> (u64, u64) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (m.dev(), m.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = m;
        (0, 0)
    }
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> LearnError + '_ {
    move |e| LearnError::Io {
        path: path.display().to_string(),
        source: e,
    }
}

/// Up to `n` first bytes of a reader.
fn first_bytes(r: impl Read, n: usize) -> std::io::Result<Vec<u8>> {
    let mut v = Vec::with_capacity(n);
    r.take(n as u64).read_to_end(&mut v)?;
    Ok(v)
}

fn is_gz(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
}

/// The end of the last whole line in `file` between `from` and `len` (`from` when none).
fn whole_lines_end(file: &mut File, from: u64, len: u64) -> std::io::Result<u64> {
    let mut end = len;
    let mut buf = vec![0u8; 64 * 1024];
    while end > from {
        let start = end.saturating_sub(buf.len() as u64).max(from);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        if let Some(p) = chunk.iter().rposition(|&b| b == b'\n') {
            return Ok(start + p as u64 + 1);
        }
        end = start;
    }
    Ok(from)
}

impl Follow {
    /// Learns `path` from its first byte (whole lines only).
    pub fn start(path: &Path, format: LogFormat) -> Result<(Follow, Read1), LearnError> {
        let learner = Learner::new(Some(format), LearnOptions::default())?;
        let mut f = Follow {
            learner,
            dev: 0,
            ino: 0,
            head: Vec::new(),
            offset: 0,
            file_lines: 0,
            gz: false,
            format,
        };
        let lines = f.read_new_file(path)?;
        Ok((
            f,
            Read1 {
                how: How::Whole,
                lines,
                from: format!("all of {}", path.display()),
                note: None,
            },
        ))
    }

    /// Reads a (new) file at `path` from its start into the learner.
    fn read_new_file(&mut self, path: &Path) -> Result<u64, LearnError> {
        let err = io_err(path);
        let mut file = File::open(path).map_err(&err)?;
        let meta = file.metadata().map_err(&err)?;
        (self.dev, self.ino) = identity(&meta);
        self.head = first_bytes(&mut file, HEAD).map_err(&err)?;
        self.gz = is_gz(&self.head);
        self.offset = 0;
        self.file_lines = 0;
        if self.gz {
            let before = self.learner.lines();
            self.learner.read_path(path)?;
            self.offset = meta.len();
            return Ok(self.learner.lines() - before);
        }
        self.read_on(path, &mut file, meta.len())
    }

    /// Reads the whole lines of `file` from the offset up to `len`.
    fn read_on(&mut self, path: &Path, file: &mut File, len: u64) -> Result<u64, LearnError> {
        let err = io_err(path);
        let end = whole_lines_end(file, self.offset, len).map_err(&err)?;
        if end == self.offset {
            return Ok(0);
        }
        file.seek(SeekFrom::Start(self.offset)).map_err(&err)?;
        let name = path.display().to_string();
        let n =
            self.learner
                .read_more(&name, (&mut *file).take(end - self.offset), self.file_lines)?;
        if self.head.len() < HEAD {
            file.seek(SeekFrom::Start(0)).map_err(&err)?;
            self.head = first_bytes(&mut *file, HEAD).map_err(&err)?;
        }
        self.offset = end;
        self.file_lines += n;
        Ok(n)
    }

    /// Reads what is new in `path` since the last call; `Ok(None)` when nothing is (a line
    /// still without its newline waits). `Err` leaves the learner as it was only when nothing
    /// was read; a follow that must start again is said by `How::Whole`, the caller replacing
    /// its state with `restart`.
    pub fn read_new(&mut self, path: &Path) -> Result<Option<Read1>, LearnError> {
        let err = io_err(path);
        let mut file = File::open(path).map_err(&err)?;
        let meta = file.metadata().map_err(&err)?;
        let len = meta.len();
        let id = identity(&meta);
        let head = first_bytes(&mut file, self.head.len()).map_err(&err)?;
        let same_start = head == self.head;
        if self.gz {
            if !same_start || len != self.offset {
                return Ok(Some(self.restart(path, "the gzipped log changed")?));
            }
            return Ok(None);
        }
        // A head shorter than HEAD proves less: then a new inode is a new file.
        let known = self.head.len() == HEAD || id == (self.dev, self.ino);
        if same_start && known && len >= self.offset {
            // Grown (or touched): the same file, even as another inode (replaced by a longer copy).
            (self.dev, self.ino) = id;
            let from = self.offset;
            let lines = self.read_on(path, &mut file, len)?;
            if lines == 0 {
                return Ok(None);
            }
            return Ok(Some(Read1 {
                how: How::Appended,
                lines,
                from: format!("byte {}", th(from)),
                note: None,
            }));
        }
        let why = if id != (self.dev, self.ino) {
            "was replaced by another file (new inode)".to_string()
        } else if len < self.offset {
            format!("shrank from {} to {} bytes", th(self.offset), th(len))
        } else {
            "changed its first bytes".to_string()
        };
        let old_offset = self.offset;
        match self.rotated_away(path)? {
            Some((old, lines_old)) => {
                let lines_new = self.read_new_file(path)?;
                Ok(Some(Read1 {
                    how: How::Rotated,
                    lines: lines_old + lines_new,
                    from: format!(
                        "{} lines of the rotated {} from byte {}, {} of the new {}",
                        th(lines_old),
                        old.display(),
                        th(old_offset),
                        th(lines_new),
                        path.display()
                    ),
                    note: Some(format!("{} {why}", path.display())),
                }))
            }
            None if id != (self.dev, self.ino) => {
                let lines = self.read_new_file(path)?;
                Ok(Some(Read1 {
                    how: How::Rotated,
                    lines,
                    from: format!("the new {} from byte 0", path.display()),
                    note: Some(format!(
                        "{} {why} and the rotated-away file is not found as {}: lines written to it after byte {} may be lost",
                        path.display(),
                        candidates_words(path),
                        th(old_offset)
                    )),
                }))
            }
            None => Ok(Some(self.restart(
                path,
                &format!(
                    "{} {why} with no rotated copy found as {}: truncated or rewritten in place, so learned again from scratch",
                    path.display(),
                    candidates_words(path)
                ),
            )?)),
        }
    }

    /// Starts again from scratch (a new learner), with the reason.
    fn restart(&mut self, path: &Path, why: &str) -> Result<Read1, LearnError> {
        let (f, mut r) = Follow::start(path, self.format)?;
        *self = f;
        r.note = Some(why.to_string());
        Ok(r)
    }

    /// Finds the file the log was rotated to and reads it on from the old offset: the
    /// file and the lines read.
    fn rotated_away(&mut self, path: &Path) -> Result<Option<(PathBuf, u64)>, LearnError> {
        for cand in candidates(path) {
            let Ok(mut file) = File::open(&cand) else {
                continue;
            };
            let Ok(meta) = file.metadata() else { continue };
            let Ok(head) = first_bytes(&mut file, HEAD) else {
                continue;
            };
            let err = io_err(&cand);
            if is_gz(&head) {
                file.seek(SeekFrom::Start(0)).map_err(&err)?;
                let mut gz = flate2::read::MultiGzDecoder::new(file);
                let Ok(plain) = first_bytes(&mut gz, self.head.len()) else {
                    continue;
                };
                if plain != self.head {
                    continue;
                }
                // Skip what was read already, then the rest (its last line is whole now).
                let mut rest = std::io::Cursor::new(plain).chain(gz);
                let skipped =
                    std::io::copy(&mut (&mut rest).take(self.offset), &mut std::io::sink())
                        .map_err(&err)?;
                if skipped < self.offset {
                    continue;
                }
                let name = cand.display().to_string();
                let n = self.learner.read_more(&name, rest, 0)?;
                return Ok(Some((cand.clone(), n)));
            }
            let same_inode =
                identity(&meta) == (self.dev, self.ino) && (self.dev, self.ino) != (0, 0);
            let same_start = head.get(..self.head.len()) == Some(&self.head[..]);
            if !(same_inode || same_start) || meta.len() < self.offset {
                continue;
            }
            file.seek(SeekFrom::Start(self.offset)).map_err(&err)?;
            let name = cand.display().to_string();
            let n = self.learner.read_more(&name, file, 0)?;
            return Ok(Some((cand.clone(), n)));
        }
        Ok(None)
    }
}

/// `88,120`.
pub fn th(n: u64) -> String {
    crate::predict::render::thousands(n as f64)
}

fn candidates_words(path: &Path) -> String {
    let p = path.display();
    format!("{p}.1, {p}.1.gz or {p}-*")
}

/// Where a rotated-away log may be: `PATH.1`, `PATH.1.gz`, then `PATH-*` newest first.
fn candidates(path: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let with = |suffix: &str| {
        let mut s = path.as_os_str().to_owned();
        s.push(suffix);
        PathBuf::from(s)
    };
    out.push(with(".1"));
    out.push(with(".1.gz"));
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return out;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!("{}-", name.to_string_lossy());
    let mut dated: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    dated.sort_by_key(|d| std::cmp::Reverse(d.0));
    out.extend(dated.into_iter().take(MAX_CANDIDATES).map(|(_, p)| p));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_lines_end_finds_the_last_newline_before_a_partial_line() {
        let path = std::env::temp_dir().join(format!("res-tail-{}", std::process::id()));
        // A long last line that spans more than one backwards read.
        let text = format!("a\nbb\n{}", "x".repeat(150_000));
        std::fs::write(&path, &text).unwrap();
        let mut f = File::open(&path).unwrap();
        let len = text.len() as u64;
        assert_eq!(whole_lines_end(&mut f, 0, len).unwrap(), 5);
        assert_eq!(whole_lines_end(&mut f, 5, len).unwrap(), 5);
        assert_eq!(whole_lines_end(&mut f, 0, 4).unwrap(), 2);
        std::fs::remove_file(&path).unwrap();
        let c = candidates(Path::new("/nonexistent/access.log"));
        assert_eq!(
            c,
            vec![
                PathBuf::from("/nonexistent/access.log.1"),
                PathBuf::from("/nonexistent/access.log.1.gz")
            ]
        );
    }
}
