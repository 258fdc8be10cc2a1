// Command atomic_counter counts with atomic.Int64.Add from three goroutines: atomic
// operations never race with each other. No race.
package main

import (
	"fmt"
	"sync"
	"sync/atomic"
)

var (
	n  atomic.Int64
	wg sync.WaitGroup
)

func inc() {
	n.Add(1) // @add
}

func main() {
	wg.Go(inc)
	wg.Go(inc)
	wg.Go(inc)
	wg.Wait()
	fmt.Println(n.Load()) // @load
}
