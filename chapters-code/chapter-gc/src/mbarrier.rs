//! Go: runtime/mbarrier.go — the hybrid write barrier, on a small tri-colour heap.
//!
//! The heap here is a toy with Go's colours: an object is *white* while its mark bit is
//! clear, *grey* once the bit is set and the object waits in the grey queue, and *black* once
//! it is marked and a marker has scanned its pointer slots. [`Heap::shade`] is Go's
//! shade/greyobject (runtime/mgcmark.go), [`Heap::gc_drain`] its gcDrain/scanobject, and a
//! goroutine's stack is a plain `Vec` of pointers that [`Heap::scanstack`] shades once: since
//! Go 1.8 no stack is scanned twice in a cycle, and writes to the current frame run no barrier
//! at all (the compiler omits them).
//!
//! A concurrent marker loses an object when the mutator hides the only pointer to a white
//! object where the marker will not look again: on an already-scanned (black) stack, or in a
//! black object. [`Heap::write_pointer`] is the barrier that prevents it, Go's *hybrid*
//! barrier: before a pointer write to a heap slot it records the value being overwritten
//! (Yuasa's deletion barrier) and the value being written (Dijkstra's insertion barrier) in
//! the P's [`WbBuf`], and the buffer later shades them all. Go's
//! pseudocode shades the new value only "if current stack is grey"; the real barrier
//! (gcWriteBarrier2, and mwbbuf.go:wbBufFlush1's TODO) records it always. [`Barrier`] lets a
//! test switch either half off, to show what each is for:
//!
//! * without the deletion half, a goroutine whose stack is already black can load the pointer
//!   from a heap slot the marker has not scanned yet, overwrite the slot, and keep the object
//!   alive on its stack alone (`loom_without_the_deletion_barrier_a_reachable_object_is_freed`
//!   in models.rs);
//! * without the insertion half, a goroutine whose stack is still *grey* can store its
//!   pointer into a black object and then drop it from the stack before the stack is scanned
//!   (`with_a_grey_stack_the_insertion_half_is_needed` in the tests). Once a stack is black the
//!   insertion half is redundant (mbarrier.go's point 3: a freshly scanned stack points only
//!   to shaded objects, and the deletion half shades anything it could later take from the
//!   heap), which is why Go could drop stack re-scanning for this barrier.
//!
//! Every atomic is `SeqCst`: the model is about interleavings, not about weak memory (Go's
//! comment on store→load reordering is the reason the barrier does not look at the colour of
//! the slot's object at all).

use crate::mwbbuf::{wb_buf_flush1, WbBuf};
#[cfg(loom)]
use loom::sync::{
    atomic::{AtomicBool, AtomicUsize},
    Mutex,
};
use std::sync::atomic::Ordering::SeqCst;
#[cfg(not(loom))]
use std::sync::{
    atomic::{AtomicBool, AtomicUsize},
    Mutex,
};

/// A pointer: object `n` lives at address `n` (1-based), `NIL` is 0. Anything that is not an
/// object's address is, as for findObject, not a heap pointer, and shading it does nothing.
pub type Ptr = usize;
/// Go: nil. wbBufFlush1 drops it first ("nil pointers are very common").
pub const NIL: Ptr = 0;

/// An object's layout: how many words, and which of them hold pointers (bit i: word i), the
/// heap bitmap that scanobject and bulkBarrierPreWrite read. The other words are scalars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Type {
    pub words: usize,
    pub ptrmask: u64,
}

impl Type {
    /// `words` words, every one a pointer.
    pub const fn ptrs(words: usize) -> Type {
        let ptrmask = match 1u64.checked_shl(words as u32) {
            Some(bit) => bit - 1,
            None => u64::MAX,
        };
        Type { words, ptrmask }
    }

    /// Go: noscan. Nothing to scan, so greyobject turns such an object straight black.
    pub fn noscan(self) -> bool {
        self.ptrmask == 0
    }
}

