//! Shared by the tests that re-run their own binary as a child process.

use std::process::Command;

/// This test binary, to run again as a child process. Under qemu-user (the aarch64 tests on
/// an x86_64 host, see .cargo/config.toml) the kernel cannot run an arm64 binary by itself,
/// so the child goes through the same qemu.
pub fn this_test_binary() -> Command {
    let exe = std::env::current_exe().unwrap();
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
