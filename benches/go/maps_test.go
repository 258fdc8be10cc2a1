package benches

import (
	"runtime"
	"sync"
	"testing"
)

// Go's own map (the Swiss table of internal/runtime/maps in go1.27), against the Rust rows of
// ../benches/maps.rs. Each b.N iteration is one whole phase over N keys; setup (building the
// map a phase reads, collecting the previous map) runs with the timer stopped, and each
// benchmark reports ns per operation as ns/op.

var (
	u64Set = sync.OnceValue(func() keySet[uint64] { return u64Keys(N) })
	strSet = sync.OnceValue(func() keySet[string] { return str16Keys(N) })

	sinkU64   uint64
	sinkSlice []uint64
)

// perOp replaces ns/op by the time of one operation: the timed time over b.N phases of ops each.
func perOp(b *testing.B, ops int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(ops), "ns/op")
}

// offClock runs f with the timer stopped, after a GC so that the previous iteration's garbage
// is not collected on the clock of the next.
func offClock(b *testing.B, f func()) {
	b.StopTimer()
	f()
	runtime.GC()
	b.StartTimer()
}

func Benchmark_map_u64(b *testing.B) {
	ks := u64Set()
	build := func() map[uint64]uint64 {
		m := make(map[uint64]uint64)
		for i, k := range ks.insert {
			m[k] = uint64(i)
		}
		return m
	}
	b.Run("insert", func(b *testing.B) {
		for range b.N {
			offClock(b, func() {})
			m := make(map[uint64]uint64)
			for i, k := range ks.insert {
				m[k] = uint64(i)
			}
			b.StopTimer()
			if len(m) != N {
				b.Fatal("lost keys")
			}
			b.StartTimer()
		}
		perOp(b, N)
	})
	m := build()
	runtime.GC()
	b.Run("hit", func(b *testing.B) {
		for range b.N {
			found, sum := 0, uint64(0)
			for _, k := range ks.hit {
				if v, ok := m[k]; ok {
					found++
					sum += v
				}
			}
			sinkU64 += sum
			if found != N {
				b.Fatal("missing keys")
			}
		}
		perOp(b, N)
	})
	b.Run("miss", func(b *testing.B) {
		for range b.N {
			found, sum := 0, uint64(0)
			for _, k := range ks.miss {
				if v, ok := m[k]; ok {
					found++
					sum += v
				}
			}
			sinkU64 += sum
			if found != 0 {
				b.Fatal("found absent keys")
			}
		}
		perOp(b, N)
	})
	b.Run("iterate", func(b *testing.B) {
		for range b.N {
			var s uint64
			for k, v := range m {
				s += k + v
			}
			sinkU64 += s
		}
		perOp(b, N)
	})
	m = nil
	b.Run("delete", func(b *testing.B) {
		for range b.N {
			var m map[uint64]uint64
			offClock(b, func() { m = build() })
			for _, k := range ks.hit {
				delete(m, k)
			}
			b.StopTimer()
			if len(m) != 0 {
				b.Fatal("keys left")
			}
			m = nil
			b.StartTimer()
		}
		perOp(b, N)
	})
}

func Benchmark_map_str16(b *testing.B) {
	ks := strSet()
	build := func() map[string]uint64 {
		m := make(map[string]uint64)
		for i, k := range ks.insert {
			m[k] = uint64(i)
		}
		return m
	}
	b.Run("insert", func(b *testing.B) {
		for range b.N {
			offClock(b, func() {})
			m := make(map[string]uint64)
			for i, k := range ks.insert {
				m[k] = uint64(i)
			}
			b.StopTimer()
			if len(m) != N {
				b.Fatal("lost keys")
			}
			b.StartTimer()
		}
		perOp(b, N)
	})
	m := build()
	runtime.GC()
	b.Run("hit", func(b *testing.B) {
		for range b.N {
			found, sum := 0, uint64(0)
			for _, k := range ks.hit {
				if v, ok := m[k]; ok {
					found++
					sum += v
				}
			}
			sinkU64 += sum
			if found != N {
				b.Fatal("missing keys")
			}
		}
		perOp(b, N)
	})
	b.Run("miss", func(b *testing.B) {
		for range b.N {
			found, sum := 0, uint64(0)
			for _, k := range ks.miss {
				if v, ok := m[k]; ok {
					found++
					sum += v
				}
			}
			sinkU64 += sum
			if found != 0 {
				b.Fatal("found absent keys")
			}
		}
		perOp(b, N)
	})
	b.Run("iterate", func(b *testing.B) {
		for range b.N {
			var s uint64
			for k, v := range m {
				s += uint64(len(k)) + v
			}
			sinkU64 += s
		}
		perOp(b, N)
	})
	m = nil
	b.Run("delete", func(b *testing.B) {
		for range b.N {
			var m map[string]uint64
			offClock(b, func() { m = build() })
			for _, k := range ks.hit {
				delete(m, k)
			}
			b.StopTimer()
			if len(m) != 0 {
				b.Fatal("keys left")
			}
			m = nil
			b.StartTimer()
		}
		perOp(b, N)
	})
}

// appendU64 is the loop of growslice/append_u64: append to a nil slice, one element at a time.
// The slice is stored in a global at the end, so it lives on the heap from the first append (no
// 32-byte stack buffer, no growsliceBuf): every growth goes through runtime.growslice, the
// "escape" variant that chapter_maps::growslice::growslice models and the Rust row "ours" uses.
func appendU64(n int) {
	var s []uint64
	for i := range n {
		s = append(s, uint64(i))
	}
	sinkSlice = s
}

func Benchmark_growslice(b *testing.B) {
	b.Run("append_u64", func(b *testing.B) {
		for range b.N {
			offClock(b, func() { sinkSlice = nil })
			appendU64(N)
		}
		perOp(b, N)
	})
}
