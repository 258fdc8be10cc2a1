// Command sem_kth_recv uses a channel of capacity C = 2 as a counting semaphore: a send
// takes a slot, a receive frees one. main takes both slots, then g writes x and frees one;
// main's third send has to wait for that receive. The memory model's rule for buffered
// channels, "the kth receive is synchronized before the completion of the (k+C)th send",
// orders receive 1 before send 3, so the write happens before main's read: no race.
package main

import "fmt"

var (
	x   int
	sem = make(chan int, 2)
)

func g() {
	x = 1 // @A
	<-sem // receive 1
}

func main() {
	sem <- 0 // send 1
	sem <- 0 // send 2: the semaphore is full
	go g()
	sem <- 0       // send 3 = 1 + C: completes only after receive 1
	fmt.Println(x) // @B
}
