// Command runlockunlocked read-unlocks a sync.RWMutex that holds no readers. RUnlock decrements
// the reader count; a negative result normally means a writer is waiting, but when the count
// was 0 (or already at the writer's mark) there was no read lock to give back, and rUnlockSlow
// dies with a fatal error, which recover cannot catch. Only the "fatal error:" line is golden.
package main

import "sync"

func main() {
	defer func() { recover() }() // never runs: a fatal error is not a panic
	var rw sync.RWMutex
	rw.RUnlock()
}