/// One heap object: its words and its mark bit.
pub struct Object {
    typ: Type,
    slots: Box<[AtomicUsize]>,
    marked: AtomicBool,
}

impl Object {
    pub fn is_marked(&self) -> bool {
        self.marked.load(SeqCst)
    }

    /// Go: markBits.setMarked (an atomic Or8 on the span's gcmarkBits byte).
    pub(crate) fn set_marked(&self) {
        self.marked.store(true, SeqCst)
    }

    pub fn typ(&self) -> Type {
        self.typ
    }

    /// The indices of the pointer words.
    fn ptr_slots(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.slots.len()).filter(|&i| self.typ.ptrmask >> i & 1 != 0)
    }
}

/// Which halves of the hybrid barrier run: both in Go. The others exist to show what each
/// half is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Barrier {
    /// Yuasa: record the value a write overwrites.
    pub deletion: bool,
    /// Dijkstra: record the value a write stores.
    pub insertion: bool,
}

impl Barrier {
    /// Go's barrier.
    pub const HYBRID: Barrier = Barrier {
        deletion: true,
        insertion: true,
    };
    pub const NO_DELETION: Barrier = Barrier {
        deletion: false,
        insertion: true,
    };
    pub const NO_INSERTION: Barrier = Barrier {
        deletion: true,
        insertion: false,
    };
    pub const NONE: Barrier = Barrier {
        deletion: false,
        insertion: false,
    };
}

/// The heap, its mark bits and its grey queue.
///
/// One shared LIFO queue stands for every P's gcWork and the global work.full list: a P's
/// gcw is a stack of workbufs too, and which P scans an object does not matter here.
pub struct Heap {
    objs: Box<[Object]>,
    work: Mutex<Vec<Ptr>>,
    /// Go: writeBarrier.enabled. It changes only with the world stopped (setGCPhase), which
    /// `&mut self` in [`Heap::set_gc_phase_mark`] says: no mutator is running then.
    write_barrier_enabled: bool,
    barrier: Barrier,
}

impl Heap {
    /// A heap with one object per type, at addresses 1, 2, ..., every word zero (nil), every
    /// object white, and the barrier off (Go's _GCoff).
    pub fn new(types: &[Type]) -> Heap {
        let objs = types
            .iter()
            .map(|&typ| {
                assert!(
                    typ.words <= 64 && typ.ptrmask.checked_shr(typ.words as u32).unwrap_or(0) == 0
                );
                Object {
                    typ,
                    slots: (0..typ.words).map(|_| AtomicUsize::new(0)).collect(),
                    marked: AtomicBool::new(false),
                }
            })
            .collect();
        Heap {
            objs,
            work: Mutex::new(Vec::new()),
            write_barrier_enabled: false,
            barrier: Barrier::HYBRID,
        }
    }

    /// Go: setGCPhase(_GCmark), during gcStart's stop-the-world: from now on every pointer
    /// write runs the barrier (here: the halves `barrier` switches on).
    pub fn set_gc_phase_mark(&mut self, barrier: Barrier) {
        self.write_barrier_enabled = true;
        self.barrier = barrier;
    }

    pub fn write_barrier_enabled(&self) -> bool {
        self.write_barrier_enabled
    }

    pub fn len(&self) -> usize {
        self.objs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objs.is_empty()
    }

    /// Go: findObject. The object `p` points to, or `None` for nil and non-heap values.
    pub fn find_object(&self, p: Ptr) -> Option<&Object> {
        p.checked_sub(1).and_then(|i| self.objs.get(i))
    }

    fn obj(&self, p: Ptr) -> &Object {
        self.find_object(p)
            .unwrap_or_else(|| panic!("{p} is not a heap object"))
    }

    pub fn is_marked(&self, p: Ptr) -> bool {
        self.obj(p).is_marked()
    }

    /// A mutator's read of word `i` of object `obj` (reads need no barrier).
    pub fn load(&self, obj: Ptr, i: usize) -> Ptr {
        self.obj(obj).slots[i].load(SeqCst)
    }

