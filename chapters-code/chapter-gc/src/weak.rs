//! Go: weak/pointer.go and the runtime half in mheap.go (getOrAddWeakHandle,
//! internal_weak_runtime_makeStrongFromWeak) — weak pointers.
//!
//! A weak pointer does not point at the object: it points at the object's *handle*, an
//! 8-byte word in a small pointer-free heap object that holds the object's address. There
//! is one handle per object, found through a weak-handle record on the object's span
//! (specials.rs), so every weak pointer made from the same pointer is the same handle and
//! they compare equal, even after the object is gone. The handle word is a scalar to the
//! collector, so it keeps nothing alive; the record keeps the handle alive while the object
//! lives, and the sweep zeroes it when the object is unreachable, before any finalizer can
//! resurrect the object. [`WeakPointer::value`] is one load.
//!
//! Like a [`Ptr`], a `WeakPointer` is only a root where the collector can see it: keep
//! [`WeakPointer::handle`] in a frame slot, a global or a heap field (Go's weak.Pointer is a
//! pointer to the handle, scanned like any other).

use crate::heap::{GcPhase, Heap, Ptr};
use crate::specials::{SpecialBody, SpecialKind};
use crate::types::{bytes_type, Type};

/// Go: weakHandleBox, an atomic.Uintptr padded to maxTinySize (16 bytes, no pointers).
fn weak_handle_box() -> &'static Type {
    static T: std::sync::OnceLock<&'static Type> = std::sync::OnceLock::new();
    T.get_or_init(|| bytes_type(16))
}

/// Go: `weak.Pointer[T]`. The zero value is the weak pointer made from nil.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct WeakPointer {
    handle: Ptr,
}

impl WeakPointer {
    /// Go: weak.Make → runtime.getOrAddWeakHandle.
    pub fn make(heap: &mut Heap, p: Ptr) -> WeakPointer {
        if p.is_nil() {
            return WeakPointer::default();
        }
        WeakPointer {
            handle: heap.get_or_add_weak_handle(p),
        }
    }

    /// Go: Pointer.Value → makeStrongFromWeak. The object, or NIL once the sweep found it
    /// unreachable. While marking, the result is shaded: it may now be the only pointer to
    /// an object the marker has not reached (the Yuasa half of the write barrier's job).
    pub fn value(self, heap: &mut Heap) -> Ptr {
        if self.handle.is_nil() {
            return Ptr::NIL;
        }
        // Go: span.ensureSwept on the object's span first. With a lazy sweep the object
        // may be dead and its span not yet swept: sweeping it now zeroes the handle.
        let p = Ptr(heap.read_scalar(self.handle, 0) as usize);
        if p.is_nil() {
            return Ptr::NIL;
        }
        let s = heap.mheap.span_of(p.0);
        if !s.is_null() {
            heap.ensure_swept(s);
        }
        let p = Ptr(heap.read_scalar(self.handle, 0) as usize);
        if heap.phase() == GcPhase::Mark {
            heap.shade(p.0);
        }
        p
    }

    /// The handle object: what to store in a root to keep this weak pointer usable.
    pub fn handle(self) -> Ptr {
        self.handle
    }

    /// A weak pointer from a handle kept in a root.
    pub fn from_handle(handle: Ptr) -> WeakPointer {
        WeakPointer { handle }
    }
}

impl Heap {
    // ANCHOR: get_or_add_weak_handle
    /// Go: getOrAddWeakHandle. The object's handle, made on first use: a 16-byte
    /// pointer-free object (Go pads it to 16 so that the tiny allocator never batches it
    /// with other objects) holding `p`, and a weak-handle record pointing to it.
    pub(crate) fn get_or_add_weak_handle(&mut self, p: Ptr) -> Ptr {
        if let Some(sp) = self.findspecial(p, SpecialKind::WeakHandle) {
            let SpecialBody::WeakHandle(h) = sp.body else {
                unreachable!()
            };
            return h;
        }
        // The allocation may collect: keep `p` alive across it (Go: KeepAlive(p)).
        self.specials.keep_alive.push(p);
        let h = self.alloc(weak_handle_box());
        self.specials.keep_alive.pop();
        self.write_scalar(h, 0, p.0 as u64);
        let added = self.addspecial(
            p,
            SpecialKind::WeakHandle,
            SpecialBody::WeakHandle(h),
            false,
        );
        debug_assert!(added);
        if self.phase() == GcPhase::Mark {
            self.shade(h.0); // allocated black anyway; Go scans &s.handle here
        }
        h
    }
    // ANCHOR_END: get_or_add_weak_handle
}
