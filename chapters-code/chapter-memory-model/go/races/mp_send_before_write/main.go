// Command mp_send_before_write sends the message too early: g sends, then writes x. The send
// is synchronized before main's receive, but the write comes after the send, so nothing
// orders it with main's read: a race. The second message only keeps the program alive until
// g has written; main receives it after its read, where it orders nothing.
package main

import "fmt"

var (
	x int
	c = make(chan int, 1)
)

func g() {
	c <- 0 // "ready" (too early)
	x = 1  // @A
	c <- 0 // finished
}

func main() {
	go g()
	<-c
	fmt.Println(x) // @B
	<-c
}
