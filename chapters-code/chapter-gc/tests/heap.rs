//! The managed heap and its stop-the-world collector, from a program's side: objects
//! survive while reachable from a frame or a global, are freed once not, and a random
//! mutator never loses a reachable object (safety) nor keeps garbage past two cycles
//! (completeness), checked against a shadow model.
#![cfg(not(miri))] // the allocator's heap maps memory; miri cannot (see heap.rs)

use chapter_allocator::sizeclasses::{size_to_class, MALLOC_HEADER_SIZE};
use chapter_gc::heap::{Globals, Heap, Ptr};
use chapter_gc::mgcwork::MarkMode;
use chapter_gc::types::{bytes_type, node_type, padded_node_type, ptr_array_type, Type};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const LEFT: usize = 0;
const RIGHT: usize = 1;
const VAL: usize = 2;

#[test]
fn allocation_gives_distinct_zeroed_objects_of_the_right_class() {
    let mut h = Heap::new();
    let node = node_type();
    let big = padded_node_type(1000); // malloc header
    let bytes = bytes_type(40); // noscan
    let mut seen = BTreeSet::new();
    for _ in 0..2000 {
        let p = h.alloc(node);
        assert!(seen.insert(p.0), "{p:?} handed out twice");
        assert_eq!(h.read_ptr(p, LEFT), Ptr::NIL);
        assert_eq!(h.read_scalar(p, VAL), 0);
        h.write_scalar(p, VAL, 0xdead_beef); // dirty it for the reuse below
        let (spc, size) = h.span_class_of(p).unwrap();
        assert_eq!(
            (spc.sizeclass(), spc.noscan(), size),
            (size_to_class(24), false, 24)
        );
    }
    let b = h.alloc(big);
    let (spc, _) = h.span_class_of(b).unwrap();
    assert_eq!(spc.sizeclass(), size_to_class(1000 + MALLOC_HEADER_SIZE));
    assert_eq!(b.0 % 8, 0);
    let s = h.alloc(bytes);
    assert!(
        h.span_class_of(s).unwrap().0.noscan(),
        "no pointers: a noscan span"
    );
    // Freed and reused memory comes back zeroed.
    h.gc();
    assert_eq!(h.live_objects(), 0);
    for _ in 0..2000 {
        let p = h.alloc(node);
        assert_eq!(h.read_scalar(p, VAL), 0, "reused memory is zeroed");
    }
}

/// A linked list of `n` nodes hanging off slot 0 of the current frame, values 0..n.
fn build_list(h: &mut Heap, typ: &'static Type, n: u64) {
    for v in 0..n {
        let p = h.alloc(typ);
        h.write_scalar(p, VAL, v);
        let head = h.local(0);
        h.write_ptr(p, LEFT, head);
        h.set_local(0, p);
    }
}

fn check_list(h: &Heap, root: Ptr, n: u64) {
    let mut p = root;
    for v in (0..n).rev() {
        assert_eq!(h.read_scalar(p, VAL), v);
        p = h.read_ptr(p, LEFT);
    }
    assert!(p.is_nil());
}

#[test]
fn what_a_frame_or_a_global_reaches_survives_every_cycle() {
    for typ in [node_type(), padded_node_type(700), padded_node_type(40_000)] {
        let globals = Globals {
            words: vec![0; 3],
            ptrmask: vec![false, true, false],
        };
        let mut h = Heap::with_globals(100, globals);
        h.push_frame(2, &[0]);
        build_list(&mut h, typ, 50);
        let list = h.local(0);
        h.set_global(1, list);
        h.set_local(0, Ptr::NIL);
        h.push_frame(2, &[0]);
        build_list(&mut h, typ, 30);
        for _ in 0..5 {
            h.gc();
            check_list(&h, h.global(1), 50);
            check_list(&h, h.local(0), 30);
            assert_eq!(h.live_objects(), 80, "{}", typ.size);
        }
        h.pop_frame();
        h.gc();
        assert_eq!(h.live_objects(), 50, "the popped frame's list is garbage");
        h.set_global(1, Ptr::NIL);
        h.gc();
        assert_eq!(h.live_objects(), 0);
    }
}

#[test]
fn a_scalar_that_looks_like_a_pointer_keeps_nothing_alive() {
    let mut h = Heap::new();
    h.push_frame(2, &[0]);
    let p = h.alloc(node_type());
    h.set_local_scalar(1, p.0); // precise stack map: slot 1 is an int
    let q = h.alloc(node_type());
    h.write_scalar(q, VAL, p.0 as u64); // and so is q.val
    h.set_local(0, q);
    h.gc();
    assert_eq!(h.live_objects(), 1);
    assert!(h.find_object(p.0).is_none(), "p was freed");
}

