//! Go: runtime/mcleanup.go — cleanups: AddCleanup, Cleanup.Stop and the cleanup queue.
//!
//! A cleanup is a function and an argument attached to an object, run after the object is
//! unreachable. Unlike a finalizer it never sees the object, so nothing has to keep the
//! object alive for it: an object with cleanups dies the first cycle it is unreachable (a
//! cycle of such objects too), and its cleanups are queued. An object may have any number.
//! If it also has a finalizer, the finalizer's rule wins first: the object is resurrected,
//! its cleanups stay on it, and they are queued only when it is found unreachable again.
//!
//! Go runs the queue on up to max(GOMAXPROCS/4, 1) goroutines, in no promised order. This
//! heap has one mutator and no goroutines: one queue, drained in order when the program
//! calls [`Heap::run_cleanups`].

use crate::heap::{GcPhase, Heap, Ptr};
use crate::specials::{SpecialBody, SpecialKind};

/// A cleanup: called once with the heap and its argument.
pub type CleanupFn = Box<dyn FnOnce(&mut Heap, Ptr)>;

/// Go: runtime.Cleanup, the handle AddCleanup returns. `id` 0 is a cleanup that will never
/// run (the object was not in the heap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cleanup {
    id: u64,
    ptr: Ptr,
}

impl Heap {
    /// Go: runtime.AddCleanup(ptr, cleanup, arg). After `ptr`'s object is unreachable,
    /// queue `f(arg)`. `arg` (or NIL) is a root while the cleanup waits, so it must not
    /// lead back to `ptr`: Go panics when it is `ptr` or points into its object, with the
    /// messages below. (Go also panics when the closure holds `ptr`; a Rust closure cannot
    /// be inspected, so don't.) `f` may hold no heap pointers: pass them as `arg`.
    pub fn add_cleanup(
        &mut self,
        ptr: Ptr,
        arg: Ptr,
        f: impl FnOnce(&mut Heap, Ptr) + 'static,
    ) -> Cleanup {
        if ptr.is_nil() {
            panic!("runtime.AddCleanup: ptr is nil");
        }
        if ptr == arg {
            panic!("runtime.AddCleanup: ptr is equal to arg, cleanup will never run");
        }
        let Some((s, _, base)) = self.find_object(ptr.0) else {
            let g = self.globals.words.as_ptr_range();
            if (g.start as usize..g.end as usize).contains(&ptr.0) {
                return Cleanup { id: 0, ptr }; // Go: isGoPointerWithoutSpan: a no-op
            }
            panic!("runtime.AddCleanup: ptr not in allocated block");
        };
        // SAFETY: our span.
        let elemsize = unsafe { (*s).elemsize };
        if (base..base + elemsize).contains(&arg.0) {
            panic!("runtime.AddCleanup: ptr is within arg, cleanup will never run");
        }
        // Go: addCleanup.
        self.specials.cleanup_id += 1;
        let id = self.specials.cleanup_id;
        let body = SpecialBody::Cleanup {
            id,
            f: Box::new(f),
            arg,
        };
        self.addspecial(ptr, SpecialKind::Cleanup, body, true);
        if self.phase() == GcPhase::Mark {
            self.shade(arg.0); // Go: gcScanCleanup, the roots being already scanned
        }
        Cleanup { id, ptr }
    }

    /// Cleanups queued and not yet run.
    pub fn cleanups_queued(&self) -> usize {
        self.specials.cleanups.len()
    }

    /// Go: runCleanups, the loop of a cleanup goroutine. Runs every queued cleanup, its
    /// argument a root while it runs; returns how many ran.
    pub fn run_cleanups(&mut self) -> usize {
        let mut n = 0;
        while let Some((f, arg)) = self.specials.cleanups.pop_front() {
            self.specials.cleanup_running.push(arg);
            f(self, arg);
            self.specials.cleanup_running.pop();
            n += 1;
        }
        n
    }
}

impl Cleanup {
    /// Go: Cleanup.Stop. Remove the cleanup if it has not been queued yet; a no-op
    /// afterwards (or once the object is freed: its records went with it).
    pub fn stop(self, heap: &mut Heap) {
        if self.id == 0 || heap.find_object(self.ptr.0).is_none() {
            return;
        }
        heap.removespecial(
            self.ptr,
            SpecialKind::Cleanup,
            |s| matches!(s.body, SpecialBody::Cleanup { id, .. } if id == self.id),
        );
    }
}
