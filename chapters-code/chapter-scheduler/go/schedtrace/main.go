// Command schedtrace shows the format of the scheduler's own trace. With GODEBUG=schedtrace=X
// sysmon prints one SCHED line to stderr every X milliseconds: the Ps, the Ms (threads), the
// global run queue and, in brackets, the length of each P's local run queue and each P's
// schedtick; adding scheddetail=1 prints every P, M and G on lines of their own instead.
//
// The numbers change from run to run, the format does not: this program runs itself as a
// child with GOMAXPROCS=2 and the trace on, then prints each kind of line with every number
// replaced by N (and, in the detailed trace, every true/false by B, every nil by N, every wait
// reason or preemptoff reason by S), without duplicates.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"time"
)

// child keeps both Ps busy for a while so that sysmon prints a few traces, then exits.
func child() {
	done := make(chan bool)
	for range runtime.GOMAXPROCS(0) {
		go func() {
			deadline := time.Now().Add(60 * time.Millisecond)
			for time.Now().Before(deadline) {
			}
			done <- true
		}()
	}
	for range runtime.GOMAXPROCS(0) {
		<-done
	}
}

// trace runs the child with GODEBUG=godebug and returns its stderr up to the last newline: a
// trace line that sysmon was printing when the child exited may be cut short.
func trace(godebug string) string {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	cmd := exec.Command(exe, "child")
	cmd.Env = append(os.Environ(), "GOMAXPROCS=2", "GODEBUG="+godebug)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		panic(err)
	}
	s := stderr.String()
	return s[:strings.LastIndexByte(s, '\n')+1]
}

var (
	reason  = regexp.MustCompile(`status=([0-9]+)\(.*\) m=`) // G: status=4(force gc (idle)) m=
	preempt = regexp.MustCompile(`preemptoff=.*? locks=`)    // M: preemptoff=gcing locks=
	boolean = regexp.MustCompile(`\b(true|false)\b`)         // gcwaiting=false
	number  = regexp.MustCompile(`\bnil\b|-?[0-9]+`)         // P0, 10ms, m=nil, lockedm=0
)

func normalize(line string) string {
	line = reason.ReplaceAllString(line, "status=N(S) m=")
	line = preempt.ReplaceAllString(line, "preemptoff=S locks=")
	line = boolean.ReplaceAllString(line, "B")
	return number.ReplaceAllString(line, "N")
}

// show prints each distinct normalized line of a trace, in the order they first appear.
func show(title, trace string) {
	fmt.Println(title)
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(trace))
	for sc.Scan() {
		line := normalize(sc.Text())
		if !seen[line] {
			seen[line] = true
			fmt.Println(line)
		}
	}
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "child" {
		child()
		return
	}
	show("# GOMAXPROCS=2 GODEBUG=schedtrace=10", trace("schedtrace=10"))
	show("# GOMAXPROCS=2 GODEBUG=schedtrace=10,scheddetail=1", trace("schedtrace=10,scheddetail=1"))
}
