//! Asking the OS for memory, in Go's four verbs (Go: mem.go, mem_linux.go).
//!
//! - [`sys_reserve`]: take address space, no memory (`PROT_NONE`): the heap's region.
//! - [`sys_map`]: make part of a reservation usable (Go reserves 64 MiB arenas and maps the
//!   chunks the heap grows into).
//! - [`sys_unused`]: hand pages back with `MADV_DONTNEED`; they read as zero when touched
//!   again. This is what the scavenger does.
//! - [`sys_alloc`]: usable memory at once, for the allocator's own records (spans, caches,
//!   bitmaps). Go calls the layer above it persistentalloc: it is never freed.
//!
//! Under miri, which cannot run `mmap`, metadata comes from the system allocator and the heap
//! itself is not built (its tests are skipped there; miri checks the span and bitmap code).

use std::ptr::null_mut;

/// Address space without memory behind it, or null.
pub fn sys_reserve(n: usize) -> *mut u8 {
    if cfg!(miri) {
        return null_mut();
    }
    mmap_anon(n, libc::PROT_NONE)
}

/// Make `[p, p+n)` of a reservation readable and writable. False if the OS refuses.
///
/// # Safety
/// `[p, p+n)` lies inside a reservation from [`sys_reserve`].
pub unsafe fn sys_map(p: *mut u8, n: usize) -> bool {
    // SAFETY: the caller's range is our own reservation.
    unsafe { libc::mprotect(p.cast(), n, libc::PROT_READ | libc::PROT_WRITE) == 0 }
}

/// Return the pages of `[p, p+n)` to the OS. They stay mapped and read as zero afterwards.
///
/// # Safety
/// `[p, p+n)` is mapped heap memory that nobody uses.
pub unsafe fn sys_unused(p: *mut u8, n: usize) {
    // SAFETY: the caller's range is mapped and unused; DONTNEED only drops its pages.
    unsafe {
        libc::madvise(p.cast(), n, libc::MADV_DONTNEED);
    }
}

/// `n` bytes of zeroed, page-aligned memory for the allocator's own records, or null.
pub fn sys_alloc(n: usize) -> *mut u8 {
    if cfg!(miri) {
        let layout = std::alloc::Layout::from_size_align(n, 4096).unwrap();
        // SAFETY: n > 0 at every call site.
        return unsafe { std::alloc::GlobalAlloc::alloc_zeroed(&std::alloc::System, layout) };
    }
    mmap_anon(n, libc::PROT_READ | libc::PROT_WRITE)
}

/// A private anonymous mapping of `n` bytes with protection `prot`, or null. NORESERVE: the
/// kernel commits memory only as pages are touched.
fn mmap_anon(n: usize, prot: libc::c_int) -> *mut u8 {
    // SAFETY: an anonymous mapping touches no existing memory.
    let p = unsafe {
        libc::mmap(
            null_mut(),
            n,
            prot,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        null_mut()
    } else {
        p.cast()
    }
}

/// Give back memory from [`sys_alloc`]. Go never does (persistent memory lives for the
/// process); only records with an owner that can die, like a test's span set, use this.
///
/// # Safety
/// `p` came from `sys_alloc(n)` and is no longer used.
pub unsafe fn sys_free(p: *mut u8, n: usize) {
    if cfg!(miri) {
        let layout = std::alloc::Layout::from_size_align(n, 4096).unwrap();
        // SAFETY: p came from System with this layout.
        unsafe { std::alloc::GlobalAlloc::dealloc(&std::alloc::System, p, layout) };
        return;
    }
    // SAFETY: p..p+n is our own mapping.
    unsafe {
        libc::munmap(p.cast(), n);
    }
}
