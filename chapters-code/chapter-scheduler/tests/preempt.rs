#![cfg(not(miri))] // signals, mmap and inline assembly: miri runs none of them

//! Asynchronous preemption (Go 1.14+): sysmon's SIGURG stops a goroutine that never reaches
//! a safe point — the same three observations as the golden Go program (go/preempt).

mod common;
use chapter_scheduler::{async_preemptions, go, gosched, Config, Runtime};
use common::this_test_binary;
use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// The spinner: a loop with no call into the runtime, so no safe point — only a signal can
/// take its P away.
fn spin(started: &AtomicBool, stop: &AtomicBool) -> u64 {
    started.store(true, SeqCst);
    let mut x = 1u64;
    while !stop.load(Relaxed) {
        x = black_box(x.wrapping_mul(3));
    }
    x
}

/// At GOMAXPROCS=1, main starts the spinner and yields; it can run again only once the
/// spinner loses the one P. Returns how long main waited.
fn main_waits_for_the_spinner(config: Config) -> Duration {
    Runtime { config }.run(|| {
        let started = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (s1, s2) = (started.clone(), stop.clone());
        let t0 = Instant::now();
        go(move || {
            black_box(spin(&s1, &s2));
        });
        while !started.load(SeqCst) {
            gosched(); // the spinner runs next (runnext), main goes to the global queue
        }
        let waited = t0.elapsed();
        // Only with the spinner started does main "resume"; if it is still running, it was
        // preempted. Stop it so that the runtime can wind down.
        stop.store(true, SeqCst);
        waited
    })
}

fn one_p(async_preempt: bool) -> Config {
    Config {
        gomaxprocs: 1,
        async_preempt,
        ..Config::default()
    }
}

// ANCHOR: preempt_test
/// Go 1.14+: sysmon notices after 10ms and signals the thread; the handler injects a call to
/// asyncPreempt and main gets the P back.
#[test]
fn a_loop_without_calls_is_preempted_by_a_signal() {
    let before = async_preemptions();
    let waited = main_waits_for_the_spinner(one_p(true));
    eprintln!(
        "loop without calls, GOMAXPROCS=1: main resumed after {:.1} ms",
        waited.as_secs_f64() * 1e3
    );
    assert!(waited < Duration::from_secs(1), "main waited {waited:?}");
    assert!(async_preemptions() > before, "a signal did it");
}
// ANCHOR_END: preempt_test

// ANCHOR: starve_test
/// GODEBUG=asyncpreemptoff=1: the same program hangs. It runs in a child process (this test
/// binary, re-executed to run only this test with STARVE_CHILD set), which the parent kills
/// once main has starved for a second.
#[test]
fn without_async_preemption_a_loop_without_calls_starves_main() {
    if std::env::var_os("STARVE_CHILD").is_some() {
        println!("start");
        let waited = main_waits_for_the_spinner(one_p(false));
        println!("resumed {}", waited.as_nanos()); // never printed
        return;
    }
    let mut child = this_test_binary()
        .args([
            "--exact",
            "without_async_preemption_a_loop_without_calls_starves_main",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("STARVE_CHILD", "1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let out = BufReader::new(child.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in out.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // Wait for the child's runtime to start (the test harness prints lines of its own).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            // (The harness's "test ... " line has no newline before ours.)
            Ok(l) if l.ends_with("start") => break,
            Ok(_) => continue,
            Err(e) => {
                let _ = child.kill();
                panic!("the child never started: {e}");
            }
        }
    }
    let resumed = loop {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(l) if l.contains("resumed") => break Some(l),
            Ok(_) => continue,
            Err(_) => break None,
        }
    };
    let still_running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(resumed, None, "main should have starved");
    assert!(still_running, "the child should still be spinning");
}
// ANCHOR_END: starve_test

