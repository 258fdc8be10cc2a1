// Command select_default_poll polls a channel with a select that has a default case. A
// select that takes the default case has not communicated and orders nothing; the one that
// finally receives (because g closed the channel) is an ordinary receive of a closed
// channel, synchronized after the close: the write happens before the read, no race.
package main

import (
	"fmt"
	"runtime"
)

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
	for {
		select {
		case <-done:
			fmt.Println(x) // @B
			return
		default:
			runtime.Gosched()
		}
	}
}
