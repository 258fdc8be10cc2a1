//! A managed heap a program can use: typed allocation on chapter-allocator's spans, roots in
//! explicit frames and globals, and pointer reads and writes that run the write barrier
//! while the collector marks (Go: mallocgc in malloc.go, the roots of mgcmark.go:markroot,
//! and the compiler-inserted barrier of mbarrier.go).
//!
//! # Roots, and why Rust's own stack is not one
//!
//! Go scans goroutine stacks *precisely*: for every call site the compiler emits a stack map
//! saying which slots of the frame hold live pointers (runtime/stack.go: getStackMap). Rust
//! emits no such maps, so a collector could only scan its stack conservatively (any word
//! that looks like a pointer keeps an object alive, and nothing may move). The model instead
//! keeps its roots where the collector can read them exactly: a [`Stack`] of [`Frame`]s, each
//! with slots and a bitmap saying which slots are pointers (Go's stack map), and [`Globals`],
//! the data/bss segment with its pointer bitmap (Go: moduledata.gcdatamask). A [`Ptr`] held
//! only in a Rust local is *not* a root: after the next allocation (which may collect) it may
//! point at a freed, reused object. Keep it in a frame slot.
//!
//! # The heap's memory
//!
//! Each [`Heap`] owns its own [`MHeap`], leaked: the allocator's heap reserves its address
//! region for the life of the process and has no way to unreserve it (Go's heap never shrinks
//! its reservation either), and every span record points into it. Dropping a `Heap` gives
//! every span back and returns the pages to the OS; only the reservation and the records stay,
//! and the next `Heap` made reuses that MHeap.
//!
//! Under miri, which cannot `mmap`, the allocator's heap is not built: the heap's tests are
//! skipped there (as chapter-allocator's are) and miri checks the type and root code.

use crate::mbitmap::{HeapBits, TypeInfo};
use crate::mgcpacer::{GcControllerState, GcTrace, NO_MEMORY_LIMIT};
use crate::types::{Type, PTR_SIZE};
use chapter_allocator::mheap::{MHeap, NUM_SPAN_CLASSES};
use chapter_allocator::mspan::{heap_bits_in_span, MSpan, SpanClass};
use chapter_allocator::sizeclasses::{
    size_to_class, CLASS_TABLE, MALLOC_HEADER_SIZE, MAX_SMALL_SIZE, PAGE_SIZE,
};
use std::collections::HashMap;
use std::time::Instant;

/// A pointer into the managed heap: the address of an object's data (after its malloc
/// header, if it has one), or [`Ptr::NIL`]. Only meaningful while the object is reachable
/// from a root.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ptr(pub usize);

impl Ptr {
    pub const NIL: Ptr = Ptr(0);
    pub fn is_nil(self) -> bool {
        self.0 == 0
    }
}

/// One frame: its slots and its stack map (Go: a frame plus the bitmap getStackMap finds
/// for the frame's PC). Pointer slots are scanned; scalar slots never are, even when they
/// hold a number that looks like an address.
#[derive(Clone, Debug, Default)]
pub struct Frame {
    pub slots: Vec<usize>,
    pub ptrmask: Vec<bool>,
}

/// The goroutine's stack: frames, innermost last.
#[derive(Clone, Debug, Default)]
pub struct Stack {
    pub frames: Vec<Frame>,
}

/// The data and bss segments: words and their pointer bitmap (Go: gcdatamask, gcbssmask).
#[derive(Clone, Debug, Default)]
pub struct Globals {
    pub words: Vec<usize>,
    pub ptrmask: Vec<bool>,
}

/// Go: gcphase. The write barrier is on exactly while marking (_GCmark; _GCmarktermination
/// runs with the world stopped, and here it is one function call).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GcPhase {
    Off,
    Mark,
}

/// What the collector has done, for tests and gctrace.
#[derive(Clone, Debug, Default)]
pub struct GcStats {
    /// Go: memstats.numgc.
    pub numgc: u32,
    /// Objects freed by the last sweep, and by all of them.
    pub last_freed: usize,
    pub total_freed: usize,
    /// Spans given back to the MHeap by all sweeps.
    pub spans_freed: usize,
    /// Per cycle: heapLive when it started and the trigger it had crossed (u64::MAX for a
    /// forced cycle).
    pub starts: Vec<(u64, u64)>,
    /// Write barrier buffer flushes.
    pub wb_flushes: usize,
    /// The last cycle's gctrace numbers; `last_trace.line()` is its line. Formatting is
    /// left to whoever prints it: Go prints after the world has started again, and with
    /// gctrace off it formats nothing.
    pub last_trace: GcTrace,
}

