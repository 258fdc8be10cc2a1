// Command mp_read_before_recv is mp_buffered with main's read moved above the receive. The
// message still arrives, but the receive now orders only what comes after it: nothing orders
// the write and the read, which is a race whichever runs first. The receive is kept, after
// the read, only so that g's write always happens before the program ends.
package main

import "fmt"

var (
	x int
	c = make(chan int, 1)
)

func g() {
	x = 1 // @A
	c <- 0
}

func main() {
	go g()
	fmt.Println(x) // @B
	<-c
}
