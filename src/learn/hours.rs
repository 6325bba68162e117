//! A vector indexed by hour since the epoch, grown on demand at either end.
//!
//! The learner's per-hour state (request counts, inter-arrival sums) is the only state that
//! grows with the log, and it grows with the log's time span, not its length: a year of
//! history is 8 760 slots however many lines it holds.

/// Values per hour for the hours between the earliest and the latest seen.
#[derive(Debug, Clone, Default)]
pub struct HourVec<T> {
    first: i64,
    slots: Vec<T>,
}

/// The longest span the learner accepts between a log's first and last hour (20 years):
/// a guard against one absurd timestamp allocating gigabytes.
pub const MAX_HOURS: i64 = 20 * 366 * 24;

impl<T: Default + Clone> HourVec<T> {
    /// The slot of `hour`, created (with the slots between) if needed; `None` when it would
    /// stretch the span past [`MAX_HOURS`].
    #[inline]
    pub fn slot(&mut self, hour: i64) -> Option<&mut T> {
        if self.slots.is_empty() {
            self.first = hour;
            self.slots.push(T::default());
        }
        if hour < self.first {
            let grow = self.first - hour;
            if grow + self.slots.len() as i64 > MAX_HOURS {
                return None;
            }
            let mut v = vec![T::default(); grow as usize];
            v.append(&mut self.slots);
            self.slots = v;
            self.first = hour;
        }
        let i = (hour - self.first) as usize;
        if i >= self.slots.len() {
            if i as i64 >= MAX_HOURS {
                return None;
            }
            self.slots.resize(i + 1, T::default());
        }
        Some(&mut self.slots[i])
    }

    pub fn get(&self, hour: i64) -> Option<&T> {
        if hour < self.first {
            return None;
        }
        self.slots.get((hour - self.first) as usize)
    }

    pub fn iter(&self) -> impl Iterator<Item = (i64, &T)> {
        self.slots
            .iter()
            .enumerate()
            .map(move |(i, v)| (self.first + i as i64, v))
    }
}
