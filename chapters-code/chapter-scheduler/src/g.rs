//! The goroutine: Go's `g` (runtime2.go) and its status machine.
//!
//! A G is a stack, a saved context and a status word. The status word is the G's lock as much
//! as its state: every transition is a compare-and-swap, and the `_Gscan` bit, OR-ed onto a
//! status, lets one party (the GC, or sysmon taking a P from a syscall) hold the G still while
//! it looks at it. [`casgstatus`] refuses the transitions Go never makes.

#![allow(non_upper_case_globals)]

use crate::arch::Gobuf;
use crate::stack::Stack;
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};

// ANCHOR: gstatus
/// Just allocated, not yet initialized.
pub const _Gidle: u32 = 0;
/// On a run queue; not executing user code; its stack is not owned.
pub const _Grunnable: u32 = 1;
/// Executing user code, owns its stack, has an M and a P.
pub const _Grunning: u32 = 2;
/// In a system call: owns its stack and an M, but is not running user code. Since Go 1.26
/// its P stays `_Prunning` and wired to the M; sysmon may take it away.
pub const _Gsyscall: u32 = 3;
/// Blocked in the runtime (a channel, a mutex, a park): on some wait queue, not on a run queue.
pub const _Gwaiting: u32 = 4;
/// Unused: just exited, or on a free list awaiting reuse.
pub const _Gdead: u32 = 6;
/// Its stack is being moved (newstack → copystack).
pub const _Gcopystack: u32 = 8;
/// Stopped itself for a suspendG preemption (the GC); like `_Gwaiting` with nobody to ready it.
pub const _Gpreempted: u32 = 9;
/// OR-ed onto another status: someone is scanning (or holding) this G; it may not change state.
pub const _Gscan: u32 = 0x1000;
// ANCHOR_END: gstatus

/// The status's name as Go prints it in tracebacks and schedtrace.
pub fn status_name(s: u32) -> &'static str {
    match s & !_Gscan {
        _Gidle => "idle",
        _Grunnable => "runnable",
        _Grunning => "running",
        _Gsyscall => "syscall",
        _Gwaiting => "waiting",
        _Gdead => "dead",
        _Gcopystack => "copystack",
        _Gpreempted => "preempted",
        _ => "???",
    }
}

// ANCHOR: transitions
/// The edges of Go's status machine (proc.go, stack.go, preempt.go), without scan bits.
pub fn legal_transition(from: u32, to: u32) -> bool {
    matches!(
        (from, to),
        (_Gidle, _Gdead)              // malg: a fresh G starts dead
            | (_Gdead, _Grunnable)    // newproc1
            | (_Grunnable, _Grunning) // execute
            | (_Grunning, _Grunnable) // gosched, preemption, exitsyscallNoP's requeue
            | (_Grunning, _Gwaiting)  // park_m
            | (_Grunning, _Gsyscall)  // entersyscall
            | (_Grunning, _Gdead)     // goexit0
            | (_Grunning, _Gpreempted) // preemptPark
            | (_Grunning, _Gcopystack) // newstack
            | (_Gcopystack, _Grunning)
            | (_Gsyscall, _Grunning)  // exitsyscall
            | (_Gwaiting, _Grunnable) // ready
            | (_Gpreempted, _Gwaiting) // suspendG takes a preempted G
    )
}
// ANCHOR_END: transitions

/// Why a goroutine is blocked (Go: waitReason, runtime2.go); printed in tracebacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum WaitReason {
    #[default]
    Zero,
    ChanReceive,
    ChanSend,
    Select,
    SyncMutexLock,
    SyncRWMutexRLock,
    SyncRWMutexLock,
    SyncWaitGroupWait,
    SyncCondWait,
    Semacquire,
    Sleep,
    Preempted,
    Forever,
}

