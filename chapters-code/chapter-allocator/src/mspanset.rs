//! The span set: a lock-free bag of spans that an mcentral keeps its partial spans in
//! (Go: mspanset.go, since 1.15).
//!
//! Before 1.15 each mcentral had a lock and two linked lists; every mcache refill took the
//! lock. A span set instead is an array that only grows at the tail and shrinks at the head,
//! indexed by one 64-bit word holding both (head in the high half, tail in the low half):
//!
//! - `push` claims a slot with one atomic add on the tail, then stores the span there. The
//!   array is a *spine* of pointers to *blocks* of 512 slots; a push that needs a new block
//!   takes the spine lock, the only lock here.
//! - `pop` claims the head slot with a compare-and-swap, then waits until the pusher that
//!   claimed the slot has stored its span (the claim and the store are two steps).
//! - When the last slot of a block has been popped, the block goes back to a pool.
//!
//! Go resets the empty unswept sets at the end of each sweep. Without a GC (this chapter), a
//! set is never reset: its spine grows by one pointer per 512 pushes, and after 2^32 pushes
//! the index would overflow (it throws, as Go's does). The GC chapter adds `reset`.

use crate::sync::{AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Mutex, Ordering};
use std::ptr::null_mut;

use crate::mspan::MSpan;

/// Go: spanSetBlockEntries (4 KiB of pointers). Two under loom, so a model crosses blocks.
pub const SPAN_SET_BLOCK_ENTRIES: usize = if cfg!(loom) { 2 } else { 512 };
/// Go: spanSetInitSpineCap (enough blocks for a 1 GiB heap). One under loom.
pub const SPAN_SET_INIT_SPINE_CAP: usize = if cfg!(loom) { 1 } else { 256 };

/// Go: spanSetBlock. `repr(C)` with the header first, as Go's: a pooled block's free-list
/// link overwrites the header (which `block_alloc` resets), never a slot.
#[repr(C)]
pub struct Block {
    /// How many slots have been popped; the popper that brings it to the block's size frees
    /// the block.
    popped: AtomicU32,
    _link: u32,
    spans: [AtomicPtr<MSpan>; SPAN_SET_BLOCK_ENTRIES],
}

/// The spine: `cap` block pointers. A grown spine copies the old one, which stays readable
/// (a push or pop may still be looking at it): Go never frees it; we chain it for `Drop`.
struct Spine {
    prev: *mut Spine,
    cap: usize,
    blocks: *const AtomicPtr<Block>,
}

impl Spine {
    fn lookup(&self, i: usize) -> &AtomicPtr<Block> {
        debug_assert!(i < self.cap);
        // SAFETY: i < cap, and the entries live as long as the spine.
        unsafe { &*self.blocks.add(i) }
    }
}

/// Go: spanSet.
pub struct SpanSet {
    spine_lock: Mutex<()>,
    spine: AtomicPtr<Spine>,
    spine_len: AtomicUsize,
    /// Go: index, a headTailIndex: head << 32 | tail.
    index: AtomicU64,
}

// SAFETY: every shared field is atomic or behind spine_lock; spans are handed over whole.
unsafe impl Send for SpanSet {}
unsafe impl Sync for SpanSet {}

fn split(ht: u64) -> (u32, u32) {
    ((ht >> 32) as u32, ht as u32)
}

fn make_head_tail_index(head: u32, tail: u32) -> u64 {
    (head as u64) << 32 | tail as u64
}

impl SpanSet {
    #[cfg(not(loom))]
    pub const fn new() -> SpanSet {
        SpanSet {
            spine_lock: Mutex::new(()),
            spine: AtomicPtr::new(null_mut()),
            spine_len: AtomicUsize::new(0),
            index: AtomicU64::new(0),
        }
    }

    #[cfg(loom)]
    pub fn new() -> SpanSet {
        SpanSet {
            spine_lock: Mutex::new(()),
            spine: AtomicPtr::new(null_mut()),
            spine_len: AtomicUsize::new(0),
            index: AtomicU64::new(0),
        }
    }

