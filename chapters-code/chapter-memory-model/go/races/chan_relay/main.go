// Command chan_relay tries to relay happens-before through one buffer slot: on a channel of
// capacity 1, sender's send 1 is synchronized before the completion of receive 1, and receive
// 1 before the completion of send 2 (k = 1, C = 1). But each rule ends at a completion and
// starts at an operation: receive 1 passes on to send 2 what the receiver knew when it began
// receiving, not what it learnt from send 1, so sender's write is not ordered before main's
// read: a race. Go's race detector implements exactly this: a send or receive on a buffered
// chan int swaps clocks with its slot (runtime/chan.go racenotify -> racereleaseacquire, TSan's
// ReleaseStoreAcquire: the slot keeps the clock from before the acquire).
//
// A Cond orders send 1 before send 2 in time (Signal is no synchronization; the Cond's mutex
// was released before the write), and receive 1 always takes send 1's value.
package main

import (
	"fmt"
	"sync"
)

var (
	x  int
	c  = make(chan int, 1)
	mu sync.Mutex
	cv = sync.NewCond(&mu)
)

func sender() {
	mu.Lock() // main is inside Wait, registered for a Signal
	mu.Unlock()
	x = 1  // @A
	c <- 0 // send 1
	cv.Signal()
}

func receiver() { <-c } // receive 1

func main() {
	go receiver()
	mu.Lock()
	go sender()
	cv.Wait() // returns after send 1
	mu.Unlock()
	c <- 0         // send 2: completes after receive 1
	fmt.Println(x) // @B
}
