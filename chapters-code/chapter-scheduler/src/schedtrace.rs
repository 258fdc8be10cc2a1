//! `GODEBUG=schedtrace=N`: one line of scheduler state every N ms, in Go's format
//! (Go: schedtrace, proc.go). With scheddetail, a line per P, M and G follows.

use crate::g::status_name;
use crate::proc::Sched;
use std::fmt::Write;
use std::sync::atomic::Ordering;

// ANCHOR: schedtrace
/// The lines Go prints for one schedtrace tick.
pub fn schedtrace_lines(sched: &Sched, detailed: bool) -> Vec<String> {
    let l = sched.lock.lock().unwrap_or_else(|e| e.into_inner());
    let mut s = format!(
        "SCHED {}ms: gomaxprocs={} idleprocs={} threads={} spinningthreads={} needspinning={} idlethreads={} runqueue={}",
        sched.nanotime() / 1_000_000,
        sched.gomaxprocs,
        sched.npidle.load(Ordering::Acquire),
        sched.mcount() + 1, // + sysmon, which Go counts
        sched.nmspinning.load(Ordering::Acquire),
        sched.needspinning.load(Ordering::Acquire),
        sched.nmidle.load(Ordering::Acquire),
        l.runq.len(),
    );
    let mut lines = Vec::new();
    if detailed {
        s += " gcwaiting=false nmidlelocked=0 stopwait=0 sysmonwait=false";
        lines.push(s);
        for (i, pp) in sched.allp.iter().enumerate() {
            let m = unsafe { pp.m.load(Ordering::Acquire).as_ref() }
                .map_or("nil".to_string(), |m| m.id.to_string());
            lines.push(format!(
                "  P{i}: status={} schedtick={} syscalltick={} m={m} runqsize={} gfreecnt={} timerslen=0",
                pp.status.load(Ordering::Acquire),
                pp.schedtick.load(Ordering::Acquire),
                pp.syscalltick.load(Ordering::Acquire),
                pp.runq.len(),
                pp.gfreecnt.load(Ordering::Relaxed),
            ));
        }
        for mp in sched.allm.lock().unwrap().iter() {
            let p = mp.p().map_or("nil".to_string(), |p| p.id.to_string());
            let curg = mp
                .curg()
                .map_or("nil".to_string(), |g| g.goid().to_string());
            lines.push(format!(
                "  M{}: p={p} curg={curg} mallocing=0 throwing=0 preemptoff= locks={} dying=0 spinning={} blocked={} lockedg=nil",
                mp.id,
                mp.locks.load(Ordering::Relaxed),
                mp.spinning.load(Ordering::Relaxed),
                mp.p().is_none() && mp.curg().is_none(),
            ));
        }
        for &gp in sched.allgs.lock().unwrap().iter() {
            let g = unsafe { &*gp };
            let st = g.readgstatus();
            let m = unsafe { g.m.load(Ordering::Acquire).as_ref() }
                .map_or("nil".to_string(), |m| m.id.to_string());
            let _ = status_name(st);
            lines.push(format!(
                "  G{}: status={st}({}) m={m} lockedm=nil",
                g.goid(),
                g.waitreason().as_str()
            ));
        }
        return lines;
    }
    let _ = write!(s, " [");
    for pp in sched.allp.iter() {
        let _ = write!(s, " {}", pp.runq.len());
    }
    s += " ] schedticks=[ ";
    for pp in sched.allp.iter() {
        let _ = write!(s, "{} ", pp.schedtick.load(Ordering::Acquire));
    }
    s += "]";
    lines.push(s);
    lines
}
// ANCHOR_END: schedtrace

/// Prints (or records) one schedtrace tick.
pub(crate) fn schedtrace(sched: &Sched, detailed: bool) {
    let lines = schedtrace_lines(sched, detailed);
    match &sched.config.trace_sink {
        Some(sink) => sink.lock().unwrap().extend(lines),
        None => {
            for l in lines {
                eprintln!("{l}");
            }
        }
    }
}
