// Command unbuffered_handoffs hands two values over one unbuffered channel between four
// goroutines: sender to first, then main to second. The memory model orders the two sides of
// each handoff, nothing more; the handoffs follow each other in time (a Cond Signal, which is
// no synchronization, makes sure of that), but nothing orders sender's write before main's
// read: a race. Go's race detector syncs every handoff of an unbuffered channel on the same
// object, chanbuf(c, 0), yet it does not accumulate history there, unlike a chan struct{}'s
// buffer (sem_slots_struct): runtime/chan.go racesync begins with racerelease, TSan's
// ReleaseStore, which replaces the object's clock with the current goroutine's.
package main

import (
	"fmt"
	"sync"
)

var (
	x  int
	c  = make(chan int)
	mu sync.Mutex
	cv = sync.NewCond(&mu)
)

func sender() {
	x = 1  // @A
	c <- 0 // handoff 1
}

func first() {
	mu.Lock() // main is inside Wait, registered for a Signal
	mu.Unlock()
	<-c // handoff 1
	cv.Signal()
}

func second() { <-c } // handoff 2

func main() {
	go sender()
	mu.Lock()
	go first()
	cv.Wait() // returns after handoff 1
	mu.Unlock()
	go second()
	c <- 0         // handoff 2
	fmt.Println(x) // @B
}
