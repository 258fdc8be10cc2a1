//! Finalizers, cleanups and weak pointers on the managed heap. `same_lines_as_go` runs the
//! scenarios of go/finalizers/main.go on a Heap and must print golden/finalizers.txt, what
//! go1.27.3 printed; the other tests look at the parts (the sorted specials lists,
//! Cleanup.stop, weak equality, resurrection keeping referents) and a random mix of all
//! three against a model of the rules.
#![cfg(not(miri))] // the allocator's heap maps memory; miri cannot (see heap.rs)

use chapter_gc::heap::{Globals, Heap, Ptr};
use chapter_gc::mcleanup::Cleanup;
use chapter_gc::specials::SpecialKind;
use chapter_gc::types::Type;
use chapter_gc::weak::WeakPointer;
use proptest::prelude::*;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

/// `type node struct { next *node; val int; _ [2]int }`: 32 bytes, as in the Go program.
fn node() -> &'static Type {
    static T: std::sync::OnceLock<&'static Type> = std::sync::OnceLock::new();
    T.get_or_init(|| Type::new("node", 32, &[0]).leak())
}
const NEXT: usize = 0;
const VAL: usize = 1;

/// A channel the finalizers and cleanups send on (they run on the caller's thread).
#[derive(Clone)]
struct Chan<T>(Rc<RefCell<VecDeque<T>>>);
impl<T> Chan<T> {
    fn new() -> Self {
        Chan(Rc::new(RefCell::new(VecDeque::new())))
    }
    fn send(&self, v: T) {
        self.0.borrow_mut().push_back(v);
    }
    fn recv(&self) -> Option<T> {
        self.0.borrow_mut().pop_front()
    }
}

/// One cycle, then what the finalizer goroutine and the cleanup goroutines would do.
fn cycle(h: &mut Heap) {
    h.gc();
    h.run_finalizers();
    h.run_cleanups();
}

/// Go's gcUntil: cycles until `ch` yields, at most 50.
fn gc_until<T>(h: &mut Heap, ch: &Chan<T>) -> Option<T> {
    for _ in 0..50 {
        cycle(h);
        if let Some(v) = ch.recv() {
            return Some(v);
        }
    }
    None
}

/// Go's quiet: `n` cycles, then whether `ch` stayed empty.
fn quiet<T>(h: &mut Heap, ch: &Chan<T>, n: usize) -> bool {
    for _ in 0..n {
        cycle(h);
    }
    ch.recv().is_none()
}

fn new_node(h: &mut Heap, v: u64) -> Ptr {
    let p = h.alloc(node());
    h.write_scalar(p, VAL, v);
    p
}

/// A heap with a pointer global (`sink`, 0) and a scalar one (1), and a frame of pointer
/// slots where the scenarios keep what Go keeps in locals and weak.Pointers.
fn heap() -> Heap {
    let globals = Globals {
        words: vec![0; 2],
        ptrmask: vec![true, false],
    };
    let mut h = Heap::with_globals(100, globals);
    h.push_frame(8, &[0, 1, 2, 3, 4, 5, 6, 7]);
    h
}
const SINK: usize = 0;

fn panic_message(f: impl FnOnce()) -> Option<String> {
    let e = catch_unwind(AssertUnwindSafe(f)).err()?;
    Some(
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
    )
}

fn finalizer_runs_once(h: &mut Heap, out: &mut Vec<String>) {
    let ran = Chan::new();
    let x = new_node(h, 1);
    let r = ran.clone();
    h.set_finalizer(x, &[], move |h, x| r.send(h.read_scalar(x, VAL)));
    let v = gc_until(h, &ran);
    let again = !quiet(h, &ran, 5);
    out.push(format!(
        "finalizer-runs-once {} val={} again={again}",
        v.is_some(),
        v.unwrap_or(0)
    ));
}

