// Command mutex_counter increments a counter from two goroutines, each under the mutex. An
// Unlock is synchronized before the next Lock, so the critical sections are ordered one after
// the other, whichever goes first, and WaitGroup.Wait orders both before main's read: no race.
package main

import (
	"fmt"
	"sync"
)

var (
	n  int
	mu sync.Mutex
	wg sync.WaitGroup
)

func inc() {
	mu.Lock()
	n++ // @inc
	mu.Unlock()
	wg.Done()
}

func main() {
	wg.Add(2)
	go inc()
	go inc()
	wg.Wait()
	fmt.Println(n) // @read
}
