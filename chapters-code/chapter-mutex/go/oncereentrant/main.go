// Command oncereentrant calls Do on a sync.Once from inside the function that the same Once is
// running. The outer Do has not marked the Once done yet (that happens when f returns) and
// still holds the Once's mutex, so the inner Do finds done unset and blocks on the mutex that
// its own goroutine holds. sync.Mutex is not re-entrant, and no other goroutine exists that
// could ever unlock it: the scheduler finds no goroutine that can run and no timer or network
// wait that could wake one, and checkdead reports the deadlock as a fatal error.
package main

import (
	"fmt"
	"sync"
)

func main() {
	var once sync.Once
	once.Do(func() {
		once.Do(func() { fmt.Println("inner f ran") }) // blocks forever
	})
	fmt.Println("unreachable")
}
