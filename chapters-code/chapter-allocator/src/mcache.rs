//! The per-thread cache: one span per span class to allocate from without a lock
//! (Go: mcache.go; Go gives one to each P, this crate to each thread).
//!
//! Allocation takes the next free object of the cached span with [`MSpan::next_free_fast`].
//! When the span is full, `refill` gives it back to its mcentral and takes another.
//!
//! Frees follow Go 1.27's `freegc` (the `runtimefreegc` experiment): a freed object goes on
//! the freeing thread's list for its span class (`reusableNoscan`), and the next allocation
//! of that class takes it back first. Go leaves the list to the GC when the cache is flushed;
//! with no GC here, a list longer than one span's objects, and every list when the thread
//! exits, is handed to the objects' spans ([`MSpan::free_remote`]), whose owners sweep the
//! frees in. A full span that nobody owns is swept by the thread whose free reaches it.

use crate::mheap::{MHeap, NUM_SPAN_CLASSES};
use crate::mspan::{MSpan, SpanClass};
use std::ptr::null_mut;

/// Go: mcache.
pub struct MCache {
    /// Go: alloc. The span each class allocates from; [`empty`](Self::empty) when none.
    pub alloc: [*mut MSpan; NUM_SPAN_CLASSES],
    /// Go: reusableNoscan. Freed objects, linked through their first word.
    reusable: [*mut u8; NUM_SPAN_CLASSES],
    nreusable: [u16; NUM_SPAN_CLASSES],
    /// Go: emptymspan. A span with no objects, so the fast path needs no null check. Go has
    /// one for the whole runtime; one per cache keeps Rust's aliasing rules simple.
    empty: MSpan,
}

impl MCache {
    /// Go: allocmcache. Initialise the record at `c` (it must not move afterwards: the
    /// alloc slots point at its empty span).
    ///
    /// # Safety
    /// `c` is valid for writes of one MCache.
    pub unsafe fn init(c: *mut MCache) {
        // SAFETY: the caller gives us the record.
        unsafe {
            let empty = &raw mut (*c).empty;
            empty.write(MSpan::new_large(null_mut(), 0, true));
            (*empty).nelems = 0;
            (*empty).alloc_cache = 0;
            (&raw mut (*c).alloc).write([empty; NUM_SPAN_CLASSES]);
            (&raw mut (*c).reusable).write([null_mut(); NUM_SPAN_CLASSES]);
            (&raw mut (*c).nreusable).write([0; NUM_SPAN_CLASSES]);
        }
    }

    fn empty(&mut self) -> *mut MSpan {
        &raw mut self.empty
    }

    // ANCHOR: malloc_small
    /// The small-object path of mallocgc, for span class `spc` whose objects are `elemsize`
    /// bytes. Always inlined: a caller that passes constants (the size-specialised mallocs)
    /// gets a copy with them folded in, as Go's generated mallocgcSmallNoScanSC functions.
    #[inline(always)]
    pub fn malloc_small(&mut self, heap: &MHeap, spc: usize, elemsize: usize) -> *mut u8 {
        // Go 1.27 freegc: reuse a freed object first.
        let v = self.reusable[spc];
        if !v.is_null() {
            // SAFETY: a freed object's first word links the list.
            self.reusable[spc] = unsafe { *(v as *const *mut u8) };
            self.nreusable[spc] -= 1;
            return v;
        }
        // SAFETY: alloc slots always hold a live span (or the empty one) owned by us.
        let s = unsafe { &mut *self.alloc[spc] };
        match s.next_free_fast_sized(elemsize) {
            Some(p) => s.ptr(p),
            None => self.next_free(heap, spc),
        }
    }
    // ANCHOR_END: malloc_small