fn resurrection(h: &mut Heap, out: &mut Vec<String>) {
    let (ran, cleaned) = (Chan::new(), Chan::new());
    let x = new_node(h, 2);
    let w = WeakPointer::make(h, x);
    h.set_local(0, w.handle());
    let r = ran.clone();
    h.set_finalizer(x, &[], move |h, x| {
        h.set_global(SINK, x); // resurrect
        let nil = w.value(h).is_nil();
        r.send(nil);
    });
    let c = cleaned.clone();
    h.add_cleanup(x, Ptr::NIL, move |_, _| c.send(true));
    let weak_nil = gc_until(h, &ran);
    out.push(format!("finalizer-ran {}", weak_nil.is_some()));
    out.push(format!(
        "weak-nil-when-finalizer-queued {}",
        weak_nil.unwrap_or(false)
    ));
    out.push(format!(
        "weak-stays-nil-after-resurrection {}",
        w.value(h).is_nil()
    ));
    let sink = h.global(SINK);
    out.push(format!(
        "resurrected-object-usable {}",
        !sink.is_nil() && h.read_scalar(sink, VAL) == 2
    ));
    out.push(format!(
        "cleanup-waits-while-resurrected {}",
        quiet(h, &cleaned, 5)
    ));
    out.push(format!("finalizer-not-rerun {}", quiet(h, &ran, 1)));
    h.set_global(SINK, Ptr::NIL);
    out.push(format!(
        "cleanup-after-finalizer {}",
        gc_until(h, &cleaned).is_some()
    ));
    out.push(format!("finalizer-once-after-death {}", quiet(h, &ran, 3)));
    h.set_local(0, Ptr::NIL);
}

fn cycle_with_finalizer(h: &mut Heap, out: &mut Vec<String>) {
    let ran = Chan::new();
    let (a, b) = (new_node(h, 3), new_node(h, 4));
    h.write_ptr(a, NEXT, b);
    h.write_ptr(b, NEXT, a);
    let w = WeakPointer::make(h, b);
    h.set_local(0, w.handle());
    let r = ran.clone();
    h.set_finalizer(a, &[], move |_, _| r.send(true));
    let never = quiet(h, &ran, 10);
    out.push(format!(
        "cycle-with-finalizer-never-collected {never} weak-alive={}",
        !w.value(h).is_nil()
    ));
    h.set_local(0, Ptr::NIL);
    let cleaned = Chan::new();
    let (a, b) = (new_node(h, 5), new_node(h, 6));
    h.write_ptr(a, NEXT, b);
    h.write_ptr(b, NEXT, a);
    let c = cleaned.clone();
    h.add_cleanup(a, Ptr::NIL, move |_, _| c.send(true));
    out.push(format!(
        "cycle-with-cleanup-collected {}",
        gc_until(h, &cleaned).is_some()
    ));
    let a = new_node(h, 31);
    h.write_ptr(a, NEXT, a);
    let r = ran.clone();
    h.set_finalizer(a, &[], move |_, _| r.send(true));
    out.push(format!(
        "self-pointer-with-finalizer finalized {}",
        gc_until(h, &ran).is_some()
    ));
}

fn chain(h: &mut Heap, out: &mut Vec<String>) {
    let ran = Chan::new();
    let (a, b) = (new_node(h, 7), new_node(h, 8));
    h.write_ptr(a, NEXT, b);
    let r = ran.clone();
    h.set_finalizer(a, &[], move |_, _| r.send("A"));
    let r = ran.clone();
    h.set_finalizer(b, &[], move |_, _| r.send("B"));
    let mut first = gc_until(h, &ran).unwrap_or("").to_string();
    if let Some(v) = ran.recv() {
        first = format!("{first},{v}");
    }
    let second = gc_until(h, &ran).unwrap_or("");
    out.push(format!("chain first={first} then={second}"));
}

