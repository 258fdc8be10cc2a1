//! The scheduler: M, P and schedt, and the functions of Go's proc.go that move goroutines
//! between them — newproc, schedule, findRunnable, the spinning-M protocol (wakep, startm,
//! stopm, handoffp), gopark / goready, Gosched, and entersyscall / exitsyscall.
//!
//! Shape of the code: every M is an OS thread whose own stack plays the part of Go's g0. An
//! M loops in [`schedule`]: find a runnable G, switch to it, and when the G switches back (by
//! [`mcall`]) run the function it asked for on g0 — park it, requeue it, free it — and loop.

#![allow(non_upper_case_globals)]

use crate::arch::{self, Gobuf};
use crate::g::*;
use crate::note::Note;
use crate::randomorder::{CheapRand, RandomOrder};
use crate::runq::RunQ;
use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::collections::VecDeque;
use std::ptr::null_mut;
use std::sync::atomic::{
    AtomicBool, AtomicI32, AtomicI64, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

// ANCHOR: constants
/// Stack bytes kept free below a G's stack pointer (Go: stackGuard on linux/amd64).
pub const STACK_GUARD: usize = 928;
/// Go: stackPreempt (stack.go). Stored into stackguard0, it makes the next prologue check
/// fail for any stack pointer, so the G enters the runtime and yields.
pub const STACK_PREEMPT: usize = (-1314isize) as usize;
/// Go: _GoidCacheBatch. Each P takes goroutine IDs from the global counter 16 at a time.
pub const GOID_CACHE_BATCH: u64 = 16;
/// One in 61 schedules looks at the global queue first (Go: findRunnable's fairness check).
pub const GLOBAL_CHECK_PERIOD: u32 = 61;
/// Passes over all Ps that stealWork makes (Go: stealTries).
pub const STEAL_TRIES: usize = 4;
/// A G that ran this long without a schedule is preempted by sysmon (Go: forcePreemptNS).
pub const FORCE_PREEMPT_NS: i64 = 10_000_000;
/// Go: maxmcount's default: more threads than this is a fatal error.
pub const MAX_MCOUNT: i64 = 10_000;
// ANCHOR_END: constants

/// P status values (runtime2.go). `_Psyscall` is gone since Go 1.26: a P whose G is in a
/// system call stays `_Prunning`.
pub const _Pidle: u32 = 0;
pub const _Prunning: u32 = 1;
pub const _Pgcstop: u32 = 3;
pub const _Pdead: u32 = 4;

/// What sysmon remembers about a P between ticks (Go: sysmontick).
#[derive(Default, Clone, Copy)]
pub(crate) struct SysmonTick {
    pub schedtick: u32,
    pub schedwhen: i64,
    pub syscalltick: u32,
    pub syscallwhen: i64,
}

/// A processor: the right to run Go code, and the local work that goes with it.
/// Go: runtime.p (runtime2.go).
pub struct P {
    pub id: i32,
    pub(crate) status: AtomicU32,
    pub(crate) m: AtomicPtr<M>,
    pub(crate) runq: RunQ,
    /// Incremented on every schedule that does not inherit a time slice.
    pub(crate) schedtick: AtomicU32,
    pub(crate) syscalltick: AtomicU32,
    pub(crate) sysmontick: UnsafeCell<SysmonTick>,
    /// Dead Gs kept for reuse, stacks included (Go: p.gFree).
    pub(crate) gfree: UnsafeCell<Vec<*mut G>>,
    pub(crate) gfreecnt: AtomicU32,
    /// Go: p.goidcache, p.goidcacheend.
    goidcache: UnsafeCell<(u64, u64)>,
}

// SAFETY: the UnsafeCells are used only by the M holding the P (or by sysmon for sysmontick).
unsafe impl Send for P {}
unsafe impl Sync for P {}

/// A machine: an OS thread. Go: runtime.m.
pub struct M {
    pub id: i64,
    /// The saved context of this thread's own stack, which plays g0.
    pub(crate) g0: UnsafeCell<Gobuf>,
    pub(crate) curg: AtomicPtr<G>,
    pub(crate) p: AtomicPtr<P>,
    pub(crate) nextp: AtomicPtr<P>,
    pub(crate) oldp: AtomicPtr<P>,
    pub(crate) spinning: AtomicBool,
    /// Where an idle M sleeps (Go: m.park).
    pub(crate) park: Note,
    /// What the G that just switched to g0 wants done (Go: the fn passed to mcall).
    pub(crate) mcall_fn: Cell<Option<McallFn>>,
    /// The unlock function of the gopark in progress (Go: m.waitunlockf).
    waitunlockf: Cell<Option<*mut dyn FnMut(GRef) -> bool>>,
    /// Runtime code on a G's stack that must not be preempted holds this (Go: m.locks).
    pub(crate) locks: AtomicI32,
    pub(crate) syscalltick: Cell<u32>,
    pub(crate) rand: UnsafeCell<CheapRand>,
    /// The thread, for signals (pthread_t).
    pub(crate) thread: AtomicUsize,
    /// A preemption signal was sent and not yet handled (Go: m.signalPending).
    pub(crate) signal_pending: AtomicBool,
    pub(crate) sched: *const Sched,
}

// SAFETY: the Cells are used only by the M's own thread; the rest is atomic.
unsafe impl Send for M {}
unsafe impl Sync for M {}

type McallFn = fn(&M, *mut G) -> Option<(*mut G, bool)>;

/// The part of schedt guarded by `sched.lock`.
pub(crate) struct Locked {
    /// The global run queue (Go: sched.runq, a gQueue linked through g.schedlink).
    pub runq: VecDeque<*mut G>,
    /// Idle Ps (Go: sched.pidle), LIFO.
    pub pidle: Vec<*mut P>,
    /// Idle Ms (Go: sched.midle), LIFO.
    pub midle: Vec<*const M>,
    /// Dead Gs beyond what the Ps cache (Go: sched.gFree).
    pub gfree: Vec<*mut G>,
}

/// Knobs of one runtime (Go reads them from GOMAXPROCS and GODEBUG).
#[derive(Clone, Debug)]
pub struct Config {
    pub gomaxprocs: u32,
    pub stack_size: usize,
    /// GODEBUG=asyncpreemptoff=1 when false.
    pub async_preempt: bool,
    /// GODEBUG=schedtrace=N (milliseconds); 0 is off.
    pub schedtrace_ms: u64,
    /// GODEBUG=scheddetail=1.
    pub scheddetail: bool,
    /// Where schedtrace lines go (stderr in Go).
    pub trace_sink: Option<Arc<Mutex<Vec<String>>>>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            gomaxprocs: crate::maxprocs::gomaxprocs(),
            stack_size: crate::stack::DEFAULT_STACK_SIZE,
            async_preempt: true,
            schedtrace_ms: 0,
            scheddetail: false,
            trace_sink: None,
        }
    }
}

