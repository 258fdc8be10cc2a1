// Command sbatomic runs the store-buffering litmus test with sync/atomic on two goroutines
// that really run at once (GOMAXPROCS is set to 2 here, whatever the machine):
//
//	goroutine 0: x.Store(1); r0 = y.Load()
//	goroutine 1: y.Store(1); r1 = x.Load()
//
// Without a single order over all four accesses, both loads could return 0: each store may
// still sit in its core's store buffer when the other core loads, which amd64 does all the
// time with plain MOVs. The Go memory model says that sync/atomic's operations behave as if
// executed in one sequentially consistent order, so 0/0 must never happen; on amd64 Store is
// an XCHG, which drains the store buffer first.
//
// Every round uses fresh, zeroed variables, and the two goroutines meet at a spinning barrier
// before each round so that their accesses overlap. The output is a property of the counts,
// not the counts: the same line as the Rust oracle's (the crate's litmus::oracle, with
// SeqCst atomics on two threads). Run it with the argument "numbers" to see the counts of
// the four outcomes: 1/1, where each load saw the other goroutine's store, shows that the
// rounds did overlap.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

// rounds is litmus::SB_ROUNDS in the Rust crate.
const rounds = 200000

// barrier starts round i once both goroutines have arrived i+1 times.
type barrier struct{ arrived atomic.Int64 }

func (b *barrier) wait(round int) {
	b.arrived.Add(1)
	target := int64(2 * (round + 1))
	for spins := 0; b.arrived.Load() < target; spins++ {
		if spins > 10000 {
			runtime.Gosched() // the other goroutine is not running: let it
		}
	}
}

func main() {
	runtime.GOMAXPROCS(2)
	x := make([]atomic.Int32, rounds)
	y := make([]atomic.Int32, rounds)
	r0 := make([]int32, rounds)
	r1 := make([]int32, rounds)
	var b barrier
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range rounds {
			b.wait(i)
			y[i].Store(1)
			r1[i] = x[i].Load()
		}
	}()
	for i := range rounds {
		b.wait(i)
		x[i].Store(1)
		r0[i] = y[i].Load()
	}
	wg.Wait()
	var counts [2][2]int
	for i := range rounds {
		counts[r0[i]][r1[i]]++
	}
	if len(os.Args) > 1 && os.Args[1] == "numbers" {
		for a := range 2 {
			for b := range 2 {
				fmt.Printf("r0=%d r1=%d: %d\n", a, b, counts[a][b])
			}
		}
		return
	}
	if bothZero := counts[0][0]; bothZero == 0 {
		fmt.Printf("store buffering, %d rounds on 2 threads: 0/0 never seen\n", rounds)
	} else {
		fmt.Printf("store buffering, %d rounds on 2 threads: 0/0 seen %d times\n", rounds, bothZero)
	}
}
