// Command slice_header_append appends to a slice in one goroutine while another indexes it.
// The elements do not conflict (append writes s[1], in the spare capacity; the reader reads
// s[0]), but append stores the slice header (its length) that the index expression reads:
// the header races.
package main

import (
	"fmt"
	"sync"
)

var (
	s  = make([]int, 1, 4)
	wg sync.WaitGroup
)

func appender() {
	s = append(s, 2) // @append
	wg.Done()
}

func reader() {
	fmt.Println(s[0]) // @index
	wg.Done()
}

func main() {
	wg.Add(2)
	go appender()
	go reader()
	wg.Wait()
}
