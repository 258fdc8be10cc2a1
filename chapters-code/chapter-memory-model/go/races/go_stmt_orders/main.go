// Command go_stmt_orders writes x and then starts g, which reads it. The go statement that
// starts a goroutine is synchronized before the start of the goroutine's execution: no race.
package main

import "fmt"

var (
	x    int
	done = make(chan int)
)

func g() {
	fmt.Println(x) // @B
	done <- 0
}

func main() {
	x = 1 // @A
	go g()
	<-done
}
