//! The context switch: Go's `gogo` / `gosave` / `mcall` roles, written in assembly for x86_64
//! and aarch64 (Go: runtime·gogo, runtime·mcall in asm_amd64.s / asm_arm64.s).
//!
//! Go saves only SP, PC and a few registers in a `gobuf`, because Go's ABI treats every
//! register as caller-saved across a call. Rust follows the platform C ABI, where some
//! registers are callee-saved, so [`gogo_switch`] pushes those onto the current stack, stores
//! the stack pointer, loads the other side's stack pointer and pops the same set there. A
//! suspended goroutine is therefore described by a single word: its saved SP ([`Gobuf::sp`]).

use core::arch::global_asm;

/// The saved context of a suspended goroutine or of an M's scheduling stack (g0).
/// Go: runtime.gobuf (runtime2.go). Everything else lives on the suspended stack itself.
#[derive(Debug, Default)]
#[repr(C)]
pub struct Gobuf {
    pub sp: usize,
}

extern "C" {
    /// Saves the callee-saved registers on the current stack, stores SP into `*save_sp`,
    /// switches to `new_sp` and restores that side's registers. Returns when someone switches
    /// back to the saved SP.
    fn gogo_switch(save_sp: *mut usize, new_sp: usize);
    /// First code a new goroutine runs: calls `entry(arg)` from the registers prepared by
    /// [`Gobuf::prepare`]. `entry` must never return.
    fn goroutine_trampoline();
    /// Saves the current context like `gogo_switch`, then calls `entry(arg)` on the fresh
    /// stack whose top is `top`. `entry` must never return.
    fn gogo_start(save_sp: *mut usize, top: usize, entry: extern "C" fn(usize) -> !, arg: usize);
}

/// Switches from the context whose SP is saved into `from` to the one saved in `to`.
///
/// # Safety
/// `to` must hold a context made by [`Gobuf::prepare`] or saved by an earlier switch, whose
/// stack is still mapped, and nothing else may resume `to` concurrently.
#[inline(always)]
pub unsafe fn switch(from: *mut Gobuf, to: *const Gobuf) {
    gogo_switch(core::ptr::addr_of_mut!((*from).sp), (*to).sp);
}

// ANCHOR: start
/// Starts a goroutine that has never run: saves the current context into `from` and calls
/// `entry(arg)` on the fresh stack below `top`. Nothing is written to the new stack before it
/// runs, so `go f()` does not touch the new goroutine's stack at all.
///
/// # Safety
/// `top` must be the 16-byte-aligned high end of an unused, writable stack.
#[inline(always)]
pub unsafe fn start(from: *mut Gobuf, top: usize, entry: extern "C" fn(usize) -> !, arg: usize) {
    debug_assert_eq!(top % 16, 0);
    gogo_start(core::ptr::addr_of_mut!((*from).sp), top, entry, arg);
}
// ANCHOR_END: start

impl Gobuf {
    /// Lays out a fresh stack so that the first switch to it "returns" into the trampoline,
    /// which calls `entry(arg)`. Go: gostartcallfn (stack.go / sys_x86.go), which fakes a
    /// call frame for goexit the same way.
    ///
    /// # Safety
    /// `top` must be the 16-byte-aligned high end of a writable stack of at least 256 bytes.
    pub unsafe fn prepare(top: usize, entry: extern "C" fn(usize) -> !, arg: usize) -> Gobuf {
        debug_assert_eq!(top % 16, 0);
        let words = |sp: usize, vals: &[usize]| {
            for (i, v) in vals.iter().enumerate() {
                ((sp + i * 8) as *mut usize).write(*v);
            }
        };
        let tramp = goroutine_trampoline as *const () as usize;
        #[cfg(target_arch = "x86_64")]
        let sp = {
            // Popped in order: r15 r14 r13 r12(arg) rbx(entry) rbp(0), then `ret` to the
            // trampoline, leaving SP 16-byte aligned for its `call`.
            let sp = top - 72;
            words(sp, &[0, 0, 0, arg, entry as usize, 0, tramp, 0, 0]);
            sp
        };
        #[cfg(target_arch = "aarch64")]
        let sp = {
            // x19(arg) x20(entry) x21..x28, x29(fp=0) x30(lr=trampoline), d8..d15.
            let sp = top - 176;
            let mut v = [0usize; 22];
            v[0] = arg;
            v[1] = entry as usize;
            v[11] = tramp;
            words(sp, &v);
            sp
        };
        Gobuf { sp }
    }
}

#[cfg(target_arch = "x86_64")]
global_asm!(
    ".text",
    ".global gogo_switch",
    ".type gogo_switch,@function",
    "gogo_switch:",
    "push rbp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "mov [rdi], rsp",
    "mov rsp, rsi",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    ".size gogo_switch, .-gogo_switch",
    ".global goroutine_trampoline",
    ".type goroutine_trampoline,@function",
    "goroutine_trampoline:",
    "mov rdi, r12",
    "call rbx",
    "ud2",
    ".size goroutine_trampoline, .-goroutine_trampoline",
    ".global gogo_start",
    ".type gogo_start,@function",
    "gogo_start:",
    "push rbp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "mov [rdi], rsp",
    "mov rsp, rsi",
    "mov rdi, rcx",
    "xor ebp, ebp", // the new stack's frame-pointer chain ends here
    "call rdx",
    "ud2",
    ".size gogo_start, .-gogo_start",
    // signal.rs never preempts inside [gogo_switch, gogo_asm_end).
    ".global gogo_asm_end",
    "gogo_asm_end:",
);

