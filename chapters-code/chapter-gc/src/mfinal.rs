//! Go: runtime/mfinal.go — finalizers: SetFinalizer, the finalizer queue (finq) and the
//! finalizer goroutine (runfinq).
//!
//! A finalizer is a record on the object's span (specials.rs). While it is set the object's
//! referents are roots (markrootSpans scans the object without marking it), so when the
//! object itself is found unreachable the sweep can mark it after all, queue the finalizer
//! and let it run with everything it points to intact; the object dies the first cycle it
//! is unreachable *after* that. Three rules follow, all in golden/finalizers.txt:
//! a finalizer runs once; a cycle through an object with a finalizer is never collected
//! (the object's referents lead back to it, so it is always marked); in a chain A → B of
//! finalized objects, B's finalizer can only be queued after A's ran and A is gone.
//!
//! Go runs the queue on one goroutine, `fing`, one finalizer after another. This heap has
//! no goroutines: the queue is drained when the program calls [`Heap::run_finalizers`],
//! which plays fing's loop on the calling thread (a finalizer still runs after the cycle
//! that queued it, never inside the collector, as in Go).

use crate::heap::{Heap, Ptr};
use crate::specials::{SpecialBody, SpecialKind};

/// A finalizer: called once with the heap and the object. Go: a funcval taking the object.
pub type FinalizerFn = Box<dyn FnOnce(&mut Heap, Ptr)>;

/// A finalizer and the heap pointers its closure holds. Rust closures cannot be scanned,
/// so what Go finds by scanning the funcval (scanblock(&spf.fn)) is listed here: `env`
/// is marked as a root for as long as the finalizer is set or queued.
pub struct Finalizer {
    pub(crate) f: FinalizerFn,
    pub(crate) env: Vec<Ptr>,
}

impl Heap {
    /// Go: runtime.SetFinalizer(obj, f). Panics where Go throws (a fatal error there; a
    /// panic is what Rust has): `obj` must be the start of an allocated object (this heap
    /// has no tiny allocator, so Go's exemption for inner pointers to small pointer-free
    /// objects never applies), and may not have a finalizer already. A pointer outside
    /// the heap into the globals is accepted and ignored, as Go ignores pointers into the
    /// data and bss segments (isGoPointerWithoutSpan). `env`: the heap pointers `f` holds.
    pub fn set_finalizer(
        &mut self,
        obj: Ptr,
        env: &[Ptr],
        f: impl FnOnce(&mut Heap, Ptr) + 'static,
    ) {
        if !self.finalizer_target(obj) {
            return;
        }
        let fin = Finalizer {
            f: Box::new(f),
            env: env.to_vec(),
        };
        // Go: addfinalizer. While marking, the roots were already scanned: scan now what
        // markrootSpans would have (the object's referents and the closure).
        if self.phase() == crate::heap::GcPhase::Mark {
            let (s, _, base) = self.find_object(obj.0).expect("checked above");
            // SAFETY: our span.
            if !unsafe { (*s).spanclass.noscan() } {
                self.scanobject(base);
            }
            env.iter().for_each(|p| self.shade(p.0));
        }
        if !self.addspecial(
            obj,
            SpecialKind::Finalizer,
            SpecialBody::Finalizer(fin),
            false,
        ) {
            panic!("runtime.SetFinalizer: finalizer already set");
        }
    }

    /// Go: runtime.SetFinalizer(obj, nil) → removefinalizer.
    pub fn clear_finalizer(&mut self, obj: Ptr) {
        if self.finalizer_target(obj) {
            self.removespecial(obj, SpecialKind::Finalizer, |_| true);
        }
    }

    /// SetFinalizer's checks: false for a pointer into the globals (ignored), a panic for
    /// anything else that is not the start of a heap object.
    fn finalizer_target(&self, obj: Ptr) -> bool {
        let Some((s, _, base)) = self.find_object(obj.0) else {
            let g = self.globals.words.as_ptr_range();
            if (g.start as usize..g.end as usize).contains(&obj.0) {
                return false; // Go: isGoPointerWithoutSpan
            }
            // A nil pointer (*T)(nil) lands here too in Go: findObject(0) finds nothing.
            panic!("runtime.SetFinalizer: pointer not in allocated block");
        };
        // Go moves base past the malloc header, where the object's data starts.
        let (_, data) = self.type_info(s, base);
        if obj.0 != data {
            panic!("runtime.SetFinalizer: pointer not at beginning of allocated block");
        }
        true
    }

    /// Whether `obj` has a finalizer set (Go: the specials list has a _KindSpecialFinalizer).
    pub fn has_finalizer(&self, obj: Ptr) -> bool {
        self.findspecial(obj, SpecialKind::Finalizer).is_some()
    }

    /// Go: fingStatus&fingRunningFinalizer. Whether a finalizer is running now.
    pub fn fing_running(&self) -> bool {
        !self.specials.fin_running.is_empty()
    }

    /// Finalizers queued and not yet run (Go: finq's counts).
    pub fn finalizers_queued(&self) -> usize {
        self.specials.finq.len()
    }

    /// Go: runfinq, the loop of the finalizer goroutine: take each queued record and call
    /// it, one at a time. While a finalizer runs its object and closure stay roots (Go's
    /// fing holds them in its frame), so it may allocate, collect, or store the object
    /// somewhere reachable again (resurrection). Returns how many ran; finalizers queued by
    /// cycles that run inside a finalizer run too, as fing would get to them.
    pub fn run_finalizers(&mut self) -> usize {
        let mut n = 0;
        while let Some((obj, fin)) = self.specials.finq.pop_front() {
            let roots = self.specials.fin_running.len();
            self.specials.fin_running.push(obj);
            self.specials.fin_running.extend_from_slice(&fin.env);
            (fin.f)(self, obj);
            self.specials.fin_running.truncate(roots);
            n += 1;
        }
        n
    }
}
