//! The seam between `sync` and whatever runs the caller: the handful of runtime services
//! Go's sync package reaches through `//go:linkname` (runtime/sema.go, runtime/proc.go's
//! `internal_sync_runtime_canSpin`/`internal_sync_runtime_doSpin`, `nanotime`).
//!
//! In Go every caller is a goroutine. Here a caller is either a goroutine of
//! [`chapter_scheduler`] or a plain OS thread, and the choice is made at run time, per call:
//! a goroutine parks with `gopark` and is woken with `goready`; a thread parks with
//! [`std::thread::park`] and is woken with [`std::thread::Thread::unpark`]. A semaphore's
//! queue may hold both kinds at once: each waiter carries how to wake it.

use crate::sync::{AtomicBool, Mutex, MutexGuard, Thread};
use chapter_scheduler::proc::{getm, M};
use chapter_scheduler::{acquirem, getg, gopark, goready, releasem, GRef, WaitReason};
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::Ordering;

// ANCHOR: runtime_lock
/// A runtime lock held (Go: `lock(&l)` on a runtime `mutex`, as the semaphore roots and
/// notify lists use). Like Go's, it disables preemption first (`acquirem`): a goroutine
/// stopped by a signal while it held the lock would wait for a P, while the threads that
/// hold the Ps block on the lock it holds. Dropping it unlocks, then re-enables preemption
/// (Go: `unlock`), on the same M even when that happens on g0, inside gopark.
pub struct RuntimeLocked<'a, T> {
    guard: ManuallyDrop<MutexGuard<'a, T>>,
    m: Option<&'static M>,
}

/// Go: lock. A plain thread (and every loom thread) has no M: it only takes the lock.
pub fn runtime_lock<T>(l: &Mutex<T>) -> RuntimeLocked<'_, T> {
    let m = if on_goroutine() { acquirem() } else { None };
    // Poisoning can be ignored: the holders finish their edits or throw (and throw exits),
    // so a panic with the lock held (a failing test assertion) never leaves a half-edit.
    let guard = l.lock().unwrap_or_else(|e| e.into_inner());
    RuntimeLocked {
        guard: ManuallyDrop::new(guard),
        m,
    }
}

impl<T> Drop for RuntimeLocked<'_, T> {
    fn drop(&mut self) {
        // SAFETY: dropped once, here, and never used again.
        unsafe { ManuallyDrop::drop(&mut self.guard) };
        if let Some(m) = self.m {
            releasem(m);
        }
    }
}
// ANCHOR_END: runtime_lock

impl<T> Deref for RuntimeLocked<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for RuntimeLocked<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

/// How to wake one parked caller.
enum Parker {
    /// A goroutine: Go's `sudog.g`.
    G(GRef),
    /// An OS thread outside any runtime.
    Thread(Thread),
}

/// A parked caller, as a sudog records it (Go: `sudog.g`), plus the one bit a thread needs.
pub struct Waiter {
    parker: Parker,
    /// Set by [`Waiter::ready`]. `gopark` has no spurious wake-ups; `std::thread::park` does,
    /// so a thread sleeps until this is true.
    readied: AtomicBool,
}

/// Is the caller a goroutine? `getm()` answers for the thread, so it must be asked afresh
/// each time: a goroutine may resume on another thread.
/// Under loom every caller is a (modelled) thread.
pub fn on_goroutine() -> bool {
    !cfg!(loom) && getm().is_some()
}

impl Waiter {
    /// The caller, as something a waker can wake (Go: `s.g = getg()` in `semaRoot.queue`).
    pub fn current() -> Waiter {
        let parker = if on_goroutine() {
            let gp = getg();
            if gp.as_raw() == 0 {
                // An M's own stack (g0) has no goroutine to park.
                crate::throw("semacquire not on the G stack");
            }
            Parker::G(gp)
        } else {
            Parker::Thread(crate::sync::current())
        };
        Waiter {
            parker,
            readied: AtomicBool::new(false),
        }
    }

