//! Signals: asynchronous preemption by SIGURG (Go 1.14+) and the stack-overflow report.
//!
//! sysmon asks a goroutine that has run for 10ms to stop ([`crate::sysmon::preemptone`]):
//! cooperatively through `stackguard0`, which only a safe point looks at, and with a signal
//! to its thread ([`preempt_m`]). The handler ([`sigurg`]) checks that the interrupted code
//! may be stopped right there ([`is_async_safe_point`]), then rewrites the interrupted context
//! so that, when the handler returns, the thread calls the trampoline `async_preempt` as if
//! the interrupted code had called it ([`push_call`]; Go: pushCall). The trampoline saves
//! every register, parks the goroutine ([`crate::proc::async_preempt_park`]) and, once it
//! runs again, puts every register back and continues at the interrupted instruction.
//!
//! The same handlers turn a fault in a goroutine's guard page into Go's `fatal error: stack
//! overflow` ([`sigsegv`]), instead of a bare segmentation fault.
//!
//! Everything a signal handler runs must be async-signal-safe: atomics, thread-locals without
//! destructors, `write(2)`, `_exit(2)` — no allocation, no locks, no `format!`.

use crate::g::{_Grunning, _Gscan, G};
use crate::proc::{getm, Sched, M};
use libc::{c_int, c_void, siginfo_t};
use std::cell::{Cell, OnceCell};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Once, OnceLock};

/// Bytes of goroutine stack the injected call may use below the interrupted SP: the red zone,
/// the trampoline's register save area (x86_64: up to ~2.7 KiB of XSAVE state on an AVX-512
/// machine; aarch64: a 4.6 KiB signal frame), and the Rust frames down to the context switch.
/// Go: asyncPreemptStack (preempt.go), which is under 1 KiB because Go keeps the vector
/// registers in the P.
const ASYNC_PREEMPT_STACK: usize = 16 * 1024;

/// x86_64 code may keep data in the 128 bytes below SP (the SysV red zone); Go's ABI has none.
#[cfg(target_arch = "x86_64")]
const RED_ZONE: usize = 128;

/// The alternate signal stack each M gets (Go: 32 KiB gsignal stacks).
const SIGSTACK_SIZE: usize = 64 * 1024;

/// Asynchronous preemptions injected since the process started, for tests and the book.
static PREEMPTIONS: AtomicU64 = AtomicU64::new(0);

/// How many goroutines a SIGURG has stopped so far, in this process (all runtimes together).
pub fn async_preemptions() -> u64 {
    PREEMPTIONS.load(Ordering::Relaxed)
}

thread_local! {
    /// Set by the handler when it injects a call on this thread, cleared when the call
    /// returns: a second SIGURG must not inject another one into the first half-way.
    static IN_ASYNC_PREEMPT: Cell<bool> = const { Cell::new(false) };
    /// This M's alternate signal stack; unmapped when the thread exits.
    static SIGSTACK: OnceCell<SigStack> = const { OnceCell::new() };
}

/// `[lo, hi)` of the program's executable code: the ELF object this runtime is linked into.
static TEXT: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(usize::MAX)];
/// SIGSEGV and SIGBUS as they were before [`install`] (Rust's own handler, which reports a
/// thread's stack overflow), for the faults that are not ours.
static OLD_SEGV: OnceLock<libc::sigaction> = OnceLock::new();
static OLD_BUS: OnceLock<libc::sigaction> = OnceLock::new();

// ---------------------------------------------------------------------------------------
// Installing the handlers

/// Go: initsig (signal_unix.go). Once per process: take SIGURG for preemption and SIGSEGV /
/// SIGBUS for stack overflows, all on the alternate stack.
pub(crate) fn install(_sched: &Sched) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| unsafe {
        find_program_text();
        #[cfg(target_arch = "x86_64")]
        init_xsave();
        let _ = OLD_SEGV.set(setsig(libc::SIGSEGV, sigsegv as *const () as usize));
        let _ = OLD_BUS.set(setsig(libc::SIGBUS, sigsegv as *const () as usize));
        setsig(libc::SIGURG, sigurg as *const () as usize);
    });
}

