//! Running a program: goroutines under a seeded random scheduler, with Go's blocking rules
//! for channels, mutexes, WaitGroups and Conds, every step reported to [`Hb`].
//!
//! The scheduler picks any goroutine that can move, at random; a different seed is a
//! different interleaving. Because the detector checks happens-before and not timing, a
//! race-free program has no race in any schedule, and two unordered conflicting accesses
//! are found whichever of them runs first. `sleep` means "long enough for everything else
//! that can run to have run": a sleeping goroutine moves only when nothing else can, and it
//! still creates no happens-before edge (time.Sleep creates none in Go either).

use crate::fasttrack::{Kind, Race};
use crate::hb::{Hb, SyncAddr};
use crate::program::{Block, Op, Program, Site, Stmt};
use crate::vclock::Tid;
use std::fmt::Write as _;

/// How a run ended, in Go's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// main returned.
    Exit,
    /// `panic: …` or `fatal error: …`, exactly as Go prints the first line.
    Died(String),
    /// More steps than allowed (a safety net: the format has no unbounded loops).
    StepLimit,
}

/// One execution: how it ended and the races the detector saw on the way.
#[derive(Clone, Debug)]
pub struct Execution {
    pub end: End,
    pub races: Vec<Race>,
    /// Which goroutine took each step: the interleaving the seed chose.
    pub schedule: Vec<Tid>,
}

#[derive(Clone, Debug)]
struct Frame {
    block: Block,
    pc: usize,
    /// Passes of a `repeat` body still to run after this one.
    left: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Status {
    Runnable,
    Sleeping,
    Blocked(Wait),
    Dead,
}

/// Why a goroutine cannot move.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Wait {
    /// Unbuffered send: offered to receivers, not yet taken.
    Offered(usize),
    SendFull(usize),
    Recv(usize),
    Lock(usize),
    RLock(usize),
    WLock(usize),
    /// In WaitGroup.Wait, until the WaitGroup's generation moves past this one.
    Group(usize, u64),
    CondSleep(usize),
    Await(usize, i64),
}

struct G {
    tid: Tid,
    frames: Vec<Frame>,
    status: Status,
    /// The notifyList ticket of the Cond.Wait in progress.
    ticket: u64,
}

#[derive(Default)]
struct Chan {
    cap: usize,
    zero_size: bool,
    count: usize,
    sendx: usize,
    recvx: usize,
    closed: bool,
    /// Goroutines blocked in an unbuffered send, first come first served (hchan.sendq).
    offers: Vec<usize>,
}

#[derive(Default, Clone, Copy)]
struct RW {
    writer: bool,
    readers: u32,
    writers_waiting: u32,
}

#[derive(Default, Clone, Copy)]
struct Wg {
    v: i64,
    waiters: u32,
    /// Bumped each time the counter reaches zero with waiters: they may go.
    gen: u64,
}

#[derive(Default, Clone, Copy)]
struct Cond {
    /// runtime/sema.go notifyList: the next ticket to hand out, and the next to notify.
    wait: u64,
    notify: u64,
}

struct Machine<'p> {
    prog: &'p Program,
    hb: Hb,
    gs: Vec<G>,
    vals: Vec<i64>,
    chans: Vec<Chan>,
    locked: Vec<bool>,
    rws: Vec<RW>,
    wgs: Vec<Wg>,
    conds: Vec<Cond>,
    rng: u64,
}

enum Step {
    Done,
    Block(Wait),
    Die(String),
}

/// Runs `prog` once, under the interleaving that `seed` picks.
pub fn run(prog: &Program, seed: u64) -> Execution {
    run_limited(prog, seed, 1_000_000)
}