    /// Go: mcache.nextFree. The slow path: the span's next window, else a new span.
    #[inline(never)]
    fn next_free(&mut self, heap: &MHeap, spc: usize) -> *mut u8 {
        // SAFETY: as in malloc_small.
        let s = unsafe { &mut *self.alloc[spc] };
        let i = s.next_free_index();
        if i < s.nelems {
            s.alloc_count += 1;
            return s.ptr(s.object(i as usize));
        }
        if !self.refill(heap, spc) {
            return null_mut();
        }
        // SAFETY: refill installed a span with a free object.
        let s = unsafe { &mut *self.alloc[spc] };
        match s.alloc() {
            Some(p) => s.ptr(p),
            None => crate::throw("span has no free space"),
        }
    }

    // ANCHOR: refill
    /// Go: mcache.refill. Give the full span back to its mcentral and take one with room.
    /// False when the heap is out of memory.
    pub fn refill(&mut self, heap: &MHeap, spc: usize) -> bool {
        let s = self.alloc[spc];
        if s != self.empty() {
            // SAFETY: our span until we hand it back.
            let span = unsafe { &mut *s };
            if span.alloc_count != span.nelems {
                crate::throw("refill of span with free space remaining");
            }
            // Count this cache's allocations from the span (Go: smallAllocCount).
            heap.stats.count_mallocs(
                SpanClass(spc as u8).sizeclass(),
                (span.alloc_count - span.alloc_count_before_cache) as usize,
            );
            // SAFETY: we own s and give it up.
            unsafe { heap.central[spc].uncache_span(heap, s) };
            self.alloc[spc] = self.empty();
        }
        let s = heap.central[spc].cache_span(heap, SpanClass(spc as u8));
        if s.is_null() {
            return false;
        }
        self.alloc[spc] = s;
        true
    }
    // ANCHOR_END: refill

    // ANCHOR: free_small
    /// Go: freegc. Put a dead small object on this cache's list for its class; hand the list
    /// to the spans when it holds more than a span's worth.
    ///
    /// # Safety
    /// `p` is an allocated object of span class `spc` that nobody uses any more.
    #[inline(always)]
    pub unsafe fn free_small(&mut self, heap: &MHeap, p: *mut u8, spc: usize, nelems: u16) {
        // SAFETY: the object is dead and at least a word long.
        unsafe { *(p as *mut *mut u8) = self.reusable[spc] };
        self.reusable[spc] = p;
        self.nreusable[spc] += 1;
        if self.nreusable[spc] > nelems {
            self.flush_reusable(heap, spc);
        }
    }
    // ANCHOR_END: free_small

    /// Hand every object on `spc`'s list to its span.
    #[inline(never)]
    pub fn flush_reusable(&mut self, heap: &MHeap, spc: usize) {
        let mut v = std::mem::replace(&mut self.reusable[spc], null_mut());
        self.nreusable[spc] = 0;
        while !v.is_null() {
            // SAFETY: each listed object is dead and links the next.
            let next = unsafe { *(v as *const *mut u8) };
            let s = heap.span_of(v.addr());
            if s.is_null() {
                crate::throw("free of a pointer the heap did not allocate");
            }
            // SAFETY: v is a dead object of s; s lives while it has an allocated object.
            if unsafe { (*s).free_remote(v.addr()) } {
                // It was full and in no set, so it is ours now: sweep it and give it back
                // (to the heap if that left it empty).
                // SAFETY: clearing FREED_FULL made us its only owner.
                unsafe { heap.central[spc].uncache_span(heap, s) };
            }
            v = next;
        }
    }

    /// Go: mcache.releaseAll. Give every freed object and every span back (the thread is
    /// exiting, or a test wants the heap quiet).
    pub fn release_all(&mut self, heap: &MHeap) {
        for spc in 0..NUM_SPAN_CLASSES {
            self.flush_reusable(heap, spc);
        }
        for spc in 0..NUM_SPAN_CLASSES {
            let s = self.alloc[spc];
            if s != self.empty() {
                // SAFETY: our span until we hand it back.
                let span = unsafe { &mut *s };
                heap.stats.count_mallocs(
                    span.spanclass.sizeclass(),
                    (span.alloc_count - span.alloc_count_before_cache) as usize,
                );
                // SAFETY: we own s and give it up.
                unsafe { heap.central[spc].uncache_span(heap, s) };
                self.alloc[spc] = self.empty();
            }
        }
    }
}
