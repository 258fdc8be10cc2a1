// Command racecorpus runs the data-race corpus in ../races through Go's own race detector, the
// oracle that the chapter's FastTrack detector is checked against. Every directory under races/
// holds one small program (main.go) whose interesting memory accesses carry a trailing
// `// @LABEL` comment, and its twin in the crate's execution format (NAME.mm).
//
// Each program is built once with `go build -race` and run three times. A run's verdict is the
// set of racing pairs in its "WARNING: DATA RACE" reports: the access kind (read or write;
// sync/atomic operations count as reads and writes too) of the current and of the previous
// access, each located by the first stack frame in the program's main.go and named by the
// label on that line. The output is one line per program, in directory order:
//
//	NAME no race                    exit status 0 and no report in any run
//	NAME race @A write, @B read     the pairs, each sorted by label, several joined by "; "
//	NAME UNSTABLE ...               the runs that report races name different pairs (a bug)
//
// The race detector is a happens-before detector: it reports two conflicting accesses that
// happens-before does not order whichever runs first, so a well-made corpus program gets the
// same verdict in every schedule. It has no false positives, but a run can miss a race:
// mutex_forgotten went unreported in 2 of 150 runs on a loaded 2-core machine (0 of 400 on an
// idle one; the cause inside TSan is not pinned down). So the verdict is the race any run
// reports, and a run without a report does not count against it; the runs that report must
// name the same pairs.
//
// The race detector needs cgo, and so a C compiler: without one the command says so and exits
// with status 1 instead of printing a misleading corpus.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

const runs = 3

const needCgo = "racecorpus: go build -race needs cgo and a C compiler (gcc): install gcc " +
	"(and leave CGO_ENABLED unset or set it to 1)"

func main() {
	goBin := findGo()
	racesDir := findRaces()
	checkCgo(goBin)

	entries, err := os.ReadDir(racesDir)
	if err != nil {
		fatalf("racecorpus: %v", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)

	tmp, err := os.MkdirTemp("", "racecorpus")
	if err != nil {
		fatalf("racecorpus: %v", err)
	}
	defer os.RemoveAll(tmp)

	// Build and run the programs a few at a time; print in directory order.
	lines := make([]string, len(names))
	failed := make([]bool, len(names))
	sem := make(chan struct{}, max(2, runtime.NumCPU()/2))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			lines[i], failed[i] = check(goBin, tmp, filepath.Join(racesDir, name), name)
		})
	}
	wg.Wait()

	status := 0
	for i, l := range lines {
		fmt.Println(l)
		if failed[i] {
			status = 1
		}
	}
	os.Exit(status)
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

