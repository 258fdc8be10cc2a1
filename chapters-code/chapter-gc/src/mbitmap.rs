//! Go: runtime/mbitmap.go — where the collector finds an object's pointers (Go 1.22+).
//!
//! Three places, by object size, all for objects in scan spans (a noscan span has none):
//!
//! * up to 512 bytes (`heapBitsInSpan`): the span's *heap bits*, one bit per word of the
//!   whole span, kept at the span's end (spanHeapBitsRange: `npages*8192/64` bytes, just
//!   before Green Tea's 128 bytes of inline mark bits when the objects are 16 bytes or
//!   more). The allocator writes an object's bits when it hands it out
//!   (writeHeapBitsSmall). Cheap for small objects: a bit per word, no header.
//! * 513 bytes to 32 KiB: an 8-byte *malloc header* before the object, holding its
//!   `*abi.Type` (heapSetTypeSmallHeader); the type's GCData says where the pointers are.
//!   A bitmap per word would cost as much as the header for every object of the span.
//! * large objects (a span each): the span's `largeType`. Here it lives beside the span, in
//!   the heap's side table, because chapter-allocator's MSpan has no such field.
//!
//! The model writes these exactly where Go does, so a reader can find the heap bits in a
//! span's tail and the header in the object's first word.

use crate::types::{Type, PTR_SIZE};
use chapter_allocator::mspan::{gc_uses_span_inline_mark_bits, MSpan, SPAN_INLINE_MARK_BITS_SIZE};
use chapter_allocator::sizeclasses::PAGE_SIZE;

/// How to find the pointers of one object.
#[derive(Clone, Copy, Debug)]
pub enum TypeInfo {
    /// In a noscan span: no pointers.
    Noscan,
    /// In the span's heap bits.
    HeapBits,
    /// In the type its malloc header points to.
    Header(&'static Type),
    /// In the span's largeType.
    Large(&'static Type),
}

/// Go: mspan.heapBits — the bitmap at the end of a small-object scan span.
pub struct HeapBits {
    /// The address of the bitmap's first byte.
    base: usize,
}

impl HeapBits {
    /// Go: spanHeapBitsRange.
    pub fn of(span: &MSpan) -> HeapBits {
        let span_size = span.npages * PAGE_SIZE;
        let size = span_size / PTR_SIZE / 8;
        let mut base = span.base + span_size - size;
        if gc_uses_span_inline_mark_bits(span.elemsize) {
            base -= SPAN_INLINE_MARK_BITS_SIZE;
        }
        HeapBits { base }
    }

    /// The byte and bit for the word at `addr`.
    fn bit(&self, span: &MSpan, addr: usize) -> (usize, u8) {
        let w = (addr - span.base) / PTR_SIZE;
        (self.base + w / 8, 1 << (w % 8))
    }

    /// Whether the word at `addr` holds a pointer.
    pub fn is_ptr(&self, span: &MSpan, addr: usize) -> bool {
        let (byte, mask) = self.bit(span, addr);
        // SAFETY: the bitmap lies in the span's own mapped tail.
        unsafe { *span.ptr(byte) & mask != 0 }
    }

    /// Go: writeHeapBitsSmall. The bits for every word of the object at `base`: the type's
    /// pointer mask, scalars for the rest of the size class's slot.
    pub fn write_small(&self, span: &MSpan, base: usize, typ: &Type) {
        for w in 0..span.elemsize / PTR_SIZE {
            let (byte, mask) = self.bit(span, base + w * PTR_SIZE);
            let p = span.ptr(byte);
            // SAFETY: as in is_ptr; the heap has the span to itself.
            unsafe {
                if typ.is_ptr_word(w) {
                    *p |= mask;
                } else {
                    *p &= !mask;
                }
            }
        }
    }
}
