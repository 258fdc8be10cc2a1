// Command wg_read_before_wait reads the worker's result before Wait. Wait orders only what
// comes after it: the read and the write race, whichever comes first.
package main

import (
	"fmt"
	"sync"
)

var (
	x  int
	wg sync.WaitGroup
)

func worker() {
	x = 1 // @A
	wg.Done()
}

func main() {
	wg.Add(1)
	go worker()
	fmt.Println(x) // @B
	wg.Wait()
}