fn cleanups(h: &mut Heap, out: &mut Vec<String>) {
    let got = Chan::new();
    let x = new_node(h, 9);
    let w = WeakPointer::make(h, x);
    h.set_local(0, w.handle());
    h.set_local(1, x); // x and `other` stay put while the cleanups are added
    let other = new_node(h, 10);
    let g = got.clone();
    h.add_cleanup(x, other, move |h, arg| g.send(h.read_scalar(arg, VAL)));
    for v in [11, 12] {
        let g = got.clone();
        h.add_cleanup(x, Ptr::NIL, move |_, _| g.send(v));
    }
    h.set_local(1, Ptr::NIL);
    let (mut n, mut sum) = (0, 0);
    while n < 3 {
        let Some(v) = gc_until(h, &got) else { break };
        sum += v;
        n += 1;
    }
    out.push(format!(
        "cleanup-many-per-object ran={n} argsum={sum} weak-nil={}",
        w.value(h).is_nil()
    ));
    h.set_local(0, Ptr::NIL);

    let (stopped, kept) = (Chan::new(), Chan::new());
    let x = new_node(h, 13);
    let s = stopped.clone();
    let c = h.add_cleanup(x, Ptr::NIL, move |_, _| s.send(true));
    let k = kept.clone();
    h.add_cleanup(x, Ptr::NIL, move |_, _| k.send(true));
    c.stop(h);
    let ok = gc_until(h, &kept).is_some();
    out.push(format!(
        "cleanup-stop other-ran={ok} stopped-never-runs={}",
        quiet(h, &stopped, 3)
    ));
}

fn weak_equality(h: &mut Heap, out: &mut Vec<String>) {
    let x = new_node(h, 16);
    h.set_local(0, x);
    let y = new_node(h, 17);
    h.set_local(1, y);
    let (a, b, c) = (
        WeakPointer::make(h, x),
        WeakPointer::make(h, x),
        WeakPointer::make(h, y),
    );
    out.push(format!(
        "weak-equal same={} different={} nil-is-zero={}",
        a == b,
        a == c,
        WeakPointer::make(h, Ptr::NIL) == WeakPointer::default()
    ));
    h.set_local(0, Ptr::NIL);
    h.set_local(1, Ptr::NIL);
    let z = new_node(h, 18);
    let (wd1, wd2) = (WeakPointer::make(h, z), WeakPointer::make(h, z));
    h.set_local(2, wd1.handle());
    h.set_local(3, wd2.handle());
    for _ in 0..50 {
        if wd1.value(h).is_nil() {
            break;
        }
        cycle(h);
    }
    out.push(format!(
        "weak-after-death nil={} still-equal={}",
        wd1.value(h).is_nil(),
        wd1 == wd2
    ));
    h.set_local(2, Ptr::NIL);
    h.set_local(3, Ptr::NIL);
}

/// Go checks that the finalizers ran on one goroutine that is not main's: here, that each
/// ran inside the one finalizer loop (fing) on this thread, and the test itself is not.
fn same_goroutine(h: &mut Heap, out: &mut Vec<String>) {
    let ids = Chan::new();
    for i in 0..3 {
        let x = new_node(h, 20 + i);
        let c = ids.clone();
        h.set_finalizer(x, &[], move |h, _| {
            c.send((std::thread::current().id(), h.fing_running()))
        });
    }
    let mut got = Vec::new();
    while got.len() < 3 {
        let Some(v) = gc_until(h, &ids) else { break };
        got.push(v);
    }
    let me = std::thread::current().id();
    let same = got.len() == 3 && got.iter().all(|&(t, fing)| t == me && fing) && !h.fing_running();
    out.push(format!("finalizers-one-goroutine {same}"));
}

fn clear_finalizer(h: &mut Heap, out: &mut Vec<String>) {
    let ran = Chan::new();
    let x = new_node(h, 30);
    let w = WeakPointer::make(h, x);
    h.set_local(0, w.handle());
    let r = ran.clone();
    h.set_finalizer(x, &[], move |_, _| r.send(true));
    h.clear_finalizer(x);
    for _ in 0..50 {
        if w.value(h).is_nil() {
            break;
        }
        cycle(h);
    }
    out.push(format!(
        "setfinalizer-nil-removes freed={} never-ran={}",
        w.value(h).is_nil(),
        quiet(h, &ran, 1)
    ));
    h.set_local(0, Ptr::NIL);
}