/// The managed heap. Single-threaded: one mutator, and a collector that runs when it calls
/// [`gc`](Heap::gc), when an allocation crosses the trigger, or step by step between
/// mutator operations ([`gc_start`](Heap::gc_start), [`gc_mark_some`](Heap::gc_mark_some),
/// [`gc_finish`](Heap::gc_finish)). gc-conc: on the simulated machine of proc.rs
/// ([`start_machine`](Heap::start_machine)) many goroutines take turns on several Ps.
pub struct Heap {
    pub(crate) mheap: &'static MHeap,
    /// Go: mcache.alloc. The span each span class allocates from now (null: none).
    pub(crate) alloc: [*mut MSpan; NUM_SPAN_CLASSES],
    /// Go: mheap_.central. Per span class, the spans no mcache holds, in swept and unswept
    /// sets (mgcsweep.rs).
    pub(crate) central: Vec<crate::mgcsweep::MCentral>,
    /// Go: mheap_.allspans. Every span in use.
    pub(crate) allspans: Vec<*mut MSpan>,
    /// Go: mspan.largeType, for large scan objects, keyed by span base. chapter-allocator's
    /// MSpan has no such field, so the heap keeps it beside the span.
    pub(crate) large_types: HashMap<usize, &'static Type>,
    /// The current goroutine's stack (gc-conc: proc.rs keeps the other goroutines').
    pub stack: Stack,
    pub globals: Globals,
    pub(crate) phase: GcPhase,
    /// Go: gcWork. Grey objects, last in first out, and Green Tea's queue of spans.
    pub(crate) work: crate::mgcwork::GcWork,
    /// Go: goexperiment.GreenTeaGC (the default) or GOEXPERIMENT=nogreenteagc.
    pub(crate) mark_mode: crate::mgcwork::MarkMode,
    /// Go: p.wbBuf. Pointers the barrier recorded, shaded when it fills or at mark
    /// termination (mwbbuf.rs models Go's buffer on the abstract heap; this one holds real
    /// addresses). The current P's (gc-conc: proc.rs keeps the other Ps').
    pub(crate) wbbuf: Vec<usize>,
    /// Go: gcw.bytesMarked, summed over the cycle.
    pub(crate) bytes_marked: u64,
    pub controller: GcControllerState,
    /// The trigger the controller computed at the last commit (Go: gcController.trigger()).
    pub(crate) trigger: u64,
    pub stats: GcStats,
    /// Go: GODEBUG=gctrace=1. Print a line to stderr per cycle.
    pub gctrace: bool,
    pub(crate) trace: GcTrace,
    pub(crate) start: Instant,
    /// Finalizers, cleanups, weak handles: the span specials and their queues (specials.rs).
    pub(crate) specials: crate::specials::SpecialsState,
    // gc-conc: the simulated machine's Gs and Ps (proc.rs; `stack` and `wbbuf` above are the
    // current G's and the current P's), and the lazy sweeper's state (mgcsweep.rs).
    pub sched: crate::proc::Sched,
    pub sweep: crate::mgcsweep::SweepState,
}

impl Heap {
    /// A heap with GOGC=100 and no globals.
    pub fn new() -> Heap {
        Heap::with_globals(100, Globals::default())
    }