/// The scheduler's global state. Go: runtime.schedt (runtime2.go) plus allp, allm, allgs.
pub struct Sched {
    pub(crate) lock: Mutex<Locked>,
    /// Lock-free mirror of `lock.runq.len()`, for the peeks Go makes without the lock.
    pub(crate) runqsize: AtomicI32,
    pub(crate) allp: Box<[P]>,
    pub(crate) gomaxprocs: i32,
    pub(crate) npidle: AtomicI32,
    pub(crate) nmidle: AtomicI32,
    pub(crate) nmspinning: AtomicI32,
    pub(crate) needspinning: AtomicU32,
    pub(crate) mnext: AtomicI64,
    pub(crate) allm: Mutex<Vec<Arc<M>>>,
    pub(crate) allgs: Mutex<Vec<*mut G>>,
    pub(crate) goidgen: AtomicU64,
    /// Goroutines not dead (Go: gcount()).
    pub(crate) ngoroutines: AtomicI64,
    pub(crate) stealorder: RandomOrder,
    pub(crate) config: Config,
    pub(crate) start: Instant,
    /// Set when main returns or the program dies: every M stops at its next schedule.
    pub(crate) exiting: AtomicBool,
    pub(crate) done: Note,
    pub(crate) failure: Mutex<Option<Box<dyn Any + Send>>>,
}

// SAFETY: raw pointers in Sched point into its own allp/allm/allgs, which live as long as it.
unsafe impl Send for Sched {}
unsafe impl Sync for Sched {}

impl Drop for Sched {
    fn drop(&mut self) {
        // Every M has exited (each held an Arc), so no G runs: free them all, stacks included.
        // A G parked forever loses the objects on its stack, as when a Go program exits.
        for &gp in self.allgs.get_mut().unwrap().iter() {
            drop(unsafe { Box::from_raw(gp) });
        }
    }
}

/// A handle to a goroutine, for waking it: what wait queues store. Go passes `*g`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GRef(pub(crate) *mut G);

// SAFETY: a G lives as long as its Sched; the handle only reaches it through atomics.
unsafe impl Send for GRef {}
unsafe impl Sync for GRef {}

impl GRef {
    pub fn goid(self) -> u64 {
        self.g().goid()
    }
    pub fn status(self) -> u32 {
        self.g().readgstatus()
    }
    pub fn as_raw(self) -> usize {
        self.0 as usize
    }
    /// # Safety
    /// `raw` must come from [`GRef::as_raw`] of a G whose runtime is still running.
    pub unsafe fn from_raw(raw: usize) -> GRef {
        GRef(raw as *mut G)
    }
    pub(crate) fn g(self) -> &'static G {
        // SAFETY: Gs are never freed while their Sched lives, and callers hold the Sched.
        unsafe { &*self.0 }
    }
}

thread_local! {
    static CURM: Cell<*const M> = const { Cell::new(core::ptr::null()) };
}

/// The M running on this thread, if any. Never inlined, and read afresh after every switch:
/// a goroutine may resume on another thread, and a cached thread-local address would then
/// name the wrong M (the trap DESIGN.md warns about).
#[inline(never)]
pub fn getm() -> Option<&'static M> {
    let m = CURM.with(|c| unsafe { core::ptr::read_volatile(c.as_ptr()) });
    // SAFETY: an M outlives every stack frame that runs on its thread.
    unsafe { m.as_ref() }
}

/// The scheduler's half of Go's internal_sync_runtime_canSpin (proc.go), for sync.Mutex:
/// is spinning worth it for the calling goroutine? Only if some other P is running (the
/// holder may be on it: `gomaxprocs > npidle + nmspinning + 1`) and nothing waits in the
/// caller's local run queue. `None` off a goroutine: a plain thread has no P to ask about.
/// The round count and the CPU count, the other half, are the caller's.
pub fn sync_can_spin() -> Option<bool> {
    let m = getm()?;
    let p = m.p()?;
    let sched = m.sched();
    let busy = sched.gomaxprocs
        > sched.npidle.load(Ordering::Relaxed) + sched.nmspinning.load(Ordering::Relaxed) + 1;
    Some(busy && p.runq.is_empty())
}

fn mustm(what: &str) -> &'static M {
    getm().unwrap_or_else(|| {
        panic!("{what} called outside a goroutine (start one with Runtime::run)")
    })
}

impl M {
    pub(crate) fn sched(&self) -> &Sched {
        // SAFETY: every M thread holds an Arc of its Sched.
        unsafe { &*self.sched }
    }
    pub(crate) fn p(&self) -> Option<&P> {
        unsafe { self.p.load(Ordering::Acquire).as_ref() }
    }
    pub(crate) fn curg(&self) -> Option<&G> {
        unsafe { self.curg.load(Ordering::Acquire).as_ref() }
    }
    fn rand(&self) -> u32 {
        unsafe { (*self.rand.get()).next_u32() }
    }
}

impl Sched {
    fn lock(&self) -> MutexGuard<'_, Locked> {
        self.lock.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Nanoseconds since this runtime started (Go: nanotime).
    pub(crate) fn nanotime(&self) -> i64 {
        self.start.elapsed().as_nanos() as i64
    }

    fn pidx(&self, pp: &P) -> usize {
        pp.id as usize
    }

    /// Go: globrunqput. Caller holds the lock.
    fn globrunqput(&self, l: &mut Locked, gp: *mut G) {
        l.runq.push_back(gp);
        self.runqsize.store(l.runq.len() as i32, Ordering::Release);
    }

    fn globrunqputbatch(&self, l: &mut Locked, batch: &[*mut G]) {
        l.runq.extend(batch.iter().copied());
        self.runqsize.store(l.runq.len() as i32, Ordering::Release);
    }

    /// Go: globrunqget. One G, for the fairness check.
    fn globrunqget(&self, l: &mut Locked) -> Option<*mut G> {
        let gp = l.runq.pop_front();
        self.runqsize.store(l.runq.len() as i32, Ordering::Release);
        gp
    }

    // ANCHOR: globrunqgetbatch
    /// Go: globrunqgetbatch. Takes a fair share of the global queue: one G to run and up to
    /// n-1 more for the local ring, where n = min(len(runq)/2, size, size/gomaxprocs + 1).
    fn globrunqgetbatch(&self, l: &mut Locked, pp: &P) -> Option<*mut G> {
        let size = l.runq.len() as i32;
        let n = (crate::runq::RUNQ_LEN as i32 / 2)
            .min(size)
            .min(size / self.gomaxprocs + 1);
        let gp = l.runq.pop_front()?;
        for _ in 1..n {
            let g2 = l.runq.pop_front().unwrap();
            pp.runq.put(g2, false, &mut |_| {
                crate::throw("globrunqgetbatch: local run queue overflow")
            });
        }
        self.runqsize.store(l.runq.len() as i32, Ordering::Release);
        Some(gp)
    }
    // ANCHOR_END: globrunqgetbatch

