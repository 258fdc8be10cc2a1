//! Copying stacks: how a goroutine's stack grows, and shrinks, by moving.
//!
//! Go: runtime/stack.go (`newstack`, `copystack`, `adjustframe`, `adjustpointers`,
//! `shrinkstack`, `gcComputeStartingStackSize`) and the prologue that `stacksplit`
//! (cmd/internal/obj/x86/obj6.go) puts in front of every function that is not NOSPLIT.
//!
//! A goroutine starts on a 2 KiB stack. When a function's prologue finds too little room, the
//! runtime allocates a stack twice the size, copies the used part over and fixes every pointer
//! into the old stack. It can do that only because the compiler emits, for every safe point, a
//! bitmap of the stack words that hold pointers (the stack maps). Rust frames carry no such maps,
//! so this crate's real goroutines run on fixed mmapped stacks; this module replays Go's
//! algorithm on a simulated address space instead, with frames described the way the compiler
//! describes them (a size and a pointer bitmap), so that each step can be tested.
//!
//! The model keeps the stack pointer in `sched.sp` at all times (Go saves it there only when a
//! goroutine stops running). Frames use the amd64 layout with frame pointers:
//!
//! ```text
//!     +--------------------+ <- fp = argp (the caller's SP before its CALL)
//!     |   return address   |
//!     +--------------------+
//!     |   caller's BP      |    saved frame pointer: a pointer into the stack
//!     +--------------------+ <- varp (this frame's BP)
//!     |   locals, n words  |    described by the function's pointer bitmap
//!     +--------------------+ <- sp
//! ```
//!
//! Left out: defer and panic records, the closure context register, argument maps (arguments are
//! the caller's locals here), stack objects, and the CAS that real concurrency needs.

use std::fmt;
use std::sync::{Mutex, PoisonError};

/// Go: `goarch.PtrSize` on amd64.
pub const PTR_SIZE: u64 = 8;

/// Go: `stackSystem`: room below the guard for the OS; only Windows, Plan 9 and iOS need it.
pub const STACK_SYSTEM: u64 = 0;

/// Go: `stackMin`: the smallest stack Go code runs on.
pub const STACK_MIN: u64 = 2048;

/// Go: `fixedStack`: `stackMin + stackSystem` rounded up to a power of 2; 2048 on Linux.
pub const FIXED_STACK: u64 = round_up_pow2(STACK_MIN + STACK_SYSTEM);

/// Go: `sys.StackGuardMultiplier`: 1 on linux/amd64 (2 with `-race`, or on AIX and OpenBSD).
pub const STACK_GUARD_MULTIPLIER: u64 = 1;

/// Go: `stackNosplit` = `abi.StackNosplitBase` (800) × the multiplier: what a chain of NOSPLIT
/// functions, which never check, may use below the guard. The linker proves the bound.
pub const STACK_NOSPLIT: u64 = 800 * STACK_GUARD_MULTIPLIER;

/// Go: `abi.StackSmall`: frames this small may end up to this far below the guard, which lets
/// their prologue compare SP itself.
pub const STACK_SMALL: u64 = 128;

/// Go: `abi.StackBig`: up to this frame size `SP - framesize` cannot wrap around, because the
/// unmapped region at address 0 is at least this large.
pub const STACK_BIG: u64 = 4096;

/// Go: `stackGuard`: how far above `stack.lo` the guard sits: 800 + 0 + 128 = 928.
pub const STACK_GUARD: u64 = STACK_NOSPLIT + STACK_SYSTEM + STACK_SMALL;

/// Go: `stackPreempt` (`uintptrMask & -1314`): above any real SP, so the next prologue fails.
pub const STACK_PREEMPT: u64 = -1314i64 as u64;

/// Go: `stackForceMove` (`uintptrMask & -275`): a debugging request to move without growing.
pub const STACK_FORCE_MOVE: u64 = -275i64 as u64;

/// Go: `maxstacksize` on 64-bit, as `runtime.main` sets it (proc.go). Decimal, so that the
/// overflow message reads well.
pub const MAX_STACKSIZE: u64 = 1_000_000_000;

/// Go: `maxstackceiling` = 2 × `maxstacksize`: bounds what `debug.SetMaxStack` can allow.
pub const MAX_STACKCEILING: u64 = 2 * MAX_STACKSIZE;

/// Go: `minLegalPointer` (malloc.go): nothing is ever allocated in the first page.
pub const MIN_LEGAL_POINTER: u64 = 4096;

/// The smallest power of 2 that is at least `x`, by smearing the high bit right, as Go's
/// `fixedStack0..fixedStack6` constants do.
const fn round_up_pow2(x: u64) -> u64 {
    let mut v = x - 1;
    v |= v >> 1;
    v |= v >> 2;
    v |= v >> 4;
    v |= v >> 8;
    v |= v >> 16;
    v |= v >> 32;
    v + 1
}

/// A stack's bounds: it occupies `[lo, hi)` and grows down from `hi`.
///
/// Go: `runtime.stack` (runtime2.go).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stack {
    pub lo: u64,
    pub hi: u64,
}

impl Stack {
    /// The size in bytes.
    pub fn size(&self) -> u64 {
        self.hi - self.lo
    }
}

/// The memory of one stack in the simulated address space, one `u64` per word.
#[derive(Debug)]
pub struct SimStack {
    pub lo: u64,
    pub hi: u64,
    words: Vec<u64>,
}

impl SimStack {
    fn index(&self, addr: u64) -> usize {
        assert!(
            (self.lo..self.hi).contains(&addr) && addr.is_multiple_of(PTR_SIZE),
            "fault: address {addr:#x} is not a word of stack [{:#x}, {:#x})",
            self.lo,
            self.hi
        );
        ((addr - self.lo) / PTR_SIZE) as usize
    }

    /// The word at `addr`; panics like a fault outside the stack.
    pub fn read(&self, addr: u64) -> u64 {
        self.words[self.index(addr)]
    }

    /// Stores `v` at `addr`; panics like a fault outside the stack.
    pub fn write(&mut self, addr: u64, v: u64) {
        let i = self.index(addr);
        self.words[i] = v;
    }

    /// The bounds.
    pub fn bounds(&self) -> Stack {
        Stack {
            lo: self.lo,
            hi: self.hi,
        }
    }
}

/// The next free simulated address. Stacks start where Go's heap arenas start on amd64 and are
/// never reused, so a stale pointer into a freed stack faults instead of reading another one.
static NEXT_STACK: Mutex<u64> = Mutex::new(0x00c0_0000_0000);

/// Allocates an `n`-byte stack at fresh, `n`-aligned addresses.
///
/// Go: `runtime.stackalloc` (stack.go); only its size rule is modelled, not the pools.
pub fn stackalloc(n: u64) -> SimStack {
    assert!(n.is_power_of_two(), "stack size not a power of 2");
    let mut next = NEXT_STACK.lock().unwrap_or_else(PoisonError::into_inner);
    let lo = next.next_multiple_of(n);
    *next = lo + n;
    SimStack {
        lo,
        hi: lo + n,
        words: vec![0; (n / PTR_SIZE) as usize],
    }
}

/// Returns a stack; its addresses stay unmapped.
///
/// Go: `runtime.stackfree` (stack.go).
pub fn stackfree(stk: SimStack) {
    drop(stk);
}

/// A pointer bitmap over consecutive words: bit `i` set means word `i` holds a pointer.
///
/// Go: `runtime.bitvector` (stack.go), as the compiler emits it for each safe point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitVector {
    pub n: u32,
    pub bytedata: Vec<u8>,
}

