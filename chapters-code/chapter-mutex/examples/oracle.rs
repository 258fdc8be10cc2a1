//! The crate's answers in the format of the Go programs in `go/`, for `cargo xtask golden`:
//!
//! ```console
//! $ cargo run -q -p chapter-mutex --example oracle -- unlockunlocked
//! $ cargo run -q -p chapter-mutex --example oracle -- oncepanic
//! $ cargo run -q -p chapter-mutex --example oracle -- starvation
//! ```
//!
//! Every experiment runs on goroutines of [`chapter_scheduler`], as the Go program runs in
//! `main` and the goroutines it starts.
//!
//! The misuses (`unlockunlocked`, `runlockunlocked`, `rwunlockunlocked`, `wgnegative`,
//! `oncereentrant`) kill the program that commits them, so the oracle runs itself again as a
//! child with [`CHILD`] naming the misuse, and prints the child's stderr lines that `fatal`
//! mode keeps from Go's: those starting `fatal error:` or `panic:`. In the child, the crate's
//! `fatal` and the scheduler's checkdead print their `fatal error:` line themselves; a Rust
//! panic is printed by a panic hook as Go prints a panic that nobody recovers,
//! `panic: <message>` (or as is, for the scheduler's throws, whose message already reads
//! `fatal error: …`). Then the child exits with status 2, Go's status for both.
//!
//! `oncepanic` and `starvation` print what `go/oncepanic` and `go/starvation` print.

use chapter_mutex::{Mutex, Once, RWMutex, WaitGroup};
use chapter_scheduler::{gosched, syscall, Runtime};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

/// In a child, the misuse to commit.
const CHILD: &str = "CHAPTER_MUTEX_ORACLE_CHILD";

/// The misuse each program of `go/` commits in its main goroutine.
fn misuse(name: &str) -> Option<fn()> {
    let f: fn() = match name {
        "unlockunlocked" => || Mutex::new().unlock(),
        "runlockunlocked" => || RWMutex::new().r_unlock(),
        "rwunlockunlocked" => || RWMutex::new().unlock(),
        "wgnegative" => || {
            let wg = WaitGroup::new();
            wg.add(1);
            wg.done();
            wg.done(); // the counter would become -1
        },
        "oncereentrant" => || {
            let once = Once::new();
            once.do_(|| once.do_(|| println!("inner f ran"))); // blocks forever
            println!("unreachable");
        },
        _ => return None,
    };
    Some(f)
}

/// A panic's message, when it is a string.
fn message(payload: &dyn Any) -> Option<&str> {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

/// In the child: commit the misuse on goroutine 1, report a panic as Go would, exit 2.
fn child(name: &str) -> ! {
    let f = misuse(name).unwrap_or_else(|| panic!("{CHILD}={name}: no such misuse"));
    // The hook runs once per panic, where it starts; the scheduler carries a goroutine's
    // panic out of Runtime::run with resume_unwind, which does not run it again.
    std::panic::set_hook(Box::new(|info| match message(info.payload()) {
        Some(m) if m.starts_with("fatal error: ") => eprintln!("{m}"),
        Some(m) => eprintln!("panic: {m}"),
        None => eprintln!("panic: (a value that is not a string)"),
    }));
    let died = catch_unwind(|| Runtime::new(2).run(f)).is_err();
    std::process::exit(if died { 2 } else { 0 })
}

/// The lines of stderr that xtask's `fatal` mode keeps from a Go program.
fn is_fatal_line(line: &str) -> bool {
    [
        "fatal error:",
        "panic:",
        "runtime: goroutine stack exceeds ",
    ]
    .iter()
    .any(|p| line.starts_with(p))
}

/// Runs this oracle again as a child that commits the misuse, and prints the lines that
/// `fatal` mode keeps from its stderr.
fn fatal(name: &str) {
    // /proc/self/exe is this very file even if cargo replaces target/…/examples/oracle
    // meanwhile (chapter-scheduler's oracle has the same name and path).
    let exe = match std::path::Path::new("/proc/self/exe") {
        p if p.exists() => p.to_path_buf(),
        _ => std::env::current_exe().expect("current_exe"),
    };
    let out = Command::new(exe)
        .env(CHILD, name)
        .stdin(Stdio::null())
        .output()
        .expect("run the oracle as a child");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() != Some(2) {
        // Go's fatal errors and unrecovered panics both exit 2; xtask insists on a death.
        eprintln!(
            "oracle {name}: the child did not die as Go does ({})\n{stderr}",
            out.status
        );
        std::process::exit(1);
    }
    for l in stderr.lines().filter(|l| is_fatal_line(l)) {
        println!("{l}");
    }
}

/// Set while the oracle recovers a panic on purpose: the panic hook stays quiet then, as Go
/// prints nothing for a panic that is recovered.
static RECOVERING: AtomicBool = AtomicBool::new(false);

/// Go's `try` in go/oncepanic: once.do_(f), and the panic's message if f panicked.
fn try_do(once: &Once, f: impl FnOnce()) -> Option<String> {
    RECOVERING.store(true, SeqCst);
    let r = catch_unwind(AssertUnwindSafe(|| once.do_(f)));
    RECOVERING.store(false, SeqCst);
    r.err().map(|p| {
        message(&*p)
            .unwrap_or("(a value that is not a string)")
            .to_string()
    })
}

fn oncepanic() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !RECOVERING.load(SeqCst) {
            default(info);
        }
    }));
    let lines = Runtime::new(2).run(|| {
        let once = Arc::new(Once::new());
        let calls = Arc::new(AtomicUsize::new(0));
        let mut out = Vec::new();

        let r = try_do(&once, || {
            calls.fetch_add(1, SeqCst);
            panic!("boom");
        });
        out.push(format!(
            "first Do: f called {} time(s), the caller recovered {:?}",
            calls.load(SeqCst),
            r.unwrap_or_default()
        ));

        let r = try_do(&once, || {
            calls.fetch_add(1, SeqCst);
        });
        out.push(format!(
            "second Do: f called {} time(s) in all, panicked: {}",
            calls.load(SeqCst),
            r.is_some()
        ));

        let wg = Arc::new(WaitGroup::new());
        {
            let (once, calls) = (once.clone(), calls.clone());
            wg.go(move || {
                once.do_(|| {
                    calls.fetch_add(1, SeqCst);
                })
            });
        }
        wg.wait();
        out.push(format!(
            "Do on another goroutine: f called {} time(s) in all",
            calls.load(SeqCst)
        ));
        out
    });
    for l in lines {
        println!("{l}");
    }
}

