// Command wg_join joins two workers with a WaitGroup. Each Done is synchronized before the
// Wait that it unblocks (sync/waitgroup.go: Done releases to the WaitGroup, Wait acquires),
// so both writes happen before the reads: no race.
package main

import (
	"fmt"
	"sync"
)

var (
	a, b int
	wg   sync.WaitGroup
)

func wa() {
	a = 1 // @A
	wg.Done()
}

func wb() {
	b = 2 // @B
	wg.Done()
}

func main() {
	wg.Add(2)
	go wa()
	go wb()
	wg.Wait()
	fmt.Println(a) // @readA
	fmt.Println(b) // @readB
}
