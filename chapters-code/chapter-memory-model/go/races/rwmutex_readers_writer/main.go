// Command rwmutex_readers_writer has two readers under RLock and a writer under Lock. Readers
// may overlap each other (they only read), but an Unlock is synchronized before every later
// RLock, and every RUnlock before the next Lock: the write is ordered with each read, whichever
// comes first, so there is no race.
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

func writer() {
	rw.Lock()
	x = 1 // @write
	rw.Unlock()
	wg.Done()
}

func main() {
	wg.Add(3)
	go reader()
	go writer()
	go reader()
	wg.Wait()
}