    /// Go: pidleput. Caller holds the lock.
    fn pidleput(&self, l: &mut Locked, pp: &P) {
        if !pp.runq.is_empty() {
            crate::throw("pidleput: P has non-empty run queue");
        }
        pp.status.store(_Pidle, Ordering::Release);
        l.pidle.push(pp as *const P as *mut P);
        self.npidle.fetch_add(1, Ordering::AcqRel);
    }

    /// Go: pidleget.
    fn pidleget(&self, l: &mut Locked) -> Option<&P> {
        let pp = l.pidle.pop()?;
        self.npidle.fetch_sub(1, Ordering::AcqRel);
        Some(unsafe { &*pp })
    }

    /// Go: pidlegetSpinning. A spinning M that finds no idle P leaves a note
    /// (`needspinning`) so that the M about to idle its P spins instead.
    fn pidleget_spinning(&self, l: &mut Locked) -> Option<&P> {
        let pp = self.pidleget(l);
        if pp.is_none() {
            self.needspinning.store(1, Ordering::Release);
        }
        pp
    }

    /// Go: mput. An M goes idle; if that was the last one, the program may be deadlocked.
    fn mput(&self, l: &mut Locked, mp: &M) {
        l.midle.push(mp);
        self.nmidle.fetch_add(1, Ordering::AcqRel);
        self.checkdead(l);
    }

    fn mget(&self, l: &mut Locked) -> Option<&M> {
        let mp = l.midle.pop()?;
        self.nmidle.fetch_sub(1, Ordering::AcqRel);
        Some(unsafe { &*mp })
    }

    pub(crate) fn mcount(&self) -> i64 {
        self.mnext.load(Ordering::Acquire)
    }

    // ANCHOR: checkdead
    /// Go: checkdead. With every M idle and nothing runnable, the goroutines that are left
    /// wait for each other forever: Go's best-known fatal error.
    fn checkdead(&self, l: &Locked) {
        if self.exiting.load(Ordering::Acquire) {
            return;
        }
        let run = self.mcount() - self.nmidle.load(Ordering::Acquire) as i64;
        if run > 0 || !l.runq.is_empty() || self.ngoroutines.load(Ordering::Acquire) == 0 {
            return;
        }
        let msg = "fatal error: all goroutines are asleep - deadlock!";
        eprintln!("{msg}");
        // Then, as Go does, the header of every goroutine's traceback (frames need DWARF).
        for &gp in self.allgs.lock().unwrap().iter() {
            let g = unsafe { &*gp };
            if g.readgstatus() != _Gdead {
                let why = match g.readgstatus() {
                    _Gwaiting => g.waitreason().as_str(),
                    st => status_name(st),
                };
                eprintln!("\ngoroutine {} [{why}]:", g.goid());
            }
        }
        self.fail(Box::new(msg.to_string()));
    }
    // ANCHOR_END: checkdead

    /// The program dies: remember why (the first failure wins) and stop every M.
    pub(crate) fn fail(&self, why: Box<dyn Any + Send>) {
        let mut f = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        if f.is_none() {
            *f = Some(why);
        }
        drop(f);
        self.exit();
    }

    /// Go: exit. Main returned (or the program died): wake everyone so they can stop.
    pub(crate) fn exit(&self) {
        if self.exiting.swap(true, Ordering::AcqRel) {
            return;
        }
        for mp in self.allm.lock().unwrap().iter() {
            mp.park.wakeup();
            if let Some(gp) = mp.curg() {
                gp.preempt.store(true, Ordering::Release);
                gp.stackguard0.store(STACK_PREEMPT, Ordering::Release);
            }
        }
        self.done.wakeup();
    }

    /// Go: runtime.NumGoroutine.
    pub fn num_goroutine(&self) -> i64 {
        self.ngoroutines.load(Ordering::Acquire)
    }

    /// Go: gfput. Keeps a dead G (and its stack) for reuse; Ps hold at most 64.
    fn gfput(&self, pp: &P, gp: *mut G) {
        let gfree = unsafe { &mut *pp.gfree.get() };
        gfree.push(gp);
        if gfree.len() >= 64 {
            let mut l = self.lock();
            while gfree.len() >= 32 {
                l.gfree.push(gfree.pop().unwrap());
            }
        }
        pp.gfreecnt.store(gfree.len() as u32, Ordering::Relaxed);
    }

    /// Go: gfget. Refills the P's cache from the global list, 32 at a time.
    fn gfget(&self, pp: &P) -> Option<*mut G> {
        let gfree = unsafe { &mut *pp.gfree.get() };
        if gfree.is_empty() {
            let mut l = self.lock();
            while gfree.len() < 32 {
                match l.gfree.pop() {
                    Some(gp) => gfree.push(gp),
                    None => break,
                }
            }
        }
        let gp = gfree.pop();
        pp.gfreecnt.store(gfree.len() as u32, Ordering::Relaxed);
        gp
    }

    /// The next goroutine ID from the P's batch (Go: newproc1's goidcache refill).
    fn newgoid(&self, pp: &P) -> u64 {
        let c = unsafe { &mut *pp.goidcache.get() };
        if c.0 == c.1 {
            c.0 = self.goidgen.fetch_add(GOID_CACHE_BATCH, Ordering::AcqRel) + GOID_CACHE_BATCH;
            c.0 -= GOID_CACHE_BATCH - 1;
            c.1 = c.0 + GOID_CACHE_BATCH;
        }
        let id = c.0;
        c.0 += 1;
        id
    }
}

// ---------------------------------------------------------------------------------------
// Creating goroutines

/// The entry of every goroutine: run its function, turn a panic into the death of the whole
/// program (a panic must never unwind across the context switch), then exit.
extern "C" fn goentry(arg: usize) -> ! {
    let gp = arg as *mut G;
    // SAFETY: newproc stored the function before the G became runnable.
    let f = unsafe { (*(*gp).entry.get()).take() }.expect("goroutine without a function");
    if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        mustm("goexit").sched().fail(payload);
    }
    let gp = unsafe { &*gp };
    if gp.is_main.load(Ordering::Acquire) {
        mustm("goexit").sched().exit(); // Go: runtime.main calls exit(0)
    }
    mcall(goexit0);
    unreachable!("a dead goroutine was resumed");
}

