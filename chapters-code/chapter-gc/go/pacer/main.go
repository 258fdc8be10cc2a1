// pacer: the heap goal that go1.27.3's pacer sets after each GC cycle, read back from
// runtime/metrics while a program with a known live heap allocates garbage.
//
//	go run ./pacer          prints, per scenario, the properties checked on every cycle
//	go run ./pacer gen      prints one row per observed cycle: the pacer's inputs, then the
//	                        goal the runtime reported (last column)
//	go run ./pacer answer   reads those rows and prints the goal Go reported for each
//	go run ./pacer rows     the rows of gen, under the name of their scenario
//
// Each row is read with no cycle running and, after the background sweeper has finished, with
// nothing changing: three reads in a row agree exactly.
package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
)

const MiB = 1 << 20

// The metrics each row reads; their order is the order of the row's columns.
var names = []string{
	"/gc/cycles/total:gc-cycles",
	"/gc/gogc:percent",
	"/gc/gomemlimit:bytes",
	"/gc/heap/live:bytes",    // gcController.heapMarked
	"/gc/scan/stack:bytes",   // gcController.lastStackScan
	"/gc/scan/globals:bytes", // gcController.globalsScan
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/heap/free:bytes",
	"/gc/heap/allocs:bytes",
	"/gc/heap/frees:bytes",
	"/gc/heap/goal:bytes",
}

type row struct {
	cycles, gogc, limit, live, stacks, globals uint64
	total, released, free, allocs, frees, goal uint64
}

var samples = func() []metrics.Sample {
	s := make([]metrics.Sample, len(names))
	for i, n := range names {
		s[i].Name = n
	}
	return s
}()

func read() row {
	metrics.Read(samples)
	v := func(i int) uint64 { return samples[i].Value.Uint64() }
	return row{v(0), v(1), v(2), v(3), v(4), v(5), v(6), v(7), v(8), v(9), v(10), v(11)}
}

// settled reads until three reads in a row agree, so that no cycle and no sweeping happened
// between them; it does not allocate, so no cycle can start.
func settled() row {
	a := read()
	for n := 0; n < 3; {
		runtime.Gosched()
		b := read()
		if b == a {
			n++
		} else {
			a, n = b, 0
		}
	}
	return a
}

type scenario struct {
	name    string
	gogc    int
	live    int   // MiB kept live in pointer-free 64 KiB chunks
	limitMB int64 // memory limit: this many MiB above mappedReady once the live heap is built; 0: none
	forced  bool  // cycles by runtime.GC (nothing is allocated during marking) or by allocation
	binds   string
}

var scenarios = []scenario{
	{"auto gogc=50", 50, 8, 0, false, "gcPercent"},
	{"auto gogc=100", 100, 8, 0, false, "gcPercent"},
	{"auto gogc=200", 200, 8, 0, false, "gcPercent"},
	// No allocation-triggered cycles under a memory limit: the limit goal is recomputed from
	// mappedReady, heapFree and heapAlloc on every read (mgcpacer.go:heapGoalInternal), and
	// with the sweeper and scavenger running those move between our reads and the runtime's,
	// so the comparison would be a race. The forced cycle below checks the formula exactly.
	{"forced gogc=100 1MiB live", 100, 1, 0, true, "heapMinimum"},
	{"forced gogc=5 16MiB live", 5, 16, 0, true, "sweepDist"},
	{"forced gogc=off memlimit", -1, 16, 6, true, "memoryLimit"},
}

var keep [][]byte
var sink []byte

const cycles = 6

// run builds the scenario's live heap, sets GOGC and the limit, and records a row after each
// of the next `cycles` cycles.
func run(s scenario) (rows []row) {
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
	keep = nil
	runtime.GC()
	for i := 0; i < s.live*16; i++ {
		keep = append(keep, make([]byte, 64<<10))
	}
	runtime.GC()
	if s.limitMB > 0 {
		r := read()
		debug.SetMemoryLimit(int64(r.total-r.released) + s.limitMB*MiB)
	}
	debug.SetGCPercent(s.gogc)
	rows = make([]row, 0, cycles)
	last := read().cycles
	// The byte cap only ends a run that never collects: on a loaded machine a cycle can take
	// far longer than the ~16 MiB the mutator allocates between triggers, and a 1 GiB cap once
	// ended a GOGC=200 run after 2 of its 6 cycles.
	for allocated := 0; len(rows) < cycles && allocated < 16<<30; {
		if s.forced {
			runtime.GC()
		} else {
			for i := 0; i < 16; i++ {
				sink = make([]byte, 4096)
				allocated += 4096
			}
		}
		if c := read().cycles; c != last {
			r := settled()
			last = r.cycles
			rows = append(rows, r)
		}
	}
	sink = nil
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
	return rows
}

// Go's constants (runtime/mgcpacer.go, mgc.go).
const (
	defaultHeapMinimum             = 4 << 20
	sweepMinHeapDistance           = 1 << 20
	memoryLimitMinHeapGoalHeadroom = 1 << 20
)

// goal is what the pacer's heapGoal should be between cycles, from the row's inputs, and
// the term that decided it.
func goal(r row) (uint64, string) {
	gogc := int64(r.gogc)
	gp, binds := ^uint64(0), "gcPercent"
	if gogc >= 0 {
		gp = r.live + (r.live+r.stacks+r.globals)*uint64(gogc)/100
		if min := uint64(defaultHeapMinimum * gogc / 100); gp < min {
			gp, binds = min, "heapMinimum"
		}
	}
	mappedReady, nonHeap := r.total-r.released, r.total-r.released-r.free-(r.allocs-r.frees)
	var overage uint64
	if mappedReady > r.limit {
		overage = mappedReady - r.limit
	}
	ml := r.live
	if nonHeap+overage < r.limit {
		ml = r.limit - (nonHeap + overage)
		headroom := max(ml/100*3, memoryLimitMinHeapGoalHeadroom)
		if ml < headroom || ml-headroom < headroom {
			ml = headroom
		} else {
			ml -= headroom
		}
		ml = max(ml, r.live)
	}
	if ml < gp {
		return ml, "memoryLimit"
	}
	if sd := r.live + sweepMinHeapDistance; sd > gp {
		return sd, "sweepDist"
	}
	return gp, binds
}

func printRow(r row) {
	fmt.Println(int64(r.gogc), int64(r.limit), r.live, r.stacks, r.globals,
		r.total-r.released, r.free, r.allocs-r.frees, r.goal)
}

func main() {
	runtime.GOMAXPROCS(4)
	mode := ""
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "answer":
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 0 || strings.HasPrefix(f[0], "#") {
				continue
			}
			fmt.Println("goal", f[len(f)-1])
		}
	case "gen":
		fmt.Println("# gogc limit heapMarked stacks globals mappedReady heapFree heapAlloc | goal Go reported")
		for _, s := range scenarios {
			for _, r := range run(s) {
				printRow(r)
			}
		}
	case "rows":
		for _, s := range scenarios {
			fmt.Println("#", s.name)
			for _, r := range run(s) {
				printRow(r)
			}
		}
	default:
		for _, s := range scenarios {
			rows := run(s)
			ok, bound := true, map[string]bool{}
			for _, r := range rows {
				g, b := goal(r)
				ok = ok && g == r.goal
				bound[b] = true
			}
			line := fmt.Sprintf("%s: %d cycles, heap goal formula exact on every cycle: %v", s.name, len(rows), ok)
			if s.binds != "" {
				line += fmt.Sprintf("; %s decides every goal: %v", s.binds, len(bound) == 1 && bound[s.binds])
			}
			fmt.Println(line)
		}
	}
}