    /// A heap with GOGC = `gogc` (negative: off) and the given data/bss segment.
    pub fn with_globals(gogc: i32, globals: Globals) -> Heap {
        assert_eq!(globals.words.len(), globals.ptrmask.len());
        let mut controller = GcControllerState::new(gogc, NO_MEMORY_LIMIT);
        controller.globals_scan =
            (globals.ptrmask.iter().filter(|&&p| p).count() * PTR_SIZE) as u64;
        controller.commit(true);
        let trigger = controller.trigger().0;
        Heap {
            mheap: take_mheap(),
            alloc: [std::ptr::null_mut(); NUM_SPAN_CLASSES],
            central: (0..NUM_SPAN_CLASSES).map(|_| Default::default()).collect(),
            allspans: Vec::new(),
            large_types: HashMap::new(),
            stack: Stack::default(),
            globals,
            phase: GcPhase::Off,
            work: Default::default(),
            mark_mode: Default::default(),
            wbbuf: Vec::with_capacity(crate::mwbbuf::WB_BUF_ENTRIES),
            bytes_marked: 0,
            controller,
            trigger,
            stats: GcStats::default(),
            gctrace: false,
            trace: GcTrace::default(),
            start: Instant::now(),
            specials: Default::default(),                  // specials.rs
            sched: crate::proc::Sched::default(),          // gc-conc
            sweep: crate::mgcsweep::SweepState::default(), // gc-conc
        }
    }

    /// Choose Green Tea or the classic flood; only between cycles.
    pub fn set_mark_mode(&mut self, mode: crate::mgcwork::MarkMode) {
        assert_eq!(
            self.phase,
            GcPhase::Off,
            "the mark mode changes between cycles"
        );
        self.mark_mode = mode;
    }

    pub fn phase(&self) -> GcPhase {
        self.phase
    }

    /// Go: writeBarrier.enabled.
    pub fn write_barrier_enabled(&self) -> bool {
        self.phase == GcPhase::Mark
    }

    // ANCHOR: mallocgc
    /// Go: mallocgc (new(T)). A zeroed object of type `typ`, from a span of the right size
    /// class: noscan if the type has no pointers; with heap bits in the span for scan objects
    /// up to 512 bytes, an 8-byte malloc header for bigger ones, and the span's largeType past
    /// 32 KiB. May start a GC cycle first, when heapLive has crossed the trigger.
    pub fn alloc(&mut self, typ: &'static Type) -> Ptr {
        // gc-conc: Go's deductAssistCredit comes first, so the allocation that starts a
        // cycle does not assist in it.
        self.deduct_assist_credit(typ.size);
        // Go tests the trigger at the end of mallocgc, with the new object safe in mallocgc's
        // own frame; here nothing would root it, so the test comes first. GOGC is not tested
        // (mgc.go:gcTrigger.test asks it only of the time trigger): with GOGC off, the memory
        // limit's goal still sets a trigger, and without a limit that trigger is never reached.
        if self.phase == GcPhase::Off && self.controller.heap_live >= self.trigger {
            self.stats
                .starts
                .push((self.controller.heap_live, self.trigger));
            self.gc_triggered(); // gc-conc: concurrent on the simulated machine
        }
        let noscan = !typ.pointers();
        // Go: a scan object past 512 bytes gets a header, unless it is large anyway.
        let header = !noscan
            && !heap_bits_in_span(typ.size)
            && typ.size <= MAX_SMALL_SIZE - MALLOC_HEADER_SIZE;
        let size = typ.size + if header { MALLOC_HEADER_SIZE } else { 0 };
        let (s, base) = if size <= MAX_SMALL_SIZE {
            let spc = SpanClass::new(size_to_class(size), noscan);
            let s = self.next_free(spc);
            // SAFETY: our span; next_free left a free object in it.
            (
                s,
                unsafe { (*s).alloc() }.expect("next_free returned a full span"),
            )
        } else {
            self.alloc_large(typ, noscan)
        };
        // SAFETY: `base` is a fresh object of span `s`, which this heap owns.
        unsafe {
            let span = &mut *s;
            if span.needzero {
                std::ptr::write_bytes(span.ptr(base), 0, span.elemsize);
            }
            if header {
                // Go: heapSetTypeSmallHeader: *header = typ.
                span.ptr(base).cast::<*const Type>().write(typ);
            } else if !noscan && span.spanclass.sizeclass() != 0 {
                // Go: heapSetTypeNoHeader → writeHeapBitsSmall.
                HeapBits::of(span).write_small(span, base, typ);
            }
            if self.phase == GcPhase::Mark {
                // Go: gcmarknewobject. Allocate black: the object was not there when the
                // roots were scanned, and nothing white can hide in it (it is all zeros).
                self.gcmarknewobject(span, base);
            }
            self.controller.heap_live += span.elemsize as u64;
            self.controller.total_alloc += span.elemsize as u64;
            Ptr(base + if header { MALLOC_HEADER_SIZE } else { 0 })
        }
    }
    // ANCHOR_END: mallocgc

