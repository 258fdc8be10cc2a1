// Command goroutine_exit waits until g has exited, watching runtime.NumGoroutine, and then
// reads what g wrote. The exit of a goroutine is not synchronized before any event in the
// program: knowing that g is gone orders nothing, and the write and the read race.
package main

import (
	"fmt"
	"runtime"
)

var x int

func g() {
	x = 1 // @A
}

func main() {
	go g()
	for runtime.NumGoroutine() > 1 { // g has not exited yet
		runtime.Gosched()
	}
	fmt.Println(x) // @B
}
