// Command wg_go starts the workers with WaitGroup.Go (Go 1.25): it calls Add(1) before the go
// statement and Done after f returns (sync/waitgroup.go Go), so Wait orders both writes
// before the reads: no race.
package main

import (
	"fmt"
	"sync"
)

var (
	a, b int
	wg   sync.WaitGroup
)

func wa() {
	a = 1 // @A
}

func wb() {
	b = 2 // @B
}

func main() {
	wg.Go(wa)
	wg.Go(wb)
	wg.Wait()
	fmt.Println(a) // @readA
	fmt.Println(b) // @readB
}
