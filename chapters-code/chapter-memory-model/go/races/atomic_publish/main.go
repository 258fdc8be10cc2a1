// Command atomic_publish publishes a plain write with an atomic flag. In Go's memory model
// atomic operations are sequentially consistent, and a Load that observes a Store is
// synchronized after it: once main's loop sees ready == 1, g's write to data happens before
// main's read. No race.
package main

import (
	"fmt"
	"runtime"
	"sync/atomic"
)

var (
	data  int
	ready atomic.Int64
)

func g() {
	data = 42 // @write
	ready.Store(1)
}

func main() {
	go g()
	for ready.Load() != 1 {
		runtime.Gosched()
	}
	fmt.Println(data) // @read
}
