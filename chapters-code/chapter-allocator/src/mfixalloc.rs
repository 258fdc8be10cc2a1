//! Fixed-size records for the allocator itself (Go: mfixalloc.go).
//!
//! The heap cannot allocate its own span records from the heap. Go's fixalloc carves
//! records out of 16 KiB chunks of persistent memory and keeps freed records on a free list
//! threaded through the records themselves. Not thread-safe: the heap's lock guards it.

use crate::mem::sys_alloc;
use std::marker::PhantomData;
use std::ptr::null_mut;

/// Go: _FixAllocChunk.
pub const FIX_ALLOC_CHUNK: usize = 16 << 10;

/// Go: fixalloc.
pub struct FixAlloc<T> {
    /// Freed records, each holding the address of the next (Go: mlink).
    list: *mut u8,
    /// The unused rest of the current chunk.
    chunk: *mut u8,
    nchunk: usize,
    /// Records handed out and not freed (Go: inuse, in bytes there).
    pub inuse: usize,
    _t: PhantomData<T>,
}

// SAFETY: the records are plain memory; the heap's lock serialises every use.
unsafe impl<T> Send for FixAlloc<T> {}

impl<T> FixAlloc<T> {
    const SIZE: usize = {
        assert!(std::mem::align_of::<T>() <= 64 && std::mem::size_of::<T>() <= FIX_ALLOC_CHUNK);
        // Round up to 64 bytes: a record never shares a cache line with the next.
        std::mem::size_of::<T>().next_multiple_of(64)
    };

    pub const fn new() -> FixAlloc<T> {
        FixAlloc {
            list: null_mut(),
            chunk: null_mut(),
            nchunk: 0,
            inuse: 0,
            _t: PhantomData,
        }
    }

    /// Go: fixalloc.alloc. Uninitialised room for one `T` (zeroed when fresh), or null.
    pub fn alloc(&mut self) -> *mut T {
        self.inuse += 1;
        if !self.list.is_null() {
            let v = self.list;
            // SAFETY: a freed record starts with the next free record's address.
            self.list = unsafe { *(v as *mut *mut u8) };
            return v.cast();
        }
        if self.nchunk < Self::SIZE {
            self.chunk = sys_alloc(FIX_ALLOC_CHUNK);
            if self.chunk.is_null() {
                self.inuse -= 1;
                return null_mut();
            }
            self.nchunk = FIX_ALLOC_CHUNK;
        }
        let v = self.chunk;
        // SAFETY: SIZE <= nchunk bytes remain in the chunk.
        self.chunk = unsafe { self.chunk.add(Self::SIZE) };
        self.nchunk -= Self::SIZE;
        v.cast()
    }

    /// Go: fixalloc.free.
    ///
    /// # Safety
    /// `p` came from this FixAlloc's [`alloc`](Self::alloc) and nobody uses it any more.
    pub unsafe fn free(&mut self, p: *mut T) {
        self.inuse -= 1;
        let v: *mut u8 = p.cast();
        // SAFETY: the record is ours again and at least a pointer long.
        unsafe { *(v as *mut *mut u8) = self.list };
        self.list = v;
    }
}

impl<T> Default for FixAlloc<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(
        miri,
        ignore = "its chunks are persistent: miri would call them leaked"
    )]
    fn freed_records_come_back_first_and_fresh_ones_do_not_overlap() {
        let mut f: FixAlloc<[u64; 5]> = FixAlloc::new();
        let a: Vec<*mut [u64; 5]> = (0..1000).map(|_| f.alloc()).collect();
        let mut sorted: Vec<usize> = a.iter().map(|p| *p as usize).collect();
        sorted.sort();
        assert!(
            sorted.windows(2).all(|w| w[1] - w[0] >= 40),
            "records overlap"
        );
        // SAFETY: a[7] came from f.
        unsafe { f.free(a[7]) };
        assert_eq!(f.alloc(), a[7], "the free list is used first");
        assert_eq!(f.inuse, 1000);
    }
}
