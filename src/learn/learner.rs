//! The one-pass learner: feeds each line to the aggregates and keeps the bookkeeping of
//! unusable lines, other-format lines and clock jumps.
//!
//! All state is bounded by the model: the endpoint table (capped), per-hour counters (grow
//! with the time span), the arrival ring (fixed) and the open-session table (capped, swept).
//! [`Learner::finish`] (in finish.rs) turns it into a [`TrafficProfile`](super::TrafficProfile).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::arrivals::{ArrivalStats, RING};
use super::coverage::GapTracker;
use super::endpoints::EndpointTable;
use super::error::{BadLine, LearnError};
use super::format::{self, family, LogFormat};
use super::hash::hash_bytes;
use super::hours::HourVec;
use super::lines::{for_each_line, MAX_LINE};
use super::options::LearnOptions;
use super::record::LineError;
use super::sessions::SessionTracker;
use super::template::Templater;
use super::timestamp::DateCache;

/// Streaming state of one learning run over one or more files. It is `Clone` so that a model
/// can be taken in the middle of a stream ([`Learner::snapshot`]) and the stream go on.
#[derive(Clone)]
pub struct Learner {
    pub(super) opts: LearnOptions,
    pub(super) format: Option<LogFormat>,
    templater: Templater,
    dates: DateCache,
    key: Vec<u8>,
    pub(super) endpoints: EndpointTable,
    pub(super) sessions: SessionTracker,
    pub(super) arrivals: ArrivalStats,
    pub(super) hours: HourVec<u64>,
    /// Pauses that are missing data (the log stopped), and what they leave uncovered.
    pub(super) gaps: GapTracker,
    pub(super) files: Vec<String>,
    pub(super) lines: u64,
    pub(super) used: u64,
    pub(super) bad: u64,
    pub(super) examples: Vec<BadLine>,
    pub(super) no_timestamp: u64,
    /// Lines that parse as another format family: count and first (file, line) per family.
    pub(super) foreign: [(u64, Option<(usize, u64)>); 3],
    pub(super) jumps: u64,
    pub(super) jump_examples: Vec<BadLine>,
    pub(super) min_us: i64,
    pub(super) max_us: i64,
    pub(super) subsecond: bool,
    /// The time of the first and of the most recent line with a timestamp (to name a log
    /// that runs backwards).
    pub(super) first_us: Option<i64>,
    pub(super) prev_us: i64,
    tolerance_us: i64,
}

impl Learner {
    /// A learner for logs in `format` (`None`: detect it from the first readable line).
    pub fn new(format: Option<LogFormat>, opts: LearnOptions) -> Result<Learner, LearnError> {
        opts.validate()?;
        Ok(Learner {
            templater: Templater::new(&opts.templates)?,
            endpoints: EndpointTable::new(opts.max_endpoints),
            sessions: SessionTracker::new(opts.idle_s),
            tolerance_us: opts.clock_tolerance_s.min((RING as i64 - 128).min(3600)) * 1_000_000,
            opts,
            format,
            dates: DateCache::default(),
            key: Vec::with_capacity(256),
            arrivals: ArrivalStats::default(),
            hours: HourVec::default(),
            gaps: GapTracker::default(),
            files: Vec::new(),
            lines: 0,
            used: 0,
            bad: 0,
            examples: Vec::new(),
            no_timestamp: 0,
            foreign: [(0, None); 3],
            jumps: 0,
            jump_examples: Vec::new(),
            min_us: i64::MAX,
            max_us: i64::MIN,
            subsecond: false,
            first_us: None,
            prev_us: i64::MIN,
        })
    }

    /// Reads a log file (`-` is standard input).
    pub fn read_path(&mut self, path: &Path) -> Result<(), LearnError> {
        let name = path.display().to_string();
        if name == "-" {
            let stdin = std::io::stdin();
            return self.read(&name, stdin.lock());
        }
        let file = std::fs::File::open(path).map_err(|e| LearnError::Io {
            path: name.clone(),
            source: e,
        })?;
        self.read(&name, BufReader::with_capacity(1 << 20, file))
    }

