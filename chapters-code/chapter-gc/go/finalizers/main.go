// finalizers: the ordering rules of runtime.SetFinalizer, runtime.AddCleanup and weak
// pointers, one deterministic line per rule (runtime/mfinal.go, mcleanup.go, mheap.go's
// specials, mgcsweep.go's specials pass). Every wait is bounded: runtime.GC in a loop until
// a channel says the finalizer or cleanup ran. The fatal misuses of SetFinalizer are
// throws, which no recover can catch: the program runs itself again to see them.
package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
	"weak"
)

type node struct {
	next *node
	val  int
	_    [2]int // 32 bytes: past the tiny allocator, which batches small pointer-free objects
}

var sink *node

// gcUntil runs cycles until ch yields or 50 cycles pass.
func gcUntil[T any](ch chan T) (T, bool) {
	for i := 0; i < 50; i++ {
		runtime.GC()
		select {
		case v := <-ch:
			return v, true
		case <-time.After(2 * time.Millisecond):
		}
	}
	var zero T
	return zero, false
}

// quiet runs n cycles and reports whether ch stayed empty.
func quiet[T any](ch chan T, n int) bool {
	for i := 0; i < n; i++ {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	select {
	case <-ch:
		return false
	default:
		return true
	}
}

//go:noinline
func newNode(v int) *node { return &node{val: v} }

func gid() string {
	b := make([]byte, 64)
	b = b[:runtime.Stack(b, false)]
	return strings.Fields(string(b))[1]
}

func finalizerRunsOnce() {
	ran := make(chan int, 10)
	func() {
		x := newNode(1)
		runtime.SetFinalizer(x, func(x *node) { ran <- x.val })
	}()
	v, ok := gcUntil(ran)
	fmt.Printf("finalizer-runs-once %v val=%d again=%v\n", ok, v, !quiet(ran, 5))
}

func resurrection() {
	ran := make(chan bool, 10)
	cleaned := make(chan bool, 10)
	var w weak.Pointer[node]
	func() {
		x := newNode(2)
		w = weak.Make(x)
		runtime.SetFinalizer(x, func(x *node) {
			sink = x                // resurrect
			ran <- w.Value() == nil // the handle was zeroed before the finalizer was queued
		})
		runtime.AddCleanup(x, func(int) { cleaned <- true }, 0)
	}()
	weakNil, ok := gcUntil(ran)
	fmt.Printf("finalizer-ran %v\n", ok)
	fmt.Printf("weak-nil-when-finalizer-queued %v\n", weakNil)
	fmt.Printf("weak-stays-nil-after-resurrection %v\n", w.Value() == nil)
	fmt.Printf("resurrected-object-usable %v\n", sink != nil && sink.val == 2)
	fmt.Printf("cleanup-waits-while-resurrected %v\n", quiet(cleaned, 5))
	fmt.Printf("finalizer-not-rerun %v\n", quiet(ran, 1))
	sink = nil
	_, ok = gcUntil(cleaned)
	fmt.Printf("cleanup-after-finalizer %v\n", ok)
	fmt.Printf("finalizer-once-after-death %v\n", quiet(ran, 3))
}

func cycleWithFinalizer() {
	ran := make(chan bool, 10)
	var w weak.Pointer[node]
	func() {
		a, b := newNode(3), newNode(4)
		a.next, b.next = b, a
		w = weak.Make(b)
		runtime.SetFinalizer(a, func(*node) { ran <- true })
	}()
	fmt.Printf("cycle-with-finalizer-never-collected %v weak-alive=%v\n", quiet(ran, 10), w.Value() != nil)
	cleaned := make(chan bool, 10)
	func() {
		a, b := newNode(5), newNode(6)
		a.next, b.next = b, a
		runtime.AddCleanup(a, func(int) { cleaned <- true }, 0)
	}()
	_, ok := gcUntil(cleaned)
	fmt.Printf("cycle-with-cleanup-collected %v\n", ok)
	// A pointer from an object to itself is not a cycle to the marker: scanobject skips
	// pointers back into the object it scans, so markrootSpans does not mark it.
	func() {
		a := newNode(31)
		a.next = a
		runtime.SetFinalizer(a, func(*node) { ran <- true })
	}()
	_, ok = gcUntil(ran)
	fmt.Printf("self-pointer-with-finalizer finalized %v\n", ok)
}

func chain() {
	ran := make(chan string, 10)
	func() {
		a, b := newNode(7), newNode(8)
		a.next = b
		runtime.SetFinalizer(a, func(*node) { ran <- "A" })
		runtime.SetFinalizer(b, func(*node) { ran <- "B" })
	}()
	first, _ := gcUntil(ran)
	// The cycle that queued A's finalizer marked B (through A's referents): B's is not queued.
	time.Sleep(5 * time.Millisecond)
	select {
	case v := <-ran:
		first += "," + v
	default:
	}
	second, _ := gcUntil(ran)
	fmt.Printf("chain first=%s then=%s\n", first, second)
}

func cleanups() {
	got := make(chan int, 10)
	var w weak.Pointer[node]
	func() {
		x := newNode(9)
		w = weak.Make(x)
		other := newNode(10)
		runtime.AddCleanup(x, func(arg *node) { got <- arg.val }, other)
		runtime.AddCleanup(x, func(v int) { got <- v }, 11)
		runtime.AddCleanup(x, func(v int) { got <- v }, 12)
	}()
	sum := 0
	n := 0
	for n < 3 {
		v, ok := gcUntil(got)
		if !ok {
			break
		}
		sum += v
		n++
	}
	fmt.Printf("cleanup-many-per-object ran=%d argsum=%d weak-nil=%v\n", n, sum, w.Value() == nil)

	stopped := make(chan bool, 10)
	kept := make(chan bool, 10)
	func() {
		x := newNode(13)
		c := runtime.AddCleanup(x, func(int) { stopped <- true }, 0)
		runtime.AddCleanup(x, func(int) { kept <- true }, 0)
		c.Stop()
	}()
	_, ok := gcUntil(kept)
	fmt.Printf("cleanup-stop other-ran=%v stopped-never-runs=%v\n", ok, quiet(stopped, 3))
}

func catch(f func()) (msg string) {
	defer func() { msg = fmt.Sprint(recover()) }()
	f()
	return "no panic"
}

func misuse() {
	x := newNode(14)
	fmt.Printf("addcleanup arg==ptr panic: %s\n", catch(func() { runtime.AddCleanup(x, func(*node) {}, x) }))
	fmt.Printf("addcleanup ptr-within-arg panic: %s\n", catch(func() { runtime.AddCleanup(x, func(*int) {}, &x.val) }))
	fmt.Printf("addcleanup nil panic: %s\n", catch(func() { runtime.AddCleanup((*node)(nil), func(int) {}, 0) }))
	for _, c := range []string{"interior", "twice", "global"} {
		cmd := exec.Command(os.Args[0], c)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		line := "exited 0"
		for _, l := range strings.Split(stderr.String(), "\n") {
			if strings.HasPrefix(l, "fatal error: ") {
				line = l
				break
			}
		}
		fmt.Printf("setfinalizer %s died=%v %s\n", c, err != nil, line)
	}
}

var global node

type pair struct{ a, b *node }

func child(c string) {
	x := newNode(15)
	switch c {
	case "interior":
		// &p.b: an inner pointer whose element has pointers (a pointer-free element
		// smaller than 16 bytes would be let through: it could be a tiny allocation).
		p := &pair{a: x}
		runtime.SetFinalizer(&p.b, func(**node) {})
	case "twice":
		runtime.SetFinalizer(x, func(*node) {})
		runtime.SetFinalizer(x, func(*node) {})
	case "global":
		// A global is a Go pointer without a span: SetFinalizer does nothing (no throw).
		runtime.SetFinalizer(&global, func(*node) {})
	}
	os.Exit(0)
}

func weakEquality() {
	x, y := newNode(16), newNode(17)
	a, b, c := weak.Make(x), weak.Make(x), weak.Make(y)
	fmt.Printf("weak-equal same=%v different=%v nil-is-zero=%v\n", a == b, a == c, weak.Make((*node)(nil)) == weak.Pointer[node]{})
	runtime.KeepAlive(x)
	runtime.KeepAlive(y)
	var wd1, wd2 weak.Pointer[node]
	func() {
		z := newNode(18)
		wd1, wd2 = weak.Make(z), weak.Make(z)
	}()
	for i := 0; i < 50 && wd1.Value() != nil; i++ {
		runtime.GC()
	}
	fmt.Printf("weak-after-death nil=%v still-equal=%v\n", wd1.Value() == nil, wd1 == wd2)
}

func sameGoroutine() {
	ids := make(chan string, 10)
	func() {
		for i := 0; i < 3; i++ {
			x := newNode(20 + i)
			runtime.SetFinalizer(x, func(*node) { ids <- gid() })
		}
	}()
	var got []string
	for len(got) < 3 {
		v, ok := gcUntil(ids)
		if !ok {
			break
		}
		got = append(got, v)
	}
	same := len(got) == 3 && got[0] == got[1] && got[1] == got[2] && got[0] != gid()
	fmt.Printf("finalizers-one-goroutine %v\n", same)
}

func clearFinalizer() {
	ran := make(chan bool, 10)
	var w weak.Pointer[node]
	func() {
		x := newNode(30)
		w = weak.Make(x)
		runtime.SetFinalizer(x, func(*node) { ran <- true })
		runtime.SetFinalizer(x, nil)
	}()
	for i := 0; i < 50 && w.Value() != nil; i++ {
		runtime.GC()
	}
	fmt.Printf("setfinalizer-nil-removes freed=%v never-ran=%v\n", w.Value() == nil, quiet(ran, 1))
}

func main() {
	if len(os.Args) > 1 {
		child(os.Args[1])
		return
	}
	finalizerRunsOnce()
	resurrection()
	cycleWithFinalizer()
	chain()
	cleanups()
	weakEquality()
	sameGoroutine()
	clearFinalizer()
	misuse()
}
