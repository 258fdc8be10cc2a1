//! Go: runtime/mheap.go's specials — records the collector must consult for particular
//! objects: a finalizer, a weak handle, cleanups.
//!
//! Go keeps them on `mspan.specials`, a list sorted by (offset in the span, kind), and a bit
//! per page (`pageSpecials`) so that markrootSpans only visits spans that have any.
//! chapter-allocator's MSpan has no specials field, so the heap keeps the lists beside the
//! spans, keyed by span base, as it does for `largeType` (heap.rs); a span with a list is
//! exactly a span with its `pageSpecials` bit set. The lists are Vecs kept sorted, so the
//! splice point is a binary search where Go walks the linked list.
//!
//! The three kinds this heap has are the ones the collector treats specially: markrootSpans
//! (`Heap::markroot_specials`) keeps their referents alive, and the sweep
//! (`Heap::sweep_specials`) acts on the records of unmarked objects before the span's
//! mark bits become its alloc bits.

use crate::heap::{Heap, Ptr};
use crate::mcleanup::CleanupFn;
use crate::mfinal::Finalizer;
use chapter_allocator::mspan::MSpan;
use std::collections::HashMap;

/// Go: _KindSpecial* (mheap.go). The numbers are Go's; the list order within one offset
/// follows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum SpecialKind {
    /// Go: _KindSpecialFinalizer.
    Finalizer = 2,
    /// Go: _KindSpecialWeakHandle.
    WeakHandle = 3,
    /// Go: _KindSpecialCleanup.
    Cleanup = 7,
}

/// What a record carries (Go: specialfinalizer, specialWeakHandle, specialCleanup).
pub(crate) enum SpecialBody {
    /// The finalizer and the pointers its closure holds (Go: spf.fn, a funcval).
    Finalizer(Finalizer),
    /// The 8-byte handle: a pointer-free heap object holding the object's address.
    WeakHandle(Ptr),
    /// Go: specialCleanup{cleanup: cleanupFn{fn, arg}, id}.
    Cleanup { id: u64, f: CleanupFn, arg: Ptr },
}

/// Go: special. `offset` is from the span's base to the pointer the record was made for.
pub(crate) struct Special {
    pub(crate) offset: usize,
    pub(crate) kind: SpecialKind,
    pub(crate) body: SpecialBody,
}

/// Everything the heap keeps for specials: the per-span lists, and the queues of work the
/// sweep hands to the program (Go: finq, gcCleanups) with the records being run now.
#[derive(Default)]
pub(crate) struct SpecialsState {
    /// Go: mspan.specials, keyed by span base.
    pub(crate) spans: HashMap<usize, Vec<Special>>,
    /// Go: finq. Finalizers queued by the sweep: (object, finalizer).
    pub(crate) finq: std::collections::VecDeque<(Ptr, Finalizer)>,
    /// The finalizer running now: its object and closure pointers, roots like the frame of
    /// Go's finalizer goroutine (runfinq copies the record into its frame).
    pub(crate) fin_running: Vec<Ptr>,
    /// Go: gcCleanups. Cleanups queued by the sweep: (function, argument).
    pub(crate) cleanups: std::collections::VecDeque<(CleanupFn, Ptr)>,
    /// The argument of the cleanup running now (in the cleanup goroutine's frame).
    pub(crate) cleanup_running: Vec<Ptr>,
    /// Go: mheap_.cleanupID. 0 is reserved for "no cleanup".
    pub(crate) cleanup_id: u64,
    /// Pointers a runtime call keeps alive while it allocates (Go: KeepAlive in a frame).
    pub(crate) keep_alive: Vec<Ptr>,
}

impl Heap {
    /// The span holding heap pointer `p` and `p`'s offset in it; panics if there is none
    /// (Go: the throws in addspecial, removespecial).
    fn special_span(&self, p: Ptr, what: &str) -> (usize, usize) {
        let s = self.mheap.span_of(p.0);
        assert!(!s.is_null(), "{what} on invalid pointer");
        // SAFETY: span_of returns spans in use, all of them ours.
        let base = unsafe { (*s).base };
        (base, p.0 - base)
    }

    /// Go: mspan.specialFindSplicePoint. Where a record for (offset, kind) goes in the
    /// sorted list, and whether one is already there.
    fn special_find_splice_point(
        list: &[Special],
        offset: usize,
        kind: SpecialKind,
    ) -> (usize, bool) {
        let i = list.partition_point(|s| (s.offset, s.kind) < (offset, kind));
        let found = list
            .get(i)
            .is_some_and(|s| s.offset == offset && s.kind == kind);
        (i, found)
    }

    /// Go: addspecial. Add a record for `p`; unless `force`, not if one of the same kind
    /// is there already (false). Cleanups are forced: an object may have many.
    pub(crate) fn addspecial(
        &mut self,
        p: Ptr,
        kind: SpecialKind,
        body: SpecialBody,
        force: bool,
    ) -> bool {
        let (base, offset) = self.special_span(p, "addspecial");
        let list = self.specials.spans.entry(base).or_default();
        let (i, exists) = Self::special_find_splice_point(list, offset, kind);
        if exists && !force {
            return false;
        }
        list.insert(i, Special { offset, kind, body });
        true
    }

    /// Go: removespecial. Take the first record of `kind` for `p`, if any; `pick` chooses
    /// among several of the same kind (a cleanup's id).
    pub(crate) fn removespecial(
        &mut self,
        p: Ptr,
        kind: SpecialKind,
        mut pick: impl FnMut(&Special) -> bool,
    ) -> Option<Special> {
        let (base, offset) = self.special_span(p, "removespecial");
        let list = self.specials.spans.get_mut(&base)?;
        let (mut i, _) = Self::special_find_splice_point(list, offset, kind);
        let mut found = None;
        while i < list.len() && list[i].offset == offset && list[i].kind == kind {
            if pick(&list[i]) {
                found = Some(list.remove(i));
                break;
            }
            i += 1;
        }
        if list.is_empty() {
            self.specials.spans.remove(&base); // Go: spanHasNoSpecials
        }
        found
    }