    /// Go: mcache.nextFree → refill → mcentral.cacheSpan → mheap.alloc. A span of class
    /// `spc` with a free object.
    fn next_free(&mut self, spc: SpanClass) -> *mut MSpan {
        let cur = self.alloc[spc.0 as usize];
        // SAFETY: spans in `alloc` are ours and in use.
        if !cur.is_null() && unsafe { (*cur).alloc_count < (*cur).nelems } {
            return cur;
        }
        if !cur.is_null() {
            self.put_swept(cur); // Go: mcache.refill → mcentral.uncacheSpan
        }
        let s = match self.cache_span(spc) {
            // gc-conc: mcentral.cacheSpan sweeps first
            Some(s) => s,
            None => {
                let npages = CLASS_TABLE[spc.sizeclass()].npages;
                let s = self.mheap.alloc_span(npages, spc);
                assert!(
                    !s.is_null(),
                    "out of memory (the allocator's heap is not built under miri)"
                );
                self.allspans.push(s);
                // SAFETY: a fresh span of ours. Go: mheap.initSpan → initInlineMarkBits.
                crate::mgcmark_greenteagc::init_inline_mark_bits(unsafe { &*s });
                // SAFETY: a fresh span of ours. gc-conc: born swept.
                unsafe { (*s).sweepgen = self.sweep.sweepgen };
                s
            }
        };
        self.alloc[spc.0 as usize] = s;
        s
    }

    /// Go: mcache.allocLarge. A span of its own, its type in largeType.
    fn alloc_large(&mut self, typ: &'static Type, noscan: bool) -> (*mut MSpan, usize) {
        let npages = typ.size.div_ceil(PAGE_SIZE);
        self.deduct_sweep_credit(npages * PAGE_SIZE, npages); // gc-conc
        let spc = SpanClass::new(0, noscan);
        let s = self.mheap.alloc_span(npages, spc);
        assert!(!s.is_null(), "out of memory");
        self.allspans.push(s);
        // SAFETY: a fresh span of ours. gc-conc: born swept.
        unsafe { (*s).sweepgen = self.sweep.sweepgen };
        // Go: allocLarge puts the span in its mcentral's swept set, for the sweeper to find.
        let sg = self.sweep.sweepgen;
        self.central[spc.0 as usize].full_swept(sg).push(s);
        // SAFETY: a fresh span of ours.
        let base = unsafe {
            if !noscan {
                self.large_types.insert((*s).base, typ);
            }
            (*s).alloc().unwrap()
        };
        (s, base)
    }

    // ANCHOR: find_object
    /// Go: findObject. The span, object index and base address of the allocated object that
    /// contains `p`, or None if `p` is not in the heap or points at a free slot.
    pub fn find_object(&self, p: usize) -> Option<(*mut MSpan, usize, usize)> {
        let s = self.mheap.span_of(p);
        if s.is_null() {
            return None;
        }
        // SAFETY: span_of only returns spans in use, all of them ours.
        let span = unsafe { &*s };
        if p < span.base || p >= span.limit() {
            return None; // the span's tail (heap bits, Green Tea's inline marks)
        }
        let i = span.obj_index(p);
        if span.is_free(i) {
            return None;
        }
        Some((s, i, span.object(i)))
    }
    // ANCHOR_END: find_object

    /// The type information of the object at `base`, and where its data starts.
    pub(crate) fn type_info(&self, s: *mut MSpan, base: usize) -> (TypeInfo, usize) {
        // SAFETY: `s` is one of our spans and `base` an object in it.
        let span = unsafe { &*s };
        if span.spanclass.noscan() {
            (TypeInfo::Noscan, base)
        } else if span.spanclass.sizeclass() == 0 {
            (TypeInfo::Large(self.large_types[&span.base]), base)
        } else if !heap_bits_in_span(span.elemsize) {
            // SAFETY: a scan object past 512 bytes starts with its malloc header.
            let typ = unsafe { *span.ptr(base).cast::<*const Type>() };
            // SAFETY: headers hold &'static Types.
            (
                TypeInfo::Header(unsafe { &*typ }),
                base + MALLOC_HEADER_SIZE,
            )
        } else {
            (TypeInfo::HeapBits, base)
        }
    }

