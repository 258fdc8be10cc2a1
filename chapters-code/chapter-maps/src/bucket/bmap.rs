//! One bucket (`bmap`) and one bucket array with its overflow buckets.
//!
//! Go 1.23: `runtime/map.go` (`bmap`, `tophash`, `makeBucketArray`, `newoverflow`).
//!
//! Go addresses overflow buckets through raw pointers. Here a link is an index into the
//! [`BucketArray`] that owns the chain: `0` means nil (bucket 0 is always a main bucket, so no
//! chain can point at it), indices below `buckets.len()` are main or preallocated overflow
//! buckets, and anything above lives in `extra`, one `Box` per bucket as Go's `newobject` would
//! hand out. The boxes never move, so the index is as stable as Go's pointer.

use std::mem::{self, MaybeUninit};

use chapter_allocator::sizeclasses::roundupsize;

/// log2 of the slots in a bucket. Go: `abi.MapBucketCountBits`.
pub const BUCKET_CNT_BITS: u32 = 3;
/// Slots in a bucket. Go: `abi.MapBucketCount` (`bucketCnt` in the runtime).
pub const BUCKET_CNT: usize = 1 << BUCKET_CNT_BITS;
/// The load factor 6.5 as the fraction `LOAD_FACTOR_NUM / LOAD_FACTOR_DEN` (Go: `loadFactorNum`).
pub const LOAD_FACTOR_NUM: usize = 13;
/// Go: `loadFactorDen`.
pub const LOAD_FACTOR_DEN: usize = 2;

// ANCHOR: tophash
/// This slot is empty, and so is every later slot and every overflow bucket after it.
pub const EMPTY_REST: u8 = 0;
/// This slot is empty (a key was deleted, or it never held one).
pub const EMPTY_ONE: u8 = 1;
/// The key moved to the first half (same index) of the new, larger array.
pub const EVACUATED_X: u8 = 2;
/// The key moved to the second half (index + old 2^B) of the new array.
pub const EVACUATED_Y: u8 = 3;
/// This slot was empty when its bucket was evacuated.
pub const EVACUATED_EMPTY: u8 = 4;
/// The smallest tophash of a full slot: values below it are the markers above.
pub const MIN_TOP_HASH: u8 = 5;

/// The byte a full slot keeps from its key's hash: the top 8 bits, moved out of the marker range.
///
/// Go 1.23: `runtime.tophash` (runtime/map.go). A lookup compares this byte first and only
/// compares keys when it matches, so most misses never touch a key. The *low* bits pick the
/// bucket, the *high* bits fill the tophash, so the two are independent.
#[inline]
pub fn tophash(hash: u64) -> u8 {
    let top = (hash >> (u64::BITS - 8)) as u8;
    if top < MIN_TOP_HASH {
        top + MIN_TOP_HASH
    } else {
        top
    }
}

/// Go: `runtime.isEmpty`.
#[inline]
pub(crate) fn is_empty(x: u8) -> bool {
    x <= EMPTY_ONE
}
// ANCHOR_END: tophash

// ANCHOR: bmap
/// A bucket: 8 tophash bytes, then 8 keys, then 8 elems, then the overflow link.
///
/// Go 1.23: `runtime.bmap` (runtime/map.go); the compiler adds the key, elem and overflow
/// fields (`cmd/compile/internal/reflectdata.MapBucketType`). Keys and elems are grouped
/// rather than interleaved so that `map[int64]int8` needs no padding between pairs.
/// `repr(C)` keeps Go's order; for `BucketMap<u64, u64>` that is 8 + 64 + 64 + 8 = 144 bytes,
/// exactly Go's bucket for `map[int64]int64`.
///
/// Invariant: slot `i` holds an initialised key and elem exactly when
/// `tophash[i] >= MIN_TOP_HASH`.
#[repr(C)]
pub(crate) struct Bmap<K, V> {
    pub(crate) tophash: [u8; BUCKET_CNT],
    keys: [MaybeUninit<K>; BUCKET_CNT],
    elems: [MaybeUninit<V>; BUCKET_CNT],
    /// Index of the next bucket of the chain in the owning [`BucketArray`]; 0 is nil.
    pub(crate) overflow: usize,
}
// ANCHOR_END: bmap

