// Command cond_signal_not_sync shows that Cond.Signal is no synchronization: only the Cond's
// mutex is. g makes sure main is waiting (its Lock succeeds only once Wait has released the
// mutex), unlocks, writes x and signals. main's Wait returns after the Signal, every run,
// but the relock acquires only g's Unlock, which came before the write: a race. (sync/cond.go
// has no race annotations; runtime/sema.go notifyList wakes the waiter without any.)
package main

import (
	"fmt"
	"sync"
)

var (
	x  int
	mu sync.Mutex
	cv = sync.NewCond(&mu)
)

func g() {
	mu.Lock() // main is inside Wait, registered for a Signal
	mu.Unlock()
	x = 1 // @A
	cv.Signal()
}

func main() {
	mu.Lock()
	go g()
	cv.Wait() // returns after the Signal, so after the write
	mu.Unlock()
	fmt.Println(x) // @B
}