impl BitVector {
    /// A bitmap with one bit per entry of `ptrs`.
    pub fn from_bools(ptrs: &[bool]) -> BitVector {
        let mut bytedata = vec![0u8; ptrs.len().div_ceil(8)];
        for (i, _) in ptrs.iter().enumerate().filter(|(_, &p)| p) {
            bytedata[i / 8] |= 1 << (i % 8);
        }
        BitVector {
            n: ptrs.len() as u32,
            bytedata,
        }
    }

    /// Bit `i`. Go: `bitvector.ptrbit`.
    pub fn ptrbit(&self, i: u32) -> u8 {
        (self.bytedata[(i / 8) as usize] >> (i % 8)) & 1
    }
}

/// What the runtime knows about a function: its name and the stack map of its locals.
///
/// Go: `funcInfo` plus the `locals` bitvector `stkframe.getStackMap` finds for it. One map per
/// function suffices here, as if every safe point of the function had the same live pointers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncInfo {
    pub name: &'static str,
    pub locals: BitVector,
}

impl FuncInfo {
    /// A function with `ptrs.len()` words of locals, `ptrs[i]` telling whether word `i`
    /// (counted up from the frame's SP) holds a pointer.
    pub fn new(name: &'static str, ptrs: &[bool]) -> FuncInfo {
        FuncInfo {
            name,
            locals: BitVector::from_bools(ptrs),
        }
    }

    /// The bytes the prologue reserves: the locals and the saved frame pointer.
    ///
    /// Go: `funcMaxSPDelta`, which is what `stacksplit` gets as `framesize` (the return address
    /// was pushed by the caller's CALL and is not part of it).
    pub fn frame_size(&self) -> u64 {
        (self.locals.n as u64 + 1) * PTR_SIZE
    }
}

/// One activation on the simulated stack.
#[derive(Debug, Clone)]
pub struct Frame {
    pub func: FuncInfo,
    /// False while the function is in its prologue: its return address is pushed but its frame
    /// is not yet allocated, which is where `morestack` finds it.
    pub entered: bool,
}

/// A frame as the unwinder computes it from SP and the frame size.
///
/// Go: `runtime.stkframe` (stkframe.go): `sp`, `fp`, `varp`, `argp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StkFrame {
    /// Index into [`G::frames`] (0 is the outermost).
    pub depth: usize,
    pub sp: u64,
    pub fp: u64,
    pub varp: u64,
    pub argp: u64,
}

/// A goroutine blocked on a channel: `elem` may point into its own stack, where the value is
/// received from or sent to.
///
/// Go: `runtime.sudog` (runtime2.go), the fields `copystack` reads (`elemsize` is the channel's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sudog {
    pub elem: u64,
    pub elemsize: u64,
}

/// The saved registers of a goroutine.
///
/// Go: `runtime.gobuf` (runtime2.go), `sp` and `bp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gobuf {
    pub sp: u64,
    pub bp: u64,
}

/// A simulated goroutine: a stack, its registers and the frames on it.
///
/// Go: `runtime.g` (runtime2.go), the fields stack growth touches.
#[derive(Debug)]
pub struct G {
    pub stack: Stack,
    /// Compared with SP in every prologue: `stack.lo + STACK_GUARD`, or [`STACK_PREEMPT`].
    pub stackguard0: u64,
    pub sched: Gobuf,
    /// Non-zero while in a system call (Go: the SP `entersyscall` saved).
    pub syscallsp: u64,
    /// Stopped at an asynchronous safe point, where the innermost frames have no exact maps.
    pub async_safe_point: bool,
    /// Between `gopark` on a channel and `activeStackChans` being set.
    pub parking_on_chan: bool,
    /// Other goroutines may write into this stack through our sudogs (a channel op is parked).
    pub active_stack_chans: bool,
    /// In `_Gwaiting` only so that `suspendG` can take its stack (it runs on the system stack).
    pub waiting_for_suspend_g: bool,
    /// A shrink the GC could not do; done at the next synchronous safe point.
    pub preempt_shrink: bool,
    /// The sudogs this goroutine waits on (Go: the `waiting` list).
    pub waiting: Vec<Sudog>,
    /// The frames, outermost first.
    pub frames: Vec<Frame>,
    /// How often this goroutine yielded to a preemption request (Go: `gopreempt_m`).
    pub preempted: u32,
    /// Go: the global `maxstacksize`, which `debug.SetMaxStack` changes; per goroutine here so
    /// that tests do not share it.
    pub maxstacksize: u64,
    /// Go: `GODEBUG=gcshrinkstackoff=1` (the global `debug.gcshrinkstackoff`).
    pub gcshrinkstackoff: bool,
    mem: SimStack,
}

/// The return address every simulated CALL pushes: a code address, never a stack one.
pub const RETURN_PC: u64 = 0x0040_1000;

impl G {
    /// A goroutine with a fresh stack of `stacksize` bytes (rounded up to a power of 2).
    ///
    /// Go: `runtime.malg` (proc.go), then `newproc1`, which leaves 4 words at the top.
    pub fn new(stacksize: u64) -> G {
        let mem = stackalloc(round2(STACK_SYSTEM + stacksize));
        let stack = mem.bounds();
        G {
            stack,
            stackguard0: stack.lo + STACK_GUARD,
            sched: Gobuf {
                sp: stack.hi - 4 * PTR_SIZE,
                bp: 0,
            },
            syscallsp: 0,
            async_safe_point: false,
            parking_on_chan: false,
            active_stack_chans: false,
            waiting_for_suspend_g: false,
            preempt_shrink: false,
            waiting: Vec::new(),
            frames: Vec::new(),
            preempted: 0,
            maxstacksize: MAX_STACKSIZE,
            gcshrinkstackoff: false,
            mem,
        }
    }

    /// Reads a word of this goroutine's stack; faults outside it.
    pub fn load(&self, addr: u64) -> u64 {
        self.mem.read(addr)
    }

    /// Writes a word of this goroutine's stack; faults outside it.
    pub fn store(&mut self, addr: u64, v: u64) {
        self.mem.write(addr, v)
    }

    /// Calls `f`: CALL pushes the return address, the prologue checks the guard (growing the
    /// stack as often as `morestack` says so), then the frame is built with zeroed locals.
    pub fn call(&mut self, f: &FuncInfo) -> Result<(), StackOverflow> {
        self.sched.sp -= PTR_SIZE;
        self.store(self.sched.sp, RETURN_PC);
        self.frames.push(Frame {
            func: f.clone(),
            entered: false,
        });
        // The prologue; morestack returns to its start.
        while morestack_check(self.sched.sp, f.frame_size(), self.stackguard0) {
            newstack(self)?;
        }
        self.sched.sp -= PTR_SIZE;
        self.store(self.sched.sp, self.sched.bp);
        self.sched.bp = self.sched.sp;
        for _ in 0..f.locals.n {
            self.sched.sp -= PTR_SIZE;
            self.store(self.sched.sp, 0);
        }
        self.frames.last_mut().expect("just pushed").entered = true;
        Ok(())
    }

    /// Returns from the innermost function: drop its locals, restore BP, pop the return address.
    pub fn ret(&mut self) {
        let frame = self.frames.pop().expect("ret with no frame");
        assert!(frame.entered, "ret from a function still in its prologue");
        self.sched.sp = self.sched.bp;
        self.sched.bp = self.load(self.sched.sp);
        self.sched.sp += 2 * PTR_SIZE;
    }

