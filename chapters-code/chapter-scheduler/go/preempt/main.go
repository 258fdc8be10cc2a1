// Command preempt shows how a goroutine that never yields is taken off its P. With
// GOMAXPROCS=1, main starts a goroutine that spins in a loop and then sleeps for 1ms: main can
// only run again once the spinner gives up the one P. Nothing in the loop ever blocks, so that
// only happens when sysmon, the runtime's watchdog thread, sees that the same G has been running
// for 10ms (forcePreemptNS) and asks it to stop:
//
//   - asynchronously: a signal (SIGURG) interrupts the thread and the handler makes the G call
//     into the scheduler wherever it is (Go 1.14+). This works even for a loop without calls.
//   - synchronously: the G's stack guard is poisoned, so the next function prologue that checks
//     it calls into the scheduler instead. A loop without calls never checks it.
//
// Each case runs in a child process (this same program, with an argument), so that a child
// that starves forever can be killed. The output is properties of the measurements, which hold
// on a loaded machine too, not the timings themselves.
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

var stop atomic.Bool

// spinTight loops without a single call: no prologue runs, so only a signal can stop it.
func spinTight() {
	n := 0
	for !stop.Load() {
		n++
	}
	sink.Store(int64(n))
}

// spinCalls calls a function that has a stack check in its prologue on every iteration.
func spinCalls() {
	n := 0
	for !stop.Load() {
		n = step(n)
	}
	sink.Store(int64(n))
}

var sink atomic.Int64

// step is not a leaf (it calls leaf), so the compiler keeps its stack-bound check, which is
// also the preemption check. (A small leaf function gets no check at all.)
//
//go:noinline
func step(n int) int { return leaf(n) + 1 }

//go:noinline
func leaf(n int) int { return n ^ 1 }

// child is one experiment: with one P, start the spinner, sleep 1ms and report how long the
// sleep really took, in nanoseconds.
func child(kind string) {
	runtime.GOMAXPROCS(1)
	fmt.Println("start")
	// A G run from runnext inherits the time slice of the G that was running: start the
	// clock, then yield once so that main (and the spinner after it) gets a fresh slice that
	// began after t0. sysmon's 10ms are counted from when it sees the new slice, so the spinner
	// cannot be stopped before t0+10ms.
	t0 := time.Now()
	runtime.Gosched()
	if kind == "calls" {
		go spinCalls()
	} else {
		go spinTight()
	}
	time.Sleep(time.Millisecond)
	waited := time.Since(t0)
	stop.Store(true)
	fmt.Println("resumed", waited.Nanoseconds())
}

// result of one child: whether main ran again before the deadline, and after how long.
type result struct {
	resumed bool
	waited  time.Duration
}

// run starts this program as a child with GODEBUG set, waits for it to start, and gives it
// `deadline` to report that main ran again; after that the child is killed.
func run(kind, godebug string, deadline time.Duration) result {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	cmd := exec.Command(exe, "child", kind)
	cmd.Env = append(os.Environ(), "GODEBUG="+godebug)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		panic(err)
	}
	if err := cmd.Start(); err != nil {
		panic(err)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	if l := <-lines; l != "start" {
		panic("child did not start: " + l)
	}
	var r result
	select {
	case l := <-lines:
		ns, err := strconv.ParseInt(strings.TrimPrefix(l, "resumed "), 10, 64)
		if err != nil {
			panic("child said " + l)
		}
		r = result{true, time.Duration(ns)}
	case <-time.After(deadline):
		cmd.Process.Kill()
	}
	for range lines {
	}
	cmd.Wait()
	return r
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "child" {
		child(os.Args[2])
		return
	}
	// The generous deadline is only there so that a broken runtime cannot hang this program.
	const never = 10 * time.Second

	r := run("tight", "asyncpreemptoff=0", never)
	fmt.Println("loop without calls: main resumed:", r.resumed)
	fmt.Println("loop without calls: main waited at least 10ms (sysmon's time slice):", r.waited >= 10*time.Millisecond)
	fmt.Println("loop without calls: main resumed within 100ms:", r.resumed && r.waited < 100*time.Millisecond)

	r = run("tight", "asyncpreemptoff=1", time.Second)
	fmt.Println("loop without calls, GODEBUG=asyncpreemptoff=1: main starved for 1s:", !r.resumed)

	r = run("calls", "asyncpreemptoff=1", never)
	fmt.Println("loop with calls, GODEBUG=asyncpreemptoff=1: main resumed:", r.resumed)
	fmt.Println("loop with calls, GODEBUG=asyncpreemptoff=1: main waited at least 10ms:", r.waited >= 10*time.Millisecond)
	fmt.Println("loop with calls, GODEBUG=asyncpreemptoff=1: main resumed within 100ms:", r.resumed && r.waited < 100*time.Millisecond)
}
