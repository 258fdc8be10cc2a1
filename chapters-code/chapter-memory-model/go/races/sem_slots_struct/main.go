// Command sem_slots_struct is sem_slots_int with a chan struct{}, and Go's race detector
// reports no race, although the memory model orders the write before the read no better than
// there: receive 1 is synchronized before send 3, not send 2.
//
// A zero-size element has no buffer to point into, so the race detector uses one sync object
// for all the slots of the channel (runtime/chan.go racenotify, the c.elemsize == 0 case:
// raceacquire then racerelease on c.buf, which accumulates). Every send and receive then
// acquires the history of all earlier ones: send 2 learns what receive 1 knew, including the
// write to x. The detector sees more happens-before than the memory model promises; a chan
// struct{} semaphore can hide races that the same code with a chan int shows.
package main

import (
	"fmt"
	"sync"
)

var (
	x  int
	c  = make(chan struct{}, 2)
	mu sync.Mutex
	cv = sync.NewCond(&mu)
)

func signaler() {
	mu.Lock() // main is inside Wait, registered for a Signal
	mu.Unlock()
	x = 1 // @A
	<-c   // receive 1, "slot 0"
	cv.Signal()
}

func main() {
	c <- struct{}{} // send 1, "slot 0"
	mu.Lock()
	go signaler()
	cv.Wait() // returns after signaler's Signal, which is after receive 1
	mu.Unlock()
	c <- struct{}{} // send 2, "slot 1"
	fmt.Println(x)  // @B
}