fn misuse(h: &mut Heap, out: &mut Vec<String>) {
    let x = new_node(h, 14);
    let msg = |m: Option<String>| m.unwrap_or_else(|| "no panic".into());
    let m = panic_message(|| {
        h.add_cleanup(x, x, |_, _| {});
    });
    out.push(format!("addcleanup arg==ptr panic: {}", msg(m)));
    let m = panic_message(|| {
        h.add_cleanup(x, Ptr(x.0 + 8), |_, _| {}); // &x.val
    });
    out.push(format!("addcleanup ptr-within-arg panic: {}", msg(m)));
    let m = panic_message(|| {
        h.add_cleanup(Ptr::NIL, Ptr::NIL, |_, _| {});
    });
    out.push(format!("addcleanup nil panic: {}", msg(m)));
    // Go runs these in a new process each (a throw kills it): here, a new heap each.
    let pair = Type::new("pair", 16, &[0, 1]).leak();
    for case in ["interior", "twice", "global"] {
        let mut h = heap();
        let x = new_node(&mut h, 15);
        let died = panic_message(|| match case {
            "interior" => {
                let p = h.alloc(pair);
                h.write_ptr(p, 0, x);
                h.set_finalizer(Ptr(p.0 + 8), &[], |_, _| {}); // &p.b
            }
            "twice" => {
                h.set_finalizer(x, &[], |_, _| {});
                h.set_finalizer(x, &[], |_, _| {});
            }
            _ => {
                let global = h.globals.words.as_ptr().wrapping_add(1) as usize;
                h.set_finalizer(Ptr(global), &[], |_, _| {});
            }
        });
        let line = match &died {
            Some(m) => format!("fatal error: {m}"),
            None => "exited 0".into(),
        };
        out.push(format!(
            "setfinalizer {case} died={} {line}",
            died.is_some()
        ));
    }
}

/// The scenarios of go/finalizers/main.go, in its order.
fn scenario_lines() -> Vec<String> {
    let mut h = heap();
    let mut out = Vec::new();
    finalizer_runs_once(&mut h, &mut out);
    resurrection(&mut h, &mut out);
    cycle_with_finalizer(&mut h, &mut out);
    chain(&mut h, &mut out);
    cleanups(&mut h, &mut out);
    weak_equality(&mut h, &mut out);
    same_goroutine(&mut h, &mut out);
    clear_finalizer(&mut h, &mut out);
    misuse(&mut h, &mut out);
    out
}

#[test]
fn same_lines_as_go() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/golden/finalizers.txt");
    let golden = std::fs::read_to_string(path).expect("golden/finalizers.txt");
    let ours = scenario_lines();
    let go: Vec<&str> = golden.lines().collect();
    for (i, (g, r)) in go.iter().zip(&ours).enumerate() {
        assert_eq!(g, r, "line {} differs from go1.27.3", i + 1);
    }
    assert_eq!(go.len(), ours.len(), "line count differs from go1.27.3");
}

/// Specials sit on their span sorted by (offset, kind), whatever order they were added in,
/// with Go's kind numbers; when the objects die the records go with them.
#[test]
fn specials_stay_sorted_and_die_with_their_objects() {
    let mut h = heap();
    let objs: Vec<Ptr> = (0..12).map(|i| new_node(&mut h, i)).collect();
    let holder = h.alloc(chapter_gc::types::ptr_array_type(12));
    h.set_local(0, holder);
    for (i, &o) in objs.iter().enumerate() {
        h.write_ptr(holder, i, o);
    }
    // A scrambled order of (object, kind) additions.
    let mut adds = Vec::new();
    for i in 0..12 {
        adds.push((i * 7 % 12, SpecialKind::Cleanup));
        adds.push((i * 5 % 12, SpecialKind::WeakHandle));
        adds.push((11 - i, SpecialKind::Cleanup));
        if i % 3 == 0 {
            adds.push((i * 7 % 12, SpecialKind::Finalizer));
        }
    }
    let mut handles = Vec::new();
    for &(i, kind) in &adds {
        let o = objs[i];
        match kind {
            SpecialKind::Finalizer => h.set_finalizer(o, &[], |_, _| {}),
            SpecialKind::WeakHandle => handles.push(WeakPointer::make(&mut h, o)),
            SpecialKind::Cleanup => {
                h.add_cleanup(o, Ptr::NIL, |_, _| {});
            }
        }
    }
    assert_eq!(h.specials_count(), adds.len());
    let list = h.specials_of_span(objs[0]);
    assert!(
        list.windows(2).all(|w| w[0] <= w[1]),
        "not sorted by (offset, kind): {list:?}"
    );
    assert_eq!(
        [
            SpecialKind::Finalizer,
            SpecialKind::WeakHandle,
            SpecialKind::Cleanup
        ]
        .map(|k| k as u8),
        [2, 3, 7]
    );
    // Keep the weak pointers (their handles) where the collector sees them.
    let weaks = h.alloc(chapter_gc::types::ptr_array_type(handles.len()));
    h.set_local(1, weaks);
    for (i, w) in handles.iter().enumerate() {
        h.write_ptr(weaks, i, w.handle());
    }
    // Drop everything: the finalized objects survive one cycle, keeping their cleanups.
    h.set_local(0, Ptr::NIL);
    h.gc();
    let fins = adds
        .iter()
        .filter(|a| a.1 == SpecialKind::Finalizer)
        .count();
    assert_eq!(h.finalizers_queued(), fins);
    let cleanups_left = adds
        .iter()
        .filter(|a| a.1 == SpecialKind::Cleanup && adds.contains(&(a.0, SpecialKind::Finalizer)))
        .count();
    assert_eq!(h.specials_count(), cleanups_left);
    h.run_finalizers();
    h.gc();
    assert_eq!(h.specials_count(), 0);
    assert_eq!(h.cleanups_queued(), adds.len() - fins - handles.len());
    assert!(handles.iter().all(|w| w.value(&mut h).is_nil()));
    h.set_local(1, Ptr::NIL);
    h.gc();
    assert_eq!(h.live_objects(), 0);
}

