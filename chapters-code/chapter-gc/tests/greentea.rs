//! Green Tea against the classic flood: both mark exactly what is reachable; small scan
//! objects go through their span's inline mark bits and the FIFO span queue (one-mark
//! shortcut or batch scan, each span queued once at a time), and everything else goes the
//! classic way (go1.27.3 mgcmark_greenteagc.go: tryDeferToSpanScan, scanSpan).
#![cfg(not(miri))] // the allocator's heap maps memory; miri cannot (see heap.rs)

use chapter_allocator::sizeclasses::PAGE_SIZE;
use chapter_gc::heap::{Globals, Heap, Ptr};
use chapter_gc::mgcwork::MarkMode;
use chapter_gc::types::{bytes_type, node_type, padded_node_type, Type};
use proptest::prelude::*;
use std::collections::BTreeSet;

const LEFT: usize = 0;
const RIGHT: usize = 1;
const MODES: [MarkMode; 2] = [MarkMode::GreenTea, MarkMode::Classic];

/// A heap that never collects on its own (GOGC=off), in `mode`, with one frame of `slots`
/// pointer slots.
fn heap(mode: MarkMode, slots: usize) -> Heap {
    let mut h = Heap::with_globals(-1, Globals::default());
    h.set_mark_mode(mode);
    h.push_frame(slots, &(0..slots).collect::<Vec<_>>());
    h
}

fn span_base(p: Ptr) -> usize {
    p.0 & !(PAGE_SIZE - 1)
}

/// `n` nodes, all kept in frame slots so that none is garbage yet.
fn nodes(h: &mut Heap, n: usize) -> Vec<Ptr> {
    (0..n)
        .map(|i| {
            let p = h.alloc(node_type());
            h.set_local(i, p);
            p
        })
        .collect()
}

fn clear_frame(h: &mut Heap, n: usize) {
    for i in 0..n {
        h.set_local(i, Ptr::NIL);
    }
}

/// Random graph: object kinds (0: 24 B node, 1: 600 B node with a header, 2: 33 KB large
/// node, 3: noscan 24 B), edges (from, to, left?) and roots, all as indices mod n.
#[derive(Clone, Debug)]
struct Graph {
    kinds: Vec<u8>,
    edges: Vec<(usize, usize, bool)>,
    roots: Vec<usize>,
}

fn graph() -> impl Strategy<Value = Graph> {
    (1..120usize).prop_flat_map(|n| {
        (
            prop::collection::vec(
                prop_oneof![8 => Just(0u8), 1 => Just(1), 1 => Just(2), 2 => Just(3)],
                n,
            ),
            prop::collection::vec((0..n, 0..n, any::<bool>()), 0..2 * n),
            prop::collection::vec(0..n, 0..4),
        )
            .prop_map(|(kinds, edges, roots)| Graph {
                kinds,
                edges,
                roots,
            })
    })
}

