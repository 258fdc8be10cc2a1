// Command rwunlockunlocked write-unlocks a sync.RWMutex that is not write-locked. Unlock first
// adds rwmutexMaxReaders back to the reader count (undoing what Lock subtracted); a result at
// or above that bound means no writer held the lock, and Unlock dies with a fatal error before
// it touches the inner Mutex. As with the other misuses, recover cannot catch it; only the
// "fatal error:" line is golden.
package main

import "sync"

func main() {
	defer func() { recover() }() // never runs: a fatal error is not a panic
	var rw sync.RWMutex
	rw.Unlock()
}