/// Cleanup.stop removes exactly the one cleanup, and does nothing once it is queued.
#[test]
fn stop_cancels_one_cleanup() {
    let mut h = heap();
    let ran = Chan::new();
    let x = new_node(&mut h, 1);
    let cs: Vec<Cleanup> = (0..3)
        .map(|i| {
            let r = ran.clone();
            h.add_cleanup(x, Ptr::NIL, move |_, _| r.send(i))
        })
        .collect();
    cs[1].stop(&mut h);
    cs[1].stop(&mut h); // twice: a no-op
    h.gc();
    cs[2].stop(&mut h); // already queued: too late
    h.run_cleanups();
    let mut got: Vec<i32> = std::iter::from_fn(|| ran.recv()).collect();
    got.sort();
    assert_eq!(got, [0, 2]);
    // A new object in the freed slot gets its own cleanups, which an old handle can't stop.
    let y = new_node(&mut h, 2);
    let r = ran.clone();
    h.add_cleanup(y, Ptr::NIL, move |_, _| r.send(9));
    cs[0].stop(&mut h);
    h.gc();
    h.run_cleanups();
    assert_eq!(ran.recv(), Some(9));
}

/// What a resurrected object points to is still there, even after the freed memory around
/// it is reused: markrootSpans marked it, though the object itself was unreachable.
#[test]
fn resurrection_keeps_the_referents() {
    let mut h = heap();
    let a = new_node(&mut h, 1);
    let b = new_node(&mut h, 2);
    let c = new_node(&mut h, 3);
    h.write_ptr(a, NEXT, b);
    h.write_ptr(b, NEXT, c);
    h.set_global(SINK, a);
    let env = new_node(&mut h, 4); // held only by the finalizer's closure
    h.set_finalizer(a, &[env], move |h, a| {
        // Allocate and collect while running: `a` and `env` are roots meanwhile.
        for i in 0..2000 {
            new_node(h, 100 + i);
        }
        h.gc();
        assert_eq!(h.read_scalar(env, VAL), 4);
        assert_eq!(h.read_scalar(a, VAL), 1);
        h.set_global(SINK, a);
    });
    for _ in 0..3 {
        h.gc(); // the closure keeps `env` alive while the finalizer is set
    }
    assert_eq!(h.read_scalar(env, VAL), 4);
    assert_eq!(h.finalizers_queued(), 0, "a is reachable");
    let live_before = h.live_objects();
    h.set_global(SINK, Ptr::NIL);
    h.gc();
    assert_eq!(h.finalizers_queued(), 1);
    assert_eq!(
        h.live_objects(),
        live_before,
        "a, b, c, env all survive the cycle"
    );
    h.run_finalizers();
    for i in 0..4000 {
        new_node(&mut h, 1000 + i);
    }
    let a2 = h.global(SINK);
    assert_eq!(a2, a);
    let b2 = h.read_ptr(a2, NEXT);
    assert_eq!(h.read_scalar(b2, VAL), 2);
    assert_eq!(h.read_scalar(h.read_ptr(b2, NEXT), VAL), 3);
    h.set_global(SINK, Ptr::NIL);
    h.gc();
    assert_eq!(
        h.live_objects(),
        0,
        "after the finalizer ran, all four die together"
    );
}

