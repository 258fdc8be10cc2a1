//! Unlocking an unlocked mutex is Go's `fatal`: a message on stderr and exit status 2,
//! which nothing can recover. Checked by re-running this binary as a child.
#![cfg(not(miri))] // goroutines (assembly) and timing, or child processes

mod common;

use chapter_mutex::Mutex;
use chapter_scheduler::Runtime;

const CHILD: &str = "CHAPTER_MUTEX_MISUSE_CHILD";

/// In the child: do the misuse. In the parent (no variable set): nothing.
#[test]
fn misuse_child() {
    match std::env::var(CHILD).as_deref() {
        Ok("thread") => {
            let m = Mutex::new();
            m.lock();
            m.unlock();
            m.unlock();
        }
        Ok("goroutine") => {
            Runtime::new(2).run(|| Mutex::new().unlock());
        }
        _ => return,
    }
    unreachable!("the misuse returned");
}

fn child(kind: &str) -> std::process::Output {
    common::this_test_binary()
        .args(["--exact", "misuse_child", "--nocapture", "--test-threads=1"])
        .env(CHILD, kind)
        .output()
        .expect("run the child")
}

// ANCHOR: misuse
fn assert_fatal(out: std::process::Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("fatal error: sync: unlock of unlocked mutex"),
        "stderr: {stderr}"
    );
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
}

#[test]
fn unlocking_an_unlocked_mutex_kills_the_program_on_a_thread() {
    assert_fatal(child("thread"));
}

#[test]
fn unlocking_an_unlocked_mutex_kills_the_program_on_a_goroutine() {
    let out = child("goroutine");
    // Go 1.27.3 prints the same two lines for `var m sync.Mutex; m.Unlock()` in main.
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        stderr.contains("goroutine 1 [running]:"),
        "stderr: {stderr}"
    );
    assert_fatal(out);
}
// ANCHOR_END: misuse
