// Command benign_race has two goroutines set the same flag to the same value. "Both store
// true, so it cannot matter" is the classic benign race; in Go it is still a data race, the
// compiler may assume it does not happen, and the race detector reports it.
package main

import (
	"fmt"
	"sync"
)

var (
	seen bool
	wg   sync.WaitGroup
)

func one() {
	seen = true // @one
	wg.Done()
}

func two() {
	seen = true // @two
	wg.Done()
}

func main() {
	wg.Add(2)
	go one()
	go two()
	wg.Wait()
	fmt.Println(seen)
}
