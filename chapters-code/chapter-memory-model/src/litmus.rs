//! Litmus tests: six tiny programs, each written once over any [`Atomic`] and any [`Mode`],
//! and run three ways — as loom models (every outcome loom's model of the C++/Rust memory
//! model allows, `--cfg loom`), on real threads many times ([`stress`], and
//! `examples/litmus.rs`), and, for store buffering, against Go's `sync/atomic`
//! (`go/sbatomic`, through [`oracle`]).
//!
//! Every location starts at 0. A test's *outcome* is the values its loads returned (for 2+2W,
//! the final values of the locations); its *weak* outcome ([`Test::weak`]) is the one that no
//! interleaving of the threads' statements can produce, so seeing it means some access was
//! reordered or some store was seen by different threads in different orders.
//!
//! [`TABLE`] says, for each test and mode, whether the weak outcome is allowed by the Rust
//! (C++20) model, whether loom shows it, and whether amd64 hardware showed it. The loom
//! column is what `loom_*` below assert; the amd64 column is what `cargo run --release
//! --example litmus` measured on a 2-core x86_64 machine (TSO: only a store followed by a
//! load of another location can be reordered, by the store buffer).

use std::collections::BTreeMap;
use std::sync::atomic::{self, AtomicU32, AtomicUsize, Ordering};

/// An atomic `u32` cell: std's on real threads, loom's inside a model.
pub trait Atomic: Send + Sync {
    fn new(v: u32) -> Self;
    fn load(&self, o: Ordering) -> u32;
    fn store(&self, v: u32, o: Ordering);
    /// The fence of the same world (loom's fence for loom's atomics).
    fn fence(o: Ordering);
}

impl Atomic for AtomicU32 {
    fn new(v: u32) -> Self {
        AtomicU32::new(v)
    }
    fn load(&self, o: Ordering) -> u32 {
        AtomicU32::load(self, o)
    }
    fn store(&self, v: u32, o: Ordering) {
        AtomicU32::store(self, v, o)
    }
    fn fence(o: Ordering) {
        atomic::fence(o)
    }
}

#[cfg(loom)]
impl Atomic for loom::sync::atomic::AtomicU32 {
    fn new(v: u32) -> Self {
        loom::sync::atomic::AtomicU32::new(v)
    }
    fn load(&self, o: Ordering) -> u32 {
        loom::sync::atomic::AtomicU32::load(self, o)
    }
    fn store(&self, v: u32, o: Ordering) {
        loom::sync::atomic::AtomicU32::store(self, v, o)
    }
    fn fence(o: Ordering) {
        loom::sync::atomic::fence(o)
    }
}

/// Which orderings a test's accesses use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// Every access `Relaxed`.
    Relaxed,
    /// Loads `Acquire`, stores `Release`.
    AcqRel,
    /// Every access `SeqCst`.
    SeqCst,
    /// Every access `Relaxed`, with a `fence(SeqCst)` between a thread's two accesses.
    Fenced,
}

impl Mode {
    pub const ALL: [Mode; 4] = [Mode::Relaxed, Mode::AcqRel, Mode::SeqCst, Mode::Fenced];

    pub fn load(self) -> Ordering {
        match self {
            Mode::Relaxed | Mode::Fenced => Ordering::Relaxed,
            Mode::AcqRel => Ordering::Acquire,
            Mode::SeqCst => Ordering::SeqCst,
        }
    }

    pub fn store(self) -> Ordering {
        match self {
            Mode::Relaxed | Mode::Fenced => Ordering::Relaxed,
            Mode::AcqRel => Ordering::Release,
            Mode::SeqCst => Ordering::SeqCst,
        }
    }

    /// What goes between a thread's two accesses: a `SeqCst` fence in [`Mode::Fenced`].
    pub fn between<A: Atomic>(self) {
        if self == Mode::Fenced {
            A::fence(Ordering::SeqCst)
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::Relaxed => "Relaxed",
            Mode::AcqRel => "Acquire/Release",
            Mode::SeqCst => "SeqCst",
            Mode::Fenced => "Relaxed+fence(SeqCst)",
        }
    }
}