/// Value while the collector marks shades the object: it may now be held only where the
/// marker has already looked (a frame slot, which has no barrier).
#[test]
fn weak_value_while_marking_keeps_the_object() {
    let mut h = heap();
    let x = new_node(&mut h, 7);
    let w = WeakPointer::make(&mut h, x);
    h.set_local(0, w.handle());
    h.gc_start(); // roots scanned: x is not among them
    let p = w.value(&mut h);
    h.set_local(1, p);
    h.gc_finish();
    assert_eq!(h.read_scalar(h.local(1), VAL), 7);
    assert_eq!(w.value(&mut h), x);
    h.set_local(1, Ptr::NIL);
    h.gc();
    assert!(w.value(&mut h).is_nil());
}

// ---- A random mix against a model of the rules ----

/// Objects with two pointers (words 0, 1) and an id (word 2).
fn node2() -> &'static Type {
    static T: std::sync::OnceLock<&'static Type> = std::sync::OnceLock::new();
    T.get_or_init(|| Type::new("node2", 32, &[0, 1]).leak())
}
const ROOTS: usize = 4; // frame slots 0..4 are the program's roots
const MAX_OBJS: usize = 48;

#[derive(Clone, Debug)]
enum Op {
    Alloc(usize),
    SetRoot(usize, usize),
    ClearRoot(usize),
    Link(usize, usize, usize),
    Unlink(usize, usize),
    Finalizer(usize, bool),
    Cleanup(usize),
    Weak(usize),
    Unresurrect(usize),
    Cycle,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..ROOTS).prop_map(Op::Alloc),
        2 => (0..ROOTS, any::<usize>()).prop_map(|(r, o)| Op::SetRoot(r, o)),
        1 => (0..ROOTS).prop_map(Op::ClearRoot),
        4 => (any::<usize>(), 0..2usize, any::<usize>()).prop_map(|(a, f, b)| Op::Link(a, f, b)),
        1 => (any::<usize>(), 0..2usize).prop_map(|(a, f)| Op::Unlink(a, f)),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(a, r)| Op::Finalizer(a, r)),
        2 => any::<usize>().prop_map(Op::Cleanup),
        2 => any::<usize>().prop_map(Op::Weak),
        1 => any::<usize>().prop_map(Op::Unresurrect),
        2 => Just(Op::Cycle),
    ]
}

/// The rules on an abstract graph: mark from the roots and from the referents of every
/// object with a finalizer; an unmarked object with a finalizer is queued and survives,
/// its weak pointer nil; any other unmarked object dies, its cleanups queued.
#[derive(Default, Debug)]
struct Model {
    alive: BTreeSet<usize>,
    edges: BTreeMap<(usize, usize), usize>,
    roots: [Option<usize>; ROOTS],
    resurrected: BTreeSet<usize>, // held in the resurrection array, slot = id
    finalizer: BTreeMap<usize, bool>, // id → resurrects
    cleanups: BTreeMap<usize, usize>, // id → how many
    weak: BTreeMap<usize, bool>,  // id → still non-nil
}

