//! The map header and its algorithms: lookup, assign, delete, grow and evacuate.
//!
//! Go 1.23: `runtime/map.go` (`hmap`, `mapaccess1`, `mapassign`, `mapdelete`, `hashGrow`,
//! `growWork`, `evacuate`, `advanceEvacuationMark`, `mapclear`).

use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash, Hasher};
use std::mem;

use super::bmap::{
    is_empty, tophash, BucketArray, BUCKET_CNT, EMPTY_ONE, EMPTY_REST, EVACUATED_EMPTY,
    EVACUATED_X, LOAD_FACTOR_DEN, LOAD_FACTOR_NUM, MIN_TOP_HASH,
};

/// `flags` bit: the current grow keeps the size (Go: `sameSizeGrow`). Go's other flag bits
/// (`iterator`, `oldIterator`, `hashWriting`) are not needed here: a Rust iterator borrows the
/// map, so no write can happen while one is alive, and `hashWriting` is the map's `Writing`.
pub(crate) const SAME_SIZE_GROW: u8 = 8;

/// Go: `bucketShift`.
#[inline]
pub(crate) fn bucket_shift(b: u8) -> usize {
    1usize << b
}

/// Go: `bucketMask`.
#[inline]
pub(crate) fn bucket_mask(b: u8) -> usize {
    bucket_shift(b) - 1
}

// ANCHOR: overLoadFactor
/// Does `count` entries in 2^B buckets exceed the load factor 6.5?
///
/// Go 1.23: `runtime.overLoadFactor` (runtime/map.go). Up to 8 entries always fit: one bucket
/// holds them. The integer form `13 * (2^B / 2)` is 6.5 × 2^B for B ≥ 1 and 0 for B = 0.
pub fn over_load_factor(count: usize, b: u8) -> bool {
    count > BUCKET_CNT && count > LOAD_FACTOR_NUM * (bucket_shift(b) / LOAD_FACTOR_DEN)
}

/// Are there as many overflow buckets as main buckets (counting at most 2^15)?
///
/// Go 1.23: `runtime.tooManyOverflowBuckets` (runtime/map.go). Inserts and deletes can leave
/// long, sparse overflow chains at a low load factor; this triggers a same-size grow that
/// packs them again. `noverflow` is exact below B = 16 and an estimate above it.
pub fn too_many_overflow_buckets(noverflow: u16, b: u8) -> bool {
    let b = b.min(15);
    noverflow >= 1u16 << b
}
// ANCHOR_END: overLoadFactor

/// The hash of `key` under a map's seed: Go's `t.Hasher(key, uintptr(h.hash0))`.
#[inline]
pub(crate) fn hash_key<S: BuildHasher, Q: Hash + ?Sized>(s: &S, hash0: u64, key: &Q) -> u64 {
    let mut h = s.build_hasher();
    h.write_u64(hash0);
    key.hash(&mut h);
    h.finish()
}

/// Go: `runtime.rand` — a per-thread wyrand, seeded once from std's random keys.
pub(crate) fn rand() -> u64 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new(
            std::collections::hash_map::RandomState::new().hash_one(0x6d61_7073_u64),
        );
    }
    STATE.with(|s| {
        let x = s.get().wrapping_add(0xa076_1d64_78bd_642f);
        s.set(x);
        let t = u128::from(x) * u128::from(x ^ 0xe703_7ed1_a0b4_28db);
        (t as u64) ^ ((t >> 64) as u64)
    })
}

/// Where a lookup found a key: which generation, which bucket (an index into that
/// generation's [`BucketArray`]) and which slot.
#[derive(Clone, Copy)]
pub(crate) struct Slot {
    pub(crate) old: bool,
    pub(crate) bucket: usize,
    pub(crate) i: usize,
}

