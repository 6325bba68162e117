//! A small, fast, non-cryptographic hash for the learner's hot tables.
//!
//! The endpoint table and the open-session table are looked up once per log line, so the
//! standard library's DoS-resistant SipHash is a measurable share of the time per line. Log
//! lines are not adversarial input to a hash table that lives for one `res learn` run, so a
//! folded-multiply hash over 8-byte words (the mixing step of wyhash and foldhash) is enough.
//! Session keys are compared by hash alone, so the mixing must be good in every bit: a plain
//! multiply leaves low-bit structure, and addresses differing in one byte then collide.

use std::hash::{BuildHasherDefault, Hasher};

const K: u64 = 0x9e37_79b9_7f4a_7c15;
const SECOND: u64 = 0x2d35_8dcc_aa6c_78a5;

/// Hashes a byte string in one call (used for session keys).
pub fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = FastHasher(seed ^ (bytes.len() as u64).wrapping_mul(K));
    h.write(bytes);
    h.finish()
}

/// A `Hasher` over 8-byte words; `finish` mixes the state so low bits are usable as buckets.
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_one_byte_apart_do_not_collide() {
        let mut seen = std::collections::HashSet::new();
        for a in 0..64u32 {
            for b in 0..256u32 {
                let ip = format!("10.{a}.{b}.7");
                assert!(
                    seen.insert(hash_bytes(hash_bytes(1, ip.as_bytes()), b"Firefox")),
                    "{ip}"
                );
            }
        }
    }
}

impl FastHasher {
    #[inline]
    fn mix(&mut self, word: u64) {
        let r = ((self.0 ^ word) as u128).wrapping_mul(K as u128 | 1);
        self.0 = (r as u64) ^ ((r >> 64) as u64) ^ SECOND;
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.mix(u64::from_le_bytes([
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
            ]));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut tail = [0u8; 8];
            tail[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(tail) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.mix(v);
    }

    #[inline]
    fn write_u32(&mut self, v: u32) {
        self.mix(v as u64);
    }

    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.mix(v as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        let r = (self.0 as u128).wrapping_mul(0xd6e8_feb8_6659_fd93);
        (r as u64) ^ ((r >> 64) as u64)
    }
}

/// Build the fast hasher for `HashMap`s.
pub type FastBuild = BuildHasherDefault<FastHasher>;

/// A hasher for keys that are already hashes (session keys): it passes the value through.
#[derive(Default, Clone, Copy)]
pub struct PassHasher(u64);

impl Hasher for PassHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | b as u64;
        }
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Build the pass-through hasher for maps keyed by precomputed hashes.
pub type PassBuild = BuildHasherDefault<PassHasher>;
