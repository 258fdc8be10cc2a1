// Command mp_unbuffered passes a message through an unbuffered channel. The write to x comes
// before the send in g's program order, the send is synchronized before the receive
// completes, and the read comes after the receive: happens-before orders the write before the
// read, so there is no race.
package main

import "fmt"

var (
	x int
	c = make(chan int)
)

func g() {
	x = 1 // @A
	c <- 0
}

func main() {
	go g()
	<-c
	fmt.Println(x) // @B
}