    /// The frames as the unwinder sees them, innermost first.
    ///
    /// Go: `runtime.unwinder` (traceback.go): `fp = sp + spdelta + PtrSize` (the return address),
    /// `varp = fp - PtrSize`, one more word down if the frame saved BP, and `argp = fp`.
    pub fn unwinder(&self) -> impl Iterator<Item = StkFrame> + '_ {
        let mut sp = self.sched.sp;
        self.frames.iter().enumerate().rev().map(move |(depth, f)| {
            let spdelta = if f.entered { f.func.frame_size() } else { 0 };
            let fp = sp + spdelta + PTR_SIZE;
            let mut varp = fp - PTR_SIZE;
            if varp > sp {
                varp -= PTR_SIZE;
            }
            let frame = StkFrame {
                depth,
                sp,
                fp,
                varp,
                argp: fp,
            };
            sp = fp;
            frame
        })
    }

    /// All frames, innermost first.
    pub fn unwind(&self) -> Vec<StkFrame> {
        self.unwinder().collect()
    }

    /// Where a frame's locals start (its word 0).
    fn locals_base(&self, fr: &StkFrame) -> u64 {
        fr.varp - self.frames[fr.depth].func.locals.n as u64 * PTR_SIZE
    }

    /// Where each frame's locals start, outermost frame first.
    pub fn locals_bases(&self) -> Vec<u64> {
        let mut bases = vec![0; self.frames.len()];
        for fr in self.unwinder() {
            bases[fr.depth] = self.locals_base(&fr);
        }
        bases
    }

    /// The address of local word `i` of the frame at `depth` (0 is the outermost). Unwinds from
    /// the innermost frame, so frames near the top are cheap to reach.
    pub fn local_addr(&self, depth: usize, i: usize) -> u64 {
        assert!(i < self.frames[depth].func.locals.n as usize);
        let fr = self
            .unwinder()
            .find(|fr| fr.depth == depth)
            .expect("depth < frames.len()");
        self.locals_base(&fr) + i as u64 * PTR_SIZE
    }

    /// The frame pointers from `sched.bp` outwards, following the saved-BP links.
    pub fn frame_pointer_chain(&self) -> Vec<u64> {
        let mut chain = Vec::new();
        let mut bp = self.sched.bp;
        while bp != 0 {
            chain.push(bp);
            bp = self.load(bp);
        }
        chain
    }
}

// ANCHOR: morestack_check
/// Whether a function's prologue calls `morestack`, given SP on entry (just below the return
/// address), its frame size and `g.stackguard0`. All comparisons are unsigned.
///
/// Go: the three sequences `stacksplit` emits (cmd/internal/obj/x86/obj6.go), each ending in
/// `JLS morestack`:
/// - `framesize <= StackSmall`: `CMPQ SP, stackguard0`. The frame may end up to StackSmall bytes
///   below the guard, which the guard's StackSmall bytes of slack allow.
/// - `framesize <= StackBig`: `LEAQ -(framesize-StackSmall)(SP), tmp; CMPQ tmp, stackguard0`.
/// - larger: the same subtraction with `SUBQ`, plus `JCS morestack` if it borrowed, because a
///   huge frame could wrap SP around below 0 and compare as a huge, safe-looking address.
///
/// A preemption request sets `stackguard0` to [`STACK_PREEMPT`], above every SP: every check
/// then fails and the goroutine enters the runtime at its next call.
pub fn morestack_check(sp: u64, framesize: u64, stackguard0: u64) -> bool {
    if framesize <= STACK_SMALL {
        sp <= stackguard0
    } else if framesize <= STACK_BIG {
        sp.wrapping_sub(framesize - STACK_SMALL) <= stackguard0
    } else {
        match sp.checked_sub(framesize - STACK_SMALL) {
            None => true,
            Some(tmp) => tmp <= stackguard0,
        }
    }
}
// ANCHOR_END: morestack_check

/// Go's fatal stack overflow, with the lines `newstack` prints before it throws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackOverflow {
    /// The smaller of `maxstacksize` and `maxstackceiling`.
    pub limit: u64,
    /// SP as `newstack` prints it: one word below `sched.sp`, the call to morestack's cost.
    pub sp: u64,
    pub stack: Stack,
}

impl fmt::Display for StackOverflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "runtime: goroutine stack exceeds {}-byte limit",
            self.limit
        )?;
        writeln!(
            f,
            "runtime: sp={:#x} stack=[{:#x}, {:#x}]",
            self.sp, self.stack.lo, self.stack.hi
        )?;
        write!(f, "fatal error: stack overflow")
    }
}

impl std::error::Error for StackOverflow {}

// ANCHOR: newstack_size
/// The size of the stack `newstack` moves to: double the old one, and keep doubling until the
/// function that asked (`framesize` bytes) fits above the guard. Past the limit, Go throws.
///
/// Go: the sizing part of `runtime.newstack` (stack.go); `framesize` is
/// `funcMaxSPDelta(findfunc(gp.sched.pc))`, `sched_sp` is SP on entry to that function.
pub fn newstack_size(
    old: Stack,
    sched_sp: u64,
    framesize: u64,
    stackguard0: u64,
    maxstacksize: u64,
) -> Result<u64, StackOverflow> {
    let oldsize = old.hi - old.lo;
    let mut newsize = oldsize * 2;

    // Growth is multiplicative, so the copies cost amortized O(1) per byte of stack used.
    let needed = framesize + STACK_GUARD;
    let used = old.hi - sched_sp;
    while newsize - used < needed {
        newsize *= 2;
    }

    if stackguard0 == STACK_FORCE_MOVE {
        // A debugging move: same size, or repeated moves would soon exhaust memory.
        newsize = oldsize;
    }

    if newsize > maxstacksize || newsize > MAX_STACKCEILING {
        return Err(StackOverflow {
            limit: maxstacksize.min(MAX_STACKCEILING),
            sp: sched_sp - PTR_SIZE,
            stack: old,
        });
    }
    Ok(newsize)
}
// ANCHOR_END: newstack_size

/// What `newstack` did for a prologue that failed its check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewStack {
    /// The stack moved to one of the given size.
    Grew { from: u64, to: u64 },
    /// `stackguard0` held a preemption request: the goroutine yielded instead; its stack did
    /// not grow, and the prologue runs again when it is rescheduled.
    Preempted,
}

/// Called from `morestack` when a prologue fails: either a preemption request or a real need
/// for more stack.
///
/// Go: `runtime.newstack` (stack.go). The pending function is the innermost frame, not yet
/// entered (Go finds it from `gp.sched.pc`).
pub fn newstack(gp: &mut G) -> Result<NewStack, StackOverflow> {
    // Read once: another thread may write a preemption request at any time.
    let stackguard0 = gp.stackguard0;
    let preempt = stackguard0 == STACK_PREEMPT;

    let sp = gp.sched.sp - PTR_SIZE;
    if sp < gp.stack.lo {
        panic!(
            "runtime: split stack overflow: {sp:#x} < {:#x}",
            gp.stack.lo
        );
    }

    if preempt {
        if gp.preempt_shrink {
            // A synchronous safe point: every frame has exact maps, so the GC's deferred
            // shrink can happen now.
            gp.preempt_shrink = false;
            shrinkstack(gp);
        }
        // Go: gopreempt_m. When the scheduler runs the goroutine again, `execute` clears the
        // request by resetting the guard.
        gp.preempted += 1;
        gp.stackguard0 = gp.stack.lo + STACK_GUARD;
        return Ok(NewStack::Preempted);
    }

    let framesize = gp.frames.last().map_or(0, |f| f.func.frame_size());
    let from = gp.stack.size();
    let to = newstack_size(
        gp.stack,
        gp.sched.sp,
        framesize,
        stackguard0,
        gp.maxstacksize,
    )?;
    copystack(gp, to);
    Ok(NewStack::Grew { from, to })
}

