//! loom models of the marking race: one goroutine (the mutator) and one mark worker, with
//! every heap word, mark bit and the grey queue's lock under loom's control, so that loom
//! runs every interleaving of the two (up to three preemptions).
//!
//! The heap is three one-word objects. Before the cycle A's word points to C, and the
//! goroutine's stack holds A and B. gcStart turns the barrier on and the stack is scanned
//! (A and B grey, the stack black for the rest of the cycle). Then, concurrently:
//!
//! * the marker drains the grey queue (B first: it is a LIFO), scanning B and then A;
//! * the goroutine loads C from A's word into its stack, writes nil into A's word, and,
//!   in the [`Hide::InBlackObject`] variant, stores C into B and drops it from its stack.
//!
//! After both finish comes mark termination: flush the P's wbBuf, drain, and check that every
//! object reachable from the stack is marked ([`Heap::lost`] is empty).
//!
//! Run with `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test -p chapter-gc --release
//! --lib -- loom_`.

use crate::mbarrier::{Barrier, Heap, Ptr, Type, NIL};
use crate::mwbbuf::WbBuf;
use loom::sync::Arc;
use loom::thread;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex as StdMutex;

const A: Ptr = 1;
const B: Ptr = 2;
const C: Ptr = 3;

fn name(p: Ptr) -> &'static str {
    ["nil", "A", "B", "C"][p]
}

/// Where the goroutine keeps C once A's word no longer points to it.
#[derive(Clone, Copy, Debug)]
enum Hide {
    /// On its stack only (mbarrier.go's case 1).
    OnStack,
    /// In B, which the marker may already have scanned; then off the stack (case 2).
    InBlackObject,
}

/// What loom saw across all executions of one model. std atomics, not loom's: they live
/// outside the model and count every execution.
#[derive(Default)]
struct Found {
    execs: AtomicUsize,
    lost: AtomicUsize,
    /// Losing executions that some interleaving of whole steps explains (see [`Step`]).
    lost_sc: AtomicUsize,
    /// The first of those, step by step.
    trace: StdMutex<Option<Vec<String>>>,
}

/// One logged step. loom models the C++ memory model, where a load may return an older
/// value than the latest store in loom's schedule when nothing orders the two (and it treats
/// `SeqCst` loads and stores as acquire/release). So the marker may "find nil" in a word the
/// goroutine wrote before, in log order. [`sequential`] tells the executions that a plain
/// interleaving explains from those that it does not; the barrier must hold for both, and
/// the book's trace is one of the former.
#[derive(Clone, Debug)]
enum Step {
    /// The goroutine, after writing `val` into word 0 of `obj` (if any).
    Mutator(String, Option<(Ptr, Ptr)>),
    /// The marker read `saw` from word 0 of `obj`.
    Scan(Ptr, Ptr),
}

/// Whether each of the marker's reads returned the latest value in log order.
fn sequential(steps: &[Step]) -> bool {
    let mut word = [NIL, C, NIL, NIL];
    steps.iter().all(|s| match *s {
        Step::Mutator(_, Some((obj, val))) => {
            word[obj] = val;
            true
        }
        Step::Mutator(_, None) => true,
        Step::Scan(obj, saw) => word[obj] == saw,
    })
}

fn describe(steps: &[Step]) -> Vec<String> {
    steps
        .iter()
        .map(|s| match s {
            Step::Mutator(what, _) => format!("mutator: {what}"),
            Step::Scan(obj, saw) => format!("marker:  scans {}, finds {}", name(*obj), name(*saw)),
        })
        .collect()
}