    /// The object holding `p` and whether word `field` of it is a pointer; panics on a
    /// pointer that is not to a live object, or a field outside it.
    fn field(&self, obj: Ptr, field: usize) -> (*mut u64, bool) {
        let Some((s, _, base)) = self.find_object(obj.0) else {
            panic!("{obj:?} is not a live heap object");
        };
        let (info, data) = self.type_info(s, base);
        assert_eq!(data, obj.0, "{obj:?} is not the start of an object");
        // SAFETY: our span.
        let span = unsafe { &*s };
        let addr = data + field * PTR_SIZE;
        assert!(
            addr + PTR_SIZE <= base + span.elemsize,
            "field {field} is outside the object"
        );
        let is_ptr = match info {
            TypeInfo::Noscan => false,
            TypeInfo::HeapBits => HeapBits::of(span).is_ptr(span, addr),
            TypeInfo::Header(t) | TypeInfo::Large(t) => t.is_ptr_word(field),
        };
        (span.ptr(addr).cast(), is_ptr)
    }

    /// Load pointer field `field` (a word index) of `obj`. Reads need no barrier.
    pub fn read_ptr(&self, obj: Ptr, field: usize) -> Ptr {
        let (p, is_ptr) = self.field(obj, field);
        assert!(is_ptr, "field {field} is not a pointer");
        // SAFETY: a word of a live object.
        Ptr(unsafe { p.read() } as usize)
    }

    // ANCHOR: write_ptr
    /// `obj.field = val`, with Go's hybrid write barrier while marking: record the pointer
    /// being overwritten (Yuasa) and the one being written (Dijkstra) in the wbBuf, which
    /// shades them when it fills (mbarrier.go; gcWriteBarrier2 in asm_amd64.s).
    pub fn write_ptr(&mut self, obj: Ptr, field: usize, val: Ptr) {
        assert!(
            val.is_nil() || self.find_object(val.0).is_some(),
            "{val:?} is not live"
        );
        let (p, is_ptr) = self.field(obj, field);
        assert!(is_ptr, "field {field} is not a pointer");
        // SAFETY: a word of a live object.
        unsafe {
            if self.write_barrier_enabled() {
                self.wb_record(p.read() as usize, val.0);
            }
            p.write(val.0 as u64);
        }
    }
    // ANCHOR_END: write_ptr

    /// Go: gcWriteBarrier2's fast path, then wbBufFlush when the buffer is full.
    pub(crate) fn wb_record(&mut self, old: usize, new: usize) {
        if self.wbbuf.len() + 2 > crate::mwbbuf::WB_BUF_ENTRIES {
            self.wb_buf_flush();
        }
        self.wbbuf.push(old);
        self.wbbuf.push(new);
    }

    /// Store a scalar in word `field` of `obj` (no barrier: the GC ignores scalars).
    pub fn write_scalar(&mut self, obj: Ptr, field: usize, val: u64) {
        let (p, is_ptr) = self.field(obj, field);
        assert!(!is_ptr, "field {field} is a pointer");
        // SAFETY: a word of a live object.
        unsafe { p.write(val) }
    }

    pub fn read_scalar(&self, obj: Ptr, field: usize) -> u64 {
        let (p, is_ptr) = self.field(obj, field);
        assert!(!is_ptr, "field {field} is a pointer");
        // SAFETY: a word of a live object.
        unsafe { p.read() }
    }

    /// Call: push a frame of `nslots` slots, the pointer slots listed (its stack map).
    pub fn push_frame(&mut self, nslots: usize, ptr_slots: &[usize]) {
        let mut ptrmask = vec![false; nslots];
        for &i in ptr_slots {
            ptrmask[i] = true;
        }
        self.stack.frames.push(Frame {
            slots: vec![0; nslots],
            ptrmask,
        });
        self.controller.max_stack_scan += (nslots * PTR_SIZE) as u64;
    }

