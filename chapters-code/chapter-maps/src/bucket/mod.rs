//! The classic Go map (Go 1.0 – 1.23), kept to compare with today's Swiss table.
//!
//! Go 1.23: `runtime/map.go`. Go 1.24 replaced it with `internal/runtime/maps`, and go1.27.3
//! no longer carries it at all; this module is the reference point for the chapter's
//! comparisons: memory per entry, probe lengths, growth pauses and iteration.
//!
//! The design in four lines:
//! - 2^B **buckets** of 8 slots (`Bmap`, in `bucket/bmap.rs`). The low B bits of the hash pick the
//!   bucket; the top 8 bits (the **tophash**) sit in a byte per slot so a lookup compares keys
//!   only when that byte matches.
//! - A full bucket links an **overflow bucket**; chains can grow without bound.
//! - Past 6.5 entries per bucket the map **doubles** (or, with as many overflow buckets as
//!   buckets, grows to the *same* size to repack them).
//! - A grow moves nothing at once: every later write **evacuates** one or two old buckets, so
//!   no single insert pays for copying the whole map. Lookups and iteration read old buckets
//!   that are not yet evacuated.
//!
//! Read `Hmap::assign` and `Hmap::evacuate` (in `bucket/hmap.rs`) first: together they are the
//! whole growth story.

mod bmap;
mod hmap;
mod iter;

#[cfg(test)]
mod tests;

use std::borrow::Borrow;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::mem;

pub use self::bmap::{
    tophash, BUCKET_CNT, EMPTY_ONE, EMPTY_REST, EVACUATED_EMPTY, EVACUATED_X, EVACUATED_Y,
    LOAD_FACTOR_DEN, LOAD_FACTOR_NUM, MIN_TOP_HASH,
};
pub use self::hmap::{over_load_factor, too_many_overflow_buckets};
pub use self::iter::Iter;

use self::bmap::Bmap;
use self::hmap::{hash_key, Hmap};
use crate::writing::{fatal, Writing};

/// Go's pre-1.24 `map[K]V`: buckets with tophash bytes, overflow chains, load factor 6.5 and
/// incremental evacuation.
///
/// The API follows `std::collections::HashMap`. Hashing mixes a per-map random seed (`hash0`)
/// into `S`, as Go mixes `h.hash0` into the type's hasher.
pub struct BucketMap<K, V, S = ahash::RandomState> {
    pub(crate) h: Hmap<K, V>,
    pub(crate) hash_builder: S,
    /// Go's `hashWriting` flag.
    pub(crate) writing: Writing,
}

/// A snapshot of a map's bucket structure, for the chapter's tables.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketShape {
    /// Live entries.
    pub count: usize,
    /// log2 of the number of main buckets.
    pub b: u8,
    /// Main buckets allocated (2^B, or 0 before the first insert of a small map).
    pub buckets: usize,
    /// Overflow buckets linked into chains in the current array.
    pub overflow_buckets: usize,
    /// Preallocated overflow buckets not yet used (Go's `extra.nextOverflow` onwards).
    pub spare_overflow_buckets: usize,
    /// Go's `noverflow` counter (what `tooManyOverflowBuckets` looks at).
    pub noverflow: u16,
    /// A grow is in progress (`oldbuckets != nil`).
    pub growing: bool,
    /// The grow in progress keeps the size.
    pub same_size_grow: bool,
    /// Main buckets of the old array (0 when not growing).
    pub old_buckets: usize,
    /// Overflow buckets of the old array (0 when not growing).
    pub old_overflow_buckets: usize,
    /// Go's `nevacuate`: old buckets below it are evacuated.
    pub nevacuate: usize,
    /// Old buckets evacuated so far, in any order (0 when not growing).
    pub evacuated: usize,
    /// Entries per main bucket.
    pub load_factor: f64,
}

/// Go 1.23: the `hashWriting` dance of `mapassign`/`mapdelete`/`mapclear`. A guard instead of
/// a plain pair of calls so a panicking `Hash` or `Eq` does not leave the flag set.
struct WriteGuard<'a>(&'a Writing);

impl<'a> WriteGuard<'a> {
    #[inline]
    fn begin(w: &'a Writing) -> Self {
        if let Err(e) = w.begin_write() {
            fatal(e);
        }
        WriteGuard(w)
    }
}