/// The map header.
///
/// Go 1.23: `runtime.hmap` (runtime/map.go). `buckets`/`oldbuckets` carry their own overflow
/// buckets, which Go keeps in `extra`; `flags` has only `SAME_SIZE_GROW` (see there).
pub(crate) struct Hmap<K, V> {
    /// Live entries: `len(m)`.
    pub(crate) count: usize,
    pub(crate) flags: u8,
    /// log2 of the number of main buckets.
    pub(crate) b: u8,
    /// Overflow buckets allocated for the current array (approximate when B ≥ 16).
    pub(crate) noverflow: u16,
    /// The per-map hash seed.
    pub(crate) hash0: u64,
    pub(crate) buckets: BucketArray<K, V>,
    /// The previous generation while a grow is in progress.
    pub(crate) oldbuckets: Option<BucketArray<K, V>>,
    /// Old buckets below this index are all evacuated.
    pub(crate) nevacuate: usize,
}

impl<K, V> Hmap<K, V> {
    /// Go 1.23: `makemap_small` when `b == 0` (no buckets until the first insert), else
    /// `makemap` with its bucket array.
    pub(crate) fn new(b: u8) -> Self {
        Hmap {
            count: 0,
            flags: 0,
            b,
            noverflow: 0,
            hash0: rand(),
            buckets: if b == 0 {
                BucketArray::nil()
            } else {
                BucketArray::make(b)
            },
            oldbuckets: None,
            nevacuate: 0,
        }
    }

    /// Go: `(*hmap).growing`.
    #[inline]
    pub(crate) fn growing(&self) -> bool {
        self.oldbuckets.is_some()
    }

    /// Go: `(*hmap).sameSizeGrow`.
    #[inline]
    pub(crate) fn same_size_grow(&self) -> bool {
        self.flags & SAME_SIZE_GROW != 0
    }

    /// Go: `(*hmap).noldbuckets`.
    #[inline]
    pub(crate) fn noldbuckets(&self) -> usize {
        let mut old_b = self.b;
        if !self.same_size_grow() {
            old_b -= 1;
        }
        bucket_shift(old_b)
    }

    /// Go: `(*hmap).oldbucketmask`.
    #[inline]
    pub(crate) fn oldbucketmask(&self) -> usize {
        self.noldbuckets() - 1
    }

    /// The chain a lookup for `hash` walks: the old bucket while it is not yet evacuated,
    /// else the new one. Returns (old?, bucket index).
    #[inline]
    pub(crate) fn chain_for(&self, hash: u64) -> (bool, usize) {
        let mut m = bucket_mask(self.b);
        if let Some(old) = &self.oldbuckets {
            if !self.same_size_grow() {
                // The old array had half as many buckets.
                m >>= 1;
            }
            let oldb = hash as usize & m;
            if !old.buckets[oldb].evacuated() {
                return (true, oldb);
            }
        }
        (false, hash as usize & bucket_mask(self.b))
    }

    /// The generation a [`Slot`] points into.
    #[inline]
    pub(crate) fn array(&self, old: bool) -> &BucketArray<K, V> {
        match (old, &self.oldbuckets) {
            (true, Some(o)) => o,
            _ => &self.buckets,
        }
    }

    #[inline]
    pub(crate) fn array_mut(&mut self, old: bool) -> &mut BucketArray<K, V> {
        match (old, &mut self.oldbuckets) {
            (true, Some(o)) => o,
            _ => &mut self.buckets,
        }
    }

