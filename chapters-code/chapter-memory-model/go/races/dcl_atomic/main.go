// Command dcl_atomic is double-checked locking done right: the flag is atomic. A Load that
// observes the Store is synchronized after it, so the fast path that sees ready == 1 also sees
// cfg; the slow path is ordered by the mutex. No race in any schedule.
package main

import (
	"fmt"
	"sync"
	"sync/atomic"
)

var (
	cfg   int
	ready atomic.Int64
	mu    sync.Mutex
	wg    sync.WaitGroup
)

func get() {
	if ready.Load() == 0 {
		mu.Lock()
		if ready.Load() == 0 {
			cfg = 42 // @init
			ready.Store(1)
		}
		mu.Unlock()
	}
	fmt.Println(cfg) // @use
	wg.Done()
}

func main() {
	wg.Add(2)
	go get()
	go get()
	wg.Wait()
}