impl Drop for WriteGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Err(e) = self.0.end_write() {
            fatal(e);
        }
    }
}

impl<K, V> BucketMap<K, V, ahash::RandomState> {
    /// An empty map with no buckets yet. Go 1.23: `runtime.makemap_small`.
    pub fn new() -> Self {
        Self::with_hasher(ahash::RandomState::new())
    }

    /// A map sized for `hint` entries. Go 1.23: `runtime.makemap`.
    pub fn with_capacity(hint: usize) -> Self {
        Self::with_capacity_and_hasher(hint, ahash::RandomState::new())
    }
}

impl<K, V, S> BucketMap<K, V, S> {
    /// An empty map with no buckets yet, hashing with `hash_builder`.
    pub fn with_hasher(hash_builder: S) -> Self {
        BucketMap {
            h: Hmap::new(0),
            hash_builder,
            writing: Writing::new(),
        }
    }

    // ANCHOR: makemap
    /// A map sized for `hint` entries: B is the smallest with `hint` not over the load factor.
    ///
    /// Go 1.23: `runtime.makemap` (runtime/map.go). With B = 0 nothing is allocated until the
    /// first insert.
    pub fn with_capacity_and_hasher(hint: usize, hash_builder: S) -> Self {
        let mut b = 0u8;
        while over_load_factor(hint, b) {
            b += 1;
        }
        BucketMap {
            h: Hmap::new(b),
            hash_builder,
            writing: Writing::new(),
        }
    }
    // ANCHOR_END: makemap

    /// Go: `len(m)`.
    pub fn len(&self) -> usize {
        self.h.count
    }

    pub fn is_empty(&self) -> bool {
        self.h.count == 0
    }

    pub fn hasher(&self) -> &S {
        &self.hash_builder
    }

    /// Removes every entry, keeping the main bucket array.
    ///
    /// Go 1.23: `runtime.mapclear` (runtime/map.go): any grow ends, overflow buckets go, and
    /// the map gets a new seed.
    pub fn clear(&mut self) {
        if self.h.count == 0 {
            return;
        }
        let _w = WriteGuard::begin(&self.writing);
        self.h.clear();
    }

    /// The bucket structure right now.
    pub fn shape(&self) -> BucketShape {
        let h = &self.h;
        let old = h.oldbuckets.as_ref();
        BucketShape {
            count: h.count,
            b: h.b,
            buckets: h.buckets.nbuckets(),
            overflow_buckets: h.buckets.overflow_in_use(),
            spare_overflow_buckets: h.buckets.buckets.len() - h.buckets.next_overflow,
            noverflow: h.noverflow,
            growing: h.growing(),
            same_size_grow: h.same_size_grow(),
            old_buckets: old.map_or(0, |o| o.nbuckets()),
            old_overflow_buckets: old.map_or(0, |o| o.overflow_in_use()),
            nevacuate: h.nevacuate,
            evacuated: h.evacuated_buckets(),
            load_factor: h.count as f64 / (1u64 << h.b) as f64,
        }
    }

    /// Bytes allocated for buckets: main and preallocated overflow buckets, overflow buckets
    /// allocated one by one (and the vector that holds them), for both generations during a
    /// grow. The map header itself is not counted.
    pub fn heap_bytes(&self) -> usize {
        self.h.buckets.heap_bytes() + self.h.oldbuckets.as_ref().map_or(0, |o| o.heap_bytes())
    }

    /// Size of one bucket in bytes (144 for `BucketMap<u64, u64>`, as in Go).
    pub const fn bucket_size() -> usize {
        mem::size_of::<Bmap<K, V>>()
    }

