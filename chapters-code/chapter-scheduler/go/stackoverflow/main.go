// Command stackoverflow recurses forever. A goroutine's stack starts small and is copied to a
// twice-as-large one whenever a function's prologue finds it too short (runtime.morestack →
// newstack); once the doubled size would pass the limit, newstack prints the limit and dies
// with "fatal error: stack overflow". That is a fatal error, not a panic: recover cannot stop
// it, and the process exits with status 2.
//
// The default limit is 1 GB on 64-bit systems (debug.SetMaxStack returns it: 1000000000);
// reaching it takes a 512 MiB stack, a second or two and a gigabyte of memory, so this program
// lowers the limit to 1 MiB first. The golden file keeps the "runtime: goroutine stack exceeds"
// line and the fatal error (the addresses and the traceback that follow vary run to run).
package main

import "runtime/debug"

// down has a frame of a few dozen bytes, so each level uses a little stack; it is recursive
// (never inlined) and uses the result of the call (no tail call to turn into a loop).
func down(depth int) int {
	var pad [4]int
	pad[depth%4] = depth
	return down(depth+1) + pad[0]
}

func main() {
	defer func() { recover() }() // useless on purpose: a fatal error is not a panic
	debug.SetMaxStack(1 << 20)
	down(0)
}
