//! The heap: pages, spans, and the central lists (Go: mheap.go).
//!
//! The heap owns a reserved region of address space. It maps it a 4 MiB chunk or more at a
//! time, keeps a span map for every 64 MiB of it (Go: a heapArena), hands out runs of pages
//! through the page allocator, wraps each run in an
//! [`MSpan`], and records the span of every page in the arena's `spans` array so that any
//! address finds its span in two loads (Go: spanOf). Everything here is under one lock, as
//! in Go; the fast paths never take it.

use crate::mcache::MCache;
use crate::mcentral::MCentral;
use crate::mem::{sys_alloc, sys_map, sys_reserve, sys_unused};
use crate::mfixalloc::FixAlloc;
use crate::mgcscavenge::retained_goal;
use crate::mpagealloc::{PageAlloc, HEAP_ADDR_BITS};
use crate::mpallocbits::PALLOC_CHUNK_PAGES;
use crate::mspan::{MSpan, SpanClass};
use crate::sizeclasses::{NUM_SIZE_CLASSES, PAGE_SHIFT, PAGE_SIZE};
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Go: heapArenaBytes on 64-bit Linux.
pub const HEAP_ARENA_BYTES: usize = 64 << 20;
/// Go: pagesPerArena.
pub const PAGES_PER_ARENA: usize = HEAP_ARENA_BYTES / PAGE_SIZE;
/// Arenas in the region.
pub const NUM_ARENAS: usize = 1 << (HEAP_ADDR_BITS - 26);
/// Go: spanBudget (mcentral.go): how many spans one search may sweep.
pub const SPAN_BUDGET: usize = 100;
/// Go: numSpanClasses.
pub const NUM_SPAN_CLASSES: usize = NUM_SIZE_CLASSES << 1;

/// Go: heapArena (the spans map only).
pub struct HeapArena {
    spans: [AtomicPtr<MSpan>; PAGES_PER_ARENA],
}

/// The heap's counters (Go: the parts of memstats and heapStats this heap keeps).
pub struct HeapStats {
    /// Objects allocated and freed per size class; class 0 counts large objects.
    pub mallocs: [AtomicU64; NUM_SIZE_CLASSES],
    pub frees: [AtomicU64; NUM_SIZE_CLASSES],
    /// Bytes of address space mapped for the heap (Go: HeapSys).
    pub heap_sys: AtomicUsize,
    /// Bytes in spans (Go: HeapInuse).
    pub heap_inuse: AtomicUsize,
    /// Bytes of free pages given back to the OS (Go: HeapReleased), and all ever released.
    pub heap_released: AtomicUsize,
    pub released_total: AtomicUsize,
    /// Bytes of live large objects (whole pages each).
    pub large_live: AtomicUsize,
}

impl HeapStats {
    const fn new() -> HeapStats {
        HeapStats {
            mallocs: [const { AtomicU64::new(0) }; NUM_SIZE_CLASSES],
            frees: [const { AtomicU64::new(0) }; NUM_SIZE_CLASSES],
            heap_sys: AtomicUsize::new(0),
            heap_inuse: AtomicUsize::new(0),
            heap_released: AtomicUsize::new(0),
            released_total: AtomicUsize::new(0),
            large_live: AtomicUsize::new(0),
        }
    }

    pub fn count_frees(&self, class: usize, n: usize) {
        if n > 0 {
            self.frees[class].fetch_add(n as u64, Ordering::Relaxed);
        }
    }

    pub fn count_mallocs(&self, class: usize, n: usize) {
        if n > 0 {
            self.mallocs[class].fetch_add(n as u64, Ordering::Relaxed);
        }
    }
}

/// What the heap lock guards.
struct Locked {
    pages: Option<PageAlloc>,
    /// Go: spanalloc, cachealloc.
    spanalloc: FixAlloc<MSpan>,
    cachealloc: FixAlloc<MCache>,
    /// Bytes of the region mapped and given to the page allocator.
    grown: usize,
}

