#![cfg(not(miri))] // signals, mmap and inline assembly: miri runs none of them

//! A goroutine that recurses forever dies the way a Go program does — Go's message, exit
//! status 2 — not with a bare segmentation fault (golden/stackoverflow.txt).

mod common;
use chapter_scheduler::{go, gopark, Runtime, WaitReason};
use common::this_test_binary;
use std::hint::black_box;

/// A frame of a few hundred bytes that the optimizer can neither drop (black_box) nor turn
/// into a loop (the result of the call is used).
#[allow(unconditional_recursion)] // on purpose: it ends in the guard page
fn down(depth: u64) -> u64 {
    let mut pad = [0u64; 32];
    pad[(depth % 32) as usize] = depth;
    black_box(&mut pad);
    down(depth + 1).wrapping_add(pad[0])
}

// ANCHOR: overflow_test
/// The child (this test binary, re-executed with OVERFLOW_CHILD set) runs a goroutine that
/// recurses into its guard page; the parent checks what Go would print, and Go's exit code.
#[test]
fn unbounded_recursion_is_go_s_fatal_stack_overflow() {
    if std::env::var_os("OVERFLOW_CHILD").is_some() {
        Runtime::new(2).run(|| {
            go(|| {
                black_box(down(0));
            });
            gopark(|_| true, WaitReason::Forever); // main waits; the child dies first
        });
        unreachable!("the program should have died");
    }
    let out = this_test_binary()
        .args([
            "--exact",
            "unbounded_recursion_is_go_s_fatal_stack_overflow",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("OVERFLOW_CHILD", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("child stderr:\n{stderr}");
    assert_eq!(
        out.status.code(),
        Some(2),
        "Go's exit status for a fatal error"
    );
    assert!(stderr.contains("runtime: goroutine stack exceeds 262144-byte limit\n"));
    assert!(stderr.contains("\nfatal error: stack overflow\n"));
    let sp_line = stderr
        .lines()
        .find(|l| l.starts_with("runtime: sp="))
        .expect("the sp line");
    assert!(sp_line.contains(" stack=[0x"), "{sp_line}");
}
// ANCHOR_END: overflow_test

/// A fault that is not a goroutine's guard page stays an ordinary SIGSEGV.
#[test]
fn a_wild_pointer_is_still_a_segmentation_fault() {
    if std::env::var_os("WILD_CHILD").is_some() {
        Runtime::new(1).run(|| {
            let p = black_box(16usize) as *const u64;
            black_box(unsafe { p.read_volatile() });
        });
        unreachable!();
    }
    let out = this_test_binary()
        .args([
            "--exact",
            "a_wild_pointer_is_still_a_segmentation_fault",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("WILD_CHILD", "1")
        .output()
        .unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(libc::SIGSEGV), "{:?}", out.status);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("stack overflow"));
}
