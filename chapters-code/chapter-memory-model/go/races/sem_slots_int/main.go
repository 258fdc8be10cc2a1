// Command sem_slots_int shows what the buffered-channel rule does not promise. With capacity
// C = 2, receive 1 is synchronized before send 3, not before send 2: send 2 uses the other
// buffer slot. Here send 2 comes after receive 1 in time, every run, yet nothing orders them.
//
// The order comes from a sync.Cond: Signal is no synchronization, only the Cond's mutex is,
// and signaler took and released that mutex before writing x. main's send 1 fills slot 0;
// signaler writes x and receives it (receive 1, slot 0), then signals; main wakes, sends
// (send 2, slot 1) and reads x. The race detector keeps one sync object per buffer slot of a
// chan int (runtime/chan.go racenotify), so send 2 learns nothing from receive 1: a race.
// sem_slots_struct is the same program with a chan struct{}.
package main

import (
	"fmt"
	"sync"
)

var (
	x  int
	c  = make(chan int, 2)
	mu sync.Mutex
	cv = sync.NewCond(&mu)
)

func signaler() {
	mu.Lock() // main is inside Wait, registered for a Signal
	mu.Unlock()
	x = 1 // @A
	<-c   // receive 1, slot 0
	cv.Signal()
}

func main() {
	c <- 0 // send 1, slot 0
	mu.Lock()
	go signaler()
	cv.Wait() // returns after signaler's Signal, which is after receive 1
	mu.Unlock()
	c <- 0         // send 2, slot 1
	fmt.Println(x) // @B
}