// ANCHOR: loom_race
/// Explores the race with `barrier`; if `must_hold`, a lost object fails the execution (and
/// loom prints its schedule), otherwise losses are counted in the result.
fn race(barrier: Barrier, hide: Hide, must_hold: bool) -> std::sync::Arc<Found> {
    let found = std::sync::Arc::new(Found::default());
    let out = found.clone();
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(3);
    }
    b.check(move || {
        found.execs.fetch_add(1, Relaxed);
        // loom runs one thread at a time and switches only at its own operations, so a
        // std Mutex records the steps in the order they happened.
        let log = std::sync::Arc::new(StdMutex::new(Vec::<Step>::new()));
        let say = |s: &str, w| log.lock().unwrap().push(Step::Mutator(s.into(), w));

        let mut buf = WbBuf::new(); // the goroutine's P's buffer
        let mut heap = Heap::new(&[Type::ptrs(1); 3]);
        heap.write_pointer(&mut buf, A, 0, C); // before the cycle: no barrier
        heap.set_gc_phase_mark(barrier); // gcStart, world stopped
        let mut stack = vec![A, B, NIL];
        heap.scanstack(&stack); // A, B grey; the stack is black from now on
        let heap = Arc::new(heap);

        let marker = {
            let (heap, log) = (heap.clone(), log.clone());
            thread::spawn(move || {
                heap.gc_drain_traced(|obj, _, saw| log.lock().unwrap().push(Step::Scan(obj, saw)))
            })
        };

        stack[2] = heap.load(A, 0);
        say("loads A.0 (C) onto its black stack", None);
        heap.write_pointer(&mut buf, A, 0, NIL);
        say("A.0 = nil", Some((A, NIL)));
        if let Hide::InBlackObject = hide {
            heap.write_pointer(&mut buf, B, 0, stack[2]);
            stack[2] = NIL;
            say("B.0 = C, and drops C from its stack", Some((B, C)));
        }

        marker.join().unwrap();
        heap.gc_mark_done(&mut [&mut buf]);
        let lost = heap.lost(&stack);
        if !lost.is_empty() {
            let steps = log.lock().unwrap().clone();
            let mut trace = describe(&steps);
            trace.push(format!(
                "mark termination: {lost:?} reachable but white: freed"
            ));
            assert!(!must_hold, "{barrier:?} {hide:?} lost {lost:?}: {trace:#?}");
            found.lost.fetch_add(1, Relaxed);
            if sequential(&steps) {
                found.lost_sc.fetch_add(1, Relaxed);
                found.trace.lock().unwrap().get_or_insert(trace);
            }
        }
    });
    eprintln!(
        "{barrier:?} {hide:?}: {} executions, {} lost an object ({} of them interleavings)",
        out.execs.load(Relaxed),
        out.lost.load(Relaxed),
        out.lost_sc.load(Relaxed)
    );
    out
}

/// The deletion half off: loom finds the schedule in which the goroutine takes C from A
/// before the marker scans A, and C survives on the black stack alone.
#[test]
fn loom_without_the_deletion_barrier_a_reachable_object_is_freed() {
    let f = race(Barrier::NO_DELETION, Hide::OnStack, false);
    let trace = f.trace.lock().unwrap().clone();
    eprintln!("{trace:#?}");
    assert!(
        f.lost_sc.load(Relaxed) > 0,
        "loom found no losing interleaving"
    );
    assert!(f.lost.load(Relaxed) < f.execs.load(Relaxed), "only some do");
}

/// Go's barrier: in every interleaving, for both hiding places, nothing reachable is white
/// at mark termination.
#[test]
fn loom_the_hybrid_barrier_never_frees_a_reachable_object() {
    for hide in [Hide::OnStack, Hide::InBlackObject] {
        let f = race(Barrier::HYBRID, hide, true);
        assert!(f.execs.load(Relaxed) > 1);
    }
}
// ANCHOR_END: loom_race

/// With neither half, C moved into B after B was scanned is lost too; the insertion half
/// alone catches that move (but not the one onto the stack, above).
#[test]
fn loom_the_insertion_half_catches_a_move_into_a_black_object() {
    let f = race(Barrier::NONE, Hide::InBlackObject, false);
    eprintln!("{:#?}", f.trace.lock().unwrap());
    assert!(f.lost_sc.load(Relaxed) > 0, "without barriers C is lost");
    race(Barrier::NO_DELETION, Hide::InBlackObject, true);
}

/// mbarrier.go's point 3: once the stack is black, the deletion half alone suffices. C
/// could only be hidden after being taken from the heap, and taking it out of A shades it.
/// The insertion half is needed only while a stack is still grey (see
/// `mbarrier::tests::with_a_grey_stack_the_insertion_half_is_needed`); Go keeps it because
/// other goroutines' stacks may be grey, and the barrier does not check.
#[test]
fn loom_once_the_stack_is_black_the_deletion_half_suffices() {
    for hide in [Hide::OnStack, Hide::InBlackObject] {
        race(Barrier::NO_INSERTION, hide, true);
    }
}
