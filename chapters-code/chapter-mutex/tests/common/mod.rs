//! Shared by the integration tests.

#![allow(dead_code)]

use std::process::Command;

/// This test binary, to run again as a child process (as chapter-scheduler's tests do:
/// under qemu-user the child goes through the same qemu).
pub fn this_test_binary() -> Command {
    let exe = std::env::current_exe().expect("current_exe");
    let emulated = cfg!(target_arch = "aarch64")
        && std::fs::read_to_string("/proc/cpuinfo").is_ok_and(|c| c.contains("vendor_id"));
    if emulated {
        let mut c = Command::new("qemu-aarch64");
        c.args(["-L", "/usr/aarch64-linux-gnu"]).arg(exe);
        c
    } else {
        Command::new(exe)
    }
}
