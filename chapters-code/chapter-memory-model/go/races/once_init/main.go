// Command once_init initializes with sync.Once. The single call of f returns before any Do
// returns (sync/once.go doSlow: the done flag is stored after f, under the Once's mutex, and
// the fast path loads it atomically), so the write in f happens before the read after Do in
// both goroutines: no race.
package main

import (
	"fmt"
	"sync"
)

var (
	cfg  int
	once sync.Once
	wg   sync.WaitGroup
)

func setup() {
	cfg = 42 // @init
}

func get() {
	once.Do(setup)
	fmt.Println(cfg) // @use
	wg.Done()
}

func main() {
	wg.Add(2)
	go get()
	go get()
	wg.Wait()
}