    /// For each present key, how many buckets (main plus overflow) a lookup visits to find it:
    /// (average, maximum). (0.0, 0) when empty.
    ///
    /// A key at position p of its chain costs p + 1 buckets. During a grow, keys still in an
    /// unevacuated old bucket are found through the old chain, as lookups do.
    pub fn probe_lengths(&self) -> (f64, usize) {
        let h = &self.h;
        let (mut total, mut max, mut n) = (0usize, 0usize, 0usize);
        let mut walk = |arr: &bmap::BucketArray<K, V>, start: usize| {
            let (mut bi, mut depth) = (start, 1);
            loop {
                let b = arr.bucket(bi);
                let full = (0..BUCKET_CNT).filter(|&i| b.is_full(i)).count();
                total += full * depth;
                n += full;
                if full > 0 {
                    max = max.max(depth);
                }
                match b.overflow {
                    0 => break,
                    o => (bi, depth) = (o, depth + 1),
                }
            }
        };
        for i in 0..h.buckets.nbuckets() {
            walk(&h.buckets, i);
        }
        if let Some(old) = &h.oldbuckets {
            for i in 0..old.nbuckets() {
                if !old.buckets[i].evacuated() {
                    walk(old, i);
                }
            }
        }
        debug_assert_eq!(n, h.count);
        if n == 0 {
            (0.0, 0)
        } else {
            (total as f64 / n as f64, max)
        }
    }

    /// The tophash bytes of every chain of the current array: `[bucket][chain position]`.
    /// During a grow, new buckets whose old bucket is not yet evacuated are still empty.
    pub fn bucket_tophashes(&self) -> Vec<Vec<[u8; BUCKET_CNT]>> {
        let arr = &self.h.buckets;
        (0..arr.nbuckets())
            .map(|start| {
                let mut chain = Vec::new();
                let mut bi = start;
                loop {
                    let b = arr.bucket(bi);
                    chain.push(b.tophash);
                    match b.overflow {
                        0 => break chain,
                        o => bi = o,
                    }
                }
            })
            .collect()
    }
}

impl<K, V, S> BucketMap<K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    #[inline]
    fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        hash_key(&self.hash_builder, self.h.hash0, key)
    }

    /// Inserts or updates; returns the previous value. Go 1.23: `runtime.mapassign`.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        // Go hashes before setting hashWriting: a panicking hasher has not started a write.
        let hash = self.hash(&key);
        let _w = WriteGuard::begin(&self.writing);
        self.h.assign(&self.hash_builder, hash, key, value)
    }

    /// Go 1.23: `runtime.mapaccess1`. Never allocates and never moves a key.
    #[inline]
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if let Err(e) = self.writing.check_read() {
            fatal(e);
        }
        if self.h.count == 0 {
            return None;
        }
        let slot = self.h.access(self.hash(key), key)?;
        let b = self.h.array(slot.old).bucket(slot.bucket);
        // SAFETY: `access` returned a full slot, and `&self` keeps it so.
        Some(unsafe { b.elem(slot.i) })
    }

    /// Like `get`, for changing the value in place. A lookup, not an assign: it does no grow
    /// work, so it may hand out a value that still sits in an old bucket.
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if let Err(e) = self.writing.check_read() {
            fatal(e);
        }
        if self.h.count == 0 {
            return None;
        }
        let slot = self.h.access(self.hash(key), key)?;
        let b = self.h.array_mut(slot.old).bucket_mut(slot.bucket);
        // SAFETY: `access` returned a full slot, and `&mut self` keeps it so.
        Some(unsafe { b.elem_mut(slot.i) })
    }

    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get(key).is_some()
    }

    /// Removes a key; returns its value. Go 1.23: `runtime.mapdelete`.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self.h.count == 0 {
            return None;
        }
        let hash = self.hash(key);
        let _w = WriteGuard::begin(&self.writing);
        self.h.delete(&self.hash_builder, hash, key)
    }

    /// Every entry once, in Go's randomized order (a new random start on every call).
    pub fn iter(&self) -> Iter<'_, K, V, S> {
        Iter::new(self)
    }
}

impl<K, V, S: Default> Default for BucketMap<K, V, S> {
    fn default() -> Self {
        Self::with_hasher(S::default())
    }
}

impl<'a, K: Eq + Hash, V, S: BuildHasher> IntoIterator for &'a BucketMap<K, V, S> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V, S>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<K: Eq + Hash, V, S: BuildHasher> Extend<(K, V)> for BucketMap<K, V, S> {
    fn extend<T: IntoIterator<Item = (K, V)>>(&mut self, iter: T) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<K: Eq + Hash, V, S: BuildHasher + Default> FromIterator<(K, V)> for BucketMap<K, V, S> {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        let mut m = Self::default();
        m.extend(iter);
        m
    }
}

impl<K, V, S> fmt::Debug for BucketMap<K, V, S>
where
    K: Eq + Hash + fmt::Debug,
    V: fmt::Debug,
    S: BuildHasher,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}