/// Marks the graph in `mode`; checks the marked set, then the survivors, against the model.
fn mark_graph(g: &Graph, mode: MarkMode) -> Result<(), TestCaseError> {
    let types: [&'static Type; 4] = [
        node_type(),
        padded_node_type(600),
        padded_node_type(33_000),
        bytes_type(24),
    ];
    let n = g.kinds.len();
    let mut h = heap(mode, n.max(g.roots.len()));
    let objs: Vec<Ptr> = (0..n)
        .map(|i| {
            let p = h.alloc(types[g.kinds[i] as usize]);
            h.set_local(i, p);
            p
        })
        .collect();
    let mut succ = vec![[None; 2]; n];
    for &(a, b, left) in &g.edges {
        if g.kinds[a] != 3 {
            h.write_ptr(objs[a], if left { LEFT } else { RIGHT }, objs[b]);
            succ[a][usize::from(!left)] = Some(b);
        }
    }
    clear_frame(&mut h, n);
    for (slot, &r) in g.roots.iter().enumerate() {
        h.set_local(slot, objs[r]);
    }
    // The model: plain reachability.
    let mut want = BTreeSet::new();
    let mut stack = g.roots.clone();
    while let Some(i) = stack.pop() {
        if want.insert(i) {
            stack.extend(succ[i].iter().flatten());
        }
    }
    h.gc_start();
    prop_assert!(h.gc_mark_some(usize::MAX));
    let marked: BTreeSet<usize> = (0..n).filter(|&i| h.is_marked(objs[i].0)).collect();
    prop_assert_eq!(&marked, &want, "{:?}", mode);
    h.gc_finish();
    prop_assert_eq!(h.live_objects(), want.len());
    for &i in &want {
        prop_assert!(h.find_object(objs[i].0).is_some());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn both_modes_mark_exactly_the_reachable_objects(g in graph()) {
        for mode in MODES {
            mark_graph(&g, mode)?;
        }
    }
}

#[test]
fn one_grey_object_takes_the_one_mark_path_and_many_take_the_batch_path() {
    let mut h = heap(MarkMode::GreenTea, 10);
    let ns = nodes(&mut h, 10); // all in one span
    assert!(ns.iter().all(|&p| span_base(p) == span_base(ns[0])));
    clear_frame(&mut h, 10);
    // Seven objects of the span grey before it is scanned: one batch scan.
    for (slot, &i) in [0usize, 1, 2, 4, 6, 8, 9].iter().enumerate() {
        h.set_local(slot, ns[i]);
    }
    let s0 = h.scan_stats().clone();
    h.gc();
    let s1 = h.scan_stats().clone();
    assert_eq!(s1.spans_queued - s0.spans_queued, 1, "queued once");
    assert_eq!(s1.spans_sparse_scanned - s0.spans_sparse_scanned, 1);
    assert_eq!(s1.span_objs_sparse_scanned - s0.span_objs_sparse_scanned, 7);
    assert_eq!(s1.sparse_objs_scanned, s0.sparse_objs_scanned);
    assert_eq!(h.live_objects(), 7);
    // One: the one-mark shortcut scans just it.
    clear_frame(&mut h, 10);
    h.set_local(0, ns[4]);
    h.gc();
    let s2 = h.scan_stats().clone();
    assert_eq!(s2.spans_queued - s1.spans_queued, 1);
    assert_eq!(
        s2.sparse_objs_scanned - s1.sparse_objs_scanned,
        1,
        "one-mark"
    );
    assert_eq!(s2.spans_sparse_scanned, s1.spans_sparse_scanned, "no batch");
    assert_eq!(h.live_objects(), 1);
}

#[test]
fn a_span_is_queued_at_most_once_while_queued() {
    let mut h = heap(MarkMode::GreenTea, 40);
    let ns = nodes(&mut h, 40);
    // Link a list through all 40 (one span); also root 20 of them.
    for i in 0..39 {
        h.write_ptr(ns[i], LEFT, ns[i + 1]);
    }
    clear_frame(&mut h, 40);
    for i in 0..20 {
        h.set_local(i, ns[2 * i]);
    }
    let before = h.scan_stats().spans_queued;
    h.gc_start();
    assert_eq!(
        h.queued_spans(),
        vec![span_base(ns[0])],
        "20 marks, one entry"
    );
    assert_eq!(h.scan_stats().spans_queued - before, 1);
    h.gc_finish();
    assert_eq!(h.live_objects(), 40);
    // Once released by its scan the span can be queued again: a list rooted at its head
    // queues its span once per node, each scan marking the next.
    clear_frame(&mut h, 40);
    h.set_local(0, ns[0]);
    let s0 = h.scan_stats().clone();
    h.gc();
    let s1 = h.scan_stats().clone();
    assert_eq!(s1.spans_queued - s0.spans_queued, 40);
    assert_eq!(s1.sparse_objs_scanned - s0.sparse_objs_scanned, 40);
}

#[test]
fn spans_come_out_first_in_first_out() {
    // Leaves in three different spans, rooted in the order C, A, B.
    let per_span = 400; // more than one span of 24-byte objects holds
    let mut h = heap(MarkMode::GreenTea, 3 * per_span);
    let ns = nodes(&mut h, 3 * per_span);
    let (a, b, c) = (ns[0], ns[per_span + 100], ns[2 * per_span + 200]);
    let bases = [span_base(a), span_base(b), span_base(c)];
    assert_eq!(BTreeSet::from(bases).len(), 3);
    clear_frame(&mut h, 3 * per_span);
    for (slot, p) in [c, a, b].into_iter().enumerate() {
        h.set_local(slot, p);
    }
    h.gc_start();
    assert_eq!(h.queued_spans(), vec![bases[2], bases[0], bases[1]]);
    assert!(!h.gc_mark_some(1));
    assert_eq!(h.queued_spans(), vec![bases[0], bases[1]], "oldest first");
    assert!(!h.gc_mark_some(1));
    assert_eq!(h.queued_spans(), vec![bases[1]]);
    assert!(h.gc_mark_some(1));
    h.gc_finish();
    assert_eq!(h.live_objects(), 3);
}

#[test]
fn big_large_and_noscan_objects_go_the_classic_way() {
    for mode in MODES {
        let mut h = heap(mode, 4);
        let big = h.alloc(padded_node_type(600)); // malloc header: > 512 B
        h.set_local(0, big);
        let large = h.alloc(padded_node_type(40_000));
        h.set_local(1, large);
        let raw = h.alloc(bytes_type(24)); // noscan
        h.set_local(2, raw);
        let q = h.scan_stats().spans_queued;
        h.gc_start();
        assert!(h.queued_spans().is_empty(), "{mode:?}");
        assert!(
            !h.gc_work_empty(),
            "the two scan objects wait in the object buffer"
        );
        assert!(h.is_marked(raw.0), "noscan: black at once, never queued");
        assert!(!h.gc_mark_some(1));
        assert!(h.gc_mark_some(1));
        assert_eq!(h.scan_stats().spans_queued, q);
        h.gc_finish();
        assert_eq!(h.live_objects(), 3);
    }
    // The classic mode queues no span even for small scan objects.
    let mut h = heap(MarkMode::Classic, 10);
    nodes(&mut h, 10);
    h.gc_start();
    assert!(h.queued_spans().is_empty());
    assert!(!h.gc_work_empty());
    h.gc_finish();
    assert_eq!(h.scan_stats().spans_queued, 0);
}

#[test]
fn objects_allocated_while_marking_are_black_in_both_modes() {
    for mode in MODES {
        let mut h = heap(mode, 1);
        let keep = h.alloc(node_type());
        h.set_local(0, keep);
        h.gc_start();
        let fresh = h.alloc(node_type());
        assert!(h.is_marked(fresh.0), "{mode:?}");
        h.write_ptr(keep, LEFT, fresh);
        h.write_ptr(keep, LEFT, Ptr::NIL);
        h.gc_finish();
        assert_eq!(
            h.live_objects(),
            2,
            "{mode:?}: allocated black, floats a cycle"
        );
        h.gc();
        assert_eq!(h.live_objects(), 1, "{mode:?}");
    }
}
