// Command buffered_recv_orders_nothing is unbuffered_recv_orders_send with a buffer of one:
// the send completes at once, without waiting for the receive, so main's receive is no
// longer synchronized before anything g does next. The write and the read race.
package main

import "fmt"

var (
	x    int
	c    = make(chan int, 1)
	done = make(chan int)
)

func g() {
	c <- 0
	fmt.Println(x) // @B
	done <- 0
}

func main() {
	go g()
	x = 1 // @A
	<-c
	<-done
}
