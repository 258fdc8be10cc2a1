// Command atomic_mixed updates one word atomically in one goroutine and with a plain store in
// another. Atomicity protects only accesses that are all atomic: the plain store races with
// the atomic add (the race detector counts the add as a write), whichever goes first.
//
// add is kept out of line: the race detector's stack for an atomic operation stops at the
// ABI wrapper of sync/atomic.AddInt64, so the report's first main.go line is the call of add.
package main

import (
	"fmt"
	"sync"
	"sync/atomic"
)

var (
	n  int64
	wg sync.WaitGroup
)

//go:noinline
func add() { atomic.AddInt64(&n, 1) }

func adder() {
	add() // @atomic
	wg.Done()
}

func setter() {
	n = 5 // @plain
	wg.Done()
}

func main() {
	wg.Add(2)
	go adder()
	go setter()
	wg.Wait()
	fmt.Println(n)
}
