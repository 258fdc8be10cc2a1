// Command mapmem prints the live heap bytes of a map[uint64]uint64 with n entries, built by n
// inserts into make(map[uint64]uint64) with no hint: runtime.MemStats.HeapAlloc after a GC, with
// the map alive, minus the same without it, the smallest of five builds, per entry and rounded to a byte. Which tables split depends on the per-map random
// seed, so large maps vary a little from run to run; the golden test compares with a tolerance.
package main

import (
	"fmt"
	"runtime"
)

var sink map[uint64]uint64

func live() uint64 {
	var s runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&s)
	return s.HeapAlloc
}

func main() {
	fmt.Println("entries,bytes_per_entry")
	for _, n := range []int{8, 9, 14, 15, 100, 1000, 10000, 100000, 1000000} {
		// The smallest of five builds: other runtime allocations only ever add noise.
		best := ^uint64(0)
		for try := 0; try < 5; try++ {
			base := live()
			m := make(map[uint64]uint64)
			for i := 0; i < n; i++ {
				m[uint64(i)*0x9E3779B97F4A7C15] = uint64(i)
			}
			sink = m
			best = min(best, live()-base)
			sink = nil
		}
		fmt.Printf("%d,%.0f\n", n, float64(best)/float64(n))
	}
}
