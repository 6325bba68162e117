//! The endpoint table: per (method, template) counts, status mix, sizes and service times.
//!
//! The table is capped (`max_endpoints`): a log of a site whose templating misses an id
//! (`/search/shoes`, `/search/hats`, ...) would otherwise grow a row per distinct path. Rows
//! past the cap go to one `other` row, whose share the summary shows, so the user sees when
//! a `--template` is needed.

use std::collections::HashMap;

use super::hash::FastBuild;
use super::histogram::LogHistogram;

/// What is known of one endpoint.
#[derive(Debug, Clone, Default)]
pub struct EndpointStats {
    pub method: String,
    pub template: String,
    pub count: u64,
    /// (status, count), few per endpoint, scanned linearly.
    pub statuses: Vec<(u16, u64)>,
    pub response_bytes: LogHistogram,
    pub request_bytes: LogHistogram,
    pub service_us: LogHistogram,
    /// Requests by hour of day (UTC): the endpoint mix over the day.
    pub by_hour: [u64; 24],
}

impl EndpointStats {
    #[inline]
    pub fn add_status(&mut self, status: u16) {
        if let Some(e) = self.statuses.iter_mut().find(|(s, _)| *s == status) {
            e.1 += 1;
        } else if self.statuses.len() < 64 {
            self.statuses.push((status, 1));
        }
    }
}

/// Name of the overflow row's method and template.
pub const OTHER: &str = "*";

/// Endpoints by `METHOD template` key.
#[derive(Clone)]
pub struct EndpointTable {
    index: HashMap<Vec<u8>, u32, FastBuild>,
    pub rows: Vec<EndpointStats>,
    cap: usize,
    other: Option<u32>,
    /// Requests that went to the overflow row.
    pub overflow: u64,
}

impl EndpointTable {
    pub fn new(cap: usize) -> EndpointTable {
        EndpointTable {
            index: HashMap::default(),
            rows: Vec::new(),
            cap: cap.max(1),
            other: None,
            overflow: 0,
        }
    }

    /// The row of `key` (`METHOD template`, split at `method_len`), created if there is room.
    #[inline]
    pub fn row(&mut self, key: &[u8], method_len: usize) -> u32 {
        if let Some(&i) = self.index.get(key) {
            return i;
        }
        if self.index.len() >= self.cap {
            self.overflow += 1;
            if let Some(o) = self.other {
                return o;
            }
            let o = self.rows.len() as u32;
            self.rows.push(EndpointStats {
                method: OTHER.into(),
                template: OTHER.into(),
                ..Default::default()
            });
            self.other = Some(o);
            return o;
        }
        let i = self.rows.len() as u32;
        self.rows.push(EndpointStats {
            method: String::from_utf8_lossy(&key[..method_len]).into_owned(),
            template: String::from_utf8_lossy(&key[method_len + 1..]).into_owned(),
            ..Default::default()
        });
        self.index.insert(key.to_vec(), i);
        i
    }
}