#[test]
fn garbage_is_freed_and_its_memory_reused() {
    let mut h = Heap::new();
    h.push_frame(1, &[0]);
    let node = node_type();
    for _ in 0..5000 {
        h.alloc(node);
    }
    let inuse = h.heap_inuse();
    assert_eq!(h.live_objects(), 5000);
    h.gc();
    assert_eq!(h.live_objects(), 0);
    assert_eq!(h.stats.last_freed, 5000);
    assert!(h.heap_inuse() < inuse, "empty spans went back to the MHeap");
    // Now keep one object per span alive: the spans stay, and their slots are reused.
    let keep = h.alloc(node);
    h.set_local(0, keep);
    let more: BTreeSet<usize> = (0..100).map(|_| h.alloc(node).0).collect();
    h.gc();
    assert_eq!((h.live_objects(), h.stats.last_freed), (1, 100));
    let before = h.heap_inuse();
    let again: BTreeSet<usize> = (0..100).map(|_| h.alloc(node).0).collect();
    assert_eq!(
        h.heap_inuse(),
        before,
        "no new span: freed slots were reused"
    );
    assert_eq!(
        again, more,
        "the freed objects' slots, and only those, were reused"
    );
}

#[test]
fn a_cycle_of_garbage_is_freed() {
    let mut h = Heap::new();
    h.push_frame(1, &[0]);
    let node = node_type();
    let a = h.alloc(node);
    h.set_local(0, a);
    let b = h.alloc(node);
    h.write_ptr(a, LEFT, b);
    h.write_ptr(b, LEFT, a); // a ⇄ b
    h.write_ptr(a, RIGHT, a); // and a self-loop
    h.gc();
    assert_eq!(h.live_objects(), 2);
    h.set_local(0, Ptr::NIL);
    h.gc();
    assert_eq!(
        h.live_objects(),
        0,
        "reference counting would leak this; tracing does not"
    );
}

#[test]
fn pointer_arrays_and_noscan_objects_are_marked_through_and_not_scanned() {
    let mut h = Heap::new();
    h.push_frame(1, &[0]);
    let arr = h.alloc(ptr_array_type(100)); // 800 B: malloc header
    h.set_local(0, arr);
    for i in 0..100 {
        let b = h.alloc(bytes_type(64));
        h.write_scalar(b, 0, i as u64);
        h.write_ptr(arr, i, b);
    }
    for _ in 0..1000 {
        h.alloc(bytes_type(64));
    }
    h.gc();
    assert_eq!(h.live_objects(), 101);
    for i in 0..100 {
        assert_eq!(h.read_scalar(h.read_ptr(arr, i), 0), i as u64);
    }
}

#[test]
fn the_deletion_barrier_keeps_an_object_hidden_on_a_scanned_stack() {
    // The lost-object race of mbarrier.rs, on the real heap. The stack is scanned when the
    // cycle starts (and never again); the mutator then loads c, the only pointer to which is
    // in b, into a frame slot (no barrier on stack writes) and deletes b's pointer. Only the
    // deletion half of the barrier, shading the overwritten c, keeps it alive.
    let mut h = Heap::new();
    h.push_frame(2, &[0, 1]);
    let a = h.alloc(node_type());
    h.set_local(0, a);
    let b = h.alloc(node_type());
    h.write_ptr(a, LEFT, b);
    let c = h.alloc(node_type());
    h.write_scalar(c, VAL, 7);
    h.write_ptr(b, LEFT, c);
    h.gc_start(); // a grey; the stack is black
    let c = h.read_ptr(b, LEFT);
    h.set_local(1, c);
    h.write_ptr(b, LEFT, Ptr::NIL); // deletion barrier: shade c
    h.gc_mark_some(usize::MAX);
    let d = h.alloc(node_type()); // allocated black during mark
    h.write_ptr(c, LEFT, d);
    h.gc_finish();
    assert_eq!(h.live_objects(), 4);
    assert_eq!(h.read_scalar(h.local(1), VAL), 7);
    assert_eq!(h.read_ptr(c, LEFT), d);
    h.set_local(1, Ptr::NIL);
    h.gc();
    assert_eq!(h.live_objects(), 2, "a and b");
}

