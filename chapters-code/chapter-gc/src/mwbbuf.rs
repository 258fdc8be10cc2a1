//! Go: runtime/mwbbuf.go — the per-P write barrier buffer.
//!
//! The barrier's fast path only appends pointers to its P's buffer (gcWriteBarrier in
//! runtime/asm_*.s: bump `next`, compare with `end`); shading waits until the buffer is full
//! or the GC changes phase. Go calls it a sequential store buffer used for marking rather than
//! for a remembered set. Here a P's buffer is a plain value owned by its goroutine's thread,
//! exactly as Go relies on: no preemption point between reserving entries and the write.

use crate::mbarrier::{Heap, Ptr, NIL};

/// Go: wbBufEntries. Bigger amortises flushes better; smaller flushes sooner.
pub const WB_BUF_ENTRIES: usize = 512;
/// Go: wbMaxEntriesPerCall: the most one barrier asks for (gcWriteBarrier1 … 8).
pub const WB_MAX_ENTRIES_PER_CALL: usize = 8;

/// Go: wbBuf. Go's `next` and `end` are addresses inside `buf` (cheaper in assembly); here
/// they are indices. `end` is separate from the array's length so that a test buffer can be
/// short (Go: testSmallBuf).
pub struct WbBuf {
    next: usize,
    end: usize,
    buf: [Ptr; WB_BUF_ENTRIES],
    /// Go: testSmallBuf (a constant there).
    small: bool,
    /// How many times a full buffer was flushed from get1/get2 (the slow path).
    pub flushes: u64,
}

impl Default for WbBuf {
    fn default() -> Self {
        WbBuf::new()
    }
}

impl WbBuf {
    pub fn new() -> WbBuf {
        let mut b = WbBuf {
            next: 0,
            end: 0,
            buf: [NIL; WB_BUF_ENTRIES],
            small: false,
            flushes: 0,
        };
        b.reset();
        b
    }

    /// Go: testSmallBuf. One barrier's worth and one more entry, so that both a flush before
    /// an entry fits and a flush on a later barrier happen often.
    pub fn new_small() -> WbBuf {
        let mut b = WbBuf::new();
        b.small = true;
        b.reset();
        b
    }

    /// Go: wbBuf.reset. Empties the buffer (keeping a small test buffer small).
    pub fn reset(&mut self) {
        self.next = 0;
        self.end = if self.small {
            WB_MAX_ENTRIES_PER_CALL + 1
        } else {
            WB_BUF_ENTRIES
        };
    }

    /// Go: wbBuf.discard. Drops the entries unshaded (a dying M; or mark termination, when
    /// every buffered pointer is already black: gcMarkTermination resets, not flushes).
    pub fn discard(&mut self) {
        self.next = 0;
    }

    /// Go: wbBuf.empty.
    pub fn empty(&self) -> bool {
        self.next == 0
    }

    /// The buffered pointers, oldest first.
    pub fn entries(&self) -> &[Ptr] {
        &self.buf[..self.next]
    }

    /// Go: wbBuf.get1. Room for one pointer, flushing a full buffer first.
    pub fn get1(&mut self, heap: &Heap) -> &mut [Ptr; 1] {
        if self.next + 1 > self.end {
            self.flushes += 1;
            wb_buf_flush(heap, self);
        }
        let p = self.next;
        self.next += 1;
        (&mut self.buf[p..p + 1]).try_into().unwrap()
    }

    /// Go: wbBuf.get2. Room for two pointers (a barrier's new and old), flushing a buffer
    /// without two free entries first.
    pub fn get2(&mut self, heap: &Heap) -> &mut [Ptr; 2] {
        if self.next + 2 > self.end {
            self.flushes += 1;
            wb_buf_flush(heap, self);
        }
        let p = self.next;
        self.next += 2;
        (&mut self.buf[p..p + 2]).try_into().unwrap()
    }
}

/// Go: wbBufFlush. In Go it switches to the system stack (no safe point may observe the
/// barrier's untyped spill slots) and skips all work on a dying M; here it is just the call.
pub fn wb_buf_flush(heap: &Heap, b: &mut WbBuf) {
    wb_buf_flush1(heap, b)
}