/// `n` empty buckets in one zeroed allocation.
///
/// Go's allocator hands out zeroed memory, and an all-zero bucket is a valid empty one
/// (every tophash `EMPTY_REST`, overflow 0 = nil, slots uninitialised), so a grow never writes
/// the whole new array before using it; a large array arrives as fresh zero pages from the OS.
/// Writing each bucket with `Bmap::new` would instead touch every byte up front and turn the
/// first insert of a grow into a pause proportional to the map's size.
fn zeroed_buckets<K, V>(n: usize) -> Vec<Bmap<K, V>> {
    let layout = std::alloc::Layout::array::<Bmap<K, V>>(n).expect("bucket array too large");
    assert!(
        layout.size() > 0,
        "a bucket holds at least its tophash bytes"
    );
    // SAFETY: `layout` has a non-zero size. The all-zero bit pattern is a valid `Bmap`:
    // `[u8; 8]` and `usize` accept zero, and `MaybeUninit` accepts anything. The memory comes
    // from the global allocator with exactly the layout `Vec<Bmap<K, V>>` uses for capacity
    // `n`, so the `Vec` may own and free it.
    unsafe {
        let p = std::alloc::alloc_zeroed(layout).cast::<Bmap<K, V>>();
        if p.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        Vec::from_raw_parts(p, n, n)
    }
}

impl<K, V> Bmap<K, V> {
    /// A zeroed bucket, as the allocator hands it out: every tophash is `EMPTY_REST`.
    pub(crate) fn new() -> Self {
        Bmap {
            tophash: [EMPTY_REST; BUCKET_CNT],
            // An array of `MaybeUninit` needs no initialisation.
            keys: [const { MaybeUninit::uninit() }; BUCKET_CNT],
            elems: [const { MaybeUninit::uninit() }; BUCKET_CNT],
            overflow: 0,
        }
    }

    #[inline]
    pub(crate) fn is_full(&self, i: usize) -> bool {
        self.tophash[i] >= MIN_TOP_HASH
    }

    /// Go: `runtime.evacuated`. Evacuation marks every slot, so the first one tells.
    #[inline]
    pub(crate) fn evacuated(&self) -> bool {
        let h = self.tophash[0];
        h > EMPTY_ONE && h < MIN_TOP_HASH
    }

    /// # Safety
    /// Slot `i` must be full (`tophash[i] >= MIN_TOP_HASH`).
    #[inline]
    pub(crate) unsafe fn key(&self, i: usize) -> &K {
        debug_assert!(self.is_full(i));
        // SAFETY: the caller guarantees the slot is full, and full slots are initialised.
        unsafe { self.keys[i].assume_init_ref() }
    }

    /// # Safety
    /// Slot `i` must be full.
    #[inline]
    pub(crate) unsafe fn elem(&self, i: usize) -> &V {
        debug_assert!(self.is_full(i));
        // SAFETY: as for `key`.
        unsafe { self.elems[i].assume_init_ref() }
    }

    /// # Safety
    /// Slot `i` must be full.
    #[inline]
    pub(crate) unsafe fn elem_mut(&mut self, i: usize) -> &mut V {
        debug_assert!(self.is_full(i));
        // SAFETY: as for `key`.
        unsafe { self.elems[i].assume_init_mut() }
    }

    /// Fills an empty slot. (Writing over a full slot would only leak, never be unsound, but
    /// the map never does it.)
    #[inline]
    pub(crate) fn put(&mut self, i: usize, top: u8, key: K, elem: V) {
        debug_assert!(!self.is_full(i) && top >= MIN_TOP_HASH);
        self.keys[i].write(key);
        self.elems[i].write(elem);
        self.tophash[i] = top;
    }

    /// Moves the pair out of full slot `i` and leaves `marker` (a value below `MIN_TOP_HASH`).
    #[inline]
    pub(crate) fn take(&mut self, i: usize, marker: u8) -> (K, V) {
        assert!(self.is_full(i) && marker < MIN_TOP_HASH);
        self.tophash[i] = marker;
        // SAFETY: the slot was full, so both halves are initialised; the marker written above
        // makes the slot empty, so these values are read (moved out) exactly once.
        unsafe {
            (
                self.keys[i].assume_init_read(),
                self.elems[i].assume_init_read(),
            )
        }
    }

    /// Drops every pair still in the bucket and marks it all `EMPTY_REST`, unlinked.
    pub(crate) fn reset(&mut self) {
        self.drop_full_slots();
        self.tophash = [EMPTY_REST; BUCKET_CNT];
        self.overflow = 0;
    }

    fn drop_full_slots(&mut self) {
        if !mem::needs_drop::<K>() && !mem::needs_drop::<V>() {
            return;
        }
        for i in 0..BUCKET_CNT {
            if self.is_full(i) {
                // Mark first: if a destructor panics, this slot is not dropped again.
                self.tophash[i] = EMPTY_ONE;
                // SAFETY: the slot was full (initialised) and is now marked empty, so each
                // value is dropped exactly once.
                unsafe {
                    self.keys[i].assume_init_drop();
                    self.elems[i].assume_init_drop();
                }
            }
        }
    }
}

impl<K, V> Drop for Bmap<K, V> {
    fn drop(&mut self) {
        self.drop_full_slots();
    }
}

