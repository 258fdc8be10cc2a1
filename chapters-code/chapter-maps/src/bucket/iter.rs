//! Iteration in Go's randomized order.
//!
//! Go 1.23: `runtime.mapiterinit` and `runtime.mapiternext` (runtime/map.go).

use std::hash::{BuildHasher, Hash};
use std::iter::FusedIterator;

use super::bmap::{BUCKET_CNT, MIN_TOP_HASH};
use super::hmap::{bucket_mask, bucket_shift, hash_key, rand};
use super::BucketMap;
use crate::writing::fatal;

/// "Check nothing": the bucket being read is not an unevacuated old bucket.
const NO_CHECK: usize = usize::MAX;

/// A borrowing iterator over a [`BucketMap`], in Go's randomized order.
///
/// Go 1.23: `runtime.hiter`. It starts at a random bucket and a random slot offset (the same
/// offset for every bucket), walks the main buckets in order with their overflow chains, and
/// wraps around. While a grow is in progress it walks the *new* buckets, but for a bucket whose
/// old bucket is not yet evacuated it reads the old bucket instead, keeping only the keys that
/// will land in the new bucket it stands for, so each key comes out exactly once.
///
/// Go's iterator must also survive writes between two `next` calls (its `evacuatedX/Y` branch
/// re-looks up moved keys). This one borrows the map, so the map cannot change under it.
pub struct Iter<'a, K, V, S> {
    m: &'a BucketMap<K, V, S>,
    /// B when the iteration started (Go: `it.B`).
    b: u8,
    start_bucket: usize,
    /// Slot offset applied in every bucket.
    offset: usize,
    wrapped: bool,
    /// The next main bucket to visit.
    bucket: usize,
    /// The bucket being read: (old generation?, index), or None between chains.
    bptr: Option<(bool, usize)>,
    i: usize,
    check_bucket: usize,
    remaining: usize,
}

impl<'a, K, V, S> Iter<'a, K, V, S> {
    /// Go 1.23: `runtime.mapiterinit`.
    pub(crate) fn new(m: &'a BucketMap<K, V, S>) -> Self {
        let h = &m.h;
        let mut it = Iter {
            m,
            b: h.b,
            start_bucket: 0,
            offset: 0,
            wrapped: true,
            bucket: 0,
            bptr: None,
            i: 0,
            check_bucket: NO_CHECK,
            remaining: h.count,
        };
        if h.count == 0 {
            return it; // `bucket == start_bucket && wrapped`: already done.
        }
        let r = rand();
        it.start_bucket = r as usize & bucket_mask(h.b);
        it.offset = (r >> h.b) as usize & (BUCKET_CNT - 1);
        it.bucket = it.start_bucket;
        it.wrapped = false;
        it
    }
}

impl<'a, K: Hash, V, S: BuildHasher> Iterator for Iter<'a, K, V, S> {
    type Item = (&'a K, &'a V);

    // ANCHOR: mapiternext
    /// Go 1.23: `runtime.mapiternext`.
    fn next(&mut self) -> Option<Self::Item> {
        let m = self.m;
        let h = &m.h;
        if let Err(e) = m.writing.check_iter() {
            fatal(e);
        }
        loop {
            let (old, bi) = match self.bptr {
                Some(at) => at,
                None => {
                    if self.bucket == self.start_bucket && self.wrapped {
                        return None;
                    }
                    let at = match &h.oldbuckets {
                        Some(oldbuckets) if self.b == h.b => {
                            let oldbucket = self.bucket & h.oldbucketmask();
                            if !oldbuckets.buckets[oldbucket].evacuated() {
                                // Read the old bucket, but only the keys bound for `bucket`.
                                self.check_bucket = self.bucket;
                                (true, oldbucket)
                            } else {
                                self.check_bucket = NO_CHECK;
                                (false, self.bucket)
                            }
                        }
                        _ => {
                            self.check_bucket = NO_CHECK;
                            (false, self.bucket)
                        }
                    };
                    self.bucket += 1;
                    if self.bucket == bucket_shift(self.b) {
                        self.bucket = 0;
                        self.wrapped = true;
                    }
                    self.i = 0;
                    self.bptr = Some(at);
                    at
                }
            };
            let b = h.array(old).bucket(bi);
            while self.i < BUCKET_CNT {
                let offi = (self.i + self.offset) & (BUCKET_CNT - 1);
                self.i += 1;
                // Empty, or an evacuation marker. (A marked slot is never reached here: we
                // only read old buckets that are not evacuated.)
                if b.tophash[offi] < MIN_TOP_HASH {
                    continue;
                }
                // SAFETY: tophash >= MIN_TOP_HASH, so the slot is full; the map is borrowed
                // for 'a, so it stays full and in place for 'a.
                let (k, e) = unsafe { (b.key(offi), b.elem(offi)) };
                if self.check_bucket != NO_CHECK && !h.same_size_grow() {
                    // This old bucket splits in two; the other half is another bucket's.
                    let hash = hash_key(&m.hash_builder, h.hash0, k);
                    if hash as usize & bucket_mask(self.b) != self.check_bucket {
                        continue;
                    }
                }
                self.remaining -= 1;
                return Some((k, e));
            }
            self.bptr = match b.overflow {
                0 => None,
                o => Some((old, o)),
            };
            self.i = 0;
        }
    }
    // ANCHOR_END: mapiternext

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<K: Hash, V, S: BuildHasher> ExactSizeIterator for Iter<'_, K, V, S> {}
impl<K: Hash, V, S: BuildHasher> FusedIterator for Iter<'_, K, V, S> {}

impl<K, V, S> Clone for Iter<'_, K, V, S> {
    fn clone(&self) -> Self {
        Iter { ..*self }
    }
}