/// A goroutine may now be stopped while it holds a std Mutex (Rust's locks belong to
/// threads, not goroutines). At GOMAXPROCS=1 the next goroutine that wants the lock then
/// blocks its thread, with the only P, in the kernel: it must be preempted in turn — at the
/// system call — so that the holder can run and unlock. (Without that exception to "only the
/// program's own code", this test hangs.)
#[test]
fn a_goroutine_blocked_on_a_std_mutex_gives_its_p_back() {
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(60));
        if !d.load(SeqCst) {
            eprintln!("a_goroutine_blocked_on_a_std_mutex_gives_its_p_back: hung for 60 s");
            std::process::exit(101);
        }
    });
    let got = Runtime::new(1).run(|| {
        let lock = Arc::new(std::sync::Mutex::new(0));
        let started = Arc::new(AtomicBool::new(false));
        let go_on = Arc::new(AtomicBool::new(false));
        let (l, s, g) = (lock.clone(), started.clone(), go_on.clone());
        go(move || {
            let mut held = l.lock().unwrap();
            s.store(true, SeqCst);
            while !g.load(Relaxed) {
                black_box(&mut held); // holds the lock until told to go on; no safe point
            }
            *held += 1;
        });
        while !started.load(SeqCst) {
            gosched(); // we come back only once the holder has been preempted
        }
        go(move || go_on.store(true, SeqCst)); // it needs a P to run: ours
        let v = *lock.lock().unwrap(); // blocks this thread, holding the only P
        v
    });
    done.store(true, SeqCst);
    assert_eq!(got, 1);
}

// ---------------------------------------------------------------------------------------
// Registers survive preemption

/// Integer and floating-point work that keeps many values live at once: 8 float and 8
/// integer accumulators, so that the loop uses most general and vector registers.
#[inline(never)]
fn work(seed: u64) -> [u64; 16] {
    let mut f = [0f64; 8];
    let mut u = [0u64; 8];
    for (i, (f, u)) in f.iter_mut().zip(u.iter_mut()).enumerate() {
        *f = (seed as f64 + i as f64).sqrt() + 0.5;
        *u = seed
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(i as u32 * 7)
            | 1;
    }
    for k in 0..20_000u64 {
        for i in 0..8 {
            f[i] = (f[i] * 1.000_001 + (u[i] >> 40) as f64 * 1e-9).sqrt() + f[(i + 1) % 8] * 0.25;
            u[i] = u[i]
                .wrapping_mul(6364136223846793005)
                .wrapping_add(k ^ u[(i + 3) % 8])
                .rotate_left(13);
        }
    }
    let mut out = [0u64; 16];
    for i in 0..8 {
        out[i] = f[i].to_bits();
        out[8 + i] = u[i];
    }
    out
}

/// The same idea on the SIMD registers directly: 16 vector accumulators of two f64 each.
#[inline(never)]
fn work_simd(seed: u64) -> [u64; 32] {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") {
            return unsafe { simd_avx2(seed) }; // the upper halves of ymm0-15 too
        }
    }
    simd_portable(seed)
}