impl WaitReason {
    /// The text Go prints, e.g. `goroutine 7 [chan receive]:`.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitReason::Zero => "",
            WaitReason::ChanReceive => "chan receive",
            WaitReason::ChanSend => "chan send",
            WaitReason::Select => "select",
            WaitReason::SyncMutexLock => "sync.Mutex.Lock",
            WaitReason::SyncRWMutexRLock => "sync.RWMutex.RLock",
            WaitReason::SyncRWMutexLock => "sync.RWMutex.Lock",
            WaitReason::SyncWaitGroupWait => "sync.WaitGroup.Wait",
            WaitReason::SyncCondWait => "sync.Cond.Wait",
            WaitReason::Semacquire => "semacquire",
            WaitReason::Sleep => "sleep",
            WaitReason::Preempted => "preempted",
            WaitReason::Forever => "select (no cases)",
        }
    }
}

/// A goroutine. Go: runtime.g (runtime2.go); the fields keep Go's names.
pub struct G {
    /// The stack this G runs on; kept across reuse from the free list, like Go's
    /// standard-size stacks.
    pub(crate) stack: Stack,
    /// `stack.lo + STACK_GUARD` normally; [`crate::proc::STACK_PREEMPT`] asks the G to yield at
    /// its next safe point, as Go's prologue check does.
    pub(crate) stackguard0: AtomicUsize,
    /// Saved SP while the G is not running.
    pub(crate) sched: UnsafeCell<Gobuf>,
    pub(crate) atomicstatus: AtomicU32,
    pub(crate) goid: AtomicU64,
    /// The M running this G, if any.
    pub(crate) m: AtomicPtr<crate::proc::M>,
    pub(crate) preempt: AtomicBool,
    pub(crate) waitreason: UnsafeCell<WaitReason>,
    /// Wake-up payload (Go: g.param), e.g. a sudog.
    pub param: AtomicUsize,
    /// The function the G runs; taken when it starts.
    pub(crate) entry: UnsafeCell<Option<Box<dyn FnOnce() + Send>>>,
    /// The scheduler this G belongs to (one per [`crate::Runtime::run`]).
    pub(crate) sched_ptr: *const crate::proc::Sched,
    /// The main goroutine: its return ends the program.
    pub(crate) is_main: AtomicBool,
    /// Set while an async preemption holds this G on its M (see `signal.rs`).
    pub(crate) lockedm: AtomicPtr<crate::proc::M>,
}

// SAFETY: the UnsafeCell fields are touched only by the M that owns the G at that moment
// (ownership passes through the status CAS and the run queues' release/acquire).
unsafe impl Send for G {}
unsafe impl Sync for G {}

impl G {
    /// Go: malg (proc.go): a new G with a stack, in `_Gidle`.
    pub(crate) fn malg(
        stack_size: usize,
        sched: *const crate::proc::Sched,
    ) -> std::io::Result<Box<G>> {
        let stack = Stack::new(stack_size)?;
        let guard = stack.lo() + crate::proc::STACK_GUARD;
        Ok(Box::new(G {
            stack,
            stackguard0: AtomicUsize::new(guard),
            sched: UnsafeCell::new(Gobuf::default()),
            atomicstatus: AtomicU32::new(_Gidle),
            goid: AtomicU64::new(0),
            m: AtomicPtr::new(core::ptr::null_mut()),
            preempt: AtomicBool::new(false),
            waitreason: UnsafeCell::new(WaitReason::Zero),
            param: AtomicUsize::new(0),
            entry: UnsafeCell::new(None),
            sched_ptr: sched,
            is_main: AtomicBool::new(false),
            lockedm: AtomicPtr::new(core::ptr::null_mut()),
        }))
    }

    /// Go: readgstatus.
    pub fn readgstatus(&self) -> u32 {
        self.atomicstatus.load(Ordering::Acquire)
    }

    pub fn goid(&self) -> u64 {
        self.goid.load(Ordering::Relaxed)
    }

    pub fn waitreason(&self) -> WaitReason {
        // SAFETY: written by the G itself before it parks; read for diagnostics only.
        unsafe { *self.waitreason.get() }
    }
}