pub fn run_limited(prog: &Program, seed: u64, max_steps: usize) -> Execution {
    // The detector's words: the program's vars, then each WaitGroup's `sema`, which
    // sync/waitgroup.go reads (first Add) and writes (first Wait) to catch misuse.
    let mut names: Vec<String> = prog.vars.iter().map(|v| v.name.clone()).collect();
    names.extend(prog.waitgroups.iter().map(|w| format!("{w}.sema")));
    let mut m = Machine {
        prog,
        hb: Hb::new(names),
        gs: vec![G {
            tid: 0,
            frames: vec![Frame {
                block: prog.funcs[prog.main].body.clone(),
                pc: 0,
                left: 0,
            }],
            status: Status::Runnable,
            ticket: 0,
        }],
        vals: vec![0; prog.vars.len()],
        chans: prog
            .chans
            .iter()
            .map(|c| Chan {
                cap: c.cap,
                zero_size: c.zero_size,
                ..Chan::default()
            })
            .collect(),
        locked: vec![false; prog.mutexes.len()],
        rws: vec![RW::default(); prog.rwmutexes.len()],
        wgs: vec![Wg::default(); prog.waitgroups.len()],
        conds: vec![Cond::default(); prog.conds.len()],
        // splitmix64 of the seed: any seed, including 0, gives a lively stream.
        rng: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
    };
    let mut schedule = Vec::new();
    let end = m.main_loop(max_steps, &mut schedule);
    Execution {
        end,
        races: m.hb.races,
        schedule,
    }
}

