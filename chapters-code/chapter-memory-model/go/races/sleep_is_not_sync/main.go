// Command sleep_is_not_sync waits for g with time.Sleep. In practice g has written x long
// before main reads it, but a sleep creates no happens-before edge: the race detector reports
// the race in every run, whichever access comes first. The join after the read only keeps g
// alive until it has written; it orders nothing the read did.
package main

import (
	"fmt"
	"time"
)

var (
	x    int
	done = make(chan int)
)

func g() {
	x = 1 // @A
	done <- 0
}

func main() {
	go g()
	time.Sleep(2 * time.Millisecond)
	fmt.Println(x) // @B
	<-done
}