/// What `copystack` needs to move pointers: the old bounds and the distance moved.
///
/// Go: `runtime.adjustinfo` (stack.go).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdjustInfo {
    pub old: Stack,
    /// `new.hi - old.hi`, wrapping: the stacks are aligned at their tops.
    pub delta: u64,
    /// The highest sudog `elem` end in the stack, when other goroutines may write there.
    pub sghi: u64,
}

/// Moves `*vpp` by `delta` if it points into the old stack.
///
/// Go: `runtime.adjustpointer` (stack.go): used for the words outside any bitmap that are known
/// to be pointers (saved frame pointers, `sched.bp`, sudog elems).
pub fn adjustpointer(adjinfo: &AdjustInfo, vpp: &mut u64) {
    let p = *vpp;
    if (adjinfo.old.lo..adjinfo.old.hi).contains(&p) {
        *vpp = p.wrapping_add(adjinfo.delta);
    }
}

// ANCHOR: adjustpointers
/// Adjusts the words at `scanp..` that `bv` marks as pointers, in the new stack `mem`: those
/// pointing into the old stack move by `delta`; heap pointers and nil stay as they are. Words
/// not marked are never touched, whatever their value.
///
/// Go: `runtime.adjustpointers` (stack.go), which walks the bitmap a byte at a time and visits
/// only the set bits. Go adjusts with a CAS below `adjinfo.sghi`, where a channel peer may write
/// concurrently; here nothing runs concurrently, and a plain store is what the CAS does.
pub fn adjustpointers(mem: &mut SimStack, scanp: u64, bv: &BitVector, adjinfo: &AdjustInfo) {
    // ANCHOR: solution-adjustpointers
    let minp = adjinfo.old.lo;
    let maxp = adjinfo.old.hi;
    let delta = adjinfo.delta;
    let num = bv.n as u64;
    for i in (0..num).step_by(8) {
        let mut b = bv.bytedata[(i / 8) as usize];
        while b != 0 {
            let j = b.trailing_zeros() as u64;
            b &= b - 1;
            let pp = scanp + (i + j) * PTR_SIZE;
            let p = mem.read(pp);
            if 0 < p && p < MIN_LEGAL_POINTER {
                // A pointer slot holding junk: the liveness analysis was wrong.
                panic!("invalid pointer found on stack: {p:#x} at {pp:#x}");
            }
            if (minp..maxp).contains(&p) {
                mem.write(pp, p.wrapping_add(delta));
            }
        }
    }
    // ANCHOR_END: solution-adjustpointers
}
// ANCHOR_END: adjustpointers

/// Adjusts one frame in the new stack: the saved frame pointer, then the locals by their map.
///
/// Go: `runtime.adjustframe` (stack.go). A saved BP exists when `argp - varp` is two words
/// (return address and BP). A function stopped in its prologue has `varp == sp`: no locals yet.
fn adjustframe(mem: &mut SimStack, frame: &StkFrame, f: &FuncInfo, adjinfo: &AdjustInfo) {
    if frame.argp - frame.varp == 2 * PTR_SIZE {
        let mut bp = mem.read(frame.varp);
        adjustpointer(adjinfo, &mut bp);
        mem.write(frame.varp, bp);
    }
    if frame.varp > frame.sp && f.locals.n > 0 {
        let size = f.locals.n as u64 * PTR_SIZE;
        adjustpointers(mem, frame.varp - size, &f.locals, adjinfo);
    }
}

/// Adjusts the registers saved in `gp.sched` that may point into the stack.
///
/// Go: `runtime.adjustctxt` (stack.go); only `sched.bp` is modelled.
fn adjustctxt(gp: &mut G, adjinfo: &AdjustInfo) {
    adjustpointer(adjinfo, &mut gp.sched.bp);
}

/// Points every sudog's `elem` at the new stack.
///
/// Go: `runtime.adjustsudogs` (stack.go).
fn adjustsudogs(gp: &mut G, adjinfo: &AdjustInfo) {
    for s in &mut gp.waiting {
        adjustpointer(adjinfo, &mut s.elem);
    }
}

/// The highest end of a sudog `elem` inside `stk`, 0 if none.
///
/// Go: `runtime.findsghi` (stack.go).
fn findsghi(gp: &G, stk: Stack) -> u64 {
    let mut sghi = 0;
    for sg in &gp.waiting {
        let p = sg.elem + sg.elemsize;
        if (stk.lo..stk.hi).contains(&p) && p > sghi {
            sghi = p;
        }
    }
    sghi
}

/// Copies `n` bytes of stack from `src` at `from` to `dst` at `to`.
fn memmove(dst: &mut SimStack, to: u64, src: &SimStack, from: u64, n: u64) {
    for off in (0..n).step_by(PTR_SIZE as usize) {
        dst.write(to + off, src.read(from + off));
    }
}

/// Adjusts the sudogs and copies the stack up to `sghi` while holding the channels' locks, so
/// that no channel peer writes into the old copy of a slot after it was copied. Returns the
/// bytes copied.
///
/// Go: `runtime.syncadjustsudogs` (stack.go); the locks are implicit in this sequential model.
fn syncadjustsudogs(gp: &mut G, used: u64, adjinfo: &AdjustInfo, new: &mut SimStack) -> u64 {
    if gp.waiting.is_empty() {
        return 0;
    }
    adjustsudogs(gp, adjinfo);
    let mut sgsize = 0;
    if adjinfo.sghi != 0 {
        let old_bot = adjinfo.old.hi - used;
        let new_bot = old_bot.wrapping_add(adjinfo.delta);
        sgsize = adjinfo.sghi - old_bot;
        memmove(new, new_bot, &gp.mem, old_bot, sgsize);
    }
    sgsize
}

// ANCHOR: copystack
/// Moves `gp`'s stack to a new one of `newsize` bytes.
///
/// Go: `runtime.copystack` (stack.go). The used part, `[sched.sp, hi)`, keeps its offset from
/// the top, so every stack address moves by the same `delta = new.hi - old.hi`. The stack maps
/// say which words to move; everything else is copied bit for bit.
pub fn copystack(gp: &mut G, newsize: u64) {
    if gp.syscallsp != 0 {
        panic!("stack growth not allowed in system call");
    }
    let old = gp.stack;
    let used = old.hi - gp.sched.sp;

    let mut new = stackalloc(newsize);
    let mut adjinfo = AdjustInfo {
        old,
        delta: new.hi.wrapping_sub(old.hi),
        sghi: 0,
    };

    // Sudogs first: other goroutines find our stack through them.
    let mut ncopy = used;
    if !gp.active_stack_chans {
        if newsize < old.size() && gp.parking_on_chan {
            panic!("racy sudog adjustment due to parking on channel");
        }
        adjustsudogs(gp, &adjinfo);
    } else {
        // Channel peers may be writing into the slots right now: copy the part of the stack
        // up to the highest slot under the channel locks, then the rest.
        adjinfo.sghi = findsghi(gp, old);
        ncopy -= syncadjustsudogs(gp, used, &adjinfo, &mut new);
    }

    let to = new.hi - ncopy;
    memmove(&mut new, to, &gp.mem, old.hi - ncopy, ncopy);

    adjustctxt(gp, &adjinfo);
    if adjinfo.sghi != 0 {
        adjinfo.sghi = adjinfo.sghi.wrapping_add(adjinfo.delta);
    }

    // Switch to the new stack. The guard is reset, which drops a pending preemption request:
    // Go notes the same ("might clobber a preempt request").
    gp.stack = new.bounds();
    gp.stackguard0 = new.lo + STACK_GUARD;
    gp.sched.sp = new.hi - used;
    let old_mem = std::mem::replace(&mut gp.mem, new);

    // Now fix the pointers inside the frames, walking the new stack.
    for frame in gp.unwind() {
        let f = &gp.frames[frame.depth].func;
        adjustframe(&mut gp.mem, &frame, f, &adjinfo);
    }

    stackfree(old_mem);
}
// ANCHOR_END: copystack