// ANCHOR: casgstatus
/// Go: casgstatus (proc.go). Moves `gp` from `old` to `new`, waiting while someone holds the
/// scan bit, and dies with Go's message on a transition the runtime never makes.
pub fn casgstatus(gp: &G, old: u32, new: u32) {
    if (old & _Gscan) != 0 || (new & _Gscan) != 0 || old == new {
        crate::throw(&format!(
            "casgstatus: bad incoming values ({old:#x} -> {new:#x})"
        ));
    }
    if !legal_transition(old, new) {
        crate::throw(&format!(
            "casgstatus: illegal transition {} -> {}",
            status_name(old),
            status_name(new)
        ));
    }
    let mut spins = 0u32;
    while let Err(cur) =
        gp.atomicstatus
            .compare_exchange_weak(old, new, Ordering::AcqRel, Ordering::Acquire)
    {
        if cur != old && cur != old | _Gscan {
            crate::throw(&format!(
                "casgstatus: goroutine {} is {}, not {}",
                gp.goid(),
                status_name(cur),
                status_name(old)
            ));
        }
        // Someone holds the scan bit: wait for them (Go spins with procyield, then osyield).
        spins += 1;
        if spins < 10 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}
// ANCHOR_END: casgstatus

/// Go: castogscanstatus. Takes the scan bit if the G is in `old`.
pub fn castogscanstatus(gp: &G, old: u32) -> bool {
    matches!(old, _Grunnable | _Grunning | _Gwaiting | _Gsyscall)
        && gp
            .atomicstatus
            .compare_exchange(old, old | _Gscan, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
}

/// Go: casfrom_Gscanstatus. Releases the scan bit taken by [`castogscanstatus`].
pub fn casfrom_gscanstatus(gp: &G, old: u32) {
    if gp
        .atomicstatus
        .compare_exchange(old | _Gscan, old, Ordering::AcqRel, Ordering::Relaxed)
        .is_err()
    {
        crate::throw("casfrom_Gscanstatus: gp->status is not in scan state");
    }
}

#[cfg(all(test, not(miri)))]
mod tests {
    use super::*;

    fn g() -> Box<G> {
        G::malg(16 * 1024, core::ptr::null()).unwrap()
    }

    #[test]
    fn a_goroutine_lives_through_go_s_states() {
        let gp = g();
        for (a, b) in [
            (_Gidle, _Gdead),
            (_Gdead, _Grunnable),
            (_Grunnable, _Grunning),
            (_Grunning, _Gwaiting),
            (_Gwaiting, _Grunnable),
            (_Grunnable, _Grunning),
            (_Grunning, _Gsyscall),
            (_Gsyscall, _Grunning),
            (_Grunning, _Gdead),
        ] {
            casgstatus(&gp, a, b);
            assert_eq!(gp.readgstatus(), b);
        }
    }

    // ANCHOR: illegal_test
    #[test]
    #[should_panic(expected = "casgstatus: illegal transition waiting -> running")]
    fn a_waiting_goroutine_cannot_run_without_being_readied() {
        let gp = g();
        gp.atomicstatus.store(_Gwaiting, Ordering::Relaxed);
        casgstatus(&gp, _Gwaiting, _Grunning);
    }
    // ANCHOR_END: illegal_test

    #[test]
    fn the_scan_bit_holds_a_goroutine_still() {
        let gp = std::sync::Arc::new(*g());
        gp.atomicstatus.store(_Gsyscall, Ordering::Relaxed);
        assert!(castogscanstatus(&gp, _Gsyscall));
        assert!(
            !castogscanstatus(&gp, _Gsyscall),
            "the bit is a lock: only one holder"
        );
        let g2 = gp.clone();
        let t = std::thread::spawn(move || casgstatus(&g2, _Gsyscall, _Grunning));
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(
            gp.readgstatus(),
            _Gsyscall | _Gscan,
            "exitsyscall waits for the holder"
        );
        casfrom_gscanstatus(&gp, _Gsyscall);
        t.join().unwrap();
        assert_eq!(gp.readgstatus(), _Grunning);
    }
}
