//! Go 1.27.3's map: Swiss tables under an extendible-hashing directory.
//!
//! Go: internal/runtime/maps. The pieces, smallest first, each in the file named after Go's:
//!
//! - [`group`]: a control word of eight bytes and eight key/value slots, matched with SWAR.
//! - [`table`]: a power-of-two array of groups (at most 1024 slots), probed triangularly,
//!   with tombstones and `pruneTombstones`.
//! - [`map`]: [`SwissMap`]: the small-map fast path (one group, no table), the directory
//!   indexed by the top hash bits, grow and split.
//! - [`iter`]: Go's randomised iteration order, and a [`Cursor`] that keeps Go's rules when
//!   the map is modified between steps.
//!
//! # Where Rust differs from Go
//!
//! - **Hashing.** Go hashes with `memhash`/`aeshash` keyed by the map's `seed`. Here the
//!   hasher `S` (ahash by default) is fed the seed first and then the key, which keeps it a
//!   keyed hash that changes whenever Go would change the seed.
//! - **Keeping old tables alive.** A Go iterator holds a pointer to the table it walks, and the
//!   garbage collector keeps that table alive after a grow or split replaces it. A Rust table
//!   owns its entries and moves them when it grows, so a [`Cursor`] cannot walk the old one. The
//!   map keeps a key-only copy of each table it replaces while any cursor is alive (see
//!   [`iter`]); iterators that borrow the map ([`Iter`]) need nothing, since the borrow
//!   forbids writes.
//! - **Concurrent writes.** Go's `writing` flag is kept and checked ([`crate::writing`]), but
//!   `&mut self` already rules out what it detects, so safe Rust never trips it.

pub mod group;
pub mod iter;
pub mod map;
pub mod table;

pub use iter::{Cursor, Iter};
pub use map::{SwissMap, SwissShape, TableShape};

// ANCHOR: h1_h2
/// The probe half of a hash: which group a probe starts at (`h1 & (groups - 1)`).
///
/// Go: `h1` (map.go). The directory uses the *top* bits and H2 the bottom seven; H1 is everything
/// above H2, so the low bits of H1 (the ones a table masks with) are independent of H2.
#[inline(always)]
pub fn h1(hash: u64) -> u64 {
    hash >> 7
}

/// The seven bits stored in a full slot's control byte and compared by `match_h2`.
///
/// Go: `h2` (map.go). Seven bits leave the top bit of the control byte free to mark
/// empty/deleted, so one byte tells "free" from "full and probably this key" (1 in 128 odds of
/// a false candidate).
#[inline(always)]
pub fn h2(hash: u64) -> u8 {
    (hash & 0x7f) as u8
}
// ANCHOR_END: h1_h2

/// A cheap per-thread random number: wyrand, seeded once per thread from std's OS-seeded
/// `RandomState`.
///
/// Go: `rand()` (runtime/rand.go), the per-M ChaCha8-backed generator. Its only jobs here are
/// map seeds and iteration offsets, which need to differ between maps and runs, not to be
/// cryptographic.
pub fn rand() -> u64 {
    use std::cell::Cell;
    use std::hash::BuildHasher;
    thread_local! {
        static STATE: Cell<u64> =
            Cell::new(std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64));
    }
    STATE.with(|s| {
        let x = s.get().wrapping_add(0xa076_1d64_78bd_642f);
        s.set(x);
        let t = (x as u128).wrapping_mul((x ^ 0xe703_7ed1_a0b4_28db) as u128);
        ((t >> 64) as u64) ^ (t as u64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h1_and_h2_split_the_hash() {
        let h = 0xDEAD_BEEF_0123_4567u64;
        assert_eq!(h2(h), 0x67);
        assert_eq!(h1(h), h >> 7);
        assert_eq!((h1(h) << 7) | h2(h) as u64, h);
        assert!(
            h2(u64::MAX) < 0x80,
            "H2 never sets the control byte's top bit"
        );
    }

    #[test]
    fn rand_is_not_constant() {
        let xs: Vec<u64> = (0..16).map(|_| rand()).collect();
        let mut d = xs.clone();
        d.sort_unstable();
        d.dedup();
        assert_eq!(d.len(), xs.len());
    }
}