/// Go: mheap.
pub struct MHeap {
    lock: Mutex<Locked>,
    /// The region's base address; 0 until the first allocation reserves it.
    base: AtomicUsize,
    /// The same, as the pointer every span's memory pointer is derived from.
    base_ptr: AtomicPtr<u8>,
    arenas: [AtomicPtr<HeapArena>; NUM_ARENAS],
    /// Go: central, one per span class.
    pub central: [MCentral; NUM_SPAN_CLASSES],
    sweepgen: AtomicU32,
    /// Where the next reclaim starts (Go: reclaimIndex, a page index there).
    reclaim_index: AtomicUsize,
    pub stats: HeapStats,
    /// Go: mcache0. A cache shared under a lock by threads that have none of their own (a
    /// thread setting its cache up or tearing it down, or any thread of a test's heap).
    pub(crate) cache0: Mutex<usize>,
}

impl MHeap {
    pub const fn new() -> MHeap {
        MHeap {
            lock: Mutex::new(Locked {
                pages: None,
                spanalloc: FixAlloc::new(),
                cachealloc: FixAlloc::new(),
                grown: 0,
            }),
            base: AtomicUsize::new(0),
            base_ptr: AtomicPtr::new(std::ptr::null_mut()),
            arenas: [const { AtomicPtr::new(std::ptr::null_mut()) }; NUM_ARENAS],
            central: [const { MCentral::new() }; NUM_SPAN_CLASSES],
            sweepgen: AtomicU32::new(0),
            reclaim_index: AtomicUsize::new(0),
            stats: HeapStats::new(),
            cache0: Mutex::new(0),
        }
    }