/// Go: newproc1. A G from the free list or a new one, made runnable with `f` to run.
fn newproc1(sched: &Sched, pp: &P, f: Box<dyn FnOnce() + Send>) -> *mut G {
    let gp = match sched.gfget(pp) {
        Some(gp) => gp,
        None => {
            let g = G::malg(sched.config.stack_size, sched).unwrap_or_else(|e| {
                crate::throw(&format!("runtime: cannot allocate goroutine stack: {e}"))
            });
            let gp = Box::into_raw(g);
            casgstatus(unsafe { &*gp }, _Gidle, _Gdead);
            sched.allgs.lock().unwrap().push(gp);
            gp
        }
    };
    let g = unsafe { &*gp };
    unsafe {
        *g.entry.get() = Some(f);
        // Never run: execute starts it with arch::start (Go fakes a call frame instead, in
        // gostartcallfn; starting directly leaves the new stack untouched until it runs).
        *g.sched.get() = Gobuf::default();
    }
    g.preempt.store(false, Ordering::Relaxed);
    g.stackguard0
        .store(g.stack.lo() + STACK_GUARD, Ordering::Relaxed);
    g.is_main.store(false, Ordering::Relaxed);
    g.goid.store(sched.newgoid(pp), Ordering::Relaxed);
    sched.ngoroutines.fetch_add(1, Ordering::AcqRel);
    casgstatus(g, _Gdead, _Grunnable);
    gp
}

// ANCHOR: newproc
/// Go: newproc, the `go` statement. The new G goes into runnext: it runs next on this P,
/// before anything already queued, and the G it displaces moves to the tail.
pub fn go<F: FnOnce() + Send + 'static>(f: F) {
    preempt_check(); // a call to newproc passes a prologue: a safe point, as in Go
    let m = mustm("go");
    m.locks.fetch_add(1, Ordering::AcqRel); // acquirem: no preemption while we hold the P
    let sched = m.sched();
    let pp = m.p().expect("newproc: M without a P");
    let gp = newproc1(sched, pp, Box::new(f));
    runqput(sched, pp, gp, true);
    wakep(sched); // mainStarted is always true here: run() starts main first
    m.locks.fetch_sub(1, Ordering::AcqRel);
}
// ANCHOR_END: newproc

/// Go: runqput, with its overflow going to the global queue.
fn runqput(sched: &Sched, pp: &P, gp: *mut G, next: bool) {
    pp.runq.put(gp, next, &mut |batch| {
        let mut l = sched.lock();
        sched.globrunqputbatch(&mut l, batch);
    });
}

// ---------------------------------------------------------------------------------------
// Switching: execute and mcall

/// Go: execute. Runs `gp` on this M; returns when the G comes back through [`mcall`].
fn execute(m: &M, gp: *mut G, inherit_time: bool) {
    let g = unsafe { &*gp };
    let pp = m.p().expect("execute: M without a P");
    m.curg.store(gp, Ordering::Release);
    g.m.store(m as *const M as *mut M, Ordering::Release);
    casgstatus(g, _Grunnable, _Grunning);
    g.preempt.store(false, Ordering::Relaxed);
    g.stackguard0
        .store(g.stack.lo() + STACK_GUARD, Ordering::Release);
    if !inherit_time {
        pp.schedtick.fetch_add(1, Ordering::AcqRel);
    }
    // SAFETY: gp is runnable and owned by us now; its context was saved by a switch, or it
    // has never run and its stack is unused.
    unsafe {
        if (*g.sched.get()).sp == 0 {
            arch::start(m.g0.get(), g.stack.hi(), goentry, gp as usize);
        } else {
            arch::switch(m.g0.get(), g.sched.get());
        }
    }
}

// ANCHOR: mcall
/// Go: mcall. From a goroutine, switch to the M's own stack (g0) and run `f` there with the
/// goroutine. When this returns, the goroutine has been resumed — perhaps on another M.
fn mcall(f: McallFn) {
    let m = mustm("mcall");
    let gp = m.curg.load(Ordering::Acquire);
    m.mcall_fn.set(Some(f));
    // SAFETY: we run on gp's stack; g0's context was saved by `execute`.
    unsafe { arch::switch((*gp).sched.get(), m.g0.get()) };
}
// ANCHOR_END: mcall

/// Go: dropg. The M and the G part.
fn dropg(m: &M, gp: &G) {
    gp.m.store(null_mut(), Ordering::Release);
    m.curg.store(null_mut(), Ordering::Release);
}

/// Go: goexit0, on g0: the G is dead and goes to the free list.
fn goexit0(m: &M, gp: *mut G) -> Option<(*mut G, bool)> {
    let g = unsafe { &*gp };
    let sched = m.sched();
    casgstatus(g, _Grunning, _Gdead);
    dropg(m, g);
    sched.ngoroutines.fetch_sub(1, Ordering::AcqRel);
    if let Some(pp) = m.p() {
        sched.gfput(pp, gp);
    }
    None
}

// ---------------------------------------------------------------------------------------
// Parking and readying: the seam channels, mutexes and timers build on