// findGo returns the go command of the toolchain running this program: `go run` sets GOROOT
// for the command it runs; runtime.GOROOT is the toolchain that built it; PATH is the last resort.
func findGo() string {
	exe := "go"
	if runtime.GOOS == "windows" {
		exe = "go.exe"
	}
	for _, root := range []string{os.Getenv("GOROOT"), runtime.GOROOT()} {
		if root == "" {
			continue
		}
		p := filepath.Join(root, "bin", exe)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, err := exec.LookPath("go")
	if err != nil {
		fatalf("racecorpus: cannot find the go command (no GOROOT, not on PATH)")
	}
	return p
}

// findRaces finds the corpus from the module root (`go run ./racecorpus`) or from racecorpus/.
func findRaces() string {
	for _, d := range []string{"races", filepath.Join("..", "races")} {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
	}
	fatalf("racecorpus: no races/ directory here or in ..: run it from chapter-memory-model/go")
	return ""
}

// checkCgo fails early, with a message saying what is missing, when -race cannot work.
func checkCgo(goBin string) {
	out, err := exec.Command(goBin, "env", "CGO_ENABLED", "CC").Output()
	if err != nil {
		fatalf("racecorpus: go env: %v", err)
	}
	f := strings.Fields(string(out))
	if len(f) < 1 || f[0] != "1" {
		fatalf("%s: cgo is disabled (go env CGO_ENABLED is %q)", needCgo, strings.Join(f[:min(1, len(f))], ""))
	}
	if len(f) >= 2 {
		if _, err := exec.LookPath(f[1]); err != nil {
			fatalf("%s: the C compiler %q is not on PATH", needCgo, f[1])
		}
	}
}

// cgoMissing recognises the go command's complaints when -race cannot get cgo or a C compiler.
var cgoMissing = regexp.MustCompile(`requires cgo|CGO_ENABLED|C compiler|exec: "(gcc|clang|cc)"|cgo: .*not found`)

func check(goBin, tmp, dir, name string) (line string, failed bool) {
	bin := filepath.Join(tmp, name)
	build := exec.Command(goBin, "build", "-race", "-o", bin, ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		if cgoMissing.Match(out) {
			fatalf("%s\n%s", needCgo, out)
		}
		return fmt.Sprintf("%s BUILD FAILED: %s", name, firstLine(out)), true
	}
	labels, err := readLabels(filepath.Join(dir, "main.go"))
	if err != nil {
		return fmt.Sprintf("%s ERROR: %v", name, err), true
	}
	var verdicts []string
	for range runs {
		verdicts = append(verdicts, runOnce(bin, labels))
	}
	var races []string
	for _, v := range verdicts {
		switch {
		case v == "no race":
		case strings.HasPrefix(v, "race "):
			races = append(races, v)
		default: // the run failed (exit status, timeout)
			return name + " " + v, true
		}
	}
	if len(races) == 0 {
		return name + " no race", false
	}
	for _, r := range races[1:] {
		if r != races[0] {
			return fmt.Sprintf("%s UNSTABLE %s", name, strings.Join(verdicts, " | ")), true
		}
	}
	return name + " " + races[0], false
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

var labelRe = regexp.MustCompile(`//\s*(@[A-Za-z0-9_]+)\s*$`)

// readLabels maps the line numbers of main.go to the labels at their ends.
func readLabels(path string) (map[int]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	labels := map[int]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if m := labelRe.FindStringSubmatch(sc.Text()); m != nil {
			labels[n] = m[1]
		}
	}
	return labels, sc.Err()
}

// runOnce runs the program and returns its verdict: "no race", "race PAIRS", or what went wrong.
func runOnce(bin string, labels map[int]string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	// Reports on stderr, the default exit status 66 for a racy run, no halting at the first,
	// and no sleep at exit: TSan's atexit_sleep_ms defaults to 1000, a second per run. Each
	// program detects its race in a goroutine that synchronizes with main's end afterwards.
	cmd.Env = append(os.Environ(), "GORACE=exitcode=66 halt_on_error=0 atexit_sleep_ms=0")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if ctx.Err() != nil {
		return "exit: timed out"
	}
	pairs := parseReports(out.String(), labels)
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return "exit: " + err.Error()
		}
		code = ee.ExitCode()
	}
	switch {
	case len(pairs) == 0 && code == 0:
		return "no race"
	case len(pairs) > 0 && (code == 0 || code == 66):
		return "race " + strings.Join(pairs, "; ")
	default:
		return fmt.Sprintf("exit status %d: %s", code, panicLine(out.String()))
	}
}

func panicLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "panic:") || strings.HasPrefix(l, "fatal error:") {
			return l
		}
	}
	return firstLine([]byte(s))
}

var (
	// "Read at 0x00c000012345 by goroutine 7:", "Previous write at ... by main goroutine:"
	// (older detectors wrote "Atomic read at" for sync/atomic; both forms are accepted).
	accessRe = regexp.MustCompile(`^(Previous )?(?:[Aa]tomic )?([Rr]ead|[Ww]rite) at 0x[0-9a-f]+ by `)
	frameRe  = regexp.MustCompile(`^\s+(\S+):(\d+)(?: \+0x[0-9a-f]+)?$`)
)

type access struct{ label, kind string }

// parseReports returns the sorted, deduplicated racing pairs of all reports in out.
func parseReports(out string, labels map[int]string) []string {
	set := map[string]bool{}
	for _, report := range strings.Split(out, "==================") {
		if !strings.Contains(report, "WARNING: DATA RACE") {
			continue
		}
		var cur, prev *access
		var section *access // the access whose stack is being read; nil once its frame is found
		for _, l := range strings.Split(report, "\n") {
			if m := accessRe.FindStringSubmatch(l); m != nil {
				a := &access{label: "@?", kind: strings.ToLower(m[2])}
				if m[1] == "" {
					cur = a
				} else {
					prev = a
				}
				section = a
				continue
			}
			if strings.TrimSpace(l) == "" || !strings.HasPrefix(l, " ") {
				section = nil
				continue
			}
			if section == nil {
				continue
			}
			if m := frameRe.FindStringSubmatch(l); m != nil && filepath.Base(m[1]) == "main.go" {
				n, _ := strconv.Atoi(m[2])
				if lab, ok := labels[n]; ok {
					section.label = lab
				} else {
					section.label = "@?main.go:" + m[2]
				}
				section = nil
			}
		}
		if cur == nil || prev == nil {
			set["unparsed report"] = true
			continue
		}
		pair := []access{*cur, *prev}
		sort.Slice(pair, func(i, j int) bool {
			if pair[i].label != pair[j].label {
				return pair[i].label < pair[j].label
			}
			return pair[i].kind < pair[j].kind
		})
		set[fmt.Sprintf("%s %s, %s %s", pair[0].label, pair[0].kind, pair[1].label, pair[1].kind)] = true
	}
	pairs := make([]string, 0, len(set))
	for p := range set {
		pairs = append(pairs, p)
	}
	sort.Strings(pairs)
	return pairs
}
