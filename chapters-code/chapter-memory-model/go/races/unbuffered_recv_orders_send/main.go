// Command unbuffered_recv_orders_send uses the other edge of an unbuffered channel: the
// receive is synchronized before the completion of the send. main writes x and then
// receives; g's send completes only after that receive, so the write happens before g's read
// and there is no race (the memory model's "receive before send completes" rule).
package main

import "fmt"

var (
	x    int
	c    = make(chan int)
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