/// What one thread's loads returned, in program order (unused slots stay 0).
pub type Regs = [u32; 2];

/// A test's outcome: the values it observes, named by [`Test::labels`] (unused slots are 0).
pub type Outcome = [u32; 4];

/// The classic litmus tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Test {
    /// Message passing.
    Mp,
    /// Store buffering (Dekker's core).
    Sb,
    /// Load buffering.
    Lb,
    /// Independent reads of independent writes.
    Iriw,
    /// Two threads, two writes each, in opposite orders.
    TwoPlusTwoW,
    /// Coherence of read-read: two reads of one location.
    CoRR,
}

// ANCHOR: mp
/// MP: thread 0 writes the data, then raises the flag; thread 1 reads the flag, then the
/// data. Weak: the flag is up but the data is still 0 — a reader that trusted the flag would
/// use data that is not there yet. Release/Acquire is exactly what forbids it.
fn mp<A: Atomic>(t: usize, loc: &[&A], m: Mode) -> Regs {
    let (data, flag) = (loc[0], loc[1]);
    if t == 0 {
        data.store(1, m.store());
        m.between::<A>();
        flag.store(1, m.store());
        [0, 0]
    } else {
        let f = flag.load(m.load());
        m.between::<A>();
        let d = data.load(m.load());
        [f, d]
    }
}
// ANCHOR_END: mp

// ANCHOR: sb
/// SB: each thread writes its own location, then reads the other's. Weak: both read 0 —
/// each store still sat in its core's store buffer when the other thread loaded. Only a
/// single total order over the four accesses (SeqCst) forbids it.
fn sb<A: Atomic>(t: usize, loc: &[&A], m: Mode) -> Regs {
    let (mine, theirs) = if t == 0 {
        (loc[0], loc[1])
    } else {
        (loc[1], loc[0])
    };
    mine.store(1, m.store());
    m.between::<A>();
    [theirs.load(m.load()), 0]
}
// ANCHOR_END: sb

/// LB: each thread reads the other's location, then writes its own. Weak: both read 1 —
/// each load saw a store that comes after the other thread's load in its program.
fn lb<A: Atomic>(t: usize, loc: &[&A], m: Mode) -> Regs {
    let (mine, theirs) = if t == 0 {
        (loc[0], loc[1])
    } else {
        (loc[1], loc[0])
    };
    let r = theirs.load(m.load());
    m.between::<A>();
    mine.store(1, m.store());
    [r, 0]
}

/// IRIW: threads 0 and 1 write x and y; thread 2 reads x then y, thread 3 reads y then x.
/// Weak: 2 sees x's write but not y's, 3 sees y's but not x's — the two readers disagree on
/// the order of two independent writes.
fn iriw<A: Atomic>(t: usize, loc: &[&A], m: Mode) -> Regs {
    let (x, y) = (loc[0], loc[1]);
    match t {
        0 => x.store(1, m.store()),
        1 => y.store(1, m.store()),
        _ => {
            let (first, second) = if t == 2 { (x, y) } else { (y, x) };
            let a = first.load(m.load());
            m.between::<A>();
            return [a, second.load(m.load())];
        }
    }
    [0, 0]
}

/// 2+2W: thread 0 writes x=1 then y=2, thread 1 writes y=1 then x=2. Weak: x and y both end
/// up 1 — each location's last write is the *first* write of its thread, so the
/// modification orders of x and y together contradict both threads' program orders.
fn two_plus_two_w<A: Atomic>(t: usize, loc: &[&A], m: Mode) -> Regs {
    let (first, second) = if t == 0 {
        (loc[0], loc[1])
    } else {
        (loc[1], loc[0])
    };
    first.store(1, m.store());
    m.between::<A>();
    second.store(2, m.store());
    [0, 0]
}

