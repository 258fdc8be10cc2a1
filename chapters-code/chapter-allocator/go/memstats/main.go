// Command memstats prints what runtime.MemStats says n allocations of one size cost: the
// deltas of Mallocs and HeapAlloc. The GC is off and ReadMemStats flushes every mcache first,
// so the deltas are exact: HeapAlloc grows by the object's size class (or, for a large object,
// by whole 8 KiB pages) per allocation, Mallocs by one. The last rows are pointer-free objects
// under 16 bytes: the tiny allocator packs them into shared 16-byte blocks, so HeapAlloc grows
// by 16 bytes per block, not per object.
package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

var sizes = []int{16, 17, 48, 100, 512, 1000, 1025, 4096, 10000, 32768, 32769, 100000}

func main() {
	runtime.GOMAXPROCS(1) // one P, one mcache
	debug.SetGCPercent(-1)
	fmt.Println("size,n,mallocs,heap_alloc")
	const n = 1000
	for _, size := range sizes {
		hold := make([][]byte, n)
		var a, b runtime.MemStats
		runtime.GC() // a fresh start: the mcache flushed, no tiny block
		runtime.ReadMemStats(&a)
		for i := range hold {
			hold[i] = make([]byte, size)
		}
		runtime.ReadMemStats(&b)
		runtime.KeepAlive(hold)
		fmt.Printf("%d,%d,%d,%d\n", size, n, b.Mallocs-a.Mallocs, b.HeapAlloc-a.HeapAlloc)
	}
	// Tiny objects: 8 bytes (two per block) and 5 bytes (three per block: 5+5+5 = 15).
	for _, size := range []int{8, 5} {
		hold := make([]*byte, n)
		var a, b runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&a)
		for i := range hold {
			hold[i] = &make([]byte, size)[0]
		}
		runtime.ReadMemStats(&b)
		runtime.KeepAlive(hold)
		fmt.Printf("%d,%d,%d,%d\n", size, n, b.Mallocs-a.Mallocs, b.HeapAlloc-a.HeapAlloc)
	}
}