/// Go: setsig (os_linux.go). Installs `handler` and returns the previous action.
unsafe fn setsig(sig: c_int, handler: usize) -> libc::sigaction {
    let mut old: libc::sigaction = core::mem::zeroed();
    let mut sa: libc::sigaction = core::mem::zeroed();
    sa.sa_sigaction = handler;
    // SA_ONSTACK: a stack overflow leaves no stack to run the handler on.
    // SA_RESTART: a preempted read(2) or futex wait carries on instead of failing with EINTR.
    sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_RESTART;
    libc::sigfillset(&mut sa.sa_mask); // Go blocks every signal while a handler runs
    if libc::sigaction(sig, &sa, &mut old) != 0 {
        crate::throw("sigaction failed");
    }
    old
}

/// Go: minit (os_linux.go). Runs on every new M: an alternate signal stack (Go:
/// minitSignalStack) and the signals the runtime needs unblocked (Go: minitSignalMask).
pub(crate) fn minit() {
    SIGSTACK.with(|s| {
        s.get_or_init(SigStack::new);
    });
    unsafe {
        let mut set: libc::sigset_t = core::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in [libc::SIGURG, libc::SIGSEGV, libc::SIGBUS] {
            libc::sigaddset(&mut set, sig);
        }
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, core::ptr::null_mut());
    }
}

/// An mmapped alternate signal stack with a guard page below (Go: mp.gsignal).
struct SigStack {
    base: *mut c_void,
    len: usize,
}

impl SigStack {
    fn new() -> SigStack {
        let len = SIGSTACK_SIZE + crate::stack::GUARD;
        // SAFETY: a fresh anonymous mapping; its lowest page becomes the guard.
        let base = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            crate::throw("runtime: cannot allocate signal stack");
        }
        let st = libc::stack_t {
            ss_sp: (base as usize + crate::stack::GUARD) as *mut c_void,
            ss_flags: 0,
            ss_size: SIGSTACK_SIZE,
        };
        // SAFETY: the guard page and the stack both belong to the mapping just made.
        unsafe {
            libc::mprotect(base, crate::stack::GUARD, libc::PROT_NONE);
            if libc::sigaltstack(&st, core::ptr::null_mut()) != 0 {
                crate::throw("sigaltstack failed");
            }
        }
        SigStack { base, len }
    }
}

impl Drop for SigStack {
    /// Go: unminitSignals. At thread exit: stop using the stack, then unmap it.
    fn drop(&mut self) {
        unsafe {
            let mut cur: libc::stack_t = core::mem::zeroed();
            libc::sigaltstack(core::ptr::null(), &mut cur);
            if cur.ss_sp as usize == self.base as usize + crate::stack::GUARD
                && cur.ss_flags & libc::SS_DISABLE == 0
            {
                let off = libc::stack_t {
                    ss_sp: core::ptr::null_mut(),
                    ss_flags: libc::SS_DISABLE,
                    ss_size: 0,
                };
                libc::sigaltstack(&off, core::ptr::null_mut());
            }
            libc::munmap(self.base, self.len);
        }
    }
}

/// Records the executable segments of the ELF object that holds this code: the program's
/// own Rust code, as opposed to libc and other shared objects (see [`is_async_safe_point`]).
unsafe fn find_program_text() {
    unsafe extern "C" fn each(info: *mut libc::dl_phdr_info, _: usize, data: *mut c_void) -> c_int {
        let info = &*info;
        let me = data as usize;
        let phdrs = core::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum as usize);
        let segs = phdrs
            .iter()
            .filter(|p| p.p_type == libc::PT_LOAD && p.p_flags & libc::PF_X != 0);
        let range = |p: &libc::Elf64_Phdr| {
            let lo = info.dlpi_addr as usize + p.p_vaddr as usize;
            (lo, lo + p.p_memsz as usize)
        };
        if !segs.clone().any(|p| (range(p).0..range(p).1).contains(&me)) {
            return 0; // another object
        }
        let lo = segs.clone().map(|p| range(p).0).min().unwrap();
        let hi = segs.map(|p| range(p).1).max().unwrap();
        TEXT[0].store(lo, Ordering::Relaxed);
        TEXT[1].store(hi, Ordering::Relaxed);
        1
    }
    libc::dl_iterate_phdr(Some(each), find_program_text as *const () as *mut c_void);
}

