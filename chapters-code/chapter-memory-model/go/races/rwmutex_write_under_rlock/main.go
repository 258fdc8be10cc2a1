// Command rwmutex_write_under_rlock writes under a read lock. Read locks do not exclude each
// other, and the race detector gives RLock no edge from another reader's RUnlock (sync/rwmutex.go:
// RUnlock releases to writerSem, which only Lock acquires): the write and the other reader's
// read race, whichever goes first.
package main

import (
	"fmt"
	"sync"
)

var (
	x  int
	rw sync.RWMutex
	wg sync.WaitGroup
)

func reader() {
	rw.RLock()
	fmt.Println(x) // @read
	rw.RUnlock()
	wg.Done()
}

func sneaky() {
	rw.RLock()
	x = 1 // @write
	rw.RUnlock()
	wg.Done()
}

func main() {
	wg.Add(2)
	go reader()
	go sneaky()
	wg.Wait()
}
