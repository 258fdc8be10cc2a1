// Command growslice prints golden/growslice.csv: the capacity Go 1.27.3 picks at every append
// that changes cap(), for several element sizes and for the ways the compiler can back a slice.
//
// Regenerate with `cargo xtask golden --bless` (never edit the CSV by hand).
package main

import (
	"fmt"
	"runtime"
)

const maxLen = 5000

// Each element type has a fixed size; the *P types hold a pointer, so the allocator gives their
// arrays a malloc header once they pass 512 bytes.
type (
	B1    [1]byte
	B2    [2]byte
	B4    [4]byte
	B5    [5]byte
	B8    [8]byte
	B16   [16]byte
	B24   [24]byte
	B32   [32]byte
	B48   [48]byte
	B64   [64]byte
	B96   [96]byte
	B128  [128]byte
	B256  [256]byte
	B4096 [4096]byte
	P8    struct{ p *byte }
	P16   struct {
		p   *byte
		pad [8]byte
	}
	P24 struct {
		p   *byte
		pad [16]byte
	}
	P32 struct {
		p   *byte
		pad [24]byte
	}
	P48 struct {
		p   *byte
		pad [40]byte
	}
	P64 struct {
		p   *byte
		pad [56]byte
	}
	P96 struct {
		p   *byte
		pad [88]byte
	}
	P128 struct {
		p   *byte
		pad [120]byte
	}
	P256 struct {
		p   *byte
		pad [248]byte
	}
	P4096 struct {
		p   *byte
		pad [4088]byte
	}
)

type change struct{ len, old, new int }

//go:noinline
func escape[T any](sink *[]T) []change {
	var out []change
	*sink = nil
	var x T
	for i := 0; i < maxLen; i++ {
		old := cap(*sink)
		*sink = append(*sink, x)
		if cap(*sink) != old {
			out = append(out, change{i, old, cap(*sink)})
		}
	}
	return out
}

// noescape: a purely local slice; its first append may land in a 32-byte stack buffer.
//
//go:noinline
func noescape[T any](out *[maxLen]change, n *int) {
	var s []T
	var x T
	for i := 0; i < maxLen; i++ {
		old := cap(s)
		s = append(s, x)
		if cap(s) != old {
			out[*n] = change{i, old, cap(s)}
			*n++
		}
	}
	runtime.KeepAlive(len(s))
}

// ret: a local slice returned at the end; it grows one size class at a time while it fits the
// stack buffer (growsliceBuf), then moves to the heap.
//
//go:noinline
func ret[T any](out *[maxLen]change, n *int) []T {
	var s []T
	var x T
	for i := 0; i < maxLen; i++ {
		old := cap(s)
		s = append(s, x)
		if cap(s) != old {
			out[*n] = change{i, old, cap(s)}
			*n++
		}
	}
	return s
}

var starts = [][2]int{{0, 0}, {1, 1}, {2, 2}, {3, 10}, {5, 5}, {17, 17}, {100, 100}, {200, 300}, {255, 255}, {256, 256}, {300, 300}, {1000, 1000}}
var counts = []int{1, 2, 3, 7, 8, 20, 50, 101, 257, 500, 1000, 3000}

// escapeMulti: one append of many elements at once to a heap slice.
//
//go:noinline
func escapeMulti[T any](size int, sink *[]T) {
	for _, st := range starts {
		for _, n := range counts {
			*sink = make([]T, st[0], st[1])
			*sink = append(*sink, make([]T, n)...)
			if cap(*sink) != st[1] {
				fmt.Printf("%d,escape_multi,%d,%d,%d,%d\n", size, st[0], st[1], n, cap(*sink))
			}
		}
	}
}

func print1(size int, variant string, cs []change) {
	for _, c := range cs {
		fmt.Printf("%d,%s,%d,%d,1,%d\n", size, variant, c.len, c.old, c.new)
	}
}

// sinks keep one global per element type so the escape variants really escape.
var (
	s1    []B1
	s2    []B2
	s4    []B4
	s5    []B5
	s8    []B8
	s16   []B16
	s24   []B24
	s32   []B32
	s48   []B48
	s64   []B64
	s96   []B96
	s128  []B128
	s256  []B256
	s4096 []B4096
	p8    []P8
	p16   []P16
	p24   []P24
	p32   []P32
	p48   []P48
	p64   []P64
	p96   []P96
	p128  []P128
	p256  []P256
	p4096 []P4096
	keep  any
)

func plain[T any](size int, sink *[]T) {
	print1(size, "escape", escape(sink))
	var buf [maxLen]change
	n := 0
	noescape[T](&buf, &n)
	print1(size, "noescape", buf[:n])
	n = 0
	keep = ret[T](&buf, &n)
	print1(size, "return", buf[:n])
	escapeMulti(size, sink)
}

func withPtr[T any](size int, sink *[]T) {
	print1(size, "escape_ptr", escape(sink))
	var buf [maxLen]change
	n := 0
	noescape[T](&buf, &n)
	print1(size, "noescape_ptr", buf[:n])
}

func main() {
	fmt.Printf("# growslice.csv: go1.27.3 %s/%s; regenerate with `cargo xtask golden --bless`\n", runtime.GOOS, runtime.GOARCH)
	fmt.Println("# cap() after each append that changed it, appending one element at a time from a nil slice up to len 5000;")
	fmt.Println("# escape_multi rows: one append(s, make([]T, appended)...) with s = make([]T, start_len, start_cap)")
	fmt.Println("elemsize,variant,start_len,start_cap,appended,resulting_cap")
	plain(1, &s1)
	plain(2, &s2)
	plain(4, &s4)
	plain(5, &s5)
	plain(8, &s8)
	plain(16, &s16)
	plain(24, &s24)
	plain(32, &s32)
	plain(48, &s48)
	plain(64, &s64)
	plain(96, &s96)
	plain(128, &s128)
	plain(256, &s256)
	plain(4096, &s4096)
	withPtr(8, &p8)
	withPtr(16, &p16)
	withPtr(24, &p24)
	withPtr(32, &p32)
	withPtr(48, &p48)
	withPtr(64, &p64)
	withPtr(96, &p96)
	withPtr(128, &p128)
	withPtr(256, &p256)
	withPtr(4096, &p4096)
}