fn simd_portable(seed: u64) -> [u64; 32] {
    let mut v = [[0f64; 2]; 16];
    for (i, v) in v.iter_mut().enumerate() {
        *v = [seed as f64 + i as f64, 1.0 / (seed as f64 + i as f64 + 1.0)];
    }
    for k in 0..4_000 {
        let kf = k as f64 * 1e-7;
        for i in 0..16 {
            let o = v[(i + 5) % 16];
            v[i] = [
                v[i][0] * 0.999_999 + o[1] + kf,
                (v[i][1] + o[0] * 1e-6).sqrt(),
            ];
        }
    }
    let mut out = [0u64; 32];
    for i in 0..16 {
        out[2 * i] = v[i][0].to_bits();
        out[2 * i + 1] = v[i][1].to_bits();
    }
    out
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn simd_avx2(seed: u64) -> [u64; 32] {
    use std::arch::x86_64::*;
    let mut v = [_mm256_setzero_pd(); 8];
    for (i, v) in v.iter_mut().enumerate() {
        let b = seed as f64 + 4.0 * i as f64;
        *v = _mm256_set_pd(b, b + 1.0, 1.0 / (b + 2.0), (b + 3.0).sqrt());
    }
    let c = _mm256_set1_pd(0.999_999);
    for k in 0..4_000 {
        let kv = _mm256_set1_pd(k as f64 * 1e-7);
        for i in 0..8 {
            let o = _mm256_permute4x64_pd::<0b00_11_10_01>(v[(i + 3) % 8]);
            v[i] = _mm256_add_pd(_mm256_mul_pd(v[i], c), _mm256_sqrt_pd(_mm256_add_pd(o, kv)));
        }
    }
    let mut out = [0u64; 32];
    for i in 0..8 {
        let mut a = [0f64; 4];
        _mm256_storeu_pd(a.as_mut_ptr(), v[i]);
        for j in 0..4 {
            out[4 * i + j] = a[j].to_bits();
        }
    }
    out
}

/// Several goroutines on two Ps compute without ever reaching a safe point, and are stopped
/// by SIGURG again and again, anywhere in their loops; each result must be bit-for-bit what
/// a plain thread computes.
#[test]
fn float_and_integer_math_survives_many_preemptions() {
    const SEEDS: u64 = 16;
    const WORKERS: usize = 4;
    const WANT: u64 = 30; // preemptions to see before stopping
                          // The answers, computed on a thread that no runtime touches.
    let expect = std::thread::spawn(|| {
        (0..SEEDS)
            .map(|s| (work(s), work_simd(s)))
            .collect::<Vec<_>>()
    })
    .join()
    .unwrap();
    let expect = Arc::new(expect);
    let (rounds, preempted, bad) = Runtime::new(2).run(move || {
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicUsize::new(0));
        let rounds = Arc::new(AtomicU64::new(0));
        let bad = Arc::new(AtomicU64::new(0));
        let before = async_preemptions();
        for w in 0..WORKERS {
            let (stop, done, rounds, bad, expect) = (
                stop.clone(),
                done.clone(),
                rounds.clone(),
                bad.clone(),
                expect.clone(),
            );
            go(move || {
                let mut s = w as u64;
                while !stop.load(Relaxed) {
                    let k = (s % SEEDS) as usize;
                    if work(k as u64) != expect[k].0 || work_simd(k as u64) != expect[k].1 {
                        bad.fetch_add(1, SeqCst);
                    }
                    rounds.fetch_add(1, Relaxed);
                    s += 1;
                }
                done.fetch_add(1, SeqCst);
            });
        }
        let t0 = Instant::now();
        while async_preemptions() - before < WANT && t0.elapsed() < Duration::from_secs(60) {
            gosched();
        }
        stop.store(true, SeqCst);
        while done.load(SeqCst) < WORKERS {
            gosched();
        }
        (
            rounds.load(SeqCst),
            async_preemptions() - before,
            bad.load(SeqCst),
        )
    });
    eprintln!("{WORKERS} goroutines on 2 Ps: {rounds} rounds, {preempted} async preemptions");
    assert_eq!(
        bad, 0,
        "{bad} of {rounds} results differ from the plain thread's"
    );
    assert!(preempted >= WANT, "only {preempted} preemptions in 60 s");
}

// ---------------------------------------------------------------------------------------
// Every register, directly

/// What the canary loop reads and reports (the assembly finds the fields by offset_of!).
#[repr(C, align(64))]
struct Canary {
    /// Expected vector registers, 32 bytes apart: x86_64 ymm0–31 (xmm0–15: the low halves),
    /// aarch64 q0–q31 (16 bytes each, in the first half).
    vec: [u64; 128],
    /// Expected AVX-512 opmask registers k0–k7.
    k: [u64; 8],
    scratch: [u64; 4],
    /// Expected general registers: x86_64 rax rbx rcx rdx rsi rdi rbp r8–r15; aarch64 x0–x30.
    gpr: [u64; 32],
    stop: *const AtomicBool,
    iters: u64,
    /// 0: all good; 1 flags, 2 a general register, 3 the red zone, 4 a vector register,
    /// 5 the FP control register (MXCSR / FPCR), 6 an opmask register.
    fail: u64,
    status: u64,
}

impl Canary {
    fn new(seed: u64, stop: &AtomicBool) -> Canary {
        let mix = |i: u64| {
            let x = (seed << 32 | i).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            x ^ x >> 29
        };
        Canary {
            vec: std::array::from_fn(|i| mix(100 + i as u64)),
            k: std::array::from_fn(|i| mix(300 + i as u64)),
            scratch: [0; 4],
            gpr: std::array::from_fn(|i| mix(i as u64)),
            stop,
            iters: 0,
            fail: 0,
            status: 0,
        }
    }
}

