package benches

import (
	"runtime"
	"strconv"
	"sync"
	"testing"
)

// Go's own allocator, against the Rust rows of ../benches/allocator.rs (the chapter's mallocgc
// and freegc, glibc's malloc, mimalloc). Every benchmark reports ns per operation as ns/op.
//
// An operation is the same as in Rust: the oldest object of a sliding window of `window` live
// objects is replaced by a new one of the same size, whose first byte is written. But Go has no
// free: dropping the oldest object's last reference is all the "free" there is, and the garbage
// collector finds and frees it later. So Go's ns/op is allocation + its amortised share of the
// GC cycles (at the default GOGC=100, a cycle every few MB allocated, since the live heap is
// small), where the Rust rows are allocation + free. `make` also zeroes the object when its
// memory was used before; the Rust rows' allocations are not zeroed.

// window is the number of live objects of one window (Rust: WINDOW in allocator.rs).
const window = 1000

// The windows live in package-level variables, so that every make escapes to the heap; the
// objects are []byte, which the GC does not scan (noscan spans, as in the Rust rows).
var (
	allocRing    [window][]byte
	threadRings  [4][window][]byte
	windowSizes  = []int{16, 64, 256, 4096}
	threadCounts = []int{1, 2, 4}
)

// fillRing makes ring a full window of n-byte objects.
func fillRing(ring *[window][]byte, n int) {
	for i := range ring {
		s := make([]byte, n)
		s[0] = 1
		ring[i] = s
	}
}

// runRing does ops operations on ring: replace the oldest object by a new n-byte one.
func runRing(ring *[window][]byte, n, ops int) {
	oldest := 0
	for range ops {
		s := make([]byte, n)
		s[0] = byte(oldest)
		ring[oldest] = s
		oldest++
		if oldest == window {
			oldest = 0
		}
	}
}

// Benchmark_alloc_window: one goroutine, one window of n-byte objects; ns per operation. The
// window is filled, and the GC run, before the clock starts.
func Benchmark_alloc_window(b *testing.B) {
	for _, n := range windowSizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			fillRing(&allocRing, n)
			runtime.GC()
			b.ResetTimer()
			runRing(&allocRing, n, b.N)
			b.StopTimer()
			allocRing = [window][]byte{}
		})
	}
}

// Benchmark_alloc_threads: t<n> goroutines (default GOMAXPROCS), each with its own window of
// 64-byte objects, each doing b.N operations at once; the wall time over all of their
// operations, so ns/op is per operation of any goroutine (Rust: an iteration is one operation
// on each thread, and the throughput is the thread count). Perfect scaling halves it.
func Benchmark_alloc_threads(b *testing.B) {
	for _, threads := range threadCounts {
		b.Run("t"+strconv.Itoa(threads), func(b *testing.B) {
			for t := range threads {
				fillRing(&threadRings[t], 64)
			}
			runtime.GC()
			b.ResetTimer()
			var wg sync.WaitGroup
			wg.Add(threads)
			for t := range threads {
				go func() {
					defer wg.Done()
					runRing(&threadRings[t], 64, b.N)
				}()
			}
			wg.Wait()
			b.StopTimer()
			perOp(b, threads)
			threadRings = [4][window][]byte{}
		})
	}
}