// ---------------------------------------------------------------------------------------
// Sending the signal

// ANCHOR: preempt_m
/// Go: preemptM (signal_unix.go). Asks `mp`'s thread to stop its goroutine, by SIGURG: Go
/// chose it because nothing else uses it (it means "urgent data on a socket", which programs
/// ask for by other means), so a stray one is harmless and a debugger passes it through.
pub(crate) fn preempt_m(mp: &M) -> bool {
    let sched = mp.sched();
    if !sched.config.async_preempt || sched.exiting.load(Ordering::Acquire) {
        return false; // GODEBUG=asyncpreemptoff=1; or the Ms are leaving
    }
    // One signal in flight per M: sysmon asks again every tick until the G stops, and a
    // storm of SIGURGs at a thread stuck outside a safe point would only burn CPU.
    if mp.signal_pending.swap(true, Ordering::AcqRel) {
        return false;
    }
    let thread = mp.thread.load(Ordering::Acquire);
    // SAFETY: the thread lives until the runtime exits, which we just checked it has not.
    thread != 0 && unsafe { libc::pthread_kill(thread as libc::pthread_t, libc::SIGURG) } == 0
}
// ANCHOR_END: preempt_m

// ---------------------------------------------------------------------------------------
// Receiving it

/// Go: sighandler → doSigPreempt (signal_unix.go), for SIGURG. Runs on the M's signal stack;
/// `ctx` is the interrupted thread's saved registers, which the kernel reloads on return.
extern "C" fn sigurg(_sig: c_int, _info: *mut siginfo_t, ctx: *mut c_void) {
    let Some(m) = getm() else { return }; // not an M: a stray signal
    let uc = ctx as *mut libc::ucontext_t;
    // SAFETY: the kernel hands the handler a valid ucontext for this thread.
    let (pc, sp) = unsafe { ctx_pc_sp(uc) };
    if is_async_safe_point(m, pc, sp).is_some() {
        IN_ASYNC_PREEMPT.set(true);
        PREEMPTIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: is_async_safe_point checked that the stack below `sp` is this G's and free.
        unsafe { push_call(uc, async_preempt as *const () as usize, pc) };
    }
    // Acknowledge the request, preempted or not: sysmon may send the next one.
    m.signal_pending.store(false, Ordering::Release);
}

// ANCHOR: safe_point
/// Go: wantAsyncPreempt + isAsyncSafePoint (preempt.go). May the goroutine that `m` runs be
/// stopped at instruction `pc` with stack pointer `sp`? Returns it if so.
fn is_async_safe_point(m: &M, pc: usize, sp: usize) -> Option<&G> {
    // wantAsyncPreempt: the G asked to stop (sysmon set gp.preempt) and is running user code.
    let gp = m.curg()?;
    if !gp.preempt.load(Ordering::Acquire) || gp.readgstatus() & !_Gscan != _Grunning {
        return None;
    }
    // canPreemptM: the M holds no runtime lock (m.locks) and has a P; the program is not exiting.
    if m.locks.load(Ordering::Relaxed) != 0
        || m.p().is_none()
        || m.sched().exiting.load(Ordering::Relaxed)
    {
        return None;
    }
    // Not half-way into mcall (the fn to run on g0 is already stored, and a second mcall
    // would overwrite it), and not already inside an injected call on this thread.
    // SAFETY: mcall_fn belongs to this thread, which the handler interrupted.
    let in_mcall = unsafe { core::ptr::read_volatile(m.mcall_fn.as_ptr()) }.is_some();
    if in_mcall || IN_ASYNC_PREEMPT.get() {
        return None;
    }
    // The stack: SP must be on the G's own stack — on the M's stack (g0) it is scheduler
    // code — with room for the injected call above the guard page.
    let (lo, hi) = (gp.stack.lo(), gp.stack.hi());
    if sp < lo + ASYNC_PREEMPT_STACK || sp > hi || !sp.is_multiple_of(8) {
        return None;
    }
    #[cfg(target_arch = "aarch64")]
    if !sp.is_multiple_of(16) {
        return None;
    }
    // The code. Go preempts only Go code (findfunc(pc) is valid), never assembly, never the
    // runtime. Here: never this crate's assembly (a context switch half-done); and only the
    // program's own code, not libc — malloc stopped while it holds an arena lock would
    // deadlock the first time the scheduler, on this same thread, allocates. A thread
    // blocked in a system call is the exception: it holds no libc lock half-way, and a G
    // stuck on a std Mutex whose holder was preempted must be able to give back its P.
    if in_own_asm(pc) || !(in_program_text(pc) || at_syscall(pc)) {
        return None;
    }
    Some(gp)
}
// ANCHOR_END: safe_point

