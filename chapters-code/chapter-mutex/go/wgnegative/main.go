// Command wgnegative calls Done on a sync.WaitGroup whose counter is already 0. Done is Add(-1);
// Add adds the delta to the counter in the high half of the state word, and a counter that
// goes below zero is an ordinary panic, not a fatal error: it unwinds, runs deferred calls and
// could be recovered. Nothing recovers it here, so the program prints "panic: ..." followed by
// the goroutine's traceback and exits with status 2. The golden file keeps the "panic:" line.
package main

import "sync"

func main() {
	var wg sync.WaitGroup
	wg.Add(1)
	wg.Done()
	wg.Done() // the counter would become -1
}