/// CoRR: thread 0 writes x=1; thread 1 reads x twice. Weak: the first read sees 1 and the
/// second 0 — going back in x's modification order, which every ordering forbids, Relaxed
/// included (coherence).
fn corr<A: Atomic>(t: usize, loc: &[&A], m: Mode) -> Regs {
    let x = loc[0];
    if t == 0 {
        x.store(1, m.store());
        [0, 0]
    } else {
        let a = x.load(m.load());
        m.between::<A>();
        [a, x.load(m.load())]
    }
}

impl Test {
    pub const ALL: [Test; 6] = [
        Test::Mp,
        Test::Sb,
        Test::Lb,
        Test::Iriw,
        Test::TwoPlusTwoW,
        Test::CoRR,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Test::Mp => "MP",
            Test::Sb => "SB",
            Test::Lb => "LB",
            Test::Iriw => "IRIW",
            Test::TwoPlusTwoW => "2+2W",
            Test::CoRR => "CoRR",
        }
    }

    pub fn threads(self) -> usize {
        if self == Test::Iriw {
            4
        } else {
            2
        }
    }

    /// How many shared locations (x, y, …) the test uses.
    pub fn locations(self) -> usize {
        if self == Test::CoRR {
            1
        } else {
            2
        }
    }

    /// Runs thread `t`'s part of the test on `loc`.
    pub fn thread<A: Atomic>(self, t: usize, loc: &[&A], m: Mode) -> Regs {
        match self {
            Test::Mp => mp(t, loc, m),
            Test::Sb => sb(t, loc, m),
            Test::Lb => lb(t, loc, m),
            Test::Iriw => iriw(t, loc, m),
            Test::TwoPlusTwoW => two_plus_two_w(t, loc, m),
            Test::CoRR => corr(t, loc, m),
        }
    }

    /// The outcome, from every thread's registers and the locations' final values.
    pub fn outcome(self, regs: &[Regs], finals: &[u32]) -> Outcome {
        match self {
            Test::Mp | Test::CoRR => [regs[1][0], regs[1][1], 0, 0],
            Test::Sb | Test::Lb => [regs[0][0], regs[1][0], 0, 0],
            Test::Iriw => [regs[2][0], regs[2][1], regs[3][0], regs[3][1]],
            Test::TwoPlusTwoW => [finals[0], finals[1], 0, 0],
        }
    }

    /// The names of an outcome's values.
    pub fn labels(self) -> &'static [&'static str] {
        match self {
            Test::Mp => &["flag", "data"],
            Test::Sb | Test::Lb => &["T0 reads y", "T1 reads x"],
            Test::Iriw => &["T2 x", "T2 y", "T3 y", "T3 x"],
            Test::TwoPlusTwoW => &["final x", "final y"],
            Test::CoRR => &["1st", "2nd"],
        }
    }

    /// The outcome the test is about: no interleaving produces it.
    pub fn weak(self) -> Outcome {
        match self {
            Test::Mp => [1, 0, 0, 0],
            Test::Sb => [0, 0, 0, 0],
            Test::Lb | Test::TwoPlusTwoW => [1, 1, 0, 0],
            Test::Iriw => [1, 0, 1, 0],
            Test::CoRR => [1, 0, 0, 0],
        }
    }

    /// `flag=1 data=0`.
    pub fn show(self, o: &Outcome) -> String {
        let l = self.labels();
        let parts: Vec<String> = l.iter().zip(o).map(|(l, v)| format!("{l}={v}")).collect();
        parts.join(" ")
    }
}

/// One row of [`TABLE`]: is the weak outcome of `test` under `mode` allowed, and seen?
#[derive(Clone, Copy, Debug)]
pub struct Row {
    pub test: Test,
    pub mode: Mode,
    /// Allowed by the Rust/C++20 memory model.
    pub allowed: bool,
    /// Among the outcomes loom 0.7 explores (asserted by the `loom_*` models).
    pub loom: bool,
    /// Seen on amd64 hardware by `examples/litmus.rs` (2 cores, 10⁶ rounds per row, IRIW 10⁵); TSO
    /// forbids all but SB's.
    pub amd64: bool,
}

