// Command close_signal signals with close: closing a channel is synchronized before a
// receive that returns because the channel is closed. The write before the close happens
// before the read after the receive: no race.
package main

import "fmt"

var (
	x    int
	done = make(chan struct{})
)

func g() {
	x = 1 // @A
	close(done)
}

func main() {
	go g()
	<-done
	fmt.Println(x) // @B
}