// ANCHOR: canary_amd64
/// Fills every general register, every vector register, the flags, MXCSR and the red zone
/// with known values, then loops: 256 `nop`s with the carry flag set, 256 with it clear —
/// where a signal nearly always lands — then checks everything, until `stop`.
#[cfg(target_arch = "x86_64")]
macro_rules! canary_loop {
    ($name:ident, $avx:literal, $lanes:literal) => {
        unsafe fn $name(c: &mut Canary) {
            std::arch::asm!(
                "push rbx",
                "push rbp",
                // [rsp, +128): the expected GPRs; +128 the Canary; +136 caller's MXCSR; +144 ours.
                "sub rsp, 160",
                "mov [rsp + 128], rdi",
                ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14",
                "mov rax, [rdi + {gpr} + 8*\\i]",
                "mov [rsp + 8*\\i], rax",
                ".endr",
                ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15",
                ".if {avx}",
                "vmovdqu ymm\\i, [rdi + 32*\\i]",
                ".else",
                "movdqu xmm\\i, [rdi + 32*\\i]",
                ".endif",
                ".endr",
                // AVX-512: ymm16–31 and the opmask registers, which glibc's memcpy uses.
                ".if {avx} == 2",
                ".irp i,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
                "vmovdqu64 ymm\\i, [rdi + 32*\\i]",
                ".endr",
                ".irp i,1,2,3,4,5,6,7",
                "kmovq k\\i, [rdi + {k} + 8*\\i]",
                ".endr",
                ".endif",
                // Round toward zero: a non-default MXCSR that must come back too.
                "stmxcsr [rsp + 136]",
                "mov eax, [rsp + 136]",
                "or eax, 0x6000",
                "and eax, 0xffc0",
                "mov [rsp + 144], eax",
                "ldmxcsr [rsp + 144]",
                // The red zone: 128 bytes below SP that an injected call must step over.
                ".irp k,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16",
                "mov qword ptr [rsp - 8*\\k], 0x5a5a0000 + \\k",
                ".endr",
                "mov rax, [rsp + 0]",
                "mov rbx, [rsp + 8]",
                "mov rcx, [rsp + 16]",
                "mov rdx, [rsp + 24]",
                "mov rsi, [rsp + 32]",
                "mov rdi, [rsp + 40]",
                "mov rbp, [rsp + 48]",
                "mov r8, [rsp + 56]",
                "mov r9, [rsp + 64]",
                "mov r10, [rsp + 72]",
                "mov r11, [rsp + 80]",
                "mov r12, [rsp + 88]",
                "mov r13, [rsp + 96]",
                "mov r14, [rsp + 104]",
                "mov r15, [rsp + 112]",
                "2:",
                "stc",
                ".rept 256",
                "nop",
                ".endr",
                "jnc 90f",
                "clc",
                ".rept 256",
                "nop",
                ".endr",
                "jc 90f",
                "cmp rax, [rsp + 0]",
                "jne 91f",
                "cmp rbx, [rsp + 8]",
                "jne 91f",
                "cmp rcx, [rsp + 16]",
                "jne 91f",
                "cmp rdx, [rsp + 24]",
                "jne 91f",
                "cmp rsi, [rsp + 32]",
                "jne 91f",
                "cmp rdi, [rsp + 40]",
                "jne 91f",
                "cmp rbp, [rsp + 48]",
                "jne 91f",
                "cmp r8, [rsp + 56]",
                "jne 91f",
                "cmp r9, [rsp + 64]",
                "jne 91f",
                "cmp r10, [rsp + 72]",
                "jne 91f",
                "cmp r11, [rsp + 80]",
                "jne 91f",
                "cmp r12, [rsp + 88]",
                "jne 91f",
                "cmp r13, [rsp + 96]",
                "jne 91f",
                "cmp r14, [rsp + 104]",
                "jne 91f",
                "cmp r15, [rsp + 112]",
                "jne 91f",
                ".irp k,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16",
                "cmp qword ptr [rsp - 8*\\k], 0x5a5a0000 + \\k",
                "jne 92f",
                ".endr",
                // Vectors, with rax (the Canary) and rcx as scratch; both were just checked.
                "mov rax, [rsp + 128]",
                ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15",
                ".if {avx}",
                "vmovdqu [rax + {scratch}], ymm\\i",
                ".else",
                "movdqu [rax + {scratch}], xmm\\i",
                ".endif",
                ".irp j,0,1,2,3",
                ".if \\j < {lanes}",
                "mov rcx, [rax + {scratch} + 8*\\j]",
                "cmp rcx, [rax + 32*\\i + 8*\\j]",
                "jne 93f",
                ".endif",
                ".endr",
                ".endr",
                ".if {avx} == 2",
                ".irp i,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
                "vmovdqu64 [rax + {scratch}], ymm\\i",
                ".irp j,0,1,2,3",
                "mov rcx, [rax + {scratch} + 8*\\j]",
                "cmp rcx, [rax + 32*\\i + 8*\\j]",
                "jne 93f",
                ".endr",
                ".endr",
                ".irp i,1,2,3,4,5,6,7",
                "kmovq rcx, k\\i",
                "cmp rcx, [rax + {k} + 8*\\i]",
                "jne 95f",
                ".endr",
                ".endif",
                "stmxcsr [rax + {status}]",
                "mov ecx, [rax + {status}]",
                "and ecx, 0xffc0",
                "cmp ecx, [rsp + 144]",
                "jne 94f",
                "inc qword ptr [rax + {iters}]",
                "mov rcx, [rax + {stop}]",
                "movzx ecx, byte ptr [rcx]",
                "test ecx, ecx",
                "mov rax, [rsp + 0]", // mov leaves the flags alone
                "mov rcx, [rsp + 16]",
                "jz 2b",
                "xor eax, eax",
                "jmp 98f",
                "90:",
                "mov eax, 1",
                "jmp 98f",
                "91:",
                "mov eax, 2",
                "jmp 98f",
                "92:",
                "mov eax, 3",
                "jmp 98f",
                "93:",
                "mov eax, 4",
                "jmp 98f",
                "94:",
                "mov eax, 5",
                "jmp 98f",
                "95:",
                "mov eax, 6",
                "98:",
                "mov rcx, [rsp + 128]",
                "mov [rcx + {fail}], rax",
                "ldmxcsr [rsp + 136]",
                "add rsp, 160",
                "pop rbp",
                "pop rbx",
                avx = const $avx,
                lanes = const $lanes,
                k = const std::mem::offset_of!(Canary, k),
                scratch = const std::mem::offset_of!(Canary, scratch),
                gpr = const std::mem::offset_of!(Canary, gpr),
                stop = const std::mem::offset_of!(Canary, stop),
                iters = const std::mem::offset_of!(Canary, iters),
                fail = const std::mem::offset_of!(Canary, fail),
                status = const std::mem::offset_of!(Canary, status),
                inout("rdi") c as *mut Canary => _,
                out("r12") _,
                out("r13") _,
                out("r14") _,
                out("r15") _,
                clobber_abi("C"),
            );
        }
    };
}
// ANCHOR_END: canary_amd64

