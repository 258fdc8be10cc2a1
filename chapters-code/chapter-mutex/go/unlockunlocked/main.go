// Command unlockunlocked unlocks a sync.Mutex that nobody locked. Unlock subtracts the locked
// bit from the state word; when the result shows that the bit was not set, unlockSlow calls the
// runtime's fatal, not panic: the message goes to stderr, deferred calls do not run, recover
// cannot stop it, and the process exits with status 2. The deferred recover below is there to
// show exactly that. The golden file keeps the "fatal error:" line (the goroutine traceback that
// follows has addresses that change from run to run).
package main

import "sync"

func main() {
	defer func() { recover() }() // never runs: a fatal error is not a panic
	var m sync.Mutex
	m.Unlock()
}