    /// Go 1.23: `runtime.mapaccess1` (runtime/map.go), returning where the key is.
    #[inline]
    pub(crate) fn access<Q>(&self, hash: u64, key: &Q) -> Option<Slot>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        if self.count == 0 {
            return None;
        }
        let (old, mut bi) = self.chain_for(hash);
        let arr = self.array(old);
        let top = tophash(hash);
        loop {
            let b = arr.bucket(bi);
            for i in 0..BUCKET_CNT {
                if b.tophash[i] != top {
                    if b.tophash[i] == EMPTY_REST {
                        return None;
                    }
                    continue;
                }
                // SAFETY: tophash[i] == top >= MIN_TOP_HASH, so the slot is full.
                let k = unsafe { b.key(i) };
                if k.borrow() == key {
                    return Some(Slot { old, bucket: bi, i });
                }
            }
            match b.overflow {
                0 => return None,
                o => bi = o,
            }
        }
    }

    /// Go: `(*hmap).incrnoverflow`. Above B = 15 it counts with probability 1/2^(B-15), so the
    /// 16-bit counter approximates the number of overflow buckets.
    fn incrnoverflow(noverflow: &mut u16, b: u8) {
        if b < 16 {
            *noverflow = noverflow.saturating_add(1);
            return;
        }
        let mask = (1u64 << (b - 15)) - 1;
        if rand() & mask == 0 {
            *noverflow = noverflow.saturating_add(1);
        }
    }

    /// Go 1.23: `runtime.mapassign` (runtime/map.go). Returns the old value on update.
    pub(crate) fn assign<S: BuildHasher>(&mut self, s: &S, hash: u64, key: K, elem: V) -> Option<V>
    where
        K: Eq + Hash,
    {
        if self.buckets.is_nil() {
            // Go: `h.buckets = newobject(t.Bucket)`; B is 0 here.
            self.buckets = BucketArray::make(self.b);
        }
        let top = tophash(hash);
        loop {
            // Go's `again:` label.
            let bucket = hash as usize & bucket_mask(self.b);
            if self.growing() {
                self.grow_work(s, bucket);
            }
            let mut insert: Option<(usize, usize)> = None;
            let mut bi = bucket;
            'bucketloop: loop {
                let b = self.buckets.bucket(bi);
                for i in 0..BUCKET_CNT {
                    if b.tophash[i] != top {
                        if is_empty(b.tophash[i]) && insert.is_none() {
                            insert = Some((bi, i));
                        }
                        if b.tophash[i] == EMPTY_REST {
                            break 'bucketloop;
                        }
                        continue;
                    }
                    // SAFETY: tophash[i] == top >= MIN_TOP_HASH, so the slot is full.
                    if unsafe { b.key(i) } == &key {
                        // Already present: update the elem (std keeps the old key, as does
                        // Go for keys whose `NeedKeyUpdate` is false).
                        // SAFETY: the same full slot.
                        let e = unsafe { self.buckets.bucket_mut(bi).elem_mut(i) };
                        return Some(mem::replace(e, elem));
                    }
                }
                match b.overflow {
                    0 => break,
                    o => bi = o,
                }
            }

            // Not found. If this insert crosses a threshold, start growing and try again:
            // growing invalidates everything found above.
            if !self.growing()
                && (over_load_factor(self.count + 1, self.b)
                    || too_many_overflow_buckets(self.noverflow, self.b))
            {
                self.hash_grow();
                continue;
            }

            let (bi, i) = match insert {
                Some(at) => at,
                None => {
                    // Every slot of the chain is full: `bi` is its last bucket.
                    let ovf = self.buckets.newoverflow(bi);
                    Self::incrnoverflow(&mut self.noverflow, self.b);
                    (ovf, 0)
                }
            };
            self.buckets.bucket_mut(bi).put(i, top, key, elem);
            self.count += 1;
            return None;
        }
    }

    /// Go 1.23: `runtime.mapdelete` (runtime/map.go).
    pub(crate) fn delete<S: BuildHasher, Q>(&mut self, s: &S, hash: u64, key: &Q) -> Option<V>
    where
        K: Borrow<Q> + Eq + Hash,
        Q: Eq + ?Sized,
    {
        if self.count == 0 {
            return None;
        }
        let bucket = hash as usize & bucket_mask(self.b);
        if self.growing() {
            self.grow_work(s, bucket);
        }
        let borig = bucket;
        let top = tophash(hash);
        let arr = &mut self.buckets;
        let mut bi = bucket;
        loop {
            for i in 0..BUCKET_CNT {
                let b = arr.bucket(bi);
                if b.tophash[i] != top {
                    if b.tophash[i] == EMPTY_REST {
                        return None;
                    }
                    continue;
                }
                // SAFETY: tophash[i] == top >= MIN_TOP_HASH, so the slot is full.
                if unsafe { b.key(i) }.borrow() != key {
                    continue;
                }
                let (_, elem) = arr.bucket_mut(bi).take(i, EMPTY_ONE);
                Self::mark_empty_rest(arr, borig, bi, i);
                self.count -= 1;
                if self.count == 0 {
                    // Go reseeds an emptied map so an attacker cannot keep replaying the
                    // collisions they found.
                    self.hash0 = rand();
                }
                return Some(elem);
            }
            match arr.bucket(bi).overflow {
                0 => return None,
                o => bi = o,
            }
        }
    }

    /// The tail of Go's `mapdelete`: if slot `i` of bucket `bi` (just emptied) is followed only
    /// by empties, turn it and the run of `EMPTY_ONE` before it into `EMPTY_REST`, walking
    /// back through the chain that starts at `borig`.
    fn mark_empty_rest(arr: &mut BucketArray<K, V>, borig: usize, mut bi: usize, mut i: usize) {
        let rest_follows = if i == BUCKET_CNT - 1 {
            match arr.bucket(bi).overflow {
                0 => true,
                o => arr.bucket(o).tophash[0] == EMPTY_REST,
            }
        } else {
            arr.bucket(bi).tophash[i + 1] == EMPTY_REST
        };
        if !rest_follows {
            return;
        }
        loop {
            arr.bucket_mut(bi).tophash[i] = EMPTY_REST;
            if i == 0 {
                if bi == borig {
                    return; // Back at the start of the chain.
                }
                // Find the bucket before `bi`: chains are singly linked.
                let c = bi;
                bi = borig;
                while arr.bucket(bi).overflow != c {
                    bi = arr.bucket(bi).overflow;
                }
                i = BUCKET_CNT - 1;
            } else {
                i -= 1;
            }
            if arr.bucket(bi).tophash[i] != EMPTY_ONE {
                return;
            }
        }
    }

    // ANCHOR: hashGrow
    /// Starts a grow: the current buckets become `oldbuckets` and a new array takes their place.
    /// No key moves yet; `grow_work` moves them a bucket or two per write.
    ///
    /// Go 1.23: `runtime.hashGrow` (runtime/map.go). Too many entries → twice the buckets.
    /// Too many overflow buckets at a low load → the same number of buckets, repacked.
    pub(crate) fn hash_grow(&mut self) {
        let mut bigger = 1;
        if !over_load_factor(self.count + 1, self.b) {
            bigger = 0;
            self.flags |= SAME_SIZE_GROW;
        }
        let newbuckets = BucketArray::make(self.b + bigger);
        self.oldbuckets = Some(mem::replace(&mut self.buckets, newbuckets));
        self.b += bigger;
        self.nevacuate = 0;
        self.noverflow = 0;
    }
    // ANCHOR_END: hashGrow

    // ANCHOR: growWork
    /// The grow work a write pays for: evacuate the old bucket behind the bucket it is about
    /// to use, so the write sees its keys in the new array, and one more in order (`nevacuate`)
    /// so the grow finishes even if writes keep hitting the same bucket.
    ///
    /// Go 1.23: `runtime.growWork` (runtime/map.go).
    pub(crate) fn grow_work<S: BuildHasher>(&mut self, s: &S, bucket: usize)
    where
        K: Hash,
    {
        self.evacuate(s, bucket & self.oldbucketmask());
        if self.growing() {
            self.evacuate(s, self.nevacuate);
        }
    }
    // ANCHOR_END: growWork

    // ANCHOR: evacuate
    /// Moves every key of old bucket `oldbucket` (and its overflow chain) into the new array.
    ///
    /// Go 1.23: `runtime.evacuate` (runtime/map.go). When the map doubles, old bucket `i` splits
    /// in two: keys whose hash has the bit `newbit` (= old 2^B) clear stay at index `i` (X),
    /// the others go to `i + newbit` (Y). Each old slot keeps a marker saying where its key
    /// went. Rust differs: Go keeps the old keys readable for iterators that started before
    /// the grow; here an iterator borrows the map, so the pairs are simply moved.
    pub(crate) fn evacuate<S: BuildHasher>(&mut self, s: &S, oldbucket: usize)
    where
        K: Hash,
    {
        let newbit = self.noldbuckets();
        let same_size = self.same_size_grow();
        let Hmap {
            b,
            noverflow,
            hash0,
            buckets,
            oldbuckets,
            ..
        } = self;
        let old = oldbuckets
            .as_mut()
            .expect("evacuate without a grow in progress");
        if !old.buckets[oldbucket].evacuated() {
            // Destinations X and Y: (bucket, next slot). Y is unused by a same-size grow.
            // Nothing has been inserted into either yet: a write to new bucket j always
            // evacuates old bucket j & oldbucketmask first.
            let mut xy = [(oldbucket, 0usize), (oldbucket + newbit, 0usize)];
            let mut ob = oldbucket;
            loop {
                for i in 0..BUCKET_CNT {
                    let top = old.bucket(ob).tophash[i];
                    if is_empty(top) {
                        old.bucket_mut(ob).tophash[i] = EVACUATED_EMPTY;
                        continue;
                    }
                    assert!(top >= MIN_TOP_HASH, "bad map state");
                    let mut use_y = 0;
                    if !same_size {
                        // SAFETY: top >= MIN_TOP_HASH, so the slot is full.
                        let hash = hash_key(s, *hash0, unsafe { old.bucket(ob).key(i) });
                        if hash & newbit as u64 != 0 {
                            use_y = 1;
                        }
                    }
                    // (Go's special case for NaN keys is not needed: `K: Eq` is reflexive.)
                    let (k, e) = old.bucket_mut(ob).take(i, EVACUATED_X + use_y as u8);
                    let dst = &mut xy[use_y];
                    if dst.1 == BUCKET_CNT {
                        dst.0 = buckets.newoverflow(dst.0);
                        Self::incrnoverflow(noverflow, *b);
                        dst.1 = 0;
                    }
                    buckets.bucket_mut(dst.0).put(dst.1, top, k, e);
                    dst.1 += 1;
                }
                match old.bucket(ob).overflow {
                    0 => break,
                    o => ob = o,
                }
            }
        }
        if oldbucket == self.nevacuate {
            self.advance_evacuation_mark(newbit);
        }
    }
    // ANCHOR_END: evacuate

    /// Moves `nevacuate` past the evacuated buckets and ends the grow when it reaches the end.
    ///
    /// Go 1.23: `runtime.advanceEvacuationMark` (runtime/map.go). It looks at most 1024
    /// buckets ahead so one write never scans the whole old array.
    fn advance_evacuation_mark(&mut self, newbit: usize) {
        self.nevacuate += 1;
        let stop = (self.nevacuate + 1024).min(newbit);
        if let Some(old) = &self.oldbuckets {
            while self.nevacuate != stop && old.buckets[self.nevacuate].evacuated() {
                self.nevacuate += 1;
            }
        }
        if self.nevacuate == newbit {
            // Every old bucket is evacuated: free the old array (all its slots are markers,
            // so dropping it drops no key or elem).
            self.oldbuckets = None;
            self.flags &= !SAME_SIZE_GROW;
        }
    }

    /// Go 1.23: `runtime.mapclear` (runtime/map.go): drop every entry, end any grow, reseed,
    /// and keep the main bucket allocation at the current B.
    pub(crate) fn clear(&mut self) {
        self.flags &= !SAME_SIZE_GROW;
        self.oldbuckets = None;
        self.nevacuate = 0;
        self.noverflow = 0;
        self.count = 0;
        self.hash0 = rand();
        self.buckets.reset();
    }

    /// Old buckets evacuated so far (0 when not growing).
    pub(crate) fn evacuated_buckets(&self) -> usize {
        match &self.oldbuckets {
            None => 0,
            Some(old) => (0..self.noldbuckets())
                .filter(|&i| old.buckets[i].evacuated())
                .count(),
        }
    }
}
