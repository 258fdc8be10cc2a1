// Command loopvar_go122 is loopvar_go121 with the module's Go version (1.27): since Go 1.22
// each iteration of a three-clause for loop has its own i, initialized from the previous
// iteration's i before the increment. Each goroutine reads its own i, which nobody writes
// after the go statement: no race.
package main

import (
	"fmt"
	"sync"
)

func main() {
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ { // @inc
		wg.Add(1)
		go func() {
			fmt.Println(i) // @read
			wg.Done()
		}()
	}
	wg.Wait()
}