// ANCHOR: gopark
/// Go: gopark. Parks the current goroutine. `unlockf` runs on g0 once the G is `_Gwaiting`
/// (so a waker that sees the G published cannot miss it); if it returns false the G resumes
/// at once. Returns when someone calls [`goready`].
pub fn gopark(mut unlockf: impl FnMut(GRef) -> bool, reason: WaitReason) {
    let m = mustm("gopark");
    let gp = m.curg().expect("gopark: no current goroutine");
    unsafe { *gp.waitreason.get() = reason };
    let f: &mut dyn FnMut(GRef) -> bool = &mut unlockf;
    // SAFETY: `unlockf` lives on this G's stack, which stays put until park_m has run it.
    let f: *mut (dyn FnMut(GRef) -> bool + 'static) = unsafe { std::mem::transmute(f) };
    m.waitunlockf.set(Some(f));
    mcall(park_m);
}

/// Go: park_m, on g0.
fn park_m(m: &M, gp: *mut G) -> Option<(*mut G, bool)> {
    let g = unsafe { &*gp };
    casgstatus(g, _Grunning, _Gwaiting);
    dropg(m, g);
    if let Some(f) = m.waitunlockf.take() {
        // SAFETY: see gopark.
        if !unsafe { (*f)(GRef(gp)) } {
            casgstatus(g, _Gwaiting, _Grunnable);
            return Some((gp, true)); // Go: execute(gp, true)
        }
    }
    None
}
// ANCHOR_END: gopark

// ANCHOR: goready
/// Go: goready / ready. `_Gwaiting` → `_Grunnable`, into runnext of the caller's P, and
/// wake an idle P if there is one. Outside the runtime (no P), the G goes to the global queue.
pub fn goready(gp: GRef) {
    let g = gp.g();
    let sched = unsafe { &*g.sched_ptr };
    casgstatus(g, _Gwaiting, _Grunnable);
    match getm() {
        Some(m) if std::ptr::eq(m.sched, sched) && m.p().is_some() => {
            // acquirem until after wakep, as Go's ready does: wakep takes sched.lock, and a
            // goroutine preempted while holding it would deadlock its own M, whose g0 takes
            // sched.lock next to requeue it.
            m.locks.fetch_add(1, Ordering::AcqRel);
            runqput(sched, m.p().unwrap(), gp.0, true);
            wakep(sched);
            m.locks.fetch_sub(1, Ordering::AcqRel);
        }
        _ => {
            {
                let mut l = sched.lock();
                sched.globrunqput(&mut l, gp.0);
            }
            wakep(sched);
        }
    }
}
// ANCHOR_END: goready

/// Go: getg, as a handle.
pub fn getg() -> GRef {
    GRef(mustm("getg").curg.load(Ordering::Acquire))
}

// ANCHOR: gosched
/// Go: runtime.Gosched. The G goes to the *global* run queue, so everyone else on this P,
/// and every other P, gets a turn before it runs again.
pub fn gosched() {
    mcall(gosched_m);
}

/// Go: goschedImpl, on g0 (also gopreempt_m, the cooperative preemption).
fn gosched_m(m: &M, gp: *mut G) -> Option<(*mut G, bool)> {
    let g = unsafe { &*gp };
    let sched = m.sched();
    casgstatus(g, _Grunning, _Grunnable);
    dropg(m, g);
    {
        let mut l = sched.lock();
        sched.globrunqput(&mut l, gp);
    }
    wakep(sched);
    None
}
// ANCHOR_END: gosched

/// Go: goyield. Like Gosched, but to the tail of the *local* queue: the semaphore hand-off
/// in the mutex chapter uses it to let the woken waiter run soon.
pub fn goyield() {
    mcall(goyield_m);
}

fn goyield_m(m: &M, gp: *mut G) -> Option<(*mut G, bool)> {
    let g = unsafe { &*gp };
    casgstatus(g, _Grunning, _Grunnable);
    dropg(m, g);
    runqput(m.sched(), m.p().unwrap(), gp, false);
    None
}

// ANCHOR: preempt_check
/// A safe point: the check Go's compiler puts in every function prologue. If sysmon asked
/// this G to yield (stackguard0 == stackPreempt), yield now (Go: newstack → gopreempt_m).
/// Rust functions have no such prologue, so long loops call this — or rely on the
/// asynchronous preemption of `signal.rs`.
#[inline]
pub fn preempt_check() {
    if let Some(m) = getm() {
        if let Some(gp) = m.curg() {
            if gp.stackguard0.load(Ordering::Relaxed) == STACK_PREEMPT
                && m.locks.load(Ordering::Relaxed) == 0
            {
                mcall(gosched_m);
            }
        }
    }
}
// ANCHOR_END: preempt_check

/// Go: acquirem. From here to [`releasem`] the calling goroutine's M may not be preempted:
/// Go's runtime `lock` does this, so a goroutine is never stopped while it holds a runtime
/// lock, where every other taker (and the scheduler, on the same M) would wait for it
/// forever. None outside a runtime (a plain thread has nothing to preempt).
pub fn acquirem() -> Option<&'static M> {
    let m = getm()?;
    m.locks.fetch_add(1, Ordering::AcqRel);
    Some(m)
}

/// Go: releasem. Undoes one [`acquirem`], on the same M (it may run on that M's g0, as Go's
/// unlock does inside park_m). A preemption asked for meanwhile is asked again by sysmon.
pub fn releasem(m: &M) {
    m.locks.fetch_sub(1, Ordering::AcqRel);
}

/// Go: runtime.NumGoroutine.
pub fn num_goroutine() -> i64 {
    mustm("NumGoroutine").sched().num_goroutine()
}

// ANCHOR: async_preempt_park
/// Called on a G's stack by the asynchronous-preemption trampoline (`signal.rs`), with every
/// register saved. Go requeues the G and lets any M resume it; Rust code may have been
/// stopped anywhere — holding a thread-local's address, or a std lock that remembers its
/// owner thread — so here the G stays locked to this M until it resumes (Go's lockedm).
pub(crate) fn async_preempt_park() {
    let m = mustm("asyncPreempt2");
    let gp = m.curg().unwrap();
    gp.lockedm.store(m as *const M as *mut M, Ordering::Release);
    mcall(async_preempt_m);
    gp.lockedm.store(null_mut(), Ordering::Release);
}

/// On g0: requeue the G globally (as gopreempt_m does), then wait for it like a locked M
/// (Go: stoplockedm): give our P away and sleep until some M hands us a P to run our G.
fn async_preempt_m(m: &M, gp: *mut G) -> Option<(*mut G, bool)> {
    let g = unsafe { &*gp };
    let sched = m.sched();
    casgstatus(g, _Grunning, _Grunnable);
    dropg(m, g);
    {
        let mut l = sched.lock();
        sched.globrunqput(&mut l, gp);
    }
    let pp = releasep(m);
    handoffp(sched, pp);
    m.park.sleep();
    m.park.clear();
    let pp = m.nextp.swap(null_mut(), Ordering::AcqRel);
    if sched.exiting.load(Ordering::Acquire) || pp.is_null() {
        return None;
    }
    acquirep(m, unsafe { &*pp });
    Some((gp, false))
}
// ANCHOR_END: async_preempt_park

/// Go: startlockedm. Hand our P to the M that `gp` is locked to, and wake it.
fn startlockedm(m: &M, lockedm: *mut M) {
    let mp = unsafe { &*lockedm };
    let pp = releasep(m);
    mp.nextp.store(pp as *const P as *mut P, Ordering::Release);
    mp.park.wakeup();
}

// ---------------------------------------------------------------------------------------
// System calls (the 1.26+ design: the M keeps its P; sysmon may take it)

// ANCHOR: entersyscall
/// Go: entersyscall. The G is about to block in the kernel (or in any foreign code that may
/// block). It keeps its M *and* its P; if the call takes long, sysmon takes the P away.
pub fn entersyscall() {
    let m = mustm("entersyscall");
    m.locks.fetch_add(1, Ordering::AcqRel);
    let gp = m.curg().unwrap();
    let pp = m.p().unwrap();
    gp.stackguard0.store(STACK_PREEMPT, Ordering::Release);
    m.syscalltick.set(pp.syscalltick.load(Ordering::Acquire));
    m.oldp.store(pp as *const P as *mut P, Ordering::Release);
    casgstatus(gp, _Grunning, _Gsyscall);
    m.locks.fetch_sub(1, Ordering::AcqRel);
}

