//go:build go1.21

// Command loopvar_go121 captures the loop variable in a closure with the semantics of Go
// 1.21: the build constraint go1.21 sets this file's language version, and before Go 1.22 a
// three-clause for loop has one i for all iterations. Each goroutine reads that i while main
// increments it for the next iteration: the i++ and the reads race.
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
