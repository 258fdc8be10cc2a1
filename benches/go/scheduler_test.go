package benches

import (
	"runtime"
	"sync"
	"testing"
)

// Go's own scheduler, against the Rust rows of ../benches/scheduler.rs (the chapter's runtime,
// tokio, rayon, std::thread). Every benchmark reports ns per operation as ns/op: per task, per
// yield, per round trip or per Gosched, as named below.

// SpawnN is the number of goroutines of one spawn_join phase (Rust: SPAWN_N in scheduler.rs).
const SpawnN = 100_000

// Benchmark_spawn_join: start SpawnN goroutines that do nothing but say they are done, and wait
// for all of them with a WaitGroup; ns per goroutine. GOMAXPROCS is the default (the number of
// CPUs), as for the Rust runtimes, which also get one worker per CPU. The closures of the
// previous phase are collected off the clock.
func Benchmark_spawn_join(b *testing.B) {
	for range b.N {
		offClock(b, func() {})
		var wg sync.WaitGroup
		wg.Add(SpawnN)
		for range SpawnN {
			go func() { wg.Done() }()
		}
		wg.Wait()
	}
	perOp(b, SpawnN)
}

// oneP runs the rest of a benchmark with GOMAXPROCS=1 and returns the function that restores
// the previous setting. Changing it stops the world, so the timer is reset afterwards.
func oneP(b *testing.B) (restore func()) {
	prev := runtime.GOMAXPROCS(1)
	b.ResetTimer()
	return func() { runtime.GOMAXPROCS(prev) }
}

// Benchmark_gosched_pingpong: with GOMAXPROCS=1, two goroutines call runtime.Gosched b.N times
// each, so that they take turns on the one P (Gosched puts the caller on the global run queue
// and the other one runs); ns per Gosched.
func Benchmark_gosched_pingpong(b *testing.B) {
	defer oneP(b)()
	var wg sync.WaitGroup
	wg.Add(2)
	for range 2 {
		go func() {
			defer wg.Done()
			for range b.N {
				runtime.Gosched()
			}
		}()
	}
	wg.Wait()
	perOp(b, 2)
}

// Benchmark_park_ready_pingpong: a token goes from the benchmark goroutine to a partner and
// back through two unbuffered channels; ns per round trip. Go does not export gopark/goready,
// and an unbuffered channel is the nearest thing: each side parks in a receive until the other
// side's send readies it (the Rust rows park and ready directly). Default GOMAXPROCS.
func Benchmark_park_ready_pingpong(b *testing.B) {
	ping, pong := make(chan struct{}), make(chan struct{})
	go func() {
		for range ping {
			pong <- struct{}{}
		}
	}()
	b.ResetTimer()
	for range b.N {
		ping <- struct{}{}
		<-pong
	}
	b.StopTimer()
	close(ping)
}

// Benchmark_switch: with GOMAXPROCS=1 and nothing else runnable, one goroutine calls
// runtime.Gosched in a loop; ns per Gosched. Go exports no bare context switch, so this is the
// smallest round trip through the scheduler: save the G's registers and switch to the g0 stack
// (mcall), put the G on the global run queue, schedule() takes it straight back, switch to it
// again (gogo). The Rust row `ours` is the same loop with the chapter's gosched; `ours-raw` is
// just the two switches, with no scheduler in between.
func Benchmark_switch(b *testing.B) {
	defer oneP(b)()
	for range b.N {
		runtime.Gosched()
	}
}