    // ANCHOR: push
    /// Go: spanSet.push. Add a span; never fails, never waits except to grow the spine.
    pub fn push(&self, s: *mut MSpan) {
        // Claim a slot: after this add, the slot is ours, though still empty.
        let ht = self.index.fetch_add(1, Ordering::AcqRel) + 1;
        if ht as u32 == 0 {
            // Go resets a set at each GC; one that is never reset runs out after 2^32 pushes.
            crate::throw("headTailIndex overflow");
        }
        let cursor = (ht as u32 - 1) as usize;
        let (top, bottom) = (
            cursor / SPAN_SET_BLOCK_ENTRIES,
            cursor % SPAN_SET_BLOCK_ENTRIES,
        );

        let block = if top < self.spine_len.load(Ordering::Acquire) {
            // SAFETY: spine_len > top, so the spine and its block at top are published.
            unsafe {
                (*self.spine.load(Ordering::Acquire))
                    .lookup(top)
                    .load(Ordering::Acquire)
            }
        } else {
            self.add_block(top)
        };
        // SAFETY: the block stays until all its slots, ours included, have been popped.
        unsafe { (*block).spans[bottom].store(s, Ordering::Release) };
    }
    // ANCHOR_END: push

    /// The slow half of push: under the spine lock, publish block `top` (another pusher may
    /// have done it already), growing the spine when it is full.
    fn add_block(&self, top: usize) -> *mut Block {
        let _g = self.spine_lock.lock().unwrap();
        let spine_len = self.spine_len.load(Ordering::Acquire);
        let mut spine = self.spine.load(Ordering::Acquire);
        if top < spine_len {
            // SAFETY: published under the lock we hold.
            return unsafe { (*spine).lookup(top).load(Ordering::Acquire) };
        }
        debug_assert_eq!(top, spine_len, "blocks are published in order");
        // SAFETY: spine is null or a live spine.
        let cap = if spine.is_null() {
            0
        } else {
            unsafe { (*spine).cap }
        };
        if spine_len == cap {
            let new_cap = if cap == 0 {
                SPAN_SET_INIT_SPINE_CAP
            } else {
                cap * 2
            };
            let grown = new_spine(new_cap, spine);
            for i in 0..spine_len {
                // SAFETY: both spines have at least spine_len entries.
                unsafe {
                    let b = (*spine).lookup(i).load(Ordering::Relaxed);
                    (*grown).lookup(i).store(b, Ordering::Relaxed);
                }
            }
            self.spine.store(grown, Ordering::Release);
            spine = grown;
        }
        let block = block_alloc();
        // SAFETY: top < cap now.
        unsafe { (*spine).lookup(top).store(block, Ordering::Release) };
        self.spine_len.store(spine_len + 1, Ordering::Release);
        block
    }

    // ANCHOR: pop
    /// Go: spanSet.pop. Take a span, or null if the set is empty.
    pub fn pop(&self) -> *mut MSpan {
        let mut headtail = self.index.load(Ordering::Acquire);
        let head = loop {
            let (head, tail) = split(headtail);
            if head >= tail {
                return null_mut();
            }
            // A pusher has claimed the slot but may not have published its block yet.
            if self.spine_len.load(Ordering::Acquire) <= head as usize / SPAN_SET_BLOCK_ENTRIES {
                return null_mut();
            }
            match self.index.compare_exchange(
                headtail,
                make_head_tail_index(head + 1, tail),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break head as usize,
                Err(now) => headtail = now,
            }
        };
        let (top, bottom) = (head / SPAN_SET_BLOCK_ENTRIES, head % SPAN_SET_BLOCK_ENTRIES);
        // SAFETY: spine_len > top was seen above, so this block is published; it stays
        // until our slot is popped, which only we can do now.
        let blockp = unsafe { (*self.spine.load(Ordering::Acquire)).lookup(top) };
        let block = blockp.load(Ordering::Acquire);
        // The slot is claimed but its pusher may still be between its add and its store.
        let slot = unsafe { &(*block).spans[bottom] };
        let mut s = slot.load(Ordering::Acquire);
        while s.is_null() {
            crate::sync::spin_loop();
            s = slot.load(Ordering::Acquire);
        }
        slot.store(null_mut(), Ordering::Relaxed);
        // The last popper of a block frees it: every slot has been pushed and popped.
        // SAFETY: as above.
        if unsafe { (*block).popped.fetch_add(1, Ordering::AcqRel) } + 1
            == SPAN_SET_BLOCK_ENTRIES as u32
        {
            blockp.store(null_mut(), Ordering::Relaxed);
            // SAFETY: nobody else can reach the block's slots any more.
            unsafe { block_free(block) };
        }
        s
    }
    // ANCHOR_END: pop

