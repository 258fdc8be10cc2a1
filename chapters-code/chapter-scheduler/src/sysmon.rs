//! sysmon: the M without a P that watches the others (Go: sysmon, retake, preemptone in
//! proc.go). It preempts a G that has run for 10 ms, and takes the P away from an M stuck in a
//! system call so the P's other goroutines can run.

use crate::g::*;
use crate::proc::{_Pidle, _Prunning, handoffp, Sched, FORCE_PREEMPT_NS, M, P, STACK_PREEMPT};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Starts sysmon on its own thread (Go: newm(sysmon, nil, -1) in runtime.main).
pub(crate) fn start(sched: &Arc<Sched>) {
    let sched = sched.clone();
    std::thread::Builder::new()
        .name("sysmon".into())
        .spawn(move || sysmon(&sched))
        .expect("newosproc: sysmon");
}

// ANCHOR: sysmon
/// Go: sysmon. Sleeps 20µs at first; after 50 quiet rounds the sleep doubles each round,
/// up to 10ms. Any retake makes it alert again.
fn sysmon(sched: &Sched) {
    let mut idle = 0u32;
    let mut delay = 0u64; // µs
    let mut last_trace = 0i64;
    while !sched.exiting.load(Ordering::Acquire) {
        if idle == 0 {
            delay = 20;
        } else if idle > 50 {
            delay *= 2;
        }
        delay = delay.min(10_000);
        std::thread::sleep(Duration::from_micros(delay));
        let now = sched.nanotime();
        // (netpoll if nobody polled for 10ms; updatemaxprocs every 1s; wake the scavenger.)
        if retake(sched, now) != 0 {
            idle = 0;
        } else {
            idle += 1;
        }
        // (forced GC every 2 minutes.)
        let every = sched.config.schedtrace_ms as i64 * 1_000_000;
        if every > 0 && now - last_trace >= every {
            last_trace = now;
            crate::schedtrace::schedtrace(sched, sched.config.scheddetail);
        }
    }
}
// ANCHOR_END: sysmon

// ANCHOR: retake
/// Go: retake. For each running P: preempt its G if the P has not scheduled for 10ms; and if
/// its G is in a system call, take the P away unless the call is young and nothing waits.
pub(crate) fn retake(sched: &Sched, now: i64) -> u32 {
    let mut n = 0;
    for pp in sched.allp.iter() {
        if pp.status.load(Ordering::Acquire) != _Prunning {
            continue;
        }
        // SAFETY: only sysmon touches sysmontick.
        let pd = unsafe { &mut *pp.sysmontick.get() };
        let mut sysretake = false;
        let t = pp.schedtick.load(Ordering::Acquire);
        if pd.schedtick != t {
            pd.schedtick = t;
            pd.schedwhen = now;
        } else if pd.schedwhen + FORCE_PREEMPT_NS <= now {
            preemptone(sched, pp);
            sysretake = true; // a long syscall also counts as a long time slice
        }
        let Some(thread) = set_block_on_exit_syscall(pp) else {
            continue;
        };
        let st = pp.syscalltick.load(Ordering::Acquire);
        if !sysretake && pd.syscalltick != st {
            pd.syscalltick = st;
            pd.syscallwhen = now;
            thread.resume();
            continue;
        }
        // Don't bother if there is nothing else to run and someone is already looking.
        if pp.runq.is_empty()
            && sched.nmspinning.load(Ordering::Acquire) + sched.npidle.load(Ordering::Acquire) > 0
            && pd.syscallwhen + 10_000_000 > now
        {
            thread.resume();
            continue;
        }
        thread.take_p();
        thread.resume();
        n += 1;
        handoffp(sched, pp);
    }
    n
}
// ANCHOR_END: retake

/// Go: preemptone. Ask the G running on `pp` to stop: cooperatively through stackguard0,
/// and, unless asyncpreemptoff, with a signal to its thread.
pub(crate) fn preemptone(sched: &Sched, pp: &P) -> bool {
    let Some(mp) = (unsafe { pp.m.load(Ordering::Acquire).as_ref() }) else {
        return false;
    };
    let Some(gp) = mp.curg() else { return false };
    gp.preempt.store(true, Ordering::Release);
    gp.stackguard0.store(STACK_PREEMPT, Ordering::Release);
    if sched.config.async_preempt {
        crate::signal::preempt_m(mp);
    }
    true
}

/// Go: syscallingThread. sysmon holds the G's scan bit while it takes the P, so the G cannot
/// leave its syscall half-way through.
pub(crate) struct SyscallingThread<'a> {
    gp: &'a G,
    mp: &'a M,
    pp: &'a P,
    status: u32,
}

/// Go: setBlockOnExitSyscall. If `pp`'s G is in a syscall, freeze it there.
pub(crate) fn set_block_on_exit_syscall(pp: &P) -> Option<SyscallingThread<'_>> {
    if pp.status.load(Ordering::Acquire) != _Prunning {
        return None;
    }
    let mp = unsafe { pp.m.load(Ordering::Acquire).as_ref() }?;
    let gp = unsafe { &*(mp.curg()? as *const G) };
    let status = gp.readgstatus() & !_Gscan;
    if status != _Gsyscall || !castogscanstatus(gp, status) {
        return None;
    }
    if !std::ptr::eq(gp.m.load(Ordering::Acquire), mp)
        || !std::ptr::eq(mp.p.load(Ordering::Acquire), pp)
    {
        casfrom_gscanstatus(gp, status);
        return None;
    }
    Some(SyscallingThread {
        gp,
        mp: unsafe { &*(mp as *const M) },
        pp,
        status,
    })
}

impl SyscallingThread<'_> {
    /// Go: syscallingThread.takeP. Unwire the P from the M; it becomes idle.
    pub(crate) fn take_p(&self) {
        self.pp.m.store(std::ptr::null_mut(), Ordering::Release);
        self.mp.p.store(std::ptr::null_mut(), Ordering::Release);
        self.pp.status.store(_Pidle, Ordering::Release);
        self.pp.syscalltick.fetch_add(1, Ordering::AcqRel);
    }

    /// Go: syscallingThread.resume. Release the scan bit.
    pub(crate) fn resume(self) {
        casfrom_gscanstatus(self.gp, self.status);
    }
}
