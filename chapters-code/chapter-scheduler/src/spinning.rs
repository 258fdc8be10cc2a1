//! A loom model of the spinning-M protocol (Go: wakep, findRunnable's "delicate dance",
//! proc.go; issue #43997), small enough for loom to try every interleaving.
//!
//! The runtime itself cannot run under loom (it switches stacks), so this module keeps only
//! the protocol's shared words — the queued work, `nmspinning`, the idle Ps — and the two
//! sides that race on them: a running G that queues work and calls `wakep`, and a spinning M
//! that found nothing and gives up its P. With the re-check switched off, loom finds the lost
//! wake-up the re-check exists to prevent.
//!
//! Both sides follow Go's pattern "write, #StoreLoad barrier, read" (proc.go, "Worker thread
//! parking/unparking"). In Rust the barrier is `fence(SeqCst)`: loom treats SeqCst *accesses*
//! as acquire/release (so it would report this model broken without the fences), but models
//! SeqCst fences exactly — and so does the hardware.

use loom::sync::atomic::{fence, AtomicBool, AtomicI32, AtomicU32, Ordering::SeqCst};
use loom::sync::{Arc, Mutex};

/// The shared state: `work` stands for every run queue, `idle` for sched.pidle.
#[derive(Default)]
pub struct Model {
    work: AtomicU32,
    nmspinning: AtomicI32,
    idle: Mutex<u32>,
    /// An M that wakep started, which will look for work.
    started: AtomicBool,
    /// The spinning M found the work after all.
    found: AtomicBool,
}

// ANCHOR: model_wakep
impl Model {
    /// A running G queues work (runqput) and calls wakep: start a spinning M only if none
    /// is spinning — the one that is will find the work.
    pub fn ready(&self) {
        self.work.fetch_add(1, SeqCst);
        fence(SeqCst); // Go's "#StoreLoad-style memory barrier" between submit and check
        if self.nmspinning.load(SeqCst) != 0
            || self
                .nmspinning
                .compare_exchange(0, 1, SeqCst, SeqCst)
                .is_err()
        {
            return;
        }
        let mut idle = self.idle.lock().unwrap();
        if *idle > 0 {
            *idle -= 1;
            self.started.store(true, SeqCst);
        } else {
            self.nmspinning.fetch_sub(1, SeqCst);
        }
    }
    // ANCHOR_END: model_wakep

    // ANCHOR: model_dance
    /// A spinning M looked everywhere and found nothing: it idles its P, stops counting as
    /// spinning, and — with `recheck` — looks once more before it sleeps.
    pub fn give_up(&self, recheck: bool) {
        if self.work.load(SeqCst) > 0 {
            self.found.store(true, SeqCst);
            return;
        }
        *self.idle.lock().unwrap() += 1; // pidleput(releasep())
        self.nmspinning.fetch_sub(1, SeqCst);
        fence(SeqCst); // the same barrier on this side: decrement, then look
        if recheck && self.work.load(SeqCst) > 0 {
            let mut idle = self.idle.lock().unwrap();
            if *idle > 0 {
                *idle -= 1; // take a P back and spin again
                self.found.store(true, SeqCst);
            }
        }
        // stopm: sleep until startm wakes us.
    }
    // ANCHOR_END: model_dance

    /// After both sides are done: queued work always has an M that will run it.
    pub fn nothing_lost(&self) -> bool {
        self.work.load(SeqCst) == 0 || self.started.load(SeqCst) || self.found.load(SeqCst)
    }
}

fn run(recheck: bool) {
    let m = Arc::new(Model::default());
    m.nmspinning.store(1, SeqCst); // the M below is spinning; the other P is busy
    let spinner = {
        let m = m.clone();
        loom::thread::spawn(move || m.give_up(recheck))
    };
    m.ready();
    spinner.join().unwrap();
    assert!(
        m.nothing_lost(),
        "a runnable G with every M asleep: a lost wake-up"
    );
}

// ANCHOR: loom_spinning
#[test]
fn loom_the_spinning_m_rechecks_after_it_stops_spinning() {
    loom::model(|| run(true));
}

#[test]
#[should_panic(expected = "lost wake-up")]
fn loom_without_the_recheck_a_wakeup_is_lost() {
    loom::model(|| run(false));
}
// ANCHOR_END: loom_spinning