// ANCHOR: wb_buf_flush1
/// Go: wbBufFlush1. Shades every buffered pointer: greyobject inlined, minus the queueing,
/// with the greyed objects collected in the buffer itself and queued as one batch.
pub fn wb_buf_flush1(heap: &Heap, b: &mut WbBuf) {
    let n = b.next;
    let mut pos = 0;
    for i in 0..n {
        let ptr = b.buf[i];
        // Go: ptr < minLegalPointer. Mostly the old values of first writes.
        if ptr == NIL {
            continue;
        }
        let Some(obj) = heap.find_object(ptr) else {
            continue;
        };
        if obj.is_marked() {
            continue;
        }
        obj.set_marked();
        if obj.typ().noscan() {
            continue;
        }
        // pos <= i: this overwrites only entries already read.
        b.buf[pos] = ptr;
        pos += 1;
    }
    heap.put_obj_batch(&b.buf[..pos]);
    b.reset();
}
// ANCHOR_END: wb_buf_flush1

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::mbarrier::Type;

    #[test]
    fn get2_reserves_two_entries_and_get1_one() {
        let heap = Heap::new(&[]);
        let mut b = WbBuf::new();
        *b.get2(&heap) = [7, 8];
        b.get1(&heap)[0] = 9;
        *b.get2(&heap) = [10, 11];
        assert_eq!(b.entries(), [7, 8, 9, 10, 11]);
        assert_eq!(b.flushes, 0);
    }

    #[test]
    fn fills_at_512_and_the_next_get_flushes() {
        let heap = Heap::new(&[Type::ptrs(0)]);
        let mut b = WbBuf::new();
        for _ in 0..WB_BUF_ENTRIES / 2 {
            *b.get2(&heap) = [1, NIL];
        }
        assert_eq!((b.entries().len(), b.flushes), (WB_BUF_ENTRIES, 0));
        assert!(!heap.is_marked(1), "nothing is shaded before the flush");
        b.get1(&heap)[0] = NIL;
        assert_eq!((b.entries().len(), b.flushes), (1, 1));
        assert!(heap.is_marked(1));
    }

    #[test]
    fn get2_flushes_when_only_one_entry_is_left() {
        let heap = Heap::new(&[]);
        let mut b = WbBuf::new();
        for _ in 0..WB_BUF_ENTRIES - 1 {
            b.get1(&heap)[0] = NIL;
        }
        *b.get2(&heap) = [NIL, NIL];
        assert_eq!((b.entries().len(), b.flushes), (2, 1));
    }

    #[test]
    fn small_test_buffer_flushes_every_few_barriers() {
        let heap = Heap::new(&[]);
        let mut b = WbBuf::new_small();
        for _ in 0..10 {
            *b.get2(&heap) = [NIL, NIL];
        }
        // 9 entries hold four pairs: flushes before the 5th and the 9th pair.
        assert_eq!((b.entries().len(), b.flushes), (4, 2));
    }

    #[test]
    fn flush_shades_everything_and_queues_only_new_grey_scan_objects() {
        let types = [Type::ptrs(1), Type::ptrs(1), Type::ptrs(0), Type::ptrs(1)];
        let heap = Heap::new(&types);
        heap.shade(4); // already grey: not queued again
        let mut b = WbBuf::new();
        for p in [1, NIL, 2, 1, 3, 4, 1000, 2] {
            b.get1(&heap)[0] = p;
        }
        wb_buf_flush1(&heap, &mut b);
        assert!(b.empty());
        assert!((1..=4).all(|p| heap.is_marked(p)));
        // 4 from shade; then 1 and 2, once each. 3 is noscan; 1000 is not in the heap.
        let mut q = vec![];
        while let Some(p) = heap.try_get() {
            q.push(p);
        }
        assert_eq!(q, [2, 1, 4]);
    }

    #[test]
    fn discard_drops_entries_unshaded() {
        let heap = Heap::new(&[Type::ptrs(1)]);
        let mut b = WbBuf::new();
        b.get1(&heap)[0] = 1;
        b.discard();
        assert!(b.empty());
        wb_buf_flush1(&heap, &mut b);
        assert!(!heap.is_marked(1));
    }
}