// The starvation experiment of go/starvation (and tests/starvation.rs).

/// The hog gives up after this many critical sections.
const MAX_SECTIONS: u64 = 1_000;
/// How many times the waiter takes the mutex.
const TAKES: u64 = 8;
/// The bound checked on the waiter's longest wait, in sections (go/starvation's maxWaitOK).
const MAX_WAIT_OK: u64 = 250;

#[derive(Default)]
struct Shared {
    mu: Mutex,
    sections: AtomicU64,
    waiter_done: AtomicBool,
}

/// A sleep that blocks the thread, announced as a system call so that the P can move on: what
/// go/starvation's nanosleep does in Go.
fn sleep(d: Duration) {
    syscall(|| std::thread::sleep(d));
}

/// The hog: lock, sleep 50µs inside, unlock, at once again. Reports whether it gave up.
fn hog(sh: &Shared) -> bool {
    loop {
        sh.mu.lock();
        let n = sh.sections.fetch_add(1, SeqCst) + 1;
        sleep(Duration::from_micros(50));
        sh.mu.unlock();
        if sh.waiter_done.load(SeqCst) {
            return false;
        }
        if n >= MAX_SECTIONS {
            return true;
        }
    }
}

/// The waiter: takes the mutex now and then; returns its longest wait, in hog sections.
fn waiter(sh: &Shared) -> u64 {
    let mut max_wait = 0;
    for _ in 0..TAKES {
        sleep(Duration::from_micros(100));
        let before = sh.sections.load(SeqCst);
        sh.mu.lock();
        max_wait = max_wait.max(sh.sections.load(SeqCst) - before);
        sh.mu.unlock();
    }
    sh.waiter_done.store(true, SeqCst);
    max_wait
}

fn starvation(numbers: bool) {
    let (max_wait, sections, hog_gave_up) = Runtime::new(2).run(|| {
        let sh = Arc::new(Shared::default());
        let gave_up = Arc::new(AtomicBool::new(false));
        let wg = Arc::new(WaitGroup::new());
        {
            let (sh, gave_up) = (sh.clone(), gave_up.clone());
            wg.go(move || gave_up.store(hog(&sh), SeqCst));
        }
        while sh.sections.load(SeqCst) < 2 {
            gosched(); // let the hog get going first
        }
        let max_wait = waiter(&sh);
        wg.wait();
        (max_wait, sh.sections.load(SeqCst), gave_up.load(SeqCst))
    });
    if numbers {
        println!(
            "max wait {max_wait} sections, {sections} sections in all, hog gave up: {hog_gave_up}"
        );
        return;
    }
    println!("waiter finished before the hog gave up: {}", !hog_gave_up);
    println!(
        "max wait in hog sections <= {MAX_WAIT_OK}: {}",
        max_wait <= MAX_WAIT_OK
    );
}

fn main() {
    if let Ok(name) = std::env::var(CHILD) {
        child(&name);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some(name) if misuse(name).is_some() => fatal(name),
        Some("oncepanic") => oncepanic(),
        Some("starvation") => starvation(args.get(1).is_some_and(|a| a == "numbers")),
        other => {
            eprintln!(
                "usage: oracle unlockunlocked|runlockunlocked|rwunlockunlocked|wgnegative|\
                 oncereentrant|oncepanic|starvation [numbers] (got {other:?})"
            );
            std::process::exit(2);
        }
    }
}