#[cfg(target_arch = "aarch64")]
global_asm!(
    ".text",
    ".global gogo_switch",
    ".type gogo_switch,%function",
    "gogo_switch:",
    "sub sp, sp, #176",
    "stp x19, x20, [sp, #0]",
    "stp x21, x22, [sp, #16]",
    "stp x23, x24, [sp, #32]",
    "stp x25, x26, [sp, #48]",
    "stp x27, x28, [sp, #64]",
    "stp x29, x30, [sp, #80]",
    "stp d8, d9, [sp, #96]",
    "stp d10, d11, [sp, #112]",
    "stp d12, d13, [sp, #128]",
    "stp d14, d15, [sp, #144]",
    "mov x9, sp",
    "str x9, [x0]",
    "mov sp, x1",
    "ldp x19, x20, [sp, #0]",
    "ldp x21, x22, [sp, #16]",
    "ldp x23, x24, [sp, #32]",
    "ldp x25, x26, [sp, #48]",
    "ldp x27, x28, [sp, #64]",
    "ldp x29, x30, [sp, #80]",
    "ldp d8, d9, [sp, #96]",
    "ldp d10, d11, [sp, #112]",
    "ldp d12, d13, [sp, #128]",
    "ldp d14, d15, [sp, #144]",
    "add sp, sp, #176",
    "ret",
    ".size gogo_switch, .-gogo_switch",
    ".global goroutine_trampoline",
    ".type goroutine_trampoline,%function",
    "goroutine_trampoline:",
    "mov x0, x19",
    "blr x20",
    "brk #0",
    ".size goroutine_trampoline, .-goroutine_trampoline",
    ".global gogo_start",
    ".type gogo_start,%function",
    "gogo_start:",
    "sub sp, sp, #176",
    "stp x19, x20, [sp, #0]",
    "stp x21, x22, [sp, #16]",
    "stp x23, x24, [sp, #32]",
    "stp x25, x26, [sp, #48]",
    "stp x27, x28, [sp, #64]",
    "stp x29, x30, [sp, #80]",
    "stp d8, d9, [sp, #96]",
    "stp d10, d11, [sp, #112]",
    "stp d12, d13, [sp, #128]",
    "stp d14, d15, [sp, #144]",
    "mov x9, sp",
    "str x9, [x0]",
    "mov sp, x1",
    "mov x0, x3",
    "mov x29, xzr", // the new stack's frame-pointer chain ends here
    "mov x30, xzr",
    "blr x2",
    "brk #0",
    ".size gogo_start, .-gogo_start",
    ".global gogo_asm_end",
    "gogo_asm_end:",
);

#[cfg(all(test, not(miri)))]
mod tests {
    use super::*;
    use crate::stack::Stack;
    use std::cell::Cell;

    thread_local! {
        static MAIN: Cell<*mut Gobuf> = const { Cell::new(core::ptr::null_mut()) };
        static CO: Cell<*mut Gobuf> = const { Cell::new(core::ptr::null_mut()) };
    }

    extern "C" fn counter(arg: usize) -> ! {
        let out = arg as *mut Vec<u32>;
        for i in 0..3 {
            unsafe { (*out).push(i) };
            unsafe { switch(CO.get(), MAIN.get()) };
        }
        loop {
            unsafe { switch(CO.get(), MAIN.get()) };
        }
    }

    // ANCHOR: switch_test
    /// Two contexts on one thread take turns: each switch resumes the other exactly where
    /// it stopped, with its own stack and registers intact.
    #[test]
    fn switch_resumes_where_it_left_off() {
        let stack = Stack::new(64 * 1024).unwrap();
        let mut log: Vec<u32> = Vec::new();
        let mut main = Gobuf::default();
        let mut co = unsafe { Gobuf::prepare(stack.hi(), counter, &mut log as *mut _ as usize) };
        MAIN.set(&mut main);
        CO.set(&mut co);
        for round in 0..3u32 {
            unsafe { switch(&mut main, &co) };
            assert_eq!(log.len() as u32, round + 1, "one step per switch");
        }
        assert_eq!(log, [0, 1, 2]);
    }
    // ANCHOR_END: switch_test

    #[test]
    fn start_runs_a_fresh_stack_and_switch_resumes_it() {
        let stack = Stack::new(64 * 1024).unwrap();
        let mut log: Vec<u32> = Vec::new();
        let mut main = Gobuf::default();
        let mut co = Gobuf::default();
        MAIN.set(&mut main);
        CO.set(&mut co);
        unsafe { start(&mut main, stack.hi(), counter, &mut log as *mut _ as usize) };
        assert_eq!(log, [0], "start ran the entry until its first switch back");
        unsafe { switch(&mut main, &co) };
        assert_eq!(log, [0, 1]);
    }
}