#[test]
fn the_trigger_starts_cycles_as_the_pacer_predicts() {
    let mut h = Heap::new();
    h.push_frame(1, &[0]);
    let node = node_type();
    let live = h.alloc(node);
    h.set_local(0, live);
    let trigger = h.trigger();
    // GOGC=100, a tiny live heap: the goal is heapMinimum (4 MiB), the trigger 61/64 of it.
    assert_eq!(trigger, (4 << 20) / 64 * 61);
    let bytes: u64 = 64 << 20;
    for _ in 0..bytes / 24 {
        h.alloc(node);
    }
    let cycles = h.stats.numgc as u64;
    let predicted = bytes / trigger;
    assert!(
        cycles.abs_diff(predicted) <= 1,
        "{cycles} cycles for {bytes} bytes, predicted {predicted}"
    );
    for &(heap0, trig) in &h.stats.starts {
        assert!(
            heap0 >= trig && heap0 < trig + 24,
            "started at {heap0}, trigger {trig}"
        );
    }
    let line = h.stats.last_trace.line();
    assert!(line.starts_with(&format!("gc {cycles} @")), "{line}");
    assert!(line.contains("MB goal, 0 MB stacks"));
    assert_eq!(h.local(0), live, "the live node survived every cycle");
    assert_eq!(h.read_ptr(live, LEFT), Ptr::NIL);
}

#[test]
fn a_growing_live_heap_moves_the_goal_out() {
    let mut h = Heap::new();
    h.push_frame(1, &[0]);
    build_list(&mut h, padded_node_type(256), 60_000); // ~15 MiB live
    let marked = h.controller.heap_marked;
    assert!(h.stats.numgc >= 1 && marked > 0);
    h.gc();
    let marked = h.controller.heap_marked;
    assert!(marked >= 60_000 * 256, "{marked}");
    // GOGC=100: the heap may grow by all it scanned, live heap and stack (one 8-byte slot).
    assert_eq!(h.controller.heap_goal(), marked * 2 + 8);
    check_list(&h, h.local(0), 60_000);
}

// ---- the random mutator against a shadow model ----

#[derive(Clone, Debug)]
enum Op {
    Alloc(usize),             // kind of object into local 0
    Link(usize, usize, bool), // obj i . (left|right) = obj j   (indices into reachable set)
    Unlink(usize, bool),
    SetVal(usize, u64),
    Push,
    Pop,
    Stash(usize),  // local slot 1 = obj i
    Global(usize), // global 0 = obj i
    Gc,
    GcStart,
    MarkSome(usize),
    GcFinish,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..4usize).prop_map(Op::Alloc),
        5 => (any::<usize>(), any::<usize>(), any::<bool>()).prop_map(|(a, b, l)| Op::Link(a, b, l)),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(a, l)| Op::Unlink(a, l)),
        2 => (any::<usize>(), any::<u64>()).prop_map(|(a, v)| Op::SetVal(a, v)),
        2 => Just(Op::Push),
        2 => Just(Op::Pop),
        2 => any::<usize>().prop_map(Op::Stash),
        1 => any::<usize>().prop_map(Op::Global),
        1 => Just(Op::Gc),
        1 => Just(Op::GcStart),
        2 => (1..20usize).prop_map(Op::MarkSome),
        1 => Just(Op::GcFinish),
    ]
}

/// Shadow object: left, right (shadow ids), val; noscan objects have only val.
#[derive(Clone, Debug, Default)]
struct Shadow {
    left: Option<usize>,
    right: Option<usize>,
    val: u64,
    scan: bool,
}

struct Model {
    objs: BTreeMap<usize, Shadow>, // by id
    real: BTreeMap<usize, Ptr>,
    by_ptr: BTreeMap<Ptr, usize>,
    next: usize,
}

fn reachable(m: &Model, h: &Heap) -> BTreeSet<usize> {
    let mut roots = vec![];
    for f in &h.stack.frames {
        for (i, &s) in f.slots.iter().enumerate() {
            if f.ptrmask[i] && s != 0 {
                roots.push(m.by_ptr[&Ptr(s)]);
            }
        }
    }
    if !h.global(0).is_nil() {
        roots.push(m.by_ptr[&h.global(0)]);
    }
    let mut seen = BTreeSet::new();
    while let Some(id) = roots.pop() {
        if seen.insert(id) {
            let o = &m.objs[&id];
            roots.extend(o.left.iter().chain(o.right.iter()));
        }
    }
    seen
}