#[cfg(target_arch = "x86_64")]
canary_loop!(canary_avx512, 2, 4);
#[cfg(target_arch = "x86_64")]
canary_loop!(canary_avx, 1, 4);
#[cfg(target_arch = "x86_64")]
canary_loop!(canary_sse, 0, 2);

#[cfg(target_arch = "x86_64")]
fn canary(c: &mut Canary) {
    if std::is_x86_feature_detected!("avx512vl") && std::is_x86_feature_detected!("avx512bw") {
        unsafe { canary_avx512(c) }
    } else if std::is_x86_feature_detected!("avx") {
        unsafe { canary_avx(c) }
    } else {
        unsafe { canary_sse(c) }
    }
}

/// The same on arm64: x0–x30, q0–q31, NZCV and FPCR (AAPCS64 has no red zone).
#[cfg(target_arch = "aarch64")]
fn canary(c: &mut Canary) {
    unsafe {
        std::arch::asm!(
            // [sp, +32): x18 x19 x29 x30; +32 the Canary; +40 caller's FPCR; +48 ours;
            // +56 a spill slot; [+64, +312): the expected x0–x30.
            "sub sp, sp, #320",
            "stp x18, x19, [sp, #0]",
            "stp x29, x30, [sp, #16]",
            "str x0, [sp, #32]",
            ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30",
            "ldr x1, [x0, #{gpr} + 8*\\i]",
            "str x1, [sp, #64 + 8*\\i]",
            ".endr",
            ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
            "ldr q\\i, [x0, #16*\\i]",
            ".endr",
            // Round toward zero: a non-default FPCR that must come back too.
            "mrs x1, fpcr",
            "str x1, [sp, #40]",
            "orr x1, x1, #0xc00000",
            "str x1, [sp, #48]",
            "msr fpcr, x1",
            ".irp i,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30",
            "ldr x\\i, [sp, #64 + 8*\\i]",
            ".endr",
            "ldr x0, [sp, #64]",
            "2:",
            "cmp xzr, xzr", // NZCV = 0110
            ".rept 256",
            "nop",
            ".endr",
            "b.ne 90f",
            "b.cc 90f",
            "b.mi 90f",
            "b.vs 90f",
            "ccmp xzr, #0, #9, ne", // Z is set, so "ne" fails and NZCV = 1001
            ".rept 256",
            "nop",
            ".endr",
            "b.pl 90f",
            "b.vc 90f",
            "b.eq 90f",
            "b.cs 90f",
            "str x1, [sp, #56]",
            "ldr x1, [sp, #64]",
            "cmp x0, x1",
            "b.ne 91f",
            "ldr x1, [sp, #56]",
            "ldr x0, [sp, #72]",
            "cmp x1, x0",
            "b.ne 91f",
            ".irp i,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30",
            "ldr x0, [sp, #64 + 8*\\i]",
            "cmp x\\i, x0",
            "b.ne 91f",
            ".endr",
            // Vectors, with x0, x1 (the Canary) and x2 as scratch; all three were just checked.
            "ldr x1, [sp, #32]",
            ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
            "mov x0, v\\i\\().d[0]",
            "ldr x2, [x1, #16*\\i]",
            "cmp x0, x2",
            "b.ne 93f",
            "mov x0, v\\i\\().d[1]",
            "ldr x2, [x1, #16*\\i + 8]",
            "cmp x0, x2",
            "b.ne 93f",
            ".endr",
            "mrs x0, fpcr",
            "ldr x2, [sp, #48]",
            "cmp x0, x2",
            "b.ne 94f",
            "ldr x0, [x1, #{iters}]",
            "add x0, x0, #1",
            "str x0, [x1, #{iters}]",
            "ldr x0, [x1, #{stop}]",
            "ldrb w0, [x0]",
            "ldr x2, [sp, #80]",
            "cbnz w0, 97f",
            "ldr x0, [sp, #64]",
            "ldr x1, [sp, #72]",
            "b 2b",
            "97:",
            "mov x0, #0",
            "b 98f",
            "90:",
            "mov x0, #1",
            "b 98f",
            "91:",
            "mov x0, #2",
            "b 98f",
            "93:",
            "mov x0, #4",
            "b 98f",
            "94:",
            "mov x0, #5",
            "98:",
            "ldr x1, [sp, #32]",
            "str x0, [x1, #{fail}]",
            "ldr x1, [sp, #40]",
            "msr fpcr, x1",
            "ldp x18, x19, [sp, #0]",
            "ldp x29, x30, [sp, #16]",
            "add sp, sp, #320",
            gpr = const std::mem::offset_of!(Canary, gpr),
            stop = const std::mem::offset_of!(Canary, stop),
            iters = const std::mem::offset_of!(Canary, iters),
            fail = const std::mem::offset_of!(Canary, fail),
            inout("x0") c as *mut Canary => _,
            out("x20") _, out("x21") _, out("x22") _, out("x23") _, out("x24") _,
            out("x25") _, out("x26") _, out("x27") _, out("x28") _,
            out("v8") _, out("v9") _, out("v10") _, out("v11") _,
            out("v12") _, out("v13") _, out("v14") _, out("v15") _,
            clobber_abi("C"),
        );
    }
}