    /// Reads a log from any reader; `name` is used in messages.
    pub fn read(&mut self, name: &str, reader: impl Read) -> Result<(), LearnError> {
        let mut r = BufReader::with_capacity(1 << 20, reader);
        let io = |e: std::io::Error| LearnError::Io {
            path: name.to_string(),
            source: e,
        };
        let head = r.fill_buf().map_err(io)?;
        if head.starts_with(&[0x1f, 0x8b]) {
            // Rotated logs are usually gzipped (access.log.2.gz): decompress as we stream.
            let gz: Box<dyn Read + '_> = Box::new(flate2::read::MultiGzDecoder::new(r));
            return self.read(name, gz);
        }
        let file = self.files.len();
        self.files.push(name.to_string());
        self.feed(file, 0, &mut r).map_err(io)
    }

    /// Reads more of a log, as it grows: `reader` holds the lines after the `lines_before`
    /// lines already read from `name` (numbered on from there, for messages). The name is
    /// listed once while it is the last file read. No gzip detection: give it decompressed
    /// bytes. A last line without its newline counts as a line, so give it whole lines only
    /// when more may follow. Returns the number of lines read.
    pub fn read_more(
        &mut self,
        name: &str,
        reader: impl Read,
        lines_before: u64,
    ) -> Result<u64, LearnError> {
        let mut r = BufReader::with_capacity(1 << 20, reader);
        let file = match self.files.last() {
            Some(last) if last == name => self.files.len() - 1,
            _ => {
                self.files.push(name.to_string());
                self.files.len() - 1
            }
        };
        let before = self.lines;
        self.feed(file, lines_before, &mut r)
            .map_err(|e| LearnError::Io {
                path: name.to_string(),
                source: e,
            })?;
        Ok(self.lines - before)
    }

    /// Lines read so far (used or not).
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// The model of what was read so far, leaving the learner to read on: the same as
    /// [`Learner::finish`] would give now.
    pub fn snapshot(&self) -> Result<super::TrafficProfile, LearnError> {
        self.clone().finish()
    }

    fn feed(&mut self, file: usize, base: u64, r: &mut impl BufRead) -> std::io::Result<()> {
        for_each_line(r, |n, line, too_long| {
            let n = base + n;
            if too_long {
                self.lines += 1;
                self.reject(
                    file,
                    n,
                    &format!("line longer than {} KiB", MAX_LINE / 1024),
                );
            } else if !line.iter().all(|b| b.is_ascii_whitespace()) {
                self.line(file, n, line);
            }
        })
    }

    fn reject(&mut self, file: usize, line: u64, reason: &str) {
        self.bad += 1;
        if self.examples.len() < self.opts.examples {
            self.examples.push(BadLine {
                file: self.files[file].clone(),
                line,
                reason: reason.to_string(),
            });
        }
    }

