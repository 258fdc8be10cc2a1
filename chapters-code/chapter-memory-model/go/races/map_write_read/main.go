// Command map_write_read writes a map in one goroutine and reads it in another. Map
// operations are not atomic: the race detector reports the pair at the map itself (the
// runtime's map access functions call racereadpc and racewritepc on the map). Without -race
// the runtime may instead throw "concurrent map read and map write", but only when the two
// accesses overlap in time; the sleep keeps them apart, so the verdict is the race report.
// (The comma-ok form calls the runtime's mapaccess2 directly; plain m[1] goes through
// mapaccess1, and the report's stack for it then ends inside the runtime, without main's line.)
package main

import (
	"fmt"
	"time"
)

var (
	m    = map[int]int{}
	done = make(chan int)
)

func g() {
	m[1] = 1 // @write
	done <- 0
}

func main() {
	go g()
	time.Sleep(time.Millisecond)
	v, ok := m[1] // @read
	fmt.Println(v, ok)
	<-done
}
