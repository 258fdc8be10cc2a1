// Command dcl_plain is double-checked locking without atomics. The first check reads cfg
// without the lock; the goroutine that initializes writes it under the lock. The other
// goroutine's unlocked check is unordered with that write in every schedule (even when it
// then takes the lock and finds cfg set), so they race. The value is its own flag here, so
// that the flag is the only racing variable.
package main

import (
	"fmt"
	"sync"
)

var (
	cfg int // 0 until initialized
	mu  sync.Mutex
	wg  sync.WaitGroup
)

func get() {
	if cfg == 0 { // @check
		mu.Lock()
		if cfg == 0 {
			cfg = 42 // @init
		}
		mu.Unlock()
	}
	wg.Done()
}

func main() {
	wg.Add(2)
	go get()
	go get()
	wg.Wait()
	fmt.Println(cfg)
}
