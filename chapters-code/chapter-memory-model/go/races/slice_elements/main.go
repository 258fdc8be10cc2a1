// Command slice_elements writes two different elements of one slice from two goroutines.
// A data race needs two accesses to the same memory location: s[0] and s[1] are different
// words, and both goroutines only read the slice header, so there is no race.
package main

import (
	"fmt"
	"sync"
)

var (
	s  = make([]int, 2)
	wg sync.WaitGroup
)

func w0() {
	s[0] = 1 // @s0
	wg.Done()
}

func w1() {
	s[1] = 2 // @s1
	wg.Done()
}

func main() {
	wg.Add(2)
	go w0()
	go w1()
	wg.Wait()
	fmt.Println(s)
}