impl Machine<'_> {
    fn next_rand(&mut self) -> u64 {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn ready(&self, g: &G) -> bool {
        match &g.status {
            Status::Runnable => true,
            Status::Sleeping | Status::Dead => false,
            Status::Blocked(w) => match *w {
                // Taken by a receiver, or the channel was closed under it.
                Wait::Offered(c) => self.chans[c].closed,
                Wait::SendFull(c) => {
                    self.chans[c].closed || self.chans[c].count < self.chans[c].cap
                }
                Wait::Recv(c) => {
                    let ch = &self.chans[c];
                    ch.count > 0 || ch.closed || !ch.offers.is_empty()
                }
                Wait::Lock(mu) => !self.locked[mu],
                Wait::RLock(rw) => !self.rws[rw].writer && self.rws[rw].writers_waiting == 0,
                Wait::WLock(rw) => !self.rws[rw].writer && self.rws[rw].readers == 0,
                Wait::Group(wg, gen) => self.wgs[wg].gen != gen,
                Wait::CondSleep(c) => g.ticket < self.conds[c].notify,
                Wait::Await(v, val) => self.vals[v] == val,
            },
        }
    }

    fn main_loop(&mut self, max_steps: usize, schedule: &mut Vec<Tid>) -> End {
        loop {
            if self.gs[0].status == Status::Dead {
                return End::Exit;
            }
            if schedule.len() == max_steps {
                return End::StepLimit;
            }
            let mut movable: Vec<usize> = (0..self.gs.len())
                .filter(|&i| self.ready(&self.gs[i]))
                .collect();
            if movable.is_empty() {
                // Nothing else can run: the sleepers' time is up.
                for g in &mut self.gs {
                    if g.status == Status::Sleeping {
                        g.status = Status::Runnable;
                    }
                }
                movable = (0..self.gs.len())
                    .filter(|&i| self.ready(&self.gs[i]))
                    .collect();
                if movable.is_empty() {
                    return End::Died("fatal error: all goroutines are asleep - deadlock!".into());
                }
            }
            let g = movable[(self.next_rand() % movable.len() as u64) as usize];
            schedule.push(self.gs[g].tid);
            if let Some(msg) = self.step(g) {
                return End::Died(msg);
            }
        }
    }

    /// Runs goroutine `g`'s next statement. `Some(message)` if the program dies.
    fn step(&mut self, g: usize) -> Option<String> {
        // Finished blocks return to their caller (or run again, for `repeat`).
        loop {
            let Some(f) = self.gs[g].frames.last_mut() else {
                self.gs[g].status = Status::Dead;
                return None;
            };
            if f.pc < f.block.len() {
                break;
            }
            if f.left > 0 {
                f.left -= 1;
                f.pc = 0;
            } else {
                self.gs[g].frames.pop();
            }
        }
        let f = self.gs[g].frames.last().expect("checked above");
        let stmt = f.block[f.pc].clone();
        let tid = self.gs[g].tid;
        match stmt {
            Stmt::Repeat(n, body) => {
                self.advance(g);
                if n > 0 {
                    self.push(g, body, n - 1);
                }
            }
            Stmt::If {
                var,
                eq,
                val,
                then,
                els,
                site,
            } => {
                let atomic = self.prog.vars.get(var).is_some_and(|v| v.atomic);
                self.hb.read(tid, var, atomic, &site);
                self.advance(g);
                let taken = (self.vals[var] == val) == eq;
                self.push(g, if taken { then } else { els }, 0);
            }
            Stmt::Op(op, site) => {
                let retry = matches!(self.gs[g].status, Status::Blocked(_));
                match self.op(g, &op, &site, retry) {
                    Step::Done => {
                        if matches!(self.gs[g].status, Status::Blocked(_)) {
                            self.gs[g].status = Status::Runnable;
                        }
                        // Call pushes its frame itself, after advancing.
                        if !matches!(op, Op::Call(_)) {
                            self.advance(g);
                        }
                        if matches!(op, Op::Sleep) {
                            self.gs[g].status = Status::Sleeping;
                        }
                    }
                    Step::Block(w) => self.gs[g].status = Status::Blocked(w),
                    Step::Die(msg) => return Some(msg),
                }
            }
        }
        if self.gs[g].frames.is_empty() {
            self.gs[g].status = Status::Dead;
        }
        None
    }

    fn advance(&mut self, g: usize) {
        if let Some(f) = self.gs[g].frames.last_mut() {
            f.pc += 1;
        }
    }

    fn push(&mut self, g: usize, block: Block, left: u32) {
        self.gs[g].frames.push(Frame { block, pc: 0, left });
    }

    fn op(&mut self, g: usize, op: &Op, site: &Site, retry: bool) -> Step {
        let t = self.gs[g].tid;
        match *op {
            Op::Write(v, val) => {
                self.hb.write(t, v, false, false, site);
                self.vals[v] = val;
            }
            Op::Read(v) => self.hb.read(t, v, false, site),
            Op::Store(v, val) => {
                self.hb.write(t, v, true, false, site);
                self.vals[v] = val;
            }
            Op::Load(v) => self.hb.read(t, v, true, site),
            Op::Add(v, d) => {
                self.hb.write(t, v, true, true, site);
                self.vals[v] += d;
            }
            Op::Await(v, val) => {
                if self.vals[v] != val {
                    return Step::Block(Wait::Await(v, val));
                }
                self.hb.read(t, v, true, site);
            }
            Op::Send(c) => return self.send(g, c),
            Op::Recv(c) => return self.recv(g, c),
            Op::Close(c) => {
                if self.chans[c].closed {
                    return Step::Die("panic: close of closed channel".into());
                }
                self.chans[c].closed = true;
                self.hb.release(t, SyncAddr::ChanClose(c));
            }
            Op::Lock(mu) => {
                if self.locked[mu] {
                    return Step::Block(Wait::Lock(mu));
                }
                self.locked[mu] = true;
                self.hb.acquire(t, SyncAddr::Mutex(mu));
            }
            Op::Unlock(mu) => {
                if !self.locked[mu] {
                    return Step::Die("fatal error: sync: unlock of unlocked mutex".into());
                }
                self.hb.release(t, SyncAddr::Mutex(mu));
                self.locked[mu] = false;
            }
            Op::RLock(rw) => {
                let s = self.rws[rw];
                // A writer inside, or one waiting, keeps new readers out.
                if s.writer || s.writers_waiting > 0 {
                    return Step::Block(Wait::RLock(rw));
                }
                self.rws[rw].readers += 1;
                self.hb.acquire(t, SyncAddr::ReaderSem(rw));
            }
            Op::RUnlock(rw) => {
                if self.rws[rw].readers == 0 {
                    return Step::Die("fatal error: sync: RUnlock of unlocked RWMutex".into());
                }
                self.hb.release_merge(t, SyncAddr::WriterSem(rw));
                self.rws[rw].readers -= 1;
            }
            Op::WLock(rw) => {
                if !retry {
                    self.rws[rw].writers_waiting += 1;
                }
                let s = self.rws[rw];
                if s.writer || s.readers > 0 {
                    return Step::Block(Wait::WLock(rw));
                }
                self.rws[rw].writers_waiting -= 1;
                self.rws[rw].writer = true;
                self.hb.acquire(t, SyncAddr::ReaderSem(rw));
                self.hb.acquire(t, SyncAddr::WriterSem(rw));
            }
            Op::WUnlock(rw) => {
                if !self.rws[rw].writer {
                    return Step::Die("fatal error: sync: Unlock of unlocked RWMutex".into());
                }
                self.hb.release(t, SyncAddr::ReaderSem(rw));
                self.rws[rw].writer = false;
            }
            Op::WgAdd(wg, delta) => return self.wg_add(t, wg, delta, site),
            Op::Wait(wg) => {
                let sema = self.prog.vars.len() + wg;
                if let (true, Status::Blocked(Wait::Group(_, gen))) = (retry, &self.gs[g].status) {
                    debug_assert_ne!(*gen, self.wgs[wg].gen);
                } else if self.wgs[wg].v != 0 {
                    if self.wgs[wg].waiters == 0 {
                        // "Wait must be synchronized with the first Add."
                        self.hb.write(t, sema, false, false, site);
                    }
                    self.wgs[wg].waiters += 1;
                    return Step::Block(Wait::Group(wg, self.wgs[wg].gen));
                }
                self.hb.acquire(t, SyncAddr::WaitGroup(wg));
            }
            Op::Signal(c) => {
                let cv = &mut self.conds[c];
                if cv.notify < cv.wait {
                    cv.notify += 1;
                }
            }
            Op::Broadcast(c) => self.conds[c].notify = self.conds[c].wait,
            Op::CondTicket(c) => {
                self.gs[g].ticket = self.conds[c].wait;
                self.conds[c].wait += 1;
            }
            Op::CondSleep(c) => {
                if self.gs[g].ticket >= self.conds[c].notify {
                    return Step::Block(Wait::CondSleep(c));
                }
            }
            Op::Go(f) => {
                let child = self.hb.go_start(t);
                self.gs.push(G {
                    tid: child,
                    frames: vec![Frame {
                        block: self.prog.funcs[f].body.clone(),
                        pc: 0,
                        left: 0,
                    }],
                    status: Status::Runnable,
                    ticket: 0,
                });
            }
            Op::Call(f) => {
                self.advance(g);
                self.push(g, self.prog.funcs[f].body.clone(), 0);
            }
            Op::Sleep => {}
        }
        Step::Done
    }

    // ANCHOR: send
    fn send(&mut self, g: usize, c: usize) -> Step {
        let t = self.gs[g].tid;
        let ch = &mut self.chans[c];
        if ch.closed {
            return Step::Die("panic: send on closed channel".into());
        }
        if ch.cap == 0 {
            // Wait for a receiver; it completes the hand-off (see recv).
            if !ch.offers.contains(&g) {
                ch.offers.push(g);
            }
            return Step::Block(Wait::Offered(c));
        }
        if ch.count == ch.cap {
            return Step::Block(Wait::SendFull(c));
        }
        let (idx, zero) = (ch.sendx, ch.zero_size);
        ch.sendx = (ch.sendx + 1) % ch.cap;
        ch.count += 1;
        self.hb.chan_slot(t, c, idx, zero);
        Step::Done
    }
    // ANCHOR_END: send

    fn recv(&mut self, g: usize, c: usize) -> Step {
        let t = self.gs[g].tid;
        let ch = &mut self.chans[c];
        if ch.count > 0 {
            let (idx, zero) = (ch.recvx, ch.zero_size);
            ch.recvx = (ch.recvx + 1) % ch.cap;
            ch.count -= 1;
            self.hb.chan_slot(t, c, idx, zero);
        } else if !ch.offers.is_empty() {
            let sender = ch.offers.remove(0);
            let st = self.gs[sender].tid;
            self.hb.chan_sync(t, st, c);
            // The sender's send has completed.
            self.gs[sender].status = Status::Runnable;
            self.advance(sender);
        } else if ch.closed {
            self.hb.acquire(t, SyncAddr::ChanClose(c));
        } else {
            return Step::Block(Wait::Recv(c));
        }
        Step::Done
    }

    /// sync/waitgroup.go Add (Done is Add(-1)).
    fn wg_add(&mut self, t: Tid, wg: usize, delta: i64, site: &Site) -> Step {
        if delta < 0 {
            // "Synchronize decrements with Wait."
            self.hb.release_merge(t, SyncAddr::WaitGroup(wg));
        }
        let w = &mut self.wgs[wg];
        w.v += delta;
        let (v, waiters) = (w.v, w.waiters);
        if delta > 0 && v == delta {
            // "The first increment must be synchronized with Wait."
            self.hb.read(t, self.prog.vars.len() + wg, false, site);
        }
        if v < 0 {
            return Step::Die("panic: sync: negative WaitGroup counter".into());
        }
        if waiters != 0 && delta > 0 && v == delta {
            return Step::Die(
                "panic: sync: WaitGroup misuse: Add called concurrently with Wait".into(),
            );
        }
        if v == 0 && waiters > 0 {
            let w = &mut self.wgs[wg];
            w.waiters = 0;
            w.gen += 1;
        }
        Step::Done
    }
}

