//! From the learner's aggregates to the model: errors on unusable logs, then shares, rates,
//! the hourly series, the arrival law and the session chain.

use std::collections::BTreeMap;

use super::endpoints::EndpointStats;
use super::error::LearnError;
use super::format::{self, LogFormat};
use super::histogram::round_sig;
use super::learner::Learner;
use super::profile::{
    ChainState, Endpoint, Gap, HourlySeries, Sessions, Source, TrafficProfile, Transition, VERSION,
};
use super::rate::rate_profile;
use super::sessions::{unpair, EXIT, START};
use crate::units::Timestamp;

/// Other-format lines above this fraction of the log make it a mixed-format log.
const MIXED_FRACTION: f64 = 0.01;
/// Clock jumps above this fraction of the log are an error, whatever `--max-bad` says.
const JUMP_FRACTION: f64 = 0.01;

const FAMILY_NAMES: [&str; 3] = ["combined", "nginx_json", "alb"];

fn time_hint(f: LogFormat) -> &'static str {
    match f {
        LogFormat::Combined | LogFormat::Common => {
            "CLF lines carry it as [10/Oct/2000:13:55:36 -0700]"
        }
        LogFormat::NginxJson => "expected a time_local, time_iso8601, msec or @timestamp field",
        LogFormat::Alb => "ALB lines carry it as the second field",
    }
}

impl Learner {
    fn path_label(&self) -> String {
        match self.files.len() {
            0 => "the log".into(),
            1 => self.files[0].clone(),
            _ => self.files.join(", "),
        }
    }

    /// Checks that the log was usable, then builds the model.
    pub fn finish(mut self) -> Result<TrafficProfile, LearnError> {
        let path = self.path_label();
        if self.lines == 0 {
            return Err(LearnError::Empty { path });
        }
        let fmt = self.format;
        let fmt_name = fmt.map_or("any known format", format::name);
        let (foreign_family, foreign) = (0..3)
            .map(|i| (i, self.foreign[i]))
            .max_by_key(|(_, f)| f.0)
            .unwrap_or((0, (0, None)));
        if self.used == 0 {
            let unparsed = self.bad - self.jumps;
            if foreign.0 > 0 && foreign.0 * 2 >= unparsed {
                return Err(LearnError::WrongFormat {
                    path,
                    expected: fmt_name,
                    found: FAMILY_NAMES[foreign_family],
                });
            }
            if let Some(f) = fmt {
                if self.no_timestamp > 0 && self.no_timestamp * 2 >= unparsed {
                    return Err(LearnError::NoTimestamps {
                        path,
                        lines: self.lines,
                        format: format::name(f),
                        hint: time_hint(f),
                    });
                }
            }
            return Err(LearnError::NothingParsed {
                path,
                format: fmt_name,
                examples: self.examples,
            });
        }
        if foreign.0 > 0 && foreign.0 as f64 >= MIXED_FRACTION * self.lines as f64 {
            let (file, line) = foreign.1.unwrap_or((0, 0));
            return Err(LearnError::MixedFormats {
                path: self.files[file].clone(),
                expected: fmt_name,
                found: FAMILY_NAMES[foreign_family],
                count: foreign.0,
                lines: self.lines,
                first_line: line,
            });
        }
        let jumps_over = self.jumps as f64 >= JUMP_FRACTION * self.lines as f64
            || self
                .opts
                .max_bad
                .is_some_and(|m| m.exceeded(self.jumps, self.lines));
        // A log that runs newest first: most lines are older than one before them.
        let timed = self.used + self.jumps;
        if self.jumps * 2 > timed {
            return Err(LearnError::Backwards {
                count: self.jumps,
                lines: timed,
                first: Timestamp(self.first_us.unwrap_or(0).div_euclid(1_000_000)).to_rfc3339(),
                last: Timestamp(self.prev_us.div_euclid(1_000_000)).to_rfc3339(),
            });
        }
        if self.jumps > 0 && jumps_over {
            return Err(LearnError::ClockJumps {
                count: self.jumps,
                lines: self.lines,
                tolerance_s: self.opts.clock_tolerance_s,
                examples: self.jump_examples,
            });
        }
        if let Some(m) = self.opts.max_bad {
            if m.exceeded(self.bad, self.lines) {
                return Err(LearnError::TooManyBad {
                    bad: self.bad,
                    lines: self.lines,
                    percent: self.bad as f64 * 100.0 / self.lines as f64,
                    limit: m.to_string(),
                    examples: self.examples,
                });
            }
        }
        Ok(self.build())
    }

