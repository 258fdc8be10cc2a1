//! # Mutexes and semaphores, as go1.27.3 builds them
//!
//! `sync.Mutex` ([`mutex`], Go's internal/sync/mutex.go) is a state word and a semaphore;
//! the semaphore ([`sema`], runtime/sema.go) is a table of treaps of sleeping goroutines.
//! Both sleep and wake through [`park`], the seam to whatever runs the caller: a goroutine
//! of [`chapter_scheduler`], or a plain OS thread. Every module names the Go file it mirrors.
//!
//! ```
//! use chapter_mutex::Mutex;
//! use chapter_scheduler::{go, parking::Wait, Runtime};
//! use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
//! use std::sync::Arc;
//!
//! let n = Runtime::new(2).run(|| {
//!     let (mu, hits, wg) = (Arc::new(Mutex::new()), Arc::new(AtomicU64::new(0)), Wait::new(10));
//!     for _ in 0..10 {
//!         let (mu, hits, wg) = (mu.clone(), hits.clone(), wg.clone());
//!         go(move || {
//!             mu.lock();
//!             hits.store(hits.load(Relaxed) + 1, Relaxed); // a read-modify-write, guarded
//!             mu.unlock();
//!             wg.done();
//!         });
//!     }
//!     wg.wait();
//!     hits.load(Relaxed)
//! });
//! assert_eq!(n, 10);
//! ```

pub mod cond;
#[cfg(all(test, loom))]
mod models;
pub mod mutex;
pub mod once;
pub mod park;
pub mod rwmutex;
pub mod sema;
mod sync;
pub mod waitgroup;

pub use cond::{Cond, Locker, RLocker};
pub use mutex::Mutex;
pub use once::Once;
pub use rwmutex::RWMutex;
pub use waitgroup::WaitGroup;

/// Go: fatal (panic.go). A user error the program cannot survive, such as unlocking an
/// unlocked mutex: print `fatal error: <msg>` — then, on a goroutine, the header of its
/// traceback, as Go does (the frames would need DWARF) — and exit with status 2. Not a
/// panic: nothing can recover it, and no destructor runs.
#[cold]
pub fn fatal(msg: &str) -> ! {
    eprintln!("fatal error: {msg}");
    if park::on_goroutine() {
        eprintln!(
            "\ngoroutine {} [running]:",
            chapter_scheduler::getg().goid()
        );
    }
    exit2()
}

/// Go: exit(2), the exit_group system call: no atexit handlers, no destructors.
/// `std::process::exit` would run libc's exit handlers, among them this thread's
/// thread-local destructors; on an M in the middle of a goroutine those can wait for the
/// scheduler forever (seen under qemu).
fn exit2() -> ! {
    // SAFETY: _exit only ends the process; stderr is unbuffered, so the message is out.
    unsafe { libc::_exit(2) }
}

/// Go: throw. A broken runtime invariant. Go prints the runtime's own frames too; the
/// message and the exit status are the same as [`fatal`]'s.
#[cold]
pub(crate) fn throw(msg: &str) -> ! {
    eprintln!("fatal error: {msg}");
    exit2()
}
