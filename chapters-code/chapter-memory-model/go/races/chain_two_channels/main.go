// Command chain_two_channels passes happens-before along a chain: first writes x and sends on
// c1; second receives from c1 and sends on c2; main receives from c2 and reads x. Each edge
// is a send before its receive; happens-before is transitive: no race, although first and
// main never communicate directly.
package main

import "fmt"

var (
	x  int
	c1 = make(chan int, 1)
	c2 = make(chan int, 1)
)

func first() {
	x = 1 // @A
	c1 <- 0
}

func second() {
	<-c1
	c2 <- 0
}

func main() {
	go first()
	go second()
	<-c2
	fmt.Println(x) // @B
}
