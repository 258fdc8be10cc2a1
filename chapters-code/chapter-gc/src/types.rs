//! Go: internal/abi/type.go — the type descriptor, trimmed to what the collector reads.
//!
//! The compiler emits one `abi.Type` per type. The GC needs three of its fields: `Size_`,
//! `PtrBytes` (the prefix of the object that can hold pointers: past it, scanning stops) and
//! `GCData`, a bitmap with one bit per pointer-sized word of that prefix (1: the word is a
//! pointer). Everything else (hash, kind, methods) is for the rest of the language.

/// A word: Go's pointer size on 64-bit targets (goarch.PtrSize).
pub const PTR_SIZE: usize = 8;

/// Go: abi.Type (Size_, Align_, PtrBytes, GCData). Lives for the whole program, as Go's do
/// (they are in the binary's read-only data): a malloc header or a span's largeType points
/// to one, so the heap takes `&'static Type`. Build with [`Type::new`] and [`Type::leak`].
#[derive(Debug, PartialEq, Eq)]
pub struct Type {
    pub name: &'static str,
    pub size: usize,
    pub align: usize,
    /// Go: PtrBytes. Bytes of the prefix holding all the pointers; 0 for a pointer-free
    /// ("noscan") type, which the allocator puts in noscan spans the GC never scans.
    pub ptr_bytes: usize,
    /// Go: GCData. Bit `i % 8` of byte `i / 8` says whether word `i` is a pointer; only the
    /// first `ptr_bytes / 8` bits mean anything.
    pub gcdata: Box<[u8]>,
}

impl Type {
    /// A type of `size` bytes (a multiple of 8) whose pointers are the words `ptr_words`.
    pub fn new(name: &'static str, size: usize, ptr_words: &[usize]) -> Type {
        assert!(
            size > 0 && size.is_multiple_of(PTR_SIZE),
            "size must be whole words"
        );
        let words = size / PTR_SIZE;
        let mut gcdata = vec![0u8; words.div_ceil(8)].into_boxed_slice();
        let mut ptr_bytes = 0;
        for &w in ptr_words {
            assert!(w < words, "pointer word {w} outside a {size}-byte type");
            gcdata[w / 8] |= 1 << (w % 8);
            ptr_bytes = ptr_bytes.max((w + 1) * PTR_SIZE);
        }
        Type {
            name,
            size,
            align: PTR_SIZE,
            ptr_bytes,
            gcdata,
        }
    }

    /// Types live as long as the program (see [`Type`]).
    pub fn leak(self) -> &'static Type {
        Box::leak(Box::new(self))
    }

    /// Go: Type.Pointers. False: the allocator uses a noscan span class.
    pub fn pointers(&self) -> bool {
        self.ptr_bytes != 0
    }

    /// Whether word `w` holds a pointer.
    pub fn is_ptr_word(&self, w: usize) -> bool {
        w * PTR_SIZE < self.ptr_bytes && self.gcdata[w / 8] & (1 << (w % 8)) != 0
    }
}

// ANCHOR: node_type
/// `type node struct { left, right *node; val int }`: 24 bytes, pointers in words 0 and 1.
pub fn node_type() -> &'static Type {
    Type::new("node", 24, &[0, 1]).leak()
}
// ANCHOR_END: node_type

/// The backing array of a `[]byte` of `n` bytes (rounded up to whole words): no pointers.
pub fn bytes_type(n: usize) -> &'static Type {
    Type::new("[]byte", n.next_multiple_of(PTR_SIZE).max(PTR_SIZE), &[]).leak()
}

/// `[n]*T`: every word a pointer.
pub fn ptr_array_type(n: usize) -> &'static Type {
    let words: Vec<usize> = (0..n).collect();
    Type::new("[n]*T", n * PTR_SIZE, &words).leak()
}

/// A node padded with scalars to `size` bytes: `left`, `right` in words 0 and 1, `val` in
/// word 2, then padding. Sizes past 512 bytes exercise the malloc header, past 32 KiB the
/// large-object path.
pub fn padded_node_type(size: usize) -> &'static Type {
    assert!(size >= 24);
    Type::new("paddedNode", size.next_multiple_of(PTR_SIZE), &[0, 1]).leak()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ptr_bytes_stops_at_the_last_pointer() {
        let t = Type::new("t", 64, &[1, 3]);
        assert_eq!(t.ptr_bytes, 32);
        assert!(!t.is_ptr_word(0) && t.is_ptr_word(1) && !t.is_ptr_word(2));
        assert!(t.is_ptr_word(3) && !t.is_ptr_word(7));
        // (No leaking helpers here: miri runs this test and would call them leaks.)
        let b = Type::new("[]byte", 104, &[]);
        assert!(!b.pointers());
        let a = Type::new("[10]*T", 80, &(0..10).collect::<Vec<_>>());
        assert_eq!((a.ptr_bytes, a.gcdata.len()), (80, 2));
        assert!((0..10).all(|w| a.is_ptr_word(w)));
    }
}
