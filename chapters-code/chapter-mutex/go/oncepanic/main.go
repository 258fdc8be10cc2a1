// Command oncepanic shows that a sync.Once counts a call whose function panicked as done. Do
// marks the Once done with a deferred store, which runs while the panic unwinds through Do,
// and releases the Once's mutex the same way; the panic then carries on to the caller, which
// recovers it here. A later Do, with the same function or another one, returns at once
// without calling anything: f never gets a second chance, so code that needs the value f was
// meant to produce has to cope with its absence (OnceFunc and OnceValue, by contrast, re-panic
// with the same value on every call).
package main

import (
	"fmt"
	"sync"
)

// try runs once.Do(f) and returns what it recovered, or nil.
func try(once *sync.Once, f func()) (recovered any) {
	defer func() { recovered = recover() }()
	once.Do(f)
	return nil
}

func main() {
	var once sync.Once
	calls := 0

	r := try(&once, func() {
		calls++
		panic("boom")
	})
	fmt.Printf("first Do: f called %d time(s), the caller recovered %q\n", calls, r)

	r = try(&once, func() { calls++ })
	fmt.Printf("second Do: f called %d time(s) in all, panicked: %t\n", calls, r != nil)

	done := make(chan int)
	go func() {
		once.Do(func() { calls++ })
		done <- calls
	}()
	fmt.Printf("Do on another goroutine: f called %d time(s) in all\n", <-done)
}