/// Goroutines that hold a known value in every register — general, vector, flags, FP
/// control, and on x86_64 the red zone below SP — and check them all in a loop, while
/// SIGURG stops them again and again at whatever instruction they are on.
#[test]
fn every_register_and_the_red_zone_survive_preemption() {
    const WORKERS: usize = 3;
    const WANT: u64 = 30;
    let (results, preempted) = Runtime::new(2).run(|| {
        let stop = Arc::new(AtomicBool::new(false));
        let results = Arc::new(std::sync::Mutex::new(Vec::new()));
        let before = async_preemptions();
        for w in 0..WORKERS {
            let (stop, results) = (stop.clone(), results.clone());
            go(move || {
                let mut c = Canary::new(w as u64 + 1, &stop);
                canary(&mut c);
                results.lock().unwrap().push((c.iters, c.fail));
            });
        }
        let t0 = Instant::now();
        while async_preemptions() - before < WANT
            && t0.elapsed() < Duration::from_secs(60)
            && results.lock().unwrap().is_empty()
        {
            gosched();
        }
        stop.store(true, SeqCst);
        while results.lock().unwrap().len() < WORKERS {
            gosched();
        }
        let r = results.lock().unwrap().clone();
        (r, async_preemptions() - before)
    });
    eprintln!("canaries: {results:?} (iterations, failure), {preempted} async preemptions");
    for (_, fail) in &results {
        assert_eq!(*fail, 0, "a register changed under preemption (1 flags, 2 GPR, 3 red zone, 4 vector, 5 FP control, 6 opmask)");
    }
    assert!(preempted >= WANT, "only {preempted} preemptions in 60 s");
}
