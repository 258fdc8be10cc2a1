// gctrace: the lines go1.27.3 prints under GODEBUG=gctrace=1 for a program with a known live
// heap, and the properties of those lines that are the same on every run.
//
//	go run ./gctrace          re-runs itself once per scenario with GODEBUG=gctrace=1 and the
//	                          scenario's GOGC, reads the child's gctrace lines from its stderr
//	                          and prints one line of properties per scenario (the golden file)
//	go run ./gctrace lines    the same, then every child's raw gctrace lines
//
// A child (GOMAXPROCS=4) builds `live` MiB of pointer-free 64 KiB chunks held in a global,
// runs runtime.GC twice (the memory limit, if the scenario has one, is set between them,
// `limitKB` above mappedReady: half a MiB over whole MiBs keeps its goal off an MB
// boundary), then allocates `garbage` MiB of 4 KiB objects, writing each a few times: a
// mutator much slower than a mark phase, so that little is allocated while marking
// (allocate-black: it would be marked, floating garbage in heap2 and the next goal).
// The cycles that garbage starts are the "auto" cycles.
//
// Every property is a relation between the MB figures of the lines (Go prints sizes >> 20,
// truncated), so it holds on every run although the bytes behind them move by some KiB:
//   - every line matches gctraceRE (the format of runtime/mgc.go:gcMarkTermination);
//   - the second forced cycle's goal and heap2: the goal for the live heap alone, as nothing
//     is allocated while runtime.GC marks;
//   - scenarios: GOGC=50, 100, 200; a memory limit with GOGC=100; the same limit with GOGC
//     off, where only the limit starts cycles (mgc.go:gcTrigger.test checks GOGC for the
//     time trigger, not for the heap trigger);
//   - without a limit, each auto line's goal is gcPercentHeapGoal (mgcpacer.go:commit) of the
//     line before's heap2, stacks and globals, within their truncation; with one, each goal
//     is below that (the memory limit decides);
//   - the trigger (mgcpacer.go:trigger): every auto cycle starts (heap0) no lower than 45/64
//     of the way from the line before's heap2 to its goal, and no higher than the goal, each
//     less or plus 1 MB of truncation;
//   - the number of auto cycles for the garbage is in [lo, hi], from the forced goal G and
//     the live L: a cycle lets the heap grow by at most G-L, plus 2 MB of truncation and
//     1/8 of floating garbage, so lo = garbage / ((G-L+2) × 9/8) - 1 (-1: the cycle in flight
//     at the end); it lets it grow by at least 45/64 of G-L-1 (the trigger's lower clamp),
//     so hi = garbage / (45/64 × (G-L-1)) + 1.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
)

const MiB = 1 << 20

// The line of runtime/mgc.go:gcMarkTermination, go1.27.3.
var gctraceRE = regexp.MustCompile(`^gc (\d+) @(\d+\.\d{3})s (\d+)%( \(checking for goroutine leaks\))?: ` +
	`(\d+(?:\.\d+)?)\+(\d+(?:\.\d+)?)\+(\d+(?:\.\d+)?) ms clock, ` +
	`(\d+(?:\.\d+)?)\+(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)\+(\d+(?:\.\d+)?) ms cpu, ` +
	`(\d+)->(\d+)->(\d+) MB, (\d+) MB goal, (\d+) MB stacks, (\d+) MB globals, (\d+) P( \(forced\))?$`)

type scenario struct {
	name    string
	gogc    int // -1: off
	live    int // MiB
	limitKB int // memory limit this many KiB above mappedReady once the live heap is built; 0: none
	garbage int // MiB
}

var scenarios = []scenario{
	{"gogc=50", 50, 32, 0, 384},
	{"gogc=100", 100, 32, 0, 384},
	{"gogc=200", 200, 32, 0, 384},
	{"gogc=100 memlimit=+12.5MiB", 100, 32, 12800, 384},
	{"gogc=off memlimit=+12.5MiB", -1, 32, 12800, 384},
}

type line struct {
	heap0, heap1, heap2, goal, stacks, globals int
	forced                                     bool
}

// passes: how often the mutator writes each garbage object (see child).
const passes = 6

var keep [][]byte
var sink []byte

func child(s scenario) {
	runtime.GOMAXPROCS(4)
	for i := 0; i < s.live*16; i++ {
		keep = append(keep, make([]byte, 64<<10))
	}
	runtime.GC()
	if s.limitKB > 0 {
		sm := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
		metrics.Read(sm)
		debug.SetMemoryLimit(int64(sm[0].Value.Uint64()-sm[1].Value.Uint64()) + int64(s.limitKB)<<10)
	}
	runtime.GC()
	for n := 0; n < s.garbage*MiB; n += 4096 {
		sink = make([]byte, 4096)
		// Work on the object, so that the mutator allocates slowly next to the time a
		// mark phase takes: what it allocates while marking is marked too (allocate-black)
		// and is floating garbage in heap2 and the next goal.
		for pass := 0; pass < passes; pass++ {
			for j := range sink {
				sink[j] += byte(j + pass)
			}
		}
	}
	debug.SetMemoryLimit(math.MaxInt64)
}