extern "C" {
    // The context switch (arch.rs) and the trampoline below.
    fn gogo_switch(save_sp: *mut usize, new_sp: usize);
    fn gogo_asm_end();
    #[link_name = "chapter_scheduler_async_preempt"]
    fn async_preempt();
    #[link_name = "chapter_scheduler_async_preempt_end"]
    fn async_preempt_end();
}

/// Is `pc` inside this crate's hand-written assembly? arch.rs emits everything from
/// `gogo_switch` to the label `gogo_asm_end` in one `global_asm!`, so it is one range.
fn in_own_asm(pc: usize) -> bool {
    let tramp = async_preempt as *const () as usize..async_preempt_end as *const () as usize;
    let switch_lo = gogo_switch as *const () as usize;
    let switch_hi = gogo_asm_end as *const () as usize;
    tramp.contains(&pc) || (switch_lo..switch_hi).contains(&pc)
}

fn in_program_text(pc: usize) -> bool {
    (TEXT[0].load(Ordering::Relaxed)..TEXT[1].load(Ordering::Relaxed)).contains(&pc)
}

/// Is the instruction at `pc` a system call? When a signal interrupts a blocking call that
/// restarts (SA_RESTART), the kernel has moved the PC back onto the instruction.
fn at_syscall(pc: usize) -> bool {
    if pc == 0 || pc >= 1 << 47 || pc % 4096 > 4092 {
        // Not user code we can read (the execute-only vsyscall page), or the instruction
        // might end on the next page, which might not be mapped.
        return false;
    }
    // SAFETY: the thread was executing at pc, so its page is mapped (r-x for ELF code).
    #[cfg(target_arch = "x86_64")]
    return unsafe { core::ptr::read_unaligned(pc as *const [u8; 2]) } == [0x0f, 0x05]; // syscall
    #[cfg(target_arch = "aarch64")]
    return unsafe { core::ptr::read(pc as *const u32) } == 0xd400_0001; // svc #0
}

#[cfg(target_arch = "x86_64")]
unsafe fn ctx_pc_sp(uc: *mut libc::ucontext_t) -> (usize, usize) {
    let g = &(*uc).uc_mcontext.gregs;
    (
        g[libc::REG_RIP as usize] as usize,
        g[libc::REG_RSP as usize] as usize,
    )
}

#[cfg(target_arch = "aarch64")]
unsafe fn ctx_pc_sp(uc: *mut libc::ucontext_t) -> (usize, usize) {
    let mc = &(*uc).uc_mcontext;
    (mc.pc as usize, mc.sp as usize)
}

// ANCHOR: push_call_amd64
/// Go: sigctxt.pushCall (signal_amd64.go). Make it look as if the interrupted code had
/// called `target` from `resume_pc`: push the return address, point the PC at `target`.
/// Unlike Go, first step over the red zone, where the interrupted Rust function may keep
/// live data below its SP; the trampoline returns with `ret 128` to step back over it.
#[cfg(target_arch = "x86_64")]
unsafe fn push_call(uc: *mut libc::ucontext_t, target: usize, resume_pc: usize) {
    let g = &mut (*uc).uc_mcontext.gregs;
    let sp = g[libc::REG_RSP as usize] as usize - RED_ZONE - 8;
    (sp as *mut usize).write(resume_pc);
    g[libc::REG_RSP as usize] = sp as i64;
    g[libc::REG_RIP as usize] = target as i64;
}
// ANCHOR_END: push_call_amd64