    fn build(&mut self) -> TrafficProfile {
        let total = self.used as f64;
        let rows = std::mem::take(&mut self.endpoints.rows);
        let mut order: Vec<usize> = (0..rows.len()).collect();
        // By count, the `*` overflow row last, ties by name for stable files.
        order.sort_by(|&a, &b| {
            let (ra, rb) = (&rows[a], &rows[b]);
            (ra.template == "*")
                .cmp(&(rb.template == "*"))
                .then(rb.count.cmp(&ra.count))
                .then(ra.template.cmp(&rb.template))
                .then(ra.method.cmp(&rb.method))
        });
        let mut by_hour_total = [0u64; 24];
        for r in &rows {
            for (t, c) in by_hour_total.iter_mut().zip(r.by_hour) {
                *t += c;
            }
        }
        let endpoints: Vec<Endpoint> = order
            .iter()
            .map(|&i| endpoint(&rows[i], total, &by_hour_total))
            .collect();
        let names: Vec<String> = rows
            .iter()
            .map(|r| format!("{} {}", r.method, r.template))
            .collect();

        let series = self.series();
        let covered_s = series.coverage.iter().sum::<f64>() * 3600.0;
        let rate = rate_profile(&series, total, covered_s);
        let hours = &self.hours;
        let (gaps, end) = (&self.gaps, self.end_us());
        let first = self.min_us;
        let arrivals = std::mem::take(&mut self.arrivals);
        // The local rate of an hour is over the part of it the log covers.
        let arrival = arrivals.finish(|h| {
            let cov = gaps.coverage(h, first, end);
            hours.get(h).map_or(0.0, |&c| {
                if cov > 0.0 {
                    c as f64 / (3600.0 * cov)
                } else {
                    0.0
                }
            })
        });
        let sessions = self.sessions_model(&names, &order);
        TrafficProfile {
            version: VERSION,
            source: Source {
                files: self.files.clone(),
                format: self.format.map_or("unknown", format::name).to_string(),
                lines: self.lines,
                bad_lines: self.bad,
                bad_examples: self.examples.clone(),
                clock_jumps: self.jumps,
                first: Timestamp(self.min_us.div_euclid(1_000_000)).to_rfc3339(),
                last: Timestamp(self.max_us.div_euclid(1_000_000)).to_rfc3339(),
                span_s: round_sig(self.span_s()),
                subsecond: self.subsecond,
                covered_s: round_sig(covered_s),
                gaps: self
                    .gaps
                    .gaps
                    .iter()
                    .map(|&(a, b)| Gap {
                        from: Timestamp(a.div_euclid(1_000_000)).to_rfc3339(),
                        to: Timestamp(b.div_euclid(1_000_000)).to_rfc3339(),
                        duration_s: round_sig((b - a) as f64 / 1e6),
                    })
                    .collect(),
                gap_count: self.gaps.count,
            },
            requests: self.used,
            endpoints,
            rate,
            arrival,
            sessions,
            series,
        }
    }

    fn span_s(&self) -> f64 {
        (self.max_us - self.min_us) as f64 / 1e6
    }

    /// The end of the covered time (exclusive, microseconds): with whole-second timestamps
    /// the last request's second is covered to its end.
    fn end_us(&self) -> i64 {
        self.max_us + if self.subsecond { 1 } else { 1_000_000 }
    }

