//! Go: runtime/mgcwork.go — gcWork, one P's grey work: a buffer of objects and (Green Tea) a
//! queue of spans.
//!
//! Go gives each P two workbufs (wbuf1, wbuf2) of object pointers used last in, first out,
//! spilling full ones to the global `work.full` list; with one P and one marker a `Vec` is
//! the same stack. Green Tea adds the [`SpanQueue`] (mgcmark_greenteagc.go): spans, first in,
//! first out, so that a span waits in the queue while more of its objects get marked, and is
//! then scanned in one go. gcDrain takes work in the order the table in mgcwork.go gives:
//! the local object buffer, the local span ring, the global workbufs, the spilled span chain
//! (here: [`GcWork::try_get_obj_fast`], [`GcWork::try_get_span_fast`],
//! [`GcWork::try_get_obj`], [`GcWork::try_get_span`]).

use crate::mgcmark_greenteagc::{ObjPtr, SpanQueue};

/// Which marking algorithm the heap uses. Go 1.27 builds Green Tea by default
/// (goexperiment.GreenTeaGC); `GOEXPERIMENT=nogreenteagc` builds the classic graph flood.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MarkMode {
    /// Go: mgcmark_greenteagc.go. Small scan objects (16..=512 B) are marked in their span's
    /// inline mark bits and their spans queued and scanned together.
    #[default]
    GreenTea,
    /// Go: mgcmark_nogreenteagc.go. Every grey object goes on the object buffer.
    Classic,
}

/// Go: sizeClassScanStats (mgcmark_greenteagc.go), summed over size classes, plus how many
/// spans were queued. Go keeps these for `GODEBUG=gctrace=2`; tests read them here.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Objects scanned one at a time: scanobject, and scanSpan's one-mark shortcut.
    pub sparse_objs_scanned: u64,
    /// Spans scanned through the marks/scans diff, and the objects those scans covered.
    pub spans_sparse_scanned: u64,
    pub span_objs_sparse_scanned: u64,
    /// Calls to spanQueue.put: a span acquired and queued.
    pub spans_queued: u64,
    /// scanSpan calls that had nothing left to scan (another mark's scan got there first).
    pub spans_empty: u64,
}

/// Go: gcWork, for the one P.
#[derive(Debug, Default)]
pub struct GcWork {
    /// Go: wbuf1/wbuf2 and work.full. Grey objects' base addresses, last in first out.
    pub(crate) objs: Vec<usize>,
    /// Go: gcWork.spanq.
    pub(crate) spanq: SpanQueue,
    pub stats: ScanStats,
    /// Go: gcWork.ptrBuf. The pointer words of the span being scanned.
    pub(crate) ptr_buf: Vec<usize>,
}

impl GcWork {
    /// Go: putObjFast/putObj.
    #[inline]
    pub(crate) fn put_obj(&mut self, obj: usize) {
        self.objs.push(obj);
    }

    /// Go: tryGetObjFast (wbuf1). With one P the local buffer and the global list are one
    /// stack, so [`try_get_obj`](Self::try_get_obj) finds nothing this did not.
    #[inline]
    pub(crate) fn try_get_obj_fast(&mut self) -> Option<usize> {
        self.objs.pop()
    }

    /// Go: tryGetObj (wbuf2, then work.full).
    pub(crate) fn try_get_obj(&mut self) -> Option<usize> {
        self.objs.pop()
    }

    /// Go: gcWork.tryGetSpanFast. The local ring's oldest span.
    #[inline]
    pub(crate) fn try_get_span_fast(&mut self) -> Option<ObjPtr> {
        self.spanq.try_get_fast()
    }

    /// Go: gcWork.tryGetSpan. The local ring, else "steal from ourselves": refill the ring
    /// from the spilled chain.
    pub(crate) fn try_get_span(&mut self) -> Option<ObjPtr> {
        self.spanq.try_get_fast().or_else(|| self.spanq.steal())
    }

    /// Go: gcWork.empty (and spanQueue.empty): no grey object and no queued span.
    pub fn is_empty(&self) -> bool {
        self.objs.is_empty() && self.spanq.empty()
    }
}