// ANCHOR: push_call_arm64
/// Go: sigctxt.pushCall (signal_arm64.go). A call on arm64 leaves the return address in LR,
/// so: save the interrupted LR on the stack (16 bytes keep SP aligned), with the frame
/// pointer below it as Go does, then set LR = the interrupted PC and PC = `target`.
/// AAPCS64 has no red zone: nothing lives below SP.
#[cfg(target_arch = "aarch64")]
unsafe fn push_call(uc: *mut libc::ucontext_t, target: usize, resume_pc: usize) {
    let mc = &mut (*uc).uc_mcontext;
    let sp = mc.sp as usize - 16;
    (sp as *mut u64).write(mc.regs[30]);
    ((sp - 8) as *mut u64).write(mc.regs[29]);
    mc.sp = sp as u64;
    mc.regs[30] = resume_pc as u64;
    mc.pc = target as u64;
}
// ANCHOR_END: push_call_arm64

// ---------------------------------------------------------------------------------------
// The trampoline

/// Go: asyncPreempt2 (preempt.go). Called by the trampoline with every register saved:
/// park the goroutine; return when it runs again, on this same M.
#[cfg(target_arch = "x86_64")]
extern "C" fn async_preempt2() {
    crate::proc::async_preempt_park();
    IN_ASYNC_PREEMPT.set(false);
}

/// Which XSAVE components the trampoline saves: x87, SSE, AVX, and AVX-512's opmask and
/// upper ZMM registers (not AMX tiles, which Rust code does not use). FXSAVE (x87 and
/// XMM0–15 only) is not enough: while the goroutine is parked, glibc's memcpy on this thread
/// uses ymm16–31, and tests/preempt.rs catches the clobbered values.
#[cfg(target_arch = "x86_64")]
const XSAVE_MASK: u64 = 0b1110_0111;

/// Bytes of the XSAVE area for [`XSAVE_MASK`] on this CPU, or 0 if the OS does not enable
/// XSAVE (the trampoline then uses FXSAVE).
#[cfg(target_arch = "x86_64")]
static XSAVE_SIZE: AtomicUsize = AtomicUsize::new(0);

#[cfg(target_arch = "x86_64")]
fn init_xsave() {
    use core::arch::x86_64::{__cpuid, __cpuid_count};
    #[allow(unused_unsafe)]
    let osxsave = unsafe { __cpuid(1) }.ecx & (1 << 27) != 0;
    if !osxsave {
        return;
    }
    let (lo, hi): (u32, u32);
    // SAFETY: OSXSAVE says XGETBV is available; XCR0 names the enabled state components.
    unsafe { core::arch::asm!("xgetbv", in("ecx") 0, out("eax") lo, out("edx") hi) };
    let xcr0 = (hi as u64) << 32 | lo as u64;
    let mut size = 576; // legacy area (512) + XSAVE header (64)
    for i in 2..8 {
        if xcr0 & XSAVE_MASK & (1 << i) != 0 {
            // CPUID 0xD, i: the component's size (EAX) and offset (EBX) in the standard form.
            #[allow(unused_unsafe)]
            let c = unsafe { __cpuid_count(0xd, i) };
            size = size.max((c.ebx + c.eax) as usize);
        }
    }
    XSAVE_SIZE.store(size, Ordering::Relaxed);
}