    // ANCHOR: shade
    /// Go: shade. Greys the object `b` points to, if it is a heap object.
    pub fn shade(&self, b: Ptr) {
        if let Some(obj) = self.find_object(b) {
            self.greyobject(b, obj)
        }
    }

    /// Go: greyobject. Marks a white object and queues it for scanning; a marked one (grey or
    /// black) is left alone. As in Go the test and the set are two steps, not a CAS: two
    /// markers may both queue the object, and it is then scanned twice, which is harmless.
    fn greyobject(&self, b: Ptr, obj: &Object) {
        if obj.is_marked() {
            return;
        }
        obj.set_marked();
        // A noscan object holds no pointers: it goes straight to black.
        if obj.typ.noscan() {
            return;
        }
        self.work.lock().unwrap().push(b);
    }
    // ANCHOR_END: shade

    /// Go: gcWork.putObjBatch. Queues objects that wbBufFlush1 has already marked.
    pub(crate) fn put_obj_batch(&self, objs: &[Ptr]) {
        if !objs.is_empty() {
            self.work.lock().unwrap().extend_from_slice(objs);
        }
    }

    /// Go: gcWork.tryGet. The next grey object, newest first.
    pub fn try_get(&self) -> Option<Ptr> {
        self.work.lock().unwrap().pop()
    }

    /// How many objects wait in the grey queue.
    pub fn grey_len(&self) -> usize {
        self.work.lock().unwrap().len()
    }

    /// Go: scanobject. Shades what each pointer word of grey `b` holds; `b` is then black.
    /// `saw(b, i, p)` runs right after word `i` is read, for the book's traces.
    pub fn scanobject(&self, b: Ptr, saw: &mut impl FnMut(Ptr, usize, Ptr)) {
        let obj = self.obj(b);
        for i in obj.ptr_slots() {
            let p = obj.slots[i].load(SeqCst);
            saw(b, i, p);
            self.shade(p);
        }
    }

    /// Go: gcDrain. Scans grey objects until the queue is empty.
    pub fn gc_drain(&self) {
        self.gc_drain_traced(|_, _, _| {})
    }

    /// [`Heap::gc_drain`], calling `saw` after each pointer word it reads.
    pub fn gc_drain_traced(&self, mut saw: impl FnMut(Ptr, usize, Ptr)) {
        while let Some(b) = self.try_get() {
            self.scanobject(b, &mut saw)
        }
    }

    /// Go: scanstack (markroot's stack job). Shades every pointer on a goroutine's stack;
    /// the stack is black afterwards and, since Go 1.8, never scanned again in this cycle.
    pub fn scanstack(&self, stack: &[Ptr]) {
        for &p in stack {
            self.shade(p)
        }
    }

    // ANCHOR: write_barrier
    /// A pointer write to word `i` of heap object `dst`, as the compiler emits it
    /// (cmd/compile/internal/ssa/writebarrier.go:writebarrier):
    ///
    /// ```text
    /// if writeBarrier.enabled {
    ///     buf := gcWriteBarrier2()   // two wbBuf entries: runtime/asm_*.s
    ///     buf[0] = val               // insertion (Dijkstra): the new pointer
    ///     buf[1] = *ptr              // deletion (Yuasa): the pointer being overwritten
    /// }
    /// *ptr = val
    /// ```
    ///
    /// The entries go to the P's buffer first and the write after: the barrier is
    /// *pre-publication*. Nothing looks at the colour of `dst` or of the stack.
    pub fn write_pointer(&self, buf: &mut WbBuf, dst: Ptr, i: usize, val: Ptr) {
        // ANCHOR: solution-write_barrier
        let obj = self.obj(dst);
        debug_assert!(obj.typ.ptrmask >> i & 1 != 0, "word {i} is a scalar");
        let slot = &obj.slots[i];
        if self.write_barrier_enabled {
            match (self.barrier.insertion, self.barrier.deletion) {
                (true, true) => {
                    let p = buf.get2(self);
                    p[0] = val;
                    p[1] = slot.load(SeqCst);
                }
                (true, false) => buf.get1(self)[0] = val,
                (false, true) => buf.get1(self)[0] = slot.load(SeqCst),
                (false, false) => {}
            }
        }
        slot.store(val, SeqCst);
        // ANCHOR_END: solution-write_barrier
    }
    // ANCHOR_END: write_barrier