/// Why a stack may not be moved right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotSafe {
    /// The system call may hold pointers into the stack, and its innermost frames have no maps.
    InSyscall,
    /// Stopped at an asynchronous safe point: no exact maps for every frame.
    AsyncSafePoint,
    /// Parking on a channel, before `activeStackChans` tells peers to synchronize with us.
    ParkingOnChan,
    /// Waiting only so `suspendG` can take the stack; it may be traced meanwhile.
    WaitingForSuspendG,
}

/// Whether the stack may be shrunk now.
///
/// Go: `runtime.isShrinkStackSafe` (stack.go).
pub fn is_shrink_stack_safe(gp: &G) -> Result<(), NotSafe> {
    if gp.syscallsp != 0 {
        return Err(NotSafe::InSyscall);
    }
    if gp.async_safe_point {
        return Err(NotSafe::AsyncSafePoint);
    }
    if gp.parking_on_chan {
        return Err(NotSafe::ParkingOnChan);
    }
    if gp.waiting_for_suspend_g {
        return Err(NotSafe::WaitingForSuspendG);
    }
    Ok(())
}

/// What `shrinkstack` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shrink {
    /// Moved to a stack of half the size.
    Shrunk { from: u64, to: u64 },
    /// `GODEBUG=gcshrinkstackoff=1`.
    Disabled,
    /// Half the size would be below [`FIXED_STACK`].
    AtMinimum,
    /// A quarter or more is in use (counting [`STACK_NOSPLIT`] for NOSPLIT callees).
    InUse { used: u64, avail: u64 },
    /// Not now; Go throws if called then, and its callers check first.
    NotSafe(NotSafe),
}

// ANCHOR: shrinkstack
/// Halves the stack if less than a quarter of it is in use.
///
/// Go: `runtime.shrinkstack` (stack.go), called by the GC on every stack it scans. Halving only
/// below a quarter leaves the goroutine at most half full, so one that oscillates around a
/// size boundary is not copied back and forth.
pub fn shrinkstack(gp: &mut G) -> Shrink {
    if let Err(why) = is_shrink_stack_safe(gp) {
        return Shrink::NotSafe(why);
    }
    if gp.gcshrinkstackoff {
        return Shrink::Disabled;
    }

    let oldsize = gp.stack.hi - gp.stack.lo;
    let newsize = oldsize / 2;
    if newsize < FIXED_STACK {
        return Shrink::AtMinimum;
    }
    let avail = gp.stack.hi - gp.stack.lo;
    let used = gp.stack.hi - gp.sched.sp + STACK_NOSPLIT;
    if used >= avail / 4 {
        return Shrink::InUse { used, avail };
    }

    copystack(gp, newsize);
    Shrink::Shrunk {
        from: oldsize,
        to: newsize,
    }
}
// ANCHOR_END: shrinkstack

/// What one P accumulated about the stacks it scanned during a GC cycle.
///
/// Go: `p.scannedStackSize` and `p.scannedStacks` (runtime2.go).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    pub scanned_stack_size: u64,
    pub scanned_stacks: u64,
}

/// The stack part of the GC scanning a stopped goroutine: record how much stack it uses, then
/// shrink it, or ask it to shrink itself at its next synchronous safe point.
///
/// Go: the start of `runtime.scanstack` (mgcmark.go).
pub fn scanstack(gp: &mut G, p: &mut ScanStats) -> Shrink {
    let sp = if gp.syscallsp != 0 {
        gp.syscallsp
    } else {
        gp.sched.sp
    };
    p.scanned_stack_size += gp.stack.hi - sp;
    p.scanned_stacks += 1;

    match is_shrink_stack_safe(gp) {
        Ok(()) => shrinkstack(gp),
        Err(why) => {
            gp.preempt_shrink = true;
            Shrink::NotSafe(why)
        }
    }
}

/// The smallest power of 2 that is at least `x`.
///
/// Go: `runtime.round2` (stack.go).
pub fn round2(x: u64) -> u64 {
    let mut s = 0;
    while (1u64 << s) < x {
        s += 1;
    }
    1 << s
}