/// A race as Go's detector prints it (without addresses and stacks: the `.mm` line and label
/// stand for them).
pub fn report(prog: &Program, r: &Race) -> String {
    let who = |tid: Tid| {
        if tid == 0 {
            "main goroutine".to_string()
        } else {
            format!("goroutine {}", tid + 1)
        }
    };
    let kind = |k: Kind, atomic: bool, prev: bool| {
        let k = match (k, prev) {
            (Kind::Read, false) => "Read",
            (Kind::Write, false) => "Write",
            (Kind::Read, true) => "Previous read",
            (Kind::Write, true) => "Previous write",
        };
        if atomic {
            format!("{k} (atomic)")
        } else {
            k.to_string()
        }
    };
    let mut s = String::from("==================\nWARNING: DATA RACE\n");
    for (a, prev) in [(&r.current, false), (&r.previous, true)] {
        let _ = writeln!(
            s,
            "{} at {} by {}:\n  {}:{} {}{}",
            kind(a.kind, a.atomic, prev),
            r.var,
            who(a.tid),
            prog.file,
            a.site.line,
            a.site,
            if prev { "" } else { "\n" }
        );
    }
    s.push_str("==================\n");
    s
}

/// The golden line for a set of races: `no race`, or `race @A write, @B read` (each pair's
/// accesses sorted by label, pairs sorted and joined by "; ").
pub fn verdict(races: &[Race]) -> String {
    let kind = |k: Kind| if k == Kind::Read { "read" } else { "write" };
    let mut pairs: Vec<String> = races
        .iter()
        .map(|r| {
            let mut two = [
                (r.current.site.to_string(), kind(r.current.kind)),
                (r.previous.site.to_string(), kind(r.previous.kind)),
            ];
            two.sort();
            format!("{} {}, {} {}", two[0].0, two[0].1, two[1].0, two[1].1)
        })
        .collect();
    pairs.sort();
    pairs.dedup();
    if pairs.is_empty() {
        "no race".into()
    } else {
        format!("race {}", pairs.join("; "))
    }
}

