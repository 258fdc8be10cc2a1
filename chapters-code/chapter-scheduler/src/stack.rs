//! Goroutine stacks: memory mapped, with a guard page below.
//!
//! Go starts a goroutine on a 2 KiB stack and *moves* it to a bigger one when a function
//! prologue finds too little room (stack.go: newstack, copystack). Moving a stack means
//! rewriting every pointer into it, which needs the compiler's stack maps; rustc emits none.
//! So this runtime gives each goroutine a fixed stack (256 KiB of address space by default;
//! the kernel backs only the pages it touches) with an unmapped guard page at the low end, and
//! [`crate::stackcopy`] models Go's copying on a simulated stack instead.
//!
//! A guard page made with `mprotect` splits the mapping in two, and Linux allows a process
//! 65,530 mappings by default (`vm.max_map_count`): at two per stack, about 32,000 goroutines.
//! Linux 6.13 added `MADV_GUARD_INSTALL`, a guard that is not a mapping of its own, so
//! neighbouring stacks merge into one mapping and a hundred thousand goroutines cost a handful.
//! The crate uses it where it works and falls back to `mprotect` elsewhere.

use std::io;
use std::sync::OnceLock;

/// One page; the guard below every stack.
pub const GUARD: usize = 4096;

/// The default size of a goroutine stack in this runtime, guard page not included.
pub const DEFAULT_STACK_SIZE: usize = 256 * 1024;

/// A mapped stack `[lo, hi)` with a `PROT_NONE` guard page just below `lo`.
/// Go: runtime.stack (runtime2.go) holds the same two bounds.
#[derive(Debug)]
pub struct Stack {
    base: *mut libc::c_void,
    len: usize,
}

// SAFETY: a Stack is plain memory owned by one goroutine at a time.
unsafe impl Send for Stack {}
unsafe impl Sync for Stack {}

impl Stack {
    /// Maps `size` bytes (rounded up to pages) plus the guard page.
    /// Go: stackalloc (stack.go), which takes small stacks from per-P caches instead.
    pub fn new(size: usize) -> io::Result<Stack> {
        let size = size.div_ceil(GUARD) * GUARD;
        let len = size + GUARD;
        // SAFETY: a fresh anonymous private mapping; no existing memory is touched.
        let base = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the first page belongs to the mapping just made.
        let guarded = if light_guards_work() {
            unsafe { libc::madvise(base, GUARD, MADV_GUARD_INSTALL) == 0 }
        } else {
            unsafe { libc::mprotect(base, GUARD, libc::PROT_NONE) == 0 }
        };
        if !guarded {
            let e = io::Error::last_os_error();
            unsafe { libc::munmap(base, len) };
            return Err(e);
        }
        Ok(Stack { base, len })
    }

    /// Lowest usable address (just above the guard page).
    pub fn lo(&self) -> usize {
        self.base as usize + GUARD
    }

    /// One past the highest usable address: where SP starts.
    pub fn hi(&self) -> usize {
        self.base as usize + self.len
    }

    /// The guard page's range, for the SIGSEGV handler that reports an overflow.
    pub fn guard(&self) -> (usize, usize) {
        (self.base as usize, self.base as usize + GUARD)
    }

    /// Usable bytes.
    pub fn size(&self) -> usize {
        self.len - GUARD
    }
}

/// Linux's `MADV_GUARD_INSTALL` (6.13+): reads and writes of the range fault, as with
/// `PROT_NONE`, without splitting the mapping.
const MADV_GUARD_INSTALL: libc::c_int = 102;

// ANCHOR: light_guards
/// Whether `MADV_GUARD_INSTALL` really guards, checked once per process: a forked child
/// touches a guard page and must die of the fault. An old kernel refuses the advice; qemu-user
/// accepts it and does nothing, which only this test can tell.
fn light_guards_work() -> bool {
    static WORKS: OnceLock<bool> = OnceLock::new();
    *WORKS.get_or_init(|| unsafe {
        let p = libc::mmap(
            core::ptr::null_mut(),
            GUARD,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            return false;
        }
        let works = libc::madvise(p, GUARD, MADV_GUARD_INSTALL) == 0 && {
            match libc::fork() {
                0 => {
                    // The child: only async-signal-safe calls after fork.
                    libc::signal(libc::SIGSEGV, libc::SIG_DFL);
                    libc::signal(libc::SIGBUS, libc::SIG_DFL);
                    core::ptr::read_volatile(p as *const u8);
                    libc::_exit(0) // the read did not fault: no guard
                }
                -1 => false,
                pid => {
                    let mut status = 0;
                    libc::waitpid(pid, &mut status, 0) == pid && libc::WIFSIGNALED(status)
                }
            }
        };
        libc::munmap(p, GUARD);
        works
    })
}
// ANCHOR_END: light_guards

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`; no context runs on it any more.
        unsafe { libc::munmap(self.base, self.len) };
    }
}

#[cfg(all(test, not(miri)))]
mod tests {
    use super::*;

    #[test]
    fn a_stack_is_page_aligned_and_guarded() {
        let s = Stack::new(10_000).unwrap();
        assert_eq!(s.size(), 12_288, "rounded up to whole pages");
        assert_eq!(s.hi() % 16, 0);
        assert_eq!(s.guard().1, s.lo());
        // The usable range is writable from bottom to top.
        unsafe {
            (s.lo() as *mut u8).write(1);
            ((s.hi() - 1) as *mut u8).write(2);
        }
    }

    /// More live goroutines than `vm.max_map_count / 2` must fit, as they do in Go.
    #[test]
    fn forty_thousand_stacks_fit_under_the_mapping_limit() {
        if !light_guards_work() {
            eprintln!("MADV_GUARD_INSTALL unavailable here: each stack costs two mappings");
            return;
        }
        let stacks: Vec<Stack> = (0..40_000)
            .map(|_| Stack::new(DEFAULT_STACK_SIZE).unwrap())
            .collect();
        let maps = std::fs::read_to_string("/proc/self/maps")
            .unwrap()
            .lines()
            .count();
        assert!(
            maps < 10_000,
            "{} stacks took {maps} mappings",
            stacks.len()
        );
    }
}