// run re-executes this program as the scenario's child and returns its gctrace lines (auto
// cycles during the garbage), whether every line parsed, and the raw text.
func run(i int) (forcedLine line, auto []line, parsed bool, raw string) {
	s := scenarios[i]
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	cmd := exec.Command(exe, "child", strconv.Itoa(i))
	gogc := strconv.Itoa(s.gogc)
	if s.gogc < 0 {
		gogc = "off"
	}
	cmd.Env = append(os.Environ(), "GODEBUG=gctrace=1", "GOGC="+gogc, "GOMEMLIMIT=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		panic(fmt.Sprint(err, stderr.String()))
	}
	parsed = true
	forced := 0 // the garbage starts after the child's two runtime.GC cycles
	raw = stderr.String()
	sc := bufio.NewScanner(strings.NewReader(raw))
	for sc.Scan() {
		t := sc.Text()
		m := gctraceRE.FindStringSubmatch(t)
		if m == nil {
			parsed = false
			continue
		}
		n := func(k int) int { v, _ := strconv.Atoi(m[k]); return v }
		l := line{n(13), n(14), n(15), n(16), n(17), n(18), m[20] != ""}
		if l.forced {
			forced++
			if forced == 2 {
				forcedLine = l
			}
		} else if forced == 2 {
			auto = append(auto, l)
		}
	}
	return forcedLine, auto, parsed, raw
}

// gcPercentGoalMB: the range of goal MB figures gcPercentHeapGoal gives for a line whose
// heap2, stacks and globals print as h, st, gl MB (each truncated: the bytes are < x+1 MiB).
// With GOGC off there is no such goal (mgcpacer.go:gcPercentHeapGoal: ^uint64(0)).
func gcPercentGoalMB(h, st, gl, gogc int) (lo, hi float64) {
	if gogc < 0 {
		return math.Inf(1), math.Inf(1)
	}
	f := func(h, st, gl float64) float64 { return h + (h+st+gl)*float64(gogc)/100 }
	return f(float64(h), float64(st), float64(gl)), f(float64(h+1), float64(st+1), float64(gl+1))
}

// cycleRange: the range of auto cycles the header derives for `garbage` MiB from the goal
// and live MB figures.
func cycleRange(garbage, goal, live int) (lo, hi int) {
	lo = int(float64(garbage)/(float64(goal-live+2)*9/8)) - 1
	hi = int(math.Ceil(float64(garbage)/(float64(goal-live-1)*45/64))) + 1
	return lo, hi
}

func main() {
	if len(os.Args) > 2 && os.Args[1] == "child" {
		i, _ := strconv.Atoi(os.Args[2])
		child(scenarios[i])
		return
	}
	showLines := len(os.Args) > 1 && os.Args[1] == "lines"
	var raws []string
	for i, s := range scenarios {
		f, auto, parsed, raw := run(i)
		raws = append(raws, raw)
		goalOK, trigOK := true, true
		prev := f
		for _, l := range auto {
			lo, hi := gcPercentGoalMB(prev.heap2, prev.stacks, prev.globals, s.gogc)
			if s.limitKB == 0 {
				// goal MB g means g <= goal/MiB < g+1: that must meet [lo, hi).
				goalOK = goalOK && float64(l.goal+1) > lo && float64(l.goal) < hi
			} else {
				goalOK = goalOK && float64(l.goal) < lo
			}
			tlo := prev.heap2 + (l.goal-prev.heap2)*45/64 - 1
			trigOK = trigOK && l.heap0 >= tlo && l.heap0 <= l.goal+1
			prev = l
		}
		clo, chi := cycleRange(s.garbage, f.goal, s.live)
		fmt.Printf("%s live=%dMiB garbage=%dMiB: lines parse: %v; forced goal %d MB heap2 %d MB; ",
			s.name, s.live, s.garbage, parsed, f.goal, f.heap2)
		if s.limitKB == 0 {
			fmt.Printf("auto goal = gcPercentHeapGoal(line before) within MB: %v; ", goalOK)
		} else {
			fmt.Printf("auto goal < gcPercentHeapGoal(line before): %v; ", goalOK)
		}
		fmt.Printf("heap0 within trigger bounds: %v; cycles in [%d,%d]: %v\n", trigOK, clo, chi,
			len(auto) >= clo && len(auto) <= chi)
		if showLines {
			fmt.Fprintf(os.Stderr, "# %s: %d auto cycles\n", s.name, len(auto))
		}
	}
	if showLines {
		for i, r := range raws {
			fmt.Printf("# %s\n%s", scenarios[i].name, r)
		}
	}
}