// ANCHOR: async_preempt_amd64
// Go: asyncPreempt (preempt_amd64.s). Entered by the call pushCall injected: [rsp] holds the
// interrupted PC and the interrupted SP is rsp + 8 + 128. Saves the flags and every general
// register, then the x87/SSE/AVX/AVX-512 state with XSAVE into a 64-byte aligned area, calls
// async_preempt2, restores it all and returns over the red zone with `ret 128`.
#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".text",
    ".global chapter_scheduler_async_preempt",
    ".type chapter_scheduler_async_preempt,@function",
    ".p2align 4",
    "chapter_scheduler_async_preempt:",
    "push rbp",
    "mov rbp, rsp",
    "pushfq",
    "push rax",
    "push rcx",
    "push rdx",
    "push rbx",
    "push rsi",
    "push rdi",
    "push r8",
    "push r9",
    "push r10",
    "push r11",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    // The C ABI wants the direction flag clear at a call; popfq restores the caller's.
    "cld",
    "mov rax, qword ptr [rip + {xsave_size}@GOTPCREL]",
    "mov rax, qword ptr [rax]",
    "test rax, rax",
    "jz 2f",
    "sub rsp, rax",
    "and rsp, -64",
    // XRSTOR faults on garbage in the XSAVE header; XSAVE writes only part of it.
    "mov qword ptr [rsp + 512], 0",
    "mov qword ptr [rsp + 520], 0",
    "mov qword ptr [rsp + 528], 0",
    "mov qword ptr [rsp + 536], 0",
    "mov qword ptr [rsp + 544], 0",
    "mov qword ptr [rsp + 552], 0",
    "mov qword ptr [rsp + 560], 0",
    "mov qword ptr [rsp + 568], 0",
    "mov eax, {mask}",
    "xor edx, edx",
    "xsave64 [rsp]",
    "call {async_preempt2}",
    "mov eax, {mask}",
    "xor edx, edx",
    "xrstor64 [rsp]",
    "jmp 3f",
    "2:",
    "sub rsp, 512",
    "and rsp, -64",
    "fxsave64 [rsp]",
    "call {async_preempt2}",
    "fxrstor64 [rsp]",
    "3:",
    // Back to the saved registers: flags at rbp-8, then 14 registers.
    "lea rsp, [rbp - 120]",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop r11",
    "pop r10",
    "pop r9",
    "pop r8",
    "pop rdi",
    "pop rsi",
    "pop rbx",
    "pop rdx",
    "pop rcx",
    "pop rax",
    "popfq",
    "pop rbp",
    // Pop the interrupted PC into RIP, then add 128: SP is exactly what it was.
    "ret 128",
    ".global chapter_scheduler_async_preempt_end",
    "chapter_scheduler_async_preempt_end:",
    ".size chapter_scheduler_async_preempt, .-chapter_scheduler_async_preempt",
    xsave_size = sym XSAVE_SIZE,
    mask = const XSAVE_MASK,
    async_preempt2 = sym async_preempt2,
);
// ANCHOR_END: async_preempt_amd64

// ANCHOR: async_preempt_arm64
/// The frame `rt_sigreturn` reads on linux/arm64 (arch/arm64/include/uapi/asm/sigcontext.h,
/// ucontext.h, kernel/signal.c's rt_sigframe): the aarch64 trampoline saves the interrupted
/// registers straight into one and returns through the kernel.
#[cfg(target_arch = "aarch64")]
#[repr(C)]
struct SigFrame {
    info: [u8; 128],
    uc_flags: u64,
    uc_link: u64,
    uc_stack: libc::stack_t,
    uc_sigmask: [u64; 16],
    mc: SigContext,
}

#[cfg(target_arch = "aarch64")]
#[repr(C, align(16))]
struct SigContext {
    fault_address: u64,
    regs: [u64; 31],
    sp: u64,
    pc: u64,
    pstate: u64,
    _align: u64,
    /// Records: an fpsimd_context, then a zero terminator.
    fpsimd_magic: u32,
    fpsimd_size: u32,
    fpsr: u32,
    fpcr: u32,
    vregs: [u128; 32],
    end: [u32; 2],
    rest: [u8; 4096 - 528 - 8],
}

#[cfg(target_arch = "aarch64")]
const _: () = {
    // The kernel's layout: sizeof(struct rt_sigframe) == 4688, mcontext at 304.
    assert!(core::mem::size_of::<SigFrame>() == 4688);
    assert!(core::mem::offset_of!(SigFrame, mc) == 304);
    assert!(core::mem::offset_of!(SigContext, fpsimd_magic) == 288);
};

#[cfg(target_arch = "aarch64")]
const FPSIMD_MAGIC: u32 = 0x4650_8001;

