// Package benches holds the Go twins of the criterion benches in ../benches/*.rs: same key sets,
// same phases, same bench ids. `cargo xtask bench` runs
//
//	go test -run '^$' -bench . -count 5
//
// here and reads each benchmark's ns/op, which every benchmark reports per operation (per key,
// per entry, per appended element), not per b.N iteration.
package benches

import (
	"fmt"
	"slices"
	"testing"
)

// N is the number of operations in one timed phase (Rust: benches::N).
const N = 1_000_000

// seed of every key set (Rust: benches::SEED).
const seed = 42

// splitMix64 is the generator of ../src/lib.rs, step for step.
type splitMix64 struct{ s uint64 }

func (r *splitMix64) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// keySet: insert = draws 0..N, miss = draws N..2N, hit = insert shuffled by draws 2N.. .
type keySet[K any] struct {
	insert, hit, miss []K
}

func drawKeys[K any](n int, mk func(uint64) K) keySet[K] {
	r := splitMix64{seed}
	ins := make([]K, n)
	for i := range ins {
		ins[i] = mk(r.next())
	}
	miss := make([]K, n)
	for i := range miss {
		miss[i] = mk(r.next())
	}
	hit := slices.Clone(ins)
	for i := n - 1; i > 0; i-- {
		j := r.next() % uint64(i+1)
		hit[i], hit[j] = hit[j], hit[i]
	}
	return keySet[K]{ins, hit, miss}
}

func u64Keys(n int) keySet[uint64] { return drawKeys(n, func(x uint64) uint64 { return x }) }

func str16Keys(n int) keySet[string] {
	return drawKeys(n, func(x uint64) string { return fmt.Sprintf("%016x", x) })
}

// The constants of the Rust tests in ../src/lib.rs: both sides draw the very same keys.
const (
	firstDraw      uint64 = 0xbdd732262feb6e95
	keysFoldInsert uint64 = 0x661f6b172caf50fb
	keysFoldHit    uint64 = 0xa3ac32f94957f39b
	keysFoldMiss   uint64 = 0x483800e4099548e3
	goAppendCap           = 1055744
)

func fold(v []uint64) uint64 {
	var a uint64
	for _, x := range v {
		a = (a<<5 | a>>59) ^ x
	}
	return a
}

func TestKeysMatchRust(t *testing.T) {
	k := u64Keys(N)
	if k.insert[0] != firstDraw {
		t.Errorf("first draw %#x, want %#x", k.insert[0], firstDraw)
	}
	for _, c := range []struct {
		name      string
		got, want uint64
	}{
		{"insert", fold(k.insert), keysFoldInsert},
		{"hit", fold(k.hit), keysFoldHit},
		{"miss", fold(k.miss), keysFoldMiss},
	} {
		if c.got != c.want {
			t.Errorf("fold(%s) = %#x, want %#x", c.name, c.got, c.want)
		}
	}
	s := str16Keys(3)
	if want := fmt.Sprintf("%016x", firstDraw); s.insert[0] != want || len(s.insert[0]) != 16 {
		t.Errorf("first string key %q, want %q", s.insert[0], want)
	}
}

func TestAppendCapMatchesRust(t *testing.T) {
	appendU64(N)
	s := sinkSlice
	if len(s) != N || cap(s) != goAppendCap {
		t.Errorf("len %d cap %d, want %d %d", len(s), cap(s), N, goAppendCap)
	}
}