impl Model {
    fn children(&self, o: usize) -> impl Iterator<Item = usize> + '_ {
        (0..2).filter_map(move |f| self.edges.get(&(o, f)).copied())
    }
    /// One cycle, then the finalizers and cleanups: (finalizers run, cleanups run).
    fn cycle(&mut self) -> (Vec<usize>, Vec<usize>) {
        let mut grey: Vec<usize> = self.roots.iter().flatten().copied().collect();
        grey.extend(self.resurrected.iter().copied());
        for &o in self.finalizer.keys() {
            // scanobject skips pointers back into the object itself (see the golden).
            grey.extend(self.children(o).filter(|&c| c != o));
        }
        let mut marked = BTreeSet::new();
        while let Some(o) = grey.pop() {
            if marked.insert(o) {
                grey.extend(self.children(o));
            }
        }
        let (mut fins, mut cls) = (Vec::new(), Vec::new());
        for o in self.alive.clone() {
            if marked.contains(&o) {
                continue;
            }
            if let Some(w) = self.weak.get_mut(&o) {
                *w = false;
            }
            if let Some(res) = self.finalizer.remove(&o) {
                fins.push(o);
                if res {
                    self.resurrected.insert(o);
                }
                continue;
            }
            self.alive.remove(&o);
            self.edges.retain(|&(a, _), _| a != o);
            for _ in 0..self.cleanups.remove(&o).unwrap_or(0) {
                cls.push(o);
            }
        }
        (fins, cls)
    }
}

fn pick(m: &Model, i: usize) -> Option<usize> {
    (!m.alive.is_empty()).then(|| *m.alive.iter().nth(i % m.alive.len()).unwrap())
}

fn run_mix(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut h = Heap::new();
    h.push_frame(ROOTS + 2, &(0..ROOTS + 2).collect::<Vec<_>>());
    let res_arr = h.alloc(chapter_gc::types::ptr_array_type(MAX_OBJS));
    h.set_local(ROOTS, res_arr);
    let weak_arr = h.alloc(chapter_gc::types::ptr_array_type(MAX_OBJS));
    h.set_local(ROOTS + 1, weak_arr);
    let mut m = Model::default();
    let mut ptrs: BTreeMap<usize, Ptr> = BTreeMap::new();
    let (fin_ran, cl_ran) = (Chan::new(), Chan::new());
    let mut next_id = 0;
    for op in ops {
        match *op {
            Op::Alloc(r) if next_id < MAX_OBJS => {
                let p = h.alloc(node2());
                h.write_scalar(p, 2, next_id as u64);
                h.set_local(r, p);
                m.alive.insert(next_id);
                m.roots[r] = Some(next_id);
                ptrs.insert(next_id, p);
                next_id += 1;
            }
            Op::Alloc(_) => {}
            Op::SetRoot(r, o) => {
                if let Some(o) = pick(&m, o) {
                    h.set_local(r, ptrs[&o]);
                    m.roots[r] = Some(o);
                }
            }
            Op::ClearRoot(r) => {
                h.set_local(r, Ptr::NIL);
                m.roots[r] = None;
            }
            Op::Link(a, f, b) => {
                if let (Some(a), Some(b)) = (pick(&m, a), pick(&m, b)) {
                    h.write_ptr(ptrs[&a], f, ptrs[&b]);
                    m.edges.insert((a, f), b);
                }
            }
            Op::Unlink(a, f) => {
                if let Some(a) = pick(&m, a) {
                    h.write_ptr(ptrs[&a], f, Ptr::NIL);
                    m.edges.remove(&(a, f));
                }
            }
            Op::Finalizer(a, resurrect) => {
                if let Some(a) = pick(&m, a).filter(|a| !m.finalizer.contains_key(a)) {
                    let ran = fin_ran.clone();
                    h.set_finalizer(ptrs[&a], &[], move |h, p| {
                        let id = h.read_scalar(p, 2) as usize;
                        if resurrect {
                            let arr = h.local(ROOTS);
                            h.write_ptr(arr, id, p);
                        }
                        ran.send(id);
                    });
                    m.finalizer.insert(a, resurrect);
                }
            }
            Op::Cleanup(a) => {
                if let Some(a) = pick(&m, a) {
                    let ran = cl_ran.clone();
                    h.add_cleanup(ptrs[&a], Ptr::NIL, move |_, _| ran.send(a));
                    *m.cleanups.entry(a).or_default() += 1;
                }
            }
            Op::Weak(a) => {
                // One handle per object: a second Make is the same weak pointer.
                if let Some(a) = pick(&m, a) {
                    let w = WeakPointer::make(&mut h, ptrs[&a]);
                    let old = h.read_ptr(weak_arr, a);
                    prop_assert!(old.is_nil() || old == w.handle() || !m.weak[&a]);
                    h.write_ptr(weak_arr, a, w.handle());
                    m.weak.insert(a, true);
                }
            }
            Op::Unresurrect(i) => {
                if !m.resurrected.is_empty() {
                    let o = *m.resurrected.iter().nth(i % m.resurrected.len()).unwrap();
                    h.write_ptr(res_arr, o, Ptr::NIL);
                    m.resurrected.remove(&o);
                }
            }
            Op::Cycle => {
                let (mut fins, mut cls) = m.cycle();
                h.gc();
                h.run_finalizers();
                h.run_cleanups();
                let mut got_f: Vec<usize> = std::iter::from_fn(|| fin_ran.recv()).collect();
                let mut got_c: Vec<usize> = std::iter::from_fn(|| cl_ran.recv()).collect();
                for v in [&mut fins, &mut cls, &mut got_f, &mut got_c] {
                    v.sort();
                }
                prop_assert_eq!(got_f, fins, "finalizers run");
                prop_assert_eq!(got_c, cls, "cleanups run");
                ptrs.retain(|id, _| m.alive.contains(id));
                // Live: the model's objects, the two arrays, every handle (rooted).
                let handles = (0..MAX_OBJS)
                    .filter(|&i| !h.read_ptr(weak_arr, i).is_nil())
                    .count();
                prop_assert_eq!(h.live_objects(), m.alive.len() + 2 + handles);
            }
        }
        // Every weak pointer says what the model says; every live object is intact.
        for (&id, &alive) in &m.weak {
            let w = WeakPointer::from_handle(h.read_ptr(weak_arr, id));
            let v = w.value(&mut h);
            prop_assert_eq!(!v.is_nil(), alive, "weak pointer of {}", id);
            if alive {
                prop_assert_eq!(v, ptrs[&id]);
            }
        }
        for (&id, &p) in &ptrs {
            prop_assert_eq!(h.read_scalar(p, 2), id as u64);
            for f in 0..2 {
                let want = m.edges.get(&(id, f)).map_or(Ptr::NIL, |b| ptrs[b]);
                prop_assert_eq!(h.read_ptr(p, f), want);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(debug_assertions) { 48 } else { 256 }))]

    /// Finalizers, cleanups and weak pointers under random graph mutations and cycles do
    /// exactly what the model of the rules says.
    #[test]
    fn random_mix_matches_the_model(ops in proptest::collection::vec(op(), 1..80)) {
        run_mix(&ops)?;
    }
}

