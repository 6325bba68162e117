//! Reading a log request by request, for callers that need each logged request rather than
//! the learned model: scoring a prediction against what the log recorded in the hour it was
//! made for (`res predict score FILE`). Plain or gzipped, any of the learner's formats; lines
//! that do not parse are counted, never fatal.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::error::LearnError;
use super::format::{self, LogFormat};
use super::lines::for_each_line;
use super::record::Record;
use super::timestamp::DateCache;

/// How many lines a pass read, and how many of them were requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counted {
    pub lines: u64,
    pub used: u64,
}

/// Calls `f` with each request of the log at `path`, in file order.
pub fn for_each_record(
    path: &Path,
    format: LogFormat,
    mut f: impl FnMut(&Record<'_>),
) -> Result<Counted, LearnError> {
    let name = path.display().to_string();
    let io = |source: std::io::Error| LearnError::Io {
        path: name.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut r = BufReader::with_capacity(1 << 20, file);
    let gzipped = r.fill_buf().map_err(io)?.starts_with(&[0x1f, 0x8b]);
    let mut reader: Box<dyn BufRead> = if gzipped {
        Box::new(BufReader::with_capacity(
            1 << 20,
            Box::new(flate2::read::MultiGzDecoder::new(r)) as Box<dyn Read>,
        ))
    } else {
        Box::new(r)
    };
    let mut dates = DateCache::default();
    let mut counted = Counted::default();
    for_each_line(&mut reader, |_, line, too_long| {
        counted.lines += 1;
        if too_long {
            return;
        }
        if let Ok(rec) = format::parse(format, line, &mut dates) {
            counted.used += 1;
            f(&rec);
        }
    })
    .map_err(io)?;
    Ok(counted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_plain_and_gzipped_logs_alike() {
        let dir = std::env::temp_dir().join(format!("res-each-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = "127.0.0.1 - - [07/Dec/2026:10:00:00 +0000] \"GET /items/1 HTTP/1.1\" 200 5 \"-\" \"t\"\n\
                    not a log line\n\
                    127.0.0.1 - - [07/Dec/2026:10:00:01 +0000] \"POST /checkout HTTP/1.1\" 503 0 \"-\" \"t\"\n";
        let plain = dir.join("a.log");
        std::fs::write(&plain, text).unwrap();
        let gz = dir.join("a.log.gz");
        {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(
                std::fs::File::create(&gz).unwrap(),
                flate2::Compression::fast(),
            );
            e.write_all(text.as_bytes()).unwrap();
            e.finish().unwrap();
        }
        for p in [&plain, &gz] {
            let mut seen = Vec::new();
            let n = for_each_record(p, LogFormat::Combined, |r| {
                seen.push((String::from_utf8_lossy(r.target).to_string(), r.status));
            })
            .unwrap();
            assert_eq!(n, Counted { lines: 3, used: 2 });
            assert_eq!(
                seen,
                vec![
                    ("/items/1".to_string(), 200),
                    ("/checkout".to_string(), 503)
                ]
            );
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
