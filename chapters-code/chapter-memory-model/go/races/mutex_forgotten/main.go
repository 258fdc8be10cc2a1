// Command mutex_forgotten has one goroutine that forgets the lock. A mutex orders only the
// critical sections of those that take it: careless's write is unordered with careful's, so
// they race whichever runs first. (Both store, rather than increment, so that the report
// names the same two accesses in every schedule.)
package main

import "sync"

var (
	x  int
	mu sync.Mutex
	wg sync.WaitGroup
)

func careful() {
	mu.Lock()
	x = 1 // @locked
	mu.Unlock()
	wg.Done()
}

func careless() {
	x = 2 // @unlocked
	wg.Done()
}

func main() {
	wg.Add(2)
	go careful()
	go careless()
	wg.Wait()
}