    /// Spans pushed and not yet popped (a racy snapshot).
    pub fn len(&self) -> usize {
        let (head, tail) = split(self.index.load(Ordering::Relaxed));
        tail.saturating_sub(head) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for SpanSet {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for SpanSet {
    /// Only sets with an owner (tests) are dropped: free their blocks and spines. Blocks
    /// before the head's were freed by their last poppers (an older spine copy may still
    /// point at them).
    fn drop(&mut self) {
        let spine = self.spine.load(Ordering::Acquire);
        if spine.is_null() {
            return;
        }
        let (head, _) = split(self.index.load(Ordering::Acquire));
        let first = head as usize / SPAN_SET_BLOCK_ENTRIES;
        for i in first..self.spine_len.load(Ordering::Acquire) {
            // SAFETY: we are the last user of the set.
            let b = unsafe { (*spine).lookup(i).load(Ordering::Acquire) };
            if !b.is_null() {
                // SAFETY: as above.
                unsafe { block_free(b) };
            }
        }
        let mut s = spine;
        while !s.is_null() {
            // SAFETY: each spine in the chain is ours and unused now.
            s = unsafe { free_spine(s) };
        }
    }
}

// Memory for blocks and spines. The allocator cannot allocate its own records from itself:
// outside loom they come from persistent memory (a pool of blocks, as Go's
// spanSetBlockPool); loom's atomics must be built by constructor, so under loom they are
// boxed.

#[cfg(not(loom))]
static BLOCK_POOL: std::sync::Mutex<crate::mfixalloc::FixAlloc<Block>> =
    std::sync::Mutex::new(crate::mfixalloc::FixAlloc::new());

#[cfg(not(loom))]
fn block_alloc() -> *mut Block {
    let b = BLOCK_POOL.lock().unwrap().alloc();
    if b.is_null() {
        crate::throw("out of memory allocating span set block");
    }
    // A recycled block has every slot null (each was popped) but its header overwritten by
    // the pool's free-list link.
    // SAFETY: the record is ours; the atomics are valid whatever their bits.
    unsafe { (*b).popped = AtomicU32::new(0) };
    debug_assert!(unsafe {
        (*b).spans
            .iter()
            .all(|s| s.load(Ordering::Relaxed).is_null())
    });
    b
}

#[cfg(not(loom))]
unsafe fn block_free(b: *mut Block) {
    // SAFETY: forwarded: b came from block_alloc and nobody uses it.
    unsafe { BLOCK_POOL.lock().unwrap().free(b) }
}

#[cfg(not(loom))]
fn new_spine(cap: usize, prev: *mut Spine) -> *mut Spine {
    let bytes = std::mem::size_of::<Spine>() + cap * std::mem::size_of::<AtomicPtr<Block>>();
    let p = crate::mem::sys_alloc(bytes) as *mut Spine;
    if p.is_null() {
        crate::throw("out of memory allocating span set spine");
    }
    // SAFETY: fresh zeroed memory, big enough for the header and cap null pointers.
    unsafe {
        p.write(Spine {
            prev,
            cap,
            blocks: p.add(1).cast(),
        })
    };
    p
}

#[cfg(not(loom))]
unsafe fn free_spine(s: *mut Spine) -> *mut Spine {
    // SAFETY: s came from new_spine.
    unsafe {
        let (prev, cap) = ((*s).prev, (*s).cap);
        let bytes = std::mem::size_of::<Spine>() + cap * std::mem::size_of::<AtomicPtr<Block>>();
        crate::mem::sys_free(s.cast(), bytes);
        prev
    }
}

#[cfg(loom)]
fn block_alloc() -> *mut Block {
    Box::into_raw(Box::new(Block {
        popped: AtomicU32::new(0),
        _link: 0,
        spans: std::array::from_fn(|_| AtomicPtr::new(null_mut())),
    }))
}

#[cfg(loom)]
unsafe fn block_free(b: *mut Block) {
    // SAFETY: b came from block_alloc.
    drop(unsafe { Box::from_raw(b) });
}

#[cfg(loom)]
fn new_spine(cap: usize, prev: *mut Spine) -> *mut Spine {
    let blocks: Box<[AtomicPtr<Block>]> = (0..cap).map(|_| AtomicPtr::new(null_mut())).collect();
    let blocks = Box::into_raw(blocks) as *const AtomicPtr<Block>;
    Box::into_raw(Box::new(Spine { prev, cap, blocks }))
}

#[cfg(loom)]
unsafe fn free_spine(s: *mut Spine) -> *mut Spine {
    // SAFETY: s and its blocks array came from new_spine.
    unsafe {
        let s = Box::from_raw(s);
        let slice = std::ptr::slice_from_raw_parts_mut(s.blocks as *mut AtomicPtr<Block>, s.cap);
        drop(Box::from_raw(slice));
        s.prev
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Stand-ins for spans: distinct, never dereferenced.
    fn fake(i: usize) -> *mut MSpan {
        std::ptr::without_provenance_mut(64 * (i + 1))
    }

    #[test]
    fn pops_return_what_was_pushed_across_blocks_and_spine_growth() {
        let n = if cfg!(miri) { 1100 } else { 300_000 }; // past 256 blocks: the spine grows
        let set = SpanSet::new();
        for i in 0..n {
            set.push(fake(i));
        }
        assert_eq!(set.len(), n);
        let mut seen = BTreeSet::new();
        for _ in 0..n {
            let s = set.pop();
            assert!(!s.is_null());
            assert!(seen.insert(s as usize), "popped twice");
        }
        assert!(set.pop().is_null(), "empty");
        assert_eq!(seen.len(), n);
    }

    #[test]
    fn recycled_blocks_come_back_empty() {
        // Push and pop in step: every 512 pops free a block, the next push takes it from the
        // pool. (A pool link written over a slot would be popped as a span; block_alloc also
        // checks every slot is null.)
        let set = SpanSet::new();
        let n = if cfg!(miri) { 1100 } else { 20_000 };
        for i in 0..n {
            set.push(fake(i));
            assert_eq!(set.pop(), fake(i));
        }
        assert!(set.pop().is_null());
    }

    #[test]
    fn concurrent_pushers_and_poppers_lose_and_duplicate_nothing() {
        let per = if cfg!(miri) { 40 } else { 20_000 };
        let set = SpanSet::new();
        let popped = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|sc| {
            for t in 0..2 {
                let set = &set;
                sc.spawn(move || (0..per).for_each(|i| set.push(fake(t * per + i))));
            }
            for _ in 0..2 {
                sc.spawn(|| {
                    let mut mine = Vec::new();
                    while mine.len() < per {
                        let s = set.pop();
                        if !s.is_null() {
                            mine.push(s as usize);
                        }
                    }
                    popped.lock().unwrap().extend(mine);
                });
            }
        });
        let all: BTreeSet<usize> = popped.into_inner().unwrap().into_iter().collect();
        assert_eq!(all.len(), 2 * per, "every span popped exactly once");
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    fn fake(i: usize) -> *mut MSpan {
        std::ptr::without_provenance_mut(64 * (i + 1))
    }

    // ANCHOR: loom_spanset
    /// Two pushers race a popper across a block boundary (two slots per block under loom)
    /// and a spine growth: the popper may claim a slot before its span is stored and must
    /// wait for it; the last popper of a block frees it; nothing is lost or returned twice.
    #[test]
    fn loom_span_set_push_pop() {
        loom::model(|| {
            let set = Arc::new(SpanSet::new());
            let pushers: Vec<_> = [vec![0], vec![1, 2]]
                .into_iter()
                .map(|spans| {
                    let set = set.clone();
                    loom::thread::spawn(move || spans.into_iter().for_each(|i| set.push(fake(i))))
                })
                .collect();
            let mut got = vec![set.pop(), set.pop()];
            for p in pushers {
                p.join().unwrap();
            }
            loop {
                let s = set.pop();
                if s.is_null() {
                    break;
                }
                got.push(s);
            }
            got.retain(|s| !s.is_null());
            got.sort();
            assert_eq!(got, vec![fake(0), fake(1), fake(2)]);
        });
    }
    // ANCHOR_END: loom_spanset
}
