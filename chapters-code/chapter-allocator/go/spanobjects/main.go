// Command spanobjects measures how many objects go1.27.3 puts in a one-page span of each size
// class, for objects without pointers (noscan) and with them (scan). The size-class table
// counts whole spans; since Green Tea (the default GC in 1.26+), a span of small objects also
// gives its last 128 bytes to inline mark bits, and a scan span gives more to its pointer
// bitmap, so real spans hold fewer objects than the table says.
//
// How: with the GC off and one P (so one mcache), allocate objects of exactly one class until
// one lands at an 8 KiB boundary — object 0 of a fresh one-page span — then count how many of
// the next allocations stay on that page. Anything else that allocates from the same span in
// between can only make a count smaller, so each size is measured five times and the largest
// count wins. Output: size,noscan_objects,scan_objects (0 where Go makes no such span:
// 8-byte pointer-free objects go to the tiny allocator instead).
package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"unsafe"
)

const page = 8192

var sink []unsafe.Pointer

// perSpan allocates with alloc and returns the number of objects one fresh span holds. The
// pointer alloc returns is header bytes past the start of the object.
func perSpan(header uintptr, alloc func() unsafe.Pointer) int {
	for range 4 * page {
		p := alloc()
		sink = append(sink, p)
		if (uintptr(p)-header)%page != 0 {
			continue
		}
		n := 1
		for {
			q := alloc()
			sink = append(sink, q)
			if (uintptr(q)-header)/page != (uintptr(p)-header)/page {
				return n
			}
			n++
		}
	}
	panic("no span start found")
}

// most returns the largest of five measurements of perSpan.
func most(header uintptr, alloc func() unsafe.Pointer) int {
	best := 0
	for range 5 {
		best = max(best, perSpan(header, alloc))
		sink = sink[:0]
	}
	return best
}

func main() {
	runtime.GOMAXPROCS(1)
	debug.SetGCPercent(-1)
	sink = make([]unsafe.Pointer, 0, 1<<16) // appends do not allocate while we count
	// Every size class of go1.27.3 whose span is one page.
	sizes := []int{8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
		288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280,
		1536, 2048, 2688, 4096, 8192}
	fmt.Println("size,noscan_objects,scan_objects")
	for _, size := range sizes {
		noscan := 0
		if size >= 16 {
			noscan = most(0, func() unsafe.Pointer { return unsafe.Pointer(&make([]byte, size)[0]) })
		}
		// Above 512 bytes an object with pointers starts with an 8-byte malloc header, and
		// the pointer the program gets is just past it.
		words, header := size/8, uintptr(0)
		if size > 512 {
			words, header = (size-8)/8, 8
		}
		scan := most(header, func() unsafe.Pointer { return unsafe.Pointer(&make([]*byte, words)[0]) })
		fmt.Printf("%d,%d,%d\n", size, noscan, scan)
		sink = sink[:0]
	}
}