fn run(ops: Vec<Op>, mode: MarkMode) -> Result<(), TestCaseError> {
    let kinds: [&'static Type; 4] = [
        node_type(),
        padded_node_type(600),
        padded_node_type(33_000),
        bytes_type(24),
    ];
    let globals = Globals {
        words: vec![0],
        ptrmask: vec![true],
    };
    let mut h = Heap::with_globals(100, globals);
    h.set_mark_mode(mode);
    let mut m = Model {
        objs: BTreeMap::new(),
        real: BTreeMap::new(),
        by_ptr: BTreeMap::new(),
        next: 0,
    };
    h.push_frame(3, &[0, 1]);
    for op in ops {
        // Forget shadow objects that are unreachable: the program can never name them again.
        let live = reachable(&m, &h);
        let live_v: Vec<usize> = live.iter().copied().collect();
        let pick = |i: usize| (!live_v.is_empty()).then(|| live_v[i % live_v.len()]);
        match op {
            Op::Alloc(k) => {
                let p = h.alloc(kinds[k]);
                let id = m.next;
                m.next += 1;
                let scan = k != 3;
                // Alloc may have collected: drop model entries the heap freed.
                m.objs.insert(
                    id,
                    Shadow {
                        scan,
                        ..Default::default()
                    },
                );
                if let Some(old) = m.by_ptr.insert(p, id) {
                    prop_assert!(!live.contains(&old), "reused a reachable object's memory");
                    m.objs.remove(&old);
                }
                m.real.insert(id, p);
                h.set_local(0, p);
            }
            Op::Link(a, b, left) => {
                if let (Some(a), Some(b)) = (pick(a), pick(b)) {
                    if m.objs[&a].scan {
                        h.write_ptr(m.real[&a], if left { LEFT } else { RIGHT }, m.real[&b]);
                        let o = m.objs.get_mut(&a).unwrap();
                        if left {
                            o.left = Some(b)
                        } else {
                            o.right = Some(b)
                        }
                    }
                }
            }
            Op::Unlink(a, left) => {
                if let Some(a) = pick(a) {
                    if m.objs[&a].scan {
                        h.write_ptr(m.real[&a], if left { LEFT } else { RIGHT }, Ptr::NIL);
                        let o = m.objs.get_mut(&a).unwrap();
                        if left {
                            o.left = None
                        } else {
                            o.right = None
                        }
                    }
                }
            }
            Op::SetVal(a, v) => {
                if let Some(a) = pick(a) {
                    let field = if m.objs[&a].scan { VAL } else { 0 };
                    h.write_scalar(m.real[&a], field, v);
                    m.objs.get_mut(&a).unwrap().val = v;
                }
            }
            Op::Push => {
                if h.stack.frames.len() < 8 {
                    let keep = h.local(0);
                    h.push_frame(3, &[0, 1]);
                    h.set_local(0, keep);
                }
            }
            Op::Pop => {
                if h.stack.frames.len() > 1 {
                    h.pop_frame();
                }
            }
            Op::Stash(a) => {
                if let Some(a) = pick(a) {
                    h.set_local(1, m.real[&a]);
                }
            }
            Op::Global(a) => {
                let v = pick(a).map_or(Ptr::NIL, |a| m.real[&a]);
                h.set_global(0, v);
            }
            Op::Gc => h.gc(),
            Op::GcStart => {
                if h.phase() == chapter_gc::heap::GcPhase::Off {
                    h.gc_start()
                }
            }
            Op::MarkSome(n) => {
                if h.phase() == chapter_gc::heap::GcPhase::Mark {
                    h.gc_mark_some(n);
                }
            }
            Op::GcFinish => {
                if h.phase() == chapter_gc::heap::GcPhase::Mark {
                    h.gc_finish()
                }
            }
        }
        // ANCHOR: heap_safety
        // SAFETY: every reachable object is intact.
        for id in reachable(&m, &h) {
            let (o, p) = (&m.objs[&id], m.real[&id]);
            prop_assert!(
                h.find_object(p.0).is_some(),
                "reachable object {id} was freed"
            );
            if o.scan {
                let l = h.read_ptr(p, LEFT);
                let r = h.read_ptr(p, RIGHT);
                prop_assert_eq!(l, o.left.map_or(Ptr::NIL, |x| m.real[&x]));
                prop_assert_eq!(r, o.right.map_or(Ptr::NIL, |x| m.real[&x]));
                prop_assert_eq!(h.read_scalar(p, VAL), o.val);
            } else {
                prop_assert_eq!(h.read_scalar(p, 0), o.val);
            }
        }
    }
    // COMPLETENESS: two whole cycles free everything unreachable (floating garbage from an
    // interrupted cycle included).
    h.gc();
    h.gc();
    prop_assert_eq!(h.live_objects(), reachable(&m, &h).len());
    // ANCHOR_END: heap_safety
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn random_mutators_lose_nothing_and_keep_no_garbage(
        ops in prop::collection::vec(op(), 1..200),
        classic in any::<bool>(),
    ) {
        run(ops, if classic { MarkMode::Classic } else { MarkMode::GreenTea })?;
    }
}