/// Go: exitsyscall. Fast path: the P is still ours. Otherwise take the old P or an idle one,
/// or queue the G globally and stop this M (exitsyscallNoP).
pub fn exitsyscall() {
    let m = mustm("exitsyscall");
    m.locks.fetch_add(1, Ordering::AcqRel);
    let gp = m.curg().unwrap();
    casgstatus(gp, _Gsyscall, _Grunning); // waits if sysmon holds the scan bit
    let oldp = m.oldp.swap(null_mut(), Ordering::AcqRel);
    let sched = m.sched();
    let mut pp = m.p();
    if pp.is_none() {
        if let Some(p2) = exitsyscall_try_get_p(sched, oldp) {
            acquirep(m, p2);
            pp = Some(p2);
        }
    }
    if let Some(pp) = pp {
        pp.syscalltick.fetch_add(1, Ordering::AcqRel);
        let guard = if gp.preempt.load(Ordering::Acquire) {
            STACK_PREEMPT
        } else {
            gp.stack.lo() + STACK_GUARD
        };
        gp.stackguard0.store(guard, Ordering::Release);
        m.locks.fetch_sub(1, Ordering::AcqRel);
        return;
    }
    m.locks.fetch_sub(1, Ordering::AcqRel);
    mcall(exitsyscall_no_p);
}
// ANCHOR_END: entersyscall

/// Go: exitsyscallTryGetP.
fn exitsyscall_try_get_p(sched: &Sched, oldp: *mut P) -> Option<&P> {
    if let Some(oldp) = unsafe { oldp.as_ref() } {
        if let Some(t) = crate::sysmon::set_block_on_exit_syscall(oldp) {
            t.take_p();
            t.resume();
            return Some(oldp);
        }
    }
    if sched.npidle.load(Ordering::Acquire) > 0 {
        let mut l = sched.lock();
        return sched.pidleget(&mut l);
    }
    None
}

fn exitsyscall_no_p(m: &M, gp: *mut G) -> Option<(*mut G, bool)> {
    let g = unsafe { &*gp };
    let sched = m.sched();
    casgstatus(g, _Grunning, _Grunnable);
    dropg(m, g);
    let mut l = sched.lock();
    match sched.pidleget(&mut l) {
        Some(pp) => {
            drop(l);
            acquirep(m, pp);
            Some((gp, false))
        }
        None => {
            sched.globrunqput(&mut l, gp);
            None // schedule() will stopm: this M has no P
        }
    }
}

/// Runs a blocking call between entersyscall and exitsyscall, so it does not hold up the P.
pub fn syscall<R>(f: impl FnOnce() -> R) -> R {
    entersyscall();
    let r = f();
    exitsyscall();
    r
}

// ---------------------------------------------------------------------------------------
// Ps and Ms

/// Go: acquirep / wirep.
pub(crate) fn acquirep(m: &M, pp: &P) {
    if !pp.m.load(Ordering::Acquire).is_null() || pp.status.load(Ordering::Acquire) != _Pidle {
        crate::throw("wirep: invalid p state");
    }
    m.p.store(pp as *const P as *mut P, Ordering::Release);
    pp.m.store(m as *const M as *mut M, Ordering::Release);
    pp.status.store(_Prunning, Ordering::Release);
}

/// Go: releasep.
fn releasep(m: &M) -> &P {
    let pp = m.p().expect("releasep: invalid arg");
    if !std::ptr::eq(pp.m.load(Ordering::Acquire), m)
        || pp.status.load(Ordering::Acquire) != _Prunning
    {
        crate::throw("releasep: invalid p state");
    }
    m.p.store(null_mut(), Ordering::Release);
    pp.m.store(null_mut(), Ordering::Release);
    pp.status.store(_Pidle, Ordering::Release);
    pp
}

impl M {
    /// Go: m.becomeSpinning.
    fn become_spinning(&self) {
        self.spinning.store(true, Ordering::Release);
        self.sched().nmspinning.fetch_add(1, Ordering::AcqRel);
        self.sched().needspinning.store(0, Ordering::Release);
    }
}

// ANCHOR: wakep
/// Go: wakep. Start one more spinning M if nobody is spinning. One at a time: a spinning M
/// that finds work wakes the next (resetspinning), so wake-ups spread as a chain.
pub(crate) fn wakep(sched: &Sched) {
    // Work was just queued; the #StoreLoad barrier orders that store before this load, or a
    // spinning M giving up and this check could miss each other (see spinning.rs).
    std::sync::atomic::fence(Ordering::SeqCst);
    if sched.nmspinning.load(Ordering::Acquire) != 0
        || sched
            .nmspinning
            .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
    {
        return;
    }
    let pp = {
        let mut l = sched.lock();
        match sched.pidleget_spinning(&mut l) {
            Some(pp) => pp,
            None => {
                if sched.nmspinning.fetch_sub(1, Ordering::AcqRel) - 1 < 0 {
                    crate::throw("wakep: negative nmspinning");
                }
                return;
            }
        }
    };
    startm(sched, Some(pp), true);
}
// ANCHOR_END: wakep

/// Go: resetspinning. This M found work: stop counting it as spinning, wake another.
fn resetspinning(m: &M) {
    let sched = m.sched();
    m.spinning.store(false, Ordering::Release);
    if sched.nmspinning.fetch_sub(1, Ordering::AcqRel) - 1 < 0 {
        crate::throw("findrunnable: negative nmspinning");
    }
    wakep(sched);
}

/// Go: startm. Runs P `pp` (or an idle one) on an idle M, or on a new one.
pub(crate) fn startm(sched: &Sched, pp: Option<&P>, spinning: bool) {
    let mut l = sched.lock();
    let pp = match pp {
        Some(pp) => pp,
        None => match sched.pidleget(&mut l) {
            Some(pp) => pp,
            None => {
                drop(l);
                if spinning && sched.nmspinning.fetch_sub(1, Ordering::AcqRel) - 1 < 0 {
                    crate::throw("startm: negative nmspinning");
                }
                return;
            }
        },
    };
    match sched.mget(&mut l) {
        Some(nmp) => {
            drop(l);
            nmp.spinning.store(spinning, Ordering::Release);
            nmp.nextp.store(pp as *const P as *mut P, Ordering::Release);
            nmp.park.wakeup();
        }
        None => {
            drop(l);
            newm(sched, pp, spinning);
        }
    }
}

/// Go: handoffp. The M holding `pp` is going away (a syscall, or sysmon took the P): start
/// another M for it if there is work, otherwise leave it idle.
pub(crate) fn handoffp(sched: &Sched, pp: &P) {
    if !pp.runq.is_empty() || sched.runqsize.load(Ordering::Acquire) != 0 {
        startm(sched, Some(pp), false);
        return;
    }
    // No spinning or idle M at all: start a spinning one so new work is noticed.
    if sched.nmspinning.load(Ordering::Acquire) + sched.npidle.load(Ordering::Acquire) == 0
        && sched
            .nmspinning
            .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    {
        sched.needspinning.store(0, Ordering::Release);
        startm(sched, Some(pp), true);
        return;
    }
    let mut l = sched.lock();
    if !l.runq.is_empty() {
        drop(l);
        startm(sched, Some(pp), false);
        return;
    }
    sched.pidleput(&mut l, pp);
}