const fn row(test: Test, mode: Mode, allowed: bool, loom: bool, amd64: bool) -> Row {
    Row {
        test,
        mode,
        allowed,
        loom,
        amd64,
    }
}

// ANCHOR: table
/// Test × mode → is the weak outcome allowed by the Rust/C++20 model, shown by loom, seen
/// on amd64? Where loom and the model differ:
///
/// - SB, IRIW and 2+2W with `SeqCst` accesses: loom models `SeqCst` *accesses* as
///   Acquire/Release, with no single total order over them, so it shows the weak outcomes
///   that order forbids. It models `fence(SeqCst)` exactly: the Fenced rows agree with the
///   model.
/// - LB with Relaxed: a loom load returns a store that loom has already executed, so it can
///   never see a store that comes after the other thread's load in program order; loom never
///   shows the (1, 1) that the model allows (and ARM hardware can show).
///
/// Where loom agrees with the model although it might not seem to: 2+2W's weak outcome
/// under Relaxed and Acquire/Release. loom keeps each location's modification order as a
/// partial order (as CDSChecker does) and fixes it only when a load reads, so the final
/// reads after `join` may settle both orders against the threads' program orders.
///
/// amd64 is TSO: a store may wait in the store buffer while the same core's later loads of
/// other locations go ahead, and nothing else is reordered, so only SB's weak outcome shows,
/// and only without `SeqCst` (a `SeqCst` store is an `xchg`, the fence an `mfence`; both
/// drain the store buffer).
pub const TABLE: &[Row] = {
    use Mode::*;
    use Test::*;
    &[
        row(Mp, Relaxed, true, true, false),
        row(Mp, AcqRel, false, false, false),
        row(Mp, SeqCst, false, false, false),
        row(Mp, Fenced, false, false, false),
        row(Sb, Relaxed, true, true, true),
        row(Sb, AcqRel, true, true, true),
        row(Sb, SeqCst, false, true, false),
        row(Sb, Fenced, false, false, false),
        row(Lb, Relaxed, true, false, false),
        row(Lb, AcqRel, false, false, false),
        row(Lb, SeqCst, false, false, false),
        row(Lb, Fenced, false, false, false),
        row(Iriw, Relaxed, true, true, false),
        row(Iriw, AcqRel, true, true, false),
        row(Iriw, SeqCst, false, true, false),
        row(Iriw, Fenced, false, false, false),
        row(TwoPlusTwoW, Relaxed, true, true, false),
        row(TwoPlusTwoW, AcqRel, true, true, false),
        row(TwoPlusTwoW, SeqCst, false, true, false),
        row(TwoPlusTwoW, Fenced, false, false, false),
        row(CoRR, Relaxed, false, false, false),
        row(CoRR, AcqRel, false, false, false),
        row(CoRR, SeqCst, false, false, false),
        row(CoRR, Fenced, false, false, false),
    ]
};
// ANCHOR_END: table

/// The row of [`TABLE`] for `test` under `mode`.
pub fn row_of(test: Test, mode: Mode) -> Row {
    *TABLE
        .iter()
        .find(|r| r.test == test && r.mode == mode)
        .expect("every test × mode has a row")
}

/// A barrier on one counter that only grows: round `i` starts when all `n` threads have
/// arrived `i + 1` times. Spinning keeps the threads' start times within a cache-line
/// transfer of each other, which is what lets their accesses overlap. With more threads
/// than cores (IRIW on 2 cores) a spinning waiter would only keep the thread it waits for
/// off its core, so then it yields at once.
struct Barrier {
    arrived: AtomicUsize,
    n: usize,
    spins: u32,
}

impl Barrier {
    fn new(n: usize) -> Barrier {
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        Barrier {
            arrived: AtomicUsize::new(0),
            n,
            spins: if n <= cores { 10_000 } else { 0 },
        }
    }