/// The buckets of one generation: `2^b` main buckets, the preallocated overflow buckets after
/// them in the same allocation, and overflow buckets allocated one by one.
///
/// Go 1.23: the `buckets` array of `hmap` together with `mapextra` (`overflow`/`oldoverflow`,
/// which keep overflow buckets alive, and `nextOverflow`).
pub(crate) struct BucketArray<K, V> {
    /// log2 of the number of main buckets.
    pub(crate) b: u8,
    /// The main buckets, then the preallocated overflow buckets. Empty means nil (Go's
    /// `h.buckets == nil` before the first insert).
    pub(crate) buckets: Vec<Bmap<K, V>>,
    /// The next free preallocated overflow bucket; `buckets.len()` when none is left.
    pub(crate) next_overflow: usize,
    /// Overflow buckets allocated after the preallocated ones ran out.
    pub(crate) extra: Vec<Box<Bmap<K, V>>>,
}

impl<K, V> BucketArray<K, V> {
    /// No buckets at all (Go: `h.buckets == nil`).
    pub(crate) const fn nil() -> Self {
        BucketArray {
            b: 0,
            buckets: Vec::new(),
            next_overflow: 0,
            extra: Vec::new(),
        }
    }

    #[inline]
    pub(crate) fn is_nil(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Go 1.23: `runtime.makeBucketArray` (runtime/map.go).
    ///
    /// From B = 4 on, Go adds 2^(B-4) overflow buckets to the same allocation, then rounds the
    /// allocation up to its size class and turns the slack into more overflow buckets.
    pub(crate) fn make(b: u8) -> Self {
        let base = 1usize << b;
        let mut nbuckets = base;
        if b >= 4 {
            nbuckets += 1usize << (b - 4);
            let size = mem::size_of::<Bmap<K, V>>();
            let sz = size * nbuckets;
            // Go asks whether the bucket holds pointers; "needs drop" is the nearest thing
            // Rust can see. It only matters above 512 B (the malloc header).
            let noscan = !mem::needs_drop::<K>() && !mem::needs_drop::<V>();
            let up = roundupsize(sz, noscan);
            if up != sz {
                nbuckets = up / size;
            }
        }
        let buckets = zeroed_buckets(nbuckets);
        BucketArray {
            b,
            buckets,
            next_overflow: base,
            extra: Vec::new(),
        }
    }

    /// The main buckets (2^B), or 0 when nil.
    #[inline]
    pub(crate) fn nbuckets(&self) -> usize {
        if self.is_nil() {
            0
        } else {
            1 << self.b
        }
    }

    #[inline]
    pub(crate) fn bucket(&self, i: usize) -> &Bmap<K, V> {
        match self.buckets.get(i) {
            Some(b) => b,
            None => &self.extra[i - self.buckets.len()],
        }
    }

    #[inline]
    pub(crate) fn bucket_mut(&mut self, i: usize) -> &mut Bmap<K, V> {
        let n = self.buckets.len();
        match self.buckets.get_mut(i) {
            Some(b) => b,
            None => &mut self.extra[i - n],
        }
    }

    /// Links a fresh overflow bucket after bucket `b` (the last of its chain) and returns it.
    ///
    /// Go 1.23: `(*hmap).newoverflow`, minus `incrnoverflow`, which the caller does.
    pub(crate) fn newoverflow(&mut self, b: usize) -> usize {
        debug_assert_eq!(self.bucket(b).overflow, 0);
        let ovf = if self.next_overflow < self.buckets.len() {
            self.next_overflow += 1;
            self.next_overflow - 1
        } else {
            self.extra.push(Box::new(Bmap::new()));
            self.buckets.len() + self.extra.len() - 1
        };
        self.bucket_mut(b).overflow = ovf;
        ovf
    }

    /// Overflow buckets linked into chains (preallocated ones in use plus allocated ones).
    pub(crate) fn overflow_in_use(&self) -> usize {
        if self.is_nil() {
            return 0;
        }
        (self.next_overflow - (1 << self.b)) + self.extra.len()
    }

    /// Bytes this generation allocated: the bucket array, the boxed overflow buckets and the
    /// vector of pointers that keeps them (Go's `mapextra.overflow` slice).
    pub(crate) fn heap_bytes(&self) -> usize {
        let size = mem::size_of::<Bmap<K, V>>();
        self.buckets.capacity() * size
            + self.extra.len() * size
            + self.extra.capacity() * mem::size_of::<Box<Bmap<K, V>>>()
    }

    /// Go 1.23: the `dirtyalloc` path of `makeBucketArray`, used by `mapclear`: keep the main
    /// allocation, empty it, and let go of the separately allocated overflow buckets.
    pub(crate) fn reset(&mut self) {
        for b in &mut self.buckets {
            b.reset();
        }
        self.extra = Vec::new();
        self.next_overflow = if self.is_nil() { 0 } else { 1 << self.b };
    }
}