    /// Go: bulkBarrierPreWrite (runtime/mbitmap.go). The barrier for copying a whole value
    /// into heap object `dst` (typedmemmove) or clearing it (`src == None`: typedmemclr,
    /// wbZero): for each pointer word in `ptrmask`, the old value, and the new one from
    /// `src`. Unlike the compiler's barrier it buffers old before new (`p[0] = *dstx;
    /// p[1] = *srcx`). Scalar words are skipped even when they look like pointers: that is
    /// what the bitmap is for. A `dst` outside the heap (a stack) needs no barrier.
    pub fn bulk_barrier_pre_write(
        &self,
        buf: &mut WbBuf,
        dst: Ptr,
        src: Option<Ptr>,
        ptrmask: u64,
    ) {
        if !self.write_barrier_enabled {
            return;
        }
        let Some(d) = self.find_object(dst) else {
            return;
        };
        let on = |keep: bool, p: Ptr| if keep { p } else { NIL };
        for i in (0..d.slots.len()).filter(|&i| ptrmask >> i & 1 != 0) {
            let old = on(self.barrier.deletion, d.slots[i].load(SeqCst));
            match src {
                None => buf.get1(self)[0] = old,
                Some(s) => {
                    let new = on(self.barrier.insertion, self.load(s, i));
                    let p = buf.get2(self);
                    p[0] = old;
                    p[1] = new;
                }
            }
        }
    }

    /// Go: typedmemmove. Copies every word of `src` into `dst` (same type), after the bulk
    /// barrier for its pointer words.
    pub fn typedmemmove(&self, buf: &mut WbBuf, dst: Ptr, src: Ptr) {
        if dst == src {
            return;
        }
        let typ = self.obj(dst).typ;
        assert_eq!(
            typ,
            self.obj(src).typ,
            "typedmemmove between different types"
        );
        if self.write_barrier_enabled && !typ.noscan() {
            self.bulk_barrier_pre_write(buf, dst, Some(src), typ.ptrmask);
        }
        for i in 0..typ.words {
            let w = self.load(src, i);
            self.obj(dst).slots[i].store(w, SeqCst);
        }
    }

    /// Go: typedmemclr. Zeroes `dst`, after the bulk barrier (old values only).
    pub fn typedmemclr(&self, buf: &mut WbBuf, dst: Ptr) {
        let typ = self.obj(dst).typ;
        if self.write_barrier_enabled && !typ.noscan() {
            self.bulk_barrier_pre_write(buf, dst, None, typ.ptrmask);
        }
        for slot in self.obj(dst).slots.iter() {
            slot.store(0, SeqCst);
        }
    }

    /// A scalar store (no barrier: the compiler emits none for non-pointer words).
    pub fn store_scalar(&self, dst: Ptr, i: usize, v: usize) {
        let obj = self.obj(dst);
        assert!(obj.typ.ptrmask >> i & 1 == 0, "word {i} is a pointer");
        obj.slots[i].store(v, SeqCst);
    }

    /// Go: gcMarkDone's ragged barrier (forEachP: wbBufFlush1 on every P), then marking
    /// until that finds no more work: what the barriers buffered is shaded before the cycle
    /// may end.
    pub fn gc_mark_done(&self, bufs: &mut [&mut WbBuf]) {
        loop {
            for b in bufs.iter_mut() {
                wb_buf_flush1(self, b);
            }
            if self.grey_len() == 0 {
                return;
            }
            self.gc_drain();
        }
    }