    #[inline]
    fn line(&mut self, file: usize, n: u64, line: &[u8]) {
        self.lines += 1;
        let fmt = match self.format {
            Some(f) => f,
            None => match format::sniff(line) {
                Some(f) => {
                    self.format = Some(f);
                    f
                }
                None => {
                    self.reject(file, n, "not a line of any known log format");
                    return;
                }
            },
        };
        let rec = match format::parse(fmt, line, &mut self.dates) {
            Ok(r) => r,
            Err(e) => {
                self.unusable(file, n, line, fmt, e);
                return;
            }
        };
        let t = rec.time_us;
        self.prev_us = t;
        self.first_us.get_or_insert(t);
        if t < self.max_us.saturating_sub(self.tolerance_us) {
            self.jumps += 1;
            if self.jump_examples.len() < self.opts.examples {
                let back = (self.max_us - t) as f64 / 1e6;
                self.jump_examples.push(BadLine {
                    file: self.files[file].clone(),
                    line: n,
                    reason: format!(
                        "{} is {} before an earlier line",
                        crate::units::Timestamp(t.div_euclid(1_000_000)),
                        crate::units::Duration::from_secs(back.round())
                    ),
                });
            }
            let reason = "clock jump: older than an earlier line";
            self.reject(file, n, reason);
            return;
        }
        let sec = t.div_euclid(1_000_000);
        let hour = sec.div_euclid(3600);
        match self.hours.slot(hour) {
            Some(c) => *c += 1,
            None => {
                self.reject(file, n, "timestamp decades away from the rest of the log");
                return;
            }
        }
        self.used += 1;
        self.gaps.record(t, self.max_us);
        self.max_us = self.max_us.max(t);
        self.min_us = self.min_us.min(t);
        self.subsecond |= rec.subsecond;

        self.key.clear();
        self.key.extend_from_slice(rec.method);
        self.key.push(b' ');
        self.templater.render(rec.target, &mut self.key);
        let ep = self.endpoints.row(&self.key, rec.method.len());
        let row = &mut self.endpoints.rows[ep as usize];
        row.count += 1;
        row.add_status(rec.status);
        if let Some(b) = rec.response_bytes {
            row.response_bytes.record(b);
        }
        if let Some(b) = rec.request_bytes {
            row.request_bytes.record(b);
        }
        if let Some(s) = rec.service_us {
            row.service_us.record(s);
        }
        row.by_hour[hour.rem_euclid(24) as usize] += 1;

        self.arrivals.record(sec, t, rec.subsecond);
        let client = hash_bytes(0x5eed, rec.client);
        let key = hash_bytes(client, rec.user_agent);
        self.sessions.record(key, ep, t, self.max_us);
    }

    fn unusable(&mut self, file: usize, n: u64, line: &[u8], fmt: LogFormat, e: LineError) {
        if e == LineError::NoTimestamp {
            self.no_timestamp += 1;
        }
        if let Some(other) = format::sniff(line) {
            if family(other) != family(fmt) {
                let slot = &mut self.foreign[family(other) as usize];
                slot.0 += 1;
                slot.1.get_or_insert((file, n));
                let reason = format!(
                    "a {} line in a {} log",
                    format::name(other),
                    format::name(fmt)
                );
                self.reject(file, n, &reason);
                return;
            }
        }
        self.reject(file, n, e.reason());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(from: u32, n: u32) -> String {
        (from..from + n)
            .map(|i| {
                let (m, sec) = (i / 60 % 60, i % 60);
                let path = ["/", "/cart", "/item/12", "/item/7"][(i % 4) as usize];
                format!(
                    "10.0.0.{} - - [10/Oct/2026:13:{m:02}:{sec:02} +0000] \"GET {path} HTTP/1.1\" 200 {} \"-\" \"ua{}\"\n",
                    i % 7,
                    100 + i,
                    i % 3
                )
            })
            .collect()
    }

    #[test]
    fn snapshot_then_continue_equals_one_pass() {
        let (a, b) = (log(0, 700), log(700, 900));
        let opts = LearnOptions::default();
        let mut whole = Learner::new(Some(LogFormat::Combined), opts.clone()).unwrap();
        whole
            .read("access.log", format!("{a}{b}").as_bytes())
            .unwrap();
        let whole = whole.finish().unwrap();

        let mut live = Learner::new(Some(LogFormat::Combined), opts).unwrap();
        assert_eq!(live.read_more("access.log", a.as_bytes(), 0).unwrap(), 700);
        let first = live.snapshot().unwrap();
        assert_eq!(first.requests, 700);
        assert_eq!(
            live.read_more("access.log", b.as_bytes(), 700).unwrap(),
            900
        );
        let second = live.snapshot().unwrap();
        assert_eq!(second, live.finish().unwrap());
        assert_eq!(second, whole);
        assert_eq!(second.requests, 1600);
        assert_eq!(second.source.files, vec!["access.log".to_string()]);
    }
}