/// The verdict of `prog` over `seeds` interleavings: the same line from every one of them,
/// or an error that shows how two schedules disagreed. A program whose verdict depends on
/// the schedule would make a poor witness: Go's detector sees only the one it ran.
pub fn stable_verdict(prog: &Program, seeds: u64) -> Result<String, String> {
    let mut first: Option<(u64, String)> = None;
    for seed in 0..seeds {
        let e = run(prog, seed);
        let line = match &e.end {
            End::Exit => verdict(&e.races),
            End::Died(msg) => format!("{} ({msg})", verdict(&e.races)),
            End::StepLimit => return Err(format!("seed {seed}: step limit reached")),
        };
        match &first {
            None => first = Some((seed, line)),
            Some((s0, l0)) if *l0 != line => {
                return Err(format!("seed {s0}: {l0}; seed {seed}: {line}"));
            }
            _ => {}
        }
    }
    Ok(first.map(|f| f.1).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::parse;

    fn verdicts(src: &str, seeds: u64) -> Vec<String> {
        let p = parse("t.mm", src).unwrap();
        let mut out: Vec<String> = (0..seeds)
            .map(|s| {
                let e = run(&p, s);
                assert_eq!(e.end, End::Exit, "seed {s}");
                verdict(&e.races)
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    const MP: &str = "var x\nchan c 0\nfunc main {\n go w\n recv c\n read x @B\n}\nfunc w {\n write x @A\n send c\n}\n";

    #[test]
    fn message_passing_is_race_free_in_every_schedule() {
        assert_eq!(verdicts(MP, 50), ["no race"]);
    }

    #[test]
    fn without_the_channel_the_same_accesses_race_in_every_schedule() {
        let racy = "var x\nwaitgroup wg\nfunc main {\n wgadd wg 1\n go w\n read x @B\n wait wg\n}\nfunc w {\n write x @A\n done wg\n}\n";
        assert_eq!(verdicts(racy, 50), ["race @A write, @B read"]);
    }

    #[test]
    fn different_seeds_give_different_interleavings() {
        let p = parse("t.mm", "var x y\nfunc main {\n go a\n go b\n sleep\n}\nfunc a {\n write x\n write x\n}\nfunc b {\n write y\n write y\n}\n").unwrap();
        let orders: std::collections::BTreeSet<Vec<Tid>> =
            (0..20).map(|s| run(&p, s).schedule).collect();
        assert!(orders.len() > 3, "{orders:?}");
        assert_eq!(
            run(&p, 7).schedule,
            run(&p, 7).schedule,
            "one seed, one interleaving"
        );
    }

    #[test]
    fn go_misuse_dies_with_gos_messages() {
        let die = |src: &str| match run(&parse("t.mm", src).unwrap(), 0).end {
            End::Died(m) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            die("mutex m\nfunc main {\n unlock m\n}\n"),
            "fatal error: sync: unlock of unlocked mutex"
        );
        assert_eq!(
            die("chan c 1\nfunc main {\n close c\n send c\n}\n"),
            "panic: send on closed channel"
        );
        assert_eq!(
            die("chan c 1\nfunc main {\n close c\n close c\n}\n"),
            "panic: close of closed channel"
        );
        assert_eq!(
            die("waitgroup wg\nfunc main {\n done wg\n}\n"),
            "panic: sync: negative WaitGroup counter"
        );
        assert_eq!(
            die("chan c 0\nfunc main {\n recv c\n}\n"),
            "fatal error: all goroutines are asleep - deadlock!"
        );
        assert_eq!(
            die("rwmutex rw\nfunc main {\n runlock rw\n}\n"),
            "fatal error: sync: RUnlock of unlocked RWMutex"
        );
        // Once.Do from inside its own f waits on the Once's mutex forever.
        assert_eq!(
            die("once o\nfunc main {\n once o f\n}\nfunc f {\n once o f\n}\n"),
            "fatal error: all goroutines are asleep - deadlock!"
        );
    }
}
