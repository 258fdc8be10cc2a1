// Command mp_buffered passes a message through a buffered channel. The send does not wait for
// the receive, but it still is synchronized before the receive that gets its value: the
// write before the send happens before the read after the receive, so there is no race.
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
	<-c
	fmt.Println(x) // @B
}
