// Command torn_interface stores into one interface variable from two goroutines. An
// interface value is two words (type and data), written one after the other: a racing reader
// could see the type of one store and the data of the other. The two stores race; the race
// detector reports them as one conflicting pair, whichever goes first.
package main

import (
	"fmt"
	"sync"
)

var (
	v  any
	wg sync.WaitGroup
)

func ws() {
	v = "a string" // @str
	wg.Done()
}

func wi() {
	v = 42 // @int
	wg.Done()
}

func main() {
	wg.Add(2)
	go ws()
	go wi()
	wg.Wait()
	fmt.Println(v)
}