    /// Return: the frame's slots stop being roots.
    pub fn pop_frame(&mut self) {
        let f = self.stack.frames.pop().expect("no frame to pop");
        self.controller.max_stack_scan -= (f.slots.len() * PTR_SIZE) as u64;
    }

    /// Store to a pointer slot of the innermost frame. No barrier: Go's compiler emits none
    /// for stack writes, which is why the hybrid barrier shades the *old* heap value.
    pub fn set_local(&mut self, slot: usize, val: Ptr) {
        assert!(
            val.is_nil() || self.find_object(val.0).is_some(),
            "{val:?} is not live"
        );
        let f = self.stack.frames.last_mut().expect("no frame");
        assert!(f.ptrmask[slot], "slot {slot} is not a pointer slot");
        f.slots[slot] = val.0;
    }

    pub fn local(&self, slot: usize) -> Ptr {
        let f = self.stack.frames.last().expect("no frame");
        assert!(f.ptrmask[slot], "slot {slot} is not a pointer slot");
        Ptr(f.slots[slot])
    }

    /// Store a scalar (any number, even one that looks like an address) in a scalar slot.
    pub fn set_local_scalar(&mut self, slot: usize, val: usize) {
        let f = self.stack.frames.last_mut().expect("no frame");
        assert!(!f.ptrmask[slot], "slot {slot} is a pointer slot");
        f.slots[slot] = val;
    }

    /// Store to a pointer global. Globals are not stacks: the barrier runs (Go's compiler
    /// emits it for every pointer store outside the current frame).
    pub fn set_global(&mut self, i: usize, val: Ptr) {
        assert!(
            val.is_nil() || self.find_object(val.0).is_some(),
            "{val:?} is not live"
        );
        assert!(self.globals.ptrmask[i], "global {i} is not a pointer");
        if self.write_barrier_enabled() {
            self.wb_record(self.globals.words[i], val.0);
        }
        self.globals.words[i] = val.0;
    }

    pub fn global(&self, i: usize) -> Ptr {
        assert!(self.globals.ptrmask[i], "global {i} is not a pointer");
        Ptr(self.globals.words[i])
    }

    /// Objects allocated and not yet freed (Go: memstats.HeapObjects, exact when swept).
    pub fn live_objects(&self) -> usize {
        self.allspans
            .iter()
            // SAFETY: our spans.
            .map(|&s| unsafe { (*s).alloc_count } as usize)
            .sum()
    }

    /// Bytes of spans in use (Go: HeapInuse).
    pub fn heap_inuse(&self) -> usize {
        self.mheap
            .stats
            .heap_inuse
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The span class and element size of the object holding `p` (tests).
    pub fn span_class_of(&self, p: Ptr) -> Option<(SpanClass, usize)> {
        let (s, _, _) = self.find_object(p.0)?;
        // SAFETY: our span.
        unsafe { Some(((*s).spanclass, (*s).elemsize)) }
    }
}

impl Default for Heap {
    fn default() -> Self {
        Heap::new()
    }
}

impl Drop for Heap {
    /// Give every span back and the pages to the OS; the reservation stays (see the module),
    /// and the empty MHeap goes to the next Heap made.
    fn drop(&mut self) {
        for s in self.allspans.drain(..) {
            // SAFETY: our span; nothing will use its objects again.
            unsafe { self.mheap.free_span(s) };
        }
        self.mheap.scavenge_all();
        FREE_MHEAPS.lock().unwrap().push(self.mheap);
    }
}

/// MHeaps whose Heap was dropped: every span given back, the pages released. A new Heap
/// takes one of these before it reserves a new region, so a program (or a test suite) that
/// makes many heaps one after another keeps reusing the same memory. Under qemu-user, which
/// does not give released pages back, a proptest that made a fresh MHeap per case grew to
/// 24 GiB.
static FREE_MHEAPS: std::sync::Mutex<Vec<&'static MHeap>> = std::sync::Mutex::new(Vec::new());

/// An empty MHeap: a recycled one, or a new one, leaked (see the module).
fn take_mheap() -> &'static MHeap {
    let recycled = FREE_MHEAPS.lock().unwrap().pop();
    recycled.unwrap_or_else(|| Box::leak(Box::new(MHeap::new())))
}
