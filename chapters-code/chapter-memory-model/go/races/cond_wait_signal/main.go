// Command cond_wait_signal waits for a condition with sync.Cond, the way it is meant to be
// used: the condition is written and read with the mutex held. Whether main waits or finds
// ready already set, its critical section follows g's: the Unlock that ends g's is
// synchronized before main's Lock, or before the relock inside Wait. No race.
package main

import (
	"fmt"
	"sync"
)

var (
	ready int
	mu    sync.Mutex
	cv    = sync.NewCond(&mu)
)

func g() {
	mu.Lock()
	ready = 1 // @set
	cv.Signal()
	mu.Unlock()
}

func main() {
	go g()
	mu.Lock()
	for ready == 0 { // @check
		cv.Wait()
	}
	mu.Unlock()
	fmt.Println(ready) // @use
}
