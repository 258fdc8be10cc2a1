package benches

import (
	"runtime"
	"sync"
	"testing"
)

// Go's sync.Mutex and sync.RWMutex, against the Rust rows of ../benches/mutex.rs (the
// chapter's Mutex and RWMutex on its own goroutines, std's and parking_lot's locks on OS
// threads). Every benchmark reports ns per lock operation as ns/op.

// MutexProcs is the GOMAXPROCS of the contended benchmarks (Rust: PROCS in mutex.rs).
const MutexProcs = 2

// ManyWorkers is the number of goroutines of mutex_many (Rust: MANY in mutex.rs).
const ManyWorkers = 32

// WriteEvery: in rwmutex_read_mostly, one lock operation in this many is a write lock, the
// others read locks (Rust: WRITE_EVERY in mutex.rs).
const WriteEvery = 100

// A mutex and the counter it guards, side by side, as the Rust rows keep them.
type guardedInt struct {
	mu sync.Mutex
	n  int
}

type rwGuardedInt struct {
	mu sync.RWMutex
	n  int
}

var (
	uncontended guardedInt
	contended   guardedInt
	readMostly  rwGuardedInt
	readSink    [2]int
)

// procs runs the rest of a benchmark with GOMAXPROCS=n and returns the function that restores
// the previous setting. Changing it stops the world, so the timer is reset afterwards.
func procs(b *testing.B, n int) (restore func()) {
	prev := runtime.GOMAXPROCS(n)
	b.ResetTimer()
	return func() { runtime.GOMAXPROCS(prev) }
}

// Benchmark_mutex_uncontended: one goroutine, Lock and Unlock b.N times; ns per Lock+Unlock.
func Benchmark_mutex_uncontended(b *testing.B) {
	for range b.N {
		uncontended.mu.Lock()
		uncontended.mu.Unlock()
	}
}

// lockIncWorkers runs `workers` goroutines that each Lock, increment the shared counter and
// Unlock b.N times, and waits for them all; ns per Lock/increment/Unlock. The Rust rows of
// `ours` spawn and wait the same way, on the chapter's runtime with as many Ps.
func lockIncWorkers(b *testing.B, workers int) {
	var wg sync.WaitGroup
	wg.Add(workers)
	for range workers {
		go func() {
			defer wg.Done()
			for range b.N {
				contended.mu.Lock()
				contended.n++
				contended.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	perOp(b, workers)
	if contended.n != workers*b.N {
		b.Fatalf("counter %d, want %d", contended.n, workers*b.N)
	}
	contended.n = 0
}

// Benchmark_mutex_contended: at GOMAXPROCS=2, two goroutines each Lock, increment a shared
// counter and Unlock b.N times; ns per Lock/increment/Unlock.
func Benchmark_mutex_contended(b *testing.B) {
	defer procs(b, MutexProcs)()
	lockIncWorkers(b, 2)
}

// Benchmark_mutex_many: the same with ManyWorkers goroutines on GOMAXPROCS=2 Ps: goroutines
// that do not get the mutex park on its semaphore and leave their P to the others. The Rust
// thread rows run as many OS threads on the machine's cores.
func Benchmark_mutex_many(b *testing.B) {
	defer procs(b, MutexProcs)()
	lockIncWorkers(b, ManyWorkers)
}

// Benchmark_rwmutex_read_mostly: at GOMAXPROCS=2, two goroutines each do b.N operations on
// one RWMutex: every WriteEvery-th (the first included) a Lock, increment, Unlock, the others
// an RLock, read, RUnlock; ns per operation.
func Benchmark_rwmutex_read_mostly(b *testing.B) {
	defer procs(b, MutexProcs)()
	var wg sync.WaitGroup
	wg.Add(2)
	for w := range 2 {
		go func() {
			defer wg.Done()
			sum := 0
			for i := range b.N {
				if i%WriteEvery == 0 {
					readMostly.mu.Lock()
					readMostly.n++
					readMostly.mu.Unlock()
				} else {
					readMostly.mu.RLock()
					sum += readMostly.n
					readMostly.mu.RUnlock()
				}
			}
			readSink[w] = sum
		}()
	}
	wg.Wait()
	perOp(b, 2)
	readMostly.n = 0
}