/// Go: asyncPreempt2, for arm64: park, then finish the frame that the trampoline hands to
/// rt_sigreturn. `frame` holds x0–x29 as they were, the interrupted PC (LR on entry, per
/// pushCall), NZCV, FPSR, FPCR and q0–q31.
#[cfg(target_arch = "aarch64")]
extern "C" fn async_preempt2(frame: *mut SigFrame) {
    crate::proc::async_preempt_park();
    // SAFETY: the trampoline made `frame` on this stack, just below pushCall's 16 bytes.
    unsafe {
        let f = &mut *frame;
        let entry_sp = frame as usize + core::mem::size_of::<SigFrame>();
        f.mc.regs[30] = *(entry_sp as *const u64); // the interrupted LR, pushed by pushCall
        f.mc.sp = (entry_sp + 16) as u64;
        f.mc.fault_address = 0;
        f.mc.fpsimd_magic = FPSIMD_MAGIC;
        f.mc.fpsimd_size = 528;
        f.mc.end = [0, 0];
        f.uc_flags = 0;
        f.uc_link = 0;
        // rt_sigreturn also sets the signal mask and the signal stack: keep both as they are.
        let mut set: libc::sigset_t = core::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, core::ptr::null(), &mut set);
        core::ptr::copy_nonoverlapping(
            &set as *const _ as *const u8,
            f.uc_sigmask.as_mut_ptr() as *mut u8,
            core::mem::size_of::<libc::sigset_t>().min(128),
        );
        libc::sigaltstack(core::ptr::null(), &mut f.uc_stack);
    }
    IN_ASYNC_PREEMPT.set(false);
}

// Go: asyncPreempt (preempt_arm64.s). Go returns with `RET (R27)`: R27 is reserved in Go's
// ABI, so it may be clobbered. Rust code may have a live value in every one of x0–x30, and no
// arm64 instruction restores them all *and* jumps — except returning from a signal. So the
// trampoline saves the registers straight into an rt_sigframe and, after async_preempt2,
// calls rt_sigreturn, which loads x0–x30, SP, PC, NZCV and the FP/SIMD registers at once.
#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".text",
    ".global chapter_scheduler_async_preempt",
    ".type chapter_scheduler_async_preempt,%function",
    ".p2align 4",
    "chapter_scheduler_async_preempt:",
    // LR = interrupted PC; [sp] = interrupted LR; interrupted SP = sp + 16.
    "sub sp, sp, #4096",
    "sub sp, sp, #({frame} - 4096)",
    "stp x0, x1, [sp, #{regs}]",
    "add x0, sp, #{regs}",
    "stp x2, x3, [x0, #16]",
    "stp x4, x5, [x0, #32]",
    "stp x6, x7, [x0, #48]",
    "stp x8, x9, [x0, #64]",
    "stp x10, x11, [x0, #80]",
    "stp x12, x13, [x0, #96]",
    "stp x14, x15, [x0, #112]",
    "stp x16, x17, [x0, #128]",
    "stp x18, x19, [x0, #144]",
    "stp x20, x21, [x0, #160]",
    "stp x22, x23, [x0, #176]",
    "stp x24, x25, [x0, #192]",
    "stp x26, x27, [x0, #208]",
    "stp x28, x29, [x0, #224]",
    "str x30, [x0, #256]", // mc.pc (regs[31] is sp, then pc)
    "mrs x1, nzcv",
    "str x1, [x0, #264]", // mc.pstate
    "add x0, x0, #280", // the fpsimd record
    "mrs x1, fpsr",
    "mrs x2, fpcr",
    "stp w1, w2, [x0, #8]",
    "add x0, x0, #16",
    "stp q0, q1, [x0, #0]",
    "stp q2, q3, [x0, #32]",
    "stp q4, q5, [x0, #64]",
    "stp q6, q7, [x0, #96]",
    "stp q8, q9, [x0, #128]",
    "stp q10, q11, [x0, #160]",
    "stp q12, q13, [x0, #192]",
    "stp q14, q15, [x0, #224]",
    "stp q16, q17, [x0, #256]",
    "stp q18, q19, [x0, #288]",
    "stp q20, q21, [x0, #320]",
    "stp q22, q23, [x0, #352]",
    "stp q24, q25, [x0, #384]",
    "stp q26, q27, [x0, #416]",
    "stp q28, q29, [x0, #448]",
    "stp q30, q31, [x0, #480]",
    "mov x0, sp",
    "bl {async_preempt2}",
    // SP is the frame again: return to the interrupted code through the kernel.
    "mov x8, #139", // __NR_rt_sigreturn
    "svc #0",
    "brk #0x1",
    ".global chapter_scheduler_async_preempt_end",
    "chapter_scheduler_async_preempt_end:",
    ".size chapter_scheduler_async_preempt, .-chapter_scheduler_async_preempt",
    frame = const core::mem::size_of::<SigFrame>(),
    regs = const core::mem::offset_of!(SigFrame, mc) + 8,
    async_preempt2 = sym async_preempt2,
);
// ANCHOR_END: async_preempt_arm64

