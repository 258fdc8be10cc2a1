package benches

import (
	"runtime"
	"testing"
	"time"
)

// Go's collector against the Rust rows of ../benches/gc.rs (chapter-gc's Heap in its two
// mark modes). Run plainly, this is Green Tea (go1.27's default, impl "go"); cargo xtask
// bench runs the same file again with GOEXPERIMENT=nogreenteagc for impl "go-classic".
//
// What is timed: one runtime.GC() with GOMAXPROCS=1, over a heap whose live part is the
// graph below (a few more objects belong to the testing package). runtime.GC runs a whole
// cycle and returns only once the heap is swept: sweep termination, the mark phase (the one
// P's dedicated mark worker, while the benchmark goroutine waits), mark termination and the
// sweep of every span. The Rust rows time Heap::gc(), which does the same steps. The time is
// reported per node of the graph, as ns/op.

// gcNode is the Rust side's node_type(): 24 bytes, size class 24, pointers in words 0 and 1.
type gcNode struct {
	left, right *gcNode
	val         int
}

// gcNodes is the number of nodes of each graph (Rust: NODES in gc.rs).
const gcNodes = 1_000_000

// gcRoot keeps the graph being measured alive (Rust: slot 0 of the heap's frame).
var gcRoot *gcNode

// splitmix64 is the generator both languages use (Rust: splitmix64 in gc.rs), so that the
// random graph is the same graph.
func splitmix64(s *uint64) uint64 {
	*s += 0x9e3779b97f4a7c15
	z := *s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// buildTree: node i's children are nodes 2i+1 and 2i+2, allocated in index order.
func buildTree(n int) *gcNode {
	nodes := make([]*gcNode, n)
	for i := range nodes {
		nodes[i] = &gcNode{val: i}
	}
	for i := range nodes {
		if l := 2*i + 1; l < n {
			nodes[i].left = nodes[l]
		}
		if r := 2*i + 2; r < n {
			nodes[i].right = nodes[r]
		}
	}
	return nodes[0]
}

// buildGraph: out-degree 2. right threads every node on one chain in a random order (so
// all are reachable from the root, and no scan order follows the allocation order); left is a
// node drawn at random. Fixed seed.
func buildGraph(n int) *gcNode {
	nodes := make([]*gcNode, n)
	for i := range nodes {
		nodes[i] = &gcNode{val: i}
	}
	seed := uint64(42)
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := int(splitmix64(&seed) % uint64(i+1))
		perm[i], perm[j] = perm[j], perm[i]
	}
	for k := 0; k+1 < n; k++ {
		nodes[perm[k]].right = nodes[perm[k+1]]
	}
	for i := range nodes {
		nodes[i].left = nodes[splitmix64(&seed)%uint64(n)]
	}
	return nodes[perm[0]]
}

// benchGC times runtime.GC over the graph `build` makes, in ns per node.
func benchGC(b *testing.B, build func(int) *gcNode) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	gcRoot = build(gcNodes)
	runtime.GC() // the builder's garbage (the slices) goes
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		runtime.GC()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N)/gcNodes, "ns/op")
	gcRoot = nil
	runtime.GC()
}

// Benchmark_gc_mark_tree: a complete binary tree of 1e6 nodes.
func Benchmark_gc_mark_tree(b *testing.B) { benchGC(b, buildTree) }

// Benchmark_gc_mark_graph: the random graph of 1e6 nodes.
func Benchmark_gc_mark_graph(b *testing.B) { benchGC(b, buildGraph) }

// gcNode16 is the Rust side's node16: 16 bytes, size class 16, a pointer in word 0.
type gcNode16 struct {
	next *gcNode16
	val  int
}

// gcWindow is the number of live objects of gc_alloc_window (Rust: WINDOW in gc.rs); they
// live in a global array, scanned as a root, as the Rust side's globals are.
const gcWindow = 1000

var gcRing [gcWindow]*gcNode16

// Benchmark_gc_alloc_window: allocation with the collector running, GOMAXPROCS=1, GOGC=100:
// each operation replaces the oldest object of the window by a new one; ns per operation,
// including the share of every GC cycle the allocations start.
func Benchmark_gc_alloc_window(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for i := range gcRing {
		gcRing[i] = &gcNode16{val: i}
	}
	runtime.GC()
	oldest := 0
	b.ResetTimer()
	for range b.N {
		gcRing[oldest] = new(gcNode16)
		oldest++
		if oldest == gcWindow {
			oldest = 0
		}
	}
	b.StopTimer()
	clear(gcRing[:])
	runtime.GC()
}

// Benchmark_gc_stw_pause: the time the world is stopped per cycle (sweep termination plus
// mark termination, as runtime.MemStats.PauseTotalNs counts them: from when stopping begins
// to when the world has started again) over the tree of Benchmark_gc_mark_tree, GOMAXPROCS=1.
// The Rust side times Heap::gc_start and Heap::gc_finish, the two steps that stand for them.
func Benchmark_gc_stw_pause(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	gcRoot = buildTree(gcNodes)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		runtime.GC()
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	cycles := after.NumGC - before.NumGC
	if cycles < uint32(b.N) {
		b.Fatalf("%d cycles for %d runtime.GC calls", cycles, b.N)
	}
	b.ReportMetric(float64(after.PauseTotalNs-before.PauseTotalNs)/float64(cycles), "ns/op")
	gcRoot = nil
	runtime.GC()
}

// The tree and the graph have every node reachable, so a cycle marks all gcNodes of them.
func TestGCGraphsReachEveryNode(t *testing.T) {
	for _, build := range []func(int) *gcNode{buildTree, buildGraph} {
		root := build(1000)
		seen := map[*gcNode]bool{}
		stack := []*gcNode{root}
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if p == nil || seen[p] {
				continue
			}
			seen[p] = true
			stack = append(stack, p.left, p.right)
		}
		if len(seen) != 1000 {
			t.Fatalf("reached %d of 1000 nodes", len(seen))
		}
	}
}
