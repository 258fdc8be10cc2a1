// Command rssmixed is the Go twin of the allocator chapter's rss_* examples
// (../../examples/rss_*.rs): the same mixed workload, drawn from the same generator in the same
// order (benches::mixed_workload in ../../src/lib.rs), on Go's allocator with its garbage
// collector on at the default GOGC, and nothing that asks it to give memory back
// (no debug.FreeOSMemory). It prints the same JSON line: peak (VmHWM) and final (VmRSS) resident
// memory in KiB, and the run's counts, which must equal the Rust programs'.
//
//	go run ./rssmixed [small]
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// The workload's size (Rust: MIXED_ROUNDS, MIXED_OBJECTS, and the small ones that
// `cargo xtask test` asks for with the argument "small").
const (
	rounds       = 20
	objects      = 100_000
	smallRounds  = 3
	smallObjects = 5_000
	seed         = 42
)

// lcg is Knuth's MMIX LCG handing out its top 31 bits (Rust: benches::Lcg).
type lcg struct{ s uint64 }

func (r *lcg) next() uint64 {
	r.s = r.s*6364136223846793005 + 1442695040888963407
	return r.s >> 33
}

// mixedSize is the size of the next object (Rust: benches::mixed_size).
func mixedSize(r *lcg) int {
	if r.next()%2000 == 0 {
		return 65536 + int(r.next()%983041)
	}
	c := r.next() % 100
	d := int(r.next())
	switch {
	case c < 70:
		return 8 + d%121
	case c < 95:
		return 129 + d%896
	default:
		return 1025 + d%3072
	}
}

// live is package-level so that every object escapes to the heap.
var live [][]byte

func main() {
	nRounds, nObjects := rounds, objects
	for _, a := range os.Args[1:] {
		if a == "small" {
			nRounds, nObjects = smallRounds, smallObjects
		}
	}
	r := lcg{seed}
	var count, bytes uint64
	for range nRounds {
		for range nObjects {
			n := mixedSize(&r)
			count++
			bytes += uint64(n)
			b := make([]byte, n)
			// One byte per 4 KiB page and the last byte, as the Rust side writes.
			for off := 0; off < n; off += 4096 {
				b[off] = 1
			}
			b[n-1] = 1
			live = append(live, b)
		}
		// Keep each live object, oldest first, with one draw each; drop the rest.
		kept := live[:0]
		for _, b := range live {
			if r.next()%10 < 3 {
				kept = append(kept, b)
			}
		}
		clear(live[len(kept):])
		live = kept
	}
	peak, now := rssKiB()
	fmt.Printf("{\"impl\":\"go\",\"peak_kib\":%d,\"final_kib\":%d,\"objects\":%d,\"bytes\":%d,\"live\":%d}\n",
		peak, now, count, bytes, len(live))
}

// rssKiB returns VmHWM and VmRSS from /proc/self/status, in KiB (0 where missing).
func rssKiB() (peak, now uint64) {
	text, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(text), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(value), "kB")), 10, 64)
		switch name {
		case "VmHWM":
			peak = v
		case "VmRSS":
			now = v
		}
	}
	return peak, now
}