// ---------------------------------------------------------------------------------------
// Stack overflow

// ANCHOR: sigsegv
/// SIGSEGV / SIGBUS, on the signal stack. Go never faults on a stack overflow: the function
/// prologue notices first and newstack dies with "stack overflow" (stack.go). Here the
/// goroutine runs into its guard page, and the handler says what Go would have said:
///
/// ```text
/// runtime: goroutine stack exceeds 262144-byte limit
/// runtime: sp=0x7f3a5c2bfe40 stack=[0x7f3a5c2c0000, 0x7f3a5c300000]
/// fatal error: stack overflow
/// ```
///
/// and exits with status 2, like every Go fatal error. Any other fault is not ours: put back
/// whoever handled it before and return, so the instruction faults again and dies as it would
/// have (a real segfault stays a segfault; a thread's own overflow gets Rust's message).
extern "C" fn sigsegv(sig: c_int, info: *mut siginfo_t, ctx: *mut c_void) {
    // SAFETY: the kernel passes a valid siginfo and ucontext to an SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    if let Some(gp) = getm().and_then(|m| m.curg()) {
        let (guard_lo, guard_hi) = gp.stack.guard();
        if (guard_lo..guard_hi).contains(&addr) {
            let (_, sp) = unsafe { ctx_pc_sp(ctx as *mut libc::ucontext_t) };
            let mut w = Writer::default();
            w.str("runtime: goroutine stack exceeds ");
            w.dec(gp.stack.size() as u64);
            w.str("-byte limit\nruntime: sp=");
            w.hex(sp as u64);
            w.str(" stack=[");
            w.hex(gp.stack.lo() as u64);
            w.str(", ");
            w.hex(gp.stack.hi() as u64);
            w.str("]\nfatal error: stack overflow\n");
            unsafe {
                libc::write(2, w.buf.as_ptr() as *const c_void, w.len);
                libc::_exit(2);
            }
        }
    }
    let old = if sig == libc::SIGBUS {
        &OLD_BUS
    } else {
        &OLD_SEGV
    };
    unsafe {
        match old.get() {
            Some(sa) => libc::sigaction(sig, sa, core::ptr::null_mut()),
            None => libc::sigaction(sig, &core::mem::zeroed(), core::ptr::null_mut()), // SIG_DFL
        };
    }
}
// ANCHOR_END: sigsegv

/// A line buffer for a signal handler: no allocation, no formatting machinery.
struct Writer {
    buf: [u8; 256],
    len: usize,
}

impl Default for Writer {
    fn default() -> Self {
        Writer {
            buf: [0; 256],
            len: 0,
        }
    }
}

impl Writer {
    fn bytes(&mut self, b: &[u8]) {
        let n = b.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&b[..n]);
        self.len += n;
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    /// Go: printuint.
    fn dec(&mut self, mut v: u64) {
        let mut d = [0u8; 20];
        let mut i = d.len();
        loop {
            i -= 1;
            d[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.bytes(&d[i..]);
    }
    /// Go: printhex: `0x` and lowercase digits.
    fn hex(&mut self, mut v: u64) {
        let mut d = [0u8; 18];
        let mut i = d.len();
        loop {
            i -= 1;
            d[i] = b"0123456789abcdef"[(v & 15) as usize];
            v >>= 4;
            if v == 0 {
                break;
            }
        }
        i -= 2;
        d[i] = b'0';
        d[i + 1] = b'x';
        self.bytes(&d[i..]);
    }
}

#[cfg(all(test, not(miri)))]
mod tests {
    use super::Writer;

    #[test]
    fn the_handler_formats_numbers_like_go_print() {
        let mut w = Writer::default();
        w.dec(262144);
        w.str(" ");
        w.hex(0x7f3a_5c2b_fe40);
        w.str(" ");
        w.hex(0);
        w.str(" ");
        w.dec(0);
        assert_eq!(
            std::str::from_utf8(&w.buf[..w.len]).unwrap(),
            "262144 0x7f3a5c2bfe40 0x0 0"
        );
    }
}
