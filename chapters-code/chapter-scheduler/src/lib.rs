//! # Goroutines and the scheduler, as go1.27.3 runs them
//!
//! A G/M/P runtime: goroutines are stackful coroutines on mapped stacks ([`stack`]), switched
//! by a few lines of assembly ([`arch`]); Ps hold run queues ([`runq`]); Ms are OS threads
//! that loop in `schedule` ([`proc`]); [`sysmon`] preempts long runners and takes Ps from
//! system calls. Every module names the Go file it mirrors.
//!
//! ```
//! use chapter_scheduler::{go, gosched, Runtime};
//! use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
//! use std::sync::Arc;
//!
//! let hits = Arc::new(AtomicU32::new(0));
//! let h = hits.clone();
//! let n = Runtime::new(4).run(move || {
//!     for _ in 0..100 {
//!         let h = h.clone();
//!         go(move || { h.fetch_add(1, SeqCst); });
//!     }
//!     while h.load(SeqCst) < 100 {
//!         gosched(); // let the others run
//!     }
//!     h.load(SeqCst)
//! });
//! assert_eq!(n, 100);
//! ```

pub mod arch;
pub mod g;
pub mod maxprocs;
pub mod note;
pub mod parking;
pub mod proc;
pub mod randomorder;
pub mod runq;
pub mod schedtrace;
mod signal;
#[cfg(loom)]
pub mod spinning;
pub mod stack;
pub mod stackcopy;
mod sync;
pub mod sysmon;

pub use g::WaitReason;
pub use proc::{
    acquirem, entersyscall, exitsyscall, getg, go, gopark, goready, gosched, goyield,
    num_goroutine, preempt_check, releasem, syscall, Config, GRef,
};
pub use signal::async_preemptions;

/// Go: throw. An unrecoverable runtime error: the whole program dies with Go's message.
#[track_caller]
pub(crate) fn throw(msg: &str) -> ! {
    panic!("fatal error: {msg}")
}

// ANCHOR: runtime
/// A Go program's runtime: `GOMAXPROCS` Ps, Ms started on demand, and sysmon.
///
/// [`Runtime::run`] starts `main` as goroutine 1 and returns its result once it returns —
/// like a Go program, it does not wait for other goroutines. If any goroutine panics, or
/// the runtime throws (a deadlock, a bad status), `run` panics with that message.
#[derive(Clone, Debug, Default)]
pub struct Runtime {
    pub config: Config,
}

impl Runtime {
    /// A runtime with `gomaxprocs` Ps and Go's other defaults.
    pub fn new(gomaxprocs: u32) -> Runtime {
        Runtime {
            config: Config {
                gomaxprocs,
                ..Config::default()
            },
        }
    }

    /// Runs `main` as the main goroutine and blocks until it returns.
    pub fn run<R: Send + 'static>(&self, main: impl FnOnce() -> R + Send + 'static) -> R {
        proc::run_main(self.config.clone(), main)
    }
}
// ANCHOR_END: runtime