    /// The objects reachable from `roots` that are not marked: what sweep would free while
    /// the program can still use them. Empty after a correct cycle.
    pub fn lost(&self, roots: &[Ptr]) -> Vec<Ptr> {
        let mut seen = vec![false; self.objs.len()];
        let mut todo: Vec<Ptr> = roots.to_vec();
        while let Some(p) = todo.pop() {
            let Some(obj) = self.find_object(p) else {
                continue;
            };
            if std::mem::replace(&mut seen[p - 1], true) {
                continue;
            }
            todo.extend(obj.ptr_slots().map(|i| obj.slots[i].load(SeqCst)));
        }
        (1..=self.objs.len())
            .filter(|&p| seen[p - 1] && !self.is_marked(p))
            .collect()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const A: Ptr = 1;
    const B: Ptr = 2;
    const C: Ptr = 3;

    #[test]
    fn shade_marks_once_and_queues_scannable_objects_only() {
        let heap = Heap::new(&[Type::ptrs(1), Type::ptrs(0), Type::ptrs(1)]);
        heap.shade(A);
        heap.shade(A);
        heap.shade(B);
        heap.shade(NIL);
        heap.shade(99);
        assert!(heap.is_marked(A) && heap.is_marked(B) && !heap.is_marked(C));
        assert_eq!(heap.grey_len(), 1, "A once; B is noscan: black at once");
    }

    #[test]
    fn drain_marks_everything_reachable_from_the_stack() {
        let mut buf = WbBuf::new();
        let heap = Heap::new(&[Type::ptrs(2); 4]);
        heap.write_pointer(&mut buf, A, 0, B);
        heap.write_pointer(&mut buf, B, 1, C);
        heap.write_pointer(&mut buf, C, 0, A);
        assert!(buf.empty(), "no barrier outside a cycle");
        heap.scanstack(&[A]);
        heap.gc_drain();
        assert!((A..=C).all(|p| heap.is_marked(p)));
        assert!(!heap.is_marked(4), "unreachable: stays white");
        assert_eq!(heap.lost(&[A]), []);
    }

    #[test]
    fn the_barrier_buffers_new_then_old() {
        let mut buf = WbBuf::new();
        let mut heap = Heap::new(&[Type::ptrs(1); 3]);
        heap.write_pointer(&mut buf, A, 0, B);
        heap.set_gc_phase_mark(Barrier::HYBRID);
        heap.write_pointer(&mut buf, A, 0, C);
        assert_eq!(buf.entries(), [C, B]);
        assert_eq!(heap.load(A, 0), C);
        assert!(
            !heap.is_marked(B) && !heap.is_marked(C),
            "shaded at flush only"
        );
        heap.gc_mark_done(&mut [&mut buf]);
        assert!(heap.is_marked(B) && heap.is_marked(C));
        assert!(buf.empty());
    }

    #[test]
    fn each_half_records_only_its_own_pointer() {
        for (barrier, want) in [
            (Barrier::NO_DELETION, vec![C]),
            (Barrier::NO_INSERTION, vec![B]),
            (Barrier::NONE, vec![]),
        ] {
            let mut buf = WbBuf::new();
            let mut heap = Heap::new(&[Type::ptrs(1); 3]);
            heap.write_pointer(&mut buf, A, 0, B);
            heap.set_gc_phase_mark(barrier);
            heap.write_pointer(&mut buf, A, 0, C);
            assert_eq!(buf.entries(), want, "{barrier:?}");
        }
    }

    /// mbarrier.go's case 1, step by step: the stack is black, the mutator moves the only
    /// pointer to C from the heap (A, not yet scanned) to its stack.
    #[test]
    fn without_the_deletion_half_a_pointer_moved_to_a_black_stack_is_lost() {
        for (barrier, lost) in [(Barrier::HYBRID, vec![]), (Barrier::NO_DELETION, vec![C])] {
            let mut buf = WbBuf::new();
            let mut heap = Heap::new(&[Type::ptrs(1); 3]);
            heap.write_pointer(&mut buf, A, 0, C);
            heap.set_gc_phase_mark(barrier);
            let mut stack = vec![A, NIL];
            heap.scanstack(&stack);
            stack[1] = heap.load(A, 0);
            heap.write_pointer(&mut buf, A, 0, NIL);
            heap.gc_mark_done(&mut [&mut buf]);
            assert_eq!(heap.lost(&stack), lost, "{barrier:?}");
        }
    }

    /// mbarrier.go's case 2: a goroutine whose stack is still grey (g2) stores its only
    /// pointer to C into B, which another goroutine's scanned stack (g1) made black, then
    /// drops it; g2's stack is scanned after. Only the insertion half sees C.
    #[test]
    fn with_a_grey_stack_the_insertion_half_is_needed() {
        for (barrier, lost) in [(Barrier::HYBRID, vec![]), (Barrier::NO_INSERTION, vec![C])] {
            let mut buf = WbBuf::new();
            let mut heap = Heap::new(&[Type::ptrs(1); 3]);
            heap.set_gc_phase_mark(barrier);
            let g1 = vec![B];
            let mut g2 = vec![C];
            heap.scanstack(&g1);
            heap.gc_drain(); // B is black
            heap.write_pointer(&mut buf, B, 0, g2[0]);
            g2[0] = NIL;
            heap.scanstack(&g2);
            heap.gc_mark_done(&mut [&mut buf]);
            assert_eq!(heap.lost(&[g1, g2].concat()), lost, "{barrier:?}");
        }
    }

    /// A {ptr, scalar, ptr} value copied over another: the barrier buffers old and new for
    /// the two pointer words and nothing for the scalar, even though 3 is C's address.
    #[test]
    fn bulk_barrier_follows_the_pointer_bitmap() {
        let t = Type {
            words: 3,
            ptrmask: 0b101,
        };
        let mut buf = WbBuf::new();
        let mut heap = Heap::new(&[t, t, Type::ptrs(0), Type::ptrs(0), Type::ptrs(0)]);
        heap.write_pointer(&mut buf, A, 0, 4);
        heap.store_scalar(A, 1, C);
        heap.write_pointer(&mut buf, B, 2, 5);
        heap.store_scalar(B, 1, 7);
        heap.set_gc_phase_mark(Barrier::HYBRID);
        heap.typedmemmove(&mut buf, A, B);
        // old then new, word 0 then word 2: bulkBarrierPreWrite's order.
        assert_eq!(buf.entries(), [4, NIL, NIL, 5]);
        assert_eq!(
            (0..3).map(|i| heap.load(A, i)).collect::<Vec<_>>(),
            [0, 7, 5]
        );
        heap.gc_mark_done(&mut [&mut buf]);
        assert!(heap.is_marked(4) && heap.is_marked(5) && !heap.is_marked(C));
    }

    #[test]
    fn bulk_clear_buffers_old_values_only_and_skips_non_heap_and_off() {
        let mut buf = WbBuf::new();
        let mut heap = Heap::new(&[Type::ptrs(2), Type::ptrs(0), Type::ptrs(0)]);
        heap.write_pointer(&mut buf, A, 0, B);
        heap.write_pointer(&mut buf, A, 1, C);
        heap.bulk_barrier_pre_write(&mut buf, A, None, 0b11);
        assert!(buf.empty(), "barrier off: nothing");
        heap.set_gc_phase_mark(Barrier::HYBRID);
        heap.bulk_barrier_pre_write(&mut buf, 42, None, 0b11);
        assert!(buf.empty(), "not a heap object (a stack): nothing");
        heap.typedmemclr(&mut buf, A);
        assert_eq!(buf.entries(), [B, C]);
        assert_eq!((heap.load(A, 0), heap.load(A, 1)), (NIL, NIL));
    }

    // ---- A deterministic random scheduler: one goroutine and one marker, one step at a time.

    const OBJS: usize = 5;
    const SLOTS: usize = 2;
    const STACK: usize = 3;

    /// One step of the goroutine or of the marker.
    #[derive(Clone, Copy, Debug)]
    enum Step {
        /// stack[d] = stack[o].slot: a heap read into the frame (no barrier).
        Load { d: usize, o: usize, slot: usize },
        /// stack[o].slot = stack[v]: a heap write (the barrier); a nil `stack[v]` deletes.
        Store { o: usize, slot: usize, v: usize },
        /// stack[d] = nil: a write to the current frame (no barrier).
        Drop { d: usize },
        /// The marker scans one grey object.
        Mark,
        /// The stack is scanned, if it has not been yet.
        ScanStack,
        /// The P's buffer is flushed early (as when it fills up).
        Flush,
    }
    use Step::*;

    /// A heap before the cycle (slot contents, 0 = nil), the stack, another goroutine's
    /// stack (scanned first, and idle), and the steps.
    #[derive(Clone, Debug)]
    struct Program {
        heap: Vec<Ptr>,
        stack: Vec<Ptr>,
        other: Vec<Ptr>,
        steps: Vec<Step>,
    }

    fn program(scan_stack_steps: bool) -> impl Strategy<Value = Program> {
        let ptr = 0..=OBJS;
        let stk = 0..STACK;
        let step = prop_oneof![
            3 => (stk.clone(), stk.clone(), 0..SLOTS).prop_map(|(d, o, slot)| Load { d, o, slot }),
            3 => (stk.clone(), 0..SLOTS, stk.clone()).prop_map(|(o, slot, v)| Store { o, slot, v }),
            1 => stk.prop_map(|d| Drop { d }),
            3 => Just(Mark),
            1 => Just(Flush),
            (if scan_stack_steps { 1 } else { 0 }) => Just(ScanStack),
        ];
        (
            prop::collection::vec(ptr.clone(), OBJS * SLOTS),
            prop::collection::vec(ptr.clone(), STACK),
            prop::collection::vec(ptr, 1),
            prop::collection::vec(step, 0..16),
        )
            .prop_map(|(heap, stack, other, steps)| Program {
                heap,
                stack,
                other,
                steps,
            })
    }

    /// Runs `p` with `barrier` (the stack scanned first if `black_stack`, else at its
    /// ScanStack step or at the end), terminates marking, and returns the lost objects.
    fn run(p: &Program, barrier: Barrier, black_stack: bool) -> Vec<Ptr> {
        let mut buf = WbBuf::new_small();
        let mut heap = Heap::new(&[Type::ptrs(SLOTS); OBJS]);
        for (i, &v) in p.heap.iter().enumerate() {
            heap.write_pointer(&mut buf, i / SLOTS + 1, i % SLOTS, v);
        }
        heap.set_gc_phase_mark(barrier);
        let mut stack = p.stack.clone();
        heap.scanstack(&p.other);
        let mut scanned = black_stack;
        if black_stack {
            heap.scanstack(&stack);
        }
        for &s in &p.steps {
            match s {
                Load { d, o, slot } if stack[o] != NIL => stack[d] = heap.load(stack[o], slot),
                Store { o, slot, v } if stack[o] != NIL => {
                    heap.write_pointer(&mut buf, stack[o], slot, stack[v])
                }
                Load { .. } | Store { .. } => {}
                Drop { d } => stack[d] = NIL,
                Mark => {
                    if let Some(b) = heap.try_get() {
                        heap.scanobject(b, &mut |_, _, _| {})
                    }
                }
                ScanStack if !scanned => {
                    heap.scanstack(&stack);
                    scanned = true;
                }
                ScanStack => {}
                Flush => wb_buf_flush1(&heap, &mut buf),
            }
        }
        if !scanned {
            heap.scanstack(&stack);
        }
        heap.gc_mark_done(&mut [&mut buf]);
        heap.lost(&[&stack[..], &p.other].concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn hybrid_barrier_keeps_every_reachable_object(p in program(true), black in any::<bool>()) {
            prop_assert_eq!(run(&p, Barrier::HYBRID, black), vec![]);
        }

        /// mbarrier.go's point 3: with every stack black, the deletion half is enough.
        #[test]
        fn with_black_stacks_the_deletion_half_suffices(p in program(false)) {
            prop_assert_eq!(run(&p, Barrier::NO_INSERTION, true), vec![]);
        }
    }

    /// Searches (deterministically) for a program that loses an object with `barrier`, and
    /// returns proptest's shrunk counterexample.
    fn find_loss(barrier: Barrier, black_stack: bool) -> Program {
        use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};
        let config = Config {
            cases: 2000,
            failure_persistence: None,
            ..Config::default()
        };
        let rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
        let mut runner = TestRunner::new_with_rng(config, rng);
        match runner.run(&program(!black_stack), |p| {
            prop_assert_eq!(run(&p, barrier, black_stack), vec![]);
            Ok(())
        }) {
            Err(TestError::Fail(_, p)) => p,
            r => panic!("no program lost an object with {barrier:?}: {r:?}"),
        }
    }

    /// What `find_loss(NO_DELETION, black stack)` found (shrunk), pinned. Object 2's first
    /// word holds the only pointer to 1; the goroutine loads it, then overwrites the word.
    /// Nothing is scanned in between, and the stack, already black, is never scanned again.
    #[test]
    fn pinned_without_the_deletion_half() {
        let p = Program {
            heap: vec![0, 0, 1, 2, 0, 0, 0, 0, 0, 0],
            stack: vec![2, 3, 2],
            other: vec![2],
            steps: vec![
                Load {
                    d: 1,
                    o: 0,
                    slot: 0,
                },
                Store {
                    o: 0,
                    slot: 0,
                    v: 2,
                },
            ],
        };
        assert_eq!(run(&p, Barrier::NO_DELETION, true), [1]);
        assert_eq!(run(&p, Barrier::NO_INSERTION, true), []);
        assert_eq!(run(&p, Barrier::HYBRID, true), []);
    }

    /// What `find_loss(NO_INSERTION, grey stack)` found (shrunk), pinned. The other stack
    /// greys 1, and a Mark step makes it black; the still-grey stack then stores its pointer
    /// to 2 in 1 (old value nil: the deletion half has nothing to shade) and drops it. Its
    /// stack scan comes too late to see 2.
    #[test]
    fn pinned_without_the_insertion_half() {
        let p = Program {
            heap: vec![0, 3, 0, 4, 0, 0, 0, 1, 0, 0],
            stack: vec![2, 0, 0],
            other: vec![1],
            steps: vec![
                Load {
                    d: 1,
                    o: 0,
                    slot: 1,
                },
                Load {
                    d: 2,
                    o: 1,
                    slot: 1,
                },
                Mark,
                Store {
                    o: 2,
                    slot: 0,
                    v: 0,
                },
                Load {
                    d: 0,
                    o: 0,
                    slot: 0,
                },
            ],
        };
        assert_eq!(run(&p, Barrier::NO_INSERTION, false), [2]);
        assert_eq!(
            run(&p, Barrier::NO_INSERTION, true),
            [],
            "a black stack hides nothing"
        );
        assert_eq!(run(&p, Barrier::HYBRID, false), []);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn without_the_deletion_half_some_program_loses_an_object() {
        let p = find_loss(Barrier::NO_DELETION, true);
        eprintln!("{p:?}");
        assert!(!run(&p, Barrier::NO_DELETION, true).is_empty());
        assert_eq!(run(&p, Barrier::HYBRID, true), vec![]);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn without_the_insertion_half_some_program_with_a_grey_stack_loses_an_object() {
        let p = find_loss(Barrier::NO_INSERTION, false);
        eprintln!("{p:?}");
        assert!(!run(&p, Barrier::NO_INSERTION, false).is_empty());
        assert_eq!(run(&p, Barrier::HYBRID, false), vec![]);
    }
}