    fn wait(&self, round: usize) {
        self.arrived.fetch_add(1, Ordering::SeqCst);
        let target = self.n * (round + 1);
        let mut spins = 0;
        while self.arrived.load(Ordering::SeqCst) < target {
            if spins < self.spins {
                spins += 1;
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

/// Runs `test` under `mode` `rounds` times on real threads and counts each outcome.
///
/// Every round uses fresh, zeroed locations (round `i` uses the `i`th cell of each
/// location's array), so no round needs resetting and the threads meet only once per round,
/// at the barrier; the outcomes are put together after all threads have been joined.
pub fn stress(test: Test, mode: Mode, rounds: usize) -> BTreeMap<Outcome, u64> {
    let cells: Vec<Vec<AtomicU32>> = (0..test.locations())
        .map(|_| (0..rounds).map(|_| AtomicU32::new(0)).collect())
        .collect();
    let barrier = Barrier::new(test.threads());
    let regs: Vec<Vec<Regs>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..test.threads())
            .map(|t| {
                let (cells, barrier) = (&cells, &barrier);
                s.spawn(move || {
                    let mut out = Vec::with_capacity(rounds);
                    // CoRR's one location is both x and y here; it uses only x.
                    let (xs, ys) = (&cells[0], &cells[cells.len() - 1]);
                    for (i, (x, y)) in xs.iter().zip(ys).enumerate() {
                        let loc = [x, y];
                        barrier.wait(i);
                        out.push(test.thread(t, &loc[..test.locations()], mode));
                    }
                    out
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut counts = BTreeMap::new();
    for i in 0..rounds {
        let r: Vec<Regs> = regs.iter().map(|t| t[i]).collect();
        let finals: Vec<u32> = cells.iter().map(|c| c[i].load(Ordering::Relaxed)).collect();
        *counts.entry(test.outcome(&r, &finals)).or_insert(0) += 1;
    }
    counts
}

/// How many rounds of store buffering go/sbatomic runs, and so the oracle.
pub const SB_ROUNDS: usize = 200_000;

// ANCHOR: sbatomic
/// The line go/sbatomic prints: whether store buffering with sequentially consistent
/// atomics (Go's sync/atomic, Rust's `SeqCst`) ever ended with both loads reading 0.
pub fn sb_property(rounds: usize, both_zero: u64) -> String {
    if both_zero == 0 {
        format!("store buffering, {rounds} rounds on 2 threads: 0/0 never seen")
    } else {
        format!("store buffering, {rounds} rounds on 2 threads: 0/0 seen {both_zero} times")
    }
}
// ANCHOR_END: sbatomic

/// The crate's answer for a program of `go/` (see examples/oracle.rs): for `sbatomic`, the
/// same store-buffering experiment with `SeqCst` atomics on two threads; `None` for other
/// programs.
pub fn oracle(name: &str, _input: &str) -> Option<String> {
    if name != "sbatomic" {
        return None;
    }
    let counts = stress(Test::Sb, Mode::SeqCst, SB_ROUNDS);
    let zero = counts.get(&Test::Sb.weak()).copied().unwrap_or(0);
    Some(sb_property(SB_ROUNDS, zero) + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each thread alone, in turn, in both orders: the sequential outcomes, which checks that
    /// every test is written as the docs say (and is all miri needs to run).
    #[test]
    fn litmus_sequential_outcomes() {
        for test in Test::ALL {
            for mode in Mode::ALL {
                for order in [false, true] {
                    let cells: Vec<AtomicU32> = (0..2).map(|_| AtomicU32::new(0)).collect();
                    let loc: Vec<&AtomicU32> = cells.iter().take(test.locations()).collect();
                    let mut regs = [[0; 2]; 4];
                    let mut ts: Vec<usize> = (0..test.threads()).collect();
                    if order {
                        ts.reverse();
                    }
                    for t in ts {
                        regs[t] = test.thread(t, &loc, mode);
                    }
                    let finals: Vec<u32> = cells.iter().map(|c| c.load(Ordering::SeqCst)).collect();
                    let got = test.outcome(&regs[..test.threads()], &finals);
                    let want: Outcome = match (test, order) {
                        (Test::Mp, false) => [1, 1, 0, 0],
                        (Test::Mp, true) => [0, 0, 0, 0],
                        (Test::Sb, false) => [0, 1, 0, 0],
                        (Test::Sb, true) => [1, 0, 0, 0],
                        (Test::Lb, false) => [0, 1, 0, 0],
                        (Test::Lb, true) => [1, 0, 0, 0],
                        (Test::Iriw, false) => [1, 1, 1, 1],
                        (Test::Iriw, true) => [0, 0, 0, 0],
                        (Test::TwoPlusTwoW, false) => [2, 1, 0, 0],
                        (Test::TwoPlusTwoW, true) => [1, 2, 0, 0],
                        (Test::CoRR, false) => [1, 1, 0, 0],
                        (Test::CoRR, true) => [0, 0, 0, 0],
                    };
                    assert_eq!(got, want, "{} {} order {order}", test.name(), mode.name());
                    assert_ne!(got, test.weak());
                }
            }
        }
    }

    #[test]
    fn litmus_table_is_complete_and_consistent() {
        assert_eq!(TABLE.len(), Test::ALL.len() * Mode::ALL.len());
        for test in Test::ALL {
            for mode in Mode::ALL {
                let r = row_of(test, mode);
                // Hardware that shows a forbidden outcome would be a bug in the test (or the
                // compiler): what amd64 shows, the model allows.
                assert!(r.allowed || !r.amd64, "{test:?} {mode:?}");
            }
        }
        assert_eq!(
            TABLE
                .iter()
                .filter(|r| r.test == Test::CoRR && (r.allowed || r.loom))
                .count(),
            0,
            "coherence holds for every ordering"
        );
    }

    /// An aarch64 build running under qemu-user on an x86 host (the aarch64 CI stage): the
    /// host's /proc/cpuinfo shows through. qemu translates STLR;LDAR without a store→load
    /// fence, so SB with SeqCst shows 0/0 there, which real Arm hardware never does.
    fn emulated_arm() -> bool {
        cfg!(target_arch = "aarch64")
            && std::fs::read_to_string("/proc/cpuinfo").is_ok_and(|c| c.contains("vendor_id"))
    }

    /// On real threads, outcomes that the model forbids never turn up (a short run: seeing
    /// what it *allows* depends on timing, so that is only printed by examples/litmus.rs).
    /// Not under qemu, whose translation is not Arm's memory model (see `emulated_arm`).
    #[test]
    #[cfg_attr(miri, ignore)]
    fn litmus_forbidden_outcomes_never_seen_on_hardware() {
        if emulated_arm() {
            eprintln!("skipped: an aarch64 build under qemu-user runs on the host's memory model");
            return;
        }
        for r in TABLE.iter().filter(|r| !r.allowed) {
            let rounds = if r.test.threads() > 2 { 2_000 } else { 20_000 };
            let counts = stress(r.test, r.mode, rounds);
            assert_eq!(counts.values().sum::<u64>(), rounds as u64);
            assert_eq!(
                counts.get(&r.test.weak()),
                None,
                "{} {}: {counts:?}",
                r.test.name(),
                r.mode.name()
            );
        }
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn litmus_oracle_prints_the_golden_line() {
        assert_eq!(
            oracle("sbatomic", "").as_deref(),
            Some(include_str!("../golden/sbatomic.txt"))
        );
        assert_eq!(oracle("races", ""), None);
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use loom::sync::atomic::AtomicU32 as LoomU32;
    use loom::sync::Arc;
    use std::collections::BTreeSet;
    use std::sync::Mutex;

    /// Every outcome of `test` under `mode` that loom explores. The set lives outside the
    /// model (a std Mutex, not loom's): loom runs the closure once per execution and
    /// forgets its own objects in between.
    fn explore(test: Test, mode: Mode) -> BTreeSet<Outcome> {
        let seen = std::sync::Arc::new(Mutex::new(BTreeSet::new()));
        let out = seen.clone();
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(3);
        b.check(move || {
            let cells: Arc<Vec<LoomU32>> =
                Arc::new((0..test.locations()).map(|_| LoomU32::new(0)).collect());
            let others: Vec<_> = (1..test.threads())
                .map(|t| {
                    let cells = cells.clone();
                    loom::thread::spawn(move || {
                        let loc: Vec<&LoomU32> = cells.iter().collect();
                        test.thread(t, &loc, mode)
                    })
                })
                .collect();
            let loc: Vec<&LoomU32> = cells.iter().collect();
            let mut regs = vec![test.thread(0, &loc, mode)];
            regs.extend(others.into_iter().map(|h| h.join().unwrap()));
            let finals: Vec<u32> = cells.iter().map(|c| c.load(Ordering::SeqCst)).collect();
            seen.lock().unwrap().insert(test.outcome(&regs, &finals));
        });
        let set = out.lock().unwrap().clone();
        set
    }

    /// Asserts loom's outcomes under each mode: `base` always, plus the weak outcome where
    /// [`TABLE`] says loom shows it.
    fn check(test: Test, base: &[Outcome]) {
        for mode in Mode::ALL {
            let got = explore(test, mode);
            let mut want: BTreeSet<Outcome> = base.iter().copied().collect();
            if row_of(test, mode).loom {
                want.insert(test.weak());
            }
            let shown: Vec<String> = got.iter().map(|o| test.show(o)).collect();
            eprintln!("loom {} {}: {}", test.name(), mode.name(), shown.join(", "));
            assert_eq!(got, want, "{} {}", test.name(), mode.name());
        }
    }

    #[test]
    fn loom_mp() {
        check(Test::Mp, &[[0, 0, 0, 0], [0, 1, 0, 0], [1, 1, 0, 0]]);
    }

    // ANCHOR: loom_sb
    /// SB under loom: 0/0 with Relaxed and Acquire/Release, as the model allows — and with
    /// SeqCst accesses too, which the model forbids: loom treats them as Acquire/Release.
    /// With relaxed accesses and `fence(SeqCst)` between them loom is exact: never 0/0.
    #[test]
    fn loom_sb() {
        let sc = [[0, 1, 0, 0], [1, 0, 0, 0], [1, 1, 0, 0]];
        let weak = Test::Sb.weak();
        let relaxed = explore(Test::Sb, Mode::Relaxed);
        assert!(relaxed.contains(&weak));
        let seqcst = explore(Test::Sb, Mode::SeqCst);
        assert!(seqcst.contains(&weak), "loom is weaker than SeqCst here");
        let fenced = explore(Test::Sb, Mode::Fenced);
        assert_eq!(fenced, sc.into_iter().collect());
        check(Test::Sb, &sc);
    }
    // ANCHOR_END: loom_sb

    #[test]
    fn loom_lb() {
        check(Test::Lb, &[[0, 0, 0, 0], [0, 1, 0, 0], [1, 0, 0, 0]]);
    }

    #[test]
    fn loom_iriw() {
        // Every one of the 16 combinations but the weak one comes from some interleaving.
        let base: Vec<Outcome> = (0..16u32)
            .map(|b| [b & 1, (b >> 1) & 1, (b >> 2) & 1, (b >> 3) & 1])
            .filter(|o| *o != Test::Iriw.weak())
            .collect();
        check(Test::Iriw, &base);
    }

    #[test]
    fn loom_2_2w() {
        check(
            Test::TwoPlusTwoW,
            &[[2, 1, 0, 0], [1, 2, 0, 0], [2, 2, 0, 0]],
        );
    }

    #[test]
    fn loom_corr() {
        check(Test::CoRR, &[[0, 0, 0, 0], [0, 1, 0, 0], [1, 1, 0, 0]]);
    }
}