/// The stack size new goroutines start with after a GC: the average stack in use, plus the
/// guard so that an average goroutine never grows, rounded up to a power of 2. Resets the
/// per-P counters it reads.
///
/// Go: `runtime.gcComputeStartingStackSize` (stack.go), `GODEBUG=adaptivestackstart` (on by
/// default). Go clamps to `[fixedStack, maxstacksize]` and then rounds up, so an average above
/// 2^29 bytes gives 2^30, just over `maxstacksize`; mirrored as is.
pub fn gc_compute_starting_stack_size(
    starting_stack_size: u64,
    allp: &mut [ScanStats],
    adaptivestackstart: bool,
) -> u64 {
    if !adaptivestackstart {
        return starting_stack_size;
    }
    let mut scanned_stack_size = 0;
    let mut scanned_stacks = 0;
    for p in allp.iter_mut() {
        scanned_stack_size += p.scanned_stack_size;
        scanned_stacks += p.scanned_stacks;
        *p = ScanStats::default();
    }
    if scanned_stacks == 0 {
        return FIXED_STACK;
    }
    let avg = (scanned_stack_size / scanned_stacks + STACK_GUARD).clamp(FIXED_STACK, MAX_STACKSIZE);
    round2(avg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A function with `n` words of locals, none of them pointers.
    fn scalars(n: usize) -> FuncInfo {
        FuncInfo::new("scalars", &vec![false; n])
    }

    #[test]
    fn constants_are_gos() {
        assert_eq!(STACK_GUARD, 928);
        assert_eq!(FIXED_STACK, 2048);
        assert_eq!(STACK_PREEMPT, 0xffff_ffff_ffff_fade);
        assert_eq!(STACK_FORCE_MOVE, 0xffff_ffff_ffff_feed);
        assert_eq!(MAX_STACKCEILING, 2_000_000_000);
    }

    #[test]
    fn prologue_small_frames_compare_sp_itself() {
        let guard = 0x1000 + STACK_GUARD;
        // SP above the guard: run. At or below: morestack.
        assert!(!morestack_check(guard + 8, 64, guard));
        assert!(morestack_check(guard, 64, guard));
        // A StackSmall frame entered just above the guard ends StackSmall bytes below it,
        // still STACK_NOSPLIT bytes above the bottom of the stack.
        assert!(!morestack_check(guard + 1, STACK_SMALL, guard));
        assert!(guard + 1 - STACK_SMALL > 0x1000 + STACK_NOSPLIT);
    }

    #[test]
    fn prologue_big_frames_compare_sp_minus_the_excess_over_stack_small() {
        let guard = 0x10_0000;
        let framesize = 1000;
        let excess = framesize - STACK_SMALL;
        assert!(!morestack_check(guard + excess + 8, framesize, guard));
        assert!(morestack_check(guard + excess, framesize, guard));
        assert!(morestack_check(guard + excess - 8, framesize, guard));
    }

    #[test]
    fn prologue_huge_frames_guard_against_wraparound() {
        let framesize = 1 << 20;
        // Enough room: run.
        assert!(!morestack_check(
            0x20_0000 + framesize,
            framesize,
            0x20_0000
        ));
        // SP smaller than the frame: SP - framesize wraps to a huge value which a plain
        // comparison would call safe. The borrow check catches it.
        let sp: u64 = 0x8000;
        let guard = 0x1000;
        assert!(sp.wrapping_sub(framesize - STACK_SMALL) > guard);
        assert!(morestack_check(sp, framesize, guard));
    }

    #[test]
    fn stack_preempt_forces_morestack_regardless_of_sp() {
        // Every SP a real stack can have is below 2^47 on amd64.
        for sp in [0x1000, 0x00c0_0000_8000, (1u64 << 47) - 8] {
            for framesize in [0, 8, STACK_SMALL, STACK_SMALL + 8, STACK_BIG, 1 << 20] {
                assert!(morestack_check(sp, framesize, STACK_PREEMPT));
            }
        }
    }

    #[test]
    fn a_preemption_request_yields_instead_of_growing() {
        let mut gp = G::new(FIXED_STACK);
        let before = gp.stack;
        gp.stackguard0 = STACK_PREEMPT;
        gp.call(&scalars(2)).unwrap();
        assert_eq!(gp.preempted, 1);
        assert_eq!(gp.stack, before);
        assert_eq!(gp.stackguard0, before.lo + STACK_GUARD);
    }

    #[test]
    fn deep_recursion_grows_through_several_copies() {
        // Each frame: [pointer to the caller's word 1, this depth]. A linked list through the
        // stack, like a recursive function handed a reference to its caller's local.
        let f = FuncInfo::new("recurse", &[true, false]);
        let mut gp = G::new(FIXED_STACK);
        let mut sizes = vec![gp.stack.size()];
        const N: u64 = 600;
        for depth in 0..N {
            gp.call(&f).unwrap();
            let d = depth as usize;
            let link = if d == 0 { 0 } else { gp.local_addr(d - 1, 1) };
            gp.store(gp.local_addr(d, 0), link);
            gp.store(gp.local_addr(d, 1), depth);
            if gp.stack.size() != *sizes.last().unwrap() {
                sizes.push(gp.stack.size());
            }
        }
        // 32 bytes a frame: four copies.
        assert_eq!(sizes, [2048, 4096, 8192, 16384, 32768]);

        // Follow the list from the innermost frame: every link lands on its caller's depth.
        let mut p = gp.local_addr(N as usize - 1, 0);
        for depth in (0..N - 1).rev() {
            let caller_word = gp.load(p);
            assert_eq!(gp.load(caller_word), depth);
            p = caller_word - PTR_SIZE;
        }
        assert_eq!(gp.load(p), 0);
        // The saved frame pointers were moved too: the chain visits every frame.
        let varps: Vec<u64> = gp.unwind().iter().map(|f| f.varp).collect();
        assert_eq!(gp.frame_pointer_chain(), varps);
    }

    #[test]
    fn a_frame_bigger_than_double_keeps_doubling() {
        let mut gp = G::new(FIXED_STACK);
        let huge = scalars(1250); // 10008 bytes with the saved BP
        match newstack_size(
            gp.stack,
            gp.sched.sp - 8,
            huge.frame_size(),
            0,
            MAX_STACKSIZE,
        ) {
            Ok(size) => assert_eq!(size, 16384),
            Err(e) => panic!("{e}"),
        }
        gp.call(&huge).unwrap();
        assert_eq!(gp.stack.size(), 16384);
    }

    #[test]
    fn overflow_message_is_gos() {
        let old = Stack {
            lo: 0x00c0_2000_0000,
            hi: 0x00c0_2000_0000 + (512 << 20),
        };
        let err = newstack_size(
            old,
            old.lo + 0x3a0,
            256,
            old.lo + STACK_GUARD,
            MAX_STACKSIZE,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "runtime: goroutine stack exceeds 1000000000-byte limit\n\
             runtime: sp=0xc020000398 stack=[0xc020000000, 0xc040000000]\n\
             fatal error: stack overflow"
        );
    }

    #[test]
    fn set_max_stack_limits_recursion() {
        let mut gp = G::new(FIXED_STACK);
        gp.maxstacksize = 64 << 10; // debug.SetMaxStack(64 << 10)
        let f = scalars(30);
        let err = loop {
            if let Err(e) = gp.call(&f) {
                break e;
            }
        };
        assert_eq!(gp.stack.size(), 64 << 10);
        assert!(err
            .to_string()
            .starts_with("runtime: goroutine stack exceeds 65536-byte limit\n"));
    }

    // ANCHOR: not_a_pointer
    #[test]
    fn an_integer_equal_to_a_stack_address_is_not_adjusted() {
        let mut gp = G::new(FIXED_STACK);
        gp.call(&scalars(1)).unwrap();
        let target = gp.local_addr(0, 0);
        gp.store(target, 7);

        // Word 0 is a pointer to `target`; word 1 is an integer (a hash, a counter) that
        // happens to have the same bits. Only the stack map tells them apart.
        gp.call(&FuncInfo::new("f", &[true, false])).unwrap();
        gp.store(gp.local_addr(1, 0), target);
        gp.store(gp.local_addr(1, 1), target);
        let old = gp.stack;

        copystack(&mut gp, 2 * old.size());
        let delta = gp.stack.hi.wrapping_sub(old.hi);

        // The pointer followed its target; the integer kept its value.
        let moved = gp.local_addr(0, 0);
        assert_eq!(gp.load(gp.local_addr(1, 0)), moved);
        assert_eq!(gp.load(moved), 7);
        assert_eq!(gp.load(gp.local_addr(1, 1)), target);

        // A conservative scan treats every word that looks like a stack address as a pointer.
        // It would have changed the integer under the program's feet, which is why runtimes
        // that scan stacks conservatively pin them instead of moving them.
        let conservative = |w: u64| {
            if (old.lo..old.hi).contains(&w) {
                w.wrapping_add(delta)
            } else {
                w
            }
        };
        assert_ne!(conservative(target), target);
    }
    // ANCHOR_END: not_a_pointer

    #[test]
    fn heap_pointers_and_nil_are_left_alone() {
        let mut gp = G::new(FIXED_STACK);
        gp.call(&FuncInfo::new("f", &[true, true])).unwrap();
        gp.store(gp.local_addr(0, 0), 0x0000_1234_5000); // a heap object
        gp.store(gp.local_addr(0, 1), 0); // nil
        copystack(&mut gp, 4096);
        assert_eq!(gp.load(gp.local_addr(0, 0)), 0x0000_1234_5000);
        assert_eq!(gp.load(gp.local_addr(0, 1)), 0);
    }

    #[test]
    #[should_panic(expected = "fault")]
    fn the_old_stack_is_freed() {
        let mut gp = G::new(FIXED_STACK);
        gp.call(&scalars(1)).unwrap();
        let stale = gp.local_addr(0, 0);
        copystack(&mut gp, 4096);
        gp.load(stale);
    }

    #[test]
    fn a_sudog_elem_into_the_stack_is_adjusted() {
        // A goroutine grows deep, returns, then blocks in `v := <-c` with v a local.
        let mut gp = G::new(FIXED_STACK);
        let f = scalars(60);
        for _ in 0..20 {
            gp.call(&f).unwrap();
        }
        for _ in 0..19 {
            gp.ret();
        }
        let v = gp.local_addr(0, 3);
        gp.waiting.push(Sudog {
            elem: v,
            elemsize: 8,
        });
        gp.active_stack_chans = true; // parked: peers may now write through elem
        let big = gp.stack.size();

        // The GC finds a big, mostly unused stack and shrinks it.
        let mut p = ScanStats::default();
        assert_eq!(
            scanstack(&mut gp, &mut p),
            Shrink::Shrunk {
                from: big,
                to: big / 2
            }
        );

        // The sender writes through the sudog; the value lands in v's new home.
        let elem = gp.waiting[0].elem;
        assert_ne!(elem, v);
        gp.store(elem, 42);
        assert_eq!(gp.load(gp.local_addr(0, 3)), 42);
    }

    #[test]
    fn without_active_stack_chans_sudogs_are_adjusted_before_the_copy() {
        let mut gp = G::new(4096);
        gp.call(&scalars(4)).unwrap();
        gp.waiting.push(Sudog {
            elem: gp.local_addr(0, 2),
            elemsize: 8,
        });
        gp.waiting.push(Sudog {
            elem: 0x00ab_cdef_0000,
            elemsize: 8,
        }); // a heap buffer
        copystack(&mut gp, 8192);
        assert_eq!(gp.waiting[0].elem, gp.local_addr(0, 2));
        assert_eq!(gp.waiting[1].elem, 0x00ab_cdef_0000);
    }

    #[test]
    #[should_panic(expected = "racy sudog adjustment due to parking on channel")]
    fn shrinking_while_parking_on_a_channel_throws() {
        let mut gp = G::new(8192);
        gp.parking_on_chan = true;
        copystack(&mut gp, 4096);
    }

    // ANCHOR: shrink_test
    #[test]
    fn shrink_halves_only_under_a_quarter_and_never_below_fixed_stack() {
        let mut gp = G::new(16384);
        // 16 KiB stack, so a quarter is 4096 bytes, STACK_NOSPLIT (800) of it reserved.
        // Used: 32 (newproc's top words) + 8 (return address) + 8 (BP) + 3200 (locals) = 3248,
        // plus 800 = 4048: just under a quarter.
        gp.call(&scalars(400)).unwrap();
        assert_eq!(gp.stack.hi - gp.sched.sp, 3248);
        assert_eq!(
            shrinkstack(&mut gp),
            Shrink::Shrunk {
                from: 16384,
                to: 8192
            }
        );
        // 8 KiB: a quarter is 2048, and 4048 is more.
        assert_eq!(
            shrinkstack(&mut gp),
            Shrink::InUse {
                used: 4048,
                avail: 8192
            }
        );
        gp.ret();
        assert_eq!(
            shrinkstack(&mut gp),
            Shrink::Shrunk {
                from: 8192,
                to: 4096
            }
        );
        // 4 KiB with 832 used (32 + 800): a quarter is 1024, so it halves once more...
        assert_eq!(
            shrinkstack(&mut gp),
            Shrink::Shrunk {
                from: 4096,
                to: 2048
            }
        );
        // ...and never below 2 KiB.
        assert_eq!(shrinkstack(&mut gp), Shrink::AtMinimum);
        assert_eq!(gp.stack.size(), FIXED_STACK);
    }
    // ANCHOR_END: shrink_test

    #[test]
    fn gcshrinkstackoff_keeps_the_stack() {
        let mut gp = G::new(16384);
        gp.gcshrinkstackoff = true;
        assert_eq!(shrinkstack(&mut gp), Shrink::Disabled);
        assert_eq!(gp.stack.size(), 16384);
    }

    #[test]
    fn an_unsafe_stack_is_shrunk_at_the_next_synchronous_safe_point() {
        let mut gp = G::new(16384);
        gp.call(&scalars(4)).unwrap();
        let mut p = ScanStats::default();

        gp.syscallsp = gp.sched.sp;
        assert_eq!(
            scanstack(&mut gp, &mut p),
            Shrink::NotSafe(NotSafe::InSyscall)
        );
        gp.syscallsp = 0;
        gp.async_safe_point = true;
        assert_eq!(
            scanstack(&mut gp, &mut p),
            Shrink::NotSafe(NotSafe::AsyncSafePoint)
        );
        gp.async_safe_point = false;
        gp.parking_on_chan = true;
        assert_eq!(
            scanstack(&mut gp, &mut p),
            Shrink::NotSafe(NotSafe::ParkingOnChan)
        );
        gp.parking_on_chan = false;
        gp.waiting_for_suspend_g = true;
        assert_eq!(
            scanstack(&mut gp, &mut p),
            Shrink::NotSafe(NotSafe::WaitingForSuspendG)
        );
        gp.waiting_for_suspend_g = false;
        assert!(gp.preempt_shrink);
        assert_eq!(gp.stack.size(), 16384);

        // The next preemption request finds it at a function entry, where every frame has a
        // map: the shrink happens there.
        gp.stackguard0 = STACK_PREEMPT;
        gp.call(&scalars(1)).unwrap();
        assert!(!gp.preempt_shrink);
        assert_eq!(gp.stack.size(), 8192);
        assert_eq!(p.scanned_stacks, 4);
    }

    #[test]
    fn copystack_clobbers_a_pending_preemption_request() {
        let mut gp = G::new(16384);
        gp.stackguard0 = STACK_PREEMPT;
        assert!(matches!(shrinkstack(&mut gp), Shrink::Shrunk { .. }));
        assert_eq!(gp.stackguard0, gp.stack.lo + STACK_GUARD);
    }

    #[test]
    fn stack_force_move_moves_without_growing() {
        let mut gp = G::new(4096);
        gp.call(&FuncInfo::new("f", &[true])).unwrap();
        gp.store(gp.local_addr(0, 0), gp.local_addr(0, 0)); // points at itself
        let old = gp.stack;
        gp.stackguard0 = STACK_FORCE_MOVE;
        gp.call(&scalars(1)).unwrap();
        assert_eq!(gp.stack.size(), 4096);
        assert_ne!(gp.stack, old);
        assert_eq!(gp.load(gp.local_addr(0, 0)), gp.local_addr(0, 0));
    }

    #[test]
    fn starting_stack_size_follows_the_average_stack() {
        // Two Ps scanned 3 stacks using 1000, 2000 and 6000 bytes: the average 3000, plus the
        // guard, is 3928, rounded up to 4096.
        let mut allp = [
            ScanStats {
                scanned_stack_size: 3000,
                scanned_stacks: 2,
            },
            ScanStats {
                scanned_stack_size: 6000,
                scanned_stacks: 1,
            },
        ];
        assert_eq!(gc_compute_starting_stack_size(2048, &mut allp, true), 4096);
        assert_eq!(allp, [ScanStats::default(); 2]);
        // No stacks scanned: back to the minimum.
        assert_eq!(gc_compute_starting_stack_size(4096, &mut allp, true), 2048);
        // Tiny stacks never go below the minimum.
        allp[0] = ScanStats {
            scanned_stack_size: 100,
            scanned_stacks: 1,
        };
        assert_eq!(gc_compute_starting_stack_size(2048, &mut allp, true), 2048);
        // Huge ones are clamped to maxstacksize, then rounded up to 2^30.
        allp[0] = ScanStats {
            scanned_stack_size: 5 << 30,
            scanned_stacks: 1,
        };
        assert_eq!(
            gc_compute_starting_stack_size(2048, &mut allp, true),
            1 << 30
        );
        // GODEBUG=adaptivestackstart=0: unchanged, counters untouched.
        allp[0] = ScanStats {
            scanned_stack_size: 50_000,
            scanned_stacks: 1,
        };
        assert_eq!(gc_compute_starting_stack_size(2048, &mut allp, false), 2048);
        assert_eq!(allp[0].scanned_stacks, 1);
    }

    /// A word of a generated frame.
    #[derive(Debug, Clone)]
    enum Word {
        /// An integer.
        Scalar(u64),
        /// An integer equal to the address of an earlier word (chosen by the selector).
        LooksLikePtr(usize),
        /// A pointer outside the stack (heap, or nil).
        Outside(u64),
        /// A pointer to an earlier word (chosen by the selector), or nil if there is none.
        StackPtr(usize),
    }

    /// What the test expects of each word, updated as the stack moves.
    #[derive(Debug, Clone, Copy)]
    enum Slot {
        /// Must keep exactly this value.
        Fixed(u64),
        /// Must hold the current address of the word at (depth, index).
        PointsTo(usize, usize),
    }

    #[derive(Debug, Clone)]
    enum Op {
        Call(Vec<Word>),
        Ret,
        Gc,
    }

    fn word() -> impl Strategy<Value = Word> {
        prop_oneof![
            3 => any::<u64>().prop_map(Word::Scalar),
            1 => any::<usize>().prop_map(Word::LooksLikePtr),
            1 => prop_oneof![Just(0u64), (0x1_0000u64..0x0080_0000_0000).prop_map(|a| a & !7)]
                .prop_map(Word::Outside),
            4 => any::<usize>().prop_map(Word::StackPtr),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        // Now and then a frame over StackBig, padded with integers: the huge-frame prologue.
        let padding = prop_oneof![12 => Just(0usize), 1 => 500..560usize];
        let frame = (prop::collection::vec(word(), 0..24), padding).prop_map(|(mut words, pad)| {
            words.extend((0..pad as u64).map(|i| Word::Scalar(0x5ca1_0000 + i)));
            words
        });
        prop_oneof![8 => frame.prop_map(Op::Call), 2 => Just(Op::Ret), 1 => Just(Op::Gc)]
    }

    /// Every word holds what it should, every pointer leads to the word it was aimed at, and
    /// the frame pointers chain through every frame.
    fn check(gp: &G, slots: &[Vec<Slot>]) -> Result<(), TestCaseError> {
        let bases = gp.locals_bases();
        let addr = |d: usize, i: usize| bases[d] + i as u64 * PTR_SIZE;
        let expected = |d: usize, i: usize| match slots[d][i] {
            Slot::Fixed(v) => v,
            Slot::PointsTo(td, ti) => addr(td, ti),
        };
        for (d, frame) in slots.iter().enumerate() {
            for (i, slot) in frame.iter().enumerate() {
                let v = gp.load(addr(d, i));
                prop_assert_eq!(v, expected(d, i), "word {} of frame {}", i, d);
                if let Slot::PointsTo(td, ti) = *slot {
                    // Dereference: the same logical value as before the move.
                    prop_assert_eq!(gp.load(v), expected(td, ti));
                }
            }
        }
        let varps: Vec<u64> = gp.unwind().iter().map(|f| f.varp).collect();
        prop_assert_eq!(gp.frame_pointer_chain(), varps);
        prop_assert!(gp.stack.size().is_power_of_two() && gp.stack.size() >= FIXED_STACK);
        Ok(())
    }

    fn config() -> ProptestConfig {
        ProptestConfig {
            cases: if cfg!(miri) { 2 } else { 128 },
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    const OPS: usize = if cfg!(miri) { 25 } else { 160 };

    // ANCHOR: prop_copy_keeps_pointers
    proptest! {
        #![proptest_config(config())]

        /// Random calls, returns and GCs: frames of random pointer and non-pointer words, the
        /// pointers aimed at earlier words of the stack. Whenever the stack has moved, every
        /// word must read as before and every pointer must lead to the same word at its new
        /// place.
        #[test]
        fn prop_copy_keeps_pointers(ops in prop::collection::vec(op(), 1..OPS)) {
            let mut gp = G::new(FIXED_STACK);
            let mut slots: Vec<Vec<Slot>> = Vec::new();
            for op in ops {
                let before = gp.stack;
                match op {
                    Op::Call(words) => {
                        let ptrs: Vec<bool> = words
                            .iter()
                            .map(|w| matches!(w, Word::StackPtr(_) | Word::Outside(_)))
                            .collect();
                        gp.call(&FuncInfo::new("f", &ptrs)).unwrap();
                        // Targets: the words of the frames below this one.
                        let earlier: Vec<(usize, usize)> = slots
                            .iter()
                            .enumerate()
                            .flat_map(|(d, f)| (0..f.len()).map(move |i| (d, i)))
                            .collect();
                        let pick = |sel: usize| earlier.get(sel % earlier.len().max(1)).copied();
                        let bases = gp.locals_bases();
                        let addr = |d: usize, j: usize| bases[d] + j as u64 * PTR_SIZE;
                        let depth = slots.len();
                        let mut frame = Vec::new();
                        for (i, w) in words.iter().enumerate() {
                            let slot = match *w {
                                Word::Scalar(v) | Word::Outside(v) => Slot::Fixed(v),
                                Word::LooksLikePtr(sel) => match pick(sel) {
                                    Some((d, j)) => Slot::Fixed(addr(d, j)),
                                    None => Slot::Fixed(0),
                                },
                                Word::StackPtr(sel) => match pick(sel) {
                                    Some((d, j)) => Slot::PointsTo(d, j),
                                    None => Slot::Fixed(0),
                                },
                            };
                            let v = match slot {
                                Slot::Fixed(v) => v,
                                Slot::PointsTo(d, j) => addr(d, j),
                            };
                            gp.store(addr(depth, i), v);
                            frame.push(slot);
                        }
                        slots.push(frame);
                    }
                    Op::Ret => {
                        if slots.pop().is_some() {
                            gp.ret();
                        }
                    }
                    Op::Gc => {
                        scanstack(&mut gp, &mut ScanStats::default());
                    }
                }
                if gp.stack != before {
                    check(&gp, &slots)?;
                }
            }
            check(&gp, &slots)?;
        }
    }
    // ANCHOR_END: prop_copy_keeps_pointers

    #[test]
    fn adjustpointers_visits_only_marked_words() {
        let mut mem = stackalloc(2048);
        let (lo, hi) = (mem.lo, mem.hi);
        // Nine words, all holding an address inside the stack; bits 0, 3 and 8 set.
        let mut ptrs = [false; 9];
        ptrs[0] = true;
        ptrs[3] = true;
        ptrs[8] = true;
        let bv = BitVector::from_bools(&ptrs);
        assert_eq!(bv.bytedata, [0b0000_1001, 0b0000_0001]);
        for i in 0..9 {
            mem.write(lo + 8 * i, hi - 16);
        }
        let adjinfo = AdjustInfo {
            old: mem.bounds(),
            delta: 0x1000,
            sghi: 0,
        };
        adjustpointers(&mut mem, lo, &bv, &adjinfo);
        for i in 0..9 {
            let want = if ptrs[i as usize] {
                hi - 16 + 0x1000
            } else {
                hi - 16
            };
            assert_eq!(mem.read(lo + 8 * i), want, "word {i}");
        }
    }
}
