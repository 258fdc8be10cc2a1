// Command lockwait is the Go twin of the mutex chapter's wait_* examples
// (../../examples/wait_*.rs): the same lock-wait workload (benches::lock_wait_goroutines in
// ../../src/lib.rs) on sync.Mutex, its contenders goroutines at GOMAXPROCS 2. Each contender
// takes the mutex `locks` times and records how long each Lock call took, from just before
// the call to the first instruction inside the critical section, on the runtime's own
// monotonic clock (nanotime: one vDSO clock_gettime, as Rust's Instant::now). It prints the
// same JSON line as the Rust programs: the waits' p50, p99, p99.9 and maximum in ns, and the
// workload's lock count and final guarded state, which must equal theirs.
//
//	go run ./lockwait [small]
package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	_ "unsafe" // go:linkname
)

// The workload's size (Rust: WAIT_CONTENDERS, WAIT_PROCS, WAIT_LOCKS, WAIT_SMALL_LOCKS,
// WAIT_WORK, SEED).
const (
	contenders = 4
	procs      = 2
	locks      = 100_000
	smallLocks = 1_000
	work       = 50
	seed       = 42
)

//go:linkname nanotime runtime.nanotime
func nanotime() int64

// waitWork is the work in and after each critical section: `work` steps of Knuth's MMIX LCG
// (Rust: benches::wait_work).
func waitWork(x uint64) uint64 {
	for range work {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

// guarded is the mutex and the state it guards, side by side.
var guarded struct {
	mu    sync.Mutex
	state uint64
}

// sink keeps each contender's private work alive.
var sink [contenders]uint64

// contender waits at the start line until all have arrived, then does n rounds of Lock, the
// critical section, Unlock and the work outside, recording each Lock call's wait in waits.
func contender(id, n int, ready *atomic.Int64, waits []int64) {
	ready.Add(1)
	for ready.Load() < contenders {
		runtime.Gosched()
	}
	private := uint64(id)
	for i := range n {
		start := nanotime()
		guarded.mu.Lock()
		w := nanotime() - start
		guarded.state = waitWork(guarded.state)
		guarded.mu.Unlock()
		waits[i] = w
		private = waitWork(private)
	}
	sink[id] = private
}

// rank is the nearest-rank percentile of sorted v, in tenths of a percent (Rust: rank).
func rank(v []int64, permille int) int64 {
	return v[max((len(v)*permille+999)/1000, 1)-1]
}

func main() {
	n := locks
	for _, a := range os.Args[1:] {
		if a == "small" {
			n = smallLocks
		}
	}
	runtime.GOMAXPROCS(procs)
	guarded.state = seed
	waits := make([][]int64, contenders)
	for i := range waits {
		waits[i] = make([]int64, n)
	}
	var ready atomic.Int64
	var wg sync.WaitGroup
	for i := range contenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			contender(i, n, &ready, waits[i])
		}()
	}
	wg.Wait()
	all := slices.Concat(waits...)
	slices.Sort(all)
	fmt.Printf("{\"impl\":\"go\",\"p50_ns\":%d,\"p99_ns\":%d,\"p999_ns\":%d,\"max_ns\":%d,\"locks\":%d,\"state\":%d}\n",
		rank(all, 500), rank(all, 990), rank(all, 999), all[len(all)-1], len(all), guarded.state)
}