    // ANCHOR: park
    /// Go: goparkunlock. Releases `lock` only once the caller is committed to sleeping, then
    /// sleeps until [`Waiter::ready`]. A goroutine releases the lock inside gopark's unlock
    /// function, after it is `_Gwaiting`, so the waker that takes the lock next always finds
    /// a parked goroutine to `goready`. A thread may release it first: unpark before park is
    /// not lost, and `readied` filters spurious wake-ups.
    pub fn park<T>(&self, lock: RuntimeLocked<'_, T>, reason: WaitReason) {
        match &self.parker {
            Parker::G(_) => {
                let mut lock = Some(lock);
                gopark(
                    move |_| {
                        drop(lock.take());
                        true
                    },
                    reason,
                );
            }
            Parker::Thread(_) => {
                drop(lock);
                while !self.readied.load(Ordering::Acquire) {
                    crate::sync::park();
                }
            }
        }
        // The waker is done with us (it sets `readied` last); re-arm for a retry.
        self.readied.store(false, Ordering::Relaxed);
    }
    // ANCHOR_END: park

    /// Go: goready(s.g). Wakes the waiter parked in [`Waiter::park`].
    ///
    /// # Safety
    /// `w` points to a waiter that the caller has just taken off its wait queue, and that is
    /// parked or about to park. The waiter may return, and its memory (its stack) vanish, as
    /// soon as it is readied, so everything needed is copied out first.
    pub unsafe fn ready(w: *const Waiter) {
        // SAFETY: the waiter cannot leave `park` before `readied` is set below.
        match unsafe { &(*w).parker } {
            Parker::G(gp) => {
                let gp = *gp;
                // The goroutine is `_Gwaiting` and cannot run before goready makes it runnable.
                unsafe { (*w).readied.store(true, Ordering::Release) };
                goready(gp);
            }
            Parker::Thread(t) => {
                let t = t.clone();
                unsafe { (*w).readied.store(true, Ordering::Release) };
                t.unpark();
            }
        }
    }
}

/// Go: goyield, as semrelease1 uses it for a direct hand-off: let the readied waiter run now.
/// A goroutine goes to the tail of its P's queue, behind the waiter in runnext. A thread can
/// only give up its time slice.
pub fn goyield() {
    if on_goroutine() {
        chapter_scheduler::goyield();
    } else {
        crate::sync::yield_now();
    }
}

/// Go: active_spin (lock_spinbit.go). Rounds of spinning one Lock call may do.
pub const ACTIVE_SPIN: i32 = 4;
/// Go: active_spin_cnt. PAUSE instructions per round.
pub const ACTIVE_SPIN_CNT: u32 = 30;

/// Go: internal/sync.runtime_canSpin (proc.go's internal_sync_runtime_canSpin).
///
/// Go's test has four parts: `i < active_spin`; more than one CPU; at least one other P
/// running (`gomaxprocs > npidle + nmspinning + 1`); an empty local run queue. Spinning is
/// only worth it if the holder is running somewhere and nothing else is waiting for our CPU.
/// A goroutine gets all four, the last two from [`chapter_scheduler::proc::sync_can_spin`].
/// A plain thread has no P, and gets the first two only.
///
/// Under loom one round is allowed, so that the models cover a spinner claiming the woken bit
/// without multiplying the interleavings fourfold.
pub fn runtime_can_spin(i: i32) -> bool {
    if cfg!(loom) {
        return i < 1;
    }
    if i >= ACTIVE_SPIN || ncpu() <= 1 {
        return false;
    }
    chapter_scheduler::proc::sync_can_spin().unwrap_or(true)
}

/// Go: internal/sync.runtime_doSpin (proc.go's internal_sync_runtime_doSpin), which is
/// `procyield(active_spin_cnt)`.
///
/// Under loom it does nothing: the spin is bounded anyway, and loom's `yield_now` would keep
/// the spinner off the CPU until the holder had finished, hiding the schedules in which the
/// holder re-locks while a woken waiter spins.
pub fn runtime_do_spin() {
    #[cfg(not(loom))]
    for _ in 0..ACTIVE_SPIN_CNT {
        std::hint::spin_loop();
    }
}

/// Go: numCPUStartup, read once.
fn ncpu() -> usize {
    static NCPU: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *NCPU.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Go: internal/sync.runtime_nanotime, i.e. the runtime's nanotime: CLOCK_MONOTONIC (through
/// the vDSO on Linux). It is never 0 in practice, and lockSlow counts on that, reading
/// `waitStartTime != 0` as "has slept before".
///
/// Under loom time must not decide anything (an execution has to replay exactly), so the
/// clock stands still at 1: a wait lasts 0ns, and the models choose starvation through the
/// threshold instead.
pub fn runtime_nanotime() -> i64 {
    if cfg!(loom) {
        return 1;
    }
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec we pass; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}
