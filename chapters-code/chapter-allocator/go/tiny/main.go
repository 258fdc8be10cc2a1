// Command tiny shows how go1.27.3's tiny allocator packs pointer-free objects smaller than 16
// bytes into shared 16-byte blocks. It first allocates 1-byte objects until one starts a fresh
// block (so the allocator's state is known: a new block with 1 byte used), then allocates a
// fixed sequence of sizes and prints, for each, the block it landed in (numbered in order of
// first use, the synchronizing block being 0) and its offset in the block.
package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"unsafe"
)

// The sequence: alignment to 2, 4 and 8; objects that do not fit; an object that leaves more
// room in a new block than the old block has left, and one that does not.
var sizes = []int{1, 2, 1, 4, 8, 3, 8, 8, 5, 12, 1, 15, 2, 7, 6, 1, 9, 4, 4, 4, 2, 13, 1, 1, 8, 8, 10, 3, 14, 1}

var sink []unsafe.Pointer

func alloc(n int) uintptr {
	p := unsafe.Pointer(&make([]byte, n)[0])
	sink = append(sink, p)
	return uintptr(p)
}

func main() {
	runtime.GOMAXPROCS(1) // one P, one mcache, one tiny block
	debug.SetGCPercent(-1)
	sink = make([]unsafe.Pointer, 0, 1024) // no allocation between the ones we watch
	addrs := make([]uintptr, len(sizes))
	start := alloc(1)
	for start%16 != 0 {
		start = alloc(1)
	}
	for i, n := range sizes {
		addrs[i] = alloc(n)
	}
	blocks := map[uintptr]int{start / 16: 0}
	fmt.Println("size,block,offset")
	for i, a := range addrs {
		b, ok := blocks[a/16]
		if !ok {
			b = len(blocks)
			blocks[a/16] = b
		}
		fmt.Printf("%d,%d,%d\n", sizes[i], b, a%16)
	}
}