    /// Go: mheap_.sweepgen. Constant until the GC chapter's cycles advance it by 2.
    pub fn sweepgen(&self) -> u32 {
        self.sweepgen.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Locked> {
        self.lock.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ANCHOR: span_of
    /// Go: spanOf. The span holding `p`, or null if `p` is not in a span of this heap.
    #[inline] // the collector calls it for every pointer it follows (chapter-gc)
    pub fn span_of(&self, p: usize) -> *mut MSpan {
        let base = self.base.load(Ordering::Acquire);
        let off = p.wrapping_sub(base);
        if base == 0 || off >> HEAP_ADDR_BITS != 0 {
            return std::ptr::null_mut();
        }
        let arena = self.arenas[off / HEAP_ARENA_BYTES].load(Ordering::Acquire);
        if arena.is_null() {
            return std::ptr::null_mut();
        }
        // SAFETY: a published arena record lives for the process.
        unsafe { (*arena).spans[(off >> PAGE_SHIFT) % PAGES_PER_ARENA].load(Ordering::Acquire) }
    }
    // ANCHOR_END: span_of

    fn set_spans(&self, s: *mut MSpan, base: usize, npages: usize) {
        let off = base - self.base.load(Ordering::Relaxed);
        for page in (off >> PAGE_SHIFT)..(off >> PAGE_SHIFT) + npages {
            let arena = self.arenas[page / PAGES_PER_ARENA].load(Ordering::Relaxed);
            // SAFETY: pages we hand out lie in mapped arenas, whose records exist.
            unsafe { (*arena).spans[page % PAGES_PER_ARENA].store(s, Ordering::Release) };
        }
    }

    // ANCHOR: alloc_span
    /// Go: mheap.alloc → allocSpan. A span of `npages` pages for `spc` (class 0: one large
    /// object), growing the heap if no run is free. Null when out of memory.
    pub fn alloc_span(&self, npages: usize, spc: SpanClass) -> *mut MSpan {
        let mut h = self.lock();
        let mut got = self.alloc_pages(&mut h, npages, false);
        if got.is_none() {
            // Sweep for empty spans before growing (it takes the lock itself).
            drop(h);
            self.reclaim(npages);
            h = self.lock();
            got = self.alloc_pages(&mut h, npages, true);
        }
        let Some((page, scav)) = got else {
            return std::ptr::null_mut();
        };
        let s = h.spanalloc.alloc();
        if s.is_null() {
            return s;
        }
        let mem = self
            .base_ptr
            .load(Ordering::Relaxed)
            .wrapping_add(page * PAGE_SIZE);
        let base = mem.addr();
        let span = if spc.sizeclass() == 0 {
            MSpan::new_large(mem, npages, spc.noscan())
        } else {
            MSpan::new(mem, spc)
        };
        // SAFETY: a fresh record from spanalloc.
        unsafe {
            s.write(span);
            // Scavenged pages read as zero; any other page may hold a freed object's bytes.
            (*s).needzero = scav < npages;
        }
        self.set_spans(s, base, npages);
        self.stats
            .heap_inuse
            .fetch_add(npages * PAGE_SIZE, Ordering::Relaxed);
        self.stats
            .heap_released
            .fetch_sub(scav * PAGE_SIZE, Ordering::Relaxed);
        s
    }
    // ANCHOR_END: alloc_span

    /// Pages from the page allocator; if it has no run long enough and `grow` is set, grow
    /// the heap once.
    fn alloc_pages(&self, h: &mut Locked, npages: usize, grow: bool) -> Option<(usize, usize)> {
        if h.pages.is_none() {
            // mmap promises 4 KiB alignment; Go's pages are 8 KiB and its arenas 64 MiB
            // aligned, so reserve an arena more and start at the first arena boundary.
            let raw = sys_reserve((1 << HEAP_ADDR_BITS) + HEAP_ARENA_BYTES);
            if raw.is_null() {
                return None;
            }
            let base = raw.wrapping_add(raw.addr().next_multiple_of(HEAP_ARENA_BYTES) - raw.addr());
            h.pages = Some(PageAlloc::new()?);
            self.base_ptr.store(base, Ordering::Release);
            self.base.store(base as usize, Ordering::Release);
        }
        if let Some(r) = h.pages.as_mut().unwrap().alloc(npages) {
            return Some(r);
        }
        if !grow {
            return None;
        }
        let grown = self.grow(h, npages)?;
        // Go: allocSpan scavenges after growing, so the new pages do not push the heap's
        // retained memory (measured before this allocation) over its goal.
        self.scavenge_to_goal(h, grown, grown);
        h.pages.as_mut().unwrap().alloc(npages)
    }

    // ANCHOR: reclaim
    /// Go: mheap.reclaim. Before the heap grows, sweep partial spans and give the empty ones'
    /// pages back, until `npages` are free or [`SPAN_BUDGET`] spans have been looked at. Go's
    /// sweeper finds spans emptied by the last GC; here, spans whose every object was freed
    /// after the span went back to its mcentral. Each call starts at the next span class.
    fn reclaim(&self, npages: usize) -> usize {
        let sg = self.sweepgen();
        let (mut freed, mut budget) = (0, SPAN_BUDGET);
        let start = self.reclaim_index.fetch_add(1, Ordering::Relaxed);
        for k in 0..NUM_SPAN_CLASSES {
            let central = &self.central[(start + k) % NUM_SPAN_CLASSES];
            let set = central.partial_swept(sg);
            for _ in 0..set.len() {
                if budget == 0 || freed >= npages {
                    return freed;
                }
                budget -= 1;
                let s = set.pop();
                if s.is_null() {
                    break;
                }
                // SAFETY: popped, so ours.
                let n = unsafe { (*s).npages };
                // SAFETY: as above; uncache_span sweeps it and frees it if empty.
                if unsafe { central.uncache_span(self, s) } {
                    freed += n;
                }
            }
        }
        freed
    }
    // ANCHOR_END: reclaim

    // ANCHOR: grow
    /// Go: mheap.grow. Add at least `npages` to the page allocator, in whole chunks: map
    /// that much more of the region, with a span map for each 64 MiB arena it reaches.
    /// Returns the pages added.
    fn grow(&self, h: &mut Locked, npages: usize) -> Option<usize> {
        let ask = npages.next_multiple_of(PALLOC_CHUNK_PAGES) * PAGE_SIZE;
        let (old, end) = (h.grown, h.grown + ask);
        if end > 1 << HEAP_ADDR_BITS {
            return None; // the region is full
        }
        let base = self.base_ptr.load(Ordering::Relaxed);
        // SAFETY: the next part of our own reservation.
        if !unsafe { sys_map(base.wrapping_add(old), ask) } {
            return None;
        }
        for ai in old / HEAP_ARENA_BYTES..end.div_ceil(HEAP_ARENA_BYTES) {
            if self.arenas[ai].load(Ordering::Relaxed).is_null() {
                let arena = sys_alloc(std::mem::size_of::<HeapArena>()).cast::<HeapArena>();
                if arena.is_null() {
                    return None;
                }
                self.arenas[ai].store(arena, Ordering::Release);
            }
        }
        self.stats.heap_sys.fetch_add(ask, Ordering::Relaxed);
        // New memory is not resident: the page allocator counts it as scavenged.
        self.stats.heap_released.fetch_add(ask, Ordering::Relaxed);
        h.pages
            .as_mut()
            .unwrap()
            .grow(old / PAGE_SIZE, ask / PAGE_SIZE);
        h.grown = end;
        Some(ask / PAGE_SIZE)
    }
    // ANCHOR_END: grow

    // ANCHOR: free_span
    /// Go: mheap.freeSpan. The span's pages are free again; if the heap now keeps more free
    /// memory resident than its goal, the scavenger returns the excess to the OS.
    ///
    /// # Safety
    /// `s` is a span of this heap with no live object, owned by the caller.
    pub unsafe fn free_span(&self, s: *mut MSpan) {
        let mut h = self.lock();
        // SAFETY: the caller owns the span.
        let (base, npages) = unsafe { ((*s).base, (*s).npages) };
        self.set_spans(std::ptr::null_mut(), base, npages);
        let heap_base = self.base.load(Ordering::Relaxed);
        let pages = h.pages.as_mut().unwrap();
        pages.free((base - heap_base) / PAGE_SIZE, npages);
        self.stats
            .heap_inuse
            .fetch_sub(npages * PAGE_SIZE, Ordering::Relaxed);

        self.scavenge_to_goal(&mut h, 0, usize::MAX);
        // SAFETY: the record came from spanalloc and nothing points to it now.
        unsafe { h.spanalloc.free(s) };
    }
    // ANCHOR_END: free_span

    // ANCHOR: scavenge_to_goal
    /// Keep the heap's retained memory (pages in use, plus free pages still resident) at its
    /// goal: if it is `extra` pages over, release up to `cap` of them. Go calls this after
    /// freeing (the background scavenger) and after growing (allocSpan: new pages will be
    /// touched, so other free pages go back, at most as many as the heap grew by).
    fn scavenge_to_goal(&self, h: &mut Locked, extra: usize, cap: usize) {
        let grown_pages = h.grown / PAGE_SIZE;
        let pages = h.pages.as_mut().unwrap();
        let inuse = grown_pages - pages.free_pages;
        let retained = inuse + pages.free_pages - pages.scav_pages;
        let goal = retained_goal(inuse);
        if retained + extra > goal {
            self.scavenge(h, (retained + extra - goal).min(cap), false);
        }
    }
    // ANCHOR_END: scavenge_to_goal

    /// Release up to `npages` free pages to the OS (Go: pageAlloc.scavenge + sysUnused).
    fn scavenge(&self, h: &mut Locked, npages: usize, force: bool) {
        let heap_base = self.base_ptr.load(Ordering::Relaxed);
        let released = h.pages.as_mut().unwrap().scavenge(npages, force, |p, n| {
            // SAFETY: free pages of our mapped heap.
            unsafe { sys_unused(heap_base.wrapping_add(p * PAGE_SIZE), n * PAGE_SIZE) }
        });
        let bytes = released * PAGE_SIZE;
        self.stats.heap_released.fetch_add(bytes, Ordering::Relaxed);
        self.stats
            .released_total
            .fetch_add(bytes, Ordering::Relaxed);
    }

    /// Go: mheap.scavengeAll. Return every free page to the OS.
    pub fn scavenge_all(&self) {
        let mut h = self.lock();
        if h.pages.is_some() {
            self.scavenge(&mut h, usize::MAX, true);
        }
    }

    /// Go: mheap.cachealloc.alloc. Room for one mcache, or null.
    pub fn alloc_mcache(&self) -> *mut MCache {
        self.lock().cachealloc.alloc()
    }

    /// # Safety
    /// `c` came from [`alloc_mcache`](Self::alloc_mcache) and holds no spans.
    pub unsafe fn free_mcache(&self, c: *mut MCache) {
        // SAFETY: forwarded.
        unsafe { self.lock().cachealloc.free(c) }
    }

    /// Check the page allocator's summaries against its bitmaps (tests).
    pub fn check(&self) -> Result<(), String> {
        match &self.lock().pages {
            Some(p) => p.check(),
            None => Ok(()),
        }
    }
}

impl Default for MHeap {
    fn default() -> Self {
        Self::new()
    }
}
