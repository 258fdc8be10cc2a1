package benches

import (
	"sync"
	"sync/atomic"
	"testing"
)

// What Go's sequentially consistent sync/atomic costs: atomic.Int64's methods, against the
// Rust rows of ../benches/memory-model.rs (AtomicI64 at SeqCst, Acquire/Release and Relaxed).
// Every benchmark reports ns per atomic operation (per store-and-load in the SB one) as ns/op.
// Go's compiler never hoists, merges or deletes a sync/atomic call, so the loops are plain.

// ContendedProcs is the number of goroutines of atomic_add_contended and their GOMAXPROCS
// (Rust: THREADS in memory-model.rs, that many OS threads).
const ContendedProcs = 2

// A word alone on its cache line (the SB litmus test's x and y; Rust: Line).
type line struct {
	atomic.Int64
	_ [56]byte
}

var (
	word          atomic.Int64 // the uncontended benchmarks' word (Rust: WORD)
	contendedWord atomic.Int64 // atomic_add_contended's word (Rust: CONTENDED)
	sbX, sbY      line         // the SB cells (Rust: SB_X, SB_Y)
	atomicSink    int64
)

// Benchmark_atomic_load: b.N loads of one word, summed; ns per Load.
func Benchmark_atomic_load(b *testing.B) {
	word.Store(1)
	b.ResetTimer()
	var sum int64
	for range b.N {
		sum += word.Load()
	}
	b.StopTimer()
	if sum != int64(b.N) {
		b.Fatalf("sum %d, want %d", sum, b.N)
	}
	atomicSink = sum
}

// Benchmark_atomic_store: b.N stores of the loop counter to one word; ns per Store (an XCHGQ
// on amd64).
func Benchmark_atomic_store(b *testing.B) {
	for i := range b.N {
		word.Store(int64(i))
	}
	b.StopTimer()
	if got := word.Load(); got != int64(b.N-1) {
		b.Fatalf("word %d, want %d", got, b.N-1)
	}
}

// Benchmark_atomic_add: b.N adds of 1 to one word; ns per Add.
func Benchmark_atomic_add(b *testing.B) {
	word.Store(0)
	b.ResetTimer()
	for range b.N {
		word.Add(1)
	}
	b.StopTimer()
	if got := word.Load(); got != int64(b.N) {
		b.Fatalf("word %d, want %d", got, b.N)
	}
}

// Benchmark_atomic_cas: b.N compare-and-swaps of one word from i to i+1, every one of which
// succeeds; ns per CompareAndSwap.
func Benchmark_atomic_cas(b *testing.B) {
	word.Store(0)
	b.ResetTimer()
	ok := 0
	for i := range b.N {
		if word.CompareAndSwap(int64(i), int64(i+1)) {
			ok++
		}
	}
	b.StopTimer()
	if ok != b.N {
		b.Fatalf("%d of %d CAS succeeded", ok, b.N)
	}
}

// Benchmark_atomic_add_contended: at GOMAXPROCS=ContendedProcs, that many goroutines each add 1
// to the same word b.N times; ns per Add (the wall time over all the adds).
func Benchmark_atomic_add_contended(b *testing.B) {
	defer procs(b, ContendedProcs)()
	contendedWord.Store(0)
	var wg sync.WaitGroup
	wg.Add(ContendedProcs)
	for range ContendedProcs {
		go func() {
			defer wg.Done()
			for range b.N {
				contendedWord.Add(1)
			}
		}()
	}
	wg.Wait()
	perOp(b, ContendedProcs)
	if got := contendedWord.Load(); got != int64(ContendedProcs*b.N) {
		b.Fatalf("word %d, want %d", got, ContendedProcs*b.N)
	}
}

// Benchmark_atomic_store_load_sb: one goroutine's half of the SB (store buffering) litmus test
// in a loop: store to x, then load y; ns per store-and-load. Store's XCHGQ drains the store
// buffer before the load runs, which is why Go programs never see SB's 0/0.
func Benchmark_atomic_store_load_sb(b *testing.B) {
	sbY.Store(1)
	b.ResetTimer()
	var sum int64
	for i := range b.N {
		sbX.Store(int64(i))
		sum += sbY.Load()
	}
	b.StopTimer()
	if sum != int64(b.N) {
		b.Fatalf("sum %d, want %d", sum, b.N)
	}
	atomicSink = sum
}