    /// Hourly counts, each over the part of its hour the log covers, with that coverage.
    fn series(&self) -> HourlySeries {
        let end = self.end_us();
        let first_hour = self.min_us.div_euclid(3_600_000_000);
        let last_hour = (end - 1).div_euclid(3_600_000_000);
        let (mut counts, mut coverage) = (Vec::new(), Vec::new());
        for h in first_hour..=last_hour {
            let c = self.hours.get(h).copied().unwrap_or(0) as f64;
            let cov = self.gaps.coverage(h, self.min_us, end);
            // Rated over at least a second: a burst stamped with one microsecond is not a
            // rate of billions an hour.
            counts.push(if cov > 0.0 {
                round_sig(c / cov.max(1.0 / 3600.0))
            } else {
                0.0
            });
            coverage.push(round_sig(cov));
        }
        HourlySeries {
            start: Timestamp(first_hour * 3600).to_rfc3339(),
            step_s: 3600,
            counts,
            coverage,
        }
    }

    fn sessions_model(&mut self, names: &[String], order: &[usize]) -> Sessions {
        self.sessions.finish();
        let s = &self.sessions;
        let state_name = |st: u32| -> String {
            match st {
                START => "START".into(),
                EXIT => "EXIT".into(),
                i => names[(i - 1) as usize].clone(),
            }
        };
        // Rank of each state in the output: START, then endpoints in model order.
        let mut rank = vec![0usize; names.len() + 1];
        for (pos, &i) in order.iter().enumerate() {
            rank[i + 1] = pos + 1;
        }
        let mut grouped: BTreeMap<usize, (u32, Vec<(u32, u64)>)> = BTreeMap::new();
        for (&k, &c) in &s.transitions {
            let (from, to) = unpair(k);
            grouped
                .entry(rank[from as usize])
                .or_insert((from, Vec::new()))
                .1
                .push((to, c));
        }
        let chain = grouped
            .into_values()
            .map(|(from, mut next)| {
                let sum: u64 = next.iter().map(|n| n.1).sum();
                next.sort_by(|a, b| b.1.cmp(&a.1).then(state_name(a.0).cmp(&state_name(b.0))));
                let think = (from != START)
                    .then(|| s.think_ms.get((from - 1) as usize))
                    .flatten()
                    .filter(|h| !h.is_empty())
                    .map(|h| h.summary(1e-3));
                ChainState {
                    from: state_name(from),
                    next: next
                        .into_iter()
                        .map(|(to, c)| Transition {
                            to: state_name(to),
                            p: round_sig(c as f64 / sum as f64),
                            count: c,
                        })
                        .collect(),
                    think_s: think,
                }
            })
            .collect();
        Sessions {
            idle_cutoff_s: self.opts.idle_s,
            count: s.sessions,
            forced_ends: s.forced,
            requests_per_session: (!s.lengths.is_empty()).then(|| s.lengths.summary(1.0)),
            duration_s: (!s.durations_s.is_empty()).then(|| s.durations_s.summary(1.0)),
            chain,
        }
    }
}

fn endpoint(r: &EndpointStats, total: f64, by_hour_total: &[u64; 24]) -> Endpoint {
    let n = r.count.max(1) as f64;
    let mut statuses = r.statuses.clone();
    statuses.sort();
    Endpoint {
        method: r.method.clone(),
        template: r.template.clone(),
        share: round_sig(r.count as f64 / total),
        requests: r.count,
        status: statuses
            .iter()
            .map(|&(s, c)| (s.to_string(), round_sig(c as f64 / n)))
            .collect(),
        response_bytes: (!r.response_bytes.is_empty()).then(|| r.response_bytes.summary(1.0)),
        request_bytes: (!r.request_bytes.is_empty()).then(|| r.request_bytes.summary(1.0)),
        service_time_ms: (!r.service_us.is_empty()).then(|| r.service_us.summary(1e-3)),
        share_by_hour: r
            .by_hour
            .iter()
            .zip(by_hour_total)
            .map(|(&c, &t)| {
                if t == 0 {
                    0.0
                } else {
                    round_sig(c as f64 / t as f64)
                }
            })
            .collect(),
    }
}