    /// The record of `kind` for `p`, if any.
    pub(crate) fn findspecial(&self, p: Ptr, kind: SpecialKind) -> Option<&Special> {
        let (base, offset) = self.special_span(p, "findspecial");
        let list = self.specials.spans.get(&base)?;
        let (i, found) = Self::special_find_splice_point(list, offset, kind);
        found.then(|| &list[i])
    }

    /// (offset, kind) of every record of the span holding `p`, in list order (tests).
    pub fn specials_of_span(&self, p: Ptr) -> Vec<(usize, SpecialKind)> {
        let (base, _) = self.special_span(p, "specials_of_span");
        self.specials
            .spans
            .get(&base)
            .map(|l| l.iter().map(|s| (s.offset, s.kind)).collect())
            .unwrap_or_default()
    }

    /// Records on all spans (tests).
    pub fn specials_count(&self) -> usize {
        self.specials.spans.values().map(Vec::len).sum()
    }
}

impl Heap {
    // ANCHOR: markroot_specials
    /// Go: markrootSpans (with gcScanFinalizer, gcScanCleanup) and the finalizer-queue root
    /// of markroot. An object with a finalizer is *not* marked: its referents are (Go scans
    /// the object without marking it), so that if it is unreachable it can be finalized,
    /// and everything the finalizer may touch is still there. The finalizer's closure, the
    /// weak handle and a cleanup's argument are roots. So are the queued records and the
    /// one being run: finq is scanned as a root, the running one is in a goroutine's frame.
    pub(crate) fn markroot_specials(&mut self) {
        let mut objects = Vec::new();
        let mut roots = Vec::new();
        for (&base, list) in &self.specials.spans {
            let s = self.mheap.span_of(base);
            // SAFETY: a span with specials is in use: it has live objects.
            let span: &MSpan = unsafe { &*s };
            for sp in list {
                match &sp.body {
                    SpecialBody::Finalizer(f) => {
                        // Go: p := s.base() + offset/elemsize*elemsize; scanObject(p).
                        if !span.spanclass.noscan() {
                            objects.push(base + sp.offset / span.elemsize * span.elemsize);
                        }
                        roots.extend(f.env.iter().map(|p| p.0));
                    }
                    SpecialBody::WeakHandle(h) => roots.push(h.0),
                    SpecialBody::Cleanup { arg, .. } => roots.push(arg.0),
                }
            }
        }
        for (obj, f) in &self.specials.finq {
            roots.push(obj.0);
            roots.extend(f.env.iter().map(|p| p.0));
        }
        let st = &self.specials;
        roots.extend(st.fin_running.iter().map(|p| p.0));
        roots.extend(st.cleanups.iter().map(|(_, a)| a.0));
        roots.extend(st.cleanup_running.iter().map(|p| p.0));
        roots.extend(st.keep_alive.iter().map(|p| p.0));
        for b in objects {
            self.scanobject(b);
        }
        for p in roots {
            self.shade(p);
        }
    }
    // ANCHOR_END: markroot_specials

    // ANCHOR: sweep_specials
    /// Go: the specials pass of mspan.sweep (mgcsweep.go), with freeSpecial (mheap.go). For
    /// each unmarked object with records: if it has a finalizer, mark it again (it
    /// survives this cycle: its referents were marked by markrootSpans) and free only its
    /// finalizer and weak-handle records, which queues the finalizer and zeroes the handle
    /// (so weak pointers are nil before the finalizer can resurrect the object); its
    /// cleanups stay for when it dies for good. Without a finalizer the object is dead:
    /// every record goes, cleanups to the queue. Must run before MSpan::sweep turns the
    /// mark bits into alloc bits.
    pub(crate) fn sweep_specials(&mut self, s: *mut MSpan) {
        // SAFETY: our span, being swept; nothing else looks at it.
        let span = unsafe { &mut *s };
        let Some(list) = self.specials.spans.remove(&span.base) else {
            return;
        };
        let size = span.elemsize;
        let mut kept = Vec::with_capacity(list.len());
        let mut it = list.into_iter().peekable();
        while let Some(first) = it.next() {
            let obj_index = first.offset / size;
            let end_offset = (obj_index + 1) * size;
            let mut group = vec![first];
            while let Some(sp) = it.next_if(|sp| sp.offset < end_offset) {
                group.push(sp);
            }
            if span.gcmark_bits.is_set(obj_index) {
                kept.extend(group); // still live: keep every record
                continue;
            }
            let revived = group.iter().any(|sp| sp.kind == SpecialKind::Finalizer);
            if revived {
                span.gcmark_bits.set(obj_index); // Go: mbits.setMarkedNonAtomic()
            }
            for sp in group {
                let p = Ptr(span.base + sp.offset);
                match sp.body {
                    SpecialBody::Finalizer(f) => self.specials.finq.push_back((p, f)),
                    SpecialBody::WeakHandle(h) => {
                        // SAFETY: the handle box was shaded by markroot_specials: it is live.
                        unsafe { (h.0 as *mut usize).write(0) }
                    }
                    body @ SpecialBody::Cleanup { .. } if revived => {
                        kept.push(Special { body, ..sp })
                    }
                    SpecialBody::Cleanup { f, arg, .. } => {
                        self.specials.cleanups.push_back((f, arg))
                    }
                }
            }
        }
        if !kept.is_empty() {
            self.specials.spans.insert(span.base, kept);
        }
    }
    // ANCHOR_END: sweep_specials
}