/// Go: newm / newosproc. A new OS thread that starts with P `pp`.
fn newm(sched: &Sched, pp: &P, spinning: bool) {
    let id = sched.mnext.fetch_add(1, Ordering::AcqRel);
    if id >= MAX_MCOUNT {
        crate::throw(&format!(
            "thread exhaustion: program exceeds {MAX_MCOUNT}-thread limit"
        ));
    }
    let mp = Arc::new(M::new(id, sched));
    mp.nextp.store(pp as *const P as *mut P, Ordering::Release);
    mp.spinning.store(spinning, Ordering::Release);
    sched.allm.lock().unwrap().push(mp.clone());
    // SAFETY: every Sched lives in an Arc (run_main makes it); the thread holds one more.
    let sched_arc = unsafe {
        Arc::increment_strong_count(sched as *const Sched);
        Arc::from_raw(sched as *const Sched)
    };
    std::thread::Builder::new()
        .name(format!("M{id}"))
        .spawn(move || mstart(mp, sched_arc))
        .unwrap_or_else(|e| crate::throw(&format!("newosproc: {e}")));
}

impl M {
    fn new(id: i64, sched: &Sched) -> M {
        M {
            id,
            g0: UnsafeCell::new(Gobuf::default()),
            curg: AtomicPtr::new(null_mut()),
            p: AtomicPtr::new(null_mut()),
            nextp: AtomicPtr::new(null_mut()),
            oldp: AtomicPtr::new(null_mut()),
            spinning: AtomicBool::new(false),
            park: Note::default(),
            mcall_fn: Cell::new(None),
            waitunlockf: Cell::new(None),
            locks: AtomicI32::new(0),
            syscalltick: Cell::new(0),
            rand: UnsafeCell::new(CheapRand::new(
                0x9e37_79b9_7f4a_7c15 ^ (id as u64).wrapping_mul(0xbf58_476d_1ce4_e5b9),
            )),
            thread: AtomicUsize::new(0),
            signal_pending: AtomicBool::new(false),
            sched,
        }
    }
}

/// Go: mstart. The thread's body: take the P handed over, then schedule until the end.
fn mstart(mp: Arc<M>, sched: Arc<Sched>) {
    CURM.with(|c| c.set(Arc::as_ptr(&mp)));
    mp.thread
        .store(unsafe { libc::pthread_self() } as usize, Ordering::Release);
    crate::signal::minit();
    let m: &M = &mp;
    let nextp = m.nextp.swap(null_mut(), Ordering::AcqRel);
    acquirep(m, unsafe { &*nextp });
    if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| schedule(m))) {
        // A throw on g0: the program dies.
        sched.fail(payload);
    }
    if m.p().is_some() {
        releasep(m);
    }
    CURM.with(|c| c.set(core::ptr::null()));
}

// ANCHOR: stopm
/// Go: stopm. No work: put this M on the idle list and sleep until startm hands it a P.
/// Returns false if the program is exiting.
fn stopm(m: &M) -> bool {
    let sched = m.sched();
    {
        let mut l = sched.lock();
        sched.mput(&mut l, m);
    }
    m.park.sleep();
    m.park.clear();
    if sched.exiting.load(Ordering::Acquire) {
        // Give back a P someone handed us as we were told to stop.
        let pp = m.nextp.swap(null_mut(), Ordering::AcqRel);
        if !pp.is_null() {
            unsafe { &*pp }.status.store(_Pidle, Ordering::Release);
        }
        return false;
    }
    let pp = m.nextp.swap(null_mut(), Ordering::AcqRel);
    acquirep(m, unsafe { &*pp });
    true
}
// ANCHOR_END: stopm

// ---------------------------------------------------------------------------------------
// schedule and findRunnable

// ANCHOR: schedule
/// Go: schedule, as a loop on g0. Each turn finds a G, runs it until it comes back through
/// mcall, then does what it asked for (park, requeue, exit), which may name the next G.
fn schedule(m: &M) {
    let sched = m.sched();
    let mut next: Option<(*mut G, bool)> = None;
    loop {
        if sched.exiting.load(Ordering::Acquire) {
            return;
        }
        let (gp, inherit) = match next.take() {
            Some(x) => x,
            None => {
                if m.p().is_none() && !stopm(m) {
                    return; // exitsyscallNoP left us without a P
                }
                match find_runnable(m) {
                    Some(x) => x,
                    None => return, // the program is exiting
                }
            }
        };
        // This M is no longer looking for work: let another spin (Go: resetspinning).
        if m.spinning.load(Ordering::Acquire) {
            resetspinning(m);
        }
        if sched.exiting.load(Ordering::Acquire) {
            // Leave the G where it is; the program is over.
            return;
        }
        // A G locked to another M runs only there (Go: startlockedm).
        let lockedm = unsafe { &*gp }.lockedm.load(Ordering::Acquire);
        if !lockedm.is_null() && !std::ptr::eq(lockedm, m) {
            startlockedm(m, lockedm);
            if !stopm(m) {
                return;
            }
            continue;
        }
        execute(m, gp, inherit);
        let f = m
            .mcall_fn
            .take()
            .expect("a goroutine returned to g0 without mcall");
        next = f(m, gp);
    }
}
// ANCHOR_END: schedule