/// With a lazy sweep (the concurrent machine's), mark termination sweeps nothing: a weak
/// pointer to a dead object must still read nil at once (Go: makeStrongFromWeak calls
/// ensureSwept on the object's span), and a finalizer is queued only when its span is swept.
#[test]
fn weak_pointers_and_finalizers_under_the_lazy_sweep() {
    let mut h = heap();
    h.sweep.lazy = true;
    let dead = new_node(&mut h, 7);
    let w = WeakPointer::make(&mut h, dead);
    h.set_local(0, w.handle());
    let fin = new_node(&mut h, 8);
    let ran = Rc::new(RefCell::new(Vec::new()));
    let r = ran.clone();
    h.set_finalizer(fin, &[], move |h, p| {
        r.borrow_mut().push(h.read_scalar(p, VAL))
    });
    h.gc(); // runtime.GC sweeps everything before it returns
    assert!(w.value(&mut h).is_nil());
    h.run_finalizers();
    assert_eq!(*ran.borrow(), vec![8]);

    // A cycle that ends without sweeping: the spans wait, Value sweeps the one it asks about.
    let again = new_node(&mut h, 9);
    let w2 = WeakPointer::make(&mut h, again);
    h.set_local(0, w2.handle());
    h.gc_start();
    h.gc_mark_some(usize::MAX);
    h.gc_finish();
    assert!(!h.is_sweep_done(), "the lazy sweep left spans unswept");
    assert!(w2.value(&mut h).is_nil(), "Value swept the object's span");
    assert!(h.sweep.by_ensure > 0);
}