// ANCHOR: findrunnable
/// Go: findRunnable. The order is part of Go's fairness, so it is kept exactly; the steps
/// Go has and this chapter does not (timers, GC workers, the trace reader, netpoll) are named
/// where they would run.
fn find_runnable(m: &M) -> Option<(*mut G, bool)> {
    let sched = m.sched();
    'top: loop {
        if sched.exiting.load(Ordering::Acquire) {
            return None;
        }
        let pp = m.p().expect("findrunnable: M without a P");
        // (gcwaiting, safe-point functions, timers, trace reader, GC mark workers.)

        // Fairness: now and then, take from the global queue first, so two goroutines that
        // keep readying each other on the local queue cannot starve it.
        if pp
            .schedtick
            .load(Ordering::Relaxed)
            .is_multiple_of(GLOBAL_CHECK_PERIOD)
            && sched.runqsize.load(Ordering::Acquire) > 0
        {
            let mut l = sched.lock();
            if let Some(gp) = sched.globrunqget(&mut l) {
                return Some((gp, false));
            }
        }
        // (Wake the finalizer and cleanup goroutines.)

        // Local run queue: runnext first.
        if let Some(x) = pp.runq.get() {
            return Some(x);
        }

        // Global run queue: a fair share.
        if sched.runqsize.load(Ordering::Acquire) != 0 {
            let mut l = sched.lock();
            if let Some(gp) = sched.globrunqgetbatch(&mut l, pp) {
                return Some((gp, false));
            }
        }

        // (Non-blocking netpoll.)

        // Steal — but only if fewer than half of the busy Ps already have a spinning M.
        let busy = sched.gomaxprocs - sched.npidle.load(Ordering::Acquire);
        if m.spinning.load(Ordering::Acquire) || 2 * sched.nmspinning.load(Ordering::Acquire) < busy
        {
            if !m.spinning.load(Ordering::Acquire) {
                m.become_spinning();
            }
            if let Some(gp) = steal_work(m, pp) {
                return Some((gp, false));
            }
        }

        // (Idle-priority GC mark worker.)

        // Nothing anywhere. Give up the P — but re-check under the lock first.
        let mut l = sched.lock();
        if let Some(gp) = sched.globrunqget(&mut l) {
            return Some((gp, false));
        }
        if !m.spinning.load(Ordering::Acquire) && sched.needspinning.load(Ordering::Acquire) == 1 {
            // A spinning M found no idle P: spin on its behalf.
            sched.needspinning.store(0, Ordering::Release);
            drop(l);
            m.become_spinning();
            continue 'top;
        }
        let pp = releasep(m);
        sched.pidleput(&mut l, pp);
        drop(l);

        // The "delicate dance": a spinning M must re-check every source of work *after* it
        // stops counting as spinning, or a G queued meanwhile could wait with nobody awake.
        if m.spinning.swap(false, Ordering::AcqRel) {
            if sched.nmspinning.fetch_sub(1, Ordering::AcqRel) - 1 < 0 {
                crate::throw("findrunnable: negative nmspinning");
            }
            std::sync::atomic::fence(Ordering::SeqCst); // #StoreLoad: decrement, then look
            if sched.runqsize.load(Ordering::Acquire) != 0 {
                let mut l = sched.lock();
                if let Some(pp) = sched.pidleget(&mut l) {
                    drop(l);
                    acquirep(m, pp);
                    m.become_spinning();
                    continue 'top;
                }
            }
            if let Some(pp) = check_runqs_no_p(sched) {
                acquirep(m, pp);
                m.become_spinning();
                continue 'top;
            }
        }

        // (Blocking netpoll until the next timer.)
        if !stopm(m) {
            return None;
        }
    }
}
// ANCHOR_END: findrunnable

/// Go: checkRunqsNoP. Some P has queued work: get an idle P to go and steal it.
fn check_runqs_no_p(sched: &Sched) -> Option<&P> {
    for p2 in sched.allp.iter() {
        if p2.status.load(Ordering::Acquire) != _Pidle && !p2.runq.is_empty() {
            let mut l = sched.lock();
            return sched.pidleget_spinning(&mut l);
        }
    }
    None
}

// ANCHOR: stealwork
/// Go: stealWork. Four passes over all other Ps in a random order; only the last pass may
/// take a victim's runnext (and, in Go, its timers).
fn steal_work(m: &M, pp: &P) -> Option<*mut G> {
    let sched = m.sched();
    for i in 0..STEAL_TRIES {
        let steal_runnext = i == STEAL_TRIES - 1;
        for idx in sched.stealorder.start(m.rand()) {
            let p2 = &sched.allp[idx as usize];
            if sched.pidx(p2) == sched.pidx(pp) {
                continue;
            }
            if p2.status.load(Ordering::Acquire) == _Pidle {
                continue; // Go: idlepMask
            }
            let back_off = || runnext_back_off(p2);
            if let Some(gp) = pp.runq.steal(&p2.runq, steal_runnext, &back_off) {
                return Some(gp);
            }
        }
    }
    None
}
// ANCHOR_END: stealwork

/// Go: runqgrab's pause before taking runnext: if the victim's M is running a G that is not
/// in a syscall, it has probably just readied runnext and is about to run it; wait 3µs.
fn runnext_back_off(p2: &P) {
    if p2.status.load(Ordering::Acquire) != _Prunning {
        return;
    }
    if let Some(mp) = unsafe { p2.m.load(Ordering::Acquire).as_ref() } {
        let in_syscall = mp
            .curg()
            .is_some_and(|gp| gp.readgstatus() & !_Gscan == _Gsyscall);
        if !in_syscall {
            std::thread::sleep(Duration::from_micros(3));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Starting and ending a program

/// Go: schedinit + runtime.main + exit, for one run of a program.
pub(crate) fn run_main<R: Send + 'static>(
    config: Config,
    f: impl FnOnce() -> R + Send + 'static,
) -> R {
    let n = config.gomaxprocs.clamp(1, 1024) as i32;
    let sched = Arc::new(Sched {
        lock: Mutex::new(Locked {
            runq: VecDeque::new(),
            pidle: Vec::new(),
            midle: Vec::new(),
            gfree: Vec::new(),
        }),
        runqsize: AtomicI32::new(0),
        allp: (0..n)
            .map(|id| P {
                id,
                status: AtomicU32::new(_Pidle),
                m: AtomicPtr::new(null_mut()),
                runq: RunQ::default(),
                schedtick: AtomicU32::new(0),
                syscalltick: AtomicU32::new(0),
                sysmontick: UnsafeCell::new(SysmonTick::default()),
                gfree: UnsafeCell::new(Vec::new()),
                gfreecnt: AtomicU32::new(0),
                goidcache: UnsafeCell::new((0, 0)),
            })
            .collect(),
        gomaxprocs: n,
        npidle: AtomicI32::new(0),
        nmidle: AtomicI32::new(0),
        nmspinning: AtomicI32::new(0),
        needspinning: AtomicU32::new(0),
        mnext: AtomicI64::new(0),
        allm: Mutex::new(Vec::new()),
        allgs: Mutex::new(Vec::new()),
        goidgen: AtomicU64::new(0),
        ngoroutines: AtomicI64::new(0),
        stealorder: RandomOrder::new(n as u32),
        config,
        start: Instant::now(),
        exiting: AtomicBool::new(false),
        done: Note::default(),
        failure: Mutex::new(None),
    });
    crate::signal::install(&sched);
    // Every P but P0 starts idle; P0 gets the main goroutine (Go: procresize, newproc(main)).
    {
        let mut l = sched.lock();
        for pp in sched.allp.iter().skip(1).rev() {
            sched.pidleput(&mut l, pp);
        }
    }
    let result: Arc<Mutex<Option<R>>> = Arc::new(Mutex::new(None));
    let out = result.clone();
    let p0 = &sched.allp[0];
    let main = newproc1(
        &sched,
        p0,
        Box::new(move || *out.lock().unwrap() = Some(f())),
    );
    unsafe { &*main }.is_main.store(true, Ordering::Release);
    runqput(&sched, p0, main, true);
    crate::sysmon::start(&sched);
    newm(&sched, p0, false); // m0
    sched.done.sleep();
    // Wake Ms that are idle so they exit; running ones stop at their next schedule.
    {
        let l = sched.lock();
        for &mp in l.midle.iter() {
            unsafe { &*mp }.park.wakeup();
        }
    }
    if let Some(payload) = sched
        .failure
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
    {
        std::panic::resume_unwind(payload);
    }
    let r = result.lock().unwrap().take();
    r.expect("main goroutine finished without a result")
}
